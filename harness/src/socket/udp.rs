//! `socket.udp.datagram`: UDP on loopback delivers whole, unaltered
//! datagrams, each at most once (loss is allowed, but a case that lost
//! every datagram checked nothing).

use super::kit::{fail, run_with, sock, values};
use super::rules;
use crate::case::Stop;
use crate::case::{CaseOutcome, CaseReport};
use crate::checker::Violation;
use crate::evidence::BlockSite;
use crate::observed::Observed;
use crate::os::entry::ReadCall;
use crate::os::proc::SyscallKind;
use crate::pattern;
use crate::pipe::model::describe;
use crate::protocol::socket::SocketOp;
use crate::protocol::Reply;
use crate::session::Session;
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Senders of UDP datagrams to one receiver on 127.0.0.1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UdpCase {
    /// Per sender (1-3), the lengths of its datagrams in sending order.
    pub senders: Vec<Vec<u32>>,
}

impl fmt::Display for UdpCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  1. receiver: bind 127.0.0.1:0")?;
        for (i, lens) in self.senders.iter().enumerate() {
            writeln!(f, "  {}. sender {i}: sendto datagrams of {lens:?} bytes", i + 2)?;
        }
        writeln!(f, "  {}. receiver: receive until nothing more is waiting", self.senders.len() + 2)
    }
}

/// The judge of what a UDP receiver got: each datagram exactly one sent,
/// whole and unaltered, none twice. Loss is allowed.
pub fn judge_datagrams(received: &[Vec<u8>], case: &UdpCase) -> Result<(), Violation> {
    match datagram_problem(received, case) {
        Some(why) => Err(Violation::new(rules::UDP, why)),
        None => Ok(()),
    }
}

/// A UDP case's outcome from what arrived: the judge's word, except that a
/// case in which every datagram was lost checked nothing and is not a pass.
pub fn conclude(received: &[Vec<u8>], case: &UdpCase) -> CaseOutcome {
    let sent: usize = case.senders.iter().map(Vec::len).sum();
    match judge_datagrams(received, case) {
        Err(v) => v.into(),
        Ok(()) if received.is_empty() && sent > 0 => CaseOutcome::Unresolved(format!(
            "all {sent} datagram(s) sent were lost on loopback: nothing arrived to check"
        )),
        Ok(()) => CaseOutcome::Pass,
    }
}

fn datagram_problem(received: &[Vec<u8>], case: &UdpCase) -> Option<String> {
    let mut seen = std::collections::HashSet::new();
    for (i, d) in received.iter().enumerate() {
        let Some((tag, seq)) = pattern::check_datagram(d) else {
            return Some(format!(
                "datagram {i} received ({} bytes) is not one whole, unaltered datagram that was sent",
                d.len()
            ));
        };
        let sent = case.senders.get(usize::from(tag)).and_then(|lens| lens.get(seq as usize));
        match sent {
            Some(&len) if pattern::datagram(tag, seq, len as usize).len() == d.len() => {}
            _ => return Some(format!("datagram {i} claims to be sender {tag}'s datagram {seq}, which was never sent")),
        }
        if !seen.insert((tag, seq)) {
            return Some(format!("sender {tag}'s datagram {seq} was received twice"));
        }
    }
    None
}

/// Runs a UDP case.
pub fn run_udp(case: &UdpCase, timing: Timing) -> CaseReport<String> {
    if case.senders.len() > usize::from(pattern::TAGS)
        || case.senders.iter().any(|s| s.len() > 1000 || s.iter().any(|l| *l > 65_000))
    {
        return crate::case::refused("at most 4 senders of 1000 datagrams of at most 65000 bytes".into());
    }
    let mut received_count = 0u64;
    let mut report = run_with(timing, |session, log| drive_udp(case, session, log, &mut received_count));
    let sent: usize = case.senders.iter().map(Vec::len).sum();
    report.observations.push(("UDP datagrams lost on loopback".into(), sent as u64 - received_count.min(sent as u64)));
    report
}

fn drive_udp(
    case: &UdpCase,
    session: &mut Session,
    log: &mut Vec<String>,
    received_count: &mut u64,
) -> Result<CaseOutcome, Stop> {
    let receiver = session.spawn()?;
    let obs = session.call(receiver, &sock(SocketOp::UdpBind))?;
    let (rslot, rfd, port) = match values(&obs) {
        Some([slot, fd, port]) => (*slot as u32, *fd as i32, *port as u16),
        _ => return Err(Stop::harness(format!("UDP bind: {}", describe(&obs)))),
    };
    for (tag, lens) in case.senders.iter().enumerate() {
        let sender = session.spawn()?;
        let obs = session.call(sender, &sock(SocketOp::UdpBind))?;
        let Some([slot, ..]) = values(&obs) else { return Err(Stop::harness(format!("UDP bind: {}", describe(&obs)))) };
        let slot = *slot as u32;
        for (seq, &len) in lens.iter().enumerate() {
            let req = sock(SocketOp::SendTo { slot, port, tag: tag as u8, seq: seq as u32, len });
            let obs = session.call(sender, &req)?;
            let whole = pattern::datagram(tag as u8, seq as u32, len as usize).len() as u64;
            match obs {
                Observed::Returned(Reply::Count(n)) if n == whole => {}
                // The kernel may refuse for lack of buffers: a loss, allowed.
                Observed::Returned(Reply::Errno(e)) if e == libc::ENOBUFS || e == libc::EAGAIN => {}
                other => {
                    return Ok(fail(
                        rules::UDP,
                        format!("sender {tag}: sendto of a {whole}-byte datagram {}", describe(&other)),
                    ))
                }
            }
        }
    }
    let total: usize = case.senders.iter().map(Vec::len).sum();
    let mut received = Vec::new();
    while received.len() < total {
        let obs = session.invoke(
            receiver,
            &sock(SocketOp::Recv { slot: rslot, max: 65536, call: ReadCall::Recvmsg, dontwait: false }),
            BlockSite { kind: SyscallKind::Recv, fd: Some(rfd) },
        )?;
        match obs {
            Observed::Returned(Reply::Received { data, truncated: Some(false) | None }) => received.push(data),
            // Nothing more waiting: the rest is lost (allowed) or late.
            Observed::Blocked(_) => break,
            other => return Ok(fail(rules::UDP, format!("receive of a datagram {}", describe(&other)))),
        }
    }
    *received_count = received.len() as u64;
    log.push(format!("received {} of {total} datagrams", received.len()));
    Ok(conclude(&received, case))
}
