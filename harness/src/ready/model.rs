//! The reference model of a readiness case, and with it the checker.
//!
//! Every end is non-blocking, so every step returns and the model knows,
//! before each probe, exactly how many bytes the pipe holds, how many
//! processes hold each end, and whether the pipe was just filled to
//! `EAGAIN` by single bytes. From that it says what each interface may
//! answer (the semantics are those written in `spec/rules/ready.toml`):
//!
//! - read end: readable exactly when bytes are buffered or no writer is
//!   left (`ready.pipe.readable`); hang-up, where told, exactly when no
//!   writer is left (`ready.pipe.hangup`);
//! - write end: with no reader left, writable and, where told, an error
//!   (`ready.pipe.error`), and with a reader left no error; with a
//!   reader, writable when empty and not writable when just filled
//!   (`ready.pipe.writable`), either in between;
//! - several interfaces asked back to back give the same answer
//!   (`ready.interfaces.agree`), checked before each answer is judged;
//! - a registration (`ready.edge-triggered`): level-triggered, it reports
//!   exactly while the end is readable; edge-triggered, it must report
//!   after an arrival (bytes written, the last writer gone, a registration
//!   made while readable) while the end is still readable at the ask (an
//!   arrival read away before it is not owed), must not report when
//!   nothing happened since the
//!   last ask, and may report after a read that left bytes, a write that
//!   found no room, or a close.
//!
//! Reads and writes are judged only as far as readiness needs them (a
//! write with no reader left fails with `EPIPE`); what a read returns is
//! the pipe rules' business, and the model only refuses results that no
//! pipe could give (more bytes than buffered: `pipe.stream.order`).

use super::rules;
use super::schedule::{Op, Setup};
use crate::checker::{describe, violation, Checker, Event, Obligation, Violation};
use crate::observed::Observed;
use crate::os::ready::{Interface, Readiness};
use crate::protocol::Reply;

/// What one actor's registration has seen since its last ask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Armed {
    edge: bool,
    /// Something arrived: the next ask must report.
    arrived: bool,
    /// Something happened that may wake it (a read leaving bytes, a close).
    stirred: bool,
}

/// The reference model of one readiness case.
#[derive(Clone, Debug)]
pub struct ReadyModel {
    setup: Setup,
    /// Bytes in the pipe.
    buffered: u64,
    /// Per actor: still holds its end.
    holds: Vec<bool>,
    /// Filled to `EAGAIN` by single bytes, nothing read since.
    full: bool,
    /// Per writer: bytes written so far (the pattern's next position).
    written: Vec<u64>,
    /// Per actor: its registration.
    armed: Vec<Option<Armed>>,
    /// Per actor: the interface it is blocked waiting in.
    waiting: Vec<Option<Interface>>,
    /// Probes answered (an observation for the report).
    probes: u64,
}

/// The name of the observation counting probes answered.
pub const PROBES_OBSERVED: &str = "readiness answers judged";

impl ReadyModel {
    /// The model at the start of a case: every actor holds its end, the
    /// pipe is empty.
    pub fn new(setup: &Setup) -> ReadyModel {
        let n = usize::from(setup.actors());
        ReadyModel {
            setup: setup.clone(),
            buffered: 0,
            holds: vec![true; n],
            full: false,
            written: vec![0; n],
            armed: vec![None; n],
            waiting: vec![None; n],
            probes: 0,
        }
    }

    /// The pattern tag and stream position writer `a`'s next write starts at.
    pub fn next_write(&self, a: u8) -> (u8, u64) {
        (a, self.written[usize::from(a)])
    }

    fn writers(&self) -> usize {
        (0..self.setup.actors()).filter(|a| self.setup.is_writer(*a) && self.holds[usize::from(*a)]).count()
    }

    fn readers(&self) -> usize {
        (0..self.setup.actors()).filter(|a| !self.setup.is_writer(*a) && self.holds[usize::from(*a)]).count()
    }

    fn state(&self) -> String {
        format!(
            "{} byte(s) buffered, {} writer(s) and {} reader(s) left{}",
            self.buffered,
            self.writers(),
            self.readers(),
            if self.full { ", just filled" } else { "" }
        )
    }

    fn arrive(&mut self) {
        for a in self.armed.iter_mut().flatten() {
            a.arrived = true;
        }
    }

    fn stir(&mut self) {
        for a in self.armed.iter_mut().flatten() {
            a.stirred = true;
        }
    }

    /// Judges one interface's answer about actor `a`'s end.
    fn judge(&self, a: u8, how: Interface, r: Readiness) -> Result<(), Violation> {
        let at = |what: String| {
            format!(
                "{how} said the {} {what} ({})",
                if self.setup.is_writer(a) { "write end is" } else { "read end is" },
                self.state()
            )
        };
        if self.setup.is_writer(a) {
            if self.readers() == 0 {
                if !r.writable || r.error == Some(false) {
                    return Err(violation(
                        &[rules::ERROR],
                        at(format!("{r}, with no reader left: expected writable and an error condition")),
                    ));
                }
                return Ok(());
            }
            if r.error == Some(true) {
                return Err(violation(&[rules::ERROR], at(format!("{r}: an error condition while a reader is left"))));
            }
            if self.full && r.writable {
                return Err(violation(&[rules::WRITABLE], at(format!("{r}: writable although the pipe is full"))));
            }
            if self.buffered == 0 && !r.writable {
                return Err(violation(&[rules::WRITABLE], at(format!("{r}: not writable although the pipe is empty"))));
            }
            return Ok(());
        }
        let hung_up = self.writers() == 0;
        let readable = self.buffered > 0 || hung_up;
        // Hang-up first: a wrong one also makes the end look readable.
        if r.hangup.is_some_and(|h| h != hung_up) {
            return Err(violation(
                &[rules::HANGUP],
                at(format!("{r}; expected {}", if hung_up { "hang-up" } else { "no hang-up" })),
            ));
        }
        if r.readable != readable {
            return Err(violation(
                &[rules::READABLE],
                at(format!("{r}; expected {}", if readable { "readable" } else { "not readable" })),
            ));
        }
        Ok(())
    }

    fn probed(&mut self, a: u8, with: &[Interface], answers: &[i64]) -> Result<(), Violation> {
        if answers.len() != with.len() {
            return Err(violation(
                &[rules::AGREE],
                format!("{} answer(s) to a probe of {} interface(s)", answers.len(), with.len()),
            ));
        }
        let decoded: Vec<Readiness> = answers
            .iter()
            .map(|b| {
                Readiness::from_bits(*b)
                    .ok_or_else(|| violation(&[rules::AGREE], format!("an answer that is no readiness: {b}")))
            })
            .collect::<Result<_, _>>()?;
        if let Some((first, rest)) = decoded.split_first() {
            for (i, r) in rest.iter().enumerate() {
                let differ = r.readable != first.readable
                    || r.writable != first.writable
                    || matches!((r.hangup, first.hangup), (Some(x), Some(y)) if x != y)
                    || matches!((r.error, first.error), (Some(x), Some(y)) if x != y);
                if differ {
                    let said: Vec<String> = with.iter().zip(&decoded).map(|(h, r)| format!("{h}: {r}")).collect();
                    return Err(violation(
                        &[rules::AGREE],
                        format!(
                            "asked back to back about the same end, {} and {} disagree ({}; {})",
                            with[0],
                            with[i + 1],
                            said.join("; "),
                            self.state()
                        ),
                    ));
                }
            }
        }
        for (how, r) in with.iter().zip(&decoded) {
            self.judge(a, *how, *r)?;
            self.probes += 1;
        }
        Ok(())
    }

    fn harvested(&mut self, a: u8, answers: &[i64]) -> Result<(), Violation> {
        let i = usize::from(a);
        let Some(armed) = self.armed[i] else {
            return Err(violation(&[rules::EDGE], "an answer from a registration that was never made"));
        };
        let reported = !answers.is_empty();
        let readable = self.buffered > 0 || self.writers() == 0;
        let kind = if armed.edge { "edge-triggered" } else { "level-triggered" };
        let wrong = if armed.edge {
            // An arrival read away before the ask is not owed: epoll and
            // kqueue check the end again when they report.
            (armed.arrived && readable && !reported)
                .then_some("reported nothing after an arrival, the end still readable")
                .or((!armed.arrived && !armed.stirred && reported)
                    .then_some("reported again with nothing new since the last ask"))
        } else {
            (reported != readable).then_some(if readable {
                "reported nothing while the end is readable"
            } else {
                "reported the end while it is not readable"
            })
        };
        if let Some(wrong) = wrong {
            return Err(violation(&[rules::EDGE], format!("the {kind} registration {wrong} ({})", self.state())));
        }
        self.armed[i] = Some(Armed { arrived: false, stirred: false, ..armed });
        self.probes += 1;
        Ok(())
    }

    fn readable(&self) -> bool {
        self.buffered > 0 || self.writers() == 0
    }

    /// A wait was issued: back at once only when the end is readable,
    /// else blocked.
    fn wait_began(&mut self, a: u8, how: Interface, observed: &Observed) -> Result<(), Violation> {
        match observed {
            Observed::Blocked(_) if !self.readable() => {
                self.waiting[usize::from(a)] = Some(how);
                Ok(())
            }
            Observed::Blocked(e) => Err(violation(
                &[rules::WAIT_WAKES],
                format!("a wait in {how} blocked ({e}) although the read end is readable ({})", self.state()),
            )),
            Observed::Returned(Reply::Values(v)) if !self.readable() => Err(violation(
                &[rules::WAIT_WAKES],
                format!(
                    "a wait in {how} returned at once ({}) although the read end is not readable ({})",
                    v.first().and_then(|b| Readiness::from_bits(*b)).map_or("no answer".into(), |r| r.to_string()),
                    self.state()
                ),
            )),
            Observed::Returned(reply) => self.waited(a, how, reply),
            other => Err(violation(&[rules::WAIT_WAKES], format!("a wait in {how}: {}", describe(other)))),
        }
    }

    /// A blocked wait completed: only once the end is readable.
    fn woke(&mut self, a: u8, observed: &Observed) -> Result<(), Violation> {
        let Some(how) = self.waiting[usize::from(a)].take() else {
            return Err(violation(&[rules::WAIT_WAKES], "a wake-up of an actor that was not waiting"));
        };
        match observed {
            Observed::Returned(_) if !self.readable() => Err(violation(
                &[rules::WAIT_WAKES],
                format!(
                    "a wait in {how} woke ({}) although the read end is not readable ({})",
                    describe(observed),
                    self.state()
                ),
            )),
            Observed::Returned(reply) => self.waited(a, how, reply),
            other => Err(violation(&[rules::WAIT_WAKES], format!("a wait in {how}: {}", describe(other)))),
        }
    }

    /// What a wait that returned with the end readable reported.
    fn waited(&mut self, a: u8, how: Interface, reply: &Reply) -> Result<(), Violation> {
        match reply {
            Reply::Values(v) if v.len() == 1 => match Readiness::from_bits(v[0]) {
                Some(r) => {
                    self.probes += 1;
                    self.judge(a, how, r)
                }
                None => {
                    Err(violation(&[rules::WAIT_WAKES], format!("a wait in {how} answered {}, no readiness", v[0])))
                }
            },
            other => Err(violation(
                &[rules::WAIT_WAKES],
                format!("a wait in {how}: {}", describe(&Observed::Returned(other.clone()))),
            )),
        }
    }

    fn wrote(&mut self, a: u8, len: u64, reply: &Reply) -> Result<(), Violation> {
        let at = |what: String| format!("a non-blocking write of {len} bytes {what} ({})", self.state());
        match reply {
            Reply::Errno(e) if *e == libc::EPIPE => {
                if self.readers() > 0 {
                    return Err(violation(&[rules::ERROR], at("failed with EPIPE while a reader is left".into())));
                }
            }
            _ if self.readers() == 0 => {
                return Err(violation(
                    &[rules::ERROR],
                    at(format!("{} with no reader left; expected EPIPE", describe(&Observed::Returned(reply.clone())))),
                ));
            }
            Reply::Count(n) if *n <= len => {
                self.buffered += n;
                self.written[usize::from(a)] += n;
                if *n > 0 {
                    self.arrive();
                }
            }
            Reply::Errno(e) if *e == libc::EAGAIN => {
                if len == 1 {
                    self.full = true;
                }
                // Linux wakes the readers' registrations even for a write
                // that found no room (pipe_write: "epoll nonsensically
                // wants a wakeup").
                self.stir();
            }
            other => {
                return Err(violation(&[crate::pipe::rules::ORDER], at(describe(&Observed::Returned(other.clone())))))
            }
        }
        Ok(())
    }

    fn filled(&mut self, a: u8, reply: &Reply) -> Result<(), Violation> {
        match reply {
            Reply::Filled { errno: Some(e), .. } if *e == libc::EPIPE && self.readers() == 0 => Ok(()),
            Reply::Filled { total, errno: None } if self.readers() > 0 => {
                self.buffered += total;
                self.written[usize::from(a)] += total;
                self.full = true;
                if *total > 0 {
                    self.arrive();
                }
                // A fill ends with writes that found no room, and those
                // wake the readers' registrations too (see `wrote`).
                self.stir();
                Ok(())
            }
            other => Err(violation(
                &[rules::ERROR],
                format!(
                    "a fill {} ({}); expected EAGAIN with a reader left, EPIPE without",
                    describe(&Observed::Returned(other.clone())),
                    self.state()
                ),
            )),
        }
    }

    fn read(&mut self, max: u64, reply: &Reply) -> Result<(), Violation> {
        match reply {
            Reply::Data(d) if d.len() as u64 <= self.buffered.min(max) => {
                let n = d.len() as u64;
                self.buffered -= n;
                if n > 0 {
                    self.full = false;
                    if self.buffered > 0 {
                        self.stir();
                    }
                }
                Ok(())
            }
            Reply::Errno(e) if *e == libc::EAGAIN => Ok(()),
            other => Err(violation(
                &[crate::pipe::rules::ORDER],
                format!(
                    "a non-blocking read of at most {max} bytes {} ({})",
                    describe(&Observed::Returned(other.clone())),
                    self.state()
                ),
            )),
        }
    }
}

impl Checker for ReadyModel {
    type Op = Op;

    fn can_issue(&self, actor: u8, _op: &Op) -> Result<(), &'static str> {
        match (self.holds.get(usize::from(actor)), self.waiting.get(usize::from(actor))) {
            (Some(true), Some(None)) => Ok(()),
            (Some(true), _) => Err("the actor is still waiting"),
            _ => Err("the actor has closed its end"),
        }
    }

    fn apply(&mut self, event: &Event<Op>) -> Result<(), Violation> {
        let (a, op, observed) = match event {
            Event::Step { actor, op: Op::Wait { how }, observed, .. } => {
                return self.wait_began(*actor, *how, observed)
            }
            Event::Step { actor, op, observed, .. } => (*actor, op, observed),
            Event::Skipped { .. } => return Ok(()),
            Event::Completion { actor, observed }
                if self.waiting.get(usize::from(*actor)).is_some_and(Option::is_some) =>
            {
                return self.woke(*actor, observed)
            }
            Event::Completion { actor, observed } => {
                return Err(violation(
                    &[rules::READABLE],
                    format!("actor {actor}: a completion although nothing was pending: {}", describe(observed)),
                ))
            }
        };
        let reply = match observed {
            Observed::Returned(reply) => reply,
            other => {
                return Err(violation(&[rules::READABLE], format!("{op} did not return at once: {}", describe(other))));
            }
        };
        match (*op, reply) {
            (Op::Probe { with }, Reply::Values(answers)) => self.probed(a, &with.list(), answers),
            (Op::Harvest, Reply::Values(answers)) => self.harvested(a, answers),
            (Op::Arm { edge, .. }, Reply::Done) => {
                let readable = self.buffered > 0 || self.writers() == 0;
                self.armed[usize::from(a)] = Some(Armed { edge, arrived: readable, stirred: false });
                Ok(())
            }
            (Op::Write { len }, reply) => self.wrote(a, u64::from(len), reply),
            (Op::Fill, reply) => self.filled(a, reply),
            (Op::Read { max }, reply) => self.read(u64::from(max), reply),
            (Op::Close, Reply::Done) => {
                let last_writer = self.setup.is_writer(a) && self.writers() == 1;
                self.holds[usize::from(a)] = false;
                self.armed[usize::from(a)] = None;
                if last_writer {
                    self.arrive();
                } else {
                    self.stir();
                }
                Ok(())
            }
            (op, other) => {
                Err(violation(&[rules::READABLE], format!("{op}: {}", describe(&Observed::Returned(other.clone())))))
            }
        }
    }

    fn obligations(&self) -> Vec<Obligation> {
        if !self.readable() {
            return Vec::new();
        }
        let why = if self.writers() == 0 { "no writer is left" } else { "bytes are buffered" };
        self.waiting
            .iter()
            .enumerate()
            .filter_map(|(a, how)| {
                how.map(|how| Obligation {
                    actors: vec![a as u8],
                    rule: rules::WAIT_WAKES,
                    why: format!("{why}, so actor {a} waiting in {how} must wake"),
                })
            })
            .collect()
    }

    fn observations(&self) -> Vec<(String, u64)> {
        vec![(PROBES_OBSERVED.to_string(), self.probes)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::ready::Interfaces;
    use crate::pipe::Creator;

    fn model() -> ReadyModel {
        ReadyModel::new(&Setup { writers: 1, readers: 1, creator: Creator::Pipe })
    }

    fn step(m: &mut ReadyModel, actor: u8, op: Op, reply: Reply) -> Result<(), Violation> {
        m.apply(&Event::Step { index: 0, actor, op, observed: Observed::Returned(reply) })
    }

    fn ask(how: Interface) -> Op {
        Op::Probe { with: Interfaces::of(&[how]) }
    }

    fn said(r: Readiness) -> Reply {
        Reply::Values(vec![r.to_bits()])
    }

    const NOT_READY: Readiness =
        Readiness { readable: false, writable: false, hangup: Some(false), error: Some(false), rdhup: None };

    #[test]
    fn an_empty_read_end_with_a_writer_must_not_be_readable_and_a_byte_makes_it_so() {
        let mut m = model();
        assert!(step(&mut m, 1, ask(Interface::Poll), said(NOT_READY)).is_ok());
        let readable = Readiness { readable: true, ..NOT_READY };
        let v = step(&mut m, 1, ask(Interface::Poll), said(readable)).unwrap_err();
        assert_eq!(v.rules, vec![rules::READABLE]);
        step(&mut m, 0, Op::Write { len: 1 }, Reply::Count(1)).unwrap();
        assert!(step(&mut m, 1, ask(Interface::Poll), said(readable)).is_ok());
        assert_eq!(step(&mut m, 1, ask(Interface::Poll), said(NOT_READY)).unwrap_err().rules, vec![rules::READABLE]);
    }

    #[test]
    fn hang_up_is_owed_once_the_last_writer_closes_and_refused_before() {
        let mut m = model();
        let early = Readiness { readable: true, hangup: Some(true), ..NOT_READY };
        assert_eq!(step(&mut m, 1, ask(Interface::Poll), said(early)).unwrap_err().rules, vec![rules::HANGUP]);
        step(&mut m, 0, Op::Close, Reply::Done).unwrap();
        let missing = Readiness { readable: true, hangup: Some(false), ..NOT_READY };
        assert_eq!(step(&mut m, 1, ask(Interface::Epoll), said(missing)).unwrap_err().rules, vec![rules::HANGUP]);
        assert!(step(&mut m, 1, ask(Interface::Epoll), said(early)).is_ok());
    }

    #[test]
    fn a_full_pipe_must_not_be_writable_and_no_reader_means_an_error() {
        let mut m = model();
        let writable = Readiness { writable: true, ..NOT_READY };
        assert!(step(&mut m, 0, ask(Interface::Select), said(writable)).is_ok());
        step(&mut m, 0, Op::Fill, Reply::Filled { total: 65536, errno: None }).unwrap();
        assert_eq!(step(&mut m, 0, ask(Interface::Poll), said(writable)).unwrap_err().rules, vec![rules::WRITABLE]);
        step(&mut m, 1, Op::Close, Reply::Done).unwrap();
        assert_eq!(step(&mut m, 0, ask(Interface::Poll), said(writable)).unwrap_err().rules, vec![rules::ERROR]);
        let error = Readiness { writable: true, error: Some(true), ..NOT_READY };
        assert!(step(&mut m, 0, ask(Interface::Poll), said(error)).is_ok());
        assert!(step(&mut m, 0, Op::Write { len: 1 }, Reply::Errno(libc::EPIPE)).is_ok());
    }

    #[test]
    fn interfaces_that_disagree_are_refused_before_either_is_judged() {
        let mut m = model();
        let with = Interfaces::of(&[Interface::Poll, Interface::Select]);
        let select_readable = Readiness { readable: true, writable: false, hangup: None, error: None, rdhup: None };
        let v =
            step(&mut m, 1, Op::Probe { with }, Reply::Values(vec![NOT_READY.to_bits(), select_readable.to_bits()]))
                .unwrap_err();
        assert_eq!(v.rules, vec![rules::AGREE]);
        let select_quiet = Readiness { readable: false, ..select_readable };
        assert!(step(&mut m, 1, Op::Probe { with }, Reply::Values(vec![NOT_READY.to_bits(), select_quiet.to_bits()]))
            .is_ok());
    }

    #[test]
    fn an_edge_triggered_registration_reports_an_arrival_once() {
        let mut m = model();
        let report = Reply::Values(vec![Readiness { readable: true, ..NOT_READY }.to_bits()]);
        let nothing = Reply::Values(vec![]);
        step(&mut m, 1, Op::Arm { how: Interface::Epoll, edge: true }, Reply::Done).unwrap();
        assert!(step(&mut m, 1, Op::Harvest, nothing.clone()).is_ok());
        step(&mut m, 0, Op::Write { len: 3 }, Reply::Count(3)).unwrap();
        assert_eq!(step(&mut m, 1, Op::Harvest, nothing.clone()).unwrap_err().rules, vec![rules::EDGE]);
        let mut m2 = m.clone();
        assert!(step(&mut m2, 1, Op::Harvest, report.clone()).is_ok());
        assert_eq!(step(&mut m2, 1, Op::Harvest, report.clone()).unwrap_err().rules, vec![rules::EDGE]);
        // An arrival read away before the ask is not owed.
        let mut m3 = m2.clone();
        step(&mut m3, 0, Op::Write { len: 1 }, Reply::Count(1)).unwrap();
        step(&mut m3, 1, Op::Read { max: 64 }, Reply::Data(vec![0; 4])).unwrap();
        assert!(step(&mut m3, 1, Op::Harvest, nothing.clone()).is_ok());
        // A read that leaves bytes may wake it again.
        step(&mut m2, 1, Op::Read { max: 1 }, Reply::Data(vec![0])).unwrap();
        assert!(step(&mut m2, 1, Op::Harvest, report.clone()).is_ok());
        // Level-triggered: reports while bytes remain, whatever happened.
        step(&mut m, 1, Op::Arm { how: Interface::Epoll, edge: false }, Reply::Done).unwrap();
        assert!(step(&mut m, 1, Op::Harvest, report.clone()).is_ok());
        assert!(step(&mut m, 1, Op::Harvest, report).is_ok());
        assert_eq!(step(&mut m, 1, Op::Harvest, nothing).unwrap_err().rules, vec![rules::EDGE]);
    }

    #[test]
    fn a_fill_that_found_no_room_may_wake_an_edge_triggered_registration_again() {
        // Seen in CI on Linux 6.x: the pipe already full, a fill's writes
        // all returned EAGAIN, and epoll (EPOLLET) reported again:
        // pipe_write wakes the readers' registrations on every call.
        let mut m = model();
        let report = Reply::Values(vec![Readiness { readable: true, ..NOT_READY }.to_bits()]);
        step(&mut m, 0, Op::Write { len: 4 }, Reply::Count(4)).unwrap();
        step(&mut m, 1, Op::Arm { how: Interface::Epoll, edge: true }, Reply::Done).unwrap();
        step(&mut m, 1, Op::Harvest, report.clone()).unwrap();
        step(&mut m, 0, Op::Fill, Reply::Filled { total: 0, errno: None }).unwrap();
        assert!(step(&mut m, 1, Op::Harvest, report.clone()).is_ok());
        // Nothing since: no report owed, and none allowed.
        assert_eq!(step(&mut m, 1, Op::Harvest, report).unwrap_err().rules, vec![rules::EDGE]);
    }

    #[test]
    fn a_wait_blocks_on_an_empty_end_is_owed_a_wake_by_a_write_and_not_before() {
        use crate::evidence::Evidence;
        let mut m = ReadyModel::new(&Setup { writers: 2, readers: 1, creator: Creator::Pipe });
        let wait = Op::Wait { how: Interface::Poll };
        let blocked = Observed::Blocked(Evidence::ThreadState("S".into()));
        let early = Reply::Values(vec![NOT_READY.to_bits()]);
        assert_eq!(step(&mut m, 2, wait, early).unwrap_err().rules, vec![rules::WAIT_WAKES]);
        m.apply(&Event::Step { index: 0, actor: 2, op: wait, observed: blocked.clone() }).unwrap();
        assert!(m.can_issue(2, &Op::Read { max: 1 }).is_err(), "a waiting actor takes no step");
        step(&mut m, 0, Op::Close, Reply::Done).unwrap();
        assert!(m.obligations().is_empty(), "a writer is left: nothing is owed");
        let spurious =
            Event::Completion { actor: 2, observed: Observed::Returned(Reply::Values(vec![NOT_READY.to_bits()])) };
        assert_eq!(m.clone().apply(&spurious).unwrap_err().rules, vec![rules::WAIT_WAKES]);
        step(&mut m, 1, Op::Write { len: 2 }, Reply::Count(2)).unwrap();
        assert_eq!(m.obligations().len(), 1);
        let readable = Readiness { readable: true, ..NOT_READY };
        let woke = Event::Completion { actor: 2, observed: Observed::Returned(said(readable)) };
        m.apply(&woke).unwrap();
        assert!(m.obligations().is_empty());
        // Readable already: a wait must not block.
        let v = m.apply(&Event::Step { index: 0, actor: 2, op: wait, observed: blocked }).unwrap_err();
        assert_eq!(v.rules, vec![rules::WAIT_WAKES]);
    }
}
