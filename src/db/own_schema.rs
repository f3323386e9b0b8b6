//! heat-converge's own tables as the tool uses them, checked after its migrations.
//!
//! Why: a migration recorded as applied is not proof that its statements did what they
//! say (refinery's MySQL driver used to record a migration whose later statement had
//! failed; a server may refuse a table; someone may drop a column by hand). A run writes
//! its record into these tables in the same transactions as the conversion, so a missing
//! table or column would refuse every tree, run after run. Checked once, right after the
//! migrations, the same neutral way as Heat's tables ([`super::heat_schema`]):
//! `SELECT cols FROM t WHERE 1=0`, on every backend; the message names what is missing.

/// refinery's history table, named so that it cannot clash with Heat's tables.
pub const SCHEMA_HISTORY_TABLE: &str = "heat_converge_schema_history";

use super::Connection;
use anyhow::{anyhow, Result};

/// Our tables and every column of each that the tool reads or writes (see `sql/`,
/// [`super::history`]); a test checks that every name our SQL uses is here.
pub const OWN_COLUMNS: &[(&str, &[&str])] = &[
    (
        SCHEMA_HISTORY_TABLE,
        &["version", "name", "applied_on", "checksum"],
    ),
    (
        "heat_converge_run",
        &[
            "id",
            "started_at",
            "ended_at",
            "tool_version",
            "host",
            "options",
            "stacks_converted",
            "trees_converted",
            "trees_skipped",
            "trees_remaining",
            "stopped",
        ],
    ),
    (
        "heat_converge_stack",
        &[
            "id",
            "run_id",
            "stack_id",
            "root_stack_id",
            "outcome",
            "reason",
            "resources_converted",
            "resources_deleted",
            "templates_deleted",
            "traversal",
        ],
    ),
    (
        "heat_converge_deleted",
        &[
            "id",
            "run_id",
            "root_stack_id",
            "stack_id",
            "kind",
            "row_id",
            "uuid",
            "name",
            "type",
            "physical_id",
            "action",
            "status",
            "reason",
        ],
    ),
];

/// Fails, naming every missing table and column, unless the database holds all of
/// [`OWN_COLUMNS`]. Reads no row; writes nothing.
pub fn check(conn: &mut dyn Connection) -> Result<()> {
    let mut missing = Vec::new();
    for (table, columns) in OWN_COLUMNS {
        let all = format!("SELECT {} FROM {table} WHERE 1=0", columns.join(", "));
        if conn.query(&all, &[]).is_ok() {
            continue;
        }
        if conn
            .query(&format!("SELECT 1 FROM {table} WHERE 1=0"), &[])
            .is_err()
        {
            missing.push(format!("table {table}"));
            continue;
        }
        let absent: Vec<&str> = columns
            .iter()
            .copied()
            .filter(|c| {
                conn.query(&format!("SELECT {c} FROM {table} WHERE 1=0"), &[])
                    .is_err()
            })
            .collect();
        if absent.is_empty() {
            // Each column alone is there, yet not all together: the server's own words.
            let e = conn.query(&all, &[]).err();
            missing.push(format!(
                "table {table} cannot be read ({})",
                e.map(|e| format!("{e:#}")).unwrap_or_default()
            ));
        } else {
            missing.push(format!("{table}.{}", absent.join(", ")));
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(anyhow!(
        "heat-converge's own tables are incomplete after its migrations: missing {}. \
         Nothing was converted. {} records the migrations as applied; if a statement of \
         one failed unseen (earlier builds of heat-converge did not read the results after \
         a file's first statement on MySQL/MariaDB), restore what is missing or delete that \
         migration's row from {} so that it is applied again",
        missing.join("; "),
        SCHEMA_HISTORY_TABLE,
        SCHEMA_HISTORY_TABLE,
    ))
}

#[cfg(test)]
mod tests {
    use super::OWN_COLUMNS;

    /// Every name of our tables our SQL (`sql/`) uses is listed: a column added to a
    /// statement without its migration (or without this list) is caught here.
    #[test]
    fn every_column_our_sql_names_on_our_tables_is_checked() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sql");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let code: String = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join(" ");
            // String literals ('converted') are values, not names; nor are placeholders.
            let code: String = code.split('\'').step_by(2).collect::<Vec<_>>().join(" ");
            let code = crate::db::named::without_placeholders(&code);
            let words: Vec<&str> = code
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .filter(|w| !w.is_empty())
                .collect();
            let Some(table) = words
                .iter()
                .find(|w| w.starts_with("heat_converge_"))
                .copied()
            else {
                continue;
            };
            let (_, columns) = OWN_COLUMNS
                .iter()
                .find(|(t, _)| *t == table)
                .unwrap_or_else(|| panic!("{}: {table} is not in OWN_COLUMNS", path.display()));
            let aliases: Vec<&str> = words
                .windows(2)
                .filter(|p| p[0] == "AS")
                .map(|p| p[1])
                .collect();
            for w in words.iter().filter(|w| {
                w.chars().all(|c| c.is_lowercase() || c == '_')
                    && !aliases.contains(w)
                    && !["ids", "case", "rows", "each", "cases"].contains(w)
                    && **w != table
            }) {
                seen += 1;
                assert!(
                    columns.contains(w),
                    "{}: {w} is not a column of {table} in OWN_COLUMNS",
                    path.display()
                );
            }
        }
        assert!(seen > 20, "the sql/ scan found only {seen} names");
    }
}
