//! heat-converge: converts OpenStack Heat's legacy stacks to the convergence engine,
//! straight in Heat's database, with Heat's own semantics.
//!
//! - [`template`]: Heat templates (HOT and CFN), their function tables and snippets;
//! - [`environment`], [`parameters`]: what a stack was created with;
//! - [`stack`]: a stack definition (conditions evaluated, resources parsed);
//! - [`graph`]: the dependency graph Heat would compute for it;
//! - [`properties`]: Heat's property layer, which the graph's implicit rules read through;
//! - [`python`]: Python's semantics (`==`, truthiness, `str()`), which Heat's code has.

pub mod config;
pub mod convert;
pub mod db;
pub mod environment;
pub mod graph;
pub mod parameters;
pub mod properties;
pub mod python;
pub mod report;
pub mod source;
pub mod stack;
pub mod template;
