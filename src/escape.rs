//! Data from Heat's database, made safe to print as text.
//!
//! Stack and resource names, physical ids, engine hosts, the reasons built from them and
//! everything else read from the database is whatever Heat's API (or anyone with write
//! access to its tables) put there. Printed raw in the text report, a name with a newline
//! forges a line of the summary (`converted 999`), a carriage return overwrites one, and an
//! escape sequence (`\x1b[2J`, a window title, a hyperlink) reaches the operator's
//! terminal or whoever reads the log later. So every value from the database is printed
//! through [`text`], at the moment the line is made: a character that a terminal or a log
//! reader would act on instead of showing comes out as a visible escape:
//!
//! - `\n`, `\r`, `\t` for newline, carriage return and tab;
//! - `\x00` to `\x1f` and `\x7f` for the other ASCII control characters (ESC is `\x1b`);
//! - `\u{80}` to `\u{9f}` for the C1 control characters (`\u{9b}` starts a terminal
//!   sequence as ESC `[` does, `\u{85}` is a line break to some readers);
//! - `\u{2028}` and `\u{2029}`, the line and paragraph separators (line breaks to some
//!   log viewers and editors);
//! - Unicode's bidirectional controls (the `Bidi_Control` property: U+061C, U+200E,
//!   U+200F, the embeddings and overrides U+202A to U+202E, the isolates U+2066 to
//!   U+2069): a terminal that renders right-to-left text reorders the rest of the line
//!   after one, so that `converted` reads as something else ("Trojan Source"). A name in
//!   Arabic or Hebrew needs none of them to show; one that uses them shows them escaped;
//! - and the backslash itself as `\\`, so that the escaping is unambiguous: every
//!   backslash in a printed value starts an escape, and `\n` in the output is a newline
//!   in the data, never the two characters a name may really hold (those print as `\\n`).
//!
//! Everything else, every other letter of any script and emoji included, is printed as
//! it is: an ordinary name prints unchanged. The JSON output (`--format json`, plan files)
//! is not escaped this way: serde_json already escapes control characters, and the values
//! there are the exact strings of the database.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `value` with every character a terminal or log reader would act on made visible (see
/// the module documentation); borrowed unchanged when there is none.
pub fn text(value: &str) -> Cow<'_, str> {
    if !value.chars().any(needs_escape) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Whether `c` is printed as an escape.
fn needs_escape(c: char) -> bool {
    c == '\\'
        || c.is_control() // C0, DEL and C1
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' // line and paragraph separators
            | '\u{061c}' | '\u{200e}' | '\u{200f}' // bidi marks
            | '\u{202a}'..='\u{202e}' // bidi embeddings and overrides
            | '\u{2066}'..='\u{2069}' // bidi isolates
        )
}

#[cfg(test)]
mod tests {
    use super::text;

    #[test]
    fn ordinary_names_print_unchanged() {
        for name in [
            "web",
            "deep-boxes-ovryxssvnz7h-0-pyioz2rlbulz",
            "e15a81ba-2726-4fc5-b6a6-654efcb86395",
            "Серверы · サーバー · خادم · שרת",
            "db 🐘 (primary)",
            "the root stack is CREATE_FAILED",
        ] {
            assert!(
                matches!(text(name), std::borrow::Cow::Borrowed(_)),
                "{name}"
            );
        }
    }

    #[test]
    fn control_characters_are_made_visible() {
        assert_eq!(
            text("web\n  converted                        999"),
            "web\\n  converted                        999"
        );
        assert_eq!(text("a\x1b[2Jb\x07"), "a\\x1b[2Jb\\x07");
        assert_eq!(text("\r\t\0\x7f"), "\\r\\t\\x00\\x7f");
        assert_eq!(text("\u{85}\u{9b}31m"), "\\u{85}\\u{9b}31m");
        assert_eq!(text("a\u{2028}b\u{2029}"), "a\\u{2028}b\\u{2029}");
        assert_eq!(
            text("\u{202e}evil\u{202c}\u{2066}x\u{2069}\u{200f}\u{061c}"),
            "\\u{202e}evil\\u{202c}\\u{2066}x\\u{2069}\\u{200f}\\u{61c}"
        );
    }

    #[test]
    fn a_backslash_is_escaped_so_the_escaping_is_unambiguous() {
        assert_eq!(text("C:\\temp"), "C:\\\\temp");
        // The two characters `\` `n` and a real newline print differently.
        assert_eq!(text("\\n"), "\\\\n");
        assert_eq!(text("\n"), "\\n");
    }

    /// The escaping undone: the printed text gives back the value, so no two values print
    /// alike.
    fn unescape(printed: &str) -> String {
        let mut out = String::new();
        let mut chars = printed.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('\\') => out.push('\\'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('x') => {
                    let hex: String = chars.by_ref().take(2).collect();
                    out.push(char::from(u8::from_str_radix(&hex, 16).unwrap()));
                }
                Some('u') => {
                    assert_eq!(chars.next(), Some('{'));
                    let hex: String = chars.by_ref().take_while(|&c| c != '}').collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
                }
                other => panic!("a lone backslash before {other:?} in {printed:?}"),
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn the_printed_text_gives_back_the_value(value in "(\\PC|[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\\\\u{2028}\u{202e}\u{2066}n])*") {
            proptest::prop_assert_eq!(unescape(&text(&value)), value);
        }
    }

    #[test]
    fn nothing_printed_holds_a_control_character() {
        let every: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        let out = text(&every);
        assert!(!out.chars().any(|c| c.is_control()
            || matches!(
                c,
                '\u{2028}' | '\u{2029}' | '\u{061c}' | '\u{200e}' | '\u{200f}'
            )
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)));
    }
}
