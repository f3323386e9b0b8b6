//! Heat's `[database] connection`: a SQLAlchemy URL, read exactly as SQLAlchemy 2's
//! `sqlalchemy.engine.url.make_url` reads it, then checked for what heat-converge needs.
//!
//! Two layers, because Heat accepts whatever SQLAlchemy accepts and we must read the same
//! user, password, host and database out of it:
//! - [`SqlAlchemyUrl`] is what `make_url` returns, field for field. The pattern is
//!   SQLAlchemy's own (`_parse_url`), run by the `regex` crate: its leftmost-first matching
//!   gives the same captures as Python's backtracking `re` (Python's `\w` on a str is
//!   "Unicode letter or number, or `_`", written `[\p{L}\p{N}_]` here). User, password and
//!   database are unquoted by `percent-encoding` and decoded lossily, as Python's `unquote`
//!   does; the query goes through `form_urlencoded`, which is `parse_qsl` once blank values
//!   are dropped. The port is read as Python's `int()` reads a string (Unicode digits and
//!   spaces, a sign, `_` between digits, the 4300-digit limit: [`crate::python`]).
//!   Written by hand, since no crate does it: SQLAlchemy's grouping of a repeated query
//!   key into a list. Known limit: Python 3.11 knows Unicode 14, the `regex` crate a later
//!   version, so a letter or number assigned since can read differently; it only ever
//!   changes whether an exotic driver name is rejected.
//! - [`DbUrl`] is what the drivers use: a backend Heat runs on, a port that fits, a database
//!   named, and SQLite's rules (SQLAlchemy's SQLite dialect refuses a user, password, host
//!   or port).
//!
//! - For MySQL, what PyMySQL takes from the option file a URL names (`read_default_file`,
//!   `read_default_group`) is part of the URL, read once when the URL is (see
//!   [`super::option_file`]): the user, password, host, port, database and options the
//!   driver will use, each value remembering where it came from for messages.
//!
//! A URL carries the database password. It is kept out of every message: `Display` and
//! `Debug` print `***` in its place, and errors name the part that is wrong in words,
//! never quoting the URL or a piece of it. An unescaped `@` in a password (or `/` in a
//! user name) makes SQLAlchemy put the rest of the password into the host, port, database
//! or query, where it would be shown; [`DbUrl::parse`] refuses such a URL (an `@` left
//! after the `user:password@` part) and says how to write it (`%40`).

use anyhow::{bail, Result};

use crate::python;
use regex::Regex;
use std::fmt;
use std::path::PathBuf;
use std::sync::OnceLock;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    MySql,
    Postgres,
    Sqlite,
}

/// Why `make_url` refuses a URL. The messages quote nothing of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlError {
    /// SQLAlchemy's pattern does not match ("Could not parse SQLAlchemy URL").
    NotAUrl,
    /// `int()` refuses the port (`ValueError: invalid literal for int()`).
    PortNotANumber,
    /// The port has more than 4300 digits (Python's limit for `int()` on a string).
    PortTooLong,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UrlError::NotAUrl => {
                "this is not a SQLAlchemy URL (DRIVER://USER:PASSWORD@HOST:PORT/DATABASE?OPTIONS)"
            }
            UrlError::PortNotANumber => "the port is not a number",
            UrlError::PortTooLong => "the port has more than 4300 digits",
        })
    }
}

impl std::error::Error for UrlError {}

/// What `sqlalchemy.engine.url.make_url` returns, field for field.
#[derive(Clone, PartialEq, Eq)]
pub struct SqlAlchemyUrl {
    pub drivername: String,
    pub username: Option<String>,
    password: Option<String>,
    pub host: Option<String>,
    /// The port as Python's `int()` reads it, in plain decimal (`-5`, `0080` -> `80`):
    /// SQLAlchemy takes any integer here.
    pub port: Option<String>,
    pub database: Option<String>,
    /// Query keys in the order they first appear, each with its values in order (SQLAlchemy
    /// makes a repeated key a list); keys with a blank value are dropped, as `parse_qsl` does.
    pub query: Vec<(String, Vec<String>)>,
}

/// The raw pieces SQLAlchemy's pattern captures, before unquoting.
struct Pieces<'a> {
    name: &'a str,
    username: Option<&'a str>,
    password: Option<&'a str>,
    ipv6host: Option<&'a str>,
    ipv4host: Option<&'a str>,
    port: Option<&'a str>,
    database: Option<&'a str>,
    query: Option<&'a str>,
    /// Where the text after `DRIVER://` and the `user:password@` part (if any) begins.
    after_userinfo: usize,
}

/// SQLAlchemy 2.x `_parse_url`'s pattern, group for group (the `userinfo` group is ours: it
/// marks where the `user:password@` part ends and changes no match).
const PATTERN: &str = r"(?x)
    ^(?P<name>[\p{L}\p{N}_+]+)://
    (?P<userinfo>
        (?P<username>[^:/]*)
        (?::(?P<password>[^@]*))?
    @)?
    (?:
        (?:
            \[(?P<ipv6host>[^/?]+)\] |
            (?P<ipv4host>[^/:?]+)
        )?
        (?::(?P<port>[^/?]*))?
    )?
    (?:/(?P<database>[^?]*))?
    (?:\?(?P<query>.*))?
";

/// The compiled pattern; a constant, so it compiles (the unit tests prove it).
fn pattern() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| Regex::new(PATTERN).ok()).as_ref()
}

fn pieces(text: &str) -> Option<Pieces<'_>> {
    let c = pattern()?.captures(text)?;
    let get = |n: &str| c.name(n).map(|m| m.as_str());
    let name = c.name("name")?;
    Some(Pieces {
        name: name.as_str(),
        username: get("username"),
        password: get("password"),
        ipv6host: get("ipv6host"),
        ipv4host: get("ipv4host"),
        port: get("port"),
        database: get("database"),
        query: get("query"),
        after_userinfo: c
            .name("userinfo")
            .map_or(name.end() + "://".len(), |m| m.end()),
    })
}

impl SqlAlchemyUrl {
    /// Reads `text` as `make_url(text)` does.
    pub fn parse(text: &str) -> Result<SqlAlchemyUrl, UrlError> {
        Self::from_pieces(pieces(text).ok_or(UrlError::NotAUrl)?)
    }

    fn from_pieces(p: Pieces<'_>) -> Result<SqlAlchemyUrl, UrlError> {
        // `if components["port"]: int(port)`, and `URL.create` calls int() on "" too.
        let port = p.port.map(port_int).transpose()?;
        let mut query: Vec<(String, Vec<String>)> = Vec::new();
        for (k, v) in form_urlencoded::parse(p.query.unwrap_or("").as_bytes()) {
            if v.is_empty() {
                continue; // parse_qsl(keep_blank_values=False)
            }
            match query.iter_mut().find(|(key, _)| *key == k) {
                Some((_, values)) => values.push(v.into_owned()),
                None => query.push((k.into_owned(), vec![v.into_owned()])),
            }
        }
        Ok(SqlAlchemyUrl {
            drivername: p.name.to_string(),
            username: p.username.map(unquote),
            password: p.password.map(unquote),
            // `ipv4host or ipv6host`: neither group can capture an empty string.
            host: p.ipv4host.or(p.ipv6host).map(String::from),
            port,
            database: p.database.map(unquote),
            query,
        })
    }

    /// The password, unquoted.
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// `URL.get_backend_name()`: the driver name up to its first `+`.
    pub fn backend_name(&self) -> &str {
        self.drivername.split('+').next().unwrap_or("")
    }
}

impl fmt::Debug for SqlAlchemyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlAlchemyUrl")
            .field("drivername", &self.drivername)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database", &self.database)
            .field("query", &self.query)
            .finish()
    }
}

/// Python's `urllib.parse.unquote`: `%XX` escapes become bytes, decoded as UTF-8 with
/// U+FFFD for what is not; a `%` without two hex digits stays as it is.
fn unquote(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// The port as Python's `int()` reads it ([`python::int_str`]), as its decimal text.
fn port_int(s: &str) -> Result<String, UrlError> {
    python::int_str(s).map_err(|e| match e {
        python::IntError::Invalid => UrlError::PortNotANumber,
        python::IntError::TooManyDigits => UrlError::PortTooLong,
    })
}

/// The text of a URL as given, each secret in it (the password, and an option whose value
/// is one) replaced by `placeholder`, for a command line printed to be run again; None
/// when it holds no secret. Only a text [`DbUrl::parse`] reads is given here.
pub fn with_secrets_replaced(text: &str, placeholder: &str) -> Option<String> {
    let c = pattern()?.captures(text)?;
    let mut out = text.to_string();
    let mut replaced = false;
    // From the end, so that the earlier ranges stay where they are.
    if let Some(q) = c.name("query") {
        let mut query = Vec::new();
        for pair in q.as_str().split('&') {
            let (key, _) = pair.split_once('=').unwrap_or((pair, ""));
            if SECRET_OPTIONS.contains(&unquote(key).as_str()) {
                query.push(format!("{key}={placeholder}"));
                replaced = true;
            } else {
                query.push(pair.to_string());
            }
        }
        out.replace_range(q.range(), &query.join("&"));
    }
    if let Some(p) = c.name("password") {
        out.replace_range(p.range(), placeholder);
        replaced = true;
    }
    replaced.then_some(out)
}

/// A parsed connection URL, as the drivers use it.
#[derive(Clone, PartialEq, Eq)]
pub struct DbUrl {
    pub backend: Backend,
    /// The driver name as written (`mysql+pymysql`), for messages.
    pub scheme: String,
    pub user: Option<String>,
    password: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    /// Database name (server backends) or file path (SQLite).
    pub database: String,
    /// Query options in order (`charset=utf8`, `unix_socket=...`); a repeated key appears
    /// once per value.
    pub options: Vec<(String, String)>,
    /// The MySQL option file the URL names, and what PyMySQL takes from it.
    option_file: Option<OptionFileUse>,
}

/// A value PyMySQL takes from the option file, in place of a URL option.
#[derive(Clone, PartialEq, Eq)]
pub struct FileValue {
    /// The URL option it stands for (`ssl_ca`, `unix_socket`, ...).
    pub url_key: &'static str,
    /// The key in the file (`ssl-ca`, `socket`, ...).
    pub file_key: &'static str,
    value: String,
}

/// The option file a MySQL URL names (`read_default_file`, `read_default_group`), once read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionFileUse {
    /// The file, `~` expanded.
    pub path: String,
    pub group: String,
    /// Whether the file has the group (PyMySQL takes nothing from a file without it).
    pub has_group: bool,
    /// Parts of the URL the file gave: `user`, `password`, `host`, `port`, `database`.
    pub filled: Vec<&'static str>,
    /// Options the file gave, where the URL has none.
    pub values: Vec<FileValue>,
    /// TLS asked for by keys PyMySQL does not read (`ssl`, `ssl-mode`,
    /// `ssl-verify-server-cert`): the connection must do at least that, or is refused.
    pub asks: Vec<(String, super::option_file::TlsAsk)>,
}

impl fmt::Debug for FileValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = if SECRET_OPTIONS.contains(&self.url_key) {
            "***"
        } else {
            &self.value
        };
        write!(f, "{}={value} (for {})", self.file_key, self.url_key)
    }
}

impl OptionFileUse {
    /// `FILE [group]`, for messages.
    pub fn named(&self) -> String {
        format!("{} [{}]", self.path, self.group)
    }

    fn value(&self, url_key: &str) -> Option<&FileValue> {
        self.values.iter().find(|v| v.url_key == url_key)
    }
}

/// What PyMySQL takes from the option file in place of each URL option.
const FILE_OPTIONS: [(&str, &str); 9] = [
    ("unix_socket", "socket"),
    ("bind_address", "bind-address"),
    ("charset", "default-character-set"),
    ("ssl_ca", "ssl-ca"),
    ("ssl_capath", "ssl-capath"),
    ("ssl_cert", "ssl-cert"),
    ("ssl_key", "ssl-key"),
    // PyMySQL's ssl dict key `password`: the client key's password, as ssl_key_password.
    ("ssl_key_password", "ssl-password"),
    ("ssl_cipher", "ssl-cipher"),
];

/// Options whose values are secrets, never shown.
const SECRET_OPTIONS: [&str; 1] = ["ssl_key_password"];

impl DbUrl {
    /// Reads a `[database] connection` as SQLAlchemy does and checks that heat-converge can
    /// use it. Errors never quote the URL or any part of it.
    pub fn parse(text: &str) -> Result<DbUrl> {
        let p = pieces(text).ok_or(UrlError::NotAUrl)?;
        if text[p.after_userinfo..].contains('@') {
            bail!(
                "an '@' is left after the USER:PASSWORD@ part, so SQLAlchemy would read part \
                 of the password (or user name) as the host, port, database or options: \
                 percent-encode '@' as %40 (and '/' as %2F, ':' as %3A) in the user name and \
                 password, and '@' as %40 in options (init_command=SET %40x...)"
            );
        }
        let url = SqlAlchemyUrl::from_pieces(p)?;
        let backend = match url.backend_name() {
            "mysql" | "mariadb" => Backend::MySql,
            "postgresql" | "postgres" => Backend::Postgres,
            "sqlite" => Backend::Sqlite,
            _ => bail!(
                "the driver name (before ://) is not one Heat runs on: MySQL/MariaDB \
                 (mysql+pymysql://), PostgreSQL (postgresql://) or SQLite (sqlite:///)"
            ),
        };
        let port = match &url.port {
            None => None,
            Some(p) => Some(
                p.parse::<u16>()
                    .map_err(|_| anyhow::anyhow!("the port is not between 0 and 65535"))?,
            ),
        };
        let options: Vec<(String, String)> = url
            .query
            .iter()
            .flat_map(|(k, vs)| vs.iter().map(move |v| (k.clone(), v.clone())))
            .collect();
        if backend == Backend::Sqlite {
            // pysqlite's create_connect_args: `if url.username or url.password or url.host
            // or url.port: raise ArgumentError("Invalid SQLite URL")`.
            let set = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.is_empty());
            if set(&url.username)
                || set(&url.password)
                || url.host.is_some()
                || port.unwrap_or(0) != 0
            {
                bail!("a SQLite URL has no user, password, host or port: sqlite:///RELATIVE/PATH or sqlite:////ABSOLUTE/PATH");
            }
            let path = url.database.unwrap_or_default();
            if path.is_empty() || path == ":memory:" {
                bail!("an in-memory SQLite database (sqlite://, sqlite:///:memory:) holds no Heat stacks");
            }
            if url.query.iter().any(|(k, _)| k == "uri") {
                bail!("SQLite URI file names (the uri option) are not supported: give the file's path");
            }
            return Ok(DbUrl {
                backend,
                scheme: url.drivername,
                user: None,
                password: None,
                host: None,
                port: None,
                database: path,
                options,
                option_file: None,
            });
        }
        let mut db = DbUrl {
            backend,
            scheme: url.drivername,
            user: url.username,
            password: url.password,
            host: url.host,
            port,
            database: url.database.unwrap_or_default(),
            options,
            option_file: None,
        };
        if db.backend == Backend::MySql {
            db.read_option_file()?;
        }
        if db.database.is_empty() {
            bail!("the URL names no database (/DATABASE after the host)");
        }
        Ok(db)
    }

    /// PyMySQL's `read_default_file` / `read_default_group` (`Connection.__init__`): each
    /// value the URL leaves empty is taken from the file's group, if it has one there.
    fn read_option_file(&mut self) -> Result<()> {
        use super::option_file::{self, Lookup};
        for key in ["read_default_file", "read_default_group", "init_command"] {
            if self.options_all(key).len() > 1 {
                bail!(
                    "{key} is given more than once in the URL: SQLAlchemy would hand \
                     PyMySQL a list, which it cannot use"
                );
            }
        }
        let (file, group) = (
            self.option("read_default_file"),
            self.option("read_default_group"),
        );
        if file.is_none() && group.is_none() {
            return Ok(());
        }
        let group = group.unwrap_or(option_file::DEFAULT_GROUP).to_string();
        let (path, parsed) = option_file::read(file.unwrap_or(option_file::DEFAULT_FILE))?;
        let mut used = OptionFileUse {
            path,
            group,
            has_group: false,
            filled: Vec::new(),
            values: Vec::new(),
            asks: Vec::new(),
        };
        used.has_group = parsed.has_group(&used.group);
        if !used.has_group {
            // PyMySQL: every `cfg.get` raises NoSectionError, so nothing is taken.
            tracing::info!(
                "the MySQL option file {} has no group [{}]: nothing is taken from it, \
                 as PyMySQL takes nothing",
                used.path,
                used.group
            );
            self.option_file = Some(used);
            return Ok(());
        }
        let named = used.named();
        let text = |key: &str| match parsed.get(&used.group, key) {
            Lookup::Value(v) if !v.is_empty() => Some(v),
            _ => None,
        };
        // `_config(key, arg)`: the URL's value when it is not empty, else the file's.
        let empty = |s: &Option<String>| s.as_deref().is_none_or(str::is_empty);
        let mut filled = Vec::new();
        for (part, slot) in [
            ("user", &mut self.user),
            ("password", &mut self.password),
            ("host", &mut self.host),
        ] {
            if empty(slot) {
                if let Some(v) = text(part) {
                    *slot = Some(v);
                    filled.push(part);
                }
            }
        }
        if self.database.is_empty() {
            if let Some(v) = text("database") {
                self.database = v;
                filled.push("database");
            }
        }
        // `port = int(_config("port", port))`: a port of 0 in the URL counts as none, and
        // the file's value must be a number (an empty one too).
        if self.port.unwrap_or(0) == 0 {
            if let Lookup::Value(v) = parsed.get(&used.group, "port") {
                let port = port_int(&v)
                    .ok()
                    .and_then(|p| p.parse::<u16>().ok())
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "port in the MySQL option file {named} is not a port number \
                             (0 to 65535)"
                        )
                    })?;
                self.port = Some(port);
                filled.push("port");
            }
        }
        used.filled = filled;
        for (url_key, file_key) in FILE_OPTIONS {
            if self.options.iter().any(|(k, _)| k == url_key) {
                continue;
            }
            if let Some(value) = text(file_key) {
                used.values.push(FileValue {
                    url_key,
                    file_key,
                    value,
                });
            }
        }
        for (key, value) in parsed.keys(&used.group) {
            let ask = option_file::unread_key(key, value)
                .map_err(|e| anyhow::anyhow!("the MySQL option file {named}: {e}"))?;
            if let Some(ask) = ask {
                used.asks.push((key.to_string(), ask));
            }
        }
        self.option_file = Some(used);
        Ok(())
    }

    /// The option file the URL names, once read (MySQL only).
    pub fn option_file(&self) -> Option<&OptionFileUse> {
        self.option_file.as_ref()
    }

    /// `KEY=VALUE` of an option for a message, saying where it came from when it came
    /// from the option file; a secret's value is never shown.
    pub(crate) fn shown(&self, key: &str) -> String {
        let value = |v: &str| {
            if SECRET_OPTIONS.contains(&key) {
                "***".to_string()
            } else {
                v.to_string()
            }
        };
        if let Some(v) = self.options.iter().rev().find(|(k, _)| k == key) {
            return format!("{key}={}", value(&v.1));
        }
        match self
            .option_file
            .as_ref()
            .and_then(|f| Some((f, f.value(key)?)))
        {
            Some((f, v)) => format!(
                "{}={} (in the MySQL option file {})",
                v.file_key,
                value(&v.value),
                f.named()
            ),
            None => key.to_string(),
        }
    }

    /// The password, for the drivers only.
    pub(crate) fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// The last value of a query option; for MySQL, else what the option file gives in
    /// its place (`ssl_ca` from `ssl-ca`, `unix_socket` from `socket`, ...).
    pub fn option(&self, key: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .or_else(|| Some(self.option_file.as_ref()?.value(key)?.value.as_str()))
    }

    /// Every value of a query option, in order (SQLAlchemy passes a repeated key as a list).
    pub fn options_all(&self, key: &str) -> Vec<&str> {
        self.options
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn sqlite_path(&self) -> PathBuf {
        PathBuf::from(&self.database)
    }
}

impl fmt::Display for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.backend == Backend::Sqlite {
            return write!(f, "{}:///{}", self.scheme, self.database);
        }
        write!(f, "{}://", self.scheme)?;
        if let Some(u) = &self.user {
            write!(f, "{u}")?;
            if self.password.is_some() {
                write!(f, ":***")?;
            }
            write!(f, "@")?;
        }
        match &self.host {
            Some(h) if h.contains(':') => write!(f, "[{h}]")?,
            Some(h) => write!(f, "{h}")?,
            None => {}
        }
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        write!(f, "/{}", self.database)
    }
}

impl fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DbUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_replaced_in_the_text_as_given() {
        assert_eq!(
            with_secrets_replaced(
                "mysql+pymysql://heat:s3cr%40t@db:3306/heat?charset=utf8&ssl_key_password=k",
                "PASSWORD"
            )
            .as_deref(),
            Some(
                "mysql+pymysql://heat:PASSWORD@db:3306/heat?charset=utf8&ssl_key_password=PASSWORD"
            )
        );
        assert_eq!(
            with_secrets_replaced("postgresql://heat@db/heat?sslmode=require", "PASSWORD"),
            None
        );
        assert_eq!(
            with_secrets_replaced("sqlite:////var/lib/heat.sqlite", "PASSWORD"),
            None
        );
    }

    #[test]
    fn the_patterns_compile() {
        assert!(pattern().is_some());
    }

    #[test]
    fn sqlalchemy_forms() {
        let u = DbUrl::parse("mysql+pymysql://heat:s3cr%40t@db.example:3307/heat?charset=utf8")
            .unwrap();
        assert!(u.backend == Backend::MySql);
        assert_eq!(u.user.as_deref(), Some("heat"));
        assert_eq!(u.password(), Some("s3cr@t"));
        assert_eq!(u.host.as_deref(), Some("db.example"));
        assert_eq!(u.port, Some(3307));
        assert_eq!(u.database, "heat");
        assert_eq!(u.option("charset"), Some("utf8"));
        let u = DbUrl::parse("postgresql+psycopg2://heat:pw@[::1]/heat").unwrap();
        assert!(u.backend == Backend::Postgres);
        assert_eq!(u.host.as_deref(), Some("::1"));
        assert_eq!(u.to_string(), "postgresql+psycopg2://heat:***@[::1]/heat");
        assert_eq!(
            DbUrl::parse("sqlite:///rel/heat.db").unwrap().database,
            "rel/heat.db"
        );
        assert_eq!(
            DbUrl::parse("sqlite:////var/lib/heat.db").unwrap().database,
            "/var/lib/heat.db"
        );
        assert!(DbUrl::parse("oracle://x/y").is_err());
        assert!(DbUrl::parse("mysql://heat:pw@host").is_err());
        assert!(DbUrl::parse("sqlite://").is_err());
        assert!(DbUrl::parse("sqlite://user@/x.db").is_err());
        let u = DbUrl::parse("mysql://h/heat?a=1&a=2&b=&c").unwrap();
        assert_eq!(u.options_all("a"), ["1", "2"]);
        assert_eq!(u.option("a"), Some("2"));
        assert_eq!(u.option("b"), None);
    }

    /// The issue's example: SQLAlchemy reads `/` inside the password as part of it.
    #[test]
    fn a_slash_in_the_password_is_part_of_it() {
        let u = DbUrl::parse("mysql+pymysql://heat:TopS3cret/Part2@db/heat").unwrap();
        assert_eq!(u.user.as_deref(), Some("heat"));
        assert_eq!(u.password(), Some("TopS3cret/Part2"));
        assert_eq!(u.host.as_deref(), Some("db"));
        assert_eq!(u.port, None);
        assert_eq!(u.database, "heat");
        assert_eq!(u.to_string(), "mysql+pymysql://heat:***@db/heat");
    }

    #[test]
    fn the_password_is_never_shown() {
        let u = DbUrl::parse("mysql+pymysql://heat:TopSecret@db/heat?charset=utf8").unwrap();
        for shown in [u.to_string(), format!("{u:?}")] {
            assert!(!shown.contains("TopSecret"), "{shown}");
            assert!(shown.contains("heat:***@db/heat"), "{shown}");
        }
        for bad in [
            "mysql://heat:TopSecret@db:notaport/heat",
            "mysql://heat:Top@Secret@db/heat",
            "mysql://heat:Top@Secret:12/x@db/heat",
            "mysql://he/at:TopSecret@db/heat",
            "mysql://heat:Top@Sec?ret@db/heat",
            "mysql://heat:TopSecret@db:99999/heat",
        ] {
            let e = format!("{:#}", DbUrl::parse(bad).unwrap_err());
            for part in ["Top", "Secret", "Sec", "ret"] {
                assert!(!e.contains(part), "{bad}: {e}");
            }
        }
    }

    /// What the option file gives is used, and neither its password nor its key password
    /// is shown by the URL, its Debug or the option file's.
    #[test]
    fn option_file_secrets_are_never_shown() {
        let dir = std::env::temp_dir().join(format!("heat-converge-url-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("my.cnf");
        std::fs::write(
            &file,
            "[client]\npassword = Wrong-Secret\n[heat]\npassword = File-Secret\n\
             port = 3307\nssl-password = Key-Secret\n",
        )
        .unwrap();
        let u = DbUrl::parse(&format!(
            "mysql+pymysql://heat@db/heat?read_default_file={}&read_default_group=heat",
            file.display()
        ))
        .unwrap();
        assert_eq!(u.password(), Some("File-Secret"));
        assert_eq!(u.port, Some(3307));
        assert_eq!(u.option("ssl_key_password"), Some("Key-Secret"));
        let f = u.option_file().unwrap();
        assert_eq!(f.filled, ["password", "port"]);
        let shown = format!("{u} {u:?} {f:?} {}", u.shown("ssl_key_password"));
        assert!(!shown.contains("Secret"), "{shown}");
        assert!(shown.contains("heat:***@db:3307/heat"), "{shown}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn ports_as_python_int_reads_them() {
        // Python's int() itself is crate::python's, held against Python in
        // tests/python_semantics.rs; here, what its answers mean for a port.
        assert_eq!(port_int(" \u{663}\u{660} "), Ok("30".to_string()));
        assert_eq!(port_int("1_0"), Ok("10".to_string()));
        assert_eq!(port_int("\x1c5"), Err(UrlError::PortNotANumber));
        assert_eq!(port_int(""), Err(UrlError::PortNotANumber));
        assert_eq!(port_int(&"0".repeat(4301)), Err(UrlError::PortTooLong));
    }
}
