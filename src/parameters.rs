//! Stack parameters as Heat resolves them: the environment's `parameters` (the user's
//! values) over the template defaults, which `parameter_defaults` replace; pseudo
//! parameters (`OS::stack_name`, `AWS::StackName`, ...); and Heat's per-type conversion of
//! the value (numbers, booleans, comma-delimited lists, JSON). Conditions read these, so
//! they decide which resources are in the stack and which `if` branch counts. A hidden
//! parameter Heat stored encrypted is decrypted only when its value is read.

use crate::crypt::{Sealed, Unsealer};
use crate::environment::Environment;
use crate::python;
use crate::template::{Format, Template};
use anyhow::{anyhow, bail, Result};
use serde_json::{Map, Value};

/// Who the stack is: the values of the pseudo parameters.
#[derive(Clone, Debug)]
pub struct StackIdentity {
    pub name: String,
    pub id: Option<String>,
    pub project: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    String,
    Number,
    Json,
    List,
    Boolean,
}

#[derive(Clone, Debug)]
enum Raw {
    Plain(Value),
    /// The user's value, as Heat stored it encrypted.
    Sealed(Sealed),
}

#[derive(Clone, Debug)]
struct Parameter {
    kind: Kind,
    value: Option<Raw>,
}

/// The parameters of one stack, ready to be read by `get_param` / `Ref`.
#[derive(Clone, Debug)]
pub struct Parameters {
    declared: Vec<(String, Parameter)>,
    pseudo: Vec<(&'static str, Value)>,
    unsealer: Unsealer,
}

impl Parameters {
    pub fn new(
        template: &Template,
        env: &Environment,
        identity: &StackIdentity,
    ) -> Result<Parameters> {
        let hot = template.is_hot();
        let mut declared = Vec::new();
        for (name, schema) in template.parameters()? {
            let schema = schema.as_object().ok_or_else(|| {
                anyhow!(
                    "{}: parameters.{name}: the parameter definition must be a map",
                    template.origin
                )
            })?;
            let type_key = if hot { "type" } else { "Type" };
            let kind = match schema.get(type_key) {
                None => bail!(
                    "{}: Missing parameter type for parameter: {name}",
                    template.origin
                ),
                Some(Value::String(t)) => parse_kind(t, hot).ok_or_else(|| {
                    anyhow!("{}: parameters.{name}: Invalid type ({t})", template.origin)
                })?,
                Some(other) => bail!(
                    "{}: parameters.{name}: Invalid type ({other})",
                    template.origin
                ),
            };
            let default = schema.get(if hot { "default" } else { "Default" });
            let sealed = env.encrypted.iter().find(|(n, _)| *n == name);
            let value = match sealed {
                Some((_, s)) => Some(Raw::Sealed(s.clone())),
                None => env
                    .parameters
                    .get(&name)
                    .or_else(|| env.parameter_defaults.get(&name))
                    .or(default)
                    .cloned()
                    .map(Raw::Plain),
            };
            declared.push((name.clone(), Parameter { kind, value }));
        }
        let stack_id = identity.id.clone().unwrap_or_default();
        let arn = format!(
            "arn:openstack:heat::{}:stacks/{}/{}",
            identity.project, identity.name, stack_id
        );
        let mut pseudo = vec![
            ("OS::stack_name", Value::String(identity.name.clone())),
            ("OS::stack_id", Value::String(stack_id)),
            ("OS::project_id", Value::String(identity.project.clone())),
        ];
        if matches!(template.format, Format::Cfn { .. }) || !hot {
            pseudo.push(("AWS::StackName", Value::String(identity.name.clone())));
            pseudo.push(("AWS::StackId", Value::String(arn)));
            pseudo.push(("AWS::Region", Value::String("ap-southeast-1".into())));
        }
        Ok(Parameters {
            declared,
            pseudo,
            unsealer: env.unsealer.clone(),
        })
    }

    /// `Err` naming the first hidden parameter whose value was asked for and could not be
    /// decrypted: whatever was made from this stack's parameters is then unknown, even
    /// where the failed read was caught as Heat catches a ValueError.
    pub fn unread(&self) -> Result<()> {
        match self.unsealer.failure() {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// True when `name` is a declared or pseudo parameter.
    pub fn contains(&self, name: &str) -> bool {
        self.declared.iter().any(|(n, _)| n == name) || self.pseudo.iter().any(|(n, _)| *n == name)
    }

    /// The value of a parameter, converted by its type, as `get_param` returns it.
    pub fn value(&self, name: &str) -> Result<Value> {
        if let Some((_, v)) = self.pseudo.iter().find(|(n, _)| *n == name) {
            return Ok(v.clone());
        }
        let (_, p) = self
            .declared
            .iter()
            .find(|(n, _)| n == name)
            .ok_or_else(|| {
                anyhow!("The specified reference \"{name}\" (in unknown) is incorrect.")
            })?;
        let opened;
        let raw = match &p.value {
            None => bail!("The Parameter ({name}) was not provided."),
            Some(Raw::Plain(v)) => v,
            Some(Raw::Sealed(s)) => {
                opened = self.unsealer.open(name, s)?;
                &opened
            }
        };
        convert(p.kind, raw).map_err(|e| anyhow!("Parameter '{name}' is invalid: {e}"))
    }
}

fn parse_kind(t: &str, hot: bool) -> Option<Kind> {
    let k = if hot {
        match t {
            "string" => Kind::String,
            "number" => Kind::Number,
            "json" => Kind::Json,
            "comma_delimited_list" => Kind::List,
            "boolean" => Kind::Boolean,
            _ => return None,
        }
    } else {
        match t {
            "String" => Kind::String,
            "Number" => Kind::Number,
            "Json" => Kind::Json,
            "CommaDelimitedList" => Kind::List,
            "Boolean" => Kind::Boolean,
            _ => return None,
        }
    };
    Some(k)
}

/// Heat's conversion of a raw parameter value to its typed value. Parameters can hold
/// secrets (passwords, keys): no message here ever quotes a value.
fn convert(kind: Kind, raw: &Value) -> Result<Value> {
    Ok(match kind {
        Kind::String => raw.clone(),
        Kind::Number => match raw {
            Value::Number(_) => raw.clone(),
            // `Schema.str_to_num`: int(s), else float(s).
            Value::String(s) => match python::int_or_float(s) {
                Ok(v) => v,
                Err(python::NotANumber::Invalid) => bail!("the value is not a number"),
                Err(python::NotANumber::NonFinite) => {
                    bail!("the value is infinite or NaN, which heat-converge does not model")
                }
            },
            other => bail!("a {} is not a number", python::type_name(other)),
        },
        Kind::Boolean => match raw {
            Value::Bool(_) => raw.clone(),
            // oslo's bool_from_string: `s.strip().lower()`.
            Value::String(s) => match python::strip(s, None).to_ascii_lowercase().as_str() {
                "1" | "t" | "true" | "on" | "y" | "yes" => Value::Bool(true),
                "0" | "f" | "false" | "off" | "n" | "no" => Value::Bool(false),
                _ => bail!("the value is not a boolean (acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes')"),
            },
            Value::Number(n) if n.as_i64() == Some(1) => Value::Bool(true),
            Value::Number(n) if n.as_i64() == Some(0) => Value::Bool(false),
            other => bail!("a {} is not a boolean", python::type_name(other)),
        },
        Kind::List => match raw {
            Value::Array(items) => Value::Array(items.iter().map(|v| Value::String(python::str(v))).collect()),
            Value::String(s) if s.is_empty() => Value::Array(Vec::new()),
            Value::String(s) => Value::Array(s.split(',').map(|x| Value::String(x.trim().to_string())).collect()),
            other => bail!("a {} is not a comma-delimited list", python::type_name(other)),
        },
        Kind::Json => match raw {
            Value::Object(_) | Value::Array(_) => raw.clone(),
            Value::String(s) if s.trim().is_empty() => Value::Object(Map::new()),
            Value::String(s) => serde_json::from_str(s).map_err(|_| anyhow!("the value is not valid JSON"))?,
            other => bail!("a {} is not valid JSON", python::type_name(other)),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(tmpl: &str, env: &str) -> Parameters {
        let t = Template::from_text(tmpl, "t").unwrap();
        let e = Environment::from_text(env, "e").unwrap();
        let id = StackIdentity {
            name: "s".into(),
            id: None,
            project: "p".into(),
        };
        Parameters::new(&t, &e, &id).unwrap()
    }

    #[test]
    fn user_values_beat_parameter_defaults_beat_template_defaults() {
        let t = "heat_template_version: 2016-10-14\nparameters:\n  a: {type: string, default: t}\n  b: {type: string, default: t}\n  c: {type: string, default: t}\n";
        let p = params(
            t,
            "parameters: {a: user}\nparameter_defaults: {a: pd, b: pd}\n",
        );
        assert_eq!(p.value("a").unwrap(), "user");
        assert_eq!(p.value("b").unwrap(), "pd");
        assert_eq!(p.value("c").unwrap(), "t");
        assert_eq!(p.value("OS::stack_name").unwrap(), "s");
        assert!(p.value("nope").is_err());
    }

    #[test]
    fn values_are_converted_by_type() {
        let t = "heat_template_version: 2016-10-14\nparameters:\n  n: {type: number}\n  b: {type: boolean}\n  l: {type: comma_delimited_list}\n  j: {type: json}\n  m: {type: string}\n";
        let p = params(
            t,
            "parameters: {n: '42', b: 'yes', l: 'x, y', j: '{\"k\": 1}'}\n",
        );
        assert_eq!(p.value("n").unwrap(), 42);
        assert_eq!(p.value("b").unwrap(), true);
        assert_eq!(p.value("l").unwrap(), serde_json::json!(["x", "y"]));
        assert_eq!(p.value("j").unwrap(), serde_json::json!({"k": 1}));
        let e = p.value("m").unwrap_err();
        assert!(e.to_string().contains("(m) was not provided"), "{e}");
    }
}

#[cfg(test)]
mod secrets {
    use super::*;

    #[test]
    fn bad_values_are_never_quoted() {
        let t = Template::from_text(
            "heat_template_version: 2016-10-14\nparameters:\n  n: {type: number}\n  b: {type: boolean}\n  j: {type: json}\n",
            "t",
        )
        .unwrap();
        let e =
            Environment::from_text("parameters: {n: hunter2, b: hunter2, j: '{hunter2'}\n", "e")
                .unwrap();
        let id = StackIdentity {
            name: "s".into(),
            id: None,
            project: "p".into(),
        };
        let p = Parameters::new(&t, &e, &id).unwrap();
        for name in ["n", "b", "j"] {
            let msg = format!("{:#}", p.value(name).unwrap_err());
            assert!(msg.contains(name) && !msg.contains("hunter2"), "{msg}");
        }
    }
}
