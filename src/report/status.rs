//! `status` for people: roots on each engine, what blocks the legacy ones, stray stacks and
//! third-party types.

use super::*;

/// `heat-converge status`: counts for the whole database and what blocks each tree.
pub fn status_text(report: &Report, database: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "heat-converge status of {database}");
    let _ = writeln!(
        s,
        "  root stacks on convergence    {:>6}",
        report.convergence_roots
    );
    let _ = writeln!(
        s,
        "  legacy root stacks            {:>6}",
        report.tally.trees
    );
    let _ = writeln!(
        s,
        "    ready to convert            {:>6}",
        report.would_convert()
    );
    let _ = writeln!(s, "    blocked                     {:>6}", report.skipped());
    for t in &report.trees {
        if let Outcome::Skipped(b) = &t.outcome {
            let _ = writeln!(
                s,
                "      {} ({}): {}: {}",
                esc(&t.root_name),
                esc(&t.root_id),
                b.label(),
                esc(&b.to_string())
            );
        }
    }
    let _ = writeln!(
        s,
        "  stray legacy stacks           {:>6}",
        report.strays.len()
    );
    for st in &report.strays {
        let _ = writeln!(
            s,
            "      {} ({}): {}: {}",
            esc(&st.stack.name),
            esc(&st.stack.id),
            st.reason.label(),
            esc(&st.reason.to_string())
        );
    }
    let _ = writeln!(
        s,
        "  legacy left after a migrate   {:>6}   (blocked trees and stray stacks: what a real migrate would leave)",
        report.legacy_left_in_database()
    );
    if !report.plugin_types.is_empty() {
        let _ = writeln!(
            s,
            "  third-party resource types    {:>6}",
            report.plugin_types.len()
        );
        for t in &report.plugin_types {
            let _ = writeln!(
                s,
                "      {} ({}): graph {}",
                esc(&t.plugin.named()),
                plural(t.resources, "resource", "resources"),
                esc(&t.plugin.how.describe())
            );
        }
    }
    for t in &report.trees {
        for w in &t.warnings {
            let _ = writeln!(s, "  warning: {}", esc(w));
        }
    }
    s
}
