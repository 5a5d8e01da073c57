//! Process-shared synchronization of the C library: `pthread_mutex_t`
//! and `pthread_cond_t` made `PTHREAD_PROCESS_SHARED` in a shared page
//! (robust mutexes where the platform has them), and named POSIX
//! semaphores (`sem_open`). A [`Region`] lays them out in one page that
//! every actor maps from the same shared-memory object.
//!
//! # References
//! - POSIX.1-2017 XSH `pthread_mutexattr_setpshared()`, `pthread_mutexattr_setrobust()`,
//!   `pthread_mutex_consistent()`, `pthread_condattr_setpshared()`, `sem_open()`
//! - [pthread_mutexattr_setrobust(3)](https://man7.org/linux/man-pages/man3/pthread_mutexattr_setrobust.3.html),
//!   [sem_overview(7)](https://man7.org/linux/man-pages/man7/sem_overview.7.html); pthread_mutexattr(3), sem_open(2) (macOS)

use super::deviant::{self, Deviation};
use super::shm::Mapping;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where the objects lie in the shared page.
const MUTEX_AT: usize = 0;
const COND_AT: usize = 256;
const COUNTER_AT: usize = 512;
const FLAG_AT: usize = 520;

/// The objects in one shared page.
pub struct Region<'a> {
    map: &'a Mapping,
}

fn rc(code: libc::c_int) -> io::Result<i32> {
    Ok(code)
}

impl<'a> Region<'a> {
    /// The region laid over `map` (at least one page, shared).
    pub fn over(map: &'a Mapping) -> Region<'a> {
        Region { map }
    }

    fn mutex(&self) -> *mut libc::pthread_mutex_t {
        self.map.at(MUTEX_AT).cast()
    }

    fn cond(&self) -> *mut libc::pthread_cond_t {
        self.map.at(COND_AT).cast()
    }

    fn word(&self, at: usize) -> &AtomicU64 {
        self.map.word(at as u64).expect("the region's words lie in its page")
    }

    /// Initializes the mutex (process-shared; robust if asked) and the
    /// condition variable (process-shared), once, before any actor uses
    /// them.
    pub fn init(&self, robust: bool) -> io::Result<()> {
        // SAFETY: the attributes live on this stack frame; the objects in
        // a page mapped shared and writable, aligned (page offsets above).
        unsafe {
            let mut ma: libc::pthread_mutexattr_t = std::mem::zeroed();
            check(libc::pthread_mutexattr_init(&mut ma))?;
            let shared = if deviant::is(Deviation::MutexNotShared) {
                libc::PTHREAD_PROCESS_PRIVATE
            } else {
                libc::PTHREAD_PROCESS_SHARED
            };
            check(libc::pthread_mutexattr_setpshared(&mut ma, shared))?;
            if robust {
                backend::set_robust(&mut ma)?;
            }
            check(libc::pthread_mutex_init(self.mutex(), &ma))?;
            libc::pthread_mutexattr_destroy(&mut ma);
            let mut ca: libc::pthread_condattr_t = std::mem::zeroed();
            check(libc::pthread_condattr_init(&mut ca))?;
            check(libc::pthread_condattr_setpshared(&mut ca, libc::PTHREAD_PROCESS_SHARED))?;
            check(libc::pthread_cond_init(self.cond(), &ca))?;
            libc::pthread_condattr_destroy(&mut ca);
        }
        Ok(())
    }

    /// `pthread_mutex_lock`: its return code (0, `EOWNERDEAD`,
    /// `ENOTRECOVERABLE`, ...).
    pub fn lock(&self) -> io::Result<i32> {
        // SAFETY: the mutex was initialized in the shared page by `init`.
        rc(unsafe { libc::pthread_mutex_lock(self.mutex()) })
    }

    /// `pthread_mutex_trylock`: its return code (0, `EBUSY`, ...).
    pub fn trylock(&self) -> io::Result<i32> {
        // SAFETY: as for `lock`.
        rc(unsafe { libc::pthread_mutex_trylock(self.mutex()) })
    }

    /// `pthread_mutex_unlock`: its return code.
    pub fn unlock(&self) -> io::Result<i32> {
        // SAFETY: as for `lock`.
        rc(unsafe { libc::pthread_mutex_unlock(self.mutex()) })
    }

    /// `pthread_mutex_consistent`: its return code.
    pub fn consistent(&self) -> io::Result<i32> {
        backend::consistent(self.mutex())
    }

    /// `rounds` times: lock, read the counter, give the processor away,
    /// write it back plus one, unlock. Without mutual exclusion
    /// increments are lost. Returns the first failing return code, or 0.
    pub fn hammer(&self, rounds: u32) -> io::Result<i32> {
        for _ in 0..rounds {
            let code = self.lock()?;
            if code != 0 {
                return Ok(code);
            }
            let counter = self.word(COUNTER_AT);
            let seen = counter.load(Ordering::Relaxed);
            std::thread::yield_now();
            counter.store(seen + 1, Ordering::Relaxed);
            let code = self.unlock()?;
            if code != 0 {
                return Ok(code);
            }
        }
        Ok(0)
    }

    /// The counter the hammering increments.
    pub fn counter(&self) -> u64 {
        self.word(COUNTER_AT).load(Ordering::SeqCst)
    }

    /// Waits under the mutex until the flag differs from `seen`
    /// (`pthread_cond_wait` in a loop, as POSIX asks); returns the flag.
    pub fn wait_flag(&self, seen: u64) -> io::Result<u64> {
        let code = self.lock()?;
        if code != 0 {
            return Err(io::Error::from_raw_os_error(code));
        }
        let flag = self.word(FLAG_AT);
        while flag.load(Ordering::SeqCst) == seen {
            // SAFETY: both objects initialized by `init`; the mutex is held.
            let code = unsafe { libc::pthread_cond_wait(self.cond(), self.mutex()) };
            if code != 0 {
                self.unlock()?;
                return Err(io::Error::from_raw_os_error(code));
            }
        }
        let value = flag.load(Ordering::SeqCst);
        self.unlock()?;
        Ok(value)
    }

    /// Under the mutex, adds one to the flag and signals (or broadcasts)
    /// the condition; returns the new flag.
    pub fn raise_flag(&self, broadcast: bool) -> io::Result<u64> {
        let code = self.lock()?;
        if code != 0 {
            return Err(io::Error::from_raw_os_error(code));
        }
        let value = self.word(FLAG_AT).fetch_add(1, Ordering::SeqCst) + 1;
        if !deviant::is(Deviation::CondSignalLost) {
            // SAFETY: initialized by `init`.
            unsafe {
                if broadcast {
                    libc::pthread_cond_broadcast(self.cond());
                } else {
                    libc::pthread_cond_signal(self.cond());
                }
            }
        }
        self.unlock()?;
        Ok(value)
    }
}

fn check(code: libc::c_int) -> io::Result<()> {
    if code == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(code))
    }
}

/// A named POSIX semaphore this process opened (`sem_open`), closed on drop.
pub struct NamedSem {
    sem: *mut libc::sem_t,
}

// SAFETY: a sem_t handle may be used from any thread.
unsafe impl Send for NamedSem {}

impl NamedSem {
    /// `sem_open(name, O_CREAT | O_EXCL, 0600, value)` when `create`, else
    /// `sem_open(name, 0)`.
    pub fn open(name: &str, create: bool, value: u32) -> io::Result<NamedSem> {
        let c = std::ffi::CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: a NUL-terminated name; the variadic mode and value are
        // passed as the C library reads them (mode_t promoted, unsigned).
        let sem = unsafe {
            if create {
                libc::sem_open(c.as_ptr(), libc::O_CREAT | libc::O_EXCL, 0o600 as libc::c_uint, value as libc::c_uint)
            } else {
                libc::sem_open(c.as_ptr(), 0)
            }
        };
        if sem == libc::SEM_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(NamedSem { sem })
    }

    /// `sem_wait`, restarted after a signal.
    pub fn wait(&self) -> io::Result<()> {
        loop {
            // SAFETY: an open semaphore.
            if unsafe { libc::sem_wait(self.sem) } == 0 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINTR) {
                return Err(e);
            }
        }
    }

    /// `sem_trywait`: `Ok(false)` for `EAGAIN`.
    pub fn try_wait(&self) -> io::Result<bool> {
        // SAFETY: an open semaphore.
        if unsafe { libc::sem_trywait(self.sem) } == 0 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EAGAIN) {
            Ok(false)
        } else {
            Err(e)
        }
    }

    /// `sem_post`.
    pub fn post(&self) -> io::Result<()> {
        if deviant::is(Deviation::SemPostLost) {
            return Ok(());
        }
        // SAFETY: an open semaphore.
        if unsafe { libc::sem_post(self.sem) } == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
}

impl Drop for NamedSem {
    fn drop(&mut self) {
        // SAFETY: opened by `open`, closed once.
        unsafe { libc::sem_close(self.sem) };
    }
}

/// `sem_unlink(name)`; whether the name existed.
pub fn unlink(name: &str) -> bool {
    let Ok(c) = std::ffi::CString::new(name) else { return false };
    // SAFETY: a NUL-terminated name.
    unsafe { libc::sem_unlink(c.as_ptr()) == 0 }
}

/// Whether a named semaphore `name` exists (`sem_open` without `O_CREAT`).
pub fn present(name: &str) -> bool {
    NamedSem::open(name, false, 0).is_ok()
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod backend {
    use std::io;

    pub fn set_robust(attr: &mut libc::pthread_mutexattr_t) -> io::Result<()> {
        // SAFETY: an initialized attribute object.
        super::check(unsafe { libc::pthread_mutexattr_setrobust(attr, libc::PTHREAD_MUTEX_ROBUST) })
    }

    pub fn consistent(mutex: *mut libc::pthread_mutex_t) -> io::Result<i32> {
        if super::deviant::is(super::Deviation::ConsistentIgnored) {
            return Ok(0);
        }
        // SAFETY: an initialized mutex in the shared page.
        Ok(unsafe { libc::pthread_mutex_consistent(mutex) })
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod backend {
    use std::io;

    fn lacking() -> io::Error {
        io::Error::new(io::ErrorKind::Unsupported, "robust mutexes do not exist on this platform")
    }

    pub fn set_robust(_attr: &mut libc::pthread_mutexattr_t) -> io::Result<()> {
        Err(lacking())
    }

    pub fn consistent(_mutex: *mut libc::pthread_mutex_t) -> io::Result<i32> {
        Err(lacking())
    }
}
