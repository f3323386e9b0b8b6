//! Reading stacks and their templates from Heat's database, on any backend.

use super::{Connection, Param, Row};
use crate::environment::{Environment, Registry, Resolver};
use crate::parameters::StackIdentity;
use crate::stack::StackDefinition;
use crate::template::Template;
use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;
use std::collections::HashMap;

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

fn text(row: &Row, i: usize) -> Option<String> {
    match row.get(i)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn int(row: &Row, i: usize) -> Option<i64> {
    match row.get(i)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

pub fn stack(conn: &mut dyn Connection, id: &str) -> Result<Option<StackRow>> {
    let rows = conn.query(
        include_str!("../../sql/stack_by_id.sql"),
        &[Param::Text(id.into())],
    )?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    Ok(Some(StackRow {
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
    }))
}

/// Parses a JSON text column; NULL and empty read as null.
fn json_column(v: Option<String>, what: &str) -> Result<Value> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(Value::Null),
        Some(t) => serde_json::from_str(t).with_context(|| format!("{what} is not valid JSON")),
    }
}

fn files_map(v: Value, what: &str) -> Result<HashMap<String, String>> {
    match v {
        Value::Null => Ok(HashMap::new()),
        Value::Object(m) => Ok(m
            .into_iter()
            .map(|(k, v)| {
                let content = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, content)
            })
            .collect()),
        _ => bail!("{what} is not a map of files"),
    }
}

pub fn raw_template(conn: &mut dyn Connection, id: i64) -> Result<Option<RawTemplateRow>> {
    let rows = conn.query(
        include_str!("../../sql/raw_template_by_id.sql"),
        &[Param::Int(id)],
    )?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let what = format!("raw_template {id}");
    let mut files = files_map(json_column(text(r, 3), &format!("{what} files"))?, &what)?;
    if let Some(files_id) = int(r, 4) {
        let rows = conn.query(
            include_str!("../../sql/raw_template_files_by_id.sql"),
            &[Param::Int(files_id)],
        )?;
        let stored = rows.first().and_then(|r| text(r, 0));
        let more = files_map(
            json_column(stored, &format!("raw_template_files {files_id}"))?,
            &what,
        )?;
        files.extend(more);
    }
    Ok(Some(RawTemplateRow {
        id,
        template: json_column(text(r, 1), &format!("{what} template"))?,
        environment: json_column(text(r, 2), &format!("{what} environment"))?,
        files,
    }))
}

/// The stored stack `id` as Heat defines it when it loads the stack: its current template,
/// stored environment and files.
pub fn stack_definition(
    conn: &mut dyn Connection,
    id: &str,
    global: &Registry,
) -> Result<(StackRow, StackDefinition)> {
    let row = stack(conn, id)?.ok_or_else(|| anyhow!("no stack {id} in the database"))?;
    let origin = format!("stack {} ({})", row.name, row.id);
    let tid = row
        .raw_template_id
        .ok_or_else(|| anyhow!("{origin}: has no raw_template_id"))?;
    let raw = raw_template(conn, tid)?
        .ok_or_else(|| anyhow!("{origin}: raw_template {tid} is missing"))?;
    let Value::Object(body) = raw.template else {
        bail!("{origin}: raw_template {tid} is not a JSON object");
    };
    let template = Template::from_body(body, &origin)?;
    let env = Environment::from_value(&raw.environment)
        .with_context(|| format!("{origin}: stored environment"))?;
    let resolver = Resolver {
        user: env.registry.clone(),
        global: global.clone(),
    };
    let identity = StackIdentity {
        name: row.name.clone(),
        id: Some(row.id.clone()),
        project: row.tenant.clone(),
    };
    let def = StackDefinition::new(template, &env, resolver, &identity, raw.files)?;
    Ok((row, def))
}
