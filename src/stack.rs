//! A stack definition: a template with its environment and parameters, its conditions
//! evaluated and its resource definitions parsed, as Heat's `StackDefinition` holds them.
//!
//! This is what the dependency graph is read from. It knows nothing of databases: a stored
//! stack is given as its template, environment and the physical ids of its resources.

use crate::environment::{Environment, Plugin, Resolver};
use crate::parameters::{Parameters, StackIdentity};
use crate::python;
use crate::template::functions::FnKind;
use crate::template::snippet::{parse, Call, ParseScope, Snippet, Table};
use crate::template::{Format, Template};
use anyhow::{anyhow, bail, Result};
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

/// One enabled resource of the stack, its definition parsed.
#[derive(Clone, Debug)]
pub struct ResourceDefinition {
    pub name: String,
    /// The type as written in the template (what Heat's `resource.type()` says).
    pub type_name: String,
    /// The plugin the environment maps the type to.
    pub plugin: Plugin,
    pub properties: Option<Snippet>,
    pub metadata: Option<Snippet>,
    pub depends_on: Vec<String>,
    pub external_id: Option<Snippet>,
}

#[derive(Clone, Debug)]
enum CondState {
    InProgress,
    Done(bool),
}

/// A stack as Heat defines it before (or without) touching any physical resource.
pub struct StackDefinition {
    pub template: Template,
    pub parameters: Parameters,
    pub resolver: Resolver,
    /// Enabled resources, in template order.
    pub resources: Vec<ResourceDefinition>,
    all_names: BTreeSet<String>,
    condition_defns: Map<String, Value>,
    parsed_conditions: RefCell<HashMap<String, Snippet>>,
    condition_state: RefCell<HashMap<String, CondState>>,
    /// Files given with the template (provider templates, `get_file` targets), by the
    /// name the template uses.
    pub files: HashMap<String, String>,
    /// The environment's `parameter_defaults`: they also reach nested provider templates.
    pub parameter_defaults: Map<String, Value>,
    mappings: Map<String, Value>,
}

impl StackDefinition {
    /// Defines the stack; fails where Heat would refuse the template.
    pub fn new(
        template: Template,
        env: &Environment,
        resolver: Resolver,
        identity: &StackIdentity,
        files: HashMap<String, String>,
    ) -> Result<StackDefinition> {
        let parameters = Parameters::new(&template, env, identity)?;
        let condition_defns = template.conditions()?;
        let mut stack = StackDefinition {
            all_names: template.resource_names().into_iter().collect(),
            mappings: template.mappings(),
            template,
            parameters,
            resolver,
            resources: Vec::new(),
            condition_defns,
            parsed_conditions: RefCell::new(HashMap::new()),
            condition_state: RefCell::new(HashMap::new()),
            files,
            parameter_defaults: env.parameter_defaults.clone(),
        };
        stack.parse_conditions()?;
        stack.resources = stack.resource_definitions()?;
        Ok(stack)
    }

    fn origin(&self) -> &str {
        &self.template.origin
    }

    /// Heat parses every condition definition up front: a malformed one rejects the
    /// template even if nothing uses it.
    fn parse_conditions(&self) -> Result<()> {
        let key = if self.template.is_hot() {
            "conditions"
        } else {
            "Conditions"
        };
        for (name, raw) in &self.condition_defns {
            let path = format!("{key}.{name}");
            let parsed = parse(raw, Table::Condition, self, &path)
                .map_err(|e| anyhow!("{}: {e:#}", self.origin()))?;
            self.parsed_conditions
                .borrow_mut()
                .insert(name.clone(), parsed);
        }
        Ok(())
    }

    /// Whether the named condition holds (Heat's `Conditions.is_enabled`).
    pub fn condition_enabled(&self, name: &str) -> Result<bool> {
        if let Some(state) = self.condition_state.borrow().get(name) {
            return match state {
                CondState::Done(b) => Ok(*b),
                CondState::InProgress => bail!("Circular definition for condition \"{name}\""),
            };
        }
        let parsed = self
            .parsed_conditions
            .borrow()
            .get(name)
            .cloned()
            .ok_or_else(|| anyhow!("Invalid condition \"{name}\""))?;
        self.condition_state
            .borrow_mut()
            .insert(name.to_string(), CondState::InProgress);
        let result = match &parsed {
            Snippet::Scalar(Value::Bool(b)) => Ok(*b),
            Snippet::Call(_) => self
                .resolve(&parsed)
                .and_then(|v| self.truth_of_condition(name, &v)),
            other => Err(anyhow!(
                "The definition of condition \"{name}\" is invalid: {}",
                describe(other)
            )),
        };
        match result {
            Ok(b) => {
                self.condition_state
                    .borrow_mut()
                    .insert(name.to_string(), CondState::Done(b));
                Ok(b)
            }
            Err(e) => {
                self.condition_state.borrow_mut().remove(name);
                Err(e)
            }
        }
    }

    fn truth_of_condition(&self, name: &str, v: &Value) -> Result<bool> {
        match v {
            Value::Bool(b) => Ok(*b),
            other => bail!(
                "The definition of condition \"{name}\" is invalid: it gives a {}, not a boolean",
                python::type_name(other)
            ),
        }
    }

    /// A condition operand as Heat's condition functions read it: a boolean, or the name
    /// of a condition.
    fn condition_operand(&self, s: &Snippet) -> Result<bool> {
        match self.resolve(s)? {
            Value::Bool(b) => Ok(b),
            Value::String(name) if self.condition_defns.contains_key(&name) => {
                self.condition_enabled(&name)
            }
            // The value may come from a parameter: say what it is, not what it holds.
            Value::String(_) => bail!("Invalid condition: no condition has that name"),
            other => bail!(
                "Invalid condition: a {} is not a condition",
                python::type_name(&other)
            ),
        }
    }

    fn resource_definitions(&self) -> Result<Vec<ResourceDefinition>> {
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

fn describe(s: &Snippet) -> String {
    match s {
        Snippet::Scalar(v) => format!("{} ({})", python::str(v), python::type_name(v)),
        Snippet::List(_) => "a list".into(),
        Snippet::Map(_) => "a map".into(),
        Snippet::Call(c) => format!("{{{}: ...}}", c.name),
        Snippet::Absent => "nothing".into(),
    }
}

impl ParseScope for StackDefinition {
    fn format(&self) -> &Format {
        &self.template.format
    }

    fn names_template_resource(&self, name: &str) -> bool {
        self.all_names.contains(name)
    }

    fn condition_holds(&self, condition: &Snippet, path: &str) -> Result<bool> {
        let r = match condition {
            Snippet::Scalar(Value::Bool(b)) => Ok(*b),
            Snippet::Scalar(Value::String(name)) => self.condition_enabled(name),
            other => self.condition_operand(other),
        };
        r.map_err(|e| anyhow!("{path}: {e}"))
    }
}
