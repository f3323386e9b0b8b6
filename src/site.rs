//! What the cloud's Heat installation gives every command that reads stacks: its global
//! environment, the key of its encrypted hidden parameters, the resource plugins of its
//! `plugin_dirs`, and (where there is one) its own Python, for the graphs only Heat's
//! code can compute. One value, built once per command, shared by `migrate`, `plan`,
//! `status`, `verify` and `graph`, so that all of them see the same Heat.

use crate::crypt::Key;
use crate::environment::Registry;
use crate::plugins::heat_python::{HeatGraph, HeatPython};
use crate::plugins::{Catalog, How, PluginType};
use anyhow::{anyhow, Result};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct HeatSite {
    /// Heat's global environment (`environment_dir`).
    pub global: Registry,
    /// heat.conf's `auth_encryption_key` (None: it sets none), for hidden parameters.
    pub key: Option<Key>,
    /// The third-party types of `plugin_dirs`.
    pub plugins: Arc<Catalog>,
    /// The Heat installation's Python, when one was given or found.
    heat: Option<Mutex<HeatPython>>,
    /// The third-party types the stacks read so far use: type -> resources.
    used: Mutex<BTreeMap<String, (PluginType, usize)>>,
}

impl std::fmt::Debug for HeatSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeatSite")
            .field("plugin_types", &self.plugins.types.len())
            .field("heat_python", &self.heat.is_some())
            .finish()
    }
}

/// One third-party type in use, for `status`.
#[derive(Clone, Debug)]
pub struct TypeInUse {
    pub plugin: PluginType,
    /// Resources of that type among the stacks read.
    pub resources: usize,
}

impl HeatSite {
    pub fn new(
        global: Registry,
        key: Option<Key>,
        plugins: Catalog,
        heat: Option<HeatPython>,
    ) -> HeatSite {
        HeatSite {
            global,
            key,
            plugins: Arc::new(plugins),
            heat: heat.map(Mutex::new),
            used: Mutex::default(),
        }
    }

    /// The Heat Python in words, if there is one.
    pub fn heat_python(&self) -> Option<String> {
        let heat = self.heat.as_ref()?.lock().ok()?;
        Some(heat.describe())
    }

    /// Notes the third-party types of a stack's resources.
    pub fn note_use<'a>(&self, plugins: impl Iterator<Item = &'a PluginType>) {
        if let Ok(mut used) = self.used.lock() {
            for p in plugins {
                used.entry(p.type_name.clone())
                    .or_insert_with(|| (p.clone(), 0))
                    .1 += 1;
            }
        }
    }

    /// Every third-party type the stacks read so far use.
    pub fn types_in_use(&self) -> Vec<TypeInUse> {
        self.used
            .lock()
            .map(|u| {
                u.values()
                    .map(|(p, n)| TypeInUse {
                        plugin: with_heat_python(p, self.heat.is_some()),
                        resources: *n,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Heat's own graph of a stored stack, from the Heat installation's Python; an error
    /// when there is none or it cannot answer.
    pub fn heat_graph(&self, stack_id: &str, project: &str) -> Result<HeatGraph> {
        let heat = self
            .heat
            .as_ref()
            .ok_or_else(|| anyhow!("no Heat Python"))?;
        let mut heat = heat
            .lock()
            .map_err(|_| anyhow!("Heat's Python is unusable"))?;
        heat.stack_graph(stack_id, project)
    }

    /// Heat's own graph of a new stack (`graph --template`).
    pub fn heat_template_graph(
        &self,
        template: &serde_json::Value,
        environment: &serde_json::Value,
        files: &BTreeMap<String, String>,
    ) -> Result<HeatGraph> {
        let heat = self
            .heat
            .as_ref()
            .ok_or_else(|| anyhow!("no Heat Python"))?;
        let mut heat = heat
            .lock()
            .map_err(|_| anyhow!("Heat's Python is unusable"))?;
        heat.template_graph(template, environment, files)
    }

    /// Whether Heat's own loader registers `plugin` as heat-converge read it (the same
    /// class): asked of the Heat Python, whose registry is the truth where there is one (a
    /// module whose import fails there, say for a vendor SDK removed since, registers
    /// nothing). `None` when there is no Heat Python or it cannot start.
    pub fn heat_registers(&self, plugin: &PluginType) -> Option<bool> {
        let heat = self.heat.as_ref()?;
        let mut heat = heat.lock().ok()?;
        heat.ensure_started().ok()?;
        let last = |c: &str| c.rsplit('.').next().unwrap_or(c).to_string();
        Some(
            heat.types
                .get(&plugin.type_name)
                .is_some_and(|(class, _)| last(class) == last(&plugin.class)),
        )
    }

    pub fn has_heat_python(&self) -> bool {
        self.heat.is_some()
    }
}

/// A type as `status` reports it: with a Heat Python, "needs Heat" means "computed by it".
fn with_heat_python(p: &PluginType, heat: bool) -> PluginType {
    let mut p = p.clone();
    if let (How::NeedsHeat(why), false) = (&p.how, heat) {
        p.how = How::NeedsHeat(format!("{why}; no Heat Python: such trees are left alone"));
    }
    p
}
