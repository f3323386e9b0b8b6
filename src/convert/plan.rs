//! The row changes that convert one tree, computed before anything is written, as Heat's
//! `Stack.migrate_to_convergence` makes them for each stack of the tree:
//! - an active resource (any row but DELETE_COMPLETE) whose name is not in the stack's
//!   current template (conditions applied) is deleted, with its `resource_data` and its
//!   attribute data row;
//! - every other active resource gets `current_template_id` = the stack's template and
//!   `requires` = the ids of the resources it depends on, sorted descending; `needed_by`
//!   gets the reverse edges (Heat itself stopped writing it; older releases read it);
//! - the stack gets `convergence`, a new `current_traversal`, no `prev_raw_template_id`,
//!   and its previous template is deleted (with its files row when nothing else uses it).

use super::eligibility::Blocker;
use super::fingerprint::Fingerprint;
use super::tree::Tree;
use crate::db::read::ResourceRow;
use crate::db::read::{RawTemplateRow, StackRow};
use crate::graph::{Graph, NeedsHeat};
use crate::site::HeatSite;
use std::collections::{BTreeMap, HashMap};

/// One resource to convert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceChange {
    pub id: i64,
    pub name: String,
    /// Ids, descending, as Heat writes them.
    pub requires: Vec<i64>,
    pub needed_by: Vec<i64>,
}

/// One resource row to delete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceDeletion {
    pub id: i64,
    pub uuid: Option<String>,
    pub name: String,
    /// Its type, as the stack's previous template declared it (None when that template
    /// is gone or does not name it).
    pub type_name: Option<String>,
    /// The cloud resource the row points at (`nova_instance`): what an operator checks
    /// is not orphaned.
    pub physical_id: Option<String>,
    pub action: String,
    pub status: String,
    pub attr_data_id: Option<i64>,
}

impl ResourceDeletion {
    /// The deletion as the plan file and the JSON output show it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "uuid": self.uuid,
            "name": self.name,
            "type": self.type_name,
            "physical_id": self.physical_id,
            "action": self.action,
            "status": self.status,
            "reason": NOT_IN_TEMPLATE,
        })
    }
}

/// Why a resource row is deleted: Heat's `migrate_to_convergence` deletes the rows of
/// resources that its current template (conditions applied) does not define.
pub const NOT_IN_TEMPLATE: &str = "not in the stack's current template (conditions applied)";
/// Why a stack's previous template is deleted: the convergence engine keeps none.
pub const PREVIOUS_TEMPLATE: &str =
    "the stack's previous template (prev_raw_template_id), which convergence does not keep";

#[derive(Clone, Debug)]
pub struct StackPlan {
    pub stack: StackRow,
    pub template_id: i64,
    pub converts: Vec<ResourceChange>,
    pub deletes: Vec<ResourceDeletion>,
    /// Resources of the template that depend on each other in a circle (each group sorted).
    /// Heat's conversion writes their `requires` as they are; so do we, and say so.
    pub cycles: Vec<Vec<String>>,
}

#[derive(Clone, Debug)]
pub struct TreePlan {
    pub root_id: String,
    pub stacks: Vec<StackPlan>,
    /// The rows this plan was made from (see [`super::fingerprint`]); empty unless the run
    /// asked for fingerprints.
    pub fingerprint: Fingerprint,
    /// Convert only while the tree's rows, read again under the conversion's locks, still
    /// have this fingerprint (`migrate --plan`).
    pub must_match: Option<String>,
}

impl TreePlan {
    pub fn resources_converted(&self) -> usize {
        self.stacks.iter().map(|s| s.converts.len()).sum()
    }
    pub fn resources_deleted(&self) -> usize {
        self.stacks.iter().map(|s| s.deletes.len()).sum()
    }
    /// What the operator must hear about a tree converted as Heat converts it.
    pub fn warnings(&self) -> Vec<String> {
        self.stacks
            .iter()
            .flat_map(|sp| {
                sp.cycles.iter().map(move |group| {
                    format!(
                        "stack {} ({}): resources {} depend on each other in a cycle; their requires are written as Heat's own conversion writes them, but no engine can update or delete the stack until its template is fixed",
                        sp.stack.name,
                        sp.stack.id,
                        group.join(", ")
                    )
                })
            })
            .collect()
    }
    /// Every row change of the plan, as the plan file holds it (and as `migrate --plan`
    /// compares it): per stack, its template, the resources it converts and the rows it
    /// deletes, with the reasons.
    pub fn changes_json(&self) -> serde_json::Value {
        serde_json::Value::from(
            self.stacks
                .iter()
                .map(|sp| {
                    serde_json::json!({
                        "id": &*sp.stack.id,
                        "name": sp.stack.name,
                        "current_template_id": sp.template_id,
                        "resources": sp.converts.iter().map(|c| serde_json::json!({
                            "id": c.id,
                            "name": c.name,
                            "requires": c.requires,
                            "needed_by": c.needed_by,
                        })).collect::<Vec<_>>(),
                        "delete_resources": sp.deletes.iter().map(ResourceDeletion::to_json).collect::<Vec<_>>(),
                        "delete_templates": sp.stack.prev_raw_template_id.iter().map(|t| serde_json::json!({
                            "id": t,
                            "reason": PREVIOUS_TEMPLATE,
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect::<Vec<_>>(),
        )
    }
    pub fn templates_deleted(&self) -> usize {
        self.stacks
            .iter()
            .filter(|s| s.stack.prev_raw_template_id.is_some())
            .count()
    }
    /// What the plan would change, as a report keeps it: counts and the rows it deletes,
    /// not the plan (a run keeps one of these per tree, not every tree's plan).
    pub fn changes(&self) -> Changes {
        Changes {
            stacks: self.stacks.len(),
            resources_converted: self.resources_converted(),
            resources_deleted: self.resources_deleted(),
            templates_deleted: self.templates_deleted(),
            deleted: self
                .stacks
                .iter()
                .flat_map(|sp| {
                    sp.deletes
                        .iter()
                        .map(|d| (sp.stack.name.clone(), d.clone()))
                })
                .collect(),
            templates: self
                .stacks
                .iter()
                .filter_map(|sp| {
                    sp.stack
                        .prev_raw_template_id
                        .map(|t| (sp.stack.name.clone(), t))
                })
                .collect(),
        }
    }
}

/// What a tree's conversion changes (dry run) or changed (real run), as reports show it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub stacks: usize,
    pub resources_converted: usize,
    pub resources_deleted: usize,
    pub templates_deleted: usize,
    /// Every resource row deleted, with its stack's name: what the operator checks.
    pub deleted: Vec<(String, ResourceDeletion)>,
    /// Every previous template deleted (its stack's name, its id).
    pub templates: Vec<(String, i64)>,
}

/// A JSON list of ids as Heat's JSON column writes it (Python's `json.dumps`: `[9, 4]`).
pub fn id_list(ids: &[i64]) -> String {
    let parts: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!("[{}]", parts.join(", "))
}

/// The plan for one tree, or why it cannot be converted.
///
/// Only its legacy stacks are planned: a stack of a legacy tree that already runs on
/// convergence is left as it is, as Heat's migrate_convergence_1 leaves it (`if not
/// st.convergence`). Such a tree is what a legacy engine leaves behind when it loaded
/// the root before a conversion committed and took its lock after: its `Stack.store()`
/// writes `convergence = 0` back on the root, while the nested stacks it then updates
/// are loaded afresh, as converted, and stay so (tests/running_engines.rs).
/// Stacks of one tree planned together on one thread: a small tree stays on its thread.
const STACKS_PER_TASK: usize = 64;

pub fn plan_tree(
    tree: &Tree,
    resources: &HashMap<String, Vec<ResourceRow>>,
    templates: &HashMap<i64, Result<RawTemplateRow, String>>,
    site: &HeatSite,
) -> Result<TreePlan, Blocker> {
    // A tree's stacks are planned each on its own: a giant tree's (a ResourceGroup of
    // thousands of nested stacks) on every core.
    use rayon::prelude::*;
    let stacks = tree
        .stacks
        .par_iter()
        .with_min_len(STACKS_PER_TASK)
        .filter(|s| !s.convergence)
        .map(|s| {
            plan_stack(
                s,
                resources.get(&*s.id).map(Vec::as_slice).unwrap_or(&[]),
                templates,
                site,
            )
            .map_err(|b| match b {
                // Named as the tree's line names its stacks (the root by its place).
                Blocker::Unreadable { detail, .. } => Blocker::Unreadable {
                    stack: super::eligibility::which_stack(tree, s),
                    detail,
                },
                Blocker::NeedsHeat { detail, .. } => Blocker::NeedsHeat {
                    stack: super::eligibility::which_stack(tree, s),
                    detail,
                },
                other => other,
            })
        })
        .collect::<Vec<_>>()
        // The first stack's refusal, as one thread would have found it.
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TreePlan {
        root_id: tree.root().id.to_string(),
        stacks,
        fingerprint: Fingerprint::default(),
        must_match: None,
    })
}

pub fn plan_stack(
    stack: &StackRow,
    rows: &[ResourceRow],
    templates: &HashMap<i64, Result<RawTemplateRow, String>>,
    site: &HeatSite,
) -> Result<StackPlan, Blocker> {
    let who = format!("{} ({})", stack.name, stack.id);
    let unreadable = |detail: String| Blocker::Unreadable {
        stack: who.clone(),
        detail,
    };
    let tid = stack
        .raw_template_id
        .ok_or_else(|| unreadable("it has no raw_template_id".into()))?;
    let raw = match templates.get(&tid) {
        Some(Ok(r)) => r,
        Some(Err(e)) => return Err(unreadable(format!("template unreadable: {e}"))),
        // Heat's foreign key keeps a live stack's template: gone means the stack row moved
        // on after it was read (an engine updating it) or, on SQLite, real damage.
        None => {
            return Err(unreadable(format!(
                "its raw_template {tid} is missing (deleted since the stack row was read: \
                 an engine is likely updating the stack, and the next run reads it again)"
            )))
        }
    };
    let graph =
        stored_graph(stack, raw, site).map_err(|e| match e.downcast_ref::<NeedsHeat>() {
            Some(needs) => Blocker::NeedsHeat {
                stack: who.clone(),
                detail: needs.to_string(),
            },
            None => unreadable(format!("{e:#}")),
        })?;

    let active: Vec<&ResourceRow> = rows.iter().filter(|r| r.is_active()).collect();
    let mut ids: BTreeMap<&str, i64> = BTreeMap::new();
    for r in &active {
        if ids.insert(r.name.as_str(), r.id).is_some() {
            return Err(unreadable(format!(
                "two active resources are named {}",
                r.name
            )));
        }
    }
    let mut converts = Vec::new();
    let mut deletes = Vec::new();
    for r in &active {
        let Some(node) = graph.resources.get(&r.name) else {
            deletes.push(ResourceDeletion {
                id: r.id,
                uuid: r.uuid.clone(),
                name: r.name.clone(),
                type_name: stack
                    .prev_raw_template_id
                    .and_then(|p| templates.get(&p)?.as_ref().ok())
                    .and_then(|prev| declared_type(&prev.template, &r.name)),
                physical_id: r.physical_id.clone(),
                action: r.action.clone(),
                status: r.status.clone(),
                attr_data_id: r.attr_data_id,
            });
            continue;
        };
        let mut requires = node
            .requires
            .iter()
            .map(|n| {
                ids.get(n.as_str()).copied().ok_or_else(|| {
                    unreadable(format!(
                        "resource {} requires {n}, which has no row in the database",
                        r.name
                    ))
                })
            })
            .collect::<Result<Vec<i64>, _>>()?;
        requires.sort_unstable_by(|a, b| b.cmp(a));
        requires.dedup();
        converts.push(ResourceChange {
            id: r.id,
            name: r.name.clone(),
            requires,
            needed_by: Vec::new(),
        });
    }
    let reverse: Vec<(i64, Vec<i64>)> = converts
        .iter()
        .map(|c| (c.id, c.requires.clone()))
        .collect();
    for c in &mut converts {
        let mut by: Vec<i64> = reverse
            .iter()
            .filter(|(_, req)| req.contains(&c.id))
            .map(|(id, _)| *id)
            .collect();
        by.sort_unstable_by(|a, b| b.cmp(a));
        c.needed_by = by;
    }
    Ok(StackPlan {
        stack: stack.clone(),
        template_id: tid,
        converts,
        deletes,
        cycles: graph.cycles(),
    })
}

/// The type a template declares for a resource (HOT `type` or CFN `Type`), as written.
fn declared_type(template: &serde_json::Value, name: &str) -> Option<String> {
    ["resources", "Resources"].iter().find_map(|section| {
        let res = template.get(section)?.get(name)?;
        ["type", "Type"]
            .iter()
            .find_map(|k| res.get(k)?.as_str().map(String::from))
    })
}

/// Heat's graph of a stored stack, from its current template and stored environment
/// (its hidden parameters decrypted with the site's key where their values are needed).
///
/// A stack with a third-party resource whose graph code only Heat can run gets Heat's own
/// graph from the site's Heat Python, checked against the definition; without one, the
/// error is a [`NeedsHeat`].
pub fn stored_graph(
    stack: &StackRow,
    raw: &RawTemplateRow,
    site: &HeatSite,
) -> anyhow::Result<Graph> {
    let def = crate::source::stored(stack, raw, site)?;
    site.note_use(def.resources.iter().filter_map(|r| match &r.plugin {
        crate::environment::Plugin::Vendor(v) => Some(v),
        _ => None,
    }));
    // Where Heat's own loader disagrees with what we read of a plugin module, Heat decides.
    let disagrees = def.resources.iter().find_map(|r| match &r.plugin {
        crate::environment::Plugin::Vendor(v) if site.heat_registers(v) == Some(false) => {
            Some(NeedsHeat {
                resource: r.name.clone(),
                why: format!(
                    "{}: Heat's own loader does not register it so (its module may fail to import there)",
                    v.named()
                ),
                heat_failed: None,
            })
        }
        _ => None,
    });
    let graph = match disagrees {
        Some(needs) => Err(anyhow::Error::new(needs)),
        None => Graph::of(&def, true),
    };
    match graph {
        Err(e) if e.downcast_ref::<NeedsHeat>().is_some() && site.has_heat_python() => {
            let heat = site
                .heat_graph(&stack.id, stack.tenant.as_ref())
                .map_err(|h| {
                    let needs = e.downcast_ref::<NeedsHeat>().cloned();
                    if h.is::<crate::plugins::heat_python::HeatFailed>() {
                        // Heat itself cannot load the stack: not a question of which Python.
                        let resource = needs.map(|n| n.resource).unwrap_or_default();
                        return h
                            .context(format!("resource {resource} needs Heat's own graph code"));
                    }
                    anyhow::Error::new(NeedsHeat {
                        resource: needs
                            .as_ref()
                            .map(|n| n.resource.clone())
                            .unwrap_or_default(),
                        why: needs.map(|n| n.why).unwrap_or_default(),
                        heat_failed: Some(format!("{h:#}")),
                    })
                })?;
            Graph::from_heat(&def, &heat)
        }
        graph => {
            def.parameters.unread()?;
            graph
        }
    }
}

#[cfg(test)]
mod tests {
    use super::id_list;

    #[test]
    fn ids_are_written_as_python_writes_them() {
        assert_eq!(id_list(&[9, 4]), "[9, 4]");
        assert_eq!(id_list(&[]), "[]");
    }
}
