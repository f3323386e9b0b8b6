//! What a run comes to: each tree's outcome (converted, would convert, left alone with
//! its reason), the run's report (counts, the trees kept for the summary, where the time
//! went, why it stopped), and the error a run that failed midway carries. The engine
//! fills them in `convert`; the report modules print them.

use super::eligibility::Blocker;
use super::fingerprint::Fingerprint;
use super::tree::Stray;
use super::{apply, plan};

/// What happened to one tree.
#[derive(Clone, Debug)]
pub enum Outcome {
    Converted(plan::Changes),
    /// Dry run: what a real run would change.
    WouldConvert(plan::Changes),
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
    /// For a plan file (see [`Options::fingerprints`]): the tree's fingerprints and every
    /// row change, as [`TreePlan::changes_json`] gives them.
    pub reviewed: Option<Box<ReviewedTree>>,
}

/// Where a run's time went.
#[derive(Clone, Debug, Default)]
pub struct Phases {
    /// Reading the stacks, locks and engines of the whole cloud.
    pub inventory: std::time::Duration,
    /// Reading resources and templates.
    pub reading: std::time::Duration,
    /// Heat's semantics: templates, graphs, row changes.
    pub planning: std::time::Duration,
    /// Writing the row changes and records (a dry run: nothing).
    pub writing: std::time::Duration,
}

/// One tree as a plan file records it for review, and as `migrate --plan` reads it back:
/// its root's name, the fingerprints of the rows it was planned from, its row changes
/// ([`super::plan::TreePlan::changes_json`]).
#[derive(Clone, Debug)]
pub struct ReviewedTree {
    pub name: String,
    pub fingerprint: Fingerprint,
    pub changes: serde_json::Value,
}

/// A run's counts, kept for every tree whether or not its line is kept.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    /// Legacy trees the run looked at.
    pub trees: usize,
    pub converted: usize,
    pub would_convert: usize,
    pub skipped: usize,
    /// Trees left alone by the kind of reason: code -> (label, count).
    pub skipped_by_kind: std::collections::BTreeMap<&'static str, (&'static str, usize)>,
    pub stacks_converted: usize,
    /// Resource rows and previous templates deleted (a dry run: to delete).
    pub resources_deleted: usize,
    pub templates_deleted: usize,
}

impl Tally {
    pub(super) fn add(&mut self, outcome: &Outcome) {
        self.trees += 1;
        match outcome {
            Outcome::Converted(c) => {
                self.converted += 1;
                self.stacks_converted += c.stacks;
                self.resources_deleted += c.resources_deleted;
                self.templates_deleted += c.templates_deleted;
            }
            Outcome::WouldConvert(c) => {
                self.would_convert += 1;
                self.resources_deleted += c.resources_deleted;
                self.templates_deleted += c.templates_deleted;
            }
            Outcome::Skipped(b) => {
                self.skipped += 1;
                self.skipped_by_kind
                    .entry(b.kind())
                    .or_insert((b.label(), 0))
                    .1 += 1;
            }
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The run's record in the database (None: a dry run records nothing).
    pub run_id: Option<String>,
    pub dry_run: bool,
    pub migrations_applied: Vec<String>,
    /// Root stacks already on convergence before the run.
    pub convergence_roots: usize,
    /// The counts of the trees the run looked at (all legacy trees, or those the filter
    /// selected).
    pub tally: Tally,
    /// Their lines, as the command kept them from the trees the run handed on (see
    /// [`crate::report::Kept`]); the engine keeps none.
    pub trees: Vec<TreeReport>,
    /// What writing went through (transient failures tried again, batches split).
    pub retries: apply::Retries,
    /// The temporary indexes the run created on Heat's tables (and dropped at its end).
    pub indexes: Vec<String>,
    /// Heat's tables the run gathered planner statistics on, since they had none.
    pub statistics: Vec<String>,
    /// Those another session's lock kept it from dropping, with why.
    pub indexes_left: Vec<String>,
    /// Where the time went (logged at `-v`).
    pub phases: Phases,
    /// The filter, in the operator's words; None: the whole database.
    pub filter: Option<String>,
    /// Legacy trees the filter left out: still legacy after the run.
    pub outside_filter: usize,
    /// Of those, the ones the eligibility rule leaves alone now anyway (busy, failed...),
    /// by reason (label -> count): running without the filter would not convert them.
    pub outside_left_alone: std::collections::BTreeMap<&'static str, usize>,
    /// The filter is a plan file (`migrate --plan`).
    pub by_plan: bool,
    /// Legacy stacks in no convertible tree (always the whole database).
    pub strays: Vec<Stray>,
    /// Set when the run stopped before looking at every tree (e.g. its output was closed).
    pub stopped: Option<String>,
    /// The signal that stopped it (SIGTERM, SIGINT, SIGHUP), when one did.
    pub signal: Option<&'static str>,
    /// Whether a refusal of the database's that every tree would meet stopped it (see
    /// [`crate::db::preflight::refusal`]): the report is printed, the exit code is 1.
    pub stopped_by_database: bool,
    /// Selected trees the run never reached because it stopped.
    pub not_reached: usize,
    /// How long the run took.
    pub duration: std::time::Duration,
    /// `migrate --plan`: trees of the plan that are no longer live legacy roots (id, name).
    pub plan_gone: Vec<(String, String)>,
    /// The third-party plugin types the trees read use, and how their graphs are computed.
    pub plugin_types: Vec<crate::site::TypeInUse>,
}

impl Report {
    pub fn converted(&self) -> usize {
        self.tally.converted
    }
    pub fn would_convert(&self) -> usize {
        self.tally.would_convert
    }
    pub fn skipped(&self) -> usize {
        self.tally.skipped
    }
    /// Legacy trees the run looked at that are still legacy after it.
    pub fn remaining(&self) -> usize {
        self.tally.trees - self.converted()
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

/// A run that failed after it started converting: what it had done by then (each tree
/// converted whole, or untouched), carried by the error for the summary and the JSON.
#[derive(Clone, Debug)]
pub struct RunFailed {
    pub run_id: Option<String>,
    pub trees: usize,
    pub converted: usize,
    pub left_alone: usize,
}

impl std::fmt::Display for RunFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the run stopped after {} of {} trees: {} converted (each whole), {} left alone, the rest untouched; run again once the cause is fixed",
            self.converted + self.left_alone,
            self.trees,
            self.converted,
            self.left_alone
        )
    }
}

/// Skipped trees by the kind of reason: (code, label, count), by code.
pub fn skipped_by_kind(report: &Report) -> Vec<(&'static str, &'static str, usize)> {
    report
        .tally
        .skipped_by_kind
        .iter()
        .map(|(code, (label, n))| (*code, *label, *n))
        .collect()
}
