//! `socket.rights.truncated`: a message carrying more descriptors than
//! the receiver's control buffer holds sets MSG_CTRUNC, delivers at most
//! what fits, installs nothing unreported, and closes the rest.

use super::kit::{fail, run_with, sock, values};
use super::rules;
use crate::case::Stop;
use crate::case::{CaseOutcome, CaseReport};
use crate::checker::{describe, Violation};
use crate::observed::Observed;
use crate::os::entry::ReadCall;
use crate::protocol::socket::SocketOp;
use crate::protocol::{Reply, Request};
use crate::session::Session;
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::os::fd::AsFd;

/// `sent` pipes' write ends go from A to B in one message; B's receive
/// has control space for `room` descriptors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruncatedCase {
    /// Descriptors in the message (1 to 8).
    pub sent: u8,
    /// Descriptors the receive's control buffer holds (0 to 9).
    pub room: u8,
}

impl fmt::Display for TruncatedCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  1. A holds the write ends of {} pipes, C their read ends (non-blocking)", self.sent)?;
        writeln!(f, "  2. A sends all {} write ends in one message, then closes its own", self.sent)?;
        writeln!(f, "  3. B receives it with control space for {} descriptor(s)", self.room)?;
        writeln!(f, "  4. C reads each pipe: EAGAIN where B holds the write end, end of file where nobody does")
    }
}

/// What B's receive reported: MSG_CTRUNC, the identities of the
/// descriptors it delivered, and how many it opened without reporting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// MSG_CTRUNC was set.
    pub truncated: bool,
    /// (device, inode) of each delivered descriptor.
    pub delivered: Vec<(u64, u64)>,
    /// Descriptors opened in B by the receive and not reported.
    pub unseen: usize,
}

/// The judge of the receive: `sent` the identities of the descriptors
/// sent, `room` the control space.
pub fn judge_received(sent: &[(u64, u64)], room: usize, got: &Received) -> Result<(), Violation> {
    let err = |why: String| Err(Violation::new(rules::RIGHTS_TRUNCATED, why));
    let n = sent.len();
    if got.unseen > 0 {
        return err(format!(
            "a receive with room for {room} of {n} descriptors opened {} more in the receiver than it reported",
            got.unseen
        ));
    }
    if got.truncated != (room < n) {
        return err(format!(
            "a receive with room for {room} of {n} descriptors {} MSG_CTRUNC",
            if got.truncated { "set" } else { "did not set" }
        ));
    }
    if got.delivered.len() > room.min(n) || (room >= n && got.delivered.len() != n) {
        return err(format!("a receive with room for {room} of {n} descriptors delivered {}", got.delivered.len()));
    }
    for (i, id) in got.delivered.iter().enumerate() {
        if !sent.contains(id) {
            return err(format!("delivered descriptor {} is none of those sent", i + 1));
        }
        if got.delivered[..i].contains(id) {
            return err(format!("delivered descriptor {} repeats an earlier one", i + 1));
        }
    }
    Ok(())
}

/// Runs a truncation case.
pub fn run_truncated(case: &TruncatedCase, timing: Timing) -> CaseReport<String> {
    if !(1..=8).contains(&case.sent) || case.room > 9 {
        return crate::case::refused(format!(
            "{} descriptors, room for {}; 1 to 8 sent, room 0 to 9",
            case.sent, case.room
        ));
    }
    run_with(timing, |session, log| drive(case, session, log))
}

fn drive(case: &TruncatedCase, session: &mut Session, log: &mut Vec<String>) -> Result<CaseOutcome, Stop> {
    let rule = rules::RIGHTS_TRUNCATED;
    let n = usize::from(case.sent);
    let (a, b, c) = (session.spawn()?, session.spawn()?, session.spawn()?);
    let mut ids = Vec::new();
    {
        let _quiet = crate::os::process::quiet_forks();
        let (s0, s1) =
            crate::os::socket::pair(crate::os::socket::SocketKind::Stream).map_err(|e| Stop::io("socketpair", e))?;
        session.hand(a, &[s0.as_fd()])?; // A: slot 0 the socket, 1..=n the write ends
        session.hand(b, &[s1.as_fd()])?; // B: slot 0 the socket
        for _ in 0..n {
            let (r, w) = crate::os::pipe::pipe_cloexec().map_err(|e| Stop::io("pipe", e))?;
            // The write end's identity: on xnu each end of a pipe has its own.
            ids.push(crate::os::fd::identity(w.as_fd()).map_err(|e| Stop::io("fstat of a pipe", e))?);
            session.hand(a, &[w.as_fd()])?;
            session.hand(c, &[r.as_fd()])?; // C: slots 0..n the read ends
        }
    }
    for slot in 0..n as u32 {
        session.call(c, &Request::SetNonblock { slot, on: true })?;
    }
    let fd_slots: Vec<u32> = (1..=n as u32).collect();
    let obs = session.call(a, &sock(SocketOp::SendFds { slot: 0, fd_slots: fd_slots.clone() }))?;
    if obs != Observed::Returned(Reply::Done) {
        return Ok(fail(rule, format!("A: sending {n} descriptors in one message {}", describe(&obs))));
    }
    for slot in fd_slots {
        session.call(a, &Request::Close { slot })?;
    }
    let obs = session.call(b, &sock(SocketOp::RecvFdsRoom { slot: 0, room: u32::from(case.room) }))?;
    let Some(v) = values(&obs) else {
        return Ok(fail(rule, format!("B: receiving a message of descriptors {}", describe(&obs))));
    };
    let (Some(&truncated), Some(&count), Some(&unseen)) = (v.first(), v.get(1), v.get(2)) else {
        return Err(Stop::harness(format!("B: a receive's report {v:?}")));
    };
    let triples: Vec<&[i64]> = v[3..].chunks(3).collect();
    if triples.len() != count as usize || triples.iter().any(|t| t.len() != 3) {
        return Err(Stop::harness(format!("B: a receive's report {v:?}")));
    }
    let got = Received {
        truncated: truncated != 0,
        delivered: triples.iter().map(|t| (t[1] as u64, t[2] as u64)).collect(),
        unseen: unseen as usize,
    };
    log.push(format!("B: room {} of {n}: {got:?}", case.room));
    if let Err(v) = judge_received(&ids, usize::from(case.room), &got) {
        return Ok(v.into());
    }
    // The write ends not delivered are closed: their pipes read end of
    // file; the delivered ones, held by B, keep theirs open (EAGAIN).
    for (slot, id) in ids.iter().enumerate() {
        let held = got.delivered.contains(id);
        let obs = session.call(c, &Request::Read { slot: slot as u32, max: 1, call: ReadCall::Read })?;
        let ok = match obs {
            Observed::Returned(Reply::Errno(e)) => held && e == libc::EAGAIN,
            Observed::Returned(Reply::Data(ref d)) => !held && d.is_empty(),
            _ => false,
        };
        if !ok {
            return Ok(fail(
                rule,
                format!(
                    "pipe {} (its write end {} B): a non-blocking read {}; allowed: {}",
                    slot + 1,
                    if held { "delivered to" } else { "sent and not delivered to" },
                    describe(&obs),
                    if held { "EAGAIN" } else { "end of file: a descriptor not delivered is closed" }
                ),
            ));
        }
    }
    Ok(CaseOutcome::Pass)
}
