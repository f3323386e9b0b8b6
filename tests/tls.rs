//! TLS options in the database URL are honoured or refused, never dropped: against a
//! MariaDB and a PostgreSQL server of the test's own, with certificates the test makes
//! (a CA, a server certificate for `localhost` only, a client certificate, another CA).
//!
//! Proof that a session is encrypted comes from the server: the users heat-converge
//! connects as may only log in over TLS (MariaDB `REQUIRE SSL`/`REQUIRE X509`, PostgreSQL
//! `hostssl` lines only), so exit 0 means TLS was used; and the same option that worked
//! must fail against the same server restarted without TLS.

mod servers;

use servers::{heat_createdb, status, Certs, MariaDb, Postgres, Scratch};

const PASSWORD: &str = "Tls-Secret-77";

fn ok(url: &str) {
    let (code, err) = status(url);
    assert_eq!(code, 0, "{url}: expected exit 0, got {code}: {err}");
}

/// Exit 1 with a message containing each of `words`, and never the password.
fn fails(url: &str, words: &[&str]) -> String {
    let (code, err) = status(url);
    assert_eq!(code, 1, "{url}: expected exit 1, got {code}: {err}");
    for w in words {
        assert!(err.contains(w), "{url}: message lacks {w:?}: {err}");
    }
    assert!(!err.contains(PASSWORD), "{url}: password shown: {err}");
    err
}

#[test]
fn mariadb_tls_options() {
    let dir = Scratch::new("tls-mariadb");
    let certs = Certs::make(&dir);
    let mut db = MariaDb::init(&dir);
    db.start(Some(&certs));
    db.sql(&format!(
        "CREATE USER 'heattls'@'%' IDENTIFIED BY '{PASSWORD}' REQUIRE SSL;
         GRANT ALL ON *.* TO 'heattls'@'%';
         CREATE USER 'heatcert'@'%' IDENTIFIED BY '{PASSWORD}' REQUIRE X509;
         GRANT ALL ON *.* TO 'heatcert'@'%';
         CREATE USER 'heatplain'@'%' IDENTIFIED BY '{PASSWORD}';
         GRANT ALL ON *.* TO 'heatplain'@'%';"
    ));
    heat_createdb(&format!(
        "mysql+pymysql://root@localhost/heat?unix_socket={}&charset=utf8",
        db.socket
    ));
    let port = db.port;
    let url = |user: &str, host: &str, opts: &str| {
        format!("mysql+pymysql://{user}:{PASSWORD}@{host}:{port}/heat?charset=utf8{opts}")
    };
    let ca = format!("&ssl_ca={}", certs.ca);
    let other_ca = format!("&ssl_ca={}", certs.other_ca);

    // The server really requires TLS of heattls: clear text is refused by the server.
    fails(
        &url("heattls", "localhost", "&ssl_disabled=true"),
        &["1045"],
    );
    // ssl_ca alone (SQLAlchemy: chain and host name checked) against the right name.
    ok(&url("heattls", "localhost", &ca));
    ok(&url(
        "heattls",
        "localhost",
        &format!("{ca}&ssl_verify_identity=true"),
    ));
    // The certificate names localhost, not 127.0.0.1.
    fails(&url("heattls", "127.0.0.1", &ca), &["TLS"]);
    fails(
        &url(
            "heattls",
            "127.0.0.1",
            &format!("{ca}&ssl_verify_identity=true"),
        ),
        &["TLS"],
    );
    // A CA that did not sign the server's certificate.
    fails(&url("heattls", "localhost", &other_ca), &["TLS"]);
    // Checking the chain without the name cannot be done exactly: refused by name.
    fails(
        &url(
            "heattls",
            "127.0.0.1",
            &format!("{ca}&ssl_check_hostname=false"),
        ),
        &["ssl_check_hostname=false"],
    );
    // No option: PyMySQL's preferred mode encrypts when the server offers TLS.
    ok(&url("heattls", "127.0.0.1", ""));
    // Encrypted, nothing checked (PyMySQL: ssl_verify_cert=false).
    ok(&url(
        "heattls",
        "127.0.0.1",
        &format!("{ca}&ssl_verify_cert=false"),
    ));
    // A client certificate (REQUIRE X509): with it the user gets in, without not.
    let client = format!(
        "{ca}&ssl_cert={}&ssl_key={}",
        certs.client_cert, certs.client_key
    );
    ok(&url("heatcert", "localhost", &client));
    fails(&url("heatcert", "localhost", &ca), &["1045"]);
    // Options we do not know or cannot honour are refused, naming them.
    fails(
        &url("heattls", "localhost", "&ssl_capath=/etc"),
        &["ssl_capath"],
    );
    fails(
        &url("heattls", "localhost", "&sslmode=require"),
        &["sslmode"],
    );
    fails(
        &url("heattls", "localhost", &format!("{ca}&ssl_disabled=true")),
        &["ssl_disabled"],
    );
    fails(
        &url("heattls", "localhost", "&ssl_verify_cert=maybe"),
        &["ssl_verify_cert=maybe"],
    );
    fails(
        &url("heattls", "localhost", "&ssl_ca=/nonexistent/ca.pem"),
        &["ssl_ca=/nonexistent/ca.pem"],
    );

    // The same server without TLS: options that ask for TLS fail, never clear text
    // (heatplain could log in in clear text).
    db.stop();
    db.start(None);
    ok(&url("heatplain", "localhost", ""));
    fails(&url("heatplain", "localhost", &ca), &["does not offer TLS"]);
    fails(
        &url("heatplain", "localhost", "&ssl=true"),
        &["does not offer TLS"],
    );
    fails(
        &url("heatplain", "localhost", "&ssl_verify_cert=false&ssl_ca=x").replace("&ssl_ca=x", &ca),
        &["does not offer TLS"],
    );
}

#[test]
fn postgres_tls_options() {
    let dir = Scratch::new("tls-postgres");
    let certs = Certs::make(&dir);
    let hba = "local all all trust\n\
               hostssl all postgres 127.0.0.1/32 trust\n\
               hostssl all heattls 127.0.0.1/32 scram-sha-256\n\
               hostssl all heatcert 127.0.0.1/32 cert\n\
               host all heatplain 127.0.0.1/32 scram-sha-256\n";
    let mut db = Postgres::init(&dir, &certs, hba);
    db.start(true);
    db.sql(
        "postgres",
        &format!(
            "CREATE ROLE heattls LOGIN SUPERUSER PASSWORD '{PASSWORD}';
             CREATE ROLE heatcert LOGIN SUPERUSER;
             CREATE ROLE heatplain LOGIN SUPERUSER PASSWORD '{PASSWORD}';"
        ),
    );
    heat_createdb(&format!(
        "postgresql+psycopg2://postgres@127.0.0.1:{}/heat?sslmode=require",
        db.port
    ));
    let port = db.port;
    let url = |user: &str, host: &str, opts: &str| {
        format!(
            "postgresql+psycopg2://{user}:{PASSWORD}@{host}:{port}/heat?connect_timeout=20{opts}"
        )
    };
    let root = |f: &str| format!("&sslrootcert={f}");
    let ca = root(&certs.ca);
    let other_ca = root(&certs.other_ca);

    // The server takes heattls over TLS only: clear text is refused by the server.
    fails(&url("heattls", "127.0.0.1", "&sslmode=disable"), &["28000"]);
    // verify-full: chain and host name.
    ok(&url(
        "heattls",
        "localhost",
        &format!("&sslmode=verify-full{ca}"),
    ));
    fails(
        &url("heattls", "127.0.0.1", &format!("&sslmode=verify-full{ca}")),
        &["TLS"],
    );
    // verify-ca: the chain only, so 127.0.0.1 is fine; a foreign CA is not.
    ok(&url(
        "heattls",
        "127.0.0.1",
        &format!("&sslmode=verify-ca{ca}"),
    ));
    fails(
        &url(
            "heattls",
            "localhost",
            &format!("&sslmode=verify-ca{other_ca}"),
        ),
        &["TLS"],
    );
    fails(
        &url(
            "heattls",
            "localhost",
            &format!("&sslmode=verify-full{other_ca}"),
        ),
        &["TLS"],
    );
    // require without a root certificate: encrypted, not verified; with one (libpq):
    // the chain is checked.
    ok(&url("heattls", "127.0.0.1", "&sslmode=require"));
    fails(
        &url(
            "heattls",
            "127.0.0.1",
            &format!("&sslmode=require{other_ca}"),
        ),
        &["TLS"],
    );
    // The default, prefer, encrypts when the server offers TLS.
    ok(&url("heattls", "127.0.0.1", ""));
    // Client certificate authentication (pg_hba `cert`).
    ok(&url(
        "heatcert",
        "localhost",
        &format!(
            "&sslmode=verify-full{ca}&sslcert={}&sslkey={}",
            certs.client_cert, certs.client_key
        ),
    ));
    fails(
        &url(
            "heatcert",
            "localhost",
            &format!("&sslmode=verify-full{ca}"),
        ),
        &["28000"],
    );
    // Refused: unknown or unsupported options and values, named.
    fails(
        &url("heattls", "localhost", "&sslmode=verify-everything"),
        &["sslmode=verify-everything"],
    );
    fails(&url("heattls", "localhost", "&sslcrl=/x"), &["sslcrl"]);
    fails(
        &url(
            "heattls",
            "localhost",
            "&sslmode=verify-full&sslrootcert=system",
        ),
        &["sslrootcert=system"],
    );
    fails(&url("heattls", "localhost", "&ssl_ca=/x"), &["ssl_ca"]);
    fails(
        &url(
            "heattls",
            "localhost",
            &format!("&sslmode=verify-full{ca}&sslcert=/x"),
        ),
        &["sslcert"],
    );

    // The same server without TLS: heatplain could log in in clear text, but whatever
    // asks for TLS fails.
    db.stop();
    db.start(false);
    ok(&url("heatplain", "localhost", ""));
    fails(
        &url("heatplain", "localhost", "&sslmode=require"),
        &["does not offer TLS"],
    );
    fails(
        &url(
            "heatplain",
            "localhost",
            &format!("&sslmode=verify-full{ca}"),
        ),
        &["does not offer TLS"],
    );
}
