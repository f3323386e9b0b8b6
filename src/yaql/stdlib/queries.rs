//! yaql's queries and collection functions: `list`, `range`, `len`, `select`, `where`,
//! `first`, `last`, `take`, `skip`, `indexOf`, `any`, `all`, `flatten`, `zip`,
//! `contains`, `distinct`, `reverse`, `count`, `enumerate`, `orderBy`, `toList`, `sum`,
//! `max`, `min`, and `replace` on a collection. Collections are read eagerly, up to the
//! iterator limit; what a lazy yaql query would raise later is kept in its `Tail`.

use super::call::Call;
use super::operators::{compare, operator};
use crate::yaql::error::{overflow, rt, unsupported, YaqlError, R};
use crate::yaql::value::{
    as_int, consume, eq, hashable, is_number, items, iter, pending, too_large, Tail, Val,
};

impl Call<'_> {
    /// `list(...)`: its arguments in a tuple, iterators read into it.
    pub(super) fn list(&mut self) -> R<Val> {
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

    /// `range(stop)`, `range(start, stop)`, `range(start, stop, step)`: a lazy iterator.
    pub(super) fn range(&mut self) -> R<Val> {
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
            if self.ev.limits().limit_iterators >= 0
                && out.len() as i64 >= self.ev.limits().limit_iterators
            {
                // yaql's range is lazy: reading past the limit fails, later.
                let e = too_large(self.ev.limits().limit_iterators);
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

    /// `len()` of a string, a dict, a sequence, a set or an iterator.
    pub(super) fn len(&self, recv: Val) -> R<Val> {
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

    /// `collections.replace(collection, position, value, count=1)`: the items from
    /// `position` (`count` of them, all when negative) give way to one `value`.
    pub(super) fn replace_items(&self, recv: Val, old: Val) -> R<Val> {
        let all = self.coll(&recv)?;
        let position = as_int(&old).ok_or_else(|| self.fail())?;
        let value = self.val(1, "new")?.ok_or_else(|| self.fail())?;
        let count = self.int(self.val(2, "count")?, 1)?;
        let mut out = Vec::new();
        let mut yielded = false;
        for (i, t) in all.into_iter().enumerate() {
            let i = i as i64;
            let hit = position <= i && (count < 0 || i < position.saturating_add(count));
            if !hit {
                out.push(t);
            } else if !yielded {
                yielded = true;
                out.push(value.clone());
            }
        }
        Ok(iter(out))
    }

    /// The queries over any collection (`Iterable()`): `select`, `where`, `first`, `take`,
    /// `any`, `zip`, `distinct`, `orderBy`, `sum`, ... Lazy ones keep the error that
    /// reading past their items raises for the consumer that gets that far.
    pub(super) fn query(&self, recv: Val) -> R<Val> {
        let name = self.name;
        let (all, rest) = self
            .ev
            .limits()
            .lazy_items(&recv)
            .ok_or_else(|| self.fail())??;
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
                    cols.push(
                        self.ev
                            .limits()
                            .lazy_items(&v)
                            .ok_or_else(|| self.fail())??,
                    );
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
                    let lt = compare("<", a, b).map(|v| v.truthy()).unwrap_or(false);
                    let gt = compare(">", a, b).map(|v| v.truthy()).unwrap_or(false);
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
                            "sum" => operator(self.ev.limits(), "+", a, t)?,
                            "max" => {
                                if compare(">", &t, &a)?.truthy() {
                                    t
                                } else {
                                    a
                                }
                            }
                            _ => {
                                if compare(">", &t, &a)?.truthy() {
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
