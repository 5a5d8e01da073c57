//! Shared memory and process memory: POSIX shared-memory objects
//! (`shm_open(3)`, `shm_unlink(3)`, `ftruncate(2)`, `fchmod(2)`), mappings
//! (`mmap(2)`, `munmap(2)`), process-shared waiting (`futex(2)` on Linux,
//! named POSIX semaphores `sem_open(3)`/`sem_wait(3)`/`sem_post(3)`/
//! `sem_unlink(3)` where futexes are absent), `fork(2)` inside an actor for
//! the inheritance rules, and the ways one process may try to reach another
//! one's memory (`process_vm_readv(2)`, `/proc/<pid>/mem`, `ptrace(2)`).
//!
//! Every word the harness stores or loads in shared memory is an aligned
//! atomic, so that a data race between processes is never undefined
//! behaviour in this process; "plain" unsynchronized increments are a
//! relaxed load followed by a relaxed store.

use super::deviant::{self, Deviation};
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

fn cstring(name: &str) -> io::Result<CString> {
    CString::new(name).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// The longest shared-memory name, slash included, that every supported
/// platform accepts (macOS: `PSHMNAMLEN` = 31).
pub const MAX_NAME_LEN: usize = 31;

/// The page size (`sysconf(_SC_PAGESIZE)`).
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 {
        n as usize
    } else {
        4096
    }
}

/// `shm_open(3)` of `name` (which starts with `/`), read-write or read-only,
/// creating it exclusively with `mode` when `create`; the descriptor is
/// close-on-exec.
pub fn shm_open(name: &str, create: bool, write: bool, mode: u32) -> io::Result<OwnedFd> {
    let c = cstring(name)?;
    if deviant::locked_out() {
        return Err(io::Error::from_raw_os_error(libc::EACCES));
    }
    let mut flags = if write { libc::O_RDWR } else { libc::O_RDONLY };
    if create {
        flags |= libc::O_CREAT | libc::O_EXCL;
    }
    let _creating = create.then(crate::cleanup::creating);
    let _guard = super::process::quiet_forks();
    // SAFETY: a valid C string; the mode is passed as the variadic argument
    // shm_open expects (an unsigned int after promotion).
    let fd = check(unsafe { libc::shm_open(c.as_ptr(), flags, mode as libc::c_uint) })?;
    // SAFETY: shm_open returned a fresh descriptor that we now own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    super::fd::set_cloexec(std::os::fd::AsFd::as_fd(&fd), true)?;
    Ok(fd)
}

/// `shm_unlink(3)`: removes the name; existing mappings stay valid.
pub fn shm_unlink(name: &str) -> io::Result<()> {
    let c = cstring(name)?;
    if deviant::is(Deviation::ShmUnlinkDiscardsContents) {
        // The contents go with the name: truncated to nothing and back.
        if let Ok(fd) = shm_open(name, false, true, 0) {
            let fd = std::os::fd::AsFd::as_fd(&fd);
            if let Ok(st) = rustix::fs::fstat(fd) {
                let _ = truncate(fd, 0);
                let _ = truncate(fd, st.st_size as u64);
            }
        }
    }
    // SAFETY: a valid C string.
    check(unsafe { libc::shm_unlink(c.as_ptr()) }).map(drop)
}

/// Whether an object of the harness called `name` still exists: the
/// shared-memory object (`shm_open(3)` without `O_CREAT`) or, where
/// waiting uses named semaphores, the semaphore (`sem_open(3)` without
/// `O_CREAT`). The one way to look on a platform that lists neither
/// (macOS has no `/dev/shm`).
pub fn name_present(name: &str) -> bool {
    shm_open(name, false, false, 0).is_ok() || semaphore_present(name)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn semaphore_present(_name: &str) -> bool {
    false // waiting uses futex words here: the harness makes no semaphores
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn semaphore_present(name: &str) -> bool {
    match open_sem(name) {
        Ok(sem) => {
            // SAFETY: a semaphore returned by sem_open.
            unsafe { libc::sem_close(sem) };
            true
        }
        Err(_) => false,
    }
}

/// Removes every object of the harness called `name`: the shared-memory
/// object and, where waiting uses named semaphores, the semaphore. Names
/// already gone are not an error; used by drop guards.
pub fn remove_name(name: &str) {
    let _ = shm_unlink(name);
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        if let Ok(c) = cstring(name) {
            // SAFETY: a valid C string.
            unsafe { libc::sem_unlink(c.as_ptr()) };
        }
    }
}

/// `ftruncate(2)`: sets the object's size.
pub fn truncate(fd: BorrowedFd<'_>, len: u64) -> io::Result<()> {
    // SAFETY: plain ftruncate on an open descriptor.
    check(unsafe { libc::ftruncate(fd.as_raw_fd(), len as libc::off_t) }).map(drop)
}

/// `fchmod(2)`: sets the object's permission bits exactly (no umask).
pub fn chmod(fd: BorrowedFd<'_>, mode: u32) -> io::Result<()> {
    let mode = if deviant::is(Deviation::ShmChmodGrantsAll) { 0o666 } else { mode };
    // SAFETY: plain fchmod on an open descriptor.
    check(unsafe { libc::fchmod(fd.as_raw_fd(), mode as libc::mode_t) }).map(drop)
}

/// `pwrite(2)` of one 8-byte little-endian word at `offset`; the count written.
pub fn pwrite_word(fd: BorrowedFd<'_>, offset: u64, value: u64) -> io::Result<usize> {
    let lost_offset = deviant::is(Deviation::PwriteIgnoresOffset);
    loop {
        let r = if lost_offset {
            rustix::io::write(fd, &value.to_le_bytes())
        } else {
            rustix::io::pwrite(fd, &value.to_le_bytes(), offset)
        };
        match r {
            Ok(n) => return Ok(n),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// `pread(2)` of one 8-byte little-endian word at `offset`; `None` when the
/// read came back short (past the end of the file).
pub fn pread_word(fd: BorrowedFd<'_>, offset: u64) -> io::Result<Option<u64>> {
    let mut buf = [0u8; 8];
    loop {
        match rustix::io::pread(fd, &mut buf, offset) {
            Ok(8) => return Ok(Some(u64::from_le_bytes(buf))),
            Ok(_) => return Ok(None),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// A mapping made with `mmap(2)`, unmapped (`munmap(2)`) on drop.
pub struct Mapping {
    ptr: *mut libc::c_void,
    len: usize,
}

// SAFETY: the mapping is plain memory; the harness only touches it through
// atomics.
unsafe impl Send for Mapping {}
// SAFETY: as above.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps `len` bytes read-write: of `fd` from offset 0, or anonymous
    /// memory when `fd` is `None`; `MAP_SHARED` or `MAP_PRIVATE`.
    pub fn new(fd: Option<BorrowedFd<'_>>, len: usize, shared: bool) -> io::Result<Mapping> {
        if len == 0 {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        let shared = match deviant::active() {
            Some(Deviation::MapSharedIsPrivate) => false,
            Some(Deviation::MapPrivateIsShared) => true,
            _ => shared,
        };
        Mapping::with(fd, len, shared, true)
    }

    /// Maps `len` bytes of `fd` (or anonymous memory) from offset 0,
    /// `MAP_SHARED` or `MAP_PRIVATE`, read-write or read-only.
    pub fn with(fd: Option<BorrowedFd<'_>>, len: usize, shared: bool, writable: bool) -> io::Result<Mapping> {
        if len == 0 {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        let prot = if writable { libc::PROT_READ | libc::PROT_WRITE } else { libc::PROT_READ };
        let mut flags = if shared { libc::MAP_SHARED } else { libc::MAP_PRIVATE };
        let raw = match fd {
            Some(fd) => fd.as_raw_fd(),
            None => {
                flags |= libc::MAP_ANON;
                -1
            }
        };
        // SAFETY: a fresh mapping chosen by the kernel; no existing memory
        // is affected.
        let ptr = unsafe { libc::mmap(std::ptr::null_mut(), len, prot, flags, raw as RawFd, 0) };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Mapping { ptr, len })
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it is empty (never: a mapping has at least one byte).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The 8-byte word at `offset`, when aligned and inside the mapping.
    /// The address `offset` bytes into the mapping, for objects the C
    /// library keeps there (a process-shared mutex); `offset` must lie
    /// inside it.
    pub fn at(&self, offset: usize) -> *mut u8 {
        assert!(offset < self.len, "offset {offset} outside a mapping of {} bytes", self.len);
        // SAFETY: in bounds, checked above.
        unsafe { self.ptr.cast::<u8>().add(offset) }
    }

    /// The 8-byte word at `offset`, when aligned and inside.
    pub fn word(&self, offset: u64) -> Option<&AtomicU64> {
        let off = usize::try_from(offset).ok()?;
        if off % 8 != 0 || off.checked_add(8)? > self.len {
            return None;
        }
        // SAFETY: in bounds, aligned (mappings are page aligned), and the
        // memory lives as long as `self`.
        Some(unsafe { &*(self.ptr.cast::<u8>().add(off).cast::<AtomicU64>()) })
    }

    /// The 4-byte word at `offset` (a futex word), when aligned and inside.
    pub fn word32(&self, offset: u64) -> Option<&AtomicU32> {
        let off = usize::try_from(offset).ok()?;
        if off % 4 != 0 || off.checked_add(4)? > self.len {
            return None;
        }
        // SAFETY: as for `word`.
        Some(unsafe { &*(self.ptr.cast::<u8>().add(off).cast::<AtomicU32>()) })
    }

    /// The words from `offset` on, `count` of them, when all are inside.
    pub fn words(&self, offset: u64, count: usize) -> Option<&[AtomicU64]> {
        let off = usize::try_from(offset).ok()?;
        let bytes = count.checked_mul(8)?;
        if off % 8 != 0 || off.checked_add(bytes)? > self.len {
            return None;
        }
        // SAFETY: as for `word`.
        Some(unsafe { std::slice::from_raw_parts(self.ptr.cast::<u8>().add(off).cast::<AtomicU64>(), count) })
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmapping our own mapping; no reference into it outlives self.
        unsafe { libc::munmap(self.ptr, self.len) };
    }
}

/// Waits until `word` is not 0, sleeping in the kernel in between: on
/// Linux `futex(FUTEX_WAIT)` on the word itself; elsewhere `sem_wait(3)` on
/// the named semaphore `name` (which [`create_doorbell`] made), then the
/// word is read. Returns the word's value.
pub fn doorbell_wait(word: &AtomicU32, name: &str) -> io::Result<u32> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let _ = name;
        loop {
            let v = word.load(Ordering::Acquire);
            if v != 0 {
                return Ok(v);
            }
            // SAFETY: FUTEX_WAIT on a valid, aligned 4-byte word of a shared
            // mapping (no FUTEX_PRIVATE_FLAG: other processes wake it).
            let r = unsafe {
                libc::syscall(
                    libc::SYS_futex,
                    word.as_ptr(),
                    libc::FUTEX_WAIT,
                    0u32,
                    std::ptr::null::<libc::timespec>(),
                )
            };
            if r < 0 {
                let e = io::Error::last_os_error();
                if !matches!(e.raw_os_error(), Some(libc::EAGAIN) | Some(libc::EINTR)) {
                    return Err(e);
                }
            }
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let sem = open_sem(name)?;
        loop {
            // SAFETY: a semaphore returned by sem_open.
            if unsafe { libc::sem_wait(sem) } == 0 {
                break;
            }
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINTR) {
                // SAFETY: as above.
                unsafe { libc::sem_close(sem) };
                return Err(e);
            }
        }
        // SAFETY: as above.
        unsafe { libc::sem_close(sem) };
        Ok(word.load(Ordering::Acquire))
    }
}

/// Sets `word` to `value` (release) and wakes the waiters: on Linux
/// `futex(FUTEX_WAKE)` for all of them, returning how many woke; elsewhere
/// `sem_post(3)` `waiters` times on the named semaphore, returning `waiters`.
pub fn doorbell_ring(word: &AtomicU32, value: u32, name: &str, waiters: u32) -> io::Result<u64> {
    word.store(value, Ordering::Release);
    if deviant::is(Deviation::WakeWakesNobody) {
        return Ok(u64::from(waiters));
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let _ = (name, waiters);
        // SAFETY: FUTEX_WAKE on a valid, aligned word.
        let r = unsafe { libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE, i32::MAX) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(r as u64)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let sem = open_sem(name)?;
        for _ in 0..waiters {
            // SAFETY: a semaphore returned by sem_open.
            if unsafe { libc::sem_post(sem) } != 0 {
                let e = io::Error::last_os_error();
                // SAFETY: as above.
                unsafe { libc::sem_close(sem) };
                return Err(e);
            }
        }
        // SAFETY: as above.
        unsafe { libc::sem_close(sem) };
        Ok(u64::from(waiters))
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn open_sem(name: &str) -> io::Result<*mut libc::sem_t> {
    let c = cstring(name)?;
    // SAFETY: a valid C string; opening an existing semaphore.
    let sem = unsafe { libc::sem_open(c.as_ptr(), 0) };
    if sem == libc::SEM_FAILED {
        return Err(io::Error::last_os_error());
    }
    Ok(sem)
}

/// Prepares the doorbell named `name` for [`doorbell_wait`] and
/// [`doorbell_ring`]: where waiting uses named semaphores, creates one
/// with value 0 (`sem_open(O_CREAT|O_EXCL)`); on Linux the futex word needs
/// nothing. [`remove_name`] removes it.
pub fn create_doorbell(name: &str) -> io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let _ = name;
        Ok(())
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let c = cstring(name)?;
        // SAFETY: a valid C string; mode and value as variadic unsigned ints.
        let sem = unsafe { libc::sem_open(c.as_ptr(), libc::O_CREAT | libc::O_EXCL, 0o600 as libc::c_uint, 0u32) };
        if sem == libc::SEM_FAILED {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a semaphore returned by sem_open.
        unsafe { libc::sem_close(sem) };
        Ok(())
    }
}

/// Whether process-shared waiting sleeps on a futex word (else on a named
/// semaphore), which decides the blocking evidence available.
pub const WAITS_ON_FUTEX: bool = cfg!(any(target_os = "linux", target_os = "android"));

fn write_all_raw(fd: RawFd, bytes: &[u8]) -> bool {
    // SAFETY: write(2) of a live buffer; async-signal-safe.
    unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) == bytes.len() as isize }
}

fn read_exact_raw(fd: RawFd, bytes: &mut [u8]) -> bool {
    let mut got = 0;
    while got < bytes.len() {
        // SAFETY: read(2) into a live buffer; async-signal-safe.
        let n = unsafe { libc::read(fd, bytes[got..].as_mut_ptr().cast(), bytes.len() - got) };
        if n > 0 {
            got += n as usize;
        } else if n < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        } else {
            return false;
        }
    }
    true
}

/// The parent/child exchange over one memory cell across `fork(2)`:
///
/// 1. the parent stores `a` in `cell`, then forks;
/// 2. the child loads the cell (result 0), stores `c`, and tells the parent;
/// 3. the parent loads the cell (result 1), stores `p`, and tells the child;
/// 4. the child loads the cell (result 2), sends its two loads, `_exit`s.
///
/// With private memory the results are `[a, a, c]`; with memory shared
/// with the child, `[a, c, p]`.
///
/// `fork` happens in an actor, which is multi-threaded (its lifeline
/// watcher): the child therefore only makes async-signal-safe calls
/// (atomic loads and stores on the cell, `read(2)`/`write(2)` on two pipes
/// made before the fork, `_exit(2)`), and never returns into Rust code. If
/// the parent dies, the child reads end-of-file and exits. The parent reaps
/// the child (`waitpid(2)`) before returning.
pub fn fork_exchange(cell: &AtomicU64, a: u64, c: u64, p: u64) -> io::Result<[u64; 3]> {
    let shared_instead;
    let cell = if deviant::is(Deviation::ForkSharesMemory) {
        shared_instead = Mapping::new(None, page_size(), true)?;
        shared_instead.word(0).ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?
    } else {
        cell
    };
    let (to_parent_r, to_parent_w) = super::pipe::pipe_cloexec()?;
    let (to_child_r, to_child_w) = super::pipe::pipe_cloexec()?;
    let (tpr, tpw, tcr, tcw) =
        (to_parent_r.as_raw_fd(), to_parent_w.as_raw_fd(), to_child_r.as_raw_fd(), to_child_w.as_raw_fd());
    cell.store(a, Ordering::SeqCst);
    // SAFETY: the child only runs the async-signal-safe code below and ends
    // with _exit; see the doc comment.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        // The child.
        // SAFETY: close(2) of our copies of the parent's pipe ends.
        unsafe {
            libc::close(tpr);
            libc::close(tcw);
        }
        let first = cell.load(Ordering::SeqCst);
        cell.store(c, Ordering::SeqCst);
        if !write_all_raw(tpw, &[1]) {
            // SAFETY: _exit ends the child at once.
            unsafe { libc::_exit(2) };
        }
        let mut go = [0u8; 1];
        if !read_exact_raw(tcr, &mut go) {
            // SAFETY: as above.
            unsafe { libc::_exit(3) };
        }
        let last = cell.load(Ordering::SeqCst);
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&first.to_le_bytes());
        out[8..].copy_from_slice(&last.to_le_bytes());
        let ok = write_all_raw(tpw, &out);
        // SAFETY: as above.
        unsafe { libc::_exit(if ok { 0 } else { 4 }) };
    }
    drop(to_parent_w);
    drop(to_child_r);
    let result = (|| {
        let mut ready = [0u8; 1];
        if !read_exact_raw(tpr, &mut ready) {
            return Err(io::Error::other("the forked child did not report its first load"));
        }
        let middle = cell.load(Ordering::SeqCst);
        cell.store(p, Ordering::SeqCst);
        if !write_all_raw(tcw, &[1]) {
            return Err(io::Error::last_os_error());
        }
        let mut out = [0u8; 16];
        if !read_exact_raw(tpr, &mut out) {
            return Err(io::Error::other("the forked child did not report its loads"));
        }
        let first = u64::from_le_bytes(out[..8].try_into().unwrap_or_default());
        let last = u64::from_le_bytes(out[8..].try_into().unwrap_or_default());
        Ok([first, middle, last])
    })();
    drop(to_child_w);
    drop(to_parent_r);
    let mut status = 0;
    // SAFETY: reaping our own child.
    while unsafe { libc::waitpid(pid, &mut status, 0) } < 0 {
        if io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            break;
        }
    }
    result
}

/// How one process may try to reach another's memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ForeignAccess {
    /// `process_vm_readv(2)` / `process_vm_writev(2)` (Linux only; ENOSYS elsewhere).
    VmCall,
    /// `open(2)` of `/proc/<pid>/mem`, then `pread(2)`/`pwrite(2)` at the
    /// address (no such file where there is no /proc).
    ProcMem,
    /// `ptrace(2)` attach (`PTRACE_ATTACH`; `PT_ATTACHEXC` on macOS); on
    /// success the tracer detaches at once.
    PtraceAttach,
}

/// Tries to read (or write `value` into) the 8-byte word at `addr` of
/// process `pid` in the way `how`. `Ok(Some(v))`: read `v`; `Ok(None)`:
/// written, or attached; `Err`: refused (the errno says why).
pub fn foreign_access(pid: i32, addr: u64, how: ForeignAccess, write: Option<u64>) -> io::Result<Option<u64>> {
    if deviant::locked_out() {
        return Err(io::Error::from_raw_os_error(libc::EPERM));
    }
    match how {
        ForeignAccess::VmCall => vm_call(pid, addr, write),
        ForeignAccess::ProcMem => {
            let path = format!("/proc/{pid}/mem");
            let file = std::fs::OpenOptions::new().read(write.is_none()).write(write.is_some()).open(path)?;
            let fd = std::os::fd::AsFd::as_fd(&file);
            match write {
                Some(v) => pwrite_word(fd, addr, v).map(|_| None),
                None => pread_word(fd, addr)?.map(Some).ok_or_else(|| io::Error::from_raw_os_error(libc::EIO)),
            }
        }
        ForeignAccess::PtraceAttach => ptrace_attach(pid),
    }
}

/// The positive control of a foreign access by a process without
/// privileges: the same method, reading, on a process of its own uid that
/// it may reach under any policy that lets a parent trace its children (a
/// child forked for it, holding a known word). Whether it reached it.
pub fn reach_own_child(how: ForeignAccess) -> io::Result<bool> {
    const MARK: u64 = 0x5ec0_17e5_7c41_1d00;
    let cell = Box::new(std::sync::atomic::AtomicU64::new(MARK));
    let addr = cell.as_ptr() as usize as u64;
    let lifeline = super::process::LIFELINE_FD;
    // The child says on this pipe when it is ready to be read.
    let (ready_r, ready_w) = super::pipe::pipe_cloexec()?;
    let ready = ready_w.as_raw_fd();
    // SAFETY: the child only makes async-signal-safe calls (prctl, write,
    // poll, _exit): it waits to be read, and ends when killed, when the
    // coordinator's lifeline closes, or after ten seconds.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        // A process that changed its uid is not dumpable, and neither is
        // its child, which would keep even its own parent out; the child
        // makes itself a plain process of this uid again.
        make_dumpable();
        // SAFETY: as above.
        unsafe {
            libc::write(ready, [1u8].as_ptr().cast(), 1);
            for _ in 0..1000 {
                let mut p = libc::pollfd { fd: lifeline, events: libc::POLLIN, revents: 0 };
                if libc::poll(&mut p, 1, 10) > 0 {
                    break;
                }
            }
            libc::_exit(0)
        }
    }
    drop(ready_w);
    let mut byte = [0u8; 1];
    let _ = rustix::io::read(&ready_r, &mut byte);
    let reached = foreign_access(pid, addr, how, None);
    // SAFETY: kill and reap our own child.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
    }
    drop(cell);
    Ok(match reached {
        Ok(Some(v)) => v == MARK,
        Ok(None) => how == ForeignAccess::PtraceAttach,
        Err(_) => false,
    })
}

/// # References
/// - prctl(2) (Linux): `PR_SET_DUMPABLE` (a process that changed
///   credentials is not dumpable, so `ptrace` access checks keep others of
///   its uid out until it sets this back).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn make_dumpable() {
    // SAFETY: PR_SET_DUMPABLE with 1 takes plain integers (async-signal-safe).
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 1 as libc::c_ulong, 0, 0, 0) };
}

/// Elsewhere there is no such flag.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn make_dumpable() {}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn vm_call(pid: i32, addr: u64, write: Option<u64>) -> io::Result<Option<u64>> {
    let mut buf = write.unwrap_or(0).to_le_bytes();
    let local = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: 8 };
    let remote = libc::iovec { iov_base: addr as usize as *mut libc::c_void, iov_len: 8 };
    // SAFETY: one local iovec over a live buffer; the remote address is only
    // interpreted by the kernel in the other process.
    let n = unsafe {
        if write.is_some() {
            libc::process_vm_writev(pid, &local, 1, &remote, 1, 0)
        } else {
            libc::process_vm_readv(pid, &local, 1, &remote, 1, 0)
        }
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(if write.is_some() { None } else { Some(u64::from_le_bytes(buf)) })
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn vm_call(_pid: i32, _addr: u64, _write: Option<u64>) -> io::Result<Option<u64>> {
    Err(io::Error::from_raw_os_error(libc::ENOSYS))
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn ptrace_attach(pid: i32) -> io::Result<Option<u64>> {
    // SAFETY: PTRACE_ATTACH names a process by pid; no memory is passed.
    let r = unsafe { libc::ptrace(libc::PTRACE_ATTACH, pid, 0usize, 0usize) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut status = 0;
    // SAFETY: wait for the attach stop, then detach so the target runs on.
    unsafe {
        libc::waitpid(pid, &mut status, libc::__WALL);
        libc::ptrace(libc::PTRACE_DETACH, pid, 0usize, 0usize);
    }
    Ok(None)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn ptrace_attach(pid: i32) -> io::Result<Option<u64>> {
    // SAFETY: PT_ATTACHEXC names a process by pid; no memory is passed.
    let r = unsafe { libc::ptrace(libc::PT_ATTACHEXC, pid, std::ptr::null_mut(), 0) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: detach at once so the target runs on.
    unsafe { libc::ptrace(libc::PT_DETACH, pid, std::ptr::null_mut(), 0) };
    Ok(None)
}

/// What a descriptor number refers to in this process: device, inode and
/// current offset (`fstat(2)`, `lseek(2)`); `EBADF` when it is not open.
pub fn fd_identity(number: RawFd) -> io::Result<(u64, u64, u64)> {
    // SAFETY: fstat into a zeroed struct; an unopened number gives EBADF.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    check(unsafe { libc::fstat(number, &mut st) })?;
    // SAFETY: lseek on the same number; no memory involved.
    let off = unsafe { libc::lseek(number, 0, libc::SEEK_CUR) };
    let off = if off < 0 { u64::MAX } else { off as u64 };
    Ok((st.st_dev as u64, st.st_ino as u64, off))
}

/// Takes ownership of descriptor `number` if it is open in this process
/// (`fcntl(F_GETFD)`), and makes it close-on-exec.
pub fn adopt_number(number: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_GETFD only queries the number.
    check(unsafe { libc::fcntl(number, libc::F_GETFD) })?;
    // SAFETY: the number is open and nothing else in this process owns it
    // (it was placed at spawn for exactly this purpose).
    let fd = unsafe { OwnedFd::from_raw_fd(number) };
    super::fd::set_cloexec(std::os::fd::AsFd::as_fd(&fd), true)?;
    Ok(fd)
}

/// Waiting for another process to move in shared memory, without hogging a
/// core: yields a few times, then sleeps in the kernel on the word it waits
/// for ([`Backoff::wait_on`]), so that a loaded machine still lets the
/// other process run and the waiter wakes as soon as the word changes.
/// Progress, not an oracle: no verdict depends on how long a wait takes.
#[derive(Default)]
pub struct Backoff {
    rounds: u32,
}

impl Backoff {
    /// One more round of waiting for `word` to change from `seen`: a few
    /// yields, then a sleep in the kernel on the word itself until another
    /// process changes it and calls [`wake_word`] (Linux `futex(2)`
    /// `FUTEX_WAIT`; macOS `os_sync_wait_on_address(3)`, shared), at most
    /// 1 ms at a time so that a missed wake costs little. Spurious returns
    /// are allowed: the caller checks the word again.
    pub fn wait_on(&mut self, word: &AtomicU64, seen: u64) {
        self.rounds = self.rounds.saturating_add(1);
        if self.rounds <= 4 {
            // SAFETY: sched_yield has no preconditions.
            unsafe { libc::sched_yield() };
        } else {
            wait_word(word, seen, std::time::Duration::from_millis(1));
        }
    }
}

/// The 4 bytes of a 64-bit shared word that a 32-bit kernel wait compares:
/// its low half (counters the engine waits on stay below 2^32).
fn low_half(word: &AtomicU64) -> *mut u32 {
    let base = word.as_ptr().cast::<u32>();
    if cfg!(target_endian = "little") {
        base
    } else {
        base.wrapping_add(1)
    }
}

/// Sleeps in the kernel while `word` still holds `seen` (its low half), up
/// to `limit`; see [`Backoff::wait_on`].
///
/// # References
/// - futex(2) (Linux): `FUTEX_WAIT` without `FUTEX_PRIVATE_FLAG`, so that
///   another process's `FUTEX_WAKE` on the same shared page wakes it.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn wait_word(word: &AtomicU64, seen: u64, limit: std::time::Duration) {
    let ts = libc::timespec { tv_sec: limit.as_secs() as libc::time_t, tv_nsec: limit.subsec_nanos() as libc::c_long };
    // SAFETY: FUTEX_WAIT on an aligned 4-byte half of a live shared word,
    // with a relative timeout; the kernel compares it with `seen`.
    unsafe {
        libc::syscall(libc::SYS_futex, low_half(word), libc::FUTEX_WAIT, seen as u32, &ts as *const libc::timespec)
    };
}

/// Wakes every process sleeping on `word` in [`Backoff::wait_on`]; call it
/// after changing the word.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn wake_word(word: &AtomicU64) {
    // SAFETY: FUTEX_WAKE on an aligned 4-byte half of a live shared word.
    unsafe { libc::syscall(libc::SYS_futex, low_half(word), libc::FUTEX_WAKE, i32::MAX) };
}

/// # References
/// - os_sync_wait_on_address(3) (macOS 14.4): `OS_SYNC_WAIT_ON_ADDRESS_SHARED`
///   for a word in memory shared between processes; the timeout is in
///   nanoseconds of `OS_CLOCK_MACH_ABSOLUTE_TIME`.
#[cfg(target_os = "macos")]
fn wait_word(word: &AtomicU64, seen: u64, limit: std::time::Duration) {
    // SAFETY: a wait on an aligned 4-byte half of a live shared word.
    unsafe {
        darwin::os_sync_wait_on_address_with_timeout(
            low_half(word).cast(),
            u64::from(seen as u32),
            4,
            darwin::OS_SYNC_WAIT_ON_ADDRESS_SHARED,
            darwin::OS_CLOCK_MACH_ABSOLUTE_TIME,
            limit.as_nanos() as u64,
        )
    };
}

/// See the Linux backend.
#[cfg(target_os = "macos")]
pub fn wake_word(word: &AtomicU64) {
    // SAFETY: a wake on an aligned 4-byte half of a live shared word.
    unsafe { darwin::os_sync_wake_by_address_all(low_half(word).cast(), 4, darwin::OS_SYNC_WAKE_BY_ADDRESS_SHARED) };
}

/// Elsewhere: a short sleep (no cross-process address wait is known).
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "macos")))]
fn wait_word(_word: &AtomicU64, _seen: u64, _limit: std::time::Duration) {
    std::thread::sleep(std::time::Duration::from_micros(50));
}

/// See the Linux backend.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "macos")))]
pub fn wake_word(_word: &AtomicU64) {}

/// `<os/os_sync_wait_on_address.h>` (macOS 14.4 and later).
#[cfg(target_os = "macos")]
mod darwin {
    pub const OS_SYNC_WAIT_ON_ADDRESS_SHARED: u32 = 1;
    pub const OS_SYNC_WAKE_BY_ADDRESS_SHARED: u32 = 1;
    pub const OS_CLOCK_MACH_ABSOLUTE_TIME: u32 = 32;

    #[link(name = "System")]
    extern "C" {
        pub fn os_sync_wait_on_address_with_timeout(
            addr: *mut libc::c_void,
            value: u64,
            size: libc::size_t,
            flags: u32,
            clockid: u32,
            timeout_ns: u64,
        ) -> libc::c_int;
        pub fn os_sync_wake_by_address_all(addr: *mut libc::c_void, size: libc::size_t, flags: u32) -> libc::c_int;
    }
}

/// An atomic read-modify-write in shared memory: adds `n` to `word`
/// (sequentially consistent) and returns the previous value.
pub fn fetch_add(word: &AtomicU64, n: u64) -> u64 {
    if deviant::is(Deviation::FetchAddNotAtomic) {
        let v = word.load(Ordering::SeqCst);
        // The store comes late, as after a preemption between the two.
        pause_point(1);
        word.store(v.wrapping_add(n), Ordering::SeqCst);
        return v;
    }
    word.fetch_add(n, Ordering::SeqCst)
}

/// Publishes data through shared memory: `write_data` stores the data
/// (relaxed), then `flag` is set to `value` with a release store, so that
/// a process that acquire-loads `value` from the flag sees all the data.
pub fn publish(flag: &AtomicU64, value: u64, write_data: impl FnOnce()) {
    if deviant::is(Deviation::PublishFlagBeforeData) {
        flag.store(value, Ordering::Relaxed);
        // The data stores come late, as after a preemption here.
        pause_point(1);
        write_data();
        return;
    }
    write_data();
    flag.store(value, Ordering::Release);
    wake_word(flag);
}

/// Gives a short pause at a schedule's pause point: `sched_yield(2)` a few
/// times, so that another process may run in between.
pub fn pause_point(yields: u32) {
    for _ in 0..yields {
        // SAFETY: sched_yield has no preconditions.
        unsafe { libc::sched_yield() };
    }
}
