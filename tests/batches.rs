//! Trees are written a batch at a time (issue 11): one transaction, one statement per
//! table and kind of change. These tests show that each tree is still all or nothing when
//! a batch cannot be written whole, and that the temporary indexes a run creates on Heat's
//! tables are gone after it, on every backend.

mod common;

use common::{json, tree, Backend, Bed, HeatDb};

const BACKENDS: [Backend; 3] = [Backend::Sqlite, Backend::MariaDb, Backend::Postgres];

/// A nested stack two levels down in the demo's tree `deep`.
const DEEP_LEAF: &str = "ce7d769a-5b5e-4b73-8e5a-5526cd4c83f9";

/// A trigger of the test's own that makes the database refuse any update of one stack row:
/// the batch's stack statement fails in the middle of the batch.
fn refuse_updates_of(db: &HeatDb, stack_id: &str) {
    let message = "refused by the trigger of the test";
    let sql = match db.backend {
        Backend::Sqlite => format!(
            "CREATE TRIGGER hc_refuse BEFORE UPDATE ON stack WHEN NEW.id = '{stack_id}' \
             BEGIN SELECT RAISE(ABORT, '{message}'); END;"
        ),
        Backend::MariaDb => format!(
            "CREATE TRIGGER hc_refuse BEFORE UPDATE ON stack FOR EACH ROW \
             BEGIN IF NEW.id = '{stack_id}' THEN \
             SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{message}'; END IF; END"
        ),
        Backend::Postgres => format!(
            "CREATE FUNCTION hc_refuse() RETURNS trigger AS $$ BEGIN \
             IF NEW.id = '{stack_id}' THEN RAISE EXCEPTION '{message}'; END IF; \
             RETURN NEW; END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER hc_refuse BEFORE UPDATE ON stack FOR EACH ROW \
             EXECUTE FUNCTION hc_refuse();"
        ),
    };
    db.exec(&sql);
}

/// Every stack and resource row of the tree under `root`, as text, for "untouched".
fn tree_rows(db: &HeatDb, root: &str) -> Vec<Vec<Option<String>>> {
    let mut ids = vec![root.to_string()];
    let mut i = 0;
    while i < ids.len() {
        for r in db.rows(&format!(
            "SELECT id FROM stack WHERE owner_id = '{}' ORDER BY id",
            ids[i]
        )) {
            ids.push(r[0].clone().unwrap());
        }
        i += 1;
    }
    let list = ids
        .iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut rows = db.rows(&format!(
        "SELECT id, CAST(convergence AS CHAR(5)), current_traversal, \
         CAST(prev_raw_template_id AS CHAR(20)) FROM stack WHERE id IN ({list}) ORDER BY id"
    ));
    rows.extend(db.rows(&format!(
        "SELECT CAST(id AS CHAR(20)), requires, needed_by, \
         CAST(current_template_id AS CHAR(20)) FROM resource WHERE stack_id IN ({list}) \
         ORDER BY id"
    )));
    assert!(
        rows.len() >= 8,
        "the tree deep has 4 stacks and resources: {rows:?}"
    );
    rows
}

#[test]
fn a_batch_that_cannot_be_written_whole_is_written_tree_by_tree() {
    let bed = Bed::new("batches");
    for backend in BACKENDS {
        let db = bed.demo(backend);
        let deep = db.root_id("deep");
        let before = tree_rows(&db, &deep);
        refuse_updates_of(&db, DEEP_LEAF);

        let (rc, out, err) = db.heat_converge(&["migrate", "--format", "json"]);
        assert_eq!(rc, 3, "{backend:?}: {err}");
        let report = json(&out);
        // The other ten trees of the batch are converted; deep alone is left, untouched,
        // with the database's own words.
        assert_eq!(report["converted"], 10, "{backend:?}: {report}");
        let t = tree(&report, "deep");
        assert_eq!(t["outcome"], "left_alone", "{backend:?}: {t}");
        assert_eq!(t["reason_kind"], "refused", "{backend:?}: {t}");
        let reason = t["reason"].as_str().unwrap();
        assert!(
            reason.contains("refused by the trigger of the test"),
            "{backend:?}: {reason}"
        );
        assert_eq!(
            tree_rows(&db, &deep),
            before,
            "{backend:?}: deep was touched"
        );
        for name in ["depends", "group", "provider", "cfn"] {
            assert_eq!(tree(&report, name)["outcome"], "converted", "{backend:?}");
        }
        // The run's record counts the stacks of every converted tree.
        let stacks = common::stacks_converted(&report);
        let recorded = db.value("SELECT CAST(stacks_converted AS CHAR(10)) FROM heat_converge_run");
        assert_eq!(
            recorded.as_deref().map(str::trim),
            Some(stacks.to_string().as_str()),
            "{backend:?}"
        );
        // Its record says so; no lock of ours is left.
        let recorded = db.value(&format!(
            "SELECT outcome FROM heat_converge_stack WHERE stack_id = '{deep}'"
        ));
        assert_eq!(recorded.as_deref(), Some("skipped"), "{backend:?}");
        let locks = db.value("SELECT CAST(COUNT(*) AS CHAR(10)) FROM stack_lock");
        assert_eq!(
            locks.as_deref().map(str::trim),
            Some("1"),
            "{backend:?}: only busy's lock remains"
        );

        // Without the trigger the next run converts it.
        db.exec(if backend == Backend::Postgres {
            "DROP TRIGGER hc_refuse ON stack"
        } else {
            "DROP TRIGGER hc_refuse"
        });
        let (rc, out, err) = db.heat_converge(&["migrate", "--format", "json"]);
        assert_eq!(rc, 3, "{backend:?}: {err}");
        assert_eq!(json(&out)["converted"], 1, "{backend:?}: {out}");
        let stacks_left = db.value(&format!(
            "SELECT CAST(COUNT(*) AS CHAR(10)) FROM stack WHERE id = '{DEEP_LEAF}' AND convergence = {}",
            if backend == Backend::Postgres { "false" } else { "0" }
        ));
        assert_eq!(
            stacks_left.as_deref().map(str::trim),
            Some("0"),
            "{backend:?}"
        );
    }
}

/// The names of heat-converge's indexes on Heat's tables.
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
    let mut names: Vec<String> = db
        .rows(sql)
        .into_iter()
        .filter_map(|r| r[0].clone())
        .collect();
    names.sort();
    names
}

#[test]
fn temporary_indexes_are_created_where_missing_and_gone_after_the_run() {
    let bed = Bed::new("indexes");
    for backend in BACKENDS {
        let db = bed.demo(backend);
        // What a run killed after creating them leaves (MariaDB has every index it needs,
        // so no run creates one there); here one an older build made, which this one no
        // longer makes (an index on resource.stack_id), and drops all the same.
        let left: &[&str] = if backend == Backend::MariaDb {
            &[]
        } else {
            db.exec("CREATE INDEX heat_converge_ix_resource_stack_id ON resource (stack_id)");
            &["heat_converge_ix_resource_stack_id"]
        };
        assert_eq!(our_indexes(&db), left);

        // A dry run creates and drops nothing.
        let (rc, out, _) = db.heat_converge(&["migrate", "--dry-run", "--format", "json"]);
        assert_eq!(rc, 3);
        assert_eq!(json(&out)["temporary_indexes"], serde_json::json!([]));
        assert_eq!(our_indexes(&db), left);

        let (rc, out, err) = db.heat_converge(&["migrate", "--format", "json"]);
        assert_eq!(rc, 3, "{backend:?}: {err}");
        let report = json(&out);
        assert_eq!(report["converted"], 11, "{backend:?}");
        let created: Vec<&str> = report["temporary_indexes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        match backend {
            // MariaDB indexes every foreign key itself: nothing is missing.
            Backend::MariaDb => assert!(created.is_empty(), "{created:?}"),
            _ => assert_eq!(
                created,
                [
                    "heat_converge_ix_resource_current_template_id",
                    "heat_converge_ix_stack_raw_template_id",
                    "heat_converge_ix_stack_prev_raw_template_id",
                    "heat_converge_ix_raw_template_files_id",
                ],
                "{backend:?}"
            ),
        }
        assert!(
            our_indexes(&db).is_empty(),
            "{backend:?}: {:?}",
            our_indexes(&db)
        );
    }
}

/// PostgreSQL: the tables a conversion reads that have no planner statistics get them
/// (`ANALYZE`, on a session of its own beside the first batches), and the report names
/// them; a table that is empty has none to gather and is not named. A second run finds
/// them in place and gathers none.
#[test]
fn planner_statistics_a_table_lacks_are_gathered_and_named() {
    const READ_TABLES: [&str; 6] = [
        "raw_template",
        "raw_template_files",
        "resource",
        "resource_data",
        "resource_properties_data",
        "stack",
    ];
    let bed = Bed::new("stats");
    let db = bed.demo(Backend::Postgres);
    // None has statistics, whatever autovacuum did since the copy (only an administrator
    // may remove them), and autovacuum does not gather them behind the test's back.
    let mut admin = postgres::Client::connect(
        &format!("postgresql://postgres@{}/{}", db.server, db.name),
        postgres::NoTls,
    )
    .unwrap();
    for t in READ_TABLES {
        admin
            .batch_execute(&format!(
                "ALTER TABLE {t} SET (autovacuum_enabled = false); \
                 DELETE FROM pg_statistic WHERE starelid = '{t}'::regclass"
            ))
            .unwrap();
    }
    let with_statistics = || -> Vec<String> {
        db.rows(
            "SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = current_schema() \
             ORDER BY tablename",
        )
        .into_iter()
        .filter_map(|r| r[0].clone())
        .filter(|t| READ_TABLES.contains(&t.as_str()))
        .collect()
    };
    assert_eq!(with_statistics(), Vec::<String>::new());
    let not_empty: Vec<String> = READ_TABLES
        .iter()
        .filter(|t| db.rows(&format!("SELECT 1 FROM {t} LIMIT 1")).len() == 1)
        .map(|t| t.to_string())
        .collect();
    assert!(not_empty.len() >= 4, "{not_empty:?}");

    let (rc, out, err) = db.heat_converge(&["migrate", "--format", "json", "-v"]);
    assert_eq!(rc, 3, "{err}");
    let report = json(&out);
    assert_eq!(report["converted"], 11);
    let mut gathered: Vec<String> = report["statistics_gathered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    gathered.sort();
    assert_eq!(gathered, not_empty, "{err}");
    assert_eq!(with_statistics(), not_empty);

    let (rc, out, err) = db.heat_converge(&["migrate", "--format", "json"]);
    assert_eq!(rc, 3, "{err}");
    assert_eq!(json(&out)["statistics_gathered"], serde_json::json!([]));
    eprintln!("statistics gathered on {gathered:?}; none the second time");
}
