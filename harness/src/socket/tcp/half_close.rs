//! `socket.tcp.half-close`: after one end of a TCP connection shuts down
//! writing, the other reads what was sent, then end of file, every time,
//! and can still send the other way; a send on the shut end fails with
//! EPIPE.

use super::{connection, errno_of, End, Side};
use crate::case::Stop;
use crate::case::{CaseOutcome, CaseReport};
use crate::checker::{describe, Violation};
use crate::evidence::BlockSite;
use crate::observed::Observed;
use crate::os::entry::{ReadCall, WriteCall};
use crate::os::proc::SyscallKind;
use crate::os::socket::{MsgOpts, Shut};
use crate::pattern;
use crate::protocol::socket::SocketOp;
use crate::protocol::Reply;
use crate::session::Session;
use crate::socket::kit::{fail, recv_exactly, run_with, sock};
use crate::socket::rules;
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The most a case sends either way: small enough that a blocking send
/// never waits for the peer on any platform's loopback buffers.
pub const MAX_SEND: u32 = 8192;

/// A half-close.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HalfCloseCase {
    /// Which end shuts down writing.
    pub shutter: Side,
    /// Bytes it sends first (0 to [`MAX_SEND`]).
    pub before: u32,
    /// The peer's receive is waiting (blocked) before anything is sent.
    pub reader_waits: bool,
    /// Receives of end of file the peer makes after the data (1 to 3).
    pub eof_reads: u8,
    /// Bytes the peer sends back after end of file (1 to [`MAX_SEND`]).
    pub back: u32,
}

impl fmt::Display for HalfCloseCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (x, p) = match self.shutter {
            Side::Client => ("client", "server"),
            Side::Server => ("server", "client"),
        };
        writeln!(f, "  1. a TCP connection on 127.0.0.1 (blocking connect, accept)")?;
        if self.reader_waits {
            writeln!(f, "  2. {p}: receive (blocks: nothing sent yet)")?;
        }
        writeln!(f, "  3. {x}: send {} bytes, then shutdown(SHUT_WR)", self.before)?;
        writeln!(f, "  4. {p}: receive the {} bytes, then end of file {} time(s)", self.before, self.eof_reads)?;
        writeln!(f, "  5. {p}: send {} bytes; {x} receives them all", self.back)?;
        writeln!(f, "  6. {x}: send 1 byte (MSG_NOSIGNAL): EPIPE")
    }
}

/// The judge of what the peer received before and after the shutdown:
/// exactly the bytes sent, then `eof_reads` receives of 0.
pub fn judge_received(case: &HalfCloseCase, data: &[u8], after: &[Observed]) -> Result<(), Violation> {
    let mut expected = Vec::new();
    pattern::fill(&mut expected, 0, 0, case.before as usize);
    if data != expected.as_slice() {
        return Err(Violation::new(
            rules::TCP_HALF_CLOSE,
            format!("before end of file the peer received {} bytes that are not the {} sent", data.len(), case.before),
        ));
    }
    for (i, obs) in after.iter().enumerate() {
        if !matches!(obs, Observed::Returned(Reply::Received { data, .. }) if data.is_empty()) {
            return Err(Violation::new(
                rules::TCP_HALF_CLOSE,
                format!(
                    "receive {} after the {} bytes sent before shutdown(SHUT_WR) {}; allowed: 0 (end of file), every time",
                    i + 1,
                    case.before,
                    describe(obs)
                ),
            ));
        }
    }
    Ok(())
}

/// Runs a half-close case.
pub fn run_half_close(case: &HalfCloseCase, timing: Timing) -> CaseReport<String> {
    if case.before > MAX_SEND || case.back == 0 || case.back > MAX_SEND || !(1..=3).contains(&case.eof_reads) {
        return crate::case::refused(format!(
            "sends of {} and {} bytes, {} reads of end of file; sends up to {MAX_SEND} bytes (the second at least 1), 1 to 3 reads",
            case.before, case.back, case.eof_reads
        ));
    }
    run_with(timing, |session, log| drive(case, session, log))
}

fn send(session: &mut Session, end: End, len: u32, tag: u8) -> Result<Observed, Stop> {
    let opts = MsgOpts { dontwait: false, nosignal: true };
    session.call(end.actor, &sock(SocketOp::Send { slot: end.slot, len, tag, start: 0, call: WriteCall::Send, opts }))
}

fn recv(end: End, max: u32) -> crate::protocol::Request {
    sock(SocketOp::Recv { slot: end.slot, max, call: ReadCall::Recvmsg, dontwait: false })
}

fn drive(case: &HalfCloseCase, session: &mut Session, log: &mut Vec<String>) -> Result<CaseOutcome, Stop> {
    let (client, server) = (session.spawn()?, session.spawn()?);
    let (c, s) = match connection(session, client, server)? {
        Ok(ends) => ends,
        Err(outcome) => return Ok(outcome),
    };
    let (x, p) = match case.shutter {
        Side::Client => (c, s),
        Side::Server => (s, c),
    };
    let rule = rules::TCP_HALF_CLOSE;
    let mut data = Vec::new();
    if case.reader_waits {
        let obs = session.invoke(p.actor, &recv(p, MAX_SEND), BlockSite { kind: SyscallKind::Recv, fd: Some(p.fd) })?;
        log.push(format!("peer: receive with nothing sent -> {}", describe(&obs)));
        if !matches!(obs, Observed::Blocked(_)) {
            return Ok(fail(
                rules::READ_BLOCKS,
                format!("a receive on a TCP connection with nothing sent {}; allowed: blocked", describe(&obs)),
            ));
        }
    }
    if case.before > 0 {
        let obs = send(session, x, case.before, 0)?;
        if obs != Observed::Returned(Reply::Count(u64::from(case.before))) {
            return Ok(fail(rule, format!("a send of {} bytes {}", case.before, describe(&obs))));
        }
    }
    let obs = session.call(x.actor, &sock(SocketOp::Shutdown { slot: x.slot, how: Shut::Write }))?;
    log.push(format!("shutter: sent {} bytes, shutdown(SHUT_WR) -> {}", case.before, describe(&obs)));
    if obs != Observed::Returned(Reply::Done) {
        return Ok(fail(rule, format!("shutdown(SHUT_WR) of a connected TCP socket {}", describe(&obs))));
    }
    let mut after = Vec::new();
    if case.reader_waits {
        let why = "a receive waiting when data or end of file came must return";
        match session.complete(p.actor).map_err(|st| st.demanded_by(rule, why))? {
            Observed::Returned(Reply::Received { data: d, .. }) if d.is_empty() && case.before > 0 => {
                return Ok(fail(
                    rule,
                    format!(
                        "a waiting receive returned end of file, with {} bytes sent before shutdown(SHUT_WR) unread",
                        case.before
                    ),
                ));
            }
            Observed::Returned(Reply::Received { data: d, .. }) if d.is_empty() => {
                after.push(Observed::Returned(Reply::Received { data: d, truncated: None }))
            }
            Observed::Returned(Reply::Received { data: d, .. }) => data.extend(d),
            other => {
                return Ok(fail(
                    rule,
                    format!("a receive waiting when the peer sent and shut down {}", describe(&other)),
                ))
            }
        }
    }
    let rest = case.before as usize - data.len();
    if rest > 0 {
        match recv_exactly(session, p.actor, p.slot, rest, rule)? {
            Ok(d) => data.extend(d),
            Err(outcome) => return Ok(outcome),
        }
    }
    while after.len() < usize::from(case.eof_reads) {
        after.push(session.call(p.actor, &recv(p, MAX_SEND))?);
    }
    log.push(format!(
        "peer: received {} bytes, then {}",
        data.len(),
        after.iter().map(describe).collect::<Vec<_>>().join(", ")
    ));
    if let Err(v) = judge_received(case, &data, &after) {
        return Ok(v.into());
    }
    // The other direction still works.
    let obs = send(session, p, case.back, 1)?;
    if obs != Observed::Returned(Reply::Count(u64::from(case.back))) {
        return Ok(fail(
            rule,
            format!("a send of {} bytes to an end that only shut down writing {}", case.back, describe(&obs)),
        ));
    }
    let back = match recv_exactly(session, x.actor, x.slot, case.back as usize, rule)? {
        Ok(d) => d,
        Err(outcome) => return Ok(outcome),
    };
    let mut expected = Vec::new();
    pattern::fill(&mut expected, 1, 0, case.back as usize);
    if back != expected {
        return Ok(fail(rule, "the end that shut down writing received other bytes than its peer sent".into()));
    }
    let obs = send(session, x, 1, 0)?;
    log.push(format!("shutter: received {} bytes back; a send after SHUT_WR -> {}", back.len(), describe(&obs)));
    if errno_of(&obs) != Some(libc::EPIPE) {
        return Ok(fail(rule, format!("a send on an end shut down for writing {}; allowed: EPIPE", describe(&obs))));
    }
    Ok(CaseOutcome::Pass)
}
