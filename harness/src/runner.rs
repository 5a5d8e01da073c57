//! The runner: proptest around a property. It generates cases, runs each
//! against the host, stops at the first deviation and shrinks it to a
//! minimal case, which it prints as numbered steps, persists, and offers to
//! replay with one command. Hung, harness errors and unresolved cases stop
//! the rule without shrinking (they are not the host's deviation to
//! minimise). `cargo test` and `ipc-conform run` both come through here, so
//! a verdict cannot differ between them.
//!
//! What a verdict means is decided here, once:
//! - a panic anywhere in a case (executor, model, a `Display`) is `error`
//!   with the message and the case, never a pass;
//! - a deviation counts against the rule it names: one that names another
//!   rule is that rule's [`Finding`] (shrunk and confirmed the same way),
//!   and the checked rule goes on with fresh cases;
//! - a `fail` is confirmed: the minimal case is replayed
//!   ([`RunConfig::confirm`] times) and the report says how often it
//!   reproduced; one that never reproduces is `unresolved`, with both
//!   traces.

use crate::case::{CaseOutcome, CaseReport};
use crate::constants::Constants;
use crate::evidence::{EvidenceKind, EvidenceProbe, EvidenceTally};
use crate::timing::Timing;
use crate::verdict::Verdict;
use proptest::strategy::Strategy;
use proptest::test_runner::{Config, FileFailurePersistence, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::{Debug, Display};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Cases per rule when neither the caller nor `PROPTEST_CASES` says.
pub const DEFAULT_CASES: u32 = 64;

/// How to run properties.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Cases per rule; `None`: `PROPTEST_CASES`, else [`DEFAULT_CASES`].
    pub cases: Option<u32>,
    /// The run's seed; every rule derives its own from it and its id.
    pub seed: u64,
    /// Time limits.
    pub timing: Timing,
    /// Where failures (minimal cases, proptest seeds) are written.
    pub out_dir: PathBuf,
    /// The measured platform constants.
    pub constants: Constants,
    /// Called after every case with the number of cases run so far.
    pub progress: Progress,
    /// Shrink steps allowed for a failing case; `None`: proptest's
    /// `PROPTEST_MAX_SHRINK_ITERS`, else 512. (0 for runs that only need
    /// to know whether a rule fails, such as `ipc-conform mutants`.)
    pub max_shrink_iters: Option<u32>,
    /// How many times a minimal failing case is replayed before its
    /// verdict is given (`IPC_CONFORM_CONFIRM`, default 3; at least 1).
    pub confirm: u32,
    /// The evidence levels this host offers, probed at start, and the one
    /// in force ([`crate::evidence`]).
    pub evidence: EvidenceProbe,
    /// The entry points (function names, as the engine counts them under
    /// [`crate::engine::ENTRY_POINT_OBSERVED`]) the rule being checked
    /// covers here: while one of them is unreached after the cases wanted,
    /// more cases run, up to [`coverage_limit`]. Empty
    /// outside a rule's check.
    pub entry_points: Vec<String>,
}

/// A rule whose cases all held but left one of its entry points unreached
/// runs more cases, in rounds of those wanted, up to [`coverage_limit`]
/// cases, before the rule is `unresolved`.
pub const COVERAGE_ROUNDS: u32 = 4;

/// The fewest cases [`coverage_limit`] allows, however few were asked for
/// (a quick run of 3 cases may need a few dozen to go through each of ten
/// entry points).
pub const COVERAGE_FLOOR: u32 = 256;

/// The most cases run to reach every entry point of a rule when `wanted`
/// were asked for: [`COVERAGE_ROUNDS`] times as many, at least
/// [`COVERAGE_FLOOR`].
pub fn coverage_limit(wanted: u32) -> u32 {
    wanted.saturating_mul(COVERAGE_ROUNDS).max(COVERAGE_FLOOR)
}

/// Replays of a minimal failing case when `IPC_CONFORM_CONFIRM` is unset.
pub const DEFAULT_CONFIRM: u32 = 3;

/// At most this many findings against other rules are recorded while one
/// rule is checked; the rule's own verdict is then `unresolved`.
pub const MAX_FINDINGS: usize = 3;

/// A callback told of each case run (for a progress display).
#[derive(Clone, Default)]
pub struct Progress(Option<std::sync::Arc<ProgressFn>>);

/// The function a [`Progress`] hook calls: `(rule, cases_so_far)`.
pub type ProgressFn = dyn Fn(&str, u64) + Send + Sync;

impl Progress {
    /// A progress hook calling `f(rule, cases_so_far)`.
    pub fn new(f: impl Fn(&str, u64) + Send + Sync + 'static) -> Progress {
        Progress(Some(std::sync::Arc::new(f)))
    }

    fn tell(&self, rule: &str, cases: u64) {
        if let Some(f) = &self.0 {
            f(rule, cases);
        }
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Progress(hook)" } else { "Progress(none)" })
    }
}

impl RunConfig {
    /// A configuration from the environment: timing from
    /// `IPC_CONFORM_TIMEOUT_SCALE`, seed from `IPC_CONFORM_SEED` or fresh,
    /// out dir from `IPC_CONFORM_OUT` or `target/ipc-conform` of the
    /// workspace, constants measured now, evidence levels probed now
    /// (capped by `IPC_CONFORM_EVIDENCE`) and put in force for the sessions
    /// of this process, and the harness's own channels checked
    /// ([`crate::channel::self_check`]: an error names the rules they
    /// break).
    pub fn from_env() -> Result<RunConfig, String> {
        let timing = Timing::from_env()?;
        let seed = match std::env::var("IPC_CONFORM_SEED") {
            Ok(s) => parse_seed(&s).map_err(|e| format!("IPC_CONFORM_SEED: {e}"))?,
            Err(_) => fresh_seed(),
        };
        let out_dir = std::env::var_os("IPC_CONFORM_OUT").map(PathBuf::from).unwrap_or_else(default_out_dir);
        let constants = Constants::host()?.clone();
        let confirm = match std::env::var("IPC_CONFORM_CONFIRM") {
            Ok(s) => match s.trim().parse::<u32>() {
                Ok(n) if (1..=100).contains(&n) => n,
                _ => return Err(format!("IPC_CONFORM_CONFIRM={s:?}: expected a number of replays from 1 to 100")),
            },
            Err(_) => DEFAULT_CONFIRM,
        };
        if let Some(d) = crate::os::deviant::check_env()? {
            if d == crate::os::deviant::Deviation::LockLeaksToSurvivor {
                // It leaves a process behind unless the coordinator adopts
                // it, which only `ipc-conform mutants` arranges.
                return Err(format!(
                    "{}={}: run it with `ipc-conform mutants --deviations {}`",
                    crate::os::deviant::DEVIATE_ENV,
                    d.name(),
                    d.name()
                ));
            }
        }
        crate::os::forkserver::enabled()?;
        let evidence = crate::evidence::probe(timing, crate::evidence::cap_from_env()?);
        crate::evidence::set_in_force(evidence.level);
        crate::channel::self_check(timing)?;
        Ok(RunConfig {
            cases: None,
            seed,
            timing,
            out_dir,
            constants,
            progress: Progress::default(),
            max_shrink_iters: None,
            confirm,
            evidence,
            entry_points: Vec::new(),
        })
    }

    /// Caps the evidence level (`--evidence`): the sessions of this process
    /// confirm "blocked" at most at `cap` from now on.
    pub fn cap_evidence(&mut self, cap: EvidenceKind) {
        self.evidence = self.evidence.clone().capped(Some(cap));
        crate::evidence::set_in_force(self.evidence.level);
    }
}

/// `target/ipc-conform` of this workspace (or of the current directory
/// when the workspace is not where it was built).
pub fn default_out_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf);
    match root {
        Some(root) if root.join("Cargo.toml").exists() => root.join("target").join("ipc-conform"),
        _ => PathBuf::from("target").join("ipc-conform"),
    }
}

/// Parses a seed: decimal or `0x` hexadecimal.
pub fn parse_seed(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let parsed = match t.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => t.parse(),
    };
    parsed.map_err(|_| format!("{text:?} is not a seed (a decimal or 0x-hexadecimal 64-bit number)"))
}

/// A fresh seed from the standard library's random hasher keys.
pub fn fresh_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    h.finish()
}

/// A minimal failing case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counterexample {
    /// The case as numbered steps.
    pub schedule: Vec<String>,
    /// What was observed, event by event, up to the deviation.
    pub trace: Vec<String>,
    /// The file the case was saved to.
    pub replay_file: Option<String>,
    /// The one-line command that replays it.
    pub replay_command: String,
    /// How often the minimal case reproduced when replayed.
    #[serde(default)]
    pub reproduced: Option<Reproduced>,
    /// What a replay that did not reproduce observed (for a failure seen
    /// only once: both traces side by side).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replay_trace: Vec<String>,
}

/// How often a minimal failing case reproduced: `times` of `of` replays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reproduced {
    /// Replays that deviated the same way (same rule).
    pub times: u32,
    /// Replays made.
    pub of: u32,
}

impl std::fmt::Display for Reproduced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.times, self.of)
    }
}

/// A deviation found while checking one rule that counts against another:
/// recorded under the rule it breaks.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Finding {
    /// The rule the deviation breaks.
    pub rule: String,
    /// The property that found it (it checks another rule).
    pub property: String,
    /// `fail` (confirmed), `unresolved` (not reproduced) or `hung`.
    pub verdict: Verdict,
    /// What was observed.
    pub reason: String,
    /// The minimal case, for a failure.
    pub counterexample: Option<Counterexample>,
}

/// Min, max and count of one measured quantity over a rule's cases.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measured {
    /// Smallest value seen.
    pub min: u64,
    /// Largest value seen.
    pub max: u64,
    /// How many times it was measured.
    pub count: u64,
    /// The sum of all values (for counts of events, such as torn reads).
    pub sum: u64,
}

/// What checking one rule concluded.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RuleOutcome {
    /// The rule id.
    pub rule: String,
    /// The property (test) that checked it.
    pub property: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Why, for anything but pass.
    pub reason: Option<String>,
    /// Cases run (shrinking included).
    pub cases: u64,
    /// "Blocked" observations by evidence kind.
    pub evidence: EvidenceTally,
    /// The minimal failing case, for a failure.
    pub counterexample: Option<Counterexample>,
    /// Quantities measured along the way.
    pub measured: BTreeMap<String, Measured>,
    /// Wall time.
    pub duration_ms: u64,
    /// Deviations of other rules found on the way (see [`Finding`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    /// Entry points the rule's statement covers on this platform that no
    /// case went through (see [`RuleOutcome::note_entry_points`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entry_points_missed: Vec<String>,
    /// Failing cases saved by earlier runs (proptest's regressions file of
    /// the rule) that were replayed first and passed this time: a fixed
    /// bug, or a flake; the file is left to the user to clear.
    #[serde(default)]
    pub stale_saved: Option<StaleSaved>,
}

/// Failing cases an earlier run saved that passed this time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleSaved {
    /// How many.
    pub count: u32,
    /// The file that keeps them.
    pub file: String,
}

impl RuleOutcome {
    /// The entry points (of `wanted`, the rule's on this platform) that the
    /// cases used, by the engine's count ([`crate::engine::ENTRY_POINT_OBSERVED`]):
    /// any of `wanted` that no case went through is recorded as missed,
    /// once cases ran.
    pub fn note_entry_points(&mut self, wanted: &[String]) {
        if self.cases == 0 {
            return;
        }
        let used = |e: &str| self.measured.contains_key(&format!("{}{e}", crate::engine::ENTRY_POINT_OBSERVED));
        self.entry_points_missed = wanted.iter().filter(|e| !used(e)).cloned().collect();
    }

    /// An outcome decided without running a case (unsupported, error).
    pub fn without_cases(rule: &str, property: &str, verdict: Verdict, reason: String) -> RuleOutcome {
        RuleOutcome {
            rule: rule.to_string(),
            property: property.to_string(),
            verdict,
            reason: Some(reason),
            cases: 0,
            evidence: EvidenceTally::default(),
            counterexample: None,
            measured: BTreeMap::new(),
            duration_ms: 0,
            findings: Vec::new(),
            entry_points_missed: Vec::new(),
            stale_saved: None,
        }
    }
}

/// A saved failing case, as `--replay` reads it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReplayFile {
    /// The rule the case broke.
    pub rule: String,
    /// The property that found it.
    pub property: String,
    /// The case itself, as the property's data.
    pub case: serde_json::Value,
}

/// What the cases of one search (one proptest runner) gave.
struct Search<C> {
    cases: u64,
    /// Cases that ran to their end and held before the first failure.
    passed: u64,
    evidence: EvidenceTally,
    measured: BTreeMap<String, Measured>,
    /// The first hung, error, unresolved or unsupported case of the rule
    /// itself: ends the rule.
    stop: Option<(Verdict, String, Vec<String>)>,
    /// A panic in a case: the message and the case.
    panic: Option<(String, Vec<String>)>,
    /// Hung cases that name another rule.
    foreign_hung: Vec<Finding>,
    /// The rule the first deviation named; shrinking keeps to it.
    target: Option<String>,
    /// The latest failing case (the smallest, once shrinking is over).
    failing: Option<Failing<C>>,
}

struct Failing<C> {
    case: C,
    reason: String,
    json: serde_json::Value,
    schedule: Vec<String>,
    trace: Vec<String>,
}

impl<C> Search<C> {
    fn new() -> Search<C> {
        Search {
            cases: 0,
            passed: 0,
            evidence: EvidenceTally::default(),
            measured: BTreeMap::new(),
            stop: None,
            panic: None,
            foreign_hung: Vec::new(),
            target: None,
            failing: None,
        }
    }

    fn absorb<E>(&mut self, report: &CaseReport<E>) {
        self.cases += 1;
        self.evidence.merge(&report.evidence);
        for (name, value) in &report.observations {
            let m =
                self.measured.entry(name.clone()).or_insert(Measured { min: *value, max: *value, count: 0, sum: 0 });
            m.min = m.min.min(*value);
            m.max = m.max.max(*value);
            m.count += 1;
            m.sum += *value;
        }
    }
}

fn lines(text: &impl Display) -> Vec<String> {
    text.to_string().lines().map(str::to_string).collect()
}

fn trace_of<E: Display>(report: &CaseReport<E>) -> Vec<String> {
    report.events.iter().map(|e| e.to_string()).collect()
}

/// The rule a deviation counts against, given the rule being checked:
/// that rule if the violation names it, else the first rule it names.
fn named_rule<'a>(rules: &'a [String], checked: &'a str) -> &'a str {
    if rules.iter().any(|r| r == checked) {
        checked
    } else {
        rules.first().map(String::as_str).unwrap_or(checked)
    }
}

fn non_pass(outcome: &CaseOutcome) -> Option<(Verdict, String)> {
    match outcome {
        CaseOutcome::Pass => None,
        CaseOutcome::Fail { rules, message } => Some((Verdict::Fail, format!("{}: {message}", rules.join(", ")))),
        CaseOutcome::Hung { rule: Some(r), message } => Some((Verdict::Hung, format!("{r}: {message}"))),
        CaseOutcome::Hung { rule: None, message } => Some((Verdict::Hung, message.clone())),
        CaseOutcome::Unresolved(m) => Some((Verdict::Unresolved, m.clone())),
        CaseOutcome::Unsupported(m) => Some((Verdict::Unsupported, m.clone())),
        CaseOutcome::Error(m) => Some((Verdict::Error, m.clone())),
    }
}

/// Runs a case, turning a panic anywhere in it (or in printing it) into
/// `Err(message)`.
fn guarded<C: Display, E: Display>(
    case: &C,
    run_case: &impl Fn(&C) -> CaseReport<E>,
) -> Result<(CaseReport<E>, Vec<String>), String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let report = run_case(case);
        let trace = trace_of(&report);
        (report, trace)
    }))
    .map_err(|payload| panic_message(payload.as_ref()))
}

/// The message a panic carried (`panic!`'s text), for a verdict's reason.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

fn printed<C: Display>(case: &C) -> Vec<String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| lines(case)))
        .unwrap_or_else(|_| vec!["(the case panicked while being printed)".into()])
}

fn rule_seed(seed: u64, rule: &str, attempt: u32) -> [u8; 32] {
    // FNV-1a over the rule id, mixed with the run seed: each rule gets its
    // own stream, unchanged by which other rules run. A later attempt (after
    // a finding against another rule) gets a stream of its own.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in rule.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h ^= u64::from(attempt).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut out = [0u8; 32];
    for (i, chunk) in out.chunks_mut(8).enumerate() {
        let v = (seed ^ h).rotate_left(i as u32 * 17).wrapping_mul(0x9e37_79b9_7f4a_7c15 ^ i as u64);
        chunk.copy_from_slice(&v.to_le_bytes());
    }
    out
}

fn cases_wanted(cfg: &RunConfig) -> u32 {
    cfg.cases.unwrap_or_else(|| match std::env::var_os("PROPTEST_CASES") {
        Some(_) => Config::default().cases,
        None => DEFAULT_CASES,
    })
}

/// Where proptest keeps the failing cases of `rule` that earlier runs saved
/// (replayed first by every later run, until the file is removed).
pub fn regressions_file(cfg: &RunConfig, rule: &str) -> PathBuf {
    cfg.out_dir.join("regressions").join(format!("{rule}.txt"))
}

/// How many failing cases earlier runs saved for `rule` (`cc <seed>` lines).
fn saved_failures(cfg: &RunConfig, rule: &str) -> u32 {
    let text = std::fs::read_to_string(regressions_file(cfg, rule)).unwrap_or_default();
    text.lines().filter(|l| l.trim_start().starts_with("cc ")).count() as u32
}

fn proptest_config(cfg: &RunConfig, rule: &str, cases: u32, persist: bool) -> Config {
    let mut config = Config { cases, ..Config::default() };
    if let Some(n) = cfg.max_shrink_iters {
        config.max_shrink_iters = n;
    } else if std::env::var_os("PROPTEST_MAX_SHRINK_ITERS").is_none() {
        config.max_shrink_iters = 512;
    }
    config.failure_persistence = None;
    // A run under a deviation from the environment (a demonstration) saves
    // no failing case for the undeviated runs after it to replay.
    if persist && crate::os::deviant::active().is_none() {
        let path = regressions_file(cfg, rule);
        let _ = std::fs::create_dir_all(cfg.out_dir.join("regressions"));
        let path: &'static str = Box::leak(path.to_string_lossy().into_owned().into_boxed_str());
        config.failure_persistence = Some(Box::new(FileFailurePersistence::Direct(path)));
    }
    config
}

/// One proptest search: cases until the first deviation (shrunk, keeping
/// to the rule it named), the first stop, or the end.
fn search<C, E, S>(
    rule: &str,
    strategy: &S,
    run_case: &impl Fn(&C) -> CaseReport<E>,
    cfg: &RunConfig,
    attempt: u32,
    cases: u32,
) -> Search<C>
where
    S: Strategy<Value = C>,
    C: Clone + Debug + Display + Serialize,
    E: Display,
{
    let found = RefCell::new(Search::new());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &rule_seed(cfg.seed, rule, attempt));
    let mut runner = TestRunner::new_with_rng(proptest_config(cfg, rule, cases, attempt == 0), rng);
    let result = runner.run(strategy, |case| {
        if found.borrow().stop.is_some() || found.borrow().panic.is_some() {
            return Ok(());
        }
        let (report, trace) = match guarded(&case, run_case) {
            Ok(done) => done,
            Err(message) => {
                found.borrow_mut().panic = Some((message, printed(&case)));
                return Ok(());
            }
        };
        let mut t = found.borrow_mut();
        t.absorb(&report);
        cfg.progress.tell(rule, t.cases);
        let shrinking = t.failing.is_some();
        match (&report.outcome, non_pass(&report.outcome)) {
            (_, None) => {
                if !shrinking {
                    t.passed += 1;
                }
                Ok(())
            }
            (CaseOutcome::Fail { rules, .. }, Some((_, reason))) => {
                let named = named_rule(rules, rule).to_string();
                if t.target.get_or_insert_with(|| named.clone()) != &named {
                    // While shrinking, a smaller case that breaks another
                    // rule does not reproduce this deviation.
                    return Ok(());
                }
                let json = serde_json::to_value(&case).unwrap_or(serde_json::Value::Null);
                let schedule = printed(&case);
                t.failing = Some(Failing { case: case.clone(), reason: reason.clone(), json, schedule, trace });
                Err(TestCaseError::fail(reason))
            }
            (CaseOutcome::Hung { rule: Some(r), .. }, Some((verdict, reason))) if r != rule => {
                if !shrinking && !t.foreign_hung.iter().any(|f| &f.rule == r) {
                    let counterexample = Some(Counterexample {
                        schedule: printed(&case),
                        trace,
                        replay_file: None,
                        replay_command: String::new(),
                        reproduced: None,
                        replay_trace: Vec::new(),
                    });
                    t.foreign_hung.push(Finding {
                        rule: r.clone(),
                        property: String::new(),
                        verdict,
                        reason,
                        counterexample,
                    });
                }
                Ok(())
            }
            (_, Some((verdict, reason))) => {
                // While shrinking a failure, a smaller case that hangs or
                // breaks the harness simply does not reproduce it.
                if !shrinking {
                    t.stop = Some((verdict, reason, trace));
                }
                Ok(())
            }
        }
    });
    let mut found = found.into_inner();
    if let Err(proptest::test_runner::TestError::Abort(why)) = result {
        found.stop.get_or_insert((Verdict::Error, format!("harness error: proptest gave up: {why}"), Vec::new()));
    }
    found
}

/// Replays a minimal failing case `times` times: how often it deviated the
/// same way (naming `target`), and the trace of a replay that did not.
fn confirm<C, E>(
    case: &C,
    checked: &str,
    target: &str,
    run_case: &impl Fn(&C) -> CaseReport<E>,
    times: u32,
) -> (Reproduced, Vec<String>, u64)
where
    C: Display,
    E: Display,
{
    let mut reproduced = Reproduced { times: 0, of: 0 };
    let mut other_trace = Vec::new();
    for _ in 0..times.max(1) {
        reproduced.of += 1;
        match guarded(case, run_case) {
            Ok((report, trace)) => match &report.outcome {
                CaseOutcome::Fail { rules, .. } if named_rule(rules, checked) == target => reproduced.times += 1,
                other => {
                    other_trace = trace;
                    other_trace.push(format!(
                        "  -> {}",
                        non_pass(other).map_or("pass".to_string(), |(v, r)| format!("{v}: {r}"))
                    ));
                }
            },
            Err(panic) => other_trace = vec![format!("the replay panicked: {panic}")],
        }
    }
    (reproduced, other_trace, u64::from(reproduced.of))
}

/// Checks `rule` with `property`: runs generated cases until one deviates
/// (then shrinks and confirms it) or all pass. A deviation of another rule
/// is recorded as a [`Finding`] and the rule goes on with fresh cases.
pub fn check<C, E, S>(
    rule: &str,
    property: &str,
    strategy: S,
    run_case: impl Fn(&C) -> CaseReport<E>,
    cfg: &RunConfig,
) -> RuleOutcome
where
    S: Strategy<Value = C>,
    C: Clone + Debug + Display + Serialize,
    E: Display,
{
    check_with(rule, property, strategy, run_case, cfg, true)
}

/// [`check`]; `go_on`: whether fresh cases follow a finding against
/// another rule (not when replaying one saved case).
fn check_with<C, E, S>(
    rule: &str,
    property: &str,
    strategy: S,
    run_case: impl Fn(&C) -> CaseReport<E>,
    cfg: &RunConfig,
    go_on: bool,
) -> RuleOutcome
where
    S: Strategy<Value = C>,
    C: Clone + Debug + Display + Serialize,
    E: Display,
{
    let start = Instant::now();
    let mut outcome = RuleOutcome {
        rule: rule.to_string(),
        property: property.to_string(),
        verdict: Verdict::Pass,
        reason: None,
        cases: 0,
        evidence: EvidenceTally::default(),
        counterexample: None,
        measured: BTreeMap::new(),
        duration_ms: 0,
        findings: Vec::new(),
        entry_points_missed: Vec::new(),
        stale_saved: None,
    };
    let saved = saved_failures(cfg, rule);
    let wanted = cases_wanted(cfg);
    let mut budget = wanted;
    let mut held = 0u32;
    let mut attempt = 0u32;
    loop {
        let found = search(rule, &strategy, &run_case, cfg, attempt, budget.saturating_sub(held).max(1));
        outcome.cases += found.cases;
        outcome.evidence.merge(&found.evidence);
        for (name, m) in found.measured {
            let into = outcome.measured.entry(name).or_insert(Measured { min: m.min, max: m.max, count: 0, sum: 0 });
            into.min = into.min.min(m.min);
            into.max = into.max.max(m.max);
            into.count += m.count;
            into.sum += m.sum;
        }
        for mut f in found.foreign_hung {
            f.property = property.to_string();
            outcome.findings.push(f);
        }
        held = held.saturating_add(found.passed as u32);
        if let Some((message, case)) = found.panic {
            outcome.verdict = Verdict::Error;
            let mut reason =
                format!("harness error: a panic in a case: {message}\n  the case:\n    {}", case.join("\n    "));
            if let Some(f) = &found.failing {
                reason.push_str(&format!("\n  (a deviation was also seen: {})", f.reason));
            }
            outcome.reason = Some(reason);
            break;
        }
        if let Some(failing) = found.failing {
            let target = found.target.clone().unwrap_or_else(|| rule.to_string());
            let (reproduced, replay_trace, replays) = confirm(&failing.case, rule, &target, &run_case, cfg.confirm);
            outcome.cases += replays;
            let mut cx = save_counterexample(cfg, &target, property, failing.json, failing.schedule, failing.trace);
            cx.reproduced = Some(reproduced);
            if reproduced.times == 0 {
                cx.replay_trace = replay_trace;
            }
            let (verdict, reason) = if reproduced.times > 0 {
                (Verdict::Fail, format!("{} (reproduced {reproduced})", failing.reason))
            } else {
                (
                    Verdict::Unresolved,
                    format!(
                        "a deviation was seen once but did not reproduce in {reproduced} replays of the minimal case: {}",
                        failing.reason
                    ),
                )
            };
            if target == rule {
                outcome.verdict = verdict;
                outcome.reason = Some(reason);
                outcome.counterexample = Some(cx);
                break;
            }
            outcome.findings.push(Finding {
                rule: target,
                property: property.to_string(),
                verdict,
                reason,
                counterexample: Some(cx),
            });
            if !go_on {
                break;
            }
            if outcome.findings.len() >= MAX_FINDINGS {
                outcome.verdict = Verdict::Unresolved;
                outcome.reason = Some(format!(
                    "{} deviations of other rules cut cases short; {held} of {wanted} cases ran to their end",
                    outcome.findings.len()
                ));
                break;
            }
            attempt += 1;
            continue;
        }
        if let Some((verdict, reason, trace)) = found.stop {
            outcome.verdict = verdict;
            outcome.reason = Some(match trace.is_empty() {
                true => reason,
                false => format!("{reason}\n  trace:\n    {}", trace.join("\n    ")),
            });
            break;
        }
        // Every case held: while an entry point of the rule is unreached,
        // more cases, up to the coverage limit.
        outcome.note_entry_points(&cfg.entry_points);
        if outcome.entry_points_missed.is_empty() || budget >= coverage_limit(wanted) {
            break;
        }
        budget = budget.saturating_add(wanted).min(coverage_limit(wanted));
        attempt += 1;
    }
    if outcome.verdict == Verdict::Pass && saved > 0 {
        outcome.stale_saved =
            Some(StaleSaved { count: saved, file: regressions_file(cfg, rule).display().to_string() });
    }
    if outcome.verdict == Verdict::Pass && !outcome.entry_points_missed.is_empty() {
        outcome.verdict = Verdict::Unresolved;
        outcome.reason = Some(format!(
            "every case held, but no case of {} went through {}, of the entry points the rule covers",
            outcome.cases,
            outcome.entry_points_missed.join(", ")
        ));
    }
    outcome.duration_ms = start.elapsed().as_millis() as u64;
    outcome
}

fn save_counterexample(
    cfg: &RunConfig,
    rule: &str,
    property: &str,
    case: serde_json::Value,
    schedule: Vec<String>,
    trace: Vec<String>,
) -> Counterexample {
    let dir = cfg.out_dir.join("failures");
    let path = dir.join(format!("{rule}.json"));
    let file = ReplayFile { rule: rule.to_string(), property: property.to_string(), case };
    let saved = std::fs::create_dir_all(&dir)
        .and_then(|_| serde_json::to_vec_pretty(&file).map_err(std::io::Error::other))
        .and_then(|bytes| std::fs::write(&path, bytes));
    let shown = path.display().to_string();
    Counterexample {
        schedule,
        trace,
        replay_file: saved.is_ok().then(|| shown.clone()),
        replay_command: match crate::os::deviant::active() {
            Some(d) => {
                format!("{}={} cargo run --release -- run --replay {shown}", crate::os::deviant::DEVIATE_ENV, d.name())
            }
            None => format!("cargo run --release -- run --replay {shown}"),
        },
        reproduced: None,
        replay_trace: Vec::new(),
    }
}

/// Runs one saved case once and concludes as [`check`] would.
pub fn replay<C, E>(
    rule: &str,
    property: &str,
    case: &serde_json::Value,
    run_case: impl Fn(&C) -> CaseReport<E>,
    cfg: &RunConfig,
) -> RuleOutcome
where
    C: Clone + Debug + Display + Serialize + DeserializeOwned,
    E: Display,
{
    let case: C = match serde_json::from_value(case.clone()) {
        Ok(c) => c,
        Err(e) => {
            return RuleOutcome::without_cases(
                rule,
                property,
                Verdict::Error,
                format!("the replay file's case does not fit {rule}: {e}"),
            )
        }
    };
    let strategy = proptest::strategy::Just(case);
    let mut cfg = cfg.clone();
    cfg.cases = Some(1);
    check_with(rule, property, strategy, run_case, &cfg, false)
}

/// Renders an outcome as the lines a person reads in a test's output.
pub fn render(outcome: &RuleOutcome) -> String {
    let mut out = format!(
        "{}: {} ({} cases; blocking evidence: {})",
        outcome.rule, outcome.verdict, outcome.cases, outcome.evidence
    );
    for (name, m) in &outcome.measured {
        out.push_str(&format!(
            "\n  measured {name}: {}",
            if m.min == m.max { m.min.to_string() } else { format!("{}..{}", m.min, m.max) }
        ));
    }
    if let Some(stale) = &outcome.stale_saved {
        out.push_str(&format!(
            "\n  stale saved failure: {} failing case(s) saved by an earlier run replayed and passed ({}; \
             remove it once the fix is confirmed)",
            stale.count, stale.file
        ));
    }
    if !outcome.entry_points_missed.is_empty() {
        out.push_str(&format!(
            "\n  entry points of the rule that no case went through: {}",
            outcome.entry_points_missed.join(", ")
        ));
    }
    if let Some(reason) = &outcome.reason {
        out.push_str(&format!("\n  {reason}"));
    }
    if let Some(cx) = &outcome.counterexample {
        render_counterexample(&mut out, cx, "  ");
    }
    for f in &outcome.findings {
        out.push_str(&format!(
            "\n  finding against {} (counts against that rule, not this one): {}: {}",
            f.rule, f.verdict, f.reason
        ));
        if let Some(cx) = &f.counterexample {
            render_counterexample(&mut out, cx, "    ");
        }
    }
    out
}

fn render_counterexample(out: &mut String, cx: &Counterexample, indent: &str) {
    out.push_str(&format!("\n{indent}minimal case:\n"));
    for line in &cx.schedule {
        out.push_str(&format!("{indent}  {line}\n"));
    }
    out.push_str(&format!("{indent}observed:\n"));
    for line in &cx.trace {
        out.push_str(&format!("{indent}  {line}\n"));
    }
    if let Some(r) = &cx.reproduced {
        out.push_str(&format!("{indent}reproduced: {r}\n"));
    }
    if !cx.replay_trace.is_empty() {
        out.push_str(&format!("{indent}a replay that did not reproduce it observed:\n"));
        for line in &cx.replay_trace {
            out.push_str(&format!("{indent}  {line}\n"));
        }
    }
    if !cx.replay_command.is_empty() {
        out.push_str(&format!("{indent}replay: {}", cx.replay_command));
    }
}
