//! Another user's process memory (`process.memory.no-foreign-access`):
//! actor 0 (root) keeps a secret in its heap; actor 1 first reads it by
//! each method as root, then drops to another uid, reads a child of its
//! own by each method (the two positive controls: the method works here,
//! and it works for this uid on its own processes), and then tries every
//! way into actor 0 again, reading and writing. Only a method that passed
//! both controls is judged, so a refusal is about the other user; the
//! secret must be unchanged. Needs a second uid ([`super::drop_privileges`]).

use super::rules;
use super::{drop_privileges, NEEDS_SECOND_UID};
use crate::case::{CaseOutcome, CaseReport, Stop};
use crate::checker::{describe, Event, Violation};
use crate::observed::Observed;
use crate::os::process::{can_switch_user, UNPRIVILEGED};
use crate::os::shm::ForeignAccess;
use crate::protocol::shm::ShmOp;
use crate::protocol::{Reply, Request};
use crate::session::Session;
use crate::shm::one_value;
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An operation of a foreign-access case, as the trace shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ForeignOp {
    /// Dropped to the unprivileged uid.
    DropPrivileges,
    /// Kept the secret value in ordinary memory.
    Secret { value: u64 },
    /// Tried to reach the other process's secret.
    Foreign { how: ForeignAccess, write: Option<u64> },
    /// Positive control: still root, read the other process's secret the
    /// same way (proves the method works here, so that a denial after
    /// dropping privileges is about the uid).
    Control { how: ForeignAccess },
    /// Positive control: after dropping privileges, read a child of its
    /// own the same way.
    OwnChild { how: ForeignAccess },
    /// Read the secret back in its own process.
    ReadSecret { value: u64 },
}

impl fmt::Display for ForeignOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ForeignOp::DropPrivileges => write!(f, "drop to uid {}", UNPRIVILEGED.0),
            ForeignOp::Secret { value } => write!(f, "keep {value:#x} in heap memory"),
            ForeignOp::Foreign { how, write: None } => write!(f, "read actor 0's secret by {how:?}"),
            ForeignOp::Foreign { how, write: Some(v) } => write!(f, "write {v:#x} over actor 0's secret by {how:?}"),
            ForeignOp::Control { how } => write!(f, "as root, read actor 0's secret by {how:?} (positive control)"),
            ForeignOp::OwnChild { how } => write!(f, "read a child of its own by {how:?} (positive control)"),
            ForeignOp::ReadSecret { value } => write!(f, "read its secret back (kept {value:#x})"),
        }
    }
}

/// An event of a foreign-access case.
pub type ForeignEvent = Event<ForeignOp>;

/// Whether an errno is a denial of access to another process's memory by
/// `how`: `EPERM`/`EACCES` (the permission check), `ESRCH` (the process is
/// not visible to this uid); for `/proc/<pid>/mem` also `ENOENT` (a
/// `/proc` mounted `hidepid`). Anything else (`ENOSYS`, `EFAULT`, `EIO`,
/// `EINVAL`, ...) is not: the call is missing, or the permission check
/// passed and something else failed.
pub fn is_denial(how: ForeignAccess, errno: i32) -> bool {
    [libc::EPERM, libc::EACCES, libc::ESRCH].contains(&errno)
        || (how == ForeignAccess::ProcMem && errno == libc::ENOENT)
}

/// Judges one event of a foreign-access case. A probe is judged only for
/// a method whose positive control (the same read as root) succeeded: the
/// executor skips the others, which prove nothing here.
pub fn judge_foreign(event: &ForeignEvent) -> Result<(), Violation> {
    let Some(e) = event.as_step() else { return Ok(()) };
    match *e.op {
        ForeignOp::Foreign { how, write } => match e.observed {
            Observed::Returned(Reply::Errno(errno)) if is_denial(how, *errno) => Ok(()),
            other => Err(Violation::new(
                rules::NO_FOREIGN_ACCESS,
                format!(
                    "an unprivileged process tried to {} another user's memory by {how:?}: {}; allowed: a denial (EPERM, EACCES, ESRCH{})",
                    if write.is_some() { "write" } else { "read" },
                    describe(other),
                    if how == ForeignAccess::ProcMem { ", ENOENT" } else { "" }
                ),
            )),
        },
        ForeignOp::ReadSecret { value } => match one_value(e.observed) {
            Some(v) if v == value => Ok(()),
            _ => Err(Violation::new(
                rules::NO_FOREIGN_ACCESS,
                format!("the secret {value:#x} changed to {} under another user's writes", describe(e.observed)),
            )),
        },
        _ => Ok(()),
    }
}

/// Whether a positive control reached the secret `value`: read it, or
/// attached.
pub fn control_reached(observed: &Observed, value: u64) -> bool {
    match observed {
        Observed::Returned(Reply::Done) => true,
        other => one_value(other) == Some(value),
    }
}

fn fail(v: Violation) -> CaseOutcome {
    v.into()
}

/// Actor 0 keeps a secret; actor 1, another uid, tries to reach it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignCase {
    /// The secret.
    pub value: u64,
    /// The attempts, in order: how, and the value to write (`None`: read).
    pub probes: Vec<(ForeignAccess, Option<u64>)>,
}

impl fmt::Display for ForeignCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  1. actor 0 (root): keep {:#x} in heap memory, report its address", self.value)?;
        writeln!(f, "  2. actor 1 (still root): read the secret by each method below (positive controls)")?;
        writeln!(f, "  3. actor 1: drop to uid/gid {}/{}", UNPRIVILEGED.0, UNPRIVILEGED.1)?;
        writeln!(f, "  4. actor 1: read a child of its own by each method (positive controls)")?;
        for (i, (how, write)) in self.probes.iter().enumerate() {
            let op = ForeignOp::Foreign { how: *how, write: *write };
            writeln!(f, "{:>3}. actor 1: {op} (must be refused, where both controls succeeded)", i + 5)?;
        }
        writeln!(f, "{:>3}. actor 0: read the secret back: still {:#x}", self.probes.len() + 5, self.value)
    }
}

/// Runs a [`ForeignCase`].
pub fn run_foreign(case: &ForeignCase, timing: Timing) -> CaseReport<ForeignEvent> {
    if !can_switch_user() {
        let mut report = CaseReport::new();
        report.outcome = CaseOutcome::Unsupported(NEEDS_SECOND_UID.into());
        return report;
    }
    crate::case::run_in_session(timing, |session, report| drive_foreign(case, session, &mut report.events))
}

fn drive_foreign(
    case: &ForeignCase,
    session: &mut Session,
    events: &mut Vec<ForeignEvent>,
) -> Result<CaseOutcome, Stop> {
    let (victim, prober) = (session.spawn()?, session.spawn()?);
    let observed = session.call(victim, &Request::Shm(ShmOp::Secret { value: case.value }))?;
    let addr = one_value(&observed).ok_or_else(|| Stop::harness(format!("keeping the secret: {observed:?}")))?;
    events.push(ForeignEvent::Step { index: 0, actor: 0, op: ForeignOp::Secret { value: case.value }, observed });
    let pid = session.pid(victim);
    // Positive controls first, while the prober is still root: a method
    // that does not reach the secret even then (no such call here, Yama
    // forbidding ptrace to all, ...) proves nothing when it is refused later.
    let mut usable = Vec::new();
    let mut index = 1;
    for how in [ForeignAccess::VmCall, ForeignAccess::ProcMem, ForeignAccess::PtraceAttach] {
        if !case.probes.iter().any(|(h, _)| *h == how) {
            continue;
        }
        let op = ShmOp::Foreign { pid, addr, how, write: None };
        let observed = session.call(prober, &Request::Shm(op))?;
        if control_reached(&observed, case.value) {
            usable.push(how);
        }
        events.push(ForeignEvent::Step { index, actor: 1, op: ForeignOp::Control { how }, observed });
        index += 1;
    }
    if usable.is_empty() {
        return Ok(CaseOutcome::Unresolved(
            "no probe of this case reaches another process's memory even as root here (see the trace): \
             a refusal after dropping privileges would prove nothing"
                .into(),
        ));
    }
    let observed = drop_privileges(session, prober)?;
    events.push(ForeignEvent::Step { index, actor: 1, op: ForeignOp::DropPrivileges, observed });
    index += 1;
    // The other control: as this uid, the method reaches a process of its
    // own, so that a refusal below is about the other user.
    let mut judged = Vec::new();
    for how in usable {
        let observed = session.call(prober, &Request::Shm(ShmOp::ForeignOwnChild { how }))?;
        if one_value(&observed) == Some(1) {
            judged.push(how);
        }
        events.push(ForeignEvent::Step { index, actor: 1, op: ForeignOp::OwnChild { how }, observed });
        index += 1;
    }
    if judged.is_empty() {
        return Ok(CaseOutcome::Unresolved(
            "no probe of this case reaches even a process of the unprivileged user's own here (see the trace): \
             its refusals of another user's process would prove nothing about the other user"
                .into(),
        ));
    }
    let usable = judged;
    for (how, write) in case.probes.iter().filter(|(how, _)| usable.contains(how)) {
        let op = ShmOp::Foreign { pid, addr, how: *how, write: *write };
        let observed = session.call(prober, &Request::Shm(op))?;
        let e = ForeignEvent::Step { index, actor: 1, op: ForeignOp::Foreign { how: *how, write: *write }, observed };
        index += 1;
        let v = judge_foreign(&e);
        events.push(e);
        if let Err(v) = v {
            return Ok(fail(v));
        }
    }
    let observed = session.call(victim, &Request::Shm(ShmOp::ReadSecret))?;
    let e = ForeignEvent::Step { index, actor: 0, op: ForeignOp::ReadSecret { value: case.value }, observed };
    let v = judge_foreign(&e);
    events.push(e);
    Ok(v.err().map(fail).unwrap_or(CaseOutcome::Pass))
}
