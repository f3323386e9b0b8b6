//! The vocabulary the plugin rules are written in: a running rule (its resource, the edges
//! it added), reading another resource's properties through its schema, and the way
//! Heat's plugins treat exceptions (`try ... except (ValueError, TypeError)` or none).

use serde_json::Value;

use super::stack_view::{Aborted, Implementation, StackView};
use crate::properties::{template_schema, Failure, PropertyError, ResourceSchema};
use crate::python;

/// `Err` is an exception escaping `add_dependencies`.
pub type Step = Result<(), Aborted>;

/// `add_dependencies` of one plugin class.
pub type RuleFn = fn(&mut Rule) -> Step;

/// A plugin class the rules know: its registered name, its `add_dependencies` (if it
/// defines one) and its property schema (as far as any rule reads it).
pub struct PluginClass {
    pub name: &'static str,
    pub rule: Option<RuleFn>,
    pub schema: fn() -> ResourceSchema,
}

/// One run of a plugin class's `add_dependencies`, for resource `me`.
pub struct Rule<'a> {
    pub view: &'a dyn StackView,
    /// The resource whose rule runs.
    pub me: String,
    /// The edges added so far, in walk order, without duplicates.
    pub requires: Vec<String>,
    /// The schema of a plugin class by its registered name (the families' table).
    pub schemas: fn(&str) -> Option<ResourceSchema>,
}

/// One resource's `properties`, as Heat reads it.
pub struct Props<'a> {
    view: &'a dyn StackView,
    name: String,
    schema: Result<ResourceSchema, Failure>,
}

impl Props<'_> {
    fn given(&self) -> impl Fn(&str) -> Result<Option<Value>, PropertyError> + '_ {
        move |p: &str| self.view.property(&self.name, p)
    }
    /// `properties[prop]`
    pub fn item(&self, prop: &str) -> Result<Value, Failure> {
        self.schema
            .as_ref()
            .map_err(Clone::clone)?
            .item(&self.given(), prop)
    }
    /// `properties.get(prop)`
    pub fn get(&self, prop: &str) -> Result<Value, Failure> {
        self.schema
            .as_ref()
            .map_err(Clone::clone)?
            .get(&self.given(), prop)
    }
    /// `properties.get(a) or properties.get(b)`
    pub fn get_or(&self, a: &str, b: &str) -> Result<Value, Failure> {
        python::or(self.get(a)?, || self.get(b))
    }
}

impl<'a> Rule<'a> {
    /// `resources[name].properties`
    pub fn props(&self, name: &str) -> Props<'a> {
        let schema = match self.view.implementation(name) {
            Some(Implementation::Plugin(p)) => (self.schemas)(&p)
                .ok_or_else(|| Failure::Unmodelled(format!("properties of {name} ({p})"))),
            Some(Implementation::Template(params)) => Ok(template_schema(name, &params)),
            Some(Implementation::Opaque(plugin)) => Err(Failure::Unmodelled(format!(
                "properties of {name}, a third-party {plugin}"
            ))),
            None => Err(Failure::Unmodelled(format!("{name} is not in the stack"))),
        };
        Props {
            view: self.view,
            name: name.to_string(),
            schema,
        }
    }
    pub fn own(&self) -> Props<'a> {
        self.props(&self.me)
    }
    pub fn others(&self) -> Vec<String> {
        // Heat walks every resource, itself included (a self-edge is then a cycle error).
        self.view.resource_names()
    }
    pub fn has(&self, name: &str, iface: &str) -> bool {
        self.view.has_interface(name, iface)
    }
    pub fn add(&mut self, name: &str) {
        if !self.requires.iter().any(|r| r == name) {
            self.requires.push(name.to_string());
        }
    }
    /// `deps.graph()[self]`: explicit requirements plus the edges this rule added so far.
    pub fn current_requirements(&self) -> Vec<String> {
        let mut all = self.view.explicit_requirements(&self.me);
        for r in &self.requires {
            if !all.contains(r) {
                all.push(r.clone());
            }
        }
        all
    }
}

/// A read inside the plugin's `try ... except (ValueError, TypeError)`: `Ok(None)` means
/// the plugin skips (`continue`/`return False`), other failures escape.
pub fn guarded<T>(r: Result<T, Failure>, at: &str) -> Result<Option<T>, Aborted> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(f) if f.is_caught_by_plugins() => Ok(None),
        Err(failure) => Err(Aborted {
            at: at.to_string(),
            failure,
        }),
    }
}

/// A read outside any `try`: every failure escapes.
pub fn unguarded<T>(r: Result<T, Failure>, at: &str) -> Result<T, Aborted> {
    r.map_err(|failure| Aborted {
        at: at.to_string(),
        failure,
    })
}

/// Iterating a value the plugin takes for a list of dicts (`for x in value`): strings and
/// dicts iterate as strings, whose `.get` raises; numbers are not iterable.
pub fn as_list(v: &Value) -> Result<Vec<Value>, Failure> {
    match v {
        Value::Array(a) => Ok(a.clone()),
        Value::String(s) => Ok(s.chars().map(|c| Value::String(c.to_string())).collect()),
        Value::Object(o) => Ok(o.keys().map(|k| Value::String(k.clone())).collect()),
        other => Err(Failure::WrongShape(format!(
            "'{}' object is not iterable",
            python::type_name(other)
        ))),
    }
}

/// Python `d.get(key)` on a value plugin code assumes to be a dict.
pub fn dict_get(v: &Value, key: &str) -> Result<Value, Failure> {
    match v {
        Value::Object(o) => Ok(o.get(key).cloned().unwrap_or(Value::Null)),
        other => Err(Failure::WrongShape(format!(
            "'{}' object has no attribute 'get'",
            python::type_name(other)
        ))),
    }
}
