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
        // Each DDL statement commits by itself: a cut-off V1 leaves tables to clear away.
        super::history::recover_interrupted_setup(self)?;
        let mut runner = super::history::mysql_migrations::migrations::runner();
        runner.set_migration_table_name(super::history::SCHEMA_HISTORY_TABLE);
        Ok(super::history::applied(runner.run(&mut self.0)?))
    }
}

/// The run lock is a named lock (`GET_LOCK`), held by this session until it ends. Names
/// are server-wide, so the name carries the database's (an MD5 of it when too long for
/// the 64 characters a name may have): runs on two Heat databases of one server do not
/// wait for each other.
const RUN_LOCK_NAME: &str = "SELECT IF(CHAR_LENGTH(DATABASE()) <= 50, \
    CONCAT('heat_converge.', DATABASE()), CONCAT('heat_converge.', MD5(DATABASE())))";

impl MySql {
    /// `GET_LOCK` on the run lock: true once taken, false when `seconds` ran out.
    fn get_run_lock(&mut self, seconds: i64) -> Result<bool> {
        let name: Option<String> = self.0.query_first(RUN_LOCK_NAME)?;
        let name = name.ok_or_else(|| anyhow!("no database selected"))?;
        let got: Option<Option<i64>> = self
            .0
            .exec_first("SELECT GET_LOCK(?, ?)", (name.as_str(), seconds))?;
        match got.flatten() {
            Some(1) => Ok(true),
            Some(_) => Ok(false),
            None => Err(anyhow!("GET_LOCK('{name}') failed")),
        }
    }
}

impl super::RunLock for MySql {
    fn try_lock_run(&mut self) -> Result<Option<super::RunLockHeld>> {
        Ok(self.get_run_lock(0)?.then(super::RunLockHeld::session))
    }

    fn lock_run(&mut self) -> Result<super::RunLockHeld> {
        while !self.get_run_lock(600)? {}
        Ok(super::RunLockHeld::session())
    }

    fn run_lock_name(&mut self) -> Result<String> {
        let row: Option<(Option<String>, Option<String>)> = self
            .0
            .query_first(format!("SELECT DATABASE(), ({RUN_LOCK_NAME})"))?;
        let (db, name) = row.unwrap_or_default();
        Ok(format!(
            "database {} (named lock {}, see IS_USED_LOCK)",
            db.unwrap_or_default(),
            name.unwrap_or_default()
        ))
    }
}
