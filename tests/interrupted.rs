//! Runs interrupted midway (issue 18). SIGTERM, SIGINT and SIGHUP stop a run the way a
//! closed output does: the
//! batch at hand finished or rolled back, the run record closed with the signal's name,
//! the temporary indexes dropped, the summary or the JSON document printed, exit 1; a
//! second signal ends the process at once; and the next run finishes the job. On a
//! 20,000-root SQLite database (the benchmark's generator) and a 3,000-root PostgreSQL and
//! MariaDB one, signalled at several moments of a run. A connection the server ends
//! midway (pg_terminate_backend, KILL) fails the run with exit 1, saying the connection
//! was lost and what was converted before it (text and JSON), no tree half converted,
//! and the next run finishes.

mod common;

use common::{Backend, Bed, HeatDb};
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A run with `-v`: each tree is logged on stderr once its batch is written.
fn start(db: &HeatDb, format: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_heat-converge"))
        .args(["migrate", "-v", "--format", format, "--db-url", &db.url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start heat-converge")
}

/// Reads the run's stderr until a tree is reported converted (its batch is committed),
/// then hands the rest of stderr back through the returned thread (stdout is read from
/// the start, so that a full pipe never stops the run).
fn after_first_batch(child: &mut Child) -> Readers {
    use std::io::BufRead;
    let mut stdout = child.stdout.take().expect("stdout");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut s);
        s
    });
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        let mut told = false;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if !told && line.contains("outcome=\"converted\"") {
                let _ = tx.send(());
                told = true;
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    rx.recv_timeout(Duration::from_secs(300))
        .expect("no tree converted within 5 minutes");
    Readers { out, err: reader }
}

/// The threads reading a run's stdout and stderr.
struct Readers {
    out: std::thread::JoinHandle<String>,
    err: std::thread::JoinHandle<String>,
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig}");
}

struct Ended {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn end(child: Child, readers: Option<Readers>) -> Ended {
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut child = child;
    let Readers { out, err } = readers.unwrap_or_else(|| {
        let read = |mut r: Box<dyn std::io::Read + Send>| {
            std::thread::spawn(move || {
                let mut s = String::new();
                let _ = r.read_to_string(&mut s);
                s
            })
        };
        Readers {
            out: read(Box::new(child.stdout.take().expect("stdout"))),
            err: read(Box::new(child.stderr.take().expect("stderr"))),
        }
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the run did not end");
        std::thread::sleep(Duration::from_millis(20));
    };
    Ended {
        code: status.code(),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// Every tree all converted or all legacy: no live stack's convergence differs from its
/// owner's (the demo's trees hold no stack already on convergence).
fn no_half_trees(db: &HeatDb) {
    let mixed = db.value(
        "SELECT COUNT(*) FROM stack s JOIN stack o ON o.id = s.owner_id \
         WHERE s.deleted_at IS NULL AND o.deleted_at IS NULL AND s.backup = o.backup \
           AND (CASE WHEN s.convergence THEN 1 ELSE 0 END) <> (CASE WHEN o.convergence THEN 1 ELSE 0 END)",
    );
    assert_eq!(mixed.as_deref(), Some("0"), "a tree is half converted");
}

fn temporary_indexes(db: &HeatDb) -> String {
    let sql = match db.backend {
        Backend::Sqlite => {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name LIKE 'heat_converge_ix_%'"
        }
        Backend::MariaDb => {
            "SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = DATABASE() AND index_name LIKE 'heat_converge_ix_%'"
        }
        Backend::Postgres => {
            "SELECT COUNT(*) FROM pg_indexes WHERE indexname LIKE 'heat_converge_ix_%'"
        }
    };
    db.value(sql).unwrap_or_default()
}

/// Stops a run with `sig` once its first batch is written, and checks what a stopped run
/// must leave. Returns the trees it converted (JSON output) or 0 (text).
fn stopped_run(db: &HeatDb, sig: &str, format: &str) -> u64 {
    let mut child = start(db, format);
    let readers = after_first_batch(&mut child);
    signal(&child, sig);
    let ended = end(child, Some(readers));
    assert_eq!(ended.code, Some(1), "{}\n{}", ended.stdout, ended.stderr);
    let why = format!("stopped by SIG{sig}");
    let converted = if format == "json" {
        let json: Value = serde_json::from_str(&ended.stdout)
            .unwrap_or_else(|e| panic!("no JSON after SIG{sig} ({e}): {}", ended.stderr));
        assert_eq!(json["exit_code"], 1, "{json}");
        assert!(
            json["stopped"].as_str().unwrap_or("").starts_with(&why),
            "{json}"
        );
        let n = json["converted"].as_u64().unwrap();
        assert!(n > 0, "nothing converted before SIG{sig}: {json}");
        n
    } else {
        assert!(ended.stdout.contains("Summary"), "{}", ended.stdout);
        assert!(ended.stdout.contains(&why), "{}", ended.stdout);
        0
    };
    // The run record is closed with the reason.
    let open = db.value("SELECT COUNT(*) FROM heat_converge_run WHERE ended_at IS NULL");
    assert_eq!(open.as_deref(), Some("0"), "a run record stays open");
    let recorded = db.rows("SELECT stopped FROM heat_converge_run WHERE stopped IS NOT NULL");
    assert!(
        recorded
            .iter()
            .any(|r| r[0].as_deref().unwrap_or("").starts_with(&why)),
        "{recorded:?}"
    );
    // history says how it ended, with what it converted.
    let run = db.newest_run();
    assert_eq!(run["ending"], "stopped_by_signal", "{run}");
    if format == "json" {
        assert_eq!(run["trees_converted"], converted, "{run}");
    }
    assert_eq!(temporary_indexes(db), "0", "temporary indexes stay");
    no_half_trees(db);
    converted
}

/// The last run: finishes (exit 3: the demo's failed and busy copies stay), and every
/// root that stays legacy is one of those.
fn last_run(db: &HeatDb, roots: usize) {
    let last = end(start(db, "json"), None);
    assert_eq!(last.code, Some(3), "{}", last.stderr);
    let json: Value = serde_json::from_str(&last.stdout).unwrap();
    let by_reason = json["left_alone_by_reason"].as_object().unwrap();
    for kind in by_reason.keys() {
        assert!(
            ["failed", "engine_gone", "in_progress"].contains(&kind.as_str()),
            "{json}"
        );
    }
    let converted: usize = db
        .value("SELECT COUNT(*) FROM stack WHERE owner_id IS NULL AND deleted_at IS NULL AND convergence")
        .unwrap()
        .parse()
        .unwrap();
    let left: u64 = by_reason.values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(converted + left as usize, roots, "{json}");
    no_half_trees(db);
}

fn signalled_runs(backend: Backend, tag: &str, roots: usize, signals: &[(&str, &str)]) {
    let bed = Bed::new(tag);
    let db = bed.replicated_on(backend, backend.local_server(), roots);
    for (sig, format) in signals {
        stopped_run(&db, sig, format);
    }
    last_run(&db, roots);
}

#[test]
fn signals_stop_a_20000_root_run_on_sqlite() {
    signalled_runs(
        Backend::Sqlite,
        "sigl",
        20_000,
        &[("TERM", "json"), ("INT", "json"), ("HUP", "text")],
    );
}

#[test]
fn signals_stop_a_run_on_postgresql() {
    signalled_runs(
        Backend::Postgres,
        "sigp",
        5_000,
        &[("TERM", "json"), ("INT", "text")],
    );
}

#[test]
fn signals_stop_a_run_on_mariadb() {
    signalled_runs(
        Backend::MariaDb,
        "sigm",
        5_000,
        &[("HUP", "json"), ("TERM", "text")],
    );
}

/// A second signal ends the process at once; no tree is half converted, and the next run
/// converts the rest.
#[test]
fn a_second_signal_ends_it_at_once() {
    let bed = Bed::new("sig2");
    let db = bed.replicated_on(Backend::Sqlite, Backend::Sqlite.local_server(), 20_000);
    let mut child = start(&db, "json");
    let readers = after_first_batch(&mut child);
    // A reader holds the file, so the batch at hand cannot commit: the run is still
    // finishing it when the second signal comes (without it, a run can finish its batch
    // and its report between two signals).
    let holder = rusqlite::Connection::open(db.sqlite_path()).unwrap();
    holder
        .busy_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    holder.execute_batch("BEGIN").unwrap();
    let _: i64 = holder
        .query_row("SELECT COUNT(*) FROM stack", [], |r| r.get(0))
        .unwrap();
    signal(&child, "TERM");
    // Apart, as an operator's two Ctrl-C are: two of the same signal sent together may
    // reach the process as one (POSIX merges a pending standard signal).
    std::thread::sleep(std::time::Duration::from_millis(300));
    signal(&child, "TERM");
    let ended = end(child, Some(readers));
    holder.execute_batch("COMMIT").unwrap();
    assert_eq!(ended.code, Some(1), "{}", ended.stderr);
    // Ended at once: no report.
    assert!(ended.stdout.is_empty(), "{}", ended.stdout);
    no_half_trees(&db);
    last_run(&db, 20_000);
}

/// The server ends the run's sessions after its first batch: exit 1, the cause named, the
/// trees converted before it counted, no half tree; the next run finishes.
fn connection_lost(backend: Backend, tag: &str, kill: &str) {
    let bed = Bed::new(tag);
    let db = bed.replicated_on(backend, backend.local_server(), 5_000);
    let mut child = start(&db, "json");
    let readers = after_first_batch(&mut child);
    db.exec(kill);
    let ended = end(child, Some(readers));
    assert_eq!(ended.code, Some(1), "{}\n{}", ended.stdout, ended.stderr);
    let json: Value = serde_json::from_str(&ended.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {}", ended.stderr));
    let message = json["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("connection to the server"), "{json}");
    assert!(message.contains("was lost"), "{json}");
    assert!(json["converted"].as_u64().unwrap_or(0) > 0, "{json}");
    assert!(
        ended.stderr.contains("converted (each whole)"),
        "{}",
        ended.stderr
    );
    no_half_trees(&db);
    last_run(&db, 5_000);
}

#[test]
fn a_connection_ended_by_postgresql() {
    connection_lost(
        Backend::Postgres,
        "lostp",
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    );
}

#[test]
fn a_connection_ended_by_mariadb() {
    // KILL every other session on the database (the run's, and its lock connection).
    connection_lost(
        Backend::MariaDb,
        "lostm",
        "BEGIN NOT ATOMIC \
           FOR s IN (SELECT ID FROM information_schema.PROCESSLIST \
                     WHERE DB = DATABASE() AND ID <> CONNECTION_ID()) DO \
             EXECUTE IMMEDIATE CONCAT('KILL ', s.ID); \
           END FOR; \
         END",
    );
}
