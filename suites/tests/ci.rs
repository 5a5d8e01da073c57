//! CI is what the README says: the workflow is valid YAML, gates on Linux
//! and macOS, runs the README's two commands plus fmt and clippy, and
//! `.ci/run` runs the README's test command.

use std::path::Path;
use yaml_rust2::{Yaml, YamlLoader};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The commands of the README's "two commands" block.
fn readme_commands() -> Vec<String> {
    let readme = read("README.md");
    let section = readme.split("## The two commands").nth(1).expect("README has the two commands");
    let block = section.split("```sh").nth(1).and_then(|b| b.split("```").next()).expect("a sh block");
    let commands: Vec<String> =
        block.lines().map(|l| l.split('#').next().unwrap_or("").trim().to_string()).filter(|l| !l.is_empty()).collect();
    assert_eq!(commands.len(), 2, "the README gives exactly two commands: {commands:?}");
    commands
}

fn run_steps(doc: &Yaml) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(jobs) = doc["jobs"].as_hash() {
        for (_, job) in jobs {
            if let Some(steps) = job["steps"].as_vec() {
                out.extend(steps.iter().filter_map(|s| s["run"].as_str().map(str::to_string)));
            }
        }
    }
    out
}

#[test]
fn the_installed_workflow_is_the_one_in_ci() {
    assert_eq!(read("ci/conformance.yml"), read(".github/workflows/conformance.yml"));
}

#[test]
fn the_workflow_is_valid_yaml_and_gates_linux_and_macos() {
    let docs = YamlLoader::load_from_str(&read("ci/conformance.yml")).expect("valid YAML");
    let doc = &docs[0];
    let include = doc["jobs"]["conformance"]["strategy"]["matrix"]["include"].as_vec().expect("a platform matrix");
    let oses: Vec<&str> = include.iter().filter_map(|e| e["os"].as_str()).collect();
    assert!(oses.iter().any(|o| o.starts_with("ubuntu")), "no Linux runner: {oses:?}");
    assert!(oses.iter().filter(|o| o.starts_with("macos")).count() >= 2, "macOS arm64 and x86_64 wanted: {oses:?}");
}

#[test]
fn the_workflow_runs_the_readme_commands_and_the_lints() {
    let docs = YamlLoader::load_from_str(&read("ci/conformance.yml")).expect("valid YAML");
    let runs = run_steps(&docs[0]);
    for command in readme_commands() {
        assert!(runs.iter().any(|r| r.starts_with(&command)), "the workflow does not run `{command}`: {runs:?}");
    }
    for lint in ["cargo fmt --all -- --check", "cargo clippy --workspace --all-targets -- -D warnings"] {
        assert!(runs.iter().any(|r| r == lint), "the workflow does not run `{lint}`");
    }
    assert!(runs.iter().any(|r| r.contains("ipc-conform") || r.contains("-- merge")), "no merge step");
}

#[test]
fn ci_run_runs_the_readme_test_command() {
    let script = read(".ci/run");
    let test_command = &readme_commands()[1];
    assert!(script.lines().any(|l| l.trim() == test_command), ".ci/run does not run `{test_command}`");
}
