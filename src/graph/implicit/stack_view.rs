//! What the implicit rules see of a stack, and what they answer: the rules are written
//! against this trait so that they can be tested on a stack made up in the test.

use serde_json::Value;

use crate::properties::{Failure, PropertyError, TemplateParameter};

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

/// The class behind a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Implementation {
    /// A Python plugin, by the name it is registered under, e.g. `OS::Neutron::Port`,
    /// `OS::Heat::None`.
    Plugin(String),
    /// A provider template (`TemplateResource`): its properties are the template's
    /// parameters, in template order. An unloadable template has none.
    Template(Vec<(String, TemplateParameter)>),
    /// A third-party plugin class with no rule of its own that heat-converge runs, and
    /// properties it cannot read (named: type, class, file).
    Opaque(String),
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
