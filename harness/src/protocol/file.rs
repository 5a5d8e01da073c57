//! Control-channel operations of the `file` mechanism (see
//! [`crate::actor::file`] for how an actor performs them). Paths are
//! absolute paths inside the case's scratch directory. The loops (`Replace`,
//! `ReadLoop`, `Append`, `CreateRace`) let several actors work at the same
//! time: the coordinator starts them all, then collects their reports.

use crate::os::file::{FlockOp, LockKind, LockOwner, OpenMode};
use serde::{Deserialize, Serialize};

/// One file operation an actor performs on the coordinator's word.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileOp {
    /// `open(2)`; the descriptor gets the next slot. Replies
    /// [`Reply::Opened`](crate::protocol::Reply::Opened) or `Errno`.
    Open { path: String, mode: OpenMode },
    /// One `write(2)` of version `id` with a body of `len` bytes (see
    /// [`crate::file::version`]) at the descriptor's offset. Replies `Count`.
    WriteVersion { slot: u32, id: u64, len: u32 },
    /// Open `path`, read it whole, close it. Replies `Data` or `Errno`.
    ReadPath { path: String },
    /// Replace `target` with versions `writer:1..=lens.len()` of the given
    /// body lengths, one after another: by writing `<target>.tmp.<writer>`
    /// and renaming it over `target`, or, with `in_place_chunk`, by
    /// rewriting `target` itself in writes of that many bytes and then
    /// truncating it to size. Replies `Values([done, errno or 0])`.
    Replace { target: String, writer: u8, lens: Vec<u32>, in_place_chunk: Option<u32> },
    /// Open, read whole and close `path`, `count` times. Replies `Values`
    /// with two numbers per read (see [`crate::file::version::to_pair`]).
    ReadLoop { path: String, count: u32 },
    /// Open `path` with `O_WRONLY|O_APPEND` and append records
    /// `writer:1..=lens.len()`, one `write(2)` each. Replies
    /// `Values([records written, bytes written, errno or 0])`; a short write
    /// stops the loop with errno 0.
    Append { path: String, writer: u8, lens: Vec<u32> },
    /// For `i` in `0..count`: `open(<dir>/race.<i>, O_CREAT|O_EXCL)`, close
    /// on success. Replies `Values`: per path 0 on success, else the errno.
    CreateRace { dir: String, count: u32 },
    /// A rename of `from` to `to` that must not replace (see
    /// [`crate::os::file::rename_noreplace`]). Replies `Values([0])` when
    /// done natively, `Values([1])` by link + unlink, or `Errno`.
    RenameNoReplace { from: String, to: String, native: bool },
    /// `flock(2)`. Replies `Done` or `Errno`.
    Flock { slot: u32, op: FlockOp, nonblock: bool },
    /// A record lock by `fcntl(2)`. Replies `Done` or `Errno`.
    Lock { slot: u32, owner: LockOwner, kind: LockKind, start: u64, len: u64, wait: bool },
}
