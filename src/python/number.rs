//! Python's numbers: `int()` and `float()` of a str and of a JSON value, and the
//! floor division and modulo of Python's `//` and `%`.
//!
//! Heat reads indexes, ports and Number parameters with `int()` and `float()`, and yaql's
//! `int()`, `float()`, `/` and `mod` are Python's. Python reads a number out of a str in
//! its own way: any Unicode decimal digit counts, Unicode spaces may surround it, `_` may
//! stand between digits, and an int has at most 4300 digits. Rust's `parse` does none of
//! that, so the reading is written here, once.
//!
//! The decimal digits are those of Python 3.11 (Unicode 14, Heat's Python): a table, not
//! the Rust or regex crate's Unicode, which is newer and knows digits Python does not.

use serde_json::{Number, Value};

use super::text::isspace;

/// A number as Python holds it: bool is a subclass of int.
pub(super) enum Num {
    Int(i128),
    Float(f64),
}

/// `v` as a Python number, if it is one (a bool is an int).
pub(super) fn num(v: &Value) -> Option<Num> {
    match v {
        Value::Bool(b) => Some(Num::Int(i128::from(*b))),
        Value::Number(n) => Some(number(n)),
        _ => None,
    }
}

/// A JSON number as `json.loads` reads it: with a fraction or exponent a float, else an int.
pub(super) fn number(n: &Number) -> Num {
    if let Some(i) = n.as_i64() {
        Num::Int(i128::from(i))
    } else if let Some(u) = n.as_u64() {
        Num::Int(i128::from(u))
    } else {
        Num::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// The first code point of each run of ten Unicode decimal digits (category Nd, zero to
/// nine) that Python 3.11 knows: `[c for c in range(0x110000) if unicodedata.decimal(chr(c),
/// None) == 0]`. tests/python_semantics.rs checks every code point against Python.
const DECIMAL_ZEROS: [u32; 66] = [
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
    0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50,
    0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

/// Python's `unicodedata.decimal(c, None)`: the value of a decimal digit.
pub fn decimal_digit(c: char) -> Option<u8> {
    let code = c as u32;
    let at = DECIMAL_ZEROS
        .partition_point(|&zero| zero <= code)
        .checked_sub(1)?;
    u8::try_from(code - DECIMAL_ZEROS[at])
        .ok()
        .filter(|d| *d < 10)
}

/// `_PyUnicode_TransformDecimalAndSpaceToASCII`, the first step of `int(s)` and
/// `float(s)`: ASCII stays, other spaces become ' ', other decimal digits their ASCII
/// digit; any other character makes the text no number (None).
fn to_ascii(s: &str) -> Option<Vec<u8>> {
    s.chars()
        .map(|c| {
            if (c as u32) < 127 {
                u8::try_from(c).ok()
            } else if isspace(c) {
                Some(b' ')
            } else {
                decimal_digit(c).map(|d| b'0' + d)
            }
        })
        .collect()
}

/// C's `isspace` in the "C" locale (`Py_ISSPACE`): what `int()` and `float()` strip once
/// the text is ASCII (not `\x1c`-`\x1f`, which `str.isspace()` counts).
fn c_space(b: &u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// `bytes` without the C spaces at both ends.
fn c_strip(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !c_space(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !c_space(b))
        .map_or(start, |i| i + 1);
    &bytes[start..end.max(start)]
}

/// Why Python's `int(s)` raises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntError {
    /// `ValueError: invalid literal for int() with base 10`.
    Invalid,
    /// `ValueError: Exceeds the limit (4300 digits) for integer string conversion`.
    TooManyDigits,
}

/// Python 3.11's `int(s)` for a str, as its decimal text (`-12`, `0`): Unicode spaces
/// around it, Unicode decimal digits, one sign, single `_` between digits, at most 4300
/// digits. The text has no bound; [`int`] reads it into an `i128`.
pub fn int_str(s: &str) -> Result<String, IntError> {
    let ascii = to_ascii(s).ok_or(IntError::Invalid)?;
    // PyLong_FromString(base=10): C spaces around, a sign, digits with single '_' between.
    let mut body = c_strip(&ascii);
    let negative = body.first() == Some(&b'-');
    if matches!(body.first(), Some(b'-' | b'+')) {
        body = &body[1..];
    }
    let mut digits = Vec::with_capacity(body.len());
    let mut prev_underscore = true; // no '_' first
    for &b in body {
        match b {
            b'0'..=b'9' => {
                digits.push(b);
                prev_underscore = false;
            }
            b'_' if !prev_underscore => prev_underscore = true,
            _ => return Err(IntError::Invalid),
        }
    }
    if digits.is_empty() || prev_underscore {
        return Err(IntError::Invalid);
    }
    if digits.len() > 4300 {
        return Err(IntError::TooManyDigits);
    }
    let significant = digits
        .iter()
        .position(|&d| d != b'0')
        .map_or(&b"0"[..], |i| &digits[i..]);
    let mut out = String::with_capacity(significant.len() + 1);
    if negative && significant != b"0" {
        out.push('-');
    }
    out.extend(significant.iter().map(|&d| char::from(d)));
    Ok(out)
}

/// Python's `int(v)` for the values Heat passes it (indexes, ports): an int or bool as
/// is, a float truncated toward zero, a str as [`int_str`] reads it. Python's ints have
/// no bound; these saturate at `i128`'s (as an index or a port such a value is out of
/// range all the same). None where Python raises (a float inf or nan, a text that is no
/// int, any other type).
pub fn int(v: &Value) -> Option<i128> {
    match v {
        Value::Bool(b) => Some(i128::from(*b)),
        Value::Number(n) => match number(n) {
            Num::Int(i) => Some(i),
            Num::Float(f) if f.is_finite() => Some(f.trunc() as i128),
            Num::Float(_) => None,
        },
        Value::String(s) => {
            let text = int_str(s).ok()?;
            Some(text.parse().unwrap_or(if text.starts_with('-') {
                i128::MIN
            } else {
                i128::MAX
            }))
        }
        _ => None,
    }
}

/// Python 3.11's `float(s)` for a str: after the Unicode step of [`int_str`], `_` only
/// between digits, C spaces around, then a decimal or `inf`, `infinity`, `nan` (any case,
/// with a sign). Too large a number is an infinity, as in Python. None where Python raises
/// `ValueError`.
pub fn float_str(s: &str) -> Option<f64> {
    let ascii = to_ascii(s)?;
    // _Py_string_to_number_with_underscores: each '_' between two digits, then dropped.
    let mut clean = Vec::with_capacity(ascii.len());
    let mut prev = 0u8;
    for &b in &ascii {
        if b == b'_' {
            if !prev.is_ascii_digit() {
                return None;
            }
        } else {
            if prev == b'_' && !b.is_ascii_digit() {
                return None;
            }
            clean.push(b);
        }
        prev = b;
    }
    if prev == b'_' {
        return None;
    }
    // Rust's grammar for f64 is Python's `_Py_dg_strtod` and `_Py_parse_inf_or_nan` once
    // the spaces are gone: digits with one optional point, an exponent, a sign.
    std::str::from_utf8(c_strip(&clean)).ok()?.parse().ok()
}

/// Why a str is no JSON number to [`int_or_float`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotANumber {
    /// Both `int(s)` and `float(s)` raise `ValueError`.
    Invalid,
    /// `float(s)` is an infinity or nan, which JSON has not.
    NonFinite,
}

/// `int(s)`, else `float(s)`: Heat's `Schema.str_to_num` on a str (Number parameters,
/// number properties), as a JSON number. An int beyond 64 bits, which a JSON number here
/// cannot hold, is read as the float `float(s)` gives.
pub fn int_or_float(s: &str) -> Result<Value, NotANumber> {
    if let Some(i) = int_str(s).ok().and_then(|t| t.parse::<i64>().ok()) {
        return Ok(Value::from(i));
    }
    let f = float_str(s).ok_or(NotANumber::Invalid)?;
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or(NotANumber::NonFinite)
}

/// Why Python's `x // y` or `x % y` on ints has no `i64` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntDivError {
    /// `ZeroDivisionError: integer division or modulo by zero`.
    ByZero,
    /// The quotient does not fit an `i64` (Python's ints have no bound).
    Overflow,
}

/// Python's `x // y` on ints: the quotient rounded toward negative infinity.
pub fn floor_div(x: i64, y: i64) -> Result<i64, IntDivError> {
    if y == 0 {
        return Err(IntDivError::ByZero);
    }
    let q = x.checked_div(y).ok_or(IntDivError::Overflow)?;
    Ok(if x % y != 0 && ((x < 0) != (y < 0)) {
        q - 1
    } else {
        q
    })
}

/// Python's `x % y` on ints: the remainder takes the sign of `y`.
pub fn modulo(x: i64, y: i64) -> Result<i64, IntDivError> {
    if y == 0 {
        return Err(IntDivError::ByZero);
    }
    // checked_rem fails only for i64::MIN % -1, whose remainder is 0.
    let r = x.checked_rem(y).unwrap_or(0);
    Ok(if r != 0 && ((r < 0) != (y < 0)) {
        r + y
    } else {
        r
    })
}

/// Python's `x % y` on floats (`float_rem`): the sign of `y`, a zero signed as `y`. None
/// for `y == 0` (`ZeroDivisionError: float modulo`).
pub fn float_modulo(x: f64, y: f64) -> Option<f64> {
    if y == 0.0 {
        return None;
    }
    let m = x % y;
    Some(if m != 0.0 && ((m < 0.0) != (y < 0.0)) {
        m + y
    } else if m == 0.0 {
        0.0_f64.copysign(y)
    } else {
        m
    })
}

#[cfg(test)]
mod tests {
    //! The corner cases; tests/python_semantics.rs holds every function against Python.
    use super::*;
    use serde_json::json;

    #[test]
    fn decimal_digits_come_in_runs_of_ten() {
        assert_eq!(decimal_digit('\u{1d7d8}'), Some(0)); // a second run, right after one
        assert_eq!(decimal_digit('\u{1d7d7}'), Some(9));
        assert_eq!(decimal_digit('7'), Some(7));
        assert_eq!(decimal_digit('x'), None);
        assert_eq!(decimal_digit('\u{2f}'), None);
        assert_eq!(decimal_digit('\u{1fbfa}'), None);
    }

    #[test]
    fn int_reads_text_as_python() {
        let cases = [
            (" 42 ", Some("42")),
            ("+0_7", Some("7")),
            ("-0", Some("0")),
            ("\u{a0}1\u{3000}", Some("1")),
            ("\u{661}\u{662}", Some("12")),
            ("\u{ff15}", Some("5")),
            ("1__0", None),
            ("_1", None),
            ("1_", None),
            ("\u{1c}1", None),
            ("1.0", None),
            ("\u{b2}", None),
            ("", None),
            ("-", None),
        ];
        for (text, want) in cases {
            assert_eq!(int_str(text).ok().as_deref(), want, "{text:?}");
        }
        assert!(int_str(&"1".repeat(4300)).is_ok());
        assert_eq!(int_str(&"0".repeat(4301)), Err(IntError::TooManyDigits));
        assert_eq!(int(&json!("1".repeat(60))), Some(i128::MAX));
        assert_eq!(int(&json!(-2.9)), Some(-2));
        assert_eq!(int(&json!(true)), Some(1));
        assert_eq!(int(&json!([1])), None);
    }

    #[test]
    fn float_reads_text_as_python() {
        assert_eq!(float_str(" 1_0.5e1_0 "), Some(10.5e10));
        assert_eq!(float_str("\u{661}.\u{665}"), Some(1.5));
        assert_eq!(float_str("-InFinity"), Some(f64::NEG_INFINITY));
        assert_eq!(float_str("1e400"), Some(f64::INFINITY));
        assert!(float_str("nan").is_some_and(f64::is_nan));
        for bad in [
            "1_.5",
            "_1",
            "1_",
            "\u{1c}1.5",
            "0x10",
            "1e",
            "",
            " ",
            "+-1",
            "1,5",
        ] {
            assert_eq!(float_str(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn str_to_num_tries_int_then_float() {
        assert_eq!(int_or_float(" +7 "), Ok(json!(7)));
        assert_eq!(int_or_float("1_0"), Ok(json!(10)));
        assert_eq!(int_or_float("1.5"), Ok(json!(1.5)));
        assert_eq!(int_or_float("1e2"), Ok(json!(100.0)));
        assert_eq!(int_or_float("99999999999999999999"), Ok(json!(1e20)));
        assert_eq!(int_or_float("inf"), Err(NotANumber::NonFinite));
        assert_eq!(int_or_float("++7"), Err(NotANumber::Invalid));
    }

    #[test]
    fn division_rounds_toward_negative_infinity() {
        assert_eq!(floor_div(-7, 2), Ok(-4));
        assert_eq!(modulo(-7, 2), Ok(1));
        assert_eq!(modulo(7, -3), Ok(-2));
        assert_eq!(modulo(i64::MIN, 3), Ok(1));
        assert_eq!(modulo(i64::MIN, -1), Ok(0));
        assert_eq!(floor_div(i64::MIN, -1), Err(IntDivError::Overflow));
        assert_eq!(floor_div(1, 0), Err(IntDivError::ByZero));
        assert_eq!(
            float_modulo(-0.0, 2.0).map(f64::is_sign_positive),
            Some(true)
        );
        assert_eq!(float_modulo(7.5, -2.0), Some(-0.5));
        assert_eq!(float_modulo(1.0, 0.0), None);
    }
}
