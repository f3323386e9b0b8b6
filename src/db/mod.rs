//! Heat's database, whichever server holds it.
//!
//! Every backend is reached through one small trait, [`Connection`]: run a statement,
//! read rows as JSON values, open and end a transaction. One short file per driver
//! implements it; everything above ([`read`]) is written once and never knows which
//! database it talks to. The SQL lives in `sql/`, written once with `?` placeholders.

pub mod history;
mod mysql;
mod postgres;
pub mod read;
mod sqlite;
pub mod url;

use anyhow::Result;
use serde_json::Value;
use url::{Backend, DbUrl};

/// A statement parameter.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    Text(String),
    Int(i64),
    Null,
}

/// One result row, its cells as JSON values (null, integer, float, text, boolean).
pub type Row = Vec<Value>;

/// A text cell (numbers rendered as text); None for NULL or a missing column.
pub(crate) fn text(row: &Row, i: usize) -> Option<String> {
    match row.get(i)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// An integer cell, whichever way the driver returned it.
pub(crate) fn int(row: &Row, i: usize) -> Option<i64> {
    match row.get(i)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

/// What every database driver provides.
pub trait Connection {
    /// Runs a query and returns its rows.
    fn query(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Row>>;
    /// Runs a statement and returns how many rows it changed.
    fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64>;
    fn begin(&mut self) -> Result<()>;
    fn commit(&mut self) -> Result<()>;
    fn rollback(&mut self) -> Result<()>;
}

/// A connection to Heat's database with every capability the tool uses.
pub trait Database: Connection + history::Migrations {
    /// The plain statement capability (for code that needs nothing else).
    fn conn(&mut self) -> &mut dyn Connection;
}

impl<T: Connection + history::Migrations> Database for T {
    fn conn(&mut self) -> &mut dyn Connection {
        self
    }
}

/// Connects to Heat's database; errors name the URL without its password.
pub fn connect(url: &DbUrl) -> Result<Box<dyn Database>> {
    use anyhow::Context;
    let context = || format!("cannot connect to {url}");
    Ok(match url.backend {
        Backend::MySql => Box::new(mysql::MySql::connect(url).with_context(context)?),
        Backend::Postgres => Box::new(postgres::Postgres::connect(url).with_context(context)?),
        Backend::Sqlite => Box::new(sqlite::Sqlite::connect(url).with_context(context)?),
    })
}

/// Rewrites `?` placeholders to `$1, $2, ...` (PostgreSQL). Our SQL has no `?` in
/// literals.
pub(crate) fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}
