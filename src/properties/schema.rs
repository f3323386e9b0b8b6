//! Property schemas: what Heat knows of a resource's properties, as far as the implicit
//! rules read them (types, required, defaults, REPLACE rules), and builders to write a
//! plugin's schema next to its rule.

use serde_json::Value;

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

pub fn schema(kind: Kind) -> Schema {
    Schema {
        kind,
        required: false,
        default: None,
        allow_conversion: false,
    }
}
pub fn string() -> Schema {
    schema(Kind::String)
}
pub fn boolean() -> Schema {
    schema(Kind::Boolean)
}
pub fn map_of(fields: Vec<(&str, Schema)>, renames: Vec<Rename>) -> Schema {
    schema(Kind::Map(Some(MapSchema {
        fields: fields
            .into_iter()
            .map(|(k, s)| (k.to_string(), s))
            .collect(),
        renames,
    })))
}
pub fn list_of(item: Schema) -> Schema {
    schema(Kind::List(Some(Box::new(item))))
}
impl Schema {
    pub fn required(mut self) -> Schema {
        self.required = true;
        self
    }
    pub fn default(mut self, v: Value) -> Schema {
        self.default = Some(v);
        self
    }
}

/// A plugin's schema. `names`: every property name of the plugin, whitespace-separated.
pub fn resource(
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

/// A REPLACE rule of a plugin: deprecated `old` moves onto `new`.
pub fn rename(new: &'static str, old: &'static str) -> Rename {
    Rename { new, old }
}
