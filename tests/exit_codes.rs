//! The operator contract, on copies of the shipped demo (made by the real Heat) on each
//! backend: exit codes that describe the whole database whatever was filtered, filters
//! that name nothing are errors, stray legacy stacks count, dependency cycles are named,
//! stacks whose engine is gone get Heat's remedy, and a closed output ends the run
//! cleanly. Each test makes its own databases and drops them.

#[macro_use]
mod common;

use common::{json, tree, Backend, Bed, HeatDb};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn id_of(db: &HeatDb, name_like: &str) -> String {
    db.value(&format!(
        "SELECT id FROM stack WHERE name LIKE '{name_like}'"
    ))
    .unwrap()
}

/// How many stacks run on the convergence engine.
fn converged(db: &HeatDb) -> i64 {
    db.value("SELECT CAST(COUNT(*) AS CHAR(20)) FROM stack WHERE convergence = true")
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn filters(backend: Backend) {
    let bed = Bed::new(&format!("filters-{backend:?}").to_lowercase());
    let db = bed.demo(backend);
    let group = db.root_id("group");
    let nested = db
        .value(&format!("SELECT id FROM stack WHERE owner_id = '{group}'"))
        .unwrap();
    let deleted = id_of(&db, "deleted");
    // Filters that name nothing are usage errors, and change nothing.
    for (args, says) in [
        (
            vec!["--stack", "00000000-0000-4000-8000-000000000000"],
            "no stack with this id",
        ),
        (vec!["--stack", nested.as_str()], "is a nested stack"),
        (vec!["--stack", deleted.as_str()], "was deleted"),
        (
            vec!["--project", "no-such-project"],
            "no live stack belongs",
        ),
    ] {
        let mut all = vec!["migrate"];
        all.extend(&args);
        let (code, out, err) = db.heat_converge(&all);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert_eq!(converged(&db), 0, "{args:?} changed the database");
    }
    // One tree converted; the exit code still describes the whole database.
    let depends = db.root_id("depends");
    let (code, out, err) = db.heat_converge(&["migrate", "--format", "json", "--stack", &depends]);
    let report = json(&out);
    assert_eq!(code, 3, "{report}{err}");
    assert_eq!(report["converted"], 1, "{report}");
    assert_eq!(report["outside_filter"], 12, "{report}");
    // 10 convertible trees outside the filter, busy and failed.
    assert_eq!(report["legacy_left_in_database"], 12, "{report}");
    let cfn = db.root_id("cfn");
    let (code, out, _) = db.heat_converge(&["migrate", "--stack", &cfn]);
    assert_eq!(code, 3, "{out}");
    // 9 convertible trees outside the filter; busy and failed would be left alone
    // without it too, and are not sent there.
    assert!(
        out.contains(&format!(
            "9 outside --stack {cfn}: run without the filter to convert them; 2 outside --stack {cfn} that would be left alone without it too"
        )),
        "the Next line names the filtered part: {out}"
    );
    assert!(
        !out.contains("every stack runs on the convergence engine"),
        "{out}"
    );
    // The project filter: every root of the demo is in one project.
    let project = db
        .value(&format!("SELECT tenant FROM stack WHERE id = '{cfn}'"))
        .unwrap();
    let (code, out, _) = db.heat_converge(&["migrate", "--format", "json", "--project", &project]);
    let report = json(&out);
    assert_eq!(code, 3, "busy and failed remain: {report}");
    assert_eq!(report["outside_filter"], 0, "{report}");
    assert_eq!(report["legacy_left_in_database"], 2, "{report}");
}

fn strays(backend: Backend) {
    let bed = Bed::new(&format!("strays-{backend:?}").to_lowercase());
    let db = bed.demo(backend);
    // An orphan: a nested stack brought back whose owner stays deleted.
    let orphan = id_of(&db, "deleted-group-%");
    // An owner cycle: the two boxes of `deep` own each other.
    let box0 = id_of(&db, "deep-boxes-%-0-%");
    let box1 = id_of(&db, "deep-boxes-%-1-%");
    // Nested legacy stacks under a root that runs on convergence.
    let provider = db.root_id("provider");
    db.exec(&format!(
        "UPDATE stack SET deleted_at = NULL WHERE id = '{orphan}';
         UPDATE stack SET owner_id = '{box1}' WHERE id = '{box0}';
         UPDATE stack SET owner_id = '{box0}' WHERE id = '{box1}';
         UPDATE stack SET convergence = true WHERE id = '{provider}'"
    ));
    let strays = [orphan.clone(), box0.clone(), box1.clone()];
    let provider_nested: Vec<String> = db
        .rows(&format!(
            "SELECT id FROM stack WHERE owner_id = '{provider}'"
        ))
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect();
    assert_eq!(provider_nested.len(), 2);

    let (code, out, err) = db.heat_converge(&["status", "--format", "json"]);
    let report = json(&out);
    assert_eq!(code, 3, "{err}");
    let listed: Vec<(String, String)> = report["stray_stacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_string(),
                s["reason_kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut want = vec![
        (orphan.clone(), "orphan".to_string()),
        (box0.clone(), "owner_cycle".to_string()),
        (box1.clone(), "owner_cycle".to_string()),
    ];
    want.extend(
        provider_nested
            .iter()
            .map(|id| (id.clone(), "under_convergence_root".to_string())),
    );
    want.sort();
    let mut listed_sorted = listed.clone();
    listed_sorted.sort();
    assert_eq!(listed_sorted, want, "{report}");

    let (code, out, _) = db.heat_converge(&["migrate", "--format", "json"]);
    let report = json(&out);
    assert_eq!(code, 3, "{report}");
    assert_eq!(report["legacy_left_in_database"], 2 + 5, "{report}");
    for id in strays.iter().chain(&provider_nested) {
        assert_eq!(
            db.value(&format!(
                "SELECT CASE WHEN convergence THEN 'yes' ELSE 'no' END FROM stack WHERE id = '{id}'"
            ))
            .as_deref(),
            Some("no"),
            "stray {id} was converted"
        );
    }
    // Only strays left: still legacy stacks, so still 3, and they are listed.
    for name in ["busy", "failed"] {
        let id = db.root_id(name);
        db.exec(&format!(
            "UPDATE stack SET deleted_at = '2026-01-01 00:00:00' WHERE id = '{id}' OR owner_id = '{id}'"
        ));
    }
    let (code, out, _) = db.heat_converge(&["status"]);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains("legacy root stacks                 0"),
        "{out}"
    );
    assert!(
        out.contains("stray legacy stacks                5"),
        "{out}"
    );
    assert!(
        out.contains(&format!("{orphan}): orphan: its owner stack")),
        "{out}"
    );
    let (code, out, _) = db.heat_converge(&["migrate"]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("Next: 5 legacy items remain"), "{out}");
}

fn cycle_warning(backend: Backend) {
    let bed = Bed::new(&format!("cycle-{backend:?}").to_lowercase());
    let db = bed.demo(backend);
    let depends = db.root_id("depends");
    db.exec(&format!(
        "UPDATE raw_template SET template = REPLACE(template,
            '\"base\": {{\"type\": \"OS::Heat::TestResource\"}}',
            '\"base\": {{\"type\": \"OS::Heat::TestResource\", \"depends_on\": \"top\"}}')
         WHERE id = (SELECT raw_template_id FROM stack WHERE id = '{depends}')"
    ));
    let template = db
        .value(&format!(
            "SELECT template FROM raw_template WHERE id = (SELECT raw_template_id FROM stack WHERE id = '{depends}')"
        ))
        .unwrap();
    assert!(template.contains("\"depends_on\": \"top\""), "{template}");
    let (code, out, _) = db.heat_converge(&["migrate", "--format", "json"]);
    let report = json(&out);
    assert_eq!(code, 3, "{report}");
    let t = tree(&report, "depends");
    assert_eq!(t["outcome"], "converted", "{t}");
    let warnings = t["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{t}");
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .contains("resources base, middle, top depend on each other in a cycle"),
        "{t}"
    );
    // The requires are written as Heat writes them: the cycle included.
    let requires = |name: &str| {
        db.value(&format!(
            "SELECT requires FROM resource WHERE stack_id = '{depends}' AND name = '{name}'"
        ))
        .unwrap()
    };
    let id = |name: &str| {
        db.value(&format!(
            "SELECT CAST(id AS CHAR(20)) FROM resource WHERE stack_id = '{depends}' AND name = '{name}'"
        ))
        .unwrap()
        .trim()
        .to_string()
    };
    assert_eq!(requires("base"), format!("[{}]", id("top")));
    assert_eq!(requires("middle"), format!("[{}]", id("base")));
    // The text output names them too.
    let db2 = bed.demo(backend);
    db2.exec(&format!(
        "UPDATE raw_template SET template = '{}' WHERE id = (SELECT raw_template_id FROM stack WHERE id = '{depends}')",
        template.replace('\'', "''")
    ));
    let (_, out, _) = db2.heat_converge(&["migrate", "--dry-run"]);
    assert!(out.contains("warning: stack depends"), "{out}");
}

fn engine_gone(backend: Backend) {
    let bed = Bed::new(&format!("engine-{backend:?}").to_lowercase());
    let db = bed.demo(backend);
    let busy = db.root_id("busy");
    let reason = || {
        let (code, out, _) = db.heat_converge(&["status", "--format", "json"]);
        assert_eq!(code, 3);
        let r = json(&out);
        let t = tree(&r, "busy");
        (
            t["reason_kind"].as_str().unwrap().to_string(),
            t["reason"].as_str().unwrap().to_string(),
        )
    };
    // The demo's engine was killed long ago: its heartbeat is stale.
    let (kind, why) = reason();
    assert_eq!(kind, "engine_gone", "{why}");
    assert!(why.contains("last reported at 20"), "{why}");
    assert!(
        why.contains(&format!("heat-manage reset_stack_status {busy}")),
        "{why}"
    );
    // A heartbeat of a moment ago: the engine is alive, the stack will finish.
    let now = time::OffsetDateTime::now_utc();
    let stamp = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    db.exec(&format!("UPDATE service SET updated_at = '{stamp}'"));
    let (kind, why) = reason();
    assert_eq!(kind, "in_progress", "{why}");
    assert!(!why.contains("reset_stack_status"), "{why}");
    // The engine stopped for good (its service row deleted).
    db.exec(&format!("UPDATE service SET deleted_at = '{stamp}'"));
    let (kind, why) = reason();
    assert_eq!(kind, "engine_gone", "{why}");
    assert!(why.contains("has stopped"), "{why}");
    // No lock at all.
    db.exec("DELETE FROM stack_lock");
    let (_, why) = reason();
    assert!(why.contains("no engine holds a lock"), "{why}");
}

/// `migrate | head -1`: the reader goes away after the first line.
fn closed_output(backend: Backend) {
    let bed = Bed::new(&format!("pipe-{backend:?}").to_lowercase());
    let db = bed.demo(backend);
    let mut child = Command::new(env!("CARGO_BIN_EXE_heat-converge"))
        .args(["migrate", "--list", "--db-url", &db.url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is dropped here: every later write fails.
    assert!(first.starts_with("heat-converge migrate on"), "{first}");
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("the output could not be written"), "{err}");
    let runs = db.rows("SELECT ended_at, stopped FROM heat_converge_run");
    assert_eq!(runs.len(), 1);
    assert!(runs[0][0].is_some(), "the run row is ended: {runs:?}");
    assert!(
        runs[0][1]
            .as_deref()
            .unwrap_or("")
            .contains("could not be written"),
        "the run row says why: {runs:?}"
    );
    assert_eq!(db.newest_run()["ending"], "output_closed");
    // Every tree is converted or untouched, never half.
    let mixed = db.rows(
        "SELECT s.id FROM stack s JOIN stack c ON c.owner_id = s.id
         WHERE s.deleted_at IS NULL AND c.deleted_at IS NULL AND c.backup = false
           AND s.convergence <> c.convergence",
    );
    assert!(mixed.is_empty(), "half-converted trees: {mixed:?}");
    // A later run converts the rest.
    let (code, _, err) = db.heat_converge(&["migrate"]);
    assert_eq!(code, 3, "{err}");
    assert_eq!(
        db.value("SELECT CAST(COUNT(*) AS CHAR(20)) FROM stack WHERE owner_id IS NULL AND deleted_at IS NULL AND convergence = false")
            .unwrap()
            .trim(),
        "2",
        "busy and failed are left"
    );
    // Output closed before anything was written: an error, never a panic.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_heat-converge"))
        .args(["status", "--db-url", &db.url])
        .stdout(writer)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

on_every_backend!(filters, strays, cycle_warning, engine_gone, closed_output);
