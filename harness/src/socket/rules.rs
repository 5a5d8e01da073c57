//! The ids of the socket rules, as `spec/rules/socket.toml` spells them.

/// Both ends of a connected pair send and receive, at the same time.
pub const BIDIRECTIONAL: &str = "socket.pair.bidirectional";
/// A stream socket delivers bytes in order, none lost or repeated.
pub const ORDER: &str = "socket.stream.order";
/// Datagram and seqpacket sockets keep message boundaries.
pub const BOUNDARIES: &str = "socket.message.boundaries";
/// A receive on an empty connected socket blocks.
pub const READ_BLOCKS: &str = "socket.read.empty-blocks";
/// A send to a full stream socket blocks until the peer reads.
pub const FULL_BLOCKS: &str = "socket.write.full-blocks";
/// After shutdown(SHUT_WR) the peer reads the rest, then 0; the other way works.
pub const SHUTDOWN: &str = "socket.eof.shutdown-write";
/// Once every copy of the peer is gone, reads drain then see 0 (or ECONNRESET).
pub const PEER_CLOSED: &str = "socket.eof.peer-closed";
/// A send after the peer closed fails with EPIPE (SIGPIPE unless suppressed).
pub const EPIPE: &str = "socket.epipe.peer-closed";
/// A listening server accepts several clients, each its own channel.
pub const ACCEPT: &str = "socket.server.accept";
/// UDP on loopback delivers whole, unaltered datagrams (or loses them).
pub const UDP: &str = "socket.udp.datagram";
/// SCM_RIGHTS passes the same open file description.
pub const RIGHTS: &str = "socket.rights.fd-passing";
/// Connecting needs write permission on the socket's path.
pub const PERMISSIONS: &str = "socket.path.permissions";
