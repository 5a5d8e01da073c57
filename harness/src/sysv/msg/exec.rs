//! Runs a [`MsgCase`] against the host through the one case engine: the
//! coordinator makes the queue under a key of the run's (removed with the
//! case, also when it fails), the actors use it by its id, and each step
//! is judged by the [`MsgModel`].

use super::model::MsgModel;
use super::{MsgCase, Op};
use crate::case::{CaseReport, Stop};
use crate::checker::Event;
use crate::engine::{Invocation, Mechanism};
use crate::evidence::BlockSite;
use crate::os::proc::SyscallKind;
use crate::protocol::sysv::SysvOp;
use crate::protocol::Request;
use crate::session::Session;
use crate::sysv::key::Object;
use crate::timing::Timing;

/// Runs one case and reports its events and outcome.
pub fn run(case: &MsgCase, timing: Timing) -> CaseReport<Event<Op>> {
    if let Err(why) = case.validate() {
        return crate::case::refused(why);
    }
    crate::engine::run(Queue { case, queue: None }, MsgModel::new(case), timing)
}

struct Queue<'a> {
    case: &'a MsgCase,
    queue: Option<Object>,
}

impl Mechanism for Queue<'_> {
    type Op = Op;
    type Model = MsgModel;

    fn steps(&self) -> Vec<(u8, Op)> {
        self.case.steps.iter().map(|s| (s.actor, s.op)).collect()
    }

    fn set_up(&mut self, session: &mut Session) -> Result<(), Stop> {
        for _ in 0..self.case.actors {
            session.spawn()?;
        }
        let queue = Object::msg_queue().map_err(|e| match e.raw_os_error() {
            Some(libc::ENOSYS) => Stop::Unsupported("this host has no System V message queues (msgget: ENOSYS)".into()),
            _ => Stop::io("msgget(IPC_CREAT | IPC_EXCL) of the case's queue", e),
        })?;
        self.queue = Some(queue);
        Ok(())
    }

    fn made_by(&self) -> Vec<&'static str> {
        vec!["msgget"]
    }

    fn entry_point(&self, op: &Op) -> Option<&'static str> {
        Some(match op {
            Op::Send { .. } => "msgsnd",
            Op::Receive { .. } => "msgrcv",
        })
    }

    fn invocation(&self, model: &MsgModel, _a: u8, op: &Op) -> Result<Invocation, Stop> {
        let id = self.queue.as_ref().map(Object::id).ok_or_else(|| Stop::harness("no queue made"))?;
        Ok(match *op {
            Op::Send { mtype, len } => {
                let (tag, start) = crate::pattern::message(model.next_id());
                Invocation::Call(Request::Sysv(SysvOp::MsgSend { id, mtype, len, tag, start }))
            }
            Op::Receive { msgtyp, max, nowait } => Invocation::MayBlock(
                Request::Sysv(SysvOp::MsgReceive { id, max, msgtyp, nowait }),
                BlockSite { kind: SyscallKind::MsgRcv, fd: None },
            ),
        })
    }
}
