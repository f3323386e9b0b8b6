//! PostgreSQL, through the postgres crate, with libpq's TLS and time-out options.
//!
//! Heat's URL is read by psycopg2, i.e. libpq, so its options mean what libpq says:
//! `sslmode` (default `prefer`), `sslrootcert`, `sslcert`, `sslkey`, `connect_timeout`.
//! TLS is rustls; an option or value we cannot honour is refused, never ignored.
//! Errors name the server's message and SQLSTATE, never the SQL text or the password.

use super::tls::{self, Identity, Verify};
use super::url::DbUrl;
use super::{numbered_placeholders, Connection, Param, Row};
use anyhow::{anyhow, bail, Result};
use postgres::config::SslMode;
use postgres::types::{ToSql, Type};
use serde_json::Value;
use std::time::Duration;

/// How long a connection may take when the URL sets no `connect_timeout` (libpq waits for
/// ever; a pipeline must not).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Postgres {
    client: postgres::Client,
    /// Prepared statements by SQL text: PostgreSQL tells the parameter types, which the
    /// values must match exactly (an `integer` id takes an i32).
    statements: std::collections::HashMap<String, postgres::Statement>,
}

/// The TLS the URL asks for, in libpq's terms.
#[derive(Debug, PartialEq, Eq)]
struct Tls {
    mode: SslMode,
    verify: Verify,
    identity: Option<Identity>,
    tls13_only: bool,
}

/// libpq's reading of the `ssl*` options.
fn tls_options(url: &DbUrl) -> Result<Tls> {
    for (key, value) in &url.options {
        let known = [
            "sslmode",
            "sslrootcert",
            "sslcert",
            "sslkey",
            "sslcompression",
            "sslsni",
            "sslnegotiation",
            "ssl_min_protocol_version",
        ];
        if (key.starts_with("ssl") || key == "requiressl") && !known.contains(&key.as_str()) {
            bail!(
                "{key}={value}: heat-converge does not support this TLS option; \
                 supported: sslmode, sslrootcert, sslcert, sslkey, sslsni=1, \
                 sslnegotiation=postgres, ssl_min_protocol_version"
            );
        }
    }
    let mode = url.option("sslmode").unwrap_or("prefer");
    if mode == "disable" {
        return Ok(Tls {
            mode: SslMode::Disable,
            verify: Verify::Nothing,
            identity: None,
            tls13_only: false,
        });
    }
    if let Some(v) = url.option("sslsni") {
        if v != "1" {
            bail!("sslsni={v}: heat-converge always sends the server name (sslsni=1)");
        }
    }
    if let Some(v) = url.option("sslnegotiation") {
        if v != "postgres" {
            bail!("sslnegotiation={v}: only sslnegotiation=postgres is supported");
        }
    }
    // sslcompression is obsolete: libpq ignores it unless it is 1 and the library can.
    if let Some(v) = url.option("sslcompression") {
        if v != "0" {
            bail!("sslcompression={v}: TLS compression is not supported (sslcompression=0)");
        }
    }
    let tls13_only = match url.option("ssl_min_protocol_version") {
        None | Some("TLSv1") | Some("TLSv1.1") | Some("TLSv1.2") => false,
        Some("TLSv1.3") => true,
        Some(v) => bail!("ssl_min_protocol_version={v}: expected TLSv1.2 or TLSv1.3"),
    };
    if let Some(v) = url.option("sslrootcert") {
        if v == "system" {
            bail!(
                "sslrootcert=system: the system CA store is not supported; \
                 name the CA file instead"
            );
        }
        tls::readable_file("sslrootcert", v)?;
    }
    // libpq reads ~/.postgresql/root.crt when sslrootcert is not given; with a root
    // certificate, every mode that encrypts also checks the chain.
    let root = url
        .option("sslrootcert")
        .map(String::from)
        .or_else(|| tls::libpq_default_file("root.crt"));
    let (mode, verify) = match mode {
        // `allow` would try clear text first; we try TLS first, as `prefer` does: never
        // weaker than asked.
        "allow" | "prefer" | "require" => {
            let verify = root.map(Verify::Chain).unwrap_or(Verify::Nothing);
            let ssl = if mode == "require" {
                SslMode::Require
            } else {
                SslMode::Prefer
            };
            (ssl, verify)
        }
        "verify-ca" | "verify-full" => {
            let root = root.ok_or_else(|| {
                anyhow!(
                    "sslmode={mode} needs the CA certificate: set sslrootcert=FILE \
                     (or put it at ~/.postgresql/root.crt)"
                )
            })?;
            let verify = if mode == "verify-ca" {
                Verify::Chain(root)
            } else {
                Verify::Full(root)
            };
            (SslMode::Require, verify)
        }
        other => bail!(
            "sslmode={other}: expected disable, allow, prefer, require, verify-ca or verify-full"
        ),
    };
    let identity = match (url.option("sslcert"), url.option("sslkey")) {
        (None, None) => None,
        (Some(cert), Some(key)) => {
            tls::readable_file("sslcert", cert)?;
            tls::readable_file("sslkey", key)?;
            Some(Identity {
                cert: cert.to_string(),
                key: key.to_string(),
            })
        }
        (Some(_), None) => bail!("sslcert without sslkey: give both files"),
        (None, Some(_)) => bail!("sslkey without sslcert: give both files"),
    };
    Ok(Tls {
        mode,
        verify,
        identity,
        tls13_only,
    })
}

/// libpq's `connect_timeout`: seconds, 0 or less waits for ever, 1 means 2.
fn connect_timeout(url: &DbUrl) -> Result<Option<Duration>> {
    Ok(match super::seconds_option(url, "connect_timeout")? {
        None => Some(DEFAULT_CONNECT_TIMEOUT),
        Some(s) if s <= 0 => None,
        Some(s) => Some(Duration::from_secs(s.max(2) as u64)),
    })
}

impl Postgres {
    pub fn connect(url: &DbUrl) -> Result<Postgres> {
        let tls = tls_options(url)?;
        let limit = connect_timeout(url)?;
        let mut cfg = postgres::Config::new();
        cfg.dbname(&url.database);
        if let Some(u) = &url.user {
            cfg.user(u);
        }
        if let Some(p) = url.password() {
            cfg.password(p);
        }
        let host = url
            .option("host")
            .or(url.host.as_deref())
            .unwrap_or("localhost")
            .to_string();
        cfg.host(&host);
        let port = url.port.unwrap_or(5432);
        cfg.port(port);
        if let Some(limit) = limit {
            cfg.connect_timeout(limit);
        }
        // A server that dies mid-query is noticed within about a minute and a half
        // instead of never: keepalives probe an idle connection, and unacknowledged
        // writes give up after the user time-out.
        cfg.keepalives(true)
            .keepalives_idle(Duration::from_secs(30))
            .keepalives_interval(Duration::from_secs(10))
            .keepalives_retries(6)
            .tcp_user_timeout(Duration::from_secs(90));
        cfg.ssl_mode(tls.mode);
        let connector = tokio_postgres_rustls::MakeRustlsConnect::new(tls::client_config(
            &tls.verify,
            tls.identity.as_ref(),
            tls.tls13_only,
        )?);
        let server = format!("{host}:{port}");
        let server2 = server.clone();
        let client = super::within(limit, &server, move || {
            cfg.connect(connector).map_err(|e| plain(&e, &server2))
        })?;
        Ok(Postgres {
            client,
            statements: Default::default(),
        })
    }

    fn statement(&mut self, sql: &str) -> Result<postgres::Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let stmt = self
            .client
            .prepare(&numbered_placeholders(sql))
            .map_err(|e| plain(&e, ""))?;
        // Multi-row statements come in many sizes, but most of a run's are full ones of
        // the same few texts: parsing each again cost a tenth of the server's write time
        // at 100,000 roots. A bounded number are kept (the server holds each until it is
        // dropped here); past it the big ones are forgotten, the plain ones stay.
        if self.statements.len() >= KEPT_STATEMENTS {
            self.statements.retain(|_, s| s.params().len() <= 64);
        }
        if self.statements.len() < KEPT_STATEMENTS {
            self.statements.insert(sql.to_string(), stmt.clone());
        }
        Ok(stmt)
    }
}

/// How many prepared statements a session keeps at most.
const KEPT_STATEMENTS: usize = 64;

/// What to do about the common SQLSTATEs.
fn advice(code: &str) -> Option<&'static str> {
    Some(match code {
        "28P01" => "check the user and password in [database] connection",
        "28000" => {
            "the server refused this user from this host: check the user in \
             [database] connection and the server's pg_hba.conf"
        }
        "3D000" => "check the database name in [database] connection",
        "42501" => "permission denied: the database user lacks a privilege heat-converge needs",
        "53300" => "the server has no free connection slot: retry later",
        "57P03" => "the server is starting up or shutting down: retry later",
        "55P03" => {
            "another session held a lock heat-converge needed for longer than --lock-wait \
             (see pg_locks and pg_stat_activity): run again once it is released"
        }
        "57014" => "the statement ran longer than heat-converge allows (statement_timeout)",
        _ => return None,
    })
}

/// A postgres error in plain words: the server's message, its SQLSTATE and what to do;
/// for a connection failure, its cause. `server` is host:port when connecting.
pub(crate) fn plain(e: &postgres::Error, server: &str) -> anyhow::Error {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        let mut text = format!("PostgreSQL error {code}: {}", db.message());
        if let Some(d) = db.detail() {
            text.push_str(&format!(" ({d})"));
        }
        if let Some(a) = advice(code) {
            text.push_str(&format!(": {a}"));
        } else if let Some(h) = db.hint() {
            text.push_str(&format!(" (hint: {h})"));
        }
        // A serialization failure or a deadlock: the transaction was rolled back.
        if matches!(code, "40001" | "40P01") {
            return anyhow::Error::new(super::Transient(text));
        }
        // The server ended this session (pg_terminate_backend, a shutdown) or it broke.
        if matches!(code, "57P01" | "57P02" | "08000" | "08003" | "08006") {
            return anyhow!(super::lost("", &text));
        }
        // lock_timeout: another session held a lock longer than --lock-wait.
        if code == "55P03" {
            return anyhow::Error::new(super::LockWaitTimeout(text));
        }
        // A missing privilege, a read-only transaction, a full disk: every tree alike.
        if let Some(kind) = super::refusal::postgres_refusal(code) {
            return anyhow::Error::new(super::refusal::EveryTree { kind, text });
        }
        return anyhow!(text);
    }
    let mut cause = String::new();
    let mut io_kind = None;
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            io_kind = Some(io.kind());
        }
        cause = s.to_string();
        source = s.source();
    }
    let what = e.to_string();
    let at = if server.is_empty() {
        String::new()
    } else {
        format!(" at {server}")
    };
    match io_kind {
        Some(std::io::ErrorKind::ConnectionRefused) => {
            anyhow!("connection refused{at}: is PostgreSQL running there and listening on TCP?")
        }
        _ if what == "server does not support TLS" || cause == "server does not support TLS" => {
            anyhow!(
                "the server{at} does not offer TLS, and sslmode asks for it: \
                 enable ssl on the server or change sslmode"
            )
        }
        Some(k) if super::is_connection_lost(k) => anyhow!(super::lost(&at, &cause)),
        _ if e.is_closed() || what.contains("connection closed") => {
            anyhow!(super::lost(&at, &what))
        }
        _ if cause.is_empty() => anyhow!("{what}{at}"),
        _ => anyhow!("{what}{at}: {cause}"),
    }
}

fn cell(row: &postgres::Row, i: usize) -> Result<Value> {
    let ty = row.columns()[i].type_().clone();
    Ok(match ty {
        Type::INT2 => row
            .get::<_, Option<i16>>(i)
            .map(Value::from)
            .unwrap_or(Value::Null),
        Type::INT4 => row
            .get::<_, Option<i32>>(i)
            .map(Value::from)
            .unwrap_or(Value::Null),
        Type::INT8 => row
            .get::<_, Option<i64>>(i)
            .map(Value::from)
            .unwrap_or(Value::Null),
        Type::BOOL => row
            .get::<_, Option<bool>>(i)
            .map(Value::from)
            .unwrap_or(Value::Null),
        Type::FLOAT4 => row
            .get::<_, Option<f32>>(i)
            .map(|f| Value::from(f as f64))
            .unwrap_or(Value::Null),
        Type::FLOAT8 => row
            .get::<_, Option<f64>>(i)
            .map(Value::from)
            .unwrap_or(Value::Null),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => row
            .get::<_, Option<String>>(i)
            .map(Value::from)
            .unwrap_or(Value::Null),
        other => anyhow::bail!(
            "column {} has a type heat-converge does not read: {other}",
            row.columns()[i].name()
        ),
    })
}

/// The values, each in the Rust type PostgreSQL expects for its placeholder.
fn params(p: &[Param], types: &[Type]) -> Result<Vec<Box<dyn ToSql + Sync>>> {
    p.iter()
        .zip(types)
        .map(|(x, ty)| -> Result<Box<dyn ToSql + Sync>> {
            Ok(match (x, ty) {
                (Param::Text(s), _) => Box::new(s.clone()),
                (Param::Int(i), &Type::INT4) => Box::new(i32::try_from(*i)?),
                (Param::Int(i), &Type::INT2) => Box::new(i16::try_from(*i)?),
                (Param::Int(i), &Type::BOOL) => Box::new(*i != 0),
                (Param::Int(i), _) => Box::new(*i),
                (Param::Null, &Type::INT4) => Box::new(Option::<i32>::None),
                (Param::Null, &Type::INT8) => Box::new(Option::<i64>::None),
                (Param::Null, &Type::BOOL) => Box::new(Option::<bool>::None),
                (Param::Null, _) => Box::new(Option::<String>::None),
            })
        })
        .collect()
}

impl Connection for Postgres {
    fn query_each(
        &mut self,
        sql: &str,
        p: &[Param],
        each: &mut dyn FnMut(Row) -> Result<()>,
    ) -> Result<()> {
        use postgres::fallible_iterator::FallibleIterator;
        super::log_statement(sql);
        let stmt = self.statement(sql)?;
        let owned = params(p, stmt.params())?;
        let columns: std::sync::Arc<[String]> = stmt
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        let mut rows = self
            .client
            .query_raw(
                &stmt,
                owned.iter().map(|b| b.as_ref() as &(dyn ToSql + Sync)),
            )
            .map_err(|e| plain(&e, ""))?;
        while let Some(r) = rows.next().map_err(|e| plain(&e, ""))? {
            let cells = (0..r.len()).map(|i| cell(&r, i)).collect::<Result<_>>()?;
            each(Row::new(columns.clone(), cells))?;
        }
        Ok(())
    }

    fn execute(&mut self, sql: &str, p: &[Param]) -> Result<u64> {
        super::log_statement(sql);
        let stmt = self.statement(sql)?;
        let owned = params(p, stmt.params())?;
        let refs: Vec<&(dyn ToSql + Sync)> = owned.iter().map(|b| b.as_ref()).collect();
        self.client.execute(&stmt, &refs).map_err(|e| plain(&e, ""))
    }

    fn begin(&mut self) -> Result<()> {
        self.client
            .batch_execute("BEGIN")
            .map_err(|e| plain(&e, ""))
    }

    fn begin_snapshot(&mut self) -> Result<()> {
        self.client
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .map_err(|e| plain(&e, ""))
    }

    fn commit(&mut self) -> Result<()> {
        self.client
            .batch_execute("COMMIT")
            .map_err(|e| plain(&e, ""))
    }

    fn rollback(&mut self) -> Result<()> {
        self.client
            .batch_execute("ROLLBACK")
            .map_err(|e| plain(&e, ""))
    }

    fn bound_lock_waits(&mut self, wait: Duration) -> Result<()> {
        // lock_timeout bounds every lock wait; statement_timeout is a backstop for a
        // statement stuck some other way (no statement of a run takes minutes).
        let ms = wait.as_millis().max(1);
        let backstop = (wait.as_millis() * 60).max(600_000);
        self.client
            .batch_execute(&format!(
                "SET lock_timeout = {ms}; SET statement_timeout = {backstop}"
            ))
            .map_err(|e| plain(&e, ""))
    }

    fn skip_locked(&self) -> Option<&'static str> {
        Some(" FOR UPDATE SKIP LOCKED")
    }

    fn lock_holders(&mut self, table: &str, ids: &[Param]) -> Result<Vec<String>> {
        let sql =
            include_str!("../../sql/row_lock_holders_postgresql.sql").replace("{table}", table);
        let b = super::named::ids(&sql, ids)?;
        let rows = self.query(&b.sql, &b.params)?;
        rows.iter()
            .map(|r| {
                Ok(format!(
                    "backend pid {} (user {}, application '{}', from {}, its transaction open since {})",
                    r.string("pid")?,
                    r.text("usename")?.unwrap_or_default(),
                    r.text("application")?.unwrap_or_default(),
                    r.string("client")?,
                    r.text("since")?.unwrap_or_default()
                ))
            })
            .collect()
    }
}

impl super::history::Migrations for Postgres {
    fn migrate(&mut self) -> Result<Vec<String>> {
        super::history::recover_interrupted_setup(self)?;
        // Grouped: every migration and its history row in one transaction (PostgreSQL's
        // DDL is transactional), so a run cut off leaves all or nothing.
        let mut runner =
            super::history::postgres_migrations::migrations::runner().set_grouped(true);
        runner.set_migration_table_name(super::history::SCHEMA_HISTORY_TABLE);
        let report = runner
            .run(&mut self.client)
            .map_err(|e| super::migration_error(e, |pg: &postgres::Error| plain(pg, "")))?;
        super::own_schema::check(self)?;
        Ok(super::history::applied(report))
    }
}

/// The run lock is a session-level advisory lock on this fixed key ("heatconv" in ASCII).
/// Advisory locks belong to one database, so runs on two databases never wait for each
/// other.
const RUN_LOCK_KEY: i64 = i64::from_be_bytes(*b"heatconv");

impl super::identity::Identify for Postgres {
    fn identity(&mut self) -> Result<super::identity::Identity> {
        super::identity::postgres(self)
    }
}

impl super::indexes::Indexes for Postgres {
    fn indexed(&mut self, table: &str, column: &str) -> Result<bool> {
        let sql = "SELECT COUNT(*) AS n FROM pg_index i \
                   JOIN pg_class t ON t.oid = i.indrelid \
                   JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0] \
                   WHERE t.relname = ? AND a.attname = ? AND t.relnamespace = to_regnamespace(current_schema())::oid";
        let n = super::count(
            self,
            sql,
            &[Param::Text(table.into()), Param::Text(column.into())],
        )?;
        Ok(n > 0)
    }

    fn drop_index(&mut self, _table: &str, name: &str) -> Result<()> {
        self.execute(&format!("DROP INDEX IF EXISTS {name}"), &[])?;
        Ok(())
    }

    fn without_statistics(&mut self, tables: &[&str]) -> Result<Vec<String>> {
        let names: Vec<Param> = tables.iter().map(|t| Param::Text(t.to_string())).collect();
        let b = super::named::ids(
            include_str!("../../sql/without_statistics_postgresql.sql"),
            &names,
        )?;
        self.query(&b.sql, &b.params)?
            .iter()
            .map(|r| r.string("name"))
            .collect()
    }

    fn analyze(&mut self, table: &str) -> Result<()> {
        self.execute(&format!("ANALYZE {table}"), &[])?;
        Ok(())
    }
}

impl super::RunLock for Postgres {
    fn try_lock_run(&mut self) -> Result<Option<super::RunLockHeld>> {
        let got: bool = self
            .client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&RUN_LOCK_KEY])?
            .get(0);
        Ok(got.then(super::RunLockHeld::session))
    }

    fn lock_run(&mut self) -> Result<super::RunLockHeld> {
        // Polled, not pg_advisory_lock: no server backend is left waiting for the lock if
        // this process dies, lock_timeout does not end the wait, a stop signal does.
        loop {
            if let Some(held) = self.try_lock_run()? {
                return Ok(held);
            }
            super::waiting_for_run_lock()?;
        }
    }

    fn run_lock_name(&mut self) -> Result<String> {
        let db: String = self
            .client
            .query_one("SELECT current_database()::text", &[])?
            .get(0);
        Ok(format!(
            "database {db} (advisory lock {RUN_LOCK_KEY}, see pg_locks)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls(opts: &str) -> Result<Tls> {
        tls_options(&DbUrl::parse(&format!("postgresql://heat:pw@db/heat?{opts}")).unwrap())
    }

    #[test]
    fn sslmode_as_libpq() {
        let f = "/etc/hostname";
        let t = tls("").unwrap();
        assert_eq!(t.mode, SslMode::Prefer);
        assert_eq!(tls("sslmode=disable").unwrap().mode, SslMode::Disable);
        assert_eq!(tls("sslmode=allow").unwrap().mode, SslMode::Prefer);
        let t = tls("sslmode=require").unwrap();
        assert_eq!(t.mode, SslMode::Require);
        let t = tls(&format!("sslmode=require&sslrootcert={f}")).unwrap();
        assert_eq!(
            (t.mode, t.verify),
            (SslMode::Require, Verify::Chain(f.into()))
        );
        let t = tls(&format!("sslmode=verify-ca&sslrootcert={f}")).unwrap();
        assert_eq!(
            (t.mode, t.verify),
            (SslMode::Require, Verify::Chain(f.into()))
        );
        let t = tls(&format!("sslmode=verify-full&sslrootcert={f}")).unwrap();
        assert_eq!(
            (t.mode, t.verify),
            (SslMode::Require, Verify::Full(f.into()))
        );
    }

    #[test]
    fn what_cannot_be_honoured_is_refused() {
        for (opts, named) in [
            ("sslmode=verify-everything", "sslmode=verify-everything"),
            (
                "sslmode=verify-full&sslrootcert=system",
                "sslrootcert=system",
            ),
            (
                "sslmode=verify-full&sslrootcert=/nonexistent",
                "sslrootcert=/nonexistent",
            ),
            ("sslpassword=x", "sslpassword"),
            ("sslcrl=/x", "sslcrl"),
            (
                "ssl_max_protocol_version=TLSv1.2",
                "ssl_max_protocol_version",
            ),
            ("ssl_min_protocol_version=SSLv3", "ssl_min_protocol_version"),
            ("sslcert=/etc/hostname", "sslcert"),
            ("sslsni=0", "sslsni"),
            ("ssl_ca=/etc/hostname", "ssl_ca"),
            ("connect_timeout=soon", "connect_timeout=soon"),
        ] {
            let url = DbUrl::parse(&format!("postgresql://heat:pw@db/heat?{opts}")).unwrap();
            let e = tls_options(&url)
                .and_then(|_| connect_timeout(&url).map(|_| ()))
                .err()
                .unwrap_or_else(|| panic!("{opts} accepted"))
                .to_string();
            assert!(e.contains(named), "{opts}: {e}");
        }
    }
}
