//! The reference model of a socket-readiness case, and with it the
//! checker (the semantics are those written in `spec/rules/ready.toml`).
//!
//! Every descriptor is non-blocking and a unix stream socket's send,
//! shutdown, close and connect are complete in the peer's socket when the
//! call returns, so before each probe the model knows:
//!
//! - for each end of a pair, how many bytes are queued for it, whether
//!   its peer shut down writing or is closed by every holder: readable
//!   exactly when bytes are queued or the peer is done writing, and a
//!   peer's shutdown (where told) exactly when it is done
//!   (`ready.socket.readable`);
//! - for a listener, how many connections wait: readable exactly when one
//!   does, and a non-blocking accept returns one exactly then
//!   (`ready.socket.listener`).
//!
//! Sends and receives are judged as far as readiness needs them: a
//! receive takes at most what is queued and finds end of file only once
//! the peer is done; a send to a peer that is gone, or after one's own
//! shutdown, fails with `EPIPE`. What the bytes are is the socket rules'
//! business.

use super::super::rules;
use super::{Op, Setup};
use crate::checker::{describe, violation, Checker, Event, Obligation, Violation};
use crate::observed::Observed;
use crate::os::ready::{Interface, Readiness};
use crate::protocol::Reply;

/// The reference model of one socket-readiness case.
#[derive(Clone, Debug)]
pub struct SocketReadyModel {
    setup: Setup,
    /// Per actor: still holds its end.
    holds: Vec<bool>,
    /// Per end: bytes queued for it.
    queued: [u64; 2],
    /// Per end: shut down for writing.
    shut: [bool; 2],
    /// Per end: its peer was closed with bytes unread, so a receive may
    /// fail with `ECONNRESET` (Linux) instead of returning end of file.
    reset: [bool; 2],
    /// Per end: bytes sent so far (the pattern's next position).
    sent: [u64; 2],
    /// Connections waiting to be accepted.
    pending: u64,
    /// Answers judged (an observation for the report).
    probes: u64,
}

impl SocketReadyModel {
    /// The model at the start of a case: every actor holds its end,
    /// nothing is queued, no connection waits.
    pub fn new(setup: &Setup) -> SocketReadyModel {
        SocketReadyModel {
            setup: setup.clone(),
            holds: vec![true; usize::from(setup.actors())],
            queued: [0; 2],
            shut: [false; 2],
            reset: [false; 2],
            sent: [0; 2],
            pending: 0,
            probes: 0,
        }
    }

    /// The pattern tag and stream position actor `a`'s next send starts at.
    pub fn next_send(&self, a: u8) -> (u8, u64) {
        let end = self.setup.end_of(a);
        (end as u8, self.sent[end])
    }

    fn holders(&self, end: usize) -> usize {
        (0..self.setup.actors()).filter(|a| self.setup.end_of(*a) == end && self.holds[usize::from(*a)]).count()
    }

    /// Whether the peer of `end` will send nothing more.
    fn peer_done(&self, end: usize) -> bool {
        self.shut[1 - end] || self.holders(1 - end) == 0
    }

    fn state(&self, end: usize) -> String {
        if self.setup.is_listener() {
            return format!("{} connection(s) waiting to be accepted", self.pending);
        }
        let peer = if self.holders(1 - end) == 0 {
            "closed by every holder"
        } else if self.shut[1 - end] {
            "shut down for writing"
        } else {
            "open"
        };
        format!("{} byte(s) queued for end {end}, its peer {peer}", self.queued[end])
    }

    /// Judges one interface's answer about actor `a`'s end.
    fn judge(&self, a: u8, how: Interface, r: Readiness) -> Result<(), Violation> {
        let end = self.setup.end_of(a);
        if self.setup.is_listener() {
            let waiting = self.pending > 0;
            if r.readable != waiting {
                return Err(violation(
                    &[rules::SOCKET_LISTENER],
                    format!(
                        "{how} said the listener is {r} ({}); expected {}",
                        self.state(end),
                        if waiting { "readable" } else { "not readable" }
                    ),
                ));
            }
            return Ok(());
        }
        let done = self.peer_done(end);
        let readable = self.queued[end] > 0 || done;
        let wrong = if r.rdhup.is_some_and(|h| h != done) {
            Some(if done { "expected the peer's shutdown" } else { "a peer's shutdown that did not happen" })
        } else if r.readable != readable {
            Some(if readable { "expected readable" } else { "expected not readable" })
        } else {
            None
        };
        match wrong {
            Some(wrong) => Err(violation(
                &[rules::SOCKET_READABLE],
                format!("{how} said end {end} is {r} ({}); {wrong}", self.state(end)),
            )),
            None => Ok(()),
        }
    }

    fn rule(&self) -> &'static str {
        if self.setup.is_listener() {
            rules::SOCKET_LISTENER
        } else {
            rules::SOCKET_READABLE
        }
    }

    fn probed(&mut self, a: u8, with: &[Interface], answers: &[i64]) -> Result<(), Violation> {
        if answers.len() != with.len() {
            return Err(violation(
                &[self.rule()],
                format!("{} answer(s) to a probe of {} interface(s)", answers.len(), with.len()),
            ));
        }
        for (how, bits) in with.iter().zip(answers) {
            let r = Readiness::from_bits(*bits).ok_or_else(|| {
                violation(&[self.rule()], format!("{how} gave an answer that is no readiness: {bits}"))
            })?;
            self.judge(a, *how, r)?;
            self.probes += 1;
        }
        Ok(())
    }

    fn sent_reply(&mut self, a: u8, len: u64, reply: &Reply) -> Result<(), Violation> {
        let end = self.setup.end_of(a);
        let gone = self.shut[end] || self.holders(1 - end) == 0;
        let ok = match reply {
            Reply::Errno(e) => *e == libc::EPIPE && gone || *e == libc::EAGAIN && !gone && self.queued[1 - end] > 0,
            Reply::Count(n) if !gone && *n <= len && (*n > 0 || len == 0) => {
                self.queued[1 - end] += n;
                self.sent[end] += n;
                true
            }
            _ => false,
        };
        if ok {
            return Ok(());
        }
        Err(violation(
            &[rules::SOCKET_READABLE],
            format!(
                "a send of {len} bytes on end {end} {} ({}{}); expected {}",
                describe(&Observed::Returned(reply.clone())),
                if self.shut[end] { "shut down for writing, " } else { "" },
                self.state(1 - end),
                if gone { "EPIPE" } else { "some bytes sent, or EAGAIN once bytes are queued" }
            ),
        ))
    }

    fn received(&mut self, a: u8, max: u64, reply: &Reply) -> Result<(), Violation> {
        let end = self.setup.end_of(a);
        let queued = self.queued[end];
        let ok = match reply {
            Reply::Received { data, .. } if !data.is_empty() && data.len() as u64 <= queued.min(max) => {
                self.queued[end] -= data.len() as u64;
                true
            }
            Reply::Received { data, .. } => data.is_empty() && (queued == 0 && self.peer_done(end) || max == 0),
            Reply::Errno(e) if *e == libc::EAGAIN => queued == 0 && !self.peer_done(end),
            Reply::Errno(e) if *e == libc::ECONNRESET => queued == 0 && self.reset[end],
            _ => false,
        };
        if ok {
            return Ok(());
        }
        Err(violation(
            &[rules::SOCKET_READABLE],
            format!(
                "a non-blocking receive of at most {max} bytes {} ({}); expected {}",
                describe(&Observed::Returned(reply.clone())),
                self.state(end),
                if queued > 0 {
                    "some of the queued bytes"
                } else if self.peer_done(end) {
                    "end of file"
                } else {
                    "EAGAIN"
                }
            ),
        ))
    }

    fn closed(&mut self, a: u8) {
        let end = self.setup.end_of(a);
        self.holds[usize::from(a)] = false;
        if self.holders(end) == 0 && self.queued[end] > 0 {
            self.reset[1 - end] = true;
        }
    }
}

impl Checker for SocketReadyModel {
    type Op = Op;

    fn can_issue(&self, actor: u8, _op: &Op) -> Result<(), &'static str> {
        match self.holds.get(usize::from(actor)) {
            Some(true) => Ok(()),
            _ => Err("the actor has closed its end"),
        }
    }

    fn apply(&mut self, event: &Event<Op>) -> Result<(), Violation> {
        let (a, op, observed) = match event {
            Event::Step { actor, op, observed, .. } => (*actor, *op, observed),
            Event::Skipped { .. } => return Ok(()),
            Event::Completion { actor, observed } => {
                return Err(violation(
                    &[self.rule()],
                    format!("actor {actor}: a completion although nothing was pending: {}", describe(observed)),
                ))
            }
        };
        let Observed::Returned(reply) = observed else {
            return Err(violation(&[self.rule()], format!("{op} did not return at once: {}", describe(observed))));
        };
        match (op, reply) {
            (Op::Probe { with }, Reply::Values(answers)) => self.probed(a, &with.list(), answers),
            (Op::Send { len }, reply) => self.sent_reply(a, u64::from(len), reply),
            (Op::Recv { max }, reply) => self.received(a, u64::from(max), reply),
            (Op::ShutWrite, Reply::Done) => {
                self.shut[self.setup.end_of(a)] = true;
                Ok(())
            }
            // macOS: shutdown of a socket whose peer is gone.
            (Op::ShutWrite, Reply::Errno(e)) if *e == libc::ENOTCONN && self.holders(1 - self.setup.end_of(a)) == 0 => {
                self.shut[self.setup.end_of(a)] = true;
                Ok(())
            }
            (Op::Close, Reply::Done) => {
                self.closed(a);
                Ok(())
            }
            (Op::Connect, Reply::Opened { .. }) => {
                self.pending += 1;
                Ok(())
            }
            (Op::Accept, Reply::Opened { .. }) if self.pending > 0 => {
                self.pending -= 1;
                Ok(())
            }
            (Op::Accept, Reply::Errno(e)) if *e == libc::EAGAIN && self.pending == 0 => Ok(()),
            (op, other) => Err(violation(
                &[self.rule()],
                format!(
                    "{op}: {} ({})",
                    describe(&Observed::Returned(other.clone())),
                    self.state(self.setup.end_of(a))
                ),
            )),
        }
    }

    fn obligations(&self) -> Vec<Obligation> {
        Vec::new()
    }

    fn observations(&self) -> Vec<(String, u64)> {
        vec![(super::super::model::PROBES_OBSERVED.to_string(), self.probes)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::ready::Interfaces;
    use crate::socket::pair::PairCreator;

    const QUIET: Readiness = Readiness { readable: false, writable: false, hangup: None, error: None, rdhup: None };

    fn step(model: &mut SocketReadyModel, actor: u8, op: Op, reply: Reply) -> Result<(), Violation> {
        model.apply(&Event::step(0, actor, op, Observed::Returned(reply)))
    }

    fn probe(model: &mut SocketReadyModel, actor: u8, r: Readiness) -> Result<(), Violation> {
        let with = Interfaces::of(&[Interface::Poll]);
        step(model, actor, Op::Probe { with }, Reply::Values(vec![r.to_bits()]))
    }

    fn pair() -> SocketReadyModel {
        SocketReadyModel::new(&Setup::Pair { creator: PairCreator::Socketpair, holders: [1, 2] })
    }

    #[test]
    fn a_peer_shutdown_makes_the_end_readable_with_rdhup() {
        let mut m = pair();
        probe(&mut m, 0, Readiness { rdhup: Some(false), ..QUIET }).unwrap();
        step(&mut m, 1, Op::ShutWrite, Reply::Done).unwrap();
        let v = probe(&mut m, 0, Readiness { rdhup: Some(false), ..QUIET }).unwrap_err();
        assert_eq!(v.rules, [rules::SOCKET_READABLE]);
        probe(&mut m, 0, Readiness { readable: true, rdhup: Some(true), ..QUIET }).unwrap();
        // The end that shut down its own writing sees nothing new.
        probe(&mut m, 1, Readiness { rdhup: Some(false), ..QUIET }).unwrap();
        step(&mut m, 0, Op::Recv { max: 8 }, Reply::Received { data: vec![], truncated: None }).unwrap();
        step(&mut m, 2, Op::Send { len: 1 }, Reply::Errno(libc::EPIPE)).unwrap();
    }

    #[test]
    fn a_close_counts_only_once_every_holder_has_closed() {
        let mut m = pair();
        step(&mut m, 1, Op::Close, Reply::Done).unwrap();
        probe(&mut m, 0, QUIET).unwrap();
        step(&mut m, 0, Op::Recv { max: 8 }, Reply::Errno(libc::EAGAIN)).unwrap();
        step(&mut m, 2, Op::Close, Reply::Done).unwrap();
        assert!(probe(&mut m, 0, QUIET).is_err());
        probe(&mut m, 0, Readiness { readable: true, ..QUIET }).unwrap();
    }

    #[test]
    fn queued_bytes_make_the_end_readable_until_received() {
        let mut m = pair();
        step(&mut m, 0, Op::Send { len: 5 }, Reply::Count(5)).unwrap();
        assert!(probe(&mut m, 1, QUIET).is_err());
        probe(&mut m, 2, Readiness { readable: true, rdhup: Some(false), ..QUIET }).unwrap();
        let got = |n: usize| Reply::Received { data: vec![0; n], truncated: None };
        assert!(step(&mut m.clone(), 1, Op::Recv { max: 9 }, got(6)).is_err(), "more than queued");
        step(&mut m, 1, Op::Recv { max: 9 }, got(5)).unwrap();
        probe(&mut m, 1, QUIET).unwrap();
        // A send to an end with bytes queued may find no room; to an empty one it may not.
        assert!(step(&mut m.clone(), 1, Op::Send { len: 3 }, Reply::Errno(libc::EAGAIN)).is_err());
    }

    #[test]
    fn a_listener_is_readable_exactly_while_a_connection_waits() {
        let mut m = SocketReadyModel::new(&Setup::Listener { name: super::super::ListenName::Path, clients: 2 });
        probe(&mut m, 0, QUIET).unwrap();
        step(&mut m, 0, Op::Accept, Reply::Errno(libc::EAGAIN)).unwrap();
        step(&mut m, 1, Op::Connect, Reply::Opened { slot: 1, fd: 9 }).unwrap();
        let v = probe(&mut m, 0, QUIET).unwrap_err();
        assert_eq!(v.rules, [rules::SOCKET_LISTENER]);
        assert!(step(&mut m.clone(), 0, Op::Accept, Reply::Errno(libc::EAGAIN)).is_err());
        step(&mut m, 0, Op::Accept, Reply::Opened { slot: 2, fd: 10 }).unwrap();
        assert!(probe(&mut m.clone(), 0, Readiness { readable: true, ..QUIET }).is_err());
        probe(&mut m, 0, QUIET).unwrap();
    }
}
