//! The `shm` mechanism: shared memory between processes.
//!
//! Each rule family has a case type (data: serde, printed as numbered
//! steps), an executor that runs it through a [`crate::Session`] of real
//! actor processes, and a pure checker over the recorded events that names
//! the rule an observation breaks:
//!
//! - [`memory`]: stores, loads, `write(2)`/`read(2)`, unlink and fork
//!   exchanges over shared and private views of one object (the fork
//!   exchanges over private memory are judged by [`crate::process::private`]);
//! - [`sync`]: processes hammering shared counters, publication by
//!   release/acquire, a ring buffer, and waiting for a post;
//! - [`access`]: a shared-memory object's permission bits for another uid.
//!
//! The `process` rules live in [`crate::process`].

pub mod access;
pub mod memory;
pub mod name;
pub mod pshared;
pub mod ring;
pub mod rules;
pub mod sync;

use crate::observed::Observed;

pub use crate::checker::{Event, Violation};

/// An observation as people read it.
pub fn show(observed: &Observed) -> String {
    crate::checker::describe(observed)
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
    v.into()
}
