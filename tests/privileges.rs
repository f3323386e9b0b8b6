//! A database user that lacks something a run does (issue 18, "Preflight"), on the real
//! servers: before the first write, `migrate` asks the server whether its user can do
//! everything the run will do, and a missing privilege is exit 1 naming the privilege, the
//! table and the user, the database left exactly as it was (no table of ours, no index, no
//! run record); the same user given everything converts the demo. A privilege revoked
//! while a run is going (or a SQLite directory made read-only under it) stops the run at
//! the next batch with exit 1, the trees converted before it counted and reported, not a
//! string of trees "refused by the database".
//!
//! Every user, role and database made here is named `pf_...` and dropped at the end.

mod common;

use common::{json, Backend, Bed};
use mysql::prelude::Queryable;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

const BIN: &str = env!("CARGO_BIN_EXE_heat-converge");
const MYSQL_ADMIN: &str = "mysql://heatconv:heatconv@127.0.0.1:3306";
/// The local PostgreSQL's superuser (trusted over local TCP): roles need it.
const PG_ADMIN: &str = "host=127.0.0.1 port=5432 user=postgres";
/// The password of every user made here.
const PASSWORD: &str = "pf";

static SERIAL: AtomicUsize = AtomicUsize::new(0);

fn unique(what: &str) -> String {
    format!(
        "pf_{what}_{}_{}",
        std::process::id(),
        SERIAL.fetch_add(1, Ordering::SeqCst)
    )
}

/// A Heat database of this test's own (a copy of the shipped demo, or the demo's trees
/// replicated), named `pf_...`, dropped on drop.
struct PfDb {
    backend: Backend,
    name: String,
    /// The SQLite file (in a directory of its own).
    file: Option<PathBuf>,
    bed: Bed,
}

impl PfDb {
    fn demo(bed: &Bed, backend: Backend, what: &str) -> PfDb {
        let db = PfDb::named(bed, backend, what);
        let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo.sqlite");
        match &db.file {
            Some(f) => {
                std::fs::copy(&demo, f).expect("copy the demo");
            }
            None => {
                let src = format!("sqlite:///{}", demo.display());
                bed.run(&["copy", &src, &db.bed_url()])
                    .unwrap_or_else(|e| panic!("{e}"));
            }
        }
        db
    }

    /// The demo's trees copied to `roots` live roots (the benchmark's generator).
    fn replicated(bed: &Bed, backend: Backend, what: &str, roots: usize) -> PfDb {
        let db = PfDb::named(bed, backend, what);
        let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo.sqlite");
        let src = format!("sqlite:///{}", demo.display());
        bed.run(&["replicate", &src, &db.bed_url(), &roots.to_string()])
            .unwrap_or_else(|e| panic!("{e}"));
        db
    }

    fn named(bed: &Bed, backend: Backend, what: &str) -> PfDb {
        let name = unique(what);
        let file = (backend == Backend::Sqlite).then(|| {
            let dir = bed.dir(&name);
            dir.join(format!("{name}.sqlite"))
        });
        PfDb {
            backend,
            name,
            file,
            bed: bed.clone(),
        }
    }

    /// The URL the bed's driver (SQLAlchemy) uses, as the bed's own user.
    fn bed_url(&self) -> String {
        match self.backend {
            Backend::MariaDb => format!(
                "mysql+pymysql://heatconv:heatconv@127.0.0.1:3306/{}?charset=utf8",
                self.name
            ),
            Backend::Postgres => format!(
                "postgresql+psycopg2://heatconv:heatconv@127.0.0.1:5432/{}",
                self.name
            ),
            Backend::Sqlite => format!("sqlite:///{}", self.file().display()),
        }
    }

    /// heat-converge's URL as `user` (every user here has the password [`PASSWORD`]).
    fn url_as(&self, user: &str) -> String {
        match self.backend {
            Backend::MariaDb => format!(
                "mysql+pymysql://{user}:{PASSWORD}@127.0.0.1:3306/{}",
                self.name
            ),
            Backend::Postgres => {
                format!(
                    "postgresql://{user}:{PASSWORD}@127.0.0.1:5432/{}",
                    self.name
                )
            }
            Backend::Sqlite => format!("sqlite:///{}", self.file().display()),
        }
    }

    fn file(&self) -> &Path {
        self.file.as_deref().expect("a SQLite database")
    }

    fn dir(&self) -> &Path {
        self.file().parent().expect("the SQLite file's directory")
    }

    /// Runs statements as the administrator (MariaDB: the bed's user, which may grant;
    /// PostgreSQL: the superuser), `;`-separated.
    fn exec(&self, sql: &str) {
        match self.backend {
            Backend::MariaDb => {
                let mut c = mysql::Conn::new(
                    mysql::Opts::from_url(&format!("{MYSQL_ADMIN}/{}", self.name)).unwrap(),
                )
                .unwrap();
                c.query_drop(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
            Backend::Postgres => {
                let mut c = postgres::Client::connect(
                    &format!("{PG_ADMIN} dbname={}", self.name),
                    postgres::NoTls,
                )
                .unwrap();
                c.batch_execute(sql)
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
            Backend::Sqlite => rusqlite::Connection::open(self.file())
                .and_then(|c| c.execute_batch(sql))
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
        }
    }

    /// Runs statements as the owner of Heat's tables (the bed's user).
    fn exec_as_owner(&self, sql: &str) {
        match self.backend {
            Backend::Postgres => {
                let mut c = postgres::Client::connect(
                    &format!(
                        "host=127.0.0.1 port=5432 user=heatconv password=heatconv dbname={}",
                        self.name
                    ),
                    postgres::NoTls,
                )
                .unwrap();
                c.batch_execute(sql)
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
            _ => self.exec(sql),
        }
    }

    /// The rows of a query (as the administrator), every cell as text.
    fn rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        match self.backend {
            Backend::MariaDb => {
                let mut c = mysql::Conn::new(
                    mysql::Opts::from_url(&format!("{MYSQL_ADMIN}/{}", self.name)).unwrap(),
                )
                .unwrap();
                let rows: Vec<mysql::Row> = c.query(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
                rows.into_iter()
                    .map(|r| {
                        r.unwrap()
                            .into_iter()
                            .map(|v| match v {
                                mysql::Value::NULL => None,
                                mysql::Value::Bytes(b) => {
                                    Some(String::from_utf8_lossy(&b).into_owned())
                                }
                                other => Some(other.as_sql(true).trim_matches('\'').to_string()),
                            })
                            .collect()
                    })
                    .collect()
            }
            Backend::Postgres => {
                let mut c = postgres::Client::connect(
                    &format!("{PG_ADMIN} dbname={}", self.name),
                    postgres::NoTls,
                )
                .unwrap();
                c.simple_query(sql)
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
                    .into_iter()
                    .filter_map(|m| match m {
                        postgres::SimpleQueryMessage::Row(r) => {
                            Some((0..r.len()).map(|i| r.get(i).map(String::from)).collect())
                        }
                        _ => None,
                    })
                    .collect()
            }
            Backend::Sqlite => {
                let c = rusqlite::Connection::open(self.file()).unwrap();
                let mut stmt = c.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
                let n = stmt.column_count();
                stmt.query_map([], |r| {
                    Ok((0..n)
                        .map(|i| match r.get_ref(i).unwrap() {
                            rusqlite::types::ValueRef::Null => None,
                            rusqlite::types::ValueRef::Integer(v) => Some(v.to_string()),
                            rusqlite::types::ValueRef::Real(v) => Some(v.to_string()),
                            rusqlite::types::ValueRef::Text(t)
                            | rusqlite::types::ValueRef::Blob(t) => {
                                Some(String::from_utf8_lossy(t).into_owned())
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

    fn one(&self, sql: &str) -> String {
        let rows = self.rows(sql);
        assert_eq!(rows.len(), 1, "{sql}: {rows:?}");
        rows[0][0].clone().unwrap_or_default()
    }

    /// Heat's base tables and ours, by name.
    fn tables(&self) -> Vec<String> {
        let sql = match self.backend {
            Backend::MariaDb => {
                "SELECT table_name FROM information_schema.tables \
                 WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY 1"
            }
            Backend::Postgres => {
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            }
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' ORDER BY 1"
            }
        };
        self.rows(sql)
            .into_iter()
            .filter_map(|r| r[0].clone())
            .collect()
    }

    /// Everything a run could change: every table (and view) and a checksum of its rows,
    /// every index, every sequence; for SQLite the file's bytes and its directory's names.
    fn state(&self) -> Vec<String> {
        match self.backend {
            Backend::MariaDb => {
                let mut out: Vec<String> = self
                    .rows(
                        "SELECT table_name, table_type FROM information_schema.tables \
                         WHERE table_schema = DATABASE() ORDER BY 1",
                    )
                    .into_iter()
                    .map(|r| format!("{r:?}"))
                    .collect();
                let list = self.tables().join(", ");
                out.extend(
                    self.rows(&format!("CHECKSUM TABLE {list}"))
                        .into_iter()
                        .map(|r| format!("{r:?}")),
                );
                out.extend(
                    self.rows(
                        "SELECT table_name, index_name, column_name \
                         FROM information_schema.statistics WHERE table_schema = DATABASE() \
                         ORDER BY 1, 2, seq_in_index",
                    )
                    .into_iter()
                    .map(|r| format!("{r:?}")),
                );
                out
            }
            Backend::Postgres => {
                let mut out = Vec::new();
                for t in self.tables() {
                    out.push(format!(
                        "{t}: {}",
                        self.one(&format!(
                            "SELECT md5(COALESCE(string_agg(x::text, '|' ORDER BY x::text), '')) \
                             FROM {t} x"
                        ))
                    ));
                }
                for q in [
                    "SELECT tablename, indexname, indexdef FROM pg_indexes \
                     WHERE schemaname = 'public' ORDER BY 1, 2",
                    "SELECT sequencename, last_value FROM pg_sequences \
                     WHERE schemaname = 'public' ORDER BY 1",
                    "SELECT viewname FROM pg_views WHERE schemaname = 'public' ORDER BY 1",
                ] {
                    out.extend(self.rows(q).into_iter().map(|r| format!("{r:?}")));
                }
                out
            }
            Backend::Sqlite => {
                let bytes = std::fs::read(self.file()).expect("read the SQLite file");
                let mut names: Vec<String> = std::fs::read_dir(self.dir())
                    .unwrap()
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect();
                names.sort();
                vec![
                    format!("{} bytes, sum {}", bytes.len(), checksum(&bytes)),
                    format!("files {names:?}"),
                ]
            }
        }
    }

    /// Live roots on convergence.
    fn converged_roots(&self) -> usize {
        self.one(
            "SELECT COUNT(*) FROM stack WHERE owner_id IS NULL AND deleted_at IS NULL \
             AND CASE WHEN convergence THEN 1 ELSE 0 END = 1",
        )
        .parse()
        .unwrap()
    }

    fn root_id(&self, name: &str) -> String {
        self.one(&format!(
            "SELECT id FROM stack WHERE name = '{name}' AND owner_id IS NULL"
        ))
    }

    /// Indexes like the temporary ones, made for good (under other names), so that a run
    /// needs no index of its own and a user who does not own the tables can run.
    fn index_lookup_columns(&self) {
        for (table, column) in [
            ("resource", "stack_id"),
            ("resource", "current_template_id"),
            ("stack", "raw_template_id"),
            ("stack", "prev_raw_template_id"),
            ("raw_template", "files_id"),
        ] {
            self.exec_as_owner(&format!(
                "CREATE INDEX pf_ix_{table}_{column} ON {table} ({column})"
            ));
        }
    }
}

impl Drop for PfDb {
    fn drop(&mut self) {
        if std::env::var_os("HEATBED_KEEP").is_some() {
            eprintln!("keeping {}", self.bed_url());
            return;
        }
        match &self.file {
            Some(_) => {
                let _ = Command::new("chattr").arg("-i").arg(self.dir()).status();
                let _ = Command::new("chattr").arg("-i").arg(self.file()).status();
                let _ = std::fs::remove_dir_all(self.dir());
            }
            None => {
                let _ = self.bed.run(&["dropdb", &self.bed_url()]);
            }
        }
    }
}

/// A small checksum of a file's bytes (FNV-1a), for messages; the bytes are compared.
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// A database user (MariaDB user or role, PostgreSQL role) of this test, dropped on drop.
struct PfUser {
    backend: Backend,
    name: String,
    /// The database it was given privileges in (PostgreSQL drops them there first).
    db: String,
    role: bool,
}

impl PfUser {
    fn new(db: &PfDb, what: &str) -> PfUser {
        let user = PfUser {
            backend: db.backend,
            name: unique(what),
            db: db.name.clone(),
            role: false,
        };
        match db.backend {
            Backend::MariaDb => db.exec(&format!(
                "CREATE USER '{}'@'%' IDENTIFIED BY '{PASSWORD}'",
                user.name
            )),
            Backend::Postgres => db.exec(&format!(
                "CREATE ROLE {} LOGIN PASSWORD '{PASSWORD}'",
                user.name
            )),
            Backend::Sqlite => unreachable!("SQLite has no users"),
        }
        user
    }

    /// A MariaDB role.
    fn role(db: &PfDb, what: &str) -> PfUser {
        let role = PfUser {
            backend: db.backend,
            name: unique(what),
            db: db.name.clone(),
            role: true,
        };
        db.exec(&format!("CREATE ROLE {}", role.name));
        role
    }

    /// `'name'@'%'` (MariaDB), `name` (PostgreSQL), as grants name it.
    fn grantee(&self) -> String {
        match (self.backend, self.role) {
            (Backend::MariaDb, false) => format!("'{}'@'%'", self.name),
            _ => self.name.clone(),
        }
    }
}

impl Drop for PfUser {
    fn drop(&mut self) {
        match self.backend {
            Backend::MariaDb => {
                if let Ok(mut c) = mysql::Conn::new(mysql::Opts::from_url(MYSQL_ADMIN).unwrap()) {
                    let what = if self.role { "ROLE" } else { "USER" };
                    let _ = c.query_drop(format!("DROP {what} IF EXISTS {}", self.grantee()));
                }
            }
            Backend::Postgres => {
                for (db, sql) in [
                    (self.db.as_str(), format!("DROP OWNED BY {}", self.name)),
                    ("postgres", format!("DROP ROLE IF EXISTS {}", self.name)),
                ] {
                    if let Ok(mut c) = postgres::Client::connect(
                        &format!("{PG_ADMIN} dbname={db}"),
                        postgres::NoTls,
                    ) {
                        let _ = c.batch_execute(&sql);
                    }
                }
            }
            Backend::Sqlite => {}
        }
    }
}

/// What a run printed: its exit code, its JSON document, its stderr.
#[derive(Debug)]
struct Ran {
    code: i32,
    json: Value,
    stderr: String,
}

/// `heat-converge migrate --format json` on `url`, with `extra` options.
fn migrate(url: &str, extra: &[&str]) -> Ran {
    run_command(Command::new(BIN), url, extra)
}

/// The same as the operating system's `nobody`, when this test runs as root (SQLite's
/// privileges are the file system's; root may write anything not immutable).
fn migrate_as_nobody(url: &str) -> Ran {
    if !is_root() {
        return migrate(url, &[]);
    }
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN]);
    run_command(cmd, url, &[])
}

fn run_command(mut cmd: Command, url: &str, extra: &[&str]) -> Ran {
    let out = cmd
        .args(["migrate", "--format", "json", "--db-url", url])
        .args(extra)
        .output()
        .expect("run heat-converge");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    Ran {
        code: out.status.code().unwrap_or(-1),
        json: json(&stdout),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// The error message of a run that must have been refused before anything was written.
fn refused(ran: &Ran, what: &str) -> String {
    assert_eq!(ran.code, 1, "{what}: expected exit 1: {ran:?}");
    assert_eq!(ran.json["exit_code"], 1, "{what}: {}", ran.json);
    let message = ran.json["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no error message: {}", ran.json))
        .to_string();
    eprintln!("{what}: exit 1:\n{message}\n");
    message
}

/// Whether one line of `message` names `privilege` on `table` (a whole table name).
fn names(message: &str, privilege: &str, table: &str) -> bool {
    message.lines().any(|line| {
        line.contains(privilege)
            && line
                .match_indices(&format!("on table {table}"))
                .any(|(at, m)| {
                    !line[at + m.len()..]
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_')
                })
    })
}

/// A run that converted the demo as the README says: 11 of 13 trees, exit 3.
fn converted_the_demo(ran: &Ran, what: &str) {
    assert_eq!(ran.code, 3, "{what}: {ran:?}");
    assert_eq!(ran.json["legacy_trees"], 13, "{what}");
    assert_eq!(ran.json["converted"], 11, "{what}");
    assert_eq!(ran.json["left_alone"], 2, "{what}");
    eprintln!("{what}: exit 3, 11 of 13 trees converted");
}

/// The statements a run sends, by privilege and table: each is taken away in turn.
const NEEDS: &[(&str, &str)] = &[
    ("SELECT", "stack"),
    ("SELECT", "resource"),
    ("SELECT", "raw_template"),
    ("SELECT", "raw_template_files"),
    ("SELECT", "stack_lock"),
    ("SELECT", "service"),
    ("SELECT", "resource_data"),
    ("SELECT", "resource_properties_data"),
    ("SELECT", "alembic_version"),
    ("SELECT", "heat_converge_schema_history"),
    ("SELECT", "heat_converge_run"),
    ("SELECT", "heat_converge_stack"),
    ("SELECT", "heat_converge_deleted"),
    ("INSERT", "stack_lock"),
    ("INSERT", "heat_converge_run"),
    ("INSERT", "heat_converge_stack"),
    ("INSERT", "heat_converge_deleted"),
    ("UPDATE", "stack"),
    ("UPDATE", "resource"),
    ("UPDATE", "heat_converge_run"),
    ("DELETE", "stack_lock"),
    ("DELETE", "resource"),
    ("DELETE", "resource_data"),
    ("DELETE", "resource_properties_data"),
    ("DELETE", "raw_template"),
    ("DELETE", "raw_template_files"),
];

const DML: [&str; 4] = ["SELECT", "INSERT", "UPDATE", "DELETE"];

/// A demo on which heat-converge ran once (converting nothing: only the failed tree was
/// asked for), so that our tables are there: then a run needs no DDL at all.
fn set_up_demo(bed: &Bed, backend: Backend, what: &str) -> PfDb {
    let db = PfDb::demo(bed, backend, what);
    let failed = db.root_id("failed");
    let first = migrate(&db.url_as_owner(), &["--stack", &failed]);
    assert_eq!(first.code, 3, "the set-up run: {first:?}");
    assert_eq!(first.json["converted"], 0);
    db
}

impl PfDb {
    /// heat-converge's URL as the owner of Heat's tables (the bed's user).
    fn url_as_owner(&self) -> String {
        match self.backend {
            Backend::MariaDb => format!(
                "mysql+pymysql://heatconv:heatconv@127.0.0.1:3306/{}",
                self.name
            ),
            Backend::Postgres => format!(
                "postgresql://heatconv:heatconv@127.0.0.1:5432/{}",
                self.name
            ),
            Backend::Sqlite => self.url_as(""),
        }
    }
}

/// V1's tables as a first run cut off inside V1 leaves them on MariaDB (no history row).
fn leave_cut_off_v1(db: &PfDb) {
    let v1 = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations/mysql/V1__heat_converge_history.sql"),
    )
    .unwrap();
    db.exec(&v1);
}

#[test]
fn mariadb_a_missing_privilege_is_named_and_nothing_is_written() {
    let bed = Bed::new("pf_mariadb");

    // A first run needs CREATE and ALTER for our tables (and DROP when a cut-off first
    // run left some); without one of them nothing is made.
    let fresh = PfDb::demo(&bed, Backend::MariaDb, "fresh");
    let before = fresh.state();
    let db = &fresh.name;
    for (missing, tables) in [
        (
            "CREATE",
            &["heat_converge_run", "heat_converge_schema_history"][..],
        ),
        ("ALTER", &["heat_converge_run", "heat_converge_stack"][..]),
    ] {
        let user = PfUser::new(&fresh, "ddl");
        let granted: Vec<&str> = [
            "SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "ALTER", "INDEX", "DROP",
        ]
        .into_iter()
        .filter(|p| *p != missing)
        .collect();
        fresh.exec(&format!(
            "GRANT {} ON `{db}`.* TO {}",
            granted.join(", "),
            user.grantee()
        ));
        let message = refused(
            &migrate(&fresh.url_as(&user.name), &[]),
            &format!("without {missing}"),
        );
        for table in tables {
            assert!(
                names(&message, missing, table),
                "{missing} on {table}: {message}"
            );
        }
        assert!(
            message.contains(&user.grantee()),
            "the user is named: {message}"
        );
        assert_eq!(
            fresh.state(),
            before,
            "without {missing}: the database changed"
        );
    }
    // A first run cut off inside V1 left our tables: the next run drops them (DROP).
    leave_cut_off_v1(&fresh);
    let with_leftovers = fresh.state();
    {
        let user = PfUser::new(&fresh, "nodrop");
        fresh.exec(&format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX ON `{db}`.* TO {}",
            user.grantee()
        ));
        let message = refused(&migrate(&fresh.url_as(&user.name), &[]), "without DROP");
        assert!(names(&message, "DROP", "heat_converge_run"), "{message}");
        assert!(names(&message, "DROP", "heat_converge_stack"), "{message}");
        assert_eq!(
            fresh.state(),
            with_leftovers,
            "without DROP: the database changed"
        );
    }
    // The same, given everything: the leftovers are cleared and the demo converts.
    let everything = PfUser::new(&fresh, "all");
    fresh.exec(&format!(
        "GRANT ALL ON `{db}`.* TO {}",
        everything.grantee()
    ));
    converted_the_demo(
        &migrate(&fresh.url_as(&everything.name), &[]),
        "MariaDB, a first run given everything",
    );

    // Our tables there (a run went before): a run needs no DDL. Each statement a run
    // sends is taken away in turn, at table level (every other table keeps it).
    let set_up = set_up_demo(&bed, Backend::MariaDb, "setup");
    let before = set_up.state();
    let db = &set_up.name;
    let tables = set_up.tables();
    for (privilege, table) in NEEDS {
        let user = PfUser::new(&set_up, "dml");
        let others: Vec<&str> = DML.into_iter().filter(|p| p != privilege).collect();
        let mut grants = vec![format!(
            "GRANT {} ON `{db}`.* TO {}",
            others.join(", "),
            user.grantee()
        )];
        for t in tables.iter().filter(|t| t != table) {
            grants.push(format!(
                "GRANT {privilege} ON `{db}`.`{t}` TO {}",
                user.grantee()
            ));
        }
        set_up.exec(&grants.join("; "));
        let what = format!("MariaDB without {privilege} on {table}");
        let message = refused(&migrate(&set_up.url_as(&user.name), &[]), &what);
        assert!(names(&message, privilege, table), "{what}: {message}");
        assert!(
            message.contains(&user.name),
            "{what}: the user is named: {message}"
        );
        assert_eq!(set_up.state(), before, "{what}: the database changed");
    }
    // A temporary index a killed run left is dropped by the next run: INDEX. (MariaDB
    // indexes every foreign key, so a run makes none; one left there is made here.)
    set_up.exec("CREATE INDEX heat_converge_ix_resource_stack_id ON resource (stack_id)");
    let with_index = set_up.state();
    {
        let user = PfUser::new(&set_up, "noindex");
        set_up.exec(&format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, DROP ON `{db}`.* TO {}",
            user.grantee()
        ));
        let message = refused(&migrate(&set_up.url_as(&user.name), &[]), "without INDEX");
        assert!(names(&message, "INDEX", "resource"), "{message}");
        assert_eq!(
            set_up.state(),
            with_index,
            "without INDEX: the database changed"
        );
    }
    // InnoDB dropped its own index of the foreign key for that one: another first.
    set_up.exec(
        "CREATE INDEX pf_ix_resource_stack_id ON resource (stack_id); \
         DROP INDEX heat_converge_ix_resource_stack_id ON resource",
    );
    // Everything a run needs, through a default role and a column grant, and no DDL
    // privilege at all: the demo converts.
    let role = PfUser::role(&set_up, "role");
    let user = PfUser::new(&set_up, "viarole");
    let mut grants = vec![format!(
        "GRANT SELECT, INSERT, DELETE ON `{db}`.* TO {}",
        role.name
    )];
    for t in tables.iter().filter(|t| *t != "stack") {
        grants.push(format!("GRANT UPDATE ON `{db}`.`{t}` TO {}", role.name));
    }
    grants.push(format!(
        "GRANT UPDATE (convergence, current_traversal, prev_raw_template_id) ON `{db}`.stack TO {}",
        user.grantee()
    ));
    grants.push(format!("GRANT {} TO {}", role.name, user.grantee()));
    grants.push(format!(
        "SET DEFAULT ROLE {} FOR {}",
        role.name,
        user.grantee()
    ));
    set_up.exec(&grants.join("; "));
    converted_the_demo(
        &migrate(&set_up.url_as(&user.name), &[]),
        "MariaDB, DML only, through a role and a column grant",
    );
}

#[test]
fn postgres_a_missing_privilege_is_named_and_nothing_is_written() {
    let bed = Bed::new("pf_postgres");

    // Heat's schema has no index on the columns a run looks rows up by: a run creates
    // them, which PostgreSQL lets only the tables' owner do. And our tables go into the
    // schema: CREATE on it.
    let fresh = PfDb::demo(&bed, Backend::Postgres, "fresh");
    let before = fresh.state();
    {
        let user = PfUser::new(&fresh, "notowner");
        fresh.exec(&format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {0}; \
             GRANT CREATE ON SCHEMA public TO {0}",
            user.name
        ));
        let message = refused(
            &migrate(&fresh.url_as(&user.name), &[]),
            "not the tables' owner",
        );
        for table in ["resource", "stack", "raw_template"] {
            assert!(
                message
                    .lines()
                    .any(|l| l.contains(&format!("ownership of table {table} "))
                        && l.contains("INDEX")),
                "ownership of {table}: {message}"
            );
        }
        assert!(message.contains(&user.name), "{message}");
        assert_eq!(fresh.state(), before, "not the owner: the database changed");
    }
    {
        let user = PfUser::new(&fresh, "nocreate");
        fresh.exec(&format!("GRANT heatconv TO {}", user.name));
        fresh.exec("REVOKE CREATE ON SCHEMA public FROM heatconv, pg_database_owner");
        let message = refused(
            &migrate(&fresh.url_as(&user.name), &[]),
            "without CREATE on the schema",
        );
        assert!(message.contains("CREATE on schema public"), "{message}");
        fresh.exec("GRANT CREATE ON SCHEMA public TO pg_database_owner");
        assert_eq!(
            fresh.state(),
            before,
            "without CREATE: the database changed"
        );
    }
    // A member of the owner's role has everything: the demo converts.
    let everything = PfUser::new(&fresh, "member");
    fresh.exec(&format!("GRANT heatconv TO {}", everything.name));
    converted_the_demo(
        &migrate(&fresh.url_as(&everything.name), &[]),
        "PostgreSQL, a member of the owner's role",
    );

    // Our tables made by an older build (V1 only), owned by another role: the migrations
    // still to apply ALTER them, which only their owner may.
    let v1 = PfDb::demo(&bed, Backend::Postgres, "v1");
    apply_v1_only(&v1);
    v1.index_lookup_columns();
    let before = v1.state();
    {
        let user = PfUser::new(&v1, "noalter");
        v1.exec(&format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {0}; \
             GRANT CREATE ON SCHEMA public TO {0}",
            user.name
        ));
        let message = refused(
            &migrate(&v1.url_as(&user.name), &[]),
            "V1 tables of another owner",
        );
        assert!(
            message.lines().any(|l| l.contains("ownership of table heat_converge_run ")
                && l.contains("ALTER")),
            "{message}"
        );
        assert_eq!(
            v1.state(),
            before,
            "V1 of another owner: the database changed"
        );
    }

    // Our tables there and the look-up columns indexed: a run needs no DDL. Each
    // statement a run sends is taken away in turn.
    let set_up = set_up_demo(&bed, Backend::Postgres, "setup");
    set_up.index_lookup_columns();
    let before = set_up.state();
    let grant_all = |user: &PfUser| {
        format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {0}; \
             GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {0}",
            user.name
        )
    };
    for (privilege, table) in NEEDS {
        let user = PfUser::new(&set_up, "dml");
        set_up.exec(&format!(
            "{}; REVOKE {privilege} ON {table} FROM {}",
            grant_all(&user),
            user.name
        ));
        let what = format!("PostgreSQL without {privilege} on {table}");
        let message = refused(&migrate(&set_up.url_as(&user.name), &[]), &what);
        assert!(names(&message, privilege, table), "{what}: {message}");
        assert!(
            message.contains(&user.name),
            "{what}: the user is named: {message}"
        );
        assert_eq!(set_up.state(), before, "{what}: the database changed");
    }
    // The audit's id comes from a sequence: an insert needs USAGE on it.
    {
        let user = PfUser::new(&set_up, "noseq");
        set_up.exec(&format!(
            "{}; REVOKE USAGE ON ALL SEQUENCES IN SCHEMA public FROM {}",
            grant_all(&user),
            user.name
        ));
        let message = refused(
            &migrate(&set_up.url_as(&user.name), &[]),
            "without USAGE on the sequence",
        );
        assert!(
            message.contains("USAGE on sequence public.heat_converge_deleted_id_seq"),
            "{message}"
        );
        assert_eq!(
            set_up.state(),
            before,
            "without USAGE: the database changed"
        );
    }
    // The run lock is an advisory lock: its functions can be taken away too.
    {
        let user = PfUser::new(&set_up, "nolock");
        set_up.exec(&format!(
            "{}; REVOKE EXECUTE ON FUNCTION pg_try_advisory_lock(bigint) FROM PUBLIC",
            grant_all(&user)
        ));
        let message = refused(
            &migrate(&set_up.url_as(&user.name), &[]),
            "without the advisory lock",
        );
        set_up.exec("GRANT EXECUTE ON FUNCTION pg_try_advisory_lock(bigint) TO PUBLIC");
        assert!(
            message.contains("EXECUTE on function pg_try_advisory_lock(bigint)"),
            "{message}"
        );
        assert_eq!(
            set_up.state(),
            before,
            "without the lock function: the database changed"
        );
    }
    // Grants alone (no ownership, no CREATE), with the indexes there: the demo converts.
    let user = PfUser::new(&set_up, "grants");
    set_up.exec(&grant_all(&user));
    converted_the_demo(
        &migrate(&set_up.url_as(&user.name), &[]),
        "PostgreSQL, table grants only",
    );
}

/// Applies only V1, as a build before V2 did (the bed's user owns the tables).
fn apply_v1_only(db: &PfDb) {
    use heat_converge::db::history::{self, SCHEMA_HISTORY_TABLE};
    let mut c = postgres::Client::connect(
        &format!(
            "host=127.0.0.1 port=5432 user=heatconv password=heatconv dbname={}",
            db.name
        ),
        postgres::NoTls,
    )
    .unwrap();
    let mut runner =
        history::postgres_migrations::migrations::runner().set_target(refinery::Target::Version(1));
    runner.set_migration_table_name(SCHEMA_HISTORY_TABLE);
    let report = runner.run(&mut c).unwrap();
    assert_eq!(report.applied_migrations().len(), 1);
}

#[test]
fn sqlite_a_file_or_directory_that_cannot_be_written_is_refused_before_anything() {
    let bed = Bed::new("pf_sqlite");
    let chown = |path: &Path| {
        if is_root() {
            let ok = Command::new("chown")
                .arg("65534")
                .arg(path)
                .status()
                .unwrap();
            assert!(ok.success());
        }
    };
    let chmod = |path: &Path, mode: &str| {
        let ok = Command::new("chmod").arg(mode).arg(path).status().unwrap();
        assert!(ok.success());
    };

    // The file cannot be written (its directory can).
    let db = PfDb::demo(&bed, Backend::Sqlite, "file");
    chmod(db.file(), "444");
    chmod(db.dir(), "777");
    let before = db.state();
    let message = refused(
        &migrate_as_nobody(&db.url_as("")),
        "a read-only SQLite file",
    );
    assert!(
        message.contains(&format!(
            "write access to the SQLite file {}",
            db.file().display()
        )),
        "{message}"
    );
    assert_eq!(
        db.state(),
        before,
        "a read-only file: something was written"
    );

    // The file can, its directory (the journal, the run lock's file) cannot.
    let db = PfDb::demo(&bed, Backend::Sqlite, "dir");
    chown(db.file());
    chmod(db.dir(), "755");
    let before = db.state();
    if is_root() {
        let message = refused(&migrate_as_nobody(&db.url_as("")), "a read-only directory");
        assert!(
            message.contains(&format!(
                "write access to the directory {}",
                db.dir().display()
            )),
            "{message}"
        );
        assert_eq!(
            db.state(),
            before,
            "a read-only directory: something was written"
        );

        // Immutable: not even root writes it.
        let db = PfDb::demo(&bed, Backend::Sqlite, "immutable");
        let before = db.state();
        assert!(Command::new("chattr")
            .arg("+i")
            .arg(db.file())
            .status()
            .unwrap()
            .success());
        let message = refused(&migrate(&db.url_as(""), &[]), "an immutable SQLite file");
        assert!(Command::new("chattr")
            .arg("-i")
            .arg(db.file())
            .status()
            .unwrap()
            .success());
        assert!(message.contains("read-only"), "{message}");
        assert!(
            message.contains("write access to the SQLite file"),
            "{message}"
        );
        assert_eq!(
            db.state(),
            before,
            "an immutable file: something was written"
        );
    } else {
        eprintln!("not root: the directory and immutable-file cases need root, skipped");
    }

    // The same user with the file and its directory its own: the demo converts.
    let db = PfDb::demo(&bed, Backend::Sqlite, "writable");
    chown(db.file());
    chown(db.dir());
    converted_the_demo(
        &migrate_as_nobody(&db.url_as("")),
        "SQLite, file and directory writable",
    );
}

/// Runs `migrate --format json -v` on `url`, calls `meanwhile` once the first tree is
/// logged as converted (its batch is committed; the run then blocks on its stderr pipe,
/// which this test stops reading, before it reaches the next batch: 1,000 log lines do
/// not fit in a pipe), and returns what the run printed.
fn migrate_with_a_change_after_the_first_batch(url: &str, meanwhile: impl FnOnce()) -> Ran {
    let mut child = Command::new(BIN)
        .args(["migrate", "--format", "json", "-v", "--db-url", url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start heat-converge");
    let mut stdout = child.stdout.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).unwrap();
        s
    });
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        let n = stderr.read_line(&mut line).unwrap();
        assert!(n > 0, "the run ended before converting a tree: {seen}");
        seen.push_str(&line);
        if line.contains("outcome=\"converted\"") {
            break;
        }
    }
    meanwhile();
    stderr.read_to_string(&mut seen).unwrap();
    let status = child.wait().unwrap();
    let stdout = out.join().unwrap();
    Ran {
        code: status.code().unwrap_or(-1),
        json: json(&stdout),
        stderr: seen,
    }
}

/// A run stopped by a refusal every tree meets: exit 1, the report printed, the trees
/// converted before it counted (and really converted), none refused one by one.
fn stopped_after_the_first_batch(ran: &Ran, db: &PfDb, words: &[&str], what: &str) -> usize {
    let j = &ran.json;
    assert_eq!(ran.code, 1, "{what}: {j}\n{}", tail(&ran.stderr));
    assert_eq!(j["exit_code"], 1, "{what}");
    let stopped = j["stopped"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: not stopped: {j}"));
    for w in words {
        assert!(stopped.contains(w), "{what}: {w:?} not in: {stopped}");
    }
    let converted = j["converted"].as_u64().unwrap() as usize;
    assert!(converted > 0, "{what}: the first batch converted trees");
    assert_eq!(
        converted,
        db.converged_roots(),
        "{what}: converted as counted"
    );
    assert!(
        j["not_reached"].as_u64().unwrap() > 0,
        "{what}: trees not reached"
    );
    assert!(
        j["left_alone_by_reason"].get("refused").is_none(),
        "{what}: trees refused one by one: {}",
        j["left_alone_by_reason"]
    );
    let refused = j["trees"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["reason_kind"] == "refused")
        .count();
    assert_eq!(refused, 0, "{what}: trees refused one by one");
    eprintln!(
        "{what}: exit 1 after {converted} of {} trees converted, {} not reached; stopped: {stopped}",
        j["legacy_trees"], j["not_reached"]
    );
    converted
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

/// Roots of the replicated databases: three batches of 1,000 trees.
const ROOTS: usize = 2500;

#[test]
fn mariadb_a_privilege_revoked_during_a_run_stops_it() {
    let bed = Bed::new("pf_revoke_mariadb");
    let db = PfDb::replicated(&bed, Backend::MariaDb, "revoke", ROOTS);
    let name = &db.name;
    let user = PfUser::new(&db, "mid");
    // DELETE at table level, so that revoking it takes effect at the next statement.
    let mut grants = vec![format!(
        "GRANT SELECT, INSERT, UPDATE, CREATE, ALTER, INDEX, DROP ON `{name}`.* TO {}",
        user.grantee()
    )];
    for t in db.tables() {
        grants.push(format!(
            "GRANT DELETE ON `{name}`.`{t}` TO {}",
            user.grantee()
        ));
    }
    db.exec(&grants.join("; "));
    let locks_before = db.one("SELECT COUNT(*) FROM stack_lock");
    let ran = migrate_with_a_change_after_the_first_batch(&db.url_as(&user.name), || {
        db.exec(&format!(
            "REVOKE DELETE ON `{name}`.stack_lock FROM {}",
            user.grantee()
        ));
    });
    let first = stopped_after_the_first_batch(
        &ran,
        &db,
        &["DELETE", "stack_lock", "lacks a privilege"],
        "MariaDB, DELETE on stack_lock revoked",
    );
    assert_eq!(
        db.one("SELECT COUNT(*) FROM stack_lock"),
        locks_before,
        "no lock of ours left"
    );
    let recorded = db.one("SELECT stopped FROM heat_converge_run");
    assert!(
        recorded.contains("stack_lock"),
        "the run's record says why: {recorded}"
    );

    // Granted again, the next run converts the rest.
    db.exec(&format!(
        "GRANT DELETE ON `{name}`.stack_lock TO {}",
        user.grantee()
    ));
    let again = migrate(&db.url_as(&user.name), &[]);
    assert_eq!(again.code, 3, "{again:?}");
    let rest = again.json["converted"].as_u64().unwrap() as usize;
    assert!(rest > 0);
    assert_eq!(db.converged_roots(), first + rest);
}

#[test]
fn postgres_a_privilege_revoked_during_a_run_stops_it() {
    let bed = Bed::new("pf_revoke_postgres");
    let db = PfDb::replicated(&bed, Backend::Postgres, "revoke", ROOTS);
    db.index_lookup_columns();
    let user = PfUser::new(&db, "mid");
    db.exec(&format!(
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {0}; \
         GRANT CREATE ON SCHEMA public TO {0}",
        user.name
    ));
    let locks_before = db.one("SELECT COUNT(*) FROM stack_lock");
    let ran = migrate_with_a_change_after_the_first_batch(&db.url_as(&user.name), || {
        db.exec(&format!("REVOKE DELETE ON stack_lock FROM {}", user.name));
    });
    let first = stopped_after_the_first_batch(
        &ran,
        &db,
        &["42501", "stack_lock", "lacks a privilege"],
        "PostgreSQL, DELETE on stack_lock revoked",
    );
    assert_eq!(
        db.one("SELECT COUNT(*) FROM stack_lock"),
        locks_before,
        "no lock of ours left"
    );
    let recorded = db.one("SELECT stopped FROM heat_converge_run");
    assert!(
        recorded.contains("stack_lock"),
        "the run's record says why: {recorded}"
    );

    db.exec(&format!("GRANT DELETE ON stack_lock TO {}", user.name));
    let again = migrate(&db.url_as(&user.name), &[]);
    assert_eq!(again.code, 3, "{again:?}");
    let rest = again.json["converted"].as_u64().unwrap() as usize;
    assert!(rest > 0);
    assert_eq!(db.converged_roots(), first + rest);
}

#[test]
fn sqlite_a_directory_made_read_only_during_a_run_stops_it() {
    if !is_root() {
        eprintln!("not root: chattr needs root, skipped");
        return;
    }
    let bed = Bed::new("pf_readonly_sqlite");
    let db = PfDb::replicated(&bed, Backend::Sqlite, "readonly", ROOTS);
    let url = db.url_as("");
    let dir = db.dir().to_path_buf();
    let ran = migrate_with_a_change_after_the_first_batch(&url, || {
        // No journal can be made there: every write transaction fails.
        assert!(Command::new("chattr")
            .arg("+i")
            .arg(&dir)
            .status()
            .unwrap()
            .success());
    });
    assert!(Command::new("chattr")
        .arg("-i")
        .arg(&dir)
        .status()
        .unwrap()
        .success());
    let first = stopped_after_the_first_batch(
        &ran,
        &db,
        &["cannot write its storage", "unable to open database file"],
        "SQLite, directory made immutable",
    );
    let stopped = ran.json["stopped"].as_str().unwrap();
    assert!(
        stopped.contains("could not be closed") && stopped.contains("temporary indexes stay"),
        "what could not be done is said: {stopped}"
    );
    // Writable again: the next run drops the indexes left and converts the rest.
    let again = migrate(&url, &[]);
    assert_eq!(again.code, 3, "{again:?}");
    let rest = again.json["converted"].as_u64().unwrap() as usize;
    assert_eq!(db.converged_roots(), first + rest);
    let left = db.one("SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'heat_converge_ix_%'");
    assert_eq!(left, "0", "no temporary index left");
}
