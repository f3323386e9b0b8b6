//! Our dependency graph (`heat-converge graph`) against Heat's own.
//!
//! The oracle is `heatbed.py graph` / `graph-batch`: a real Heat 27.0.1 builds the stack
//! in-process and says which resources each one requires. Every template is run through
//! both with the same inputs (parameters, environments, files), and each comparison ends
//! in one outcome:
//!
//! * equal — same resources, same types, same `requires`;
//! * rejected by both — Heat raised, and we exited 1;
//! * different — both gave a graph, and they differ (the diff says where);
//! * rejected by Heat only / rejected by us only;
//! * our command failed — we crashed, timed out, exited neither 0 nor 1, or printed
//!   something that is not the graph.
//!
//! Only the first two pass. The templates are the public heat-templates corpus
//! (`../shared/corpus/heat-templates`) and our own (`tests/templates`, with the
//! environments and files `cases.yaml` gives them, and `tests/templates/graph`, see
//! [`graph_templates`]).
//!
//! Which inputs a template gets is decided here, once: [`made_up_parameters`] (a value for
//! every parameter without a default) and [`gather_files`] (the local files it names).

mod common;

use common::{Bed, GraphJob};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The keys that make a JSON object or YAML mapping a Heat template.
const VERSION_KEYS: [&str; 3] = [
    "heat_template_version",
    "HeatTemplateFormatVersion",
    "AWSTemplateFormatVersion",
];

/// How long one `heat-converge graph` may take before it counts as failed.
const OUR_TIMEOUT: Duration = Duration::from_secs(60);

/// How many failing comparisons the report spells out.
const SHOWN: usize = 30;

fn top() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn our_templates() -> PathBuf {
    top().join("tests/templates")
}

// ------------------------------------------------------------------------- the oracle alone

fn requires(graph: &Value, name: &str) -> Vec<String> {
    let r = &graph["resources"][name];
    assert!(
        r.is_object(),
        "Heat's graph has no resource {name}: {graph}"
    );
    r["requires"]
        .as_array()
        .unwrap_or_else(|| panic!("{name} has no requires list: {graph}"))
        .iter()
        .map(|v| v.as_str().expect("a resource name").to_string())
        .collect()
}

fn names(graph: &Value) -> Vec<String> {
    graph["resources"]
        .as_object()
        .unwrap_or_else(|| panic!("not a graph: {graph}"))
        .keys()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The oracle itself, on templates whose edges are plain to read (tests/templates).
#[test]
fn oracle_graph_of_our_templates() {
    let bed = Bed::new("graphoracle");
    let dir = our_templates();
    let none: &[String] = &[];

    let depends = bed.graph(&dir.join("depends.yaml"), &[], &[]);
    assert_eq!(names(&depends), ["base", "middle", "side", "top"]);
    assert_eq!(requires(&depends, "top"), ["middle", "side"]);
    assert_eq!(requires(&depends, "middle"), ["base"]);
    assert_eq!(requires(&depends, "base"), none);
    assert_eq!(requires(&depends, "side"), none);
    assert_eq!(
        depends["resources"]["top"]["type"],
        "OS::Heat::TestResource"
    );

    let cfn = bed.graph(&dir.join("cfn.yaml"), &[], &["Size=8"]);
    assert_eq!(names(&cfn), ["Alone", "Echo", "Last", "Secret"]);
    assert_eq!(requires(&cfn, "Echo"), ["Secret"]); // Ref and Fn::GetAtt
    assert_eq!(requires(&cfn, "Last"), ["Echo"]); // DependsOn
    assert_eq!(requires(&cfn, "Alone"), none); // Ref to a pseudo parameter

    // The batch command: same answers, environments, files, conditions, rejections.
    let job = |t: &str, envs: &[&str], files: &[&str]| GraphJob {
        template: dir.join(t),
        environments: envs.iter().map(|e| dir.join(e)).collect(),
        parameters: BTreeMap::new(),
        files: files.iter().map(|f| (f.to_string(), dir.join(f))).collect(),
    };
    let got = bed.graph_batch(&[
        job("depends.yaml", &[], &[]),
        job("provider.yaml", &["box-env.yaml"], &["box.yaml"]),
        job("provider.yaml", &[], &[]),
        job("conditions.yaml", &[], &[]),
        job("conditions.yaml", &["dev-env.yaml"], &[]),
    ]);
    assert_eq!(
        got[0], depends,
        "graph-batch and graph disagree on depends.yaml"
    );

    assert_eq!(requires(&got[1], "second"), ["first"]); // get_attr of a provider's output
    assert_eq!(requires(&got[1], "first"), none);
    assert_eq!(got[1]["resources"]["first"]["type"], "My::Box");

    let err = got[2]["error"]
        .as_str()
        .unwrap_or_else(|| panic!("Heat took My::Box without box-env.yaml: {}", got[2]));
    assert!(err.contains("My::Box"), "{err}");

    assert_eq!(
        names(&got[3]),
        ["chooser", "left", "prod_only", "reader", "right"]
    );
    assert_eq!(requires(&got[3], "chooser"), ["left"]);
    assert_eq!(requires(&got[3], "reader"), ["prod_only"]);
    assert_eq!(
        names(&got[4]),
        ["chooser", "dev_only", "left", "reader", "right"]
    );
    assert_eq!(requires(&got[4], "chooser"), ["right"]);
    assert_eq!(requires(&got[4], "reader"), ["dev_only"]);
}

// ------------------------------------------------------------------------- the inputs

/// The one rule for parameters. Every parameter that has no default (or a null one) and
/// that no environment of the comparison sets (`parameters`, `parameter_defaults`) gets a
/// made-up value, and both sides get it as `--parameter NAME=VALUE`. HOT (`parameters`:
/// `type`, `default`, `constraints`) and CFN or Heat's CFN-like format (`Parameters`:
/// `Type`, `Default`, `AllowedValues`, `MinLength`, `MinValue`, `MaxValue`) alike:
///
/// * the first allowed value, when there is a list of them;
/// * string: `x`, repeated up to the minimum length if there is one;
/// * number: the minimum of its range, else the maximum, else `1`;
/// * json: `{}`; comma_delimited_list: `x,y`; boolean: `true`;
/// * any other type: `x`, and each side judges the type.
fn made_up_parameters(template: &Value, set_by_env: &BTreeSet<String>) -> BTreeMap<String, String> {
    let hot = template.get("heat_template_version").is_some();
    let section = if hot { "parameters" } else { "Parameters" };
    let mut out = BTreeMap::new();
    for (name, schema) in template[section].as_object().into_iter().flatten() {
        let default = if hot {
            &schema["default"]
        } else {
            &schema["Default"]
        };
        if !default.is_null() || set_by_env.contains(name) {
            continue;
        }
        out.insert(name.clone(), made_up_value(schema, hot));
    }
    out
}

fn made_up_value(schema: &Value, hot: bool) -> String {
    // The constraints, looked up the same way in both formats.
    let constraint = |hot_key: &str, hot_sub: &str, cfn_key: &str| -> Option<Value> {
        if hot {
            schema["constraints"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    if hot_sub.is_empty() {
                        &c[hot_key]
                    } else {
                        &c[hot_key][hot_sub]
                    }
                })
                .find(|v| !v.is_null())
                .cloned()
        } else {
            Some(schema[cfn_key].clone()).filter(|v| !v.is_null())
        }
    };
    if let Some(first) = constraint("allowed_values", "", "AllowedValues")
        .and_then(|a| a.as_array().and_then(|a| a.first().cloned()))
    {
        return scalar(&first);
    }
    let ty = if hot {
        &schema["type"]
    } else {
        &schema["Type"]
    };
    let ty = ty
        .as_str()
        .unwrap_or("")
        .to_ascii_lowercase()
        .replace('_', "");
    match ty.as_str() {
        "string" => {
            let min = constraint("length", "min", "MinLength")
                .map(|m| scalar(&m).parse::<usize>().unwrap_or(1))
                .unwrap_or(1);
            "x".repeat(min.max(1))
        }
        "number" => constraint("range", "min", "MinValue")
            .or_else(|| constraint("range", "max", "MaxValue"))
            .map(|v| scalar(&v))
            .unwrap_or_else(|| "1".into()),
        "json" => "{}".into(),
        "commadelimitedlist" => "x,y".into(),
        "boolean" => "true".into(),
        _ => "x".into(),
    }
}

/// A JSON value as a parameter value on a command line.
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[test]
fn made_up_values_follow_the_rule() {
    let hot: Value = serde_json::json!({
        "heat_template_version": "2018-08-31",
        "parameters": {
            "s": {"type": "string"},
            "long": {"type": "string", "constraints": [{"length": {"min": 4}}]},
            "flavor": {"type": "string",
                       "constraints": [{"allowed_values": ["m1.small", "m1.big"]}]},
            "n": {"type": "number"},
            "ranged": {"type": "number", "constraints": [{"range": {"min": 5, "max": 9}}]},
            "j": {"type": "json"},
            "l": {"type": "comma_delimited_list"},
            "b": {"type": "boolean"},
            "given": {"type": "string", "default": "kept"},
            "null_default": {"type": "string", "default": null},
            "from_env": {"type": "string"},
        }
    });
    let env: BTreeSet<String> = ["from_env".to_string()].into();
    let got = made_up_parameters(&hot, &env);
    let want: BTreeMap<String, String> = [
        ("s", "x"),
        ("long", "xxxx"),
        ("flavor", "m1.small"),
        ("n", "1"),
        ("ranged", "5"),
        ("j", "{}"),
        ("l", "x,y"),
        ("b", "true"),
        ("null_default", "x"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(got, want);

    let cfn: Value = serde_json::json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {
            "KeyName": {"Type": "String"},
            "Size": {"Type": "Number", "MinValue": "2"},
            "Type": {"Type": "String", "AllowedValues": ["t1", "t2"]},
            "Zones": {"Type": "CommaDelimitedList"},
            "Given": {"Type": "String", "Default": "x"},
        }
    });
    let got = made_up_parameters(&cfn, &BTreeSet::new());
    let want: BTreeMap<String, String> = [
        ("KeyName", "x"),
        ("Size", "2"),
        ("Type", "t1"),
        ("Zones", "x,y"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(got, want);
}

/// Parsed files (as Heat parses templates), parsed by the oracle's Python on first use.
struct Parsed<'a> {
    bed: &'a Bed,
    cache: BTreeMap<PathBuf, Result<Value, String>>,
}

impl<'a> Parsed<'a> {
    fn new(bed: &'a Bed, paths: &[PathBuf]) -> Parsed<'a> {
        Parsed {
            bed,
            cache: bed.parse_files(paths),
        }
    }

    fn get(&mut self, path: &Path) -> Result<&Value, &str> {
        if !self.cache.contains_key(path) {
            let more = self.bed.parse_files(&[path.to_path_buf()]);
            self.cache.extend(more);
        }
        match self.cache.get(path) {
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) => Err(e.as_str()),
            None => Err("not parsed"),
        }
    }

    fn template(&mut self, path: &Path) -> Option<Value> {
        self.get(path).ok().filter(|v| is_template(v)).cloned()
    }
}

fn is_template(v: &Value) -> bool {
    VERSION_KEYS.iter().any(|k| v.get(k).is_some())
}

/// The files a comparison hands to Heat, and what it could not.
#[derive(Default)]
struct Files {
    /// name as written -> the file read for it
    found: BTreeMap<String, PathBuf>,
    /// names written that are no file here (neither side gets them)
    missing: BTreeSet<String>,
    /// one name written for two different files (Heat gets the first)
    clashes: Vec<String>,
}

/// The one rule for files, as python-heatclient gathers them for `stack create`, except
/// that each is keyed by the string written (heatclient keys by absolute URL and rewrites
/// the template) — the name Heat looks up, and the one our command reads relative to the
/// file that names it:
///
/// * in a template, at any depth: the value of `get_file`, and a `type` (or CFN `Type`)
///   ending in `.yaml` or `.template` (a provider template), relative to the template;
/// * in an environment's `resource_registry` (and its `resources:` entries): each value
///   without `::`, relative to the environment;
/// * again in every file so found that is itself a template.
///
/// URLs (`scheme://`) are left alone: there is no network here.
fn gather_files(parsed: &mut Parsed, template: &Path, environments: &[PathBuf]) -> Files {
    let mut todo: Vec<(String, PathBuf)> = Vec::new();
    let local = |dir: &Path, names: Vec<String>| -> Vec<(String, PathBuf)> {
        names
            .into_iter()
            .filter(|n| !n.contains("://"))
            .map(|n| {
                let p = normalize(&dir.join(&n));
                (n, p)
            })
            .collect()
    };
    if let Some(t) = parsed.template(template) {
        todo.extend(local(parent(template), template_refs(&t)));
    }
    for env in environments {
        if let Ok(e) = parsed.get(env) {
            let names = registry_refs(&e["resource_registry"]);
            todo.extend(local(parent(env), names));
        }
    }
    todo.reverse();
    let mut files = Files::default();
    while let Some((name, path)) = todo.pop() {
        if let Some(known) = files.found.get(&name) {
            if *known != path {
                files.clashes.push(format!(
                    "{name}: {} and {}",
                    known.display(),
                    path.display()
                ));
            }
            continue;
        }
        if !path.is_file() {
            files.missing.insert(name);
            continue;
        }
        files.found.insert(name, path.clone());
        if let Some(t) = parsed.template(&path) {
            let mut more = local(parent(&path), template_refs(&t));
            more.reverse();
            todo.extend(more);
        }
    }
    files
}

/// `get_file` values and provider-template types, anywhere in a template.
fn template_refs(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if let Value::String(s) = x {
                        let provider = (k == "type" || k == "Type")
                            && (s.ends_with(".yaml") || s.ends_with(".template"));
                        if k == "get_file" || provider {
                            out.push(s.clone());
                        }
                    }
                    walk(x, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    walk(v, &mut out);
    out
}

/// The file names in a `resource_registry` (what heatclient's resolve_environment_urls
/// fetches).
fn registry_refs(rr: &Value) -> Vec<String> {
    let skip = |k: &str, v: &Value| -> Option<String> {
        let s = v.as_str()?;
        if matches!(k, "base_url" | "hooks" | "restricted_actions") || s.contains("::") {
            return None;
        }
        Some(s.to_string())
    };
    let mut out: Vec<String> = rr
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| skip(k, v))
        .collect();
    for res in rr["resources"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(_, r)| r)
    {
        out.extend(
            res.as_object()
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| skip(k, v)),
        );
    }
    out
}

/// The names an environment gives values to.
fn env_parameters(env: &Value) -> BTreeSet<String> {
    ["parameters", "parameter_defaults"]
        .iter()
        .flat_map(|s| {
            env[*s]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k.clone())
        })
        .collect()
}

fn parent(p: &Path) -> &Path {
    p.parent().unwrap_or(Path::new("."))
}

/// `a/./b/../c` -> `a/c`, without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            c => out.push(c.as_os_str()),
        }
    }
    out
}

/// One template (and environment) to run through both sides.
struct Comparison {
    label: String,
    job: GraphJob,
    missing: BTreeSet<String>,
    clashes: Vec<String>,
}

/// The inputs for `template` with `environments`, by the rules above; `extra_files` are
/// added as they are (cases.yaml's `files`).
fn comparison(
    parsed: &mut Parsed,
    label: String,
    template: &Path,
    environments: &[PathBuf],
    extra_files: &[(String, PathBuf)],
) -> Comparison {
    let mut set_by_env = BTreeSet::new();
    for e in environments {
        if let Ok(v) = parsed.get(e) {
            set_by_env.extend(env_parameters(v));
        }
    }
    let parameters = parsed
        .template(template)
        .map(|t| made_up_parameters(&t, &set_by_env))
        .unwrap_or_default();
    let mut files = gather_files(parsed, template, environments);
    for (n, p) in extra_files {
        files.missing.remove(n);
        files.found.entry(n.clone()).or_insert_with(|| p.clone());
    }
    Comparison {
        label,
        job: GraphJob {
            template: template.to_path_buf(),
            environments: environments.to_vec(),
            parameters,
            files: files.found,
        },
        missing: files.missing,
        clashes: files.clashes,
    }
}

// ------------------------------------------------------------------------- our side

/// What `heat-converge graph` did.
enum Ours {
    Graph(Value),
    /// exit 1: its message
    Rejected(String),
    /// anything else: what happened
    Failed(String),
}

/// The arguments of `heat-converge` for a job.
fn our_args(job: &GraphJob) -> Vec<String> {
    let mut args = vec!["graph".to_string(), "--template".into()];
    args.push(job.template.display().to_string());
    for e in &job.environments {
        args.push("--environment".into());
        args.push(e.display().to_string());
    }
    for (k, v) in &job.parameters {
        args.push("--parameter".into());
        args.push(format!("{k}={v}"));
    }
    args.extend(["--format".into(), "json".into()]);
    args
}

fn run_ours(job: &GraphJob) -> Ours {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_heat-converge"));
    cmd.args(our_args(job))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Ours::Failed(format!("cannot run heat-converge: {e}")),
    };
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if start.elapsed() > OUR_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Ours::Failed(format!("waiting for heat-converge: {e}")),
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = String::from_utf8_lossy(&err.join().unwrap_or_default())
        .trim()
        .to_string();
    let first = |s: &str| s.lines().next().unwrap_or("(no message)").to_string();
    let Some(status) = status else {
        return Ours::Failed(format!("timed out after {} s", OUR_TIMEOUT.as_secs()));
    };
    match status.code() {
        Some(0) => match serde_json::from_slice::<Value>(&stdout) {
            Ok(v) => match graph_of(&v) {
                Ok(_) => Ours::Graph(v),
                Err(e) => Ours::Failed(format!("exit 0, but {e}")),
            },
            Err(e) => Ours::Failed(format!("exit 0, but stdout is not JSON: {e}")),
        },
        Some(1) if stderr.is_empty() => Ours::Failed("exit 1 with nothing on stderr".into()),
        Some(1) => Ours::Rejected(stderr),
        Some(c) => Ours::Failed(format!("exit {c}: {}", first(&stderr))),
        None => Ours::Failed(format!("killed ({status}): {}", first(&stderr))),
    }
}

/// Runs our command for every job, a few at a time; results in order.
fn run_all_ours(jobs: &[GraphJob]) -> Vec<Ours> {
    let n = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(8);
    let chunk = jobs.len().div_ceil(n).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .chunks(chunk)
            .map(|c| s.spawn(move || c.iter().map(run_ours).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a runner thread"))
            .collect()
    })
}

// ------------------------------------------------------------------------- comparing

/// name -> (type, requires sorted)
type Graph = BTreeMap<String, (String, Vec<String>)>;

fn graph_of(v: &Value) -> Result<Graph, String> {
    let res = v["resources"]
        .as_object()
        .ok_or_else(|| format!("no \"resources\" object in {}", short(&v.to_string())))?;
    let mut g = Graph::new();
    for (name, r) in res {
        let ty = r["type"]
            .as_str()
            .ok_or_else(|| format!("{name} has no \"type\" string"))?;
        let mut req: Vec<String> = r["requires"]
            .as_array()
            .ok_or_else(|| format!("{name} has no \"requires\" list"))?
            .iter()
            .map(|x| {
                x.as_str()
                    .map(String::from)
                    .ok_or(format!("{name}: requires {x}"))
            })
            .collect::<Result<_, _>>()?;
        req.sort();
        g.insert(name.clone(), (ty.to_string(), req));
    }
    Ok(g)
}

fn short(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 200 {
        format!("{}…", s.chars().take(200).collect::<String>())
    } else {
        s
    }
}

/// Where two graphs differ, one line per resource.
fn diff(heat: &Graph, ours: &Graph) -> Vec<String> {
    let mut out = Vec::new();
    let all: BTreeSet<&String> = heat.keys().chain(ours.keys()).collect();
    for name in all {
        match (heat.get(name), ours.get(name)) {
            (Some((t, _)), None) => out.push(format!("{name} ({t}): only in Heat's graph")),
            (None, Some((t, _))) => out.push(format!("{name} ({t}): only in ours")),
            (Some((ht, hr)), Some((ot, or))) => {
                if ht != ot {
                    out.push(format!("{name}: type {ht} for Heat, {ot} for us"));
                }
                if hr != or {
                    let missing: Vec<&String> = hr.iter().filter(|r| !or.contains(r)).collect();
                    let extra: Vec<&String> = or.iter().filter(|r| !hr.contains(r)).collect();
                    out.push(format!(
                        "{name} requires {hr:?} for Heat, {or:?} for us (we miss {missing:?}, \
                         we add {extra:?})"
                    ));
                }
            }
            (None, None) => {}
        }
    }
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Equal,
    RejectedByBoth,
    Different,
    RejectedByHeatOnly,
    RejectedByUsOnly,
    OursFailed,
}

impl Kind {
    const ALL: [Kind; 6] = [
        Kind::Equal,
        Kind::RejectedByBoth,
        Kind::Different,
        Kind::RejectedByHeatOnly,
        Kind::RejectedByUsOnly,
        Kind::OursFailed,
    ];

    fn passes(self) -> bool {
        matches!(self, Kind::Equal | Kind::RejectedByBoth)
    }

    fn label(self) -> &'static str {
        match self {
            Kind::Equal => "equal",
            Kind::RejectedByBoth => "rejected by both",
            Kind::Different => "different",
            Kind::RejectedByHeatOnly => "rejected by Heat only",
            Kind::RejectedByUsOnly => "rejected by us only",
            Kind::OursFailed => "our command failed",
        }
    }
}

/// One outcome and the lines that explain it.
fn judge(heat: &Value, ours: &Ours) -> (Kind, Vec<String>) {
    let heat_error = heat
        .get("error")
        .map(|e| e.as_str().unwrap_or("?").to_string());
    let heat_graph = || graph_of(heat).unwrap_or_else(|e| panic!("the oracle's graph: {e}"));
    match (heat_error, ours) {
        (_, Ours::Failed(what)) => (Kind::OursFailed, vec![what.clone()]),
        (Some(_), Ours::Rejected(_)) => (Kind::RejectedByBoth, vec![]),
        (Some(h), Ours::Graph(_)) => (Kind::RejectedByHeatOnly, vec![format!("Heat: {h}")]),
        (None, Ours::Rejected(msg)) => {
            (Kind::RejectedByUsOnly, vec![format!("us: {}", short(msg))])
        }
        (None, Ours::Graph(v)) => {
            let ours = graph_of(v).unwrap_or_else(|e| panic!("checked in run_ours: {e}"));
            let d = diff(&heat_graph(), &ours);
            if d.is_empty() {
                (Kind::Equal, d)
            } else {
                (Kind::Different, d)
            }
        }
    }
}

/// The most common strings, most common first, at most `n`.
fn top_counts<'a>(items: impl Iterator<Item = &'a str>, n: usize) -> Vec<(usize, &'a str)> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for i in items {
        *counts.entry(i).or_default() += 1;
    }
    let mut v: Vec<(usize, &str)> = counts.into_iter().map(|(s, c)| (c, s)).collect();
    v.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    v.truncate(n);
    v
}

/// Runs every comparison through both sides, prints the report, fails unless every one is
/// equal or rejected by both.
fn compare(bed: &Bed, what: &str, comparisons: &[Comparison]) {
    let jobs: Vec<GraphJob> = comparisons.iter().map(|c| c.job.clone()).collect();
    let heat = bed.graph_batch(&jobs);
    let ours = run_all_ours(&jobs);
    let judged: Vec<(Kind, Vec<String>)> =
        heat.iter().zip(&ours).map(|(h, o)| judge(h, o)).collect();

    let mut r = String::new();
    let mut line = |s: String| {
        r.push_str(&s);
        r.push('\n');
    };
    line(format!(
        "graph differential, {what}: {} compared",
        comparisons.len()
    ));
    for k in Kind::ALL {
        let n = judged.iter().filter(|(j, _)| *j == k).count();
        line(format!("  {:<22} {n}", k.label()));
    }

    // The oracle's side, useful even while ours is missing.
    let errors: Vec<&str> = heat.iter().filter_map(|h| h["error"].as_str()).collect();
    line(format!(
        "Heat accepts {}, rejects {}; its reasons:",
        heat.len() - errors.len(),
        errors.len()
    ));
    for (n, e) in top_counts(errors.iter().copied(), 8) {
        line(format!("  {n:>4}  {}", short(e)));
    }
    let params: usize = comparisons.iter().map(|c| c.job.parameters.len()).sum();
    let with_params = comparisons
        .iter()
        .filter(|c| !c.job.parameters.is_empty())
        .count();
    let with_files = comparisons
        .iter()
        .filter(|c| !c.job.files.is_empty())
        .count();
    line(format!(
        "inputs: {params} made-up parameter values in {with_params} comparisons; files given \
         in {with_files}"
    ));
    let missing: Vec<String> = comparisons
        .iter()
        .filter(|c| !c.missing.is_empty())
        .map(|c| {
            let names: Vec<&str> = c.missing.iter().map(String::as_str).collect();
            format!("{} ({})", c.label, short(&names.join(", ")))
        })
        .collect();
    if !missing.is_empty() {
        line(format!(
            "{} comparisons name files that are not here (neither side gets them), e.g.:",
            missing.len()
        ));
        for m in missing.iter().take(5) {
            line(format!("  {m}"));
        }
    }
    for c in comparisons.iter().filter(|c| !c.clashes.is_empty()) {
        line(format!(
            "{}: a name for two files: {}",
            c.label,
            c.clashes.join("; ")
        ));
    }

    // Ours: the commonest reasons, then each failure.
    let failed: Vec<(&Comparison, &(Kind, Vec<String>))> = comparisons
        .iter()
        .zip(&judged)
        .filter(|(_, (k, _))| !k.passes())
        .collect();
    if !failed.is_empty() {
        let first_lines = failed
            .iter()
            .map(|(_, (_, d))| d.first().map_or("", String::as_str));
        let common: Vec<(usize, &str)> = top_counts(first_lines, 5)
            .into_iter()
            .filter(|(n, _)| *n > 1)
            .collect();
        if !common.is_empty() {
            line("commonest first lines of the failures:".into());
        }
        for (n, e) in common {
            line(format!("  {n:>4}  {}", short(e)));
        }
        line(format!(
            "failures ({} of {}), {} shown:",
            failed.len(),
            comparisons.len(),
            failed.len().min(SHOWN)
        ));
        for (c, (k, detail)) in failed.iter().take(SHOWN) {
            let params: Vec<String> = c
                .job
                .parameters
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let inputs = if params.is_empty() {
                String::new()
            } else {
                format!(" [{}]", short(&params.join(" ")))
            };
            line(format!("- {}{inputs}: {}", c.label, k.label()));
            for d in detail.iter().take(8) {
                line(format!("    {d}"));
            }
            if detail.len() > 8 {
                line(format!("    … and {} more", detail.len() - 8));
            }
        }
    }
    if std::env::var_os("GRAPH_DIFF_VERBOSE").is_some() {
        line("every comparison (GRAPH_DIFF_VERBOSE):".into());
        for (c, (k, _)) in comparisons.iter().zip(&judged) {
            line(format!("- {}: {}", c.label, k.label()));
            line(format!("    heat-converge {}", our_args(&c.job).join(" ")));
            for (n, p) in &c.job.files {
                line(format!("    file {n} = {}", p.display()));
            }
        }
    }
    // Once: printed when all pass (seen with --nocapture), else the failure message.
    if failed.is_empty() {
        println!("{r}");
    } else {
        panic!("\n{r}");
    }
}

// ------------------------------------------------------------------------- the two sets

fn cases_yaml(parsed: &mut Parsed) -> Vec<Value> {
    let path = our_templates().join("cases.yaml");
    let v = parsed
        .get(&path)
        .unwrap_or_else(|e| panic!("cases.yaml: {e}"));
    v["cases"]
        .as_array()
        .expect("cases.yaml has a list of cases")
        .clone()
}

/// Every template of tests/templates: each case's template (and update template) with
/// the case's environment and files, and every other template on its own.
#[test]
fn our_templates_match_heat() {
    let bed = Bed::new("graphours");
    let dir = our_templates();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/templates")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    let mut parsed = Parsed::new(&bed, &paths);

    let mut seen: BTreeSet<(String, Option<String>)> = BTreeSet::new();
    let mut comparisons = Vec::new();
    for case in cases_yaml(&mut parsed) {
        let env = case["environment"].as_str().map(String::from);
        let files: Vec<(String, PathBuf)> = case["files"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|f| (f.to_string(), dir.join(f)))
            .collect();
        for key in ["template", "update"] {
            let Some(t) = case[key].as_str() else {
                continue;
            };
            if !seen.insert((t.to_string(), env.clone())) {
                continue;
            }
            let envs: Vec<PathBuf> = env.iter().map(|e| dir.join(e)).collect();
            let label = match &env {
                Some(e) => format!("{t} + {e}"),
                None => t.to_string(),
            };
            comparisons.push(comparison(&mut parsed, label, &dir.join(t), &envs, &files));
        }
    }
    let used: BTreeSet<String> = seen.iter().map(|(t, _)| t.clone()).collect();
    for p in &paths {
        let name = p
            .file_name()
            .expect("a file name")
            .to_string_lossy()
            .to_string();
        if !used.contains(&name) && parsed.template(p).is_some() {
            comparisons.push(comparison(&mut parsed, name, p, &[], &[]));
        }
    }
    let graph = graph_templates(&mut parsed);
    assert!(
        graph.len() >= 12,
        "too few templates in tests/templates/graph"
    );
    comparisons.extend(graph);
    assert!(comparisons.len() >= 10, "too few of our templates found");
    compare(&bed, "tests/templates", &comparisons);
}

/// The templates of `tests/templates/graph`, written to exercise the implicit dependency
/// rules of Heat's plugins. Its own rule, kept apart from cases.yaml (those templates are
/// not stacks the bed builds):
///
/// * every `X.yaml` directly in that directory that is a template is compared on its own;
/// * when `X.env.yaml` sits beside it, once more with that environment (labelled
///   `graph/X.yaml + X.env.yaml`); an `*.env.yaml` is never compared by itself;
/// * subdirectories (e.g. `facade/`) hold files the environments name, such as provider
///   templates; they reach Heat through [`gather_files`], and are not compared alone.
fn graph_templates(parsed: &mut Parsed) -> Vec<Comparison> {
    let dir = our_templates().join("graph");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    let file_name = |p: &Path| p.file_name().expect("a name").to_string_lossy().to_string();
    let mut out = Vec::new();
    for p in &paths {
        let name = file_name(p);
        let Some(stem) = name.strip_suffix(".yaml") else {
            continue;
        };
        if stem.ends_with(".env") || parsed.template(p).is_none() {
            continue;
        }
        let label = format!("graph/{name}");
        out.push(comparison(parsed, label.clone(), p, &[], &[]));
        let env = p.with_file_name(format!("{stem}.env.yaml"));
        if env.is_file() {
            let label = format!("{label} + {}", file_name(&env));
            out.push(comparison(parsed, label, p, &[env], &[]));
        }
    }
    out
}

/// Every file under `dir` (recursively, hidden ones left out), sorted.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}

/// Every template of the heat-templates corpus on its own; and, where a directory has
/// `X_env.yaml` next to `X.yaml`, that template once more with that environment.
#[test]
fn corpus_matches_heat() {
    let shared = top().join("../shared");
    if !shared.is_dir() {
        println!(
            "SKIPPED corpus_matches_heat: no {} (the heat-templates corpus lives in \
             ../shared/corpus/heat-templates)",
            shared.display()
        );
        return;
    }
    let corpus = normalize(&shared.join("corpus/heat-templates"));
    assert!(
        corpus.is_dir(),
        "{} exists, but not {}",
        shared.display(),
        corpus.display()
    );

    let bed = Bed::new("graphcorpus");
    let mut paths = Vec::new();
    walk(&corpus, &mut paths);
    paths.retain(|p| {
        p.extension()
            .is_some_and(|e| ["yaml", "yml", "template", "json"].contains(&&*e.to_string_lossy()))
    });
    let mut parsed = Parsed::new(&bed, &paths);
    let rel = |p: &Path| p.strip_prefix(&corpus).unwrap_or(p).display().to_string();

    let mut comparisons = Vec::new();
    for p in &paths {
        if parsed.template(p).is_none() {
            continue;
        }
        comparisons.push(comparison(&mut parsed, rel(p), p, &[], &[]));
        let stem = p
            .file_stem()
            .expect("a file name")
            .to_string_lossy()
            .to_string();
        let env = p.with_file_name(format!("{stem}_env.yaml"));
        if env.is_file() && parsed.get(&env).is_ok_and(|v| !is_template(v)) {
            let label = format!(
                "{} + {}",
                rel(p),
                env.file_name().expect("a name").to_string_lossy()
            );
            comparisons.push(comparison(&mut parsed, label, p, &[env], &[]));
        }
    }
    assert!(
        comparisons.len() >= 100,
        "too few templates in {}",
        corpus.display()
    );
    compare(&bed, "heat-templates corpus", &comparisons);
}
