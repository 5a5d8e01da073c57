//! Descriptor flags and descriptor passing: `fcntl(2)` (`F_GETFL`,
//! `F_SETFL`, `F_SETFD`) and `SCM_RIGHTS` over unix sockets (unix(7),
//! `sendmsg(2)`, `recvmsg(2)`).

use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Sets or clears `O_NONBLOCK` on the open file description (shared by every
/// descriptor that refers to it, in every process).
pub fn set_nonblocking(fd: BorrowedFd<'_>, on: bool) -> io::Result<()> {
    use rustix::fs::OFlags;
    if on && super::deviant::for_objects(super::deviant::Deviation::SetflNonblockIgnored) {
        return Ok(());
    }
    let mut flags = rustix::fs::fcntl_getfl(fd)?;
    flags.set(OFlags::NONBLOCK, on);
    rustix::fs::fcntl_setfl(fd, flags)?;
    Ok(())
}

/// Whether `O_NONBLOCK` is set on the open file description.
pub fn is_nonblocking(fd: BorrowedFd<'_>) -> io::Result<bool> {
    Ok(rustix::fs::fcntl_getfl(fd)?.contains(rustix::fs::OFlags::NONBLOCK))
}

/// Sets or clears close-on-exec (`FD_CLOEXEC`) on one descriptor.
pub fn set_cloexec(fd: BorrowedFd<'_>, on: bool) -> io::Result<()> {
    let mut flags = rustix::io::fcntl_getfd(fd)?;
    flags.set(rustix::io::FdFlags::CLOEXEC, on);
    rustix::io::fcntl_setfd(fd, flags)?;
    Ok(())
}

/// Most descriptors one control message carries.
pub const MAX_FDS: usize = 16;

/// `sendmsg(2)` of `bytes` with `fds` attached as `SCM_RIGHTS`. Sends every
/// byte (the descriptors travel with the first chunk).
pub fn send_with_fds(sock: BorrowedFd<'_>, bytes: &[u8], fds: &[BorrowedFd<'_>]) -> io::Result<()> {
    use nix::sys::socket::{sendmsg, ControlMessage};
    let raw: Vec<RawFd> = fds.iter().map(|fd| fd.as_raw_fd()).collect();
    let mut sent = 0;
    while sent < bytes.len() {
        let cmsgs: Vec<ControlMessage<'_>> =
            if sent == 0 && !raw.is_empty() { vec![ControlMessage::ScmRights(&raw)] } else { Vec::new() };
        let iov = [IoSlice::new(&bytes[sent..])];
        match sendmsg::<()>(sock.as_raw_fd(), &iov, &cmsgs, send_flags(), None) {
            Ok(n) => sent += n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn send_flags() -> nix::sys::socket::MsgFlags {
    // The control channel must never raise SIGPIPE in the coordinator.
    nix::sys::socket::MsgFlags::MSG_NOSIGNAL
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn send_flags() -> nix::sys::socket::MsgFlags {
    nix::sys::socket::MsgFlags::empty()
}

/// `recvmsg(2)` into `buf`, collecting any `SCM_RIGHTS` descriptors (made
/// close-on-exec). Returns the byte count (0 at end of stream).
pub fn recv_with_fds(sock: BorrowedFd<'_>, buf: &mut [u8], fds: &mut Vec<OwnedFd>) -> io::Result<usize> {
    recv_with_fds_into(sock, buf, fds, &mut control_space())
}

/// Control-message space for [`MAX_FDS`] descriptors, for
/// [`recv_with_fds_into`].
pub fn control_space() -> Vec<u8> {
    nix::cmsg_space!([RawFd; MAX_FDS])
}

/// [`recv_with_fds`] with control-message space the caller keeps
/// ([`control_space`]), so that a receive allocates nothing.
pub fn recv_with_fds_into(
    sock: BorrowedFd<'_>,
    buf: &mut [u8],
    fds: &mut Vec<OwnedFd>,
    space: &mut Vec<u8>,
) -> io::Result<usize> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned};
    if super::deviant::recv_would_refuse(sock, false) {
        return Err(io::Error::from_raw_os_error(libc::EAGAIN));
    }
    let loses = super::deviant::is(super::deviant::Deviation::RecvmsgLosesDescriptors);
    loop {
        let mut iov = [IoSliceMut::new(buf)];
        let msg = match recvmsg::<()>(sock.as_raw_fd(), &mut iov, Some(&mut *space), recv_flags()) {
            Ok(msg) => msg,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        };
        let n = msg.bytes;
        for cmsg in msg.cmsgs().map_err(io::Error::from)? {
            if let ControlMessageOwned::ScmRights(received) = cmsg {
                for raw in received {
                    // SAFETY: the kernel just installed `raw` in this process
                    // for us; nothing else owns it.
                    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
                    set_cloexec_if_needed(&fd)?;
                    if !loses {
                        fds.push(fd);
                    }
                }
            }
        }
        return Ok(n);
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn recv_flags() -> nix::sys::socket::MsgFlags {
    nix::sys::socket::MsgFlags::MSG_CMSG_CLOEXEC
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn recv_flags() -> nix::sys::socket::MsgFlags {
    nix::sys::socket::MsgFlags::empty()
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn set_cloexec_if_needed(_fd: &OwnedFd) -> io::Result<()> {
    Ok(()) // MSG_CMSG_CLOEXEC did it atomically
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn set_cloexec_if_needed(fd: &OwnedFd) -> io::Result<()> {
    use std::os::fd::AsFd;
    set_cloexec(fd.as_fd(), true)
}

/// A connected pair of unix stream sockets, both close-on-exec
/// (`socketpair(2)`); the control channel between coordinator and actor.
pub fn control_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        socketpair(AddressFamily::Unix, SockType::Stream, None, SockFlag::SOCK_CLOEXEC).map_err(io::Error::from)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        use std::os::fd::AsFd;
        let _guard = super::process::quiet_forks();
        let (a, b) = socketpair(AddressFamily::Unix, SockType::Stream, None, SockFlag::empty())?;
        set_cloexec(a.as_fd(), true)?;
        set_cloexec(b.as_fd(), true)?;
        #[cfg(target_os = "macos")]
        for s in [&a, &b] {
            // The control channel must never raise SIGPIPE (no MSG_NOSIGNAL here).
            rustix::net::sockopt::set_socket_nosigpipe(s, true)?;
        }
        Ok((a, b))
    }
}
