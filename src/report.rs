//! What a run says at the end: a summary table for people, JSON for pipelines, and the
//! exit code that tells them apart.
//!
//! Exit codes (documented in the README):
//! - 0: no legacy stack tree remains (all converted, or there were none);
//! - 3: legacy trees remain (busy, failed, locked, ...): fix or wait, then run again;
//! - 1: error: the run could not do its job (nothing half-written: trees are atomic);
//! - 2: usage error (bad options).

use crate::convert::{skipped_by_kind, Outcome, Report, TreeReport};
use serde_json::json;
use std::fmt::Write as _;

pub const EXIT_ALL_CONVERTED: u8 = 0;
pub const EXIT_ERROR: u8 = 1;
pub const EXIT_LEGACY_REMAIN: u8 = 3;

pub fn exit_code(report: &Report) -> u8 {
    let left = if report.dry_run {
        report.skipped()
    } else {
        report.remaining()
    };
    if left == 0 {
        EXIT_ALL_CONVERTED
    } else {
        EXIT_LEGACY_REMAIN
    }
}

/// One line per tree, as the run goes.
pub fn tree_line(t: &TreeReport) -> String {
    let who = format!("{} ({})", t.root_name, t.root_id);
    match &t.outcome {
        Outcome::Converted(a) => format!(
            "converted      {who}: {} stacks, {} resources, {} resources deleted, {} templates deleted",
            a.stacks, a.resources_converted, a.resources_deleted, a.templates_deleted
        ),
        Outcome::WouldConvert(p) => {
            let mut s = format!(
                "would convert  {who}: {} stacks, {} resources, {} resources deleted, {} templates deleted",
                p.stacks.len(),
                p.resources_converted(),
                p.resources_deleted(),
                p.templates_deleted()
            );
            for sp in &p.stacks {
                for d in &sp.deletes {
                    let _ = write!(s, "\n                 delete resource {} ({}) of stack {}: not in its template", d.name, d.id, sp.stack.name);
                }
                if let Some(prev) = sp.stack.prev_raw_template_id {
                    let _ = write!(s, "\n                 delete previous template {prev} of stack {}", sp.stack.name);
                }
            }
            s
        }
        Outcome::Skipped(b) => format!("left alone     {who}: {}: {b}", b.kind()),
    }
}

pub fn summary(report: &Report) -> String {
    let mut s = String::new();
    let legacy = report.trees.len();
    let _ = writeln!(
        s,
        "\nSummary{}",
        if report.dry_run {
            " (dry run: nothing was written)"
        } else {
            ""
        }
    );
    let _ = writeln!(s, "  legacy stack trees found      {legacy:>6}");
    if report.dry_run {
        let _ = writeln!(
            s,
            "  would be converted            {:>6}",
            report.would_convert()
        );
    } else {
        let _ = writeln!(
            s,
            "  converted                     {:>6}",
            report.converted()
        );
    }
    let _ = writeln!(s, "  left alone                    {:>6}", report.skipped());
    for (kind, n) in skipped_by_kind(report) {
        let _ = writeln!(s, "    {kind:<27} {n:>6}");
    }
    let still = if report.dry_run {
        legacy
    } else {
        report.remaining()
    };
    let _ = writeln!(s, "  still legacy                  {still:>6}");
    let _ = writeln!(
        s,
        "  already convergence (roots)   {:>6}",
        report.convergence_roots
    );
    if !report.run_id.is_empty() {
        let _ = writeln!(s, "  recorded as run               {}", report.run_id);
    }
    let next = match (report.dry_run, exit_code(report)) {
        (true, EXIT_ALL_CONVERTED) => "Next: run without --dry-run to convert them.".to_string(),
        (true, _) => "Next: run without --dry-run to convert what can be; the trees left alone wait for the reasons above.".to_string(),
        (false, EXIT_ALL_CONVERTED) => "Next: nothing; every stack runs on the convergence engine.".to_string(),
        (false, _) => format!(
            "Next: {} legacy trees remain. Let busy stacks finish, repair or delete failed ones (or ask their owners to), then run heat-converge migrate again; it converts what remains and leaves the rest alone.",
            report.remaining()
        ),
    };
    let _ = writeln!(s, "{next}");
    s
}

pub fn to_json(report: &Report) -> serde_json::Value {
    let trees: Vec<_> = report
        .trees
        .iter()
        .map(|t| {
            let mut v = json!({"root_id": t.root_id, "name": t.root_name, "project": t.project, "stacks": t.stacks});
            match &t.outcome {
                Outcome::Converted(a) => {
                    v["outcome"] = json!("converted");
                    v["resources_converted"] = json!(a.resources_converted);
                    v["resources_deleted"] = json!(a.resources_deleted);
                    v["templates_deleted"] = json!(a.templates_deleted);
                }
                Outcome::WouldConvert(p) => {
                    v["outcome"] = json!("would convert");
                    v["resources_converted"] = json!(p.resources_converted());
                    v["resources_deleted"] = json!(p.resources_deleted());
                    v["templates_deleted"] = json!(p.templates_deleted());
                }
                Outcome::Skipped(b) => {
                    v["outcome"] = json!("left alone");
                    v["reason_kind"] = json!(b.kind());
                    v["reason"] = json!(b.to_string());
                }
            }
            v
        })
        .collect();
    let skipped: serde_json::Map<String, serde_json::Value> = skipped_by_kind(report)
        .into_iter()
        .map(|(k, n)| (k.to_string(), json!(n)))
        .collect();
    json!({
        "dry_run": report.dry_run,
        "run_id": if report.run_id.is_empty() { serde_json::Value::Null } else { json!(report.run_id) },
        "migrations_applied": report.migrations_applied,
        "legacy_trees": report.trees.len(),
        "converted": report.converted(),
        "would_convert": report.would_convert(),
        "left_alone": report.skipped(),
        "left_alone_by_reason": skipped,
        "still_legacy": if report.dry_run { report.trees.len() } else { report.remaining() },
        "convergence_roots": report.convergence_roots,
        "exit_code": exit_code(report),
        "trees": trees,
    })
}
