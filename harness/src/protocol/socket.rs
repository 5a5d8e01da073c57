//! Control-channel operations of the `socket` mechanism (see
//! [`crate::actor::socket`] for how an actor performs them).

use crate::os::entry::{ReadCall, WriteCall};
use crate::os::socket::{MsgOpts, Shut};
use serde::{Deserialize, Serialize};

/// One socket operation an actor performs on the coordinator's word.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SocketOp {
    /// A send of `len` traceable bytes of writer `tag` from stream
    /// position `start` (see [`crate::pattern`]) through `call`; reply
    /// `Count` or `Errno`.
    Send { slot: u32, len: u32, tag: u8, start: u64, call: WriteCall, opts: MsgOpts },
    /// Fill the send direction with `send(2)` and `MSG_DONTWAIT` until
    /// `EAGAIN`, sends of `chunk` bytes then of 1 byte (pattern as for
    /// `Send`); reply `Filled`.
    Fill { slot: u32, chunk: u32, tag: u8, start: u64 },
    /// A receive of at most `max` bytes through `call`; reply `Received`
    /// or `Errno`.
    Recv { slot: u32, max: u32, call: ReadCall, dontwait: bool },
    /// `shutdown(2)`; reply `Done` or `Errno`.
    Shutdown { slot: u32, how: Shut },
    /// Listen on a unix stream socket at `path`; reply `Opened`.
    ListenUnix { path: String, backlog: i32 },
    /// Listen on TCP 127.0.0.1, port chosen by the kernel; reply
    /// `Values([slot, fd, port])`.
    ListenTcp { backlog: i32 },
    /// `accept(2)`; reply `Opened` with the connection.
    Accept { slot: u32 },
    /// Connect a new unix stream socket to `path`; reply `Opened` or `Errno`.
    ConnectUnix { path: String },
    /// Connect a new unix stream socket to the abstract name `name`
    /// (Linux); reply `Opened` or `Errno`.
    ConnectAbstract { name: String },
    /// Connect a new TCP socket to 127.0.0.1:`port`; reply `Opened` or `Errno`.
    ConnectTcp { port: u16 },
    /// Connect a new TCP socket to 127.0.0.1:`port`, through a
    /// non-blocking socket or not, keeping the socket whatever the call
    /// gave; reply `Values([slot, fd, errno])`, errno 0 when it connected.
    ConnectTcpAttempt { port: u16, nonblocking: bool },
    /// `getsockopt(SO_ERROR)`, which clears it; reply `Values([errno])`,
    /// 0 for none.
    TakeError { slot: u32 },
    /// The credentials of a unix socket's peer; reply `Values([pid, uid, gid])`.
    PeerCred { slot: u32 },
    /// Listen on a unix stream socket bound to the abstract name `name`
    /// (Linux); reply `Opened` or `Errno`.
    ListenAbstract { name: String, backlog: i32 },
    /// Send the descriptors in `fd_slots` in one message over the unix
    /// socket in `slot`; reply `Done` or `Errno`.
    SendFds { slot: u32, fd_slots: Vec<u32> },
    /// Receive one message of descriptors with control space for `room`
    /// of them; reply `Values([ctrunc, received, unseen, then slot, dev,
    /// ino of each received])`, `unseen` counting descriptors the receive
    /// opened in this process that it did not report.
    RecvFdsRoom { slot: u32, room: u32 },
    /// A TCP socket's port and its peer's; reply `Values([port, peer])`.
    Ports { slot: u32 },
    /// `SO_LINGER` on with a linger time of 0; reply `Done` or `Errno`.
    LingerZero { slot: u32 },
    /// A UDP socket on 127.0.0.1, port chosen by the kernel; reply
    /// `Values([slot, fd, port])`.
    UdpBind,
    /// `sendto(2)` of the datagram [`crate::pattern::datagram`]`(tag, seq,
    /// len)` to 127.0.0.1:`port`; reply `Count` or `Errno`.
    SendTo { slot: u32, port: u16, tag: u8, seq: u32, len: u32 },
    /// Send the descriptor in `fd_slot` over the unix socket in `slot`
    /// (`SCM_RIGHTS`); reply `Done` or `Errno`.
    SendFd { slot: u32, fd_slot: u32 },
    /// Receive a descriptor over the unix socket in `slot`; reply `Opened`.
    RecvFd { slot: u32 },
    /// The current file offset of the descriptor in `slot`
    /// (`lseek(SEEK_CUR)`); reply `Values([offset])`.
    Offset { slot: u32 },
}
