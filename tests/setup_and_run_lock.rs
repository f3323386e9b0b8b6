//! What happens before any conversion starts, on the real servers: a database that is
//! not Heat's is refused and left exactly as it was; the run lock serialises runs
//! (`--no-wait` refuses to wait); a first run killed at any point leaves a database the
//! next run sets up and converts; two first runs started together both succeed; our
//! tables take any value (V2) and V2 upgrades a database set up by V1, data kept.

mod common;

use common::{Backend, Bed, HeatDb};
use mysql::prelude::Queryable;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_heat-converge");
const MYSQL_SERVER: &str = "mysql://heatconv:heatconv@127.0.0.1:3306";
const PG_SERVER: &str = "host=127.0.0.1 port=5432 user=heatconv password=heatconv";

static SERIAL: AtomicUsize = AtomicUsize::new(0);

fn unique(tag: &str) -> String {
    format!(
        "hc_fr_{tag}_{}_{}",
        std::process::id(),
        SERIAL.fetch_add(1, Ordering::SeqCst)
    )
}

/// A native connection to a test database, every cell read as text.
enum Sql {
    My(mysql::Conn),
    Pg(postgres::Client),
    Lite(rusqlite::Connection),
}

impl Sql {
    fn mysql(db: &str) -> Sql {
        Sql::My(
            mysql::Conn::new(mysql::Opts::from_url(&format!("{MYSQL_SERVER}/{db}")).unwrap())
                .unwrap(),
        )
    }
    fn postgres(db: &str) -> Sql {
        Sql::Pg(
            postgres::Client::connect(&format!("{PG_SERVER} dbname={db}"), postgres::NoTls)
                .unwrap(),
        )
    }
    fn of(db: &HeatDb) -> Sql {
        match db.backend {
            Backend::MariaDb => Sql::mysql(&db.name),
            Backend::Postgres => Sql::postgres(&db.name),
            Backend::Sqlite => Sql::Lite(rusqlite::Connection::open(db.sqlite_path()).unwrap()),
        }
    }

    fn rows(&mut self, sql: &str) -> Vec<Vec<Option<String>>> {
        match self {
            // The text protocol: every value comes as text.
            Sql::My(c) => c
                .query::<mysql::Row, _>(sql)
                .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
                .into_iter()
                .map(|r| {
                    (0..r.len())
                        .map(|i| r.get_opt::<Option<String>, _>(i).unwrap().unwrap())
                        .collect()
                })
                .collect(),
            Sql::Pg(c) => c
                .simple_query(sql)
                .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
                .into_iter()
                .filter_map(|m| match m {
                    postgres::SimpleQueryMessage::Row(r) => {
                        Some((0..r.len()).map(|i| r.get(i).map(String::from)).collect())
                    }
                    _ => None,
                })
                .collect(),
            Sql::Lite(c) => {
                let mut stmt = c.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e:?}"));
                let n = stmt.column_count();
                stmt.query_map([], |r| {
                    Ok((0..n)
                        .map(|i| match r.get::<_, rusqlite::types::Value>(i).unwrap() {
                            rusqlite::types::Value::Null => None,
                            rusqlite::types::Value::Integer(v) => Some(v.to_string()),
                            rusqlite::types::Value::Real(v) => Some(v.to_string()),
                            rusqlite::types::Value::Text(t) => Some(t),
                            rusqlite::types::Value::Blob(b) => {
                                Some(String::from_utf8_lossy(&b).into())
                            }
                        })
                        .collect())
                })
                .unwrap()
                .map(Result::unwrap)
                .collect()
            }
        }
    }

    fn exec(&mut self, sql: &str) {
        match self {
            Sql::My(c) => c.query_drop(sql).unwrap_or_else(|e| panic!("{sql}: {e:?}")),
            Sql::Pg(c) => c
                .batch_execute(sql)
                .unwrap_or_else(|e| panic!("{sql}: {e:?}")),
            Sql::Lite(c) => c
                .execute_batch(sql)
                .unwrap_or_else(|e| panic!("{sql}: {e:?}")),
        }
    }

    fn one(&mut self, sql: &str) -> String {
        self.rows(sql)[0][0].clone().unwrap_or_default()
    }

    /// The tables of the current database (schema `public` on PostgreSQL).
    fn tables(&mut self) -> BTreeSet<String> {
        let sql = match self {
            Sql::My(_) => {
                "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
            }
            Sql::Pg(_) => "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
            Sql::Lite(_) => "SELECT name FROM sqlite_master WHERE type = 'table'",
        };
        self.rows(sql)
            .into_iter()
            .filter_map(|r| r[0].clone())
            .collect()
    }

    fn our_tables(&mut self) -> BTreeSet<String> {
        self.tables()
            .into_iter()
            .filter(|t| t.starts_with("heat_converge_"))
            .collect()
    }
}

/// An empty database (no Heat schema), dropped afterwards.
struct EmptyDb {
    backend: Backend,
    name: String,
    dir: PathBuf,
}

impl EmptyDb {
    fn new(backend: Backend) -> EmptyDb {
        let name = unique("empty");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target/first-run")
            .join(&name);
        match backend {
            Backend::MariaDb => {
                Sql::mysql("").exec(&format!("CREATE DATABASE {name} CHARACTER SET utf8"))
            }
            Backend::Postgres => Sql::postgres("postgres").exec(&format!("CREATE DATABASE {name}")),
            Backend::Sqlite => {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(dir.join("heat.sqlite"), b"").unwrap();
            }
        }
        EmptyDb { backend, name, dir }
    }
    fn url(&self) -> String {
        match self.backend {
            Backend::MariaDb => format!(
                "mysql+pymysql://heatconv:heatconv@127.0.0.1:3306/{}?charset=utf8",
                self.name
            ),
            Backend::Postgres => format!(
                "postgresql://heatconv:heatconv@127.0.0.1:5432/{}",
                self.name
            ),
            Backend::Sqlite => format!("sqlite:///{}", self.dir.join("heat.sqlite").display()),
        }
    }
    fn sql(&self) -> Sql {
        match self.backend {
            Backend::MariaDb => Sql::mysql(&self.name),
            Backend::Postgres => Sql::postgres(&self.name),
            Backend::Sqlite => {
                Sql::Lite(rusqlite::Connection::open(self.dir.join("heat.sqlite")).unwrap())
            }
        }
    }
}

impl Drop for EmptyDb {
    fn drop(&mut self) {
        match self.backend {
            Backend::MariaDb => {
                Sql::mysql("").exec(&format!("DROP DATABASE IF EXISTS {}", self.name))
            }
            Backend::Postgres => Sql::postgres("postgres").exec(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )),
            Backend::Sqlite => {
                let _ = std::fs::remove_dir_all(&self.dir);
            }
        }
    }
}

struct Ran {
    code: i32,
    json: Value,
    stderr: String,
}

fn run(url: &str, args: &[&str]) -> Ran {
    let out = Command::new(BIN)
        .args(args)
        .args(["--format", "json", "--db-url", url])
        .output()
        .unwrap();
    Ran {
        code: out.status.code().unwrap_or(-1),
        json: serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn migrate(url: &str, extra: &[&str]) -> Ran {
    let mut args = vec!["migrate"];
    args.extend_from_slice(extra);
    run(url, &args)
}

#[test]
fn a_database_that_is_not_heats_is_refused_and_stays_empty() {
    for backend in [Backend::Sqlite, Backend::MariaDb, Backend::Postgres] {
        let db = EmptyDb::new(backend);
        for args in [
            &["status"][..],
            &["migrate", "--dry-run"],
            &["migrate"],
            &["history"],
        ] {
            let r = run(&db.url(), args);
            assert_eq!(r.code, 1, "{backend:?} {args:?}: {}", r.stderr);
            assert!(
                r.stderr
                    .contains("no table stack: this is not a Heat database"),
                "{backend:?} {args:?}: {}",
                r.stderr
            );
            assert!(
                !r.stderr.contains(":heatconv@"),
                "password shown: {}",
                r.stderr
            );
        }
        if backend == Backend::Sqlite {
            // Not one byte written, no lock file, no journal.
            let files: Vec<_> = std::fs::read_dir(&db.dir)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(files, vec![std::ffi::OsString::from("heat.sqlite")]);
            assert_eq!(
                std::fs::metadata(db.dir.join("heat.sqlite")).unwrap().len(),
                0
            );
        } else {
            assert_eq!(db.sql().tables(), BTreeSet::new(), "{backend:?}");
        }
    }
}

#[test]
fn a_heat_schema_without_a_column_we_use_is_refused_untouched() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/first-run")
        .join(unique("older"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("heat.sqlite");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo.sqlite"),
        &path,
    )
    .unwrap();
    {
        // resource as Heat had it before current_template_id (convergence's columns).
        let c = rusqlite::Connection::open(&path).unwrap();
        let cols: Vec<String> = c
            .prepare("SELECT name FROM pragma_table_info('resource')")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .filter(|n: &String| n != "current_template_id")
            .collect();
        c.execute_batch(&format!(
            "PRAGMA foreign_keys = OFF; ALTER TABLE resource RENAME TO resource_new;
             CREATE TABLE resource AS SELECT {} FROM resource_new; DROP TABLE resource_new;",
            cols.join(", ")
        ))
        .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let url = format!("sqlite:///{}", path.display());
    for args in [
        &["status"][..],
        &["migrate", "--dry-run"],
        &["migrate"],
        &["history"],
    ] {
        let r = run(&url, args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr
                .contains("table resource has no column current_template_id")
                && r.stderr.contains("heat-manage db_sync"),
            "{args:?}: {}",
            r.stderr
        );
    }
    assert!(
        std::fs::read(&path).unwrap() == before,
        "the database changed"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A clone of a MariaDB database (rows and all), dropped afterwards: far quicker than a
/// new copy through the bed, for the many kills of one test.
struct Clone {
    name: String,
}

impl Clone {
    fn of(template: &str) -> Clone {
        let name = unique("clone");
        let mut c = Sql::mysql("");
        c.exec(&format!("CREATE DATABASE {name} CHARACTER SET utf8"));
        c.exec("SET FOREIGN_KEY_CHECKS = 0");
        let tables = c.rows(&format!(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = '{template}'"
        ));
        for t in tables.into_iter().filter_map(|r| r[0].clone()) {
            c.exec(&format!("CREATE TABLE {name}.{t} LIKE {template}.{t}"));
            c.exec(&format!(
                "INSERT INTO {name}.{t} SELECT * FROM {template}.{t}"
            ));
        }
        Clone { name }
    }
    fn url(&self) -> String {
        format!(
            "mysql+pymysql://heatconv:heatconv@127.0.0.1:3306/{}?charset=utf8",
            self.name
        )
    }
}

impl Drop for Clone {
    fn drop(&mut self) {
        Sql::mysql("").exec(&format!("DROP DATABASE IF EXISTS {}", self.name));
    }
}

/// Root stacks on convergence, by id.
fn convergence_roots(sql: &mut Sql) -> BTreeSet<String> {
    sql.rows(
        "SELECT id FROM stack WHERE owner_id IS NULL AND deleted_at IS NULL AND (CASE WHEN convergence THEN 1 ELSE 0 END) = 1",
    )
    .into_iter()
    .filter_map(|r| r[0].clone())
    .collect()
}

/// The history after runs that ended normally (and maybe some killed ones): both
/// migrations recorded; each converted root recorded converted exactly once; no run
/// that ended claims more trees than it recorded; no stack lock of ours left behind.
fn check_history(sql: &mut Sql, converted: &BTreeSet<String>, locks_before: &str, what: &str) {
    let versions: Vec<String> = sql
        .rows("SELECT version FROM heat_converge_schema_history ORDER BY version")
        .into_iter()
        .filter_map(|r| r[0].clone())
        .collect();
    assert_eq!(versions, ["1", "2", "3", "4", "5", "6"], "{what}");
    for root in converted {
        let n = sql.one(&format!(
            "SELECT COUNT(*) FROM heat_converge_stack WHERE stack_id = '{root}' AND outcome = 'converted'"
        ));
        assert_eq!(n, "1", "{what}: root {root} recorded converted {n} times");
    }
    let recorded = sql.one("SELECT COUNT(DISTINCT stack_id) FROM heat_converge_stack WHERE outcome = 'converted' AND stack_id = root_stack_id");
    assert_eq!(
        recorded,
        converted.len().to_string(),
        "{what}: converted roots in the history"
    );
    let orphans = sql.one("SELECT COUNT(*) FROM heat_converge_stack s WHERE NOT EXISTS (SELECT 1 FROM heat_converge_run r WHERE r.id = s.run_id)");
    assert_eq!(orphans, "0", "{what}: stack rows without their run");
    let ended =
        sql.rows("SELECT trees_converted, id FROM heat_converge_run WHERE ended_at IS NOT NULL");
    assert!(!ended.is_empty(), "{what}: no run ended");
    for r in ended {
        let id = r[1].clone().unwrap();
        let n = sql.one(&format!(
            "SELECT COUNT(*) FROM heat_converge_stack WHERE run_id = '{id}' AND outcome = 'converted' AND stack_id = root_stack_id"
        ));
        assert_eq!(r[0].clone().unwrap(), n, "{what}: run {id} counts");
    }
    assert_eq!(
        sql.one("SELECT COUNT(*) FROM stack_lock"),
        locks_before,
        "{what}: stack locks"
    );
}

#[test]
fn a_first_run_killed_at_any_point_leaves_a_database_the_next_run_sets_up() {
    let bed = Bed::new("killed");
    let demo = bed.demo(Backend::MariaDb);
    let locks_before = Sql::of(&demo).one("SELECT COUNT(*) FROM stack_lock");
    // What one uninterrupted first run converts.
    let reference = Clone::of(&demo.name);
    let r = migrate(&reference.url(), &[]);
    assert!(matches!(r.code, 0 | 3), "{}", r.stderr);
    let expected = convergence_roots(&mut Sql::mysql(&reference.name));
    assert!(expected.len() > 5, "the demo converts trees");

    // Where each kill landed, for the log: the state the next run started from.
    let mut landed: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for delay in (0..=90).step_by(3) {
        let db = Clone::of(&demo.name);
        let mut child = Command::new(BIN)
            .args(["migrate", "--db-url", &db.url()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        let mut sql = Sql::mysql(&db.name);
        let ours = sql.our_tables();
        let v1 = ours.contains("heat_converge_schema_history")
            && sql.one("SELECT COUNT(*) FROM heat_converge_schema_history WHERE version = 1")
                == "1";
        let state = match (status.success(), ours.len(), v1) {
            (true, _, _) => "finished before the kill",
            (_, 0, _) => "nothing set up",
            (_, _, false) => "V1 cut off (tables, no history row)",
            _ if !ours.contains("heat_converge_run")
                || sql.one("SELECT COUNT(*) FROM heat_converge_run") == "0" =>
            {
                "set up, no run row"
            }
            _ => "inside the run",
        };
        landed.entry(state).or_default().push(delay);

        let what = format!("killed after {delay} ms ({state})");
        let r = migrate(&db.url(), &[]);
        assert!(
            matches!(r.code, 0 | 3),
            "{what}: rc {}: {}",
            r.code,
            r.stderr
        );
        assert_eq!(convergence_roots(&mut sql), expected, "{what}");
        check_history(&mut sql, &expected, &locks_before, &what);
        // And the run after that has nothing left to do.
        let again = migrate(&db.url(), &[]);
        assert_eq!(again.code, r.code, "{what}: {}", again.stderr);
        assert_eq!(again.json["converted"], 0, "{what}");
    }
    eprintln!("where the kills landed: {landed:?}");
    assert!(
        landed.len() >= 2,
        "every kill landed in one state: {landed:?}"
    );
}

/// The states a first run cut off inside V1 leaves on MySQL/MariaDB, made on purpose
/// (a kill lands there only by chance): the next run must set up and convert.
#[test]
fn a_cut_off_v1_is_recovered_and_foreign_rows_are_left_alone() {
    let bed = Bed::new("cutv1");
    let demo = bed.demo(Backend::MariaDb);
    let locks_before = Sql::of(&demo).one("SELECT COUNT(*) FROM stack_lock");
    let v1 = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations/mysql/V1__heat_converge_history.sql"),
    )
    .unwrap();
    let statements: Vec<&str> = v1.split(';').filter(|s| s.contains("CREATE")).collect();
    assert_eq!(statements.len(), 2);
    let history =
        "CREATE TABLE heat_converge_schema_history (version INT PRIMARY KEY, name VARCHAR(255), \
                   applied_on VARCHAR(255), checksum VARCHAR(255))";
    for (what, setup) in [
        ("first CREATE only", vec![statements[0]]),
        ("both CREATEs, no history table", statements.clone()),
        (
            "both CREATEs, empty history table",
            vec![statements[0], statements[1], history],
        ),
    ] {
        let db = Clone::of(&demo.name);
        let mut sql = Sql::mysql(&db.name);
        for s in setup {
            sql.exec(s);
        }
        let r = migrate(&db.url(), &[]);
        assert!(
            matches!(r.code, 0 | 3),
            "{what}: rc {}: {}",
            r.code,
            r.stderr
        );
        let expected = convergence_roots(&mut sql);
        assert!(expected.len() > 5, "{what}: converted");
        check_history(&mut sql, &expected, &locks_before, what);
    }
    // V2 cut off after its first statement (each commits by itself): applied again.
    let v2 = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations/mysql/V2__heat_converge_utf8mb4.sql"),
    )
    .unwrap();
    let v2: String = v2
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    let first_alter = v2.split(';').find(|s| s.contains("ALTER")).unwrap();
    // Each later migration cut off after a statement that committed by itself, before its
    // record: the next run repairs it and ends with the whole history.
    for (what, statement) in [
        ("V2 cut off", first_alter),
        // V3 and V4 add a column, which MySQL cannot add twice.
        (
            "V3 cut off",
            "ALTER TABLE heat_converge_run ADD COLUMN stopped TEXT",
        ),
        (
            "V4 cut off",
            "ALTER TABLE heat_converge_stack ADD COLUMN traversal VARCHAR(36)",
        ),
        // V6 changes the key in one ALTER: done but not recorded, V6 does nothing more.
        (
            "V6 cut off",
            "ALTER TABLE heat_converge_stack DROP PRIMARY KEY, \
             ADD COLUMN id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY FIRST",
        ),
    ] {
        let db = Clone::of(&demo.name);
        apply_v1_only_mysql(&db.name);
        let mut sql = Sql::mysql(&db.name);
        sql.exec(statement);
        let r = migrate(&db.url(), &[]);
        assert!(
            matches!(r.code, 0 | 3),
            "{what}: rc {}: {}",
            r.code,
            r.stderr
        );
        let expected = convergence_roots(&mut sql);
        check_history(&mut sql, &expected, &locks_before, what);
    }

    // A heat_converge_run with rows and no V1 record is not ours to drop.
    let db = Clone::of(&demo.name);
    let mut sql = Sql::mysql(&db.name);
    sql.exec(statements[0]);
    sql.exec("INSERT INTO heat_converge_run (id, started_at, tool_version, host, options) VALUES ('x', 'now', '0', 'h', '{}')");
    let r = migrate(&db.url(), &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("table heat_converge_run holds rows"),
        "{}",
        r.stderr
    );
    assert_eq!(sql.one("SELECT COUNT(*) FROM heat_converge_run"), "1");
    assert!(convergence_roots(&mut sql).is_empty(), "nothing converted");
}

/// A migration statement that fails after its file's first statement fails the run on
/// MySQL/MariaDB, and the migration is not recorded (refinery's own MySQL driver sends a
/// file as one query and reads only the first result: it recorded such a migration as
/// applied, which this test shows on the same state, so the state really is the case).
/// The state: V1 applied, then `heat_converge_stack` replaced by a view, so that V2's
/// second statement (`ALTER TABLE heat_converge_stack ...`) fails with error 1347.
#[test]
fn a_migration_statement_failing_after_the_first_is_reported_not_swallowed() {
    use heat_converge::db::history::{self, SCHEMA_HISTORY_TABLE};
    let bed = Bed::new("failstmt");
    let demo = bed.demo(Backend::MariaDb);
    let make_state = |name: &str| {
        apply_v1_only_mysql(name);
        let mut sql = Sql::mysql(name);
        sql.exec("RENAME TABLE heat_converge_stack TO hc_stack_aside");
        sql.exec(
            "CREATE VIEW heat_converge_stack AS SELECT run_id, stack_id, root_stack_id, \
             outcome, reason, resources_converted, resources_deleted, templates_deleted \
             FROM hc_stack_aside",
        );
        sql
    };
    let versions = |sql: &mut Sql| -> Vec<String> {
        sql.rows(&format!(
            "SELECT version FROM {SCHEMA_HISTORY_TABLE} ORDER BY version"
        ))
        .into_iter()
        .filter_map(|r| r[0].clone())
        .collect()
    };

    // Control: refinery's own driver on this state records V2 although a statement failed.
    let control = Clone::of(&demo.name);
    let mut sql = make_state(&control.name);
    let mut c = mysql::Conn::new(
        mysql::Opts::from_url(&format!("{MYSQL_SERVER}/{}", control.name)).unwrap(),
    )
    .unwrap();
    let mut runner =
        history::mysql_migrations::migrations::runner().set_target(refinery::Target::Version(2));
    runner.set_migration_table_name(SCHEMA_HISTORY_TABLE);
    let stock = runner.run(&mut c).map(|r| r.applied_migrations().len());
    eprintln!(
        "refinery's own MySQL driver on this state: {stock:?}, history now {:?}",
        versions(&mut sql)
    );
    assert_eq!(
        (stock.ok(), versions(&mut sql)),
        (Some(1), vec!["1".to_string(), "2".to_string()]),
        "refinery's own driver no longer swallows the failure: the control is moot, \
         revisit src/db/mysql/migrations.rs"
    );

    // heat-converge on the same state: the run fails, naming the migration, the statement
    // and the server's error; V2 is not recorded; nothing is converted, no run recorded.
    let db = Clone::of(&demo.name);
    let mut sql = make_state(&db.name);
    let r = migrate(&db.url(), &[]);
    eprintln!(
        "heat-converge on this state: rc {}: {}",
        r.code,
        r.stderr.trim()
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let message = r.json["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    for part in [
        "migration V2__heat_converge_utf8mb4, statement 2 of 3 (ALTER TABLE heat_converge_stack",
        "error 1347",
        "not recorded as applied",
    ] {
        assert!(message.contains(part), "{part:?} not in: {message}");
    }
    assert_eq!(versions(&mut sql), ["1"]);
    assert_eq!(sql.one("SELECT COUNT(*) FROM heat_converge_run"), "0");
    assert!(convergence_roots(&mut sql).is_empty(), "nothing converted");

    // The table put back: the next run applies V2 to V6 and converts.
    sql.exec("DROP VIEW heat_converge_stack");
    sql.exec("RENAME TABLE hc_stack_aside TO heat_converge_stack");
    let r = migrate(&db.url(), &[]);
    assert!(matches!(r.code, 0 | 3), "{}", r.stderr);
    assert_eq!(versions(&mut sql), ["1", "2", "3", "4", "5", "6"]);
    assert!(convergence_roots(&mut sql).len() > 5, "converted");
}

#[test]
fn two_first_runs_started_together_both_succeed() {
    let bed = Bed::new("together");
    for backend in [Backend::MariaDb, Backend::Postgres] {
        let demo = bed.demo(backend);
        let locks_before = Sql::of(&demo).one("SELECT COUNT(*) FROM stack_lock");
        let children: Vec<_> = (0..2)
            .map(|_| {
                Command::new(BIN)
                    .args(["migrate", "--format", "json", "--db-url", &demo.url])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outs: Vec<_> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        let mut converted = 0;
        let mut waited = 0;
        for o in &outs {
            let err = String::from_utf8_lossy(&o.stderr);
            waited += usize::from(err.contains("holds the run lock on"));
            assert!(
                matches!(o.status.code(), Some(0 | 3)),
                "{backend:?}: {:?}: {err}",
                o.status
            );
            let json: Value = serde_json::from_slice(&o.stdout).unwrap();
            converted += json["converted"].as_u64().unwrap();
        }
        eprintln!("{backend:?}: {waited} of the two runs waited for the other");
        let mut sql = Sql::of(&demo);
        let roots = convergence_roots(&mut sql);
        assert_eq!(
            converted as usize,
            roots.len(),
            "{backend:?}: each tree converted once"
        );
        check_history(&mut sql, &roots, &locks_before, &format!("{backend:?}"));
        assert_eq!(
            sql.one("SELECT COUNT(*) FROM heat_converge_run WHERE ended_at IS NOT NULL"),
            "2"
        );
    }
}

/// Holds the run lock as another heat-converge run would (the lock README documents),
/// until dropped.
#[allow(dead_code, clippy::large_enum_variant)] // held, never read; one per test
enum Holder {
    My(mysql::Conn),
    Pg(postgres::Client),
    File(std::fs::File),
}

fn hold_run_lock(db: &HeatDb) -> Holder {
    match db.backend {
        Backend::MariaDb => {
            let mut c = mysql::Conn::new(
                mysql::Opts::from_url(&format!("{MYSQL_SERVER}/{}", db.name)).unwrap(),
            )
            .unwrap();
            let got: Option<i64> = c
                .query_first(format!("SELECT GET_LOCK('heat_converge.{}', 0)", db.name))
                .unwrap();
            assert_eq!(got, Some(1));
            Holder::My(c)
        }
        Backend::Postgres => {
            let mut c = postgres::Client::connect(
                &format!("{PG_SERVER} dbname={}", db.name),
                postgres::NoTls,
            )
            .unwrap();
            let key = i64::from_be_bytes(*b"heatconv");
            assert!(c
                .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
                .unwrap()
                .get::<_, bool>(0));
            Holder::Pg(c)
        }
        Backend::Sqlite => {
            let f =
                std::fs::File::create(format!("{}.heat-converge-lock", db.sqlite_path().display()))
                    .unwrap();
            f.try_lock().unwrap();
            Holder::File(f)
        }
    }
}

#[test]
fn a_run_waits_for_the_run_lock_or_with_no_wait_refuses() {
    let bed = Bed::new("nowait");
    for backend in [Backend::Sqlite, Backend::MariaDb, Backend::Postgres] {
        let demo = bed.demo(backend);
        let holder = hold_run_lock(&demo);
        let r = migrate(&demo.url, &["--no-wait"]);
        assert_eq!(r.code, 1, "{backend:?}: {}", r.stderr);
        assert!(
            r.stderr
                .contains("another heat-converge run holds the run lock on")
                && r.stderr.contains("--no-wait"),
            "{backend:?}: {}",
            r.stderr
        );
        assert_eq!(
            Sql::of(&demo).our_tables(),
            BTreeSet::new(),
            "{backend:?}: wrote nothing"
        );
        // A dry run and status take no lock: they write nothing.
        assert!(matches!(
            migrate(&demo.url, &["--dry-run", "--no-wait"]).code,
            0 | 3
        ));
        assert!(matches!(run(&demo.url, &["status"]).code, 0 | 3));

        // Without --no-wait it says so and waits, then runs once the lock is free.
        let err_path = bed_file(&demo, "stderr");
        let mut child = Command::new(BIN)
            .args(["migrate", "--format", "json", "--db-url", &demo.url])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&err_path).unwrap())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while !std::fs::read_to_string(&err_path)
            .unwrap()
            .contains("waiting")
        {
            assert!(
                child.try_wait().unwrap().is_none(),
                "{backend:?}: ended without waiting"
            );
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{backend:?}: no waiting message"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            child.try_wait().unwrap().is_none(),
            "{backend:?}: did not wait"
        );
        assert_eq!(
            Sql::of(&demo).our_tables(),
            BTreeSet::new(),
            "{backend:?}: wrote while waiting"
        );
        drop(holder);
        let status = child.wait().unwrap();
        let err = std::fs::read_to_string(&err_path).unwrap();
        let _ = std::fs::remove_file(&err_path);
        assert!(
            matches!(status.code(), Some(0 | 3)),
            "{backend:?}: {status:?}: {err}"
        );
        assert!(
            err.contains("another heat-converge run holds the run lock on")
                && err.contains("; waiting"),
            "{err}"
        );
        assert!(
            !convergence_roots(&mut Sql::of(&demo)).is_empty(),
            "{backend:?}: converted"
        );
    }
}

fn bed_file(db: &HeatDb, what: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/first-run");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{}-{what}", db.name))
}

/// Moves the demo's `cfn` root into `project` (a filter must name a project that exists).
/// Heat's own MariaDB columns are often 3-byte `utf8`; a cloud whose Heat database is
/// utf8mb4 can hold any project id, so the test makes `stack.tenant` so first.
fn give_project(sql: &mut Sql, backend: Backend, project: &str) -> String {
    if backend == Backend::MariaDb {
        sql.exec("ALTER TABLE stack MODIFY tenant VARCHAR(256) CHARACTER SET utf8mb4");
    }
    let cfn = sql.one("SELECT id FROM stack WHERE name = 'cfn' AND owner_id IS NULL");
    sql.exec(&format!(
        "UPDATE stack SET tenant = '{project}' WHERE id = '{cfn}'"
    ));
    cfn
}

#[test]
fn an_emoji_project_and_a_huge_option_list_are_recorded() {
    let bed = Bed::new("anyvalue");
    for backend in [Backend::MariaDb, Backend::Postgres, Backend::Sqlite] {
        let demo = bed.demo(backend);
        let project = "projet-🔥-ünïcödé";
        let cfn = give_project(&mut Sql::of(&demo), backend, project);
        let r = migrate(&demo.url, &["--project", project]);
        assert!(matches!(r.code, 0 | 3), "{backend:?}: {}", r.stderr);
        let mut sql = Sql::of(&demo);
        let run_id = r.json["run_id"].as_str().unwrap().to_string();
        let options = sql.one(&format!(
            "SELECT options FROM heat_converge_run WHERE id = '{run_id}'"
        ));
        assert!(options.contains(project), "{backend:?}: {options}");

        // 2,500 stacks named on the command line: about 100 kB of options.
        let ids: Vec<String> = (0..2500).map(|_| cfn.clone()).collect();
        let mut args: Vec<&str> = Vec::new();
        for id in &ids {
            args.push("--stack");
            args.push(id);
        }
        let r = migrate(&demo.url, &args);
        assert!(matches!(r.code, 0 | 3), "{backend:?}: {}", r.stderr);
        let run_id = r.json["run_id"].as_str().unwrap().to_string();
        let options = sql.one(&format!(
            "SELECT options FROM heat_converge_run WHERE id = '{run_id}'"
        ));
        assert!(
            options.ends_with("… (truncated)"),
            "{backend:?}: {}",
            &options[options.len() - 40..]
        );
        assert!(
            options.len() <= 65_535 && options.len() > 60_000,
            "{backend:?}: {} bytes",
            options.len()
        );
        assert!(
            options.starts_with(&format!("{{\"dry_run\":false,\"stacks\":[\"{cfn}\"")),
            "{backend:?}: {}",
            &options[..80]
        );
        if backend == Backend::MariaDb {
            let narrow = sql.rows(&format!(
                "SELECT table_name, column_name, character_set_name FROM information_schema.columns
                 WHERE table_schema = '{}' AND table_name LIKE 'heat\\_converge\\_%'
                   AND character_set_name IS NOT NULL AND character_set_name <> 'utf8mb4'",
                demo.name
            ));
            assert!(narrow.is_empty(), "columns not utf8mb4: {narrow:?}");
        }
    }
}

/// Applies only V1 to a MariaDB database, as a build before V2 did.
fn apply_v1_only_mysql(name: &str) -> refinery::Report {
    use heat_converge::db::history::{self, SCHEMA_HISTORY_TABLE};
    let mut c = mysql::Conn::new(mysql::Opts::from_url(&format!("{MYSQL_SERVER}/{name}")).unwrap())
        .unwrap();
    let mut runner =
        history::mysql_migrations::migrations::runner().set_target(refinery::Target::Version(1));
    runner.set_migration_table_name(SCHEMA_HISTORY_TABLE);
    runner.run(&mut c).unwrap()
}

/// Applies only V1, as a build before V2 did.
fn apply_v1_only(db: &HeatDb) {
    apply_up_to(db, 1);
}

/// Applies V1 to `version` with refinery's own drivers, as a build that stopped there did.
fn apply_up_to(db: &HeatDb, version: i32) {
    use heat_converge::db::history::{self, SCHEMA_HISTORY_TABLE};
    let target = refinery::Target::Version(version);
    let report = match db.backend {
        Backend::MariaDb => {
            let mut c = mysql::Conn::new(
                mysql::Opts::from_url(&format!("{MYSQL_SERVER}/{}", db.name)).unwrap(),
            )
            .unwrap();
            let mut runner = history::mysql_migrations::migrations::runner().set_target(target);
            runner.set_migration_table_name(SCHEMA_HISTORY_TABLE);
            runner.run(&mut c).unwrap()
        }
        Backend::Postgres => {
            let mut c = postgres::Client::connect(
                &format!("{PG_SERVER} dbname={}", db.name),
                postgres::NoTls,
            )
            .unwrap();
            let mut runner = history::postgres_migrations::migrations::runner().set_target(target);
            runner.set_migration_table_name(SCHEMA_HISTORY_TABLE);
            runner.run(&mut c).unwrap()
        }
        Backend::Sqlite => {
            let mut c = rusqlite::Connection::open(db.sqlite_path()).unwrap();
            let mut runner = history::sqlite_migrations::migrations::runner().set_target(target);
            runner.set_migration_table_name(SCHEMA_HISTORY_TABLE);
            runner.run(&mut c).unwrap()
        }
    };
    assert_eq!(report.applied_migrations().len(), version as usize);
}

/// The tables of ours (`heat_converge_*`) that have no primary key.
fn tables_without_primary_key(sql: &mut Sql) -> BTreeSet<String> {
    let ours = sql.our_tables();
    let with_pk: BTreeSet<String> = match sql {
        Sql::My(_) => sql.rows(
            "SELECT table_name FROM information_schema.table_constraints \
             WHERE table_schema = DATABASE() AND constraint_type = 'PRIMARY KEY'",
        ),
        Sql::Pg(_) => sql.rows(
            "SELECT table_name FROM information_schema.table_constraints \
             WHERE table_schema = 'public' AND constraint_type = 'PRIMARY KEY'",
        ),
        Sql::Lite(_) => sql.rows(
            "SELECT DISTINCT m.name FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND p.pk > 0",
        ),
    }
    .into_iter()
    .filter_map(|r| r[0].clone())
    .collect();
    ours.difference(&with_pk).cloned().collect()
}

/// V5 gives `heat_converge_deleted` (made by V4 without a primary key) an id, its rows
/// kept and numbered in the order they were written, on every backend; afterwards every
/// table of ours has a primary key (Galera needs one on each), and a run's audit rows get
/// theirs.
#[test]
fn v5_gives_every_table_of_ours_a_primary_key_and_keeps_the_audit_rows() {
    let bed = Bed::new("v5");
    for backend in [Backend::MariaDb, Backend::Postgres, Backend::Sqlite] {
        let demo = bed.demo(backend);
        apply_up_to(&demo, 4);
        let mut sql = Sql::of(&demo);
        assert_eq!(
            tables_without_primary_key(&mut sql),
            BTreeSet::from(["heat_converge_deleted".to_string()]),
            "{backend:?} after V4"
        );
        // Audit rows written by a build at V4.
        for (row, name) in [(11, "first"), (7, "second"), (42, "third")] {
            sql.exec(&format!(
                "INSERT INTO heat_converge_deleted (run_id, root_stack_id, stack_id, kind, \
                 row_id, uuid, name, type, physical_id, action, status, reason) VALUES \
                 ('r', 'root', 's', 'resource', {row}, NULL, '{name}', 'OS::Heat::None', \
                 NULL, 'CREATE', 'COMPLETE', 'not in the template')"
            ));
        }
        let r = migrate(&demo.url, &[]);
        assert!(matches!(r.code, 0 | 3), "{backend:?}: {}", r.stderr);
        assert_eq!(
            r.json["migrations_applied"],
            serde_json::json!([
                "V5__heat_converge_primary_keys",
                "V6__heat_converge_stack_id"
            ]),
            "{backend:?}"
        );
        let mut sql = Sql::of(&demo);
        assert_eq!(
            tables_without_primary_key(&mut sql),
            BTreeSet::new(),
            "{backend:?} after V5"
        );
        let kept = sql.rows(
            "SELECT id, row_id, name FROM heat_converge_deleted WHERE run_id = 'r' ORDER BY id",
        );
        let kept: Vec<Vec<String>> = kept
            .into_iter()
            .map(|r| r.into_iter().map(Option::unwrap_or_default).collect())
            .collect();
        assert_eq!(
            kept,
            [
                ["1", "11", "first"],
                ["2", "7", "second"],
                ["3", "42", "third"]
            ],
            "{backend:?}: the V4 rows, numbered in their order"
        );
        // The run's own audit rows come after them, each with an id of its own.
        let run_id = r.json["run_id"].as_str().unwrap();
        let ids = sql.rows(&format!(
            "SELECT id FROM heat_converge_deleted WHERE run_id = '{run_id}'"
        ));
        assert!(!ids.is_empty(), "{backend:?}: the demo run deletes rows");
        let ids: BTreeSet<i64> = ids
            .iter()
            .map(|r| r[0].as_deref().unwrap().parse().unwrap())
            .collect();
        assert!(ids.iter().all(|id| *id > 3), "{backend:?}: {ids:?}");
        eprintln!(
            "{backend:?}: V5 applied, 3 V4 rows kept as ids 1-3, the run's {} audit rows \
             ids {:?}..{:?}",
            ids.len(),
            ids.first(),
            ids.last()
        );
    }
}

/// The columns of `table`'s primary key, in key order.
fn primary_key_columns(sql: &mut Sql, table: &str) -> Vec<String> {
    let q = match sql {
        Sql::My(_) => format!(
            "SELECT column_name FROM information_schema.key_column_usage \
             WHERE table_schema = DATABASE() AND table_name = '{table}' \
             AND constraint_name = 'PRIMARY' ORDER BY ordinal_position"
        ),
        Sql::Pg(_) => format!(
            "SELECT k.column_name FROM information_schema.table_constraints c \
             JOIN information_schema.key_column_usage k \
             ON k.constraint_name = c.constraint_name AND k.table_name = c.table_name \
             WHERE c.table_schema = 'public' AND c.table_name = '{table}' \
             AND c.constraint_type = 'PRIMARY KEY' ORDER BY k.ordinal_position"
        ),
        Sql::Lite(_) => {
            format!("SELECT name FROM pragma_table_info('{table}') WHERE pk > 0 ORDER BY pk")
        }
    };
    sql.rows(&q)
        .into_iter()
        .filter_map(|r| r[0].clone())
        .collect()
}

/// V6 keys `heat_converge_stack` by an id given in write order instead of (run_id,
/// stack_id), on every backend: the records an older build wrote are kept, numbered in
/// their order, and a run's records come after them, numbered in the order written.
#[test]
fn v6_keys_the_stack_records_by_an_id_in_write_order_and_keeps_them() {
    let bed = Bed::new("v6");
    for backend in [Backend::MariaDb, Backend::Postgres, Backend::Sqlite] {
        let demo = bed.demo(backend);
        apply_up_to(&demo, 5);
        let mut sql = Sql::of(&demo);
        assert_eq!(
            primary_key_columns(&mut sql, "heat_converge_stack"),
            ["run_id", "stack_id"],
            "{backend:?} after V5"
        );
        // Records written by a build at V5 (in key order, so MySQL's numbering, which
        // follows the old key, is the order they were written in too).
        for (stack, outcome, reason) in [
            ("a", "converted", "NULL"),
            ("b", "skipped", "'busy'"),
            ("c", "converted", "NULL"),
        ] {
            sql.exec(&format!(
                "INSERT INTO heat_converge_stack (run_id, stack_id, root_stack_id, outcome, \
                 reason, resources_converted, resources_deleted, templates_deleted, \
                 traversal) VALUES ('r', '{stack}', 'a', '{outcome}', {reason}, 2, 1, 0, NULL)"
            ));
        }
        let r = migrate(&demo.url, &[]);
        assert!(matches!(r.code, 0 | 3), "{backend:?}: {}", r.stderr);
        assert_eq!(
            r.json["migrations_applied"],
            serde_json::json!(["V6__heat_converge_stack_id"]),
            "{backend:?}"
        );
        let mut sql = Sql::of(&demo);
        assert_eq!(
            primary_key_columns(&mut sql, "heat_converge_stack"),
            ["id"],
            "{backend:?} after V6"
        );
        assert_eq!(
            tables_without_primary_key(&mut sql),
            BTreeSet::new(),
            "{backend:?} after V6"
        );
        let kept: Vec<Vec<String>> = sql
            .rows(
                "SELECT id, stack_id, outcome, reason, resources_converted FROM \
                 heat_converge_stack WHERE run_id = 'r' ORDER BY id",
            )
            .into_iter()
            .map(|r| r.into_iter().map(Option::unwrap_or_default).collect())
            .collect();
        assert_eq!(
            kept,
            [
                ["1", "a", "converted", "", "2"],
                ["2", "b", "skipped", "busy", "2"],
                ["3", "c", "converted", "", "2"]
            ],
            "{backend:?}: the V5 records, numbered in their order"
        );
        // The run's records: after the old ones, in the order written, each tree's
        // stacks together.
        let run_id = r.json["run_id"].as_str().unwrap();
        let rows = sql.rows(&format!(
            "SELECT id, outcome, root_stack_id FROM heat_converge_stack \
             WHERE run_id = '{run_id}' ORDER BY id"
        ));
        let converted_stacks: u64 = r.json["trees"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["outcome"] == "converted")
            .map(|t| t["stacks"].as_u64().unwrap())
            .sum();
        assert_eq!(
            rows.iter()
                .filter(|r| r[1].as_deref() == Some("converted"))
                .count() as u64,
            converted_stacks,
            "{backend:?}: a record per converted stack"
        );
        let ids: Vec<i64> = rows
            .iter()
            .map(|r| r[0].as_deref().unwrap().parse().unwrap())
            .collect();
        assert!(
            ids[0] > 3 && ids.windows(2).all(|w| w[0] < w[1]),
            "{backend:?}: {ids:?}"
        );
        let mut roots_seen: Vec<&str> = Vec::new();
        for r in &rows {
            let root = r[2].as_deref().unwrap();
            if roots_seen.last() != Some(&root) {
                assert!(
                    !roots_seen.contains(&root),
                    "{backend:?}: tree {root} split"
                );
                roots_seen.push(root);
            }
        }
        eprintln!(
            "{backend:?}: V6 applied, 3 V5 records kept as ids 1-3, the run's {} records \
             ids {}..{} in {} trees",
            ids.len(),
            ids[0],
            ids[ids.len() - 1],
            roots_seen.len()
        );
    }
}

#[test]
fn v2_upgrades_a_database_set_up_by_v1_and_keeps_its_rows() {
    let bed = Bed::new("v2");
    for backend in [Backend::MariaDb, Backend::Postgres, Backend::Sqlite] {
        let demo = bed.demo(backend);
        apply_v1_only(&demo);
        let mut sql = Sql::of(&demo);
        // A run recorded by the older build (V1 takes only 3-byte characters on MariaDB).
        sql.exec(
            "INSERT INTO heat_converge_run (id, started_at, ended_at, tool_version, host, options, \
             stacks_converted, trees_converted, trees_skipped, trees_remaining) VALUES \
             ('11111111-2222-4333-8444-555555555555', '2025-01-01T00:00:00Z', '2025-01-01T00:01:00Z', \
             '0.0.9', 'héte', '{\"project\":\"é\"}', 0, 0, 1, 1)",
        );
        sql.exec(
            "INSERT INTO heat_converge_stack (run_id, stack_id, root_stack_id, outcome, reason, \
             resources_converted, resources_deleted, templates_deleted) VALUES \
             ('11111111-2222-4333-8444-555555555555', 's', 's', 'skipped', 'busy: é', 0, 0, 0)",
        );
        let old_run = "SELECT id, started_at, ended_at, tool_version, host, options, trees_skipped FROM heat_converge_run WHERE tool_version = '0.0.9'";
        let old_stack = "SELECT run_id, stack_id, outcome, reason FROM heat_converge_stack WHERE stack_id = 's'";
        let (run_before, stack_before) = (sql.rows(old_run), sql.rows(old_stack));

        give_project(&mut sql, backend, "🔥");
        let r = migrate(&demo.url, &["--project", "🔥"]);
        assert!(matches!(r.code, 0 | 3), "{backend:?}: {}", r.stderr);
        assert_eq!(
            r.json["migrations_applied"],
            serde_json::json!([
                "V2__heat_converge_utf8mb4",
                "V3__heat_converge_run_stopped",
                "V4__heat_converge_audit",
                "V5__heat_converge_primary_keys",
                "V6__heat_converge_stack_id"
            ]),
            "{backend:?}"
        );
        let mut sql = Sql::of(&demo);
        assert_eq!(sql.rows(old_run), run_before, "{backend:?}");
        assert_eq!(sql.rows(old_stack), stack_before, "{backend:?}");
        assert_eq!(
            sql.one("SELECT COUNT(*) FROM heat_converge_schema_history"),
            "6"
        );
        let run_id = r.json["run_id"].as_str().unwrap().to_string();
        let options = sql.one(&format!(
            "SELECT options FROM heat_converge_run WHERE id = '{run_id}'"
        ));
        assert!(
            options.contains("\"project\":\"🔥\""),
            "{backend:?}: {options}"
        );
    }
}
