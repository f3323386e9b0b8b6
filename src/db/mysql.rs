//! MySQL and MariaDB, through the mysql crate.

use super::url::DbUrl;
use super::{Connection, Param, Row};
use anyhow::{anyhow, Result};
use mysql::prelude::Queryable;
use serde_json::Value;

pub struct MySql(mysql::Conn);

impl MySql {
    pub fn connect(url: &DbUrl) -> Result<MySql> {
        let mut opts = mysql::OptsBuilder::new()
            .user(url.user.clone())
            .pass(url.password().map(String::from))
            .db_name(Some(url.database.clone()));
        opts = match url.option("unix_socket") {
            Some(sock) => opts.socket(Some(sock.to_string())),
            None => opts
                .ip_or_hostname(url.host.clone().or(Some("localhost".into())))
                .tcp_port(url.port.unwrap_or(3306)),
        };
        // The error of a failed connection never contains the password.
        let conn = mysql::Conn::new(opts).map_err(|e| anyhow!("{e}"))?;
        Ok(MySql(conn))
    }
}

fn params(p: &[Param]) -> mysql::Params {
    if p.is_empty() {
        return mysql::Params::Empty;
    }
    mysql::Params::Positional(
        p.iter()
            .map(|x| match x {
                Param::Text(s) => mysql::Value::from(s.as_str()),
                Param::Int(i) => mysql::Value::from(*i),
                Param::Null => mysql::Value::NULL,
            })
            .collect(),
    )
}

fn cell(v: mysql::Value) -> Value {
    match v {
        mysql::Value::NULL => Value::Null,
        mysql::Value::Bytes(b) => Value::String(String::from_utf8_lossy(&b).into_owned()),
        mysql::Value::Int(i) => Value::from(i),
        mysql::Value::UInt(u) => Value::from(u),
        mysql::Value::Float(f) => Value::from(f as f64),
        mysql::Value::Double(f) => Value::from(f),
        other => Value::String(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

impl Connection for MySql {
    fn query(&mut self, sql: &str, p: &[Param]) -> Result<Vec<Row>> {
        let rows: Vec<mysql::Row> = self.0.exec(sql, params(p))?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| cell(r.as_ref(i).cloned().unwrap_or(mysql::Value::NULL)))
                    .collect()
            })
            .collect())
    }

    fn execute(&mut self, sql: &str, p: &[Param]) -> Result<u64> {
        self.0.exec_drop(sql, params(p))?;
        Ok(self.0.affected_rows())
    }

    fn begin(&mut self) -> Result<()> {
        Ok(self.0.query_drop("START TRANSACTION")?)
    }

    fn commit(&mut self) -> Result<()> {
        Ok(self.0.query_drop("COMMIT")?)
    }

    fn rollback(&mut self) -> Result<()> {
        Ok(self.0.query_drop("ROLLBACK")?)
    }
}

impl super::history::Migrations for MySql {
    fn migrate(&mut self) -> Result<Vec<String>> {
        let mut runner = super::history::mysql_migrations::migrations::runner();
        runner.set_migration_table_name(super::history::SCHEMA_HISTORY_TABLE);
        Ok(super::history::applied(runner.run(&mut self.0)?))
    }
}
