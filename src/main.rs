//! The `heat-converge` command line: parses the arguments, dispatches to the subcommand
//! (one file each under `commands/`), and turns its result into the exit code, with a
//! JSON error document when the command was asked for JSON.

use clap::{Parser, Subcommand};
use commands::{
    graph::GraphArgs, history::HistoryArgs, migrate::MigrateArgs, plan::PlanArgs,
    status::StatusArgs, verify::VerifyArgs, OutputFormat, JSON_COMMAND, STARTED,
};
use heat_converge::{convert, report};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

mod commands;
mod logging;
mod progress;

/// Convert every legacy OpenStack Heat stack to the convergence engine.
///
/// Exit codes: 0 no legacy stack remains in the database; 3 legacy stacks remain (re-run
/// later); 4 (verify) a converted stack does not hold; 1 error; 2 usage error.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// More on stderr: -v each tree with its outcome, reason and time; -vv also every
    /// database statement (never a parameter value).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// No progress bar: one progress line on stderr every 10 seconds instead (as when
    /// stderr is not a terminal).
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Also write the log, with timestamps, to FILE (appended) [at least -v's level].
    #[arg(long, value_name = "FILE", global = true)]
    log_file: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Convert every legacy stack tree whose stacks are all *_COMPLETE (the main job).
    ///
    /// Each eligible tree is converted in one transaction under Heat's own stack locks,
    /// with its history rows; a tree that cannot be converted now is left untouched with its
    /// reason, and the run goes on.
    #[command(after_help = commands::migrate::HELP)]
    Migrate(MigrateArgs),
    /// Count legacy and convergence stacks and list what blocks the legacy ones.
    #[command(after_help = commands::status::HELP)]
    Status(StatusArgs),
    /// Read and plan everything, write nothing to the database, and write a plan file to
    /// review; `migrate --plan` then applies exactly it.
    #[command(after_help = commands::plan::HELP)]
    Plan(PlanArgs),
    /// Prove that every conversion still holds (or was moved on by the convergence engine).
    #[command(after_help = commands::verify::HELP)]
    Verify(VerifyArgs),
    /// List the runs heat-converge recorded in Heat's database, newest first; with --run,
    /// one run's trees and the rows it deleted.
    ///
    /// Each run: when it started and ended, the host, the command, its counts and how it
    /// stopped. Reads only: nothing is written, no table of ours is made.
    #[command(after_help = commands::history::HELP)]
    History(HistoryArgs),
    /// Show the dependency graph Heat computes for a template or a stored stack.
    #[command(after_help = commands::graph::HELP)]
    Graph(GraphArgs),
    /// Write heat-converge's man page (roff) to stdout.
    ///
    /// Example: heat-converge man > /usr/local/share/man/man1/heat-converge.1
    Man,
    /// Write shell completions for SHELL to stdout.
    ///
    /// Example: heat-converge completions bash > /etc/bash_completion.d/heat-converge
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    let _ = STARTED.set(std::time::Instant::now());
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    if let Err(e) = logging::init(cli.verbose, cli.log_file.as_deref()) {
        let _ = writeln!(std::io::stderr(), "heat-converge: error: {e:#}");
        return ExitCode::from(report::EXIT_ERROR);
    }
    let (verbose, quiet) = (cli.verbose, cli.quiet);
    let json = match &cli.command {
        Command::Migrate(a) if a.format == OutputFormat::Json => Some("migrate"),
        Command::Status(a) if a.format == OutputFormat::Json => Some("status"),
        Command::Verify(a) if a.format == OutputFormat::Json => Some("verify"),
        Command::History(a) if a.format == OutputFormat::Json => Some("history"),
        _ => None,
    };
    if let Some(c) = json {
        let _ = JSON_COMMAND.set(c);
    }
    let result = match cli.command {
        Command::Migrate(args) => commands::migrate::run(args, verbose > 0, quiet),
        Command::Status(args) => commands::status::run(args),
        Command::Verify(args) => commands::verify::run(args),
        Command::Plan(args) => commands::plan::run(args),
        Command::History(args) => commands::history::run(args),
        Command::Graph(args) => commands::graph::run(args).map(|()| 0),
        Command::Man => commands::docs::man().map(|()| 0),
        Command::Completions { shell } => commands::docs::completions(shell).map(|()| 0),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // stderr may be closed too: never panic on it. An error can quote the database
            // (a stack's name, a server's message): escaped as the report is.
            let _ = writeln!(
                std::io::stderr(),
                "heat-converge: error: {}",
                report::escape::text(&format!("{e:#}"))
            );
            let (code, kind) = if e.downcast_ref::<convert::FilterError>().is_some() {
                (report::EXIT_USAGE, "usage")
            } else {
                (report::EXIT_ERROR, "error")
            };
            // A pipeline parsing stdout as JSON gets a JSON error, never an empty string.
            if let Some(command) = JSON_COMMAND.get() {
                let mut body = error_body(code, kind, &format!("{e:#}"));
                // A run that failed midway: what it had converted by then.
                if let Some(f) = e.downcast_ref::<convert::RunFailed>() {
                    body["run_id"] = serde_json::json!(f.run_id);
                    body["legacy_trees"] = serde_json::json!(f.trees);
                    body["converted"] = serde_json::json!(f.converted);
                    body["left_alone"] = serde_json::json!(f.left_alone);
                }
                print_json(&commands::envelope(command, body));
            }
            ExitCode::from(code)
        }
    }
}

/// The body of a JSON error document (`schemas/error.schema.json`).
fn error_body(code: u8, kind: &str, message: &str) -> serde_json::Value {
    serde_json::json!({
        "exit_code": code,
        "error": {"kind": kind, "message": message},
    })
}

fn print_json(doc: &serde_json::Value) {
    let _ = writeln!(
        std::io::stdout(),
        "{}",
        serde_json::to_string_pretty(doc).unwrap_or_default()
    );
}

/// An error the argument parser found: printed as clap prints it (help and version are
/// not errors), and, when the command line asks for JSON anywhere (`--format json`, even
/// where `--format` is the mistake), also as one JSON error document on stdout: a
/// pipeline gets JSON for every outcome.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        e.exit();
    }
    let _ = e.print();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().enumerate().any(|(i, a)| {
        a == "--format=json" || (a == "--format" && args.get(i + 1).is_some_and(|v| v == "json"))
    });
    if json {
        let command = <Cli as clap::CommandFactory>::command();
        // The subcommand named, if any (the first word that is one).
        let named = args.iter().find_map(|a| {
            command
                .get_subcommands()
                .map(|c| c.get_name())
                .find(|name| name == a)
                .map(String::from)
        });
        let message = e.render().to_string();
        let mut doc = commands::envelope(
            named.as_deref().unwrap_or_default(),
            error_body(report::EXIT_USAGE, "usage", message.trim_end()),
        );
        doc["command"] = serde_json::json!(named);
        print_json(&doc);
    }
    ExitCode::from(report::EXIT_USAGE)
}
