//! Where a stack definition comes from: a stack stored in Heat's database (its rows, as
//! Heat's `Stack.load` reads them) or template files on disk (as python-heatclient sends
//! them). Both end in a [`StackDefinition`], the one input of the graph engine; the
//! database layer below only reads rows.

use crate::crypt::Unsealer;
use crate::db::read::{raw_template, stack, RawTemplateRow, StackRow};
use crate::db::Connection;
use crate::environment::{is_template_name, Environment, Resolver};
use crate::parameters::StackIdentity;
use crate::site::HeatSite;
use crate::stack::StackDefinition;
use crate::template::Template;
use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A stored stack as Heat defines it when it loads it: its current template, stored
/// environment and files, under the cloud's Heat `site` (its global environment, plugins
/// and the key of its encrypted hidden parameters). Whoever reads the definition asks
/// [`crate::parameters::Parameters::unread`] afterwards.
pub fn stored(row: &StackRow, raw: &RawTemplateRow, site: &HeatSite) -> Result<StackDefinition> {
    let origin = format!("stack {} ({})", row.name, row.id);
    let Value::Object(body) = Value::clone(&raw.template) else {
        bail!("{origin}: raw_template {} is not a JSON object", raw.id);
    };
    let template = Template::from_body(body, &origin)?;
    let mut env = Environment::from_stored(&raw.environment)
        .with_context(|| format!("{origin}: stored environment"))?;
    let unsealer = Unsealer::new(site.key.clone());
    env.unsealer = unsealer.clone();
    let resolver = Resolver {
        user: env.registry.clone(),
        global: site.global.clone(),
        plugins: site.plugins.clone(),
    };
    let identity = StackIdentity {
        name: row.name.clone(),
        id: Some(row.id.to_string()),
        project: row.tenant.to_string(),
    };
    // A hidden value we could not read is the reason, however the failure was reported.
    StackDefinition::new(template, &env, resolver, &identity, raw.files.clone())
        .map_err(|e| unsealer.failure().map_or(e, anyhow::Error::new))
}

/// The stored stack `id`: its row and its current template's.
pub fn stored_rows(conn: &mut dyn Connection, id: &str) -> Result<(StackRow, RawTemplateRow)> {
    let row = stack(conn, id)?.ok_or_else(|| anyhow!("no stack {id} in the database"))?;
    let tid = row
        .raw_template_id
        .ok_or_else(|| anyhow!("stack {} ({}): has no raw_template_id", row.name, row.id))?;
    let raw = raw_template(conn, tid)?.ok_or_else(|| {
        anyhow!(
            "stack {} ({}): raw_template {tid} is missing",
            row.name,
            row.id
        )
    })?;
    Ok((row, raw))
}

/// The stored stack `id` and its definition.
pub fn stored_by_id(
    conn: &mut dyn Connection,
    id: &str,
    site: &HeatSite,
) -> Result<(StackRow, StackDefinition)> {
    let (row, raw) = stored_rows(conn, id)?;
    let def = stored(&row, &raw, site)?;
    Ok((row, def))
}

/// A template file with its environment files and parameter values, as
/// `openstack stack create -t FILE -e ENV --parameter K=V` would send them.
pub struct Files<'a> {
    pub template: &'a Path,
    pub environments: &'a [PathBuf],
    /// KEY=VALUE, winning over the environments.
    pub parameters: &'a [String],
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// The definition of a new stack made from files, under the cloud's Heat `site`.
pub fn from_files(files: &Files, site: &HeatSite) -> Result<StackDefinition> {
    let path = files.template;
    let origin = path.display().to_string();
    let template = Template::from_text(&read(path)?, &origin)?;
    let mut env = Environment::default();
    for path in files.environments {
        env.merge(Environment::from_text(
            &read(path)?,
            &path.display().to_string(),
        )?);
    }
    for kv in files.parameters {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| anyhow!("--parameter {kv}: expected KEY=VALUE"))?;
        env.parameters
            .insert(k.to_string(), serde_json::Value::String(v.to_string()));
    }
    let resolver = Resolver {
        user: env.registry.clone(),
        global: site.global.clone(),
        plugins: site.plugins.clone(),
    };
    let identity = StackIdentity {
        name: "graph".into(),
        id: None,
        project: "heat-converge".into(),
    };
    let provided = template_files(path, files.environments, &template, &env);
    StackDefinition::new(template, &env, resolver, &identity, provided)
}

/// The same files as Heat's API takes them, for Heat's own Python (`graph --template` of a
/// template whose plugins need it): the template and each environment file parsed (YAML
/// or JSON), the environments merged as python-heatclient merges them (a mapping section
/// updated key by key, any other replaced), `--parameter` values over them, and the files
/// the definition was given.
pub fn heat_request(
    files: &Files,
    def: &StackDefinition,
) -> Result<(Value, Value, std::collections::BTreeMap<String, String>)> {
    let parse = |path: &Path| -> Result<Value> {
        let text = read(path)?;
        serde_yaml::from_str(&text).with_context(|| format!("cannot parse {}", path.display()))
    };
    let template = parse(files.template)?;
    let mut env = serde_json::Map::new();
    for path in files.environments {
        if let Value::Object(layer) = parse(path)? {
            for (k, v) in layer {
                match (env.get_mut(&k), v) {
                    (Some(Value::Object(old)), Value::Object(new)) => old.extend(new),
                    (_, v) => {
                        env.insert(k, v);
                    }
                }
            }
        }
    }
    for kv in files.parameters {
        if let Some((k, v)) = kv.split_once('=') {
            let params = env
                .entry("parameters")
                .or_insert_with(|| Value::Object(Default::default()));
            if let Value::Object(p) = params {
                p.insert(k.to_string(), Value::String(v.to_string()));
            }
        }
    }
    let provided = def
        .files
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok((template, Value::Object(env), provided))
}

/// The string argument of every `get_file` in `v` (heatclient reads them all, wherever
/// they stand).
fn get_file_targets(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if let (true, Value::String(s)) = (k == "get_file", x) {
                    out.push(s.clone());
                }
                get_file_targets(x, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|x| get_file_targets(x, out)),
        _ => {}
    }
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
    let mut names: Vec<String> = names.into_iter().filter(|n| is_template_name(n)).collect();
    // heatclient also sends every `get_file` target the template names.
    get_file_targets(&Value::Object(template.body.clone()), &mut names);
    let mut files = HashMap::new();
    for name in names.into_iter().filter(|n| !n.contains("://")) {
        if let Some(text) = dirs
            .iter()
            .find_map(|d| std::fs::read_to_string(d.join(&name)).ok())
        {
            files.insert(name, text);
        }
    }
    files
}
