//! Message-queue requests ([`crate::mqueue`]): open a queue by name, send
//! and receive messages, unlink the name, close a descriptor.

use crate::os::mqueue::Attr;
use serde::{Deserialize, Serialize};

/// A message-queue operation of an actor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MqOp {
    /// `mq_open(name)`, `O_RDWR`, with `O_NONBLOCK` if `nonblock`, with
    /// `O_CREAT | O_EXCL` and these attributes if `create`; reply
    /// `Opened` (the descriptor takes the next slot) or `Errno`.
    Open { name: String, create: Option<Attr>, nonblock: bool },
    /// `mq_send` of `len` bytes of the traceable pattern `tag` from
    /// position `start` ([`crate::pattern`]) at priority `prio`; reply
    /// `Done` or `Errno`.
    Send { slot: u32, len: u32, tag: u8, start: u64, prio: u32 },
    /// `mq_receive` into a buffer of `max` bytes; reply `Message` or `Errno`.
    Receive { slot: u32, max: u32 },
    /// `mq_unlink(name)`; reply `Done` or `Errno`.
    Unlink { name: String },
    /// `mq_close` of the descriptor in `slot`; reply `Done` or `Errno`.
    Close { slot: u32 },
}
