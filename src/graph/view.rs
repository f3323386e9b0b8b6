//! The stack definition as the implicit rules see it ([`super::implicit::StackView`]).
//!
//! Property values are resolved as Heat resolves them while it builds the graph of a
//! stack loaded from the database: `get_resource` gives the resource's name and
//! `get_attr` gives None, whatever the resources hold.

use super::implicit::{Implementation, StackView};
use crate::environment::Plugin;
use crate::plugins::How;
use crate::properties::{ParameterKind, PropertyError, TemplateParameter};
use crate::stack::StackDefinition;
use crate::template::snippet::Snippet;
use crate::template::Template;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub struct View<'a> {
    stack: &'a StackDefinition,
    /// Each resource's explicit requirements (the graph before any plugin rule).
    explicit: &'a BTreeMap<String, BTreeSet<String>>,
    /// When set, the rules walk only these resources (to see what each one alone does).
    only: Option<Vec<String>>,
    /// Each provider template's parameters, by file, read once: a ResourceGroup's
    /// thousands of members are one template (parsing it for each member was most of
    /// the planning of a 5,000-member group).
    provider_parameters: RefCell<HashMap<String, Vec<(String, TemplateParameter)>>>,
}

impl<'a> View<'a> {
    pub fn new(
        stack: &'a StackDefinition,
        explicit: &'a BTreeMap<String, BTreeSet<String>>,
        only: Option<Vec<String>>,
    ) -> View<'a> {
        View {
            stack,
            explicit,
            only,
            provider_parameters: RefCell::default(),
        }
    }
}

impl StackView for View<'_> {
    fn resource_names(&self) -> Vec<String> {
        self.stack
            .resources
            .iter()
            .map(|r| r.name.clone())
            .filter(|n| self.only.as_ref().is_none_or(|o| o.contains(n)))
            .collect()
    }

    fn implementation(&self, name: &str) -> Option<Implementation> {
        let res = self.stack.resource(name)?;
        Some(match &res.plugin {
            Plugin::Class(c) => Implementation::Plugin(c.clone()),
            Plugin::Template(file) => Implementation::Template(self.template_parameters(file)),
            Plugin::Vendor(v) => match &v.how {
                How::As(in_tree) => Implementation::Plugin(in_tree.clone()),
                How::AsResource | How::NeedsHeat(_) => Implementation::Opaque(v.named()),
            },
        })
    }

    fn has_interface(&self, name: &str, iface: &str) -> bool {
        let Some(res) = self.stack.resource(name) else {
            return false;
        };
        res.type_name == iface
            || self
                .stack
                .resolver
                .interface(&res.type_name, name)
                .is_ok_and(|i| i == iface)
    }

    fn property(&self, name: &str, prop: &str) -> Result<Option<Value>, PropertyError> {
        let Some(props) = self
            .stack
            .resource(name)
            .and_then(|r| r.properties.as_ref())
        else {
            return Ok(None);
        };
        let snippet = match props {
            Snippet::Map(items) => match items.iter().find(|(k, _)| k == prop) {
                Some((_, v)) if v.is_absent() => return Ok(None),
                None => return Ok(None),
                Some((_, v)) => v,
            },
            // Properties given as one function: resolve the whole, then look inside.
            whole => {
                let v = self.stack.resolve(whole).map_err(property_error)?;
                return Ok(v.get(prop).cloned());
            }
        };
        self.stack
            .resolve(snippet)
            .map(Some)
            .map_err(property_error)
    }

    fn explicit_requirements(&self, name: &str) -> Vec<String> {
        self.explicit
            .get(name)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }
}

impl View<'_> {
    /// A provider template's parameters, which are its facade resource's properties.
    fn template_parameters(&self, file: &str) -> Vec<(String, TemplateParameter)> {
        if let Some(known) = self.provider_parameters.borrow().get(file) {
            return known.clone();
        }
        let read = self.read_template_parameters(file);
        self.provider_parameters
            .borrow_mut()
            .insert(file.to_string(), read.clone());
        read
    }

    fn read_template_parameters(&self, file: &str) -> Vec<(String, TemplateParameter)> {
        let Some(text) = self.stack.files.get(file) else {
            return Vec::new();
        };
        let Ok(tmpl) = Template::from_text(text, file) else {
            return Vec::new();
        };
        let Ok(params) = tmpl.parameters() else {
            return Vec::new();
        };
        let (type_key, default_key) = if tmpl.is_hot() {
            ("type", "default")
        } else {
            ("Type", "Default")
        };
        params
            .iter()
            .filter_map(|(name, schema)| {
                let kind = match schema.get(type_key)?.as_str()? {
                    "string" | "String" => ParameterKind::String,
                    "number" | "Number" => ParameterKind::Number,
                    "comma_delimited_list" | "CommaDelimitedList" => {
                        ParameterKind::CommaDelimitedList
                    }
                    "json" | "Json" => ParameterKind::Json,
                    "boolean" | "Boolean" => ParameterKind::Boolean,
                    _ => return None,
                };
                let has_default = schema.get(default_key).is_some_and(|d| !d.is_null())
                    || self.stack.parameter_defaults.contains_key(name);
                Some((name.clone(), TemplateParameter { kind, has_default }))
            })
            .collect()
    }
}

/// A resolver error as the property layer sees it: Heat's own error, or a value
/// heat-converge cannot know (which must not pass for Heat's ValueError).
fn property_error(e: anyhow::Error) -> PropertyError {
    if crate::stack::is_unknowable(&e) {
        PropertyError::Unknowable(format!("{e:#}"))
    } else {
        PropertyError::Raised(format!("{e:#}"))
    }
}

#[cfg(test)]
mod tests {
    use crate::environment::{Environment, Resolver};
    use crate::graph::Graph;
    use crate::parameters::StackIdentity;
    use crate::stack::StackDefinition;
    use crate::template::Template;
    use std::collections::HashMap;

    fn graph(port_network: &str, stored: bool) -> anyhow::Result<Graph> {
        let text = format!(
            "heat_template_version: 2017-09-01\n\
             resources:\n  \
               sub: {{type: OS::Neutron::Subnet, properties: {{network: a, cidr: 10.0.0.0/24}}}}\n  \
               port: {{type: OS::Neutron::Port, properties: {{network: {port_network}}}}}\n"
        );
        let template = Template::from_text(&text, "t.yaml")?;
        let env = Environment::default();
        let resolver = Resolver {
            user: env.registry.clone(),
            global: Default::default(),
            plugins: Default::default(),
        };
        let id = StackIdentity {
            name: "s".into(),
            id: None,
            project: "p".into(),
        };
        let stack = StackDefinition::new(template, &env, resolver, &id, HashMap::new())?;
        Graph::of(&stack, stored)
    }

    #[test]
    fn a_function_we_do_not_evaluate_refuses_the_graph() {
        // yaql is evaluated as Heat does: the port waits for the subnet on network "a".
        let g = graph("{yaql: {expression: $.data, data: a}}", true).unwrap();
        assert!(g.resources["port"].requires.contains("sub"));
        // A yaql function we do not model (Heat has it): refused, never taken for the
        // ValueError the port's rule skips.
        for stored in [false, true] {
            let err = graph(
                "{yaql: {expression: '$.data.groupBy($)', data: [a]}}",
                stored,
            )
            .unwrap_err();
            let text = format!("{err:#}");
            assert!(
                text.contains("yaql") && text.contains("cannot be known"),
                "{text}"
            );
        }
        // An error Heat raises too is skipped by the rule, as Heat skips it.
        let g = graph("{str_split: [',', 'a,b', 5]}", false).unwrap();
        assert!(g.resources["port"].requires.is_empty());
        let g = graph("{str_split: [',', 'a,b', 0]}", false).unwrap();
        assert!(g.resources["port"].requires.contains("sub"));
    }
}
