//! The text functions: `list_join` and `Fn::Join`, `str_replace` and its strict kin,
//! `str_split` and `Fn::Split`, `Fn::Base64`. Heat joins with `str()`, JSON (sorted keys)
//! and `repr()` in its messages, and splits with Python's `str.split`: all from
//! [`crate::python`].

use crate::python;
use anyhow::{anyhow, bail, Result};
use serde_json::Value;

/// `isinstance(v, collections.abc.Sequence) and not isinstance(v, str)`.
fn as_list(v: &Value) -> Option<&Vec<Value>> {
    v.as_array()
}

/// `list_join` from HOT 2015-10-15 (`JoinMultiple`): lists after the delimiter, each
/// skipped when falsy; None items are '', maps and lists are JSON (sorted keys), other
/// non-strings are refused.
pub fn join_multiple(name: &str, delim: &Value, lists: &[Value]) -> Result<Value> {
    let mut items: Vec<&Value> = Vec::new();
    for l in lists {
        if !python::truthy(l) {
            continue;
        }
        match as_list(l) {
            Some(l) => items.extend(l.iter()),
            None => bail!("\"{name}\" must operate on a list"),
        }
    }
    let Value::String(delim) = delim else {
        bail!("\"{name}\" delimiter must be a string")
    };
    let mut parts = Vec::with_capacity(items.len());
    for s in items {
        parts.push(match s {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            Value::Array(_) | Value::Object(_) => python::json_dumps_sorted(s),
            other => bail!(
                "Items to join must be string, map or list not {}",
                truncated_repr(other)
            ),
        });
    }
    Ok(Value::String(parts.join(delim)))
}

/// `Fn::Join`, and `list_join` before HOT 2015-10-15 (`Join`): one list of strings
/// (None items are '').
pub fn join(name: &str, delim: &Value, strings: &Value) -> Result<Value> {
    let empty = Vec::new();
    let strings = match strings {
        Value::Null => &empty,
        Value::Array(a) => a,
        _ => bail!("\"{name}\" must operate on a list"),
    };
    let Value::String(delim) = delim else {
        bail!("\"{name}\" delimiter must be a string")
    };
    let mut parts = Vec::with_capacity(strings.len());
    for s in strings {
        parts.push(match s {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            other => bail!(
                "Items to join must be strings not {}",
                truncated_repr(other)
            ),
        });
    }
    Ok(Value::String(parts.join(delim)))
}

/// `repr(s)[:200]`, as Heat's messages show an item.
pub(super) fn truncated_repr(v: &Value) -> String {
    python::repr(v).chars().take(200).collect()
}

/// The flavour of `str_replace` a version has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplaceKind {
    /// `Fn::Replace`, and `str_replace` before HOT 2015-10-15: scalar params only.
    Plain,
    /// `str_replace` from HOT 2015-10-15: maps and lists as JSON.
    Json,
    /// `str_replace_strict`: every param must occur in the template.
    Strict,
    /// `str_replace_vstrict`: and none may be None or empty.
    VeryStrict,
}

/// `str_replace` and its kin: longer placeholders first (then in code-point order); a
/// replaced text is never scanned again.
pub fn replace(name: &str, kind: ReplaceKind, template: &Value, mapping: &Value) -> Result<Value> {
    let Value::String(template) = template else {
        bail!("\"{name}\" template must be a string")
    };
    let Value::Object(mapping) = mapping else {
        bail!("\"{name}\" params must be a map")
    };
    let mut keys: Vec<&String> = mapping.keys().collect();
    keys.sort();
    // Python's sort is stable, reverse=True included: equal lengths keep code-point order.
    keys.sort_by_key(|k| std::cmp::Reverse(k.chars().count()));
    let mut values = Vec::with_capacity(keys.len());
    for k in &keys {
        values.push(replacement(name, kind, &mapping[k.as_str()], k)?);
    }
    let keys: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
    let mut unreplaced: std::collections::BTreeSet<&str> = keys.iter().copied().collect();
    let text = replace_in(name, template, &keys, &values, &mut unreplaced)?;
    if matches!(kind, ReplaceKind::Strict | ReplaceKind::VeryStrict) && !unreplaced.is_empty() {
        let mut left: Vec<&str> = unreplaced.into_iter().collect();
        left.sort_by_key(|k| std::cmp::Reverse(k.chars().count()));
        bail!(
            "The following params were not found in the template: {}",
            left.join(",")
        );
    }
    Ok(Value::String(text))
}

fn replace_in<'k>(
    name: &str,
    s: &str,
    keys: &[&'k str],
    values: &[String],
    unreplaced: &mut std::collections::BTreeSet<&'k str>,
) -> Result<String> {
    let (Some(key), Some(value)) = (keys.first(), values.first()) else {
        return Ok(s.to_string());
    };
    if key.is_empty() {
        bail!("\"{name}\": empty separator");
    }
    let pieces: Vec<&str> = s.split(key).collect();
    if pieces.len() > 1 {
        unreplaced.remove(key);
    }
    let mut out = Vec::with_capacity(pieces.len());
    for p in pieces {
        out.push(replace_in(name, p, &keys[1..], &values[1..], unreplaced)?);
    }
    Ok(out.join(value))
}

/// Heat's `_validate_replacement`: the text a param value stands for.
fn replacement(name: &str, kind: ReplaceKind, v: &Value, param: &str) -> Result<String> {
    let allow_empty = kind != ReplaceKind::VeryStrict;
    let empty = || {
        anyhow!(
            "{name} has an undefined or empty value for param {param}, must be a defined \
             non-empty value"
        )
    };
    let text = match v {
        Value::Null if allow_empty => return Ok(String::new()),
        Value::Null => return Err(empty()),
        Value::String(_) | Value::Number(_) | Value::Bool(_) => python::str(v),
        Value::Array(_) | Value::Object(_) if kind == ReplaceKind::Plain => {
            bail!("\"{name}\" params must be strings or numbers, param {param} is not valid")
        }
        Value::Array(a) if a.is_empty() && !allow_empty => return Err(empty()),
        Value::Object(m) if m.is_empty() && !allow_empty => return Err(empty()),
        Value::Array(_) | Value::Object(_) => return Ok(python::json_dumps_sorted(v)),
    };
    if text.is_empty() && !allow_empty {
        return Err(empty());
    }
    Ok(text)
}

/// `str_split: [delimiter, string, index?]` (already resolved: `args`).
pub fn str_split(name: &str, args: &Value) -> Result<Value> {
    let example = || {
        anyhow!(
            "Incorrect arguments to \"{name}\" should be: \"{name}\" : [ \",\", \"apples,pears\", <index>]"
        )
    };
    let a = match args {
        Value::Array(a) if a.len() >= 2 => a,
        Value::Object(_) => bail!("\"{name}\": a map has no items to pop"),
        _ => return Err(example()),
    };
    let (delim, s) = (&a[0], &a[1]);
    let s = match s {
        Value::Null => return Ok(Value::Null),
        Value::String(s) => s,
        other => bail!(
            "\"{name}\": '{}' object has no attribute 'split'",
            python::type_name(other)
        ),
    };
    let parts = split(name, s, delim)?;
    let Some(index) = a.get(2) else {
        return Ok(Value::Array(parts));
    };
    let index = match index {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => {
            python::int(index).ok_or_else(|| {
                anyhow!(
                    "Incorrect index to \"{name}\" should be: \"{name}\" : [ \",\", \"apples,pears\", <index>]"
                )
            })?
        }
        other => bail!(
            "\"{name}\": int() argument must be a string, a bytes-like object or a real \
             number, not '{}'",
            python::type_name(other)
        ),
    };
    python::item(&parts, index).cloned().ok_or_else(|| {
        anyhow!(
            "Incorrect index to \"{name}\" should be between 0 and {}",
            parts.len() as i64 - 1
        )
    })
}

/// Python's `s.split(delim)`: None splits on runs of whitespace; an empty delimiter fails.
fn split(name: &str, s: &str, delim: &Value) -> Result<Vec<Value>> {
    let delim = match delim {
        Value::Null => None,
        Value::String(d) => Some(d.as_str()),
        other => bail!(
            "\"{name}\": must be str or None, not {}",
            python::type_name(other)
        ),
    };
    let parts = python::split(s, delim, -1)
        .map_err(|python::EmptySeparator| anyhow!("\"{name}\": empty separator"))?;
    Ok(parts
        .into_iter()
        .map(|p| Value::String(p.to_string()))
        .collect())
}

/// `Fn::Split: [delimiter, string]`; the delimiter as written (Heat does not resolve it).
pub fn cfn_split(name: &str, raw_delim: Option<&str>, strings: &Value) -> Result<Value> {
    let Some(delim) = raw_delim else {
        bail!("Delimiter for {name} must be string")
    };
    let Value::String(s) = strings else {
        bail!(
            "String to split must be string; got <class '{}'>",
            python::type_name(strings)
        )
    };
    Ok(Value::Array(split(
        name,
        s,
        &Value::String(delim.to_string()),
    )?))
}

/// `Fn::Base64`: the string itself (Heat converts nothing).
pub fn base64(name: &str, v: &Value) -> Result<Value> {
    match v {
        Value::String(_) => Ok(v.clone()),
        _ => bail!("\"{name}\" argument must be a string"),
    }
}

#[cfg(test)]
mod tests {
    //! Expected values are Python's, worked out by hand from Heat 27.0.1's code (the
    //! differential templates in tests/templates/graph check them against Heat itself).
    use super::*;
    use crate::stack::resolve::data::test_error as err;
    use serde_json::json;

    #[test]
    fn join_multiple_writes_maps_and_lists_as_sorted_json() {
        let v = join_multiple(
            "list_join",
            &json!(", "),
            &[
                json!([{"b": [1, 2.5], "a": "é"}, [true, null]]),
                json!(["z"]),
            ],
        )
        .unwrap();
        assert_eq!(
            v,
            json!("{\"a\": \"\\u00e9\", \"b\": [1, 2.5]}, [true, null], z")
        );
        // None items are '', falsy lists are skipped (even a non-list one), empty gives ''.
        assert_eq!(
            join_multiple(
                "list_join",
                &json!(","),
                &[json!([null, "a"]), json!(0), json!("")]
            )
            .unwrap(),
            json!(",a")
        );
        assert_eq!(
            join_multiple("list_join", &json!(","), &[json!([])]).unwrap(),
            json!("")
        );
    }

    #[test]
    fn join_refuses_numbers_and_strings_as_lists() {
        assert!(err(join_multiple("list_join", &json!(","), &[json!([1])]))
            .contains("Items to join must be string, map or list not 1"));
        assert!(err(join_multiple("list_join", &json!(","), &[json!([true])])).contains("True"));
        assert!(err(join_multiple("list_join", &json!(","), &[json!("ab")]))
            .contains("must operate on a list"));
        assert!(err(join_multiple("list_join", &json!(1), &[json!(["a"])]))
            .contains("delimiter must be a string"));
        // The old Join takes strings only: a map is refused.
        assert!(err(join("Fn::Join", &json!(","), &json!([{"a": 1}])))
            .contains("Items to join must be strings not {'a': 1}"));
        assert_eq!(
            join("Fn::Join", &json!("-"), &Value::Null).unwrap(),
            json!("")
        );
    }

    #[test]
    fn replace_prefers_longer_keys_and_never_rescans() {
        let r = |t: Value, p: Value| replace("str_replace", ReplaceKind::Json, &t, &p);
        assert_eq!(
            r(json!("$A$AB"), json!({"$A": "1", "$AB": "2"})).unwrap(),
            json!("12")
        );
        assert_eq!(
            r(json!("$A-$B"), json!({"$A": "$B", "$B": "x"})).unwrap(),
            json!("$B-x")
        );
        assert_eq!(
            r(json!("v=V"), json!({"V": {"b": 1, "a": [null]}})).unwrap(),
            json!("v={\"a\": [null], \"b\": 1}")
        );
        assert_eq!(
            r(json!("N-F-B"), json!({"N": null, "F": 1.0, "B": false})).unwrap(),
            json!("-1.0-False")
        );
        assert!(err(r(json!(1), json!({}))).contains("template must be a string"));
        // Before 2015-10-15 (and Fn::Replace) a list param is refused.
        assert!(err(replace(
            "Fn::Replace",
            ReplaceKind::Plain,
            &json!("x"),
            &json!({"x": [1]})
        ))
        .contains("params must be strings or numbers, param x is not valid"));
    }

    #[test]
    fn strict_replacements_check_their_params() {
        let strict = |k, p: Value| replace("str_replace_strict", k, &json!("a-b"), &p);
        assert!(err(strict(
            ReplaceKind::Strict,
            json!({"a": "1", "zz": "2", "q": "3"})
        ))
        .ends_with("not found in the template: zz,q"));
        assert_eq!(
            strict(ReplaceKind::Strict, json!({"a": ""})).unwrap(),
            json!("-b")
        );
        for empty in [json!(""), json!(null), json!([]), json!({})] {
            assert!(err(strict(ReplaceKind::VeryStrict, json!({"a": empty})))
                .contains("undefined or empty value for param a"));
        }
        assert_eq!(
            strict(ReplaceKind::VeryStrict, json!({"a": 0})).unwrap(),
            json!("0-b")
        );
    }

    #[test]
    fn str_split_as_python_splits() {
        let s = |a: Value| str_split("str_split", &a);
        assert_eq!(s(json!([",", "a,,b"])).unwrap(), json!(["a", "", "b"]));
        assert_eq!(s(json!([",", ""])).unwrap(), json!([""]));
        assert_eq!(s(json!([",", "a,b", "-1"])).unwrap(), json!("b"));
        assert_eq!(s(json!([",", "a,b", 1.9])).unwrap(), json!("b"));
        assert_eq!(s(json!([null, " a  b "])).unwrap(), json!(["a", "b"]));
        assert_eq!(s(json!([",", null, 5])).unwrap(), Value::Null);
        assert!(err(s(json!([",", "a,b", 2]))).contains("between 0 and 1"));
        assert!(err(s(json!([",", "a", "x"]))).contains("Incorrect index"));
        assert!(err(s(json!(["", "ab"]))).contains("empty separator"));
        assert!(err(s(json!([","]))).contains("Incorrect arguments"));
        assert_eq!(
            cfn_split("Fn::Split", Some("é"), &json!("aéb")).unwrap(),
            json!(["a", "b"])
        );
        assert!(err(cfn_split("Fn::Split", None, &json!("a"))).contains("Delimiter"));
    }
}
