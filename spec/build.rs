//! Generates `ids.rs`: one constant per rule of `rules/*.toml`, so that a
//! rule's id is written once, in its rule file, and every other crate names
//! it through `ipc_conform_spec::ids` (a misspelt rule is a compile error).
//! The files are fully validated by the crate itself; this only reads the
//! ids and titles.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let dir = Path::new("rules");
    println!("cargo:rerun-if-changed=rules");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("spec/rules is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut out = String::new();
    let mut all = Vec::new();
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(path).expect("a rule file is readable");
        // A rule file that does not parse is reported by the crate's own
        // validation (with file, rule and field); generate nothing for it.
        let Ok(value) = text.parse::<toml::Table>() else { continue };
        let Some(rules) = value.get("rule").and_then(|r| r.as_array()) else { continue };
        for rule in rules {
            let (Some(id), title) =
                (rule.get("id").and_then(|v| v.as_str()), rule.get("title").and_then(|v| v.as_str()))
            else {
                continue;
            };
            let name: String =
                id.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
            let _ = writeln!(out, "/// `{id}`: {}", title.unwrap_or("").replace('`', "'"));
            let _ = writeln!(out, "pub const {name}: &str = {id:?};");
            all.push(name);
        }
    }
    let _ = writeln!(out, "\n/// Every rule id, in file order (files by name).");
    let _ = writeln!(out, "pub const ALL: [&str; {}] = [{}];", all.len(), all.join(", "));
    let target = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR is set")).join("ids.rs");
    std::fs::write(target, out).expect("OUT_DIR is writable");
}
