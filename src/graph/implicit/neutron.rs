//! The OS::Neutron plugins: their implicit rules (ports after the subnets of their
//! network, routes after the interfaces of their router, floating IPs after the way out)
//! and, next to each rule, the property schema of every class a Neutron rule reads.

use serde_json::Value;

use super::rule::{as_list, dict_get, guarded, unguarded, PluginClass, Rule, Step};
use super::stack_view::Aborted;
use crate::properties::{
    boolean, list_of, map_of, rename, resource, string, Failure, ResourceSchema,
};
use crate::python::{self, truthy};

/// Interfaces (registered type names) the rules look for.
pub const PORT: &str = "OS::Neutron::Port";
pub const SUBNET: &str = "OS::Neutron::Subnet";
pub const ROUTER: &str = "OS::Neutron::Router";
pub const ROUTER_INTERFACE: &str = "OS::Neutron::RouterInterface";
pub const ROUTER_GATEWAY: &str = "OS::Neutron::RouterGateway";
const FLOATING_IP: &str = "OS::Neutron::FloatingIP";
const FLOATING_IP_ASSOCIATION: &str = "OS::Neutron::FloatingIPAssociation";
const FLOATING_IP_PORT_FORWARD: &str = "OS::Neutron::FloatingIPPortForward";
const EXTRA_ROUTE: &str = "OS::Neutron::ExtraRoute";
const EXTRA_ROUTE_SET: &str = "OS::Neutron::ExtraRouteSet";

/// Subnet and RouterInterface define no `add_dependencies` in Heat 27.0.1.
pub const PLUGINS: &[PluginClass] = &[
    PluginClass {
        name: PORT,
        rule: Some(port),
        schema: port_schema,
    },
    PluginClass {
        name: SUBNET,
        rule: None,
        schema: subnet_schema,
    },
    PluginClass {
        name: ROUTER,
        rule: Some(router),
        schema: router_schema,
    },
    PluginClass {
        name: ROUTER_INTERFACE,
        rule: None,
        schema: router_interface_schema,
    },
    PluginClass {
        name: ROUTER_GATEWAY,
        rule: Some(router_gateway),
        schema: router_gateway_schema,
    },
    PluginClass {
        name: EXTRA_ROUTE,
        rule: Some(extra_route),
        schema: extra_route_schema,
    },
    PluginClass {
        name: EXTRA_ROUTE_SET,
        rule: Some(extra_route_set),
        schema: extra_route_set_schema,
    },
    PluginClass {
        name: FLOATING_IP,
        rule: Some(floating_ip),
        schema: floating_ip_schema,
    },
    PluginClass {
        name: FLOATING_IP_ASSOCIATION,
        rule: Some(floating_ip_association),
        schema: floating_ip_association_schema,
    },
    PluginClass {
        name: FLOATING_IP_PORT_FORWARD,
        rule: Some(floating_ip_association),
        schema: floating_ip_port_forward_schema,
    },
];

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
            if python::eq(&dep_network, &network) {
                r.add(&res);
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
            if python::eq(&subnet_net, &gateway_net) {
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
                    if python::eq(&dep_router, &router) {
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
                if python::eq(&dep_network, &network) {
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
            if python::eq(&dep_router, &router) {
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
            if python::eq(&dep_router, &router) {
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
                if python::eq(&gateway_net, &floating_net) {
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
                    if python::eq(&gateway_net, &floating_net) {
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
    python::or(dict_get(fixed_ip, "subnet")?, || {
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
                .is_some_and(|subnets| subnets.iter().any(|s| python::eq(s, subnet))),
            _ => false,
        });
    }
    for fixed_ip in unguarded(as_list(&fixed_ips), d)? {
        let port_subnet = unguarded(fixed_ip_subnet(&fixed_ip), d)?;
        if python::eq(subnet, &port_subnet) {
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
            Ok(python::eq(subnet, &port_subnet))
        }
    }
}

// ----------------------------------------------------------------------------- schemas

fn port_schema() -> ResourceSchema {
    resource(
        PORT,
        "admin_state_up allowed_address_pairs binding:vnic_type device_id device_owner \
         dns_name fixed_ips mac_address name network network_id no_fixed_ips \
         port_security_enabled propagate_uplink_status qos_policy replacement_policy \
         security_groups tags value_specs",
        vec![
            ("network", string().required()),
            ("network_id", string()),
            (
                "fixed_ips",
                list_of(map_of(
                    vec![
                        ("subnet_id", string()),
                        ("subnet", string()),
                        ("ip_address", string()),
                    ],
                    vec![rename("subnet", "subnet_id")],
                )),
            ),
        ],
        vec![rename("network", "network_id")],
    )
}

fn subnet_schema() -> ResourceSchema {
    resource(
        SUBNET,
        "allocation_pools cidr dns_nameservers enable_dhcp gateway_ip host_routes \
         ip_version ipv6_address_mode ipv6_ra_mode name network network_id prefixlen \
         segment subnetpool tags tenant_id value_specs",
        vec![("network", string().required()), ("network_id", string())],
        vec![rename("network", "network_id")],
    )
}

fn router_schema() -> ResourceSchema {
    resource(
        ROUTER,
        "admin_state_up availability_zone_hints distributed external_gateway_info ha \
         l3_agent_id l3_agent_ids name tags tenant_id value_specs",
        vec![(
            "external_gateway_info",
            map_of(
                vec![
                    ("network", string().required()),
                    ("enable_snat", boolean()),
                    (
                        "external_fixed_ips",
                        list_of(map_of(
                            vec![("ip_address", string()), ("subnet", string())],
                            vec![],
                        )),
                    ),
                ],
                vec![],
            ),
        )],
        vec![],
    )
}

fn router_interface_schema() -> ResourceSchema {
    resource(
        ROUTER_INTERFACE,
        "port port_id router router_id subnet subnet_id",
        vec![
            ("router", string().required()),
            ("router_id", string()),
            ("subnet", string()),
            ("subnet_id", string()),
            ("port", string()),
            ("port_id", string()),
        ],
        vec![
            rename("port", "port_id"),
            rename("router", "router_id"),
            rename("subnet", "subnet_id"),
        ],
    )
}

fn router_gateway_schema() -> ResourceSchema {
    resource(
        ROUTER_GATEWAY,
        "network network_id router_id",
        vec![
            ("router_id", string().required()),
            ("network_id", string()),
            ("network", string()),
        ],
        vec![rename("network", "network_id")],
    )
}

fn floating_ip_schema() -> ResourceSchema {
    resource(
        FLOATING_IP,
        "dns_domain dns_name fixed_ip_address floating_ip_address floating_network \
         floating_network_id floating_subnet port_id value_specs",
        vec![
            ("floating_network", string().required()),
            ("floating_network_id", string()),
        ],
        vec![rename("floating_network", "floating_network_id")],
    )
}

fn floating_ip_association_schema() -> ResourceSchema {
    resource(
        FLOATING_IP_ASSOCIATION,
        "fixed_ip_address floatingip_id port_id",
        vec![],
        vec![],
    )
}

fn floating_ip_port_forward_schema() -> ResourceSchema {
    resource(
        FLOATING_IP_PORT_FORWARD,
        "external_port floating_ip internal_ip_address internal_port internal_port_number \
         protocol",
        vec![],
        vec![],
    )
}

fn extra_route_schema() -> ResourceSchema {
    resource(
        EXTRA_ROUTE,
        "destination nexthop router_id",
        vec![("router_id", string().required())],
        vec![],
    )
}

fn extra_route_set_schema() -> ResourceSchema {
    resource(
        EXTRA_ROUTE_SET,
        "router routes",
        vec![("router", string().required())],
        vec![],
    )
}
