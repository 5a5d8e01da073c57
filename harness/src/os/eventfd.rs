//! Event counters: `eventfd(2)` (Linux). Reads and writes of the counter
//! go through [`crate::os::io`] like any other descriptor's.
//!
//! # References
//! - eventfd(2) (Linux).

use super::deviant::{self, Deviation};
use std::io;
use std::os::fd::OwnedFd;

/// `eventfd(initval, EFD_CLOEXEC | [EFD_SEMAPHORE] | [EFD_NONBLOCK])`.
pub fn create(initval: u32, semaphore: bool, nonblock: bool) -> io::Result<OwnedFd> {
    backend::create(initval, semaphore && !deviant::for_objects(Deviation::EfdSemaphoreIgnored), nonblock)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod backend {
    use rustix::event::{eventfd, EventfdFlags};
    use std::io;
    use std::os::fd::OwnedFd;

    pub fn create(initval: u32, semaphore: bool, nonblock: bool) -> io::Result<OwnedFd> {
        let mut flags = EventfdFlags::CLOEXEC;
        if semaphore {
            flags |= EventfdFlags::SEMAPHORE;
        }
        if nonblock {
            flags |= EventfdFlags::NONBLOCK;
        }
        eventfd(initval, flags).map_err(io::Error::from)
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod backend {
    use std::io;
    use std::os::fd::OwnedFd;

    /// No eventfd here (the catalogue says the rule does not apply).
    pub fn create(_initval: u32, _semaphore: bool, _nonblock: bool) -> io::Result<OwnedFd> {
        Err(io::Error::from_raw_os_error(libc::ENOSYS))
    }
}
