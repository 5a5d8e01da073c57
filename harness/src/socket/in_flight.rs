//! `socket.rights.in-flight-released`: a pipe's write end sent over a
//! unix socket and not yet received keeps the reader from end of file;
//! once the receiving socket goes (closed, its holder exiting or killed,
//! or left reachable only from its own queue), the write end is released
//! and the reader sees end of file.

use super::kit::{fail, run_with, sock};
use super::rules;
use crate::case::Stop;
use crate::case::{CaseOutcome, CaseReport};
use crate::checker::describe;
use crate::evidence::BlockSite;
use crate::observed::Observed;
use crate::os::entry::ReadCall;
use crate::os::proc::SyscallKind;
use crate::protocol::socket::SocketOp;
use crate::protocol::{Reply, Request};
use crate::session::Session;
use crate::socket::abstract_name::LetGo;
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::os::fd::AsFd;

/// A write end in flight, and how its receiving socket goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InFlightCase {
    /// Messages carrying the write end, queued at B's socket (1 to 3).
    pub copies: u8,
    /// B's socket is also sent into its own queue: once B lets go, only
    /// the collector of unreachable sockets can release it.
    pub cycle: bool,
    /// How B lets its socket go.
    pub let_go: LetGo,
}

impl fmt::Display for InFlightCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  1. A holds a socket pair's end s0 and a pipe's write end; B holds s1; C the read end")?;
        writeln!(f, "  2. A sends the write end over s0 {} time(s), then closes its own", self.copies)?;
        if self.cycle {
            writeln!(f, "  3. B sends s1 over itself (s1 queued in its own queue)")?;
        }
        writeln!(f, "  4. C reads: blocks (the write end in flight keeps the pipe open)")?;
        writeln!(f, "  5. B: {:?} (nothing received){}", self.let_go, if self.cycle { "; A closes s0" } else { "" })?;
        writeln!(f, "  6. C's read returns end of file")
    }
}

/// Runs an in-flight case.
pub fn run_in_flight(case: &InFlightCase, timing: Timing) -> CaseReport<String> {
    if !(1..=3).contains(&case.copies) {
        return crate::case::refused(format!("{} copies; 1 to 3", case.copies));
    }
    run_with(timing, |session, log| drive(case, session, log))
}

fn drive(case: &InFlightCase, session: &mut Session, log: &mut Vec<String>) -> Result<CaseOutcome, Stop> {
    let rule = rules::RIGHTS_IN_FLIGHT;
    let (a, b, c) = (session.spawn()?, session.spawn()?, session.spawn()?);
    let (read_fd, b_has_s0) = {
        let _quiet = crate::os::process::quiet_forks();
        let (s0, s1) =
            crate::os::socket::pair(crate::os::socket::SocketKind::Stream).map_err(|e| Stop::io("socketpair", e))?;
        let (r, w) = crate::os::pipe::pipe_cloexec().map_err(|e| Stop::io("pipe", e))?;
        session.hand(a, &[s0.as_fd(), w.as_fd()])?; // A: 0 s0, 1 the write end
                                                    // B: 0 s1; in a cycle also 1 a copy of s0 to send s1 through.
        let b_fds: Vec<_> = if case.cycle { vec![s1.as_fd(), s0.as_fd()] } else { vec![s1.as_fd()] };
        session.hand(b, &b_fds)?;
        let fds = session.hand(c, &[r.as_fd()])?; // C: 0 the read end
        (fds[0], case.cycle)
    };
    for _ in 0..case.copies {
        let obs = session.call(a, &sock(SocketOp::SendFd { slot: 0, fd_slot: 1 }))?;
        if obs != Observed::Returned(Reply::Done) {
            return Ok(fail(rules::RIGHTS, format!("A: sending the pipe's write end {}", describe(&obs))));
        }
    }
    session.call(a, &Request::Close { slot: 1 })?;
    if case.cycle {
        let obs = session.call(b, &sock(SocketOp::SendFd { slot: 1, fd_slot: 0 }))?;
        if obs != Observed::Returned(Reply::Done) {
            return Ok(fail(rules::RIGHTS, format!("B: sending s1 into its own queue {}", describe(&obs))));
        }
    }
    let read = Request::Read { slot: 0, max: 16, call: ReadCall::Read };
    let obs = session.invoke(c, &read, BlockSite { kind: SyscallKind::Read, fd: Some(read_fd) })?;
    log.push(format!("C: read with the write end only in flight -> {}", describe(&obs)));
    if !matches!(obs, Observed::Blocked(_)) {
        return Ok(fail(
            rule,
            format!(
                "a read of a pipe whose write end is in flight (sent, not received) {}; allowed: blocked",
                describe(&obs)
            ),
        ));
    }
    match case.let_go {
        LetGo::Close => {
            session.call(b, &Request::Close { slot: 0 })?;
            if b_has_s0 {
                session.call(b, &Request::Close { slot: 1 })?;
            }
        }
        LetGo::Exit => {
            session.exit(b, 0)?;
        }
        LetGo::Kill => {
            session.kill(b)?;
        }
    }
    if case.cycle {
        // The last descriptor of s0 goes; s1 is left only in its own queue.
        session.call(a, &Request::Close { slot: 0 })?;
    }
    let why = "the write end in flight must be released once its receiving socket went";
    let obs = session.complete(c).map_err(|s| s.demanded_by(rule, why))?;
    log.push(format!("B let go ({:?}); C's read -> {}", case.let_go, describe(&obs)));
    if obs != Observed::Returned(Reply::Data(Vec::new())) {
        return Ok(fail(
            rule,
            format!(
                "once the socket holding the write end in flight went, the read {}; allowed: end of file",
                describe(&obs)
            ),
        ));
    }
    Ok(CaseOutcome::Pass)
}
