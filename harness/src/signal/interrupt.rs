//! Interrupted calls (`signal.interrupt.eintr`, `signal.interrupt.restart`,
//! `signal.interrupt.partial`): one scenario, its case type, its model and
//! its executor.
//!
//! Three actors: the blocker catches `SIGUSR1` (with `SA_RESTART` or
//! not) and blocks in a call on its end of a pipe or a unix stream
//! socket pair; the peer holds the other end; the sender sends `SIGUSR1`
//! to the blocker once the call is proved blocked (the engine's evidence,
//! before the next step is issued), and the order is in the
//! counterexample. Then the peer makes the call able to complete (writes
//! the data a read waits for, drains the pipe a write waits on), and the
//! model judges what the blocked call returned and that nothing was lost
//! or written twice: every byte the reader gets is the next one of the
//! writer's stream.
//!
//! The calls, each over the objects listed:
//! - `read` / `recv` waiting for data (pipe, socket pair): without
//!   `SA_RESTART` it fails with `EINTR`, and a later read gets the data
//!   written after; with `SA_RESTART` it goes on waiting and returns the
//!   data once written;
//! - `poll` waiting for the read end: `EINTR` with or without
//!   `SA_RESTART` (poll is never restarted);
//! - `write` of at most `PIPE_BUF` bytes to a full pipe (nothing can be
//!   transferred): `EINTR` without `SA_RESTART`, having written nothing;
//!   with it, it completes once the pipe is drained;
//! - `write` / `send` of more than the pipe or socket can hold (some
//!   bytes transferred before it blocks): it returns that partial count,
//!   with or without `SA_RESTART`, and the reader gets exactly those bytes.

use super::rules;
use crate::case::{CaseReport, Stop};
use crate::checker::{describe, violation, Checker, Event, Obligation, Violation};
use crate::engine::{Invocation, Mechanism};
use crate::evidence::BlockSite;
use crate::observed::Observed;
use crate::os::entry::{MsgOpts, ReadCall, WriteCall};
use crate::os::proc::SyscallKind;
use crate::os::ready::{Interest, Interface};
use crate::protocol::ready::ReadyOp;
use crate::protocol::signal::SignalOp;
use crate::protocol::socket::SocketOp;
use crate::protocol::{Reply, Request};
use crate::session::{ActorId, Session};
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::os::fd::AsFd;

/// The object the blocked call is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Object {
    /// A pipe (`pipe(2)`, both ends blocking).
    Pipe,
    /// A unix stream socket pair (`socketpair(2)`, both ends blocking).
    Socketpair,
}

/// The call that blocks and is interrupted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Blocked {
    /// A read (`read` on a pipe, `recv` on a socket) of an empty end.
    Read,
    /// `poll` without a timeout for the read end (pipe).
    Poll,
    /// A write of at most `PIPE_BUF` bytes to a full pipe.
    WriteFull,
    /// A write or send larger than the object holds (partial transfer).
    WritePartial,
}

/// An interrupted-call case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterruptCase {
    /// The object.
    pub object: Object,
    /// The blocked call.
    pub call: Blocked,
    /// Whether the blocker's handler was installed with `SA_RESTART`.
    pub restart: bool,
    /// Signals sent once the call is proved blocked (1-3; the later ones
    /// find the call returned or still waiting).
    pub kills: u8,
    /// The bytes the peer writes for a read, or the blocker writes to a
    /// full pipe (1 to `PIPE_BUF`).
    pub len: u32,
}

/// The signal the blocker catches.
const SIGNAL: crate::os::signal::Sig = crate::os::signal::Sig::Usr1;

/// A write larger than any pipe or unix socket buffer of the platforms.
const BIG: u32 = 1 << 22;

/// The blocker (0), the peer (1) and the sender (2).
const BLOCKER: u8 = 0;
const PEER: u8 = 1;
const SENDER: u8 = 2;

impl InterruptCase {
    /// Whether the case is within range (a replay file may not be).
    pub fn validate(&self, pipe_buf: u32) -> Result<(), String> {
        if !(1..=3).contains(&self.kills) {
            return Err(format!("{} signals; 1 to 3", self.kills));
        }
        if !(1..=pipe_buf).contains(&self.len) {
            return Err(format!("{} bytes; 1 to PIPE_BUF ({pipe_buf})", self.len));
        }
        if self.object == Object::Socketpair && matches!(self.call, Blocked::Poll | Blocked::WriteFull) {
            return Err(format!("{:?} is checked on pipes only", self.call));
        }
        Ok(())
    }

    /// The steps the case makes, in order.
    pub fn steps(&self) -> Vec<(u8, Op)> {
        let kills = (0..self.kills).map(|_| (SENDER, Op::Interrupt));
        let mut steps = Vec::new();
        match self.call {
            Blocked::Read | Blocked::Poll => {
                let wait = if self.call == Blocked::Poll { Op::Poll } else { Op::Read { max: self.len } };
                steps.push((BLOCKER, wait));
                steps.extend(kills);
                steps.push((PEER, Op::Write { len: self.len }));
                if !self.restart || self.call == Blocked::Poll {
                    steps.push((BLOCKER, Op::Read { max: self.len }));
                }
            }
            Blocked::WriteFull => {
                steps.extend([(BLOCKER, Op::Fill), (BLOCKER, Op::Write { len: self.len })]);
                steps.extend(kills);
                steps.push((PEER, Op::Read { max: BIG }));
                if !self.restart {
                    steps.push((BLOCKER, Op::Write { len: self.len }));
                }
                steps.push((PEER, Op::Read { max: BIG }));
            }
            Blocked::WritePartial => {
                steps.push((BLOCKER, Op::Write { len: BIG }));
                steps.extend(kills);
                steps.push((PEER, Op::Read { max: BIG }));
            }
        }
        steps
    }

    /// The rule the case checks.
    pub fn rule(&self) -> &'static str {
        match (self.call, self.restart) {
            (Blocked::WritePartial, _) => rules::PARTIAL,
            (_, true) => rules::RESTART,
            (_, false) => rules::EINTR,
        }
    }
}

impl fmt::Display for InterruptCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let object = match self.object {
            Object::Pipe => "a pipe",
            Object::Socketpair => "a unix stream socket pair",
        };
        let flags = if self.restart { "SA_RESTART" } else { "no SA_RESTART" };
        writeln!(f, "setup: {object}, both ends blocking; the blocker (actor 0) catches SIGUSR1 ({flags}); actor 1 holds the other end; actor 2 sends")?;
        for (i, (a, op)) in self.steps().iter().enumerate() {
            let who = ["blocker", "peer", "sender"][usize::from(*a)];
            writeln!(f, "{:>3}. actor {a} ({who}): {op}", i + 1)?;
        }
        Ok(())
    }
}

/// One operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// A blocking read (`read`, `recv`) of at most `max` bytes.
    Read { max: u32 },
    /// A blocking write (`write`, `send`) of `len` bytes.
    Write { len: u32 },
    /// `poll` without a timeout for the read end.
    Poll,
    /// Writes until the pipe is full (non-blocking for the while).
    Fill,
    /// `kill(blocker, SIGUSR1)`.
    Interrupt,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Read { max } => write!(f, "read up to {max} bytes (blocking)"),
            Op::Write { len } => write!(f, "write {len} bytes (blocking)"),
            Op::Poll => f.write_str("poll its end for reading, no timeout"),
            Op::Fill => f.write_str("fill the pipe (non-blocking writes until EAGAIN)"),
            Op::Interrupt => f.write_str("kill(blocker, SIGUSR1)"),
        }
    }
}

/// What the blocker is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Idle,
    /// Blocked in `op`; `interrupted`: a signal came since.
    Blocked {
        op: Op,
        interrupted: bool,
    },
}

/// The reference model of an interrupted-call case.
#[derive(Clone, Debug)]
pub struct InterruptModel {
    case: InterruptCase,
    state: State,
    /// The writer's stream: bytes written, bytes read.
    written: u64,
    read: u64,
    /// The pipe was drained while a write waited (it owes a return).
    room: bool,
    /// Some bytes were read while a write waited (it may return).
    freed: bool,
}

impl InterruptModel {
    /// The model at the start of a case.
    pub fn new(case: &InterruptCase) -> InterruptModel {
        InterruptModel { case: case.clone(), state: State::Idle, written: 0, read: 0, room: false, freed: false }
    }

    /// The writer's tag: the blocker writes in the write cases, the peer
    /// in the read cases.
    fn tag(&self) -> u8 {
        u8::from(matches!(self.case.call, Blocked::Read | Blocked::Poll))
    }

    /// Where the next write starts in the writer's stream.
    pub fn next_write(&self) -> (u8, u64) {
        (self.tag(), self.written)
    }

    fn buffered(&self) -> u64 {
        self.written - self.read
    }

    /// A read's data: the next bytes of the writer's stream, some.
    fn took(&mut self, data: &[u8], max: u64) -> Result<(), Violation> {
        let rule = self.case.rule();
        let n = data.len() as u64;
        if n == 0 || n > max || n > self.buffered() {
            return Err(violation(
                &[rule],
                format!("a read of at most {max} bytes returned {n} with {} buffered", self.buffered()),
            ));
        }
        let tag = self.tag();
        if let Some(i) = (0..data.len()).find(|i| data[*i] != crate::pattern::byte(tag, self.read + *i as u64)) {
            return Err(violation(
                &[rule],
                format!(
                    "byte {} of the stream read is not the writer's byte {}: bytes were lost or written twice around the interruption",
                    self.read + i as u64,
                    self.read + i as u64
                ),
            ));
        }
        self.read += n;
        Ok(())
    }

    /// What the blocked call returned (at once or as a completion).
    fn returned(&mut self, op: Op, interrupted: bool, reply: &Reply) -> Result<(), Violation> {
        let rule = self.case.rule();
        let eintr = matches!(reply, Reply::Errno(e) if *e == libc::EINTR);
        let text = describe(&Observed::Returned(reply.clone()));
        let fail = |why: String| Err(violation(&[rule], format!("{op}: {text}: {why}")));
        match op {
            Op::Poll => match reply {
                _ if eintr && interrupted => Ok(()),
                _ if eintr => fail("EINTR without a signal".into()),
                _ => fail("a poll interrupted by a caught signal fails with EINTR, SA_RESTART or not".into()),
            },
            Op::Read { max } => match reply {
                _ if eintr && interrupted && !self.case.restart && self.buffered() == 0 => Ok(()),
                _ if eintr => fail(if self.case.restart {
                    "with SA_RESTART an interrupted read goes on waiting".into()
                } else {
                    "EINTR, but no signal interrupted a read with nothing to take".into()
                }),
                Reply::Data(d) | Reply::Received { data: d, .. } if self.buffered() > 0 => {
                    let d = d.clone();
                    self.took(&d, u64::from(max))
                }
                _ => fail(format!("{} byte(s) buffered", self.buffered())),
            },
            Op::Write { len } if len == BIG => match reply {
                Reply::Count(n) if interrupted && *n > 0 && *n < u64::from(len) => {
                    self.written += n;
                    Ok(())
                }
                _ => fail("a write interrupted after transferring some bytes returns that count".into()),
            },
            Op::Write { len } => match reply {
                _ if eintr && interrupted && !self.case.restart && !self.freed => Ok(()),
                _ if eintr => fail(if self.case.restart {
                    "with SA_RESTART an interrupted write goes on waiting".into()
                } else {
                    "EINTR, but no signal interrupted a write that could not go ahead".into()
                }),
                Reply::Count(n) if *n == u64::from(len) && (self.freed || self.read > 0) => {
                    self.written += n;
                    Ok(())
                }
                _ => fail("expected all of it, once the pipe had room".into()),
            },
            Op::Fill | Op::Interrupt => fail("not a call that blocks".into()),
        }
    }
}

impl Checker for InterruptModel {
    type Op = Op;

    fn can_issue(&self, actor: u8, _op: &Op) -> Result<(), &'static str> {
        match self.state {
            State::Blocked { .. } if actor == BLOCKER => Err("the blocker is still in its call"),
            _ => Ok(()),
        }
    }

    fn apply(&mut self, event: &Event<Op>) -> Result<(), Violation> {
        let rule = self.case.rule();
        match event {
            Event::Skipped { .. } => Ok(()),
            Event::Completion { actor, observed } => {
                let State::Blocked { op, interrupted } = self.state else {
                    return Err(violation(
                        &[rule],
                        format!("actor {actor}: a completion of nothing: {}", describe(observed)),
                    ));
                };
                self.state = State::Idle;
                match observed {
                    Observed::Returned(reply) => self.returned(op, interrupted, reply),
                    other => Err(violation(&[rule], format!("{op}: {}", describe(other)))),
                }
            }
            Event::Step { actor, op, observed, .. } => match (*actor, *op, observed) {
                (SENDER, Op::Interrupt, Observed::Returned(Reply::Done)) => {
                    if let State::Blocked { op, .. } = self.state {
                        self.state = State::Blocked { op, interrupted: true };
                    }
                    Ok(())
                }
                (BLOCKER, Op::Fill, Observed::Returned(Reply::Filled { total, errno: None })) => {
                    self.written += total;
                    Ok(())
                }
                (BLOCKER, op @ (Op::Read { .. } | Op::Write { .. } | Op::Poll), Observed::Blocked(_)) => {
                    let may_block = match op {
                        Op::Read { .. } | Op::Poll => self.buffered() == 0,
                        _ => true,
                    };
                    if !may_block {
                        return Err(violation(
                            &[rule],
                            format!("{op} blocked with {} byte(s) buffered", self.buffered()),
                        ));
                    }
                    self.room = false;
                    self.freed = false;
                    self.state = State::Blocked { op, interrupted: false };
                    Ok(())
                }
                (BLOCKER, op, Observed::Returned(reply)) => match op {
                    Op::Read { .. } | Op::Poll if self.buffered() == 0 => Err(violation(
                        &[rule],
                        format!("{op} returned at once ({}) with nothing to read", describe(observed)),
                    )),
                    Op::Write { len }
                        if len == BIG || self.case.call == Blocked::WriteFull && !self.room && self.read == 0 =>
                    {
                        Err(violation(
                            &[rule],
                            format!("{op} returned at once ({}) although it cannot go ahead", describe(observed)),
                        ))
                    }
                    _ => self.returned(op, false, reply),
                },
                (PEER, Op::Write { len }, Observed::Returned(Reply::Count(n))) if *n == u64::from(len) => {
                    self.written += n;
                    Ok(())
                }
                (PEER, Op::Read { max }, Observed::Returned(Reply::Data(d) | Reply::Received { data: d, .. })) => {
                    let d = d.clone();
                    self.took(&d, u64::from(max))?;
                    self.freed = true;
                    if self.buffered() == 0 {
                        self.room = true;
                    }
                    Ok(())
                }
                (a, op, other) => Err(violation(&[rule], format!("actor {a}: {op}: {}", describe(other)))),
            },
        }
    }

    fn obligations(&self) -> Vec<Obligation> {
        let State::Blocked { op, interrupted } = self.state else { return Vec::new() };
        let why = match op {
            Op::Poll if interrupted => "a caught signal interrupted a poll",
            Op::Read { .. } if interrupted && !self.case.restart => {
                "a caught signal without SA_RESTART interrupted a read"
            }
            Op::Read { .. } if self.buffered() > 0 => "the data a read waited for were written",
            Op::Write { len } if len == BIG && interrupted => {
                "a caught signal interrupted a write that had transferred some bytes"
            }
            Op::Write { .. } if interrupted && !self.case.restart && !self.room => {
                "a caught signal without SA_RESTART interrupted a write"
            }
            Op::Write { len } if len != BIG && self.room => "the pipe a write waited on was drained",
            _ => return Vec::new(),
        };
        vec![Obligation { actors: vec![BLOCKER], rule: self.case.rule(), why: format!("{why}, so it must return") }]
    }
}

/// Runs one interrupted-call case.
pub fn run(case: &InterruptCase, pipe_buf: u32, timing: Timing) -> CaseReport<Event<Op>> {
    if let Err(why) = case.validate(pipe_buf) {
        return crate::case::refused(why);
    }
    crate::engine::run(Interrupts { case, timing, pid: 0, fd: 0 }, InterruptModel::new(case), timing)
}

struct Interrupts<'a> {
    case: &'a InterruptCase,
    timing: Timing,
    /// The blocker's pid, and its descriptor number.
    pid: i32,
    fd: i32,
}

impl Mechanism for Interrupts<'_> {
    type Op = Op;
    type Model = InterruptModel;

    fn steps(&self) -> Vec<(u8, Op)> {
        self.case.steps()
    }

    fn set_up(&mut self, session: &mut Session) -> Result<(), Stop> {
        let ids = (0..3).map(|_| session.spawn()).collect::<Result<Vec<ActorId>, _>>()?;
        self.pid = session.pid(ids[0]);
        let ends = {
            let _quiet = crate::os::process::quiet_forks();
            match self.case.object {
                Object::Pipe => {
                    let pipe = crate::pipe::Setup {
                        writers: 1,
                        idle_writers: 0,
                        readers: 1,
                        nonblock_read: false,
                        nonblock_write: false,
                        concurrent_reads: false,
                        creator: crate::pipe::Creator::Pipe,
                    };
                    crate::pipe::creator::create(&pipe, self.timing)?
                }
                Object::Socketpair => {
                    let pair = crate::socket::pair::PairSetup::new(crate::os::socket::SocketKind::Stream, [1, 1]);
                    crate::socket::pair::creator::create(&pair)?
                }
            }
        };
        // A pipe's ends are [read, write]: the blocker reads in the read
        // cases and writes in the others.
        let reads = matches!(self.case.call, Blocked::Read | Blocked::Poll);
        let (mine, theirs) = if self.case.object == Object::Socketpair || reads { (0, 1) } else { (1, 0) };
        self.fd = session.hand(ids[0], &[ends[mine].as_fd()])?[0];
        session.hand(ids[1], &[ends[theirs].as_fd()])?;
        let signals = vec![SIGNAL.number().unwrap_or(libc::SIGUSR1)];
        let catch = Request::Signal(SignalOp::Catch { signals, restart: self.case.restart });
        match session.call(ids[0], &catch)? {
            Observed::Returned(Reply::Done) => {}
            other => return Err(Stop::harness(format!("catching SIGUSR1 in the blocker: {}", describe(&other)))),
        }
        for id in &ids[..2] {
            let got = session.call(*id, &Request::SetSigpipe(crate::os::signal::SigpipeDisposition::Ignore))?;
            if got != Observed::Returned(Reply::Done) {
                return Err(Stop::harness(format!("ignoring SIGPIPE in {id}: {}", describe(&got))));
            }
        }
        Ok(())
    }

    fn entry_point(&self, op: &Op) -> Option<&'static str> {
        let socket = self.case.object == Object::Socketpair;
        match op {
            Op::Read { .. } => Some(if socket { "recv" } else { "read" }),
            Op::Write { .. } => Some(if socket { "send" } else { "write" }),
            Op::Poll => Some("poll"),
            Op::Fill | Op::Interrupt => None,
        }
    }

    fn invocation(&self, model: &InterruptModel, a: u8, op: &Op) -> Result<Invocation, Stop> {
        let socket = self.case.object == Object::Socketpair;
        let fd = (a == BLOCKER).then_some(self.fd);
        Ok(match *op {
            Op::Read { max } if socket => Invocation::MayBlock(
                Request::Socket(SocketOp::Recv { slot: 0, max, call: ReadCall::Recv, dontwait: false }),
                BlockSite { kind: ReadCall::Recv.site(), fd },
            ),
            Op::Read { max } => Invocation::MayBlock(
                Request::Read { slot: 0, max, call: ReadCall::Read },
                BlockSite { kind: ReadCall::Read.site(), fd },
            ),
            Op::Write { len } => {
                let (tag, start) = model.next_write();
                let request = if socket {
                    let opts = MsgOpts::default();
                    Request::Socket(SocketOp::Send { slot: 0, len, tag, start, call: WriteCall::Send, opts })
                } else {
                    Request::Write { slot: 0, len, tag, start, call: WriteCall::Write }
                };
                let kind = if socket { WriteCall::Send.site() } else { WriteCall::Write.site() };
                Invocation::MayBlock(request, BlockSite { kind, fd })
            }
            Op::Poll => Invocation::MayBlock(
                Request::Ready(ReadyOp::Wait { slot: 0, how: Interface::Poll, interest: Interest::Read }),
                BlockSite { kind: SyscallKind::Wait, fd },
            ),
            Op::Fill => {
                let (tag, start) = model.next_write();
                Invocation::Call(Request::Fill { slot: 0, chunk: 4096, tag, start, call: WriteCall::Write })
            }
            Op::Interrupt => {
                let signal = SIGNAL.number().unwrap_or(libc::SIGUSR1);
                Invocation::Call(Request::Signal(SignalOp::Kill { pid: self.pid, signal }))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::Evidence;

    fn case(call: Blocked, restart: bool) -> InterruptCase {
        InterruptCase { object: Object::Pipe, call, restart, kills: 1, len: 3 }
    }

    fn blocked() -> Observed {
        Observed::Blocked(Evidence::ThreadState("S".into()))
    }

    fn step(m: &mut InterruptModel, actor: u8, op: Op, observed: Observed) -> Result<(), Violation> {
        m.apply(&Event::step(0, actor, op, observed))
    }

    fn done(m: &mut InterruptModel, reply: Reply) -> Result<(), Violation> {
        m.apply(&Event::Completion { actor: BLOCKER, observed: Observed::Returned(reply) })
    }

    #[test]
    fn without_sa_restart_a_blocked_read_owes_eintr_and_loses_nothing() {
        let mut m = InterruptModel::new(&case(Blocked::Read, false));
        step(&mut m, BLOCKER, Op::Read { max: 3 }, blocked()).unwrap();
        assert!(m.obligations().is_empty(), "nothing owed before the signal");
        step(&mut m, SENDER, Op::Interrupt, Observed::Returned(Reply::Done)).unwrap();
        assert_eq!(m.obligations().len(), 1);
        let v = done(&mut m.clone(), Reply::Data(vec![])).unwrap_err();
        assert_eq!(v.rules, vec![rules::EINTR]);
        done(&mut m, Reply::Errno(libc::EINTR)).unwrap();
        step(&mut m, PEER, Op::Write { len: 3 }, Observed::Returned(Reply::Count(3))).unwrap();
        let wrong = (0..3).map(|i| crate::pattern::byte(1, i + 1)).collect();
        assert!(step(&mut m.clone(), BLOCKER, Op::Read { max: 3 }, Observed::Returned(Reply::Data(wrong))).is_err());
        let right = (0..3).map(|i| crate::pattern::byte(1, i)).collect();
        step(&mut m, BLOCKER, Op::Read { max: 3 }, Observed::Returned(Reply::Data(right))).unwrap();
    }

    #[test]
    fn with_sa_restart_a_blocked_read_waits_on_but_a_poll_fails() {
        let mut m = InterruptModel::new(&case(Blocked::Read, true));
        step(&mut m, BLOCKER, Op::Read { max: 3 }, blocked()).unwrap();
        step(&mut m, SENDER, Op::Interrupt, Observed::Returned(Reply::Done)).unwrap();
        assert!(m.obligations().is_empty(), "restarted: nothing owed yet");
        let v = done(&mut m.clone(), Reply::Errno(libc::EINTR)).unwrap_err();
        assert_eq!(v.rules, vec![rules::RESTART]);
        step(&mut m, PEER, Op::Write { len: 3 }, Observed::Returned(Reply::Count(3))).unwrap();
        assert_eq!(m.obligations().len(), 1, "the data are there");
        done(&mut m, Reply::Data((0..3).map(|i| crate::pattern::byte(1, i)).collect())).unwrap();
        let mut p = InterruptModel::new(&case(Blocked::Poll, true));
        step(&mut p, BLOCKER, Op::Poll, blocked()).unwrap();
        step(&mut p, SENDER, Op::Interrupt, Observed::Returned(Reply::Done)).unwrap();
        assert!(done(&mut p.clone(), Reply::Values(vec![1])).is_err(), "poll is not restarted");
        done(&mut p, Reply::Errno(libc::EINTR)).unwrap();
    }

    #[test]
    fn an_interrupted_write_returns_its_partial_count() {
        let mut m = InterruptModel::new(&case(Blocked::WritePartial, false));
        step(&mut m, BLOCKER, Op::Write { len: BIG }, blocked()).unwrap();
        step(&mut m, SENDER, Op::Interrupt, Observed::Returned(Reply::Done)).unwrap();
        let v = done(&mut m.clone(), Reply::Errno(libc::EINTR)).unwrap_err();
        assert_eq!(v.rules, vec![rules::PARTIAL]);
        done(&mut m, Reply::Count(65536)).unwrap();
        let all: Vec<u8> = (0..65536).map(|i| crate::pattern::byte(0, i)).collect();
        step(&mut m, PEER, Op::Read { max: BIG }, Observed::Returned(Reply::Data(all))).unwrap();
    }
}
