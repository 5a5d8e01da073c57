//! The reference model of a signal case, and with it the checker (the
//! semantics are those written in `spec/rules/signal.toml`).
//!
//! Each target catches every signal of the case with a handler that
//! records each delivery, and handlers block each other, so deliveries
//! run one at a time in the order the kernel hands them out. A signal
//! sent to a target with it unblocked is delivered by the time the
//! target's next step starts (it is pending before the target wakes for
//! that step); several sends of a standard signal between two steps of
//! the target may be delivered once or up to once each. A signal sent
//! while blocked stays pending: a standard one once however often it was
//! sent, a real-time one queued each time with its value. Unblocking
//! delivers what is pending before the call returns: each pending
//! standard signal exactly once, every queued real-time signal, lowest
//! number first and in sending order within a number.
//!
//! At each report the model checks, for the deliveries since the last:
//! each standard signal's count within what the sends allow
//! (`signal.pending.coalesce`); every real-time signal sent delivered
//! exactly once with its value, in sending order within a number, and
//! those released by one unblock in the order owed
//! (`signal.queue.realtime`).

use super::rules;
use super::{Op, Setup};
use crate::checker::{describe, violation, Checker, Event, Obligation, Violation};
use crate::observed::Observed;
use crate::os::signal::Sig;
use crate::protocol::Reply;
use std::collections::BTreeMap;

/// What one target is owed.
#[derive(Clone, Debug, Default)]
struct Target {
    /// Signals it blocks.
    blocked: Vec<Sig>,
    /// Standard signals pending (sent while blocked).
    pending: Vec<Sig>,
    /// Standard signals set to `SIG_IGN`.
    ignored: Vec<Sig>,
    /// Standard signals sent while blocked and ignored: whether they stay
    /// pending is unspecified (POSIX), so they may be delivered once
    /// caught again and unblocked.
    maybe: Vec<Sig>,
    /// Since the last report: standard signals whose owed count an
    /// ignore decided (a finding about them is `signal.deliver`'s).
    involved: Vec<Sig>,
    /// Real-time signals queued while blocked, in sending order.
    queued: Vec<(Sig, i64)>,
    /// Standard signals sent while unblocked since its last step.
    burst: BTreeMap<Sig, u64>,
    /// Since the last report: per standard signal, the least and most
    /// deliveries owed.
    owed: BTreeMap<Sig, (u64, u64)>,
    /// Since the last report: every real-time signal owed, in sending order.
    rt_owed: Vec<(Sig, i64)>,
    /// Since the last report: the real-time signals each unblock released,
    /// in the order owed.
    batches: Vec<Vec<(Sig, i64)>>,
}

impl Target {
    /// A step of the target begins: what was sent to it unblocked is
    /// delivered by now.
    fn settle(&mut self) {
        for (sig, n) in std::mem::take(&mut self.burst) {
            let o = self.owed.entry(sig).or_default();
            o.0 += 1;
            o.1 += n;
        }
    }
}

/// The reference model of one signal case.
#[derive(Clone, Debug)]
pub struct SignalModel {
    setup: Setup,
    targets: Vec<Target>,
    /// The next value a `sigqueue` carries.
    next_value: i64,
    /// Deliveries judged (an observation).
    judged: u64,
}

/// The name of the observation counting deliveries judged.
pub const DELIVERIES_OBSERVED: &str = "deliveries judged";

impl SignalModel {
    /// Nothing blocked, nothing pending.
    pub fn new(setup: &Setup) -> SignalModel {
        SignalModel {
            setup: setup.clone(),
            targets: vec![Target::default(); usize::from(setup.targets)],
            next_value: 0,
            judged: 0,
        }
    }

    /// The value the next `sigqueue` carries.
    pub fn next_value(&self) -> i64 {
        self.next_value
    }

    fn unblock(&mut self, t: usize, sigs: &[Sig]) {
        let target = &mut self.targets[t];
        target.blocked.retain(|s| !sigs.contains(s));
        for sig in sigs {
            if let Some(i) = target.pending.iter().position(|p| p == sig) {
                target.pending.remove(i);
                let o = target.owed.entry(*sig).or_default();
                o.0 += 1;
                o.1 += 1;
            }
            if let Some(i) = target.maybe.iter().position(|p| p == sig) {
                target.maybe.remove(i);
                if !target.ignored.contains(sig) {
                    target.owed.entry(*sig).or_default().1 += 1;
                }
            }
        }
        let (mut released, kept): (Vec<_>, Vec<_>) = target.queued.iter().copied().partition(|(s, _)| sigs.contains(s));
        target.queued = kept;
        // Lowest number first (Sig's order is the numbers' order), in
        // sending order within a number (a stable sort).
        released.sort_by_key(|(s, _)| *s);
        target.rt_owed.extend(released.iter().copied());
        if released.len() > 1 {
            target.batches.push(released);
        }
    }

    fn sent(&mut self, sig: Sig, to: u8, value: Option<i64>) {
        let target = &mut self.targets[usize::from(to)];
        let blocked = target.blocked.contains(&sig);
        if target.ignored.contains(&sig) {
            // Discarded; blocked, perhaps kept pending until unblocked.
            if !target.involved.contains(&sig) {
                target.involved.push(sig);
            }
            if blocked && !target.maybe.contains(&sig) && !target.pending.contains(&sig) {
                target.maybe.push(sig);
            }
            return;
        }
        match (value, blocked) {
            (Some(v), true) => target.queued.push((sig, v)),
            (Some(v), false) => target.rt_owed.push((sig, v)),
            (None, true) => {
                if !target.pending.contains(&sig) {
                    target.pending.push(sig);
                }
            }
            (None, false) => *target.burst.entry(sig).or_default() += 1,
        }
    }

    fn report(&mut self, t: usize, values: &[i64]) -> Result<(), Violation> {
        let target = std::mem::take(&mut self.targets[t]);
        self.targets[t] = Target {
            blocked: target.blocked.clone(),
            pending: target.pending.clone(),
            queued: target.queued.clone(),
            ignored: target.ignored.clone(),
            maybe: target.maybe.clone(),
            ..Target::default()
        };
        if !values.len().is_multiple_of(2) {
            return Err(violation(&[rules::COALESCE], format!("target {t} reported {values:?}, not pairs")));
        }
        let mut standard: BTreeMap<Sig, u64> = BTreeMap::new();
        let mut rt: Vec<(Sig, i64)> = Vec::new();
        for pair in values.chunks(2) {
            let Some(sig) = i32::try_from(pair[0]).ok().and_then(Sig::of) else {
                return Err(violation(
                    &[rules::COALESCE],
                    format!("target {t} recorded signal {}, not one sent", pair[0]),
                ));
            };
            if sig.realtime() {
                rt.push((sig, pair[1]));
            } else {
                *standard.entry(sig).or_default() += 1;
            }
        }
        self.judged += (values.len() / 2) as u64;
        for sig in Sig::ALL.into_iter().filter(|s| !s.realtime()) {
            let got = standard.get(&sig).copied().unwrap_or(0);
            let (lo, hi) = target.owed.get(&sig).copied().unwrap_or((0, 0));
            if !(lo..=hi).contains(&got) {
                let owed = if lo == hi { format!("{lo}") } else { format!("{lo} to {hi}") };
                if target.involved.contains(&sig) {
                    return Err(violation(
                        &[rules::DELIVER],
                        format!(
                            "target {t}'s handler ran {got} time(s) for {sig} since the last report; owed {owed} (a signal set to SIG_IGN is discarded, and setting SIG_IGN discards it pending)"
                        ),
                    ));
                }
                return Err(violation(
                    &[rules::COALESCE],
                    format!(
                        "target {t}'s handler ran {got} time(s) for {sig} since the last report; owed {owed} (a standard signal pending while blocked is delivered once)"
                    ),
                ));
            }
        }
        let fail = |why: String| Err(violation(&[rules::REALTIME], format!("target {t}: {why}")));
        let mut want = target.rt_owed.clone();
        want.sort_by_key(|(_, v)| *v);
        let mut got = rt.clone();
        got.sort_by_key(|(_, v)| *v);
        if got != want {
            let missing: Vec<String> =
                want.iter().filter(|w| !got.contains(w)).map(|(s, v)| format!("{s} with {v}")).collect();
            let extra: Vec<String> =
                got.iter().filter(|g| !want.contains(g)).map(|(s, v)| format!("{s} with {v}")).collect();
            return fail(format!(
                "the real-time signals delivered are not those queued (missing: [{}]; not owed or twice: [{}])",
                missing.join(", "),
                extra.join(", ")
            ));
        }
        for sig in Sig::ALL.into_iter().filter(|s| s.realtime()) {
            let order: Vec<i64> = rt.iter().filter(|(s, _)| *s == sig).map(|(_, v)| *v).collect();
            if order.windows(2).any(|w| w[0] > w[1]) {
                return fail(format!("{sig} delivered with values {order:?}: not in the order queued"));
            }
        }
        for batch in &target.batches {
            let seen: Vec<(Sig, i64)> = rt.iter().copied().filter(|d| batch.contains(d)).collect();
            if &seen != batch {
                let show = |l: &[(Sig, i64)]| l.iter().map(|(s, v)| format!("{s}:{v}")).collect::<Vec<_>>().join(" ");
                return fail(format!(
                    "one unblock released [{}] but they were delivered as [{}] (lowest number first, in queue order within one)",
                    show(batch),
                    show(&seen)
                ));
            }
        }
        Ok(())
    }
}

impl Checker for SignalModel {
    type Op = Op;

    fn can_issue(&self, _actor: u8, _op: &Op) -> Result<(), &'static str> {
        Ok(())
    }

    fn apply(&mut self, event: &Event<Op>) -> Result<(), Violation> {
        let (a, op, observed) = match event {
            Event::Step { actor, op, observed, .. } => (*actor, *op, observed),
            Event::Skipped { .. } => return Ok(()),
            Event::Completion { actor, observed } => {
                return Err(violation(
                    &[rules::COALESCE],
                    format!("actor {actor}: a completion although nothing was pending: {}", describe(observed)),
                ))
            }
        };
        let rule = match op {
            Op::Queue { .. } => rules::REALTIME,
            Op::Ignore(_) | Op::Catch(_) | Op::Uncatchable => rules::DELIVER,
            _ => rules::COALESCE,
        };
        let Observed::Returned(reply) = observed else {
            return Err(violation(&[rule], format!("{op}: {}", describe(observed))));
        };
        if self.setup.is_target(a) {
            self.targets[usize::from(a)].settle();
        }
        match (op, reply) {
            (Op::Block(s), Reply::Done) => {
                let t = &mut self.targets[usize::from(a)];
                for x in s.list() {
                    if !t.blocked.contains(&x) {
                        t.blocked.push(x);
                    }
                }
                Ok(())
            }
            (Op::Unblock(s), Reply::Done) => {
                self.unblock(usize::from(a), &s.list());
                Ok(())
            }
            (Op::Send { sig, to }, Reply::Done) => {
                self.sent(sig, to, None);
                Ok(())
            }
            (Op::Queue { sig, to }, Reply::Done) => {
                let v = self.next_value;
                self.next_value += 1;
                self.sent(sig, to, Some(v));
                Ok(())
            }
            (Op::Take, Reply::Values(v)) => self.report(usize::from(a), v),
            (Op::Ignore(s), Reply::Done) => {
                let t = &mut self.targets[usize::from(a)];
                for x in s.list() {
                    // Setting SIG_IGN discards a pending signal, blocked or not.
                    if t.pending.contains(&x) || t.maybe.contains(&x) {
                        t.pending.retain(|p| *p != x);
                        t.maybe.retain(|p| *p != x);
                    }
                    if !t.involved.contains(&x) {
                        t.involved.push(x);
                    }
                    if !t.ignored.contains(&x) {
                        t.ignored.push(x);
                    }
                }
                Ok(())
            }
            (Op::Catch(s), Reply::Done) => {
                let t = &mut self.targets[usize::from(a)];
                t.ignored.retain(|x| !s.has(*x));
                Ok(())
            }
            (Op::Uncatchable, Reply::Values(v)) => {
                let einval = i64::from(libc::EINVAL);
                match v[..] {
                    [a, b, c, kill, stop] if a == einval && b == einval && c == einval && kill == 0 && stop == 0 => Ok(()),
                    _ => Err(violation(
                        &[rules::DELIVER],
                        format!(
                            "SIGKILL and SIGSTOP: sigaction(SIGKILL, handler), sigaction(SIGKILL, SIG_IGN), sigaction(SIGSTOP, SIG_IGN) gave errno {v:?}[..3] and the mask read back holds SIGKILL {}, SIGSTOP {}; expected EINVAL three times and neither in the mask",
                            v.get(3).copied().unwrap_or(-1),
                            v.get(4).copied().unwrap_or(-1)
                        ),
                    )),
                }
            }
            (op, other) => Err(violation(&[rule], format!("{op}: {}", describe(&Observed::Returned(other.clone()))))),
        }
    }

    fn obligations(&self) -> Vec<Obligation> {
        Vec::new()
    }

    fn observations(&self) -> Vec<(String, u64)> {
        vec![(DELIVERIES_OBSERVED.to_string(), self.judged)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::Sigs;

    fn step(m: &mut SignalModel, actor: u8, op: Op, reply: Reply) -> Result<(), Violation> {
        m.apply(&Event::step(0, actor, op, Observed::Returned(reply)))
    }

    fn model() -> SignalModel {
        SignalModel::new(&Setup { targets: 1, senders: 1 })
    }

    fn n(s: Sig) -> i64 {
        i64::from(s.number().unwrap_or(0))
    }

    #[test]
    fn a_standard_signal_sent_while_blocked_is_delivered_once() {
        let mut m = model();
        let usr1 = Sigs::of(&[Sig::Usr1]);
        step(&mut m, 0, Op::Block(usr1), Reply::Done).unwrap();
        for _ in 0..3 {
            step(&mut m, 1, Op::Send { sig: Sig::Usr1, to: 0 }, Reply::Done).unwrap();
        }
        let v = step(&mut m.clone(), 0, Op::Take, Reply::Values(vec![n(Sig::Usr1), -1])).unwrap_err();
        assert_eq!(v.rules, vec![rules::COALESCE], "delivered while blocked");
        step(&mut m, 0, Op::Unblock(usr1), Reply::Done).unwrap();
        let twice = vec![n(Sig::Usr1), -1, n(Sig::Usr1), -1];
        assert!(step(&mut m.clone(), 0, Op::Take, Reply::Values(twice)).is_err(), "coalesced: once");
        assert!(step(&mut m.clone(), 0, Op::Take, Reply::Values(vec![])).is_err(), "lost");
        step(&mut m, 0, Op::Take, Reply::Values(vec![n(Sig::Usr1), -1])).unwrap();
        // Unblocked: two sends between the target's steps, once or twice.
        step(&mut m, 1, Op::Send { sig: Sig::Usr1, to: 0 }, Reply::Done).unwrap();
        step(&mut m, 1, Op::Send { sig: Sig::Usr1, to: 0 }, Reply::Done).unwrap();
        step(&mut m.clone(), 0, Op::Take, Reply::Values(vec![n(Sig::Usr1), -1])).unwrap();
        step(&mut m, 0, Op::Take, Reply::Values(vec![n(Sig::Usr1), -1, n(Sig::Usr1), -1])).unwrap();
    }

    #[test]
    fn an_ignored_signal_is_discarded_even_when_pending_and_sigkill_stays_uncatchable() {
        let mut m = model();
        let usr1 = Sigs::of(&[Sig::Usr1]);
        step(&mut m, 0, Op::Ignore(usr1), Reply::Done).unwrap();
        step(&mut m, 1, Op::Send { sig: Sig::Usr1, to: 0 }, Reply::Done).unwrap();
        let v = step(&mut m.clone(), 0, Op::Take, Reply::Values(vec![n(Sig::Usr1), -1])).unwrap_err();
        assert_eq!(v.rules, vec![rules::DELIVER], "delivered while ignored");
        step(&mut m, 0, Op::Catch(usr1), Reply::Done).unwrap();
        step(&mut m, 0, Op::Take, Reply::Values(vec![])).unwrap();
        step(&mut m, 0, Op::Block(usr1), Reply::Done).unwrap();
        step(&mut m, 1, Op::Send { sig: Sig::Usr1, to: 0 }, Reply::Done).unwrap();
        step(&mut m, 0, Op::Ignore(usr1), Reply::Done).unwrap();
        step(&mut m, 0, Op::Catch(usr1), Reply::Done).unwrap();
        step(&mut m, 0, Op::Unblock(usr1), Reply::Done).unwrap();
        assert!(step(&mut m.clone(), 0, Op::Take, Reply::Values(vec![n(Sig::Usr1), -1])).is_err(), "discarded");
        step(&mut m, 0, Op::Take, Reply::Values(vec![])).unwrap();
        let einval = i64::from(libc::EINVAL);
        step(&mut m, 0, Op::Uncatchable, Reply::Values(vec![einval, einval, einval, 0, 0])).unwrap();
        let caught = Reply::Values(vec![0, einval, einval, 0, 0]);
        assert_eq!(step(&mut m, 0, Op::Uncatchable, caught).unwrap_err().rules, vec![rules::DELIVER]);
    }

    #[test]
    fn real_time_signals_are_all_delivered_lowest_first_in_order_within_one() {
        if Sig::Rt(1).number().is_none() {
            return; // no real-time signals on this platform
        }
        let mut m = model();
        let rt = Sigs::of(&[Sig::Rt(0), Sig::Rt(1)]);
        step(&mut m, 0, Op::Block(rt), Reply::Done).unwrap();
        for sig in [Sig::Rt(1), Sig::Rt(0), Sig::Rt(1)] {
            step(&mut m, 1, Op::Queue { sig, to: 0 }, Reply::Done).unwrap();
        }
        step(&mut m, 0, Op::Unblock(rt), Reply::Done).unwrap();
        let (r0, r1) = (n(Sig::Rt(0)), n(Sig::Rt(1)));
        let v = step(&mut m.clone(), 0, Op::Take, Reply::Values(vec![r1, 0, r0, 1, r1, 2])).unwrap_err();
        assert_eq!(v.rules, vec![rules::REALTIME], "not lowest first");
        assert!(step(&mut m.clone(), 0, Op::Take, Reply::Values(vec![r0, 1, r1, 2, r1, 0])).is_err(), "not FIFO");
        assert!(step(&mut m.clone(), 0, Op::Take, Reply::Values(vec![r0, 1, r1, 0])).is_err(), "one lost");
        step(&mut m, 0, Op::Take, Reply::Values(vec![r0, 1, r1, 0, r1, 2])).unwrap();
    }
}
