//! The result of running one case (one schedule) against the host.

use crate::evidence::EvidenceTally;
use crate::observed::Death;
use crate::session::Session;
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;

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

/// Why a case ended before its schedule did, other than by a deviation of
/// the host. Every executor propagates these with `?`; [`Stop::outcome`]
/// classifies them in this one place, so that no executor can turn a
/// missing return or a death it did not ask for into the host's `fail`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The engine itself broke (`error`): says nothing about the host.
    Harness(String),
    /// An actor died in a way the schedule did not ask for: a signal the
    /// engine did not send and the operation could not raise, or the
    /// actor's own exit (`error`, naming the actor, the death and what it
    /// was doing).
    Death {
        /// The actor.
        actor: usize,
        /// How it ended.
        death: Death,
        /// What it was doing (its operation in flight, or "between operations").
        during: String,
    },
    /// An operation that had to complete made no progress within the
    /// deadline (`hung`); the rule that demanded it, where known.
    Hung {
        /// The rule that demanded completion (`None`: the rule being checked).
        rule: Option<String>,
        /// What did not return, and the actor's wait state.
        message: String,
    },
    /// The harness's own channel (an actor's control socket or lifeline
    /// pipe) showed what breaks catalogue rules: the host's deviation,
    /// found on IPC the harness itself uses ([`crate::channel`]), judged as
    /// any other (`fail` once it reproduces).
    Channel {
        /// The rules it breaks.
        rules: Vec<String>,
        /// What was seen.
        message: String,
    },
    /// No positive evidence either way (`unresolved`).
    Unresolved(String),
    /// The platform lacks what the case needs (`unsupported`).
    Unsupported(String),
}

impl Stop {
    /// A harness error.
    pub fn harness(message: impl Into<String>) -> Stop {
        Stop::Harness(message.into())
    }

    /// A harness error from an I/O error, with what the engine was doing.
    pub fn io(what: impl fmt::Display, err: std::io::Error) -> Stop {
        Stop::Harness(format!("{what}: {err}"))
    }

    /// A hung operation, demanded by `rule` (or by the rule being checked).
    pub fn hung(rule: Option<&str>, message: impl Into<String>) -> Stop {
        Stop::Hung { rule: rule.map(str::to_string), message: message.into() }
    }

    /// Names the rule that demanded completion of a hung operation, and
    /// why, where the session could not know it.
    pub fn demanded_by(self, rule: &str, why: &str) -> Stop {
        match self {
            Stop::Hung { rule: None, message } => {
                Stop::Hung { rule: Some(rule.to_string()), message: format!("{why}, but {message}") }
            }
            other => other,
        }
    }

    /// Adds which step of the case was running.
    pub fn at(self, step: impl fmt::Display) -> Stop {
        match self {
            Stop::Harness(m) => Stop::Harness(format!("{step}: {m}")),
            Stop::Death { actor, death, during } => Stop::Death { actor, death, during: format!("{during} ({step})") },
            Stop::Hung { rule, message } => Stop::Hung { rule, message: format!("{step}: {message}") },
            Stop::Channel { rules, message } => Stop::Channel { rules, message: format!("{step}: {message}") },
            other => other,
        }
    }

    /// The case's outcome: the one classification of everything that is
    /// not the host's deviation.
    pub fn outcome(self) -> CaseOutcome {
        match self {
            Stop::Harness(m) => CaseOutcome::Error(format!("harness error: {m}")),
            death @ Stop::Death { .. } => CaseOutcome::Error(death.to_string()),
            Stop::Hung { rule, message } => CaseOutcome::Hung { rule, message },
            Stop::Channel { rules, message } => {
                CaseOutcome::Fail { rules, message: format!("on the harness's own channel: {message}") }
            }
            Stop::Unresolved(m) => CaseOutcome::Unresolved(m),
            Stop::Unsupported(m) => CaseOutcome::Unsupported(m),
        }
    }
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Harness(m) => write!(f, "harness error: {m}"),
            Stop::Death { actor, death, during } => {
                write!(f, "actor {actor} {death} {during}, which the schedule did not ask for")?;
                if let Some(why) = death.explain() {
                    write!(f, " ({why})")?;
                }
                f.write_str(": not a deviation of the host; the case did not run to its end")
            }
            Stop::Hung { rule: Some(r), message } => write!(f, "hung ({r}): {message}"),
            Stop::Hung { rule: None, message } => write!(f, "hung: {message}"),
            Stop::Channel { rules, message } => {
                write!(f, "{}: on the harness's own channel: {message}", rules.join(", "))
            }
            Stop::Unresolved(m) => write!(f, "unresolved: {m}"),
            Stop::Unsupported(m) => write!(f, "unsupported: {m}"),
        }
    }
}

impl std::error::Error for Stop {}

/// Runs one case in a fresh [`Session`]: `drive` gets the session and the
/// report to fill; whatever it concludes, the session is then audited for
/// deaths the schedule did not ask for (an actor killed from outside while
/// idle, found before its absence could be misread), which outrank any
/// other outcome, and the evidence is collected. Every actor ends before
/// this returns. The one way every executor runs a case.
pub fn run_in_session<E>(
    timing: Timing,
    drive: impl FnOnce(&mut Session, &mut CaseReport<E>) -> Result<CaseOutcome, Stop>,
) -> CaseReport<E> {
    let mut report = CaseReport::new();
    let mut session = Session::new(timing);
    let concluded = drive(&mut session, &mut report);
    report.outcome = match (session.audit(), concluded) {
        (Err(death), _) => death.outcome(),
        (Ok(()), Ok(outcome)) => outcome,
        (Ok(()), Err(stop)) => stop.outcome(),
    };
    report.evidence.merge(&session.evidence);
    drop(session);
    report
}

/// [`run_in_session`] with a fresh scratch directory, which is removed
/// after the session (every actor) has ended, however the case ended.
pub fn run_in_scratch<E>(
    timing: Timing,
    drive: impl FnOnce(&std::path::Path, &mut Session, &mut CaseReport<E>) -> Result<CaseOutcome, Stop>,
) -> CaseReport<E> {
    let scratch = match crate::scratch::Scratch::new() {
        Ok(s) => s,
        Err(e) => {
            let mut report = CaseReport::new();
            report.outcome = Stop::io("scratch directory", e).outcome();
            return report;
        }
    };
    let report = run_in_session(timing, |session, report| drive(scratch.path(), session, report));
    drop(scratch);
    report
}
