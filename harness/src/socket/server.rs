//! `socket.server.accept`: a listening server (a unix socket path, or TCP
//! on loopback) accepts several clients, each on a connection of its own
//! that carries exactly that client's bytes, both ways.

use super::kit::{fail, opened, recv_exactly, run_with, sock, values};
use super::rules;
use crate::case::Stop;
use crate::case::{CaseOutcome, CaseReport};
use crate::checker::Violation;
use crate::evidence::BlockSite;
use crate::observed::Observed;
use crate::os::entry::WriteCall;
use crate::os::proc::SyscallKind;
use crate::os::socket::MsgOpts;
use crate::pattern;
use crate::pipe::model::describe;
use crate::protocol::socket::SocketOp;
use crate::protocol::Reply;
use crate::scratch::Scratch;
use crate::session::{ActorId, Session};
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where the server listens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Transport {
    /// A unix stream socket at a path in a scratch directory.
    Unix,
    /// TCP on 127.0.0.1, port 0 (chosen by the kernel).
    TcpLoopback,
}

/// A server and its clients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerCase {
    /// Where the server listens.
    pub transport: Transport,
    /// The server accepts before any client connects (so `accept` blocks);
    /// else every client connects first and waits in the backlog.
    pub accept_first: bool,
    /// One message length per client (2-4 clients).
    pub lens: Vec<u32>,
}

impl fmt::Display for ServerCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.lens.len();
        writeln!(f, "  1. server: listen on {:?} (backlog 8)", self.transport)?;
        if self.accept_first {
            writeln!(f, "  2. server: accept (blocks); client 1 connects; the accept returns")?;
            writeln!(f, "  3. clients 2..{n} connect; the server accepts them")?;
        } else {
            writeln!(f, "  2. clients 1..{n} connect before any accept (the backlog holds them)")?;
            writeln!(f, "  3. the server accepts {n} connections")?;
        }
        for (i, len) in self.lens.iter().enumerate() {
            writeln!(
                f,
                "  {}. client {}: send {len} bytes; the server echoes them on the connection they came on",
                4 + i,
                i + 1
            )?;
        }
        Ok(())
    }
}

/// The judge of one accepted connection: it must carry exactly one
/// client's whole message and nothing of any other client's. Returns that
/// client's index.
pub fn judge_connection(data: &[u8], lens: &[u32]) -> Result<usize, Violation> {
    judge_connection_for(rules::ACCEPT, data, lens)
}

/// [`judge_connection`] for `rule`.
pub fn judge_connection_for(rule: &'static str, data: &[u8], lens: &[u32]) -> Result<usize, Violation> {
    let err = |why: String| Err(Violation::new(rule, why));
    let Some(&first) = data.first() else { return err("an accepted connection carried no data".into()) };
    let client = usize::from(pattern::tag_of(first));
    let Some(&len) = lens.get(client) else { return err(format!("data of an unknown client {client}")) };
    let mut expected = Vec::new();
    pattern::fill(&mut expected, client as u8, 0, len as usize);
    if data != expected.as_slice() {
        return err(format!("a connection carried {} bytes that are not exactly client {}'s message ({len} bytes): bytes crossed between connections or were altered", data.len(), client + 1));
    }
    Ok(client)
}

/// Runs a server case.
pub fn run_server(case: &ServerCase, timing: Timing) -> CaseReport<String> {
    if case.lens.is_empty()
        || case.lens.len() > usize::from(pattern::TAGS)
        || case.lens.iter().any(|l| *l == 0 || u64::from(*l) > crate::case::MAX_OP_BYTES)
    {
        return crate::case::refused(format!(
            "{} clients with messages of {:?} bytes; 1-4 clients, 1 byte to 16 MiB each",
            case.lens.len(),
            case.lens
        ));
    }
    run_with(timing, |session, log| drive_server(case, session, log))
}

fn drive_server(case: &ServerCase, session: &mut Session, log: &mut Vec<String>) -> Result<CaseOutcome, Stop> {
    let scratch = Scratch::new().map_err(|e| Stop::io("scratch directory", e))?;
    let path = scratch.path().join("server.sock").to_string_lossy().into_owned();
    let server = session.spawn()?;
    let clients: Vec<ActorId> = (0..case.lens.len()).map(|_| session.spawn()).collect::<Result<_, _>>()?;
    let (listener, port, listen_fd) = match case.transport {
        Transport::Unix => {
            let obs = session.call(server, &sock(SocketOp::ListenUnix { path: path.clone(), backlog: 8 }))?;
            let fd = match obs {
                Observed::Returned(Reply::Opened { fd, .. }) => fd,
                other => return Err(Stop::harness(format!("listen on {path}: {}", describe(&other)))),
            };
            (opened(&obs).unwrap_or(0), 0u16, fd)
        }
        Transport::TcpLoopback => {
            let obs = session.call(server, &sock(SocketOp::ListenTcp { backlog: 8 }))?;
            match values(&obs) {
                Some([slot, fd, port]) => (*slot as u32, *port as u16, *fd as i32),
                _ => return Err(Stop::harness(format!("listen on 127.0.0.1: {}", describe(&obs)))),
            }
        }
    };
    log.push(format!("server listens ({:?}, port {port})", case.transport));
    let connect = || match case.transport {
        Transport::Unix => sock(SocketOp::ConnectUnix { path: path.clone() }),
        Transport::TcpLoopback => sock(SocketOp::ConnectTcp { port }),
    };
    let mut conns = Vec::new();
    let mut client_slots = vec![0u32; clients.len()];
    let accept = sock(SocketOp::Accept { slot: listener });
    if case.accept_first {
        let obs = session.invoke(server, &accept, BlockSite { kind: SyscallKind::Accept, fd: Some(listen_fd) })?;
        log.push(format!("server: accept with no client -> {}", describe(&obs)));
        match obs {
            Observed::Blocked(_) => {}
            other => {
                return Ok(fail(
                    rules::ACCEPT,
                    format!(
                        "accept with no client connecting {}; allowed: pending until a client connects",
                        describe(&other)
                    ),
                ))
            }
        }
        let obs = session.call(clients[0], &connect())?;
        log.push(format!("client 1: connect -> {}", describe(&obs)));
        let Some(slot) = opened(&obs) else {
            return Ok(fail(rules::ACCEPT, format!("connect to a listening server {}", describe(&obs))));
        };
        client_slots[0] = slot;
        let obs = session
            .complete(server)
            .map_err(|s| s.demanded_by(rules::ACCEPT, "a blocked accept must return once a client connected"))?;
        log.push(format!("server: the pending accept -> {}", describe(&obs)));
        match opened(&obs) {
            Some(slot) => conns.push(slot),
            None => return Ok(fail(rules::ACCEPT, format!("a blocked accept woke and {}", describe(&obs)))),
        }
    }
    let first = conns.len();
    for (i, &c) in clients.iter().enumerate().skip(first) {
        let obs = session.call(c, &connect())?;
        log.push(format!("client {}: connect -> {}", i + 1, describe(&obs)));
        match opened(&obs) {
            Some(slot) => client_slots[i] = slot,
            None => {
                return Ok(fail(
                    rules::ACCEPT,
                    format!(
                        "connect of client {} with {} connection(s) waiting in a backlog of 8 {}",
                        i + 1,
                        i - first,
                        describe(&obs)
                    ),
                ))
            }
        }
    }
    for _ in first..clients.len() {
        let obs = session.call(server, &accept)?;
        match opened(&obs) {
            Some(slot) => conns.push(slot),
            None => return Ok(fail(rules::ACCEPT, format!("accept with clients waiting {}", describe(&obs)))),
        }
    }
    log.push(format!("server accepted {} connection(s)", conns.len()));
    for (i, &c) in clients.iter().enumerate() {
        let req = sock(SocketOp::Send {
            slot: client_slots[i],
            len: case.lens[i],
            tag: i as u8,
            start: 0,
            call: WriteCall::Send,
            opts: MsgOpts { dontwait: false, nosignal: true },
        });
        let obs = session.call(c, &req)?;
        if obs != Observed::Returned(Reply::Count(u64::from(case.lens[i]))) {
            return Ok(fail(
                rules::ACCEPT,
                format!("client {}: send of {} bytes {}", i + 1, case.lens[i], describe(&obs)),
            ));
        }
    }
    let mut seen = vec![false; clients.len()];
    for &conn in &conns {
        // The server reads what came on this connection: the first byte
        // says whose it is; then the rest of that client's message.
        let head = match recv_exactly(session, server, conn, 1, rules::ACCEPT)? {
            Ok(h) => h,
            Err(outcome) => return Ok(outcome),
        };
        let who = usize::from(pattern::tag_of(head[0])).min(case.lens.len() - 1);
        let rest = match recv_exactly(session, server, conn, case.lens[who] as usize - 1, rules::ACCEPT)? {
            Ok(r) => r,
            Err(outcome) => return Ok(outcome),
        };
        let data = [head, rest].concat();
        let client = match judge_connection(&data, &case.lens) {
            Ok(c) => c,
            Err(v) => return Ok(v.into()),
        };
        if std::mem::replace(&mut seen[client], true) {
            return Ok(fail(rules::ACCEPT, format!("client {}'s message arrived on two connections", client + 1)));
        }
        // Echo it back on the same connection.
        let echo = sock(SocketOp::Send {
            slot: conn,
            len: case.lens[client],
            tag: client as u8,
            start: 0,
            call: WriteCall::Send,
            opts: MsgOpts { dontwait: false, nosignal: true },
        });
        let obs = session.call(server, &echo)?;
        if obs != Observed::Returned(Reply::Count(u64::from(case.lens[client]))) {
            return Ok(fail(rules::ACCEPT, format!("server: echo to client {} {}", client + 1, describe(&obs))));
        }
    }
    for (i, &c) in clients.iter().enumerate() {
        let data = match recv_exactly(session, c, client_slots[i], case.lens[i] as usize, rules::ACCEPT)? {
            Ok(d) => d,
            Err(outcome) => return Ok(outcome),
        };
        if judge_connection(&data, &case.lens).ok() != Some(i) {
            return Ok(fail(rules::ACCEPT, format!("client {} got back bytes that are not its own message", i + 1)));
        }
    }
    log.push("every client got exactly its own bytes back".into());
    drop(scratch);
    Ok(CaseOutcome::Pass)
}
