//! Sockets: connected pairs (schedules, the reference model, the
//! executor: [`pair`]), and one scenario per rule beyond a pair, each with
//! its case type, its judges and its executor: [`server`], [`udp`],
//! [`rights`], [`perms`].

mod kit;
pub mod pair;
pub mod perms;
pub mod rights;
pub mod rules;
pub mod server;
pub mod udp;
