//! `socket.tcp.reset`: an end closed with received data unread in it, or
//! after SO_LINGER was set to a zero linger time, resets the connection:
//! the peer's receive fails with ECONNRESET (never end of file first), a
//! send with ECONNRESET or EPIPE.

use super::{connection, errno_of, End, Side};
use crate::case::Stop;
use crate::case::{CaseOutcome, CaseReport};
use crate::checker::{describe, Violation};
use crate::evidence::BlockSite;
use crate::observed::Observed;
use crate::os::entry::{ReadCall, WriteCall};
use crate::os::proc::SyscallKind;
use crate::os::ready::{Interest, Interface};
use crate::os::socket::MsgOpts;
use crate::protocol::ready::ReadyOp;
use crate::protocol::socket::SocketOp;
use crate::protocol::{Reply, Request};
use crate::session::Session;
use crate::socket::kit::{fail, run_with, sock};
use crate::socket::rules;
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What makes the close a reset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cause {
    /// The peer sent `len` bytes (1 to 8192) that the closing end has
    /// received (poll said readable) and not read.
    Unread { len: u32 },
    /// SO_LINGER on, linger time 0; nothing unread.
    LingerZero,
}

/// What the peer does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Next {
    /// A receive.
    Receive,
    /// A poll until the reset is seen, then a send (MSG_NOSIGNAL).
    Send,
}

/// A reset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetCase {
    /// Which end closes.
    pub closer: Side,
    /// Why its close resets.
    pub cause: Cause,
    /// The peer's next call is already waiting (blocked) when the close comes.
    pub peer_waits: bool,
    /// What that call is.
    pub next: Next,
}

impl fmt::Display for ResetCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (x, p) = match self.closer {
            Side::Client => ("client", "server"),
            Side::Server => ("server", "client"),
        };
        writeln!(f, "  1. a TCP connection on 127.0.0.1 (blocking connect, accept)")?;
        match self.cause {
            Cause::Unread { len } => writeln!(f, "  2. {p}: send {len} bytes; {x}: poll until readable, read nothing")?,
            Cause::LingerZero => writeln!(f, "  2. {x}: SO_LINGER on, linger time 0")?,
        }
        let call = match self.next {
            Next::Receive => "receive",
            Next::Send => "poll, then send 16 bytes",
        };
        if self.peer_waits {
            writeln!(f, "  3. {p}: {call} (waits)")?;
        }
        writeln!(f, "  4. {x}: close")?;
        match self.next {
            Next::Receive => writeln!(f, "  5. {p}: the receive fails with ECONNRESET"),
            Next::Send => writeln!(f, "  5. {p}: the send fails with ECONNRESET or EPIPE"),
        }
    }
}

/// The judge of the peer's call after the reset.
pub fn judge_after_reset(next: Next, obs: &Observed) -> Result<(), Violation> {
    let allowed: &[i32] = match next {
        Next::Receive => &[libc::ECONNRESET],
        Next::Send => &[libc::ECONNRESET, libc::EPIPE],
    };
    if errno_of(obs).is_some_and(|e| allowed.contains(&e)) {
        return Ok(());
    }
    let what = match next {
        Next::Receive => "a receive after the peer reset the connection",
        Next::Send => "a send after the reset arrived",
    };
    let allowed = match next {
        Next::Receive => "ECONNRESET",
        Next::Send => "ECONNRESET or EPIPE",
    };
    let end = if matches!(obs, Observed::Returned(Reply::Received { data, .. }) if data.is_empty()) {
        " (end of file: the close was orderly, not a reset)"
    } else {
        ""
    };
    Err(Violation::new(rules::TCP_RESET, format!("{what} {}{end}; allowed: {allowed}", describe(obs))))
}

/// Runs a reset case.
pub fn run_reset(case: &ResetCase, timing: Timing) -> CaseReport<String> {
    if let Cause::Unread { len } = case.cause {
        if !(1..=8192).contains(&len) {
            return crate::case::refused(format!("{len} unread bytes; 1 to 8192"));
        }
    }
    run_with(timing, |session, log| drive(case, session, log))
}

fn next_call(session: &mut Session, p: End, next: Next, start: bool) -> Result<Observed, Stop> {
    let (request, site) = match next {
        Next::Receive => (
            sock(SocketOp::Recv { slot: p.slot, max: 64, call: ReadCall::Recvmsg, dontwait: false }),
            BlockSite { kind: SyscallKind::Recv, fd: Some(p.fd) },
        ),
        Next::Send => (
            Request::Ready(ReadyOp::Wait { slot: p.slot, how: Interface::Poll, interest: Interest::Read }),
            BlockSite { kind: SyscallKind::Wait, fd: None },
        ),
    };
    if start {
        session.invoke(p.actor, &request, site)
    } else {
        session.call(p.actor, &request)
    }
}

fn drive(case: &ResetCase, session: &mut Session, log: &mut Vec<String>) -> Result<CaseOutcome, Stop> {
    let rule = rules::TCP_RESET;
    let (client, server) = (session.spawn()?, session.spawn()?);
    let (c, s) = match connection(session, client, server)? {
        Ok(ends) => ends,
        Err(outcome) => return Ok(outcome),
    };
    let (x, p) = match case.closer {
        Side::Client => (c, s),
        Side::Server => (s, c),
    };
    match case.cause {
        Cause::Unread { len } => {
            let opts = MsgOpts { dontwait: false, nosignal: true };
            let send = sock(SocketOp::Send { slot: p.slot, len, tag: 0, start: 0, call: WriteCall::Send, opts });
            let obs = session.call(p.actor, &send)?;
            if obs != Observed::Returned(Reply::Count(u64::from(len))) {
                return Ok(fail(rule, format!("a send of {len} bytes on a new connection {}", describe(&obs))));
            }
            // The bytes are in the closing end before it closes.
            let wait = Request::Ready(ReadyOp::Wait { slot: x.slot, how: Interface::Poll, interest: Interest::Read });
            session.call(x.actor, &wait).map_err(|st| st.demanded_by(rule, "bytes sent must arrive"))?;
        }
        Cause::LingerZero => {
            let obs = session.call(x.actor, &sock(SocketOp::LingerZero { slot: x.slot }))?;
            if obs != Observed::Returned(Reply::Done) {
                return Ok(fail(rule, format!("setsockopt(SO_LINGER, on, 0) {}", describe(&obs))));
            }
        }
    }
    if case.peer_waits {
        let obs = next_call(session, p, case.next, true)?;
        log.push(format!("peer: {:?} before the close -> {}", case.next, describe(&obs)));
        if !matches!(obs, Observed::Blocked(_)) {
            let what = match case.next {
                Next::Receive => "a receive with nothing sent",
                Next::Send => "a poll for readable with nothing sent",
            };
            let rule = if case.next == Next::Receive { rules::READ_BLOCKS } else { rule };
            return Ok(fail(rule, format!("{what} on an open TCP connection {}; allowed: blocked", describe(&obs))));
        }
    }
    let obs = session.call(x.actor, &Request::Close { slot: x.slot })?;
    log.push(format!("closer ({:?}): close -> {}", case.cause, describe(&obs)));
    let why = "the peer's call must return once the connection was reset";
    let first = if case.peer_waits {
        session.complete(p.actor).map_err(|st| st.demanded_by(rule, why))?
    } else {
        next_call(session, p, case.next, false).map_err(|st| st.demanded_by(rule, why))?
    };
    let last = match case.next {
        Next::Receive => first,
        Next::Send => {
            log.push(format!("peer: poll -> {}", describe(&first)));
            let opts = MsgOpts { dontwait: false, nosignal: true };
            let send = sock(SocketOp::Send { slot: p.slot, len: 16, tag: 1, start: 0, call: WriteCall::Send, opts });
            session.call(p.actor, &send)?
        }
    };
    log.push(format!("peer: {:?} after the reset -> {}", case.next, describe(&last)));
    Ok(judge_after_reset(case.next, &last).map_or_else(CaseOutcome::from, |()| CaseOutcome::Pass))
}
