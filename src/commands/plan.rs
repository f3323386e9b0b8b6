//! `heat-converge plan`: a dry run that keeps every tree's row changes and writes them,
//! fingerprinted, to a plan file for review (`plan_file`).

use super::*;

pub const HELP: &str = "\
Exit codes: 0 every legacy tree would convert; 3 some would not (or are outside the
filter, or stray); 1 error; 2 usage error.

Examples:
  heat-converge plan --out PLAN.json --config-file /etc/heat/heat.conf
  heat-converge plan --out PLAN.json --project 1f5a... --db-url sqlite:////var/lib/heat/heat.sqlite";

#[derive(clap::Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Where to write the plan file.
    #[arg(long, value_name = "PLAN.json")]
    pub out: PathBuf,
    #[command(flatten)]
    pub only: Selection,
}

pub fn run(args: PlanArgs) -> Result<u8> {
    let url = args.db.url()?;
    let mut db = args.db.connect(&url)?;
    let opts = convert::Options {
        dry_run: true,
        selection: args.only.request(),
        site: args.db.site()?,
        fingerprints: true,
        reader: Some(args.db.second_session(&url)),
        ..convert::Options::default()
    };
    // Each tree's line is printed, and its entry spooled for the file, as the run goes:
    // only the trees left alone (and those with warnings) are kept, for the summary.
    let mut out = std::io::stdout().lock();
    writeln!(out, "heat-converge plan of {url}")?;
    let mut spool = report::TreeSpool::of("trees")?;
    let mut kept = report::Kept::every_tree(false);
    let mut report = convert::run(db.as_mut(), &opts, |event| {
        if let convert::Progress::Tree(t, _) = &event {
            writeln!(out, "{}", report::tree_line(t))?;
            if let Some(entry) = heat_converge::plan_file::tree_json(t) {
                spool.push_json(&entry)?;
            }
            kept.offer(t);
        }
        Ok(())
    })?;
    report.trees = kept.trees;
    let identity = db.identity()?;
    let file = heat_converge::plan_file::document(&report, &url, &identity, &convert::now_utc());
    let written = std::fs::File::create(&args.out)
        .map_err(anyhow::Error::from)
        .and_then(|f| {
            let mut w = std::io::BufWriter::new(f);
            spool.print(&mut w, file)?;
            w.flush()?;
            Ok(())
        });
    written.with_context(|| format!("cannot write the plan file {}", args.out.display()))?;
    write!(out, "{}", report::summary(&report))?;
    let mut next = NextCommand {
        words: vec!["heat-converge".into(), "migrate".into(), "--plan".into()],
        notes: Vec::new(),
    };
    next.words.push(args.out.display().to_string());
    args.db.as_given(&mut next);
    writeln!(
        out,
        "Plan written to {} for {}: {} to convert. Review it, take a database backup, then run:\n  {}",
        args.out.display(),
        report::escape::text(&identity.to_string()),
        report::plural(report.would_convert(), "tree", "trees"),
        next.line()
    )?;
    for note in &next.notes {
        writeln!(out, "  ({note})")?;
    }
    out.flush()?;
    Ok(report::exit_code(&report))
}
