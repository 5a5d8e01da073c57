//! `file` properties: one per rule of `spec/rules/file.toml`.
//!
//! Lock rules run schedules of real processes taking and dropping locks,
//! judged step by step by the lock model
//! ([`ipc_conform_harness::file::locks`]); a focus prefix steers each into
//! its rule's situation, a random tail follows. The concurrent rules start
//! every actor's bounded loop at once (replace, read, append, create) and
//! judge their reports ([`ipc_conform_harness::file::race`]). Sizes run
//! from empty to several pages.

use ipc_conform_harness::file::exec;
use ipc_conform_harness::file::locks::{LockOp, LockSchedule, LockStep};
use ipc_conform_harness::file::race::{AppendCase, CreateCase, NoReplaceCase, ReplaceCase, VisibleCase};
use ipc_conform_harness::file::rules;
use ipc_conform_harness::os::file::{FlockOp, LockKind, LockOwner};
use ipc_conform_harness::runner::{self, RuleOutcome, RunConfig};
use proptest::collection::vec;
use proptest::prelude::*;

use crate::registry::Property;

/// The file properties.
pub static PROPERTIES: &[Property] = &[
    Property {
        rule: rules::VISIBLE,
        name: "file_write_is_visible_to_another_process_once_write_returns",
        check: |cfg| runner::check(rules::VISIBLE, VISIBLE, visible(), |c| exec::run_visible(c, cfg.timing), cfg),
        replay: |cfg, case| {
            runner::replay(rules::VISIBLE, VISIBLE, case, |c: &VisibleCase| exec::run_visible(c, cfg.timing), cfg)
        },
    },
    Property {
        rule: rules::RENAME_ATOMIC,
        name: "file_readers_of_a_file_replaced_by_rename_see_one_complete_version",
        check: |cfg| {
            runner::check(rules::RENAME_ATOMIC, RENAME, replace(None), |c| exec::run_rename(c, cfg.timing), cfg)
        },
        replay: |cfg, case| {
            runner::replay(rules::RENAME_ATOMIC, RENAME, case, |c: &ReplaceCase| exec::run_rename(c, cfg.timing), cfg)
        },
    },
    Property {
        rule: rules::NOREPLACE,
        name: "file_rename_without_replace_fails_with_eexist_and_keeps_both_files",
        check: |cfg| {
            runner::check(rules::NOREPLACE, NOREPLACE, noreplace(), |c| exec::run_noreplace(c, cfg.timing), cfg)
        },
        replay: |cfg, case| {
            runner::replay(
                rules::NOREPLACE,
                NOREPLACE,
                case,
                |c: &NoReplaceCase| exec::run_noreplace(c, cfg.timing),
                cfg,
            )
        },
    },
    Property {
        rule: rules::CREATE_EXCL,
        name: "file_exactly_one_exclusive_creator_wins_the_race",
        check: |cfg| runner::check(rules::CREATE_EXCL, CREATE, create(), |c| exec::run_create(c, cfg.timing), cfg),
        replay: |cfg, case| {
            runner::replay(rules::CREATE_EXCL, CREATE, case, |c: &CreateCase| exec::run_create(c, cfg.timing), cfg)
        },
    },
    Property {
        rule: rules::FLOCK,
        name: "file_exclusive_flock_excludes_others_and_shared_flocks_coexist",
        check: |cfg| locks(rules::FLOCK, FLOCK, flock_schedule(), cfg),
        replay: |cfg, case| replay_locks(rules::FLOCK, FLOCK, case, cfg),
    },
    Property {
        rule: rules::FCNTL,
        name: "file_fcntl_locks_exclude_on_overlap_only_and_die_with_any_close",
        check: |cfg| locks(rules::FCNTL, FCNTL, fcntl_schedule(), cfg),
        replay: |cfg, case| replay_locks(rules::FCNTL, FCNTL, case, cfg),
    },
    Property {
        rule: rules::DEATH,
        name: "file_lock_of_a_dead_process_is_released_to_its_waiter",
        check: |cfg| locks(rules::DEATH, DEATH, death_schedule(), cfg),
        replay: |cfg, case| replay_locks(rules::DEATH, DEATH, case, cfg),
    },
    Property {
        rule: rules::OFD,
        name: "file_ofd_locks_belong_to_the_open_file_description",
        check: |cfg| locks(rules::OFD, OFD, ofd_schedule(), cfg),
        replay: |cfg, case| replay_locks(rules::OFD, OFD, case, cfg),
    },
    Property {
        rule: rules::APPEND,
        name: "file_concurrent_appenders_never_overwrite_each_other",
        check: |cfg| runner::check(rules::APPEND, APPEND, append(), |c| exec::run_append(c, cfg.timing), cfg),
        replay: |cfg, case| {
            runner::replay(rules::APPEND, APPEND, case, |c: &AppendCase| exec::run_append(c, cfg.timing), cfg)
        },
    },
    Property {
        rule: rules::TORN,
        name: "file_in_place_rewrite_can_be_read_torn_observed_with_frequency",
        check: |cfg| {
            let mut outcome =
                runner::check(rules::TORN, TORN, replace(Some(())), |c| exec::run_rename(c, cfg.timing), cfg);
            note_observation(&mut outcome);
            outcome
        },
        replay: |cfg, case| {
            let mut outcome =
                runner::replay(rules::TORN, TORN, case, |c: &ReplaceCase| exec::run_rename(c, cfg.timing), cfg);
            note_observation(&mut outcome);
            outcome
        },
    },
];

const VISIBLE: &str = "file_write_is_visible_to_another_process_once_write_returns";
const RENAME: &str = "file_readers_of_a_file_replaced_by_rename_see_one_complete_version";
const NOREPLACE: &str = "file_rename_without_replace_fails_with_eexist_and_keeps_both_files";
const CREATE: &str = "file_exactly_one_exclusive_creator_wins_the_race";
const FLOCK: &str = "file_exclusive_flock_excludes_others_and_shared_flocks_coexist";
const FCNTL: &str = "file_fcntl_locks_exclude_on_overlap_only_and_die_with_any_close";
const DEATH: &str = "file_lock_of_a_dead_process_is_released_to_its_waiter";
const OFD: &str = "file_ofd_locks_belong_to_the_open_file_description";
const APPEND: &str = "file_concurrent_appenders_never_overwrite_each_other";
const TORN: &str = "file_in_place_rewrite_can_be_read_torn_observed_with_frequency";

/// The torn-read rule is an observation: its report says so, with the
/// frequency measured.
fn note_observation(outcome: &mut RuleOutcome) {
    if outcome.verdict == ipc_conform_harness::Verdict::Pass {
        let made = outcome.measured.get("in-place rewrite: reads made").map(|m| m.count).unwrap_or(0);
        outcome.reason = Some(format!(
            "an observation, not a pass/fail check: see the measured torn reads ({made} cases); pass means the observation was made without harness failure"
        ));
    }
}

fn locks(rule: &str, name: &str, strategy: BoxedStrategy<LockSchedule>, cfg: &RunConfig) -> RuleOutcome {
    let timing = cfg.timing;
    let strategy = strategy.prop_map(LockSchedule::issuable);
    runner::check(rule, name, strategy, |s| exec::run_locks(s, timing), cfg)
}

fn replay_locks(rule: &str, name: &str, case: &serde_json::Value, cfg: &RunConfig) -> RuleOutcome {
    let timing = cfg.timing;
    runner::replay(rule, name, case, |s: &LockSchedule| exec::run_locks(s, timing), cfg)
}

// ---- sizes -----------------------------------------------------------------

/// Body lengths from empty to several pages, biased to page boundaries.
fn body_len() -> BoxedStrategy<u32> {
    prop_oneof![
        1 => Just(0u32),
        1 => Just(1u32),
        1 => Just(4095u32 - 24),
        1 => Just(4096u32 - 24),
        1 => Just(4097u32 - 24),
        1 => Just(4 * 4096u32),
        4 => 0u32..=4 * 4096,
    ]
    .boxed()
}

/// Body lengths of at least two pages (for in-place rewrites).
fn big_len() -> BoxedStrategy<u32> {
    prop_oneof![Just(2 * 4096u32), Just(4 * 4096u32), 4096u32..=4 * 4096].boxed()
}

// ---- concurrent cases --------------------------------------------------------

fn visible() -> BoxedStrategy<VisibleCase> {
    vec(body_len(), 1..6).prop_map(|lens| VisibleCase { lens }).boxed()
}

/// Writers and readers at once; `in_place` selects the torn-read variant.
fn replace(in_place: Option<()>) -> BoxedStrategy<ReplaceCase> {
    let len = if in_place.is_some() { big_len() } else { body_len() };
    let chunk = prop_oneof![Just(512u32), Just(1024u32), Just(4096u32)];
    // In place, longer runs on both sides so that reads overlap rewrites
    // (at these lengths, seed 7: 9,233 torn of 99,458 reads over 64 cases;
    // twice as long cost 4.6 CPU-seconds, a sixth of the whole run's, for
    // the same finding).
    let (versions, reads) = if in_place.is_some() { (25..100, 250u32..1500) } else { (1..40, 20u32..200) };
    (len.clone(), vec(vec(len, versions), 1..=3), vec(reads, 1..=3), chunk)
        .prop_map(move |(initial_len, writers, readers, chunk)| ReplaceCase {
            initial_len,
            writers,
            readers,
            in_place_chunk: in_place.map(|()| chunk),
        })
        .boxed()
}

fn noreplace() -> BoxedStrategy<NoReplaceCase> {
    (any::<bool>(), body_len(), body_len(), any::<bool>())
        .prop_map(|(target_exists, src_len, dst_len, native)| NoReplaceCase { target_exists, src_len, dst_len, native })
        .boxed()
}

fn create() -> BoxedStrategy<CreateCase> {
    (2u8..=6, 1u32..=64).prop_map(|(racers, paths)| CreateCase { racers, paths }).boxed()
}

fn append() -> BoxedStrategy<AppendCase> {
    vec(vec(prop_oneof![Just(0u32), 1u32..=64, 0u32..=2 * 4096], 1..60), 2..=4)
        .prop_map(|writers| AppendCase { writers })
        .boxed()
}

// ---- lock schedules ------------------------------------------------------------

fn step(actor: u8, op: LockOp) -> LockStep {
    LockStep { actor, op }
}

fn flock(fd: u8, op: FlockOp, nonblock: bool) -> LockOp {
    LockOp::Flock { fd, op, nonblock }
}

fn record(owner: LockOwner, fd: u8, kind: LockKind, start: u64, len: u64, wait: bool) -> LockOp {
    LockOp::Record { fd, owner, kind, start, len, wait }
}

/// Descriptor housekeeping and, rarely, an end.
fn housekeeping() -> BoxedStrategy<LockOp> {
    prop_oneof![
        3 => (0u8..2).prop_map(|fd| LockOp::Close { fd }),
        3 => (0u8..2).prop_map(|fd| LockOp::Reopen { fd }),
        1 => Just(LockOp::Exit),
        1 => Just(LockOp::Kill),
    ]
    .boxed()
}

fn any_flock() -> BoxedStrategy<LockOp> {
    let op = prop_oneof![Just(FlockOp::Shared), Just(FlockOp::Exclusive), Just(FlockOp::Unlock)];
    prop_oneof![
        8 => (0u8..2, op, any::<bool>()).prop_map(|(fd, op, nb)| flock(fd, op, nb)),
        2 => housekeeping(),
    ]
    .boxed()
}

/// Byte ranges on a small grid, so that overlaps are common; length 0 is
/// "to the end of the file".
fn range() -> BoxedStrategy<(u64, u64)> {
    (
        prop_oneof![Just(0u64), Just(1), Just(4), Just(8), Just(10)],
        prop_oneof![Just(0u64), Just(1), Just(2), Just(5), Just(10)],
    )
        .boxed()
}

fn any_record(owners: Vec<LockOwner>) -> BoxedStrategy<LockOp> {
    let kind = prop_oneof![2 => Just(LockKind::Write), 2 => Just(LockKind::Read), 1 => Just(LockKind::Unlock)];
    let owner = proptest::sample::select(owners);
    prop_oneof![
        8 => (owner, 0u8..2, kind, range(), any::<bool>())
            .prop_map(|(owner, fd, kind, (start, len), wait)| record(owner, fd, kind, start, len, wait)),
        2 => housekeeping(),
    ]
    .boxed()
}

fn tail(op: BoxedStrategy<LockOp>, n: usize) -> BoxedStrategy<Vec<LockStep>> {
    vec((0u8..4, op).prop_map(|(a, op)| step(a, op)), 0..=n).boxed()
}

/// file.lock.flock-exclusive: an exclusive holder; others' LOCK_NB
/// requests get EWOULDBLOCK and blocking ones wait; unlock wakes one; or
/// shared holders coexist and exclude an exclusive request.
fn flock_schedule() -> BoxedStrategy<LockSchedule> {
    (2u8..=4, any::<bool>(), tail(any_flock(), 12))
        .prop_map(|(actors, shared_first, tail)| {
            let last = actors - 1;
            let mut steps = if shared_first {
                vec![
                    step(0, flock(0, FlockOp::Shared, false)),
                    step(1, flock(0, FlockOp::Shared, true)),
                    step(last, flock(1, FlockOp::Exclusive, true)),
                    step(last, flock(1, FlockOp::Exclusive, false)),
                    step(0, flock(0, FlockOp::Unlock, false)),
                    step(1, flock(0, FlockOp::Unlock, false)),
                ]
            } else {
                vec![
                    step(0, flock(0, FlockOp::Exclusive, false)),
                    step(1, flock(0, FlockOp::Shared, true)),
                    step(1, flock(0, FlockOp::Exclusive, true)),
                    step(1, flock(0, FlockOp::Exclusive, false)),
                    step(last, flock(1, FlockOp::Exclusive, false)),
                    step(0, flock(0, FlockOp::Unlock, false)),
                ]
            };
            steps.extend(tail);
            LockSchedule { actors, steps }
        })
        .boxed()
}

/// file.lock.fcntl-ranges: overlapping write locks exclude, disjoint ones
/// do not, and closing the other descriptor drops the holder's locks and
/// wakes the waiter.
fn fcntl_schedule() -> BoxedStrategy<LockSchedule> {
    (2u8..=4, tail(any_record(vec![LockOwner::Process]), 14))
        .prop_map(|(actors, tail)| {
            let p = LockOwner::Process;
            let mut steps = vec![
                step(0, record(p, 0, LockKind::Write, 0, 10, false)),
                step(1, record(p, 0, LockKind::Write, 5, 10, false)),
                step(1, record(p, 0, LockKind::Write, 10, 10, false)),
                step(1, record(p, 1, LockKind::Read, 4, 2, true)),
                step(0, LockOp::Close { fd: 1 }),
                step(0, LockOp::Reopen { fd: 1 }),
            ];
            steps.extend(tail);
            LockSchedule { actors, steps }
        })
        .boxed()
}

/// file.lock.released-on-death: a holder (flock, fcntl or OFD) exits or is
/// killed while others wait; one of them gets the lock.
fn death_schedule() -> BoxedStrategy<LockSchedule> {
    (2u8..=4, 0u8..3, any::<bool>(), 0usize..=12, any::<u64>())
        .prop_flat_map(|(actors, family, kill, n, _)| {
            let op = match family {
                0 => any_flock(),
                1 => any_record(vec![LockOwner::Process]),
                _ => any_record(vec![LockOwner::Ofd, LockOwner::Process]),
            };
            (Just((actors, family, kill)), tail(op, n))
        })
        .prop_map(|((actors, family, kill), tail)| {
            let (take, wait) = match family {
                0 => (flock(0, FlockOp::Exclusive, false), flock(0, FlockOp::Exclusive, false)),
                1 => (
                    record(LockOwner::Process, 0, LockKind::Write, 0, 0, false),
                    record(LockOwner::Process, 0, LockKind::Write, 0, 0, true),
                ),
                _ => (
                    record(LockOwner::Ofd, 0, LockKind::Write, 0, 0, false),
                    record(LockOwner::Ofd, 0, LockKind::Write, 0, 0, true),
                ),
            };
            let mut steps = vec![step(0, take)];
            steps.extend((1..actors).map(|a| step(a, wait)));
            steps.push(step(0, if kill { LockOp::Kill } else { LockOp::Exit }));
            steps.extend(tail);
            LockSchedule { actors, steps }
        })
        .boxed()
}

/// file.lock.ofd: two descriptions in one process conflict; closing the
/// other descriptor keeps the lock; OFD locks conflict with the same
/// process's record locks and with other processes.
fn ofd_schedule() -> BoxedStrategy<LockSchedule> {
    (2u8..=4, tail(any_record(vec![LockOwner::Ofd, LockOwner::Ofd, LockOwner::Process]), 14))
        .prop_map(|(actors, tail)| {
            let o = LockOwner::Ofd;
            let mut steps = vec![
                step(0, record(o, 0, LockKind::Write, 0, 10, false)),
                step(0, record(o, 1, LockKind::Write, 5, 10, false)),
                step(0, record(LockOwner::Process, 0, LockKind::Read, 0, 1, false)),
                step(0, LockOp::Close { fd: 1 }),
                step(1, record(o, 0, LockKind::Read, 0, 1, false)),
                step(1, record(o, 1, LockKind::Write, 9, 0, true)),
                step(0, record(o, 0, LockKind::Unlock, 0, 0, false)),
            ];
            steps.extend(tail);
            LockSchedule { actors, steps }
        })
        .boxed()
}
