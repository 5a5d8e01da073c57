//! Runs a [`ReadySchedule`] against the host through the one case engine
//! ([`crate::engine`]): real actor processes, one real pipe or FIFO made
//! non-blocking at both ends, whose ends are handed to the actors that
//! hold them; each step judged by the [`ReadyModel`].

use super::model::ReadyModel;
use super::schedule::{Op, ReadySchedule};
use crate::case::{CaseReport, Stop};
use crate::checker::Event;
use crate::engine::{Invocation, Mechanism};
use crate::evidence::BlockSite;
use crate::os::entry::{ReadCall, WriteCall};
use crate::os::proc::SyscallKind;
use crate::os::ready::Interest;
use crate::os::signal::SigpipeDisposition;
use crate::protocol::ready::ReadyOp;
use crate::protocol::{Reply, Request};
use crate::session::{ActorId, Session};
use crate::timing::Timing;

/// Runs one schedule and reports its events and outcome.
pub fn run(schedule: &ReadySchedule, timing: Timing) -> CaseReport<Event<Op>> {
    if let Err(why) = schedule.validate() {
        return crate::case::refused(why);
    }
    crate::engine::run(Ready { schedule, timing, fds: Vec::new() }, ReadyModel::new(&schedule.setup), timing)
}

struct Ready<'a> {
    schedule: &'a ReadySchedule,
    timing: Timing,
    /// Each actor's descriptor number (where a wait is found asleep).
    fds: Vec<i32>,
}

impl Mechanism for Ready<'_> {
    type Op = Op;
    type Model = ReadyModel;

    fn steps(&self) -> Vec<(u8, Op)> {
        self.schedule.steps.iter().map(|s| (s.actor, s.op)).collect()
    }

    fn set_up(&mut self, session: &mut Session) -> Result<(), Stop> {
        let setup = &self.schedule.setup;
        let pipe = crate::pipe::Setup {
            writers: setup.writers,
            idle_writers: 0,
            readers: setup.readers,
            nonblock_read: true,
            nonblock_write: true,
            concurrent_reads: false,
            one_page: false,
            creator: setup.creator,
        };
        let create = || crate::pipe::creator::create(&pipe, self.timing);
        let end_of = |a| usize::from(setup.is_writer(a));
        self.fds = crate::engine::hand_out_ends(session, setup.actors(), create, end_of)?;
        for a in 0..setup.writers {
            let got = session.call(ActorId(usize::from(a)), &Request::SetSigpipe(SigpipeDisposition::Ignore))?;
            if got != crate::observed::Observed::Returned(Reply::Done) {
                return Err(Stop::harness(format!(
                    "ignoring SIGPIPE in actor {a}: {}",
                    crate::checker::describe(&got)
                )));
            }
        }
        Ok(())
    }

    /// The creator, and every interface the case asks (each counted once
    /// per case: a probe may ask several at once).
    fn made_by(&self) -> Vec<&'static str> {
        let mut names = vec![self.schedule.setup.creator.name()];
        names.extend(self.schedule.interfaces().into_iter().map(|i| i.name()));
        names
    }

    fn invocation(&self, model: &ReadyModel, a: u8, op: &Op) -> Result<Invocation, Stop> {
        let interest = if self.schedule.setup.is_writer(a) { Interest::Write } else { Interest::Read };
        Ok(Invocation::Call(match *op {
            Op::Write { len } => {
                let (tag, start) = model.next_write(a);
                Request::Write { slot: 0, len, tag, start, call: WriteCall::Write }
            }
            Op::Read { max } => Request::Read { slot: 0, max, call: ReadCall::Read },
            Op::Fill => {
                let (tag, start) = model.next_write(a);
                Request::Fill { slot: 0, chunk: 4096, tag, start, call: WriteCall::Write }
            }
            Op::Close => Request::Close { slot: 0 },
            Op::Probe { with } => Request::Ready(ReadyOp::Probe { slot: 0, with, interest }),
            Op::Arm { how, edge } => Request::Ready(ReadyOp::Arm { slot: 0, how, edge }),
            Op::Harvest => Request::Ready(ReadyOp::Harvest),
            Op::Wait { how } => {
                let fd = Some(self.fds[usize::from(a)]);
                return Ok(Invocation::MayBlock(
                    Request::Ready(ReadyOp::Wait { slot: 0, how, interest }),
                    BlockSite { kind: SyscallKind::Wait, fd },
                ));
            }
        }))
    }
}
