//! `heat-converge verify`: proves afterwards that every conversion still holds.
//!
//! For each stack heat-converge converted (its record in `heat_converge_stack`):
//! - still at the traversal the conversion gave it: its rows must equal what a conversion
//!   would write now (Heat's graph recomputed from the stored template: `requires` and
//!   `needed_by` of every active resource, `current_template_id`, no resource outside the
//!   template, no `prev_raw_template_id`), and it must still be on convergence;
//! - moved on (the convergence engine ran a later traversal): it must be `*_COMPLETE` or
//!   busy; a failure since is listed with the failed resources and their reasons;
//! - deleted since: nothing left to check.
//!
//! It also counts the legacy stacks that remain, as `status` does.
//!
//! **At scale.** It reads as a conversion does, in batches, never one query per stack: a
//! cloud converted in minutes is verified in about as long. Verify writes nothing to
//! Heat's database, no index either (see [`crate::db::indexes`] for why), and Heat's
//! PostgreSQL and SQLite schemas do not index `resource.stack_id`, so it never reads
//! resources by stack: with the inventory it learns, in one pass over `resource`, where
//! every row is ([`read::ResourceIds`]), then per batch of [`STACKS_PER_READ`] converted
//! stacks it reads their resource rows by id, then their stack rows, then the current
//! templates of those still at their conversion's traversal, [`STACKS_PER_PLAN`] stacks'
//! at a time (templates are the large part). The stack rows are read after the resource
//! rows: a stack whose stack row still carries the conversion's traversal had it when its
//! resource rows were read, since the convergence engine stores a new traversal before it
//! touches a resource; so rows are only compared for stacks the engine has not touched.

mod invariants;

use crate::convert::plan::{id_list, plan_stack};
use crate::convert::tree;
use crate::db::read::{self, ConvertedStack, ResourceWritten, StackNow, Word};
use crate::db::Connection;
use crate::site::HeatSite;
use anyhow::Result;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// What the operator asked to verify.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Which trees (`--stack`, `--project`; a plan file means nothing here).
    pub selection: crate::convert::Selection,
    /// The cloud's Heat: global environment, plugins, hidden parameters' key, its Python.
    pub site: Arc<HeatSite>,
}

/// What became of one converted stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// At the conversion's traversal, its rows as a conversion writes them now.
    Holds,
    /// The convergence engine ran it since; it is in this state.
    MovedOn { state: String },
    /// Deleted since (by the convergence engine or an operator).
    Deleted,
    /// The convergence engine ran it since and failed: the state, its reason and the
    /// failed resources with theirs.
    FailedSince {
        state: String,
        reason: String,
        resources: Vec<String>,
    },
    /// What was written does not stand: each difference named.
    Broken { differences: Vec<String> },
}

impl Finding {
    pub fn kind(&self) -> &'static str {
        match self {
            Finding::Holds => "holds",
            Finding::MovedOn { .. } => "moved_on",
            Finding::Deleted => "deleted",
            Finding::FailedSince { .. } => "failed_since",
            Finding::Broken { .. } => "does_not_hold",
        }
    }
    /// Whether the stack is as a sound conversion leaves it.
    pub fn sound(&self) -> bool {
        matches!(
            self,
            Finding::Holds | Finding::MovedOn { .. } | Finding::Deleted
        )
    }
}

#[derive(Clone, Debug)]
pub struct StackCheck {
    pub stack_id: String,
    pub name: String,
    pub root_stack_id: String,
    pub run_id: String,
    pub finding: Finding,
}

/// What a verification found. Every check is handed to the caller as it is made (see
/// [`verify`]); only counts and the checks that are not sound are kept, so memory does not
/// grow with the number of stacks that hold.
#[derive(Clone, Debug, Default)]
pub struct Verification {
    /// Converted stacks checked, by [`Finding::kind`].
    pub counts: BTreeMap<&'static str, usize>,
    /// The checks whose stacks are not as a sound conversion leaves them.
    pub not_holding: Vec<StackCheck>,
    /// Legacy trees and stray legacy stacks left in the whole database.
    pub legacy_left: usize,
}

impl Verification {
    /// Converted stacks checked.
    pub fn checked(&self) -> usize {
        self.counts.values().sum()
    }
    /// Converted stacks checked whose finding is of this kind.
    pub fn count(&self, kind: &str) -> usize {
        self.counts.get(kind).copied().unwrap_or_default()
    }
    pub fn failing(&self) -> usize {
        self.not_holding.len()
    }
}

/// Converted stacks whose resource and stack rows are read together.
pub const STACKS_PER_READ: usize = 1000;
/// Converted stacks whose templates are read and checked together.
pub const STACKS_PER_PLAN: usize = 250;

/// Verifies every converted stack the options select, in the order of their ids, and hands
/// each check to `each` as it is made.
pub fn verify(
    conn: &mut dyn Connection,
    opts: &Options,
    each: &mut dyn FnMut(&StackCheck) -> Result<()>,
) -> Result<Verification> {
    let roots = opts
        .selection
        .roots(conn, crate::convert::stack_ref::Deleted::Accepted)?;
    let mut inv = read::inventory_with_resource_ids(conn)?;
    let forest = tree::forest(&inv);
    let mut out = Verification {
        legacy_left: forest.trees.len() + forest.strays.len(),
        ..Verification::default()
    };
    drop(forest);
    let ids = inv.resource_ids.take().unwrap_or_default();
    // For --project, the project of each live root (a deleted one is read by id below);
    // the rest of the inventory is not kept while the converted stacks are checked.
    let live_roots: HashMap<Word, Word> = match opts.selection.project {
        None => HashMap::new(),
        Some(_) => inv
            .stacks
            .values()
            .filter(|s| s.owner_id.is_none())
            .map(|s| (s.id.clone(), s.tenant.clone()))
            .collect(),
    };
    drop(inv);
    // The latest record of each stack (a stack is converted once; a later record wins),
    // in the order the records were written: checked in that order, Heat's rows are read
    // in the order the conversion wrote them (oldest template first), not scattered by
    // stack id (at 100,000 roots on MariaDB, whose buffer pool does not hold the tables,
    // that order made verify three times slower per root than at 10,000).
    let mut latest = read::converted_stacks(conn)?;
    {
        // Records of the same stack side by side (stable: in the order written), all but
        // the last of each dropped: 4 bytes a record, not a map of every stack id.
        let mut order: Vec<u32> = (0..latest.len() as u32).collect();
        order.sort_by(|&a, &b| {
            latest[a as usize]
                .stack_id
                .cmp(&latest[b as usize].stack_id)
        });
        let mut keep = vec![true; latest.len()];
        for pair in order.windows(2) {
            if latest[pair[0] as usize].stack_id == latest[pair[1] as usize].stack_id {
                keep[pair[0] as usize] = false;
            }
        }
        let mut keep = keep.into_iter();
        latest.retain(|_| keep.next().unwrap_or(true));
    }
    // The project of each root, read once and only for --project: a live root is in the
    // inventory, a deleted one is read by id.
    let mut projects: HashMap<String, Option<String>> = HashMap::new();
    let mut selected: Vec<&ConvertedStack> = Vec::new();
    for c in &latest {
        if !roots.is_empty() && !roots.contains(&c.root_stack_id) {
            continue;
        }
        if let Some(p) = &opts.selection.project {
            let root = &c.root_stack_id;
            if !projects.contains_key(root) {
                let tenant = match live_roots.get(root.as_str()) {
                    Some(tenant) => Some(tenant.to_string()),
                    None => read::stack(conn, root)?.map(|s| s.tenant.to_string()),
                };
                projects.insert(root.clone(), tenant);
            }
            if projects.get(root).and_then(Option::as_ref) != Some(p) {
                continue;
            }
        }
        selected.push(c);
    }
    if (!opts.selection.stacks.is_empty() || opts.selection.project.is_some())
        && selected.is_empty()
    {
        return Err(crate::convert::FilterError(
            "the filter selects no stack heat-converge converted".into(),
        )
        .into());
    }
    for batch in selected.chunks(STACKS_PER_READ) {
        let stack_ids: Vec<String> = batch.iter().map(|c| c.stack_id.clone()).collect();
        // Resource rows first, then stack rows (see the module's doc).
        let mut resources = ids.resources_written(conn, &stack_ids)?;
        let mut now = read::stacks_now(conn, &stack_ids)?;
        for part in batch.chunks(STACKS_PER_PLAN) {
            let template_ids: Vec<i64> = part
                .iter()
                .filter_map(|c| now.get(&c.stack_id).filter(|n| compares_rows(c, n)))
                .filter_map(|n| n.row.raw_template_id)
                .collect();
            let templates = read::raw_templates(conn, &template_ids)?;
            for c in part {
                let written = resources.remove(&c.stack_id).unwrap_or_default();
                let (name, finding) = match now.remove(&c.stack_id) {
                    None => (String::new(), Finding::Deleted),
                    Some(n) => {
                        let finding = check(c, &n, &written, &templates, opts);
                        (n.row.name, finding)
                    }
                };
                let check = StackCheck {
                    stack_id: c.stack_id.clone(),
                    name,
                    root_stack_id: c.root_stack_id.clone(),
                    run_id: c.run_id.to_string(),
                    finding,
                };
                each(&check)?;
                *out.counts.entry(check.finding.kind()).or_default() += 1;
                if !check.finding.sound() {
                    out.not_holding.push(check);
                }
            }
        }
    }
    Ok(out)
}

/// Whether a converted stack's rows are compared with what a conversion writes now (and
/// its template is needed): it is still there, at its conversion's traversal.
fn compares_rows(c: &ConvertedStack, now: &StackNow) -> bool {
    !now.row.deleted && !moved_on(c, now)
}

/// Whether the convergence engine ran a later traversal of the stack.
fn moved_on(c: &ConvertedStack, now: &StackNow) -> bool {
    c.traversal.is_some() && now.current_traversal != c.traversal
}

fn check(
    c: &ConvertedStack,
    now: &StackNow,
    written: &[ResourceWritten],
    templates: &HashMap<i64, Result<read::RawTemplateRow, String>>,
    opts: &Options,
) -> Finding {
    let s = &now.row;
    if s.deleted {
        return Finding::Deleted;
    }
    let state = format!("{}_{}", s.action, s.status);
    let mut differences = Vec::new();
    if !s.convergence {
        differences.push("stack.convergence is false again: the legacy engine would run it".into());
    }
    if moved_on(c, now) {
        if !differences.is_empty() {
            return Finding::Broken { differences };
        }
        if &*s.status == "FAILED" {
            // Its rows as the pass at the start of the run found them: a stack failing
            // while verify runs may have rows newer than that.
            let resources = written
                .iter()
                .filter(|r| r.row.status == "FAILED")
                .map(|r| {
                    format!(
                        "{} {}_{}: {}",
                        r.row.name,
                        r.row.action,
                        r.row.status,
                        r.status_reason.as_deref().unwrap_or_default()
                    )
                })
                .collect();
            return Finding::FailedSince {
                state,
                reason: now.status_reason.clone().unwrap_or_default(),
                resources,
            };
        }
        return Finding::MovedOn { state };
    }
    // At the conversion's traversal: the rows must be what a conversion writes now.
    if let Some(prev) = s.prev_raw_template_id {
        differences.push(format!(
            "stack.prev_raw_template_id is {prev}: a converted stack keeps no previous template"
        ));
    }
    differences.extend(compare_rows(s, written, templates, opts));
    // Checked again without the planner: a planner bug would pass the comparison above.
    for broken in invariants::broken(now, written)
        .into_iter()
        .chain(invariants::against_heat(&opts.site, now, written))
    {
        if !differences.contains(&broken) {
            differences.push(broken);
        }
    }
    if differences.is_empty() {
        Finding::Holds
    } else {
        Finding::Broken { differences }
    }
}

/// The differences between the stored resource rows and what a conversion writes now.
fn compare_rows(
    s: &read::StackRow,
    written: &[ResourceWritten],
    templates: &HashMap<i64, Result<read::RawTemplateRow, String>>,
    opts: &Options,
) -> Vec<String> {
    let mut differences = Vec::new();
    let Some(tid) = s.raw_template_id else {
        return vec!["stack.raw_template_id is NULL".into()];
    };
    let rows: Vec<read::ResourceRow> = written.iter().map(|w| w.row.clone()).collect();
    let expected = match plan_stack(s, &rows, templates, &opts.site) {
        Ok(p) => p,
        Err(b) => return vec![format!("Heat's graph cannot be computed now: {b}")],
    };
    for d in &expected.deletes {
        differences.push(format!(
            "resource {} (row {}) is not in the stack's template but still has a row",
            d.name, d.id
        ));
    }
    let by_id: HashMap<i64, &ResourceWritten> = written.iter().map(|w| (w.row.id, w)).collect();
    for want in &expected.converts {
        let Some(have) = by_id.get(&want.id) else {
            continue;
        };
        let name = &want.name;
        if have.current_template_id != Some(tid) {
            differences.push(format!(
                "resource {name}: current_template_id is {}, expected {tid}",
                have.current_template_id
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "NULL".into())
            ));
        }
        for (column, stored, ids) in [
            ("requires", &have.requires, &want.requires),
            ("needed_by", &have.needed_by, &want.needed_by),
        ] {
            let Some(mut stored_ids) = parse_ids(stored.as_deref()) else {
                differences.push(format!(
                    "resource {name}: {column} is not a JSON list of ids: {}",
                    stored.as_deref().unwrap_or_default()
                ));
                continue;
            };
            let mut expected_ids = ids.clone();
            stored_ids.sort_unstable();
            expected_ids.sort_unstable();
            if stored_ids != expected_ids {
                differences.push(format!(
                    "resource {name}: {column} is {}, Heat's graph gives {}",
                    stored.as_deref().unwrap_or("NULL"),
                    id_list(ids)
                ));
            }
        }
    }
    differences
}

/// The ids of a stored `requires`/`needed_by` (a JSON list; NULL: none); None when the
/// text is no list of ids.
pub(super) fn parse_ids(text: Option<&str>) -> Option<Vec<i64>> {
    match text {
        None => Some(Vec::new()),
        Some(t) => serde_json::from_str::<Vec<i64>>(t).ok(),
    }
}
