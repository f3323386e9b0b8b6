//! OS::Nova::Server: a server depends on the subnets its networks may use, since Nova
//! creates its ports there. Its rule and its property schema.

use serde_json::{Map, Value};

use super::neutron::SUBNET;
use super::rule::{as_list, dict_get, guarded, unguarded, PluginClass, Rule, Step};
use crate::properties::{
    boolean, list_of, map_of, resource, schema, string, Kind, Rename, ResourceSchema, Schema,
};
use crate::python::{self, truthy};

const SERVER: &str = "OS::Nova::Server";

pub const PLUGINS: &[PluginClass] = &[PluginClass {
    name: SERVER,
    rule: Some(server),
    schema: server_schema,
}];

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
            if !truthy(&net_id) || python::eq(&net_id, &subnet_net) {
                r.add(&res);
                break;
            }
        }
    }
    Ok(())
}

fn server_schema() -> ResourceSchema {
    resource(
        SERVER,
        "admin_pass admin_user availability_zone block_device_mapping \
         block_device_mapping_v2 config_drive deployment_swift_data diskConfig flavor \
         flavor_update_policy image image_update_policy key_name metadata name networks \
         personality reservation_id scheduler_hints security_groups \
         software_config_transport tags user_data user_data_format user_data_update_policy",
        vec![("networks", list_of(server_network()))],
        vec![],
    )
}

/// One item of a Server's `networks`; the deprecated `uuid` moves onto `network`. Every
/// key is coerced when the list is read, so a bad value anywhere in it is a ValueError.
fn server_network() -> Schema {
    let port_extra = map_of(
        vec![
            (
                "value_specs",
                schema(Kind::Map(None)).default(Value::Object(Map::new())),
            ),
            ("admin_state_up", boolean().default(Value::Bool(true))),
            ("mac_address", string()),
            (
                "allowed_address_pairs",
                list_of(map_of(
                    vec![
                        ("mac_address", string()),
                        ("ip_address", string().required()),
                    ],
                    vec![],
                )),
            ),
            (
                "binding:vnic_type",
                string().default(Value::String("normal".into())),
            ),
            ("qos_policy", string()),
            ("port_security_enabled", boolean()),
            ("propagate_uplink_status", boolean()),
            ("no_fixed_ips", boolean().default(Value::Bool(false))),
        ],
        vec![],
    );
    map_of(
        vec![
            ("uuid", string()),
            ("network", string()),
            ("allocate_network", string()),
            ("fixed_ip", string()),
            ("port", string()),
            ("port_extra_properties", port_extra),
            ("subnet", string()),
            ("floating_ip", string()),
            ("tag", string()),
        ],
        vec![Rename {
            new: "network",
            old: "uuid",
        }],
    )
}
