//! A migration file cut into its statements, so that a driver can send them one at a time
//! and read each one's result.
//!
//! Why: refinery's MySQL driver sends a whole file as one multi-statement query and reads
//! only the first result; a statement failing after the first was never seen, and the
//! migration was recorded as applied. Our files are plain SQL (`--` comments, quoted
//! strings, `;` between statements), so the cut is made at each `;` outside a quoted
//! string or a comment; the comments are dropped.

/// The statements of `sql`, in order, without comments, each trimmed and without its `;`;
/// empty statements are left out.
pub fn split(sql: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current = String::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' | '`' => {
                current.push(c);
                while let Some(q) = chars.next() {
                    current.push(q);
                    if q == '\\' && c != '`' {
                        // MySQL's backslash escape: the next character is part of the string.
                        if let Some(escaped) = chars.next() {
                            current.push(escaped);
                        }
                    } else if q == c {
                        // A doubled quote is one quote inside the string.
                        if chars.peek() == Some(&c) {
                            current.push(c);
                            chars.next();
                        } else {
                            break;
                        }
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                // A comment to the end of the line; the line break stays (it separates words).
                for skipped in chars.by_ref() {
                    if skipped == '\n' {
                        current.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut previous = ' ';
                for skipped in chars.by_ref() {
                    if previous == '*' && skipped == '/' {
                        break;
                    }
                    previous = skipped;
                }
                current.push(' ');
            }
            ';' => push(&mut statements, &mut current),
            _ => current.push(c),
        }
    }
    push(&mut statements, &mut current);
    statements
}

fn push(statements: &mut Vec<String>, current: &mut String) {
    let statement = current.trim();
    if !statement.is_empty() {
        statements.push(statement.to_string());
    }
    current.clear();
}

/// The start of a statement on one line, for a message: "CREATE TABLE IF NOT EXISTS
/// heat_converge_deleted (…".
pub fn head(statement: &str) -> String {
    let words: Vec<&str> = statement.split_whitespace().collect();
    let line = words.join(" ");
    match line.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::{head, split};

    #[test]
    fn statements_are_cut_at_semicolons_outside_strings_and_comments() {
        let sql = "-- a comment; not a statement\n\
                   CREATE TABLE t (a TEXT); -- after; it\n\
                   INSERT INTO t VALUES ('x;y', 'it''s; fine', \"q;\", 'back\\'slash;');\n\
                   /* block; comment */ SELECT `odd;name` FROM t;\n\
                   SET @s = 'ALTER TABLE t ADD COLUMN b INT -- not a comment';\n\
                   ;\n  -- the end";
        assert_eq!(
            split(sql),
            vec![
                "CREATE TABLE t (a TEXT)".to_string(),
                "INSERT INTO t VALUES ('x;y', 'it''s; fine', \"q;\", 'back\\'slash;')".into(),
                "SELECT `odd;name` FROM t".into(),
                "SET @s = 'ALTER TABLE t ADD COLUMN b INT -- not a comment'".into(),
            ]
        );
        assert_eq!(split("SELECT 1"), vec!["SELECT 1".to_string()]);
        assert!(split("-- only a comment\n").is_empty());
    }

    #[test]
    fn every_migration_file_cuts_into_statements_that_each_start_with_a_keyword() {
        let top = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files = 0;
        for backend in std::fs::read_dir(&top).unwrap() {
            for file in std::fs::read_dir(backend.unwrap().path()).unwrap() {
                let path = file.unwrap().path();
                let text = std::fs::read_to_string(&path).unwrap();
                let statements = split(&text);
                assert!(!statements.is_empty(), "{}", path.display());
                for s in &statements {
                    let first = s.split_whitespace().next().unwrap_or_default();
                    assert!(
                        [
                            "CREATE",
                            "ALTER",
                            "SELECT",
                            "INSERT",
                            "DROP",
                            "SET",
                            "PREPARE",
                            "EXECUTE",
                            "DEALLOCATE",
                            "UPDATE"
                        ]
                        .contains(&first),
                        "{}: {s}",
                        path.display()
                    );
                }
                files += 1;
            }
        }
        assert!(files >= 12, "{files} migration files");
    }

    #[test]
    fn a_head_is_one_short_line() {
        assert_eq!(head("CREATE  TABLE\n  t (a INT)"), "CREATE TABLE t (a INT)");
        let long = format!("SELECT {}", "x, ".repeat(40));
        let h = head(&long);
        assert_eq!(h.chars().count(), 61);
        assert!(h.ends_with('…'));
    }
}
