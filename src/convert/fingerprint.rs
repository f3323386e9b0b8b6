//! Fingerprints of the rows a tree's plan depends on, so that `migrate --plan` converts a
//! tree only while its rows are still the ones the operator reviewed.
//!
//! Two fingerprints per tree: `rows` (every stack row of the tree, every resource row of
//! those stacks, their current and previous templates with environment and files) and
//! `locks` (Heat's stack locks on the tree as read). `rows` is checked again under the
//! conversion's own locks, inside its transaction; `locks` when the run reads the tree
//! (under the lock the locks are the run's own). SHA-256 over a canonical text of the
//! values, in id order.

use super::tree::Tree;
use crate::db::read::{Inventory, RawTemplateRow, ResourceRow};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fingerprint {
    pub rows: String,
    pub locks: String,
}

fn digest(v: &Value) -> String {
    let hash = Sha256::digest(v.to_string().as_bytes());
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn template(t: Option<&Result<RawTemplateRow, String>>) -> Value {
    match t {
        None => Value::Null,
        Some(Err(e)) => json!({ "unreadable": e }),
        Some(Ok(t)) => {
            let files: BTreeMap<&String, &String> = t.files.iter().collect();
            json!([t.id, &*t.template, &*t.environment, files])
        }
    }
}

/// The `rows` fingerprint of a tree, from the rows read for it.
pub fn rows(
    tree: &Tree,
    resources: &HashMap<String, Vec<ResourceRow>>,
    templates: &HashMap<i64, Result<RawTemplateRow, String>>,
) -> String {
    let mut stacks: Vec<_> = tree.stacks.iter().chain(&tree.live_backups).collect();
    stacks.sort_by(|a, b| a.id.cmp(&b.id));
    let canonical: Vec<Value> = stacks
        .iter()
        .map(|s| {
            let mut rs: Vec<&ResourceRow> = resources.get(&*s.id).into_iter().flatten().collect();
            rs.sort_by_key(|r| r.id);
            json!({
                "stack": [&*s.id, s.name, &*s.tenant, s.owner_id.as_deref(), s.raw_template_id,
                          s.prev_raw_template_id, &*s.action, &*s.status, s.convergence,
                          s.backup, s.deleted],
                "resources": rs.iter().map(|r| json!([r.id, r.uuid, r.name, r.stack_id,
                    r.action, r.status, r.physical_id, r.attr_data_id])).collect::<Vec<_>>(),
                "template": template(s.raw_template_id.and_then(|t| templates.get(&t))),
                "previous": template(s.prev_raw_template_id.and_then(|t| templates.get(&t))),
            })
        })
        .collect();
    digest(&Value::from(canonical))
}

/// The `locks` fingerprint of a tree: Heat's locks on its stacks as read.
pub fn locks(tree: &Tree, inv: &Inventory) -> String {
    let mut held: Vec<(&str, &String)> = tree
        .stacks
        .iter()
        .filter_map(|s| inv.locks.get(&*s.id).map(|e| (&*s.id, e)))
        .collect();
    held.sort();
    digest(&json!(held))
}
