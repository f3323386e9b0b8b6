//! `heat-converge history` on copies of the shipped demo, on every backend: nothing
//! recorded before the first run (said, exit 0, nothing made); after two runs both listed
//! newest first with the counts their own reports gave; `--run` shows a run's trees and
//! the rows it deleted as `heat_converge_stack` and `heat_converge_deleted` hold them
//! (read here directly); names escaped, no password, JSON valid against its schema, and
//! nothing written by any of it. A database that is not Heat's: `setup_and_run_lock.rs`.

#[macro_use]
mod common;

use common::{json, tree, Backend, Bed, HeatDb};
use serde_json::Value;
use std::collections::BTreeSet;

/// Every row of heat-converge's tables, to show that history changes none.
fn our_rows(db: &HeatDb) -> Vec<Vec<Option<String>>> {
    let mut rows = db.rows(
        "SELECT id, started_at, ended_at, host, options, stopped FROM heat_converge_run ORDER BY id",
    );
    rows.extend(db.rows(
        "SELECT run_id, stack_id, outcome, reason FROM heat_converge_stack ORDER BY run_id, stack_id",
    ));
    rows.extend(db.rows(
        "SELECT run_id, kind, CAST(row_id AS CHAR(20)), reason FROM heat_converge_deleted ORDER BY 1, 2, 3",
    ));
    rows
}

/// A cell as text, trimmed (MariaDB pads CHAR casts).
fn cell(v: &Option<String>) -> String {
    v.as_deref().unwrap_or_default().trim().to_string()
}

fn history(backend: Backend) {
    let bed = Bed::new(&format!("history-{backend:?}").to_lowercase());
    let db = bed.demo(backend);

    // Before any run: said, exit 0, and nothing made (no table, no lock file).
    let (code, out, err) = db.heat_converge(&["history"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(": no runs recorded: heat-converge has not run migrate on this database"),
        "{out}"
    );
    let (code, out, _) = db.heat_converge(&["history", "--format", "json"]);
    assert_eq!(code, 0, "{out}");
    let v = json(&out);
    assert_eq!(v["record_tables"], false, "{v}");
    assert_eq!(v["runs"], serde_json::json!([]), "{v}");
    let mut docs = vec![("history", v)];
    let (code, _, err) =
        db.heat_converge(&["history", "--run", "5c1d0000-0000-4000-8000-000000000000"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no run 5c1d0000-0000-4000-8000-000000000000"),
        "{err}"
    );
    assert!(db.our_tables().is_empty(), "{:?}", db.our_tables());
    if backend == Backend::Sqlite {
        let lock = format!("{}.heat-converge-lock", db.sqlite_path().display());
        assert!(!std::path::Path::new(&lock).exists(), "{lock}");
    }

    // Run 1 converts one tree (deleting an orphaned resource row and a previous template),
    // run 2 the rest, leaving two alone.
    let dropped = db.plant_orphaned_port();
    let (code, out, err) = db.heat_converge(&["migrate", "--stack", &dropped, "--format", "json"]);
    assert_eq!(code, 3, "{out}{err}");
    let first = json(&out);
    let (code, out, err) = db.heat_converge(&["migrate", "--format", "json"]);
    assert_eq!(code, 3, "{out}{err}");
    let second = json(&out);
    let ids = [&second, &first].map(|r| r["run_id"].as_str().unwrap().to_string());
    let before = our_rows(&db);

    // The list: newest first, each with its report's counts.
    let (code, out, err) = db.heat_converge(&["history", "--format", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let listed = json(&out);
    assert_eq!(listed["record_tables"], true);
    assert_eq!(listed["audit_table"], true);
    let runs = listed["runs"].as_array().unwrap();
    let listed_ids: Vec<&str> = runs.iter().map(|r| r["run_id"].as_str().unwrap()).collect();
    assert_eq!(listed_ids, ids, "newest first: {listed}");
    for (run, report) in runs.iter().zip([&second, &first]) {
        assert_eq!(run["ending"], "completed", "{run}");
        assert_eq!(run["stopped"], Value::Null);
        assert_eq!(run["trees_converted"], report["converted"], "{run}");
        assert_eq!(run["trees_left_alone"], report["left_alone"], "{run}");
        assert_eq!(run["at_end"]["trees_converted"], report["converted"]);
        assert_eq!(run["at_end"]["trees_left_alone"], report["left_alone"]);
        assert_eq!(
            run["at_end"]["legacy_left_in_database"],
            report["legacy_left_in_database"]
        );
        let stacks = common::stacks_converted(report);
        assert_eq!(run["stacks_converted"], stacks, "{run}");
        assert!(
            run["started_at"].as_str() <= run["ended_at"].as_str(),
            "{run}"
        );
        // The command as given, the database with its password hidden.
        let database = run["database"].as_str().unwrap();
        if backend != Backend::Sqlite {
            assert!(database.contains(":***@"), "{database}");
        }
        assert!(
            !out.contains(":heatconv@"),
            "a password in the output: {out}"
        );
    }
    assert_eq!(runs[1]["command"], format!("migrate --stack {dropped}"));
    assert_eq!(runs[0]["command"], "migrate");
    assert!(
        runs[0]["started_at"].as_str() >= runs[1]["ended_at"].as_str(),
        "{listed}"
    );
    assert_eq!(
        runs[1]["rows_deleted"],
        serde_json::json!({"resource": 1, "raw_template": 1})
    );
    docs.push(("history", listed.clone()));

    let (code, text, _) = db.heat_converge(&["history"]);
    assert_eq!(code, 0);
    let at = |id: &str| {
        text.find(&format!("run {id}  completed"))
            .unwrap_or_else(|| panic!("{id}: {text}"))
    };
    assert!(at(&ids[0]) < at(&ids[1]), "newest first: {text}");
    assert!(
        text.contains(&format!("  command   migrate --stack {dropped}\n")),
        "{text}"
    );
    assert!(
        text.contains("  trees     1 converted (1 stack), 0 left alone\n"),
        "{text}"
    );
    assert!(
        text.contains("  deleted   2 rows (raw_template: 1, resource: 1)\n"),
        "{text}"
    );
    assert!(!text.contains(":heatconv@"), "{text}");

    // One run: its trees and deleted rows as our tables hold them.
    let (code, out, err) = db.heat_converge(&["history", "--run", &ids[0], "--format", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let detail = json(&out);
    assert_eq!(detail["runs"].as_array().unwrap().len(), 1);
    assert_eq!(detail["runs"][0], runs[0]);
    let recorded: BTreeSet<(String, String, String)> = db
        .rows(&format!(
            "SELECT root_stack_id, outcome, reason FROM heat_converge_stack
             WHERE run_id = '{}' AND stack_id = root_stack_id",
            ids[0]
        ))
        .iter()
        .map(|r| {
            let outcome = if cell(&r[1]) == "skipped" {
                "left_alone".into()
            } else {
                cell(&r[1])
            };
            (cell(&r[0]), outcome, cell(&r[2]))
        })
        .collect();
    let shown: BTreeSet<(String, String, String)> = detail["trees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let s = |k: &str| t[k].as_str().unwrap_or_default().to_string();
            (s("root_id"), s("outcome"), s("reason"))
        })
        .collect();
    assert_eq!(shown, recorded);
    assert_eq!(shown.len(), 12, "{detail}");
    for t in detail["trees"].as_array().unwrap() {
        let root = t["root_id"].as_str().unwrap();
        let stacks = db.value(&format!(
            "SELECT CAST(COUNT(*) AS CHAR(20)) FROM heat_converge_stack WHERE run_id = '{}' AND root_stack_id = '{root}'",
            ids[0]
        ));
        assert_eq!(t["stacks"].to_string(), cell(&stacks), "{t}");
        let name = db.value(&format!("SELECT name FROM stack WHERE id = '{root}'"));
        assert_eq!(t["name"].as_str(), name.as_deref(), "{t}");
        // As the run's own report said.
        let reported = tree(&second, t["name"].as_str().unwrap());
        assert_eq!(t["outcome"], reported["outcome"], "{t}");
        if t["outcome"] == "converted" {
            for k in [
                "stacks",
                "resources_converted",
                "resources_deleted",
                "templates_deleted",
            ] {
                assert_eq!(t[k], reported[k], "{k}: {t}");
            }
        }
    }
    docs.push(("history", detail));

    let (code, out, err) = db.heat_converge(&["history", "--run", &ids[1], "--format", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let detail = json(&out);
    let audit: BTreeSet<Vec<String>> = db
        .rows(&format!(
            "SELECT kind, CAST(row_id AS CHAR(20)), uuid, name, type, physical_id, action, status,
                    stack_id, root_stack_id, reason
             FROM heat_converge_deleted WHERE run_id = '{}'",
            ids[1]
        ))
        .iter()
        .map(|r| r.iter().map(cell).collect())
        .collect();
    let shown: BTreeSet<Vec<String>> = detail["deleted_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let s = |k: &str| match &d[k] {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            // In the order of the SELECT above.
            "kind row_id uuid name type physical_id action status stack_id root_stack_id reason"
                .split(' ')
                .map(s)
                .collect()
        })
        .collect();
    assert_eq!(shown, audit);
    assert_eq!(audit.len(), 2, "{audit:?}");
    let deleted = &tree(&first, "dropped")["deleted_resources"][0];
    let port = detail["deleted_rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "resource")
        .unwrap();
    for (k, reported) in [
        ("row_id", "id"),
        ("name", "name"),
        ("physical_id", "physical_id"),
        ("type", "type"),
        ("uuid", "uuid"),
    ] {
        assert_eq!(port[k], deleted[reported], "{k}: {port}");
    }
    assert_eq!(port["stack_name"], "dropped");
    docs.push(("history", detail));

    let (code, text, _) = db.heat_converge(&["history", "--run", &ids[1]]);
    assert_eq!(code, 0);
    assert!(text.contains(&format!(
        "  resource orphaned_port (row 9001, uuid aaaaaaaa-0000-4000-8000-000000000451, type OS::Neutron::Port, physical id phys-0451, CREATE_COMPLETE) of stack dropped ({dropped}): "
    )), "{text}");
    assert!(
        text.contains(&format!("  converted      dropped ({dropped}): 1 stack, ")),
        "{text}"
    );
    assert!(text.contains("1 tree recorded\n"), "{text}");

    // A name is printed, never obeyed; the JSON holds it exactly.
    let failed = db.root_id("failed");
    db.exec(&format!(
        "UPDATE stack SET name = 'failed\u{1b}[2J\nconverted      999' WHERE id = '{failed}'"
    ));
    let (code, text, _) = db.heat_converge(&["history", "--run", &ids[0]]);
    assert_eq!(code, 0);
    assert!(text.contains(&format!("  left alone     failed\\x1b[2J\\nconverted      999 ({failed}): failed: the root stack is CREATE_FAILED\n")), "{text}");
    assert!(!text.contains('\u{1b}'), "{text}");
    let (_, out, _) = db.heat_converge(&["history", "--run", &ids[0], "--format", "json"]);
    let v = json(&out);
    let t = v["trees"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["root_id"] == failed.as_str())
        .unwrap();
    assert_eq!(t["name"], "failed\u{1b}[2J\nconverted      999");

    // A run killed before its end leaves its row without one: newest first, said so.
    db.exec(
        "INSERT INTO heat_converge_run (id, started_at, tool_version, host, options)
         VALUES ('99999999-0000-4000-8000-000000000000', '2999-01-01T00:00:00.000Z', '0.1.0', 'killed-host', '{}')",
    );
    let (code, out, _) = db.heat_converge(&["history", "--format", "json"]);
    assert_eq!(code, 0);
    let v = json(&out);
    let newest = &v["runs"][0];
    assert_eq!(
        newest["run_id"], "99999999-0000-4000-8000-000000000000",
        "{v}"
    );
    assert_eq!(newest["ending"], "not_ended");
    assert_eq!(newest["at_end"], Value::Null);
    assert_eq!(newest["trees_converted"], 0);
    docs.push(("history", v));
    let (_, text, _) = db.heat_converge(&["history"]);
    assert!(text.contains("run 99999999-0000-4000-8000-000000000000  no end recorded: still running, or killed or cut off\n"), "{text}");
    db.exec("DELETE FROM heat_converge_run WHERE id = '99999999-0000-4000-8000-000000000000'");

    // An unknown run is a usage error naming it, in JSON too.
    let (code, out, err) =
        db.heat_converge(&["history", "--run", "no-such-run", "--format", "json"]);
    assert_eq!(code, 2, "{out}{err}");
    let v = json(&out);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no run no-such-run"),
        "{v}"
    );
    docs.push(("error", v));

    // Nothing history did wrote a row.
    assert_eq!(our_rows(&db), before);
    common::assert_schemas(&docs);
}

/// A record an older heat-converge left (before V3 no `stopped`, before V4 no audit) is
/// read as it is and said so: history upgrades nothing.
#[test]
fn an_older_record_is_read_as_it_is() {
    let bed = Bed::new("history-older");
    let db = bed.demo(Backend::Sqlite);
    let (code, out, err) = db.heat_converge(&["migrate", "--format", "json"]);
    assert_eq!(code, 3, "{out}{err}");
    let report = json(&out);
    db.exec(
        "DROP TABLE heat_converge_deleted;
         ALTER TABLE heat_converge_run DROP COLUMN stopped;
         ALTER TABLE heat_converge_stack DROP COLUMN traversal;
         DELETE FROM heat_converge_schema_history WHERE version >= 3",
    );
    let tables = db.our_tables();
    let (code, out, err) = db.heat_converge(&["history", "--format", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let listed = json(&out);
    assert_eq!(listed["audit_table"], false, "{listed}");
    let run = &listed["runs"][0];
    assert_eq!(run["run_id"], report["run_id"]);
    assert_eq!(run["ending"], "completed");
    assert_eq!(run["rows_deleted"], Value::Null);
    assert_eq!(run["trees_converted"], report["converted"]);
    let (code, out, _) = db.heat_converge(&[
        "history",
        "--run",
        run["run_id"].as_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{out}");
    let detail = json(&out);
    assert_eq!(detail["deleted_rows"], Value::Null);
    assert_eq!(detail["trees"].as_array().unwrap().len(), 13, "{detail}");
    let (code, text, _) = db.heat_converge(&["history"]);
    assert_eq!(code, 0);
    assert!(
        text.contains("  deleted   not audited (heat_converge_deleted came with V4)\n"),
        "{text}"
    );
    assert_eq!(db.our_tables(), tables, "history changed our tables");
    common::assert_schemas(&[("history", listed), ("history", detail)]);
}

on_every_backend!(history);
