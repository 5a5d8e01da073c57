//! The reference model of a connected socket pair, and with it the
//! checker. Per direction it keeps what was sent (traceable bytes per
//! sender for streams, per-sender message queues for datagram kinds), how
//! much was received, and shut-down state; per end, which live actors hold
//! it. For every observed outcome it knows the allowed set and names the
//! rule an outcome breaks; [`PairModel::obligations`] says which pending
//! operations must now complete.

use super::{PairOp, PairSetup};
use crate::checker::{Obligation, Violation};
use crate::constants::Constants;
use crate::observed::Observed;
use crate::os::signal::SigpipeDisposition;
use crate::os::socket::SocketKind;
use crate::os::{errno_name, signal_name};
use crate::pattern;
use crate::protocol::Reply;
use crate::socket::rules;
use crate::stream::{self, Holder, Stream};

pub use crate::checker::describe;
use crate::checker::violation;

/// One thing that happened in a socket-pair case.
pub type PairEvent = crate::checker::Event<PairOp>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    Send { start: u64, len: u64 },
    Recv { max: u64 },
}

type ActorState = Holder<Pending>;

/// One sender's traffic in one direction: its byte stream, and for
/// datagram kinds its unreceived messages `(start, len, completed)`.
#[derive(Clone, Debug, Default)]
struct Sent {
    stream: Stream,
    queue: Vec<(u64, u64, bool)>,
}

#[derive(Clone, Debug, Default)]
struct Direction {
    by_tag: Vec<Sent>,
    /// Filled to EAGAIN with single bytes and nothing received since.
    known_full: bool,
}

#[derive(Clone, Debug, Default)]
struct EndState {
    shut_write: bool,
    /// The peer closed with data unread in its receive queue: the next
    /// receive or send on this end may fail with ECONNRESET, once.
    reset_pending: bool,
    /// ECONNRESET was reported: data still waiting may have been discarded.
    reset_seen: bool,
}

/// The reference model of one socket-pair case.
#[derive(Clone, Debug)]
pub struct PairModel {
    setup: PairSetup,
    k: Constants,
    actors: Vec<ActorState>,
    /// `dirs[e]`: data sent from end `e` to the other end.
    dirs: [Direction; 2],
    ends: [EndState; 2],
    /// How many sends found room for sure, and how many blocked (evidence).
    pub observed_blocked: u64,
}

impl PairModel {
    /// The model at the start: every actor alive holding its end, SIGPIPE
    /// ignored (Rust's default in every actor).
    pub fn new(setup: &PairSetup, k: &Constants) -> PairModel {
        let actors = Holder::cast(setup.actors(), |a| setup.end_of(a));
        let dir = || Direction { by_tag: vec![Sent::default(); pattern::TAGS as usize], known_full: false };
        PairModel {
            setup: setup.clone(),
            k: k.clone(),
            actors,
            dirs: [dir(), dir()],
            ends: [EndState::default(), EndState::default()],
            observed_blocked: 0,
        }
    }

    /// Checks a whole recorded trace: the checker, offline.
    pub fn check(setup: &PairSetup, k: &Constants, events: &[PairEvent]) -> Result<PairModel, Violation> {
        let mut model = PairModel::new(setup, k);
        for event in events {
            model.apply(event)?;
        }
        Ok(model)
    }

    fn kind(&self) -> SocketKind {
        self.setup.kind
    }

    fn open(&self, end: usize) -> bool {
        stream::open(&self.actors, end)
    }

    /// Bytes (streams) or whole messages (datagram kinds) certainly waiting
    /// in direction `d`.
    fn available_lo(&self, d: usize) -> u64 {
        self.dirs[d]
            .by_tag
            .iter()
            .map(|s| {
                if self.kind().keeps_boundaries() {
                    s.queue.iter().filter(|m| m.2).count() as u64
                } else {
                    s.stream.unread_lo()
                }
            })
            .sum()
    }

    /// Bytes or messages possibly waiting in direction `d`.
    fn available_hi(&self, d: usize) -> u64 {
        self.dirs[d]
            .by_tag
            .iter()
            .map(|s| if self.kind().keeps_boundaries() { s.queue.len() as u64 } else { s.stream.unread_hi() })
            .sum()
    }

    /// Whether a step can be issued now; the reason to skip it if not.
    pub fn can_issue(&self, actor: u8, op: &PairOp) -> Result<(), &'static str> {
        let st = &self.actors[actor as usize];
        if !st.alive {
            return Err("actor has ended");
        }
        if matches!(op, PairOp::Kill) {
            return Ok(());
        }
        if st.pending.is_some() {
            return Err("actor is blocked in an earlier operation");
        }
        if !st.holds && !matches!(op, PairOp::Exit | PairOp::Sigpipe(_)) {
            return Err("actor has closed its end");
        }
        if matches!(op, PairOp::Fill { .. }) && self.kind() != SocketKind::Stream {
            return Err("fills are for stream sockets");
        }
        if matches!(op, PairOp::Recv { .. })
            && self.actors.iter().any(|a| a.end == st.end && matches!(a.pending, Some(Pending::Recv { .. })))
        {
            return Err("another receive on this end is pending");
        }
        Ok(())
    }

    /// Pattern tag and stream position of the next send by `actor`.
    pub fn next_send(&self, actor: u8) -> (u8, u64) {
        let end = self.actors[actor as usize].end;
        let tag = actor % pattern::TAGS;
        let s = &self.dirs[end].by_tag[tag as usize].stream;
        (tag, s.lo.max(s.hi))
    }

    /// Applies one event, or names the rule it breaks.
    pub fn apply(&mut self, event: &PairEvent) -> Result<(), Violation> {
        <Self as crate::checker::Checker>::apply(self, event)
    }

    fn apply_event(&mut self, event: &PairEvent) -> Result<(), Violation> {
        let judged = match event {
            PairEvent::Skipped { .. } => Ok(()),
            PairEvent::Step { actor, op, observed, .. } => self.step(*actor, op, observed),
            PairEvent::Completion { actor, observed } => self.completion(*actor, observed),
        };
        // A seqpacket pair joined through a listener is what
        // socket.unix.seqpacket-listener is about: whatever such a pair
        // breaks, it breaks that rule too.
        judged.map_err(|mut v| {
            if self.setup.kind == SocketKind::Seqpacket && self.setup.creator.listens() {
                v.rules.push(rules::SEQPACKET_LISTENER);
            }
            v
        })
    }

    fn step(&mut self, a: u8, op: &PairOp, observed: &Observed) -> Result<(), Violation> {
        // A call does not wait with MSG_DONTWAIT, nor on an end whose open
        // file description is non-blocking (however that was set).
        let nonblock = self.setup.nonblock[self.setup.end_of(a)];
        match *op {
            PairOp::Send { len, dontwait, nosignal, .. } => {
                self.send(a, u64::from(len), dontwait || nonblock, nosignal, observed)
            }
            PairOp::Fill { .. } => self.fill(a, observed),
            PairOp::Recv { max, dontwait, .. } => self.recv(a, u64::from(max), dontwait || nonblock, observed),
            PairOp::ShutWrite => {
                expect_done(a, "shutdown", observed)?;
                let end = self.actors[a as usize].end;
                self.ends[end].shut_write = true;
                Ok(())
            }
            PairOp::Close => {
                expect_done(a, "close", observed)?;
                self.let_go(a, false);
                Ok(())
            }
            PairOp::Exit | PairOp::Kill => {
                let signal = matches!(op, PairOp::Kill).then_some(libc::SIGKILL);
                match observed {
                    Observed::Died(d) if d.signal == signal => {
                        self.let_go(a, true);
                        Ok(())
                    }
                    other => Err(violation(
                        &[rules::PEER_CLOSED],
                        format!("actor {a}: {op}: {}; expected it to end", describe(other)),
                    )),
                }
            }
            PairOp::Sigpipe(d) => {
                expect_done(a, "sigaction", observed)?;
                self.actors[a as usize].sigpipe = d;
                Ok(())
            }
        }
    }

    /// Actor `a` no longer holds its end (closed it, or died).
    fn let_go(&mut self, a: u8, dies: bool) {
        let end = self.actors[a as usize].end;
        let st = &mut self.actors[a as usize];
        st.holds = false;
        if dies {
            st.alive = false;
            st.pending = None;
        }
        if !self.open(end) {
            // The last copy of `end` is gone: its unread receive queue goes
            // with it, and the peer may hear of that as ECONNRESET.
            let peer = 1 - end;
            if self.available_hi(peer) > 0 && self.kind().connected() {
                self.ends[peer].reset_pending = true;
            }
            if !self.kind().connected() {
                // A datagram pair whose peer is gone may drop the datagrams
                // that peer sent and we have not read (Linux purges them
                // when the survivor learns of the loss): they may still
                // arrive, or never.
                for sent in &mut self.dirs[end].by_tag {
                    for m in &mut sent.queue {
                        m.2 = false;
                    }
                }
            }
        }
    }

    fn sigpipe_rule_for_send(&self, a: u8, nosignal: bool, observed: &Observed, what: &str) -> Result<(), Violation> {
        let st = &self.actors[a as usize];
        let may_signal = st.sigpipe == SigpipeDisposition::Default && !nosignal;
        let stream = self.kind() == SocketKind::Stream;
        // POSIX send(): SIGPIPE for SOCK_STREAM and SOCK_SEQPACKET; a
        // platform that raises none for SOCK_SEQPACKET says so in the
        // catalogue (Linux).
        let quiet_seqpacket = self.kind() == SocketKind::Seqpacket
            && self.k.allows(ipc_conform_spec::Allowance::SeqpacketEpipeWithoutSigpipe);
        let signals = stream || self.kind() == SocketKind::Seqpacket;
        let allowed = match self.kind() {
            SocketKind::Dgram => "ECONNREFUSED, ENOTCONN or EPIPE",
            _ if may_signal && quiet_seqpacket => {
                "EPIPE without SIGPIPE (allowed here: seqpacket-epipe-without-sigpipe), or death by SIGPIPE"
            }
            _ if may_signal => "death by SIGPIPE",
            _ => "EPIPE",
        };
        let ok = match observed {
            Observed::Died(d) => d.signal == Some(libc::SIGPIPE) && may_signal && self.kind().connected(),
            Observed::Returned(Reply::Errno(e)) => match self.kind() {
                SocketKind::Dgram => [libc::ECONNREFUSED, libc::ENOTCONN, libc::EPIPE].contains(e),
                _ => *e == libc::EPIPE && (!(signals && may_signal) || quiet_seqpacket),
            },
            _ => false,
        };
        if ok {
            return Ok(());
        }
        Err(violation(&[rules::EPIPE], format!("{what} {}; allowed: {allowed}", describe(observed))))
    }

    fn send(&mut self, a: u8, n: u64, dontwait: bool, nosignal: bool, observed: &Observed) -> Result<(), Violation> {
        let end = self.actors[a as usize].end;
        let peer = 1 - end;
        if self.ends[end].shut_write {
            let what = format!("send of {n} bytes after shutdown(SHUT_WR) on the same end");
            return self.after_peer_gone(a, nosignal, observed, &what, rules::SHUTDOWN);
        }
        if !self.open(peer) {
            let what = format!("send of {n} bytes after every copy of the peer end closed");
            return self.after_peer_gone(a, nosignal, observed, &what, rules::EPIPE);
        }
        let (tag, start) = self.next_send(a);
        let room_for_sure = self.available_hi(end) == 0 && n <= self.single_send();
        let full = self.dirs[end].known_full && n > 0;
        let messages = self.kind().keeps_boundaries();
        match observed {
            Observed::Returned(Reply::Count(k)) => {
                let k = *k;
                if k > n {
                    return Err(violation(&[rules::ORDER], format!("send of {n} bytes returned {k}")));
                }
                if full && k > 0 {
                    return Err(violation(
                        &[rules::FULL_BLOCKS],
                        format!(
                            "send of {n} bytes to a full socket returned {k}; allowed: {}",
                            if dontwait { "EAGAIN" } else { "pending until the peer receives" }
                        ),
                    ));
                }
                if k < n {
                    if messages {
                        return Err(violation(
                            &[rules::BOUNDARIES],
                            format!("a {}-byte message was sent only in part ({k} bytes)", n),
                        ));
                    }
                    if !dontwait {
                        return Err(violation(
                            &[rules::FULL_BLOCKS],
                            format!("blocking send of {n} bytes returned a partial count {k} with the peer open"),
                        ));
                    }
                    if room_for_sure {
                        return Err(violation(
                            &[rules::FULL_BLOCKS],
                            format!("send of {n} bytes into an empty socket took only {k}"),
                        ));
                    }
                }
                self.accept(end, tag, start, k);
                Ok(())
            }
            Observed::Returned(Reply::Errno(e)) if (*e == libc::EAGAIN && dontwait) || self.datagram_dropped(*e) => {
                if room_for_sure {
                    return Err(violation(
                        &[rules::READ_BLOCKS, rules::FULL_BLOCKS],
                        format!("send of {n} bytes into an empty socket failed with {}", errno_name(*e)),
                    ));
                }
                Ok(())
            }
            Observed::Blocked(_) if !dontwait && n > 0 => {
                if room_for_sure {
                    return Err(violation(
                        &[rules::FULL_BLOCKS, rules::BIDIRECTIONAL],
                        format!(
                            "send of {n} bytes blocked although the direction was empty (one send takes {})",
                            self.single_send()
                        ),
                    ));
                }
                self.observed_blocked += 1;
                self.actors[a as usize].pending = Some(Pending::Send { start, len: n });
                let s = &mut self.dirs[end].by_tag[tag as usize];
                s.stream.pending(start, n);
                if messages {
                    s.queue.push((start, n, false));
                }
                Ok(())
            }
            Observed::Died(d) if d.signal == Some(libc::SIGPIPE) => {
                Err(violation(&[rules::EPIPE], format!("send of {n} bytes raised SIGPIPE while the peer end was open")))
            }
            other => Err(violation(
                &[if full { rules::FULL_BLOCKS } else { rules::BIDIRECTIONAL }],
                format!(
                    "send of {n} bytes {}; allowed: {n}{}",
                    describe(other),
                    if dontwait { " or EAGAIN" } else { ", or pending while the socket is full" }
                ),
            )),
        }
    }

    /// A datagram send refused the way this platform refuses when the
    /// receiver is full (macOS: `ENOBUFS`, the datagram dropped).
    fn datagram_dropped(&self, errno: i32) -> bool {
        self.kind() == SocketKind::Dgram && errno != libc::EAGAIN && errno == self.k.datagram_full_errno
    }

    fn single_send(&self) -> u64 {
        match self.kind() {
            SocketKind::Stream => self.k.stream_single_send,
            _ => self.k.message_single_send,
        }
    }

    fn after_peer_gone(
        &mut self,
        a: u8,
        nosignal: bool,
        observed: &Observed,
        what: &str,
        rule: &'static str,
    ) -> Result<(), Violation> {
        let end = self.actors[a as usize].end;
        if matches!(observed, Observed::Returned(Reply::Errno(e)) if *e == libc::ECONNRESET)
            && self.ends[end].reset_pending
        {
            // POSIX send(): [ECONNRESET] a connection forcibly closed by the
            // peer (it went with our data unread).
            self.take_reset(end);
            return Ok(());
        }
        let result = self.sigpipe_rule_for_send(a, nosignal, observed, what);
        if let Observed::Died(_) = observed {
            self.let_go(a, true);
        }
        result.map_err(|mut v| {
            v.rules = vec![rule];
            v
        })
    }

    fn accept(&mut self, end: usize, tag: u8, start: u64, k: u64) {
        let messages = self.kind().keeps_boundaries();
        let s = &mut self.dirs[end].by_tag[tag as usize];
        s.stream.accept(start, k);
        if messages && k > 0 {
            s.queue.push((start, k, true));
        }
    }

    fn fill(&mut self, a: u8, observed: &Observed) -> Result<(), Violation> {
        let end = self.actors[a as usize].end;
        let peer = 1 - end;
        if !self.open(peer) || self.ends[end].shut_write {
            return match observed {
                Observed::Returned(Reply::Filled { total: 0, errno: Some(e) }) if *e == libc::EPIPE => self
                    .sigpipe_rule_for_send(
                        a,
                        false,
                        &Observed::Returned(Reply::Errno(*e)),
                        "a fill with the peer gone",
                    ),
                other => self.after_peer_gone(a, false, other, "a fill with the peer gone", rules::EPIPE),
            };
        }
        match observed {
            Observed::Returned(Reply::Filled { total, errno: None }) => {
                let (tag, start) = self.next_send(a);
                self.accept(end, tag, start, *total);
                self.dirs[end].known_full = true;
                Ok(())
            }
            other => Err(violation(
                &[rules::FULL_BLOCKS],
                format!("a non-blocking fill {}; allowed: bytes, then EAGAIN", describe(other)),
            )),
        }
    }

    fn recv(&mut self, a: u8, max: u64, dontwait: bool, observed: &Observed) -> Result<(), Violation> {
        let end = self.actors[a as usize].end;
        let from = 1 - end;
        let lo = self.available_lo(from);
        let hi = self.available_hi(from);
        let eof_possible = self.kind().connected() && (!self.open(from) || self.ends[from].shut_write);
        match observed {
            Observed::Returned(Reply::Received { data, truncated })
                if data.is_empty() && *truncated != Some(true) && max > 0 =>
            {
                self.eof(a, "recv")
            }
            Observed::Returned(Reply::Received { data, truncated }) => self.data(a, max, data, *truncated),
            Observed::Returned(Reply::Errno(e)) if *e == libc::ECONNRESET && self.ends[end].reset_pending => {
                self.take_reset(end);
                Ok(())
            }
            Observed::Returned(Reply::Errno(e)) if *e == libc::EAGAIN && dontwait => {
                if lo > 0 {
                    return Err(violation(
                        &[rules::READ_BLOCKS],
                        format!("MSG_DONTWAIT receive failed with EAGAIN with {lo} waiting"),
                    ));
                }
                if eof_possible && hi == 0 {
                    return Err(violation(
                        &[if self.open(from) { rules::SHUTDOWN } else { rules::PEER_CLOSED }],
                        "receive after the peer stopped sending failed with EAGAIN; allowed: 0 (end of file)",
                    ));
                }
                Ok(())
            }
            Observed::Blocked(_) if !dontwait => {
                if lo > 0 {
                    return Err(violation(
                        &[rules::READ_BLOCKS],
                        format!("receive blocked with {lo} waiting; allowed: data at once"),
                    ));
                }
                if eof_possible && hi == 0 {
                    let rule = if self.open(from) { rules::SHUTDOWN } else { rules::PEER_CLOSED };
                    return Err(violation(
                        &[rule],
                        "receive blocked although the peer can send nothing more; allowed: 0 (end of file)",
                    ));
                }
                self.actors[a as usize].pending = Some(Pending::Recv { max });
                Ok(())
            }
            other => Err(violation(
                &[rules::READ_BLOCKS],
                format!(
                    "receive {}; allowed: {}",
                    describe(other),
                    if dontwait { "data or EAGAIN" } else { "data, or pending until the peer sends" }
                ),
            )),
        }
    }

    /// The end reported ECONNRESET: that was its one report, and what was
    /// waiting may be gone ("where the platform discards unread data").
    fn take_reset(&mut self, end: usize) {
        self.ends[end].reset_pending = false;
        self.ends[end].reset_seen = true;
    }

    /// A receive returned 0 bytes: end of file.
    fn eof(&mut self, a: u8, what: &str) -> Result<(), Violation> {
        let end = self.actors[a as usize].end;
        let from = 1 - end;
        if !self.kind().connected() {
            return Err(violation(
                &[rules::BOUNDARIES],
                format!("actor {a}: {what} of a datagram socket returned 0 bytes, but no empty datagram was sent"),
            ));
        }
        if self.open(from) && !self.ends[from].shut_write {
            return Err(violation(
                &[rules::READ_BLOCKS, rules::PEER_CLOSED],
                format!("actor {a}: {what} returned 0 bytes (end of file) while the peer end is open and not shut down; allowed: data, or pending until the peer sends"),
            ));
        }
        let rule = if self.open(from) { rules::SHUTDOWN } else { rules::PEER_CLOSED };
        for (tag, s) in self.dirs[from].by_tag.iter_mut().enumerate() {
            let messages_unread = self.setup.kind.keeps_boundaries() && s.queue.iter().any(|m| m.2);
            let bytes_unread = !self.setup.kind.keeps_boundaries() && s.stream.closed().is_err();
            if messages_unread || bytes_unread {
                return Err(violation(&[rule], format!("end of file before all of sender {tag}'s data was received")));
            }
            s.stream.lo = s.stream.consumed;
            s.stream.hi = s.stream.consumed;
            s.queue.clear();
        }
        self.ends[end].reset_pending = false;
        Ok(())
    }

    fn data(&mut self, a: u8, max: u64, d: &[u8], truncated: Option<bool>) -> Result<(), Violation> {
        let end = self.actors[a as usize].end;
        let from = 1 - end;
        if d.len() as u64 > max {
            return Err(violation(&[rules::ORDER], format!("receive of at most {max} bytes returned {}", d.len())));
        }
        self.dirs[from].known_full = false;
        if self.kind().keeps_boundaries() {
            return self.message(a, from, max, d, truncated);
        }
        for (i, &b) in d.iter().enumerate() {
            let tag = pattern::tag_of(b);
            let s = &mut self.dirs[from].by_tag[tag as usize].stream;
            s.consume(tag, b).map_err(|why| {
                violation(&[rules::ORDER], format!("actor {a}: byte {i} received is {why} (sender {tag})"))
            })?;
        }
        Ok(())
    }

    fn message(&mut self, a: u8, from: usize, max: u64, d: &[u8], truncated: Option<bool>) -> Result<(), Violation> {
        let Some(&first) = d.first() else {
            return Err(violation(
                &[rules::BOUNDARIES],
                format!("actor {a} received an empty message, but none was sent"),
            ));
        };
        let tag = pattern::tag_of(first);
        let s = &mut self.dirs[from].by_tag[tag as usize];
        let Some(&(start, len, _)) = s.queue.first() else {
            return Err(violation(
                &[rules::BOUNDARIES],
                format!("actor {a} received a message of sender {tag}, which has none waiting"),
            ));
        };
        let mut expected = Vec::new();
        pattern::fill(&mut expected, tag, start, len.min(max) as usize);
        if d != expected.as_slice() {
            return Err(violation(
                &[rules::BOUNDARIES],
                format!("actor {a} received {} bytes that are not the first {} bytes of sender {tag}'s next message ({len} bytes): boundaries merged, split or reordered", d.len(), len.min(max)),
            ));
        }
        // Only recvmsg(2) returns the flags that say so.
        if let Some(truncated) = truncated.filter(|t| *t != (len > max)) {
            return Err(violation(
                &[rules::BOUNDARIES],
                format!(
                    "a {len}-byte message received into {max} bytes came {} MSG_TRUNC",
                    if truncated { "with" } else { "without" }
                ),
            ));
        }
        s.queue.remove(0);
        s.stream.consumed = s.stream.consumed.max(start + len);
        Ok(())
    }

    fn completion(&mut self, a: u8, observed: &Observed) -> Result<(), Violation> {
        let Some(pending) = self.actors[a as usize].pending.take() else {
            return Err(violation(&[rules::ORDER], format!("actor {a} completed an operation that was not pending")));
        };
        let end = self.actors[a as usize].end;
        match pending {
            Pending::Recv { max } => match observed {
                Observed::Returned(Reply::Received { data, truncated })
                    if data.is_empty() && *truncated != Some(true) =>
                {
                    self.eof(a, "a blocked receive woke and")
                }
                Observed::Returned(Reply::Received { data, truncated }) => self.data(a, max, data, *truncated),
                Observed::Returned(Reply::Errno(e)) if *e == libc::ECONNRESET && self.ends[end].reset_pending => {
                    self.take_reset(end);
                    Ok(())
                }
                other => Err(violation(
                    &[rules::READ_BLOCKS],
                    format!("a blocked receive woke and {}; allowed: data or 0 (end of file)", describe(other)),
                )),
            },
            Pending::Send { start, len } => {
                let tag = a % pattern::TAGS;
                let gone = !self.open(1 - end) || self.ends[end].shut_write;
                match observed {
                    Observed::Returned(Reply::Count(k)) if *k == len => {
                        self.settle_send(end, tag, start, len, len);
                        Ok(())
                    }
                    Observed::Returned(Reply::Count(k)) if gone && *k < len && !self.kind().keeps_boundaries() => {
                        self.settle_send(end, tag, start, len, *k);
                        Ok(())
                    }
                    Observed::Returned(Reply::Errno(_)) | Observed::Died(_) if gone => {
                        self.settle_send(end, tag, start, len, 0);
                        let what = format!("a blocked send of {len} bytes, woken by the peer's going,");
                        self.after_peer_gone(a, false, observed, &what, rules::EPIPE)
                    }
                    other => Err(violation(
                        &[rules::FULL_BLOCKS],
                        format!(
                            "a blocked send of {len} bytes woke and {}; allowed: {len} once all is sent",
                            describe(other)
                        ),
                    )),
                }
            }
        }
    }

    fn settle_send(&mut self, end: usize, tag: u8, start: u64, len: u64, k: u64) {
        let s = &mut self.dirs[end].by_tag[tag as usize];
        s.stream.settle(start, len, k);
        if let Some(m) = s.queue.iter_mut().find(|m| m.0 == start && !m.2) {
            m.2 = true;
        }
        if k == 0 {
            s.queue.retain(|m| !(m.0 == start && m.1 == len));
        }
    }

    /// The pending operations the rules say must complete now.
    pub fn obligations(&self) -> Vec<Obligation> {
        <Self as crate::checker::Checker>::obligations(self)
    }

    fn pending_obligations(&self) -> Vec<Obligation> {
        let mut out = Vec::new();
        for (a, st) in self.actors.iter().enumerate() {
            if !st.alive {
                continue;
            }
            let end = st.end;
            let from = 1 - end;
            match st.pending {
                Some(Pending::Recv { .. }) => {
                    let sender_has_more = self.actors.iter().enumerate().any(|(b, other)| {
                        other.alive
                            && other.end == from
                            && match other.pending {
                                Some(Pending::Send { start, len }) => {
                                    let s = &self.dirs[from].by_tag[b % pattern::TAGS as usize].stream;
                                    s.consumed < start + len
                                }
                                _ => false,
                            }
                    });
                    if self.available_lo(from) > 0 || sender_has_more {
                        out.push(Obligation::of(
                            a as u8,
                            rules::READ_BLOCKS,
                            "a blocked receive must wake once data is waiting",
                        ));
                    } else if self.kind().connected() && (!self.open(from) || self.ends[from].shut_write) {
                        let rule = if self.open(from) { rules::SHUTDOWN } else { rules::PEER_CLOSED };
                        out.push(Obligation::of(
                            a as u8,
                            rule,
                            "the peer can send nothing more: a blocked receive must wake with end of file",
                        ));
                    }
                }
                Some(Pending::Send { start, len }) => {
                    let s = &self.dirs[end].by_tag[a % pattern::TAGS as usize];
                    let delivered = if self.kind().keeps_boundaries() {
                        !s.queue.iter().any(|m| m.0 == start)
                    } else {
                        s.stream.consumed >= start + len
                    };
                    if !self.open(from) || self.ends[end].shut_write {
                        out.push(Obligation::of(a as u8, rules::EPIPE, "the peer is gone: a blocked send must wake"));
                    } else if delivered {
                        out.push(Obligation::of(
                            a as u8,
                            rules::FULL_BLOCKS,
                            "everything the blocked send carried was received: it must return",
                        ));
                    }
                }
                None => {}
            }
        }
        out
    }
}

fn expect_done(a: u8, what: &str, observed: &Observed) -> Result<(), Violation> {
    match observed {
        Observed::Returned(Reply::Done) => Ok(()),
        other => {
            Err(violation(&[rules::BIDIRECTIONAL], format!("actor {a}: {what} {}; allowed: success", describe(other))))
        }
    }
}

/// The name of a death's signal, for messages.
pub fn died_of(observed: &Observed) -> Option<String> {
    match observed {
        Observed::Died(d) => d.signal.map(signal_name),
        _ => None,
    }
}

impl crate::checker::Checker for PairModel {
    type Op = PairOp;

    fn can_issue(&self, actor: u8, op: &PairOp) -> Result<(), &'static str> {
        PairModel::can_issue(self, actor, op)
    }

    fn apply(&mut self, event: &PairEvent) -> Result<(), Violation> {
        self.apply_event(event)
    }

    fn obligations(&self) -> Vec<Obligation> {
        self.pending_obligations()
    }
}
