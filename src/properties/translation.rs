//! `properties[X]` and `properties.get(X)` of a stack loaded from the database: functions
//! resolved, REPLACE translation rules applied (a deprecated name moves onto its
//! successor), then the value coerced (see [`coerce`]).

use serde_json::Value;

use super::coerce::{coerce, unset};
use super::failure::{Failure, PropertyError};
use super::schema::{ResourceSchema, Schema};
use crate::python::truthy;

/// The resolved template value of one top-level property: `Ok(None)` when not given.
pub type Given<'a> = dyn Fn(&str) -> Result<Option<Value>, PropertyError> + 'a;

impl ResourceSchema {
    fn schema_of(&self, prop: &str) -> Result<&Schema, Failure> {
        if !self.names.iter().any(|n| n == prop) {
            return Err(Failure::NoSuchProperty(format!("Invalid Property {prop}")));
        }
        self.props
            .iter()
            .find(|(n, _)| n == prop)
            .map(|(_, s)| s)
            .ok_or_else(|| Failure::Unmodelled(format!("property {prop} of {}", self.owner)))
    }

    /// Heat's `res.properties.get(prop)`: like `[]`, but an unknown name gives None.
    pub fn get(&self, given: &Given, prop: &str) -> Result<Value, Failure> {
        match self.item(given, prop) {
            Err(Failure::NoSuchProperty(_)) => Ok(Value::Null),
            other => other,
        }
    }

    /// Heat's `res.properties[prop]` for a stack whose RESOLVE rules are off.
    pub fn item(&self, given: &Given, prop: &str) -> Result<Value, Failure> {
        let schema = self.schema_of(prop)?;
        // The deprecated side of a REPLACE rule reads as if it were not given.
        if self.renames.iter().any(|r| r.old == prop) {
            return unset(schema, prop);
        }
        let source = self.renames.iter().find(|r| r.new == prop).map(|r| r.old);
        match given(prop) {
            // Heat turns any exception of the function resolver into a ValueError.
            Err(PropertyError::Raised(m)) => Err(Failure::Invalid(m)),
            Err(PropertyError::Unknowable(m)) => Err(Failure::Unmodelled(m)),
            Ok(Some(value)) => {
                let value = match source {
                    None => value,
                    Some(old) => {
                        // Read inside `_resolve_user_value`'s try: any error is a ValueError.
                        let old_value = self.plain(given, old).map_err(as_value_error)?;
                        if truthy(&old_value) && truthy(&value) {
                            return Err(Failure::conflict(prop, old));
                        }
                        if old_value.is_null() {
                            value
                        } else {
                            old_value
                        }
                    }
                };
                coerce(schema, &value, prop).map_err(as_value_error)
            }
            Ok(None) => {
                if let Some(old) = source {
                    let old_value = self.plain(given, old)?;
                    if !old_value.is_null() || schema.default.is_some() {
                        return coerce(schema, &old_value, prop);
                    }
                }
                unset(schema, prop)
            }
        }
    }

    /// A property read with translation switched off (how a REPLACE rule reads its source).
    fn plain(&self, given: &Given, prop: &str) -> Result<Value, Failure> {
        let schema = self.schema_of(prop)?;
        match given(prop) {
            Err(PropertyError::Raised(m)) => Err(Failure::Invalid(m)),
            Err(PropertyError::Unknowable(m)) => Err(Failure::Unmodelled(m)),
            Ok(Some(value)) => coerce(schema, &value, prop).map_err(as_value_error),
            Ok(None) => unset(schema, prop),
        }
    }
}

/// `_resolve_user_value` wraps every exception except StackValidationFailed in a ValueError.
fn as_value_error(f: Failure) -> Failure {
    match f {
        Failure::WrongShape(m) | Failure::NoSuchProperty(m) => Failure::Invalid(m),
        other => other,
    }
}
