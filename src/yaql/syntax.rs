//! yaql's lexer and parser: the tokens of `yaql/language/lexer.py` and the operator table
//! of `YaqlFactory._standard_operators` (precedence, associativity), read by precedence
//! climbing into the same tree yaql's ply grammar builds.

use super::error::YaqlError;
use super::value::Val;

/// One token, as yaql's lexer names them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Int(i64),
    Float(f64),
    Str(String),
    /// A bare word: a keyword constant (`data` in `$.data`, `a` in `a => 1`).
    Word(String),
    True,
    False,
    Null,
    /// `$` or `$name` (the name without the dollar; `$` is `""`).
    Dollar(String),
    /// `name(`: a function call's head.
    Func(String),
    /// An operator symbol or word (`+`, `mod`, `->`, `?.`, ...).
    Op(&'static str),
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    /// `=>`: a name-value pair in arguments.
    Mapping,
}

/// yaql's symbolic operators, longest first (ply tries string rules by length).
const SYMBOLS: [&str; 18] = [
    "?.", "=~", "!~", ">=", "<=", "!=", "->", ".", "+", "-", "*", "/", ">", "<", "=", "?", "!", "~",
];
const WORD_OPS: [&str; 5] = ["mod", "in", "not", "and", "or"];

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

pub(crate) fn lex(src: &str) -> Result<Vec<Tok>, YaqlError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let lexical = |i: usize, c: char| {
        YaqlError::Syntax(format!(
            "Lexical error: illegal character '{c}' at position {i}"
        ))
    };
    while i < chars.len() {
        let c = chars[i];
        let prev_word = i > 0 && is_word_char(chars[i - 1]);
        if matches!(c, ' ' | '\t' | '\r' | '\n') {
            i += 1;
            continue;
        }
        if c == '$' {
            let mut j = i + 1;
            while j < chars.len() && is_word_char(chars[j]) {
                j += 1;
            }
            out.push(Tok::Dollar(chars[i + 1..j].iter().collect()));
            i = j;
            continue;
        }
        if c.is_ascii_digit() && !prev_word {
            // \b\d+(\.?\d+)?\b
            if let Some((tok, j)) = number(&chars, i) {
                out.push(tok);
                i = j;
                continue;
            }
        }
        if (c.is_alphabetic() || c == '_') && !prev_word {
            let mut j = i + 1;
            while j < chars.len() && is_word_char(chars[j]) {
                j += 1;
            }
            let word: String = chars[i..j].iter().collect();
            if j < chars.len() && chars[j] == '(' {
                out.push(Tok::Func(word));
                i = j + 1;
                continue;
            }
            if !word.starts_with("__") {
                out.push(match word.as_str() {
                    "true" => Tok::True,
                    "false" => Tok::False,
                    "null" => Tok::Null,
                    w => match WORD_OPS.iter().find(|op| **op == w) {
                        Some(op) => Tok::Op(op),
                        None => Tok::Word(word),
                    },
                });
                i = j;
                continue;
            }
        }
        if c == '\'' || c == '"' || c == '`' {
            let mut j = i + 1;
            let mut raw = String::new();
            let mut closed = false;
            while j < chars.len() {
                let d = chars[j];
                if d == '\\' && j + 1 < chars.len() && chars[j + 1] != '\n' {
                    raw.push(d);
                    raw.push(chars[j + 1]);
                    j += 2;
                    continue;
                }
                if d == c {
                    closed = true;
                    break;
                }
                raw.push(d);
                j += 1;
            }
            if closed {
                let value = if c == '`' {
                    raw.replace("\\`", "`")
                } else {
                    decode_escapes(&raw)?
                };
                out.push(Tok::Str(value));
                i = j + 1;
                continue;
            }
        }
        let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
        if rest == "=>" {
            out.push(Tok::Mapping);
            i += 2;
            continue;
        }
        if let Some(op) = SYMBOLS.iter().find(|s| rest.starts_with(**s)) {
            if matches!(*op, "?" | "!" | "~") {
                return Err(lexical(i, c));
            }
            out.push(Tok::Op(op));
            i += op.chars().count();
            continue;
        }
        let tok = match c {
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '[' => Tok::LBracket,
            ']' => Tok::RBracket,
            '{' => Tok::LBrace,
            '}' => Tok::RBrace,
            ',' => Tok::Comma,
            _ => return Err(lexical(i, c)),
        };
        out.push(tok);
        i += 1;
    }
    Ok(out)
}

fn number(chars: &[char], i: usize) -> Option<(Tok, usize)> {
    let mut j = i;
    while j < chars.len() && chars[j].is_ascii_digit() {
        j += 1;
    }
    let boundary = |k: usize| k >= chars.len() || !is_word_char(chars[k]);
    // Try the longest form first: digits '.' digits, then digits digits (no dot).
    if j + 1 < chars.len() && chars[j] == '.' && chars[j + 1].is_ascii_digit() {
        let mut k = j + 1;
        while k < chars.len() && chars[k].is_ascii_digit() {
            k += 1;
        }
        if boundary(k) {
            let text: String = chars[i..k].iter().collect();
            return text.parse().ok().map(|f| (Tok::Float(f), k));
        }
    }
    if boundary(j) {
        let text: String = chars[i..j].iter().collect();
        return text.parse().ok().map(|n| (Tok::Int(n), j));
    }
    None
}

/// yaql's `decode_escapes`: the Python escapes `\U........ \u.... \x.. \ooo \N{..}` and
/// `\\ \' \" \a \b \f \n \r \t \v`; any other backslash stays as it is.
fn decode_escapes(raw: &str) -> Result<String, YaqlError> {
    let chars: Vec<char> = raw.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let bad = || YaqlError::Syntax(format!("bad escape in string '{raw}'"));
    while i < chars.len() {
        if chars[i] != '\\' || i + 1 >= chars.len() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let e = chars[i + 1];
        let simple = match e {
            '\\' => Some('\\'),
            '\'' => Some('\''),
            '"' => Some('"'),
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'f' => Some('\x0c'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\x0b'),
            _ => None,
        };
        if let Some(s) = simple {
            out.push(s);
            i += 2;
            continue;
        }
        let hex_len = match e {
            'x' => 2,
            'u' => 4,
            'U' => 8,
            _ => 0,
        };
        if hex_len > 0 && i + 2 + hex_len <= chars.len() {
            let digits: String = chars[i + 2..i + 2 + hex_len].iter().collect();
            let code = u32::from_str_radix(&digits, 16).map_err(|_| bad())?;
            if !digits.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(bad());
            }
            out.push(char::from_u32(code).ok_or_else(bad)?);
            i += 2 + hex_len;
            continue;
        }
        if ('0'..='7').contains(&e) {
            let mut j = i + 1;
            while j < chars.len() && j < i + 4 && ('0'..='7').contains(&chars[j]) {
                j += 1;
            }
            let digits: String = chars[i + 1..j].iter().collect();
            let code = u32::from_str_radix(&digits, 8).map_err(|_| bad())?;
            out.push(char::from_u32(code).ok_or_else(bad)?);
            i = j;
            continue;
        }
        if e == 'N' && chars.get(i + 2) == Some(&'{') {
            return Err(YaqlError::Unsupported {
                name: "\\N{...} escape".into(),
            });
        }
        out.push('\\');
        i += 1;
    }
    Ok(out)
}

/// The tree yaql's parser builds.
#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Const(Val),
    /// A bare word: evaluates to its text; as a `=>` source it names a keyword argument.
    Keyword(String),
    /// `$name` (`$` is `$1`).
    Context(String),
    /// `name(args)`.
    Call(String, Vec<Arg>),
    /// `left op right` (including `.` and `?.`).
    Binary(&'static str, Box<Expr>, Box<Expr>),
    Unary(&'static str, Box<Expr>),
    /// `value[args]`.
    Index(Box<Expr>, Vec<Arg>),
    List(Vec<Arg>),
    Map(Vec<Arg>),
    /// `(expr)`.
    Wrap(Box<Expr>),
}

#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Value(Expr),
    /// `source => destination`.
    Pair(Expr, Expr),
    /// An empty slot (`f(, 1)`).
    Missing,
}

/// Binding power of binary operators (higher binds tighter) and whether right-associative.
fn binary(tok: &Tok) -> Option<(&'static str, u8, bool)> {
    let op = match tok {
        Tok::Op(op) => *op,
        _ => return None,
    };
    let (bp, right) = match op {
        "." | "?." => (11, false),
        "=~" | "!~" => (8, false),
        "*" | "/" | "mod" => (7, false),
        "+" | "-" => (6, false),
        ">" | "<" | ">=" | "<=" | "!=" | "=" | "in" => (5, false),
        "and" => (3, false),
        "or" => (2, false),
        "->" => (1, true),
        _ => return None,
    };
    Some((op, bp, right))
}
const INDEX_BP: u8 = 10;
const UNARY_SIGN_BP: u8 = 9;
const NOT_BP: u8 = 4;

pub(crate) fn parse(src: &str) -> Result<Expr, YaqlError> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    let e = p.expr(0)?;
    if p.pos != p.toks.len() {
        return Err(p.error());
    }
    if tree_depth(&e) > MAX_TREE_DEPTH {
        return Err(YaqlError::Unsupported {
            name: "expression nested this deep".into(),
        });
    }
    Ok(e)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

/// Parser nesting beyond this is refused, to bound our own recursion.
const MAX_DEPTH: usize = 1000;
/// Evaluation nesting beyond this is refused: yaql's recursive evaluation hits Python's
/// recursion limit somewhere between 120 and 150 levels (measured with Heat's venv), so
/// below 100 both evaluate and above it we do not guess.
const MAX_TREE_DEPTH: usize = 100;

fn tree_depth(e: &Expr) -> usize {
    let args = |a: &[Arg]| {
        a.iter()
            .map(|x| match x {
                Arg::Value(v) => tree_depth(v),
                Arg::Pair(k, v) => tree_depth(k).max(tree_depth(v)),
                Arg::Missing => 0,
            })
            .max()
            .unwrap_or(0)
    };
    match e {
        Expr::Const(_) | Expr::Keyword(_) | Expr::Context(_) => 1,
        Expr::Wrap(x) => tree_depth(x),
        Expr::Unary(_, x) => 1 + tree_depth(x),
        Expr::Binary(_, l, r) => 1 + tree_depth(l).max(tree_depth(r)),
        Expr::Index(t, a) => 1 + tree_depth(t).max(args(a)),
        Expr::Call(_, a) | Expr::List(a) | Expr::Map(a) => 1 + args(a),
    }
}

impl Parser {
    fn error(&self) -> YaqlError {
        match self.toks.get(self.pos) {
            Some(t) => YaqlError::Syntax(format!("Parse error: unexpected {t:?}")),
            None => YaqlError::Syntax("Parse error: unexpected end of statement".into()),
        }
    }
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, t: &Tok) -> Result<(), YaqlError> {
        if self.eat(t) {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    fn expr(&mut self, min_bp: u8) -> Result<Expr, YaqlError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(YaqlError::Unsupported {
                name: "expression nested this deep".into(),
            });
        }
        let e = self.expr_inner(min_bp);
        self.depth -= 1;
        e
    }

    fn expr_inner(&mut self, min_bp: u8) -> Result<Expr, YaqlError> {
        let mut left = self.prefix()?;
        while let Some(tok) = self.peek().cloned() {
            if tok == Tok::LBracket {
                if INDEX_BP < min_bp {
                    break;
                }
                self.pos += 1;
                let args = self.args(&Tok::RBracket)?;
                left = Expr::Index(Box::new(left), args);
                continue;
            }
            let Some((op, bp, right_assoc)) = binary(&tok) else {
                break;
            };
            if bp < min_bp {
                break;
            }
            self.pos += 1;
            let next = if right_assoc { bp } else { bp + 1 };
            let right = self.expr(next)?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn prefix(&mut self) -> Result<Expr, YaqlError> {
        let Some(tok) = self.peek().cloned() else {
            return Err(self.error());
        };
        self.pos += 1;
        Ok(match tok {
            Tok::Int(n) => Expr::Const(Val::Int(n)),
            Tok::Float(f) => Expr::Const(Val::Float(f)),
            Tok::Str(s) => Expr::Const(Val::Str(s)),
            Tok::True => Expr::Const(Val::Bool(true)),
            Tok::False => Expr::Const(Val::Bool(false)),
            Tok::Null => Expr::Const(Val::Null),
            Tok::Word(w) => Expr::Keyword(w),
            Tok::Dollar(name) => Expr::Context(name),
            Tok::Op(op @ ("+" | "-")) => Expr::Unary(op, Box::new(self.expr(UNARY_SIGN_BP)?)),
            Tok::Op("not") => Expr::Unary("not", Box::new(self.expr(NOT_BP)?)),
            Tok::LParen => {
                let e = self.expr(0)?;
                self.expect(&Tok::RParen)?;
                Expr::Wrap(Box::new(e))
            }
            Tok::LBracket => Expr::List(self.args(&Tok::RBracket)?),
            Tok::LBrace => Expr::Map(self.args(&Tok::RBrace)?),
            Tok::Func(name) => Expr::Call(name, self.args(&Tok::RParen)?),
            _ => {
                self.pos -= 1;
                return Err(self.error());
            }
        })
    }

    /// An argument list up to `close`: values, `name => value` pairs (positional ones
    /// first), and empty slots between commas.
    fn args(&mut self, close: &Tok) -> Result<Vec<Arg>, YaqlError> {
        let mut args = Vec::new();
        if self.eat(close) {
            return Ok(args);
        }
        let mut named = false;
        loop {
            if self.peek() == Some(&Tok::Comma) {
                if named {
                    return Err(self.error());
                }
                args.push(Arg::Missing);
                self.pos += 1;
                continue;
            }
            if self.peek() == Some(close) {
                // A trailing comma: only after a positional argument ("incomplete_arglist"
                // needs a named list to follow).
                return Err(self.error());
            }
            let v = self.expr(0)?;
            if self.eat(&Tok::Mapping) {
                let d = self.expr(0)?;
                args.push(Arg::Pair(v, d));
                named = true;
            } else {
                if named {
                    return Err(self.error());
                }
                args.push(Arg::Value(v));
            }
            if self.eat(close) {
                return Ok(args);
            }
            self.expect(&Tok::Comma)?;
            if self.peek() == Some(close) {
                return Err(self.error());
            }
        }
    }
}
