//! What a run says at the end: a summary table for people, JSON for pipelines, and the
//! exit code that tells them apart.
//!
//! Exit codes (documented in the README):
//! - 0: no legacy stack tree remains (all converted, or there were none);
//! - 3: legacy stacks remain (busy, failed, locked, outside the filter, stray): fix or
//!   wait, then run again;
//! - 1: error: the run could not do its job (nothing half-written: trees are atomic);
//! - 2: usage error (bad options, or a `--stack`/`--project` that selects nothing it names).
//!
//! 0 and 3 always describe the whole database, whatever was filtered: legacy trees outside
//! `--stack`/`--project` and stray legacy stacks (in no convertible tree) keep it at 3.
//!
//! Every value from the database (names, ids, physical ids, hosts, reasons and warnings
//! built from them) goes into the text through [`escape::text`], so that no name can
//! forge a line or reach the terminal as a control sequence; JSON holds the exact values.

pub mod escape;

use crate::convert::plan::{Changes, ResourceDeletion, NOT_IN_TEMPLATE};
use crate::convert::tree::Stray;
use crate::convert::{skipped_by_kind, Outcome, Report, TreeReport};
use crate::verify::{Finding, StackCheck, Verification};
use escape::text as esc;
use serde_json::json;
use std::fmt::Write as _;

pub const EXIT_ALL_CONVERTED: u8 = 0;
/// How many trees of each reason the summary names.
const FIRST_TREES: usize = 3;
pub const EXIT_ERROR: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_LEGACY_REMAIN: u8 = 3;
/// `verify`: a converted stack does not hold.
pub const EXIT_NOT_HOLDING: u8 = 4;

pub fn exit_code(report: &Report) -> u8 {
    if report.stopped.is_some() {
        EXIT_ERROR
    } else if report.legacy_left_in_database() == 0 {
        EXIT_ALL_CONVERTED
    } else {
        EXIT_LEGACY_REMAIN
    }
}

/// `n` and the noun, in the singular for one.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What a tree's conversion changes, in words.
fn counts(stacks: usize, converted: usize, deleted: usize, templates: usize) -> String {
    format!(
        "{}, {}, {} deleted, {} deleted",
        plural(stacks, "stack", "stacks"),
        plural(converted, "resource", "resources"),
        plural(deleted, "resource", "resources"),
        plural(templates, "template", "templates"),
    )
}

/// One line per tree, as the run goes.
pub fn tree_line(t: &TreeReport) -> String {
    let who = format!("{} ({})", esc(&t.root_name), esc(&t.root_id));
    let mut line = match &t.outcome {
        Outcome::Converted(c) => {
            changes_line(&format!("converted      {who}"), "deleted", c, false)
        }
        Outcome::WouldConvert(c) => {
            changes_line(&format!("would convert  {who}"), "delete", c, true)
        }
        Outcome::Skipped(b) => format!(
            "left alone     {who}: {}: {}",
            b.label(),
            esc(&b.to_string())
        ),
    };
    for w in &t.warnings {
        line.push_str("\n  warning: ");
        line.push_str(&esc(w));
    }
    line
}

/// A tree's changes under its first words: the counts, then each row deleted (and, for a
/// dry run, each previous template to delete).
fn changes_line(head: &str, verb: &str, c: &Changes, templates: bool) -> String {
    let mut s = format!(
        "{head}: {}",
        counts(
            c.stacks,
            c.resources_converted,
            c.resources_deleted,
            c.templates_deleted
        )
    );
    for (stack, d) in &c.deleted {
        let _ = write!(
            s,
            "\n                 {verb} resource {}",
            deletion(stack, d)
        );
    }
    if templates {
        for (stack, t) in &c.templates {
            let _ = write!(
                s,
                "\n                 {verb} previous template {t} of stack {}",
                esc(stack)
            );
        }
    }
    s
}

/// A deleted resource row as an operator checks it: name, type, physical id, stack.
fn deletion(stack: &str, d: &ResourceDeletion) -> String {
    format!(
        "{} (row {}, type {}, physical id {}, {}_{}) of stack {}: {}",
        esc(&d.name),
        d.id,
        esc(d.type_name.as_deref().unwrap_or("unknown")),
        esc(d.physical_id.as_deref().unwrap_or("none")),
        esc(&d.action),
        esc(&d.status),
        esc(stack),
        NOT_IN_TEMPLATE
    )
}

fn deletion_json(stack: &str, d: &ResourceDeletion) -> serde_json::Value {
    let mut v = d.to_json();
    v["stack"] = json!(stack);
    v
}

/// One line per stray legacy stack.
pub fn stray_line(s: &Stray) -> String {
    format!(
        "stray legacy   {} ({}): {}: {}",
        esc(&s.stack.name),
        esc(&s.stack.id),
        s.reason.label(),
        esc(&s.reason.to_string())
    )
}

pub fn summary(report: &Report) -> String {
    let mut s = String::new();
    let legacy = report.tally.trees;
    let _ = writeln!(
        s,
        "\nSummary{}",
        if report.dry_run {
            " (dry run: nothing was written)"
        } else {
            ""
        }
    );
    if let Some(f) = &report.filter {
        let _ = writeln!(s, "  filter                        {}", esc(f));
    }
    let _ = writeln!(
        s,
        "  legacy stack trees {:<10} {legacy:>6}",
        if report.filter.is_some() {
            "selected"
        } else {
            "found"
        }
    );
    if report.dry_run {
        let _ = writeln!(
            s,
            "  would be converted            {:>6}",
            report.would_convert()
        );
    } else {
        let _ = writeln!(
            s,
            "  converted                     {:>6}",
            report.converted()
        );
    }
    let _ = writeln!(s, "  left alone                    {:>6}", report.skipped());
    for (kind, label, n) in skipped_by_kind(report) {
        let _ = writeln!(s, "    {label:<27} {n:>6}");
        // The first trees of each reason; all of them with --list or --format json.
        let of_kind = report.trees.iter().filter_map(|t| match &t.outcome {
            Outcome::Skipped(b) if b.kind() == kind => Some((t, b)),
            _ => None,
        });
        for (t, b) in of_kind.take(FIRST_TREES) {
            let _ = writeln!(
                s,
                "      {} ({}): {}",
                esc(&t.root_name),
                esc(&t.root_id),
                esc(&b.to_string())
            );
        }
        if n > FIRST_TREES {
            let _ = writeln!(
                s,
                "      ... and {} more (all with --list or --format json)",
                n - FIRST_TREES
            );
        }
    }
    for (id, name) in &report.plan_gone {
        let _ = writeln!(
            s,
            "  in the plan, no longer a live legacy root: {} ({}) (changed since the plan was made)",
            esc(name),
            esc(id)
        );
    }
    let (resources, templates) = (
        report.tally.resources_deleted,
        report.tally.templates_deleted,
    );
    let verb = if report.dry_run {
        "to delete"
    } else {
        "deleted"
    };
    let _ = writeln!(s, "  resource rows {verb:<15} {resources:>6}");
    let _ = writeln!(s, "  previous templates {verb:<10} {templates:>6}");
    if !report.indexes.is_empty() {
        let _ = writeln!(
            s,
            "  temporary indexes             {:>6}   (created on Heat's tables for the run, dropped at its end: {})",
            report.indexes.len(),
            report.indexes.join(", ")
        );
    }
    if !report.indexes_left.is_empty() {
        let _ = writeln!(
            s,
            "  temporary indexes left        {:>6}   ({})",
            report.indexes_left.len(),
            report.indexes_left.join(", ")
        );
    }
    if report.retries.transient > 0 {
        let _ = writeln!(
            s,
            "  transactions tried again      {:>6}   (deadlocks or cluster conflicts, each rolled back whole first)",
            report.retries.transient
        );
    }
    if report.not_reached > 0 {
        let _ = writeln!(
            s,
            "  not reached (run stopped)     {:>6}",
            report.not_reached
        );
    }
    if report.filter.is_some() {
        let _ = writeln!(
            s,
            "  legacy trees outside filter   {:>6}",
            report.outside_filter
        );
    }
    if !report.strays.is_empty() {
        let _ = writeln!(
            s,
            "  stray legacy stacks           {:>6}   (in no convertible tree; never converted)",
            report.strays.len()
        );
        for st in &report.strays {
            let _ = writeln!(s, "    {}", stray_line(st));
        }
    }
    let warnings: Vec<&String> = report.trees.iter().flat_map(|t| &t.warnings).collect();
    if !warnings.is_empty() {
        let _ = writeln!(s, "  warnings                      {:>6}", warnings.len());
        for w in warnings {
            let _ = writeln!(s, "    warning: {}", esc(w));
        }
    }
    let _ = writeln!(
        s,
        "  still legacy in the database  {:>6}   (trees and stray stacks{})",
        report.legacy_left_in_database(),
        if report.dry_run {
            ", after a real run"
        } else {
            ""
        }
    );
    let _ = writeln!(
        s,
        "  already convergence (roots)   {:>6}",
        report.convergence_roots
    );
    if let Some(id) = &report.run_id {
        let _ = writeln!(s, "  recorded as run               {id}");
    }
    let _ = writeln!(
        s,
        "  time taken                    {:.1} s",
        report.duration.as_secs_f64()
    );
    let _ = writeln!(s, "{}", next_step(report));
    s
}

/// The one next step, for the whole database.
fn next_step(report: &Report) -> String {
    if let Some(why) = &report.stopped {
        return format!(
            "Next: the run stopped early: {}. Run heat-converge migrate again; it converts what remains.",
            esc(why)
        );
    }
    let left = report.legacy_left_in_database();
    if left == 0 {
        return if report.dry_run {
            "Next: run without --dry-run to convert them.".to_string()
        } else {
            "Next: nothing; every stack runs on the convergence engine.".to_string()
        };
    }
    let mut why = Vec::new();
    let blocked = if report.dry_run {
        report.skipped()
    } else {
        report.remaining()
    };
    let needs_heat = report
        .tally
        .skipped_by_kind
        .get("needs_heat")
        .map_or(0, |(_, n)| *n);
    if needs_heat > 0 {
        why.push(format!(
            "{} whose third-party plugins need Heat's own code: run again with --heat-python PATH, the python of your Heat installation (Kolla: run heat-converge inside the heat_engine container, which holds both the plugins and that interpreter)",
            plural(needs_heat, "tree", "trees")
        ));
    }
    if blocked > needs_heat {
        why.push(format!(
            "{} left alone for the reasons above: let busy stacks finish (or reset those whose engine is gone, as said above), repair or delete failed ones, then run again",
            blocked - needs_heat
        ));
    }
    if report.outside_filter > 0 {
        why.push(format!(
            "{} outside {}: run without the filter to convert them",
            report.outside_filter,
            esc(report.filter.as_deref().unwrap_or("the filter"))
        ));
    }
    if !report.strays.is_empty() {
        why.push(format!(
            "{} in no convertible tree: delete or repair them with Heat (they are never converted)",
            plural(
                report.strays.len(),
                "stray legacy stack",
                "stray legacy stacks"
            )
        ));
    }
    format!(
        "Next: {left} legacy {} in the database{}: {}.",
        if left == 1 {
            "item remains"
        } else {
            "items remain"
        },
        if report.dry_run {
            " after a real run"
        } else {
            ""
        },
        why.join("; ")
    )
}

/// `heat-converge status`: counts for the whole database and what blocks each tree.
pub fn status_text(report: &Report, database: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "heat-converge status of {database}");
    let _ = writeln!(
        s,
        "  root stacks on convergence    {:>6}",
        report.convergence_roots
    );
    let _ = writeln!(
        s,
        "  legacy root stacks            {:>6}",
        report.tally.trees
    );
    let _ = writeln!(
        s,
        "    ready to convert            {:>6}",
        report.would_convert()
    );
    let _ = writeln!(s, "    blocked                     {:>6}", report.skipped());
    for t in &report.trees {
        if let Outcome::Skipped(b) = &t.outcome {
            let _ = writeln!(
                s,
                "      {} ({}): {}: {}",
                esc(&t.root_name),
                esc(&t.root_id),
                b.label(),
                esc(&b.to_string())
            );
        }
    }
    let _ = writeln!(
        s,
        "  stray legacy stacks           {:>6}",
        report.strays.len()
    );
    for st in &report.strays {
        let _ = writeln!(
            s,
            "      {} ({}): {}: {}",
            esc(&st.stack.name),
            esc(&st.stack.id),
            st.reason.label(),
            esc(&st.reason.to_string())
        );
    }
    if !report.plugin_types.is_empty() {
        let _ = writeln!(
            s,
            "  third-party resource types    {:>6}",
            report.plugin_types.len()
        );
        for t in &report.plugin_types {
            let _ = writeln!(
                s,
                "      {} ({}): graph {}",
                esc(&t.plugin.named()),
                plural(t.resources, "resource", "resources"),
                esc(&t.plugin.how.describe())
            );
        }
    }
    for t in &report.trees {
        for w in &t.warnings {
            let _ = writeln!(s, "  warning: {}", esc(w));
        }
    }
    s
}

/// One tree of a report as JSON (an item of `trees` in `--format json`).
pub fn tree_json(t: &TreeReport) -> serde_json::Value {
    let mut v = json!({"root_id": t.root_id, "name": t.root_name, "project": t.project, "stacks": t.stacks});
    match &t.outcome {
        Outcome::Converted(c) | Outcome::WouldConvert(c) => {
            v["outcome"] = json!(if matches!(t.outcome, Outcome::Converted(_)) {
                "converted"
            } else {
                "would_convert"
            });
            v["resources_converted"] = json!(c.resources_converted);
            v["resources_deleted"] = json!(c.resources_deleted);
            v["templates_deleted"] = json!(c.templates_deleted);
            v["deleted_resources"] = c
                .deleted
                .iter()
                .map(|(stack, d)| deletion_json(stack, d))
                .collect();
        }
        Outcome::Skipped(b) => {
            v["outcome"] = json!("left_alone");
            v["reason_kind"] = json!(b.kind());
            v["reason"] = json!(b.to_string());
        }
    }
    if !t.warnings.is_empty() {
        v["warnings"] = json!(t.warnings);
    }
    v
}

pub fn to_json(report: &Report) -> serde_json::Value {
    let trees: Vec<_> = report.trees.iter().map(tree_json).collect();
    let skipped: serde_json::Map<String, serde_json::Value> = skipped_by_kind(report)
        .into_iter()
        .map(|(k, _, n)| (k.to_string(), json!(n)))
        .collect();
    json!({
        "dry_run": report.dry_run,
        "run_id": report.run_id,
        "migrations_applied": report.migrations_applied,
        "legacy_trees": report.tally.trees,
        "converted": report.converted(),
        "would_convert": report.would_convert(),
        "left_alone": report.skipped(),
        "left_alone_by_reason": skipped,
        "still_legacy": if report.dry_run { report.tally.trees } else { report.remaining() },
        "filter": report.filter,
        "outside_filter": report.outside_filter,
        "not_reached": report.not_reached,
        "stray_stacks": report.strays.iter().map(|st| json!({
            "id": st.stack.id,
            "name": st.stack.name,
            "project": &*st.stack.tenant,
            "owner_id": st.stack.owner_id,
            "reason_kind": st.reason.kind(),
            "reason": st.reason.to_string(),
        })).collect::<Vec<_>>(),
        "legacy_left_in_database": report.legacy_left_in_database(),
        "stopped": report.stopped,
        "plan_gone": report.plan_gone.iter().map(|(id, name)| json!({"root_id": id, "name": name})).collect::<Vec<_>>(),
        "plugin_types": report.plugin_types.iter().map(|t| json!({
            "type": t.plugin.type_name,
            "class": t.plugin.class,
            "file": t.plugin.file.display().to_string(),
            "graph": t.plugin.how.code(),
            "how": t.plugin.how.describe(),
            "resources": t.resources,
        })).collect::<Vec<_>>(),
        "convergence_roots": report.convergence_roots,
        "temporary_indexes": report.indexes,
        "temporary_indexes_left": report.indexes_left,
        "retried_transactions": report.retries.transient,
        "exit_code": exit_code(report),
        "trees": trees,
    })
}

/// `verify`'s exit code: 4 when a converted stack does not hold, else 3 while legacy
/// stacks remain, else 0.
pub fn verify_exit_code(v: &Verification) -> u8 {
    if v.failing() > 0 {
        EXIT_NOT_HOLDING
    } else if v.legacy_left > 0 {
        EXIT_LEGACY_REMAIN
    } else {
        EXIT_ALL_CONVERTED
    }
}

fn finding_detail(f: &Finding) -> Vec<String> {
    match f {
        Finding::Holds | Finding::Deleted => Vec::new(),
        Finding::MovedOn { state } => vec![format!("now {state}")],
        Finding::FailedSince {
            state,
            reason,
            resources,
        } => std::iter::once(format!("{state}: {reason}"))
            .chain(resources.iter().cloned())
            .collect(),
        Finding::Broken { differences } => differences.clone(),
    }
}

/// `heat-converge verify` for people.
pub fn verify_text(v: &Verification, database: &str) -> String {
    let mut s = String::new();
    let count = |k: &str| v.count(k);
    let _ = writeln!(s, "heat-converge verify of {database}");
    let _ = writeln!(
        s,
        "  converted stacks checked            {:>6}",
        v.checked()
    );
    // (label, finding, width of the count): the counts end in the same column as the
    // lines around them.
    for (label, kind, width) in [
        ("hold at their conversion's traversal", "holds", 3),
        ("moved on by the convergence engine", "moved_on", 5),
        ("deleted since", "deleted", 5),
        ("failed since", "failed_since", 5),
        ("do not hold", "does_not_hold", 5),
    ] {
        let pad = 39 - width;
        let _ = writeln!(s, "    {label:<pad$} {:>width$}", count(kind));
    }
    let _ = writeln!(
        s,
        "  legacy trees and stray stacks left  {:>6}",
        v.legacy_left
    );
    for c in &v.not_holding {
        let _ = writeln!(
            s,
            "{} {} ({}), root {}, converted by run {}:",
            c.finding.kind(),
            esc(&c.name),
            esc(&c.stack_id),
            esc(&c.root_stack_id),
            esc(&c.run_id)
        );
        for d in finding_detail(&c.finding) {
            let _ = writeln!(s, "    {}", esc(&d));
        }
    }
    let next = match verify_exit_code(v) {
        EXIT_NOT_HOLDING => "Next: the stacks above do not hold what heat-converge wrote (or failed since): read each difference; restore from the backup taken before the run, or repair them with Heat.",
        EXIT_LEGACY_REMAIN => "Next: every conversion holds; legacy stacks remain: see heat-converge status.",
        _ => "Next: nothing; every conversion holds and no legacy stack remains.",
    };
    let _ = writeln!(s, "{next}");
    s
}

/// `heat-converge verify` for pipelines.
/// `heat-converge verify --format json` without its `stacks`, which a [`TreeSpool`] for
/// `stacks` adds at its end, one [`verify_stack_json`] each.
pub fn verify_json(v: &Verification) -> serde_json::Value {
    json!({
        "checked": v.checked(),
        "not_holding": v.failing(),
        "legacy_left_in_database": v.legacy_left,
        "exit_code": verify_exit_code(v),
    })
}

/// One entry of verify's `stacks`.
pub fn verify_stack_json(c: &StackCheck) -> serde_json::Value {
    json!({
        "stack_id": c.stack_id,
        "name": c.name,
        "root_stack_id": c.root_stack_id,
        "run_id": c.run_id,
        "finding": c.finding.kind(),
        "details": finding_detail(&c.finding),
    })
}

/// The `trees` of `--format json` (or verify's `stacks`), written to a temporary file as
/// the run goes and read back one at a time when the document is printed: a run's memory
/// does not grow with the number of trees it reports (100,000 trees are tens of megabytes
/// of JSON).
pub struct TreeSpool {
    path: std::path::PathBuf,
    file: std::io::BufWriter<std::fs::File>,
    /// The document's key for the list.
    key: &'static str,
}

impl TreeSpool {
    pub fn new() -> anyhow::Result<TreeSpool> {
        TreeSpool::of("trees")
    }

    /// A spool for the list `key` of a document.
    pub fn of(key: &'static str) -> anyhow::Result<TreeSpool> {
        use anyhow::Context;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let path = std::env::temp_dir().join(format!(
            "heat-converge-{key}-{}-{nanos}.jsonl",
            std::process::id()
        ));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(TreeSpool {
            path,
            file: std::io::BufWriter::new(file),
            key,
        })
    }

    pub fn push(&mut self, t: &TreeReport) -> std::io::Result<()> {
        self.push_json(&tree_json(t))
    }

    pub fn push_json(&mut self, item: &serde_json::Value) -> std::io::Result<()> {
        use std::io::Write;
        serde_json::to_writer(&mut self.file, item)?;
        self.file.write_all(b"\n")
    }

    /// Prints `document` (pretty) with the spooled items as its list (`trees`), its last
    /// key.
    pub fn print(
        mut self,
        out: &mut dyn std::io::Write,
        mut document: serde_json::Value,
    ) -> anyhow::Result<()> {
        use std::io::{BufRead, Write};
        self.file.flush()?;
        document[self.key] = json!([]);
        let text = serde_json::to_string_pretty(&document)?;
        let marker = format!("\"{}\": []", self.key);
        let at = text
            .rfind(&marker)
            .filter(|&at| text[at + marker.len()..].trim() == "}")
            .ok_or_else(|| {
                anyhow::anyhow!("the JSON document does not end with its {}", self.key)
            })?;
        out.write_all(&text.as_bytes()[..at])?;
        out.write_all(format!("\"{}\": [", self.key).as_bytes())?;
        let spooled = std::io::BufReader::new(std::fs::File::open(&self.path)?);
        for (i, line) in spooled.lines().enumerate() {
            let item: serde_json::Value = serde_json::from_str(&line?)?;
            out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
            let pretty = serde_json::to_string_pretty(&item)?;
            for (j, l) in pretty.lines().enumerate() {
                if j > 0 {
                    out.write_all(b"\n")?;
                }
                out.write_all(b"    ")?;
                out.write_all(l.as_bytes())?;
            }
        }
        out.write_all(b"\n  ]\n}\n")?;
        Ok(())
    }
}

impl Drop for TreeSpool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
