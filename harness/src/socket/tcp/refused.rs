//! `socket.tcp.refused`: a connect to a port of 127.0.0.1 that nobody
//! listens on (its listener closed) fails with ECONNREFUSED: at once when
//! blocking; through a non-blocking socket at once or as EINPROGRESS, then
//! SO_ERROR, once.

use super::unlistened_port;
use crate::case::Stop;
use crate::case::{CaseOutcome, CaseReport};
use crate::checker::{describe, Violation};
use crate::os::errno_name;
use crate::os::ready::{Interest, Interface};
use crate::protocol::ready::ReadyOp;
use crate::protocol::socket::SocketOp;
use crate::protocol::Request;
use crate::session::Session;
use crate::socket::kit::{run_with, sock, values};
use crate::socket::rules;
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A port nobody listens on, and connection attempts to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedCase {
    /// One attempt per entry, each through a new socket: non-blocking or not.
    pub attempts: Vec<bool>,
}

impl fmt::Display for RefusedCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  1. holder: listen on 127.0.0.1, connect to itself, accept, close the listener (the connection keeps the port)")?;
        for (i, nonblocking) in self.attempts.iter().enumerate() {
            if *nonblocking {
                writeln!(f, "  {}. client: non-blocking connect to the port; if EINPROGRESS, poll for writable, then SO_ERROR twice", i + 2)?;
            } else {
                writeln!(f, "  {}. client: blocking connect to the port", i + 2)?;
            }
        }
        Ok(())
    }
}

/// What one attempt showed: the connect's errno (0: it connected), and,
/// after EINPROGRESS, the two readings of SO_ERROR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// Through a non-blocking socket.
    pub nonblocking: bool,
    /// What connect gave (0: success).
    pub connect: i32,
    /// SO_ERROR read once the socket was writable, then read again.
    pub so_error: Option<(i32, i32)>,
}

/// The judge of one attempt to connect where nobody listens.
pub fn judge_attempt(a: &Attempt) -> Result<(), Violation> {
    let err = |why: String| Err(Violation::new(rules::TCP_REFUSED, why));
    let refused = libc::ECONNREFUSED;
    match (a.nonblocking, a.connect, a.so_error) {
        (_, e, None) if e == refused => Ok(()),
        (true, e, Some((first, second))) if e == libc::EINPROGRESS => {
            if first != refused {
                return err(format!("a non-blocking connect to a port nobody listens on gave EINPROGRESS, and once writable SO_ERROR said {}; allowed: ECONNREFUSED", name(first)));
            }
            if second != 0 {
                return err(format!(
                    "SO_ERROR read ECONNREFUSED, then {} at once: reading SO_ERROR clears it (allowed: 0)",
                    name(second)
                ));
            }
            Ok(())
        }
        (true, e, _) => err(format!(
            "a non-blocking connect to a port nobody listens on {}; allowed: ECONNREFUSED, or EINPROGRESS then SO_ERROR ECONNREFUSED",
            name(e)
        )),
        (false, e, _) => {
            err(format!("a blocking connect to a port nobody listens on {}; allowed: ECONNREFUSED", name(e)))
        }
    }
}

fn name(errno: i32) -> String {
    if errno == 0 {
        "succeeded".into()
    } else {
        format!("failed with {}", errno_name(errno))
    }
}

/// Runs a refusal case.
pub fn run_refused(case: &RefusedCase, timing: Timing) -> CaseReport<String> {
    if case.attempts.is_empty() || case.attempts.len() > 8 {
        return crate::case::refused(format!("{} attempts; 1 to 8", case.attempts.len()));
    }
    run_with(timing, |session, log| drive(case, session, log))
}

fn drive(case: &RefusedCase, session: &mut Session, log: &mut Vec<String>) -> Result<CaseOutcome, Stop> {
    let (holder, client) = (session.spawn()?, session.spawn()?);
    let port = match unlistened_port(session, holder)? {
        Ok(port) => port,
        Err(outcome) => return Ok(outcome),
    };
    log.push(format!("nobody listens on 127.0.0.1:{port}"));
    for &nonblocking in &case.attempts {
        let why = "a connect to a port nobody listens on must return (refused, or in progress)";
        let obs = session
            .call(client, &sock(SocketOp::ConnectTcpAttempt { port, nonblocking }))
            .map_err(|s| s.demanded_by(rules::TCP_REFUSED, why))?;
        let Some(&[slot, _, connect]) = values(&obs) else {
            return Err(Stop::harness(format!("a TCP socket to connect: {}", describe(&obs))));
        };
        let slot = slot as u32;
        let mut attempt = Attempt { nonblocking, connect: connect as i32, so_error: None };
        if nonblocking && attempt.connect == libc::EINPROGRESS {
            let wait = Request::Ready(ReadyOp::Wait { slot, how: Interface::Poll, interest: Interest::Write });
            session.call(client, &wait).map_err(|s| {
                s.demanded_by(rules::TCP_REFUSED, "a refused connection attempt must end, the socket becoming writable")
            })?;
            let mut take = || -> Result<i32, Stop> {
                let obs = session.call(client, &sock(SocketOp::TakeError { slot }))?;
                match values(&obs) {
                    Some(&[e]) => Ok(e as i32),
                    _ => Err(Stop::harness(format!("getsockopt(SO_ERROR) {}", describe(&obs)))),
                }
            };
            let first = take()?;
            let second = take()?;
            attempt.so_error = Some((first, second));
        }
        log.push(format!("{attempt:?}"));
        session.call(client, &Request::Close { slot })?;
        if let Err(v) = judge_attempt(&attempt) {
            return Ok(v.into());
        }
    }
    Ok(CaseOutcome::Pass)
}
