//! What a newcomer reads, on copies of the shipped demo (made by the real Heat): the
//! progress bar as a terminal shows it (counts that agree, a rate people read), `-v`'s
//! seconds, `status`'s two legacy counts told apart, `verify` where nothing was converted,
//! and a dry run's line per tree. Counts are derived here from the database's rows. Each
//! test makes its own databases and drops them.

#[macro_use]
mod common;

use common::{json, Backend, Bed, HeatDb};
use regex::Regex;
use std::process::Command;

/// A count the database returns (as text on every backend).
fn count(db: &HeatDb, sql: &str) -> usize {
    db.value(sql).unwrap().trim().parse().unwrap()
}

/// Live legacy root stacks: the trees heat-converge looks at.
const LEGACY_ROOTS: &str = "SELECT CAST(COUNT(*) AS CHAR(20)) FROM stack \
     WHERE owner_id IS NULL AND deleted_at IS NULL AND NOT convergence AND NOT backup";

/// Legacy trees one of whose live stacks is not *_COMPLETE: those a run leaves alone.
const BLOCKED_ROOTS: &str = "WITH RECURSIVE t(root, id) AS (
       SELECT id, id FROM stack
       WHERE owner_id IS NULL AND deleted_at IS NULL AND NOT convergence AND NOT backup
       UNION ALL
       SELECT t.root, s.id FROM stack s JOIN t ON s.owner_id = t.id
       WHERE s.deleted_at IS NULL AND NOT s.backup)
     SELECT CAST(COUNT(DISTINCT t.root) AS CHAR(20)) FROM t
     JOIN stack s ON s.id = t.id WHERE s.status <> 'COMPLETE'";

/// Live legacy nested stacks whose owner row is deleted: orphans, stray stacks.
const ORPHANS: &str = "SELECT CAST(COUNT(*) AS CHAR(20)) FROM stack s \
     JOIN stack o ON o.id = s.owner_id \
     WHERE s.deleted_at IS NULL AND NOT s.convergence AND o.deleted_at IS NOT NULL";

/// The lines a terminal was shown, from what `script` recorded: split where the cursor
/// went back to the line's start, escape sequences dropped.
fn terminal_lines(raw: &str) -> Vec<String> {
    let escapes = Regex::new(r"\x1b\[[0-9;?]*[A-Za-z]").unwrap();
    escapes
        .replace_all(raw, "")
        .split(['\r', '\n'])
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// `migrate` on a pseudo-terminal (`script`), where the bar is drawn: every drawing of it
/// counts each tree settled once (converted or left alone), and shows a rate only as
/// `N.N trees/s` (or `1 tree per N s`), never indicatif's raw float.
#[test]
fn the_progress_bar_on_a_terminal() {
    let bed = Bed::new("bar");
    let db = bed.demo(Backend::Sqlite);
    let roots = count(&db, LEGACY_ROOTS);
    let blocked = count(&db, BLOCKED_ROOTS);
    let command = format!(
        "stty cols 200 rows 50; exec '{}' migrate --db-url '{}'",
        env!("CARGO_BIN_EXE_heat-converge"),
        db.url
    );
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
        .expect("script (util-linux) is on this machine");
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let lines = terminal_lines(&String::from_utf8_lossy(&out.stdout));
    let bar = Regex::new(
        r"^[█░]{30} (\d+)/(\d+) trees · (\d+) converted, (\d+) left alone(?: · (?:\d+(?:\.\d)? trees/s|1 tree per \d+ (?:s|min \d+ s)) · ETA \d+ (?:s|min \d+ s|h \d\d min)| · \d+(?:\.\d)? trees/s)?$",
    )
    .unwrap();
    let drawn: Vec<&String> = lines.iter().filter(|l| l.contains(" trees · ")).collect();
    assert!(!drawn.is_empty(), "no bar drawn: {lines:#?}");
    let mut last = 0;
    for line in &drawn {
        let c = bar
            .captures(line)
            .unwrap_or_else(|| panic!("not a bar line: {line:?}"));
        let n = |i: usize| c[i].parse::<usize>().unwrap();
        assert_eq!(
            n(1),
            n(3) + n(4),
            "position = converted + left alone: {line}"
        );
        assert_eq!(n(2), roots, "{line}");
        assert!(n(1) >= last, "the position never goes back: {line}");
        last = n(1);
    }
    assert!(
        last > 0,
        "a tree settled while the bar was drawn: {drawn:#?}"
    );
    assert!(
        !lines
            .iter()
            .any(|l| Regex::new(r"\d\.\d{2,}/s").unwrap().is_match(l)),
        "{lines:#?}"
    );
    // The summary that follows agrees with the rows.
    let summary = lines.join("\n");
    assert!(
        summary.contains(&format!(
            "converted                     {:>6}",
            roots - blocked
        )),
        "{summary}"
    );
}

/// `-v`'s log on a demo copy: the seconds of "where the time went" (and of every other
/// field that is a number with a fraction, such as PostgreSQL's statistics gathering)
/// with three decimals, never a float's `Debug` form (`8.5077e-5`, `1.3516240609999999`).
fn log_seconds(backend: Backend) {
    let bed = Bed::new(&format!("logsecs-{backend:?}").to_lowercase());
    let db = bed.demo(backend);
    let (code, _, err) = db.heat_converge(&["migrate", "-v"]);
    assert_eq!(code, 3, "{err}");
    let seconds = r"\d+\.\d{3}";
    let phases = Regex::new(&format!(
        r"^ INFO where the time went inventory_s={seconds} reading_s={seconds} planning_s={seconds} writing_s={seconds}$"
    ))
    .unwrap();
    let line = err
        .lines()
        .find(|l| l.contains("where the time went"))
        .unwrap_or_else(|| panic!("no time line: {err}"));
    assert!(phases.is_match(line), "{line}");
    let three_decimals = Regex::new(&format!("^{seconds}$")).unwrap();
    let mut fractions = 0;
    for l in err.lines() {
        for (key, value) in l.split_whitespace().filter_map(|w| w.split_once('=')) {
            if value.parse::<f64>().is_ok() && value.parse::<u64>().is_err() {
                assert!(three_decimals.is_match(value), "{key}={value} in {l}");
                fractions += 1;
            }
        }
    }
    assert!(fractions >= 4, "{err}");
    if backend == Backend::Postgres {
        let gathered = Regex::new(&format!(
            "gathered planner statistics on .* seconds={seconds}$"
        ))
        .unwrap();
        assert!(err.lines().any(|l| gathered.is_match(l)), "{err}");
    }
}

/// `status`'s two counts of legacy stacks told apart, in the schema and in the text, and
/// each right on the demo with a stray stack planted: `still_legacy` the legacy trees
/// looked at, as they are now (status writes nothing); `legacy_left_in_database` the whole
/// database once a real run is done, strays included. Then a real `migrate --stack` of
/// one tree: `still_legacy` 0 (that tree converted), `legacy_left_in_database` what the
/// database then holds.
fn legacy_counts(backend: Backend) {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/run.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let describe = |field: &str| {
        schema["properties"][field]["description"]
            .as_str()
            .unwrap_or_else(|| panic!("{field} has no description"))
            .to_string()
    };
    let still = describe("still_legacy");
    assert!(
        still.contains("legacy_trees") && still.contains("legacy_left_in_database"),
        "{still}"
    );
    let left = describe("legacy_left_in_database");
    assert!(
        left.contains("whole database") && left.contains("still_legacy"),
        "{left}"
    );

    let bed = Bed::new(&format!("legacy-counts-{backend:?}").to_lowercase());
    let db = bed.demo(backend);
    // A stray: a nested stack brought back whose owner stays deleted.
    db.exec("UPDATE stack SET deleted_at = NULL WHERE name LIKE 'deleted-group-%'");
    let roots = count(&db, LEGACY_ROOTS);
    let blocked = count(&db, BLOCKED_ROOTS);
    let strays = count(&db, ORPHANS);
    assert_eq!(strays, 1);

    let (code, out, err) = db.heat_converge(&["status", "--format", "json"]);
    assert_eq!(code, 3, "{err}");
    let report = json(&out);
    assert_eq!(report["legacy_trees"], roots, "{report}");
    assert_eq!(report["still_legacy"], roots, "{report}");
    assert_eq!(report["would_convert"], roots - blocked, "{report}");
    assert_eq!(report["stray_stacks"].as_array().unwrap().len(), strays);
    assert_eq!(
        report["legacy_left_in_database"],
        blocked + strays,
        "{report}"
    );
    let (_, text, _) = db.heat_converge(&["status"]);
    assert!(
        text.contains(&format!("  legacy root stacks            {roots:>6}\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "  legacy left after a migrate   {:>6}   (blocked trees and stray stacks: what a real migrate would leave)\n",
            blocked + strays
        )),
        "{text}"
    );

    let (code, out, err) = db.heat_converge(&["migrate", "--stack", "cfn", "--format", "json"]);
    assert_eq!(code, 3, "{err}");
    let report = json(&out);
    assert_eq!(report["legacy_trees"], 1, "{report}");
    assert_eq!(report["converted"], 1, "{report}");
    assert_eq!(report["still_legacy"], 0, "{report}");
    let now = count(&db, LEGACY_ROOTS);
    assert_eq!(now, roots - 1);
    assert_eq!(report["legacy_left_in_database"], now + strays, "{report}");
    common::assert_schemas(&[("run", report)]);
}

/// `verify` where heat-converge converted nothing: it says that nothing was checked (no
/// conversion recorded), never "every conversion holds", writes nothing, and exits as
/// `status` would: 3 while legacy stacks remain, 0 once none does.
fn verify_with_nothing_converted(backend: Backend) {
    let bed = Bed::new(&format!("verify-none-{backend:?}").to_lowercase());
    let db = bed.demo(backend);
    let roots = count(&db, LEGACY_ROOTS);
    assert!(roots > 0);
    let nothing = "  converted stacks checked                 0   (heat-converge has recorded no conversion in this database: nothing to check)\n";

    let (code, out, err) = db.heat_converge(&["verify"]);
    assert_eq!(code, 3, "{out}{err}");
    assert!(out.contains(nothing), "{out}");
    assert!(
        out.contains(&format!(
            "  legacy trees and stray stacks left  {roots:>6}\n"
        )),
        "{out}"
    );
    assert!(!out.contains("every conversion holds"), "{out}");
    assert!(
        out.contains(
            "Next: nothing was checked, since no conversion is recorded; legacy stacks remain"
        ),
        "{out}"
    );
    let (code, out, err) = db.heat_converge(&["verify", "--format", "json"]);
    assert_eq!(code, 3, "{err}");
    let report = json(&out);
    assert_eq!(report["checked"], 0, "{report}");
    assert_eq!(report["not_holding"], 0, "{report}");
    assert_eq!(report["legacy_left_in_database"], roots, "{report}");
    assert_eq!(report["exit_code"], 3, "{report}");
    common::assert_schemas(&[("verify", report)]);

    // No legacy stack either (every stack on convergence, none by heat-converge): 0.
    db.exec("UPDATE stack SET convergence = true");
    assert_eq!(count(&db, LEGACY_ROOTS), 0);
    let (code, out, err) = db.heat_converge(&["verify"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(nothing), "{out}");
    assert!(
        out.contains("Next: nothing; nothing was checked, since no conversion is recorded, and no legacy stack remains."),
        "{out}"
    );
    assert!(db.our_tables().is_empty(), "verify writes nothing");
}

/// `migrate --dry-run` is a review: one line per live legacy root (as the rows have
/// them), `would convert` with every previous template and resource it would delete, or
/// `left alone` with the reason, then the summary; and nothing written.
fn dry_run_lines(backend: Backend) {
    let bed = Bed::new(&format!("dry-lines-{backend:?}").to_lowercase());
    let db = bed.demo(backend);
    // A resource row its template no longer defines: a deletion to review.
    db.plant_orphaned_port();
    let roots: Vec<String> = db
        .rows(
            "SELECT id FROM stack WHERE owner_id IS NULL AND deleted_at IS NULL \
             AND NOT convergence AND NOT backup",
        )
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect();
    let blocked = count(&db, BLOCKED_ROOTS);
    let (code, out, err) = db.heat_converge(&["migrate", "--dry-run"]);
    assert_eq!(code, 3, "{out}{err}");
    let tree_lines: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("would convert  ") || l.starts_with("left alone     "))
        .collect();
    assert_eq!(tree_lines.len(), roots.len(), "{out}");
    for id in &roots {
        let of = tree_lines
            .iter()
            .filter(|l| l.contains(&format!(" ({id}): ")))
            .count();
        assert_eq!(of, 1, "{id}: {out}");
    }
    let left_alone = tree_lines
        .iter()
        .filter(|l| l.starts_with("left alone"))
        .count();
    assert_eq!(left_alone, blocked, "{out}");
    // Each row it would delete, as the JSON document lists them.
    let (_, doc, _) = db.heat_converge(&["migrate", "--dry-run", "--format", "json"]);
    let doc = json(&doc);
    let sum = |key: &str| -> u64 {
        doc["trees"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t[key].as_u64())
            .sum()
    };
    let deletions = |what: &str| {
        out.lines()
            .filter(|l| l.trim_start().starts_with(&format!("delete {what}")))
            .count() as u64
    };
    assert_eq!(
        deletions("previous template"),
        sum("templates_deleted"),
        "{out}"
    );
    assert_eq!(deletions("resource"), sum("resources_deleted"), "{out}");
    assert!(
        sum("templates_deleted") > 0,
        "the demo has previous templates"
    );
    let summary = out.find("Summary (dry run: nothing was written)").unwrap();
    assert!(
        out.rfind("would convert  ").unwrap() < summary,
        "lines, then the summary"
    );
    assert!(db.our_tables().is_empty(), "a dry run writes nothing");
}

on_every_backend!(
    log_seconds,
    legacy_counts,
    verify_with_nothing_converted,
    dry_run_lines
);
