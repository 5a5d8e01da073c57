//! The deviant OS layer: for the framework's own detection-power tests
//! (`ipc-conform mutants`), one chosen call can be made to misbehave on
//! purpose, one deviation at a time. Each deviation names the rule that
//! must catch it. The coordinator picks a deviation with
//! [`set_for_children`]; the actors and fixture programs it starts read it
//! from [`DEVIATE_ENV`] and the OS-layer wrappers below consult [`is`].
//! Without the variable nothing here changes any call.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::sync::{Mutex, OnceLock};

/// The environment variable that carries the deviation to child processes.
pub const DEVIATE_ENV: &str = "IPC_CONFORM_DEVIATE";

macro_rules! deviations {
    ($( $variant:ident = $name:literal, [$($rule:literal),+], $what:literal; )+) => {
        /// One way the OS layer can be made to misbehave.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Deviation { $( #[doc = $what] $variant, )+ }

        impl Deviation {
            /// Every deviation.
            pub const ALL: &'static [Deviation] = &[$(Deviation::$variant),+];

            /// Its name, as `--deviations` and the environment spell it.
            pub fn name(self) -> &'static str {
                match self { $(Deviation::$variant => $name,)+ }
            }

            /// The rules that must catch it.
            pub fn rules(self) -> &'static [&'static str] {
                match self { $(Deviation::$variant => &[$($rule),+],)+ }
            }

            /// What it does.
            pub fn what(self) -> &'static str {
                match self { $(Deviation::$variant => $what,)+ }
            }
        }
    };
}

deviations! {
    WriteOnReadEndSucceeds = "write-on-read-end-succeeds", ["pipe.direction.one-way"], "a write refused with EBADF reports success instead";
    ReadDropsAByte = "read-drops-a-byte", ["pipe.stream.order"], "a read of several bytes loses one in the middle";
    ReadEmptyReturnsZero = "read-empty-returns-zero", ["pipe.read.empty-blocks"], "a read with nothing available returns 0 at once";
    PipeNeverFull = "pipe-never-full", ["pipe.write.capacity-finite"], "a non-blocking write refused with EAGAIN reports success";
    FullWriteReturnsAtOnce = "full-write-returns-at-once", ["pipe.write.full-blocks"], "a blocking write that would block fails with EAGAIN instead";
    SmallWriteSplit = "small-write-split", ["pipe.write.atomic-pipe-buf"], "a write of several bytes writes only its first half";
    CloseKeepsHiddenCopy = "close-keeps-hidden-copy", ["pipe.eof.all-writers-closed", "socket.eof.peer-closed"], "close keeps a hidden duplicate of the descriptor open";
    EofAfterData = "eof-after-data", ["pipe.eof.any-writer-open"], "a reader that has had data reads 0 when nothing is available";
    WakeOneReader = "wake-one-reader", ["pipe.wake.all-readers"], "of the readers woken by end of file only the first returns";
    EpipeBecomesSuccess = "epipe-becomes-success", ["pipe.epipe.all-readers-closed", "socket.epipe.peer-closed"], "a write or send refused with EPIPE reports success";
    SigpipeSuppressed = "sigpipe-suppressed", ["pipe.sigpipe.default-kills"], "setting SIGPIPE to its default ignores it instead";
    FifoOpenNonblocking = "fifo-open-nonblocking", ["pipe.fifo.open-rendezvous"], "a blocking open of a FIFO is done non-blocking";
    ProducerIgnoresSigpipe = "producer-ignores-sigpipe", ["pipe.shell.pipeline"], "the pipeline's producer keeps SIGPIPE ignored";
    SendFails = "send-fails", ["socket.pair.bidirectional"], "every send on a connected socket fails with ENOTCONN";
    RecvDropsAByte = "recv-drops-a-byte", ["socket.stream.order"], "a stream receive of several bytes loses one in the middle";
    DatagramSplit = "datagram-split", ["socket.message.boundaries"], "a message of several bytes is sent as two messages";
    RecvEmptyReturnsZero = "recv-empty-returns-zero", ["socket.read.empty-blocks"], "a receive with nothing waiting returns 0 at once";
    SendNeverBlocks = "send-never-blocks", ["socket.write.full-blocks"], "a blocking send that would block fails with EAGAIN instead";
    ShutdownNoop = "shutdown-noop", ["socket.eof.shutdown-write"], "shutdown does nothing";
    AcceptFails = "accept-fails", ["socket.server.accept"], "accept fails with ECONNABORTED";
    UdpAltered = "udp-altered", ["socket.udp.datagram"], "a UDP datagram has one byte flipped on the way out";
    RightsReopen = "rights-reopen", ["socket.rights.fd-passing"], "SCM_RIGHTS passes a fresh open of the object instead of the open file description";
    PrivilegesKept = "privileges-kept", ["socket.path.permissions", "process.memory.no-foreign-access", "shm.permissions"], "dropping privileges does nothing";
    FileWriteHeldUntilClose = "file-write-held-until-close", ["file.write.visible"], "a write to a regular file is kept in the process until the descriptor is closed";
    RenameUnlinksTargetFirst = "rename-unlinks-target-first", ["file.rename.atomic-replace"], "a rename over an existing file unlinks the target first, then renames (a gap)";
    RenameCopiesInPlace = "rename-copies-in-place", ["file.rename.atomic-replace"], "a rename over an existing file copies the contents into it in place, then unlinks the source (torn)";
    NoreplaceReplaces = "noreplace-replaces", ["file.rename.noreplace"], "a rename that must not replace is a plain rename (RENAME_NOREPLACE ignored)";
    ExclIgnored = "excl-ignored", ["file.create.exclusive"], "open ignores O_EXCL";
    FlockAlwaysSucceeds = "flock-always-succeeds", ["file.lock.flock-exclusive"], "flock succeeds at once without locking";
    FcntlLockWholeFile = "fcntl-lock-whole-file", ["file.lock.fcntl-ranges"], "a process record lock (or unlock) covers the whole file, whatever its range";
    LockLeaksToSurvivor = "lock-leaks-to-survivor", ["file.lock.released-on-death"], "a flock or OFD lock leaks its open file description into a process that outlives the holder";
    OfdLockIsProcessLock = "ofd-lock-is-process-lock", ["file.lock.ofd"], "an OFD lock is taken as a traditional process-owned record lock";
    AppendSeeksThenWrites = "append-seeks-then-writes", ["file.append.atomic"], "a write under O_APPEND seeks to the end, then writes (two steps)";
    MapSharedIsPrivate = "map-shared-is-private", ["shm.shared.visible"], "mmap with MAP_SHARED makes a private mapping";
    MapPrivateIsShared = "map-private-is-shared", ["shm.private.copy-on-write"], "mmap with MAP_PRIVATE makes a shared mapping";
    FetchAddNotAtomic = "fetch-add-not-atomic", ["shm.sync.no-lost-updates"], "an atomic fetch-and-add in shared memory is a load then a store";
    PublishFlagBeforeData = "publish-flag-before-data", ["shm.sync.publish"], "a release publication stores its flag (relaxed) before the data, which come a moment later";
    WakeWakesNobody = "wake-wakes-nobody", ["shm.sync.wait-wake"], "a post sets the word but wakes no waiter (no FUTEX_WAKE, no sem_post)";
    ShmUnlinkDiscardsContents = "shm-unlink-discards-contents", ["shm.name.lifetime"], "shm_unlink truncates the object to nothing (and back) before removing the name";
    ShmChmodGrantsAll = "shm-chmod-grants-all", ["shm.permissions"], "fchmod of a shared-memory object ignores the mode and grants read and write to all (0666)";
    PwriteIgnoresOffset = "pwrite-ignores-offset", ["shm.file.coherence"], "pwrite writes at the descriptor's file offset instead of the given one";
    ForkSharesMemory = "fork-shares-memory", ["process.memory.private"], "fork leaves the parent's private memory shared with the child";
    ExecClosesInherited = "exec-closes-inherited", ["process.fd.inherited"], "a descriptor placed without close-on-exec for a spawned program is closed by exec all the same";
}

impl std::str::FromStr for Deviation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Deviation::ALL.iter().copied().find(|d| d.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Deviation::ALL.iter().map(|d| d.name()).collect();
            format!("unknown deviation `{s}`; known: {}", names.join(", "))
        })
    }
}

/// The deviation this process runs under (read once from the environment).
pub fn active() -> Option<Deviation> {
    static ACTIVE: OnceLock<Option<Deviation>> = OnceLock::new();
    *ACTIVE.get_or_init(|| std::env::var(DEVIATE_ENV).ok().and_then(|s| s.parse().ok()))
}

/// Whether `d` is the deviation in force here.
pub fn is(d: Deviation) -> bool {
    active() == Some(d)
}

static FOR_CHILDREN: Mutex<Option<Deviation>> = Mutex::new(None);

/// Chooses the deviation the processes started from now on run under.
///
/// A deviation may leave processes that outlive the actor that made them
/// ([`Deviation::LockLeaksToSurvivor`]); while one is chosen, this process
/// adopts such orphans (Linux: `prctl(PR_SET_CHILD_SUBREAPER)`), and
/// clearing the choice reaps them. So call it only while no actor of
/// this process is alive (between runs), as `ipc-conform mutants` does.
pub fn set_for_children(d: Option<Deviation>) {
    let mut chosen = FOR_CHILDREN.lock().unwrap_or_else(|e| e.into_inner());
    let adopting = *chosen == Some(Deviation::LockLeaksToSurvivor);
    if d == Some(Deviation::LockLeaksToSurvivor) && !adopting {
        adopt_orphans(true);
    } else if adopting && d != Some(Deviation::LockLeaksToSurvivor) {
        reap_orphans();
        adopt_orphans(false);
    }
    *chosen = d;
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn adopt_orphans(on: bool) {
    // SAFETY: prctl(PR_SET_CHILD_SUBREAPER) takes a plain integer.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, libc::c_ulong::from(on), 0, 0, 0) };
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn adopt_orphans(_on: bool) {
    // No subreapers here: orphans go to launchd, which reaps them.
}

/// Reaps the adopted orphans (`waitpid(-1, WNOHANG)`), waiting up to a few
/// seconds for those still running (a survivor ends within milliseconds of
/// its case's scratch directory going away).
fn reap_orphans() {
    let start = std::time::Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: waitpid with a valid status pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid > 0 {
            continue;
        }
        if pid < 0 || start.elapsed() > std::time::Duration::from_secs(5) {
            return; // ECHILD: none left
        }
        // A polling interval while survivors finish, not an oracle.
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// For [`Deviation::LockLeaksToSurvivor`]: forks a survivor that keeps a
/// copy of `fd` (its open file description, and with it any flock or OFD
/// lock) in a process group of its own, so that neither the holder's exit
/// nor a kill of the holder's group ends it. It closes every other
/// descriptor and ends (`_exit`) when the file has no name left (its
/// case's scratch directory was removed), when the coordinator's lifeline
/// closes, or after a minute.
pub fn leak_to_survivor(fd: BorrowedFd<'_>) {
    let keep = fd.as_raw_fd();
    let lifeline = super::process::LIFELINE_FD;
    // SAFETY: the child (the process is multi-threaded) only makes
    // async-signal-safe calls (setpgid, close, fstat, poll, _exit).
    if unsafe { libc::fork() } != 0 {
        return;
    }
    // SAFETY: as above; every call is on numbers of this process.
    unsafe {
        libc::setpgid(0, 0);
        for n in 0..1024 {
            if n != keep && n != lifeline {
                libc::close(n);
            }
        }
        for _ in 0..6000 {
            let mut st: libc::stat = std::mem::zeroed();
            if libc::fstat(keep, &mut st) != 0 || st.st_nlink == 0 {
                break;
            }
            let mut p = libc::pollfd { fd: lifeline, events: libc::POLLIN, revents: 0 };
            let r = libc::poll(&mut p, 1, 10);
            if r > 0 || (r < 0 && *errno_location() != libc::EINTR) {
                break;
            }
        }
        libc::_exit(0)
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
unsafe fn errno_location() -> *mut libc::c_int {
    libc::__errno_location()
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
unsafe fn errno_location() -> *mut libc::c_int {
    libc::__error()
}

static HELD: Mutex<Vec<(i32, Vec<u8>)>> = Mutex::new(Vec::new());

/// For [`Deviation::FileWriteHeldUntilClose`]: keeps `bytes` written to
/// `fd` in this process, to be written at [`flush_held`].
pub fn hold_write(fd: BorrowedFd<'_>, bytes: &[u8]) {
    let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
    match held.iter_mut().find(|(n, _)| *n == fd.as_raw_fd()) {
        Some((_, buf)) => buf.extend_from_slice(bytes),
        None => held.push((fd.as_raw_fd(), bytes.to_vec())),
    }
}

/// Writes what [`hold_write`] kept for `fd` (at close).
pub fn flush_held(fd: BorrowedFd<'_>) {
    let bytes = {
        let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
        match held.iter().position(|(n, _)| *n == fd.as_raw_fd()) {
            Some(i) => held.swap_remove(i).1,
            None => return,
        }
    };
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        match rustix::io::write(fd, rest) {
            Ok(0) => return,
            Ok(n) => rest = &rest[n..],
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => return,
        }
    }
}

/// The deviation to hand to children, if any.
pub fn for_children() -> Option<Deviation> {
    *FOR_CHILDREN.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sets (or clears) [`DEVIATE_ENV`] on a command about to start a child,
/// as the coordinator chose with [`set_for_children`].
pub fn pass_on(cmd: &mut std::process::Command) {
    match for_children() {
        Some(d) => cmd.env(DEVIATE_ENV, d.name()),
        None => cmd.env_remove(DEVIATE_ENV),
    };
}

/// Bytes waiting to be read on a pipe or socket (`ioctl(FIONREAD)`).
pub fn bytes_available(fd: BorrowedFd<'_>) -> io::Result<usize> {
    rustix::io::ioctl_fionread(fd).map(|n| n as usize).map_err(io::Error::from)
}

static HIDDEN: Mutex<Vec<OwnedFd>> = Mutex::new(Vec::new());

/// Keeps a hidden duplicate of `fd` open for the life of the process.
pub fn hide_copy(fd: BorrowedFd<'_>) {
    if let Ok(copy) = fd.try_clone_to_owned() {
        HIDDEN.lock().unwrap_or_else(|e| e.into_inner()).push(copy);
    }
}

/// For [`Deviation::WakeOneReader`]: whether another reader already took
/// the end-of-file wake-up (a marker only the first can claim: an abstract
/// unix socket name, which vanishes with its holder and leaves no file).
pub fn another_reader_woke() -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let name = format!("ipc-conform-wake-{}", std::os::unix::process::parent_id());
        let Ok(addr) = rustix::net::SocketAddrUnix::new_abstract_name(name.as_bytes()) else { return false };
        let Ok(sock) = rustix::net::socket(rustix::net::AddressFamily::UNIX, rustix::net::SocketType::DGRAM, None)
        else {
            return false;
        };
        match rustix::net::bind(&sock, &addr) {
            Ok(()) => {
                HIDDEN.lock().unwrap_or_else(|e| e.into_inner()).push(sock);
                false
            }
            Err(_) => true,
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        false
    }
}

/// For [`Deviation::RightsReopen`]: a fresh open of the object `fd` refers
/// to (Linux: through `/proc/self/fd`), a new open file description.
pub fn reopen(fd: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    use rustix::fs::{Mode, OFlags};
    let flags = rustix::fs::fcntl_getfl(fd)?;
    let access = flags & (OFlags::RDONLY | OFlags::WRONLY | OFlags::RDWR);
    let path = format!("/proc/self/fd/{}", fd.as_raw_fd());
    rustix::fs::open(path.as_str(), access | OFlags::CLOEXEC, Mode::empty()).map_err(io::Error::from)
}

/// Blocks forever (a deviation that never returns).
pub fn hang() -> ! {
    loop {
        // SAFETY: pause has no preconditions.
        unsafe { libc::pause() };
    }
}
