//! System V message queues: actors share one queue (by its id), send
//! messages of small positive types and receive them selecting by type.
//!
//! - this module: the case as data (the cast, then numbered steps);
//! - [`model`]: the reference model, which knows the queue exactly;
//! - [`exec`]: runs a case through the one case engine.

pub mod exec;
pub mod model;

use serde::{Deserialize, Serialize};
use std::fmt;

/// The largest message type a case sends (types 1 to this).
pub const MAX_TYPE: i64 = 5;

/// The longest text a case sends: small enough that every message a case
/// sends fits the smallest default queue (macOS: 2048 bytes).
pub const MAX_TEXT: u32 = 48;

/// One operation of a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// `msgsnd` of a message of type `mtype` (1 to [`MAX_TYPE`]) with a
    /// text of `len` bytes.
    Send { mtype: i64, len: u32 },
    /// `msgrcv` selecting by `msgtyp` into `max` bytes of text, with
    /// `IPC_NOWAIT` if `nowait`.
    Receive { msgtyp: i64, max: u32, nowait: bool },
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Send { mtype, len } => write!(f, "msgsnd type {mtype}, {len} bytes"),
            Op::Receive { msgtyp, max, nowait } => {
                write!(f, "msgrcv msgtyp {msgtyp} into {max} bytes{}", if *nowait { ", IPC_NOWAIT" } else { "" })
            }
        }
    }
}

/// One step.
pub type Step = crate::engine::Step<Op>;

/// A case: `actors` processes share one new queue, then the steps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MsgCase {
    /// Actors (1-3).
    pub actors: u8,
    /// What happens, in order.
    pub steps: Vec<Step>,
}

impl MsgCase {
    /// Whether the case is within range (a replay file may not be).
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=3).contains(&self.actors) {
            return Err(format!("{} actors; 1 to 3", self.actors));
        }
        if self.steps.len() > crate::case::MAX_STEPS {
            return Err(format!("{} steps; at most {}", self.steps.len(), crate::case::MAX_STEPS));
        }
        for (i, s) in self.steps.iter().enumerate() {
            let bad = match s.op {
                _ if s.actor >= self.actors => Some(format!("no actor {} in the cast", s.actor)),
                Op::Send { mtype, .. } if !(1..=MAX_TYPE).contains(&mtype) => {
                    Some(format!("message type {mtype}; 1 to {MAX_TYPE}"))
                }
                Op::Send { len, .. } if len > MAX_TEXT => Some(format!("a text of {len} bytes; at most {MAX_TEXT}")),
                Op::Receive { msgtyp, .. } if msgtyp.abs() > MAX_TYPE + 1 => {
                    Some(format!("msgtyp {msgtyp}; -{0} to {0}", MAX_TYPE + 1))
                }
                Op::Receive { max, .. } if max > 2 * MAX_TEXT => {
                    Some(format!("a buffer of {max} bytes; at most {}", 2 * MAX_TEXT))
                }
                _ => None,
            };
            if let Some(why) = bad {
                return Err(format!("step {}: {why}", i + 1));
            }
        }
        Ok(())
    }
}

impl fmt::Display for MsgCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "setup: a new System V message queue shared by {} actor(s)", self.actors)?;
        for (i, step) in self.steps.iter().enumerate() {
            writeln!(f, "{:>3}. actor {}: {}", i + 1, step.actor, step.op)?;
        }
        Ok(())
    }
}
