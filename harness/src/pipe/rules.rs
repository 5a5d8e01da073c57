//! The ids of the pipe rules, as the catalogue (`spec/rules/pipe.toml`)
//! spells them.

/// Data go from the write end to the read end only.
pub const DIRECTION: &str = "pipe.direction.one-way";
/// Bytes arrive in order, none lost or repeated.
pub const ORDER: &str = "pipe.stream.order";
/// A read of an empty pipe blocks while a writer is open.
pub const READ_BLOCKS: &str = "pipe.read.empty-blocks";
/// A pipe's capacity is finite.
pub const CAPACITY: &str = "pipe.write.capacity-finite";
/// A write to a full pipe blocks until a reader frees space.
pub const FULL_BLOCKS: &str = "pipe.write.full-blocks";
/// Writes of at most PIPE_BUF bytes are not interleaved.
pub const ATOMIC: &str = "pipe.write.atomic-pipe-buf";
/// End of file once every write end is closed.
pub const EOF_ALL_CLOSED: &str = "pipe.eof.all-writers-closed";
/// No end of file while any write end is open.
pub const EOF_ANY_OPEN: &str = "pipe.eof.any-writer-open";
/// Closing the last writer wakes every blocked reader.
pub const WAKE_ALL: &str = "pipe.wake.all-readers";
/// A write with no reader fails with EPIPE when SIGPIPE is ignored.
pub const EPIPE: &str = "pipe.epipe.all-readers-closed";
/// A write with no reader kills the writer by SIGPIPE by default.
pub const SIGPIPE_KILLS: &str = "pipe.sigpipe.default-kills";
/// Opening a FIFO waits for the other side.
pub const FIFO: &str = "pipe.fifo.open-rendezvous";
/// A shell pipeline connects producer and consumer.
pub const SHELL: &str = "pipe.shell.pipeline";

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
