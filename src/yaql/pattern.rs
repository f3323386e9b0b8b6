//! yaql's `regex()`: a Python `re` pattern, run by the `regex` crate where the two read
//! it alike and refused where they may not.
//!
//! A value of its own (`Val::Regex`), used by the operators (`=~`) and the string
//! functions alike, so it sits below both with nothing of theirs to import.

use std::rc::Rc;

use super::error::{unsupported, R};

/// A compiled `regex(...)`.
#[derive(Debug)]
pub(crate) struct Pattern {
    re: regex::Regex,
    /// Python's `$` (without MULTILINE) also matches before a final newline.
    dollar: bool,
    /// Python's `\s` also matches `\x1c`-`\x1f`.
    space: bool,
    pub(crate) groups: usize,
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
    pub(crate) fn is_match(&self, t: &str) -> R<bool> {
        Ok(self.re.is_match(self.text(t)?))
    }
    /// The matches, refusing empty ones (Python's handling of them differs).
    pub(crate) fn matches<'t>(&self, t: &'t str) -> R<Vec<regex::Captures<'t>>> {
        let all: Vec<_> = self.re.captures_iter(self.text(t)?).collect();
        if all.iter().any(|c| c.get(0).is_some_and(|m| m.is_empty())) {
            return Err(unsupported("regex with empty matches"));
        }
        Ok(all)
    }
}

/// Compiles a Python `re` pattern with the `regex` crate, refusing what the two read
/// differently: backreferences, lookaround, possessive/atomic groups, `\Z`, `(?P=...)`,
/// and classes whose meaning differs (`\d` is Unicode in both; `\b` likewise).
pub(crate) fn compile(
    p: &str,
    ignore_case: bool,
    multi_line: bool,
    dot_all: bool,
) -> R<Rc<Pattern>> {
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
