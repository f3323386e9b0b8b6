//! Stack trees: a root stack and every live, non-backup stack reachable through
//! `owner_id`, as Heat's `stack_get_all_by_root_owner_id` walks them. A tree is the unit
//! of conversion: all of it or none of it.

use crate::db::load::Inventory;
use crate::db::read::StackRow;
use std::collections::HashMap;

#[derive(Clone, Debug)]
pub struct Tree {
    /// The root first, then its nested stacks, parents before children.
    pub stacks: Vec<StackRow>,
    /// Live backup stacks found under the tree (the legacy engine's leftovers).
    pub live_backups: Vec<StackRow>,
}

impl Tree {
    pub fn root(&self) -> &StackRow {
        &self.stacks[0]
    }
}

/// The legacy root stacks of the inventory and their trees, optionally filtered.
pub fn legacy_trees(
    inv: &Inventory,
    only_stacks: &[String],
    only_project: Option<&str>,
) -> Vec<Tree> {
    let mut children: HashMap<&str, Vec<&StackRow>> = HashMap::new();
    for s in inv.stacks.values() {
        if let Some(owner) = &s.owner_id {
            children.entry(owner.as_str()).or_default().push(s);
        }
    }
    inv.stacks
        .values()
        .filter(|s| s.owner_id.is_none() && !s.convergence && !s.backup)
        .filter(|s| only_stacks.is_empty() || only_stacks.contains(&s.id))
        .filter(|s| only_project.is_none_or(|p| s.tenant == p))
        .map(|root| {
            let mut stacks = vec![root.clone()];
            let mut live_backups = Vec::new();
            let mut i = 0;
            while i < stacks.len() {
                let id = stacks[i].id.clone();
                for c in children.get(id.as_str()).into_iter().flatten() {
                    if c.backup {
                        live_backups.push((*c).clone());
                    } else {
                        stacks.push((*c).clone());
                    }
                }
                i += 1;
            }
            Tree {
                stacks,
                live_backups,
            }
        })
        .collect()
}
