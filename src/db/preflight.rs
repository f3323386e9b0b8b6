//! Before a `migrate` writes anything: can this database user do everything a run does?
//!
//! Why: a user without one privilege a run needs (DELETE on `resource`, say) had every
//! tree "refused by the database", exit 3 and the advice to let busy stacks finish; a
//! pipeline that accepts 3 carried on with nothing converted. So a real run asks the
//! server first, once, after the check that this is Heat's database and before the run
//! lock, our migrations or anything else: whatever is missing is one error (exit 1) naming
//! each privilege, its table and the user, and nothing is written (no table of ours, no
//! index, no run lock file).
//!
//! The server is asked, never second-guessed from grant tables: it decides with its own
//! rules (roles, wildcard and column grants, read-only modes).
//! - **Statements on tables**: SELECT on every column of Heat's tables and ours that the
//!   tool reads ([`heat_schema::HEAT_COLUMNS`], [`own_schema::OWN_COLUMNS`]) and every
//!   write of a run ([`WRITES`]) are tried in a transaction that is rolled back, in a form
//!   that touches no row (`UPDATE t SET c = NULL WHERE 1=0`, `INSERT INTO t (c) SELECT
//!   NULL ... WHERE 1=0`). A server checks privileges before it looks at rows, so its
//!   refusal is the real statement's. A table of ours not made yet answers "no such table"
//!   once the check passed (MySQL/MariaDB answer "denied" first; on PostgreSQL its creator
//!   will own it): not missing.
//! - **DDL**, only what this run will do to the database as it is now ([`ddl_plan`]):
//!   the migrations not yet recorded (CREATE and ALTER of the tables their files name, and
//!   refinery's history table), what a cut-off first run left (DROP, ALTER), the
//!   temporary indexes missing or left by a killed run (INDEX). A run that finds all of
//!   ours in place needs none of it (refinery is then not run at all:
//!   [`super::history::set_up`]). Each driver answers ([`Privileges::ddl_missing`]):
//!   MySQL/MariaDB cannot roll DDL back, so each statement is tried in a form the server
//!   refuses after its privilege check, changing nothing (`CREATE TABLE t (p INT, p
//!   INT)`: a duplicate column; `DROP VIEW t` on a table; an index on a column that does
//!   not exist); PostgreSQL is asked (`has_schema_privilege` for CREATE, the table's
//!   ownership for ALTER, DROP and CREATE INDEX); SQLite has no privileges.
//! - **The rest, per driver** ([`Privileges::backend_missing`]): the run lock (MySQL's
//!   `GET_LOCK` needs no privilege, but on a Galera cluster the lock is also a row of
//!   `heat_converge_lock`; PostgreSQL's advisory-lock functions can be revoked), the
//!   sequences behind PostgreSQL serial columns we insert into (an INSERT needs USAGE on
//!   them, which no row-less INSERT asks for), SQLite's file and its directory (the
//!   journal, the run lock file).
//!
//! **During a run** the same refusals can still come: a privilege revoked meanwhile, a
//! database switched to read-only, a full disk. They hit every tree alike, so a run stops
//! at the first one instead of refusing tree after tree: [`refusal`] tells them from a
//! tree's own failures (the drivers mark the server's codes with [`EveryTree`]; SQLite's
//! come as rusqlite's own codes).

use super::history::{self, SCHEMA_HISTORY_TABLE};
use super::{count, heat_schema, indexes, own_schema, Connection, Database, Param};
use anyhow::{anyhow, bail, Context, Result};
use std::collections::BTreeMap;
use std::fmt;

pub use super::refusal::{
    mysql_refusal, postgres_refusal, refusal, said, unreadable, EveryTree, Refusal,
};

/// What a statement needs of the database user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Privilege {
    Select,
    Insert,
    Update,
    Delete,
    Create,
    Alter,
    Drop,
    Index,
}

use Privilege as P;

impl fmt::Display for Privilege {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Privilege::Select => "SELECT",
            Privilege::Insert => "INSERT",
            Privilege::Update => "UPDATE",
            Privilege::Delete => "DELETE",
            Privilege::Create => "CREATE",
            Privilege::Alter => "ALTER",
            Privilege::Drop => "DROP",
            Privilege::Index => "INDEX",
        })
    }
}

/// A statement a run sends to a table: its privilege, the columns it names (none: the
/// whole row), and why.
#[derive(Clone, Debug)]
pub struct Need {
    pub privilege: Privilege,
    pub table: &'static str,
    pub columns: &'static [&'static str],
    pub why: &'static str,
}

const fn need(
    privilege: Privilege,
    table: &'static str,
    columns: &'static [&'static str],
    why: &'static str,
) -> Need {
    Need {
        privilege,
        table,
        columns,
        why,
    }
}

/// Every write of a run (`sql/`, `db::history`), by table and privilege; a test checks
/// that each INSERT, UPDATE and DELETE of `sql/` is here.
pub const WRITES: &[Need] = &[
    need(
        P::Insert,
        "stack_lock",
        &["stack_id", "engine_id"],
        "a conversion takes Heat's stack lock on every stack of its trees",
    ),
    need(
        P::Delete,
        "stack_lock",
        &[],
        "a conversion releases its stack locks, and takes over those whose engine is gone",
    ),
    need(
        P::Update,
        "stack",
        &["convergence", "current_traversal", "prev_raw_template_id"],
        "a conversion puts each stack on convergence, with a new traversal and no previous template",
    ),
    need(
        P::Update,
        "resource",
        &["current_template_id", "requires", "needed_by"],
        "a conversion writes each resource's template and dependencies",
    ),
    need(
        P::Delete,
        "resource",
        &[],
        "a conversion deletes the resource rows no template defines",
    ),
    need(
        P::Delete,
        "resource_data",
        &[],
        "a conversion deletes the data of the resource rows it deletes",
    ),
    need(
        P::Delete,
        "resource_properties_data",
        &[],
        "a conversion deletes the attribute data of the resource rows it deletes",
    ),
    need(
        P::Delete,
        "raw_template",
        &[],
        "a conversion deletes each stack's previous template",
    ),
    need(
        P::Delete,
        "raw_template_files",
        &[],
        "a conversion deletes a previous template's files when no other template uses them",
    ),
    need(
        P::Insert,
        "heat_converge_run",
        &["id", "started_at", "tool_version", "host", "options"],
        "each run records itself",
    ),
    need(
        P::Update,
        "heat_converge_run",
        &[
            "ended_at",
            "stacks_converted",
            "trees_converted",
            "trees_skipped",
            "trees_remaining",
            "stopped",
        ],
        "each run records its end",
    ),
    need(
        P::Insert,
        "heat_converge_stack",
        &[
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
        "each stack converted or left alone is recorded",
    ),
    need(
        P::Insert,
        "heat_converge_deleted",
        &[
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
        "every row a conversion deletes is recorded",
    ),
];

/// refinery's record of a migration it applies (only when one is to be applied).
const HISTORY_INSERT: Need = need(
    P::Insert,
    SCHEMA_HISTORY_TABLE,
    &["version", "name", "applied_on", "checksum"],
    "refinery records each migration it applies",
);

/// On a Galera cluster the run lock is also a row of `heat_converge_lock`
/// (`mysql/cluster_lock.rs`), on a connection of its own with the same user.
const GALERA_LOCK: &str = "heat_converge_lock";
const GALERA_LOCK_NEEDS: &[Need] = &[
    need(
        P::Select,
        GALERA_LOCK,
        &["name", "holder", "host", "pid", "heartbeat_at"],
        "on a Galera cluster the run lock is a row of it",
    ),
    need(
        P::Insert,
        GALERA_LOCK,
        &["name", "holder", "host", "pid", "taken_at", "heartbeat_at"],
        "on a Galera cluster the run lock is a row of it",
    ),
    need(
        P::Update,
        GALERA_LOCK,
        &["holder", "host", "pid", "taken_at", "heartbeat_at"],
        "on a Galera cluster the run lock's row carries a heartbeat",
    ),
    need(
        P::Delete,
        GALERA_LOCK,
        &[],
        "on a Galera cluster the run lock's row is deleted at the run's end",
    ),
];

/// SELECT on every column the tool reads, of Heat's tables and of ours.
fn selects() -> Vec<Need> {
    heat_schema::HEAT_COLUMNS
        .iter()
        .map(|(t, c)| need(P::Select, t, c, "a run reads it"))
        .chain(
            own_schema::OWN_COLUMNS
                .iter()
                .map(|(t, c)| need(P::Select, t, c, "heat-converge reads its own records")),
        )
        .collect()
}

/// DDL a run will do: a privilege on a table (or, for CREATE, a table to be made).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ddl {
    pub privilege: Privilege,
    pub table: String,
    pub why: String,
}

/// What a session lacks, in the operator's words.
#[derive(Clone, Debug)]
pub struct Missing {
    /// "DELETE on table resource", "ownership of table resource (owned by heat)".
    pub what: String,
    /// Why a run needs it.
    pub why: String,
    /// What the server (or the file system) said, when it said something.
    pub said: Option<String>,
    pub kind: Refusal,
}

/// What preflight asks each driver.
pub trait Privileges {
    /// The user as the server knows this session, for messages (`heat@%`, `heat`; for
    /// SQLite, the operating system's user).
    fn session_user(&mut self) -> Result<String>;
    /// heat-converge's own migrations for this backend, as refinery embeds them.
    fn embedded_migrations(&self) -> Vec<refinery::Migration>;
    /// Whether `table` has an index named `name`.
    fn index_exists(&mut self, table: &str, name: &str) -> Result<bool>;
    /// Each statement of `ddl` this session may not run. Writes nothing.
    fn ddl_missing(&mut self, ddl: &[Ddl]) -> Result<Vec<Missing>>;
    /// What else this backend needs that the session lacks (the run lock's needs, the
    /// file, sequences). Writes nothing.
    fn backend_missing(&mut self) -> Result<Vec<Missing>>;
}

/// Fails, naming everything missing and the user, unless this session can do all that a
/// run does to this database as it is now. Writes nothing: every statement it tries is
/// rolled back, or refused by construction.
pub fn check(db: &mut dyn Database) -> Result<()> {
    let plan = ddl_plan(db).context("preflight: working out what the run will do")?;
    let mut needs = selects();
    needs.extend(WRITES.iter().cloned());
    if !plan.pending.is_empty() {
        needs.push(HISTORY_INSERT);
    }
    let mut missing = try_statements(db.conn(), &needs)?;
    missing.extend(db.ddl_missing(&plan.ddl)?);
    missing.extend(db.backend_missing()?);
    if missing.is_empty() {
        tracing::info!(
            statements = needs.len(),
            ddl = plan.ddl.len(),
            "preflight: the database user can do everything this run does"
        );
        return Ok(());
    }
    let user = db
        .session_user()
        .unwrap_or_else(|e| format!("(which the server would not say: {e:#})"));
    Err(anyhow!(describe(&user, &missing)))
}

/// The error of a preflight that found `missing`: one line per thing missing.
fn describe(user: &str, missing: &[Missing]) -> String {
    let mut lines = Vec::new();
    // A read-only or failing database refuses every write: said once, not per statement.
    for kind in [Refusal::ReadOnly, Refusal::Storage] {
        let of_kind: Vec<&Missing> = missing.iter().filter(|m| m.kind == kind).collect();
        if let Some(first) = of_kind.first() {
            lines.push(format!(
                "{}: {} of the run's statements refused, e.g. {} ({}): {}",
                kind.words(),
                of_kind.len(),
                first.what,
                first.why,
                first.said.as_deref().map_or("no detail", said)
            ));
        }
    }
    for m in missing.iter().filter(|m| m.kind == Refusal::Privilege) {
        lines.push(match &m.said {
            Some(s) => format!("{}: {} ({})", m.what, m.why, said(s)),
            None => format!("{}: {}", m.what, m.why),
        });
    }
    format!(
        "preflight: the database user {user} cannot do everything a run does, so nothing \
         was written. Missing:\n  - {}\nGrant what is missing (or run heat-converge as the \
         database user of Heat's own [database] connection) and run again",
        lines.join("\n  - ")
    )
}

/// Tries each statement of `needs` (a SELECT as it is, a write in a transaction rolled
/// back), in a form that reads and changes no row; the refused ones.
pub fn try_statements(conn: &mut dyn Connection, needs: &[Need]) -> Result<Vec<Missing>> {
    let mut missing = Vec::new();
    for n in needs {
        let sql = probe(n);
        let tried = if n.privilege == P::Select {
            conn.query(&sql, &[]).map(|_| ())
        } else {
            rolled_back(conn, &sql)?
        };
        let Err(e) = tried else {
            continue;
        };
        match refusal(&e) {
            Some(kind) => missing.push(Missing {
                what: match n.columns {
                    [] => format!("{} on table {}", n.privilege, n.table),
                    // Named only when the statement names them (a column grant is enough).
                    cols if n.privilege != P::Select => {
                        format!("{} ({}) on table {}", n.privilege, cols.join(", "), n.table)
                    }
                    _ => format!("{} on table {}", n.privilege, n.table),
                },
                why: n.why.to_string(),
                said: Some(format!("{e:#}")),
                kind,
            }),
            // A table or column of ours not made yet: the privilege check passed (or the
            // creator will own it); anything else is the real run's to meet.
            None => tracing::debug!("preflight: {} on {}: {e:#}", n.privilege, n.table),
        }
    }
    Ok(missing)
}

/// The statement that asks for `n`'s privilege without reading or changing a row.
fn probe(n: &Need) -> String {
    let (t, cols) = (n.table, n.columns);
    match n.privilege {
        P::Insert => format!(
            "INSERT INTO {t} ({}) SELECT {} FROM (SELECT 1 AS heat_converge_probe) \
             AS heat_converge_probe WHERE 1=0",
            cols.join(", "),
            vec!["NULL"; cols.len()].join(", ")
        ),
        P::Update => format!(
            "UPDATE {t} SET {} WHERE 1=0",
            cols.iter()
                .map(|c| format!("{c} = NULL"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        P::Delete => format!("DELETE FROM {t} WHERE 1=0"),
        // SELECT (and DDL, which is asked by the drivers, never through here).
        _ if cols.is_empty() => format!("SELECT 1 FROM {t} WHERE 1=0"),
        _ => format!("SELECT {} FROM {t} WHERE 1=0", cols.join(", ")),
    }
}

/// Runs `sql` in a transaction and rolls it back; the statement's own result.
fn rolled_back(conn: &mut dyn Connection, sql: &str) -> Result<Result<()>> {
    if let Err(e) = conn.begin() {
        // SQLite may refuse the transaction itself on a read-only file.
        return match refusal(&e) {
            Some(_) => Ok(Err(e)),
            None => Err(e.context("preflight: cannot start a transaction")),
        };
    }
    let tried = conn.execute(sql, &[]).map(|_| ());
    conn.rollback()
        .context("preflight: cannot roll back the statement it tried")?;
    Ok(tried)
}

/// What this run will do to the schema: the migrations to apply, and the DDL.
#[derive(Clone, Debug, Default)]
pub struct DdlPlan {
    /// The migrations not recorded as applied (`V2__heat_converge_utf8mb4`, ...).
    pub pending: Vec<String>,
    pub ddl: Vec<Ddl>,
}

/// The DDL a run will do on this database as it is now; reads only.
pub fn ddl_plan(db: &mut dyn Database) -> Result<DdlPlan> {
    let recorded = history::recorded_versions(db.conn());
    let mut plan = DdlPlan::default();
    let mut ddl: Vec<Ddl> = Vec::new();
    let mut add = |privilege, table: &str, why: String| {
        ddl.push(Ddl {
            privilege,
            table: table.to_string(),
            why,
        })
    };
    for m in db.embedded_migrations() {
        if recorded.contains_key(&i64::from(m.version())) {
            continue;
        }
        let name = format!("V{}__{}", m.version(), m.name());
        if plan.pending.is_empty() {
            add(
                P::Create,
                SCHEMA_HISTORY_TABLE,
                "refinery makes its history table (CREATE TABLE IF NOT EXISTS) before it applies a migration".into(),
            );
        }
        for (privilege, table) in ddl_of(m.sql().unwrap_or_default()) {
            let does = if privilege == P::Create {
                "creates"
            } else {
                "alters"
            };
            add(privilege, &table, format!("migration {name} {does} it"));
        }
        plan.pending.push(name);
    }
    // What a first run cut off on MySQL/MariaDB left (see history::recover_interrupted_setup).
    if !recorded.contains_key(&1) {
        for table in history::V1_TABLES {
            if there(db.conn(), &format!("SELECT 1 FROM {table} WHERE 1=0")) {
                add(
                    P::Drop,
                    table,
                    "a first run cut off inside migration V1 left it: the run drops it and sets up again".into(),
                );
            }
        }
    } else {
        for (version, table, column) in history::ADDED_COLUMNS {
            if !recorded.contains_key(version)
                && there(
                    db.conn(),
                    &format!("SELECT {column} FROM {table} WHERE 1=0"),
                )
            {
                add(
                    P::Alter,
                    table,
                    format!("a migration V{version} cut off left the column {column}: the run drops it and applies V{version} again"),
                );
            }
        }
    }
    // Ours a killed run left (also of columns an older build indexed) are dropped; the
    // missing ones are created.
    let retired = indexes::RETIRED_COLUMNS.iter().map(|c| (c, false));
    for ((table, column), ours_now) in
        retired.chain(indexes::LOOKUP_COLUMNS.iter().map(|c| (c, true)))
    {
        let name = indexes::name(table, column);
        if db.index_exists(table, &name)? {
            add(
                P::Index,
                table,
                format!("a killed run left the temporary index {name}: the run drops it"),
            );
        } else if ours_now && !db.indexed(table, column)? {
            add(
                P::Index,
                table,
                format!("the run creates the temporary index {name} on {table} ({column}) and drops it at its end"),
            );
        }
    }
    // One entry per privilege and table, its reasons together.
    let mut merged: BTreeMap<(Privilege, String), Vec<String>> = BTreeMap::new();
    for d in ddl {
        merged
            .entry((d.privilege, d.table))
            .or_default()
            .push(d.why);
    }
    plan.ddl = merged
        .into_iter()
        .map(|((privilege, table), whys)| Ddl {
            privilege,
            table,
            why: whys.join("; "),
        })
        .collect();
    Ok(plan)
}

/// Whether a statement runs (a table or column there, and readable).
fn there(conn: &mut dyn Connection, sql: &str) -> bool {
    conn.query(sql, &[]).is_ok()
}

/// The tables a migration file creates and alters, as its statements name them (a
/// statement built in a string, as MySQL's V5 does, counts too).
fn ddl_of(sql: &str) -> Vec<(Privilege, String)> {
    let code = super::statements::split(sql).join(";\n");
    let words: Vec<&str> = code
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = Vec::new();
    for (i, pair) in words.windows(2).enumerate() {
        let privilege = match (pair[0].to_ascii_uppercase().as_str(), pair[1]) {
            ("CREATE", t) if t.eq_ignore_ascii_case("TABLE") => P::Create,
            ("ALTER", t) if t.eq_ignore_ascii_case("TABLE") => P::Alter,
            _ => continue,
        };
        // CREATE TABLE [IF NOT EXISTS] name
        let rest = &words[i + 2..];
        let name = match rest {
            [a, b, c, name, ..]
                if a.eq_ignore_ascii_case("IF")
                    && b.eq_ignore_ascii_case("NOT")
                    && c.eq_ignore_ascii_case("EXISTS") =>
            {
                name
            }
            [name, ..] => name,
            [] => continue,
        };
        out.push((privilege, name.to_string()));
    }
    out
}

/// A user as MySQL prints one (`'heat'@'%'`), from `CURRENT_USER()`'s `heat@%`.
fn quoted_user(user: &str) -> String {
    match user.rsplit_once('@') {
        Some((name, host)) => format!("'{name}'@'{host}'"),
        None => user.to_string(),
    }
}

/// A column name no table has, for probes that must fail after the privilege check.
const PROBE: &str = "heat_converge_probe";

/// The one text value of a query's first row.
fn one_text(conn: &mut dyn Connection, sql: &str, column: &str) -> Result<Option<String>> {
    let rows = conn.query(sql, &[])?;
    match rows.first() {
        Some(r) => r.text(column),
        None => Ok(None),
    }
}

impl Privileges for super::mysql::MySql {
    fn session_user(&mut self) -> Result<String> {
        let user =
            quoted_user(&one_text(self, "SELECT CURRENT_USER() AS u", "u")?.unwrap_or_default());
        // MariaDB and MySQL 8 name the role in use (MySQL 5.7 has none: no such function).
        let role = one_text(self, "SELECT CURRENT_ROLE() AS r", "r")
            .ok()
            .flatten()
            .filter(|r| r != "NONE");
        Ok(match role {
            Some(r) => format!("{user} (role {r})"),
            None => user,
        })
    }

    fn embedded_migrations(&self) -> Vec<refinery::Migration> {
        history::mysql_migrations::migrations::runner()
            .get_migrations()
            .to_vec()
    }

    fn index_exists(&mut self, table: &str, name: &str) -> Result<bool> {
        let sql = "SELECT COUNT(*) AS n FROM information_schema.statistics \
                   WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ?";
        Ok(count(
            self,
            sql,
            &[Param::Text(table.into()), Param::Text(name.into())],
        )? > 0)
    }

    /// DDL commits by itself here: each statement is tried in a form the server refuses
    /// after its privilege check (MariaDB 10.11 answered, with and without the privilege:
    /// 1142, or 1060 duplicate column / 1146 no such table for CREATE and ALTER, 4092
    /// unknown view for DROP VIEW on a table, 1072 no such key column for CREATE INDEX).
    fn ddl_missing(&mut self, ddl: &[Ddl]) -> Result<Vec<Missing>> {
        let mut missing = Vec::new();
        for d in ddl {
            let t = &d.table;
            let sql = match d.privilege {
                P::Create => format!("CREATE TABLE {t} ({PROBE} INT, {PROBE} INT)"),
                P::Alter => {
                    format!("ALTER TABLE {t} ADD COLUMN {PROBE} INT, ADD COLUMN {PROBE} INT")
                }
                // DROP VIEW on a view would drop it: asked only of a base table.
                P::Drop if self.base_table(t)? => format!("DROP VIEW {t}"),
                P::Index => format!("CREATE INDEX {PROBE} ON {t} ({PROBE}_no_such_column)"),
                _ => continue,
            };
            match self.execute(&sql, &[]) {
                Ok(_) => bail!(
                    "preflight: the server ran a statement built to fail ({}) on {t}; \
                     stopped before anything else",
                    d.privilege
                ),
                Err(e) => {
                    if let Some(kind) = refusal(&e) {
                        missing.push(Missing {
                            what: format!("{} on table {t}", d.privilege),
                            why: d.why.clone(),
                            said: Some(format!("{e:#}")),
                            kind,
                        });
                    }
                }
            }
        }
        Ok(missing)
    }

    /// On a Galera cluster, the run lock's table: its statements, and CREATE when the
    /// first run is yet to make it. `GET_LOCK` needs no privilege.
    fn backend_missing(&mut self) -> Result<Vec<Missing>> {
        let galera = self
            .query("SHOW VARIABLES LIKE 'wsrep_on'", &[])
            .context("preflight: asking whether the server is a Galera node")?
            .first()
            .and_then(|r| r.text("Value").ok().flatten())
            .is_some_and(|v| v.eq_ignore_ascii_case("ON"));
        if !galera {
            return Ok(Vec::new());
        }
        let mut missing = try_statements(self, GALERA_LOCK_NEEDS)?;
        if !there(self, &format!("SELECT 1 FROM {GALERA_LOCK} WHERE 1=0")) {
            let create = Ddl {
                privilege: P::Create,
                table: GALERA_LOCK.into(),
                why: "on a Galera cluster the first run makes the run lock's table".into(),
            };
            missing.extend(self.ddl_missing(&[create])?);
        }
        Ok(missing)
    }
}

impl super::mysql::MySql {
    /// Whether `table` is a base table of this database (not a view, not missing).
    fn base_table(&mut self, table: &str) -> Result<bool> {
        let sql = "SELECT COUNT(*) AS n FROM information_schema.tables \
                   WHERE table_schema = DATABASE() AND table_name = ? \
                   AND table_type = 'BASE TABLE'";
        Ok(count(self, sql, &[Param::Text(table.into())])? > 0)
    }
}

impl Privileges for super::postgres::Postgres {
    fn session_user(&mut self) -> Result<String> {
        Ok(one_text(self, "SELECT current_user::text AS u", "u")?.unwrap_or_default())
    }

    fn embedded_migrations(&self) -> Vec<refinery::Migration> {
        history::postgres_migrations::migrations::runner()
            .get_migrations()
            .to_vec()
    }

    fn index_exists(&mut self, _table: &str, name: &str) -> Result<bool> {
        let sql = "SELECT COUNT(*) AS n FROM pg_class c WHERE c.relname = ? AND c.relkind = 'i' \
                   AND c.relnamespace = to_regnamespace(current_schema())::oid";
        Ok(count(self, sql, &[Param::Text(name.into())])? > 0)
    }

    /// CREATE TABLE needs CREATE on the schema; ALTER TABLE, DROP TABLE, CREATE and DROP
    /// INDEX need the table's ownership (being its owner or a member of the owning role).
    /// A table not made yet will be this user's own.
    fn ddl_missing(&mut self, ddl: &[Ddl]) -> Result<Vec<Missing>> {
        let mut missing = Vec::new();
        let creates: Vec<String> = ddl
            .iter()
            .filter(|d| d.privilege == P::Create)
            .map(|d| format!("{}: {}", d.table, d.why))
            .collect();
        if !creates.is_empty() {
            let sql = "SELECT current_schema()::text AS s, \
                       has_schema_privilege(current_schema(), 'CREATE') AS ok";
            let rows = self.query(sql, &[])?;
            let row = rows
                .first()
                .ok_or_else(|| anyhow!("preflight: has_schema_privilege returned no row"))?;
            if !row.flag("ok")? {
                missing.push(Missing {
                    what: format!("CREATE on schema {}", row.text("s")?.unwrap_or_default()),
                    why: format!(
                        "heat-converge creates its tables there ({})",
                        creates.join("; ")
                    ),
                    said: Some("has_schema_privilege(current_schema(), 'CREATE') is false".into()),
                    kind: Refusal::Privilege,
                });
            }
        }
        let mut by_table: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for d in ddl.iter().filter(|d| d.privilege != P::Create) {
            by_table
                .entry(&d.table)
                .or_default()
                .push(format!("{}: {}", d.privilege, d.why));
        }
        for (table, whys) in by_table {
            let sql = "SELECT pg_get_userbyid(c.relowner)::text AS owner, \
                       pg_has_role(c.relowner, 'USAGE') AS ok \
                       FROM pg_class c WHERE c.oid = to_regclass(?)";
            let rows = self.query(sql, &[Param::Text(table.into())])?;
            let Some(row) = rows.first() else {
                continue; // made by this run: its own
            };
            if !row.flag("ok")? {
                missing.push(Missing {
                    what: format!(
                        "ownership of table {table} (owned by {})",
                        row.text("owner")?.unwrap_or_default()
                    ),
                    why: format!(
                        "PostgreSQL lets only a table's owner (or a member of the owning \
                         role) alter it, drop it or create and drop an index on it; {}",
                        whys.join("; ")
                    ),
                    said: None,
                    kind: Refusal::Privilege,
                });
            }
        }
        Ok(missing)
    }

    /// The run lock's advisory-lock functions (EXECUTE can be revoked from PUBLIC) and the
    /// sequences behind serial columns of the tables a run inserts into.
    fn backend_missing(&mut self) -> Result<Vec<Missing>> {
        let mut missing = Vec::new();
        for function in ["pg_try_advisory_lock(bigint)", "pg_advisory_lock(bigint)"] {
            let sql = "SELECT has_function_privilege(?, 'EXECUTE') AS ok";
            let rows = self.query(sql, &[Param::Text(function.into())])?;
            if !rows
                .first()
                .map(|r| r.flag("ok"))
                .transpose()?
                .unwrap_or(false)
            {
                missing.push(Missing {
                    what: format!("EXECUTE on function {function}"),
                    why: "the run lock is a session advisory lock".into(),
                    said: None,
                    kind: Refusal::Privilege,
                });
            }
        }
        let mut tables: Vec<&str> = WRITES
            .iter()
            .filter(|n| n.privilege == P::Insert)
            .map(|n| n.table)
            .collect();
        tables.push(SCHEMA_HISTORY_TABLE);
        tables.dedup();
        for table in tables {
            let sql = "SELECT col, seq, has_sequence_privilege(seq, 'USAGE') AS ok FROM ( \
                       SELECT a.attname::text AS col, \
                       pg_get_serial_sequence(c.oid::regclass::text, a.attname::text) AS seq \
                       FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid \
                       WHERE c.oid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped \
                       ) serial WHERE seq IS NOT NULL";
            for row in self.query(sql, &[Param::Text(table.into())])? {
                if !row.flag("ok")? {
                    missing.push(Missing {
                        what: format!("USAGE on sequence {}", row.string("seq")?),
                        why: format!(
                            "an insert into {table} takes the next value of {} from it",
                            row.string("col")?
                        ),
                        said: None,
                        kind: Refusal::Privilege,
                    });
                }
            }
        }
        Ok(missing)
    }
}

impl Privileges for super::sqlite::Sqlite {
    /// SQLite has no users: the operating system's decides what the process may write.
    fn session_user(&mut self) -> Result<String> {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let uid = status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            .unwrap_or("?");
        Ok(format!(
            "with uid {uid} (SQLite's users are the operating system's: its file and \
             directory must be writable)"
        ))
    }

    fn embedded_migrations(&self) -> Vec<refinery::Migration> {
        history::sqlite_migrations::migrations::runner()
            .get_migrations()
            .to_vec()
    }

    fn index_exists(&mut self, table: &str, name: &str) -> Result<bool> {
        let sql = "SELECT COUNT(*) AS n FROM sqlite_master \
                   WHERE type = 'index' AND tbl_name = ? AND name = ?";
        Ok(count(
            self,
            sql,
            &[Param::Text(table.into()), Param::Text(name.into())],
        )? > 0)
    }

    /// No privileges: whoever may write the file may do any DDL (see `backend_missing`).
    fn ddl_missing(&mut self, _ddl: &[Ddl]) -> Result<Vec<Missing>> {
        Ok(Vec::new())
    }

    /// The database file must be writable, and its directory, where SQLite makes its
    /// journal for every transaction and the run lock has its file.
    fn backend_missing(&mut self) -> Result<Vec<Missing>> {
        let file = one_text(
            self,
            "SELECT file FROM pragma_database_list WHERE name = 'main'",
            "file",
        )?
        .filter(|f| !f.is_empty())
        .ok_or_else(|| anyhow!("preflight: this SQLite database has no file"))?;
        let file = std::path::PathBuf::from(file);
        let dir = file
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_else(|| ".".into());
        let lock = std::path::PathBuf::from(format!("{}.heat-converge-lock", file.display()));
        let mut missing = Vec::new();
        let mut refused = |what: String, why: &str, e: std::io::Error| {
            let kind = if e.kind() == std::io::ErrorKind::ReadOnlyFilesystem {
                Refusal::ReadOnly
            } else {
                Refusal::Privilege
            };
            missing.push(Missing {
                what,
                why: why.into(),
                said: Some(e.to_string()),
                kind,
            });
        };
        // Opened for writing and closed: nothing is written, nothing truncated.
        if let Err(e) = std::fs::OpenOptions::new().write(true).open(&file) {
            refused(
                format!("write access to the SQLite file {}", file.display()),
                "heat-converge converts in it and records its runs there",
                e,
            );
        }
        // The directory: a file of our own made and removed at once, as SQLite does with
        // its journal.
        let probe = dir.join(format!(
            "{}.heat-converge-preflight-{}",
            file.file_name().and_then(|n| n.to_str()).unwrap_or("db"),
            std::process::id()
        ));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&probe)
        {
            Ok(_) => std::fs::remove_file(&probe)
                .with_context(|| format!("preflight: removing {}", probe.display()))?,
            Err(e) => refused(
                format!("write access to the directory {}", dir.display()),
                "SQLite makes its journal there for every transaction, and heat-converge \
                 its run lock file",
                e,
            ),
        }
        if lock.exists() {
            if let Err(e) = std::fs::OpenOptions::new().write(true).open(&lock) {
                refused(
                    format!("write access to the run lock file {}", lock.display()),
                    "heat-converge locks it for the length of the run",
                    e,
                );
            }
        }
        Ok(missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_files_name_the_tables_they_create_and_alter() {
        let m = history::mysql_migrations::migrations::runner();
        let by_version: BTreeMap<i32, Vec<(Privilege, String)>> = m
            .get_migrations()
            .iter()
            .map(|m| (m.version(), ddl_of(m.sql().unwrap_or_default())))
            .collect();
        let named = |v: i32| -> Vec<String> {
            by_version[&v]
                .iter()
                .map(|(p, t)| format!("{p} {t}"))
                .collect()
        };
        assert_eq!(
            named(1),
            ["CREATE heat_converge_run", "CREATE heat_converge_stack"]
        );
        assert_eq!(
            named(2),
            [
                "ALTER heat_converge_run",
                "ALTER heat_converge_stack",
                "ALTER heat_converge_schema_history"
            ]
        );
        assert_eq!(named(3), ["ALTER heat_converge_run"]);
        assert_eq!(
            named(4),
            ["ALTER heat_converge_stack", "CREATE heat_converge_deleted"]
        );
        // The ALTER V5 builds in a string counts too.
        assert_eq!(
            named(5),
            [
                "CREATE heat_converge_deleted",
                "ALTER heat_converge_deleted"
            ]
        );
        assert_eq!(named(6), ["ALTER heat_converge_stack"]);
    }

    #[test]
    fn probes_read_and_change_no_row() {
        let insert = probe(&WRITES[0]);
        assert_eq!(
            insert,
            "INSERT INTO stack_lock (stack_id, engine_id) SELECT NULL, NULL FROM \
             (SELECT 1 AS heat_converge_probe) AS heat_converge_probe WHERE 1=0"
        );
        assert_eq!(
            probe(&WRITES[2]),
            "UPDATE stack SET convergence = NULL, current_traversal = NULL, \
             prev_raw_template_id = NULL WHERE 1=0"
        );
        assert_eq!(probe(&WRITES[1]), "DELETE FROM stack_lock WHERE 1=0");
        for n in WRITES.iter().chain(&selects()) {
            assert!(probe(n).ends_with("WHERE 1=0"), "{}", probe(n));
        }
    }

    /// Every INSERT, UPDATE and DELETE of `sql/` is asked for, with every column it
    /// writes: a statement added without its need is caught here.
    #[test]
    fn every_write_of_our_sql_is_asked_for() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sql");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let code: Vec<&str> = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect();
            let code = code.join(" ");
            let words: Vec<&str> = code
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .filter(|w| !w.is_empty())
                .collect();
            let (privilege, table, columns): (Privilege, &str, Vec<&str>) = match words[..] {
                ["INSERT", "INTO", table, ref rest @ ..] => {
                    let cols = rest
                        .iter()
                        .take_while(|w| **w != "VALUES")
                        .copied()
                        .collect();
                    (P::Insert, table, cols)
                }
                ["UPDATE", table, "SET", ..] => (P::Update, table, assigned(&code)),
                ["DELETE", "FROM", table, ..] => (P::Delete, table, Vec::new()),
                _ => continue,
            };
            seen += 1;
            let need = WRITES
                .iter()
                .find(|n| n.privilege == privilege && n.table == table)
                .unwrap_or_else(|| {
                    panic!(
                        "{}: {privilege} on {table} is not in WRITES",
                        path.display()
                    )
                });
            for c in columns {
                assert!(
                    need.columns.contains(&c),
                    "{}: {privilege} on {table} writes {c}, not in WRITES",
                    path.display()
                );
            }
        }
        assert!(seen >= 14, "the sql/ scan found only {seen} writes");
    }

    /// The columns an `UPDATE ... SET a = x, b = (SELECT ... WHERE ...) WHERE ...` assigns.
    fn assigned(code: &str) -> Vec<&str> {
        let set = code.split_once(" SET ").map_or("", |(_, s)| s);
        let (mut depth, mut start, mut out) = (0, 0, Vec::new());
        let mut end = set.len();
        for (i, c) in set.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                ',' if depth == 0 => {
                    out.push(&set[start..i]);
                    start = i + 1;
                }
                'W' if depth == 0 && set[i..].starts_with("WHERE ") => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        out.push(&set[start..end]);
        out.iter()
            .filter_map(|a| a.split('=').next())
            .map(str::trim)
            .collect()
    }

    #[test]
    fn server_codes_are_told_apart() {
        assert_eq!(mysql_refusal(1142), Some(Refusal::Privilege));
        assert_eq!(mysql_refusal(1290), Some(Refusal::ReadOnly));
        assert_eq!(mysql_refusal(1213), None);
        assert_eq!(mysql_refusal(1644), None); // a trigger's SIGNAL: one tree's
        assert_eq!(postgres_refusal("42501"), Some(Refusal::Privilege));
        assert_eq!(postgres_refusal("25006"), Some(Refusal::ReadOnly));
        assert_eq!(postgres_refusal("P0001"), None);
        let every = anyhow::Error::new(EveryTree {
            kind: Refusal::Privilege,
            text: "denied".into(),
        })
        .context("rolled back");
        assert_eq!(refusal(&every), Some(Refusal::Privilege));
        assert_eq!(refusal(&anyhow!("a trigger said no")), None);
    }
}
