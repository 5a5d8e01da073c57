//! The result of running one case (one schedule) against the host.

use crate::evidence::EvidenceTally;
use serde::{Deserialize, Serialize};

/// How one case ended. A harness failure is its own outcome, never a
/// deviation of the host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CaseOutcome {
    /// Every observation was allowed.
    Pass,
    /// An observation broke these rules.
    Fail { rules: Vec<String>, message: String },
    /// An operation that had to complete did not, within the deadline.
    Hung { rule: Option<String>, message: String },
    /// No evidence either way.
    Unresolved(String),
    /// The platform does not offer what the case needs.
    Unsupported(String),
    /// The engine itself broke.
    Error(String),
}

/// The largest size (bytes) a replayed case may ask one operation to move:
/// generated cases stay far below it; a hand-edited replay file above it is
/// refused instead of exhausting memory.
pub const MAX_OP_BYTES: u64 = 1 << 24;

/// The most steps a case may have.
pub const MAX_STEPS: usize = 10_000;

/// A report for a case that is refused before running (out of range).
pub fn refused<E>(why: String) -> CaseReport<E> {
    let mut report = CaseReport::new();
    report.outcome = CaseOutcome::Error(format!("the case is out of range: {why}"));
    report
}

/// What running a case produced.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CaseReport<E> {
    /// The events in the order the coordinator saw them.
    pub events: Vec<E>,
    /// How it ended.
    pub outcome: CaseOutcome,
    /// The "blocked" observations, by kind of evidence.
    pub evidence: EvidenceTally,
    /// Measurements worth reporting (name, value), e.g. a capacity.
    pub observations: Vec<(String, u64)>,
}

impl<E> CaseReport<E> {
    /// An empty report that passes.
    pub fn new() -> Self {
        CaseReport {
            events: Vec::new(),
            outcome: CaseOutcome::Pass,
            evidence: EvidenceTally::default(),
            observations: Vec::new(),
        }
    }
}

impl<E> Default for CaseReport<E> {
    fn default() -> Self {
        Self::new()
    }
}
