//! Runs a [`PairSchedule`] against the host through the one case engine
//! ([`crate::engine`]): one real socket pair, its ends handed to the
//! actors that hold them, each step judged by the [`PairModel`].

use super::model::{PairEvent, PairModel};
use super::{PairOp, PairSchedule};
use crate::case::{CaseOutcome, CaseReport, Stop};
use crate::constants::Constants;
use crate::engine::{Invocation, Mechanism};
use crate::evidence::BlockSite;

use crate::os::socket::{self as sock, MsgOpts, SocketKind};
use crate::protocol::socket::SocketOp;
use crate::protocol::Request;
use crate::session::Session;
use crate::timing::Timing;

/// Runs one schedule and reports its events and outcome.
pub fn run(schedule: &PairSchedule, k: &Constants, timing: Timing) -> CaseReport<PairEvent> {
    if let Err(why) = schedule.validate() {
        return crate::case::refused(why);
    }
    if schedule.setup.kind == SocketKind::Seqpacket && !k.seqpacket {
        let mut report = CaseReport::new();
        report.outcome = CaseOutcome::Unsupported("no SOCK_SEQPACKET socket pairs on this platform".into());
        return report;
    }
    crate::engine::run(Pair { schedule, fds: Vec::new() }, PairModel::new(&schedule.setup, k), timing)
}

/// One socket-pair case: the schedule, and each actor's descriptor number.
struct Pair<'a> {
    schedule: &'a PairSchedule,
    fds: Vec<i32>,
}

impl Mechanism for Pair<'_> {
    type Op = PairOp;
    type Model = PairModel;

    fn steps(&self) -> Vec<(u8, PairOp)> {
        // Datagram kinds: no empty messages and no empty receive buffers,
        // whose results could not be told from end of file.
        let messages = self.schedule.setup.kind.keeps_boundaries();
        let normal = |op: PairOp| match op {
            PairOp::Send { len, dontwait, nosignal, call } if messages => {
                PairOp::Send { len: len.max(1), dontwait, nosignal, call }
            }
            PairOp::Recv { max, dontwait, call } => PairOp::Recv { max: max.max(1), dontwait, call },
            PairOp::Fill { chunk } => PairOp::Fill { chunk: chunk.max(1) },
            other => other,
        };
        self.schedule.steps.iter().map(|s| (self.schedule.actor_of(s), normal(s.op))).collect()
    }

    fn set_up(&mut self, session: &mut Session) -> Result<(), Stop> {
        let setup = &self.schedule.setup;
        let create = || super::creator::create(setup);
        self.fds = crate::engine::hand_out_ends(session, setup.actors(), create, |a| setup.end_of(a))?;
        Ok(())
    }

    fn entry_point(&self, op: &PairOp) -> Option<&'static str> {
        op.entry_point()
    }

    fn made_by(&self) -> Vec<&'static str> {
        let setup = &self.schedule.setup;
        std::iter::once(setup.creator.name()).chain(super::creator::nonblock_entry_point(setup)).collect()
    }

    fn invocation(&self, model: &PairModel, a: u8, op: &PairOp) -> Result<Invocation, Stop> {
        let fd = Some(self.fds[a as usize]);
        let socket = |op| Request::Socket(op);
        Ok(match *op {
            PairOp::Send { len, dontwait, nosignal, call } => {
                let (tag, start) = model.next_send(a);
                let opts = MsgOpts { dontwait, nosignal };
                Invocation::MayBlock(
                    socket(SocketOp::Send { slot: 0, len, tag, start, call, opts }),
                    BlockSite { kind: call.site(), fd },
                )
            }
            PairOp::Recv { max, dontwait, call } => Invocation::MayBlock(
                socket(SocketOp::Recv { slot: 0, max, call, dontwait }),
                BlockSite { kind: call.site(), fd },
            ),
            PairOp::Fill { chunk } => {
                let (tag, start) = model.next_send(a);
                Invocation::Call(socket(SocketOp::Fill { slot: 0, chunk, tag, start }))
            }
            PairOp::ShutWrite => Invocation::Call(socket(SocketOp::Shutdown { slot: 0, how: sock::Shut::Write })),
            PairOp::Close => Invocation::Call(Request::Close { slot: 0 }),
            PairOp::Sigpipe(d) => Invocation::Call(Request::SetSigpipe(d)),
            PairOp::Exit => Invocation::Exit(0),
            PairOp::Kill => Invocation::Kill,
        })
    }
}
