//! The scale benchmark's generator (`heatbed.py replicate`, used by bench/bench.sh)
//! must make Heat databases that are the demo's trees again and again: every foreign key
//! valid, and heat-converge deciding each copy as it decides the original. Twice the
//! demo's 13 live roots: 22 converted, the failed and busy trees left alone twice, for the
//! same reasons as in the demo itself.

mod common;

use common::Bed;
use rusqlite::Connection;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn migrate(db: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_heat-converge"))
        .args([
            "migrate", "--format", "json", "--quiet", "--list", "--db-url",
        ])
        .arg(format!("sqlite:///{}", db.display()))
        .output()
        .expect("run heat-converge");
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

/// (reason kind, reason with the tree's own id and name taken out) of each tree left alone.
fn left_alone(report: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = report["trees"]
        .as_array()
        .expect("trees")
        .iter()
        .filter(|t| t["outcome"] == "left_alone")
        .map(|t| {
            let id = t["root_id"].as_str().unwrap();
            let reason = t["reason"].as_str().unwrap().replace(id, "ID");
            (t["reason_kind"].as_str().unwrap().to_string(), reason)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn replicated_trees_keep_their_keys_and_convert_as_the_demo_does() {
    let bed = Bed::new("benchgen");
    let dir = bed.dir("replicate");
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
    let demo_src = top.join("examples/demo.sqlite");
    let replica: PathBuf = dir.join("replica.sqlite");
    let made = bed
        .run(&[
            "replicate",
            &format!("sqlite:///{}", demo_src.display()),
            &format!("sqlite:///{}", replica.display()),
            "26",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(made["roots"], 26);
    assert_eq!(made["copies"], 2);

    let db = Connection::open(&replica).unwrap();
    let broken: Vec<String> = db
        .prepare("PRAGMA foreign_key_check")
        .unwrap()
        .query_map([], |r| {
            Ok(format!(
                "{}: rowid {:?} -> {}",
                r.get::<_, String>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, String>(2)?
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(broken.is_empty(), "foreign keys broken: {broken:?}");
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    let demo_db = Connection::open(&demo_src).unwrap();
    let demo_count = |sql: &str| -> i64 { demo_db.query_row(sql, [], |r| r.get(0)).unwrap() };
    for table in [
        "stack",
        "resource",
        "raw_template",
        "resource_data",
        "event",
        "stack_lock",
    ] {
        let sql = format!("SELECT count(*) FROM {table}");
        assert_eq!(
            count(&sql),
            2 * demo_count(&sql),
            "{table}: twice the demo's rows"
        );
    }
    // Fresh ids: no stack, resource uuid or event uuid of the demo's is left.
    for (table, col) in [("stack", "id"), ("resource", "uuid"), ("event", "uuid")] {
        let mut stmt = demo_db
            .prepare(&format!("SELECT {col} FROM {table}"))
            .unwrap();
        let old: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for v in old {
            let n: i64 = db
                .query_row(
                    &format!("SELECT count(*) FROM {table} WHERE {col} = ?"),
                    [&v],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(n, 0, "{table}.{col} {v} of the demo is in the copy");
        }
    }
    assert_eq!(
        count("SELECT count(DISTINCT name) FROM stack"),
        count("SELECT count(*) FROM stack")
    );

    let demo = dir.join("demo.sqlite");
    std::fs::copy(&demo_src, &demo).unwrap();
    let ours = migrate(&replica);
    let theirs = migrate(&demo);
    assert_eq!(ours["legacy_trees"], 26);
    assert_eq!(ours["converted"], 22);
    assert_eq!(ours["left_alone"], 4);
    let mut twice = left_alone(&theirs);
    twice.extend(left_alone(&theirs));
    twice.sort();
    assert_eq!(left_alone(&ours), twice);
    let _ = std::fs::remove_dir_all(&dir);
}
