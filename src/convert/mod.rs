//! `heat-converge migrate`: converts every legacy stack tree that can be converted now.
//!
//! A run: apply the tool's own schema migrations (refinery), read the inventory, then per
//! batch of trees read resources and templates, and per tree check the eligibility rule,
//! plan the row changes and write them in one transaction with their history rows. A tree
//! that cannot be converted is left untouched and recorded with its reason, and the run
//! goes on. `--dry-run` does the same reading and planning and writes nothing at all.

pub mod apply;
pub mod eligibility;
pub mod plan;
pub mod tree;

use crate::db::history::{self, RunEnd, RunStart, StackOutcome};
use crate::db::load::{self, Inventory};
use crate::db::Database;
use crate::environment::Registry;
use anyhow::Result;
use eligibility::Blocker;
use plan::TreePlan;
use std::collections::HashMap;

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
    /// Fail at once, instead of waiting, when another run holds the run lock.
    pub no_wait: bool,
}

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
}

#[derive(Clone, Debug, Default)]
pub struct Report {
    pub run_id: String,
    pub dry_run: bool,
    pub migrations_applied: Vec<String>,
    /// Root stacks already on convergence before the run.
    pub convergence_roots: usize,
    pub trees: Vec<TreeReport>,
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
    /// Legacy trees still legacy after the run.
    pub fn remaining(&self) -> usize {
        self.trees.len() - self.converted()
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
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Trees per batch of reads.
const TREES_PER_BATCH: usize = 200;

pub fn run(
    db: &mut dyn Database,
    opts: &Options,
    mut progress: impl FnMut(&TreeReport),
) -> Result<Report> {
    // Before anything else: refuse a database that is not Heat's, and write nothing.
    crate::db::heat_schema::check(db.conn())?;
    // One writing run at a time, for the whole run (a dry run writes nothing: no lock).
    let _run_lock = if opts.dry_run {
        None
    } else {
        Some(crate::db::take_run_lock(db, !opts.no_wait, &mut |m| {
            eprintln!("heat-converge: {m}")
        })?)
    };
    let mut report = Report {
        dry_run: opts.dry_run,
        ..Report::default()
    };
    if !opts.dry_run {
        report.migrations_applied = db.migrate()?;
    }
    let conn = db.conn();
    let inv = load::inventory(conn)?;
    report.convergence_roots = convergence_roots(&inv);
    let trees = tree::legacy_trees(&inv, &opts.stacks, opts.project.as_deref());
    // A UUID like every heat-engine's id: stack_lock.engine_id holds 36 characters.
    let engine_id = uuid::Uuid::new_v4().to_string();
    if !opts.dry_run {
        report.run_id = uuid::Uuid::new_v4().to_string();
        history::start_run(
            conn,
            &RunStart {
                id: &report.run_id,
                started_at: &now_utc(),
                host: &opts.host,
                options: &opts.described,
            },
        )?;
    }
    for batch in trees.chunks(TREES_PER_BATCH) {
        let blockers: Vec<Option<Blocker>> = batch
            .iter()
            .map(|t| eligibility::blocker(t, &inv))
            .collect();
        // Only the trees that may convert need their resources and templates read.
        let ready: Vec<&tree::Tree> = batch
            .iter()
            .zip(&blockers)
            .filter(|(_, b)| b.is_none())
            .map(|(t, _)| t)
            .collect();
        let stack_ids: Vec<String> = ready
            .iter()
            .flat_map(|t| t.stacks.iter().map(|s| s.id.clone()))
            .collect();
        let template_ids: Vec<i64> = ready
            .iter()
            .flat_map(|t| t.stacks.iter().filter_map(|s| s.raw_template_id))
            .collect();
        let resources = load::resources(conn, &stack_ids)?;
        let templates = load::raw_templates(conn, &template_ids)?;
        for (tree, blocker) in batch.iter().zip(blockers) {
            let outcome = match blocker {
                Some(b) => Outcome::Skipped(b),
                None => match plan::plan_tree(tree, &resources, &templates, &opts.global) {
                    Err(b) => Outcome::Skipped(b),
                    Ok(p) if opts.dry_run => Outcome::WouldConvert(p),
                    Ok(p) => match apply::apply(conn, &p, &inv, &engine_id, &report.run_id) {
                        Ok(a) => Outcome::Converted(a),
                        Err(b) => Outcome::Skipped(b),
                    },
                },
            };
            if let (Outcome::Skipped(b), false) = (&outcome, opts.dry_run) {
                record_skip(conn, &report.run_id, tree, b)?;
            }
            let root = tree.root();
            let tr = TreeReport {
                root_id: root.id.clone(),
                root_name: root.name.clone(),
                project: root.tenant.clone(),
                stacks: tree.stacks.len(),
                outcome,
            };
            progress(&tr);
            report.trees.push(tr);
        }
    }
    if !opts.dry_run {
        let stacks_converted = report
            .trees
            .iter()
            .map(|t| match &t.outcome {
                Outcome::Converted(a) => a.stacks as i64,
                _ => 0,
            })
            .sum();
        history::end_run(
            conn,
            &report.run_id,
            &now_utc(),
            &RunEnd {
                stacks_converted,
                trees_converted: report.converted() as i64,
                trees_skipped: report.skipped() as i64,
                trees_remaining: report.remaining() as i64,
            },
        )?;
    }
    Ok(report)
}

/// A skipped tree is recorded against its root, with the reason.
fn record_skip(
    conn: &mut dyn crate::db::Connection,
    run_id: &str,
    tree: &tree::Tree,
    b: &Blocker,
) -> Result<()> {
    let reason = format!("{}: {b}", b.kind());
    history::record_stack(
        conn,
        &StackOutcome {
            run_id,
            stack_id: &tree.root().id,
            root_stack_id: &tree.root().id,
            outcome: "skipped",
            reason: Some(&reason),
            resources_converted: 0,
            resources_deleted: 0,
            templates_deleted: 0,
        },
    )
}

/// Skipped trees by the kind of reason.
pub fn skipped_by_kind(report: &Report) -> Vec<(&'static str, usize)> {
    let mut counts: HashMap<&'static str, usize> = HashMap::new();
    for t in &report.trees {
        if let Outcome::Skipped(b) = &t.outcome {
            *counts.entry(b.kind()).or_default() += 1;
        }
    }
    let mut v: Vec<_> = counts.into_iter().collect();
    v.sort();
    v
}
