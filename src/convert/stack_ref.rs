//! How the operator names a stack: `--stack` (migrate, plan, verify) and `graph STACK` take
//! a stack's id or its name, as `openstack stack show` does. An id is tried first (a name
//! may look like anything, an id too); a name must be unique among the live root stacks
//! (for `graph`, failing a root, among all live stacks), else the command is wrong and the
//! error lists the ids to choose from. A nested stack is never a unit of conversion: its
//! error names the root of its tree, which is what `--stack` wants.
//!
//! One rule, here, for every command; each error is a [`FilterError`] (exit 2). Messages
//! hold names as the database has them: they are escaped where they are printed.

use super::FilterError;
use crate::db::read::{self, StackRow};
use crate::db::Connection;
use anyhow::Result;

/// What a command accepts of a `--stack` id that is not a live root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deleted {
    /// A deleted stack is an error (there is nothing left to convert).
    Refused,
    /// A deleted root is taken as it is (`verify`: its conversion's records remain).
    Accepted,
}

/// The root stack id `given` (a `--stack` value) names: an id, or the name of exactly one
/// live root stack.
pub fn root(conn: &mut dyn Connection, given: &str, deleted: Deleted) -> Result<String> {
    if let Some(s) = read::stack(conn, given)? {
        let wrong = if s.deleted {
            if deleted == Deleted::Accepted && s.owner_id.is_none() {
                return Ok(s.id.to_string());
            }
            format!("--stack {given}: stack {} was deleted", s.name)
        } else if s.backup {
            format!(
                "--stack {given}: {} is a backup stack {}; give --stack ID-or-NAME of its tree's root",
                s.name,
                tree_of(conn, &s)?
            )
        } else if s.owner_id.is_some() {
            nested(conn, given, &[s])?
        } else {
            return Ok(s.id.to_string());
        };
        return Err(FilterError(wrong).into());
    }
    let named = read::stacks_named(conn, given)?;
    let roots: Vec<&StackRow> = named.iter().filter(|s| is_root(s)).collect();
    match roots.as_slice() {
        [one] => Ok(one.id.to_string()),
        [] if named.is_empty() => Err(FilterError(format!(
            "--stack {given}: Heat's database has no stack with this id, nor a live stack with this name"
        ))
        .into()),
        [] => Err(FilterError(nested(conn, given, &named)?).into()),
        many => Err(FilterError(ambiguous("--stack", given, many)).into()),
    }
}

/// The stack id `given` (`graph STACK`) names: any stack's id, else the name of exactly
/// one live root stack, else of exactly one live stack (a nested one).
pub fn any(conn: &mut dyn Connection, given: &str) -> Result<String> {
    if read::stack(conn, given)?.is_some() {
        return Ok(given.to_string());
    }
    let named = read::stacks_named(conn, given)?;
    let roots: Vec<&StackRow> = named.iter().filter(|s| is_root(s)).collect();
    let candidates = if roots.is_empty() {
        named.iter().collect()
    } else {
        roots
    };
    match candidates.as_slice() {
        [one] => Ok(one.id.to_string()),
        [] => Err(FilterError(format!(
            "{given}: Heat's database has no stack with this id, nor a live stack with this name"
        ))
        .into()),
        many => Err(FilterError(ambiguous("graph", given, many)).into()),
    }
}

/// A root of a tree: no owner, and not the legacy engine's backup copy.
fn is_root(s: &StackRow) -> bool {
    s.owner_id.is_none() && !s.backup
}

/// The error for `--stack given`, which names the nested stacks `stacks` (one for an id):
/// each with the root of its tree.
fn nested(conn: &mut dyn Connection, given: &str, stacks: &[StackRow]) -> Result<String> {
    let mut each = Vec::new();
    for s in stacks {
        let what = if s.backup {
            "a backup stack"
        } else {
            "a nested stack"
        };
        let label = if *s.id == *given {
            s.name.clone()
        } else {
            format!("{} ({})", s.name, s.id)
        };
        each.push(format!("{label} is {what} {}", tree_of(conn, s)?));
    }
    Ok(format!(
        "--stack {given}: {}; heat-converge converts whole trees: give --stack ID-or-NAME of the root",
        each.join("; ")
    ))
}

/// The error for a name several stacks have.
fn ambiguous(option: &str, given: &str, stacks: &[&StackRow]) -> String {
    let ids: Vec<String> = stacks
        .iter()
        .map(|s| format!("{} (project {})", s.id, s.tenant))
        .collect();
    let what = if stacks.iter().all(|s| is_root(s)) {
        "live root stacks"
    } else {
        "live stacks"
    };
    format!(
        "{option} {given}: {} {what} have this name: {}; give the id of the one you mean",
        stacks.len(),
        ids.join(", ")
    )
}

/// Longest `owner_id` chain followed (Heat's `max_nested_stack_depth` is 5 by default).
const MAX_DEPTH: usize = 100;

/// Where the tree of `s` starts, in words: "in the tree of root NAME (ID)", or why no
/// root reaches it.
fn tree_of(conn: &mut dyn Connection, s: &StackRow) -> Result<String> {
    let mut seen = vec![s.id.clone()];
    let mut current = s.clone();
    while let Some(owner) = current.owner_id.clone() {
        let Some(next) = read::stack(conn, &owner)? else {
            return Ok(format!(
                "whose owner {owner} has no row (no root reaches it)"
            ));
        };
        if seen.contains(&next.id) || seen.len() > MAX_DEPTH {
            return Ok(format!(
                "whose owner_id chain does not end ({} ...)",
                seen.join(" -> ")
            ));
        }
        seen.push(next.id.clone());
        current = next;
    }
    Ok(if current.id == s.id {
        "with no owner".to_string()
    } else if current.deleted {
        format!(
            "in the tree of root {} ({}), which was deleted",
            current.name, current.id
        )
    } else {
        format!("in the tree of root {} ({})", current.name, current.id)
    })
}
