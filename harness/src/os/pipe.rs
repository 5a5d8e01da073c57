//! Pipes and FIFOs: `pipe(2)`, `mkfifo(3)`, `fcntl(2)` flags, `fpathconf(3)`.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

/// Creates a pipe whose two ends are close-on-exec, so that no actor
/// inherits a copy by accident; descriptors reach actors only when handed.
///
/// Linux: `pipe2(2)` with `O_CLOEXEC`, atomically. macOS has no `pipe2`:
/// `pipe(2)` then `fcntl(F_SETFD)`, under the spawn lock so that no
/// concurrent spawn inherits the ends in between.
pub fn pipe_cloexec() -> io::Result<(OwnedFd, OwnedFd)> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(io::Error::from)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _guard = super::process::quiet_forks();
        let (r, w) = rustix::pipe::pipe().map_err(io::Error::from)?;
        super::fd::set_cloexec(r.as_fd(), true)?;
        super::fd::set_cloexec(w.as_fd(), true)?;
        Ok((r, w))
    }
}

/// `pipe(2)`, with no flags: both ends blocking and inherited across exec
/// until [`super::fd::set_cloexec`]; the caller holds the fork permit
/// ([`super::process::quiet_forks`]) until it has set close-on-exec.
///
/// # References
/// - [pipe(2)](https://man7.org/linux/man-pages/man2/pipe.2.html)
pub fn pipe_plain() -> io::Result<(OwnedFd, OwnedFd)> {
    rustix::pipe::pipe().map_err(io::Error::from)
}

/// `pipe2(2)` with `O_CLOEXEC`, and `O_NONBLOCK` on both ends' (separate)
/// open file descriptions when `nonblock`. Linux; elsewhere `Unsupported`
/// (macOS has no `pipe2`: the catalogue says so).
///
/// # References
/// - [pipe2(2)](https://man7.org/linux/man-pages/man2/pipe2.2.html)
pub fn pipe2(nonblock: bool) -> io::Result<(OwnedFd, OwnedFd)> {
    let nonblock = nonblock && !super::deviant::for_objects(super::deviant::Deviation::Pipe2IgnoresNonblock);
    pipe2_backend(nonblock)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn pipe2_backend(nonblock: bool) -> io::Result<(OwnedFd, OwnedFd)> {
    use rustix::pipe::PipeFlags;
    let flags = if nonblock { PipeFlags::CLOEXEC | PipeFlags::NONBLOCK } else { PipeFlags::CLOEXEC };
    rustix::pipe::pipe_with(flags).map_err(io::Error::from)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn pipe2_backend(_nonblock: bool) -> io::Result<(OwnedFd, OwnedFd)> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "pipe2(2) does not exist on this platform"))
}

/// `fcntl(F_SETPIPE_SZ, bytes)`: sets the pipe's capacity to at least
/// `bytes` and returns the capacity set. Linux; elsewhere `Unsupported`.
///
/// # References
/// - [fcntl(2)](https://man7.org/linux/man-pages/man2/fcntl.2.html), "Changing the capacity of a pipe"
pub fn set_pipe_size(fd: BorrowedFd<'_>, bytes: usize) -> io::Result<usize> {
    if super::deviant::for_objects(super::deviant::Deviation::PipeSizeIgnored) {
        return Ok(bytes);
    }
    set_pipe_size_backend(fd, bytes)
}

/// `fcntl(F_GETPIPE_SZ)`: the pipe's capacity. Linux; elsewhere `Unsupported`.
///
/// # References
/// - [fcntl(2)](https://man7.org/linux/man-pages/man2/fcntl.2.html), "Changing the capacity of a pipe"
pub fn pipe_size(fd: BorrowedFd<'_>) -> io::Result<usize> {
    pipe_size_backend(fd)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn pipe_size_backend(fd: BorrowedFd<'_>) -> io::Result<usize> {
    rustix::pipe::fcntl_getpipe_size(fd).map_err(io::Error::from)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn pipe_size_backend(_fd: BorrowedFd<'_>) -> io::Result<usize> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "F_GETPIPE_SZ does not exist on this platform"))
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn set_pipe_size_backend(fd: BorrowedFd<'_>, bytes: usize) -> io::Result<usize> {
    rustix::pipe::fcntl_setpipe_size(fd, bytes).map_err(io::Error::from)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn set_pipe_size_backend(_fd: BorrowedFd<'_>, _bytes: usize) -> io::Result<usize> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "F_SETPIPE_SZ does not exist on this platform"))
}

/// `fpathconf(fd, _PC_PIPE_BUF)`: the largest write the system promises not
/// to interleave with other writers' data.
pub fn pipe_buf(fd: BorrowedFd<'_>) -> io::Result<usize> {
    match nix::unistd::fpathconf(fd, nix::unistd::PathconfVar::PIPE_BUF) {
        Ok(Some(n)) => usize::try_from(n).map_err(|_| io::Error::other("negative PIPE_BUF")),
        Ok(None) => Err(io::Error::other("PIPE_BUF is indeterminate")),
        Err(e) => Err(io::Error::from(e)),
    }
}

/// A fill stops here even if the kernel never refuses: a pipe that takes
/// this much with nobody reading has no finite capacity worth the name.
pub const FILL_LIMIT: u64 = 64 << 20;

/// Nor does it make more than this many writes.
pub const FILL_WRITES_LIMIT: u64 = 1 << 20;

/// Fills a pipe through a non-blocking write end until the kernel refuses
/// more (`EAGAIN`), first with writes of `chunk` bytes, then with single
/// bytes (so no room is left even for a write that could join a partly
/// filled page). Returns the bytes accepted. The pattern of each byte is
/// given by `byte(position)`, `position` counting from `start`.
pub fn fill_nonblocking(
    fd: BorrowedFd<'_>,
    chunk: usize,
    start: u64,
    call: super::entry::WriteCall,
    byte: impl Fn(u64) -> u8,
) -> Result<u64, (u64, i32)> {
    let never_full = super::deviant::is(super::deviant::Deviation::PipeNeverFull);
    let opts = super::entry::MsgOpts::default();
    fill_until_refused(chunk, start, byte, |buf| match super::entry::write(fd, buf, call, opts) {
        Err(e) if e.raw_os_error() == Some(libc::EAGAIN) && never_full => Ok(buf.len()),
        other => other.map_err(|e| rustix::io::Errno::from_raw_os_error(super::errno_of(&e))),
    })
}

/// The loop of a fill through any non-blocking write: `write` is called
/// with writes of `chunk` bytes, then of 1 byte, until it answers `EAGAIN`
/// ([`fill_nonblocking`] for pipes, [`super::socket::fill_dontwait`] for
/// stream sockets). `Err((total, errno))` for any other error, and errno 0
/// when nothing refused before [`FILL_LIMIT`].
pub fn fill_until_refused(
    chunk: usize,
    start: u64,
    byte: impl Fn(u64) -> u8,
    mut write: impl FnMut(&[u8]) -> rustix::io::Result<usize>,
) -> Result<u64, (u64, i32)> {
    let mut total = 0u64;
    let mut writes = 0u64;
    let mut buf = Vec::with_capacity(chunk.max(1));
    for size in [chunk.max(1), 1] {
        loop {
            writes += 1;
            if total >= FILL_LIMIT || writes > FILL_WRITES_LIMIT {
                // Never refused: report it with errno 0 (no error at all).
                return Err((total, 0));
            }
            buf.clear();
            buf.extend((0..size as u64).map(|i| byte(start + total + i)));
            match write(&buf) {
                Ok(n) => {
                    total += n as u64;
                    crate::progress::beat();
                }
                Err(rustix::io::Errno::AGAIN) => break,
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err((total, e.raw_os_error())),
            }
        }
    }
    Ok(total)
}

/// A fresh pipe for a measurement: non-blocking write end, and resized
/// with [`set_pipe_size`] to `resize` bytes if asked (returning the size
/// set, else 0).
fn pipe_to_measure(resize: Option<usize>) -> io::Result<(OwnedFd, OwnedFd, u64)> {
    let (r, w) = pipe_cloexec()?;
    let size = match resize {
        Some(bytes) => set_pipe_size(w.as_fd(), bytes)? as u64,
        None => 0,
    };
    super::fd::set_nonblocking(w.as_fd(), true)?;
    Ok((r, w, size))
}

/// Measures the bytes one non-blocking write of 1 MiB puts into an empty
/// pipe (resized to `resize` bytes first if asked). Returns the size
/// [`set_pipe_size`] answered (0 when not resized) and the bytes taken.
pub fn measure_single_write(resize: Option<usize>) -> io::Result<(u64, u64)> {
    let (_r, w, size) = pipe_to_measure(resize)?;
    let taken = rustix::io::write(w.as_fd(), &vec![0u8; 1 << 20]).map_err(io::Error::from)?;
    Ok((size, taken as u64))
}

/// Measures the capacity of an empty pipe: the bytes one non-blocking
/// write, then single-byte writes, put into a fresh pipe (resized to
/// `resize` bytes first if asked) before `EAGAIN`. The pipe is created for
/// the measurement and closed afterwards.
pub fn measure_capacity(resize: Option<usize>) -> io::Result<u64> {
    let (r, w, _) = pipe_to_measure(resize)?;
    let total = fill_nonblocking(w.as_fd(), 1 << 20, 0, super::entry::WriteCall::Write, |_| 0x5a)
        .map_err(|(_, errno)| io::Error::from_raw_os_error(errno))?;
    drop(r);
    Ok(total)
}

/// `mkfifo(3)`: creates a named pipe with mode 0600.
pub fn mkfifo(path: &Path) -> io::Result<()> {
    nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o600)).map_err(io::Error::from)
}

/// `open(2)` of a FIFO for reading or writing, optionally with `O_NONBLOCK`.
/// A blocking open waits for the other side (see fifo(7)).
pub fn open_fifo(path: &Path, write: bool, nonblock: bool) -> io::Result<OwnedFd> {
    use rustix::fs::{Mode, OFlags};
    let mut flags = if write { OFlags::WRONLY } else { OFlags::RDONLY };
    flags |= OFlags::CLOEXEC;
    if nonblock || super::deviant::for_objects(super::deviant::Deviation::FifoOpenNonblocking) {
        flags |= OFlags::NONBLOCK;
    }
    let fd = rustix::fs::open(path, flags, Mode::empty()).map_err(io::Error::from)?;
    if write && nonblock && super::deviant::for_objects(super::deviant::Deviation::FifoWriterLosesNonblock) {
        super::fd::set_nonblocking(fd.as_fd(), false)?;
    }
    Ok(fd)
}

/// `open(2)` of a FIFO with `O_RDWR | O_NONBLOCK`: on Linux and macOS it
/// opens at once and counts as both a reader and a writer, so it releases
/// a blocking open of either side still waiting (POSIX leaves `O_RDWR` on a
/// FIFO undefined; used only to end a wait that went wrong).
pub fn open_fifo_rdwr(path: &Path) -> io::Result<OwnedFd> {
    use rustix::fs::{Mode, OFlags};
    rustix::fs::open(path, OFlags::RDWR | OFlags::NONBLOCK | OFlags::CLOEXEC, Mode::empty()).map_err(io::Error::from)
}
