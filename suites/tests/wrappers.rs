//! Where the command's executable comes from when actors start.
//!
//! Actors are this same program started again. The program finds its own
//! executable once (the path as it sees it: a wrapper such as valgrind or a
//! user-mode emulator answers with the program it runs), keeps it open, and
//! starts actors from that path, or, once the path names another file (a
//! rebuild during the run), from the very image that runs.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn report_verdicts(out: &std::path::Path) -> Vec<(String, String)> {
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r["verdict"].as_str().unwrap().to_string()))
        .collect()
}

/// Under `valgrind --trace-children=yes` every process is the valgrind
/// tool, and `/proc/self/exe` names the tool, not the program: actors
/// started from that literal path would be the tool without a program.
#[test]
#[cfg(any(target_os = "linux", target_os = "android"))]
fn actors_start_under_valgrind_trace_children() {
    let found = Command::new("valgrind").arg("--version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "valgrind is needed for this test (Debian/Ubuntu: apt-get install valgrind; .ci/run installs it)"
    );
    let out = tempfile::tempdir().unwrap();
    let o = Command::new("valgrind")
        .args(["-q", "--trace-children=yes", "--tool=none", env!("CARGO_BIN_EXE_ipc-conform")])
        .args(["run", "--rules", "pipe.read.empty-blocks", "--cases", "2", "--out"])
        .arg(out.path())
        .env("CI", "true")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(report_verdicts(out.path()), vec![("pipe.read.empty-blocks".to_string(), "pass".to_string())]);
}

/// The binary is replaced (as a rebuild does) while the run goes on: later
/// actors still start, from the image that runs.
#[test]
fn actors_start_after_the_binary_is_replaced_during_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("ipc-conform");
    // Copied by cp(1), not in this process: a descriptor open for writing
    // here would be inherited by a child that another test thread forks
    // meanwhile, and the exec below would fail with ETXTBSY.
    let cp = Command::new("cp").arg(env!("CARGO_BIN_EXE_ipc-conform")).arg(&exe).status().unwrap();
    assert!(cp.success(), "cp of the command: {cp}");
    let out = dir.path().join("out");
    let mut run = Command::new(&exe)
        .args(["run", "--rules", "pipe.read.empty-blocks,pipe.stream.order,socket.stream.order", "--cases", "48"])
        .arg("--out")
        .arg(&out)
        .env("CI", "true")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // The first line comes after the start-up probe has started an actor:
    // the executable has been found by then.
    let mut first = String::new();
    let mut stdout = BufReader::new(run.stdout.take().unwrap());
    stdout.read_line(&mut first).unwrap();
    let replacement = dir.path().join("new");
    std::fs::write(&replacement, b"#!/bin/sh\nexit 99\n").unwrap();
    std::fs::rename(&replacement, &exe).unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let status = run.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{first}{rest}");
    assert!(report_verdicts(&out).iter().all(|(_, v)| v == "pass"), "{first}{rest}");
}
