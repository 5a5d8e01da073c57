//! Runs a [`PipeSchedule`] against the host: real actor processes, one
//! real pipe, each step observed and checked by the [`PipeModel`] as it
//! happens, pending operations awaited when the model says they must
//! complete.

use super::model::{Event, PipeModel};
use super::schedule::{End, Op, PipeSchedule};
use crate::case::{CaseOutcome, CaseReport};
use crate::constants::Constants;
use crate::evidence::BlockSite;
use crate::os::proc::SyscallKind;
use crate::os::{self};
use crate::protocol::Request;
use crate::session::{ActorId, HarnessError, Observed, Session};
use crate::timing::Timing;
use std::os::fd::AsFd;

/// Runs one schedule and reports its events and outcome.
pub fn run(schedule: &PipeSchedule, k: &Constants, timing: Timing) -> CaseReport<Event> {
    if let Err(why) = schedule.validate() {
        return crate::case::refused(why);
    }
    let mut report = CaseReport::new();
    let mut session = Session::new(timing);
    let mut model = PipeModel::new(&schedule.setup, k);
    let outcome = match drive(schedule, &mut session, &mut model, &mut report.events) {
        Ok(outcome) => outcome,
        Err(e) => CaseOutcome::Error(e.0),
    };
    report.outcome = outcome;
    report.evidence = session.evidence.clone();
    report.observations =
        model.capacities.iter().map(|c| ("pipe capacity (bytes, filled from empty)".to_string(), *c)).collect();
    report
}

fn drive(
    schedule: &PipeSchedule,
    session: &mut Session,
    model: &mut PipeModel,
    events: &mut Vec<Event>,
) -> Result<CaseOutcome, HarnessError> {
    let setup = &schedule.setup;
    if setup.actors() == 0 || setup.write_holders() == 0 || setup.readers == 0 {
        return Err(HarnessError(format!("a pipe schedule needs a writer and a reader: {setup:?}")));
    }
    // Actors first: no descriptor under test exists while they fork.
    let ids = (0..setup.actors()).map(|_| session.spawn()).collect::<Result<Vec<_>, _>>()?;
    let mut fds = Vec::new();
    {
        // No other thread forks from the pipe's creation until our copies
        // are closed: a forked child would hold a hidden copy of an end.
        let _quiet = os::process::quiet_forks();
        let (r, w) = os::pipe::pipe_cloexec().map_err(|e| HarnessError::io("pipe", e))?;
        os::fd::set_nonblocking(r.as_fd(), setup.nonblock_read).map_err(|e| HarnessError::io("fcntl", e))?;
        os::fd::set_nonblocking(w.as_fd(), setup.nonblock_write).map_err(|e| HarnessError::io("fcntl", e))?;
        for (a, id) in ids.iter().enumerate() {
            let end = if setup.end_of(a as u8) == End::Read { &r } else { &w };
            fds.push(session.hand(*id, &[end.as_fd()])?[0]);
        }
        // The coordinator's own copies close here: from now on only the
        // actors hold ends, so EOF and EPIPE depend on them alone.
    }
    for (index, step) in schedule.steps.iter().enumerate() {
        if let Some(outcome) = crate::checker::collect(session, model, events)? {
            return Ok(outcome);
        }
        let a = schedule.actor_of(step);
        let id = ActorId(a as usize);
        if let Err(why) = model.can_issue(a, &step.op) {
            events.push(Event::Skipped { index, actor: a, op: step.op, why: why.to_string() });
            continue;
        }
        let fd = fds[a as usize];
        let observed = match step.op {
            Op::Write { len } => {
                let (tag, start) = model.next_write(a);
                let site = BlockSite { kind: SyscallKind::Write, fd: Some(fd) };
                session.invoke(id, &Request::Write { slot: 0, len, tag, start }, site)?
            }
            Op::Read { max } => {
                let site = BlockSite { kind: SyscallKind::Read, fd: Some(fd) };
                session.invoke(id, &Request::Read { slot: 0, max }, site)?
            }
            Op::Fill { chunk } => {
                let (tag, start) = model.next_write(a);
                let site = BlockSite { kind: SyscallKind::Write, fd: Some(fd) };
                session.invoke(id, &Request::Fill { slot: 0, chunk: chunk.max(1), tag, start }, site)?
            }
            Op::Close => session.call(id, &Request::Close { slot: 0 })?,
            Op::Sigpipe(d) => session.call(id, &Request::SetSigpipe(d))?,
            Op::Exit => Observed::Died(session.exit(id, 0)?),
            Op::Kill => Observed::Died(session.kill(id)?),
        };
        let event = Event::Step { index, actor: a, op: step.op, observed: observed.clone() };
        events.push(event.clone());
        if let Observed::NoReturn(ws) = observed {
            let state = ws.map(|w| w.to_string()).unwrap_or_else(|| "no wait state available".into());
            return Ok(CaseOutcome::Hung {
                rule: None,
                message: format!(
                    "actor {a}: {}: neither returned nor blocked where expected within the deadline ({state})",
                    step.op
                ),
            });
        }
        if let Err(v) = model.apply(&event) {
            return Ok(CaseOutcome::Fail {
                rules: v.rules.iter().map(|r| r.to_string()).collect(),
                message: v.message,
            });
        }
        if let Some(outcome) = crate::checker::settle(session, model, events)? {
            return Ok(outcome);
        }
    }
    if let Some(outcome) = crate::checker::collect(session, model, events)? {
        return Ok(outcome);
    }
    Ok(CaseOutcome::Pass)
}
