//! `verify` at scale (issue 18), on every backend: a few thousand roots replicated from the
//! demo (`heatbed.py replicate`, the benchmark's generator), so that the converted stacks
//! span several of verify's batches. Verify reads resource rows by id after one pass over
//! `resource`, with no index of its own: every converted stack must hold, one `requires`
//! tampered with far into the cloud must be found and named, and no `heat_converge_ix_`
//! index may be left on Heat's tables. `status` and `migrate --dry-run`, which read
//! resources the same way, must create no index and predict exactly what `migrate` then
//! does. How fast is the benchmark's business (bench/bench.sh), not this test's.

#[macro_use]
mod common;

use common::{json, Backend, Bed, HeatDb};
use serde_json::Value;
use std::collections::BTreeMap;

/// Enough roots for about 3,900 converted stacks: four of verify's batches of 1,000.
const ROOTS: usize = 3000;

/// heat-converge's temporary indexes on Heat's tables.
fn our_indexes(db: &HeatDb) -> Vec<String> {
    let sql = match db.backend {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'heat_converge_ix_%'"
        }
        Backend::MariaDb => {
            "SELECT DISTINCT index_name FROM information_schema.statistics \
             WHERE table_schema = DATABASE() AND index_name LIKE 'heat_converge_ix_%'"
        }
        Backend::Postgres => {
            "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'heat_converge_ix_%'"
        }
    };
    db.rows(sql)
        .into_iter()
        .filter_map(|r| r[0].clone())
        .collect()
}

/// What a report says of each tree, a dry run's "would_convert" read as "converted":
/// root id -> its entry without the outcome's wording.
fn outcomes(report: &Value) -> BTreeMap<String, Value> {
    report["trees"]
        .as_array()
        .expect("trees")
        .iter()
        .map(|t| {
            let mut t = t.clone();
            if t["outcome"] == "would_convert" {
                t["outcome"] = "converted".into();
            }
            if let Some(m) = t.as_object_mut() {
                // Its words may say when the engine was last heard of; the kind may not differ.
                m.remove("reason");
            }
            (t["root_id"].as_str().unwrap_or_default().to_string(), t)
        })
        .collect()
}

/// verify --format json: (exit code, document).
fn verify(db: &HeatDb) -> (i32, Value) {
    let (code, out, err) = db.heat_converge(&["verify", "--format", "json"]);
    assert!(code == 3 || code == 4, "verify exited {code}: {out}{err}");
    (code, json(&out))
}

/// Stack id -> (finding, details) of a verify document.
fn findings(v: &Value) -> BTreeMap<String, (String, Vec<String>)> {
    v["stacks"]
        .as_array()
        .expect("stacks")
        .iter()
        .map(|s| {
            let details = s["details"]
                .as_array()
                .expect("details")
                .iter()
                .map(|d| d.as_str().unwrap_or_default().to_string())
                .collect();
            (
                s["stack_id"].as_str().unwrap_or_default().to_string(),
                (
                    s["finding"].as_str().unwrap_or_default().to_string(),
                    details,
                ),
            )
        })
        .collect()
}

fn verify_at_scale(backend: Backend) {
    let bed = Bed::new(&format!("vscale-{backend:?}").to_lowercase());
    let db = bed.replicated_on(backend, backend.local_server(), ROOTS);

    // The read-only runs create no index and predict the real run tree for tree.
    let (code, out, err) = db.heat_converge(&["status", "--format", "json"]);
    assert_eq!(code, 3, "{out}{err}");
    assert_eq!(json(&out)["legacy_trees"], ROOTS, "{err}");
    let (code, out, err) = db.heat_converge(&["migrate", "--dry-run", "--format", "json"]);
    assert_eq!(code, 3, "{err}");
    let predicted = json(&out);
    assert_eq!(predicted["temporary_indexes"], serde_json::json!([]));
    assert_eq!(
        our_indexes(&db),
        Vec::<String>::new(),
        "after the read-only runs"
    );

    let (code, out, err) = db.heat_converge(&["migrate", "--format", "json"]);
    assert_eq!(code, 3, "the failed and busy copies remain: {err}");
    let report = json(&out);
    assert_eq!(predicted["would_convert"], report["converted"], "{err}");
    assert_eq!(outcomes(&predicted), outcomes(&report));
    assert_eq!(our_indexes(&db), Vec::<String>::new(), "after migrate");
    let converted: BTreeMap<String, u64> = outcomes(&report)
        .into_values()
        .filter(|t| t["outcome"] == "converted")
        .map(|t| {
            let root = t["root_id"].as_str().unwrap_or_default().to_string();
            (root, t["stacks"].as_u64().unwrap_or_default())
        })
        .collect();
    let stacks: u64 = converted.values().sum();
    assert!(
        stacks > 3000,
        "{stacks} stacks converted: too few for several batches"
    );

    // Every converted stack holds.
    let (code, v) = verify(&db);
    assert_eq!(
        code, 3,
        "all holds, legacy trees remain: {}",
        v["not_holding"]
    );
    assert_eq!(v["checked"], stacks);
    assert_eq!(v["not_holding"], 0);
    let found = findings(&v);
    assert_eq!(found.len() as u64, stacks);
    assert!(
        found.values().all(|(kind, _)| kind == "holds"),
        "{:?}",
        found.iter().find(|(_, (kind, _))| kind != "holds")
    );
    let checked_roots: std::collections::BTreeSet<&str> = v["stacks"]
        .as_array()
        .expect("stacks")
        .iter()
        .filter_map(|s| s["root_stack_id"].as_str())
        .collect();
    assert_eq!(
        checked_roots,
        converted.keys().map(String::as_str).collect(),
        "the converted trees, each checked"
    );
    assert_eq!(our_indexes(&db), Vec::<String>::new(), "after verify");

    // A requires changed far into the cloud (past the first batches) is found and named;
    // every other stack still holds.
    let row = db.rows(
        "SELECT CAST(r.id AS CHAR(20)), r.stack_id, r.name, r.requires
         FROM resource r JOIN stack s ON s.id = r.stack_id
         WHERE s.convergence = true AND r.requires IS NOT NULL AND r.requires <> '[]'
         ORDER BY r.stack_id LIMIT 1 OFFSET 3000",
    );
    let [id, stack, name, requires] = &row[0][..] else {
        panic!("no converted resource with requires: {row:?}");
    };
    let (id, stack, name, requires) = (
        id.as_deref().unwrap_or_default().trim(),
        stack.as_deref().unwrap_or_default(),
        name.as_deref().unwrap_or_default(),
        requires.as_deref().unwrap_or_default(),
    );
    db.exec(&format!(
        "UPDATE resource SET requires = '[]' WHERE id = {id}"
    ));
    let (code, v) = verify(&db);
    assert_eq!(code, 4, "a converted stack does not hold");
    assert_eq!(v["checked"], stacks);
    assert_eq!(v["not_holding"], 1);
    let found = findings(&v);
    let (kind, details) = &found[stack];
    assert_eq!(kind, "does_not_hold", "{details:?}");
    let expected = format!("resource {name}: requires is [], Heat's graph gives ");
    assert!(
        details.iter().any(|d| d.starts_with(&expected)),
        "{details:?} (stored {requires})"
    );
    assert_eq!(
        found.values().filter(|(kind, _)| kind == "holds").count() as u64,
        stacks - 1
    );
    assert_eq!(our_indexes(&db), Vec::<String>::new(), "after verify");

    // Put back, it holds again.
    db.exec(&format!(
        "UPDATE resource SET requires = '{requires}' WHERE id = {id}"
    ));
    let (code, v) = verify(&db);
    assert_eq!((code, &v["not_holding"]), (3, &Value::from(0)));
}

on_every_backend!(verify_at_scale);
