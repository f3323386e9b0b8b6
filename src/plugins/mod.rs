//! Third-party resource plugins: the modules of heat.conf's `plugin_dirs`, found and read
//! as Heat's plugin loader finds and loads them, and what each type they register means
//! for the dependency graph.
//!
//! Heat (`heat/engine/resources/__init__.py`, `heat/common/plugin_loader.py`) loads its
//! own `heat.engine.resources` package, then every module of the plugin directories as
//! the package `heat.engine.plugins` (`pkgutil.walk_packages`: each directory's entries
//! sorted by name, a module name seen in an earlier directory skipped, packages entered,
//! names with `.tests.` or ending in `.setup` skipped), and registers what each module's
//! `available_resource_mapping()` (if defined, else `resource_mapping()`) returns, in that
//! order: a later registration of a type replaces an earlier one, Heat's own included.
//!
//! We read those modules without running them ([`module`]: a real Python parser), and
//! decide per type ([`classify`]) whether its graph is one heat-converge already computes
//! (the class derives from an in-tree class and overrides none of the hooks Heat's graph
//! building calls) or one only Heat's own Python can compute ([`heat_python`]). What the
//! code does not let us decide is never guessed: it goes to Heat, or is refused with the
//! type, class, file and the reason.
//!
//! Why by hand: no crate knows Heat's loader or its graph hooks; the Python parsing itself
//! is tree-sitter's.

pub mod classify;
pub mod heat_python;
pub mod module;

use module::{ModuleSummary, Returns};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// oslo.config's default of heat.conf's `[DEFAULT] plugin_dirs` (heat/common/config.py).
pub const DEFAULT_PLUGIN_DIRS: &[&str] = &[
    "/usr/lib64/heat",
    "/usr/lib/heat",
    "/usr/local/lib/heat",
    "/usr/local/lib64/heat",
];

/// The resource types Heat 27.0.1's own plugins register (`src/resource_types.txt`).
pub fn heat_types() -> impl Iterator<Item = &'static str> {
    include_str!("../resource_types.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// The package Heat loads plugin modules into.
pub const PACKAGE: &str = "heat.engine.plugins";

/// How the graph of a resource of a third-party type is computed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum How {
    /// As heat.engine.resource.Resource builds it: explicit references only.
    AsResource,
    /// With the graph code of this in-tree type (the class derives from its class and
    /// overrides nothing that code reads).
    As(String),
    /// Only Heat's own Python can compute it; the reason says why, naming class and file.
    NeedsHeat(String),
}

impl How {
    /// In words, for `status`.
    pub fn describe(&self) -> String {
        match self {
            How::AsResource => "natively, as for any Heat resource (explicit references)".into(),
            How::As(t) => format!("natively, with the graph code of {t}"),
            How::NeedsHeat(why) => format!("by Heat's own Python (--heat-python): {why}"),
        }
    }

    /// A stable code for JSON.
    pub fn code(&self) -> &'static str {
        match self {
            How::AsResource => "native",
            How::As(_) => "native_as_in_tree",
            How::NeedsHeat(_) => "heat_python",
        }
    }
}

/// One type a plugin module registers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginType {
    pub type_name: String,
    /// The class as the mapping names it (`Widget`, `port.Port`), or `?` when unknown.
    pub class: String,
    /// The module's file.
    pub file: PathBuf,
    pub how: How,
}

impl PluginType {
    /// "type Acme::LB::Monitor (class Monitor in /usr/lib/heat/acme.py)"
    pub fn named(&self) -> String {
        format!(
            "type {} (class {} in {})",
            self.type_name,
            self.class,
            self.file.display()
        )
    }
}

/// One module file found in the plugin directories.
#[derive(Clone, Debug)]
pub struct PluginModule {
    /// Dotted, under [`PACKAGE`].
    pub name: String,
    pub file: PathBuf,
    pub is_package: bool,
    /// `Err`: why it could not be read (binary module, not UTF-8, syntax).
    pub summary: Result<ModuleSummary, String>,
}

/// Every third-party type the plugin directories register, as far as they can be read.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    pub dirs: Vec<PathBuf>,
    pub modules: Vec<PluginModule>,
    pub types: BTreeMap<String, PluginType>,
}

impl Catalog {
    /// Finds and reads the plugin modules of `dirs` (missing directories have none).
    pub fn discover(dirs: &[PathBuf]) -> Catalog {
        let mut modules = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        walk(dirs, PACKAGE, &mut seen, &mut modules);
        let types = classify::register(&modules);
        Catalog {
            dirs: dirs.to_vec(),
            modules,
            types,
        }
    }

    pub fn get(&self, type_name: &str) -> Option<&PluginType> {
        self.types.get(type_name)
    }

    /// The modules that could not be read, with why.
    pub fn unreadable(&self) -> impl Iterator<Item = (&Path, &str)> {
        self.modules.iter().filter_map(|m| {
            m.summary
                .as_ref()
                .err()
                .map(|e| (m.file.as_path(), e.as_str()))
        })
    }

    /// Why a type no registry knows may still be Heat's: modules we could not read.
    pub fn not_found_hint(&self) -> Option<String> {
        let unread: Vec<String> = self
            .unreadable()
            .map(|(f, why)| format!("{} ({why})", f.display()))
            .collect();
        if self.dirs.is_empty() {
            return None;
        }
        let dirs: Vec<String> = self.dirs.iter().map(|d| d.display().to_string()).collect();
        Some(if unread.is_empty() {
            format!(
                "no plugin module in plugin_dirs ({}) registers it",
                dirs.join(", ")
            )
        } else {
            format!(
                "no plugin module heat-converge could read in plugin_dirs ({}) registers it; unread: {}; run with --heat-python (the python of your Heat installation)",
                dirs.join(", "),
                unread.join("; ")
            )
        })
    }
}

/// Python's `inspect.getmodulename`, for the suffixes a plugin directory may hold: the
/// module name and whether it is source.
fn module_name(file_name: &str) -> Option<(&str, bool)> {
    if let Some(stem) = file_name.strip_suffix(".py") {
        return Some((stem, true));
    }
    if let Some(stem) = file_name.strip_suffix(".pyc") {
        return Some((stem, false));
    }
    // Extension modules: name.so or name.cpython-311-x86_64-linux-gnu.so, name.abi3.so.
    let stem = file_name.strip_suffix(".so")?;
    Some((stem.split('.').next().unwrap_or(stem), false))
}

/// `pkgutil.walk_packages(dirs, prefix + '.')`, as Heat's loader uses it.
fn walk(
    dirs: &[PathBuf],
    prefix: &str,
    seen: &mut std::collections::BTreeSet<String>,
    out: &mut Vec<PluginModule>,
) {
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        // A name yields once per directory level: `x.py` then `x.pyc` is one module.
        let mut here: BTreeMap<String, (PathBuf, bool, bool)> = BTreeMap::new();
        let mut order = Vec::new();
        for fname in &names {
            let path = dir.join(fname);
            let (name, is_pkg, source) = match module_name(fname) {
                Some(("__init__", _)) => continue,
                Some((name, source)) => (name.to_string(), false, source),
                None if path.is_dir() && !fname.contains('.') => {
                    let init = ["__init__.py", "__init__.pyc"]
                        .iter()
                        .map(|i| path.join(i))
                        .find(|p| p.exists());
                    let Some(init) = init else { continue };
                    let source = init.extension().is_some_and(|e| e == "py");
                    (fname.clone(), true, source)
                }
                None => continue,
            };
            if name.contains('.') || name.is_empty() {
                continue;
            }
            let full = format!("{prefix}.{name}");
            if seen.contains(&full) {
                continue;
            }
            match here.get_mut(&name) {
                // Source wins over bytecode for the import system (.py before .pyc).
                Some(entry) => entry.2 = entry.2 || source,
                None => {
                    let file = if is_pkg {
                        path.join("__init__.py")
                    } else {
                        path.with_file_name(format!("{name}.py"))
                    };
                    here.insert(name.clone(), (file, is_pkg, source));
                    order.push(name);
                }
            }
        }
        for name in order {
            let full = format!("{prefix}.{name}");
            if !seen.insert(full.clone()) {
                continue;
            }
            let (file, is_pkg, source) = here[&name].clone();
            if full.contains(".tests.") || full.ends_with(".setup") {
                continue;
            }
            let summary = if !source {
                Err("a compiled module (no .py source to read)".to_string())
            } else {
                match std::fs::read(&file) {
                    Err(e) => Err(format!("cannot be read: {e}")),
                    Ok(bytes) => match String::from_utf8(bytes) {
                        Err(_) => Err("not UTF-8".to_string()),
                        Ok(text) => {
                            module::summarize(&text, &full, is_pkg).map_err(|e| e.to_string())
                        }
                    },
                }
            };
            out.push(PluginModule {
                name: full.clone(),
                file: file.clone(),
                is_package: is_pkg,
                summary,
            });
            if is_pkg {
                if let Some(pkg_dir) = file.parent() {
                    walk(&[pkg_dir.to_path_buf()], &full, seen, out);
                }
            }
        }
    }
}

/// The effective mapping of a module, as [`classify`] reads it: the function Heat calls
/// and what it returns (a call to the other one followed).
pub(crate) fn effective_mapping(summary: &ModuleSummary) -> Option<(&module::MappingFn, Returns)> {
    let pick = |name: &str| summary.mappings.iter().rev().find(|m| m.name == name);
    let chosen = pick("available_resource_mapping").or_else(|| pick("resource_mapping"))?;
    let returns = match &chosen.returns {
        Returns::Call(other) if other != &chosen.name => match pick(other) {
            Some(f) => match &f.returns {
                Returns::Call(_) => Returns::Undecidable {
                    why: "its mapping functions call each other".into(),
                    mentions: vec![],
                },
                r => r.clone(),
            },
            None => Returns::Undecidable {
                why: format!("it calls {other}(), which the module does not define"),
                mentions: vec![],
            },
        },
        Returns::Call(_) => Returns::Undecidable {
            why: "it calls itself".into(),
            mentions: vec![],
        },
        r => r.clone(),
    };
    Some((chosen, returns))
}
