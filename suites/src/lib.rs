//! # ipc-conform's properties
//!
//! One module per mechanism; each property names the rule id it checks and
//! reads as a sentence of the rule. [`registry`] lists them all; the
//! `conformance` test target and the `ipc-conform` command both run them
//! through the same runner.

pub mod cli;
pub mod eventfd;
pub mod file;
pub mod memfd;
pub mod mqueue;
pub mod mutants;
pub mod pipe;
pub mod process;
pub mod ready;
pub mod registry;
pub mod shm;
pub mod signal;
pub mod socket;
pub mod sysv;

pub use registry::{Property, PROPERTIES};

/// Call first thing in every `main` that runs properties: if this process
/// was started as an actor or a fixture program, run that instead.
pub fn enter_role() {
    let roles: Vec<ipc_conform_harness::Role> =
        ipc_conform_fixtures::ROLES.iter().copied().chain([ipc_conform_harness::bench::PONG_ROLE]).collect();
    ipc_conform_harness::enter_role(&roles);
}

/// The random draw of entry points for a schedule's reads and writes: one
/// pick per operation, in order (see `PipeSchedule::through`,
/// `PairSchedule::through`). Picks cover both a pipe's two entry points
/// and a socket's five evenly; shrinking removes picks and lowers them to
/// 0, the plain `read`/`write` (or `send`/`recv`), so a counterexample
/// names an unusual entry point only where it matters.
pub fn entry_picks() -> proptest::strategy::BoxedStrategy<Vec<u8>> {
    use proptest::strategy::Strategy;
    proptest::collection::vec(0u8..10, 0..=48).boxed()
}

/// For the suites' tests of their strategies: how likely `strategy` is to
/// draw a case where `holds`, and how likely `cases` cases in a row all miss
/// it (the chance that a run of that many cases never looks at what
/// `holds` picks out). Drawn with proptest's deterministic runner.
#[cfg(test)]
pub(crate) fn chance_all_miss<T: std::fmt::Debug>(
    strategy: &proptest::strategy::BoxedStrategy<T>,
    cases: i32,
    holds: impl Fn(&T) -> bool,
) -> (f64, f64) {
    use proptest::strategy::{Strategy, ValueTree};
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let drawn = 2000;
    let hits = (0..drawn).filter(|_| holds(&strategy.new_tree(&mut runner).unwrap().current())).count();
    let share = hits as f64 / drawn as f64;
    (share, (1.0 - share).powi(cases))
}
