//! The checker's vocabulary, shared by every mechanism's reference model:
//! the events of a case, the violations that name a rule, the obligations
//! (pending operations that must now complete), and the [`Checker`] trait
//! the one step loop ([`crate::engine`]) drives.

use crate::case::CaseOutcome;
use crate::observed::Observed;
use crate::os::errno_name;
use crate::protocol::Reply;
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

/// A set of pending operations of which at least one must now complete
/// (one actor for a pipe or socket; for locks, every waiter that could be
/// granted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Obligation {
    /// The actors whose pending operation may be the one that completes.
    pub actors: Vec<u8>,
    /// The rule that demands it.
    pub rule: &'static str,
    /// Why, for the `hung` verdict.
    pub why: String,
}

impl Obligation {
    /// An obligation of one actor.
    pub fn of(actor: u8, rule: &'static str, why: impl Into<String>) -> Obligation {
        Obligation { actors: vec![actor], rule, why: why.into() }
    }
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

/// An event of a mechanism none of whose calls blocks: the issued step it
/// is (`None` for a step not issued); a completion breaks `rule`, since
/// nothing could have been pending.
pub fn immediate<'a, O>(
    event: &'a Event<O>,
    rule: &'static str,
) -> Result<Option<(&'a u8, &'a O, &'a Observed)>, Violation> {
    match event {
        Event::Step { actor, op, observed, .. } => Ok(Some((actor, op, observed))),
        Event::Skipped { .. } => Ok(None),
        Event::Completion { .. } => Err(violation(&[rule], "a completion, but no call here blocks".to_string())),
    }
}

/// One issued step, as a judge reads it.
#[derive(Clone, Copy, Debug)]
pub struct StepSeen<'a, O> {
    /// The step's number in the case.
    pub index: usize,
    /// The actor.
    pub actor: u8,
    /// The operation.
    pub op: &'a O,
    /// What the coordinator saw.
    pub observed: &'a Observed,
}

impl<O> Event<O> {
    /// Step `index` of `actor`: `op`, observed as `observed`.
    pub fn step(index: usize, actor: u8, op: O, observed: Observed) -> Event<O> {
        Event::Step { index, actor, op, observed }
    }

    /// The issued step this event records, if it records one.
    pub fn as_step(&self) -> Option<StepSeen<'_, O>> {
        match self {
            Event::Step { index, actor, op, observed } => Some(StepSeen { index: *index, actor: *actor, op, observed }),
            _ => None,
        }
    }

    /// What was observed, for a step or a completion.
    pub fn observed(&self) -> Option<&Observed> {
        match self {
            Event::Step { observed, .. } | Event::Completion { observed, .. } => Some(observed),
            Event::Skipped { .. } => None,
        }
    }
}

impl Violation {
    /// A violation of one rule.
    pub fn new(rule: &'static str, message: impl Into<String>) -> Violation {
        Violation { rules: vec![rule], message: message.into() }
    }

    /// The main rule it breaks.
    pub fn rule(&self) -> &'static str {
        self.rules.first().copied().unwrap_or("")
    }
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

/// `Ok` when `actor` is in no call (`pending[actor]` is `None`): the usual
/// [`Checker::can_issue`] of a model that keeps each actor's blocked call.
pub fn idle<T>(pending: &[Option<T>], actor: u8) -> Result<(), &'static str> {
    match pending.get(usize::from(actor)) {
        Some(None) => Ok(()),
        _ => Err("the actor is still blocked"),
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
                format!("received {} bytes{}", data.len(), if *truncated == Some(true) { " (MSG_TRUNC)" } else { "" })
            }
            Reply::Typed { mtype, data } => format!("received a message of type {mtype}, {} bytes", data.len()),
            Reply::Message { data, prio } => format!("received a message of {} bytes at priority {prio}", data.len()),
            Reply::Errno(e) => format!("failed with {}", errno_name(*e)),
            Reply::Filled { total, errno: None } => format!("took {total} bytes, then EAGAIN"),
            Reply::Filled { total, errno: Some(e) } => format!("took {total} bytes, then {}", errno_name(*e)),
            Reply::Done => "done".to_string(),
            Reply::Values(v) if v.len() > 8 => format!("{} values: {:?} ...", v.len(), &v[..8]),
            Reply::Values(v) => format!("{v:?}"),
            other => format!("{other:?}"),
        },
        Observed::Blocked(evidence) => format!("pending (blocked; {evidence})"),
        Observed::Died(death) => death.to_string(),
    }
}

/// A reference model as the engine drives it ([`crate::engine::drive`]).
pub trait Checker {
    /// The mechanism's operation type.
    type Op;
    /// Whether a step can be issued now; the reason to skip it if not.
    fn can_issue(&self, actor: u8, op: &Self::Op) -> Result<(), &'static str>;
    /// Applies one event, or names the rule it breaks.
    fn apply(&mut self, event: &Event<Self::Op>) -> Result<(), Violation>;
    /// The pending operations the rules say must complete now.
    fn obligations(&self) -> Vec<Obligation>;
    /// Quantities measured along the way, for the report (name, value).
    fn observations(&self) -> Vec<(String, u64)> {
        Vec::new()
    }
}
