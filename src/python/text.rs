//! Python's str methods that Heat's code leans on: `isspace`, `strip`, `split` and
//! `rsplit` (with and without a separator, with a `maxsplit`), `replace` with a count.
//!
//! Rust's own look alike and are not: `split_whitespace` and `trim` know Unicode's
//! White_Space, while Python's `str.isspace()` also counts the ASCII separators
//! `\x1c`-`\x1f`; `replace` has no count and `splitn` no whitespace form. Heat splits
//! with `str_split` (a null delimiter splits on whitespace), oslo.config and PyMySQL
//! strip with `strip()`, yaql has all of them: each caller comes here.

/// Python's `str.isspace()` for one character: Unicode White_Space and the ASCII
/// separators `\x1c`-`\x1f` (bidirectional class B or S).
pub fn isspace(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Python's `s.strip(chars)`: `chars` is a set of characters; None strips whitespace.
pub fn strip<'s>(s: &'s str, chars: Option<&str>) -> &'s str {
    rstrip(lstrip(s, chars), chars)
}

/// Python's `s.lstrip(chars)`.
pub fn lstrip<'s>(s: &'s str, chars: Option<&str>) -> &'s str {
    s.trim_start_matches(|c| stripped(c, chars))
}

/// Python's `s.rstrip(chars)`.
pub fn rstrip<'s>(s: &'s str, chars: Option<&str>) -> &'s str {
    s.trim_end_matches(|c| stripped(c, chars))
}

fn stripped(c: char, chars: Option<&str>) -> bool {
    match chars {
        Some(set) => set.contains(c),
        None => isspace(c),
    }
}

/// `ValueError: empty separator`: Python splits on no empty string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmptySeparator;

/// Python's `s.split(sep, maxsplit)`: at most `maxsplit` splits (all when negative), the
/// rest kept whole. With no `sep`, runs of whitespace separate and none is kept at either
/// end (`' a  b '.split()` is `['a', 'b']`), but the rest after the last split keeps its
/// own (`'a b  '.split(None, 1)` is `['a', 'b  ']`).
pub fn split<'s>(
    s: &'s str,
    sep: Option<&str>,
    maxsplit: i64,
) -> Result<Vec<&'s str>, EmptySeparator> {
    let max = usize::try_from(maxsplit).unwrap_or(usize::MAX);
    match sep {
        Some("") => Err(EmptySeparator),
        Some(sep) => Ok(s.splitn(max.saturating_add(1), sep).collect()),
        None => {
            let mut out = Vec::new();
            let mut rest = s.trim_start_matches(isspace);
            while !rest.is_empty() {
                if out.len() == max {
                    out.push(rest);
                    break;
                }
                let end = rest.find(isspace).unwrap_or(rest.len());
                out.push(&rest[..end]);
                rest = rest[end..].trim_start_matches(isspace);
            }
            Ok(out)
        }
    }
}

/// Python's `s.rsplit(sep, maxsplit)`: as [`split`], the splits counted from the end.
pub fn rsplit<'s>(
    s: &'s str,
    sep: Option<&str>,
    maxsplit: i64,
) -> Result<Vec<&'s str>, EmptySeparator> {
    let max = usize::try_from(maxsplit).unwrap_or(usize::MAX);
    let mut out = match sep {
        Some("") => return Err(EmptySeparator),
        Some(sep) => s.rsplitn(max.saturating_add(1), sep).collect(),
        None => {
            let mut out = Vec::new();
            let mut rest = s.trim_end_matches(isspace);
            while !rest.is_empty() {
                if out.len() == max {
                    out.push(rest);
                    break;
                }
                let start = rest.rfind(isspace).map_or(0, |i| {
                    i + rest[i..].chars().next().map_or(0, char::len_utf8)
                });
                out.push(&rest[start..]);
                rest = rest[..start].trim_end_matches(isspace);
            }
            out
        }
    };
    out.reverse();
    Ok(out)
}

/// Python's `s.replace(old, new, count)`: the first `count` occurrences (all when
/// negative), left to right, never one inside a replacement; an empty `old` stands before
/// every character and at the end.
pub fn replace(s: &str, old: &str, new: &str, count: i64) -> String {
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    if old.is_empty() {
        let mut out = String::new();
        let mut n = 0;
        for c in s.chars() {
            if n < count {
                out.push_str(new);
                n += 1;
            }
            out.push(c);
        }
        if n < count {
            out.push_str(new);
        }
        return out;
    }
    let mut out = String::new();
    let mut rest = s;
    let mut n = 0;
    while n < count {
        match rest.find(old) {
            Some(at) => {
                out.push_str(&rest[..at]);
                out.push_str(new);
                rest = &rest[at + old.len()..];
                n += 1;
            }
            None => break,
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    //! The corner cases; tests/python_semantics.rs holds every function against Python.
    use super::*;

    #[test]
    fn whitespace_is_pythons() {
        assert!(isspace('\u{1c}') && isspace('\u{1f}') && isspace('\u{85}'));
        assert!(!isspace('\u{200b}') && !isspace('\u{feff}') && !isspace('\u{180e}'));
        assert_eq!(strip("\u{1d} a\u{3000}", None), "a");
        assert_eq!(strip("xxaxx", Some("x")), "a");
        assert_eq!(lstrip(" a ", None), "a ");
        assert_eq!(rstrip(" a ", Some("")), " a ");
    }

    #[test]
    fn split_as_python() {
        let s = |t, sep, max| split(t, sep, max).unwrap_or_default();
        let r = |t, sep, max| rsplit(t, sep, max).unwrap_or_default();
        assert_eq!(s("a\u{1c}b c", None, -1), ["a", "b", "c"]);
        assert_eq!(s(" a  b  ", None, 1), ["a", "b  "]);
        assert_eq!(s(" a b ", None, 0), ["a b "]);
        assert!(s("  ", None, -1).is_empty());
        assert_eq!(r("  a  b ", None, 1), ["  a", "b"]);
        assert_eq!(r("a\u{3000}b", None, -1), ["a", "b"]);
        assert_eq!(s("a,,b", Some(","), -1), ["a", "", "b"]);
        assert_eq!(s("a,b,c", Some(","), 1), ["a", "b,c"]);
        assert_eq!(r("a,b,c", Some(","), 1), ["a,b", "c"]);
        assert_eq!(split("a", Some(""), -1), Err(EmptySeparator));
        assert_eq!(rsplit("a", Some(""), -1), Err(EmptySeparator));
    }

    #[test]
    fn replace_counts() {
        assert_eq!(replace("aaa", "a", "b", 2), "bba");
        assert_eq!(replace("aaa", "aa", "a", -1), "aa");
        assert_eq!(replace("ab", "", "-", -1), "-a-b-");
        assert_eq!(replace("ab", "", "-", 2), "-a-b");
        assert_eq!(replace("ab", "x", "-", -1), "ab");
    }
}
