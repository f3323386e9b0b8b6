//! What `history` says: past runs for people (a block each, newest first) and for
//! pipelines (`schemas/history.schema.json`), and with `--run` that run's trees and the
//! rows it deleted. Every value read from the record or Heat's rows is escaped in the
//! text, as in every report.

use super::*;
use crate::db::past_runs::{DeletedRecord, Layout, Run, RunDetail, TreeRecord};
use serde_json::{json, Value};

/// The run's command, rebuilt from the options it recorded (`migrate --stack ID ...`),
/// and the database it named; the recorded text itself when it is not the JSON object
/// heat-converge writes.
fn command(options: &str) -> (String, Option<String>) {
    let Ok(Value::Object(o)) = serde_json::from_str::<Value>(options) else {
        return (options.to_string(), None);
    };
    let mut words = vec!["migrate".to_string()];
    if o.get("dry_run") == Some(&Value::Bool(true)) {
        words.push("--dry-run".into());
    }
    for (option, key) in [
        ("--stack", "stacks"),
        ("--project", "project"),
        ("--plan", "plan"),
    ] {
        let values = match o.get(key) {
            Some(Value::Array(a)) => a.clone(),
            Some(Value::Null) | None => Vec::new(),
            Some(v) => vec![v.clone()],
        };
        for v in values {
            words.push(option.into());
            words.push(v.as_str().map_or_else(|| v.to_string(), String::from));
        }
    }
    let database = o.get("database").and_then(Value::as_str).map(String::from);
    (words.join(" "), database)
}

fn outcome_code(outcome: &str) -> &str {
    match outcome {
        "skipped" => "left_alone",
        other => other,
    }
}

/// One run's block of lines.
fn run_text(s: &mut String, r: &Run) {
    let ending = r.ending();
    let _ = writeln!(s, "run {}  {}", esc(&r.id), ending.words());
    let _ = writeln!(s, "  started   {}", esc(&r.started_at));
    if let Some(ended) = &r.ended_at {
        let _ = writeln!(s, "  ended     {}", esc(ended));
    }
    let _ = writeln!(
        s,
        "  host      {} (heat-converge {})",
        esc(&r.host),
        esc(&r.tool_version)
    );
    let (command, database) = command(&r.options);
    let _ = writeln!(s, "  command   {}", esc(&command));
    if let Some(db) = database {
        let _ = writeln!(s, "  database  {}", esc(&db));
    }
    let rec = &r.recorded;
    let _ = writeln!(
        s,
        "  trees     {} converted ({}), {} left alone",
        rec.trees_converted,
        plural(rec.stacks_converted as usize, "stack", "stacks"),
        rec.trees_left_alone
    );
    match &r.at_end {
        Some(end) => {
            let _ = writeln!(
                s,
                "  legacy    {} left in the database after it (trees and stray stacks)",
                end.legacy_left_in_database
            );
        }
        None => {
            let _ = writeln!(s, "  legacy    not recorded: the run recorded no end");
        }
    }
    match &r.deleted {
        Some(kinds) => {
            let total: i64 = kinds.values().sum();
            let each: Vec<String> = kinds
                .iter()
                .map(|(k, n)| format!("{}: {n}", esc(k)))
                .collect();
            let _ = writeln!(
                s,
                "  deleted   {}{}",
                plural(total as usize, "row", "rows"),
                if each.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", each.join(", "))
                }
            );
        }
        None => {
            let _ = writeln!(
                s,
                "  deleted   not audited (heat_converge_deleted came with V4)"
            );
        }
    }
    if let Some(why) = &r.stopped {
        let _ = writeln!(s, "  stopped   {}", esc(why));
    }
}

/// `heat-converge history`: every run, newest first.
pub fn history_text(runs: &[Run], layout: Layout, database: &str) -> String {
    let mut s = String::new();
    if runs.is_empty() {
        let why = if layout.runs {
            "its tables are there but hold no run"
        } else {
            "heat-converge has not run migrate on this database (no table heat_converge_run)"
        };
        let _ = writeln!(
            s,
            "heat-converge history of {database}: no runs recorded: {why}"
        );
        return s;
    }
    let _ = writeln!(
        s,
        "heat-converge history of {database}: {}, newest first",
        plural(runs.len(), "run", "runs")
    );
    for r in runs {
        let _ = writeln!(s);
        run_text(&mut s, r);
    }
    s
}

fn tree_text(t: &TreeRecord) -> String {
    let who = format!(
        "{} ({})",
        esc(t.name.as_deref().unwrap_or("[no stack row now]")),
        esc(&t.root_id)
    );
    match t.outcome.as_str() {
        "converted" => format!(
            "converted      {who}: {}",
            counts(
                t.stacks as usize,
                t.resources_converted as usize,
                t.resources_deleted as usize,
                t.templates_deleted as usize
            )
        ),
        "skipped" => format!(
            "left alone     {who}: {}",
            esc(t.reason.as_deref().unwrap_or("no reason recorded"))
        ),
        other => format!("{:<14} {who}", esc(other)),
    }
}

fn deleted_text(d: &DeletedRecord) -> String {
    let opt = |v: &Option<String>, none: &str| esc(v.as_deref().unwrap_or(none)).into_owned();
    let what = match d.kind.as_str() {
        "resource" => format!(
            "resource {} (row {}, uuid {}, type {}, physical id {}, {}_{})",
            opt(&d.name, "unnamed"),
            d.row_id,
            opt(&d.uuid, "none"),
            opt(&d.type_name, "unknown"),
            opt(&d.physical_id, "none"),
            opt(&d.action, "?"),
            opt(&d.status, "?"),
        ),
        kind => format!("{} row {}", esc(kind), d.row_id),
    };
    format!(
        "{what} of stack {} ({}): {}",
        opt(&d.stack_name, "[no stack row now]"),
        esc(&d.stack_id),
        esc(&d.reason)
    )
}

/// `heat-converge history --run ID`: the run, its trees and the rows it deleted.
pub fn run_detail_text(d: &RunDetail, database: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "heat-converge history of {database}\n");
    run_text(&mut s, &d.run);
    let _ = writeln!(s, "\n{} recorded", plural(d.trees.len(), "tree", "trees"));
    for t in &d.trees {
        let _ = writeln!(s, "  {}", tree_text(t));
    }
    match &d.deleted {
        Some(rows) => {
            let _ = writeln!(
                s,
                "\n{} deleted, as audited in heat_converge_deleted",
                plural(rows.len(), "row", "rows")
            );
            for r in rows {
                let _ = writeln!(s, "  {}", deleted_text(r));
            }
        }
        None => {
            let _ = writeln!(
                s,
                "\nrows deleted: not audited (heat_converge_deleted came with V4)"
            );
        }
    }
    s
}

fn run_json(r: &Run) -> Value {
    let (command, database) = command(&r.options);
    json!({
        "run_id": r.id,
        "started_at": r.started_at,
        "ended_at": r.ended_at,
        "host": r.host,
        "tool_version": r.tool_version,
        "options": serde_json::from_str::<Value>(&r.options).unwrap_or_else(|_| json!(r.options)),
        "command": command,
        "database": database,
        "ending": r.ending().code(),
        "stopped": r.stopped,
        "trees_converted": r.recorded.trees_converted,
        "trees_left_alone": r.recorded.trees_left_alone,
        "stacks_converted": r.recorded.stacks_converted,
        "at_end": r.at_end.map(|e| json!({
            "trees_converted": e.trees_converted,
            "trees_left_alone": e.trees_left_alone,
            "stacks_converted": e.stacks_converted,
            "legacy_left_in_database": e.legacy_left_in_database,
        })),
        "rows_deleted": r.deleted,
    })
}

fn layout_json(layout: Layout) -> Value {
    json!({"record_tables": layout.runs, "audit_table": layout.audit, "exit_code": 0})
}

/// `heat-converge history --format json`.
pub fn history_json(runs: &[Run], layout: Layout) -> Value {
    let mut v = layout_json(layout);
    v["runs"] = runs.iter().map(run_json).collect();
    v
}

/// `heat-converge history --run ID --format json`.
pub fn run_detail_json(d: &RunDetail, layout: Layout) -> Value {
    let mut v = layout_json(layout);
    v["runs"] = json!([run_json(&d.run)]);
    v["trees"] = d
        .trees
        .iter()
        .map(|t| {
            json!({
                "root_id": t.root_id,
                "name": t.name,
                "outcome": outcome_code(&t.outcome),
                "reason": t.reason,
                "stacks": t.stacks,
                "resources_converted": t.resources_converted,
                "resources_deleted": t.resources_deleted,
                "templates_deleted": t.templates_deleted,
            })
        })
        .collect();
    v["deleted_rows"] = match &d.deleted {
        None => Value::Null,
        Some(rows) => rows
            .iter()
            .map(|r| {
                json!({
                    "root_stack_id": r.root_stack_id,
                    "stack_id": r.stack_id,
                    "stack_name": r.stack_name,
                    "kind": r.kind,
                    "row_id": r.row_id,
                    "uuid": r.uuid,
                    "name": r.name,
                    "type": r.type_name,
                    "physical_id": r.physical_id,
                    "action": r.action,
                    "status": r.status,
                    "reason": r.reason,
                })
            })
            .collect(),
    };
    v
}

#[cfg(test)]
mod tests {
    use super::command;

    #[test]
    fn the_command_is_rebuilt_from_the_recorded_options() {
        let (c, db) = command(
            r#"{"dry_run":false,"stacks":["a","b"],"project":null,"database":"sqlite:///h.sqlite","plan":"p.json"}"#,
        );
        assert_eq!(c, "migrate --stack a --stack b --plan p.json");
        assert_eq!(db.as_deref(), Some("sqlite:///h.sqlite"));
        let (c, db) = command(r#"{"stacks":[],"project":"p1"}"#);
        assert_eq!(c, "migrate --project p1");
        assert_eq!(db, None);
        assert_eq!(command("not json").0, "not json");
    }
}
