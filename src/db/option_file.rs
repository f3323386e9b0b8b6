//! MySQL option files (`my.cnf`) named by a MySQL URL's `read_default_file` and
//! `read_default_group`, read as PyMySQL, Heat's driver, reads them.
//!
//! Why: TripleO's heat.conf says `mysql+pymysql://heat@host/heat?read_default_file=
//! /etc/my.cnf.d/tripleo.cnf&read_default_group=tripleo`, and PyMySQL takes the password,
//! the port, the TLS CA, ... from that file. heat-converge must connect as Heat does, or
//! say by name what it will not do.
//!
//! What PyMySQL 1.2 does (`pymysql/connections.py`, `pymysql/optionfile.py`), and so what
//! this module does:
//! - `read_default_group` without `read_default_file` reads `/etc/my.cnf`; a file without
//!   a group reads the group `client`. `~` and `~user` are expanded (`os.path.expanduser`).
//! - The file is read by Python's `configparser.RawConfigParser(allow_no_value=True)`:
//!   `[group]` headers (the name as written, case and all; `[DEFAULT]` feeds every group),
//!   `key = value` or `key: value` (a key alone has no value), `#` and `;` comments on
//!   their own line only (`password = a#b` is `a#b`), indented lines continue the value
//!   before them, one pair of surrounding quotes dropped when the value is fetched. Key
//!   names are lower-cased and `_` read as `-` (`SSL_CA` is `ssl-ca`). A duplicate group
//!   or key, a line before any header, or a line with no key name makes configparser
//!   fail, and with it Heat's connection: refused here. `!include` and `!includedir` lines
//!   are not followed (configparser reads them as keys without a value).
//! - **Only the named group** is read (and `[DEFAULT]`): unlike libmysqlclient, PyMySQL
//!   does not read `[client]` first. A group that is not in the file gives nothing.
//! - Of that group PyMySQL takes `user`, `password`, `host`, `database`, `socket`, `port`,
//!   `bind-address`, `default-character-set` and `ssl-ca`, `ssl-capath`, `ssl-cert`,
//!   `ssl-key`, `ssl-password`, `ssl-cipher`; each only where the URL gives nothing (a
//!   value in the URL always wins; an empty value in the file counts as none, except
//!   for `port`, which `int()` must read). Everything else in the group PyMySQL ignores.
//!
//! Where heat-converge parts from PyMySQL, on purpose, so that what the file asks is never
//! silently dropped:
//! - A file that does not exist or cannot be read is an error naming it. PyMySQL goes on
//!   without it (configparser skips files it cannot open), which on a host where the file
//!   is missing means another password, or clear text instead of TLS.
//! - TLS keys PyMySQL does not read: `ssl`, `ssl-mode` and `ssl-verify-server-cert` (and
//!   their `enable-`, `skip-`, `disable-`, `loose-` forms) are checked against what the
//!   connection will do (TLS required, certificate checked) and the connection is refused
//!   when it would do less than they ask (see `mysql.rs`); any other `ssl*` or `tls*` key
//!   (`ssl-crl`, `tls-version`, `loose-ssl-ca`, ...) is refused by name.
//! - `init-command` in the file is refused by name: PyMySQL never runs it, so running it
//!   would make heat-converge's session differ from Heat's, and ignoring it would drop
//!   something the operator wrote. (`init_command` in the URL is run, as PyMySQL does.)
//!
//! Nothing of the file's contents appears in a message: errors name the file, the group,
//! the key and the line number, never a value (a value may be a password).

use crate::python::isspace as python_space;
use anyhow::{anyhow, bail, Context, Result};
use std::collections::HashSet;

/// PyMySQL's file when the URL names a group but no file.
pub const DEFAULT_FILE: &str = "/etc/my.cnf";
/// PyMySQL's group when the URL names a file but no group.
pub const DEFAULT_GROUP: &str = "client";

/// configparser's default section, whose keys every group sees.
const DEFAULT_SECTION: &str = "DEFAULT";

/// The keys PyMySQL reads from the group.
pub const PYMYSQL_KEYS: [&str; 14] = [
    "user",
    "password",
    "host",
    "database",
    "socket",
    "port",
    "bind-address",
    "default-character-set",
    "ssl-ca",
    "ssl-capath",
    "ssl-cert",
    "ssl-key",
    "ssl-password",
    "ssl-cipher",
];

/// One group's keys in file order: `None` for a key written without a value.
type Entries = Vec<(String, Option<String>)>;

/// An option file as configparser holds it once read.
#[derive(Debug, Default)]
pub struct OptionFile {
    /// `[DEFAULT]`'s keys.
    defaults: Entries,
    /// The other groups, in file order.
    groups: Vec<(String, Entries)>,
}

/// Why configparser (and so PyMySQL) refuses a file. Line numbers count from 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// A line that is neither blank, a comment nor a `[group]` header before the first header.
    NoGroupHeader(usize),
    /// A `[group]` header seen before (`DuplicateSectionError`).
    DuplicateGroup(usize),
    /// A key seen before in the same group (`DuplicateOptionError`).
    DuplicateKey(usize, String),
    /// Lines whose key name is empty (`= value`): configparser's `ParsingError`.
    NoKeyName(Vec<usize>),
    /// An indented line continuing a key written without a value (configparser fails
    /// with an `AttributeError`).
    ContinuesKeyWithoutValue(usize),
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::NoGroupHeader(n) => {
                write!(f, "line {n} comes before any [group] header")
            }
            ParseError::DuplicateGroup(n) => {
                write!(f, "line {n} opens a group a second time")
            }
            ParseError::DuplicateKey(n, key) => {
                write!(f, "line {n} sets {key} a second time in its group")
            }
            ParseError::NoKeyName(lines) => {
                let lines: Vec<String> = lines.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "no key name before '=' or ':' on line {}",
                    lines.join(", ")
                )
            }
            ParseError::ContinuesKeyWithoutValue(n) => {
                write!(
                    f,
                    "line {n} is indented, so it continues the value of a key written without one"
                )
            }
        }
    }
}

impl std::error::Error for ParseError {}

/// What one group gives for a key, as `cfg.get(group, key)` would.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The group is not in the file (`NoSectionError`).
    NoGroup,
    /// The group does not set the key (`NoOptionError`).
    Absent,
    /// The key is written without a value (`get` returns `None`; PyMySQL then fails on it
    /// and keeps what it had).
    NoValue,
    /// The value, one pair of surrounding quotes dropped.
    Value(String),
}

/// configparser's `optionxform` as PyMySQL sets it: lower case, `_` read as `-`.
pub fn key_name(key: &str) -> String {
    key.to_lowercase().replace('_', "-")
}

/// Python's text-mode lines: `\n`, `\r\n` and `\r` end a line (universal newlines).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        let line = &rest[..end];
        let after = &rest[end..];
        rest = match after.strip_prefix("\r\n") {
            Some(r) => r,
            None => after.get(1..).unwrap_or(""),
        };
        Some(line)
    })
}

/// `SECTCRE`: `\[(?P<header>.+)\]` matched at the start of the stripped line; `.+` is
/// greedy, so the header runs to the last `]`.
fn group_header(value: &str) -> Option<&str> {
    let inner = value.strip_prefix('[')?;
    let close = inner.rfind(']')?;
    (close > 0).then(|| &inner[..close])
}

/// `OPTCRE_NV`: the key is everything before the first `=` or `:` (trailing spaces
/// dropped); no delimiter means a key without a value.
fn key_and_value(value: &str) -> (&str, Option<&str>) {
    match value.find(['=', ':']) {
        None => (value, None),
        Some(d) => (
            value[..d].trim_end_matches(python_space),
            Some(value[d + 1..].trim_matches(python_space)),
        ),
    }
}

/// Where new keys go: `[DEFAULT]` or the n-th group.
#[derive(Clone, Copy, PartialEq)]
enum Current {
    Defaults,
    Group(usize),
}

impl OptionFile {
    /// Reads `text` as configparser's `_read` does (Python 3.11).
    pub fn parse(text: &str) -> Result<OptionFile, ParseError> {
        // A value is a list of lines until the end, as in configparser.
        type Open = Vec<(String, Option<Vec<String>>)>;
        let mut defaults: Open = Vec::new();
        let mut groups: Vec<(String, Open)> = Vec::new();
        let mut current: Option<Current> = None;
        let mut group_name = String::new();
        // The key a continuation line would extend (configparser's `optname`).
        let mut key: Option<String> = None;
        let mut indent_level = 0usize;
        let mut seen: HashSet<(String, String)> = HashSet::new();
        let mut no_key_name = Vec::new();
        for (i, line) in lines(text).enumerate() {
            let number = i + 1;
            let stripped = line.trim_matches(python_space);
            let comment = stripped.starts_with('#') || stripped.starts_with(';');
            let value = if comment { "" } else { stripped };
            let entries: Option<&mut Open> = match current {
                None => None,
                Some(Current::Defaults) => Some(&mut defaults),
                Some(Current::Group(g)) => groups.get_mut(g).map(|(_, e)| e),
            };
            // The lines of the key being written, if it has a value.
            let open = key.as_deref().filter(|k| !k.is_empty()).and_then(|k| {
                entries?
                    .iter_mut()
                    .rev()
                    .find(|(name, _)| name == k)
                    .map(|(_, v)| v)
            });
            if value.is_empty() {
                // A blank line (not a comment) belongs to the value being written.
                if let (false, Some(Some(lines))) = (comment, open) {
                    lines.push(String::new());
                }
                continue;
            }
            let indent = line.chars().take_while(|c| python_space(*c)).count();
            if let Some(lines) = open {
                if indent > indent_level {
                    match lines {
                        Some(lines) => lines.push(value.to_string()),
                        None => return Err(ParseError::ContinuesKeyWithoutValue(number)),
                    }
                    continue;
                }
            }
            indent_level = indent;
            if let Some(header) = group_header(value) {
                if groups.iter().any(|(name, _)| name == header) {
                    return Err(ParseError::DuplicateGroup(number));
                }
                if header == DEFAULT_SECTION {
                    current = Some(Current::Defaults);
                } else {
                    groups.push((header.to_string(), Vec::new()));
                    current = Some(Current::Group(groups.len() - 1));
                }
                group_name = header.to_string();
                key = None;
                continue;
            }
            let entries = match current {
                Some(Current::Defaults) => &mut defaults,
                Some(Current::Group(g)) => match groups.get_mut(g) {
                    Some((_, e)) => e,
                    None => return Err(ParseError::NoGroupHeader(number)),
                },
                None => return Err(ParseError::NoGroupHeader(number)),
            };
            let (name, val) = key_and_value(value);
            if name.is_empty() {
                no_key_name.push(number);
            }
            let name = key_name(name);
            if !seen.insert((group_name.clone(), name.clone())) {
                return Err(ParseError::DuplicateKey(number, name));
            }
            entries.push((name.clone(), val.map(|v| vec![v.to_string()])));
            key = Some(name);
        }
        if !no_key_name.is_empty() {
            return Err(ParseError::NoKeyName(no_key_name));
        }
        // `_join_multiline_values`: lines joined by newlines, trailing space dropped.
        let join = |entries: Open| -> Entries {
            entries
                .into_iter()
                .map(|(k, v)| {
                    let v =
                        v.map(|lines| lines.join("\n").trim_end_matches(python_space).to_string());
                    (k, v)
                })
                .collect()
        };
        Ok(OptionFile {
            defaults: join(defaults),
            groups: groups.into_iter().map(|(g, e)| (g, join(e))).collect(),
        })
    }

    /// The group's entries (`None` when there is no such group), `[DEFAULT]`'s after its
    /// own, as configparser's lookup sees them.
    fn entries(&self, group: &str) -> Option<Vec<&(String, Option<String>)>> {
        let own: Vec<&(String, Option<String>)> = if group == DEFAULT_SECTION {
            Vec::new()
        } else {
            self.groups
                .iter()
                .find(|(name, _)| name == group)?
                .1
                .iter()
                .collect()
        };
        let mut all = own.clone();
        all.extend(
            self.defaults
                .iter()
                .filter(|(k, _)| !own.iter().any(|(o, _)| o == k)),
        );
        Some(all)
    }

    /// `Parser.get(group, key)` of PyMySQL's optionfile.py.
    pub fn get(&self, group: &str, key: &str) -> Lookup {
        let Some(entries) = self.entries(group) else {
            return Lookup::NoGroup;
        };
        let key = key_name(key);
        match entries.into_iter().find(|(k, _)| *k == key) {
            None => Lookup::Absent,
            Some((_, None)) => Lookup::NoValue,
            Some((_, Some(v))) => Lookup::Value(remove_quotes(v).to_string()),
        }
    }

    /// Whether the file has the group (`[DEFAULT]` always is).
    pub fn has_group(&self, group: &str) -> bool {
        self.entries(group).is_some()
    }

    /// Every key the group sees (its own, then `[DEFAULT]`'s), with its value.
    pub fn keys(&self, group: &str) -> Vec<(&str, Option<&str>)> {
        self.entries(group)
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k.as_str(), v.as_deref()))
            .collect()
    }
}

/// `Parser.__remove_quotes`: one pair of `'` or `"` around the whole value.
fn remove_quotes(value: &str) -> &str {
    for quote in ['\'', '"'] {
        if value.chars().count() >= 2 && value.starts_with(quote) && value.ends_with(quote) {
            return &value[1..value.len() - 1];
        }
    }
    value
}

/// The current user's entry in /etc/passwd, by name or by the process's user id: (name,
/// home). Users only a directory service knows are not found.
fn passwd_entry(by_name: Option<&str>) -> Option<(String, String)> {
    use std::os::unix::fs::MetadataExt;
    let uid = match by_name {
        Some(_) => None,
        None => Some(std::fs::metadata("/proc/self").ok()?.uid()),
    };
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    text.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        let (name, id, home) = (f.first()?, f.get(2)?, f.get(5)?);
        let hit = match (by_name, uid) {
            (Some(n), _) => *name == n,
            (None, Some(u)) => id.parse::<u32>().ok() == Some(u),
            _ => false,
        };
        hit.then(|| (name.to_string(), home.to_string()))
    })
}

/// `os.path.expanduser`: `~` is `$HOME` (else the user's home in /etc/passwd), `~name` is
/// that user's home; a user not found leaves the path as it is.
pub fn expand_user(path: &str) -> String {
    let Some(rest) = path.strip_prefix('~') else {
        return path.to_string();
    };
    let i = rest.find('/').unwrap_or(rest.len());
    let (name, tail) = rest.split_at(i);
    let home = if name.is_empty() {
        match std::env::var("HOME") {
            Ok(h) => Some(h),
            Err(_) => passwd_entry(None).map(|(_, home)| home),
        }
    } else {
        passwd_entry(Some(name)).map(|(_, home)| home)
    };
    match home {
        None => path.to_string(),
        Some(home) => {
            let joined = format!("{}{tail}", home.trim_end_matches('/'));
            if joined.is_empty() {
                "/".to_string()
            } else {
                joined
            }
        }
    }
}

/// `getpass.getuser()`, which PyMySQL uses when neither the URL nor the file names a
/// user: `LOGNAME`, `USER`, `LNAME`, `USERNAME`, else the process's user in /etc/passwd.
pub fn login_name() -> Option<String> {
    for var in ["LOGNAME", "USER", "LNAME", "USERNAME"] {
        if let Ok(v) = std::env::var(var) {
            if !v.is_empty() {
                return Some(v);
            }
        }
    }
    passwd_entry(None).map(|(name, _)| name)
}

/// Reads and parses the option file at `path` (as the URL wrote it; `~` expanded here).
/// A file that is missing or unreadable is an error, unlike in PyMySQL (see the module's
/// documentation).
pub fn read(path: &str) -> Result<(String, OptionFile)> {
    let expanded = expand_user(path);
    let bytes = std::fs::read(&expanded).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "there is no such file".to_string(),
            std::io::ErrorKind::PermissionDenied => {
                "permission denied (run heat-converge as a user who may read it, as Heat's \
                 own user can)"
                    .to_string()
            }
            _ => e.to_string(),
        };
        anyhow!(
            "the MySQL option file {expanded} (read_default_file) cannot be read: {why}. \
             PyMySQL would silently connect without it, so heat-converge will not: run it \
             where Heat's file is"
        )
    })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        anyhow!(
            "the MySQL option file {expanded} is not UTF-8 text (Python could not read it either)"
        )
    })?;
    let file = OptionFile::parse(&text).with_context(|| {
        format!(
            "the MySQL option file {expanded}: PyMySQL (Python's configparser) refuses it, \
             so Heat cannot connect with it either"
        )
    })?;
    Ok((expanded, file))
}

/// TLS that a key PyMySQL does not read asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsAsk {
    /// TLS or no connection (`ssl`, `ssl-mode=REQUIRED`).
    Encrypted,
    /// TLS with the server's certificate checked (`ssl-verify-server-cert`,
    /// `ssl-mode=VERIFY_CA`/`VERIFY_IDENTITY`).
    Verified,
}

/// A MySQL option-file boolean: `1/0`, `on/off`, `true/false` (any case); a key without a
/// value is true.
fn file_boolean(value: Option<&str>) -> Option<bool> {
    match value.map(|v| remove_quotes(v).trim().to_ascii_lowercase()) {
        None => Some(true),
        Some(v) => match v.as_str() {
            "1" | "on" | "true" => Some(true),
            "0" | "off" | "false" => Some(false),
            _ => None,
        },
    }
}

/// What a key of the group that PyMySQL does not read means to us: nothing (`None`), a
/// TLS request to check, or an error naming it.
pub fn unread_key(key: &str, value: Option<&str>) -> Result<Option<TlsAsk>> {
    if PYMYSQL_KEYS.contains(&key) {
        return Ok(None);
    }
    let base = key.strip_prefix("loose-").unwrap_or(key);
    let (negated, name) = if let Some(n) = base
        .strip_prefix("skip-")
        .or_else(|| base.strip_prefix("disable-"))
    {
        (true, n)
    } else {
        (false, base.strip_prefix("enable-").unwrap_or(base))
    };
    if name == "init-command" {
        bail!(
            "{key}: PyMySQL, Heat's driver, does not run an init command from an option \
             file, so Heat's sessions do not run it; heat-converge will not run what Heat \
             does not. Remove it from the group, or give it in the URL (init_command=...), \
             where both run it"
        );
    }
    if !(name.starts_with("ssl") || name.starts_with("tls")) {
        return Ok(None); // PyMySQL ignores it, and so does the connection.
    }
    let unusable = || {
        anyhow!(
            "{key}: PyMySQL, Heat's driver, does not read this TLS key, and heat-converge \
             cannot honour it; remove it from the group (PyMySQL reads ssl-ca, ssl-cert, \
             ssl-key)"
        )
    };
    let flag = |v: Option<&str>| -> Result<bool> {
        if negated && v.is_some() {
            return Err(unusable());
        }
        let on = file_boolean(v).ok_or_else(unusable)?;
        Ok(on != negated)
    };
    match name {
        "ssl" => Ok(flag(value)?.then_some(TlsAsk::Encrypted)),
        "ssl-verify-server-cert" => Ok(flag(value)?.then_some(TlsAsk::Verified)),
        "ssl-mode" if !negated => {
            let mode = value
                .map(|v| remove_quotes(v).trim().to_ascii_uppercase())
                .unwrap_or_default();
            match mode.as_str() {
                "DISABLED" | "PREFERRED" => Ok(None),
                "REQUIRED" => Ok(Some(TlsAsk::Encrypted)),
                "VERIFY_CA" | "VERIFY_IDENTITY" => Ok(Some(TlsAsk::Verified)),
                _ => Err(unusable()),
            }
        }
        _ => Err(unusable()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(text: &str, group: &str, key: &str) -> Lookup {
        OptionFile::parse(text).unwrap().get(group, key)
    }

    fn value(s: &str) -> Lookup {
        Lookup::Value(s.to_string())
    }

    #[test]
    fn configparser_forms() {
        let text = "# comment\n[client]\npassword = a#b ; c\nPort: 3307\nSSL_CA=\"/x y\"\n\
                    skip-ssl\n  \n[tripleo]\nhost =  db  \nmulti = one\n  two\n\n  three\n\
                    # not a value\n[DEFAULT]\nuser = def\n";
        let f = OptionFile::parse(text).unwrap();
        assert_eq!(f.get("client", "password"), value("a#b ; c"));
        assert_eq!(f.get("client", "port"), value("3307"));
        assert_eq!(f.get("client", "ssl-ca"), value("/x y"));
        assert_eq!(f.get("client", "ssl_ca"), value("/x y"));
        assert_eq!(f.get("client", "skip-ssl"), Lookup::NoValue);
        assert_eq!(f.get("client", "user"), value("def"));
        assert_eq!(f.get("tripleo", "host"), value("db"));
        assert_eq!(f.get("tripleo", "multi"), value("one\ntwo\n\nthree"));
        assert_eq!(f.get("tripleo", "password"), Lookup::Absent);
        assert_eq!(f.get("Client", "password"), Lookup::NoGroup);
        assert_eq!(f.get("DEFAULT", "user"), value("def"));
        assert!(!f.has_group("mysqld"));
    }

    #[test]
    fn headers_keys_and_quotes() {
        assert_eq!(get("[a] b ]\nk=v\n", "a] b ", "k"), value("v"));
        assert_eq!(get("[a]\r\nk : 'v'\r\n", "a", "k"), value("v"));
        assert_eq!(get("[a]\rk = 'v\"\r", "a", "k"), value("'v\""));
        assert_eq!(get("[a]\nk = \"\"\n", "a", "k"), value(""));
        assert_eq!(get("[a]\nk = \"\n", "a", "k"), value("\""));
        assert_eq!(get("[a]\nk = a=b:c\n", "a", "k"), value("a=b:c"));
        assert_eq!(
            get(
                "[a]\n!includedir /etc/my.cnf.d\n",
                "a",
                "!includedir /etc/my.cnf.d"
            ),
            Lookup::NoValue
        );
        // `[]` is no header: a key named `[]` in the group before it.
        assert_eq!(get("[a]\n[]\n", "a", "[]"), Lookup::NoValue);
    }

    #[test]
    fn what_configparser_refuses() {
        for (text, want) in [
            ("k = v\n[a]\n", ParseError::NoGroupHeader(1)),
            ("\u{feff}[a]\n", ParseError::NoGroupHeader(1)),
            ("[a]\n[b]\n[a]\n", ParseError::DuplicateGroup(3)),
            ("[a]\nk=1\nK=2\n", ParseError::DuplicateKey(3, "k".into())),
            (
                "[a]\nk-1=1\nk_1=2\n",
                ParseError::DuplicateKey(3, "k-1".into()),
            ),
            (
                "[DEFAULT]\nk=1\n[DEFAULT]\nk=2\n",
                ParseError::DuplicateKey(4, "k".into()),
            ),
            (
                "[a]\n= v\nx\n: v\n",
                ParseError::DuplicateKey(4, String::new()),
            ),
            ("[a]\n= v\nx\n", ParseError::NoKeyName(vec![2])),
            ("[a]\nk\n  more\n", ParseError::ContinuesKeyWithoutValue(3)),
        ] {
            assert_eq!(OptionFile::parse(text).unwrap_err(), want, "{text:?}");
        }
        // [DEFAULT] may come twice.
        assert!(OptionFile::parse("[DEFAULT]\na=1\n[DEFAULT]\nb=2\n").is_ok());
    }

    #[test]
    fn messages_never_quote_the_file() {
        let secret = "Sekrit-Value";
        for text in [
            format!("password = {secret}\n[a]\n"),
            format!("[a]\npassword = {secret}\npassword = {secret}\n"),
            format!("[a]\n= {secret}\n"),
        ] {
            let e = OptionFile::parse(&text).unwrap_err().to_string();
            assert!(!e.contains(secret), "{e}");
        }
    }

    #[test]
    fn tls_keys_pymysql_does_not_read() {
        assert_eq!(unread_key("ssl", None).unwrap(), Some(TlsAsk::Encrypted));
        assert_eq!(
            unread_key("ssl", Some("1")).unwrap(),
            Some(TlsAsk::Encrypted)
        );
        assert_eq!(unread_key("ssl", Some("OFF")).unwrap(), None);
        assert_eq!(unread_key("skip-ssl", None).unwrap(), None);
        assert_eq!(
            unread_key("loose-ssl", Some("on")).unwrap(),
            Some(TlsAsk::Encrypted)
        );
        assert_eq!(
            unread_key("ssl-verify-server-cert", None).unwrap(),
            Some(TlsAsk::Verified)
        );
        assert_eq!(
            unread_key("disable-ssl-verify-server-cert", None).unwrap(),
            None
        );
        assert_eq!(
            unread_key("ssl-mode", Some("verify_identity")).unwrap(),
            Some(TlsAsk::Verified)
        );
        assert_eq!(unread_key("ssl-mode", Some("PREFERRED")).unwrap(), None);
        assert_eq!(unread_key("ssl-ca", Some("/x")).unwrap(), None);
        assert_eq!(unread_key("connect-timeout", Some("3")).unwrap(), None);
        for (key, value) in [
            ("ssl-crl", Some("/x")),
            ("tls-version", Some("TLSv1.3")),
            ("loose-ssl-ca", Some("/x")),
            ("ssl-mode", Some("sometimes")),
            ("ssl", Some("maybe")),
            ("skip-ssl", Some("1")),
            ("init-command", Some("SET @a=1")),
            ("loose-init-command", Some("SET @a=1")),
        ] {
            let e = unread_key(key, value).unwrap_err().to_string();
            assert!(e.starts_with(key), "{key}: {e}");
            assert!(!e.contains("SET @a"), "{e}");
        }
    }

    #[test]
    fn home_expansion() {
        let home = std::env::var("HOME").unwrap_or_default();
        assert_eq!(expand_user("/etc/my.cnf"), "/etc/my.cnf");
        assert_eq!(
            expand_user("~/.my.cnf"),
            format!("{}/.my.cnf", home.trim_end_matches('/'))
        );
        assert_eq!(expand_user("~root/x"), "/root/x");
        assert_eq!(expand_user("~no-such-user-here/x"), "~no-such-user-here/x");
    }
}
