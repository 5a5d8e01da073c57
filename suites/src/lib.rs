//! # ipc-conform's properties
//!
//! One module per mechanism; each property names the rule id it checks and
//! reads as a sentence of the rule. [`registry`] lists them all; the
//! `conformance` test target and the `ipc-conform` command both run them
//! through the same runner.

pub mod cli;
pub mod file;
pub mod mutants;
pub mod pipe;
pub mod process;
pub mod registry;
pub mod shm;
pub mod socket;

pub use registry::{Property, PROPERTIES};

/// Call first thing in every `main` that runs properties: if this process
/// was started as an actor or a fixture program, run that instead.
pub fn enter_role() {
    let roles: Vec<ipc_conform_harness::Role> =
        ipc_conform_fixtures::ROLES.iter().copied().chain([ipc_conform_harness::bench::PONG_ROLE]).collect();
    ipc_conform_harness::enter_role(&roles);
}
