//! Runs a [`PipeSchedule`] against the host through the one case engine
//! ([`crate::engine`]): real actor processes, one real pipe whose ends are
//! handed to the actors that hold them, each step judged by the
//! [`PipeModel`].

use super::model::{Event, PipeModel};
use super::schedule::{End, Op, PipeSchedule};
use crate::case::{CaseReport, Stop};
use crate::constants::Constants;
use crate::engine::{Invocation, Mechanism};
use crate::evidence::BlockSite;
use crate::os::proc::SyscallKind;
use crate::protocol::Request;
use crate::session::Session;
use crate::timing::Timing;

/// Runs one schedule and reports its events and outcome.
pub fn run(schedule: &PipeSchedule, k: &Constants, timing: Timing) -> CaseReport<Event> {
    if let Err(why) = schedule.validate() {
        return crate::case::refused(why);
    }
    crate::engine::run(Pipe { schedule, timing, fds: Vec::new() }, PipeModel::new(&schedule.setup, k), timing)
}

/// One pipe case: the schedule, and each actor's descriptor number.
struct Pipe<'a> {
    schedule: &'a PipeSchedule,
    timing: Timing,
    fds: Vec<i32>,
}

impl Mechanism for Pipe<'_> {
    type Op = Op;
    type Model = PipeModel;

    fn steps(&self) -> Vec<(u8, Op)> {
        self.schedule.steps.iter().map(|s| (self.schedule.actor_of(s), s.op)).collect()
    }

    fn set_up(&mut self, session: &mut Session) -> Result<(), Stop> {
        let setup = &self.schedule.setup;
        let create = || super::creator::create(setup, self.timing);
        let end_of = |a| usize::from(setup.end_of(a) == End::Write);
        self.fds = crate::engine::hand_out_ends(session, setup.actors(), create, end_of)?;
        Ok(())
    }

    fn entry_point(&self, op: &Op) -> Option<&'static str> {
        op.entry_point()
    }

    fn made_by(&self) -> Vec<&'static str> {
        let setup = &self.schedule.setup;
        let mut made = vec![setup.creator.name()];
        if setup.resized() {
            made.push(super::Creator::SmallPipe.name()); // the F_SETPIPE_SZ of a one-page pipe
        }
        made
    }

    fn invocation(&self, model: &PipeModel, a: u8, op: &Op) -> Result<Invocation, Stop> {
        let fd = Some(self.fds[a as usize]);
        Ok(match *op {
            Op::Write { len, call } => {
                let (tag, start) = model.next_write(a);
                Invocation::MayBlock(
                    Request::Write { slot: 0, len, tag, start, call },
                    BlockSite { kind: call.site(), fd },
                )
            }
            Op::Read { max, call } => {
                Invocation::MayBlock(Request::Read { slot: 0, max, call }, BlockSite { kind: call.site(), fd })
            }
            Op::Fill { chunk, call } => {
                let (tag, start) = model.next_write(a);
                Invocation::MayBlock(
                    Request::Fill { slot: 0, chunk: chunk.max(1), tag, start, call },
                    BlockSite { kind: SyscallKind::Write, fd },
                )
            }
            Op::Close => Invocation::Call(Request::Close { slot: 0 }),
            Op::Sigpipe(d) => Invocation::Call(Request::SetSigpipe(d)),
            Op::Exit => Invocation::Exit(0),
            Op::Kill => Invocation::Kill,
        })
    }
}
