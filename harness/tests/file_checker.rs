//! The file checker can fail: for each file rule that gives a verdict, a
//! recorded trace (or set of reports) that breaks it is fed to the checker,
//! which must reject it and name that rule. The torn-read observation has
//! no verdict to break; its counting is tested instead.

use ipc_conform_harness::evidence::Evidence;
use ipc_conform_harness::file::locks::{LockEvent, LockModel, LockOp, LockSchedule};
use ipc_conform_harness::file::race::{
    self, AppendCase, AppendReport, CreateCase, NoReplaceCase, ReplaceCase, WriterReport,
};
use ipc_conform_harness::file::rules;
use ipc_conform_harness::file::version::{self, Seen};
use ipc_conform_harness::observed::{Death, Observed};
use ipc_conform_harness::os::file::{FlockOp, LockKind, LockOwner};
use ipc_conform_harness::os::proc::{InSyscall, WaitState};
use ipc_conform_harness::protocol::Reply;

fn schedule(actors: u8) -> LockSchedule {
    LockSchedule { actors, steps: Vec::new() }
}

fn step(actor: u8, op: LockOp, observed: Observed) -> LockEvent {
    LockEvent::Step { index: 0, actor, op, observed }
}

fn done() -> Observed {
    Observed::Returned(Reply::Done)
}

fn errno(e: i32) -> Observed {
    Observed::Returned(Reply::Errno(e))
}

fn blocked() -> Observed {
    Observed::Blocked(Evidence::Proc(WaitState {
        state: 'S',
        syscall: Some(InSyscall { nr: 73, arg0: 5 }),
        wchan: "locks_lock_inode_wait".into(),
    }))
}

fn killed() -> Observed {
    Observed::Died(Death { code: None, signal: Some(libc::SIGKILL) })
}

fn flock(fd: u8, op: FlockOp, nonblock: bool) -> LockOp {
    LockOp::Flock { fd, op, nonblock }
}

fn rec(owner: LockOwner, fd: u8, kind: LockKind, start: u64, len: u64, wait: bool) -> LockOp {
    LockOp::Record { fd, owner, kind, start, len, wait }
}

/// Checks a trace and returns the rules of the violation it must contain.
fn rejected(actors: u8, events: &[LockEvent]) -> Vec<&'static str> {
    match LockModel::check(&schedule(actors), events) {
        Ok(_) => panic!("the checker accepted a trace that breaks a rule: {events:#?}"),
        Err(v) => {
            assert!(!v.message.is_empty());
            v.rules
        }
    }
}

fn accepted(actors: u8, events: &[LockEvent]) -> LockModel {
    match LockModel::check(&schedule(actors), events) {
        Ok(m) => m,
        Err(v) => panic!("the checker rejected an allowed trace: {v}"),
    }
}

// ---- file.lock.flock-exclusive ---------------------------------------------

#[test]
fn flock_granted_twice_exclusively_breaks_flock_exclusive() {
    let ex = flock(0, FlockOp::Exclusive, true);
    assert_eq!(rejected(2, &[step(0, ex, done()), step(1, ex, done())]), [rules::FLOCK]);
}

#[test]
fn flock_shared_refused_beside_shared_breaks_flock_exclusive() {
    let sh = flock(0, FlockOp::Shared, true);
    assert_eq!(rejected(2, &[step(0, sh, done()), step(1, sh, errno(libc::EWOULDBLOCK))]), [rules::FLOCK]);
}

#[test]
fn flock_blocking_request_returning_at_once_breaks_flock_exclusive() {
    let ex = flock(0, FlockOp::Exclusive, false);
    assert_eq!(rejected(2, &[step(0, ex, done()), step(1, flock(0, FlockOp::Shared, false), done())]), [rules::FLOCK]);
}

#[test]
fn flock_unlock_obliges_a_waiter_and_a_second_grant_is_rejected() {
    let ex = flock(0, FlockOp::Exclusive, false);
    let un = flock(0, FlockOp::Unlock, false);
    let trace = [step(0, ex, done()), step(1, ex, blocked()), step(2, ex, blocked()), step(0, un, done())];
    let model = accepted(3, &trace);
    let ob = model.obligations();
    assert_eq!(ob.len(), 1);
    assert_eq!(ob[0].rule, rules::FLOCK);
    assert_eq!(ob[0].actors, [1, 2]);
    // Both waiters granted: the second grant breaks the rule.
    let mut both = trace.to_vec();
    both.push(LockEvent::Completion { actor: 1, observed: done() });
    both.push(LockEvent::Completion { actor: 2, observed: done() });
    assert_eq!(rejected(3, &both), [rules::FLOCK]);
}

// ---- file.lock.fcntl-ranges --------------------------------------------------

#[test]
fn fcntl_overlapping_write_locks_both_granted_breaks_fcntl_ranges() {
    let p = LockOwner::Process;
    let trace = [
        step(0, rec(p, 0, LockKind::Write, 0, 10, false), done()),
        step(1, rec(p, 0, LockKind::Write, 9, 1, false), done()),
    ];
    assert_eq!(rejected(2, &trace), [rules::FCNTL]);
}

#[test]
fn fcntl_disjoint_ranges_refused_breaks_fcntl_ranges() {
    let p = LockOwner::Process;
    let trace = [
        step(0, rec(p, 0, LockKind::Write, 0, 10, false), done()),
        step(1, rec(p, 0, LockKind::Write, 10, 5, false), errno(libc::EAGAIN)),
    ];
    assert_eq!(rejected(2, &trace), [rules::FCNTL]);
}

#[test]
fn fcntl_lock_surviving_a_close_of_another_descriptor_breaks_fcntl_ranges() {
    let p = LockOwner::Process;
    let trace = [
        step(0, rec(p, 0, LockKind::Write, 0, 0, false), done()),
        step(0, LockOp::Close { fd: 1 }, done()),
        step(1, rec(p, 0, LockKind::Read, 3, 1, false), errno(libc::EAGAIN)),
    ];
    assert_eq!(rejected(2, &trace), [rules::FCNTL]);
}

#[test]
fn fcntl_unlock_of_part_of_a_range_keeps_the_rest() {
    let p = LockOwner::Process;
    let trace = [
        step(0, rec(p, 0, LockKind::Write, 0, 10, false), done()),
        step(0, rec(p, 0, LockKind::Unlock, 3, 2, false), done()),
        step(1, rec(p, 0, LockKind::Write, 3, 2, false), done()),
        step(1, rec(p, 0, LockKind::Write, 5, 1, false), errno(libc::EACCES)),
    ];
    accepted(2, &trace);
    let mut wrong = trace[..3].to_vec();
    wrong.push(step(1, rec(p, 0, LockKind::Write, 5, 1, false), done()));
    assert_eq!(rejected(2, &wrong), [rules::FCNTL]);
}

// ---- file.lock.released-on-death -------------------------------------------

#[test]
fn lock_kept_after_its_holder_was_killed_breaks_released_on_death() {
    let ex = flock(0, FlockOp::Exclusive, true);
    let trace = [step(0, ex, done()), step(0, LockOp::Kill, killed()), step(1, ex, errno(libc::EWOULDBLOCK))];
    assert_eq!(rejected(2, &trace)[0], rules::DEATH);
}

#[test]
fn a_death_obliges_the_waiter_under_released_on_death() {
    let p = LockOwner::Process;
    let trace = [
        step(0, rec(p, 0, LockKind::Write, 0, 0, false), done()),
        step(1, rec(p, 0, LockKind::Write, 0, 0, true), blocked()),
        step(0, LockOp::Exit, Observed::Died(Death { code: Some(0), signal: None })),
    ];
    let model = accepted(2, &trace);
    let ob = model.obligations();
    assert_eq!(ob.first().map(|o| o.rule), Some(rules::DEATH));
}

// ---- file.lock.ofd ------------------------------------------------------------

#[test]
fn ofd_locks_of_two_descriptions_in_one_process_both_granted_breaks_ofd() {
    let o = LockOwner::Ofd;
    let trace = [
        step(0, rec(o, 0, LockKind::Write, 0, 10, false), done()),
        step(0, rec(o, 1, LockKind::Write, 0, 1, false), done()),
    ];
    assert_eq!(rejected(1, &trace), [rules::OFD]);
}

#[test]
fn ofd_lock_dropped_by_closing_another_descriptor_breaks_ofd() {
    let o = LockOwner::Ofd;
    let trace = [
        step(0, rec(o, 0, LockKind::Write, 0, 0, false), done()),
        step(0, LockOp::Close { fd: 1 }, done()),
        step(1, rec(o, 0, LockKind::Write, 0, 0, false), done()),
    ];
    assert_eq!(rejected(2, &trace), [rules::OFD]);
}

#[test]
fn ofd_lock_not_conflicting_with_own_process_lock_breaks_fcntl_ranges() {
    let trace = [
        step(0, rec(LockOwner::Ofd, 0, LockKind::Write, 0, 0, false), done()),
        step(0, rec(LockOwner::Process, 0, LockKind::Write, 0, 0, false), done()),
    ];
    // The process-owned request is the one that broke the rules.
    assert_eq!(rejected(1, &trace), [rules::FCNTL]);
}

// ---- file.write.visible -------------------------------------------------------

#[test]
fn a_reader_not_seeing_a_returned_write_breaks_visible() {
    let id = version::id_of(0, 1);
    for seen in [Seen::Empty, Seen::Truncated, Seen::Missing, Seen::Complete(version::id_of(0, 2))] {
        let v = race::judge_visible(id, 100, Some(version::size(100)), seen).unwrap_err();
        assert_eq!(v.rules, [rules::VISIBLE]);
    }
    race::judge_visible(id, 100, Some(version::size(100)), Seen::Complete(id)).unwrap();
}

// ---- file.rename.atomic-replace ---------------------------------------------------

fn replace_case() -> ReplaceCase {
    ReplaceCase { initial_len: 10, writers: vec![vec![10, 20, 30]], readers: vec![3], in_place_chunk: None }
}

#[test]
fn a_reader_seeing_a_mix_nothing_or_an_old_version_breaks_atomic_replace() {
    let ok = [WriterReport { done: 3, errno: 0 }];
    let (v1, v3) = (Seen::Complete(version::id_of(0, 1)), Seen::Complete(version::id_of(0, 3)));
    race::judge_rename(&replace_case(), &ok, &[vec![Seen::Complete(race::INITIAL), v1, v3]]).unwrap();
    for bad in [
        vec![v1, Seen::Torn],
        vec![Seen::Missing],
        vec![Seen::Empty],
        vec![v3, v1],
        vec![Seen::Complete(version::id_of(0, 4))],
    ] {
        let v = race::judge_rename(&replace_case(), &ok, std::slice::from_ref(&bad)).unwrap_err();
        assert_eq!(v.rules, [rules::RENAME_ATOMIC], "{bad:?}");
    }
}

// ---- file.rename.noreplace --------------------------------------------------------

#[test]
fn a_rename_that_replaces_breaks_noreplace() {
    let case = NoReplaceCase { target_exists: true, src_len: 1, dst_len: 2, native: true };
    let v = race::judge_noreplace(&case, Ok(()), Seen::Missing, Seen::Complete(race::SRC_ID)).unwrap_err();
    assert_eq!(v.rules, [rules::NOREPLACE]);
    let v = race::judge_noreplace(&case, Err(libc::EEXIST), Seen::Missing, Seen::Complete(race::DST_ID)).unwrap_err();
    assert_eq!(v.rules, [rules::NOREPLACE]);
    race::judge_noreplace(&case, Err(libc::EEXIST), Seen::Complete(race::SRC_ID), Seen::Complete(race::DST_ID))
        .unwrap();
    let free = NoReplaceCase { target_exists: false, ..case };
    race::judge_noreplace(&free, Ok(()), Seen::Missing, Seen::Complete(race::SRC_ID)).unwrap();
    assert_eq!(
        race::judge_noreplace(&free, Err(libc::EEXIST), Seen::Complete(1), Seen::Missing).unwrap_err().rules,
        [rules::NOREPLACE]
    );
}

// ---- file.create.exclusive ------------------------------------------------------

#[test]
fn two_winners_or_none_breaks_create_exclusive() {
    let case = CreateCase { racers: 3, paths: 2 };
    let e = libc::EEXIST;
    race::judge_create(&case, &[vec![0, e], vec![e, 0], vec![e, e]]).unwrap();
    for bad in [
        vec![vec![0, 0], vec![0, e], vec![e, e]],
        vec![vec![e, 0], vec![e, e], vec![e, e]],
        vec![vec![0, libc::EACCES], vec![e, 0], vec![e, e]],
    ] {
        assert_eq!(race::judge_create(&case, &bad).unwrap_err().rules, [rules::CREATE_EXCL]);
    }
}

// ---- file.append.atomic -----------------------------------------------------------

#[test]
fn an_overwritten_or_torn_append_breaks_append_atomic() {
    let case = AppendCase { writers: vec![vec![5, 6], vec![7]] };
    let reports = [
        AppendReport { records: 2, bytes: version::size(5) + version::size(6), errno: 0 },
        AppendReport { records: 1, bytes: version::size(7), errno: 0 },
    ];
    let (a1, a2, b1) = (
        version::encode(version::id_of(0, 1), 5),
        version::encode(version::id_of(0, 2), 6),
        version::encode(version::id_of(1, 1), 7),
    );
    let good = [a1.clone(), b1.clone(), a2.clone()].concat();
    race::judge_append(&case, &reports, &good).unwrap();
    // b1 overwrote a2: the log is short by a2's size.
    let overwritten = [a1.clone(), b1.clone()].concat();
    assert_eq!(race::judge_append(&case, &reports, &overwritten).unwrap_err().rules, [rules::APPEND]);
    // Same size, but b1 landed over part of a1: torn records.
    let mut torn = good.clone();
    torn[10..10 + 8].copy_from_slice(&b1[..8]);
    assert_eq!(race::judge_append(&case, &reports, &torn).unwrap_err().rules, [rules::APPEND]);
    // A writer's own records out of order.
    let reordered = [a2, b1, a1].concat();
    assert_eq!(race::judge_append(&case, &reports, &reordered).unwrap_err().rules, [rules::APPEND]);
}

// ---- file.inplace.torn-read (an observation) -----------------------------------------

#[test]
fn torn_reads_are_counted_and_a_broken_harness_is_an_error() {
    let ok = [WriterReport { done: 3, errno: 0 }];
    let reads = vec![vec![Seen::Complete(1), Seen::Torn, Seen::Truncated], vec![Seen::Complete(2)]];
    assert_eq!(race::observe_torn(&ok, &reads), Ok((4, 2)));
    assert!(race::observe_torn(&[WriterReport { done: 1, errno: libc::EIO }], &reads).is_err());
    assert!(race::observe_torn(&ok, &[vec![Seen::Missing]]).is_err());
}
