//! `heat-converge migrate`: the main job; its options become one `convert::Options`,
//! its trees stream to the terminal (`--list`) or to the JSON spool as the run goes.

use super::*;
use crate::progress;

pub const HELP: &str = "\
Exit codes (for the whole database, whatever was filtered):
  0  no legacy stack remains
  3  legacy stacks remain (trees left alone, outside the filter, or stray); re-run later
  1  error (each tree stays all-or-nothing); 2  usage error

Examples:
  heat-converge migrate --config-file /etc/heat/heat.conf
  heat-converge migrate --plan PLAN.json --format json --no-wait";

#[derive(clap::Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Print what would change, one line per tree (what it would become, each row it would
    /// delete), then the summary, and write nothing at all.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub only: Selection,
    /// text: the summary, for people; json: one JSON document on stdout for pipelines
    /// (schemas/run.schema.json; an error is one too, schemas/error.schema.json).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Exit with an error at once when another heat-converge run holds the run lock,
    /// instead of waiting for it.
    #[arg(long)]
    pub no_wait: bool,
    /// Convert only the trees of this plan file (made by `heat-converge plan`), each only
    /// while its rows are still the ones planned.
    #[arg(long, value_name = "PLAN.json")]
    pub plan: Option<PathBuf>,
    /// Print one line per tree as the run goes (also with -v, and always with --dry-run)
    /// [default: the summary only].
    #[arg(long)]
    pub list: bool,
}

pub fn run(args: MigrateArgs, verbose: bool, quiet: bool) -> Result<u8> {
    heat_converge::stop::install().context("cannot listen for SIGTERM, SIGINT and SIGHUP")?;
    let url = args.db.url()?;
    let mut db = args.db.connect(&url)?;
    let described = serde_json::json!({
        "dry_run": args.dry_run,
        "stacks": args.only.stacks,
        "project": args.only.project,
        "database": url.to_string(),
        "plan": args.plan,
    })
    .to_string();
    let opts = convert::Options {
        selection: convert::Selection {
            plan: match &args.plan {
                None => None,
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .with_context(|| format!("cannot read the plan file {}", path.display()))?;
                    let identity = db.identity()?;
                    let mut planned = heat_converge::plan_file::read(&text, &url, &identity)
                        .with_context(|| format!("the plan file {}", path.display()))?;
                    planned.label = format!("--plan {}", path.display());
                    Some(planned)
                }
            },
            ..args.only.request()
        },
        site: args.db.site()?,
        record: convert::RunRecord {
            described,
            host: hostname(),
        },
        dry_run: args.dry_run,
        no_wait: args.no_wait,
        fingerprints: false,
        reader: Some(args.db.second_session(&url)),
    };
    let text = args.format == OutputFormat::Text;
    let stdout = std::io::stdout();
    if text {
        writeln!(
            stdout.lock(),
            "heat-converge migrate on {url}{}",
            if args.dry_run {
                " (dry run: nothing will be written)"
            } else {
                ""
            }
        )?;
    }
    // A dry run is a review: its line per tree is what the operator reads (what each tree
    // would become, each row it would delete).
    let list = text && (args.list || verbose || args.dry_run);
    let mut spool = (!text).then(report::TreeSpool::new).transpose()?;
    let mut display = progress::Display::new(quiet);
    // JSON's trees go to a spool as the run goes, not into the report; the summary needs
    // only the first trees of each reason, so a dry run keeps no more than a run does.
    let mut kept = report::Kept::every_tree(text && (args.list || verbose));
    let report = convert::run(db.as_mut(), &opts, |event| {
        display.event(&event);
        if let convert::Progress::Tree(t, _) = &event {
            if text {
                kept.offer(t);
            }
            if list {
                writeln!(stdout.lock(), "{}", report::tree_line(t))?;
            }
            if let Some(spool) = spool.as_mut() {
                spool.push(t)?;
            }
        }
        Ok(())
    });
    display.finish();
    let mut report = report?;
    report.trees = kept.trees;
    // Stopped because the output is gone: nothing more can be printed. Stopped by a
    // signal or by the database: the report is printed, and the exit code is 1.
    if let (Some(why), None, false) = (&report.stopped, report.signal, report.stopped_by_database) {
        anyhow::bail!("{why}");
    }
    let mut out = stdout.lock();
    if text {
        for s in &report.strays {
            writeln!(out, "{}", report::stray_line(s))?;
        }
        if !report.migrations_applied.is_empty() {
            writeln!(
                out,
                "applied heat-converge schema migrations: {}",
                report.migrations_applied.join(", ")
            )?;
        }
        write!(out, "{}", report::summary(&report))?;
    } else if let Some(spool) = spool {
        spool.print(&mut out, envelope("migrate", report::to_json(&report)))?;
    }
    out.flush()?;
    Ok(report::exit_code(&report))
}
