//! How an actor performs System V operations.

use super::Actor;
use crate::os::{errno_of, sysv};
use crate::pattern;
use crate::protocol::sysv::SysvOp;
use crate::protocol::Reply;

/// Performs one System V operation.
pub fn perform(actor: &mut Actor, op: SysvOp) -> Result<Reply, Reply> {
    Ok(match op {
        SysvOp::MsgSend { len, .. } | SysvOp::MsgReceive { max: len, .. }
            if u64::from(len) > crate::case::MAX_OP_BYTES =>
        {
            return Err(Reply::Refused(format!("a message of {len} bytes; at most {}", crate::case::MAX_OP_BYTES)));
        }
        SysvOp::MsgSend { id, mtype, len, tag, start } => {
            pattern::fill(&mut actor.buf, tag, start, len as usize);
            match sysv::msg_send(id, mtype, &actor.buf, false) {
                Ok(()) => Reply::Done,
                Err(e) => Reply::Errno(errno_of(&e)),
            }
        }
        SysvOp::MsgReceive { id, max, msgtyp, nowait } => match sysv::msg_receive(id, max as usize, msgtyp, nowait) {
            Ok((mtype, data)) => Reply::Typed { mtype, data },
            Err(e) => Reply::Errno(errno_of(&e)),
        },
    })
}
