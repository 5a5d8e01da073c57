//! The socket checker can fail: for each socket rule, a recorded trace (or,
//! for the scenarios, an observation) that breaks it is rejected, naming
//! the rule.

use ipc_conform_harness::case::CaseOutcome;
use ipc_conform_harness::checker::Violation;
use ipc_conform_harness::evidence::Evidence;
use ipc_conform_harness::observed::{Death, Observed};
use ipc_conform_harness::os::entry::{ReadCall, WriteCall};
use ipc_conform_harness::os::proc::{InSyscall, WaitState};
use ipc_conform_harness::os::signal::SigpipeDisposition;
use ipc_conform_harness::os::socket::SocketKind;
use ipc_conform_harness::pattern;
use ipc_conform_harness::protocol::Reply;
use ipc_conform_harness::socket::pair::model::{PairEvent, PairModel};
use ipc_conform_harness::socket::pair::{PairOp, PairSetup};
use ipc_conform_harness::socket::rights::{self, RightsCase};
use ipc_conform_harness::socket::rules;
use ipc_conform_harness::socket::udp::{self, UdpCase};
use ipc_conform_harness::socket::{perms, server};
use ipc_conform_harness::Constants;

fn setup(kind: SocketKind) -> PairSetup {
    PairSetup::new(kind, [1, 1])
}

fn step(actor: u8, op: PairOp, observed: Observed) -> PairEvent {
    PairEvent::Step { index: 0, actor, op, observed }
}

fn ret(reply: Reply) -> Observed {
    Observed::Returned(reply)
}

fn got(data: Vec<u8>, truncated: bool) -> Observed {
    ret(Reply::Received { data, truncated: Some(truncated) })
}

fn blocked() -> Observed {
    Observed::Blocked(Evidence::Proc(WaitState {
        state: 'S',
        syscall: Some(InSyscall { nr: 45, arg0: 4 }),
        wchan: "unix_stream_read_generic".into(),
    }))
}

fn send(len: u32) -> PairOp {
    PairOp::Send { len, dontwait: false, nosignal: false, call: WriteCall::Send }
}

fn recv(max: u32) -> PairOp {
    PairOp::Recv { max, dontwait: false, call: ReadCall::Recvmsg }
}

fn bytes(tag: u8, start: u64, len: usize) -> Vec<u8> {
    let mut v = Vec::new();
    pattern::fill(&mut v, tag, start, len);
    v
}

fn rejects(setup: PairSetup, events: &[PairEvent], rule: &str) -> String {
    match PairModel::check(&setup, &Constants::linux_example(), events) {
        Ok(_) => panic!("the checker accepted a trace that breaks {rule}"),
        Err(v) => {
            assert!(v.rules.contains(&rule), "expected {rule} named, got {v}");
            v.to_string()
        }
    }
}

fn accepts(setup: PairSetup, events: &[PairEvent]) {
    if let Err(v) = PairModel::check(&setup, &Constants::linux_example(), events) {
        panic!("rejected a valid trace: {v}");
    }
}

fn fails_naming<T: std::fmt::Debug>(judged: Result<T, Violation>, rule: &str) {
    match judged {
        Err(v) => assert_eq!(v.rules, vec![rule]),
        Ok(other) => panic!("expected a violation of {rule}, got {other:?}"),
    }
}

#[test]
fn a_send_that_fails_with_the_peer_open_breaks_bidirectional() {
    let events = [step(1, send(10), ret(Reply::Errno(libc::EBADF)))];
    rejects(setup(SocketKind::Dgram), &events, rules::BIDIRECTIONAL);
}

#[test]
fn data_flowing_both_ways_is_accepted() {
    let events = [
        step(0, send(3), ret(Reply::Count(3))),
        step(1, send(4), ret(Reply::Count(4))),
        step(0, recv(100), got(bytes(1, 0, 4), false)),
        step(1, recv(100), got(bytes(0, 0, 3), false)),
    ];
    accepts(setup(SocketKind::Stream), &events);
}

#[test]
fn a_lost_byte_breaks_stream_order() {
    let mut data = bytes(0, 0, 10);
    data.remove(4);
    let events = [step(0, send(10), ret(Reply::Count(10))), step(1, recv(100), got(data, false))];
    rejects(setup(SocketKind::Stream), &events, rules::ORDER);
}

#[test]
fn two_datagrams_merged_into_one_receive_break_boundaries() {
    let mut data = bytes(0, 0, 5);
    data.extend(bytes(0, 5, 7));
    let events = [
        step(0, send(5), ret(Reply::Count(5))),
        step(0, send(7), ret(Reply::Count(7))),
        step(1, recv(100), got(data, false)),
    ];
    rejects(setup(SocketKind::Dgram), &events, rules::BOUNDARIES);
}

#[test]
fn a_truncated_datagram_without_msg_trunc_breaks_boundaries() {
    let events = [step(0, send(10), ret(Reply::Count(10))), step(1, recv(4), got(bytes(0, 0, 4), false))];
    rejects(setup(SocketKind::Seqpacket), &events, rules::BOUNDARIES);
    // With MSG_TRUNC it is the allowed outcome, and the rest is gone.
    accepts(
        setup(SocketKind::Seqpacket),
        &[
            step(0, send(10), ret(Reply::Count(10))),
            step(0, send(3), ret(Reply::Count(3))),
            step(1, recv(4), got(bytes(0, 0, 4), true)),
            step(1, recv(100), got(bytes(0, 10, 3), false)),
        ],
    );
}

#[test]
fn a_receive_of_an_empty_socket_returning_zero_breaks_empty_blocks() {
    let events = [step(1, recv(10), got(Vec::new(), false))];
    rejects(setup(SocketKind::Stream), &events, rules::READ_BLOCKS);
}

#[test]
fn a_receive_that_blocks_with_data_waiting_breaks_empty_blocks() {
    let events = [step(0, send(3), ret(Reply::Count(3))), step(1, recv(10), blocked())];
    rejects(setup(SocketKind::Stream), &events, rules::READ_BLOCKS);
}

#[test]
fn a_send_to_a_full_stream_that_returns_at_once_breaks_full_blocks() {
    let events = [
        step(0, PairOp::Fill { chunk: 4096 }, ret(Reply::Filled { total: 200_000, errno: None })),
        step(0, send(1), ret(Reply::Count(1))),
    ];
    rejects(setup(SocketKind::Stream), &events, rules::FULL_BLOCKS);
}

#[test]
fn a_receive_after_shutdown_that_blocks_breaks_shutdown_write() {
    let events = [step(0, PairOp::ShutWrite, ret(Reply::Done)), step(1, recv(10), blocked())];
    rejects(setup(SocketKind::Stream), &events, rules::SHUTDOWN);
}

#[test]
fn a_send_on_the_shut_end_that_succeeds_breaks_shutdown_write() {
    let events = [
        step(0, PairOp::ShutWrite, ret(Reply::Done)),
        step(0, PairOp::Send { len: 1, dontwait: false, nosignal: true, call: WriteCall::Send }, ret(Reply::Count(1))),
    ];
    rejects(setup(SocketKind::Stream), &events, rules::SHUTDOWN);
}

#[test]
fn end_of_file_before_the_waiting_data_breaks_peer_closed() {
    let events = [
        step(1, send(5), ret(Reply::Count(5))),
        step(1, PairOp::Close, ret(Reply::Done)),
        step(0, recv(100), got(Vec::new(), false)),
    ];
    rejects(setup(SocketKind::Stream), &events, rules::PEER_CLOSED);
}

#[test]
fn end_of_file_while_a_copy_of_the_peer_is_open_is_rejected() {
    let two = PairSetup::new(SocketKind::Stream, [1, 2]);
    let events = [
        step(1, PairOp::Exit, Observed::Died(Death { code: Some(0), signal: None })),
        step(0, recv(100), got(Vec::new(), false)),
    ];
    rejects(two, &events, rules::PEER_CLOSED);
}

#[test]
fn econnreset_is_allowed_only_when_the_peer_went_with_our_data_unread() {
    let unread = [
        step(0, send(5), ret(Reply::Count(5))),
        step(1, PairOp::Close, ret(Reply::Done)),
        step(0, recv(100), ret(Reply::Errno(libc::ECONNRESET))),
        step(0, recv(100), got(Vec::new(), false)),
    ];
    accepts(setup(SocketKind::Stream), &unread);
    let nothing_unread =
        [step(1, PairOp::Close, ret(Reply::Done)), step(0, recv(100), ret(Reply::Errno(libc::ECONNRESET)))];
    rejects(setup(SocketKind::Stream), &nothing_unread, rules::READ_BLOCKS);
}

#[test]
fn a_quiet_epipe_under_default_sigpipe_breaks_epipe_for_streams() {
    let events = [
        step(0, PairOp::Sigpipe(SigpipeDisposition::Default), ret(Reply::Done)),
        step(1, PairOp::Close, ret(Reply::Done)),
        step(0, send(3), ret(Reply::Errno(libc::EPIPE))),
    ];
    rejects(setup(SocketKind::Stream), &events, rules::EPIPE);
    // With MSG_NOSIGNAL the quiet EPIPE is the allowed outcome.
    accepts(
        setup(SocketKind::Stream),
        &[
            step(0, PairOp::Sigpipe(SigpipeDisposition::Default), ret(Reply::Done)),
            step(1, PairOp::Close, ret(Reply::Done)),
            step(
                0,
                PairOp::Send { len: 3, dontwait: false, nosignal: true, call: WriteCall::Send },
                ret(Reply::Errno(libc::EPIPE)),
            ),
        ],
    );
}

#[test]
fn a_send_that_succeeds_after_the_peer_closed_breaks_epipe() {
    let events = [
        step(1, PairOp::Kill, Observed::Died(Death { code: None, signal: Some(libc::SIGKILL) })),
        step(0, send(3), ret(Reply::Count(3))),
    ];
    rejects(setup(SocketKind::Seqpacket), &events, rules::EPIPE);
}

#[test]
fn bytes_of_two_clients_on_one_connection_break_server_accept() {
    let lens = [4, 4];
    let mut mixed = bytes(0, 0, 2);
    mixed.extend(bytes(1, 0, 2));
    fails_naming(server::judge_connection(&mixed, &lens), rules::ACCEPT);
    assert_eq!(server::judge_connection(&bytes(1, 0, 4), &lens).ok(), Some(1));
}

#[test]
fn an_altered_or_repeated_datagram_breaks_udp() {
    let case = UdpCase { senders: vec![vec![20, 30]] };
    let mut altered = pattern::datagram(0, 1, 30);
    altered[15] ^= 1;
    fails_naming(udp::judge_datagrams(&[altered], &case), rules::UDP);
    let once = pattern::datagram(0, 0, 20);
    fails_naming(udp::judge_datagrams(&[once.clone(), once.clone()], &case), rules::UDP);
    // Loss is allowed.
    assert_eq!(udp::judge_datagrams(&[once], &case), Ok(()));
}

#[test]
fn separate_offsets_break_fd_passing() {
    let case = RightsCase { pipe_len: 1, file_lens: (3, 4) };
    let mut file = bytes(0, 0, 3);
    file.extend(bytes(1, 0, 4));
    fails_naming(rights::judge_shared_offset(&case, (3, 4), &file), rules::RIGHTS);
    assert_eq!(rights::judge_shared_offset(&case, (7, 7), &file), Ok(()));
}

#[test]
fn a_connect_without_permission_that_succeeds_breaks_path_permissions() {
    fails_naming(perms::judge_denied_connect(&ret(Reply::Opened { slot: 1, fd: 6 })), rules::PERMISSIONS);
    assert_eq!(perms::judge_denied_connect(&ret(Reply::Errno(libc::EACCES))), Ok(()));
}

#[test]
fn a_udp_case_that_lost_every_datagram_is_not_a_pass() {
    let case = UdpCase { senders: vec![vec![20, 30]] };
    assert!(matches!(udp::conclude(&[], &case), CaseOutcome::Unresolved(_)), "{:?}", udp::conclude(&[], &case));
    assert_eq!(udp::conclude(&[pattern::datagram(0, 0, 20)], &case), CaseOutcome::Pass);
}

#[test]
fn a_quiet_epipe_on_seqpacket_is_allowed_only_where_the_catalogue_says() {
    let events = |k: &Constants| {
        let mut model = PairModel::new(&setup(SocketKind::Seqpacket), k);
        [
            step(0, PairOp::Sigpipe(SigpipeDisposition::Default), ret(Reply::Done)),
            step(1, PairOp::Close, ret(Reply::Done)),
            step(0, send(8), ret(Reply::Errno(libc::EPIPE))),
        ]
        .iter()
        .try_for_each(|e| model.apply(e))
    };
    // Linux declares seqpacket-epipe-without-sigpipe: accepted.
    assert_eq!(events(&Constants::linux_example()), Ok(()));
    // Anywhere else POSIX holds: SIGPIPE is due.
    let mut strict = Constants::linux_example();
    strict.allowed.clear();
    let err = events(&strict).unwrap_err();
    assert!(err.rules.contains(&rules::EPIPE), "{err}");
}

#[test]
fn a_non_blocking_end_never_waits_whatever_the_call() {
    // O_NONBLOCK on end 1's description (SOCK_NONBLOCK or fcntl): a plain
    // read of the empty socket must not block, and EAGAIN is its answer;
    // end 0 still blocks.
    let mut setup = setup(SocketKind::Stream);
    setup.nonblock = [false, true];
    let read = PairOp::Recv { max: 10, dontwait: false, call: ReadCall::Read };
    rejects(setup.clone(), &[step(1, read, blocked())], rules::READ_BLOCKS);
    accepts(setup.clone(), &[step(1, read, ret(Reply::Errno(libc::EAGAIN)))]);
    accepts(setup, &[step(0, read, blocked())]);
}

#[test]
fn a_send_of_zero_bytes_goes_through_the_send_family_only() {
    // POSIX leaves write(2) of 0 bytes to a socket unspecified (Linux's
    // writev of 0 bytes after shutdown returned 0 where the model wants
    // EPIPE, found in a CI run): every pick keeps such a send in the send
    // family, and a replayed case routing one through writev is refused.
    use ipc_conform_harness::engine::Step;
    use ipc_conform_harness::socket::pair::PairSchedule;
    let zero = PairOp::Send { len: 0, dontwait: false, nosignal: false, call: WriteCall::Send };
    for seed in 0..=255u8 {
        let s = PairSchedule { setup: setup(SocketKind::Stream), steps: vec![Step { actor: 0, op: zero }] };
        let s = s.through(&[seed]);
        let PairOp::Send { call, .. } = s.steps[0].op else { unreachable!() };
        assert!(call.takes_flags(), "a zero-length send through {call:?}");
    }
    let writev = PairOp::Send { len: 0, dontwait: false, nosignal: false, call: WriteCall::Writev };
    let s = PairSchedule { setup: setup(SocketKind::Stream), steps: vec![Step { actor: 0, op: writev }] };
    assert!(s.validate().is_err(), "a replayed zero-length writev was accepted");
}

// ---- TCP on loopback ------------------------------------------------------

use ipc_conform_harness::os::ready::Readiness;
use ipc_conform_harness::socket::tcp::{accept, connect, half_close, refused, reset, Side};

#[test]
fn a_connect_where_nobody_listens_that_is_not_refused_breaks_tcp_refused() {
    let attempt = |nonblocking, connect, so_error| refused::Attempt { nonblocking, connect, so_error };
    // Allowed: refused at once either way; in progress, then SO_ERROR once.
    assert_eq!(refused::judge_attempt(&attempt(false, libc::ECONNREFUSED, None)), Ok(()));
    assert_eq!(refused::judge_attempt(&attempt(true, libc::ECONNREFUSED, None)), Ok(()));
    assert_eq!(refused::judge_attempt(&attempt(true, libc::EINPROGRESS, Some((libc::ECONNREFUSED, 0)))), Ok(()));
    // Broken: another errno, a success, an in-progress blocking connect,
    // SO_ERROR without the refusal or not cleared by reading it.
    for bad in [
        attempt(false, libc::ETIMEDOUT, None),
        attempt(false, 0, None),
        attempt(true, 0, None),
        attempt(false, libc::EINPROGRESS, None),
        attempt(true, libc::EINPROGRESS, Some((0, 0))),
        attempt(true, libc::EINPROGRESS, Some((libc::ECONNREFUSED, libc::ECONNREFUSED))),
    ] {
        fails_naming(refused::judge_attempt(&bad), rules::TCP_REFUSED);
    }
}

#[test]
fn data_lost_or_no_end_of_file_after_shut_wr_breaks_tcp_half_close() {
    let case =
        half_close::HalfCloseCase { shutter: Side::Client, before: 10, reader_waits: false, eof_reads: 2, back: 1 };
    let eof = got(Vec::new(), false);
    assert_eq!(half_close::judge_received(&case, &bytes(0, 0, 10), &[eof.clone(), eof.clone()]), Ok(()));
    fails_naming(
        half_close::judge_received(&case, &bytes(0, 0, 9), &[eof.clone(), eof.clone()]),
        rules::TCP_HALF_CLOSE,
    );
    fails_naming(
        half_close::judge_received(&case, &bytes(0, 0, 10), &[eof.clone(), ret(Reply::Errno(libc::ECONNRESET))]),
        rules::TCP_HALF_CLOSE,
    );
    fails_naming(half_close::judge_received(&case, &bytes(0, 0, 10), &[got(vec![1], false)]), rules::TCP_HALF_CLOSE);
}

#[test]
fn end_of_file_or_success_after_a_reset_breaks_tcp_reset() {
    use reset::Next;
    assert_eq!(reset::judge_after_reset(Next::Receive, &ret(Reply::Errno(libc::ECONNRESET))), Ok(()));
    assert_eq!(reset::judge_after_reset(Next::Send, &ret(Reply::Errno(libc::EPIPE))), Ok(()));
    assert_eq!(reset::judge_after_reset(Next::Send, &ret(Reply::Errno(libc::ECONNRESET))), Ok(()));
    fails_naming(reset::judge_after_reset(Next::Receive, &got(Vec::new(), false)), rules::TCP_RESET);
    fails_naming(reset::judge_after_reset(Next::Receive, &ret(Reply::Errno(libc::EPIPE))), rules::TCP_RESET);
    fails_naming(reset::judge_after_reset(Next::Send, &ret(Reply::Count(16))), rules::TCP_RESET);
}

#[test]
fn a_wrong_start_or_so_error_breaks_tcp_connect_nonblocking() {
    let writable = Some(Readiness { writable: true, error: Some(false), ..Readiness::default() });
    let attempt = |connect, ready, so_error| connect::Attempt { connect, ready, so_error };
    assert_eq!(connect::judge_attempt(true, &attempt(libc::EINPROGRESS, writable, (0, 0))), Ok(()));
    assert_eq!(connect::judge_attempt(true, &attempt(0, writable, (0, 0))), Ok(()));
    assert_eq!(connect::judge_attempt(false, &attempt(libc::EINPROGRESS, writable, (libc::ECONNREFUSED, 0))), Ok(()));
    assert_eq!(connect::judge_attempt(false, &attempt(libc::ECONNREFUSED, None, (0, 0))), Ok(()));
    for (listening, bad) in [
        (true, attempt(libc::EAGAIN, writable, (0, 0))),
        (true, attempt(libc::EINPROGRESS, writable, (libc::ECONNREFUSED, 0))),
        (true, attempt(libc::EINPROGRESS, Some(Readiness::default()), (0, 0))),
        (false, attempt(libc::EINPROGRESS, writable, (0, 0))),
        (false, attempt(0, writable, (0, 0))),
        (false, attempt(libc::EINPROGRESS, writable, (libc::ECONNREFUSED, libc::ECONNREFUSED))),
    ] {
        fails_naming(connect::judge_attempt(listening, &bad), rules::TCP_CONNECT_NONBLOCKING);
    }
}

#[test]
fn a_connection_handed_out_twice_or_a_stranger_breaks_tcp_accept_order() {
    let clients = [4000, 4001, 4002];
    assert_eq!(accept::judge_peers(&clients, &[4001, 4000, 4002]), Ok(()));
    fails_naming(accept::judge_peers(&clients, &[4001, 4001, 4002]), rules::TCP_ACCEPT_ORDER);
    fails_naming(accept::judge_peers(&clients, &[4001, 4000, 5000]), rules::TCP_ACCEPT_ORDER);
    fails_naming(accept::judge_peers(&clients, &[4001, 4000]), rules::TCP_ACCEPT_ORDER);
}

// ---- unix identity and descriptors in flight ------------------------------

use ipc_conform_harness::socket::pair::PairCreator;
use ipc_conform_harness::socket::{abstract_name, peercred, truncated};

#[test]
fn the_callers_own_or_a_strangers_pid_breaks_peer_credentials() {
    let maker = peercred::Maker { pid: 100, uid: 0, gid: 0, holders: vec![200] };
    assert_eq!(peercred::judge_answer([100, 0, 0], 300, &maker, false), Ok(()));
    // The asker's own pid, a holder's without the allowance, wrong ids.
    fails_naming(peercred::judge_answer([300, 0, 0], 300, &maker, false), rules::PEER_CREDENTIALS);
    fails_naming(peercred::judge_answer([200, 0, 0], 300, &maker, false), rules::PEER_CREDENTIALS);
    fails_naming(peercred::judge_answer([100, 1, 0], 300, &maker, false), rules::PEER_CREDENTIALS);
    // macOS's allowance: the peer end's last user.
    assert_eq!(peercred::judge_answer([200, 0, 0], 300, &maker, true), Ok(()));
    fails_naming(peercred::judge_answer([300, 0, 0], 300, &maker, true), rules::PEER_CREDENTIALS);
}

#[test]
fn a_held_name_that_binds_or_a_freed_one_that_does_not_breaks_abstract_name() {
    let opened = ret(Reply::Opened { slot: 3, fd: 9 });
    let errno = |e| ret(Reply::Errno(e));
    assert_eq!(abstract_name::judge_probe(false, true, &errno(libc::EADDRINUSE)), Ok(()));
    assert_eq!(abstract_name::judge_probe(false, false, &opened), Ok(()));
    assert_eq!(abstract_name::judge_probe(true, true, &opened), Ok(()));
    assert_eq!(abstract_name::judge_probe(true, false, &errno(libc::ECONNREFUSED)), Ok(()));
    fails_naming(abstract_name::judge_probe(false, true, &opened), rules::ABSTRACT_NAME);
    fails_naming(abstract_name::judge_probe(false, false, &errno(libc::EADDRINUSE)), rules::ABSTRACT_NAME);
    fails_naming(abstract_name::judge_probe(true, false, &opened), rules::ABSTRACT_NAME);
    fails_naming(abstract_name::judge_probe(true, true, &errno(libc::ECONNREFUSED)), rules::ABSTRACT_NAME);
}

#[test]
fn unseen_descriptors_or_a_wrong_ctrunc_break_rights_truncated() {
    let sent = [(1, 10), (1, 11), (1, 12)];
    let got = |truncated, delivered: &[(u64, u64)], unseen| truncated::Received {
        truncated,
        delivered: delivered.to_vec(),
        unseen,
    };
    assert_eq!(truncated::judge_received(&sent, 1, &got(true, &[(1, 10)], 0)), Ok(()));
    assert_eq!(truncated::judge_received(&sent, 0, &got(true, &[], 0)), Ok(()));
    assert_eq!(truncated::judge_received(&sent, 3, &got(false, &sent, 0)), Ok(()));
    for (room, bad) in [
        (1, got(true, &[(1, 10)], 2)),           // installed unseen
        (1, got(false, &[(1, 10)], 0)),          // no MSG_CTRUNC
        (3, got(true, &sent, 0)),                // MSG_CTRUNC with room for all
        (1, got(true, &[(1, 10), (1, 11)], 0)),  // more than fit
        (3, got(false, &[(1, 10), (1, 11)], 0)), // room for all, one missing
        (2, got(true, &[(1, 10), (1, 10)], 0)),  // one twice
        (1, got(true, &[(2, 10)], 0)),           // none of those sent
    ] {
        fails_naming(truncated::judge_received(&sent, room, &bad), rules::RIGHTS_TRUNCATED);
    }
}

#[test]
fn a_boundary_broken_on_a_listeners_seqpacket_pair_breaks_seqpacket_listener_too() {
    // Two messages sent, merged into one receive.
    let events = [step(0, send(3), ret(Reply::Count(3))), step(0, send(3), ret(Reply::Count(3)))];
    let recv = PairOp::Recv { max: 64, dontwait: false, call: ReadCall::Recvmsg };
    let mut merged = bytes(0, 0, 3);
    merged.extend(bytes(0, 3, 3));
    let mut all = events.to_vec();
    all.push(step(1, recv, got(merged, false)));
    let k = Constants::linux_example();
    let mut by_listener = setup(SocketKind::Seqpacket);
    by_listener.creator = PairCreator::ConnectPath;
    let rules_of = |setup: &PairSetup| match PairModel::check(setup, &k, &all) {
        Err(v) => v.rules,
        Ok(_) => panic!("merged records are a violation"),
    };
    assert_eq!(rules_of(&by_listener), vec![rules::BOUNDARIES, rules::SEQPACKET_LISTENER]);
    // The same on a socketpair breaks only the boundaries rule.
    assert_eq!(rules_of(&setup(SocketKind::Seqpacket)), vec![rules::BOUNDARIES]);
}
