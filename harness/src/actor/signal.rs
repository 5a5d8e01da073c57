//! How an actor performs signal operations.

use super::Actor;
use crate::os::errno_of;
use crate::os::signal;
use crate::protocol::signal::SignalOp;
use crate::protocol::Reply;

/// Performs one signal operation.
pub fn perform(actor: &mut Actor, op: SignalOp) -> Result<Reply, Reply> {
    let done = |r: std::io::Result<()>| match r {
        Ok(()) => Reply::Done,
        Err(e) => Reply::Errno(errno_of(&e)),
    };
    Ok(match op {
        SignalOp::Catch { signals, restart } => match signal::catch(&signals, restart) {
            Ok(()) => Reply::Done,
            Err(e) => return Err(Reply::Refused(format!("catching {signals:?}: {e}"))),
        },
        SignalOp::Block { signals, on } => match signal::block(&signals, on) {
            Ok(()) => Reply::Done,
            Err(e) => return Err(Reply::Refused(format!("pthread_sigmask: {e}"))),
        },
        SignalOp::Kill { pid, signal: s } => done(signal::send(pid, s)),
        SignalOp::SpawnMember { group } => match crate::os::supervise::fork_member(group) {
            Ok(m) => {
                let pid = m.pid;
                actor.members.push(m);
                Reply::Values(vec![i64::from(pid)])
            }
            Err(e) => Reply::Errno(errno_of(&e)),
        },
        SignalOp::AskMember { member } => {
            let m = actor.members.get(member as usize).ok_or_else(|| Reply::Refused(format!("no child {member}")))?;
            match m.pending() {
                Ok(p) => Reply::Values(vec![i64::from(p)]),
                Err(e) => Reply::Errno(errno_of(&e)),
            }
        }
        SignalOp::KillGroup { pgid, signal: s } => done(crate::os::supervise::kill_group(pgid, s)),
        SignalOp::EndMembers => {
            for m in &mut actor.members {
                m.end().map_err(|e| Reply::Refused(format!("reaping child {}: {e}", m.pid)))?;
            }
            actor.members.clear();
            Reply::Done
        }
        SignalOp::Ignore { signals } => match signal::ignore(&signals) {
            Ok(()) => Reply::Done,
            Err(e) => return Err(Reply::Refused(format!("sigaction(SIG_IGN): {e}"))),
        },
        SignalOp::Uncatchable => match signal::uncatchable() {
            Ok(got) => Reply::Values(got.to_vec()),
            Err(e) => return Err(Reply::Refused(format!("reading the signal mask: {e}"))),
        },
        SignalOp::Queue { pid, signal: s, value } => done(signal::queue(pid, s, value)),
        SignalOp::Take { signals } => match signal::take_deliveries(&signals) {
            Ok(got) => Reply::Values(
                got.into_iter().flat_map(|d| [i64::from(d.signal), d.value.map_or(-1, i64::from)]).collect(),
            ),
            Err(e) => return Err(Reply::Refused(format!("reading the deliveries: {e}"))),
        },
    })
}
