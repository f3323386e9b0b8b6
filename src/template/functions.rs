//! Which keys are intrinsic functions, per template version.
//!
//! Heat decides per `heat_template_version` (or CFN format) which single-key maps are
//! functions; any other key is plain data, even if it looks like a function. A function
//! that a version *removed* is still parsed as a function (its arguments still count as
//! references) and only fails when the template is validated. These tables follow Heat
//! 27.0.1's `heat/engine/hot/template.py` and `heat/engine/cfn/template.py`.

use super::Format;

/// How Heat's `get_attr` family reads its arguments; the forms differ between versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GetAttrForm {
    /// HOT 2013-05-23: `[resource, attribute, path...]`, at least two items.
    ThenSelect,
    /// HOT 2014-10-16 .. 2015-04-30: as above.
    Path,
    /// HOT 2015-10-15 and later: `[resource]` alone means "all attributes".
    AllAttributes,
    /// CFN `Fn::GetAtt`: exactly `[resource, attribute]`.
    Cfn,
}

/// What a function key means in one template version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FnKind {
    GetResource,
    GetAttr(GetAttrForm),
    /// CFN `Ref` (and HOT 2013-05-23's): a resource reference when the argument names a
    /// resource of the template, a parameter reference otherwise.
    Ref,
    GetParam,
    /// `if` / `Fn::If`, a macro: only the branch the condition chooses is parsed.
    /// `nullable`: the false branch may be left out (HOT 2021-04-16).
    If {
        nullable: bool,
    },
    /// In a version that dropped it: parsed, fails validation only.
    Removed,
    /// A regular function not allowed where it is used (e.g. `get_resource` in a
    /// condition): parsed, fails validation only.
    Invalid,
    Equals,
    Not,
    And,
    Or,
    Contains,
    /// Any other function (its name is in [`Call::name`](super::snippet::Call)): its
    /// arguments are walked for references.
    Other,
}

const HOT_VERSIONS: &[&str] = &[
    "2013-05-23",
    "2014-10-16",
    "2015-04-30",
    "2015-10-15",
    "2016-04-08",
    "2016-10-14",
    "2017-02-24",
    "2017-09-01",
    "2018-03-02",
    "2018-08-31",
    "2021-04-16",
];

/// Release names Heat accepts as `heat_template_version` aliases.
const HOT_ALIASES: &[(&str, &str)] = &[
    ("newton", "2016-10-14"),
    ("ocata", "2017-02-24"),
    ("pike", "2017-09-01"),
    ("queens", "2018-03-02"),
    ("rocky", "2018-08-31"),
    ("wallaby", "2021-04-16"),
];

/// The canonical date of a HOT version string, if Heat accepts it.
pub fn hot_version(v: &str) -> Option<&'static str> {
    HOT_VERSIONS
        .iter()
        .copied()
        .find(|x| *x == v)
        .or_else(|| HOT_ALIASES.iter().find(|(a, _)| *a == v).map(|(_, d)| *d))
}

/// CFN functions that HOT 2014-10-16 and later list as removed.
const CFN_IN_HOT: &[&str] = &[
    "Fn::Base64",
    "Fn::GetAZs",
    "Fn::Join",
    "Fn::MemberListToMap",
    "Fn::Replace",
    "Fn::ResourceFacade",
    "Fn::Select",
    "Fn::Split",
    "Ref",
];

/// The meaning of `key` as a function in `format`, or None when it is plain data.
pub fn function(format: &Format, key: &str) -> Option<FnKind> {
    match format {
        Format::Cfn { heat: _ } => cfn_function(format, key),
        Format::Hot { version } => hot_function(version, key),
    }
}

fn cfn_function(format: &Format, key: &str) -> Option<FnKind> {
    let aws = matches!(format, Format::Cfn { heat: false });
    Some(match key {
        "Ref" => FnKind::Ref,
        "Fn::GetAtt" => FnKind::GetAttr(GetAttrForm::Cfn),
        "Fn::If" if aws => FnKind::If { nullable: false },
        "Fn::Base64"
        | "Fn::FindInMap"
        | "Fn::GetAZs"
        | "Fn::Join"
        | "Fn::MemberListToMap"
        | "Fn::Replace"
        | "Fn::ResourceFacade"
        | "Fn::Select"
        | "Fn::Split" => FnKind::Other,
        _ => return None,
    })
}

fn hot_function(version: &str, key: &str) -> Option<FnKind> {
    let at_least = |v: &str| version >= v;
    if version == "2013-05-23" {
        return Some(match key {
            "get_resource" => FnKind::GetResource,
            "get_attr" => FnKind::GetAttr(GetAttrForm::ThenSelect),
            "get_param" => FnKind::GetParam,
            "Ref" => FnKind::Ref,
            "get_file"
            | "list_join"
            | "str_replace"
            | "resource_facade"
            | "Fn::Base64"
            | "Fn::GetAZs"
            | "Fn::Join"
            | "Fn::MemberListToMap"
            | "Fn::Replace"
            | "Fn::ResourceFacade"
            | "Fn::Select"
            | "Fn::Split" => FnKind::Other,
            _ => return None,
        });
    }
    if key == "Fn::Select" && !at_least("2015-10-15") {
        return Some(FnKind::Other);
    }
    if CFN_IN_HOT.contains(&key) {
        return Some(FnKind::Removed);
    }
    let kind = match key {
        "get_resource" => FnKind::GetResource,
        "get_param" => FnKind::GetParam,
        "get_attr" if at_least("2015-10-15") => FnKind::GetAttr(GetAttrForm::AllAttributes),
        "get_attr" => FnKind::GetAttr(GetAttrForm::Path),
        "get_file" | "list_join" | "str_replace" | "resource_facade" => FnKind::Other,
        "repeat" | "digest" if at_least("2015-04-30") => FnKind::Other,
        "str_split" if at_least("2015-10-15") => FnKind::Other,
        "map_merge" if at_least("2016-04-08") => FnKind::Other,
        "yaql" | "map_replace" if at_least("2016-10-14") => FnKind::Other,
        "if" if at_least("2021-04-16") => FnKind::If { nullable: true },
        "if" if at_least("2016-10-14") => FnKind::If { nullable: false },
        "filter" | "str_replace_strict" if at_least("2017-02-24") => FnKind::Other,
        "contains" | "list_concat" | "list_concat_unique" | "make_url" | "str_replace_vstrict"
            if at_least("2017-09-01") =>
        {
            FnKind::Other
        }
        _ => return None,
    };
    Some(kind)
}

/// The meaning of `key` inside a condition (the `conditions` section, `condition:` of a
/// resource, the first argument of `if`). Heat's condition parser knows the condition
/// functions; every regular function of the version is known there too, but invalid.
pub fn condition_function(format: &Format, key: &str) -> Option<FnKind> {
    let own = match format {
        Format::Cfn { heat: false } => match key {
            "Fn::And" => Some(FnKind::And),
            "Fn::Equals" => Some(FnKind::Equals),
            "Fn::Not" => Some(FnKind::Not),
            "Fn::Or" => Some(FnKind::Or),
            "Fn::FindInMap" => Some(FnKind::Other),
            "Ref" => Some(FnKind::GetParam),
            _ => None,
        },
        Format::Cfn { heat: true } => None,
        Format::Hot { version } if version.as_str() >= "2016-10-14" => match key {
            "and" => Some(FnKind::And),
            "equals" => Some(FnKind::Equals),
            "get_param" => Some(FnKind::GetParam),
            "not" => Some(FnKind::Not),
            "or" => Some(FnKind::Or),
            "contains" if version.as_str() >= "2017-09-01" => Some(FnKind::Contains),
            "yaql" if version.as_str() >= "2017-09-01" => Some(FnKind::Other),
            _ => None,
        },
        Format::Hot { .. } => None,
    };
    if own.is_some() {
        return own;
    }
    // Every regular function of the version is known to the condition parser, as
    // invalid there; HOT 2016-10-14 and later keep removed ones as removed.
    let keeps_removed =
        matches!(format, Format::Hot { version } if version.as_str() >= "2016-10-14");
    function(format, key).map(|k| match k {
        FnKind::Removed if keeps_removed => FnKind::Removed,
        _ => FnKind::Invalid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hot(v: &str) -> Format {
        Format::Hot {
            version: v.to_string(),
        }
    }

    #[test]
    fn function_keys_depend_on_the_version() {
        assert_eq!(function(&hot("2013-05-23"), "Ref"), Some(FnKind::Ref));
        assert_eq!(function(&hot("2014-10-16"), "Ref"), Some(FnKind::Removed));
        assert_eq!(function(&hot("2015-04-30"), "map_merge"), None);
        assert_eq!(
            function(&hot("2016-04-08"), "map_merge"),
            Some(FnKind::Other)
        );
        assert_eq!(function(&hot("2016-04-08"), "if"), None);
        assert_eq!(
            function(&hot("2016-10-14"), "if"),
            Some(FnKind::If { nullable: false })
        );
        assert_eq!(
            function(&hot("2021-04-16"), "if"),
            Some(FnKind::If { nullable: true })
        );
        assert_eq!(
            function(&hot("2014-10-16"), "Fn::Select"),
            Some(FnKind::Other)
        );
        assert_eq!(
            function(&hot("2015-10-15"), "Fn::Select"),
            Some(FnKind::Removed)
        );
        assert_eq!(
            function(&hot("2015-04-30"), "get_attr"),
            Some(FnKind::GetAttr(GetAttrForm::Path))
        );
        assert_eq!(function(&Format::Cfn { heat: true }, "Fn::If"), None);
        assert_eq!(function(&Format::Cfn { heat: false }, "get_resource"), None);
    }

    #[test]
    fn release_names_are_versions() {
        assert_eq!(hot_version("rocky"), Some("2018-08-31"));
        assert_eq!(hot_version("2019-01-01"), None);
    }

    #[test]
    fn conditions_know_regular_functions_as_invalid() {
        let v = hot("2016-10-14");
        assert_eq!(condition_function(&v, "equals"), Some(FnKind::Equals));
        assert_eq!(
            condition_function(&v, "get_resource"),
            Some(FnKind::Invalid)
        );
        assert_eq!(condition_function(&v, "Ref"), Some(FnKind::Removed));
        assert_eq!(condition_function(&v, "contains"), None);
    }
}
