//! How an actor performs signal operations.

use super::Actor;
use crate::os::errno_of;
use crate::os::signal;
use crate::protocol::signal::SignalOp;
use crate::protocol::Reply;

/// Performs one signal operation.
pub fn perform(_actor: &mut Actor, op: SignalOp) -> Result<Reply, Reply> {
    let done = |r: std::io::Result<()>| match r {
        Ok(()) => Reply::Done,
        Err(e) => Reply::Errno(errno_of(&e)),
    };
    Ok(match op {
        SignalOp::Catch { signals } => match signal::catch(&signals) {
            Ok(()) => Reply::Done,
            Err(e) => return Err(Reply::Refused(format!("catching {signals:?}: {e}"))),
        },
        SignalOp::Block { signals, on } => match signal::block(&signals, on) {
            Ok(()) => Reply::Done,
            Err(e) => return Err(Reply::Refused(format!("pthread_sigmask: {e}"))),
        },
        SignalOp::Kill { pid, signal: s } => done(signal::send(pid, s)),
        SignalOp::Queue { pid, signal: s, value } => done(signal::queue(pid, s, value)),
        SignalOp::Take { signals } => match signal::take_deliveries(&signals) {
            Ok(got) => Reply::Values(
                got.into_iter().flat_map(|d| [i64::from(d.signal), d.value.map_or(-1, i64::from)]).collect(),
            ),
            Err(e) => return Err(Reply::Refused(format!("reading the deliveries: {e}"))),
        },
    })
}
