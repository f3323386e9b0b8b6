//! The inputs both sides get, decided once: made-up values for the parameters without a
//! default, and the local files (provider templates, `get_file` targets) a template names.

use crate::common::{Bed, GraphJob};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

/// The keys that make a JSON object or YAML mapping a Heat template.
pub(crate) const VERSION_KEYS: [&str; 3] = [
    "heat_template_version",
    "HeatTemplateFormatVersion",
    "AWSTemplateFormatVersion",
];

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
pub(crate) fn made_up_parameters(
    template: &Value,
    set_by_env: &BTreeSet<String>,
) -> BTreeMap<String, String> {
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

pub(crate) fn made_up_value(schema: &Value, hot: bool) -> String {
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
pub(crate) fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[test]
pub(crate) fn made_up_values_follow_the_rule() {
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
pub(crate) struct Parsed<'a> {
    bed: &'a Bed,
    cache: BTreeMap<PathBuf, Result<Value, String>>,
}

impl<'a> Parsed<'a> {
    pub(crate) fn new(bed: &'a Bed, paths: &[PathBuf]) -> Parsed<'a> {
        Parsed {
            bed,
            cache: bed.parse_files(paths),
        }
    }

    pub(crate) fn get(&mut self, path: &Path) -> Result<&Value, &str> {
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

    pub(crate) fn template(&mut self, path: &Path) -> Option<Value> {
        self.get(path).ok().filter(|v| is_template(v)).cloned()
    }
}

pub(crate) fn is_template(v: &Value) -> bool {
    VERSION_KEYS.iter().any(|k| v.get(k).is_some())
}

/// The files a comparison hands to Heat, and what it could not.
#[derive(Default)]
pub(crate) struct Files {
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
pub(crate) fn gather_files(
    parsed: &mut Parsed,
    template: &Path,
    environments: &[PathBuf],
) -> Files {
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
pub(crate) fn template_refs(v: &Value) -> Vec<String> {
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
pub(crate) fn registry_refs(rr: &Value) -> Vec<String> {
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
pub(crate) fn env_parameters(env: &Value) -> BTreeSet<String> {
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

pub(crate) fn parent(p: &Path) -> &Path {
    p.parent().unwrap_or(Path::new("."))
}

/// `a/./b/../c` -> `a/c`, without touching the file system.
pub(crate) fn normalize(p: &Path) -> PathBuf {
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
pub(crate) struct Comparison {
    pub(crate) label: String,
    pub(crate) job: GraphJob,
    pub(crate) missing: BTreeSet<String>,
    pub(crate) clashes: Vec<String>,
}

/// The inputs for `template` with `environments`, by the rules above; `extra_files` are
/// added as they are (cases.yaml's `files`).
pub(crate) fn comparison(
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
