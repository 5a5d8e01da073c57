//! Runs a [`SignalSchedule`] against the host through the one case
//! engine ([`crate::engine`]): real target actors that catch every signal
//! of the case, real senders that `kill` and `sigqueue` them; each step
//! judged by the [`SignalModel`].

use super::model::SignalModel;
use super::{Op, SignalSchedule};
use crate::case::{CaseOutcome, CaseReport, Stop};
use crate::checker::{describe, Event};
use crate::engine::{Invocation, Mechanism};
use crate::observed::Observed;
use crate::os::signal::Sig;
use crate::protocol::signal::SignalOp;
use crate::protocol::{Reply, Request};
use crate::session::{ActorId, Session};
use crate::timing::Timing;

/// Runs one schedule and reports its events and outcome.
pub fn run(schedule: &SignalSchedule, timing: Timing) -> CaseReport<Event<Op>> {
    if let Err(why) = schedule.validate() {
        return crate::case::refused(why);
    }
    if let Some(missing) = schedule.signals().into_iter().find(|s| s.number().is_none()) {
        let mut report = CaseReport::new();
        report.outcome = CaseOutcome::Unsupported(format!("no {missing} on this platform"));
        return report;
    }
    crate::engine::run(Signals { schedule, pids: Vec::new() }, SignalModel::new(&schedule.setup), timing)
}

struct Signals<'a> {
    schedule: &'a SignalSchedule,
    /// Each actor's pid.
    pids: Vec<i32>,
}

fn numbers(sigs: &[Sig]) -> Vec<i32> {
    sigs.iter().filter_map(|s| s.number()).collect()
}

impl Mechanism for Signals<'_> {
    type Op = Op;
    type Model = SignalModel;

    fn steps(&self) -> Vec<(u8, Op)> {
        self.schedule.steps.iter().map(|s| (s.actor, s.op)).collect()
    }

    fn set_up(&mut self, session: &mut Session) -> Result<(), Stop> {
        let setup = &self.schedule.setup;
        let ids = (0..setup.actors()).map(|_| session.spawn()).collect::<Result<Vec<ActorId>, _>>()?;
        self.pids = ids.iter().map(|id| session.pid(*id)).collect();
        let signals = numbers(&self.schedule.signals());
        for id in ids.iter().take(usize::from(setup.targets)) {
            let got =
                session.call(*id, &Request::Signal(SignalOp::Catch { signals: signals.clone(), restart: true }))?;
            if got != Observed::Returned(Reply::Done) {
                return Err(Stop::harness(format!("catching {signals:?} in {id}: {}", describe(&got))));
            }
        }
        Ok(())
    }

    fn entry_point(&self, op: &Op) -> Option<&'static str> {
        match op {
            Op::Send { .. } => Some("kill"),
            Op::Queue { .. } => Some("sigqueue"),
            Op::Block(_) | Op::Unblock(_) => Some("pthread-sigmask"),
            Op::Ignore(_) | Op::Catch(_) | Op::Uncatchable => Some("sigaction"),
            Op::Take => None,
        }
    }

    fn invocation(&self, model: &SignalModel, _a: u8, op: &Op) -> Result<Invocation, Stop> {
        let all = numbers(&self.schedule.signals());
        let number = |s: Sig| s.number().ok_or_else(|| Stop::harness(format!("no {s} here")));
        let pid = |to: u8| self.pids[usize::from(to)];
        Ok(Invocation::Call(Request::Signal(match *op {
            Op::Block(s) => SignalOp::Block { signals: numbers(&s.list()), on: true },
            Op::Unblock(s) => SignalOp::Block { signals: numbers(&s.list()), on: false },
            Op::Send { sig, to } => SignalOp::Kill { pid: pid(to), signal: number(sig)? },
            Op::Queue { sig, to } => {
                let value = i32::try_from(model.next_value()).map_err(|_| Stop::harness("too many values"))?;
                SignalOp::Queue { pid: pid(to), signal: number(sig)?, value }
            }
            Op::Take => SignalOp::Take { signals: all },
            Op::Ignore(s) => SignalOp::Ignore { signals: numbers(&s.list()) },
            Op::Catch(s) => SignalOp::Catch { signals: numbers(&s.list()), restart: true },
            Op::Uncatchable => SignalOp::Uncatchable,
        })))
    }
}
