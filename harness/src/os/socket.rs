//! Sockets: `socketpair(2)`, `socket(2)`, `bind(2)`, `listen(2)`,
//! `accept(2)`, `connect(2)`, `send(2)`/`sendto(2)`, `recvmsg(2)`,
//! `shutdown(2)`, and descriptor passing (unix(7), tcp(7), udp(7)).
//! Every socket is created close-on-exec.

use serde::{Deserialize, Serialize};
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

/// The AF_UNIX socket types a pair can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SocketKind {
    /// `SOCK_STREAM`: a byte stream.
    Stream,
    /// `SOCK_DGRAM`: datagrams, boundaries kept.
    Dgram,
    /// `SOCK_SEQPACKET`: a connection of records, boundaries kept.
    Seqpacket,
}

impl SocketKind {
    /// Whether message boundaries are kept.
    pub fn keeps_boundaries(self) -> bool {
        !matches!(self, SocketKind::Stream)
    }

    /// Whether the socket is connection-oriented (end of file, EPIPE).
    pub fn connected(self) -> bool {
        !matches!(self, SocketKind::Dgram)
    }

    /// The name as `socket(2)` spells it.
    pub fn name(self) -> &'static str {
        match self {
            SocketKind::Stream => "SOCK_STREAM",
            SocketKind::Dgram => "SOCK_DGRAM",
            SocketKind::Seqpacket => "SOCK_SEQPACKET",
        }
    }

    fn to_rustix(self) -> rustix::net::SocketType {
        match self {
            SocketKind::Stream => rustix::net::SocketType::STREAM,
            SocketKind::Dgram => rustix::net::SocketType::DGRAM,
            SocketKind::Seqpacket => rustix::net::SocketType::SEQPACKET,
        }
    }
}

fn cloexec_flags() -> rustix::net::SocketFlags {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        rustix::net::SocketFlags::CLOEXEC
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        rustix::net::SocketFlags::empty()
    }
}

/// Makes `fd` close-on-exec where the socket call could not do it
/// atomically, and suppresses `SIGPIPE` per socket where `MSG_NOSIGNAL`
/// does not exist (macOS: `SO_NOSIGPIPE` is set only when asked).
fn finish(fd: OwnedFd) -> io::Result<OwnedFd> {
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    super::fd::set_cloexec(fd.as_fd(), true)?;
    Ok(fd)
}

/// `socketpair(AF_UNIX, kind)`: a connected pair, both close-on-exec.
/// `EPROTONOSUPPORT` (or similar) where the platform lacks the kind.
pub fn pair(kind: SocketKind) -> io::Result<(OwnedFd, OwnedFd)> {
    pair_with(kind, false)
}

/// [`pair`], with `SOCK_NONBLOCK` on both ends when `nonblock` (Linux;
/// elsewhere `Unsupported`: macOS has no `SOCK_NONBLOCK`).
pub fn pair_with(kind: SocketKind, nonblock: bool) -> io::Result<(OwnedFd, OwnedFd)> {
    let flags = creation_flags(nonblock)?;
    let _guard = super::process::quiet_forks();
    let (a, b) = rustix::net::socketpair(rustix::net::AddressFamily::UNIX, kind.to_rustix(), flags, None)?;
    Ok((finish(a)?, finish(b)?))
}

/// The flags of a socket made here: close-on-exec where the call can set
/// it, and `SOCK_NONBLOCK` if asked.
fn creation_flags(nonblock: bool) -> io::Result<rustix::net::SocketFlags> {
    let nonblock = nonblock && !super::deviant::for_objects(super::deviant::Deviation::SockNonblockIgnored);
    Ok(cloexec_flags() | if nonblock { nonblock_flag()? } else { rustix::net::SocketFlags::empty() })
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn nonblock_flag() -> io::Result<rustix::net::SocketFlags> {
    Ok(rustix::net::SocketFlags::NONBLOCK)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn nonblock_flag() -> io::Result<rustix::net::SocketFlags> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "SOCK_NONBLOCK does not exist on this platform"))
}

/// A unix-domain socket name: a path in the file system, or (Linux) a name
/// in the abstract namespace, which creates no file and is freed when the
/// last socket bound to it closes (unix(7)).
#[derive(Clone, Copy, Debug)]
pub enum UnixName<'a> {
    /// A path.
    Path(&'a Path),
    /// An abstract name (without the leading NUL).
    Abstract(&'a [u8]),
}

impl UnixName<'_> {
    fn to_addr(self) -> io::Result<rustix::net::SocketAddrUnix> {
        match self {
            UnixName::Path(p) => Ok(rustix::net::SocketAddrUnix::new(p)?),
            UnixName::Abstract(name) => abstract_addr(name),
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn abstract_addr(name: &[u8]) -> io::Result<rustix::net::SocketAddrUnix> {
    Ok(rustix::net::SocketAddrUnix::new_abstract_name(name)?)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn abstract_addr(_name: &[u8]) -> io::Result<rustix::net::SocketAddrUnix> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "abstract unix socket names do not exist on this platform"))
}

/// A connected pair made the long way, both ends close-on-exec: for
/// `SOCK_STREAM` and `SOCK_SEQPACKET`, `socket` + `bind(first)` + `listen`
/// and a second `socket` + `connect(first)`, then `accept` (the connecting
/// socket is end 0, the accepted one end 1); for `SOCK_DGRAM`, two sockets
/// bound to `first` and `second` and each `connect`ed to the other. The
/// names can be removed once this returns.
///
/// # References
/// - [unix(7)](https://man7.org/linux/man-pages/man7/unix.7.html)
/// - [connect(2)](https://man7.org/linux/man-pages/man2/connect.2.html), [accept(2)](https://man7.org/linux/man-pages/man2/accept.2.html)
pub fn pair_by_connect(
    kind: SocketKind,
    first: UnixName<'_>,
    second: UnixName<'_>,
    nonblock: bool,
) -> io::Result<(OwnedFd, OwnedFd)> {
    use rustix::net::{bind, connect, socket_with, AddressFamily};
    let flags = creation_flags(nonblock)?;
    let _guard = super::process::quiet_forks();
    let streams = kind == SocketKind::Seqpacket
        && super::deviant::for_objects(super::deviant::Deviation::SeqpacketListenerStreams);
    let made = if streams { SocketKind::Stream } else { kind };
    let socket = || -> io::Result<OwnedFd> { finish(socket_with(AddressFamily::UNIX, made.to_rustix(), flags, None)?) };
    let accept = |listener: &OwnedFd| -> io::Result<OwnedFd> { accept_flagged(listener.as_fd(), flags) };
    let (at_first, at_second) = (first.to_addr()?, second.to_addr()?);
    let half_joined = super::deviant::for_objects(super::deviant::Deviation::ConnectPairHalfJoined);
    if kind.connected() {
        let listener = socket()?;
        bind(&listener, &at_first)?;
        rustix::net::listen(&listener, 2)?;
        let client = socket()?;
        connect(&client, &at_first)?;
        let accepted = accept(&listener)?;
        if half_joined {
            // The accepted end is another client's connection, which then goes.
            let other = socket()?;
            connect(&other, &at_first)?;
            return Ok((client, accept(&listener)?));
        }
        Ok((client, accepted))
    } else {
        let (a, b) = (socket()?, socket()?);
        bind(&a, &at_first)?;
        bind(&b, &at_second)?;
        connect(&a, &at_second)?;
        if !half_joined {
            connect(&b, &at_first)?;
        }
        Ok((a, b))
    }
}

/// A unix-domain listener bound at `path` (`socket`, `bind`, `listen`).
pub fn listen_unix(path: &Path, backlog: i32) -> io::Result<OwnedFd> {
    listen_unix_at(UnixName::Path(path), backlog)
}

/// A unix-domain stream listener bound to `name`, a path or (Linux) an
/// abstract name (`socket`, `bind`, `listen`).
///
/// # References
/// - [unix(7)](https://man7.org/linux/man-pages/man7/unix.7.html), [listen(2)](https://man7.org/linux/man-pages/man2/listen.2.html)
pub fn listen_unix_at(name: UnixName<'_>, backlog: i32) -> io::Result<OwnedFd> {
    let _guard = super::process::quiet_forks();
    let fd = finish(rustix::net::socket_with(
        rustix::net::AddressFamily::UNIX,
        rustix::net::SocketType::STREAM,
        cloexec_flags(),
        None,
    )?)?;
    match rustix::net::bind(&fd, &name.to_addr()?) {
        // The deviation: a bind of an abstract name in use succeeds, the
        // socket left to listen at an address of the kernel's choosing.
        Err(rustix::io::Errno::ADDRINUSE)
            if matches!(name, UnixName::Abstract(_))
                && super::deviant::is(super::deviant::Deviation::AbstractNameShared) => {}
        other => other?,
    }
    rustix::net::listen(&fd, backlog)?;
    Ok(fd)
}

/// A TCP listener on 127.0.0.1 at a port the kernel picks; returns it and
/// the port.
pub fn listen_tcp_loopback(backlog: i32) -> io::Result<(OwnedFd, u16)> {
    let fd = tcp_socket(false)?;
    rustix::net::sockopt::set_socket_reuseaddr(&fd, true)?;
    rustix::net::bind(&fd, &SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0))?;
    rustix::net::listen(&fd, backlog)?;
    let port = local_port(fd.as_fd())?;
    Ok((fd, port))
}

/// A UDP socket bound to 127.0.0.1 at a port the kernel picks.
pub fn udp_loopback() -> io::Result<(OwnedFd, u16)> {
    let _guard = super::process::quiet_forks();
    let fd = finish(rustix::net::socket_with(
        rustix::net::AddressFamily::INET,
        rustix::net::SocketType::DGRAM,
        cloexec_flags(),
        None,
    )?)?;
    rustix::net::bind(&fd, &SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0))?;
    let port = local_port(fd.as_fd())?;
    Ok((fd, port))
}

fn local_port(fd: BorrowedFd<'_>) -> io::Result<u16> {
    let addr = rustix::net::getsockname(fd)?;
    let v4: SocketAddrV4 = addr.try_into().map_err(|_| io::Error::other("not an IPv4 address"))?;
    Ok(v4.port())
}

/// A TCP socket's own port and its peer's (`getsockname`, `getpeername`).
///
/// # References
/// - [getsockname(2)](https://man7.org/linux/man-pages/man2/getsockname.2.html), [getpeername(2)](https://man7.org/linux/man-pages/man2/getpeername.2.html)
pub fn ports(fd: BorrowedFd<'_>) -> io::Result<(u16, u16)> {
    let peer = rustix::net::getpeername(fd)?.ok_or_else(|| io::Error::other("no peer address"))?;
    let peer: SocketAddrV4 = peer.try_into().map_err(|_| io::Error::other("not an IPv4 address"))?;
    Ok((local_port(fd)?, peer.port()))
}

/// `accept(2)`: the next connection, close-on-exec.
pub fn accept(listener: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    if super::deviant::is(super::deviant::Deviation::AcceptFails) {
        return Err(io::Error::from_raw_os_error(libc::ECONNABORTED));
    }
    if super::deviant::is(super::deviant::Deviation::AcceptHandsOutTwice) {
        return accept_twice(listener);
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let fd = rustix::net::accept_with(listener, rustix::net::SocketFlags::CLOEXEC)?;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let fd = {
        let _guard = super::process::quiet_forks();
        rustix::net::accept(listener)?
    };
    finish(fd)
}

/// The deviation `accept-hands-out-twice`: every second accept on a
/// listener returns a copy of the connection the one before returned.
fn accept_twice(listener: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    use std::os::fd::AsRawFd;
    static LAST: std::sync::Mutex<Option<(i32, OwnedFd)>> = std::sync::Mutex::new(None);
    let mut last = LAST.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((from, copy)) = last.take() {
        if from == listener.as_raw_fd() {
            return Ok(copy);
        }
    }
    let fd = finish(rustix::net::accept(listener)?)?;
    *last = Some((listener.as_raw_fd(), fd.try_clone()?));
    Ok(fd)
}

/// `accept4(2)` with `flags` (`SOCK_CLOEXEC`, `SOCK_NONBLOCK`) where it
/// exists; elsewhere `accept(2)` (the flags were refused before).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn accept_flagged(listener: BorrowedFd<'_>, flags: rustix::net::SocketFlags) -> io::Result<OwnedFd> {
    Ok(rustix::net::accept_with(listener, flags)?)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn accept_flagged(listener: BorrowedFd<'_>, _flags: rustix::net::SocketFlags) -> io::Result<OwnedFd> {
    accept(listener)
}

/// `connect(2)` of a new unix stream socket to `path`.
pub fn connect_unix(path: &Path) -> io::Result<OwnedFd> {
    connect_unix_at(UnixName::Path(path))
}

/// `connect(2)` of a new unix stream socket to `name`, a path or (Linux)
/// an abstract name.
pub fn connect_unix_at(name: UnixName<'_>) -> io::Result<OwnedFd> {
    let fd = {
        let _guard = super::process::quiet_forks();
        finish(rustix::net::socket_with(
            rustix::net::AddressFamily::UNIX,
            rustix::net::SocketType::STREAM,
            cloexec_flags(),
            None,
        )?)?
    };
    rustix::net::connect(&fd, &name.to_addr()?)?;
    Ok(fd)
}

/// `connect(2)` of a new TCP socket to 127.0.0.1:`port`.
pub fn connect_tcp_loopback(port: u16) -> io::Result<OwnedFd> {
    let fd = tcp_socket(false)?;
    rustix::net::connect(&fd, &SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
        .map_err(|e| io::Error::from_raw_os_error(refusal(e.raw_os_error())))?;
    Ok(fd)
}

/// A new TCP socket on 127.0.0.1, close-on-exec, `nonblocking` or not.
fn tcp_socket(nonblocking: bool) -> io::Result<OwnedFd> {
    let fd = {
        let _guard = super::process::quiet_forks();
        finish(rustix::net::socket_with(
            rustix::net::AddressFamily::INET,
            rustix::net::SocketType::STREAM,
            cloexec_flags(),
            None,
        )?)?
    };
    if nonblocking {
        super::fd::set_nonblocking(fd.as_fd(), true)?;
    }
    Ok(fd)
}

/// The deviation `refused-becomes-timedout` on an errno a connection
/// attempt reports.
fn refusal(errno: i32) -> i32 {
    if errno == libc::ECONNREFUSED && super::deviant::is(super::deviant::Deviation::RefusedBecomesTimedout) {
        libc::ETIMEDOUT
    } else {
        errno
    }
}

/// `connect(2)` of a new TCP socket to 127.0.0.1:`port`, blocking, or
/// through a non-blocking socket: the socket and the errno the call gave
/// (`None`: it connected at once).
///
/// # References
/// - [connect(2)](https://man7.org/linux/man-pages/man2/connect.2.html): EINPROGRESS; connect(2) (macOS)
pub fn connect_tcp_attempt(port: u16, nonblocking: bool) -> io::Result<(OwnedFd, Option<i32>)> {
    let fd = tcp_socket(nonblocking)?;
    let errno = match rustix::net::connect(&fd, &SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)) {
        Ok(()) => None,
        Err(e) if nonblocking && e == rustix::io::Errno::INPROGRESS => {
            Some(if super::deviant::is(super::deviant::Deviation::ConnectInProgressEagain) {
                libc::EAGAIN
            } else {
                e.raw_os_error()
            })
        }
        Err(e) => Some(refusal(e.raw_os_error())),
    };
    Ok((fd, errno))
}

/// The socket's pending error (`getsockopt(SO_ERROR)`, which clears it):
/// 0 for none.
///
/// # References
/// - [socket(7)](https://man7.org/linux/man-pages/man7/socket.7.html): SO_ERROR; getsockopt(2) (macOS)
pub fn take_error(fd: BorrowedFd<'_>) -> io::Result<i32> {
    if super::deviant::is(super::deviant::Deviation::SoErrorLost) {
        // The deviation: the error is cleared, and reported as none.
        let _ = rustix::net::sockopt::socket_error(fd)?;
        return Ok(0);
    }
    Ok(match rustix::net::sockopt::socket_error(fd)? {
        Ok(()) => 0,
        Err(e) => refusal(e.raw_os_error()),
    })
}

/// Sets `SO_LINGER` on with a linger time of 0: a close then resets the
/// connection instead of closing it in order.
///
/// # References
/// - [socket(7)](https://man7.org/linux/man-pages/man7/socket.7.html): SO_LINGER; setsockopt(2) (macOS)
pub fn set_linger_zero(fd: BorrowedFd<'_>) -> io::Result<()> {
    if super::deviant::is(super::deviant::Deviation::LingerZeroIgnored) {
        return Ok(());
    }
    rustix::net::sockopt::set_socket_linger(fd, Some(std::time::Duration::ZERO)).map_err(io::Error::from)
}

pub use super::entry::MsgOpts;
use super::entry::{ReadCall, WriteCall};

/// One send of `data` through `call` with the given per-call flags (which
/// only the `send` family takes). Returns bytes sent.
pub fn send(fd: BorrowedFd<'_>, data: &[u8], call: WriteCall, opts: MsgOpts) -> io::Result<usize> {
    use super::deviant::{self, Deviation};
    match deviant::active() {
        Some(Deviation::SendFails) => return Err(io::Error::from_raw_os_error(libc::ENOTCONN)),
        Some(Deviation::DatagramSplit) if data.len() >= 2 && keeps_boundaries(fd) => {
            let half = data.len() / 2;
            let first = send_raw(fd, &data[..half], call, opts)?;
            return Ok(first + send_raw(fd, &data[half..], call, opts)?);
        }
        Some(Deviation::EpipeBecomesSuccess) => {
            return match send_raw(fd, data, call, opts) {
                Err(e) if e.raw_os_error() == Some(libc::EPIPE) => Ok(data.len()),
                other => other,
            }
        }
        Some(Deviation::SendNeverBlocks) if call.takes_flags() => {
            return send_raw(fd, data, call, MsgOpts { dontwait: true, ..opts })
        }
        Some(Deviation::SendNeverBlocks) => {
            return send_raw(fd, data, WriteCall::Send, MsgOpts { dontwait: true, ..opts })
        }
        _ => {}
    }
    send_raw(fd, data, call, opts)
}

/// Fills the send direction of a stream socket with `send(2)` and
/// `MSG_DONTWAIT` until the kernel refuses more (see
/// [`super::pipe::fill_until_refused`]). Per call, so the open file
/// description that other holders share stays as it was.
pub fn fill_dontwait(
    fd: BorrowedFd<'_>,
    chunk: usize,
    start: u64,
    byte: impl Fn(u64) -> u8,
) -> Result<u64, (u64, i32)> {
    let opts = MsgOpts { dontwait: true, nosignal: false };
    super::pipe::fill_until_refused(chunk, start, byte, |buf| {
        send_raw(fd, buf, WriteCall::Send, opts).map_err(|e| rustix::io::Errno::from_raw_os_error(super::errno_of(&e)))
    })
}

use super::entry::keeps_boundaries;

fn send_raw(fd: BorrowedFd<'_>, data: &[u8], call: WriteCall, opts: MsgOpts) -> io::Result<usize> {
    super::entry::write(fd, data, call, opts)
}

/// `sendto(2)` of a datagram to 127.0.0.1:`port`.
pub fn send_to_loopback(fd: BorrowedFd<'_>, data: &[u8], port: u16) -> io::Result<usize> {
    let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
    let mut altered;
    let data = if super::deviant::is(super::deviant::Deviation::UdpAltered) && !data.is_empty() {
        altered = data.to_vec();
        let mid = altered.len() / 2;
        altered[mid] ^= 0x01;
        &altered[..]
    } else {
        data
    };
    // Not retried on EINTR: an operation under test.
    rustix::net::sendto(fd, data, rustix::net::SendFlags::empty(), &addr).map_err(io::Error::from)
}

/// One receive of at most `max` bytes through `call`; returns the bytes
/// and, from `recvmsg` only, whether the kernel flagged the message as
/// truncated (`MSG_TRUNC` in `msg_flags`).
pub fn recv(fd: BorrowedFd<'_>, max: usize, call: ReadCall, dontwait: bool) -> io::Result<(Vec<u8>, Option<bool>)> {
    use super::deviant::{self, Deviation};
    if deviant::is(Deviation::RecvEmptyReturnsZero) && max > 0 && deviant::bytes_available(fd).is_ok_and(|n| n == 0) {
        return Ok((Vec::new(), call.eq(&ReadCall::Recvmsg).then_some(false)));
    }
    let mut data = vec![0u8; max];
    let got = super::entry::read(fd, &mut data, call, MsgOpts { dontwait, nosignal: false })?;
    data.truncate(got.bytes);
    if deviant::is(Deviation::RecvDropsAByte) && data.len() >= 3 && !keeps_boundaries(fd) {
        data.remove(data.len() / 2);
    }
    Ok((data, got.truncated))
}

/// How a `shutdown(2)` closes a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Shut {
    /// `SHUT_RD`.
    Read,
    /// `SHUT_WR`.
    Write,
    /// `SHUT_RDWR`.
    Both,
}

/// `shutdown(2)`.
pub fn shutdown(fd: BorrowedFd<'_>, how: Shut) -> io::Result<()> {
    if super::deviant::is(super::deviant::Deviation::ShutdownNoop) {
        return Ok(());
    }
    let how = match how {
        // The deviation: a TCP socket's SHUT_WR shuts both directions.
        Shut::Write if super::deviant::is(super::deviant::Deviation::ShutWrShutsBoth) && is_inet(fd) => {
            rustix::net::Shutdown::Both
        }
        Shut::Read => rustix::net::Shutdown::Read,
        Shut::Write => rustix::net::Shutdown::Write,
        Shut::Both => rustix::net::Shutdown::Both,
    };
    rustix::net::shutdown(fd, how).map_err(io::Error::from)
}

fn is_inet(fd: BorrowedFd<'_>) -> bool {
    rustix::net::getsockname(fd).is_ok_and(|a| a.address_family() == rustix::net::AddressFamily::INET)
}

/// Sets a socket's receive timeout (`setsockopt(SO_RCVTIMEO)`): a blocking
/// receive, and on Linux an `accept`, then waits at most `timeout`.
///
/// # References
/// - POSIX.1-2017 XSH `setsockopt()`: SO_RCVTIMEO.
/// - socket(7) (Linux): SO_RCVTIMEO; signal(7): calls on a socket with a
///   timeout are not restarted after a signal handler, SA_RESTART or not.
/// - setsockopt(2) (macOS).
pub fn set_receive_timeout(fd: BorrowedFd<'_>, timeout: std::time::Duration) -> io::Result<()> {
    if super::deviant::for_objects(super::deviant::Deviation::RcvtimeoIgnored) {
        return Ok(());
    }
    rustix::net::sockopt::set_socket_timeout(fd, rustix::net::sockopt::Timeout::Recv, Some(timeout))
        .map_err(io::Error::from)
}

/// Sets the receive timeout of one of the harness's own control channels
/// (`setsockopt(SO_RCVTIMEO)`), never through a deviation: a receive that
/// finds nothing within `timeout` fails with `EAGAIN`.
///
/// # References
/// - POSIX.1-2017 XSH `setsockopt()`: SO_RCVTIMEO; XSH `recvmsg()`:
///   `EAGAIN` when the timeout expires.
/// - socket(7) (Linux), setsockopt(2) (macOS).
pub fn set_channel_receive_timeout(fd: BorrowedFd<'_>, timeout: std::time::Duration) -> io::Result<()> {
    rustix::net::sockopt::set_socket_timeout(fd, rustix::net::sockopt::Timeout::Recv, Some(timeout))
        .map_err(io::Error::from)
}

/// Whether this host honours [`set_channel_receive_timeout`]: a receive
/// on a fresh control pair with a 1 ms timeout and nothing sent must fail
/// with `EAGAIN` within a second (a host that accepts the option and
/// ignores it, as some sandboxes may, would leave a wait for a hung actor
/// blocked for good). The receive runs in a thread of its own; if it has
/// not returned within the second, a byte sent to it and end of file end
/// it, and if even they do not, the answer is no and the thread is left.
/// Asked once per process.
pub fn channel_receive_timeout_holds() -> bool {
    static HOLDS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HOLDS.get_or_init(|| {
        receive_times_out(|waiter| {
            let mut byte = [0u8; 1];
            matches!(
                rustix::net::recv(waiter, &mut byte, rustix::net::RecvFlags::empty()),
                Err(rustix::io::Errno::AGAIN)
            )
        })
    })
}

/// [`channel_receive_timeout_holds`]'s probe, with the receive (`true`
/// when it failed with `EAGAIN`) given, so that a host where it never
/// returns can be played in a test.
fn receive_times_out(receive: impl FnOnce(&OwnedFd) -> bool + Send + 'static) -> bool {
    let _quiet = super::process::quiet_forks();
    let Ok((waiter, sender)) = super::fd::control_pair() else { return false };
    if set_channel_receive_timeout(waiter.as_fd(), std::time::Duration::from_millis(1)).is_err() {
        return false;
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let receiver = std::thread::spawn(move || {
        let _ = tx.send(receive(&waiter));
    });
    if let Ok(timed_out) = rx.recv_timeout(std::time::Duration::from_secs(1)) {
        let _ = receiver.join();
        return timed_out;
    }
    // The timeout did not hold: release the receiver with a byte and end of
    // file; a host that ignores both too leaves it blocked, and it is not
    // joined (the probe must not hang the run that asked it).
    let _ = rustix::io::write(&sender, &[0]);
    drop(sender);
    if rx.recv_timeout(std::time::Duration::from_secs(1)).is_ok() {
        let _ = receiver.join();
    }
    false
}

/// Sends one descriptor over a unix socket with one byte of data.
pub fn send_fd(sock: BorrowedFd<'_>, fd: BorrowedFd<'_>) -> io::Result<()> {
    keep_hidden_copies(&[fd])?;
    if super::deviant::is(super::deviant::Deviation::RightsReopen) {
        let fresh = super::deviant::reopen(fd)?;
        return super::fd::send_with_fds(sock, b"F", &[fresh.as_fd()]);
    }
    super::fd::send_with_fds(sock, b"F", &[fd])
}

/// Sends several descriptors in one message over a unix socket, with one
/// byte of data (`sendmsg(2)`, one `SCM_RIGHTS` control message).
///
/// # References
/// - [unix(7)](https://man7.org/linux/man-pages/man7/unix.7.html): SCM_RIGHTS; POSIX.1-2017 XSH `sendmsg()`
pub fn send_fds(sock: BorrowedFd<'_>, fds: &[BorrowedFd<'_>]) -> io::Result<()> {
    keep_hidden_copies(fds)?;
    super::fd::send_with_fds(sock, b"F", fds)
}

/// The deviation `in-flight-rights-kept`: the sender keeps a hidden copy
/// of every descriptor it sends.
fn keep_hidden_copies(fds: &[BorrowedFd<'_>]) -> io::Result<()> {
    if super::deviant::is(super::deviant::Deviation::InFlightRightsKept) {
        static KEPT: std::sync::Mutex<Vec<OwnedFd>> = std::sync::Mutex::new(Vec::new());
        let mut kept = KEPT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for fd in fds {
            kept.push(fd.try_clone_to_owned()?);
        }
    }
    Ok(())
}

/// Receives one message of descriptors with control space for `room` of
/// them exactly (`msg_controllen` = `CMSG_LEN(room * sizeof(int))`):
/// the descriptors the control data reports, and whether `MSG_CTRUNC` was
/// set.
///
/// # References
/// - POSIX.1-2017 XSH `recvmsg()`: MSG_CTRUNC; [unix(7)](https://man7.org/linux/man-pages/man7/unix.7.html): SCM_RIGHTS
pub fn recv_fds_with_room(sock: BorrowedFd<'_>, room: usize) -> io::Result<(Vec<OwnedFd>, bool)> {
    if super::deviant::is(super::deviant::Deviation::TruncatedRightsLeak) {
        // The deviation: everything is installed, only `room` reported.
        let mut fds = Vec::new();
        let mut byte = [0u8; 1];
        super::fd::recv_with_fds(sock, &mut byte, &mut fds)?;
        let truncated = fds.len() > room;
        for leaked in fds.split_off(room.min(fds.len())) {
            std::mem::forget(leaked);
        }
        return Ok((fds, truncated));
    }
    super::fd::recv_fds_with_room(sock, room)
}

/// Receives one descriptor sent by [`send_fd`].
pub fn recv_fd(sock: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    let mut fds = Vec::new();
    let mut byte = [0u8; 1];
    let n = super::fd::recv_with_fds(sock, &mut byte, &mut fds)?;
    if n == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    let fd = fds.pop().ok_or_else(|| io::Error::other("a message without a descriptor"))?;
    if super::deviant::is(super::deviant::Deviation::ReceivedMemfdCopied) && super::memfd::seals(fd.as_fd()).is_ok() {
        return super::memfd::unsealed_copy(fd.as_fd());
    }
    Ok(fd)
}

/// The credentials the kernel recorded for a unix socket's peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerCred {
    /// Its process id (on macOS, of the peer socket's last user).
    pub pid: i32,
    /// Its effective user id.
    pub uid: u32,
    /// Its effective group id.
    pub gid: u32,
}

/// The credentials of a connected unix socket's peer: `SO_PEERCRED` on
/// Linux; `getpeereid(3)` and `LOCAL_PEERPID` on macOS.
///
/// # References
/// - [unix(7)](https://man7.org/linux/man-pages/man7/unix.7.html): SO_PEERCRED
/// - getpeereid(3), unix(4) (macOS): LOCAL_PEERPID
pub fn peer_credentials(fd: BorrowedFd<'_>) -> io::Result<PeerCred> {
    if super::deviant::is(super::deviant::Deviation::PeercredIsCaller) {
        return Ok(PeerCred {
            pid: std::process::id() as i32,
            uid: rustix::process::geteuid().as_raw(),
            gid: rustix::process::getegid().as_raw(),
        });
    }
    peer_credentials_of(fd)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn peer_credentials_of(fd: BorrowedFd<'_>) -> io::Result<PeerCred> {
    let cred = rustix::net::sockopt::socket_peercred(fd)?;
    Ok(PeerCred { pid: cred.pid.as_raw_nonzero().get(), uid: cred.uid.as_raw(), gid: cred.gid.as_raw() })
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn peer_credentials_of(fd: BorrowedFd<'_>) -> io::Result<PeerCred> {
    use std::os::fd::AsRawFd;
    let (mut uid, mut gid) = (0, 0);
    // SAFETY: two out-parameters of the sizes getpeereid(3) writes.
    if unsafe { libc::getpeereid(fd.as_raw_fd(), &mut uid, &mut gid) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut pid: libc::pid_t = 0;
    let mut len = std::mem::size_of::<libc::pid_t>() as libc::socklen_t;
    // SAFETY: LOCAL_PEERPID writes one pid_t into `pid`, `len` its size.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_LOCAL,
            libc::LOCAL_PEERPID,
            (&mut pid as *mut libc::pid_t).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(PeerCred { pid, uid, gid })
}

/// The current offset of a descriptor (`lseek(fd, 0, SEEK_CUR)`).
pub fn offset(fd: BorrowedFd<'_>) -> io::Result<u64> {
    rustix::fs::seek(fd, rustix::fs::SeekFrom::Current(0)).map_err(io::Error::from)
}

/// The largest send a fresh, empty pair of `kind` takes without blocking
/// (a non-blocking send of 1 MiB, or of the largest message that fits).
pub fn measure_single_send(kind: SocketKind) -> io::Result<u64> {
    let (a, _b) = pair(kind)?;
    let opts = MsgOpts { dontwait: true, nosignal: true };
    let mut size = 1usize << 20;
    loop {
        match send(a.as_fd(), &vec![0u8; size], WriteCall::Send, opts) {
            Ok(n) => return Ok(n as u64),
            Err(e)
                if size > 1
                    && matches!(e.raw_os_error(), Some(libc::EMSGSIZE) | Some(libc::ENOBUFS) | Some(libc::EAGAIN)) =>
            {
                size /= 2
            }
            Err(e) => return Err(e),
        }
    }
}

/// The errno a full unix datagram receiver gives a non-blocking sender:
/// fills a fresh pair with 1 KiB datagrams until the first error.
pub fn measure_datagram_full_errno() -> io::Result<i32> {
    let (a, _b) = pair(SocketKind::Dgram)?;
    let opts = MsgOpts { dontwait: true, nosignal: true };
    let data = [0u8; 1024];
    for _ in 0..100_000 {
        if let Err(e) = send(a.as_fd(), &data, WriteCall::Send, opts) {
            return Ok(e.raw_os_error().unwrap_or(libc::EIO));
        }
    }
    Err(io::Error::other("a datagram pair took 100 MB without refusing"))
}

#[cfg(test)]
mod tests {
    /// Linux and macOS honour SO_RCVTIMEO on a unix stream socket: the
    /// engine waits for replies in the receive itself there.
    #[test]
    fn this_host_honours_the_control_channel_receive_timeout() {
        assert!(super::channel_receive_timeout_holds(), "SO_RCVTIMEO of 1 ms did not end an empty receive");
    }

    /// A host where the receive never returns (it ignores the timeout, the
    /// byte and end of file) gets "no" from the probe instead of a run that
    /// never starts: the probe used to join the blocked receiver.
    #[test]
    fn the_timeout_probe_answers_no_where_the_receive_never_returns() {
        let holds = super::receive_times_out(|_| loop {
            std::thread::park();
        });
        assert!(!holds);
    }
}
