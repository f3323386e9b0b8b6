//! Heat templates: HOT (`heat_template_version`) and CFN (`AWSTemplateFormatVersion`,
//! `HeatTemplateFormatVersion`), read from JSON (how Heat's database stores them) or YAML
//! (how operators write them), and their sections as Heat sees them.

pub mod functions;
pub mod snippet;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{Map, Value};

/// Heat refuses templates larger than this (`max_template_size`, default 512 KiB).
pub const MAX_TEMPLATE_SIZE: usize = 524_288;

/// The format and version of a template: it decides the function table and key names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Format {
    /// `heat_template_version`, normalised to its date (release names resolved).
    Hot { version: String },
    /// `AWSTemplateFormatVersion: 2010-09-09` (`heat: false`) or
    /// `HeatTemplateFormatVersion: 2012-12-12` (`heat: true`).
    Cfn { heat: bool },
}

/// The key names of a resource definition, which differ between the formats.
pub struct ResourceKeys {
    pub kind: &'static str,
    pub properties: &'static str,
    pub metadata: &'static str,
    pub depends_on: &'static str,
    pub condition: &'static str,
    pub external_id: Option<&'static str>,
    /// Every key Heat accepts in a resource definition of this format.
    pub all: &'static [&'static str],
}

/// HOT resource keys; the last two came with 2016-10-14.
const HOT_KEYS: &[&str] = &[
    "type",
    "properties",
    "metadata",
    "depends_on",
    "deletion_policy",
    "update_policy",
    "description",
    "external_id",
    "condition",
];
const CFN_KEYS: &[&str] = &[
    "Type",
    "Properties",
    "Metadata",
    "DependsOn",
    "DeletionPolicy",
    "UpdatePolicy",
    "Description",
    "Condition",
];

/// One template, as stored in `raw_template.template` or read from a file.
#[derive(Clone, Debug)]
pub struct Template {
    pub format: Format,
    pub body: Map<String, Value>,
    /// Where it came from (a file name, or "stack X"), for messages.
    pub origin: String,
}

impl Template {
    /// Reads a template the way Heat does: JSON if it parses as JSON, YAML otherwise.
    pub fn from_text(text: &str, origin: &str) -> Result<Template> {
        if text.len() > MAX_TEMPLATE_SIZE {
            bail!(
                "{origin}: template size ({} bytes) exceeds maximum allowed size ({MAX_TEMPLATE_SIZE} bytes)",
                text.len()
            );
        }
        let value =
            parse_document(text).with_context(|| format!("{origin}: cannot parse template"))?;
        let value = match value {
            Value::Null => Value::Object(Map::new()),
            v => v,
        };
        let Value::Object(body) = value else {
            bail!("{origin}: the template is not a JSON object or YAML mapping");
        };
        if ![
            "HeatTemplateFormatVersion",
            "heat_template_version",
            "AWSTemplateFormatVersion",
        ]
        .iter()
        .any(|k| body.contains_key(*k))
        {
            bail!("{origin}: template format version not found");
        }
        Template::from_body(body, origin)
    }

    /// A template from an already-parsed body (e.g. the JSON in Heat's database).
    pub fn from_body(body: Map<String, Value>, origin: &str) -> Result<Template> {
        let format = detect_format(&body).map_err(|e| anyhow!("{origin}: {e}"))?;
        Ok(Template {
            format,
            body,
            origin: origin.to_string(),
        })
    }

    pub fn is_hot(&self) -> bool {
        matches!(self.format, Format::Hot { .. })
    }

    /// The resource definition keys of this template's format.
    pub fn resource_keys(&self) -> ResourceKeys {
        match &self.format {
            Format::Hot { version } => ResourceKeys {
                kind: "type",
                properties: "properties",
                metadata: "metadata",
                depends_on: "depends_on",
                condition: "condition",
                external_id: (version.as_str() >= "2016-10-14").then_some("external_id"),
                all: if version.as_str() >= "2016-10-14" {
                    HOT_KEYS
                } else {
                    &HOT_KEYS[..7]
                },
            },
            Format::Cfn { .. } => ResourceKeys {
                kind: "Type",
                properties: "Properties",
                metadata: "Metadata",
                depends_on: "DependsOn",
                condition: "Condition",
                external_id: None,
                all: CFN_KEYS,
            },
        }
    }

    /// A top-level section by its HOT or CFN name; a null section reads as absent.
    fn section(&self, hot: &str, cfn: &str) -> Option<&Value> {
        let key = if self.is_hot() { hot } else { cfn };
        self.body.get(key).filter(|v| !v.is_null())
    }

    /// The resources section: name -> raw definition, in template order.
    pub fn resources(&self) -> Result<Vec<(&String, &Map<String, Value>)>> {
        let Some(section) = self.section("resources", "Resources") else {
            return Ok(Vec::new());
        };
        let map = section.as_object().ok_or_else(|| {
            anyhow!(
                "{}: \"resources\" must contain a map of resource maps",
                self.origin
            )
        })?;
        let mut out = Vec::with_capacity(map.len());
        for (name, defn) in map {
            match defn.as_object() {
                Some(d) if !d.is_empty() => out.push((name, d)),
                Some(_) | None if defn.is_null() || defn.as_object().is_some() => {
                    bail!(
                        "{}: resources.{name}: each resource must contain a type key",
                        self.origin
                    )
                }
                _ => bail!(
                    "{}: \"resources\" must contain a map of resource maps; {name} is not a map",
                    self.origin
                ),
            }
        }
        Ok(out)
    }

    /// The names of all resources of the template, enabled or not.
    pub fn resource_names(&self) -> Vec<String> {
        self.section("resources", "Resources")
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The parameters section: name -> schema.
    pub fn parameters(&self) -> Result<Map<String, Value>> {
        match self.section("parameters", "Parameters") {
            None => Ok(Map::new()),
            Some(Value::Object(m)) => Ok(m.clone()),
            Some(_) => bail!("{}: the parameters section must be a map", self.origin),
        }
    }

    /// The conditions section, for the formats that have one.
    pub fn conditions(&self) -> Result<Map<String, Value>> {
        let has_conditions = match &self.format {
            Format::Hot { version } => version.as_str() >= "2016-10-14",
            Format::Cfn { heat } => !heat,
        };
        if !has_conditions {
            return Ok(Map::new());
        }
        match self.section("conditions", "Conditions") {
            None => Ok(Map::new()),
            Some(Value::Object(m)) => Ok(m.clone()),
            Some(other) => bail!(
                "{}: Condition definitions must be a map. Found a {} instead",
                self.origin,
                crate::python::type_name(other)
            ),
        }
    }

    /// CFN `Mappings` (for `Fn::FindInMap`); HOT has none.
    pub fn mappings(&self) -> Map<String, Value> {
        if self.is_hot() {
            return Map::new();
        }
        self.body
            .get("Mappings")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    }
}

/// JSON first, as Heat does, then YAML. A leading byte-order mark is not content
/// (Heat's YAML reader skips it too).
pub(crate) fn parse_document(text: &str) -> Result<Value> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Ok(v);
    }
    let v: Value = serde_yaml::from_str(text).map_err(|e| anyhow!("{e}"))?;
    Ok(v)
}

/// Heat's `get_version`: exactly one version key with a string value, and a version the
/// release knows.
fn detect_format(body: &Map<String, Value>) -> Result<Format> {
    let keys: Vec<&str> = [
        "heat_template_version",
        "AWSTemplateFormatVersion",
        "HeatTemplateFormatVersion",
    ]
    .into_iter()
    .filter(|k| body.get(*k).is_some_and(Value::is_string))
    .collect();
    let key = match keys.as_slice() {
        [k] => *k,
        [] => bail!("The template version is invalid: Template version was not provided"),
        many => bail!(
            "The template version is invalid: Ambiguous versions ({})",
            many.join(", ")
        ),
    };
    let version = body.get(key).and_then(Value::as_str).unwrap_or_default();
    let format = match key {
        "heat_template_version" => functions::hot_version(version).map(|v| Format::Hot {
            version: v.to_string(),
        }),
        "AWSTemplateFormatVersion" => {
            (version == "2010-09-09").then_some(Format::Cfn { heat: false })
        }
        _ => (version == "2012-12-12").then_some(Format::Cfn { heat: true }),
    };
    format.ok_or_else(|| {
        anyhow!("The template version is invalid: \"{key}: {version}\" is not supported")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_and_json_templates_read_the_same() {
        let y = Template::from_text(
            "heat_template_version: 2015-04-30\nresources: {}\n",
            "t.yaml",
        )
        .unwrap();
        let j = Template::from_text(
            r#"{"heat_template_version": "2015-04-30", "resources": {}}"#,
            "t.json",
        )
        .unwrap();
        assert_eq!(y.format, j.format);
        assert_eq!(
            y.format,
            Format::Hot {
                version: "2015-04-30".into()
            }
        );
    }

    #[test]
    fn a_byte_order_mark_is_not_content() {
        let t =
            Template::from_text("\u{feff}heat_template_version: 2015-04-30\n", "bom.yaml").unwrap();
        assert_eq!(
            t.format,
            Format::Hot {
                version: "2015-04-30".into()
            }
        );
    }

    #[test]
    fn versions_and_formats() {
        let t = Template::from_text("heat_template_version: rocky\n", "t").unwrap();
        assert_eq!(
            t.format,
            Format::Hot {
                version: "2018-08-31".into()
            }
        );
        let t = Template::from_text("AWSTemplateFormatVersion: '2010-09-09'\n", "t").unwrap();
        assert_eq!(t.format, Format::Cfn { heat: false });
        let t = Template::from_text("HeatTemplateFormatVersion: '2012-12-12'\n", "t").unwrap();
        assert_eq!(t.format, Format::Cfn { heat: true });
        let e = Template::from_text("heat_template_version: 2099-01-01\n", "x.yaml").unwrap_err();
        assert!(format!("{e:#}").contains("x.yaml"), "{e:#}");
        assert!(Template::from_text("resources: {}\n", "t").is_err());
        assert!(Template::from_text("- a\n", "t").is_err());
        assert!(Template::from_text(
            "heat_template_version: 2015-04-30\nAWSTemplateFormatVersion: '2010-09-09'\n",
            "t"
        )
        .is_err());
    }
}
