//! The summary of `migrate` and `plan` for people: counts, the trees left alone grouped
//! by reason with the first of each, stray stacks, warnings, and the one next step.

use super::*;

pub fn summary(report: &Report) -> String {
    let mut s = String::new();
    let legacy = report.tally.trees;
    let _ = writeln!(
        s,
        "\nSummary{}",
        if report.dry_run {
            " (dry run: nothing was written)"
        } else {
            ""
        }
    );
    if let Some(f) = &report.filter {
        let _ = writeln!(s, "  filter                        {}", esc(f));
    }
    let _ = writeln!(
        s,
        "  legacy stack trees {:<10} {legacy:>6}",
        if report.filter.is_some() {
            "selected"
        } else {
            "found"
        }
    );
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
    for (kind, label, n) in skipped_by_kind(report) {
        let _ = writeln!(s, "    {label:<27} {n:>6}");
        // The first trees of each reason; all of them with --list or --format json.
        let of_kind = report.trees.iter().filter_map(|t| match &t.outcome {
            Outcome::Skipped(b) if b.kind() == kind => Some((t, b)),
            _ => None,
        });
        for (t, b) in of_kind.take(FIRST_TREES) {
            let _ = writeln!(
                s,
                "      {} ({}): {}",
                esc(&t.root_name),
                esc(&t.root_id),
                esc(&b.to_string())
            );
        }
        if n > FIRST_TREES {
            let _ = writeln!(
                s,
                "      ... and {} more (all with --list or --format json)",
                n - FIRST_TREES
            );
        }
    }
    for (id, name) in &report.plan_gone {
        let _ = writeln!(
            s,
            "  in the plan, no longer a live legacy root: {} ({}) (changed since the plan was made)",
            esc(name),
            esc(id)
        );
    }
    let (resources, templates) = (
        report.tally.resources_deleted,
        report.tally.templates_deleted,
    );
    let verb = if report.dry_run {
        "to delete"
    } else {
        "deleted"
    };
    let _ = writeln!(s, "  resource rows {verb:<15} {resources:>6}");
    let _ = writeln!(s, "  previous templates {verb:<10} {templates:>6}");
    if !report.indexes.is_empty() {
        let _ = writeln!(
            s,
            "  temporary indexes             {:>6}   (created on Heat's tables for the run, dropped at its end: {})",
            report.indexes.len(),
            report.indexes.join(", ")
        );
    }
    if !report.statistics.is_empty() {
        let _ = writeln!(
            s,
            "  planner statistics gathered   {:>6}   (ANALYZE of Heat's tables that had none: {})",
            report.statistics.len(),
            report.statistics.join(", ")
        );
    }
    if !report.indexes_left.is_empty() {
        let _ = writeln!(
            s,
            "  temporary indexes left        {:>6}   ({})",
            report.indexes_left.len(),
            report.indexes_left.join(", ")
        );
    }
    if report.retries.transient > 0 {
        let _ = writeln!(
            s,
            "  transactions tried again      {:>6}   (deadlocks or cluster conflicts, each rolled back whole first)",
            report.retries.transient
        );
    }
    if report.not_reached > 0 {
        let _ = writeln!(
            s,
            "  not reached (run stopped)     {:>6}",
            report.not_reached
        );
    }
    if report.filter.is_some() {
        let _ = writeln!(
            s,
            "  legacy trees outside filter   {:>6}",
            report.outside_filter
        );
    }
    if !report.strays.is_empty() {
        let _ = writeln!(
            s,
            "  stray legacy stacks           {:>6}   (in no convertible tree; never converted)",
            report.strays.len()
        );
        for st in &report.strays {
            let _ = writeln!(s, "    {}", stray_line(st));
        }
    }
    let warnings: Vec<&String> = report.trees.iter().flat_map(|t| &t.warnings).collect();
    if !warnings.is_empty() {
        let _ = writeln!(s, "  warnings                      {:>6}", warnings.len());
        for w in warnings {
            let _ = writeln!(s, "    warning: {}", esc(w));
        }
    }
    let _ = writeln!(
        s,
        "  legacy left in the database   {:>6}   (trees and stray stacks, whatever the filter{})",
        report.legacy_left_in_database(),
        if report.dry_run {
            ", after a real run"
        } else {
            ""
        }
    );
    let _ = writeln!(
        s,
        "  already convergence (roots)   {:>6}",
        report.convergence_roots
    );
    if let Some(id) = &report.run_id {
        let _ = writeln!(s, "  recorded as run               {id}");
    }
    let _ = writeln!(
        s,
        "  time taken                    {:.1} s",
        report.duration.as_secs_f64()
    );
    let _ = writeln!(s, "{}", next_step(report));
    s
}

/// The one next step, for the whole database.
fn next_step(report: &Report) -> String {
    if let Some(why) = &report.stopped {
        return format!(
            "Next: the run stopped early: {}. Run heat-converge migrate again; it converts what remains.",
            esc(why)
        );
    }
    let left = report.legacy_left_in_database();
    if left == 0 {
        return if report.dry_run {
            "Next: run without --dry-run to convert them.".to_string()
        } else {
            "Next: nothing; every stack runs on the convergence engine.".to_string()
        };
    }
    let mut why = Vec::new();
    let blocked = if report.dry_run {
        report.skipped()
    } else {
        report.remaining()
    };
    let needs_heat = report
        .tally
        .skipped_by_kind
        .get("needs_heat")
        .map_or(0, |(_, n)| *n);
    if needs_heat > 0 {
        why.push(format!(
            "{} whose third-party plugins need Heat's own code: run again with --heat-python PATH, the python of your Heat installation (Kolla: run heat-converge inside the heat_engine container, which holds both the plugins and that interpreter)",
            plural(needs_heat, "tree", "trees")
        ));
    }
    if blocked > needs_heat {
        why.push(format!(
            "{} left alone for the reasons above: let busy stacks finish (or reset those whose engine is gone, as said above), repair or delete failed ones, then run again",
            blocked - needs_heat
        ));
    }
    why.extend(outside(report));
    if !report.strays.is_empty() {
        why.push(format!(
            "{} in no convertible tree: delete or repair them with Heat (they are never converted)",
            plural(
                report.strays.len(),
                "stray legacy stack",
                "stray legacy stacks"
            )
        ));
    }
    format!(
        "Next: {left} legacy {} in the database{}: {}.",
        if left == 1 {
            "item remains"
        } else {
            "items remain"
        },
        if report.dry_run {
            " after a real run"
        } else {
            ""
        },
        why.join("; ")
    )
}

/// What the next step says of the legacy trees outside the filter: those it would convert
/// without the filter, and those the rule leaves alone now anyway (busy, failed: running
/// without the filter converts none of them), each counted and worded for what they need.
fn outside(report: &Report) -> Vec<String> {
    let filter = esc(report.filter.as_deref().unwrap_or("the filter"));
    let left_alone: usize = report.outside_left_alone.values().sum();
    let open = report.outside_filter.saturating_sub(left_alone);
    let mut why = Vec::new();
    if open > 0 {
        why.push(if report.by_plan {
            format!(
                "{open} outside {filter}: make a plan of them (heat-converge plan) and apply it, or run without --plan to convert them"
            )
        } else {
            format!("{open} outside {filter}: run without the filter to convert them")
        });
    }
    if left_alone > 0 {
        let reasons: Vec<String> = report
            .outside_left_alone
            .iter()
            .map(|(label, n)| format!("{n} {label}"))
            .collect();
        why.push(format!(
            "{left_alone} outside {filter} that would be left alone without it too ({}): let busy stacks finish (or reset those whose engine is gone), repair or delete failed ones, then {}",
            reasons.join("; "),
            if report.by_plan {
                "make a new plan and apply it"
            } else {
                "run again"
            }
        ));
    }
    why
}
