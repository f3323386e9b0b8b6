//! Reading Heat's rows, on any backend: the stack, resource, template, lock and engine
//! rows heat-converge uses, as typed values. A conversion run reads in batches: a handful
//! of queries for the whole cloud (stacks, locks, engines), then one query per batch of
//! trees for resources and templates, never one per resource or per stack.
//!
//! Only rows live here: what a stack *means* (its definition, its graph) is built above,
//! in [`crate::source`].

use super::{int, text, Connection, Param, Row};
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// How many ids go into one `IN (...)` list.
pub const BATCH: usize = 500;

/// The state of the whole cloud a run starts from.
#[derive(Clone, Debug, Default)]
pub struct Inventory {
    /// Every live stack, by id.
    pub stacks: BTreeMap<String, StackRow>,
    /// stack id -> engine id holding Heat's lock on it.
    pub locks: HashMap<String, String>,
    /// engine id -> its service record.
    pub engines: HashMap<String, Engine>,
}

/// A heat-engine's `service` row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Engine {
    pub host: String,
    /// The row is soft-deleted: the engine stopped for good.
    pub deleted: bool,
    /// Its last heartbeat (`updated_at`, else `created_at`), as the database wrote it (UTC).
    pub heartbeat: Option<String>,
    /// Seconds between heartbeats.
    pub report_interval: Option<i64>,
}

/// A resource row, the columns the conversion uses.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceRow {
    pub id: i64,
    pub name: String,
    pub stack_id: String,
    pub action: String,
    pub status: String,
    pub attr_data_id: Option<i64>,
}

impl ResourceRow {
    /// Heat's "active" resources: every row but those deleted and done.
    pub fn is_active(&self) -> bool {
        !(self.action == "DELETE" && self.status == "COMPLETE")
    }
}

pub fn inventory(conn: &mut dyn Connection) -> Result<Inventory> {
    let mut inv = Inventory::default();
    let rows = conn
        .query(include_str!("../../sql/live_stacks.sql"), &[])
        .context("reading Heat's stack table (is this a Heat database?)")?;
    for r in rows {
        let s = stack_row(&r);
        inv.stacks.insert(s.id.clone(), s);
    }
    for r in conn.query(include_str!("../../sql/stack_locks.sql"), &[])? {
        if let (Some(s), Some(e)) = (text(&r, 0), text(&r, 1)) {
            inv.locks.insert(s, e);
        }
    }
    for r in conn.query(include_str!("../../sql/engine_services.sql"), &[])? {
        if let Some(e) = text(&r, 0) {
            inv.engines.insert(
                e,
                Engine {
                    host: text(&r, 1).unwrap_or_default(),
                    deleted: int(&r, 2) == Some(1),
                    heartbeat: text(&r, 3).map(|t| t.trim().to_string()),
                    report_interval: int(&r, 4),
                },
            );
        }
    }
    Ok(inv)
}

/// Runs `sql` (with `{ids}`) over `ids` in batches and collects the rows.
fn in_batches(conn: &mut dyn Connection, sql: &str, ids: &[Param]) -> Result<Vec<Row>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(BATCH) {
        let marks = vec!["?"; chunk.len()].join(", ");
        out.extend(conn.query(&sql.replace("{ids}", &marks), chunk)?);
    }
    Ok(out)
}

/// The resources of the given stacks, by stack id.
pub fn resources(
    conn: &mut dyn Connection,
    stack_ids: &[String],
) -> Result<HashMap<String, Vec<ResourceRow>>> {
    let ids: Vec<Param> = stack_ids.iter().map(|s| Param::Text(s.clone())).collect();
    let mut out: HashMap<String, Vec<ResourceRow>> = HashMap::new();
    for r in in_batches(
        conn,
        include_str!("../../sql/resources_of_stacks.sql"),
        &ids,
    )? {
        let res = ResourceRow {
            id: int(&r, 0).unwrap_or_default(),
            name: text(&r, 1).unwrap_or_default(),
            stack_id: text(&r, 2).unwrap_or_default(),
            action: text(&r, 3).unwrap_or_default(),
            status: text(&r, 4).unwrap_or_default(),
            attr_data_id: int(&r, 5),
        };
        out.entry(res.stack_id.clone()).or_default().push(res);
    }
    for v in out.values_mut() {
        v.sort_by_key(|r| r.id);
    }
    Ok(out)
}

/// Raw templates by id, with their files; a template that cannot be read is an error
/// value for that id only (its tree is skipped, the run goes on).
pub fn raw_templates(
    conn: &mut dyn Connection,
    ids: &[i64],
) -> Result<HashMap<i64, Result<RawTemplateRow, String>>> {
    let params: Vec<Param> = ids.iter().map(|i| Param::Int(*i)).collect();
    let rows = in_batches(conn, include_str!("../../sql/raw_templates.sql"), &params)?;
    let files_ids: Vec<Param> = rows
        .iter()
        .filter_map(|r| int(r, 4))
        .map(Param::Int)
        .collect();
    let mut files_rows: HashMap<i64, Option<String>> = HashMap::new();
    for r in in_batches(
        conn,
        include_str!("../../sql/raw_template_files.sql"),
        &files_ids,
    )? {
        if let Some(id) = int(&r, 0) {
            files_rows.insert(id, text(&r, 1));
        }
    }
    let mut out = HashMap::new();
    for r in rows {
        let Some(id) = int(&r, 0) else { continue };
        out.insert(
            id,
            parse_template_row(id, &r, &files_rows).map_err(|e| format!("{e:#}")),
        );
    }
    Ok(out)
}

fn parse_template_row(
    id: i64,
    r: &Row,
    files_rows: &HashMap<i64, Option<String>>,
) -> Result<RawTemplateRow> {
    let json = |v: Option<String>, what: &str| -> Result<Value> {
        match v.as_deref().map(str::trim) {
            None | Some("") => Ok(Value::Null),
            Some(t) => serde_json::from_str(t)
                .with_context(|| format!("raw_template {id}: {what} is not valid JSON")),
        }
    };
    let mut files = HashMap::new();
    let mut add_files = |v: Value, what: &str| -> Result<()> {
        match v {
            Value::Null => Ok(()),
            Value::Object(m) => {
                for (k, v) in m {
                    let content = match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    files.insert(k, content);
                }
                Ok(())
            }
            _ => bail!("raw_template {id}: {what} is not a map of files"),
        }
    };
    add_files(json(text(r, 3), "files")?, "files")?;
    if let Some(fid) = int(r, 4) {
        let stored = files_rows.get(&fid).cloned().flatten();
        add_files(json(stored, "raw_template_files")?, "raw_template_files")?;
    }
    Ok(RawTemplateRow {
        id,
        template: json(text(r, 1), "template")?,
        environment: json(text(r, 2), "environment")?,
        files,
    })
}

/// A row of Heat's `stack` table, the columns heat-converge uses.
#[derive(Clone, Debug, PartialEq)]
pub struct StackRow {
    pub id: String,
    pub name: String,
    pub tenant: String,
    pub owner_id: Option<String>,
    pub raw_template_id: Option<i64>,
    pub prev_raw_template_id: Option<i64>,
    pub action: String,
    pub status: String,
    pub convergence: bool,
    pub backup: bool,
    pub nested_depth: i64,
    pub deleted: bool,
}

/// A row of `raw_template`, its JSON columns parsed.
#[derive(Clone, Debug)]
pub struct RawTemplateRow {
    pub id: i64,
    pub template: Value,
    pub environment: Value,
    /// name -> content, from `raw_template.files` or its `raw_template_files` row.
    pub files: HashMap<String, String>,
}

/// A `StackRow` from a row in the columns of `sql/stack_by_id.sql`.
pub(crate) fn stack_row(r: &Row) -> StackRow {
    StackRow {
        id: text(r, 0).unwrap_or_default(),
        name: text(r, 1).unwrap_or_default(),
        tenant: text(r, 2).unwrap_or_default(),
        owner_id: text(r, 3),
        raw_template_id: int(r, 4),
        prev_raw_template_id: int(r, 5),
        action: text(r, 6).unwrap_or_default(),
        status: text(r, 7).unwrap_or_default(),
        convergence: int(r, 8) == Some(1),
        backup: int(r, 9) == Some(1),
        nested_depth: int(r, 10).unwrap_or(0),
        deleted: int(r, 11) == Some(1),
    }
}

pub fn stack(conn: &mut dyn Connection, id: &str) -> Result<Option<StackRow>> {
    let rows = conn.query(
        include_str!("../../sql/stack_by_id.sql"),
        &[Param::Text(id.into())],
    )?;
    Ok(rows.first().map(stack_row))
}

pub fn raw_template(conn: &mut dyn Connection, id: i64) -> Result<Option<RawTemplateRow>> {
    match raw_templates(conn, &[id])?.remove(&id) {
        None => Ok(None),
        Some(Ok(row)) => Ok(Some(row)),
        Some(Err(e)) => bail!("{e}"),
    }
}
