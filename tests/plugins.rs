//! Third-party resource plugins (issue 17): stacks whose types come from heat.conf's
//! `plugin_dirs`, made by a real legacy heat-engine that loads the plugins of
//! `tests/templates/plugin_dir`, the cases of `tests/templates/plugin-cases.yaml`.
//!
//! The plugins and what each needs to be converted:
//! - `Acme::Widget` (a plain `Resource`) and `Acme::Port` (a subclass of Heat's Neutron
//!   Port, with Port's implicit rule): their graphs are Heat's in-tree ones, so
//!   heat-converge computes them itself, no Python needed;
//! - `Acme::LB::Monitor` (its own `add_dependencies`, reading its stack's pools) and
//!   `Acme::Cond::Thing` (registered only by `available_resource_mapping()`, under a
//!   condition decided at import): only Heat's own code can say, through `--heat-python`.
//!
//! The oracle is Heat's own conversion with the same plugins (`heatbed.py convert
//! --plugin-dir`); its rows are checked first against what our templates say.
//!
//! - `with_heat_python_every_tree_converts`: with `--plugin-dir` and `--heat-python` (the
//!   bed's virtualenv), `heat-converge migrate` converts every tree on MariaDB, PostgreSQL
//!   and SQLite with Heat's rows (`needed_by` aside, as in tests/heat_conversion.rs), a second run
//!   converts nothing, and a convergence engine with the plugins updates and deletes every
//!   converted root (MariaDB, PostgreSQL).
//! - `without_heat_python_own_code_trees_are_left_alone`: `--plugin-dir` only, and no
//!   `heat-manage` on PATH: the plain, nested, port and updated trees are converted as Heat
//!   converts them; plugin-lb, plugin-lb-nested and plugin-cond are left alone
//!   (`needs_heat`, the reason naming the resource, its type, class and file), exit 3.
//!
//! These tests follow the CLI contract of issue 17 (`--plugin-dir DIR`, repeatable, and
//! `--heat-python PATH` on every command; `reason_kind` `needs_heat`).

mod common;

use common::{assert_same_rows, id_set, Backend, Bed, Case, HeatDb, Snapshot};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const CASES: &str = "plugin-cases.yaml";

/// Every root the cases make; all end *_COMPLETE, so Heat converts every one.
const ROOTS: [&str; 7] = [
    "plugin-plain",
    "plugin-nested",
    "plugin-port",
    "plugin-lb",
    "plugin-lb-nested",
    "plugin-cond",
    "plugin-updated",
];

/// The trees whose plugin types heat-converge models itself (no Heat needed).
const NATIVE: [&str; 4] = [
    "plugin-plain",
    "plugin-nested",
    "plugin-port",
    "plugin-updated",
];

/// The trees that need Heat's own Python: (root, a resource of the tree that needs it
/// (any of them), its type, its class, its plugin file).
const NEEDS_HEAT: [(&str, &[&str], &str, &str, &str); 3] = [
    (
        "plugin-lb",
        &["mon_a", "mon_b"],
        "Acme::LB::Monitor",
        "Monitor",
        "acme_lb.py",
    ),
    (
        "plugin-lb-nested",
        &["monitor"],
        "Acme::LB::Monitor",
        "Monitor",
        "acme_lb.py",
    ),
    (
        "plugin-cond",
        &["thing", "later"],
        "Acme::Cond::Thing",
        "Thing",
        "acme_cond.py",
    ),
];

fn top() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The plugin directory of the bed: our own plugin modules.
fn plugin_dir() -> PathBuf {
    top().join("tests/templates/plugin_dir")
}

/// The Python of a Heat installation: the bed's virtualenv
/// (`CARGO_MANIFEST_DIR/target/heat-venv/bin/python`, or `HEAT_VENV`'s).
fn heat_python() -> PathBuf {
    common::venv_python()
}

/// A bed whose engines and in-process Heat load the plugin directory.
fn plugin_bed(tag: &str) -> Bed {
    Bed::new(tag).with_plugin_dirs(&[plugin_dir()])
}

/// PATH without any directory holding a `heat-manage` (so heat-converge cannot find a
/// Heat installation by itself).
fn path_without_heat_manage() -> String {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let kept: Vec<PathBuf> = std::env::split_paths(&path)
        .filter(|d| !d.join("heat-manage").exists())
        .collect();
    std::env::join_paths(kept)
        .expect("PATH entries")
        .to_string_lossy()
        .into_owned()
}

struct Run {
    code: i32,
    json: Value,
    stdout: String,
    stderr: String,
}

/// `heat-converge ARGS --db-url URL`, with a HOME of the test's own (no heat.conf found
/// anywhere else) and no `heat-manage` on PATH.
fn heat_converge(db: &HeatDb, home: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_heat-converge"))
        .args(args)
        .args(["--db-url", &db.url])
        .env("HOME", home)
        .env("PATH", path_without_heat_manage())
        .env_remove("HEAT_CONVERGE_DB_URL")
        .output()
        .expect("run heat-converge");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stdout.contains("heatconv:heatconv") && !stderr.contains("heatconv:heatconv"),
        "the password was printed:\n{stdout}\n{stderr}"
    );
    Run {
        code: out.status.code().unwrap_or(-1),
        json: serde_json::from_str(&stdout).unwrap_or(Value::Null),
        stdout,
        stderr,
    }
}

/// `migrate --format json --plugin-dir DIR` (and `--heat-python PATH` when given).
fn migrate(db: &HeatDb, home: &Path, heat_python: Option<&Path>) -> Run {
    let dir = plugin_dir().display().to_string();
    let python = heat_python.map(|p| p.display().to_string());
    let mut args = vec!["migrate", "--format", "json", "--plugin-dir", dir.as_str()];
    if let Some(p) = &python {
        args.extend(["--heat-python", p.as_str()]);
    }
    let run = heat_converge(db, home, &args);
    assert!(
        run.json.is_object(),
        "migrate printed no JSON (exit {}):\n{}\n{}",
        run.code,
        run.stdout,
        run.stderr
    );
    run
}

fn tree<'a>(run: &'a Run, name: &str) -> &'a Value {
    run.json["trees"]
        .as_array()
        .unwrap_or_else(|| panic!("no trees: {}\n{}", run.stdout, run.stderr))
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no tree {name}: {}", run.stdout))
}

/// Heat stopped writing `needed_by`; we fill it: rows are compared without it.
fn without_needed_by(s: &Snapshot) -> Snapshot {
    let mut v = s.0.clone();
    if let Some(rows) = v["resource"].as_object_mut() {
        for r in rows.values_mut() {
            r["needed_by"] = Value::Null;
        }
    }
    Snapshot(v)
}

/// The names of the resources `name` of `stack_id` requires, as written in `requires`.
fn requires_names(s: &Snapshot, stack_id: &str, name: &str) -> Vec<String> {
    let resources = s.resources_of(stack_id);
    let mut names: Vec<String> = id_set(&s.resource(stack_id, name)["requires"])
        .into_iter()
        .map(|id| {
            resources
                .iter()
                .find(|r| r["id"] == id)
                .map(|r| r["name"].as_str().unwrap().to_string())
                .unwrap_or_else(|| format!("#{id}"))
        })
        .collect();
    names.sort();
    names
}

/// The live stack of the tree under `root` whose parent resource is `parent`.
fn nested<'a>(s: &'a Snapshot, root: &str, parent: &str) -> &'a str {
    s.tree(root)
        .into_iter()
        .find(|st| st["parent_resource_name"] == parent)
        .and_then(|st| st["id"].as_str())
        .unwrap_or_else(|| panic!("no nested stack for {parent} under {root}"))
}

/// Builds the cases with a legacy engine that loads the plugins, and checks they are the
/// legacy stacks the templates describe.
fn build(bed: &Bed, db: &HeatDb) -> (BTreeMap<String, Case>, Snapshot) {
    let cases = bed.build_cases_from(db, CASES, None, None);
    assert_eq!(
        cases.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        ROOTS.iter().copied().collect(),
        "{cases:?}"
    );
    for (name, case) in &cases {
        let want = if name == "plugin-updated" {
            "UPDATE_COMPLETE"
        } else {
            "CREATE_COMPLETE"
        };
        assert_eq!(case.state, want, "{name}");
    }
    let before = bed.snapshot(db);
    for st in before.table("stack").values() {
        assert_eq!(st["convergence"], false, "{} is not legacy", st["name"]);
    }
    // Nesting: nested has the box, the group and the second box; port a stack per subnet;
    // lb-nested the provider stack holding the monitor.
    assert_eq!(before.tree(&cases["plugin-nested"].id).len(), 4);
    assert_eq!(before.tree(&cases["plugin-port"].id).len(), 3);
    assert_eq!(before.tree(&cases["plugin-lb-nested"].id).len(), 2);
    // The update left a previous template; the dropped widget is gone.
    let updated = &cases["plugin-updated"].id;
    assert!(before.stack(updated)["prev_raw_template_id"].is_i64());
    assert!(!before
        .resources_of(updated)
        .iter()
        .any(|r| r["name"] == "goes" && r["action"] != "DELETE"));
    (cases, before)
}

/// Heat's own conversion with the plugins, checked against what the templates say.
fn heat_conversion(bed: &Bed, db: &HeatDb, cases: &BTreeMap<String, Case>) -> Snapshot {
    let copy = bed.copy(db, db.backend);
    let report = bed.heat_convert(&copy);
    for (name, c) in cases {
        assert_eq!(report[&c.id]["outcome"], "converted", "{name}: {report}");
    }
    let after = bed.snapshot(&copy);
    let id = |n: &str| cases[n].id.clone();
    let expect = |stack: &str, res: &str, on: &[&str]| {
        assert_eq!(
            requires_names(&after, stack, res),
            on.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "{res} requires"
        );
    };
    let plain = id("plugin-plain");
    expect(&plain, "reader", &["base"]);
    expect(&plain, "ref", &["reader"]);
    expect(&plain, "after", &["base", "ref"]);
    expect(&plain, "value", &["alone", "reader"]);
    let nested_root = id("plugin-nested");
    expect(&nested_root, "summary", &["group"]);
    expect(&nested_root, "second", &["box"]);
    expect(nested(&after, &nested_root, "box"), "echo", &["inner"]);
    // The port's only edge is Port's implicit rule: the subnet of its network.
    let port = id("plugin-port");
    expect(&port, "port", &["subnet_a"]);
    expect(&port, "user", &["port"]);
    // The monitors' edges are their own code's: the pools of their zone, the alias too.
    let lb = id("plugin-lb");
    expect(&lb, "mon_a", &["pool_a", "pool_a2", "pool_alias"]);
    expect(&lb, "mon_b", &["pool_b"]);
    expect(&lb, "watcher", &["mon_a"]);
    let lbn = id("plugin-lb-nested");
    expect(nested(&after, &lbn, "lb"), "monitor", &["pool"]);
    expect(&lbn, "back", &["front", "lb"]);
    let cond = id("plugin-cond");
    expect(&cond, "widget", &["thing"]);
    expect(&cond, "later", &["widget"]);
    let updated = id("plugin-updated");
    expect(&updated, "changes", &["stays"]);
    expect(&updated, "added", &["changes"]);
    assert!(after.stack(&updated)["prev_raw_template_id"].is_null());
    for st in after.table("stack").values() {
        if st["deleted"] == false {
            assert_eq!(st["convergence"], true, "{} not converted", st["name"]);
        }
    }
    after
}

#[test]
fn with_heat_python_every_tree_converts() {
    let bed = plugin_bed("plugins-py");
    let db = bed.create_db(Backend::MariaDb);
    let (cases, before) = build(&bed, &db);

    // Heat's own conversion without the plugins cannot load a single tree.
    let blind = Bed::new("plugins-blind");
    let copy = bed.copy(&db, Backend::MariaDb);
    let report = blind.heat_convert(&copy);
    for (name, c) in &cases {
        assert_eq!(report[&c.id]["outcome"], "refused", "{name}: {report}");
        assert!(
            report[&c.id]["reason"]
                .as_str()
                .unwrap_or("")
                .contains("could not be found"),
            "{name}: {report}"
        );
    }
    assert_same_rows(&before, &bed.snapshot(&copy), "Heat's refused conversion");
    drop(copy);

    let heat = heat_conversion(&bed, &db, &cases);
    let python = heat_python();
    let home = bed.dir("home");
    for backend in [Backend::MariaDb, Backend::Postgres, Backend::Sqlite] {
        let target = bed.copy(&db, backend);
        let run = migrate(&target, &home, Some(&python));
        assert_eq!(run.code, 0, "{backend:?}: {}\n{}", run.stdout, run.stderr);
        assert_eq!(run.json["converted"], 7, "{backend:?}: {}", run.stdout);
        for name in ROOTS {
            assert_eq!(
                tree(&run, name)["outcome"],
                "converted",
                "{backend:?} {name}"
            );
        }
        let ours = bed.snapshot(&target);
        assert_same_rows(
            &without_needed_by(&heat),
            &without_needed_by(&ours),
            &format!("{backend:?}: heat-converge with --heat-python vs Heat's conversion"),
        );

        let again = migrate(&target, &home, Some(&python));
        assert_eq!(again.code, 0, "{backend:?}: {}", again.stdout);
        assert_eq!(again.json["converted"], 0, "{backend:?}: {}", again.stdout);
        assert_same_rows(&ours, &bed.snapshot(&target), "the second run");

        // verify with Heat's Python compares every converted stack's requires with Heat's
        // own graph too (besides the planner and the invariants): all hold.
        let dir = plugin_dir().display().to_string();
        let py = python.display().to_string();
        let v = heat_converge(
            &target,
            &home,
            &[
                "verify",
                "--format",
                "json",
                "--plugin-dir",
                &dir,
                "--heat-python",
                &py,
            ],
        );
        assert_eq!(v.code, 0, "{backend:?} verify: {}", v.stdout);
        assert_eq!(v.json["not_holding"], 0, "{backend:?} verify: {}", v.stdout);

        if backend == Backend::Sqlite {
            continue; // heat-engine cannot run on SQLite
        }
        // A convergence engine with the same plugins updates and deletes every root.
        let ids: Vec<&str> = cases.values().map(|c| c.id.as_str()).collect();
        let states = bed.prove(&target, &ids);
        for (name, c) in &cases {
            let s = &states[&c.id];
            assert_eq!(s["update"], "UPDATE_COMPLETE", "{backend:?} {name}: {s}");
            assert_eq!(s["delete"], "DELETE_COMPLETE", "{backend:?} {name}: {s}");
        }
    }

    // The graph command delegates the monitor's graph to Heat too.
    let dir = plugin_dir().display().to_string();
    let py = python.display().to_string();
    let lb = &cases["plugin-lb"].id;
    let graph = heat_converge(
        &db,
        &home,
        &["graph", lb, "--plugin-dir", &dir, "--heat-python", &py],
    );
    assert_eq!(graph.code, 0, "{}\n{}", graph.stdout, graph.stderr);
    assert_eq!(
        graph.json["resources"]["mon_a"]["requires"],
        serde_json::json!(["pool_a", "pool_a2", "pool_alias"]),
        "{}",
        graph.stdout
    );
}

#[test]
fn without_heat_python_own_code_trees_are_left_alone() {
    let bed = plugin_bed("plugins-native");
    let db = bed.create_db(Backend::MariaDb);
    let (cases, before) = build(&bed, &db);
    let heat = heat_conversion(&bed, &db, &cases);

    // What the run must leave: Heat's rows for the native trees, the rows as they were
    // for the trees that need Heat.
    let mut expected = heat.0.clone();
    for (root, ..) in NEEDS_HEAT {
        for st in before.tree(&cases[root].id) {
            let id = st["id"].as_str().unwrap();
            expected["stack"][id] = st.clone();
            for r in before.resources_of(id) {
                expected["resource"][r["id"].to_string()] = r.clone();
            }
        }
    }
    let expected = Snapshot(expected);

    let home = bed.dir("home");
    for backend in [Backend::MariaDb, Backend::Sqlite] {
        let target = bed.copy(&db, backend);
        let run = migrate(&target, &home, None);
        assert_eq!(run.code, 3, "{backend:?}: {}\n{}", run.stdout, run.stderr);
        assert_eq!(run.json["converted"], 4, "{backend:?}: {}", run.stdout);
        assert_eq!(
            run.json["left_alone_by_reason"]["needs_heat"], 3,
            "{backend:?}: {}",
            run.stdout
        );
        for name in NATIVE {
            assert_eq!(
                tree(&run, name)["outcome"],
                "converted",
                "{backend:?} {name}"
            );
        }
        for (name, resources, rtype, class, file) in NEEDS_HEAT {
            let t = tree(&run, name);
            assert_eq!(t["outcome"], "left_alone", "{backend:?}: {t}");
            assert_eq!(t["reason_kind"], "needs_heat", "{backend:?}: {t}");
            let reason = t["reason"].as_str().unwrap_or("");
            assert!(
                resources.iter().any(|r| reason.contains(r))
                    && reason.contains(rtype)
                    && reason.contains(class)
                    && reason.contains(file)
                    && reason.contains("--heat-python"),
                "{backend:?} {name}: {reason}"
            );
        }
        let ours = bed.snapshot(&target);
        assert_same_rows(
            &without_needed_by(&expected),
            &without_needed_by(&ours),
            &format!("{backend:?}: heat-converge without --heat-python"),
        );

        // A second run converts nothing more and changes nothing.
        let again = migrate(&target, &home, None);
        assert_eq!(again.code, 3, "{backend:?}: {}", again.stdout);
        assert_eq!(again.json["converted"], 0, "{backend:?}: {}", again.stdout);
        assert_same_rows(&ours, &bed.snapshot(&target), "the second run");
    }

    // The graph command: the port's graph natively; the monitor's needs Heat.
    let dir = plugin_dir().display().to_string();
    let port = heat_converge(
        &db,
        &home,
        &["graph", &cases["plugin-port"].id, "--plugin-dir", &dir],
    );
    assert_eq!(port.code, 0, "{}\n{}", port.stdout, port.stderr);
    assert_eq!(
        port.json["resources"]["port"]["requires"],
        serde_json::json!(["subnet_a"]),
        "{}",
        port.stdout
    );
    let lb = heat_converge(
        &db,
        &home,
        &["graph", &cases["plugin-lb"].id, "--plugin-dir", &dir],
    );
    assert_ne!(lb.code, 0, "{}", lb.stdout);
    assert!(
        lb.stderr.contains("Acme::LB::Monitor") && lb.stderr.contains("--heat-python"),
        "{}",
        lb.stderr
    );
}
