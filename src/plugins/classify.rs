//! Which graph a third-party type gets: the one rule of this crate for that.
//!
//! Heat builds a stack's graph (`Stack.dependencies`) by instantiating each resource's
//! class (`Resource.__new__`, `__init__`: `reparse`, `_load_data`), then calling
//! `add_explicit_dependencies` and `add_dependencies` on each; the implicit rules ask other
//! resources `has_interface` (which asks `type()` and the registry) and read their
//! properties. A plugin class therefore gets a graph heat-converge computes natively when:
//!
//! - its whole chain of bases can be read (every base a class of the plugin modules or an
//!   in-tree class of `in_tree_classes.txt`; no decorator, metaclass or conditional
//!   definition) and reaches exactly one in-tree class;
//! - that in-tree class builds its graph as `Resource` does, and the plugin's own classes
//!   define none of [`GRAPH_HOOKS`]: explicit edges only. (If the type takes the name of
//!   one of Heat's own types, other resources' rules may read its properties through
//!   `has_interface`: then it needs Heat.)
//! - or that in-tree class is the one Heat registers for a type whose rules heat-converge
//!   has, and the plugin's classes define only what those rules never read: the resource
//!   life cycle ([`LIFE_CYCLE`]). Everything else (a property schema, a constant, a client
//!   name) may change what the rule computes.
//!
//! Anything else needs Heat's own Python; the reason names the class and its file.

use super::module::{ClassDef, ModuleSummary, Returns};
use super::{effective_mapping, How, PluginModule, PluginType};
use std::collections::{BTreeMap, BTreeSet};

/// What Heat's graph building reaches on a resource object, beyond its definition.
pub const GRAPH_HOOKS: &[&str] = &[
    "__new__",
    "__init__",
    "__getattr__",
    "__getattribute__",
    "__setattr__",
    "__init_subclass__",
    "__class__",
    "add_dependencies",
    "add_explicit_dependencies",
    "has_interface",
    "type",
    "reparse",
    "translate_properties",
    "_load_data",
    "t",
    "stack",
    "name",
];

/// What a subclass of a rule-bearing in-tree class may define and keep its graph: the
/// life cycle of the physical resource, which no rule reads.
pub const LIFE_CYCLE: &[&str] = &[
    "validate",
    "is_service_available",
    "support_status",
    "attributes_schema",
    "ATTRIBUTES",
    "_show_resource",
    "get_reference_id",
    "physical_resource_name",
    "needs_replace",
    "needs_replace_with_prop_diff",
    "needs_replace_with_tmpl_diff",
    "needs_replace_failed",
    "prepare_for_replace",
    "restore_prev_rsrc",
    "metadata_update",
    "signal",
    "get_attribute",
    "get_live_state",
    "parse_live_resource_data",
];

/// Prefixes of life-cycle methods (`handle_create`, `check_create_complete`, ...).
const LIFE_CYCLE_PREFIXES: &[&str] = &["handle_", "check_", "_resolve_"];

fn life_cycle(member: &str) -> bool {
    LIFE_CYCLE.contains(&member) || LIFE_CYCLE_PREFIXES.iter().any(|p| member.starts_with(p))
}

/// How an in-tree class builds its graph (`in_tree_classes.txt`): `None` as Resource
/// does, `Some(T)` as the class registered for T.
pub fn in_tree_class(path: &str) -> Option<Option<&'static str>> {
    include_str!("in_tree_classes.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(' '))
        .find(|(p, _)| *p == path)
        .map(|(_, how)| (how != "-").then_some(how))
}

/// Every type the modules register, in Heat's load order (a later one replaces an earlier
/// one), each with how its graph is computed.
pub fn register(modules: &[PluginModule]) -> BTreeMap<String, PluginType> {
    let by_name: BTreeMap<&str, &PluginModule> =
        modules.iter().map(|m| (m.name.as_str(), m)).collect();
    let mut registered_by: BTreeMap<String, Vec<&PluginModule>> = BTreeMap::new();
    let mut out: BTreeMap<String, PluginType> = BTreeMap::new();
    for m in modules {
        let Ok(summary) = &m.summary else { continue };
        let Some((func, returns)) = effective_mapping(summary) else {
            continue;
        };
        match returns {
            Returns::Literal(pairs) => {
                for (type_name, class) in pairs {
                    registered_by.entry(type_name.clone()).or_default().push(m);
                    let how = match &class {
                        None => How::NeedsHeat(format!(
                            "the class {} registers it with is not a plain name",
                            func.name
                        )),
                        Some(c) => classify(&type_name, m, c, &by_name),
                    };
                    out.insert(
                        type_name.clone(),
                        PluginType {
                            type_name,
                            class: class.unwrap_or_else(|| "?".into()),
                            file: m.file.clone(),
                            how,
                        },
                    );
                }
            }
            Returns::Undecidable { why, mentions } => {
                // What it may register: the names it mentions, and those of the module's
                // other mapping function (which it typically calls under a condition).
                let mut maybe: BTreeMap<String, String> =
                    mentions.into_iter().map(|t| (t, "?".to_string())).collect();
                for f in &summary.mappings {
                    if let Returns::Literal(pairs) = &f.returns {
                        for (t, c) in pairs {
                            maybe.insert(t.clone(), c.clone().unwrap_or_else(|| "?".into()));
                        }
                    }
                }
                for (type_name, class) in maybe {
                    registered_by.entry(type_name.clone()).or_default().push(m);
                    out.insert(
                        type_name.clone(),
                        PluginType {
                            how: How::NeedsHeat(format!(
                                "{}() in {} decides at run time whether it registers {type_name} ({why})",
                                func.name,
                                m.file.display()
                            )),
                            type_name,
                            class,
                            file: m.file.clone(),
                        },
                    );
                }
            }
            Returns::Call(_) => {}
        }
    }
    for (type_name, by) in registered_by {
        if by.len() > 1 {
            let files: Vec<String> = by.iter().map(|m| m.file.display().to_string()).collect();
            if let Some(t) = out.get_mut(&type_name) {
                t.how = How::NeedsHeat(format!(
                    "{type_name} is registered by more than one plugin module ({}); Heat keeps the one it loads last",
                    files.join(", ")
                ));
            }
        }
    }
    out
}

/// What a class chain resolves to.
#[derive(Default)]
struct Chain<'a> {
    /// The plugin classes of the chain, with their files.
    own: Vec<(&'a ClassDef, &'a PluginModule)>,
    /// The in-tree classes it reaches (path -> how).
    in_tree: BTreeMap<String, Option<&'static str>>,
    /// Why it cannot be read, first reason.
    undecidable: Option<String>,
}

fn classify(
    type_name: &str,
    module: &PluginModule,
    class: &str,
    modules: &BTreeMap<&str, &PluginModule>,
) -> How {
    let mut chain = Chain::default();
    let mut visiting = BTreeSet::new();
    walk_class(module, class, modules, &mut chain, &mut visiting, 0);
    let named = chain
        .own
        .first()
        .map(|(c, m)| format!("class {} in {}", c.name, m.file.display()))
        .unwrap_or_else(|| format!("class {class} in {}", module.file.display()));
    if let Some(why) = chain.undecidable {
        return How::NeedsHeat(format!("{named}: {why}"));
    }
    let first = chain.own.first().map(|(c, _)| c.name.clone());
    let defined = |allowed: &dyn Fn(&str) -> bool| -> Option<String> {
        chain.own.iter().find_map(|(c, m)| {
            c.members.iter().find(|n| !allowed(n)).map(|n| {
                if Some(&c.name) == first.as_ref() {
                    n.to_string()
                } else {
                    format!("{n} (in its base class {} in {})", c.name, m.file.display())
                }
            })
        })
    };
    let kinds: BTreeSet<Option<&str>> = chain.in_tree.values().copied().collect();
    let via: Vec<&String> = chain.in_tree.keys().collect();
    match kinds.len() {
        0 => How::NeedsHeat(format!(
            "{named} derives from no Heat resource class heat-converge knows"
        )),
        1 => match kinds.into_iter().next().flatten() {
            None => {
                if let Some(hook) = defined(&|n| !GRAPH_HOOKS.contains(&n)) {
                    return How::NeedsHeat(format!(
                        "{named} defines {hook}, which Heat's graph building calls: it adds its own dependencies"
                    ));
                }
                if super::heat_types().any(|k| k == type_name) {
                    return How::NeedsHeat(format!(
                        "{named} replaces Heat's own {type_name}, whose properties other resources' rules read"
                    ));
                }
                How::AsResource
            }
            Some(t) => {
                if let Some(member) = defined(&life_cycle) {
                    return How::NeedsHeat(format!(
                        "{named} derives from {} ({t}) and defines {member}, which {t}'s dependency rules may read",
                        via[0]
                    ));
                }
                How::As(t.to_string())
            }
        },
        _ => How::NeedsHeat(format!(
            "{named} derives from in-tree classes that build graphs differently ({})",
            via.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Follows `class` (a dotted name as written in `module`) up its bases.
fn walk_class<'a>(
    module: &'a PluginModule,
    class: &str,
    modules: &BTreeMap<&str, &'a PluginModule>,
    chain: &mut Chain<'a>,
    visiting: &mut BTreeSet<String>,
    depth: usize,
) {
    if chain.undecidable.is_some() {
        return;
    }
    let Ok(summary) = &module.summary else {
        chain.undecidable = Some(format!("{} cannot be read", module.file.display()));
        return;
    };
    if depth > 32 || !visiting.insert(format!("{}:{class}", module.name)) {
        return;
    }
    match resolve(summary, class) {
        Resolved::Local(def) => {
            if let Some(why) = &def.undecidable {
                chain.undecidable = Some(format!("class {} ({why})", def.name));
                return;
            }
            chain.own.push((def, module));
            for base in &def.bases {
                match base {
                    None => {
                        chain.undecidable = Some(format!(
                            "a base of class {} is an expression, not a class name",
                            def.name
                        ));
                        return;
                    }
                    Some(b) => walk_class(module, b, modules, chain, visiting, depth + 1),
                }
            }
        }
        Resolved::Path(path) => {
            if path == "object" || path == "builtins.object" {
                return;
            }
            if let Some(how) = in_tree_class(&path) {
                chain.in_tree.insert(path, how);
                return;
            }
            // Another plugin module's class: heat.engine.plugins.<module>.<Class>.
            if let Some((m, c)) = path.rsplit_once('.') {
                if let Some(other) = modules.get(m) {
                    walk_class(other, c, modules, chain, visiting, depth + 1);
                    return;
                }
            }
            chain.undecidable = Some(format!(
                "it derives from {path}, which heat-converge cannot read (not a Heat class it knows, nor a plugin module's)"
            ));
        }
        Resolved::Rebound(name) => {
            chain.undecidable = Some(format!(
                "{name} is bound at run time (an assignment, or inside a top-level if/try)"
            ));
        }
        Resolved::Unknown(name) => {
            chain.undecidable = Some(format!(
                "{name} is not defined or imported in {}",
                module.file.display()
            ));
        }
    }
}

enum Resolved<'a> {
    Local(&'a ClassDef),
    Path(String),
    Rebound(String),
    Unknown(String),
}

/// What a dotted name written in a module refers to.
fn resolve<'a>(summary: &'a ModuleSummary, dotted: &str) -> Resolved<'a> {
    let (first, rest) = match dotted.split_once('.') {
        Some((f, r)) => (f, Some(r)),
        None => (dotted, None),
    };
    if summary.rebound.iter().any(|n| n == first) {
        return Resolved::Rebound(first.to_string());
    }
    let local = summary.classes.iter().rev().find(|c| c.name == first);
    let import = summary.imports.iter().rev().find(|(n, _)| n == first);
    match (local, import, rest) {
        (Some(_), Some(_), _) => Resolved::Rebound(first.to_string()),
        (Some(c), None, None) => Resolved::Local(c),
        (Some(c), None, Some(_)) => {
            Resolved::Unknown(format!("{dotted} (an attribute of class {})", c.name))
        }
        (None, Some((_, target)), None) => Resolved::Path(target.clone()),
        (None, Some((_, target)), Some(r)) => Resolved::Path(format!("{target}.{r}")),
        (None, None, _) if first == "object" => Resolved::Path("object".into()),
        (None, None, _) => Resolved::Unknown(dotted.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::module::summarize;
    use std::path::PathBuf;

    fn module(name: &str, text: &str) -> PluginModule {
        let full = format!("heat.engine.plugins.{name}");
        PluginModule {
            summary: summarize(text, &full, false).map_err(|e| e.to_string()),
            name: full,
            file: PathBuf::from(format!("/usr/lib/heat/{name}.py")),
            is_package: false,
        }
    }

    fn how(modules: &[PluginModule], t: &str) -> How {
        register(modules)[t].how.clone()
    }

    const PLAIN: &str = "from heat.engine import resource\nfrom heat.engine import properties\n\nclass Widget(resource.Resource):\n    PROPERTIES = (SIZE,) = ('size',)\n    properties_schema = {SIZE: properties.Schema(properties.Schema.INTEGER)}\n    def handle_create(self):\n        self.resource_id_set('x')\n\ndef resource_mapping():\n    return {'Acme::Widget': Widget}\n";

    #[test]
    fn a_plain_resource_is_native() {
        assert_eq!(
            how(&[module("acme", PLAIN)], "Acme::Widget"),
            How::AsResource
        );
    }

    #[test]
    fn a_subclass_of_a_port_keeps_its_rule_unless_it_changes_what_the_rule_reads() {
        let port = "from heat.engine.resources.openstack.neutron import port\n\nclass AcmePort(port.Port):\n    def handle_create(self):\n        pass\n    def check_create_complete(self, d):\n        return True\n    def validate(self):\n        pass\n\ndef resource_mapping():\n    return {'Acme::Port': AcmePort}\n";
        assert_eq!(
            how(&[module("acme_port", port)], "Acme::Port"),
            How::As("OS::Neutron::Port".into())
        );
        let schema = port.replace(
            "    def validate(self):\n        pass\n",
            "    NETWORK = 'net'\n",
        );
        match how(&[module("acme_port", &schema)], "Acme::Port") {
            How::NeedsHeat(why) => assert!(
                why.contains("NETWORK") && why.contains("acme_port.py"),
                "{why}"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn own_dependency_code_needs_heat() {
        let lb = "from heat.engine import resource\n\nclass Base(resource.Resource):\n    pass\n\nclass Monitor(Base):\n    def add_dependencies(self, deps):\n        super().add_dependencies(deps)\n\ndef resource_mapping():\n    return {'Acme::LB::Monitor': Monitor, 'Acme::LB::Pool': Base}\n";
        let all = register(&[module("acme_lb", lb)]);
        assert_eq!(all["Acme::LB::Pool"].how, How::AsResource);
        match &all["Acme::LB::Monitor"].how {
            How::NeedsHeat(why) => assert!(
                why.contains("class Monitor in /usr/lib/heat/acme_lb.py")
                    && why.contains("add_dependencies"),
                "{why}"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn conditional_duplicate_and_unknown_registrations_need_heat() {
        let cond = "from heat.engine import resource\ntry:\n    import json\n    HAVE = True\nexcept ImportError:\n    HAVE = False\n\nclass Thing(resource.Resource):\n    pass\n\ndef resource_mapping():\n    return {'Acme::Cond::Thing': Thing}\n\ndef available_resource_mapping():\n    if HAVE:\n        return resource_mapping()\n    return {}\n";
        match how(&[module("acme_cond", cond)], "Acme::Cond::Thing") {
            How::NeedsHeat(why) => assert!(why.contains("available_resource_mapping() in /usr/lib/heat/acme_cond.py decides at run time"), "{why}"),
            other => panic!("{other:?}"),
        }
        let all = register(&[module("a", PLAIN), module("b", PLAIN)]);
        match &all["Acme::Widget"].how {
            How::NeedsHeat(why) => assert!(
                why.contains("/usr/lib/heat/a.py, /usr/lib/heat/b.py"),
                "{why}"
            ),
            other => panic!("{other:?}"),
        }
        let sdk = "from acme_sdk import heat_base\n\nclass W(heat_base.Resource):\n    pass\n\ndef resource_mapping():\n    return {'Acme::Sdk': W}\n";
        match how(&[module("sdk", sdk)], "Acme::Sdk") {
            How::NeedsHeat(why) => assert!(why.contains("acme_sdk.heat_base.Resource"), "{why}"),
            other => panic!("{other:?}"),
        }
        // A plain class taking the name of one of Heat's own types.
        let replace = PLAIN.replace("Acme::Widget", "OS::Neutron::Subnet");
        assert!(matches!(
            how(&[module("r", &replace)], "OS::Neutron::Subnet"),
            How::NeedsHeat(_)
        ));
    }

    #[test]
    fn a_base_in_another_plugin_module() {
        let base = "from heat.engine.resources.openstack.nova import server\n\nclass Base(server.Server):\n    def handle_delete(self):\n        pass\n";
        let leaf = "from heat.engine.plugins import acme_base\n\nclass Leaf(acme_base.Base):\n    def check_delete_complete(self, x):\n        return True\n\ndef resource_mapping():\n    return {'Acme::Server': Leaf}\n";
        assert_eq!(
            how(
                &[module("acme_base", base), module("acme_leaf", leaf)],
                "Acme::Server"
            ),
            How::As("OS::Nova::Server".into())
        );
    }

    #[test]
    fn the_in_tree_table_reads() {
        assert_eq!(in_tree_class("heat.engine.resource.Resource"), Some(None));
        assert_eq!(
            in_tree_class("heat.engine.resources.openstack.neutron.port.Port"),
            Some(Some("OS::Neutron::Port"))
        );
        assert_eq!(in_tree_class("heat.engine.resources.nothing.Here"), None);
    }
}
