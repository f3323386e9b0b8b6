//! heat-converge's temporary indexes on Heat's tables, for the length of a run.
//!
//! Heat's PostgreSQL and SQLite schemas have no index on some columns a conversion looks
//! rows up by: the foreign keys that point at `raw_template` (`stack.raw_template_id`,
//! `stack.prev_raw_template_id`, `resource.current_template_id`) and at
//! `raw_template_files` (`raw_template.files_id`). Deleting a previous template makes the
//! database check each of those foreign keys, and without an index that is a scan of the
//! whole table for every row deleted: on PostgreSQL at 100,000 stacks, about an hour.
//! MySQL/MariaDB index every foreign key themselves, so there nothing is missing.
//!
//! A real run creates each index that is missing, named `heat_converge_ix_<table>_<column>`
//! so that an operator sees whose it is, and drops it at the end of the run. A run killed
//! before its end leaves them; the next run takes them as its own and drops them at its
//! end.
//!
//! **Read-only runs create none.** `status`, `plan`, `migrate --dry-run` and `verify`
//! write nothing to Heat's database, and that includes DDL, for four reasons: an operator
//! runs `status` or `verify` on production expecting a read; `CREATE INDEX` blocks every
//! write to the table while it builds (Heat's engines wait), needs a privilege a read-only
//! account lacks and fails on a read replica; and such runs take no run lock, so an index
//! of theirs would race with a `migrate`'s (which takes ours left by a killed run as its
//! own, and drops them at its end). They need none: they delete nothing, so no foreign key
//! is checked, and they find each stack's resources without `resource.stack_id` (one pass
//! over `resource` for where every row is, then reads by primary key: see
//! [`super::read::ResourceIds`]).

use anyhow::{Context, Result};

/// Columns a conversion looks rows up by: (table, column).
pub const LOOKUP_COLUMNS: &[(&str, &str)] = &[
    ("resource", "current_template_id"),
    ("stack", "raw_template_id"),
    ("stack", "prev_raw_template_id"),
    ("raw_template", "files_id"),
];

/// Columns an older heat-converge indexed for its run and this one does not: an index of
/// ours left there by a killed run of that build is dropped all the same.
pub const RETIRED_COLUMNS: &[(&str, &str)] = &[("resource", "stack_id")];

/// Finding and dropping indexes, and the planner statistics that make the server use
/// them, one implementation per driver.
pub trait Indexes {
    /// Whether some index of `table` has `column` as its first column.
    fn indexed(&mut self, table: &str, column: &str) -> Result<bool>;
    /// Drops the index `name` of `table`, if it exists.
    fn drop_index(&mut self, table: &str, name: &str) -> Result<()>;
    /// Those of `tables` the query planner has no statistics on (none, where the server
    /// gathers them itself as tables are written: InnoDB).
    fn without_statistics(&mut self, _tables: &[&str]) -> Result<Vec<String>> {
        Ok(Vec::new())
    }
    /// Gathers the planner's statistics on `table` (`ANALYZE`).
    fn analyze(&mut self, _table: &str) -> Result<()> {
        Ok(())
    }
}

/// The tables a conversion reads and deletes rows of by key.
pub const READ_TABLES: &[&str] = &[
    "stack",
    "resource",
    "raw_template",
    "raw_template_files",
    "resource_data",
    "resource_properties_data",
];

/// Heat's tables a conversion reads that have no planner statistics.
///
/// A PostgreSQL database that was just restored or upgraded, or one autovacuum has not
/// reached yet, has no statistics: the planner then guesses, and at 100,000 stacks it
/// guessed a scan of the whole `resource` table for each batch's read of resources (21.8 s
/// of the server's time where an index takes 6.1 s, after an `ANALYZE` of 1.9 s).
/// Statistics are the planner's, not Heat's rows, and `ANALYZE` is what autovacuum runs
/// anyway; a table the user may not analyze (not its owner) is read as it is, said in the
/// log. Gathered by [`gather_statistics`].
pub fn missing_statistics(db: &mut dyn super::Database) -> Result<Vec<String>> {
    db.without_statistics(READ_TABLES)
        .context("asking which tables have planner statistics")
}

/// Gathers the planner's statistics on `missing` (`ANALYZE`); returns the tables that
/// have them now. A run does it on a session of its own beside its first batches where
/// it can: `ANALYZE` samples a fixed number of rows, about 0.35 s at 10,000 roots (a
/// sixth of that run, which it did not make faster) and 0.85 s at 100,000 (where it saves
/// more than that); beside the run it costs neither, and the server plans each statement
/// again once the statistics change.
pub fn gather_statistics(db: &mut dyn super::Database, missing: &[String]) -> Result<Vec<String>> {
    let mut gathered = Vec::new();
    for table in missing {
        let started = std::time::Instant::now();
        db.analyze(table)
            .with_context(|| format!("gathering planner statistics on {table} (ANALYZE)"))?;
        tracing::info!(
            seconds = %crate::seconds::Seconds(started.elapsed()),
            "gathered planner statistics on {table}, which had none"
        );
        gathered.push(table.clone());
    }
    // Checked, not assumed: ANALYZE of a table the user does not own is a warning, not
    // an error, on PostgreSQL; an empty table has nothing to gather.
    if !gathered.is_empty() {
        let still: Vec<&str> = gathered.iter().map(String::as_str).collect();
        let still = db.without_statistics(&still)?;
        for table in &still {
            tracing::warn!(
                "{table} still has no planner statistics (empty, or this user may not ANALYZE it): read as it is"
            );
        }
        gathered.retain(|t| !still.contains(t));
    }
    Ok(gathered)
}

/// The name heat-converge gives its index on `table (column)`.
pub fn name(table: &str, column: &str) -> String {
    format!("heat_converge_ix_{table}_{column}")
}

/// Creates each missing lookup index, dropping first one a killed run left behind.
/// Returns the names created. An index another session's lock keeps us from creating
/// (or a leftover from dropping) is done without, said in the log: the run is slower, not
/// wrong.
pub fn create_missing(db: &mut dyn super::Database) -> Result<Vec<String>> {
    let mut ours = Vec::new();
    for (table, column) in RETIRED_COLUMNS {
        drop_leftover(db, table, &name(table, column))?;
    }
    for (table, column) in LOOKUP_COLUMNS {
        let name = name(table, column);
        if !drop_leftover(db, table, &name)? {
            continue;
        }
        if db.indexed(table, column)? {
            continue;
        }
        match db.execute(&format!("CREATE INDEX {name} ON {table} ({column})"), &[]) {
            Err(e) if super::is_lock_wait_timeout(&e) => {
                tracing::warn!(
                    "no temporary index on {table} ({column}): another session holds a lock on {table} ({e:#}); the run reads without it"
                );
            }
            other => {
                other.with_context(|| format!("creating the temporary index {name}"))?;
                tracing::info!("created the temporary index {name} on {table} ({column})");
                ours.push(name);
            }
        }
    }
    Ok(ours)
}

/// Drops our index `name` of `table` that a killed run left, if there is one; false when
/// another session's lock keeps it there (said in the log).
fn drop_leftover(db: &mut dyn super::Database, table: &str, name: &str) -> Result<bool> {
    match db.drop_index(table, name) {
        Err(e) if super::is_lock_wait_timeout(&e) => {
            tracing::warn!("the index {name} a killed run left stays: {e:#}");
            Ok(false)
        }
        other => {
            other.with_context(|| format!("dropping the index {name} a killed run left"))?;
            Ok(true)
        }
    }
}

/// Drops the indexes [`create_missing`] created. One another session's lock keeps us from
/// dropping stays, and is returned with why: the next run drops it (see
/// [`create_missing`]), or `DROP INDEX` by hand; it only costs Heat's writes a little.
pub fn drop_ours(db: &mut dyn super::Database, names: &[String]) -> Result<Vec<String>> {
    let mut left = Vec::new();
    for (table, column) in LOOKUP_COLUMNS {
        let name = name(table, column);
        if names.contains(&name) {
            match db.drop_index(table, &name) {
                Err(e) if super::is_lock_wait_timeout(&e) => {
                    tracing::warn!("the temporary index {name} stays on {table}: {e:#}");
                    left.push(format!(
                        "{name} (another session held a lock on {table}: the next run drops it)"
                    ));
                }
                other => {
                    other.with_context(|| format!("dropping the temporary index {name}"))?;
                    tracing::info!("dropped the temporary index {name}");
                }
            }
        }
    }
    Ok(left)
}
