//! Is this Heat's database? Checked before anything is written, so that a wrong URL (an
//! empty database, another program's database, a Heat schema too old) is refused with a
//! clear message and left exactly as it was, instead of getting our tables and then an
//! error.
//!
//! The check knows only the tables and columns heat-converge's SQL (`sql/`) reads and
//! writes, and asks each backend the same neutral question: `SELECT cols FROM t WHERE
//! 1=0`, which reads no row and fails when the table or a column is missing.

use super::Connection;
use anyhow::{anyhow, Result};

/// Heat's tables and the columns of each that heat-converge uses (see `sql/`).
pub const HEAT_COLUMNS: &[(&str, &[&str])] = &[
    (
        "stack",
        &[
            "id",
            "name",
            "tenant",
            "owner_id",
            "raw_template_id",
            "prev_raw_template_id",
            "action",
            "status",
            "convergence",
            "current_traversal",
            "status_reason",
            "backup",
            "nested_depth",
            "deleted_at",
        ],
    ),
    (
        "resource",
        &[
            "id",
            "uuid",
            "name",
            "stack_id",
            "action",
            "status",
            "nova_instance",
            "attr_data_id",
            "current_template_id",
            "requires",
            "needed_by",
            "status_reason",
        ],
    ),
    (
        "raw_template",
        &["id", "template", "environment", "files", "files_id"],
    ),
    ("raw_template_files", &["id", "files"]),
    ("stack_lock", &["stack_id", "engine_id"]),
    (
        "service",
        &[
            "engine_id",
            "host",
            "deleted_at",
            "updated_at",
            "created_at",
            "report_interval",
        ],
    ),
    ("resource_data", &["resource_id"]),
    ("resource_properties_data", &["id"]),
];

/// Fails, naming the first missing table or column, unless the database holds every
/// table and column of [`HEAT_COLUMNS`]. Reads nothing but the schema; writes nothing.
pub fn check(conn: &mut dyn Connection) -> Result<()> {
    for (table, columns) in HEAT_COLUMNS {
        let all = format!("SELECT {} FROM {table} WHERE 1=0", columns.join(", "));
        if conn.query(&all, &[]).is_ok() {
            continue;
        }
        // Something is missing: find out what, for the message.
        if let Err(e) = conn.query(&format!("SELECT 1 FROM {table} WHERE 1=0"), &[]) {
            return Err(e.context(format!("no table {table}: this is not a Heat database")));
        }
        for column in *columns {
            if let Err(e) = conn.query(&format!("SELECT {column} FROM {table} WHERE 1=0"), &[]) {
                return Err(e.context(format!(
                    "table {table} has no column {column}: Heat's schema is older than \
                     heat-converge needs; run heat-manage db_sync first"
                )));
            }
        }
        // Each column alone is there, yet not all together: report the server's word.
        return Err(anyhow!("cannot read table {table} ({all})"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::HEAT_COLUMNS;

    /// Every Heat table our SQL names is checked (ours, heat_converge_*, are not Heat's).
    #[test]
    fn every_table_of_our_sql_is_checked() {
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
            let words: Vec<&str> = code
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .filter(|w| !w.is_empty())
                .collect();
            // Lower-case words are names: every one in SQL on Heat's tables must be a
            // checked table or column ({ids} is the loader's list of placeholders), but
            // for the names a query gives its columns (`... AS name`).
            let aliases: Vec<&str> = words
                .windows(2)
                .filter(|p| p[0] == "AS")
                .map(|p| p[1])
                .collect();
            if !code.contains("heat_converge_") {
                for w in words.iter().filter(|w| {
                    w.chars().all(|c| c.is_lowercase() || c == '_') && !aliases.contains(w)
                }) {
                    assert!(
                        *w == "ids"
                            || HEAT_COLUMNS
                                .iter()
                                .any(|(t, cols)| t == w || cols.contains(w)),
                        "{}: {w} is neither a table nor a column of HEAT_COLUMNS",
                        path.display()
                    );
                }
            }
            for pair in words.windows(2) {
                if !["FROM", "INTO", "UPDATE", "JOIN"].contains(&pair[0]) {
                    continue;
                }
                let table = pair[1];
                if table.starts_with("heat_converge_") || table == "SELECT" {
                    continue;
                }
                seen += 1;
                assert!(
                    HEAT_COLUMNS.iter().any(|(t, _)| *t == table),
                    "{}: table {table} is not in HEAT_COLUMNS",
                    path.display()
                );
            }
        }
        assert!(seen > 10, "the sql/ scan found only {seen} table names");
    }
}
