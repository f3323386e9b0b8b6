//! heat-converge's record read back, for `heat-converge history`: the runs of
//! `heat_converge_run`, the stacks each recorded in `heat_converge_stack` and the rows it
//! deleted in `heat_converge_deleted` ([`super::history`] writes them).
//!
//! **Read-only, whatever build wrote it.** Looking at the past must not change the
//! database, so no migration is applied: the tables are read as the build that last ran
//! left them (no `stopped` before V3, no audit before V4), each asked for the same neutral
//! way as Heat's (`SELECT cols FROM t WHERE 1=0`, as `verify` asks for its record). No
//! table of ours: heat-converge never ran on this database. A table the user may not read
//! is named as such, never taken for one that is missing.
//!
//! **One moment.** The runs, their counts and one run's rows are read in one read-only
//! snapshot, so that a run writing meanwhile cannot make them disagree.
//!
//! **How a run ended** is told from its end (`ended_at`) and why it stopped early
//! (`stopped`, whose first words [`super::history::stopped`] fixes); a run with no end
//! recorded is still going, or was killed or lost its connection (its trees are each
//! converted whole or untouched all the same).

use super::history::stopped;
use super::read::{in_snapshot, stacks_now};
use super::refusal::{refusal, unreadable, Refusal};
use super::{named, query_as, Connection, FromRow, Param, Row};
use anyhow::Result;
use std::collections::BTreeMap;

/// Which of heat-converge's tables (and later columns) the database holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// `heat_converge_run` and `heat_converge_stack` (V1): heat-converge ran here.
    pub runs: bool,
    /// `heat_converge_run.stopped` (V3).
    pub stopped: bool,
    /// `heat_converge_deleted`, the audit of deleted rows (V4).
    pub audit: bool,
}

impl Layout {
    /// What is there; an error only when the user may not read a table that is.
    pub fn of(conn: &mut dyn Connection) -> Result<Layout> {
        let runs =
            there(conn, "heat_converge_run", None)? && there(conn, "heat_converge_stack", None)?;
        Ok(Layout {
            runs,
            stopped: runs && there(conn, "heat_converge_run", Some("stopped"))?,
            audit: runs && there(conn, "heat_converge_deleted", None)?,
        })
    }
}

/// Whether the table (the column) is there; a read refused for want of SELECT is an error.
fn there(conn: &mut dyn Connection, table: &str, column: Option<&str>) -> Result<bool> {
    let sql = format!("SELECT {} FROM {table} WHERE 1=0", column.unwrap_or("1"));
    match conn.query(&sql, &[]) {
        Ok(_) => Ok(true),
        Err(e) if refusal(&e) == Some(Refusal::Privilege) => {
            Err(unreadable(conn, table, column, e))
        }
        Err(_) => Ok(false),
    }
}

/// How a run ended, as its record tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// It looked at every tree it selected.
    Completed,
    /// A signal (SIGTERM, SIGINT, SIGHUP) stopped it between batches.
    StoppedBySignal,
    /// A refusal every tree would meet (a privilege, a read-only database, a full disk).
    StoppedByDatabase,
    /// Its output was closed.
    OutputClosed,
    /// A failure ended it.
    Failed,
    /// Stopped early, in words this build does not know.
    Stopped,
    /// No end recorded: still going, or killed, or its connection lost.
    NotEnded,
}

impl Ending {
    /// From the run's record: whether it recorded its end, and why it stopped early.
    pub fn of(ended: bool, why: Option<&str>) -> Ending {
        let Some(why) = why else {
            return if ended {
                Ending::Completed
            } else {
                Ending::NotEnded
            };
        };
        [
            (stopped::FAILED, Ending::Failed),
            (stopped::BY_SIGNAL, Ending::StoppedBySignal),
            (stopped::BY_DATABASE, Ending::StoppedByDatabase),
            (stopped::OUTPUT_CLOSED, Ending::OutputClosed),
        ]
        .into_iter()
        .find(|(words, _)| why.starts_with(words))
        .map_or(Ending::Stopped, |(_, e)| e)
    }

    /// The JSON value.
    pub fn code(self) -> &'static str {
        match self {
            Ending::Completed => "completed",
            Ending::StoppedBySignal => "stopped_by_signal",
            Ending::StoppedByDatabase => "stopped_by_database",
            Ending::OutputClosed => "output_closed",
            Ending::Failed => "failed",
            Ending::Stopped => "stopped",
            Ending::NotEnded => "not_ended",
        }
    }

    /// In words, for people.
    pub fn words(self) -> &'static str {
        match self {
            Ending::Completed => "completed",
            Ending::StoppedBySignal => "stopped by a signal",
            Ending::StoppedByDatabase => "stopped by the database",
            Ending::OutputClosed => "stopped: its output was closed",
            Ending::Failed => "failed",
            Ending::Stopped => "stopped early",
            Ending::NotEnded => "no end recorded: still running, or killed or cut off",
        }
    }
}

/// One run as its row records it (`sql/runs.sql`), with what its other rows count.
#[derive(Clone, Debug, Default)]
pub struct Run {
    pub id: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub tool_version: String,
    pub host: String,
    /// Its options, as the run recorded them (JSON; no password: the URL is shown as
    /// every output shows it).
    pub options: String,
    /// Why it stopped early, if it did.
    pub stopped: Option<String>,
    /// The counts the run ended with (None: it recorded no end).
    pub at_end: Option<EndCounts>,
    /// What its stack rows record, written with each tree (so also for a run that never
    /// recorded its end).
    pub recorded: Recorded,
    /// Rows it deleted by kind (`resource`, `raw_template`, `raw_template_files`), from the
    /// audit; None when the database has no audit (heat-converge older than V4 ran).
    pub deleted: Option<BTreeMap<String, i64>>,
}

impl Run {
    pub fn ending(&self) -> Ending {
        Ending::of(self.ended_at.is_some(), self.stopped.as_deref())
    }
}

/// The counts a run recorded at its end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EndCounts {
    pub trees_converted: i64,
    pub trees_left_alone: i64,
    pub stacks_converted: i64,
    /// Legacy trees and stray stacks left in the whole database after it.
    pub legacy_left_in_database: i64,
}

/// What a run's stack rows record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recorded {
    pub trees_converted: i64,
    pub trees_left_alone: i64,
    pub stacks_converted: i64,
}

impl FromRow for Run {
    fn from_row(r: &Row) -> Result<Self> {
        let int = |c: &str| r.int(c);
        let at_end = match (
            r.text("ended_at")?,
            int("trees_converted")?,
            int("trees_skipped")?,
            int("stacks_converted")?,
            int("trees_remaining")?,
        ) {
            (Some(_), Some(tc), Some(ts), Some(sc), Some(tr)) => Some(EndCounts {
                trees_converted: tc,
                trees_left_alone: ts,
                stacks_converted: sc,
                legacy_left_in_database: tr,
            }),
            _ => None,
        };
        Ok(Run {
            id: r.string("id")?,
            started_at: r.string("started_at")?,
            ended_at: r.text("ended_at")?,
            tool_version: r.string("tool_version")?,
            host: r.string("host")?,
            options: r.string("options")?,
            stopped: r.text("stopped")?,
            at_end,
            ..Run::default()
        })
    }
}

/// A run's stacks of one outcome (`sql/run_outcomes.sql`).
struct OutcomeCount {
    run_id: String,
    outcome: String,
    trees: i64,
    stacks: i64,
}

impl FromRow for OutcomeCount {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(OutcomeCount {
            run_id: r.string("run_id")?,
            outcome: r.string("outcome")?,
            trees: r.int("trees")?.unwrap_or_default(),
            stacks: r.int("stacks")?.unwrap_or_default(),
        })
    }
}

/// A run's deleted rows of one kind (`sql/run_deletions.sql`).
struct DeletionCount {
    run_id: String,
    kind: String,
    n: i64,
}

impl FromRow for DeletionCount {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(DeletionCount {
            run_id: r.string("run_id")?,
            kind: r.string("kind")?,
            n: r.int("n")?.unwrap_or_default(),
        })
    }
}

/// Every run recorded, newest first, with its counts; none when heat-converge never ran
/// here. Reads only.
pub fn runs(conn: &mut dyn Connection, layout: Layout) -> Result<Vec<Run>> {
    if !layout.runs {
        return Ok(Vec::new());
    }
    in_snapshot(conn, |conn| read_runs(conn, layout))
}

fn read_runs(conn: &mut dyn Connection, layout: Layout) -> Result<Vec<Run>> {
    let sql = if layout.stopped {
        include_str!("../../sql/runs.sql")
    } else {
        include_str!("../../sql/runs_v1.sql")
    };
    let mut runs: Vec<Run> = query_as(conn, sql, &[])?;
    let mut by_id: BTreeMap<String, &mut Run> =
        runs.iter_mut().map(|r| (r.id.clone(), r)).collect();
    let outcomes: Vec<OutcomeCount> =
        query_as(conn, include_str!("../../sql/run_outcomes.sql"), &[])?;
    for o in outcomes {
        let Some(run) = by_id.get_mut(&o.run_id) else {
            continue;
        };
        match o.outcome.as_str() {
            "converted" => {
                run.recorded.trees_converted += o.trees;
                run.recorded.stacks_converted += o.stacks;
            }
            _ => run.recorded.trees_left_alone += o.trees,
        }
    }
    if layout.audit {
        for run in by_id.values_mut() {
            run.deleted = Some(BTreeMap::new());
        }
        let deletions: Vec<DeletionCount> =
            query_as(conn, include_str!("../../sql/run_deletions.sql"), &[])?;
        for d in deletions {
            if let Some(kinds) = by_id.get_mut(&d.run_id).and_then(|r| r.deleted.as_mut()) {
                *kinds.entry(d.kind).or_default() += d.n;
            }
        }
    }
    Ok(runs)
}

/// One tree a run recorded: its root's row and its stacks'.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TreeRecord {
    pub root_id: String,
    /// The root's name as Heat's `stack` row has it now (None: the row is purged).
    pub name: Option<String>,
    /// `converted` or `skipped` (left alone), as recorded.
    pub outcome: String,
    /// Why it was left alone (the reason's label and words).
    pub reason: Option<String>,
    pub stacks: i64,
    pub resources_converted: i64,
    pub resources_deleted: i64,
    pub templates_deleted: i64,
}

/// One stack row of a run (`sql/run_stacks.sql`).
struct StackRecord {
    stack_id: String,
    root_stack_id: String,
    outcome: String,
    reason: Option<String>,
    resources_converted: i64,
    resources_deleted: i64,
    templates_deleted: i64,
}

impl FromRow for StackRecord {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(StackRecord {
            stack_id: r.string("stack_id")?,
            root_stack_id: r.string("root_stack_id")?,
            outcome: r.string("outcome")?,
            reason: r.text("reason")?,
            resources_converted: r.int("resources_converted")?.unwrap_or_default(),
            resources_deleted: r.int("resources_deleted")?.unwrap_or_default(),
            templates_deleted: r.int("templates_deleted")?.unwrap_or_default(),
        })
    }
}

/// One row a run deleted, as its audit records it (`sql/run_deleted_rows.sql`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeletedRecord {
    pub root_stack_id: String,
    pub stack_id: String,
    /// The stack's name as Heat's `stack` row has it now (None: purged).
    pub stack_name: Option<String>,
    /// `resource`, `raw_template` or `raw_template_files`.
    pub kind: String,
    pub row_id: i64,
    pub uuid: Option<String>,
    pub name: Option<String>,
    pub type_name: Option<String>,
    pub physical_id: Option<String>,
    pub action: Option<String>,
    pub status: Option<String>,
    pub reason: String,
}

impl FromRow for DeletedRecord {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(DeletedRecord {
            root_stack_id: r.string("root_stack_id")?,
            stack_id: r.string("stack_id")?,
            stack_name: None,
            kind: r.string("kind")?,
            row_id: r.int("row_id")?.unwrap_or_default(),
            uuid: r.text("uuid")?,
            name: r.text("name")?,
            type_name: r.text("type")?,
            physical_id: r.text("physical_id")?,
            action: r.text("action")?,
            status: r.text("status")?,
            reason: r.string("reason")?,
        })
    }
}

/// One run with its trees and the rows it deleted.
#[derive(Clone, Debug, Default)]
pub struct RunDetail {
    pub run: Run,
    /// The converted trees first, each by root stack id.
    pub trees: Vec<TreeRecord>,
    /// None when the database has no audit (heat-converge older than V4 ran).
    pub deleted: Option<Vec<DeletedRecord>>,
}

/// The run `id` with its trees and deleted rows; None when no run has that id. Reads only.
pub fn run(conn: &mut dyn Connection, layout: Layout, id: &str) -> Result<Option<RunDetail>> {
    if !layout.runs {
        return Ok(None);
    }
    in_snapshot(conn, |conn| {
        let Some(run) = read_runs(conn, layout)?.into_iter().find(|r| r.id == id) else {
            return Ok(None);
        };
        let by_run = [("run_id", Param::Text(id.to_string()))];
        let b = named::bind(include_str!("../../sql/run_stacks.sql"), &by_run, &[])?;
        let stacks: Vec<StackRecord> = query_as(conn, &b.sql, &b.params)?;
        let mut trees = trees_of(&stacks);
        let deleted = match layout.audit {
            false => None,
            true => {
                let b = named::bind(include_str!("../../sql/run_deleted_rows.sql"), &by_run, &[])?;
                Some(query_as::<DeletedRecord>(conn, &b.sql, &b.params)?)
            }
        };
        // Names as Heat's rows have them now: the record keeps ids only.
        let mut ids: Vec<String> = trees.iter().map(|t| t.root_id.clone()).collect();
        ids.extend(deleted.iter().flatten().map(|d| d.stack_id.clone()));
        ids.sort();
        ids.dedup();
        let now = stacks_now(conn, &ids)?;
        let name = |id: &str| now.get(id).map(|s| s.row.name.clone());
        for t in &mut trees {
            t.name = name(&t.root_id);
        }
        let deleted = deleted.map(|rows| {
            rows.into_iter()
                .map(|d| DeletedRecord {
                    stack_name: name(&d.stack_id),
                    ..d
                })
                .collect()
        });
        Ok(Some(RunDetail {
            run,
            trees,
            deleted,
        }))
    })
}

/// The stack rows of a run, one tree per root, in the rows' order (each tree's together).
fn trees_of(stacks: &[StackRecord]) -> Vec<TreeRecord> {
    let mut trees: Vec<TreeRecord> = Vec::new();
    for s in stacks {
        if trees.last().map(|t| &t.root_id) != Some(&s.root_stack_id) {
            trees.push(TreeRecord {
                root_id: s.root_stack_id.clone(),
                outcome: s.outcome.clone(),
                ..TreeRecord::default()
            });
        }
        let Some(t) = trees.last_mut() else { continue };
        if s.stack_id == s.root_stack_id {
            t.outcome = s.outcome.clone();
            t.reason = s.reason.clone();
        }
        t.stacks += 1;
        t.resources_converted += s.resources_converted;
        t.resources_deleted += s.resources_deleted;
        t.templates_deleted += s.templates_deleted;
    }
    trees
}

#[cfg(test)]
mod tests {
    use super::{stopped, Ending};

    #[test]
    fn a_run_s_ending_is_told_by_the_words_the_run_wrote() {
        assert_eq!(Ending::of(true, None), Ending::Completed);
        assert_eq!(Ending::of(false, None), Ending::NotEnded);
        for (why, ending) in [
            (format!("{}no such table", stopped::FAILED), Ending::Failed),
            (
                format!("{}SIGTERM after 3 of 9 trees", stopped::BY_SIGNAL),
                Ending::StoppedBySignal,
            ),
            (
                format!("{}3 of 9 trees (each ...)", stopped::BY_DATABASE),
                Ending::StoppedByDatabase,
            ),
            (
                format!("{} (Broken pipe)", stopped::OUTPUT_CLOSED),
                Ending::OutputClosed,
            ),
            ("words of another build".to_string(), Ending::Stopped),
        ] {
            assert_eq!(Ending::of(true, Some(&why)), ending, "{why}");
        }
    }
}
