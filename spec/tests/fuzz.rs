//! Garbage and mutated rule files give an error, never a panic.

use ipc_conform_spec::Catalogue;
use proptest::prelude::*;

const PIPE: &str = include_str!("../rules/pipe.toml");

/// One edit of a byte string: delete, insert or replace at a position
/// (taken modulo the length).
#[derive(Clone, Debug)]
enum Edit {
    Delete(usize),
    Insert(usize, u8),
    Replace(usize, u8),
}

fn edit() -> impl Strategy<Value = Edit> {
    // Bias inserted bytes towards TOML's own syntax.
    let byte = prop_oneof![any::<u8>(), prop::sample::select(b"\"'[]{}=.,#\n\\ aez0-".to_vec()),];
    prop_oneof![
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), byte.clone()).prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<usize>(), byte).prop_map(|(i, b)| Edit::Replace(i, b)),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for e in edits {
        match *e {
            Edit::Delete(i) if !bytes.is_empty() => {
                let i = i % bytes.len();
                bytes.remove(i);
            }
            Edit::Delete(_) => {}
            Edit::Insert(i, b) => {
                let i = i % (bytes.len() + 1);
                bytes.insert(i, b);
            }
            Edit::Replace(i, b) if !bytes.is_empty() => {
                let i = i % bytes.len();
                bytes[i] = b;
            }
            Edit::Replace(..) => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn check(name: &str, text: &str) {
    match Catalogue::parse(&[(name, text)]) {
        Ok(c) => {
            for r in &c.rules {
                assert!(r.id.starts_with("pipe."));
            }
        }
        Err(e) => {
            let shown = e.to_string();
            assert!(!shown.contains('\n'), "not one line: {shown}");
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_strings_do_not_panic(text in any::<String>(), name in any::<String>()) {
        check(&name, &text);
        check("pipe.toml", &text);
    }

    #[test]
    fn toml_like_strings_do_not_panic(text in "(mechanism|rule|\\[\\[rule\\]\\]|id|=|\"|pipe|\\.|platforms|expect|\n| |[a-z]){0,60}") {
        check("pipe.toml", &text);
    }

    #[test]
    fn mutated_pipe_rules_do_not_panic(edits in prop::collection::vec(edit(), 1..8)) {
        let text = apply(PIPE, &edits);
        check("spec/rules/pipe.toml", &text);
    }

    #[test]
    fn mutated_pipe_rules_in_two_files_do_not_panic(
        a in prop::collection::vec(edit(), 0..4),
        b in prop::collection::vec(edit(), 0..4),
    ) {
        let (a, b) = (apply(PIPE, &a), apply(PIPE, &b));
        let result = Catalogue::parse(&[("spec/rules/pipe.toml", &a), ("local/pipe.toml", &b)]);
        if let Err(e) = result {
            prop_assert!(!e.to_string().contains('\n'));
        }
    }
}
