//! The `shm` and `process` mechanisms: shared memory between processes
//! and the isolation of ordinary process memory and descriptors.
//!
//! Each rule family has a case type (data: serde, printed as numbered
//! steps), an executor that runs it through a [`crate::Session`] of real
//! actor processes, and a pure checker over the recorded events that names
//! the rule an observation breaks:
//!
//! - [`memory`]: stores, loads, `write(2)`/`read(2)`, unlink and fork
//!   exchanges over shared and private views of one object;
//! - [`sync`]: processes hammering shared counters, publication by
//!   release/acquire, a ring buffer, and waiting for a post;
//! - [`access`]: permissions of a shared-memory object and another user's
//!   process memory, for a second uid;
//! - [`inherit`]: descriptors inherited across spawn.

pub mod access;
pub mod inherit;
pub mod memory;
pub mod name;
pub mod ring;
pub mod rules;
pub mod sync;

use crate::observed::Observed;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An observation that breaks a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The rule broken.
    pub rule: &'static str,
    /// What happened and what was allowed.
    pub message: String,
}

impl Violation {
    /// A violation of `rule`.
    pub fn new(rule: &'static str, message: impl Into<String>) -> Violation {
        Violation { rule, message: message.into() }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.rule, self.message)
    }
}

/// One recorded step: which actor did what, and what came back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event<Op> {
    /// The step's number in the case (setup steps included).
    pub index: usize,
    /// The actor.
    pub actor: u8,
    /// The operation, as the case describes it.
    pub op: Op,
    /// What the coordinator saw.
    pub observed: Observed,
}

impl<Op: fmt::Display> fmt::Display for Event<Op> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>3}. actor {}: {} -> {}", self.index + 1, self.actor, self.op, show(&self.observed))
    }
}

/// An observation as people read it.
pub fn show(observed: &Observed) -> String {
    use crate::protocol::Reply;
    match observed {
        Observed::Returned(Reply::Errno(e)) => crate::os::errno_name(*e),
        Observed::Returned(Reply::Values(v)) if v.len() > 8 => {
            format!("{} values: {:?} ...", v.len(), &v[..8])
        }
        Observed::Returned(Reply::Values(v)) => format!("{v:?}"),
        Observed::Returned(r) => format!("{r:?}"),
        Observed::Blocked(e) => format!("blocked ({e})"),
        Observed::Died(d) => format!("died: {d}"),
    }
}

/// The single value of a `Values` reply.
pub fn one_value(observed: &Observed) -> Option<u64> {
    match observed {
        Observed::Returned(crate::protocol::Reply::Values(v)) if v.len() == 1 => Some(v[0] as u64),
        _ => None,
    }
}

/// The outcome for a violation.
pub fn fail(v: Violation) -> crate::CaseOutcome {
    crate::CaseOutcome::Fail { rules: vec![v.rule.to_string()], message: v.message }
}
