//! Signal requests ([`crate::signal`]): catch, block and unblock signals,
//! send and queue them, report what the handler recorded.

use serde::{Deserialize, Serialize};

/// A signal operation of an actor (signals by this platform's numbers).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignalOp {
    /// Catch each of `signals` with the recording handler
    /// ([`crate::os::signal::catch`]); reply `Done`.
    Catch { signals: Vec<i32> },
    /// Block (`on`) or unblock `signals` in the actor's main thread; reply `Done`.
    Block { signals: Vec<i32>, on: bool },
    /// `kill(pid, signal)`; reply `Done` or `Errno`.
    Kill { pid: i32, signal: i32 },
    /// `sigqueue(pid, signal, value)`; reply `Done` or `Errno`.
    Queue { pid: i32, signal: i32, value: i32 },
    /// The deliveries recorded since the last report; reply `Values`, a
    /// pair per delivery: the signal, and its value (or -1 if it was not
    /// queued).
    Take { signals: Vec<i32> },
}
