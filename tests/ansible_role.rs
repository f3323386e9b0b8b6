//! The Ansible role `roles/heat_converge`, run by a real `ansible-playbook` (ansible-core
//! from PyPI, in target/ansible-venv made by tests/bed/setup.sh) against copies of the
//! shipped demo on SQLite, MariaDB and PostgreSQL:
//! - check mode (`--check`: `migrate --dry-run`) reports what would change and changes no
//!   row, creates none of our tables;
//! - the first run reports changed and converts 11 trees (exit 3: busy and failed remain,
//!   reported, not failed), verify holds; the second run reports no change; check mode
//!   then too;
//! - review mode: `plan` writes and fetches the plan, ends the play, writes nothing to the
//!   database; `apply_plan` applies the fetched plan (check mode first: nothing written),
//!   again: no change;
//! - failures fail the play: a wrong password (never shown), `--no-wait` against a held run
//!   lock, a converted stack that no longer holds (verify exit 4), legacy stacks left with
//!   `heat_converge_require_complete`.
//!
//! `cargo test --test ansible_role`

mod common;

use common::{assert_same_rows, json, Backend, Bed, HeatDb};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

fn top() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A work directory for one case's playbook runs.
struct Runs {
    dir: PathBuf,
}

/// What one `ansible-playbook` run left: its exit code, its output, what the role
/// registered (null where a command did not run), and the PLAY RECAP's counts.
struct Played {
    rc: i32,
    output: String,
    status: Value,
    migrate: Value,
    plan: Value,
    verify: Value,
    ok: u64,
    changed: u64,
    failed: u64,
}

impl Played {
    /// A registered command's stdout, as JSON.
    fn report(result: &Value) -> Value {
        json(
            result["stdout"]
                .as_str()
                .unwrap_or_else(|| panic!("no stdout in {result}")),
        )
    }
}

impl Runs {
    fn new(tag: &str) -> Runs {
        let dir = top()
            .join("target/ansible-test")
            .join(format!("role-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Runs { dir }
    }

    /// A heat.conf whose `[database] connection` is `url`.
    fn conf(&self, url: &str) -> PathBuf {
        let conf = self.dir.join("heat.conf");
        std::fs::write(&conf, format!("[database]\nconnection = {url}\n")).unwrap();
        conf
    }

    fn marker(&self) -> PathBuf {
        self.dir.join("after-the-role")
    }

    /// Runs the role on localhost with `vars` (as extra vars), in check mode when `check`.
    /// The play keeps what the role registered (in an `always`, so failures too) and then
    /// touches a marker file (a task after the role: not reached when the play ends).
    fn play(&self, vars: &Value, check: bool) -> Played {
        let result = self.dir.join("result.json");
        let _ = std::fs::remove_file(&result);
        let playbook = self.dir.join("play.yml");
        std::fs::write(
            &playbook,
            format!(
                r#"- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - block:
        - name: The role
          ansible.builtin.include_role:
            name: heat_converge
      always:
        - name: Keep what the role registered
          ansible.builtin.copy:
            content: "{{{{ {{'status': heat_converge_status_result | default(none),
                          'migrate': heat_converge_migrate_result | default(none),
                          'plan': heat_converge_plan_result | default(none),
                          'verify': heat_converge_verify_result | default(none)}} | to_json }}}}"
            dest: {result}
          check_mode: false
          changed_when: false
    - name: After the role
      ansible.builtin.file:
        path: {marker}
        state: touch
      check_mode: false
      changed_when: false
"#,
                result = result.display(),
                marker = self.marker().display(),
            ),
        )
        .unwrap();
        let vars_file = self.dir.join("vars.json");
        std::fs::write(&vars_file, vars.to_string()).unwrap();
        let mut cmd = Command::new(top().join("target/ansible-venv/bin/ansible-playbook"));
        cmd.arg(&playbook)
            .arg("-e")
            .arg(format!("@{}", vars_file.display()));
        if check {
            cmd.arg("--check");
        }
        let out = cmd
            .env("ANSIBLE_ROLES_PATH", top().join("roles"))
            .env("ANSIBLE_LOCALHOST_WARNING", "false")
            .env("ANSIBLE_INVENTORY_UNPARSED_WARNING", "false")
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
        let results: Value = std::fs::read_to_string(&result)
            .map(|t| serde_json::from_str(&t).unwrap())
            .unwrap_or(Value::Null);
        let count = |what: &str| common::recap_count(&output, what);
        Played {
            rc: out.status.code().unwrap_or(-1),
            status: results["status"].clone(),
            migrate: results["migrate"].clone(),
            plan: results["plan"].clone(),
            verify: results["verify"].clone(),
            ok: count("ok"),
            changed: count("changed"),
            failed: count("failed"),
            output,
        }
    }
}

impl Drop for Runs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The vars every case gives: the binary this test build made, nothing installed.
fn base_vars() -> Value {
    json!({
        "heat_converge_bin": env!("CARGO_BIN_EXE_heat-converge"),
        "heat_converge_config_files": [],
    })
}

fn with(mut vars: Value, more: Value) -> Value {
    for (k, v) in more.as_object().unwrap() {
        vars[k] = v.clone();
    }
    vars
}

/// Check mode, a first run, a second run and check mode again on a copy of the demo,
/// found through `vars`.
fn converge_twice(bed: &Bed, db: &HeatDb, runs: &Runs, vars: &Value) {
    let what = format!("{:?}", db.backend);

    // Check mode: migrate --dry-run, reported as a change to come; no row changed.
    let before = bed.snapshot(db);
    let p = runs.play(vars, true);
    assert_eq!((p.rc, p.failed), (0, 0), "{what} check mode:\n{}", p.output);
    assert_eq!(p.migrate["changed"], true, "{what}: {}", p.migrate);
    let r = Played::report(&p.migrate);
    assert_eq!(
        (
            &r["dry_run"],
            &r["would_convert"],
            &r["converted"],
            &r["exit_code"]
        ),
        (&json!(true), &json!(11), &json!(0), &json!(3)),
        "{what}: {r}"
    );
    assert_eq!(
        p.changed, 1,
        "{what}: only migrate would change:\n{}",
        p.output
    );
    assert_same_rows(&before, &bed.snapshot(db), "check mode changes no row");
    assert!(db.our_tables().is_empty(), "{what}: {:?}", db.our_tables());
    assert!(
        p.output
            .contains("would convert 11 of 13 legacy stack trees, left alone 2"),
        "{}",
        p.output
    );

    // The first run: 11 trees converted, changed; exit 3 reported, not failed.
    let p = runs.play(vars, false);
    assert_eq!((p.rc, p.failed), (0, 0), "{what} first run:\n{}", p.output);
    let status = Played::report(&p.status);
    assert_eq!(
        (
            p.status["rc"].as_i64(),
            &status["would_convert"],
            &p.status["changed"]
        ),
        (Some(3), &json!(11), &json!(false)),
        "{what}: {status}"
    );
    let r = Played::report(&p.migrate);
    assert_eq!(
        (
            p.migrate["rc"].as_i64(),
            &p.migrate["changed"],
            &p.migrate["failed"]
        ),
        (Some(3), &json!(true), &json!(false)),
        "{what}: {}",
        p.migrate
    );
    assert_eq!(
        (
            &r["converted"],
            &r["left_alone"],
            &r["legacy_left_in_database"]
        ),
        (&json!(11), &json!(2), &json!(2)),
        "{what}: {r}"
    );
    let v = Played::report(&p.verify);
    assert_eq!(
        (
            p.verify["rc"].as_i64(),
            &v["not_holding"],
            &p.verify["changed"]
        ),
        (Some(3), &json!(0), &json!(false)),
        "{what}: {v}"
    );
    assert!(v["checked"].as_u64().unwrap() >= 11, "{what}: {v}");
    assert_eq!(p.changed, 1, "{what}: only migrate changed:\n{}", p.output);
    assert!(
        p.output
            .contains("converted 11 of 13 legacy stack trees, left alone 2")
            && p.output.contains("left alone: failed (")
            && p.output.contains("the root stack is CREATE_FAILED"),
        "the report names what remains and why:\n{}",
        p.output
    );
    assert!(runs.marker().exists());

    // The second run: nothing left to convert, no change.
    let p = runs.play(vars, false);
    assert_eq!(
        (p.rc, p.failed, p.changed),
        (0, 0, 0),
        "{what}:\n{}",
        p.output
    );
    let r = Played::report(&p.migrate);
    assert_eq!(
        (
            p.migrate["rc"].as_i64(),
            &p.migrate["changed"],
            &r["converted"]
        ),
        (Some(3), &json!(false), &json!(0)),
        "{what}: {r}"
    );
    assert_eq!(p.verify["rc"].as_i64(), Some(3), "{what}");

    // Check mode again: nothing would change.
    let p = runs.play(vars, true);
    assert_eq!(
        (p.rc, p.failed, p.changed),
        (0, 0, 0),
        "{what}:\n{}",
        p.output
    );
    assert_eq!(Played::report(&p.migrate)["would_convert"], 0);

    // What the database says.
    let (code, out, _) = db.heat_converge(&["status", "--format", "json"]);
    let s = json(&out);
    assert_eq!(
        (code, &s["convergence_roots"], &s["legacy_left_in_database"]),
        (3, &json!(11), &json!(2)),
        "{s}"
    );
}

#[test]
fn the_role_converts_the_demo_on_sqlite_through_heat_conf() {
    let bed = Bed::new("role-sqlite");
    let db = bed.demo(Backend::Sqlite);
    let runs = Runs::new("sqlite");
    let conf = runs.conf(&db.url);
    let log = runs.dir.join("heat-converge.log");
    // heat_converge_extra_args reach every command: the log file they name fills.
    let vars = with(
        base_vars(),
        json!({
            "heat_converge_config_files": [conf],
            "heat_converge_extra_args": ["--lock-wait=5", "-v", format!("--log-file={}", log.display())],
        }),
    );
    converge_twice(&bed, &db, &runs, &vars);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("cfn"), "{logged}");
}

#[test]
fn the_role_converts_the_demo_on_mariadb_through_a_db_url() {
    let bed = Bed::new("role-mariadb");
    let db = bed.demo(Backend::MariaDb);
    let runs = Runs::new("mariadb");
    let vars = with(
        base_vars(),
        json!({"heat_converge_db_url": db.url, "heat_converge_no_wait": true}),
    );
    converge_twice(&bed, &db, &runs, &vars);
}

#[test]
fn the_role_converts_the_demo_on_postgresql_through_a_config_dir() {
    let bed = Bed::new("role-pg");
    let db = bed.demo(Backend::Postgres);
    let runs = Runs::new("pg");
    let confd = runs.dir.join("heat.conf.d");
    std::fs::create_dir_all(&confd).unwrap();
    std::fs::write(
        confd.join("10-database.conf"),
        format!("[database]\nconnection = {}\n", db.url),
    )
    .unwrap();
    let vars = with(base_vars(), json!({"heat_converge_config_dirs": [confd]}));
    converge_twice(&bed, &db, &runs, &vars);
}

#[test]
fn review_mode_plans_stops_then_applies_the_reviewed_plan() {
    let bed = Bed::new("role-review");
    let db = bed.demo(Backend::MariaDb);
    let runs = Runs::new("review");
    let fetched = runs.dir.join("review");
    let vars = with(
        base_vars(),
        json!({
            "heat_converge_db_url": db.url,
            "heat_converge_plan_file": runs.dir.join("host/plan.json"),
            "heat_converge_plan_fetch_dir": fetched,
        }),
    );

    // plan: the plan written and fetched, the play ended there, no row changed.
    let before = bed.snapshot(&db);
    let p = runs.play(
        &with(vars.clone(), json!({"heat_converge_action": "plan"})),
        false,
    );
    assert_eq!((p.rc, p.failed), (0, 0), "{}", p.output);
    assert!(
        !runs.marker().exists(),
        "the play stops for review:\n{}",
        p.output
    );
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(fetched.join("localhost.json")).unwrap())
            .unwrap();
    assert_eq!(
        (
            plan["trees"].as_array().unwrap().len(),
            plan["left_alone"].as_array().unwrap().len()
        ),
        (11, 2),
        "{plan}"
    );
    assert!(
        p.output
            .contains("heat_converge_action=apply_plan heat_converge_plan_src="),
        "{}",
        p.output
    );
    assert_same_rows(&before, &bed.snapshot(&db), "plan changes no row");
    assert!(db.our_tables().is_empty());

    // apply_plan with the fetched plan, to another place on the host.
    let host_plan = runs.dir.join("host-apply/plan.json");
    let apply = with(
        vars.clone(),
        json!({
            "heat_converge_action": "apply_plan",
            "heat_converge_plan_src": fetched.join("localhost.json"),
            "heat_converge_plan_file": host_plan,
        }),
    );
    // Check mode: migrate --plan --dry-run, on a temporary copy; nothing written anywhere.
    let p = runs.play(&apply, true);
    assert_eq!((p.rc, p.failed, p.changed), (0, 0, 1), "{}", p.output);
    let r = Played::report(&p.migrate);
    assert_eq!(
        (&r["dry_run"], &r["would_convert"], &r["converted"]),
        (&json!(true), &json!(11), &json!(0)),
        "{r}"
    );
    let tmp = r["filter"]
        .as_str()
        .unwrap()
        .strip_prefix("--plan ")
        .unwrap();
    assert!(tmp.ends_with(".heat-converge-plan.json"), "{r}");
    assert!(!Path::new(tmp).exists(), "the temporary copy is removed");
    assert!(!host_plan.exists(), "check mode puts no plan on the host");
    assert_same_rows(&before, &bed.snapshot(&db), "check mode changes no row");

    // For real: the reviewed trees converted.
    let p = runs.play(&apply, false);
    assert_eq!((p.rc, p.failed), (0, 0), "{}", p.output);
    let r = Played::report(&p.migrate);
    assert_eq!(
        (
            p.migrate["changed"].clone(),
            r["converted"].clone(),
            r["filter"].clone()
        ),
        (
            json!(true),
            json!(11),
            json!(format!("--plan {}", host_plan.display()))
        ),
        "{r}"
    );
    assert_eq!(
        std::fs::read(&host_plan).unwrap(),
        std::fs::read(fetched.join("localhost.json")).unwrap()
    );
    assert_eq!(Played::report(&p.verify)["not_holding"], 0);
    assert!(runs.marker().exists());

    // Again: the plan's trees are converted already; no change.
    let p = runs.play(&apply, false);
    assert_eq!((p.rc, p.failed, p.changed), (0, 0, 0), "{}", p.output);
    let r = Played::report(&p.migrate);
    assert_eq!(
        (
            r["converted"].clone(),
            r["plan_gone"].as_array().unwrap().len()
        ),
        (json!(0), 11),
        "{r}"
    );
}

#[test]
fn a_wrong_password_fails_the_play_without_showing_it() {
    let bed = Bed::new("role-password");
    let db = bed.demo(Backend::MariaDb);
    let runs = Runs::new("password");
    let secret = "not-the-password-4711";
    let url = db
        .url
        .replace("heatconv:heatconv@", &format!("heatconv:{secret}@"));
    assert_ne!(url, db.url);
    let p = runs.play(
        &with(base_vars(), json!({"heat_converge_db_url": url})),
        false,
    );
    assert_ne!(p.rc, 0, "the play fails:\n{}", p.output);
    assert_eq!(p.failed, 1, "{}", p.output);
    assert_eq!(
        (p.status["rc"].as_i64(), &p.status["failed"]),
        (Some(1), &json!(true)),
        "{}",
        p.status
    );
    let e = Played::report(&p.status);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("check the user and password"),
        "{e}"
    );
    assert!(
        p.migrate.is_null(),
        "nothing after status runs: {}",
        p.migrate
    );
    assert!(
        !p.output.contains(secret),
        "the password is shown:\n{}",
        p.output
    );
    assert!(!runs.marker().exists());
    assert!(db.our_tables().is_empty());
}

#[test]
fn no_wait_a_verify_that_does_not_hold_and_require_complete_fail_the_play() {
    let bed = Bed::new("role-fail");
    let db = bed.demo(Backend::Sqlite);
    let runs = Runs::new("fail");
    let conf = runs.conf(&db.url);
    let vars = with(base_vars(), json!({"heat_converge_config_files": [conf]}));

    // --no-wait while another process holds the run lock (flock on <db>.heat-converge-lock).
    let lock = PathBuf::from(format!("{}.heat-converge-lock", db.sqlite_path().display()));
    let mut holder = Command::new("flock")
        .arg(&lock)
        .args(["sleep", "120"])
        .spawn()
        .expect("flock (util-linux)");
    for _ in 0..100 {
        if lock.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    let start = std::time::Instant::now();
    let p = runs.play(
        &with(vars.clone(), json!({"heat_converge_no_wait": true})),
        false,
    );
    let _ = holder.kill();
    let _ = holder.wait();
    assert_ne!(p.rc, 0, "{}", p.output);
    assert_eq!(
        (p.migrate["rc"].as_i64(), &p.migrate["failed"]),
        (Some(1), &json!(true)),
        "{}",
        p.migrate
    );
    let e = Played::report(&p.migrate);
    assert!(
        e["error"]["message"].as_str().unwrap().contains("run lock"),
        "{e}"
    );
    assert!(start.elapsed().as_secs() < 60, "--no-wait did not wait");
    assert!(!runs.marker().exists());

    // The lock released: converts.
    let p = runs.play(&vars, false);
    assert_eq!((p.rc, p.failed, p.changed), (0, 0, 1), "{}", p.output);

    // Legacy stacks remain (busy, failed) and heat_converge_require_complete: fails.
    let p = runs.play(
        &with(
            vars.clone(),
            json!({"heat_converge_require_complete": true}),
        ),
        false,
    );
    assert_ne!(p.rc, 0, "{}", p.output);
    assert_eq!((p.failed, p.changed), (1, 0), "{}", p.output);
    assert!(
        p.output
            .contains("2 legacy stacks remain in Heat's database"),
        "{}",
        p.output
    );

    // A converted stack that no longer holds: verify exits 4, the play fails.
    let depends = db.root_id("depends");
    db.exec(&format!(
        "UPDATE resource SET requires = '[]' WHERE stack_id = '{depends}' AND name = 'top'"
    ));
    let p = runs.play(&vars, false);
    assert_ne!(p.rc, 0, "{}", p.output);
    assert_eq!(p.migrate["changed"], false, "{}", p.migrate);
    assert_eq!(
        (p.verify["rc"].as_i64(), &p.verify["failed"]),
        (Some(4), &json!(true)),
        "{}",
        p.verify
    );
    assert_eq!(Played::report(&p.verify)["not_holding"], 1);
    assert!(p.ok > 0 && p.plan.is_null());
}
