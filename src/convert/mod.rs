//! `heat-converge migrate`: converts every legacy stack tree that can be converted now.
//!
//! A run: apply the tool's own schema migrations (refinery), read the inventory, then per
//! batch of trees read resources and templates, and per tree check the eligibility rule,
//! plan the row changes and write them in one transaction with their history rows. A tree
//! that cannot be converted is left untouched and recorded with its reason, and the run
//! goes on. `--dry-run` does the same reading and planning and writes nothing at all.

pub mod apply;
pub mod eligibility;
pub mod fingerprint;
pub mod mode;
pub mod plan;
pub mod tree;

use crate::db::read::{self as load, Inventory};
use crate::db::Database;
use crate::environment::Registry;
use anyhow::Result;
use eligibility::Blocker;
use fingerprint::Fingerprint;
use plan::TreePlan;
use std::collections::HashMap;
use std::io::Write as _;
use tree::{Forest, Stray, Tree};

/// What the operator asked for.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub dry_run: bool,
    /// Only these root stacks (empty: all).
    pub stacks: Vec<String>,
    pub project: Option<String>,
    /// Heat's global environment.
    pub global: Registry,
    /// Recorded in the run row (no secrets).
    pub described: String,
    /// This host's name, for the run row.
    pub host: String,
    /// `migrate --plan`: only the plan's trees, each only while it is as planned.
    pub plan: Option<Planned>,
    /// Fail at once, instead of waiting, when another run holds the run lock.
    pub no_wait: bool,
    /// heat.conf's `auth_encryption_key` (None: it sets none), for hidden parameters.
    pub key: Option<crate::crypt::Key>,
    /// Fingerprint each planned tree's rows (for a plan file; `plan` is implied).
    pub fingerprints: bool,
}

impl Options {
    /// The filter in the operator's words, if any (`--stack A --project P`).
    pub fn filter(&self) -> Option<String> {
        let mut parts: Vec<String> = self.plan.iter().map(|p| p.label.clone()).collect();
        parts.extend(self.stacks.iter().map(|s| format!("--stack {s}")));
        if let Some(p) = &self.project {
            parts.push(format!("--project {p}"));
        }
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

/// What a reviewed plan file holds of each tree: root id -> what it was planned from.
#[derive(Clone, Debug, Default)]
pub struct Planned {
    /// How the operator named it (`--plan FILE`), for messages.
    pub label: String,
    pub trees: HashMap<String, PlannedTree>,
}

#[derive(Clone, Debug)]
pub struct PlannedTree {
    pub name: String,
    pub fingerprint: Fingerprint,
    /// [`TreePlan::changes_json`] as planned.
    pub changes: serde_json::Value,
}

impl PlannedTree {
    /// Why `plan`, made now, is not what was reviewed, if it is not.
    fn differs(&self, plan: &TreePlan) -> Option<String> {
        if self.fingerprint.rows != plan.fingerprint.rows {
            Some("its stack, resource or template rows differ".into())
        } else if self.fingerprint.locks != plan.fingerprint.locks {
            Some("Heat's stack locks on it differ".into())
        } else if self.changes != plan.changes_json() {
            Some("its row changes differ".into())
        } else {
            None
        }
    }
}

/// A filter that selects nothing it names: the operator's command is wrong (exit 2).
#[derive(Debug)]
pub struct FilterError(pub String);

impl std::fmt::Display for FilterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FilterError {}

/// What happened to one tree.
#[derive(Clone, Debug)]
pub enum Outcome {
    Converted(apply::Applied),
    /// Dry run: what a real run would change.
    WouldConvert(TreePlan),
    Skipped(Blocker),
}

#[derive(Clone, Debug)]
pub struct TreeReport {
    pub root_id: String,
    pub root_name: String,
    pub project: String,
    pub stacks: usize,
    pub outcome: Outcome,
    /// Things the operator must know about a tree converted as Heat would convert it.
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The run's record in the database (None: a dry run records nothing).
    pub run_id: Option<String>,
    pub dry_run: bool,
    pub migrations_applied: Vec<String>,
    /// Root stacks already on convergence before the run.
    pub convergence_roots: usize,
    /// The trees the run looked at (all legacy trees, or those the filter selected).
    pub trees: Vec<TreeReport>,
    /// The filter, in the operator's words; None: the whole database.
    pub filter: Option<String>,
    /// Legacy trees the filter left out: still legacy after the run.
    pub outside_filter: usize,
    /// Legacy stacks in no convertible tree (always the whole database).
    pub strays: Vec<Stray>,
    /// Set when the run stopped before looking at every tree (e.g. its output was closed).
    pub stopped: Option<String>,
    /// Selected trees the run never reached because it stopped.
    pub not_reached: usize,
    /// How long the run took.
    pub duration: std::time::Duration,
    /// `migrate --plan`: trees of the plan that are no longer live legacy roots (id, name).
    pub plan_gone: Vec<(String, String)>,
}

impl Report {
    pub fn converted(&self) -> usize {
        self.trees
            .iter()
            .filter(|t| matches!(t.outcome, Outcome::Converted(_)))
            .count()
    }
    pub fn would_convert(&self) -> usize {
        self.trees
            .iter()
            .filter(|t| matches!(t.outcome, Outcome::WouldConvert(_)))
            .count()
    }
    pub fn skipped(&self) -> usize {
        self.trees
            .iter()
            .filter(|t| matches!(t.outcome, Outcome::Skipped(_)))
            .count()
    }
    /// Legacy trees the run looked at that are still legacy after it.
    pub fn remaining(&self) -> usize {
        self.trees.len() - self.converted()
    }
    /// Legacy trees and stray legacy stacks left in the whole database after the run (a
    /// dry run: after the real run with the same options).
    pub fn legacy_left_in_database(&self) -> usize {
        let looked_at = if self.dry_run {
            self.skipped()
        } else {
            self.remaining()
        };
        looked_at + self.not_reached + self.outside_filter + self.strays.len()
    }
}

/// Counts of root stacks by engine, from an inventory.
pub fn convergence_roots(inv: &Inventory) -> usize {
    inv.stacks
        .values()
        .filter(|s| s.owner_id.is_none() && s.convergence && !s.backup)
        .count()
}

/// The current UTC time as ISO 8601, for the run record.
pub fn now_utc() -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::now_utc()
        .format(format)
        .unwrap_or_default()
}

/// Trees per batch of reads.
const TREES_PER_BATCH: usize = 200;

/// The trees the filter selects; every stack or project it names must exist, or the
/// command is wrong ([`FilterError`]).
fn select<'f>(
    forest: &'f Forest,
    inv: &Inventory,
    conn: &mut dyn crate::db::Connection,
    opts: &Options,
) -> Result<Vec<&'f Tree>> {
    for id in &opts.stacks {
        let known = match inv.stacks.get(id) {
            Some(s) => Some(s.clone()),
            None => crate::db::read::stack(conn, id)?,
        };
        let wrong = match known {
            None => format!("--stack {id}: Heat's database has no stack with this id"),
            Some(s) if s.deleted => format!("--stack {id}: stack {} was deleted", s.name),
            Some(s) if s.backup => format!(
                "--stack {id}: {} is a backup stack; give the id of its tree's root",
                s.name
            ),
            Some(s) => match &s.owner_id {
                Some(owner) => format!(
                    "--stack {id}: {} is a nested stack (its owner is {owner}); heat-converge converts whole trees: give the id of their root",
                    s.name
                ),
                None => continue,
            },
        };
        return Err(FilterError(wrong).into());
    }
    if let Some(p) = &opts.project {
        if !inv.stacks.values().any(|s| &s.tenant == p) {
            return Err(FilterError(format!(
                "--project {p}: no live stack belongs to this project"
            ))
            .into());
        }
    }
    Ok(forest
        .trees
        .iter()
        .filter(|t| {
            opts.plan
                .as_ref()
                .is_none_or(|p| p.trees.contains_key(&t.root().id))
        })
        .filter(|t| opts.stacks.is_empty() || opts.stacks.contains(&t.root().id))
        .filter(|t| opts.project.as_ref().is_none_or(|p| &t.root().tenant == p))
        .collect())
}

/// What a run tells its caller as it goes.
pub enum Progress<'a> {
    /// The run starts on this many trees.
    Start { trees: usize },
    /// One tree is done (converted, or left alone), in this long.
    Tree(&'a TreeReport, std::time::Duration),
}

/// Runs the conversion. `progress` is told the number of trees, then called once per tree
/// as the run goes; when it fails (its output is gone), the run stops after the tree at
/// hand, ends its record saying why, and reports [`Report::stopped`].
pub fn run(
    db: &mut dyn Database,
    opts: &Options,
    mut progress: impl FnMut(Progress) -> std::io::Result<()>,
) -> Result<Report> {
    let run_started = std::time::Instant::now();
    // Before anything else: refuse a database that is not Heat's, and write nothing.
    crate::db::heat_schema::check(db.conn())?;
    // One writing run at a time, for the whole run (a dry run writes nothing: no lock).
    let _run_lock = if opts.dry_run {
        None
    } else {
        Some(crate::db::take_run_lock(db, !opts.no_wait, &mut |m| {
            let _ = writeln!(std::io::stderr(), "heat-converge: {m}");
        })?)
    };
    let mut report = Report {
        dry_run: opts.dry_run,
        filter: opts.filter(),
        ..Report::default()
    };
    let inv = load::inventory(db.conn())?;
    let forest = tree::forest(&inv);
    let trees = select(&forest, &inv, db.conn(), opts)?;
    report.outside_filter = forest.trees.len() - trees.len();
    report.strays = forest.strays.clone();
    report.convergence_roots = convergence_roots(&inv);
    let (mode, applied) = mode::Mode::begin(db, opts)?;
    report.migrations_applied = applied;
    report.run_id = mode.run_id().map(String::from);
    let conn = db.conn();
    tracing::info!(
        run_id = report.run_id.as_deref().unwrap_or("dry run"),
        trees = trees.len(),
        filter = report.filter.as_deref().unwrap_or("none"),
        "run started"
    );
    if let Err(e) = progress(Progress::Start { trees: trees.len() }) {
        report.stopped = Some(format!(
            "the output could not be written ({e}); stopped before the first tree"
        ));
    }
    'batches: for batch in trees.chunks(TREES_PER_BATCH) {
        if report.stopped.is_some() {
            break;
        }
        let blockers: Vec<Option<Blocker>> = batch
            .iter()
            .map(|t| eligibility::blocker(t, &inv))
            .collect();
        // Only the trees that may convert need their resources and templates read.
        let ready: Vec<&tree::Tree> = batch
            .iter()
            .zip(&blockers)
            .filter(|(_, b)| b.is_none())
            .map(|(t, _)| *t)
            .collect();
        let stack_ids: Vec<String> = ready
            .iter()
            .flat_map(|t| t.stacks.iter().map(|s| s.id.clone()))
            .collect();
        // Current templates, and previous ones (the types of the resources deleted).
        let template_ids: Vec<i64> = ready
            .iter()
            .flat_map(|t| {
                t.stacks
                    .iter()
                    .flat_map(|s| [s.raw_template_id, s.prev_raw_template_id])
                    .flatten()
            })
            .collect();
        let resources = load::resources(conn, &stack_ids)?;
        let templates = load::raw_templates(conn, &template_ids)?;
        for (tree, blocker) in batch.iter().zip(blockers) {
            let started = std::time::Instant::now();
            let mut warnings = Vec::new();
            let outcome = match blocker {
                Some(b) => Outcome::Skipped(b),
                None => match plan::plan_tree(
                    tree,
                    &resources,
                    &templates,
                    &opts.global,
                    opts.key.as_ref(),
                ) {
                    Err(b) => Outcome::Skipped(b),
                    Ok(mut p) => {
                        warnings = p.warnings();
                        // Hashing every row of a tree is only needed to write or check a
                        // plan file: not on every run's path.
                        if opts.fingerprints || opts.plan.is_some() {
                            p.fingerprint = Fingerprint {
                                rows: fingerprint::rows(tree, &resources, &templates),
                                locks: fingerprint::locks(tree, &inv),
                            };
                        }
                        let planned = opts.plan.as_ref().and_then(|pl| pl.trees.get(&p.root_id));
                        match planned.map(|pt| (pt, pt.differs(&p))) {
                            Some((_, Some(detail))) => {
                                Outcome::Skipped(Blocker::ChangedSincePlan { detail })
                            }
                            Some((pt, None)) => {
                                p.must_match = Some(pt.fingerprint.rows.clone());
                                mode.settle(conn, p, &inv)
                            }
                            None => mode.settle(conn, p, &inv),
                        }
                    }
                },
            };
            if let Outcome::Skipped(b) = &outcome {
                mode.record_skip(conn, tree, b)?;
            }
            let root = tree.root();
            let tr = TreeReport {
                root_id: root.id.clone(),
                root_name: root.name.clone(),
                project: root.tenant.clone(),
                stacks: tree.stacks.len(),
                outcome,
                warnings,
            };
            let took = started.elapsed();
            match &tr.outcome {
                Outcome::Skipped(b) => tracing::info!(
                    root = %tr.root_id, name = %tr.root_name, outcome = "left_alone",
                    reason_kind = b.kind(), reason = %b, ms = took.as_millis() as u64, "tree"
                ),
                Outcome::Converted(a) => tracing::info!(
                    root = %tr.root_id, name = %tr.root_name, outcome = "converted",
                    stacks = a.stacks, resources = a.resources_converted,
                    deleted = a.resources_deleted, ms = took.as_millis() as u64, "tree"
                ),
                Outcome::WouldConvert(p) => tracing::info!(
                    root = %tr.root_id, name = %tr.root_name, outcome = "would_convert",
                    stacks = p.stacks.len(), ms = took.as_millis() as u64, "tree"
                ),
            }
            for w in &tr.warnings {
                tracing::warn!(root = %tr.root_id, "{w}");
            }
            let shown = progress(Progress::Tree(&tr, took));
            report.trees.push(tr);
            if let Err(e) = shown {
                report.stopped = Some(format!(
                    "the output could not be written ({e}); stopped after {} of {} trees, each converted or untouched",
                    report.trees.len(),
                    trees.len()
                ));
                break 'batches;
            }
        }
    }
    report.not_reached = trees.len() - report.trees.len();
    report.duration = run_started.elapsed();
    if let Some(pl) = &opts.plan {
        let mut gone: Vec<(String, String)> = pl
            .trees
            .iter()
            .filter(|(id, _)| !trees.iter().any(|t| &t.root().id == *id))
            .map(|(id, t)| (id.clone(), t.name.clone()))
            .collect();
        gone.sort();
        report.plan_gone = gone;
    }
    mode.end(conn, &report)?;
    Ok(report)
}

/// Skipped trees by the kind of reason: (code, label, count), by code.
pub fn skipped_by_kind(report: &Report) -> Vec<(&'static str, &'static str, usize)> {
    let mut counts: std::collections::BTreeMap<&'static str, (&'static str, usize)> =
        Default::default();
    for t in &report.trees {
        if let Outcome::Skipped(b) = &t.outcome {
            counts.entry(b.kind()).or_insert((b.label(), 0)).1 += 1;
        }
    }
    counts
        .into_iter()
        .map(|(code, (label, n))| (code, label, n))
        .collect()
}
