//! The reference model of an event counter: it knows the counter exactly
//! and which actors are blocked in a read or a write, and says what each
//! call may return (see `spec/rules/eventfd.toml`):
//!
//! - a read of a positive counter returns it and resets it to 0 (or, with
//!   `EFD_SEMAPHORE`, returns 1 and decrements it); of a zero counter it
//!   blocks (`EAGAIN` with `EFD_NONBLOCK`);
//! - a write of `v` adds it when the sum stays at most [`MAX`], else blocks
//!   (`EAGAIN`); a write of `u64::MAX` and a read into fewer than 8 bytes
//!   fail with `EINVAL`;
//! - once the counter is positive, one blocked reader must return; once a
//!   blocked write fits, it must return.

use super::{rules, EventfdCase, Op, MAX};
use crate::checker::{describe, violation, Checker, Event, Obligation, Violation};
use crate::observed::Observed;
use crate::protocol::Reply;

/// The reference model of one eventfd case.
#[derive(Clone, Debug)]
pub struct CounterModel {
    counter: u64,
    semaphore: bool,
    nonblock: bool,
    /// Per actor: the operation it is blocked in.
    pending: Vec<Option<Op>>,
    /// Reads that returned a value (an observation).
    reads: u64,
}

/// The name of the observation counting reads judged.
pub const READS_OBSERVED: &str = "eventfd reads judged";

impl CounterModel {
    /// The counter at its start value, nobody blocked.
    pub fn new(case: &EventfdCase) -> CounterModel {
        CounterModel {
            counter: u64::from(case.initval),
            semaphore: case.semaphore,
            nonblock: case.nonblock,
            pending: vec![None; usize::from(case.actors)],
            reads: 0,
        }
    }

    fn fits(&self, v: u64) -> bool {
        v <= MAX - self.counter
    }

    fn err(&self, what: String) -> Violation {
        violation(
            &[rules::COUNTER],
            format!("{what} (counter {:#x}{})", self.counter, if self.semaphore { ", EFD_SEMAPHORE" } else { "" }),
        )
    }

    /// A read that returned: it must be the value owed now.
    fn read_returned(&mut self, reply: &Reply) -> Result<(), Violation> {
        let owed = if self.semaphore { 1 } else { self.counter };
        match reply {
            Reply::Data(d) if d.len() == 8 => {
                let got = u64::from_ne_bytes(d[..8].try_into().unwrap_or([0; 8]));
                if self.counter == 0 || got != owed {
                    return Err(self.err(format!("a read returned {got:#x}; owed {owed:#x}")));
                }
                self.counter -= owed;
                self.reads += 1;
                Ok(())
            }
            other => Err(self.err(format!("a read {}; owed {owed:#x}", describe(&Observed::Returned(other.clone()))))),
        }
    }

    /// A write of `v` that returned: it must have added `v`.
    fn write_returned(&mut self, v: u64, reply: &Reply) -> Result<(), Violation> {
        match reply {
            Reply::Count(8) if self.fits(v) => {
                self.counter += v;
                Ok(())
            }
            other => Err(self.err(format!("a write of {v:#x} {}", describe(&Observed::Returned(other.clone()))))),
        }
    }

    fn step(&mut self, a: u8, op: Op, observed: &Observed) -> Result<(), Violation> {
        let ready = match op {
            Op::Read => self.counter > 0,
            Op::Write(v) => self.fits(v),
            Op::ReadShort => true,
        };
        let errno = |o: &Observed| match o {
            Observed::Returned(Reply::Errno(e)) => Some(*e),
            _ => None,
        };
        match (op, observed) {
            (Op::ReadShort, o) if errno(o) == Some(libc::EINVAL) => Ok(()),
            (Op::ReadShort, o) => Err(self.err(format!("a read into 4 bytes {}; expected EINVAL", describe(o)))),
            (Op::Write(u64::MAX), o) if errno(o) == Some(libc::EINVAL) => Ok(()),
            (Op::Write(u64::MAX), o) => {
                Err(self.err(format!("a write of 0xffffffffffffffff {}; expected EINVAL", describe(o))))
            }
            (_, Observed::Blocked(_)) if !ready && !self.nonblock => {
                self.pending[usize::from(a)] = Some(op);
                Ok(())
            }
            (_, Observed::Blocked(e)) => Err(self.err(format!(
                "{op} blocked ({e}){}",
                if self.nonblock { " with EFD_NONBLOCK" } else { " although it could complete" }
            ))),
            (_, o) if !ready && self.nonblock && errno(o) == Some(libc::EAGAIN) => Ok(()),
            (_, o) if !ready => Err(self.err(format!(
                "{op} {}; expected {}",
                describe(o),
                if self.nonblock { "EAGAIN" } else { "it to block" }
            ))),
            (Op::Read, Observed::Returned(reply)) => self.read_returned(reply),
            (Op::Write(v), Observed::Returned(reply)) => self.write_returned(v, reply),
            (_, o) => Err(self.err(format!("{op}: {}", describe(o)))),
        }
    }
}

impl Checker for CounterModel {
    type Op = Op;

    fn can_issue(&self, actor: u8, _op: &Op) -> Result<(), &'static str> {
        crate::checker::idle(&self.pending, actor)
    }

    fn apply(&mut self, event: &Event<Op>) -> Result<(), Violation> {
        match event {
            Event::Step { actor, op, observed, .. } => self.step(*actor, *op, observed),
            Event::Skipped { .. } => Ok(()),
            Event::Completion { actor, observed } => {
                let Some(op) = self.pending.get_mut(usize::from(*actor)).and_then(Option::take) else {
                    return Err(self.err(format!("actor {actor}: a completion with nothing pending")));
                };
                let ready = match op {
                    Op::Read => self.counter > 0,
                    Op::Write(v) => self.fits(v),
                    Op::ReadShort => true,
                };
                match (op, observed) {
                    _ if !ready => Err(self.err(format!(
                        "a blocked {op} returned ({}) although it could not complete",
                        describe(observed)
                    ))),
                    (Op::Read, Observed::Returned(reply)) => self.read_returned(reply),
                    (Op::Write(v), Observed::Returned(reply)) => self.write_returned(v, reply),
                    (_, o) => Err(self.err(format!("a blocked {op}: {}", describe(o)))),
                }
            }
        }
    }

    fn obligations(&self) -> Vec<Obligation> {
        let readers: Vec<u8> =
            (0..self.pending.len() as u8).filter(|a| self.pending[usize::from(*a)] == Some(Op::Read)).collect();
        if self.counter > 0 && !readers.is_empty() {
            return vec![Obligation {
                actors: readers,
                rule: rules::COUNTER,
                why: format!("the counter is {:#x}, so a blocked read must return", self.counter),
            }];
        }
        // Of the blocked writes that fit now, one must return (after it,
        // the others may no longer fit).
        let writers: Vec<u8> = (0..self.pending.len() as u8)
            .filter(|a| matches!(self.pending[usize::from(*a)], Some(Op::Write(v)) if self.fits(v)))
            .collect();
        if writers.is_empty() {
            return Vec::new();
        }
        vec![Obligation {
            actors: writers,
            rule: rules::COUNTER,
            why: format!("the counter is {:#x}, so a blocked write that fits must return", self.counter),
        }]
    }

    fn observations(&self) -> Vec<(String, u64)> {
        vec![(READS_OBSERVED.to_string(), self.reads)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::Evidence;

    fn model(semaphore: bool, initval: u32) -> CounterModel {
        CounterModel::new(&EventfdCase { actors: 2, initval, semaphore, nonblock: false, steps: vec![] })
    }

    fn returned(m: &mut CounterModel, a: u8, op: Op, reply: Reply) -> Result<(), Violation> {
        m.apply(&Event::Step { index: 0, actor: a, op, observed: Observed::Returned(reply) })
    }

    fn word(v: u64) -> Reply {
        Reply::Data(v.to_ne_bytes().to_vec())
    }

    #[test]
    fn a_read_takes_the_sum_or_one_as_a_semaphore() {
        let mut m = model(false, 2);
        returned(&mut m, 0, Op::Write(5), Reply::Count(8)).unwrap();
        assert!(returned(&mut m.clone(), 1, Op::Read, word(5)).is_err(), "the start value counts");
        returned(&mut m, 1, Op::Read, word(7)).unwrap();
        let mut s = model(true, 3);
        assert!(returned(&mut s.clone(), 1, Op::Read, word(3)).is_err(), "a semaphore read takes 1");
        returned(&mut s, 1, Op::Read, word(1)).unwrap();
        returned(&mut s, 1, Op::Read, word(1)).unwrap();
    }

    #[test]
    fn an_empty_read_must_block_and_is_owed_a_return_once_written() {
        let mut m = model(false, 0);
        assert!(returned(&mut m.clone(), 1, Op::Read, word(0)).is_err(), "an empty read returned");
        let blocked = Observed::Blocked(Evidence::ThreadState("S".into()));
        m.apply(&Event::Step { index: 0, actor: 1, op: Op::Read, observed: blocked.clone() }).unwrap();
        assert!(m.obligations().is_empty());
        returned(&mut m, 0, Op::Write(4), Reply::Count(8)).unwrap();
        assert_eq!(m.obligations().len(), 1);
        m.apply(&Event::Completion { actor: 1, observed: Observed::Returned(word(4)) }).unwrap();
        // An overflowing write blocks until a read makes room.
        returned(&mut m, 0, Op::Write(MAX), Reply::Count(8)).unwrap();
        m.apply(&Event::Step { index: 0, actor: 0, op: Op::Write(1), observed: blocked }).unwrap();
        assert!(m.obligations().is_empty());
        returned(&mut m, 1, Op::Read, word(MAX)).unwrap();
        assert_eq!(m.obligations().len(), 1);
        assert!(returned(&mut m, 1, Op::Write(u64::MAX), Reply::Count(8)).is_err(), "0xff..ff must be EINVAL");
    }

    #[test]
    fn two_blocked_writes_that_each_fit_owe_one_return_between_them() {
        let mut m =
            CounterModel::new(&EventfdCase { actors: 3, initval: 0, semaphore: false, nonblock: false, steps: vec![] });
        returned(&mut m, 2, Op::Write(5), Reply::Count(8)).unwrap();
        let blocked = Observed::Blocked(Evidence::ThreadState("S".into()));
        for a in [0, 1] {
            m.apply(&Event::Step { index: 0, actor: a, op: Op::Write(MAX), observed: blocked.clone() }).unwrap();
        }
        returned(&mut m, 2, Op::Read, word(5)).unwrap();
        // Either may return, not both: one obligation naming both.
        assert_eq!(m.obligations().len(), 1);
        assert_eq!(m.obligations()[0].actors, vec![0, 1]);
        m.apply(&Event::Completion { actor: 1, observed: Observed::Returned(Reply::Count(8)) }).unwrap();
        assert!(m.obligations().is_empty(), "the other no longer fits");
    }
}
