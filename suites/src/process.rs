//! `process` properties: one per rule of `spec/rules/process.toml`.
//!
//! Private memory is checked by fork exchanges inside actors, judged by
//! the memory model; another user's memory by an actor that drops to an
//! unprivileged uid and tries every way in; inheritance by readers spawned
//! with a descriptor placed without close-on-exec; supervision by actors
//! that fork children, let them end and reap them.

use ipc_conform_harness::os::cloexec::CloexecBy;
use ipc_conform_harness::os::shm::ForeignAccess;
use ipc_conform_harness::os::signal::ENDING_SIGNALS;
use ipc_conform_harness::os::supervise::Fate;
use ipc_conform_harness::process::foreign::{self, ForeignCase};
use ipc_conform_harness::process::inherit::{self, InheritCase};
use ipc_conform_harness::process::orphan::{self, OrphanCase};
use ipc_conform_harness::process::rules;
use ipc_conform_harness::process::wait::{self, WaitCase};
use ipc_conform_harness::protocol::shm::ForkRegion;
use ipc_conform_harness::shm::memory::{Backing, MemOp, MemSchedule, MemStep, View};
use proptest::collection::vec;
use proptest::prelude::*;

use crate::registry::Property;
use crate::shm::{any_mem_op, check_with, mem_check, mem_replay, numbered, replay_with};

/// The process properties.
pub static PROPERTIES: &[Property] = &[
    Property {
        rule: rules::MEMORY_PRIVATE,
        name: "process_private_memory_writes_after_fork_stay_private",
        check: |cfg| {
            mem_check(
                rules::MEMORY_PRIVATE,
                "process_private_memory_writes_after_fork_stay_private",
                private_memory(),
                cfg,
            )
        },
        replay: |cfg, case| {
            mem_replay(rules::MEMORY_PRIVATE, "process_private_memory_writes_after_fork_stay_private", case, cfg)
        },
    },
    Property {
        rule: rules::NO_FOREIGN_ACCESS,
        name: "process_unprivileged_cannot_reach_another_users_memory",
        check: |cfg| {
            check_with(
                rules::NO_FOREIGN_ACCESS,
                "process_unprivileged_cannot_reach_another_users_memory",
                foreign(),
                foreign::run_foreign,
                cfg,
            )
        },
        replay: |cfg, case| {
            replay_with(
                rules::NO_FOREIGN_ACCESS,
                "process_unprivileged_cannot_reach_another_users_memory",
                case,
                foreign::run_foreign,
                cfg,
            )
        },
    },
    Property {
        rule: rules::FD_INHERITED,
        name: "process_descriptor_without_cloexec_is_inherited_with_shared_offset",
        check: |cfg| {
            check_with(
                rules::FD_INHERITED,
                "process_descriptor_without_cloexec_is_inherited_with_shared_offset",
                inherited(&cfg.entry_points),
                inherit::run,
                cfg,
            )
        },
        replay: |cfg, case| {
            replay_with(
                rules::FD_INHERITED,
                "process_descriptor_without_cloexec_is_inherited_with_shared_offset",
                case,
                inherit::run,
                cfg,
            )
        },
    },
    Property {
        rule: rules::WAIT_STATUS,
        name: "process_waitpid_reports_each_childs_end_exactly_once",
        check: |cfg| {
            check_with(
                rules::WAIT_STATUS,
                "process_waitpid_reports_each_childs_end_exactly_once",
                supervision(Supervised::Status),
                wait::run,
                cfg,
            )
        },
        replay: |cfg, case| {
            replay_with(
                rules::WAIT_STATUS,
                "process_waitpid_reports_each_childs_end_exactly_once",
                case,
                wait::run,
                cfg,
            )
        },
    },
    Property {
        rule: rules::STOP_CONTINUE,
        name: "process_waitpid_reports_each_stop_and_continue_once",
        check: |cfg| {
            check_with(
                rules::STOP_CONTINUE,
                "process_waitpid_reports_each_stop_and_continue_once",
                supervision(Supervised::StopContinue),
                wait::run,
                cfg,
            )
        },
        replay: |cfg, case| {
            replay_with(
                rules::STOP_CONTINUE,
                "process_waitpid_reports_each_stop_and_continue_once",
                case,
                wait::run,
                cfg,
            )
        },
    },
    Property {
        rule: rules::ORPHAN_REPARENT,
        name: "process_orphan_is_reparented_to_the_subreaper_or_an_adopter",
        check: |cfg| {
            check_with(
                rules::ORPHAN_REPARENT,
                "process_orphan_is_reparented_to_the_subreaper_or_an_adopter",
                orphans(cfg.entry_points.iter().any(|e| e == "subreaper")),
                orphan::run,
                cfg,
            )
        },
        replay: |cfg, case| {
            replay_with(
                rules::ORPHAN_REPARENT,
                "process_orphan_is_reparented_to_the_subreaper_or_an_adopter",
                case,
                orphan::run,
                cfg,
            )
        },
    },
    Property {
        rule: rules::SIGCHLD,
        name: "process_child_end_sends_sigchld_and_leaves_a_zombie_until_reaped",
        check: |cfg| {
            check_with(
                rules::SIGCHLD,
                "process_child_end_sends_sigchld_and_leaves_a_zombie_until_reaped",
                supervision(Supervised::Sigchld),
                wait::run,
                cfg,
            )
        },
        replay: |cfg, case| {
            replay_with(
                rules::SIGCHLD,
                "process_child_end_sends_sigchld_and_leaves_a_zombie_until_reaped",
                case,
                wait::run,
                cfg,
            )
        },
    },
    Property {
        rule: rules::PIDFD_EXIT,
        name: "process_pidfd_readable_once_its_process_ends",
        check: |cfg| {
            check_with(
                rules::PIDFD_EXIT,
                "process_pidfd_readable_once_its_process_ends",
                supervision(Supervised::Pidfd),
                wait::run,
                cfg,
            )
        },
        replay: |cfg, case| {
            replay_with(rules::PIDFD_EXIT, "process_pidfd_readable_once_its_process_ends", case, wait::run, cfg)
        },
    },
];

/// Which supervision rule a generator serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Supervised {
    /// process.wait.status: SIGCHLD blocked; waits, asks of SIGCHLD and existence.
    Status,
    /// process.sigchld: SIGCHLD blocked or ignored, asked more often.
    Sigchld,
    /// process.pidfd.exit (Linux): pidfds opened and polled besides.
    Pidfd,
    /// process.wait.stop-continue: children stopped and continued, and
    /// waited for with WUNTRACED | WCONTINUED besides.
    StopContinue,
}

/// How a supervised child ends: exit codes at the boundaries and at
/// random, a signal it raises, a signal its parent sends.
fn fate() -> BoxedStrategy<Fate> {
    let signal = proptest::sample::select(ENDING_SIGNALS.to_vec());
    prop_oneof![
        Just(Fate::Exit(0)),
        Just(Fate::Exit(1)),
        Just(Fate::Exit(255)),
        any::<u8>().prop_map(Fate::Exit),
        signal.clone().prop_map(Fate::Raise),
        signal.prop_map(Fate::Killed),
    ]
    .boxed()
}

/// process.wait.status: one or two supervisors fork children with their
/// fates, then release and reap them in a random order, by pid or any,
/// blocking or with WNOHANG, asking between whether SIGCHLD is pending and
/// whether a child still exists. process.sigchld: the same, with SIGCHLD
/// blocked or set to SIG_IGN, and asking more often. process.pidfd.exit:
/// pidfds opened for the children and polled, now or without a timeout.
/// process.wait.stop-continue: children stopped and continued before
/// their release, and waited for with WUNTRACED | WCONTINUED, after a
/// fixed walk through a stop reported, a continue reported, and a stop
/// replaced by a continue before it was reported.
fn supervision(what: Supervised) -> BoxedStrategy<WaitCase> {
    use ipc_conform_harness::os::supervise::SigchldMode;
    use ipc_conform_harness::process::wait::{Op, Step};
    let kinds = match what {
        Supervised::Status => (0u8..6).boxed(),
        Supervised::Sigchld => (0u8..8).boxed(),
        Supervised::Pidfd => (0u8..11).boxed(),
        Supervised::StopContinue => prop_oneof![1 => 0u8..8, 2 => 11u8..17].boxed(),
    };
    let later = (0u8..2, kinds, 0u8..8, any::<bool>());
    let mode = if what == Supervised::Sigchld {
        prop_oneof![Just(SigchldMode::Blocked), Just(SigchldMode::Ignored)].boxed()
    } else {
        Just(SigchldMode::Blocked).boxed()
    };
    (1u8..=2, vec((0u8..2, fate()), 1..10), vec(later, 0..30), mode)
        .prop_map(move |(supervisors, spawns, later, sigchld)| {
            let mut steps: Vec<Step> =
                spawns.into_iter().map(|(a, fate)| Step { actor: a % supervisors, op: Op::Spawn(fate) }).collect();
            // pidfds: one for every child at once, and at the end each
            // child let go, waited for through its pidfd, reaped, asked.
            let every = |op: fn(u8) -> Op| -> Vec<Step> {
                (0..supervisors).flat_map(|a| (0..8).map(move |i| Step { actor: a, op: op(i) })).collect()
            };
            let pidfds = what == Supervised::Pidfd;
            if pidfds {
                steps.extend(every(Op::OpenPidfd));
            }
            if what == Supervised::StopContinue {
                let job = |child, nohang| Op::ReapJob { child, nohang };
                let walk = [
                    Op::Stop(0),
                    job(Some(0), true),
                    job(Some(0), true),
                    Op::Continue(0),
                    job(None, false),
                    Op::Stop(0),
                    Op::Continue(0),
                    job(Some(0), true),
                    job(None, true),
                    Op::Release(0),
                    job(Some(0), false),
                ];
                steps.extend((0..supervisors).flat_map(|a| walk.map(|op| Step { actor: a, op })));
            }
            steps.extend(later.into_iter().map(|(a, kind, i, nohang)| {
                let op = match kind {
                    0 | 1 => Op::Release(i),
                    2 => Op::Reap { child: Some(i), nohang },
                    3 => Op::Reap { child: None, nohang },
                    4 | 6 => Op::Pending,
                    5 | 7 => Op::Exists(i),
                    8 => Op::OpenPidfd(i),
                    9 | 10 => Op::PollPidfd { child: i, wait: nohang },
                    11 | 12 => Op::Stop(i),
                    13 | 14 => Op::Continue(i),
                    15 => Op::ReapJob { child: Some(i), nohang },
                    _ => Op::ReapJob { child: None, nohang },
                };
                Step { actor: a % supervisors, op }
            }));
            if pidfds {
                steps.extend(every(Op::Release));
                steps.extend(every(|i| Op::PollPidfd { child: i, wait: true }));
                steps.extend(every(|i| Op::Reap { child: Some(i), nohang: false }));
                steps.extend(every(|i| Op::PollPidfd { child: i, wait: false }));
            }
            WaitCase { supervisors, sigchld, steps }.issuable()
        })
        .boxed()
}

/// process.orphan.reparent: one to three families (a child that forks a
/// grandchild), a subreaper or not where the platform has subreapers;
/// family 0 walks through an ask while its parent lives, its parent's
/// release and reap, an ask of the orphan, and its own end and reap;
/// random steps of every family around it.
fn orphans(subreapers: bool) -> BoxedStrategy<OrphanCase> {
    use ipc_conform_harness::process::orphan::{Op, Step};
    let subreaper = if subreapers { any::<bool>().boxed() } else { Just(false).boxed() };
    let random = || vec((0u8..6, 0u8..3), 0..12);
    (subreaper, vec(fate(), 1..=3), random(), random())
        .prop_map(|(subreaper, fates, before, after)| {
            let place = |ops: Vec<(u8, u8)>| -> Vec<Step> {
                ops.into_iter()
                    .map(|(kind, i)| {
                        let op = match kind {
                            0 | 1 => Op::Ask(i),
                            2 => Op::Release(i),
                            3 => Op::ReapChild(i),
                            4 => Op::LetGo(i),
                            _ => Op::ReapGrandchild(i),
                        };
                        Step { actor: 0, op }
                    })
                    .collect()
            };
            let mut steps: Vec<Step> = fates.into_iter().map(|f| Step { actor: 0, op: Op::Spawn(f) }).collect();
            steps.extend(place(before));
            let walk = [Op::Ask(0), Op::Release(0), Op::ReapChild(0), Op::Ask(0), Op::LetGo(0), Op::ReapGrandchild(0)];
            steps.extend(walk.map(|op| Step { actor: 0, op }));
            steps.extend(place(after));
            OrphanCase { subreaper, steps }.issuable()
        })
        .boxed()
}

/// process.memory.private: fork exchanges over heap and anonymous private
/// memory, among other memory steps.
fn private_memory() -> BoxedStrategy<MemSchedule> {
    let private = prop_oneof![Just(ForkRegion::Heap), Just(ForkRegion::AnonPrivate)];
    let noise = vec((0u8..4, any_mem_op()).prop_map(|(actor, op)| MemStep { actor, op }), 0..6);
    (vec((0u8..2, private), 1..4), noise, any::<u64>())
        .prop_map(|(forks, noise, salt)| {
            let mut steps: Vec<MemStep> = forks
                .into_iter()
                .map(|(actor, region)| MemStep { actor, op: MemOp::Fork { region, a: 0, c: 0, p: 0 } })
                .collect();
            steps.extend(noise);
            MemSchedule { backing: Backing::Shm, views: vec![View::Shared; 2], steps: numbered(steps, salt) }
        })
        .boxed()
}

fn how() -> BoxedStrategy<ForeignAccess> {
    prop_oneof![Just(ForeignAccess::VmCall), Just(ForeignAccess::ProcMem), Just(ForeignAccess::PtraceAttach)].boxed()
}

/// process.memory.no-foreign-access: every way in, reading and writing,
/// then generated further attempts.
fn foreign() -> BoxedStrategy<ForeignCase> {
    (1u64..u64::MAX, vec((how(), prop::option::of(any::<u64>())), 0..4))
        .prop_map(|(value, more)| {
            let mut probes = vec![
                (ForeignAccess::VmCall, None),
                (ForeignAccess::ProcMem, None),
                (ForeignAccess::PtraceAttach, None),
                (ForeignAccess::VmCall, Some(!value)),
                (ForeignAccess::ProcMem, Some(!value)),
            ];
            probes.extend(more);
            ForeignCase { value, probes }
        })
        .boxed()
}

/// process.fd.inherited: 1-3 readers share one inherited descriptor at a
/// generated number; reads of every size interleave.
/// Besides, the spawner holds one descriptor made close-on-exec through
/// each interface the rule lists here, each cleared again or not.
fn inherited(entry_points: &[String]) -> BoxedStrategy<InheritCase> {
    let number = prop_oneof![Just(5i32), Just(9i32), Just(63i32), Just(64i32), 5i32..=150];
    let len = prop_oneof![Just(0u32), Just(1u32), Just(4096u32), 1u32..=20000];
    let max = prop_oneof![Just(0u32), Just(1u32), Just(4096u32), 1u32..=8192];
    let ways = CloexecBy::among(entry_points);
    let cleared = vec(any::<bool>(), ways.len());
    (1u8..=3, number, len, vec((0u8..3, max), 1..8), cleared)
        .prop_map(move |(readers, number, len, reads, cleared)| InheritCase {
            readers,
            number,
            len,
            reads,
            others: ways.iter().copied().zip(cleared).collect(),
        })
        .boxed()
}
