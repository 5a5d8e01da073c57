//! Lock schedules and the reference model of file locks (the checker).
//!
//! A case is one file and two to four actors; each actor opens the file
//! twice at the start (descriptors 0 and 1, two open file descriptions of
//! its own), then the steps take and drop `flock(2)` locks and `fcntl(2)`
//! record locks (process-owned or OFD-owned), close and reopen
//! descriptors, exit or are killed. The model keeps who holds which lock
//! and which requests are pending, gives for each step the **set** of
//! allowed outcomes, names the rule an outcome breaks, and says which
//! pending requests must now be granted ([`Obligation`]).
//!
//! What it assumes, from the rules: flock locks belong to the open file
//! description; record locks belong to the process (`F_SETLK`) or to the
//! open file description (`F_OFD_SETLK`), locks of different owners
//! conflict when their ranges overlap and one is a write lock; closing any
//! descriptor of the file drops the process's record locks, and closing the
//! last descriptor of a description drops its flock and OFD locks; a
//! process's end drops all of them. A schedule never mixes flock with
//! record locks (they share one list on macOS and are independent on
//! Linux), and never converts a flock lock in place (not atomic:
//! flock(2)).

use super::rules;
use crate::observed::Observed;
use crate::os::file::{FlockOp, LockKind, LockOwner};
use crate::protocol::Reply;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Descriptors each actor opens at the start.
pub const FDS: u8 = 2;

/// One operation of a lock step. `fd` is the actor's descriptor 0 or 1
/// (taken modulo [`FDS`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LockOp {
    /// `flock(2)`; `nonblock` adds `LOCK_NB`.
    Flock { fd: u8, op: FlockOp, nonblock: bool },
    /// A record lock on bytes `start..start+len` (`len` 0: to the end of
    /// the file); `wait` selects `F_SETLKW`/`F_OFD_SETLKW`.
    Record { fd: u8, owner: LockOwner, kind: LockKind, start: u64, len: u64, wait: bool },
    /// `close(2)` of the descriptor.
    Close { fd: u8 },
    /// Open the file again in place of a closed descriptor (a new open
    /// file description).
    Reopen { fd: u8 },
    /// The actor exits (`_exit(0)`).
    Exit,
    /// The coordinator kills the actor (`SIGKILL`).
    Kill,
}

impl LockOp {
    /// The descriptor the operation names, if any.
    pub fn fd(&self) -> Option<u8> {
        match self {
            LockOp::Flock { fd, .. } | LockOp::Record { fd, .. } | LockOp::Close { fd } | LockOp::Reopen { fd } => {
                Some(fd % FDS)
            }
            LockOp::Exit | LockOp::Kill => None,
        }
    }
}

impl fmt::Display for LockOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            LockOp::Flock { fd, op, nonblock } => {
                let what = match op {
                    FlockOp::Shared => "LOCK_SH",
                    FlockOp::Exclusive => "LOCK_EX",
                    FlockOp::Unlock => "LOCK_UN",
                };
                write!(f, "flock(fd{}, {what}{})", fd % FDS, if nonblock { "|LOCK_NB" } else { "" })
            }
            LockOp::Record { fd, owner, kind, start, len, wait } => {
                let cmd = match (owner, wait) {
                    (LockOwner::Process, false) => "F_SETLK",
                    (LockOwner::Process, true) => "F_SETLKW",
                    (LockOwner::Ofd, false) => "F_OFD_SETLK",
                    (LockOwner::Ofd, true) => "F_OFD_SETLKW",
                };
                let kind = match kind {
                    LockKind::Read => "F_RDLCK",
                    LockKind::Write => "F_WRLCK",
                    LockKind::Unlock => "F_UNLCK",
                };
                let range =
                    if len == 0 { format!("{start}..EOF") } else { format!("{start}..{}", start.saturating_add(len)) };
                write!(f, "fcntl(fd{}, {cmd}, {kind} {range})", fd % FDS)
            }
            LockOp::Close { fd } => write!(f, "close fd{}", fd % FDS),
            LockOp::Reopen { fd } => write!(f, "open the file again as fd{}", fd % FDS),
            LockOp::Exit => f.write_str("exit"),
            LockOp::Kill => f.write_str("is killed (SIGKILL)"),
        }
    }
}

/// One step: an actor and its operation.
pub type LockStep = crate::engine::Step<LockOp>;

/// A lock case: how many actors, then the steps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockSchedule {
    /// Actors (2-4), each holding two descriptors of the file.
    pub actors: u8,
    /// What happens, in order.
    pub steps: Vec<LockStep>,
}

/// The largest byte offset or length a lock step may name: far beyond any
/// generated case, and far below where `start + len` could overflow.
pub const MAX_LOCK_OFFSET: u64 = 1 << 40;

impl LockSchedule {
    /// Whether the schedule is within the engine's range (generated ones
    /// always are; a replay file may not be).
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=8).contains(&self.actors) {
            return Err(format!("{} actors; 1 to 8", self.actors));
        }
        if self.steps.len() > crate::case::MAX_STEPS {
            return Err(format!("{} steps; at most {}", self.steps.len(), crate::case::MAX_STEPS));
        }
        for (i, step) in self.steps.iter().enumerate() {
            if let LockOp::Record { start, len, .. } = step.op {
                if start > MAX_LOCK_OFFSET || len > MAX_LOCK_OFFSET {
                    return Err(format!(
                        "step {}: a record lock at {start} of {len} bytes; offsets and lengths at most {MAX_LOCK_OFFSET}",
                        i + 1
                    ));
                }
            }
        }
        if let Some((i, why)) = self.first_unissuable() {
            return Err(format!("step {}: {}: {why}", i + 1, self.steps[i].op));
        }
        Ok(())
    }

    /// The actor count in force (at least 1).
    pub fn cast(&self) -> u8 {
        self.actors.clamp(1, 8)
    }

    /// The actor a step addresses (after [`LockSchedule::issuable`], the
    /// step's own number).
    pub fn actor_of(&self, step: &LockStep) -> u8 {
        step.actor % self.cast()
    }

    /// The schedule with every step addressed to an actor of the cast and
    /// issuable as far as the schedule alone decides: no step by an actor
    /// that has ended, no use of a closed descriptor, no reopening of an
    /// open one. What the host decides (a request still pending, a lock
    /// held or not) is left to the run.
    pub fn issuable(mut self) -> LockSchedule {
        let actors = self.cast();
        crate::engine::keep_issuable(&mut self.steps, actors, Skeleton::new(actors));
        self
    }

    /// The first step that [`LockSchedule::issuable`] would drop, and why.
    pub fn first_unissuable(&self) -> Option<(usize, &'static str)> {
        crate::engine::first_unissuable(&self.steps, self.cast(), Skeleton::new(self.cast()))
    }
}

/// The part of a lock case that the schedule alone decides: who is alive,
/// which of its descriptors are open.
struct Skeleton {
    cast: crate::engine::Cast,
    open: Vec<[bool; FDS as usize]>,
}

impl Skeleton {
    fn new(actors: u8) -> Skeleton {
        Skeleton { cast: crate::engine::Cast::new(actors), open: vec![[true; FDS as usize]; actors as usize] }
    }
}

impl crate::engine::Skeleton<LockStep> for Skeleton {
    fn admit(&mut self, step: &LockStep) -> Result<(), &'static str> {
        let a = usize::from(step.actor);
        self.cast.live(step.actor)?;
        match (step.op, step.op.fd()) {
            (LockOp::Exit | LockOp::Kill, _) => self.cast.alive[a] = false,
            (LockOp::Reopen { .. }, Some(fd)) if self.open[a][fd as usize] => return Err("the descriptor is open"),
            (LockOp::Reopen { .. }, Some(fd)) => self.open[a][fd as usize] = true,
            (_, Some(fd)) if !self.open[a][fd as usize] => return Err("the descriptor is closed"),
            (LockOp::Close { .. }, Some(fd)) => self.open[a][fd as usize] = false,
            _ => {}
        }
        Ok(())
    }
}

impl fmt::Display for LockSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "setup: {} actor(s), each opens the file twice (fd0, fd1)", self.cast())?;
        for (i, step) in self.steps.iter().enumerate() {
            writeln!(f, "{:>3}. actor {}: {}", i + 1, self.actor_of(step), step.op)?;
        }
        Ok(())
    }
}

/// One thing that happened in a lock case.
pub type LockEvent = crate::checker::Event<LockOp>;

use crate::checker::violation;
pub use crate::checker::Violation;

pub use crate::checker::Obligation;

/// Who owns a lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Owner {
    /// A process (actor): fcntl record locks.
    Process(u8),
    /// An open file description: flock and OFD locks.
    Ofd(u32),
}

/// A lock request: flock (whole file) or a record lock on `start..end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Request {
    Flock { ofd: u32, exclusive: bool },
    Record { owner: Owner, write: bool, start: u64, end: u64 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Range {
    owner: Owner,
    write: bool,
    start: u64,
    end: u64,
}

#[derive(Clone, Debug)]
struct ActorState {
    alive: bool,
    /// The open file description behind each descriptor, if open.
    fds: [Option<u32>; FDS as usize],
    pending: Option<Request>,
}

/// The reference model of one lock case.
#[derive(Clone, Debug)]
pub struct LockModel {
    actors: Vec<ActorState>,
    next_ofd: u32,
    /// flock locks by open file description: exclusive or shared.
    flocks: BTreeMap<u32, bool>,
    /// Record locks (process- and OFD-owned).
    records: Vec<Range>,
    /// Locks that an actor's death released: a later refusal that only
    /// they would explain breaks `file.lock.released-on-death`.
    ghosts_flock: BTreeMap<u32, bool>,
    ghosts_records: Vec<Range>,
    /// Whether the last release was by a death (for naming obligations).
    released_by_death: bool,
}

fn overlaps(a: (u64, u64), b: (u64, u64)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

fn end_of(start: u64, len: u64) -> u64 {
    if len == 0 {
        u64::MAX
    } else {
        start.saturating_add(len)
    }
}

fn describe(observed: &Observed) -> String {
    crate::pipe::model::describe(observed)
}

impl LockModel {
    /// The model at the start: every actor alive with two open descriptions.
    pub fn new(schedule: &LockSchedule) -> LockModel {
        let n = schedule.cast();
        let actors = (0..n)
            .map(|a| ActorState {
                alive: true,
                fds: [Some(u32::from(a) * 2), Some(u32::from(a) * 2 + 1)],
                pending: None,
            })
            .collect();
        LockModel {
            actors,
            next_ofd: u32::from(n) * 2,
            flocks: BTreeMap::new(),
            records: Vec::new(),
            ghosts_flock: BTreeMap::new(),
            ghosts_records: Vec::new(),
            released_by_death: false,
        }
    }

    /// Checks a whole recorded trace: the checker, offline.
    pub fn check(schedule: &LockSchedule, events: &[LockEvent]) -> Result<LockModel, Violation> {
        let mut model = LockModel::new(schedule);
        for event in events {
            model.apply(event)?;
        }
        Ok(model)
    }

    /// Whether a step can be issued now; why not otherwise.
    pub fn can_issue(&self, actor: u8, op: &LockOp) -> Result<(), &'static str> {
        let Some(st) = self.actors.get(actor as usize) else { return Err("no such actor") };
        if !st.alive {
            return Err("actor has ended");
        }
        if matches!(op, LockOp::Kill) {
            return Ok(());
        }
        if st.pending.is_some() {
            return Err("actor is blocked in an earlier request");
        }
        let Some(fd) = op.fd() else { return Ok(()) };
        let ofd = st.fds[fd as usize];
        match op {
            LockOp::Reopen { .. } if ofd.is_some() => Err("descriptor is open"),
            LockOp::Reopen { .. } => Ok(()),
            _ if ofd.is_none() => Err("descriptor is closed"),
            LockOp::Flock { op, .. } => match (ofd.and_then(|o| self.flocks.get(&o)), op) {
                (Some(&held), FlockOp::Exclusive) if !held => Err("converting a flock lock is not atomic (flock(2))"),
                (Some(&held), FlockOp::Shared) if held => Err("converting a flock lock is not atomic (flock(2))"),
                _ => Ok(()),
            },
            _ => Ok(()),
        }
    }

    /// The open file description behind an actor's descriptor (for the
    /// executor's bookkeeping and the tests).
    pub fn ofd_of(&self, actor: u8, fd: u8) -> Option<u32> {
        self.actors.get(actor as usize).and_then(|a| a.fds[(fd % FDS) as usize])
    }

    fn rule_of(request: &Request) -> &'static str {
        match request {
            Request::Flock { .. } => rules::FLOCK,
            Request::Record { owner: Owner::Process(_), .. } => rules::FCNTL,
            Request::Record { owner: Owner::Ofd(_), .. } => rules::OFD,
        }
    }

    /// The locks that conflict with `request`, as owners.
    fn conflicts(&self, request: &Request) -> Vec<Owner> {
        match *request {
            Request::Flock { ofd, exclusive } => self
                .flocks
                .iter()
                .filter(|(o, ex)| **o != ofd && (exclusive || **ex))
                .map(|(o, _)| Owner::Ofd(*o))
                .collect(),
            Request::Record { owner, write, start, end } => self
                .records
                .iter()
                .filter(|r| r.owner != owner && (write || r.write) && overlaps((r.start, r.end), (start, end)))
                .map(|r| r.owner)
                .collect(),
        }
    }

    /// Whether a lock released by a death would have conflicted.
    fn ghost_conflict(&self, request: &Request) -> bool {
        match *request {
            Request::Flock { ofd, exclusive } => {
                self.ghosts_flock.iter().any(|(o, ex)| *o != ofd && (exclusive || *ex))
            }
            Request::Record { owner, write, start, end } => self
                .ghosts_records
                .iter()
                .any(|r| r.owner != owner && (write || r.write) && overlaps((r.start, r.end), (start, end))),
        }
    }

    /// The actor that holds an owner's locks.
    fn actor_of_owner(&self, owner: Owner) -> Option<u8> {
        match owner {
            Owner::Process(a) => Some(a),
            Owner::Ofd(o) => self.actors.iter().position(|s| s.fds.contains(&Some(o))).map(|a| a as u8),
        }
    }

    /// Whether `actor` waiting for `request` closes a cycle of waiters
    /// (then `F_SETLKW` may fail with `EDEADLK`).
    fn deadlocks(&self, actor: u8, request: &Request) -> bool {
        let mut seen = vec![false; self.actors.len()];
        let mut stack: Vec<u8> = self.conflicts(request).into_iter().filter_map(|o| self.actor_of_owner(o)).collect();
        while let Some(a) = stack.pop() {
            if a == actor {
                return true;
            }
            if std::mem::replace(&mut seen[a as usize], true) {
                continue;
            }
            if let Some(p) = &self.actors[a as usize].pending {
                stack.extend(self.conflicts(p).into_iter().filter_map(|o| self.actor_of_owner(o)));
            }
        }
        false
    }

    fn grant(&mut self, request: Request) {
        match request {
            Request::Flock { ofd, exclusive } => {
                self.flocks.insert(ofd, exclusive);
            }
            Request::Record { owner, write, start, end } => {
                self.unlock_range(owner, start, end);
                self.records.push(Range { owner, write, start, end });
            }
        }
    }

    /// Removes `owner`'s record locks on `start..end`, splitting ranges.
    fn unlock_range(&mut self, owner: Owner, start: u64, end: u64) {
        let mut kept = Vec::with_capacity(self.records.len());
        for r in self.records.drain(..) {
            if r.owner != owner || !overlaps((r.start, r.end), (start, end)) {
                kept.push(r);
                continue;
            }
            if r.start < start {
                kept.push(Range { end: start, ..r });
            }
            if r.end > end {
                kept.push(Range { start: end, ..r });
            }
        }
        self.records = kept;
    }

    /// Drops an open file description's flock and OFD locks.
    fn drop_ofd(&mut self, ofd: u32, by_death: bool) {
        if let Some(ex) = self.flocks.remove(&ofd) {
            if by_death {
                self.ghosts_flock.insert(ofd, ex);
            }
        }
        self.drop_owner(Owner::Ofd(ofd), by_death);
    }

    fn drop_owner(&mut self, owner: Owner, by_death: bool) {
        let (gone, kept): (Vec<Range>, Vec<Range>) = self.records.drain(..).partition(|r| r.owner == owner);
        self.records = kept;
        if by_death {
            self.ghosts_records.extend(gone);
        }
    }

    fn request_of(&self, actor: u8, op: &LockOp) -> Option<Request> {
        let ofd = op.fd().and_then(|fd| self.actors[actor as usize].fds[fd as usize])?;
        match *op {
            LockOp::Flock { op: FlockOp::Shared, .. } => Some(Request::Flock { ofd, exclusive: false }),
            LockOp::Flock { op: FlockOp::Exclusive, .. } => Some(Request::Flock { ofd, exclusive: true }),
            LockOp::Record { owner, kind, start, len, .. } if kind != LockKind::Unlock => {
                let owner = match owner {
                    LockOwner::Process => Owner::Process(actor),
                    LockOwner::Ofd => Owner::Ofd(ofd),
                };
                Some(Request::Record { owner, write: kind == LockKind::Write, start, end: end_of(start, len) })
            }
            _ => None,
        }
    }

    /// Applies one event; the error names the rule an outcome breaks.
    pub fn apply(&mut self, event: &LockEvent) -> Result<(), Violation> {
        <Self as crate::checker::Checker>::apply(self, event)
    }

    fn apply_event(&mut self, event: &LockEvent) -> Result<(), Violation> {
        match event {
            LockEvent::Skipped { .. } => Ok(()),
            LockEvent::Step { actor, op, observed, .. } => self.step(*actor, op, observed),
            LockEvent::Completion { actor, observed } => self.completion(*actor, observed),
        }
    }

    fn step(&mut self, actor: u8, op: &LockOp, observed: &Observed) -> Result<(), Violation> {
        if let Err(why) = self.can_issue(actor, op) {
            return Err(violation(&[rules::FLOCK], format!("the trace issues a step the schedule cannot: {why}")));
        }
        let a = actor as usize;
        let what = format!("actor {actor}: {op}");
        match *op {
            LockOp::Exit | LockOp::Kill => {
                if !matches!(observed, Observed::Died(_)) {
                    return Err(violation(
                        &[rules::DEATH],
                        format!("{what} {}; allowed: the actor ends", describe(observed)),
                    ));
                }
                self.actors[a].alive = false;
                self.actors[a].pending = None;
                for ofd in self.actors[a].fds.iter_mut().filter_map(Option::take).collect::<Vec<_>>() {
                    self.drop_ofd(ofd, true);
                }
                self.drop_owner(Owner::Process(actor), true);
                self.released_by_death = true;
                Ok(())
            }
            LockOp::Close { fd } => {
                self.expect_done(&what, observed, rules::FCNTL)?;
                if let Some(ofd) = self.actors[a].fds[(fd % FDS) as usize].take() {
                    self.drop_ofd(ofd, false);
                }
                self.drop_owner(Owner::Process(actor), false);
                self.released_by_death = false;
                Ok(())
            }
            LockOp::Reopen { fd } => match observed {
                Observed::Returned(Reply::Opened { .. }) => {
                    self.actors[a].fds[(fd % FDS) as usize] = Some(self.next_ofd);
                    self.next_ofd += 1;
                    Ok(())
                }
                other => Err(violation(&[rules::FCNTL], format!("{what} {}; allowed: success", describe(other)))),
            },
            LockOp::Flock { fd, op: FlockOp::Unlock, .. } => {
                self.expect_done(&what, observed, rules::FLOCK)?;
                if let Some(ofd) = self.actors[a].fds[(fd % FDS) as usize] {
                    self.flocks.remove(&ofd);
                }
                self.released_by_death = false;
                Ok(())
            }
            LockOp::Record { fd, owner, kind: LockKind::Unlock, start, len, .. } => {
                let rule = if owner == LockOwner::Ofd { rules::OFD } else { rules::FCNTL };
                self.expect_done(&what, observed, rule)?;
                let owner = match owner {
                    LockOwner::Process => Owner::Process(actor),
                    LockOwner::Ofd => match self.actors[a].fds[(fd % FDS) as usize] {
                        Some(o) => Owner::Ofd(o),
                        None => return Ok(()),
                    },
                };
                self.unlock_range(owner, start, end_of(start, len));
                self.released_by_death = false;
                Ok(())
            }
            LockOp::Flock { nonblock, .. } => {
                let Some(request) = self.request_of(actor, op) else { return Ok(()) };
                self.lock_request(actor, &what, request, !nonblock, observed)
            }
            LockOp::Record { wait, .. } => {
                let Some(request) = self.request_of(actor, op) else { return Ok(()) };
                self.lock_request(actor, &what, request, wait, observed)
            }
        }
    }

    fn expect_done(&self, what: &str, observed: &Observed, rule: &'static str) -> Result<(), Violation> {
        match observed {
            Observed::Returned(Reply::Done) => Ok(()),
            other => Err(violation(&[rule], format!("{what} {}; allowed: success", describe(other)))),
        }
    }

    fn refusal_rules(&self, request: &Request) -> Vec<&'static str> {
        let rule = Self::rule_of(request);
        if self.ghost_conflict(request) {
            vec![rules::DEATH, rule]
        } else {
            vec![rule]
        }
    }

    fn lock_request(
        &mut self,
        actor: u8,
        what: &str,
        request: Request,
        wait: bool,
        observed: &Observed,
    ) -> Result<(), Violation> {
        let rule = Self::rule_of(&request);
        let conflicts = self.conflicts(&request);
        let busy = |errno: i32| match request {
            Request::Flock { .. } => errno == libc::EWOULDBLOCK,
            Request::Record { .. } => errno == libc::EAGAIN || errno == libc::EACCES,
        };
        if conflicts.is_empty() {
            return match observed {
                Observed::Returned(Reply::Done) => {
                    self.grant(request);
                    Ok(())
                }
                other => Err(violation(
                    &self.refusal_rules(&request),
                    format!(
                        "{what} {} though no other owner holds a conflicting lock; allowed: success",
                        describe(other)
                    ),
                )),
            };
        }
        let holders = self.describe_owners(&conflicts);
        if !wait {
            return match observed {
                Observed::Returned(Reply::Errno(e)) if busy(*e) => Ok(()),
                other => Err(violation(
                    &[rule],
                    format!(
                        "{what} {} while {holders} holds a conflicting lock; allowed: {}",
                        describe(other),
                        if matches!(request, Request::Flock { .. }) { "EWOULDBLOCK" } else { "EAGAIN or EACCES" }
                    ),
                )),
            };
        }
        let may_deadlock =
            matches!(request, Request::Record { owner: Owner::Process(_), .. }) && self.deadlocks(actor, &request);
        match observed {
            Observed::Blocked(_) => {
                self.actors[actor as usize].pending = Some(request);
                Ok(())
            }
            Observed::Returned(Reply::Errno(e)) if *e == libc::EDEADLK && may_deadlock => Ok(()),
            other => Err(violation(
                &[rule],
                format!(
                    "{what} {} while {holders} holds a conflicting lock; allowed: pending until it is released{}",
                    describe(other),
                    if may_deadlock { ", or EDEADLK" } else { "" }
                ),
            )),
        }
    }

    fn describe_owners(&self, owners: &[Owner]) -> String {
        let mut names: Vec<String> = owners
            .iter()
            .map(|o| match (o, self.actor_of_owner(*o)) {
                (Owner::Process(a), _) => format!("actor {a} (process lock)"),
                (Owner::Ofd(_), Some(a)) => format!("actor {a} (through an open file description)"),
                (Owner::Ofd(_), None) => "a closed open file description".to_string(),
            })
            .collect();
        names.sort();
        names.dedup();
        names.join(" and ")
    }

    fn completion(&mut self, actor: u8, observed: &Observed) -> Result<(), Violation> {
        let a = actor as usize;
        let Some(request) = self.actors.get(a).and_then(|s| s.pending) else {
            return Err(violation(&[rules::FLOCK], format!("actor {actor}: a completion with no request pending")));
        };
        let rule = Self::rule_of(&request);
        self.actors[a].pending = None;
        let conflicts = self.conflicts(&request);
        match observed {
            Observed::Returned(Reply::Done) if conflicts.is_empty() => {
                self.grant(request);
                Ok(())
            }
            Observed::Returned(Reply::Done) => Err(violation(
                &[rule],
                format!(
                    "actor {actor}'s pending request was granted while {} still holds a conflicting lock",
                    self.describe_owners(&conflicts)
                ),
            )),
            Observed::Returned(Reply::Errno(e))
                if *e == libc::EDEADLK && matches!(request, Request::Record { owner: Owner::Process(_), .. }) =>
            {
                Ok(())
            }
            other => Err(violation(
                &[rule],
                format!(
                    "actor {actor}'s pending request {}; allowed: granted once no conflicting lock is left",
                    describe(other)
                ),
            )),
        }
    }

    /// The pending requests that could be granted now: at least one of them
    /// must complete. Empty when none can.
    pub fn obligations(&self) -> Vec<Obligation> {
        <Self as crate::checker::Checker>::obligations(self)
    }

    fn grantable(&self) -> Vec<Obligation> {
        let ready: Vec<u8> = self
            .actors
            .iter()
            .enumerate()
            .filter(|(_, s)| s.alive)
            .filter_map(|(a, s)| s.pending.filter(|p| self.conflicts(p).is_empty()).map(|p| (a as u8, p)))
            .map(|(a, _)| a)
            .collect();
        if ready.is_empty() {
            return Vec::new();
        }
        let first = self.actors[ready[0] as usize].pending.as_ref().map(Self::rule_of).unwrap_or(rules::FLOCK);
        let rule = if self.released_by_death { rules::DEATH } else { first };
        vec![Obligation {
            why: format!(
                "no conflicting lock is left, so one of the pending requests of actor(s) {ready:?} must be granted"
            ),
            actors: ready,
            rule,
        }]
    }

    /// Whether `actor` has a request pending.
    pub fn pending(&self, actor: u8) -> bool {
        self.actors.get(actor as usize).is_some_and(|s| s.pending.is_some())
    }

    /// Whether `actor` is alive.
    pub fn alive(&self, actor: u8) -> bool {
        self.actors.get(actor as usize).is_some_and(|s| s.alive)
    }
}

impl crate::checker::Checker for LockModel {
    type Op = LockOp;

    fn can_issue(&self, actor: u8, op: &LockOp) -> Result<(), &'static str> {
        LockModel::can_issue(self, actor, op)
    }

    fn apply(&mut self, event: &LockEvent) -> Result<(), Violation> {
        self.apply_event(event)
    }

    fn obligations(&self) -> Vec<Obligation> {
        self.grantable()
    }
}
