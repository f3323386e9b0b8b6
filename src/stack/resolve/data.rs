//! The data functions of Heat's templates, on values already resolved: what each
//! function's `result()` does in Heat 27.0.1 (`heat/engine/hot/functions.py`,
//! `heat/engine/cfn/functions.py`), with the errors Heat raises kept as errors.
//!
//! Kept apart from the stack so that each function is a plain function of its arguments:
//! the caller resolves them (as `function.resolve` does) and names the call in errors.
//! Python's own semantics (`==`, `str()`, `int()`, `json.dumps`) come from
//! [`crate::python`].

use crate::python;
use anyhow::{anyhow, bail, Result};
use serde_json::{Map, Value};

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
fn truncated_repr(v: &Value) -> String {
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
    keys.sort_by(|a, b| b.chars().count().cmp(&a.chars().count()));
    let mut values = Vec::with_capacity(keys.len());
    for k in &keys {
        values.push(replacement(name, kind, &mapping[k.as_str()], k)?);
    }
    let keys: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
    let mut unreplaced: std::collections::BTreeSet<&str> = keys.iter().copied().collect();
    let text = replace_in(name, template, &keys, &values, &mut unreplaced)?;
    if matches!(kind, ReplaceKind::Strict | ReplaceKind::VeryStrict) && !unreplaced.is_empty() {
        let mut left: Vec<&str> = unreplaced.into_iter().collect();
        left.sort_by(|a, b| b.chars().count().cmp(&a.chars().count()));
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
                return Err(anyhow::Error::new(super::Unknowable(format!(
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

/// `Fn::Base64`: the string itself (Heat converts nothing).
pub fn base64(name: &str, v: &Value) -> Result<Value> {
    match v {
        Value::String(_) => Ok(v.clone()),
        _ => bail!("\"{name}\" argument must be a string"),
    }
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

/// `digest: [algorithm, value]`, the value's Latin-1 bytes hashed.
pub fn digest(name: &str, args: &Value) -> Result<Value> {
    let strings: Option<Vec<&str>> = match args {
        Value::Array(a) => a.iter().map(Value::as_str).collect(),
        _ => None,
    };
    let Some(strings) = strings else {
        bail!("Argument to function \"{name}\" must be a list of strings")
    };
    let [algorithm, value] = strings.as_slice() else {
        bail!("Function \"{name}\" usage: [\"<algorithm>\", \"<value>\"]")
    };
    let bytes: Option<Vec<u8>> = value.chars().map(|c| u8::try_from(c).ok()).collect();
    let Some(bytes) = bytes else {
        bail!("\"{name}\": 'latin-1' codec can't encode the value")
    };
    use md5::Digest as _;
    use sha1::Digest as _;
    fn hex(d: &[u8]) -> String {
        d.iter().map(|b| format!("{b:02x}")).collect()
    }
    let out = match algorithm.to_lowercase().as_str() {
        "md5" => hex(&md5::Md5::digest(&bytes)),
        "sha1" => hex(&sha1::Sha1::digest(&bytes)),
        "sha224" => hex(&sha2::Sha224::digest(&bytes)),
        "sha256" => hex(&sha2::Sha256::digest(&bytes)),
        "sha384" => hex(&sha2::Sha384::digest(&bytes)),
        "sha512" => hex(&sha2::Sha512::digest(&bytes)),
        "sha512_224" => hex(&sha2::Sha512_224::digest(&bytes)),
        "sha512_256" => hex(&sha2::Sha512_256::digest(&bytes)),
        // Heat's Python has these through OpenSSL; we do not compute them.
        "blake2b" | "blake2s" | "md5-sha1" | "ripemd160" | "sha3_224" | "sha3_256" | "sha3_384"
        | "sha3_512" | "shake_128" | "shake_256" | "sm3" => {
            return Err(anyhow::Error::new(super::Unknowable(format!(
                "the value of \"{name}\" with algorithm {algorithm} cannot be known before \
                 the stack runs"
            ))))
        }
        _ => bail!(
            "Algorithm must be one of {{'blake2b', 'blake2s', 'md5', 'md5-sha1', 'ripemd160', \
             'sha1', 'sha224', 'sha256', 'sha384', 'sha3_224', 'sha3_256', 'sha3_384', \
             'sha3_512', 'sha512', 'sha512_224', 'sha512_256', 'shake_128', 'shake_256', 'sm3'}}"
        ),
    };
    Ok(Value::String(out))
}

/// The flavour of `repeat` a version has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RepeatKind {
    /// HOT 2015-04-30 and 2016-04-08: `for_each` values are lists.
    Lists,
    /// HOT 2016-10-14 and 2017-02-24: lists or maps (a map gives its keys).
    ListsOrMaps,
    /// HOT 2017-09-01 on: as above, and `permutations: false` zips lists of one length.
    NestedLoop { permutations: bool },
}

/// `repeat`: `for_each` and `template` resolved; each combination of the loop values
/// replaces its placeholders in every string of the template (keys included).
pub fn repeat(name: &str, kind: RepeatKind, for_each: &Value, template: &Value) -> Result<Value> {
    let Value::Object(for_each) = for_each else {
        bail!(
            "\"{name}\": the \"for_each\" argument resolves to a {}, not a map",
            python::type_name(for_each)
        )
    };
    if for_each.is_empty() {
        bail!("\"{name}\": not enough values to unpack (expected 2, got 0)");
    }
    let nested = !matches!(
        kind,
        RepeatKind::NestedLoop {
            permutations: false
        }
    );
    let maps_too = matches!(kind, RepeatKind::ListsOrMaps) || (nested && kind != RepeatKind::Lists);
    let keys: Vec<&str> = for_each.keys().map(String::as_str).collect();
    let mut lists: Vec<Vec<Value>> = Vec::with_capacity(keys.len());
    let mut lens = Vec::new();
    for v in for_each.values() {
        let items = match v {
            Value::Null => {
                lists.push(Vec::new());
                continue;
            }
            Value::Array(a) => a.clone(),
            Value::Object(m) if maps_too => m.keys().map(|k| Value::String(k.clone())).collect(),
            _ if maps_too => {
                bail!("The values of the \"for_each\" argument to \"{name}\" must be lists or maps")
            }
            _ => bail!("The values of the \"for_each\" argument to \"{name}\" must be lists"),
        };
        lens.push(items.len());
        lists.push(items);
    }
    if !nested && lens.windows(2).any(|w| w[0] != w[1]) {
        bail!("For {name}, the length of for_each values should be equal if no nested loop.");
    }
    let combos: Vec<Vec<&Value>> = if nested {
        let mut combos: Vec<Vec<&Value>> = vec![Vec::new()];
        for l in &lists {
            let mut next = Vec::with_capacity(combos.len() * l.len());
            for c in &combos {
                for item in l {
                    let mut c = c.clone();
                    c.push(item);
                    next.push(c);
                }
            }
            combos = next;
        }
        combos
    } else {
        let n = lists.iter().map(Vec::len).min().unwrap_or(0);
        (0..n)
            .map(|i| lists.iter().map(|l| &l[i]).collect())
            .collect()
    };
    let mut out = Vec::with_capacity(combos.len());
    for c in combos {
        out.push(repeat_one(&keys, &c, template)?);
    }
    Ok(Value::Array(out))
}

fn repeat_one(keys: &[&str], values: &[&Value], template: &Value) -> Result<Value> {
    let in_str = |s: &str| -> Result<String> {
        let mut s = s.to_string();
        for (k, v) in keys.iter().zip(values) {
            let Value::String(v) = v else {
                bail!(
                    "replace() argument 2 must be str, not {}",
                    python::type_name(v)
                )
            };
            s = python::replace(&s, k, v, -1);
        }
        Ok(s)
    };
    Ok(match template {
        Value::String(s) => Value::String(in_str(s)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| repeat_one(keys, values, i))
                .collect::<Result<_>>()?,
        ),
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                out.insert(in_str(k)?, repeat_one(keys, values, v)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

/// `make_url`: a URL from its parts, quoted as Python's `urllib.parse` quotes them.
pub fn make_url(name: &str, args: &Value) -> Result<Value> {
    let Value::Object(args) = args else {
        bail!("The arguments to \"{name}\" must be a map")
    };
    // Heat's _check_args, in its key order; it stops at `query`.
    for key in [
        "scheme", "username", "password", "host", "port", "path", "query", "fragment",
    ] {
        let Some(v) = args.get(key) else { continue };
        match key {
            "query" => {
                if !v.is_object() {
                    bail!("The \"query\" argument to \"{name}\" must be a map");
                }
                break;
            }
            "port" => {
                let port = match v {
                    Value::Number(_) | Value::Bool(_) | Value::String(_) => python::int(v)
                        .ok_or_else(|| {
                            anyhow!("Invalid URL port \"{}\" for {name}", python::str(v))
                        })?,
                    other => bail!(
                        "\"{name}\": int() argument must be a string, a bytes-like object or \
                         a real number, not '{}'",
                        python::type_name(other)
                    ),
                };
                if !(1..=65535).contains(&port) {
                    bail!("Invalid URL port {port}, must be in range 1-65535");
                }
            }
            _ => {
                if !v.is_string() {
                    bail!("The \"{key}\" argument to \"{name}\" must be a string");
                }
            }
        }
    }
    let text = |key: &str| -> Result<String> {
        match args.get(key) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => bail!(
                "\"{name}\": quote() argument 1 must be str or bytes, not {}",
                python::type_name(other)
            ),
        }
    };
    let scheme = text("scheme")?;
    if scheme.contains(':') {
        bail!("URL \"scheme\" should not contain ':'");
    }
    let mut netloc = String::new();
    let username = quote(&text("username")?, "");
    let password = quote(&text("password")?, "");
    if !username.is_empty() || !password.is_empty() {
        netloc.push_str(&username);
        if !password.is_empty() {
            netloc.push(':');
            netloc.push_str(&password);
        }
        netloc.push('@');
    }
    let mut host = text("host")?;
    if host.starts_with('[') && host.ends_with(']') && host.len() >= 2 {
        host = host[1..host.len() - 1].to_string();
    }
    let host = quote(&host, ":");
    if host.contains(':') {
        netloc.push_str(&format!("[{host}]"));
    } else {
        netloc.push_str(&host);
    }
    if let Some(port) = args.get("port").filter(|p| python::truthy(p)) {
        netloc.push(':');
        netloc.push_str(&python::str(port));
    }
    let path = quote(&text("path")?, "/");
    let query = match args.get("query") {
        Some(Value::Object(q)) => q
            .iter()
            .map(|(k, v)| format!("{}={}", quote_plus(k), quote_plus(&python::str(v))))
            .collect::<Vec<_>>()
            .join("&")
            .replace("%2F", "/"),
        _ => String::new(),
    };
    let fragment = quote(&text("fragment")?, "/");
    Ok(Value::String(urlunsplit(
        &scheme, &netloc, &path, &query, &fragment,
    )))
}

/// `urllib.parse.quote(s, safe)`: UTF-8 bytes, all but letters, digits, `_.-~` and
/// `safe` as `%XX`.
fn quote(s: &str, safe: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let c = b as char;
        if b.is_ascii_alphanumeric() || "_.-~".contains(c) || (b < 0x80 && safe.contains(c)) {
            out.push(c);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `urllib.parse.quote_plus(s)` as `urlencode` uses it: spaces as `+`.
fn quote_plus(s: &str) -> String {
    if s.contains(' ') {
        quote(s, " ").replace(' ', "+")
    } else {
        quote(s, "")
    }
}

const USES_NETLOC: &[&str] = &[
    "", "ftp", "http", "gopher", "nntp", "telnet", "imap", "wais", "file", "mms", "https", "shttp",
    "snews", "prospero", "rtsp", "rtsps", "rtspu", "rsync", "svn", "svn+ssh", "sftp", "nfs", "git",
    "git+ssh", "ws", "wss",
];

/// Python 3.11's `urllib.parse.urlunsplit`.
fn urlunsplit(scheme: &str, netloc: &str, path: &str, query: &str, fragment: &str) -> String {
    let mut url = path.to_string();
    if !netloc.is_empty()
        || (!scheme.is_empty() && USES_NETLOC.contains(&scheme) && !url.starts_with("//"))
    {
        if !url.is_empty() && !url.starts_with('/') {
            url = format!("/{url}");
        }
        url = format!("//{netloc}{url}");
    }
    if !scheme.is_empty() {
        url = format!("{scheme}:{url}");
    }
    if !query.is_empty() {
        url = format!("{url}?{query}");
    }
    if !fragment.is_empty() {
        url = format!("{url}#{fragment}");
    }
    url
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
    use serde_json::json;

    fn err(r: Result<Value>) -> String {
        format!("{:#}", r.expect_err("an error"))
    }

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
    fn repeat_flavours() {
        let fe = json!({"%a%": ["x", "y"], "%b%": ["1", "2"]});
        let lists = repeat("repeat", RepeatKind::Lists, &fe, &json!("%a%%b%")).unwrap();
        assert_eq!(lists, json!(["x1", "x2", "y1", "y2"]));
        let zipped = repeat(
            "repeat",
            RepeatKind::NestedLoop {
                permutations: false,
            },
            &fe,
            &json!({"%a%": ["%b%", 7]}),
        )
        .unwrap();
        assert_eq!(zipped, json!([{"x": ["1", 7]}, {"y": ["2", 7]}]));
        let map = json!({"%k%": {"first": 1, "second": 2}});
        assert_eq!(
            repeat("repeat", RepeatKind::ListsOrMaps, &map, &json!("%k%")).unwrap(),
            json!(["first", "second"])
        );
        assert!(
            err(repeat("repeat", RepeatKind::Lists, &map, &json!("%k%"))).contains("must be lists")
        );
        // None loops over nothing; a non-string item fails only where a string is replaced.
        assert_eq!(
            repeat(
                "repeat",
                RepeatKind::Lists,
                &json!({"%a%": null}),
                &json!("x")
            )
            .unwrap(),
            json!([])
        );
        assert_eq!(
            repeat("repeat", RepeatKind::Lists, &json!({"%a%": [1]}), &json!(5)).unwrap(),
            json!([5])
        );
        assert!(err(repeat(
            "repeat",
            RepeatKind::Lists,
            &json!({"%a%": [1]}),
            &json!("%a%")
        ))
        .contains("must be str, not int"));
        assert!(err(repeat(
            "repeat",
            RepeatKind::NestedLoop {
                permutations: false
            },
            &json!({"a": [1], "b": [1, 2]}),
            &json!(1)
        ))
        .contains("should be equal"));
        assert!(err(repeat("repeat", RepeatKind::Lists, &json!({}), &json!(1))).contains("unpack"));
    }

    #[test]
    fn make_url_quotes_as_urllib() {
        let u = |a: Value| make_url("make_url", &a).unwrap();
        assert_eq!(
            u(
                json!({"scheme": "https", "username": "x:y@z", "host": "fd00::1", "port": 80,
                     "path": "a b/é~", "query": {"a b": "c/d", "n": 1, "t": true},
                     "fragment": "f g"})
            ),
            json!("https://x%3Ay%40z@[fd00::1]:80/a%20b/%C3%A9~?a+b=c/d&n=1&t=True#f%20g")
        );
        assert_eq!(u(json!({"host": "h", "path": "p"})), json!("//h/p"));
        assert_eq!(
            u(json!({"scheme": "mailto", "path": "a@b"})),
            json!("mailto:a%40b")
        );
        assert_eq!(u(json!({"scheme": "http"})), json!("http://"));
        assert!(err(make_url("make_url", &json!({"scheme": "a:b"}))).contains("should not contain"));
        assert!(err(make_url("make_url", &json!({"port": "x"}))).contains("Invalid URL port"));
        assert!(err(make_url("make_url", &json!({"host": 1}))).contains("must be a string"));
    }

    #[test]
    fn digest_of_latin1_bytes() {
        assert_eq!(
            digest("digest", &json!(["sha256", "abc"])).unwrap(),
            json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(
            digest("digest", &json!(["MD5", "é"])).unwrap(),
            json!("3406877694691ddd1dfb0aca54681407")
        );
        assert!(err(digest("digest", &json!(["md5", "€"]))).contains("latin-1"));
        assert!(err(digest("digest", &json!(["md5", 1]))).contains("list of strings"));
        assert!(err(digest("digest", &json!(["md5"]))).contains("usage"));
        assert!(err(digest("digest", &json!(["sha3_256", "a"]))).contains("cannot be known"));
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
