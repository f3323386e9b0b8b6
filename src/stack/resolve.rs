//! Intrinsic functions resolved as Heat's `function.resolve` resolves them while it builds
//! the graph of a stored stack: references give names, attributes give None, and the data
//! functions that names and conditions are built from give their values.
//!
//! Which function a key is, per version, is decided in [`crate::template::functions`];
//! here each call is dispatched to its evaluation, with the flavour its version has
//! (`list_join`, `str_replace`, `repeat` changed over the versions). The data functions
//! themselves live in `data` as plain functions of their resolved arguments. A function
//! whose value needs a running stack (or a service) is refused, naming it.

mod data;

use super::StackDefinition;
use crate::python;
use crate::template::functions::FnKind;
use crate::template::snippet::{Call, Snippet};
use crate::template::Format;
use anyhow::{anyhow, bail, Result};
use data::{RepeatKind, ReplaceKind};
use serde_json::{Map, Value};

/// A value heat-converge cannot know although Heat computes it (a function we do not
/// evaluate, such as `yaql`): a refusal, never to be taken for an error Heat raises.
#[derive(Debug)]
pub struct Unknowable(pub String);

impl std::fmt::Display for Unknowable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unknowable {}

/// True when `e` (anywhere in its chain) says the value cannot be known.
pub fn is_unknowable(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.is::<Unknowable>())
}

/// The refusal for a function heat-converge does not evaluate.
pub(crate) fn unknowable(name: &str) -> anyhow::Error {
    anyhow::Error::new(Unknowable(format!(
        "the value of \"{name}\" cannot be known before the stack runs"
    )))
}

/// `e` prefixed with where the call stands, still unknowable if it was.
fn at(path: &str, e: anyhow::Error) -> anyhow::Error {
    let text = format!("{path}: {e:#}");
    if is_unknowable(&e) {
        anyhow::Error::new(Unknowable(text))
    } else {
        anyhow!(text)
    }
}

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
                    .filter(|i| !i.is_absent())
                    .map(|i| self.resolve(i))
                    .collect::<Result<_>>()?,
            )),
            Snippet::Map(items) => {
                let mut m = Map::new();
                for (k, v) in items {
                    if !v.is_absent() {
                        m.insert(k.clone(), self.resolve(v)?);
                    }
                }
                Ok(Value::Object(m))
            }
            Snippet::Call(call) => self.resolve_call(call),
        }
    }

    /// True for a HOT template of version `v` or later (CFN: false).
    fn hot_at_least(&self, v: &str) -> bool {
        matches!(&self.template.format, Format::Hot { version } if version.as_str() >= v)
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
            FnKind::GetParam if call.name == "get_param" => {
                let v = self.resolve(args)?;
                self.get_param(&v).map_err(|e| at(&call.path, e))
            }
            FnKind::GetParam | FnKind::Ref => {
                self.parameters.value(&python::str(&self.resolve(args)?))
            }
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
            FnKind::Not => {
                // CFN's Fn::Not takes a list of one condition.
                let operand = match args {
                    Snippet::List(items) if call.name == "Fn::Not" => match items.as_slice() {
                        [one] => one,
                        _ => bail!(
                            "Arguments to \"{}\" must be of the form: [condition]",
                            call.name
                        ),
                    },
                    other => other,
                };
                let v = self.resolve(operand)?;
                Ok(Value::Bool(!self.condition_value(&v)?))
            }
            FnKind::And | FnKind::Or => {
                // Heat resolves every operand, then reads them as conditions until one
                // decides.
                let Value::Array(items) = self.resolve(args)? else {
                    bail!(
                        "Arguments to \"{}\" must be a list of conditions",
                        call.name
                    )
                };
                let want_all = call.kind == FnKind::And;
                for item in &items {
                    if self.condition_value(item)? != want_all {
                        return Ok(Value::Bool(!want_all));
                    }
                }
                Ok(Value::Bool(want_all))
            }
            FnKind::Contains => {
                let v = self.resolve(args)?;
                match v.as_array().map(Vec::as_slice) {
                    Some([needle, hay]) => data::contains(&call.name, needle, hay)
                        .map(Value::Bool)
                        .map_err(|e| at(&call.path, e)),
                    _ => bail!(
                        "Arguments to \"{}\" must be of the form: [value1, [value1, value2]]",
                        call.name
                    ),
                }
            }
            // A removed function is only refused by validation, which the graph does not
            // run: its result is the call as written (Heat's `Function.result`).
            FnKind::Removed => match unparsed(args) {
                Some(raw) => Ok(Value::Object(Map::from_iter([(call.name.clone(), raw)]))),
                // With calls inside, Heat's value holds its Function objects.
                None => Err(anyhow::Error::new(Unknowable(format!(
                    "{}: the value of the removed function \"{}\" with functions in its \
                     arguments cannot be known",
                    call.path, call.name
                )))),
            },
            FnKind::Invalid => {
                bail!("The function \"{}\" is not supported here", call.name)
            }
            FnKind::Other => {
                let v = self.resolve(args)?;
                self.resolve_other(&call.name, call, &v)
                    .map_err(|e| at(&call.path, e))
            }
        }
    }

    /// A resolved condition operand as Heat's `_get_condition` reads it: a boolean, or
    /// the name of a condition (None counts as true, as in `Conditions.is_enabled`).
    pub(super) fn condition_value(&self, v: &Value) -> Result<bool> {
        match v {
            Value::Bool(b) => Ok(*b),
            Value::Null => Ok(true),
            Value::String(name) if self.condition_defns.contains_key(name) => {
                self.condition_enabled(name)
            }
            // The value may come from a parameter: say what it is, not what it holds.
            Value::String(_) => bail!("Invalid condition: no condition has that name"),
            other => bail!(
                "Invalid condition: a {} is not a condition",
                python::type_name(other)
            ),
        }
    }

    /// `get_param: name` or `get_param: [name, key-or-index, ...]`.
    fn get_param(&self, arg: &Value) -> Result<Value> {
        if !python::truthy(arg) {
            bail!("Function \"get_param\" must have arguments");
        }
        let (name, path) = match arg {
            Value::String(s) => (s, &[][..]),
            Value::Array(items) => match items.split_first() {
                Some((Value::String(name), path)) => (name, path),
                _ => bail!("Parameter name in \"get_param\" must be string"),
            },
            _ => bail!("Argument to \"get_param\" must be string or list"),
        };
        let value = self.parameters.value(name)?;
        Ok(data::param_path(value, path))
    }

    /// The data functions, evaluated as Heat 27.0.1 does. Those whose value needs a
    /// running stack or a service are refused, naming them.
    fn resolve_other(&self, name: &str, call: &Call, v: &Value) -> Result<Value> {
        // Arguments Heat reads before resolving (the delimiter of Fn::Split).
        let raw_items: &[Snippet] = match &call.args {
            Snippet::List(items) => items,
            _ => &[],
        };
        let items: &[Value] = v.as_array().map(Vec::as_slice).unwrap_or(&[]);
        let shape = || anyhow!("Incorrect arguments to \"{name}\"");
        match name {
            "list_join" if self.hot_at_least("2015-10-15") => {
                let (delim, lists) = items.split_first().ok_or_else(shape)?;
                data::join_multiple(name, delim, lists)
            }
            "list_join" | "Fn::Join" => match items {
                [delim, strings] => data::join(name, delim, strings),
                _ => Err(shape()),
            },
            "str_replace" | "str_replace_strict" | "str_replace_vstrict" | "Fn::Replace" => {
                let kind = match name {
                    "str_replace_strict" => ReplaceKind::Strict,
                    "str_replace_vstrict" => ReplaceKind::VeryStrict,
                    "str_replace" if self.hot_at_least("2015-10-15") => ReplaceKind::Json,
                    _ => ReplaceKind::Plain,
                };
                let (template, params) = if name == "Fn::Replace" {
                    match items {
                        [params, template] => (template, params),
                        _ => return Err(shape()),
                    }
                } else {
                    (
                        v.get("template").ok_or_else(shape)?,
                        v.get("params").ok_or_else(shape)?,
                    )
                };
                data::replace(name, kind, template, params)
            }
            "map_merge" => data::map_merge(name, v),
            "map_replace" => data::map_replace(name, v),
            "list_concat" => data::list_concat(name, false, v),
            "list_concat_unique" => data::list_concat(name, true, v),
            // `contains` outside a condition (a regular function from 2017-09-01).
            "contains" => match items {
                [value, sequence] => data::contains(name, value, sequence).map(Value::Bool),
                _ => Err(shape()),
            },
            "filter" => match items {
                [values, sequence] => data::filter(name, values, sequence),
                _ => Err(shape()),
            },
            "str_split" => data::str_split(name, v),
            "Fn::Split" => match items {
                [_, strings] => {
                    let delim = match raw_items.first() {
                        Some(Snippet::Scalar(Value::String(d))) => Some(d.as_str()),
                        _ => None,
                    };
                    data::cfn_split(name, delim, strings)
                }
                _ => Err(shape()),
            },
            "Fn::Select" => match items {
                [index, collection] => data::select(name, index, collection),
                _ => Err(shape()),
            },
            "Fn::FindInMap" => {
                // The mappings' keys are strings: any other key is a KeyError.
                let keys: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                if keys.len() != items.len() {
                    bail!("a key of \"{name}\" that is not a string is not in the mappings");
                }
                match keys.as_slice() {
                    [m, k, x] => self
                        .mappings
                        .get(*m)
                        .and_then(|mm| mm.get(*k))
                        .and_then(|kk| kk.get(*x))
                        .cloned()
                        .ok_or_else(|| anyhow!("no mapping {m}.{k}.{x}")),
                    _ => Err(shape()),
                }
            }
            "Fn::Base64" => data::base64(name, v),
            "Fn::MemberListToMap" => match (raw_items, items) {
                (
                    [Snippet::Scalar(Value::String(k)), Snippet::Scalar(Value::String(val)), _],
                    [_, _, list],
                ) => data::member_list_to_map(k, val, list),
                _ => Err(shape()),
            },
            "digest" => data::digest(name, v),
            "repeat" => {
                let kind = if self.hot_at_least("2017-09-01") {
                    let permutations = !matches!(v.get("permutations"), Some(Value::Bool(false)));
                    RepeatKind::NestedLoop { permutations }
                } else if self.hot_at_least("2016-10-14") {
                    RepeatKind::ListsOrMaps
                } else {
                    RepeatKind::Lists
                };
                let for_each = v.get("for_each").ok_or_else(shape)?;
                let template = v.get("template").ok_or_else(shape)?;
                data::repeat(name, kind, for_each, template)
            }
            "make_url" => data::make_url(name, v),
            "get_file" => match v {
                Value::String(key) => self
                    .files
                    .get(key)
                    .map(|f| Value::String(f.clone()))
                    .ok_or_else(|| {
                        anyhow!("No content found in the \"files\" section for {name} path: {key}")
                    }),
                _ => bail!("Argument to \"{name}\" must be a string"),
            },
            // Heat's Yaql.result: the expression (resolved) must be a string, `data`
            // defaults to {} when the key is left out, and the expression sees
            // `{"data": data}` as `$`, under the `[yaql]` limits (Heat's defaults).
            "yaql" => {
                let Some(Value::String(expression)) = v.get("expression") else {
                    bail!("The \"expression\" argument to {name} must contain a string.")
                };
                let data = v
                    .get("data")
                    .cloned()
                    .unwrap_or_else(|| Value::Object(serde_json::Map::new()));
                // evaluate() binds `$` to {"data": data} itself.
                match crate::yaql::evaluate(expression, &data, &crate::yaql::Limits::default()) {
                    Ok(value) => Ok(value),
                    // What we do not model is refused, naming it; never guessed.
                    Err(crate::yaql::YaqlError::Unsupported { name: what }) => {
                        Err(unknowable(&format!("yaql: {what}")))
                    }
                    // Heat raises these (a bad expression, a failed evaluation, a limit).
                    Err(e) => bail!("{e}"),
                }
            }
            // resource_facade and Fn::ResourceFacade read the parent stack's resource,
            // Fn::GetAZs asks Nova.
            _ => Err(unknowable(name)),
        }
    }
}

/// The snippet as written, when it holds no call (a removed function's arguments).
fn unparsed(s: &Snippet) -> Option<Value> {
    match s {
        Snippet::Scalar(v) => Some(v.clone()),
        Snippet::List(items) => items
            .iter()
            .map(unparsed)
            .collect::<Option<_>>()
            .map(Value::Array),
        Snippet::Map(items) => items
            .iter()
            .map(|(k, v)| unparsed(v).map(|v| (k.clone(), v)))
            .collect::<Option<Map<_, _>>>()
            .map(Value::Object),
        Snippet::Call(_) | Snippet::Absent => None,
    }
}
