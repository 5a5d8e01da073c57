//! The `ready` mechanism: what poll, select, epoll and kqueue report about
//! the ends of a pipe or FIFO (and of sockets: [`socket`]), judged against
//! what a read or write would do at that moment.
//!
//! - [`schedule`]: the cast (writers and readers of one pipe, every end
//!   non-blocking) and the steps: writes, reads, fills, closes, probes of
//!   one or several interfaces, registrations and asks of them;
//! - [`model`]: the reference model, which knows the pipe's contents
//!   exactly and judges every answer;
//! - [`exec`]: runs a schedule through the one case engine.
//!
//! The interfaces themselves are in [`crate::os::ready`]; unix stream
//! sockets and listeners have their own cast, model and executor in
//! [`socket`].

pub mod exec;
pub mod model;
pub mod rules;
pub mod schedule;
pub mod socket;

pub use model::ReadyModel;
pub use schedule::{Op, ReadySchedule, Setup, Step};
