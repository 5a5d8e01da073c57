//! The report's rendering, pinned by snapshots (insta) of a fixed report:
//! one rule of each verdict, a counterexample, an observation. Timings,
//! pids and kernel versions are redacted, so the snapshots hold on any
//! machine.

use ipc_conform_harness::evidence::{EvidenceKind, EvidenceProbe, EvidenceTally, ViewCheck};
use ipc_conform_harness::report::{merge_markdown, PlatformInfo, Report};
use ipc_conform_harness::runner::{Counterexample, Measured, RuleOutcome};
use ipc_conform_harness::{Constants, Verdict};
use ipc_conform_spec::Catalogue;
use std::collections::BTreeMap;

fn outcome(rule: &str, verdict: Verdict, reason: Option<&str>) -> RuleOutcome {
    RuleOutcome {
        rule: rule.into(),
        property: "p".into(),
        verdict,
        reason: reason.map(str::to_string),
        cases: 64,
        evidence: EvidenceTally { proc: 12, wchan: 0, thread_state: 0, timeout: 0 },
        counterexample: None,
        measured: BTreeMap::new(),
        duration_ms: 1234,
        findings: Vec::new(),
        entry_points_missed: Vec::new(),
        stale_saved: None,
    }
}

fn fixed_report() -> Report {
    let catalogue = Catalogue::builtin();
    let rule = |id: &str| catalogue.get(id).unwrap_or_else(|| panic!("{id} missing"));
    let mut fail = outcome(
        "pipe.read.empty-blocks",
        Verdict::Fail,
        Some(
            "pipe.read.empty-blocks: read returned 0 bytes; allowed: pending until a write or the last writer's close",
        ),
    );
    fail.counterexample = Some(Counterexample {
        schedule: vec![
            "setup: 1 writer(s), 0 idle writer(s), 1 reader(s)".into(),
            "  1. actor 1 (reader): read up to 16 bytes".into(),
        ],
        trace: vec!["  1. actor 1: read up to 16 bytes -> returned 0 bytes".into()],
        replay_file: Some("target/ipc-conform/failures/pipe.read.empty-blocks.json".into()),
        replay_command: "cargo run --release -- run --replay target/ipc-conform/failures/pipe.read.empty-blocks.json"
            .into(),
        reproduced: Some(ipc_conform_harness::runner::Reproduced { times: 3, of: 3 }),
        replay_trace: Vec::new(),
    });
    let mut capacity = outcome("pipe.write.capacity-finite", Verdict::Pass, None);
    capacity.measured.insert(
        "pipe capacity (bytes, filled from empty)".into(),
        Measured { min: 65536, max: 65536, count: 64, sum: 64 * 65536 },
    );
    let mut none = outcome(
        "pipe.direction.one-way",
        Verdict::Unresolved,
        Some("every case held, but no case of 64 went through writev, of the entry points the rule covers"),
    );
    none.evidence = EvidenceTally::default();
    for (call, cases) in [("read", 40), ("readv", 38), ("write", 41)] {
        none.measured.insert(format!("entry point: {call}"), Measured { min: 1, max: 3, count: cases, sum: 2 * cases });
    }
    none.entry_points_missed = vec!["writev".into()];
    let checked = vec![
        (rule("pipe.direction.one-way"), none, vec!["pipe_data_flow_from_write_end_to_read_end_only".to_string()]),
        (rule("pipe.read.empty-blocks"), fail, vec!["pipe_read_of_empty_pipe_blocks_until_data_arrives".to_string()]),
        (rule("pipe.write.capacity-finite"), capacity, vec!["pipe_takes_finitely_many_bytes".to_string()]),
        (
            rule("pipe.wake.all-readers"),
            outcome(
                "pipe.wake.all-readers",
                Verdict::Hung,
                Some("actor 2 (pid 4242): did not return (state S, in syscall 0 (read))"),
            ),
            vec![],
        ),
        (
            rule("socket.path.permissions"),
            outcome("socket.path.permissions", Verdict::Unsupported, Some("needs a second user")),
            vec![],
        ),
        (
            rule("socket.udp.datagram"),
            outcome("socket.udp.datagram", Verdict::Error, Some("harness error: spawning an actor: <boom> & more")),
            vec![],
        ),
    ];
    let platform = PlatformInfo {
        os: "linux".into(),
        kernel: "6.18.44-test".into(),
        arch: "x86_64".into(),
        constants: Constants::linux_example(),
        evidence: Some(EvidenceProbe {
            level: EvidenceKind::Proc,
            best: EvidenceKind::Proc,
            cap: None,
            reason: "the strongest view".into(),
            views: vec![
                ViewCheck { level: EvidenceKind::Proc, usable: true, answer: "ok".into() },
                ViewCheck { level: EvidenceKind::Wchan, usable: true, answer: "ok (pipe_read)".into() },
                ViewCheck { level: EvidenceKind::ThreadState, usable: true, answer: "ok".into() },
            ],
        }),
        interface: "glibc 2.36".into(),
    };
    let started = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_683_900);
    Report::build(&checked, platform, started, 98_765, 0x1234)
}

fn redacted(f: impl FnOnce()) {
    insta::with_settings!({filters => vec![
        (r#""duration_ms": \d+"#, r#""duration_ms": "[ms]""#),
        (r"took \d+\.\d s", "took [s] s"),
        (r"pid \d+", "pid [pid]"),
        (r"linux 6\.[0-9A-Za-z.\-]+", "linux [kernel]"),
        (r#""kernel": "[^"]*""#, r#""kernel": "[kernel]""#),
    ]}, { f() });
}

#[test]
fn markdown_rendering_is_stable() {
    let md = fixed_report().to_markdown();
    redacted(|| insta::assert_snapshot!("report_md", md));
}

#[test]
fn json_rendering_is_stable() {
    let json = fixed_report().to_json();
    redacted(|| insta::assert_snapshot!("report_json", json));
}

#[test]
fn junit_rendering_is_stable() {
    let xml = fixed_report().to_junit();
    redacted(|| insta::assert_snapshot!("report_xml", xml));
}

#[test]
fn the_step_summary_is_compact_and_names_every_rule_that_did_not_pass() {
    let r = fixed_report();
    let summary = r.to_summary();
    redacted(|| insta::assert_snapshot!("summary_md", summary.clone()));
    for e in r.rules.iter().filter(|e| e.verdict != ipc_conform_harness::Verdict::Pass) {
        assert!(summary.contains(&format!("`{}`", e.id)), "{} missing from the summary", e.id);
    }
    assert!(summary.contains("--replay"), "no replay command in the summary");
    assert!(!summary.contains("pipe.write.capacity-finite"), "a passing rule in the summary");
    assert!(summary.len() * 2 < r.to_markdown().len(), "the summary is not compact");
}

#[test]
fn the_junit_report_parses_and_says_what_the_verdicts_say() {
    use quick_junit::{NonSuccessKind, TestCaseStatus};
    let parsed = quick_junit::Report::deserialize_from_str(&fixed_report().to_junit()).expect("report.xml parses");
    assert_eq!((parsed.tests, parsed.failures, parsed.errors), (6, 3, 1));
    let cases: Vec<_> = parsed.test_suites.iter().flat_map(|s| s.test_cases.iter()).collect();
    let by_name = |n: &str| cases.iter().find(|c| c.name.as_str() == n).unwrap_or_else(|| panic!("no case {n}"));
    match &by_name("socket.udp.datagram").status {
        TestCaseStatus::NonSuccess { kind: NonSuccessKind::Error, message, .. } => {
            // Markup in a message survives escaping and parsing.
            assert!(message.as_ref().unwrap().as_str().contains("<boom> & more"), "{message:?}");
        }
        other => panic!("a harness error is a JUnit error: {other:?}"),
    }
    assert!(matches!(by_name("socket.path.permissions").status, TestCaseStatus::Skipped { .. }));
    assert!(matches!(by_name("pipe.write.capacity-finite").status, TestCaseStatus::Success { .. }));
    match &by_name("pipe.read.empty-blocks").status {
        TestCaseStatus::NonSuccess { kind: NonSuccessKind::Failure, ty, description, .. } => {
            assert_eq!(ty.as_ref().unwrap().as_str(), "fail");
            assert!(description.as_ref().unwrap().as_str().contains("replay: cargo run --release -- run --replay"));
        }
        other => panic!("a fail is a JUnit failure: {other:?}"),
    }
}

#[test]
fn the_json_report_is_the_documented_contract() {
    let json: serde_json::Value = serde_json::from_str(&fixed_report().to_json()).unwrap();
    for key in ["tool", "version", "platform", "started", "duration_ms", "summary", "rules"] {
        assert!(json.get(key).is_some(), "missing top-level {key}");
    }
    for key in ["os", "kernel", "arch", "constants"] {
        assert!(json["platform"].get(key).is_some(), "missing platform.{key}");
    }
    let summary = json["summary"].as_object().unwrap();
    for v in ["pass", "fail", "hung", "unsupported", "unresolved", "error"] {
        assert!(summary.contains_key(v), "summary lacks {v}");
    }
    for rule in json["rules"].as_array().unwrap() {
        for key in ["id", "mechanism", "statement", "source", "verdict", "properties", "cases", "evidence"] {
            assert!(rule.get(key).is_some(), "rule lacks {key}: {rule}");
        }
        let verdict = rule["verdict"].as_str().unwrap();
        assert_eq!(rule.get("reason").is_some(), verdict != "pass", "reason present iff not pass: {rule}");
        assert_eq!(rule.get("counterexample").is_some(), verdict == "fail");
        assert!(["proc", "thread-state", "timeout", "none"].contains(&rule["evidence"]["kind"].as_str().unwrap()));
    }
    // It reads back.
    assert_eq!(Report::from_json(&fixed_report().to_json()).unwrap(), fixed_report());
}

#[test]
fn the_exit_code_follows_the_worst_verdict() {
    let mut r = fixed_report();
    assert_eq!(r.exit_code(), 2, "a harness error exits 2");
    r.summary.insert(Verdict::Error, 0);
    assert_eq!(r.exit_code(), 1, "fail and hung exit 1");
    r.summary.insert(Verdict::Fail, 0);
    r.summary.insert(Verdict::Hung, 0);
    r.summary.insert(Verdict::Unresolved, 0);
    assert_eq!(r.exit_code(), 0, "pass and unsupported exit 0");
}

#[test]
fn merged_matrix_puts_platforms_side_by_side() {
    let linux = fixed_report();
    let mut mac = fixed_report();
    mac.platform.os = "macos".into();
    mac.platform.constants.pipe_buf = 512;
    mac.rules.retain(|r| r.id != "socket.udp.datagram");
    let matrix = merge_markdown(&[linux, mac]);
    redacted(|| insta::assert_snapshot!("matrix_md", matrix));
}
