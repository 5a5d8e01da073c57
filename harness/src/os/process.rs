//! Processes: spawning the actor programs (`fork(2)` + `execve(2)` through
//! `std::process::Command`, never a bare fork), process groups
//! (`setpgid(2)`, `killpg(3)`), and the lifeline that ends actors when their
//! coordinator goes away.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Condvar, Mutex, OnceLock};

/// The environment variable that selects the role of a re-executed binary.
pub const ROLE_ENV: &str = "IPC_CONFORM_ROLE";

/// The descriptor number of the lifeline's read end in every actor.
pub const LIFELINE_FD: RawFd = 3;

/// Forks and descriptors under test must not overlap: between `fork` and
/// `exec` a child holds a copy of every descriptor of the coordinator, and
/// while the coordinator still holds a pipe end or socket under test, a
/// concurrent spawn (another test thread) would hold a hidden copy — enough
/// to delay an end of file or an EPIPE. So spawns take a fork permit, and a
/// coordinator that creates descriptors under test holds [`quiet_forks`]
/// from their creation until it has handed them over and closed its own
/// copies. The same thread may spawn while it holds the quiet guard (its
/// own spawn returns only after the child's exec).
struct ForkLock {
    state: Mutex<ForkState>,
    changed: Condvar,
}

#[derive(Default)]
struct ForkState {
    forks: usize,
    quiet: Option<std::thread::ThreadId>,
    depth: usize,
}

static FORK_LOCK: ForkLock =
    ForkLock { state: Mutex::new(ForkState { forks: 0, quiet: None, depth: 0 }), changed: Condvar::new() };

fn fork_state() -> std::sync::MutexGuard<'static, ForkState> {
    FORK_LOCK.state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Held while no other thread may fork (see [`ForkLock`]); reentrant.
pub struct QuietForks(());

/// Waits until no other thread is forking, then keeps every other thread
/// from forking until the guard drops.
pub fn quiet_forks() -> QuietForks {
    let me = std::thread::current().id();
    let mut st = fork_state();
    while st.forks > 0 || st.quiet.is_some_and(|t| t != me) {
        st = FORK_LOCK.changed.wait(st).unwrap_or_else(|e| e.into_inner());
    }
    st.quiet = Some(me);
    st.depth += 1;
    QuietForks(())
}

impl Drop for QuietForks {
    fn drop(&mut self) {
        let mut st = fork_state();
        st.depth -= 1;
        if st.depth == 0 {
            st.quiet = None;
            FORK_LOCK.changed.notify_all();
        }
    }
}

struct ForkPermit(());

fn fork_permit() -> ForkPermit {
    let me = std::thread::current().id();
    let mut st = fork_state();
    while st.quiet.is_some_and(|t| t != me) {
        st = FORK_LOCK.changed.wait(st).unwrap_or_else(|e| e.into_inner());
    }
    st.forks += 1;
    ForkPermit(())
}

impl Drop for ForkPermit {
    fn drop(&mut self) {
        let mut st = fork_state();
        st.forks -= 1;
        if st.forks == 0 {
            FORK_LOCK.changed.notify_all();
        }
    }
}

/// The coordinator's lifeline: a pipe whose write end only the coordinator
/// holds. Every actor gets the read end and watches it; when the
/// coordinator exits, however it exits, the actor reads end-of-file and
/// ends itself.
fn lifeline() -> io::Result<BorrowedFd<'static>> {
    static LIFELINE: OnceLock<Result<(OwnedFd, OwnedFd), i32>> = OnceLock::new();
    match LIFELINE.get_or_init(|| super::pipe::pipe_cloexec().map_err(|e| super::errno_of(&e))) {
        Ok((read, _write)) => Ok(read.as_fd()),
        Err(errno) => Err(io::Error::from_raw_os_error(*errno)),
    }
}

/// What to start: this same executable in a role, with descriptors placed at
/// fixed numbers in the child.
pub struct SpawnSpec<'a> {
    /// The role (`actor`, `producer`, `consumer`), passed in [`ROLE_ENV`].
    pub role: &'a str,
    /// Extra arguments after the executable name.
    pub args: &'a [String],
    /// Descriptors to place in the child: `(ours, number in the child)`.
    /// Every other descriptor of ours stays behind (all are close-on-exec).
    pub fds: &'a [(BorrowedFd<'a>, RawFd)],
}

/// This process's executable as found once, at the first spawn: its path
/// as the process sees it (`current_exe`: the link `/proc/self/exe`
/// resolved, which a wrapper such as valgrind or a user-mode emulator
/// answers with the program it runs, not itself), the file's identity, and
/// an open descriptor of it.
struct OwnImage {
    path: std::path::PathBuf,
    id: (u64, u64),
    file: std::fs::File,
}

fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

fn own_image() -> io::Result<&'static OwnImage> {
    static IMAGE: OnceLock<Result<OwnImage, (io::ErrorKind, String)>> = OnceLock::new();
    let found = IMAGE.get_or_init(|| {
        let find = || -> io::Result<OwnImage> {
            let path = std::env::current_exe()?;
            let file = std::fs::File::open(&path)?;
            let id = identity(&file.metadata()?);
            Ok(OwnImage { path, id, file })
        };
        find().map_err(|e| (e.kind(), e.to_string()))
    });
    found.as_ref().map_err(|(kind, msg)| io::Error::new(*kind, format!("finding this program's executable: {msg}")))
}

/// The path to start this executable again by. Normally its own path; if
/// that path no longer names the same file (the binary was rebuilt during
/// the run), the very image that runs, through the descriptor kept open
/// ([`image_by_descriptor`]).
fn own_executable() -> io::Result<std::path::PathBuf> {
    let image = own_image()?;
    match std::fs::metadata(&image.path) {
        Ok(meta) if identity(&meta) == image.id => Ok(image.path.clone()),
        _ => image_by_descriptor(&image.file),
    }
}

/// # References
/// - proc(5) (Linux): `/proc/self/fd/<n>` names the open file itself, also
///   once its path was replaced or removed; exec resolves it before the
///   descriptor (close-on-exec) goes.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn image_by_descriptor(file: &std::fs::File) -> io::Result<std::path::PathBuf> {
    Ok(std::path::PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd())))
}

/// Elsewhere no path names an open file: a replaced binary is an error.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn image_by_descriptor(_file: &std::fs::File) -> io::Result<std::path::PathBuf> {
    Err(io::Error::other("this program's executable was replaced during the run; start the run again"))
}

/// Starts this executable again as `spec.role`, in a process group of its
/// own, with the lifeline at [`LIFELINE_FD`] and `spec.fds` in place.
/// Standard input and output are `/dev/null`; standard error is inherited so
/// that a crashing actor is visible.
pub fn spawn_self(spec: &SpawnSpec<'_>) -> io::Result<Child> {
    let exe = own_executable()?;
    match spawn_self_from(exe, spec) {
        // The path was replaced between the look and the exec (a rebuild
        // racing a spawn): start the running image itself.
        Err(e) if exec_refused(&e) && own_executable().is_ok_and(|now| now != own_image_path()) => {
            spawn_self_from(own_executable()?, spec)
        }
        other => other,
    }
}

/// Whether a spawn failed at the exec of the file (not, say, at fork).
fn exec_refused(e: &io::Error) -> bool {
    [libc::EACCES, libc::ENOEXEC, libc::ENOENT, libc::ETXTBSY].contains(&super::errno_of(e))
}

fn own_image_path() -> std::path::PathBuf {
    own_image().map(|i| i.path.clone()).unwrap_or_default()
}

fn spawn_self_from(exe: std::path::PathBuf, spec: &SpawnSpec<'_>) -> io::Result<Child> {
    let lifeline = lifeline()?;
    let mut moves: Vec<(RawFd, RawFd)> = vec![(lifeline.as_raw_fd(), LIFELINE_FD)];
    moves.extend(spec.fds.iter().map(|(fd, target)| (fd.as_raw_fd(), *target)));
    let mut cmd = Command::new(exe);
    super::deviant::pass_on(&mut cmd);
    cmd.args(spec.args)
        .env(ROLE_ENV, spec.role)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .process_group(0);
    // Deviation: exec closes the placed descriptors above the engine's own
    // (the lifeline, 3, and the control channel, 4) all the same.
    let closes_inherited = super::deviant::for_children() == Some(super::deviant::Deviation::ExecClosesInherited);
    // SAFETY: the closure runs between fork and exec and only makes
    // async-signal-safe calls (fcntl, dup2) on descriptors it was given.
    unsafe {
        cmd.pre_exec(move || {
            place_fds(&moves)?;
            if closes_inherited {
                for (_, to) in &moves {
                    if *to > LIFELINE_FD + 1 {
                        libc::fcntl(*to, libc::F_SETFD, libc::FD_CLOEXEC);
                    }
                }
            }
            Ok(())
        });
    }
    let _permit = fork_permit();
    cmd.spawn()
}

/// Starts any other program (a shell, a helper) under the fork permit, so
/// that it cannot inherit, between its fork and its exec, a descriptor
/// under test that another thread holds (see [`quiet_forks`]). Every spawn
/// of the engine goes through here or [`spawn_self`].
pub fn spawn_command(cmd: &mut Command) -> io::Result<Child> {
    let _permit = fork_permit();
    cmd.spawn()
}

/// Moves each `(from, to)` descriptor to its number: first out of the way
/// (above every target), then down, so that targets that collide with
/// sources are safe; `dup2` clears close-on-exec on the new descriptor.
fn place_fds(moves: &[(RawFd, RawFd)]) -> io::Result<()> {
    const PARK: RawFd = 200;
    let mut parked = [0 as RawFd; 32];
    if moves.len() > parked.len() {
        return Err(io::Error::from_raw_os_error(libc::EMFILE));
    }
    for (i, (from, _)) in moves.iter().enumerate() {
        // SAFETY: plain fcntl on a descriptor that is open in this process.
        let fd = unsafe { libc::fcntl(*from, libc::F_DUPFD_CLOEXEC, PARK) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        parked[i] = fd;
    }
    for (i, (_, to)) in moves.iter().enumerate() {
        // SAFETY: dup2 onto a number we own in the child.
        if unsafe { libc::dup2(parked[i], *to) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Marks every descriptor from 3 up close-on-exec: a coordinator calls it
/// first thing, so that descriptors it inherited without the flag (a
/// build tool's jobserver pipe, a shell's stray) never reach an actor or
/// any other program it starts. The coordinator itself may go on using
/// them.
///
/// # References
/// - close_range(2) (Linux 5.11+, `CLOSE_RANGE_CLOEXEC`); fcntl(2)
///   `F_SETFD` elsewhere and as the fallback.
pub fn seal_inherited() {
    if !seal_by_close_range() {
        for fd in 3..descriptor_limit() {
            // SAFETY: fcntl on a number of this process; a closed number
            // fails with EBADF, which changes nothing.
            unsafe {
                let flags = libc::fcntl(fd, libc::F_GETFD);
                if flags >= 0 && flags & libc::FD_CLOEXEC == 0 {
                    libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
                }
            }
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn seal_by_close_range() -> bool {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: close_range with the CLOEXEC flag closes nothing.
    unsafe { libc::syscall(libc::SYS_close_range, 3 as libc::c_uint, libc::c_uint::MAX, CLOSE_RANGE_CLOEXEC) == 0 }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn seal_by_close_range() -> bool {
    false
}

/// The highest descriptor number worth visiting one by one: the soft
/// `RLIMIT_NOFILE`, at most 65536.
pub(crate) fn descriptor_limit() -> RawFd {
    // SAFETY: getrlimit into a local.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return 1024;
    }
    if lim.rlim_cur == libc::RLIM_INFINITY || lim.rlim_cur > 65536 {
        65536
    } else {
        lim.rlim_cur as RawFd
    }
}

/// In a forked child that will not exec: closes every descriptor from
/// `first` up.
///
/// # Safety
/// Closes numbers other code of this process may think it owns: only for
/// a child that is about to run code that knows its descriptors (the fork
/// server's actor). Async-signal-safe.
pub unsafe fn close_from(first: RawFd) {
    if !close_range_between(first, RawFd::MAX) {
        for fd in first..descriptor_limit() {
            // SAFETY: per the contract above.
            unsafe { libc::close(fd) };
        }
    }
}

/// In a forked child: closes every descriptor from 3 up but those in
/// `keep`; where the ranges between them cannot be closed at once, one by
/// one below `fallback_limit` (decided before the fork: the child may only
/// make async-signal-safe calls).
///
/// # Safety
/// As [`close_from`]. Async-signal-safe: no allocation (`keep` is walked
/// in place, smallest first).
///
/// # References
/// - close_range(2) (Linux 5.9+); close(2) elsewhere and as the fallback.
pub unsafe fn close_all_but(keep: &[RawFd], fallback_limit: RawFd) {
    let mut from: RawFd = 3;
    loop {
        let next = keep.iter().copied().filter(|k| *k >= from).min();
        let last = next.map_or(RawFd::MAX, |k| k - 1);
        if last >= from && !close_range_between(from, last) {
            for fd in from..=last.min(fallback_limit.saturating_sub(1)) {
                // SAFETY: per the contract above.
                unsafe { libc::close(fd) };
            }
        }
        match next {
            Some(k) if k < RawFd::MAX => from = k + 1,
            _ => return,
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn close_range_between(first: RawFd, last: RawFd) -> bool {
    // SAFETY: per close_from's and close_all_but's contract.
    unsafe { libc::syscall(libc::SYS_close_range, first as libc::c_uint, last as libc::c_uint, 0 as libc::c_uint) == 0 }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn close_range_between(_first: RawFd, _last: RawFd) -> bool {
    false
}

/// Forks, the child `_exit`s at once, and reaps it: the floor of any
/// process start (for `bench`). Under the fork permit like every fork.
///
/// # References
/// - [fork(2)](https://man7.org/linux/man-pages/man2/fork.2.html)
pub fn fork_and_reap() -> io::Result<()> {
    let _permit = fork_permit();
    // SAFETY: the child only calls _exit, which is async-signal-safe.
    match unsafe { nix::unistd::fork() }? {
        nix::unistd::ForkResult::Child => unsafe { libc::_exit(0) },
        nix::unistd::ForkResult::Parent { child } => loop {
            match nix::sys::wait::waitpid(child, None) {
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
                Ok(_) => return Ok(()),
            }
        },
    }
}

/// Sends `signal` to every process of the group led by `pgid`
/// (`killpg(3)`). A group that is already gone is not an error.
pub fn kill_group(pgid: i32, signal: nix::sys::signal::Signal) -> io::Result<()> {
    match nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid), signal) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Sends `signal` to one process (`kill(2)`); a process already gone is not
/// an error.
pub fn kill(pid: i32, signal: nix::sys::signal::Signal) -> io::Result<()> {
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The calling thread's id as the kernel's thread views name it: Linux
/// `gettid(2)`; macOS `pthread_threadid_np(3)` (what `proc_pidinfo`
/// `PROC_PIDTHREADID64INFO` takes); elsewhere the process id.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn current_tid() -> i64 {
    i64::from(rustix::thread::gettid().as_raw_nonzero().get())
}

/// The calling thread's id as the kernel's thread views name it: Linux
/// `gettid(2)`; macOS `pthread_threadid_np(3)` (what `proc_pidinfo`
/// `PROC_PIDTHREADID64INFO` takes); elsewhere the process id.
#[cfg(target_os = "macos")]
pub fn current_tid() -> i64 {
    let mut id = 0u64;
    // SAFETY: a null thread means the calling thread; `id` is valid.
    unsafe { libc::pthread_threadid_np(0, &mut id) };
    id as i64
}

/// The calling thread's id as the kernel's thread views name it: Linux
/// `gettid(2)`; macOS `pthread_threadid_np(3)` (what `proc_pidinfo`
/// `PROC_PIDTHREADID64INFO` takes); elsewhere the process id.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "macos")))]
pub fn current_tid() -> i64 {
    i64::from(std::process::id())
}

/// The environment variable that, set to `0`, makes every actor
/// non-dumpable at start, as on a hardened host: the kernel then refuses
/// an unprivileged coordinator the views of the actors' threads that need
/// ptrace access (Linux `/proc/<pid>/task/<tid>/syscall`, `wchan`). For
/// testing the evidence levels on a real restricted host.
pub const DUMPABLE_ENV: &str = "IPC_CONFORM_ACTOR_DUMPABLE";

/// In an actor: honours [`DUMPABLE_ENV`].
pub fn apply_dumpable_knob() {
    if std::env::var(DUMPABLE_ENV).is_ok_and(|v| v.trim() == "0") {
        set_not_dumpable();
    }
}

/// # References
/// - prctl(2) (Linux): `PR_SET_DUMPABLE` 0; proc(5): the files of a
///   non-dumpable process belong to root and need `CAP_SYS_PTRACE`.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn set_not_dumpable() {
    // SAFETY: PR_SET_DUMPABLE takes plain integers.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0 as libc::c_ulong, 0, 0, 0) };
}

/// Elsewhere there is no such flag (macOS's thread views need no ptrace
/// access).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn set_not_dumpable() {}

/// How an actor ends when its lifeline or control channel shows a fault
/// (its exit code says which; the coordinator, if alive, judges it as a
/// finding against the rule it breaks: [`crate::channel`]).
pub mod exit {
    /// The lifeline read end of file (the coordinator is gone, or the pipe
    /// said so while it held the write end).
    pub const LIFELINE_EOF: i32 = 70;
    /// The first message, the hello, could not be sent.
    pub const HELLO_UNSENT: i32 = 71;
    /// A control receive failed otherwise.
    pub const CONTROL_RECV: i32 = 72;
    /// A reply could not be sent.
    pub const CONTROL_SEND: i32 = 73;
    /// A blocking read of the lifeline returned `EAGAIN`.
    pub const LIFELINE_EAGAIN: i32 = 74;
    /// The lifeline, which nobody writes, returned a byte.
    pub const LIFELINE_STRAY: i32 = 75;
    /// A blocking control receive returned `EAGAIN`.
    pub const CONTROL_EAGAIN: i32 = 76;
    /// A control frame arrived short, garbled, or out of order.
    pub const CONTROL_GARBLED: i32 = 77;
    /// The lifeline read failed otherwise.
    pub const LIFELINE_ERROR: i32 = 78;
    /// An actor forked by the fork server could not take an exec'd
    /// actor's state (its control channel, signal mask, deviation).
    pub const FORKED_SETUP: i32 = 79;
}

/// In an actor: starts a thread that waits on the lifeline and ends the
/// process (`_exit(2)`) when the coordinator is gone, with an exit code
/// ([`exit`]) that says what the lifeline showed. The thread blocks every
/// signal, so that signals sent to the actor reach its main thread, whose
/// mask and handlers the rules set (a signal blocked there stays pending,
/// and `SIGCHLD` is not taken, and discarded, by this thread). It is
/// created with every signal already blocked (the creator blocks them
/// around the spawn and then restores its own mask): a thread that
/// blocked them only once it ran could, not yet scheduled, take a signal
/// the main thread had blocked, and run the rule's handler itself.
pub fn watch_lifeline() {
    use nix::sys::signal::{pthread_sigmask, SigSet, SigmaskHow};
    let early = super::deviant::is(super::deviant::Deviation::LifelineEofEarly);
    let mut before = SigSet::empty();
    let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::all()), Some(&mut before));
    // A bare POSIX thread on a small stack, not a `std::thread`: the
    // watcher only reads one descriptor and `_exit`s, and std's thread
    // start-up (a 2 MiB stack, an alternate signal stack, the C library's
    // per-thread heap arena on its first allocation) was a fifth of a
    // forked actor's CPU time (measured in README.md, Performance). The
    // watcher allocates nothing.
    // SAFETY: the attribute is initialized before use and destroyed after;
    // the thread function takes its argument by value (a flag) and never
    // returns into Rust code that unwinds.
    let started = unsafe {
        let mut attr = std::mem::zeroed::<libc::pthread_attr_t>();
        let mut ok = libc::pthread_attr_init(&mut attr) == 0;
        ok = ok && libc::pthread_attr_setstacksize(&mut attr, LIFELINE_STACK) == 0;
        ok = ok && libc::pthread_attr_setdetachstate(&mut attr, libc::PTHREAD_CREATE_DETACHED) == 0;
        let mut thread = std::mem::zeroed::<libc::pthread_t>();
        ok = ok && libc::pthread_create(&mut thread, &attr, lifeline_watcher, early as usize as *mut libc::c_void) == 0;
        libc::pthread_attr_destroy(&mut attr);
        ok
    };
    let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&before), None);
    if !started {
        // SAFETY: _exit ends the process without running anything else.
        unsafe { libc::_exit(exit::LIFELINE_ERROR) }
    }
}

/// The lifeline watcher's stack: it calls `read(2)` and `_exit(2)` only.
const LIFELINE_STACK: usize = 64 * 1024;

/// The lifeline watcher ([`watch_lifeline`]): reads the lifeline until it
/// shows the coordinator gone, then ends the process with the exit code
/// that says how. `early` (the argument, 0 or 1) plays the
/// `LifelineEofEarly` deviation.
extern "C" fn lifeline_watcher(early: *mut libc::c_void) -> *mut libc::c_void {
    // SAFETY: LIFELINE_FD was placed by the coordinator at spawn.
    let fd = unsafe { BorrowedFd::borrow_raw(LIFELINE_FD) };
    let mut byte = [0u8; 1];
    let code = loop {
        match if !early.is_null() { Ok(0) } else { rustix::io::read(fd, &mut byte) } {
            Err(rustix::io::Errno::INTR) => continue,
            Ok(0) => break exit::LIFELINE_EOF,
            Ok(_) => break exit::LIFELINE_STRAY,
            Err(rustix::io::Errno::AGAIN) => break exit::LIFELINE_EAGAIN,
            Err(_) => break exit::LIFELINE_ERROR,
        }
    };
    // SAFETY: _exit ends the process without running anything else.
    unsafe { libc::_exit(code) }
}

/// Describes an exit status as people read it (`exit 0`, `killed by SIGPIPE`).
pub fn describe_status(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(sig)) => format!("killed by {}", super::signal_name(sig)),
        _ => format!("{status}"),
    }
}

/// The unprivileged user and group that actors switch to when a rule needs
/// a second user (`nobody` on both Linux and macOS).
pub const UNPRIVILEGED: (u32, u32) = (65534, 65534);

/// Whether this process may act as another user (it runs as root), which
/// rules that need a second user require.
pub fn can_switch_user() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Gives up root for good: supplementary groups, then group, then user
/// (`setgroups(2)`, `setgid(2)`, `setuid(2)`).
pub fn drop_privileges(uid: u32, gid: u32) -> io::Result<()> {
    use nix::unistd::{setgid, setuid, Gid, Uid};
    if super::deviant::is(super::deviant::Deviation::PrivilegesKept) {
        return Ok(());
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    nix::unistd::setgroups(&[Gid::from_raw(gid)])?;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    // SAFETY: plain setgroups(2) with a one-element array that lives
    // through the call.
    if unsafe { libc::setgroups(1, &gid as *const u32 as *const libc::gid_t) } != 0 {
        return Err(io::Error::last_os_error());
    }
    setgid(Gid::from_raw(gid))?;
    setuid(Uid::from_raw(uid))?;
    super::deviant::note_privileges_dropped();
    Ok(())
}

/// Waits for `child` to end (`wait4(2)`) and returns its exit status and
/// its peak resident set size in bytes (`ru_maxrss` of getrusage(2): the
/// larger of the child's own peak and that of the largest descendant it
/// reaped; Linux counts it in KiB, macOS in bytes).
pub fn wait_with_peak_rss(child: std::process::Child) -> io::Result<(std::process::ExitStatus, u64)> {
    use std::os::unix::process::ExitStatusExt;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: a plain C struct of integers; zero is valid.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `status` and `usage` are valid for writes during the call.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    let maxrss = usage.ru_maxrss.max(0) as u64;
    #[cfg(target_os = "macos")]
    let bytes = maxrss;
    #[cfg(not(target_os = "macos"))]
    let bytes = maxrss * 1024;
    Ok((std::process::ExitStatus::from_raw(status), bytes))
}

/// Makes the calling thread's short timed waits (the `poll(2)` timeouts
/// between wait-state samples) end when asked instead of up to 50 µs later:
/// Linux `prctl(PR_SET_TIMERSLACK, 1)` (prctl(2), the timer slack); nothing
/// elsewhere.
pub fn precise_timers() {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        thread_local!(static SET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });
        if !SET.with(|s| s.replace(true)) {
            // SAFETY: PR_SET_TIMERSLACK takes a plain integer and touches
            // only the calling thread's timer slack.
            unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0) };
        }
    }
}

/// The child processes (live or zombie) of process `parent`.
///
/// # References
/// - Linux: proc(5), `/proc/<pid>/stat` (field 4, the parent's pid).
/// - macOS: `proc_listchildpids(3)` (libproc.h; xnu `proc_listpids` with
///   `PROC_PPID_ONLY`).
pub fn child_pids(parent: i32) -> io::Result<Vec<i32>> {
    child_pids_backend(parent)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn child_pids_backend(parent: i32) -> io::Result<Vec<i32>> {
    let mut kids = Vec::new();
    for entry in std::fs::read_dir("/proc")? {
        let Some(pid) = entry?.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
        // A process that ended meanwhile has no stat any more: not a child.
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        if ppid_of_stat(&stat) == Some(parent) {
            kids.push(pid);
        }
    }
    Ok(kids)
}

#[cfg(target_os = "macos")]
fn child_pids_backend(parent: i32) -> io::Result<Vec<i32>> {
    let mut buf = vec![0i32; 4096];
    let size = (buf.len() * std::mem::size_of::<i32>()) as libc::c_int;
    // SAFETY: the buffer is ours and `size` bytes long.
    let ret = unsafe { libc::proc_listchildpids(parent, buf.as_mut_ptr().cast(), size) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(pids_from_buffer(&buf, ret))
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "macos")))]
fn child_pids_backend(_parent: i32) -> io::Result<Vec<i32>> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "no way to list child processes on this platform"))
}

/// The parent's pid in a `/proc/<pid>/stat` line (after the command name,
/// which may hold spaces and parentheses: the last `)` ends it).
pub fn ppid_of_stat(stat: &str) -> Option<i32> {
    stat[stat.rfind(')')? + 1..].split_whitespace().nth(1)?.parse().ok()
}

/// The pids `proc_listchildpids` put in `buf`, given its return value
/// (documented as a count of pids; some releases return bytes): at most
/// that many entries, zero entries left out.
pub fn pids_from_buffer(buf: &[i32], ret: i32) -> Vec<i32> {
    buf.iter().take(usize::try_from(ret).unwrap_or(0)).copied().filter(|p| *p > 0).collect()
}

/// How many descriptors this process has open: the entries of `/dev/fd`
/// (Linux: a link to `/proc/self/fd`; macOS: fdescfs), less the one the
/// listing itself holds.
///
/// # References
/// - fd(4) (macOS), proc(5) (Linux)
pub fn open_fd_count() -> io::Result<usize> {
    let n = std::fs::read_dir("/dev/fd")?.count();
    Ok(n.saturating_sub(1))
}

/// Whether process `pid` exists (`kill(pid, 0)`: a zombie not yet reaped
/// counts, and one of another user that refuses the signal too).
///
/// # References
/// - [kill(2)](https://man7.org/linux/man-pages/man2/kill.2.html), "If sig is 0"
pub fn alive(pid: i32) -> bool {
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) => !is_zombie(pid),
        Err(nix::errno::Errno::EPERM) => true,
        Err(_) => false,
    }
}

/// Whether `pid` is a zombie, where the platform shows it (Linux
/// `/proc/<pid>/stat`); elsewhere `false`.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| super::proc::parse_stat_state(&s))
        .is_some_and(|state| state == 'Z')
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn is_zombie(_pid: i32) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    /// A child that kept 11, 100 and its report pipe and closed the rest
    /// (3, 10, 20, 4095 open before) says which of them it still holds.
    #[test]
    fn close_all_but_closes_every_descriptor_from_3_except_those_kept() {
        let (r, w) = super::super::pipe::pipe_plain().unwrap();
        let report = w.as_raw_fd();
        let probes: [RawFd; 6] = [3, 10, 11, 20, 100, 4095];
        let _quiet = quiet_forks();
        // SAFETY: the child makes only async-signal-safe calls, ending in _exit.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork: {}", io::Error::last_os_error());
        if pid == 0 {
            unsafe {
                for fd in probes {
                    if fd != report {
                        libc::dup2(libc::STDERR_FILENO, fd);
                    }
                }
                let report = if probes.contains(&report) { libc::dup(report) } else { report };
                close_all_but(&[11, 100, report], 4096);
                let mut open = [0u8; 6];
                for (i, fd) in probes.iter().enumerate() {
                    open[i] = u8::from(libc::fcntl(*fd, libc::F_GETFD) != -1);
                }
                libc::write(report, open.as_ptr().cast(), open.len());
                libc::_exit(0);
            }
        }
        drop(w);
        let mut seen = [0u8; 6];
        assert_eq!(rustix::io::read(&r, &mut seen).unwrap(), 6);
        nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None).unwrap();
        let still: Vec<RawFd> = probes.iter().zip(seen).filter(|(_, o)| *o == 1).map(|(fd, _)| *fd).collect();
        assert_eq!(still, vec![11, 100], "the descriptors the child still held");
    }
}
