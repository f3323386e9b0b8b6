//! Heat's property layer, as far as the implicit dependency rules read it.
//!
//! A plugin's `self.properties[X]` is not the raw template value. Heat 27.0.1
//! (`heat/engine/properties.py`, `heat/engine/translation.py`) first resolves intrinsic
//! functions, then applies the resource type's *translation rules*, then coerces the value
//! to the schema type, filling schema defaults. This module redoes those steps for the
//! properties the rules read, so that two values compare the way Heat compares them:
//!
//! * Only REPLACE rules matter. A loaded stack builds its resources with
//!   `reparse(client_resolve=False)`, which drops every RESOLVE rule (name → id lookups
//!   through Neutron/Nova/Glance), so no client is ever asked while the graph is built.
//!   The ADD/DELETE rules (Router `l3_agent_id`) touch nothing the rules read.
//! * A REPLACE rule moves a deprecated name onto its successor (`network_id` → `network`):
//!   the old name then reads as absent, the new one takes the old value when that is not
//!   None, and both being truthy is a `StackValidationFailed` (which no plugin catches).
//! * Coercion is Python's: a null string property reads as `''`, ints and bools become
//!   strings, a float or a list given for a string is a ValueError, a missing required
//!   property is a ValueError ("Property X not assigned"), an unknown name read with
//!   `properties[X]` is a KeyError (`.get` returns None instead).
//!
//! Values are `serde_json::Value`, with `Null` standing for Python's None.

use serde_json::{Map, Value};

use crate::python::{self, truthy};

use super::implicit::{ParameterKind, PropertyError, TemplateParameter};

/// How reading a property fails, named after the Python exception Heat raises. Which of
/// these a plugin survives decides whether Heat skips one resource or abandons the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// ValueError or TypeError: bad value, missing required property, unresolvable
    /// function. The plugins' `except (ValueError, TypeError)` skips the resource.
    Invalid(String),
    /// StackValidationFailed: a REPLACE rule found the deprecated and the new name both
    /// set. Not caught by any plugin: the rest of that plugin's rule is lost.
    Conflict(String),
    /// KeyError: `properties[X]` on a schema without `X` (e.g. a resource mapped to
    /// `OS::Heat::None`, whose schema is empty). Not caught by the plugins.
    NoSuchProperty(String),
    /// AttributeError/TypeError in plugin code outside any `try`, from a value of the
    /// wrong shape (e.g. calling `.get` on a string). Not caught by the plugins.
    WrongShape(String),
    /// Something Heat would do that this module does not model (a plugin's schema we
    /// do not carry, `json.dumps` of a list). The caller should treat the result as unsure.
    Unmodelled(String),
}

impl Failure {
    /// True for the exceptions the plugins' `except (ValueError, TypeError)` catches.
    pub fn is_caught_by_plugins(&self) -> bool {
        matches!(self, Failure::Invalid(_))
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Invalid(m) => write!(f, "ValueError: {m}"),
            Failure::Conflict(m) => write!(f, "StackValidationFailed: {m}"),
            Failure::NoSuchProperty(m) => write!(f, "KeyError: {m}"),
            Failure::WrongShape(m) => write!(f, "AttributeError/TypeError: {m}"),
            Failure::Unmodelled(m) => write!(f, "not modelled: {m}"),
        }
    }
}

/// Python `d.get(key)` on a value plugin code assumes to be a dict.
pub fn dict_get(v: &Value, key: &str) -> Result<Value, Failure> {
    match v {
        Value::Object(o) => Ok(o.get(key).cloned().unwrap_or(Value::Null)),
        other => Err(Failure::WrongShape(format!(
            "'{}' object has no attribute 'get'",
            python::type_name(other)
        ))),
    }
}

// ----------------------------------------------------------------------------- schemas

/// A property schema type (`properties.Schema` types; INTEGER is not read by any rule).
#[derive(Debug, Clone)]
pub enum Kind {
    String,
    Number,
    Boolean,
    /// A map, with the schema of its keys when it has one.
    Map(Option<MapSchema>),
    /// A list, with the schema of its items when it has one.
    List(Option<Box<Schema>>),
}

/// One property's schema: what `Property.get_value` needs to coerce a value.
#[derive(Debug, Clone)]
pub struct Schema {
    pub kind: Kind,
    pub required: bool,
    /// Heat's `has_default()` is `default is not None`, so `Some` here is never `Null`.
    pub default: Option<Value>,
    /// Set for provider-template facades of `json`/`comma_delimited_list` parameters:
    /// a string is then accepted for a map and split for a list.
    pub allow_conversion: bool,
}

/// A REPLACE translation rule: the value of deprecated `old` moves onto `new`.
#[derive(Debug, Clone)]
pub struct Rename {
    pub new: &'static str,
    pub old: &'static str,
}

/// The keys of a map property, and the REPLACE rules that apply inside it (Heat's
/// `value_name` form, e.g. `fixed_ips.subnet` ← `fixed_ips.subnet_id`).
#[derive(Debug, Clone)]
pub struct MapSchema {
    pub fields: Vec<(String, Schema)>,
    pub renames: Vec<Rename>,
}

/// What Heat knows of one resource's properties: the whole name list (reading another
/// name is a KeyError), the schemas of the names this module models, and the
/// top-level REPLACE rules (Heat's `value_path` form).
#[derive(Debug, Clone)]
pub struct ResourceSchema {
    pub names: Vec<String>,
    pub props: Vec<(String, Schema)>,
    pub renames: Vec<Rename>,
    /// For messages: which implementation this schema belongs to.
    pub owner: String,
}

fn schema(kind: Kind) -> Schema {
    Schema {
        kind,
        required: false,
        default: None,
        allow_conversion: false,
    }
}
fn string() -> Schema {
    schema(Kind::String)
}
fn boolean() -> Schema {
    schema(Kind::Boolean)
}
fn map_of(fields: Vec<(&str, Schema)>, renames: Vec<Rename>) -> Schema {
    schema(Kind::Map(Some(MapSchema {
        fields: fields
            .into_iter()
            .map(|(k, s)| (k.to_string(), s))
            .collect(),
        renames,
    })))
}
fn list_of(item: Schema) -> Schema {
    schema(Kind::List(Some(Box::new(item))))
}
impl Schema {
    fn required(mut self) -> Schema {
        self.required = true;
        self
    }
    fn default(mut self, v: Value) -> Schema {
        self.default = Some(v);
        self
    }
}

/// `names`: every property name of the plugin, whitespace-separated.
fn resource(
    owner: &str,
    names: &str,
    props: Vec<(&str, Schema)>,
    renames: Vec<Rename>,
) -> ResourceSchema {
    ResourceSchema {
        names: names.split_whitespace().map(str::to_string).collect(),
        props: props.into_iter().map(|(k, s)| (k.to_string(), s)).collect(),
        renames,
        owner: owner.to_string(),
    }
}

/// The schema (as far as the rules read it) of a plugin class, by the name it is
/// registered under. `None` for plugins this module does not carry.
pub fn plugin_schema(plugin: &str) -> Option<ResourceSchema> {
    let rename = |new, old| Rename { new, old };
    Some(match plugin {
        "OS::Neutron::Port" => resource(
            plugin,
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
        ),
        "OS::Neutron::Subnet" => resource(
            plugin,
            "allocation_pools cidr dns_nameservers enable_dhcp gateway_ip host_routes \
             ip_version ipv6_address_mode ipv6_ra_mode name network network_id prefixlen \
             segment subnetpool tags tenant_id value_specs",
            vec![("network", string().required()), ("network_id", string())],
            vec![rename("network", "network_id")],
        ),
        "OS::Neutron::Router" => resource(
            plugin,
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
        ),
        "OS::Neutron::RouterInterface" => resource(
            plugin,
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
        ),
        "OS::Neutron::RouterGateway" => resource(
            plugin,
            "network network_id router_id",
            vec![
                ("router_id", string().required()),
                ("network_id", string()),
                ("network", string()),
            ],
            vec![rename("network", "network_id")],
        ),
        "OS::Neutron::FloatingIP" => resource(
            plugin,
            "dns_domain dns_name fixed_ip_address floating_ip_address floating_network \
             floating_network_id floating_subnet port_id value_specs",
            vec![
                ("floating_network", string().required()),
                ("floating_network_id", string()),
            ],
            vec![rename("floating_network", "floating_network_id")],
        ),
        "OS::Neutron::FloatingIPAssociation" => resource(
            plugin,
            "fixed_ip_address floatingip_id port_id",
            vec![],
            vec![],
        ),
        "OS::Neutron::FloatingIPPortForward" => resource(
            plugin,
            "external_port floating_ip internal_ip_address internal_port internal_port_number \
             protocol",
            vec![],
            vec![],
        ),
        "OS::Neutron::ExtraRoute" => resource(
            plugin,
            "destination nexthop router_id",
            vec![("router_id", string().required())],
            vec![],
        ),
        "OS::Neutron::ExtraRouteSet" => resource(
            plugin,
            "router routes",
            vec![("router", string().required())],
            vec![],
        ),
        "AWS::EC2::VPCGatewayAttachment" => resource(
            plugin,
            "InternetGatewayId VpcId VpnGatewayId",
            vec![("VpcId", string().required())],
            vec![],
        ),
        "AWS::EC2::RouteTable" => resource(
            plugin,
            "Tags VpcId",
            vec![("VpcId", string().required())],
            vec![],
        ),
        "OS::Nova::Server" => resource(
            plugin,
            "admin_pass admin_user availability_zone block_device_mapping \
             block_device_mapping_v2 config_drive deployment_swift_data diskConfig flavor \
             flavor_update_policy image image_update_policy key_name metadata name networks \
             personality reservation_id scheduler_hints security_groups \
             software_config_transport tags user_data user_data_format user_data_update_policy",
            vec![("networks", list_of(server_network()))],
            vec![],
        ),
        // Accepts any properties in the template but reads them all through an empty
        // schema: `.get` gives None, `[]` a KeyError.
        "OS::Heat::None" => resource(plugin, "", vec![], vec![]),
        _ => return None,
    })
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

/// The property schema of a provider-template resource (`TemplateResource`): one
/// property per parameter of the template. `Schema.from_parameter` keeps no default
/// (the nested stack applies it) but makes a parameter without one required; `json`
/// and `comma_delimited_list` parameters allow string conversion. No translation rules.
pub fn template_schema(owner: &str, parameters: &[(String, TemplateParameter)]) -> ResourceSchema {
    let props: Vec<(String, Schema)> = parameters
        .iter()
        .map(|(name, p)| {
            let (kind, allow_conversion) = match p.kind {
                ParameterKind::String => (Kind::String, false),
                ParameterKind::Number => (Kind::Number, false),
                ParameterKind::Boolean => (Kind::Boolean, false),
                ParameterKind::Json => (Kind::Map(None), true),
                ParameterKind::CommaDelimitedList => (Kind::List(None), true),
            };
            (
                name.clone(),
                Schema {
                    kind,
                    required: !p.has_default,
                    default: None,
                    allow_conversion,
                },
            )
        })
        .collect();
    ResourceSchema {
        names: props.iter().map(|(n, _)| n.clone()).collect(),
        props,
        renames: vec![],
        owner: owner.to_string(),
    }
}

// ----------------------------------------------------------------------------- reading

/// The resolved template value of one top-level property: `Ok(None)` when not given.
pub type Given<'a> = dyn Fn(&str) -> Result<Option<Value>, PropertyError> + 'a;

impl ResourceSchema {
    fn schema_of(&self, prop: &str) -> Result<&Schema, Failure> {
        if !self.names.iter().any(|n| n == prop) {
            return Err(Failure::NoSuchProperty(format!("Invalid Property {prop}")));
        }
        self.props
            .iter()
            .find(|(n, _)| n == prop)
            .map(|(_, s)| s)
            .ok_or_else(|| Failure::Unmodelled(format!("property {prop} of {}", self.owner)))
    }

    /// Heat's `res.properties.get(prop)`: like `[]`, but an unknown name gives None.
    pub fn get(&self, given: &Given, prop: &str) -> Result<Value, Failure> {
        match self.item(given, prop) {
            Err(Failure::NoSuchProperty(_)) => Ok(Value::Null),
            other => other,
        }
    }

    /// Heat's `res.properties[prop]` for a stack whose RESOLVE rules are off.
    pub fn item(&self, given: &Given, prop: &str) -> Result<Value, Failure> {
        let schema = self.schema_of(prop)?;
        // The deprecated side of a REPLACE rule reads as if it were not given.
        if self.renames.iter().any(|r| r.old == prop) {
            return unset(schema, prop);
        }
        let source = self.renames.iter().find(|r| r.new == prop).map(|r| r.old);
        match given(prop) {
            // Heat turns any exception of the function resolver into a ValueError.
            Err(PropertyError(m)) => Err(Failure::Invalid(m)),
            Ok(Some(value)) => {
                let value = match source {
                    None => value,
                    Some(old) => {
                        // Read inside `_resolve_user_value`'s try: any error is a ValueError.
                        let old_value = self.plain(given, old).map_err(as_value_error)?;
                        if truthy(&old_value) && truthy(&value) {
                            return Err(conflict(prop, old));
                        }
                        if old_value.is_null() {
                            value
                        } else {
                            old_value
                        }
                    }
                };
                coerce(schema, &value, prop).map_err(as_value_error)
            }
            Ok(None) => {
                if let Some(old) = source {
                    let old_value = self.plain(given, old)?;
                    if !old_value.is_null() || schema.default.is_some() {
                        return coerce(schema, &old_value, prop);
                    }
                }
                unset(schema, prop)
            }
        }
    }

    /// A property read with translation switched off (how a REPLACE rule reads its source).
    fn plain(&self, given: &Given, prop: &str) -> Result<Value, Failure> {
        let schema = self.schema_of(prop)?;
        match given(prop) {
            Err(PropertyError(m)) => Err(Failure::Invalid(m)),
            Ok(Some(value)) => coerce(schema, &value, prop).map_err(as_value_error),
            Ok(None) => unset(schema, prop),
        }
    }
}

/// `_resolve_user_value` wraps every exception except StackValidationFailed in a ValueError.
fn as_value_error(f: Failure) -> Failure {
    match f {
        Failure::WrongShape(m) | Failure::NoSuchProperty(m) => Failure::Invalid(m),
        other => other,
    }
}

fn conflict(new: &str, old: &str) -> Failure {
    Failure::Conflict(format!(
        "Cannot define the following properties at the same time: {new}, {old}"
    ))
}

/// A property not given: its default (coerced), else ValueError if required, else None.
fn unset(schema: &Schema, prop: &str) -> Result<Value, Failure> {
    if schema.default.is_some() {
        coerce(schema, &Value::Null, prop)
    } else if schema.required {
        Err(Failure::Invalid(format!("Property {prop} not assigned")))
    } else {
        Ok(Value::Null)
    }
}

/// Python's `has_default() and default() or fallback`, which Heat uses for most types:
/// a falsy default is replaced by the fallback too.
fn default_or(schema: &Schema, fallback: Value) -> Value {
    match &schema.default {
        Some(d) if truthy(d) => d.clone(),
        _ => fallback,
    }
}

/// `Property.get_value(value)` without constraint validation. `Null` is Python's None.
pub fn coerce(schema: &Schema, value: &Value, path: &str) -> Result<Value, Failure> {
    match &schema.kind {
        Kind::String => {
            let v = if value.is_null() {
                default_or(schema, Value::String(String::new()))
            } else {
                value.clone()
            };
            match v {
                Value::String(_) => Ok(v),
                Value::Bool(b) => Ok(Value::String(if b { "True" } else { "False" }.into())),
                Value::Number(n) if !n.is_f64() => Ok(Value::String(n.to_string())),
                other => Err(Failure::Invalid(format!(
                    "Value must be a string; got {other}"
                ))),
            }
        }
        Kind::Number => {
            let v = if value.is_null() {
                default_or(schema, Value::from(0))
            } else {
                value.clone()
            };
            match v {
                Value::Number(_) | Value::Bool(_) => Ok(v),
                Value::String(s) => str_to_num(&s),
                other => Err(Failure::Invalid(format!("invalid number {other}"))),
            }
        }
        Kind::Boolean => {
            let v = if value.is_null() {
                default_or(schema, Value::Bool(false))
            } else {
                value.clone()
            };
            match v {
                Value::Bool(_) => Ok(v),
                Value::String(s) => match s.to_lowercase().as_str() {
                    "true" => Ok(Value::Bool(true)),
                    "false" => Ok(Value::Bool(false)),
                    other => Err(Failure::Invalid(format!(
                        "\"{other}\" is not a valid boolean"
                    ))),
                },
                other => Err(Failure::Invalid(format!(
                    "\"{other}\" is not a valid boolean"
                ))),
            }
        }
        Kind::Map(fields) => {
            // `_get_map` uses a plain conditional here, not the `and/or` idiom.
            let v = if value.is_null() {
                schema
                    .default
                    .clone()
                    .unwrap_or_else(|| Value::Object(Map::new()))
            } else {
                value.clone()
            };
            match (v, fields) {
                (Value::Object(o), Some(ms)) => read_map(ms, &o, path),
                (Value::Object(o), None) => Ok(Value::Object(o)),
                (Value::String(s), _) if schema.allow_conversion => Ok(Value::String(s)),
                (Value::Array(_), _) if schema.allow_conversion => Err(Failure::Unmodelled(
                    format!("{path}: json.dumps of a list given for a map"),
                )),
                (other, _) => Err(Failure::Invalid(format!("\"{other}\" is not a map"))),
            }
        }
        Kind::List(item) => {
            let v = if value.is_null() {
                default_or(schema, Value::Array(vec![]))
            } else {
                value.clone()
            };
            let v = match v {
                Value::String(s) if schema.allow_conversion => Value::Array(if s.is_empty() {
                    vec![]
                } else {
                    s.split(',').map(|p| Value::String(p.to_string())).collect()
                }),
                other => other,
            };
            match (v, item) {
                (Value::Array(items), Some(item)) => items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| coerce(item, x, &format!("{path}.{i}")))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::Array),
                (Value::Array(items), None) => Ok(Value::Array(items)),
                (other, _) => Err(Failure::Invalid(format!("\"{other}\" is not a list"))),
            }
        }
    }
}

/// `Schema.str_to_num`: `int(s)`, else `float(s)`.
fn str_to_num(s: &str) -> Result<Value, Failure> {
    let t = s.trim();
    if let Ok(i) = t.trim_start_matches('+').parse::<i64>() {
        return Ok(Value::from(i));
    }
    match t.parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(Value::from(f)),
        Ok(_) => Err(Failure::Unmodelled(format!("non-finite number {s:?}"))),
        Err(_) => Err(Failure::Invalid(format!(
            "could not convert string to float: {s:?}"
        ))),
    }
}

/// A map with a schema is read through a nested `Properties`: every schema key is read
/// (unknown keys dropped), with the `value_name` REPLACE rules applied on the raw dict.
fn read_map(ms: &MapSchema, data: &Map<String, Value>, path: &str) -> Result<Value, Failure> {
    let mut out = Map::new();
    for (key, schema) in &ms.fields {
        let here = format!("{path}.{key}");
        let value = if ms.renames.iter().any(|r| r.old == key) {
            unset(schema, key)?
        } else {
            let source = ms.renames.iter().find(|r| r.new == key).map(|r| r.old);
            // The source is read raw from the dict (not coerced), as `get_value` does.
            let raw_source = |old: &str| data.get(old).cloned().unwrap_or(Value::Null);
            match (data.get(key), source) {
                (Some(v), None) => coerce(schema, v, &here)?,
                (Some(v), Some(old)) => {
                    let old_value = raw_source(old);
                    if truthy(&old_value) && truthy(v) {
                        return Err(conflict(&here, old));
                    }
                    coerce(
                        schema,
                        if old_value.is_null() { v } else { &old_value },
                        &here,
                    )?
                }
                (None, Some(old)) if !raw_source(old).is_null() || schema.default.is_some() => {
                    coerce(schema, &raw_source(old), &here)?
                }
                (None, _) => unset(schema, key)?,
            }
        };
        out.insert(key.clone(), value);
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn given_from(props: Value) -> impl Fn(&str) -> Result<Option<Value>, PropertyError> {
        move |p: &str| Ok(props.get(p).cloned())
    }

    fn port() -> ResourceSchema {
        plugin_schema("OS::Neutron::Port").expect("port schema")
    }

    #[test]
    fn string_coercion_follows_property_get_string() {
        let s = string();
        assert_eq!(coerce(&s, &Value::Null, "p"), Ok(json!("")));
        assert_eq!(coerce(&s, &json!(5), "p"), Ok(json!("5")));
        assert_eq!(coerce(&s, &json!(true), "p"), Ok(json!("True")));
        assert!(matches!(
            coerce(&s, &json!(1.5), "p"),
            Err(Failure::Invalid(_))
        ));
        assert!(matches!(
            coerce(&s, &json!(["a"]), "p"),
            Err(Failure::Invalid(_))
        ));
    }

    #[test]
    fn deprecated_name_moves_onto_new_name() {
        let g = given_from(json!({"network_id": "n1"}));
        assert_eq!(port().item(&g, "network"), Ok(json!("n1")));
        // the deprecated name itself now reads as not given
        assert_eq!(port().item(&g, "network_id"), Ok(Value::Null));
    }

    #[test]
    fn old_name_null_wins_over_new_name() {
        // replace(): `value if value is not None else prop_value`, and a given null
        // string reads as '' (not None), so the old name's '' replaces the new value.
        let g = given_from(json!({"network": "n1", "network_id": null}));
        assert_eq!(port().item(&g, "network"), Ok(json!("")));
    }

    #[test]
    fn both_names_set_is_a_conflict() {
        let g = given_from(json!({"network": "n1", "network_id": "n1"}));
        assert!(matches!(
            port().item(&g, "network"),
            Err(Failure::Conflict(_))
        ));
    }

    #[test]
    fn missing_required_is_value_error_and_unknown_name_is_key_error() {
        let g = given_from(json!({}));
        assert!(matches!(
            port().item(&g, "network"),
            Err(Failure::Invalid(_))
        ));
        assert!(matches!(
            port().item(&g, "router"),
            Err(Failure::NoSuchProperty(_))
        ));
        assert_eq!(port().get(&g, "router"), Ok(Value::Null));
    }

    #[test]
    fn unresolvable_function_is_value_error() {
        let g = |_: &str| Err(PropertyError("boom".into()));
        assert!(matches!(
            port().item(&g, "network"),
            Err(Failure::Invalid(_))
        ));
    }

    #[test]
    fn fixed_ips_items_get_every_key_and_subnet_id_moves_onto_subnet() {
        let g = given_from(
            json!({"network": "n", "fixed_ips": [{"ip_address": "10.0.0.5"}, {"subnet_id": "s2", "junk": 1}]}),
        );
        assert_eq!(
            port().item(&g, "fixed_ips"),
            Ok(json!([
                {"subnet_id": null, "subnet": null, "ip_address": "10.0.0.5"},
                {"subnet_id": null, "subnet": "s2", "ip_address": null}
            ]))
        );
        let g = given_from(json!({"fixed_ips": [{"subnet": "a", "subnet_id": "b"}]}));
        assert!(matches!(
            port().item(&g, "fixed_ips"),
            Err(Failure::Conflict(_))
        ));
    }

    #[test]
    fn server_networks_uuid_moves_onto_network_and_defaults_fill_port_extra_properties() {
        let server = plugin_schema("OS::Nova::Server").expect("server schema");
        let g = given_from(json!({"networks": [{"uuid": "u1", "port_extra_properties": {}}]}));
        let nets = server.item(&g, "networks").expect("networks");
        assert_eq!(nets[0]["network"], json!("u1"));
        assert_eq!(nets[0]["uuid"], Value::Null);
        assert_eq!(
            nets[0]["port_extra_properties"]["admin_state_up"],
            json!(true)
        );
        assert_eq!(
            nets[0]["port_extra_properties"]["binding:vnic_type"],
            json!("normal")
        );
        assert_eq!(
            nets[0]["port_extra_properties"]["no_fixed_ips"],
            json!(false)
        );
        assert_eq!(nets[0]["port_extra_properties"]["value_specs"], json!({}));
        let g = given_from(
            json!({"networks": [{"port_extra_properties": {"admin_state_up": "maybe"}}]}),
        );
        assert!(matches!(
            server.item(&g, "networks"),
            Err(Failure::Invalid(_))
        ));
        let g = given_from(json!({"networks": "net1"}));
        assert!(matches!(
            server.item(&g, "networks"),
            Err(Failure::Invalid(_))
        ));
    }

    #[test]
    fn router_gateway_map_reads_all_keys_and_requires_network() {
        let router = plugin_schema("OS::Neutron::Router").expect("router schema");
        let g = given_from(json!({"external_gateway_info": {"network": "public"}}));
        assert_eq!(
            router.item(&g, "external_gateway_info"),
            Ok(json!({"network": "public", "enable_snat": null, "external_fixed_ips": null}))
        );
        // A null map reads as {} and then misses its required key.
        let g = given_from(json!({"external_gateway_info": null}));
        assert!(matches!(
            router.item(&g, "external_gateway_info"),
            Err(Failure::Invalid(_))
        ));
        let g = given_from(json!({}));
        assert_eq!(router.item(&g, "external_gateway_info"), Ok(Value::Null));
    }

    #[test]
    fn template_facade_properties_come_from_parameters() {
        let t = template_schema(
            "subnet.yaml",
            &[
                (
                    "network".into(),
                    TemplateParameter {
                        kind: ParameterKind::String,
                        has_default: false,
                    },
                ),
                (
                    "ids".into(),
                    TemplateParameter {
                        kind: ParameterKind::CommaDelimitedList,
                        has_default: true,
                    },
                ),
            ],
        );
        let g = given_from(json!({"ids": "a,b"}));
        assert!(matches!(t.item(&g, "network"), Err(Failure::Invalid(_)))); // required: no default
        assert_eq!(t.item(&g, "ids"), Ok(json!(["a", "b"])));
        assert_eq!(t.get(&g, "network_id"), Ok(Value::Null));
        assert!(matches!(
            t.item(&g, "network_id"),
            Err(Failure::NoSuchProperty(_))
        ));
    }

    #[test]
    fn none_resource_has_no_properties() {
        let none = plugin_schema("OS::Heat::None").expect("none schema");
        let g = given_from(json!({"network": "n1"}));
        assert_eq!(none.get(&g, "network"), Ok(Value::Null));
        assert!(matches!(
            none.item(&g, "network"),
            Err(Failure::NoSuchProperty(_))
        ));
    }
}
