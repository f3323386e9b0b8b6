//! Heat environments: parameter values and the resource registry.
//!
//! The registry matters to the graph because the plugin a resource type maps to decides
//! its implicit dependencies: a type mapped to a provider template or to `OS::Heat::None`
//! has no plugin rules. Lookups follow Heat's order: the resource-specific registry
//! (`resources: {name: {...}}`), the user's mappings, then the global environment (files in
//! `/etc/heat/environment.d` by default) and the types Heat's plugins register.

use crate::crypt::{Sealed, Unsealer};
use crate::plugins::{Catalog, PluginType};
use anyhow::{anyhow, bail, Context, Result};
use serde_json::{Map, Value};
use std::path::Path;
use std::sync::Arc;

const SECTIONS: &[&str] = &[
    "parameters",
    "parameter_defaults",
    "resource_registry",
    "encrypted_param_names",
    "event_sinks",
    "parameter_merge_strategies",
];

/// Heat's own default global environment directory.
pub const DEFAULT_ENVIRONMENT_DIR: &str = "/etc/heat/environment.d";

/// One environment: what a stack was created with (`raw_template.environment`), or the
/// merge of environment files given on the command line.
#[derive(Clone, Debug, Default)]
pub struct Environment {
    pub parameters: Map<String, Value>,
    pub parameter_defaults: Map<String, Value>,
    pub registry: Registry,
    /// The user's values Heat stored encrypted (hidden parameters named in
    /// `encrypted_param_names`, stored as `[method, data]`): not in `parameters`, opened
    /// by `unsealer` only when a value is asked for.
    pub encrypted: Vec<(String, Sealed)>,
    /// The key that opens `encrypted` (see [`crate::crypt`]).
    pub unsealer: Unsealer,
}

/// The `resource_registry` of one environment layer.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    /// type (possibly ending in `*`) -> target type or template.
    pub mappings: Vec<(String, String)>,
    /// resource name -> its own mappings.
    pub per_resource: Vec<(String, Vec<(String, String)>)>,
}

/// What a resource type finally maps to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plugin {
    /// A resource plugin registered by Heat, by its registered type name.
    Class(String),
    /// A provider template (nested stack); no plugin rules apply.
    Template(String),
    /// A third-party plugin of heat.conf's `plugin_dirs` (see [`crate::plugins`]).
    Vendor(PluginType),
}

impl Environment {
    /// Reads an environment document (YAML or JSON), as Heat's `environment_format.parse`.
    pub fn from_text(text: &str, origin: &str) -> Result<Environment> {
        let value: Value = if text.trim().is_empty() {
            Value::Object(Map::new())
        } else if let Ok(v) = serde_json::from_str(text) {
            v
        } else {
            serde_yaml::from_str(text)
                .map_err(|e| anyhow!("{origin}: cannot parse environment: {e}"))?
        };
        Environment::from_value(&value).with_context(|| format!("{origin}: invalid environment"))
    }

    /// An environment from its JSON form (as stored in `raw_template.environment`).
    pub fn from_value(value: &Value) -> Result<Environment> {
        let map = match value {
            Value::Null => return Ok(Environment::default()),
            Value::Object(m) => m,
            _ => bail!("the environment is not a valid YAML mapping data type"),
        };
        for key in map.keys() {
            if !SECTIONS.contains(&key.as_str()) {
                bail!("environment has wrong section \"{key}\"");
            }
        }
        let section = |name: &str| -> Result<Map<String, Value>> {
            match map.get(name) {
                None | Some(Value::Null) => Ok(Map::new()),
                Some(Value::Object(m)) => Ok(m.clone()),
                Some(_) => bail!("section \"{name}\" must be a map"),
            }
        };
        Ok(Environment {
            parameters: section("parameters")?,
            parameter_defaults: section("parameter_defaults")?,
            registry: Registry::from_map(&section("resource_registry")?)?,
            encrypted: Vec::new(),
            unsealer: Unsealer::default(),
        })
    }

    /// A stack's stored environment (`raw_template.environment`) as Heat's
    /// `RawTemplate.from_db_object` reads it: the values `encrypted_param_names` lists
    /// are encrypted (a user's environment file is never decrypted).
    pub fn from_stored(value: &Value) -> Result<Environment> {
        let mut env = Environment::from_value(value)?;
        if let Some(names) = value.get("encrypted_param_names") {
            env.encrypted = sealed_parameters(names, &mut env.parameters)?;
        }
        Ok(env)
    }

    /// Layers `other` over `self`, as several `-e` files are merged: later files win, the
    /// registry's mappings are added to.
    pub fn merge(&mut self, other: Environment) {
        self.parameters.extend(other.parameters);
        self.parameter_defaults.extend(other.parameter_defaults);
        self.registry.mappings.extend(other.registry.mappings);
        self.registry
            .per_resource
            .extend(other.registry.per_resource);
        self.encrypted.extend(other.encrypted);
    }
}

/// Takes the encrypted values out of `parameters`, as Heat's `RawTemplate.from_db_object`
/// finds them: each name of `encrypted_param_names` must be in `parameters` (else Heat
/// fails with a KeyError); a `[method, data]` pair is encrypted, any other value was
/// stored in clear and is kept (Heat logs "already-decrypted data").
fn sealed_parameters(
    names: &Value,
    parameters: &mut Map<String, Value>,
) -> Result<Vec<(String, Sealed)>> {
    let Value::Array(names) = names else {
        bail!("encrypted_param_names is not a list");
    };
    let mut sealed = Vec::new();
    for name in names {
        let Value::String(name) = name else {
            bail!("encrypted_param_names holds a name that is not a string");
        };
        if sealed.iter().any(|(n, _): &(String, Sealed)| n == name) {
            continue; // Heat finds the value already decrypted the second time
        }
        match parameters.get(name) {
            None => bail!("encrypted parameter {name} has no value in the stored parameters"),
            Some(Value::Array(pair)) if pair.len() == 2 => {
                sealed.push((
                    name.clone(),
                    Sealed {
                        method: pair[0].clone(),
                        data: pair[1].clone(),
                    },
                ));
                parameters.shift_remove(name);
            }
            Some(_) => {}
        }
    }
    Ok(sealed)
}

impl Registry {
    fn from_map(map: &Map<String, Value>) -> Result<Registry> {
        let mut reg = Registry::default();
        for (key, value) in map {
            if key == "resources" {
                let per = value
                    .as_object()
                    .ok_or_else(|| anyhow!("resource_registry.resources must be a map"))?;
                for (res_name, entries) in per {
                    let mut own = Vec::new();
                    if let Some(entries) = entries.as_object() {
                        for (t, target) in entries {
                            if let Some(target) = target.as_str() {
                                own.push((t.clone(), target.to_string()));
                            }
                        }
                    }
                    reg.per_resource.push((res_name.clone(), own));
                }
            } else if let Some(target) = value.as_str() {
                reg.mappings.push((key.clone(), target.to_string()));
            }
        }
        Ok(reg)
    }

    /// The target of `type_name` in this layer (exact match first, then the longest
    /// wildcard prefix, `OS::Foo::*` -> `OS::Bar::*`).
    fn lookup(entries: &[(String, String)], type_name: &str) -> Option<String> {
        if let Some((_, t)) = entries.iter().rev().find(|(k, _)| k == type_name) {
            return Some(t.clone());
        }
        entries
            .iter()
            .rev()
            .filter_map(|(k, t)| {
                let prefix = k.strip_suffix('*')?;
                let rest = type_name.strip_prefix(prefix)?;
                let target = match t.strip_suffix('*') {
                    Some(tp) => format!("{tp}{rest}"),
                    None => t.clone(),
                };
                Some((prefix.len(), target))
            })
            .max_by_key(|(len, _)| *len)
            .map(|(_, t)| t)
    }
}

/// True when a registry target or a resource type names a provider template.
pub fn is_template_name(name: &str) -> bool {
    name.ends_with(".yaml")
        || name.ends_with(".template")
        || name.ends_with(".yml")
        || name.contains("://")
}

/// The resource types Heat 27.0.1's own plugins register (kept with the plugins, which
/// may replace them).
pub use crate::plugins::heat_types as known_types;

/// The user's environment over the global one, and the plugin a resource's type maps to.
#[derive(Clone, Debug, Default)]
pub struct Resolver {
    pub user: Registry,
    pub global: Registry,
    /// The types of heat.conf's `plugin_dirs`: loaded after Heat's own, so a type they
    /// register replaces Heat's.
    pub plugins: Arc<Catalog>,
}

impl Resolver {
    /// The global environment: every `*.yaml`/`*.json` file of `dir` (missing dir: none).
    pub fn load_global(dir: &Path) -> Result<Registry> {
        let mut reg = Registry::default();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(reg);
        };
        let mut files: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        files.sort();
        for path in files {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let env = Environment::from_text(&text, &path.display().to_string())?;
            reg.mappings.extend(env.registry.mappings);
        }
        Ok(reg)
    }

    /// The plugin `type_name` maps to for the resource `resource_name`, following aliases;
    /// an error when Heat would not find the type.
    pub fn plugin(&self, type_name: &str, resource_name: &str) -> Result<Plugin> {
        self.lookup(type_name, resource_name).map(|(p, _)| p)
    }

    /// The registered type name the registry's last step maps from: Heat's
    /// `has_interface` is true for it (`My::Port: OS::Neutron::Port` makes a `My::Port`
    /// a Port; `OS::Neutron::Port: port.yaml` keeps the template a Port).
    pub fn interface(&self, type_name: &str, resource_name: &str) -> Result<String> {
        self.lookup(type_name, resource_name).map(|(_, i)| i)
    }

    fn lookup(&self, type_name: &str, resource_name: &str) -> Result<(Plugin, String)> {
        let mut current = type_name.to_string();
        for _ in 0..16 {
            let own = self
                .user
                .per_resource
                .iter()
                .filter(|(n, _)| n == resource_name)
                .find_map(|(_, m)| Registry::lookup(m, &current));
            let next = own
                .or_else(|| Registry::lookup(&self.user.mappings, &current))
                .or_else(|| Registry::lookup(&self.global.mappings, &current));
            match next {
                Some(t) if t == current => break,
                Some(t) if is_template_name(&t) => return Ok((Plugin::Template(t), current)),
                Some(t) => current = t,
                None => break,
            }
        }
        if is_template_name(&current) {
            return Ok((Plugin::Template(current.clone()), current));
        }
        if let Some(vendor) = self.plugins.get(&current) {
            return Ok((Plugin::Vendor(vendor.clone()), current));
        }
        if known_types().any(|k| k == current) {
            return Ok((Plugin::Class(current.clone()), current));
        }
        match self.plugins.not_found_hint() {
            Some(hint) => bail!("The Resource Type ({type_name}) could not be found: {hint}."),
            None => bail!("The Resource Type ({type_name}) could not be found."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolver(yaml: &str) -> Resolver {
        let env = Environment::from_text(yaml, "env").unwrap();
        Resolver {
            user: env.registry,
            global: Registry::default(),
            plugins: Default::default(),
        }
    }

    #[test]
    fn registry_maps_types_to_plugins() {
        let r = resolver(
            "resource_registry:\n  My::Box: box.yaml\n  My::Port: OS::Neutron::Port\n  OS::Neutron::Subnet: OS::Heat::None\n  \"Old::*\": \"OS::Neutron::*\"\n  resources:\n    special:\n      OS::Neutron::Port: OS::Heat::None\n",
        );
        assert_eq!(
            r.plugin("My::Box", "a").unwrap(),
            Plugin::Template("box.yaml".into())
        );
        assert_eq!(
            r.plugin("My::Port", "a").unwrap(),
            Plugin::Class("OS::Neutron::Port".into())
        );
        assert_eq!(
            r.plugin("OS::Neutron::Subnet", "a").unwrap(),
            Plugin::Class("OS::Heat::None".into())
        );
        assert_eq!(
            r.plugin("Old::Router", "a").unwrap(),
            Plugin::Class("OS::Neutron::Router".into())
        );
        assert_eq!(
            r.plugin("OS::Neutron::Port", "special").unwrap(),
            Plugin::Class("OS::Heat::None".into())
        );
        assert_eq!(
            r.plugin("OS::Neutron::Port", "other").unwrap(),
            Plugin::Class("OS::Neutron::Port".into())
        );
        assert!(r.plugin("No::Such::Type", "a").is_err());
        assert_eq!(
            r.plugin("nested.yaml", "a").unwrap(),
            Plugin::Template("nested.yaml".into())
        );
    }

    #[test]
    fn encrypted_parameters_are_taken_out_as_heat_finds_them() {
        let stored =
            |text: &str| Environment::from_stored(&serde_json::from_str::<Value>(text).unwrap());
        let text = r#"{"parameters": {"a": ["cryptography_decrypt_v1", "gAAA"], "b": "clear", "c": 1},
                "encrypted_param_names": ["a", "b", "a"]}"#;
        // A user's environment file is never decrypted.
        let file = Environment::from_text(text, "env").unwrap();
        assert!(file.encrypted.is_empty() && file.parameters.contains_key("a"));
        let env = stored(text).unwrap();
        assert_eq!(env.encrypted.len(), 1);
        assert_eq!(env.encrypted[0].0, "a");
        assert_eq!(env.encrypted[0].1.method, "cryptography_decrypt_v1");
        assert!(!env.parameters.contains_key("a"));
        // Stored in clear although listed: kept, as Heat keeps it.
        assert_eq!(env.parameters["b"], "clear");
        // Heat fails with a KeyError on a listed name without a value.
        let e = stored(r#"{"parameters": {}, "encrypted_param_names": ["gone"]}"#).unwrap_err();
        assert!(format!("{e:#}").contains("gone"), "{e:#}");
        assert!(stored(r#"{"encrypted_param_names": "a"}"#).is_err());
    }

    #[test]
    fn unknown_sections_are_refused() {
        assert!(Environment::from_text("paramters: {}\n", "env").is_err());
        assert!(Environment::from_text("- 1\n", "env").is_err());
        assert!(Environment::from_text("", "env").is_ok());
    }
}
