//! Close-on-exec by every interface that sets it (`process.fd.inherited`):
//! a descriptor made close-on-exec at creation (`O_CLOEXEC`,
//! `SOCK_CLOEXEC`, `pipe2`, `dup3`, `F_DUPFD_CLOEXEC`, `MSG_CMSG_CLOEXEC`,
//! `MFD_CLOEXEC`) or afterwards (`fcntl(F_SETFD, FD_CLOEXEC)`), and the
//! flag cleared again (`fcntl(F_SETFD, 0)`).
//!
//! The caller holds the fork permit ([`super::process::quiet_forks`])
//! while a descriptor made here may lack close-on-exec (made without it
//! first, or cleared), so that no other thread's spawn inherits it.
//!
//! # References
//! - [open(2)](https://man7.org/linux/man-pages/man2/open.2.html) `O_CLOEXEC`;
//!   [socket(2)](https://man7.org/linux/man-pages/man2/socket.2.html) `SOCK_CLOEXEC`;
//!   [pipe2(2)](https://man7.org/linux/man-pages/man2/pipe2.2.html);
//!   [accept4(2)](https://man7.org/linux/man-pages/man2/accept4.2.html);
//!   [dup3(2)](https://man7.org/linux/man-pages/man2/dup3.2.html);
//!   [fcntl(2)](https://man7.org/linux/man-pages/man2/fcntl.2.html) `F_DUPFD_CLOEXEC`, `F_SETFD`;
//!   [recvmsg(2)](https://man7.org/linux/man-pages/man2/recvmsg.2.html) `MSG_CMSG_CLOEXEC`;
//!   [memfd_create(2)](https://man7.org/linux/man-pages/man2/memfd_create.2.html) `MFD_CLOEXEC`
//! - POSIX.1-2017 XSH open(), socket(), fcntl(), dup3() (Issue 8); macOS
//!   has `O_CLOEXEC` and `F_DUPFD_CLOEXEC` but none of the others.

use super::deviant::{for_objects, Deviation};
use serde::{Deserialize, Serialize};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

/// An interface that makes a descriptor close-on-exec. The names are the
/// catalogue's entry points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CloexecBy {
    /// `open(path, O_CLOEXEC)`.
    Open,
    /// `openat(dirfd, name, O_CLOEXEC)`.
    Openat,
    /// `open` without the flag, then `fcntl(F_SETFD, FD_CLOEXEC)`.
    FcntlSetfd,
    /// `fcntl(fd, F_DUPFD_CLOEXEC, 0)`.
    FcntlDupfdCloexec,
    /// `dup3(fd, new, O_CLOEXEC)` over a fresh descriptor of ours.
    Dup3,
    /// `pipe2(O_CLOEXEC)` (its read end).
    Pipe2,
    /// `socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC)`.
    Socket,
    /// `socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC)` (one end).
    Socketpair,
    /// `accept4(SOCK_CLOEXEC)` of a unix connection.
    Accept4,
    /// A descriptor received with `recvmsg(MSG_CMSG_CLOEXEC)`.
    RecvmsgCmsgCloexec,
    /// `memfd_create(MFD_CLOEXEC)`.
    MemfdCreate,
}

impl CloexecBy {
    /// Every interface.
    pub const ALL: &'static [CloexecBy] = &[
        CloexecBy::Open,
        CloexecBy::Openat,
        CloexecBy::FcntlSetfd,
        CloexecBy::FcntlDupfdCloexec,
        CloexecBy::Dup3,
        CloexecBy::Pipe2,
        CloexecBy::Socket,
        CloexecBy::Socketpair,
        CloexecBy::Accept4,
        CloexecBy::RecvmsgCmsgCloexec,
        CloexecBy::MemfdCreate,
    ];

    /// The entry point clearing the flag again counts as.
    pub const CLEARED: &'static str = "fcntl-setfd-clear";

    /// Its name in the catalogue's `entry_points`.
    pub fn name(self) -> &'static str {
        match self {
            CloexecBy::Open => "open",
            CloexecBy::Openat => "openat",
            CloexecBy::FcntlSetfd => "fcntl-setfd",
            CloexecBy::FcntlDupfdCloexec => "fcntl-dupfd-cloexec",
            CloexecBy::Dup3 => "dup3",
            CloexecBy::Pipe2 => "pipe2",
            CloexecBy::Socket => "socket",
            CloexecBy::Socketpair => "socketpair",
            CloexecBy::Accept4 => "accept4",
            CloexecBy::RecvmsgCmsgCloexec => "recvmsg-cmsg-cloexec",
            CloexecBy::MemfdCreate => "memfd-create",
        }
    }

    /// The interfaces among `entry_points` (names), in [`CloexecBy::ALL`]'s order.
    pub fn among<S: AsRef<str>>(entry_points: &[S]) -> Vec<CloexecBy> {
        super::entry::named_among(CloexecBy::ALL, CloexecBy::name, entry_points)
    }

    /// The deviation that makes this interface forget the flag.
    fn forgotten_by(self) -> Deviation {
        match self {
            CloexecBy::Open | CloexecBy::Openat => Deviation::OCloexecIgnored,
            CloexecBy::FcntlSetfd => Deviation::SetfdIgnored,
            CloexecBy::FcntlDupfdCloexec | CloexecBy::Dup3 => Deviation::DupCloexecIgnored,
            CloexecBy::Pipe2 => Deviation::Pipe2IgnoresCloexec,
            CloexecBy::Socket | CloexecBy::Socketpair | CloexecBy::Accept4 => Deviation::SockCloexecIgnored,
            CloexecBy::RecvmsgCmsgCloexec => Deviation::CmsgCloexecIgnored,
            CloexecBy::MemfdCreate => Deviation::MfdCloexecIgnored,
        }
    }
}

/// A descriptor made close-on-exec through `by`: of the file at `file` for
/// the interfaces that open or duplicate one, else of the object `by`
/// creates (a pipe, a socket, a memfd); `dir` holds any socket name
/// needed, removed by the caller. `Unsupported` where the platform lacks
/// the interface.
pub fn make(by: CloexecBy, file: &Path, dir: &Path) -> io::Result<OwnedFd> {
    use rustix::fs::{Mode, OFlags};
    let open = |flags: OFlags| rustix::fs::open(file, flags | OFlags::RDONLY, Mode::empty()).map_err(io::Error::from);
    let fd = match by {
        CloexecBy::Open => open(OFlags::CLOEXEC)?,
        CloexecBy::Openat => {
            let parent = file.parent().unwrap_or(Path::new("."));
            let name = file.file_name().unwrap_or_default();
            let dirfd = rustix::fs::open(parent, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
            rustix::fs::openat(&dirfd, name, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?
        }
        CloexecBy::FcntlSetfd => {
            let fd = open(OFlags::empty())?;
            if !for_objects(Deviation::SetfdIgnored) {
                super::fd::set_cloexec(fd.as_fd(), true)?;
            }
            return Ok(fd);
        }
        CloexecBy::FcntlDupfdCloexec => rustix::io::fcntl_dupfd_cloexec(open(OFlags::CLOEXEC)?, 0)?,
        CloexecBy::Dup3 => dup3_cloexec(&open(OFlags::CLOEXEC)?)?,
        CloexecBy::Pipe2 => super::pipe::pipe2(false)?.0,
        CloexecBy::Socket => sock_cloexec(false, dir)?,
        CloexecBy::Socketpair => sock_cloexec(true, dir)?,
        CloexecBy::Accept4 => accept4_cloexec(dir)?,
        CloexecBy::RecvmsgCmsgCloexec => received_cloexec(&open(OFlags::CLOEXEC)?)?,
        CloexecBy::MemfdCreate => memfd_cloexec()?,
    };
    if for_objects(by.forgotten_by()) {
        super::fd::set_cloexec(fd.as_fd(), false)?;
    }
    Ok(fd)
}

/// Clears close-on-exec again (`fcntl(F_SETFD, 0)`).
pub fn clear(fd: &OwnedFd) -> io::Result<()> {
    if for_objects(Deviation::ClearIgnored) {
        return Ok(());
    }
    super::fd::set_cloexec(fd.as_fd(), false)
}

/// Whether `fd` has close-on-exec (`fcntl(F_GETFD)`).
pub fn is_set(fd: &OwnedFd) -> io::Result<bool> {
    Ok(rustix::io::fcntl_getfd(fd)?.contains(rustix::io::FdFlags::CLOEXEC))
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn dup3_cloexec(of: &OwnedFd) -> io::Result<OwnedFd> {
    // A fresh number of ours (F_DUPFD, no flag), then dup3 over it.
    let mut new = rustix::io::fcntl_dupfd_cloexec(of, 0)?;
    super::fd::set_cloexec(new.as_fd(), false)?;
    rustix::io::dup3(of, &mut new, rustix::io::DupFlags::CLOEXEC)?;
    Ok(new)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn sock_cloexec(pair: bool, _dir: &Path) -> io::Result<OwnedFd> {
    use rustix::net::{AddressFamily, SocketFlags, SocketType};
    Ok(match pair {
        true => rustix::net::socketpair(AddressFamily::UNIX, SocketType::STREAM, SocketFlags::CLOEXEC, None)?.0,
        false => rustix::net::socket_with(AddressFamily::UNIX, SocketType::STREAM, SocketFlags::CLOEXEC, None)?,
    })
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn accept4_cloexec(dir: &Path) -> io::Result<OwnedFd> {
    let path = dir.join("accept4.sock");
    let listener = super::socket::listen_unix(&path, 1)?;
    let _client = super::socket::connect_unix(&path)?;
    let accepted = rustix::net::accept_with(&listener, rustix::net::SocketFlags::CLOEXEC)?;
    let _ = std::fs::remove_file(&path);
    Ok(accepted)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn received_cloexec(file: &OwnedFd) -> io::Result<OwnedFd> {
    use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};
    let (a, b) = super::fd::control_pair()?;
    super::fd::send_with_fds(a.as_fd(), b"f", &[file.as_fd()])?;
    let mut space = [std::mem::MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let mut byte = [0u8; 1];
    rustix::net::recvmsg(&b, &mut [io::IoSliceMut::new(&mut byte)], &mut control, RecvFlags::CMSG_CLOEXEC)?;
    let received = control.drain().find_map(|m| match m {
        RecvAncillaryMessage::ScmRights(mut fds) => fds.next(),
        _ => None,
    });
    received.ok_or_else(|| io::Error::other("recvmsg(MSG_CMSG_CLOEXEC) received no descriptor"))
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn memfd_cloexec() -> io::Result<OwnedFd> {
    Ok(rustix::fs::memfd_create("ipc-conform-cloexec", rustix::fs::MemfdFlags::CLOEXEC)?)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn lacking(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, format!("{what} does not exist on this platform"))
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn dup3_cloexec(_of: &OwnedFd) -> io::Result<OwnedFd> {
    Err(lacking("dup3(2)"))
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn sock_cloexec(_pair: bool, _dir: &Path) -> io::Result<OwnedFd> {
    Err(lacking("SOCK_CLOEXEC"))
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn accept4_cloexec(_dir: &Path) -> io::Result<OwnedFd> {
    Err(lacking("accept4(2)"))
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn received_cloexec(_file: &OwnedFd) -> io::Result<OwnedFd> {
    Err(lacking("MSG_CMSG_CLOEXEC"))
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn memfd_cloexec() -> io::Result<OwnedFd> {
    Err(lacking("memfd_create(2)"))
}
