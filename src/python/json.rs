//! Python's `json.dumps(v, sort_keys=True)`, the text Heat's `list_join`, `str_replace`
//! and `list_concat` messages make of maps and lists (oslo's `jsonutils.dumps`).
//!
//! serde_json writes other text (no spaces, non-ASCII kept, floats laid out its own way),
//! so the layout is Python's own, written here.

use serde_json::Value;

use super::number::{number, Num};
use super::repr::float_repr;

/// Python's `json.dumps(v, sort_keys=True)` with its defaults (what oslo's
/// `jsonutils.dumps` gives Heat's `list_join` and `str_replace`): `", "` and `": "`
/// between items, non-ASCII characters escaped as `\uXXXX`, floats as `repr` has them.
pub fn json_dumps_sorted(v: &Value) -> String {
    let mut out = String::new();
    dump(v, &mut out);
    out
}

fn dump(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => match number(n) {
            Num::Int(i) => out.push_str(&i.to_string()),
            Num::Float(f) if f.is_nan() => out.push_str("NaN"),
            Num::Float(f) if f.is_infinite() => {
                out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" })
            }
            Num::Float(f) => out.push_str(&float_repr(f)),
        },
        Value::String(s) => json_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                dump(item, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            // Python sorts str keys by code point, which is the order of their UTF-8 bytes.
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json_string(k, out);
                out.push_str(": ");
                dump(&m[k], out);
            }
            out.push('}');
        }
    }
}

/// A JSON string as Python's `json` module writes it with `ensure_ascii=True`.
fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (' '..='~').contains(&c) => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
        }
    }
    out.push('"');
}
