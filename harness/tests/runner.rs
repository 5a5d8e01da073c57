//! The runner: a deviation shrinks to a minimal case, which is printed as
//! steps, saved, and replays with the command the failure prints.

use ipc_conform_harness::case::{CaseOutcome, CaseReport};
use ipc_conform_harness::runner::{self, ReplayFile, RunConfig};
use ipc_conform_harness::{Constants, Timing, Verdict};
use proptest::collection::vec;
use std::fmt;

/// A synthetic case: a list of sizes. The synthetic "host" deviates on any
/// size of at least 50, so the minimal failing case is `[50]`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Sizes(Vec<u32>);

impl fmt::Display for Sizes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, n) in self.0.iter().enumerate() {
            writeln!(f, "{:>3}. write {n} bytes", i + 1)?;
        }
        Ok(())
    }
}

fn judge(case: &Sizes) -> CaseReport<String> {
    let mut report = CaseReport::new();
    report.events = case.0.iter().map(|n| format!("write {n} -> ok")).collect();
    if let Some(n) = case.0.iter().find(|n| **n >= 50) {
        report.outcome = CaseOutcome::Fail { rules: vec!["demo.rule".into()], message: format!("size {n} deviates") };
    }
    report
}

fn config(dir: &std::path::Path) -> RunConfig {
    RunConfig {
        cases: Some(200),
        seed: 7,
        timing: Timing::default(),
        out_dir: dir.to_path_buf(),
        constants: Constants::linux_example(),
        progress: Default::default(),
        max_shrink_iters: None,
        confirm: 3,
        evidence: ipc_conform_harness::evidence::EvidenceProbe {
            level: ipc_conform_harness::evidence::EvidenceKind::Proc,
            best: ipc_conform_harness::evidence::EvidenceKind::Proc,
            cap: None,
            reason: "a fixed configuration for the runner's own tests".into(),
            views: Vec::new(),
        },
        entry_points: Vec::new(),
    }
}

#[test]
fn a_deviation_shrinks_to_a_minimal_case_that_is_saved_and_replays() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let strategy = vec(0u32..100, 0..20).prop_map_into_sizes();
    let outcome = runner::check("demo.rule", "demo", strategy, judge, &cfg);
    assert_eq!(outcome.verdict, Verdict::Fail);
    let cx = outcome.counterexample.clone().expect("a counterexample");
    assert_eq!(cx.schedule, vec!["  1. write 50 bytes".to_string()], "not minimal: {:?}", cx.schedule);
    assert_eq!(cx.reproduced, Some(runner::Reproduced { times: 3, of: 3 }));
    assert!(outcome.reason.as_deref().unwrap_or("").contains("reproduced 3/3"));
    assert!(outcome.reason.as_deref().unwrap_or("").starts_with("demo.rule: size 50"));
    let file = cx.replay_file.clone().expect("saved");
    assert!(cx.replay_command.ends_with(&format!("--replay {file}")));
    let rendered = runner::render(&outcome);
    assert!(rendered.contains("minimal case") && rendered.contains(&cx.replay_command), "{rendered}");

    let saved: ReplayFile = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved.rule, "demo.rule");
    let again = runner::replay("demo.rule", "demo", &saved.case, judge, &cfg);
    assert_eq!(again.verdict, Verdict::Fail);
    // The case itself, then the replays that confirm it.
    assert_eq!(again.cases, 1 + u64::from(cfg.confirm));
    // The proptest seed is persisted too, so the failure runs first next time.
    assert!(dir.path().join("regressions").join("demo.rule.txt").exists());
}

#[test]
fn a_replay_file_that_does_not_fit_the_property_is_a_harness_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = serde_json::json!({"not": "sizes"});
    let outcome = runner::replay("demo.rule", "demo", &bad, judge, &config(dir.path()));
    assert_eq!(outcome.verdict, Verdict::Error);
    assert!(outcome.reason.unwrap().contains("does not fit demo.rule"));
}

#[test]
fn passing_cases_pass() {
    let dir = tempfile::tempdir().unwrap();
    let strategy = vec(0u32..50, 0..20).prop_map_into_sizes();
    let outcome = runner::check("demo.rule", "demo", strategy, judge, &config(dir.path()));
    assert_eq!(outcome.verdict, Verdict::Pass);
    assert_eq!(outcome.cases, 200);
}

trait IntoSizes {
    fn prop_map_into_sizes(self) -> proptest::strategy::Map<Self, fn(Vec<u32>) -> Sizes>
    where
        Self: Sized;
}

impl<S: proptest::strategy::Strategy<Value = Vec<u32>>> IntoSizes for S {
    fn prop_map_into_sizes(self) -> proptest::strategy::Map<Self, fn(Vec<u32>) -> Sizes> {
        proptest::strategy::Strategy::prop_map(self, Sizes as fn(Vec<u32>) -> Sizes)
    }
}

/// A synthetic case whose executor panics (a harness bug): never a pass.
fn panicking(case: &Sizes) -> CaseReport<String> {
    if case.0.iter().any(|n| *n >= 50) {
        panic!("executor bug on size {:?}", case.0);
    }
    CaseReport::new()
}

#[test]
fn a_panic_inside_a_case_is_an_error_not_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let strategy = vec(0u32..100, 1..20).prop_map_into_sizes();
    let outcome = runner::check("demo.rule", "demo", strategy, panicking, &config(dir.path()));
    assert_eq!(outcome.verdict, Verdict::Error, "{}", runner::render(&outcome));
    let reason = outcome.reason.unwrap_or_default();
    assert!(reason.contains("panic") && reason.contains("executor bug"), "{reason}");
}

/// A synthetic case that breaks another rule than the one being checked.
fn breaks_another_rule(case: &Sizes) -> CaseReport<String> {
    let mut report = CaseReport::new();
    if let Some(n) = case.0.iter().find(|n| **n >= 50) {
        report.outcome = CaseOutcome::Fail { rules: vec!["other.rule".into()], message: format!("size {n} deviates") };
    }
    report
}

#[test]
fn a_deviation_of_another_rule_is_not_the_checked_rules_fail() {
    let dir = tempfile::tempdir().unwrap();
    let strategy = vec(0u32..100, 1..20).prop_map_into_sizes();
    let outcome = runner::check("demo.rule", "demo", strategy, breaks_another_rule, &config(dir.path()));
    assert_ne!(outcome.verdict, Verdict::Fail, "{}", runner::render(&outcome));
    // It is recorded against the rule it breaks, shrunk and confirmed, and
    // the checked rule goes on with fresh cases (up to a few findings).
    let finding = outcome.findings.first().expect("a finding against other.rule");
    assert_eq!(finding.rule, "other.rule");
    assert_eq!(finding.verdict, Verdict::Fail);
    let cx = finding.counterexample.as_ref().expect("its minimal case");
    assert_eq!(cx.schedule, vec!["  1. write 50 bytes".to_string()]);
    assert_eq!(cx.reproduced, Some(runner::Reproduced { times: 3, of: 3 }));
    assert!(cx.replay_file.as_deref().unwrap_or("").ends_with("other.rule.json"), "{cx:?}");
}

#[test]
fn a_deviation_of_another_rule_leaves_the_checked_rule_its_own_verdict() {
    // Only a few cases break the other rule: the checked rule still runs
    // all its cases and passes.
    let dir = tempfile::tempdir().unwrap();
    let rare = |case: &Sizes| {
        let mut report = CaseReport::<String>::new();
        if case.0.first() == Some(&99) {
            report.outcome = CaseOutcome::Fail { rules: vec!["other.rule".into()], message: "99 deviates".into() };
        }
        report
    };
    let strategy = vec(0u32..100, 1..3).prop_map_into_sizes();
    let outcome = runner::check("demo.rule", "demo", strategy, rare, &config(dir.path()));
    assert_eq!(outcome.verdict, Verdict::Pass, "{}", runner::render(&outcome));
    assert!(!outcome.findings.is_empty(), "{}", runner::render(&outcome));
}

#[test]
fn a_deviation_that_never_reproduces_is_not_a_clean_fail() {
    let dir = tempfile::tempdir().unwrap();
    let calls = std::sync::atomic::AtomicU32::new(0);
    let once = |case: &Sizes| {
        let mut report = CaseReport::<String>::new();
        report.events = vec![format!("call {}", calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst))];
        if report.events[0] == "call 0" {
            report.outcome = CaseOutcome::Fail { rules: vec!["demo.rule".into()], message: format!("{case:?} once") };
        }
        report
    };
    let strategy = vec(0u32..100, 1..5).prop_map_into_sizes();
    let outcome = runner::check("demo.rule", "demo", strategy, once, &config(dir.path()));
    assert_eq!(outcome.verdict, Verdict::Unresolved, "{}", runner::render(&outcome));
    let cx = outcome.counterexample.expect("both traces are kept");
    assert_eq!(cx.reproduced, Some(runner::Reproduced { times: 0, of: 3 }));
    assert_eq!(cx.trace, vec!["call 0".to_string()]);
    assert!(!cx.replay_trace.is_empty() && cx.replay_trace[0] != "call 0", "{:?}", cx.replay_trace);
    assert!(outcome.reason.unwrap_or_default().contains("did not reproduce"));
}

/// A case that goes through entry point `rare` only when its first number
/// is 0 (one case in a hundred), and through `never` not at all.
fn through_entry_points(case: &Sizes) -> CaseReport<String> {
    let mut report = CaseReport::new();
    report.events = vec!["a step".into()];
    let name = match case.0.first() {
        Some(0) => "rare",
        _ => "common",
    };
    report.observations.push((format!("{}{name}", ipc_conform_harness::engine::ENTRY_POINT_OBSERVED), 1));
    report
}

#[test]
fn cases_go_on_until_every_entry_point_of_the_rule_is_reached() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.cases = Some(50);
    cfg.entry_points = vec!["common".into(), "rare".into()];
    // One case in a hundred reaches `rare`: 50 cases miss it about 60 % of
    // the time, so over 20 seeds some runs must go on past 50 cases (and
    // the limit of 256 misses it in fewer than 8 %).
    let strategy = vec(0u32..100, 1..2).prop_map_into_sizes();
    let mut extended = 0;
    for seed in 0..20 {
        cfg.seed = seed;
        let outcome = runner::check("demo.rule", "demo", strategy.clone(), through_entry_points, &cfg);
        assert!(outcome.cases <= runner::coverage_limit(50) as u64, "{}", outcome.cases);
        match outcome.verdict {
            Verdict::Pass => {
                assert!(outcome.entry_points_missed.is_empty());
                assert!(outcome.measured.contains_key("entry point: rare"));
                extended += (outcome.cases > 50) as u32;
            }
            Verdict::Unresolved => {
                assert_eq!(outcome.entry_points_missed, vec!["rare".to_string()]);
                assert_eq!(outcome.cases, runner::coverage_limit(50) as u64);
            }
            other => panic!("{other:?}: {:?}", outcome.reason),
        }
    }
    assert!(extended > 0, "no run needed more cases than wanted to reach `rare`");
}

#[test]
fn an_entry_point_no_case_reaches_leaves_the_rule_unresolved_not_passed() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.cases = Some(10);
    cfg.entry_points = vec!["common".into(), "never".into()];
    let strategy = vec(1u32..100, 1..2).prop_map_into_sizes();
    let outcome = runner::check("demo.rule", "demo", strategy, through_entry_points, &cfg);
    assert_eq!(outcome.verdict, Verdict::Unresolved);
    assert_eq!(outcome.cases, runner::coverage_limit(10) as u64);
    assert_eq!(outcome.entry_points_missed, vec!["never".to_string()]);
    let reason = outcome.reason.unwrap();
    assert!(reason.contains("never") && reason.contains(&runner::coverage_limit(10).to_string()), "{reason}");
}

#[test]
fn a_saved_failure_that_passes_now_is_reported_stale() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let strategy = vec(0u32..50, 0..20).prop_map_into_sizes();
    // No saved failure: nothing to say.
    let fresh = runner::check("demo.rule", "demo", strategy.clone(), judge, &cfg);
    assert_eq!((fresh.verdict, fresh.stale_saved.clone()), (Verdict::Pass, None));
    // A failure saved by an earlier run (proptest's seed line), which
    // passes now.
    let file = runner::regressions_file(&cfg, "demo.rule");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(
        &file,
        "# saved by an earlier run\ncc ced121fa418776fbf439530499c9d3573d2c5e141411c1f45d79bcfc453ac69f\n",
    )
    .unwrap();
    let outcome = runner::check("demo.rule", "demo", strategy, judge, &cfg);
    assert_eq!(outcome.verdict, Verdict::Pass);
    let stale = outcome.stale_saved.clone().expect("the stale saved failure is reported");
    assert_eq!(stale.count, 1);
    assert_eq!(stale.file, file.display().to_string());
    assert!(runner::render(&outcome).contains("stale saved failure"), "{}", runner::render(&outcome));
}
