//! Control-channel operations of the `shm` and `process` mechanisms (see
//! [`crate::actor::shm`] for how an actor performs them). Mappings an actor
//! made are numbered like slots, in the order they were made.

use crate::os::shm::ForeignAccess;
use serde::{Deserialize, Serialize};

/// Where the cell of a [`ShmOp::ForkExchange`] lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ForkRegion {
    /// Ordinary private memory: the heap.
    Heap,
    /// Ordinary private memory: a fresh anonymous `MAP_PRIVATE` mapping.
    AnonPrivate,
    /// Anonymous `MAP_SHARED` memory, inherited by the child.
    AnonShared,
}

/// One process's part in hammering shared counters (see
/// [`ShmOp::Hammer`]). The region holds, at these byte offsets: a start
/// barrier word, the atomic counter, the lock word, the locked counter, the
/// plain counter (each on its own cache line).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HammerPlan {
    /// The mapping.
    pub map: u32,
    /// How many processes meet at the start barrier.
    pub processes: u32,
    /// Increments of each counter.
    pub count: u32,
    /// Iterations (0-based) at which the process pauses.
    pub pauses: Vec<u32>,
    /// Pause inside the read-modify-write (between load and store, or while
    /// holding the lock) rather than between iterations.
    pub pause_inside: bool,
}

/// Byte offsets of the words a [`HammerPlan`] uses.
pub mod hammer {
    /// The start barrier: processes arrived.
    pub const BARRIER: u64 = 0;
    /// The counter incremented with atomic fetch-add.
    pub const ATOMIC: u64 = 64;
    /// The process-shared lock word (0 free, 1 held).
    pub const LOCK: u64 = 128;
    /// The counter incremented under the lock.
    pub const LOCKED: u64 = 192;
    /// The counter incremented with a plain load and store.
    pub const PLAIN: u64 = 256;
    /// Bytes the layout needs.
    pub const SIZE: u64 = 320;
}

/// A release/acquire publication (see [`ShmOp::Publish`]): `rounds` rounds,
/// each writing `words` data words then the flag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishPlan {
    /// The mapping: flag word at offset 0, data words from offset 64.
    pub map: u32,
    /// Data words per round.
    pub words: u32,
    /// Rounds (flag values 1..=rounds).
    pub rounds: u32,
    /// Rounds after which the process pauses.
    pub pauses: Vec<u32>,
}

/// A single-producer single-consumer ring in shared memory (see
/// [`crate::shm::ring`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RingPlan {
    /// The mapping holding the ring.
    pub map: u32,
    /// Slots in the ring.
    pub slots: u32,
    /// Words per message.
    pub words: u32,
    /// Messages sent.
    pub messages: u32,
    /// Message numbers before which the process pauses.
    pub pauses: Vec<u32>,
}

/// One shm or process operation an actor performs on the coordinator's word.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShmOp {
    /// `shm_open(3)`, creating exclusively with `mode` when `create`; the
    /// descriptor gets the next slot ([`crate::protocol::Reply::Opened`]).
    Open { name: String, create: bool, write: bool, mode: u32 },
    /// `open(2)` of an existing file, read-write or read-only.
    OpenFile { path: String, write: bool },
    /// Opens by name (`shm_open(3)`, or `open(2)` of a path when `file`) and
    /// closes again: `Done` or the errno.
    ProbeOpen { name: String, write: bool, file: bool },
    /// `shm_unlink(3)`, or `unlink(2)` when `file`.
    Unlink { name: String, file: bool },
    /// `ftruncate(2)`.
    Truncate { slot: u32, len: u64 },
    /// `fchmod(2)`.
    Chmod { slot: u32, mode: u32 },
    /// `mmap(2)` of the slot's object (anonymous when `None`); replies
    /// `Values([mapping number])`.
    Map { slot: Option<u32>, len: u64, shared: bool },
    /// Stores a word (release) through a mapping.
    Store { map: u32, offset: u64, value: u64 },
    /// Loads a word (acquire) through a mapping: `Values([value])`.
    Load { map: u32, offset: u64 },
    /// `pwrite(2)` of a word: `Count`.
    PWrite { slot: u32, offset: u64, value: u64 },
    /// `pread(2)` of a word: `Values([value])`, or `Values([])` at end of file.
    PRead { slot: u32, offset: u64 },
    /// The fork exchange of [`crate::os::shm::fork_exchange`]; the actor
    /// forks a child that only does async-signal-safe work. Replies
    /// `Values([child's first load, parent's load, child's last load])`.
    ForkExchange { region: ForkRegion, a: u64, c: u64, p: u64 },
    /// Increments the three counters of a [`HammerPlan`]; `Done`.
    Hammer(HammerPlan),
    /// Producer: each round writes the data words (value = round, relaxed)
    /// then stores the flag = round with release; `Done`.
    Publish(PublishPlan),
    /// Consumer: acquire-loads the flag until it reaches `rounds`; for each
    /// new flag value seen, the smallest data word read after it:
    /// `Values([flag, min, flag, min, ...])`.
    Observe(PublishPlan),
    /// Sends `messages` messages through the ring; `Done`.
    RingSend(RingPlan),
    /// Receives `messages` messages: `Values` of one entry per message,
    /// `sequence * 2 + torn`.
    RingRecv(RingPlan),
    /// Waits until the 4-byte word is not 0 (futex on Linux, the named
    /// semaphore `name` elsewhere): `Values([word])`.
    WaitPosted { map: u32, offset: u64, name: String },
    /// Sets the word to `value` and wakes `waiters`: `Values([woken])`.
    Post { map: u32, offset: u64, value: u32, name: String, waiters: u32 },
    /// Keeps `value` in this process's ordinary (heap) memory: `Values([address])`.
    Secret { value: u64 },
    /// The secret's current value: `Values([value])`.
    ReadSecret,
    /// Tries to reach process `pid`'s word at `addr`: `Values([value])`
    /// when read, `Done` when written or attached, else the errno.
    Foreign { pid: i32, addr: u64, how: ForeignAccess, write: Option<u64> },
    /// The positive control for a process without privileges: read a
    /// child of its own by `how` ([`crate::os::shm::reach_own_child`]);
    /// reply `Values([1])` if it reached it, `Values([0])` if not.
    ForeignOwnChild { how: ForeignAccess },
    /// What descriptor number `fd` refers to: `Values([dev, ino, offset])`
    /// or `Errno(EBADF)`.
    FdIdentity { fd: i32 },
    /// Takes descriptor number `fd` (inherited at spawn) into the next slot.
    AdoptNumber { fd: i32 },
}
