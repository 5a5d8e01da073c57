//! POSIX message queues: `mq_open(3)`, `mq_send(3)`, `mq_receive(3)`,
//! `mq_unlink(3)`, `mq_close(3)`, `mq_getattr(3)` (Linux). On Linux a
//! message-queue descriptor is a file descriptor (mq_overview(7)), held
//! here as an [`OwnedFd`]; every one is opened close-on-exec. Calls go
//! through the C library by default, and as the raw system calls
//! (`mq_open`, `mq_timedsend`, `mq_timedreceive`, `mq_unlink`,
//! `mq_getsetattr`) without the `c-library` feature. macOS has no message
//! queues: every call fails with `ENOSYS` there (the catalogue says the
//! rules do not apply).
//!
//! # References
//! - POSIX.1-2017 XSH `mq_open()`, `mq_send()`, `mq_receive()`,
//!   `mq_unlink()`, `mq_close()`, `mq_getattr()`.
//! - mq_overview(7), mq_open(3), mq_send(3), mq_receive(3), mq_unlink(3)
//!   (Linux).

use super::deviant::{self, Deviation};
use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};

/// A queue's attributes at creation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attr {
    /// `mq_maxmsg`: the messages it holds at most.
    pub maxmsg: u32,
    /// `mq_msgsize`: the longest message.
    pub msgsize: u32,
}

/// What `mq_getattr` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct State {
    /// `mq_maxmsg`.
    pub maxmsg: u64,
    /// `mq_msgsize`.
    pub msgsize: u64,
    /// `mq_curmsgs`: the messages queued now.
    pub curmsgs: u64,
}

/// `mq_open(name, O_RDWR | O_CLOEXEC | [O_NONBLOCK] | [O_CREAT | O_EXCL],
/// 0600, attr)`: with `create`, makes a new queue of those attributes
/// (`EEXIST` if the name exists); without, opens the queue of that name
/// (`ENOENT` if there is none). `name` starts with a slash.
pub fn open(name: &str, create: Option<Attr>, nonblock: bool) -> io::Result<OwnedFd> {
    let name = std::ffi::CString::new(name).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    backend::open(&name, create, nonblock)
}

/// `mq_send(fd, data, prio)`.
pub fn send(fd: BorrowedFd<'_>, data: &[u8], prio: u32) -> io::Result<()> {
    let mut data = data;
    let mut prio = prio;
    match deviant::active() {
        Some(Deviation::MqPriorityIgnored) => prio = 0,
        Some(Deviation::MqFullSendDropped) if backend::state(fd).is_ok_and(|s| s.curmsgs >= s.maxmsg) => {
            return Ok(());
        }
        Some(Deviation::MqOversizeTruncated) => {
            if let Ok(s) = backend::state(fd) {
                data = &data[..data.len().min(s.msgsize as usize)];
            }
        }
        _ => {}
    }
    backend::send(fd, data, prio)
}

/// `mq_receive(fd, buf, buf.len(), &prio)`: the message's length and
/// priority.
pub fn receive(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<(usize, u32)> {
    if deviant::is(Deviation::MqEmptyReceiveFails) && backend::state(fd).is_ok_and(|s| s.curmsgs == 0) {
        return Err(io::Error::from_raw_os_error(libc::EAGAIN));
    }
    backend::receive(fd, buf)
}

/// `mq_unlink(name)`.
pub fn unlink(name: &str) -> io::Result<()> {
    if deviant::is(Deviation::MqUnlinkKeepsName) {
        return Ok(());
    }
    remove(name)
}

/// `mq_unlink(name)`, never deviant: the harness's own clean-up.
fn remove(name: &str) -> io::Result<()> {
    let name = std::ffi::CString::new(name).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    backend::unlink(&name)
}

/// `mq_close(fd)`.
pub fn close(fd: OwnedFd) -> io::Result<()> {
    backend::close(fd)
}

/// `mq_getattr(fd)`.
pub fn state(fd: BorrowedFd<'_>) -> io::Result<State> {
    backend::state(fd)
}

/// Removes the queue of `name` if there is one (the harness's clean-up;
/// a missing name is no error).
pub fn remove_name(name: &str) {
    let _ = remove(name);
}

/// Whether a queue of `name` exists (an open without `O_CREAT` finds it;
/// any answer but `ENOENT` counts as present, so that a leak check never
/// misses one it could not open).
pub fn name_present(name: &str) -> bool {
    match open(name, None, true) {
        Ok(fd) => {
            let _ = close(fd);
            true
        }
        Err(e) => !matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOSYS)),
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod backend {
    use super::{Attr, State};
    use std::ffi::CStr;
    use std::io;
    use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

    fn flags(create: Option<Attr>, nonblock: bool) -> libc::c_int {
        let mut flags = libc::O_RDWR | libc::O_CLOEXEC;
        if nonblock {
            flags |= libc::O_NONBLOCK;
        }
        if create.is_some() {
            flags |= libc::O_CREAT | libc::O_EXCL;
        }
        flags
    }

    fn attr_of(a: Attr) -> libc::mq_attr {
        // SAFETY: mq_attr is plain integers; all zero is a valid value.
        let mut attr: libc::mq_attr = unsafe { std::mem::zeroed() };
        attr.mq_maxmsg = a.maxmsg.into();
        attr.mq_msgsize = a.msgsize.into();
        attr
    }

    fn ok(r: libc::c_long) -> io::Result<libc::c_long> {
        if r < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(r)
        }
    }

    #[cfg(feature = "c-library")]
    pub fn open(name: &CStr, create: Option<Attr>, nonblock: bool) -> io::Result<OwnedFd> {
        let attr = create.map(attr_of);
        let attr_ptr = attr.as_ref().map_or(std::ptr::null(), |a| a as *const libc::mq_attr);
        // SAFETY: `name` is NUL-terminated; `attr_ptr` is null or points to
        // an mq_attr that outlives the call; mode and attr are read only
        // with O_CREAT.
        let fd = unsafe { libc::mq_open(name.as_ptr(), flags(create, nonblock), 0o600 as libc::mode_t, attr_ptr) };
        let fd = ok(fd.into())? as i32;
        // SAFETY: mq_open returned a new descriptor that nothing else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// The raw system call takes the name without its leading slash (as
    /// the C library passes it).
    /// The name as the system calls take it: without its leading slash.
    #[cfg(not(feature = "c-library"))]
    fn bare(name: &CStr) -> &CStr {
        let bytes = name.to_bytes_with_nul();
        // A suffix of a NUL-terminated string without inner NULs is one too.
        CStr::from_bytes_with_nul(bytes.strip_prefix(b"/").unwrap_or(bytes)).unwrap_or(name)
    }

    #[cfg(not(feature = "c-library"))]
    pub fn open(name: &CStr, create: Option<Attr>, nonblock: bool) -> io::Result<OwnedFd> {
        let bare = bare(name);
        let attr = create.map(attr_of);
        let attr_ptr = attr.as_ref().map_or(std::ptr::null(), |a| a as *const libc::mq_attr);
        // SAFETY: as for the C library's mq_open.
        let fd = unsafe {
            libc::syscall(libc::SYS_mq_open, bare.as_ptr(), flags(create, nonblock), 0o600 as libc::mode_t, attr_ptr)
        };
        let fd = ok(fd)? as i32;
        // SAFETY: the system call returned a new descriptor nothing owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    #[cfg(feature = "c-library")]
    pub fn send(fd: BorrowedFd<'_>, data: &[u8], prio: u32) -> io::Result<()> {
        // SAFETY: `data` is valid for reads of its length.
        let r = unsafe { libc::mq_send(fd.as_raw_fd(), data.as_ptr().cast(), data.len(), prio) };
        ok(r.into()).map(drop)
    }

    #[cfg(not(feature = "c-library"))]
    pub fn send(fd: BorrowedFd<'_>, data: &[u8], prio: u32) -> io::Result<()> {
        let none: *const libc::timespec = std::ptr::null();
        // SAFETY: `data` is valid for reads of its length; no timeout.
        let r = unsafe {
            libc::syscall(libc::SYS_mq_timedsend, fd.as_raw_fd(), data.as_ptr(), data.len(), prio as libc::c_uint, none)
        };
        ok(r).map(drop)
    }

    #[cfg(feature = "c-library")]
    pub fn receive(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<(usize, u32)> {
        let mut prio: libc::c_uint = 0;
        // SAFETY: `buf` is valid for writes of its length; `prio` outlives the call.
        let n = unsafe { libc::mq_receive(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), &mut prio) };
        Ok((ok(n as libc::c_long)? as usize, prio))
    }

    #[cfg(not(feature = "c-library"))]
    pub fn receive(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<(usize, u32)> {
        let mut prio: libc::c_uint = 0;
        let none: *const libc::timespec = std::ptr::null();
        // SAFETY: as for the C library's mq_receive; no timeout.
        let n = unsafe {
            libc::syscall(
                libc::SYS_mq_timedreceive,
                fd.as_raw_fd(),
                buf.as_mut_ptr(),
                buf.len(),
                &mut prio as *mut libc::c_uint,
                none,
            )
        };
        Ok((ok(n)? as usize, prio))
    }

    #[cfg(feature = "c-library")]
    pub fn unlink(name: &CStr) -> io::Result<()> {
        // SAFETY: `name` is NUL-terminated.
        ok(unsafe { libc::mq_unlink(name.as_ptr()) }.into()).map(drop)
    }

    #[cfg(not(feature = "c-library"))]
    pub fn unlink(name: &CStr) -> io::Result<()> {
        let bare = bare(name);
        // SAFETY: `bare` is NUL-terminated.
        ok(unsafe { libc::syscall(libc::SYS_mq_unlink, bare.as_ptr()) }).map(drop)
    }

    #[cfg(feature = "c-library")]
    pub fn close(fd: OwnedFd) -> io::Result<()> {
        use std::os::fd::IntoRawFd;
        // SAFETY: the descriptor is ours, given up to mq_close here.
        ok(unsafe { libc::mq_close(fd.into_raw_fd()) }.into()).map(drop)
    }

    /// A message-queue descriptor is closed by close(2) (the C library's
    /// mq_close is that system call).
    #[cfg(not(feature = "c-library"))]
    pub fn close(fd: OwnedFd) -> io::Result<()> {
        drop(fd);
        Ok(())
    }

    #[cfg(feature = "c-library")]
    pub fn state(fd: BorrowedFd<'_>) -> io::Result<State> {
        // SAFETY: mq_attr is plain integers; all zero is a valid value.
        let mut attr: libc::mq_attr = unsafe { std::mem::zeroed() };
        // SAFETY: `attr` outlives the call.
        ok(unsafe { libc::mq_getattr(fd.as_raw_fd(), &mut attr) }.into())?;
        Ok(state_of(&attr))
    }

    #[cfg(not(feature = "c-library"))]
    pub fn state(fd: BorrowedFd<'_>) -> io::Result<State> {
        // SAFETY: mq_attr is plain integers; all zero is a valid value.
        let mut attr: libc::mq_attr = unsafe { std::mem::zeroed() };
        let none: *const libc::mq_attr = std::ptr::null();
        // SAFETY: `attr` outlives the call; nothing is set.
        ok(unsafe { libc::syscall(libc::SYS_mq_getsetattr, fd.as_raw_fd(), none, &mut attr as *mut libc::mq_attr) })?;
        Ok(state_of(&attr))
    }

    fn state_of(attr: &libc::mq_attr) -> State {
        State {
            maxmsg: attr.mq_maxmsg.max(0) as u64,
            msgsize: attr.mq_msgsize.max(0) as u64,
            curmsgs: attr.mq_curmsgs.max(0) as u64,
        }
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod backend {
    use super::{Attr, State};
    use std::ffi::CStr;
    use std::io;
    use std::os::fd::{BorrowedFd, OwnedFd};

    fn none<T>() -> io::Result<T> {
        Err(io::Error::from_raw_os_error(libc::ENOSYS))
    }

    pub fn open(_name: &CStr, _create: Option<Attr>, _nonblock: bool) -> io::Result<OwnedFd> {
        none()
    }

    pub fn send(_fd: BorrowedFd<'_>, _data: &[u8], _prio: u32) -> io::Result<()> {
        none()
    }

    pub fn receive(_fd: BorrowedFd<'_>, _buf: &mut [u8]) -> io::Result<(usize, u32)> {
        none()
    }

    pub fn unlink(_name: &CStr) -> io::Result<()> {
        none()
    }

    pub fn close(fd: OwnedFd) -> io::Result<()> {
        drop(fd);
        none()
    }

    pub fn state(_fd: BorrowedFd<'_>) -> io::Result<State> {
        none()
    }
}
