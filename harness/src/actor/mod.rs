//! The actor: a process of its own, forked by the fork server
//! ([`crate::os::forkserver`]) or started by exec, that performs one
//! operation at a time on the coordinator's word and answers with the
//! result. It holds only the descriptors it was handed or opened itself.

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

use crate::os::process::exit as code;
use crate::os::{self, errno_of};
use crate::pattern;
use crate::protocol::{self, Reply, Request};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd, RawFd};

/// The descriptor number of the control channel in every actor.
pub const CONTROL_FD: RawFd = 4;

/// Runs the actor loop until the coordinator closes the channel or asks the
/// actor to exit; never returns.
pub fn main() -> ! {
    os::process::apply_dumpable_knob();
    os::process::watch_lifeline();
    crate::progress::enable();
    // SAFETY: the coordinator placed the control channel at CONTROL_FD.
    let ctrl = unsafe { BorrowedFd::borrow_raw(CONTROL_FD) };
    let mut actor = Actor {
        slots: Vec::new(),
        buf: Vec::new(),
        watch: None,
        children: Vec::new(),
        families: Vec::new(),
        members: Vec::new(),
        segments: Vec::new(),
        maps: Vec::new(),
        sems: Vec::new(),
        checkpoint: None,
    };
    let mut ack = false;
    let hello = Reply::Hello { pid: std::process::id() as i32, tid: os::process::current_tid() };
    if protocol::send(ctrl, &hello, &[]).is_err() {
        exit(code::HELLO_UNSENT);
    }
    let mut rx = protocol::Receiver::new();
    loop {
        let mut fds = Vec::new();
        let request: Request = match rx.recv(ctrl, &mut fds) {
            Ok(Some(req)) => req,
            Ok(None) => exit(0),
            Err(e) => exit(crate::channel::actor_exit_for(&e)),
        };
        if let Request::AckOps(on) = request {
            ack = on;
            if protocol::send(ctrl, &Reply::Done, &[]).is_err() {
                exit(code::CONTROL_SEND);
            }
            continue;
        }
        if ack && request.may_block() && protocol::send(ctrl, &Reply::Started, &[]).is_err() {
            exit(code::CONTROL_SEND);
        }
        let reply = actor.perform(request, fds);
        if protocol::send(ctrl, &reply, &[]).is_err() {
            exit(code::CONTROL_SEND);
        }
    }
}

/// Tells the coordinator that the operation in flight is still making
/// progress (see [`crate::progress`]); an actor whose channel is gone exits.
pub fn report_progress(done: u64) {
    // SAFETY: the coordinator placed the control channel at CONTROL_FD.
    let ctrl = unsafe { BorrowedFd::borrow_raw(CONTROL_FD) };
    if protocol::send(ctrl, &Reply::Progress(done), &[]).is_err() {
        exit(code::CONTROL_SEND);
    }
}

fn exit(code: i32) -> ! {
    // SAFETY: _exit ends the process; nothing of ours needs flushing.
    unsafe { libc::_exit(code) }
}

/// An actor's state: the descriptors it holds, by slot, and a reusable
/// buffer. Mechanism modules perform their operations on it.
pub struct Actor {
    slots: Vec<Option<OwnedFd>>,
    /// A scratch buffer for building data to write.
    pub buf: Vec<u8>,
    /// A readiness registration that persists between asks.
    pub watch: Option<crate::os::ready::Watch>,
    /// The children this actor forked as a supervisor, in spawn order.
    pub children: Vec<crate::os::supervise::WaitingChild>,
    /// The children with a grandchild it forked, in spawn order.
    pub families: Vec<crate::os::supervise::Family>,
    /// The children it forked into process groups, in spawn order.
    pub members: Vec<crate::os::supervise::GroupMember>,
    /// Its System V shared-memory attachments, by number (`None` once
    /// detached).
    pub segments: Vec<Option<usize>>,
    /// Its mappings of memfds, in the order made.
    pub maps: Vec<crate::os::shm::Mapping>,
    /// The named semaphores it opened, in order.
    pub sems: Vec<crate::os::pshared::NamedSem>,
    /// The state [`Request::Restore`] puts back, once recorded.
    checkpoint: Option<os::reset::Checkpoint>,
}

impl Actor {
    /// Adds a descriptor in the next slot; returns (slot, descriptor number).
    pub fn push(&mut self, fd: OwnedFd) -> (u32, i32) {
        use std::os::fd::AsRawFd;
        let number = fd.as_raw_fd();
        self.slots.push(Some(fd));
        ((self.slots.len() - 1) as u32, number)
    }

    /// Takes the descriptor out of `slot` (the slot stays, empty).
    pub fn take(&mut self, slot: u32) -> Option<OwnedFd> {
        self.slots.get_mut(slot as usize).and_then(Option::take)
    }

    /// The descriptor in `slot`, or a refusal naming the slot.
    pub fn fd(&self, slot: u32) -> Result<BorrowedFd<'_>, Reply> {
        match self.slots.get(slot as usize) {
            Some(Some(fd)) => Ok(fd.as_fd()),
            _ => Err(Reply::Refused(format!("no descriptor in slot {slot}"))),
        }
    }

    /// Lets go of everything the actor holds (descriptors, mappings,
    /// attachments, semaphores, children) and puts the process back as
    /// its checkpoint recorded it.
    fn restore(&mut self) -> Reply {
        let Some(at) = &self.checkpoint else {
            return Reply::Refused("no checkpoint to restore".to_string());
        };
        // Counted before anything is let go of: dropping a waiting child
        // closes its go-ahead pipe, and it may then end and be reaped.
        let forked = self.children.len() + self.families.len() + self.members.len();
        self.slots.clear();
        self.watch = None;
        self.maps.clear();
        self.sems.clear();
        for addr in self.segments.drain(..).flatten() {
            // SAFETY: the attachment is this actor's; nothing uses it now.
            let _ = unsafe { os::sysv::shm_detach(addr) };
        }
        self.children.clear();
        self.families.clear();
        self.members.clear();
        let keep = [0, 1, 2, os::process::LIFELINE_FD, CONTROL_FD];
        let mut residues = os::reset::restore(at, &keep);
        if forked > 0 {
            residues.insert(0, format!("children it forked: {forked} (a reset does not end what a case started)"));
        }
        if residues.is_empty() {
            Reply::Done
        } else {
            Reply::Refused(format!("not reset: {}", residues.join("; ")))
        }
    }

    fn perform(&mut self, request: Request, fds: Vec<OwnedFd>) -> Reply {
        match self.try_perform(request, fds) {
            Ok(reply) | Err(reply) => reply,
        }
    }

    fn try_perform(&mut self, request: Request, fds: Vec<OwnedFd>) -> Result<Reply, Reply> {
        use std::os::fd::AsRawFd;
        Ok(match request {
            Request::Adopt => {
                let numbers = fds.iter().map(|fd| fd.as_raw_fd()).collect();
                self.slots.extend(fds.into_iter().map(Some));
                Reply::Adopted { fds: numbers }
            }
            Request::Write { len, .. } | Request::Read { max: len, .. }
                if u64::from(len) > crate::case::MAX_OP_BYTES =>
            {
                Reply::Refused(format!("an operation of {len} bytes; at most {}", crate::case::MAX_OP_BYTES))
            }
            Request::Write { slot, len, tag, start, call } => {
                pattern::fill(&mut self.buf, tag, start, len as usize);
                match os::io::write(self.fd(slot)?, &self.buf, call) {
                    Ok(n) => Reply::Count(n as u64),
                    Err(e) => Reply::Errno(errno_of(&e)),
                }
            }
            Request::Read { slot, max, call } => {
                let mut data = vec![0u8; max as usize];
                match os::io::read(self.fd(slot)?, &mut data, call) {
                    Ok(n) => {
                        data.truncate(n);
                        Reply::Data(data)
                    }
                    Err(e) => Reply::Errno(errno_of(&e)),
                }
            }
            Request::WriteWord { slot, value } => {
                match os::io::write(self.fd(slot)?, &value.to_ne_bytes(), os::entry::WriteCall::Write) {
                    Ok(n) => Reply::Count(n as u64),
                    Err(e) => Reply::Errno(errno_of(&e)),
                }
            }
            Request::Close { slot } => match self.take(slot) {
                Some(fd) => {
                    os::io::close(fd);
                    Reply::Done
                }
                None => Reply::Refused(format!("no descriptor in slot {slot}")),
            },
            Request::SetNonblock { slot, on } => match os::fd::set_nonblocking(self.fd(slot)?, on) {
                Ok(()) => Reply::Done,
                Err(e) => Reply::Errno(errno_of(&e)),
            },
            Request::Fill { slot, chunk, tag, start, call } => {
                let fd = self.fd(slot)?;
                let was = os::fd::is_nonblocking(fd).map_err(|e| Reply::Refused(e.to_string()))?;
                os::fd::set_nonblocking(fd, true).map_err(|e| Reply::Refused(e.to_string()))?;
                let result = os::pipe::fill_nonblocking(fd, chunk as usize, start, call, |pos| pattern::byte(tag, pos));
                os::fd::set_nonblocking(fd, was).map_err(|e| Reply::Refused(e.to_string()))?;
                match result {
                    Ok(total) => Reply::Filled { total, errno: None },
                    Err((total, errno)) => Reply::Filled { total, errno: Some(errno) },
                }
            }
            Request::SetSigpipe(disposition) => match os::signal::set_sigpipe(disposition) {
                Ok(()) => Reply::Done,
                Err(e) => Reply::Refused(format!("sigaction(SIGPIPE): {e}")),
            },
            Request::OpenFifo { path, write, nonblock } => {
                match os::pipe::open_fifo(std::path::Path::new(&path), write, nonblock) {
                    Ok(fd) => {
                        let (slot, fd) = self.push(fd);
                        Reply::Opened { slot, fd }
                    }
                    Err(e) => Reply::Errno(errno_of(&e)),
                }
            }
            Request::DropPrivileges { uid, gid } => match os::process::drop_privileges(uid, gid) {
                Ok(()) => Reply::Done,
                Err(e) => Reply::Errno(errno_of(&e)),
            },
            Request::Checkpoint => match os::reset::Checkpoint::now() {
                Ok(at) => {
                    self.checkpoint = Some(at);
                    Reply::Done
                }
                Err(e) => Reply::Refused(format!("recording a checkpoint: {e}")),
            },
            Request::Restore => self.restore(),
            Request::Socket(op) => return socket::perform(self, op),
            Request::File(op) => return file::perform(self, op),
            Request::Shm(op) => return shm::perform(self, op),
            Request::Ready(op) => return ready::perform(self, op),
            Request::Signal(op) => return signal::perform(self, op),
            Request::Process(op) => return process::perform(self, op),
            Request::Mqueue(op) => return mqueue::perform(self, op),
            Request::Sysv(op) => return sysv::perform(self, op),
            Request::Memfd(op) => return memfd::perform(self, op),
            Request::Pshared(op) => return pshared::perform(self, op),
            Request::AckOps(_) => Reply::Done,
            Request::Exit { code } => exit(code),
            Request::Pause => loop {
                // SAFETY: pause has no preconditions; it returns only when a
                // handled signal arrives, and then we wait again.
                unsafe { libc::pause() };
            },
        })
    }
}
