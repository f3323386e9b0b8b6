//! Why an expression has no value, and the few ways every part of the interpreter says so.
//!
//! Kept apart from the evaluator so that the lowest layers (values, patterns, the parser)
//! can fail in yaql's words without importing anything above them.

use std::fmt;

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

pub(crate) type R<T> = Result<T, YaqlError>;

/// yaql fails: a Python exception, its type first.
pub(crate) fn rt(msg: impl Into<String>) -> YaqlError {
    YaqlError::Runtime(msg.into())
}

/// No overload of `name` takes these arguments.
pub(crate) fn no_match(name: &str) -> YaqlError {
    rt(format!("No function \"{name}\" matches supplied arguments"))
}

/// yaql has it, we do not: refused rather than guessed.
pub(crate) fn unsupported(name: &str) -> YaqlError {
    YaqlError::Unsupported { name: name.into() }
}

/// An integer result beyond 64 bits (Python's ints have no bound; ours have).
pub(crate) fn overflow(op: &str) -> YaqlError {
    unsupported(&format!("{op} beyond 64-bit integers"))
}
