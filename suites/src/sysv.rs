//! System V IPC properties: one per rule of `spec/rules/sysv.toml`.
//!
//! One to three actors share a new message queue; they send messages of
//! types 1-5 with texts of random length and receive them with every kind
//! of `msgtyp` (0, a type, minus a bound), blocking or `IPC_NOWAIT`, into
//! buffers now and then too short. The queue model
//! ([`ipc_conform_harness::sysv::msg::model`]) judges every return and
//! every block.

use ipc_conform_harness::runner::{self, RuleOutcome, RunConfig};
use ipc_conform_harness::sysv::msg::{exec, MsgCase, Op, Step, MAX_TEXT, MAX_TYPE};
use ipc_conform_harness::sysv::rules;
use proptest::collection::vec;
use proptest::prelude::*;

use crate::registry::Property;

const NAME: &str = "sysv_msgrcv_selects_by_type_and_blocks_while_none_matches";

/// The System V properties.
pub static PROPERTIES: &[Property] = &[Property {
    rule: rules::MSG_TYPES,
    name: NAME,
    check: |cfg| {
        let timing = cfg.timing;
        runner::check(rules::MSG_TYPES, NAME, cases(), |c| exec::run(c, timing), cfg)
    },
    replay: |cfg, case| replay(rules::MSG_TYPES, NAME, case, cfg),
}];

fn replay(rule: &str, name: &str, case: &serde_json::Value, cfg: &RunConfig) -> RuleOutcome {
    let timing = cfg.timing;
    runner::replay(rule, name, case, |c: &MsgCase| exec::run(c, timing), cfg)
}

fn op() -> BoxedStrategy<Op> {
    let send =
        (1..=MAX_TYPE, prop_oneof![3 => 0..=8u32, 1 => 0..=MAX_TEXT]).prop_map(|(mtype, len)| Op::Send { mtype, len });
    let max = prop_oneof![4 => Just(MAX_TEXT), 1 => MAX_TEXT..=2 * MAX_TEXT, 1 => 0..MAX_TEXT];
    let msgtyp = prop_oneof![2 => Just(0i64), 3 => 1..=MAX_TYPE + 1, 3 => -(MAX_TYPE + 1)..=-1];
    let nowait = prop_oneof![1 => Just(true), 2 => Just(false)];
    let receive = (msgtyp, max, nowait).prop_map(|(msgtyp, max, nowait)| Op::Receive { msgtyp, max, nowait });
    prop_oneof![3 => send, 2 => receive].boxed()
}

/// sysv.msg.type-selection: 1-3 actors, 1-32 steps.
fn cases() -> BoxedStrategy<MsgCase> {
    (1u8..=3, vec((any::<u8>(), op()), 1..32))
        .prop_map(|(actors, steps)| MsgCase {
            actors,
            steps: steps.into_iter().map(|(a, op)| Step { actor: a % actors, op }).collect(),
        })
        .boxed()
}
