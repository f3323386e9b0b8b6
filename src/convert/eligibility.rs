//! The eligibility rule: which legacy trees may be converted now. One place, used by
//! `migrate`, `migrate --dry-run` and `status` alike.
//!
//! Heat's rule (`migrate_convergence_1`): the root and every stack of its tree must be
//! `*_COMPLETE`, and Heat takes its stack lock on each, failing while a live engine holds
//! one. We add one refusal of our own: a live backup stack (the legacy engine's copy of
//! replaced resources) still owns physical resources that convergence would never clean
//! up, so its tree waits until the operator has dealt with it.

use super::tree::Tree;
use crate::db::load::Inventory;
use std::fmt;

/// Why a tree is left untouched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Blocker {
    InProgress {
        stack: String,
        state: String,
    },
    Failed {
        stack: String,
        state: String,
    },
    NotComplete {
        stack: String,
        state: String,
    },
    Locked {
        stack: String,
        engine: String,
        host: String,
    },
    LiveBackup {
        stack: String,
    },
    /// Found when the tree is read or planned (template unreadable, graph unknowable...).
    Unreadable {
        stack: String,
        detail: String,
    },
    /// The database refused the change (e.g. a lock taken meanwhile); nothing was written.
    Refused {
        detail: String,
    },
}

impl Blocker {
    /// A short, stable name for summaries and JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            Blocker::InProgress { .. } => "in progress",
            Blocker::Failed { .. } => "failed",
            Blocker::NotComplete { .. } => "not complete",
            Blocker::Locked { .. } => "locked",
            Blocker::LiveBackup { .. } => "live backup stack",
            Blocker::Unreadable { .. } => "unreadable",
            Blocker::Refused { .. } => "refused by the database",
        }
    }
}

impl fmt::Display for Blocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Blocker::InProgress { stack, state } => write!(f, "stack {stack} is {state}"),
            Blocker::Failed { stack, state } => write!(f, "stack {stack} is {state}"),
            Blocker::NotComplete { stack, state } => write!(f, "stack {stack} is {state}"),
            Blocker::Locked { stack, engine, host } => {
                write!(f, "stack {stack} is locked by engine {engine} on {host}")
            }
            Blocker::LiveBackup { stack } => write!(
                f,
                "backup stack {stack} is live: it still owns physical resources that convergence would never clean up"
            ),
            Blocker::Unreadable { stack, detail } => write!(f, "stack {stack}: {detail}"),
            Blocker::Refused { detail } => write!(f, "{detail}"),
        }
    }
}

/// A lock Heat would take over: its engine's service record is gone or deleted, so no
/// engine will ever release it (Heat's check asks the engine over RPC and steals the lock
/// from a dead one).
pub fn is_stale_lock(inv: &Inventory, engine: &str) -> bool {
    inv.engines.get(engine).is_none_or(|(_, deleted)| *deleted)
}

/// The first reason the tree cannot be converted now, if any.
pub fn blocker(tree: &Tree, inv: &Inventory) -> Option<Blocker> {
    for s in &tree.stacks {
        if s.status != "COMPLETE" {
            let stack = format!("{} ({})", s.name, s.id);
            let state = format!("{}_{}", s.action, s.status);
            return Some(match s.status.as_str() {
                "IN_PROGRESS" => Blocker::InProgress { stack, state },
                "FAILED" => Blocker::Failed { stack, state },
                _ => Blocker::NotComplete { stack, state },
            });
        }
    }
    for s in &tree.stacks {
        if let Some(engine) = inv.locks.get(&s.id) {
            if !is_stale_lock(inv, engine) {
                let host = inv
                    .engines
                    .get(engine)
                    .map(|(h, _)| h.clone())
                    .unwrap_or_default();
                return Some(Blocker::Locked {
                    stack: format!("{} ({})", s.name, s.id),
                    engine: engine.clone(),
                    host,
                });
            }
        }
    }
    if let Some(b) = tree.live_backups.first() {
        return Some(Blocker::LiveBackup {
            stack: format!("{} ({})", b.name, b.id),
        });
    }
    None
}
