//! The ids of the readiness rules (`spec/rules/ready.toml`).

use ipc_conform_spec::ids;

/// A read end is readable exactly when a read would not block.
pub const READABLE: &str = ids::READY_PIPE_READABLE;
/// Hang-up once every write end is closed, and not before.
pub const HANGUP: &str = ids::READY_PIPE_HANGUP;
/// Writable when empty, not writable when full.
pub const WRITABLE: &str = ids::READY_PIPE_WRITABLE;
/// An error condition (and EPIPE) once every read end is closed.
pub const ERROR: &str = ids::READY_PIPE_ERROR;
/// The interfaces agree about the same end at the same moment.
pub const AGREE: &str = ids::READY_INTERFACES_AGREE;
/// Edge-triggered registrations report each arrival once.
pub const EDGE: &str = ids::READY_EDGE_TRIGGERED;
/// A process waiting for readiness sleeps until ready, then wakes.
pub const WAIT_WAKES: &str = ids::READY_WAIT_WAKES;

/// A connected socket is readable when data are queued or the peer shut
/// down writing.
pub const SOCKET_READABLE: &str = ids::READY_SOCKET_READABLE;
/// A listener is readable exactly when accept would not block.
pub const SOCKET_LISTENER: &str = ids::READY_SOCKET_LISTENER;

/// Every readiness rule id.
pub const ALL: [&str; 9] =
    [READABLE, HANGUP, WRITABLE, ERROR, AGREE, EDGE, WAIT_WAKES, SOCKET_READABLE, SOCKET_LISTENER];
