//! System V semaphore sets (`sysv.sem.atomic`, `sysv.sem.undo`): one
//! scenario per rule, each with its case type, its judge and its
//! executor. The set is made by the coordinator under a key of the run's
//! ([`super::key::Object`]), removed with the case and by an interrupted
//! run's clean-up; its values are read after every step (`GETVAL`).

use super::key::Object;
use super::rules;
use crate::case::{CaseOutcome, CaseReport, Stop};
use crate::checker::{describe, Violation};
use crate::evidence::BlockSite;
use crate::observed::Observed;
use crate::os::proc::SyscallKind;
use crate::os::sysv;
use crate::protocol::sysv::SysvOp;
use crate::protocol::{Reply, Request};
use crate::session::{ActorId, Session};
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One operation of a `semop`: semaphore, change (negative: take, 0:
/// wait for zero, positive: give).
pub type SemChange = (u16, i16);

/// Whether every change of `ops` can apply to `values` at once (POSIX
/// semop: a take needs that much, a wait for zero needs 0), and the
/// values after.
pub fn apply(values: &[u16], ops: &[SemChange]) -> Option<Vec<u16>> {
    let mut v: Vec<i32> = values.iter().map(|x| i32::from(*x)).collect();
    for &(num, op) in ops {
        let cur = v.get_mut(usize::from(num))?;
        if op == 0 {
            if *cur != 0 {
                return None;
            }
        } else if *cur + i32::from(op) < 0 {
            return None;
        } else {
            *cur += i32::from(op);
        }
    }
    Some(v.into_iter().map(|x| x as u16).collect())
}

fn show(ops: &[SemChange]) -> String {
    ops.iter().map(|(n, o)| format!("sem {n} {o:+}")).collect::<Vec<_>>().join(", ")
}

fn fail(rule: &'static str, why: String) -> CaseOutcome {
    Violation::new(rule, why).into()
}

fn make_set(values: &[u16]) -> Result<Object, Stop> {
    let set = Object::sem_set(values.len()).map_err(|e| match e.raw_os_error() {
        Some(libc::ENOSYS) => Stop::Unsupported("this host has no System V semaphores (semget: ENOSYS)".into()),
        _ => Stop::io("semget(IPC_CREAT | IPC_EXCL) of the case's set", e),
    })?;
    for (num, v) in values.iter().enumerate() {
        sysv::sem_set(set.id(), num as u16, *v).map_err(|e| Stop::io("semctl(SETVAL)", e))?;
    }
    Ok(set)
}

fn values(set: &Object, n: usize) -> Result<Vec<u16>, Stop> {
    sysv::sem_values(set.id(), n).map_err(|e| Stop::io("semctl(GETVAL)", e))
}

fn semop(id: i32, ops: &[SemChange], undo: bool, nowait: bool) -> Request {
    Request::Sysv(SysvOp::SemOp { id, ops: ops.iter().map(|&(n, o)| (n, o, undo)).collect(), nowait })
}

// ---- sysv.sem.atomic ----------------------------------------------------

/// Semops of several changes each, with `IPC_NOWAIT`, by two actors; then
/// one without it that cannot apply, which must block with nothing
/// applied until the other actor makes it possible.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AtomicCase {
    /// Each semaphore's first value (2-3 semaphores, 0-3 each).
    pub initial: Vec<u16>,
    /// The non-blocking semops, alternating between the two actors.
    pub nowait: Vec<Vec<SemChange>>,
    /// The last semop, blocking.
    pub last: Vec<SemChange>,
}

impl fmt::Display for AtomicCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  1. a System V set of {} semaphores, values {:?}", self.initial.len(), self.initial)?;
        for (i, ops) in self.nowait.iter().enumerate() {
            writeln!(f, "  {}. actor {}: semop IPC_NOWAIT [{}]", i + 2, i % 2, show(ops))?;
        }
        writeln!(f, "  {}. actor 0: semop [{}] (blocks unless it can apply)", self.nowait.len() + 2, show(&self.last))?;
        writeln!(f, "  {}. actor 1: the changes that let it apply; actor 0's semop returns", self.nowait.len() + 3)
    }
}

/// The judge of one non-blocking semop: applied whole when it can be
/// (`Done`), else `EAGAIN` and nothing applied.
pub fn judge_nowait(before: &[u16], ops: &[SemChange], obs: &Observed, after: &[u16]) -> Result<(), Violation> {
    let err = |why: String| Err(Violation::new(rules::SEM_ATOMIC, why));
    match (apply(before, ops), obs) {
        (Some(want), Observed::Returned(Reply::Done)) if after == want.as_slice() => Ok(()),
        (Some(want), Observed::Returned(Reply::Done)) => {
            err(format!("semop [{}] on {before:?} returned and left {after:?}; owed {want:?}", show(ops)))
        }
        (Some(want), other) => {
            err(format!("semop [{}] on {before:?}, which can apply (to {want:?}), {}", show(ops), describe(other)))
        }
        (None, Observed::Returned(Reply::Errno(libc::EAGAIN))) if after == before => Ok(()),
        (None, Observed::Returned(Reply::Errno(libc::EAGAIN))) => err(format!(
            "semop IPC_NOWAIT [{}] on {before:?} failed with EAGAIN and left {after:?}: part of it applied",
            show(ops)
        )),
        (None, other) => err(format!(
            "semop IPC_NOWAIT [{}] on {before:?}, which cannot apply whole, {}; allowed: EAGAIN, nothing changed",
            show(ops),
            describe(other)
        )),
    }
}

/// The changes that let `ops` apply to `values`: for each take, what is
/// missing; for each wait for zero, the value taken away.
pub fn release(values: &[u16], ops: &[SemChange]) -> Vec<SemChange> {
    let mut need = vec![0i32; values.len()];
    let mut zero = vec![false; values.len()];
    for &(num, op) in ops {
        let n = usize::from(num);
        if op < 0 {
            need[n] += i32::from(-op);
        } else if op == 0 {
            zero[n] = true;
        }
    }
    (0..values.len())
        .filter_map(|n| {
            let v = i32::from(values[n]);
            let change = if zero[n] { -v } else { (need[n] - v).max(0) };
            (change != 0).then_some((n as u16, change as i16))
        })
        .collect()
}

/// Runs an atomicity case.
pub fn run_atomic(case: &AtomicCase, timing: Timing) -> CaseReport<String> {
    let n = case.initial.len();
    let in_range = |ops: &Vec<SemChange>| {
        !ops.is_empty() && ops.len() <= 4 && ops.iter().all(|(s, o)| usize::from(*s) < n && (-3..=3).contains(o))
    };
    let once = case.last.iter().enumerate().all(|(i, (s, _))| case.last[..i].iter().all(|(t, _)| t != s));
    if !(2..=3).contains(&n)
        || case.initial.iter().any(|v| *v > 3)
        || !case.nowait.iter().all(in_range)
        || !in_range(&case.last)
        || !once
        || case.nowait.len() > 16
    {
        return crate::case::refused(format!("{case:?}: 2 or 3 semaphores of 0 to 3, 1 to 4 changes of -3 to 3 per semop (the last one naming each semaphore once), at most 16 semops"));
    }
    crate::case::run_in_session(timing, |session, report| atomic(case, session, &mut report.events))
}

fn atomic(case: &AtomicCase, session: &mut Session, log: &mut Vec<String>) -> Result<CaseOutcome, Stop> {
    let rule = rules::SEM_ATOMIC;
    let n = case.initial.len();
    let set = make_set(&case.initial)?;
    let actors: Vec<ActorId> = (0..2).map(|_| session.spawn()).collect::<Result<_, _>>()?;
    let mut now = case.initial.clone();
    for (i, ops) in case.nowait.iter().enumerate() {
        let obs = session.call(actors[i % 2], &semop(set.id(), ops, false, true))?;
        let after = values(&set, n)?;
        log.push(format!("semop IPC_NOWAIT [{}] on {now:?} -> {}, now {after:?}", show(ops), describe(&obs)));
        if let Err(v) = judge_nowait(&now, ops, &obs, &after) {
            return Ok(v.into());
        }
        now = after;
    }
    let (a, b) = (actors[0], actors[1]);
    let site = BlockSite { kind: SyscallKind::Semop, fd: None };
    let obs = session.invoke(a, &semop(set.id(), &case.last, false, false), site)?;
    let after = values(&set, n)?;
    log.push(format!("semop [{}] on {now:?} -> {}, now {after:?}", show(&case.last), describe(&obs)));
    match (apply(&now, &case.last), &obs) {
        (Some(want), Observed::Returned(Reply::Done)) if after == want => return Ok(CaseOutcome::Pass),
        (Some(want), _) => {
            return Ok(fail(
                rule,
                format!(
                    "semop [{}] on {now:?}, which can apply (to {want:?}), {}, leaving {after:?}",
                    show(&case.last),
                    describe(&obs)
                ),
            ))
        }
        (None, Observed::Blocked(_)) if after == now => {}
        (None, Observed::Blocked(_)) => {
            return Ok(fail(
                rule,
                format!(
                    "semop [{}] on {now:?} blocked, and the values are {after:?}: part of it applied",
                    show(&case.last)
                ),
            ))
        }
        (None, other) => {
            return Ok(fail(
                rule,
                format!(
                    "semop [{}] on {now:?}, which cannot apply whole, {}; allowed: blocked",
                    show(&case.last),
                    describe(other)
                ),
            ))
        }
    }
    let give = release(&now, &case.last);
    let obs = session.call(b, &semop(set.id(), &give, false, true))?;
    if obs != Observed::Returned(Reply::Done) {
        return Ok(fail(
            rule,
            format!("semop IPC_NOWAIT [{}] on {now:?}, which can apply, {}", show(&give), describe(&obs)),
        ));
    }
    let released = apply(&now, &give).unwrap_or_default();
    let obs =
        session.complete(a).map_err(|s| s.demanded_by(rule, "a blocked semop must return once it can apply whole"))?;
    let after = values(&set, n)?;
    let want = apply(&released, &case.last).unwrap_or_default();
    log.push(format!(
        "actor 1: [{}] -> {released:?}; the blocked semop -> {}, now {after:?}",
        show(&give),
        describe(&obs)
    ));
    if obs != Observed::Returned(Reply::Done) || after != want {
        return Ok(fail(
            rule,
            format!(
                "once [{}] made it possible, the blocked semop [{}] {}, leaving {after:?}; owed: done, {want:?}",
                show(&give),
                show(&case.last),
                describe(&obs)
            ),
        ));
    }
    drop(set);
    Ok(CaseOutcome::Pass)
}

// ---- sysv.sem.undo ------------------------------------------------------

/// How the actor that made SEM_UNDO changes ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum End {
    /// It exits.
    Exit,
    /// It is killed.
    Kill,
}

/// An actor's semops with and without SEM_UNDO, then its end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndoCase {
    /// Each semaphore's first value (1-2 semaphores, 0-5 each).
    pub initial: Vec<u16>,
    /// One-change semops with IPC_NOWAIT: (semaphore, change, SEM_UNDO).
    pub ops: Vec<(u16, i16, bool)>,
    /// How the actor ends.
    pub end: End,
}

impl fmt::Display for UndoCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  1. a System V set of {} semaphores, values {:?}", self.initial.len(), self.initial)?;
        for (i, (n, o, undo)) in self.ops.iter().enumerate() {
            writeln!(f, "  {}. actor: semop IPC_NOWAIT sem {n} {o:+}{}", i + 2, if *undo { " SEM_UNDO" } else { "" })?;
        }
        writeln!(f, "  {}. the actor ends ({:?}): its SEM_UNDO changes are reverted", self.ops.len() + 2, self.end)
    }
}

/// What the values owe once the actor ended: the first values plus every
/// change it made without SEM_UNDO (a value that would go below 0 is 0).
/// `applied` says which of the case's semops applied.
pub fn after_end(case: &UndoCase, applied: &[bool]) -> Vec<u16> {
    let mut v: Vec<i32> = case.initial.iter().map(|x| i32::from(*x)).collect();
    let mut adj = vec![0i32; v.len()];
    for ((n, o, undo), ok) in case.ops.iter().zip(applied) {
        if *ok {
            v[usize::from(*n)] += i32::from(*o);
            if *undo {
                adj[usize::from(*n)] -= i32::from(*o);
            }
        }
    }
    v.iter().zip(&adj).map(|(x, a)| (x + a).max(0) as u16).collect()
}

/// Runs an undo case.
pub fn run_undo(case: &UndoCase, timing: Timing) -> CaseReport<String> {
    let n = case.initial.len();
    if !(1..=2).contains(&n)
        || case.initial.iter().any(|v| *v > 5)
        || case.ops.len() > 12
        || case.ops.iter().any(|(s, o, _)| usize::from(*s) >= n || !(-3..=3).contains(o))
    {
        return crate::case::refused(format!("{case:?}: 1 or 2 semaphores of 0 to 5, at most 12 changes of -3 to 3"));
    }
    crate::case::run_in_session(timing, |session, report| undo(case, session, &mut report.events))
}

fn undo(case: &UndoCase, session: &mut Session, log: &mut Vec<String>) -> Result<CaseOutcome, Stop> {
    let rule = rules::SEM_UNDO;
    let n = case.initial.len();
    let set = make_set(&case.initial)?;
    let a = session.spawn()?;
    let mut now = case.initial.clone();
    let mut applied = Vec::new();
    for &(num, op, with_undo) in &case.ops {
        let obs = session.call(a, &semop(set.id(), &[(num, op)], with_undo, true))?;
        let after = values(&set, n)?;
        if let Err(v) = judge_nowait(&now, &[(num, op)], &obs, &after) {
            return Ok(v.into());
        }
        applied.push(obs == Observed::Returned(Reply::Done));
        now = after;
    }
    match case.end {
        End::Exit => session.exit(a, 0)?,
        End::Kill => session.kill(a)?,
    };
    let after = values(&set, n)?;
    let want = after_end(case, &applied);
    log.push(format!("values {now:?} before the actor ended ({:?}), {after:?} after; owed {want:?}", case.end));
    if after != want {
        return Ok(fail(
            rule,
            format!("after the actor ended ({:?}) the values are {after:?}; owed {want:?}: its SEM_UNDO changes reverted, the others kept", case.end),
        ));
    }
    drop(set);
    Ok(CaseOutcome::Pass)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_semop_applies_whole_in_order_or_not_at_all() {
        assert_eq!(apply(&[1, 0], &[(0, -1), (1, 1)]), Some(vec![0, 1]));
        assert_eq!(apply(&[1, 0], &[(0, -1), (1, -1)]), None, "the second cannot: none applies");
        assert_eq!(apply(&[0, 0], &[(0, 1), (0, 0)]), None, "a wait for zero sees the change before it");
        assert_eq!(apply(&[2], &[(0, 0)]), None);
        let done = Observed::Returned(Reply::Done);
        let again = Observed::Returned(Reply::Errno(libc::EAGAIN));
        assert_eq!(judge_nowait(&[1, 0], &[(0, -1), (1, -1)], &again, &[1, 0]), Ok(()));
        // Part applied, then EAGAIN: the deviation semop-piecemeal.
        assert!(judge_nowait(&[1, 0], &[(0, -1), (1, -1)], &again, &[0, 0]).is_err());
        assert!(judge_nowait(&[1, 0], &[(0, -1), (1, -1)], &done, &[0, 0]).is_err());
        assert!(judge_nowait(&[1, 0], &[(0, -1)], &again, &[1, 0]).is_err(), "it could apply");
        assert!(judge_nowait(&[1, 0], &[(0, -1)], &done, &[1, 0]).is_err(), "returned, applied nothing");
    }

    #[test]
    fn the_release_makes_the_blocked_semop_possible() {
        let last = [(0, -3), (1, 0), (2, 2)];
        let values = [1, 2, 0];
        let give = release(&values, &last);
        assert_eq!(give, vec![(0, 2), (1, -2)]);
        let released = apply(&values, &give).unwrap();
        assert_eq!(apply(&released, &last), Some(vec![0, 0, 2]));
    }

    #[test]
    fn only_the_changes_made_without_undo_outlive_the_process() {
        let case = UndoCase {
            initial: vec![2, 0],
            ops: vec![(0, -1, true), (1, 3, false), (1, 1, true), (0, -1, false)],
            end: End::Kill,
        };
        assert_eq!(after_end(&case, &[true; 4]), vec![1, 3]);
        assert_eq!(after_end(&case, &[true, true, false, true]), vec![1, 3]);
        // A revert that would go below zero leaves zero.
        let case = UndoCase { initial: vec![0], ops: vec![(0, 2, true), (0, -2, false)], end: End::Exit };
        assert_eq!(after_end(&case, &[true, true]), vec![0]);
    }
}
