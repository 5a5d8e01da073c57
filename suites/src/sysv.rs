//! System V IPC properties: one per rule of `spec/rules/sysv.toml`.
//!
//! Message queues: one to three actors share a new queue; they send messages of
//! types 1-5 with texts of random length and receive them with every kind
//! of `msgtyp` (0, a type, minus a bound), blocking or `IPC_NOWAIT`, into
//! buffers now and then too short. The queue model
//! ([`ipc_conform_harness::sysv::msg::model`]) judges every return and
//! every block. Segments: two or three actors attach a new segment,
//! store and load words, look its key up, count its attachments, detach,
//! and one marks it removed; the segment model
//! ([`ipc_conform_harness::sysv::shm`]) judges every answer.

use ipc_conform_harness::engine::keep_issuable;
use ipc_conform_harness::runner::{self, RuleOutcome, RunConfig};
use ipc_conform_harness::sysv::msg::{exec, MsgCase, Op, Step, MAX_TEXT, MAX_TYPE};
use ipc_conform_harness::sysv::rules;
use ipc_conform_harness::sysv::sem::{self, AtomicCase, End, UndoCase};
use ipc_conform_harness::sysv::shm::{self, Lifetime, ShmCase, WORDS};
use proptest::collection::vec;
use proptest::prelude::*;

use crate::registry::Property;

const NAME: &str = "sysv_msgrcv_selects_by_type_and_blocks_while_none_matches";
const SEM_ATOMIC_NAME: &str = "sysv_semop_applies_all_its_changes_or_none";
const SEM_UNDO_NAME: &str = "sysv_sem_undo_changes_are_reverted_when_the_process_ends";
const SHM_NAME: &str = "sysv_shm_rmid_frees_the_key_at_once_and_the_segment_at_the_last_detach";

/// The System V properties.
pub static PROPERTIES: &[Property] = &[
    Property {
        rule: rules::SEM_ATOMIC,
        name: SEM_ATOMIC_NAME,
        check: |cfg| {
            let timing = cfg.timing;
            runner::check(rules::SEM_ATOMIC, SEM_ATOMIC_NAME, atomic_cases(), |c| sem::run_atomic(c, timing), cfg)
        },
        replay: |cfg, case| {
            let timing = cfg.timing;
            runner::replay(rules::SEM_ATOMIC, SEM_ATOMIC_NAME, case, |c: &AtomicCase| sem::run_atomic(c, timing), cfg)
        },
    },
    Property {
        rule: rules::SEM_UNDO,
        name: SEM_UNDO_NAME,
        check: |cfg| {
            let timing = cfg.timing;
            runner::check(rules::SEM_UNDO, SEM_UNDO_NAME, undo_cases(), |c| sem::run_undo(c, timing), cfg)
        },
        replay: |cfg, case| {
            let timing = cfg.timing;
            runner::replay(rules::SEM_UNDO, SEM_UNDO_NAME, case, |c: &UndoCase| sem::run_undo(c, timing), cfg)
        },
    },
    Property {
        rule: rules::MSG_TYPES,
        name: NAME,
        check: |cfg| {
            let timing = cfg.timing;
            runner::check(rules::MSG_TYPES, NAME, cases(), |c| exec::run(c, timing), cfg)
        },
        replay: |cfg, case| replay(rules::MSG_TYPES, NAME, case, cfg),
    },
    Property {
        rule: rules::SHM_LIFETIME,
        name: SHM_NAME,
        check: |cfg| {
            let timing = cfg.timing;
            runner::check(rules::SHM_LIFETIME, SHM_NAME, shm_cases(), |c| shm::run(c, timing), cfg)
        },
        replay: |cfg, case| {
            let timing = cfg.timing;
            runner::replay(rules::SHM_LIFETIME, SHM_NAME, case, |c: &ShmCase| shm::run(c, timing), cfg)
        },
    },
];

fn replay(rule: &str, name: &str, case: &serde_json::Value, cfg: &RunConfig) -> RuleOutcome {
    let timing = cfg.timing;
    runner::replay(rule, name, case, |c: &MsgCase| exec::run(c, timing), cfg)
}

fn op() -> BoxedStrategy<Op> {
    let send =
        (1..=MAX_TYPE, prop_oneof![3 => 0..=8u32, 1 => 0..=MAX_TEXT]).prop_map(|(mtype, len)| Op::Send { mtype, len });
    let max = prop_oneof![4 => Just(MAX_TEXT), 1 => MAX_TEXT..=2 * MAX_TEXT, 1 => 0..MAX_TEXT];
    let msgtyp = prop_oneof![2 => Just(0i64), 3 => 1..=MAX_TYPE + 1, 3 => -(MAX_TYPE + 1)..=-1];
    let nowait = prop_oneof![1 => Just(true), 2 => Just(false)];
    let receive = (msgtyp, max, nowait).prop_map(|(msgtyp, max, nowait)| Op::Receive { msgtyp, max, nowait });
    prop_oneof![3 => send, 2 => receive].boxed()
}

/// sysv.msg.type-selection: 1-3 actors, 1-32 steps.
fn cases() -> BoxedStrategy<MsgCase> {
    (1u8..=3, vec((any::<u8>(), op()), 1..32))
        .prop_map(|(actors, steps)| MsgCase {
            actors,
            steps: steps.into_iter().map(|(a, op)| Step { actor: a % actors, op }).collect(),
        })
        .boxed()
}

fn shm_op() -> BoxedStrategy<shm::Op> {
    use shm::Op;
    prop_oneof![
        3 => Just(Op::Attach),
        1 => Just(Op::Detach),
        3 => (0..WORDS, any::<u32>()).prop_map(|(word, value)| Op::Store { word, value }),
        3 => (0..WORDS).prop_map(|word| Op::Load { word }),
        1 => Just(Op::Find),
        1 => Just(Op::Remove),
        2 => Just(Op::Stat),
    ]
    .boxed()
}

/// sysv.shm.lifetime: 2-3 actors, 1-40 steps kept only where the
/// schedule lets them be issued.
fn shm_cases() -> BoxedStrategy<ShmCase> {
    (2u8..=3, vec((any::<u8>(), shm_op()), 1..40))
        .prop_map(|(actors, steps)| {
            let mut steps: Vec<shm::Step> = steps.into_iter().map(|(actor, op)| shm::Step { actor, op }).collect();
            keep_issuable(&mut steps, actors, Lifetime::new(actors));
            ShmCase { actors, steps }
        })
        .boxed()
}

/// sysv.sem.atomic: 2-3 semaphores of 0-3, up to 8 non-blocking semops of
/// 1-3 changes, then a blocking one naming each semaphore at most once.
fn atomic_cases() -> BoxedStrategy<AtomicCase> {
    (2usize..=3)
        .prop_flat_map(|n| {
            let change = (0..n as u16, prop_oneof![3 => -3i16..=-1, 1 => Just(0i16), 2 => 1i16..=3]);
            (vec(0u16..=3, n), vec(vec(change.clone(), 1..=3), 0..8), vec(change, 1..=3))
        })
        .prop_map(|(initial, nowait, mut last)| {
            let mut seen = Vec::new();
            last.retain(|(s, _)| {
                if seen.contains(s) {
                    false
                } else {
                    seen.push(*s);
                    true
                }
            });
            AtomicCase { initial, nowait, last }
        })
        .boxed()
}

/// sysv.sem.undo: 1-2 semaphores of 0-5, 1-8 one-change semops with and
/// without SEM_UNDO, then an exit or a kill.
fn undo_cases() -> BoxedStrategy<UndoCase> {
    (1usize..=2)
        .prop_flat_map(|n| {
            (vec(0u16..=5, n), vec((0..n as u16, -3i16..=3, prop_oneof![2 => Just(true), 1 => Just(false)]), 1..=8))
        })
        .prop_flat_map(|(initial, ops)| (Just(initial), Just(ops), prop_oneof![Just(End::Exit), Just(End::Kill)]))
        .prop_map(|(initial, ops, end)| UndoCase { initial, ops, end })
        .boxed()
}
