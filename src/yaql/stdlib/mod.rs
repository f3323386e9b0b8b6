//! yaql's standard library, as far as Heat's templates use it: which functions exist and
//! in which form yaql registers each (function, method or both), and the call of one,
//! routed to its family.
//!
//! A file a family: `control` (let, switch, coalesce), `convert` (str, int, float, type
//! tests), `math` (abs, round, max/min), `strings` (and regex), `dicts`, `queries` (the
//! collection functions), `operators` (what the evaluator's operators do, which the
//! families use too). `call` holds the one call being resolved and the [`Evaluate`]
//! interface through which the library reaches the evaluator.

mod call;
mod control;
mod convert;
mod dicts;
mod math;
mod operators;
mod queries;
mod strings;

use std::rc::Rc;

use call::Call;
pub(crate) use call::Evaluate;
pub(crate) use dicts::build_dict;
pub(crate) use operators::operator;

use super::error::{no_match, rt, unsupported, R};
use super::syntax::Arg;
use super::value::{Scope, Val};

/// yaql functions this interpreter does not implement: refused by name.
const KNOWN_UNIMPLEMENTED: &[&str] = &[
    "accumulate",
    "add",
    "aggregate",
    "append",
    "assert",
    "bitwiseAnd",
    "bitwiseNot",
    "bitwiseOr",
    "bitwiseXor",
    "call",
    "characters",
    "containsValue",
    "cycle",
    "datetime",
    "def",
    "defaultIfEmpty",
    "delete",
    "deleteAll",
    "difference",
    "escapeRegex",
    "examine",
    "generate",
    "generateMany",
    "groupBy",
    "hex",
    "indexWhere",
    "insert",
    "insertMany",
    "intersect",
    "isDatetime",
    "isIterable",
    "isRegex",
    "isSet",
    "isTimespan",
    "lastIndexOf",
    "lastIndexWhere",
    "localtz",
    "memorize",
    "norm",
    "now",
    "pow",
    "random",
    "reduce",
    "remove",
    "repeat",
    "replaceBy",
    "replaceMany",
    "selectAllCases",
    "selectCase",
    "sequence",
    "shiftBitsLeft",
    "shiftBitsRight",
    "sign",
    "single",
    "skipWhile",
    "slice",
    "sliceWhere",
    "splitAt",
    "splitWhere",
    "switchCase",
    "symmetricDifference",
    "takeWhile",
    "thenBy",
    "thenByDescending",
    "timespan",
    "toCharArray",
    "toDict",
    "toSet",
    "union",
    "unpack",
    "utctz",
    "with",
    "zipLongest",
];

/// Calls `name` as a method of `recv` (`recv.name(...)`) or as a function.
pub(crate) fn call(
    ev: &dyn Evaluate,
    name: &str,
    recv: Option<Val>,
    args: &[Arg],
    scope: &Rc<Scope>,
) -> R<Val> {
    let mut c = Call::new(ev, name, recv, args, scope)?;
    let method = c.recv.is_some();
    // Which form yaql registers each function in: f = function only, m = method only,
    // e = both (extension method).
    let form = match name {
        "len" | "isEmpty" | "any" | "all" | "distinct" | "concat" | "enumerate" => 'e',
        "str" | "int" | "float" | "bool" | "list" | "dict" | "isList" | "isDict" | "isString"
        | "range" | "switch" | "coalesce" | "let" | "regex" | "abs" | "round" | "isInteger"
        | "isNumber" | "isBoolean" => 'f',
        "max" | "min" => '*',
        "toLower" | "toUpper" | "trim" | "trimLeft" | "trimRight" | "startsWith" | "endsWith"
        | "select" | "where" | "map" | "filter" | "first" | "last" | "flatten" | "keys"
        | "values" | "items" | "get" | "set" | "mergeWith" | "zip" | "sum" | "contains"
        | "containsKey" | "toList" | "search" | "searchAll" | "join" | "split" | "rightSplit"
        | "replace" | "matches" | "take" | "limit" | "skip" | "reverse" | "count" | "substring"
        | "indexOf" | "orderBy" | "orderByDescending" | "selectMany" | "format" => 'm',
        _ if KNOWN_UNIMPLEMENTED.contains(&name) => return Err(unsupported(name)),
        _ => return Err(rt(format!("Unknown function \"{name}\""))),
    };
    if (form == 'f' && method) || (form == 'm' && !method) {
        return Err(no_match(name));
    }
    run(&mut c)
}

/// Runs a call whose form fits: the functions yaql registers as functions first, then the
/// methods (whose receiver may also come as the first argument), by family.
fn run(c: &mut Call) -> R<Val> {
    match c.name {
        "let" | "switch" | "coalesce" => c.control(),
        "dict" => c.dict(),
        "list" => c.list(),
        "range" => c.range(),
        "regex" => c.regex(),
        "abs" | "round" => c.math(),
        "max" | "min" if c.recv.is_none() => c.math(),
        "isInteger" | "isNumber" | "isBoolean" | "str" | "int" | "float" | "bool" | "isList"
        | "isDict" | "isString" => c.convert_call(),
        _ => {
            let recv = c.recv_or_first()?;
            match c.name {
                "len" => c.len(recv),
                "isEmpty" | "toLower" | "toUpper" | "trimLeft" | "trimRight" | "trim"
                | "startsWith" | "endsWith" | "split" | "rightSplit" | "join" | "replace"
                | "matches" | "search" | "searchAll" | "format" | "substring" | "concat" => {
                    c.string_method(recv)
                }
                "indexOf" if matches!(recv, Val::Str(_)) => c.string_method(recv),
                "keys" | "values" | "items" | "get" | "containsKey" | "set" | "mergeWith" => {
                    c.dict_method(recv)
                }
                _ => c.query(recv),
            }
        }
    }
}
