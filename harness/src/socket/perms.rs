//! `socket.path.permissions`: connecting to a unix socket needs write
//! permission on its path (and search permission on its directories); the
//! positive control opens the path and the same user connects.

use super::kit::{opened, run_with, sock};
use super::rules;
use crate::case::Stop;
use crate::case::{CaseOutcome, CaseReport};
use crate::checker::Violation;
use crate::observed::Observed;
use crate::pipe::model::describe;
use crate::protocol::socket::SocketOp;
use crate::protocol::{Reply, Request};
use crate::scratch::Scratch;
use crate::session::Session;
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What denies the connecting user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Denial {
    /// The socket file has mode 0700 (owner root).
    SocketMode,
    /// The directory holding it has mode 0700 (no search permission).
    DirectoryMode,
}

/// A connect by an unprivileged user to a socket it may not write.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermsCase {
    /// What denies it.
    pub denial: Denial,
}

impl fmt::Display for PermsCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  1. server (root): listen on a unix socket path; {:?} set to 0700", self.denial)?;
        writeln!(f, "  2. client: switch to uid 65534; connect -> expect EACCES")?;
        writeln!(f, "  3. the path opened to everyone (0777 / 0755); client connects -> expect success")
    }
}

/// The judge of the denied connect.
pub fn judge_denied_connect(obs: &Observed) -> Result<(), Violation> {
    match obs {
        Observed::Returned(Reply::Errno(e)) if *e == libc::EACCES => Ok(()),
        other => Err(Violation::new(
            rules::PERMISSIONS,
            format!(
                "connect by a user without write permission on the socket's path {}; allowed: EACCES",
                describe(other)
            ),
        )),
    }
}

/// Runs a permissions case (unsupported where no second user is at hand).
pub fn run_perms(case: &PermsCase, timing: Timing) -> CaseReport<String> {
    if !crate::os::process::can_switch_user() {
        let mut report = CaseReport::new();
        report.outcome = CaseOutcome::Unsupported(
            "needs a second user: run as root so that an actor can switch to uid 65534".into(),
        );
        return report;
    }
    run_with(timing, |session, log| drive_perms(case, session, log))
}

fn drive_perms(case: &PermsCase, session: &mut Session, log: &mut Vec<String>) -> Result<CaseOutcome, Stop> {
    use std::os::unix::fs::PermissionsExt;
    let scratch = Scratch::new().map_err(|e| Stop::io("scratch directory", e))?;
    let dir = scratch.path().join("d");
    std::fs::create_dir(&dir).map_err(|e| Stop::io("mkdir", e))?;
    let chmod = |p: &std::path::Path, mode: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
            .map_err(|e| Stop::io(format!("chmod {}", p.display()), e))
    };
    chmod(scratch.path(), 0o755)?;
    chmod(&dir, 0o755)?;
    let path = dir.join("s.sock");
    let server = session.spawn()?;
    let client = session.spawn()?;
    let obs =
        session.call(server, &sock(SocketOp::ListenUnix { path: path.to_string_lossy().into_owned(), backlog: 4 }))?;
    if opened(&obs).is_none() {
        return Err(Stop::harness(format!("listen: {}", describe(&obs))));
    }
    match case.denial {
        Denial::SocketMode => chmod(&path, 0o700)?,
        Denial::DirectoryMode => {
            chmod(&path, 0o777)?;
            chmod(&dir, 0o700)?
        }
    }
    let (uid, gid) = crate::os::process::UNPRIVILEGED;
    let obs = session.call(client, &Request::DropPrivileges { uid, gid })?;
    if obs != Observed::Returned(Reply::Done) {
        return Err(Stop::harness(format!("switching to uid {uid}: {}", describe(&obs))));
    }
    let connect = sock(SocketOp::ConnectUnix { path: path.to_string_lossy().into_owned() });
    let denied = session.call(client, &connect)?;
    log.push(format!("uid {uid}: connect with {:?} 0700 -> {}", case.denial, describe(&denied)));
    if let Err(v) = judge_denied_connect(&denied) {
        return Ok(v.into());
    }
    chmod(&dir, 0o755)?;
    chmod(&path, 0o777)?;
    let allowed = session.call(client, &connect)?;
    log.push(format!("uid {uid}: connect with the path open -> {}", describe(&allowed)));
    if opened(&allowed).is_none() {
        return Err(Stop::harness(format!(
            "the control connect (path open to everyone) failed: {}; the denial above proves nothing",
            describe(&allowed)
        )));
    }
    Ok(CaseOutcome::Pass)
}
