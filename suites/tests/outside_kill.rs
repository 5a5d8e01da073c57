//! A death the schedule did not ask for is never the host's deviation.
//!
//! A whole run is started while actor processes are killed from outside
//! with SIGKILL, as an operator or the OOM killer would. No rule may say
//! `fail` (the host did nothing wrong) and no rule whose case was hit may
//! say `pass`: each affected rule says `error` and names the outside death.
//! The kills go to the run's own children and the actors its fork server
//! forked, found with `ps` (POSIX), so the test runs alike on Linux and
//! macOS; the fork server itself is among them (its actors are then lost
//! to their cases, and later cases get a new server).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The processes an outside kill may hit: the direct children of
/// `parent` (the fork server, actors started by exec, shells) and the
/// children of the fork server (the actors it forked, which share its
/// arguments, `fork-server`, in `ps`).
fn victims_of(parent: u32) -> Vec<i32> {
    let out = Command::new("ps").args(["-A", "-o", "pid=", "-o", "ppid=", "-o", "args="]).output().expect("ps runs");
    assert!(out.status.success(), "ps failed: {}", String::from_utf8_lossy(&out.stderr));
    let table: Vec<(i32, i32, bool)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let pid = it.next()?.parse::<i32>().ok()?;
            let ppid = it.next()?.parse::<i32>().ok()?;
            Some((pid, ppid, it.any(|a| a == ipc_conform_harness::os::forkserver::ROLE)))
        })
        .collect();
    let direct: Vec<i32> = table.iter().filter(|(_, ppid, _)| *ppid == parent as i32).map(|(pid, ..)| *pid).collect();
    let servers: Vec<i32> =
        table.iter().filter(|(pid, _, s)| *s && direct.contains(pid)).map(|(pid, ..)| *pid).collect();
    let served = table.iter().filter(|(_, ppid, _)| servers.contains(ppid)).map(|(pid, ..)| *pid);
    direct.iter().copied().chain(served).collect()
}

#[test]
fn actors_killed_from_outside_give_error_never_fail() {
    let out = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let rules = "pipe.stream.order,pipe.eof.all-writers-closed,pipe.read.empty-blocks,pipe.wake.all-readers,\
                 socket.stream.order,socket.pair.bidirectional,socket.eof.peer-closed,shm.shared.visible,\
                 shm.sync.publish,file.lock.flock-exclusive,file.append.atomic,pipe.shell.pipeline";
    let mut run = Command::new(env!("CARGO_BIN_EXE_ipc-conform"))
        .args(["run", "--rules", rules, "--cases", "400", "--seed", "7", "--out"])
        .arg(out.path())
        .env("TMPDIR", tmp.path())
        .env("CI", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let mut kills = 0u32;
    let mut pick = 0x9e37_79b9_u64;
    let status = loop {
        if let Some(status) = run.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(600) {
            let _ = run.kill();
            panic!("the run did not end within 10 minutes");
        }
        let kids = victims_of(run.id());
        if !kids.is_empty() {
            pick = pick.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let victim = kids[(pick >> 33) as usize % kids.len()];
            // SAFETY: kill(2) on a pid we just saw as the run's child.
            if unsafe { libc::kill(victim, libc::SIGKILL) } == 0 {
                kills += 1;
            }
        }
        // When the kills land decides nothing: only the verdicts are checked.
        std::thread::sleep(Duration::from_millis(5 + (pick >> 56) % 150));
    };
    let mut stdout = String::new();
    std::io::Read::read_to_string(run.stdout.as_mut().unwrap(), &mut stdout).unwrap();
    assert!(kills > 0, "no actor was killed; the test proves nothing\n{stdout}");
    assert!(status.code().is_some(), "the run itself died: {status:?}\n{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("report.json")).unwrap()).unwrap();
    let rows = report["rules"].as_array().unwrap();
    let fails: Vec<String> = rows
        .iter()
        .filter(|r| r["verdict"] == "fail")
        .map(|r| format!("{}: {}", r["id"], r["reason"].as_str().unwrap_or("")))
        .collect();
    assert!(fails.is_empty(), "outside kills became the host's fail:\n{}\n\n{stdout}", fails.join("\n"));
    let errors: Vec<&serde_json::Value> = rows.iter().filter(|r| r["verdict"] == "error").collect();
    assert!(!errors.is_empty(), "{kills} kills and no rule says error\n{stdout}");
    for e in &errors {
        let reason = e["reason"].as_str().unwrap_or("");
        assert!(
            reason.contains("SIGKILL") && reason.contains("did not ask for"),
            "an error that does not name the outside death: {}: {reason}",
            e["id"]
        );
    }
}
