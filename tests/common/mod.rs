//! The real-Heat test bed, seen from Rust.
//!
//! Every test that needs Heat goes through [`Bed`]: it calls `tests/bed/heatbed.py` inside
//! the virtualenv that `tests/bed/setup.sh` builds (openstack-heat 27.0.1), so the stacks a
//! test looks at were made by a real heat-engine, and the expected answers come from Heat.
//! Each [`HeatDb`] is a database of its own, dropped when it goes out of scope.
#![allow(dead_code)] // each test binary uses a different part of the bed

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `on_every_backend!(a, b)`: the tests `sqlite::a`, `mariadb::a`, `postgres::a`, ... each
/// calling `a(Backend)` of the test file (which imports `Backend`; `#[macro_use] mod common;`).
#[allow(unused_macros)]
macro_rules! on_every_backend {
    ($($name:ident),*) => {
        mod sqlite { $( #[test] fn $name() { super::$name(super::Backend::Sqlite) } )* }
        mod mariadb { $( #[test] fn $name() { super::$name(super::Backend::MariaDb) } )* }
        mod postgres { $( #[test] fn $name() { super::$name(super::Backend::Postgres) } )* }
    };
}

/// The database servers the bed can put a Heat database on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    MariaDb,
    Postgres,
    Sqlite,
}

/// The credentials `tests/bed/setup.sh` creates on the local servers (test-only).
const USER: &str = "heatconv";

impl Backend {
    /// The local server `tests/bed/setup.sh` prepares for this backend (host:port).
    pub fn local_server(self) -> &'static str {
        match self {
            Backend::MariaDb => "127.0.0.1:3306",
            Backend::Postgres => "127.0.0.1:5432",
            Backend::Sqlite => "",
        }
    }

    fn sqlalchemy_url(self, name: &str, dir: &Path, server: &str) -> String {
        match self {
            Backend::MariaDb => {
                format!("mysql+pymysql://{USER}:{USER}@{server}/{name}?charset=utf8")
            }
            Backend::Postgres => {
                format!("postgresql+psycopg2://{USER}:{USER}@{server}/{name}")
            }
            Backend::Sqlite => {
                format!("sqlite:///{}", dir.join(format!("{name}.sqlite")).display())
            }
        }
    }
}

/// One Heat database, its schema made by `heat-manage db_sync`; dropped on drop.
pub struct HeatDb {
    pub backend: Backend,
    /// The SQLAlchemy URL, as a `[database] connection` line in heat.conf would hold it.
    pub url: String,
    pub name: String,
    /// host:port of its server (empty for SQLite).
    pub server: String,
    bed: Bed,
}

impl HeatDb {
    /// The file of a SQLite database.
    pub fn sqlite_path(&self) -> PathBuf {
        assert_eq!(self.backend, Backend::Sqlite, "{} is not SQLite", self.name);
        PathBuf::from(self.url.trim_start_matches("sqlite:///"))
    }
}

impl Drop for HeatDb {
    fn drop(&mut self) {
        if std::env::var_os("HEATBED_KEEP").is_some() {
            eprintln!("heatbed: keeping {}", self.url);
            return;
        }
        let _ = self.bed.run(&["dropdb", &self.url]);
    }
}

/// A legacy test case as the bed left it: its root stack id and final state.
#[derive(Debug, Clone)]
pub struct Case {
    pub id: String,
    pub state: String,
}

#[derive(Clone)]
pub struct Bed {
    python: PathBuf,
    driver: PathBuf,
    work: PathBuf,
    tag: String,
    /// Given to every engine and in-process Heat as `--plugin-dir` (heat.conf's
    /// `plugin_dirs`); empty: none (see [`Bed::with_plugin_dirs`]).
    plugin_dirs: Vec<PathBuf>,
}

static SERIAL: AtomicUsize = AtomicUsize::new(0);

/// The Python of the bed's virtualenv (`HEAT_VENV`, else `target/heat-venv`): Heat,
/// SQLAlchemy, oslo.config, the oracles of every test that must match Python.
pub fn venv_python() -> PathBuf {
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv = std::env::var_os("HEAT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| top.join("target/heat-venv"));
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "no Heat virtualenv at {}: run `bash tests/bed/setup.sh` first",
        venv.display()
    );
    python
}

/// Runs `script` (with `args`) in the bed's Python, gives it `input` as JSON on stdin and
/// returns the JSON it prints: one process for a whole batch of oracle questions.
pub fn python_oracle(script: &str, args: &[&str], input: &Value) -> Value {
    use std::io::Write;
    let mut child = Command::new(venv_python())
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the bed's python");
    let mut stdin = child.stdin.take().expect("python's stdin");
    let body = serde_json::to_vec(input).expect("the oracle's input as JSON");
    // Written from a thread: a large batch would fill the pipe while python answers.
    let writer = std::thread::spawn(move || stdin.write_all(&body).expect("write to python"));
    let out = child.wait_with_output().expect("python's output");
    writer.join().expect("the writer thread");
    assert!(
        out.status.success(),
        "the Python oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the oracle's answer is JSON")
}

/// splitmix64: a small deterministic generator, so a failing generated case can be
/// replayed from its seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    /// 0..=max tokens from `items`, joined.
    pub fn string(&mut self, items: &[&str], max: usize) -> String {
        let n = self.below(max + 1);
        (0..n).map(|_| self.pick(items)).collect()
    }
}

impl Bed {
    /// A bed for one test; `tag` names its databases and work directories.
    pub fn new(tag: &str) -> Bed {
        Bed::with_python(tag, venv_python())
    }

    /// A bed whose Heat is the one of another virtualenv's `python` (the release matrix:
    /// one per release).
    pub fn with_python(tag: &str, python: PathBuf) -> Bed {
        let top = Path::new(env!("CARGO_MANIFEST_DIR"));
        let work = top
            .join("target/heatbed")
            .join(format!("{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&work).expect("create the bed's work directory");
        Bed {
            python,
            driver: top.join("tests/bed/heatbed.py"),
            work,
            tag: tag.to_string(),
            plugin_dirs: Vec::new(),
        }
    }

    /// This bed with third-party resource plugins: every engine it starts (build, prove)
    /// and every in-process Heat (convert, graph) loads the plugin modules of `dirs`
    /// (`heatbed.py --plugin-dir`, written into heat.conf's `[DEFAULT] plugin_dirs`).
    pub fn with_plugin_dirs(mut self, dirs: &[PathBuf]) -> Bed {
        self.plugin_dirs = dirs.to_vec();
        self
    }

    /// `args` followed by a `--plugin-dir` for each of this bed's plugin directories.
    fn with_plugins(&self, args: &[&str]) -> Vec<String> {
        let mut out: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        for d in &self.plugin_dirs {
            out.push("--plugin-dir".into());
            out.push(d.display().to_string());
        }
        out
    }

    /// [`Bed::must`] with this bed's `--plugin-dir` options appended.
    fn must_with_plugins(&self, args: &[&str]) -> Value {
        let args = self.with_plugins(args);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.must(&args)
    }

    /// Runs one driver command and parses the JSON it prints.
    pub fn run(&self, args: &[&str]) -> Result<Value, String> {
        let out = Command::new(&self.python)
            .arg(&self.driver)
            .args(args)
            .env("PYTHONWARNINGS", "ignore")
            .output()
            .map_err(|e| format!("cannot run heatbed: {e}"))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = err.lines().rev().take(25).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(format!("heatbed {} failed:\n{}", args[0], tail.join("\n")));
        }
        serde_json::from_slice(&out.stdout)
            .map_err(|e| format!("heatbed {}: bad JSON: {e}", args[0]))
    }

    fn must(&self, args: &[&str]) -> Value {
        self.run(args).unwrap_or_else(|e| panic!("{e}"))
    }

    fn fresh_name(&self) -> String {
        let n = SERIAL.fetch_add(1, Ordering::SeqCst);
        format!("hc_{}_{}_{}", self.tag, std::process::id(), n)
    }

    fn workdir(&self, what: &str) -> String {
        let n = SERIAL.fetch_add(1, Ordering::SeqCst);
        self.work.join(format!("{what}-{n}")).display().to_string()
    }

    /// A fresh, empty Heat database (schema by `heat-manage db_sync`).
    pub fn create_db(&self, backend: Backend) -> HeatDb {
        let db = self.handle(backend);
        self.must(&["createdb", &db.url]);
        db
    }

    fn handle(&self, backend: Backend) -> HeatDb {
        self.handle_at(backend, backend.local_server())
    }

    fn handle_at(&self, backend: Backend, server: &str) -> HeatDb {
        let name = self.fresh_name();
        HeatDb {
            backend,
            url: backend.sqlalchemy_url(&name, &self.work, server),
            name,
            server: server.to_string(),
            bed: self.clone(),
        }
    }

    /// A new database on `backend` holding the same Heat rows as `src`, ids kept.
    pub fn copy(&self, src: &HeatDb, backend: Backend) -> HeatDb {
        let db = self.handle(backend);
        self.must(&["copy", &src.url, &db.url]);
        db
    }

    /// Makes every case of `tests/templates/cases.yaml` with a real legacy heat-engine.
    pub fn build_cases(&self, db: &HeatDb) -> BTreeMap<String, Case> {
        let v = self.must_with_plugins(&["build", &db.url, &self.workdir("build")]);
        v.as_object()
            .expect("build prints an object")
            .iter()
            .map(|(name, c)| {
                let case = Case {
                    id: c["id"].as_str().expect("case id").to_string(),
                    state: c["state"].as_str().expect("case state").to_string(),
                };
                (name.clone(), case)
            })
            .collect()
    }

    /// Makes the cases of another cases file of tests/templates with a legacy engine,
    /// `global_env` (a file of tests/templates) in its global environment and, with
    /// `auth_key`, `encrypt_parameters_and_properties` on and that `auth_encryption_key`.
    pub fn build_cases_from(
        &self,
        db: &HeatDb,
        cases: &str,
        global_env: Option<&str>,
        auth_key: Option<&str>,
    ) -> BTreeMap<String, Case> {
        let wd = self.workdir("build");
        let mut args = vec!["build", db.url.as_str(), wd.as_str(), "--cases", cases];
        if let Some(g) = global_env {
            args.extend(["--global-env", g]);
        }
        if let Some(k) = auth_key {
            args.extend(["--auth-key", k]);
        }
        let v = self.must_with_plugins(&args);
        v.as_object()
            .expect("build prints an object")
            .iter()
            .map(|(name, c)| {
                let case = Case {
                    id: c["id"].as_str().expect("case id").to_string(),
                    state: c["state"].as_str().expect("case state").to_string(),
                };
                (name.clone(), case)
            })
            .collect()
    }

    /// Heat's own conversion, its heat.conf giving `auth_encryption_key`.
    pub fn heat_convert_with_key(&self, db: &HeatDb, auth_key: &str) -> Value {
        let wd = self.workdir("convert");
        self.must_with_plugins(&["convert", &db.url, &wd, "--auth-key", auth_key])
    }

    /// A new directory of this bed's own.
    pub fn dir(&self, what: &str) -> PathBuf {
        let d = PathBuf::from(self.workdir(what));
        std::fs::create_dir_all(&d).expect("create a bed directory");
        d
    }

    /// The rows of stack, resource, raw_template, raw_template_files and stack_lock,
    /// normalised so that two databases can be compared.
    pub fn snapshot(&self, db: &HeatDb) -> Snapshot {
        Snapshot(self.must(&["snapshot", &db.url]))
    }

    /// Heat's own conversion (migrate_convergence_1's logic) of every legacy root stack.
    pub fn heat_convert(&self, db: &HeatDb) -> Value {
        self.must_with_plugins(&["convert", &db.url, &self.workdir("convert")])
    }

    /// A convergence engine updates and then deletes each stack; their final states.
    pub fn prove(&self, db: &HeatDb, stack_ids: &[&str]) -> Value {
        let wd = self.workdir("prove");
        let mut args = vec!["prove", db.url.as_str(), wd.as_str()];
        args.extend_from_slice(stack_ids);
        self.must_with_plugins(&args)
    }

    /// A convergence engine updates each stack and keeps it; their final states.
    pub fn prove_update(&self, db: &HeatDb, stack_ids: &[&str]) -> Value {
        let wd = self.workdir("prove");
        let mut args = vec!["prove", db.url.as_str(), wd.as_str(), "--keep"];
        args.extend_from_slice(stack_ids);
        self.must_with_plugins(&args)
    }

    /// Heat's dependency graph for a template (plus environments and parameters).
    pub fn graph(&self, template: &Path, environments: &[&Path], parameters: &[&str]) -> Value {
        let t = template.display().to_string();
        let envs: Vec<String> = environments
            .iter()
            .map(|e| e.display().to_string())
            .collect();
        let mut args = vec!["graph", t.as_str()];
        for e in &envs {
            args.push("--environment");
            args.push(e);
        }
        for p in parameters {
            args.push("--parameter");
            args.push(p);
        }
        self.must_with_plugins(&args)
    }
}

/// A normalised row snapshot (see `heatbed.py snapshot`): table -> key -> row.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot(pub Value);

impl Snapshot {
    pub fn table(&self, name: &str) -> &serde_json::Map<String, Value> {
        self.0[name]
            .as_object()
            .unwrap_or_else(|| panic!("snapshot has no table {name}"))
    }

    pub fn stack(&self, id: &str) -> &Value {
        &self.table("stack")[id]
    }

    /// Live root stacks (not deleted, no owner).
    pub fn roots(&self) -> Vec<&Value> {
        self.table("stack")
            .values()
            .filter(|s| s["owner_id"].is_null() && s["deleted"] == false)
            .collect()
    }

    /// Every live stack of the tree under `root` (the root included), as Heat walks it:
    /// through owner_id, leaving out deleted and backup stacks.
    pub fn tree(&self, root: &str) -> Vec<&Value> {
        let stacks = self.table("stack");
        let mut out = vec![&stacks[root]];
        let mut i = 0;
        while i < out.len() {
            let id = out[i]["id"].clone();
            out.extend(
                stacks.values().filter(|s| {
                    s["owner_id"] == id && s["deleted"] == false && s["backup"] == false
                }),
            );
            i += 1;
        }
        out
    }

    pub fn resources_of(&self, stack_id: &str) -> Vec<&Value> {
        self.table("resource")
            .values()
            .filter(|r| r["stack_id"] == stack_id)
            .collect()
    }

    /// The resource named `name` of `stack_id`, among those not deleted.
    pub fn resource(&self, stack_id: &str, name: &str) -> &Value {
        self.resources_of(stack_id)
            .into_iter()
            .find(|r| r["name"] == name && !(r["action"] == "DELETE" && r["status"] == "COMPLETE"))
            .unwrap_or_else(|| panic!("no resource {name} in stack {stack_id}"))
    }

    /// Tables whose rows differ from `other`, with the first few differing keys.
    pub fn diff(&self, other: &Snapshot) -> Vec<String> {
        let mut out = Vec::new();
        let empty = serde_json::Map::new();
        for (table, rows) in self.0.as_object().into_iter().flatten() {
            let a = rows.as_object().unwrap_or(&empty);
            let b = other.0[table].as_object().unwrap_or(&empty);
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                if a.get(k) != b.get(k) {
                    out.push(format!(
                        "{table}[{k}]:\n  left:  {}\n  right: {}",
                        a.get(k)
                            .map(|v| v.to_string())
                            .unwrap_or_else(|| "-".into()),
                        b.get(k)
                            .map(|v| v.to_string())
                            .unwrap_or_else(|| "-".into())
                    ));
                }
            }
        }
        out
    }
}

/// Asserts two snapshots are equal, printing the differing rows when they are not.
pub fn assert_same_rows(left: &Snapshot, right: &Snapshot, what: &str) {
    let d = left.diff(right);
    assert!(
        d.is_empty(),
        "{what}: {} rows differ:\n{}",
        d.len(),
        d.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// The ids in a JSON `requires` / `needed_by` column, as a set ([] and null both empty).
pub fn id_set(v: &Value) -> std::collections::BTreeSet<i64> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default()
}

/// One template for [`Bed::graph_batch`]: what `heatbed.py graph` takes on its command line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GraphJob {
    pub template: PathBuf,
    /// Merged in order, as `--environment` options are.
    pub environments: Vec<PathBuf>,
    /// NAME -> value, as `--parameter NAME=VALUE`.
    pub parameters: BTreeMap<String, String>,
    /// The name the template uses (get_file, a provider template as a type, a
    /// resource_registry entry) -> the local file whose contents Heat gets for it.
    pub files: BTreeMap<String, PathBuf>,
}

impl GraphJob {
    fn to_json(&self) -> Value {
        let path = |p: &PathBuf| Value::from(p.display().to_string());
        serde_json::json!({
            "template": path(&self.template),
            "environments": self.environments.iter().map(path).collect::<Vec<_>>(),
            "parameters": self.parameters,
            "files": self.files.iter().map(|(n, p)| (n.clone(), path(p)))
                .collect::<serde_json::Map<_, _>>(),
        })
    }
}

impl Bed {
    /// Heat's graph (see [`Bed::graph`]) of every job, in one heatbed process: one result
    /// per job, in order, each `{"resources": ...}` or `{"error": "..."}`.
    pub fn graph_batch(&self, jobs: &[GraphJob]) -> Vec<Value> {
        let file = format!("{}.json", self.workdir("graph-jobs"));
        let list: Vec<Value> = jobs.iter().map(GraphJob::to_json).collect();
        std::fs::write(&file, Value::from(list).to_string()).expect("write the graph jobs");
        let results = match self.must_with_plugins(&["graph-batch", &file]) {
            Value::Array(a) => a,
            other => panic!("heatbed graph-batch printed no list: {other}"),
        };
        assert_eq!(
            results.len(),
            jobs.len(),
            "heatbed graph-batch: one result per job"
        );
        results
    }

    /// Each file parsed as Heat parses a template (JSON or YAML; no version key needed):
    /// its value as JSON, or why it is not a JSON object or YAML mapping.
    pub fn parse_files(&self, paths: &[PathBuf]) -> BTreeMap<PathBuf, Result<Value, String>> {
        if paths.is_empty() {
            return BTreeMap::new();
        }
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        let mut args = vec!["parse"];
        args.extend(names.iter().map(String::as_str));
        let mut out = self.must(&args);
        paths
            .iter()
            .zip(&names)
            .map(|(p, n)| {
                let parsed = match out.get_mut(n.as_str()).map(Value::take) {
                    Some(Value::Object(mut r)) => match (r.remove("value"), r.remove("error")) {
                        (Some(v), None) => Ok(v),
                        (_, Some(e)) => Err(e.as_str().unwrap_or("?").to_string()),
                        (None, None) => Err("heatbed parse: neither value nor error".into()),
                    },
                    _ => Err("heatbed parse printed nothing for it".into()),
                };
                (p.clone(), parsed)
            })
            .collect()
    }
}

impl Bed {
    /// The resource type names Heat's global environment registers (its plugins), sorted.
    pub fn resource_types(&self) -> Vec<String> {
        match self.must(&["resource-types"]) {
            Value::Array(a) => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .unwrap_or_else(|| panic!("heatbed resource-types: {v} is no name"))
                        .to_string()
                })
                .collect(),
            other => panic!("heatbed resource-types printed no list: {other}"),
        }
    }
}

impl Bed {
    /// A copy of the shipped demo (examples/demo.sqlite, made by the real Heat) on
    /// `backend`: the file itself for SQLite, rows copied by `heatbed copy` for a server.
    pub fn demo(&self, backend: Backend) -> HeatDb {
        self.demo_on(backend, backend.local_server())
    }

    /// [`Bed::demo`] on a server of the test's own (host:port; the `heatconv` user must
    /// exist there), e.g. one node of a Galera cluster.
    /// A Heat database of `roots` root stacks on `server`: the demo's trees copied with
    /// fresh ids (`heatbed.py replicate`, the benchmark's generator).
    pub fn replicated_on(&self, backend: Backend, server: &str, roots: usize) -> HeatDb {
        let top = Path::new(env!("CARGO_MANIFEST_DIR"));
        let src = format!("sqlite:///{}", top.join("examples/demo.sqlite").display());
        let db = self.handle_at(backend, server);
        self.must(&["replicate", &src, &db.url, &roots.to_string()]);
        db
    }

    pub fn demo_on(&self, backend: Backend, server: &str) -> HeatDb {
        let top = Path::new(env!("CARGO_MANIFEST_DIR"));
        let sqlite = self.handle(Backend::Sqlite);
        std::fs::copy(top.join("examples/demo.sqlite"), sqlite.sqlite_path())
            .expect("copy the demo database");
        if backend == Backend::Sqlite {
            return sqlite;
        }
        let db = self.handle_at(backend, server);
        self.must(&["copy", &sqlite.url, &db.url]);
        db
    }
}

/// Plain SQL on a test database through the database crates themselves (not through
/// heat-converge's own layer), for setting up cases and checking their rows.
impl HeatDb {
    /// The server URL in the driver crates' own form (no SQLAlchemy driver part).
    pub fn plain_url(&self) -> String {
        match self.backend {
            Backend::MariaDb => format!("mysql://{USER}:{USER}@{}/{}", self.server, self.name),
            Backend::Postgres => {
                format!("postgresql://{USER}:{USER}@{}/{}", self.server, self.name)
            }
            Backend::Sqlite => String::new(),
        }
    }

    /// Runs statements (`;`-separated, no parameters).
    pub fn exec(&self, sql: &str) {
        match self.backend {
            Backend::Sqlite => rusqlite::Connection::open(self.sqlite_path())
                .and_then(|c| c.execute_batch(sql))
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
            Backend::MariaDb => {
                use mysql::prelude::Queryable;
                let mut c =
                    mysql::Conn::new(mysql::Opts::from_url(&self.plain_url()).unwrap()).unwrap();
                c.query_drop(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
            Backend::Postgres => {
                let mut c = postgres::Client::connect(&self.plain_url(), postgres::NoTls).unwrap();
                c.batch_execute(sql)
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
        }
    }

    /// The rows of a query, every cell as text (NULL as None). Cast non-text columns in
    /// the SQL (`CAST(x AS CHAR(64))`) so that every backend returns text.
    pub fn rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        match self.backend {
            Backend::Sqlite => {
                let c = rusqlite::Connection::open(self.sqlite_path()).unwrap();
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
            Backend::MariaDb => {
                use mysql::prelude::Queryable;
                let mut c =
                    mysql::Conn::new(mysql::Opts::from_url(&self.plain_url()).unwrap()).unwrap();
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
                let mut c = postgres::Client::connect(&self.plain_url(), postgres::NoTls).unwrap();
                let rows = c.simple_query(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
                rows.into_iter()
                    .filter_map(|m| match m {
                        postgres::SimpleQueryMessage::Row(r) => {
                            Some((0..r.len()).map(|i| r.get(i).map(String::from)).collect())
                        }
                        _ => None,
                    })
                    .collect()
            }
        }
    }

    /// The one text value of a query.
    pub fn value(&self, sql: &str) -> Option<String> {
        let rows = self.rows(sql);
        assert_eq!(rows.len(), 1, "{sql}: {rows:?}");
        rows[0][0].clone()
    }

    /// Runs the heat-converge binary on this database; returns (exit code, stdout, stderr).
    pub fn heat_converge(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_heat-converge"))
            .args(args)
            .arg("--db-url")
            .arg(&self.url)
            .output()
            .expect("run heat-converge");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

impl HeatDb {
    /// heat-converge's tables in this database (none before the first real run).
    pub fn our_tables(&self) -> Vec<String> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'heat_converge%'"
            }
            Backend::MariaDb => {
                "SELECT table_name FROM information_schema.tables
                 WHERE table_schema = DATABASE() AND table_name LIKE 'heat_converge%'"
            }
            Backend::Postgres => {
                "SELECT tablename FROM pg_tables WHERE tablename LIKE 'heat_converge%'"
            }
        };
        self.rows(sql)
            .into_iter()
            .map(|r| r[0].clone().unwrap())
            .collect()
    }

    /// The newest run `heat-converge history --format json` lists (the schema's `run`).
    pub fn newest_run(&self) -> Value {
        let (code, out, err) = self.heat_converge(&["history", "--format", "json"]);
        assert_eq!(code, 0, "{out}{err}");
        json(&out)["runs"][0].clone()
    }

    /// A resource row of the demo's `dropped` that its template no longer defines (a port
    /// the previous template declared, with a physical id in the cloud), and its data
    /// row: a conversion of `dropped` deletes both and audits the resource. Returns the
    /// stack's id.
    pub fn plant_orphaned_port(&self) -> String {
        let dropped = self.root_id("dropped");
        self.exec(&format!(
            "UPDATE raw_template SET template = REPLACE(template, '\"resources\": {{',
                '\"resources\": {{\"orphaned_port\": {{\"type\": \"OS::Neutron::Port\"}}, ')
             WHERE id = (SELECT prev_raw_template_id FROM stack WHERE id = '{dropped}');
             INSERT INTO resource (id, uuid, name, stack_id, root_stack_id, action, status, nova_instance)
             VALUES (9001, 'aaaaaaaa-0000-4000-8000-000000000451', 'orphaned_port', '{dropped}',
                     '{dropped}', 'CREATE', 'COMPLETE', 'phys-0451');
             INSERT INTO resource_data (id, resource_id, value) VALUES (9001, 9001, 'x')"
        ));
        dropped
    }
}

/// Checks each document against its schema, `schemas/NAME.schema.json` (NAME given with
/// it), with Python's jsonschema in the bed's virtualenv; fails naming every mismatch.
pub fn assert_schemas(docs: &[(&str, Value)]) {
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
    let jobs: Vec<Value> = docs
        .iter()
        .map(|(schema, doc)| {
            serde_json::json!({
                "schema": top.join(format!("schemas/{schema}.schema.json")).display().to_string(),
                "doc": doc,
            })
        })
        .collect();
    let dir = top.join("target/json-schemas");
    std::fs::create_dir_all(&dir).unwrap();
    let n = SERIAL.fetch_add(1, Ordering::SeqCst);
    let jobs_file = dir.join(format!("jobs-{}-{n}.json", std::process::id()));
    std::fs::write(&jobs_file, Value::from(jobs).to_string()).unwrap();
    let out = Command::new(venv_python())
        .arg("-c")
        .arg(
            "import json, sys, jsonschema\n\
             bad = []\n\
             for i, job in enumerate(json.load(open(sys.argv[1]))):\n\
             \x20   schema = json.load(open(job['schema']))\n\
             \x20   jsonschema.Draft202012Validator.check_schema(schema)\n\
             \x20   for e in jsonschema.Draft202012Validator(schema).iter_errors(job['doc']):\n\
             \x20       bad.append('%d %s: %s at %s' % (i, job['schema'].split('/')[-1], e.message, list(e.absolute_path)))\n\
             print('\\n'.join(bad))\n\
             sys.exit(1 if bad else 0)\n",
        )
        .arg(&jobs_file)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&jobs_file);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The stacks of the trees a `migrate --format json` report converted (what the run's
/// record counts as `stacks_converted`).
pub fn stacks_converted(report: &Value) -> u64 {
    report["trees"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["outcome"] == "converted")
        .map(|t| t["stacks"].as_u64().unwrap())
        .sum()
}

/// A command's stdout as JSON.
pub fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

/// The tree named `name` in a migrate/status report.
pub fn tree<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["trees"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {report}"))
}

impl HeatDb {
    /// The id of the live root stack named `name`.
    pub fn root_id(&self, name: &str) -> String {
        self.value(&format!(
            "SELECT id FROM stack WHERE name = '{name}' AND owner_id IS NULL"
        ))
        .unwrap()
    }
}

impl Bed {
    /// A new database on `backend` of `roots` live root stacks: the demo's trees copied
    /// round-robin by `heatbed.py replicate`, fresh ids everywhere.
    pub fn replicate_demo(&self, backend: Backend, roots: usize) -> HeatDb {
        let src = self.demo(Backend::Sqlite);
        let db = self.handle(backend);
        self.must(&["replicate", &src.url, &db.url, &roots.to_string()]);
        db
    }

    /// The bed's Python (the Heat virtualenv's).
    pub fn python(&self) -> &Path {
        &self.python
    }
}

/// A count (`changed`, `ok`, `failed`, ...) of the localhost line of ansible-playbook's
/// PLAY RECAP.
pub fn recap_count(output: &str, what: &str) -> u64 {
    let recap = output
        .lines()
        .skip_while(|l| !l.starts_with("PLAY RECAP"))
        .find(|l| l.starts_with("localhost"))
        .unwrap_or_else(|| panic!("no recap in:\n{output}"));
    recap
        .split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{what}=")))
        .unwrap_or_else(|| panic!("{what} in {recap}"))
        .parse()
        .unwrap()
}
