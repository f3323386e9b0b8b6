//! Malformed templates never panic the dependency engine: every input ends in a graph or
//! in an error message that names where it came from.
//!
//! Inputs are generated two ways: template-shaped values built from Heat's own keywords
//! (so that they reach deep into the parser), and the project's real templates with one
//! subtree replaced by something random.

use heat_converge::environment::{Environment, Resolver};
use heat_converge::graph::Graph;
use heat_converge::parameters::StackIdentity;
use heat_converge::stack::StackDefinition;
use heat_converge::template::Template;
use proptest::prelude::*;
use serde_json::{Map, Value};
use std::collections::HashMap;

const WORDS: &[&str] = &[
    "heat_template_version",
    "AWSTemplateFormatVersion",
    "HeatTemplateFormatVersion",
    "resources",
    "Resources",
    "parameters",
    "conditions",
    "Conditions",
    "type",
    "Type",
    "properties",
    "metadata",
    "depends_on",
    "DependsOn",
    "condition",
    "external_id",
    "get_resource",
    "get_attr",
    "get_param",
    "Ref",
    "Fn::GetAtt",
    "Fn::If",
    "if",
    "equals",
    "not",
    "and",
    "or",
    "contains",
    "list_join",
    "str_replace",
    "map_merge",
    "repeat",
    "Fn::Select",
    "Fn::Join",
    "default",
    "a",
    "b",
    "c",
    "OS::Heat::None",
    "OS::Heat::Value",
    "OS::Neutron::Port",
    "2016-10-14",
    "2021-04-16",
    "2013-05-23",
    "2010-09-09",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(WORDS).prop_map(String::from),
        1 => "[a-z:]{0,6}",
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        word().prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((word(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

/// Runs the whole engine; the test is that this returns at all.
fn run(body: Value, env: Value) {
    let Value::Object(body) = body else {
        let text = body.to_string();
        let _ = Template::from_text(&text, "fuzz.yaml");
        return;
    };
    let Ok(template) = Template::from_body(body, "fuzz.yaml") else {
        return;
    };
    let env = Environment::from_value(&env).unwrap_or_default();
    let resolver = Resolver {
        user: env.registry.clone(),
        global: Default::default(),
        plugins: Default::default(),
    };
    let id = StackIdentity {
        name: "fuzz".into(),
        id: None,
        project: "p".into(),
    };
    match StackDefinition::new(template, &env, resolver, &id, HashMap::new()) {
        Ok(stack) => {
            if let Err(e) = Graph::of(&stack, false) {
                assert!(
                    format!("{e:#}").contains("fuzz.yaml"),
                    "error does not name the template: {e:#}"
                );
            }
        }
        Err(e) => assert!(!format!("{e:#}").is_empty()),
    }
}

/// Replaces the subtree at a pseudo-random position of `v` by `with`.
fn mutate(v: &mut Value, mut pick: usize, with: Value) {
    fn walk(v: &mut Value, pick: &mut usize, with: &mut Option<Value>) {
        if *pick == 0 {
            if let Some(w) = with.take() {
                *v = w;
            }
            return;
        }
        *pick -= 1;
        match v {
            Value::Array(a) => a.iter_mut().for_each(|x| walk(x, pick, with)),
            Value::Object(m) => m.values_mut().for_each(|x| walk(x, pick, with)),
            _ => {}
        }
    }
    let mut with = Some(with);
    pick %= 64;
    walk(v, &mut pick, &mut with);
}

fn own_templates() -> Vec<Value> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/templates");
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("tests/templates") {
        let path = e.expect("entry").path();
        if !path.is_file() {
            continue; // tests/templates/graph and the like
        }
        let text = std::fs::read_to_string(&path).expect("read template");
        let v: Value = serde_yaml::from_str(&text).expect("our templates are YAML");
        if v.get("heat_template_version").is_some() || v.get("AWSTemplateFormatVersion").is_some() {
            out.push(v);
        }
    }
    assert!(out.len() >= 10, "expected the project's templates");
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn template_shaped_values_never_panic(
        version in prop::sample::select(&["2013-05-23", "2015-10-15", "2016-10-14", "2018-08-31", "2021-04-16"][..]),
        resources in prop::collection::vec((word(), value()), 0..5),
        conditions in value(),
        parameters in value(),
        env in value(),
    ) {
        let mut body = Map::new();
        body.insert("heat_template_version".into(), Value::String(version.to_string()));
        body.insert("resources".into(), Value::Object(resources.into_iter().collect()));
        body.insert("conditions".into(), conditions);
        body.insert("parameters".into(), parameters);
        run(Value::Object(body), env);
    }

    #[test]
    fn mutated_real_templates_never_panic(which in any::<usize>(), pick in any::<usize>(), with in value()) {
        let templates = own_templates();
        let mut t = templates[which % templates.len()].clone();
        mutate(&mut t, pick, with);
        run(t, Value::Null);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = Template::from_text(&text, "fuzz.yaml");
        let _ = Environment::from_text(&text, "env.yaml");
    }
}
