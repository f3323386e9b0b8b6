//! refinery's migrations on MySQL/MariaDB, one statement at a time, every result read.
//!
//! refinery's own MySQL driver sends a migration file as one multi-statement query and
//! reads only the first statement's result: a later statement that fails is never seen,
//! and the migration is recorded as applied. This driver implements refinery's traits
//! (which migrations are applied, checksums, the history table stay refinery's) but cuts
//! each file into its statements ([`crate::db::statements`]) and sends them one by one,
//! so that the first failure stops the run before the migration's history row is written,
//! and the message names the migration, the statement and the server's error.
//!
//! **One refusal is expected and gone past, by name** ([`SUPERSEDED`]): V4's `CREATE TABLE
//! IF NOT EXISTS heat_converge_deleted` makes a table without a primary key, which a
//! cluster requiring one refuses (MariaDB Galera's `wsrep_mode=REQUIRED_PRIMARY_KEY`:
//! error 4165, even when the table exists; MySQL's `sql_require_primary_key`: error
//! 3750). V4's file cannot change (refinery checks the checksums of applied migrations),
//! and V5 creates the table with its primary key when it is missing, so V4 goes on without
//! it. Whatever else fails, fails the run; and after the migrations every table and column
//! the tool uses is checked ([`crate::db::own_schema`]).

use crate::db::statements;
use refinery_core::traits::sync::{Migrate, Query, Transaction};
use refinery_core::Migration;

/// Statements a server may refuse for want of a primary key, and what makes up for it:
/// (migration version, the statement's start, the server's error codes, why going on is
/// sound).
const SUPERSEDED: &[(i32, &str, &[u16], &str)] = &[(
    4,
    "CREATE TABLE IF NOT EXISTS heat_converge_deleted",
    &[4165, 3750],
    "V5 creates heat_converge_deleted with a primary key",
)];

/// A MySQL connection as refinery's driver, knowing the migrations it runs (to name them).
pub(super) struct OneByOne<'a> {
    pub conn: &'a mut mysql::Conn,
    pub migrations: &'a [Migration],
}

/// A statement that failed, in words (the server's message, what ran, where).
#[derive(Debug)]
pub(super) struct Failed(pub String);

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failed {}

/// Runs one statement and reads every result it returns, so that no error goes unread.
fn run_statement(conn: &mut mysql::Conn, statement: &str) -> Result<(), mysql::Error> {
    use mysql::prelude::Queryable;
    crate::db::log_statement(statement);
    let mut result = conn.query_iter(statement)?;
    while let Some(set) = result.iter() {
        for row in set {
            row?;
        }
    }
    Ok(())
}

fn server_code(e: &mysql::Error) -> Option<u16> {
    match e {
        mysql::Error::MySqlError(m) => Some(m.code),
        _ => None,
    }
}

impl OneByOne<'_> {
    /// The migration whose file `sql` is, if it is one.
    fn migration_of(&self, sql: &str) -> Option<&Migration> {
        self.migrations.iter().find(|m| m.sql() == Some(sql))
    }

    /// Runs one query refinery hands over: a migration file statement by statement, or
    /// one of refinery's own statements (its history table, a migration's history row).
    fn run(&mut self, sql: &str) -> Result<(), Failed> {
        let migration = self
            .migration_of(sql)
            .map(|m| (m.version(), format!("V{}__{}", m.version(), m.name())));
        let parts = statements::split(sql);
        for (i, statement) in parts.iter().enumerate() {
            let Err(e) = run_statement(self.conn, statement) else {
                continue;
            };
            let what = match &migration {
                Some((_, name)) => format!(
                    "migration {name}, statement {} of {} ({})",
                    i + 1,
                    parts.len(),
                    statements::head(statement)
                ),
                None => format!(
                    "refinery's statement on its history table ({})",
                    statements::head(statement)
                ),
            };
            let superseded = migration.as_ref().and_then(|(version, _)| {
                SUPERSEDED.iter().find(|(v, start, codes, _)| {
                    v == version
                        && statement.starts_with(start)
                        && server_code(&e).is_some_and(|c| codes.contains(&c))
                })
            });
            if let Some((_, _, _, why)) = superseded {
                tracing::info!(
                    "{what}: refused by a server that requires a primary key on every \
                     table ({}); going on: {why}",
                    super::plain(&e, "")
                );
                continue;
            }
            return Err(Failed(format!(
                "{what} failed: {:#}; the migration is not recorded as applied (statements \
                 before it may have been: MySQL/MariaDB commit each DDL statement by itself, \
                 and the next run repairs what a cut-off migration left)",
                super::plain(&e, "")
            )));
        }
        Ok(())
    }
}

impl Transaction for OneByOne<'_> {
    type Error = Failed;

    fn execute<'a, T: Iterator<Item = &'a str>>(&mut self, queries: T) -> Result<usize, Failed> {
        let mut count = 0;
        for sql in queries {
            self.run(sql)?;
            count += 1;
        }
        Ok(count)
    }
}

impl Query<Vec<Migration>> for OneByOne<'_> {
    /// refinery's history: (version, name, applied_on, checksum) rows.
    fn query(&mut self, sql: &str) -> Result<Vec<Migration>, Failed> {
        use mysql::prelude::Queryable;
        crate::db::log_statement(sql);
        let fail = |e: &dyn std::fmt::Display| {
            Failed(format!("reading heat-converge's migration history: {e}"))
        };
        let rows: Vec<(i32, String, String, String)> = Queryable::query(&mut *self.conn, sql)
            .map_err(|e| fail(&format!("{:#}", super::plain(&e, ""))))?;
        rows.into_iter()
            .map(|(version, name, applied_on, checksum)| {
                let applied_on = time::OffsetDateTime::parse(
                    &applied_on,
                    &time::format_description::well_known::Rfc3339,
                )
                .map_err(|e| fail(&format!("V{version} applied_on {applied_on:?}: {e}")))?;
                let checksum = checksum
                    .parse::<u64>()
                    .map_err(|e| fail(&format!("V{version} checksum {checksum:?}: {e}")))?;
                Ok(Migration::applied(version, name, applied_on, checksum))
            })
            .collect()
    }
}

impl Migrate for OneByOne<'_> {}
