//! `socket.tcp.connect-nonblocking`: a connect through a non-blocking
//! socket returns 0 or EINPROGRESS; once poll says writable, SO_ERROR says
//! how the attempt ended (0, or ECONNREFUSED where nobody listens), and a
//! connection so made carries data both ways.

use super::{listen, unlistened_port};
use crate::case::Stop;
use crate::case::{CaseOutcome, CaseReport};
use crate::checker::{describe, Violation};
use crate::evidence::BlockSite;
use crate::observed::Observed;
use crate::os::entry::WriteCall;
use crate::os::errno_name;
use crate::os::proc::SyscallKind;
use crate::os::ready::{Interest, Interface, Readiness};
use crate::os::socket::MsgOpts;
use crate::pattern;
use crate::protocol::ready::ReadyOp;
use crate::protocol::socket::SocketOp;
use crate::protocol::{Reply, Request};
use crate::session::Session;
use crate::socket::kit::{fail, recv_exactly, run_with, sock, values};
use crate::socket::rules;
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A non-blocking connect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectCase {
    /// A listener is there; else its listener was closed (a connection it
    /// accepted keeps the port).
    pub listening: bool,
    /// The server's accept is waiting (blocked) before the connect.
    pub accept_first: bool,
    /// Bytes the client sends, then the server sends back (1 to 8192 each).
    pub lens: (u32, u32),
}

impl fmt::Display for ConnectCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.listening {
            writeln!(f, "  1. holder: listen on 127.0.0.1, connect to itself, accept, close the listener")?;
            writeln!(f, "  2. client: non-blocking connect to it: ECONNREFUSED, or EINPROGRESS")?;
            return writeln!(f, "  3. client: poll until writable; SO_ERROR is ECONNREFUSED");
        }
        writeln!(f, "  1. server: listen on 127.0.0.1")?;
        if self.accept_first {
            writeln!(f, "  2. server: accept (blocks)")?;
        }
        writeln!(f, "  3. client: non-blocking connect: 0 or EINPROGRESS")?;
        writeln!(f, "  4. client: poll until writable; SO_ERROR 0, then 0 again")?;
        writeln!(f, "  5. server: the accept returns the connection")?;
        writeln!(f, "  6. client sends {} bytes, the server receives them and sends {} back", self.lens.0, self.lens.1)
    }
}

/// What the attempt showed: the connect's errno (0: connected at once),
/// the poll's answer once writable, and SO_ERROR read twice then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// What connect gave.
    pub connect: i32,
    /// What poll reported for write interest.
    pub ready: Option<Readiness>,
    /// SO_ERROR, then again.
    pub so_error: (i32, i32),
}

/// The judge of a non-blocking attempt, to a listener or to a port nobody
/// listens on.
pub fn judge_attempt(listening: bool, a: &Attempt) -> Result<(), Violation> {
    let err = |why: String| Err(Violation::new(rules::TCP_CONNECT_NONBLOCKING, why));
    let name = |e: i32| if e == 0 { "0".to_string() } else { errno_name(e) };
    let refused = libc::ECONNREFUSED;
    if !listening && a.connect == refused {
        return Ok(());
    }
    if a.connect != libc::EINPROGRESS && !(listening && a.connect == 0) {
        let allowed = if listening { "0 or EINPROGRESS" } else { "ECONNREFUSED or EINPROGRESS" };
        return err(format!("a non-blocking connect gave {}; allowed: {allowed}", name(a.connect)));
    }
    if let Some(r) = a.ready {
        if !r.writable {
            return err(format!("poll for writable returned with the socket {r}"));
        }
        if listening && r.error == Some(true) {
            return err(format!("poll reported an error condition ({r}) for a connection to a listener"));
        }
    }
    let want = if listening { 0 } else { refused };
    if a.so_error.0 != want {
        return err(format!(
            "once the socket was writable SO_ERROR gave {}; allowed: {} ({})",
            name(a.so_error.0),
            name(want),
            if listening { "connected" } else { "nobody listens there" }
        ));
    }
    if a.so_error.1 != 0 {
        return err(format!(
            "SO_ERROR read a second time gave {}; reading it clears it (allowed: 0)",
            name(a.so_error.1)
        ));
    }
    Ok(())
}

/// Runs a non-blocking connect case.
pub fn run_connect(case: &ConnectCase, timing: Timing) -> CaseReport<String> {
    let ok = |n: u32| (1..=8192).contains(&n);
    if !ok(case.lens.0) || !ok(case.lens.1) {
        return crate::case::refused(format!("{:?} bytes; 1 to 8192 each way", case.lens));
    }
    run_with(timing, |session, log| drive(case, session, log))
}

fn drive(case: &ConnectCase, session: &mut Session, log: &mut Vec<String>) -> Result<CaseOutcome, Stop> {
    let rule = rules::TCP_CONNECT_NONBLOCKING;
    let (server, client) = (session.spawn()?, session.spawn()?);
    let (listener, port) = if case.listening {
        let (slot, fd, port) = listen(session, server, 4)?;
        (Some((slot, fd)), port)
    } else {
        match unlistened_port(session, server)? {
            Ok(port) => (None, port),
            Err(outcome) => return Ok(outcome),
        }
    };
    if let (Some((slot, fd)), true) = (listener, case.accept_first) {
        let site = BlockSite { kind: SyscallKind::Accept, fd: Some(fd) };
        let obs = session.invoke(server, &sock(SocketOp::Accept { slot }), site)?;
        if !matches!(obs, Observed::Blocked(_)) {
            return Ok(fail(rules::ACCEPT, format!("accept with no client {}; allowed: blocked", describe(&obs))));
        }
    }
    let obs = session.call(client, &sock(SocketOp::ConnectTcpAttempt { port, nonblocking: true }))?;
    let Some(&[slot, _, connect]) = values(&obs) else {
        return Err(Stop::harness(format!("a TCP socket to connect: {}", describe(&obs))));
    };
    let slot = slot as u32;
    let mut attempt = Attempt { connect: connect as i32, ready: None, so_error: (0, 0) };
    if !(case.listening || attempt.connect == libc::EINPROGRESS) {
        log.push(format!("{attempt:?}"));
        return Ok(judge_attempt(false, &attempt).map_or_else(CaseOutcome::from, |()| CaseOutcome::Pass));
    }
    let wait = Request::Ready(ReadyOp::Wait { slot, how: Interface::Poll, interest: Interest::Write });
    let obs = session
        .call(client, &wait)
        .map_err(|s| s.demanded_by(rule, "a connection attempt on loopback must end, the socket becoming writable"))?;
    attempt.ready = values(&obs).and_then(|v| v.first()).and_then(|b| Readiness::from_bits(*b));
    let mut take = || -> Result<i32, Stop> {
        let obs = session.call(client, &sock(SocketOp::TakeError { slot }))?;
        match values(&obs) {
            Some(&[e]) => Ok(e as i32),
            _ => Err(Stop::harness(format!("getsockopt(SO_ERROR) {}", describe(&obs)))),
        }
    };
    attempt.so_error = (take()?, take()?);
    log.push(format!("{attempt:?}"));
    if let Err(v) = judge_attempt(case.listening, &attempt) {
        return Ok(v.into());
    }
    let Some((listener, _)) = listener else { return Ok(CaseOutcome::Pass) };
    let accepted = if case.accept_first {
        session.complete(server).map_err(|s| s.demanded_by(rules::ACCEPT, "a waiting accept must return"))?
    } else {
        session.call(server, &sock(SocketOp::Accept { slot: listener }))?
    };
    let Observed::Returned(Reply::Opened { slot: conn, .. }) = accepted else {
        return Ok(fail(rules::ACCEPT, format!("accept of a connection made {}", describe(&accepted))));
    };
    // The connection works both ways (the client's end blocking again).
    session.call(client, &Request::SetNonblock { slot, on: false })?;
    let opts = MsgOpts { dontwait: false, nosignal: true };
    let (a, b) = case.lens;
    for (who, from, from_slot, to, to_slot, len, tag) in
        [("client", client, slot, server, conn, a, 0u8), ("server", server, conn, client, slot, b, 1u8)]
    {
        let obs = session
            .call(from, &sock(SocketOp::Send { slot: from_slot, len, tag, start: 0, call: WriteCall::Send, opts }))?;
        if obs != Observed::Returned(Reply::Count(u64::from(len))) {
            return Ok(fail(rule, format!("{who}: a send of {len} bytes on the connection {}", describe(&obs))));
        }
        let got = match recv_exactly(session, to, to_slot, len as usize, rule)? {
            Ok(d) => d,
            Err(outcome) => return Ok(outcome),
        };
        let mut expected = Vec::new();
        pattern::fill(&mut expected, tag, 0, len as usize);
        if got != expected {
            return Ok(fail(
                rule,
                format!("the {who}'s {len} bytes arrived altered on a connection made non-blocking"),
            ));
        }
    }
    log.push(format!("the connection carried {a} and {b} bytes"));
    Ok(CaseOutcome::Pass)
}
