//! Runs file cases against the host: real actor processes and a per-case
//! scratch directory, removed when the case ends, however it ends (the
//! session, and with it every actor, is dropped first, so that no actor can
//! still be creating files while the directory goes).

use super::locks::{LockEvent, LockModel, LockOp, LockSchedule, Violation, FDS};
use super::race::{
    self, AppendCase, AppendReport, CreateCase, NoReplaceCase, ReplaceCase, VisibleCase, WriterReport, INITIAL,
};
use super::version::{self, Seen};
use crate::case::{CaseOutcome, CaseReport};
use crate::evidence::BlockSite;
use crate::os::file::{LockOwner, OpenMode};
use crate::os::proc::SyscallKind;
use crate::pipe::model::describe;
use crate::protocol::file::FileOp;
use crate::protocol::{Reply, Request};
use crate::scratch::Scratch;
use crate::session::{ActorId, HarnessError, Observed, Session};
use crate::timing::Timing;
use std::path::Path;

fn fail(v: Violation) -> CaseOutcome {
    v.into()
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn file(op: FileOp) -> Request {
    Request::File(op)
}

fn rw() -> OpenMode {
    OpenMode { write: true, ..OpenMode::default() }
}

fn hung(rule: Option<&str>, what: String, observed: &Observed) -> CaseOutcome {
    CaseOutcome::Hung { rule: rule.map(str::to_string), message: format!("{what}: {}", describe(observed)) }
}

/// Opens `path` in an actor: the slot and descriptor number.
fn open_in(session: &mut Session, id: ActorId, path: &str, mode: OpenMode) -> Result<(u32, i32), HarnessError> {
    match session.call(id, &file(FileOp::Open { path: path.to_string(), mode }))? {
        Observed::Returned(Reply::Opened { slot, fd }) => Ok((slot, fd)),
        other => Err(HarnessError(format!("{id}: opening {path}: {}", describe(&other)))),
    }
}

// ---- locks -----------------------------------------------------------------

/// Runs one lock schedule.
pub fn run_locks(schedule: &LockSchedule, timing: Timing) -> CaseReport<LockEvent> {
    let mut report = CaseReport::new();
    let scratch = Scratch::new();
    let outcome = match scratch {
        Err(e) => CaseOutcome::Error(format!("scratch directory: {e}")),
        Ok(ref scratch) => {
            let mut session = Session::new(timing);
            let mut model = LockModel::new(schedule);
            let outcome = match drive_locks(schedule, scratch.path(), &mut session, &mut model, &mut report.events) {
                Ok(o) => o,
                Err(e) => CaseOutcome::Error(e.0),
            };
            report.evidence = session.evidence.clone();
            outcome
        }
    };
    report.outcome = outcome;
    report
}

fn drive_locks(
    schedule: &LockSchedule,
    dir: &Path,
    session: &mut Session,
    model: &mut LockModel,
    events: &mut Vec<LockEvent>,
) -> Result<CaseOutcome, HarnessError> {
    let path = dir.join("locked");
    let probe = crate::os::file::open(&path, OpenMode { write: true, create: true, ..OpenMode::default() })
        .map_err(|e| HarnessError::io("creating the lock file", e))?;
    let uses_ofd = schedule.steps.iter().any(|s| matches!(s.op, LockOp::Record { owner: LockOwner::Ofd, .. }));
    if uses_ofd
        && !crate::os::file::ofd_locks_offered(std::os::fd::AsFd::as_fd(&probe))
            .map_err(|e| HarnessError::io("probing OFD locks", e))?
    {
        return Ok(CaseOutcome::Unsupported(
            "F_OFD_SETLK answered EINVAL: this kernel has no open-file-description locks".into(),
        ));
    }
    drop(probe);
    let path = path_str(&path);
    // slots[actor][fd] = (slot in the actor, descriptor number there).
    let mut slots: Vec<[Option<(u32, i32)>; FDS as usize]> = Vec::new();
    for _ in 0..schedule.cast() {
        let id = session.spawn()?;
        let a = open_in(session, id, &path, rw())?;
        let b = open_in(session, id, &path, rw())?;
        slots.push([Some(a), Some(b)]);
    }
    for (index, step) in schedule.steps.iter().enumerate() {
        if let Some(o) = collect(session, model, events)? {
            return Ok(o);
        }
        let a = schedule.actor_of(step);
        let id = ActorId(a as usize);
        if let Err(why) = model.can_issue(a, &step.op) {
            events.push(LockEvent::Skipped { index, actor: a, op: step.op, why: why.to_string() });
            continue;
        }
        let fd = step.op.fd().unwrap_or(0) as usize;
        let slot = slots[a as usize][fd];
        let need = |s: Option<(u32, i32)>| s.ok_or_else(|| HarnessError(format!("actor {a}: fd{fd} has no slot")));
        let observed = match step.op {
            LockOp::Flock { op, nonblock, .. } => {
                let (slot, num) = need(slot)?;
                let req = file(FileOp::Flock { slot, op, nonblock });
                if nonblock {
                    session.call(id, &req)?
                } else {
                    session.invoke(id, &req, BlockSite { kind: SyscallKind::Flock, fd: Some(num) })?
                }
            }
            LockOp::Record { owner, kind, start, len, wait, .. } => {
                let (slot, num) = need(slot)?;
                let req = file(FileOp::Lock { slot, owner, kind, start, len, wait });
                let observed = if wait {
                    session.invoke(id, &req, BlockSite { kind: SyscallKind::Fcntl, fd: Some(num) })?
                } else {
                    session.call(id, &req)?
                };
                if owner == LockOwner::Ofd && observed == Observed::Returned(Reply::Errno(libc::EINVAL)) {
                    return Ok(CaseOutcome::Unsupported(
                        "F_OFD_SETLK answered EINVAL: this kernel has no open-file-description locks".into(),
                    ));
                }
                observed
            }
            LockOp::Close { .. } => {
                let (s, _) = need(slot)?;
                slots[a as usize][fd] = None;
                session.call(id, &Request::Close { slot: s })?
            }
            LockOp::Reopen { .. } => {
                let observed = session.call(id, &file(FileOp::Open { path: path.clone(), mode: rw() }))?;
                if let Observed::Returned(Reply::Opened { slot, fd: num }) = observed {
                    slots[a as usize][fd] = Some((slot, num));
                }
                observed
            }
            LockOp::Exit => Observed::Died(session.exit(id, 0)?),
            LockOp::Kill => Observed::Died(session.kill(id)?),
        };
        let event = LockEvent::Step { index, actor: a, op: step.op, observed: observed.clone() };
        events.push(event.clone());
        if let Observed::NoReturn(_) = observed {
            return Ok(hung(
                None,
                format!("actor {a}: {}: neither returned nor blocked where expected", step.op),
                &observed,
            ));
        }
        if let Err(v) = model.apply(&event) {
            return Ok(fail(v));
        }
        if let Some(o) = settle(session, model, events)? {
            return Ok(o);
        }
    }
    Ok(collect(session, model, events)?.unwrap_or(CaseOutcome::Pass))
}

/// Feeds the model every completion that has arrived, without waiting.
fn collect(
    session: &mut Session,
    model: &mut LockModel,
    events: &mut Vec<LockEvent>,
) -> Result<Option<CaseOutcome>, HarnessError> {
    for a in 0..session.pids().len() {
        let id = ActorId(a);
        if session.alive(id) && session.busy(id) {
            if let Some(observed) = session.poll(id)? {
                let event = LockEvent::Completion { actor: a as u8, observed };
                events.push(event.clone());
                if let Err(v) = model.apply(&event) {
                    return Ok(Some(fail(v)));
                }
            }
        }
    }
    settle(session, model, events)
}

/// Waits until no pending request could be granted: for each obligation,
/// one of its actors must complete within the liveness deadline.
fn settle(
    session: &mut Session,
    model: &mut LockModel,
    events: &mut Vec<LockEvent>,
) -> Result<Option<CaseOutcome>, HarnessError> {
    loop {
        let Some(ob) = model.obligations().into_iter().next() else { return Ok(None) };
        let ids: Vec<ActorId> = ob.actors.iter().map(|a| ActorId(*a as usize)).collect();
        if let Some(id) = ids.iter().find(|id| !session.busy(**id)) {
            return Err(HarnessError(format!("model and session disagree: actor {} is not busy but {}", id.0, ob.why)));
        }
        match session.complete_any(&ids)? {
            Some((id, observed)) => {
                let event = LockEvent::Completion { actor: id.0 as u8, observed };
                events.push(event.clone());
                if let Err(v) = model.apply(&event) {
                    return Ok(Some(fail(v)));
                }
            }
            None => {
                let states: Vec<String> = ids
                    .iter()
                    .map(|id| {
                        let ws = session.wait_state(*id);
                        format!(
                            "actor {}: {}",
                            id.0,
                            ws.map(|w| w.to_string()).unwrap_or_else(|| "no wait state".into())
                        )
                    })
                    .collect();
                return Ok(Some(CaseOutcome::Hung {
                    rule: Some(ob.rule.to_string()),
                    message: format!("{}, but none returned within the deadline ({})", ob.why, states.join("; ")),
                }));
            }
        }
    }
}

// ---- shared by the concurrent cases ----------------------------------------

/// Awaits an actor's report of a started loop: its values, or the outcome
/// that ends the case.
fn await_values(
    session: &mut Session,
    id: ActorId,
    rule: &str,
    what: &str,
) -> Result<Result<Vec<i64>, CaseOutcome>, HarnessError> {
    Ok(match session.complete(id)? {
        Observed::Returned(Reply::Values(v)) => Ok(v),
        o @ Observed::NoReturn(_) => Err(hung(Some(rule), format!("{id}: {what} did not finish"), &o)),
        other => Err(CaseOutcome::Error(format!("{id}: {what}: {}", describe(&other)))),
    })
}

fn seen_of(observed: &Observed) -> Result<Seen, String> {
    match observed {
        Observed::Returned(Reply::Data(bytes)) => Ok(version::classify(bytes)),
        Observed::Returned(Reply::Errno(e)) if *e == libc::ENOENT => Ok(Seen::Missing),
        Observed::Returned(Reply::Errno(e)) => Ok(Seen::Failed(*e)),
        other => Err(format!("reading a path: {}", describe(other))),
    }
}

/// Runs `drive` with a fresh scratch directory and session; the session
/// (every actor) ends before the directory is removed.
fn with_scratch<E>(
    timing: Timing,
    drive: impl FnOnce(&Path, &mut Session, &mut CaseReport<E>) -> Result<CaseOutcome, HarnessError>,
) -> CaseReport<E> {
    let mut report = CaseReport::new();
    let scratch = match Scratch::new() {
        Ok(s) => s,
        Err(e) => {
            report.outcome = CaseOutcome::Error(format!("scratch directory: {e}"));
            return report;
        }
    };
    let mut session = Session::new(timing);
    report.outcome = match drive(scratch.path(), &mut session, &mut report) {
        Ok(o) => o,
        Err(e) => CaseOutcome::Error(e.0),
    };
    report.evidence.merge(&session.evidence);
    drop(session);
    drop(scratch);
    report
}

// ---- file.write.visible ----------------------------------------------------

/// Runs a visibility case.
pub fn run_visible(case: &VisibleCase, timing: Timing) -> CaseReport<String> {
    with_scratch(timing, |dir, session, report| {
        let path = path_str(&dir.join("shared"));
        let (writer, reader) = (session.spawn()?, session.spawn()?);
        for (i, len) in case.lens.iter().enumerate() {
            let id = version::id_of(0, i as u32 + 1);
            let mode = OpenMode { write: true, create: true, trunc: true, ..OpenMode::default() };
            let (slot, _) = open_in(session, writer, &path, mode)?;
            let wrote = session.call(writer, &file(FileOp::WriteVersion { slot, id, len: *len }))?;
            let read = session.call(reader, &file(FileOp::ReadPath { path: path.clone() }))?;
            let seen = seen_of(&read).map_err(HarnessError)?;
            report.events.push(format!(
                "round {}: writer wrote version {} -> {}; reader found {seen}",
                i + 1,
                version::show_id(id),
                describe(&wrote)
            ));
            let written = match wrote {
                Observed::Returned(Reply::Count(n)) => Some(n),
                _ => None,
            };
            if let Err(v) = race::judge_visible(id, *len, written, seen) {
                return Ok(fail(v));
            }
        }
        Ok(CaseOutcome::Pass)
    })
}

// ---- file.rename.atomic-replace and file.inplace.torn-read -----------------

/// The judge of a replace case's reports so far (writers' reports come
/// after all readers'); [`race::judge_rename`] for the rule.
pub type ReplaceJudge<'a> = &'a dyn Fn(&ReplaceCase, &[WriterReport], &[Vec<Seen>]) -> Result<(), Violation>;

/// Runs a rename case, judged by [`race::judge_rename`].
pub fn run_rename(case: &ReplaceCase, timing: Timing) -> CaseReport<String> {
    run_replace_with(case, timing, &race::judge_rename)
}

/// Runs a replace case and judges the reports as they arrive with `judge`
/// (readers first, each as soon as it reports, while writers may still be
/// at work). In place (`in_place_chunk`), the judge is not consulted: the
/// torn reads are counted into the report's observations instead.
pub fn run_replace_with(case: &ReplaceCase, timing: Timing, judge: ReplaceJudge<'_>) -> CaseReport<String> {
    with_scratch(timing, |dir, session, report| {
        let rule = if case.in_place_chunk.is_some() { super::rules::TORN } else { super::rules::RENAME_ATOMIC };
        let target = path_str(&dir.join("target"));
        let writers: Vec<ActorId> = (0..case.writers.len()).map(|_| session.spawn()).collect::<Result<_, _>>()?;
        let readers: Vec<ActorId> = (0..case.readers.len()).map(|_| session.spawn()).collect::<Result<_, _>>()?;
        let Some(&first) = writers.first() else { return Err(HarnessError("a replace case needs a writer".into())) };
        if readers.is_empty() {
            return Err(HarnessError("a replace case needs a reader".into()));
        }
        let mode = OpenMode { write: true, create: true, trunc: true, ..OpenMode::default() };
        let (slot, _) = open_in(session, first, &target, mode)?;
        let wrote = session.call(first, &file(FileOp::WriteVersion { slot, id: INITIAL, len: case.initial_len }))?;
        if wrote != Observed::Returned(Reply::Count(version::size(case.initial_len))) {
            return Err(HarnessError(format!("writing the initial version: {}", describe(&wrote))));
        }
        session.call(first, &Request::Close { slot })?;
        for (w, id) in writers.iter().enumerate() {
            let op = FileOp::Replace {
                target: target.clone(),
                writer: w as u8,
                lens: case.writers[w].clone(),
                in_place_chunk: case.in_place_chunk,
            };
            session.start(*id, &file(op))?;
        }
        for (r, id) in readers.iter().enumerate() {
            session.start(*id, &file(FileOp::ReadLoop { path: target.clone(), count: case.readers[r] }))?;
        }
        let mut reads: Vec<Vec<Seen>> = Vec::new();
        for (r, id) in readers.iter().enumerate() {
            let values = match await_values(session, *id, rule, "its reads")? {
                Ok(v) => v,
                Err(o) => return Ok(o),
            };
            let seen: Option<Vec<Seen>> = values.chunks(2).map(|p| version::from_pair(p[0], *p.get(1)?)).collect();
            let seen = seen.ok_or_else(|| HarnessError(format!("reader {r} sent a malformed report")))?;
            let torn = seen.iter().filter(|s| !matches!(s, Seen::Complete(_))).count();
            report.events.push(format!("reader {r}: {} reads, {torn} not one complete version", seen.len()));
            reads.push(seen);
            if case.in_place_chunk.is_none() {
                if let Err(v) = judge(case, &[], &reads) {
                    return Ok(fail(v));
                }
            }
        }
        let mut done = Vec::new();
        for (w, id) in writers.iter().enumerate() {
            let values = match await_values(session, *id, rule, "its replacements")? {
                Ok(v) => v,
                Err(o) => return Ok(o),
            };
            let rep = WriterReport {
                done: values.first().copied().unwrap_or(0) as u32,
                errno: values.get(1).copied().unwrap_or(0) as i32,
            };
            report.events.push(format!("writer {w}: {} versions written, errno {}", rep.done, rep.errno));
            done.push(rep);
        }
        if case.in_place_chunk.is_some() {
            return Ok(match race::observe_torn(&done, &reads) {
                Ok((total, torn)) => {
                    report.observations.push(("in-place rewrite: reads made".into(), total));
                    report
                        .observations
                        .push(("in-place rewrite: reads that saw a torn or truncated version".into(), torn));
                    report.observations.push((
                        "in-place rewrite: torn reads per 1000".into(),
                        (torn * 1000).checked_div(total).unwrap_or(0),
                    ));
                    CaseOutcome::Pass
                }
                Err(e) => CaseOutcome::Error(e),
            });
        }
        Ok(match judge(case, &done, &reads) {
            Ok(()) => CaseOutcome::Pass,
            Err(v) => fail(v),
        })
    })
}

// ---- file.rename.noreplace -------------------------------------------------

/// Runs a rename-without-replace case.
pub fn run_noreplace(case: &NoReplaceCase, timing: Timing) -> CaseReport<String> {
    with_scratch(timing, |dir, session, report| {
        let (src, dst) = (path_str(&dir.join("src")), path_str(&dir.join("dst")));
        let (maker, mover) = (session.spawn()?, session.spawn()?);
        let excl = OpenMode { write: true, create: true, excl: true, ..OpenMode::default() };
        let make = |session: &mut Session, path: &str, id: u64, len: u32| -> Result<(), HarnessError> {
            let (slot, _) = open_in(session, maker, path, excl)?;
            let wrote = session.call(maker, &file(FileOp::WriteVersion { slot, id, len }))?;
            if wrote != Observed::Returned(Reply::Count(version::size(len))) {
                return Err(HarnessError(format!("writing {path}: {}", describe(&wrote))));
            }
            session.call(maker, &Request::Close { slot }).map(drop)
        };
        make(session, &src, race::SRC_ID, case.src_len)?;
        if case.target_exists {
            make(session, &dst, race::DST_ID, case.dst_len)?;
        }
        let obs = session
            .call(mover, &file(FileOp::RenameNoReplace { from: src.clone(), to: dst.clone(), native: case.native }))?;
        let rename = match &obs {
            Observed::Returned(Reply::Values(v)) => {
                if v.first() == Some(&1) {
                    report.observations.push(("rename without replace done by link + unlink".into(), 1));
                }
                Ok(())
            }
            Observed::Returned(Reply::Errno(e)) => Err(*e),
            other => return Err(HarnessError(format!("rename without replace: {}", describe(other)))),
        };
        let s = seen_of(&session.call(maker, &file(FileOp::ReadPath { path: src }))?).map_err(HarnessError)?;
        let d = seen_of(&session.call(maker, &file(FileOp::ReadPath { path: dst }))?).map_err(HarnessError)?;
        report.events.push(format!("rename -> {}; then src: {s}, dst: {d}", describe(&obs)));
        Ok(match race::judge_noreplace(case, rename, s, d) {
            Ok(()) => CaseOutcome::Pass,
            Err(v) => fail(v),
        })
    })
}

// ---- file.create.exclusive -------------------------------------------------

/// Runs an exclusive-creation race.
pub fn run_create(case: &CreateCase, timing: Timing) -> CaseReport<String> {
    with_scratch(timing, |dir, session, report| {
        let ids: Vec<ActorId> = (0..case.racers.max(1)).map(|_| session.spawn()).collect::<Result<_, _>>()?;
        for id in &ids {
            session.start(*id, &file(FileOp::CreateRace { dir: path_str(dir), count: case.paths }))?;
        }
        let mut results = Vec::new();
        for id in &ids {
            match await_values(session, *id, super::rules::CREATE_EXCL, "its creations")? {
                Ok(v) => {
                    let wins = v.iter().filter(|e| **e == 0).count();
                    report.events.push(format!("{id}: created {wins} of {} paths", v.len()));
                    results.push(v.into_iter().map(|e| e as i32).collect::<Vec<i32>>());
                }
                Err(o) => return Ok(o),
            }
        }
        Ok(match race::judge_create(case, &results) {
            Ok(()) => CaseOutcome::Pass,
            Err(v) => fail(v),
        })
    })
}

// ---- file.append.atomic ----------------------------------------------------

/// Runs concurrent appenders.
pub fn run_append(case: &AppendCase, timing: Timing) -> CaseReport<String> {
    with_scratch(timing, |dir, session, report| {
        let log = path_str(&dir.join("log"));
        let ids: Vec<ActorId> = (0..case.writers.len()).map(|_| session.spawn()).collect::<Result<_, _>>()?;
        let Some(&first) = ids.first() else { return Err(HarnessError("an append case needs a writer".into())) };
        let (slot, _) = open_in(session, first, &log, OpenMode { write: true, create: true, ..OpenMode::default() })?;
        session.call(first, &Request::Close { slot })?;
        for (w, id) in ids.iter().enumerate() {
            let op = FileOp::Append { path: log.clone(), writer: w as u8, lens: case.writers[w].clone() };
            session.start(*id, &file(op))?;
        }
        let mut reports = Vec::new();
        for (w, id) in ids.iter().enumerate() {
            let v = match session.complete(*id)? {
                Observed::Returned(Reply::Values(v)) => v,
                Observed::Returned(Reply::Errno(e)) => vec![0, 0, i64::from(e)],
                o @ Observed::NoReturn(_) => {
                    return Ok(hung(Some(super::rules::APPEND), format!("{id}: its appends did not finish"), &o))
                }
                other => return Err(HarnessError(format!("{id}: appending: {}", describe(&other)))),
            };
            let rep = AppendReport {
                records: v.first().copied().unwrap_or(0) as u32,
                bytes: v.get(1).copied().unwrap_or(0) as u64,
                errno: v.get(2).copied().unwrap_or(0) as i32,
            };
            report
                .events
                .push(format!("writer {w}: {} records, {} bytes, errno {}", rep.records, rep.bytes, rep.errno));
            reports.push(rep);
        }
        let bytes = match session.call(first, &file(FileOp::ReadPath { path: log }))? {
            Observed::Returned(Reply::Data(d)) => d,
            other => return Err(HarnessError(format!("reading the log: {}", describe(&other)))),
        };
        report.events.push(format!("the log holds {} bytes", bytes.len()));
        Ok(match race::judge_append(case, &reports, &bytes) {
            Ok(()) => CaseOutcome::Pass,
            Err(v) => fail(v),
        })
    })
}
