//! Every rule gives the same verdicts at every evidence level on this
//! host: the whole catalogue is run with the level capped at
//! `thread-state` (the thread's run state after the actor announced the
//! call) and at `timeout` (no view at all), and must pass (or say
//! `unsupported` with its reason), each verdict resting on no stronger
//! evidence than the cap. (The `proc` level is the conformance tests' own;
//! a real host refusing the syscall view is in `privileges.rs`.)

use std::process::Command;

fn run_at(level: &str, cases: &str) -> serde_json::Value {
    let out = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_ipc-conform"))
        .args(["run", "--evidence", level, "--cases", cases, "--out"])
        .arg(out.path())
        .env("CI", "true")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&o.stderr));
    let first = stdout.lines().next().unwrap_or("");
    assert!(first.contains(&format!("evidence {level}")), "the first line does not say the level: {first}");
    serde_json::from_str(&std::fs::read_to_string(out.path().join("report.json")).unwrap()).unwrap()
}

fn check_at(level: &str, cases: &str) {
    let report = run_at(level, cases);
    let evidence = &report["platform"]["evidence"];
    assert_eq!(evidence["level"], level, "{evidence}");
    assert_eq!(evidence["cap"], level, "{evidence}");
    let rank = |k: &str| ["proc", "wchan", "thread-state", "timeout"].iter().position(|l| *l == k);
    for rule in report["rules"].as_array().unwrap() {
        let id = rule["id"].as_str().unwrap();
        let verdict = rule["verdict"].as_str().unwrap();
        assert!(verdict == "pass" || verdict == "unsupported", "{id} at {level}: {rule}");
        if verdict == "unsupported" {
            assert!(rule["reason"].as_str().is_some_and(|r| !r.is_empty()), "{id}: unsupported without a reason");
        }
        let kind = rule["evidence"]["kind"].as_str().unwrap();
        assert!(kind == "none" || rank(kind) >= rank(level), "{id} rests on {kind}, stronger than the cap {level}");
    }
}

#[test]
fn the_whole_catalogue_passes_at_thread_state() {
    check_at("thread-state", "8");
}

#[test]
fn the_whole_catalogue_passes_at_timeout() {
    check_at("timeout", "3");
}

#[test]
fn a_bad_evidence_level_is_a_clear_error() {
    let o = Command::new(env!("CARGO_BIN_EXE_ipc-conform")).args(["run", "--evidence", "strong"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("strong") && err.contains("thread-state"), "{err}");
    let o = Command::new(env!("CARGO_BIN_EXE_ipc-conform"))
        .args(["run", "--list"])
        .env("IPC_CONFORM_EVIDENCE", "sometimes")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("IPC_CONFORM_EVIDENCE") && err.contains("sometimes"), "{err}");
}
