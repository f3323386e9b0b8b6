//! The evaluator: yaql's operators and the standard-library functions Heat's templates
//! use, each with the overloads yaql registers for it (method, function or both; the
//! argument types that select an overload). Collections are evaluated eagerly; a
//! function of yaql's that is not here is refused by name, never guessed.

use std::cell::RefCell;
use std::rc::Rc;

use super::syntax::{Arg, Expr};
use super::value::{consume, eq, get, hashable, too_large, Tail, Val};
use super::{Limits, YaqlError};
use crate::python;

type R<T> = Result<T, YaqlError>;

/// A context: `$`-variables, looked up through the parents (a missing one is null).
#[derive(Debug, Default)]
pub(crate) struct Scope {
    vars: RefCell<Vec<(String, Val)>>,
    parent: Option<Rc<Scope>>,
}

impl Scope {
    pub(crate) fn child(parent: &Rc<Scope>) -> Rc<Scope> {
        Rc::new(Scope {
            vars: RefCell::new(Vec::new()),
            parent: Some(parent.clone()),
        })
    }
    /// yaql's `_normalize_name`: `$` is `$1`.
    fn norm(name: &str) -> String {
        if name.is_empty() {
            "1".into()
        } else {
            name.into()
        }
    }
    pub(crate) fn set(&self, name: &str, v: Val) {
        let name = Scope::norm(name);
        let mut vars = self.vars.borrow_mut();
        match vars.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = v,
            None => vars.push((name, v)),
        }
    }
    fn get(&self, name: &str) -> Val {
        let name = Scope::norm(name);
        let mut s = Some(self);
        while let Some(scope) = s {
            if let Some((_, v)) = scope.vars.borrow().iter().find(|(k, _)| *k == name) {
                return v.clone();
            }
            s = scope.parent.as_deref();
        }
        Val::Null
    }
}

/// A compiled `regex(...)`.
#[derive(Debug)]
pub(crate) struct Pattern {
    re: regex::Regex,
    /// Python's `$` (without MULTILINE) also matches before a final newline.
    dollar: bool,
    /// Python's `\s` also matches `\x1c`-`\x1f`.
    space: bool,
    groups: usize,
}

impl Pattern {
    /// Refuses a text on which Python's `re` and the `regex` crate could disagree.
    fn text<'t>(&self, t: &'t str) -> R<&'t str> {
        if (self.dollar && t.contains('\n'))
            || (self.space && t.chars().any(|c| ('\x1c'..='\x1f').contains(&c)))
        {
            return Err(unsupported("regex on this text ($ or \\s differ)"));
        }
        Ok(t)
    }
    fn is_match(&self, t: &str) -> R<bool> {
        Ok(self.re.is_match(self.text(t)?))
    }
    /// The matches, refusing empty ones (Python's handling of them differs).
    fn matches<'t>(&self, t: &'t str) -> R<Vec<regex::Captures<'t>>> {
        let all: Vec<_> = self.re.captures_iter(self.text(t)?).collect();
        if all.iter().any(|c| c.get(0).is_some_and(|m| m.is_empty())) {
            return Err(unsupported("regex with empty matches"));
        }
        Ok(all)
    }
}

/// yaql functions this interpreter does not implement: refused by name.
const KNOWN_UNIMPLEMENTED: &[&str] = &[
    "accumulate",
    "add",
    "aggregate",
    "append",
    "assert",
    "bitwiseAnd",
    "bitwiseNot",
    "bitwiseOr",
    "bitwiseXor",
    "call",
    "characters",
    "containsValue",
    "cycle",
    "datetime",
    "def",
    "defaultIfEmpty",
    "delete",
    "deleteAll",
    "difference",
    "escapeRegex",
    "examine",
    "generate",
    "generateMany",
    "groupBy",
    "hex",
    "indexWhere",
    "insert",
    "insertMany",
    "intersect",
    "isDatetime",
    "isIterable",
    "isRegex",
    "isSet",
    "isTimespan",
    "lastIndexOf",
    "lastIndexWhere",
    "localtz",
    "memorize",
    "norm",
    "now",
    "pow",
    "random",
    "reduce",
    "remove",
    "repeat",
    "replaceBy",
    "replaceMany",
    "selectAllCases",
    "selectCase",
    "sequence",
    "shiftBitsLeft",
    "shiftBitsRight",
    "sign",
    "single",
    "skipWhile",
    "slice",
    "sliceWhere",
    "splitAt",
    "splitWhere",
    "switchCase",
    "symmetricDifference",
    "takeWhile",
    "thenBy",
    "thenByDescending",
    "timespan",
    "toCharArray",
    "toDict",
    "toSet",
    "union",
    "unpack",
    "utctz",
    "with",
    "zipLongest",
];

pub(crate) struct Eval<'l> {
    pub(crate) limits: &'l Limits,
}

fn rt(msg: impl Into<String>) -> YaqlError {
    YaqlError::Runtime(msg.into())
}
fn no_match(name: &str) -> YaqlError {
    rt(format!("No function \"{name}\" matches supplied arguments"))
}
fn unsupported(name: &str) -> YaqlError {
    YaqlError::Unsupported { name: name.into() }
}

/// The items of anything yaql's `Iterable()` parameter type accepts (not str, not dict).
fn items(v: &Val) -> Option<&Vec<Val>> {
    match v {
        Val::Seq(a, _) | Val::Iter(a, _) | Val::View(a) | Val::Values(a) | Val::Ordered(a) => {
            Some(a)
        }
        _ => None,
    }
}

/// An iterator's pending error, raised by a consumer that reads it to the end.
fn pending(v: &Val) -> R<()> {
    match v {
        Val::Iter(_, Tail { err: Some(e), .. }) => Err((**e).clone()),
        _ => Ok(()),
    }
}

fn iter(items: Vec<Val>) -> Val {
    Val::Iter(items, Tail::new(None))
}

fn is_number(v: &Val) -> bool {
    matches!(v, Val::Int(_) | Val::Float(_))
}
/// Python's `isinstance(v, int)` (bool included).
fn as_int(v: &Val) -> Option<i64> {
    match v {
        Val::Int(i) => Some(*i),
        Val::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}
fn overflow(op: &str) -> YaqlError {
    unsupported(&format!("{op} beyond 64-bit integers"))
}
fn f(v: &Val) -> f64 {
    match v {
        Val::Int(i) => *i as f64,
        Val::Float(x) => *x,
        Val::Bool(b) => f64::from(u8::from(*b)),
        _ => f64::NAN,
    }
}

impl Eval<'_> {
    /// The items of an `Iterable()` argument read to its end.
    fn iterable(&self, v: &Val) -> Option<R<Vec<Val>>> {
        items(v).map(|a| {
            consume(v)?;
            pending(v)?;
            let limit = self.limits.limit_iterators;
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
    fn lazy_items(&self, v: &Val) -> Option<R<(Vec<Val>, Option<Box<YaqlError>>)>> {
        let all = items(v)?;
        Some((|| {
            consume(v)?;
            let limit = self.limits.limit_iterators;
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

    fn check_limit(&self, n: usize) -> R<()> {
        let limit = self.limits.limit_iterators;
        if limit >= 0 && n as i64 > limit {
            return Err(too_large(limit));
        }
        Ok(())
    }

    fn quota(&self, v: Val) -> R<Val> {
        let q = self.limits.memory_quota;
        if q > 0 && v.size() > q {
            return Err(YaqlError::Limit(
                "Expression consumed too much memory".into(),
            ));
        }
        Ok(v)
    }

    pub(crate) fn eval(&self, e: &Expr, scope: &Rc<Scope>) -> R<Val> {
        let v = match e {
            // yaql measures a constant when it is passed to a function (and every
            // expression's value is passed to the finalizer).
            Expr::Const(v) => v.clone(),
            Expr::Keyword(k) => return Ok(Val::Str(k.clone())),
            Expr::Context(name) => scope.get(name),
            Expr::Wrap(inner) => return self.eval(inner, scope),
            Expr::Call(name, args) => self.call(name, None, args, scope)?,
            Expr::Unary(op, x) => {
                let v = self.eval(x, scope)?;
                match (*op, &v) {
                    ("not", _) => Val::Bool(!v.truthy()),
                    ("-", Val::Int(i)) => Val::Int(i.checked_neg().ok_or_else(|| overflow("-"))?),
                    ("-", Val::Float(x)) => Val::Float(-x),
                    ("+", Val::Int(_) | Val::Float(_)) => v,
                    _ => return Err(no_match(&format!("#unary_operator_{op}"))),
                }
            }
            Expr::Binary(op, l, r) => self.binary(op, l, r, scope)?,
            Expr::Index(target, args) => {
                let t = self.eval(target, scope)?;
                let vals = self.plain_args("#indexer", args, scope)?;
                self.index(t, vals)?
            }
            Expr::List(args) => {
                let vals = self.plain_args("#list", args, scope)?;
                for v in &vals {
                    self.quota(v.clone())?;
                }
                Val::Seq(vals, true)
            }
            Expr::Map(args) => self.build_dict(args, scope, "#map")?,
        };
        self.quota(v)
    }

    /// Positional arguments of a function with no named parameters.
    fn plain_args(&self, name: &str, args: &[Arg], scope: &Rc<Scope>) -> R<Vec<Val>> {
        args.iter()
            .map(|a| match a {
                Arg::Value(e) => self.eval(e, scope),
                _ => Err(no_match(name)),
            })
            .collect()
    }

    fn build_dict(&self, args: &[Arg], scope: &Rc<Scope>, name: &str) -> R<Val> {
        let mut pairs: Vec<(Val, Val)> = Vec::new();
        for a in args {
            let Arg::Pair(k, v) = a else {
                return Err(no_match(name));
            };
            let k = self.eval(k, scope)?;
            let v = self.eval(v, scope)?;
            insert(&mut pairs, k, v)?;
        }
        Ok(Val::Map(pairs))
    }

    fn binary(&self, op: &str, l: &Expr, r: &Expr, scope: &Rc<Scope>) -> R<Val> {
        match op {
            "and" => {
                let a = self.eval(l, &Scope::child(scope))?;
                return if a.truthy() {
                    self.eval(r, &Scope::child(scope))
                } else {
                    Ok(a)
                };
            }
            "or" => {
                let a = self.eval(l, &Scope::child(scope))?;
                return if a.truthy() {
                    Ok(a)
                } else {
                    self.eval(r, &Scope::child(scope))
                };
            }
            "->" => {
                let a = self.eval(l, scope)?;
                let Val::Ctx(ctx) = a else {
                    return Err(no_match("#operator_->"));
                };
                return self.eval(r, &ctx);
            }
            "." | "?." => {
                let recv = self.eval(l, scope)?;
                if op == "?." && matches!(recv, Val::Null) {
                    return Ok(Val::Null);
                }
                return self.dot(recv, r, scope);
            }
            _ => {}
        }
        let a = self.eval(l, scope)?;
        let b = self.eval(r, scope)?;
        self.operator(op, a, b)
    }

    fn dot(&self, recv: Val, r: &Expr, scope: &Rc<Scope>) -> R<Val> {
        match r {
            Expr::Call(name, args) => self.call(name, Some(recv), args, &Scope::child(scope)),
            Expr::Keyword(k) => self.attribute(recv, k),
            _ => Err(no_match("#operator_.")),
        }
    }

    fn attribute(&self, recv: Val, key: &str) -> R<Val> {
        if let Val::Map(pairs) = &recv {
            return get(pairs, &Val::Str(key.into()))
                .cloned()
                .ok_or_else(|| rt(format!("KeyError: '{key}'")));
        }
        if let Some(lazy) = self.lazy_items(&recv) {
            let (all, rest) = lazy?;
            let mut out = Vec::new();
            for t in all {
                match self.attribute(t, key) {
                    Ok(v) => out.push(v),
                    Err(e) => return Ok(Val::Iter(out, Tail::new(Some(Box::new(e))))),
                }
            }
            return Ok(Val::Iter(out, Tail::new(rest)));
        }
        Err(rt(format!(
            "No function \"#property#{key}\" for {}",
            recv.type_name()
        )))
    }

    fn index(&self, t: Val, args: Vec<Val>) -> R<Val> {
        match (&t, args.as_slice()) {
            (Val::Map(pairs), [k]) => {
                if !hashable(k) {
                    return Err(rt("unhashable key"));
                }
                get(pairs, k)
                    .cloned()
                    .ok_or_else(|| rt(format!("KeyError: {}", k.repr())))
            }
            (Val::Map(pairs), [k, default]) => {
                if !hashable(k) {
                    return Err(rt("unhashable key"));
                }
                Ok(get(pairs, k).cloned().unwrap_or_else(|| default.clone()))
            }
            (Val::Seq(items, _), [i]) => {
                let i = as_int(i).ok_or_else(|| no_match("#indexer"))?;
                python::item(items, i128::from(i))
                    .cloned()
                    .ok_or_else(|| rt("IndexError: tuple index out of range"))
            }
            _ => Err(no_match("#indexer")),
        }
    }

    fn operator(&self, op: &str, a: Val, b: Val) -> R<Val> {
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
                return match self.lazy_items(&b) {
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
            "<" | ">" | "<=" | ">=" => return self.compare(op, &a, &b),
            _ => {}
        }
        if is_number(&a) && is_number(&b) {
            return arith(op, &a, &b);
        }
        match (op, &a, &b) {
            // strings.concat is registered as `#operator_+` too.
            ("+", Val::Str(x), Val::Str(y)) => self.quota(Val::Str(format!("{x}{y}"))),
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
                self.chain(&[a, b], tuples)
            }
            ("*", Val::Str(s), n) | ("*", n, Val::Str(s)) if as_int(n).is_some() => {
                let r = as_int(n).unwrap_or(0);
                self.repeat_quota(r, Val::Str(String::new()).size(), recv_size(&a, &b))?;
                let r = r.max(0) as usize;
                if s.len().saturating_mul(r) > 100_000_000 {
                    return Err(unsupported("a string that large"));
                }
                self.quota(Val::Str(s.repeat(r)))
            }
            ("*", Val::Seq(items, t), n) | ("*", n, Val::Seq(items, t)) if as_int(n).is_some() => {
                let r = as_int(n).unwrap_or(0);
                // utils.limit_memory_usage((-r + 1, []), (r, left)): sizeof([]) is 56.
                self.repeat_quota(r, 56, recv_size(&a, &b))?;
                let r = r.max(0) as usize;
                if items.len().saturating_mul(r) > 10_000_000 {
                    return Err(unsupported("a list that large"));
                }
                let mut out = Vec::new();
                for _ in 0..r {
                    out.extend(items.iter().cloned());
                }
                self.quota(Val::Seq(out, *t))
            }
            _ => Err(no_match(&name)),
        }
    }

    /// `itertools.chain` of `Iterable()` arguments (or tuple `+` tuple when `tuples`):
    /// the items up to the first pending error, which the chain keeps.
    fn chain(&self, parts: &[Val], tuples: bool) -> R<Val> {
        let mut lazies = Vec::new();
        for p in parts {
            lazies.push(self.lazy_items(p).ok_or_else(|| no_match("concat"))??);
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

    /// yaql's check before repeating a string or a list `r` times:
    /// `limit_memory_usage((1 - r, empty), (r, value))`, a running sum of sizes that must
    /// not pass the quota at either step.
    fn repeat_quota(&self, r: i64, empty: i64, value: i64) -> R<()> {
        let q = i128::from(self.limits.memory_quota);
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

    fn compare(&self, op: &str, a: &Val, b: &Val) -> R<Val> {
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
                    match f(a).partial_cmp(&f(b)) {
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

    /// Calls `name` as a method of `recv` (`recv.name(...)`) or as a function.
    fn call(&self, name: &str, recv: Option<Val>, args: &[Arg], scope: &Rc<Scope>) -> R<Val> {
        let mut c = Call::new(self, name, recv, args, scope)?;
        let method = c.recv.is_some();
        // Which form yaql registers each function in: f = function only, m = method only,
        // e = both (extension method).
        let form = match name {
            "len" | "isEmpty" | "any" | "all" | "distinct" | "concat" | "enumerate" => 'e',
            "str" | "int" | "float" | "bool" | "list" | "dict" | "isList" | "isDict"
            | "isString" | "range" | "switch" | "coalesce" | "let" | "regex" | "abs" | "round"
            | "isInteger" | "isNumber" | "isBoolean" => 'f',
            "max" | "min" => '*',
            "toLower" | "toUpper" | "trim" | "trimLeft" | "trimRight" | "startsWith"
            | "endsWith" | "select" | "where" | "map" | "filter" | "first" | "last" | "flatten"
            | "keys" | "values" | "items" | "get" | "set" | "mergeWith" | "zip" | "sum"
            | "contains" | "containsKey" | "toList" | "search" | "searchAll" | "join" | "split"
            | "rightSplit" | "replace" | "matches" | "take" | "limit" | "skip" | "reverse"
            | "count" | "substring" | "indexOf" | "orderBy" | "orderByDescending"
            | "selectMany" | "format" => 'm',
            _ if KNOWN_UNIMPLEMENTED.contains(&name) => return Err(unsupported(name)),
            _ => return Err(rt(format!("Unknown function \"{name}\""))),
        };
        if (form == 'f' && method) || (form == 'm' && !method) {
            return Err(no_match(name));
        }
        c.run()
    }
}

/// The size of whichever operand of `*` is the string or the list.
fn recv_size(a: &Val, b: &Val) -> i64 {
    match (a, b) {
        (Val::Str(_) | Val::Seq(..), _) => a.size(),
        _ => b.size(),
    }
}

fn insert(pairs: &mut Vec<(Val, Val)>, k: Val, v: Val) -> R<()> {
    if !hashable(&k) {
        return Err(rt(format!(
            "TypeError: unhashable type: '{}'",
            k.type_name()
        )));
    }
    match pairs.iter_mut().find(|(x, _)| eq(x, &k)) {
        Some(slot) => slot.1 = v,
        None => pairs.push((k, v)),
    }
    Ok(())
}

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
    let (x, y) = (f(a), f(b));
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

/// Compiles a Python `re` pattern with the `regex` crate, refusing what the two read
/// differently: backreferences, lookaround, possessive/atomic groups, `\Z`, `(?P=...)`,
/// and classes whose meaning differs (`\d` is Unicode in both; `\b` likewise).
fn compile(p: &str, ignore_case: bool, multi_line: bool, dot_all: bool) -> R<Rc<Pattern>> {
    let refuse = || unsupported(&format!("regex pattern {p:?}"));
    let chars: Vec<char> = p.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                let n = chars.get(i + 1).copied().unwrap_or(' ');
                if n.is_ascii_digit() || "ZAGzbBpPNuUxQEKk".contains(n) && !"AbB".contains(n) {
                    return Err(refuse());
                }
                i += 2;
                continue;
            }
            '(' if chars.get(i + 1) == Some(&'?') => {
                let n = chars.get(i + 2).copied().unwrap_or(' ');
                if n != ':' && n != 'P' {
                    return Err(refuse());
                }
                if n == 'P' && chars.get(i + 3) != Some(&'<') {
                    return Err(refuse());
                }
            }
            '[' if chars.get(i + 1) == Some(&'[') => return Err(refuse()),
            '{' | '}' | '&' | '~' | '-' if chars.get(i + 1) == Some(&chars[i]) => {
                return Err(refuse())
            }
            _ => {}
        }
        i += 1;
    }
    let re = regex::RegexBuilder::new(p)
        .case_insensitive(ignore_case)
        .multi_line(multi_line)
        .dot_matches_new_line(dot_all)
        .build()
        .map_err(|_| refuse())?;
    if re.capture_names().flatten().next().is_some() {
        return Err(refuse());
    }
    Ok(Rc::new(Pattern {
        groups: re.captures_len() - 1,
        dollar: p.contains('$'),
        space: p.contains("\\s") || p.contains("\\S"),
        re,
    }))
}

/// One call being resolved: its receiver, positional arguments, named ones.
struct Call<'a, 'l> {
    ev: &'a Eval<'l>,
    name: &'a str,
    recv: Option<Val>,
    pos: Vec<&'a Arg>,
    named: Vec<(String, &'a Expr)>,
    scope: &'a Rc<Scope>,
}

impl<'a, 'l> Call<'a, 'l> {
    fn new(
        ev: &'a Eval<'l>,
        name: &'a str,
        recv: Option<Val>,
        args: &'a [Arg],
        scope: &'a Rc<Scope>,
    ) -> R<Self> {
        let no_kwargs = matches!(name, "dict" | "switch" | "set");
        let mut pos = Vec::new();
        let mut named = Vec::new();
        for a in args {
            match a {
                Arg::Pair(Expr::Keyword(k), v) if !no_kwargs => {
                    if named.iter().any(|(n, _)| n == k) {
                        return Err(rt("MappingTranslationException"));
                    }
                    named.push((k.clone(), v));
                }
                Arg::Pair(_, _) if !no_kwargs => return Err(rt("MappingTranslationException")),
                Arg::Missing => return Err(unsupported("empty argument slot")),
                a => pos.push(a),
            }
        }
        Ok(Call {
            ev,
            name,
            recv,
            pos,
            named,
            scope,
        })
    }

    fn fail(&self) -> YaqlError {
        no_match(self.name)
    }

    /// The expression of positional argument `i` or of the named one `kw`.
    fn expr(&self, i: usize, kw: &str) -> Option<&'a Expr> {
        if let Some(a) = self.pos.get(i) {
            return match a {
                Arg::Value(e) => Some(e),
                _ => None,
            };
        }
        self.named.iter().find(|(n, _)| n == kw).map(|(_, e)| *e)
    }

    /// Checks that the arguments fit parameters `params` (after the receiver, when the
    /// call is a method) with `required` of them mandatory.
    fn shape(&self, params: &[&str], required: usize) -> R<()> {
        if self.pos.len() > params.len() {
            return Err(self.fail());
        }
        for (n, _) in &self.named {
            let at = params
                .iter()
                .position(|p| p == n)
                .ok_or_else(|| self.fail())?;
            if at < self.pos.len() {
                return Err(self.fail());
            }
        }
        for (i, p) in params.iter().enumerate().take(required) {
            if self.expr(i, p).is_none() {
                return Err(self.fail());
            }
        }
        Ok(())
    }

    fn val(&self, i: usize, kw: &str) -> R<Option<Val>> {
        match self.expr(i, kw) {
            Some(e) => self.ev.eval(e, self.scope).map(Some),
            None => Ok(None),
        }
    }

    fn all_pos(&self) -> R<Vec<Val>> {
        if !self.named.is_empty() {
            return Err(self.fail());
        }
        self.pos
            .iter()
            .map(|a| match a {
                Arg::Value(e) => self.ev.eval(e, self.scope),
                _ => Err(self.fail()),
            })
            .collect()
    }

    /// Evaluates a lambda argument on `args` (`$1`, `$2`, ...; `$` is `$1`).
    fn lambda(&self, e: &Expr, args: &[Val]) -> R<Val> {
        let s = Scope::child(self.scope);
        for (i, a) in args.iter().enumerate() {
            s.set(&(i + 1).to_string(), a.clone());
        }
        self.ev.eval(e, &s)
    }

    fn recv_or_first(&mut self) -> R<Val> {
        match self.recv.take() {
            Some(v) => Ok(v),
            None => {
                if self.pos.is_empty() {
                    return Err(self.fail());
                }
                let a = self.pos.remove(0);
                match a {
                    Arg::Value(e) => self.ev.eval(e, self.scope),
                    _ => Err(self.fail()),
                }
            }
        }
    }

    fn string(&self, v: Option<Val>, nullable: bool) -> R<Option<String>> {
        match v {
            Some(Val::Str(s)) => Ok(Some(s)),
            Some(Val::Null) if nullable => Ok(None),
            None => Ok(None),
            _ => Err(self.fail()),
        }
    }

    fn int(&self, v: Option<Val>, default: i64) -> R<i64> {
        match v {
            None => Ok(default),
            Some(v) => as_int(&v).ok_or_else(|| self.fail()),
        }
    }

    fn coll(&self, v: &Val) -> R<Vec<Val>> {
        self.ev.iterable(v).ok_or_else(|| self.fail())?
    }

    fn run(&mut self) -> R<Val> {
        let name = self.name;
        match name {
            "let" => {
                let s = Scope::child(self.scope);
                for (i, a) in self.pos.iter().enumerate() {
                    let Arg::Value(e) = a else {
                        return Err(self.fail());
                    };
                    s.set(&(i + 1).to_string(), self.ev.eval(e, self.scope)?);
                }
                for (k, e) in &self.named {
                    s.set(k, self.ev.eval(e, self.scope)?);
                }
                Ok(Val::Ctx(s))
            }
            "switch" => {
                for a in &self.pos {
                    let Arg::Pair(c, d) = a else {
                        return Err(self.fail());
                    };
                    if self.lambda(c, &[])?.truthy() {
                        return self.lambda(d, &[]);
                    }
                }
                Ok(Val::Null)
            }
            "coalesce" => {
                if !self.named.is_empty() {
                    return Err(self.fail());
                }
                for a in &self.pos {
                    let Arg::Value(e) = a else {
                        return Err(self.fail());
                    };
                    let v = self.lambda(e, &[])?;
                    if !matches!(v, Val::Null) {
                        return Ok(v);
                    }
                }
                Ok(Val::Null)
            }
            "dict" => {
                if self.pos.iter().all(|a| matches!(a, Arg::Pair(..))) {
                    let args: Vec<Arg> = self.pos.iter().map(|a| (*a).clone()).collect();
                    return self.ev.build_dict(&args, self.scope, "dict");
                }
                let vals = self.all_pos()?;
                let [v] = vals.as_slice() else {
                    return Err(self.fail());
                };
                let mut pairs = Vec::new();
                for t in self.coll(v)? {
                    let kv: Vec<Val> = match &t {
                        Val::Str(s) => s.chars().map(|c| Val::Str(c.into())).collect(),
                        Val::Map(m) => m.iter().map(|(k, _)| k.clone()).collect(),
                        t => {
                            // `next(it)` twice: only a short pair reaches a pending error.
                            consume(t)?;
                            let kv = items(t)
                                .cloned()
                                .ok_or_else(|| rt("TypeError: not iterable"))?;
                            if kv.len() < 2 {
                                pending(t)?;
                            }
                            kv
                        }
                    };
                    if kv.len() < 2 {
                        return Err(rt("StopIteration"));
                    }
                    insert(&mut pairs, kv[0].clone(), kv[1].clone())?;
                }
                Ok(Val::Map(pairs))
            }
            "list" => {
                let vals = self.all_pos()?;
                let mut out = Vec::new();
                for v in vals {
                    consume(&v)?;
                    pending(&v)?;
                    match v {
                        Val::Iter(items, _) => out.extend(items),
                        v => out.push(v),
                    }
                }
                Ok(Val::Seq(out, true))
            }
            "abs" => {
                self.shape(&["op"], 1)?;
                match self.val(0, "op")? {
                    Some(Val::Int(i)) => {
                        Ok(Val::Int(i.checked_abs().ok_or_else(|| overflow("abs"))?))
                    }
                    Some(Val::Float(x)) => Ok(Val::Float(x.abs())),
                    _ => Err(self.fail()),
                }
            }
            "round" => {
                self.shape(&["number", "ndigits"], 1)?;
                let number = self.val(0, "number")?.unwrap_or(Val::Null);
                let ndigits = self.int(self.val(1, "ndigits")?, 0)?;
                match number {
                    Val::Int(i) if ndigits >= 0 => Ok(Val::Int(i)),
                    Val::Float(x) if ndigits == 0 => Ok(Val::Float(x.round_ties_even())),
                    Val::Int(_) | Val::Float(_) => Err(unsupported("round to other digits")),
                    _ => Err(self.fail()),
                }
            }
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
            "regex" => {
                self.shape(&["pattern", "ignoreCase", "multiLine", "dotAll"], 1)?;
                let p = self
                    .string(self.val(0, "pattern")?, false)?
                    .ok_or_else(|| self.fail())?;
                // Untyped with a default False: yaql types them bool, null allowed.
                let flag = |i: usize, kw: &str| -> R<bool> {
                    match self.val(i, kw)? {
                        None | Some(Val::Null) => Ok(false),
                        Some(Val::Bool(b)) => Ok(b),
                        Some(_) => Err(self.fail()),
                    }
                };
                let (ic, ml, da) = (
                    flag(1, "ignoreCase")?,
                    flag(2, "multiLine")?,
                    flag(3, "dotAll")?,
                );
                Ok(Val::Regex(compile(&p, ic, ml, da)?))
            }
            "range" => {
                let vals = self.all_pos()?;
                let ints: Vec<i64> = vals
                    .iter()
                    .map(|v| as_int(v).ok_or_else(|| self.fail()))
                    .collect::<R<_>>()?;
                let (start, stop, step) = match ints.as_slice() {
                    [stop] => (0, *stop, 1),
                    [a, b] => (*a, *b, 1),
                    [a, b, c] => (*a, *b, *c),
                    _ => return Err(self.fail()),
                };
                if step == 0 {
                    return Err(rt("ValueError: range() arg 3 must not be zero"));
                }
                let mut out = Vec::new();
                let mut i = start;
                while (step > 0 && i < stop) || (step < 0 && i > stop) {
                    if self.ev.limits.limit_iterators >= 0
                        && out.len() as i64 >= self.ev.limits.limit_iterators
                    {
                        // yaql's range is lazy: reading past the limit fails, later.
                        let e = too_large(self.ev.limits.limit_iterators);
                        return Ok(Val::Iter(out, Tail::new(Some(Box::new(e)))));
                    }
                    out.push(Val::Int(i));
                    i = match i.checked_add(step) {
                        Some(n) => n,
                        None => break,
                    };
                }
                Ok(iter(out))
            }
            "max" | "min" if self.recv.is_none() => {
                let vals = self.all_pos()?;
                let [a, b] = vals.as_slice() else {
                    return Err(self.fail());
                };
                let b_gt_a = self.ev.compare(">", b, a)?.truthy();
                Ok(match (name, b_gt_a) {
                    ("max", true) | ("min", false) => b.clone(),
                    _ => a.clone(),
                })
            }
            _ => self.run_method(),
        }
    }

    fn convert(&self, name: &str, v: Val) -> R<Val> {
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

    fn run_method(&mut self) -> R<Val> {
        let name = self.name;
        // Functions whose first parameter may be the receiver or the first argument.
        let recv = self.recv_or_first()?;
        match name {
            "len" => {
                self.shape(&[], 0)?;
                match &recv {
                    Val::Str(s) => Ok(Val::Int(s.chars().count() as i64)),
                    Val::Map(m) => Ok(Val::Int(m.len() as i64)),
                    // Sequences and sets are measured, not iterated: no limit applies.
                    Val::Seq(a, _) | Val::View(a) => Ok(Val::Int(a.len() as i64)),
                    Val::Iter(..) => Ok(Val::Int(self.coll(&recv)?.len() as i64)),
                    _ => Err(self.fail()),
                }
            }
            "isEmpty" => {
                self.shape(&["trim", "chars"], 0)?;
                let s = self.string(Some(recv), true)?;
                // `trim_spaces` is a bool parameter (its default True makes it one).
                let trim = match self.val(0, "trim")? {
                    None => true,
                    Some(Val::Bool(b)) => b,
                    Some(_) => return Err(self.fail()),
                };
                let chars = self.string(self.val(1, "chars")?, true)?;
                Ok(Val::Bool(match s {
                    None => true,
                    Some(s) if trim => python::strip(&s, chars.as_deref()).is_empty(),
                    Some(s) => s.is_empty(),
                }))
            }
            "toLower" | "toUpper" => {
                self.shape(&[], 0)?;
                let s = self.string(Some(recv), false)?.ok_or_else(|| self.fail())?;
                // Unicode case mapping (full, with final sigma), as Python's lower()/upper().
                Ok(Val::Str(if name == "toLower" {
                    s.to_lowercase()
                } else {
                    s.to_uppercase()
                }))
            }
            "trimLeft" | "trimRight" => {
                self.shape(&["chars"], 0)?;
                let s = self.string(Some(recv), false)?.ok_or_else(|| self.fail())?;
                let chars = self.string(self.val(0, "chars")?, true)?;
                Ok(Val::Str(if name == "trimLeft" {
                    python::lstrip(&s, chars.as_deref()).into()
                } else {
                    python::rstrip(&s, chars.as_deref()).into()
                }))
            }
            "trim" => {
                self.shape(&["chars"], 0)?;
                let s = self.string(Some(recv), false)?.ok_or_else(|| self.fail())?;
                let chars = self.string(self.val(0, "chars")?, true)?;
                Ok(Val::Str(python::strip(&s, chars.as_deref()).into()))
            }
            "startsWith" | "endsWith" => {
                let s = self.string(Some(recv), false)?.ok_or_else(|| self.fail())?;
                let vals = self.all_pos()?;
                let mut hit = false;
                for v in vals {
                    let Val::Str(p) = v else {
                        return Err(self.fail());
                    };
                    hit |= if name == "startsWith" {
                        s.starts_with(&p)
                    } else {
                        s.ends_with(&p)
                    };
                }
                Ok(Val::Bool(hit))
            }
            "split" | "rightSplit" => self.split(recv),
            "join" => {
                self.shape(&["separator"], 1)?;
                let other = self.val(0, "separator")?.unwrap_or(Val::Null);
                let (seq, sep) = match (&recv, &other) {
                    (_, Val::Str(sep)) if items(&recv).is_some() => (recv.clone(), sep.clone()),
                    (Val::Str(sep), _) if items(&other).is_some() => (other.clone(), sep.clone()),
                    _ => return Err(self.fail()),
                };
                let parts = self
                    .coll(&seq)?
                    .into_iter()
                    .map(|v| {
                        self.convert("str", v).and_then(|s| match s {
                            Val::Str(s) => Ok(s),
                            _ => Err(self.fail()),
                        })
                    })
                    .collect::<R<Vec<_>>>()?;
                Ok(Val::Str(parts.join(&sep)))
            }
            "replace" => self.replace(recv),
            "matches" => {
                self.shape(&["x"], 1)?;
                let other = self.val(0, "x")?.unwrap_or(Val::Null);
                match (&recv, &other) {
                    (Val::Regex(p), Val::Str(s)) => Ok(Val::Bool(p.is_match(s)?)),
                    (Val::Str(s), Val::Str(p)) => {
                        Ok(Val::Bool(compile(p, false, false, false)?.is_match(s)?))
                    }
                    _ => Err(self.fail()),
                }
            }
            "search" | "searchAll" => {
                self.shape(&["string", "selector"], 1)?;
                let (Val::Regex(p), Some(Val::Str(s))) = (&recv, self.val(0, "string")?) else {
                    return Err(self.fail());
                };
                let selector = self.expr(1, "selector");
                let mut found = Vec::new();
                for c in p.matches(&s)? {
                    found.push(match selector {
                        None => Val::Str(c.get(0).map(|m| m.as_str()).unwrap_or("").into()),
                        Some(e) => {
                            // `_publish_match`: `$1` the whole match, `$2`... the groups,
                            // each {value, start, end} in code points (-1 if unset).
                            let sc = Scope::child(self.scope);
                            for i in 0..=p.groups {
                                let (value, start, end) = match c.get(i) {
                                    Some(m) => (
                                        Val::Str(m.as_str().into()),
                                        s[..m.start()].chars().count() as i64,
                                        s[..m.end()].chars().count() as i64,
                                    ),
                                    None => (Val::Null, -1, -1),
                                };
                                let rec = Val::Map(vec![
                                    (Val::Str("value".into()), value),
                                    (Val::Str("start".into()), Val::Int(start)),
                                    (Val::Str("end".into()), Val::Int(end)),
                                ]);
                                sc.set(&(i + 1).to_string(), rec);
                            }
                            self.ev.eval(e, &sc)?
                        }
                    });
                    if self.name == "search" {
                        break;
                    }
                }
                Ok(if self.name == "search" {
                    found.pop().unwrap_or(Val::Null)
                } else {
                    iter(found)
                })
            }
            "format" => Err(self.fail()),
            "substring" => {
                self.shape(&["start", "length"], 1)?;
                let Val::Str(s) = &recv else {
                    return Err(self.fail());
                };
                let chars: Vec<char> = s.chars().collect();
                let n = chars.len() as i64;
                let mut start = self.int(self.val(0, "start")?, 0)?;
                let mut length = self.int(self.val(1, "length")?, -1)?;
                if length < 0 {
                    length = n;
                }
                if start < 0 {
                    start += n;
                }
                let (a, b) = (
                    python::slice_bound(start, chars.len()),
                    python::slice_bound(start.saturating_add(length), chars.len()),
                );
                Ok(Val::Str(if a < b {
                    chars[a..b].iter().collect()
                } else {
                    String::new()
                }))
            }
            "indexOf" if matches!(recv, Val::Str(_)) => {
                self.shape(&["sub", "start"], 1)?;
                let Val::Str(s) = &recv else {
                    return Err(self.fail());
                };
                let sub = self
                    .string(self.val(0, "sub")?, false)?
                    .ok_or_else(|| self.fail())?;
                let start = self.int(self.val(1, "start")?, 0)?;
                let chars: Vec<char> = s.chars().collect();
                let subc: Vec<char> = sub.chars().collect();
                if start > chars.len() as i64 {
                    return Ok(Val::Int(-1));
                }
                let from = python::slice_bound(start, chars.len());
                if from > chars.len() || (subc.is_empty() && from > chars.len()) {
                    return Ok(Val::Int(-1));
                }
                let hit = (from..=chars.len().saturating_sub(subc.len())).find(|&i| {
                    i + subc.len() <= chars.len() && chars[i..i + subc.len()] == subc[..]
                });
                Ok(Val::Int(hit.map(|i| i as i64).unwrap_or(-1)))
            }
            "concat" => {
                let mut vals = vec![recv];
                vals.extend(self.all_pos()?);
                if vals.iter().all(|v| matches!(v, Val::Str(_))) {
                    return Ok(Val::Str(
                        vals.iter()
                            .map(|v| v.py_str())
                            .collect::<R<Vec<_>>>()?
                            .concat(),
                    ));
                }
                if vals.iter().any(|v| items(v).is_none()) {
                    return Err(self.fail());
                }
                self.ev.chain(&vals, false)
            }
            _ => self.collection_method(recv),
        }
    }

    fn split(&self, recv: Val) -> R<Val> {
        let right = self.name == "rightSplit";
        self.shape(&["separator", "maxSplits"], 0)?;
        let Val::Str(s) = recv else {
            return Err(self.fail());
        };
        let sep = self.val(0, "separator")?;
        if let Some(Val::Regex(p)) = &sep {
            if right {
                return Err(self.fail());
            }
            return self.regex_split(p, &s, self.val(1, "maxSplits")?);
        }
        let sep = self.string(sep, true)?;
        let max = self.int(self.val(1, "maxSplits")?, -1)?;
        let parts = if right {
            python::rsplit(&s, sep.as_deref(), max)
        } else {
            python::split(&s, sep.as_deref(), max)
        }
        .map_err(|python::EmptySeparator| rt("ValueError: empty separator"))?;
        Ok(Val::Seq(
            parts.into_iter().map(|p| Val::Str(p.into())).collect(),
            false,
        ))
    }

    /// `re.split(string, maxsplit)`; patterns with groups (Python returns them too) are
    /// refused.
    fn regex_split(&self, p: &Pattern, s: &str, max: Option<Val>) -> R<Val> {
        if p.groups > 0 {
            return Err(unsupported("regex split with groups"));
        }
        let max = self.int(max, 0)?;
        let mut out = Vec::new();
        let mut last = 0;
        for (n, c) in p.matches(s)?.iter().enumerate() {
            if max > 0 && n as i64 >= max {
                break;
            }
            let Some(m) = c.get(0) else { continue };
            out.push(Val::Str(s[last..m.start()].into()));
            last = m.end();
        }
        out.push(Val::Str(s[last..].into()));
        Ok(Val::Seq(out, false))
    }

    /// `regexp.sub(repl, string, count)` with a literal replacement (one holding a
    /// backslash, a template in Python, is refused).
    fn regex_replace(&self, p: &Pattern, s: &str, repl: &str, count: i64) -> R<Val> {
        if repl.contains('\\') {
            return Err(unsupported("regex replacement template"));
        }
        let mut out = String::new();
        let mut last = 0;
        for (n, c) in p.matches(s)?.iter().enumerate() {
            if count > 0 && n as i64 >= count {
                break;
            }
            let Some(m) = c.get(0) else { continue };
            out.push_str(&s[last..m.start()]);
            out.push_str(repl);
            last = m.end();
        }
        out.push_str(&s[last..]);
        Ok(Val::Str(out))
    }

    fn replace(&self, recv: Val) -> R<Val> {
        self.shape(&["old", "new", "count"], 1)?;
        let old = self.val(0, "old")?.unwrap_or(Val::Null);
        if let Val::Regex(p) = &recv {
            let Val::Str(s) = old else {
                return Err(self.fail());
            };
            let repl = self
                .string(self.val(1, "new")?, false)?
                .ok_or_else(|| self.fail())?;
            let count = self.int(self.val(2, "count")?, 0)?;
            return self.regex_replace(p, &s, &repl, count);
        }
        let Val::Str(s) = &recv else {
            // collections.replace(collection, position, value, count=1): the items from
            // `position` (`count` of them, all when negative) give way to one `value`.
            let all = self.coll(&recv)?;
            let position = as_int(&old).ok_or_else(|| self.fail())?;
            let value = self.val(1, "new")?.ok_or_else(|| self.fail())?;
            let count = self.int(self.val(2, "count")?, 1)?;
            let mut out = Vec::new();
            let mut yielded = false;
            for (i, t) in all.into_iter().enumerate() {
                let i = i as i64;
                let hit = (count >= 0 && position <= i && i < position.saturating_add(count))
                    || (count < 0 && i >= position);
                if !hit {
                    out.push(t);
                } else if !yielded {
                    yielded = true;
                    out.push(value.clone());
                }
            }
            return Ok(iter(out));
        };
        match old {
            Val::Regex(p) => {
                let repl = self
                    .string(self.val(1, "new")?, false)?
                    .ok_or_else(|| self.fail())?;
                let count = self.int(self.val(2, "count")?, 0)?;
                self.regex_replace(&p, s, &repl, count)
            }
            Val::Map(pairs) => {
                // replace_with_dict(string, replacements, count): positional count only.
                if self.expr(1, "new").is_some() && self.pos.len() > 2 {
                    return Err(self.fail());
                }
                let count = self.int(self.val(1, "new")?, -1)?;
                let mut out = s.clone();
                for (k, v) in pairs {
                    let k = self.convert("str", k)?.py_str()?;
                    let v = self.convert("str", v)?.py_str()?;
                    out = python::replace(&out, &k, &v, count);
                }
                Ok(Val::Str(out))
            }
            Val::Str(old) => {
                let new = self
                    .string(self.val(1, "new")?, false)?
                    .ok_or_else(|| self.fail())?;
                let count = self.int(self.val(2, "count")?, -1)?;
                Ok(Val::Str(python::replace(s, &old, &new, count)))
            }
            _ => Err(self.fail()),
        }
    }

    fn collection_method(&self, recv: Val) -> R<Val> {
        let name = self.name;
        match name {
            "keys" | "values" | "items" => {
                self.shape(&[], 0)?;
                let Val::Map(m) = recv else {
                    return Err(self.fail());
                };
                Ok(match name {
                    "keys" => Val::View(m.into_iter().map(|(k, _)| k).collect()),
                    "values" => Val::Values(m.into_iter().map(|(_, v)| v).collect()),
                    _ => Val::View(
                        m.into_iter()
                            .map(|(k, v)| Val::Seq(vec![k, v], true))
                            .collect(),
                    ),
                })
            }
            "get" => {
                self.shape(&["key", "default"], 1)?;
                let Val::Map(m) = recv else {
                    return Err(self.fail());
                };
                let k = self.val(0, "key")?.unwrap_or(Val::Null);
                if !hashable(&k) {
                    return Err(rt("unhashable key"));
                }
                let d = self.val(1, "default")?.unwrap_or(Val::Null);
                Ok(get(&m, &k).cloned().unwrap_or(d))
            }
            "containsKey" => {
                self.shape(&["key"], 1)?;
                let Val::Map(m) = recv else {
                    return Err(self.fail());
                };
                let k = self.val(0, "key")?.unwrap_or(Val::Null);
                Ok(Val::Bool(get(&m, &k).is_some()))
            }
            "set" => {
                let Val::Map(mut m) = recv else {
                    return Err(self.fail());
                };
                if !self.pos.is_empty() && self.pos.iter().all(|a| matches!(a, Arg::Pair(..))) {
                    for a in &self.pos {
                        let Arg::Pair(k, v) = a else {
                            return Err(self.fail());
                        };
                        let k = self.ev.eval(k, self.scope)?;
                        let v = self.ev.eval(v, self.scope)?;
                        insert(&mut m, k, v)?;
                    }
                    return Ok(Val::Map(m));
                }
                let vals = self.all_pos()?;
                match vals.as_slice() {
                    [Val::Map(r)] => {
                        for (k, v) in r {
                            insert(&mut m, k.clone(), v.clone())?;
                        }
                    }
                    [k, v] => insert(&mut m, k.clone(), v.clone())?,
                    _ => return Err(self.fail()),
                }
                Ok(Val::Map(m))
            }
            "mergeWith" => {
                self.shape(&["another", "listMerger", "itemMerger", "maxLevels"], 1)?;
                if self.expr(1, "listMerger").is_some() || self.expr(2, "itemMerger").is_some() {
                    return Err(unsupported("mergeWith with mergers"));
                }
                let (Val::Map(a), Some(Val::Map(b))) = (&recv, self.val(0, "another")?) else {
                    return Err(self.fail());
                };
                let levels = self.int(self.val(3, "maxLevels")?, 0)?;
                Ok(Val::Map(merge(a, &b, levels)?))
            }
            _ => self.query(recv),
        }
    }

    fn query(&self, recv: Val) -> R<Val> {
        let name = self.name;
        let (all, rest) = self.ev.lazy_items(&recv).ok_or_else(|| self.fail())??;
        match name {
            "select" | "where" | "map" | "filter" | "selectMany" => {
                self.shape(&["f"], 1)?;
                let e = self.expr(0, "f").ok_or_else(|| self.fail())?;
                let mut out = Vec::new();
                for t in all {
                    let r = match self.lambda(e, std::slice::from_ref(&t)) {
                        Ok(r) => r,
                        Err(e) => return Ok(Val::Iter(out, Tail::new(Some(Box::new(e))))),
                    };
                    match name {
                        "select" | "map" => out.push(r),
                        "selectMany" => match items(&r) {
                            Some(inner) => {
                                out.extend(inner.iter().cloned());
                                if let Err(e) = pending(&r) {
                                    return Ok(Val::Iter(out, Tail::new(Some(Box::new(e)))));
                                }
                            }
                            None => out.push(r),
                        },
                        _ if r.truthy() => out.push(t),
                        _ => {}
                    }
                }
                return Ok(Val::Iter(out, Tail::new(rest)));
            }
            "first" => {
                self.shape(&["default"], 0)?;
                if let Some(v) = all.first() {
                    return Ok(v.clone());
                }
            }
            "take" | "limit" | "skip" => {
                self.shape(&["count"], 1)?;
                let n = match self.val(0, "count")? {
                    Some(v) => as_int(&v).ok_or_else(|| self.fail())?,
                    None => return Err(self.fail()),
                };
                if n < 0 {
                    return Err(rt("ValueError: islice() count must be non-negative"));
                }
                let n = n as usize;
                return Ok(if name == "skip" {
                    Val::Iter(all.into_iter().skip(n).collect(), Tail::new(rest))
                } else if all.len() >= n {
                    iter(all.into_iter().take(n).collect())
                } else {
                    Val::Iter(all, Tail::new(rest))
                });
            }
            "indexOf" => {
                self.shape(&["item"], 1)?;
                let v = self.val(0, "item")?.unwrap_or(Val::Null);
                if let Some(i) = all.iter().position(|t| eq(t, &v)) {
                    return Ok(Val::Int(i as i64));
                }
                if let Some(e) = rest {
                    return Err(*e);
                }
                return Ok(Val::Int(-1));
            }
            "any" | "all" => {
                self.shape(&["predicate"], 0)?;
                let e = self.expr(0, "predicate");
                for t in all {
                    let hit = match e {
                        Some(e) => self.lambda(e, std::slice::from_ref(&t))?.truthy(),
                        None => t.truthy(),
                    };
                    if name == "any" && hit {
                        return Ok(Val::Bool(true));
                    }
                    if name == "all" && !hit {
                        return Ok(Val::Bool(false));
                    }
                }
                if let Some(e) = rest {
                    return Err(*e);
                }
                return Ok(Val::Bool(name == "all"));
            }
            "flatten" => {
                self.shape(&[], 0)?;
                let mut out = Vec::new();
                let err = flatten(&all, &mut out)?;
                return Ok(Val::Iter(out, Tail::new(err.map(Box::new).or(rest))));
            }
            "zip" => {
                // Python's zip: round by round, each collection in turn; the first one
                // that has no more items ends it (or raises its pending error).
                let mut cols = vec![(all, rest)];
                for v in self.all_pos()? {
                    cols.push(self.ev.lazy_items(&v).ok_or_else(|| self.fail())??);
                }
                let mut out = Vec::new();
                for i in 0.. {
                    let mut row = Vec::new();
                    for (items, rest) in &cols {
                        match items.get(i) {
                            Some(t) => row.push(t.clone()),
                            None => {
                                let err = rest.clone();
                                return Ok(Val::Iter(out, Tail::new(err)));
                            }
                        }
                    }
                    out.push(Val::Seq(row, true));
                }
                return Ok(iter(out));
            }
            "contains" => {
                self.shape(&["value"], 1)?;
                let v = self.val(0, "value")?.unwrap_or(Val::Null);
                if all.iter().any(|t| eq(t, &v)) {
                    return Ok(Val::Bool(true));
                }
                return match rest {
                    Some(e) => Err(*e),
                    None => Ok(Val::Bool(false)),
                };
            }
            _ => {}
        }
        // Generators (distinct, enumerate) keep the pending error for their consumer; the
        // others read the collection to its end.
        let rest = if matches!(
            name,
            "distinct" | "enumerate" | "orderBy" | "orderByDescending"
        ) {
            rest
        } else {
            if let Some(e) = rest {
                return Err(*e);
            }
            None
        };
        let coll = all;
        match name {
            "first" | "last" => {
                self.shape(&["default"], 0)?;
                let item = if name == "first" {
                    coll.first()
                } else {
                    coll.last()
                };
                match item {
                    Some(v) => Ok(v.clone()),
                    None => self.val(0, "default")?.ok_or_else(|| rt("StopIteration")),
                }
            }
            "distinct" => {
                self.shape(&["keySelector"], 0)?;
                let e = self.expr(0, "keySelector");
                let mut keys: Vec<Val> = Vec::new();
                let mut out = Vec::new();
                // Lazy in yaql: an error waits for the consumer that reads that far.
                for t in coll {
                    let k = match e {
                        Some(e) => match self.lambda(e, std::slice::from_ref(&t)) {
                            Ok(k) => k,
                            Err(err) => return Ok(Val::Iter(out, Tail::new(Some(Box::new(err))))),
                        },
                        None => t.clone(),
                    };
                    if !hashable(&k) {
                        let err = rt("TypeError: unhashable");
                        return Ok(Val::Iter(out, Tail::new(Some(Box::new(err)))));
                    }
                    if !keys.iter().any(|x| eq(x, &k)) {
                        keys.push(k);
                        out.push(t);
                    }
                }
                Ok(Val::Iter(out, Tail::new(rest)))
            }
            "reverse" => {
                self.shape(&[], 0)?;
                Ok(iter(coll.into_iter().rev().collect()))
            }
            "count" => {
                self.shape(&[], 0)?;
                Ok(Val::Int(coll.len() as i64))
            }
            "enumerate" => {
                self.shape(&["start"], 0)?;
                let start = self.val(0, "start")?.unwrap_or(Val::Int(0));
                let Some(start) = as_int(&start) else {
                    // `start=0` makes it an int parameter (null passes, and Python's
                    // enumerate then fails).
                    return Err(self.fail());
                };
                let out = coll
                    .into_iter()
                    .enumerate()
                    .map(|(i, t)| {
                        let n = start
                            .checked_add(i as i64)
                            .ok_or_else(|| overflow("enumerate"))?;
                        Ok(Val::Seq(vec![Val::Int(n), t], false))
                    })
                    .collect::<R<Vec<_>>>()?;
                Ok(Val::Iter(out, Tail::new(rest)))
            }
            "orderBy" | "orderByDescending" => {
                self.shape(&["selector"], 1)?;
                let e = self.expr(0, "selector").ok_or_else(|| self.fail())?;
                // yaql sorts when the result is first iterated: until then an error (of
                // the input, the selector or the comparison) waits. Such a result is kept
                // as an empty iterator holding that error (no length, always true, as
                // the OrderingIterable it stands for).
                let deferred =
                    |e: YaqlError| Ok(Val::Iter(Vec::new(), Tail::new(Some(Box::new(e)))));
                if let Some(e) = rest {
                    return deferred(*e);
                }
                let mut keyed = Vec::new();
                for t in coll {
                    match self.lambda(e, std::slice::from_ref(&t)) {
                        Ok(k) => keyed.push((k, t)),
                        Err(err) => return deferred(err),
                    }
                }
                // yaql sorts with its `<` and `>`: numbers with numbers, strings with
                // strings, null below anything. Keys of two other kinds fail in yaql
                // only if the sort happens to compare them: refused rather than guessed.
                let non_null: Vec<&Val> = keyed
                    .iter()
                    .map(|(k, _)| k)
                    .filter(|k| !matches!(k, Val::Null))
                    .collect();
                let all_num = non_null.iter().all(|k| is_number(k));
                let all_str = non_null.iter().all(|k| matches!(k, Val::Str(_)));
                if !(all_num || all_str || non_null.len() <= 1) {
                    return deferred(unsupported("orderBy over keys of mixed types"));
                }
                let desc = name == "orderByDescending";
                keyed.sort_by(|(a, _), (b, _)| {
                    let lt = self
                        .ev
                        .compare("<", a, b)
                        .map(|v| v.truthy())
                        .unwrap_or(false);
                    let gt = self
                        .ev
                        .compare(">", a, b)
                        .map(|v| v.truthy())
                        .unwrap_or(false);
                    let o = if lt {
                        std::cmp::Ordering::Less
                    } else if gt {
                        std::cmp::Ordering::Greater
                    } else {
                        std::cmp::Ordering::Equal
                    };
                    if desc {
                        o.reverse()
                    } else {
                        o
                    }
                });
                Ok(Val::Ordered(keyed.into_iter().map(|(_, t)| t).collect()))
            }
            "toList" => {
                self.shape(&[], 0)?;
                Ok(match recv {
                    Val::Seq(a, true) => Val::Seq(a, true),
                    _ => Val::Seq(coll, true),
                })
            }
            "sum" | "max" | "min" => {
                self.shape(&["initial"], 0)?;
                let mut acc = self.val(0, "initial")?;
                for t in coll {
                    acc = Some(match acc {
                        None => t,
                        Some(a) => match name {
                            "sum" => self.ev.operator("+", a, t)?,
                            "max" => {
                                if self.ev.compare(">", &t, &a)?.truthy() {
                                    t
                                } else {
                                    a
                                }
                            }
                            _ => {
                                if self.ev.compare(">", &t, &a)?.truthy() {
                                    a
                                } else {
                                    t
                                }
                            }
                        },
                    });
                }
                acc.ok_or_else(|| rt("TypeError: reduce() of empty iterable with no initial value"))
            }
            _ => Err(self.fail()),
        }
    }
}

/// A lazy flatten: the items up to the first pending error of a nested iterator, and
/// that error (nested collections are not limited: only the outer one is an argument).
fn flatten(items: &[Val], out: &mut Vec<Val>) -> R<Option<YaqlError>> {
    for t in items {
        match t {
            Val::Seq(a, _) | Val::Iter(a, _) | Val::View(a) | Val::Values(a) | Val::Ordered(a) => {
                consume(t)?;
                if let Some(e) = flatten(a, out)? {
                    return Ok(Some(e));
                }
                if let Err(e) = pending(t) {
                    return Ok(Some(e));
                }
            }
            t => out.push(t.clone()),
        }
    }
    Ok(None)
}

fn merge(a: &[(Val, Val)], b: &[(Val, Val)], levels: i64) -> R<Vec<(Val, Val)>> {
    let mut out: Vec<(Val, Val)> = Vec::new();
    for (k, v1) in a {
        let mut v = v1.clone();
        if let Some(v2) = get(b, k) {
            v = match (v1, v2) {
                (Val::Map(x), Val::Map(y)) if levels != 1 => {
                    Val::Map(merge(x, y, if levels == 0 { 0 } else { levels - 1 })?)
                }
                (_, Val::Map(_)) if levels != 1 => return Err(rt("TypeError: Cannot merge")),
                (Val::Seq(x, tx), Val::Seq(y, ty)) if levels != 1 => {
                    if tx != ty {
                        // `lst1 + lst2`: Python adds no list to a tuple.
                        return Err(rt("TypeError: can only concatenate list to list"));
                    }
                    let mut all = x.clone();
                    all.extend(y.iter().cloned());
                    let mut seen: Vec<Val> = Vec::new();
                    for t in all {
                        if !hashable(&t) {
                            return Err(rt("TypeError: unhashable"));
                        }
                        if !seen.iter().any(|s| eq(s, &t)) {
                            seen.push(t);
                        }
                    }
                    Val::Seq(seen, true)
                }
                (_, Val::Seq(..)) if levels != 1 => return Err(rt("TypeError: Cannot merge")),
                _ => v2.clone(),
            };
        }
        out.push((k.clone(), v));
    }
    for (k, v) in b {
        if get(&out, k).is_none() {
            out.push((k.clone(), v.clone()));
        }
    }
    Ok(out)
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
