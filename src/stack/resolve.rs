//! Intrinsic functions resolved as Heat's `function.resolve` resolves them while it builds
//! the graph of a stored stack: references give names, attributes give None, and the data
//! functions that names and conditions are built from give their values.

use super::StackDefinition;
use crate::python;
use crate::template::functions::FnKind;
use crate::template::snippet::{Call, Snippet};
use anyhow::{anyhow, bail, Result};
use serde_json::{Map, Value};

impl StackDefinition {
    /// Resolves a parsed snippet to a value, as Heat's `function.resolve` does for the
    /// functions that matter before any resource exists. Attributes of resources are not
    /// known (None), as for a stack that has not run.
    pub fn resolve(&self, s: &Snippet) -> Result<Value> {
        match s {
            Snippet::Scalar(v) => Ok(v.clone()),
            Snippet::Absent => Ok(Value::Null),
            Snippet::List(items) => Ok(Value::Array(
                items
                    .iter()
                    .filter(|i| !matches!(i, Snippet::Absent))
                    .map(|i| self.resolve(i))
                    .collect::<Result<_>>()?,
            )),
            Snippet::Map(items) => {
                let mut m = Map::new();
                for (k, v) in items {
                    if !matches!(v, Snippet::Absent) {
                        m.insert(k.clone(), self.resolve(v)?);
                    }
                }
                Ok(Value::Object(m))
            }
            Snippet::Call(call) => self.resolve_call(call),
        }
    }

    fn resolve_call(&self, call: &Call) -> Result<Value> {
        let args = &call.args;
        match call.kind {
            FnKind::If { .. } => self.resolve(args),
            FnKind::GetResource => {
                let name = python::str(&self.resolve(args)?);
                if !self.has_resource(&name) {
                    bail!(
                        "The specified reference \"{name}\" (in {}) is incorrect.",
                        call.path
                    );
                }
                Ok(self.reference_id(&name))
            }
            FnKind::GetAttr(_) => Ok(Value::Null),
            FnKind::GetParam | FnKind::Ref => self.get_param(&self.resolve(args)?),
            FnKind::Equals => {
                let v = self.resolve(args)?;
                match v.as_array().map(Vec::as_slice) {
                    Some([a, b]) => Ok(Value::Bool(python::eq(a, b))),
                    _ => bail!(
                        "Arguments to \"{}\" must be of the form: [value_1, value_2]",
                        call.name
                    ),
                }
            }
            FnKind::Not => Ok(Value::Bool(!self.condition_operand(args)?)),
            FnKind::And | FnKind::Or => {
                let Snippet::List(items) = args else {
                    bail!(
                        "Arguments to \"{}\" must be of the form: [condition_1, condition_2, ...]",
                        call.name
                    )
                };
                let want_all = call.kind == FnKind::And;
                for item in items {
                    let b = self.condition_operand(item)?;
                    if b != want_all {
                        return Ok(Value::Bool(!want_all));
                    }
                }
                Ok(Value::Bool(want_all))
            }
            FnKind::Contains => {
                let v = self.resolve(args)?;
                match v.as_array().map(Vec::as_slice) {
                    Some([needle, Value::Array(hay)]) => {
                        Ok(Value::Bool(hay.iter().any(|h| python::eq(h, needle))))
                    }
                    _ => bail!(
                        "Arguments to \"{}\" must be of the form: [value1, [value1, value2]]",
                        call.name
                    ),
                }
            }
            FnKind::Removed | FnKind::Invalid => {
                bail!("The function \"{}\" is not supported here", call.name)
            }
            FnKind::Other => self.resolve_other(&call.name, call),
        }
    }

    /// `get_param: name` or `get_param: [name, key-or-index, ...]`.
    fn get_param(&self, arg: &Value) -> Result<Value> {
        let (name, path) = match arg {
            Value::String(s) => (s.clone(), &[][..]),
            Value::Array(items) if !items.is_empty() => (python::str(&items[0]), &items[1..]),
            other => bail!(
                "Function \"get_param\" must have arguments, not a {}",
                python::type_name(other)
            ),
        };
        let mut value = self.parameters.value(&name)?;
        for step in path {
            let next = match (&value, step) {
                (Value::Object(m), k) => m.get(&python::str(k)).cloned(),
                (Value::Array(a), Value::Number(n)) => {
                    n.as_u64().and_then(|i| a.get(i as usize)).cloned()
                }
                (Value::Array(a), Value::String(s)) => {
                    s.parse::<usize>().ok().and_then(|i| a.get(i)).cloned()
                }
                _ => None,
            };
            // Heat returns '' when a path step does not exist.
            value = match next {
                Some(v) => v,
                None => return Ok(Value::String(String::new())),
            };
        }
        Ok(value)
    }

    /// The data functions whose values can matter before a stack runs (resource names
    /// built from parameters, conditions comparing joined strings, implicit rules reading
    /// properties). Others are reported as not resolvable.
    fn resolve_other(&self, name: &str, call: &Call) -> Result<Value> {
        let v = self.resolve(&call.args)?;
        let shape = || {
            anyhow!(
                "{}: cannot resolve \"{name}\" with these arguments",
                call.path
            )
        };
        match name {
            "list_join" | "Fn::Join" => {
                let a = v.as_array().ok_or_else(shape)?;
                let (sep, lists) = a.split_first().ok_or_else(shape)?;
                let sep = sep.as_str().ok_or_else(shape)?;
                let mut parts = Vec::new();
                for l in lists {
                    match l {
                        Value::Array(items) => parts.extend(items.iter().map(join_item)),
                        Value::Null => {}
                        _ => return Err(shape()),
                    }
                }
                Ok(Value::String(parts.join(sep)))
            }
            "Fn::Select" => {
                let a = v.as_array().ok_or_else(shape)?;
                let (idx, coll) = match a.as_slice() {
                    [i, c] => (i, c),
                    _ => return Err(shape()),
                };
                Ok(match coll {
                    Value::Array(items) => python::str(idx)
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| items.get(i).cloned())
                        .unwrap_or(Value::String(String::new())),
                    Value::Object(m) => m
                        .get(&python::str(idx))
                        .cloned()
                        .unwrap_or(Value::String(String::new())),
                    _ => Value::String(String::new()),
                })
            }
            "Fn::FindInMap" => {
                let a = v.as_array().ok_or_else(shape)?;
                let keys: Vec<String> = a.iter().map(python::str).collect();
                match keys.as_slice() {
                    [m, k, x] => self
                        .mappings
                        .get(m)
                        .and_then(|mm| mm.get(k))
                        .and_then(|kk| kk.get(x))
                        .cloned()
                        .ok_or_else(|| anyhow!("{}: no mapping {m}.{k}.{x}", call.path)),
                    _ => Err(shape()),
                }
            }
            "str_replace" | "Fn::Replace" => {
                let (template, params) = if name == "Fn::Replace" {
                    let a = v.as_array().ok_or_else(shape)?;
                    match a.as_slice() {
                        [p, t] => (t.clone(), p.clone()),
                        _ => return Err(shape()),
                    }
                } else {
                    (
                        v.get("template").cloned().ok_or_else(shape)?,
                        v.get("params").cloned().ok_or_else(shape)?,
                    )
                };
                let mut text = python::str(&template);
                let params = params.as_object().ok_or_else(shape)?;
                let mut keys: Vec<&String> = params.keys().collect();
                keys.sort_by_key(|k| std::cmp::Reverse(k.len()));
                for k in keys {
                    text = text.replace(k.as_str(), &python::str(&params[k]));
                }
                Ok(Value::String(text))
            }
            "map_merge" => {
                let mut out = Map::new();
                for m in v.as_array().ok_or_else(shape)? {
                    if let Value::Object(m) = m {
                        out.extend(m.clone());
                    }
                }
                Ok(Value::Object(out))
            }
            "list_concat" => {
                let mut out = Vec::new();
                for l in v.as_array().ok_or_else(shape)? {
                    out.extend(l.as_array().cloned().unwrap_or_default());
                }
                Ok(Value::Array(out))
            }
            "str_split" | "Fn::Split" => {
                let a = v.as_array().ok_or_else(shape)?;
                let (sep, s) = match a.as_slice() {
                    [d, s, ..] => (python::str(d), python::str(s)),
                    _ => return Err(shape()),
                };
                let parts: Vec<Value> = s
                    .split(sep.as_str())
                    .map(|p| Value::String(p.to_string()))
                    .collect();
                match a.get(2) {
                    Some(i) => Ok(python::str(i)
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| parts.get(i).cloned())
                        .unwrap_or(Value::Null)),
                    None => Ok(Value::Array(parts)),
                }
            }
            _ => bail!(
                "{}: the value of \"{name}\" cannot be known before the stack runs",
                call.path
            ),
        }
    }
}

fn join_item(v: &Value) -> String {
    match v {
        Value::Object(_) | Value::Array(_) => v.to_string(),
        other => python::str(other),
    }
}
