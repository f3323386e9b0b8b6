//! yaql's string functions: `isEmpty`, `toLower`, `toUpper`, `trim`, `trimLeft`,
//! `trimRight`, `startsWith`, `endsWith`, `split`, `rightSplit`, `join`, `replace`,
//! `matches`, `search`, `searchAll`, `substring`, `indexOf`, `concat`, and `regex()`.
//! Python's str methods underneath are [`crate::python`]'s; regexes are
//! [`crate::yaql::pattern`]'s.

use super::call::Call;
use super::operators::chain;
use crate::python;
use crate::yaql::error::{rt, unsupported, R};
use crate::yaql::pattern::{compile, Pattern};
use crate::yaql::value::{items, iter, Scope, Val};

impl Call<'_> {
    /// `regex(pattern, ignoreCase, multiLine, dotAll)`.
    pub(super) fn regex(&mut self) -> R<Val> {
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

    /// A string's methods (and `concat`, of strings or of collections).
    pub(super) fn string_method(&mut self, recv: Val) -> R<Val> {
        let name = self.name;
        match name {
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
                chain(self.ev.limits(), &vals, false)
            }
            _ => Err(self.fail()),
        }
    }

    /// `split` and `rightSplit`: Python's `str.split`/`rsplit`, or `re.split`.
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

    /// `replace` of a string (by a string, a regex or a dict of them), of a regex's
    /// matches, or of a collection's items.
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
            return self.replace_items(recv, old);
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
}
