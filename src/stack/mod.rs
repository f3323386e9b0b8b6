//! A stack definition: a template with its environment and parameters, its conditions
//! evaluated and its resource definitions parsed, as Heat's `StackDefinition` holds them.
//!
//! This is what the dependency graph is read from. It knows nothing of databases: a stored
//! stack is given as its template, environment and the physical ids of its resources.
//!
//! The definition's data lives here; what is done with it is split by concern:
//! `conditions` (Heat's `Conditions`), `resources` (parsing resource definitions) and
//! `resolve` (intrinsic functions evaluated as Heat does before any resource exists).

mod conditions;
mod resolve;
mod resources;

pub use resolve::{is_unknowable, Unknowable};

use crate::environment::{Environment, Plugin, Resolver};
use crate::parameters::{Parameters, StackIdentity};
use crate::template::snippet::Snippet;
use crate::template::Template;
use anyhow::Result;
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

/// One enabled resource of the stack, its definition parsed.
#[derive(Clone, Debug)]
pub struct ResourceDefinition {
    pub name: String,
    /// The type as written in the template (what Heat's `resource.type()` says).
    pub type_name: String,
    /// The plugin the environment maps the type to.
    pub plugin: Plugin,
    pub properties: Option<Snippet>,
    pub metadata: Option<Snippet>,
    pub depends_on: Vec<String>,
    pub external_id: Option<Snippet>,
}

/// Where the evaluation of one condition stands (to find circular definitions).
#[derive(Clone, Debug)]
enum CondState {
    InProgress,
    Done(bool),
}

/// A stack as Heat defines it before (or without) touching any physical resource.
pub struct StackDefinition {
    pub template: Template,
    pub parameters: Parameters,
    pub resolver: Resolver,
    /// Enabled resources, in template order.
    pub resources: Vec<ResourceDefinition>,
    all_names: BTreeSet<String>,
    condition_defns: Map<String, Value>,
    parsed_conditions: RefCell<HashMap<String, Snippet>>,
    condition_state: RefCell<HashMap<String, CondState>>,
    /// Files given with the template (provider templates, `get_file` targets), by the
    /// name the template uses (shared: every stack of a tree usually has the same).
    pub files: std::sync::Arc<HashMap<String, String>>,
    /// The environment's `parameter_defaults`: they also reach nested provider templates.
    pub parameter_defaults: Map<String, Value>,
    mappings: Map<String, Value>,
}

impl StackDefinition {
    /// Defines the stack; fails where Heat would refuse the template.
    pub fn new(
        template: Template,
        env: &Environment,
        resolver: Resolver,
        identity: &StackIdentity,
        files: impl Into<std::sync::Arc<HashMap<String, String>>>,
    ) -> Result<StackDefinition> {
        let parameters = Parameters::new(&template, env, identity)?;
        let condition_defns = template.conditions()?;
        let mut stack = StackDefinition {
            all_names: template.resource_names().into_iter().collect(),
            mappings: template.mappings(),
            template,
            parameters,
            resolver,
            resources: Vec::new(),
            condition_defns,
            parsed_conditions: RefCell::new(HashMap::new()),
            condition_state: RefCell::new(HashMap::new()),
            files: files.into(),
            parameter_defaults: env.parameter_defaults.clone(),
        };
        stack.parse_conditions()?;
        stack.resources = stack.resource_definitions()?;
        Ok(stack)
    }

    fn origin(&self) -> &str {
        &self.template.origin
    }
}
