//! yaql's math functions on numbers: `abs`, `round`, and `max`/`min` of two values
//! (the operators `+ - * / mod` are in `operators`, with the other operators).

use super::call::Call;
use super::operators::compare;
use crate::yaql::error::{overflow, unsupported, R};
use crate::yaql::value::Val;

impl Call<'_> {
    /// `abs(op)`, `round(number, ndigits)`, `max(a, b)`, `min(a, b)`.
    pub(super) fn math(&mut self) -> R<Val> {
        let name = self.name;
        match name {
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
            "max" | "min" => {
                let vals = self.all_pos()?;
                let [a, b] = vals.as_slice() else {
                    return Err(self.fail());
                };
                let b_gt_a = compare(">", b, a)?.truthy();
                Ok(match (name, b_gt_a) {
                    ("max", true) | ("min", false) => b.clone(),
                    _ => a.clone(),
                })
            }
            _ => Err(self.fail()),
        }
    }
}
