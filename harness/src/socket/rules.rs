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
/// A connect to a loopback port nobody listens on is refused.
pub const TCP_REFUSED: &str = ids::SOCKET_TCP_REFUSED;
/// After shutdown(SHUT_WR) the TCP peer reads the rest, then 0; the other way works.
pub const TCP_HALF_CLOSE: &str = ids::SOCKET_TCP_HALF_CLOSE;
/// Closing with unread data, or a zero linger, resets the connection.
pub const TCP_RESET: &str = ids::SOCKET_TCP_RESET;
/// A non-blocking connect: EINPROGRESS or done; once writable, SO_ERROR.
pub const TCP_CONNECT_NONBLOCKING: &str = ids::SOCKET_TCP_CONNECT_NONBLOCKING;
/// A listener hands out each completed connection exactly once.
pub const TCP_ACCEPT_ORDER: &str = ids::SOCKET_TCP_ACCEPT_ORDER;
/// A unix socket's peer credentials name the process that made the other end.
pub const PEER_CREDENTIALS: &str = ids::SOCKET_UNIX_PEER_CREDENTIALS;
/// An abstract unix name makes no file and is free once its last socket closes.
pub const ABSTRACT_NAME: &str = ids::SOCKET_UNIX_ABSTRACT_NAME;
/// A SOCK_SEQPACKET listener's connections keep message boundaries.
pub const SEQPACKET_LISTENER: &str = ids::SOCKET_UNIX_SEQPACKET_LISTENER;
/// Descriptors that do not fit the control buffer are not installed unseen.
pub const RIGHTS_TRUNCATED: &str = ids::SOCKET_RIGHTS_TRUNCATED;
/// Descriptors queued in a socket are released when it goes.
pub const RIGHTS_IN_FLIGHT: &str = ids::SOCKET_RIGHTS_IN_FLIGHT_RELEASED;
