//! `heat-converge graph`: Heat's dependency graph of a stored stack or a template.

use super::*;
use heat_converge::crypt::Unopened;
use heat_converge::graph::{Graph, NeedsHeat};

pub const HELP: &str = "\
Exit codes: 0 the graph was printed; 1 error; 2 usage error.

Examples:
  heat-converge graph --template server.yaml -e env.yaml -P net=private
  heat-converge graph 5c1d... --config-file /etc/heat/heat.conf --format dot | dot -Tsvg";

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["stack_id", "template"])))]
pub struct GraphArgs {
    /// A stack stored in Heat's database, by id or by name (unique among live root
    /// stacks, else among all live stacks): its graph as Heat loads it.
    #[arg(value_name = "STACK")]
    pub stack_id: Option<String>,
    #[command(flatten)]
    pub db: DbArgs,
    /// A template file (YAML or JSON).
    #[arg(long)]
    pub template: Option<PathBuf>,
    /// Environment files, merged in order (later files win).
    #[arg(long = "environment", short = 'e')]
    pub environments: Vec<PathBuf>,
    /// Parameter values, KEY=VALUE (win over the environments).
    #[arg(long = "parameter", short = 'P')]
    pub parameters: Vec<String>,
    /// json: {"resources": {NAME: {"type": TYPE, "requires": [NAME, ...]}}}; dot: the graph
    /// in Graphviz's DOT language (e.g. | dot -Tsvg > graph.svg).
    #[arg(long, value_enum, default_value_t = GraphFormat::Json)]
    pub format: GraphFormat,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum GraphFormat {
    Json,
    Dot,
}

pub fn run(args: GraphArgs) -> Result<()> {
    let site = args.db.site()?;
    let graph = match (&args.stack_id, &args.template) {
        (Some(given), _) => {
            let url = args.db.url()?;
            let mut conn = args.db.connect(&url)?;
            // An id, or a name (`convert::stack_ref`).
            let id = &convert::stack_ref::any(conn.conn(), given)?;
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
        (None, None) => return Err(anyhow!("give a STACK (id or name) or --template")),
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        GraphFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&graph.to_json())?)?,
        GraphFormat::Dot => write!(out, "{}", graph.to_dot())?,
    }
    out.flush()?;
    Ok(())
}
