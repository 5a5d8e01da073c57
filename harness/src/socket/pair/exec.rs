//! Runs a [`PairSchedule`] against the host: one real socket pair, its ends
//! handed to the actors that hold them, each step judged by the
//! [`PairModel`] as it happens.

use super::model::{PairEvent, PairModel};
use super::{PairOp, PairSchedule};
use crate::case::{CaseOutcome, CaseReport};
use crate::constants::Constants;
use crate::evidence::BlockSite;
use crate::os::proc::SyscallKind;
use crate::os::socket::{self as sock, MsgOpts, SocketKind};
use crate::protocol::socket::SocketOp;
use crate::protocol::Request;
use crate::session::{ActorId, HarnessError, Observed, Session};
use crate::timing::Timing;
use std::os::fd::AsFd;

/// Runs one schedule and reports its events and outcome.
pub fn run(schedule: &PairSchedule, k: &Constants, timing: Timing) -> CaseReport<PairEvent> {
    if let Err(why) = schedule.validate() {
        return crate::case::refused(why);
    }
    let mut report = CaseReport::new();
    if schedule.setup.kind == SocketKind::Seqpacket && !k.seqpacket {
        report.outcome = CaseOutcome::Unsupported("no SOCK_SEQPACKET socket pairs on this platform".into());
        return report;
    }
    let mut session = Session::new(timing);
    let mut model = PairModel::new(&schedule.setup, k);
    report.outcome = match drive(schedule, &mut session, &mut model, &mut report.events) {
        Ok(outcome) => outcome,
        Err(e) => CaseOutcome::Error(e.0),
    };
    report.evidence = session.evidence.clone();
    report
}

fn drive(
    schedule: &PairSchedule,
    session: &mut Session,
    model: &mut PairModel,
    events: &mut Vec<PairEvent>,
) -> Result<CaseOutcome, HarnessError> {
    let setup = &schedule.setup;
    if setup.holders[0] == 0 || setup.holders[1] == 0 || setup.actors() > 4 {
        return Err(HarnessError(format!("a pair schedule needs 1-2 holders per end: {setup:?}")));
    }
    // Actors first; then no fork anywhere until our copies are closed.
    let ids = (0..setup.actors()).map(|_| session.spawn()).collect::<Result<Vec<_>, _>>()?;
    let mut fds = Vec::new();
    {
        let _quiet = crate::os::process::quiet_forks();
        let (a, b) =
            sock::pair(setup.kind).map_err(|e| HarnessError::io(format!("socketpair({})", setup.kind.name()), e))?;
        for (actor, id) in ids.iter().enumerate() {
            let end = if setup.end_of(actor as u8) == 0 { &a } else { &b };
            fds.push(session.hand(*id, &[end.as_fd()])?[0]);
        }
        // The coordinator's copies close here.
    }
    let messages = setup.kind.keeps_boundaries();
    for (index, step) in schedule.steps.iter().enumerate() {
        if let Some(outcome) = crate::checker::collect(session, model, events)? {
            return Ok(outcome);
        }
        let a = schedule.actor_of(step);
        let id = ActorId(a as usize);
        if let Err(why) = model.can_issue(a, &step.op) {
            events.push(PairEvent::Skipped { index, actor: a, op: step.op, why: why.to_string() });
            continue;
        }
        let fd = Some(fds[a as usize]);
        // Datagram kinds: no empty messages and no empty receive buffers,
        // whose results could not be told from end of file.
        let op = match step.op {
            PairOp::Send { len, dontwait, nosignal } if messages => {
                PairOp::Send { len: len.max(1), dontwait, nosignal }
            }
            PairOp::Recv { max, dontwait } => PairOp::Recv { max: max.max(1), dontwait },
            other => other,
        };
        let observed = match op {
            PairOp::Send { len, dontwait, nosignal } => {
                let (tag, start) = model.next_send(a);
                let request =
                    Request::Socket(SocketOp::Send { slot: 0, len, tag, start, opts: MsgOpts { dontwait, nosignal } });
                session.invoke(id, &request, BlockSite { kind: SyscallKind::Send, fd })?
            }
            PairOp::Recv { max, dontwait } => {
                let request = Request::Socket(SocketOp::Recv { slot: 0, max, dontwait });
                session.invoke(id, &request, BlockSite { kind: SyscallKind::Recv, fd })?
            }
            PairOp::Fill { chunk } => {
                let (tag, start) = model.next_send(a);
                session.invoke(
                    id,
                    &Request::Fill { slot: 0, chunk: chunk.max(1), tag, start },
                    BlockSite { kind: SyscallKind::Send, fd },
                )?
            }
            PairOp::ShutWrite => {
                session.call(id, &Request::Socket(SocketOp::Shutdown { slot: 0, how: sock::Shut::Write }))?
            }
            PairOp::Close => session.call(id, &Request::Close { slot: 0 })?,
            PairOp::Sigpipe(d) => session.call(id, &Request::SetSigpipe(d))?,
            PairOp::Exit => Observed::Died(session.exit(id, 0)?),
            PairOp::Kill => Observed::Died(session.kill(id)?),
        };
        let event = PairEvent::Step { index, actor: a, op, observed: observed.clone() };
        events.push(event.clone());
        if let Observed::NoReturn(ws) = observed {
            return Ok(CaseOutcome::Hung {
                rule: None,
                message: format!(
                    "actor {a}: {op}: neither returned nor blocked where expected within the deadline ({})",
                    ws.map(|w| w.to_string()).unwrap_or_else(|| "no wait state".into())
                ),
            });
        }
        if let Err(v) = model.apply(&event) {
            return Ok(v.into());
        }
        if let Some(outcome) = crate::checker::settle(session, model, events)? {
            return Ok(outcome);
        }
    }
    Ok(crate::checker::collect(session, model, events)?.unwrap_or(CaseOutcome::Pass))
}
