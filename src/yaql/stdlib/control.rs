//! yaql's functions that steer evaluation rather than compute: `let` (a new context),
//! `switch` and `coalesce` (lambdas evaluated until one fits).

use super::call::Call;
use crate::yaql::error::R;
use crate::yaql::syntax::Arg;
use crate::yaql::value::{Scope, Val};

impl Call<'_> {
    /// `let(...)`, `switch(...)`, `coalesce(...)`.
    pub(super) fn control(&mut self) -> R<Val> {
        match self.name {
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
            _ => Err(self.fail()),
        }
    }
}
