//! heat-converge's own record in Heat's database: refinery's versioned migrations create
//! the tables (per backend, under `migrations/`), then each run and each stack it looked
//! at get a row. A converted tree's rows are written in the tree's own transaction, so
//! the record can never disagree with what happened.

use super::{Connection, Param};
use anyhow::Result;

/// refinery's history table, named so that it cannot clash with Heat's tables.
pub const SCHEMA_HISTORY_TABLE: &str = "heat_converge_schema_history";

pub mod mysql_migrations {
    refinery::embed_migrations!("migrations/mysql");
}
pub mod postgres_migrations {
    refinery::embed_migrations!("migrations/postgres");
}
pub mod sqlite_migrations {
    refinery::embed_migrations!("migrations/sqlite");
}

/// Applying the tool's schema migrations (one implementation per driver).
pub trait Migrations {
    /// Applies the migrations not applied yet; returns their names.
    fn migrate(&mut self) -> Result<Vec<String>>;
}

/// Names of the migrations a refinery report says were applied.
pub(crate) fn applied(report: refinery::Report) -> Vec<String> {
    report
        .applied_migrations()
        .iter()
        .map(|m| format!("V{}__{}", m.version(), m.name()))
        .collect()
}

/// What a run records at its start.
pub struct RunStart<'a> {
    pub id: &'a str,
    pub started_at: &'a str,
    pub host: &'a str,
    pub options: &'a str,
}

pub fn start_run(conn: &mut dyn Connection, run: &RunStart) -> Result<()> {
    conn.execute(
        include_str!("../../sql/run_start.sql"),
        &[
            Param::Text(run.id.into()),
            Param::Text(run.started_at.into()),
            Param::Text(env!("CARGO_PKG_VERSION").into()),
            Param::Text(run.host.into()),
            Param::Text(run.options.into()),
        ],
    )?;
    Ok(())
}

/// The counts a run ends with.
pub struct RunEnd<'a> {
    pub stacks_converted: i64,
    pub trees_converted: i64,
    pub trees_skipped: i64,
    pub trees_remaining: i64,
    /// Why the run stopped before its end, if it did.
    pub stopped: Option<&'a str>,
}

pub fn end_run(
    conn: &mut dyn Connection,
    id: &str,
    ended_at: &str,
    end: &RunEnd<'_>,
) -> Result<()> {
    conn.execute(
        include_str!("../../sql/run_end.sql"),
        &[
            Param::Text(ended_at.into()),
            Param::Int(end.stacks_converted),
            Param::Int(end.trees_converted),
            Param::Int(end.trees_skipped),
            Param::Int(end.trees_remaining),
            end.stopped
                .map(|r| Param::Text(r.into()))
                .unwrap_or(Param::Null),
            Param::Text(id.into()),
        ],
    )?;
    Ok(())
}

/// One stack's outcome in a run.
pub struct StackOutcome<'a> {
    pub run_id: &'a str,
    pub stack_id: &'a str,
    pub root_stack_id: &'a str,
    pub outcome: &'a str,
    pub reason: Option<&'a str>,
    pub resources_converted: i64,
    pub resources_deleted: i64,
    pub templates_deleted: i64,
}

pub fn record_stack(conn: &mut dyn Connection, o: &StackOutcome) -> Result<()> {
    conn.execute(
        include_str!("../../sql/stack_outcome.sql"),
        &[
            Param::Text(o.run_id.into()),
            Param::Text(o.stack_id.into()),
            Param::Text(o.root_stack_id.into()),
            Param::Text(o.outcome.into()),
            o.reason
                .map(|r| Param::Text(r.into()))
                .unwrap_or(Param::Null),
            Param::Int(o.resources_converted),
            Param::Int(o.resources_deleted),
            Param::Int(o.templates_deleted),
        ],
    )?;
    Ok(())
}
