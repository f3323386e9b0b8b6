//! The evaluator: an expression's value in a context. Constants, `$`-variables, lists
//! and dicts, indexing, attribute access, and the operators that steer evaluation
//! (`and`, `or`, `->`, `.`, `?.`); every other operator and every function call goes
//! to the standard library ([`super::stdlib`]), which evaluates its arguments back
//! through [`Evaluate`]. Collections are evaluated eagerly.

use std::rc::Rc;

use super::error::{no_match, overflow, rt, R};
use super::limits::Limits;
use super::stdlib::{build_dict, call, operator, Evaluate};
use super::syntax::{Arg, Expr};
use super::value::{as_int, get, hashable, Scope, Tail, Val};
use crate::python;

/// Evaluates expressions under heat.conf's `[yaql]` limits.
pub(crate) struct Eval<'l> {
    pub(crate) limits: &'l Limits,
}

impl Evaluate for Eval<'_> {
    fn eval(&self, e: &Expr, scope: &Rc<Scope>) -> R<Val> {
        Eval::eval(self, e, scope)
    }
    fn limits(&self) -> &Limits {
        self.limits
    }
}

impl Eval<'_> {
    /// The value of `e` in `scope`, measured against the memory quota.
    pub(crate) fn eval(&self, e: &Expr, scope: &Rc<Scope>) -> R<Val> {
        let v = match e {
            // yaql measures a constant when it is passed to a function (and every
            // expression's value is passed to the finalizer).
            Expr::Const(v) => v.clone(),
            Expr::Keyword(k) => return Ok(Val::Str(k.clone())),
            Expr::Context(name) => scope.get(name),
            Expr::Wrap(inner) => return self.eval(inner, scope),
            Expr::Call(name, args) => call(self, name, None, args, scope)?,
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
                    self.limits.quota(v.clone())?;
                }
                Val::Seq(vals, true)
            }
            Expr::Map(args) => build_dict(self, args, scope, "#map")?,
        };
        self.limits.quota(v)
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

    /// A binary operator: the short-circuit and context ones here, the others to
    /// [`operator`].
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
        operator(self.limits, op, a, b)
    }

    /// `recv.f(...)` (a method call, in a child context) or `recv.key`.
    fn dot(&self, recv: Val, r: &Expr, scope: &Rc<Scope>) -> R<Val> {
        match r {
            Expr::Call(name, args) => call(self, name, Some(recv), args, &Scope::child(scope)),
            Expr::Keyword(k) => self.attribute(recv, k),
            _ => Err(no_match("#operator_.")),
        }
    }

    /// `recv.key`: a dict's value, or each item's (lazily) over a collection.
    fn attribute(&self, recv: Val, key: &str) -> R<Val> {
        if let Val::Map(pairs) = &recv {
            return get(pairs, &Val::Str(key.into()))
                .cloned()
                .ok_or_else(|| rt(format!("KeyError: '{key}'")));
        }
        if let Some(lazy) = self.limits.lazy_items(&recv) {
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

    /// `t[k]` and `t[k, default]` on a dict; `t[i]` on a sequence, negative from the end.
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
}
