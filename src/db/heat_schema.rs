//! Is this Heat's database, and one whose schema heat-converge knows? Checked before
//! anything is written, so that a wrong URL (an empty database, another program's
//! database) or a Heat schema no tested release made (older, newer, half-upgraded) is
//! refused with a clear message and left exactly as it was, instead of getting our tables
//! and then an error, or worse, a conversion written against columns that mean something
//! else.
//!
//! Three questions, in this order:
//! 0. Is there a `stack` table at all? If not, it is not Heat's (other programs use
//!    alembic too: their revision would only mislead).
//! 1. Which schema version is it? Heat records it with alembic (`alembic_version`) since
//!    2023.2 and with sqlalchemy-migrate (`migrate_version`) up to 2023.1; a database
//!    upgraded across that change has both, and alembic's is the current one. A version
//!    not in [`KNOWN_SCHEMAS`] is refused, by name.
//! 2. Are the tables and columns heat-converge's SQL (`sql/`) reads and writes there? Each
//!    backend is asked the same neutral question: `SELECT cols FROM t WHERE 1=0`, which
//!    reads no row and fails when the table or a column is missing (or the user may not
//!    read it: then the message says that, naming the user, not "not a Heat database").
//!
//! [`KNOWN_SCHEMAS`] holds what the releases of the release matrix (tests/releases.rs)
//! leave after `heat-manage db_sync`, and nothing else: a version is known because a
//! release that makes it was converted by Heat and by heat-converge with equal rows.

use super::refusal::{refusal, unreadable, Refusal};
use super::{Connection, Param};
use anyhow::{anyhow, Result};
use std::fmt;

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

/// The tables (and their columns) Heat records its schema version in; read only by
/// [`schema_version`], and not required: a database has one or both.
pub const HEAT_VERSION_TABLES: &[(&str, &[&str])] = &[
    ("alembic_version", &["version_num"]),
    ("migrate_version", &["version", "repository_id"]),
];

/// sqlalchemy-migrate's name for Heat's repository (`migrate_version.repository_id`).
const MIGRATE_REPOSITORY: &str = "heat";

/// A Heat schema version, as Heat records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchemaVersion<'a> {
    /// An alembic revision (`alembic_version.version_num`), Heat 2023.2 and later.
    Alembic(&'a str),
    /// A sqlalchemy-migrate version (`migrate_version.version`), Heat 2023.1 and older.
    Migrate(i64),
}

impl fmt::Display for SchemaVersion<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaVersion::Alembic(r) => write!(f, "alembic revision {r}"),
            SchemaVersion::Migrate(v) => write!(f, "sqlalchemy-migrate version {v}"),
        }
    }
}

/// One schema version heat-converge knows, and the releases that leave it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KnownSchema {
    pub version: SchemaVersion<'static>,
    /// The OpenStack series whose Heat leaves this version after `db_sync`.
    pub series: &'static str,
    /// The openstack-heat releases the release matrix converts on this version.
    pub releases: &'static [&'static str],
}

/// Every schema version heat-converge knows: the head each tested release's `db_sync`
/// reaches (tests/releases.rs checks this table against the releases themselves).
pub const KNOWN_SCHEMAS: &[KnownSchema] = &[
    KnownSchema {
        version: SchemaVersion::Migrate(86),
        series: "Heat 2023.1",
        releases: &["20.0.1"],
    },
    KnownSchema {
        version: SchemaVersion::Alembic("c6214ca60943"),
        series: "Heat 2023.2 to 2025.2",
        releases: &["21.0.1", "22.0.1", "23.0.0", "24.1.2", "25.0.2"],
    },
    KnownSchema {
        version: SchemaVersion::Alembic("97b2a986f922"),
        series: "Heat 2026.1 and 2026.2",
        releases: &["26.0.2", "27.0.1"],
    },
];

impl fmt::Display for KnownSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let majors: Vec<String> = self
            .releases
            .iter()
            .map(|r| format!("{}.x", r.split('.').next().unwrap_or(r)))
            .collect();
        let version = match self.version {
            SchemaVersion::Alembic(r) => r.to_string(),
            SchemaVersion::Migrate(v) => format!("sqlalchemy-migrate {v}"),
        };
        write!(f, "{version} = {} ({})", self.series, majors.join(", "))
    }
}

/// The schema version a database records, as read from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// One alembic revision.
    Alembic(String),
    /// No alembic revision; this sqlalchemy-migrate version of Heat's repository.
    Migrate(i64),
    /// Several alembic revisions (branches Heat never made).
    Several(Vec<String>),
    /// Neither table (or neither holds a version for Heat).
    Nothing,
}

/// Reads the schema version Heat recorded: alembic's revision when there is one (a
/// database upgraded from sqlalchemy-migrate keeps the old table too), else
/// sqlalchemy-migrate's. Reads nothing else; writes nothing.
pub fn schema_version(conn: &mut dyn Connection) -> Result<Recorded> {
    // A table the user may not read is not a table that is missing: said if nothing else
    // tells the version (MySQL answers "denied" for a table that is not there, too).
    let mut denied = None;
    let alembic = conn.query(include_str!("../../sql/heat_alembic_version.sql"), &[]);
    let alembic = match alembic {
        Err(e) if refusal(&e) == Some(Refusal::Privilege) => {
            denied = Some(("alembic_version", e));
            None
        }
        other => other.ok(),
    };
    if let Some(rows) = alembic {
        let mut revisions = rows
            .iter()
            .map(|r| r.string("version_num"))
            .collect::<Result<Vec<_>>>()?;
        match revisions.len() {
            0 => {} // alembic's table, not yet stamped: sqlalchemy-migrate's may say more
            1 => return Ok(Recorded::Alembic(revisions.remove(0))),
            _ => {
                revisions.sort();
                return Ok(Recorded::Several(revisions));
            }
        }
    }
    let migrate = conn.query(
        include_str!("../../sql/heat_migrate_version.sql"),
        &[Param::Text(MIGRATE_REPOSITORY.into())],
    );
    match migrate {
        Ok(rows) => {
            if let Some(row) = rows.first() {
                if let Some(v) = row.int("version")? {
                    return Ok(Recorded::Migrate(v));
                }
            }
        }
        Err(e) if denied.is_none() && refusal(&e) == Some(Refusal::Privilege) => {
            denied = Some(("migrate_version", e));
        }
        Err(_) => {}
    }
    match denied {
        Some((table, e)) => Err(unreadable(conn, table, None, e)),
        None => Ok(Recorded::Nothing),
    }
}

/// The list of known versions, for messages.
fn known_list() -> String {
    KNOWN_SCHEMAS
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Fails unless the database records a schema version of [`KNOWN_SCHEMAS`] and holds
/// every table and column of [`HEAT_COLUMNS`]; the message names what it found. Reads
/// nothing but the schema; writes nothing.
pub fn check(conn: &mut dyn Connection) -> Result<()> {
    // Not Heat's at all (another program's database may have an alembic_version too)
    // says more than any version: asked first.
    if let Err(e) = conn.query("SELECT 1 FROM stack WHERE 1=0", &[]) {
        if refusal(&e) == Some(Refusal::Privilege) {
            return Err(unreadable(conn, "stack", None, e));
        }
        return Err(e.context("no table stack: this is not a Heat database"));
    }
    let recorded = schema_version(conn)?;
    let version = match &recorded {
        Recorded::Alembic(r) => SchemaVersion::Alembic(r),
        Recorded::Migrate(v) => SchemaVersion::Migrate(*v),
        Recorded::Several(revisions) => {
            return Err(anyhow!(
                "Heat's database is at several alembic revisions at once ({}), which \
                 heat-converge does not know (it knows: {}); nothing was written",
                revisions.join(", "),
                known_list()
            ));
        }
        Recorded::Nothing => {
            return Err(anyhow!(
                "Heat's database records no schema version (no alembic_version, no \
                 migrate_version for {MIGRATE_REPOSITORY}), so heat-converge cannot tell \
                 which Heat made it (it knows: {}); nothing was written",
                known_list()
            ));
        }
    };
    if !KNOWN_SCHEMAS.iter().any(|k| k.version == version) {
        return Err(anyhow!(
            "Heat's database is at {version}, which heat-converge does not know (it \
             knows: {}); nothing was written",
            known_list()
        ));
    }
    check_columns(conn)
}

/// Fails, naming the first missing table or column, unless the database holds every
/// table and column of [`HEAT_COLUMNS`].
fn check_columns(conn: &mut dyn Connection) -> Result<()> {
    for (table, columns) in HEAT_COLUMNS {
        let all = format!("SELECT {} FROM {table} WHERE 1=0", columns.join(", "));
        if conn.query(&all, &[]).is_ok() {
            continue;
        }
        // Something is missing: find out what, for the message.
        if let Err(e) = conn.query(&format!("SELECT 1 FROM {table} WHERE 1=0"), &[]) {
            if refusal(&e) == Some(Refusal::Privilege) {
                return Err(unreadable(conn, table, None, e));
            }
            return Err(e.context(format!("no table {table}: this is not a Heat database")));
        }
        for column in *columns {
            if let Err(e) = conn.query(&format!("SELECT {column} FROM {table} WHERE 1=0"), &[]) {
                if refusal(&e) == Some(Refusal::Privilege) {
                    return Err(unreadable(conn, table, Some(column), e));
                }
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
    use super::{SchemaVersion, HEAT_COLUMNS, HEAT_VERSION_TABLES, KNOWN_SCHEMAS};

    /// Heat's tables our SQL may name: the ones checked, and the version tables.
    fn heat_tables() -> impl Iterator<Item = &'static (&'static str, &'static [&'static str])> {
        HEAT_COLUMNS.iter().chain(HEAT_VERSION_TABLES)
    }

    /// Each version once, each release once, releases in order: the table reads as the
    /// history it is.
    #[test]
    fn known_schemas_are_distinct_and_in_release_order() {
        let versions: Vec<SchemaVersion> = KNOWN_SCHEMAS.iter().map(|k| k.version).collect();
        for (i, v) in versions.iter().enumerate() {
            assert!(!versions[..i].contains(v), "{v} listed twice");
        }
        let releases: Vec<Vec<u32>> = KNOWN_SCHEMAS
            .iter()
            .flat_map(|k| k.releases)
            .map(|r| r.split('.').map(|n| n.parse().unwrap()).collect())
            .collect();
        assert!(releases.windows(2).all(|w| w[0] < w[1]), "{releases:?}");
        assert!(KNOWN_SCHEMAS.iter().all(|k| !k.releases.is_empty()));
    }

    #[test]
    fn a_known_schema_names_its_version_series_and_majors() {
        let k = KNOWN_SCHEMAS
            .iter()
            .find(|k| k.version == SchemaVersion::Alembic("97b2a986f922"))
            .unwrap();
        assert_eq!(
            k.to_string(),
            "97b2a986f922 = Heat 2026.1 and 2026.2 (26.x, 27.x)"
        );
        assert_eq!(
            SchemaVersion::Migrate(86).to_string(),
            "sqlalchemy-migrate version 86"
        );
    }

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
            let code = crate::db::named::without_placeholders(&code);
            let words: Vec<&str> = code
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .filter(|w| !w.is_empty())
                .collect();
            // Lower-case words are names: every one in SQL on Heat's tables must be a
            // checked table or column ({each: ...} and {cases: ...} mark what is repeated per
            // row, see `db::named`), but
            // for the names a query gives its columns (`... AS name`).
            let mut aliases: Vec<&str> = words
                .windows(2)
                .filter(|p| p[0] == "AS")
                .map(|p| p[1])
                .collect();
            // ... and for a list of values a statement names: `WITH v (id, traversal) AS`.
            if let Some(at) = words.iter().position(|w| *w == "WITH") {
                aliases.extend(words[at + 1..].iter().take_while(|w| **w != "AS"));
            }
            // A server's own catalogs (who holds a lock) and what it says of itself (which
            // database it is: `db::identity`) name no Heat column.
            let catalog = [
                "pg_stat_activity",
                "information_schema",
                "@@",
                "pg_control_system",
                "pg_postmaster_start_time",
                // Which tables have planner statistics; a Galera node's limits.
                "pg_stats",
                "SHOW GLOBAL VARIABLES",
            ]
            .iter()
            .any(|c| code.contains(c));
            if !code.contains("heat_converge_") && !catalog {
                for w in words.iter().filter(|w| {
                    w.chars().all(|c| c.is_lowercase() || c == '_') && !aliases.contains(w)
                }) {
                    assert!(
                        ["ids", "case", "rows", "each", "cases"].contains(w)
                            || heat_tables().any(|(t, cols)| t == w || cols.contains(w)),
                        "{}: {w} is neither a table nor a column of HEAT_COLUMNS",
                        path.display()
                    );
                }
            }
            for pair in words.windows(2).filter(|_| !catalog) {
                if !["FROM", "INTO", "UPDATE", "JOIN"].contains(&pair[0]) {
                    continue;
                }
                let table = pair[1];
                if table.starts_with("heat_converge_")
                    || table == "SELECT"
                    || aliases.contains(&table)
                {
                    continue;
                }
                seen += 1;
                assert!(
                    heat_tables().any(|(t, _)| *t == table),
                    "{}: table {table} is not in HEAT_COLUMNS",
                    path.display()
                );
            }
        }
        assert!(seen > 10, "the sql/ scan found only {seen} table names");
    }
}
