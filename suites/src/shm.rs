//! `shm` properties: one per rule of `spec/rules/shm.toml`.
//!
//! Memory rules run schedules of stores, loads, `write`/`read`, unlink and
//! fork exchanges over views of one object, judged step by step by the
//! memory model ([`ipc_conform_harness::shm::memory`]). Synchronization
//! rules run several processes at once on one region, the generator
//! varying the process count, the operation counts and where each process
//! pauses. Permissions need a second uid (see
//! [`ipc_conform_harness::shm::access`]).

use ipc_conform_harness::case::CaseReport;
use ipc_conform_harness::protocol::shm::ForkRegion;
use ipc_conform_harness::runner::{self, RuleOutcome, RunConfig};
use ipc_conform_harness::shm::access::{self, PermCase};
use ipc_conform_harness::shm::memory::{self, Backing, MemOp, MemSchedule, MemStep, View, WORDS};
use ipc_conform_harness::shm::pshared::{self, CondCase, Death, MutexCase, RobustCase, SemCase};
use ipc_conform_harness::shm::rules;
use ipc_conform_harness::shm::sync::{self, HammerCase, ProcessPlan, PublishCase, WakeCase};
use ipc_conform_harness::Timing;
use proptest::collection::vec;
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::{Debug, Display};

use crate::registry::Property;

macro_rules! scenario {
    ($rule:expr, $name:literal, $gen:expr, $run:path) => {
        Property {
            rule: $rule,
            name: $name,
            check: |cfg| check_with($rule, $name, $gen, $run, cfg),
            replay: |cfg, case| replay_with($rule, $name, case, $run, cfg),
        }
    };
}

/// The shm properties.
pub static PROPERTIES: &[Property] = &[
    scenario!(rules::PSHARED_MUTEX, "shm_pshared_mutex_excludes_across_processes", pshared_mutex(), pshared::run_mutex),
    scenario!(
        rules::PSHARED_ROBUST,
        "shm_robust_mutex_of_a_dead_owner_comes_back_eownerdead",
        pshared_robust(),
        pshared::run_robust
    ),
    scenario!(
        rules::PSHARED_CONDVAR,
        "shm_pshared_condvar_wakes_a_waiter_in_another_process",
        pshared_cond(),
        pshared::run_cond
    ),
    scenario!(
        rules::SEMAPHORE_NAMED,
        "shm_named_semaphore_counts_posts_across_processes",
        named_sem(),
        pshared::run_sem
    ),
    Property {
        rule: rules::SHARED_VISIBLE,
        name: "shm_shared_mappings_see_each_others_stores",
        check: |cfg| {
            mem_check(rules::SHARED_VISIBLE, "shm_shared_mappings_see_each_others_stores", shared_visible(), cfg)
        },
        replay: |cfg, case| mem_replay(rules::SHARED_VISIBLE, "shm_shared_mappings_see_each_others_stores", case, cfg),
    },
    Property {
        rule: rules::PRIVATE_COW,
        name: "shm_private_mapping_stores_reach_no_one_else",
        check: |cfg| mem_check(rules::PRIVATE_COW, "shm_private_mapping_stores_reach_no_one_else", private_cow(), cfg),
        replay: |cfg, case| mem_replay(rules::PRIVATE_COW, "shm_private_mapping_stores_reach_no_one_else", case, cfg),
    },
    Property {
        rule: rules::NO_LOST_UPDATES,
        name: "shm_atomic_and_locked_increments_lose_no_update",
        check: |cfg| {
            check_with(
                rules::NO_LOST_UPDATES,
                "shm_atomic_and_locked_increments_lose_no_update",
                hammer(),
                sync::run_hammer,
                cfg,
            )
        },
        replay: |cfg, case| {
            replay_with(
                rules::NO_LOST_UPDATES,
                "shm_atomic_and_locked_increments_lose_no_update",
                case,
                sync::run_hammer,
                cfg,
            )
        },
    },
    Property {
        rule: rules::PUBLISH,
        name: "shm_release_acquire_publication_delivers_complete_data",
        check: |cfg| {
            check_with(
                rules::PUBLISH,
                "shm_release_acquire_publication_delivers_complete_data",
                publish(),
                sync::run_publish,
                cfg,
            )
        },
        replay: |cfg, case| {
            replay_with(
                rules::PUBLISH,
                "shm_release_acquire_publication_delivers_complete_data",
                case,
                sync::run_publish,
                cfg,
            )
        },
    },
    Property {
        rule: rules::WAIT_WAKE,
        name: "shm_waiter_blocks_until_another_process_posts",
        check: |cfg| {
            check_with(rules::WAIT_WAKE, "shm_waiter_blocks_until_another_process_posts", wake(), sync::run_wake, cfg)
        },
        replay: |cfg, case| {
            replay_with(rules::WAIT_WAKE, "shm_waiter_blocks_until_another_process_posts", case, sync::run_wake, cfg)
        },
    },
    Property {
        rule: rules::NAME_LIFETIME,
        name: "shm_unlinked_name_is_gone_but_mappings_live_on",
        check: |cfg| {
            mem_check(rules::NAME_LIFETIME, "shm_unlinked_name_is_gone_but_mappings_live_on", name_lifetime(), cfg)
        },
        replay: |cfg, case| {
            mem_replay(rules::NAME_LIFETIME, "shm_unlinked_name_is_gone_but_mappings_live_on", case, cfg)
        },
    },
    Property {
        rule: rules::PERMISSIONS,
        name: "shm_object_without_write_bit_for_others_refuses_another_uid",
        check: |cfg| {
            check_with(
                rules::PERMISSIONS,
                "shm_object_without_write_bit_for_others_refuses_another_uid",
                permissions(),
                access::run_permissions,
                cfg,
            )
        },
        replay: |cfg, case| {
            replay_with(
                rules::PERMISSIONS,
                "shm_object_without_write_bit_for_others_refuses_another_uid",
                case,
                access::run_permissions,
                cfg,
            )
        },
    },
    Property {
        rule: rules::FILE_COHERENCE,
        name: "shm_file_write_and_shared_mapping_agree",
        check: |cfg| mem_check(rules::FILE_COHERENCE, "shm_file_write_and_shared_mapping_agree", file_coherence(), cfg),
        replay: |cfg, case| mem_replay(rules::FILE_COHERENCE, "shm_file_write_and_shared_mapping_agree", case, cfg),
    },
];

/// Runs generated cases of any shm or process case type.
pub(crate) fn check_with<C, E>(
    rule: &str,
    name: &str,
    strategy: BoxedStrategy<C>,
    run: fn(&C, Timing) -> CaseReport<E>,
    cfg: &RunConfig,
) -> RuleOutcome
where
    C: Clone + Debug + Display + Serialize + 'static,
    E: Display,
{
    let timing = cfg.timing;
    runner::check(rule, name, strategy, |c| run(c, timing), cfg)
}

/// Replays one saved case of any shm or process case type.
pub(crate) fn replay_with<C, E>(
    rule: &str,
    name: &str,
    case: &serde_json::Value,
    run: fn(&C, Timing) -> CaseReport<E>,
    cfg: &RunConfig,
) -> RuleOutcome
where
    C: Clone + Debug + Display + Serialize + DeserializeOwned,
    E: Display,
{
    let timing = cfg.timing;
    runner::replay(rule, name, case, |c: &C| run(c, timing), cfg)
}

pub(crate) fn mem_check(rule: &str, name: &str, strategy: BoxedStrategy<MemSchedule>, cfg: &RunConfig) -> RuleOutcome {
    let (k, timing) = (cfg.constants.clone(), cfg.timing);
    runner::check(rule, name, strategy, |c| memory::run(c, &k, timing), cfg)
}

pub(crate) fn mem_replay(rule: &str, name: &str, case: &serde_json::Value, cfg: &RunConfig) -> RuleOutcome {
    let (k, timing) = (cfg.constants.clone(), cfg.timing);
    runner::replay(rule, name, case, |c: &MemSchedule| memory::run(c, &k, timing), cfg)
}

// ---- building blocks -------------------------------------------------

/// Gives every store and write a value of its own (never 0), so that a
/// load tells which store it saw.
pub(crate) fn numbered(mut steps: Vec<MemStep>, salt: u64) -> Vec<MemStep> {
    for (i, s) in steps.iter_mut().enumerate() {
        let v = ((salt & 0xffff) << 32) | ((i as u64 + 1) << 8) | u64::from(s.actor);
        match &mut s.op {
            MemOp::Store { value, .. } | MemOp::Write { value, .. } => *value = v,
            MemOp::Fork { a, c, p, .. } => {
                *a = v | 0xa;
                *c = v | 0xc;
                *p = v | 0xe;
            }
            _ => {}
        }
    }
    steps
}

fn word() -> BoxedStrategy<u8> {
    (0..WORDS).boxed()
}

fn fork_region() -> BoxedStrategy<ForkRegion> {
    prop_oneof![Just(ForkRegion::Heap), Just(ForkRegion::AnonPrivate), Just(ForkRegion::AnonShared)].boxed()
}

/// Any memory operation, for the random steps after a property's focus.
pub(crate) fn any_mem_op() -> BoxedStrategy<MemOp> {
    prop_oneof![
        5 => word().prop_map(|word| MemOp::Store { word, value: 0 }),
        5 => word().prop_map(|word| MemOp::Load { word }),
        2 => word().prop_map(|word| MemOp::Write { word, value: 0 }),
        2 => word().prop_map(|word| MemOp::Read { word }),
        1 => Just(MemOp::OpenByName),
        1 => Just(MemOp::Unlink),
        1 => fork_region().prop_map(|region| MemOp::Fork { region, a: 0, c: 0, p: 0 }),
    ]
    .boxed()
}

fn tail(n: usize) -> BoxedStrategy<Vec<MemStep>> {
    vec((0u8..8, any_mem_op()).prop_map(|(actor, op)| MemStep { actor, op }), 0..=n).boxed()
}

fn step(actor: u8, op: MemOp) -> MemStep {
    MemStep { actor, op }
}

fn backing() -> BoxedStrategy<Backing> {
    prop_oneof![Just(Backing::Shm), Just(Backing::File)].boxed()
}

// ---- one generator per rule ----------------------------------------

/// shm.shared.visible: every actor maps MAP_SHARED; a store by one is
/// loaded by another and back; a fork exchange over anonymous shared memory.
fn shared_visible() -> BoxedStrategy<MemSchedule> {
    (backing(), 2usize..=4, word(), word(), tail(10), any::<u64>())
        .prop_map(|(backing, n, w1, w2, tail, salt)| {
            let last = (n - 1) as u8;
            let mut steps = vec![
                step(0, MemOp::Store { word: w1, value: 0 }),
                step(last, MemOp::Load { word: w1 }),
                step(last, MemOp::Store { word: w2, value: 0 }),
                step(0, MemOp::Load { word: w2 }),
                step(1, MemOp::Fork { region: ForkRegion::AnonShared, a: 0, c: 0, p: 0 }),
            ];
            steps.extend(tail);
            steps.extend((0..n as u8).map(|a| step(a, MemOp::Load { word: w1 })));
            MemSchedule { backing, views: vec![View::Shared; n], steps: numbered(steps, salt) }
        })
        .boxed()
}

/// shm.private.copy-on-write: one actor maps MAP_PRIVATE and stores; the
/// shared mappings and read() do not see it; it sees its own store, and
/// the object's later changes only where it has not written.
fn private_cow() -> BoxedStrategy<MemSchedule> {
    let views = vec(prop_oneof![Just(View::Shared), Just(View::Private)], 1..=3);
    (prop_oneof![3 => Just(Backing::File), 1 => Just(Backing::Shm)], views, word(), word(), tail(10), any::<u64>())
        .prop_map(|(backing, rest, w1, w2, tail, salt)| {
            let mut views = vec![View::Private];
            views.extend(rest);
            let other = (views.len() - 1) as u8;
            let mut steps = vec![
                step(0, MemOp::Store { word: w1, value: 0 }),
                step(other, MemOp::Load { word: w1 }),
                step(other, MemOp::Read { word: w1 }),
                step(0, MemOp::Load { word: w1 }),
                step(other, MemOp::Store { word: w2, value: 0 }),
                step(0, MemOp::Load { word: w2 }),
                step(0, MemOp::Load { word: w1 }),
            ];
            steps.extend(tail);
            steps.push(step(other, MemOp::Read { word: w1 }));
            MemSchedule { backing, views, steps: numbered(steps, salt) }
        })
        .boxed()
}

/// shm.name.lifetime: stores, then one actor unlinks the name; the
/// mappings keep their contents and stay shared; opening by name and
/// unlinking again give ENOENT.
fn name_lifetime() -> BoxedStrategy<MemSchedule> {
    (prop_oneof![3 => Just(Backing::Shm), 1 => Just(Backing::File)], 2usize..=4, word(), 0u8..4, tail(6), any::<u64>())
        .prop_map(|(backing, n, w, unlinker, tail, salt)| {
            let last = (n - 1) as u8;
            let mut steps = vec![
                step(0, MemOp::Store { word: w, value: 0 }),
                step(0, MemOp::OpenByName),
                step(unlinker % n as u8, MemOp::Unlink),
                step(last, MemOp::Load { word: w }),
                step(last, MemOp::Store { word: (w + 1) % WORDS, value: 0 }),
                step(0, MemOp::Load { word: (w + 1) % WORDS }),
                step(1, MemOp::OpenByName),
                step(0, MemOp::Unlink),
            ];
            steps.extend(tail);
            steps.extend((0..n as u8).map(|a| step(a, MemOp::Load { word: w })));
            MemSchedule { backing, views: vec![View::Shared; n], steps: numbered(steps, salt) }
        })
        .boxed()
}

/// shm.file.coherence: write() by one process is loaded through another's
/// MAP_SHARED mapping; a store through a mapping is read() by another.
fn file_coherence() -> BoxedStrategy<MemSchedule> {
    (2usize..=3, word(), word(), tail(10), any::<u64>())
        .prop_map(|(n, w1, w2, tail, salt)| {
            let last = (n - 1) as u8;
            let mut steps = vec![
                step(0, MemOp::Write { word: w1, value: 0 }),
                step(last, MemOp::Load { word: w1 }),
                step(last, MemOp::Store { word: w2, value: 0 }),
                step(0, MemOp::Read { word: w2 }),
                step(last, MemOp::Write { word: w2, value: 0 }),
                step(0, MemOp::Load { word: w2 }),
            ];
            steps.extend(tail);
            MemSchedule { backing: Backing::File, views: vec![View::Shared; n], steps: numbered(steps, salt) }
        })
        .boxed()
}

/// Increment counts biased to the small and to the contended.
fn count() -> BoxedStrategy<u32> {
    prop_oneof![1 => Just(1u32), 2 => 2..=50u32, 3 => 200..=3000u32, 1 => Just(5000u32)].boxed()
}

/// shm.sync.no-lost-updates: 2-6 processes, each its own increment count
/// and pause points, hammer the counters at once.
fn hammer() -> BoxedStrategy<HammerCase> {
    let plan = (count(), vec(any::<u32>(), 0..6), any::<bool>()).prop_map(|(count, pauses, pause_inside)| {
        let pauses = pauses.into_iter().map(|p| p % count.max(1)).collect();
        ProcessPlan { count, pauses, pause_inside }
    });
    vec(plan, 2..=6).prop_map(|processes| HammerCase { processes }).boxed()
}

fn pauses(upto: u32) -> BoxedStrategy<Vec<u32>> {
    vec(0..=upto, 0..5).boxed()
}

/// shm.sync.publish: flag publication of 1-64 words over many rounds, or
/// a ring of 1-8 slots; the producer and consumer pause at generated points.
fn publish() -> BoxedStrategy<PublishCase> {
    prop_oneof![
        (1u32..=64, prop_oneof![Just(1u32), 2..=3000u32], pauses(3000), pauses(3000)).prop_map(
            |(words, rounds, producer_pauses, consumer_pauses)| PublishCase::Flag {
                words,
                rounds,
                producer_pauses,
                consumer_pauses
            }
        ),
        (1u32..=8, 1u32..=32, prop_oneof![Just(1u32), 2..=3000u32], pauses(3000), pauses(3000)).prop_map(
            |(slots, words, messages, producer_pauses, consumer_pauses)| PublishCase::Ring {
                slots,
                words,
                messages,
                producer_pauses,
                consumer_pauses
            }
        ),
    ]
    .boxed()
}

/// shm.sync.wait-wake: 1-3 waiters, 1-3 rounds.
fn wake() -> BoxedStrategy<WakeCase> {
    (1u8..=3, 1u8..=3).prop_map(|(waiters, rounds)| WakeCase { waiters, rounds }).boxed()
}

/// shm.permissions: modes without write permission for others, 0600 first
/// among them; the other uid opens for writing first, then as generated.
fn permissions() -> BoxedStrategy<PermCase> {
    let mode = prop_oneof![4 => Just(0o600u32), 1 => Just(0o640u32), 1 => Just(0o644u32), 1 => Just(0o604u32), 1 => Just(0o660u32), 1 => Just(0o400u32), 1 => Just(0o000u32)];
    (mode, vec(any::<bool>(), 0..3))
        .prop_map(|(mode, more)| {
            let mut probes = vec![true];
            probes.extend(more);
            PermCase { mode, probes }
        })
        .boxed()
}

// ---- the C library's process-shared synchronization --------------------

fn pshared_mutex() -> BoxedStrategy<MutexCase> {
    (2u8..=3, prop_oneof![Just(1u32), Just(300u32), 1..=300u32])
        .prop_map(|(actors, rounds)| MutexCase { actors, rounds })
        .boxed()
}

fn pshared_robust() -> BoxedStrategy<RobustCase> {
    (prop_oneof![Just(Death::Exit), Just(Death::Kill)], any::<bool>(), any::<bool>())
        .prop_map(|(death, waiter_waits, consistent)| RobustCase { death, waiter_waits, consistent })
        .boxed()
}

fn pshared_cond() -> BoxedStrategy<CondCase> {
    (1u8..=2, any::<bool>(), any::<bool>())
        .prop_map(|(waiters, raise_first, broadcast)| CondCase { waiters, raise_first, broadcast })
        .boxed()
}

fn named_sem() -> BoxedStrategy<SemCase> {
    (1u8..=4)
        .prop_flat_map(|posts| (Just(posts), 0..=posts.min(2)))
        .prop_map(|(posts, waiting)| SemCase { posts, waiting })
        .boxed()
}
