//! A run's mode as a type: a dry run only looks, a real run converts each ready tree and
//! records what it did. Every place where the two differ is a method here, so the
//! conversion cannot forget which mode it is in (and a dry run has no run id to lose).

use super::apply::{self, Recording};
use super::eligibility::Blocker;
use super::plan::TreePlan;
use super::tree::Tree;
use super::{Options, Outcome, Report};
use crate::db::history::{self, RunEnd, RunStart, StackOutcome};
use crate::db::read::Inventory;
use crate::db::{Connection, Database, WriteSetLimits};
use anyhow::Result;
use std::collections::HashMap;

#[derive(Clone, Debug)]
pub enum Mode {
    /// Read and plan everything, write nothing at all (not even the tool's own tables).
    DryRun,
    /// Convert and record.
    Write(Recording),
}

/// Each left-alone tree's recorded reason: its label and its words.
fn reasons(trees: &[(&Tree, &Blocker)]) -> Vec<String> {
    trees
        .iter()
        .map(|(_, b)| format!("{}: {b}", b.label()))
        .collect()
}

/// The history rows of trees left alone, against their roots.
fn skip_rows<'a>(
    rec: &'a Recording,
    trees: &'a [(&'a Tree, &'a Blocker)],
    reasons: &'a [String],
) -> Vec<StackOutcome<'a>> {
    trees
        .iter()
        .zip(reasons)
        .map(|((tree, _), reason)| StackOutcome {
            run_id: &rec.run_id,
            stack_id: &tree.root().id,
            root_stack_id: &tree.root().id,
            outcome: "skipped",
            reason: Some(reason),
            resources_converted: 0,
            resources_deleted: 0,
            templates_deleted: 0,
            traversal: None,
        })
        .collect()
}

impl Mode {
    /// Starts a run: a real one applies the tool's schema migrations (their names are
    /// returned) and writes its run row.
    pub fn begin(db: &mut dyn Database, opts: &Options) -> Result<(Mode, Vec<String>)> {
        if opts.dry_run {
            return Ok((Mode::DryRun, Vec::new()));
        }
        let applied = history::set_up(db)?;
        let rec = Recording {
            run_id: uuid::Uuid::new_v4().to_string(),
            engine_id: uuid::Uuid::new_v4().to_string(),
        };
        history::start_run(
            db.conn(),
            &RunStart {
                id: &rec.run_id,
                started_at: &super::now_utc_ms(),
                host: &opts.record.host,
                options: &opts.record.described,
            },
        )?;
        Ok((Mode::Write(rec), applied))
    }

    pub fn run_id(&self) -> Option<&str> {
        match self {
            Mode::DryRun => None,
            Mode::Write(rec) => Some(&rec.run_id),
        }
    }

    /// What becomes of the trees whose plans are made: reported, or written (a batch at a
    /// time; see [`apply`]) together with the record of the trees left alone. One outcome
    /// per plan, in their order; a tree the database refused is recorded too. When a
    /// failure every tree would meet halted the writing, the outcomes of the plans before
    /// it come with that failure (the others were not written; the run must stop).
    pub fn settle(
        &self,
        conn: &mut dyn Connection,
        plans: &[&TreePlan],
        left_alone: &[(&Tree, &Blocker)],
        inv: &Inventory,
        limits: Option<&WriteSetLimits>,
        retries: &mut apply::Retries,
    ) -> Result<(Vec<Outcome>, Option<anyhow::Error>)> {
        // Transactions cut to the server's write-set limits, if it has any; a tree over
        // them on its own is left alone (a dry run says so too).
        let (mut groups, over) = match limits {
            Some(l) => super::write_set::cut(plans, l),
            None => (vec![plans.to_vec()], Vec::new()),
        };
        let mut over: HashMap<&str, Blocker> = over
            .into_iter()
            .map(|(p, b)| (p.root_id.as_str(), b))
            .collect();
        let Mode::Write(rec) = self else {
            let would = plans
                .iter()
                .map(|p| match over.remove(p.root_id.as_str()) {
                    Some(b) => Outcome::Skipped(b),
                    None => Outcome::WouldConvert(p.changes()),
                })
                .collect();
            return Ok((would, None));
        };
        let reasons = reasons(left_alone);
        let rows = skip_rows(rec, left_alone, &reasons);
        if groups.is_empty() {
            groups.push(Vec::new());
        }
        // The trees left alone are recorded with the first transaction; under a limit, in
        // transactions of their own that stay under it.
        let mut first_also: &[StackOutcome] = &rows;
        if let Some(limits) = limits {
            for chunk in super::write_set::cut_records(&rows, limits) {
                let applied = apply::apply(conn, &[], chunk, inv, rec, retries)?;
                if applied.halted.is_some() {
                    return Ok((Vec::new(), applied.halted));
                }
            }
            first_also = &[];
        }
        let mut written: HashMap<&str, Outcome> = HashMap::new();
        let mut halted = None;
        for (i, group) in groups.iter().enumerate() {
            let also = if i == 0 { first_also } else { &[] };
            let applied = apply::apply(conn, group, also, inv, rec, retries)?;
            for (p, r) in group.iter().zip(applied.outcomes) {
                written.insert(
                    p.root_id.as_str(),
                    match r {
                        Ok(c) => Outcome::Converted(c),
                        Err(b) => Outcome::Skipped(b),
                    },
                );
            }
            if applied.halted.is_some() {
                halted = applied.halted;
                break;
            }
        }
        // In the order of the plans, up to the first one not written (a halted run).
        let mut outcomes = Vec::with_capacity(plans.len());
        for p in plans {
            let root = p.root_id.as_str();
            match over
                .remove(root)
                .map(Outcome::Skipped)
                .or_else(|| written.remove(root))
            {
                Some(o) => outcomes.push(o),
                None => break,
            }
        }
        Ok((outcomes, halted))
    }

    /// Records trees the database refused while they were written (each is left alone).
    /// Under a server's write-set limits, in statements that stay under them.
    pub fn record_refused(
        &self,
        conn: &mut dyn Connection,
        refused: &[(&Tree, &Blocker)],
        limits: Option<&WriteSetLimits>,
    ) -> Result<()> {
        let Mode::Write(rec) = self else {
            return Ok(());
        };
        if refused.is_empty() {
            return Ok(());
        }
        let reasons = reasons(refused);
        let rows = skip_rows(rec, refused, &reasons);
        match limits {
            Some(l) => super::write_set::cut_records(&rows, l)
                .into_iter()
                .try_for_each(|chunk| history::record_stacks(conn, chunk)),
            None => history::record_stacks(conn, &rows),
        }
    }

    /// Ends the run's record with its counts.
    pub fn end(&self, conn: &mut dyn Connection, report: &Report) -> Result<()> {
        let Mode::Write(rec) = self else {
            return Ok(());
        };
        history::end_run(
            conn,
            &rec.run_id,
            &super::now_utc_ms(),
            &RunEnd {
                // The tally counts every tree; the report keeps only some trees' lines.
                stacks_converted: report.tally.stacks_converted as i64,
                trees_converted: report.converted() as i64,
                trees_skipped: report.skipped() as i64,
                trees_remaining: report.legacy_left_in_database() as i64,
                stopped: report.stopped.as_deref(),
            },
        )
    }
}
