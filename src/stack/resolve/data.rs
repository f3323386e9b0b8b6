//! The data functions of Heat's templates, on values already resolved: what each
//! function's `result()` does in Heat 27.0.1 (`heat/engine/hot/functions.py`,
//! `heat/engine/cfn/functions.py`), with the errors Heat raises kept as errors.
//!
//! Kept apart from the stack so that each function is a plain function of its arguments:
//! the caller resolves them (as `function.resolve` does) and names the call in errors.
//! Python's own semantics (`==`, `str()`, `int()`, `json.dumps`) come from
//! [`crate::python`].
//!
//! A file a family: `text` (joins, replacements, splits), `lists`, `maps`, `repeat`,
//! `url` (`make_url`), `digest`.

mod digest;
mod lists;
mod maps;
mod repeat;
mod text;
mod url;

pub use digest::digest;
pub use lists::{contains, filter, list_concat, param_path, select};
pub use maps::{map_merge, map_replace, member_list_to_map};
pub use repeat::{repeat, RepeatKind};
pub use text::{base64, cfn_split, join, join_multiple, replace, str_split, ReplaceKind};
pub use url::make_url;

/// The message of an error a function must return (for the families' tests).
#[cfg(test)]
fn test_error(r: anyhow::Result<serde_json::Value>) -> String {
    format!("{:#}", r.expect_err("an error"))
}
