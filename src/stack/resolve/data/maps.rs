//! The map functions: `map_merge`, `map_replace` and `Fn::MemberListToMap`.

use super::text::truncated_repr;
use crate::python;
use crate::stack::resolve::Unknowable;
use anyhow::{anyhow, bail, Result};
use serde_json::{Map, Value};

/// `map_merge`: maps merged in order (None counts as an empty map).
pub fn map_merge(name: &str, args: &Value) -> Result<Value> {
    let items: &[Value] = match args {
        Value::Array(a) => a,
        // A string is a Python sequence: only the empty one has no (non-map) item.
        Value::String(s) if s.is_empty() => &[],
        Value::String(_) => bail!("Incorrect arguments: Items to merge must be maps."),
        _ => bail!(
            "Incorrect arguments to \"{name}\" should be: \"{name}\" : [ {{ \"key1\": \"val1\" }}, {{ \"key2\": \"val2\" }} ]"
        ),
    };
    let mut out = Map::new();
    for m in items {
        match m {
            Value::Null => {}
            Value::Object(m) => out.extend(m.clone()),
            other => bail!(
                "Incorrect arguments: Items to merge must be maps. {} is type <class '{}'> \
                 instead of a dict",
                truncated_repr(other),
                python::type_name(other)
            ),
        }
    }
    Ok(Value::Object(out))
}

/// `map_replace: [map, {keys: {...}, values: {...}}]`.
pub fn map_replace(name: &str, args: &Value) -> Result<Value> {
    let example = || {
        anyhow!(
            "Incorrect arguments to \"{name}\" should be: \"{name}\" : [ {{ \"key1\": \"val1\" }}, \
             {{\"keys\": {{\"key1\": \"key2\"}}, \"values\": {{\"val1\": \"val2\"}}}}]"
        )
    };
    let ensure_map = |v: &Value| -> Result<Map<String, Value>> {
        match v {
            Value::Null => Ok(Map::new()),
            Value::Object(m) => Ok(m.clone()),
            _ => bail!("Incorrect arguments: to \"{name}\", arguments must be a list of maps."),
        }
    };
    let Value::Array(a) = args else {
        return Err(example());
    };
    let in_map = ensure_map(a.first().ok_or_else(example)?)?;
    let repl = ensure_map(a.get(1).ok_or_else(example)?)?;
    if a.len() != 2 {
        return Err(example());
    }
    if repl.keys().any(|k| k != "keys" && k != "values") {
        return Err(example());
    }
    let repl_keys = ensure_map(repl.get("keys").unwrap_or(&Value::Null))?;
    let repl_values = ensure_map(repl.get("values").unwrap_or(&Value::Null))?;
    let mut out = Map::new();
    for (k, v) in &in_map {
        let key = match repl_keys.get(k) {
            None | Some(Value::Null) => k.clone(),
            Some(Value::String(new)) => {
                if in_map.contains_key(new) && new != k {
                    bail!("key replacement {new} collides with a key in the input map");
                }
                if out.contains_key(new) {
                    bail!("key replacement {new} collides with a key in the output map");
                }
                new.clone()
            }
            // Python would make a key of another type (or fail on an unhashable one).
            Some(other) => {
                return Err(anyhow::Error::new(Unknowable(format!(
                    "\"{name}\": a key replacement that is a {} cannot be known as Heat \
                     holds it",
                    python::type_name(other)
                ))))
            }
        };
        // Only a string can equal one of the (string) keys of `values`.
        let value = match v {
            Value::String(s) => repl_values.get(s).cloned().unwrap_or_else(|| v.clone()),
            _ => v.clone(),
        };
        out.insert(key, value);
    }
    Ok(Value::Object(out))
}

/// `Fn::MemberListToMap: [keyname, valuename, ['.member.0.Name=k', ...]]`.
pub fn member_list_to_map(keyname: &str, valuename: &str, list: &Value) -> Result<Value> {
    let items: Vec<&Value> = match list {
        Value::Array(a) => a.iter().collect(),
        Value::String(s) if s.is_empty() => Vec::new(),
        Value::String(_) => {
            bail!("dictionary update sequence element #0 has length 1; 2 is required")
        }
        Value::Object(m) if m.is_empty() => Vec::new(),
        Value::Object(_) => bail!("Member list items must be a list of strings"),
        _ => bail!("Member list must be a list"),
    };
    // dict(s.split('=', 1) for s in member_list)
    let mut partials: Vec<(String, String)> = Vec::new();
    for (n, s) in items.iter().enumerate() {
        let Value::String(s) = s else {
            bail!("Member list items must be strings")
        };
        let Some((k, v)) = s.split_once('=') else {
            bail!("dictionary update sequence element #{n} has length 1; 2 is required")
        };
        match partials.iter_mut().find(|(pk, _)| pk == k) {
            Some(p) => p.1 = v.to_string(),
            None => partials.push((k.to_string(), v.to_string())),
        }
    }
    // extract_param_list: `\.member\.([0-9]+)\.(.*)` matched at the start, grouped by
    // index in ascending order (a stable sort).
    let mut members: Vec<(u128, String, String)> = Vec::new();
    for (k, v) in &partials {
        let Some(rest) = k.strip_prefix(".member.") else {
            continue;
        };
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        let Some(tail) = rest[digits.len()..].strip_prefix('.') else {
            continue;
        };
        let Ok(index) = digits.parse::<u128>() else {
            continue;
        };
        // `.` does not match a newline: the key stops there.
        let key = tail.split('\n').next().unwrap_or("").to_string();
        members.push((index, key, v.clone()));
    }
    members.sort_by_key(|m| m.0);
    let mut out = Map::new();
    let mut i = 0;
    while i < members.len() {
        let index = members[i].0;
        let mut group: Vec<(&str, &str)> = Vec::new();
        while i < members.len() && members[i].0 == index {
            group.push((&members[i].1, &members[i].2));
            i += 1;
        }
        let get = |name: &str| {
            group
                .iter()
                .rev()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| *v)
        };
        if let (Some(k), Some(v)) = (get(keyname), get(valuename)) {
            out.insert(k.to_string(), Value::String(v.to_string()));
        }
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    //! Expected values are Python's, worked out by hand from Heat 27.0.1's code (the
    //! differential templates in tests/templates/graph check them against Heat itself).
    use super::*;
    use crate::stack::resolve::data::test_error as err;
    use serde_json::json;

    #[test]
    fn map_functions() {
        assert_eq!(
            map_merge("map_merge", &json!([{"a": 1}, null, {"a": 2, "b": 3}])).unwrap(),
            json!({"a": 2, "b": 3})
        );
        assert_eq!(map_merge("map_merge", &json!("")).unwrap(), json!({}));
        assert!(err(map_merge("map_merge", &json!([[1]]))).contains("is type <class 'list'>"));
        let mr = |a: Value| map_replace("map_replace", &a);
        assert_eq!(
            mr(json!([{"k": "v", "j": [1]}, {"keys": {"k": "K"}, "values": {"v": "V"}}])).unwrap(),
            json!({"K": "V", "j": [1]})
        );
        assert_eq!(mr(json!([null, null])).unwrap(), json!({}));
        assert!(err(mr(json!([{"k": 1, "j": 2}, {"keys": {"k": "j"}}])))
            .contains("collides with a key in the input map"));
        assert!(err(mr(json!([{"k": 1}, {"other": {}}]))).contains("Incorrect arguments"));
        assert!(err(mr(json!([{"k": 1}]))).contains("Incorrect arguments"));
    }

    #[test]
    fn member_list_to_map_pairs_names_and_values() {
        let m = member_list_to_map(
            "Name",
            "Value",
            &json!([
                ".member.1.Name=b",
                ".member.1.Value=x=y",
                ".member.0.Name=a",
                ".member.0.Value=1",
                ".member.2.Name=lonely",
                "other=1"
            ]),
        )
        .unwrap();
        assert_eq!(m, json!({"a": "1", "b": "x=y"}));
        assert!(member_list_to_map("Name", "Value", &json!(["nokey"])).is_err());
        assert!(member_list_to_map("Name", "Value", &json!([1])).is_err());
    }
}
