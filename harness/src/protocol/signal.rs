//! Signal requests ([`crate::signal`]): catch, block and unblock signals,
//! send and queue them, report what the handler recorded.

use serde::{Deserialize, Serialize};

/// A signal operation of an actor (signals by this platform's numbers).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignalOp {
    /// Catch each of `signals` with the recording handler
    /// ([`crate::os::signal::catch`]), with `SA_RESTART` or not; reply `Done`.
    Catch {
        signals: Vec<i32>,
        #[serde(default = "yes")]
        restart: bool,
    },
    /// Block (`on`) or unblock `signals` in the actor's main thread; reply `Done`.
    Block { signals: Vec<i32>, on: bool },
    /// `kill(pid, signal)`; reply `Done` or `Errno`.
    Kill { pid: i32, signal: i32 },
    /// `sigqueue(pid, signal, value)`; reply `Done` or `Errno`.
    Queue { pid: i32, signal: i32, value: i32 },
    /// Fork a child in process group `group` (0: a new one of its own)
    /// with `SIGUSR1` blocked ([`crate::os::supervise::GroupMember`]);
    /// reply `Values([pid])`.
    SpawnMember { group: i32 },
    /// Whether `SIGUSR1` is pending in child `member` (spawn order);
    /// reply `Values([0 or 1])`.
    AskMember { member: u32 },
    /// `kill(-pgid, signal)`; reply `Done` or `Errno`.
    KillGroup { pgid: i32, signal: i32 },
    /// Let every child go and reap it; reply `Done`.
    EndMembers,
    /// Set `signals` to `SIG_IGN`; reply `Done`.
    Ignore { signals: Vec<i32> },
    /// Try `sigaction(SIGKILL)` with a handler, `SIG_IGN` for `SIGKILL`
    /// and `SIGSTOP`, and blocking both; reply `Values([errno of each of
    /// the three (0: accepted), 1 if SIGKILL is in the mask read back,
    /// 1 if SIGSTOP is])`.
    Uncatchable,
    /// The deliveries recorded since the last report; reply `Values`, a
    /// pair per delivery: the signal, and its value (or -1 if it was not
    /// queued).
    Take { signals: Vec<i32> },
}

fn yes() -> bool {
    true
}
