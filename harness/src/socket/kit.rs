//! What the socket scenarios share: a session that logs as it goes,
//! a failure naming one rule, and the requests and replies they use most.

use crate::case::Stop;
use crate::case::{CaseOutcome, CaseReport};
use crate::observed::Observed;
use crate::os::entry::ReadCall;
use crate::pipe::model::describe;
use crate::protocol::socket::SocketOp;
use crate::protocol::{Reply, Request};
use crate::session::{ActorId, Session};
use crate::timing::Timing;

pub(crate) fn fail(rule: &'static str, message: String) -> CaseOutcome {
    crate::checker::Violation::new(rule, message).into()
}

pub(crate) fn sock(op: SocketOp) -> Request {
    Request::Socket(op)
}

/// Runs `drive` with a fresh session and collects its log and evidence.
pub(crate) fn run_with(
    timing: Timing,
    drive: impl FnOnce(&mut Session, &mut Vec<String>) -> Result<CaseOutcome, Stop>,
) -> CaseReport<String> {
    crate::case::run_in_session(timing, |session, report| drive(session, &mut report.events))
}

pub(crate) fn opened(obs: &Observed) -> Option<u32> {
    match obs {
        Observed::Returned(Reply::Opened { slot, .. }) => Some(*slot),
        _ => None,
    }
}

pub(crate) fn values(obs: &Observed) -> Option<&[i64]> {
    match obs {
        Observed::Returned(Reply::Values(v)) => Some(v),
        _ => None,
    }
}

/// Receives exactly `len` bytes on `slot` of `id` (several receives if
/// the stream splits them); `Err(outcome)` if the stream ends or fails.
pub(crate) fn recv_exactly(
    session: &mut Session,
    id: ActorId,
    slot: u32,
    len: usize,
    rule: &'static str,
) -> Result<Result<Vec<u8>, CaseOutcome>, Stop> {
    let mut got = Vec::new();
    while got.len() < len {
        let request =
            sock(SocketOp::Recv { slot, max: (len - got.len()) as u32, call: ReadCall::Recvmsg, dontwait: false });
        let why = format!("{id}: a receive of data already sent must return");
        match session.call(id, &request).map_err(|s| s.demanded_by(rule, &why))? {
            Observed::Returned(Reply::Received { data, .. }) if !data.is_empty() => got.extend(data),
            other => {
                return Ok(Err(fail(
                    rule,
                    format!("{id}: after {} of {len} bytes a receive {}", got.len(), describe(&other)),
                )))
            }
        }
    }
    Ok(Ok(got))
}
