//! Heat's property layer, as far as the implicit dependency rules read it. It knows no
//! plugin: each plugin family's schema lives with its rule in `graph::implicit`.
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

mod coerce;
mod failure;
mod schema;
mod template;
mod translation;

pub use coerce::coerce;
pub use failure::{Failure, PropertyError};
pub use schema::{
    boolean, list_of, map_of, rename, resource, schema, string, Kind, MapSchema, Rename,
    ResourceSchema, Schema,
};
pub use template::{template_schema, ParameterKind, TemplateParameter};
pub use translation::Given;
