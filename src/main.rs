//! The `heat-converge` command line.

use anyhow::{anyhow, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use heat_converge::db::{self, url::DbUrl};
use heat_converge::environment::{is_template_name, Environment, Resolver};
use heat_converge::graph::Graph;
use heat_converge::parameters::StackIdentity;
use heat_converge::stack::StackDefinition;
use heat_converge::template::Template;
use heat_converge::{config, convert, report};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
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
            eprintln!("heat-converge: error: {e:#}");
            ExitCode::from(report::EXIT_ERROR)
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
    };
    let text = args.format == OutputFormat::Text;
    if text {
        println!(
            "heat-converge migrate on {url}{}",
            if args.dry_run {
                " (dry run: nothing will be written)"
            } else {
                ""
            }
        );
    }
    let report = convert::run(db.as_mut(), &opts, |t| {
        if text {
            println!("{}", report::tree_line(t));
        }
    })?;
    if text {
        if !report.migrations_applied.is_empty() {
            println!(
                "applied heat-converge schema migrations: {}",
                report.migrations_applied.join(", ")
            );
        }
        print!("{}", report::summary(&report));
    } else {
        println!(
            "{}",
            serde_json::to_string_pretty(&report::to_json(&report))?
        );
    }
    Ok(report::exit_code(&report))
}

fn status(args: StatusArgs) -> Result<u8> {
    let url = args.db.url()?;
    let mut db = db::connect(&url)?;
    let opts = convert::Options {
        dry_run: true,
        global: Resolver::load_global(&args.db.environment_dir(&args.environment_dir)?)?,
        ..convert::Options::default()
    };
    let report = convert::run(db.as_mut(), &opts, |_| {})?;
    if args.format == OutputFormat::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report::to_json(&report))?
        );
    } else {
        println!("heat-converge status of {url}");
        println!(
            "  root stacks on convergence    {:>6}",
            report.convergence_roots
        );
        println!("  legacy root stacks            {:>6}", report.trees.len());
        println!(
            "    ready to convert            {:>6}",
            report.would_convert()
        );
        println!("    blocked                     {:>6}", report.skipped());
        for t in &report.trees {
            if let convert::Outcome::Skipped(b) = &t.outcome {
                println!("      {} ({}): {}: {b}", t.root_name, t.root_id, b.kind());
            }
        }
    }
    Ok(report::exit_code(&report))
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// The provider templates a stack uses, read as python-heatclient would: a template
/// type relative to the template's directory, a registry entry relative to an
/// environment file's directory; keyed by the name as written. Unreadable ones are left
/// out (Heat then sees a provider template without parameters).
fn template_files(
    template_path: &Path,
    env_paths: &[PathBuf],
    template: &Template,
    env: &Environment,
) -> HashMap<String, String> {
    let mut names: Vec<String> = Vec::new();
    let type_key = template.resource_keys().kind;
    if let Ok(resources) = template.resources() {
        names.extend(
            resources
                .iter()
                .filter_map(|(_, d)| d.get(type_key)?.as_str().map(String::from)),
        );
    }
    names.extend(env.registry.mappings.iter().map(|(_, t)| t.clone()));
    names.extend(
        env.registry
            .per_resource
            .iter()
            .flat_map(|(_, m)| m.iter().map(|(_, t)| t.clone())),
    );
    let dirs: Vec<PathBuf> = std::iter::once(template_path)
        .chain(env_paths.iter().map(PathBuf::as_path))
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect();
    let mut files = HashMap::new();
    for name in names
        .into_iter()
        .filter(|n| is_template_name(n) && !n.contains("://"))
    {
        if let Some(text) = dirs
            .iter()
            .find_map(|d| std::fs::read_to_string(d.join(&name)).ok())
        {
            files.insert(name, text);
        }
    }
    files
}

fn graph(args: GraphArgs) -> Result<()> {
    let global = Resolver::load_global(&args.db.environment_dir(&args.environment_dir)?)?;
    let graph = match (&args.stack_id, &args.template) {
        (Some(id), _) => {
            let url = args.db.url()?;
            let mut conn = db::connect(&url)?;
            let (_, stack) = db::read::stack_definition(conn.conn(), id, &global)?;
            Graph::of(&stack, true)?
        }
        (None, Some(path)) => template_graph(&args, path, global)?,
        (None, None) => return Err(anyhow!("give a STACK_ID or --template")),
    };
    match args.format {
        GraphFormat::Json => println!("{}", serde_json::to_string_pretty(&graph.to_json())?),
        GraphFormat::Dot => print!("{}", graph.to_dot()),
    }
    Ok(())
}

fn template_graph(
    args: &GraphArgs,
    path: &Path,
    global: heat_converge::environment::Registry,
) -> Result<Graph> {
    let origin = path.display().to_string();
    let template = Template::from_text(&read(path)?, &origin)?;
    let mut env = Environment::default();
    for path in &args.environments {
        env.merge(Environment::from_text(
            &read(path)?,
            &path.display().to_string(),
        )?);
    }
    for kv in &args.parameters {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| anyhow!("--parameter {kv}: expected KEY=VALUE"))?;
        env.parameters
            .insert(k.to_string(), serde_json::Value::String(v.to_string()));
    }
    let resolver = Resolver {
        user: env.registry.clone(),
        global,
    };
    let identity = StackIdentity {
        name: "graph".into(),
        id: None,
        project: "heat-converge".into(),
    };
    let files = template_files(path, &args.environments, &template, &env);
    let stack = StackDefinition::new(template, &env, resolver, &identity, files)?;
    Graph::of(&stack, false)
}
