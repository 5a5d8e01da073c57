//! The `process` mechanism: what isolates processes and what crosses
//! between them by inheritance.
//!
//! - [`private`]: ordinary memory written after `fork` stays the writer's
//!   (`process.memory.private`); the case is a memory schedule
//!   ([`crate::shm::memory`]) with fork exchanges, judged here;
//! - [`foreign`]: another user's process memory is out of reach
//!   (`process.memory.no-foreign-access`);
//! - [`inherit`]: descriptors without close-on-exec are inherited across
//!   spawn, sharing one open file description (`process.fd.inherited`);
//! - [`wait`]: a supervisor learns how each child ended from `waitpid`
//!   (`process.wait.status`), and of stops and continues
//!   (`process.wait.stop-continue`);
//! - [`orphan`]: a grandchild whose parent ended is re-parented
//!   (`process.orphan.reparent`).

pub mod foreign;
pub mod inherit;
pub mod orphan;
pub mod private;
pub mod rules;
pub mod wait;

use crate::case::Stop;
use crate::checker::describe;
use crate::observed::Observed;
use crate::os::process::UNPRIVILEGED;
use crate::protocol::{Reply, Request};
use crate::session::{ActorId, Session};

/// Why a case that needs a second uid cannot run here.
pub const NEEDS_SECOND_UID: &str =
    "needs a second uid: the coordinator is not root, so no actor can act as another user";

/// Has actor `id` give up root for [`UNPRIVILEGED`]; the observation for
/// the trace.
pub fn drop_privileges(session: &mut Session, id: ActorId) -> Result<Observed, Stop> {
    let observed = session.call(id, &Request::DropPrivileges { uid: UNPRIVILEGED.0, gid: UNPRIVILEGED.1 })?;
    if observed != Observed::Returned(Reply::Done) {
        return Err(Stop::harness(format!("dropping privileges: {}", describe(&observed))));
    }
    Ok(observed)
}
