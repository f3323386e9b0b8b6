//! Finding Heat's database the way heat-manage does: `[database] connection` from
//! heat.conf files read in order (later files win), then `*.conf` files of config
//! directories (sorted), as oslo.config reads `--config-file` and `--config-dir`.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

pub const DEFAULT_CONFIG_FILE: &str = "/etc/heat/heat.conf";

/// The value of `[section] key` in an INI text, if set.
fn ini_value(text: &str, section: &str, key: &str) -> Option<String> {
    let mut current = String::new();
    let mut found = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name.trim().to_string();
            continue;
        }
        if current != section {
            continue;
        }
        if let Some((k, v)) = line.split_once('=').or_else(|| line.split_once(':')) {
            if k.trim() == key {
                found = Some(v.trim().to_string());
            }
        }
    }
    found
}

/// All files to read: the files in order, then each directory's `*.conf`, sorted.
fn config_paths(files: &[PathBuf], dirs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = files.to_vec();
    for d in dirs {
        let mut confs: Vec<PathBuf> = std::fs::read_dir(d)
            .with_context(|| format!("cannot read config directory {}", d.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "conf"))
            .collect();
        confs.sort();
        out.extend(confs);
    }
    Ok(out)
}

/// `[database] connection` from the config files; the later a file, the more it counts.
pub fn database_connection(files: &[PathBuf], dirs: &[PathBuf]) -> Result<String> {
    let mut value = None;
    let paths = config_paths(files, dirs)?;
    for p in &paths {
        let text = read(p)?;
        if let Some(v) = ini_value(&text, "database", "connection") {
            value = Some(v);
        }
    }
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        _ => bail!(
            "no [database] connection in {} (give --config-file or --db-url)",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn read(p: &Path) -> Result<String> {
    std::fs::read_to_string(p).with_context(|| format!("cannot read config file {}", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_files_and_directories_win() {
        let dir = std::env::temp_dir().join(format!("hc-config-{}", std::process::id()));
        let d = dir.join("heat.conf.d");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            dir.join("heat.conf"),
            "[DEFAULT]\nconnection = nope\n[database]\nconnection = mysql://a:b@h/one\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("override.conf"),
            "[database]\n# connection = commented\nconnection = mysql://a:b@h/two\n",
        )
        .unwrap();
        std::fs::write(
            d.join("50-db.conf"),
            "[database]\nconnection=postgresql://x@h/three\n",
        )
        .unwrap();
        let one = database_connection(&[dir.join("heat.conf")], &[]).unwrap();
        assert_eq!(one, "mysql://a:b@h/one");
        let two =
            database_connection(&[dir.join("heat.conf"), dir.join("override.conf")], &[]).unwrap();
        assert_eq!(two, "mysql://a:b@h/two");
        let three = database_connection(&[dir.join("heat.conf")], &[d.clone()]).unwrap();
        assert_eq!(three, "postgresql://x@h/three");
        std::fs::write(dir.join("empty.conf"), "[database]\n").unwrap();
        assert!(database_connection(&[dir.join("empty.conf")], &[]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
