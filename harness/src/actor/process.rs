//! How an actor performs a supervisor's operations.

use super::Actor;
use crate::os::errno_of;
use crate::os::supervise::{self, Status};
use crate::protocol::process::ProcessOp;
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
        ProcessOp::Reap { child: which, nohang } => {
            let pid = match which {
                Some(i) => child(actor, i)?,
                None => -1,
            };
            match supervise::waitpid(pid, nohang) {
                Ok(None) => Reply::Values(Vec::new()),
                Ok(Some((pid, status))) => {
                    let (kind, value) = match status {
                        Status::Exited(c) => (1, c),
                        Status::Signaled(s) => (2, s),
                        Status::Other(raw) => (3, raw),
                    };
                    Reply::Values(vec![i64::from(pid), kind, i64::from(value)])
                }
                Err(e) => Reply::Errno(errno_of(&e)),
            }
        }
    })
}
