//! Runs an [`MqueueCase`] against the host through the one case engine:
//! the coordinator makes the queue under a fresh name (removed with the
//! case, also when it fails), every actor opens it by name, and each step
//! is judged by the [`QueueModel`].

use super::model::QueueModel;
use super::{MqueueCase, Op};
use crate::case::{CaseReport, Stop};
use crate::checker::{describe, Event};
use crate::engine::{Invocation, Mechanism};
use crate::evidence::BlockSite;
use crate::observed::Observed;
use crate::os::mqueue::Attr;
use crate::os::proc::SyscallKind;
use crate::protocol::mqueue::MqOp;
use crate::protocol::{Reply, Request};
use crate::session::{ActorId, Session};
use crate::shm::name::ShmName;
use crate::timing::Timing;

/// Runs one case and reports its events and outcome.
pub fn run(case: &MqueueCase, timing: Timing) -> CaseReport<Event<Op>> {
    if let Err(why) = case.validate() {
        return crate::case::refused(why);
    }
    let m = Queues { case, name: None, descs: Vec::new() };
    crate::engine::run(m, QueueModel::new(case), timing)
}

struct Queues<'a> {
    case: &'a MqueueCase,
    /// The case's name; the queues under it go with it.
    name: Option<ShmName>,
    /// Per actor: (slot, descriptor number) of each descriptor it opened.
    descs: Vec<Vec<(u32, i32)>>,
}

impl Queues<'_> {
    fn name(&self) -> String {
        self.name.as_ref().map(|n| n.as_str().to_string()).unwrap_or_default()
    }

    fn attr(&self) -> Attr {
        Attr { maxmsg: self.case.maxmsg, msgsize: self.case.msgsize }
    }

    fn desc(&self, a: u8, d: u8) -> Result<(u32, i32), Stop> {
        self.descs
            .get(usize::from(a))
            .and_then(|v| v.get(usize::from(d)))
            .copied()
            .ok_or_else(|| Stop::harness(format!("actor {a} has no descriptor {d}")))
    }
}

impl Mechanism for Queues<'_> {
    type Op = Op;
    type Model = QueueModel;

    fn steps(&self) -> Vec<(u8, Op)> {
        self.case.steps.iter().map(|s| (s.actor, s.op)).collect()
    }

    fn set_up(&mut self, session: &mut Session) -> Result<(), Stop> {
        // Named and made under the clean-up's guard: an interruption either
        // comes first or finds the name issued and removes the queue.
        let (name, made) = {
            let _creating = crate::cleanup::creating();
            let name = ShmName::fresh();
            let made = crate::os::mqueue::open(name.as_str(), Some(self.attr()), false);
            (name, made)
        };
        self.name = Some(name);
        match made {
            Ok(fd) => {
                crate::os::mqueue::close(fd).map_err(|e| Stop::io("mq_close of the coordinator's descriptor", e))?
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {
                return Err(Stop::Unsupported("this host has no POSIX message queues (mq_open: ENOSYS)".into()))
            }
            Err(e) => {
                return Err(Stop::io(format!("mq_open(O_CREAT | O_EXCL) of the case's queue {:?}", self.attr()), e))
            }
        }
        for (a, nonblock) in self.case.nonblock.iter().enumerate() {
            let id: ActorId = session.spawn()?;
            let open = Request::Mqueue(MqOp::Open { name: self.name(), create: None, nonblock: *nonblock });
            match session.call(id, &open)? {
                Observed::Returned(Reply::Opened { slot, fd }) => self.descs.push(vec![(slot, fd)]),
                other => {
                    return Err(Stop::harness(format!(
                        "set-up: actor {a}'s mq_open of the queue just made: {}",
                        describe(&other)
                    )))
                }
            }
        }
        Ok(())
    }

    fn made_by(&self) -> Vec<&'static str> {
        vec!["mq_open"]
    }

    fn observed(&mut self, actor: u8, op: &Op, observed: &Observed) {
        if let (Op::Open { .. }, Observed::Returned(Reply::Opened { slot, fd })) = (op, observed) {
            if let Some(v) = self.descs.get_mut(usize::from(actor)) {
                v.push((*slot, *fd));
            }
        }
    }

    fn entry_point(&self, op: &Op) -> Option<&'static str> {
        Some(match op {
            Op::Send { .. } => "mq_send",
            Op::Receive { .. } => "mq_receive",
            Op::Unlink => "mq_unlink",
            Op::Open { .. } => "mq_open",
            Op::Close { .. } => "mq_close",
        })
    }

    fn invocation(&self, model: &QueueModel, a: u8, op: &Op) -> Result<Invocation, Stop> {
        Ok(match *op {
            Op::Send { d, len, prio } => {
                let (slot, fd) = self.desc(a, d)?;
                let (tag, start) = crate::pattern::message(model.next_id());
                Invocation::MayBlock(
                    Request::Mqueue(MqOp::Send { slot, len, tag, start, prio }),
                    BlockSite { kind: SyscallKind::MqSend, fd: Some(fd) },
                )
            }
            Op::Receive { d, buf } => {
                let (slot, fd) = self.desc(a, d)?;
                Invocation::MayBlock(
                    Request::Mqueue(MqOp::Receive { slot, max: buf }),
                    BlockSite { kind: SyscallKind::MqReceive, fd: Some(fd) },
                )
            }
            Op::Unlink => Invocation::Call(Request::Mqueue(MqOp::Unlink { name: self.name() })),
            Op::Open { create, nonblock } => Invocation::Call(Request::Mqueue(MqOp::Open {
                name: self.name(),
                create: create.then(|| self.attr()),
                nonblock,
            })),
            Op::Close { d } => Invocation::Call(Request::Mqueue(MqOp::Close { slot: self.desc(a, d)?.0 })),
        })
    }
}
