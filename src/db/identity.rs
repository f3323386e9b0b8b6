//! Which database a connection reaches, as the server itself says, for a plan file: a plan
//! reviewed on one database must be applied to that database, however it is reached
//! (`127.0.0.1:3306` or `localhost`, heat.conf or `--db-url`), and never to another.
//! The URL's text cannot tell: two texts reach one database, one text (after a fail-over
//! or a restore elsewhere) another.
//!
//! - MySQL: `@@server_uuid`; MariaDB has none, so `@@hostname` and `@@port`; and the
//!   schema (`DATABASE()`).
//! - PostgreSQL: the cluster's `system_identifier` (`pg_control_system()`); where that is
//!   refused, when the server started and its port; and `current_database()`.
//! - SQLite: the file's device and inode (its canonical path is shown, not compared: a
//!   symbolic link or another mount reaches the same file).
//!
//! Each driver answers through [`Identify`]; the servers' queries are here, in `sql/`.

use super::{Connection, Row};
use anyhow::{anyhow, Context, Result};
use std::fmt;

/// A database's identity: what is compared, and what is shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The server (or file), in its own words: `MariaDB hostname db1 port 3306`.
    pub server: String,
    /// The database on that server (the schema on MySQL); empty for SQLite.
    pub database: String,
    /// For messages only, never compared: a SQLite file's canonical path.
    pub path: Option<String>,
}

impl Identity {
    /// As a plan file keeps it.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({"server": self.server, "database": self.database});
        if let Some(path) = &self.path {
            v["path"] = path.as_str().into();
        }
        v
    }

    /// From a plan file; None when `v` is not one.
    pub fn from_json(v: &serde_json::Value) -> Option<Identity> {
        Some(Identity {
            server: v["server"].as_str()?.to_string(),
            database: v["database"].as_str()?.to_string(),
            path: v["path"].as_str().map(String::from),
        })
    }

    /// Whether two identities are one database (the path is not compared).
    pub fn same(&self, other: &Identity) -> bool {
        self.server == other.server && self.database == other.database
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{path} ({})", self.server),
            None => write!(f, "database {} on {}", self.database, self.server),
        }
    }
}

/// One implementation per driver.
pub trait Identify {
    /// The identity of the database this connection reaches.
    fn identity(&mut self) -> Result<Identity>;
}

fn schema(row: &Row) -> Result<String> {
    row.text("db")?
        .ok_or_else(|| anyhow!("the connection has no database selected"))
}

fn one_row(conn: &mut dyn Connection, sql: &str) -> Result<Row> {
    conn.query(sql, &[])?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("the server returned no row"))
}

/// A MySQL or MariaDB server's identity.
pub(crate) fn mysql(conn: &mut dyn Connection) -> Result<Identity> {
    // MariaDB refuses @@server_uuid (unknown system variable): then its host and port.
    if let Ok(row) = one_row(
        conn,
        include_str!("../../sql/identity_mysql_server_uuid.sql"),
    ) {
        if let Some(uuid) = row.text("server_uuid")? {
            return Ok(Identity {
                server: format!("MySQL server_uuid {uuid}"),
                database: schema(&row)?,
                path: None,
            });
        }
    }
    let row = one_row(conn, include_str!("../../sql/identity_mysql_host.sql"))
        .context("cannot read the server's @@hostname and @@port")?;
    Ok(Identity {
        server: format!(
            "MariaDB hostname {} port {}",
            row.text("hostname")?.unwrap_or_default(),
            row.text("port")?.unwrap_or_default()
        ),
        database: schema(&row)?,
        path: None,
    })
}

/// A PostgreSQL server's identity.
pub(crate) fn postgres(conn: &mut dyn Connection) -> Result<Identity> {
    match one_row(conn, include_str!("../../sql/identity_postgresql.sql")) {
        Ok(row) => Ok(Identity {
            server: format!(
                "PostgreSQL system_identifier {}",
                row.string("system_identifier")?
            ),
            database: schema(&row)?,
            path: None,
        }),
        Err(refused) => {
            tracing::info!(
                "pg_control_system() refused ({refused:#}): the plan names the server by when it started and its port"
            );
            let row = one_row(
                conn,
                include_str!("../../sql/identity_postgresql_started.sql"),
            )
            .context("cannot read when the server started and its port")?;
            Ok(Identity {
                server: format!(
                    "PostgreSQL started at {} port {}",
                    row.string("started")?,
                    row.string("port")?
                ),
                database: schema(&row)?,
                path: None,
            })
        }
    }
}

/// A SQLite file's identity.
pub(crate) fn sqlite_file(path: &std::path::Path) -> Result<Identity> {
    use std::os::unix::fs::MetadataExt as _;
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read the metadata of {}", path.display()))?;
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    Ok(Identity {
        server: format!("SQLite file on device {} inode {}", meta.dev(), meta.ino()),
        database: String::new(),
        path: Some(canonical.display().to_string()),
    })
}
