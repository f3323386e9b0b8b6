//! Conditions, as Heat's `Conditions` evaluates them: every definition parsed up front,
//! each evaluated once on demand (a circular definition is an error), and the operands of
//! `not`/`and`/`or` read as booleans or condition names.

use super::{CondState, StackDefinition};
use crate::python;
use crate::template::snippet::{parse, ParseScope, Snippet, Table};
use crate::template::Format;
use anyhow::{anyhow, bail, Result};
use serde_json::Value;

impl StackDefinition {
    /// Heat parses every condition definition up front: a malformed one rejects the
    /// template even if nothing uses it.
    pub(super) fn parse_conditions(&self) -> Result<()> {
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
    pub(super) fn condition_operand(&self, s: &Snippet) -> Result<bool> {
        self.condition_value(&self.resolve(s)?)
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
