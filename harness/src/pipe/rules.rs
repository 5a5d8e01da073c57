//! The ids of the pipe rules, as the catalogue (`spec/rules/pipe.toml`)
//! spells them.

use ipc_conform_spec::ids;

/// Data go from the write end to the read end only.
pub const DIRECTION: &str = ids::PIPE_DIRECTION_ONE_WAY;
/// Bytes arrive in order, none lost or repeated.
pub const ORDER: &str = ids::PIPE_STREAM_ORDER;
/// A read of an empty pipe blocks while a writer is open.
pub const READ_BLOCKS: &str = ids::PIPE_READ_EMPTY_BLOCKS;
/// A pipe's capacity is finite.
pub const CAPACITY: &str = ids::PIPE_WRITE_CAPACITY_FINITE;
/// A write to a full pipe blocks until a reader frees space.
pub const FULL_BLOCKS: &str = ids::PIPE_WRITE_FULL_BLOCKS;
/// Writes of at most PIPE_BUF bytes are not interleaved.
pub const ATOMIC: &str = ids::PIPE_WRITE_ATOMIC_PIPE_BUF;
/// End of file once every write end is closed.
pub const EOF_ALL_CLOSED: &str = ids::PIPE_EOF_ALL_WRITERS_CLOSED;
/// No end of file while any write end is open.
pub const EOF_ANY_OPEN: &str = ids::PIPE_EOF_ANY_WRITER_OPEN;
/// Closing the last writer wakes every blocked reader.
pub const WAKE_ALL: &str = ids::PIPE_WAKE_ALL_READERS;
/// A write with no reader fails with EPIPE when SIGPIPE is ignored.
pub const EPIPE: &str = ids::PIPE_EPIPE_ALL_READERS_CLOSED;
/// A write with no reader kills the writer by SIGPIPE by default.
pub const SIGPIPE_KILLS: &str = ids::PIPE_SIGPIPE_DEFAULT_KILLS;
/// Opening a FIFO waits for the other side.
pub const FIFO: &str = ids::PIPE_FIFO_OPEN_RENDEZVOUS;
/// A shell pipeline connects producer and consumer.
pub const SHELL: &str = ids::PIPE_SHELL_PIPELINE;

/// Every pipe rule id.
pub const ALL: [&str; 13] = [
    DIRECTION,
    ORDER,
    READ_BLOCKS,
    CAPACITY,
    FULL_BLOCKS,
    ATOMIC,
    EOF_ALL_CLOSED,
    EOF_ANY_OPEN,
    WAKE_ALL,
    EPIPE,
    SIGPIPE_KILLS,
    FIFO,
    SHELL,
];
