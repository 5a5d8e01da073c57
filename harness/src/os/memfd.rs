//! Sealed anonymous files: `memfd_create(2)` and the seals of `fcntl(2)`
//! (`F_ADD_SEALS`, `F_GET_SEALS`), Linux; elsewhere every call fails with
//! `Unsupported`. Writes and truncations of a memfd go through
//! `pwrite(2)` and `ftruncate(2)`; mappings through [`super::shm::Mapping`].
//!
//! # References
//! - [memfd_create(2)](https://man7.org/linux/man-pages/man2/memfd_create.2.html)
//! - [fcntl(2)](https://man7.org/linux/man-pages/man2/fcntl.2.html): File Sealing

use super::deviant::{self, Deviation};
use serde::{Deserialize, Serialize};
use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};

/// A set of seals, as bits of our own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Seals(pub u8);

impl Seals {
    /// `F_SEAL_SEAL`: no further seals.
    pub const SEAL: Seals = Seals(1);
    /// `F_SEAL_SHRINK`: the size may not shrink.
    pub const SHRINK: Seals = Seals(2);
    /// `F_SEAL_GROW`: the size may not grow.
    pub const GROW: Seals = Seals(4);
    /// `F_SEAL_WRITE`: the contents may not change.
    pub const WRITE: Seals = Seals(8);
    /// Every seal a case adds.
    pub const ALL: Seals = Seals(15);
    /// Any other seal the kernel reports (`F_SEAL_FUTURE_WRITE`,
    /// `F_SEAL_EXEC`, ...): never added by a case, so never owed.
    pub const OTHER: Seals = Seals(16);

    /// Whether every seal of `other` is in this set.
    pub fn contains(self, other: Seals) -> bool {
        self.0 & other.0 == other.0
    }

    /// Both sets.
    pub fn with(self, other: Seals) -> Seals {
        Seals(self.0 | other.0)
    }
}

impl std::fmt::Display for Seals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> =
            [(Seals::SEAL, "SEAL"), (Seals::SHRINK, "SHRINK"), (Seals::GROW, "GROW"), (Seals::WRITE, "WRITE")]
                .iter()
                .filter(|(s, _)| self.contains(*s))
                .map(|(_, n)| *n)
                .collect();
        if names.is_empty() {
            f.write_str("no seals")
        } else {
            f.write_str(&names.join("|"))
        }
    }
}

/// A new memfd, close-on-exec, with `MFD_ALLOW_SEALING` when `sealing`
/// (without, it carries `F_SEAL_SEAL` from the start).
pub fn create(sealing: bool) -> io::Result<OwnedFd> {
    backend::create(sealing)
}

/// `fcntl(F_ADD_SEALS)`.
pub fn add_seals(fd: BorrowedFd<'_>, seals: Seals) -> io::Result<()> {
    let seals = match deviant::active() {
        // The deviations: one seal asked for is left out.
        Some(Deviation::WriteSealIgnored) => Seals(seals.0 & !Seals::WRITE.0),
        Some(Deviation::GrowSealIgnored) => Seals(seals.0 & !Seals::GROW.0),
        _ => seals,
    };
    backend::add_seals(fd, seals)
}

/// `fcntl(F_GET_SEALS)`.
pub fn seals(fd: BorrowedFd<'_>) -> io::Result<Seals> {
    backend::seals(fd)
}

/// `pwrite(2)` of `data` at `offset`; the bytes written.
pub fn pwrite(fd: BorrowedFd<'_>, data: &[u8], offset: u64) -> io::Result<usize> {
    loop {
        match rustix::io::pwrite(fd, data, offset) {
            Err(rustix::io::Errno::INTR) => continue,
            other => return other.map_err(io::Error::from),
        }
    }
}

/// Every byte of the file (`fstat`, then `pread(2)` until its size).
pub fn contents(fd: BorrowedFd<'_>) -> io::Result<Vec<u8>> {
    let size = rustix::fs::fstat(fd)?.st_size as usize;
    let mut buf = vec![0u8; size];
    let mut got = 0;
    while got < size {
        match rustix::io::pread(fd, &mut buf[got..], got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    buf.truncate(got);
    Ok(buf)
}

/// A copy of a memfd: a new memfd without seals holding the same bytes
/// (the deviation `received-memfd-copied`).
pub fn unsealed_copy(fd: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    let bytes = contents(fd)?;
    let copy = create(true)?;
    let mut done = 0;
    while done < bytes.len() {
        done += pwrite(std::os::fd::AsFd::as_fd(&copy), &bytes[done..], done as u64)?;
    }
    Ok(copy)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod backend {
    use super::Seals;
    use rustix::fs::SealFlags;
    use std::io;
    use std::os::fd::{BorrowedFd, OwnedFd};

    const MAP: [(Seals, SealFlags); 4] = [
        (Seals::SEAL, SealFlags::SEAL),
        (Seals::SHRINK, SealFlags::SHRINK),
        (Seals::GROW, SealFlags::GROW),
        (Seals::WRITE, SealFlags::WRITE),
    ];

    pub fn create(sealing: bool) -> io::Result<OwnedFd> {
        use rustix::fs::MemfdFlags;
        let flags = if sealing { MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING } else { MemfdFlags::CLOEXEC };
        let _quiet = crate::os::process::quiet_forks();
        Ok(rustix::fs::memfd_create("ipc-conform-memfd", flags)?)
    }

    pub fn add_seals(fd: BorrowedFd<'_>, seals: Seals) -> io::Result<()> {
        let flags = MAP.iter().filter(|(s, _)| seals.contains(*s)).fold(SealFlags::empty(), |a, (_, f)| a | *f);
        Ok(rustix::fs::fcntl_add_seals(fd, flags)?)
    }

    pub fn seals(fd: BorrowedFd<'_>) -> io::Result<Seals> {
        let flags = rustix::fs::fcntl_get_seals(fd)?;
        let known = MAP.iter().fold(SealFlags::empty(), |a, (_, f)| a | *f);
        let seals = MAP.iter().filter(|(_, f)| flags.contains(*f)).fold(Seals::default(), |a, (s, _)| a.with(*s));
        Ok(if flags.difference(known).is_empty() { seals } else { seals.with(Seals::OTHER) })
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod backend {
    use super::Seals;
    use std::io;
    use std::os::fd::{BorrowedFd, OwnedFd};

    fn lacking() -> io::Error {
        io::Error::new(io::ErrorKind::Unsupported, "memfd_create(2) and file seals do not exist on this platform")
    }

    pub fn create(_sealing: bool) -> io::Result<OwnedFd> {
        Err(lacking())
    }

    pub fn add_seals(_fd: BorrowedFd<'_>, _seals: Seals) -> io::Result<()> {
        Err(lacking())
    }

    pub fn seals(_fd: BorrowedFd<'_>) -> io::Result<Seals> {
        Err(lacking())
    }
}
