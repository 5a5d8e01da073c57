//! Access across users: a shared-memory object's permission bits
//! (`shm.permissions`) and another user's process memory
//! (`process.memory.no-foreign-access`). Both need a second uid: the
//! coordinator runs as root and one actor drops to
//! [`crate::os::process::UNPRIVILEGED`]; otherwise the case is
//! `unsupported` and says why.

use super::memory::{expect_done, expect_opened};
use super::name::ShmName;
use super::rules;
use super::{fail, one_value, Event, Violation};
use crate::case::Stop;
use crate::case::{CaseOutcome, CaseReport};
use crate::observed::Observed;
use crate::os::process::{can_switch_user, UNPRIVILEGED};
use crate::os::shm::ForeignAccess;
use crate::protocol::shm::ShmOp;
use crate::protocol::{Reply, Request};
use crate::session::{ActorId, Session};
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a case that needs a second uid cannot run here.
pub const NEEDS_SECOND_UID: &str =
    "needs a second uid: the coordinator is not root, so no actor can act as another user";

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
        writeln!(f, "  1. actor 0 (root): shm_open(O_CREAT|O_EXCL), fchmod {:#o}", self.mode)?;
        writeln!(f, "  2. actor 1: drop to uid/gid {}/{}", UNPRIVILEGED.0, UNPRIVILEGED.1)?;
        for (i, w) in self.probes.iter().enumerate() {
            writeln!(f, "{:>3}. actor 1: shm_open {}", i + 3, if *w { "O_RDWR" } else { "O_RDONLY" })?;
        }
        writeln!(f, "{:>3}. actor 0: shm_open O_RDWR (the owner may)", self.probes.len() + 3)?;
        writeln!(
            f,
            "{:>3}. actor 0: fchmod 0666; actor 1: shm_open O_RDWR (positive control: must succeed)",
            self.probes.len() + 4
        )
    }
}

/// An operation of an access case, as the trace shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessOp {
    /// Dropped to the unprivileged uid.
    DropPrivileges,
    /// Opened the object with these permission bits by name, for writing or not.
    Open { mode: u32, write: bool, owner: bool },
    /// Kept the secret value in ordinary memory.
    Secret { value: u64 },
    /// Tried to reach the other process's secret.
    Foreign { how: ForeignAccess, write: Option<u64> },
    /// Positive control: still root, read the other process's secret the
    /// same way (proves the method works here, so that a denial after
    /// dropping privileges is about the uid).
    Control { how: ForeignAccess },
    /// Read the secret back in its own process.
    ReadSecret { value: u64 },
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
            AccessOp::Secret { value } => write!(f, "keep {value:#x} in heap memory"),
            AccessOp::Foreign { how, write: None } => write!(f, "read actor 0's secret by {how:?}"),
            AccessOp::Foreign { how, write: Some(v) } => write!(f, "write {v:#x} over actor 0's secret by {how:?}"),
            AccessOp::Control { how } => write!(f, "as root, read actor 0's secret by {how:?} (positive control)"),
            AccessOp::ReadSecret { value } => write!(f, "read its secret back (kept {value:#x})"),
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
pub fn judge_foreign(event: &AccessEvent) -> Result<(), Violation> {
    let Some(e) = event.as_step() else { return Ok(()) };
    match *e.op {
        AccessOp::Foreign { how, write } => match e.observed {
            Observed::Returned(Reply::Errno(errno)) if is_denial(how, *errno) => Ok(()),
            other => Err(Violation::new(
                rules::NO_FOREIGN_ACCESS,
                format!(
                    "an unprivileged process tried to {} another user's memory by {how:?}: {}; allowed: a denial (EPERM, EACCES, ESRCH{})",
                    if write.is_some() { "write" } else { "read" },
                    super::show(other),
                    if how == ForeignAccess::ProcMem { ", ENOENT" } else { "" }
                ),
            )),
        },
        AccessOp::ReadSecret { value } => match one_value(e.observed) {
            Some(v) if v == value => Ok(()),
            _ => Err(Violation::new(
                rules::NO_FOREIGN_ACCESS,
                format!("the secret {value:#x} changed to {} under another user's writes", super::show(e.observed)),
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

fn drop_privileges(session: &mut Session, id: ActorId) -> Result<Observed, Stop> {
    let observed = session.call(id, &Request::DropPrivileges { uid: UNPRIVILEGED.0, gid: UNPRIVILEGED.1 })?;
    if observed != Observed::Returned(Reply::Done) {
        return Err(Stop::harness(format!("dropping privileges: {}", super::show(&observed))));
    }
    Ok(observed)
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
    let open = ShmOp::Open { name: name.as_str().to_string(), create: true, write: true, mode: case.mode & 0o777 };
    let slot = expect_opened(session.call(owner, &Request::Shm(open))?, 0)?;
    expect_done(session.call(owner, &Request::Shm(ShmOp::Chmod { slot, mode: case.mode & 0o777 }))?, "fchmod")?;
    let observed = drop_privileges(session, other)?;
    events.push(AccessEvent::Step { index: 0, actor: 1, op: AccessOp::DropPrivileges, observed });
    let mut probes: Vec<(ActorId, bool, bool)> = case.probes.iter().map(|w| (other, *w, false)).collect();
    probes.push((owner, true, true));
    for (i, (id, write, is_owner)) in probes.into_iter().enumerate() {
        let op = ShmOp::ProbeOpen { name: name.as_str().to_string(), write, file: false };
        let observed = session.call(id, &Request::Shm(op))?;
        let e = AccessEvent::Step {
            index: i + 1,
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
    // Positive control: opened to everyone, the object must open for the
    // other uid, so that its refusals above were about the mode bits (not
    // a directory it cannot reach, a sandbox, ...).
    expect_done(session.call(owner, &Request::Shm(ShmOp::Chmod { slot, mode: 0o666 }))?, "fchmod")?;
    let op = ShmOp::ProbeOpen { name: name.as_str().to_string(), write: true, file: false };
    let observed = session.call(other, &Request::Shm(op))?;
    let opened = observed == Observed::Returned(Reply::Done);
    events.push(AccessEvent::Step {
        index: case.probes.len() + 2,
        actor: 1,
        op: AccessOp::Open { mode: 0o666, write: true, owner: false },
        observed,
    });
    drop(name);
    if !opened {
        return Ok(CaseOutcome::Unresolved(
            "positive control: after fchmod 0666 the other uid still cannot open the object for writing, \
             so its refusals above prove nothing about the mode bits"
                .into(),
        ));
    }
    Ok(CaseOutcome::Pass)
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
        for (i, (how, write)) in self.probes.iter().enumerate() {
            let op = AccessOp::Foreign { how: *how, write: *write };
            writeln!(f, "{:>3}. actor 1: {op} (must be refused, where its control succeeded)", i + 4)?;
        }
        writeln!(f, "{:>3}. actor 0: read the secret back: still {:#x}", self.probes.len() + 4, self.value)
    }
}

/// Runs a [`ForeignCase`].
pub fn run_foreign(case: &ForeignCase, timing: Timing) -> CaseReport<AccessEvent> {
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
    events: &mut Vec<AccessEvent>,
) -> Result<CaseOutcome, Stop> {
    let (victim, prober) = (session.spawn()?, session.spawn()?);
    let observed = session.call(victim, &Request::Shm(ShmOp::Secret { value: case.value }))?;
    let addr = one_value(&observed).ok_or_else(|| Stop::harness(format!("keeping the secret: {observed:?}")))?;
    events.push(AccessEvent::Step { index: 0, actor: 0, op: AccessOp::Secret { value: case.value }, observed });
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
        events.push(AccessEvent::Step { index, actor: 1, op: AccessOp::Control { how }, observed });
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
    events.push(AccessEvent::Step { index, actor: 1, op: AccessOp::DropPrivileges, observed });
    index += 1;
    for (how, write) in case.probes.iter().filter(|(how, _)| usable.contains(how)) {
        let op = ShmOp::Foreign { pid, addr, how: *how, write: *write };
        let observed = session.call(prober, &Request::Shm(op))?;
        let e = AccessEvent::Step { index, actor: 1, op: AccessOp::Foreign { how: *how, write: *write }, observed };
        index += 1;
        let v = judge_foreign(&e);
        events.push(e);
        if let Err(v) = v {
            return Ok(fail(v));
        }
    }
    let observed = session.call(victim, &Request::Shm(ShmOp::ReadSecret))?;
    let e = AccessEvent::Step { index, actor: 0, op: AccessOp::ReadSecret { value: case.value }, observed };
    let v = judge_foreign(&e);
    events.push(e);
    Ok(v.err().map(fail).unwrap_or(CaseOutcome::Pass))
}
