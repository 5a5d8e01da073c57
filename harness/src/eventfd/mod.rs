//! The `eventfd` mechanism (Linux): actors sharing one event counter add
//! to it and take from it (`eventfd.counter`).
//!
//! - this module: the case as data (the counter's flags and start value,
//!   then numbered steps);
//! - [`model`]: the reference model, which knows the counter exactly;
//! - [`exec`]: runs a case through the one case engine.

pub mod exec;
pub mod model;

use serde::{Deserialize, Serialize};
use std::fmt;

/// The ids of the eventfd rules (`spec/rules/eventfd.toml`).
pub mod rules {
    use ipc_conform_spec::ids;

    /// Reads take the sum (or 1); empty reads and overflowing writes block.
    pub const COUNTER: &str = ids::EVENTFD_COUNTER;
}

/// The largest value the counter holds.
pub const MAX: u64 = u64::MAX - 1;

/// One operation of a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// An 8-byte write of this value.
    Write(u64),
    /// An 8-byte read.
    Read,
    /// A read into a 4-byte buffer (must fail with EINVAL).
    ReadShort,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Write(v) => write!(f, "write {v:#x}"),
            Op::Read => f.write_str("read 8 bytes"),
            Op::ReadShort => f.write_str("read into a 4-byte buffer"),
        }
    }
}

/// One step.
pub type Step = crate::engine::Step<Op>;

/// A case: `actors` processes share one eventfd made with these flags
/// and start value, then the steps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventfdCase {
    /// Actors sharing the counter (1-3).
    pub actors: u8,
    /// The counter's start value.
    pub initval: u32,
    /// `EFD_SEMAPHORE`.
    pub semaphore: bool,
    /// `EFD_NONBLOCK`.
    pub nonblock: bool,
    /// What happens, in order.
    pub steps: Vec<Step>,
}

impl EventfdCase {
    /// Whether the case is within range (a replay file may not be).
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=3).contains(&self.actors) {
            return Err(format!("{} actors; 1 to 3", self.actors));
        }
        if self.steps.len() > crate::case::MAX_STEPS {
            return Err(format!("{} steps; at most {}", self.steps.len(), crate::case::MAX_STEPS));
        }
        match self.steps.iter().position(|s| s.actor >= self.actors) {
            Some(i) => Err(format!("step {}: no actor {} in the cast", i + 1, self.steps[i].actor)),
            None => Ok(()),
        }
    }
}

impl fmt::Display for EventfdCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "setup: eventfd({}, {}{}) shared by {} actor(s)",
            self.initval,
            if self.semaphore { "EFD_SEMAPHORE" } else { "0" },
            if self.nonblock { " | EFD_NONBLOCK" } else { "" },
            self.actors
        )?;
        for (i, step) in self.steps.iter().enumerate() {
            writeln!(f, "{:>3}. actor {}: {}", i + 1, step.actor, step.op)?;
        }
        Ok(())
    }
}
