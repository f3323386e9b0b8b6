//! The dependency graph of a stack, as Heat's `Stack.dependencies` builds it.
//!
//! Explicit edges come from `depends_on` / `DependsOn` and from every resource reference
//! (`get_resource`, `get_attr`, resource `Ref`, `Fn::GetAtt`) in a resource's properties
//! and metadata. Implicit edges come from the resource plugins' own rules (see
//! [`implicit`]). A `requires` column written from a wrong graph makes the convergence
//! engine act in the wrong order, so every rule here follows Heat 27.0.1.

pub mod explicit;
pub mod implicit;
pub mod translation;
mod view;

use crate::stack::StackDefinition;
use anyhow::{bail, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// One resource of the graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// The type as written in the template.
    pub type_name: String,
    /// Names of the resources it depends on.
    pub requires: BTreeSet<String>,
}

/// A stack's dependency graph: resource name -> node; only resources in the stack.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Graph {
    pub resources: BTreeMap<String, Node>,
}

impl Graph {
    /// Builds the graph of a stack definition.
    ///
    /// `stored`: the stack exists in Heat's database. Heat then ignores every failure of a
    /// plugin's implicit rule; for a new stack it ignores only bad property values.
    ///
    /// When a plugin rule stops on an error Heat does not expect, Heat keeps the edges it
    /// had added so far in an order that varies between engine processes (new stacks are
    /// refused instead). Either way no single right answer exists, so this is an error.
    pub fn of(stack: &StackDefinition, stored: bool) -> Result<Graph> {
        let mut explicit_edges = BTreeMap::new();
        for res in &stack.resources {
            explicit_edges.insert(res.name.clone(), explicit::requirements(stack, res)?);
        }
        let view = view::View {
            stack,
            explicit: &explicit_edges,
        };
        let mut resources = BTreeMap::new();
        for res in &stack.resources {
            let mut requires = explicit_edges.get(&res.name).cloned().unwrap_or_default();
            let found = implicit::implicit_dependencies(&view, &res.name);
            if let Some(abort) = found.aborted {
                let when = if stored { "stored stack" } else { "template" };
                bail!(
                    "{}: the implicit dependencies of resource {} cannot be known: its plugin rule fails at {} ({:?}); Heat's own result for this {when} depends on its process",
                    stack.template.origin, res.name, abort.at, abort.failure
                );
            }
            requires.extend(found.requires);
            resources.insert(
                res.name.clone(),
                Node {
                    type_name: res.type_name.clone(),
                    requires,
                },
            );
        }
        Ok(Graph { resources })
    }

    /// The names that require `name` (the reverse edges, Heat's `needed_by`).
    pub fn required_by(&self, name: &str) -> BTreeSet<String> {
        self.resources
            .iter()
            .filter(|(_, n)| n.requires.contains(name))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// `{"resources": {"NAME": {"type": "TYPE", "requires": [...]}}}`, names sorted.
    pub fn to_json(&self) -> serde_json::Value {
        let mut res = serde_json::Map::new();
        for (name, node) in &self.resources {
            res.insert(
                name.clone(),
                serde_json::json!({"type": node.type_name, "requires": node.requires}),
            );
        }
        serde_json::json!({ "resources": res })
    }

    /// The same graph in Graphviz DOT: an arrow from each resource to what it requires.
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph stack {\n  rankdir=BT;\n  node [shape=box];\n");
        for (name, node) in &self.resources {
            let _ = writeln!(
                out,
                "  {} [label=\"{}\\n{}\"];",
                quote(name),
                escape(name),
                escape(&node.type_name)
            );
        }
        for (name, node) in &self.resources {
            for req in &node.requires {
                let _ = writeln!(out, "  {} -> {};", quote(name), quote(req));
            }
        }
        out.push_str("}\n");
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn quote(s: &str) -> String {
    format!("\"{}\"", escape(s))
}
