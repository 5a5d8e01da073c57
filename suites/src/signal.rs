//! Signal properties: one per rule of `spec/rules/signal.toml`.
//!
//! Targets catch every signal of the case; senders `kill` (standard
//! signals) and `sigqueue` (real-time signals) them, while the targets
//! block and unblock them and report what their handler recorded. The
//! signal model ([`ipc_conform_harness::signal::model`]) judges every
//! report, so a property fails on any deviation it meets, and names the
//! rule broken.

use ipc_conform_harness::os::ready::Interface;
use ipc_conform_harness::os::signal::Sig;
use ipc_conform_harness::runner::{self, RuleOutcome, RunConfig};
use ipc_conform_harness::signal::group::{self, GroupCase};
use ipc_conform_harness::signal::interrupt::{self, Blocked, InterruptCase, Object};
use ipc_conform_harness::signal::permission::{self, PermissionCase};
use ipc_conform_harness::signal::{exec, rules, Op, Setup, SignalSchedule, Sigs, Step};
use proptest::collection::vec;
use proptest::prelude::*;

use crate::registry::Property;

/// The signal properties.
pub static PROPERTIES: &[Property] = &[
    Property {
        rule: rules::DELIVER,
        name: "signal_kill_reaches_the_handler_sig_ign_discards_sigkill_sigstop_stay",
        check: |cfg| {
            check(
                rules::DELIVER,
                "signal_kill_reaches_the_handler_sig_ign_discards_sigkill_sigstop_stay",
                Focus::Deliver,
                cfg,
            )
        },
        replay: |cfg, case| {
            replay(rules::DELIVER, "signal_kill_reaches_the_handler_sig_ign_discards_sigkill_sigstop_stay", case, cfg)
        },
    },
    Property {
        rule: rules::GROUP,
        name: "signal_kill_to_a_process_group_reaches_every_member_and_no_other",
        check: |cfg| {
            let timing = cfg.timing;
            runner::check(
                rules::GROUP,
                "signal_kill_to_a_process_group_reaches_every_member_and_no_other",
                group_cases(),
                |c| group::run(c, timing),
                cfg,
            )
        },
        replay: |cfg, case| {
            let timing = cfg.timing;
            runner::replay(
                rules::GROUP,
                "signal_kill_to_a_process_group_reaches_every_member_and_no_other",
                case,
                |c: &GroupCase| group::run(c, timing),
                cfg,
            )
        },
    },
    Property {
        rule: rules::PERMISSION,
        name: "signal_unprivileged_kill_of_another_users_process_fails_with_eperm",
        check: |cfg| {
            let timing = cfg.timing;
            runner::check(
                rules::PERMISSION,
                "signal_unprivileged_kill_of_another_users_process_fails_with_eperm",
                permission_cases(),
                |c| permission::run(c, timing),
                cfg,
            )
        },
        replay: |cfg, case| {
            let timing = cfg.timing;
            runner::replay(
                rules::PERMISSION,
                "signal_unprivileged_kill_of_another_users_process_fails_with_eperm",
                case,
                |c: &PermissionCase| permission::run(c, timing),
                cfg,
            )
        },
    },
    Property {
        rule: rules::COALESCE,
        name: "signal_standard_signal_pending_while_blocked_is_delivered_once",
        check: |cfg| {
            check(
                rules::COALESCE,
                "signal_standard_signal_pending_while_blocked_is_delivered_once",
                Focus::Coalesce,
                cfg,
            )
        },
        replay: |cfg, case| {
            replay(rules::COALESCE, "signal_standard_signal_pending_while_blocked_is_delivered_once", case, cfg)
        },
    },
    Property {
        rule: rules::REALTIME,
        name: "signal_realtime_signals_are_queued_and_delivered_in_order",
        check: |cfg| {
            check(rules::REALTIME, "signal_realtime_signals_are_queued_and_delivered_in_order", Focus::Realtime, cfg)
        },
        replay: |cfg, case| {
            replay(rules::REALTIME, "signal_realtime_signals_are_queued_and_delivered_in_order", case, cfg)
        },
    },
    Property {
        rule: rules::EINTR,
        name: "signal_interrupted_call_without_sa_restart_fails_with_eintr_and_loses_nothing",
        check: |cfg| {
            check_interrupt(
                rules::EINTR,
                "signal_interrupted_call_without_sa_restart_fails_with_eintr_and_loses_nothing",
                cfg,
            )
        },
        replay: |cfg, case| {
            replay_interrupt(
                rules::EINTR,
                "signal_interrupted_call_without_sa_restart_fails_with_eintr_and_loses_nothing",
                case,
                cfg,
            )
        },
    },
    Property {
        rule: rules::RESTART,
        name: "signal_interrupted_call_with_sa_restart_resumes_but_poll_fails",
        check: |cfg| {
            check_interrupt(rules::RESTART, "signal_interrupted_call_with_sa_restart_resumes_but_poll_fails", cfg)
        },
        replay: |cfg, case| {
            replay_interrupt(
                rules::RESTART,
                "signal_interrupted_call_with_sa_restart_resumes_but_poll_fails",
                case,
                cfg,
            )
        },
    },
    Property {
        rule: rules::PARTIAL,
        name: "signal_interrupted_write_returns_its_partial_count",
        check: |cfg| check_interrupt(rules::PARTIAL, "signal_interrupted_write_returns_its_partial_count", cfg),
        replay: |cfg, case| {
            replay_interrupt(rules::PARTIAL, "signal_interrupted_write_returns_its_partial_count", case, cfg)
        },
    },
];

/// Process groups: members and outsiders forked in a random order, asks
/// before and after one or two signals to the group.
fn group_cases() -> BoxedStrategy<GroupCase> {
    use ipc_conform_harness::signal::group::Op as G;
    let fork = prop_oneof![2 => Just(G::Member), 1 => Just(G::Outsider)];
    let ask = (0u8..6).prop_map(G::Ask);
    (vec(fork, 1..=6), vec(ask.clone(), 0..4), 1usize..=2, vec(ask, 0..8))
        .prop_map(|(forks, before, kills, after)| {
            let n = forks.len() as u8;
            let mut steps = vec![G::Member];
            steps.extend(forks);
            steps.extend(before);
            steps.extend(std::iter::repeat_n(G::KillGroup, kills));
            steps.extend((0..=n).map(G::Ask));
            steps.extend(after);
            GroupCase { steps }.issuable()
        })
        .boxed()
}

/// Permission: a kill of the root target and one of the own-user target
/// (SIGUSR1) always, more of either (SIGUSR1 or signal 0) at random.
fn permission_cases() -> BoxedStrategy<PermissionCase> {
    use ipc_conform_harness::signal::permission::Op as P;
    vec((any::<bool>(), any::<bool>()), 0..6)
        .prop_map(|more| {
            let mut kills = vec![P::Kill { foreign: true, probe: false }, P::Kill { foreign: false, probe: false }];
            kills.extend(more.into_iter().map(|(foreign, probe)| P::Kill { foreign, probe }));
            PermissionCase { kills }
        })
        .boxed()
}

/// Interrupted calls: the rule decides SA_RESTART and which calls (a
/// partial write with or without it); the object, the readiness interface
/// (those this platform has), whether a socket has a receive timeout, the
/// number of signals and the length at random.
fn check_interrupt(rule: &'static str, name: &str, cfg: &RunConfig) -> RuleOutcome {
    let (timing, k) = (cfg.timing, &cfg.constants);
    let pipe_buf = k.pipe_buf as u32;
    // (object, call, timed)
    let calls: Vec<(Object, Blocked, bool)> = if rule == rules::PARTIAL {
        vec![(Object::Pipe, Blocked::WritePartial, false), (Object::Socketpair, Blocked::WritePartial, false)]
    } else {
        let mut calls = vec![
            (Object::Pipe, Blocked::Read, false),
            (Object::Socketpair, Blocked::Read, false),
            (Object::Pipe, Blocked::WriteFull, false),
            (Object::Listener, Blocked::Accept, false),
            (Object::Fifo, Blocked::OpenFifo, false),
            (Object::File, Blocked::Flock, false),
            (Object::File, Blocked::Setlkw, false),
        ];
        calls.extend(
            Interface::among(&cfg.entry_points).into_iter().map(|how| (Object::Pipe, Blocked::Wait(how), false)),
        );
        if cfg.entry_points.iter().any(|e| e == "so-rcvtimeo") {
            calls.extend([(Object::Socketpair, Blocked::Read, true), (Object::Listener, Blocked::Accept, true)]);
        }
        calls
    };
    let restart = if rule == rules::PARTIAL { any::<bool>().boxed() } else { Just(rule == rules::RESTART).boxed() };
    let strategy = (proptest::sample::select(calls), restart, 1u8..=3, prop_oneof![Just(1u32), 1..=pipe_buf])
        .prop_map(|((object, call, timeout), restart, kills, len)| InterruptCase {
            object,
            call,
            restart,
            kills,
            len,
            timeout,
        })
        .boxed();
    runner::check(rule, name, strategy, |c| interrupt::run(c, k, timing), cfg)
}

fn replay_interrupt(rule: &str, name: &str, case: &serde_json::Value, cfg: &RunConfig) -> RuleOutcome {
    let (timing, k) = (cfg.timing, &cfg.constants);
    runner::replay(rule, name, case, |c: &InterruptCase| interrupt::run(c, k, timing), cfg)
}

/// What a signal property steers its cases into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Focus {
    /// Dispositions: SIG_IGN and catching again, SIGKILL and SIGSTOP.
    Deliver,
    /// Standard signals sent while blocked.
    Coalesce,
    /// Real-time signals queued while blocked.
    Realtime,
}

fn check(rule: &str, name: &str, focus: Focus, cfg: &RunConfig) -> RuleOutcome {
    let timing = cfg.timing;
    runner::check(rule, name, cases(focus), |s| exec::run(s, timing), cfg)
}

fn replay(rule: &str, name: &str, case: &serde_json::Value, cfg: &RunConfig) -> RuleOutcome {
    let timing = cfg.timing;
    runner::replay(rule, name, case, |s: &SignalSchedule| exec::run(s, timing), cfg)
}

/// The signals a property uses: the two standard ones, and for the
/// real-time rule three real-time ones besides.
fn signals(focus: Focus) -> Vec<Sig> {
    Sig::ALL.into_iter().filter(|s| focus == Focus::Realtime || !s.realtime()).collect()
}

/// A random step, before its actor is placed: (is it a target's, pick, op).
fn any_op(focus: Focus) -> BoxedStrategy<(bool, u8, Op)> {
    let all = signals(focus);
    let sig = proptest::sample::select(all.clone());
    let most = all.len().min(3);
    let set = proptest::sample::subsequence(all, 1..=most).prop_map(|l| Sigs::of(&l));
    let standard = proptest::sample::subsequence(vec![Sig::Usr1, Sig::Usr2], 1..=2).prop_map(|l| Sigs::of(&l));
    let send = sig.prop_map(|sig| if sig.realtime() { Op::Queue { sig, to: 0 } } else { Op::Send { sig, to: 0 } });
    let dispositions = if focus == Focus::Deliver { 2 } else { 0 };
    prop_oneof![
        2 => (any::<u8>(), set.clone()).prop_map(|(p, s)| (true, p, Op::Block(s))),
        2 => (any::<u8>(), set).prop_map(|(p, s)| (true, p, Op::Unblock(s))),
        5 => (any::<u8>(), any::<u8>(), send).prop_map(|(p, to, op)| (false, p, match op {
            Op::Send { sig, .. } => Op::Send { sig, to },
            Op::Queue { sig, .. } => Op::Queue { sig, to },
            other => other,
        })),
        2 => any::<u8>().prop_map(|p| (true, p, Op::Take)),
        dispositions => (any::<u8>(), standard.clone()).prop_map(|(p, s)| (true, p, Op::Ignore(s))),
        dispositions => (any::<u8>(), standard).prop_map(|(p, s)| (true, p, Op::Catch(s))),
    ]
    .boxed()
}

/// The situation the rule speaks of, for target 0 and sender 0.
/// Coalesce: a block, several sends, one unblock, a report; then sends
/// while unblocked and a report. Real-time: the same with several numbers
/// queued out of order. Deliver: sends while ignored, caught again, a
/// pending signal ignored away, and SIGKILL and SIGSTOP.
fn focus(focus: Focus, s: &Setup) -> Vec<Step> {
    let t = |op| Step { actor: 0, op };
    let send = |op| Step { actor: s.targets, op };
    let usr1 = Sigs::of(&[Sig::Usr1]);
    let kill1 = || send(Op::Send { sig: Sig::Usr1, to: 0 });
    let mut steps = Vec::new();
    match focus {
        Focus::Realtime => {
            let rt = Sigs::of(&[Sig::Rt(0), Sig::Rt(1), Sig::Rt(2)]);
            steps.push(t(Op::Block(rt)));
            for sig in [Sig::Rt(2), Sig::Rt(0), Sig::Rt(2), Sig::Rt(1), Sig::Rt(0)] {
                steps.push(send(Op::Queue { sig, to: 0 }));
            }
            steps.extend([t(Op::Unblock(rt)), t(Op::Take)]);
            steps.extend([Sig::Rt(1), Sig::Rt(1), Sig::Rt(0)].map(|sig| send(Op::Queue { sig, to: 0 })));
            steps.push(t(Op::Take));
        }
        Focus::Coalesce => {
            let usr = Sigs::of(&[Sig::Usr1, Sig::Usr2]);
            steps.push(t(Op::Block(usr)));
            for sig in [Sig::Usr1, Sig::Usr1, Sig::Usr2, Sig::Usr1] {
                steps.push(send(Op::Send { sig, to: 0 }));
            }
            steps.extend([t(Op::Take), t(Op::Unblock(usr1)), t(Op::Take)]);
            steps.extend([t(Op::Unblock(Sigs::of(&[Sig::Usr2]))), t(Op::Take)]);
            steps.extend([kill1(), kill1(), t(Op::Take)]);
        }
        Focus::Deliver => {
            steps.extend([kill1(), t(Op::Take), t(Op::Ignore(usr1)), kill1(), kill1(), t(Op::Take)]);
            steps.extend([t(Op::Catch(usr1)), t(Op::Take), kill1(), t(Op::Take)]);
            steps.extend([t(Op::Block(usr1)), kill1(), t(Op::Ignore(usr1)), t(Op::Catch(usr1)), t(Op::Unblock(usr1))]);
            steps.extend([t(Op::Take), t(Op::Uncatchable), kill1(), t(Op::Take)]);
        }
    }
    steps
}

/// Random steps, the focus block, random steps, and a last report from
/// every target after catching and unblocking everything.
fn cases(which: Focus) -> BoxedStrategy<SignalSchedule> {
    let random = move |n: usize| vec(any_op(which), 0..n);
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
            steps.extend(focus(which, &setup));
            steps.extend(place(after));
            let all = Sigs::of(&signals(which));
            for t in 0..targets {
                if which == Focus::Deliver {
                    steps.push(Step { actor: t, op: Op::Catch(all) });
                }
                steps.extend([Step { actor: t, op: Op::Unblock(all) }, Step { actor: t, op: Op::Take }]);
            }
            SignalSchedule { setup, steps }.issuable()
        })
        .boxed()
}
