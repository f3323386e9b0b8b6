//! Heat's `[database] connection` URLs, in the SQLAlchemy forms deployments use:
//! `mysql+pymysql://`, `mysql://`, `postgresql://`, `postgresql+psycopg2://`,
//! `sqlite:///relative`, `sqlite:////absolute`, with query options such as `charset`.
//!
//! A URL carries the database password. It is kept out of every message: `Display` and
//! `Debug` print `***` in its place, and errors about a URL never quote it.

use anyhow::{anyhow, bail, Result};
use std::fmt;
use std::path::PathBuf;

#[derive(Clone, PartialEq, Eq)]
pub enum Backend {
    MySql,
    Postgres,
    Sqlite,
}

/// A parsed connection URL.
#[derive(Clone, PartialEq, Eq)]
pub struct DbUrl {
    pub backend: Backend,
    /// The scheme as written (`mysql+pymysql`), for messages.
    pub scheme: String,
    pub user: Option<String>,
    password: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    /// Database name (server backends) or file path (SQLite).
    pub database: String,
    /// Query options (`charset=utf8`, `unix_socket=...`).
    pub options: Vec<(String, String)>,
}

impl DbUrl {
    pub fn parse(text: &str) -> Result<DbUrl> {
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| anyhow!("not a database URL (expected scheme://...)"))?;
        let dialect = scheme.split('+').next().unwrap_or(scheme);
        let backend = match dialect {
            "mysql" | "mariadb" => Backend::MySql,
            "postgresql" | "postgres" => Backend::Postgres,
            "sqlite" => Backend::Sqlite,
            other => bail!("unsupported database scheme \"{other}\" (Heat runs on MySQL/MariaDB, PostgreSQL or SQLite)"),
        };
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, q),
            None => (rest, ""),
        };
        let options = query
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                Ok((decode(k)?, decode(v)?))
            })
            .collect::<Result<Vec<_>>>()?;
        if backend == Backend::Sqlite {
            // sqlite:///rel/path -> "rel/path"; sqlite:////abs/path -> "/abs/path".
            let path = rest
                .strip_prefix('/')
                .ok_or_else(|| anyhow!("a SQLite URL is sqlite:///PATH"))?;
            if path.is_empty() {
                bail!("an in-memory SQLite database (sqlite://) holds no Heat stacks");
            }
            return Ok(DbUrl {
                backend,
                scheme: scheme.to_string(),
                user: None,
                password: None,
                host: None,
                port: None,
                database: decode(path)?,
                options,
            });
        }
        let (authority, database) = rest.split_once('/').unwrap_or((rest, ""));
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(u) => match u.split_once(':') {
                Some((n, p)) => (Some(decode(n)?), Some(decode(p)?)),
                None => (Some(decode(u)?), None),
            },
        };
        let (host, port) = if let Some(h) = hostport.strip_prefix('[') {
            let (h, after) = h
                .split_once(']')
                .ok_or_else(|| anyhow!("bad IPv6 host in database URL"))?;
            (h.to_string(), after.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (hostport.to_string(), None),
            }
        };
        let port = port
            .map(|p| {
                p.parse::<u16>()
                    .map_err(|_| anyhow!("bad port \"{p}\" in database URL"))
            })
            .transpose()?;
        if database.is_empty() {
            bail!("the database URL names no database");
        }
        Ok(DbUrl {
            backend,
            scheme: scheme.to_string(),
            user,
            password,
            host: (!host.is_empty()).then_some(host),
            port,
            database: decode(database)?,
            options,
        })
    }

    /// The password, for the drivers only.
    pub(crate) fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    pub fn option(&self, key: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn sqlite_path(&self) -> PathBuf {
        PathBuf::from(&self.database)
    }
}

/// Percent-decoding, as SQLAlchemy does for each URL part.
fn decode(s: &str) -> Result<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .ok_or_else(|| anyhow!("bad %-escape in database URL"))?;
            out.push(
                u8::from_str_radix(hex, 16).map_err(|_| anyhow!("bad %-escape in database URL"))?,
            );
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| anyhow!("database URL is not UTF-8 once decoded"))
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
        if let Some(h) = &self.host {
            write!(f, "{h}")?;
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
    }

    #[test]
    fn the_password_is_never_shown() {
        let u = DbUrl::parse("mysql+pymysql://heat:TopSecret@db/heat?charset=utf8").unwrap();
        for shown in [u.to_string(), format!("{u:?}")] {
            assert!(!shown.contains("TopSecret"), "{shown}");
            assert!(shown.contains("heat:***@db/heat"), "{shown}");
        }
        let e = DbUrl::parse("mysql://heat:TopSecret@db:notaport/heat").unwrap_err();
        assert!(!format!("{e:#}").contains("TopSecret"));
    }
}
