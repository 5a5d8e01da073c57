//! The spec-to-test report: what a run concluded, rule by rule, in the
//! machine contract (`report.json`, see [`Report`]), for people
//! (`report.md`) and for CI systems (`report.xml`, JUnit); and the matrix
//! that merges reports from several platforms.

mod junit;
mod markdown;
mod merge;

pub use merge::merge_markdown;

use crate::constants::Constants;
use crate::evidence::EvidenceProbe;
use crate::runner::{Counterexample, Measured, RuleOutcome};
use crate::verdict::Verdict;
use ipc_conform_spec::{Expectation, Platform, Rule};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The platform a report was made on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformInfo {
    /// `linux`, `macos`, ...
    pub os: String,
    /// The kernel release (`uname -r`).
    pub kernel: String,
    /// The architecture (`x86_64`, `aarch64`).
    pub arch: String,
    /// The constants measured at start.
    pub constants: Constants,
    /// The evidence levels probed at start, and the one the run used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<EvidenceProbe>,
    /// The interface the host was checked through: the C library's name
    /// and version, or `raw-syscalls` ([`crate::os::interface`]).
    #[serde(default)]
    pub interface: String,
}

impl PlatformInfo {
    /// This host, with the given measured constants and probed evidence.
    pub fn current(constants: &Constants, evidence: &EvidenceProbe) -> PlatformInfo {
        let uname = rustix::system::uname();
        PlatformInfo {
            os: std::env::consts::OS.to_string(),
            kernel: uname.release().to_string_lossy().into_owned(),
            arch: std::env::consts::ARCH.to_string(),
            constants: constants.clone(),
            evidence: Some(evidence.clone()),
            interface: crate::os::interface::checked(),
        }
    }
}

/// A rule's source, as the catalogue gives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceEntry {
    /// The seed section.
    pub seed: String,
    /// POSIX and man-page references.
    pub refs: Vec<String>,
}

/// What the catalogue declares for this platform.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectationEntry {
    /// `holds` or `not-applicable`.
    pub expect: String,
    /// A documented platform difference, or why the rule does not apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// How blocking was confirmed for a rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceEntry {
    /// The weakest kind any verdict rested on (`proc`, `thread-state`,
    /// `timeout`), or `none` when no "blocked" was observed.
    pub kind: String,
    /// "Blocked" observations confirmed from `/proc` (call and descriptor).
    pub proc: u64,
    /// ... from the wait channel.
    #[serde(default)]
    pub wchan: u64,
    /// ... from the thread run state.
    #[serde(rename = "thread-state")]
    pub thread_state: u64,
    /// ... assumed after a bounded wait.
    pub timeout: u64,
}

/// One rule's entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleEntry {
    /// The stable id.
    pub id: String,
    /// The mechanism.
    pub mechanism: String,
    /// A short title.
    pub title: String,
    /// The rule in the project's words.
    pub statement: String,
    /// Where it comes from.
    pub source: SourceEntry,
    /// What the catalogue declares for this platform.
    pub expectation: ExpectationEntry,
    /// The verdict.
    pub verdict: Verdict,
    /// Why, for anything but pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The properties (tests) that check it.
    pub properties: Vec<String>,
    /// Cases run.
    pub cases: u64,
    /// How blocking was confirmed.
    pub evidence: EvidenceEntry,
    /// Quantities measured while checking it.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub measured: BTreeMap<String, Measured>,
    /// The minimal failing case and its replay command, for a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterexample: Option<Counterexample>,
    /// The entry points the statement covers, and which the cases used.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub entry_points: Option<EntryPoints>,
    /// Failing cases saved by an earlier run that passed this time.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stale_saved: Option<crate::runner::StaleSaved>,
    /// Wall time.
    pub duration_ms: u64,
}

/// A rule's entry points in a run: those its statement covers (the
/// catalogue's `entry_points`), how many cases went through each, those
/// none did, and those this platform lacks (the catalogue's `lacks`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryPoints {
    /// Cases that went through each entry point (also any the statement
    /// does not name).
    pub used: BTreeMap<String, u64>,
    /// Entry points of the rule on this platform that no case went through.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missed: Vec<String>,
    /// Entry points of the rule this platform does not have.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lacking: Vec<String>,
}

fn entry_points(rule: &Rule, outcome: &RuleOutcome, current: Option<Platform>) -> Option<EntryPoints> {
    let prefix = crate::engine::ENTRY_POINT_OBSERVED;
    let used: BTreeMap<String, u64> = outcome
        .measured
        .iter()
        .filter_map(|(name, m)| name.strip_prefix(prefix).map(|e| (e.to_string(), m.count)))
        .collect();
    let on: Vec<&str> = current.map(|p| rule.entry_points_on(p)).unwrap_or_default();
    let lacking: Vec<String> =
        rule.entry_points.iter().filter(|e| current.is_some() && !on.contains(&e.as_str())).cloned().collect();
    let missed = outcome.entry_points_missed.clone();
    // Nothing counted (no case ran, or the rule names no entry point).
    if used.is_empty() && missed.is_empty() && lacking.is_empty() {
        return None;
    }
    Some(EntryPoints { used, missed, lacking })
}

/// An observation: a quantity reported apart from verdicts (how often
/// unsynchronized increments lost updates, how often an in-place rewrite
/// was read torn, a measured capacity).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservationEntry {
    /// The rule it was measured under.
    pub rule: String,
    /// What was measured.
    pub name: String,
    /// Cases that measured it.
    pub count: u64,
    /// The sum over those cases.
    pub sum: u64,
    /// Smallest value in one case.
    pub min: u64,
    /// Largest value in one case.
    pub max: u64,
}

/// A whole report: the machine contract of `report.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always `ipc-conform`.
    pub tool: String,
    /// The tool's version.
    pub version: String,
    /// Where it ran.
    pub platform: PlatformInfo,
    /// When the run started (UTC, RFC 3339).
    pub started: String,
    /// How long it took.
    pub duration_ms: u64,
    /// The run's seed (repeat a run with `--seed`).
    pub seed: String,
    /// Verdict counts, every verdict present.
    pub summary: BTreeMap<Verdict, u64>,
    /// One entry per rule checked, in catalogue order.
    pub rules: Vec<RuleEntry>,
    /// Quantities observed, apart from verdicts.
    pub observations: Vec<ObservationEntry>,
}

fn expectation(rule: &Rule, platform: Option<Platform>) -> ExpectationEntry {
    match platform.map(|p| rule.expectation(p)) {
        Some(Expectation::NotApplicable { reason }) => {
            ExpectationEntry { expect: "not-applicable".into(), note: Some(reason.clone()) }
        }
        Some(Expectation::Holds { note, .. }) => ExpectationEntry { expect: "holds".into(), note: note.clone() },
        None => ExpectationEntry { expect: "holds".into(), note: Some("no expectations for this platform".into()) },
    }
}

fn evidence(outcome: &RuleOutcome) -> EvidenceEntry {
    let e = &outcome.evidence;
    let kind = e.weakest().map_or("none", |k| k.as_str());
    EvidenceEntry { kind: kind.into(), proc: e.proc, wchan: e.wchan, thread_state: e.thread_state, timeout: e.timeout }
}

impl Report {
    /// Builds a report from the rules checked and their outcomes (in the
    /// same order), with the properties that check each rule.
    pub fn build(
        checked: &[(&Rule, RuleOutcome, Vec<String>)],
        platform: PlatformInfo,
        started: std::time::SystemTime,
        duration_ms: u64,
        seed: u64,
    ) -> Report {
        let current = Platform::current();
        let mut summary: BTreeMap<Verdict, u64> = Verdict::ALL.iter().map(|v| (*v, 0)).collect();
        let mut observations = Vec::new();
        let rules = checked
            .iter()
            .map(|(rule, outcome, properties)| {
                *summary.entry(outcome.verdict).or_insert(0) += 1;
                for (name, m) in &outcome.measured {
                    if name.starts_with(crate::engine::ENTRY_POINT_OBSERVED) {
                        continue; // in the rule's entry points instead
                    }
                    observations.push(ObservationEntry {
                        rule: rule.id.clone(),
                        name: name.clone(),
                        count: m.count,
                        sum: m.sum,
                        min: m.min,
                        max: m.max,
                    });
                }
                RuleEntry {
                    id: rule.id.clone(),
                    mechanism: rule.mechanism.as_str().to_string(),
                    title: rule.title.clone(),
                    statement: rule.statement.clone(),
                    source: SourceEntry { seed: rule.source.seed.clone(), refs: rule.source.refs.clone() },
                    expectation: expectation(rule, current),
                    verdict: outcome.verdict,
                    reason: outcome.reason.clone(),
                    properties: properties.clone(),
                    cases: outcome.cases,
                    evidence: evidence(outcome),
                    measured: outcome.measured.clone(),
                    counterexample: outcome.counterexample.clone(),
                    entry_points: entry_points(rule, outcome, current),
                    stale_saved: outcome.stale_saved.clone(),
                    duration_ms: outcome.duration_ms,
                }
            })
            .collect();
        Report {
            tool: "ipc-conform".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            platform,
            started: rfc3339(started),
            duration_ms,
            seed: format!("{seed:#x}"),
            summary,
            rules,
            observations,
        }
    }

    /// `report.json`.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// Reads a `report.json`.
    pub fn from_json(text: &str) -> Result<Report, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    /// `report.md`.
    pub fn to_markdown(&self) -> String {
        markdown::render(self)
    }

    /// `summary.md`: the compact summary for a CI step summary.
    pub fn to_summary(&self) -> String {
        markdown::render_summary(self)
    }

    /// `report.xml` (JUnit).
    pub fn to_junit(&self) -> String {
        junit::render(self)
    }

    /// The exit code this report calls for: 0 when every rule passed or is
    /// unsupported here, 2 on a harness error, else 1.
    pub fn exit_code(&self) -> i32 {
        let count = |v: Verdict| self.summary.get(&v).copied().unwrap_or(0);
        if count(Verdict::Error) > 0 {
            2
        } else if Verdict::ALL.iter().any(|v| !v.is_ok() && count(*v) > 0) {
            1
        } else {
            0
        }
    }

    /// Writes `report.json`, `report.md`, `report.xml` and `summary.md` into `dir`.
    pub fn write(&self, dir: &std::path::Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("report.json"), self.to_json())?;
        std::fs::write(dir.join("report.md"), self.to_markdown())?;
        std::fs::write(dir.join("report.xml"), self.to_junit())?;
        std::fs::write(dir.join("summary.md"), self.to_summary())?;
        Ok(())
    }
}

/// A time as RFC 3339 UTC (`2026-11-26T08:45:00Z`), without a date crate.
pub fn rfc3339(t: std::time::SystemTime) -> String {
    let secs = t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_known_instants() {
        let at = |s: u64| std::time::UNIX_EPOCH + std::time::Duration::from_secs(s);
        assert_eq!(rfc3339(at(0)), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(at(951_782_400)), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(at(1_795_683_900)), "2026-11-26T09:05:00Z");
    }
}
