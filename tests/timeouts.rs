//! No hangs: a server that accepts the TCP connection and never answers makes
//! heat-converge fail within the URL's `connect_timeout`, for both server drivers.

mod servers;

use std::net::TcpListener;
use std::time::{Duration, Instant};

/// A listener on 127.0.0.1 that accepts connections and never writes a byte (it keeps
/// them open until the test ends).
fn silent_listener() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a silent listener");
    let port = listener.local_addr().expect("its address").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    port
}

fn bounded(url: &str) {
    bounded_by(url, 2);
}

/// Exit 1 after about `secs` seconds, saying the server did not answer.
fn bounded_by(url: &str, secs: u64) {
    let start = Instant::now();
    let (code, err) = servers::status(url);
    let took = start.elapsed();
    assert_eq!(code, 1, "{url}: expected exit 1: {err}");
    assert!(
        took < Duration::from_secs(secs + 8),
        "{url}: took {took:?} with a {secs} s time-out"
    );
    assert!(
        took >= Duration::from_secs(secs),
        "{url}: gave up after {took:?}, before {secs} s"
    );
    assert!(
        err.contains(&format!("did not answer within {secs} s")),
        "{url}: the message does not say the server did not answer: {err}"
    );
    assert!(
        !err.contains("Hush-Secret-9"),
        "{url}: password shown: {err}"
    );
}

#[test]
fn mysql_silent_server_times_out() {
    let port = silent_listener();
    bounded(&format!(
        "mysql+pymysql://heat:Hush-Secret-9@127.0.0.1:{port}/heat?connect_timeout=2"
    ));
}

#[test]
fn mysql_default_connect_timeout_is_pymysqls_10_s() {
    let port = silent_listener();
    bounded_by(
        &format!("mysql+pymysql://heat:Hush-Secret-9@127.0.0.1:{port}/heat"),
        10,
    );
}

#[test]
fn postgres_silent_server_times_out() {
    let port = silent_listener();
    bounded(&format!(
        "postgresql://heat:Hush-Secret-9@127.0.0.1:{port}/heat?connect_timeout=2"
    ));
    // Also with TLS asked for: the wait for the server's answer to SSLRequest is bounded.
    bounded(&format!(
        "postgresql://heat:Hush-Secret-9@127.0.0.1:{port}/heat?connect_timeout=2&sslmode=require"
    ));
}

#[test]
fn bad_timeout_values_are_refused() {
    for url in [
        "mysql+pymysql://heat:Hush-Secret-9@127.0.0.1:1/heat?connect_timeout=0",
        "mysql+pymysql://heat:Hush-Secret-9@127.0.0.1:1/heat?read_timeout=soon",
        "postgresql://heat:Hush-Secret-9@127.0.0.1:1/heat?connect_timeout=2s",
    ] {
        let (code, err) = servers::status(url);
        assert_eq!(code, 1, "{url}: {err}");
        assert!(err.contains("_timeout="), "{url}: option not named: {err}");
    }
}
