//! The README's Ansible task, exactly as written there, run by a real `ansible-playbook`
//! (ansible-core from PyPI, in target/ansible-venv made by tests/bed/setup.sh) against
//! copies of the shipped demo: rc 3 is not a failure and reports a change when trees were
//! converted, rc 0 likewise, a second run changes nothing, and rc 1 fails the task through
//! its `failed_when` (not through a templating error on an empty stdout).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn top() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The YAML task of the README's "In an upgrade pipeline" section.
fn readme_task() -> String {
    let readme = std::fs::read_to_string(top().join("README.md")).unwrap();
    let section = &readme[readme
        .find("### In an upgrade pipeline")
        .expect("the section")..];
    let start = section.find("```yaml\n").expect("a yaml block") + "```yaml\n".len();
    let end = start + section[start..].find("```").unwrap();
    section[start..end].to_string()
}

struct Case {
    dir: PathBuf,
}

impl Case {
    fn new(tag: &str) -> Case {
        let dir = top()
            .join("target/ansible-test")
            .join(format!("{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Case { dir }
    }

    /// A heat.conf naming `db` (a SQLite file in the case's directory).
    fn conf(&self, db: &Path) -> PathBuf {
        let conf = self.dir.join("heat.conf");
        std::fs::write(
            &conf,
            format!("[database]\nconnection = sqlite:///{}\n", db.display()),
        )
        .unwrap();
        conf
    }

    fn demo(&self) -> PathBuf {
        let db = self.dir.join("heat.sqlite");
        std::fs::copy(top().join("examples/demo.sqlite"), &db).unwrap();
        db
    }

    /// Runs the README's task (the binary and the config file put in for
    /// `heat-converge` and `/etc/heat/heat.conf`); returns the playbook's exit code and the
    /// task's result for localhost.
    fn play(&self, conf: &Path) -> (i32, Value) {
        let task = readme_task()
            .replace(
                "heat-converge migrate",
                &format!("{} migrate", env!("CARGO_BIN_EXE_heat-converge")),
            )
            .replace("/etc/heat/heat.conf", &conf.display().to_string());
        // The task as written, in a block whose `always` keeps what it registered.
        let indented: String = task.lines().map(|l| format!("        {l}\n")).collect();
        let playbook = self.dir.join("play.yml");
        let result_file = self.dir.join("result.json");
        std::fs::write(
            &playbook,
            format!(
                "- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n    - block:\n{indented}      always:\n        - ansible.builtin.copy:\n            content: \"{{{{ converge | to_json }}}}\"\n            dest: {}\n",
                result_file.display()
            ),
        )
        .unwrap();
        let out = Command::new(top().join("target/ansible-venv/bin/ansible-playbook"))
            .arg(&playbook)
            .env("ANSIBLE_LOCALHOST_WARNING", "false")
            .env("ANSIBLE_INVENTORY_UNPARSED_WARNING", "false")
            .env("ANSIBLE_HOME", self.dir.join("ansible-home"))
            .env("ANSIBLE_LOCAL_TEMP", self.dir.join("ansible-tmp"))
            .output()
            .expect("run ansible-playbook (bash tests/bed/setup.sh installs it)");
        let text = std::fs::read_to_string(&result_file).unwrap_or_else(|e| {
            panic!(
                "no result ({e}): {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let _ = std::fs::remove_file(&result_file);
        let result: Value = serde_json::from_str(&text).unwrap();
        (out.status.code().unwrap_or(-1), result)
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn the_readme_task_reads_rc_3_0_and_1_as_a_pipeline_must() {
    // rc 3: trees converted, busy and failed remain: changed, not failed.
    let case = Case::new("rc3");
    let db = case.demo();
    let conf = case.conf(&db);
    let (code, r) = case.play(&conf);
    assert_eq!(code, 0, "{r}");
    assert_eq!(
        (r["rc"].as_i64(), &r["changed"], &r["failed"]),
        (Some(3), &Value::Bool(true), &Value::Bool(false)),
        "{r}"
    );
    // Again: nothing more to convert: not changed, still not failed.
    let (code, r) = case.play(&conf);
    assert_eq!(code, 0, "{r}");
    assert_eq!(
        (r["rc"].as_i64(), &r["changed"], &r["failed"]),
        (Some(3), &Value::Bool(false), &Value::Bool(false)),
        "{r}"
    );

    // rc 0: a database whose every legacy tree converts.
    let case = Case::new("rc0");
    let db = case.demo();
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(
            "UPDATE stack SET deleted_at = '2026-01-01 00:00:00'
             WHERE name IN ('busy', 'failed') OR owner_id IN
               (SELECT id FROM stack WHERE name IN ('busy', 'failed'))",
        )
        .unwrap();
    let conf = case.conf(&db);
    let (code, r) = case.play(&conf);
    assert_eq!(code, 0, "{r}");
    assert_eq!(
        (r["rc"].as_i64(), &r["changed"], &r["failed"]),
        (Some(0), &Value::Bool(true), &Value::Bool(false)),
        "{r}"
    );

    // rc 1: the database is not there: the task fails by its failed_when, and the JSON
    // error on stdout keeps from_json from breaking the task's templating.
    let case = Case::new("rc1");
    let conf = case.conf(&case.dir.join("missing.sqlite"));
    let (code, r) = case.play(&conf);
    assert_ne!(code, 0, "the play fails: {r}");
    assert_eq!(
        (r["rc"].as_i64(), &r["failed"]),
        (Some(1), &Value::Bool(true)),
        "{r}"
    );
    assert_eq!(r["failed_when_result"], true, "failed by failed_when: {r}");
    let stdout: Value = serde_json::from_str(r["stdout"].as_str().unwrap()).unwrap();
    assert_eq!(stdout["exit_code"], 1, "{stdout}");
    assert!(
        stdout["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no such SQLite file"),
        "{stdout}"
    );
}
