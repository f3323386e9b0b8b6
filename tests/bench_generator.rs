//! The scale benchmark's generator (`heatbed.py replicate`, used by bench/bench.sh)
//! must make Heat databases that are the demo's trees again and again: every foreign key
//! valid, and heat-converge deciding each copy as it decides the original. Twice the
//! demo's 13 live roots: 22 converted, the failed and busy trees left alone twice, for the
//! same reasons as in the demo itself. And the giant tree (issue 20): widened from the real
//! engine's few members, it is what Heat makes and converts as Heat converts it.

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

/// `bench/bench.py SUBCOMMAND ARGS` in the bed's Python: the JSON it prints.
fn bench_py(args: &[&str]) -> Value {
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(common::venv_python())
        .arg(top.join("bench/bench.py"))
        .args(args)
        .env("PYTHONWARNINGS", "ignore")
        .output()
        .expect("run bench.py");
    assert!(
        out.status.success(),
        "bench.py {} failed: {}",
        args[0],
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("bench.py's JSON")
}

fn sqlite_url(p: &Path) -> String {
    format!("sqlite:///{}", p.display())
}

/// The benchmark's giant tree (issue 20) is widened from a few members made by the real
/// engine (examples/giant.sqlite). The widening must be what Heat makes: widened from 3
/// members to 6 it has the shape of the 6-member tree Heat itself made from the same
/// template (every row, ids, short ids and random values aside); widened to 20 its keys
/// hold, and heat-converge, the floor (Heat's conversion of the 3-member source carried
/// over to every member) and Heat's own conversion of the widened tree write the same rows.
#[test]
fn giant_tree_widened_is_what_heat_makes_and_converts_as_heat_does() {
    let bed = Bed::new("benchgiant");
    let dir = bed.dir("giant");
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = top.join("examples/giant.sqlite");
    let src = sqlite_url(&source);

    // 3 -> 6 members: Heat's own 6-member tree, row for row.
    let six = dir.join("six.sqlite");
    let made = bed
        .run(&["widen", &src, &sqlite_url(&six), "6"])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (made["stacks"].as_i64(), made["resources"].as_i64()),
        (Some(8), Some(32))
    );
    let ours = bed
        .run(&["giant-shape", &sqlite_url(&six), "giant"])
        .unwrap_or_else(|e| panic!("{e}"));
    let heats = bed
        .run(&["giant-shape", &src, "giant-6"])
        .unwrap_or_else(|e| panic!("{e}"));
    for part in ["stacks", "resources", "resource_data", "events"] {
        assert_eq!(
            ours[part], heats[part],
            "the widening's {part} are not those of Heat's own 6-member tree"
        );
    }

    // 3 -> 20 members: keys hold, names are Heat's, one tree of 22 stacks.
    let wide = dir.join("wide.sqlite");
    let plan = dir.join("plan.json");
    let made = bed
        .run(&[
            "widen",
            &src,
            &sqlite_url(&wide),
            "20",
            "--map",
            plan.to_str().unwrap(),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(made["stacks"], 22);
    assert_eq!(made["resources"], 2 + 20 + 20 * 4);
    {
        let db = Connection::open(&wide).unwrap();
        let broken: i64 = db
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(broken, 0, "foreign keys broken in the widened tree");
        let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(
            count("SELECT count(*) FROM stack WHERE owner_id IS NULL"),
            1
        );
        assert_eq!(
            count("SELECT count(DISTINCT name) FROM stack"),
            count("SELECT count(*) FROM stack")
        );
        assert_eq!(
            count("SELECT count(DISTINCT uuid) FROM resource"),
            count("SELECT count(*) FROM resource")
        );
        // The group's members are '0' .. '19', each the parent of its own provider stack.
        let members: Vec<String> = db
            .prepare(
                "SELECT r.name FROM resource r JOIN stack s ON s.id = r.stack_id \
                 WHERE s.nested_depth = 1 ORDER BY CAST(r.name AS INTEGER)",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let want: Vec<String> = (0..20).map(|i| i.to_string()).collect();
        assert_eq!(members, want);
        assert_eq!(
            count(
                "SELECT count(*) FROM resource r JOIN stack s ON s.id = r.nova_instance \
                 WHERE s.parent_resource_name = r.name AND s.owner_id = r.stack_id \
                 AND s.nested_depth = 2"
            ),
            20
        );
    }

    // Three identical copies: heat-converge, the floor, Heat's own conversion.
    let copy = |what: &str| -> PathBuf {
        let p = dir.join(format!("{what}.sqlite"));
        std::fs::copy(&wide, &p).unwrap();
        p
    };
    let (ours_db, floor_db, heat_db) = (copy("ours"), copy("floor"), copy("heat"));
    let before = dir.join("source.sqlite");
    let after = dir.join("source-heat.sqlite");
    std::fs::copy(&source, &before).unwrap();
    std::fs::copy(&source, &after).unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_heat-converge"))
        .args(["migrate", "--format", "json", "--quiet", "--db-url"])
        .arg(sqlite_url(&ours_db))
        .output()
        .expect("run heat-converge");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["converted"], 1);
    assert_eq!(report["trees"][0]["stacks"], 22);

    let wd = dir.join("convert-source");
    let heat = bed
        .run(&["convert", &sqlite_url(&after), wd.to_str().unwrap()])
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(heat
        .as_object()
        .unwrap()
        .values()
        .all(|t| t["outcome"] == "converted"));
    let changes = bench_py(&["derive", &sqlite_url(&before), &sqlite_url(&after)]);
    let changes_file = dir.join("changes.json");
    std::fs::write(&changes_file, changes.to_string()).unwrap();
    let floor = bench_py(&[
        "floor",
        &sqlite_url(&floor_db),
        plan.to_str().unwrap(),
        changes_file.to_str().unwrap(),
    ]);
    assert_eq!(floor["trees"], 1);

    let wd = dir.join("convert-wide");
    let heat = bed
        .run(&["convert", &sqlite_url(&heat_db), wd.to_str().unwrap()])
        .unwrap_or_else(|e| panic!("{e}"));
    let outcomes: Vec<&Value> = heat.as_object().unwrap().values().collect();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0]["outcome"], "converted");
    assert_eq!(outcomes[0]["stacks"], 22);

    let vs_floor = bench_py(&["agree", &sqlite_url(&ours_db), &sqlite_url(&floor_db)]);
    assert_eq!(
        vs_floor["agree"], true,
        "heat-converge and the floor: {vs_floor}"
    );
    // Heat leaves needed_by empty ([]); heat-converge fills it.
    let vs_heat = bench_py(&[
        "agree",
        &sqlite_url(&ours_db),
        &sqlite_url(&heat_db),
        "--ignore",
        "resource.needed_by",
    ]);
    assert_eq!(vs_heat["agree"], true, "heat-converge and Heat: {vs_heat}");
    let _ = std::fs::remove_dir_all(&dir);
}
