//! The dependency graph of a stack, as Heat's `Stack.dependencies` builds it.
//!
//! Explicit edges come from `depends_on` / `DependsOn` and from every resource reference
//! (`get_resource`, `get_attr`, resource `Ref`, `Fn::GetAtt`) in a resource's properties
//! and metadata. Implicit edges come from the resource plugins' own rules (see
//! [`implicit`]). A `requires` column written from a wrong graph makes the convergence
//! engine act in the wrong order, so every rule here follows Heat 27.0.1.

pub mod explicit;
pub mod implicit;
mod view;

use crate::environment::Plugin;
use crate::plugins::How;
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
    /// A plugin rule that stops on an error is settled as Heat settles it, or refused when
    /// Heat's own answer would depend on its process (see `settle_abort`).
    pub fn of(stack: &StackDefinition, stored: bool) -> Result<Graph> {
        if let Some(needs) = needs_heat(stack) {
            return Err(needs.into());
        }
        let mut explicit_edges = BTreeMap::new();
        for res in &stack.resources {
            explicit_edges.insert(res.name.clone(), explicit::requirements(stack, res)?);
        }
        let view = view::View::new(stack, &explicit_edges, None);
        let mut resources = BTreeMap::new();
        for res in &stack.resources {
            let mut requires = explicit_edges.get(&res.name).cloned().unwrap_or_default();
            let found = implicit::implicit_dependencies(&view, &res.name);
            let implicit_edges = match found.aborted {
                None => found.requires,
                Some(abort) => settle_abort(stack, &explicit_edges, &res.name, &abort, stored)?,
            };
            requires.extend(implicit_edges);
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

    /// The groups of resources that depend on each other in a circle (strongly connected
    /// components with more than one resource, or a resource that requires itself), each
    /// sorted by name. Heat's conversion writes such `requires` as they are; the convergence
    /// engine then refuses to act on the stack, so the operator must hear of it.
    pub fn cycles(&self) -> Vec<Vec<String>> {
        // Tarjan's algorithm, iterative so that a deep chain cannot overflow the stack.
        let names: Vec<&String> = self.resources.keys().collect();
        let index_of: BTreeMap<&str, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let edges: Vec<Vec<usize>> = names
            .iter()
            .map(|n| {
                self.resources[*n]
                    .requires
                    .iter()
                    .filter_map(|r| index_of.get(r.as_str()).copied())
                    .collect()
            })
            .collect();
        let n = names.len();
        let (mut index, mut low) = (vec![usize::MAX; n], vec![0; n]);
        let mut on_stack = vec![false; n];
        let (mut stack, mut next, mut out) = (Vec::new(), 0, Vec::new());
        for start in 0..n {
            if index[start] != usize::MAX {
                continue;
            }
            let mut work: Vec<(usize, usize)> = vec![(start, 0)];
            index[start] = next;
            low[start] = next;
            next += 1;
            stack.push(start);
            on_stack[start] = true;
            while let Some(&mut (v, ref mut i)) = work.last_mut() {
                if let Some(&w) = edges[v].get(*i) {
                    *i += 1;
                    if index[w] == usize::MAX {
                        index[w] = next;
                        low[w] = next;
                        next += 1;
                        stack.push(w);
                        on_stack[w] = true;
                        work.push((w, 0));
                    } else if on_stack[w] {
                        low[v] = low[v].min(index[w]);
                    }
                    continue;
                }
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut group = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        group.push(names[w].clone());
                        if w == v {
                            break;
                        }
                    }
                    if group.len() > 1 || edges[v].contains(&v) {
                        group.sort();
                        out.push(group);
                    }
                }
            }
        }
        out.sort();
        out
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

/// A plugin rule stopped on an error. Heat then either refuses the template (a new stack,
/// any error but ValueError/TypeError) or logs it and keeps the edges the rule had added
/// so far, walking the other resources in an order that varies between engine processes.
/// The result is accepted only when no walking order can change it: the rule fails on
/// the resource's own properties before looking at any other, or no other resource could
/// have given an edge before the failure.
fn settle_abort(
    stack: &StackDefinition,
    explicit: &BTreeMap<String, BTreeSet<String>>,
    name: &str,
    abort: &implicit::Aborted,
    stored: bool,
) -> Result<Vec<String>> {
    use crate::properties::Failure;
    let origin = &stack.template.origin;
    let unknowable = |why: &str| {
        anyhow::anyhow!(
            "{origin}: the implicit dependencies of resource {name} cannot be known: its plugin rule fails at {} ({}); {why}",
            abort.at,
            abort.failure
        )
    };
    match &abort.failure {
        // A rule reading a third-party resource's properties: only Heat can tell.
        Failure::Unmodelled(_) if third_party(stack, &abort.at).is_some() => {
            let plugin = third_party(stack, &abort.at)
                .map(|p| p.named())
                .unwrap_or_default();
            return Err(NeedsHeat {
                resource: name.to_string(),
                why: format!(
                    "its plugin rule reads the properties of resource {}, a third-party {plugin}",
                    abort.at
                ),
                heat_failed: None,
            }
            .into());
        }
        Failure::Unmodelled(_) => return Err(unknowable("heat-converge does not model this")),
        Failure::WrongShape(_) if !stored => {
            return Err(unknowable(
                "Heat refuses or ignores this depending on the exact Python error",
            ))
        }
        f if !stored && !f.is_caught_by_plugins() => {
            bail!(
                "{origin}: resource {name}: {f} (at {}); Heat refuses this template",
                abort.at
            )
        }
        _ => {}
    }
    let rule_over = |only: Vec<String>| {
        let v = view::View::new(stack, explicit, Some(only));
        implicit::implicit_dependencies(&v, name)
    };
    let alone = rule_over(vec![name.to_string()]);
    if alone.aborted.is_some() && alone.requires.is_empty() {
        return Ok(Vec::new());
    }
    let mut could_add = Vec::new();
    for other in stack
        .resources
        .iter()
        .map(|r| &r.name)
        .filter(|n| n.as_str() != name)
    {
        let pair = rule_over(vec![name.to_string(), other.clone()]);
        if !pair.requires.is_empty() {
            could_add.push(other.clone());
        }
    }
    if could_add.is_empty() {
        Ok(Vec::new())
    } else {
        Err(unknowable(&format!(
            "whether Heat adds the edges to {} depends on the order its process walks the resources",
            could_add.join(", ")
        )))
    }
}

/// A stack whose graph only Heat's own Python can compute: the first resource that makes
/// it so, and why (its type, class and file named).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeedsHeat {
    pub resource: String,
    pub why: String,
    /// Why the Heat Python that was there could not answer (None: there was none).
    pub heat_failed: Option<String>,
}

impl std::fmt::Display for NeedsHeat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.heat_failed {
            None => write!(
                f,
                "resource {}: {}; run with --heat-python (the python of your Heat installation)",
                self.resource, self.why
            ),
            Some(failed) => write!(f, "resource {}: {}; and {failed}", self.resource, self.why),
        }
    }
}

impl std::error::Error for NeedsHeat {}

/// The third-party plugin behind resource `name`, if it is one.
fn third_party<'a>(
    stack: &'a StackDefinition,
    name: &str,
) -> Option<&'a crate::plugins::PluginType> {
    match &stack.resource(name)?.plugin {
        Plugin::Vendor(v) => Some(v),
        _ => None,
    }
}

/// The first resource of `stack` whose graph code only Heat can run.
pub fn needs_heat(stack: &StackDefinition) -> Option<NeedsHeat> {
    stack.resources.iter().find_map(|r| match &r.plugin {
        Plugin::Vendor(v) => match &v.how {
            How::NeedsHeat(why) => Some(NeedsHeat {
                resource: r.name.clone(),
                why: format!("type {}: {why}", v.type_name),
                heat_failed: None,
            }),
            _ => None,
        },
        _ => None,
    })
}

impl Graph {
    /// The graph Heat's own Python computed for `stack`, checked against its definition:
    /// the same resources (conditions applied), each requiring only resources of it.
    pub fn from_heat(
        stack: &StackDefinition,
        heat: &crate::plugins::heat_python::HeatGraph,
    ) -> Result<Graph> {
        let ours: BTreeSet<&str> = stack.resources.iter().map(|r| r.name.as_str()).collect();
        let theirs: BTreeSet<&str> = heat.keys().map(String::as_str).collect();
        if ours != theirs {
            let only_heat: Vec<&str> = theirs.difference(&ours).copied().collect();
            let only_ours: Vec<&str> = ours.difference(&theirs).copied().collect();
            bail!(
                "Heat's own graph does not name the stack's resources: only in Heat's [{}], only in the template as read [{}]",
                only_heat.join(", "),
                only_ours.join(", ")
            );
        }
        let mut resources = BTreeMap::new();
        for res in &stack.resources {
            let requires: BTreeSet<String> = heat[&res.name].iter().cloned().collect();
            if let Some(bad) = requires.iter().find(|r| !ours.contains(r.as_str())) {
                bail!(
                    "Heat's own graph says resource {} requires {bad}, which is not a resource of the stack",
                    res.name
                );
            }
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::{Environment, Resolver};
    use crate::parameters::StackIdentity;
    use crate::template::Template;
    use std::collections::HashMap;

    fn graph(text: &str, stored: bool) -> Result<Graph> {
        let t = Template::from_text(text, "t.yaml")?;
        let env = Environment::default();
        let id = StackIdentity {
            name: "s".into(),
            id: None,
            project: "p".into(),
        };
        let stack = StackDefinition::new(t, &env, Resolver::default(), &id, HashMap::new())?;
        Graph::of(&stack, stored)
    }

    const FIP: &str = "heat_template_version: 2018-08-31
resources:
  gate: {type: OS::Neutron::Router}
  left_port:
    type: OS::Neutron::Port
    properties: {network: left, fixed_ips: [{subnet: left-subnet}]}
  left_fip:
    type: OS::Neutron::FloatingIP
    properties: {floating_network: public, port_id: {get_resource: left_port}}
  odd_link:
    type: OS::Neutron::RouterInterface
    properties: {router: {get_resource: gate}, subnet: [left-subnet, right-subnet]}
";

    #[test]
    fn cycles_are_found_with_their_members() {
        let g = graph(
            "heat_template_version: 2015-10-15\nresources:\n  a: {type: OS::Heat::None, depends_on: [b]}\n  b: {type: OS::Heat::None, depends_on: [c]}\n  c: {type: OS::Heat::None, depends_on: [a]}\n  d: {type: OS::Heat::None, depends_on: [d, a]}\n  e: {type: OS::Heat::None, depends_on: [a]}\n",
            true,
        )
        .unwrap();
        assert_eq!(
            g.cycles(),
            vec![
                vec!["a".to_string(), "b".into(), "c".into()],
                vec!["d".to_string()]
            ]
        );
        let g = graph(
            "heat_template_version: 2015-10-15\nresources:\n  a: {type: OS::Heat::None, depends_on: [b]}\n  b: {type: OS::Heat::None}\n",
            true,
        )
        .unwrap();
        assert!(g.cycles().is_empty());
    }

    #[test]
    fn a_failing_rule_with_nothing_else_to_add_is_settled_as_heat_does() {
        let g = graph(FIP, false).unwrap();
        let req: Vec<&str> = g.resources["left_fip"]
            .requires
            .iter()
            .map(String::as_str)
            .collect();
        assert_eq!(req, vec!["left_port"]);
    }

    #[test]
    fn a_failing_rule_whose_outcome_depends_on_heats_walk_order_is_refused() {
        // A second interface on the port's subnet: Heat adds the edge to it only if it
        // happens to look at it before the malformed one.
        let text = format!(
            "{FIP}  good_link:\n    type: OS::Neutron::RouterInterface\n    properties: {{router: {{get_resource: gate}}, subnet: left-subnet}}\n"
        );
        for stored in [false, true] {
            let e = graph(&text, stored).unwrap_err();
            let msg = format!("{e:#}");
            assert!(
                msg.contains("left_fip") && msg.contains("good_link") && msg.contains("order"),
                "{msg}"
            );
        }
    }
}
