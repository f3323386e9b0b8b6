//! Python's indexing of a sequence: `items[i]` and the bounds of `items[a:b]`, where a
//! negative index counts from the end.
//!
//! Heat indexes with `str_split`'s index, `Fn::Select` and `get_param` paths; yaql with
//! `[i]`, `substring` and `indexOf`. One reading of a negative index for all of them.

/// Python's `items[index]`: a negative index counts from the end; None where Python
/// raises `IndexError`.
pub fn item<T>(items: &[T], index: i128) -> Option<&T> {
    let len = i128::try_from(items.len()).ok()?;
    let i = if index < 0 { index + len } else { index };
    if (0..len).contains(&i) {
        items.get(usize::try_from(i).ok()?)
    } else {
        None
    }
}

/// A bound of Python's slice `items[a:b]` over `len` items: a negative one counts from
/// the end, and any is clamped to `0..=len`.
pub fn slice_bound(index: i64, len: usize) -> usize {
    let n = i64::try_from(len).unwrap_or(i64::MAX);
    let i = if index < 0 {
        index.saturating_add(n).max(0)
    } else {
        index.min(n)
    };
    usize::try_from(i).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_indexes_count_from_the_end() {
        let v = ["a", "b", "c"];
        assert_eq!(item(&v, -1), Some(&"c"));
        assert_eq!(item(&v, -3), Some(&"a"));
        assert_eq!(item(&v, -4), None);
        assert_eq!(item(&v, 3), None);
        assert_eq!(item::<&str>(&[], 0), None);
        assert_eq!(slice_bound(-1, 3), 2);
        assert_eq!(slice_bound(-9, 3), 0);
        assert_eq!(slice_bound(9, 3), 3);
        assert_eq!(slice_bound(i64::MIN, 3), 0);
    }
}
