//! Message-queue properties: one per rule of `spec/rules/mqueue.toml`.
//!
//! One to three actors open a queue of random attributes by name (some
//! with `O_NONBLOCK`) and send and receive messages of random lengths and
//! priorities; each property steers its cases into what its rule is about
//! (many priorities, a small queue kept full, receives outrunning sends,
//! lengths and buffers around `mq_msgsize`, unlinks and re-opens). The
//! queue model ([`ipc_conform_harness::mqueue::model`]) judges every
//! return and every block, so a finding against another rule is reported
//! against that rule.

use ipc_conform_harness::engine::keep_issuable;
use ipc_conform_harness::mqueue::{exec, rules, Descriptors, MqueueCase, Op, Step, MAX_DESCRIPTORS};
use ipc_conform_harness::runner::{self, RuleOutcome, RunConfig};
use proptest::collection::vec;
use proptest::prelude::*;

use crate::registry::{focused, Property};

/// The message-queue properties.
pub static PROPERTIES: &[Property] = &[
    focused!(rules::ORDER, "mqueue_receive_takes_the_oldest_message_of_the_highest_priority", Focus::Order),
    focused!(rules::FULL, "mqueue_send_to_a_full_queue_blocks_or_fails_with_eagain", Focus::Full),
    focused!(rules::EMPTY, "mqueue_receive_from_an_empty_queue_blocks_or_fails_with_eagain", Focus::Empty),
    focused!(rules::SIZE, "mqueue_oversize_message_or_short_buffer_fails_with_emsgsize", Focus::Size),
    focused!(rules::NAME, "mqueue_unlink_removes_the_name_and_open_descriptors_keep_working", Focus::Name),
];

/// What a property steers its cases into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Focus {
    /// Many messages of many priorities in a roomy queue.
    Order,
    /// A queue of 1-3 messages, more sends than receives.
    Full,
    /// More receives than sends.
    Empty,
    /// Lengths and buffers around a small `mq_msgsize`.
    Size,
    /// Unlinks, opens with and without `O_CREAT`, closes.
    Name,
}

fn check(rule: &'static str, name: &str, focus: Focus, cfg: &RunConfig) -> RuleOutcome {
    let timing = cfg.timing;
    runner::check(rule, name, cases(focus), |c| exec::run(c, timing), cfg)
}

fn replay(rule: &str, name: &str, case: &serde_json::Value, cfg: &RunConfig) -> RuleOutcome {
    let timing = cfg.timing;
    runner::replay(rule, name, case, |c: &MqueueCase| exec::run(c, timing), cfg)
}

/// Priorities below 32, the least `MQ_PRIO_MAX` POSIX allows.
fn prio() -> BoxedStrategy<u32> {
    prop_oneof![2 => Just(0u32), 2 => 1u32..=3, 1 => Just(31u32), 1 => 0u32..32].boxed()
}

/// A message length for a queue of `msgsize`, past it where `oversize`.
fn len(msgsize: u32, oversize: bool) -> BoxedStrategy<u32> {
    if oversize {
        prop_oneof![
            Just(0u32),
            Just(msgsize - 1),
            Just(msgsize),
            Just(msgsize + 1),
            msgsize + 1..=msgsize * 2 + 1,
            0..=msgsize,
        ]
        .boxed()
    } else {
        prop_oneof![3 => 0..=msgsize.min(64), 1 => Just(msgsize), 1 => 0..=msgsize].boxed()
    }
}

/// A receive buffer for a queue of `msgsize`, short of it where `short`.
fn buf(msgsize: u32, short: bool) -> BoxedStrategy<u32> {
    if short {
        prop_oneof![Just(msgsize - 1), Just(msgsize), Just(msgsize + 1), 0..msgsize, msgsize..=msgsize * 2].boxed()
    } else {
        prop_oneof![3 => Just(msgsize), 1 => msgsize..=msgsize * 2].boxed()
    }
}

/// The descriptor a step uses: mostly the first.
fn desc(focus: Focus) -> BoxedStrategy<u8> {
    match focus {
        Focus::Name => (0..MAX_DESCRIPTORS).boxed(),
        _ => prop_oneof![6 => Just(0u8), 1 => 0..MAX_DESCRIPTORS].boxed(),
    }
}

fn op(focus: Focus, msgsize: u32) -> BoxedStrategy<Op> {
    let size = focus == Focus::Size;
    let send = (desc(focus), len(msgsize, size), prio()).prop_map(|(d, len, prio)| Op::Send { d, len, prio });
    let receive = (desc(focus), buf(msgsize, size)).prop_map(|(d, buf)| Op::Receive { d, buf });
    let open = (any::<bool>(), prop_oneof![3 => Just(false), 1 => Just(true)])
        .prop_map(|(create, nonblock)| Op::Open { create, nonblock });
    let close = desc(focus).prop_map(|d| Op::Close { d });
    let (sends, receives, names) = match focus {
        Focus::Order => (3, 2, 0),
        Focus::Full => (3, 1, 0),
        Focus::Empty => (1, 3, 0),
        Focus::Size => (2, 2, 0),
        Focus::Name => (3, 3, 2),
    };
    let mut options: Vec<(u32, BoxedStrategy<Op>)> = vec![(sends, send.boxed()), (receives, receive.boxed())];
    if names > 0 {
        options.push((names, Just(Op::Unlink).boxed()));
        options.push((names, open.boxed()));
        options.push((1, close.boxed()));
    } else {
        // Now and then an open of the name, a second way to the queue.
        options.push((1, Just(Op::Open { create: false, nonblock: true }).boxed()));
    }
    proptest::strategy::Union::new_weighted(options).boxed()
}

/// A case of 1-3 actors, attributes for `focus`, 1-32 steps kept only
/// where the schedule lets them be issued.
fn cases(focus: Focus) -> BoxedStrategy<MqueueCase> {
    let maxmsg = match focus {
        Focus::Order => (3u32..=10).boxed(),
        Focus::Full => (1u32..=3).boxed(),
        _ => (1u32..=6).boxed(),
    };
    let msgsize = match focus {
        Focus::Size => prop_oneof![4 => 1u32..=32, 1 => Just(8192u32)].boxed(),
        _ => prop_oneof![4 => 1u32..=128, 1 => Just(8192u32)].boxed(),
    };
    (1u8..=3, maxmsg, msgsize)
        .prop_flat_map(move |(actors, maxmsg, msgsize)| {
            let nonblock = vec(prop_oneof![3 => Just(false), 1 => Just(true)], usize::from(actors));
            let steps = vec((any::<u8>(), op(focus, msgsize)), 1..32);
            (Just(actors), Just(maxmsg), Just(msgsize), nonblock, steps)
        })
        .prop_map(|(actors, maxmsg, msgsize, nonblock, steps)| {
            let mut steps: Vec<Step> = steps.into_iter().map(|(actor, op)| Step { actor, op }).collect();
            keep_issuable(&mut steps, actors, Descriptors::new(actors));
            MqueueCase { actors, maxmsg, msgsize, nonblock, steps }
        })
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    #[test]
    fn every_generated_case_is_valid_and_each_focus_reaches_its_operations() {
        for focus in [Focus::Order, Focus::Full, Focus::Empty, Focus::Size, Focus::Name] {
            let mut runner = TestRunner::deterministic();
            let (mut unlinks, mut oversize) = (0, 0);
            for _ in 0..200 {
                let case = cases(focus).new_tree(&mut runner).unwrap().current();
                assert_eq!(case.validate(), Ok(()), "{focus:?}: {case}");
                unlinks += case.steps.iter().filter(|s| s.op == Op::Unlink).count();
                oversize +=
                    case.steps.iter().filter(|s| matches!(s.op, Op::Send { len, .. } if len > case.msgsize)).count();
            }
            assert_eq!(unlinks > 0, focus == Focus::Name, "{focus:?}: unlinks {unlinks}");
            assert_eq!(oversize > 0, focus == Focus::Size, "{focus:?}: oversize sends {oversize}");
        }
    }
}
