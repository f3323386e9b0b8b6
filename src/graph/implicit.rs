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

use serde_json::Value;

use super::translation::{dict_get, plugin_schema, template_schema, Failure, ResourceSchema};
use crate::python::{self, eq as py_eq, or as py_or, truthy};

/// Interfaces (registered type names) the rules look for.
const PORT: &str = "OS::Neutron::Port";
const SUBNET: &str = "OS::Neutron::Subnet";
const ROUTER: &str = "OS::Neutron::Router";
const ROUTER_INTERFACE: &str = "OS::Neutron::RouterInterface";
const ROUTER_GATEWAY: &str = "OS::Neutron::RouterGateway";
const ROUTE_TABLE: &str = "AWS::EC2::RouteTable";

/// What the implicit rules need to see of a stack (implemented by the graph builder).
pub trait StackView {
    /// Names of the resources in the stack (conditions applied), in the order to walk them.
    /// Heat walks a Python set; this order only matters after an abort (see module doc).
    fn resource_names(&self) -> Vec<String>;

    /// The class Heat instantiates for `name`, after the environment's resource_registry
    /// (resource-specific entries, maps and globs followed). `None` if not in the stack.
    ///
    /// Beware (Heat 27.0.1, `ResourceRegistry.get_resource_info`): resolving a
    /// resource-specific *map* to a plugin (`resources: {x: {OS::Neutron::Subnet:
    /// OS::Heat::None}}`) also registers that map stack-wide under the type, so every
    /// resource of the type resolved afterwards gets it too (templates are exempt). Heat
    /// validates before it stores a new stack, so the stored environment usually already
    /// holds the stack-wide entry; when it does not, Heat's result depends on set order.
    fn implementation(&self, name: &str) -> Option<Implementation>;

    /// Heat's `has_interface(iface)`: the type written in the template is `iface`, or the
    /// registry's final entry for it is registered under the name `iface` (a map
    /// `My::Port: OS::Neutron::Port`, or `OS::Neutron::Port: port.yaml`, both count).
    fn has_interface(&self, name: &str, iface: &str) -> bool;

    /// The value of top-level property `prop` of `name`, functions resolved as Heat does
    /// when it loads the stack from the database, before translation and coercion.
    /// `Ok(None)`: not given (absent, or removed by a macro such as an `if` without else).
    /// `Ok(Some(Value::Null))`: given but null (e.g. `get_attr` of a resource with no data);
    /// this differs from absent: a null string property reads as `''`.
    /// `Err`: resolving raised (Heat turns that into a ValueError).
    ///
    /// Note (checked against Heat with `Stack.load`): a loaded legacy stack has no resource
    /// data in its `StackDefinition`, so `get_resource` resolves to the resource *name*
    /// and `get_attr` to None, even for created resources, whatever `nova_instance` holds.
    fn property(&self, name: &str, prop: &str) -> Result<Option<Value>, PropertyError>;

    /// The resources `name` requires explicitly (Heat's graph before plugins run). The
    /// FloatingIP rules look at the Ports among them.
    fn explicit_requirements(&self, name: &str) -> Vec<String>;

    /// The subnets of a Neutron network, which FloatingIP asks Neutron for. We have no
    /// Neutron: the default `None` is what Heat does when the call fails (it logs and
    /// treats the port as not on the subnet).
    fn network_subnets(&self, _network: &str) -> Option<Vec<Value>> {
        None
    }
}

/// A function in a property could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyError(pub String);

/// The class behind a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Implementation {
    /// A Python plugin, by the name it is registered under, e.g. `OS::Neutron::Port`,
    /// `OS::Heat::None`.
    Plugin(String),
    /// A provider template (`TemplateResource`): its properties are the template's
    /// parameters, in template order. An unloadable template has none.
    Template(Vec<(String, TemplateParameter)>),
}

/// One parameter of a provider template, as a property of the facade resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateParameter {
    pub kind: ParameterKind,
    /// After the environment's `parameter_defaults`; without one the property is required.
    pub has_default: bool,
}

/// A template parameter type (HOT names; CFN `String`, `Number`, ... map one to one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterKind {
    String,
    Number,
    CommaDelimitedList,
    Json,
    Boolean,
}

/// The implicit requirements of one resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImplicitDependencies {
    /// Names the resource must depend on, in walk order, without duplicates.
    pub requires: Vec<String>,
    /// Set when an exception escaped the plugin: Heat logs it and keeps `requires` as
    /// added so far, but in its own (hash-seeded) order, so the set may differ.
    pub aborted: Option<Aborted>,
}

/// Where and why a rule stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aborted {
    /// The resource being examined when it happened (possibly the rule's own).
    pub at: String,
    pub failure: Failure,
}

/// The implicit requirements of `name`, by the rule of the plugin class behind it.
pub fn implicit_dependencies(view: &dyn StackView, name: &str) -> ImplicitDependencies {
    let Some(rule) = rule_for(view.implementation(name)) else {
        return ImplicitDependencies::default();
    };
    let mut r = Rule {
        view,
        me: name.to_string(),
        requires: vec![],
    };
    let aborted = rule(&mut r).err();
    ImplicitDependencies {
        requires: r.requires,
        aborted,
    }
}

/// The `add_dependencies` of a plugin class, for the classes that define one (Subnet,
/// RouterInterface, templates and every other plugin add nothing).
fn rule_for(implementation: Option<Implementation>) -> Option<fn(&mut Rule) -> Step> {
    let Some(Implementation::Plugin(plugin)) = implementation else {
        return None;
    };
    Some(match plugin.as_str() {
        "OS::Neutron::Port" => port,
        "OS::Neutron::Router" => router,
        "OS::Neutron::RouterGateway" => router_gateway,
        "OS::Neutron::ExtraRoute" => extra_route,
        "OS::Neutron::ExtraRouteSet" => extra_route_set,
        "OS::Neutron::FloatingIP" => floating_ip,
        "OS::Neutron::FloatingIPAssociation" => floating_ip_association,
        "OS::Neutron::FloatingIPPortForward" => floating_ip_association,
        "AWS::EC2::VPCGatewayAttachment" => vpc_gateway_attachment,
        "OS::Nova::Server" => server,
        _ => return None,
    })
}

/// Only the names, for callers that accept Heat's "log and go on" outcome as is.
pub fn implicit_requirements(view: &dyn StackView, name: &str) -> Vec<String> {
    implicit_dependencies(view, name).requires
}

// ----------------------------------------------------------------------------- machinery

/// `Err` is an exception escaping `add_dependencies`.
type Step = Result<(), Aborted>;

struct Rule<'a> {
    view: &'a dyn StackView,
    me: String,
    requires: Vec<String>,
}

/// One resource's `properties`, as Heat reads it.
struct Props<'a> {
    view: &'a dyn StackView,
    name: String,
    schema: Result<ResourceSchema, Failure>,
}

impl Props<'_> {
    fn given(&self) -> impl Fn(&str) -> Result<Option<Value>, PropertyError> + '_ {
        move |p: &str| self.view.property(&self.name, p)
    }
    /// `properties[prop]`
    fn item(&self, prop: &str) -> Result<Value, Failure> {
        self.schema
            .as_ref()
            .map_err(Clone::clone)?
            .item(&self.given(), prop)
    }
    /// `properties.get(prop)`
    fn get(&self, prop: &str) -> Result<Value, Failure> {
        self.schema
            .as_ref()
            .map_err(Clone::clone)?
            .get(&self.given(), prop)
    }
    /// `properties.get(a) or properties.get(b)`
    fn get_or(&self, a: &str, b: &str) -> Result<Value, Failure> {
        py_or(self.get(a)?, || self.get(b))
    }
}

impl<'a> Rule<'a> {
    fn props(&self, name: &str) -> Props<'a> {
        let schema = match self.view.implementation(name) {
            Some(Implementation::Plugin(p)) => plugin_schema(&p)
                .ok_or_else(|| Failure::Unmodelled(format!("properties of {name} ({p})"))),
            Some(Implementation::Template(params)) => Ok(template_schema(name, &params)),
            None => Err(Failure::Unmodelled(format!("{name} is not in the stack"))),
        };
        Props {
            view: self.view,
            name: name.to_string(),
            schema,
        }
    }
    fn own(&self) -> Props<'a> {
        self.props(&self.me)
    }
    fn others(&self) -> Vec<String> {
        // Heat walks every resource, itself included (a self-edge is then a cycle error).
        self.view.resource_names()
    }
    fn has(&self, name: &str, iface: &str) -> bool {
        self.view.has_interface(name, iface)
    }
    fn add(&mut self, name: &str) {
        if !self.requires.iter().any(|r| r == name) {
            self.requires.push(name.to_string());
        }
    }
    /// `deps.graph()[self]`: explicit requirements plus the edges this rule added so far.
    fn current_requirements(&self) -> Vec<String> {
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
fn guarded<T>(r: Result<T, Failure>, at: &str) -> Result<Option<T>, Aborted> {
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
fn unguarded<T>(r: Result<T, Failure>, at: &str) -> Result<T, Aborted> {
    r.map_err(|failure| Aborted {
        at: at.to_string(),
        failure,
    })
}

/// Iterating a value the plugin takes for a list of dicts (`for x in value`): strings and
/// dicts iterate as strings, whose `.get` raises; numbers are not iterable.
fn as_list(v: &Value) -> Result<Vec<Value>, Failure> {
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

// ----------------------------------------------------------------------------- rules

/// OS::Neutron::Port: every Subnet on the port's `network`, since Neutron may allocate
/// the port's address from any of them.
fn port(r: &mut Rule) -> Step {
    for res in r.others() {
        if !r.has(&res, SUBNET) {
            continue;
        }
        let pair = (|| -> Result<_, Failure> {
            Ok((r.props(&res).get("network")?, r.own().item("network")?))
        })();
        if let Some((dep_network, network)) = guarded(pair, &res)? {
            if py_eq(&dep_network, &network) {
                r.add(&res);
            }
        }
    }
    Ok(())
}

/// OS::Nova::Server: every Subnet a server's network might use. A `networks` entry
/// without a network (only a port, say) or a subnet with no known network matches every
/// subnet, as Heat cannot tell which one the server will land on.
fn server(r: &mut Rule) -> Step {
    let me = r.me.clone();
    let Some(nets) = guarded(r.own().item("networks"), &me)? else {
        return Ok(());
    };
    if !truthy(&nets) {
        return Ok(());
    }
    let nets = unguarded(as_list(&nets), &me)?;
    for res in r.others() {
        if !r.has(&res, SUBNET) {
            continue;
        }
        let Some(subnet_net) = guarded(r.props(&res).get("network"), &res)? else {
            continue;
        };
        if !truthy(&subnet_net) {
            r.add(&res);
            continue;
        }
        for net in &nets {
            let net_id = unguarded(dict_get(net, "network"), &me)?;
            if !truthy(&net_id) || py_eq(&net_id, &subnet_net) {
                r.add(&res);
                break;
            }
        }
    }
    Ok(())
}

/// OS::Neutron::Router: with an external gateway, every Subnet of the gateway network
/// (setting the gateway creates a port there). Reading the gateway is outside any `try`.
fn router(r: &mut Rule) -> Step {
    let me = r.me.clone();
    let gateway = unguarded(r.own().item("external_gateway_info"), &me)?;
    if !truthy(&gateway) {
        return Ok(());
    }
    let gateway_net = unguarded(dict_get(&gateway, "network"), &me)?;
    for res in r.others() {
        if !r.has(&res, SUBNET) {
            continue;
        }
        if let Some(subnet_net) = guarded(r.props(&res).get("network"), &res)? {
            if py_eq(&subnet_net, &gateway_net) {
                r.add(&res);
            }
        }
    }
    Ok(())
}

/// OS::Neutron::RouterGateway (hidden, deprecated): every RouterInterface on the same
/// router, and every Subnet of the gateway network. Both read with `properties[...]`, so
/// a facade without that property (OS::Heat::None, a template) aborts the rule.
fn router_gateway(r: &mut Rule) -> Step {
    for res in r.others() {
        if r.has(&res, ROUTER_INTERFACE) {
            let pair = (|| -> Result<_, Failure> {
                Ok((r.props(&res).item("router")?, r.own().item("router_id")?))
            })();
            match guarded(pair, &res)? {
                // Heat's `continue` here also skips the Subnet test below.
                None => continue,
                Some((dep_router, router)) => {
                    if py_eq(&dep_router, &router) {
                        r.add(&res);
                    }
                }
            }
        }
        if r.has(&res, SUBNET) {
            let pair = (|| -> Result<_, Failure> {
                Ok((r.props(&res).item("network")?, r.own().item("network")?))
            })();
            if let Some((dep_network, network)) = guarded(pair, &res)? {
                if py_eq(&dep_network, &network) {
                    r.add(&res);
                }
            }
        }
    }
    Ok(())
}

/// OS::Neutron::ExtraRoute: the RouterInterfaces and RouterGateways of its router (the
/// next hop must be reachable before the route is added).
fn extra_route(r: &mut Rule) -> Step {
    for res in r.others() {
        let other_key = if r.has(&res, ROUTER_INTERFACE) {
            "router"
        } else if r.has(&res, ROUTER_GATEWAY) {
            "router_id"
        } else {
            continue;
        };
        let pair = (|| -> Result<_, Failure> {
            Ok((r.own().item("router_id")?, r.props(&res).get(other_key)?))
        })();
        if let Some((router, dep_router)) = guarded(pair, &res)? {
            if py_eq(&dep_router, &router) {
                r.add(&res);
            }
        }
    }
    Ok(())
}

/// OS::Neutron::ExtraRouteSet: the RouterInterfaces of its router.
fn extra_route_set(r: &mut Rule) -> Step {
    for res in r.others() {
        if !r.has(&res, ROUTER_INTERFACE) {
            continue;
        }
        let pair = (|| -> Result<_, Failure> {
            Ok((r.own().item("router")?, r.props(&res).get("router")?))
        })();
        if let Some((router, dep_router)) = guarded(pair, &res)? {
            if py_eq(&dep_router, &router) {
                r.add(&res);
            }
        }
    }
    Ok(())
}

/// AWS::EC2::VPCGatewayAttachment: every RouteTable of the same VPC (the attachment
/// sets the gateway on their routers).
fn vpc_gateway_attachment(r: &mut Rule) -> Step {
    for res in r.others() {
        if !r.has(&res, ROUTE_TABLE) {
            continue;
        }
        let pair = (|| -> Result<_, Failure> {
            Ok((r.own().item("VpcId")?, r.props(&res).get("VpcId")?))
        })();
        if let Some((vpc, table_vpc)) = guarded(pair, &res)? {
            if py_eq(&table_vpc, &vpc) {
                r.add(&res);
            }
        }
    }
    Ok(())
}

/// OS::Neutron::FloatingIP: the RouterGateway or Router whose gateway network is the
/// floating network, and the RouterInterfaces on the subnet of a port it requires (the
/// port must be routable from the external network before association).
fn floating_ip(r: &mut Rule) -> Step {
    for res in r.others() {
        if r.has(&res, ROUTER_GATEWAY) {
            let pair = (|| -> Result<_, Failure> {
                let gateway_net = r.props(&res).get_or("network", "network_id")?;
                Ok((gateway_net, r.own().item("floating_network")?))
            })();
            if let Some((gateway_net, floating_net)) = guarded(pair, &res)? {
                if py_eq(&gateway_net, &floating_net) {
                    r.add(&res);
                }
            }
        } else if r.has(&res, ROUTER_INTERFACE) {
            router_interface_on_port_subnet(r, &res, FixedIps::All)?;
        } else if r.has(&res, ROUTER) {
            let pair = (|| -> Result<_, Failure> {
                Ok((
                    r.props(&res).get("external_gateway_info")?,
                    r.own().item("floating_network")?,
                ))
            })();
            if let Some((gateway, floating_net)) = guarded(pair, &res)? {
                if truthy(&gateway) {
                    let gateway_net = unguarded(dict_get(&gateway, "network"), &res)?;
                    if py_eq(&gateway_net, &floating_net) {
                        r.add(&res);
                    }
                }
            }
        }
    }
    Ok(())
}

/// OS::Neutron::FloatingIPAssociation and OS::Neutron::FloatingIPPortForward: the
/// RouterInterfaces on the subnet of a port they require. Unlike FloatingIP, only a
/// port's *first* fixed IP counts, a port without fixed IPs never matches, and nothing
/// is inside a `try`.
fn floating_ip_association(r: &mut Rule) -> Step {
    for res in r.others() {
        if r.has(&res, ROUTER_INTERFACE) {
            router_interface_on_port_subnet(r, &res, FixedIps::First)?;
        }
    }
    Ok(())
}

/// Which fixed IPs of a port the FloatingIP-family rules compare.
#[derive(Clone, Copy)]
enum FixedIps {
    /// FloatingIP: any fixed IP; no fixed IPs at all matches an interface without subnet.
    All,
    /// FloatingIPAssociation/PortForward: the first fixed IP decides.
    First,
}

/// `_add_router_interface_dependencies`: depend on RouterInterface `ri` when a Port this
/// resource requires is on the interface's subnet.
fn router_interface_on_port_subnet(r: &mut Rule, ri: &str, mode: FixedIps) -> Step {
    let subnet = unguarded(r.props(ri).get_or("subnet", "subnet_id"), ri)?;
    for d in r.current_requirements() {
        let on_subnet = match mode {
            FixedIps::All => port_on_subnet(r, &d, &subnet)?,
            FixedIps::First => port_first_ip_on_subnet(r, &d, &subnet)?,
        };
        if on_subnet {
            r.add(ri);
            break;
        }
    }
    Ok(())
}

/// `fixed_ip.get('subnet') or fixed_ip.get('subnet_id')`
fn fixed_ip_subnet(fixed_ip: &Value) -> Result<Value, Failure> {
    py_or(dict_get(fixed_ip, "subnet")?, || {
        dict_get(fixed_ip, "subnet_id")
    })
}

/// FloatingIP's `port_on_subnet`.
fn port_on_subnet(r: &Rule, d: &str, subnet: &Value) -> Result<bool, Aborted> {
    if !r.has(d, PORT) {
        return Ok(false);
    }
    let p = r.props(d);
    let Some(fixed_ips) = guarded(p.get("fixed_ips"), d)? else {
        return Ok(false);
    };
    if !truthy(&fixed_ips) {
        // No fixed IP: Heat cannot know the subnet, so an interface without one matches;
        // otherwise it asks Neutron for the port network's subnets.
        if subnet.is_null() {
            return Ok(true);
        }
        let Some(net) = guarded(p.get_or("network", "network_id"), d)? else {
            return Ok(false);
        };
        return Ok(match net {
            Value::String(net) if !net.is_empty() => r
                .view
                .network_subnets(&net)
                .is_some_and(|subnets| subnets.iter().any(|s| py_eq(s, subnet))),
            _ => false,
        });
    }
    for fixed_ip in unguarded(as_list(&fixed_ips), d)? {
        let port_subnet = unguarded(fixed_ip_subnet(&fixed_ip), d)?;
        if py_eq(subnet, &port_subnet) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// FloatingIPAssociation's `port_on_subnet`: returns on the first fixed IP.
fn port_first_ip_on_subnet(r: &Rule, d: &str, subnet: &Value) -> Result<bool, Aborted> {
    if !r.has(d, PORT) {
        return Ok(false);
    }
    let fixed_ips = unguarded(r.props(d).get("fixed_ips"), d)?;
    let fixed_ips = if truthy(&fixed_ips) {
        fixed_ips
    } else {
        Value::Array(vec![])
    };
    match unguarded(as_list(&fixed_ips), d)?.first() {
        None => Ok(false),
        Some(fixed_ip) => {
            let port_subnet = unguarded(fixed_ip_subnet(fixed_ip), d)?;
            Ok(py_eq(subnet, &port_subnet))
        }
    }
}

#[cfg(test)]
mod tests {
    //! Expected values come from reading Heat 27.0.1's plugins; the cases marked
    //! "(Heat)" were also run through Heat itself (a stored stack reloaded with
    //! `Stack.load`, as `migrate_convergence_1` does) and gave the same edges.

    use super::*;
    use serde_json::json;

    struct Res {
        name: String,
        template_type: String,
        /// The name of the registry entry the type resolves to, when it is not the type.
        registry_name: Option<String>,
        implementation: Implementation,
        props: Value,
        unresolvable: Vec<String>,
        explicit: Vec<String>,
    }

    #[derive(Default)]
    struct Fake {
        resources: Vec<Res>,
        neutron: Vec<(String, Vec<Value>)>,
    }

    impl Fake {
        fn find(&self, name: &str) -> Option<&Res> {
            self.resources.iter().find(|r| r.name == name)
        }
        /// A resource whose template type is the plugin's own name.
        fn add(mut self, name: &str, ty: &str, props: Value) -> Fake {
            self.resources.push(Res {
                name: name.into(),
                template_type: ty.into(),
                registry_name: None,
                implementation: Implementation::Plugin(ty.into()),
                props,
                unresolvable: vec![],
                explicit: vec![],
            });
            self
        }
        /// A resource of template type `ty` that the registry maps elsewhere.
        fn mapped(
            mut self,
            name: &str,
            ty: &str,
            to: &str,
            imp: Implementation,
            props: Value,
        ) -> Fake {
            self.resources.push(Res {
                name: name.into(),
                template_type: ty.into(),
                registry_name: Some(to.into()),
                implementation: imp,
                props,
                unresolvable: vec![],
                explicit: vec![],
            });
            self
        }
        fn requiring(mut self, explicit: &[&str]) -> Fake {
            if let Some(last) = self.resources.last_mut() {
                last.explicit = explicit.iter().map(|s| s.to_string()).collect();
            }
            self
        }
        fn unresolvable(mut self, prop: &str) -> Fake {
            if let Some(last) = self.resources.last_mut() {
                last.unresolvable.push(prop.into());
            }
            self
        }
        fn deps(&self, name: &str) -> ImplicitDependencies {
            implicit_dependencies(self, name)
        }
        fn reqs(&self, name: &str) -> Vec<String> {
            let d = self.deps(name);
            assert_eq!(d.aborted, None, "{name} aborted");
            d.requires
        }
    }

    impl StackView for Fake {
        fn resource_names(&self) -> Vec<String> {
            self.resources.iter().map(|r| r.name.clone()).collect()
        }
        fn implementation(&self, name: &str) -> Option<Implementation> {
            self.find(name).map(|r| r.implementation.clone())
        }
        fn has_interface(&self, name: &str, iface: &str) -> bool {
            self.find(name).is_some_and(|r| {
                r.template_type == iface || r.registry_name.as_deref() == Some(iface)
            })
        }
        fn property(&self, name: &str, prop: &str) -> Result<Option<Value>, PropertyError> {
            let r = self
                .find(name)
                .ok_or_else(|| PropertyError("no such resource".into()))?;
            if r.unresolvable.iter().any(|p| p == prop) {
                return Err(PropertyError("cannot resolve".into()));
            }
            Ok(r.props.get(prop).cloned())
        }
        fn explicit_requirements(&self, name: &str) -> Vec<String> {
            self.find(name)
                .map(|r| r.explicit.clone())
                .unwrap_or_default()
        }
        fn network_subnets(&self, network: &str) -> Option<Vec<Value>> {
            self.neutron
                .iter()
                .find(|(n, _)| n == network)
                .map(|(_, s)| s.clone())
        }
    }

    const SUBNET_T: &str = "OS::Neutron::Subnet";
    const PORT_T: &str = "OS::Neutron::Port";
    const SERVER_T: &str = "OS::Nova::Server";
    const RI_T: &str = "OS::Neutron::RouterInterface";
    const RG_T: &str = "OS::Neutron::RouterGateway";
    const ROUTER_T: &str = "OS::Neutron::Router";
    const FIP_T: &str = "OS::Neutron::FloatingIP";

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn port_depends_on_subnets_of_its_network_including_deprecated_network_id() {
        let s = Fake::default()
            .add("s1", SUBNET_T, json!({"network": "n1"}))
            .add("s_old", SUBNET_T, json!({"network_id": "n1"}))
            .add("s_other", SUBNET_T, json!({"network": "n2"}))
            .add("port", PORT_T, json!({"network": "n1"}))
            .add("port_old", PORT_T, json!({"network_id": "n2"}));
        assert_eq!(s.reqs("port"), names(&["s1", "s_old"]));
        assert_eq!(s.reqs("port_old"), names(&["s_other"]));
        assert_eq!(s.reqs("s1"), names(&[])); // Subnet has no rule in 27.0.1
    }

    #[test]
    fn null_networks_read_as_empty_strings_and_match() {
        // (Heat) a null string property reads as ''; a null deprecated name wins over
        // the new one; a missing required network is a ValueError: that subnet is skipped.
        let s = Fake::default()
            .add("s_null", SUBNET_T, json!({"network": null}))
            .add(
                "s_old_null",
                SUBNET_T,
                json!({"network": "n1", "network_id": null}),
            )
            .add("s_absent", SUBNET_T, json!({"cidr": "10.0.0.0/24"}))
            .add("s1", SUBNET_T, json!({"network": "n1"}))
            .add("port_null", PORT_T, json!({"network": null}));
        assert_eq!(s.reqs("port_null"), names(&["s_null", "s_old_null"]));
    }

    #[test]
    fn values_are_coerced_to_strings_before_comparing() {
        // (Heat) int 5 reads as '5'; a float is a ValueError, so nothing matches.
        let s = Fake::default()
            .add("s5", SUBNET_T, json!({"network": "5"}))
            .add("port_int", PORT_T, json!({"network": 5}))
            .add("port_float", PORT_T, json!({"network": 1.5}));
        assert_eq!(s.reqs("port_int"), names(&["s5"]));
        assert_eq!(s.reqs("port_float"), names(&[]));
    }

    #[test]
    fn unresolvable_property_skips_that_resource_only() {
        let s = Fake::default()
            .add(
                "s_bad",
                SUBNET_T,
                json!({"network": {"get_attr": ["x", "y"]}}),
            )
            .unresolvable("network")
            .add("s1", SUBNET_T, json!({"network": "n1"}))
            .add("port", PORT_T, json!({"network": "n1"}));
        assert_eq!(s.reqs("port"), names(&["s1"]));
    }

    #[test]
    fn both_names_set_aborts_the_rule_keeping_earlier_edges() {
        // (Heat) StackValidationFailed escapes the plugin; what survives depends on
        // Heat's set order (seen with PYTHONHASHSEED), here on our walk order.
        let s = Fake::default()
            .add("s1", SUBNET_T, json!({"network": "n1"}))
            .add(
                "bad",
                SUBNET_T,
                json!({"network": "n1", "network_id": "n1"}),
            )
            .add("s2", SUBNET_T, json!({"network": "n1"}))
            .add("port", PORT_T, json!({"network": "n1"}));
        let d = s.deps("port");
        assert_eq!(d.requires, names(&["s1"]));
        let aborted = d.aborted.expect("aborted");
        assert_eq!(aborted.at, "bad");
        assert!(matches!(aborted.failure, Failure::Conflict(_)));
    }

    #[test]
    fn server_with_a_port_only_network_depends_on_every_subnet() {
        // (Heat) an entry without `network` means "unknown network".
        let s = Fake::default()
            .add("s1", SUBNET_T, json!({"network": "n1"}))
            .add("s2", SUBNET_T, json!({"network": "n2"}))
            .add("srv", SERVER_T, json!({"networks": [{"port": "p1"}]}));
        assert_eq!(s.reqs("srv"), names(&["s1", "s2"]));
    }

    #[test]
    fn server_matches_its_networks_deprecated_uuid_and_subnets_of_unknown_network() {
        // (Heat) `uuid` moves onto `network`; a subnet whose network reads '' always counts.
        let s = Fake::default()
            .add("s1", SUBNET_T, json!({"network": "n1"}))
            .add("s2", SUBNET_T, json!({"network": "n2"}))
            .add("s_null", SUBNET_T, json!({"network": null}))
            .add("srv", SERVER_T, json!({"networks": [{"uuid": "n1"}]}))
            .add(
                "srv2",
                SERVER_T,
                json!({"networks": [{"network": "n2"}, {"network": "n1"}]}),
            );
        assert_eq!(s.reqs("srv"), names(&["s1", "s_null"]));
        assert_eq!(s.reqs("srv2"), names(&["s1", "s2", "s_null"]));
    }

    #[test]
    fn server_without_or_with_bad_networks_has_no_implicit_edges() {
        let s = Fake::default()
            .add("s1", SUBNET_T, json!({"network": "n1"}))
            .add("srv_none", SERVER_T, json!({"image": "x"}))
            .add("srv_empty", SERVER_T, json!({"networks": []}))
            .add("srv_bad", SERVER_T, json!({"networks": "n1"}));
        assert_eq!(s.reqs("srv_none"), names(&[]));
        assert_eq!(s.reqs("srv_empty"), names(&[]));
        assert_eq!(s.reqs("srv_bad"), names(&[])); // TypeError: `return`, not an abort
    }

    #[test]
    fn router_depends_on_subnets_of_its_external_network() {
        let s = Fake::default()
            .add("ext", SUBNET_T, json!({"network": "public"}))
            .add("priv", SUBNET_T, json!({"network": "n1"}))
            .add(
                "r",
                ROUTER_T,
                json!({"external_gateway_info": {"network": "public"}}),
            )
            .add("r_plain", ROUTER_T, json!({"name": "x"}));
        assert_eq!(s.reqs("r"), names(&["ext"]));
        assert_eq!(s.reqs("r_plain"), names(&[]));
    }

    #[test]
    fn router_gateway_info_without_network_aborts() {
        // (Heat) read outside any try: the ValueError escapes, no edges at all.
        let s = Fake::default()
            .add("ext", SUBNET_T, json!({"network": ""}))
            .add("r", ROUTER_T, json!({"external_gateway_info": {}}));
        let d = s.deps("r");
        assert_eq!(d.requires, names(&[]));
        assert!(matches!(
            d.aborted.map(|a| a.failure),
            Some(Failure::Invalid(_))
        ));
    }

    #[test]
    fn router_gateway_depends_on_interfaces_of_its_router_and_subnets_of_its_network() {
        // (Heat) the interface gives its router through the deprecated `router_id`.
        let s = Fake::default()
            .add("ri", RI_T, json!({"router_id": "r", "subnet": "s"}))
            .add("ri_other", RI_T, json!({"router": "r2", "subnet": "s"}))
            .add("ext", SUBNET_T, json!({"network": "public"}))
            .add("priv", SUBNET_T, json!({"network": "n1"}))
            .add(
                "rg",
                RG_T,
                json!({"router_id": "r", "network_id": "public"}),
            );
        assert_eq!(s.reqs("rg"), names(&["ri", "ext"]));
    }

    #[test]
    fn router_gateway_aborts_on_a_subnet_mapped_to_none() {
        // `properties['network']` on OS::Heat::None's empty schema is a KeyError.
        let none = Implementation::Plugin("OS::Heat::None".into());
        let s = Fake::default()
            .add("s1", SUBNET_T, json!({"network": "public"}))
            .mapped(
                "s_none",
                SUBNET_T,
                "OS::Heat::None",
                none,
                json!({"network": "public"}),
            )
            .add("s2", SUBNET_T, json!({"network": "public"}))
            .add("rg", RG_T, json!({"router_id": "r", "network": "public"}));
        let d = s.deps("rg");
        assert_eq!(d.requires, names(&["s1"]));
        let aborted = d.aborted.expect("aborted");
        assert_eq!(aborted.at, "s_none");
        assert!(matches!(aborted.failure, Failure::NoSuchProperty(_)));
    }

    #[test]
    fn extra_routes_depend_on_interfaces_and_gateways_of_their_router() {
        let s = Fake::default()
            .add("ri", RI_T, json!({"router": "r", "subnet": "s"}))
            .add("ri_other", RI_T, json!({"router": "r2", "subnet": "s"}))
            .add("rg", RG_T, json!({"router_id": "r", "network": "public"}))
            .add("xr", "OS::Neutron::ExtraRoute", json!({"router_id": "r"}))
            .add("xrs", "OS::Neutron::ExtraRouteSet", json!({"router": "r"}));
        assert_eq!(s.reqs("xr"), names(&["ri", "rg"]));
        assert_eq!(s.reqs("xrs"), names(&["ri"])); // gateways are not looked at
    }

    #[test]
    fn vpc_gateway_attachment_depends_on_route_tables_of_its_vpc() {
        // (Heat)
        let s = Fake::default()
            .add("rt1", "AWS::EC2::RouteTable", json!({"VpcId": "vpc1"}))
            .add("rt2", "AWS::EC2::RouteTable", json!({"VpcId": "vpc2"}))
            .add(
                "att",
                "AWS::EC2::VPCGatewayAttachment",
                json!({"VpcId": "vpc1"}),
            );
        assert_eq!(s.reqs("att"), names(&["rt1"]));
    }

    #[test]
    fn floating_ip_depends_on_gateway_and_router_of_its_floating_network() {
        // (Heat) the FloatingIP names its network by the deprecated `floating_network_id`.
        let s = Fake::default()
            .add(
                "rg",
                RG_T,
                json!({"router_id": "r", "network_id": "public"}),
            )
            .add(
                "rg_other",
                RG_T,
                json!({"router_id": "r", "network": "other"}),
            )
            .add(
                "router",
                ROUTER_T,
                json!({"external_gateway_info": {"network": "public"}}),
            )
            .add("router2", ROUTER_T, json!({}))
            .add("fip", FIP_T, json!({"floating_network_id": "public"}));
        assert_eq!(s.reqs("fip"), names(&["rg", "router"]));
    }

    fn ports_and_interfaces() -> Fake {
        Fake::default()
            .add(
                "port_fx",
                PORT_T,
                json!({"network": "n1", "fixed_ips": [{"ip_address": "10.0.0.5"}, {"subnet_id": "s2"}]}),
            )
            .add("port_nofx", PORT_T, json!({"network": "n1"}))
            .add("ri_s1", RI_T, json!({"router": "r", "subnet": "s1"}))
            .add("ri_s2", RI_T, json!({"router": "r", "subnet_id": "s2"}))
            .add("ri_port", RI_T, json!({"router": "r", "port": "p"}))
    }

    #[test]
    fn floating_ip_depends_on_interfaces_on_the_subnets_of_its_port() {
        // (Heat) a fixed IP without subnet matches an interface without subnet
        // (None == None); a port without fixed IPs matches only such an interface,
        // since the Neutron lookup of its network's subnets fails here.
        let s = ports_and_interfaces()
            .add("fip_fx", FIP_T, json!({"floating_network": "public"}))
            .requiring(&["port_fx"])
            .add("fip_nofx", FIP_T, json!({"floating_network": "public"}))
            .requiring(&["port_nofx"]);
        assert_eq!(s.reqs("fip_fx"), names(&["ri_s2", "ri_port"]));
        assert_eq!(s.reqs("fip_nofx"), names(&["ri_port"]));
    }

    #[test]
    fn floating_ip_uses_neutron_for_a_port_without_fixed_ips_when_it_can() {
        let mut s = ports_and_interfaces()
            .add("fip_nofx", FIP_T, json!({"floating_network": "public"}))
            .requiring(&["port_nofx"]);
        s.neutron.push(("n1".into(), vec![json!("s1")]));
        assert_eq!(s.reqs("fip_nofx"), names(&["ri_s1", "ri_port"]));
    }

    #[test]
    fn floating_ip_association_and_port_forward_look_at_the_first_fixed_ip_only() {
        // (Heat)
        let s = ports_and_interfaces()
            .add(
                "fipa_fx",
                "OS::Neutron::FloatingIPAssociation",
                json!({"floatingip_id": "x"}),
            )
            .requiring(&["port_fx"])
            .add(
                "fipa_nofx",
                "OS::Neutron::FloatingIPAssociation",
                json!({"floatingip_id": "x"}),
            )
            .requiring(&["port_nofx"])
            .add(
                "pf",
                "OS::Neutron::FloatingIPPortForward",
                json!({"floating_ip": "x"}),
            )
            .requiring(&["port_fx"]);
        assert_eq!(s.reqs("fipa_fx"), names(&["ri_port"]));
        assert_eq!(s.reqs("fipa_nofx"), names(&[]));
        assert_eq!(s.reqs("pf"), names(&["ri_port"]));
    }

    #[test]
    fn registry_decides_which_rule_runs_and_interfaces_follow_the_template_type() {
        // (Heat) a Port mapped to a template runs no rule; a Subnet mapped to a template
        // is still a Subnet, read through its parameters; a Subnet mapped to
        // OS::Heat::None reads None: Ports skip it, Servers take it as unknown network.
        // (Heat agreed when `sub_real` was resolved before `sub_nullres`; see the
        // registry leak noted on `StackView::implementation`.)
        let tmpl = |params: &[&str]| {
            Implementation::Template(
                params
                    .iter()
                    .map(|p| {
                        let kind = ParameterKind::String;
                        (
                            p.to_string(),
                            TemplateParameter {
                                kind,
                                has_default: false,
                            },
                        )
                    })
                    .collect(),
            )
        };
        let none = Implementation::Plugin("OS::Heat::None".into());
        let s = Fake::default()
            .mapped(
                "sub_nullres",
                SUBNET_T,
                "OS::Heat::None",
                none,
                json!({"network": "net1"}),
            )
            .mapped(
                "sub_tmpl",
                SUBNET_T,
                SUBNET_T,
                tmpl(&["network", "cidr"]),
                json!({"network": "net1", "cidr": "c"}),
            )
            .add("sub_real", SUBNET_T, json!({"network": "net1"}))
            .mapped(
                "port_tmpl",
                PORT_T,
                PORT_T,
                tmpl(&["network"]),
                json!({"network": "net1"}),
            )
            .add("port_real", PORT_T, json!({"network": "net1"}))
            .add("srv", SERVER_T, json!({"networks": [{"network": "net1"}]}));
        assert_eq!(s.reqs("port_tmpl"), names(&[]));
        assert_eq!(s.reqs("port_real"), names(&["sub_tmpl", "sub_real"]));
        assert_eq!(
            s.reqs("srv"),
            names(&["sub_nullres", "sub_tmpl", "sub_real"])
        );
    }

    #[test]
    fn a_type_mapped_onto_a_plugin_has_its_interface_and_rule() {
        // (Heat) `My::Subnet: OS::Neutron::Subnet`; a Port mapped to OS::Heat::None loses its rule.
        let subnet = Implementation::Plugin(SUBNET_T.into());
        let none = Implementation::Plugin("OS::Heat::None".into());
        let s = Fake::default()
            .mapped(
                "my_sub",
                "My::Subnet",
                SUBNET_T,
                subnet,
                json!({"network": "5"}),
            )
            .add("port", PORT_T, json!({"network": "5"}))
            .mapped(
                "port_none",
                PORT_T,
                "OS::Heat::None",
                none,
                json!({"network": "5"}),
            );
        assert_eq!(s.reqs("port"), names(&["my_sub"]));
        assert_eq!(s.reqs("port_none"), names(&[]));
    }

    #[test]
    fn an_unmodelled_plugin_behind_an_interface_is_reported() {
        let other = Implementation::Plugin("OS::Heat::TestResource".into());
        let s = Fake::default()
            .add("s1", SUBNET_T, json!({"network": "n1"}))
            .mapped(
                "odd",
                SUBNET_T,
                "OS::Heat::TestResource",
                other,
                json!({"network": "n1"}),
            )
            .add("port", PORT_T, json!({"network": "n1"}));
        let d = s.deps("port");
        assert_eq!(d.requires, names(&["s1"]));
        assert!(matches!(
            d.aborted.map(|a| a.failure),
            Some(Failure::Unmodelled(_))
        ));
    }
}
