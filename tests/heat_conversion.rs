//! The test bed itself: legacy stacks made by the real heat-engine, Heat's own conversion
//! of a copy, and the convergence engine running what that conversion left.
//!
//! The expectations here are read off our templates (tests/templates), not off Heat's
//! output: if the bed or Heat's conversion did something else, these tests fail.

mod common;

use common::{assert_same_rows, id_set, Backend, Bed, Snapshot};
use std::collections::{BTreeMap, BTreeSet};

/// The cases Heat refuses to convert (a stack of the tree is not *_COMPLETE).
const NOT_CONVERTIBLE: &[&str] = &["busy", "failed"];

#[test]
fn legacy_cases_on_mariadb() {
    legacy_cases_then_heat_conversion(Backend::MariaDb, "bedmy");
}

#[test]
fn legacy_cases_on_postgresql() {
    legacy_cases_then_heat_conversion(Backend::Postgres, "bedpg");
}

fn legacy_cases_then_heat_conversion(backend: Backend, tag: &str) {
    let bed = Bed::new(tag);
    let db = bed.create_db(backend);
    let cases = bed.build_cases(&db);
    let before = bed.snapshot(&db);

    check_cases_are_legacy(&cases, &before);

    // A SQLite copy holds exactly the same rows (heat-engine cannot run on SQLite).
    let lite = bed.copy(&db, Backend::Sqlite);
    assert_same_rows(&before, &bed.snapshot(&lite), "SQLite copy vs original");

    // Heat's own conversion, on a copy on the same server.
    let copy = bed.copy(&db, backend);
    let report = bed.heat_convert(&copy);
    let after = bed.snapshot(&copy);
    check_heat_conversion(&cases, &before, &after, &report);

    // Our graph of each stored (still legacy) stack is the graph Heat's conversion wrote.
    check_stored_graphs(&db, &after);
    check_stored_graphs(&lite, &after);

    // The same conversion on the SQLite copy gives the same rows.
    let lite_before = std::fs::read(lite.sqlite_path()).expect("read the SQLite copy");
    let lite_heat = bed.copy(&lite, Backend::Sqlite);
    bed.heat_convert(&lite_heat);
    assert_same_rows(
        &after,
        &bed.snapshot(&lite_heat),
        "converted SQLite copy vs converted server copy",
    );

    // heat-converge migrate --dry-run writes nothing at all.
    let dry = migrate(&lite, &["--dry-run"]);
    assert_eq!(
        dry.code, 3,
        "dry run: legacy trees would remain: {}",
        dry.json
    );
    assert_eq!(dry.json["would_convert"], 11, "{}", dry.json);
    assert_eq!(
        std::fs::read(lite.sqlite_path()).unwrap(),
        lite_before,
        "dry run changed the SQLite file"
    );
    let dry = migrate(&db, &["--dry-run"]);
    assert_same_rows(&before, &bed.snapshot(&db), "after a dry run");
    assert_eq!(dry.json["would_convert"], 11);

    // heat-converge migrate gives the rows Heat's own conversion gives, on every backend.
    for target in [bed.copy(&db, backend), bed.copy(&db, Backend::Sqlite)] {
        let run = migrate(&target, &[]);
        assert_eq!(run.code, 3, "busy and failed remain: {}", run.json);
        assert_eq!(run.json["converted"], 11, "{}", run.json);
        // The bed killed the busy stack's engine: while its last heartbeat is fresh
        // (two report intervals, as Heat counts) the stack is "in progress", then
        // "in progress, engine gone".
        let by_reason = &run.json["left_alone_by_reason"];
        assert_eq!(
            by_reason["in_progress"].as_u64().unwrap_or(0)
                + by_reason["engine_gone"].as_u64().unwrap_or(0),
            1,
            "{}",
            run.json
        );
        assert_eq!(
            run.json["left_alone_by_reason"]["failed"], 1,
            "{}",
            run.json
        );
        let ours = bed.snapshot(&target);
        check_needed_by_is_reverse_of_requires(&ours);
        assert_same_rows(
            &without_needed_by(&after),
            &without_needed_by(&ours),
            "heat-converge vs Heat's conversion",
        );

        // A second run changes nothing.
        let again = migrate(&target, &[]);
        assert_eq!(again.json["converted"], 0, "{}", again.json);
        assert_eq!(again.code, 3);
        assert_same_rows(&ours, &bed.snapshot(&target), "second run");

        if target.backend == Backend::Sqlite {
            continue; // heat-engine cannot run on SQLite
        }
        // The convergence engine updates and deletes every stack we converted.
        let converted: Vec<&str> = cases
            .iter()
            .filter(|(n, _)| !NOT_CONVERTIBLE.contains(&n.as_str()) && n.as_str() != "deleted")
            .map(|(_, c)| c.id.as_str())
            .collect();
        assert_eq!(converted.len(), 11);
        let states = bed.prove(&target, &converted);
        for (name, case) in &cases {
            if !converted.contains(&case.id.as_str()) {
                continue;
            }
            let s = &states[&case.id];
            assert_eq!(
                s["update"], "UPDATE_COMPLETE",
                "{name} under convergence: {s}"
            );
            assert_eq!(
                s["delete"], "DELETE_COMPLETE",
                "{name} under convergence: {s}"
            );
        }
        assert_eq!(states[&cases["suspended"].id]["resume"], "RESUME_COMPLETE");
    }
}

/// The outcome of one `heat-converge migrate --format json`.
struct Migrated {
    code: i32,
    json: serde_json::Value,
}

fn migrate(db: &common::HeatDb, extra: &[&str]) -> Migrated {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_heat-converge"))
        .args(["migrate", "--format", "json", "--db-url", &db.url])
        .args(extra)
        .output()
        .expect("run heat-converge migrate");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("heatconv:heatconv"),
        "the password was printed: {stderr}"
    );
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("migrate printed no JSON ({e}): {stderr}"));
    Migrated {
        code: out.status.code().unwrap_or(-1),
        json,
    }
}

/// Heat stopped writing `needed_by` (it leaves `[]`); we fill it, so rows are compared
/// without it and our values are checked on their own.
fn without_needed_by(s: &Snapshot) -> Snapshot {
    let mut v = s.0.clone();
    if let Some(rows) = v["resource"].as_object_mut() {
        for r in rows.values_mut() {
            r["needed_by"] = serde_json::Value::Null;
        }
    }
    Snapshot(v)
}

/// Every converted resource's `needed_by` holds exactly the resources that require it.
fn check_needed_by_is_reverse_of_requires(s: &Snapshot) {
    let rows = s.table("resource");
    for r in rows.values() {
        let stack = &s.stack(r["stack_id"].as_str().unwrap());
        if stack["convergence"] != true {
            continue;
        }
        let id = r["id"].as_i64().unwrap();
        let expected: BTreeSet<i64> = rows
            .values()
            .filter(|o| o["stack_id"] == r["stack_id"] && id_set(&o["requires"]).contains(&id))
            .map(|o| o["id"].as_i64().unwrap())
            .collect();
        assert_eq!(
            id_set(&r["needed_by"]),
            expected,
            "needed_by of {}",
            r["name"]
        );
    }
}

fn check_cases_are_legacy(cases: &BTreeMap<String, common::Case>, snap: &Snapshot) {
    let live_roots = snap.roots();
    assert!(
        live_roots.len() >= 10,
        "only {} live root stacks",
        live_roots.len()
    );
    assert_eq!(cases["failed"].state, "CREATE_FAILED");
    assert_eq!(cases["busy"].state, "CREATE_IN_PROGRESS");
    assert_eq!(cases["suspended"].state, "SUSPEND_COMPLETE");
    assert_eq!(cases["deleted"].state, "DELETE_COMPLETE");
    assert_eq!(snap.stack(&cases["deleted"].id)["deleted"], true);

    for stack in snap.table("stack").values() {
        assert_eq!(
            stack["convergence"], false,
            "stack {} is not legacy",
            stack["name"]
        );
    }
    for res in snap.table("resource").values() {
        assert!(
            id_set(&res["requires"]).is_empty(),
            "legacy resource with requires: {res}"
        );
    }
    // Nesting: the group has a nested stack; deep has two levels below it.
    assert_eq!(snap.tree(&cases["group"].id).len(), 2);
    assert_eq!(snap.tree(&cases["deep"].id).len(), 4);
    assert_eq!(snap.tree(&cases["provider"].id).len(), 3);
    // Updated stacks keep their previous template; one resource was replaced.
    for name in ["replaced", "dropped"] {
        let prev = &snap.stack(&cases[name].id)["prev_raw_template_id"];
        assert!(prev.is_i64(), "{name} has no prev_raw_template_id");
    }
    // The legacy engine does not set `replaces`: the replacement is a new row made during
    // the update, so it is younger than `reader`, which was made after the original.
    let stack = &cases["replaced"].id;
    let replacement = snap.resource(stack, "replaceable")["id"].as_i64().unwrap();
    let reader = snap.resource(stack, "reader")["id"].as_i64().unwrap();
    assert!(
        replacement > reader,
        "replaceable was not replaced ({replacement} < {reader})"
    );
    // The busy stack is locked by the engine that was killed under it.
    assert!(snap.table("stack_lock").contains_key(&cases["busy"].id));
    // Conditions: a false condition's resource was never made.
    let names = |case: &str| -> BTreeSet<String> {
        let stack = &cases[case].id;
        snap.resources_of(stack)
            .iter()
            .filter_map(|r| r["name"].as_str().map(String::from))
            .collect()
    };
    let prod = names("conditions");
    assert!(
        prod.contains("prod_only") && !prod.contains("dev_only"),
        "{prod:?}"
    );
    let dev = names("conditions-dev");
    assert!(
        dev.contains("dev_only") && !dev.contains("prod_only"),
        "{dev:?}"
    );
}

/// The DB ids of the named resources of a stack.
fn ids(snap: &Snapshot, stack: &str, names: &[&str]) -> BTreeSet<i64> {
    names
        .iter()
        .map(|n| snap.resource(stack, n)["id"].as_i64().expect("resource id"))
        .collect()
}

fn check_heat_conversion(
    cases: &BTreeMap<String, common::Case>,
    before: &Snapshot,
    after: &Snapshot,
    report: &serde_json::Value,
) {
    for (name, case) in cases {
        if name == "deleted" {
            assert!(
                report.get(&case.id).is_none(),
                "a deleted stack was looked at"
            );
            continue;
        }
        let outcome = &report[&case.id]["outcome"];
        if NOT_CONVERTIBLE.contains(&name.as_str()) {
            assert_eq!(outcome, "refused", "{name}: {}", report[&case.id]);
            // Untouched: every stack and resource row of the tree as it was.
            for st in before.tree(&case.id) {
                let id = st["id"].as_str().unwrap();
                assert_eq!(after.stack(id), st, "{name}: stack row changed");
                for r in before.resources_of(id) {
                    let key = r["id"].to_string();
                    assert_eq!(
                        &after.table("resource")[&key],
                        r,
                        "{name}: resource changed"
                    );
                }
            }
            continue;
        }
        assert_eq!(outcome, "converted", "{name}: {}", report[&case.id]);
        for st in after.tree(&case.id) {
            assert_eq!(
                st["convergence"], true,
                "{name}: {} not converted",
                st["name"]
            );
            assert_eq!(st["current_traversal"], "uuid4", "{name}: no new traversal");
            assert!(st["prev_raw_template_id"].is_null());
            let tmpl = &st["raw_template_id"];
            for r in after.resources_of(st["id"].as_str().unwrap()) {
                assert_eq!(&r["current_template_id"], tmpl, "{name}: {}", r["name"]);
            }
        }
    }

    // Edges, as our templates say they must be.
    let expect = |case: &str, res: &str, on: &[&str]| {
        let stack = &cases[case].id;
        let got = id_set(&after.resource(stack, res)["requires"]);
        assert_eq!(got, ids(after, stack, on), "{case}.{res} requires");
    };
    expect("depends", "base", &[]);
    expect("depends", "middle", &["base"]);
    expect("depends", "top", &["middle", "side"]);
    expect("cfn", "Echo", &["Secret"]);
    expect("cfn", "Last", &["Echo"]);
    expect("cfn", "Alone", &[]);
    expect("functions", "sentence", &["word"]);
    expect("functions", "joined", &["number"]);
    expect("functions", "merged", &["sentence", "joined"]);
    expect("conditions", "chooser", &["left"]);
    expect("conditions", "reader", &["prod_only"]);
    expect("conditions-dev", "chooser", &["right"]);
    expect("conditions-dev", "reader", &["dev_only"]);
    expect("provider", "second", &["first"]);
    expect("group", "summary", &["group"]);
    expect("deep", "tail", &["boxes"]);
    expect("replaced", "reader", &["replaceable"]);

    // Heat writes requires sorted descending.
    for r in after.table("resource").values() {
        if let Some(a) = r["requires"].as_array() {
            let v: Vec<i64> = a.iter().filter_map(|x| x.as_i64()).collect();
            let mut sorted = v.clone();
            sorted.sort_by(|a, b| b.cmp(a));
            assert_eq!(v, sorted, "requires not sorted descending: {r}");
        }
    }

    // The previous templates of updated stacks are gone.
    for name in ["replaced", "dropped"] {
        let prev = before.stack(&cases[name].id)["prev_raw_template_id"].to_string();
        assert!(before.table("raw_template").contains_key(&prev));
        assert!(
            !after.table("raw_template").contains_key(&prev),
            "{name}: old template kept"
        );
    }
}

/// For every stack Heat converted: `heat-converge graph STACK_ID` on the unconverted
/// database gives, for each resource, the names of the resources whose ids Heat's own
/// conversion wrote into `requires`.
fn check_stored_graphs(unconverted: &common::HeatDb, converted: &Snapshot) {
    let mut checked = 0;
    for stack in converted.table("stack").values() {
        if stack["convergence"] != true || stack["deleted"] == true {
            continue;
        }
        let id = stack["id"].as_str().unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_heat-converge"))
            .args(["graph", id, "--db-url", &unconverted.url])
            .output()
            .expect("run heat-converge graph");
        assert!(
            out.status.success(),
            "graph {id} on {:?}: {}",
            unconverted.backend,
            String::from_utf8_lossy(&out.stderr)
        );
        let ours: serde_json::Value = serde_json::from_slice(&out.stdout).expect("graph JSON");
        let resources = converted.resources_of(id);
        let name_of = |rid: i64| -> String {
            resources
                .iter()
                .find(|r| r["id"] == rid)
                .map(|r| r["name"].as_str().unwrap().to_string())
                .unwrap_or_else(|| format!("#{rid}"))
        };
        for r in &resources {
            let name = r["name"].as_str().unwrap();
            let heat: BTreeSet<String> = id_set(&r["requires"]).into_iter().map(name_of).collect();
            let mine: BTreeSet<String> = ours["resources"][name]["requires"]
                .as_array()
                .unwrap_or_else(|| {
                    panic!(
                        "{name} of stack {} missing from our graph: {ours}",
                        stack["name"]
                    )
                })
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect();
            assert_eq!(
                mine, heat,
                "{:?} stack {} resource {name}",
                unconverted.backend, stack["name"]
            );
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} resources compared");
}
