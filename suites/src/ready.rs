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
use ipc_conform_harness::ready::{exec, rules, Op, ReadySchedule, Setup, Step};
use ipc_conform_harness::runner::{self, RuleOutcome, RunConfig};
use proptest::collection::vec;
use proptest::prelude::*;

use crate::registry::Property;

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

macro_rules! property {
    ($rule:expr, $name:literal, $focus:expr) => {
        Property {
            rule: $rule,
            name: $name,
            check: |cfg| check($rule, $name, $focus, cfg),
            replay: |cfg, case| replay($rule, $name, case, cfg),
        }
    };
}

/// The readiness properties.
pub static PROPERTIES: &[Property] = &[
    property!(rules::READABLE, "ready_read_end_readable_exactly_when_a_read_would_not_block", Focus::Readable),
    property!(rules::HANGUP, "ready_read_end_hangs_up_when_the_last_writer_closes", Focus::Hangup),
    property!(rules::WRITABLE, "ready_write_end_writable_when_empty_not_when_full", Focus::Writable),
    property!(rules::ERROR, "ready_write_end_reports_error_and_epipe_once_no_reader_is_left", Focus::Error),
    property!(rules::AGREE, "ready_interfaces_agree_about_the_same_end", Focus::Agree),
    property!(rules::EDGE, "ready_edge_triggered_reports_each_arrival_once", Focus::Edge),
    property!(rules::WAIT_WAKES, "ready_waiting_reader_sleeps_until_ready_then_wakes", Focus::Wait),
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
