//! Sealed-memfd requests ([`crate::memfd`]): make, seal, write, truncate,
//! map and read a memfd through the descriptor in a slot.

use crate::os::memfd::Seals;
use serde::{Deserialize, Serialize};

/// A memfd operation of an actor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MemfdOp {
    /// `memfd_create`, with `MFD_ALLOW_SEALING` when `sealing`; reply
    /// `Opened` or `Errno`.
    Create { sealing: bool },
    /// `fcntl(F_ADD_SEALS)`; reply `Done` or `Errno`.
    AddSeals { slot: u32, seals: Seals },
    /// `fcntl(F_GET_SEALS)`; reply `Values([seal bits])` or `Errno`.
    GetSeals { slot: u32 },
    /// `pwrite` of `len` bytes of the pattern `tag` (positions from
    /// `offset`, [`crate::pattern`]) at `offset`; reply `Count` or `Errno`.
    Write { slot: u32, offset: u32, len: u32, tag: u8 },
    /// `ftruncate` to `len`; reply `Done` or `Errno`.
    Truncate { slot: u32, len: u32 },
    /// `mmap` of one page of the file, shared or private, writable or
    /// not; reply `Values([mapping number])` or `Errno`.
    Map { slot: u32, shared: bool, writable: bool },
    /// `munmap` of every mapping of the actor's; reply `Done`.
    UnmapAll,
    /// Every byte of the file (`fstat`, `pread`); reply `Data`.
    Read { slot: u32 },
}
