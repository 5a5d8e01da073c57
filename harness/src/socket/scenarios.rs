//! Socket scenarios beyond a connected pair: a server accepting several
//! clients, UDP over loopback, descriptor passing, and path permissions.
//! Each has a case type (data, printable as numbered steps), a runner
//! against the host, and pure judges that the checker tests feed with bad
//! observations.

use super::rules;
use crate::case::Stop;
use crate::case::{CaseOutcome, CaseReport};
use crate::evidence::BlockSite;
use crate::observed::Observed;
use crate::os::proc::SyscallKind;
use crate::os::socket::MsgOpts;
use crate::pattern;
use crate::pipe::model::describe;
use crate::protocol::socket::SocketOp;
use crate::protocol::{Reply, Request};
use crate::scratch::Scratch;
use crate::session::{ActorId, Session};
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::os::fd::AsFd;

fn fail(rule: &str, message: String) -> CaseOutcome {
    CaseOutcome::Fail { rules: vec![rule.to_string()], message }
}

fn sock(op: SocketOp) -> Request {
    Request::Socket(op)
}

/// Runs `drive` with a fresh session and collects its log and evidence.
fn run_with(
    timing: Timing,
    drive: impl FnOnce(&mut Session, &mut Vec<String>) -> Result<CaseOutcome, Stop>,
) -> CaseReport<String> {
    crate::case::run_in_session(timing, |session, report| drive(session, &mut report.events))
}

fn opened(obs: &Observed) -> Option<u32> {
    match obs {
        Observed::Returned(Reply::Opened { slot, .. }) => Some(*slot),
        _ => None,
    }
}

fn values(obs: &Observed) -> Option<&[i64]> {
    match obs {
        Observed::Returned(Reply::Values(v)) => Some(v),
        _ => None,
    }
}

/// Receives exactly `len` bytes on `slot` of `id` (several receives if
/// the stream splits them); `Err(outcome)` if the stream ends or fails.
fn recv_exactly(
    session: &mut Session,
    id: ActorId,
    slot: u32,
    len: usize,
    rule: &str,
) -> Result<Result<Vec<u8>, CaseOutcome>, Stop> {
    let mut got = Vec::new();
    while got.len() < len {
        let request = sock(SocketOp::Recv { slot, max: (len - got.len()) as u32, dontwait: false });
        let why = format!("{id}: a receive of data already sent must return");
        match session.call(id, &request).map_err(|s| s.demanded_by(rule, &why))? {
            Observed::Returned(Reply::Received { data, .. }) if !data.is_empty() => got.extend(data),
            other => {
                return Ok(Err(fail(
                    rule,
                    format!("{id}: after {} of {len} bytes a receive {}", got.len(), describe(&other)),
                )))
            }
        }
    }
    Ok(Ok(got))
}

// ---- socket.server.accept ------------------------------------------

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
pub fn judge_connection(data: &[u8], lens: &[u32]) -> Result<usize, CaseOutcome> {
    let err = |why: String| Err(fail(rules::ACCEPT, why));
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
            Err(outcome) => return Ok(outcome),
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

// ---- socket.udp.datagram -------------------------------------------

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
/// whole and unaltered, none twice. Loss is allowed, but a case in which
/// every datagram was lost checked nothing: it is not a pass.
pub fn judge_datagrams(received: &[Vec<u8>], case: &UdpCase) -> CaseOutcome {
    let sent: usize = case.senders.iter().map(Vec::len).sum();
    match datagram_problem(received, case) {
        Some(why) => fail(rules::UDP, why),
        None if received.is_empty() && sent > 0 => CaseOutcome::Unresolved(format!(
            "all {sent} datagram(s) sent were lost on loopback: nothing arrived to check"
        )),
        None => CaseOutcome::Pass,
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
            &sock(SocketOp::Recv { slot: rslot, max: 65536, dontwait: false }),
            BlockSite { kind: SyscallKind::Recv, fd: Some(rfd) },
        )?;
        match obs {
            Observed::Returned(Reply::Received { data, truncated: false }) => received.push(data),
            // Nothing more waiting: the rest is lost (allowed) or late.
            Observed::Blocked(_) => break,
            other => return Ok(fail(rules::UDP, format!("receive of a datagram {}", describe(&other)))),
        }
    }
    *received_count = received.len() as u64;
    log.push(format!("received {} of {total} datagrams", received.len()));
    Ok(judge_datagrams(&received, case))
}

// ---- socket.rights.fd-passing --------------------------------------

/// Descriptor passing: a pipe's write end and a file's descriptor go from
/// actor A to actor B over a unix socket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RightsCase {
    /// Bytes B writes into the passed pipe end.
    pub pipe_len: u32,
    /// Bytes A, then B, write through the shared file description.
    pub file_lens: (u32, u32),
}

impl fmt::Display for RightsCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  1. A sends a pipe's write end to B (SCM_RIGHTS) and closes its own")?;
        writeln!(f, "  2. B writes {} bytes through it; C reads them from the read end", self.pipe_len)?;
        writeln!(f, "  3. B closes it; C reads end of file")?;
        writeln!(
            f,
            "  4. A sends a file's descriptor to B; A writes {}, B writes {} bytes",
            self.file_lens.0, self.file_lens.1
        )?;
        writeln!(f, "  5. both see offset {}; the file holds A's bytes then B's", self.file_lens.0 + self.file_lens.1)
    }
}

/// The judge of the shared-offset half: both offsets and the file's bytes.
pub fn judge_shared_offset(case: &RightsCase, offsets: (i64, i64), file: &[u8]) -> CaseOutcome {
    let (a, b) = case.file_lens;
    let total = i64::from(a) + i64::from(b);
    if offsets != (total, total) {
        return fail(rules::RIGHTS, format!("after writes of {a} and {b} bytes through the passed descriptor the offsets are {offsets:?}; the same open file description has one offset, {total}"));
    }
    let mut expected = Vec::new();
    pattern::fill(&mut expected, 0, 0, a as usize);
    let mut second = Vec::new();
    pattern::fill(&mut second, 1, 0, b as usize);
    expected.extend(second);
    if file != expected.as_slice() {
        return fail(
            rules::RIGHTS,
            "the file does not hold A's bytes followed by B's: the writes did not share one offset".into(),
        );
    }
    CaseOutcome::Pass
}

/// Runs a descriptor-passing case.
pub fn run_rights(case: &RightsCase, timing: Timing) -> CaseReport<String> {
    let max = crate::case::MAX_OP_BYTES;
    if case.pipe_len == 0
        || u64::from(case.pipe_len) > 1 << 16
        || u64::from(case.file_lens.0) > max
        || u64::from(case.file_lens.1) > max
    {
        return crate::case::refused(
            "the pipe part moves 1 to 65536 bytes, the file part at most 16 MiB per writer".into(),
        );
    }
    run_with(timing, |session, log| drive_rights(case, session, log))
}

fn drive_rights(case: &RightsCase, session: &mut Session, log: &mut Vec<String>) -> Result<CaseOutcome, Stop> {
    use crate::os::socket as s;
    let scratch = Scratch::new().map_err(|e| Stop::io("scratch directory", e))?;
    let (a, b, c) = (session.spawn()?, session.spawn()?, session.spawn()?);
    {
        let _quiet = crate::os::process::quiet_forks();
        let (s0, s1) = s::pair(s::SocketKind::Stream).map_err(|e| Stop::io("socketpair", e))?;
        let (r, w) = crate::os::pipe::pipe_cloexec().map_err(|e| Stop::io("pipe", e))?;
        session.hand(a, &[s0.as_fd(), w.as_fd()])?; // A: slot 0 socket, slot 1 pipe write end
        session.hand(b, &[s1.as_fd()])?; // B: slot 0 socket
        session.hand(c, &[r.as_fd()])?; // C: slot 0 pipe read end
    }
    let expect_done = |obs: Observed, what: &str| -> Result<(), CaseOutcome> {
        if obs == Observed::Returned(Reply::Done) {
            Ok(())
        } else {
            Err(fail(rules::RIGHTS, format!("{what} {}", describe(&obs))))
        }
    };
    if let Err(o) =
        expect_done(session.call(a, &sock(SocketOp::SendFd { slot: 0, fd_slot: 1 }))?, "A: sending the pipe end")
    {
        return Ok(o);
    }
    session.call(a, &Request::Close { slot: 1 })?;
    let obs = session.call(b, &sock(SocketOp::RecvFd { slot: 0 }))?;
    let Some(bslot) = opened(&obs) else {
        return Ok(fail(rules::RIGHTS, format!("B: receiving the descriptor {}", describe(&obs))));
    };
    let obs = session.call(b, &Request::Write { slot: bslot, len: case.pipe_len, tag: 1, start: 0 })?;
    if obs != Observed::Returned(Reply::Count(u64::from(case.pipe_len))) {
        return Ok(fail(rules::RIGHTS, format!("B: write through the received pipe end {}", describe(&obs))));
    }
    let mut got = Vec::new();
    while got.len() < case.pipe_len as usize {
        match session.call(c, &Request::Read { slot: 0, max: case.pipe_len })? {
            Observed::Returned(Reply::Data(d)) if !d.is_empty() => got.extend(d),
            other => {
                return Ok(fail(
                    rules::RIGHTS,
                    format!("C: reading what B wrote through the passed end: {}", describe(&other)),
                ))
            }
        }
    }
    let mut expected = Vec::new();
    pattern::fill(&mut expected, 1, 0, case.pipe_len as usize);
    if got != expected {
        return Ok(fail(rules::RIGHTS, "C read other bytes than B wrote through the passed pipe end".into()));
    }
    session.call(b, &Request::Close { slot: bslot })?;
    let obs = session.call(c, &Request::Read { slot: 0, max: 16 })?;
    log.push(format!(
        "pipe: B wrote {} bytes through the passed end, C read them; after B's close C reads -> {}",
        case.pipe_len,
        describe(&obs)
    ));
    if obs != Observed::Returned(Reply::Data(Vec::new())) {
        return Ok(fail(
            rules::RIGHTS,
            format!(
                "after B closed the only remaining copy of the passed write end, C's read {}; allowed: 0 (end of file)",
                describe(&obs)
            ),
        ));
    }
    // The file half: one open file description, one offset.
    let path = scratch.path().join("shared");
    let quiet = crate::os::process::quiet_forks();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| Stop::io("creating the shared file", e))?;
    session.hand(a, &[file.as_fd()])?;
    drop(file);
    drop(quiet);
    let a_file = 2; // A's slots: 0 socket, 1 closed pipe end, 2 the file
    if let Err(o) = expect_done(
        session.call(a, &sock(SocketOp::SendFd { slot: 0, fd_slot: a_file }))?,
        "A: sending the file's descriptor",
    ) {
        return Ok(o);
    }
    let obs = session.call(b, &sock(SocketOp::RecvFd { slot: 0 }))?;
    let Some(b_file) = opened(&obs) else {
        return Ok(fail(rules::RIGHTS, format!("B: receiving the file's descriptor {}", describe(&obs))));
    };
    let (la, lb) = case.file_lens;
    for (who, id, slot, tag, len) in [("A", a, a_file, 0u8, la), ("B", b, b_file, 1u8, lb)] {
        let obs = session.call(id, &Request::Write { slot, len, tag, start: 0 })?;
        if obs != Observed::Returned(Reply::Count(u64::from(len))) {
            return Ok(fail(
                rules::RIGHTS,
                format!("{who}: write of {len} bytes to the shared file {}", describe(&obs)),
            ));
        }
    }
    let off = |obs: Observed| values(&obs).and_then(|v| v.first().copied()).unwrap_or(-1);
    let oa = off(session.call(a, &sock(SocketOp::Offset { slot: a_file }))?);
    let ob = off(session.call(b, &sock(SocketOp::Offset { slot: b_file }))?);
    let bytes = std::fs::read(&path).map_err(|e| Stop::io("reading the shared file", e))?;
    log.push(format!("file: A wrote {la}, B wrote {lb}; offsets A {oa}, B {ob}; file {} bytes", bytes.len()));
    Ok(judge_shared_offset(case, (oa, ob), &bytes))
}

// ---- socket.path.permissions ---------------------------------------

/// What denies the connecting user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Denial {
    /// The socket file has mode 0700 (owner root).
    SocketMode,
    /// The directory holding it has mode 0700 (no search permission).
    DirectoryMode,
}

/// A connect by an unprivileged user to a socket it may not write.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermsCase {
    /// What denies it.
    pub denial: Denial,
}

impl fmt::Display for PermsCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  1. server (root): listen on a unix socket path; {:?} set to 0700", self.denial)?;
        writeln!(f, "  2. client: switch to uid 65534; connect -> expect EACCES")?;
        writeln!(f, "  3. the path opened to everyone (0777 / 0755); client connects -> expect success")
    }
}

/// The judge of the denied connect.
pub fn judge_denied_connect(obs: &Observed) -> Option<CaseOutcome> {
    match obs {
        Observed::Returned(Reply::Errno(e)) if *e == libc::EACCES => None,
        other => Some(fail(
            rules::PERMISSIONS,
            format!(
                "connect by a user without write permission on the socket's path {}; allowed: EACCES",
                describe(other)
            ),
        )),
    }
}

/// Runs a permissions case (unsupported where no second user is at hand).
pub fn run_perms(case: &PermsCase, timing: Timing) -> CaseReport<String> {
    if !crate::os::process::can_switch_user() {
        let mut report = CaseReport::new();
        report.outcome = CaseOutcome::Unsupported(
            "needs a second user: run as root so that an actor can switch to uid 65534".into(),
        );
        return report;
    }
    run_with(timing, |session, log| drive_perms(case, session, log))
}

fn drive_perms(case: &PermsCase, session: &mut Session, log: &mut Vec<String>) -> Result<CaseOutcome, Stop> {
    use std::os::unix::fs::PermissionsExt;
    let scratch = Scratch::new().map_err(|e| Stop::io("scratch directory", e))?;
    let dir = scratch.path().join("d");
    std::fs::create_dir(&dir).map_err(|e| Stop::io("mkdir", e))?;
    let chmod = |p: &std::path::Path, mode: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
            .map_err(|e| Stop::io(format!("chmod {}", p.display()), e))
    };
    chmod(scratch.path(), 0o755)?;
    chmod(&dir, 0o755)?;
    let path = dir.join("s.sock");
    let server = session.spawn()?;
    let client = session.spawn()?;
    let obs =
        session.call(server, &sock(SocketOp::ListenUnix { path: path.to_string_lossy().into_owned(), backlog: 4 }))?;
    if opened(&obs).is_none() {
        return Err(Stop::harness(format!("listen: {}", describe(&obs))));
    }
    match case.denial {
        Denial::SocketMode => chmod(&path, 0o700)?,
        Denial::DirectoryMode => {
            chmod(&path, 0o777)?;
            chmod(&dir, 0o700)?
        }
    }
    let (uid, gid) = crate::os::process::UNPRIVILEGED;
    let obs = session.call(client, &Request::DropPrivileges { uid, gid })?;
    if obs != Observed::Returned(Reply::Done) {
        return Err(Stop::harness(format!("switching to uid {uid}: {}", describe(&obs))));
    }
    let connect = sock(SocketOp::ConnectUnix { path: path.to_string_lossy().into_owned() });
    let denied = session.call(client, &connect)?;
    log.push(format!("uid {uid}: connect with {:?} 0700 -> {}", case.denial, describe(&denied)));
    if let Some(outcome) = judge_denied_connect(&denied) {
        return Ok(outcome);
    }
    chmod(&dir, 0o755)?;
    chmod(&path, 0o777)?;
    let allowed = session.call(client, &connect)?;
    log.push(format!("uid {uid}: connect with the path open -> {}", describe(&allowed)));
    if opened(&allowed).is_none() {
        return Err(Stop::harness(format!(
            "the control connect (path open to everyone) failed: {}; the denial above proves nothing",
            describe(&allowed)
        )));
    }
    Ok(CaseOutcome::Pass)
}
