//! OS::Heat plugins the rules may meet behind an interface: OS::Heat::None, to which an
//! environment maps a type to switch it off. It has no rule.

use super::rule::PluginClass;
use crate::properties::{resource, ResourceSchema};

const NONE: &str = "OS::Heat::None";

pub const PLUGINS: &[PluginClass] = &[PluginClass {
    name: NONE,
    rule: None,
    schema: none_schema,
}];

/// Accepts any properties in the template but reads them all through an empty schema:
/// `.get` gives None, `[]` a KeyError.
fn none_schema() -> ResourceSchema {
    resource(NONE, "", vec![], vec![])
}
