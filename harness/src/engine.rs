//! The one case engine: the step loop every schedule-driven mechanism runs
//! (pipes, socket pairs, file locks), written once.
//!
//! A mechanism supplies its set-up (actors and the objects they hold), how
//! a step becomes a request and where it may block ([`Mechanism`]), and its
//! reference model ([`Checker`]). For each step the engine then: collects
//! what completed meanwhile, checks the precondition, invokes, waits for a
//! return or for proof that the call blocked, feeds the observation to the
//! model, and settles what the model says must now complete. What is not
//! an observation of the host (a missing return, a death the schedule did
//! not ask for, a broken control channel) leaves this loop as a
//! [`Stop`], which [`crate::case::run_in_session`] classifies.
//!
//! One rule about evidence lives here too: an objection the model raises
//! against an observation that rests on a bounded wait alone (no view of
//! the actor's thread) is `unresolved`, never `fail`.

use crate::case::{CaseOutcome, CaseReport, Stop};
use crate::checker::{Checker, Event, Violation};
use crate::evidence::BlockSite;
use crate::observed::Observed;
use crate::protocol::Request;
use crate::session::{ActorId, Session};
use crate::timing::Timing;
use std::fmt;

/// How one step reaches the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invocation {
    /// An operation that may block, and where it would be found asleep.
    MayBlock(Request, BlockSite),
    /// An operation that must complete.
    Call(Request),
    /// The actor exits (`_exit(code)`), as the schedule asks.
    Exit(i32),
    /// The coordinator kills the actor (`SIGKILL`), as the schedule asks.
    Kill,
}

/// What a schedule-driven mechanism supplies to the engine.
pub trait Mechanism {
    /// One operation of a step.
    type Op: Clone + fmt::Display;
    /// The reference model that judges every observation (cloned to take
    /// an observation back: see [`drive`]).
    type Model: Checker<Op = Self::Op> + Clone;

    /// The steps, in order: `(actor, operation)`.
    fn steps(&self) -> Vec<(u8, Self::Op)>;

    /// Starts the actors and hands them the objects under test.
    fn set_up(&mut self, session: &mut Session) -> Result<(), Stop>;

    /// How `actor`'s `op` becomes a request now (the model knows, for
    /// example, the stream position a write continues from).
    fn invocation(&self, model: &Self::Model, actor: u8, op: &Self::Op) -> Result<Invocation, Stop>;

    /// Bookkeeping after a step was observed (descriptors opened or
    /// closed); nothing by default.
    fn observed(&mut self, _actor: u8, _op: &Self::Op, _observed: &Observed) {}

    /// The entry point (C library function) an operation goes through,
    /// for those a rule checks through several; none by default.
    fn entry_point(&self, _op: &Self::Op) -> Option<&'static str> {
        None
    }

    /// How the case's object was made (its creator, and how its ends were
    /// made non-blocking, each counted as an entry point once per case
    /// that set it up), for mechanisms with several; none by default.
    fn made_by(&self) -> Vec<&'static str> {
        Vec::new()
    }
}

/// The prefix of the observations that count a case's calls through each
/// entry point (`entry point: readv`), so that the report shows, rule by
/// rule, which entry points its cases used.
pub const ENTRY_POINT_OBSERVED: &str = "entry point: ";

/// The part of a case that its schedule alone decides (who is alive, who
/// holds what): which steps can be issued at all. Generators keep only
/// such steps ([`keep_issuable`]), so that a schedule, also a shrunk one,
/// never holds a step that could not run, and a replayed one is refused if
/// it does ([`first_unissuable`]). What the host decides (an actor still
/// blocked in an earlier call) is left to the run.
pub trait Skeleton<S> {
    /// Whether `step` can be issued now; if so, applies its effect.
    fn admit(&mut self, step: &S) -> Result<(), &'static str>;
}

/// One step of a schedule: an actor of the cast and its operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Step<O> {
    /// The actor.
    pub actor: u8,
    /// What it does.
    pub op: O,
}

/// Who is alive and who still holds its object (or descriptor), as far as
/// a schedule alone decides: the common part of every [`Skeleton`].
#[derive(Clone, Debug)]
pub struct Cast {
    /// Per actor: alive.
    pub alive: Vec<bool>,
    /// Per actor: still holds what it was given.
    pub holds: Vec<bool>,
}

impl Cast {
    /// `actors` actors, all alive and holding.
    pub fn new(actors: u8) -> Cast {
        Cast { alive: vec![true; usize::from(actors)], holds: vec![true; usize::from(actors)] }
    }

    /// `Err` unless `actor` is alive.
    pub fn live(&self, actor: u8) -> Result<(), &'static str> {
        match self.alive[usize::from(actor)] {
            true => Ok(()),
            false => Err("the actor has ended"),
        }
    }

    /// `Err` unless `actor` still holds what it was given.
    pub fn holding(&self, actor: u8) -> Result<(), &'static str> {
        match self.holds[usize::from(actor)] {
            true => Ok(()),
            false => Err("the actor has closed its end"),
        }
    }
}

/// Keeps the steps that `skeleton` admits, each addressed to an actor of
/// the cast of `actors` (a generated actor number wraps once, here, so the
/// schedule shows the actor that runs the step).
pub fn keep_issuable<O>(steps: &mut Vec<Step<O>>, actors: u8, mut skeleton: impl Skeleton<Step<O>>) {
    let n = actors.max(1);
    steps.retain_mut(|step| {
        step.actor %= n;
        skeleton.admit(step).is_ok()
    });
}

/// The first step that [`keep_issuable`] would drop, and why.
pub fn first_unissuable<O>(
    steps: &[Step<O>],
    actors: u8,
    mut skeleton: impl Skeleton<Step<O>>,
) -> Option<(usize, &'static str)> {
    steps.iter().enumerate().find_map(|(i, step)| {
        if step.actor >= actors {
            return Some((i, "no such actor in the cast"));
        }
        skeleton.admit(step).err().map(|why| (i, why))
    })
}

/// The usual set-up of a two-ended object: starts `actors` actors, then
/// (no fork anywhere meanwhile: a forked child would hold a hidden copy of
/// an end) creates the object with `create`, hands end `end_of(actor)` to
/// each actor and closes the coordinator's copies, so that from then on
/// only the actors hold ends and EOF, EPIPE and the like depend on them
/// alone. Returns each actor's descriptor number.
pub fn hand_out_ends(
    session: &mut Session,
    actors: u8,
    create: impl FnOnce() -> Result<[std::os::fd::OwnedFd; 2], Stop>,
    end_of: impl Fn(u8) -> usize,
) -> Result<Vec<i32>, Stop> {
    use std::os::fd::AsFd;
    let ids = (0..actors).map(|_| session.spawn()).collect::<Result<Vec<_>, _>>()?;
    let _quiet = crate::os::process::quiet_forks();
    let ends = create()?;
    let mut fds = Vec::new();
    for (a, id) in ids.iter().enumerate() {
        fds.push(session.hand(*id, &[ends[end_of(a as u8)].as_fd()])?[0]);
    }
    Ok(fds)
}

/// Runs one case of mechanism `m` judged by `model`, in a fresh session.
pub fn run<M: Mechanism>(mut m: M, mut model: M::Model, timing: Timing) -> CaseReport<Event<M::Op>> {
    let mut report =
        crate::case::run_in_session(timing, |session, report| drive(&mut m, session, &mut model, &mut report.events));
    report.observations = model.observations();
    let mut calls: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    if !report.events.is_empty() {
        calls.extend(m.made_by().into_iter().map(|name| (name, 1)));
    }
    for event in &report.events {
        if let Some(name) = match event {
            Event::Step { op, .. } => m.entry_point(op),
            _ => None,
        } {
            *calls.entry(name).or_default() += 1;
        }
    }
    report.observations.extend(calls.into_iter().map(|(name, n)| (format!("{ENTRY_POINT_OBSERVED}{name}"), n)));
    report
}

/// The step loop.
pub fn drive<M: Mechanism>(
    m: &mut M,
    session: &mut Session,
    model: &mut M::Model,
    events: &mut Vec<Event<M::Op>>,
) -> Result<CaseOutcome, Stop> {
    m.set_up(session)?;
    for (index, (actor, op)) in m.steps().into_iter().enumerate() {
        if let Some(outcome) = collect(session, model, events)? {
            return Ok(outcome);
        }
        if let Err(why) = model.can_issue(actor, &op) {
            events.push(Event::Skipped { index, actor, op, why: why.to_string() });
            continue;
        }
        let id = ActorId(actor as usize);
        let at = |stop: Stop| stop.at(format_args!("step {}, actor {actor}: {op}", index + 1));
        let observed = match m.invocation(model, actor, &op).map_err(at)? {
            Invocation::MayBlock(request, site) => session.invoke(id, &request, site),
            Invocation::Call(request) => session.call(id, &request),
            Invocation::Exit(code) => session.exit(id, code).map(Observed::Died),
            Invocation::Kill => session.kill(id).map(Observed::Died),
        }
        .map_err(at)?;
        m.observed(actor, &op, &observed);
        let before = observed.rests_on_timeout().then(|| model.clone());
        let event = Event::Step { index, actor, op: op.clone(), observed };
        let mut verdict = model.apply(&event);
        let mut grounds = grounds(&event);
        events.push(event);
        if let (Err(_), Some(before)) = (&verdict, before) {
            // With no view of the thread, "blocked" only meant "no reply
            // yet", and the model objects: wait for the reply after all.
            // A slow return is judged as the return it is.
            *model = before;
            events.pop();
            let observed = session.complete(id).map_err(at)?;
            m.observed(actor, &op, &observed);
            let event = Event::Step { index, actor, op, observed };
            verdict = model.apply(&event);
            grounds = self::grounds(&event);
            events.push(event);
        }
        if let Err(v) = verdict {
            return Ok(judged(v, grounds));
        }
        if let Some(outcome) = settle(session, model, events)? {
            return Ok(outcome);
        }
    }
    Ok(collect(session, model, events)?.unwrap_or(CaseOutcome::Pass))
}

/// Whether an event's observation rests on a bounded wait alone.
fn grounds<O>(event: &Event<O>) -> bool {
    match event {
        Event::Step { observed, .. } | Event::Completion { observed, .. } => observed.rests_on_timeout(),
        Event::Skipped { .. } => false,
    }
}

/// A violation as the case's outcome: `fail`, unless the observation it
/// objects to rests on a timeout alone (then `unresolved`).
pub fn judged(v: Violation, on_timeout: bool) -> CaseOutcome {
    if on_timeout {
        return CaseOutcome::Unresolved(format!(
            "{v} (the observation rests on a bounded wait alone, no view of the actor's thread: not grounds for a fail)"
        ));
    }
    v.into()
}

fn completed<C: Checker>(
    checker: &mut C,
    events: &mut Vec<Event<C::Op>>,
    actor: u8,
    observed: Observed,
) -> Option<CaseOutcome> {
    let event = Event::Completion { actor, observed };
    let verdict = checker.apply(&event);
    let on_timeout = grounds(&event);
    events.push(event);
    verdict.err().map(|v| judged(v, on_timeout))
}

/// Feeds the model every completion that has arrived, without waiting,
/// then [`settle`]s.
pub fn collect<C: Checker>(
    session: &mut Session,
    checker: &mut C,
    events: &mut Vec<Event<C::Op>>,
) -> Result<Option<CaseOutcome>, Stop> {
    for a in 0..session.len() {
        let id = ActorId(a);
        if session.busy(id) {
            if let Some(observed) = session.poll(id)? {
                if let Some(outcome) = completed(checker, events, a as u8, observed) {
                    return Ok(Some(outcome));
                }
            }
        }
    }
    settle(session, checker, events)
}

/// Waits, as long as the model names pending operations that must
/// complete, for one of each set to complete; a set none of whose
/// operations returns within the deadline is `hung`, with the rule that
/// demanded it and the actors' wait states.
pub fn settle<C: Checker>(
    session: &mut Session,
    checker: &mut C,
    events: &mut Vec<Event<C::Op>>,
) -> Result<Option<CaseOutcome>, Stop> {
    loop {
        let Some(ob) = checker.obligations().into_iter().next() else { return Ok(None) };
        let ids: Vec<ActorId> = ob.actors.iter().map(|a| ActorId(*a as usize)).collect();
        if let Some(id) = ids.iter().find(|id| !session.busy(**id)) {
            return Err(Stop::harness(format!("model and session disagree: {id} is not busy but {}", ob.why)));
        }
        match session.complete_any(&ids)? {
            Some((id, observed)) => {
                if let Some(outcome) = completed(checker, events, id.0 as u8, observed) {
                    return Ok(Some(outcome));
                }
            }
            None => {
                let states: Vec<String> = ids
                    .iter()
                    .map(|id| {
                        let ws = session.wait_state(*id);
                        format!("{id}: {}", ws.map(|w| w.to_string()).unwrap_or_else(|| "no wait state".into()))
                    })
                    .collect();
                return Err(Stop::hung(
                    Some(ob.rule),
                    format!("{}, but none returned within the deadline ({})", ob.why, states.join("; ")),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_objection_resting_on_a_timeout_alone_is_unresolved_not_fail() {
        let v = crate::checker::violation(&[crate::pipe::rules::READ_BLOCKS], "read blocked with 3 bytes buffered");
        assert!(matches!(judged(v.clone(), false), CaseOutcome::Fail { .. }));
        match judged(v, true) {
            CaseOutcome::Unresolved(why) => assert!(why.contains("bounded wait"), "{why}"),
            other => panic!("a timeout grounded {other:?}"),
        }
    }

    #[test]
    fn an_observation_rests_on_a_timeout_only_when_its_evidence_is_one() {
        use crate::evidence::Evidence;
        let step = |observed| Event::Step { index: 0, actor: 0, op: (), observed };
        assert!(grounds(&step(Observed::Blocked(Evidence::Timeout { waited_ms: 200, refused: None }))));
        assert!(!grounds(&step(Observed::Blocked(Evidence::ThreadState("waiting".into())))));
        assert!(!grounds(&step(Observed::Returned(crate::protocol::Reply::Done))));
    }
}
