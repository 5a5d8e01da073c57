//! System V IPC requests ([`crate::sysv`]): send to and receive from a
//! message queue by its id.

use serde::{Deserialize, Serialize};

/// A System V operation of an actor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SysvOp {
    /// `msgsnd` to queue `id` of a message of type `mtype` whose text is
    /// `len` bytes of the traceable pattern `tag` from `start`
    /// ([`crate::pattern`]); reply `Done` or `Errno`.
    MsgSend { id: i32, mtype: i64, len: u32, tag: u8, start: u64 },
    /// `msgrcv` from queue `id` into `max` bytes of text, selecting by
    /// `msgtyp`, with `IPC_NOWAIT` if `nowait`; reply `Typed` or `Errno`.
    MsgReceive { id: i32, max: u32, msgtyp: i64, nowait: bool },
}
