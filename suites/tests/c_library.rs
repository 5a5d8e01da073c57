//! The operations under test go through the C library by default, as
//! programs' do: an interposer on the C library's I/O functions, loaded
//! with `LD_PRELOAD`, sees the actors' reads, writes, sends and receives
//! on the objects under test (`tests/data/interpose.c`, built here with the
//! system's C compiler), every one of the entry points the two rules
//! cover. The report names the interface.

#[test]
#[cfg(any(target_os = "linux", target_os = "android"))]
fn operations_under_test_reach_the_c_library() {
    use std::collections::BTreeMap;
    use std::process::Command;
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("interpose.so");
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/interpose.c");
    let cc = Command::new("cc").args(["-shared", "-fPIC", "-O1", "-o"]).arg(&lib).arg(&src).arg("-ldl").output();
    let cc = cc.unwrap_or_else(|e| panic!("a C compiler (cc) is needed for this test: {e}"));
    assert!(cc.status.success(), "building the interposer: {}", String::from_utf8_lossy(&cc.stderr));
    let log = dir.path().join("calls.log");
    let out = dir.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_ipc-conform"))
        .args(["run", "--rules", "pipe.stream.order,socket.stream.order", "--cases", "16", "--out"])
        .arg(&out)
        .env("LD_PRELOAD", &lib)
        .env("IPC_CONFORM_INTERPOSE_LOG", &log)
        .env("CI", "true")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&o.stderr));
    let mut calls: BTreeMap<String, usize> = BTreeMap::new();
    for line in std::fs::read_to_string(&log).unwrap_or_default().lines() {
        *calls.entry(line.to_string()).or_default() += 1;
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let interface = report["platform"]["interface"].as_str().unwrap_or("");
    if ipc_conform_harness::os::interface::through_c_library() {
        let every = ["read", "readv", "recv", "recvfrom", "recvmsg", "write", "writev", "send", "sendto", "sendmsg"];
        for f in every {
            assert!(
                calls.get(f).is_some_and(|n| *n > 0),
                "no {f}() of the C library seen on an object under test: {calls:?}"
            );
        }
        assert!(!interface.starts_with("raw"), "the report says {interface}");
    } else {
        // Built with --no-default-features: raw system calls, past the
        // C library, and the report says so.
        assert!(interface.starts_with("raw-syscalls"), "the report says {interface}");
        assert!(!calls.contains_key("read") && !calls.contains_key("write"), "raw build, yet: {calls:?}");
    }
}
