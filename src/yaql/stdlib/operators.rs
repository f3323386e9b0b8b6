//! yaql's operators on values: `=`, `!=`, `=~`, `!~`, `in`, the comparisons, and `+ - *
//! / mod` on numbers, strings, dicts and collections (concatenation, repetition).
//!
//! The evaluator applies them to its operands, and the library families (`sum`, `max`,
//! `orderBy`, `concat`) call them too: plain functions of the values and the limits.

use crate::python;
use crate::yaql::error::{no_match, overflow, rt, unsupported, R};
use crate::yaql::limits::Limits;
use crate::yaql::pattern::compile;
use crate::yaql::value::{as_float, as_int, eq, insert, is_number, items, iter, Tail, Val};

/// yaql's binary operator `op` on two values (not the short-circuit or context ones the
/// evaluator handles itself: `and`, `or`, `->`, `.`, `?.`).
pub(crate) fn operator(limits: &Limits, op: &str, a: Val, b: Val) -> R<Val> {
    let name = format!("#operator_{op}");
    match op {
        "=" => return Ok(Val::Bool(eq(&a, &b))),
        "!=" => return Ok(Val::Bool(!eq(&a, &b))),
        "=~" | "!~" => {
            let (Val::Str(s), Val::Str(p)) = (&a, &b) else {
                if let (Val::Str(s), Val::Regex(p)) = (&a, &b) {
                    let m = p.is_match(s)?;
                    return Ok(Val::Bool(if op == "=~" { m } else { !m }));
                }
                return Err(no_match(&name));
            };
            let m = compile(p, false, false, false)?.is_match(s)?;
            return Ok(Val::Bool(if op == "=~" { m } else { !m }));
        }
        "in" => {
            if let (Val::Str(x), Val::Str(y)) = (&a, &b) {
                return Ok(Val::Bool(y.contains(x.as_str())));
            }
            return match limits.lazy_items(&b) {
                Some(lazy) => {
                    let (all, rest) = lazy?;
                    if all.iter().any(|t| eq(&a, t)) {
                        return Ok(Val::Bool(true));
                    }
                    match rest {
                        Some(e) => Err(*e),
                        None => Ok(Val::Bool(false)),
                    }
                }
                None => Err(no_match(&name)),
            };
        }
        "<" | ">" | "<=" | ">=" => return compare(op, &a, &b),
        _ => {}
    }
    if is_number(&a) && is_number(&b) {
        return arith(op, &a, &b);
    }
    match (op, &a, &b) {
        // strings.concat is registered as `#operator_+` too.
        ("+", Val::Str(x), Val::Str(y)) => limits.quota(Val::Str(format!("{x}{y}"))),
        ("+", Val::Map(x), Val::Map(y)) => {
            let mut out = x.clone();
            for (k, v) in y {
                insert(&mut out, k.clone(), v.clone())?;
            }
            Ok(Val::Map(out))
        }
        ("+", _, _) => {
            if matches!((&a, &b), (Val::View(_), Val::View(_))) {
                return Err(unsupported("set union"));
            }
            if items(&a).is_none() || items(&b).is_none() {
                return Err(no_match(&name));
            }
            let tuples = matches!((&a, &b), (Val::Seq(_, true), Val::Seq(_, true)));
            chain(limits, &[a, b], tuples)
        }
        ("*", Val::Str(s), n) | ("*", n, Val::Str(s)) if as_int(n).is_some() => {
            let r = as_int(n).unwrap_or(0);
            limits.repeat_quota(r, Val::Str(String::new()).size(), recv_size(&a, &b))?;
            let r = r.max(0) as usize;
            if s.len().saturating_mul(r) > 100_000_000 {
                return Err(unsupported("a string that large"));
            }
            limits.quota(Val::Str(s.repeat(r)))
        }
        ("*", Val::Seq(items, t), n) | ("*", n, Val::Seq(items, t)) if as_int(n).is_some() => {
            let r = as_int(n).unwrap_or(0);
            // utils.limit_memory_usage((-r + 1, []), (r, left)): sizeof([]) is 56.
            limits.repeat_quota(r, 56, recv_size(&a, &b))?;
            let r = r.max(0) as usize;
            if items.len().saturating_mul(r) > 10_000_000 {
                return Err(unsupported("a list that large"));
            }
            let mut out = Vec::new();
            for _ in 0..r {
                out.extend(items.iter().cloned());
            }
            limits.quota(Val::Seq(out, *t))
        }
        _ => Err(no_match(&name)),
    }
}

/// `itertools.chain` of `Iterable()` arguments (or tuple `+` tuple when `tuples`):
/// the items up to the first pending error, which the chain keeps.
pub(crate) fn chain(limits: &Limits, parts: &[Val], tuples: bool) -> R<Val> {
    let mut lazies = Vec::new();
    for p in parts {
        lazies.push(limits.lazy_items(p).ok_or_else(|| no_match("concat"))??);
    }
    let mut out = Vec::new();
    for (all, rest) in lazies {
        out.extend(all);
        if rest.is_some() {
            return Ok(Val::Iter(out, Tail::new(rest)));
        }
    }
    Ok(if tuples {
        Val::Seq(out, true)
    } else {
        iter(out)
    })
}

/// yaql's `<`, `>`, `<=`, `>=`: null below anything, numbers with numbers, strings with
/// strings (by code point, as Python compares them); a nan compares false.
pub(crate) fn compare(op: &str, a: &Val, b: &Val) -> R<Val> {
    use std::cmp::Ordering;
    let ord = match (a, b) {
        (Val::Null, Val::Null) => Ordering::Equal,
        (Val::Null, _) => Ordering::Less,
        (_, Val::Null) => Ordering::Greater,
        (Val::Str(x), Val::Str(y)) => x.cmp(y),
        _ if is_number(a) && is_number(b) => {
            if let (Val::Int(x), Val::Int(y)) = (a, b) {
                x.cmp(y)
            } else {
                match as_float(a).partial_cmp(&as_float(b)) {
                    Some(o) => o,
                    None => return Ok(Val::Bool(false)),
                }
            }
        }
        _ => return Err(no_match(&format!("#operator_{op}"))),
    };
    Ok(Val::Bool(match op {
        "<" => ord == Ordering::Less,
        ">" => ord == Ordering::Greater,
        "<=" => ord != Ordering::Greater,
        _ => ord != Ordering::Less,
    }))
}

/// The size of whichever operand of `*` is the string or the list.
fn recv_size(a: &Val, b: &Val) -> i64 {
    match (a, b) {
        (Val::Str(_) | Val::Seq(..), _) => a.size(),
        _ => b.size(),
    }
}

/// `+ - * / mod` on two numbers: ints stay ints within 64 bits (`/` is Python's `//`
/// on them), anything else is a float.
fn arith(op: &str, a: &Val, b: &Val) -> R<Val> {
    if let (Val::Int(x), Val::Int(y)) = (a, b) {
        let (x, y) = (*x, *y);
        let r = match op {
            "+" => x.checked_add(y),
            "-" => x.checked_sub(y),
            "*" => x.checked_mul(y),
            "/" | "mod" => {
                let r = if op == "/" {
                    python::floor_div(x, y)
                } else {
                    python::modulo(x, y)
                };
                match r {
                    Ok(v) => Some(v),
                    Err(python::IntDivError::ByZero) => {
                        return Err(rt("ZeroDivisionError: integer division or modulo by zero"))
                    }
                    Err(python::IntDivError::Overflow) => None,
                }
            }
            _ => return Err(no_match(&format!("#operator_{op}"))),
        };
        return r.map(Val::Int).ok_or_else(|| overflow(op));
    }
    let (x, y) = (as_float(a), as_float(b));
    let r = match op {
        "+" => x + y,
        "-" => x - y,
        "*" => x * y,
        "/" => {
            if y == 0.0 {
                return Err(rt("ZeroDivisionError: float division by zero"));
            }
            x / y
        }
        "mod" => python::float_modulo(x, y).ok_or_else(|| rt("ZeroDivisionError: float modulo"))?,
        _ => return Err(no_match(&format!("#operator_{op}"))),
    };
    if !r.is_finite() {
        return Err(unsupported("float overflow (inf/nan)"));
    }
    Ok(Val::Float(r))
}
