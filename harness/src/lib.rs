//! # ipc-conform's engine
//!
//! Actors are real processes, started by exec, driven one operation at a
//! time over a control channel apart from the objects under test
//! ([`session`], [`actor`], [`protocol`]). Descriptors under test are handed
//! to the actors that should hold them and the coordinator closes its own
//! copies. "Blocked" rests on positive evidence from the kernel
//! ([`evidence`], [`os::proc`]), never on a sleep; a missing return after the
//! liveness deadline ([`timing`]) is `hung`. A reference model per mechanism
//! (e.g. [`pipe::model`]) gives the allowed outcomes of every step and names
//! the rule an observation breaks. The [`runner`] drives proptest around all
//! this and turns cases into a verdict per rule.

pub mod actor;
pub mod bench;
pub mod case;
pub mod channel;
pub mod checker;
pub mod cleanup;
pub mod constants;
pub mod engine;
pub mod eventfd;
pub mod evidence;
pub mod file;
pub mod leaks;
pub mod memfd;
pub mod mqueue;
pub mod observed;
pub mod os;
pub mod pattern;
pub mod pipe;
pub mod process;
pub mod progress;
pub mod protocol;
pub mod ready;
pub mod report;
pub mod runner;
pub mod scratch;
pub mod session;
pub mod shm;
pub mod signal;
pub mod socket;
pub mod stream;
pub mod sysv;
pub mod timing;
pub mod verdict;

pub use case::{CaseOutcome, CaseReport, Stop};
pub use constants::Constants;
pub use observed::{Death, Observed};
pub use session::{ActorId, Session};
pub use timing::Timing;
pub use verdict::Verdict;

/// A role a binary can be started in: its name and its `main`.
pub type Role = (&'static str, fn() -> i32);

/// If this process was started as an actor (or another role of the engine),
/// runs that role and never returns; otherwise returns and the caller goes
/// on as a coordinator, its inherited descriptors marked close-on-exec
/// ([`os::process::seal_inherited`]). Every binary that runs properties
/// calls this first thing in `main`, and passes `extra` for roles it
/// defines itself.
pub fn enter_role(extra: &[Role]) {
    let Ok(role) = std::env::var(os::process::ROLE_ENV) else {
        os::process::seal_inherited();
        return;
    };
    if role == "actor" {
        actor::main();
    }
    if role == os::forkserver::ROLE {
        std::process::exit(os::forkserver::server_main());
    }
    for (name, run) in extra {
        if *name == role {
            std::process::exit(run());
        }
    }
    eprintln!("ipc-conform: unknown role {role:?} in {}", os::process::ROLE_ENV);
    std::process::exit(64);
}
