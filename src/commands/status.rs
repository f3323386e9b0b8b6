//! `heat-converge status`: a dry run that reports counts and blockers, nothing per tree
//! converted.

use super::*;

pub const HELP: &str = "\
Exit codes: 0 no legacy stack remains; 3 legacy stacks remain; 1 error; 2 usage error.

Examples:
  heat-converge status --config-file /etc/heat/heat.conf
  heat-converge status --db-url mysql+pymysql://heat:SECRET@db/heat --format json";

#[derive(clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// text: the counts and blockers, for people; json: one JSON document on stdout for pipelines
    /// (schemas/run.schema.json; an error is one too, schemas/error.schema.json).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

pub fn run(args: StatusArgs) -> Result<u8> {
    let url = args.db.url()?;
    let mut db = args.db.connect(&url)?;
    let opts = convert::Options {
        dry_run: true,
        site: args.db.site()?,
        ..convert::Options::default()
    };
    let json = args.format == OutputFormat::Json;
    let mut spool = json.then(report::TreeSpool::new).transpose()?;
    let mut kept = report::Kept::every_tree(false);
    let mut report = convert::run(db.as_mut(), &opts, |event| {
        if let convert::Progress::Tree(t, _) = &event {
            match spool.as_mut() {
                Some(spool) => spool.push(t)?,
                None => kept.offer(t),
            }
        }
        Ok(())
    })?;
    report.trees = kept.trees;
    let mut out = std::io::stdout().lock();
    match spool {
        Some(spool) => spool.print(&mut out, envelope("status", report::to_json(&report)))?,
        None => write!(out, "{}", report::status_text(&report, &url.to_string()))?,
    }
    out.flush()?;
    Ok(report::exit_code(&report))
}
