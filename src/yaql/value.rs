//! yaql's values: what Python objects the library passes around, as far as Heat's data
//! and the implemented functions make them. Heat's data comes in as tuples and frozen
//! dicts (`convert_input_data`); queries return lazy iterators, `keys()`/`items()` return
//! set views; `convert_output_data` turns what is left into lists and dicts at the end.
//!
//! The context (`Scope`) is here too: it holds values, and a value (`let(...)`) can hold
//! a context, so the two types live in one file rather than import each other. So are
//! the small readings of a value every part shares (its items, an int, a float, a key
//! set into a dict), with Python's own `==` and hashing.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use serde_json::{Map, Number, Value};

use super::error::{rt, YaqlError, R};
use super::pattern::Pattern;
use crate::python;

#[derive(Debug, Clone)]
pub(crate) enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A tuple (`tuple: true`, yaql's lists and Heat's data) or a Python list (what
    /// `split` returns); both are sequences.
    Seq(Vec<Val>, bool),
    /// A dict (frozen or not), keys in insertion order.
    Map(Vec<(Val, Val)>),
    /// A lazy iterator (map, filter, chain, zip, range): not a sequence, not indexable.
    /// Its items are computed at once; the error that reading past them would raise
    /// (a failing lambda, the iterator limit) waits for a consumer that gets that far.
    Iter(Vec<Val>, Tail),
    /// `dict.keys()` / `dict.items()`: a set-like view (not JSON when it reaches Heat).
    View(Vec<Val>),
    /// `dict.values()`: iterable, neither a sequence nor a set.
    Values(Vec<Val>),
    /// `orderBy(...)`'s result: iterable, without a length, always true.
    Ordered(Vec<Val>),
    Regex(Rc<Pattern>),
    /// A context object (`let(...)`), only good as the left side of `->`.
    Ctx(Rc<Scope>),
}

impl Val {
    pub(crate) fn from_json(v: &Value) -> Val {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Val::Int(i)
                } else {
                    // (Integers beyond i64 are refused before: see `big_int`.)
                    Val::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => Val::Str(s.clone()),
            Value::Array(a) => Val::Seq(a.iter().map(Val::from_json).collect(), true),
            Value::Object(o) => Val::Map(
                o.iter()
                    .map(|(k, v)| (Val::Str(k.clone()), Val::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// `convert_output_data` with the `#iter` limiter: collections become lists and dicts,
    /// each at most `limit` long.
    pub(crate) fn to_json(&self, limit: i64) -> Result<Value, YaqlError> {
        let check = |n: usize| {
            if limit >= 0 && n as i64 > limit {
                Err(too_large(limit))
            } else {
                Ok(())
            }
        };
        consume(self)?;
        Ok(match self {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Int(i) => Value::Number((*i).into()),
            Val::Float(f) => {
                Value::Number(Number::from_f64(*f).ok_or_else(|| YaqlError::Unsupported {
                    name: format!("float {f}"),
                })?)
            }
            Val::Str(s) => Value::String(s.clone()),
            Val::Iter(_, Tail { err: Some(e), .. }) => return Err((**e).clone()),
            Val::Seq(items, _) | Val::Iter(items, _) | Val::Values(items) | Val::Ordered(items) => {
                check(items.len())?;
                Value::Array(
                    items
                        .iter()
                        .map(|v| v.to_json(limit))
                        .collect::<Result<_, _>>()?,
                )
            }
            Val::Map(pairs) => {
                check(pairs.len())?;
                let mut m = Map::new();
                for (k, v) in pairs {
                    let Val::Str(k) = k else {
                        return Err(YaqlError::Runtime(format!(
                            "a dict key {} is not a string: not JSON",
                            k.repr()
                        )));
                    };
                    m.insert(k.clone(), v.to_json(limit)?);
                }
                Value::Object(m)
            }
            Val::View(_) => {
                return Err(YaqlError::Runtime(
                    "the result holds a Python set (keys() or items()): not JSON".into(),
                ))
            }
            Val::Regex(_) | Val::Ctx(_) => {
                return Err(YaqlError::Runtime(format!(
                    "the result holds a {}: not JSON",
                    self.type_name()
                )))
            }
        })
    }

    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Val::Null => "NoneType",
            Val::Bool(_) => "bool",
            Val::Int(_) => "int",
            Val::Float(_) => "float",
            Val::Str(_) => "str",
            Val::Seq(_, true) => "tuple",
            Val::Seq(_, false) => "list",
            Val::Map(_) => "FrozenDict",
            Val::Iter(..) => "iterator",
            Val::View(_) => "set view",
            Val::Values(_) => "dict_values",
            Val::Ordered(_) => "OrderingIterable",
            Val::Regex(_) => "re.Pattern",
            Val::Ctx(_) => "context",
        }
    }

    /// Python's `bool(v)`; iterators and the other objects are always true.
    pub(crate) fn truthy(&self) -> bool {
        match self {
            Val::Null => false,
            Val::Bool(b) => *b,
            Val::Int(i) => *i != 0,
            Val::Float(f) => *f != 0.0,
            Val::Str(s) => !s.is_empty(),
            Val::Seq(a, _) | Val::View(a) | Val::Values(a) => !a.is_empty(),
            Val::Map(m) => !m.is_empty(),
            Val::Iter(..) | Val::Ordered(_) | Val::Regex(_) | Val::Ctx(_) => true,
        }
    }

    /// Python's `str(v)` (yaql's `str()` function special-cases None and booleans).
    pub(crate) fn py_str(&self) -> Result<String, YaqlError> {
        match self {
            Val::Str(s) => Ok(s.clone()),
            other => other.try_repr(),
        }
    }

    pub(crate) fn repr(&self) -> String {
        self.try_repr()
            .unwrap_or_else(|_| format!("<{}>", self.type_name()))
    }

    /// Python's `repr(v)`; objects whose repr names a memory address are refused.
    pub(crate) fn try_repr(&self) -> Result<String, YaqlError> {
        let join = |items: &[Val]| -> Result<String, YaqlError> {
            Ok(items
                .iter()
                .map(Val::try_repr)
                .collect::<Result<Vec<_>, _>>()?
                .join(", "))
        };
        Ok(match self {
            Val::Null => python::repr(&Value::Null),
            Val::Bool(b) => python::repr(&Value::Bool(*b)),
            Val::Int(i) => i.to_string(),
            Val::Float(f) => python::float_repr(*f),
            Val::Str(s) => python::repr(&Value::String(s.clone())),
            Val::Seq(items, true) if items.len() == 1 => format!("({},)", join(items)?),
            Val::Seq(items, true) => format!("({})", join(items)?),
            Val::Seq(items, false) => format!("[{}]", join(items)?),
            Val::Map(pairs) => {
                let inner = pairs
                    .iter()
                    .map(|(k, v)| Ok(format!("{}: {}", k.try_repr()?, v.try_repr()?)))
                    .collect::<Result<Vec<_>, YaqlError>>()?;
                format!("{{{}}}", inner.join(", "))
            }
            _ => {
                return Err(YaqlError::Unsupported {
                    name: format!("str of a {}", self.type_name()),
                })
            }
        })
    }

    /// `sys.getsizeof(v)` as CPython 3.11 reports it for the objects yaql's memory quota
    /// measures; containers count their own slots only, as Python does.
    pub(crate) fn size(&self) -> i64 {
        match self {
            Val::Str(s) => {
                let n = s.chars().count() as i64;
                let max = s.chars().map(|c| c as u32).max().unwrap_or(0);
                if max < 0x80 {
                    49 + n
                } else if max < 0x100 {
                    73 + n
                } else if max < 0x10000 {
                    74 + 2 * n
                } else {
                    76 + 4 * n
                }
            }
            Val::Seq(items, true) => 40 + 8 * items.len() as i64,
            Val::Seq(items, false) => 56 + 8 * items.len() as i64,
            _ => 0,
        }
    }
}

/// What an iterator holds besides its items: the error that reading past them raises,
/// and whether it has been read (a Python iterator is read once; a second read finds it
/// empty, which this module refuses rather than imitates).
#[derive(Debug, Clone)]
pub(crate) struct Tail {
    pub(crate) err: Option<Box<YaqlError>>,
    seen: Rc<Cell<bool>>,
}

impl Tail {
    pub(crate) fn new(err: Option<Box<YaqlError>>) -> Tail {
        Tail {
            err,
            seen: Rc::new(Cell::new(false)),
        }
    }
}

/// Marks `v` read if it is an iterator; a second read is refused.
pub(crate) fn consume(v: &Val) -> Result<(), YaqlError> {
    if let Val::Iter(_, t) = v {
        if t.seen.replace(true) {
            return Err(YaqlError::Unsupported {
                name: "an iterator read twice (Python finds it empty)".into(),
            });
        }
    }
    Ok(())
}

/// Whether the data holds an integer beyond i64 (Python's int has no bound; ours has).
pub(crate) fn big_int(v: &Value) -> bool {
    match v {
        Value::Number(n) => !n.is_f64() && n.as_i64().is_none(),
        Value::Array(a) => a.iter().any(big_int),
        Value::Object(o) => o.values().any(big_int),
        _ => false,
    }
}

pub(crate) fn too_large(limit: i64) -> YaqlError {
    YaqlError::Limit(format!("Collection length exceeds {limit} elements"))
}

/// A number as Python sees it: bool is an int.
enum Num {
    I(i64),
    F(f64),
}

fn num(v: &Val) -> Option<Num> {
    match v {
        Val::Bool(b) => Some(Num::I(i64::from(*b))),
        Val::Int(i) => Some(Num::I(*i)),
        Val::Float(f) => Some(Num::F(*f)),
        _ => None,
    }
}

/// Python's `a == b`.
pub(crate) fn eq(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::Null, Val::Null) => true,
        (Val::Str(x), Val::Str(y)) => x == y,
        (Val::Seq(x, tx), Val::Seq(y, ty)) => {
            tx == ty && x.len() == y.len() && x.iter().zip(y).all(|(p, q)| eq(p, q))
        }
        (Val::Map(x), Val::Map(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| get(y, k).is_some_and(|w| eq(v, w)))
        }
        (Val::View(x), Val::View(y)) => {
            x.len() == y.len() && x.iter().all(|p| y.iter().any(|q| eq(p, q)))
        }
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => {
                let to_json = |n: Num| match n {
                    Num::I(i) => Value::from(i),
                    Num::F(f) => Number::from_f64(f)
                        .map(Value::Number)
                        .unwrap_or(Value::Null),
                };
                match (&x, &y) {
                    (Num::F(f), _) | (_, Num::F(f)) if !f.is_finite() => {
                        matches!((x, y), (Num::F(p), Num::F(q)) if p == q)
                    }
                    _ => python::eq(&to_json(x), &to_json(y)),
                }
            }
            _ => false,
        },
    }
}

/// A dict lookup with Python's key equality.
pub(crate) fn get<'a>(pairs: &'a [(Val, Val)], key: &Val) -> Option<&'a Val> {
    pairs.iter().find(|(k, _)| eq(k, key)).map(|(_, v)| v)
}

/// Whether Python can hash `v` (a dict key, a set member).
pub(crate) fn hashable(v: &Val) -> bool {
    match v {
        Val::Seq(items, true) => items.iter().all(hashable),
        // dict_values, iterators and the like hash by identity; set views do not hash.
        Val::Seq(_, false) | Val::View(_) => false,
        Val::Map(pairs) => pairs.iter().all(|(k, v)| hashable(k) && hashable(v)),
        _ => true,
    }
}

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
    pub(crate) fn get(&self, name: &str) -> Val {
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

/// The items of anything yaql's `Iterable()` parameter type accepts (not str, not dict).
pub(crate) fn items(v: &Val) -> Option<&Vec<Val>> {
    match v {
        Val::Seq(a, _) | Val::Iter(a, _) | Val::View(a) | Val::Values(a) | Val::Ordered(a) => {
            Some(a)
        }
        _ => None,
    }
}

/// An iterator's pending error, raised by a consumer that reads it to the end.
pub(crate) fn pending(v: &Val) -> R<()> {
    match v {
        Val::Iter(_, Tail { err: Some(e), .. }) => Err((**e).clone()),
        _ => Ok(()),
    }
}

/// A lazy iterator over `items`, with nothing pending.
pub(crate) fn iter(items: Vec<Val>) -> Val {
    Val::Iter(items, Tail::new(None))
}

/// An int or a float (not a bool), as yaql's number parameters take them.
pub(crate) fn is_number(v: &Val) -> bool {
    matches!(v, Val::Int(_) | Val::Float(_))
}

/// Python's `isinstance(v, int)` (bool included).
pub(crate) fn as_int(v: &Val) -> Option<i64> {
    match v {
        Val::Int(i) => Some(*i),
        Val::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

/// A number as a float (bool is an int; anything else is nan).
pub(crate) fn as_float(v: &Val) -> f64 {
    match v {
        Val::Int(i) => *i as f64,
        Val::Float(x) => *x,
        Val::Bool(b) => f64::from(u8::from(*b)),
        _ => f64::NAN,
    }
}

/// `d[k] = v` on a dict kept as pairs: Python's key equality, unhashable keys refused.
pub(crate) fn insert(pairs: &mut Vec<(Val, Val)>, k: Val, v: Val) -> R<()> {
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
