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

#[test]
fn the_registry_agrees_with_the_catalogue() {
    registry::verify().unwrap();
}

/// A rule's id is written once, in its rule file: code names it through
/// `ipc_conform_spec::ids` (generated from the catalogue), never by a
/// string of its own, so a renamed rule cannot leave a stale id behind.
#[test]
fn no_rule_id_is_spelt_out_in_code() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut found = Vec::new();
    for dir in ["harness/src", "suites/src", "fixtures/src"] {
        let mut stack = vec![root.join(dir)];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|x| x == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for rule in &registry::catalogue().rules {
                        if text.contains(&format!("\"{}\"", rule.id)) {
                            found.push(format!("{}: \"{}\"", path.strip_prefix(root).unwrap().display(), rule.id));
                        }
                    }
                }
            }
        }
    }
    assert!(found.is_empty(), "rule ids spelt out instead of named through ipc_conform_spec::ids: {found:#?}");
}

#[test]
fn the_generated_ids_are_the_catalogue() {
    let mut generated: Vec<&str> = ipc_conform_spec::ids::ALL.to_vec();
    let mut catalogue: Vec<&str> = registry::catalogue().rules.iter().map(|r| r.id.as_str()).collect();
    generated.sort_unstable();
    catalogue.sort_unstable();
    assert_eq!(generated, catalogue);
}
