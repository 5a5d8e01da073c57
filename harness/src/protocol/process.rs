//! Supervision requests ([`crate::process::wait`]): an actor forks
//! children, lets them end, and reaps them.

use crate::os::supervise::{Fate, SigchldMode};
use serde::{Deserialize, Serialize};

/// A supervisor's operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProcessOp {
    /// Fork a child that waits for its go-ahead, then meets `fate`; reply
    /// `Values([pid])`.
    Spawn { fate: Fate },
    /// Let child `child` (in spawn order) meet its fate; reply `Done`.
    Release { child: u32 },
    /// `waitpid` for child `child` (in spawn order), or for any child;
    /// `WNOHANG` or not. Reply [`crate::protocol::Reply::Values`]: empty
    /// when `WNOHANG` found none, else `[pid, kind, value]` (kind 1:
    /// exited with code `value`; 2: killed by signal `value`; 3: another
    /// raw status); `Errno` when it fails.
    ///
    /// With `job`, `WUNTRACED | WCONTINUED` too: kind 4, stopped by
    /// signal `value`; kind 5, continued.
    Reap {
        child: Option<u32>,
        nohang: bool,
        #[serde(default)]
        job: bool,
    },
    /// Stop child `child` (`SIGSTOP`), returning once it has stopped;
    /// reply `Done` or `Errno`.
    Stop { child: u32 },
    /// Continue stopped child `child` (`SIGCONT`), returning once its
    /// continue is reportable; reply `Done` or `Errno`.
    Continue { child: u32 },
    /// Put a `SIGCHLD` mode in force; reply `Done`.
    Sigchld(SigchldMode),
    /// Whether `SIGCHLD` is pending, taking it; reply `Values([0 or 1])`.
    TakeSigchld,
    /// Whether child `child` still exists (`kill(pid, 0)`); reply `Done`
    /// or `Errno`.
    Exists { child: u32 },
    /// Open a pidfd for child `child`; reply `Done` or `Errno`.
    OpenPidfd { child: u32 },
    /// Whether child `child`'s pidfd is readable, now or after waiting
    /// without a timeout; reply `Values([0 or 1])`.
    PollPidfd { child: u32, wait: bool },
    /// Make the actor a subreaper, or no longer one; reply `Done` or `Errno`.
    Subreaper { on: bool },
    /// An operation on a child that forked a grandchild
    /// ([`crate::os::supervise::Family`]).
    Family(FamilyOp),
}

/// An operation on family `family` (in spawn order) of a supervisor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FamilyOp {
    /// Fork a child that forks a grandchild, then waits and meets `fate`;
    /// reply `Values([child pid, grandchild pid, the supervisor's pid])`.
    Spawn { fate: Fate },
    /// Ask the grandchild; reply `Values([its pid, its getppid(), 1 if
    /// that process exists (kill(ppid, 0) succeeds or fails with EPERM)
    /// else 0])`.
    Ask { family: u32 },
    /// Let the child meet its fate; reply `Done`.
    Release { family: u32 },
    /// `waitpid` for the child, blocking; reply as for `Reap`.
    ReapChild { family: u32 },
    /// Let the grandchild go (it ends); reply `Done`.
    LetGo { family: u32 },
    /// `waitpid` for the grandchild, blocking; reply as for `Reap`.
    ReapGrandchild { family: u32 },
}
