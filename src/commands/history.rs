//! `heat-converge history`: the runs heat-converge recorded in Heat's database, and with
//! `--run` one run's trees and the rows it deleted (`db::past_runs`). Reads only: no
//! table of ours is made, no lock taken.

use super::*;
use db::past_runs::{self, Layout};

pub const HELP: &str = "\
Exit codes: 0 the history was printed (also when no run is recorded); 1 error; 2 usage
error (an unknown --run).

Examples:
  heat-converge history --config-file /etc/heat/heat.conf
  heat-converge history --run 5c1d... --db-url mysql+pymysql://heat:SECRET@db/heat --format json";

#[derive(clap::Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// One run (its id, as `history` lists it): its trees, converted or left alone with
    /// the reason, and every row it deleted as audited.
    #[arg(long, value_name = "RUN_ID")]
    pub run: Option<String>,
    /// text: the runs (with --run, its trees and deleted rows), for people; json: one JSON document on stdout for pipelines
    /// (schemas/history.schema.json; an error is one too, schemas/error.schema.json).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

pub fn run(args: HistoryArgs) -> Result<u8> {
    let url = args.db.url()?;
    let mut db = args.db.connect(&url)?;
    db::heat_schema::check(db.conn())?;
    let layout = Layout::of(db.conn())?;
    let json = args.format == OutputFormat::Json;
    let out = match &args.run {
        None => {
            let runs = past_runs::runs(db.conn(), layout)?;
            match json {
                true => pretty(envelope("history", report::history_json(&runs, layout)))?,
                false => report::history_text(&runs, layout, &url.to_string()),
            }
        }
        Some(id) => {
            let detail = past_runs::run(db.conn(), layout, id)?.ok_or_else(|| {
                convert::FilterError(format!(
                    "no run {id} is recorded in heat_converge_run (heat-converge history \
                     lists the runs)"
                ))
            })?;
            match json {
                true => pretty(envelope(
                    "history",
                    report::run_detail_json(&detail, layout),
                ))?,
                false => report::run_detail_text(&detail, &url.to_string()),
            }
        }
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    Ok(0)
}

/// A JSON document as printed, with its final newline.
fn pretty(doc: serde_json::Value) -> Result<String> {
    Ok(serde_json::to_string_pretty(&doc)? + "\n")
}
