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

/// [`crate::os::socket::recv_fds_with_room`] itself: one `recvmsg(2)` of
/// up to 64 bytes with exactly `CMSG_LEN(room * sizeof(int))` bytes of
/// control space; the descriptors the control data reports (made
/// close-on-exec), and whether `MSG_CTRUNC` was set. Reports only what
/// lies within the control length the kernel returned.
pub fn recv_fds_with_room(sock: BorrowedFd<'_>, room: usize) -> io::Result<(Vec<OwnedFd>, bool)> {
    let int = std::mem::size_of::<libc::c_int>();
    let room = room.min(MAX_FDS);
    // SAFETY: CMSG_LEN is arithmetic.
    let len = if room == 0 { 0 } else { (unsafe { libc::CMSG_LEN((room * int) as u32) }) as usize };
    let mut space = vec![0u64; len.div_ceil(8) + 1];
    let mut byte = [0u8; 64];
    let mut iov = libc::iovec { iov_base: byte.as_mut_ptr().cast(), iov_len: byte.len() };
    // SAFETY: an all-zero msghdr is a valid empty one; fields set below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if len > 0 {
        msg.msg_control = space.as_mut_ptr().cast();
        msg.msg_controllen = len as _;
    }
    loop {
        // SAFETY: msg points at live buffers of the lengths it names.
        let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, recv_flags().bits()) };
        if n >= 0 {
            break;
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
    let truncated = msg.msg_flags & libc::MSG_CTRUNC != 0;
    let mut fds = Vec::new();
    let base = space.as_ptr() as usize;
    let end = base + (msg.msg_controllen as usize).min(len);
    // SAFETY: CMSG_FIRSTHDR / CMSG_NXTHDR walk the control data the kernel
    // wrote; every read is bounded by `end`, the length it reported.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() && (c as usize) + std::mem::size_of::<libc::cmsghdr>() <= end {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(c) as usize;
                let claimed = ((*c).cmsg_len as usize).saturating_sub(data - c as usize) / int;
                let fit = end.saturating_sub(data) / int;
                for i in 0..claimed.min(fit) {
                    let raw = std::ptr::read_unaligned((data as *const libc::c_int).add(i));
                    fds.push(OwnedFd::from_raw_fd(raw));
                }
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    // Every descriptor owned first, so that none leaks if one fails here.
    for fd in &fds {
        set_cloexec_if_needed(fd)?;
    }
    Ok((fds, truncated))
}

/// The descriptors open in this process: each number below the soft
/// `RLIMIT_NOFILE` (at most 65536, and 65536 where it is unlimited) that
/// `fcntl(F_GETFD)` accepts.
///
/// Where the kernel lists the process's descriptor table
/// (`/proc/self/fd` on Linux), only the numbers listed are asked (the
/// directory's own descriptor is closed again before they are, so it is
/// not counted); elsewhere, or where the listing cannot be read, every
/// number below the limit is, one call each (20,000 calls at a soft limit
/// of 20,000). A number the listing missed would go uncounted, so the
/// listing must be the table itself: `poll(2)`'s `POLLNVAL` is not (Linux
/// reports `O_PATH` descriptors as not open, macOS reports nothing for a
/// pollfd without events).
///
/// # References
/// - fcntl(2) `F_GETFD`; [proc_pid_fd(5)](https://man7.org/linux/man-pages/man5/proc_pid_fd.5.html).
pub fn open_descriptors() -> Vec<i32> {
    let limit = super::process::descriptor_limit();
    // SAFETY: F_GETFD only asks whether the number is an open descriptor.
    let is_open = |fd: &i32| unsafe { libc::fcntl(*fd, libc::F_GETFD) } != -1;
    match listed_descriptors() {
        Some(listed) => listed.into_iter().filter(|fd| *fd < limit).filter(is_open).collect(),
        None => (0..limit).filter(is_open).collect(),
    }
}

/// The numbers the kernel lists in this process's descriptor table, sorted;
/// `None` where it offers no listing or it cannot be read.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn listed_descriptors() -> Option<Vec<i32>> {
    let mut listed: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .ok()?
        .map(|entry| entry.ok().and_then(|e| e.file_name().to_str().and_then(|n| n.parse().ok())))
        .collect::<Option<_>>()?;
    listed.sort_unstable();
    Some(listed)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn listed_descriptors() -> Option<Vec<i32>> {
    None
}

/// What a descriptor refers to: its object's device and inode (`fstat`).
pub fn identity(fd: BorrowedFd<'_>) -> io::Result<(u64, u64)> {
    let st = rustix::fs::fstat(fd)?;
    Ok((st.st_dev as u64, st.st_ino as u64))
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
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn control_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    socketpair(AddressFamily::Unix, SockType::Stream, None, SockFlag::SOCK_CLOEXEC).map_err(io::Error::from)
}

/// A connected pair of unix stream sockets, both close-on-exec
/// (`socketpair(2)` without `SOCK_CLOEXEC`, then `FD_CLOEXEC` while forks
/// are held off); the control channel between coordinator and actor.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn control_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    use std::os::fd::AsFd;
    let _guard = super::process::quiet_forks();
    let (a, b) = socketpair(AddressFamily::Unix, SockType::Stream, None, SockFlag::empty())?;
    set_cloexec(a.as_fd(), true)?;
    set_cloexec(b.as_fd(), true)?;
    for s in [&a, &b] {
        no_sigpipe(s)?;
    }
    Ok((a, b))
}

/// The control channel must never raise `SIGPIPE`: macOS has no
/// `MSG_NOSIGNAL`, so the socket says so (`SO_NOSIGPIPE`).
#[cfg(target_os = "macos")]
fn no_sigpipe(s: &OwnedFd) -> io::Result<()> {
    rustix::net::sockopt::set_socket_nosigpipe(s, true).map_err(io::Error::from)
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "macos")))]
fn no_sigpipe(_s: &OwnedFd) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    /// The scan finds a low descriptor and one at the top of the limit, and
    /// loses the high one once it is closed.
    #[test]
    fn open_descriptors_finds_low_and_high_numbers_and_not_closed_ones() {
        let limit = crate::os::process::descriptor_limit();
        let (r, w) = crate::os::pipe::pipe_plain().unwrap();
        let high = limit - 1;
        // SAFETY: dup onto the top number of the limit, closed below.
        assert_eq!(unsafe { libc::dup2(w.as_raw_fd(), high) }, high, "{}", io::Error::last_os_error());
        let open = open_descriptors();
        assert!(open.contains(&r.as_raw_fd()) && open.contains(&w.as_raw_fd()), "{open:?}");
        assert!(open.contains(&high), "{high} not among {} found", open.len());
        // SAFETY: closing the number duplicated above.
        unsafe { libc::close(high) };
        let open = open_descriptors();
        assert!(!open.contains(&high), "{high} found after it was closed");
    }

    /// An `O_PATH` descriptor (Linux) is open too: `poll(2)` calls it
    /// invalid, the scan must not.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn open_descriptors_counts_an_o_path_descriptor() {
        let path =
            rustix::fs::open("/", rustix::fs::OFlags::PATH | rustix::fs::OFlags::CLOEXEC, rustix::fs::Mode::empty())
                .unwrap();
        assert!(
            open_descriptors().contains(&path.as_raw_fd()),
            "the O_PATH descriptor {} was not counted",
            path.as_raw_fd()
        );
    }
}
