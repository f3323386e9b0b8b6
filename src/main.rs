//! The `heat-converge` command line.

use anyhow::{anyhow, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use heat_converge::crypt::{Key, Unopened};
use heat_converge::db::{self, url::DbUrl};
use heat_converge::environment::Resolver;
use heat_converge::graph::{Graph, NeedsHeat};
use heat_converge::plugins::heat_python::{self, HeatPython, HeatPythonSetup};
use heat_converge::plugins::Catalog;
use heat_converge::site::HeatSite;
use heat_converge::{config, convert, report, source};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

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

const MIGRATE_HELP: &str = "\
Exit codes (for the whole database, whatever was filtered):
  0  no legacy stack remains
  3  legacy stacks remain (trees left alone, outside the filter, or stray); re-run later
  1  error (each tree stays all-or-nothing); 2  usage error

Examples:
  heat-converge migrate --config-file /etc/heat/heat.conf
  heat-converge migrate --plan PLAN.json --format json --no-wait";

const STATUS_HELP: &str = "\
Exit codes: 0 no legacy stack remains; 3 legacy stacks remain; 1 error; 2 usage error.

Examples:
  heat-converge status --config-file /etc/heat/heat.conf
  heat-converge status --db-url mysql+pymysql://heat:SECRET@db/heat --format json";

const PLAN_HELP: &str = "\
Exit codes: 0 every legacy tree would convert; 3 some would not (or are outside the
filter, or stray); 1 error; 2 usage error.

Examples:
  heat-converge plan --out PLAN.json --config-file /etc/heat/heat.conf
  heat-converge plan --out PLAN.json --project 1f5a... --db-url sqlite:////var/lib/heat/heat.sqlite";

const VERIFY_HELP: &str = "\
Exit codes:
  0  every conversion holds and no legacy stack remains
  3  every conversion holds, legacy stacks remain
  4  a converted stack does not hold (each named with the resource and the difference)
  1  error; 2  usage error

Examples:
  heat-converge verify --config-file /etc/heat/heat.conf
  heat-converge verify --stack 5c1d... --format json";

const GRAPH_HELP: &str = "\
Exit codes: 0 the graph was printed; 1 error; 2 usage error.

Examples:
  heat-converge graph --template server.yaml -e env.yaml -P net=private
  heat-converge graph 5c1d... --config-file /etc/heat/heat.conf --format dot | dot -Tsvg";

#[derive(Subcommand)]
enum Command {
    /// Convert every legacy stack tree whose stacks are all *_COMPLETE (the main job).
    ///
    /// Each eligible tree is converted in one transaction under Heat's own stack locks,
    /// with its history rows; a tree that cannot be converted now is left untouched with its
    /// reason, and the run goes on.
    #[command(after_help = MIGRATE_HELP)]
    Migrate(MigrateArgs),
    /// Count legacy and convergence stacks and list what blocks the legacy ones.
    #[command(after_help = STATUS_HELP)]
    Status(StatusArgs),
    /// Read and plan everything, write nothing to the database, and write a plan file to
    /// review; `migrate --plan` then applies exactly it.
    #[command(after_help = PLAN_HELP)]
    Plan(PlanArgs),
    /// Prove that every conversion still holds (or was moved on by the convergence engine).
    #[command(after_help = VERIFY_HELP)]
    Verify(VerifyArgs),
    /// Show the dependency graph Heat computes for a template or a stored stack.
    #[command(after_help = GRAPH_HELP)]
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

/// Where Heat's database and configuration are.
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
    /// Heat's global environment directory [default: `environment_dir` in heat.conf, else
    /// /etc/heat/environment.d].
    #[arg(long)]
    environment_dir: Option<PathBuf>,
    /// Another directory of Heat resource plugins, searched after heat.conf's
    /// `plugin_dirs` (repeatable) [default: heat.conf's plugin_dirs, else /usr/lib64/heat,
    /// /usr/lib/heat, /usr/local/lib/heat, /usr/local/lib64/heat].
    #[arg(long = "plugin-dir", value_name = "DIR")]
    plugin_dirs: Vec<PathBuf>,
    /// The python of the cloud's Heat installation: computes, with Heat's own code, the
    /// graphs of stacks whose third-party plugins add their own dependencies (read-only)
    /// [default: the interpreter of `heat-manage` when it is on PATH].
    #[arg(long, value_name = "PATH")]
    heat_python: Option<PathBuf>,
    /// How long any statement may wait for a lock another session holds (a row, a table,
    /// the SQLite file) before that tree is left alone, or the command fails.
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=86400))]
    lock_wait: u64,
    /// The config files as read, once, the first time a value of them is needed.
    #[arg(skip)]
    conf: std::cell::OnceCell<config::HeatConf>,
}

impl DbArgs {
    /// The config files, read on first use and kept.
    fn conf(&self) -> Result<&config::HeatConf> {
        if let Some(conf) = self.conf.get() {
            return Ok(conf);
        }
        let conf = config::HeatConf::load(&self.config_files, &self.config_dirs)?;
        Ok(self.conf.get_or_init(|| conf))
    }

    /// Connects, every lock wait of the session bounded by `--lock-wait`.
    fn connect(&self, url: &DbUrl) -> Result<Box<dyn db::Database>> {
        let mut db = db::connect(url)?;
        db.bound_lock_waits(std::time::Duration::from_secs(self.lock_wait))
            .context("cannot bound the session's lock waits (--lock-wait)")?;
        Ok(db)
    }

    fn url(&self) -> Result<DbUrl> {
        DbUrl::parse(&self.url_text()?).context("the database URL")
    }

    /// The URL as given (a secret: it may hold a password).
    fn url_text(&self) -> Result<String> {
        match &self.db_url {
            Some(u) => Ok(u.clone()),
            None => config::database_connection(self.conf()?),
        }
    }

    /// What the cloud's Heat gives every command that reads stacks (see `site`).
    fn site(&self) -> Result<Arc<HeatSite>> {
        let conf = self.conf()?;
        let mut dirs = config::plugin_dirs(conf)?;
        dirs.extend(self.plugin_dirs.iter().cloned());
        let catalog = Catalog::discover(&dirs);
        let python = match &self.heat_python {
            Some(p) => Some((p.clone(), "--heat-python")),
            None => heat_python::from_heat_manage()
                .map(|p| (p, "the interpreter of heat-manage on PATH")),
        };
        let heat = python.map(|(python, origin)| {
            HeatPython::new(HeatPythonSetup {
                python,
                origin: origin.to_string(),
                config_files: conf.files().map(PathBuf::from).collect(),
                // `graph --template` reads no database: Heat's Python needs none either.
                connection: self.url_text().unwrap_or_default(),
                plugin_dirs: dirs.clone(),
                environment_dir: self.environment_dir.clone(),
            })
        });
        Ok(Arc::new(HeatSite::new(
            Resolver::load_global(&self.environment_dir()?)?,
            self.auth_encryption_key()?,
            catalog,
            heat,
        )))
    }

    /// `auth_encryption_key` from the config files, for Heat's encrypted hidden parameters.
    fn auth_encryption_key(&self) -> Result<Option<Key>> {
        config::auth_encryption_key(self.conf()?)
    }

    /// `--environment-dir`, else `environment_dir` from the config files, else Heat's default.
    fn environment_dir(&self) -> Result<PathBuf> {
        match &self.environment_dir {
            Some(dir) => Ok(dir.clone()),
            None => config::environment_dir(self.conf()?),
        }
    }
}

/// Which trees a command looks at (all, if neither is given).
#[derive(clap::Args)]
struct Selection {
    /// Only the tree of this root stack (repeatable).
    #[arg(long = "stack")]
    stacks: Vec<String>,
    /// Only the stacks of this project.
    #[arg(long)]
    project: Option<String>,
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
    #[command(flatten)]
    only: Selection,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
    /// Exit with an error at once when another heat-converge run holds the run lock,
    /// instead of waiting for it.
    #[arg(long)]
    no_wait: bool,
    /// Convert only the trees of this plan file (made by `heat-converge plan`), each only
    /// while its rows are still the ones planned.
    #[arg(long, value_name = "PLAN.json")]
    plan: Option<PathBuf>,
    /// Print one line per tree as the run goes (also with -v) [default: the summary only].
    #[arg(long)]
    list: bool,
}

#[derive(clap::Args)]
struct PlanArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Where to write the plan file.
    #[arg(long, value_name = "PLAN.json")]
    out: PathBuf,
    #[command(flatten)]
    only: Selection,
}

#[derive(clap::Args)]
struct StatusArgs {
    #[command(flatten)]
    db: DbArgs,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
}

#[derive(clap::Args)]
struct VerifyArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    only: Selection,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
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
    #[arg(long, value_enum, default_value_t = GraphFormat::Json)]
    format: GraphFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum GraphFormat {
    Json,
    Dot,
}

/// The version of the JSON documents the commands print (`schema_version`).
const JSON_SCHEMA_VERSION: u32 = 1;

/// A JSON document as every command prints it: what printed it first (tool and schema
/// version, command, duration), then its own keys.
fn envelope(command: &str, body: serde_json::Value) -> serde_json::Value {
    let started = STARTED
        .get()
        .copied()
        .unwrap_or_else(std::time::Instant::now);
    let mut out = serde_json::Map::new();
    out.insert("tool_version".into(), env!("CARGO_PKG_VERSION").into());
    out.insert("schema_version".into(), JSON_SCHEMA_VERSION.into());
    out.insert("command".into(), command.into());
    out.insert(
        "duration_seconds".into(),
        serde_json::json!((started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0),
    );
    if let serde_json::Value::Object(m) = body {
        out.extend(m);
    }
    serde_json::Value::Object(out)
}

/// When the command started, for `duration_seconds`.
static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Set once the command is known to print JSON, so that an error is JSON too.
static JSON_COMMAND: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

fn main() -> ExitCode {
    let _ = STARTED.set(std::time::Instant::now());
    let cli = Cli::parse();
    if let Err(e) = logging::init(cli.verbose, cli.log_file.as_deref()) {
        let _ = writeln!(std::io::stderr(), "heat-converge: error: {e:#}");
        return ExitCode::from(report::EXIT_ERROR);
    }
    let (verbose, quiet) = (cli.verbose, cli.quiet);
    let json = match &cli.command {
        Command::Migrate(a) if a.format == OutputFormat::Json => Some("migrate"),
        Command::Status(a) if a.format == OutputFormat::Json => Some("status"),
        Command::Verify(a) if a.format == OutputFormat::Json => Some("verify"),
        _ => None,
    };
    if let Some(c) = json {
        let _ = JSON_COMMAND.set(c);
    }
    let result = match cli.command {
        Command::Migrate(args) => migrate(args, verbose > 0, quiet),
        Command::Status(args) => status(args),
        Command::Verify(args) => verify(args),
        Command::Plan(args) => plan(args),
        Command::Graph(args) => graph(args).map(|()| 0),
        Command::Man => man().map(|()| 0),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "heat-converge", &mut std::io::stdout());
            Ok(0)
        }
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
                let mut body = serde_json::json!({
                    "exit_code": code,
                    "error": {"kind": kind, "message": format!("{e:#}")},
                });
                // A run that failed midway: what it had converted by then.
                if let Some(f) = e.downcast_ref::<convert::RunFailed>() {
                    body["run_id"] = serde_json::json!(f.run_id);
                    body["legacy_trees"] = serde_json::json!(f.trees);
                    body["converted"] = serde_json::json!(f.converted);
                    body["left_alone"] = serde_json::json!(f.left_alone);
                }
                let _ = writeln!(
                    std::io::stdout(),
                    "{}",
                    serde_json::to_string_pretty(&envelope(command, body)).unwrap_or_default()
                );
            }
            ExitCode::from(code)
        }
    }
}

/// The man page: every subcommand's help in one roff document.
fn man() -> Result<()> {
    let cmd = <Cli as clap::CommandFactory>::command();
    let mut out = std::io::stdout().lock();
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_subcommands_section(&mut out)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("heat-converge {}", sub.get_name());
        let page = clap_mangen::Man::new(sub.clone().name(name.clone()));
        writeln!(out, ".SH \"{}\"", name.to_uppercase())?;
        page.render_synopsis_section(&mut out)?;
        page.render_description_section(&mut out)?;
        page.render_options_section(&mut out)?;
        page.render_extra_section(&mut out)?;
    }
    man.render_version_section(&mut out)?;
    out.flush()?;
    Ok(())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

fn migrate(args: MigrateArgs, verbose: bool, quiet: bool) -> Result<u8> {
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
        dry_run: args.dry_run,
        stacks: args.only.stacks.clone(),
        project: args.only.project.clone(),
        site: args.db.site()?,
        described,
        host: hostname(),
        no_wait: args.no_wait,
        fingerprints: false,
        // JSON's trees go to a spool as the run goes (below), not into the report.
        keep_trees: args.format == OutputFormat::Text && (args.list || verbose),
        plan: match &args.plan {
            None => None,
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the plan file {}", path.display()))?;
                let mut planned = heat_converge::plan_file::read(&text, &url)
                    .with_context(|| format!("the plan file {}", path.display()))?;
                planned.label = format!("--plan {}", path.display());
                Some(planned)
            }
        },
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
    let list = text && (args.list || verbose);
    let mut spool = (!text).then(report::TreeSpool::new).transpose()?;
    let mut display = progress::Display::new(quiet);
    let report = convert::run(db.as_mut(), &opts, |event| {
        display.event(&event);
        if let convert::Progress::Tree(t, _) = &event {
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
    let report = report?;
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

fn plan(args: PlanArgs) -> Result<u8> {
    let url = args.db.url()?;
    let mut db = args.db.connect(&url)?;
    let opts = convert::Options {
        dry_run: true,
        stacks: args.only.stacks.clone(),
        project: args.only.project.clone(),
        site: args.db.site()?,
        fingerprints: true,
        keep_trees: true,
        ..convert::Options::default()
    };
    let report = convert::run(db.as_mut(), &opts, |_| Ok(()))?;
    let file = heat_converge::plan_file::to_json(&report, &url, &convert::now_utc());
    std::fs::write(&args.out, serde_json::to_string_pretty(&file)? + "\n")
        .with_context(|| format!("cannot write the plan file {}", args.out.display()))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "heat-converge plan of {url}")?;
    for t in &report.trees {
        writeln!(out, "{}", report::tree_line(t))?;
    }
    write!(out, "{}", report::summary(&report))?;
    writeln!(
        out,
        "Plan written to {}: {} to convert. Review it, take a database backup, then: heat-converge migrate --plan {}",
        args.out.display(),
        report::plural(report.would_convert(), "tree", "trees"),
        args.out.display()
    )?;
    out.flush()?;
    Ok(report::exit_code(&report))
}

fn verify(args: VerifyArgs) -> Result<u8> {
    let url = args.db.url()?;
    let mut db = args.db.connect(&url)?;
    db::heat_schema::check(db.conn())?;
    let opts = heat_converge::verify::Options {
        stacks: args.only.stacks.clone(),
        project: args.only.project.clone(),
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

fn status(args: StatusArgs) -> Result<u8> {
    let url = args.db.url()?;
    let mut db = args.db.connect(&url)?;
    let opts = convert::Options {
        dry_run: true,
        site: args.db.site()?,
        ..convert::Options::default()
    };
    let json = args.format == OutputFormat::Json;
    let mut spool = json.then(report::TreeSpool::new).transpose()?;
    let report = convert::run(db.as_mut(), &opts, |event| {
        if let (convert::Progress::Tree(t, _), Some(spool)) = (&event, spool.as_mut()) {
            spool.push(t)?;
        }
        Ok(())
    })?;
    let mut out = std::io::stdout().lock();
    match spool {
        Some(spool) => spool.print(&mut out, envelope("status", report::to_json(&report)))?,
        None => write!(out, "{}", report::status_text(&report, &url.to_string()))?,
    }
    out.flush()?;
    Ok(report::exit_code(&report))
}

fn graph(args: GraphArgs) -> Result<()> {
    let site = args.db.site()?;
    let graph = match (&args.stack_id, &args.template) {
        (Some(id), _) => {
            let url = args.db.url()?;
            let mut conn = args.db.connect(&url)?;
            // A hidden parameter that cannot be read: say which stack.
            let name_stack = |e: anyhow::Error| match e.downcast_ref::<Unopened>() {
                Some(_) => e.context(format!("stack {id}")),
                None => e,
            };
            let (row, raw) = source::stored_rows(conn.conn(), id)?;
            convert::plan::stored_graph(&row, &raw, &site).map_err(name_stack)?
        }
        (None, Some(path)) => {
            let files = source::Files {
                template: path,
                environments: &args.environments,
                parameters: &args.parameters,
            };
            let def = source::from_files(&files, &site)?;
            match Graph::of(&def, false) {
                Err(e) if e.is::<NeedsHeat>() && site.has_heat_python() => {
                    let (template, env, provided) = source::heat_request(&files, &def)?;
                    let heat = site.heat_template_graph(&template, &env, &provided)?;
                    Graph::from_heat(&def, &heat)?
                }
                graph => graph?,
            }
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
