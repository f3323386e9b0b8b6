//! heat.conf as oslo.config reads it for `heat-manage`, so that heat-converge finds the
//! same `[database] connection`, `[DEFAULT] environment_dir` and `[DEFAULT]
//! auth_encryption_key` as Heat does.
//!
//! Which files (oslo_config/cfg.py, heat/cmd/manage.py):
//! - without `--config-file`, the default files, each only if it exists: `heat.conf`, then
//!   `heat-engine.conf`, each the first found in `~/.heat/`, `~/`, `/etc/heat/`, `/etc/`
//!   (`find_config_files('heat', 'heat-engine')`, as heat-manage passes them);
//! - without `--config-dir`, the default directories that exist: `heat.conf.d`, then
//!   `heat-manage.conf.d`, looked for in the same places;
//! - then every `--config-file` (one missing is an error), then every `--config-dir` (one
//!   missing is an error; its `*.conf`, not hidden ones, sorted). oslo.config reads the
//!   command line's files and directories in the order given; clap does not keep that
//!   order, so here the files come before the directories.
//!
//! Which value: `OS_DATABASE__CONNECTION` / `OS_DEFAULT__ENVIRONMENT_DIR` in the
//! environment, else the last file that sets it (its last assignment). Section names are
//! matched as oslo.config does: `DEFAULT` exactly, any other in lower case. oslo.config
//! then substitutes `$name` / `${name}` with the value of Heat's option `name`; we know
//! only Heat's options we read, so a value that refers to one is refused (without quoting
//! it: it may be in a password), and `$$` or `\$` are read as `$`, as oslo.config does.
//!
//! The INI dialect is oslo.config's own (`oslo_config/iniparser.py`), written here by hand
//! because no INI crate reads it the same: `=` or `:` (whichever comes first) separates,
//! `#` and `;` start a comment only in the first column, an indented line continues the
//! value (joined with a newline; an indented `#` line too), a blank line ends it, one pair
//! of matching quotes around a value is dropped, Python's `strip()` whitespace, a key set
//! twice keeps both values (the last one counts), `[ x ]` is a section named ` x `, and
//! lines end at `\n`, `\r\n` or `\r`. Files are read as UTF-8 (what Python reads them as
//! under a UTF-8 or the C locale; a byte-order mark is kept, as Python keeps it). Parse
//! errors name the file and line, never the line's text (it may hold a password).

use anyhow::{anyhow, bail, Context, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::crypt::Key;
pub use crate::environment::DEFAULT_ENVIRONMENT_DIR;
use crate::python;

pub const DEFAULT_CONFIG_FILE: &str = "/etc/heat/heat.conf";

/// Sections of one file (names as oslo.config normalizes them) -> key -> every value set.
type Sections = HashMap<String, HashMap<String, Vec<String>>>;

/// The config files heat-manage would read, parsed, in reading order.
pub struct HeatConf {
    files: Vec<(PathBuf, Sections)>,
}

/// `_normalize_group_name`.
fn normalize_section(name: &str) -> String {
    if name == "DEFAULT" {
        name.to_string()
    } else {
        name.to_lowercase()
    }
}

/// Lines as Python's universal-newline reading splits them.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        let line = &rest[..end];
        let skip = if rest[end..].starts_with("\r\n") {
            2
        } else {
            usize::from(end < rest.len())
        };
        rest = &rest[end + skip..];
        Some(line)
    })
}

/// oslo.config's INI reading of one file's text; errors say what and where, in words.
pub fn parse_ini(text: &str) -> Result<Sections> {
    let mut sections = Sections::new();
    let mut section: Option<String> = None;
    let mut pending: Option<(String, Vec<String>)> = None;
    let mut lineno = 0;
    let flush = |sections: &mut Sections,
                 section: &Option<String>,
                 pending: &mut Option<(String, Vec<String>)>,
                 lineno: usize|
     -> Result<()> {
        if let Some((key, value)) = pending.take() {
            let Some(name) = section else {
                bail!("line {lineno}: an assignment before any [section]");
            };
            sections
                .entry(normalize_section(name))
                .or_default()
                .entry(key)
                .or_default()
                .push(value.join("\n"));
        }
        Ok(())
    };
    for raw in lines(text) {
        lineno += 1;
        let line = python::rstrip(raw, None);
        if line.is_empty() {
            flush(&mut sections, &section, &mut pending, lineno)?;
            continue;
        }
        if line.starts_with([' ', '\t']) {
            match &mut pending {
                None => bail!("line {lineno}: an indented (continuation) line follows no key"),
                Some((_, value)) => value.push(python::lstrip(line, None).into()),
            }
            continue;
        }
        flush(&mut sections, &section, &mut pending, lineno)?;
        if line.starts_with('[') {
            if !line.ends_with(']') {
                bail!("line {lineno}: a section name does not end with ]");
            }
            if line.chars().count() <= 2 {
                bail!("line {lineno}: an empty section name");
            }
            let name = &line[1..line.len() - 1];
            sections.entry(normalize_section(name)).or_default();
            section = Some(name.to_string());
        } else if line.starts_with(['#', ';']) {
            // A comment.
        } else {
            let at = match (line.find(':'), line.find('=')) {
                (None, None) => bail!("line {lineno}: no ':' or '=' in an assignment"),
                (Some(c), Some(e)) => c.min(e),
                (Some(i), None) | (None, Some(i)) => i,
            };
            let key = python::strip(&line[..at], None);
            let mut value = python::strip(&line[at + 1..], None);
            if let (Some(first), Some(last)) = (value.chars().next(), value.chars().last()) {
                if first == last && (first == '"' || first == '\'') {
                    // value[1:-1]; a lone quote becomes empty.
                    value = value.get(1..value.len().saturating_sub(1)).unwrap_or("");
                }
            }
            if key.is_empty() {
                bail!("line {lineno}: an empty key");
            }
            pending = Some((key.to_string(), vec![value.to_string()]));
        }
    }
    flush(&mut sections, &section, &mut pending, lineno)?;
    Ok(sections)
}

/// `~` and `~/...` as Python's `os.path.expanduser` reads them.
fn expand_user(p: &Path) -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    match (p.strip_prefix("~"), home) {
        (Ok(rest), Some(home)) => home.join(rest),
        _ => p.to_path_buf(),
    }
}

/// oslo.config's `_get_config_dirs('heat')`.
fn search_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(home) = std::env::var_os("HOME").map(PathBuf::from) {
        dirs.push(home.join(".heat"));
        dirs.push(home);
    }
    dirs.push(PathBuf::from("/etc/heat"));
    dirs.push(PathBuf::from("/etc"));
    for var in ["SNAP_COMMON", "SNAP"] {
        if let Some(snap) = std::env::var_os(var) {
            dirs.push(Path::new(&snap).join("etc/heat"));
        }
    }
    dirs
}

/// `_find_config_files`: for each name, the first place it exists.
fn find(names: &[&str]) -> Vec<PathBuf> {
    let dirs = search_dirs();
    names
        .iter()
        .filter_map(|n| dirs.iter().map(|d| d.join(n)).find(|p| p.exists()))
        .collect()
}

/// A directory's `*.conf` files, not hidden ones, sorted (`sorted(glob(dir/*.conf))`).
fn conf_files(dir: &Path) -> Vec<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new(); // glob finds nothing in a directory it cannot list
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            let name = e.file_name();
            let b = name.as_bytes();
            b.ends_with(b".conf") && !b.starts_with(b".")
        })
        .map(|e| e.path())
        .collect();
    files.sort_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
    files
}

impl HeatConf {
    /// Reads the config files as heat-manage does, given the command line's `--config-file`
    /// and `--config-dir` values.
    pub fn load(cli_files: &[PathBuf], cli_dirs: &[PathBuf]) -> Result<HeatConf> {
        let mut paths: Vec<PathBuf> = Vec::new();
        if cli_files.is_empty() {
            paths.extend(find(&["heat.conf", "heat-engine.conf"]));
        }
        if cli_dirs.is_empty() {
            for d in find(&["heat.conf.d", "heat-manage.conf.d"]) {
                paths.extend(conf_files(&d));
            }
        }
        paths.extend(cli_files.iter().map(|f| expand_user(f)));
        for d in cli_dirs {
            let d = expand_user(d);
            if !d.exists() {
                bail!(
                    "cannot read config directory {}: it does not exist",
                    d.display()
                );
            }
            paths.extend(conf_files(&d));
        }
        let mut files = Vec::new();
        let mut missing = Vec::new();
        for path in paths {
            let bytes = match std::fs::read(&path) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    missing.push(path.display().to_string());
                    continue;
                }
                Err(e) => {
                    return Err(anyhow!(e))
                        .with_context(|| format!("cannot read config file {}", path.display()))
                }
            };
            let text = String::from_utf8(bytes)
                .map_err(|_| anyhow!("config file {} is not UTF-8", path.display()))?;
            let sections =
                parse_ini(&text).with_context(|| format!("config file {}", path.display()))?;
            files.push((path, sections));
        }
        if !missing.is_empty() {
            bail!("config files not found: {}", missing.join(", "));
        }
        Ok(HeatConf { files })
    }

    /// The files read, in order.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().map(|(p, _)| p.as_path())
    }

    /// `[group] key` as oslo.config gives a string option of Heat: the environment's
    /// `OS_GROUP__KEY`, else the last file's last value; `$` substitution applied.
    pub fn value(&self, group: &str, key: &str) -> Result<Option<String>> {
        let env = format!("OS_{}__{}", group.to_uppercase(), key.to_uppercase());
        let raw = match std::env::var(&env) {
            Ok(v) => Some(v),
            Err(_) => {
                let section = normalize_section(group);
                self.files.iter().rev().find_map(|(_, s)| {
                    s.get(&section)?
                        .get(key)
                        .and_then(|values| values.last().cloned())
                })
            }
        };
        raw.map(|v| substitute(&v).with_context(|| format!("[{group}] {key}")))
            .transpose()
    }
}

/// oslo.config's `string.Template.safe_substitute` of a value, for a value that names no
/// option: `$$` and `\$` give `$`, a `$` not followed by a name stays; `$name` / `${name}`
/// (oslo.config's `[_a-z][._a-z0-9]*`, any case) is refused.
fn substitute(value: &str) -> Result<String> {
    let value = value.replace("\\$", "$$");
    let mut out = String::with_capacity(value.len());
    let mut rest = value.as_str();
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        // Python's `[_a-z]` with IGNORECASE also takes four non-ASCII letters (İ ı ſ K).
        let letter =
            |c: char| c.is_ascii_alphabetic() || "\u{130}\u{131}\u{17f}\u{212a}".contains(c);
        let name_start = |c: char| c == '_' || letter(c);
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if after.starts_with(name_start)
            || after.strip_prefix('{').is_some_and(|b| {
                b.starts_with(name_start)
                    && b.trim_start_matches(|c: char| {
                        c == '_' || c == '.' || c.is_ascii_digit() || letter(c)
                    })
                    .starts_with('}')
            })
        {
            bail!(
                "the value refers to another option with $ (oslo.config substitution), \
                 which heat-converge cannot resolve; write $$ for a literal $"
            );
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// `[database] connection`, as heat-manage reads it.
pub fn database_connection(conf: &HeatConf) -> Result<String> {
    match conf.value("database", "connection")? {
        Some(v) if !v.is_empty() => Ok(v),
        _ => {
            let read: Vec<String> = conf.files().map(|p| p.display().to_string()).collect();
            bail!(
                "no [database] connection in {} (give --config-file, --config-dir or --db-url)",
                if read.is_empty() {
                    "any config file (none found)".to_string()
                } else {
                    read.join(", ")
                }
            )
        }
    }
}

/// `[DEFAULT] auth_encryption_key`, the key of hidden parameters Heat stored encrypted;
/// `None` when no file (nor `OS_DEFAULT__AUTH_ENCRYPTION_KEY`) sets it. Never printed.
pub fn auth_encryption_key(conf: &HeatConf) -> Result<Option<Key>> {
    Ok(conf.value("DEFAULT", "auth_encryption_key")?.map(Key::new))
}

/// Heat's global environment directory as the config files set it (`[DEFAULT]
/// environment_dir`), else `/etc/heat/environment.d`; a `--environment-dir` flag wins over
/// both (the caller's).
pub fn environment_dir(conf: &HeatConf) -> Result<PathBuf> {
    Ok(conf
        .value("DEFAULT", "environment_dir")?
        .map_or_else(|| PathBuf::from(DEFAULT_ENVIRONMENT_DIR), PathBuf::from))
}

/// `[DEFAULT] plugin_dirs` as oslo.config reads Heat's list option: the value stripped,
/// trailing commas dropped, split at every comma, each item stripped (an empty value is an
/// empty list); oslo's default (heat/common/config.py) when no file sets it.
pub fn plugin_dirs(conf: &HeatConf) -> Result<Vec<PathBuf>> {
    Ok(match conf.value("DEFAULT", "plugin_dirs")? {
        None => crate::plugins::DEFAULT_PLUGIN_DIRS
            .iter()
            .map(PathBuf::from)
            .collect(),
        Some(v) => split_list(&v).into_iter().map(PathBuf::from).collect(),
    })
}

/// oslo.config's `types.List()` of strings.
fn split_list(value: &str) -> Vec<String> {
    let v = python::strip(value, None).trim_end_matches(',');
    if v.is_empty() {
        return Vec::new();
    }
    v.split(',')
        .map(|s| python::strip(s, None).to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_options_split_as_oslo_splits_them() {
        // Each case checked with oslo_config.types.List() in the bed's virtualenv.
        let cases: &[(&str, &[&str])] = &[
            ("", &[]),
            ("a", &["a"]),
            ("a, b", &["a", "b"]),
            (" a ,b,", &["a", "b"]),
            ("a,,b", &["a", "", "b"]),
            ("[a,b],c", &["[a", "b]", "c"]),
        ];
        for (text, want) in cases {
            assert_eq!(split_list(text), *want, "{text:?}");
        }
    }

    fn value(text: &str, section: &str, key: &str) -> Option<String> {
        let s = parse_ini(text).unwrap();
        s.get(&normalize_section(section))?
            .get(key)?
            .last()
            .cloned()
    }

    #[test]
    fn oslo_ini_rules() {
        let t = "[DEFAULT]\nenvironment_dir : /e\n[Database]\nconnection = \"a=b\"\n  more\n# c\n";
        assert_eq!(
            value(t, "DEFAULT", "environment_dir").as_deref(),
            Some("/e")
        );
        assert_eq!(
            value(t, "database", "connection").as_deref(),
            Some("a=b\nmore")
        );
        assert_eq!(value("[d]\nk = 'v'\n", "d", "k").as_deref(), Some("v"));
        assert_eq!(value("[d]\nk = \"\n", "d", "k").as_deref(), Some(""));
        assert_eq!(value("[d]\nk=1\nk=2\n", "d", "k").as_deref(), Some("2"));
        assert_eq!(
            value("[d]\r\nk=a:b\rj:c=d", "d", "k").as_deref(),
            Some("a:b")
        );
        assert_eq!(
            value("[d]\r\nk=a:b\rj:c=d", "d", "j").as_deref(),
            Some("c=d")
        );
        assert!(parse_ini("k = v\n").is_err());
        assert!(parse_ini("[d]\n  v\n").is_err());
        assert!(parse_ini("[]\n").is_err());
        assert!(parse_ini("[d\n").is_err());
        assert!(parse_ini("[d]\n= v\n").is_err());
        assert!(parse_ini("[d]\nnovalue\n").is_err());
    }

    #[test]
    fn dollar_substitution() {
        assert_eq!(substitute("a$$b\\$c$1$").unwrap(), "a$b$c$1$");
        assert_eq!(substitute("a${x").unwrap(), "a${x");
        for bad in ["pa$word", "${DEFAULT.x}", "$Foo"] {
            let e = format!("{:#}", substitute(bad).unwrap_err());
            assert!(!e.contains("word") && !e.contains("Foo"), "{e}");
        }
    }
}
