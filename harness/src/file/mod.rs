//! Files as IPC: traceable versions ([`version`]), lock schedules and
//! their reference model ([`locks`]), the concurrent cases with their
//! judges ([`race`]), and the executors that run both against the host in
//! a per-case scratch directory ([`exec`]).

pub mod exec;
pub mod locks;
pub mod race;
pub mod rules;
pub mod version;

pub use locks::{LockEvent, LockModel, LockOp, LockSchedule, LockStep, Obligation, Violation};
