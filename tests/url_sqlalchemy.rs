//! Our reading of `[database] connection` against SQLAlchemy's own `make_url`, in the
//! bed's virtualenv (target/heat-venv, or $HEAT_VENV).
//!
//! A deterministic generator makes a few thousand URLs, with nasty characters in every part
//! (`/ ? : @ # % + & =` spaces, percent escapes good and bad, Unicode, IPv6, empty and
//! missing parts, repeated query keys) plus fully random strings. One Python process reads
//! them all (JSON on stdin, JSON on stdout). Every URL must give the same drivername,
//! username, password, host, port, database and query as SQLAlchemy, or be refused by both.
//!
//! Then the secrecy check, on every URL: no error of `DbUrl::parse`, and nothing `Display`
//! or `Debug` shows of an accepted URL, may contain a piece (3 characters or more) of the
//! password, as written or as SQLAlchemy unquotes it. Pieces made only of ASCII punctuation,
//! digits and spaces (`://`, `%40`) are URL syntax our help texts may show, so they are
//! not looked for; every password has letters, drawn from characters (Q, Z, X, J and
//! non-ASCII ones) that no other part of a generated URL uses and no message of ours
//! contains, so a piece found is a leak.

mod common;

use common::{python_oracle, Rng};
use serde_json::{json, Value};

use heat_converge::db::url::{DbUrl, SqlAlchemyUrl};

/// SQLAlchemy's reading of each URL: its fields, or the error's class name.
const ORACLE: &str = r#"
import json, sys
from sqlalchemy.engine.url import make_url
out = []
for text in json.load(sys.stdin):
    try:
        u = make_url(text)
    except Exception as e:
        out.append({"error": type(e).__name__})
        continue
    out.append({
        "drivername": u.drivername,
        "username": u.username,
        "password": u.password,
        "host": u.host,
        "port": None if u.port is None else str(u.port),
        "database": u.database,
        "query": [[k, [v] if isinstance(v, str) else list(v)] for k, v in u.query.items()],
    })
json.dump(out, sys.stdout, ensure_ascii=False)
"#;

fn sqlalchemy(urls: &[String]) -> Vec<Value> {
    let v: Vec<Value> = serde_json::from_value(python_oracle(ORACLE, &[], &json!(urls))).unwrap();
    assert_eq!(v.len(), urls.len());
    v
}

/// Characters of every part but the password.
const COMMON: &[&str] = &[
    "a",
    "b",
    "h",
    "e",
    "t",
    "m",
    "y",
    "s",
    "q",
    "l",
    "7",
    "0",
    "3",
    "_",
    "-",
    ".",
    "/",
    "?",
    ":",
    "@",
    "#",
    "%",
    "+",
    " ",
    "&",
    "=",
    "[",
    "]",
    "~",
    "$",
    "!",
    ";",
    ",",
    "'",
    "\\",
    "\t",
    "%20",
    "%2F",
    "%3A",
    "%40",
    "%3F",
    "%25",
    "%C3%BC",
    "%E2%82%AC",
    "%ZZ",
    "%4",
    "%F0%9F",
    "%FF",
    "%C3",
    "ü",
    "ß",
    "中",
    "🙂",
    "٧",
    "\u{a0}",
    "\u{3000}",
    "\u{301}",
];
/// The password's own letters, found nowhere else.
const SECRET_LETTERS: &[&str] = &["Q", "Z", "X", "J", "é", "ж", "Ω", "日", "😀", "ॿ"];
/// What a password may hold besides its letters. Its escapes are lowercase, the other
/// parts' uppercase: a piece with a hex letter in it is looked for too.
const SECRET_OTHER: &[&str] = &[
    "/", "?", ":", "@", "#", "%", "+", " ", "&", "=", "[", "]", "~", "$", "!", ";", "1", "9", "0",
    "%40", "%2f", "%3a", "%c3%a9", "%zz", "%4", "%e2%82", "%25", "\t",
];

fn password(rng: &mut Rng) -> String {
    let mut s = String::new();
    let n = 1 + rng.below(10);
    for i in 0..n {
        if i % 2 == 0 || rng.chance(40) {
            s.push_str(rng.pick(SECRET_LETTERS));
        } else {
            s.push_str(rng.pick(SECRET_OTHER));
        }
    }
    s
}

const SCHEMES: &[&str] = &[
    "mysql",
    "mysql+pymysql",
    "mariadb+pymysql",
    "postgresql",
    "postgresql+psycopg2",
    "postgres",
    "sqlite",
    "sqlite+pysqlite",
    "oracle",
    "my_sql",
    "MySQL",
    "mysql+",
    "+",
    "mysqlü",
    "mysql٣",
    "my-sql",
    "",
    "my sql",
];
const HOSTS: &[&str] = &[
    "db",
    "db.example.com",
    "127.0.0.1",
    "[::1]",
    "[fe80::1%25eth0]",
    "[::1",
    "::1",
    "[]",
    "[a]b]",
    "localhost",
    "hüst",
    "h%40st",
];
const PORTS: &[&str] = &[
    "3306",
    "0",
    "65535",
    "65536",
    "99999999999",
    " 33 ",
    "٣٣",
    "1_0",
    "-1",
    "+5",
    "",
    "abc",
    "0x10",
    "3306 ",
    "00080",
    "1__0",
];
const DATABASES: &[&str] = &[
    "heat",
    "",
    "/var/lib/heat.db",
    "rel/heat.db",
    ":memory:",
    "he%20at",
    "heat db",
    "heat#1",
    "heat@x",
];
const QUERY_KEYS: &[&str] = &[
    "charset",
    "unix_socket",
    "a",
    "a",
    "",
    "k+ey",
    "k%26y",
    "ü",
    "uri",
];

fn url(rng: &mut Rng) -> (String, Option<String>) {
    if rng.chance(5) {
        // Anything at all.
        let mut s = rng.string(COMMON, 30);
        if rng.chance(50) {
            s = format!("{}://{s}", rng.pick(SCHEMES));
        }
        return (s, None);
    }
    let mut s = String::new();
    s.push_str(rng.pick(SCHEMES));
    s.push_str(match rng.below(20) {
        0 => ":/",
        1 => ":///",
        2 => "",
        _ => "://",
    });
    let mut secret = None;
    match rng.below(8) {
        0 | 1 => {}
        2 => {
            s.push_str(&rng.string(COMMON, 6));
            s.push('@');
        }
        3 => s.push('@'),
        _ => {
            let user = if rng.chance(80) {
                rng.pick(&["heat", "heat_user", "h.e-at", "", "héat"])
                    .to_string()
            } else {
                rng.string(COMMON, 6)
            };
            let pw = password(rng);
            s.push_str(&format!("{user}:{pw}@"));
            secret = Some(pw);
        }
    }
    match rng.below(6) {
        0 => {}
        1 => s.push_str(&rng.string(COMMON, 6)),
        _ => s.push_str(rng.pick(HOSTS)),
    }
    if rng.chance(35) {
        s.push(':');
        s.push_str(&if rng.chance(80) {
            rng.pick(PORTS).to_string()
        } else {
            rng.string(COMMON, 4)
        });
    }
    match rng.below(8) {
        0 => {}
        1 => s.push('/'),
        2 => s.push_str(&format!("/{}", rng.string(COMMON, 8))),
        _ => s.push_str(&format!("/{}", rng.pick(DATABASES))),
    }
    match rng.below(4) {
        0 | 1 => {}
        2 => s.push_str(&format!("?{}", rng.string(COMMON, 10))),
        _ => {
            let n = rng.below(5);
            let pairs: Vec<String> = (0..n)
                .map(|_| match rng.below(6) {
                    0 => rng.pick(QUERY_KEYS).to_string(),
                    1 => format!("{}=", rng.pick(QUERY_KEYS)),
                    _ => format!("{}={}", rng.pick(QUERY_KEYS), rng.string(COMMON, 4)),
                })
                .collect();
            s.push_str(&format!("?{}", pairs.join("&")));
        }
    }
    if rng.chance(2) {
        s.push_str(&format!("\n{}", rng.string(COMMON, 4)));
    }
    (s, secret)
}

fn ours(text: &str) -> Value {
    match SqlAlchemyUrl::parse(text) {
        Err(_) => json!({"error": true}),
        Ok(u) => json!({
            "drivername": u.drivername,
            "username": u.username,
            "password": u.password(),
            "host": u.host,
            "port": u.port,
            "database": u.database,
            "query": u.query,
        }),
    }
}

/// The pieces of a secret that would show it: 3 characters or more, with a letter (U+FFFD,
/// which unquoting makes of bad escapes anywhere, is no letter).
fn pieces(secret: &str) -> Vec<String> {
    let chars: Vec<char> = secret.chars().collect();
    chars
        .windows(3)
        .filter(|w| {
            w.iter().any(|c| {
                !(c.is_ascii_punctuation() || c.is_ascii_digit() || *c == ' ' || *c == '\u{fffd}')
            })
        })
        .map(|w| w.iter().collect())
        .collect()
}

fn assert_hidden(text: &str, secrets: &[String], shown: &str, what: &str) {
    for s in secrets {
        for piece in pieces(s) {
            assert!(
                !shown.contains(&piece),
                "{what} of {text:?} shows {piece:?} of the password: {shown}"
            );
        }
    }
}

#[test]
fn urls_read_as_sqlalchemy_reads_them() {
    let mut rng = Rng(7);
    let mut urls: Vec<(String, Option<String>)> = [
        "mysql+pymysql://heat:TopS3cret/Part2@db/heat",
        "mysql+pymysql://heat:s3cr%40t@db.example:3307/heat?charset=utf8&charset=latin1",
        "mysql://heat:p@ss@db/heat",
        "mysql://h:/db",
        "sqlite://",
        "sqlite:///",
        "sqlite:////var/lib/heat/heat.sqlite",
        "postgresql://heat:pw@[::1]:5432/heat?host=/run/postgresql",
        "mysql://h/db?a=1&a=2&b=&c",
        "mysql://h:99999999999/db",
    ]
    .iter()
    .map(|s| (s.to_string(), None))
    .collect();
    while urls.len() < 4000 {
        urls.push(url(&mut rng));
    }
    let texts: Vec<String> = urls.iter().map(|(t, _)| t.clone()).collect();
    let theirs = sqlalchemy(&texts);
    let (mut same, mut both_refuse, mut accepted) = (0, 0, 0);
    let mut differ = Vec::new();
    for ((text, secret), theirs) in urls.iter().zip(&theirs) {
        let ours = ours(text);
        if theirs.get("error").is_some() && ours.get("error").is_some() {
            both_refuse += 1;
        } else if *theirs == ours {
            same += 1;
        } else {
            differ.push(format!(
                "{text:?}\n  SQLAlchemy: {theirs}\n  ours:       {ours}"
            ));
        }
        // Secrecy: the password as written and as SQLAlchemy reads it.
        let mut secrets: Vec<String> = secret.iter().cloned().collect();
        if let Some(p) = theirs.get("password").and_then(Value::as_str) {
            if secret.is_some() {
                secrets.push(p.to_string());
            }
        }
        match DbUrl::parse(text) {
            Err(e) => assert_hidden(text, &secrets, &format!("{e:#} {e:?}"), "the error"),
            Ok(u) => {
                accepted += 1;
                assert_hidden(text, &secrets, &format!("{u} {u:?}"), "the display");
            }
        }
    }
    println!(
        "{} URLs: {same} read alike, {both_refuse} refused by both, {} differ; DbUrl accepts {accepted}",
        urls.len(),
        differ.len()
    );
    assert!(
        differ.is_empty(),
        "{} of {} URLs read differently:\n{}",
        differ.len(),
        urls.len(),
        differ.join("\n")
    );
    // The generator must reach both outcomes, or the comparison proves little.
    assert!(
        same > 1000 && both_refuse > 100 && accepted > 300,
        "{same} {both_refuse} {accepted}"
    );
}
