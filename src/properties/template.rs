//! The properties of a provider-template resource (`TemplateResource`): the template's
//! parameters, typed as Heat types them, with no translation rules.

use super::schema::{Kind, ResourceSchema, Schema};

/// One parameter of a provider template, as a property of the facade resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateParameter {
    pub kind: ParameterKind,
    /// After the environment's `parameter_defaults`; without one the property is required.
    pub has_default: bool,
}

/// A template parameter type (HOT names; CFN `String`, `Number`, ... map one to one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterKind {
    String,
    Number,
    CommaDelimitedList,
    Json,
    Boolean,
}

/// The property schema of a provider-template resource (`TemplateResource`): one
/// property per parameter of the template. `Schema.from_parameter` keeps no default
/// (the nested stack applies it) but makes a parameter without one required; `json`
/// and `comma_delimited_list` parameters allow string conversion. No translation rules.
pub fn template_schema(owner: &str, parameters: &[(String, TemplateParameter)]) -> ResourceSchema {
    let props: Vec<(String, Schema)> = parameters
        .iter()
        .map(|(name, p)| {
            let (kind, allow_conversion) = match p.kind {
                ParameterKind::String => (Kind::String, false),
                ParameterKind::Number => (Kind::Number, false),
                ParameterKind::Boolean => (Kind::Boolean, false),
                ParameterKind::Json => (Kind::Map(None), true),
                ParameterKind::CommaDelimitedList => (Kind::List(None), true),
            };
            (
                name.clone(),
                Schema {
                    kind,
                    required: !p.has_default,
                    default: None,
                    allow_conversion,
                },
            )
        })
        .collect();
    ResourceSchema {
        names: props.iter().map(|(n, _)| n.clone()).collect(),
        props,
        renames: vec![],
        owner: owner.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::properties::{Failure, PropertyError};
    use serde_json::{json, Value};

    fn given_from(props: Value) -> impl Fn(&str) -> Result<Option<Value>, PropertyError> {
        move |p: &str| Ok(props.get(p).cloned())
    }

    #[test]
    fn template_facade_properties_come_from_parameters() {
        let t = template_schema(
            "subnet.yaml",
            &[
                (
                    "network".into(),
                    TemplateParameter {
                        kind: ParameterKind::String,
                        has_default: false,
                    },
                ),
                (
                    "ids".into(),
                    TemplateParameter {
                        kind: ParameterKind::CommaDelimitedList,
                        has_default: true,
                    },
                ),
            ],
        );
        let g = given_from(json!({"ids": "a,b"}));
        assert!(matches!(t.item(&g, "network"), Err(Failure::Invalid(_)))); // required: no default
        assert_eq!(t.item(&g, "ids"), Ok(json!(["a", "b"])));
        assert_eq!(t.get(&g, "network_id"), Ok(Value::Null));
        assert!(matches!(
            t.item(&g, "network_id"),
            Err(Failure::NoSuchProperty(_))
        ));
    }
}
