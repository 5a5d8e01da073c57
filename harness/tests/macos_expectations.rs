//! The macOS paths, tested here on any host: the reference models run
//! under macOS's documented constants and accept the documented macOS
//! outcomes, while the same outcomes under Linux's constants are rejected
//! (and the other way round where Linux allows more).

use ipc_conform_harness::case::CaseOutcome;
use ipc_conform_harness::observed::Observed;
use ipc_conform_harness::os::entry::{ReadCall, WriteCall};
use ipc_conform_harness::os::socket::SocketKind;
use ipc_conform_harness::pattern;
use ipc_conform_harness::pipe::{self, Event, Op, PipeModel, PipeSchedule, Setup};
use ipc_conform_harness::protocol::Reply;
use ipc_conform_harness::socket::pair::model::{PairEvent, PairModel};
use ipc_conform_harness::socket::pair::{exec, PairOp, PairSchedule, PairSetup, PairStep};
use ipc_conform_harness::{Constants, Timing};

fn linux() -> Constants {
    Constants::linux_example()
}

fn macos() -> Constants {
    Constants::macos_example()
}

fn pipe_setup(writers: u8, nonblock_write: bool) -> Setup {
    Setup {
        writers,
        idle_writers: 0,
        readers: 1,
        nonblock_read: false,
        nonblock_write,
        concurrent_reads: false,
        one_page: false,
        creator: Default::default(),
    }
}

fn pipe_check(setup: Setup, k: &Constants, events: &[Event]) -> Result<(), pipe::Violation> {
    PipeModel::check(&PipeSchedule { setup, steps: vec![] }, k, events).map(|_| ())
}

fn step(actor: u8, op: Op, observed: Observed) -> Event {
    Event::Step { index: 0, actor, op, observed }
}

fn ret(r: Reply) -> Observed {
    Observed::Returned(r)
}

fn bytes(tag: u8, start: u64, len: usize) -> Vec<u8> {
    let mut v = Vec::new();
    pattern::fill(&mut v, tag, start, len);
    v
}

#[test]
fn a_partial_nonblocking_write_of_1000_bytes_is_allowed_only_where_pipe_buf_is_512() {
    // 1000 bytes: above macOS's PIPE_BUF (512), below Linux's (4096).
    let events = [step(0, Op::write(100), ret(Reply::Count(100))), step(0, Op::write(1000), ret(Reply::Count(500)))];
    assert!(pipe_check(pipe_setup(1, true), &macos(), &events).is_ok());
    let v = pipe_check(pipe_setup(1, true), &linux(), &events).unwrap_err();
    assert_eq!(v.rules, vec![pipe::rules::ATOMIC]);
}

#[test]
fn interleaved_1000_byte_writes_are_allowed_only_where_pipe_buf_is_512() {
    let mut data = bytes(0, 0, 300);
    data.extend(bytes(1, 0, 1000));
    data.extend(bytes(0, 300, 700));
    let events = [
        step(0, Op::write(1000), ret(Reply::Count(1000))),
        step(1, Op::write(1000), ret(Reply::Count(1000))),
        step(2, Op::read(5000), ret(Reply::Data(data))),
    ];
    assert!(pipe_check(pipe_setup(2, false), &macos(), &events).is_ok());
    let v = pipe_check(pipe_setup(2, false), &linux(), &events).unwrap_err();
    assert_eq!(v.rules, vec![pipe::rules::ATOMIC]);
}

#[test]
fn interleaved_400_byte_writes_are_rejected_on_both() {
    let mut data = bytes(0, 0, 100);
    data.extend(bytes(1, 0, 400));
    data.extend(bytes(0, 100, 300));
    let events = [
        step(0, Op::write(400), ret(Reply::Count(400))),
        step(1, Op::write(400), ret(Reply::Count(400))),
        step(2, Op::read(5000), ret(Reply::Data(data))),
    ];
    for k in [macos(), linux()] {
        let v = pipe_check(pipe_setup(2, false), &k, &events).unwrap_err();
        assert_eq!(v.rules, vec![pipe::rules::ATOMIC]);
    }
}

fn pair_check(kind: SocketKind, k: &Constants, events: &[PairEvent]) -> Result<(), pipe::Violation> {
    PairModel::check(&PairSetup::new(kind, [1, 1]), k, events).map(|_| ())
}

#[test]
fn a_datagram_dropped_with_enobufs_is_allowed_only_on_macos() {
    let events = [PairEvent::Step {
        index: 0,
        actor: 0,
        op: PairOp::Send { len: 100, dontwait: false, nosignal: false, call: WriteCall::Send },
        observed: ret(Reply::Errno(libc::ENOBUFS)),
    }];
    // Not from an empty socket: a first datagram must fit on both.
    let mut full = vec![PairEvent::Step {
        index: 0,
        actor: 0,
        op: PairOp::Send { len: 100, dontwait: false, nosignal: false, call: WriteCall::Send },
        observed: ret(Reply::Count(100)),
    }];
    full.extend(events.iter().cloned());
    assert!(pair_check(SocketKind::Dgram, &macos(), &full).is_ok());
    assert!(pair_check(SocketKind::Dgram, &linux(), &full).is_err());
    // A stream socket never drops: rejected on both.
    assert!(pair_check(SocketKind::Stream, &macos(), &full).is_err());
}

#[test]
fn seqpacket_cases_are_unsupported_where_the_platform_has_no_seqpacket_pairs() {
    let schedule = PairSchedule {
        setup: PairSetup::new(SocketKind::Seqpacket, [1, 1]),
        steps: vec![PairStep {
            actor: 0,
            op: PairOp::Send { len: 1, dontwait: false, nosignal: false, call: WriteCall::Send },
        }],
    };
    let report = exec::run(&schedule, &macos(), Timing::default());
    assert!(matches!(report.outcome, CaseOutcome::Unsupported(_)), "{:?}", report.outcome);
    assert!(report.events.is_empty(), "nothing may run");
}

#[test]
fn plain_end_of_file_after_the_peer_left_data_unread_is_allowed_on_both() {
    // macOS gives plain EOF; Linux may give ECONNRESET first. Both accepted.
    let events = [
        PairEvent::Step {
            index: 0,
            actor: 0,
            op: PairOp::Send { len: 5, dontwait: false, nosignal: false, call: WriteCall::Send },
            observed: ret(Reply::Count(5)),
        },
        PairEvent::Step { index: 1, actor: 1, op: PairOp::Close, observed: ret(Reply::Done) },
        PairEvent::Step {
            index: 2,
            actor: 0,
            op: PairOp::Recv { max: 10, dontwait: false, call: ReadCall::Recvmsg },
            observed: ret(Reply::Received { data: vec![], truncated: Some(false) }),
        },
    ];
    for k in [macos(), linux()] {
        assert!(pair_check(SocketKind::Stream, &k, &events).is_ok());
    }
}

#[test]
fn the_catalogue_declares_the_known_macos_differences() {
    let catalogue = ipc_conform_spec::Catalogue::builtin();
    let note = |id: &str| match catalogue.get(id).map(|r| r.expectation(ipc_conform_spec::Platform::Macos)) {
        Some(ipc_conform_spec::Expectation::Holds { note: Some(n), .. }) => n.clone(),
        Some(ipc_conform_spec::Expectation::NotApplicable { reason }) => reason.clone(),
        other => panic!("{id}: no macOS note ({other:?})"),
    };
    for (id, words) in [
        ("pipe.write.atomic-pipe-buf", "512"),
        ("pipe.write.capacity-finite", "grows"),
        ("socket.pair.bidirectional", "SEQPACKET"),
        ("socket.write.full-blocks", "ENOBUFS"),
        ("socket.eof.peer-closed", "end of file"),
        ("file.lock.ofd", "14"),
        ("file.lock.flock-exclusive", "one lock list"),
        ("shm.shared.visible", "ftruncate"),
        ("shm.name.lifetime", "31 characters"),
        ("shm.private.copy-on-write", "EINVAL"),
        ("shm.sync.wait-wake", "sem_init"),
    ] {
        let n = note(id);
        assert!(n.contains(words), "{id}: the macOS note does not mention {words:?}: {n}");
    }
}
