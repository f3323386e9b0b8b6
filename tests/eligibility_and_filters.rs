//! `heat-converge migrate` on copies of the shipped demo database (made by the real Heat,
//! see tests/bed/make-demo.sh), each test with its own copy: bad input, locks, backup
//! stacks, the filters and the config files. The comparison with Heat's own conversion
//! is in tests/heat_conversion.rs.

use rusqlite::Connection;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A private copy of examples/demo.sqlite, removed afterwards.
struct Demo {
    dir: PathBuf,
}

impl Demo {
    fn new(tag: &str) -> Demo {
        let top = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = top
            .join("target/migrate-demo")
            .join(format!("{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(top.join("examples/demo.sqlite"), dir.join("heat.sqlite")).unwrap();
        Demo { dir }
    }
    fn path(&self) -> PathBuf {
        self.dir.join("heat.sqlite")
    }
    fn url(&self) -> String {
        format!("sqlite:///{}", self.path().display())
    }
    fn db(&self) -> Connection {
        Connection::open(self.path()).unwrap()
    }
    fn id_of(&self, name: &str) -> String {
        self.db()
            .query_row(
                "SELECT id FROM stack WHERE name = ? AND owner_id IS NULL",
                [name],
                |r| r.get(0),
            )
            .unwrap()
    }
    fn convergence(&self, name: &str) -> i64 {
        self.db()
            .query_row(
                "SELECT convergence FROM stack WHERE name = ? AND owner_id IS NULL",
                [name],
                |r| r.get(0),
            )
            .unwrap()
    }
    /// Runs migrate with `args`; returns exit code and JSON report.
    fn migrate(&self, args: &[&str]) -> (i32, Value, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_heat-converge"))
            .args(["migrate", "--format", "json", "--db-url", &self.url()])
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (out.status.code().unwrap_or(-1), json, stderr)
    }
    /// Every row of the tree under `root` (stacks and resources), for "untouched" checks.
    fn tree_rows(&self, root: &str) -> Vec<String> {
        let db = self.db();
        let mut stmt = db
            .prepare(
                "WITH RECURSIVE t(id) AS (SELECT ? UNION SELECT s.id FROM stack s JOIN t ON s.owner_id = t.id)
                 SELECT 'stack', s.id, s.convergence, s.current_traversal, s.prev_raw_template_id, s.raw_template_id FROM stack s JOIN t ON s.id = t.id
                 UNION ALL
                 SELECT 'resource', r.id, r.requires, r.needed_by, r.current_template_id, r.name FROM resource r JOIN t ON r.stack_id = t.id
                 ORDER BY 1, 2",
            )
            .unwrap();
        let rows = stmt
            .query_map([root], |r| {
                let cells: Vec<String> = (0..6)
                    .map(|i| {
                        r.get::<_, rusqlite::types::Value>(i)
                            .map(|v| format!("{v:?}"))
                            .unwrap_or_default()
                    })
                    .collect();
                Ok(cells.join("|"))
            })
            .unwrap();
        rows.map(Result::unwrap).collect()
    }
    fn outcome(report: &Value, name: &str) -> Value {
        report["trees"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} not in report: {report}"))
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn an_unreadable_template_leaves_its_tree_untouched_and_the_run_goes_on() {
    let demo = Demo::new("unreadable");
    let group = demo.id_of("group");
    // Break the template of the group's nested stack: the whole tree must stay legacy.
    demo.db()
        .execute(
            "UPDATE raw_template SET template = '{\"heat_template_version\": ' WHERE id =
               (SELECT raw_template_id FROM stack WHERE owner_id = ?)",
            [&group],
        )
        .unwrap();
    let before = demo.tree_rows(&group);
    let (code, report, _) = demo.migrate(&[]);
    assert_eq!(code, 3, "{report}");
    let t = Demo::outcome(&report, "group");
    assert_eq!(t["outcome"], "left_alone");
    assert_eq!(t["reason_kind"], "unreadable");
    assert!(
        t["reason"].as_str().unwrap().contains("group-group-"),
        "names the stack: {t}"
    );
    assert_eq!(demo.tree_rows(&group), before, "the tree was touched");
    assert_eq!(report["converted"], 10, "{report}");
    assert_eq!(demo.convergence("depends"), 1);
}

#[test]
fn locks_of_live_engines_are_respected_and_stale_ones_taken_over() {
    let demo = Demo::new("locks");
    let depends = demo.id_of("depends");
    let cfn = demo.id_of("cfn");
    let db = demo.db();
    // A live engine (its service row is there) holds depends; a gone one holds cfn.
    db.execute(
        "INSERT INTO service (id, engine_id, host, hostname, binary, topic, report_interval, created_at, updated_at)
         VALUES ('svc-live', 'engine-live', 'node-7', 'node-7', 'heat-engine', 'engine', 60, '2026-01-01', '2026-01-01')",
        [],
    )
    .unwrap();
    db.execute(
        "INSERT INTO stack_lock (stack_id, engine_id) VALUES (?, 'engine-live')",
        [&depends],
    )
    .unwrap();
    db.execute(
        "INSERT INTO stack_lock (stack_id, engine_id) VALUES (?, 'engine-gone')",
        [&cfn],
    )
    .unwrap();
    drop(db);
    let before = demo.tree_rows(&depends);
    let (code, report, _) = demo.migrate(&[]);
    assert_eq!(code, 3);
    let t = Demo::outcome(&report, "depends");
    assert_eq!(t["reason_kind"], "locked", "{t}");
    assert!(
        t["reason"].as_str().unwrap().contains("engine-live")
            && t["reason"].as_str().unwrap().contains("node-7")
    );
    assert_eq!(demo.tree_rows(&depends), before);
    assert_eq!(Demo::outcome(&report, "cfn")["outcome"], "converted");
    let locks: i64 = demo
        .db()
        .query_row(
            "SELECT count(*) FROM stack_lock WHERE stack_id = ?",
            [&cfn],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        locks, 0,
        "the stale lock is released, as Heat releases a lock it took over"
    );
}

#[test]
fn a_live_backup_stack_keeps_its_tree_legacy() {
    let demo = Demo::new("backup");
    let replaced = demo.id_of("replaced");
    // The legacy engine's backup of `replaced`, soft-deleted in the demo: bring it back.
    let n = demo
        .db()
        .execute(
            "UPDATE stack SET deleted_at = NULL WHERE owner_id = ? AND backup = 1",
            [&replaced],
        )
        .unwrap();
    assert_eq!(n, 1);
    let (_, report, _) = demo.migrate(&[]);
    let t = Demo::outcome(&report, "replaced");
    assert_eq!(t["reason_kind"], "live_backup", "{t}");
    assert_eq!(demo.convergence("replaced"), 0);
}

#[test]
fn stack_and_project_filters() {
    let demo = Demo::new("filters");
    let depends = demo.id_of("depends");
    let (code, report, _) = demo.migrate(&["--stack", &depends]);
    assert_eq!(report["legacy_trees"], 1, "{report}");
    assert_eq!(
        code, 3,
        "the one tree asked for is converted, legacy trees remain outside the filter"
    );
    assert_eq!(demo.convergence("depends"), 1);
    assert_eq!(demo.convergence("cfn"), 0);
    let (code, _, err) = demo.migrate(&["--project", "no-such-project"]);
    assert_eq!(
        code, 2,
        "a project that matches nothing is a usage error: {err}"
    );
    assert_eq!(demo.convergence("cfn"), 0);
}

#[test]
fn the_database_is_found_in_heat_conf_and_its_password_never_shown() {
    let demo = Demo::new("conf");
    let conf = demo.dir.join("heat.conf");
    let dir = demo.dir.join("heat.conf.d");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        &conf,
        "[database]\nconnection = mysql+pymysql://heat:Sup3rSecret@127.0.0.1:1/heat\n",
    )
    .unwrap();
    // A later directory overrides the file, as oslo.config reads them.
    std::fs::write(
        dir.join("90-db.conf"),
        format!("[database]\nconnection = {}\n", demo.url()),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_heat-converge"))
        .args(["status", "--config-file"])
        .arg(&conf)
        .arg("--config-dir")
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(
        stdout.contains("legacy root stacks                13"),
        "{stdout}"
    );
    // Only the file: the MySQL server is unreachable, and the message hides the password.
    let out = Command::new(env!("CARGO_BIN_EXE_heat-converge"))
        .args(["status", "--config-file"])
        .arg(&conf)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("heat:***@127.0.0.1:1/heat"), "{stderr}");
    assert!(!stderr.contains("Sup3rSecret"), "{stderr}");
}
