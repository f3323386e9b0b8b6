//! Explicit dependencies: what the template itself says a resource needs.
//!
//! Heat's `ResourceDefinition.required_resource_names` and `.dependencies`:
//! - `depends_on` names, plus every resource referenced in properties and metadata;
//! - a reference to a resource that is not in the stack rejects the template, except a
//!   `depends_on` on a resource whose condition is false, which is silently dropped;
//! - a resource with an `external_id` depends on nothing (and may not use `depends_on`).

use crate::python;
use crate::stack::{ResourceDefinition, StackDefinition};
use anyhow::{anyhow, bail, Result};
use std::collections::BTreeSet;

/// The names `res` depends on by what its definition says.
pub fn requirements(stack: &StackDefinition, res: &ResourceDefinition) -> Result<BTreeSet<String>> {
    let origin = &stack.template.origin;
    let section = if stack.template.is_hot() {
        "resources"
    } else {
        "Resources"
    };
    if is_external(stack, res)? {
        if !res.depends_on.is_empty() {
            bail!(
                "{origin}: {section}.{}: a resource with an external id may not depend on other resources",
                res.name
            );
        }
        return Ok(BTreeSet::new());
    }
    let mut names = BTreeSet::new();
    for dep in &res.depends_on {
        if stack.has_resource(dep) {
            names.insert(dep.clone());
        } else if !stack.in_template(dep) {
            bail!(
                "{origin}: The specified reference \"{dep}\" (in {}) is incorrect.",
                res.name
            );
        }
    }
    let resolve_name = |s: &crate::template::snippet::Snippet| stack.resolve(s);
    for snippet in [&res.properties, &res.metadata].into_iter().flatten() {
        let refs = snippet
            .referenced_resources(&resolve_name)
            .map_err(|e| anyhow!("{origin}: {e:#}"))?;
        for r in refs {
            if !stack.has_resource(&r.name) {
                bail!(
                    "{origin}: The specified reference \"{}\" (in {}) is incorrect.",
                    r.name,
                    r.path
                );
            }
            names.insert(r.name);
        }
    }
    Ok(names)
}

/// Heat treats a resource as external when its resolved `external_id` is truthy.
fn is_external(stack: &StackDefinition, res: &ResourceDefinition) -> Result<bool> {
    let Some(ext) = &res.external_id else {
        return Ok(false);
    };
    let v = stack.resolve(ext)?;
    Ok(python::truthy(&v))
}
