//! Review and prove: the audit of every row a conversion deletes, and `heat-converge
//! verify`, on copies of the shipped demo (made by the real Heat) on every backend; on
//! the servers, a real convergence engine then moves converted stacks on.

#[macro_use]
mod common;

use common::{json, tree, Backend, Bed};
use serde_json::Value;

fn audit(backend: Backend) {
    let bed = Bed::new(&format!("audit-{backend:?}").to_lowercase());
    let db = bed.demo(backend);
    let dropped = db.plant_orphaned_port();
    let prev: Vec<String> = db
        .rows("SELECT CAST(prev_raw_template_id AS CHAR(20)) FROM stack WHERE prev_raw_template_id IS NOT NULL ORDER BY 1")
        .into_iter()
        .map(|r| r[0].clone().unwrap().trim().to_string())
        .collect();
    assert_eq!(
        prev.len(),
        2,
        "dropped and replaced have previous templates"
    );

    // The review says what will go, by name, type and physical id.
    let (_, out, _) = db.heat_converge(&["migrate", "--dry-run", "--list"]);
    assert!(
        out.contains("delete resource orphaned_port (row 9001, type OS::Neutron::Port, physical id phys-0451, CREATE_COMPLETE) of stack dropped"),
        "{out}"
    );
    let (code, out, err) = db.heat_converge(&["migrate", "--format", "json"]);
    assert_eq!(code, 3, "{out}{err}");
    let report = json(&out);
    let t = tree(&report, "dropped");
    assert_eq!(t["outcome"], "converted", "{t}");
    let deleted = t["deleted_resources"].as_array().unwrap();
    assert_eq!(deleted.len(), 1, "{t}");
    assert_eq!(deleted[0]["name"], "orphaned_port");
    assert_eq!(deleted[0]["physical_id"], "phys-0451");
    assert_eq!(deleted[0]["type"], "OS::Neutron::Port");
    assert_eq!(deleted[0]["uuid"], "aaaaaaaa-0000-4000-8000-000000000451");
    // Gone from Heat's tables, recorded in ours, in the same run.
    assert!(db
        .rows("SELECT id FROM resource WHERE id = 9001")
        .is_empty());
    assert!(db
        .rows("SELECT id FROM resource_data WHERE id = 9001")
        .is_empty());
    let run_id = report["run_id"].as_str().unwrap();
    let audit = db.rows(&format!(
        "SELECT kind, CAST(row_id AS CHAR(20)), uuid, name, type, physical_id, action, status, stack_id, root_stack_id, reason
         FROM heat_converge_deleted WHERE run_id = '{run_id}' ORDER BY kind, row_id"
    ));
    let resources: Vec<_> = audit
        .iter()
        .filter(|r| r[0].as_deref() == Some("resource"))
        .collect();
    assert_eq!(resources.len(), 1, "{audit:?}");
    let r = resources[0];
    assert_eq!(r[1].as_deref().map(str::trim), Some("9001"));
    assert_eq!(
        r[2].as_deref(),
        Some("aaaaaaaa-0000-4000-8000-000000000451")
    );
    assert_eq!(r[3].as_deref(), Some("orphaned_port"));
    assert_eq!(r[4].as_deref(), Some("OS::Neutron::Port"));
    assert_eq!(r[5].as_deref(), Some("phys-0451"));
    assert_eq!(
        (r[6].as_deref(), r[7].as_deref()),
        (Some("CREATE"), Some("COMPLETE"))
    );
    assert_eq!(r[8].as_deref(), Some(dropped.as_str()));
    assert!(r[10]
        .as_deref()
        .unwrap()
        .contains("not in the stack's current template"));
    let templates: Vec<String> = audit
        .iter()
        .filter(|r| r[0].as_deref() == Some("raw_template"))
        .map(|r| r[1].clone().unwrap().trim().to_string())
        .collect();
    assert_eq!(templates, prev, "{audit:?}");
    for id in &prev {
        assert!(db
            .rows(&format!("SELECT id FROM raw_template WHERE id = {id}"))
            .is_empty());
    }
}

fn verify(backend: Backend) {
    let bed = Bed::new(&format!("verify-{backend:?}").to_lowercase());
    let db = bed.demo(backend);
    let verify = || {
        let (code, out, err) = db.heat_converge(&["verify", "--format", "json"]);
        (code, json(&format!("{out}{err}")))
    };
    let (code, v) = verify();
    assert_eq!(
        (code, &v["checked"]),
        (3, &Value::from(0)),
        "nothing converted yet: {v}"
    );
    let (code, _, _) = db.heat_converge(&["migrate"]);
    assert_eq!(code, 3);
    let (code, v) = verify();
    assert_eq!(code, 3, "all holds, busy and failed remain: {v}");
    assert_eq!(v["checked"], 17, "{v}");
    assert_eq!(v["not_holding"], 0, "{v}");
    assert_eq!(v["legacy_left_in_database"], 2, "{v}");
    let finding = |v: &Value, id: &str| -> (String, Vec<String>) {
        let s = v["stacks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stack_id"] == id)
            .unwrap_or_else(|| panic!("{id} not in {v}"));
        (
            s["finding"].as_str().unwrap().to_string(),
            s["details"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_str().unwrap().to_string())
                .collect(),
        )
    };

    // A stack recorded twice (a later run's record after this run's): the later record
    // is the one checked, and the stack once. Its traversal is not the stack's: the
    // stack reads as moved on since; without it, it holds again.
    let deep = db.root_id("deep");
    assert_eq!(finding(&v, &deep).0, "holds");
    db.exec(&format!(
        "INSERT INTO heat_converge_stack (run_id, stack_id, root_stack_id, outcome, reason, \
         resources_converted, resources_deleted, templates_deleted, traversal) VALUES \
         ('a-later-run', '{deep}', '{deep}', 'converted', NULL, 0, 0, 0, 'another-traversal')"
    ));
    let (code, v) = verify();
    assert_eq!((code, &v["checked"]), (3, &Value::from(17)), "{v}");
    assert_eq!(finding(&v, &deep).0, "moved_on", "{v}");
    db.exec("DELETE FROM heat_converge_stack WHERE run_id = 'a-later-run'");
    let (_, v) = verify();
    assert_eq!(finding(&v, &deep).0, "holds", "{v}");

    // A tampered requires is found and named.
    let depends = db.root_id("depends");
    let top = format!("stack_id = '{depends}' AND name = 'top'");
    let requires = db
        .value(&format!("SELECT requires FROM resource WHERE {top}"))
        .unwrap();
    assert_ne!(requires, "[]");
    db.exec(&format!("UPDATE resource SET requires = '[]' WHERE {top}"));
    let (code, v) = verify();
    assert_eq!(code, 4, "{v}");
    let (kind, details) = finding(&v, &depends);
    assert_eq!(kind, "does_not_hold");
    assert!(
        details
            .iter()
            .any(|d| d.starts_with("resource top: requires is [], Heat's graph gives [")),
        "{details:?}"
    );
    db.exec(&format!(
        "UPDATE resource SET requires = '{requires}' WHERE {top}"
    ));
    assert_eq!(verify().0, 3);

    // Checked without the planner too: a requires naming no resource of the stack, a
    // needed_by that is not its inverse, a template id that is not the stack's.
    db.exec(&format!(
        "UPDATE resource SET requires = '[999999]', current_template_id = NULL WHERE {top}"
    ));
    let (code, v) = verify();
    assert_eq!(code, 4, "{v}");
    let (_, details) = finding(&v, &depends);
    for want in [
        "resource top: requires names 999999, which is no active resource of the stack",
        "resource top: current_template_id is not its stack's template",
        "needed_by is not the inverse of the stack's requires",
    ] {
        assert!(
            details.iter().any(|d| d.contains(want)),
            "{want}: {details:?}"
        );
    }
    let tid = db
        .value(&format!(
            "SELECT raw_template_id FROM stack WHERE id = '{depends}'"
        ))
        .unwrap();
    db.exec(&format!(
        "UPDATE resource SET requires = '{requires}', current_template_id = {tid} WHERE {top}"
    ));
    assert_eq!(verify().0, 3);

    // A re-added legacy flag.
    let cfn = db.root_id("cfn");
    db.exec(&format!(
        "UPDATE stack SET convergence = false WHERE id = '{cfn}'"
    ));
    let (code, v) = verify();
    assert_eq!(code, 4, "{v}");
    let (_, details) = finding(&v, &cfn);
    assert!(
        details.iter().any(|d| d.contains("convergence is false")),
        "{details:?}"
    );
    db.exec(&format!(
        "UPDATE stack SET convergence = true WHERE id = '{cfn}'"
    ));

    // A deleted current_template_id.
    let group = db.root_id("group");
    let nested = db
        .value(&format!("SELECT id FROM stack WHERE owner_id = '{group}'"))
        .unwrap();
    let one = db
        .value(&format!(
            "SELECT CAST(MIN(id) AS CHAR(20)) FROM resource WHERE stack_id = '{nested}'"
        ))
        .unwrap();
    let one = one.trim();
    let tid = db
        .value(&format!(
            "SELECT CAST(current_template_id AS CHAR(20)) FROM resource WHERE id = {one}"
        ))
        .unwrap();
    db.exec(&format!(
        "UPDATE resource SET current_template_id = NULL WHERE id = {one}"
    ));
    let (code, v) = verify();
    assert_eq!(code, 4, "{v}");
    let (_, details) = finding(&v, &nested);
    assert!(
        details
            .iter()
            .any(|d| d.contains("current_template_id is NULL")),
        "{details:?}"
    );
    db.exec(&format!(
        "UPDATE resource SET current_template_id = {} WHERE id = {one}",
        tid.trim()
    ));
    assert_eq!(verify().0, 3);

    // A real convergence engine updates converted stacks: they have moved on, cleanly.
    if backend != Backend::Sqlite {
        let proved = bed.prove_update(&db, &[&depends, &cfn]);
        for id in [&depends, &cfn] {
            assert_eq!(proved[id.as_str()]["update"], "UPDATE_COMPLETE", "{proved}");
        }
        let (code, v) = verify();
        assert_eq!(code, 3, "{v}");
        for id in [&depends, &cfn] {
            assert_eq!(finding(&v, id).0, "moved_on", "{v}");
        }
    }
    // The filter narrows what is checked, and must select something.
    let (code, out, _) = db.heat_converge(&["verify", "--format", "json", "--stack", &group]);
    assert_eq!(code, 3, "{out}");
    assert_eq!(json(&out)["checked"], 2, "{out}");
    let (code, _, err) =
        db.heat_converge(&["verify", "--stack", "00000000-0000-4000-8000-000000000000"]);
    assert_eq!(code, 2, "{err}");
}

fn plan_and_apply(backend: Backend) {
    let bed = Bed::new(&format!("plan-{backend:?}").to_lowercase());
    let db = bed.demo(backend);
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join(format!("plan-{}.json", db.name));
    let before = bed.snapshot(&db);
    let (code, out, err) = db.heat_converge(&["plan", "--out", file.to_str().unwrap()]);
    assert_eq!(code, 3, "busy and failed would remain: {out}{err}");
    assert!(out.contains("Plan written to"), "{out}");
    common::assert_same_rows(&before, &bed.snapshot(&db), "plan writes nothing");
    // The file is valid against the documented schema (checked by Python's jsonschema).
    let schema = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/plan.schema.json");
    let checked = std::process::Command::new(common::venv_python())
        .args([
            "-c",
            "import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))); print('valid')",
        ])
        .arg(&file)
        .arg(&schema)
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let plan: Value = json(&std::fs::read_to_string(&file).unwrap());
    assert_eq!(plan["trees"].as_array().unwrap().len(), 11, "{plan}");
    assert_eq!(plan["left_alone"].as_array().unwrap().len(), 2, "{plan}");

    // Applied to another database: refused, nothing written.
    let other = bed.demo(backend);
    let (code, _, err) = other.heat_converge(&["migrate", "--plan", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("the plan was made for another database"),
        "{err}"
    );
    assert!(!err.contains("heatconv:heatconv"), "no password: {err}");
    assert_eq!(
        other
            .value("SELECT CAST(COUNT(*) AS CHAR(20)) FROM stack WHERE convergence = true")
            .unwrap()
            .trim(),
        "0"
    );

    // A tree changed since the review is left alone; the others are converted as planned.
    let cfn = db.root_id("cfn");
    db.exec(&format!(
        "UPDATE resource SET nova_instance = 'moved-meanwhile' WHERE stack_id = '{cfn}'"
    ));
    let (code, out, err) = db.heat_converge(&[
        "migrate",
        "--format",
        "json",
        "--plan",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 3, "{out}{err}");
    let report = json(&out);
    let t = tree(&report, "cfn");
    assert_eq!(t["reason_kind"], "changed_since_plan", "{t}");
    assert_eq!(report["converted"], 10, "{report}");
    for planned in plan["trees"].as_array().unwrap() {
        if planned["root_id"] == cfn.as_str() {
            continue;
        }
        for stack in planned["stacks"].as_array().unwrap() {
            let id = stack["id"].as_str().unwrap();
            for r in stack["resources"].as_array().unwrap() {
                let row = &db.rows(&format!(
                    "SELECT requires, needed_by, CAST(current_template_id AS CHAR(20)) FROM resource WHERE id = {}",
                    r["id"]
                ))[0];
                let ids = |v: &Option<String>| -> Value { json(v.as_deref().unwrap()) };
                assert_eq!(ids(&row[0]), r["requires"], "{id} {r}");
                assert_eq!(ids(&row[1]), r["needed_by"], "{id} {r}");
                assert_eq!(
                    row[2].as_deref().map(str::trim),
                    Some(stack["current_template_id"].to_string().as_str()),
                    "{id} {r}"
                );
            }
        }
    }
    assert_eq!(
        db.value(&format!(
            "SELECT CASE WHEN convergence THEN 'yes' ELSE 'no' END FROM stack WHERE id = '{cfn}'"
        ))
        .as_deref(),
        Some("no")
    );
    let _ = std::fs::remove_file(&file);
}

on_every_backend!(audit, verify, plan_and_apply);
