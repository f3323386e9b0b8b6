//! `src/resource_types.txt` (what [`heat_converge::environment::known_types`] reads) against
//! the resource types a real Heat 27.0.1 registers: `heatbed.py resource-types` lists the
//! keys of its global environment's registry after `resources.initialise()`.

mod common;

use common::Bed;
use std::collections::BTreeSet;

#[test]
fn known_types_are_heats() {
    let heat: BTreeSet<String> = Bed::new("graphtypes")
        .resource_types()
        .into_iter()
        .collect();
    let ours: Vec<&str> = heat_converge::environment::known_types().collect();
    let unique: BTreeSet<String> = ours.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        unique.len(),
        ours.len(),
        "src/resource_types.txt names a type twice"
    );
    assert!(
        heat.len() > 100,
        "Heat registers only {} types?",
        heat.len()
    );

    let only_heat: Vec<&String> = heat.difference(&unique).collect();
    let only_ours: Vec<&String> = unique.difference(&heat).collect();
    println!(
        "resource types: Heat {}, ours {}; only Heat's {}, only ours {}",
        heat.len(),
        unique.len(),
        only_heat.len(),
        only_ours.len()
    );
    assert!(
        only_heat.is_empty() && only_ours.is_empty(),
        "src/resource_types.txt is not Heat's list:\n  registered by Heat, missing from ours: \
         {only_heat:?}\n  in ours, not registered by Heat: {only_ours:?}"
    );
}
