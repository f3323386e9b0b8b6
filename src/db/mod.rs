//! Heat's database, whichever server holds it.
//!
//! Every backend is reached through one small trait, [`Connection`]: run a statement,
//! read rows as JSON values, open and end a transaction. One short file per driver
//! implements it; everything above ([`read`]) is written once and never knows which
//! database it talks to. The SQL lives in `sql/`, written once with `?` placeholders.
//! What needs more than plain statements has one small trait per capability, one
//! implementation per driver: [`history::Migrations`] (refinery), [`RunLock`] (one
//! heat-converge run at a time on a database), [`preflight::Privileges`] (what the
//! database user may do, asked before a run writes) and [`identity::Identify`] (which
//! database this is, for a plan file).

pub mod heat_schema;
pub mod history;
pub mod identity;
pub mod indexes;
mod mysql;
pub mod named;
pub mod option_file;
pub mod own_schema;
pub mod past_runs;
mod postgres;
pub mod preflight;
pub mod read;
pub mod refusal;
mod sqlite;
pub mod statements;
mod tls;
pub mod url;

use anyhow::Result;
use serde_json::Value;
use url::{Backend, DbUrl};

/// A statement parameter.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    Text(String),
    Int(i64),
    Null,
}

/// One result row: its cells as JSON values (null, integer, float, text, boolean), found
/// by the column names the SQL gives them (compared without regard to case: PostgreSQL
/// folds unquoted names to lower case). Each query's rows are read into a typed struct
/// ([`FromRow`]) next to its SQL, so nothing depends on the order of a `SELECT` list.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    columns: std::sync::Arc<[String]>,
    cells: Vec<Value>,
}

impl Row {
    /// A row as a driver read it: the statement's column names and one cell per column.
    pub fn new(columns: std::sync::Arc<[String]>, cells: Vec<Value>) -> Row {
        Row { columns, cells }
    }

    /// The cell of `column`; an error when the query has no such column (the SQL and its
    /// row struct disagree).
    pub fn get(&self, column: &str) -> Result<&Value> {
        self.columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(column))
            .and_then(|i| self.cells.get(i))
            .ok_or_else(|| anyhow::anyhow!("the query has no column {column}"))
    }

    /// A text cell (numbers rendered as text); None for NULL.
    pub fn text(&self, column: &str) -> Result<Option<String>> {
        Ok(match self.get(column)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        })
    }

    /// A text cell that must not be NULL.
    pub fn string(&self, column: &str) -> Result<String> {
        self.text(column)?
            .ok_or_else(|| anyhow::anyhow!("column {column} is NULL"))
    }

    /// An integer cell, whichever way the driver returned it; None for NULL.
    pub fn int(&self, column: &str) -> Result<Option<i64>> {
        Ok(match self.get(column)? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            Value::Bool(b) => Some(i64::from(*b)),
            _ => None,
        })
    }

    /// A 0/1 (or boolean) cell as a boolean; NULL is false.
    pub fn flag(&self, column: &str) -> Result<bool> {
        Ok(self.int(column)? == Some(1))
    }
}

/// A typed row of one query, read by column name.
pub trait FromRow: Sized {
    fn from_row(row: &Row) -> Result<Self>;
}

/// Runs a query and reads each row into `T`.
pub fn query_as<T: FromRow>(
    conn: &mut dyn Connection,
    sql: &str,
    params: &[Param],
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    conn.query_each(sql, params, &mut |r| {
        out.push(T::from_row(&r)?);
        Ok(())
    })?;
    Ok(out)
}

/// How many rows go into one multi-row statement: well under every backend's limit on
/// placeholders (SQLite 32766, MySQL and PostgreSQL 65535) at a dozen per row.
pub const ROWS_PER_STATEMENT: usize = 500;

/// The one integer a `SELECT COUNT(*) AS n ...` returns.
pub fn count(conn: &mut dyn Connection, sql: &str, params: &[Param]) -> Result<i64> {
    let rows = conn.query(sql, params)?;
    let row = rows
        .first()
        .ok_or_else(|| anyhow::anyhow!("a count returned no row"))?;
    row.int("n")?
        .ok_or_else(|| anyhow::anyhow!("a count returned NULL"))
}

/// Runs `work` in one transaction: commits when it succeeds, rolls back when it fails.
/// A rollback that fails too is reported with the first error, never dropped.
pub fn in_transaction<T>(
    conn: &mut dyn Connection,
    work: impl FnOnce(&mut dyn Connection) -> Result<T>,
) -> Result<T> {
    use anyhow::Context;
    conn.begin().context("cannot start a transaction")?;
    match work(conn) {
        Ok(value) => match conn.commit() {
            Ok(()) => Ok(value),
            Err(e) => {
                let e = e.context("the commit failed; nothing was changed");
                Err(match conn.rollback() {
                    Ok(()) => e,
                    Err(r) => e.context(format!("and the rollback failed too: {r:#}")),
                })
            }
        },
        Err(e) => Err(match conn.rollback() {
            Ok(()) => e.context("rolled back; nothing was changed"),
            // A deadlock or a cluster conflict on the rollback: the server has already
            // rolled the transaction back itself.
            Err(r) if is_transient(&r) => e.context("rolled back by the server; nothing was changed"),
            Err(r) => e.context(format!(
                "the rollback failed too ({r:#}); the server discards the transaction when the connection ends"
            )),
        }),
    }
}

/// A failure that says nothing about the statement, only about its timing: a deadlock,
/// a Galera certification conflict (reported as a deadlock), a serialization failure, a
/// lock wait that timed out. The transaction was rolled back by the server and the same
/// work, done again, may well succeed; drivers mark such errors with this type.
#[derive(Debug)]
pub struct Transient(pub String);

impl std::fmt::Display for Transient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Transient {}

/// Another session held a lock the statement needed for longer than the run's bound
/// (`--lock-wait`): the server stopped waiting. Not tried again: the holder is another
/// session's transaction, which may stay open for as long as it likes.
#[derive(Debug)]
pub struct LockWaitTimeout(pub String);

impl std::fmt::Display for LockWaitTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LockWaitTimeout {}

/// Whether `e` (or anything it wraps) is a [`LockWaitTimeout`].
pub fn is_lock_wait_timeout(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.is::<LockWaitTimeout>())
}

/// How long a statement of a run may wait for a lock another session holds (a row, a
/// table, a table's metadata), unless `--lock-wait` says otherwise: Heat's own
/// transactions last milliseconds, so seconds mean another session is holding on.
pub const DEFAULT_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Whether `e` (or anything it wraps) is [`Transient`].
pub fn is_transient(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.is::<Transient>())
}

/// What every database driver provides.
pub trait Connection {
    /// Runs a query and hands `each` its rows one at a time, as the server sends them: a
    /// query over the whole cloud never holds all its raw rows at once.
    fn query_each(
        &mut self,
        sql: &str,
        params: &[Param],
        each: &mut dyn FnMut(Row) -> Result<()>,
    ) -> Result<()>;
    /// Runs a query and returns its rows.
    fn query(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Row>> {
        let mut rows = Vec::new();
        self.query_each(sql, params, &mut |r| {
            rows.push(r);
            Ok(())
        })?;
        Ok(rows)
    }
    /// Runs a statement and returns how many rows it changed.
    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64>;
    fn begin(&mut self) -> Result<()>;
    /// Starts a read-only transaction whose reads all see one moment of the database
    /// (ended with `commit`): the inventory's stacks, locks and engines must agree, or a
    /// stack an engine is working on looks abandoned (in progress, no lock).
    fn begin_snapshot(&mut self) -> Result<()>;
    fn commit(&mut self) -> Result<()>;
    fn rollback(&mut self) -> Result<()>;
    /// Bounds every wait of this session for another session's lock (rows, tables, table
    /// metadata, the database file) to `wait`; past it the statement fails with a
    /// [`LockWaitTimeout`].
    fn bound_lock_waits(&mut self, wait: std::time::Duration) -> Result<()>;
    /// Which of two forms of a statement this server takes, where the servers' SQL
    /// differs beyond what `sql/` can write once: the standard one (PostgreSQL, SQLite)
    /// or MySQL's (a multi-row `UPDATE`: MySQL has no `UPDATE ... FROM`).
    fn dialect(&self) -> Dialect {
        Dialect::Standard
    }
    /// Whether a second session's reads go on while this one writes. A server's do (each
    /// session reads its snapshot); SQLite's do not: one lock on the file, taken whole by
    /// a writer from its first spilled page to its commit, so a reader beside it waits,
    /// in sleeps of up to 100 ms (at 100,000 roots reading took 17 s instead of 5).
    fn reads_while_writing(&self) -> bool {
        true
    }
    /// What makes a `SELECT` of rows lock those nobody else holds and leave out the
    /// others, without waiting (`FOR UPDATE SKIP LOCKED`), where the server has it.
    fn skip_locked(&self) -> Option<&'static str> {
        None
    }
    /// Who holds locks on rows `ids` of `table`, in words, where the server can tell
    /// (nothing when it cannot, or will not tell this user).
    fn lock_holders(&mut self, _table: &str, _ids: &[Param]) -> Result<Vec<String>> {
        Ok(Vec::new())
    }
    /// The largest transaction the server will commit, where it has a limit (a Galera
    /// node: `wsrep_max_ws_rows`, `wsrep_max_ws_size`); None where it has none.
    fn write_set_limits(&mut self) -> Result<Option<WriteSetLimits>> {
        Ok(None)
    }
}

/// See [`Connection::dialect`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Standard,
    MySql,
}

impl Dialect {
    /// The statement of the two that this dialect takes.
    pub fn pick(self, standard: &'static str, mysql: &'static str) -> &'static str {
        match self {
            Dialect::Standard => standard,
            Dialect::MySql => mysql,
        }
    }
}

/// A server's limits on one transaction's write-set, and what it says a row of each table
/// weighs (for an estimate of a transaction's bytes).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteSetLimits {
    /// Rows (None: no limit).
    pub max_rows: Option<u64>,
    /// Bytes (None: no limit).
    pub max_bytes: Option<u64>,
    /// Table -> its average row length in bytes, as the server reports it.
    pub row_bytes: std::collections::HashMap<String, u64>,
}

/// A connection to Heat's database with every capability the tool uses.
pub trait Database:
    Connection
    + history::Migrations
    + RunLock
    + indexes::Indexes
    + preflight::Privileges
    + identity::Identify
{
    /// The plain statement capability (for code that needs nothing else).
    fn conn(&mut self) -> &mut dyn Connection;
}

impl<
        T: Connection
            + history::Migrations
            + RunLock
            + indexes::Indexes
            + preflight::Privileges
            + identity::Identify,
    > Database for T
{
    fn conn(&mut self) -> &mut dyn Connection {
        self
    }
}

/// What a MySQL connection to `url` is made with (the URL and its option file read as
/// PyMySQL reads them), or why heat-converge will not make it. [`connect`] uses exactly
/// this; it is public for the tests that compare it with PyMySQL.
pub use mysql::{Settings as MySqlSettings, TlsMode, TlsSettings};

/// [`MySqlSettings`] of a MySQL URL.
pub fn mysql_settings(url: &DbUrl) -> Result<MySqlSettings> {
    mysql::settings(url)
}

/// Connects to Heat's database; errors name the URL without its password (and the
/// option file, when parts of the connection came from one).
pub fn connect(url: &DbUrl) -> Result<Box<dyn Database>> {
    use anyhow::Context;
    let context = || match url.option_file() {
        Some(f) if !f.filled.is_empty() => format!(
            "cannot connect to {url} (its {} from the MySQL option file {})",
            f.filled.join(", "),
            f.named()
        ),
        _ => format!("cannot connect to {url}"),
    };
    Ok(match url.backend {
        Backend::MySql => Box::new(mysql::MySql::connect(url).with_context(context)?),
        Backend::Postgres => Box::new(postgres::Postgres::connect(url).with_context(context)?),
        Backend::Sqlite => Box::new(sqlite::Sqlite::connect(url).with_context(context)?),
    })
}

/// Runs `connect` (the whole of it: TCP, TLS, authentication) on a thread and gives up
/// after `limit`, so that a server which accepts the connection and never answers cannot
/// hang the tool (the drivers' own time-outs cover only part of the handshake). A
/// connection still stuck is left to its thread, which dies with the process.
pub(crate) fn within<T: Send + 'static>(
    limit: Option<std::time::Duration>,
    server: &str,
    connect: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let Some(limit) = limit else {
        return connect();
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("db-connect".into())
        .spawn(move || {
            let _ = tx.send(connect());
        })
        .map_err(|e| anyhow::anyhow!("cannot start the connection thread: {e}"))?;
    match rx.recv_timeout(limit) {
        Ok(result) => result,
        Err(_) => anyhow::bail!(
            "the server at {server} did not answer within {} s (connect_timeout): \
             is it the right host and port, and is the database server healthy?",
            limit.as_secs()
        ),
    }
}

/// A refinery failure in plain words: its own message, then the driver's error as `plain`
/// words it (refinery's Display would print the driver error's debug-like dump).
pub(crate) fn migration_error<E: std::error::Error + 'static>(
    e: refinery::Error,
    plain: impl Fn(&E) -> anyhow::Error,
) -> anyhow::Error {
    match e.kind() {
        refinery::error::Kind::Connection(what, source) => match source.downcast_ref::<E>() {
            Some(driver) => plain(driver).context(format!("heat-converge's own tables: {what}")),
            None => anyhow::anyhow!("heat-converge's own tables: {what}: {source}"),
        },
        _ => anyhow::anyhow!("heat-converge's own tables: {e}"),
    }
}

/// A whole number of seconds from a URL option (`connect_timeout=10`), if present.
pub(crate) fn seconds_option(url: &DbUrl, key: &str) -> Result<Option<i64>> {
    url.option(key)
        .map(|v| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| anyhow::anyhow!("{key}={v}: expected a whole number of seconds"))
        })
        .transpose()
}

/// Logs a statement at `-vv`: its SQL on one line, never its parameter values.
/// An I/O failure that means the connection is gone (the server restarted, closed or
/// killed the session, or the network failed), whatever the statement was.
pub(crate) fn is_connection_lost(kind: std::io::ErrorKind) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        kind,
        K::BrokenPipe
            | K::ConnectionReset
            | K::ConnectionAborted
            | K::UnexpectedEof
            | K::NotConnected
    )
}

/// The message for a lost connection: the cause in the operator's terms, then the
/// driver's words.
pub(crate) fn lost(at: &str, detail: &str) -> String {
    format!(
        "the connection to the server{at} was lost ({detail}): the server restarted, ended \
         this session (KILL, pg_terminate_backend, wait_timeout, idle timeouts of a proxy) or \
         the network failed; a transaction it was in was not committed"
    )
}

/// One second of a wait for the run lock, or the error that ends it: a stop signal.
pub(crate) fn waiting_for_run_lock() -> Result<()> {
    if let Some(signal) = crate::stop::requested() {
        anyhow::bail!("stopped by {signal} while waiting for the run lock; nothing was written");
    }
    std::thread::sleep(std::time::Duration::from_secs(1));
    Ok(())
}

pub(crate) fn log_statement(sql: &str) {
    if tracing::enabled!(tracing::Level::DEBUG) {
        let code: Vec<&str> = sql
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .flat_map(str::split_whitespace)
            .collect();
        tracing::debug!("sql: {}", code.join(" "));
    }
}

/// Rewrites `?` placeholders to `$1, $2, ...` (PostgreSQL). Our SQL has no `?` in
/// literals.
pub(crate) fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// The run lock: at most one `heat-converge migrate` at a time on one Heat database, so
/// that two runs never race through our schema set-up or over the same trees. Only
/// heat-converge takes it; Heat's engines never wait for it.
///
/// MySQL/MariaDB and PostgreSQL hold it in the server session (a named lock, an advisory
/// lock): it goes away with the connection, however the process ends. A named lock is
/// node-local on a Galera cluster, so there the lock is also a replicated row of ours with
/// a heartbeat, taken over when its holder has gone silent (`mysql/cluster_lock.rs`). SQLite has no
/// sessions, so its driver locks a file next to the database with `flock`, which the
/// kernel releases when the process dies; a lock inside SQLite itself would block
/// Heat's engines for the whole run.
pub trait RunLock {
    /// Takes the run lock if nobody holds it; `None` if another run does.
    fn try_lock_run(&mut self) -> Result<Option<RunLockHeld>>;
    /// Waits as long as it takes for the run lock.
    fn lock_run(&mut self) -> Result<RunLockHeld>;
    /// What the lock covers and what it is, for an operator looking for the other run:
    /// "database heat (MariaDB lock heat_converge.heat)".
    fn run_lock_name(&mut self) -> Result<String>;
    /// Who holds the lock, when the lock itself says (the Galera lock row does).
    fn run_lock_holder(&mut self) -> Result<Option<String>> {
        Ok(None)
    }
}

/// The run lock, held until this is dropped (or, for a server's session lock, until the
/// connection ends).
pub struct RunLockHeld {
    /// The locked file, for backends that lock with a file.
    _file: Option<std::fs::File>,
    /// What else holds the lock until dropped (the Galera lock row's heartbeat).
    _guard: Option<Box<dyn Send>>,
    /// Whose lock was taken over to get this one (a run that died holding it), if so.
    pub taken_over: Option<String>,
}

impl std::fmt::Debug for RunLockHeld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunLockHeld")
            .field("file", &self._file.is_some())
            .field("guard", &self._guard.is_some())
            .field("taken_over", &self.taken_over)
            .finish()
    }
}

impl RunLockHeld {
    /// A lock the server holds for this connection's session.
    pub(crate) fn session() -> RunLockHeld {
        RunLockHeld {
            _file: None,
            _guard: None,
            taken_over: None,
        }
    }
    /// A session lock, with more that is released when this is dropped.
    pub(crate) fn session_with(guard: Box<dyn Send>, taken_over: Option<String>) -> RunLockHeld {
        RunLockHeld {
            _file: None,
            _guard: Some(guard),
            taken_over,
        }
    }
    /// A lock held through an open file (released when the file is closed).
    pub(crate) fn file(f: std::fs::File) -> RunLockHeld {
        RunLockHeld {
            _file: Some(f),
            _guard: None,
            taken_over: None,
        }
    }
}

/// Takes the run lock: at once if it is free; otherwise says so through `notice` and
/// waits, or, with `wait` false, fails.
pub fn take_run_lock(
    db: &mut dyn Database,
    wait: bool,
    notice: &mut dyn FnMut(&str),
) -> Result<RunLockHeld> {
    if let Some(held) = db.try_lock_run()? {
        if let Some(t) = &held.taken_over {
            notice(t);
        }
        return Ok(held);
    }
    let name = db.run_lock_name()?;
    let holder = match db.run_lock_holder()? {
        Some(h) => format!(" ({h})"),
        None => String::new(),
    };
    if !wait {
        anyhow::bail!(
            "another heat-converge run{holder} holds the run lock on {name}; not waiting (--no-wait)"
        );
    }
    notice(&format!(
        "another heat-converge run{holder} holds the run lock on {name}; waiting"
    ));
    let started = std::time::Instant::now();
    let held = db.lock_run()?;
    if let Some(t) = &held.taken_over {
        notice(t);
    }
    notice(&format!(
        "took the run lock on {name} after {} s",
        started.elapsed().as_secs()
    ));
    Ok(held)
}
