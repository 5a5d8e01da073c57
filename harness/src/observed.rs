//! What the coordinator sees of one operation: it returned, it is blocked
//! (with evidence), or its actor died in a way the case allows. The models
//! judge these; anything else (no return within the deadline, a death the
//! schedule did not ask for) never reaches a model: the session turns it
//! into a [`crate::case::Stop`].

use crate::evidence::Evidence;
use crate::os;
use crate::protocol::Reply;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How an actor's process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Death {
    /// The exit code, when it exited.
    pub code: Option<i32>,
    /// The signal that ended it, when one did.
    pub signal: Option<i32>,
}

impl Death {
    /// A death by `signal`.
    pub fn by_signal(signal: i32) -> Death {
        Death { code: None, signal: Some(signal) }
    }

    /// An exit with `code`.
    pub fn exited(code: i32) -> Death {
        Death { code: Some(code), signal: None }
    }

    /// What an actor's own exit code means, where the engine gave it one.
    pub fn explain(&self) -> Option<&'static str> {
        match (self.code, self.signal) {
            (Some(70 | 74 | 75 | 78), None) => Some("its lifeline to the coordinator broke"),
            (Some(71..=73 | 76 | 77), None) => Some("its control channel broke"),
            (Some(101), None) => Some("it panicked"),
            (None, Some(libc::SIGKILL)) => Some("SIGKILL: an operator, the OOM killer, or a sandbox"),
            _ => None,
        }
    }
}

impl fmt::Display for Death {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.code, self.signal) {
            (_, Some(sig)) => write!(f, "killed by {}", os::signal_name(sig)),
            (Some(code), None) => write!(f, "exited with {code}"),
            (None, None) => f.write_str("ended"),
        }
    }
}

/// What the coordinator saw of one invoked operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Observed {
    /// It returned this reply.
    Returned(Reply),
    /// It is blocked; the evidence says how we know.
    Blocked(Evidence),
    /// Its actor died during it, as the case allows: the exit or kill the
    /// schedule asked for, or a signal the operation itself may raise
    /// (`SIGPIPE` for a write).
    Died(Death),
}

impl Observed {
    /// Whether this observation rests on a bounded wait alone (no view of
    /// the actor's thread): such an observation may move a case forward
    /// but never grounds a `fail` (see [`crate::checker`]).
    pub fn rests_on_timeout(&self) -> bool {
        matches!(self, Observed::Blocked(e) if e.kind() == crate::evidence::EvidenceKind::Timeout)
    }
}
