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
    assert!(out.lines().any(|l| l.starts_with("pipe.direction.one-way") && l.contains(" pass ")), "{out}");
    assert!(out.contains("seed 0x"), "the seed is not printed: {out}");
}

#[test]
fn an_unwritable_out_folder_is_refused_before_anything_runs() {
    let o = ipc_conform(&["run", "--rules", "pipe.direction.one-way", "--out", "/dev/null/report"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("cannot write the report to /dev/null/report"), "{e}");
    assert!(!stdout(&o).contains("PASS") && !stdout(&o).contains("pass "), "it ran rules anyway");
}

#[test]
fn a_run_writes_the_three_report_files_and_merge_builds_the_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let o =
        ipc_conform(&["run", "--rules", "pipe.fifo.open-rendezvous,socket.udp.datagram", "--cases", "2", "--out", out]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    for f in ["report.json", "report.md", "report.xml"] {
        assert!(dir.path().join(f).exists(), "{f} missing");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();
    let ids: Vec<&str> = json["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["pipe.fifo.open-rendezvous", "socket.udp.datagram"]);

    let report = dir.path().join("report.json");
    let r = report.to_str().unwrap();
    let m = ipc_conform(&["merge", r, r]);
    assert_eq!(m.status.code(), Some(0), "{}", stderr(&m));
    let matrix = stdout(&m);
    assert!(matrix.contains("platform matrix") && matrix.contains("`socket.udp.datagram` | pass | pass |"), "{matrix}");

    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, "[]").unwrap();
    let m = ipc_conform(&["merge", r, garbage.to_str().unwrap()]);
    assert_eq!(m.status.code(), Some(2));
    assert!(stderr(&m).contains("not an ipc-conform report"), "{}", stderr(&m));
}
