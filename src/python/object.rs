//! What Python asks of any object: its type's name, its truthiness, `a or b` and `==`.
//!
//! Heat's functions compare with `==` (`equals`, `contains`, `filter`, the plugins'
//! implicit rules), test with truthiness (`external_id`, `a or b`) and name types in
//! their messages; one definition each, so that every caller agrees with Python.

use serde_json::Value;

use super::number::{num, Num};

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
