//! The README's Ansible play ("In an upgrade pipeline": the role roles/heat_converge),
//! exactly as written there, run by a real `ansible-playbook` (ansible-core from PyPI, in
//! target/ansible-venv made by tests/bed/setup.sh) on an inventory whose `heat_all` group is
//! this machine, against copies of the shipped demo: exit 3 is not a failure and reports a
//! change when trees were converted, exit 0 likewise, a second run changes nothing, and
//! exit 1 fails the play with heat-converge's message. Only the paths are put in: the
//! binary this test build made for `files/heat-converge`, a heat.conf for
//! `/etc/heat/heat.conf`, and (as an extra var) where the binary is installed instead of
//! /usr/local/bin. The role itself, on every backend: tests/ansible_role.rs.

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn top() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The YAML play of the README's "In an upgrade pipeline" section.
fn readme_play() -> String {
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

/// A run of the play: its exit code, its output and the PLAY RECAP's changed and failed.
struct Played {
    rc: i32,
    output: String,
    changed: u64,
    failed: u64,
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

    /// Runs the README's play, its paths put in.
    fn play(&self, conf: &Path) -> Played {
        let play = readme_play();
        assert!(play.contains("files/heat-converge") && play.contains("/etc/heat/heat.conf"));
        let play = play
            .replace("files/heat-converge", env!("CARGO_BIN_EXE_heat-converge"))
            .replace("/etc/heat/heat.conf", &conf.display().to_string());
        let playbook = self.dir.join("play.yml");
        std::fs::write(&playbook, play).unwrap();
        let inventory = self.dir.join("inventory");
        std::fs::write(
            &inventory,
            "[heat_all]\nlocalhost ansible_connection=local ansible_python_interpreter=\"{{ ansible_playbook_python }}\"\n",
        )
        .unwrap();
        // Where the binary goes, as /usr/local/bin, there already.
        let bin = self.dir.join("bin/heat-converge");
        std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
        let out = Command::new(top().join("target/ansible-venv/bin/ansible-playbook"))
            .arg("-i")
            .arg(&inventory)
            .arg(&playbook)
            .arg("-e")
            .arg(serde_json::json!({"heat_converge_binary_dest": bin}).to_string())
            .env("ANSIBLE_ROLES_PATH", top().join("roles"))
            .env("ANSIBLE_NOCOLOR", "true")
            .env("ANSIBLE_HOME", self.dir.join("ansible-home"))
            .env("ANSIBLE_LOCAL_TEMP", self.dir.join("ansible-tmp"))
            .output()
            .expect("run ansible-playbook (bash tests/bed/setup.sh installs it)");
        let output = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let count = |what: &str| common::recap_count(&output, what);
        Played {
            rc: out.status.code().unwrap_or(-1),
            changed: count("changed"),
            failed: count("failed"),
            output,
        }
    }

    /// `heat-converge status --format json` on the case's database.
    fn status(&self, db: &Path) -> Value {
        let out = Command::new(env!("CARGO_BIN_EXE_heat-converge"))
            .args(["status", "--format", "json", "--db-url"])
            .arg(format!("sqlite:///{}", db.display()))
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn the_readme_play_reads_rc_3_0_and_1_as_a_pipeline_must() {
    // rc 3: trees converted, busy and failed remain: changed (the binary installed, the
    // trees converted), not failed.
    let case = Case::new("rc3");
    let db = case.demo();
    let conf = case.conf(&db);
    let p = case.play(&conf);
    assert_eq!((p.rc, p.changed, p.failed), (0, 2, 0), "{}", p.output);
    assert!(
        p.output
            .contains("converted 11 of 13 legacy stack trees, left alone 2")
            && p.output.contains("(exit 3)"),
        "{}",
        p.output
    );
    let s = case.status(&db);
    assert_eq!(
        (&s["convergence_roots"], &s["legacy_left_in_database"]),
        (&Value::from(11), &Value::from(2)),
        "{s}"
    );
    // Again: nothing more to convert, nothing to install: not changed, still not failed.
    let p = case.play(&conf);
    assert_eq!((p.rc, p.changed, p.failed), (0, 0, 0), "{}", p.output);
    assert!(
        p.output.contains("converted 0 of 2 legacy stack trees"),
        "{}",
        p.output
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
    let p = case.play(&conf);
    assert_eq!((p.rc, p.changed, p.failed), (0, 2, 0), "{}", p.output);
    assert!(
        p.output
            .contains("converted 11 of 11 legacy stack trees, left alone 0")
            && p.output.contains("(exit 0)"),
        "{}",
        p.output
    );

    // rc 1: the database is not there: the play fails at status, with heat-converge's
    // message (its JSON error on stdout).
    let case = Case::new("rc1");
    let conf = case.conf(&case.dir.join("missing.sqlite"));
    let p = case.play(&conf);
    assert_ne!(p.rc, 0, "the play fails:\n{}", p.output);
    assert_eq!(p.failed, 1, "{}", p.output);
    assert!(
        p.output.contains("heat-converge status")
            && p.output.contains("\"rc\": 1")
            && p.output.contains("no such SQLite file"),
        "{}",
        p.output
    );
}
