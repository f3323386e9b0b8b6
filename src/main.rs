//! The `heat-converge` command line.

use anyhow::{anyhow, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use heat_converge::db::{self, url::DbUrl};
use heat_converge::environment::{
    is_template_name, Environment, Resolver, DEFAULT_ENVIRONMENT_DIR,
};
use heat_converge::graph::Graph;
use heat_converge::parameters::StackIdentity;
use heat_converge::stack::StackDefinition;
use heat_converge::template::Template;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Convert every legacy OpenStack Heat stack to the convergence engine.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show the dependency graph Heat computes for a template, before converting.
    Graph(GraphArgs),
}

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["stack_id", "template"])))]
struct GraphArgs {
    /// A stack stored in Heat's database (needs --db-url): its graph as Heat would load it.
    stack_id: Option<String>,
    /// Heat's database, as a SQLAlchemy URL (`[database] connection` of heat.conf).
    #[arg(
        long,
        requires = "stack_id",
        env = "HEAT_CONVERGE_DB_URL",
        hide_env_values = true
    )]
    db_url: Option<String>,
    /// A template file (YAML or JSON).
    #[arg(long)]
    template: Option<PathBuf>,
    /// Environment files, merged in order (later files win).
    #[arg(long = "environment", short = 'e')]
    environments: Vec<PathBuf>,
    /// Parameter values, KEY=VALUE (win over the environments).
    #[arg(long = "parameter", short = 'P')]
    parameters: Vec<String>,
    /// Heat's global environment directory (`environment_dir` in heat.conf).
    #[arg(long, default_value = DEFAULT_ENVIRONMENT_DIR)]
    environment_dir: PathBuf,
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
        Command::Graph(args) => graph(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("heat-converge: error: {e:#}");
            ExitCode::from(1)
        }
    }
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
    let global = Resolver::load_global(&args.environment_dir)?;
    let graph = match (&args.stack_id, &args.template) {
        (Some(id), _) => {
            let url = args
                .db_url
                .as_deref()
                .ok_or_else(|| anyhow!("graph STACK_ID needs --db-url"))?;
            let url = DbUrl::parse(url).context("--db-url")?;
            let mut conn = db::connect(&url)?;
            let (_, stack) = db::read::stack_definition(conn.as_mut(), id, &global)?;
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
