//! Galera's limits on one transaction, met before writing rather than at commit.
//!
//! A Galera cluster replicates each transaction as one write-set and refuses to commit a
//! write-set of more than `wsrep_max_ws_rows` rows or `wsrep_max_ws_size` bytes. A tree is
//! converted in one transaction, all of it or nothing, so a tree whose conversion is
//! larger than the cluster allows can never be converted there as the cluster is set: it
//! is left alone before anything is written, naming the limit and the setting to raise.
//! The other trees are written in transactions cut to stay under the limits (a batch of a
//! thousand small trees can be over a limit that each of them is well under).
//!
//! What a conversion writes is known from its plan: rows exactly (but for `resource_data`,
//! counted as one row per deleted resource), bytes estimated from each table's average
//! row length as the server reports it, an update counted twice (Galera replicates the
//! row's image before and after it). Transactions are cut at nine tenths of a limit, so an
//! estimate that is somewhat low still fits; one that is far off makes the commit fail,
//! and the batch is then written in halves as after any refusal.

use super::eligibility::Blocker;
use super::plan::TreePlan;
use crate::db::history::StackOutcome;
use crate::db::WriteSetLimits;

/// The size of a write-set: rows and (estimated) bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteSet {
    pub rows: u64,
    pub bytes: u64,
}

impl std::ops::AddAssign for WriteSet {
    fn add_assign(&mut self, o: WriteSet) {
        self.rows += o.rows;
        self.bytes += o.bytes;
    }
}

/// A row's bytes in a write-set when the server knows no better (a table of a few rows):
/// generous, since Galera counts each row's whole image and its keys, and an estimate
/// below the cluster's own count only fails at commit.
const ROW_BYTES: u64 = 2048;

/// The write-set of converting `plan` (with its history rows).
pub fn of(plan: &TreePlan, limits: &WriteSetLimits) -> WriteSet {
    let bytes = |table: &str| limits.row_bytes.get(table).copied().unwrap_or(ROW_BYTES);
    let mut ws = WriteSet::default();
    let mut add = |table: &str, rows: u64, images: u64| {
        ws.rows += rows;
        ws.bytes += rows * images * bytes(table);
    };
    for sp in &plan.stacks {
        add("stack", 1, 2);
        // Heat's lock, inserted and deleted in the transaction; the run's record of it.
        add("stack_lock", 2, 1);
        add("heat_converge_stack", 1, 1);
        add("resource", sp.converts.len() as u64, 2);
        let deleted = sp.deletes.len() as u64;
        add("resource", deleted, 1);
        add("resource_data", deleted, 1);
        add(
            "resource_properties_data",
            sp.deletes
                .iter()
                .filter(|d| d.attr_data_id.is_some())
                .count() as u64,
            1,
        );
        add("heat_converge_deleted", deleted, 1);
        if sp.stack.prev_raw_template_id.is_some() {
            // The template, perhaps its files row, and their audit rows.
            add("raw_template", 1, 1);
            add("raw_template_files", 1, 1);
            add("heat_converge_deleted", 2, 1);
        }
    }
    ws
}

/// Why `ws` can never be written in one transaction under `limits`, if it cannot.
pub fn too_large(ws: WriteSet, limits: &WriteSetLimits) -> Option<Blocker> {
    let over = |limit: Option<u64>, size: u64| limit.is_some_and(|l| size > l);
    let (what, setting, size, limit) = if over(limits.max_rows, ws.rows) {
        ("rows", "wsrep_max_ws_rows", ws.rows, limits.max_rows?)
    } else if over(limits.max_bytes, ws.bytes) {
        (
            "bytes (estimated)",
            "wsrep_max_ws_size",
            ws.bytes,
            limits.max_bytes?,
        )
    } else {
        return None;
    };
    Some(Blocker::WriteSetTooLarge {
        detail: format!(
            "its conversion is one transaction of about {size} {what}, and this Galera cluster \
             refuses a write-set over {setting} = {limit}: raise {setting} on every node \
             (SET GLOBAL {setting} = {}, and in the server's configuration), then run again; \
             nothing of the tree was written",
            if setting == "wsrep_max_ws_rows" {
                "0 for no limit, or more than the tree's rows".to_string()
            } else {
                "up to 2147483647".to_string()
            }
        ),
    })
}

/// The plans cut into transactions that each stay under nine tenths of the limits, in
/// their order; a plan that is over a limit on its own is left out, with its reason.
pub fn cut<'p>(
    plans: &[&'p TreePlan],
    limits: &WriteSetLimits,
) -> (Vec<Vec<&'p TreePlan>>, Vec<(&'p TreePlan, Blocker)>) {
    let budget = |limit: Option<u64>| limit.map(|l| l - l / 10);
    let (rows, bytes) = (budget(limits.max_rows), budget(limits.max_bytes));
    let fits =
        |ws: WriteSet| rows.is_none_or(|r| ws.rows <= r) && bytes.is_none_or(|b| ws.bytes <= b);
    let mut groups: Vec<Vec<&TreePlan>> = Vec::new();
    let mut refused = Vec::new();
    let mut current: Vec<&TreePlan> = Vec::new();
    let mut size = WriteSet::default();
    for &p in plans {
        let ws = of(p, limits);
        if let Some(b) = too_large(ws, limits) {
            refused.push((p, b));
            continue;
        }
        let mut with = size;
        with += ws;
        if !current.is_empty() && !fits(with) {
            groups.push(std::mem::take(&mut current));
            size = WriteSet::default();
        }
        current.push(p);
        size += ws;
    }
    if !current.is_empty() {
        groups.push(current);
    }
    (groups, refused)
}

/// The records of trees left alone (one row each, with its reason) cut into transactions
/// that each stay under nine tenths of the limits.
pub fn cut_records<'r, 'a>(
    records: &'r [StackOutcome<'a>],
    limits: &WriteSetLimits,
) -> Vec<&'r [StackOutcome<'a>]> {
    let budget = |limit: Option<u64>| limit.map(|l| l - l / 10);
    let (rows, bytes) = (budget(limits.max_rows), budget(limits.max_bytes));
    let weight = |r: &StackOutcome| ROW_BYTES + r.reason.map_or(0, |t| t.len() as u64);
    let mut out = Vec::new();
    let (mut start, mut size) = (0, WriteSet::default());
    for (i, r) in records.iter().enumerate() {
        let one = WriteSet {
            rows: 1,
            bytes: weight(r),
        };
        let over = rows.is_some_and(|l| size.rows + 1 > l)
            || bytes.is_some_and(|l| size.bytes + one.bytes > l);
        if i > start && over {
            out.push(&records[start..i]);
            (start, size) = (i, WriteSet::default());
        }
        size += one;
    }
    if start < records.len() {
        out.push(&records[start..]);
    }
    out
}
