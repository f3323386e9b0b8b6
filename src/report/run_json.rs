//! The JSON document of `migrate` and `status` (schema in `schemas/run.schema.json`) and
//! of one tree in it.

use super::*;
use serde_json::json;

/// One tree of a report as JSON (an item of `trees` in `--format json`).
pub fn tree_json(t: &TreeReport) -> serde_json::Value {
    let mut v = json!({"root_id": t.root_id, "name": t.root_name, "project": t.project, "stacks": t.stacks});
    match &t.outcome {
        Outcome::Converted(c) | Outcome::WouldConvert(c) => {
            v["outcome"] = json!(if matches!(t.outcome, Outcome::Converted(_)) {
                "converted"
            } else {
                "would_convert"
            });
            v["resources_converted"] = json!(c.resources_converted);
            v["resources_deleted"] = json!(c.resources_deleted);
            v["templates_deleted"] = json!(c.templates_deleted);
            v["deleted_resources"] = c
                .deleted
                .iter()
                .map(|(stack, d)| deletion_json(stack, d))
                .collect();
        }
        Outcome::Skipped(b) => {
            v["outcome"] = json!("left_alone");
            v["reason_kind"] = json!(b.kind());
            v["reason"] = json!(b.to_string());
        }
    }
    if !t.warnings.is_empty() {
        v["warnings"] = json!(t.warnings);
    }
    v
}

pub fn to_json(report: &Report) -> serde_json::Value {
    let trees: Vec<_> = report.trees.iter().map(tree_json).collect();
    let skipped: serde_json::Map<String, serde_json::Value> = skipped_by_kind(report)
        .into_iter()
        .map(|(k, _, n)| (k.to_string(), json!(n)))
        .collect();
    json!({
        "dry_run": report.dry_run,
        "run_id": report.run_id,
        "migrations_applied": report.migrations_applied,
        "legacy_trees": report.tally.trees,
        "converted": report.converted(),
        "would_convert": report.would_convert(),
        "left_alone": report.skipped(),
        "left_alone_by_reason": skipped,
        "still_legacy": if report.dry_run { report.tally.trees } else { report.remaining() },
        "filter": report.filter,
        "outside_filter": report.outside_filter,
        "not_reached": report.not_reached,
        "stray_stacks": report.strays.iter().map(|st| json!({
            "id": &*st.stack.id,
            "name": st.stack.name,
            "project": &*st.stack.tenant,
            "owner_id": st.stack.owner_id.as_deref(),
            "reason_kind": st.reason.kind(),
            "reason": st.reason.to_string(),
        })).collect::<Vec<_>>(),
        "legacy_left_in_database": report.legacy_left_in_database(),
        "stopped": report.stopped,
        "plan_gone": report.plan_gone.iter().map(|(id, name)| json!({"root_id": id, "name": name})).collect::<Vec<_>>(),
        "plugin_types": report.plugin_types.iter().map(|t| json!({
            "type": t.plugin.type_name,
            "class": t.plugin.class,
            "file": t.plugin.file.display().to_string(),
            "graph": t.plugin.how.code(),
            "how": t.plugin.how.describe(),
            "resources": t.resources,
        })).collect::<Vec<_>>(),
        "convergence_roots": report.convergence_roots,
        "temporary_indexes": report.indexes,
        "temporary_indexes_left": report.indexes_left,
        "statistics_gathered": report.statistics,
        "retried_transactions": report.retries.transient,
        "exit_code": exit_code(report),
        "trees": trees,
    })
}
