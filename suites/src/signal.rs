//! Signal properties: one per rule of `spec/rules/signal.toml`.
//!
//! Targets catch every signal of the case; senders `kill` (standard
//! signals) and `sigqueue` (real-time signals) them, while the targets
//! block and unblock them and report what their handler recorded. The
//! signal model ([`ipc_conform_harness::signal::model`]) judges every
//! report, so a property fails on any deviation it meets, and names the
//! rule broken.

use ipc_conform_harness::os::signal::Sig;
use ipc_conform_harness::runner::{self, RuleOutcome, RunConfig};
use ipc_conform_harness::signal::{exec, rules, Op, Setup, SignalSchedule, Sigs, Step};
use proptest::collection::vec;
use proptest::prelude::*;

use crate::registry::Property;

/// The signal properties.
pub static PROPERTIES: &[Property] = &[
    Property {
        rule: rules::COALESCE,
        name: "signal_standard_signal_pending_while_blocked_is_delivered_once",
        check: |cfg| {
            check(rules::COALESCE, "signal_standard_signal_pending_while_blocked_is_delivered_once", false, cfg)
        },
        replay: |cfg, case| {
            replay(rules::COALESCE, "signal_standard_signal_pending_while_blocked_is_delivered_once", case, cfg)
        },
    },
    Property {
        rule: rules::REALTIME,
        name: "signal_realtime_signals_are_queued_and_delivered_in_order",
        check: |cfg| check(rules::REALTIME, "signal_realtime_signals_are_queued_and_delivered_in_order", true, cfg),
        replay: |cfg, case| {
            replay(rules::REALTIME, "signal_realtime_signals_are_queued_and_delivered_in_order", case, cfg)
        },
    },
];

fn check(rule: &str, name: &str, realtime: bool, cfg: &RunConfig) -> RuleOutcome {
    let timing = cfg.timing;
    runner::check(rule, name, cases(realtime), |s| exec::run(s, timing), cfg)
}

fn replay(rule: &str, name: &str, case: &serde_json::Value, cfg: &RunConfig) -> RuleOutcome {
    let timing = cfg.timing;
    runner::replay(rule, name, case, |s: &SignalSchedule| exec::run(s, timing), cfg)
}

/// The signals a property uses: the two standard ones, and for the
/// real-time rule three real-time ones besides.
fn signals(realtime: bool) -> Vec<Sig> {
    Sig::ALL.into_iter().filter(|s| realtime || !s.realtime()).collect()
}

/// A random step, before its actor is placed: (is it a target's, pick, op).
fn any_op(realtime: bool) -> BoxedStrategy<(bool, u8, Op)> {
    let all = signals(realtime);
    let sig = proptest::sample::select(all.clone());
    let most = all.len().min(3);
    let set = proptest::sample::subsequence(all, 1..=most).prop_map(|l| Sigs::of(&l));
    let send = sig.prop_map(|sig| if sig.realtime() { Op::Queue { sig, to: 0 } } else { Op::Send { sig, to: 0 } });
    prop_oneof![
        2 => (any::<u8>(), set.clone()).prop_map(|(p, s)| (true, p, Op::Block(s))),
        2 => (any::<u8>(), set).prop_map(|(p, s)| (true, p, Op::Unblock(s))),
        5 => (any::<u8>(), any::<u8>(), send).prop_map(|(p, to, op)| (false, p, match op {
            Op::Send { sig, .. } => Op::Send { sig, to },
            Op::Queue { sig, .. } => Op::Queue { sig, to },
            other => other,
        })),
        2 => any::<u8>().prop_map(|p| (true, p, Op::Take)),
    ]
    .boxed()
}

/// The situation the rule speaks of, for target 0 and sender 0: a block,
/// several sends (for the real-time rule, of several numbers out of
/// order), one unblock, a report; then sends while unblocked and a report.
fn focus(realtime: bool, s: &Setup) -> Vec<Step> {
    let t = |op| Step { actor: 0, op };
    let send = |op| Step { actor: s.targets, op };
    let mut steps = Vec::new();
    if realtime {
        let rt = Sigs::of(&[Sig::Rt(0), Sig::Rt(1), Sig::Rt(2)]);
        steps.push(t(Op::Block(rt)));
        for sig in [Sig::Rt(2), Sig::Rt(0), Sig::Rt(2), Sig::Rt(1), Sig::Rt(0)] {
            steps.push(send(Op::Queue { sig, to: 0 }));
        }
        steps.extend([t(Op::Unblock(rt)), t(Op::Take)]);
        steps.extend([Sig::Rt(1), Sig::Rt(1), Sig::Rt(0)].map(|sig| send(Op::Queue { sig, to: 0 })));
        steps.push(t(Op::Take));
    } else {
        let usr = Sigs::of(&[Sig::Usr1, Sig::Usr2]);
        steps.push(t(Op::Block(usr)));
        for sig in [Sig::Usr1, Sig::Usr1, Sig::Usr2, Sig::Usr1] {
            steps.push(send(Op::Send { sig, to: 0 }));
        }
        steps.extend([t(Op::Take), t(Op::Unblock(Sigs::of(&[Sig::Usr1]))), t(Op::Take)]);
        steps.extend([t(Op::Unblock(Sigs::of(&[Sig::Usr2]))), t(Op::Take)]);
        steps.extend([send(Op::Send { sig: Sig::Usr1, to: 0 }), send(Op::Send { sig: Sig::Usr1, to: 0 }), t(Op::Take)]);
    }
    steps
}

/// Random steps, the focus block, random steps, and a last report from
/// every target after unblocking everything.
fn cases(realtime: bool) -> BoxedStrategy<SignalSchedule> {
    let random = move |n: usize| vec(any_op(realtime), 0..n);
    ((1u8..=2, 1u8..=2), random(10), random(16))
        .prop_map(move |((targets, senders), before, after)| {
            let setup = Setup { targets, senders };
            let place = |ops: Vec<(bool, u8, Op)>| -> Vec<Step> {
                ops.into_iter()
                    .map(|(target, pick, op)| {
                        let actor = if target { pick % targets } else { targets + pick % senders };
                        let op = match op {
                            Op::Send { sig, to } => Op::Send { sig, to: to % targets },
                            Op::Queue { sig, to } => Op::Queue { sig, to: to % targets },
                            other => other,
                        };
                        Step { actor, op }
                    })
                    .collect()
            };
            let mut steps = place(before);
            steps.extend(focus(realtime, &setup));
            steps.extend(place(after));
            let all = Sigs::of(&signals(realtime));
            for t in 0..targets {
                steps.extend([Step { actor: t, op: Op::Unblock(all) }, Step { actor: t, op: Op::Take }]);
            }
            SignalSchedule { setup, steps }.issuable()
        })
        .boxed()
}
