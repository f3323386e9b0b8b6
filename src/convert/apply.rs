//! Writing one tree's plan: all of it in one transaction, or nothing.
//!
//! Inside the transaction heat-converge first takes Heat's own `stack_lock` on every stack
//! of the tree (a stale lock, whose engine is gone, is taken over as Heat would), so no
//! heat-engine can start work on the tree meanwhile, and one that holds a lock makes the
//! insert fail. It then reads the stacks again: a tree changed since it was planned is
//! left alone. The locks are released before commit, so other sessions never see them.

use super::eligibility::{is_stale_lock, Blocker};
use super::plan::{id_list, ResourceDeletion, TreePlan, NOT_IN_TEMPLATE, PREVIOUS_TEMPLATE};
use crate::db::history::{record_deleted, record_stack, DeletedRow, StackOutcome};
use crate::db::read::Inventory;
use crate::db::read::{stack_state, template_files_id, StackState};
use crate::db::{in_transaction, Connection, Param};
use anyhow::{anyhow, bail, Result};

/// The identity of a real run: its record's id and the engine id its stack locks carry.
#[derive(Clone, Debug)]
pub struct Recording {
    pub run_id: String,
    /// A UUID like every heat-engine's id: `stack_lock.engine_id` holds 36 characters.
    pub engine_id: String,
}

/// What a converted tree changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    pub stacks: usize,
    pub resources_converted: usize,
    pub resources_deleted: usize,
    pub templates_deleted: usize,
    /// Every resource row deleted, with its stack's name: what the operator checks.
    pub deleted: Vec<(String, ResourceDeletion)>,
}

/// Converts the tree; on any failure rolls back and says why.
pub fn apply(
    conn: &mut dyn Connection,
    plan: &TreePlan,
    inv: &Inventory,
    rec: &Recording,
) -> Result<Applied, Blocker> {
    in_transaction(conn, |tx| write(tx, plan, inv, rec)).map_err(|e| Blocker::Refused {
        detail: format!("{e:#}"),
    })
}

fn text(p: &str) -> Param {
    Param::Text(p.to_string())
}

fn write(
    conn: &mut dyn Connection,
    plan: &TreePlan,
    inv: &Inventory,
    rec: &Recording,
) -> Result<Applied> {
    let engine_id = rec.engine_id.as_str();
    for sp in &plan.stacks {
        let id = &sp.stack.id;
        if let Some(holder) = inv.locks.get(id) {
            if is_stale_lock(inv, holder) {
                conn.execute(
                    include_str!("../../sql/unlock_stack.sql"),
                    &[text(id), text(holder)],
                )?;
            }
        }
        conn.execute(
            include_str!("../../sql/lock_stack.sql"),
            &[text(id), text(engine_id)],
        )
        .map_err(|e| {
            anyhow!(
                "stack {} ({id}) could not be locked (an engine holds it?): {e:#}",
                sp.stack.name
            )
        })?;
    }
    for sp in &plan.stacks {
        let state = stack_state(conn, &sp.stack.id)?
            .ok_or_else(|| anyhow!("stack {} disappeared", sp.stack.id))?;
        let same = state
            == StackState {
                status: "COMPLETE".into(),
                convergence: false,
                raw_template_id: Some(sp.template_id),
                deleted: false,
            };
        if !same {
            bail!(
                "stack {} ({}) changed since it was read",
                sp.stack.name,
                sp.stack.id
            );
        }
    }
    if let Some(expected) = &plan.must_match {
        let now = rows_now(conn, plan)?;
        if &now != expected {
            bail!("changed since the plan was made: its rows, read again under the lock, differ");
        }
    }
    let mut applied = Applied::default();
    for sp in &plan.stacks {
        for d in &sp.deletes {
            record_deleted(
                conn,
                &DeletedRow {
                    run_id: &rec.run_id,
                    root_stack_id: &plan.root_id,
                    stack_id: &sp.stack.id,
                    kind: "resource",
                    row_id: d.id,
                    uuid: d.uuid.as_deref(),
                    name: Some(&d.name),
                    type_name: d.type_name.as_deref(),
                    physical_id: d.physical_id.as_deref(),
                    action: Some(&d.action),
                    status: Some(&d.status),
                    reason: NOT_IN_TEMPLATE,
                },
            )?;
            conn.execute(
                include_str!("../../sql/resource_data_delete.sql"),
                &[Param::Int(d.id)],
            )?;
            conn.execute(
                include_str!("../../sql/resource_delete.sql"),
                &[Param::Int(d.id)],
            )?;
            if let Some(a) = d.attr_data_id {
                conn.execute(
                    include_str!("../../sql/resource_properties_data_delete.sql"),
                    &[Param::Int(a)],
                )?;
            }
        }
        for c in &sp.converts {
            conn.execute(
                include_str!("../../sql/resource_convert.sql"),
                &[
                    Param::Int(sp.template_id),
                    Param::Text(id_list(&c.requires)),
                    Param::Text(id_list(&c.needed_by)),
                    Param::Int(c.id),
                ],
            )?;
        }
        let traversal = uuid::Uuid::new_v4().to_string();
        conn.execute(
            include_str!("../../sql/stack_convert.sql"),
            &[Param::Int(1), text(&traversal), text(&sp.stack.id)],
        )?;
        let mut templates_deleted = 0;
        if let Some(prev) = sp.stack.prev_raw_template_id {
            let files_id = template_files_id(conn, prev)?;
            templates_deleted = conn.execute(
                include_str!("../../sql/raw_template_delete.sql"),
                &[Param::Int(prev)],
            )? as usize;
            let audit = |kind, row_id, reason| DeletedRow {
                run_id: &rec.run_id,
                root_stack_id: &plan.root_id,
                stack_id: &sp.stack.id,
                kind,
                row_id,
                uuid: None,
                name: None,
                type_name: None,
                physical_id: None,
                action: None,
                status: None,
                reason,
            };
            if templates_deleted > 0 {
                record_deleted(conn, &audit("raw_template", prev, PREVIOUS_TEMPLATE))?;
            }
            if let Some(f) = files_id {
                let files_deleted = conn.execute(
                    include_str!("../../sql/raw_template_files_delete_unused.sql"),
                    &[Param::Int(f), Param::Int(f)],
                )?;
                if files_deleted > 0 {
                    record_deleted(
                        conn,
                        &audit(
                            "raw_template_files",
                            f,
                            "the files of the previous template, used by no other template",
                        ),
                    )?;
                }
            }
        }
        conn.execute(
            include_str!("../../sql/unlock_stack.sql"),
            &[text(&sp.stack.id), text(engine_id)],
        )?;
        record_stack(
            conn,
            &StackOutcome {
                run_id: &rec.run_id,
                stack_id: &sp.stack.id,
                root_stack_id: &plan.root_id,
                outcome: "converted",
                reason: None,
                resources_converted: sp.converts.len() as i64,
                resources_deleted: sp.deletes.len() as i64,
                templates_deleted: templates_deleted as i64,
                traversal: Some(&traversal),
            },
        )?;
        applied.stacks += 1;
        applied.resources_converted += sp.converts.len();
        applied.resources_deleted += sp.deletes.len();
        applied.templates_deleted += templates_deleted;
        applied.deleted.extend(
            sp.deletes
                .iter()
                .map(|d| (sp.stack.name.clone(), d.clone())),
        );
    }
    Ok(applied)
}

/// The `rows` fingerprint of the planned tree, read again (under the conversion's locks).
fn rows_now(conn: &mut dyn Connection, plan: &TreePlan) -> Result<String> {
    let mut stacks = Vec::new();
    for sp in &plan.stacks {
        stacks.push(
            crate::db::read::stack(conn, &sp.stack.id)?
                .ok_or_else(|| anyhow!("stack {} disappeared", sp.stack.id))?,
        );
    }
    let ids: Vec<String> = stacks.iter().map(|s| s.id.clone()).collect();
    let template_ids: Vec<i64> = stacks
        .iter()
        .flat_map(|s| [s.raw_template_id, s.prev_raw_template_id])
        .flatten()
        .collect();
    let resources = crate::db::read::resources(conn, &ids)?;
    let templates = crate::db::read::raw_templates(conn, &template_ids)?;
    let tree = super::tree::Tree {
        stacks,
        live_backups: Vec::new(),
    };
    Ok(super::fingerprint::rows(&tree, &resources, &templates))
}
