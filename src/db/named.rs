//! Statements of `sql/` bound by name: the SQL says `:stack_id`, the caller gives
//! `("stack_id", value)`, and the driver gets `?` with the values in their order. A
//! parameter the SQL names and the caller does not give, or one given and never named, is
//! an error: a write can never bind a value to the wrong column because an SQL file and
//! its caller drifted apart.
//!
//! Multi-row forms are written once, for one row, inside a block the helper repeats for
//! every row, each copy bound from that row's values:
//! - `{each: X}` repeats `X` joined by `, ` (`VALUES {each: (:stack_id, :engine_id)}`,
//!   `WHERE id IN ({each: :id})`);
//! - `{cases: X}` repeats `X` joined by a space (`CASE id {cases: WHEN :id THEN :requires} END`).
//!
//! Outside a block, names are bound from the values shared by every row. Why by hand: no
//! crate binds named parameters for rusqlite, postgres and mysql alike, and these two
//! blocks are all the SQL of this crate needs.

use super::Param;
use anyhow::{anyhow, bail, Result};

/// One row's values, by the names the SQL gives them.
pub type Values<'a> = [(&'a str, Param)];

/// A statement ready for a driver: `?` placeholders and their values in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Bound {
    pub sql: String,
    pub params: Vec<Param>,
}

/// Binds `sql` (its blocks repeated for each of `rows`, one at least) with `shared` outside
/// the blocks and each row's values inside them.
pub fn bind(sql: &str, shared: &Values, rows: &[&Values]) -> Result<Bound> {
    // Comment lines go first: their words (an apostrophe, a `:` or a `{`) are no SQL.
    let code: String = sql
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    let sql = code.as_str();
    let mut out = Bound {
        sql: String::with_capacity(sql.len()),
        params: Vec::new(),
    };
    let mut used_shared = vec![false; shared.len()];
    let mut used_row = vec![false; rows.first().map_or(0, |r| r.len())];
    let mut rest = sql;
    while let Some(open) = rest.find('{') {
        let (before, block) = rest.split_at(open);
        substitute(before, shared, &mut used_shared, &mut out)?;
        let close = block
            .find('}')
            .ok_or_else(|| anyhow!("an unclosed {{ block in the statement"))?;
        let inner = &block[1..close];
        let (kind, body) = inner
            .split_once(':')
            .ok_or_else(|| anyhow!("a {{ block without a kind: {{{inner}}}"))?;
        let joiner = match kind.trim() {
            "each" => ", ",
            "cases" => " ",
            other => bail!("an unknown block {{{other}: ...}}"),
        };
        if rows.is_empty() {
            bail!("a multi-row statement given no rows");
        }
        let body = body.trim();
        for (i, row) in rows.iter().enumerate() {
            if i > 0 {
                out.sql.push_str(joiner);
            }
            let mut used = vec![false; row.len()];
            substitute(body, row, &mut used, &mut out)?;
            if i == 0 {
                for (u, now) in used_row.iter_mut().zip(&used) {
                    *u |= *now;
                }
            }
        }
        rest = &block[close + 1..];
    }
    substitute(rest, shared, &mut used_shared, &mut out)?;
    if let Some(((name, _), _)) = shared.iter().zip(&used_shared).find(|(_, u)| !**u) {
        bail!("the statement names no :{name}");
    }
    if let Some(((name, _), _)) = rows
        .first()
        .into_iter()
        .flat_map(|r| r.iter())
        .zip(&used_row)
        .find(|(_, u)| !**u)
    {
        bail!("the statement's rows name no :{name}");
    }
    Ok(out)
}

/// A query whose only parameters are a list of ids (`WHERE id IN ({each: :id})`).
pub fn ids(sql: &str, ids: &[Param]) -> Result<Bound> {
    let rows: Vec<[(&str, Param); 1]> = ids.iter().map(|id| [("id", id.clone())]).collect();
    let refs: Vec<&Values> = rows.iter().map(|r| r.as_slice()).collect();
    bind(sql, &[], &refs)
}

/// `sql` with every `:name` placeholder taken out: what is left names only tables and
/// columns (the schema checks of `heat_schema` and `own_schema` read it).
pub fn without_placeholders(sql: &str) -> String {
    let mut out = Bound {
        sql: String::with_capacity(sql.len()),
        params: Vec::new(),
    };
    let mut rest = sql;
    // Every name is given a value, then the `?`s are dropped.
    let mut names: Vec<(&str, Param)> = Vec::new();
    while let Some(at) = rest.find(':') {
        let after = &rest[at + 1..];
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if len > 0 && !rest[..at].ends_with(':') {
            names.push((&after[..len], Param::Null));
        }
        rest = &after[len..];
    }
    let mut used = vec![false; names.len()];
    match substitute(sql, &names, &mut used, &mut out) {
        Ok(()) => out.sql.replace('?', " "),
        Err(_) => sql.to_string(),
    }
}

/// Copies `text`, each `:name` replaced by `?` and its value pushed; quoted strings and
/// `::` casts are left as they are.
fn substitute(text: &str, values: &Values, used: &mut [bool], out: &mut Bound) -> Result<()> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\'' {
            let end = text[i + 1..]
                .find('\'')
                .map_or(bytes.len(), |e| i + 1 + e + 1);
            out.sql.push_str(&text[i..end]);
            i = end;
            continue;
        }
        let cast = (i > 0 && bytes[i - 1] == b':') || bytes.get(i + 1) == Some(&b':');
        if c == b':' && !cast {
            let start = i + 1;
            let len = text[start..]
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .unwrap_or(text.len() - start);
            if len > 0 {
                let name = &text[start..start + len];
                let at = values
                    .iter()
                    .position(|(n, _)| *n == name)
                    .ok_or_else(|| anyhow!("no value for :{name}"))?;
                used[at] = true;
                out.sql.push('?');
                out.params.push(values[at].1.clone());
                i = start + len;
                continue;
            }
        }
        let ch_len = text[i..].chars().next().map_or(1, char::len_utf8);
        out.sql.push_str(&text[i..i + ch_len]);
        i += ch_len;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(i: i64) -> Param {
        Param::Int(i)
    }
    fn text(s: &str) -> Param {
        Param::Text(s.into())
    }

    #[test]
    fn single_rows_bind_by_name_in_the_sql_s_order() {
        let b = bind(
            "DELETE FROM stack_lock WHERE stack_id = :stack_id AND engine_id = :engine_id",
            &[("engine_id", text("e")), ("stack_id", text("s"))],
            &[],
        )
        .unwrap();
        assert_eq!(
            b.sql,
            "DELETE FROM stack_lock WHERE stack_id = ? AND engine_id = ?"
        );
        assert_eq!(b.params, vec![text("s"), text("e")]);
    }

    #[test]
    fn blocks_repeat_per_row() {
        let rows: Vec<Vec<(&str, Param)>> = (1..=3)
            .map(|i| vec![("id", int(i)), ("requires", text(&format!("[{i}]")))])
            .collect();
        let refs: Vec<&Values> = rows.iter().map(Vec::as_slice).collect();
        let b = bind(
            "UPDATE resource SET convergence = :flag, requires = CASE id {cases: WHEN :id THEN :requires} END WHERE id IN ({each: :id})",
            &[("flag", int(1))],
            &refs,
        )
        .unwrap();
        assert_eq!(
            b.sql,
            "UPDATE resource SET convergence = ?, requires = CASE id WHEN ? THEN ? WHEN ? THEN ? WHEN ? THEN ? END WHERE id IN (?, ?, ?)"
        );
        assert_eq!(
            b.params,
            vec![
                int(1),
                int(1),
                text("[1]"),
                int(2),
                text("[2]"),
                int(3),
                text("[3]"),
                int(1),
                int(2),
                int(3)
            ]
        );
        let b = bind(
            "INSERT INTO t (a, b) VALUES {each: (:a, :b)}",
            &[],
            &[
                &[("a", int(1)), ("b", int(2))],
                &[("b", int(4)), ("a", int(3))],
            ],
        )
        .unwrap();
        assert_eq!(b.sql, "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)");
        assert_eq!(b.params, vec![int(1), int(2), int(3), int(4)]);
    }

    #[test]
    fn drift_between_sql_and_caller_is_an_error() {
        assert!(bind("DELETE FROM t WHERE a = :a", &[], &[]).is_err());
        assert!(bind(
            "DELETE FROM t WHERE a = :a",
            &[("a", int(1)), ("b", int(2))],
            &[]
        )
        .is_err());
        assert!(bind("DELETE FROM t WHERE id IN ({each: :id})", &[], &[]).is_err());
        assert!(bind(
            "DELETE FROM t WHERE id IN ({each: :id})",
            &[],
            &[&[("id", int(1)), ("x", int(2))]]
        )
        .is_err());
        assert!(bind(
            "DELETE FROM t WHERE id IN ({every: :id})",
            &[],
            &[&[("id", int(1))]]
        )
        .is_err());
        // Comments, quoted text and casts are not placeholders.
        let b = bind(
            "-- the engine's lock: {not a block} :nor_a_name\nDELETE FROM t WHERE a = :a",
            &[("a", int(1))],
            &[],
        )
        .unwrap();
        assert_eq!(b.sql, "DELETE FROM t WHERE a = ?");
        let b = bind(
            "SELECT ':x', a::text FROM t WHERE b = :b",
            &[("b", int(1))],
            &[],
        )
        .unwrap();
        assert_eq!(b.sql, "SELECT ':x', a::text FROM t WHERE b = ?");
    }
}
