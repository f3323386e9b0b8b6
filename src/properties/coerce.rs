//! Python-typed reads: `Property.get_value` coerces a value to its schema type (a null
//! string reads as `''`, an int as its digits, a float given for a string is a ValueError)
//! and fills defaults, the way Heat 27.0.1's `heat/engine/properties.py` does.

use serde_json::{Map, Value};

use super::failure::Failure;
use super::schema::{Kind, MapSchema, Schema};
use crate::python::{self, truthy};

/// A property not given: its default (coerced), else ValueError if required, else None.
pub fn unset(schema: &Schema, prop: &str) -> Result<Value, Failure> {
    if schema.default.is_some() {
        coerce(schema, &Value::Null, prop)
    } else if schema.required {
        Err(Failure::Invalid(format!("Property {prop} not assigned")))
    } else {
        Ok(Value::Null)
    }
}

/// Python's `has_default() and default() or fallback`, which Heat uses for most types:
/// a falsy default is replaced by the fallback too.
fn default_or(schema: &Schema, fallback: Value) -> Value {
    match &schema.default {
        Some(d) if truthy(d) => d.clone(),
        _ => fallback,
    }
}

/// `Property.get_value(value)` without constraint validation. `Null` is Python's None.
pub fn coerce(schema: &Schema, value: &Value, path: &str) -> Result<Value, Failure> {
    match &schema.kind {
        Kind::String => {
            let v = if value.is_null() {
                default_or(schema, Value::String(String::new()))
            } else {
                value.clone()
            };
            match v {
                Value::String(_) => Ok(v),
                // `_get_string`: a bool or an int as Python's `str()` writes it.
                Value::Bool(_) => Ok(Value::String(python::str(&v))),
                Value::Number(ref n) if !n.is_f64() => Ok(Value::String(python::str(&v))),
                other => Err(Failure::Invalid(format!(
                    "Value must be a string; got {other}"
                ))),
            }
        }
        Kind::Number => {
            let v = if value.is_null() {
                default_or(schema, Value::from(0))
            } else {
                value.clone()
            };
            match v {
                Value::Number(_) | Value::Bool(_) => Ok(v),
                Value::String(s) => str_to_num(&s),
                other => Err(Failure::Invalid(format!("invalid number {other}"))),
            }
        }
        Kind::Boolean => {
            let v = if value.is_null() {
                default_or(schema, Value::Bool(false))
            } else {
                value.clone()
            };
            match v {
                Value::Bool(_) => Ok(v),
                Value::String(s) => match s.to_lowercase().as_str() {
                    "true" => Ok(Value::Bool(true)),
                    "false" => Ok(Value::Bool(false)),
                    other => Err(Failure::Invalid(format!(
                        "\"{other}\" is not a valid boolean"
                    ))),
                },
                other => Err(Failure::Invalid(format!(
                    "\"{other}\" is not a valid boolean"
                ))),
            }
        }
        Kind::Map(fields) => {
            // `_get_map` uses a plain conditional here, not the `and/or` idiom.
            let v = if value.is_null() {
                schema
                    .default
                    .clone()
                    .unwrap_or_else(|| Value::Object(Map::new()))
            } else {
                value.clone()
            };
            match (v, fields) {
                (Value::Object(o), Some(ms)) => read_map(ms, &o, path),
                (Value::Object(o), None) => Ok(Value::Object(o)),
                (Value::String(s), _) if schema.allow_conversion => Ok(Value::String(s)),
                (Value::Array(_), _) if schema.allow_conversion => Err(Failure::Unmodelled(
                    format!("{path}: json.dumps of a list given for a map"),
                )),
                (other, _) => Err(Failure::Invalid(format!("\"{other}\" is not a map"))),
            }
        }
        Kind::List(item) => {
            let v = if value.is_null() {
                default_or(schema, Value::Array(vec![]))
            } else {
                value.clone()
            };
            let v = match v {
                Value::String(s) if schema.allow_conversion => Value::Array(if s.is_empty() {
                    vec![]
                } else {
                    s.split(',').map(|p| Value::String(p.to_string())).collect()
                }),
                other => other,
            };
            match (v, item) {
                (Value::Array(items), Some(item)) => items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| coerce(item, x, &format!("{path}.{i}")))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::Array),
                (Value::Array(items), None) => Ok(Value::Array(items)),
                (other, _) => Err(Failure::Invalid(format!("\"{other}\" is not a list"))),
            }
        }
    }
}

/// `Schema.str_to_num`: `int(s)`, else `float(s)`.
fn str_to_num(s: &str) -> Result<Value, Failure> {
    python::int_or_float(s).map_err(|e| match e {
        python::NotANumber::NonFinite => Failure::Unmodelled(format!("non-finite number {s:?}")),
        python::NotANumber::Invalid => {
            Failure::Invalid(format!("could not convert string to float: {s:?}"))
        }
    })
}

/// A map with a schema is read through a nested `Properties`: every schema key is read
/// (unknown keys dropped), with the `value_name` REPLACE rules applied on the raw dict.
fn read_map(ms: &MapSchema, data: &Map<String, Value>, path: &str) -> Result<Value, Failure> {
    let mut out = Map::new();
    for (key, schema) in &ms.fields {
        let here = format!("{path}.{key}");
        let value = if ms.renames.iter().any(|r| r.old == key) {
            unset(schema, key)?
        } else {
            let source = ms.renames.iter().find(|r| r.new == key).map(|r| r.old);
            // The source is read raw from the dict (not coerced), as `get_value` does.
            let raw_source = |old: &str| data.get(old).cloned().unwrap_or(Value::Null);
            match (data.get(key), source) {
                (Some(v), None) => coerce(schema, v, &here)?,
                (Some(v), Some(old)) => {
                    let old_value = raw_source(old);
                    if truthy(&old_value) && truthy(v) {
                        return Err(Failure::conflict(&here, old));
                    }
                    coerce(
                        schema,
                        if old_value.is_null() { v } else { &old_value },
                        &here,
                    )?
                }
                (None, Some(old)) if !raw_source(old).is_null() || schema.default.is_some() => {
                    coerce(schema, &raw_source(old), &here)?
                }
                (None, _) => unset(schema, key)?,
            }
        };
        out.insert(key.clone(), value);
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::properties::string;
    use serde_json::json;

    #[test]
    fn string_coercion_follows_property_get_string() {
        let s = string();
        assert_eq!(coerce(&s, &Value::Null, "p"), Ok(json!("")));
        assert_eq!(coerce(&s, &json!(5), "p"), Ok(json!("5")));
        assert_eq!(coerce(&s, &json!(true), "p"), Ok(json!("True")));
        assert!(matches!(
            coerce(&s, &json!(1.5), "p"),
            Err(Failure::Invalid(_))
        ));
        assert!(matches!(
            coerce(&s, &json!(["a"]), "p"),
            Err(Failure::Invalid(_))
        ));
    }
}
