//! Files as an IPC medium: `open(2)` with `O_CREAT|O_EXCL` and `O_APPEND`,
//! `rename(2)`, `renameat2(2)` with `RENAME_NOREPLACE` (Linux) or `link(2)`
//! then `unlink(2)`, `flock(2)`, and `fcntl(2)` record locks: owned by the
//! process (`F_SETLK`, `F_SETLKW`) or by the open file description
//! (`F_OFD_SETLK`, `F_OFD_SETLKW`: Linux 3.15 and later, macOS 14 and later).

use super::deviant::{self, Deviation};
use serde::{Deserialize, Serialize};
use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// How to open a file (`open(2)` flags; every descriptor is close-on-exec).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenMode {
    /// `O_RDWR` when set, else `O_RDONLY`.
    pub write: bool,
    /// `O_CREAT` (mode 0600).
    pub create: bool,
    /// `O_EXCL`: fail with `EEXIST` when the path exists.
    pub excl: bool,
    /// `O_TRUNC`.
    pub trunc: bool,
    /// `O_APPEND`: every write lands at the end of the file.
    pub append: bool,
}

fn cpath(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

fn retry<T: PartialEq + From<i8>>(mut f: impl FnMut() -> T) -> io::Result<T> {
    loop {
        let r = f();
        if r != T::from(-1) {
            return Ok(r);
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// `open(2)` of `path` with `mode`, close-on-exec.
pub fn open(path: &Path, mode: OpenMode) -> io::Result<OwnedFd> {
    let c = cpath(path)?;
    let mut flags = libc::O_CLOEXEC | if mode.write { libc::O_RDWR } else { libc::O_RDONLY };
    if mode.create {
        flags |= libc::O_CREAT;
    }
    if mode.excl && !deviant::is(Deviation::ExclIgnored) {
        flags |= libc::O_EXCL;
    }
    if mode.trunc {
        flags |= libc::O_TRUNC;
    }
    if mode.append {
        flags |= libc::O_APPEND;
    }
    // SAFETY: `c` is a valid NUL-terminated path; the result is a new descriptor we own.
    let fd = retry(|| unsafe { libc::open(c.as_ptr(), flags, 0o600 as libc::c_uint) })?;
    // SAFETY: open returned a fresh descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `write(2)` of all of `buf` at the current offset (or the end, under
/// `O_APPEND`) in one call, retried on `EINTR`: the byte count the kernel
/// took, which may be short.
pub fn write_once(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    match deviant::active() {
        Some(Deviation::FileWriteHeldUntilClose) => {
            deviant::hold_write(fd, buf);
            return Ok(buf.len());
        }
        Some(Deviation::AppendSeeksThenWrites) => {
            use rustix::fs::OFlags;
            let flags = rustix::fs::fcntl_getfl(fd)?;
            if flags.contains(OFlags::APPEND) {
                // Emulated append: find the end, then write there; another
                // writer may append in between.
                rustix::fs::fcntl_setfl(fd, flags - OFlags::APPEND)?;
                let end = rustix::fs::seek(fd, rustix::fs::SeekFrom::End(0));
                super::shm::pause_point(1);
                let result = end.map_err(io::Error::from).and_then(|_| write_plain(fd, buf));
                rustix::fs::fcntl_setfl(fd, flags)?;
                return result;
            }
        }
        _ => {}
    }
    write_plain(fd, buf)
}

fn write_plain(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    loop {
        match rustix::io::write(fd, buf) {
            Ok(n) => return Ok(n),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Writes all of `buf` with as many `write(2)` calls as it takes.
pub fn write_all(fd: BorrowedFd<'_>, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        let n = write_once(fd, buf)?;
        if n == 0 {
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        buf = &buf[n..];
    }
    Ok(())
}

/// `pwrite(2)` of all of `buf` at `offset`.
pub fn pwrite_all(fd: BorrowedFd<'_>, mut buf: &[u8], mut offset: u64) -> io::Result<()> {
    while !buf.is_empty() {
        let n = loop {
            match rustix::io::pwrite(fd, buf, offset) {
                Ok(n) => break n,
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        };
        if n == 0 {
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        buf = &buf[n..];
        offset += n as u64;
    }
    Ok(())
}

/// `ftruncate(2)`.
pub fn truncate(fd: BorrowedFd<'_>, len: u64) -> io::Result<()> {
    rustix::fs::ftruncate(fd, len).map_err(Into::into)
}

/// Opens `path` read-only, reads it to the end with `read(2)` and closes it.
pub fn read_whole(path: &Path) -> io::Result<Vec<u8>> {
    let fd = open(path, OpenMode::default())?;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match rustix::io::read(&fd, &mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// `rename(2)`: replaces `to` atomically when it exists.
pub fn rename(from: &Path, to: &Path) -> io::Result<()> {
    match deviant::active() {
        Some(Deviation::RenameUnlinksTargetFirst) => match std::fs::remove_file(to) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        },
        Some(Deviation::RenameCopiesInPlace) if to.exists() => {
            // Copied over the target in page-sized writes, then the source goes.
            let bytes = read_whole(from)?;
            let fd = open(to, OpenMode { write: true, ..OpenMode::default() })?;
            for (i, piece) in bytes.chunks(4096).enumerate() {
                pwrite_all(fd.as_fd(), piece, (i * 4096) as u64)?;
            }
            truncate(fd.as_fd(), bytes.len() as u64)?;
            return std::fs::remove_file(from);
        }
        _ => {}
    }
    std::fs::rename(from, to)
}

/// How a rename that must not replace was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoReplaceHow {
    /// `renameat2(RENAME_NOREPLACE)` (Linux).
    Native,
    /// `link(2)` to the new name, then `unlink(2)` of the old one.
    LinkUnlink,
}

/// A rename of `from` to `to` that fails with `EEXIST` instead of
/// replacing: `renameat2(RENAME_NOREPLACE)` when `prefer_native` and the
/// system offers it (Linux; a file system without it answers `EINVAL`),
/// otherwise `link(2)` + `unlink(2)`. Returns how it was done.
pub fn rename_noreplace(from: &Path, to: &Path, prefer_native: bool) -> io::Result<NoReplaceHow> {
    if deviant::is(Deviation::NoreplaceReplaces) {
        std::fs::rename(from, to)?;
        return Ok(if prefer_native { NoReplaceHow::Native } else { NoReplaceHow::LinkUnlink });
    }
    if prefer_native {
        match native_noreplace(from, to) {
            Ok(()) => return Ok(NoReplaceHow::Native),
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOSYS)) => {}
            Err(e) => return Err(e),
        }
    }
    let (f, t) = (cpath(from)?, cpath(to)?);
    // SAFETY: both are valid NUL-terminated paths.
    retry(|| unsafe { libc::link(f.as_ptr(), t.as_ptr()) })?;
    // SAFETY: as above.
    retry(|| unsafe { libc::unlink(f.as_ptr()) })?;
    Ok(NoReplaceHow::LinkUnlink)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn native_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE).map_err(Into::into)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn native_noreplace(_from: &Path, _to: &Path) -> io::Result<()> {
    // No renameat2 here: the caller falls back to link + unlink.
    Err(io::Error::from_raw_os_error(libc::ENOSYS))
}

/// A `flock(2)` operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FlockOp {
    /// `LOCK_SH`.
    Shared,
    /// `LOCK_EX`.
    Exclusive,
    /// `LOCK_UN`.
    Unlock,
}

/// `flock(2)`; with `nonblock`, `LOCK_NB` (a conflict gives `EWOULDBLOCK`).
pub fn flock(fd: BorrowedFd<'_>, op: FlockOp, nonblock: bool) -> io::Result<()> {
    let mut how = match op {
        FlockOp::Shared => libc::LOCK_SH,
        FlockOp::Exclusive => libc::LOCK_EX,
        FlockOp::Unlock => libc::LOCK_UN,
    };
    if nonblock {
        how |= libc::LOCK_NB;
    }
    if deviant::is(Deviation::FlockAlwaysSucceeds) {
        return Ok(());
    }
    // Not retried on EINTR: an operation under test (signal.interrupt.*).
    // SAFETY: flock on a borrowed, open descriptor.
    if unsafe { libc::flock(fd.as_raw_fd(), how) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if op != FlockOp::Unlock && deviant::is(Deviation::LockLeaksToSurvivor) {
        deviant::leak_to_survivor(fd);
    }
    Ok(())
}

/// The type of a record lock (`l_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LockKind {
    /// `F_RDLCK`.
    Read,
    /// `F_WRLCK`.
    Write,
    /// `F_UNLCK`.
    Unlock,
}

/// Who owns a record lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LockOwner {
    /// The process (`F_SETLK`, `F_SETLKW`).
    Process,
    /// The open file description (`F_OFD_SETLK`, `F_OFD_SETLKW`).
    Ofd,
}

#[cfg(any(target_os = "linux", target_os = "android"))]
const OFD_SETLK: libc::c_int = libc::F_OFD_SETLK;
#[cfg(any(target_os = "linux", target_os = "android"))]
const OFD_SETLKW: libc::c_int = libc::F_OFD_SETLKW;
// xnu's <sys/fcntl.h> (macOS 14 and later); older kernels answer EINVAL.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const OFD_SETLK: libc::c_int = 90;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const OFD_SETLKW: libc::c_int = 91;

/// A record lock by `fcntl(2)` on bytes `start..start+len` (`len` 0: to
/// the end of the file, however far it grows), `l_whence = SEEK_SET`.
/// `wait` selects `F_SETLKW` / `F_OFD_SETLKW` (sleep until granted) over
/// `F_SETLK` / `F_OFD_SETLK` (a conflict gives `EAGAIN` or `EACCES`).
/// Where OFD locks are missing, the OFD commands fail with `EINVAL`.
pub fn record_lock(
    fd: BorrowedFd<'_>,
    owner: LockOwner,
    kind: LockKind,
    start: u64,
    len: u64,
    wait: bool,
) -> io::Result<()> {
    let (mut owner, mut start, mut len) = (owner, start, len);
    match deviant::active() {
        Some(Deviation::FcntlLockWholeFile) if owner == LockOwner::Process => (start, len) = (0, 0),
        Some(Deviation::OfdLockIsProcessLock) if owner == LockOwner::Ofd => owner = LockOwner::Process,
        _ => {}
    }
    // SAFETY: an all-zero `struct flock` is valid (l_pid must be 0 for OFD locks).
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = match kind {
        LockKind::Read => libc::F_RDLCK,
        LockKind::Write => libc::F_WRLCK,
        LockKind::Unlock => libc::F_UNLCK,
    } as _;
    fl.l_whence = libc::SEEK_SET as _;
    fl.l_start = start as libc::off_t;
    fl.l_len = len as libc::off_t;
    let cmd = match (owner, wait) {
        (LockOwner::Process, false) => libc::F_SETLK,
        (LockOwner::Process, true) => libc::F_SETLKW,
        (LockOwner::Ofd, false) => OFD_SETLK,
        (LockOwner::Ofd, true) => OFD_SETLKW,
    };
    // Not retried on EINTR: F_SETLKW is an operation under test (signal.interrupt.*).
    // SAFETY: fcntl with a lock command and a valid `struct flock` pointer.
    if unsafe { libc::fcntl(fd.as_raw_fd(), cmd, &mut fl as *mut libc::flock) } == -1 {
        return Err(io::Error::last_os_error());
    }
    if owner == LockOwner::Ofd && kind != LockKind::Unlock && deviant::is(Deviation::LockLeaksToSurvivor) {
        deviant::leak_to_survivor(fd);
    }
    Ok(())
}

/// Whether this kernel offers OFD locks: `F_OFD_SETLK` of an unlock on a
/// scratch file is accepted (an old kernel answers `EINVAL`).
pub fn ofd_locks_offered(fd: BorrowedFd<'_>) -> io::Result<bool> {
    match record_lock(fd, LockOwner::Ofd, LockKind::Unlock, 0, 0, false) {
        Ok(()) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => Ok(false),
        Err(e) => Err(e),
    }
}
