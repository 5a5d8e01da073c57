//! Descriptor I/O as actors perform it on pipes, FIFOs and inherited
//! descriptors: a read or write through one of the entry points that
//! take any descriptor ([`super::entry`]), and `close(2)` (with the
//! deviant layer's hooks, see [`super::deviant`]).

use super::deviant::{self, Deviation};
use super::entry::{self, MsgOpts, ReadCall, WriteCall};
use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

static HAD_DATA: AtomicBool = AtomicBool::new(false);

/// A read into `buf` through `call` (`read(2)` or `readv(2)`), not
/// retried on `EINTR`; returns the byte count.
pub fn read(fd: BorrowedFd<'_>, buf: &mut [u8], call: ReadCall) -> io::Result<usize> {
    if let Some(d) = deviant::active() {
        let empty = || deviant::bytes_available(fd).is_ok_and(|n| n == 0);
        match d {
            Deviation::ReadEmptyReturnsZero if !buf.is_empty() && empty() => return Ok(0),
            Deviation::EofAfterData if HAD_DATA.load(Ordering::Relaxed) && !buf.is_empty() && empty() => return Ok(0),
            _ => {}
        }
    }
    let n = entry::read(fd, buf, call, MsgOpts::default())?.bytes;
    if n > 0 {
        HAD_DATA.store(true, Ordering::Relaxed);
    }
    match deviant::active() {
        Some(Deviation::WakeOneReader) if n == 0 && !buf.is_empty() && deviant::another_reader_woke() => {
            deviant::hang()
        }
        _ => Ok(n),
    }
}

/// A write of `buf` through `call` (`write(2)` or `writev(2)`), not
/// retried on `EINTR`; returns the byte count.
pub fn write(fd: BorrowedFd<'_>, buf: &[u8], call: WriteCall) -> io::Result<usize> {
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
    let result = entry::write(fd, data, call, MsgOpts::default());
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
