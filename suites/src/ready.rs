//! Readiness properties: one per rule of `spec/rules/ready.toml`.
//!
//! Each property steers writers and readers of one non-blocking pipe or
//! FIFO into the situation its rule speaks of (a focus block), between
//! random steps, and asks the interfaces of the rule's entry points about
//! the ends all along. The readiness model
//! ([`ipc_conform_harness::ready::model`]) judges every answer of every
//! probe, so a property fails on any deviation it meets, and names the
//! rule broken.

use ipc_conform_harness::os::ready::{Interface, Interfaces};
use ipc_conform_harness::pipe::Creator;
use ipc_conform_harness::ready::socket::{
    self, ListenName, Op as SocketOp, Setup as SocketSetup, SocketReadySchedule, Step as SocketStep,
};
use ipc_conform_harness::ready::{exec, rules, Op, ReadySchedule, Setup, Step};
use ipc_conform_harness::runner::{self, RuleOutcome, RunConfig};
use ipc_conform_harness::socket::pair::PairCreator;
use proptest::collection::vec;
use proptest::prelude::*;

use crate::registry::{focused, Property};

/// What a property steers its cases into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Focus {
    /// Bytes come and go, writers leave: the read end's readability.
    Readable,
    /// The writers leave one by one: hang-up.
    Hangup,
    /// Fills and drains: the write end's writability.
    Writable,
    /// The readers leave: the error condition and EPIPE.
    Error,
    /// Every interface asked at once, about everything.
    Agree,
    /// Registrations asked again and again.
    Edge,
    /// Readers waiting while bytes come and writers leave.
    Wait,
}

/// The readiness properties.
pub static PROPERTIES: &[Property] = &[
    focused!(rules::READABLE, "ready_read_end_readable_exactly_when_a_read_would_not_block", Focus::Readable),
    focused!(rules::HANGUP, "ready_read_end_hangs_up_when_the_last_writer_closes", Focus::Hangup),
    focused!(rules::WRITABLE, "ready_write_end_writable_when_empty_not_when_full", Focus::Writable),
    focused!(rules::ERROR, "ready_write_end_reports_error_and_epipe_once_no_reader_is_left", Focus::Error),
    focused!(rules::AGREE, "ready_interfaces_agree_about_the_same_end", Focus::Agree),
    focused!(rules::EDGE, "ready_edge_triggered_reports_each_arrival_once", Focus::Edge),
    focused!(rules::WAIT_WAKES, "ready_waiting_reader_sleeps_until_ready_then_wakes", Focus::Wait),
];

fn check(rule: &str, name: &str, focus: Focus, cfg: &RunConfig) -> RuleOutcome {
    let timing = cfg.timing;
    let interfaces = Interface::among(&cfg.entry_points);
    let creators = Creator::among(&cfg.entry_points);
    let together = focus == Focus::Agree;
    let strategy = (cases(focus, cfg.constants.pipe_buf as u32), any::<u8>(), vec(any::<u8>(), 0..=64)).prop_map(
        move |(s, creator, picks)| s.made_by(&creators, creator).asking(&interfaces, &picks, together).issuable(),
    );
    runner::check(rule, name, strategy, |s| exec::run(s, timing), cfg)
}

fn replay(rule: &str, name: &str, case: &serde_json::Value, cfg: &RunConfig) -> RuleOutcome {
    let timing = cfg.timing;
    runner::replay(rule, name, case, |s: &ReadySchedule| exec::run(s, timing), cfg)
}

// ---- building blocks -------------------------------------------------

/// What a step does, before its actor is chosen by role.
#[derive(Clone, Copy, Debug)]
enum Role {
    Writer,
    Reader,
    Anyone,
}

fn role_of(op: &Op) -> Role {
    match op {
        Op::Write { .. } | Op::Fill => Role::Writer,
        Op::Read { .. } | Op::Arm { .. } | Op::Harvest | Op::Wait { .. } => Role::Reader,
        Op::Close | Op::Probe { .. } => Role::Anyone,
    }
}

/// Actor `pick` of the role `op` needs.
fn actor_for(s: &Setup, op: &Op, pick: u8) -> u8 {
    match role_of(op) {
        Role::Writer => pick % s.writers,
        Role::Reader => s.writers + pick % s.readers,
        Role::Anyone => pick % s.actors(),
    }
}

/// A probe placeholder: its interfaces are picked later
/// ([`ReadySchedule::asking`]).
fn probe() -> Op {
    Op::Probe { with: Interfaces::of(&[Interface::Poll]) }
}

fn write_len(pipe_buf: u32) -> BoxedStrategy<u32> {
    prop_oneof![Just(1u32), Just(pipe_buf), 1u32..=512, (pipe_buf + 1)..=70_000].boxed()
}

fn read_max(pipe_buf: u32) -> BoxedStrategy<u32> {
    prop_oneof![Just(1u32), Just(pipe_buf), 1u32..=512, Just(1u32 << 17)].boxed()
}

/// A random operation, weighted by what the focus needs most.
fn any_op(focus: Focus, pipe_buf: u32) -> BoxedStrategy<Op> {
    let (writes, reads, fills, closes, probes, registrations, waits) = match focus {
        Focus::Readable => (4, 4, 1, 1, 5, 0, 0),
        Focus::Hangup => (3, 3, 0, 2, 5, 0, 0),
        Focus::Writable => (2, 3, 3, 1, 5, 0, 0),
        Focus::Error => (3, 2, 1, 2, 5, 0, 0),
        Focus::Agree => (3, 3, 2, 1, 6, 0, 0),
        Focus::Edge => (4, 3, 1, 1, 1, 6, 0),
        Focus::Wait => (3, 3, 1, 1, 2, 0, 4),
    };
    prop_oneof![
        writes => write_len(pipe_buf).prop_map(|len| Op::Write { len }),
        reads => read_max(pipe_buf).prop_map(|max| Op::Read { max }),
        fills => Just(Op::Fill),
        closes => Just(Op::Close),
        probes => Just(probe()),
        waits => Just(Op::Wait { how: Interface::Poll }),
        registrations => prop_oneof![any::<bool>().prop_map(|edge| Op::Arm { how: Interface::Epoll, edge }), Just(Op::Harvest), Just(Op::Harvest)],
    ]
    .boxed()
}

/// The situation the focus is about, as a fixed sequence of operations
/// (actors by role: `true` for writers), placed between random steps.
fn focus_block(focus: Focus, s: &Setup, edge: bool) -> Vec<Step> {
    let w = |op: Op, i: u8| Step { actor: i % s.writers, op };
    let r = |op: Op, i: u8| Step { actor: s.writers + i % s.readers, op };
    let mut steps = Vec::new();
    match focus {
        Focus::Readable | Focus::Agree => {
            steps.extend([r(probe(), 0), w(probe(), 0), w(Op::Write { len: 1 }, 0), r(probe(), 0)]);
            steps.extend([
                r(Op::Read { max: 1 << 17 }, 0),
                r(probe(), 0),
                w(Op::Fill, 0),
                w(probe(), 0),
                r(probe(), 0),
            ]);
            steps.extend((0..s.writers).flat_map(|i| [w(Op::Close, i), r(probe(), 0)]));
            steps.extend([r(Op::Read { max: 1 << 17 }, 0), r(probe(), 0)]);
        }
        Focus::Hangup => {
            steps.push(w(Op::Write { len: 3 }, 0));
            steps.extend((0..s.writers).flat_map(|i| [r(probe(), i), w(Op::Close, i), r(probe(), i)]));
            steps.extend([r(Op::Read { max: 1 << 17 }, 0), r(probe(), 0)]);
        }
        Focus::Writable => {
            steps.extend([w(probe(), 0), w(Op::Fill, 0), w(probe(), 0), w(probe(), 1), r(Op::Read { max: 1 }, 0)]);
            steps.extend([
                w(probe(), 0),
                r(Op::Read { max: 1 << 17 }, 0),
                w(probe(), 0),
                w(Op::Fill, 1),
                w(probe(), 1),
            ]);
        }
        Focus::Error => {
            steps.push(w(probe(), 0));
            steps.extend((0..s.readers).flat_map(|i| [r(Op::Close, i), w(probe(), 0)]));
            steps.extend([w(Op::Write { len: 1 }, 0), w(Op::Fill, 0), w(probe(), 0)]);
        }
        Focus::Edge => {
            let arm = Op::Arm { how: Interface::Epoll, edge };
            steps.extend([r(arm, 0), r(Op::Harvest, 0), w(Op::Write { len: 5 }, 0), r(Op::Harvest, 0)]);
            steps.extend([
                r(Op::Harvest, 0),
                w(Op::Write { len: 1 }, 0),
                w(Op::Write { len: 2 }, 0),
                r(Op::Harvest, 0),
            ]);
            steps.extend([
                r(Op::Read { max: 2 }, 0),
                r(Op::Harvest, 0),
                r(Op::Harvest, 0),
                r(Op::Read { max: 1 << 17 }, 0),
            ]);
            steps.extend([r(Op::Harvest, 0), r(Op::Harvest, 0)]);
            steps.extend((0..s.writers).map(|i| w(Op::Close, i)));
            steps.extend([r(Op::Harvest, 0), r(Op::Harvest, 0)]);
        }
        Focus::Wait => {
            let wait = Op::Wait { how: Interface::Poll };
            let last = s.writers - 1;
            steps.extend([r(wait, 0), w(probe(), 0), w(Op::Write { len: 1 }, 0), r(Op::Read { max: 1 << 17 }, 0)]);
            steps.extend([r(wait, 0), r(wait, 1)]);
            steps.extend((0..last).flat_map(|i| [w(Op::Close, i), w(probe(), last)]));
            steps.extend([w(Op::Write { len: 4096 }, last), r(Op::Read { max: 1 << 17 }, 0), r(wait, 0), r(wait, 1)]);
            steps.extend([w(Op::Close, last), r(wait, 2), r(probe(), 0)]);
        }
    }
    steps
}

fn setup() -> BoxedStrategy<Setup> {
    (1u8..=3, 1u8..=3).prop_map(|(writers, readers)| Setup { writers, readers, creator: Creator::Pipe }).boxed()
}

/// Random steps, then the focus block, then random steps.
fn cases(focus: Focus, pipe_buf: u32) -> BoxedStrategy<ReadySchedule> {
    let random = move |n: usize| vec((any_op(focus, pipe_buf), any::<u8>()), 0..n);
    (setup(), random(10), random(16), any::<bool>())
        .prop_map(move |(setup, before, after, edge)| {
            let placed = |ops: Vec<(Op, u8)>| -> Vec<Step> {
                ops.into_iter().map(|(op, pick)| Step { actor: actor_for(&setup, &op, pick), op }).collect()
            };
            let mut steps = placed(before);
            steps.extend(focus_block(focus, &setup, edge));
            steps.extend(placed(after));
            ReadySchedule { setup, steps }
        })
        .boxed()
}

// ---- sockets ---------------------------------------------------------

/// The socket-readiness properties (`ready.socket.*`).
pub static SOCKET_PROPERTIES: &[Property] = &[
    Property {
        rule: rules::SOCKET_READABLE,
        name: "ready_connected_socket_readable_when_data_queued_or_peer_shut_down",
        check: |cfg| {
            check_socket(
                rules::SOCKET_READABLE,
                "ready_connected_socket_readable_when_data_queued_or_peer_shut_down",
                false,
                cfg,
            )
        },
        replay: |cfg, case| {
            replay_socket(
                rules::SOCKET_READABLE,
                "ready_connected_socket_readable_when_data_queued_or_peer_shut_down",
                case,
                cfg,
            )
        },
    },
    Property {
        rule: rules::SOCKET_LISTENER,
        name: "ready_listener_readable_exactly_when_accept_would_not_block",
        check: |cfg| {
            check_socket(
                rules::SOCKET_LISTENER,
                "ready_listener_readable_exactly_when_accept_would_not_block",
                true,
                cfg,
            )
        },
        replay: |cfg, case| {
            replay_socket(
                rules::SOCKET_LISTENER,
                "ready_listener_readable_exactly_when_accept_would_not_block",
                case,
                cfg,
            )
        },
    },
];

fn check_socket(rule: &str, name: &str, listener: bool, cfg: &RunConfig) -> RuleOutcome {
    let timing = cfg.timing;
    let interfaces = Interface::among(&cfg.entry_points);
    let strategy = if listener {
        listener_cases(ListenName::among(&cfg.entry_points))
    } else {
        pair_cases(PairCreator::among(&cfg.entry_points))
    };
    let strategy =
        (strategy, vec(any::<u8>(), 0..=64)).prop_map(move |(s, picks)| s.asking(&interfaces, &picks).issuable());
    runner::check(rule, name, strategy, |s| socket::exec::run(s, timing), cfg)
}

fn replay_socket(rule: &str, name: &str, case: &serde_json::Value, cfg: &RunConfig) -> RuleOutcome {
    let timing = cfg.timing;
    runner::replay(rule, name, case, |s: &SocketReadySchedule| socket::exec::run(s, timing), cfg)
}

fn socket_probe() -> SocketOp {
    SocketOp::Probe { with: Interfaces::of(&[Interface::Poll]) }
}

/// Pairs: sends and receives both ways, shutdowns and closes, with probes
/// all along; the focus block walks an end through queued bytes, its
/// peer's shutdown and its peer's last close.
fn pair_cases(creators: Vec<PairCreator>) -> BoxedStrategy<SocketReadySchedule> {
    let op = prop_oneof![
        3 => prop_oneof![Just(1u32), 1u32..=512, 4096u32..=70_000].prop_map(|len| SocketOp::Send { len }),
        3 => prop_oneof![Just(1u32), 1u32..=512, Just(1u32 << 17)].prop_map(|max| SocketOp::Recv { max }),
        1 => Just(SocketOp::ShutWrite),
        1 => Just(SocketOp::Close),
        5 => Just(socket_probe()),
    ];
    let random = move |n: usize| vec((op.clone(), any::<(bool, u8)>()), 0..n);
    (1u8..=2, 1u8..=2, any::<u8>(), random(10), random(12))
        .prop_map(move |(h0, h1, pick, before, after)| {
            let creator = creators[usize::from(pick) % creators.len()];
            let setup = SocketSetup::Pair { creator, holders: [h0, h1] };
            let at = |end: bool, i: u8| if end { h0 + i % h1 } else { i % h0 };
            let placed = |ops: Vec<(SocketOp, (bool, u8))>| -> Vec<SocketStep> {
                ops.into_iter().map(|(op, (end, i))| SocketStep { actor: at(end, i), op }).collect()
            };
            let (e0, e1) =
                (|op, i| SocketStep { actor: at(false, i), op }, |op, i| SocketStep { actor: at(true, i), op });
            let mut steps = placed(before);
            steps.extend([e0(socket_probe(), 0), e1(SocketOp::Send { len: 3 }, 0), e0(socket_probe(), 0)]);
            steps.extend([e0(SocketOp::Recv { max: 1 << 17 }, 0), e0(socket_probe(), 0)]);
            steps.extend([e1(SocketOp::ShutWrite, 0), e0(socket_probe(), 1), e1(socket_probe(), 0)]);
            steps.extend([e0(SocketOp::Send { len: 2 }, 0), e1(socket_probe(), 1), e0(SocketOp::Recv { max: 8 }, 0)]);
            steps.extend((0..h0).flat_map(|i| [e0(SocketOp::Close, i), e1(socket_probe(), 0)]));
            steps.extend(placed(after));
            SocketReadySchedule { setup, steps }
        })
        .boxed()
}

/// Listeners: connects, non-blocking accepts and probes; the focus block
/// fills the queue with two connections and drains it.
fn listener_cases(names: Vec<ListenName>) -> BoxedStrategy<SocketReadySchedule> {
    let op = prop_oneof![2 => Just(SocketOp::Connect), 2 => Just(SocketOp::Accept), 3 => Just(socket_probe())];
    let random = move |n: usize| vec((op.clone(), any::<u8>()), 0..n);
    (1u8..=3, any::<u8>(), random(10), random(12))
        .prop_map(move |(clients, pick, before, after)| {
            let name = names[usize::from(pick) % names.len()];
            let setup = SocketSetup::Listener { name, clients };
            let at = |op: &SocketOp, i: u8| if *op == SocketOp::Connect { 1 + i % clients } else { 0 };
            let placed = |ops: Vec<(SocketOp, u8)>| -> Vec<SocketStep> {
                ops.into_iter().map(|(op, i)| SocketStep { actor: at(&op, i), op }).collect()
            };
            let s = |op: SocketOp, i: u8| SocketStep { actor: at(&op, i), op };
            let mut steps = placed(before);
            steps.extend([s(socket_probe(), 0), s(SocketOp::Accept, 0), s(SocketOp::Connect, 0), s(socket_probe(), 0)]);
            steps.extend([s(SocketOp::Connect, 1), s(socket_probe(), 0), s(SocketOp::Accept, 0), s(socket_probe(), 0)]);
            steps.extend([s(SocketOp::Accept, 0), s(socket_probe(), 0), s(SocketOp::Accept, 0), s(socket_probe(), 0)]);
            steps.extend(placed(after));
            SocketReadySchedule { setup, steps }
        })
        .boxed()
}
