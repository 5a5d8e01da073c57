//! Plain descriptor I/O: `read(2)`, `write(2)`, `close(2)`, as actors
//! perform them on objects under test (with the deviant layer's hooks, see
//! [`super::deviant`]).

use super::deviant::{self, Deviation};
use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

static HAD_DATA: AtomicBool = AtomicBool::new(false);

/// `read(2)` into `buf`, retried on `EINTR`; returns the byte count.
pub fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    if let Some(d) = deviant::active() {
        let empty = || deviant::bytes_available(fd).is_ok_and(|n| n == 0);
        match d {
            Deviation::ReadEmptyReturnsZero if !buf.is_empty() && empty() => return Ok(0),
            Deviation::EofAfterData if HAD_DATA.load(Ordering::Relaxed) && !buf.is_empty() && empty() => return Ok(0),
            _ => {}
        }
    }
    let n = loop {
        match rustix::io::read(fd, &mut *buf) {
            Err(rustix::io::Errno::INTR) => continue,
            other => break other?,
        }
    };
    if n > 0 {
        HAD_DATA.store(true, Ordering::Relaxed);
    }
    match deviant::active() {
        Some(Deviation::ReadDropsAByte) if n >= 3 => {
            buf.copy_within(n / 2 + 1..n, n / 2);
            Ok(n - 1)
        }
        Some(Deviation::WakeOneReader) if n == 0 && !buf.is_empty() && deviant::another_reader_woke() => {
            deviant::hang()
        }
        _ => Ok(n),
    }
}

/// `write(2)` of `buf`, retried on `EINTR`; returns the byte count.
pub fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    let mut data = buf;
    let mut made_nonblocking = false;
    match deviant::active() {
        Some(Deviation::SmallWriteSplit) if buf.len() >= 2 => data = &buf[..buf.len() / 2],
        Some(Deviation::FullWriteReturnsAtOnce) if !super::fd::is_nonblocking(fd)? => {
            super::fd::set_nonblocking(fd, true)?;
            made_nonblocking = true;
        }
        _ => {}
    }
    let result = loop {
        match rustix::io::write(fd, data) {
            Err(rustix::io::Errno::INTR) => continue,
            other => break other.map_err(io::Error::from),
        }
    };
    if made_nonblocking {
        super::fd::set_nonblocking(fd, false)?;
    }
    match (deviant::active(), &result) {
        (Some(Deviation::WriteOnReadEndSucceeds), Err(e)) if e.raw_os_error() == Some(libc::EBADF) => Ok(buf.len()),
        (Some(Deviation::EpipeBecomesSuccess), Err(e)) if e.raw_os_error() == Some(libc::EPIPE) => Ok(buf.len()),
        _ => result,
    }
}

/// `close(2)`: drops the descriptor.
pub fn close(fd: OwnedFd) {
    use std::os::fd::AsFd;
    match deviant::active() {
        Some(Deviation::CloseKeepsHiddenCopy) => deviant::hide_copy(fd.as_fd()),
        Some(Deviation::FileWriteHeldUntilClose) => deviant::flush_held(fd.as_fd()),
        _ => {}
    }
    drop(fd);
}
