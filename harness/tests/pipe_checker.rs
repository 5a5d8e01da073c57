//! The checker can fail: for each pipe rule, a recorded trace that breaks
//! it is fed to the checker, which must reject it and name that rule.
//! (FIFO rendezvous: its judges, fed bad observations; the shell pipeline's
//! judge is tested beside it in `fixtures`.)

use ipc_conform_harness::checker::Violation;
use ipc_conform_harness::evidence::Evidence;
use ipc_conform_harness::observed::{Death, Observed};
use ipc_conform_harness::os::proc::{InSyscall, WaitState};
use ipc_conform_harness::os::signal::SigpipeDisposition;
use ipc_conform_harness::pattern;
use ipc_conform_harness::pipe::fifo;
use ipc_conform_harness::pipe::rules;
use ipc_conform_harness::pipe::{Event, Op, PipeModel, PipeSchedule, Setup};
use ipc_conform_harness::protocol::Reply;
use ipc_conform_harness::Constants;

fn k() -> Constants {
    Constants::linux_example()
}

/// Writers first, then idle writers, then readers (see `Setup`).
fn setup(writers: u8, idle: u8, readers: u8) -> Setup {
    Setup {
        writers,
        idle_writers: idle,
        readers,
        nonblock_read: false,
        nonblock_write: false,
        concurrent_reads: false,
        one_page: false,
        creator: Default::default(),
    }
}

fn schedule(setup: Setup) -> PipeSchedule {
    PipeSchedule { setup, steps: Vec::new() }
}

fn step(actor: u8, op: Op, observed: Observed) -> Event {
    Event::Step { index: 0, actor, op, observed }
}

fn done(actor: u8, observed: Observed) -> Event {
    Event::Completion { actor, observed }
}

fn ret(reply: Reply) -> Observed {
    Observed::Returned(reply)
}

fn blocked() -> Observed {
    Observed::Blocked(Evidence::Proc(WaitState {
        state: 'S',
        syscall: Some(InSyscall { nr: 0, arg0: 4 }),
        wchan: "anon_pipe_read".into(),
    }))
}

fn died(signal: i32) -> Observed {
    Observed::Died(Death { code: None, signal: Some(signal) })
}

/// `len` bytes of writer `tag` from stream position `start`.
fn bytes(tag: u8, start: u64, len: usize) -> Vec<u8> {
    let mut v = Vec::new();
    pattern::fill(&mut v, tag, start, len);
    v
}

/// Asserts the checker rejects the trace and names `rule`.
fn rejects(setup: Setup, events: &[Event], rule: &str) -> String {
    match PipeModel::check(&schedule(setup), &k(), events) {
        Ok(_) => panic!("the checker accepted a trace that breaks {rule}"),
        Err(v) => {
            assert!(v.rules.contains(&rule), "expected {rule} named, got {v}");
            v.to_string()
        }
    }
}

fn accepts(setup: Setup, events: &[Event]) -> PipeModel {
    PipeModel::check(&schedule(setup), &k(), events).unwrap_or_else(|v| panic!("rejected a valid trace: {v}"))
}

const W: u8 = 0;
const R: u8 = 1;

#[test]
fn a_write_on_the_read_end_that_succeeds_breaks_direction() {
    let events = [step(R, Op::write(1), ret(Reply::Count(1)))];
    rejects(setup(1, 0, 1), &events, rules::DIRECTION);
    // ... and EBADF is accepted.
    accepts(setup(1, 0, 1), &[step(R, Op::write(1), ret(Reply::Errno(libc::EBADF)))]);
}

#[test]
fn a_read_on_the_write_end_that_returns_data_breaks_direction() {
    let events = [step(W, Op::read(4), ret(Reply::Data(vec![0; 4])))];
    rejects(setup(1, 0, 1), &events, rules::DIRECTION);
}

#[test]
fn bytes_out_of_order_break_stream_order() {
    let mut data = bytes(0, 0, 8);
    data.swap(2, 3);
    let events = [step(W, Op::write(8), ret(Reply::Count(8))), step(R, Op::read(8), ret(Reply::Data(data)))];
    rejects(setup(1, 0, 1), &events, rules::ORDER);
}

#[test]
fn a_repeated_byte_breaks_stream_order() {
    let mut data = bytes(0, 0, 4);
    data.push(data[3]);
    let events = [step(W, Op::write(4), ret(Reply::Count(4))), step(R, Op::read(8), ret(Reply::Data(data)))];
    rejects(setup(1, 0, 1), &events, rules::ORDER);
}

#[test]
fn data_split_across_reads_in_order_is_accepted() {
    let events = [
        step(W, Op::write(10), ret(Reply::Count(10))),
        step(R, Op::read(3), ret(Reply::Data(bytes(0, 0, 3)))),
        step(R, Op::read(30), ret(Reply::Data(bytes(0, 3, 7)))),
    ];
    accepts(setup(1, 0, 1), &events);
}

#[test]
fn a_read_of_an_empty_pipe_returning_zero_breaks_empty_blocks() {
    // The design's own example: read returned 0 bytes while a writer is open.
    let events = [step(R, Op::read(16), ret(Reply::Data(Vec::new())))];
    let message = rejects(setup(1, 0, 1), &events, rules::READ_BLOCKS);
    assert!(message.contains("pending until a write or the last writer's close"), "{message}");
}

#[test]
fn a_blocking_read_failing_with_eagain_breaks_empty_blocks() {
    let events = [step(R, Op::read(16), ret(Reply::Errno(libc::EAGAIN)))];
    rejects(setup(1, 0, 1), &events, rules::READ_BLOCKS);
}

#[test]
fn a_read_that_blocks_with_data_buffered_breaks_empty_blocks() {
    let events = [step(W, Op::write(5), ret(Reply::Count(5))), step(R, Op::read(16), blocked())];
    rejects(setup(1, 0, 1), &events, rules::READ_BLOCKS);
}

#[test]
fn a_blocked_read_must_wake_once_data_arrives() {
    let mut model =
        accepts(setup(1, 0, 1), &[step(R, Op::read(16), blocked()), step(W, Op::write(5), ret(Reply::Count(5)))]);
    let obligations = model.obligations();
    assert_eq!(obligations.len(), 1);
    assert_eq!(obligations[0].rule, rules::READ_BLOCKS);
    model.apply(&done(R, ret(Reply::Data(bytes(0, 0, 5))))).unwrap();
    assert!(model.obligations().is_empty());
}

#[test]
fn a_fill_that_is_never_refused_breaks_capacity_finite() {
    let events = [step(W, Op::fill(4096), ret(Reply::Filled { total: 64 << 20, errno: Some(0) }))];
    rejects(setup(1, 0, 1), &events, rules::CAPACITY);
}

#[test]
fn an_empty_pipe_that_takes_nothing_breaks_capacity_finite() {
    let events = [step(W, Op::fill(4096), ret(Reply::Filled { total: 0, errno: None }))];
    rejects(setup(1, 0, 1), &events, rules::CAPACITY);
}

#[test]
fn a_write_to_a_full_pipe_that_returns_at_once_breaks_full_blocks() {
    let events = [
        step(W, Op::fill(4096), ret(Reply::Filled { total: 65536, errno: None })),
        step(W, Op::write(1), ret(Reply::Count(1))),
    ];
    rejects(setup(1, 0, 1), &events, rules::FULL_BLOCKS);
}

#[test]
fn a_write_that_blocks_on_an_empty_pipe_breaks_full_blocks() {
    let events = [step(W, Op::write(100), blocked())];
    rejects(setup(1, 0, 1), &events, rules::FULL_BLOCKS);
}

#[test]
fn a_blocked_write_must_return_once_its_bytes_are_read() {
    let mut model = accepts(
        setup(1, 0, 1),
        &[
            step(W, Op::fill(4096), ret(Reply::Filled { total: 10, errno: None })),
            step(W, Op::write(6), blocked()),
            step(R, Op::read(100), ret(Reply::Data(bytes(0, 0, 16)))),
        ],
    );
    let obligations = model.obligations();
    assert_eq!(obligations.len(), 1, "{obligations:?}");
    assert_eq!(obligations[0].rule, rules::FULL_BLOCKS);
    model.apply(&done(W, ret(Reply::Count(6)))).unwrap();
}

#[test]
fn interleaved_small_writes_break_atomic_pipe_buf() {
    // Writers 0 and 1 each write 100 bytes (<= PIPE_BUF); the reader sees
    // writer 0's first 50, then writer 1's 100, then writer 0's rest.
    let mut data = bytes(0, 0, 50);
    data.extend(bytes(1, 0, 100));
    data.extend(bytes(0, 50, 50));
    let events = [
        step(0, Op::write(100), ret(Reply::Count(100))),
        step(1, Op::write(100), ret(Reply::Count(100))),
        step(2, Op::read(1000), ret(Reply::Data(data))),
    ];
    rejects(setup(2, 0, 1), &events, rules::ATOMIC);
}

#[test]
fn interleaved_large_writes_are_accepted() {
    // Larger than PIPE_BUF: interleaving is allowed.
    let big = 5000;
    // Writer 0 has 60 bytes in the pipe (a fill), then both block.
    let mut data = bytes(0, 0, 60);
    data.extend(bytes(1, 0, big));
    data.extend(bytes(0, 60, big));
    let events = [
        step(0, Op::fill(4096), ret(Reply::Filled { total: 60, errno: None })),
        step(0, Op::write(big as u32), blocked()),
        step(1, Op::write(big as u32), blocked()),
        step(2, Op::read(20000), ret(Reply::Data(data))),
    ];
    accepts(setup(2, 0, 1), &events);
}

#[test]
fn a_partial_small_write_breaks_atomic_pipe_buf() {
    let mut s = setup(1, 0, 1);
    s.nonblock_write = true;
    let events = [
        step(W, Op::fill(4096), ret(Reply::Filled { total: 10, errno: None })),
        step(R, Op::read(5), ret(Reply::Data(bytes(0, 0, 5)))),
        step(W, Op::write(100), ret(Reply::Count(5))),
    ];
    rejects(s, &events, rules::ATOMIC);
}

#[test]
fn end_of_file_before_the_buffer_is_drained_breaks_all_writers_closed() {
    let events = [
        step(W, Op::write(10), ret(Reply::Count(10))),
        step(W, Op::Close, ret(Reply::Done)),
        step(R, Op::read(100), ret(Reply::Data(Vec::new()))),
    ];
    rejects(setup(1, 0, 1), &events, rules::EOF_ALL_CLOSED);
}

#[test]
fn a_read_that_blocks_after_every_writer_is_gone_breaks_all_writers_closed() {
    let events = [step(W, Op::Kill, died(libc::SIGKILL)), step(R, Op::read(100), blocked())];
    rejects(setup(1, 0, 1), &events, rules::EOF_ALL_CLOSED);
}

#[test]
fn a_blocked_reader_must_wake_when_the_only_writer_exits() {
    let model = accepts(
        setup(1, 0, 1),
        &[step(R, Op::read(100), blocked()), step(W, Op::Exit, Observed::Died(Death { code: Some(0), signal: None }))],
    );
    let obligations = model.obligations();
    assert_eq!(obligations.len(), 1);
    assert_eq!(obligations[0].rule, rules::EOF_ALL_CLOSED);
}

#[test]
fn end_of_file_while_an_idle_process_holds_a_write_end_breaks_any_writer_open() {
    // Actor 0 writes and closes; actor 1 (idle) still holds a write end.
    let events = [
        step(0, Op::write(3), ret(Reply::Count(3))),
        step(0, Op::Close, ret(Reply::Done)),
        step(2, Op::read(100), ret(Reply::Data(bytes(0, 0, 3)))),
        step(2, Op::read(100), ret(Reply::Data(Vec::new()))),
    ];
    let message = rejects(setup(1, 1, 1), &events, rules::EOF_ANY_OPEN);
    assert!(message.contains("actor(s) 1"), "{message}");
}

#[test]
fn closing_the_last_writer_obliges_every_blocked_reader_to_wake() {
    let mut s = setup(1, 0, 3);
    s.concurrent_reads = true;
    let mut model = accepts(
        s,
        &[
            step(1, Op::read(10), blocked()),
            step(2, Op::read(10), blocked()),
            step(3, Op::read(10), blocked()),
            step(0, Op::Close, ret(Reply::Done)),
        ],
    );
    let obligations = model.obligations();
    assert_eq!(obligations.iter().map(|o| o.actors.clone()).collect::<Vec<_>>(), vec![vec![1], vec![2], vec![3]]);
    assert!(obligations.iter().all(|o| o.rule == rules::WAKE_ALL));
    // A woken reader that gets anything but end of file breaks the rule.
    let err = model.apply(&done(2, ret(Reply::Errno(libc::EAGAIN)))).unwrap_err();
    assert!(err.rules.contains(&rules::WAKE_ALL), "{err}");
}

#[test]
fn a_write_with_no_reader_that_succeeds_breaks_epipe() {
    let events = [
        step(W, Op::Sigpipe(SigpipeDisposition::Ignore), ret(Reply::Done)),
        step(R, Op::Close, ret(Reply::Done)),
        step(W, Op::write(10), ret(Reply::Count(10))),
    ];
    rejects(setup(1, 0, 1), &events, rules::EPIPE);
}

#[test]
fn a_blocked_small_write_woken_by_the_last_reader_leaving_must_not_be_partial() {
    let events = [
        step(W, Op::fill(4096), ret(Reply::Filled { total: 65536, errno: None })),
        step(W, Op::write(10), blocked()),
        step(R, Op::Close, ret(Reply::Done)),
        done(W, ret(Reply::Count(3))),
    ];
    rejects(setup(1, 0, 1), &events, rules::EPIPE);
}

#[test]
fn a_write_with_no_reader_that_fails_quietly_under_default_sigpipe_breaks_default_kills() {
    let events = [
        step(W, Op::Sigpipe(SigpipeDisposition::Default), ret(Reply::Done)),
        step(R, Op::Exit, Observed::Died(Death { code: Some(0), signal: None })),
        step(W, Op::write(10), ret(Reply::Errno(libc::EPIPE))),
    ];
    rejects(setup(1, 0, 1), &events, rules::SIGPIPE_KILLS);
    // ... and death by SIGPIPE is accepted.
    accepts(
        setup(1, 0, 1),
        &[
            step(W, Op::Sigpipe(SigpipeDisposition::Default), ret(Reply::Done)),
            step(R, Op::Exit, Observed::Died(Death { code: Some(0), signal: None })),
            step(W, Op::write(10), died(libc::SIGPIPE)),
        ],
    );
}

#[test]
fn sigpipe_while_a_reader_is_open_is_rejected() {
    let events = [step(W, Op::write(10), died(libc::SIGPIPE))];
    rejects(setup(1, 0, 1), &events, rules::SIGPIPE_KILLS);
}

fn failed_rules(judged: Result<(), Violation>) -> Vec<&'static str> {
    match judged {
        Err(v) => v.rules,
        Ok(()) => panic!("expected a violation"),
    }
}

#[test]
fn a_fifo_open_that_returns_before_the_other_side_breaks_rendezvous() {
    let named = failed_rules(fifo::judge_first_open(&ret(Reply::Opened { slot: 0, fd: 5 }), "reader", "writer"));
    assert_eq!(named, vec![rules::FIFO]);
    assert_eq!(fifo::judge_first_open(&blocked(), "reader", "writer"), Ok(()));
}

#[test]
fn a_nonblocking_fifo_writer_alone_that_opens_breaks_rendezvous() {
    let named = failed_rules(fifo::judge_nonblocking_writer_alone(&ret(Reply::Opened { slot: 0, fd: 5 })));
    assert_eq!(named, vec![rules::FIFO]);
    assert_eq!(fifo::judge_nonblocking_writer_alone(&ret(Reply::Errno(libc::ENXIO))), Ok(()));
}

#[test]
fn a_page_read_twice_breaks_stream_order() {
    // The reader gets bytes 0..4096, then 0..4096 again where 4096..8192
    // were due: a whole page repeated, every position equal modulo 64.
    let mut data = bytes(0, 0, 4096);
    data.extend(bytes(0, 0, 4096));
    let events = [step(W, Op::write(8192), ret(Reply::Count(8192))), step(R, Op::read(8192), ret(Reply::Data(data)))];
    rejects(setup(1, 0, 1), &events, rules::ORDER);
}

#[test]
fn a_page_lost_breaks_stream_order() {
    let mut data = bytes(0, 0, 100);
    data.extend(bytes(0, 4196, 100));
    let events = [step(W, Op::write(8192), ret(Reply::Count(8192))), step(R, Op::read(200), ret(Reply::Data(data)))];
    rejects(setup(1, 0, 1), &events, rules::ORDER);
}

#[test]
fn a_pipe_buf_below_posix_floor_breaks_atomic_and_the_model_still_owes_512() {
    let mut small = k();
    small.pipe_buf = 256;
    let v = ipc_conform_harness::pipe::model::constants_violation(&small).expect("256 < 512");
    assert!(v.rules.contains(&rules::ATOMIC) && v.message.contains("512"), "{v}");
    assert!(ipc_conform_harness::pipe::model::constants_violation(&k()).is_none());
    // A blocking write of 400 bytes returned in part: atomic up to 512 all the same.
    let events = [step(W, Op::write(400), ret(Reply::Count(200)))];
    let mut model = PipeModel::new(&setup(1, 0, 1), &small);
    let err = events.iter().try_for_each(|e| model.apply(e)).unwrap_err();
    assert!(err.rules.contains(&rules::ATOMIC), "{err}");
}

#[test]
fn schedules_hold_only_issuable_steps_and_a_replay_of_another_is_refused() {
    use ipc_conform_harness::pipe::Step;
    let s = PipeSchedule {
        setup: setup(1, 0, 1),
        steps: vec![
            Step { actor: 0, op: Op::Kill },
            Step { actor: 0, op: Op::write(5) },
            Step { actor: 1, op: Op::Close },
            Step { actor: 1, op: Op::read(5) },
            Step { actor: 3, op: Op::Exit },
            Step { actor: 1, op: Op::fill(1) },
        ],
    };
    let why = s.validate().unwrap_err();
    assert!(why.contains("step 2") && why.contains("the actor has ended"), "{why}");
    let issuable = s.issuable();
    // The killed writer's write, the closed reader's read and fill go; actor
    // 3 wraps to the reader (1 of 2), whose exit stays.
    assert_eq!(
        issuable.steps,
        vec![Step { actor: 0, op: Op::Kill }, Step { actor: 1, op: Op::Close }, Step { actor: 1, op: Op::Exit }]
    );
    assert_eq!(issuable.validate(), Ok(()));
}
