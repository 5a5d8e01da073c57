//! The whole run works as an unprivileged user: rules that need a second
//! user say `unsupported` with the reason, everything else runs as usual.
//! (As root, those rules run for real: the conformance tests show it.)

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::Command;

const SECOND_USER_RULES: [&str; 4] =
    ["socket.path.permissions", "shm.permissions", "process.memory.no-foreign-access", "signal.permission"];

/// A run of the command as an unprivileged user (uid 65534 when the tests
/// run as root): its folder, and the command with `args`, `--out` and
/// `TMPDIR` set, ready to run. The report is `<dir>/out/report.json`.
fn unprivileged_run(args: &[&str]) -> (tempfile::TempDir, Command) {
    let dir = tempfile::tempdir().unwrap();
    // Writable by the unprivileged user: its out folder and its TMPDIR.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let (out, tmp) = (dir.path().join("out"), dir.path().join("tmp"));
    for d in [&out, &tmp] {
        std::fs::create_dir(d).unwrap();
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    // A copy of the command the unprivileged user can surely execute
    // (the build folder may sit under a directory closed to other users).
    let exe = dir.path().join("ipc-conform");
    // Copied by cp(1), not in this process: a descriptor open for writing
    // here would be inherited by a child that another test thread forks
    // meanwhile, and the exec below would fail with ETXTBSY.
    let cp = Command::new("cp").arg(env!("CARGO_BIN_EXE_ipc-conform")).arg(&exe).status().unwrap();
    assert!(cp.success(), "cp of the command: {cp}");
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut cmd = Command::new(&exe);
    cmd.args(args).arg("--out").arg(&out).env("TMPDIR", &tmp).env("CI", "true");
    if nix::unistd::geteuid().is_root() {
        let (uid, gid) = ipc_conform_harness::os::process::UNPRIVILEGED;
        cmd.uid(uid).gid(gid);
    }
    (dir, cmd)
}

/// Runs `cmd` and returns its report; it must exit 0.
fn passing_report(dir: &tempfile::TempDir, cmd: &mut Command) -> serde_json::Value {
    let o = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_str(&std::fs::read_to_string(dir.path().join("out").join("report.json")).unwrap()).unwrap()
}

#[test]
fn an_unprivileged_run_reports_second_user_rules_unsupported_and_passes_the_rest() {
    let mut rules: Vec<&str> = SECOND_USER_RULES.to_vec();
    rules.extend(["pipe.read.empty-blocks", "socket.server.accept", "shm.shared.visible", "file.lock.flock-exclusive"]);
    let rules = rules.join(",");
    let (dir, mut cmd) = unprivileged_run(&["run", "--cases", "4", "--rules", &rules]);
    let report = passing_report(&dir, &mut cmd);
    for rule in report["rules"].as_array().unwrap() {
        let id = rule["id"].as_str().unwrap();
        let verdict = rule["verdict"].as_str().unwrap();
        if SECOND_USER_RULES.contains(&id) {
            assert_eq!(verdict, "unsupported", "{id} as an unprivileged user: {rule}");
            let reason = rule["reason"].as_str().unwrap_or("");
            assert!(
                reason.contains("second user") || reason.contains("root"),
                "{id}: the reason does not say why: {reason}"
            );
        } else {
            assert_eq!(verdict, "pass", "{id} as an unprivileged user: {rule}");
        }
    }
}

/// A real restricted host: actors made non-dumpable, and the coordinator
/// an unprivileged user (uid 65534 when the tests run as root), so the
/// kernel itself refuses it the syscall and wait-channel views. The probe
/// must find thread-state, and the whole catalogue must pass at that level
/// (the rules needing a second user say unsupported).
#[test]
#[cfg(any(target_os = "linux", target_os = "android"))]
fn a_host_that_refuses_the_syscall_view_runs_the_catalogue_at_thread_state() {
    let (dir, mut cmd) = unprivileged_run(&["run", "--cases", "8"]);
    let report = passing_report(&dir, cmd.env(ipc_conform_harness::os::process::DUMPABLE_ENV, "0"));
    let evidence = &report["platform"]["evidence"];
    assert_eq!(evidence["level"], "thread-state", "{evidence}");
    let proc_view = evidence["views"].as_array().unwrap().iter().find(|v| v["level"] == "proc").unwrap();
    assert_eq!(proc_view["usable"], false, "{evidence}");
    assert!(proc_view["answer"].as_str().unwrap_or("").contains("refused"), "{evidence}");
    for rule in report["rules"].as_array().unwrap() {
        let (id, verdict) = (rule["id"].as_str().unwrap(), rule["verdict"].as_str().unwrap());
        let want = if SECOND_USER_RULES.contains(&id) { "unsupported" } else { "pass" };
        assert_eq!(verdict, want, "{id} at thread-state: {rule}");
        assert!(!matches!(rule["evidence"]["kind"].as_str(), Some("proc" | "wchan")), "{id}: {rule}");
    }
}
