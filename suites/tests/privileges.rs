//! The whole run works as an unprivileged user: rules that need a second
//! user say `unsupported` with the reason, everything else runs as usual.
//! (As root, those rules run for real: the conformance tests show it.)

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::Command;

const SECOND_USER_RULES: [&str; 3] = ["socket.path.permissions", "shm.permissions", "process.memory.no-foreign-access"];

#[test]
fn an_unprivileged_run_reports_second_user_rules_unsupported_and_passes_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    // Writable by the unprivileged user: its out folder and its TMPDIR.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = dir.path().join("out");
    let tmp = dir.path().join("tmp");
    for d in [&out, &tmp] {
        std::fs::create_dir(d).unwrap();
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let mut rules: Vec<&str> = SECOND_USER_RULES.to_vec();
    rules.extend(["pipe.read.empty-blocks", "socket.server.accept", "shm.shared.visible", "file.lock.flock-exclusive"]);
    // A copy of the command the unprivileged user can surely execute
    // (the build folder may sit under a directory closed to other users).
    let exe = dir.path().join("ipc-conform");
    std::fs::copy(env!("CARGO_BIN_EXE_ipc-conform"), &exe).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut cmd = Command::new(&exe);
    cmd.args(["run", "--cases", "4", "--rules", &rules.join(","), "--out"]).arg(&out).env("TMPDIR", &tmp);
    let as_root = nix::unistd::geteuid().is_root();
    if as_root {
        let (uid, gid) = ipc_conform_harness::os::process::UNPRIVILEGED;
        cmd.uid(uid).gid(gid);
    }
    let o = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&o.stderr));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
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
