//! The subcommands, one file each: each turns its arguments into one typed request for
//! the library (a conversion's options, a verification's) and prints its result. What
//! they share lives here: where Heat's database is (`DatabaseArgs`), and with its
//! configuration (`DbArgs`, which also builds the cloud's Heat, `HeatSite`), which trees a
//! command looks at, the output format and the envelope every JSON document is printed in.

pub mod docs;
pub mod graph;
pub mod history;
pub mod migrate;
pub mod plan;
pub mod status;
pub mod verify;

pub use anyhow::{anyhow, Context, Result};
use clap::ValueEnum;
use heat_converge::crypt::Key;
pub use heat_converge::db::{self, url::DbUrl};
use heat_converge::environment::Resolver;
use heat_converge::plugins::heat_python::{self, HeatPython, HeatPythonSetup};
use heat_converge::plugins::Catalog;
use heat_converge::site::HeatSite;
pub use heat_converge::{config, convert, report, source};
pub use std::io::Write as _;
pub use std::path::PathBuf;
pub use std::sync::Arc;

/// Where Heat's database is: all a command that reads only the database needs (`history`).
#[derive(clap::Args)]
pub struct DatabaseArgs {
    /// heat.conf files, read in order, later files win [default: heat-manage's, those that
    /// exist: heat.conf and heat-engine.conf, each the first found in ~/.heat, ~,
    /// /etc/heat or /etc (then $SNAP_COMMON/etc/heat, $SNAP/etc/heat where set)].
    #[arg(long = "config-file")]
    pub config_files: Vec<PathBuf>,
    /// Directories of *.conf files (read in sorted order) read after the config files
    /// [default: heat-manage's, those that exist: heat.conf.d and heat-manage.conf.d, each
    /// the first found in ~/.heat, ~, /etc/heat or /etc (then $SNAP_COMMON/etc/heat,
    /// $SNAP/etc/heat where set)].
    #[arg(long = "config-dir")]
    pub config_dirs: Vec<PathBuf>,
    /// Heat's database as a SQLAlchemy URL; overrides the config files.
    #[arg(long, env = DB_URL_ENV, hide_env_values = true)]
    pub db_url: Option<String>,
    /// How long any statement may wait for a lock another session holds (a row, a table,
    /// the SQLite file) before that tree is left alone, or the command fails.
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub lock_wait: u64,
    /// The config files as read, once, the first time a value of them is needed.
    #[arg(skip)]
    pub conf: std::cell::OnceCell<config::HeatConf>,
}

/// Where Heat's database and configuration are, for the commands that read stacks: the
/// database ([`DatabaseArgs`], reached through this by `Deref`) and the cloud's Heat.
#[derive(clap::Args)]
pub struct DbArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Heat's global environment directory [default: `environment_dir` in heat.conf, else
    /// /etc/heat/environment.d].
    #[arg(long)]
    pub environment_dir: Option<PathBuf>,
    /// Another directory of Heat resource plugins, searched after heat.conf's
    /// `plugin_dirs` (repeatable) [default: heat.conf's plugin_dirs, else /usr/lib64/heat,
    /// /usr/lib/heat, /usr/local/lib/heat, /usr/local/lib64/heat].
    #[arg(long = "plugin-dir", value_name = "DIR")]
    pub plugin_dirs: Vec<PathBuf>,
    /// The python of the cloud's Heat installation: computes, with Heat's own code, the
    /// graphs of stacks whose third-party plugins add their own dependencies (read-only)
    /// [default: the interpreter of `heat-manage` when it is on PATH].
    #[arg(long, value_name = "PATH")]
    pub heat_python: Option<PathBuf>,
}

impl std::ops::Deref for DbArgs {
    type Target = DatabaseArgs;
    fn deref(&self) -> &DatabaseArgs {
        &self.database
    }
}

impl DatabaseArgs {
    /// The config files, read on first use and kept.
    pub fn conf(&self) -> Result<&config::HeatConf> {
        if let Some(conf) = self.conf.get() {
            return Ok(conf);
        }
        let conf = config::HeatConf::load(&self.config_files, &self.config_dirs)?;
        Ok(self.conf.get_or_init(|| conf))
    }

    /// Connects, every lock wait of the session bounded by `--lock-wait`.
    pub fn connect(&self, url: &DbUrl) -> Result<Box<dyn db::Database>> {
        let mut db = db::connect(url)?;
        db.bound_lock_waits(std::time::Duration::from_secs(self.lock_wait))
            .context("cannot bound the session's lock waits (--lock-wait)")?;
        Ok(db)
    }

    /// How the run opens its second session (see `convert::Options::reader`): connected
    /// as [`DbArgs::connect`] connects.
    pub fn second_session(&self, url: &DbUrl) -> heat_converge::convert::SecondSession {
        let (url, wait) = (url.clone(), std::time::Duration::from_secs(self.lock_wait));
        heat_converge::convert::SecondSession(Arc::new(move || {
            let mut db = db::connect(&url)?;
            db.bound_lock_waits(wait)
                .context("cannot bound the session's lock waits (--lock-wait)")?;
            Ok(db)
        }))
    }

    pub fn url(&self) -> Result<DbUrl> {
        DbUrl::parse(&self.url_text()?).context("the database URL")
    }

    /// The URL as given (a secret: it may hold a password).
    pub fn url_text(&self) -> Result<String> {
        match &self.db_url {
            Some(u) => Ok(u.clone()),
            None => config::database_connection(self.conf()?),
        }
    }
}

impl DbArgs {
    /// What the cloud's Heat gives every command that reads stacks (see `site`).
    pub fn site(&self) -> Result<Arc<HeatSite>> {
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
    pub fn auth_encryption_key(&self) -> Result<Option<Key>> {
        config::auth_encryption_key(self.conf()?)
    }

    /// `--environment-dir`, else `environment_dir` from the config files, else Heat's default.
    pub fn environment_dir(&self) -> Result<PathBuf> {
        match &self.environment_dir {
            Some(dir) => Ok(dir.clone()),
            None => config::environment_dir(self.conf()?),
        }
    }
}

/// A command line for the operator to run next: its words (each quoted for a POSIX
/// shell where it needs to be) and what to know before running it.
pub struct NextCommand {
    pub words: Vec<String>,
    /// Said under the command: a secret left out, the URL taken from the environment.
    pub notes: Vec<String>,
}

impl NextCommand {
    /// The command, on one line, each word quoted where a shell would split or expand it.
    pub fn line(&self) -> String {
        self.words
            .iter()
            .map(|w| shell_word(w))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What stands for a secret in a command line printed for the operator.
pub const SECRET_PLACEHOLDER: &str = "PASSWORD";

/// `word` as a POSIX shell reads it back: as it is when it holds only characters no shell
/// acts on, else in single quotes (a quote inside as `'\''`).
pub fn shell_word(word: &str) -> std::borrow::Cow<'_, str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        std::borrow::Cow::Borrowed(word)
    } else {
        std::borrow::Cow::Owned(format!("'{}'", word.replace('\'', "'\\''")))
    }
}

impl DbArgs {
    /// The options that say where Heat's database and the cloud's Heat are (what a plan
    /// was made with, and must be applied with), as the operator gave them, for a
    /// command to run next: never a secret (replaced by [`SECRET_PLACEHOLDER`], and said).
    pub fn as_given(&self, next: &mut NextCommand) {
        let mut push = |option: &str, value: &std::path::Path| {
            next.words.push(option.to_string());
            next.words.push(value.display().to_string());
        };
        for f in &self.config_files {
            push("--config-file", f);
        }
        for d in &self.config_dirs {
            push("--config-dir", d);
        }
        if let Some(d) = &self.environment_dir {
            push("--environment-dir", d);
        }
        for d in &self.plugin_dirs {
            push("--plugin-dir", d);
        }
        if let Some(p) = &self.heat_python {
            push("--heat-python", p);
        }
        if self.lock_wait != db::DEFAULT_LOCK_WAIT.as_secs() {
            next.words.push("--lock-wait".into());
            next.words.push(self.lock_wait.to_string());
        }
        let Some(url) = &self.db_url else {
            return;
        };
        let on_command_line =
            std::env::args().any(|a| a == "--db-url" || a.starts_with("--db-url="));
        if !on_command_line {
            next.notes.push(format!(
                "the database URL is read from {DB_URL_ENV}, as it was for this command"
            ));
            return;
        }
        next.words.push("--db-url".into());
        match db::url::with_secrets_replaced(url, SECRET_PLACEHOLDER) {
            None => next.words.push(url.clone()),
            Some(shown) => {
                next.words.push(shown);
                next.notes.push(format!(
                    "{SECRET_PLACEHOLDER} stands for the secret of your --db-url, not printed: put it back, or give the URL in {DB_URL_ENV} (or heat.conf with --config-file) instead of --db-url"
                ));
            }
        }
    }
}

/// The environment variable `--db-url` may be given in.
pub const DB_URL_ENV: &str = "HEAT_CONVERGE_DB_URL";

/// Which trees a command looks at (all, if neither is given).
#[derive(clap::Args)]
pub struct Selection {
    /// Only the tree of this root stack, by id or by name (a name unique among the live
    /// root stacks) (repeatable).
    #[arg(long = "stack", value_name = "ID-or-NAME")]
    pub stacks: Vec<String>,
    /// Only the stacks of this project.
    #[arg(long)]
    pub project: Option<String>,
}

impl Selection {
    /// The library's selection of these options (a plan file, where one is given, is the
    /// command's to add).
    pub fn request(&self) -> convert::Selection {
        convert::Selection {
            stacks: self.stacks.clone(),
            project: self.project.clone(),
            plan: None,
        }
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OutputFormat {
    Text,
    Json,
}

/// The version of the JSON documents the commands print (`schema_version`).
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// A JSON document as every command prints it: what printed it first (tool and schema
/// version, command, duration), then its own keys.
pub fn envelope(command: &str, body: serde_json::Value) -> serde_json::Value {
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
pub static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Set once the command is known to print JSON, so that an error is JSON too.
pub static JSON_COMMAND: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "unknown".into())
}
