//! heat-converge's own record in Heat's database: refinery's versioned migrations create
//! the tables (per backend, under `migrations/`), then each run and each stack it looked
//! at get a row. A converted tree's rows are written in the tree's own transaction, so
//! the record can never disagree with what happened.
//!
//! **A set-up cut off must not break later runs.** Migrations run under the run lock
//! ([`super::RunLock`]), so two runs never apply them at once. On PostgreSQL and SQLite
//! refinery applies them grouped, in one transaction with their history rows: a killed
//! run leaves all or nothing. MySQL/MariaDB commit each DDL statement by itself, so a run
//! killed inside V1 can leave `heat_converge_run` (or both tables) without V1's history
//! row, and V1's `CREATE TABLE` would then fail for ever. V1's file cannot change (refinery
//! checks the checksums of applied migrations), so [`recover_interrupted_setup`] runs
//! first: while V1 is not recorded, no run can have started (a run writes its row only
//! after every migration), so our tables are leftovers of a cut-off V1 and are dropped,
//! after checking they are empty. V2 is written to be applied again from any point (it
//! only converts character sets). V3 adds a column, which MySQL cannot add twice: while V3
//! is not recorded no run can have written that column, so a leftover one is dropped.
//! V5 (a primary key on `heat_converge_deleted`, which Galera needs) is written to be
//! applied again from any point, like V2; so is V6 (`heat_converge_stack` keyed by an id
//! in write order instead of its random stack ids: one `ALTER`, applied whole or not at
//! all, and only while the table has no id).
//!
//! **A failed statement is never recorded as applied.** On MySQL/MariaDB the migrations run
//! one statement at a time with every result read (`mysql/migrations.rs`; refinery's own
//! driver read only a file's first result), and after the migrations every table and
//! column the tool uses is checked on every backend ([`super::own_schema`]).
//!
//! **Any value fits.** V2 makes every text column of our tables utf8mb4 on MySQL/MariaDB
//! (V1's `utf8` rejects an emoji), and the values we write are bounded to what the
//! columns hold on every backend ([`bounded`]), cut on a character boundary and marked
//! as truncated.

use super::{count, Connection, Param};
use anyhow::{bail, Context, Result};
use std::borrow::Cow;

pub use super::own_schema::SCHEMA_HISTORY_TABLE;

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

/// Our tables made by V1, in the order they are dropped.
pub(crate) const V1_TABLES: &[&str] = &["heat_converge_stack", "heat_converge_run"];

fn table_exists(conn: &mut dyn Connection, table: &str) -> bool {
    conn.query(&format!("SELECT 1 FROM {table} WHERE 1=0"), &[])
        .is_ok()
}

/// Drops the tables a cut-off first set-up left without V1's history row (see the module
/// doc); returns their names. Run under the run lock, before refinery.
pub fn recover_interrupted_setup(conn: &mut dyn Connection) -> Result<Vec<String>> {
    if table_exists(conn, SCHEMA_HISTORY_TABLE) && recorded(conn, 1)? {
        return recover_added_columns(conn);
    }
    let mut dropped = Vec::new();
    for table in V1_TABLES {
        if !table_exists(conn, table) {
            continue;
        }
        if count(conn, &format!("SELECT COUNT(*) AS n FROM {table}"), &[])? != 0 {
            bail!(
                "table {table} holds rows but {SCHEMA_HISTORY_TABLE} does not record \
                 migration V1: not made by heat-converge's set-up; left alone, move it away"
            );
        }
        conn.execute(&format!("DROP TABLE {table}"), &[])
            .with_context(|| format!("dropping {table}, left by a cut-off first run"))?;
        dropped.push(table.to_string());
    }
    Ok(dropped)
}

/// Whether refinery recorded migration `version` as applied.
fn recorded(conn: &mut dyn Connection, version: i64) -> Result<bool> {
    let n = count(
        conn,
        &format!("SELECT COUNT(*) AS n FROM {SCHEMA_HISTORY_TABLE} WHERE version = {version}"),
        &[],
    )?;
    Ok(n != 0)
}

/// The columns later migrations add: (version, table, column).
pub(crate) const ADDED_COLUMNS: &[(i64, &str, &str)] = &[
    (3, "heat_converge_run", "stopped"),
    (4, "heat_converge_stack", "traversal"),
];

/// A column added by a migration that is not recorded (a run killed in between on
/// MySQL): dropped, so that the migration applies again. No run can have written it.
fn recover_added_columns(conn: &mut dyn Connection) -> Result<Vec<String>> {
    let mut dropped = Vec::new();
    for (version, table, column) in ADDED_COLUMNS {
        let column_there = conn
            .query(&format!("SELECT {column} FROM {table} WHERE 1=0"), &[])
            .is_ok();
        if !column_there || recorded(conn, *version)? {
            continue;
        }
        conn.execute(&format!("ALTER TABLE {table} DROP COLUMN {column}"), &[])
            .with_context(|| format!("dropping {table}.{column}, left by a cut-off V{version}"))?;
        dropped.push(format!("{table}.{column}"));
    }
    Ok(dropped)
}

/// The migrations refinery recorded as applied: version -> checksum. Empty when its
/// history table is not there (or cannot be read: preflight names that).
pub fn recorded_versions(conn: &mut dyn Connection) -> std::collections::BTreeMap<i64, String> {
    let Ok(rows) = conn.query(include_str!("../../sql/schema_history.sql"), &[]) else {
        return Default::default();
    };
    rows.iter()
        .filter_map(|r| Some((r.int("version").ok()??, r.text("checksum").ok()??)))
        .collect()
}

/// Sets up our tables: applies the migrations not applied yet ([`Migrations`]), unless
/// every one is recorded with its checksum. Then refinery, which would have nothing to
/// do, is not run: its first statement, `CREATE TABLE IF NOT EXISTS` on its history
/// table, needs the CREATE privilege even when the table is there (MariaDB and PostgreSQL
/// check the privilege first), and a run that finds its tables in place must not need
/// CREATE (see [`super::preflight`]). Our tables are checked either way.
pub fn set_up(db: &mut dyn super::Database) -> Result<Vec<String>> {
    let recorded = recorded_versions(db.conn());
    let current = db
        .embedded_migrations()
        .iter()
        .all(|m| recorded.get(&i64::from(m.version())) == Some(&m.checksum().to_string()));
    if !current {
        return db.migrate();
    }
    super::own_schema::check(db.conn())?;
    Ok(Vec::new())
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

/// What `heat_converge_run.options` and `heat_converge_stack.reason` hold: MySQL's TEXT,
/// the smallest of the three backends, in bytes.
pub const TEXT_MAX_BYTES: usize = 65_535;
/// What `heat_converge_run.host` holds: VARCHAR(255), in characters.
pub const HOST_MAX_CHARS: usize = 255;
/// The mark a value cut to fit its column ends with.
pub const TRUNCATED: &str = "… (truncated)";

/// `value` as a column holding `max_chars` characters and `max_bytes` bytes (UTF-8) can
/// store it: unchanged when it fits, otherwise cut on a character boundary and ending
/// with [`TRUNCATED`], within both limits. NUL, which PostgreSQL's text refuses, becomes
/// U+FFFD.
pub fn bounded(value: &str, max_chars: usize, max_bytes: usize) -> Cow<'_, str> {
    let clean: Cow<str> = if value.contains('\0') {
        Cow::Owned(value.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(value)
    };
    if clean.len() <= max_bytes && clean.chars().count() <= max_chars {
        return clean;
    }
    let room_chars = max_chars.saturating_sub(TRUNCATED.chars().count());
    let room_bytes = max_bytes.saturating_sub(TRUNCATED.len());
    let cut = clean
        .char_indices()
        .enumerate()
        .find(|(n, (i, c))| *n >= room_chars || i + c.len_utf8() > room_bytes)
        .map(|(_, (i, _))| i)
        .unwrap_or(clean.len());
    Cow::Owned(format!("{}{TRUNCATED}", &clean[..cut]))
}

pub fn start_run(conn: &mut dyn Connection, run: &RunStart) -> Result<()> {
    let b = super::named::bind(
        include_str!("../../sql/run_start.sql"),
        &[
            ("id", Param::Text(run.id.into())),
            ("started_at", Param::Text(run.started_at.into())),
            (
                "tool_version",
                Param::Text(env!("CARGO_PKG_VERSION").into()),
            ),
            (
                "host",
                Param::Text(bounded(run.host, HOST_MAX_CHARS, usize::MAX).into_owned()),
            ),
            (
                "options",
                Param::Text(bounded(run.options, usize::MAX, TEXT_MAX_BYTES).into_owned()),
            ),
        ],
        &[],
    )?;
    conn.execute(&b.sql, &b.params)?;
    Ok(())
}

/// How `heat_converge_run.stopped` begins for each way a run ends before its end: the run
/// writes them ([`crate::convert::run`]), `history` tells them apart by them
/// ([`super::past_runs::Ending`]).
pub mod stopped {
    /// A failure ended the run; the error follows.
    pub const FAILED: &str = "failed: ";
    /// A signal stopped it: `stopped by SIGTERM after ...`.
    pub const BY_SIGNAL: &str = "stopped by ";
    /// A refusal of the database's that every tree would meet (a privilege, read-only, a
    /// full disk): `stopped after N of M trees ...`.
    pub const BY_DATABASE: &str = "stopped after ";
    /// Its output was closed.
    pub const OUTPUT_CLOSED: &str = "the output could not be written";
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
    let b = super::named::bind(
        include_str!("../../sql/run_end.sql"),
        &[
            ("ended_at", Param::Text(ended_at.into())),
            ("stacks_converted", Param::Int(end.stacks_converted)),
            ("trees_converted", Param::Int(end.trees_converted)),
            ("trees_skipped", Param::Int(end.trees_skipped)),
            ("trees_remaining", Param::Int(end.trees_remaining)),
            (
                "stopped",
                end.stopped
                    .map(|r| Param::Text(r.into()))
                    .unwrap_or(Param::Null),
            ),
            ("id", Param::Text(id.into())),
        ],
        &[],
    )?;
    conn.execute(&b.sql, &b.params)?;
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
    /// The traversal a converted stack was given.
    pub traversal: Option<&'a str>,
}

/// Records stack outcomes, many rows per statement (in the transaction that converts them).
pub fn record_stacks(conn: &mut dyn Connection, outcomes: &[StackOutcome]) -> Result<()> {
    insert_rows(
        conn,
        include_str!("../../sql/stack_outcome.sql"),
        outcomes.iter().map(|o| {
            vec![
                ("run_id", Param::Text(o.run_id.into())),
                ("stack_id", Param::Text(o.stack_id.into())),
                ("root_stack_id", Param::Text(o.root_stack_id.into())),
                ("outcome", Param::Text(o.outcome.into())),
                (
                    "reason",
                    o.reason
                        .map(|r| Param::Text(bounded(r, usize::MAX, TEXT_MAX_BYTES).into_owned()))
                        .unwrap_or(Param::Null),
                ),
                ("resources_converted", Param::Int(o.resources_converted)),
                ("resources_deleted", Param::Int(o.resources_deleted)),
                ("templates_deleted", Param::Int(o.templates_deleted)),
                (
                    "traversal",
                    o.traversal
                        .map(|t| Param::Text(t.into()))
                        .unwrap_or(Param::Null),
                ),
            ]
        }),
    )
}

/// Runs an `INSERT ... VALUES {each: (...)}` for every row (its values by name), many
/// rows per statement.
fn insert_rows(
    conn: &mut dyn Connection,
    sql: &str,
    rows: impl Iterator<Item = Vec<(&'static str, Param)>>,
) -> Result<()> {
    let rows: Vec<Vec<(&str, Param)>> = rows.collect();
    for chunk in rows.chunks(super::ROWS_PER_STATEMENT) {
        let refs: Vec<&super::named::Values> = chunk.iter().map(Vec::as_slice).collect();
        let b = super::named::bind(sql, &[], &refs)?;
        conn.execute(&b.sql, &b.params)?;
    }
    Ok(())
}

/// One row a conversion deleted, for the audit.
pub struct DeletedRow<'a> {
    pub run_id: &'a str,
    pub root_stack_id: &'a str,
    pub stack_id: &'a str,
    /// `resource`, `raw_template` or `raw_template_files`.
    pub kind: &'a str,
    pub row_id: i64,
    pub uuid: Option<&'a str>,
    pub name: Option<&'a str>,
    pub type_name: Option<&'a str>,
    pub physical_id: Option<&'a str>,
    pub action: Option<&'a str>,
    pub status: Option<&'a str>,
    pub reason: &'a str,
}

/// Records deleted rows, in the transaction that deletes them.
pub fn record_deleted(conn: &mut dyn Connection, rows: &[DeletedRow]) -> Result<()> {
    let opt = |v: Option<&str>, max: usize| {
        v.map(|v| Param::Text(bounded(v, max, max * 4).into_owned()))
            .unwrap_or(Param::Null)
    };
    insert_rows(
        conn,
        include_str!("../../sql/deleted_row.sql"),
        rows.iter().map(|d| {
            vec![
                ("run_id", Param::Text(d.run_id.into())),
                ("root_stack_id", Param::Text(d.root_stack_id.into())),
                ("stack_id", Param::Text(d.stack_id.into())),
                ("kind", Param::Text(d.kind.into())),
                ("row_id", Param::Int(d.row_id)),
                ("uuid", opt(d.uuid, 36)),
                ("name", opt(d.name, 255)),
                ("type", opt(d.type_name, 255)),
                ("physical_id", opt(d.physical_id, 255)),
                ("action", opt(d.action, 255)),
                ("status", opt(d.status, 255)),
                (
                    "reason",
                    Param::Text(bounded(d.reason, TEXT_MAX_BYTES, TEXT_MAX_BYTES).into_owned()),
                ),
            ]
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::{bounded, TRUNCATED};

    #[test]
    fn a_value_that_fits_is_kept() {
        assert_eq!(bounded("héllo 🔥", 8, 100), "héllo 🔥");
        assert_eq!(bounded("", 0, 0), "");
    }

    #[test]
    fn a_long_value_is_cut_on_a_char_boundary_and_marked() {
        let long = "🔥".repeat(100); // 400 bytes
        for max_bytes in [20, 21, 22, 23, 24, 399] {
            let b = bounded(&long, usize::MAX, max_bytes);
            assert!(b.len() <= max_bytes, "{max_bytes}: {} bytes", b.len());
            assert!(b.ends_with(TRUNCATED));
            let kept = b.trim_end_matches(TRUNCATED);
            assert!(kept.chars().all(|c| c == '🔥'));
            // As much as fits: one more emoji would not.
            assert!(kept.len() + 4 + TRUNCATED.len() > max_bytes);
        }
        let xs = "x".repeat(300);
        let b = bounded(&xs, 255, usize::MAX);
        assert_eq!(b.chars().count(), 255);
        assert!(b.ends_with(TRUNCATED));
    }

    #[test]
    fn nul_becomes_a_replacement_character() {
        assert_eq!(bounded("a\0b", 10, 10), "a\u{FFFD}b");
    }
}
