//! The list functions: `list_concat` (and `_unique`), `filter`, `contains`,
//! `Fn::Select`, and the path of `get_param`. Items compare with Python's `==` and
//! indexes are read with Python's `int()` and negative indexing ([`crate::python`]).

use crate::python;
use anyhow::{anyhow, bail, Result};
use serde_json::Value;

/// `list_concat` and `list_concat_unique`.
pub fn list_concat(name: &str, unique: bool, args: &Value) -> Result<Value> {
    let Value::Array(lists) = args else {
        bail!(
            "Incorrect arguments to \"{name}\" should be: \"{name}\" : [ [ <value 1>, <value 2> ], [ <value 3>, <value 4> ] ]"
        )
    };
    let mut all = Vec::new();
    for l in lists {
        match l {
            Value::Null => {}
            Value::Array(items) => all.extend(items.iter().cloned()),
            other => bail!(
                "Incorrect arguments: Items to concat must be lists. {} contains an item \
                 that is not a list: {}",
                python::json_dumps_sorted(args),
                python::json_dumps_sorted(other)
            ),
        }
    }
    if !unique {
        return Ok(Value::Array(all));
    }
    let mut out: Vec<Value> = Vec::new();
    for item in all {
        if !out.iter().any(|o| python::eq(o, &item)) {
            out.push(item);
        }
    }
    Ok(Value::Array(out))
}

/// `filter: [values, list]`: the list without the values (a falsy list or values leave
/// it as it is).
pub fn filter(name: &str, values: &Value, sequence: &Value) -> Result<Value> {
    if !python::truthy(sequence) {
        return Ok(sequence.clone());
    }
    let Value::Array(seq) = sequence else {
        bail!("\"{name}\" only works with lists")
    };
    if !python::truthy(values) {
        return Ok(sequence.clone());
    }
    let Value::Array(values) = values else {
        bail!("\"{name}\" filters a list of values")
    };
    Ok(Value::Array(
        seq.iter()
            .filter(|i| !values.iter().any(|v| python::eq(v, i)))
            .cloned()
            .collect(),
    ))
}

/// `contains: [value, sequence]`: Python's `in`, a substring test on a string.
pub fn contains(name: &str, value: &Value, sequence: &Value) -> Result<bool> {
    match sequence {
        Value::Array(items) => Ok(items.iter().any(|i| python::eq(i, value))),
        Value::String(hay) => match value {
            Value::String(needle) => Ok(hay.contains(needle.as_str())),
            other => bail!(
                "'in <string>' requires string as left operand, not {}",
                python::type_name(other)
            ),
        },
        _ => bail!("Second argument to \"{name}\" should be a sequence."),
    }
}

/// `Fn::Select: [index, collection]` (also HOT before 2015-10-15): '' when the item is
/// not there; a string collection is read as JSON.
pub fn select(name: &str, index: &Value, strings: &Value) -> Result<Value> {
    let empty = || Value::String(String::new());
    let parsed;
    let strings = match strings {
        Value::String(s) if s.is_empty() => return Ok(empty()),
        Value::String(s) => {
            parsed = serde_json::from_str::<Value>(s).map_err(|e| anyhow!("\"{name}\": {e}"))?;
            &parsed
        }
        other => other,
    };
    match strings {
        Value::Object(m) => match index {
            Value::String(k) => Ok(m.get(k).cloned().unwrap_or_else(empty)),
            _ => bail!("Index to \"{name}\" must be a string"),
        },
        // A JSON string that held a string: Python indexes its characters.
        Value::Array(_) | Value::String(_) => {
            let Some(i) = python::int(index) else {
                bail!("Index to \"{name}\" must be an integer")
            };
            Ok(match strings {
                Value::Array(items) => python::item(items, i).cloned().unwrap_or_else(empty),
                Value::String(s) => {
                    let chars: Vec<char> = s.chars().collect();
                    python::item(&chars, i)
                        .map(|c| Value::String(c.to_string()))
                        .unwrap_or_else(empty)
                }
                _ => empty(),
            })
        }
        Value::Null => Ok(empty()),
        _ => bail!("Arguments to {name} not fully resolved"),
    }
}

/// `get_param`'s path: each step into a map (by key) or a list or string (by index, a
/// string index read with `int()`); '' as soon as a step does not exist.
pub fn param_path(value: Value, path: &[Value]) -> Value {
    let mut value = value;
    for step in path {
        let next = match (&value, step) {
            // A key must be a str or an int (bool included); anything else is a TypeError.
            (_, Value::String(_) | Value::Number(_) | Value::Bool(_)) if matches!(step, Value::Number(n) if n.is_f64()) => {
                None
            }
            (Value::Object(m), Value::String(k)) => m.get(k).cloned(),
            // The keys of a parameter's map are strings: an int finds none of them.
            (Value::Object(_), _) => None,
            (Value::Array(a), Value::String(_) | Value::Number(_) | Value::Bool(_)) => {
                // int('1.0') fails (a TypeError for Heat, so '').
                let index = match step {
                    Value::String(s) => python::int(&Value::String(s.clone())),
                    other => python::int(other),
                };
                index.and_then(|i| python::item(a, i)).cloned()
            }
            (Value::String(s), Value::String(_) | Value::Number(_) | Value::Bool(_)) => {
                let chars: Vec<char> = s.chars().collect();
                python::int(step)
                    .and_then(|i| python::item(&chars, i))
                    .map(|c| Value::String(c.to_string()))
            }
            _ => None,
        };
        value = match next {
            Some(v) => v,
            None => return Value::String(String::new()),
        };
    }
    value
}

#[cfg(test)]
mod tests {
    //! Expected values are Python's, worked out by hand from Heat 27.0.1's code (the
    //! differential templates in tests/templates/graph check them against Heat itself).
    use super::*;
    use crate::stack::resolve::data::test_error as err;
    use serde_json::json;

    #[test]
    fn list_functions_use_python_equality() {
        assert_eq!(
            list_concat(
                "list_concat_unique",
                true,
                &json!([[1, "1", 1.0, true], null, [[1], [1.0]]])
            )
            .unwrap(),
            json!([1, "1", [1]])
        );
        assert!(err(list_concat("list_concat", false, &json!([[1], "x"])))
            .contains("contains an item that is not a list: \"x\""));
        assert_eq!(
            filter("filter", &json!([1, null]), &json!([1.0, 2, null, "1"])).unwrap(),
            json!([2, "1"])
        );
        // A falsy sequence or values list leaves the sequence as it is, whatever it is.
        assert_eq!(
            filter("filter", &json!([1]), &json!("")).unwrap(),
            json!("")
        );
        assert_eq!(
            filter("filter", &json!(null), &json!([1])).unwrap(),
            json!([1])
        );
        assert!(
            err(filter("filter", &json!("a"), &json!([1]))).contains("filters a list of values")
        );
        assert!(contains("contains", &json!(1), &json!([true])).unwrap());
        assert!(contains("contains", &json!("é"), &json!("café")).unwrap());
        assert!(!contains("contains", &json!(""), &json!([])).unwrap());
    }

    #[test]
    fn select_reads_indexes_with_int() {
        let sel = |i: Value, c: Value| select("Fn::Select", &i, &c);
        assert_eq!(sel(json!(1.0), json!(["a", "b"])).unwrap(), json!("b"));
        assert_eq!(sel(json!(" 1 "), json!(["a", "b"])).unwrap(), json!("b"));
        assert_eq!(sel(json!(-1), json!(["a", "b"])).unwrap(), json!("b"));
        assert_eq!(sel(json!(true), json!(["a", "b"])).unwrap(), json!("b"));
        assert_eq!(sel(json!(5), json!(["a"])).unwrap(), json!(""));
        assert_eq!(sel(json!("k"), json!({"k": 1})).unwrap(), json!(1));
        assert_eq!(sel(json!("x"), json!({"k": 1})).unwrap(), json!(""));
        assert_eq!(sel(json!(0), json!("[\"j\"]")).unwrap(), json!("j"));
        assert_eq!(sel(json!(0), json!("")).unwrap(), json!(""));
        assert_eq!(sel(json!(0), Value::Null).unwrap(), json!(""));
        assert!(err(sel(json!("1.0"), json!(["a", "b"]))).contains("must be an integer"));
        assert!(err(sel(json!(1), json!({"1": "a"}))).contains("must be a string"));
        assert!(err(sel(json!(0), json!(3))).contains("not fully resolved"));
    }

    #[test]
    fn param_paths_look_up_as_heat() {
        let p = json!({"1": "one", "l": ["a", "b"], "s": "xyz"});
        let at = |path: Value| param_path(p.clone(), path.as_array().unwrap());
        assert_eq!(at(json!(["1"])), json!("one"));
        // A parameter's map has string keys only: the int 1 finds nothing.
        assert_eq!(at(json!([1])), json!(""));
        assert_eq!(at(json!(["l", "1"])), json!("b"));
        assert_eq!(at(json!(["l", -2])), json!("a"));
        assert_eq!(at(json!(["l", true])), json!("b"));
        assert_eq!(at(json!(["l", 1.0])), json!(""));
        assert_eq!(at(json!(["l", "x"])), json!(""));
        assert_eq!(at(json!(["s", 2])), json!("z"));
        assert_eq!(at(json!(["l", 0, 0])), json!("a"));
        assert_eq!(at(json!(["missing", "x"])), json!(""));
    }
}
