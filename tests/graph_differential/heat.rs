//! Heat's side: the oracle alone (`heatbed.py graph`), checked on templates whose edges
//! are plain to read, so that a difference found later is ours to explain, not the bed's.

use crate::common::{Bed, GraphJob};
use crate::our_templates;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

pub(crate) fn requires(graph: &Value, name: &str) -> Vec<String> {
    let r = &graph["resources"][name];
    assert!(
        r.is_object(),
        "Heat's graph has no resource {name}: {graph}"
    );
    r["requires"]
        .as_array()
        .unwrap_or_else(|| panic!("{name} has no requires list: {graph}"))
        .iter()
        .map(|v| v.as_str().expect("a resource name").to_string())
        .collect()
}

pub(crate) fn names(graph: &Value) -> Vec<String> {
    graph["resources"]
        .as_object()
        .unwrap_or_else(|| panic!("not a graph: {graph}"))
        .keys()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The oracle itself, on templates whose edges are plain to read (tests/templates).
#[test]
pub(crate) fn oracle_graph_of_our_templates() {
    let bed = Bed::new("graphoracle");
    let dir = our_templates();
    let none: &[String] = &[];

    let depends = bed.graph(&dir.join("depends.yaml"), &[], &[]);
    assert_eq!(names(&depends), ["base", "middle", "side", "top"]);
    assert_eq!(requires(&depends, "top"), ["middle", "side"]);
    assert_eq!(requires(&depends, "middle"), ["base"]);
    assert_eq!(requires(&depends, "base"), none);
    assert_eq!(requires(&depends, "side"), none);
    assert_eq!(
        depends["resources"]["top"]["type"],
        "OS::Heat::TestResource"
    );

    let cfn = bed.graph(&dir.join("cfn.yaml"), &[], &["Size=8"]);
    assert_eq!(names(&cfn), ["Alone", "Echo", "Last", "Secret"]);
    assert_eq!(requires(&cfn, "Echo"), ["Secret"]); // Ref and Fn::GetAtt
    assert_eq!(requires(&cfn, "Last"), ["Echo"]); // DependsOn
    assert_eq!(requires(&cfn, "Alone"), none); // Ref to a pseudo parameter

    // The batch command: same answers, environments, files, conditions, rejections.
    let job = |t: &str, envs: &[&str], files: &[&str]| GraphJob {
        template: dir.join(t),
        environments: envs.iter().map(|e| dir.join(e)).collect(),
        parameters: BTreeMap::new(),
        files: files.iter().map(|f| (f.to_string(), dir.join(f))).collect(),
    };
    let got = bed.graph_batch(&[
        job("depends.yaml", &[], &[]),
        job("provider.yaml", &["box-env.yaml"], &["box.yaml"]),
        job("provider.yaml", &[], &[]),
        job("conditions.yaml", &[], &[]),
        job("conditions.yaml", &["dev-env.yaml"], &[]),
    ]);
    assert_eq!(
        got[0], depends,
        "graph-batch and graph disagree on depends.yaml"
    );

    assert_eq!(requires(&got[1], "second"), ["first"]); // get_attr of a provider's output
    assert_eq!(requires(&got[1], "first"), none);
    assert_eq!(got[1]["resources"]["first"]["type"], "My::Box");

    let err = got[2]["error"]
        .as_str()
        .unwrap_or_else(|| panic!("Heat took My::Box without box-env.yaml: {}", got[2]));
    assert!(err.contains("My::Box"), "{err}");

    assert_eq!(
        names(&got[3]),
        ["chooser", "left", "prod_only", "reader", "right"]
    );
    assert_eq!(requires(&got[3], "chooser"), ["left"]);
    assert_eq!(requires(&got[3], "reader"), ["prod_only"]);
    assert_eq!(
        names(&got[4]),
        ["chooser", "dev_only", "left", "reader", "right"]
    );
    assert_eq!(requires(&got[4], "chooser"), ["right"]);
    assert_eq!(requires(&got[4], "reader"), ["dev_only"]);
}
