//! yaql's dict functions: `dict()` and a dict literal, `keys`, `values`, `items`, `get`,
//! `containsKey`, `set`, `mergeWith`. Dicts are pairs in insertion order, keyed by
//! Python's `==` ([`crate::yaql::value::insert`]).

use std::rc::Rc;

use super::call::{Call, Evaluate};
use crate::yaql::error::{no_match, rt, unsupported, R};
use crate::yaql::syntax::Arg;
use crate::yaql::value::{consume, eq, get, hashable, insert, items, pending, Scope, Val};

impl Call<'_> {
    /// `dict(k => v, ...)` or `dict(collection of pairs)`.
    pub(super) fn dict(&mut self) -> R<Val> {
        if self.pos.iter().all(|a| matches!(a, Arg::Pair(..))) {
            let args: Vec<Arg> = self.pos.iter().map(|a| (*a).clone()).collect();
            return build_dict(self.ev, &args, self.scope, "dict");
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

    /// A dict's methods: `keys`, `values`, `items`, `get`, `containsKey`, `set`,
    /// `mergeWith`.
    pub(super) fn dict_method(&self, recv: Val) -> R<Val> {
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
            _ => Err(self.fail()),
        }
    }
}

/// A dict literal (`{k => v}`, `dict(k => v)`): each key and value evaluated, in order.
pub(crate) fn build_dict(ev: &dyn Evaluate, args: &[Arg], scope: &Rc<Scope>, name: &str) -> R<Val> {
    let mut pairs: Vec<(Val, Val)> = Vec::new();
    for a in args {
        let Arg::Pair(k, v) = a else {
            return Err(no_match(name));
        };
        let k = ev.eval(k, scope)?;
        let v = ev.eval(v, scope)?;
        insert(&mut pairs, k, v)?;
    }
    Ok(Val::Map(pairs))
}

/// `mergeWith` without mergers: maps merged `levels` deep (0: all the way), lists
/// concatenated without repeats.
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
