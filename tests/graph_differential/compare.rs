//! Comparing: each pair of answers judged into one outcome, and the report of a whole set
//! (counts by outcome, the first differences spelled out).

use crate::common::{Bed, GraphJob};
use crate::inputs::Comparison;
use crate::ours::{graph_of, our_args, run_all_ours, short, Graph, Ours};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// How many failing comparisons the report spells out.
pub(crate) const SHOWN: usize = 30;

/// Where two graphs differ, one line per resource.
pub(crate) fn diff(heat: &Graph, ours: &Graph) -> Vec<String> {
    let mut out = Vec::new();
    let all: BTreeSet<&String> = heat.keys().chain(ours.keys()).collect();
    for name in all {
        match (heat.get(name), ours.get(name)) {
            (Some((t, _)), None) => out.push(format!("{name} ({t}): only in Heat's graph")),
            (None, Some((t, _))) => out.push(format!("{name} ({t}): only in ours")),
            (Some((ht, hr)), Some((ot, or))) => {
                if ht != ot {
                    out.push(format!("{name}: type {ht} for Heat, {ot} for us"));
                }
                if hr != or {
                    let missing: Vec<&String> = hr.iter().filter(|r| !or.contains(r)).collect();
                    let extra: Vec<&String> = or.iter().filter(|r| !hr.contains(r)).collect();
                    out.push(format!(
                        "{name} requires {hr:?} for Heat, {or:?} for us (we miss {missing:?}, \
                         we add {extra:?})"
                    ));
                }
            }
            (None, None) => {}
        }
    }
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Equal,
    RejectedByBoth,
    Different,
    RejectedByHeatOnly,
    RejectedByUsOnly,
    OursFailed,
}

impl Kind {
    const ALL: [Kind; 6] = [
        Kind::Equal,
        Kind::RejectedByBoth,
        Kind::Different,
        Kind::RejectedByHeatOnly,
        Kind::RejectedByUsOnly,
        Kind::OursFailed,
    ];

    fn passes(self) -> bool {
        matches!(self, Kind::Equal | Kind::RejectedByBoth)
    }

    fn label(self) -> &'static str {
        match self {
            Kind::Equal => "equal",
            Kind::RejectedByBoth => "rejected by both",
            Kind::Different => "different",
            Kind::RejectedByHeatOnly => "rejected by Heat only",
            Kind::RejectedByUsOnly => "rejected by us only",
            Kind::OursFailed => "our command failed",
        }
    }
}

/// One outcome and the lines that explain it.
pub(crate) fn judge(heat: &Value, ours: &Ours) -> (Kind, Vec<String>) {
    let heat_error = heat
        .get("error")
        .map(|e| e.as_str().unwrap_or("?").to_string());
    let heat_graph = || graph_of(heat).unwrap_or_else(|e| panic!("the oracle's graph: {e}"));
    match (heat_error, ours) {
        (_, Ours::Failed(what)) => (Kind::OursFailed, vec![what.clone()]),
        (Some(_), Ours::Rejected(_)) => (Kind::RejectedByBoth, vec![]),
        (Some(h), Ours::Graph(_)) => (Kind::RejectedByHeatOnly, vec![format!("Heat: {h}")]),
        (None, Ours::Rejected(msg)) => {
            (Kind::RejectedByUsOnly, vec![format!("us: {}", short(msg))])
        }
        (None, Ours::Graph(v)) => {
            let ours = graph_of(v).unwrap_or_else(|e| panic!("checked in run_ours: {e}"));
            let d = diff(&heat_graph(), &ours);
            if d.is_empty() {
                (Kind::Equal, d)
            } else {
                (Kind::Different, d)
            }
        }
    }
}

/// The most common strings, most common first, at most `n`.
pub(crate) fn top_counts<'a>(
    items: impl Iterator<Item = &'a str>,
    n: usize,
) -> Vec<(usize, &'a str)> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for i in items {
        *counts.entry(i).or_default() += 1;
    }
    let mut v: Vec<(usize, &str)> = counts.into_iter().map(|(s, c)| (c, s)).collect();
    v.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    v.truncate(n);
    v
}

/// Runs every comparison through both sides, prints the report, fails unless every one is
/// equal or rejected by both.
pub(crate) fn compare(bed: &Bed, what: &str, comparisons: &[Comparison]) {
    let jobs: Vec<GraphJob> = comparisons.iter().map(|c| c.job.clone()).collect();
    let heat = bed.graph_batch(&jobs);
    let ours = run_all_ours(&jobs);
    let judged: Vec<(Kind, Vec<String>)> =
        heat.iter().zip(&ours).map(|(h, o)| judge(h, o)).collect();

    let mut r = String::new();
    let mut line = |s: String| {
        r.push_str(&s);
        r.push('\n');
    };
    line(format!(
        "graph differential, {what}: {} compared",
        comparisons.len()
    ));
    for k in Kind::ALL {
        let n = judged.iter().filter(|(j, _)| *j == k).count();
        line(format!("  {:<22} {n}", k.label()));
    }

    // The oracle's side, useful even while ours is missing.
    let errors: Vec<&str> = heat.iter().filter_map(|h| h["error"].as_str()).collect();
    line(format!(
        "Heat accepts {}, rejects {}; its reasons:",
        heat.len() - errors.len(),
        errors.len()
    ));
    for (n, e) in top_counts(errors.iter().copied(), 8) {
        line(format!("  {n:>4}  {}", short(e)));
    }
    let params: usize = comparisons.iter().map(|c| c.job.parameters.len()).sum();
    let with_params = comparisons
        .iter()
        .filter(|c| !c.job.parameters.is_empty())
        .count();
    let with_files = comparisons
        .iter()
        .filter(|c| !c.job.files.is_empty())
        .count();
    line(format!(
        "inputs: {params} made-up parameter values in {with_params} comparisons; files given \
         in {with_files}"
    ));
    let missing: Vec<String> = comparisons
        .iter()
        .filter(|c| !c.missing.is_empty())
        .map(|c| {
            let names: Vec<&str> = c.missing.iter().map(String::as_str).collect();
            format!("{} ({})", c.label, short(&names.join(", ")))
        })
        .collect();
    if !missing.is_empty() {
        line(format!(
            "{} comparisons name files that are not here (neither side gets them), e.g.:",
            missing.len()
        ));
        for m in missing.iter().take(5) {
            line(format!("  {m}"));
        }
    }
    for c in comparisons.iter().filter(|c| !c.clashes.is_empty()) {
        line(format!(
            "{}: a name for two files: {}",
            c.label,
            c.clashes.join("; ")
        ));
    }

    // Ours: the commonest reasons, then each failure.
    let failed: Vec<(&Comparison, &(Kind, Vec<String>))> = comparisons
        .iter()
        .zip(&judged)
        .filter(|(_, (k, _))| !k.passes())
        .collect();
    if !failed.is_empty() {
        let first_lines = failed
            .iter()
            .map(|(_, (_, d))| d.first().map_or("", String::as_str));
        let common: Vec<(usize, &str)> = top_counts(first_lines, 5)
            .into_iter()
            .filter(|(n, _)| *n > 1)
            .collect();
        if !common.is_empty() {
            line("commonest first lines of the failures:".into());
        }
        for (n, e) in common {
            line(format!("  {n:>4}  {}", short(e)));
        }
        line(format!(
            "failures ({} of {}), {} shown:",
            failed.len(),
            comparisons.len(),
            failed.len().min(SHOWN)
        ));
        for (c, (k, detail)) in failed.iter().take(SHOWN) {
            let params: Vec<String> = c
                .job
                .parameters
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let inputs = if params.is_empty() {
                String::new()
            } else {
                format!(" [{}]", short(&params.join(" ")))
            };
            line(format!("- {}{inputs}: {}", c.label, k.label()));
            for d in detail.iter().take(8) {
                line(format!("    {d}"));
            }
            if detail.len() > 8 {
                line(format!("    … and {} more", detail.len() - 8));
            }
        }
    }
    if std::env::var_os("GRAPH_DIFF_VERBOSE").is_some() {
        line("every comparison (GRAPH_DIFF_VERBOSE):".into());
        for (c, (k, _)) in comparisons.iter().zip(&judged) {
            line(format!("- {}: {}", c.label, k.label()));
            line(format!("    heat-converge {}", our_args(&c.job).join(" ")));
            for (n, p) in &c.job.files {
                line(format!("    file {n} = {}", p.display()));
            }
        }
    }
    // Once: printed when all pass (seen with --nocapture), else the failure message.
    if failed.is_empty() {
        println!("{r}");
    } else {
        panic!("\n{r}");
    }
}
