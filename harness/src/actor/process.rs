//! How an actor performs a supervisor's operations.

use super::Actor;
use crate::os::errno_of;
use crate::os::supervise::{self, Status};
use crate::protocol::process::{FamilyOp, ProcessOp};
use crate::protocol::Reply;

/// Performs one supervisor's operation.
pub fn perform(actor: &mut Actor, op: ProcessOp) -> Result<Reply, Reply> {
    let child = |actor: &Actor, i: u32| {
        actor.children.get(i as usize).map(|c| c.pid).ok_or_else(|| Reply::Refused(format!("no child {i}")))
    };
    Ok(match op {
        ProcessOp::Spawn { fate } => match supervise::fork_waiting(fate) {
            Ok(c) => {
                let pid = c.pid;
                actor.children.push(c);
                Reply::Values(vec![i64::from(pid)])
            }
            Err(e) => Reply::Errno(errno_of(&e)),
        },
        ProcessOp::Release { child: i } => {
            let c = actor.children.get_mut(i as usize).ok_or_else(|| Reply::Refused(format!("no child {i}")))?;
            match supervise::release(c) {
                Ok(()) => Reply::Done,
                Err(e) => Reply::Errno(errno_of(&e)),
            }
        }
        ProcessOp::Sigchld(mode) => match supervise::set_sigchld(mode) {
            Ok(()) => Reply::Done,
            Err(e) => Reply::Refused(format!("setting SIGCHLD to {mode:?}: {e}")),
        },
        ProcessOp::TakeSigchld => match supervise::take_sigchld() {
            Ok(pending) => Reply::Values(vec![i64::from(pending)]),
            Err(e) => Reply::Refused(format!("sigpending: {e}")),
        },
        ProcessOp::Exists { child: i } => match supervise::exists(child(actor, i)?) {
            Ok(()) => Reply::Done,
            Err(e) => Reply::Errno(errno_of(&e)),
        },
        ProcessOp::OpenPidfd { child: i } => {
            let pid = child(actor, i)?;
            match supervise::pidfd_open(pid) {
                Ok(fd) => {
                    actor.children[i as usize].pidfd = Some(fd);
                    Reply::Done
                }
                Err(e) => Reply::Errno(errno_of(&e)),
            }
        }
        ProcessOp::PollPidfd { child: i, wait } => {
            use std::os::fd::AsFd;
            let c = actor.children.get(i as usize).ok_or_else(|| Reply::Refused(format!("no child {i}")))?;
            let fd = c.pidfd.as_ref().ok_or_else(|| Reply::Refused(format!("no pidfd for child {i}")))?;
            match supervise::pidfd_readable(fd.as_fd(), wait) {
                Ok(r) => Reply::Values(vec![i64::from(r)]),
                Err(e) => Reply::Errno(errno_of(&e)),
            }
        }
        ProcessOp::Stop { child: i } => match supervise::stop(child(actor, i)?) {
            Ok(()) => Reply::Done,
            Err(e) => Reply::Errno(errno_of(&e)),
        },
        ProcessOp::Continue { child: i } => match supervise::resume(child(actor, i)?) {
            Ok(()) => Reply::Done,
            Err(e) => Reply::Errno(errno_of(&e)),
        },
        ProcessOp::Subreaper { on } => match supervise::set_subreaper(on) {
            Ok(()) => Reply::Done,
            Err(e) => Reply::Errno(errno_of(&e)),
        },
        ProcessOp::Family(op) => family(actor, op)?,
        ProcessOp::Reap { child: which, nohang, job } => {
            let pid = match which {
                Some(i) => child(actor, i)?,
                None => -1,
            };
            reaped(supervise::waitpid(pid, nohang, job))
        }
    })
}

/// A `waitpid` result as a reply: `Values([])` when nothing was
/// reported, `Values([pid, kind, value])` (see [`ProcessOp::Reap`]), or
/// `Errno`.
fn reaped(got: std::io::Result<Option<(i32, Status)>>) -> Reply {
    match got {
        Ok(None) => Reply::Values(Vec::new()),
        Ok(Some((pid, status))) => {
            let (kind, value) = match status {
                Status::Exited(c) => (1, c),
                Status::Signaled(s) => (2, s),
                Status::Other(raw) => (3, raw),
                Status::Stopped(s) => (4, s),
                Status::Continued => (5, 0),
            };
            Reply::Values(vec![i64::from(pid), kind, i64::from(value)])
        }
        Err(e) => Reply::Errno(errno_of(&e)),
    }
}

/// Performs one operation on a family (a child with a grandchild).
fn family(actor: &mut Actor, op: FamilyOp) -> Result<Reply, Reply> {
    let at = |actor: &Actor, i: u32| -> Result<usize, Reply> {
        let n = i as usize;
        if n < actor.families.len() {
            Ok(n)
        } else {
            Err(Reply::Refused(format!("no family {i}")))
        }
    };
    Ok(match op {
        FamilyOp::Spawn { fate } => match supervise::fork_family(fate) {
            Ok(f) => {
                let pids = vec![i64::from(f.middle.pid), i64::from(f.grandchild), i64::from(std::process::id())];
                actor.families.push(f);
                Reply::Values(pids)
            }
            Err(e) => Reply::Errno(errno_of(&e)),
        },
        FamilyOp::Ask { family } => match actor.families[at(actor, family)?].ask() {
            Ok((pid, ppid)) => {
                let exists = match supervise::exists(ppid) {
                    Ok(()) => true,
                    Err(e) => e.raw_os_error() == Some(libc::EPERM),
                };
                Reply::Values(vec![i64::from(pid), i64::from(ppid), i64::from(exists)])
            }
            Err(e) => Reply::Errno(errno_of(&e)),
        },
        FamilyOp::Release { family } => {
            let i = at(actor, family)?;
            match supervise::release(&mut actor.families[i].middle) {
                Ok(()) => Reply::Done,
                Err(e) => Reply::Errno(errno_of(&e)),
            }
        }
        FamilyOp::ReapChild { family } => {
            let pid = actor.families[at(actor, family)?].middle.pid;
            reaped(supervise::waitpid(pid, false, false))
        }
        FamilyOp::LetGo { family } => {
            let i = at(actor, family)?;
            actor.families[i].let_go();
            Reply::Done
        }
        FamilyOp::ReapGrandchild { family } => {
            let pid = actor.families[at(actor, family)?].grandchild;
            reaped(supervise::waitpid(pid, false, false))
        }
    })
}
