//! Our Python semantics (`heat_converge::python`) against Python itself.
//!
//! Many JSON values are generated (deterministically, from a fixed seed, plus the corner
//! cases Heat's templates meet: 1 vs 1.0 vs True, -0.0, 1e16, quotes, unicode, nested
//! containers) and sent in one batch to the Python of Heat's virtualenv, which loads them
//! with `json.loads` as Heat does and answers `bool(v)`, `str(v)`, `type(v).__name__`,
//! `a == b` and `repr(a or b)` for each. Every answer of ours must be Python's.

mod common;

use common::python_oracle;
use heat_converge::python;
use serde_json::{json, Map, Value};

/// A small deterministic generator (xorshift), so a failure can be replayed.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn string(&mut self) -> String {
        const PIECES: &[&str] = &[
            "a", "net", "1", "1.0", "True", "None", "'", "\"", "\\", " ", "\n", "\t", "\r",
            "\u{7}", "\u{7f}", "é", "ß", "日本", "😀", "\u{a0}", "\u{ad}", "\u{200b}", "\u{2028}",
            "\u{3000}", "\u{feff}", "Ω", "{", "[", ",", ":", "",
        ];
        let n = self.below(4);
        (0..n).map(|_| *self.pick(PIECES)).collect()
    }

    fn float(&mut self) -> f64 {
        const FLOATS: &[f64] = &[
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            0.1,
            1.5,
            2.0,
            1e15,
            1e16,
            1e17,
            1.5e16,
            1e-4,
            1e-5,
            1.5e-7,
            123456789.125,
            9007199254740992.0,
            1e300,
            -2.5e22,
            0.30000000000000004,
        ];
        match self.below(3) {
            0 => *self.pick(FLOATS),
            // Random bits: any finite double.
            1 => {
                let f = f64::from_bits(self.next());
                if f.is_finite() {
                    f
                } else {
                    1.25
                }
            }
            _ => (self.below(2001) as f64 - 1000.0) / 8.0,
        }
    }

    fn int(&mut self) -> Value {
        const INTS: &[i64] = &[0, 1, -1, 2, 10, 9007199254740993, i64::MAX, i64::MIN];
        match self.below(3) {
            0 => json!(*self.pick(INTS)),
            1 => json!(u64::MAX),
            _ => json!(self.below(5) as i64 - 2),
        }
    }

    fn value(&mut self, depth: u32) -> Value {
        let kinds = if depth == 0 { 6 } else { 8 };
        match self.below(kinds) {
            0 => Value::Null,
            1 => Value::Bool(self.below(2) == 1),
            2 => self.int(),
            3 => json!(self.float()),
            4 | 5 => Value::String(self.string()),
            6 => Value::Array((0..self.below(4)).map(|_| self.value(depth - 1)).collect()),
            _ => {
                let mut m = Map::new();
                for _ in 0..self.below(4) {
                    m.insert(self.string(), self.value(depth - 1));
                }
                Value::Object(m)
            }
        }
    }
}

/// A value Python deems equal to `v` but written differently: ints as floats or bools,
/// floats as ints, dict keys in reverse order.
fn twin(v: &Value) -> Value {
    match v {
        Value::Bool(b) => json!(i64::from(*b)),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) if i == 0 || i == 1 => Value::Bool(i == 1),
            (Some(i), _) if i.unsigned_abs() < (1 << 53) => json!(i as f64),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 1e18 => json!(f as i64),
            _ => v.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(twin).collect()),
        Value::Object(m) => {
            Value::Object(m.iter().rev().map(|(k, v)| (k.clone(), twin(v))).collect())
        }
        other => other.clone(),
    }
}

fn corpus() -> (Vec<Value>, Vec<(usize, usize)>) {
    let mut values = vec![
        json!(1),
        json!(1.0),
        json!(true),
        json!([1]),
        json!([1.0]),
        json!([true]),
        json!(0),
        json!(-0.0),
        json!(false),
        json!(""),
        json!({}),
        json!([]),
        json!(null),
        json!(1e16),
        json!(9007199254740993_i64),
        json!(9007199254740992.0),
        json!({"a": [1, "x"]}),
        json!({"a": [1.0, "x"]}),
        json!("it's"),
        json!("say \"hi\""),
        json!("both ' and \""),
        json!({"k": "v", "n": null}),
        json!({"n": null, "k": "v"}),
    ];
    let fixed = values.len();
    let mut g = Gen(0x9e37_79b9_7f4a_7c15);
    for _ in 0..600 {
        let v = g.value(3);
        values.push(v);
    }
    let mut pairs = Vec::new();
    for i in 0..fixed {
        for j in 0..fixed {
            pairs.push((i, j));
        }
    }
    let generated = values.len();
    for i in fixed..generated {
        let t = twin(&values[i]);
        values.push(t);
        pairs.push((i, values.len() - 1));
        pairs.push((i, fixed + g.below((generated - fixed) as u64) as usize));
    }
    (values, pairs)
}

const ORACLE: &str = r#"
import json, sys
data = json.loads(sys.stdin.read())
vs = data["values"]
def to_int(v):
    if not isinstance(v, (str, int, float)):
        return None
    try:
        return str(int(v))
    except (ValueError, TypeError, OverflowError):
        return None
out = {
    "truthy": [bool(v) for v in vs],
    "str": [str(v) for v in vs],
    "type": [type(v).__name__ for v in vs],
    "eq": [vs[i] == vs[j] for i, j in data["pairs"]],
    "or": [repr(vs[i] or vs[j]) for i, j in data["pairs"]],
    "json": [json.dumps(v, sort_keys=True) for v in vs],
    "int": [to_int(v) for v in vs],
}
sys.stdout.write(json.dumps(out))
"#;

fn ask_python(values: &[Value], pairs: &[(usize, usize)]) -> Value {
    python_oracle(ORACLE, &[], &json!({"values": values, "pairs": pairs}))
}

#[test]
fn python_semantics_match_python() {
    let (values, pairs) = corpus();
    // Python reads the values from JSON text: so do we, so that both see 1.0 as a float.
    let text = serde_json::to_string(&values).expect("serialize");
    let values: Vec<Value> = serde_json::from_str(&text).expect("reparse");
    let py = ask_python(&values, &pairs);
    let answers = |k: &str| py[k].as_array().expect(k).clone();

    let mut failures = Vec::new();
    for (i, v) in values.iter().enumerate() {
        if Value::Bool(python::truthy(v)) != answers("truthy")[i] {
            failures.push(format!("bool({v})"));
        }
        if Value::String(python::str(v)) != answers("str")[i] {
            failures.push(format!(
                "str({v}): ours {:?}, Python {}",
                python::str(v),
                answers("str")[i]
            ));
        }
        if Value::String(python::json_dumps_sorted(v)) != answers("json")[i] {
            failures.push(format!(
                "json.dumps({v}): ours {:?}, Python {}",
                python::json_dumps_sorted(v),
                answers("json")[i]
            ));
        }
        // Python's ints have no bound; ours saturate at i128's (same sign).
        let int = python::int(v).map(|i| Value::String(i.to_string()));
        let want = match answers("int")[i].as_str().map(|t| (t, t.parse::<i128>())) {
            Some((t, Err(_))) if t.starts_with('-') => Value::String(i128::MIN.to_string()),
            Some((_, Err(_))) => Value::String(i128::MAX.to_string()),
            _ => answers("int")[i].clone(),
        };
        if int.as_ref().unwrap_or(&Value::Null) != &want {
            failures.push(format!(
                "int({v}): ours {int:?}, Python {}",
                answers("int")[i]
            ));
        }
        if python::type_name(v) != answers("type")[i] {
            failures.push(format!("type({v})"));
        }
    }
    let mut equal_pairs = 0;
    for (n, &(i, j)) in pairs.iter().enumerate() {
        let (a, b) = (&values[i], &values[j]);
        let ours = python::eq(a, b);
        if Value::Bool(ours) != answers("eq")[n] {
            failures.push(format!("{a} == {b}: ours {ours}"));
        }
        equal_pairs += usize::from(ours);
        let either: Result<Value, ()> = python::or(a.clone(), || Ok(b.clone()));
        // Compared through repr: serde_json may not read back Python's float text exactly.
        if either.as_ref().map(python::repr).ok().as_deref() != answers("or")[n].as_str() {
            failures.push(format!("{a} or {b}: ours {either:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The batch must exercise both answers of `==`, and many values.
    assert!(values.len() > 1000 && equal_pairs > 500 && equal_pairs < pairs.len());
}
