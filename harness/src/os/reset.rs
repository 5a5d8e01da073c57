//! Putting a process back the way it was, and checking that it is: what
//! reusing one actor across cases would take. Only `bench` uses it
//! (`spawn.actor_reset`, against an actor's start and end); README.md,
//! Performance, says why every case still gets fresh actors.
//!
//! A [`Checkpoint`] records what a case may change and a reset can put
//! back: the descriptor table, every signal's action, the signal mask,
//! the working directory, the file mode creation mask, the real-time
//! interval timer, and, to compare only, the user and group ids, the
//! process group and session, and the number of shared mappings (where
//! `/proc/self/maps` lists them). [`restore`] puts back what it can,
//! reads each back, and names what it found and could not undo.
//!
//! What no reset can undo, and a checkpoint cannot see: a System V
//! semaphore adjustment (`SEM_UNDO`), applied only when the process
//! exits; privileges given up; a child still running.
//!
//! # References
//! - [`sigaction(2)`], [`sigprocmask(2)`], [`sigpending(2)`]
//! - [`chdir(2)`], [`getcwd(3)`], [`umask(2)`], [`setitimer(2)`]
//! - [`waitpid(2)`], [`getresuid(2)`], [`proc_pid_maps(5)`]
//!
//! [`sigaction(2)`]: https://man7.org/linux/man-pages/man2/sigaction.2.html
//! [`sigprocmask(2)`]: https://man7.org/linux/man-pages/man2/sigprocmask.2.html
//! [`sigpending(2)`]: https://man7.org/linux/man-pages/man2/sigpending.2.html
//! [`chdir(2)`]: https://man7.org/linux/man-pages/man2/chdir.2.html
//! [`getcwd(3)`]: https://man7.org/linux/man-pages/man3/getcwd.3.html
//! [`umask(2)`]: https://man7.org/linux/man-pages/man2/umask.2.html
//! [`setitimer(2)`]: https://man7.org/linux/man-pages/man2/setitimer.2.html
//! [`waitpid(2)`]: https://man7.org/linux/man-pages/man2/waitpid.2.html
//! [`getresuid(2)`]: https://man7.org/linux/man-pages/man2/getresuid.2.html
//! [`proc_pid_maps(5)`]: https://man7.org/linux/man-pages/man5/proc_pid_maps.5.html

use nix::sys::signal::{SigSet, SigmaskHow};
use std::io;
use std::os::fd::RawFd;
use std::path::PathBuf;

/// What a reset puts back and compares (see the module's documentation).
pub struct Checkpoint {
    descriptors: Vec<i32>,
    actions: Vec<(i32, libc::sigaction)>,
    mask: SigSet,
    cwd: PathBuf,
    umask: libc::mode_t,
    ids: Ids,
    shared_maps: Option<usize>,
}

/// User and group ids (real, effective), process group and session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ids {
    uid: u32,
    euid: u32,
    gid: u32,
    egid: u32,
    pgrp: i32,
    sid: i32,
}

impl Ids {
    fn now() -> Ids {
        // SAFETY: these calls take no arguments (getsid(0): this process)
        // and cannot fail for the calling process.
        unsafe {
            Ids {
                uid: libc::getuid(),
                euid: libc::geteuid(),
                gid: libc::getgid(),
                egid: libc::getegid(),
                pgrp: libc::getpgrp(),
                sid: libc::getsid(0),
            }
        }
    }
}

impl Checkpoint {
    /// Records this process's state now.
    pub fn now() -> io::Result<Checkpoint> {
        let mut actions = Vec::new();
        for sig in catchable_signals() {
            if let Some(action) = action_of(sig)? {
                actions.push((sig, action));
            }
        }
        let mut mask = SigSet::empty();
        nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_SETMASK, None, Some(&mut mask))?;
        Ok(Checkpoint {
            descriptors: super::fd::open_descriptors(),
            actions,
            mask,
            cwd: std::env::current_dir()?,
            umask: current_umask(),
            ids: Ids::now(),
            shared_maps: shared_mappings(),
        })
    }
}

/// Puts this process back as `at` recorded it, closing every descriptor
/// that was not open then (`keep` stays open whatever it is), and reads
/// each part back. Returns what it found and could not undo, or that
/// did not read back as recorded; empty: the process is as it was.
pub fn restore(at: &Checkpoint, keep: &[RawFd]) -> Vec<String> {
    let mut residues = Vec::new();
    // Pending signals first: an action set to SIG_IGN discards a pending
    // signal of its kind (sigaction(2)), so none is delivered when the
    // mask is put back.
    let pending = pending_signals();
    let ignore = ignoring();
    for sig in catchable_signals() {
        if pending.contains(&sig) {
            // SAFETY: a valid action for a catchable signal.
            unsafe { libc::sigaction(sig, &ignore, std::ptr::null_mut()) };
        }
    }
    let mut differ = Vec::new();
    for (sig, action) in &at.actions {
        // SAFETY: the action was read from this process for this signal.
        unsafe { libc::sigaction(*sig, action, std::ptr::null_mut()) };
        match action_of(*sig) {
            Ok(Some(now)) if same_action(&now, action) => {}
            _ => differ.push(*sig),
        }
    }
    if !differ.is_empty() {
        residues.push(format!("the actions of signals {differ:?} did not read back as recorded"));
    }
    let mut mask = SigSet::empty();
    let set = nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&at.mask), Some(&mut mask))
        .and_then(|()| nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_SETMASK, None, Some(&mut mask)));
    if set.is_err() || mask != at.mask {
        residues.push("the signal mask did not read back as recorded".to_string());
    }
    let still = pending_signals();
    if !still.is_empty() {
        residues.push(format!("signals {still:?} are still pending"));
    }
    stop_interval_timer(&mut residues);
    let mut kept: Vec<RawFd> = at.descriptors.iter().copied().chain(keep.iter().copied()).collect();
    kept.sort_unstable();
    kept.dedup();
    // SAFETY: this process's own descriptors above those recorded are the
    // case's; nothing of the harness holds them (the actor's slots were
    // emptied before).
    unsafe { super::process::close_all_but(&kept, super::process::descriptor_limit()) };
    let open = super::fd::open_descriptors();
    let extra: Vec<i32> = open.iter().copied().filter(|fd| !kept.contains(fd)).collect();
    if !extra.is_empty() {
        residues.push(format!("descriptors {extra:?} are still open"));
    }
    if std::env::set_current_dir(&at.cwd).is_err() || std::env::current_dir().ok().as_ref() != Some(&at.cwd) {
        residues.push(format!("the working directory could not be put back to {}", at.cwd.display()));
    }
    // SAFETY: umask cannot fail; the second call reads the first's value.
    let read_back = unsafe {
        libc::umask(at.umask);
        libc::umask(at.umask)
    };
    if read_back != at.umask {
        residues.push("the file mode creation mask did not read back as recorded".to_string());
    }
    reap_children(&mut residues);
    let ids = Ids::now();
    if ids != at.ids {
        residues.push(format!("ids or process group changed ({:?}, recorded {:?}): not undone", ids, at.ids));
    }
    if let (Some(before), Some(now)) = (at.shared_maps, shared_mappings()) {
        if now != before {
            residues.push(format!("{now} shared mappings, {before} recorded"));
        }
    }
    residues
}

/// Reaps every ended child; a child still running is a residue (a reset
/// does not kill what a case started).
fn reap_children(residues: &mut Vec<String>) {
    loop {
        let mut status = 0;
        // SAFETY: WNOHANG waitpid for any child of this process.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        match pid {
            0 => {
                residues.push("a child is still running".to_string());
                return;
            }
            p if p > 0 => continue,
            _ => return, // ECHILD: none left
        }
    }
}

/// Turns the real-time interval timer off (`alarm(2)` shares it).
fn stop_interval_timer(residues: &mut Vec<String>) {
    let zero = libc::itimerval {
        it_interval: libc::timeval { tv_sec: 0, tv_usec: 0 },
        it_value: libc::timeval { tv_sec: 0, tv_usec: 0 },
    };
    let mut old = zero;
    // SAFETY: valid timer values; `old` receives the previous one.
    if unsafe { libc::setitimer(libc::ITIMER_REAL, &zero, &mut old) } != 0 {
        residues.push("the interval timer could not be turned off".to_string());
    }
}

/// The signals an action may be set for (all but `SIGKILL`, `SIGSTOP`).
fn catchable_signals() -> impl Iterator<Item = i32> {
    (1..=last_signal()).filter(|s| *s != libc::SIGKILL && *s != libc::SIGSTOP)
}

/// The action for `sig`; `None` for a number the C library keeps for
/// itself (`EINVAL`, e.g. glibc's two real-time signals for threads).
fn action_of(sig: i32) -> io::Result<Option<libc::sigaction>> {
    // SAFETY: an all-zero sigaction is a valid out value.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: reads the action only.
    if unsafe { libc::sigaction(sig, std::ptr::null(), &mut action) } == 0 {
        return Ok(Some(action));
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::EINVAL) {
        Ok(None)
    } else {
        Err(err)
    }
}

/// Whether two actions are the same handler with the same flags (those
/// a program sets: not the C library's own, see [`LIBC_FLAGS`]).
fn same_action(a: &libc::sigaction, b: &libc::sigaction) -> bool {
    a.sa_sigaction == b.sa_sigaction && (a.sa_flags & !LIBC_FLAGS) == (b.sa_flags & !LIBC_FLAGS)
}

/// The flags the C library adds to every action it sets: glibc and musl
/// add `SA_RESTORER` (0x04000000, the kernel's `asm/signal.h`; not in
/// the C library's headers) with their own return trampoline.
#[cfg(any(target_os = "linux", target_os = "android"))]
const LIBC_FLAGS: libc::c_int = 0x0400_0000;

#[cfg(not(any(target_os = "linux", target_os = "android")))]
const LIBC_FLAGS: libc::c_int = 0;

fn ignoring() -> libc::sigaction {
    // SAFETY: an all-zero sigaction is valid; the handler is set next.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = libc::SIG_IGN;
    action
}

/// The catchable signals pending for the calling thread or the process.
fn pending_signals() -> Vec<i32> {
    // SAFETY: an all-zero sigset_t is a valid out value, emptied first;
    // sigpending writes it; sigismember reads it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        if libc::sigpending(&mut set) != 0 {
            return Vec::new();
        }
        catchable_signals().filter(|s| libc::sigismember(&set, *s) == 1).collect()
    }
}

fn current_umask() -> libc::mode_t {
    // SAFETY: umask cannot fail; the second call puts the value back.
    unsafe {
        let mask = libc::umask(0o022);
        libc::umask(mask);
        mask
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn last_signal() -> i32 {
    libc::SIGRTMAX()
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn last_signal() -> i32 {
    31 // NSIG is 32 (signal.h)
}

/// The number of shared mappings `/proc/self/maps` lists (the fourth
/// permission letter `s`); `None` where there is no such listing.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn shared_mappings() -> Option<usize> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    Some(
        maps.lines()
            .filter(|l| l.split_whitespace().nth(1).is_some_and(|p| p.as_bytes().get(3) == Some(&b's')))
            .count(),
    )
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn shared_mappings() -> Option<usize> {
    None
}
