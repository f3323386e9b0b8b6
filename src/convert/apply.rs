//! Writing the plans of a batch of trees, each tree all of it or nothing.
//!
//! A batch is written in one transaction with a fixed number of statements (one per
//! table and kind of change, many rows each), because a round trip per row and a synced
//! commit per tree is what made a conversion slow at scale. Inside it heat-converge first
//! takes Heat's own `stack_lock` on every stack of the batch (a stale lock, whose engine
//! is gone, is taken over as Heat would), so no heat-engine can start work on those trees
//! meanwhile, and one that holds a lock makes the insert fail. It then reads the stacks
//! again: a tree changed since it was planned is not written. The locks are released
//! before commit, so other sessions never see them.
//!
//! When a batch cannot be written whole (an engine took a lock meanwhile, a stack changed,
//! a plan's rows differ, the server refused), its transaction is rolled back and each
//! half is written again, by the same code, down to single trees where needed: the trees
//! that can convert do, and each one that cannot is left alone with its reason. A
//! transient failure (a deadlock, a Galera certification conflict) is tried again, a
//! bounded number of times. A failure that every tree would meet (a privilege revoked
//! during the run, a database switched to read-only, a full disk: see
//! [`crate::db::preflight::refusal`]) is not split: the trees written before it stand,
//! the rest are not written, and the run stops ([`Applied::halted`]).
//!
//! Another session's row lock never makes a run wait: before anything else the batch's
//! stack, resource and template rows are locked with `FOR UPDATE SKIP LOCKED` (where the
//! server has it), and the trees whose rows come back missing are left alone at once,
//! naming the holder where the server can tell, while the rest are written. Any other
//! wait is bounded by `--lock-wait` and not tried again (the holder decides how long it
//! holds, not us).

use super::eligibility::{is_stale_lock, Blocker};
use super::plan::{
    id_list, Changes, ResourceChange, ResourceDeletion, StackPlan, TreePlan, NOT_IN_TEMPLATE,
    PREVIOUS_TEMPLATE,
};
use crate::db::history::{record_deleted, record_stacks, DeletedRow, StackOutcome};
use crate::db::named::{self, Values};
use crate::db::read::StackState;
use crate::db::read::{stack_states, template_files_ids, unused_template_files, Inventory};
use crate::db::FromRow as _;
use crate::db::{
    in_transaction, is_lock_wait_timeout, is_transient, Connection, Param, ROWS_PER_STATEMENT,
};
use anyhow::{anyhow, bail, Result};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Trees of a batch whose rows another session holds: root id -> what and who.
#[derive(Debug)]
pub struct RowsHeld(pub BTreeMap<String, String>);

impl std::fmt::Display for RowsHeld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} trees' rows are held by other sessions", self.0.len())
    }
}

impl std::error::Error for RowsHeld {}

/// The identity of a real run: its record's id and the engine id its stack locks carry.
#[derive(Clone, Debug)]
pub struct Recording {
    pub run_id: String,
    /// A UUID like every heat-engine's id: `stack_lock.engine_id` holds 36 characters.
    pub engine_id: String,
}

/// Rows per `UPDATE ... CASE` statement (see [`for_chunks`]).
const ROWS_PER_CASE: usize = 100;

/// Parameters of one multi-row statement (see [`for_chunks`]): half SQLite's limit of
/// 32,766, a quarter of MySQL's and PostgreSQL's 65,535.
const PARAMS_PER_STATEMENT: usize = 16_000;

/// How many times a transaction that failed for a transient reason is tried in all.
pub const ATTEMPTS: u32 = 4;

/// What a batch's writing went through, for the run's report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Retries {
    /// Transactions tried again after a transient failure.
    pub transient: usize,
    /// Batches (or halves) written in halves because they could not be written whole.
    pub split: usize,
}

/// What writing a batch came to.
#[derive(Debug, Default)]
pub struct Applied {
    /// One outcome per plan written or left alone, in the order of the plans: all of
    /// them, unless the batch was halted.
    pub outcomes: Vec<Result<Changes, Blocker>>,
    /// A failure every tree would meet (see [`crate::db::preflight::refusal`]): the plans
    /// after `outcomes` were not written, and the run must stop.
    pub halted: Option<anyhow::Error>,
}

/// Whether `e` would refuse every tree alike, so that splitting the batch is pointless.
fn halts(e: &anyhow::Error) -> bool {
    crate::db::preflight::refusal(e).is_some()
}

/// Converts the planned trees, and writes `also` (the history rows of the trees left
/// alone) in the same transaction: each tree's outcome, in the order of `plans`. Only a
/// failure to record `also` on its own is an error of the run.
pub fn apply(
    conn: &mut dyn Connection,
    plans: &[&TreePlan],
    also: &[StackOutcome],
    inv: &Inventory,
    rec: &Recording,
    retries: &mut Retries,
) -> Result<Applied> {
    let mut all: Vec<&TreePlan> = plans.to_vec();
    let mut held: HashMap<String, Result<Changes, Blocker>> = HashMap::new();
    let failed = loop {
        match attempt(conn, &all, also, inv, rec, retries) {
            Ok(changes) => {
                return Ok(Applied {
                    outcomes: merge(plans, held, changes.into_iter().map(Ok).collect()),
                    halted: None,
                })
            }
            Err(e) if halts(&e) => {
                return Ok(Applied {
                    outcomes: Vec::new(),
                    halted: Some(e),
                })
            }
            // Trees whose rows others hold: left alone, the rest tried again at once.
            Err(e) if e.is::<RowsHeld>() && !all.is_empty() => {
                take_held(&e, &mut all, &mut held);
            }
            Err(e) => break e,
        }
    };
    tracing::debug!(
        trees = all.len(),
        "a batch is written in halves: {}",
        crate::escape::text(&format!("{failed:#}"))
    );
    if !also.is_empty() {
        if let Err(e) = attempt(conn, &[], also, inv, rec, retries) {
            if halts(&e) {
                return Ok(Applied {
                    outcomes: Vec::new(),
                    halted: Some(e),
                });
            }
            return Err(e);
        }
    }
    let mut written = Applied {
        outcomes: Vec::with_capacity(all.len()),
        halted: None,
    };
    split(conn, &all, failed, inv, rec, retries, &mut written);
    Ok(Applied {
        outcomes: merge(plans, held, written.outcomes),
        halted: written.halted,
    })
}

/// The outcomes in the order of `plans`: the trees left alone beforehand (`held`) and
/// those `written` (in order); it ends where `written` ends early (a halted batch).
fn merge<P: std::borrow::Borrow<TreePlan>>(
    plans: &[P],
    mut held: HashMap<String, Result<Changes, Blocker>>,
    written: Vec<Result<Changes, Blocker>>,
) -> Vec<Result<Changes, Blocker>> {
    let mut written = written.into_iter();
    let mut out = Vec::with_capacity(plans.len());
    for p in plans {
        match held.remove(&p.borrow().root_id) {
            Some(r) => out.push(r),
            None => match written.next() {
                Some(r) => out.push(r),
                None => break,
            },
        }
    }
    out
}

/// Moves the trees a [`RowsHeld`] names out of `plans`, each left alone with its reason.
fn take_held(
    e: &anyhow::Error,
    plans: &mut Vec<&TreePlan>,
    out: &mut HashMap<String, Result<Changes, Blocker>>,
) {
    let Some(held) = e.downcast_ref::<RowsHeld>() else {
        return;
    };
    plans.retain(|p| match held.0.get(&p.root_id) {
        Some(detail) => {
            out.insert(
                p.root_id.clone(),
                Err(Blocker::RowLocked {
                    detail: detail.clone(),
                }),
            );
            false
        }
        None => true,
    });
}

/// Writes `plans` in one transaction or, when that fails, [`split`]s them; after a
/// failure that halts, nothing more.
fn halves(
    conn: &mut dyn Connection,
    plans: &[&TreePlan],
    inv: &Inventory,
    rec: &Recording,
    retries: &mut Retries,
    out: &mut Applied,
) {
    if out.halted.is_some() {
        return;
    }
    match attempt(conn, plans, &[], inv, rec, retries) {
        Ok(changes) => out.outcomes.extend(changes.into_iter().map(Ok)),
        Err(e) if halts(&e) => out.halted = Some(e),
        Err(e) if e.is::<RowsHeld>() => {
            // Held since the batch was claimed: those left alone, the others written.
            let mut rest: Vec<&TreePlan> = plans.to_vec();
            let mut held = HashMap::new();
            take_held(&e, &mut rest, &mut held);
            let mut written = Applied::default();
            if !rest.is_empty() {
                halves(conn, &rest, inv, rec, retries, &mut written);
            }
            out.outcomes.extend(merge(plans, held, written.outcomes));
            out.halted = written.halted;
        }
        Err(e) => split(conn, plans, e, inv, rec, retries, out),
    }
}

/// After `plans` failed together with `failed`: a single tree is left alone with that
/// reason, more are written in [`halves`]. The trees that cannot be written are found in
/// a few transactions (about twice the log of the batch's size for each), not one per
/// tree.
fn split(
    conn: &mut dyn Connection,
    plans: &[&TreePlan],
    failed: anyhow::Error,
    inv: &Inventory,
    rec: &Recording,
    retries: &mut Retries,
    out: &mut Applied,
) {
    if plans.len() == 1 {
        out.outcomes.push(Err(if is_lock_wait_timeout(&failed) {
            Blocker::RowLocked {
                detail: format!(
                    "another session held a lock it needs for longer than --lock-wait: {failed:#}"
                ),
            }
        } else {
            Blocker::Refused {
                detail: format!("{failed:#}"),
            }
        }));
        return;
    }
    retries.split += 1;
    let (left, right) = plans.split_at(plans.len() / 2);
    halves(conn, left, inv, rec, retries, out);
    halves(conn, right, inv, rec, retries, out);
}

/// One transaction for `plans`, tried again while it fails for a transient reason.
fn attempt(
    conn: &mut dyn Connection,
    plans: &[&TreePlan],
    also: &[StackOutcome],
    inv: &Inventory,
    rec: &Recording,
    retries: &mut Retries,
) -> Result<Vec<Changes>> {
    let mut tried = 1;
    loop {
        match in_transaction(conn, |tx| {
            let written = write(tx, plans, inv, rec)?;
            record_stacks(tx, also)?;
            Ok(written)
        }) {
            Err(e) if is_transient(&e) && tried < ATTEMPTS => {
                tracing::warn!(
                    attempt = tried,
                    "tried again after a transient failure: {}",
                    crate::escape::text(&format!("{e:#}"))
                );
                retries.transient += 1;
                // A short pause that grows, so two writers in conflict do not collide again.
                std::thread::sleep(std::time::Duration::from_millis(50 << tried));
                tried += 1;
            }
            Err(e) if is_transient(&e) => {
                return Err(e.context(format!("failed {ATTEMPTS} times for transient reasons")))
            }
            other => return other,
        }
    }
}

fn text(p: &str) -> Param {
    Param::Text(p.to_string())
}

/// Runs a multi-row statement of `sql/` over `rows` (each row's values by the names the
/// SQL gives them), many rows per statement, `shared` bound outside its blocks.
fn for_chunks<T>(
    conn: &mut dyn Connection,
    sql: &str,
    shared: &Values,
    rows: &[T],
    values: impl Fn(&T) -> Vec<(&'static str, Param)>,
) -> Result<()> {
    // A `CASE id WHEN ...` is searched row by row for each row updated: its cost grows
    // with the square of its length, so those statements are kept short. Others take as
    // many rows as stay well under every server's limit on parameters: a statement less
    // is a round trip and a parse less.
    let per = if sql.contains("{cases:") {
        ROWS_PER_CASE
    } else {
        let width = rows.first().map_or(1, |r| values(r).len().max(1));
        (PARAMS_PER_STATEMENT / width).max(1)
    };
    for chunk in rows.chunks(per) {
        let owned: Vec<Vec<(&str, Param)>> = chunk.iter().map(&values).collect();
        let refs: Vec<&Values> = owned.iter().map(Vec::as_slice).collect();
        let b = named::bind(sql, shared, &refs)?;
        conn.execute(&b.sql, &b.params)?;
    }
    Ok(())
}

/// A one-row statement of `sql/`, bound by name.
fn execute(conn: &mut dyn Connection, sql: &str, values: &Values) -> Result<u64> {
    let b = named::bind(sql, values, &[])?;
    conn.execute(&b.sql, &b.params)
}

fn by_id(id: &i64) -> Vec<(&'static str, Param)> {
    vec![("id", Param::Int(*id))]
}

/// `name (id)` of each stack, for a message.
fn named(stacks: &[&StackPlan]) -> String {
    let names: Vec<String> = stacks
        .iter()
        .map(|sp| format!("{} ({})", sp.stack.name, sp.stack.id))
        .collect();
    names.join(", ")
}

fn write(
    conn: &mut dyn Connection,
    plans: &[&TreePlan],
    inv: &Inventory,
    rec: &Recording,
) -> Result<Vec<Changes>> {
    if plans.is_empty() {
        return Ok(Vec::new());
    }
    let stacks: Vec<(&TreePlan, &StackPlan)> = plans
        .iter()
        .flat_map(|p| p.stacks.iter().map(move |sp| (*p, sp)))
        .collect();
    let claimed = claim(conn, &stacks)?;
    lock(conn, &stacks, inv, rec)?;
    check_unchanged(conn, plans, &stacks, claimed, inv)?;

    let deletes: Vec<(&TreePlan, &StackPlan, &ResourceDeletion)> = stacks
        .iter()
        .flat_map(|&(p, sp)| sp.deletes.iter().map(move |d| (p, sp, d)))
        .collect();
    delete_resources(conn, &deletes, rec)?;

    let converts: Vec<(&ResourceChange, i64)> = stacks
        .iter()
        .flat_map(|(_, sp)| sp.converts.iter().map(|c| (c, sp.template_id)))
        .collect();
    let convert = conn.dialect().pick(
        include_str!("../../sql/resource_convert.sql"),
        include_str!("../../sql/resource_convert_mysql.sql"),
    );
    for_chunks(conn, convert, &[], &converts, |(c, template_id)| {
        vec![
            ("id", Param::Int(c.id)),
            ("template_id", Param::Int(*template_id)),
            ("requires", Param::Text(id_list(&c.requires))),
            ("needed_by", Param::Text(id_list(&c.needed_by))),
        ]
    })?;

    let traversals: Vec<(&str, String)> = stacks
        .iter()
        .map(|(_, sp)| (sp.stack.id.as_ref(), uuid::Uuid::new_v4().to_string()))
        .collect();
    let convert = conn.dialect().pick(
        include_str!("../../sql/stack_convert.sql"),
        include_str!("../../sql/stack_convert_mysql.sql"),
    );
    for_chunks(
        conn,
        convert,
        &[("convergence", Param::Int(1))],
        &traversals,
        |(id, traversal)| vec![("id", text(id)), ("traversal", text(traversal))],
    )?;

    let templates_deleted = delete_previous_templates(conn, &stacks, rec)?;

    execute(
        conn,
        include_str!("../../sql/unlock_engine.sql"),
        &[("engine_id", text(&rec.engine_id))],
    )?;

    let outcomes: Vec<StackOutcome> = stacks
        .iter()
        .zip(&traversals)
        .map(|((p, sp), (_, traversal))| StackOutcome {
            run_id: &rec.run_id,
            stack_id: &sp.stack.id,
            root_stack_id: &p.root_id,
            outcome: "converted",
            reason: None,
            resources_converted: sp.converts.len() as i64,
            resources_deleted: sp.deletes.len() as i64,
            templates_deleted: i64::from(templates_deleted.contains(&sp.stack.id.as_ref())),
            traversal: Some(traversal),
        })
        .collect();
    record_stacks(conn, &outcomes)?;

    Ok(plans
        .iter()
        .map(|p| {
            let mut c = p.changes();
            c.templates = p
                .stacks
                .iter()
                .filter(|sp| templates_deleted.contains(sp.stack.id.as_ref()))
                .filter_map(|sp| {
                    sp.stack
                        .prev_raw_template_id
                        .map(|t| (sp.stack.name.clone(), t))
                })
                .collect();
            c.templates_deleted = c.templates.len();
            c
        })
        .collect())
}

/// Locks the batch's stack, resource and previous template rows without waiting (where
/// the server can): a [`RowsHeld`] names the trees whose rows another session holds.
/// Returns the state of each stack as read under its row lock (where it took them).
fn claim(
    conn: &mut dyn Connection,
    stacks: &[(&TreePlan, &StackPlan)],
) -> Result<Option<HashMap<String, StackState>>> {
    let Some(skip_locked) = conn.skip_locked() else {
        return Ok(None);
    };
    let mut states = HashMap::new();
    // table, SQL, and each row: (its id, its tree's root, what it is in words)
    type Wanted = Vec<(Param, String, String)>;
    let mut wanted: Vec<(&str, &str, Wanted)> = vec![
        (
            "stack",
            include_str!("../../sql/stack_state.sql"),
            Vec::new(),
        ),
        (
            "resource",
            include_str!("../../sql/claim_resources.sql"),
            Vec::new(),
        ),
        (
            "raw_template",
            include_str!("../../sql/claim_raw_templates.sql"),
            Vec::new(),
        ),
    ];
    for (p, sp) in stacks {
        let root = p.root_id.clone();
        let stack = format!("stack {} ({})", sp.stack.name, sp.stack.id);
        wanted[0]
            .2
            .push((text(&sp.stack.id), root.clone(), stack.clone()));
        for (id, name) in sp
            .converts
            .iter()
            .map(|c| (c.id, &c.name))
            .chain(sp.deletes.iter().map(|d| (d.id, &d.name)))
        {
            wanted[1].2.push((
                Param::Int(id),
                root.clone(),
                format!("resource {name} ({id}) of {stack}"),
            ));
        }
        if let Some(t) = sp.stack.prev_raw_template_id {
            wanted[2].2.push((
                Param::Int(t),
                root.clone(),
                format!("previous template {t} of {stack}"),
            ));
        }
    }
    let mut held: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (table, sql, rows) in &wanted {
        let mut got: BTreeSet<String> = BTreeSet::new();
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let params: Vec<Param> = chunk.iter().map(|(id, _, _)| id.clone()).collect();
            let b = named::ids(sql, &params)?;
            for r in conn.query(&format!("{}{skip_locked}", b.sql), &b.params)? {
                if *table == "stack" {
                    states.insert(r.string("id")?, StackState::from_row(&r)?);
                }
                got.insert(r.string("id")?);
            }
        }
        let missing: Vec<&(Param, String, String)> = rows
            .iter()
            .filter(|(id, _, _)| !got.contains(&param_text(id)))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let ids: Vec<Param> = missing.iter().map(|(id, _, _)| id.clone()).collect();
        // Who holds them, where the server can tell; never a reason to fail the batch.
        let holders = conn.lock_holders(table, &ids).unwrap_or_default();
        let who = if holders.is_empty() {
            "another session (the server does not say which)".to_string()
        } else {
            holders.join("; ")
        };
        for (_, root, what) in missing {
            held.entry(root.clone())
                .or_default()
                .push(format!("{what} is locked by {who}"));
        }
    }
    if held.is_empty() {
        return Ok(Some(states));
    }
    let trees = held
        .into_iter()
        .map(|(root, what)| {
            (
                root,
                format!(
                    "{}; left alone without waiting: run again once that transaction has ended",
                    what.join(", ")
                ),
            )
        })
        .collect();
    Err(RowsHeld(trees).into())
}

fn param_text(p: &Param) -> String {
    match p {
        Param::Text(s) => s.clone(),
        Param::Int(i) => i.to_string(),
        Param::Null => String::new(),
    }
}

/// Takes Heat's lock on every stack (taking over stale ones), one statement per chunk.
fn lock(
    conn: &mut dyn Connection,
    stacks: &[(&TreePlan, &StackPlan)],
    inv: &Inventory,
    rec: &Recording,
) -> Result<()> {
    for (_, sp) in stacks {
        let id: &str = &sp.stack.id;
        if let Some(holder) = inv.locks.get(id) {
            if is_stale_lock(inv, holder) {
                execute(
                    conn,
                    include_str!("../../sql/unlock_stack.sql"),
                    &[("stack_id", text(id)), ("engine_id", text(holder))],
                )?;
            }
        }
    }
    let plain: Vec<&StackPlan> = stacks.iter().map(|(_, sp)| *sp).collect();
    for chunk in plain.chunks(ROWS_PER_STATEMENT) {
        for_chunks(
            conn,
            include_str!("../../sql/lock_stack.sql"),
            &[],
            chunk,
            |sp| {
                vec![
                    ("stack_id", text(&sp.stack.id)),
                    ("engine_id", text(&rec.engine_id)),
                ]
            },
        )
        .map_err(|e| {
            // Kept as the cause, so a deadlock stays recognisable as transient.
            e.context(format!(
                "could not lock stack {} (an engine holds a lock?)",
                named(chunk)
            ))
        })?;
    }
    Ok(())
}

/// Under the locks: every stack is still as planned (and, for `migrate --plan`, every
/// tree's rows are still those reviewed).
fn check_unchanged(
    conn: &mut dyn Connection,
    plans: &[&TreePlan],
    stacks: &[(&TreePlan, &StackPlan)],
    claimed: Option<HashMap<String, StackState>>,
    inv: &Inventory,
) -> Result<()> {
    let states = match claimed {
        Some(states) => states,
        None => {
            let ids: Vec<&str> = stacks.iter().map(|(_, sp)| sp.stack.id.as_ref()).collect();
            stack_states(conn, &ids)?
        }
    };
    for (_, sp) in stacks {
        let planned = StackState {
            status: "COMPLETE".into(),
            convergence: false,
            raw_template_id: Some(sp.template_id),
            deleted: false,
        };
        match states.get(&*sp.stack.id) {
            None => bail!("stack {} disappeared", sp.stack.id),
            Some(now) if *now != planned => bail!(
                "stack {} ({}) changed since it was read",
                sp.stack.name,
                sp.stack.id
            ),
            Some(_) => {}
        }
    }
    for p in plans {
        if let Some(expected) = &p.must_match {
            if &rows_now(conn, p, inv)? != expected {
                bail!(
                    "changed since the plan was made: its rows, read again under the lock, differ"
                );
            }
        }
    }
    Ok(())
}

/// Deletes the resource rows no template defines, with their data, audited first.
fn delete_resources(
    conn: &mut dyn Connection,
    deletes: &[(&TreePlan, &StackPlan, &ResourceDeletion)],
    rec: &Recording,
) -> Result<()> {
    if deletes.is_empty() {
        return Ok(());
    }
    let audit: Vec<DeletedRow> = deletes
        .iter()
        .map(|(p, sp, d)| DeletedRow {
            run_id: &rec.run_id,
            root_stack_id: &p.root_id,
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
        })
        .collect();
    record_deleted(conn, &audit)?;
    let ids: Vec<i64> = deletes.iter().map(|(_, _, d)| d.id).collect();
    for_chunks(
        conn,
        include_str!("../../sql/resource_data_delete.sql"),
        &[],
        &ids,
        by_id,
    )?;
    for_chunks(
        conn,
        include_str!("../../sql/resource_delete.sql"),
        &[],
        &ids,
        by_id,
    )?;
    let attr: Vec<i64> = deletes
        .iter()
        .filter_map(|(_, _, d)| d.attr_data_id)
        .collect();
    for_chunks(
        conn,
        include_str!("../../sql/resource_properties_data_delete.sql"),
        &[],
        &attr,
        by_id,
    )?;
    Ok(())
}

/// Deletes each stack's previous template, and its files row when no other template uses
/// it, audited. Returns the ids of the stacks whose previous template row was deleted.
fn delete_previous_templates<'a>(
    conn: &mut dyn Connection,
    stacks: &[(&'a TreePlan, &'a StackPlan)],
    rec: &Recording,
) -> Result<BTreeSet<&'a str>> {
    let previous: Vec<(&TreePlan, &StackPlan, i64)> = stacks
        .iter()
        .filter_map(|&(p, sp)| sp.stack.prev_raw_template_id.map(|t| (p, sp, t)))
        .collect();
    let mut deleted = BTreeSet::new();
    if previous.is_empty() {
        return Ok(deleted);
    }
    let ids: Vec<i64> = previous.iter().map(|(_, _, t)| *t).collect();
    let files_of = template_files_ids(conn, &ids)?;
    let existing: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|t| files_of.contains_key(t))
        .collect();
    for_chunks(
        conn,
        include_str!("../../sql/raw_template_delete.sql"),
        &[],
        &existing,
        by_id,
    )?;
    let audit = |p: &'a TreePlan, sp: &'a StackPlan, kind, row_id, reason| DeletedRow {
        run_id: &rec.run_id,
        root_stack_id: &p.root_id,
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
    let mut rows = Vec::new();
    // A files row is recorded against the first stack whose previous template used it.
    let mut files_by: HashMap<i64, (&TreePlan, &StackPlan)> = HashMap::new();
    for &(p, sp, t) in &previous {
        if let Some(files) = files_of.get(&t) {
            deleted.insert(sp.stack.id.as_ref());
            rows.push(audit(p, sp, "raw_template", t, PREVIOUS_TEMPLATE));
            if let Some(f) = files {
                files_by.entry(*f).or_insert((p, sp));
            }
        }
    }
    let mut files: Vec<i64> = files_by.keys().copied().collect();
    files.sort_unstable();
    let unused = unused_template_files(conn, &files)?;
    for_chunks(
        conn,
        include_str!("../../sql/raw_template_files_delete.sql"),
        &[],
        &unused,
        by_id,
    )?;
    for f in &unused {
        if let Some(&(p, sp)) = files_by.get(f) {
            rows.push(audit(
                p,
                sp,
                "raw_template_files",
                *f,
                "the files of the previous template, used by no other template",
            ));
        }
    }
    record_deleted(conn, &rows)?;
    Ok(deleted)
}

/// The `rows` fingerprint of the planned tree, read again (under the conversion's locks;
/// its resources where the inventory found them, as they were read to plan it).
fn rows_now(conn: &mut dyn Connection, plan: &TreePlan, inv: &Inventory) -> Result<String> {
    let mut stacks = Vec::new();
    for sp in &plan.stacks {
        stacks.push(
            crate::db::read::stack(conn, &sp.stack.id)?
                .ok_or_else(|| anyhow!("stack {} disappeared", sp.stack.id))?,
        );
    }
    let ids: Vec<String> = stacks.iter().map(|s| s.id.to_string()).collect();
    let template_ids: Vec<i64> = stacks
        .iter()
        .flat_map(|s| [s.raw_template_id, s.prev_raw_template_id])
        .flatten()
        .collect();
    let resources = crate::db::read::batch_resources(conn, inv, &ids)?;
    let templates = crate::db::read::raw_templates(conn, &template_ids)?;
    let tree = super::tree::Tree {
        stacks: stacks.into_iter().map(std::sync::Arc::new).collect(),
        live_backups: Box::default(),
    };
    Ok(super::fingerprint::rows(&tree, &resources, &templates))
}
