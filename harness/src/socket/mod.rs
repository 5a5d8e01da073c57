//! Sockets: connected pairs (schedules, the reference model, the
//! executor: [`pair`]), and one scenario per rule beyond a pair, each with
//! its case type, its judges and its executor: [`server`], [`udp`],
//! [`rights`], [`truncated`], [`in_flight`], [`perms`], [`peercred`],
//! [`abstract_name`], and TCP's lifecycle: [`tcp`].

pub mod abstract_name;
pub mod in_flight;
mod kit;
pub mod pair;
pub mod peercred;
pub mod perms;
pub mod rights;
pub mod rules;
pub mod server;
pub mod tcp;
pub mod truncated;
pub mod udp;
