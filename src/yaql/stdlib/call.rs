//! One call of a standard-library function being resolved: its receiver, its positional
//! and named arguments, and the readings every family shares (the shape of the
//! arguments, an argument as a string or an int, a lambda run on items).
//!
//! The families reach the evaluator only through [`Evaluate`], which this file defines and
//! the evaluator implements: the library needs an expression evaluated (an argument, a
//! lambda), and the evaluator needs the library called, without the two importing each
//! other.

use std::rc::Rc;

use crate::yaql::error::{no_match, rt, unsupported, YaqlError, R};
use crate::yaql::limits::Limits;
use crate::yaql::syntax::{Arg, Expr};
use crate::yaql::value::{as_int, Scope, Val};

/// What the standard library needs of the evaluator.
pub(crate) trait Evaluate {
    /// The value of `e` in `scope`.
    fn eval(&self, e: &Expr, scope: &Rc<Scope>) -> R<Val>;
    /// heat.conf's `[yaql]` limits.
    fn limits(&self) -> &Limits;
}

/// One call being resolved: its receiver, positional arguments, named ones.
pub(crate) struct Call<'a> {
    pub(super) ev: &'a dyn Evaluate,
    pub(super) name: &'a str,
    pub(super) recv: Option<Val>,
    pub(super) pos: Vec<&'a Arg>,
    pub(super) named: Vec<(String, &'a Expr)>,
    pub(super) scope: &'a Rc<Scope>,
}

impl<'a> Call<'a> {
    pub(super) fn new(
        ev: &'a dyn Evaluate,
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

    pub(super) fn fail(&self) -> YaqlError {
        no_match(self.name)
    }

    /// The expression of positional argument `i` or of the named one `kw`.
    pub(super) fn expr(&self, i: usize, kw: &str) -> Option<&'a Expr> {
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
    pub(super) fn shape(&self, params: &[&str], required: usize) -> R<()> {
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

    pub(super) fn val(&self, i: usize, kw: &str) -> R<Option<Val>> {
        match self.expr(i, kw) {
            Some(e) => self.ev.eval(e, self.scope).map(Some),
            None => Ok(None),
        }
    }

    pub(super) fn all_pos(&self) -> R<Vec<Val>> {
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
    pub(super) fn lambda(&self, e: &Expr, args: &[Val]) -> R<Val> {
        let s = Scope::child(self.scope);
        for (i, a) in args.iter().enumerate() {
            s.set(&(i + 1).to_string(), a.clone());
        }
        self.ev.eval(e, &s)
    }

    pub(super) fn recv_or_first(&mut self) -> R<Val> {
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

    pub(super) fn string(&self, v: Option<Val>, nullable: bool) -> R<Option<String>> {
        match v {
            Some(Val::Str(s)) => Ok(Some(s)),
            Some(Val::Null) if nullable => Ok(None),
            None => Ok(None),
            _ => Err(self.fail()),
        }
    }

    pub(super) fn int(&self, v: Option<Val>, default: i64) -> R<i64> {
        match v {
            None => Ok(default),
            Some(v) => as_int(&v).ok_or_else(|| self.fail()),
        }
    }

    pub(super) fn coll(&self, v: &Val) -> R<Vec<Val>> {
        self.ev.limits().iterable(v).ok_or_else(|| self.fail())?
    }
}
