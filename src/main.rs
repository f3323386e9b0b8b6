//! The `heat-converge` command line.

use anyhow::{anyhow, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use heat_converge::crypt::{Key, Unopened};
use heat_converge::db::{self, url::DbUrl};
use heat_converge::environment::Resolver;
use heat_converge::graph::Graph;
use heat_converge::{config, convert, report, source};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// Convert every legacy OpenStack Heat stack to the convergence engine.
///
/// Exit codes: 0 no legacy stack tree remains; 3 legacy trees remain (re-run later);
/// 1 error; 2 usage error.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Convert every legacy stack tree whose stacks are all *_COMPLETE (the main job).
    Migrate(MigrateArgs),
    /// Count legacy and convergence stacks and list what blocks the legacy ones.
    Status(StatusArgs),
    /// Show the dependency graph Heat computes for a template or a stored stack.
    Graph(GraphArgs),
}

/// Where Heat's database is.
#[derive(clap::Args)]
struct DbArgs {
    /// heat.conf files, read in order, later files win [default: heat-manage's, those that
    /// exist: heat.conf and heat-engine.conf in ~/.heat, ~, /etc/heat or /etc].
    #[arg(long = "config-file")]
    config_files: Vec<PathBuf>,
    /// Directories of *.conf files read after the config files (heat.conf.d style).
    #[arg(long = "config-dir")]
    config_dirs: Vec<PathBuf>,
    /// Heat's database as a SQLAlchemy URL; overrides the config files.
    #[arg(long, env = "HEAT_CONVERGE_DB_URL", hide_env_values = true)]
    db_url: Option<String>,
}

impl DbArgs {
    fn url(&self) -> Result<DbUrl> {
        let text = match &self.db_url {
            Some(u) => u.clone(),
            None => config::database_connection(&self.config_files, &self.config_dirs)?,
        };
        DbUrl::parse(&text).context("the database URL")
    }

    /// `auth_encryption_key` from the config files, for Heat's encrypted hidden parameters.
    fn auth_encryption_key(&self) -> Result<Option<Key>> {
        config::auth_encryption_key(&self.config_files, &self.config_dirs)
    }

    /// `--environment-dir`, else `environment_dir` from the config files, else Heat's default.
    fn environment_dir(&self, flag: &Option<PathBuf>) -> Result<PathBuf> {
        config::environment_dir(flag.as_deref(), &self.config_files, &self.config_dirs)
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum OutputFormat {
    Text,
    Json,
}

#[derive(clap::Args)]
struct MigrateArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Print what would change and write nothing at all.
    #[arg(long)]
    dry_run: bool,
    /// Only this root stack (repeatable).
    #[arg(long = "stack")]
    stacks: Vec<String>,
    /// Only the stacks of this project.
    #[arg(long)]
    project: Option<String>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
    /// Heat's global environment directory [default: `environment_dir` in heat.conf, else
    /// /etc/heat/environment.d].
    #[arg(long)]
    environment_dir: Option<PathBuf>,
    /// Exit with an error at once when another heat-converge run holds the run lock,
    /// instead of waiting for it.
    #[arg(long)]
    no_wait: bool,
}

#[derive(clap::Args)]
struct StatusArgs {
    #[command(flatten)]
    db: DbArgs,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
    /// Heat's global environment directory [default: `environment_dir` in heat.conf, else
    /// /etc/heat/environment.d].
    #[arg(long)]
    environment_dir: Option<PathBuf>,
}

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["stack_id", "template"])))]
struct GraphArgs {
    /// A stack stored in Heat's database: its graph as Heat loads it.
    stack_id: Option<String>,
    #[command(flatten)]
    db: DbArgs,
    /// A template file (YAML or JSON).
    #[arg(long)]
    template: Option<PathBuf>,
    /// Environment files, merged in order (later files win).
    #[arg(long = "environment", short = 'e')]
    environments: Vec<PathBuf>,
    /// Parameter values, KEY=VALUE (win over the environments).
    #[arg(long = "parameter", short = 'P')]
    parameters: Vec<String>,
    /// Heat's global environment directory [default: `environment_dir` in heat.conf, else
    /// /etc/heat/environment.d].
    #[arg(long)]
    environment_dir: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = GraphFormat::Json)]
    format: GraphFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum GraphFormat {
    Json,
    Dot,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Migrate(args) => migrate(args),
        Command::Status(args) => status(args),
        Command::Graph(args) => graph(args).map(|()| 0),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // stderr may be closed too: never panic on it.
            let _ = writeln!(std::io::stderr(), "heat-converge: error: {e:#}");
            if e.downcast_ref::<convert::FilterError>().is_some() {
                ExitCode::from(report::EXIT_USAGE)
            } else {
                ExitCode::from(report::EXIT_ERROR)
            }
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

fn migrate(args: MigrateArgs) -> Result<u8> {
    let url = args.db.url()?;
    let mut db = db::connect(&url)?;
    let described = serde_json::json!({
        "dry_run": args.dry_run,
        "stacks": args.stacks,
        "project": args.project,
        "database": url.to_string(),
    })
    .to_string();
    let opts = convert::Options {
        dry_run: args.dry_run,
        stacks: args.stacks.clone(),
        project: args.project.clone(),
        global: Resolver::load_global(&args.db.environment_dir(&args.environment_dir)?)?,
        described,
        host: hostname(),
        no_wait: args.no_wait,
        key: args.db.auth_encryption_key()?,
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
    let report = convert::run(db.as_mut(), &opts, |t| {
        if text {
            writeln!(stdout.lock(), "{}", report::tree_line(t))?;
        }
        Ok(())
    })?;
    if let Some(why) = &report.stopped {
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
    } else {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&report::to_json(&report))?
        )?;
    }
    out.flush()?;
    Ok(report::exit_code(&report))
}

fn status(args: StatusArgs) -> Result<u8> {
    let url = args.db.url()?;
    let mut db = db::connect(&url)?;
    let opts = convert::Options {
        dry_run: true,
        global: Resolver::load_global(&args.db.environment_dir(&args.environment_dir)?)?,
        key: args.db.auth_encryption_key()?,
        ..convert::Options::default()
    };
    let report = convert::run(db.as_mut(), &opts, |_| Ok(()))?;
    let mut out = std::io::stdout().lock();
    if args.format == OutputFormat::Json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&report::to_json(&report))?
        )?;
    } else {
        write!(out, "{}", report::status_text(&report, &url.to_string()))?;
    }
    out.flush()?;
    Ok(report::exit_code(&report))
}

fn graph(args: GraphArgs) -> Result<()> {
    let global = Resolver::load_global(&args.db.environment_dir(&args.environment_dir)?)?;
    let graph = match (&args.stack_id, &args.template) {
        (Some(id), _) => {
            let url = args.db.url()?;
            let mut conn = db::connect(&url)?;
            let key = args.db.auth_encryption_key()?;
            // A hidden parameter that cannot be read: say which stack.
            let name_stack = |e: anyhow::Error| match e.downcast_ref::<Unopened>() {
                Some(_) => e.context(format!("stack {id}")),
                None => e,
            };
            let (_, stack) =
                source::stored_by_id(conn.conn(), id, &global, key.as_ref()).map_err(name_stack)?;
            let graph = Graph::of(&stack, true);
            stack.parameters.unread().map_err(name_stack)?;
            graph?
        }
        (None, Some(path)) => {
            let files = source::Files {
                template: path,
                environments: &args.environments,
                parameters: &args.parameters,
            };
            Graph::of(&source::from_files(&files, global)?, false)?
        }
        (None, None) => return Err(anyhow!("give a STACK_ID or --template")),
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        GraphFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&graph.to_json())?)?,
        GraphFormat::Dot => write!(out, "{}", graph.to_dot())?,
    }
    out.flush()?;
    Ok(())
}
