//! Refusals that every tree of a run would meet (a missing privilege, a read-only
//! database, failing storage), recognised in the servers' errors: the drivers mark them,
//! the run stops on them instead of refusing tree after tree, and the schema check names
//! a table it may not read. Kept apart from `preflight` (which asks each driver what the
//! user may do) so that the drivers depend on this and not the other way round.

use super::Connection;
use anyhow::anyhow;
use std::fmt;

/// Why the database refuses a statement whichever tree it is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The user lacks a privilege.
    Privilege,
    /// The database takes no writes (a read-only server, transaction or file).
    ReadOnly,
    /// The storage fails: a full disk, an I/O error, a journal that cannot be made.
    Storage,
}

impl Refusal {
    /// In words, for a message.
    pub fn words(self) -> &'static str {
        match self {
            Refusal::Privilege => "the database user lacks a privilege",
            Refusal::ReadOnly => "the database takes no writes (read-only)",
            Refusal::Storage => "the database cannot write its storage (a full disk, an I/O error, a journal that cannot be made)",
        }
    }
}

/// A server error that refuses every tree alike (see [`refusal`]): the drivers wrap the
/// server's words in it, as they mark transient ones with [`super::Transient`].
#[derive(Debug)]
pub struct EveryTree {
    pub kind: Refusal,
    pub text: String,
}

impl fmt::Display for EveryTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for EveryTree {}

/// MySQL/MariaDB error numbers that refuse every tree alike.
pub fn mysql_refusal(code: u16) -> Option<Refusal> {
    Some(match code {
        // Table, column, database, "specific" (SUPER...), routine access denied.
        1044 | 1142 | 1143 | 1227 | 1370 => Refusal::Privilege,
        // --read-only / super_read_only (1290), MySQL's read-only mode (1836), InnoDB
        // started read-only (1874), a table opened read-only (1036).
        1290 | 1836 | 1874 | 1036 => Refusal::ReadOnly,
        // Disk full, table (tablespace) full.
        1021 | 1114 => Refusal::Storage,
        _ => return None,
    })
}

/// PostgreSQL SQLSTATEs that refuse every tree alike.
pub fn postgres_refusal(sqlstate: &str) -> Option<Refusal> {
    Some(match sqlstate {
        "42501" => Refusal::Privilege,
        // A read-only transaction (default_transaction_read_only, a hot standby).
        "25006" => Refusal::ReadOnly,
        "53100" | "58030" => Refusal::Storage,
        _ => return None,
    })
}

/// Whether `e` (or anything it wraps) is a refusal that every tree would meet: a missing
/// privilege, a read-only database, failing storage.
pub fn refusal(e: &anyhow::Error) -> Option<Refusal> {
    use rusqlite::ErrorCode as C;
    e.chain().find_map(|cause| {
        if let Some(every) = cause.downcast_ref::<EveryTree>() {
            return Some(every.kind);
        }
        match cause.downcast_ref::<rusqlite::Error>() {
            Some(rusqlite::Error::SqliteFailure(f, _)) => match f.code {
                C::ReadOnly => Some(Refusal::ReadOnly),
                C::PermissionDenied | C::AuthorizationForStatementDenied => {
                    Some(Refusal::Privilege)
                }
                C::DiskFull | C::SystemIoFailure | C::CannotOpen => Some(Refusal::Storage),
                _ => None,
            },
            _ => None,
        }
    })
}

/// The server's words without the advice the drivers add to a refusal (the message says
/// what to do, once).
pub fn said(text: &str) -> &str {
    text.split(": permission denied: the database user lacks a privilege")
        .next()
        .unwrap_or(text)
}

/// The error of a read refused for want of SELECT: names the privilege, the table (and
/// column) and the user, with the server's words.
pub fn unreadable(
    conn: &mut dyn Connection,
    table: &str,
    column: Option<&str>,
    e: anyhow::Error,
) -> anyhow::Error {
    // CURRENT_USER without parentheses is both MySQL's and PostgreSQL's.
    let user = conn
        .query("SELECT CURRENT_USER AS u", &[])
        .ok()
        .and_then(|rows| rows.first().and_then(|r| r.text("u").ok().flatten()))
        .unwrap_or_else(|| "of this connection".to_string());
    let on = match column {
        Some(c) => format!("column {c} of table {table}"),
        None => format!("table {table}"),
    };
    anyhow!(
        "the database user {user} lacks SELECT on {on}, which heat-converge reads; grant it \
         (or use the database user of Heat's own [database] connection); nothing was \
         written: {}",
        said(&format!("{e:#}"))
    )
}
