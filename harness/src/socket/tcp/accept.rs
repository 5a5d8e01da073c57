//! `socket.tcp.accept-order`: clients connecting to one TCP listener at
//! the same time, one or two processes accepting from it; every completed
//! connection is handed out by exactly one accept, carrying only its own
//! client's bytes, and an accept with none left blocks.

use crate::case::Stop;
use crate::case::{CaseOutcome, CaseReport};
use crate::checker::{describe, Violation};
use crate::evidence::BlockSite;
use crate::observed::Observed;
use crate::os::entry::WriteCall;
use crate::os::proc::SyscallKind;
use crate::os::socket::MsgOpts;
use crate::pattern;
use crate::protocol::socket::SocketOp;
use crate::protocol::Reply;
use crate::session::{ActorId, Session};
use crate::socket::kit::{fail, recv_exactly, run_with, sock};
use crate::socket::rules;
use crate::socket::server::judge_connection_for;
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::os::fd::AsFd;

/// Clients connecting at once to a listener shared by `acceptors` processes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptOrderCase {
    /// Processes holding the listener and accepting from it (1 or 2).
    pub acceptors: u8,
    /// Every acceptor's accept is waiting (blocked) before the clients connect.
    pub accepts_first: bool,
    /// Clients send their message before their connection is accepted.
    pub send_first: bool,
    /// One message length per client (2 to 4 clients, 1 to 8192 bytes).
    pub lens: Vec<u32>,
}

impl fmt::Display for AcceptOrderCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.lens.len();
        writeln!(f, "  1. a TCP listener on 127.0.0.1 (backlog 8), held by {} acceptor(s)", self.acceptors)?;
        if self.accepts_first {
            writeln!(f, "  2. each acceptor: accept (blocks)")?;
        }
        writeln!(f, "  3. clients 1..{n} connect, all at the same time")?;
        if self.send_first {
            writeln!(f, "  4. each client sends its message ({:?} bytes) before any accept of it", self.lens)?;
        }
        writeln!(f, "  5. the acceptors accept until {n} connections are out; one more accept blocks")?;
        writeln!(f, "  6. each connection: the acceptor receives one client's whole message and echoes it")
    }
}

/// Runs an accept-order case.
pub fn run_accept_order(case: &AcceptOrderCase, timing: Timing) -> CaseReport<String> {
    if !(1..=2).contains(&case.acceptors)
        || !(2..=usize::from(pattern::TAGS)).contains(&case.lens.len())
        || case.lens.iter().any(|l| !(1..=8192).contains(l))
    {
        return crate::case::refused(format!(
            "{} acceptors, messages of {:?} bytes; 1 or 2 acceptors, 2 to 4 clients, 1 to 8192 bytes each",
            case.acceptors, case.lens
        ));
    }
    run_with(timing, |session, log| drive(case, session, log))
}

fn send(session: &mut Session, id: ActorId, slot: u32, len: u32, tag: u8) -> Result<Observed, Stop> {
    let opts = MsgOpts { dontwait: false, nosignal: true };
    session.call(id, &sock(SocketOp::Send { slot, len, tag, start: 0, call: WriteCall::Send, opts }))
}

fn port_pair(session: &mut Session, id: ActorId, slot: u32) -> Result<(u16, u16), Stop> {
    let obs = session.call(id, &sock(SocketOp::Ports { slot }))?;
    match crate::socket::kit::values(&obs) {
        Some(&[port, peer]) => Ok((port as u16, peer as u16)),
        _ => Err(Stop::harness(format!("{id}: getsockname and getpeername of a connection: {}", describe(&obs)))),
    }
}

/// The judge of whom the accepts handed out: the accepted connections'
/// peers (their ports, in order of accept) are the clients' sockets
/// (`clients`: their ports), each exactly once.
pub fn judge_peers(clients: &[u16], peers: &[u16]) -> Result<(), Violation> {
    let rule = rules::TCP_ACCEPT_ORDER;
    for (i, p) in peers.iter().enumerate() {
        let Some(c) = clients.iter().position(|x| x == p) else {
            return Err(Violation::new(
                rule,
                format!(
                    "accept {} returned a connection whose peer, port {p}, is none of the clients ({clients:?})",
                    i + 1
                ),
            ));
        };
        if let Some(j) = peers[..i].iter().position(|x| x == p) {
            return Err(Violation::new(
                rule,
                format!("accepts {} and {} both returned client {}'s connection (peer port {p})", j + 1, i + 1, c + 1),
            ));
        }
    }
    if peers.len() != clients.len() {
        return Err(Violation::new(
            rule,
            format!("{} clients connected, {} connections accepted", clients.len(), peers.len()),
        ));
    }
    Ok(())
}

/// Each client sends its message (tagged with its index) on its connection.
fn send_messages(
    session: &mut Session,
    clients: &[ActorId],
    slots: &[u32],
    lens: &[u32],
) -> Result<Result<(), CaseOutcome>, Stop> {
    for (i, &c) in clients.iter().enumerate() {
        let obs = send(session, c, slots[i], lens[i], i as u8)?;
        if obs != Observed::Returned(Reply::Count(u64::from(lens[i]))) {
            let why = format!("client {}: a send of {} bytes {}", i + 1, lens[i], describe(&obs));
            return Ok(Err(fail(rules::TCP_ACCEPT_ORDER, why)));
        }
    }
    Ok(Ok(()))
}

fn drive(case: &AcceptOrderCase, session: &mut Session, log: &mut Vec<String>) -> Result<CaseOutcome, Stop> {
    let rule = rules::TCP_ACCEPT_ORDER;
    let n = case.lens.len();
    let acceptors: Vec<ActorId> = (0..case.acceptors).map(|_| session.spawn()).collect::<Result<_, _>>()?;
    let clients: Vec<ActorId> = (0..n).map(|_| session.spawn()).collect::<Result<_, _>>()?;
    // The listener, made here and handed to every acceptor (slot 0 each).
    let mut listen_fds = Vec::new();
    let port = {
        let _quiet = crate::os::process::quiet_forks();
        let (listener, port) =
            crate::os::socket::listen_tcp_loopback(8).map_err(|e| Stop::io("a TCP listener on 127.0.0.1", e))?;
        for &a in &acceptors {
            listen_fds.push(session.hand(a, &[listener.as_fd()])?[0]);
        }
        port
    };
    let accept = sock(SocketOp::Accept { slot: 0 });
    let mut waiting: Vec<ActorId> = Vec::new();
    if case.accepts_first {
        for (i, &a) in acceptors.iter().enumerate() {
            let site = BlockSite { kind: SyscallKind::Accept, fd: Some(listen_fds[i]) };
            let obs = session.invoke(a, &accept, site)?;
            if !matches!(obs, Observed::Blocked(_)) {
                return Ok(fail(
                    rule,
                    format!("acceptor {}: accept with no client {}; allowed: blocked", i + 1, describe(&obs)),
                ));
            }
            waiting.push(a);
        }
    }
    // Every client connects at once: all requests out before any reply.
    for &c in &clients {
        session.start(c, &sock(SocketOp::ConnectTcp { port }))?;
    }
    let mut client_slots = Vec::new();
    for (i, &c) in clients.iter().enumerate() {
        let obs = session
            .complete(c)
            .map_err(|s| s.demanded_by(rule, "a connect to a listener with room in its backlog must complete"))?;
        match obs {
            Observed::Returned(Reply::Opened { slot, .. }) => client_slots.push(slot),
            other => {
                return Ok(fail(
                    rule,
                    format!("client {}: connect to a listener with room in its backlog {}", i + 1, describe(&other)),
                ))
            }
        }
    }
    log.push(format!("{n} clients connected at once to 127.0.0.1:{port}"));
    if case.send_first {
        if let Err(o) = send_messages(session, &clients, &client_slots, &case.lens)? {
            return Ok(o);
        }
    }
    // Accept until n connections are out; an acceptor asks again only
    // while more connections remain than accepts are in flight.
    let mut conns: Vec<(ActorId, u32)> = Vec::new();
    while conns.len() < n {
        for &a in &acceptors {
            if !waiting.contains(&a) && conns.len() + waiting.len() < n {
                session.start(a, &accept)?;
                waiting.push(a);
            }
        }
        let Some((a, obs)) = session.complete_any(&waiting)? else {
            return Err(Stop::hung(
                Some(rule),
                format!("{n} connections completed, {} accepted; the accepts waiting did not return", conns.len()),
            ));
        };
        waiting.retain(|w| *w != a);
        match obs {
            Observed::Returned(Reply::Opened { slot, .. }) => conns.push((a, slot)),
            other => return Ok(fail(rule, format!("an accept with connections completed {}", describe(&other)))),
        }
    }
    let by: Vec<usize> = conns.iter().map(|(a, _)| acceptors.iter().position(|x| x == a).unwrap_or(0) + 1).collect();
    log.push(format!("{n} connections accepted, by acceptor(s) {by:?}"));
    // Whose connection each accept returned, by address: the peer of an
    // accepted connection is one client's socket, no client's twice.
    let mut client_ports = Vec::new();
    for &c in &clients {
        let slot = client_slots[client_ports.len()];
        client_ports.push(port_pair(session, c, slot)?.0);
    }
    let mut peers = Vec::new();
    for &(a, conn) in &conns {
        peers.push(port_pair(session, a, conn)?.1);
    }
    if let Err(v) = judge_peers(&client_ports, &peers) {
        return Ok(v.into());
    }
    // Each connection carries exactly one client's message; none twice.
    if !case.send_first {
        if let Err(o) = send_messages(session, &clients, &client_slots, &case.lens)? {
            return Ok(o);
        }
    }
    let mut seen = vec![false; n];
    for &(a, conn) in &conns {
        let head = match recv_exactly(session, a, conn, 1, rule)? {
            Ok(h) => h,
            Err(outcome) => return Ok(outcome),
        };
        let who = usize::from(pattern::tag_of(head[0])).min(n - 1);
        if seen[who] {
            return Ok(fail(rule, format!("client {}'s connection was handed out by two accepts", who + 1)));
        }
        let rest = match recv_exactly(session, a, conn, case.lens[who] as usize - 1, rule)? {
            Ok(r) => r,
            Err(outcome) => return Ok(outcome),
        };
        let client = match judge_connection_for(rule, &[head, rest].concat(), &case.lens) {
            Ok(c) => c,
            Err(v) => return Ok(v.into()),
        };
        seen[client] = true;
        let obs = send(session, a, conn, case.lens[client], client as u8)?;
        if obs != Observed::Returned(Reply::Count(u64::from(case.lens[client]))) {
            return Ok(fail(rule, format!("an echo to client {} {}", client + 1, describe(&obs))));
        }
    }
    for (i, &c) in clients.iter().enumerate() {
        let data = match recv_exactly(session, c, client_slots[i], case.lens[i] as usize, rule)? {
            Ok(d) => d,
            Err(outcome) => return Ok(outcome),
        };
        if judge_connection_for(rule, &data, &case.lens).ok() != Some(i) {
            return Ok(fail(rule, format!("client {} got back bytes that are not its own message", i + 1)));
        }
    }
    // None left: one more accept blocks.
    let site = BlockSite { kind: SyscallKind::Accept, fd: Some(listen_fds[0]) };
    let obs = session.invoke(acceptors[0], &accept, site)?;
    log.push(format!("every client got its own bytes back; one more accept -> {}", describe(&obs)));
    if !matches!(obs, Observed::Blocked(_)) {
        return Ok(fail(
            rule,
            format!("an accept after all {n} connections were handed out {}; allowed: blocked", describe(&obs)),
        ));
    }
    Ok(CaseOutcome::Pass)
}
