//! Runs an [`EventfdCase`] against the host through the one case engine:
//! the coordinator makes the eventfd and hands it to every actor; each
//! step is judged by the [`CounterModel`].

use super::model::CounterModel;
use super::{EventfdCase, Op};
use crate::case::{CaseReport, Stop};
use crate::checker::Event;
use crate::engine::{Invocation, Mechanism};
use crate::evidence::BlockSite;
use crate::os::entry::ReadCall;
use crate::os::proc::SyscallKind;
use crate::protocol::Request;
use crate::session::Session;
use crate::timing::Timing;

/// Runs one case and reports its events and outcome.
pub fn run(case: &EventfdCase, timing: Timing) -> CaseReport<Event<Op>> {
    if let Err(why) = case.validate() {
        return crate::case::refused(why);
    }
    crate::engine::run(Counter { case, fds: Vec::new() }, CounterModel::new(case), timing)
}

struct Counter<'a> {
    case: &'a EventfdCase,
    fds: Vec<i32>,
}

impl Mechanism for Counter<'_> {
    type Op = Op;
    type Model = CounterModel;

    fn steps(&self) -> Vec<(u8, Op)> {
        self.case.steps.iter().map(|s| (s.actor, s.op)).collect()
    }

    fn set_up(&mut self, session: &mut Session) -> Result<(), Stop> {
        let c = self.case;
        let create = || {
            let fd =
                crate::os::eventfd::create(c.initval, c.semaphore, c.nonblock).map_err(|e| Stop::io("eventfd", e))?;
            let copy = fd.try_clone().map_err(|e| Stop::io("dup", e))?;
            Ok([fd, copy])
        };
        self.fds = crate::engine::hand_out_ends(session, c.actors, create, |_| 0)?;
        Ok(())
    }

    fn invocation(&self, _model: &CounterModel, a: u8, op: &Op) -> Result<Invocation, Stop> {
        let fd = Some(self.fds[usize::from(a)]);
        Ok(match *op {
            Op::Write(value) => {
                Invocation::MayBlock(Request::WriteWord { slot: 0, value }, BlockSite { kind: SyscallKind::Write, fd })
            }
            Op::Read => Invocation::MayBlock(
                Request::Read { slot: 0, max: 8, call: ReadCall::Read },
                BlockSite { kind: SyscallKind::Read, fd },
            ),
            Op::ReadShort => Invocation::Call(Request::Read { slot: 0, max: 4, call: ReadCall::Read }),
        })
    }
}
