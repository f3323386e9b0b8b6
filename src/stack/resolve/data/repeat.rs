//! `repeat`: a template repeated for each combination of loop values, in each of the
//! flavours HOT versions give it.

use crate::python;
use anyhow::{bail, Result};
use serde_json::{Map, Value};

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

#[cfg(test)]
mod tests {
    //! Expected values are Python's, worked out by hand from Heat 27.0.1's code (the
    //! differential templates in tests/templates/graph check them against Heat itself).
    use super::*;
    use crate::stack::resolve::data::test_error as err;
    use serde_json::json;

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
}
