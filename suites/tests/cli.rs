//! The `ipc-conform` command: exit codes and messages for good and bad input.

use std::process::{Command, Output};

fn ipc_conform(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ipc-conform")).args(args).output().expect("the command starts")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn an_unknown_rule_is_a_clear_error_with_exit_code_2() {
    let o = ipc_conform(&["run", "--rules", "pipe.read.empty-block"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("unknown rule or pattern `pipe.read.empty-block`"), "{e}");
    assert!(e.contains("pipe.read.empty-blocks"), "no suggestion: {e}");
}

#[test]
fn a_bad_flag_or_value_is_an_error_with_exit_code_2() {
    for args in [&["run", "--bogus"][..], &["run", "--cases", "0"], &["run", "--seed", "banana"], &["frobnicate"]] {
        let o = ipc_conform(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).is_empty(), "{args:?}: no message");
    }
}

#[test]
fn a_missing_or_malformed_replay_file_is_named_in_the_error() {
    let o = ipc_conform(&["run", "--replay", "/nonexistent/failure.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/failure.json"), "{}", stderr(&o));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"rule\": 3}").unwrap();
    let o = ipc_conform(&["run", "--replay", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a replay file"), "{}", stderr(&o));

    std::fs::write(&bad, "{\"rule\": \"pipe.nope\", \"property\": \"x\", \"case\": {}}").unwrap();
    let o = ipc_conform(&["run", "--replay", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown rule `pipe.nope`"), "{}", stderr(&o));
}

#[test]
fn list_shows_the_selected_rules_and_their_properties() {
    let o = ipc_conform(&["run", "--list", "--rules", "pipe.eof."]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(
        out.contains("pipe.eof.all-writers-closed")
            && out.contains("pipe_no_eof_while_an_idle_process_holds_a_write_end")
    );
}

#[test]
fn a_passing_run_prints_a_verdict_per_rule_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let o = ipc_conform(&[
        "run",
        "--rules",
        "pipe.direction.one-way",
        "--cases",
        "2",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("PASS") && out.contains("pipe.direction.one-way"), "{out}");
    assert!(out.contains("seed 0x"), "the seed is not printed: {out}");
}
