//! A template snippet parsed the way Heat parses it: single-key maps whose key is a
//! function of the template version become calls; `if` is a macro, so only the branch its
//! condition chooses is kept; everything else is data.
//!
//! Parsing is bottom-up as in Heat: a call's arguments are parsed before the call, and a
//! call whose arguments have the wrong shape rejects the template at that place.

use super::functions::{FnKind, GetAttrForm};
use super::Format;
use anyhow::{anyhow, bail, Result};
use serde_json::Value;

/// A parsed snippet.
#[derive(Clone, Debug, PartialEq)]
pub enum Snippet {
    /// A string, number, boolean or null.
    Scalar(Value),
    List(Vec<Snippet>),
    Map(Vec<(String, Snippet)>),
    Call(Box<Call>),
    /// The left-out false branch of a nullable `if`: as if the item were not written.
    Absent,
}

/// One intrinsic function call.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub name: String,
    pub kind: FnKind,
    /// For `if`: the chosen branch. For every other call: the parsed arguments.
    pub args: Snippet,
    /// Where the call stands in the template, e.g. `resources.a.properties.x.get_attr`.
    pub path: String,
}

/// Which table of functions a parse uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    Regular,
    Condition,
}

/// What the parser needs from the stack being defined.
pub trait ParseScope {
    fn format(&self) -> &Format;
    /// True when `name` is a resource of the template, enabled or not (decides whether a
    /// CFN `Ref` names a resource or a parameter).
    fn names_template_resource(&self, name: &str) -> bool;
    /// Evaluates the (already parsed) condition argument of an `if`.
    fn condition_holds(&self, condition: &Snippet, path: &str) -> Result<bool>;
}

/// Parses `raw` found at `path` with the functions of `table`.
pub fn parse(raw: &Value, table: Table, scope: &dyn ParseScope, path: &str) -> Result<Snippet> {
    match raw {
        Value::Object(map) => {
            if map.len() == 1 {
                if let Some((key, args)) = map.iter().next() {
                    let kind = match table {
                        Table::Regular => super::functions::function(scope.format(), key),
                        Table::Condition => {
                            super::functions::condition_function(scope.format(), key)
                        }
                    };
                    if let Some(kind) = kind {
                        let path = join(path, key);
                        return parse_call(key, kind, args, table, scope, &path);
                    }
                }
            }
            let mut out = Vec::with_capacity(map.len());
            for (k, v) in map {
                out.push((k.clone(), parse(v, table, scope, &join(path, k))?));
            }
            Ok(Snippet::Map(out))
        }
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, v) in items.iter().enumerate() {
                out.push(parse(v, table, scope, &format!("{path}[{i}]"))?);
            }
            Ok(Snippet::List(out))
        }
        other => Ok(Snippet::Scalar(other.clone())),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn parse_call(
    name: &str,
    kind: FnKind,
    raw_args: &Value,
    table: Table,
    scope: &dyn ParseScope,
    path: &str,
) -> Result<Snippet> {
    if let FnKind::If { nullable } = kind {
        let branch = choose_branch(name, nullable, raw_args, table, scope, path)?;
        return Ok(Snippet::Call(Box::new(Call {
            name: name.to_string(),
            kind,
            args: branch,
            path: path.to_string(),
        })));
    }
    let args = parse(raw_args, table, scope, path)?;
    check_args(name, kind, &args, scope.format()).map_err(|e| anyhow!("{path}: {e}"))?;
    let kind = match kind {
        // Heat decides at parse time: a Ref whose (parsed) argument names a resource of the
        // template is a resource reference. A list or map argument cannot be looked up and
        // Heat fails on it.
        FnKind::Ref => match &args {
            Snippet::Scalar(Value::String(s)) if scope.names_template_resource(s) => {
                FnKind::GetResource
            }
            Snippet::List(_) | Snippet::Map(_) => {
                bail!("{path}: unhashable argument to \"{name}\"")
            }
            _ => FnKind::GetParam,
        },
        k => k,
    };
    Ok(Snippet::Call(Box::new(Call {
        name: name.to_string(),
        kind,
        args,
        path: path.to_string(),
    })))
}

/// `if: [condition, value_if_true, value_if_false]`: parses the condition with the
/// condition functions, evaluates it, and parses only the chosen branch.
fn choose_branch(
    name: &str,
    nullable: bool,
    raw: &Value,
    table: Table,
    scope: &dyn ParseScope,
    path: &str,
) -> Result<Snippet> {
    let shape = || {
        anyhow!("{path}: Arguments to \"{name}\" must be of the form: [condition_name, value_if_true, value_if_false]")
    };
    let items = raw.as_array().filter(|a| !a.is_empty()).ok_or_else(shape)?;
    let (cond, yes, no) = match items.as_slice() {
        [c, y, n] => (c, y, Some(n)),
        [c, y] if nullable => (c, y, None),
        _ => return Err(shape()),
    };
    let cond = parse(cond, Table::Condition, scope, path)?;
    if scope.condition_holds(&cond, path)? {
        parse(yes, table, scope, path)
    } else {
        match no {
            Some(n) => parse(n, table, scope, path),
            None => Ok(Snippet::Absent),
        }
    }
}

/// The argument checks Heat's function constructors make while parsing (a wrong shape
/// rejects the template). Checks that Heat only makes on validation are not made here.
fn check_args(name: &str, kind: FnKind, args: &Snippet, format: &Format) -> Result<()> {
    let is_list = matches!(args, Snippet::List(_));
    let list_len = match args {
        Snippet::List(l) => l.len(),
        _ => 0,
    };
    match kind {
        FnKind::GetAttr(form) => {
            let plain_list = is_list;
            match form {
                GetAttrForm::Cfn => {
                    if list_len != 2 {
                        bail!("Arguments to \"{name}\" must be of the form [resource_name, attribute]");
                    }
                }
                GetAttrForm::AllAttributes => {
                    if !plain_list {
                        bail!("Argument to \"{name}\" must be a list");
                    }
                    if list_len == 0 {
                        bail!("Arguments to \"{name}\" can be of the next forms: [resource_name] or [resource_name, attribute, (path), ...]");
                    }
                }
                GetAttrForm::ThenSelect | GetAttrForm::Path => {
                    if !plain_list {
                        bail!("Argument to \"{name}\" must be a list");
                    }
                    if list_len < 2 {
                        bail!("Arguments to \"{name}\" must be of the form [resource_name, attribute, (path), ...]");
                    }
                }
            }
        }
        FnKind::Equals => {
            if list_len != 2 {
                bail!("Arguments to \"{name}\" must be of the form: [value_1, value_2]");
            }
        }
        FnKind::And | FnKind::Or => {
            if !is_list || list_len < 2 {
                bail!(
                    "Arguments to \"{name}\" must be of the form: [condition_1, condition_2, ...]"
                );
            }
        }
        FnKind::Contains => {
            if list_len != 2 {
                bail!("Arguments to \"{name}\" must be of the form: [value1, [value1, value2]]");
            }
        }
        FnKind::Other if name == "Fn::Select" => {
            if list_len != 2 {
                bail!("Arguments to \"{name}\" must be of the form [index, collection]");
            }
        }
        FnKind::Not if name == "Fn::Not" => {
            if list_len != 1 {
                bail!("Arguments to \"{name}\" must be of the form: [condition]");
            }
        }
        FnKind::Not => {
            if matches!(args, Snippet::Scalar(Value::Null)) {
                bail!("Argument to \"{name}\" must be a condition");
            }
        }
        FnKind::Other => check_data_args(name, args, format)?,
        _ => {}
    }
    Ok(())
}

/// The checks the constructors of Heat's data functions make (`__init__`, not
/// `validate`): a wrong shape rejects the template wherever the call stands.
fn check_data_args(name: &str, args: &Snippet, format: &Format) -> Result<()> {
    let hot_at_least = |v: &str| matches!(format, Format::Hot { version } if version.as_str() >= v);
    let list = match args {
        Snippet::List(items) => Some(items.as_slice()),
        _ => None,
    };
    let map_keys: Option<Vec<&str>> = match args {
        Snippet::Map(items) => Some(items.iter().map(|(k, _)| k.as_str()).collect()),
        _ => None,
    };
    let map_get = |key: &str| match args {
        Snippet::Map(items) => items.iter().find(|(k, _)| k == key).map(|(_, v)| v),
        _ => None,
    };
    let is_map_or_call = |s: &Snippet| matches!(s, Snippet::Map(_) | Snippet::Call(_));
    match name {
        "list_join" | "Fn::Join" => {
            let multiple = name == "list_join" && hot_at_least("2015-10-15");
            let ok = match list {
                Some(l) if multiple => l.len() >= 2,
                Some(l) => l.len() == 2,
                None => false,
            };
            if !ok {
                bail!("Incorrect arguments to \"{name}\" should be: \"{name}\" : [ \" \", [ \"str1\", \"str2\"]]");
            }
        }
        "str_replace" | "str_replace_strict" | "str_replace_vstrict" => {
            let Some(keys) = &map_keys else {
                bail!("Arguments to \"{name}\" must be a map");
            };
            if !keys.contains(&"params") || !keys.contains(&"template") {
                bail!("\"{name}\" syntax should be {name}: {{template: ..., params: {{...}}}}");
            }
            if !map_get("params").is_some_and(is_map_or_call) {
                bail!("\"{name}\" parameters must be a mapping");
            }
        }
        "Fn::Replace" => match list {
            Some([mapping, _]) => {
                if !is_map_or_call(mapping) {
                    bail!("\"{name}\" parameters must be a mapping");
                }
            }
            _ => bail!("Incorrect arguments to \"{name}\""),
        },
        "repeat" => {
            let Some(keys) = &map_keys else {
                bail!("Arguments to \"{name}\" must be a map");
            };
            if !keys.contains(&"for_each") || !keys.contains(&"template") {
                bail!("\"repeat\" syntax should be repeat: {{template: ..., for_each: {{...}}}}");
            }
            if hot_at_least("2017-09-01") {
                if let Some(p) = map_get("permutations") {
                    if !matches!(p, Snippet::Scalar(Value::Bool(_))) {
                        bail!("\"permutations\" should be boolean type for {name} function.");
                    }
                }
            }
        }
        "str_split" | "Fn::Split" => {
            if matches!(args, Snippet::Scalar(Value::String(_)) | Snippet::Map(_)) {
                bail!("Incorrect arguments to \"{name}\" should be: \"{name}\" : [ \",\", \"str1,str2\"]");
            }
            if name == "Fn::Split" && list.map(<[Snippet]>::len) != Some(2) {
                bail!("Incorrect arguments to \"{name}\" should be: \"{name}\" : [ \",\", \"str1,str2\"]");
            }
        }
        "filter" => match list {
            Some(l) if l.len() == 2 => {}
            Some(l) => bail!(
                "\"{name}\" expected 2 arguments of the form [values, sequence] but got {} arguments instead",
                l.len()
            ),
            None => bail!("Argument to \"{name}\" must be a list"),
        },
        "yaql" => {
            let Some(keys) = &map_keys else {
                bail!("Arguments to \"{name}\" must be a map.");
            };
            if !keys.contains(&"expression") || keys.iter().any(|k| *k != "expression" && *k != "data") {
                bail!("\"{name}\" syntax should be {name}: {{expression: ..., data: {{...}}}}");
            }
        }
        "resource_facade" | "Fn::ResourceFacade" => {
            let allowed: &[&str] = if name == "resource_facade" {
                &["metadata", "deletion_policy", "update_policy"]
            } else {
                &["Metadata", "DeletionPolicy", "UpdatePolicy"]
            };
            if !matches!(args, Snippet::Scalar(Value::String(a)) if allowed.contains(&a.as_str())) {
                bail!(
                    "Incorrect arguments to \"{name}\" should be one of: {}",
                    allowed.join(", ")
                );
            }
        }
        "Fn::MemberListToMap" => match list {
            Some([Snippet::Scalar(Value::String(_)), Snippet::Scalar(Value::String(_)), _]) => {}
            Some([_, _, _]) => bail!("{name} Key Name and Value Name must be strings"),
            _ => bail!("Wrong Arguments try: \"{{'Fn::MemberListToMap': ['Name', 'Value', ['.member.0.Name=key', '.member.0.Value=door']]}}\""),
        },
        "Fn::FindInMap" => {
            if list.map(<[Snippet]>::len) != Some(3) {
                bail!("Arguments to \"{name}\" must be of the form [mapping, key, value]");
            }
        }
        _ => {}
    }
    Ok(())
}

impl Snippet {
    /// True when the snippet stands for nothing: the left-out branch of a nullable `if`,
    /// also when that `if` is the chosen branch of another (Heat's `Ellipsis`, which
    /// lists and maps drop).
    pub fn is_absent(&self) -> bool {
        match self {
            Snippet::Absent => true,
            Snippet::Call(c) if matches!(c.kind, FnKind::If { .. }) => c.args.is_absent(),
            _ => false,
        }
    }

    /// The names of the resources this snippet refers to (get_resource, get_attr,
    /// resource Ref), as Heat's `function.dependencies` walks it: through data and through
    /// the arguments of every call, the chosen branch of an `if` only.
    pub fn referenced_resources(
        &self,
        resolve_name: &dyn Fn(&Snippet) -> Result<Value>,
    ) -> Result<Vec<Reference>> {
        let mut out = Vec::new();
        self.walk_references(resolve_name, &mut out)?;
        Ok(out)
    }

    fn walk_references(
        &self,
        resolve_name: &dyn Fn(&Snippet) -> Result<Value>,
        out: &mut Vec<Reference>,
    ) -> Result<()> {
        match self {
            Snippet::Scalar(_) | Snippet::Absent => Ok(()),
            Snippet::List(items) => items
                .iter()
                .try_for_each(|s| s.walk_references(resolve_name, out)),
            Snippet::Map(items) => items
                .iter()
                .try_for_each(|(_, s)| s.walk_references(resolve_name, out)),
            Snippet::Call(call) => {
                call.args.walk_references(resolve_name, out)?;
                let target = match call.kind {
                    FnKind::GetResource => Some(&call.args),
                    FnKind::GetAttr(_) => match &call.args {
                        Snippet::List(items) => items.first(),
                        _ => None,
                    },
                    _ => None,
                };
                if let Some(target) = target {
                    let name = resolve_name(target)?;
                    out.push(Reference {
                        // Python's `str()`: a resource can only be named by a string in
                        // practice, but Heat's messages show any other value so.
                        name: crate::python::str(&name),
                        path: call.path.clone(),
                    });
                }
                Ok(())
            }
        }
    }
}

/// A reference from a snippet to a resource, by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    pub name: String,
    pub path: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Scope {
        format: Format,
        conds: bool,
    }
    impl ParseScope for Scope {
        fn format(&self) -> &Format {
            &self.format
        }
        fn names_template_resource(&self, name: &str) -> bool {
            name == "server"
        }
        fn condition_holds(&self, _c: &Snippet, _p: &str) -> Result<bool> {
            Ok(self.conds)
        }
    }

    fn refs(raw: Value, version: &str, conds: bool) -> Result<Vec<String>> {
        let scope = Scope {
            format: Format::Hot {
                version: version.into(),
            },
            conds,
        };
        let s = parse(&raw, Table::Regular, &scope, "x")?;
        let plain = |s: &Snippet| match s {
            Snippet::Scalar(v) => Ok(v.clone()),
            _ => Err(anyhow!("not a plain name")),
        };
        Ok(s.referenced_resources(&plain)?
            .into_iter()
            .map(|r| r.name)
            .collect())
    }

    #[test]
    fn references_nested_in_other_functions_count() {
        let raw = json!({"str_replace": {"template": "a $X", "params": {"$X": {"get_attr": ["db", "ip"]}}}});
        assert_eq!(refs(raw, "2018-08-31", true).unwrap(), vec!["db"]);
        let raw = json!({"list_join": [",", [{"get_resource": "a"}, {"get_attr": ["b", "x", 0]}]]});
        assert_eq!(refs(raw, "2015-10-15", true).unwrap(), vec!["a", "b"]);
    }

    #[test]
    fn unknown_keys_are_data() {
        // map_merge is a function from 2016-04-08 only; before it is plain data, but the
        // get_resource inside is still a reference.
        let raw = json!({"map_merge": [{"k": {"get_resource": "a"}}]});
        assert_eq!(refs(raw.clone(), "2015-10-15", true).unwrap(), vec!["a"]);
        // A two-key map is never a function.
        let raw = json!({"get_resource": "a", "other": 1});
        assert!(refs(raw, "2018-08-31", true).unwrap().is_empty());
    }

    #[test]
    fn only_the_chosen_branch_of_if_counts() {
        let raw = json!({"if": ["c", {"get_resource": "yes"}, {"get_resource": "no"}]});
        assert_eq!(refs(raw.clone(), "2016-10-14", true).unwrap(), vec!["yes"]);
        assert_eq!(refs(raw, "2016-10-14", false).unwrap(), vec!["no"]);
        let raw = json!({"if": ["c", {"get_resource": "yes"}]});
        assert!(
            refs(raw.clone(), "2016-10-14", false).is_err(),
            "two arguments need 2021-04-16"
        );
        assert!(refs(raw, "2021-04-16", false).unwrap().is_empty());
    }

    #[test]
    fn malformed_calls_reject_with_their_place() {
        let err = refs(json!({"get_attr": "db"}), "2018-08-31", true).unwrap_err();
        assert!(format!("{err:#}").contains("x.get_attr"), "{err:#}");
        assert!(refs(json!({"get_attr": ["db"]}), "2015-04-30", true).is_err());
        assert_eq!(
            refs(json!({"get_attr": ["db"]}), "2015-10-15", true).unwrap(),
            vec!["db"]
        );
    }

    #[test]
    fn removed_functions_still_carry_references() {
        let raw = json!({"Fn::Join": ["", [{"get_resource": "a"}]]});
        assert_eq!(refs(raw, "2018-08-31", true).unwrap(), vec!["a"]);
    }
}
