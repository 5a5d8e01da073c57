//! Event-counter properties: one per rule of `spec/rules/eventfd.toml`.
//!
//! Actors sharing one eventfd write values (small ones, ones that reach
//! the counter's limit, the forbidden all-ones value) and read it, with
//! and without `EFD_SEMAPHORE` and `EFD_NONBLOCK`; the counter model
//! ([`ipc_conform_harness::eventfd::model`]) judges every return and
//! every block, and says which blocked calls must return.

use ipc_conform_harness::eventfd::{exec, rules, EventfdCase, Op, Step, MAX};
use ipc_conform_harness::runner::{self, RuleOutcome, RunConfig};
use proptest::collection::vec;
use proptest::prelude::*;

use crate::registry::Property;

const NAME: &str = "eventfd_read_takes_the_sum_and_empty_reads_or_overflowing_writes_block";

/// The eventfd properties.
pub static PROPERTIES: &[Property] = &[Property {
    rule: rules::COUNTER,
    name: NAME,
    check: |cfg| check(rules::COUNTER, NAME, cfg),
    replay: |cfg, case| replay(rules::COUNTER, NAME, case, cfg),
}];

fn check(rule: &str, name: &str, cfg: &RunConfig) -> RuleOutcome {
    let timing = cfg.timing;
    runner::check(rule, name, cases(), |c| exec::run(c, timing), cfg)
}

fn replay(rule: &str, name: &str, case: &serde_json::Value, cfg: &RunConfig) -> RuleOutcome {
    let timing = cfg.timing;
    runner::replay(rule, name, case, |c: &EventfdCase| exec::run(c, timing), cfg)
}

/// Values written: small ones, and ones at the counter's limit.
fn value() -> BoxedStrategy<u64> {
    prop_oneof![
        6 => 1u64..=100,
        1 => Just(0u64),
        1 => Just(MAX),
        1 => Just(1u64 << 63),
        1 => Just(u64::MAX),
        1 => any::<u64>(),
    ]
    .boxed()
}

fn op() -> BoxedStrategy<Op> {
    prop_oneof![5 => value().prop_map(Op::Write), 5 => Just(Op::Read), 1 => Just(Op::ReadShort)].boxed()
}

/// eventfd.counter: 1-3 actors, a start value, the flags, 1-24 steps.
fn cases() -> BoxedStrategy<EventfdCase> {
    let initval = prop_oneof![Just(0u32), Just(1u32), any::<u32>()];
    let nonblock = prop_oneof![3 => Just(false), 1 => Just(true)];
    (1u8..=3, initval, any::<bool>(), nonblock, vec((any::<u8>(), op()), 1..24))
        .prop_map(|(actors, initval, semaphore, nonblock, steps)| EventfdCase {
            actors,
            initval,
            semaphore,
            nonblock,
            steps: steps.into_iter().map(|(a, op)| Step { actor: a % actors, op }).collect(),
        })
        .boxed()
}
