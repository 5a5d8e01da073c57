//! The coverage gate: every rule of the catalogue is checked by at least one
//! property, and every property names a rule that exists.

use ipc_conform::registry;

#[test]
fn every_rule_has_a_property() {
    let missing: Vec<&str> = registry::catalogue()
        .rules
        .iter()
        .filter(|r| registry::for_rule(&r.id).is_empty())
        .map(|r| r.id.as_str())
        .collect();
    assert!(missing.is_empty(), "rules without a property: {missing:?}");
}

#[test]
fn every_property_names_an_existing_rule() {
    let unknown: Vec<String> = registry::all()
        .filter(|p| registry::catalogue().get(p.rule).is_none())
        .map(|p| format!("{} (rule `{}`)", p.name, p.rule))
        .collect();
    assert!(unknown.is_empty(), "properties naming unknown rules: {unknown:?}");
}

#[test]
fn property_names_are_unique() {
    let mut names: Vec<&str> = registry::all().map(|p| p.name).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "two properties share a name");
}
