//! `heat-converge migrate`: converts every legacy stack tree that can be converted now.
//!
//! A run: apply the tool's own schema migrations (refinery), read the inventory, then per
//! batch of trees read resources and templates, and per tree check the eligibility rule,
//! plan the row changes and write them in one transaction with their history rows. A tree
//! that cannot be converted is left untouched and recorded with its reason, and the run
//! goes on. `--dry-run` does the same reading and planning and writes nothing at all.

pub mod apply;
pub mod eligibility;
pub mod fingerprint;
pub mod mode;
pub mod outcome;
pub mod plan;
pub mod stack_ref;
pub mod tree;
pub mod write_set;

use crate::db::history::stopped;
use crate::db::read::{self as load, Inventory};
use crate::db::Database;
use crate::escape::text as esc;
use crate::seconds::Seconds;
use crate::site::HeatSite;
use anyhow::{Context as _, Result};
use eligibility::Blocker;
use fingerprint::Fingerprint;
use plan::TreePlan;
use std::collections::HashMap;
use std::io::Write as _;
use std::sync::Arc;
use tree::{Forest, Tree};

pub use outcome::{
    skipped_by_kind, Outcome, Phases, Report, ReviewedTree, RunFailed, Tally, TreeReport,
};

/// What a run is asked, split into what it is: which trees, the cloud's Heat, what the run
/// records of itself, and how it goes.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub selection: Selection,
    /// The cloud's Heat: global environment, plugins, hidden parameters' key, its Python
    /// (shared with `verify`).
    pub site: Arc<HeatSite>,
    pub record: RunRecord,
    pub dry_run: bool,
    /// Fail at once, instead of waiting, when another run holds the run lock.
    pub no_wait: bool,
    /// Fingerprint each planned tree's rows and keep its row changes (for a plan file).
    pub fingerprints: bool,
    /// How to open a second session to the same database, to read and plan ahead on
    /// while batches are written (none: reading and writing take turns).
    pub reader: Option<SecondSession>,
}

/// Opens another session to the run's database, set up as the first (TLS, lock waits).
#[derive(Clone)]
pub struct SecondSession(pub Arc<dyn Fn() -> Result<Box<dyn Database>> + Send + Sync>);

impl SecondSession {
    fn open(&self) -> Result<Box<dyn Database>> {
        (self.0)()
    }
}

impl std::fmt::Debug for SecondSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecondSession")
    }
}

/// Which trees a command looks at (all, when nothing is given).
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Only these root stacks (empty: all).
    pub stacks: Vec<String>,
    pub project: Option<String>,
    /// `migrate --plan`: only the plan's trees, each only while it is as planned.
    pub plan: Option<PlanFile>,
}

/// What a real run records of itself in its row (no secrets).
#[derive(Clone, Debug, Default)]
pub struct RunRecord {
    /// The options, as the operator gave them.
    pub described: String,
    /// This host's name.
    pub host: String,
}

impl Selection {
    /// The root stack ids `--stack` names (each an id or a name: [`stack_ref::root`]);
    /// empty when none is given.
    pub fn roots(
        &self,
        conn: &mut dyn crate::db::Connection,
        deleted: stack_ref::Deleted,
    ) -> Result<Vec<String>> {
        // Each value once (a script may repeat one): one or two queries each.
        let mut given: Vec<&String> = self.stacks.iter().collect();
        given.sort();
        given.dedup();
        given
            .into_iter()
            .map(|given| stack_ref::root(conn, given, deleted))
            .collect()
    }

    /// The filter in the operator's words, if any (`--stack A --project P`).
    pub fn filter(&self) -> Option<String> {
        let mut parts: Vec<String> = self.plan.iter().map(|p| p.label.clone()).collect();
        parts.extend(self.stacks.iter().map(|s| format!("--stack {s}")));
        if let Some(p) = &self.project {
            parts.push(format!("--project {p}"));
        }
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

/// A reviewed plan file, as `migrate --plan` applies it: root id -> each tree as reviewed.
#[derive(Clone, Debug, Default)]
pub struct PlanFile {
    /// How the operator named it (`--plan FILE`), for messages.
    pub label: String,
    pub trees: HashMap<String, ReviewedTree>,
}

impl ReviewedTree {
    /// Why `plan`, made now, is not what was reviewed, if it is not.
    fn differs(&self, plan: &TreePlan) -> Option<String> {
        if self.fingerprint.rows != plan.fingerprint.rows {
            Some("its stack, resource or template rows differ".into())
        } else if self.fingerprint.locks != plan.fingerprint.locks {
            Some("Heat's stack locks on it differ".into())
        } else if self.changes != plan.changes_json() {
            Some("its row changes differ".into())
        } else {
            None
        }
    }
}

/// A filter that selects nothing it names: the operator's command is wrong (exit 2).
#[derive(Debug)]
pub struct FilterError(pub String);

impl std::fmt::Display for FilterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FilterError {}

/// Counts of root stacks by engine, from an inventory.
pub fn convergence_roots(inv: &Inventory) -> usize {
    inv.stacks
        .values()
        .filter(|s| s.owner_id.is_none() && s.convergence && !s.backup)
        .count()
}

/// The current UTC time as ISO 8601, to the second (a plan file's `created_at`).
pub fn now_utc() -> String {
    utc(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
}

/// The current UTC time as ISO 8601, to the millisecond: a run's start and end in its
/// record, so that runs started within one second are still told apart and ordered
/// (`history` lists the newest first).
pub fn now_utc_ms() -> String {
    utc(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
}

fn utc(format: &[time::format_description::BorrowedFormatItem<'_>]) -> String {
    time::OffsetDateTime::now_utc()
        .format(format)
        .unwrap_or_default()
}

/// Trees written in one transaction (their resources read in one query): as many as the
/// floor of the benchmark writes per transaction, since a commit is a synced write.
const TREES_PER_WRITE: usize = 1000;
/// Trees planned together: their templates, the large part, are read and held together.
const TREES_PER_PLAN: usize = 200;

/// The trees the filter selects; every stack or project it names must exist, each stack
/// be a live root given by id or name ([`stack_ref`]), or the command is wrong
/// ([`FilterError`]).
fn select<'f>(
    forest: &'f Forest,
    inv: &Inventory,
    conn: &mut dyn crate::db::Connection,
    opts: &Options,
) -> Result<Vec<&'f Tree>> {
    let roots = opts.selection.roots(conn, stack_ref::Deleted::Refused)?;
    if let Some(p) = &opts.selection.project {
        if !inv.stacks.values().any(|s| *s.tenant == **p) {
            return Err(FilterError(format!(
                "--project {p}: no live stack belongs to this project"
            ))
            .into());
        }
    }
    Ok(forest
        .trees
        .iter()
        .filter(|t| {
            opts.selection
                .plan
                .as_ref()
                .is_none_or(|p| p.trees.contains_key(&*t.root().id))
        })
        .filter(|t| roots.is_empty() || roots.iter().any(|r| **r == *t.root().id))
        .filter(|t| {
            opts.selection
                .project
                .as_ref()
                .is_none_or(|p| *t.root().tenant == **p)
        })
        .collect())
}

/// What a run tells its caller as it goes.
pub enum Progress<'a> {
    /// The run starts on this many trees.
    Start { trees: usize },
    /// One tree is done (converted, or left alone), in this long.
    Tree(&'a TreeReport, std::time::Duration),
}

/// Runs the conversion. `progress` is told the number of trees, then called once per tree
/// as the run goes; when it fails (its output is gone), the run stops after the tree at
/// hand, ends its record saying why, and reports [`Report::stopped`].
pub fn run(
    db: &mut dyn Database,
    opts: &Options,
    progress: impl FnMut(Progress) -> std::io::Result<()>,
) -> Result<Report> {
    let run_started = std::time::Instant::now();
    // Before anything else: refuse a database that is not Heat's, and write nothing.
    crate::db::heat_schema::check(db.conn())?;
    // A real run: can this user do all it does? Asked before anything is written (the
    // run lock's file, our tables, an index), so that a missing privilege is one error
    // that names it rather than every tree refused.
    if !opts.dry_run {
        crate::db::preflight::check(db)?;
    }
    // One writing run at a time, for the whole run (a dry run writes nothing: no lock).
    let _run_lock = if opts.dry_run {
        None
    } else {
        Some(crate::db::take_run_lock(db, !opts.no_wait, &mut |m| {
            // It can name the other run's host, read from the database.
            let _ = writeln!(std::io::stderr(), "heat-converge: {}", esc(m));
        })?)
    };
    let mut report = Report {
        dry_run: opts.dry_run,
        filter: opts.selection.filter(),
        ..Report::default()
    };
    let reading = std::time::Instant::now();
    // Where every resource row is, learned in one pass with the inventory: each batch
    // reads its resources by id (see `ResourceIds`).
    let inv = load::inventory_with_resource_ids(db.conn())?;
    report.phases.inventory = reading.elapsed();
    let forest = tree::forest(&inv);
    let trees = select(&forest, &inv, db.conn(), opts)?;
    report.outside_filter = forest.trees.len() - trees.len();
    report.by_plan = opts.selection.plan.is_some();
    // Which trees outside the filter the rule would leave alone without it too: the next
    // step says "run without the filter" only of the others.
    let selected: std::collections::HashSet<&str> =
        trees.iter().map(|t| t.root().id.as_ref()).collect();
    for t in &forest.trees {
        if selected.contains(t.root().id.as_ref()) {
            continue;
        }
        if let Some(b) = eligibility::blocker(t, &inv) {
            *report.outside_left_alone.entry(b.label()).or_default() += 1;
        }
    }
    report.strays = forest.strays.clone();
    report.convergence_roots = convergence_roots(&inv);
    // The batches need each tree's own stacks (the trees hold them), the locks and where
    // resources are, not the map of every stack: it goes before they start (at 100,000
    // roots its nodes were 7 MB of the peak), and with it the stacks in no tree.
    let mut inv = inv;
    inv.stacks = Default::default();
    let (mode, applied) = mode::Mode::begin(db, opts)?;
    report.migrations_applied = applied;
    report.run_id = mode.run_id().map(String::from);
    let mut missing_statistics = Vec::new();
    if let mode::Mode::Write(_) = mode {
        report.indexes = crate::db::indexes::create_missing(db)?;
        missing_statistics = crate::db::indexes::missing_statistics(db)?;
    }
    // A Galera node's limits on one transaction: trees are written under them.
    let limits = db
        .conn()
        .write_set_limits()
        .context("asking the server's limits on a transaction's write-set")?;
    if let Some(l) = &limits {
        tracing::info!(
            max_rows = l.max_rows.unwrap_or(0),
            max_bytes = l.max_bytes.unwrap_or(0),
            "a Galera node: transactions are cut to its write-set limits (0: none)"
        );
    }
    let settling = Settling {
        inv: &inv,
        mode: &mode,
        limits: limits.as_ref(),
    };
    let converted = std::thread::scope(|scope| {
        // Planner statistics a table lacks are gathered on a session of their own beside
        // the first batches (see `gather_statistics`), else before them.
        let gathering = match (&opts.reader, missing_statistics.is_empty()) {
            (_, true) => None,
            (Some(second), false) => {
                let missing = &missing_statistics;
                Some(scope.spawn(move || {
                    let mut db = second.open()?;
                    crate::db::indexes::gather_statistics(&mut *db, missing)
                }))
            }
            (None, false) => {
                report.statistics = crate::db::indexes::gather_statistics(db, &missing_statistics)?;
                None
            }
        };
        let converted = convert_trees(db.conn(), &trees, settling, opts, &mut report, progress);
        if let Some(gathering) = gathering {
            match gathering.join() {
                Ok(Ok(gathered)) => report.statistics = gathered,
                Ok(Err(e)) => tracing::warn!(
                    "planner statistics were not gathered ({}): the tables were read as they are",
                    esc(&format!("{e:#}"))
                ),
                Err(_) => tracing::warn!("gathering planner statistics panicked"),
            }
        }
        Ok::<_, anyhow::Error>(converted)
    })?;
    // A refusal every tree would meet (a privilege revoked meanwhile, a database switched
    // to read-only, a full disk) stops the run, with what it did before counted and
    // reported, instead of ending it without a report or refusing tree after tree.
    let converted = match converted {
        Err(e) => match crate::db::preflight::refusal(&e) {
            Some(kind) => {
                report.stopped = Some(format!(
                    "{}{} of {} trees (each converted or untouched): {} during the run ({}); \
                     fix that first",
                    stopped::BY_DATABASE,
                    report.tally.trees,
                    trees.len(),
                    kind.words(),
                    crate::db::preflight::said(&e.root_cause().to_string())
                ));
                report.stopped_by_database = true;
                Ok(())
            }
            None => Err(e),
        },
        ok => ok,
    };
    report.not_reached = trees.len() - report.tally.trees;
    if let Err(e) = converted {
        // What was written before stands (each tree whole): the record says where the run
        // stopped (if the database still answers), and the error carries the counts.
        report.stopped = Some(format!("{}{e:#}", stopped::FAILED));
        let _ = mode.end(db.conn(), &report);
        let _ = crate::db::indexes::drop_ours(db, &report.indexes);
        return Err(e.context(RunFailed {
            run_id: report.run_id.clone(),
            trees: trees.len(),
            converted: report.converted(),
            left_alone: report.skipped(),
        }));
    }
    report.plugin_types = opts.site.types_in_use();
    report.duration = run_started.elapsed();
    if let Some(pl) = &opts.selection.plan {
        let mut gone: Vec<(String, String)> = pl
            .trees
            .iter()
            .filter(|(id, _)| !trees.iter().any(|t| *t.root().id == ***id))
            .map(|(id, t)| (id.clone(), t.name.clone()))
            .collect();
        gone.sort();
        report.plan_gone = gone;
    }
    let p = &report.phases;
    tracing::info!(
        inventory_s = %Seconds(p.inventory),
        reading_s = %Seconds(p.reading),
        planning_s = %Seconds(p.planning),
        writing_s = %Seconds(p.writing),
        "where the time went"
    );
    let ended = converted.and_then(|()| mode.end(db.conn(), &report));
    // Dropped whatever happened; one left by a failure is dropped by the next run.
    let dropped = crate::db::indexes::drop_ours(db, &report.indexes);
    if report.stopped_by_database {
        // The refusal that stopped the run may refuse these too: said, not fatal, so
        // that the report of what was done is printed.
        let mut also = Vec::new();
        if let Err(e) = ended {
            also.push(format!("the run's record could not be closed ({e:#})"));
        }
        if let Err(e) = dropped {
            also.push(format!(
                "the temporary indexes stay until the next run drops them ({e:#})"
            ));
        }
        if let (Some(stopped), false) = (report.stopped.as_mut(), also.is_empty()) {
            stopped.push_str(&format!("; {}", also.join("; ")));
        }
        return Ok(report);
    }
    ended?;
    report.indexes_left = dropped?;
    Ok(report)
}

/// Converts (or, in a dry run, plans) the selected trees, a batch at a time, and tells
/// `progress` of each; the counts and kept lines go into `report`.
///
/// Reading and planning a batch and writing one are independent work for two sessions:
/// where the run can open a second session ([`Options::reader`]), a reader thread reads
/// and plans batch k+1 on it while this thread writes batch k, one batch ahead at most.
/// Nothing the reader read is trusted for being read early: the writer re-reads every
/// stack under its lock in the batch's transaction and leaves alone a tree that moved on
/// (see [`apply`]), exactly as it does when reading and writing take turns.
fn convert_trees(
    conn: &mut dyn crate::db::Connection,
    trees: &[&Tree],
    settling: Settling,
    opts: &Options,
    report: &mut Report,
    mut progress: impl FnMut(Progress) -> std::io::Result<()>,
) -> Result<()> {
    let inv = settling.inv;
    tracing::info!(
        run_id = report.run_id.as_deref().unwrap_or("dry run"),
        trees = trees.len(),
        filter = %esc(report.filter.as_deref().unwrap_or("none")),
        "run started"
    );
    if let Err(e) = progress(Progress::Start { trees: trees.len() }) {
        report.stopped = Some(format!(
            "{} ({e}); stopped before the first tree",
            stopped::OUTPUT_CLOSED
        ));
    }
    let chunks: Vec<&[&Tree]> = trees.chunks(TREES_PER_WRITE).collect();
    // Reading and writing take turns on one session; the planning of batch k+1 (it needs
    // no session) is done on a thread of its own while batch k is written.
    let sequential =
        |conn: &mut dyn crate::db::Connection,
         report: &mut Report,
         progress: &mut dyn FnMut(Progress) -> std::io::Result<()>| {
            std::thread::scope(|scope| {
                let mut chunks = chunks.iter();
                let mut next_one: Option<Planning> = None;
                settle_batches(
                    conn,
                    &mut |conn| {
                        let current = match next_one.take() {
                            Some(Planning::ReadFailed(failed)) => Some(Err(failed)),
                            Some(Planning::Planning(h)) => Some(h.join().unwrap_or_else(|_| {
                                Err(anyhow::anyhow!("planning a batch panicked"))
                            })),
                            None => chunks
                                .next()
                                .map(|chunk| read_and_plan(conn, chunk, inv, opts)),
                        };
                        if matches!(current, Some(Ok(_))) && crate::stop::requested().is_none() {
                            next_one =
                                chunks
                                    .next()
                                    .map(|chunk| match read_batch(conn, chunk, inv) {
                                        Ok(read) => Planning::Planning(
                                            scope.spawn(move || Ok(plan_batch(read, inv, opts))),
                                        ),
                                        Err(e) => Planning::ReadFailed(e),
                                    });
                        }
                        current
                    },
                    trees.len(),
                    settling,
                    report,
                    progress,
                )
            })
        };
    let ahead = chunks.len() > 1 && conn.reads_while_writing();
    let Some(second) = opts.reader.as_ref().filter(|_| ahead) else {
        return sequential(conn, report, &mut progress);
    };
    std::thread::scope(|scope| {
        // One batch ahead: the reader waits for the writer beyond that, so memory holds
        // two batches at most.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Ahead>(1);
        let chunks = &chunks;
        scope.spawn(move || {
            // The session is the reader's own: opened, used and closed on its thread.
            let mut db = match second.open() {
                Ok(db) => db,
                Err(e) => {
                    let _ = tx.send(Ahead::Unavailable(e));
                    return;
                }
            };
            for chunk in chunks {
                if crate::stop::requested().is_some() {
                    return;
                }
                let batch = read_and_plan(db.conn(), chunk, inv, opts);
                let failed = batch.is_err();
                // The writer stopped (the run ended early): nothing more to read.
                if tx.send(Ahead::Batch(batch)).is_err() || failed {
                    return;
                }
            }
        });
        let mut first = rx.recv().ok();
        if let Some(Ahead::Unavailable(e)) = &first {
            tracing::warn!(
                "no second session to read ahead on ({}): reading and writing take turns",
                esc(&format!("{e:#}"))
            );
            return sequential(conn, report, &mut progress);
        }
        tracing::info!("reading and planning on a second session while writing");
        settle_batches(
            conn,
            &mut |_| match first.take().or_else(|| rx.recv().ok()) {
                Some(Ahead::Batch(b)) => Some(b),
                _ => None,
            },
            trees.len(),
            settling,
            report,
            &mut progress,
        )
        // Leaving the scope drops the receiver: a reader still reading stops at its send.
    })
}

/// What writing a batch needs beside the session: the inventory its trees were read from,
/// the run's mode, and the server's limits on one transaction.
#[derive(Clone, Copy)]
struct Settling<'a> {
    inv: &'a Inventory,
    mode: &'a mode::Mode,
    limits: Option<&'a crate::db::WriteSetLimits>,
}

/// The batch after the one being written, when reads take turns with writes.
enum Planning<'s, 't> {
    /// Read whole, being planned on a thread of its own.
    Planning(std::thread::ScopedJoinHandle<'s, Result<Batch<'t>>>),
    /// Its reading failed: the run learns it when it comes to that batch.
    ReadFailed(anyhow::Error),
}

/// What the reader thread hands the writer.
enum Ahead<'t> {
    /// It could not open its session: the run reads and writes on one, taking turns.
    Unavailable(anyhow::Error),
    Batch(Result<Batch<'t>>),
}

/// A batch of trees read and planned, ready to be written.
struct Batch<'t> {
    works: Vec<TreeWork<'t>>,
    reading: std::time::Duration,
    planning: std::time::Duration,
}

/// The resources of a batch's trees (by stack id) and their templates (by id).
type Resources = HashMap<String, Vec<crate::db::read::ResourceRow>>;
type Templates = HashMap<i64, Result<crate::db::read::RawTemplateRow, String>>;

/// Reads what the batch's trees need and plans each that may convert, the templates a
/// planning batch ([`TREES_PER_PLAN`]) at a time: they are the large part, dropped once
/// their trees are planned.
fn read_and_plan<'t>(
    conn: &mut dyn crate::db::Connection,
    chunk: &[&'t Tree],
    inv: &Inventory,
    opts: &Options,
) -> Result<Batch<'t>> {
    let mut works = works_of(chunk, inv);
    let (resources, mut reading) = read_resources(conn, &works, inv)?;
    let mut planning = std::time::Duration::ZERO;
    for batch in works.chunks_mut(TREES_PER_PLAN) {
        let started = std::time::Instant::now();
        let templates = read_templates(conn, batch)?;
        reading += started.elapsed();
        planning += plan_works(batch, &resources, &templates, inv, opts);
    }
    Ok(Batch {
        works,
        reading,
        planning,
    })
}

/// A batch read whole (its templates too), to be planned on another thread.
struct ReadBatch<'t> {
    works: Vec<TreeWork<'t>>,
    resources: Resources,
    templates: Templates,
    reading: std::time::Duration,
}

/// Reads everything the batch's trees need, its templates at once.
fn read_batch<'t>(
    conn: &mut dyn crate::db::Connection,
    chunk: &[&'t Tree],
    inv: &Inventory,
) -> Result<ReadBatch<'t>> {
    let works = works_of(chunk, inv);
    let (resources, mut reading) = read_resources(conn, &works, inv)?;
    let started = std::time::Instant::now();
    let templates = read_templates(conn, &works)?;
    reading += started.elapsed();
    Ok(ReadBatch {
        works,
        resources,
        templates,
        reading,
    })
}

/// Plans a batch read by [`read_batch`].
fn plan_batch<'t>(read: ReadBatch<'t>, inv: &Inventory, opts: &Options) -> Batch<'t> {
    let ReadBatch {
        mut works,
        resources,
        templates,
        reading,
    } = read;
    let planning = plan_works(&mut works, &resources, &templates, inv, opts);
    Batch {
        works,
        reading,
        planning,
    }
}

/// One value per tree carries it through the batch (read, planned, settled); a tree
/// that cannot convert is settled at once.
fn works_of<'t>(chunk: &[&'t Tree], inv: &Inventory) -> Vec<TreeWork<'t>> {
    chunk
        .iter()
        .map(|t| TreeWork {
            tree: t,
            stage: match eligibility::blocker(t, inv) {
                Some(b) => Stage::Done(Outcome::Skipped(b)),
                None => Stage::Eligible,
            },
            warnings: Vec::new(),
            reviewed: None,
            took: std::time::Duration::ZERO,
        })
        .collect()
}

/// The resources of the trees that may convert (only they need any), in one query.
fn read_resources(
    conn: &mut dyn crate::db::Connection,
    works: &[TreeWork],
    inv: &Inventory,
) -> Result<(Resources, std::time::Duration)> {
    let stack_ids: Vec<String> = works
        .iter()
        .filter(|w| matches!(w.stage, Stage::Eligible))
        .flat_map(|w| w.tree.stacks.iter().map(|s| s.id.to_string()))
        .collect();
    let started = std::time::Instant::now();
    let resources = load::batch_resources(conn, inv, &stack_ids)?;
    Ok((resources, started.elapsed()))
}

/// The current templates of the trees that may convert, and their previous ones (the
/// types of the resources deleted).
fn read_templates(conn: &mut dyn crate::db::Connection, works: &[TreeWork]) -> Result<Templates> {
    let template_ids: Vec<i64> = works
        .iter()
        .filter(|w| matches!(w.stage, Stage::Eligible))
        .flat_map(|w| {
            w.tree
                .stacks
                .iter()
                .flat_map(|s| [s.raw_template_id, s.prev_raw_template_id])
                .flatten()
        })
        .collect();
    load::raw_templates(conn, &template_ids)
}

/// Plans each tree of `works` that may convert, each on its own (on every core); returns
/// the time it took.
fn plan_works(
    works: &mut [TreeWork],
    resources: &Resources,
    templates: &Templates,
    inv: &Inventory,
    opts: &Options,
) -> std::time::Duration {
    use rayon::prelude::*;
    let started = std::time::Instant::now();
    works
        .par_iter_mut()
        .filter(|w| matches!(w.stage, Stage::Eligible))
        .for_each(|w| {
            let started = std::time::Instant::now();
            w.stage = match plan::plan_tree(w.tree, resources, templates, &opts.site)
                .and_then(|p| prepare(p, w.tree, resources, templates, inv, opts))
            {
                Err(b) => Stage::Done(Outcome::Skipped(b)),
                Ok((p, review)) => {
                    w.warnings = p.warnings();
                    w.reviewed = review;
                    Stage::Planned(p)
                }
            };
            w.took = started.elapsed();
        });
    started.elapsed()
}

/// The next batch read and planned, if any (given the writer's session, which it may use
/// when reading and writing take turns).
type NextBatch<'n, 't> =
    dyn FnMut(&mut dyn crate::db::Connection) -> Option<Result<Batch<'t>>> + 'n;

/// Writes each batch as it comes (in a dry run: records nothing) and reports its trees.
fn settle_batches<'t>(
    conn: &mut dyn crate::db::Connection,
    next: &mut NextBatch<'_, 't>,
    total: usize,
    settling: Settling,
    report: &mut Report,
    progress: &mut dyn FnMut(Progress) -> std::io::Result<()>,
) -> Result<()> {
    loop {
        if report.stopped.is_some() {
            break;
        }
        if let Some(signal) = crate::stop::requested() {
            report.signal = Some(signal);
            report.stopped = Some(format!(
                "{}{signal} after {} of {} trees, each converted or untouched",
                stopped::BY_SIGNAL,
                report.tally.trees,
                total
            ));
            break;
        }
        let Some(batch) = next(&mut *conn) else {
            break;
        };
        let Batch {
            mut works,
            reading,
            planning,
        } = batch?;
        report.phases.reading += reading;
        report.phases.planning += planning;
        // Written together: the plans, and the record of each tree left alone so far, in
        // one transaction (see `apply`).
        let writing = std::time::Instant::now();
        let (settled, halted) = {
            let plans: Vec<&TreePlan> = works.iter().filter_map(TreeWork::plan).collect();
            let left_alone: Vec<(&Tree, &Blocker)> =
                works.iter().filter_map(TreeWork::left_alone).collect();
            settling.mode.settle(
                conn,
                &plans,
                &left_alone,
                settling.inv,
                settling.limits,
                &mut report.retries,
            )?
        };
        report.phases.writing += writing.elapsed();
        let planned = works.iter().filter(|w| w.plan().is_some()).count();
        let share = writing.elapsed() / planned.max(1) as u32;
        let mut settled = settled.into_iter();
        let mut refused_at = Vec::new();
        for (i, w) in works.iter_mut().enumerate() {
            if !matches!(w.stage, Stage::Planned(_)) {
                continue;
            }
            // A halted batch settles only the first of its plans; the others are not
            // written, nor reported (the run stops).
            w.stage = match settled.next() {
                Some(o) => {
                    if matches!(o, Outcome::Skipped(_)) {
                        refused_at.push(i);
                    }
                    Stage::Done(o)
                }
                None => Stage::Unwritten,
            };
            w.took += share;
        }
        let refused: Vec<(&Tree, &Blocker)> = refused_at
            .iter()
            .filter_map(|&i| works[i].left_alone())
            .collect();
        if let Err(e) = settling
            .mode
            .record_refused(conn, &refused, settling.limits)
        {
            // After a halt the same refusal may well refuse this record too: the halt
            // is what the run reports.
            if halted.is_none() {
                return Err(e);
            }
            tracing::warn!("the trees refused before the run stopped are not recorded: {e:#}");
        }
        drop(refused);
        let in_chunk = works.len();
        for (i, w) in works.into_iter().enumerate() {
            let Stage::Done(outcome) = w.stage else {
                continue;
            };
            let root = w.tree.root();
            let tr = TreeReport {
                root_id: root.id.to_string(),
                root_name: root.name.clone(),
                project: root.tenant.to_string(),
                stacks: w.tree.stacks.len(),
                outcome,
                warnings: w.warnings,
                reviewed: w.reviewed,
            };
            log_tree(&tr, w.took);
            report.tally.add(&tr.outcome);
            let shown = if report.stopped.is_none() {
                progress(Progress::Tree(&tr, w.took))
            } else {
                Ok(())
            };
            // Which lines to keep is the command's: the engine hands each on and keeps none.
            drop(tr);
            if let Err(e) = shown {
                // The chunk is written: its trees are counted; the run stops after it.
                report.stopped = Some(format!(
                    "{} ({e}); stopped after {} of {} trees, each converted or untouched",
                    stopped::OUTPUT_CLOSED,
                    report.tally.trees + (in_chunk - i - 1),
                    total
                ));
            }
        }
        // The trees written before it are counted; the rest of the run would be refused.
        if let Some(e) = halted {
            return Err(e);
        }
    }
    Ok(())
}

/// One tree of a batch, from the moment it is read to the moment it is settled.
struct TreeWork<'t> {
    tree: &'t Tree,
    stage: Stage,
    /// What the operator must hear about it (a cyclic template).
    warnings: Vec<String>,
    /// Its fingerprint and changes, for a plan file.
    reviewed: Option<Box<ReviewedTree>>,
    /// Its share of the batch's time.
    took: std::time::Duration,
}

/// Where a tree of a batch stands.
enum Stage {
    /// May convert: to be planned.
    Eligible,
    /// Planned: to be written (or, in a dry run, reported as it would be).
    Planned(TreePlan),
    /// Converted, would convert, or left alone.
    Done(Outcome),
    /// Planned, but its batch halted before it was written: not reported.
    Unwritten,
}

impl<'t> TreeWork<'t> {
    fn plan(&self) -> Option<&TreePlan> {
        match &self.stage {
            Stage::Planned(p) => Some(p),
            _ => None,
        }
    }

    fn left_alone(&self) -> Option<(&'t Tree, &Blocker)> {
        match &self.stage {
            Stage::Done(Outcome::Skipped(b)) => Some((self.tree, b)),
            _ => None,
        }
    }
}

/// A plan made: fingerprinted for a plan file, checked against the reviewed plan for
/// `migrate --plan`. What the plan file keeps of it comes back beside it.
#[allow(clippy::type_complexity)]
fn prepare(
    mut p: TreePlan,
    tree: &Tree,
    resources: &HashMap<String, Vec<crate::db::read::ResourceRow>>,
    templates: &HashMap<i64, Result<crate::db::read::RawTemplateRow, String>>,
    inv: &Inventory,
    opts: &Options,
) -> Result<(TreePlan, Option<Box<ReviewedTree>>), Blocker> {
    // Hashing every row of a tree is only needed to write or check a plan file: not on
    // every run's path.
    if opts.fingerprints || opts.selection.plan.is_some() {
        p.fingerprint = Fingerprint {
            rows: fingerprint::rows(tree, resources, templates),
            locks: fingerprint::locks(tree, inv),
        };
    }
    if let Some(pt) = opts
        .selection
        .plan
        .as_ref()
        .and_then(|pl| pl.trees.get(&p.root_id))
    {
        if let Some(detail) = pt.differs(&p) {
            return Err(Blocker::ChangedSincePlan { detail });
        }
        p.must_match = Some(pt.fingerprint.rows.clone());
    }
    let review = opts.fingerprints.then(|| {
        Box::new(ReviewedTree {
            name: tree.root().name.clone(),
            fingerprint: p.fingerprint.clone(),
            changes: p.changes_json(),
        })
    });
    Ok((p, review))
}

/// `-v`: one line per tree with its outcome and time (names, ids and reasons escaped as
/// in the text report: a log line is one line, and a log read on a terminal is safe).
fn log_tree(tr: &TreeReport, took: std::time::Duration) {
    let ms = took.as_millis() as u64;
    let (root, name) = (esc(&tr.root_id), esc(&tr.root_name));
    match &tr.outcome {
        Outcome::Skipped(b) => tracing::info!(
            root = %root, name = %name, outcome = "left_alone",
            reason_kind = b.kind(), reason = %esc(&b.to_string()), ms, "tree"
        ),
        Outcome::Converted(c) => tracing::info!(
            root = %root, name = %name, outcome = "converted",
            stacks = c.stacks, resources = c.resources_converted,
            deleted = c.resources_deleted, ms, "tree"
        ),
        Outcome::WouldConvert(c) => tracing::info!(
            root = %root, name = %name, outcome = "would_convert",
            stacks = c.stacks, ms, "tree"
        ),
    }
    for w in &tr.warnings {
        tracing::warn!(root = %root, "{}", esc(w));
    }
}
