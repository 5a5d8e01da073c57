//! Sealed-memfd properties: one per rule of `spec/rules/memfd.toml`.
//!
//! One to three actors share a memfd that the first made and passed on
//! over unix sockets (at any point of the schedule). They write, truncate,
//! map, unmap, seal and read it; the memfd model
//! ([`ipc_conform_harness::memfd::model`]) owes every answer. Each rule's
//! generator leans its schedules towards what the rule is about.

use crate::registry::Property;
use ipc_conform_harness::engine::keep_issuable;
use ipc_conform_harness::memfd::{exec, Holding, MemfdCase, Op, Step, MAX_SIZE, SEAL_SIZE, SEAL_TRAVELS, SEAL_WRITE};
use ipc_conform_harness::os::memfd::Seals;
use ipc_conform_harness::runner;
use proptest::collection::vec;
use proptest::prelude::*;

macro_rules! memfd_property {
    ($rule:expr, $name:literal, $gen:expr) => {
        Property {
            rule: $rule,
            name: $name,
            check: |cfg| {
                let timing = cfg.timing;
                runner::check($rule, $name, $gen, |c| exec::run(c, timing), cfg)
            },
            replay: |cfg, case| {
                let timing = cfg.timing;
                runner::replay($rule, $name, case, |c: &MemfdCase| exec::run(c, timing), cfg)
            },
        }
    };
}

/// The memfd properties.
pub static PROPERTIES: &[Property] = &[
    memfd_property!(SEAL_WRITE, "memfd_write_seal_refuses_writes_and_waits_for_no_shared_mapping", cases(Focus::Write)),
    memfd_property!(SEAL_SIZE, "memfd_size_seals_fix_the_size_and_the_seal_seal_the_seals", cases(Focus::Size)),
    memfd_property!(SEAL_TRAVELS, "memfd_seals_hold_for_the_process_that_received_it", cases(Focus::Travels)),
];

/// What a rule's schedules lean towards.
#[derive(Clone, Copy)]
enum Focus {
    Write,
    Size,
    Travels,
}

fn seals(focus: Focus) -> BoxedStrategy<Seals> {
    match focus {
        Focus::Write => prop_oneof![3 => Just(Seals::WRITE), 1 => (0u8..16).prop_map(Seals)].boxed(),
        Focus::Size => prop_oneof![
            2 => Just(Seals::SHRINK),
            2 => Just(Seals::GROW),
            1 => Just(Seals::SEAL),
            2 => (0u8..16).prop_map(Seals)
        ]
        .boxed(),
        Focus::Travels => prop_oneof![2 => Just(Seals(14)), 1 => (0u8..16).prop_map(Seals)].boxed(),
    }
}

fn op(focus: Focus) -> BoxedStrategy<Op> {
    let len = prop_oneof![Just(1u32), Just(4096u32), 1..=4096u32];
    let write = (0..MAX_SIZE / 2, len).prop_map(|(offset, len)| Op::Write { offset, len: len.min(MAX_SIZE - offset) });
    let truncate = prop_oneof![Just(0u32), Just(4096u32), 0..=MAX_SIZE].prop_map(|len| Op::Truncate { len });
    let map = (any::<bool>(), any::<bool>()).prop_map(|(shared, writable)| Op::Map { shared, writable });
    let pass = prop_oneof![(1u8..=2).prop_map(|to| Op::Send { to }), Just(Op::Receive)];
    let (w, t, m, p) = match focus {
        Focus::Write => (4, 1, 3, 1),
        Focus::Size => (3, 4, 1, 1),
        Focus::Travels => (3, 2, 2, 3),
    };
    prop_oneof![
        w => write,
        t => truncate,
        2 => seals(focus).prop_map(Op::Seal),
        1 => Just(Op::GetSeals),
        m => map,
        1 => Just(Op::Unmap),
        2 => Just(Op::Read),
        p => pass,
    ]
    .boxed()
}

/// 1-3 actors (2-3 to travel), 1-40 steps, kept where they can be issued.
fn cases(focus: Focus) -> BoxedStrategy<MemfdCase> {
    let actors = match focus {
        Focus::Travels => 2u8..=3,
        _ => 1u8..=3,
    };
    (actors, prop_oneof![4 => Just(true), 1 => Just(false)], vec((any::<u8>(), op(focus)), 1..40))
        .prop_map(|(actors, sealing, steps)| {
            let mut steps: Vec<Step> = steps.into_iter().map(|(actor, op)| Step { actor, op }).collect();
            keep_issuable(&mut steps, actors, Holding::new(actors, sealing));
            MemfdCase { actors, sealing, steps }
        })
        .boxed()
}
