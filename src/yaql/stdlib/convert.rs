//! yaql's conversions and type tests: `str`, `int`, `float`, `bool`, `isList`, `isDict`,
//! `isString`, `isInteger`, `isNumber`, `isBoolean`. `int()` and `float()` of a string
//! are Python's ([`crate::python`]), within what a JSON number holds.

use super::call::Call;
use crate::python;
use crate::yaql::error::{rt, unsupported, R};
use crate::yaql::value::Val;

impl Call<'_> {
    /// The conversion or type test this call names, of its one argument.
    pub(super) fn convert_call(&mut self) -> R<Val> {
        let name = self.name;
        match name {
            "isInteger" | "isNumber" | "isBoolean" => {
                self.shape(&["value"], 1)?;
                let v = self.val(0, "value")?.unwrap_or(Val::Null);
                Ok(Val::Bool(match name {
                    "isInteger" => matches!(v, Val::Int(_)),
                    "isNumber" => matches!(v, Val::Int(_) | Val::Float(_)),
                    _ => matches!(v, Val::Bool(_)),
                }))
            }
            "str" | "int" | "float" | "bool" | "isList" | "isDict" | "isString" => {
                self.shape(&["value"], 1)?;
                let v = self.val(0, "value")?.unwrap_or(Val::Null);
                self.convert(name, v)
            }
            _ => Err(self.fail()),
        }
    }

    /// The conversion `name` of `v` (`str` as yaql's `str()` writes null and booleans).
    pub(super) fn convert(&self, name: &str, v: Val) -> R<Val> {
        Ok(match name {
            "str" => Val::Str(match v {
                Val::Null => "null".into(),
                Val::Bool(true) => "true".into(),
                Val::Bool(false) => "false".into(),
                v => v.py_str()?,
            }),
            "int" => match v {
                Val::Null => Val::Int(0),
                Val::Int(i) => Val::Int(i),
                Val::Bool(b) => Val::Int(i64::from(b)),
                Val::Float(x) => {
                    if !x.is_finite() || x.abs() >= 9.2e18 {
                        return Err(unsupported("int beyond 64 bits"));
                    }
                    Val::Int(x.trunc() as i64)
                }
                Val::Str(s) => Val::Int(int_of_str(&s)?),
                _ => return Err(rt("TypeError: int() argument")),
            },
            "float" => match v {
                Val::Null => Val::Float(0.0),
                Val::Int(i) => Val::Float(i as f64),
                Val::Bool(b) => Val::Float(f64::from(u8::from(b))),
                Val::Float(x) => Val::Float(x),
                Val::Str(s) => Val::Float(float_of_str(&s)?),
                _ => return Err(rt("TypeError: float() argument")),
            },
            "bool" => Val::Bool(v.truthy()),
            "isList" => Val::Bool(matches!(v, Val::Seq(..))),
            "isDict" => Val::Bool(matches!(v, Val::Map(_))),
            _ => Val::Bool(matches!(v, Val::Str(_))),
        })
    }
}

/// yaql's `int(s)`: Python's, within 64 bits.
fn int_of_str(s: &str) -> R<i64> {
    match python::int_str(s) {
        Ok(text) => text.parse().map_err(|_| unsupported("int beyond 64 bits")),
        Err(python::IntError::TooManyDigits) => Err(unsupported("int beyond 64 bits")),
        Err(python::IntError::Invalid) => Err(rt(format!(
            "ValueError: invalid literal for int() with base 10: {s:?}"
        ))),
    }
}

/// yaql's `float(s)`: Python's, refusing an infinity or nan (not JSON).
fn float_of_str(s: &str) -> R<f64> {
    match python::float_str(s) {
        Some(v) if v.is_finite() => Ok(v),
        Some(_) => Err(unsupported("float inf/nan")),
        None => Err(rt(format!(
            "ValueError: could not convert string to float: {s:?}"
        ))),
    }
}
