//! The plan file: what `heat-converge plan` reviewed, and what `migrate --plan` applies.
//!
//! A versioned JSON document (schema: `schemas/plan.schema.json`): the database it was
//! made for (its identity as the server reports it, [`crate::db::identity`], and its URL
//! without secrets, for people), and per tree its stacks and every row change
//! (`requires`, `needed_by`, `current_template_id`, every resource and template row to
//! delete, with the reason), with the fingerprints of the rows it was made from. The
//! trees left alone and the stray stacks are listed for the reviewer; they are not applied.

use crate::convert::fingerprint::Fingerprint;
use crate::convert::{Outcome, PlanFile, Report, ReviewedTree, TreeReport};
use crate::db::identity::Identity;
use crate::db::url::DbUrl;
use anyhow::{anyhow, bail, Result};
use serde_json::{json, Value};

/// The value of the file's `format` key.
pub const FORMAT: &str = "heat-converge-plan";
/// The version of the file's layout; a reader refuses any other. `database.identity` came
/// later within version 1, as an addition: a file without it (made by heat-converge
/// before it) is still read, and bound to its URL's text as it was then; a reader from
/// before it ignores it and compares the URL's text, as it always did. No new version:
/// that would make every plan file made before unreadable, for no gain in safety.
pub const VERSION: i64 = 1;

/// A tree's entry in the plan file's `trees`: one the dry run would convert, with its
/// fingerprints and row changes (None for the others).
pub fn tree_json(t: &TreeReport) -> Option<Value> {
    match &t.outcome {
        Outcome::WouldConvert(_) => t.reviewed.as_ref().map(|r| {
            json!({
                "root_id": t.root_id,
                "name": t.root_name,
                "project": t.project,
                "fingerprint": {"rows": r.fingerprint.rows, "locks": r.fingerprint.locks},
                "stacks": r.changes,
                "warnings": t.warnings,
            })
        }),
        _ => None,
    }
}

/// The plan file of a dry run's report, but for its `trees` (its last key, empty): those
/// are written one at a time as the run goes ([`tree_json`]), so that a plan of 100,000
/// trees is not held whole in memory.
pub fn document(report: &Report, url: &DbUrl, identity: &Identity, created_at: &str) -> Value {
    let left_alone: Vec<Value> = report
        .trees
        .iter()
        .filter_map(|t| match &t.outcome {
            Outcome::Skipped(b) => Some(json!({
                "root_id": t.root_id,
                "name": t.root_name,
                "reason_kind": b.kind(),
                "reason": b.to_string(),
            })),
            _ => None,
        })
        .collect();
    json!({
        "format": FORMAT,
        "version": VERSION,
        "tool_version": env!("CARGO_PKG_VERSION"),
        "created_at": created_at,
        "database": {"url": url.to_string(), "identity": identity.to_json()},
        "filter": report.filter,
        "left_alone": left_alone,
        "stray_stacks": report.strays.iter().map(|s| json!({
            "id": &*s.stack.id,
            "name": s.stack.name,
            "reason_kind": s.reason.kind(),
            "reason": s.reason.to_string(),
        })).collect::<Vec<_>>(),
        "trees": [],
    })
}

/// Reads a plan file made for the database `identity` reached through `url`.
pub fn read(text: &str, url: &DbUrl, identity: &Identity) -> Result<PlanFile> {
    let v: Value =
        serde_json::from_str(text).map_err(|e| anyhow!("the plan file is not JSON: {e}"))?;
    if v["format"] != FORMAT {
        bail!("not a heat-converge plan file (its format is not \"{FORMAT}\")");
    }
    if v["version"] != VERSION {
        bail!(
            "the plan file has version {}, this heat-converge reads version {VERSION}: make the plan again",
            v["version"]
        );
    }
    let made_for_url = v["database"]["url"].as_str().unwrap_or_default();
    match Identity::from_json(&v["database"]["identity"]) {
        Some(made_for) if !made_for.same(identity) => bail!(
            "the plan was made for another database ({made_for}, reached through {made_for_url}), not {identity} (reached through {url}): make the plan on the database it is applied to"
        ),
        Some(_) => {}
        // A plan file from before identities: bound to its URL's text, as it was.
        None if made_for_url != url.to_string() => bail!(
            "the plan was made for another database ({made_for_url}), not {url} (the plan file records no database identity, so the URLs must be the same text): make the plan on the database it is applied to"
        ),
        None => {}
    }
    let mut planned = PlanFile::default();
    for t in v["trees"].as_array().into_iter().flatten() {
        let text = |key: &str| -> Result<String> {
            t[key]
                .as_str()
                .map(String::from)
                .ok_or_else(|| anyhow!("the plan file: a tree without {key}"))
        };
        let fingerprint = &t["fingerprint"];
        planned.trees.insert(
            text("root_id")?,
            ReviewedTree {
                name: text("name")?,
                fingerprint: Fingerprint {
                    rows: fingerprint["rows"].as_str().unwrap_or_default().into(),
                    locks: fingerprint["locks"].as_str().unwrap_or_default().into(),
                },
                changes: t["stacks"].clone(),
            },
        );
    }
    Ok(planned)
}
