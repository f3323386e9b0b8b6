//! `heat-converge verify`: proves the conversions hold (`heat_converge::verify`).

use super::*;

pub const HELP: &str = "\
Exit codes:
  0  every conversion holds and no legacy stack remains
  3  every conversion holds, legacy stacks remain
     (no conversion recorded: nothing is checked, said so, and the code is 0 or 3)
  4  a converted stack does not hold (each named with the resource and the difference)
  1  error; 2  usage error

Examples:
  heat-converge verify --config-file /etc/heat/heat.conf
  heat-converge verify --stack 5c1d... --format json";

#[derive(clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub only: Selection,
    /// text: the counts and each stack that does not hold, for people; json: one JSON document on stdout for pipelines
    /// (schemas/verify.schema.json; an error is one too, schemas/error.schema.json).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

pub fn run(args: VerifyArgs) -> Result<u8> {
    let url = args.db.url()?;
    let mut db = args.db.connect(&url)?;
    db::heat_schema::check(db.conn())?;
    let opts = heat_converge::verify::Options {
        selection: args.only.request(),
        site: args.db.site()?,
    };
    // JSON's stacks go to a spool as the run goes, not into the verification.
    let json = args.format == OutputFormat::Json;
    let mut spool = json.then(|| report::TreeSpool::of("stacks")).transpose()?;
    let v = heat_converge::verify::verify(db.conn(), &opts, &mut |check| {
        if let Some(spool) = spool.as_mut() {
            spool.push_json(&report::verify_stack_json(check))?;
        }
        Ok(())
    })?;
    let mut out = std::io::stdout().lock();
    match spool {
        Some(spool) => spool.print(&mut out, envelope("verify", report::verify_json(&v)))?,
        None => write!(out, "{}", report::verify_text(&v, &url.to_string()))?,
    }
    out.flush()?;
    Ok(report::verify_exit_code(&v))
}
