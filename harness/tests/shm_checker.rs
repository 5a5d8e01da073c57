//! The checker can fail: for each `shm` and `process` rule, a recorded
//! trace that breaks it is fed to the checker, which must reject it and
//! name that rule; beside each, the same trace with the allowed outcome is
//! accepted, so the checker does not simply reject everything.

use ipc_conform_harness::evidence::Evidence;
use ipc_conform_harness::observed::Observed;
use ipc_conform_harness::os::proc::{InSyscall, WaitState};
use ipc_conform_harness::os::shm::ForeignAccess;
use ipc_conform_harness::process::foreign::{judge_foreign, ForeignEvent, ForeignOp};
use ipc_conform_harness::process::inherit::{file_byte, InheritEvent, InheritJudge, InheritOp};
use ipc_conform_harness::process::rules as process_rules;
use ipc_conform_harness::protocol::shm::ForkRegion;
use ipc_conform_harness::protocol::Reply;
use ipc_conform_harness::shm::access::{judge_permissions, AccessEvent, AccessOp};
use ipc_conform_harness::shm::memory::{Backing, MemEvent, MemModel, MemOp, View};
use ipc_conform_harness::shm::rules;
use ipc_conform_harness::shm::sync::{judge_hammer, judge_publish, Counter, PublishCase, SyncEvent, SyncOp, WakeJudge};
use ipc_conform_harness::shm::Violation;

fn values(v: &[i64]) -> Observed {
    Observed::Returned(Reply::Values(v.to_vec()))
}

fn done() -> Observed {
    Observed::Returned(Reply::Done)
}

fn errno(e: i32) -> Observed {
    Observed::Returned(Reply::Errno(e))
}

fn mem(actor: u8, op: MemOp, observed: Observed) -> MemEvent {
    MemEvent::Step { index: 0, actor, op, observed }
}

/// Feeds a trace to a fresh memory model; the first violation, if any.
fn run_mem(backing: Backing, views: &[View], trace: &[MemEvent]) -> Result<(), Violation> {
    let mut model = MemModel::new(backing, &ipc_conform_harness::Constants::linux_example());
    for (a, view) in views.iter().enumerate() {
        model.apply(&mem(a as u8, MemOp::Map { view: *view }, values(&[0])))?;
    }
    for e in trace {
        model.apply(e)?;
    }
    Ok(())
}

fn rejects(result: Result<(), Violation>, rule: &str) {
    match result {
        Err(v) => {
            assert_eq!(v.rule(), rule, "wrong rule named: {v}");
            assert!(!v.message.is_empty());
        }
        Ok(()) => panic!("the checker accepted a trace that breaks {rule}"),
    }
}

// ---- process.memory.private ----------------------------------------

#[test]
fn process_memory_private_rejects_a_child_store_seen_by_the_parent() {
    let fork = |observed| mem(0, MemOp::Fork { region: ForkRegion::Heap, a: 1, c: 2, p: 3 }, observed);
    rejects(run_mem(Backing::Shm, &[View::Shared], &[fork(values(&[1, 2, 3]))]), process_rules::MEMORY_PRIVATE);
    rejects(run_mem(Backing::Shm, &[View::Shared], &[fork(values(&[0, 1, 2]))]), process_rules::MEMORY_PRIVATE);
    assert_eq!(run_mem(Backing::Shm, &[View::Shared], &[fork(values(&[1, 1, 2]))]), Ok(()));
}

// ---- process.memory.no-foreign-access ------------------------------

#[test]
fn no_foreign_access_rejects_a_read_or_write_that_got_through() {
    let probe = |how, write, observed| ForeignEvent::Step {
        index: 0,
        actor: 1,
        op: ForeignOp::Foreign { how, write },
        observed,
    };
    rejects(judge_foreign(&probe(ForeignAccess::ProcMem, None, values(&[42]))), process_rules::NO_FOREIGN_ACCESS);
    rejects(judge_foreign(&probe(ForeignAccess::VmCall, Some(7), done())), process_rules::NO_FOREIGN_ACCESS);
    rejects(judge_foreign(&probe(ForeignAccess::PtraceAttach, None, done())), process_rules::NO_FOREIGN_ACCESS);
    let secret =
        |observed| ForeignEvent::Step { index: 0, actor: 0, op: ForeignOp::ReadSecret { value: 42 }, observed };
    rejects(judge_foreign(&secret(values(&[7]))), process_rules::NO_FOREIGN_ACCESS);
    assert_eq!(judge_foreign(&probe(ForeignAccess::ProcMem, None, errno(libc::EACCES))), Ok(()));
    assert_eq!(judge_foreign(&secret(values(&[42]))), Ok(()));
}

// ---- process.fd.inherited -------------------------------------------

fn inherit(actor: u8, op: InheritOp, observed: Observed) -> InheritEvent {
    InheritEvent::Step { index: 0, actor, op, observed }
}

fn data(from: u64, n: u64) -> Observed {
    Observed::Returned(Reply::Data((from..from + n).map(file_byte).collect()))
}

fn inherit_trace(trace: &[InheritEvent]) -> Result<(), Violation> {
    let mut judge = InheritJudge::default();
    judge.apply(&inherit(u8::MAX, InheritOp::File, values(&[1, 2, 100])))?;
    for e in trace {
        judge.apply(e)?;
    }
    Ok(())
}

#[test]
fn fd_inherited_rejects_separate_offsets_a_missing_descriptor_and_a_leaked_cloexec_one() {
    let read = |actor, observed| inherit(actor, InheritOp::Read { max: 10 }, observed);
    // The second reader starts from 0 again: not one open file description.
    rejects(inherit_trace(&[read(0, data(0, 10)), read(1, data(0, 10))]), process_rules::FD_INHERITED);
    assert_eq!(inherit_trace(&[read(0, data(0, 10)), read(1, data(10, 10))]), Ok(()));
    let placed = InheritOp::Identity { number: 9, inherited: true };
    rejects(inherit_trace(&[inherit(0, placed.clone(), errno(libc::EBADF))]), process_rules::FD_INHERITED);
    rejects(
        inherit_trace(&[read(0, data(0, 10)), inherit(1, placed.clone(), values(&[1, 2, 0]))]),
        process_rules::FD_INHERITED,
    );
    assert_eq!(inherit_trace(&[inherit(0, placed, values(&[1, 2, 0]))]), Ok(()));
    let cloexec = InheritOp::Identity { number: 7, inherited: false };
    rejects(inherit_trace(&[inherit(0, cloexec.clone(), values(&[1, 2, 0]))]), process_rules::FD_INHERITED);
    assert_eq!(inherit_trace(&[inherit(0, cloexec.clone(), errno(libc::EBADF))]), Ok(()));
    assert_eq!(inherit_trace(&[inherit(0, cloexec, values(&[1, 99, 0]))]), Ok(()));
    rejects(
        inherit_trace(&[read(0, data(0, 10)), inherit(u8::MAX, InheritOp::CoordinatorOffset, values(&[0]))]),
        process_rules::FD_INHERITED,
    );
}

#[test]
fn fd_inherited_rejects_a_close_on_exec_flag_not_set_leaked_across_exec_or_lost_when_cleared() {
    use ipc_conform_harness::os::cloexec::CloexecBy;
    let by = CloexecBy::Accept4;
    let made = |cleared, flag| inherit(u8::MAX, InheritOp::Made { by, cleared }, values(&[40, 7, 8, flag]));
    let seen = |cleared, observed| inherit(0, InheritOp::OtherIdentity { by, cleared, number: 40 }, observed);
    // F_GETFD must show the flag at once, set or cleared.
    rejects(inherit_trace(&[made(false, 0)]), process_rules::FD_INHERITED);
    rejects(inherit_trace(&[made(true, 1)]), process_rules::FD_INHERITED);
    // Set: the object must not be at its number after exec (another may).
    rejects(inherit_trace(&[made(false, 1), seen(false, values(&[7, 8, 0]))]), process_rules::FD_INHERITED);
    assert_eq!(inherit_trace(&[made(false, 1), seen(false, errno(libc::EBADF))]), Ok(()));
    assert_eq!(inherit_trace(&[made(false, 1), seen(false, values(&[7, 9, 0]))]), Ok(()));
    // Cleared: it must be there.
    rejects(inherit_trace(&[made(true, 0), seen(true, errno(libc::EBADF))]), process_rules::FD_INHERITED);
    assert_eq!(inherit_trace(&[made(true, 0), seen(true, values(&[7, 8, u64::MAX as i64]))]), Ok(()));
}

// ---- shm.shared.visible ----------------------------------------------

#[test]
fn shared_visible_rejects_a_store_not_seen_through_another_shared_mapping() {
    let views = [View::Shared, View::Shared];
    let store = mem(0, MemOp::Store { word: 1, value: 0x77 }, done());
    rejects(
        run_mem(Backing::Shm, &views, &[store.clone(), mem(1, MemOp::Load { word: 1 }, values(&[0]))]),
        rules::SHARED_VISIBLE,
    );
    assert_eq!(run_mem(Backing::Shm, &views, &[store, mem(1, MemOp::Load { word: 1 }, values(&[0x77]))]), Ok(()));
    let fork = |observed| mem(0, MemOp::Fork { region: ForkRegion::AnonShared, a: 1, c: 2, p: 3 }, observed);
    rejects(run_mem(Backing::Shm, &views, &[fork(values(&[1, 1, 2]))]), rules::SHARED_VISIBLE);
    assert_eq!(run_mem(Backing::Shm, &views, &[fork(values(&[1, 2, 3]))]), Ok(()));
}

// ---- shm.private.copy-on-write ---------------------------------------

#[test]
fn private_cow_rejects_a_private_store_that_reached_others_or_the_file() {
    let views = [View::Private, View::Shared];
    let store = mem(0, MemOp::Store { word: 2, value: 0x55 }, done());
    rejects(
        run_mem(Backing::File, &views, &[store.clone(), mem(1, MemOp::Load { word: 2 }, values(&[0x55]))]),
        rules::PRIVATE_COW,
    );
    rejects(
        run_mem(Backing::File, &views, &[store.clone(), mem(1, MemOp::Read { word: 2 }, values(&[0x55]))]),
        rules::PRIVATE_COW,
    );
    rejects(
        run_mem(Backing::File, &views, &[store.clone(), mem(0, MemOp::Load { word: 2 }, values(&[0]))]),
        rules::PRIVATE_COW,
    );
    assert_eq!(
        run_mem(
            Backing::File,
            &views,
            &[
                store,
                mem(1, MemOp::Load { word: 2 }, values(&[0])),
                mem(0, MemOp::Load { word: 2 }, values(&[0x55])),
                // An unwritten page of the private view may show the object's change.
                mem(1, MemOp::Store { word: 3, value: 0x66 }, done()),
                mem(0, MemOp::Load { word: 3 }, values(&[0x66])),
            ]
        ),
        Ok(())
    );
}

// ---- shm.sync.no-lost-updates ----------------------------------------

#[test]
fn no_lost_updates_rejects_a_short_atomic_or_locked_counter_but_not_a_short_plain_one() {
    let load = |c, v| SyncEvent::Step { index: 0, actor: 0, op: SyncOp::Load(c), observed: values(&[v]) };
    rejects(judge_hammer(100, &load(Counter::Atomic, 99)), rules::NO_LOST_UPDATES);
    rejects(judge_hammer(100, &load(Counter::Locked, 97)), rules::NO_LOST_UPDATES);
    assert_eq!(judge_hammer(100, &load(Counter::Atomic, 100)), Ok(()));
    // Plain increments losing updates is the evidence, not a verdict.
    assert_eq!(judge_hammer(100, &load(Counter::Plain, 50)), Ok(()));
}

// ---- shm.sync.publish -------------------------------------------------

#[test]
fn publish_rejects_stale_data_after_the_flag_and_a_torn_or_reordered_ring() {
    let flag = PublishCase::Flag { words: 4, rounds: 3, producer_pauses: vec![], consumer_pauses: vec![] };
    let seen =
        |v: &[i64]| SyncEvent::Step { index: 0, actor: 1, op: SyncOp::Observed { rounds: 3 }, observed: values(v) };
    rejects(judge_publish(&flag, &seen(&[1, 1, 2, 1, 3, 3])), rules::PUBLISH);
    rejects(judge_publish(&flag, &seen(&[2, 2, 1, 3])), rules::PUBLISH);
    assert_eq!(judge_publish(&flag, &seen(&[1, 1, 3, 3])), Ok(()));
    let ring = PublishCase::Ring { slots: 2, words: 3, messages: 3, producer_pauses: vec![], consumer_pauses: vec![] };
    let got =
        |v: &[i64]| SyncEvent::Step { index: 0, actor: 1, op: SyncOp::Received { messages: 3 }, observed: values(v) };
    rejects(judge_publish(&ring, &got(&[0, 4, 2])), rules::PUBLISH);
    rejects(judge_publish(&ring, &got(&[0, 3, 4])), rules::PUBLISH);
    rejects(judge_publish(&ring, &got(&[0, 2])), rules::PUBLISH);
    assert_eq!(judge_publish(&ring, &got(&[0, 2, 4])), Ok(()));
}

// ---- shm.sync.wait-wake -----------------------------------------------

fn futex_evidence() -> Observed {
    Observed::Blocked(Evidence::Proc(WaitState {
        state: 'S',
        syscall: Some(InSyscall { nr: 202, arg0: 0 }),
        wchan: "futex_do_wait".into(),
    }))
}

#[test]
fn wait_wake_rejects_a_wait_that_returns_before_the_post_or_wakes_wrong() {
    let ev = |actor, op, observed| SyncEvent::Step { index: 0, actor, op, observed };
    let mut judge = WakeJudge::default();
    rejects(judge.apply(&ev(1, SyncOp::Wait { round: 1 }, values(&[0]))), rules::WAIT_WAKE);

    let mut judge = WakeJudge::default();
    judge.apply(&ev(1, SyncOp::Wait { round: 1 }, futex_evidence())).unwrap();
    rejects(judge.apply(&ev(1, SyncOp::Woken { round: 1 }, values(&[1]))), rules::WAIT_WAKE);

    let mut judge = WakeJudge::default();
    judge.apply(&ev(1, SyncOp::Wait { round: 1 }, futex_evidence())).unwrap();
    rejects(judge.apply(&ev(0, SyncOp::Post { round: 1, waiters: 1 }, values(&[0]))), rules::WAIT_WAKE);

    let mut judge = WakeJudge::default();
    judge.apply(&ev(1, SyncOp::Wait { round: 1 }, futex_evidence())).unwrap();
    judge.apply(&ev(0, SyncOp::Post { round: 1, waiters: 1 }, values(&[1]))).unwrap();
    rejects(judge.apply(&ev(1, SyncOp::Woken { round: 1 }, values(&[0]))), rules::WAIT_WAKE);

    let mut judge = WakeJudge::default();
    judge.apply(&ev(1, SyncOp::Wait { round: 1 }, futex_evidence())).unwrap();
    judge.apply(&ev(0, SyncOp::Post { round: 1, waiters: 1 }, values(&[1]))).unwrap();
    assert_eq!(judge.apply(&ev(1, SyncOp::Woken { round: 1 }, values(&[1]))), Ok(()));
}

// ---- shm.name.lifetime ------------------------------------------------

#[test]
fn name_lifetime_rejects_an_open_after_unlink_and_a_mapping_that_lost_its_contents() {
    let views = [View::Shared, View::Shared];
    let unlink = mem(0, MemOp::Unlink, done());
    rejects(run_mem(Backing::Shm, &views, &[unlink.clone(), mem(1, MemOp::OpenByName, done())]), rules::NAME_LIFETIME);
    rejects(run_mem(Backing::Shm, &views, &[unlink.clone(), mem(1, MemOp::Unlink, done())]), rules::NAME_LIFETIME);
    rejects(run_mem(Backing::Shm, &views, &[mem(1, MemOp::OpenByName, errno(libc::ENOENT))]), rules::NAME_LIFETIME);
    let store = mem(0, MemOp::Store { word: 0, value: 9 }, done());
    rejects(
        run_mem(Backing::Shm, &views, &[store.clone(), unlink.clone(), mem(1, MemOp::Load { word: 0 }, values(&[0]))]),
        rules::NAME_LIFETIME,
    );
    assert_eq!(
        run_mem(
            Backing::Shm,
            &views,
            &[
                store,
                unlink,
                mem(1, MemOp::OpenByName, errno(libc::ENOENT)),
                mem(1, MemOp::Load { word: 0 }, values(&[9]))
            ]
        ),
        Ok(())
    );
}

// ---- shm.permissions ---------------------------------------------------

#[test]
fn permissions_rejects_another_uid_opening_a_0600_object() {
    let open = |mode, write, owner, observed| AccessEvent::Step {
        index: 0,
        actor: 1,
        op: AccessOp::Open { mode, write, owner },
        observed,
    };
    rejects(judge_permissions(&open(0o600, true, false, done())), rules::PERMISSIONS);
    rejects(judge_permissions(&open(0o600, false, false, done())), rules::PERMISSIONS);
    rejects(judge_permissions(&open(0o644, false, false, errno(libc::EACCES))), rules::PERMISSIONS);
    rejects(judge_permissions(&open(0o600, true, true, errno(libc::EACCES))), rules::PERMISSIONS);
    assert_eq!(judge_permissions(&open(0o600, true, false, errno(libc::EACCES))), Ok(()));
    assert_eq!(judge_permissions(&open(0o644, false, false, done())), Ok(()));
}

// ---- shm.file.coherence ------------------------------------------------

#[test]
fn file_coherence_rejects_a_write_not_seen_by_a_mapping_and_a_store_not_seen_by_read() {
    let views = [View::Shared, View::Shared];
    let write = mem(0, MemOp::Write { word: 2, value: 0x99 }, Observed::Returned(Reply::Count(8)));
    rejects(
        run_mem(Backing::File, &views, &[write.clone(), mem(1, MemOp::Load { word: 2 }, values(&[0]))]),
        rules::FILE_COHERENCE,
    );
    let store = mem(1, MemOp::Store { word: 3, value: 0x44 }, done());
    rejects(
        run_mem(Backing::File, &views, &[store.clone(), mem(0, MemOp::Read { word: 3 }, values(&[0]))]),
        rules::FILE_COHERENCE,
    );
    assert_eq!(
        run_mem(
            Backing::File,
            &views,
            &[
                write,
                mem(1, MemOp::Load { word: 2 }, values(&[0x99])),
                store,
                mem(0, MemOp::Read { word: 3 }, values(&[0x44]))
            ]
        ),
        Ok(())
    );
}

#[test]
fn waitpid_must_report_the_status_the_child_ended_with() {
    use ipc_conform_harness::checker::{Checker, Event};
    use ipc_conform_harness::os::supervise::Fate;
    use ipc_conform_harness::process::wait::{Op, WaitModel};
    let mut m = WaitModel::new(1);
    let mut step = |op, reply| m.apply(&Event::Step { index: 0, actor: 0, op, observed: Observed::Returned(reply) });
    step(Op::Spawn(Fate::Raise(libc::SIGUSR1)), Reply::Values(vec![77])).unwrap();
    step(Op::Release(0), Reply::Done).unwrap();
    // Killed by a signal, reported as an exit with 128 + the signal.
    let as_exit = Reply::Values(vec![77, 1, 128 + i64::from(libc::SIGUSR1)]);
    rejects(step(Op::Reap { child: Some(0), nohang: false }, as_exit), process_rules::WAIT_STATUS);
}

#[test]
fn an_ended_child_stays_until_reaped_and_its_sigchld_is_owed() {
    use ipc_conform_harness::checker::{Checker, Event};
    use ipc_conform_harness::os::supervise::Fate;
    use ipc_conform_harness::process::wait::{Op, WaitModel};
    let mut m = WaitModel::new(1);
    let mut step = |op, reply| m.apply(&Event::Step { index: 0, actor: 0, op, observed: Observed::Returned(reply) });
    step(Op::Spawn(Fate::Exit(3)), Reply::Values(vec![77])).unwrap();
    // Never released: it cannot have ended, so no SIGCHLD.
    rejects(step(Op::Pending, Reply::Values(vec![1])), process_rules::SIGCHLD);
    step(Op::Release(0), Reply::Done).unwrap();
    // Released, not reaped: a zombie at most, never gone.
    rejects(step(Op::Exists(0), Reply::Errno(libc::ESRCH)), process_rules::SIGCHLD);
    step(Op::Reap { child: Some(0), nohang: false }, Reply::Values(vec![77, 1, 3])).unwrap();
    rejects(step(Op::Pending, Reply::Values(vec![0])), process_rules::SIGCHLD);
}

#[test]
fn a_pidfd_is_readable_once_its_child_ends_and_not_before() {
    use ipc_conform_harness::checker::{Checker, Event};
    use ipc_conform_harness::os::supervise::Fate;
    use ipc_conform_harness::process::wait::{Op, WaitModel};
    let mut m = WaitModel::new(1);
    let mut step = |op, reply| m.apply(&Event::Step { index: 0, actor: 0, op, observed: Observed::Returned(reply) });
    step(Op::Spawn(Fate::Exit(0)), Reply::Values(vec![77])).unwrap();
    step(Op::OpenPidfd(0), Reply::Done).unwrap();
    let now = Op::PollPidfd { child: 0, wait: false };
    rejects(step(now, Reply::Values(vec![1])), process_rules::PIDFD_EXIT);
    step(Op::Release(0), Reply::Done).unwrap();
    rejects(step(Op::PollPidfd { child: 0, wait: true }, Reply::Values(vec![0])), process_rules::PIDFD_EXIT);
    step(Op::Reap { child: Some(0), nohang: false }, Reply::Values(vec![77, 1, 0])).unwrap();
    rejects(step(now, Reply::Values(vec![0])), process_rules::PIDFD_EXIT);
}

#[test]
fn a_stop_is_owed_to_a_waitpid_with_wuntraced_once_confirmed() {
    use ipc_conform_harness::checker::{Checker, Event};
    use ipc_conform_harness::os::supervise::Fate;
    use ipc_conform_harness::process::wait::{Op, WaitModel};
    let mut m = WaitModel::new(1);
    let mut step = |op, reply| m.apply(&Event::Step { index: 0, actor: 0, op, observed: Observed::Returned(reply) });
    step(Op::Spawn(Fate::Exit(0)), Reply::Values(vec![77])).unwrap();
    step(Op::Stop(0), Reply::Done).unwrap();
    let job = Op::ReapJob { child: Some(0), nohang: true };
    rejects(step(job, Reply::Values(vec![])), process_rules::STOP_CONTINUE);
}

#[test]
fn an_orphan_still_naming_its_reaped_parent_is_refused() {
    use ipc_conform_harness::checker::{Checker, Event};
    use ipc_conform_harness::os::supervise::Fate;
    use ipc_conform_harness::process::orphan::{Op, OrphanModel};
    let mut m = OrphanModel::new(false);
    let mut step = |op, reply| m.apply(&Event::Step { index: 0, actor: 0, op, observed: Observed::Returned(reply) });
    step(Op::Spawn(Fate::Exit(0)), Reply::Values(vec![20, 21, 10])).unwrap();
    step(Op::Release(0), Reply::Done).unwrap();
    step(Op::ReapChild(0), Reply::Values(vec![20, 1, 0])).unwrap();
    rejects(step(Op::Ask(0), Reply::Values(vec![21, 20, 1])), process_rules::ORPHAN_REPARENT);
}

#[test]
fn every_rule_has_a_checker_test_here() {
    let source = include_str!("shm_checker.rs");
    for rule in process_rules::ALL.iter().chain(rules::SHM.iter()) {
        let constant = match *rule {
            r if r == process_rules::MEMORY_PRIVATE => "MEMORY_PRIVATE",
            r if r == process_rules::NO_FOREIGN_ACCESS => "NO_FOREIGN_ACCESS",
            r if r == process_rules::FD_INHERITED => "FD_INHERITED",
            r if r == process_rules::WAIT_STATUS => "WAIT_STATUS",
            r if r == process_rules::STOP_CONTINUE => "STOP_CONTINUE",
            r if r == process_rules::ORPHAN_REPARENT => "ORPHAN_REPARENT",
            r if r == process_rules::SIGCHLD => "SIGCHLD",
            r if r == process_rules::PIDFD_EXIT => "PIDFD_EXIT",
            r if r == rules::SHARED_VISIBLE => "SHARED_VISIBLE",
            r if r == rules::PRIVATE_COW => "PRIVATE_COW",
            r if r == rules::NO_LOST_UPDATES => "NO_LOST_UPDATES",
            r if r == rules::PUBLISH => "PUBLISH",
            r if r == rules::WAIT_WAKE => "WAIT_WAKE",
            r if r == rules::NAME_LIFETIME => "NAME_LIFETIME",
            r if r == rules::PERMISSIONS => "PERMISSIONS",
            r if r == rules::FILE_COHERENCE => "FILE_COHERENCE",
            other => panic!("no checker test for {other}"),
        };
        let named = source.contains(&format!("rules::{constant})")) || source.contains(&format!("rules::{constant},"));
        assert!(named, "no rejection naming {rule}");
    }
}

#[test]
fn malformed_observations_are_rejected_without_panicking() {
    use ipc_conform_harness::observed::Death;
    let died = Observed::Died(Death { code: None, signal: Some(9) });
    let views = [View::Shared, View::Shared];
    for observed in [values(&[]), values(&[5, 0, 1]), died.clone(), done(), errno(libc::EIO)] {
        rejects(
            run_mem(Backing::Shm, &views, &[mem(1, MemOp::Load { word: 0 }, observed.clone())]),
            rules::SHARED_VISIBLE,
        );
        let fork = mem(0, MemOp::Fork { region: ForkRegion::Heap, a: 1, c: 2, p: 3 }, observed.clone());
        rejects(run_mem(Backing::Shm, &views, &[fork]), process_rules::MEMORY_PRIVATE);
        let flag = PublishCase::Flag { words: 1, rounds: 1, producer_pauses: vec![], consumer_pauses: vec![] };
        let e = SyncEvent::Step { index: 0, actor: 1, op: SyncOp::Observed { rounds: 1 }, observed: observed.clone() };
        rejects(judge_publish(&flag, &e), rules::PUBLISH);
        rejects(
            inherit_trace(&[inherit(0, InheritOp::Read { max: 4 }, observed.clone())]),
            process_rules::FD_INHERITED,
        );
    }
    // A word out of range in a recorded trace is refused, not a panic.
    let mut model = MemModel::new(Backing::Shm, &ipc_conform_harness::Constants::linux_example());
    model.apply(&mem(0, MemOp::Map { view: View::Shared }, values(&[0]))).unwrap();
    assert!(model.apply(&mem(0, MemOp::Load { word: 200 }, values(&[0]))).is_err());
}

#[test]
fn no_foreign_access_takes_only_a_denial_for_a_denial() {
    let probe = |how, write, observed| ForeignEvent::Step {
        index: 0,
        actor: 1,
        op: ForeignOp::Foreign { how, write },
        observed,
    };
    // A call that does not exist, or an address fault after the permission
    // check, is no proof that another user's memory is out of reach.
    for e in [libc::ENOSYS, libc::EFAULT, libc::EINVAL, libc::EIO] {
        assert!(judge_foreign(&probe(ForeignAccess::VmCall, None, errno(e))).is_err(), "errno {e} taken as a denial");
    }
    assert_eq!(judge_foreign(&probe(ForeignAccess::VmCall, None, errno(libc::EPERM))), Ok(()));
}

#[test]
fn a_refused_private_mapping_of_a_shm_object_is_allowed_only_where_the_catalogue_says() {
    use ipc_conform_harness::Constants;
    let refused = mem(0, MemOp::Map { view: View::Private }, errno(libc::EINVAL));
    let on = |k: &Constants| MemModel::new(Backing::Shm, k).apply(&refused);
    // macOS declares map-private-shm-refused; Linux does not.
    assert_eq!(on(&Constants::macos_example()), Ok(()));
    rejects(on(&Constants::linux_example()), rules::PRIVATE_COW);
}

// ---- the C library's process-shared synchronization -----------------------

#[test]
fn a_lost_increment_breaks_pshared_mutex() {
    use ipc_conform_harness::shm::pshared::{judge_counter, MutexCase};
    let case = MutexCase { actors: 3, rounds: 100 };
    assert_eq!(judge_counter(&case, 300), Ok(()));
    for lost in [299, 0, 301] {
        let v = judge_counter(&case, lost).expect_err("a wrong count");
        assert_eq!(v.rules, vec![ipc_conform_harness::shm::rules::PSHARED_MUTEX]);
    }
}

#[test]
fn no_eownerdead_or_a_usable_unrecovered_mutex_breaks_pshared_robust() {
    use ipc_conform_harness::shm::pshared::{judge_robust, Death, RobustCase};
    let case = |consistent| RobustCase { death: Death::Kill, waiter_waits: false, consistent };
    assert_eq!(judge_robust(&case(true), libc::EOWNERDEAD, Some(0), 0), Ok(()));
    assert_eq!(judge_robust(&case(false), libc::EOWNERDEAD, None, libc::ENOTRECOVERABLE), Ok(()));
    for (c, b, cons, next) in [
        (true, 0, Some(0), 0),                                    // the death went unseen
        (true, libc::EOWNERDEAD, Some(libc::EINVAL), 0),          // consistent refused
        (true, libc::EOWNERDEAD, Some(0), libc::ENOTRECOVERABLE), // not made consistent
        (false, libc::EOWNERDEAD, None, 0),                       // usable without consistent
    ] {
        let v = judge_robust(&case(c), b, cons, next).expect_err("a broken hand-over");
        assert_eq!(v.rules, vec![ipc_conform_harness::shm::rules::PSHARED_ROBUST]);
    }
}
