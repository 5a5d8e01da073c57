//! Synchronization through shared memory, with several processes running
//! at once on one shared-memory object:
//!
//! - [`HammerCase`]: N processes increment counters with an atomic
//!   read-modify-write, under a process-shared lock, and (as evidence of why
//!   synchronization is needed) with plain loads and stores
//!   (`shm.sync.no-lost-updates`);
//! - [`PublishCase`]: data published by a release store of a flag, or
//!   through a single-producer single-consumer ring (`shm.sync.publish`);
//! - [`WakeCase`]: processes wait on a process-shared primitive until
//!   another posts (`shm.sync.wait-wake`).
//!
//! The process-shared lock is a compare-and-swap spin lock on a word of the
//! object (it yields while contended), which works alike everywhere.

use super::memory::{expect_done, expect_mapped, expect_opened};
use super::name::ShmName;
use super::rules;
use super::{fail, one_value, Event, Violation};
use crate::case::Stop;
use crate::case::{CaseOutcome, CaseReport};
use crate::evidence::BlockSite;
use crate::observed::Observed;
use crate::os::proc::SyscallKind;
use crate::os::shm::{create_doorbell, page_size};
use crate::protocol::shm::{hammer, HammerPlan, PublishPlan, RingPlan, ShmOp};
use crate::protocol::{Reply, Request};
use crate::session::{ActorId, Session};
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Observation: plain increments lost in a run (one per run).
pub const UNSYNC_LOST: &str = "unsynchronized increments lost per run";
/// Observation: the same, only for runs that lost some (its count is how
/// many runs lost updates).
pub const UNSYNC_LOSING_RUNS: &str = "unsynchronized runs that lost updates (increments lost)";

/// The most words a publish case's region holds (a replay file asking for
/// more is refused, not run).
pub const MAX_WORDS: u32 = 1 << 16;
/// The most increments, rounds or messages per process a case may ask for.
pub const MAX_COUNT: u32 = 1 << 20;

/// One process's part in a [`HammerCase`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessPlan {
    /// Increments of each counter.
    pub count: u32,
    /// Iterations at which it pauses (yields the processor).
    pub pauses: Vec<u32>,
    /// Pause inside the read-modify-write instead of between iterations.
    pub pause_inside: bool,
}

/// N processes (2-6) hammer the counters of one shared object at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HammerCase {
    /// One plan per process.
    pub processes: Vec<ProcessPlan>,
}

impl HammerCase {
    /// Increments every counter must reach.
    pub fn total(&self) -> u64 {
        self.processes.iter().map(|p| u64::from(p.count)).sum()
    }
}

impl fmt::Display for HammerCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "set-up: {} processes map one shared-memory object MAP_SHARED; all counters 0",
            self.processes.len()
        )?;
        for (i, p) in self.processes.iter().enumerate() {
            writeln!(
                f,
                "{:>3}. actor {i} (at once with the others): {} times: atomic fetch_add; lock, increment, unlock; plain load+store; pauses at iterations {:?}{}",
                i + 1,
                p.count,
                p.pauses,
                if p.pause_inside { " inside the read-modify-write" } else { "" }
            )?;
        }
        writeln!(
            f,
            "{:>3}. actor 0: load the counters: atomic and locked must be {}",
            self.processes.len() + 1,
            self.total()
        )
    }
}

/// Which counter a load reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Counter {
    /// Incremented with atomic fetch-add.
    Atomic,
    /// Incremented under the process-shared lock.
    Locked,
    /// Incremented with a plain load and store (no verdict).
    Plain,
}

/// A publication case: a flag, or a ring.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PublishCase {
    /// The producer writes `words` data words with the round number, then
    /// release-stores the flag = round, for `rounds` rounds; the consumer
    /// acquire-loads the flag and reads the data.
    Flag { words: u32, rounds: u32, producer_pauses: Vec<u32>, consumer_pauses: Vec<u32> },
    /// `messages` messages of `words` words through a ring of `slots` slots.
    Ring { slots: u32, words: u32, messages: u32, producer_pauses: Vec<u32>, consumer_pauses: Vec<u32> },
}

impl fmt::Display for PublishCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "set-up: actors 0 (producer) and 1 (consumer) map one shared-memory object MAP_SHARED")?;
        match self {
            PublishCase::Flag { words, rounds, producer_pauses, consumer_pauses } => {
                writeln!(f, "  1. actor 1: acquire-load the flag until {rounds}; after each new value f, read the {words} data words (pauses after rounds {consumer_pauses:?})")?;
                writeln!(f, "  2. actor 0 (at once): rounds 1..={rounds}: store the round in {words} data words, release-store the flag = round (pauses after rounds {producer_pauses:?})")?;
                writeln!(f, "  3. every data word read after seeing flag f is at least f")
            }
            PublishCase::Ring { slots, words, messages, producer_pauses, consumer_pauses } => {
                writeln!(f, "  1. actor 1: receive {messages} messages from a {slots}-slot ring (pauses before {consumer_pauses:?})")?;
                writeln!(f, "  2. actor 0 (at once): send {messages} messages of {words} words (pauses before {producer_pauses:?})")?;
                writeln!(f, "  3. every message arrives once, in order, untorn")
            }
        }
    }
}

/// `waiters` processes wait on a process-shared primitive, another posts;
/// `rounds` times.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WakeCase {
    /// Waiting processes (1-3).
    pub waiters: u8,
    /// Rounds of wait and post (1-3).
    pub rounds: u8,
}

impl fmt::Display for WakeCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "set-up: actor 0 (poster) and {} waiters map one shared-memory object; the word is 0",
            self.waiters
        )?;
        writeln!(f, "{} rounds of:", self.rounds)?;
        writeln!(f, "  1. each waiter: wait until the word is not 0 (blocks: evidence required)")?;
        writeln!(f, "  2. actor 0: set the word to the round number and post")?;
        writeln!(f, "  3. each waiter wakes with the round number; actor 0 resets the word")
    }
}

/// One operation of a synchronization case, as the trace shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncOp {
    /// Hammered the counters `count` times (completion).
    Hammered { count: u32 },
    /// Loaded a counter.
    Load(Counter),
    /// The producer finished.
    Published,
    /// The flag consumer's observations (completion).
    Observed { rounds: u32 },
    /// The ring consumer's messages (completion).
    Received { messages: u32 },
    /// Began waiting for a post (invoke).
    Wait { round: u8 },
    /// The wait returned (completion).
    Woken { round: u8 },
    /// Set the word to `round` and posted to the waiters.
    Post { round: u8, waiters: u8 },
    /// Reset the word to 0.
    Reset,
}

impl fmt::Display for SyncOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncOp::Hammered { count } => write!(f, "incremented each counter {count} times"),
            SyncOp::Load(c) => write!(f, "load the {c:?} counter"),
            SyncOp::Published => f.write_str("published every round / message"),
            SyncOp::Observed { rounds } => write!(f, "observed the flag up to {rounds} (pairs flag, min data word)"),
            SyncOp::Received { messages } => write!(f, "received {messages} messages (sequence*2 + torn)"),
            SyncOp::Wait { round } => write!(f, "round {round}: wait for a post"),
            SyncOp::Woken { round } => write!(f, "round {round}: the wait returned"),
            SyncOp::Post { round, waiters } => {
                write!(f, "round {round}: set the word to {round} and post to {waiters} waiter(s)")
            }
            SyncOp::Reset => f.write_str("reset the word to 0"),
        }
    }
}

/// An event of a synchronization case.
pub type SyncEvent = Event<SyncOp>;

/// Judges the events of a [`HammerCase`] whose counters must reach `total`.
pub fn judge_hammer(total: u64, event: &SyncEvent) -> Result<(), Violation> {
    let Some(e) = event.as_step() else { return Ok(()) };
    match *e.op {
        SyncOp::Hammered { .. } if *e.observed != Observed::Returned(Reply::Done) => Err(Violation::new(
            rules::NO_LOST_UPDATES,
            format!("actor {}: hammering did not complete: {}", e.actor, super::show(e.observed)),
        )),
        SyncOp::Load(c @ (Counter::Atomic | Counter::Locked)) => match one_value(e.observed) {
            Some(v) if v == total => Ok(()),
            other => Err(Violation::new(
                rules::NO_LOST_UPDATES,
                format!(
                    "the {} counter is {}, expected {total}: {} update(s) lost",
                    if c == Counter::Atomic { "atomic fetch-add" } else { "lock-protected" },
                    other.map(|v| format!("{v}")).unwrap_or_else(|| super::show(e.observed)),
                    other.map(|v| total as i64 - v as i64).unwrap_or(0)
                ),
            )),
        },
        _ => Ok(()),
    }
}

/// Judges the consumer's completion of a [`PublishCase`].
pub fn judge_publish(case: &PublishCase, event: &SyncEvent) -> Result<(), Violation> {
    let Some(e) = event.as_step() else { return Ok(()) };
    let values = match (&e.op, &e.observed) {
        (SyncOp::Observed { .. } | SyncOp::Received { .. }, Observed::Returned(Reply::Values(v))) => v,
        (SyncOp::Observed { .. } | SyncOp::Received { .. }, other) => {
            return Err(Violation::new(rules::PUBLISH, format!("the consumer did not finish: {}", super::show(other))))
        }
        _ => return Ok(()),
    };
    match case {
        PublishCase::Flag { words, rounds, .. } => {
            if values.len() % 2 != 0 || values.is_empty() {
                return Err(Violation::new(rules::PUBLISH, format!("malformed observations: {} values", values.len())));
            }
            let mut last = 0i64;
            for pair in values.chunks(2) {
                let (flag, min) = (pair[0], pair[1]);
                if flag <= last || flag > i64::from(*rounds) {
                    return Err(Violation::new(
                        rules::PUBLISH,
                        format!("the flag went from {last} to {flag}: it only ever rises, 1..={rounds}"),
                    ));
                }
                if (min as u64) < flag as u64 {
                    return Err(Violation::new(
                        rules::PUBLISH,
                        format!(
                            "after acquire-loading flag {flag} the consumer read a data word of {min} (of {words}): data written before the release store were not all seen"
                        ),
                    ));
                }
                last = flag;
            }
            if last != i64::from(*rounds) {
                return Err(Violation::new(rules::PUBLISH, format!("the last flag seen was {last}, not {rounds}")));
            }
            Ok(())
        }
        PublishCase::Ring { messages, .. } => {
            if values.len() != *messages as usize {
                return Err(Violation::new(
                    rules::PUBLISH,
                    format!("the ring delivered {} messages, not {messages}", values.len()),
                ));
            }
            for (i, v) in values.iter().enumerate() {
                let (seq, torn) = (v / 2, v % 2 == 1);
                if torn {
                    return Err(Violation::new(
                        rules::PUBLISH,
                        format!("message {i} arrived torn (its first word says {seq})"),
                    ));
                }
                if seq != i as i64 {
                    return Err(Violation::new(
                        rules::PUBLISH,
                        format!("message {i} arrived as message {seq}: lost, repeated or out of order"),
                    ));
                }
            }
            Ok(())
        }
    }
}

/// The state of a [`WakeCase`] judge: who is waiting, and whether the
/// current round was posted.
#[derive(Clone, Debug, Default)]
pub struct WakeJudge {
    posted: bool,
    waiting: usize,
    proved: usize,
}

impl WakeJudge {
    /// Judges one event.
    pub fn apply(&mut self, event: &SyncEvent) -> Result<(), Violation> {
        let Some(e) = event.as_step() else { return Ok(()) };
        match *e.op {
            SyncOp::Wait { round } => match e.observed {
                Observed::Blocked(ev) => {
                    self.waiting += 1;
                    if ev.kind() == crate::evidence::EvidenceKind::Proc {
                        self.proved += 1;
                    }
                    Ok(())
                }
                other => Err(Violation::new(
                    rules::WAIT_WAKE,
                    format!(
                        "actor {} round {round}: the wait returned before any post ({}); it must block",
                        e.actor,
                        super::show(other)
                    ),
                )),
            },
            SyncOp::Post { round, .. } => {
                self.posted = true;
                match one_value(e.observed) {
                    // Every waiter proved asleep in the kernel must be among the woken.
                    Some(n) if n as usize >= self.proved => Ok(()),
                    other => Err(Violation::new(
                        rules::WAIT_WAKE,
                        format!(
                            "round {round}: the post woke {} waiter(s); {} were asleep on the word",
                            other.map(|n| n.to_string()).unwrap_or_else(|| super::show(e.observed)),
                            self.proved
                        ),
                    )),
                }
            }
            SyncOp::Woken { round } => {
                if !self.posted {
                    return Err(Violation::new(rules::WAIT_WAKE, format!("actor {} woke before the post", e.actor)));
                }
                match one_value(e.observed) {
                    Some(v) if v == u64::from(round) => {
                        self.waiting = self.waiting.saturating_sub(1);
                        Ok(())
                    }
                    _ => Err(Violation::new(
                        rules::WAIT_WAKE,
                        format!(
                            "actor {} round {round}: the wait ended with {}; expected the posted value {round}",
                            e.actor,
                            super::show(e.observed)
                        ),
                    )),
                }
            }
            SyncOp::Reset => {
                self.posted = false;
                self.proved = 0;
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// Spawns `n` actors that map one fresh shared-memory object of `len`
/// bytes MAP_SHARED (actor 0 creates and sizes it); returns their mapping numbers.
fn shared_cast(session: &mut Session, name: &str, n: usize, len: u64) -> Result<Vec<u32>, Stop> {
    let mut maps = Vec::new();
    for a in 0..n {
        let id = session.spawn()?;
        let open = ShmOp::Open { name: name.to_string(), create: a == 0, write: true, mode: 0o600 };
        let slot = expect_opened(session.call(id, &Request::Shm(open))?, a)?;
        if a == 0 {
            expect_done(session.call(id, &Request::Shm(ShmOp::Truncate { slot, len }))?, "ftruncate")?;
        }
        let map = ShmOp::Map { slot: Some(slot), len, shared: true };
        maps.push(expect_mapped(session.call(id, &Request::Shm(map))?, a)?);
    }
    Ok(maps)
}

fn round_up(len: u64) -> u64 {
    let page = page_size() as u64;
    len.div_ceil(page).max(1) * page
}

/// An operation that `rule` demands must return: a missing return is
/// `hung`, naming the rule.
fn must(observed: Result<Observed, Stop>, actor: usize, what: &str, rule: &str) -> Result<Observed, Stop> {
    observed.map_err(|s| s.demanded_by(rule, &format!("actor {actor}: {what} must return")))
}

/// Runs a [`HammerCase`]; reports how many plain increments were lost.
pub fn run_hammer(case: &HammerCase, timing: Timing) -> CaseReport<SyncEvent> {
    crate::case::run_in_session(timing, |session, report| drive_hammer(case, session, report))
}

fn drive_hammer(
    case: &HammerCase,
    session: &mut Session,
    report: &mut CaseReport<SyncEvent>,
) -> Result<CaseOutcome, Stop> {
    let n = case.processes.len();
    if !(1..=8).contains(&n) {
        return Err(Stop::harness(format!("a hammer case needs 1 to 8 processes, not {n}")));
    }
    if case.processes.iter().any(|p| p.count > MAX_COUNT) {
        return Err(Stop::harness(format!("a hammer case of more than {MAX_COUNT} increments per process")));
    }
    let name = ShmName::fresh();
    let maps = shared_cast(session, name.as_str(), n, round_up(hammer::SIZE))?;
    for (a, p) in case.processes.iter().enumerate() {
        let plan = HammerPlan {
            map: maps[a],
            processes: n as u32,
            count: p.count,
            pauses: p.pauses.clone(),
            pause_inside: p.pause_inside,
        };
        session.start(ActorId(a), &Request::Shm(ShmOp::Hammer(plan)))?;
    }
    let total = case.total();
    for (a, p) in case.processes.iter().enumerate() {
        let observed = must(session.complete(ActorId(a)), a, "hammering the counters", rules::NO_LOST_UPDATES)?;
        let e = SyncEvent::Step { index: a, actor: a as u8, op: SyncOp::Hammered { count: p.count }, observed };
        let v = judge_hammer(total, &e);
        report.events.push(e);
        if let Err(v) = v {
            return Ok(fail(v));
        }
    }
    let mut failure = None;
    for (i, (counter, offset)) in
        [(Counter::Atomic, hammer::ATOMIC), (Counter::Locked, hammer::LOCKED), (Counter::Plain, hammer::PLAIN)]
            .into_iter()
            .enumerate()
    {
        let observed = session.call(ActorId(0), &Request::Shm(ShmOp::Load { map: maps[0], offset }))?;
        if counter == Counter::Plain {
            if let Some(v) = one_value(&observed) {
                // Evidence of why synchronization is needed, not a verdict:
                // the count of the first says in how many runs, the range of
                // the second how many increments plain load+store lost.
                let lost = total.saturating_sub(v);
                report.observations.push((UNSYNC_LOST.into(), lost));
                if lost > 0 {
                    report.observations.push((UNSYNC_LOSING_RUNS.into(), lost));
                }
            }
        }
        let e = SyncEvent::Step { index: n + i, actor: 0, op: SyncOp::Load(counter), observed };
        if failure.is_none() {
            failure = judge_hammer(total, &e).err();
        }
        report.events.push(e);
    }
    drop(name);
    Ok(failure.map(fail).unwrap_or(CaseOutcome::Pass))
}

/// Runs a [`PublishCase`].
pub fn run_publish(case: &PublishCase, timing: Timing) -> CaseReport<SyncEvent> {
    crate::case::run_in_session(timing, |session, report| drive_publish(case, session, &mut report.events))
}

fn drive_publish(case: &PublishCase, session: &mut Session, events: &mut Vec<SyncEvent>) -> Result<CaseOutcome, Stop> {
    let (words, count) = match case {
        PublishCase::Flag { words, rounds, .. } => (*words, *rounds),
        PublishCase::Ring { slots, words, messages, .. } => (slots.saturating_mul(*words), *messages),
    };
    if words > MAX_WORDS || count > MAX_COUNT {
        return Err(Stop::harness(format!(
            "a publish case of {words} words and {count} rounds or messages is outside the generator's range (at most {MAX_WORDS} and {MAX_COUNT})"
        )));
    }
    let name = ShmName::fresh();
    let (len, consumer_op, producer_op) = match case {
        PublishCase::Flag { words, rounds, producer_pauses, consumer_pauses } => {
            let plan =
                |pauses: &Vec<u32>| PublishPlan { map: 0, words: *words, rounds: *rounds, pauses: pauses.clone() };
            (
                64 + 8 * u64::from(*words),
                (ShmOp::Observe(plan(consumer_pauses)), SyncOp::Observed { rounds: *rounds }),
                ShmOp::Publish(plan(producer_pauses)),
            )
        }
        PublishCase::Ring { slots, words, messages, producer_pauses, consumer_pauses } => {
            let plan = |pauses: &Vec<u32>| RingPlan {
                map: 0,
                slots: *slots,
                words: *words,
                messages: *messages,
                pauses: pauses.clone(),
            };
            (
                8 * super::ring::words_needed(*slots, *words) as u64,
                (ShmOp::RingRecv(plan(consumer_pauses)), SyncOp::Received { messages: *messages }),
                ShmOp::RingSend(plan(producer_pauses)),
            )
        }
    };
    let maps = shared_cast(session, name.as_str(), 2, round_up(len))?;
    if maps != [0, 0] {
        return Err(Stop::harness(format!("unexpected mapping numbers {maps:?}")));
    }
    let (consumer, producer) = (ActorId(1), ActorId(0));
    session.start(consumer, &Request::Shm(consumer_op.0))?;
    session.start(producer, &Request::Shm(producer_op))?;
    let observed = must(session.complete(producer), 0, "the producer", rules::PUBLISH)?;
    events.push(SyncEvent::Step { index: 0, actor: 0, op: SyncOp::Published, observed: observed.clone() });
    if observed != Observed::Returned(Reply::Done) {
        return Ok(fail(Violation::new(
            rules::PUBLISH,
            format!("the producer did not finish: {}", super::show(&observed)),
        )));
    }
    let observed = must(session.complete(consumer), 1, "the consumer", rules::PUBLISH)?;
    let e = SyncEvent::Step { index: 1, actor: 1, op: consumer_op.1, observed };
    let v = judge_publish(case, &e);
    events.push(e);
    drop(name);
    Ok(v.err().map(fail).unwrap_or(CaseOutcome::Pass))
}

/// Runs a [`WakeCase`].
pub fn run_wake(case: &WakeCase, timing: Timing) -> CaseReport<SyncEvent> {
    crate::case::run_in_session(timing, |session, report| drive_wake(case, session, &mut report.events))
}

fn drive_wake(case: &WakeCase, session: &mut Session, events: &mut Vec<SyncEvent>) -> Result<CaseOutcome, Stop> {
    let name = ShmName::fresh();
    create_doorbell(name.as_str()).map_err(|e| Stop::io("creating the doorbell semaphore", e))?;
    let waiters = case.waiters.clamp(1, 6);
    let n = 1 + waiters as usize;
    let maps = shared_cast(session, name.as_str(), n, round_up(64))?;
    let mut judge = WakeJudge::default();
    let mut index = 0;
    let push = |events: &mut Vec<SyncEvent>, judge: &mut WakeJudge, e: SyncEvent| {
        let v = judge.apply(&e);
        events.push(e);
        v
    };
    for round in 1..=case.rounds.max(1) {
        for (w, map) in maps.iter().enumerate().skip(1) {
            let op = ShmOp::WaitPosted { map: *map, offset: 0, name: name.as_str().to_string() };
            let site = BlockSite { kind: SyscallKind::Futex, fd: None };
            let observed = must(session.invoke(ActorId(w), &Request::Shm(op), site), w, "the wait", rules::WAIT_WAKE)?;
            let e = SyncEvent::Step { index, actor: w as u8, op: SyncOp::Wait { round }, observed };
            index += 1;
            if let Err(v) = push(events, &mut judge, e) {
                return Ok(fail(v));
            }
        }
        let op = ShmOp::Post {
            map: maps[0],
            offset: 0,
            value: u32::from(round),
            name: name.as_str().to_string(),
            waiters: u32::from(waiters),
        };
        let observed = must(session.call(ActorId(0), &Request::Shm(op)), 0, "the post", rules::WAIT_WAKE)?;
        let e = SyncEvent::Step { index, actor: 0, op: SyncOp::Post { round, waiters }, observed };
        index += 1;
        if let Err(v) = push(events, &mut judge, e) {
            return Ok(fail(v));
        }
        for w in 1..n {
            let observed = must(session.complete(ActorId(w)), w, "a posted wait", rules::WAIT_WAKE)?;
            let e = SyncEvent::Step { index, actor: w as u8, op: SyncOp::Woken { round }, observed };
            index += 1;
            if let Err(v) = push(events, &mut judge, e) {
                return Ok(fail(v));
            }
        }
        let observed = session.call(ActorId(0), &Request::Shm(ShmOp::Store { map: maps[0], offset: 0, value: 0 }))?;
        if observed != Observed::Returned(Reply::Done) {
            return Err(Stop::harness(format!("resetting the word: {}", super::show(&observed))));
        }
        let e = SyncEvent::Step { index, actor: 0, op: SyncOp::Reset, observed };
        index += 1;
        let _ = push(events, &mut judge, e);
    }
    drop(name);
    Ok(CaseOutcome::Pass)
}
