//! Stack trees: a root stack and every live, non-backup stack reachable through
//! `owner_id`, as Heat's `stack_get_all_by_root_owner_id` walks them. A tree is the unit
//! of conversion: all of it or none of it.
//!
//! Legacy stacks that belong to no convertible tree (a nested stack whose owner row is
//! gone, an owner cycle, a legacy stack nested under a convergence root) are *strays*:
//! they are never converted (that would convert part of a tree), but they are legacy
//! stacks all the same, so they are listed with their reason and keep the exit code at 3.

use crate::db::read::Inventory;
use crate::db::read::StackRow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct Tree {
    /// The root first, then its nested stacks, parents before children (boxed slices,
    /// not vectors: a cloud's trees are all held, 100,000 of them at 100,000 roots).
    pub stacks: Box<[Arc<StackRow>]>,
    /// Live backup stacks found under the tree (the legacy engine's leftovers).
    pub live_backups: Box<[Arc<StackRow>]>,
}

impl Tree {
    pub fn root(&self) -> &StackRow {
        &self.stacks[0]
    }

    /// Where the tree's rows lie, roughly: its oldest template id. Heat stores a stack's
    /// template just before the stack and its resources, and every one of those tables
    /// numbers (or appends) its rows in that order, so trees taken in this order touch
    /// neighbouring pages of `resource`, `stack` and `raw_template`.
    fn rows_at(&self) -> Option<i64> {
        self.stacks
            .iter()
            .flat_map(|s| [s.raw_template_id, s.prev_raw_template_id])
            .flatten()
            .min()
    }
}

/// Why a legacy stack belongs to no tree heat-converge can convert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StrayReason {
    /// `owner_id` names a stack that is not live (deleted, or no row at all).
    Orphan { owner: String },
    /// Following `owner_id` comes back to a stack already seen.
    OwnerCycle { members: Vec<String> },
    /// Its root runs on the convergence engine: Heat would never convert it.
    UnderConvergenceRoot { root: String },
    /// Its root is a backup stack (the legacy engine's copy), never a unit of its own.
    UnderBackupRoot { root: String },
}

impl StrayReason {
    /// A stable `snake_case` code, for JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            StrayReason::Orphan { .. } => "orphan",
            StrayReason::OwnerCycle { .. } => "owner_cycle",
            StrayReason::UnderConvergenceRoot { .. } => "under_convergence_root",
            StrayReason::UnderBackupRoot { .. } => "under_backup_root",
        }
    }

    /// The same in words, for people.
    pub fn label(&self) -> &'static str {
        match self {
            StrayReason::Orphan { .. } => "orphan",
            StrayReason::OwnerCycle { .. } => "owner cycle",
            StrayReason::UnderConvergenceRoot { .. } => "under a convergence root",
            StrayReason::UnderBackupRoot { .. } => "under a backup root",
        }
    }
}

impl fmt::Display for StrayReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StrayReason::Orphan { owner } => write!(
                f,
                "its owner stack {owner} is not a live stack (deleted or missing), so no root reaches it"
            ),
            StrayReason::OwnerCycle { members } => write!(
                f,
                "its owner_id chain is a cycle ({}), so it has no root",
                members.join(" -> ")
            ),
            StrayReason::UnderConvergenceRoot { root } => write!(
                f,
                "it is nested under {root}, which runs on the convergence engine; Heat converts only whole trees from their root"
            ),
            StrayReason::UnderBackupRoot { root } => {
                write!(f, "it is nested under backup stack {root}, which has no owner")
            }
        }
    }
}

/// A legacy stack outside every convertible tree.
#[derive(Clone, Debug)]
pub struct Stray {
    pub stack: StackRow,
    pub reason: StrayReason,
}

/// Every legacy tree of the database and every stray legacy stack.
#[derive(Clone, Debug, Default)]
pub struct Forest {
    /// All legacy trees, unfiltered, in the order their rows lie in the database (see
    /// [`forest`]).
    pub trees: Vec<Tree>,
    pub strays: Vec<Stray>,
}

fn label(s: &StackRow) -> String {
    format!("{} ({})", s.name, s.id)
}

/// The legacy trees and stray legacy stacks of the inventory.
///
/// The trees come in the order their rows were written (oldest template first, then by
/// root id), not by root id: a batch of a thousand trees in id order, ids being random
/// UUIDs, touches pages spread over the whole of `resource`, and each page is read and
/// written again by every batch (on SQLite at 100,000 roots twelve times the writes of
/// the same changes in row order).
pub fn forest(inv: &Inventory) -> Forest {
    let mut children: HashMap<&str, Vec<&Arc<StackRow>>> = HashMap::new();
    for s in inv.stacks.values() {
        if let Some(owner) = &s.owner_id {
            children.entry(&**owner).or_default().push(s);
        }
    }
    let mut trees: Vec<Tree> = inv
        .stacks
        .values()
        .filter(|s| s.owner_id.is_none() && !s.convergence && !s.backup)
        .map(|root| walk(root, &children))
        .collect();
    // A tree with no template id at all (it cannot convert) goes last; ties in root id
    // order. Sorted in place: a stable sort's scratch copy of every tree was the peak of
    // a 100,000-root run's memory.
    trees.sort_unstable_by(|a, b| {
        let key = |t: &Tree| (t.rows_at().is_none(), t.rows_at());
        key(a)
            .cmp(&key(b))
            .then_with(|| a.root().id.cmp(&b.root().id))
    });
    let strays = inv
        .stacks
        .values()
        .filter(|s| !s.convergence && s.owner_id.is_some())
        .filter_map(|s| {
            stray_reason(s, inv).map(|reason| Stray {
                stack: StackRow::clone(s),
                reason,
            })
        })
        .collect();
    Forest { trees, strays }
}

/// The tree under `root`: its non-backup descendants, and the live backups met on the way.
fn walk(root: &Arc<StackRow>, children: &HashMap<&str, Vec<&Arc<StackRow>>>) -> Tree {
    let mut stacks = vec![Arc::clone(root)];
    let mut live_backups = Vec::new();
    let mut seen: HashSet<&str> = HashSet::from([&*root.id]);
    let mut i = 0;
    while i < stacks.len() {
        let id = Arc::clone(&stacks[i]);
        for c in children.get(&*id.id).into_iter().flatten() {
            if !seen.insert(&c.id) {
                continue;
            }
            if c.backup {
                live_backups.push(Arc::clone(c));
            } else {
                stacks.push(Arc::clone(c));
            }
        }
        i += 1;
    }
    Tree {
        stacks: stacks.into_boxed_slice(),
        live_backups: live_backups.into_boxed_slice(),
    }
}

/// Why a nested legacy stack reaches no legacy root, if it does not: follows `owner_id`
/// up to the root.
fn stray_reason(stack: &StackRow, inv: &Inventory) -> Option<StrayReason> {
    let mut seen: Vec<&str> = vec![stack.id.as_ref()];
    let mut current = stack;
    while let Some(owner) = &current.owner_id {
        let Some(next) = inv.stacks.get(owner) else {
            return Some(StrayReason::Orphan {
                owner: owner.to_string(),
            });
        };
        if let Some(at) = seen.iter().position(|id| *id == &*next.id) {
            let mut members: Vec<String> = seen[at..].iter().map(|s| s.to_string()).collect();
            members.push(next.id.to_string());
            return Some(StrayReason::OwnerCycle { members });
        }
        seen.push(next.id.as_ref());
        current = next;
    }
    if current.convergence {
        Some(StrayReason::UnderConvergenceRoot {
            root: label(current),
        })
    } else if current.backup {
        Some(StrayReason::UnderBackupRoot {
            root: label(current),
        })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(id: &str, owner: Option<&str>, convergence: bool) -> StackRow {
        StackRow {
            id: id.into(),
            name: format!("n-{id}"),
            tenant: "p".into(),
            owner_id: owner.map(Into::into),
            raw_template_id: Some(1),
            prev_raw_template_id: None,
            action: "CREATE".into(),
            status: "COMPLETE".into(),
            convergence,
            backup: false,
            deleted: false,
        }
    }

    fn inventory(stacks: Vec<StackRow>) -> Inventory {
        let mut inv = Inventory::default();
        for s in stacks {
            inv.stacks.insert(s.id.clone(), Arc::new(s));
        }
        inv
    }

    #[test]
    fn trees_come_in_the_order_their_rows_were_written() {
        let mut a = stack("a-newest", None, false);
        a.raw_template_id = Some(30);
        let mut b = stack("b-oldest", None, false);
        b.raw_template_id = Some(20);
        let mut b1 = stack("b-child", Some("b-oldest"), false);
        b1.raw_template_id = Some(21);
        // Updated since: its current template is newer, its previous one the oldest row.
        let mut c = stack("c-updated", None, false);
        c.raw_template_id = Some(40);
        c.prev_raw_template_id = Some(10);
        let mut d = stack("d-no-template", None, false);
        d.raw_template_id = None;
        let mut e = stack("e-nested-older", None, false);
        e.raw_template_id = Some(35);
        let mut e1 = stack("e-child", Some("e-nested-older"), false);
        e1.raw_template_id = Some(25);
        let f = forest(&inventory(vec![a, b, b1, c, d, e, e1]));
        let roots: Vec<&str> = f.trees.iter().map(|t| t.root().id.as_ref()).collect();
        assert_eq!(
            roots,
            [
                "c-updated",
                "b-oldest",
                "e-nested-older",
                "a-newest",
                "d-no-template"
            ]
        );
    }

    #[test]
    fn strays_are_found_with_their_reason_and_trees_stay_whole() {
        let inv = inventory(vec![
            stack("root", None, false),
            stack("child", Some("root"), false),
            stack("grandchild", Some("child"), false),
            stack("orphan", Some("gone"), false),
            stack("orphan-child", Some("orphan"), false),
            stack("cycle-a", Some("cycle-b"), false),
            stack("cycle-b", Some("cycle-a"), false),
            stack("conv", None, true),
            stack("under-conv", Some("conv"), false),
            stack("conv-child", Some("conv"), true),
        ]);
        let f = forest(&inv);
        assert_eq!(f.trees.len(), 1);
        let ids: Vec<&str> = f.trees[0].stacks.iter().map(|s| s.id.as_ref()).collect();
        assert_eq!(ids, ["root", "child", "grandchild"]);
        let mut strays: Vec<(&str, &str)> = f
            .strays
            .iter()
            .map(|s| (s.stack.id.as_ref(), s.reason.kind()))
            .collect();
        strays.sort();
        assert_eq!(
            strays,
            [
                ("cycle-a", "owner_cycle"),
                ("cycle-b", "owner_cycle"),
                ("orphan", "orphan"),
                ("orphan-child", "orphan"),
                ("under-conv", "under_convergence_root"),
            ]
        );
    }
}
