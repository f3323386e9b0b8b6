//! Python's semantics on JSON values, in one place.
//!
//! Heat is Python: its functions compare with `==` (`equals`, `contains`, the plugins'
//! implicit rules), test with truthiness (`external_id`, `a or b`), convert with `str()`
//! (`str_replace` params, `comma_delimited_list` items) and name types in its messages.
//! Every such step here goes through this module, so that all of them agree with each other
//! and with Python itself (tests/python_semantics.rs asks Heat's Python for the answers).
//!
//! Values are `serde_json::Value` as Python's `json.loads` sees them: `Null` is None, a
//! number written with a fraction or exponent is a float, any other an int.

use serde_json::{Number, Value};

/// Python's `type(v).__name__`.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Python's `bool(v)`: None, False, 0, 0.0, -0.0, '', [] and {} are false.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().map(|f| f != 0.0).unwrap_or(true),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Python's `a or b`: `a` when truthy, else `b` (evaluated only then, so pass a closure).
pub fn or<E>(a: Value, b: impl FnOnce() -> Result<Value, E>) -> Result<Value, E> {
    if truthy(&a) {
        Ok(a)
    } else {
        b()
    }
}

/// A number as Python holds it: bool is a subclass of int.
enum Num {
    Int(i128),
    Float(f64),
}

fn num(v: &Value) -> Option<Num> {
    match v {
        Value::Bool(b) => Some(Num::Int(i128::from(*b))),
        Value::Number(n) => Some(number(n)),
        _ => None,
    }
}

fn number(n: &Number) -> Num {
    if let Some(i) = n.as_i64() {
        Num::Int(i128::from(i))
    } else if let Some(u) = n.as_u64() {
        Num::Int(i128::from(u))
    } else {
        Num::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// Python compares an int with a float exactly (no rounding of the int to a float).
fn int_eq_float(i: i128, f: f64) -> bool {
    // Every float with |f| < 2^127 that has no fraction converts to i128 exactly.
    f.fract() == 0.0 && f.abs() < 1.7e38 && f as i128 == i
}

/// Python's `a == b`: `True == 1 == 1.0`, `'1' != 1`, lists element-wise in order, dicts
/// by keys whatever their order.
pub fn eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, p)| y.get(k).is_some_and(|q| eq(p, q)))
        }
        _ => match (num(a), num(b)) {
            (Some(Num::Int(x)), Some(Num::Int(y))) => x == y,
            (Some(Num::Float(x)), Some(Num::Float(y))) => x == y,
            (Some(Num::Int(i)), Some(Num::Float(f))) | (Some(Num::Float(f)), Some(Num::Int(i))) => {
                int_eq_float(i, f)
            }
            _ => false,
        },
    }
}

/// Python's `str(v)`: a string is itself; containers show their items' `repr`.
pub fn str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => repr(other),
    }
}

/// Python's `repr(v)`.
pub fn repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => match number(n) {
            Num::Int(i) => i.to_string(),
            Num::Float(f) => float_repr(f),
        },
        Value::String(s) => string_repr(s),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(repr).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(m) => {
            let inner: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", string_repr(k), repr(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

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

/// Python's `int(v)` for the values Heat passes it (indexes, ports): an int or bool as
/// is, a float truncated toward zero (saturated at i128's bounds), a string of decimal digits (surrounding whitespace,
/// a sign and single underscores between digits allowed). None when Python raises.
pub fn int(v: &Value) -> Option<i128> {
    match v {
        Value::Bool(b) => Some(i128::from(*b)),
        Value::Number(n) => match number(n) {
            Num::Int(i) => Some(i),
            // Beyond i128 the value saturates: as an index or a port it is out of range
            // all the same.
            Num::Float(f) if f.is_finite() => Some(f.trunc() as i128),
            Num::Float(_) => None,
        },
        Value::String(s) => int_of_str(s),
        _ => None,
    }
}

fn int_of_str(s: &str) -> Option<i128> {
    let t = s.trim_matches(|c: char| c.is_whitespace());
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let n: i128 = digits.replace('_', "").parse().ok()?;
    Some(if neg { -n } else { n })
}

/// `repr(float)`: the shortest digits that read back the same (Rust finds the same ones),
/// laid out as Python does: positional while the decimal point falls within
/// `-4 < decpt <= 16`, else `d.ddde+XX` with at least two exponent digits.
fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if f.is_sign_negative() { "-" } else { "" };
    let decpt = exp + 1;
    let n = digits.len() as i32;
    let body = if decpt <= -4 || decpt > 16 {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{first}{frac}e{esign}{:02}", exp.abs())
    } else if decpt <= 0 {
        format!("0.{}{digits}", "0".repeat((-decpt) as usize))
    } else if decpt >= n {
        format!("{digits}{}.0", "0".repeat((decpt - n) as usize))
    } else {
        let (int, frac) = digits.split_at(decpt as usize);
        format!("{int}.{frac}")
    };
    format!("{sign}{body}")
}

/// `repr(str)`: single quotes unless the text holds a single quote and no double one;
/// backslash, the quote, `\t \n \r` and the characters Python deems unprintable escaped.
fn string_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if !printable(c) => {
                let code = c as u32;
                if code < 0x100 {
                    out.push_str(&format!("\\x{code:02x}"));
                } else if code < 0x10000 {
                    out.push_str(&format!("\\u{code:04x}"));
                } else {
                    out.push_str(&format!("\\U{code:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `str.isprintable()` for one character: not a control, format, separator
/// (other than the ASCII space), private-use or unassigned character. Controls, the
/// separators and the common format characters are listed here; unassigned code points
/// and private use are not, as JSON in Heat's templates does not carry them.
fn printable(c: char) -> bool {
    let code = c as u32;
    !(code < 0x20
        || (0x7f..=0xa0).contains(&code)
        || code == 0xad
        || code == 0x1680
        || (0x2000..=0x200f).contains(&code)
        || (0x2028..=0x202f).contains(&code)
        || (0x205f..=0x2064).contains(&code)
        || (0x2066..=0x206f).contains(&code)
        || code == 0x3000
        || code == 0xfeff
        || (0xe000..=0xf8ff).contains(&code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_print_as_python_repr() {
        let cases = [
            (1.0, "1.0"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (123456789.125, "123456789.125"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e300, "1e+300"),
            (-2.5e22, "-2.5e+22"),
        ];
        for (f, want) in cases {
            assert_eq!(float_repr(f), want, "{f}");
        }
    }

    #[test]
    fn containers_show_the_repr_of_their_items() {
        assert_eq!(
            str(&json!({"a": [1, 1.0, true, null, "it's"]})),
            "{'a': [1, 1.0, True, None, \"it's\"]}"
        );
        assert_eq!(str(&json!("plain")), "plain");
    }

    #[test]
    fn numbers_compare_across_int_float_and_bool() {
        assert!(eq(&json!([1]), &json!([1.0])));
        assert!(eq(&json!(true), &json!(1)));
        assert!(!eq(&json!("1"), &json!(1)));
        assert!(!eq(&Value::Null, &json!("")));
        assert!(!eq(
            &json!(9007199254740993_i64),
            &json!(9007199254740992.0)
        ));
        assert!(eq(&json!({"a": 1, "b": 2}), &json!({"b": 2.0, "a": true})));
    }
}
