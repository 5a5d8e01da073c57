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

/// Every runner label the workflow names (`runs-on` of each job, and the
/// matrix's `os` values that a `runs-on: ${{ matrix.os }}` takes).
fn runner_labels(doc: &Yaml) -> Vec<String> {
    let mut labels = Vec::new();
    for (name, job) in doc["jobs"].as_hash().expect("jobs") {
        let name = name.as_str().unwrap_or("?");
        match job["runs-on"].as_str() {
            Some(r) if r.contains("matrix.os") => {
                let include = job["strategy"]["matrix"]["include"].as_vec().expect("a matrix with include");
                labels.extend(include.iter().map(|e| e["os"].as_str().expect("each entry names its os").to_string()));
            }
            Some(r) if r.contains("${{") => {
                panic!("job {name}: runs-on `{r}` is an expression this test cannot follow")
            }
            Some(r) => labels.push(r.to_string()),
            None => panic!("job {name}: runs-on is not a single label"),
        }
    }
    labels
}

/// The supported labels of `ci/runner-labels.toml`, with the date checked.
fn supported_labels() -> (String, Vec<(String, String)>) {
    let doc: toml::Value = toml::from_str(&read("ci/runner-labels.toml")).expect("ci/runner-labels.toml parses");
    let checked = doc["checked"].as_str().expect("a checked date").to_string();
    let labels = doc["label"]
        .as_array()
        .expect("[[label]] entries")
        .iter()
        .map(|l| (l["name"].as_str().unwrap().to_string(), l["platform"].as_str().unwrap().to_string()))
        .collect();
    (checked, labels)
}

/// The runner labels `doc` names that ci/runner-labels.toml does not list.
fn unsupported_labels(doc: &Yaml) -> Vec<String> {
    let (_, supported) = supported_labels();
    runner_labels(doc).into_iter().filter(|l| !supported.iter().any(|(n, _)| n == l)).collect()
}

#[test]
fn the_workflow_names_only_supported_runner_labels_and_every_platform() {
    let docs = YamlLoader::load_from_str(&read("ci/conformance.yml")).expect("valid YAML");
    let (checked, supported) = supported_labels();
    let unsupported = unsupported_labels(&docs[0]);
    assert!(
        unsupported.is_empty(),
        "the workflow names runners {unsupported:?}, not among the supported labels of ci/runner-labels.toml \
         (checked {checked})"
    );
    // The platforms the gate promises, each on a supported label.
    let include = docs[0]["jobs"]["conformance"]["strategy"]["matrix"]["include"].as_vec().unwrap();
    let platforms: Vec<&str> = include
        .iter()
        .filter_map(|e| e["os"].as_str())
        .filter_map(|os| supported.iter().find(|(n, _)| n == os).map(|(_, p)| p.as_str()))
        .collect();
    for wanted in ["linux-x86_64", "linux-arm64", "macos-arm64", "macos-x86_64"] {
        assert!(platforms.contains(&wanted), "no conformance job on {wanted}: {platforms:?}");
    }
    let oses: Vec<&str> = include.iter().filter_map(|e| e["os"].as_str()).collect();
    for os in ["macos-15", "macos-26"] {
        assert!(oses.contains(&os), "no conformance job on {os}: {oses:?}");
    }
}

#[test]
fn a_retired_runner_label_is_refused() {
    // The check above, fed a workflow that still names macOS 14.
    let yaml = "jobs:\n  a:\n    runs-on: macos-14\n    steps: []\n";
    let docs = YamlLoader::load_from_str(yaml).unwrap();
    assert_eq!(unsupported_labels(&docs[0]), vec!["macos-14".to_string()]);
    let yaml = "jobs:\n  a:\n    runs-on: macos-15-intel\n    steps: []\n";
    assert!(unsupported_labels(&YamlLoader::load_from_str(yaml).unwrap()[0]).is_empty());
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
