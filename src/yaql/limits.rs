//! heat.conf's `[yaql]` limits, and how yaql applies them to the values it reads.
//!
//! yaql checks `limit_iterators` where a function reads a collection (`limit_iterable`)
//! and `memory_quota` where a value is made or passed on (`limit_memory_usage`). The
//! evaluator and every family of the standard library read through these same checks,
//! so they sit below both, with the values they measure.

use super::error::{YaqlError, R};
use super::value::{consume, items, pending, too_large, Val};

/// heat.conf's `[yaql]` options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `limit_iterators`: the most elements a collection may have (negative: no limit).
    pub limit_iterators: i64,
    /// `memory_quota`: the most bytes (Python's `sys.getsizeof`) a value may take (zero
    /// or negative: no quota). Strings and sequences are measured as CPython does; a
    /// quota below Heat's default is refused (see [`super::evaluate`]).
    pub memory_quota: i64,
}

/// Heat's default `memory_quota`.
pub(crate) const HEAT_MEMORY_QUOTA: i64 = 10000;

impl Default for Limits {
    /// Heat's defaults (`heat/engine/hot/functions.py`, `yaql_opts`).
    fn default() -> Self {
        Limits {
            limit_iterators: 200,
            memory_quota: HEAT_MEMORY_QUOTA,
        }
    }
}

/// The items a consumer may read, and the error reading past them raises.
pub(crate) type Lazy = (Vec<Val>, Option<Box<YaqlError>>);

impl Limits {
    /// The items of an `Iterable()` argument read to its end.
    pub(crate) fn iterable(&self, v: &Val) -> Option<R<Vec<Val>>> {
        items(v).map(|a| {
            consume(v)?;
            pending(v)?;
            let limit = self.limit_iterators;
            if limit >= 0 && a.len() as i64 > limit {
                Err(too_large(limit))
            } else {
                Ok(a.clone())
            }
        })
    }

    /// The items of an `Iterable()` argument for a consumer that may stop early, and the
    /// error reading past them raises: a sequence longer than the limit fails at once
    /// (`limit_iterable` measures it), an iterator only when read past the limit.
    pub(crate) fn lazy_items(&self, v: &Val) -> Option<R<Lazy>> {
        let all = items(v)?;
        Some((|| {
            consume(v)?;
            let limit = self.limit_iterators;
            if let Val::Iter(_, tail) = v {
                if limit >= 0 && all.len() as i64 > limit {
                    let head = all[..limit as usize].to_vec();
                    return Ok((head, Some(Box::new(too_large(limit)))));
                }
                return Ok((all.clone(), tail.err.clone()));
            }
            self.check_limit(all.len())?;
            Ok((all.clone(), None))
        })())
    }

    /// A collection of `n` items against `limit_iterators`.
    pub(crate) fn check_limit(&self, n: usize) -> R<()> {
        let limit = self.limit_iterators;
        if limit >= 0 && n as i64 > limit {
            return Err(too_large(limit));
        }
        Ok(())
    }

    /// A value against `memory_quota`.
    pub(crate) fn quota(&self, v: Val) -> R<Val> {
        let q = self.memory_quota;
        if q > 0 && v.size() > q {
            return Err(YaqlError::Limit(
                "Expression consumed too much memory".into(),
            ));
        }
        Ok(v)
    }

    /// yaql's check before repeating a string or a list `r` times:
    /// `limit_memory_usage((1 - r, empty), (r, value))`, a running sum of sizes that must
    /// not pass the quota at either step.
    pub(crate) fn repeat_quota(&self, r: i64, empty: i64, value: i64) -> R<()> {
        let q = i128::from(self.memory_quota);
        if q <= 0 {
            return Ok(());
        }
        let first = (1 - i128::from(r)) * i128::from(empty);
        let total = first + i128::from(r) * i128::from(value);
        if first > q || total > q {
            return Err(YaqlError::Limit(
                "Expression consumed too much memory".into(),
            ));
        }
        Ok(())
    }
}
