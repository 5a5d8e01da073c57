//! The memfd executor: actor 0 makes the memfd; unix socket pairs join it
//! to every other actor for the `Send` / `Receive` steps; each step
//! becomes one request on the descriptor the actor holds.

use super::model::MemfdModel;
use super::{MemfdCase, Op};
use crate::case::{CaseReport, Stop};
use crate::checker::{describe, Event};
use crate::engine::{Invocation, Mechanism};
use crate::observed::Observed;
use crate::os::memfd::Seals;
use crate::protocol::memfd::MemfdOp;
use crate::protocol::socket::SocketOp;
use crate::protocol::{Reply, Request};
use crate::session::Session;
use crate::timing::Timing;
use std::os::fd::AsFd;

/// Runs one memfd case.
pub fn run(case: &MemfdCase, timing: Timing) -> CaseReport<Event<Op>> {
    if let Err(why) = case.validate() {
        return crate::case::refused(why);
    }
    let model = MemfdModel::new(case.actors, case.sealing);
    crate::engine::run(Memfds { case, slot: vec![None; usize::from(case.actors)] }, model, timing)
}

struct Memfds<'a> {
    case: &'a MemfdCase,
    /// Per actor: the slot of the memfd it holds. Actor 0's socket to
    /// actor i is in its slot i - 1; actor i's in its slot 0.
    slot: Vec<Option<u32>>,
}

impl Mechanism for Memfds<'_> {
    type Op = Op;
    type Model = MemfdModel;

    fn steps(&self) -> Vec<(u8, Op)> {
        self.case.steps.iter().map(|s| (s.actor, s.op)).collect()
    }

    fn set_up(&mut self, session: &mut Session) -> Result<(), Stop> {
        let actors: Vec<_> = (0..self.case.actors).map(|_| session.spawn()).collect::<Result<_, _>>()?;
        for &other in &actors[1..] {
            let _quiet = crate::os::process::quiet_forks();
            let (s0, s1) = crate::os::socket::pair(crate::os::socket::SocketKind::Stream)
                .map_err(|e| Stop::io("socketpair", e))?;
            session.hand(actors[0], &[s0.as_fd()])?;
            session.hand(other, &[s1.as_fd()])?;
        }
        let obs = session.call(actors[0], &Request::Memfd(MemfdOp::Create { sealing: self.case.sealing }))?;
        match obs {
            Observed::Returned(Reply::Opened { slot, .. }) => {
                self.slot[0] = Some(slot);
                // The model starts from no seals (F_SEAL_SEAL without
                // MFD_ALLOW_SEALING); a host that seals new memfds itself
                // (vm.memfd_noexec: F_SEAL_EXEC, and F_SEAL_SEAL dropped)
                // is outside what it can judge.
                let want = if self.case.sealing { Seals::default() } else { Seals::SEAL };
                match session.call(actors[0], &Request::Memfd(MemfdOp::GetSeals { slot }))? {
                    Observed::Returned(Reply::Values(v)) if v == [i64::from(want.0)] => Ok(()),
                    Observed::Returned(Reply::Values(v)) => Err(Stop::Unsupported(format!(
                        "a new memfd carries the seals {} (is vm.memfd_noexec set?); the model starts from {want}",
                        v.first().map_or_else(String::new, |b| Seals(*b as u8).to_string())
                    ))),
                    other => Err(Stop::harness(format!("actor 0: F_GET_SEALS of a new memfd {}", describe(&other)))),
                }
            }
            Observed::Returned(Reply::Errno(e)) if e == libc::ENOSYS || e == libc::EINVAL => {
                Err(Stop::Unsupported(format!("memfd_create with these flags: {}", crate::os::errno_name(e))))
            }
            other => Err(Stop::harness(format!("actor 0: memfd_create {}", describe(&other)))),
        }
    }

    fn made_by(&self) -> Vec<&'static str> {
        vec!["memfd-create"]
    }

    fn observed(&mut self, actor: u8, op: &Op, observed: &Observed) {
        if let (Op::Receive, Observed::Returned(Reply::Opened { slot, .. })) = (op, observed) {
            if let Some(s) = self.slot.get_mut(usize::from(actor)) {
                *s = Some(*slot);
            }
        }
    }

    fn invocation(&self, _model: &MemfdModel, a: u8, op: &Op) -> Result<Invocation, Stop> {
        let fd =
            || self.slot[usize::from(a)].ok_or_else(|| Stop::harness(format!("actor {a} holds no memfd for {op}")));
        let memfd = |m: MemfdOp| Ok(Invocation::Call(Request::Memfd(m)));
        match *op {
            Op::Write { offset, len } => memfd(MemfdOp::Write { slot: fd()?, offset, len, tag: a }),
            Op::Truncate { len } => memfd(MemfdOp::Truncate { slot: fd()?, len }),
            Op::Seal(seals) => memfd(MemfdOp::AddSeals { slot: fd()?, seals }),
            Op::GetSeals => memfd(MemfdOp::GetSeals { slot: fd()? }),
            Op::Map { shared, writable } => memfd(MemfdOp::Map { slot: fd()?, shared, writable }),
            Op::Unmap => memfd(MemfdOp::UnmapAll),
            Op::Read => memfd(MemfdOp::Read { slot: fd()? }),
            Op::Send { to } => {
                Ok(Invocation::Call(Request::Socket(SocketOp::SendFd { slot: u32::from(to) - 1, fd_slot: fd()? })))
            }
            Op::Receive => Ok(Invocation::Call(Request::Socket(SocketOp::RecvFd { slot: 0 }))),
        }
    }
}
