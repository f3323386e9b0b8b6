//! YAQL, as Heat's `yaql` intrinsic function evaluates it.
//!
//! Heat (`heat/engine/hot/functions.py`, `Yaql`) builds one engine with
//! `yaql.YaqlFactory().create({'yaql.limitIterators': ..., 'yaql.memoryQuota': ...})` from
//! heat.conf's `[yaql]` section, evaluates the expression in a child of
//! `yaql.create_context()` with `$` bound to `{'data': <the function's data>}`, and the
//! library's finalizer turns what comes out into lists and dicts (tuples and lazy
//! iterators become lists; a collection longer than `limit_iterators` is an error).
//!
//! This module reads the expression as yaql's grammar does ([`syntax`]), and evaluates
//! it with the operators and the part of the standard library that Heat's templates use
//! ([`eval`]). Whatever yaql has but this module does not implement is refused with
//! [`YaqlError::Unsupported`] naming it, so a caller never acts on a guessed value.
//! tests/yaql_differential.rs checks it against the real `yaql` library in Heat's
//! virtualenv.

mod eval;
mod syntax;
mod value;

use std::fmt;
use std::rc::Rc;

use serde_json::Value;

/// heat.conf's `[yaql]` options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `limit_iterators`: the most elements a collection may have (negative: no limit).
    pub limit_iterators: i64,
    /// `memory_quota`: the most bytes (Python's `sys.getsizeof`) a value may take (zero
    /// or negative: no quota). Strings and sequences are measured as CPython does; a
    /// quota below Heat's default is refused (see [`evaluate`]).
    pub memory_quota: i64,
}

const HEAT_MEMORY_QUOTA: i64 = 10000;

impl Default for Limits {
    /// Heat's defaults (`heat/engine/hot/functions.py`, `yaql_opts`).
    fn default() -> Self {
        Limits {
            limit_iterators: 200,
            memory_quota: HEAT_MEMORY_QUOTA,
        }
    }
}

/// Why an expression has no value.
#[derive(Debug, Clone, PartialEq)]
pub enum YaqlError {
    /// yaql has this (a function, an overload, a kind of value) and we do not.
    Unsupported { name: String },
    /// The expression is not yaql (Heat: "Bad expression").
    Syntax(String),
    /// yaql fails evaluating it (no matching function, a key or index missing, ...).
    Runtime(String),
    /// `limit_iterators` or `memory_quota` exceeded.
    Limit(String),
}

impl fmt::Display for YaqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            YaqlError::Unsupported { name } => write!(f, "yaql: {name} is not supported"),
            YaqlError::Syntax(m) => write!(f, "yaql: bad expression: {m}"),
            YaqlError::Runtime(m) => write!(f, "yaql: {m}"),
            YaqlError::Limit(m) => write!(f, "yaql: {m}"),
        }
    }
}

impl std::error::Error for YaqlError {}

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
    let root = Rc::new(eval::Scope::default());
    let mut dollar = serde_json::Map::new();
    dollar.insert("data".into(), data.clone());
    root.set("", value::Val::from_json(&Value::Object(dollar)));
    let ev = eval::Eval { limits };
    let result = ev.eval(&tree, &eval::Scope::child(&root))?;
    result.to_json(limits.limit_iterators)
}
