//! Another session's locks never make a run hang (issue 18): a row of one tree held
//! `FOR UPDATE` by a connection of the test (a stack row, a resource row, a previous
//! template's row), a table locked whole, the SQLite file held by a writer, and a run
//! killed while it waits. Each run must end by itself well within a minute (the test
//! kills it at 120 s and fails: a hang, not a speed figure), the locked tree named with
//! who holds it, every other tree converted, and the next run converting the rest.

mod common;

use common::{Backend, Bed, HeatDb};
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A second session of the test, in a transaction that holds what `sql` locked.
enum Holder {
    My(mysql::Conn),
    Pg(Box<postgres::Client>),
}

impl Holder {
    fn take(db: &HeatDb, sql: &str) -> Holder {
        match db.backend {
            Backend::MariaDb => {
                use mysql::prelude::Queryable;
                let mut c = mysql::Conn::new(mysql::Opts::from_url(&db.plain_url()).unwrap())
                    .expect("the holder's connection");
                c.query_drop("START TRANSACTION").unwrap();
                c.query_drop(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
                Holder::My(c)
            }
            Backend::Postgres => {
                let mut c = postgres::Client::connect(&db.plain_url(), postgres::NoTls)
                    .expect("the holder's connection");
                c.batch_execute("BEGIN").unwrap();
                c.batch_execute(sql)
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                Holder::Pg(Box::new(c))
            }
            Backend::Sqlite => unreachable!("SQLite has its own case"),
        }
    }

    /// How the server names this session: what the reason must quote.
    fn named(&mut self) -> String {
        match self {
            Holder::My(c) => format!("thread {}", c.connection_id()),
            Holder::Pg(c) => {
                let pid: i32 = c.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
                format!("backend pid {pid}")
            }
        }
    }

    fn release(self) {
        match self {
            Holder::My(mut c) => {
                use mysql::prelude::Queryable;
                c.query_drop("ROLLBACK").unwrap();
            }
            Holder::Pg(mut c) => c.batch_execute("ROLLBACK").unwrap(),
        }
    }
}

struct Run {
    code: i32,
    json: Value,
    stderr: String,
}

fn start(db: &HeatDb, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_heat-converge"))
        .args([
            "migrate",
            "--format",
            "json",
            "--lock-wait",
            "2",
            "--db-url",
            &db.url,
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start heat-converge")
}

/// Waits for the run; a run still going after two minutes is a hang: killed, and the test
/// fails.
fn finish(mut child: Child) -> Run {
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "heat-converge hung on another session's lock: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    Run {
        code: out.status.code().unwrap_or(-1),
        json: serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        stderr,
    }
}

fn migrate(db: &HeatDb, extra: &[&str]) -> Run {
    finish(start(db, extra))
}

fn id_of(db: &HeatDb, name: &str) -> String {
    db.value(&format!(
        "SELECT id FROM stack WHERE name = '{name}' AND deleted_at IS NULL"
    ))
    .unwrap_or_else(|| panic!("no stack {name}"))
}

fn tree<'a>(run: &'a Run, root: &str) -> Option<&'a Value> {
    run.json["trees"]
        .as_array()?
        .iter()
        .find(|t| t["root_id"] == root)
}

/// One tree's row held by `sql` (with `{root}` its root's id): that tree is left alone at
/// once naming the holder, the ten others convert; released, the next run converts it.
fn row_held(backend: Backend, tag: &str, root_name: &str, sql: &str) {
    let bed = Bed::new(tag);
    let db = bed.demo(backend);
    let root = id_of(&db, root_name);
    let mut holder = Holder::take(&db, &sql.replace("{root}", &root));
    let who = holder.named();
    let run = migrate(&db, &["--list"]);
    assert_eq!(run.code, 3, "{}\n{}", run.json, run.stderr);
    assert_eq!(run.json["converted"], 10, "{}", run.json);
    let t = tree(&run, &root).unwrap_or_else(|| panic!("{root_name} not reported: {}", run.json));
    assert_eq!(t["outcome"], "left_alone", "{t}");
    assert_eq!(t["reason_kind"], "row_locked", "{t}");
    let reason = t["reason"].as_str().unwrap();
    assert!(
        reason.contains(&who),
        "the holder ({who}) is not named: {reason}"
    );
    // Untouched: still legacy, its resources without a template id.
    assert_eq!(
        db.value(&format!(
            "SELECT CASE WHEN convergence THEN 'yes' ELSE 'no' END FROM stack WHERE id = '{root}'"
        ))
        .as_deref(),
        Some("no")
    );
    holder.release();
    let again = migrate(&db, &[]);
    assert_eq!(again.code, 3, "{}", again.json);
    assert_eq!(again.json["converted"], 1, "{}", again.json);
    // No temporary index left behind.
    let left = db.rows(match backend {
        Backend::MariaDb => "SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = DATABASE() AND index_name LIKE 'heat_converge_ix_%'",
        _ => "SELECT COUNT(*) FROM pg_indexes WHERE indexname LIKE 'heat_converge_ix_%'",
    });
    assert_eq!(left[0][0].as_deref(), Some("0"), "temporary indexes left");
}

const STACK_ROW: &str = "SELECT id FROM stack WHERE id = '{root}' FOR UPDATE";
const RESOURCE_ROW: &str =
    "SELECT id FROM resource WHERE stack_id = '{root}' AND name = 'middle' FOR UPDATE";
const PREVIOUS_TEMPLATE_ROW: &str = "SELECT id FROM raw_template WHERE id = (SELECT prev_raw_template_id FROM stack WHERE id = '{root}') FOR UPDATE";

#[test]
fn a_stack_row_held_on_mariadb() {
    row_held(Backend::MariaDb, "lwmys", "depends", STACK_ROW);
}

#[test]
fn a_stack_row_held_on_postgresql() {
    row_held(Backend::Postgres, "lwpgs", "depends", STACK_ROW);
}

#[test]
fn a_resource_row_held_on_mariadb() {
    row_held(Backend::MariaDb, "lwmyr", "depends", RESOURCE_ROW);
}

#[test]
fn a_resource_row_held_on_postgresql() {
    row_held(Backend::Postgres, "lwpgr", "depends", RESOURCE_ROW);
}

#[test]
fn a_previous_template_row_held_on_mariadb() {
    row_held(Backend::MariaDb, "lwmyt", "dropped", PREVIOUS_TEMPLATE_ROW);
}

#[test]
fn a_previous_template_row_held_on_postgresql() {
    row_held(Backend::Postgres, "lwpgt", "dropped", PREVIOUS_TEMPLATE_ROW);
}

/// A whole table locked by another session: the run fails (exit 1) within the bound,
/// saying so, nothing converted; a run killed while it waits leaves no session that
/// holds the run lock for longer than the bound.
fn table_locked(backend: Backend, tag: &str, lock: &str) {
    let bed = Bed::new(tag);
    let db = bed.demo(backend);
    let holder = Holder::take(&db, lock);
    let run = migrate(&db, &[]);
    assert_eq!(run.code, 1, "{}\n{}", run.json, run.stderr);
    let said = format!("{}{}", run.json, run.stderr);
    assert!(said.contains("--lock-wait"), "{said}");

    // Killed while it waits: a --no-wait run right after must not be refused for longer
    // than the bound (the killed run's session gives up the run lock).
    let child = start(&db, &[]);
    std::thread::sleep(Duration::from_millis(700));
    let pid = child.id() as i32;
    // SAFETY-free: a signal by pid through the kill command.
    Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    let _ = finish(child);
    holder.release();
    let started = Instant::now();
    loop {
        let next = migrate(&db, &["--no-wait"]);
        if next.code == 3 {
            assert_eq!(next.json["converted"], 11, "{}", next.json);
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the killed run's session still holds the run lock: {}\n{}",
            next.json,
            next.stderr
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn a_table_locked_on_mariadb() {
    // A metadata lock: an open transaction that changed the table keeps DDL waiting, and
    // a LOCK TABLES ... WRITE keeps every read waiting.
    table_locked(Backend::MariaDb, "lwmyl", "LOCK TABLES stack WRITE");
}

#[test]
fn a_table_locked_on_postgresql() {
    table_locked(
        Backend::Postgres,
        "lwpgl",
        "LOCK TABLE stack IN ACCESS EXCLUSIVE MODE",
    );
}

#[test]
fn the_sqlite_file_held_by_a_writer() {
    let bed = Bed::new("lwlite");
    let db = bed.demo(Backend::Sqlite);
    let holder = rusqlite::Connection::open(db.sqlite_path()).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let run = migrate(&db, &[]);
    assert_eq!(run.code, 1, "{}\n{}", run.json, run.stderr);
    let said = format!("{}{}", run.json, run.stderr);
    assert!(said.contains("locked"), "{said}");
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    let run = migrate(&db, &[]);
    assert_eq!(run.code, 3, "{}", run.json);
    assert_eq!(run.json["converted"], 11, "{}", run.json);
}
