//! MySQL and MariaDB, through the mysql crate, with PyMySQL's TLS and time-out options.
//!
//! Heat's URL (`mysql+pymysql://`) is read by SQLAlchemy and PyMySQL, so its options mean
//! what they mean there: `ssl_ca`, `ssl_cert`, `ssl_key`, `ssl_check_hostname`,
//! `ssl_verify_cert`, `ssl_verify_identity`, `ssl`, `ssl_disabled`, `connect_timeout`,
//! `read_timeout`, `write_timeout`, `unix_socket`, `bind_address`, `init_command`, and
//! what the option file named by `read_default_file`/`read_default_group` gives in their
//! place (read with the URL, see `option_file`). TLS is rustls; an option or a
//! combination we cannot honour is refused, never ignored. [`Settings`] is everything a
//! connection is made with, computed once from the URL, so that what is checked (and what
//! the tests compare with PyMySQL's own `Connection`) is what connects. Errors name the
//! server's message and error number, never the SQL text or the password.

mod cluster_lock;
mod migrations;

use super::option_file::{self, TlsAsk};
use super::tls;
use super::url::DbUrl;
use super::{Connection, Param, Row};
use anyhow::{anyhow, bail, Result};
use mysql::prelude::Queryable;
use serde_json::Value;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

/// How long a connection may take when the URL sets no `connect_timeout`: PyMySQL's own
/// default, so heat-converge waits as long as Heat does.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection, and the options it was made with (the cluster-wide run lock opens a
/// second one with them).
/// The connection, what it was made with (for the run lock's second connection), and
/// whether the server has `SKIP LOCKED` (MariaDB 10.6, MySQL 8.0).
pub struct MySql(mysql::Conn, mysql::Opts, bool);

/// Whether a session is encrypted, in PyMySQL's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// `ssl_disabled=true`: clear text.
    Off,
    /// No TLS option (PyMySQL's PREFERRED mode): TLS without certificate checks when the
    /// server offers it, clear text when it does not.
    Preferred,
    /// TLS or no connection.
    Required,
}

/// The TLS a connection is made with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsSettings {
    pub mode: TlsMode,
    /// The server's certificate chain must lead to a trusted CA (`ca`, and the public
    /// CAs the driver ships).
    pub verify_chain: bool,
    /// The server's certificate must name the host connected to.
    pub verify_host: bool,
    /// The CA file the chain may lead to.
    pub ca: Option<String>,
    /// The client certificate and its key (PEM files).
    pub cert: Option<String>,
    pub key: Option<String>,
}

impl TlsSettings {
    fn plain(mode: TlsMode) -> TlsSettings {
        TlsSettings {
            mode,
            verify_chain: false,
            verify_host: false,
            ca: None,
            cert: None,
            key: None,
        }
    }

    /// The mysql crate's TLS options for a session that must be encrypted.
    fn ssl_opts(&self) -> mysql::SslOpts {
        let mut opts = mysql::SslOpts::default()
            .with_danger_accept_invalid_certs(!self.verify_chain)
            .with_danger_skip_domain_validation(!self.verify_host);
        if self.verify_chain {
            // Without a CA the public CAs the driver ships (webpki-roots) are the roots.
            opts = opts.with_root_cert_path(self.ca.clone().map(std::path::PathBuf::from));
        }
        if let (Some(cert), Some(key)) = (&self.cert, &self.key) {
            opts = opts.with_client_identity(Some(mysql::ClientIdentity::new(
                std::path::PathBuf::from(cert),
                std::path::PathBuf::from(key),
            )));
        }
        opts
    }
}

/// Everything a MySQL connection is made with: the URL, and the option file it names,
/// read as PyMySQL reads them (through SQLAlchemy, as Heat connects).
#[derive(Clone, PartialEq, Eq)]
pub struct Settings {
    pub user: String,
    password: String,
    /// `localhost` when the URL and the file name none (PyMySQL's default; over TCP).
    pub host: String,
    /// 3306 when the URL and the file give none, or 0.
    pub port: u16,
    pub database: String,
    /// The local socket, used instead of TCP (`unix_socket`, or `socket` in the file).
    pub unix_socket: Option<String>,
    /// The local address TCP connections start from (`bind_address`, `bind-address`).
    pub bind_address: Option<IpAddr>,
    /// The character set PyMySQL would ask for (`charset`, `default-character-set`,
    /// else utf8mb4). heat-converge's session is always utf8mb4, whatever this says: the
    /// server converts to and from each column's character set, so the text read and
    /// written is the same, and every character Heat can store fits.
    pub charset: String,
    /// The statement run once connected (`init_command`), as PyMySQL runs it.
    pub init_command: Option<String>,
    pub tls: TlsSettings,
    pub connect_timeout: Duration,
    pub read_timeout: Option<Duration>,
    pub write_timeout: Option<Duration>,
}

impl Settings {
    /// Whether the password is `candidate` (the tests compare it with PyMySQL's without
    /// the password leaving this type).
    pub fn password_is(&self, candidate: &str) -> bool {
        self.password == candidate
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("user", &self.user)
            .field(
                "password",
                &if self.password.is_empty() { "" } else { "***" },
            )
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database", &self.database)
            .field("unix_socket", &self.unix_socket)
            .field("bind_address", &self.bind_address)
            .field("charset", &self.charset)
            .field("init_command", &self.init_command.as_ref().map(|_| "..."))
            .field("tls", &self.tls)
            .finish()
    }
}

/// The TLS options SQLAlchemy and PyMySQL know, and the ones we refuse.
const SUPPORTED: [&str; 8] = [
    "ssl_ca",
    "ssl_cert",
    "ssl_key",
    "ssl_check_hostname",
    "ssl_verify_cert",
    "ssl_verify_identity",
    "ssl",
    "ssl_disabled",
];

fn flag(url: &DbUrl, key: &str) -> Result<Option<bool>> {
    url.option(key).map(|v| tls::boolean(key, v)).transpose()
}

/// PyMySQL's reading of the TLS options (through SQLAlchemy's URL handling), the option
/// file's `ssl-ca`, `ssl-cert` and `ssl-key` standing in for the URL's `ssl_ca`,
/// `ssl_cert` and `ssl_key` where the URL has none, as in PyMySQL's `ssl` dict. Then the
/// TLS the file asks for through keys PyMySQL does not read must be met.
fn tls_options(url: &DbUrl) -> Result<TlsSettings> {
    for (key, _) in &url.options {
        if key.starts_with("ssl") && !SUPPORTED.contains(&key.as_str()) {
            bail!(
                "{}: heat-converge does not support this TLS option; supported: {}",
                url.shown(key),
                SUPPORTED.join(", ")
            );
        }
    }
    if let Some(file) = url.option_file() {
        for v in &file.values {
            if v.url_key.starts_with("ssl") && !SUPPORTED.contains(&v.url_key) {
                bail!(
                    "{}: heat-converge does not support this TLS option (PyMySQL's {}); \
                     supported in an option file: ssl-ca, ssl-cert, ssl-key",
                    url.shown(v.url_key),
                    v.url_key
                );
            }
        }
    }
    let tls = required_tls(url)?;
    if let Some(file) = url.option_file() {
        for (key, ask) in &file.asks {
            let (met, asked) = match ask {
                TlsAsk::Encrypted => (tls.mode == TlsMode::Required, "TLS"),
                TlsAsk::Verified => (
                    tls.mode == TlsMode::Required && tls.verify_chain && tls.verify_host,
                    "TLS with the server's certificate checked",
                ),
            };
            if !met {
                let now = match (tls.mode, tls.verify_chain) {
                    (TlsMode::Off, _) => "clear text",
                    (TlsMode::Preferred, _) => "TLS only when the server offers it, unchecked",
                    (TlsMode::Required, false) => "TLS with the certificate unchecked",
                    (TlsMode::Required, true) => "TLS with the chain but not the host name checked",
                };
                bail!(
                    "{key} in the MySQL option file {} asks for {asked}, but PyMySQL, Heat's \
                     driver, does not read that key: Heat's connection is {now}. heat-converge \
                     will not do less than the file asks: give the CA (ssl-ca in the group, or \
                     ssl_ca in the URL) so that both check the server, or remove {key}",
                    file.named()
                );
            }
        }
    }
    Ok(tls)
}

/// The TLS the URL's options (and the option file's `ssl-*`) ask for.
fn required_tls(url: &DbUrl) -> Result<TlsSettings> {
    let given: Vec<&str> = SUPPORTED
        .iter()
        .copied()
        .filter(|k| *k != "ssl_disabled" && url.option(k).is_some())
        .collect();
    if flag(url, "ssl_disabled")? == Some(true) {
        if let Some(k) = given.first() {
            bail!(
                "ssl_disabled=true contradicts {}: remove one of them",
                url.shown(k)
            );
        }
        return Ok(TlsSettings::plain(TlsMode::Off));
    }
    if given.is_empty() {
        return Ok(TlsSettings::plain(TlsMode::Preferred));
    }
    if url.option("unix_socket").is_some() {
        bail!(
            "{}: heat-converge does not use TLS over a local socket ({}); \
             remove the TLS options or connect over TCP",
            url.shown(given[0]),
            url.shown("unix_socket")
        );
    }
    if flag(url, "ssl")? == Some(false) {
        bail!("ssl=false with other TLS options: use ssl_disabled=true to turn TLS off");
    }
    let ca = url.option("ssl_ca");
    if let Some(ca) = ca {
        tls::readable(&url.shown("ssl_ca"), ca)?;
    }
    // With a CA, SQLAlchemy gives PyMySQL ssl={"ca": ...}: the chain and the host name
    // are checked unless ssl_check_hostname=false. ssl_verify_identity implies the chain.
    // ssl_verify_cert=false turns both checks off (PyMySQL: verify_mode CERT_NONE).
    let verify_cert = flag(url, "ssl_verify_cert")?;
    let identity = flag(url, "ssl_verify_identity")?
        .or(flag(url, "ssl_check_hostname")?)
        .unwrap_or(ca.is_some() && verify_cert != Some(false));
    let chain = identity || verify_cert.unwrap_or(ca.is_some());
    if chain && !identity {
        bail!(
            "{}: checking the certificate chain but not the host name is not supported \
             (the driver would also trust every public CA then); check the host name too \
             (ssl_verify_identity=true, with a server certificate for the host in the URL) \
             or check nothing (ssl_verify_cert=false)",
            if url.option("ssl_check_hostname").is_some() {
                "ssl_check_hostname=false"
            } else {
                "ssl_verify_cert=true"
            }
        );
    }
    let mut tls = TlsSettings {
        mode: TlsMode::Required,
        verify_chain: chain,
        verify_host: identity,
        ca: if chain { ca.map(String::from) } else { None },
        cert: None,
        key: None,
    };
    match (url.option("ssl_cert"), url.option("ssl_key")) {
        (None, None) => {}
        (Some(cert), key) => {
            tls::readable(&url.shown("ssl_cert"), cert)?;
            // As PyMySQL's load_cert_chain: without ssl_key the key is in the cert file.
            let key = key.unwrap_or(cert);
            tls::readable(&url.shown("ssl_key"), key)?;
            tls.cert = Some(cert.to_string());
            tls.key = Some(key.to_string());
        }
        (None, Some(_)) => bail!(
            "{} without ssl_cert: give the client certificate too",
            url.shown("ssl_key")
        ),
    }
    Ok(tls)
}

/// PyMySQL's time-outs: whole seconds, more than 0 (`connect_timeout` at most a year).
fn timeout(url: &DbUrl, key: &str) -> Result<Option<Duration>> {
    match super::seconds_option(url, key)? {
        None => Ok(None),
        Some(s) if s > 0 && s <= 31_536_000 => Ok(Some(Duration::from_secs(s as u64))),
        Some(s) => bail!("{key}={s}: expected a number of seconds above 0"),
    }
}

/// Whether `sql` is one statement as the server reads it without multi-statement support
/// (PyMySQL, as SQLAlchemy opens it, does not ask for it; the mysql crate always does):
/// after the first `;` outside quotes and comments, only blanks, `;` and comments. An
/// executable comment (`/*!`, `/*M!`) there counts as a statement.
fn one_statement(sql: &str) -> bool {
    let b = sql.as_bytes();
    let mut i = 0;
    let mut ended = false;
    let to_line_end = |i: usize| {
        b[i..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(b.len(), |p| i + p)
    };
    while i < b.len() {
        let next = b.get(i + 1).copied();
        match b[i] {
            q @ (b'\'' | b'"' | b'`') if !ended => {
                i += 1;
                while i < b.len() {
                    // A backslash escape, or the quote doubled: two bytes that do not end it.
                    if (b[i] == b'\\' && q != b'`') || (b[i] == q && b.get(i + 1) == Some(&q)) {
                        i += 2;
                    } else if b[i] == q {
                        break;
                    } else {
                        i += 1;
                    }
                }
                i += 1;
            }
            b'#' => i = to_line_end(i),
            b'-' if next == Some(b'-')
                && b.get(i + 2)
                    .is_none_or(|c| c.is_ascii_whitespace() || c.is_ascii_control()) =>
            {
                i = to_line_end(i)
            }
            b'/' if next == Some(b'*') => {
                let executable = matches!(b.get(i + 2), Some(b'!' | b'M'));
                if executable {
                    if ended {
                        return false;
                    }
                    i += 2; // its contents are code
                } else {
                    i = sql[i + 2..].find("*/").map_or(b.len(), |p| i + 2 + p + 2);
                }
            }
            b';' => {
                ended = true;
                i += 1;
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ if ended => return false,
            _ => i += 1,
        }
    }
    true
}

/// What a connection to `url` is made with, or why it cannot be made as Heat makes it.
pub fn settings(url: &DbUrl) -> Result<Settings> {
    let tls = tls_options(url)?;
    let user = match url.user.as_deref().filter(|u| !u.is_empty()) {
        Some(u) => u.to_string(),
        // PyMySQL: `user or DEFAULT_USER` (getpass.getuser()).
        None => option_file::login_name().ok_or_else(|| {
            anyhow!(
                "the URL (and its option file) name no user, and this process's login name \
                 is unknown (PyMySQL would fail too): give the user in the URL"
            )
        })?,
    };
    let unix_socket = url.option("unix_socket").map(String::from);
    // PyMySQL binds only TCP connections, to whatever socket.bind takes; we take an IP
    // address (a name would have to be looked up as Python does).
    let bind_address = match (url.option("bind_address"), &unix_socket) {
        (Some(addr), None) => Some(addr.trim().parse::<IpAddr>().map_err(|_| {
            anyhow!(
                "{}: heat-converge binds only to an IP address, not a host name",
                url.shown("bind_address")
            )
        })?),
        _ => None,
    };
    let init_command = url.option("init_command").map(String::from);
    if let Some(sql) = &init_command {
        if !one_statement(sql) {
            bail!(
                "init_command holds more than one statement: PyMySQL sends it without \
                 multi-statement support, so the server refuses it for Heat; give one \
                 statement"
            );
        }
    }
    Ok(Settings {
        user,
        password: url.password().unwrap_or_default().to_string(),
        host: url
            .host
            .clone()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into()),
        port: url.port.filter(|p| *p != 0).unwrap_or(3306),
        database: url.database.clone(),
        unix_socket,
        bind_address,
        charset: url.option("charset").unwrap_or("utf8mb4").to_string(),
        init_command,
        tls,
        connect_timeout: timeout(url, "connect_timeout")?.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
        read_timeout: timeout(url, "read_timeout")?,
        write_timeout: timeout(url, "write_timeout")?,
    })
}

impl MySql {
    pub fn connect(url: &DbUrl) -> Result<MySql> {
        let s = settings(url)?;
        let limit = s.connect_timeout;
        let mut opts = mysql::OptsBuilder::new()
            .user(Some(s.user.clone()))
            .pass(Some(s.password.clone()))
            .db_name(Some(s.database.clone()))
            // PyMySQL never swaps a TCP connection for the local socket.
            .prefer_socket(false)
            .tcp_connect_timeout(Some(limit))
            .read_timeout(s.read_timeout)
            .write_timeout(s.write_timeout)
            // A server that dies mid-query is noticed within a few minutes instead of
            // never (PyMySQL sets SO_KEEPALIVE too).
            .tcp_keepalive_time_ms(Some(30_000))
            .tcp_keepalive_probe_interval_secs(Some(10))
            .tcp_keepalive_probe_count(Some(6))
            .tcp_user_timeout_ms(Some(90_000));
        let server = match &s.unix_socket {
            Some(sock) => {
                opts = opts.socket(Some(sock.clone()));
                sock.clone()
            }
            None => {
                opts = opts
                    .ip_or_hostname(Some(s.host.clone()))
                    .tcp_port(s.port)
                    .bind_address(s.bind_address.map(|ip| std::net::SocketAddr::new(ip, 0)));
                format!("{}:{}", s.host, s.port)
            }
        };
        let at = server.clone();
        let init = s.init_command.clone();
        // The init command runs on every connection (the run lock's second one too), as
        // PyMySQL runs it on each; on the first it runs here, so that its failure is named
        // (the error's flag says so).
        let open = move |o: mysql::OptsBuilder| {
            let with_init = mysql::Opts::from(o.clone().init(init.iter().cloned().collect()));
            let mut conn = mysql::Conn::new(mysql::Opts::from(o)).map_err(|e| (e, false))?;
            if let Some(sql) = &init {
                conn.query_drop(sql).map_err(|e| (e, true))?;
            }
            Ok((conn, with_init))
        };
        let named = move |r: std::result::Result<_, (mysql::Error, bool)>| {
            r.map_err(|(e, init)| {
                let e = plain(&e, &at);
                if init {
                    e.context("init_command (from the URL) failed")
                } else {
                    e
                }
            })
        };
        let tls = s.tls.clone();
        let (mut conn, opts) = super::within(Some(limit), &server, move || match tls.mode {
            TlsMode::Off => named(open(opts)),
            TlsMode::Required => named(open(opts.ssl_opts(tls.ssl_opts()))),
            TlsMode::Preferred => {
                let encrypted = opts.clone().ssl_opts(
                    mysql::SslOpts::default()
                        .with_danger_accept_invalid_certs(true)
                        .with_danger_skip_domain_validation(true),
                );
                match open(encrypted) {
                    Err((mysql::Error::DriverError(mysql::DriverError::TlsNotSupported), _)) => {
                        named(open(opts))
                    }
                    other => named(other),
                }
            }
        })?;
        let version: Option<String> = conn
            .query_first("SELECT VERSION()")
            .map_err(|e| plain(&e, ""))?;
        let skip_locked = version.as_deref().is_some_and(has_skip_locked);
        Ok(MySql(conn, opts, skip_locked))
    }
}

/// An I/O failure talking to the server (refused connections aside), in the operator's
/// terms: the connection lost, no answer in time, TLS, or the driver's words.
fn io_failure(io: &std::io::Error, at: &str) -> anyhow::Error {
    use std::io::ErrorKind as K;
    if super::is_connection_lost(io.kind()) {
        anyhow!(super::lost(at, &io.to_string()))
    } else if matches!(io.kind(), K::TimedOut | K::WouldBlock) {
        anyhow!("the server{at} did not answer in time (read_timeout/write_timeout): {io}")
    } else if let Some(t) = tls_failure(io) {
        anyhow!("TLS with the server{at} failed: {t}")
    } else {
        anyhow!("talking to the server{at}: {io}")
    }
}

/// The rustls error inside an I/O error (a refused certificate), if that is what it is.
fn tls_failure(io: &std::io::Error) -> Option<&rustls::Error> {
    io.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
}

/// What to do about the common server errors.
fn advice(code: u16) -> Option<&'static str> {
    Some(match code {
        1045 => "check the user and password in [database] connection",
        1044 => "the user may not use this database: check the user in [database] connection and its grants",
        1049 => "check the database name in [database] connection",
        1205 => {
            "another session held a lock heat-converge needed for longer than --lock-wait \
             (see information_schema.INNODB_TRX and SHOW PROCESSLIST): run again once it is released"
        }
        1142 | 1143 | 1227 | 1370 => {
            "permission denied: the database user lacks a privilege heat-converge needs"
        }
        1040 | 1203 => "the server has no free connection: retry later",
        1130 => "the server refuses connections from this host for this user: check its grants",
        _ => return None,
    })
}

/// Whether a server of this `VERSION()` has `FOR UPDATE SKIP LOCKED`: MariaDB from 10.6
/// (`10.11.19-MariaDB...`), MySQL from 8.0.1.
fn has_skip_locked(version: &str) -> bool {
    let mut parts = version
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor, patch) = (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    );
    if version.contains("MariaDB") {
        major > 10 || (major == 10 && minor >= 6)
    } else {
        major > 8 || (major == 8 && (minor > 0 || patch >= 1))
    }
}

/// A mysql crate error in plain words: the server's message, its error number and
/// SQLSTATE and what to do; for a connection failure its cause. `server` is host:port (or
/// the socket) when connecting, empty otherwise.
fn plain(e: &mysql::Error, server: &str) -> anyhow::Error {
    use mysql::DriverError as D;
    let at = if server.is_empty() {
        String::new()
    } else {
        format!(" at {server}")
    };
    let refused = || anyhow!("connection refused{at}: is MariaDB/MySQL running there?");
    match e {
        mysql::Error::MySqlError(m) => {
            let mut text = format!(
                "MariaDB/MySQL error {} (SQLSTATE {}): {}",
                m.code, m.state, m.message
            );
            if let Some(a) = advice(m.code) {
                text.push_str(&format!(": {a}"));
            }
            // The server ended this session (KILL, wait_timeout) or it broke.
            if matches!(m.code, 1927 | 2006 | 2013 | 4031) {
                return anyhow!(super::lost(&at, &text));
            }
            // 1213: a deadlock, or a Galera certification conflict: the server rolled the
            // transaction back, and the same work may well succeed now.
            if m.code == 1213 {
                return anyhow::Error::new(super::Transient(text));
            }
            // 1205 (a row lock) and 1205's metadata twin: another session held a lock
            // longer than --lock-wait (innodb_lock_wait_timeout, lock_wait_timeout).
            if m.code == 1205 {
                return anyhow::Error::new(super::LockWaitTimeout(text));
            }
            // A missing privilege, a read-only server, a full disk: every tree alike.
            if let Some(kind) = super::refusal::mysql_refusal(m.code) {
                return anyhow::Error::new(super::refusal::EveryTree { kind, text });
            }
            anyhow!(text)
        }
        mysql::Error::IoError(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            refused()
        }
        mysql::Error::IoError(io) => io_failure(io, &at),
        mysql::Error::CodecError(c) => {
            // The same failures, met while a packet was written or read.
            match std::error::Error::source(c).and_then(|s| s.downcast_ref::<std::io::Error>()) {
                Some(io) => io_failure(io, &at),
                None => anyhow!("talking to the server{at}: {c}"),
            }
        }
        mysql::Error::DriverError(D::CouldNotConnect(Some((_, _, kind))))
            if *kind == std::io::ErrorKind::ConnectionRefused =>
        {
            refused()
        }
        mysql::Error::DriverError(D::CouldNotConnect(Some((addr, why, _)))) => {
            anyhow!("could not connect to {addr}: {why}")
        }
        mysql::Error::DriverError(D::ConnectTimeout) => {
            anyhow!("the server{at} did not accept the connection in time (connect_timeout)")
        }
        mysql::Error::DriverError(D::TlsNotSupported) => anyhow!(
            "the server{at} does not offer TLS, and the URL's ssl_* options (or its option \
             file's ssl-*) ask for it: enable TLS on the server or remove the options"
        ),
        mysql::Error::DriverError(d) => anyhow!("MariaDB/MySQL driver{at}: {d}"),
        mysql::Error::TlsError(t) => anyhow!("TLS with the server{at} failed: {t}"),
        mysql::Error::UrlError(u) => anyhow!("{u}"),
        other => anyhow!("{other}"),
    }
}

fn params(p: &[Param]) -> mysql::Params {
    if p.is_empty() {
        return mysql::Params::Empty;
    }
    mysql::Params::Positional(
        p.iter()
            .map(|x| match x {
                Param::Text(s) => mysql::Value::from(s.as_str()),
                Param::Int(i) => mysql::Value::from(*i),
                Param::Null => mysql::Value::NULL,
            })
            .collect(),
    )
}

fn cell(v: mysql::Value) -> Value {
    match v {
        mysql::Value::NULL => Value::Null,
        mysql::Value::Bytes(b) => Value::String(String::from_utf8_lossy(&b).into_owned()),
        mysql::Value::Int(i) => Value::from(i),
        mysql::Value::UInt(u) => Value::from(u),
        mysql::Value::Float(f) => Value::from(f as f64),
        mysql::Value::Double(f) => Value::from(f),
        other => Value::String(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

impl Connection for MySql {
    fn query_each(
        &mut self,
        sql: &str,
        p: &[Param],
        each: &mut dyn FnMut(Row) -> Result<()>,
    ) -> Result<()> {
        super::log_statement(sql);
        let mut result = self
            .0
            .exec_iter(sql, params(p))
            .map_err(|e| plain(&e, ""))?;
        let columns: std::sync::Arc<[String]> = result
            .columns()
            .as_ref()
            .iter()
            .map(|c| c.name_str().into_owned())
            .collect();
        for r in result.by_ref() {
            let mut r = r.map_err(|e| plain(&e, ""))?;
            let cells = (0..r.len())
                .map(|i| cell(r.take(i).unwrap_or(mysql::Value::NULL)))
                .collect();
            each(Row::new(columns.clone(), cells))?;
        }
        Ok(())
    }

    fn execute(&mut self, sql: &str, p: &[Param]) -> Result<u64> {
        super::log_statement(sql);
        self.0
            .exec_drop(sql, params(p))
            .map_err(|e| plain(&e, ""))?;
        Ok(self.0.affected_rows())
    }

    fn begin(&mut self) -> Result<()> {
        self.0
            .query_drop("START TRANSACTION")
            .map_err(|e| plain(&e, ""))
    }

    fn begin_snapshot(&mut self) -> Result<()> {
        self.0
            .query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
            .map_err(|e| plain(&e, ""))
    }

    fn commit(&mut self) -> Result<()> {
        self.0.query_drop("COMMIT").map_err(|e| plain(&e, ""))
    }

    fn rollback(&mut self) -> Result<()> {
        self.0.query_drop("ROLLBACK").map_err(|e| plain(&e, ""))
    }

    fn bound_lock_waits(&mut self, wait: Duration) -> Result<()> {
        // Row locks (InnoDB) and metadata locks (a DDL such as our temporary indexes,
        // waiting for another session's open transaction on the table).
        let s = wait.as_secs().max(1);
        self.0
            .query_drop(format!(
                "SET SESSION innodb_lock_wait_timeout = {s}, SESSION lock_wait_timeout = {s}"
            ))
            .map_err(|e| plain(&e, ""))
    }

    fn skip_locked(&self) -> Option<&'static str> {
        self.2.then_some(" FOR UPDATE SKIP LOCKED")
    }

    fn dialect(&self) -> super::Dialect {
        super::Dialect::MySql
    }

    fn lock_holders(&mut self, _table: &str, _ids: &[Param]) -> Result<Vec<String>> {
        let rows = self.query(include_str!("../../sql/row_lock_holders_mysql.sql"), &[])?;
        rows.iter()
            .map(|r| {
                Ok(format!(
                    "thread {} ({}@{}, its transaction open since {}, {} rows locked)",
                    r.string("thread")?,
                    r.string("user")?,
                    r.string("host")?,
                    r.text("since")?.unwrap_or_default(),
                    r.string("rows_locked")?
                ))
            })
            .collect()
    }

    fn write_set_limits(&mut self) -> Result<Option<super::WriteSetLimits>> {
        let mut vars = std::collections::HashMap::new();
        for r in self.query(include_str!("../../sql/write_set_limits_mysql.sql"), &[])? {
            vars.insert(
                r.string("Variable_name")?.to_ascii_lowercase(),
                r.text("Value")?.unwrap_or_default(),
            );
        }
        if !vars
            .get("wsrep_on")
            .is_some_and(|v| v.eq_ignore_ascii_case("ON"))
        {
            return Ok(None);
        }
        // 0 means no limit, for both.
        let limit = |name: &str| -> Option<u64> {
            vars.get(name)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|n| *n > 0)
        };
        let mut limits = super::WriteSetLimits {
            max_rows: limit("wsrep_max_ws_rows"),
            max_bytes: limit("wsrep_max_ws_size"),
            row_bytes: Default::default(),
        };
        // Only where the figure means something: over a table of a few rows (Heat's
        // stack_lock) InnoDB's average is a whole 16 kB page a row.
        for t in self.query(include_str!("../../sql/table_row_bytes_mysql.sql"), &[])? {
            let rows = t.int("row_count")?.unwrap_or(0);
            if let Some(n) = t.int("row_bytes")?.filter(|n| *n > 0 && rows >= 100) {
                limits
                    .row_bytes
                    .insert(t.string("name")?, (n as u64).max(64));
            }
        }
        Ok(Some(limits))
    }
}

impl super::history::Migrations for MySql {
    fn migrate(&mut self) -> Result<Vec<String>> {
        // Each DDL statement commits by itself: a cut-off V1 leaves tables to clear away.
        super::history::recover_interrupted_setup(self)?;
        let mut runner = super::history::mysql_migrations::migrations::runner();
        runner.set_migration_table_name(super::history::SCHEMA_HISTORY_TABLE);
        // Statement by statement, every result read (see `migrations`).
        let mut driver = migrations::OneByOne {
            conn: &mut self.0,
            migrations: runner.get_migrations(),
        };
        let report = runner
            .run(&mut driver)
            .map_err(|e| super::migration_error(e, |f: &migrations::Failed| anyhow!("{f}")))?;
        super::own_schema::check(self)?;
        Ok(super::history::applied(report))
    }
}

/// The run lock is a named lock (`GET_LOCK`), held by this session until it ends. Names
/// are server-wide, so the name carries the database's (an MD5 of it when too long for
/// the 64 characters a name may have): runs on two Heat databases of one server do not
/// wait for each other.
const RUN_LOCK_NAME: &str = "SELECT IF(CHAR_LENGTH(DATABASE()) <= 50, \
    CONCAT('heat_converge.', DATABASE()), CONCAT('heat_converge.', MD5(DATABASE())))";

impl MySql {
    /// `GET_LOCK` on the run lock: true once taken, false when `seconds` ran out.
    fn get_run_lock(&mut self, seconds: i64) -> Result<bool> {
        let name: Option<String> = self.0.query_first(RUN_LOCK_NAME)?;
        let name = name.ok_or_else(|| anyhow!("no database selected"))?;
        let got: Option<Option<i64>> = self
            .0
            .exec_first("SELECT GET_LOCK(?, ?)", (name.as_str(), seconds))?;
        match got.flatten() {
            Some(1) => Ok(true),
            Some(_) => Ok(false),
            None => Err(anyhow!("GET_LOCK('{name}') failed")),
        }
    }
}

impl super::identity::Identify for MySql {
    fn identity(&mut self) -> Result<super::identity::Identity> {
        super::identity::mysql(self)
    }
}

impl super::indexes::Indexes for MySql {
    fn indexed(&mut self, table: &str, column: &str) -> Result<bool> {
        let sql = "SELECT COUNT(*) AS n FROM information_schema.statistics \
                   WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ? \
                   AND seq_in_index = 1";
        let n = super::count(
            self,
            sql,
            &[Param::Text(table.into()), Param::Text(column.into())],
        )?;
        Ok(n > 0)
    }

    fn drop_index(&mut self, table: &str, name: &str) -> Result<()> {
        let sql = "SELECT COUNT(*) AS n FROM information_schema.statistics \
                   WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ?";
        if super::count(
            self,
            sql,
            &[Param::Text(table.into()), Param::Text(name.into())],
        )? > 0
        {
            self.execute(&format!("DROP INDEX {name} ON {table}"), &[])?;
        }
        Ok(())
    }
}

/// On Galera the run lock is also a row of ours (see `cluster_lock`): `GET_LOCK` first
/// (it excludes runs through this node at once), then the row (runs through the others).
impl MySql {
    /// The cluster-wide part, once `GET_LOCK` is held: `Ok(Err(holder))` when another run
    /// holds the row. Outside Galera there is nothing to take.
    /// `lock_conn` keeps the lock's connection between attempts of a run that waits.
    fn take_cluster_lock(
        &mut self,
        lock_conn: &mut Option<mysql::Conn>,
    ) -> Result<std::result::Result<super::RunLockHeld, cluster_lock::Holder>> {
        if !cluster_lock::is_galera(&mut self.0)? {
            return Ok(Ok(super::RunLockHeld::session()));
        }
        let mut conn = match lock_conn.take() {
            Some(c) => c,
            None => cluster_lock::connect(&self.1)?,
        };
        let me = cluster_lock::Me::new();
        match cluster_lock::try_take(&mut conn, &me)? {
            cluster_lock::Attempt::Held(other) => {
                *lock_conn = Some(conn);
                Ok(Err(other))
            }
            cluster_lock::Attempt::Taken(taken_over) => {
                let beat = cluster_lock::Heartbeat::start(conn, me.holder)?;
                Ok(Ok(super::RunLockHeld::session_with(
                    Box::new(beat),
                    taken_over,
                )))
            }
        }
    }

    fn release_run_lock(&mut self) -> Result<()> {
        let name: Option<String> = self.0.query_first(RUN_LOCK_NAME)?;
        let name = name.ok_or_else(|| anyhow!("no database selected"))?;
        self.0
            .exec_drop("DO RELEASE_LOCK(?)", (name.as_str(),))
            .map_err(|e| plain(&e, ""))
    }
}

impl super::RunLock for MySql {
    fn try_lock_run(&mut self) -> Result<Option<super::RunLockHeld>> {
        if !self.get_run_lock(0)? {
            return Ok(None);
        }
        match self.take_cluster_lock(&mut None)? {
            Ok(held) => Ok(Some(held)),
            Err(_) => {
                self.release_run_lock()?;
                Ok(None)
            }
        }
    }

    fn lock_run(&mut self) -> Result<super::RunLockHeld> {
        // A second at a time: a stop signal ends the wait, and a process that dies leaves
        // no session waiting in GET_LOCK for long.
        while !self.get_run_lock(1)? {
            super::waiting_for_run_lock()?;
        }
        let mut lock_conn = None;
        loop {
            match self.take_cluster_lock(&mut lock_conn)? {
                Ok(held) => return Ok(held),
                Err(other) => {
                    tracing::debug!(
                        "run lock: waiting for {}",
                        crate::escape::text(&other.to_string())
                    );
                    std::thread::sleep(std::time::Duration::from_secs(1));
                }
            }
        }
    }

    fn run_lock_name(&mut self) -> Result<String> {
        let row: Option<(Option<String>, Option<String>)> = self
            .0
            .query_first(format!("SELECT DATABASE(), ({RUN_LOCK_NAME})"))?;
        let (db, name) = row.unwrap_or_default();
        let mut text = format!(
            "database {} (named lock {}, see IS_USED_LOCK",
            db.unwrap_or_default(),
            name.unwrap_or_default()
        );
        if cluster_lock::is_galera(&mut self.0)? {
            text.push_str(&format!(
                "; across the Galera cluster the row of {}, taken over after {} s without \
                 a heartbeat",
                cluster_lock::TABLE,
                cluster_lock::STALE_AFTER.as_secs()
            ));
        }
        text.push(')');
        Ok(text)
    }

    fn run_lock_holder(&mut self) -> Result<Option<String>> {
        if !cluster_lock::is_galera(&mut self.0)? {
            return Ok(None);
        }
        // No table yet: no run has taken the lock on this cluster.
        Ok(cluster_lock::holder(&mut self.0)
            .ok()
            .flatten()
            .map(|h| h.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::has_skip_locked;

    #[test]
    fn skip_locked_by_version() {
        assert!(has_skip_locked("10.11.19-MariaDB-0+deb12u1"));
        assert!(has_skip_locked("11.4.2-MariaDB"));
        assert!(!has_skip_locked("10.5.25-MariaDB-log"));
        assert!(!has_skip_locked("10.3.39-MariaDB"));
        assert!(has_skip_locked("8.0.36"));
        assert!(!has_skip_locked("8.0.0"));
        assert!(!has_skip_locked("5.7.44-log"));
    }

    use super::*;
    use std::path::Path;
    use std::process::Command;

    /// What PyMySQL (through SQLAlchemy's URL handling, as Heat connects) makes of each
    /// URL: TLS attempted, required, chain verified, host name checked.
    const ORACLE: &str = r#"
import json, ssl, sys
import sqlalchemy as sa, pymysql
out = []
for url in sys.argv[1:]:
    eng = sa.create_engine(url)
    _, kw = eng.dialect.create_connect_args(eng.url)
    c = pymysql.connections.Connection(defer_connect=True, **kw)
    out.append([bool(c.ssl), bool(c._ssl_required),
                bool(c.ssl) and c.ctx.verify_mode == ssl.CERT_REQUIRED,
                bool(c.ssl) and c.ctx.check_hostname])
print(json.dumps(out))
"#;

    fn ours(url: &str) -> [bool; 4] {
        let t = tls_options(&DbUrl::parse(url).unwrap()).unwrap();
        let o = t.ssl_opts();
        match t.mode {
            TlsMode::Off => [false; 4],
            TlsMode::Preferred => [true, false, false, false],
            TlsMode::Required => [
                true,
                true,
                !o.accept_invalid_certs(),
                !o.skip_domain_validation(),
            ],
        }
    }

    #[test]
    fn tls_options_mean_what_they_mean_to_pymysql() {
        let top = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = top.join(format!("target/mysql-tls-oracle-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (cert, key) = (dir.join("c.pem"), dir.join("k.pem"));
        let made = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=oracle", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .unwrap();
        assert!(made.status.success());
        let (c, k) = (cert.display(), key.display());
        let base = "mysql+pymysql://heat:pw@db.example:3306/heat?charset=utf8";
        let urls: Vec<String> = [
            String::new(),
            "&ssl_disabled=true".into(),
            format!("&ssl_ca={c}"),
            format!("&ssl_ca={c}&ssl_check_hostname=true"),
            format!("&ssl_ca={c}&ssl_verify_cert=false"),
            "&ssl_verify_cert=false".into(),
            format!("&ssl_cert={c}&ssl_key={k}"),
            format!("&ssl_cert={c}&ssl_key={k}&ssl_ca={c}"),
        ]
        .iter()
        .map(|o| format!("{base}{o}"))
        .collect();
        let out = Command::new(top.join("target/heat-venv/bin/python"))
            .arg("-c")
            .arg(ORACLE)
            .args(&urls)
            .env("PYTHONWARNINGS", "ignore")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let python: Vec<[bool; 4]> = serde_json::from_slice(&out.stdout).unwrap();
        for (url, py) in urls.iter().zip(python) {
            assert_eq!(ours(url), py, "{url}: [tls, required, chain, host name]");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// As the local MariaDB answered PyMySQL's init_command (no multi-statements): one
    /// statement with trailing `;` and comments is run, a second statement is refused.
    #[test]
    fn init_command_is_one_statement() {
        for sql in [
            "SET @a=1",
            "SET @a=1;",
            "SET @a=1; ",
            "SET @a=1;;",
            "SET @a=1 -- x",
            "SET @a=1; -- c",
            "SET @a=1; /* c; SET @b=2 */",
            "SET @a=1; # c",
            "SET @a=';'",
            "SET @a='it''s; fine'",
            "SET @a=\"\\\"; x\"",
            "SELECT `a;b` FROM t",
        ] {
            assert!(one_statement(sql), "{sql}");
        }
        for sql in [
            "SET @a=1; SET @b=2",
            "SET @a=1;SELECT 1",
            "SET @a=1; /*! SET @b=2 */",
            "SET @a=1; 'x'",
            "SET @a=1; --x",
        ] {
            assert!(!one_statement(sql), "{sql}");
        }
    }

    #[test]
    fn what_cannot_be_honoured_is_refused() {
        for (opts, named) in [
            ("ssl_capath=/etc/ssl", "ssl_capath"),
            ("ssl_cipher=AES256", "ssl_cipher"),
            ("ssl_key_password=x", "ssl_key_password"),
            ("sslmode=require", "sslmode"),
            ("ssl_verify_cert=true", "ssl_verify_cert=true"),
            (
                "ssl_ca=/etc/hostname&ssl_check_hostname=false",
                "ssl_check_hostname=false",
            ),
            ("ssl_ca=/etc/hostname&ssl_disabled=true", "ssl_disabled"),
            (
                "ssl_ca=/etc/hostname&unix_socket=/run/mysqld.sock",
                "unix_socket",
            ),
            ("ssl_key=/etc/hostname", "ssl_key"),
            ("ssl_verify_identity=perhaps", "ssl_verify_identity=perhaps"),
            ("ssl_ca=/nonexistent.pem", "ssl_ca=/nonexistent.pem"),
        ] {
            let url = DbUrl::parse(&format!("mysql+pymysql://heat:pw@db/heat?{opts}")).unwrap();
            let e = tls_options(&url).expect_err(opts).to_string();
            assert!(e.contains(named), "{opts}: {e}");
        }
    }
}
