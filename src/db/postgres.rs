//! PostgreSQL, through the postgres crate.

use super::url::DbUrl;
use super::{numbered_placeholders, Connection, Param, Row};
use anyhow::{anyhow, Result};
use postgres::types::{ToSql, Type};
use serde_json::Value;

pub struct Postgres {
    client: postgres::Client,
    /// Prepared statements by SQL text: PostgreSQL tells the parameter types, which the
    /// values must match exactly (an `integer` id takes an i32).
    statements: std::collections::HashMap<String, postgres::Statement>,
}

impl Postgres {
    pub fn connect(url: &DbUrl) -> Result<Postgres> {
        let mut cfg = postgres::Config::new();
        cfg.dbname(&url.database);
        if let Some(u) = &url.user {
            cfg.user(u);
        }
        if let Some(p) = url.password() {
            cfg.password(p);
        }
        cfg.host(
            url.option("host")
                .or(url.host.as_deref())
                .unwrap_or("localhost"),
        );
        if let Some(port) = url.port {
            cfg.port(port);
        }
        let client = cfg.connect(postgres::NoTls).map_err(|e| anyhow!("{e}"))?;
        Ok(Postgres {
            client,
            statements: Default::default(),
        })
    }

    fn statement(&mut self, sql: &str) -> Result<postgres::Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let stmt = self
            .client
            .prepare(&numbered_placeholders(sql))
            .map_err(|e| {
                anyhow::Error::new(e).context(format!(
                    "in: {}",
                    sql.split_whitespace().collect::<Vec<_>>().join(" ")
                ))
            })?;
        self.statements.insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }
}

fn cell(row: &postgres::Row, i: usize) -> Result<Value> {
    let ty = row.columns()[i].type_().clone();
    Ok(match ty {
        Type::INT2 => row
            .get::<_, Option<i16>>(i)
            .map(Value::from)
            .unwrap_or(Value::Null),
        Type::INT4 => row
            .get::<_, Option<i32>>(i)
            .map(Value::from)
            .unwrap_or(Value::Null),
        Type::INT8 => row
            .get::<_, Option<i64>>(i)
            .map(Value::from)
            .unwrap_or(Value::Null),
        Type::BOOL => row
            .get::<_, Option<bool>>(i)
            .map(Value::from)
            .unwrap_or(Value::Null),
        Type::FLOAT4 => row
            .get::<_, Option<f32>>(i)
            .map(|f| Value::from(f as f64))
            .unwrap_or(Value::Null),
        Type::FLOAT8 => row
            .get::<_, Option<f64>>(i)
            .map(Value::from)
            .unwrap_or(Value::Null),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => row
            .get::<_, Option<String>>(i)
            .map(Value::from)
            .unwrap_or(Value::Null),
        other => anyhow::bail!(
            "column {} has a type heat-converge does not read: {other}",
            row.columns()[i].name()
        ),
    })
}

/// The values, each in the Rust type PostgreSQL expects for its placeholder.
fn params(p: &[Param], types: &[Type]) -> Result<Vec<Box<dyn ToSql + Sync>>> {
    p.iter()
        .zip(types)
        .map(|(x, ty)| -> Result<Box<dyn ToSql + Sync>> {
            Ok(match (x, ty) {
                (Param::Text(s), _) => Box::new(s.clone()),
                (Param::Int(i), &Type::INT4) => Box::new(i32::try_from(*i)?),
                (Param::Int(i), &Type::INT2) => Box::new(i16::try_from(*i)?),
                (Param::Int(i), &Type::BOOL) => Box::new(*i != 0),
                (Param::Int(i), _) => Box::new(*i),
                (Param::Null, &Type::INT4) => Box::new(Option::<i32>::None),
                (Param::Null, &Type::INT8) => Box::new(Option::<i64>::None),
                (Param::Null, &Type::BOOL) => Box::new(Option::<bool>::None),
                (Param::Null, _) => Box::new(Option::<String>::None),
            })
        })
        .collect()
}

impl Connection for Postgres {
    fn query(&mut self, sql: &str, p: &[Param]) -> Result<Vec<Row>> {
        let stmt = self.statement(sql)?;
        let owned = params(p, stmt.params())?;
        let refs: Vec<&(dyn ToSql + Sync)> = owned.iter().map(|b| b.as_ref()).collect();
        let rows = self.client.query(&stmt, &refs)?;
        rows.iter()
            .map(|r| (0..r.len()).map(|i| cell(r, i)).collect())
            .collect()
    }

    fn execute(&mut self, sql: &str, p: &[Param]) -> Result<u64> {
        let stmt = self.statement(sql)?;
        let owned = params(p, stmt.params())?;
        let refs: Vec<&(dyn ToSql + Sync)> = owned.iter().map(|b| b.as_ref()).collect();
        Ok(self.client.execute(&stmt, &refs)?)
    }

    fn begin(&mut self) -> Result<()> {
        Ok(self.client.batch_execute("BEGIN")?)
    }

    fn commit(&mut self) -> Result<()> {
        Ok(self.client.batch_execute("COMMIT")?)
    }

    fn rollback(&mut self) -> Result<()> {
        Ok(self.client.batch_execute("ROLLBACK")?)
    }
}

impl super::history::Migrations for Postgres {
    fn migrate(&mut self) -> Result<Vec<String>> {
        super::history::recover_interrupted_setup(self)?;
        // Grouped: every migration and its history row in one transaction (PostgreSQL's
        // DDL is transactional), so a run cut off leaves all or nothing.
        let mut runner =
            super::history::postgres_migrations::migrations::runner().set_grouped(true);
        runner.set_migration_table_name(super::history::SCHEMA_HISTORY_TABLE);
        Ok(super::history::applied(runner.run(&mut self.client)?))
    }
}

/// The run lock is a session-level advisory lock on this fixed key ("heatconv" in ASCII).
/// Advisory locks belong to one database, so runs on two databases never wait for each
/// other.
const RUN_LOCK_KEY: i64 = i64::from_be_bytes(*b"heatconv");

impl super::RunLock for Postgres {
    fn try_lock_run(&mut self) -> Result<Option<super::RunLockHeld>> {
        let got: bool = self
            .client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&RUN_LOCK_KEY])?
            .get(0);
        Ok(got.then(super::RunLockHeld::session))
    }

    fn lock_run(&mut self) -> Result<super::RunLockHeld> {
        self.client
            .execute("SELECT pg_advisory_lock($1)", &[&RUN_LOCK_KEY])?;
        Ok(super::RunLockHeld::session())
    }

    fn run_lock_name(&mut self) -> Result<String> {
        let db: String = self
            .client
            .query_one("SELECT current_database()::text", &[])?
            .get(0);
        Ok(format!(
            "database {db} (advisory lock {RUN_LOCK_KEY}, see pg_locks)"
        ))
    }
}
