//! Python's semantics, in one home.
//!
//! Heat is Python, and so are the libraries whose reading of a value we must repeat
//! (yaql, oslo.config, SQLAlchemy, PyMySQL). Each step of theirs that follows a Python
//! rule (`==`, truthiness, `str()`, `int()`, `float()`, `str.split`, `strip`, `replace`
//! with a count, a negative index) is written here once, and every caller comes here, so
//! that all of them agree with each other and with Python itself: tests/python_semantics.rs
//! asks the Python of Heat's virtualenv for the answers, over every code point where the
//! domain is that small and over generated inputs (with the characters where Rust and
//! Python part ways) elsewhere.
//!
//! A file a family: `object` (type names, truthiness, `or`, `==`), `repr` (`str()`,
//! `repr()`), `json` (`json.dumps`), `number` (`int()`, `float()`, `//`, `%`), `text`
//! (`isspace`, `strip`, `split`, `replace`), `sequence` (indexes and slices).
//!
//! Values are `serde_json::Value` as Python's `json.loads` sees them: `Null` is None, a
//! number written with a fraction or exponent is a float, any other an int.

mod json;
mod number;
mod object;
mod repr;
mod sequence;
mod text;

pub use json::json_dumps_sorted;
pub use number::{
    decimal_digit, float_modulo, float_str, floor_div, int, int_or_float, int_str, modulo,
    IntDivError, IntError, NotANumber,
};
pub use object::{eq, or, truthy, type_name};
pub use repr::{float_repr, isprintable, repr, str};
pub use sequence::{item, slice_bound};
pub use text::{isspace, lstrip, replace, rsplit, rstrip, split, strip, EmptySeparator};
