//! The eligibility rule: which legacy trees may be converted now. One place, used by
//! `migrate`, `migrate --dry-run` and `status` alike.
//!
//! Heat's rule (`migrate_convergence_1`): the root and every stack of its tree must be
//! `*_COMPLETE`, and Heat takes its stack lock on each, failing while a live engine holds
//! one. We add one refusal of our own: a live backup stack (the legacy engine's copy of
//! replaced resources) still owns physical resources that convergence would never clean
//! up, so its tree waits until the operator has dealt with it.
//!
//! A stack in progress waits for its engine, unless no live engine works on it: an engine
//! killed mid-operation leaves the stack `*_IN_PROGRESS` for ever. Heat calls an engine up
//! while its heartbeat is at most two report intervals old (`service_utils.format_service`);
//! such a stack is named with Heat's own remedy instead of "wait".

use super::tree::Tree;
use crate::db::read::{Engine, Inventory};
use std::fmt;
use time::{OffsetDateTime, PrimitiveDateTime};

/// Why a tree is left untouched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Blocker {
    InProgress {
        stack: String,
        state: String,
    },
    /// In progress, but no live engine works on it: it will never finish by itself.
    Abandoned {
        stack: String,
        state: String,
        /// The root's id, for Heat's remedy.
        root_id: String,
        /// What became of its engine.
        engine: String,
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
    /// A stack's graph needs the Heat installation's own Python (a third-party plugin's
    /// own dependency code, or code heat-converge cannot read), and there is none, or it
    /// could not answer.
    NeedsHeat {
        stack: String,
        detail: String,
    },
    /// Another session holds one of the tree's rows (found without waiting, or after
    /// waiting `--lock-wait`): the detail names the row and, where the server says, who.
    RowLocked {
        detail: String,
    },
    /// `migrate --plan`: the tree's rows are not the ones the plan was made from.
    ChangedSincePlan {
        detail: String,
    },
    /// The database refused the change (e.g. a lock taken meanwhile); nothing was written.
    Refused {
        detail: String,
    },
    /// Its conversion, one transaction, is larger than a Galera cluster's write-set limit
    /// (see [`super::write_set`]).
    WriteSetTooLarge {
        detail: String,
    },
}

impl Blocker {
    /// A stable `snake_case` code, for JSON and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Blocker::InProgress { .. } => "in_progress",
            Blocker::Abandoned { .. } => "engine_gone",
            Blocker::Failed { .. } => "failed",
            Blocker::NotComplete { .. } => "not_complete",
            Blocker::Locked { .. } => "locked",
            Blocker::LiveBackup { .. } => "live_backup",
            Blocker::Unreadable { .. } => "unreadable",
            Blocker::NeedsHeat { .. } => "needs_heat",
            Blocker::RowLocked { .. } => "row_locked",
            Blocker::ChangedSincePlan { .. } => "changed_since_plan",
            Blocker::Refused { .. } => "refused",
            Blocker::WriteSetTooLarge { .. } => "write_set_too_large",
        }
    }

    /// The same in words, for people.
    pub fn label(&self) -> &'static str {
        match self {
            Blocker::InProgress { .. } => "in progress",
            Blocker::Abandoned { .. } => "in progress, engine gone",
            Blocker::Failed { .. } => "failed",
            Blocker::NotComplete { .. } => "not complete",
            Blocker::Locked { .. } => "locked",
            Blocker::LiveBackup { .. } => "live backup stack",
            Blocker::Unreadable { .. } => "unreadable",
            Blocker::NeedsHeat { .. } => "plugin needs Heat's Python",
            Blocker::RowLocked { .. } => "locked by another session",
            Blocker::ChangedSincePlan { .. } => "changed since the plan was made",
            Blocker::Refused { .. } => "refused by the database",
            Blocker::WriteSetTooLarge { .. } => "over the cluster's write-set limit",
        }
    }
}

impl fmt::Display for Blocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Blocker::InProgress { stack, state } => write!(f, "{stack} is {state}"),
            Blocker::Abandoned { stack, state, root_id, engine } => write!(
                f,
                "{stack} is {state} but {engine}: it will never finish. Heat's remedy: stop the engines, run `heat-manage reset_stack_status {root_id}` (it marks the tree FAILED and drops its locks), recover the stack (e.g. `openstack stack check`), then run heat-converge again"
            ),
            Blocker::Failed { stack, state } => write!(f, "{stack} is {state}"),
            Blocker::NotComplete { stack, state } => write!(f, "{stack} is {state}"),
            Blocker::Locked { stack, engine, host } => {
                write!(f, "{stack} is locked by engine {engine} on {host}")
            }
            Blocker::LiveBackup { stack } => write!(
                f,
                "backup stack {stack} is live: it still owns physical resources that convergence would never clean up"
            ),
            Blocker::Unreadable { stack, detail } => write!(f, "{stack}: {detail}"),
            Blocker::NeedsHeat { stack, detail } => write!(f, "{stack}: {detail}"),
            Blocker::RowLocked { detail } => write!(f, "{detail}"),
            Blocker::ChangedSincePlan { detail } => write!(f, "{detail}"),
            Blocker::Refused { detail } => write!(f, "{detail}"),
            Blocker::WriteSetTooLarge { detail } => write!(f, "{detail}"),
        }
    }
}

/// A lock Heat would take over: its engine's service record is gone or deleted, so no
/// engine will ever release it (Heat's check asks the engine over RPC and steals the lock
/// from a dead one).
pub fn is_stale_lock(inv: &Inventory, engine: &str) -> bool {
    inv.engines.get(engine).is_none_or(|e| e.deleted)
}

/// Heat's rule for an engine being up: a live service row whose heartbeat is at most two
/// report intervals old.
pub fn is_up(engine: &Engine, now: OffsetDateTime) -> bool {
    let Some(beat) = engine.heartbeat.as_deref().and_then(parse_db_time) else {
        return false;
    };
    let interval = engine.report_interval.unwrap_or(60).max(0);
    !engine.deleted && (now - beat).whole_seconds() <= 2 * interval
}

/// A naive UTC timestamp as the backends render it (`2026-11-24 19:47:47[.ffffff]`).
fn parse_db_time(text: &str) -> Option<OffsetDateTime> {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let head = text.get(..19)?.replace('T', " ");
    PrimitiveDateTime::parse(&head, format)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// Why no live engine works on an in-progress stack, or None if one does.
fn engine_gone(tree: &Tree, inv: &Inventory, now: OffsetDateTime) -> Option<String> {
    let holders: Vec<&String> = tree
        .stacks
        .iter()
        .filter_map(|s| inv.locks.get(&*s.id))
        .collect();
    let Some(holder) = holders.first() else {
        return Some("no engine holds a lock on its tree".into());
    };
    if holders
        .iter()
        .any(|h| inv.engines.get(*h).is_some_and(|e| is_up(e, now)))
    {
        return None;
    }
    Some(match inv.engines.get(*holder) {
        None => format!("the engine holding its lock ({holder}) has no service record"),
        Some(e) if e.deleted => format!(
            "the engine holding its lock ({holder} on {}) has stopped",
            e.host
        ),
        Some(e) => format!(
            "the engine holding its lock ({holder} on {}) last reported at {} UTC",
            e.host,
            e.heartbeat.as_deref().unwrap_or("an unknown time")
        ),
    })
}

/// A stack of the tree as a reason names it: the tree's own name and id are already on
/// the line, so its root is "the root stack"; a nested one is named.
pub fn which_stack(tree: &Tree, s: &crate::db::read::StackRow) -> String {
    if s.id == tree.root().id {
        "the root stack".to_string()
    } else {
        format!("nested stack {} ({})", s.name, s.id)
    }
}

/// The first reason the tree cannot be converted now, if any.
pub fn blocker(tree: &Tree, inv: &Inventory) -> Option<Blocker> {
    blocker_at(tree, inv, OffsetDateTime::now_utc())
}

fn blocker_at(tree: &Tree, inv: &Inventory, now: OffsetDateTime) -> Option<Blocker> {
    for s in &tree.stacks {
        if &*s.status != "COMPLETE" {
            let stack = which_stack(tree, s);
            let state = format!("{}_{}", s.action, s.status);
            return Some(match &*s.status {
                "IN_PROGRESS" => match engine_gone(tree, inv, now) {
                    None => Blocker::InProgress { stack, state },
                    Some(engine) => Blocker::Abandoned {
                        stack,
                        state,
                        root_id: tree.root().id.to_string(),
                        engine,
                    },
                },
                "FAILED" => Blocker::Failed { stack, state },
                _ => Blocker::NotComplete { stack, state },
            });
        }
    }
    for s in &tree.stacks {
        if let Some(engine) = inv.locks.get(&*s.id) {
            if !is_stale_lock(inv, engine) {
                let host = inv
                    .engines
                    .get(engine)
                    .map(|e| e.host.clone())
                    .unwrap_or_default();
                return Some(Blocker::Locked {
                    stack: which_stack(tree, s),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_engine_is_up_while_its_heartbeat_is_at_most_two_intervals_old() {
        let now = parse_db_time("2026-11-25 10:00:00").unwrap();
        let engine = |beat: &str, deleted| Engine {
            host: "h".into(),
            deleted,
            heartbeat: Some(beat.into()),
            report_interval: Some(60),
        };
        assert!(is_up(&engine("2026-11-25 09:58:00.123456", false), now));
        assert!(!is_up(&engine("2026-11-25 09:57:59", false), now));
        assert!(!is_up(&engine("2026-11-25 09:59:59", true), now));
        assert!(!is_up(&engine("not a time", false), now));
    }
}
