//! The checker's vocabulary, shared by every mechanism's reference model:
//! the events of a case, the violations that name a rule, the obligations
//! (pending operations that must now complete), and the two loops every
//! executor runs between steps: collect what has completed, and wait for
//! what must complete.

use crate::case::CaseOutcome;
use crate::os::errno_name;
use crate::protocol::Reply;
use crate::session::{ActorId, HarnessError, Observed, Session};
use serde::{Deserialize, Serialize};
use std::fmt;

/// An observed outcome that the rules do not allow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The rule ids the outcome breaks (the first is the main one).
    pub rules: Vec<&'static str>,
    /// What happened and what was allowed.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.rules.join(", "), self.message)
    }
}

impl From<Violation> for CaseOutcome {
    fn from(v: Violation) -> CaseOutcome {
        CaseOutcome::Fail { rules: v.rules.iter().map(|r| r.to_string()).collect(), message: v.message }
    }
}

/// A violation of `rules`.
pub fn violation(rules: &[&'static str], message: impl Into<String>) -> Violation {
    Violation { rules: rules.to_vec(), message: message.into() }
}

/// A pending operation that the rules say must now complete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Obligation {
    /// Whose operation.
    pub actor: u8,
    /// The rule that demands it.
    pub rule: &'static str,
    /// Why, for the `hung` verdict.
    pub why: String,
}

/// One thing that happened in a case, in the order the coordinator saw it;
/// `O` is the mechanism's operation type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event<O> {
    /// Step `index` was issued to `actor` and this was observed.
    Step { index: usize, actor: u8, op: O, observed: Observed },
    /// A pending operation of `actor` completed.
    Completion { actor: u8, observed: Observed },
    /// Step `index` was not issued (its actor was busy, dead, or no longer
    /// held what the step needs).
    Skipped { index: usize, actor: u8, op: O, why: String },
}

impl<O: fmt::Display> fmt::Display for Event<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Step { index, actor, op, observed } => {
                write!(f, "{:>3}. actor {actor}: {op} -> {}", index + 1, describe(observed))
            }
            Event::Completion { actor, observed } => {
                write!(f, "     actor {actor}: pending operation completes -> {}", describe(observed))
            }
            Event::Skipped { index, actor, op, why } => {
                write!(f, "{:>3}. actor {actor}: {op} -> skipped ({why})", index + 1)
            }
        }
    }
}

/// A short description of an observed outcome.
pub fn describe(observed: &Observed) -> String {
    match observed {
        Observed::Returned(reply) => match reply {
            Reply::Count(n) => format!("returned {n}"),
            Reply::Data(d) if d.is_empty() => "returned 0 bytes".to_string(),
            Reply::Data(d) => format!("returned {} bytes", d.len()),
            Reply::Received { data, truncated } => {
                format!("received {} bytes{}", data.len(), if *truncated { " (MSG_TRUNC)" } else { "" })
            }
            Reply::Errno(e) => format!("failed with {}", errno_name(*e)),
            Reply::Filled { total, errno: None } => format!("took {total} bytes, then EAGAIN"),
            Reply::Filled { total, errno: Some(e) } => format!("took {total} bytes, then {}", errno_name(*e)),
            Reply::Done => "done".to_string(),
            other => format!("{other:?}"),
        },
        Observed::Blocked(evidence) => format!("pending (blocked; {evidence})"),
        Observed::Died(death) => death.to_string(),
        Observed::NoReturn(Some(ws)) => format!("no return within the deadline ({ws})"),
        Observed::NoReturn(None) => "no return within the deadline".to_string(),
    }
}

/// A reference model as the executors drive it.
pub trait Checker {
    /// The mechanism's operation type.
    type Op;
    /// Applies one event, or names the rule it breaks.
    fn apply(&mut self, event: &Event<Self::Op>) -> Result<(), Violation>;
    /// The pending operations the rules say must complete now.
    fn obligations(&self) -> Vec<Obligation>;
}

fn completed<C: Checker>(
    checker: &mut C,
    events: &mut Vec<Event<C::Op>>,
    actor: u8,
    observed: Observed,
) -> Option<CaseOutcome>
where
    C::Op: Clone,
{
    let event = Event::Completion { actor, observed };
    let result = checker.apply(&event);
    events.push(event);
    result.err().map(CaseOutcome::from)
}

/// Feeds the checker every completion that has arrived, without waiting,
/// then [`settle`]s.
pub fn collect<C: Checker>(
    session: &mut Session,
    checker: &mut C,
    events: &mut Vec<Event<C::Op>>,
) -> Result<Option<CaseOutcome>, HarnessError>
where
    C::Op: Clone,
{
    for a in 0..session.pids().len() {
        let id = ActorId(a);
        if session.alive(id) && session.busy(id) {
            if let Some(observed) = session.poll(id)? {
                if let Some(outcome) = completed(checker, events, a as u8, observed) {
                    return Ok(Some(outcome));
                }
            }
        }
    }
    settle(session, checker, events)
}

/// Waits for every pending operation the checker says must complete, until
/// none is left; one that does not return within the deadline is `hung`,
/// with the rule that demanded it and the actor's wait state.
pub fn settle<C: Checker>(
    session: &mut Session,
    checker: &mut C,
    events: &mut Vec<Event<C::Op>>,
) -> Result<Option<CaseOutcome>, HarnessError>
where
    C::Op: Clone,
{
    loop {
        let Some(ob) = checker.obligations().into_iter().next() else { return Ok(None) };
        let id = ActorId(ob.actor as usize);
        if !session.busy(id) {
            return Err(HarnessError(format!(
                "model and session disagree: actor {} is not busy but {}",
                ob.actor, ob.why
            )));
        }
        match session.complete(id)? {
            Observed::NoReturn(ws) => {
                let state = ws.map(|w| w.to_string()).unwrap_or_else(|| "no wait state available".into());
                return Ok(Some(CaseOutcome::Hung {
                    rule: Some(ob.rule.to_string()),
                    message: format!(
                        "actor {}: {}, but it did not return within the deadline ({state})",
                        ob.actor, ob.why
                    ),
                }));
            }
            observed => {
                if let Some(outcome) = completed(checker, events, ob.actor, observed) {
                    return Ok(Some(outcome));
                }
            }
        }
    }
}
