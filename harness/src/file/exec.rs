//! Runs file cases against the host: real actor processes and a per-case
//! scratch directory, removed when the case ends, however it ends (the
//! session, and with it every actor, is dropped first, so that no actor can
//! still be creating files while the directory goes).

use super::locks::{LockEvent, LockModel, LockOp, LockSchedule, Violation, FDS};
use super::race::{
    self, AppendCase, AppendReport, CreateCase, NoReplaceCase, ReplaceCase, VisibleCase, WriterReport, INITIAL,
};
use super::version::{self, Seen};
use crate::case::Stop;
use crate::case::{CaseOutcome, CaseReport};
use crate::engine::{Invocation, Mechanism};
use crate::evidence::BlockSite;
use crate::observed::Observed;
use crate::os::file::{LockOwner, OpenMode};
use crate::os::proc::SyscallKind;
use crate::pipe::model::describe;
use crate::protocol::file::FileOp;
use crate::protocol::{Reply, Request};
use crate::scratch::Scratch;
use crate::session::{ActorId, Session};
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

/// Opens `path` in an actor: the slot and descriptor number.
fn open_in(session: &mut Session, id: ActorId, path: &str, mode: OpenMode) -> Result<(u32, i32), Stop> {
    match session.call(id, &file(FileOp::Open { path: path.to_string(), mode }))? {
        Observed::Returned(Reply::Opened { slot, fd }) => Ok((slot, fd)),
        other => Err(Stop::harness(format!("{id}: opening {path}: {}", describe(&other)))),
    }
}

// ---- locks -----------------------------------------------------------------

/// Runs one lock schedule through the one case engine.
pub fn run_locks(schedule: &LockSchedule, timing: Timing) -> CaseReport<LockEvent> {
    if let Err(why) = schedule.validate() {
        return crate::case::refused(why);
    }
    let scratch = match Scratch::new() {
        Ok(s) => s,
        Err(e) => {
            let mut report = CaseReport::new();
            report.outcome = Stop::io("scratch directory", e).outcome();
            return report;
        }
    };
    let locks = Locks { schedule, path: path_str(&scratch.path().join("locked")), slots: Vec::new() };
    // The session (every actor) ends inside `run`, before the directory goes.
    let report = crate::engine::run(locks, LockModel::new(schedule), timing);
    drop(scratch);
    report
}

/// One lock case: the file, and per actor its descriptors as
/// `slots[actor][fd] = (slot in the actor, descriptor number there)`.
struct Locks<'a> {
    schedule: &'a LockSchedule,
    path: String,
    slots: Vec<[Option<(u32, i32)>; FDS as usize]>,
}

impl Locks<'_> {
    fn slot(&self, a: u8, fd: u8) -> Result<(u32, i32), Stop> {
        self.slots[a as usize][fd as usize].ok_or_else(|| Stop::harness(format!("actor {a}: fd{fd} has no slot")))
    }
}

impl Mechanism for Locks<'_> {
    type Op = LockOp;
    type Model = LockModel;

    fn steps(&self) -> Vec<(u8, LockOp)> {
        self.schedule.steps.iter().map(|s| (self.schedule.actor_of(s), s.op)).collect()
    }

    fn set_up(&mut self, session: &mut Session) -> Result<(), Stop> {
        let probe =
            crate::os::file::open(Path::new(&self.path), OpenMode { write: true, create: true, ..OpenMode::default() })
                .map_err(|e| Stop::io("creating the lock file", e))?;
        let uses_ofd = self.schedule.steps.iter().any(|s| matches!(s.op, LockOp::Record { owner: LockOwner::Ofd, .. }));
        if uses_ofd
            && !crate::os::file::ofd_locks_offered(std::os::fd::AsFd::as_fd(&probe))
                .map_err(|e| Stop::io("probing OFD locks", e))?
        {
            return Err(Stop::Unsupported(
                "F_OFD_SETLK answered EINVAL: this kernel has no open-file-description locks".into(),
            ));
        }
        drop(probe);
        for _ in 0..self.schedule.cast() {
            let id = session.spawn()?;
            let a = open_in(session, id, &self.path, rw())?;
            let b = open_in(session, id, &self.path, rw())?;
            self.slots.push([Some(a), Some(b)]);
        }
        Ok(())
    }

    fn invocation(&self, _model: &LockModel, a: u8, op: &LockOp) -> Result<Invocation, Stop> {
        let fd = op.fd().unwrap_or(0);
        Ok(match *op {
            LockOp::Flock { op, nonblock, .. } => {
                let (slot, num) = self.slot(a, fd)?;
                let req = file(FileOp::Flock { slot, op, nonblock });
                match nonblock {
                    true => Invocation::Call(req),
                    false => Invocation::MayBlock(req, BlockSite { kind: SyscallKind::Flock, fd: Some(num) }),
                }
            }
            LockOp::Record { owner, kind, start, len, wait, .. } => {
                let (slot, num) = self.slot(a, fd)?;
                let req = file(FileOp::Lock { slot, owner, kind, start, len, wait });
                match wait {
                    true => Invocation::MayBlock(req, BlockSite { kind: SyscallKind::Fcntl, fd: Some(num) }),
                    false => Invocation::Call(req),
                }
            }
            LockOp::Close { .. } => Invocation::Call(Request::Close { slot: self.slot(a, fd)?.0 }),
            LockOp::Reopen { .. } => Invocation::Call(file(FileOp::Open { path: self.path.clone(), mode: rw() })),
            LockOp::Exit => Invocation::Exit(0),
            LockOp::Kill => Invocation::Kill,
        })
    }

    fn observed(&mut self, a: u8, op: &LockOp, observed: &Observed) {
        match (op, observed) {
            (LockOp::Close { fd }, _) => self.slots[a as usize][(fd % FDS) as usize] = None,
            (LockOp::Reopen { fd }, Observed::Returned(Reply::Opened { slot, fd: num })) => {
                self.slots[a as usize][(fd % FDS) as usize] = Some((*slot, *num))
            }
            _ => {}
        }
    }
}

// ---- shared by the concurrent cases ----------------------------------------

/// Awaits an actor's report of a started loop: its values. A loop that
/// does not finish is `hung`, demanded by `rule`.
fn await_values(session: &mut Session, id: ActorId, rule: &str, what: &str) -> Result<Vec<i64>, Stop> {
    match session.complete(id).map_err(|s| s.demanded_by(rule, &format!("{id}: {what} must finish")))? {
        Observed::Returned(Reply::Values(v)) => Ok(v),
        other => Err(Stop::harness(format!("{id}: {what}: {}", describe(&other)))),
    }
}

fn seen_of(observed: &Observed) -> Result<Seen, String> {
    match observed {
        Observed::Returned(Reply::Data(bytes)) => Ok(version::classify(bytes)),
        Observed::Returned(Reply::Errno(e)) if *e == libc::ENOENT => Ok(Seen::Missing),
        Observed::Returned(Reply::Errno(e)) => Ok(Seen::Failed(*e)),
        other => Err(format!("reading a path: {}", describe(other))),
    }
}

// ---- file.write.visible ----------------------------------------------------

/// Runs a visibility case.
pub fn run_visible(case: &VisibleCase, timing: Timing) -> CaseReport<String> {
    crate::case::run_in_scratch(timing, |dir, session, report| {
        let path = path_str(&dir.join("shared"));
        let (writer, reader) = (session.spawn()?, session.spawn()?);
        for (i, len) in case.lens.iter().enumerate() {
            let id = version::id_of(0, i as u32 + 1);
            let mode = OpenMode { write: true, create: true, trunc: true, ..OpenMode::default() };
            let (slot, _) = open_in(session, writer, &path, mode)?;
            let wrote = session.call(writer, &file(FileOp::WriteVersion { slot, id, len: *len }))?;
            let read = session.call(reader, &file(FileOp::ReadPath { path: path.clone() }))?;
            let seen = seen_of(&read).map_err(Stop::Harness)?;
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
    crate::case::run_in_scratch(timing, |dir, session, report| {
        let rule = if case.in_place_chunk.is_some() { super::rules::TORN } else { super::rules::RENAME_ATOMIC };
        let target = path_str(&dir.join("target"));
        let writers: Vec<ActorId> = (0..case.writers.len()).map(|_| session.spawn()).collect::<Result<_, _>>()?;
        let readers: Vec<ActorId> = (0..case.readers.len()).map(|_| session.spawn()).collect::<Result<_, _>>()?;
        let Some(&first) = writers.first() else { return Err(Stop::harness("a replace case needs a writer")) };
        if readers.is_empty() {
            return Err(Stop::harness("a replace case needs a reader"));
        }
        let mode = OpenMode { write: true, create: true, trunc: true, ..OpenMode::default() };
        let (slot, _) = open_in(session, first, &target, mode)?;
        let wrote = session.call(first, &file(FileOp::WriteVersion { slot, id: INITIAL, len: case.initial_len }))?;
        if wrote != Observed::Returned(Reply::Count(version::size(case.initial_len))) {
            return Err(Stop::harness(format!("writing the initial version: {}", describe(&wrote))));
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
            let values = await_values(session, *id, rule, "its reads")?;
            let seen: Option<Vec<Seen>> = values.chunks(2).map(|p| version::from_pair(p[0], *p.get(1)?)).collect();
            let seen = seen.ok_or_else(|| Stop::harness(format!("reader {r} sent a malformed report")))?;
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
            let values = await_values(session, *id, rule, "its replacements")?;
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
                Err(e) => CaseOutcome::Error(format!("harness error: {e}")),
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
    crate::case::run_in_scratch(timing, |dir, session, report| {
        let (src, dst) = (path_str(&dir.join("src")), path_str(&dir.join("dst")));
        let (maker, mover) = (session.spawn()?, session.spawn()?);
        let excl = OpenMode { write: true, create: true, excl: true, ..OpenMode::default() };
        let make = |session: &mut Session, path: &str, id: u64, len: u32| -> Result<(), Stop> {
            let (slot, _) = open_in(session, maker, path, excl)?;
            let wrote = session.call(maker, &file(FileOp::WriteVersion { slot, id, len }))?;
            if wrote != Observed::Returned(Reply::Count(version::size(len))) {
                return Err(Stop::harness(format!("writing {path}: {}", describe(&wrote))));
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
            other => return Err(Stop::harness(format!("rename without replace: {}", describe(other)))),
        };
        let s = seen_of(&session.call(maker, &file(FileOp::ReadPath { path: src }))?).map_err(Stop::Harness)?;
        let d = seen_of(&session.call(maker, &file(FileOp::ReadPath { path: dst }))?).map_err(Stop::Harness)?;
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
    crate::case::run_in_scratch(timing, |dir, session, report| {
        let ids: Vec<ActorId> = (0..case.racers.max(1)).map(|_| session.spawn()).collect::<Result<_, _>>()?;
        for id in &ids {
            session.start(*id, &file(FileOp::CreateRace { dir: path_str(dir), count: case.paths }))?;
        }
        let mut results = Vec::new();
        for id in &ids {
            let v = await_values(session, *id, super::rules::CREATE_EXCL, "its creations")?;
            let wins = v.iter().filter(|e| **e == 0).count();
            report.events.push(format!("{id}: created {wins} of {} paths", v.len()));
            results.push(v.into_iter().map(|e| e as i32).collect::<Vec<i32>>());
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
    crate::case::run_in_scratch(timing, |dir, session, report| {
        let log = path_str(&dir.join("log"));
        let ids: Vec<ActorId> = (0..case.writers.len()).map(|_| session.spawn()).collect::<Result<_, _>>()?;
        let Some(&first) = ids.first() else { return Err(Stop::harness("an append case needs a writer")) };
        let (slot, _) = open_in(session, first, &log, OpenMode { write: true, create: true, ..OpenMode::default() })?;
        session.call(first, &Request::Close { slot })?;
        for (w, id) in ids.iter().enumerate() {
            let op = FileOp::Append { path: log.clone(), writer: w as u8, lens: case.writers[w].clone() };
            session.start(*id, &file(op))?;
        }
        let mut reports = Vec::new();
        for (w, id) in ids.iter().enumerate() {
            let done =
                session.complete(*id).map_err(|s| s.demanded_by(super::rules::APPEND, "its appends must finish"))?;
            let v = match done {
                Observed::Returned(Reply::Values(v)) => v,
                Observed::Returned(Reply::Errno(e)) => vec![0, 0, i64::from(e)],
                other => return Err(Stop::harness(format!("{id}: appending: {}", describe(&other)))),
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
            other => return Err(Stop::harness(format!("reading the log: {}", describe(&other)))),
        };
        report.events.push(format!("the log holds {} bytes", bytes.len()));
        Ok(match race::judge_append(case, &reports, &bytes) {
            Ok(()) => CaseOutcome::Pass,
            Err(v) => fail(v),
        })
    })
}
