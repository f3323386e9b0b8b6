//! `read_default_file`, `read_default_group` and `init_command` in MySQL URLs, against
//! PyMySQL itself (the bed's virtualenv: the PyMySQL and SQLAlchemy Heat connects with).
//!
//! - `option_files_read_as_pymysql_reads_them`: for a set of option files and URLs, what
//!   PyMySQL's `Connection` holds once built (not connected: user, password, host, port,
//!   database, socket, bind address, charset, init command, TLS mode, CA and client
//!   certificate) equals what heat-converge resolves (`db::mysql_settings`), or both
//!   refuse; where heat-converge refuses on purpose (a missing file, TLS keys PyMySQL
//!   drops, `init-command` in a file, ...) the test says so and shows what PyMySQL did.
//! - `the_local_mariadb_with_the_password_only_in_the_file`: real connections to the
//!   local MariaDB (127.0.0.1:3306) by PyMySQL and by heat-converge, the password only in
//!   the file: same user, database, port and init-command result, the same failures; and
//!   `heat-converge status` on a Heat database of the test's own through such a URL.
//! - `ssl_ca_from_the_file_on_a_tls_mariadb`: a MariaDB of the test's own with TLS (the
//!   helpers of tests/tls.rs); users that may only log in over TLS prove the session is
//!   encrypted. A file's `ssl-ca` gives TLS with the chain and the host name checked, or
//!   a failure, never clear text (also against the same server restarted without TLS).
//!
//! Each test makes and drops its own databases (`rdf_*`). The passwords of the files all
//! hold `Sekrit`: no message of heat-converge may show it.

mod common;
mod servers;

use common::python_oracle;
use heat_converge::db::{self, url::DbUrl, TlsMode};
use serde_json::{json, Value};
use servers::{heat_createdb, status, Certs, MariaDb, Scratch};

/// What PyMySQL's Connection holds for each URL, built as SQLAlchemy builds it for Heat,
/// not connected; the TLS dict it was given is caught on its way to `_create_ssl_ctx`.
const SETTINGS_ORACLE: &str = r#"
import json, ssl, sys, warnings
warnings.simplefilter("ignore")
import sqlalchemy as sa
from pymysql.connections import Connection
seen = {}
original = Connection._create_ssl_ctx
def spy(self, sslp):
    seen["sslp"] = dict(sslp) if isinstance(sslp, dict) else {}
    return original(self, sslp)
Connection._create_ssl_ctx = spy
out = []
for url in json.load(sys.stdin):
    seen.clear()
    try:
        eng = sa.create_engine(url)
        _, kw = eng.dialect.create_connect_args(eng.url)
        c = Connection(defer_connect=True, **kw)
    except Exception as e:
        out.append({"error": type(e).__name__})
        continue
    sslp = seen.get("sslp") or {}
    on = bool(c.ssl)
    out.append({
        "user": c.user, "password": c.password.decode("latin1"), "host": c.host,
        "port": c.port, "database": c.db, "unix_socket": c.unix_socket,
        "bind_address": c.bind_address, "charset": c.charset,
        "init_command": c.init_command,
        "tls": [on, bool(c._ssl_required), on and c.ctx.verify_mode == ssl.CERT_REQUIRED,
                on and c.ctx.check_hostname],
        "ca": sslp.get("ca") if c._ssl_required else None,
        "cert": sslp.get("cert"),
        "key": sslp.get("key") or sslp.get("cert"),
    })
json.dump(out, sys.stdout)
"#;

/// Real connections by PyMySQL (as SQLAlchemy configures it): the session's user,
/// database, port, TLS cipher and `@rdf_init`, or the error's class and code.
const CONNECT_ORACLE: &str = r#"
import json, sys, warnings
warnings.simplefilter("ignore")
import sqlalchemy as sa
from pymysql.connections import Connection
SQL = sys.argv[1]
out = []
for url in json.load(sys.stdin):
    try:
        eng = sa.create_engine(url)
        _, kw = eng.dialect.create_connect_args(eng.url)
        c = Connection(**kw)
        cur = c.cursor()
        cur.execute(SQL)
        row = cur.fetchone()
        c.close()
        out.append({"row": [None if v is None else str(v) for v in row]})
    except Exception as e:
        code = e.args[0] if e.args and isinstance(e.args[0], int) else None
        out.append({"error": type(e).__name__, "code": code})
json.dump(out, sys.stdout)
"#;

/// What both sides read back from a session.
const SESSION_SQL: &str = "SELECT CURRENT_USER() AS u, DATABASE() AS d, @@port AS p, \
    (SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS \
     WHERE VARIABLE_NAME = 'Ssl_cipher') AS c, @rdf_init AS i";

const SECRET: &str = "Sekrit";

/// What a case must give.
enum Expect {
    /// The same settings as PyMySQL, or a refusal where PyMySQL fails too.
    Same,
    /// Refused by heat-converge, naming these words, whatever PyMySQL did.
    WeRefuse(&'static [&'static str]),
}

/// heat-converge's settings for a URL in the oracle's shape (the password apart), or
/// its refusal.
fn ours(url: &str) -> Result<(Value, db::MySqlSettings), String> {
    let u = DbUrl::parse(url).map_err(|e| format!("{e:#}"))?;
    let s = db::mysql_settings(&u).map_err(|e| format!("{e:#}"))?;
    let t = &s.tls;
    let v = json!({
        "user": s.user,
        "host": s.host,
        "port": s.port,
        "database": s.database,
        "unix_socket": s.unix_socket,
        "bind_address": s.bind_address.map(|a| a.to_string()),
        "charset": s.charset,
        "init_command": s.init_command,
        "tls": [
            t.mode != TlsMode::Off,
            t.mode == TlsMode::Required,
            t.mode == TlsMode::Required && t.verify_chain,
            t.mode == TlsMode::Required && t.verify_host,
        ],
        "ca": t.ca,
        "cert": t.cert,
        "key": t.key,
    });
    Ok((v, s))
}

/// One line about a side's outcome, for the test's output (never a password).
fn summary(v: &Value) -> String {
    if let Some(e) = v.get("error") {
        return format!("fails ({})", e.as_str().unwrap_or_default());
    }
    let tls = match v["tls"].as_array().map(|a| {
        a.iter()
            .map(|b| b.as_bool().unwrap_or(false))
            .collect::<Vec<_>>()
    }) {
        Some(t) if t == [false; 4] => "clear text",
        Some(t) if !t[1] => "TLS if offered",
        Some(t) if t[2] && t[3] => "TLS, chain+host checked",
        Some(t) if t[2] => "TLS, chain checked",
        _ => "TLS, unchecked",
    };
    format!(
        "{}@{}:{} db={} socket={} bind={} charset={} init={} {tls}{}",
        v["user"].as_str().unwrap_or_default(),
        v["host"].as_str().unwrap_or_default(),
        v["port"],
        v["database"].as_str().unwrap_or_default(),
        v["unix_socket"].as_str().unwrap_or("-"),
        v["bind_address"].as_str().unwrap_or("-"),
        v["charset"].as_str().unwrap_or_default(),
        if v["init_command"].is_null() {
            "-"
        } else {
            "yes"
        },
        match v["cert"].as_str() {
            Some(_) => " +client cert",
            None => "",
        },
    )
}

fn write(dir: &Scratch, name: &str, text: &str) -> String {
    let path = dir.path(name);
    std::fs::write(&path, text).expect("write an option file");
    path
}

#[test]
fn option_files_read_as_pymysql_reads_them() {
    let dir = Scratch::new("rdf-settings");
    let certs = Certs::make(&dir);
    let (ca, other_ca) = (&certs.ca, &certs.other_ca);
    let (cert, key) = (&certs.client_cert, &certs.client_key);
    let f = |name: &str, text: &str| write(&dir, name, text);
    let client_pw = f("client-pw.cnf", "[client]\npassword = FilePw-Sekrit-1\n");
    let everything = f(
        "everything.cnf",
        "# a comment\n[client]\nuser = fileuser\npassword = \"Quoted Sekrit\"\n\
         host = filehost\ndatabase = filedb\nport = 3307\nsocket = /run/rdf.sock\n\
         default-character-set = latin1\n",
    );
    let tripleo = f(
        "tripleo.cnf",
        "[client]\npassword = ClientPw-Sekrit\nport = 3307\n\
         [tripleo]\nbind-address = 127.0.0.1\npassword = TripleoPw-Sekrit\n",
    );
    let tripleo_tls = f(
        "tripleo-tls.cnf",
        &format!(
            "[tripleo]\nbind-address = 127.0.0.1\nssl = 1\nssl-ca = {ca}\n\
             password = Tls-Sekrit\n"
        ),
    );
    let defaults = f(
        "defaults.cnf",
        "[DEFAULT]\nport = 3310\nuser = defuser\n[client]\nuser = clientuser\n",
    );
    let dialect = f(
        "dialect.cnf",
        &format!(
            "[client]\nPASSWORD : a#b ; c Sekrit\nSSL_CA = '{ca}'\n!includedir /etc/my.cnf.d\n\
             skip-ssl\nconnect-timeout = 3\nprotocol = tcp\n  \n"
        ),
    );
    let cert_file = f(
        "cert.cnf",
        &format!("[client]\nssl-cert = {cert}\nssl-key = {key}\n"),
    );
    // A client certificate with its key in the same file (PyMySQL's load_cert_chain).
    let combined = dir.path("combined.pem");
    let pem = [cert, key].map(|p| std::fs::read_to_string(p).expect("read a PEM file"));
    std::fs::write(&combined, pem.concat()).expect("write combined.pem");
    let cert_only = f(
        "cert-only.cnf",
        &format!("[client]\nssl-cert = {combined}\n"),
    );
    let verify_identity = f(
        "verify-identity.cnf",
        &format!("[client]\nssl-mode = VERIFY_IDENTITY\nssl-ca = {ca}\n"),
    );
    let port_zero = f("port-zero.cnf", "[client]\nport = 0\n");
    let charset = f("charset.cnf", "[client]\ndefault-character-set = utf8\n");
    let duplicate = f(
        "duplicate.cnf",
        "[client]\npassword = A-Sekrit\npassword = B-Sekrit\n",
    );
    let bad_port = f("bad-port.cnf", "[client]\nport = 33o6\n");
    let empty_port = f("empty-port.cnf", "[client]\nport =\n");
    let no_header = f("no-header.cnf", "password = Sekrit\n[client]\n");
    let no_key = f("no-key.cnf", "[client]\n= Sekrit\n");
    let not_utf8 = dir.path("latin1.cnf");
    std::fs::write(&not_utf8, b"[client]\npassword = caf\xe9-Sekrit\n").unwrap();
    let ssl_only = f("ssl-only.cnf", "[tripleo]\nssl = 1\npassword = S-Sekrit\n");
    let verify_no_ca = f(
        "verify-no-ca.cnf",
        &format!("[client]\nssl-verify-server-cert\nssl-cert = {cert}\nssl-key = {key}\n"),
    );
    let init_in_file = f(
        "init.cnf",
        "[client]\ninit-command = SET @rdf_init='file'\n",
    );
    let crl = f(
        "crl.cnf",
        &format!("[client]\nssl-ca = {ca}\nssl-crl = {ca}\n"),
    );
    let loose_ca = f("loose.cnf", &format!("[client]\nloose-ssl-ca = {ca}\n"));
    let capath = f("capath.cnf", "[client]\nssl-capath = /etc/ssl/certs\n");
    let key_password = f(
        "key-password.cnf",
        &format!("[client]\nssl-cert = {cert}\nssl-key = {key}\nssl-password = Key-Sekrit\n"),
    );
    let socket_tls = f(
        "socket-tls.cnf",
        &format!("[client]\nsocket = /run/rdf.sock\nssl-ca = {ca}\n"),
    );
    let bind_name = f("bind-name.cnf", "[client]\nbind-address = localhost\n");
    let missing = dir.path("no-such.cnf");
    let a_directory = dir.path("");

    let m = "mysql+pymysql://";
    let cases: Vec<(&str, String, Expect)> = vec![
        (
            "password only in the file",
            format!("{m}heat@db.example/heat?read_default_file={client_pw}"),
            Expect::Same,
        ),
        (
            "no user in the URL or the file: the login name",
            format!("{m}db.example/heat?read_default_file={client_pw}"),
            Expect::Same,
        ),
        (
            "the URL's password wins",
            format!("{m}heat:UrlPw@db.example/heat?read_default_file={client_pw}"),
            Expect::Same,
        ),
        (
            "user, host, port, socket, database, charset from the file",
            format!("{m}/?read_default_file={everything}"),
            Expect::Same,
        ),
        (
            "the URL's host, port and database win",
            format!("{m}heat@db.example:3308/heat?read_default_file={everything}"),
            Expect::Same,
        ),
        (
            "the named group only, not [client] first",
            format!("{m}heat@db.example/heat?read_default_file={tripleo}&read_default_group=tripleo"),
            Expect::Same,
        ),
        (
            "[client] when no group is named",
            format!("{m}heat@db.example/heat?read_default_file={tripleo}"),
            Expect::Same,
        ),
        (
            "a group the file does not have: nothing taken",
            format!("{m}heat@db.example/heat?read_default_file={tripleo}&read_default_group=nosuch"),
            Expect::Same,
        ),
        (
            "[DEFAULT] feeds the group",
            format!("{m}db.example/heat?read_default_file={defaults}"),
            Expect::Same,
        ),
        (
            "configparser's dialect: ':' , '#' in values, quotes, key case, _ for -",
            format!("{m}heat@localhost/heat?read_default_file={dialect}"),
            Expect::Same,
        ),
        (
            "TripleO: ssl and ssl-ca in [tripleo]",
            format!("{m}heat@db.example/heat?read_default_file={tripleo_tls}&read_default_group=tripleo"),
            Expect::Same,
        ),
        (
            "the file's ssl-ca with the URL's ssl_verify_cert=false",
            format!("{m}heat@db.example/heat?read_default_file={tripleo_tls}&read_default_group=tripleo&ssl_verify_cert=false"),
            Expect::Same,
        ),
        (
            "the URL's ssl_ca wins over the file's",
            format!("{m}heat@db.example/heat?read_default_file={tripleo_tls}&read_default_group=tripleo&ssl_ca={other_ca}"),
            Expect::Same,
        ),
        (
            "the URL's ssl_disabled=true against the file's ssl-ca",
            format!("{m}heat@db.example/heat?read_default_file={tripleo_tls}&read_default_group=tripleo&ssl_disabled=true"),
            Expect::WeRefuse(&["ssl_disabled=true contradicts", "ssl-ca="]),
        ),
        (
            "client certificate and key from the file",
            format!("{m}heat@db.example/heat?read_default_file={cert_file}"),
            Expect::Same,
        ),
        (
            "client certificate holding its key",
            format!("{m}heat@db.example/heat?read_default_file={cert_only}"),
            Expect::Same,
        ),
        (
            "ssl-mode=VERIFY_IDENTITY met by the file's ssl-ca",
            format!("{m}heat@db.example/heat?read_default_file={verify_identity}"),
            Expect::Same,
        ),
        (
            "the URL's port 0 counts as none; the file's 0 is 3306",
            format!("{m}heat@db.example:0/heat?read_default_file={port_zero}"),
            Expect::Same,
        ),
        (
            "the URL's charset wins over default-character-set",
            format!("{m}heat@db.example/heat?charset=latin1&read_default_file={charset}"),
            Expect::Same,
        ),
        (
            "init_command in the URL",
            format!("{m}heat@db.example/heat?init_command=SET %40rdf_init%3D'url'&read_default_file={client_pw}"),
            Expect::Same,
        ),
        (
            "a key twice: configparser refuses the file",
            format!("{m}heat@db.example/heat?read_default_file={duplicate}"),
            Expect::Same,
        ),
        (
            "a port that is not a number",
            format!("{m}heat@db.example/heat?read_default_file={bad_port}"),
            Expect::Same,
        ),
        (
            "an empty port",
            format!("{m}heat@db.example/heat?read_default_file={empty_port}"),
            Expect::Same,
        ),
        (
            "a key before any group",
            format!("{m}heat@db.example/heat?read_default_file={no_header}"),
            Expect::Same,
        ),
        (
            "a line without a key name",
            format!("{m}heat@db.example/heat?read_default_file={no_key}"),
            Expect::Same,
        ),
        (
            "a file that is not UTF-8",
            format!("{m}heat@db.example/heat?read_default_file={not_utf8}"),
            Expect::Same,
        ),
        (
            "a missing file (PyMySQL silently goes on without it)",
            format!("{m}heat@db.example/heat?read_default_file={missing}"),
            Expect::WeRefuse(&["no-such.cnf", "no such file"]),
        ),
        (
            "a directory (PyMySQL silently goes on without it)",
            format!("{m}heat@db.example/heat?read_default_file={a_directory}"),
            Expect::WeRefuse(&["cannot be read"]),
        ),
        (
            "ssl = 1 without a CA (PyMySQL: TLS only if offered)",
            format!("{m}heat@db.example/heat?read_default_file={ssl_only}&read_default_group=tripleo"),
            Expect::WeRefuse(&["ssl in the MySQL option file", "asks for TLS", "[tripleo]"]),
        ),
        (
            "ssl-verify-server-cert without a CA (PyMySQL checks nothing)",
            format!("{m}heat@db.example/heat?read_default_file={verify_no_ca}"),
            Expect::WeRefuse(&["ssl-verify-server-cert", "certificate checked"]),
        ),
        (
            "init-command in the file (PyMySQL ignores it)",
            format!("{m}heat@db.example/heat?read_default_file={init_in_file}"),
            Expect::WeRefuse(&["init-command", "does not run"]),
        ),
        (
            "ssl-crl (PyMySQL ignores it)",
            format!("{m}heat@db.example/heat?read_default_file={crl}"),
            Expect::WeRefuse(&["ssl-crl"]),
        ),
        (
            "loose-ssl-ca (PyMySQL ignores it)",
            format!("{m}heat@db.example/heat?read_default_file={loose_ca}"),
            Expect::WeRefuse(&["loose-ssl-ca"]),
        ),
        (
            "ssl-capath (as the URL's ssl_capath)",
            format!("{m}heat@db.example/heat?read_default_file={capath}"),
            Expect::WeRefuse(&["ssl-capath=/etc/ssl/certs", "ssl_capath"]),
        ),
        (
            "ssl-password (as the URL's ssl_key_password)",
            format!("{m}heat@db.example/heat?read_default_file={key_password}"),
            Expect::WeRefuse(&["ssl-password=***"]),
        ),
        (
            "socket with ssl-ca (PyMySQL: TLS over the socket)",
            format!("{m}heat@db.example/heat?read_default_file={socket_tls}"),
            Expect::WeRefuse(&["socket=/run/rdf.sock", "local socket"]),
        ),
        (
            "a host name as bind-address",
            format!("{m}heat@db.example/heat?read_default_file={bind_name}"),
            Expect::WeRefuse(&["bind-address=localhost", "IP address"]),
        ),
        (
            "two statements in init_command (PyMySQL's server refuses them at connect)",
            format!("{m}heat@db.example/heat?init_command=SET %40a%3D1; SET %40b%3D2"),
            Expect::WeRefuse(&["init_command holds more than one statement"]),
        ),
        (
            "read_default_file given twice",
            format!("{m}heat@db.example/heat?read_default_file={client_pw}&read_default_file={tripleo}"),
            Expect::Same,
        ),
    ];
    let urls: Vec<&str> = cases.iter().map(|(_, u, _)| u.as_str()).collect();
    let theirs = python_oracle(SETTINGS_ORACLE, &[], &json!(urls));
    let theirs = theirs.as_array().expect("a list");
    assert_eq!(theirs.len(), cases.len());
    let mut wrong = Vec::new();
    for ((name, url, expect), py) in cases.iter().zip(theirs) {
        let us = ours(url);
        let shown = match &us {
            Ok((v, _)) => summary(v),
            Err(e) => format!("refuses: {e}"),
        };
        println!(
            "{name}\n  PyMySQL:       {}\n  heat-converge: {shown}",
            summary(py)
        );
        // Secrecy: no refusal and no Debug of the settings shows a password of a file.
        let text = match &us {
            Ok((_, s)) => format!("{s:?}"),
            Err(e) => e.clone(),
        };
        if text.contains(SECRET) {
            wrong.push(format!("{name}: a file's password is shown: {text}"));
        }
        let py_failed = py.get("error").is_some();
        match (expect, &us) {
            (Expect::Same, Err(e)) if !py_failed => {
                wrong.push(format!("{name}: PyMySQL accepts, we refuse: {e}"))
            }
            (Expect::Same, Err(_)) => {}
            (Expect::Same, Ok(_)) if py_failed => {
                wrong.push(format!("{name}: PyMySQL fails, we accept"))
            }
            (Expect::Same, Ok((v, s))) => {
                let mut py = py.clone();
                let password = py
                    .as_object_mut()
                    .and_then(|o| o.remove("password"))
                    .unwrap_or_default();
                if *v != py {
                    wrong.push(format!("{name}:\n  PyMySQL: {py}\n  ours:    {v}"));
                }
                if !s.password_is(password.as_str().unwrap_or_default()) {
                    wrong.push(format!("{name}: the password differs from PyMySQL's"));
                }
            }
            (Expect::WeRefuse(words), Ok(_)) => wrong.push(format!(
                "{name}: accepted, should be refused naming {words:?}"
            )),
            (Expect::WeRefuse(words), Err(e)) => {
                for w in *words {
                    if !e.contains(w) {
                        wrong.push(format!("{name}: the refusal lacks {w:?}: {e}"));
                    }
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A database of the test's own on a MariaDB, dropped on drop.
struct TempDb {
    admin: String,
    name: String,
}

impl TempDb {
    /// `admin` is a URL that may create and drop databases; `create` makes the database
    /// now (else someone else makes it, e.g. Heat's db_sync).
    fn new(admin: &str, what: &str, create: bool) -> TempDb {
        let db = TempDb {
            admin: admin.to_string(),
            name: format!("rdf_{}_{what}", std::process::id()),
        };
        db.exec(&format!("DROP DATABASE IF EXISTS {}", db.name));
        if create {
            db.exec(&format!("CREATE DATABASE {}", db.name));
        }
        db
    }

    fn exec(&self, sql: &str) {
        let url = DbUrl::parse(&self.admin).expect("the admin URL");
        let mut conn = db::connect(&url).expect("connect as admin");
        conn.conn().execute(sql, &[]).expect(sql);
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        if let Ok(url) = DbUrl::parse(&self.admin) {
            if let Ok(mut conn) = db::connect(&url) {
                let _ = conn
                    .conn()
                    .execute(&format!("DROP DATABASE IF EXISTS {}", self.name), &[]);
            }
        }
    }
}

/// heat-converge's session: the same columns as the Python oracle, or its error.
fn our_session(url: &str) -> Result<Vec<Option<String>>, String> {
    let u = DbUrl::parse(url).map_err(|e| format!("{e:#}"))?;
    let mut conn = db::connect(&u).map_err(|e| format!("{e:#}"))?;
    let rows = conn
        .conn()
        .query(SESSION_SQL, &[])
        .map_err(|e| format!("{e:#}"))?;
    let row = rows.first().ok_or("no row")?;
    Ok(encrypted_or_not(
        ["u", "d", "p", "c", "i"]
            .iter()
            .map(|c| match row.get(c) {
                Ok(Value::Null) | Err(_) => None,
                Ok(Value::String(s)) => Some(s.clone()),
                Ok(v) => Some(v.to_string()),
            })
            .collect(),
    ))
}

/// The cipher column as `TLS` or empty: rustls and OpenSSL may agree on different
/// ciphers; what is compared is whether the session is encrypted.
fn encrypted_or_not(mut row: Vec<Option<String>>) -> Vec<Option<String>> {
    if let Some(c) = row.get_mut(3) {
        *c = Some(if c.as_deref().unwrap_or("").is_empty() {
            String::new()
        } else {
            "TLS".to_string()
        });
    }
    row
}

/// What a real connection must give, on both sides.
enum Session {
    /// Both connect; the same row.
    Same,
    /// Both fail; ours names these words.
    BothFail(&'static [&'static str]),
    /// PyMySQL connects (or fails later), heat-converge refuses naming these words.
    WeRefuse(&'static [&'static str]),
}

/// Connects with each URL on both sides and checks the expectations; prints a line per
/// case. `encrypted`: a session that connects must be TLS (its cipher is not empty).
fn compare_sessions(cases: &[(&str, String, Session)], encrypted: bool) {
    let urls: Vec<&str> = cases.iter().map(|(_, u, _)| u.as_str()).collect();
    let theirs = python_oracle(CONNECT_ORACLE, &[SESSION_SQL], &json!(urls));
    let theirs = theirs.as_array().expect("a list");
    let mut wrong = Vec::new();
    for ((name, url, expect), py) in cases.iter().zip(theirs) {
        let us = our_session(url);
        let py_row: Option<Vec<Option<String>>> = py
            .get("row")
            .map(|r| encrypted_or_not(serde_json::from_value(r.clone()).expect("a row")));
        let show = |r: &Vec<Option<String>>| {
            format!(
                "user {} db {} port {} cipher {} init {}",
                r[0].as_deref().unwrap_or("-"),
                r[1].as_deref().unwrap_or("-"),
                r[2].as_deref().unwrap_or("-"),
                r[3].as_deref().filter(|c| !c.is_empty()).unwrap_or("none"),
                r[4].as_deref().unwrap_or("-"),
            )
        };
        println!(
            "{name}\n  PyMySQL:       {}\n  heat-converge: {}",
            match &py_row {
                Some(r) => show(r),
                None => format!("fails: {} {}", py["error"], py["code"]),
            },
            match &us {
                Ok(r) => show(r),
                Err(e) => format!("fails: {e}"),
            }
        );
        if let Err(e) = &us {
            if e.contains(SECRET) {
                wrong.push(format!("{name}: the password is shown: {e}"));
            }
        }
        if let Ok(r) = &us {
            if encrypted && r[3].as_deref().unwrap_or("").is_empty() {
                wrong.push(format!("{name}: connected in clear text"));
            }
        }
        match (expect, &us, &py_row) {
            (Session::Same, Ok(r), Some(p)) if r == p => {}
            (Session::Same, _, _) => wrong.push(format!("{name}: sessions differ")),
            (Session::BothFail(words), Err(e), None) => {
                for w in *words {
                    if !e.contains(w) {
                        wrong.push(format!("{name}: our failure lacks {w:?}: {e}"));
                    }
                }
            }
            (Session::BothFail(_), _, _) => wrong.push(format!("{name}: not both failed")),
            (Session::WeRefuse(words), Err(e), _) => {
                for w in *words {
                    if !e.contains(w) {
                        wrong.push(format!("{name}: our refusal lacks {w:?}: {e}"));
                    }
                }
            }
            (Session::WeRefuse(_), Ok(_), _) => wrong.push(format!("{name}: not refused")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The local MariaDB of the bed (tests/bed/setup.sh): heatconv/heatconv over TCP.
const LOCAL_ADMIN: &str = "mysql+pymysql://heatconv:heatconv@127.0.0.1:3306/information_schema";

#[test]
fn the_local_mariadb_with_the_password_only_in_the_file() {
    let dir = Scratch::new("rdf-local");
    let db = TempDb::new(LOCAL_ADMIN, "conn", true);
    let name = &db.name;
    let f = |file: &str, text: &str| write(&dir, file, text);
    let client = f(
        "client.cnf",
        "[client]\nuser = heatconv\npassword = heatconv\nport = 3306\n",
    );
    let groups = f(
        "groups.cnf",
        "[client]\npassword = Wrong-Sekrit\n[heat]\npassword = heatconv\n\
         bind-address = 127.0.0.1\n",
    );
    let wrong = f("wrong.cnf", "[client]\npassword = Wrong-Sekrit\n");
    let m = "mysql+pymysql://";
    let cases = vec![
        (
            "user, password and port only in [client]",
            format!("{m}127.0.0.1/{name}?read_default_file={client}"),
            Session::Same,
        ),
        (
            "the same URL without the file: no password",
            format!("{m}heatconv@127.0.0.1/{name}"),
            Session::BothFail(&["1045", "check the user and password"]),
        ),
        (
            "the named group [heat], not [client] (with bind-address)",
            format!("{m}heatconv@127.0.0.1/{name}?read_default_file={groups}&read_default_group=heat"),
            Session::Same,
        ),
        (
            "[client] of the same file: its wrong password",
            format!("{m}heatconv@127.0.0.1/{name}?read_default_file={groups}"),
            Session::BothFail(&["1045", "password from the MySQL option file", "[client]"]),
        ),
        (
            "a wrong password in the file, the URL's wins",
            format!("{m}heatconv:heatconv@127.0.0.1/{name}?read_default_file={wrong}"),
            Session::Same,
        ),
        (
            "init_command in the URL, password from the file",
            format!("{m}127.0.0.1/{name}?read_default_file={client}&init_command=SET %40rdf_init %3D 'from-url';"),
            Session::Same,
        ),
        (
            "an init_command the server refuses",
            format!("{m}127.0.0.1/{name}?read_default_file={client}&init_command=SET %40%40rdf_no_such_variable %3D 1"),
            Session::BothFail(&["init_command (from the URL) failed", "1193"]),
        ),
        (
            "two statements in init_command",
            format!("{m}127.0.0.1/{name}?read_default_file={client}&init_command=SET %40a%3D1; SET %40b%3D2"),
            Session::WeRefuse(&["more than one statement"]),
        ),
        (
            "a missing file",
            format!("{m}heatconv@127.0.0.1/{name}?read_default_file={}", dir.path("gone.cnf")),
            Session::WeRefuse(&["gone.cnf", "no such file"]),
        ),
    ];
    compare_sessions(&cases, false);

    // The whole tool through such a URL: `status` on a Heat database (Heat's db_sync).
    let heat = TempDb::new(LOCAL_ADMIN, "cli", false);
    heat_createdb(&format!(
        "mysql+pymysql://heatconv:heatconv@127.0.0.1:3306/{}?charset=utf8",
        heat.name
    ));
    let url = format!(
        "{m}127.0.0.1/{}?charset=utf8&read_default_file={client}",
        heat.name
    );
    let (code, err) = status(&url);
    println!("heat-converge status, password from the file: exit {code} {err}");
    assert_eq!(code, 0, "{err}");
    std::fs::remove_file(&client).expect("remove the file");
    let (code, err) = status(&url);
    println!("the same, the file gone: exit {code}: {}", err.trim());
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("client.cnf") && err.contains("no such file"),
        "{err}"
    );
}

#[test]
fn ssl_ca_from_the_file_on_a_tls_mariadb() {
    let dir = Scratch::new("rdf-tls");
    let certs = Certs::make(&dir);
    let mut server = MariaDb::init(&dir);
    server.start(Some(&certs));
    let pw = "Tls-Sekrit-77";
    server.sql(&format!(
        "CREATE USER 'heattls'@'%' IDENTIFIED BY '{pw}' REQUIRE SSL;
         GRANT ALL ON *.* TO 'heattls'@'%';
         CREATE USER 'heatcert'@'%' IDENTIFIED BY '{pw}' REQUIRE X509;
         GRANT ALL ON *.* TO 'heatcert'@'%';
         CREATE USER 'heatplain'@'%' IDENTIFIED BY '{pw}';
         GRANT ALL ON *.* TO 'heatplain'@'%';"
    ));
    let port = server.port;
    let db = TempDb::new(
        &format!(
            "mysql+pymysql://root@localhost/information_schema?unix_socket={}",
            server.socket
        ),
        "tls",
        true,
    );
    let name = &db.name;
    let f = |file: &str, text: &str| write(&dir, file, text);
    // TripleO's shape: [tripleo] with ssl and ssl-ca; the password only here.
    let tripleo = f(
        "tripleo.cnf",
        &format!(
            "[tripleo]\nssl = 1\nssl-ca = {}\npassword = {pw}\n",
            certs.ca
        ),
    );
    let foreign = f(
        "foreign.cnf",
        &format!("[tripleo]\nssl-ca = {}\npassword = {pw}\n", certs.other_ca),
    );
    let ssl_only = f(
        "ssl-only.cnf",
        &format!("[tripleo]\nssl = 1\npassword = {pw}\n"),
    );
    let client_cert = f(
        "client-cert.cnf",
        &format!(
            "[tripleo]\nssl-ca = {}\nssl-cert = {}\nssl-key = {}\npassword = {pw}\n",
            certs.ca, certs.client_cert, certs.client_key
        ),
    );
    let m = "mysql+pymysql://";
    let group = "read_default_group=tripleo";
    let url = |user: &str, host: &str, file: &str, more: &str| {
        format!("{m}{user}@{host}:{port}/{name}?read_default_file={file}&{group}{more}")
    };
    let cases = vec![
        (
            "ssl-ca from the file, the certificate's host name",
            url("heattls", "localhost", &tripleo, ""),
            Session::Same,
        ),
        (
            "ssl-ca from the file, a host the certificate does not name",
            url("heattls", "127.0.0.1", &tripleo, ""),
            Session::BothFail(&["TLS", "password from the MySQL option file"]),
        ),
        (
            "the file's CA did not sign the server's certificate",
            url("heattls", "localhost", &foreign, ""),
            Session::BothFail(&["TLS"]),
        ),
        (
            "the file's ssl-ca, the URL's ssl_verify_cert=false",
            url("heattls", "127.0.0.1", &tripleo, "&ssl_verify_cert=false"),
            Session::Same,
        ),
        (
            "client certificate from the file (REQUIRE X509)",
            url("heatcert", "localhost", &client_cert, ""),
            Session::Same,
        ),
        (
            "no client certificate for a REQUIRE X509 user",
            url("heatcert", "localhost", &tripleo, ""),
            Session::BothFail(&["1045"]),
        ),
        (
            "ssl = 1 without a CA (PyMySQL: TLS only when offered)",
            url("heattls", "localhost", &ssl_only, ""),
            Session::WeRefuse(&["ssl in the MySQL option file", "asks for TLS"]),
        ),
    ];
    compare_sessions(&cases, true);

    // The same server without TLS: the file's ssl-ca fails on both sides, never clear
    // text (heatplain could log in in clear text).
    server.stop();
    server.start(None);
    let plain = vec![
        (
            "no TLS on the server, ssl-ca in the file",
            url("heatplain", "localhost", &tripleo, ""),
            Session::BothFail(&["does not offer TLS"]),
        ),
        (
            "no TLS on the server, the same user without the file's TLS keys",
            format!("{m}heatplain:{pw}@localhost:{port}/{name}"),
            Session::Same,
        ),
    ];
    compare_sessions(&plain, false);
}
