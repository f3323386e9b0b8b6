//! What must be true of every converted stack, checked straight on its rows, by a path
//! that never goes through the planner: `verify`'s other check compares the rows with what
//! the planner would write now, which finds rows that drifted but never a planner bug (the
//! same code would make the same mistake twice). These hold whatever the graph is:
//! - the stack has a traversal and no previous template;
//! - every active resource's `current_template_id` is its stack's template;
//! - `requires` names only active resources of the same stack;
//! - `needed_by` is exactly the inverse of `requires` over the stack.
//!
//! Where the cloud's Heat Python is at hand (`--heat-python`), each resource's `requires`
//! is also compared with Heat's own graph of the stack.

use super::parse_ids as ids_of;
use crate::db::read::{ResourceWritten, StackNow};
use crate::site::HeatSite;
use std::collections::{BTreeMap, BTreeSet};

/// The invariants `now` (at its conversion's traversal) and its resource rows break, in
/// words; empty when all hold.
pub fn broken(now: &StackNow, written: &[ResourceWritten]) -> Vec<String> {
    let s = &now.row;
    let mut out = Vec::new();
    if now.current_traversal.as_deref().is_none_or(str::is_empty) {
        out.push(
            "stack.current_traversal is not set: the convergence engine has no traversal to follow"
                .into(),
        );
    }
    let active: Vec<&ResourceWritten> = written.iter().filter(|w| w.row.is_active()).collect();
    let ids: BTreeSet<i64> = active.iter().map(|w| w.row.id).collect();
    let mut requires: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    let mut needed_by: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    for w in &active {
        let name = &w.row.name;
        if w.current_template_id != s.raw_template_id {
            out.push(format!(
                "resource {name}: current_template_id is not its stack's template ({})",
                s.raw_template_id.map_or("none".into(), |t| t.to_string())
            ));
        }
        for (column, text, into) in [
            ("requires", &w.requires, &mut requires),
            ("needed_by", &w.needed_by, &mut needed_by),
        ] {
            let Some(list) = ids_of(text.as_deref()) else {
                out.push(format!(
                    "resource {name}: {column} is not a JSON list of ids"
                ));
                continue;
            };
            for id in &list {
                if !ids.contains(id) {
                    out.push(format!(
                        "resource {name}: {column} names {id}, which is no active resource of the stack"
                    ));
                }
            }
            into.insert(w.row.id, list.into_iter().collect());
        }
    }
    // needed_by is the inverse of requires.
    for w in &active {
        let id = w.row.id;
        let inverse: BTreeSet<i64> = requires
            .iter()
            .filter(|(_, r)| r.contains(&id))
            .map(|(by, _)| *by)
            .collect();
        if needed_by.get(&id).is_some_and(|n| *n != inverse) {
            out.push(format!(
                "resource {}: needed_by is not the inverse of the stack's requires",
                w.row.name
            ));
        }
    }
    out
}

/// Where Heat's Python is at hand: the resources whose `requires` differ from Heat's own
/// graph of the stack, in words (empty when there is no Heat Python).
pub fn against_heat(site: &HeatSite, now: &StackNow, written: &[ResourceWritten]) -> Vec<String> {
    if !site.has_heat_python() {
        return Vec::new();
    }
    let s = &now.row;
    let heat = match site.heat_graph(&s.id, s.tenant.as_ref()) {
        Ok(g) => g,
        Err(e) => {
            return vec![format!(
                "Heat's own graph of the stack cannot be had: {e:#}"
            )]
        }
    };
    let active: Vec<&ResourceWritten> = written.iter().filter(|w| w.row.is_active()).collect();
    let id_of: BTreeMap<&str, i64> = active
        .iter()
        .map(|w| (w.row.name.as_str(), w.row.id))
        .collect();
    let mut out = Vec::new();
    for w in &active {
        let Some(names) = heat.get(&w.row.name) else {
            out.push(format!(
                "resource {}: not in Heat's own graph of the stack",
                w.row.name
            ));
            continue;
        };
        let want: Option<BTreeSet<i64>> = names
            .iter()
            .map(|n| id_of.get(n.as_str()).copied())
            .collect();
        let have: Option<BTreeSet<i64>> =
            ids_of(w.requires.as_deref()).map(|v| v.into_iter().collect());
        if want != have {
            out.push(format!(
                "resource {}: requires differs from Heat's own graph ({})",
                w.row.name,
                names.join(", ")
            ));
        }
    }
    out
}
