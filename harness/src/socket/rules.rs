//! The ids of the socket rules, as `spec/rules/socket.toml` spells them.

use ipc_conform_spec::ids;

/// Both ends of a connected pair send and receive, at the same time.
pub const BIDIRECTIONAL: &str = ids::SOCKET_PAIR_BIDIRECTIONAL;
/// A stream socket delivers bytes in order, none lost or repeated.
pub const ORDER: &str = ids::SOCKET_STREAM_ORDER;
/// Datagram and seqpacket sockets keep message boundaries.
pub const BOUNDARIES: &str = ids::SOCKET_MESSAGE_BOUNDARIES;
/// A receive on an empty connected socket blocks.
pub const READ_BLOCKS: &str = ids::SOCKET_READ_EMPTY_BLOCKS;
/// A send to a full stream socket blocks until the peer reads.
pub const FULL_BLOCKS: &str = ids::SOCKET_WRITE_FULL_BLOCKS;
/// After shutdown(SHUT_WR) the peer reads the rest, then 0; the other way works.
pub const SHUTDOWN: &str = ids::SOCKET_EOF_SHUTDOWN_WRITE;
/// Once every copy of the peer is gone, reads drain then see 0 (or ECONNRESET).
pub const PEER_CLOSED: &str = ids::SOCKET_EOF_PEER_CLOSED;
/// A send after the peer closed fails with EPIPE (SIGPIPE unless suppressed).
pub const EPIPE: &str = ids::SOCKET_EPIPE_PEER_CLOSED;
/// A listening server accepts several clients, each its own channel.
pub const ACCEPT: &str = ids::SOCKET_SERVER_ACCEPT;
/// UDP on loopback delivers whole, unaltered datagrams (or loses them).
pub const UDP: &str = ids::SOCKET_UDP_DATAGRAM;
/// SCM_RIGHTS passes the same open file description.
pub const RIGHTS: &str = ids::SOCKET_RIGHTS_FD_PASSING;
/// Connecting needs write permission on the socket's path.
pub const PERMISSIONS: &str = ids::SOCKET_PATH_PERMISSIONS;
