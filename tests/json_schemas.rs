//! The JSON documents heat-converge prints are the ones `schemas/` documents: real output
//! of `status`, `migrate --dry-run`, `migrate`, `verify`, `history` and of failing commands, validated
//! by Python's jsonschema (in the bed's virtualenv) against the schema files. A field added
//! or renamed without its schema fails here.

mod common;

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn run(args: &[&str]) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_heat-converge"))
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {stdout}"));
    (out.status.code().unwrap_or(-1), v)
}

#[test]
fn every_json_output_matches_its_schema() {
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = top
        .join("target/json-schemas")
        .join(std::process::id().to_string());
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("heat.sqlite");
    std::fs::copy(top.join("examples/demo.sqlite"), &db).unwrap();
    // A stray (an orphan) and an unreadable template, so that those parts appear too.
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch(
        "UPDATE stack SET deleted_at = NULL WHERE name LIKE 'deleted-group-%';
         UPDATE raw_template SET template = '{\"heat_template_version\": ' WHERE id =
           (SELECT raw_template_id FROM stack WHERE name = 'group');",
    )
    .unwrap();
    drop(c);
    let url = format!("sqlite:///{}", db.display());
    let mut docs: Vec<(&str, Value)> = Vec::new();
    let (code, v) = run(&["status", "--format", "json", "--db-url", &url]);
    assert_eq!(code, 3);
    assert_eq!(v["stray_stacks"].as_array().unwrap().len(), 1, "{v}");
    docs.push(("run", v));
    let (_, v) = run(&["migrate", "--dry-run", "--format", "json", "--db-url", &url]);
    docs.push(("run", v));
    let (code, v) = run(&["migrate", "--format", "json", "--db-url", &url]);
    assert_eq!(code, 3);
    assert_eq!(v["left_alone_by_reason"]["unreadable"], 1, "{v}");
    docs.push(("run", v));
    let (code, v) = run(&["verify", "--format", "json", "--db-url", &url]);
    assert_eq!(code, 3);
    docs.push(("verify", v));
    let (code, v) = run(&[
        "migrate",
        "--format",
        "json",
        "--stack",
        "no-such-stack",
        "--db-url",
        &url,
    ]);
    assert_eq!(code, 2);
    docs.push(("error", v));
    let (code, v) = run(&["history", "--format", "json", "--db-url", &url]);
    assert_eq!(code, 0);
    let run_id = v["runs"][0]["run_id"].as_str().unwrap().to_string();
    docs.push(("history", v));
    let (code, v) = run(&[
        "history", "--run", &run_id, "--format", "json", "--db-url", &url,
    ]);
    assert_eq!(code, 0);
    docs.push(("history", v));
    let (code, v) = run(&[
        "history",
        "--run",
        "no-such-run",
        "--format",
        "json",
        "--db-url",
        &url,
    ]);
    assert_eq!(code, 2);
    docs.push(("error", v));
    // Usage errors the argument parser finds: JSON too, wherever --format json is, and
    // when --format is the mistake (plan has none) or no subcommand is named.
    for (args, command) in [
        (
            vec!["migrate", "--format", "json", "--no-such-option"],
            Value::from("migrate"),
        ),
        (
            vec!["status", "--lock-wait", "0", "--format=json"],
            Value::from("status"),
        ),
        (
            vec!["plan", "--format", "json", "--out", "x.json"],
            Value::from("plan"),
        ),
        (vec!["--format", "json"], Value::Null),
    ] {
        let (code, v) = run(&args);
        assert_eq!(code, 2, "{args:?}: {v}");
        assert_eq!(v["command"], command, "{args:?}: {v}");
        assert_eq!(v["error"]["kind"], "usage", "{args:?}: {v}");
        docs.push(("error", v));
    }
    let missing = format!("sqlite:///{}", dir.join("missing.sqlite").display());
    let (code, v) = run(&["status", "--format", "json", "--db-url", &missing]);
    assert_eq!(code, 1);
    docs.push(("error", v));

    common::assert_schemas(&docs);
    let _ = std::fs::remove_dir_all(&dir);
}
