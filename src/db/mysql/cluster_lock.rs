//! The run lock across a Galera cluster: a row in a table of ours, on top of `GET_LOCK`.
//!
//! Why: `GET_LOCK` is node-local on Galera (named locks are not replicated), so two runs
//! through two nodes both took "the" run lock. A row is replicated: two nodes inserting
//! the same primary key at once conflict in certification, and one of them loses (error
//! 1213 on its commit, or 1062 once the winner's row is there). The row names its holder
//! (an id, the host, the process), and a thread of the holder refreshes its heartbeat
//! every [`HEARTBEAT`] on a connection of its own; a row whose heartbeat is older than
//! [`STALE_AFTER`] belongs to a run that died without deleting it (`kill -9`, a lost
//! host), and the next run takes it over, saying so. The holder deletes its row when the
//! lock is dropped.
//!
//! **The first run.** The lock guards our migrations, so its table cannot come from one:
//! it is created here, `CREATE TABLE IF NOT EXISTS` (DDL runs in total order on every node
//! of a cluster, so two first runs creating it at once is harmless), with a primary key
//! (a cluster may require one). Outside Galera (`wsrep_on` not `ON`) none of this happens:
//! `GET_LOCK` is enough there and no table is made.
//!
//! Reads on the lock's connection wait until the node has applied every write-set the
//! cluster committed before them (`wsrep_sync_wait = 1`), so a node never answers "free"
//! from behind.

use anyhow::{anyhow, bail, Context, Result};
use mysql::prelude::Queryable;
use std::sync::mpsc;
use std::time::Duration;

/// The table of the lock rows.
pub const TABLE: &str = "heat_converge_lock";
/// The row of the run lock (the table could hold other locks).
const RUN: &str = "run";
/// How often the holder refreshes its heartbeat.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// A heartbeat older than this: the holder is gone, its row may be taken over.
pub const STALE_AFTER: Duration = Duration::from_secs(60);

const CREATE: &str = "CREATE TABLE IF NOT EXISTS heat_converge_lock (
    name VARCHAR(64) NOT NULL PRIMARY KEY,
    holder VARCHAR(36) NOT NULL,
    host VARCHAR(255) NOT NULL,
    pid INTEGER NOT NULL,
    taken_at DATETIME(6) NOT NULL,
    heartbeat_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE utf8mb4_bin";

/// Whether the server is a Galera node replicating (`wsrep_on = ON`).
pub fn is_galera(conn: &mut mysql::Conn) -> Result<bool> {
    let row: Option<(String, String)> = conn
        .query_first("SHOW VARIABLES LIKE 'wsrep_on'")
        .map_err(|e| super::plain(&e, "").context("asking whether the server is a Galera node"))?;
    Ok(row.is_some_and(|(_, v)| v.eq_ignore_ascii_case("ON")))
}

/// Who holds the lock, as its row says.
#[derive(Debug, Clone)]
pub struct Holder {
    pub holder: String,
    pub host: String,
    pub pid: i64,
    /// Seconds since its last heartbeat, by the node's clock.
    pub silent_for: f64,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "holder {} (pid {} on {}), last heartbeat {:.0} s ago",
            self.holder, self.pid, self.host, self.silent_for
        )
    }
}

/// This process as a lock holder.
pub struct Me {
    pub holder: String,
    pub host: String,
    pub pid: u32,
}

impl Me {
    pub fn new() -> Me {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_default();
        Me {
            holder: uuid::Uuid::new_v4().to_string(),
            host: crate::db::history::bounded(&host, 255, 255 * 4).into_owned(),
            pid: std::process::id(),
        }
    }
}

/// The outcome of one attempt.
pub enum Attempt {
    /// Ours now; `Some` says whose stale row was taken over.
    Taken(Option<String>),
    /// Another run holds it.
    Held(Holder),
}

fn code(e: &mysql::Error) -> Option<u16> {
    match e {
        mysql::Error::MySqlError(m) => Some(m.code),
        _ => None,
    }
}

/// Opens the lock's own connection: causal reads, its table there.
pub fn connect(opts: &mysql::Opts) -> Result<mysql::Conn> {
    let mut conn = mysql::Conn::new(opts.clone())
        .map_err(|e| super::plain(&e, "").context("opening the run lock's connection"))?;
    conn.query_drop("SET SESSION wsrep_sync_wait = 1")
        .map_err(|e| super::plain(&e, "").context("wsrep_sync_wait on the lock's connection"))?;
    // Made only when missing: DDL stops the whole cluster for a moment.
    if conn
        .query_drop("SELECT 1 FROM heat_converge_lock WHERE 1=0")
        .is_err()
    {
        conn.query_drop(CREATE)
            .map_err(|e| super::plain(&e, "").context(format!("creating {TABLE}")))?;
    }
    Ok(conn)
}

/// The holder of the run lock's row, if there is one.
pub fn holder(conn: &mut mysql::Conn) -> Result<Option<Holder>> {
    let row: Option<(String, String, i64, Option<i64>)> = conn
        .exec_first(
            "SELECT holder, host, pid, \
             TIMESTAMPDIFF(MICROSECOND, heartbeat_at, UTC_TIMESTAMP(6)) \
             FROM heat_converge_lock WHERE name = ?",
            (RUN,),
        )
        .map_err(|e| super::plain(&e, "").context(format!("reading {TABLE}")))?;
    Ok(row.map(|(holder, host, pid, micros)| Holder {
        holder,
        host,
        pid,
        silent_for: micros.unwrap_or(0) as f64 / 1e6,
    }))
}

/// One attempt at the row: insert it; if it is there, take it over when stale.
pub fn try_take(conn: &mut mysql::Conn, me: &Me) -> Result<Attempt> {
    // A few rounds: the row may vanish or change between the insert and the read.
    for _ in 0..5 {
        let inserted = conn.exec_drop(
            "INSERT INTO heat_converge_lock (name, holder, host, pid, taken_at, heartbeat_at) \
             VALUES (?, ?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))",
            (RUN, &me.holder, &me.host, me.pid),
        );
        match inserted {
            Ok(()) => return Ok(Attempt::Taken(None)),
            // 1062: the row is there; 1213: another node's insert won certification.
            Err(e) if matches!(code(&e), Some(1062 | 1213)) => {}
            Err(e) => return Err(super::plain(&e, "").context(format!("inserting into {TABLE}"))),
        }
        let Some(other) = holder(conn)? else {
            continue; // released in between: insert again
        };
        if other.silent_for < STALE_AFTER.as_secs_f64() {
            return Ok(Attempt::Held(other));
        }
        // Stale: take it over, only if it is still that holder's (a compare and swap; a
        // node taking it over at the same time conflicts in certification).
        let taken = conn.exec_drop(
            "UPDATE heat_converge_lock SET holder = ?, host = ?, pid = ?, \
             taken_at = UTC_TIMESTAMP(6), heartbeat_at = UTC_TIMESTAMP(6) \
             WHERE name = ? AND holder = ? \
             AND heartbeat_at < UTC_TIMESTAMP(6) - INTERVAL ? SECOND",
            (
                &me.holder,
                &me.host,
                me.pid,
                RUN,
                &other.holder,
                STALE_AFTER.as_secs(),
            ),
        );
        match taken {
            Ok(()) if conn.affected_rows() == 1 => {
                return Ok(Attempt::Taken(Some(format!(
                    "took over the cluster-wide run lock from {other}: no heartbeat for \
                     more than {} s, so that run is gone",
                    STALE_AFTER.as_secs()
                ))))
            }
            Ok(()) => {}
            Err(e) if code(&e) == Some(1213) => {}
            Err(e) => return Err(super::plain(&e, "").context(format!("taking over {TABLE}"))),
        }
    }
    bail!("the run lock's row in {TABLE} kept changing under five attempts to take it")
}

/// The row held: a thread refreshes its heartbeat until this is dropped, then deletes it.
pub struct Heartbeat {
    stop: Option<mpsc::Sender<()>>,
    done: mpsc::Receiver<()>,
}

impl Heartbeat {
    pub fn start(mut conn: mysql::Conn, holder: String) -> Result<Heartbeat> {
        let (stop, stopped) = mpsc::channel::<()>();
        let (finished, done) = mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("run-lock-heartbeat".into())
            .spawn(move || {
                let mut lost = false;
                // Disconnected (the sender dropped) is the signal to release.
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(HEARTBEAT) {
                    let beat = conn.exec_drop(
                        "UPDATE heat_converge_lock SET heartbeat_at = UTC_TIMESTAMP(6) \
                         WHERE name = ? AND holder = ?",
                        (RUN, &holder),
                    );
                    match beat {
                        Ok(()) if conn.affected_rows() == 0 && !lost => {
                            lost = true;
                            tracing::warn!(
                                "the cluster-wide run lock is no longer this run's (another \
                                 run took it over after {} s without a heartbeat); each tree \
                                 is still guarded by Heat's stack locks",
                                STALE_AFTER.as_secs()
                            );
                        }
                        Ok(()) => {}
                        // A conflict or a lost connection: the next beat tries again.
                        Err(e) => tracing::debug!("run lock heartbeat: {e}"),
                    }
                }
                let _ = conn.exec_drop(
                    "DELETE FROM heat_converge_lock WHERE name = ? AND holder = ?",
                    (RUN, &holder),
                );
                let _ = finished.send(());
            })
            .map_err(|e| anyhow!("cannot start the run lock's heartbeat: {e}"))
            .context("the cluster-wide run lock")?;
        Ok(Heartbeat {
            stop: Some(stop),
            done,
        })
    }
}

impl Drop for Heartbeat {
    /// Releases the row; waits a little for it (a server gone away must not hold the
    /// process: its row then goes stale and is taken over).
    fn drop(&mut self) {
        drop(self.stop.take());
        let _ = self.done.recv_timeout(Duration::from_secs(10));
    }
}
