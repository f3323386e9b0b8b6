//! Reading stacks and their templates from Heat's database, on any backend.

use super::{int, text, Connection, Param, Row};
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
    match super::load::raw_templates(conn, &[id])?.remove(&id) {
        None => Ok(None),
        Some(Ok(row)) => Ok(Some(row)),
        Some(Err(e)) => bail!("{e}"),
    }
}

/// A stored stack as Heat defines it when it loads it: its current template, stored
/// environment and files; `global` is Heat's global environment.
pub fn definition(
    row: &StackRow,
    raw: &RawTemplateRow,
    global: &Registry,
) -> Result<StackDefinition> {
    let origin = format!("stack {} ({})", row.name, row.id);
    let Value::Object(body) = raw.template.clone() else {
        bail!("{origin}: raw_template {} is not a JSON object", raw.id);
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
    StackDefinition::new(template, &env, resolver, &identity, raw.files.clone())
}

/// The stored stack `id` and its definition.
pub fn stack_definition(
    conn: &mut dyn Connection,
    id: &str,
    global: &Registry,
) -> Result<(StackRow, StackDefinition)> {
    let row = stack(conn, id)?.ok_or_else(|| anyhow!("no stack {id} in the database"))?;
    let tid = row
        .raw_template_id
        .ok_or_else(|| anyhow!("stack {} ({}): has no raw_template_id", row.name, row.id))?;
    let raw = raw_template(conn, tid)?.ok_or_else(|| {
        anyhow!(
            "stack {} ({}): raw_template {tid} is missing",
            row.name,
            row.id
        )
    })?;
    let def = definition(&row, &raw, global)?;
    Ok((row, def))
}
