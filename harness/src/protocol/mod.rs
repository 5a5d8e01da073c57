//! The control channel between the coordinator and an actor: a unix stream
//! socket apart from every object under test, carrying length-prefixed
//! requests and replies (postcard), with descriptors attached as
//! `SCM_RIGHTS` when the coordinator hands objects over.

pub mod file;
pub mod memfd;
pub mod mqueue;
pub mod process;
pub mod pshared;
pub mod ready;
pub mod shm;
pub mod signal;
pub mod socket;
pub mod sysv;

use crate::os::entry::{ReadCall, WriteCall};
use crate::os::fd::send_with_fds;
use crate::os::signal::SigpipeDisposition;
use serde::{Deserialize, Serialize};
use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};

/// One operation the coordinator asks an actor to perform. Slots index the
/// descriptors the actor holds, in the order they were handed or opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// Take the descriptors attached to this message; reply [`Reply::Adopted`].
    Adopt,
    /// Write `len` bytes of the traceable pattern `tag`, stream positions
    /// from `start` (see [`crate::pattern`]), through `call` (`write(2)`
    /// or `writev(2)`).
    Write { slot: u32, len: u32, tag: u8, start: u64, call: WriteCall },
    /// Read at most `max` bytes through `call` (`read(2)` or `readv(2)`).
    Read { slot: u32, max: u32, call: ReadCall },
    /// `close(2)`.
    Close { slot: u32 },
    /// `write(2)` of `value` as 8 bytes in this machine's byte order (an
    /// eventfd's counter).
    WriteWord { slot: u32, value: u64 },
    /// Set or clear `O_NONBLOCK` on the open file description.
    SetNonblock { slot: u32, on: bool },
    /// Fill through a temporarily non-blocking descriptor until `EAGAIN`,
    /// writes of `chunk` bytes then of 1 byte; pattern as for `Write`.
    Fill { slot: u32, chunk: u32, tag: u8, start: u64, call: WriteCall },
    /// Set this process's `SIGPIPE` disposition.
    SetSigpipe(SigpipeDisposition),
    /// `open(2)` a FIFO; the new descriptor gets the next slot.
    OpenFifo { path: String, write: bool, nonblock: bool },
    /// `_exit(2)` with `code` at once, without replying.
    Exit { code: i32 },
    /// Wait for a signal forever (`pause(2)`): an operation that never
    /// returns, for the engine's own liveness tests.
    Pause,
    /// From now on, say [`Reply::Started`] before each operation that may
    /// block (see [`Request::may_block`]).
    AckOps(bool),
    /// Give up root: `setgroups([gid])`, `setgid(gid)`, `setuid(uid)`, so
    /// that permission checks apply to this actor (rules that need a second
    /// user).
    DropPrivileges { uid: u32, gid: u32 },
    /// Record this actor's state as the point to come back to
    /// ([`crate::os::reset::Checkpoint`]); reply `Done`. Only `bench`
    /// asks, to measure what reusing an actor would cost.
    Checkpoint,
    /// Put this actor back as the checkpoint recorded it, closing what it
    /// holds, and read it back ([`crate::os::reset::restore`]); reply
    /// `Done`, or `Refused` naming what it could not undo.
    Restore,
    /// A socket operation.
    Socket(socket::SocketOp),
    /// A file operation.
    File(file::FileOp),
    /// A shared-memory or process operation.
    Shm(shm::ShmOp),
    /// A readiness operation (only a wait blocks).
    Ready(ready::ReadyOp),
    /// A signal operation ([`crate::signal`]).
    Signal(signal::SignalOp),
    /// A supervisor's operation on its children.
    Process(process::ProcessOp),
    /// A message-queue operation.
    Mqueue(mqueue::MqOp),
    /// A System V IPC operation.
    Sysv(sysv::SysvOp),
    /// A sealed-memfd operation (none blocks).
    Memfd(memfd::MemfdOp),
    /// A process-shared mutex, condition variable or named semaphore
    /// operation.
    Pshared(pshared::PsharedOp),
}

impl Request {
    /// Whether the operation may block in the kernel (and so is worth an
    /// acknowledgement before it starts).
    pub fn may_block(&self) -> bool {
        matches!(
            self,
            Request::Write { .. }
                | Request::WriteWord { .. }
                | Request::Read { .. }
                | Request::Fill { .. }
                | Request::OpenFifo { .. }
                | Request::Pause
                | Request::Socket(_)
                | Request::File(_)
                | Request::Shm(_)
                | Request::Ready(ready::ReadyOp::Wait { .. })
                | Request::Mqueue(mqueue::MqOp::Send { .. } | mqueue::MqOp::Receive { .. })
                | Request::Sysv(_)
                | Request::Pshared(_)
                | Request::Process(process::ProcessOp::Reap { nohang: false, .. })
                | Request::Process(process::ProcessOp::PollPidfd { wait: true, .. })
                | Request::Process(process::ProcessOp::Stop { .. })
                | Request::Process(process::ProcessOp::Family(
                    process::FamilyOp::ReapChild { .. } | process::FamilyOp::ReapGrandchild { .. }
                ))
        )
    }
}

impl Request {
    /// The signals the host may raise in the actor while it performs this
    /// operation, as its documented outcome: `SIGPIPE` for a write or send
    /// (no reader left), `SIGBUS` for an access through a mapping whose
    /// pages are gone. A death by any other signal during it, or by these
    /// during anything else, is not the host's doing (see
    /// [`crate::session::Session`]).
    pub fn may_raise(&self) -> &'static [i32] {
        use shm::ShmOp;
        use socket::SocketOp;
        match self {
            Request::Write { .. } | Request::Fill { .. } => &[libc::SIGPIPE],
            Request::Socket(
                SocketOp::Send { .. } | SocketOp::SendTo { .. } | SocketOp::SendFd { .. } | SocketOp::Fill { .. },
            ) => &[libc::SIGPIPE],
            Request::File(file::FileOp::WriteVersion { .. } | file::FileOp::Append { .. }) => &[libc::SIGPIPE],
            Request::Shm(
                ShmOp::Store { .. }
                | ShmOp::Load { .. }
                | ShmOp::Hammer(_)
                | ShmOp::Publish(_)
                | ShmOp::Observe(_)
                | ShmOp::RingSend(_)
                | ShmOp::RingRecv(_)
                | ShmOp::WaitPosted { .. }
                | ShmOp::Post { .. }
                | ShmOp::ForkExchange { .. },
            ) => &[libc::SIGBUS],
            _ => &[],
        }
    }

    /// A one-line description for messages (at most 120 characters).
    pub fn summary(&self) -> String {
        let mut text = format!("{self:?}");
        if text.len() > 120 {
            let mut cut = 117;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push_str("...");
        }
        text
    }
}

/// What an actor answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    /// Sent once at start: who the actor is.
    Hello { pid: i32, tid: i64 },
    /// The actor is about to perform an operation that may block (sent only
    /// after [`Request::AckOps`]).
    Started,
    /// The operation in flight is still making progress (this many steps
    /// done): the coordinator's liveness deadline starts again
    /// ([`crate::progress`]).
    Progress(u64),
    /// The descriptor numbers the adopted descriptors got, in order.
    Adopted { fds: Vec<i32> },
    /// A byte count (write).
    Count(u64),
    /// The bytes read (empty: end of file, or a read of 0 bytes).
    Data(Vec<u8>),
    /// The call failed with this errno.
    Errno(i32),
    /// A fill ended: bytes accepted, and the errno that stopped it when it
    /// was not `EAGAIN`.
    Filled { total: u64, errno: Option<i32> },
    /// A descriptor was opened at `slot` with number `fd`.
    Opened { slot: u32, fd: i32 },
    /// The operation completed with nothing to report.
    Done,
    /// Numbers an operation reports (a port, an offset, a uid, ...).
    Values(Vec<i64>),
    /// A message received, and whether the kernel said it was truncated
    /// (`MSG_TRUNC` in the returned flags; known only from `recvmsg(2)`).
    Received { data: Vec<u8>, truncated: Option<bool> },
    /// A message taken from a message queue, and its priority.
    Message { data: Vec<u8>, prio: u32 },
    /// A System V message taken from its queue: its type and text.
    Typed { mtype: i64, data: Vec<u8> },
    /// The actor could not perform the request (a harness bug, not an
    /// outcome of the system under test).
    Refused(String),
}

/// Largest frame accepted, so that a corrupt length cannot exhaust memory.
const MAX_FRAME: usize = 64 << 20;

/// Sends one message with descriptors attached: one `sendmsg(2)` of the
/// whole frame where the socket takes it, built in a buffer this thread
/// reuses (no allocation per frame once it has grown).
pub fn send<T: Serialize>(sock: BorrowedFd<'_>, msg: &T, fds: &[BorrowedFd<'_>]) -> io::Result<()> {
    thread_local! {
        static FRAME: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    FRAME.with(|cell| {
        // A send from inside a send (a signal handler, say) builds in a
        // buffer of its own rather than panicking.
        let mut kept = cell.try_borrow_mut().ok();
        let mut frame = kept.as_deref_mut().map(std::mem::take).unwrap_or_default();
        frame.clear();
        frame.extend_from_slice(&[0; 4]);
        let mut frame = postcard::to_extend(msg, frame).map_err(io::Error::other)?;
        let len = (frame.len() - 4) as u32;
        frame[..4].copy_from_slice(&len.to_le_bytes());
        let sent = send_with_fds(sock, &frame, fds);
        if let Some(k) = kept.as_deref_mut() {
            *k = frame;
        }
        sent
    })
}

/// The receiving side of a control channel: frames are read into a buffer
/// it keeps, as many bytes as the socket holds in one `recvmsg(2)`, so a
/// frame costs one system call (none when it came with the one before),
/// and the control-message space is allocated once.
///
/// A frame read ahead is no longer visible to `poll(2)` on the socket:
/// whoever polls asks [`Receiver::has_frame`] first. Descriptors travel
/// only with requests, which a coordinator sends one at a time, so the
/// descriptors a read collects belong to the one frame they came with.
pub struct Receiver {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    space: Vec<u8>,
}

/// The buffer a receiver starts with, one page; a larger frame grows it.
/// Each actor starts a receiver, and a page it never touches is a page
/// fault it never takes (64 KiB before: 12 % more page faults in a run of
/// pipe.stream.order, `perf stat -e page-faults`).
const RECEIVE_BUFFER: usize = 4 << 10;

impl Default for Receiver {
    fn default() -> Self {
        Receiver::new()
    }
}

impl Receiver {
    /// An empty receiver.
    pub fn new() -> Receiver {
        Receiver { buf: vec![0; RECEIVE_BUFFER], start: 0, end: 0, space: crate::os::fd::control_space() }
    }

    /// The whole next frame's length, if its header is buffered.
    fn next_len(&self) -> Option<usize> {
        let h = self.buf.get(self.start..self.start + 4).filter(|_| self.end - self.start >= 4)?;
        Some(u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize)
    }

    /// Whether a whole frame is buffered (a `poll(2)` of the socket would
    /// not show it).
    pub fn has_frame(&self) -> bool {
        self.next_len().is_some_and(|len| self.end - self.start >= 4 + len)
    }

    /// Receives one message and the descriptors attached to it. `Ok(None)`
    /// at a clean end of stream (the peer closed or died between messages).
    pub fn recv<T: for<'de> Deserialize<'de>>(
        &mut self,
        sock: BorrowedFd<'_>,
        fds: &mut Vec<OwnedFd>,
    ) -> io::Result<Option<T>> {
        loop {
            if let Some(len) = self.next_len() {
                if len > MAX_FRAME {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, format!("control frame of {len} bytes")));
                }
                if self.end - self.start >= 4 + len {
                    let body = &self.buf[self.start + 4..self.start + 4 + len];
                    let msg = decode_body(body, len);
                    self.start += 4 + len;
                    if self.start == self.end {
                        (self.start, self.end) = (0, 0);
                    }
                    return msg.map(Some);
                }
                if self.buf.len() < 4 + len {
                    self.buf.resize(4 + len, 0);
                }
            }
            if self.end == self.buf.len() || (self.start > 0 && self.buf.len() - self.start < RECEIVE_BUFFER / 4) {
                self.buf.copy_within(self.start..self.end, 0);
                (self.start, self.end) = (0, self.end - self.start);
            }
            let n = crate::os::fd::recv_with_fds_into(sock, &mut self.buf[self.end..], fds, &mut self.space)?;
            if n == 0 {
                return if self.start == self.end { Ok(None) } else { Err(io::ErrorKind::UnexpectedEof.into()) };
            }
            self.end += n;
        }
    }
}

/// One frame's message: the whole body and nothing after it.
fn decode_body<T: for<'de> Deserialize<'de>>(body: &[u8], len: usize) -> io::Result<T> {
    // The whole frame is one message: trailing bytes are as corrupt as
    // missing ones.
    match postcard::take_from_bytes(body) {
        Ok((msg, [])) => Ok(msg),
        Ok((_, rest)) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a control frame of {len} bytes with {} bytes after its message", rest.len()),
        )),
        Err(e) => Err(io::Error::new(io::ErrorKind::InvalidData, e)),
    }
}
