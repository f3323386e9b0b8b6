//! Database errors in plain words, through the binary: the server's own message and code
//! (MySQL error number, SQLSTATE), what to do for the common ones, never a Debug dump of a
//! driver error, never the SQL text, never the password.

mod servers;

use servers::{free_port, status, Certs, Postgres, Scratch};

const SECRET: &str = "Wrong-Secret-123";

/// Exit 1; the message has every one of `words` and none of the things it must not show.
fn plain_error(url: &str, words: &[&str]) {
    let (code, err) = status(url);
    assert_eq!(code, 1, "{url}: expected exit 1, got {code}: {err}");
    for w in words {
        assert!(err.contains(w), "{url}: message lacks {w:?}: {err}");
    }
    for dump in [
        "MySqlError {",
        "DbError {",
        "DriverError {",
        "IoError {",
        "CodecError {",
        "SELECT",
        SECRET,
    ] {
        assert!(!err.contains(dump), "{url}: message shows {dump:?}: {err}");
    }
    assert_ne!(err.trim_end(), "heat-converge: error: db error", "{url}");
}

#[test]
fn mariadb_errors() {
    // The local server (tests/bed/setup.sh): user heatconv/heatconv.
    plain_error(
        &format!("mysql+pymysql://heatconv:{SECRET}@127.0.0.1:3306/mysql"),
        &["1045", "Access denied", "check the user and password"],
    );
    let missing = format!("hc_missing_{}", std::process::id());
    plain_error(
        &format!("mysql+pymysql://heatconv:heatconv@127.0.0.1:3306/{missing}"),
        &[
            "1049",
            &format!("Unknown database '{missing}'"),
            "database name",
        ],
    );
    let port = free_port();
    plain_error(
        &format!("mysql+pymysql://heatconv:{SECRET}@127.0.0.1:{port}/heat"),
        &[
            "connection refused",
            &format!("127.0.0.1:{port}"),
            "running",
        ],
    );
    // A database that is not Heat's: the server's words about the table, not our SQL.
    plain_error(
        "mysql+pymysql://heatconv:heatconv@127.0.0.1:3306/mysql",
        &["1146", "stack"],
    );
}

#[test]
fn postgres_errors() {
    let missing = format!("hc_missing_{}", std::process::id());
    plain_error(
        &format!("postgresql://heatconv:heatconv@127.0.0.1:5432/{missing}"),
        &[
            "3D000",
            &format!("database \"{missing}\" does not exist"),
            "database name",
        ],
    );
    let port = free_port();
    plain_error(
        &format!("postgresql://heatconv:{SECRET}@127.0.0.1:{port}/heat"),
        &[
            "connection refused",
            &format!("127.0.0.1:{port}"),
            "running",
        ],
    );
    plain_error(
        "postgresql://heatconv:heatconv@127.0.0.1:5432/postgres",
        &["42P01", "relation \"stack\" does not exist"],
    );
    // The local server trusts local TCP logins, so a wrong password needs a server of
    // the test's own that asks for one.
    let dir = Scratch::new("dberr-postgres");
    let certs = Certs::make(&dir);
    let mut db = Postgres::init(
        &dir,
        &certs,
        "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n",
    );
    db.start(false);
    db.sql(
        "postgres",
        "CREATE ROLE heatpw LOGIN PASSWORD 'Right-Secret-1';
         CREATE ROLE heatnone LOGIN PASSWORD 'Right-Secret-1' NOSUPERUSER;
         REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;",
    );
    plain_error(
        &format!(
            "postgresql://heatpw:{SECRET}@127.0.0.1:{}/postgres",
            db.port
        ),
        &[
            "28P01",
            "password authentication failed",
            "check the user and password",
        ],
    );
    plain_error(
        &format!(
            "postgresql://heatnone:Right-Secret-1@127.0.0.1:{}/postgres",
            db.port
        ),
        &["42501", "permission denied"],
    );
}
