//! The C library's process-shared synchronization (`shm.pshared.*`,
//! `shm.semaphore.named`): one scenario per rule, each with its case type,
//! its judges and its executor.
//!
//! Every case's page is a fresh shared-memory object (`shm_open`, a name
//! of the run's, removed with the case and by an interrupted run's
//! clean-up) that each actor maps; the first actor initializes the mutex
//! and the condition variable in it, process-shared. A call that must
//! block (a lock of a held mutex, a wait at 0, a wait on the condition)
//! is proved asleep in the kernel (futex(2) on Linux).

use super::name::ShmName;
use super::rules;
use crate::case::{CaseOutcome, CaseReport, Stop};
use crate::checker::{describe, Violation};
use crate::evidence::BlockSite;
use crate::observed::Observed;
use crate::os::errno_name;
use crate::os::proc::SyscallKind;
use crate::protocol::pshared::PsharedOp;
use crate::protocol::{Reply, Request};
use crate::session::{ActorId, Session};
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;

const FUTEX: BlockSite = BlockSite { kind: SyscallKind::Futex, fd: None };

fn req(op: PsharedOp) -> Request {
    Request::Pshared(op)
}

fn fail(rule: &'static str, why: String) -> CaseOutcome {
    Violation::new(rule, why).into()
}

/// The return code a reply carries.
fn code_of(obs: &Observed) -> Option<i32> {
    match obs {
        Observed::Returned(Reply::Values(v)) if v.len() == 1 => Some(v[0] as i32),
        _ => None,
    }
}

fn name_code(code: i32) -> String {
    if code == 0 {
        "0".into()
    } else {
        errno_name(code)
    }
}

/// Makes the case's page and has every actor map it; the first actor
/// initializes the objects in it. The guard removes the name.
fn page(session: &mut Session, actors: &[ActorId], robust: bool) -> Result<ShmName, Stop> {
    let name = ShmName::fresh();
    {
        let fd = crate::os::shm::shm_open(name.as_str(), true, true, 0o600)
            .map_err(|e| Stop::io(format!("shm_open({}, O_CREAT | O_EXCL)", name.as_str()), e))?;
        crate::os::shm::truncate(std::os::fd::AsFd::as_fd(&fd), crate::os::shm::page_size() as u64)
            .map_err(|e| Stop::io("ftruncate of the page", e))?;
    }
    for &a in actors {
        let obs = session.call(a, &req(PsharedOp::Attach { name: name.as_str().to_string() }))?;
        if obs != Observed::Returned(Reply::Values(vec![0])) {
            return Err(Stop::harness(format!("{a}: mapping the page: {}", describe(&obs))));
        }
    }
    match session.call(actors[0], &req(PsharedOp::Init { map: 0, robust }))? {
        Observed::Returned(Reply::Done) => Ok(name),
        Observed::Returned(Reply::Errno(e)) if robust && (e == libc::ENOTSUP || e == libc::EINVAL) => {
            Err(Stop::Unsupported(format!("robust mutexes: {}", errno_name(e))))
        }
        other => Err(Stop::harness(format!("initializing a process-shared mutex: {}", describe(&other)))),
    }
}

// ---- shm.pshared.mutex --------------------------------------------------

/// Mutual exclusion: a held mutex blocks a second locker, then several
/// actors increment a counter under it at the same time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MutexCase {
    /// Actors (2-3).
    pub actors: u8,
    /// Increments per actor (1-300).
    pub rounds: u32,
}

impl fmt::Display for MutexCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  1. {} actors map a page with a process-shared mutex", self.actors)?;
        writeln!(f, "  2. actor 0 locks; actor 1's trylock: EBUSY; actor 1 locks (blocks); actor 0 unlocks; actor 1's lock returns; it unlocks")?;
        writeln!(f, "  3. every actor at once: {} times lock, counter += 1 (load, yield, store), unlock", self.rounds)?;
        writeln!(f, "  4. the counter is {}", u64::from(self.actors) * u64::from(self.rounds))
    }
}

/// The judge of the counter after every actor's increments.
pub fn judge_counter(case: &MutexCase, counter: u64) -> Result<(), Violation> {
    let want = u64::from(case.actors) * u64::from(case.rounds);
    if counter == want {
        Ok(())
    } else {
        Err(Violation::new(
            rules::PSHARED_MUTEX,
            format!("{} actors each made {} increments under the mutex and the counter is {counter}, not {want}: updates were lost, the mutex did not exclude", case.actors, case.rounds),
        ))
    }
}

/// Runs a mutex case.
pub fn run_mutex(case: &MutexCase, timing: Timing) -> CaseReport<String> {
    if !(2..=3).contains(&case.actors) || !(1..=300).contains(&case.rounds) {
        return crate::case::refused(format!(
            "{} actors, {} rounds; 2 or 3 actors, 1 to 300 rounds",
            case.actors, case.rounds
        ));
    }
    crate::case::run_in_session(timing, |session, report| mutex(case, session, &mut report.events))
}

fn mutex(case: &MutexCase, session: &mut Session, log: &mut Vec<String>) -> Result<CaseOutcome, Stop> {
    let rule = rules::PSHARED_MUTEX;
    let actors: Vec<ActorId> = (0..case.actors).map(|_| session.spawn()).collect::<Result<_, _>>()?;
    let _name = page(session, &actors, false)?;
    let (a, b) = (actors[0], actors[1]);
    let obs = session.call(a, &req(PsharedOp::Lock { map: 0 }))?;
    if code_of(&obs) != Some(0) {
        return Ok(fail(rule, format!("a lock of a free mutex {}", describe(&obs))));
    }
    let obs = session.call(b, &req(PsharedOp::Trylock { map: 0 }))?;
    if code_of(&obs) != Some(libc::EBUSY) {
        return Ok(fail(
            rule,
            format!("a trylock by another process while the mutex is held {}; allowed: EBUSY", describe(&obs)),
        ));
    }
    let obs = session.invoke(b, &req(PsharedOp::Lock { map: 0 }), FUTEX)?;
    log.push(format!("actor 1: lock while actor 0 holds it -> {}", describe(&obs)));
    if !matches!(obs, Observed::Blocked(_)) {
        return Ok(fail(
            rule,
            format!("a lock by another process while the mutex is held {}; allowed: blocked", describe(&obs)),
        ));
    }
    let obs = session.call(a, &req(PsharedOp::Unlock { map: 0 }))?;
    if code_of(&obs) != Some(0) {
        return Ok(fail(rule, format!("an unlock by the holder {}", describe(&obs))));
    }
    let obs =
        session.complete(b).map_err(|s| s.demanded_by(rule, "a lock waiting for a mutex unlocked must return"))?;
    if code_of(&obs) != Some(0) {
        return Ok(fail(rule, format!("the waiting lock, once the mutex was unlocked, {}", describe(&obs))));
    }
    session.call(b, &req(PsharedOp::Unlock { map: 0 }))?;
    for &x in &actors {
        session.start(x, &req(PsharedOp::Hammer { map: 0, rounds: case.rounds }))?;
    }
    for (i, &x) in actors.iter().enumerate() {
        let obs = session.complete(x).map_err(|s| s.demanded_by(rule, "locks of a mutex others unlock must return"))?;
        if code_of(&obs) != Some(0) {
            return Ok(fail(rule, format!("actor {i}: a lock or unlock while hammering {}", describe(&obs))));
        }
    }
    let obs = session.call(a, &req(PsharedOp::Counter { map: 0 }))?;
    let counter = code_of(&obs).map_or(u64::MAX, |c| c as u64);
    log.push(format!("after {} x {} increments the counter is {counter}", case.actors, case.rounds));
    Ok(judge_counter(case, counter).map_or_else(CaseOutcome::from, |()| CaseOutcome::Pass))
}

// ---- shm.pshared.robust -------------------------------------------------

/// How the owner ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Death {
    /// It exits.
    Exit,
    /// It is killed (SIGKILL).
    Kill,
}

/// A robust mutex whose owner dies holding it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RobustCase {
    /// How the owner ends.
    pub death: Death,
    /// The next locker is already waiting when the owner dies.
    pub waiter_waits: bool,
    /// The next locker calls pthread_mutex_consistent before unlocking.
    pub consistent: bool,
}

impl fmt::Display for RobustCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  1. actors A, B, C map a page with a robust, process-shared mutex; A locks it")?;
        if self.waiter_waits {
            writeln!(f, "  2. B locks (blocks)")?;
        }
        writeln!(f, "  3. A ends ({:?}) holding it; B's lock returns EOWNERDEAD", self.death)?;
        if self.consistent {
            writeln!(f, "  4. B: pthread_mutex_consistent, unlock; C locks: 0")
        } else {
            writeln!(f, "  4. B unlocks without pthread_mutex_consistent; C locks: ENOTRECOVERABLE")
        }
    }
}

/// The judge of the codes: B's lock after the death, B's consistent (if
/// called), C's lock after B's unlock.
pub fn judge_robust(case: &RobustCase, b_lock: i32, consistent: Option<i32>, c_lock: i32) -> Result<(), Violation> {
    let err = |why: String| Err(Violation::new(rules::PSHARED_ROBUST, why));
    if b_lock != libc::EOWNERDEAD {
        return err(format!(
            "a lock of a robust mutex whose owner died holding it returned {}; allowed: EOWNERDEAD",
            name_code(b_lock)
        ));
    }
    if let Some(c) = consistent.filter(|c| *c != 0) {
        return err(format!("pthread_mutex_consistent by the new owner returned {}", name_code(c)));
    }
    let want = if case.consistent { 0 } else { libc::ENOTRECOVERABLE };
    if c_lock != want {
        return err(format!(
            "after the new owner unlocked it {} pthread_mutex_consistent, a lock returned {}; allowed: {}",
            if case.consistent { "with" } else { "without" },
            name_code(c_lock),
            name_code(want)
        ));
    }
    Ok(())
}

/// Runs a robust-mutex case.
pub fn run_robust(case: &RobustCase, timing: Timing) -> CaseReport<String> {
    crate::case::run_in_session(timing, |session, report| robust(case, session, &mut report.events))
}

fn robust(case: &RobustCase, session: &mut Session, log: &mut Vec<String>) -> Result<CaseOutcome, Stop> {
    let rule = rules::PSHARED_ROBUST;
    let actors: Vec<ActorId> = (0..3).map(|_| session.spawn()).collect::<Result<_, _>>()?;
    let _name = page(session, &actors, true)?;
    let (a, b, c) = (actors[0], actors[1], actors[2]);
    let obs = session.call(a, &req(PsharedOp::Lock { map: 0 }))?;
    if code_of(&obs) != Some(0) {
        return Ok(fail(rule, format!("a lock of a free robust mutex {}", describe(&obs))));
    }
    if case.waiter_waits {
        let obs = session.invoke(b, &req(PsharedOp::Lock { map: 0 }), FUTEX)?;
        if !matches!(obs, Observed::Blocked(_)) {
            return Ok(fail(
                rules::PSHARED_MUTEX,
                format!("a lock while another process holds the mutex {}; allowed: blocked", describe(&obs)),
            ));
        }
    }
    match case.death {
        Death::Exit => session.exit(a, 0)?,
        Death::Kill => session.kill(a)?,
    };
    let why = "a lock of a mutex whose owner died must return";
    let obs = if case.waiter_waits {
        session.complete(b).map_err(|s| s.demanded_by(rule, why))?
    } else {
        session.call(b, &req(PsharedOp::Lock { map: 0 })).map_err(|s| s.demanded_by(rule, why))?
    };
    let Some(b_lock) = code_of(&obs) else {
        return Ok(fail(rule, format!("B's lock after the owner died {}", describe(&obs))));
    };
    let consistent = if case.consistent && b_lock == libc::EOWNERDEAD {
        code_of(&session.call(b, &req(PsharedOp::Consistent { map: 0 }))?)
    } else {
        None
    };
    if b_lock == libc::EOWNERDEAD || b_lock == 0 {
        session.call(b, &req(PsharedOp::Unlock { map: 0 }))?;
    }
    let obs = session.call(c, &req(PsharedOp::Trylock { map: 0 }))?;
    let c_lock = code_of(&obs).unwrap_or(-1);
    if c_lock == 0 {
        session.call(c, &req(PsharedOp::Unlock { map: 0 }))?;
    }
    log.push(format!(
        "A {:?}; B's lock {}, consistent {consistent:?}; C's trylock {}",
        case.death,
        name_code(b_lock),
        name_code(c_lock)
    ));
    Ok(judge_robust(case, b_lock, consistent, c_lock).map_or_else(CaseOutcome::from, |()| CaseOutcome::Pass))
}

// ---- shm.pshared.condvar ------------------------------------------------

/// Waiters on a process-shared condition variable and one raiser.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CondCase {
    /// Waiting actors (1-2).
    pub waiters: u8,
    /// The flag is raised before anyone waits.
    pub raise_first: bool,
    /// Broadcast once (else signal once per waiter).
    pub broadcast: bool,
}

impl fmt::Display for CondCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let raise = if self.broadcast {
            "raise the flag and broadcast once".to_string()
        } else {
            format!("raise the flag and signal, {} time(s)", self.waiters)
        };
        writeln!(
            f,
            "  1. {} waiter(s) and a raiser map a page with a process-shared mutex and condition",
            self.waiters
        )?;
        if self.raise_first {
            writeln!(f, "  2. raiser: {raise}")?;
            writeln!(f, "  3. each waiter: lock, wait while the flag is 0, unlock: returns at once")
        } else {
            writeln!(f, "  2. each waiter: lock, wait while the flag is 0 (blocks)")?;
            writeln!(f, "  3. raiser: {raise}; every waiter returns")
        }
    }
}

/// Runs a condition-variable case.
pub fn run_cond(case: &CondCase, timing: Timing) -> CaseReport<String> {
    if !(1..=2).contains(&case.waiters) {
        return crate::case::refused(format!("{} waiters; 1 or 2", case.waiters));
    }
    crate::case::run_in_session(timing, |session, report| cond(case, session, &mut report.events))
}

fn cond(case: &CondCase, session: &mut Session, log: &mut Vec<String>) -> Result<CaseOutcome, Stop> {
    let rule = rules::PSHARED_CONDVAR;
    let actors: Vec<ActorId> = (0..=case.waiters).map(|_| session.spawn()).collect::<Result<_, _>>()?;
    let _name = page(session, &actors, false)?;
    let (raiser, waiters) = (actors[0], &actors[1..]);
    let raises = if case.broadcast { 1 } else { u64::from(case.waiters) };
    let raise = |session: &mut Session| -> Result<Option<CaseOutcome>, Stop> {
        for _ in 0..raises {
            let obs = session.call(raiser, &req(PsharedOp::RaiseFlag { map: 0, broadcast: case.broadcast }))?;
            if code_of(&obs).is_none() {
                return Ok(Some(fail(rule, format!("raising the flag under the mutex {}", describe(&obs)))));
            }
        }
        Ok(None)
    };
    let wait = req(PsharedOp::WaitFlag { map: 0, seen: 0 });
    if case.raise_first {
        if let Some(o) = raise(session)? {
            return Ok(o);
        }
    } else {
        for (i, &w) in waiters.iter().enumerate() {
            let obs = session.invoke(w, &wait, FUTEX)?;
            log.push(format!("waiter {}: wait while the flag is 0 -> {}", i + 1, describe(&obs)));
            if !matches!(obs, Observed::Blocked(_)) {
                return Ok(fail(
                    rule,
                    format!("a wait on the condition with the flag unchanged {}; allowed: blocked", describe(&obs)),
                ));
            }
        }
        if let Some(o) = raise(session)? {
            return Ok(o);
        }
    }
    for (i, &w) in waiters.iter().enumerate() {
        let why = "a waiter whose flag was raised and signalled must return";
        let obs = if case.raise_first {
            session.call(w, &wait).map_err(|s| s.demanded_by(rule, why))?
        } else {
            session.complete(w).map_err(|s| s.demanded_by(rule, why))?
        };
        match code_of(&obs) {
            Some(flag) if flag >= 1 && flag as u64 <= raises => {}
            _ => {
                return Ok(fail(
                    rule,
                    format!("waiter {}: the wait {}; allowed: the flag raised (1 to {raises})", i + 1, describe(&obs)),
                ))
            }
        }
    }
    log.push(format!("every waiter returned after {raises} raise(s)"));
    Ok(CaseOutcome::Pass)
}

// ---- shm.semaphore.named ------------------------------------------------

/// A named semaphore shared by a poster and waiters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SemCase {
    /// Posts (1-4).
    pub posts: u8,
    /// Waits already blocked before the posts (0-2, at most `posts`),
    /// each by a waiter of its own.
    pub waiting: u8,
}

impl fmt::Display for SemCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  1. poster: sem_open(O_CREAT | O_EXCL, 0); waiters open it by name")?;
        if self.waiting > 0 {
            writeln!(f, "  2. {} waiter(s): sem_wait (blocks)", self.waiting)?;
        }
        writeln!(f, "  3. poster: sem_post {} time(s); the waits return", self.posts)?;
        writeln!(f, "  4. a waiter: sem_trywait {} time(s) succeeds, then EAGAIN", self.posts - self.waiting)?;
        writeln!(f, "  5. poster: sem_unlink; sem_open of the name: ENOENT")
    }
}

/// Runs a named-semaphore case.
pub fn run_sem(case: &SemCase, timing: Timing) -> CaseReport<String> {
    if !(1..=4).contains(&case.posts) || case.waiting > 2 || case.waiting > case.posts {
        return crate::case::refused(format!(
            "{} posts, {} waiting; 1 to 4 posts, 0 to 2 waiting, no more than posts",
            case.posts, case.waiting
        ));
    }
    crate::case::run_in_session(timing, |session, report| sem(case, session, &mut report.events))
}

fn sem(case: &SemCase, session: &mut Session, log: &mut Vec<String>) -> Result<CaseOutcome, Stop> {
    let rule = rules::SEMAPHORE_NAMED;
    let name = ShmName::fresh();
    let n = name.as_str().to_string();
    let poster = session.spawn()?;
    let waiters: Vec<ActorId> = (0..case.waiting.max(1)).map(|_| session.spawn()).collect::<Result<_, _>>()?;
    let obs = session.call(poster, &req(PsharedOp::SemOpen { name: n.clone(), create: true, value: 0 }))?;
    if obs != Observed::Returned(Reply::Values(vec![0])) {
        return Err(Stop::harness(format!("sem_open({n}, O_CREAT | O_EXCL): {}", describe(&obs))));
    }
    for &w in &waiters {
        let obs = session.call(w, &req(PsharedOp::SemOpen { name: n.clone(), create: false, value: 0 }))?;
        if obs != Observed::Returned(Reply::Values(vec![0])) {
            return Ok(fail(rule, format!("sem_open of an existing named semaphore {}", describe(&obs))));
        }
    }
    let wait = req(PsharedOp::SemWait { sem: 0 });
    for &w in waiters.iter().take(usize::from(case.waiting)) {
        let obs = session.invoke(w, &wait, FUTEX)?;
        if !matches!(obs, Observed::Blocked(_)) {
            return Ok(fail(
                rule,
                format!("sem_wait on a semaphore at 0 {}; allowed: blocked until a post", describe(&obs)),
            ));
        }
    }
    for _ in 0..case.posts {
        let obs = session.call(poster, &req(PsharedOp::SemPost { sem: 0 }))?;
        if obs != Observed::Returned(Reply::Done) {
            return Ok(fail(rule, format!("sem_post {}", describe(&obs))));
        }
    }
    for &w in waiters.iter().take(usize::from(case.waiting)) {
        let obs = session.complete(w).map_err(|s| s.demanded_by(rule, "a sem_wait must return once a post came"))?;
        if obs != Observed::Returned(Reply::Done) {
            return Ok(fail(rule, format!("a waiting sem_wait, after the posts, {}", describe(&obs))));
        }
    }
    let left = case.posts - case.waiting;
    let mut taken = 0;
    loop {
        let obs = session.call(waiters[0], &req(PsharedOp::SemTrywait { sem: 0 }))?;
        match code_of(&obs) {
            Some(1) if taken < left => taken += 1,
            Some(0) if taken == left => break,
            _ => {
                return Ok(fail(
                    rule,
                    format!(
                        "after {} posts and {} waits, sem_trywait {} {}; allowed: {} successes, then EAGAIN",
                        case.posts,
                        case.waiting,
                        taken + 1,
                        if code_of(&obs) == Some(1) { "succeeded" } else { "failed with EAGAIN" },
                        left
                    ),
                ))
            }
        }
    }
    let obs = session.call(poster, &req(PsharedOp::SemUnlink { name: n.clone() }))?;
    let reopen = session.call(waiters[0], &req(PsharedOp::SemOpen { name: n.clone(), create: false, value: 0 }))?;
    log.push(format!(
        "{} posts, {} waits, {taken} trywaits; unlink {}, reopen {}",
        case.posts,
        case.waiting,
        describe(&obs),
        describe(&reopen)
    ));
    if obs != Observed::Returned(Reply::Done) || reopen != Observed::Returned(Reply::Errno(libc::ENOENT)) {
        return Ok(fail(
            rule,
            format!(
                "sem_unlink {}, then sem_open of the name {}; allowed: done, then ENOENT",
                describe(&obs),
                describe(&reopen)
            ),
        ));
    }
    drop(name);
    Ok(CaseOutcome::Pass)
}
