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
    Reap { child: Option<u32>, nohang: bool },
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
}
