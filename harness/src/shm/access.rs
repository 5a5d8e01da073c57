//! A shared-memory object's permission bits for another user
//! (`shm.permissions`). It needs a second uid: the coordinator runs as
//! root and one actor drops to [`crate::os::process::UNPRIVILEGED`]
//! ([`crate::process::drop_privileges`]); otherwise the case is
//! `unsupported` and says why.

use super::memory::{expect_done, expect_opened};
use super::name::ShmName;
use super::rules;
use super::{fail, Event, Violation};
use crate::case::Stop;
use crate::case::{CaseOutcome, CaseReport};
use crate::observed::Observed;
use crate::os::process::{can_switch_user, UNPRIVILEGED};
use crate::process::{drop_privileges, NEEDS_SECOND_UID};
use crate::protocol::shm::ShmOp;
use crate::protocol::{Reply, Request};
use crate::session::{ActorId, Session};
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An object created by root with `mode`; another uid probes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermCase {
    /// The permission bits (no write bit for others).
    pub mode: u32,
    /// The other uid's probes, in order: `true` opens for writing.
    pub probes: Vec<bool>,
}

impl fmt::Display for PermCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  1. actor 0 (root): shm_open(O_CREAT|O_EXCL)")?;
        writeln!(f, "  2. actor 1: drop to uid/gid {}/{}", UNPRIVILEGED.0, UNPRIVILEGED.1)?;
        writeln!(f, "  3. actor 0: fchmod 0666; actor 1: shm_open O_RDWR (positive control: must succeed)")?;
        writeln!(f, "  4. actor 0: fchmod {:#o}", self.mode)?;
        for (i, w) in self.probes.iter().enumerate() {
            writeln!(f, "{:>3}. actor 1: shm_open {}", i + 5, if *w { "O_RDWR" } else { "O_RDONLY" })?;
        }
        writeln!(f, "{:>3}. actor 0: shm_open O_RDWR (the owner may)", self.probes.len() + 5)
    }
}

/// An operation of a permissions case, as the trace shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessOp {
    /// Dropped to the unprivileged uid.
    DropPrivileges,
    /// Opened the object with these permission bits by name, for writing or not.
    Open { mode: u32, write: bool, owner: bool },
}

impl fmt::Display for AccessOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccessOp::DropPrivileges => write!(f, "drop to uid {}", UNPRIVILEGED.0),
            AccessOp::Open { mode, write, owner } => write!(
                f,
                "{} opens the {mode:#o} object {}",
                if *owner { "the owner" } else { "another uid" },
                if *write { "O_RDWR" } else { "O_RDONLY" }
            ),
        }
    }
}

/// An event of an access case.
pub type AccessEvent = Event<AccessOp>;

/// Judges one event of a permissions case.
pub fn judge_permissions(event: &AccessEvent) -> Result<(), Violation> {
    let Some(e) = event.as_step() else { return Ok(()) };
    let AccessOp::Open { mode, write, owner } = *e.op else { return Ok(()) };
    let allowed = owner || (if write { mode & 0o002 != 0 } else { mode & 0o004 != 0 });
    let want = if allowed { Observed::Returned(Reply::Done) } else { Observed::Returned(Reply::Errno(libc::EACCES)) };
    if *e.observed == want {
        return Ok(());
    }
    Err(Violation::new(
        rules::PERMISSIONS,
        format!(
            "{} of a {mode:#o} object: {}; expected {}",
            e.op,
            super::show(e.observed),
            if allowed { "success" } else { "EACCES" }
        ),
    ))
}

/// Runs a [`PermCase`].
pub fn run_permissions(case: &PermCase, timing: Timing) -> CaseReport<AccessEvent> {
    if !can_switch_user() {
        let mut report = CaseReport::new();
        report.outcome = CaseOutcome::Unsupported(NEEDS_SECOND_UID.into());
        return report;
    }
    crate::case::run_in_session(timing, |session, report| drive_permissions(case, session, &mut report.events))
}

fn drive_permissions(
    case: &PermCase,
    session: &mut Session,
    events: &mut Vec<AccessEvent>,
) -> Result<CaseOutcome, Stop> {
    let name = ShmName::fresh();
    let (owner, other) = (session.spawn()?, session.spawn()?);
    let open = ShmOp::Open { name: name.as_str().to_string(), create: true, write: true, mode: 0o600 };
    let slot = expect_opened(session.call(owner, &Request::Shm(open))?, 0)?;
    let observed = drop_privileges(session, other)?;
    events.push(AccessEvent::Step { index: 0, actor: 1, op: AccessOp::DropPrivileges, observed });
    // Positive control first: opened to everyone, the object must open for
    // the other uid, so that what it is refused below is about the mode
    // bits (not a directory it cannot reach, a sandbox, ...).
    expect_done(session.call(owner, &Request::Shm(ShmOp::Chmod { slot, mode: 0o666 }))?, "fchmod")?;
    let probe = |write| ShmOp::ProbeOpen { name: name.as_str().to_string(), write, file: false };
    let observed = session.call(other, &Request::Shm(probe(true)))?;
    let opened = observed == Observed::Returned(Reply::Done);
    events.push(AccessEvent::Step {
        index: 1,
        actor: 1,
        op: AccessOp::Open { mode: 0o666, write: true, owner: false },
        observed,
    });
    if !opened {
        return Ok(CaseOutcome::Unresolved(
            "positive control: with mode 0666 the other uid cannot open the object for writing, \
             so its refusals would prove nothing about the mode bits"
                .into(),
        ));
    }
    expect_done(session.call(owner, &Request::Shm(ShmOp::Chmod { slot, mode: case.mode & 0o777 }))?, "fchmod")?;
    let mut probes: Vec<(ActorId, bool, bool)> = case.probes.iter().map(|w| (other, *w, false)).collect();
    probes.push((owner, true, true));
    for (i, (id, write, is_owner)) in probes.into_iter().enumerate() {
        let observed = session.call(id, &Request::Shm(probe(write)))?;
        let e = AccessEvent::Step {
            index: i + 2,
            actor: id.0 as u8,
            op: AccessOp::Open { mode: case.mode & 0o777, write, owner: is_owner },
            observed,
        };
        let v = judge_permissions(&e);
        events.push(e);
        if let Err(v) = v {
            return Ok(fail(v));
        }
    }
    drop(name);
    Ok(CaseOutcome::Pass)
}
