//! How an actor performs message-queue operations.

use super::Actor;
use crate::os::{errno_of, mqueue};
use crate::pattern;
use crate::protocol::mqueue::MqOp;
use crate::protocol::Reply;

/// Performs one message-queue operation.
pub fn perform(actor: &mut Actor, op: MqOp) -> Result<Reply, Reply> {
    let done = |r: std::io::Result<()>| match r {
        Ok(()) => Reply::Done,
        Err(e) => Reply::Errno(errno_of(&e)),
    };
    Ok(match op {
        MqOp::Open { name, create, nonblock } => match mqueue::open(&name, create, nonblock) {
            Ok(fd) => {
                let (slot, fd) = actor.push(fd);
                Reply::Opened { slot, fd }
            }
            Err(e) => Reply::Errno(errno_of(&e)),
        },
        MqOp::Send { len, .. } | MqOp::Receive { max: len, .. } if u64::from(len) > crate::case::MAX_OP_BYTES => {
            return Err(Reply::Refused(format!("a message of {len} bytes; at most {}", crate::case::MAX_OP_BYTES)));
        }
        MqOp::Send { slot, len, tag, start, prio } => {
            let mut buf = std::mem::take(&mut actor.buf);
            pattern::fill(&mut buf, tag, start, len as usize);
            let sent = mqueue::send(actor.fd(slot)?, &buf, prio);
            actor.buf = buf;
            done(sent)
        }
        MqOp::Receive { slot, max } => {
            let mut data = vec![0u8; max as usize];
            match mqueue::receive(actor.fd(slot)?, &mut data) {
                Ok((n, prio)) => {
                    data.truncate(n);
                    Reply::Message { data, prio }
                }
                Err(e) => Reply::Errno(errno_of(&e)),
            }
        }
        MqOp::Unlink { name } => done(mqueue::unlink(&name)),
        MqOp::Close { slot } => match actor.take(slot) {
            Some(fd) => done(mqueue::close(fd)),
            None => return Err(Reply::Refused(format!("no descriptor in slot {slot}"))),
        },
    })
}
