//! What `verify` says: text for people, JSON for pipelines (`schemas/verify.schema.json`),
//! and its exit code.

use super::*;
use crate::verify::{Finding, StackCheck, Verification};
use serde_json::json;

/// `verify`'s exit code: 4 when a converted stack does not hold, else 3 while legacy
/// stacks remain, else 0; so with no conversion recorded (nothing checked, and said so)
/// it is `status`'s: nothing failed to hold, and the code still says whether legacy
/// stacks remain.
pub fn verify_exit_code(v: &Verification) -> u8 {
    if v.failing() > 0 {
        EXIT_NOT_HOLDING
    } else if v.legacy_left > 0 {
        EXIT_LEGACY_REMAIN
    } else {
        EXIT_ALL_CONVERTED
    }
}

fn finding_detail(f: &Finding) -> Vec<String> {
    match f {
        Finding::Holds | Finding::Deleted => Vec::new(),
        Finding::MovedOn { state } => vec![format!("now {state}")],
        Finding::FailedSince {
            state,
            reason,
            resources,
        } => std::iter::once(format!("{state}: {reason}"))
            .chain(resources.iter().cloned())
            .collect(),
        Finding::Broken { differences } => differences.clone(),
    }
}

/// Whether heat-converge recorded no conversion (none to check). A filter that selects
/// none is refused before (a usage error), so a verification that checked nothing found
/// no record at all.
fn nothing_recorded(v: &Verification) -> bool {
    v.checked() == 0
}

/// `heat-converge verify` for people.
pub fn verify_text(v: &Verification, database: &str) -> String {
    let mut s = String::new();
    let count = |k: &str| v.count(k);
    let _ = writeln!(s, "heat-converge verify of {database}");
    let _ = writeln!(
        s,
        "  converted stacks checked            {:>6}{}",
        v.checked(),
        if nothing_recorded(v) {
            "   (heat-converge has recorded no conversion in this database: nothing to check)"
        } else {
            ""
        }
    );
    // (label, finding, width of the count): the counts end in the same column as the
    // lines around them.
    for (label, kind, width) in [
        ("hold at their conversion's traversal", "holds", 3),
        ("moved on by the convergence engine", "moved_on", 5),
        ("deleted since", "deleted", 5),
        ("failed since", "failed_since", 5),
        ("do not hold", "does_not_hold", 5),
    ]
    .into_iter()
    .filter(|_| !nothing_recorded(v))
    {
        let pad = 39 - width;
        let _ = writeln!(s, "    {label:<pad$} {:>width$}", count(kind));
    }
    let _ = writeln!(
        s,
        "  legacy trees and stray stacks left  {:>6}",
        v.legacy_left
    );
    for c in &v.not_holding {
        let _ = writeln!(
            s,
            "{} {} ({}), root {}, converted by run {}:",
            c.finding.kind(),
            esc(&c.name),
            esc(&c.stack_id),
            esc(&c.root_stack_id),
            esc(&c.run_id)
        );
        for d in finding_detail(&c.finding) {
            let _ = writeln!(s, "    {}", esc(&d));
        }
    }
    let next = match (verify_exit_code(v), nothing_recorded(v)) {
        (EXIT_NOT_HOLDING, _) => "Next: the stacks above do not hold what heat-converge wrote (or failed since): read each difference; restore from the backup taken before the run, or repair them with Heat.",
        (EXIT_LEGACY_REMAIN, true) => "Next: nothing was checked, since no conversion is recorded; legacy stacks remain: convert them with heat-converge migrate (see heat-converge status), then verify.",
        (EXIT_LEGACY_REMAIN, false) => "Next: every conversion holds; legacy stacks remain: see heat-converge status.",
        (_, true) => "Next: nothing; nothing was checked, since no conversion is recorded, and no legacy stack remains.",
        _ => "Next: nothing; every conversion holds and no legacy stack remains.",
    };
    let _ = writeln!(s, "{next}");
    s
}

/// `heat-converge verify` for pipelines.
/// `heat-converge verify --format json` without its `stacks`, which a [`TreeSpool`] for
/// `stacks` adds at its end, one [`verify_stack_json`] each.
pub fn verify_json(v: &Verification) -> serde_json::Value {
    json!({
        "checked": v.checked(),
        "not_holding": v.failing(),
        "legacy_left_in_database": v.legacy_left,
        "exit_code": verify_exit_code(v),
    })
}

/// One entry of verify's `stacks`.
pub fn verify_stack_json(c: &StackCheck) -> serde_json::Value {
    json!({
        "stack_id": c.stack_id,
        "name": c.name,
        "root_stack_id": c.root_stack_id,
        "run_id": c.run_id,
        "finding": c.finding.kind(),
        "details": finding_detail(&c.finding),
    })
}
