//! Implicit dependencies: the edges Heat 27.0.1's resource plugins add in
//! `add_dependencies`, on top of the explicit ones (`depends_on`, `get_resource`, ...).
//!
//! Each rule looks at the other resources of the stack that "have an interface"
//! (`Resource.has_interface`) and compares property values with its own. Which rule runs
//! follows the class the environment's registry picks, not the template type: a type
//! mapped to a provider template or to `OS::Heat::None` runs no rule, yet may still be
//! *seen* by other rules (`has_interface` is true for the type written in the template).
//!
//! How Heat treats failures, and so how we do (`heat/engine/stack.py`,
//! `_add_implicit_dependencies`): a ValueError/TypeError inside a plugin's `try` skips
//! that one resource; any exception escaping `add_dependencies` is logged and ignored for
//! a stored stack, *keeping the edges added before it*. Heat walks the resources in the
//! order of a Python `set` of names (hash-seeded, so it varies between engine processes);
//! after such an abort, which edges survive therefore depends on the process. We walk in
//! [`StackView::resource_names`] order and report the abort so the caller can tell.
//!
//! One file per plugin family holds its rules *and* the property schemas they read
//! (`neutron`, `nova`, `aws`, `heat`): adding a rule touches that file only, plus
//! `FAMILIES` for a new family. `rule` is the vocabulary the rules are written in.

mod aws;
mod heat;
mod neutron;
mod nova;
mod rule;
mod stack_view;
#[cfg(test)]
mod tests;

pub use stack_view::{Aborted, Implementation, ImplicitDependencies, StackView};

use crate::properties::ResourceSchema;
use rule::{PluginClass, Rule};

/// Every plugin class the rules know, by family.
const FAMILIES: &[&[PluginClass]] = &[neutron::PLUGINS, nova::PLUGINS, aws::PLUGINS, heat::PLUGINS];

fn plugin_class(name: &str) -> Option<&'static PluginClass> {
    FAMILIES
        .iter()
        .flat_map(|f| f.iter())
        .find(|c| c.name == name)
}

/// The schema (as far as the rules read it) of a plugin class, by the name it is
/// registered under. `None` for plugins no family carries.
pub fn plugin_schema(plugin: &str) -> Option<ResourceSchema> {
    plugin_class(plugin).map(|c| (c.schema)())
}

/// The implicit requirements of `name`, by the rule of the plugin class behind it.
pub fn implicit_dependencies(view: &dyn StackView, name: &str) -> ImplicitDependencies {
    let Some(Implementation::Plugin(plugin)) = view.implementation(name) else {
        return ImplicitDependencies::default();
    };
    let Some(rule) = plugin_class(&plugin).and_then(|c| c.rule) else {
        return ImplicitDependencies::default();
    };
    let mut r = Rule {
        view,
        me: name.to_string(),
        requires: vec![],
        schemas: plugin_schema,
    };
    let aborted = rule(&mut r).err();
    ImplicitDependencies {
        requires: r.requires,
        aborted,
    }
}
