//! What a run says at the end: a summary table for people, JSON for pipelines, and the
//! exit code that tells them apart.
//!
//! Exit codes (documented in the README):
//! - 0: no legacy stack tree remains (all converted, or there were none);
//! - 3: legacy stacks remain (busy, failed, locked, outside the filter, stray): fix or
//!   wait, then run again;
//! - 1: error: the run could not do its job (nothing half-written: trees are atomic);
//! - 2: usage error (bad options, or a `--stack`/`--project` that selects nothing it names).
//!
//! 0 and 3 always describe the whole database, whatever was filtered: legacy trees outside
//! `--stack`/`--project` and stray legacy stacks (in no convertible tree) keep it at 3.
//!
//! Every value from the database (names, ids, physical ids, hosts, reasons and warnings
//! built from them) goes into the text through [`escape::text`], so that no name can
//! forge a line or reach the terminal as a control sequence; JSON holds the exact values.

pub use crate::escape;

/// The tree lines a command keeps for its summary, from those the run hands on: every
/// one (a plan file, `--list`), or only those the summary names (left alone, warned
/// about), so that a run's memory does not grow with the number of trees converted.
#[derive(Debug, Default)]
pub struct Kept {
    pub all: bool,
    pub trees: Vec<TreeReport>,
}

impl Kept {
    pub fn every_tree(all: bool) -> Kept {
        Kept {
            all,
            trees: Vec::new(),
        }
    }

    /// Keeps `t` if the command needs it.
    pub fn offer(&mut self, t: &TreeReport) {
        if self.all || matches!(t.outcome, Outcome::Skipped(_)) || !t.warnings.is_empty() {
            self.trees.push(t.clone());
        }
    }
}
mod history;
mod run_json;
mod spool;
mod status;
mod summary;
mod verify;

pub use history::{history_json, history_text, run_detail_json, run_detail_text};
pub use run_json::{to_json, tree_json};
pub use spool::TreeSpool;
pub use status::status_text;
pub use summary::summary;
pub use verify::{verify_exit_code, verify_json, verify_stack_json, verify_text};

use crate::convert::plan::{Changes, ResourceDeletion, NOT_IN_TEMPLATE};
use crate::convert::tree::Stray;
use crate::convert::{skipped_by_kind, Outcome, Report, TreeReport};
use escape::text as esc;
use serde_json::json;
use std::fmt::Write as _;

pub const EXIT_ALL_CONVERTED: u8 = 0;
/// How many trees of each reason the summary names.
pub(crate) const FIRST_TREES: usize = 3;
pub const EXIT_ERROR: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_LEGACY_REMAIN: u8 = 3;
/// `verify`: a converted stack does not hold.
pub const EXIT_NOT_HOLDING: u8 = 4;

pub fn exit_code(report: &Report) -> u8 {
    if report.stopped.is_some() {
        EXIT_ERROR
    } else if report.legacy_left_in_database() == 0 {
        EXIT_ALL_CONVERTED
    } else {
        EXIT_LEGACY_REMAIN
    }
}

/// `n` and the noun, in the singular for one.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What a tree's conversion changes, in words.
pub(crate) fn counts(stacks: usize, converted: usize, deleted: usize, templates: usize) -> String {
    format!(
        "{}, {}, {} deleted, {} deleted",
        plural(stacks, "stack", "stacks"),
        plural(converted, "resource", "resources"),
        plural(deleted, "resource", "resources"),
        plural(templates, "template", "templates"),
    )
}

/// One line per tree, as the run goes.
pub fn tree_line(t: &TreeReport) -> String {
    let who = format!("{} ({})", esc(&t.root_name), esc(&t.root_id));
    let mut line = match &t.outcome {
        Outcome::Converted(c) => {
            changes_line(&format!("converted      {who}"), "deleted", c, false)
        }
        Outcome::WouldConvert(c) => {
            changes_line(&format!("would convert  {who}"), "delete", c, true)
        }
        Outcome::Skipped(b) => format!(
            "left alone     {who}: {}: {}",
            b.label(),
            esc(&b.to_string())
        ),
    };
    for w in &t.warnings {
        line.push_str("\n  warning: ");
        line.push_str(&esc(w));
    }
    line
}

/// A tree's changes under its first words: the counts, then each row deleted (and, for a
/// dry run, each previous template to delete).
pub(crate) fn changes_line(head: &str, verb: &str, c: &Changes, templates: bool) -> String {
    let mut s = format!(
        "{head}: {}",
        counts(
            c.stacks,
            c.resources_converted,
            c.resources_deleted,
            c.templates_deleted
        )
    );
    for (stack, d) in &c.deleted {
        let _ = write!(
            s,
            "\n                 {verb} resource {}",
            deletion(stack, d)
        );
    }
    if templates {
        for (stack, t) in &c.templates {
            let _ = write!(
                s,
                "\n                 {verb} previous template {t} of stack {}",
                esc(stack)
            );
        }
    }
    s
}

/// A deleted resource row as an operator checks it: name, type, physical id, stack.
pub(crate) fn deletion(stack: &str, d: &ResourceDeletion) -> String {
    format!(
        "{} (row {}, type {}, physical id {}, {}_{}) of stack {}: {}",
        esc(&d.name),
        d.id,
        esc(d.type_name.as_deref().unwrap_or("unknown")),
        esc(d.physical_id.as_deref().unwrap_or("none")),
        esc(&d.action),
        esc(&d.status),
        esc(stack),
        NOT_IN_TEMPLATE
    )
}

pub(crate) fn deletion_json(stack: &str, d: &ResourceDeletion) -> serde_json::Value {
    let mut v = d.to_json();
    v["stack"] = json!(stack);
    v
}

/// One line per stray legacy stack.
pub fn stray_line(s: &Stray) -> String {
    format!(
        "stray legacy   {} ({}): {}: {}",
        esc(&s.stack.name),
        esc(&s.stack.id),
        s.reason.label(),
        esc(&s.reason.to_string())
    )
}
