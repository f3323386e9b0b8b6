//! Our dependency graph (`heat-converge graph`) against Heat's own.
//!
//! The oracle is `heatbed.py graph` / `graph-batch`: a real Heat 27.0.1 builds the stack
//! in-process and says which resources each one requires. Every template is run through
//! both with the same inputs (parameters, environments, files), and each comparison ends
//! in one outcome:
//!
//! * equal — same resources, same types, same `requires`;
//! * rejected by both — Heat raised, and we exited 1;
//! * different — both gave a graph, and they differ (the diff says where);
//! * rejected by Heat only / rejected by us only;
//! * our command failed — we crashed, timed out, exited neither 0 nor 1, or printed
//!   something that is not the graph.
//!
//! Only the first two pass. The templates are the public heat-templates corpus
//! (`../shared/corpus/heat-templates`) and our own (`tests/templates`, with the
//! environments and files `cases.yaml` gives them, and `tests/templates/graph`, see
//! [`graph_templates`]).
//!
//! The parts, one concern each: [`inputs`] decides once which inputs a template gets
//! ([`inputs::made_up_parameters`]: a value for every parameter without a default;
//! [`inputs::gather_files`]: the local files it names); [`heat`] checks the oracle alone;
//! [`ours`] runs our command as a process; [`compare`] judges and reports. The two sets
//! are run here.

mod common;
// The crate root looks for its modules beside it: these live in graph_differential/.
#[path = "graph_differential/compare.rs"]
mod compare;
#[path = "graph_differential/heat.rs"]
mod heat;
#[path = "graph_differential/inputs.rs"]
mod inputs;
#[path = "graph_differential/ours.rs"]
mod ours;

use common::Bed;
use compare::compare;
use inputs::{comparison, is_template, normalize, Comparison, Parsed};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn top() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn our_templates() -> PathBuf {
    top().join("tests/templates")
}

fn cases_yaml(parsed: &mut Parsed) -> Vec<Value> {
    let path = our_templates().join("cases.yaml");
    let v = parsed
        .get(&path)
        .unwrap_or_else(|e| panic!("cases.yaml: {e}"));
    v["cases"]
        .as_array()
        .expect("cases.yaml has a list of cases")
        .clone()
}

/// Every template of tests/templates: each case's template (and update template) with
/// the case's environment and files, and every other template on its own.
#[test]
fn our_templates_match_heat() {
    let bed = Bed::new("graphours");
    let dir = our_templates();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/templates")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    let mut parsed = Parsed::new(&bed, &paths);

    let mut seen: BTreeSet<(String, Option<String>)> = BTreeSet::new();
    let mut comparisons = Vec::new();
    for case in cases_yaml(&mut parsed) {
        let env = case["environment"].as_str().map(String::from);
        let files: Vec<(String, PathBuf)> = case["files"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|f| (f.to_string(), dir.join(f)))
            .collect();
        for key in ["template", "update"] {
            let Some(t) = case[key].as_str() else {
                continue;
            };
            if !seen.insert((t.to_string(), env.clone())) {
                continue;
            }
            let envs: Vec<PathBuf> = env.iter().map(|e| dir.join(e)).collect();
            let label = match &env {
                Some(e) => format!("{t} + {e}"),
                None => t.to_string(),
            };
            comparisons.push(comparison(&mut parsed, label, &dir.join(t), &envs, &files));
        }
    }
    let used: BTreeSet<String> = seen.iter().map(|(t, _)| t.clone()).collect();
    for p in &paths {
        let name = p
            .file_name()
            .expect("a file name")
            .to_string_lossy()
            .to_string();
        if !used.contains(&name) && parsed.template(p).is_some() {
            comparisons.push(comparison(&mut parsed, name, p, &[], &[]));
        }
    }
    let graph = graph_templates(&mut parsed);
    assert!(
        graph.len() >= 12,
        "too few templates in tests/templates/graph"
    );
    comparisons.extend(graph);
    assert!(comparisons.len() >= 10, "too few of our templates found");
    compare(&bed, "tests/templates", &comparisons);
}

/// The templates of `tests/templates/graph`, written to exercise the implicit dependency
/// rules of Heat's plugins. Its own rule, kept apart from cases.yaml (those templates are
/// not stacks the bed builds):
///
/// * every `X.yaml` directly in that directory that is a template is compared on its own;
/// * when `X.env.yaml` sits beside it, once more with that environment (labelled
///   `graph/X.yaml + X.env.yaml`); an `*.env.yaml` is never compared by itself;
/// * subdirectories (e.g. `facade/`) hold files the environments name, such as provider
///   templates; they reach Heat through [`gather_files`], and are not compared alone.
fn graph_templates(parsed: &mut Parsed) -> Vec<Comparison> {
    let dir = our_templates().join("graph");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    let file_name = |p: &Path| p.file_name().expect("a name").to_string_lossy().to_string();
    let mut out = Vec::new();
    for p in &paths {
        let name = file_name(p);
        let Some(stem) = name.strip_suffix(".yaml") else {
            continue;
        };
        if stem.ends_with(".env") || parsed.template(p).is_none() {
            continue;
        }
        let label = format!("graph/{name}");
        out.push(comparison(parsed, label.clone(), p, &[], &[]));
        let env = p.with_file_name(format!("{stem}.env.yaml"));
        if env.is_file() {
            let label = format!("{label} + {}", file_name(&env));
            out.push(comparison(parsed, label, p, &[env], &[]));
        }
    }
    out
}

/// Every file under `dir` (recursively, hidden ones left out), sorted.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}

/// Every template of the heat-templates corpus on its own; and, where a directory has
/// `X_env.yaml` next to `X.yaml`, that template once more with that environment.
#[test]
fn corpus_matches_heat() {
    let shared = top().join("../shared");
    if !shared.is_dir() {
        println!(
            "SKIPPED corpus_matches_heat: no {} (the heat-templates corpus lives in \
             ../shared/corpus/heat-templates)",
            shared.display()
        );
        return;
    }
    let corpus = normalize(&shared.join("corpus/heat-templates"));
    assert!(
        corpus.is_dir(),
        "{} exists, but not {}",
        shared.display(),
        corpus.display()
    );

    let bed = Bed::new("graphcorpus");
    let mut paths = Vec::new();
    walk(&corpus, &mut paths);
    paths.retain(|p| {
        p.extension()
            .is_some_and(|e| ["yaml", "yml", "template", "json"].contains(&&*e.to_string_lossy()))
    });
    let mut parsed = Parsed::new(&bed, &paths);
    let rel = |p: &Path| p.strip_prefix(&corpus).unwrap_or(p).display().to_string();

    let mut comparisons = Vec::new();
    for p in &paths {
        if parsed.template(p).is_none() {
            continue;
        }
        comparisons.push(comparison(&mut parsed, rel(p), p, &[], &[]));
        let stem = p
            .file_stem()
            .expect("a file name")
            .to_string_lossy()
            .to_string();
        let env = p.with_file_name(format!("{stem}_env.yaml"));
        if env.is_file() && parsed.get(&env).is_ok_and(|v| !is_template(v)) {
            let label = format!(
                "{} + {}",
                rel(p),
                env.file_name().expect("a name").to_string_lossy()
            );
            comparisons.push(comparison(&mut parsed, label, p, &[env], &[]));
        }
    }
    assert!(
        comparisons.len() >= 100,
        "too few templates in {}",
        corpus.display()
    );
    compare(&bed, "heat-templates corpus", &comparisons);
}
