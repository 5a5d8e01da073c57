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
    for args in [
        &["run", "--bogus"][..],
        &["run", "--cases", "0"],
        &["run", "--jobs", "0"],
        &["run", "-j", "two"],
        &["run", "--seed", "banana"],
        &["frobnicate"],
    ] {
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
fn jobs_sets_how_many_rules_are_checked_at_once_and_never_more_than_there_are() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let o = ipc_conform(&["run", "--rules", "pipe.eof.", "--cases", "2", "-j", "1", "--out", out]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("2 rule(s), 1 at once"), "{}", stdout(&o));
    let o = ipc_conform(&["run", "--rules", "pipe.eof.", "--cases", "2", "--jobs", "64", "--out", out]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("2 rule(s), 2 at once"), "{}", stdout(&o));
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

/// The fields `ipc-conform bench --json` prints, as the README documents them.
const BENCH_FIELDS: &[&str] = &[
    "tool",
    "version",
    "machine",
    "quick",
    "samples",
    "raw_round_trips_per_sec",
    "raw_round_trip_us",
    "engine_ops_per_sec",
    "engine_op_us",
    "engine_to_raw_ratio",
    "blocked_p50_us",
    "blocked_p99_us",
    "blocked_max_us",
    "blocked_by_level",
    "raw_blocked_by_level",
    "levels_not_measured",
    "spawn",
    "schedules",
    "run",
    "beside_floor",
    "targets",
];
const BENCH_MACHINE_FIELDS: &[&str] = &["os", "kernel", "arch", "cores", "cpu"];
const BENCH_SAMPLES_FIELDS: &[&str] = &["round_trips", "operations", "blocked", "cases_per_rule", "spawns"];
const BENCH_SPAWN_FIELDS: &[&str] =
    &["raw_fork", "raw_fork_exec", "actor_start", "actor_start_exec", "actor_end", "actor_reset"];
const BENCH_SCHEDULE_FIELDS: &[&str] = &["rules", "cases", "seconds", "per_sec", "not_passed"];
const BENCH_RUN_FIELDS: &[&str] = &["args", "exit_code", "not_passed", "wall_s", "peak_rss_mib"];
const BENCH_BESIDE_FIELDS: &[&str] = &["figure", "value", "floor", "floor_value", "ratio"];
const BENCH_TARGET_FIELDS: &[&str] = &["figure", "value", "bound", "limit", "met"];

fn keys(v: &serde_json::Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    k.sort();
    k
}

fn sorted(fields: &[&str]) -> Vec<String> {
    let mut k: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
    k.sort();
    k
}

#[test]
fn bench_json_quick_prints_every_documented_figure() {
    let o = ipc_conform(&["bench", "--json", "--quick"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("bench --json prints one JSON object");
    assert_eq!(keys(&json), sorted(BENCH_FIELDS), "top-level fields");
    assert_eq!(keys(&json["machine"]), sorted(BENCH_MACHINE_FIELDS));
    assert_eq!(keys(&json["samples"]), sorted(BENCH_SAMPLES_FIELDS));
    assert_eq!(keys(&json["run"]), sorted(BENCH_RUN_FIELDS));
    assert_eq!(json["quick"], true);
    let num = |f: &str| json[f].as_f64().unwrap_or_else(|| panic!("{f} is not a number: {}", json[f]));
    for f in ["raw_round_trips_per_sec", "raw_round_trip_us", "engine_ops_per_sec", "engine_op_us", "blocked_p50_us"] {
        assert!(num(f) > 0.0, "{f} = {}", num(f));
    }
    let ratio = num("engine_op_us") / num("raw_round_trip_us");
    assert!((num("engine_to_raw_ratio") - ratio).abs() < 1e-6 * ratio.max(1.0), "ratio {ratio}");
    assert!(num("blocked_p50_us") <= num("blocked_p99_us") && num("blocked_p99_us") <= num("blocked_max_us"));
    // Every level the host offers below timeout, with its latency.
    let levels = json["blocked_by_level"].as_object().expect("blocked_by_level is an object");
    assert!(levels.contains_key("thread-state"), "{levels:?}");
    for (level, l) in levels {
        assert_eq!(keys(l), sorted(&["p50_us", "p99_us", "max_us", "samples"]), "{level}");
        assert!(l["p50_us"].as_f64().unwrap() > 0.0 && l["samples"].as_u64().unwrap() > 0, "{level}: {l}");
    }
    // The floor of each level, measured in the same run.
    let raw_levels = json["raw_blocked_by_level"].as_object().expect("raw_blocked_by_level is an object");
    assert_eq!(raw_levels.keys().collect::<Vec<_>>(), levels.keys().collect::<Vec<_>>(), "a floor for every level");
    for (level, l) in raw_levels {
        assert_eq!(keys(l), sorted(&["p50_us", "p99_us", "max_us", "samples"]), "{level}");
        assert!(l["p50_us"].as_f64().unwrap() > 0.0 && l["samples"].as_u64().unwrap() > 0, "{level}: {l}");
    }
    // This host measures every level it offers.
    let not_measured = json["levels_not_measured"].as_object().expect("levels_not_measured is an object");
    assert!(not_measured.is_empty(), "{not_measured:?}");
    let beside = json["beside_floor"].as_array().expect("beside_floor is a list");
    let figures: Vec<&str> = beside.iter().map(|b| b["figure"].as_str().unwrap_or("?")).collect();
    for f in ["engine_op_us", "spawn.actor_start.p50_us", "spawn.actor_start_exec.p50_us"] {
        assert!(figures.contains(&f), "{f} is not beside its floor: {figures:?}");
    }
    for level in levels.keys() {
        assert!(figures.contains(&format!("blocked_by_level.{level}.p50_us").as_str()), "{level}: {figures:?}");
    }
    for b in beside {
        assert_eq!(keys(b), sorted(BENCH_BESIDE_FIELDS), "{b}");
        let (v, f, r) =
            (b["value"].as_f64().unwrap(), b["floor_value"].as_f64().unwrap(), b["ratio"].as_f64().unwrap());
        assert!(f > 0.0 && (r - v / f).abs() < 1e-6 * r.max(1.0), "{b}");
    }
    let targets = json["targets"].as_array().expect("targets is a list");
    let named: Vec<&str> = targets.iter().map(|t| t["figure"].as_str().unwrap_or("?")).collect();
    for f in ["engine_to_raw_ratio", "blocked_p50_us", "blocked_p99_us", "schedules.pipe.per_sec", "run.peak_rss_mib"] {
        assert!(named.contains(&f), "no target for {f}: {named:?}");
    }
    for t in targets {
        assert_eq!(keys(t), sorted(BENCH_TARGET_FIELDS), "{t}");
        let (v, l) = (t["value"].as_f64().unwrap(), t["limit"].as_f64().unwrap());
        let met = match t["bound"].as_str() {
            Some("at most") => v <= l,
            Some("at least") => v >= l,
            other => panic!("bound {other:?}: {t}"),
        };
        assert_eq!(t["met"], met, "{t}");
    }
    assert_eq!(keys(&json["spawn"]), sorted(BENCH_SPAWN_FIELDS));
    for f in BENCH_SPAWN_FIELDS {
        let l = &json["spawn"][f];
        assert!(l["p50_us"].as_f64().is_some_and(|v| v > 0.0) && l["samples"].as_u64().unwrap_or(0) > 0, "{f}: {l}");
    }
    let schedules = json["schedules"].as_object().expect("schedules is an object");
    assert!(schedules.contains_key("pipe") && schedules.contains_key("socket"), "{schedules:?}");
    for (mech, rate) in schedules {
        assert_eq!(keys(rate), sorted(BENCH_SCHEDULE_FIELDS), "{mech}");
        assert!(rate["cases"].as_u64().unwrap() > 0 && rate["per_sec"].as_f64().unwrap() > 0.0, "{mech}: {rate}");
        assert_eq!(rate["not_passed"], serde_json::json!([]), "{mech}: {rate}");
    }
    assert_eq!(json["run"]["exit_code"], 0, "the whole run: {}", json["run"]);
    assert_eq!(json["run"]["not_passed"], serde_json::json!([]), "the whole run: {}", json["run"]);
    assert!(json["run"]["wall_s"].as_f64().unwrap() > 0.0 && json["run"]["peak_rss_mib"].as_f64().unwrap() > 0.0);

    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let perf = &readme[readme.find("## Performance").expect("README has a Performance section")..];
    let every = BENCH_FIELDS.iter().chain(BENCH_MACHINE_FIELDS).chain(BENCH_SAMPLES_FIELDS);
    let every = every.chain(BENCH_BESIDE_FIELDS).chain(BENCH_TARGET_FIELDS);
    for f in every.chain(BENCH_SPAWN_FIELDS).chain(BENCH_SCHEDULE_FIELDS) {
        assert!(perf.contains(&format!("`{f}`")), "README's Performance section does not document `{f}`");
    }
    for f in BENCH_RUN_FIELDS {
        assert!(perf.contains(&format!("`run.{f}`")), "README's Performance section does not document `run.{f}`");
    }
}

#[test]
fn a_replayed_lock_case_out_of_range_is_refused_with_a_clear_error() {
    // start + len would overflow: refused before anything runs (it used to
    // panic inside the case and, caught by proptest, pass).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lock.json");
    let case = serde_json::json!({
        "rule": "file.lock.fcntl-ranges",
        "property": "file_fcntl_locks_exclude_on_overlap_only_and_die_with_any_close",
        "case": {"actors": 2, "steps": [
            {"actor": 0, "op": {"Record": {"fd": 0, "owner": "Process", "kind": "Write",
                                           "start": u64::MAX, "len": 10, "wait": false}}}
        ]}
    });
    std::fs::write(&file, case.to_string()).unwrap();
    let o = ipc_conform(&["run", "--replay", file.to_str().unwrap(), "--out", dir.path().to_str().unwrap()]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(2), "{out}\n{}", stderr(&o));
    assert!(out.contains("error") && out.contains("out of range") && out.contains("step 1"), "{out}");
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));

    // A step by an actor that has ended cannot be issued: refused too.
    let case = serde_json::json!({
        "rule": "file.lock.fcntl-ranges",
        "property": "file_fcntl_locks_exclude_on_overlap_only_and_die_with_any_close",
        "case": {"actors": 2, "steps": [
            {"actor": 1, "op": "Kill"},
            {"actor": 1, "op": {"Close": {"fd": 0}}}
        ]}
    });
    std::fs::write(&file, case.to_string()).unwrap();
    let o = ipc_conform(&["run", "--replay", file.to_str().unwrap(), "--out", dir.path().to_str().unwrap()]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("step 2") && out.contains("the actor has ended"), "{out}");
}

#[test]
fn an_unknown_deviation_in_the_environment_is_refused_naming_it() {
    let o = Command::new(env!("CARGO_BIN_EXE_ipc-conform"))
        .args(["run", "--rules", "pipe.direction.one-way", "--out", "/dev/null/never"])
        .env("IPC_CONFORM_DEVIATE", "read-empty-returns-none")
        .output()
        .expect("the command starts");
    assert_ne!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("IPC_CONFORM_DEVIATE: unknown deviation `read-empty-returns-none`"), "{e}");
    assert!(e.contains("read-empty-returns-zero"), "the known names are not listed: {e}");
}

#[test]
fn a_bad_fork_server_knob_is_refused_naming_it_and_off_runs() {
    let run = |value: &str, out: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_ipc-conform"))
            .args(["run", "--rules", "pipe.direction.one-way", "--cases", "4", "--out"])
            .arg(out)
            .env("IPC_CONFORM_FORK_SERVER", value)
            .output()
            .expect("the command starts")
    };
    let dir = tempfile::tempdir().unwrap();
    let o = run("maybe", dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("IPC_CONFORM_FORK_SERVER=\"maybe\": expected `on` or `off`"), "{}", stderr(&o));
    let o = run("off", dir.path());
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("1 pass"), "{}", stdout(&o));
}
