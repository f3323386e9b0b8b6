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
    let mut fitting: Vec<(&TreePlan, WriteSet)> = Vec::with_capacity(plans.len());
    let mut refused = Vec::new();
    for &p in plans {
        let ws = of(p, limits);
        match too_large(ws, limits) {
            Some(b) => refused.push((p, b)),
            None => fitting.push((p, ws)),
        }
    }
    let groups = pack(&fitting, |(_, ws)| *ws, limits)
        .into_iter()
        .map(|group| group.iter().map(|(p, _)| *p).collect())
        .collect();
    (groups, refused)
}

/// The records of trees left alone (one row each, with its reason) cut into transactions
/// that each stay under nine tenths of the limits.
pub fn cut_records<'r, 'a>(
    records: &'r [StackOutcome<'a>],
    limits: &WriteSetLimits,
) -> Vec<&'r [StackOutcome<'a>]> {
    let weight = |r: &StackOutcome| WriteSet {
        rows: 1,
        bytes: ROW_BYTES + r.reason.map_or(0, |t| t.len() as u64),
    };
    pack(records, weight, limits)
}

/// `items` cut, in their order, into runs whose write-sets add up to at most nine tenths
/// of each limit (an item alone over them is a run of its own).
fn pack<'i, T>(
    items: &'i [T],
    size: impl Fn(&T) -> WriteSet,
    limits: &WriteSetLimits,
) -> Vec<&'i [T]> {
    let budget = |limit: Option<u64>| limit.map(|l| l - l / 10);
    let (rows, bytes) = (budget(limits.max_rows), budget(limits.max_bytes));
    let fits =
        |ws: WriteSet| rows.is_none_or(|r| ws.rows <= r) && bytes.is_none_or(|b| ws.bytes <= b);
    let mut runs = Vec::new();
    let (mut start, mut total) = (0, WriteSet::default());
    for (i, item) in items.iter().enumerate() {
        let mut with = total;
        with += size(item);
        if i > start && !fits(with) {
            runs.push(&items[start..i]);
            (start, with) = (i, size(item));
        }
        total = with;
    }
    if start < items.len() {
        runs.push(&items[start..]);
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_stay_under_nine_tenths_of_each_limit_in_order() {
        let limits = WriteSetLimits {
            max_rows: Some(10),
            max_bytes: Some(1000),
            ..WriteSetLimits::default()
        };
        // (rows, bytes): the budget is 9 rows and 900 bytes.
        let items = [(4, 100), (4, 100), (2, 100), (1, 850), (20, 1), (1, 1)];
        let runs = pack(&items, |&(rows, bytes)| WriteSet { rows, bytes }, &limits);
        let runs: Vec<&[(u64, u64)]> = runs.into_iter().collect();
        assert_eq!(
            runs,
            [
                &items[0..2], // 8 rows; a third would make 10
                &items[2..3], // 100 bytes; 850 more would be 950
                &items[3..4],
                &items[4..5], // over the limit alone: a run of its own
                &items[5..6],
            ]
        );
    }
}
