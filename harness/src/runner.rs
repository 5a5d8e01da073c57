//! The runner: proptest around a property. It generates cases, runs each
//! against the host, stops at the first deviation and shrinks it to a
//! minimal case, which it prints as numbered steps, persists, and offers to
//! replay with one command. Hung, harness errors and unresolved cases stop
//! the rule without shrinking (they are not the host's deviation to
//! minimise). `cargo test` and `ipc-conform run` both come through here, so
//! a verdict cannot differ between them.

use crate::case::{CaseOutcome, CaseReport};
use crate::constants::Constants;
use crate::evidence::EvidenceTally;
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
}

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
    /// workspace, constants measured now.
    pub fn from_env() -> Result<RunConfig, String> {
        let timing = Timing::from_env()?;
        let seed = match std::env::var("IPC_CONFORM_SEED") {
            Ok(s) => parse_seed(&s).map_err(|e| format!("IPC_CONFORM_SEED: {e}"))?,
            Err(_) => fresh_seed(),
        };
        let out_dir = std::env::var_os("IPC_CONFORM_OUT").map(PathBuf::from).unwrap_or_else(default_out_dir);
        let constants = Constants::host()?.clone();
        Ok(RunConfig {
            cases: None,
            seed,
            timing,
            out_dir,
            constants,
            progress: Progress::default(),
            max_shrink_iters: None,
        })
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
}

impl RuleOutcome {
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

#[derive(Default)]
struct Tally {
    cases: u64,
    evidence: EvidenceTally,
    measured: BTreeMap<String, Measured>,
    /// The first hung, error, unresolved or unsupported case: ends the rule.
    stop: Option<(Verdict, String, Vec<String>)>,
    /// The latest failing case (the smallest, once shrinking is over).
    failing: Option<(String, serde_json::Value, Vec<String>, Vec<String>)>,
}

impl Tally {
    fn absorb<E: Display>(&mut self, report: &CaseReport<E>) {
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

fn non_pass(outcome: &CaseOutcome) -> Option<(Verdict, String)> {
    match outcome {
        CaseOutcome::Pass => None,
        CaseOutcome::Fail { rules, message } => Some((Verdict::Fail, format!("{}: {message}", rules.join(", ")))),
        CaseOutcome::Hung { rule: Some(r), message } => Some((Verdict::Hung, format!("{r}: {message}"))),
        CaseOutcome::Hung { rule: None, message } => Some((Verdict::Hung, message.clone())),
        CaseOutcome::Unresolved(m) => Some((Verdict::Unresolved, m.clone())),
        CaseOutcome::Unsupported(m) => Some((Verdict::Unsupported, m.clone())),
        CaseOutcome::Error(m) => Some((Verdict::Error, format!("harness error: {m}"))),
    }
}

fn rule_seed(seed: u64, rule: &str) -> [u8; 32] {
    // FNV-1a over the rule id, mixed with the run seed: each rule gets its
    // own stream, unchanged by which other rules run.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in rule.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut out = [0u8; 32];
    for (i, chunk) in out.chunks_mut(8).enumerate() {
        let v = (seed ^ h).rotate_left(i as u32 * 17).wrapping_mul(0x9e37_79b9_7f4a_7c15 ^ i as u64);
        chunk.copy_from_slice(&v.to_le_bytes());
    }
    out
}

fn proptest_config(cfg: &RunConfig, rule: &str) -> Config {
    let mut config = Config::default();
    if let Some(cases) = cfg.cases {
        config.cases = cases;
    } else if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = DEFAULT_CASES;
    }
    if let Some(n) = cfg.max_shrink_iters {
        config.max_shrink_iters = n;
    } else if std::env::var_os("PROPTEST_MAX_SHRINK_ITERS").is_none() {
        config.max_shrink_iters = 512;
    }
    let path = cfg.out_dir.join("regressions").join(format!("{rule}.txt"));
    let _ = std::fs::create_dir_all(cfg.out_dir.join("regressions"));
    let path: &'static str = Box::leak(path.to_string_lossy().into_owned().into_boxed_str());
    config.failure_persistence = Some(Box::new(FileFailurePersistence::Direct(path)));
    config
}

/// Checks `rule` with `property`: runs generated cases until one deviates
/// (then shrinks it) or all pass.
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
    let start = Instant::now();
    let tally = RefCell::new(Tally::default());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &rule_seed(cfg.seed, rule));
    let mut runner = TestRunner::new_with_rng(proptest_config(cfg, rule), rng);
    let _ = runner.run(&strategy, |case| {
        if tally.borrow().stop.is_some() {
            return Ok(());
        }
        let report = run_case(&case);
        let mut t = tally.borrow_mut();
        t.absorb(&report);
        cfg.progress.tell(rule, t.cases);
        match non_pass(&report.outcome) {
            None => Ok(()),
            Some((Verdict::Fail, reason)) => {
                let json = serde_json::to_value(&case).unwrap_or(serde_json::Value::Null);
                let trace = report.events.iter().map(|e| e.to_string()).collect();
                t.failing = Some((reason.clone(), json, lines(&case), trace));
                Err(TestCaseError::fail(reason))
            }
            Some((verdict, reason)) => {
                // While shrinking a failure, a smaller case that hangs or
                // breaks the harness simply does not reproduce it.
                if t.failing.is_none() {
                    let trace = report.events.iter().map(|e| e.to_string()).collect();
                    t.stop = Some((verdict, reason, trace));
                }
                Ok(())
            }
        }
    });
    let t = tally.into_inner();
    let mut outcome = RuleOutcome {
        rule: rule.to_string(),
        property: property.to_string(),
        verdict: Verdict::Pass,
        reason: None,
        cases: t.cases,
        evidence: t.evidence,
        counterexample: None,
        measured: t.measured,
        duration_ms: 0,
    };
    if let Some((reason, json, schedule, trace)) = t.failing {
        outcome.verdict = Verdict::Fail;
        outcome.reason = Some(reason);
        outcome.counterexample = Some(save_counterexample(cfg, rule, property, json, schedule, trace));
    } else if let Some((verdict, reason, trace)) = t.stop {
        outcome.verdict = verdict;
        outcome.reason = Some(match trace.is_empty() {
            true => reason,
            false => format!("{reason}\n  trace:\n    {}", trace.join("\n    ")),
        });
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
        replay_command: format!("cargo run --release -- run --replay {shown}"),
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
    check(rule, property, strategy, run_case, &cfg)
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
    if let Some(reason) = &outcome.reason {
        out.push_str(&format!("\n  {reason}"));
    }
    if let Some(cx) = &outcome.counterexample {
        out.push_str("\n  minimal case:\n");
        for line in &cx.schedule {
            out.push_str(&format!("    {line}\n"));
        }
        out.push_str("  observed:\n");
        for line in &cx.trace {
            out.push_str(&format!("    {line}\n"));
        }
        out.push_str(&format!("  replay: {}", cx.replay_command));
    }
    out
}
