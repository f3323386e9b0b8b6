//! `make_url`: a URL from its parts, quoted and laid out as Python 3.11's
//! `urllib.parse` does it.

use crate::python;
use anyhow::{anyhow, bail, Result};
use serde_json::Value;

/// `make_url`: a URL from its parts, quoted as Python's `urllib.parse` quotes them.
pub fn make_url(name: &str, args: &Value) -> Result<Value> {
    let Value::Object(args) = args else {
        bail!("The arguments to \"{name}\" must be a map")
    };
    // Heat's _check_args, in its key order; it stops at `query`.
    for key in [
        "scheme", "username", "password", "host", "port", "path", "query", "fragment",
    ] {
        let Some(v) = args.get(key) else { continue };
        match key {
            "query" => {
                if !v.is_object() {
                    bail!("The \"query\" argument to \"{name}\" must be a map");
                }
                break;
            }
            "port" => {
                let port = match v {
                    Value::Number(_) | Value::Bool(_) | Value::String(_) => python::int(v)
                        .ok_or_else(|| {
                            anyhow!("Invalid URL port \"{}\" for {name}", python::str(v))
                        })?,
                    other => bail!(
                        "\"{name}\": int() argument must be a string, a bytes-like object or \
                         a real number, not '{}'",
                        python::type_name(other)
                    ),
                };
                if !(1..=65535).contains(&port) {
                    bail!("Invalid URL port {port}, must be in range 1-65535");
                }
            }
            _ => {
                if !v.is_string() {
                    bail!("The \"{key}\" argument to \"{name}\" must be a string");
                }
            }
        }
    }
    let text = |key: &str| -> Result<String> {
        match args.get(key) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => bail!(
                "\"{name}\": quote() argument 1 must be str or bytes, not {}",
                python::type_name(other)
            ),
        }
    };
    let scheme = text("scheme")?;
    if scheme.contains(':') {
        bail!("URL \"scheme\" should not contain ':'");
    }
    let mut netloc = String::new();
    let username = quote(&text("username")?, "");
    let password = quote(&text("password")?, "");
    if !username.is_empty() || !password.is_empty() {
        netloc.push_str(&username);
        if !password.is_empty() {
            netloc.push(':');
            netloc.push_str(&password);
        }
        netloc.push('@');
    }
    let mut host = text("host")?;
    if host.starts_with('[') && host.ends_with(']') && host.len() >= 2 {
        host = host[1..host.len() - 1].to_string();
    }
    let host = quote(&host, ":");
    if host.contains(':') {
        netloc.push_str(&format!("[{host}]"));
    } else {
        netloc.push_str(&host);
    }
    if let Some(port) = args.get("port").filter(|p| python::truthy(p)) {
        netloc.push(':');
        netloc.push_str(&python::str(port));
    }
    let path = quote(&text("path")?, "/");
    let query = match args.get("query") {
        Some(Value::Object(q)) => q
            .iter()
            .map(|(k, v)| format!("{}={}", quote_plus(k), quote_plus(&python::str(v))))
            .collect::<Vec<_>>()
            .join("&")
            .replace("%2F", "/"),
        _ => String::new(),
    };
    let fragment = quote(&text("fragment")?, "/");
    Ok(Value::String(urlunsplit(
        &scheme, &netloc, &path, &query, &fragment,
    )))
}

/// `urllib.parse.quote(s, safe)`: UTF-8 bytes, all but letters, digits, `_.-~` and
/// `safe` as `%XX`.
fn quote(s: &str, safe: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let c = b as char;
        if b.is_ascii_alphanumeric() || "_.-~".contains(c) || (b < 0x80 && safe.contains(c)) {
            out.push(c);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `urllib.parse.quote_plus(s)` as `urlencode` uses it: spaces as `+`.
fn quote_plus(s: &str) -> String {
    if s.contains(' ') {
        quote(s, " ").replace(' ', "+")
    } else {
        quote(s, "")
    }
}

const USES_NETLOC: &[&str] = &[
    "", "ftp", "http", "gopher", "nntp", "telnet", "imap", "wais", "file", "mms", "https", "shttp",
    "snews", "prospero", "rtsp", "rtsps", "rtspu", "rsync", "svn", "svn+ssh", "sftp", "nfs", "git",
    "git+ssh", "ws", "wss",
];

/// Python 3.11's `urllib.parse.urlunsplit`.
fn urlunsplit(scheme: &str, netloc: &str, path: &str, query: &str, fragment: &str) -> String {
    let mut url = path.to_string();
    if !netloc.is_empty()
        || (!scheme.is_empty() && USES_NETLOC.contains(&scheme) && !url.starts_with("//"))
    {
        if !url.is_empty() && !url.starts_with('/') {
            url = format!("/{url}");
        }
        url = format!("//{netloc}{url}");
    }
    if !scheme.is_empty() {
        url = format!("{scheme}:{url}");
    }
    if !query.is_empty() {
        url = format!("{url}?{query}");
    }
    if !fragment.is_empty() {
        url = format!("{url}#{fragment}");
    }
    url
}

#[cfg(test)]
mod tests {
    //! Expected values are Python's, worked out by hand from Heat 27.0.1's code (the
    //! differential templates in tests/templates/graph check them against Heat itself).
    use super::*;
    use crate::stack::resolve::data::test_error as err;
    use serde_json::json;

    #[test]
    fn make_url_quotes_as_urllib() {
        let u = |a: Value| make_url("make_url", &a).unwrap();
        assert_eq!(
            u(
                json!({"scheme": "https", "username": "x:y@z", "host": "fd00::1", "port": 80,
                     "path": "a b/é~", "query": {"a b": "c/d", "n": 1, "t": true},
                     "fragment": "f g"})
            ),
            json!("https://x%3Ay%40z@[fd00::1]:80/a%20b/%C3%A9~?a+b=c/d&n=1&t=True#f%20g")
        );
        assert_eq!(u(json!({"host": "h", "path": "p"})), json!("//h/p"));
        assert_eq!(
            u(json!({"scheme": "mailto", "path": "a@b"})),
            json!("mailto:a%40b")
        );
        assert_eq!(u(json!({"scheme": "http"})), json!("http://"));
        assert!(err(make_url("make_url", &json!({"scheme": "a:b"}))).contains("should not contain"));
        assert!(err(make_url("make_url", &json!({"port": "x"}))).contains("Invalid URL port"));
        assert!(err(make_url("make_url", &json!({"host": 1}))).contains("must be a string"));
    }
}
