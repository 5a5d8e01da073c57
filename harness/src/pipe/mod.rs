//! Pipes: schedules, the reference model (the checker), and the executor
//! that runs schedules against the host.

pub mod creator;
pub mod exec;
pub mod fifo;
pub mod model;
pub mod rules;
pub mod schedule;

pub use model::{Event, Obligation, PipeModel, Violation};
pub use schedule::{Creator, End, Op, PipeSchedule, Setup, Step};
