//! Resource definitions, parsed and checked as Heat's `ResourceDefinition`s are (keys,
//! types, `depends_on`, `external_id`), with disabled resources dropped by their condition.

use super::{ResourceDefinition, StackDefinition};
use crate::template::snippet::{parse, Snippet, Table};
use anyhow::{anyhow, bail, Result};
use serde_json::Value;

impl StackDefinition {
    pub(super) fn resource_definitions(&self) -> Result<Vec<ResourceDefinition>> {
        let keys = self.template.resource_keys();
        let section = if self.template.is_hot() {
            "resources"
        } else {
            "Resources"
        };
        let mut out = Vec::new();
        for (name, raw) in self.template.resources()? {
            let at = |k: &str| format!("{section}.{name}.{k}");
            let fail = |e: anyhow::Error| anyhow!("{}: {e:#}", self.origin());
            let mut invalid: Vec<&str> = raw
                .keys()
                .map(String::as_str)
                .filter(|k| !keys.all.contains(k))
                .collect();
            if !invalid.is_empty() {
                invalid.sort();
                return Err(fail(anyhow!(
                    "{section}.{name}: Invalid keyword(s) inside a resource definition: {}",
                    invalid.join(", ")
                )));
            }
            let raw_type = raw
                .get(keys.kind)
                .ok_or_else(|| fail(anyhow!("Resource {name} is missing \"{}\"", keys.kind)))?;
            let type_name = match self
                .resolve(&parse(raw_type, Table::Regular, self, &at(keys.kind)).map_err(fail)?)
            {
                Ok(Value::String(s)) => s,
                _ => {
                    return Err(fail(anyhow!(
                        "Resource {name} {} type must be string",
                        keys.kind
                    )))
                }
            };
            let object_field = |key: &str| -> Result<Option<Snippet>> {
                let Some(raw) = raw.get(key) else {
                    return Ok(None);
                };
                let parsed = parse(raw, Table::Regular, self, &at(key))?;
                match &parsed {
                    Snippet::Map(_) | Snippet::Call(_) => Ok(Some(parsed)),
                    // Heat checks the parsed value: `null` is not a mapping either.
                    _ => bail!("Resource {name} {key} type must be object"),
                }
            };
            let properties = object_field(keys.properties).map_err(fail)?;
            let metadata = object_field(keys.metadata).map_err(fail)?;
            let depends_on = match raw.get(keys.depends_on) {
                None => Vec::new(),
                Some(Value::String(s)) => vec![s.clone()],
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|i| i.as_str().map(String::from))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        fail(anyhow!(
                            "Resource {name} {} must be a list of strings",
                            keys.depends_on
                        ))
                    })?,
                Some(Value::Null) => Vec::new(),
                Some(_) => {
                    return Err(fail(anyhow!(
                        "Resource {name} {} type must be list or string",
                        keys.depends_on
                    )))
                }
            };
            let external_id = match keys.external_id.and_then(|k| raw.get(k).map(|v| (k, v))) {
                None => None,
                Some((k, v)) => Some(parse(v, Table::Regular, self, &at(k)).map_err(fail)?),
            };
            if let Some(raw_cond) = raw.get(keys.condition) {
                let cond =
                    parse(raw_cond, Table::Condition, self, &at(keys.condition)).map_err(fail)?;
                let enabled = match &cond {
                    Snippet::Scalar(Value::Bool(b)) => *b,
                    Snippet::Scalar(Value::String(c)) => self
                        .condition_enabled(c)
                        .map_err(|e| fail(anyhow!("{}: {e}", at(keys.condition))))?,
                    Snippet::Call(_) => self.condition_operand(&cond).map_err(fail)?,
                    Snippet::Scalar(Value::Null) => true,
                    _ => {
                        return Err(fail(anyhow!(
                            "Resource {name} {} type must be string_or_boolean",
                            keys.condition
                        )))
                    }
                };
                if !enabled {
                    continue;
                }
            }
            let plugin = self
                .resolver
                .plugin(&type_name, name)
                .map_err(|e| fail(anyhow!("{section}.{name}: {e}")))?;
            out.push(ResourceDefinition {
                name: name.clone(),
                type_name,
                plugin,
                properties,
                metadata,
                depends_on,
                external_id,
            });
        }
        Ok(out)
    }

    /// True when `name` is an enabled resource of the stack.
    pub fn has_resource(&self, name: &str) -> bool {
        self.resources.iter().any(|r| r.name == name)
    }

    /// True when `name` is a resource of the template, enabled or not.
    pub fn in_template(&self, name: &str) -> bool {
        self.all_names.contains(name)
    }

    pub fn resource(&self, name: &str) -> Option<&ResourceDefinition> {
        self.resources.iter().find(|r| r.name == name)
    }

    /// What `get_resource` yields while Heat builds the graph: the resource's name. A
    /// stack loaded from the database has no resource data in its definition, so even a
    /// created resource resolves to its name there, whatever its physical id (checked
    /// against Heat 27.0.1's `Stack.load`).
    pub fn reference_id(&self, name: &str) -> Value {
        Value::String(name.to_string())
    }
}
