//! System V IPC requests ([`crate::sysv`]): send to and receive from a
//! message queue by its id; attach, use, detach, find, remove and count a
//! shared-memory segment.

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
    /// `shmat(id)`; reply `Values([attachment number])` or `Errno`.
    ShmAttach { id: i32 },
    /// `shmdt` of attachment `at`; reply `Done` or `Errno`.
    ShmDetach { at: u32 },
    /// Store `value` in 64-bit word `word` of attachment `at`; reply `Done`.
    ShmStore { at: u32, word: u32, value: u64 },
    /// Load 64-bit word `word` of attachment `at`; reply `Values([value])`.
    ShmLoad { at: u32, word: u32 },
    /// `shmget(key, 0, 0)`; reply `Values([id])` or `Errno`.
    ShmFind { key: i32 },
    /// `shmctl(id, IPC_RMID)`; reply `Done` or `Errno`.
    ShmRemove { id: i32 },
    /// `shmctl(id, IPC_STAT)`; reply `Values([shm_nattch])` or `Errno`.
    ShmStat { id: i32 },
    /// `semop` on set `id`: each (semaphore, change, SEM_UNDO), all or
    /// none, with `IPC_NOWAIT` if `nowait`; reply `Done` or `Errno`.
    SemOp { id: i32, ops: Vec<(u16, i16, bool)>, nowait: bool },
}
