//! YAQL, as Heat's `yaql` intrinsic function evaluates it.
//!
//! Heat (`heat/engine/hot/functions.py`, `Yaql`) builds one engine with
//! `yaql.YaqlFactory().create({'yaql.limitIterators': ..., 'yaql.memoryQuota': ...})` from
//! heat.conf's `[yaql]` section, evaluates the expression in a child of
//! `yaql.create_context()` with `$` bound to `{'data': <the function's data>}`, and the
//! library's finalizer turns what comes out into lists and dicts (tuples and lazy
//! iterators become lists; a collection longer than `limit_iterators` is an error).
//!
//! This module reads the expression as yaql's grammar does (`syntax`), and evaluates
//! it (`eval`) with the operators and the part of the standard library that Heat's
//! templates use (`stdlib`, a file a family). Below them: the values (`value`, with the
//! context), regex patterns (`pattern`), the `[yaql]` limits (`limits`) and the errors
//! (`error`); nothing below imports anything above it. Whatever yaql has but this module does not implement is refused with
//! [`YaqlError::Unsupported`] naming it, so a caller never acts on a guessed value.
//! tests/yaql_differential.rs checks it against the real `yaql` library in Heat's
//! virtualenv.

mod error;
mod eval;
mod limits;
mod pattern;
mod stdlib;
mod syntax;
mod value;

use std::rc::Rc;

use serde_json::Value;

pub use error::YaqlError;
pub use limits::Limits;

use limits::HEAT_MEMORY_QUOTA;
use value::{Scope, Val};

/// Evaluates `expression` as Heat's `yaql` function does with `data` as its `data`
/// argument: `$` is `{"data": data}`, so templates write `$.data.x`.
pub fn evaluate(expression: &str, data: &Value, limits: &Limits) -> Result<Value, YaqlError> {
    if (1..HEAT_MEMORY_QUOTA).contains(&limits.memory_quota) {
        // yaql measures every intermediate Python object (a generator is 232 bytes, a
        // dict grows in steps): below Heat's default only strings and sequences would
        // count here, so a smaller quota is not modelled.
        return Err(YaqlError::Unsupported {
            name: format!("memory_quota {} (below 10000)", limits.memory_quota),
        });
    }
    let tree = syntax::parse(expression)?;
    if value::big_int(data) {
        return Err(YaqlError::Unsupported {
            name: "an integer beyond 64 bits in the data".into(),
        });
    }
    let root = Rc::new(Scope::default());
    let mut dollar = serde_json::Map::new();
    dollar.insert("data".into(), data.clone());
    root.set("", Val::from_json(&Value::Object(dollar)));
    let ev = eval::Eval { limits };
    let result = ev.eval(&tree, &Scope::child(&root))?;
    result.to_json(limits.limit_iterators)
}
