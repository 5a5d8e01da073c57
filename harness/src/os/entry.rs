//! The entry points: every function through which a program reads or
//! writes a descriptor, one call each, so that a rule whose statement
//! covers several of them is checked through each (drawn at random per
//! operation by the properties, shown in every counterexample).
//!
//! This is the C library boundary of the OS layer: a deviation of one
//! entry point ([`super::deviant`]) is applied here, so it reaches every
//! caller, the harness's own channels included.
//!
//! # References
//! - read(2), readv(2), write(2), writev(2)
//! - recv(2), recvfrom(2), recvmsg(2), send(2), sendto(2), sendmsg(2)
//! - POSIX.1-2017 XSH read(), readv(), write(), writev(), recv(),
//!   recvfrom(), recvmsg(), send(), sendto(), sendmsg()

use super::deviant::{self, Deviation};
use super::proc::SyscallKind;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::BorrowedFd;

/// A function that reads from a descriptor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReadCall {
    /// `read(2)`.
    #[default]
    Read,
    /// `readv(2)`, into two buffers (the halves of the request).
    Readv,
    /// `recv(2)` (sockets).
    Recv,
    /// `recvfrom(2)` (sockets).
    Recvfrom,
    /// `recvmsg(2)`, into two buffers (sockets; the only one that reports
    /// `MSG_TRUNC`).
    Recvmsg,
}

/// A function that writes to a descriptor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WriteCall {
    /// `write(2)`.
    #[default]
    Write,
    /// `writev(2)`, from two buffers (the halves of the data).
    Writev,
    /// `send(2)` (sockets).
    Send,
    /// `sendto(2)` with no address (sockets).
    Sendto,
    /// `sendmsg(2)`, from two buffers (sockets).
    Sendmsg,
}

impl ReadCall {
    /// The reads of any descriptor (pipes, FIFOs, files).
    pub const ANY: &'static [ReadCall] = &[ReadCall::Read, ReadCall::Readv];
    /// The reads of a socket.
    pub const SOCKET: &'static [ReadCall] =
        &[ReadCall::Read, ReadCall::Readv, ReadCall::Recv, ReadCall::Recvfrom, ReadCall::Recvmsg];
    /// The reads of a socket that take flags (`MSG_DONTWAIT`).
    pub const FLAGGED: &'static [ReadCall] = &[ReadCall::Recv, ReadCall::Recvfrom, ReadCall::Recvmsg];

    /// The function's name.
    pub fn name(self) -> &'static str {
        match self {
            ReadCall::Read => "read",
            ReadCall::Readv => "readv",
            ReadCall::Recv => "recv",
            ReadCall::Recvfrom => "recvfrom",
            ReadCall::Recvmsg => "recvmsg",
        }
    }

    /// Whether it takes `MSG_*` flags.
    pub fn takes_flags(self) -> bool {
        ReadCall::FLAGGED.contains(&self)
    }

    /// Where a thread blocked in it is found asleep.
    pub fn site(self) -> SyscallKind {
        match self {
            ReadCall::Read | ReadCall::Readv => SyscallKind::Read,
            _ => SyscallKind::Recv,
        }
    }
}

impl WriteCall {
    /// The writes of any descriptor.
    pub const ANY: &'static [WriteCall] = &[WriteCall::Write, WriteCall::Writev];
    /// The writes of a socket.
    pub const SOCKET: &'static [WriteCall] =
        &[WriteCall::Write, WriteCall::Writev, WriteCall::Send, WriteCall::Sendto, WriteCall::Sendmsg];
    /// The writes of a socket that take flags (`MSG_DONTWAIT`, `MSG_NOSIGNAL`).
    pub const FLAGGED: &'static [WriteCall] = &[WriteCall::Send, WriteCall::Sendto, WriteCall::Sendmsg];

    /// The function's name.
    pub fn name(self) -> &'static str {
        match self {
            WriteCall::Write => "write",
            WriteCall::Writev => "writev",
            WriteCall::Send => "send",
            WriteCall::Sendto => "sendto",
            WriteCall::Sendmsg => "sendmsg",
        }
    }

    /// Whether it takes `MSG_*` flags.
    pub fn takes_flags(self) -> bool {
        WriteCall::FLAGGED.contains(&self)
    }

    /// Where a thread blocked in it is found asleep.
    pub fn site(self) -> SyscallKind {
        match self {
            WriteCall::Write | WriteCall::Writev => SyscallKind::Write,
            _ => SyscallKind::Send,
        }
    }
}

impl fmt::Display for ReadCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for WriteCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The entry point `seed` selects from `from` (wrapping): a schedule's
/// random draw, 0 (what shrinking leaves) the first, plainest one.
///
/// # Panics
/// If `from` is empty.
pub fn pick<T: Copy>(from: &[T], seed: u8) -> T {
    from[usize::from(seed) % from.len()]
}

/// Per-call flags of a socket read or write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MsgOpts {
    /// `MSG_DONTWAIT`: fail with `EAGAIN` instead of blocking.
    pub dontwait: bool,
    /// Suppress `SIGPIPE` for this send (`MSG_NOSIGNAL`; on macOS the
    /// socket option `SO_NOSIGPIPE` is set for the call instead).
    pub nosignal: bool,
}

impl MsgOpts {
    fn any(self) -> bool {
        self.dontwait || self.nosignal
    }
}

/// What one read returned: the byte count and, for `recvmsg`, whether the
/// kernel flagged the message as truncated (`MSG_TRUNC` in `msg_flags`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadResult {
    /// Bytes placed in the buffer.
    pub bytes: usize,
    /// `Some` only from `recvmsg`.
    pub truncated: Option<bool>,
}

fn flags_refused(name: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("{name}() takes no MSG_* flags"))
}

/// One read through `call` into `buf`. Flags (`dontwait`) only with a
/// call that takes them. An interrupted call is not retried: `EINTR` is
/// the host's answer (the signal rules judge it), not the harness's to
/// hide.
pub fn read(fd: BorrowedFd<'_>, buf: &mut [u8], call: ReadCall, opts: MsgOpts) -> io::Result<ReadResult> {
    if opts.any() && !call.takes_flags() {
        return Err(flags_refused(call.name()));
    }
    let opts = match deviant::active() {
        Some(Deviation::RecvfromIgnoresDontwait) if call == ReadCall::Recvfrom => MsgOpts { dontwait: false, ..opts },
        _ => opts,
    };
    if deviant::recv_would_refuse(fd, opts.dontwait) {
        return Err(io::Error::from_raw_os_error(libc::EAGAIN));
    }
    let result = loop {
        match read_once(fd, buf, call, opts) {
            // The deviation: an interrupted read is resumed, as if SA_RESTART.
            Err(rustix::io::Errno::INTR) if deviant::is(Deviation::EintrRetried) => continue,
            other => break other?,
        }
    };
    match deviant::active() {
        Some(Deviation::ReadDropsAByte) if call == ReadCall::Read && result.bytes >= 3 && !is_socket(fd) => {
            let n = result.bytes;
            buf.copy_within(n / 2 + 1..n, n / 2);
            Ok(ReadResult { bytes: n - 1, ..result })
        }
        Some(Deviation::ReadvDropsAByte) if call == ReadCall::Readv && result.bytes >= 3 => {
            let n = result.bytes;
            buf.copy_within(n / 2 + 1..n, n / 2);
            Ok(ReadResult { bytes: n - 1, ..result })
        }
        _ => Ok(result),
    }
}

fn read_once(fd: BorrowedFd<'_>, buf: &mut [u8], call: ReadCall, opts: MsgOpts) -> rustix::io::Result<ReadResult> {
    use rustix::net::{RecvAncillaryBuffer, RecvFlags, ReturnFlags};
    let flags = if opts.dontwait { RecvFlags::DONTWAIT } else { RecvFlags::empty() };
    let plain = |bytes| ReadResult { bytes, truncated: None };
    let half = buf.len() / 2;
    match call {
        ReadCall::Read => rustix::io::read(fd, buf).map(plain),
        ReadCall::Readv => {
            let (a, b) = buf.split_at_mut(half);
            rustix::io::readv(fd, &mut [IoSliceMut::new(a), IoSliceMut::new(b)]).map(plain)
        }
        ReadCall::Recv if deviant::is(Deviation::RecvPeeks) => {
            rustix::net::recv(fd, buf, flags | RecvFlags::PEEK).map(|(n, _)| plain(n))
        }
        ReadCall::Recv => rustix::net::recv(fd, buf, flags).map(|(n, _)| plain(n)),
        ReadCall::Recvfrom => rustix::net::recvfrom(fd, buf, flags).map(|(n, _, _)| plain(n)),
        ReadCall::Recvmsg => {
            let max = buf.len();
            let (a, b) = buf.split_at_mut(half);
            let mut control = RecvAncillaryBuffer::default();
            let msg = rustix::net::recvmsg(fd, &mut [IoSliceMut::new(a), IoSliceMut::new(b)], &mut control, flags)?;
            Ok(ReadResult { bytes: msg.bytes.min(max), truncated: Some(msg.flags.contains(ReturnFlags::TRUNC)) })
        }
    }
}

/// One write of `data` through `call`; returns the bytes written. Flags
/// only with a call that takes them. An interrupted call is not retried
/// (see [`read`]).
pub fn write(fd: BorrowedFd<'_>, data: &[u8], call: WriteCall, opts: MsgOpts) -> io::Result<usize> {
    if opts.any() && !call.takes_flags() {
        return Err(flags_refused(call.name()));
    }
    let mut data = data;
    let len = data.len();
    match deviant::active() {
        Some(Deviation::WritevWritesHalf) if call == WriteCall::Writev && len >= 2 => data = &data[..len / 2],
        Some(Deviation::SendmsgSplitsMessages) if call == WriteCall::Sendmsg && len >= 2 && keeps_boundaries(fd) => {
            let first = write(fd, &data[..len / 2], WriteCall::Send, opts)?;
            return Ok(first + write(fd, &data[len / 2..], WriteCall::Send, opts)?);
        }
        Some(Deviation::SendtoRepeatsAByte) if call == WriteCall::Sendto && len >= 2 && !keeps_boundaries(fd) => {
            // The first byte goes out twice; the count says nothing of it.
            write(fd, &data[..1], WriteCall::Send, opts)?;
        }
        _ => {}
    }
    let before = super::signal::deliveries();
    let n = loop {
        match write_once(fd, data, call, opts) {
            // The deviation: an interrupted write is resumed, as if SA_RESTART.
            Err(rustix::io::Errno::INTR) if deviant::is(Deviation::EintrRetried) => continue,
            other => break other.map_err(io::Error::from)?,
        }
    };
    if n < data.len() && super::signal::deliveries() != before && deviant::is(Deviation::PartialWriteBecomesEintr) {
        // The deviation: a write cut short by a signal reports EINTR.
        return Err(io::Error::from_raw_os_error(libc::EINTR));
    }
    Ok(n)
}

fn write_once(fd: BorrowedFd<'_>, data: &[u8], call: WriteCall, opts: MsgOpts) -> rustix::io::Result<usize> {
    use rustix::net::{SendAncillaryBuffer, SendFlags};
    let mut flags = SendFlags::empty();
    if opts.dontwait {
        flags |= SendFlags::DONTWAIT;
    }
    if call.takes_flags() {
        flags |= nosignal(fd, opts.nosignal)?;
    }
    let (a, b) = data.split_at(data.len() / 2);
    match call {
        WriteCall::Write => rustix::io::write(fd, data),
        WriteCall::Writev => rustix::io::writev(fd, &[IoSlice::new(a), IoSlice::new(b)]),
        WriteCall::Send => rustix::net::send(fd, data, flags),
        WriteCall::Sendto => sendto_unaddressed(fd, data, flags),
        WriteCall::Sendmsg => {
            rustix::net::sendmsg(fd, &[IoSlice::new(a), IoSlice::new(b)], &mut SendAncillaryBuffer::default(), flags)
        }
    }
}

/// Whether `fd` is a socket.
pub fn is_socket(fd: BorrowedFd<'_>) -> bool {
    rustix::fs::fstat(fd)
        .is_ok_and(|st| rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Socket)
}

/// Whether a socket keeps message boundaries (`SO_TYPE` is not stream).
pub fn keeps_boundaries(fd: BorrowedFd<'_>) -> bool {
    rustix::net::sockopt::socket_type(fd).is_ok_and(|t| t != rustix::net::SocketType::STREAM)
}

/// `MSG_NOSIGNAL` when asked (Linux).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn nosignal(_fd: BorrowedFd<'_>, on: bool) -> rustix::io::Result<rustix::net::SendFlags> {
    Ok(if on { rustix::net::SendFlags::NOSIGNAL } else { rustix::net::SendFlags::empty() })
}

/// macOS has no `MSG_NOSIGNAL`: `SO_NOSIGPIPE` is set on the socket for
/// the call instead (setsockopt(2)).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn nosignal(fd: BorrowedFd<'_>, on: bool) -> rustix::io::Result<rustix::net::SendFlags> {
    rustix::net::sockopt::set_socket_nosigpipe(fd, on)?;
    Ok(rustix::net::SendFlags::empty())
}

/// `sendto(fd, data, flags, NULL, 0)`: the C library's `sendto` with no
/// address (rustix's takes one).
#[cfg(any(feature = "c-library", not(any(target_os = "linux", target_os = "android"))))]
fn sendto_unaddressed(fd: BorrowedFd<'_>, data: &[u8], flags: rustix::net::SendFlags) -> rustix::io::Result<usize> {
    use std::os::fd::AsRawFd;
    // SAFETY: `data` is valid for reads of its length; no address is given.
    let n = unsafe {
        libc::sendto(fd.as_raw_fd(), data.as_ptr().cast(), data.len(), flags.bits() as i32, std::ptr::null(), 0)
    };
    match n {
        n if n >= 0 => Ok(n as usize),
        _ => Err(rustix::io::Errno::from_io_error(&io::Error::last_os_error()).unwrap_or(rustix::io::Errno::IO)),
    }
}

/// Raw system calls: rustix's `send` is the `sendto` system call with no
/// address (on the architectures that have no `send` system call).
#[cfg(all(not(feature = "c-library"), any(target_os = "linux", target_os = "android")))]
fn sendto_unaddressed(fd: BorrowedFd<'_>, data: &[u8], flags: rustix::net::SendFlags) -> rustix::io::Result<usize> {
    rustix::net::send(fd, data, flags)
}

/// The members of `all` that `entry_points` (catalogue names) name, in
/// `all`'s order: how a property learns which creators or interfaces a
/// rule covers on this platform.
pub fn named_among<T: Copy, S: AsRef<str>>(all: &[T], name: impl Fn(T) -> &'static str, entry_points: &[S]) -> Vec<T> {
    all.iter().copied().filter(|c| entry_points.iter().any(|e| e.as_ref() == name(*c))).collect()
}
