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
    assert!(outcome.reason.as_deref().unwrap_or("").starts_with("demo.rule: size 50"));
    let file = cx.replay_file.clone().expect("saved");
    assert!(cx.replay_command.ends_with(&format!("--replay {file}")));
    let rendered = runner::render(&outcome);
    assert!(rendered.contains("minimal case") && rendered.contains(&cx.replay_command), "{rendered}");

    let saved: ReplayFile = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved.rule, "demo.rule");
    let again = runner::replay("demo.rule", "demo", &saved.case, judge, &cfg);
    assert_eq!(again.verdict, Verdict::Fail);
    assert_eq!(again.cases, 1);
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
