//! Sockets: connected pairs (schedules, the reference model, the
//! executor), and the scenarios of servers, UDP, descriptor passing and
//! path permissions.

pub mod pair;
pub mod rules;
pub mod scenarios;
