//! A supervisor's calls: fork a child that waits for a go-ahead and then
//! meets a chosen end (`_exit(code)`, a signal it raises, or a signal its
//! parent sends), and reap children with `waitpid(2)`.
//!
//! The child, forked from a process that may have other threads, makes
//! only async-signal-safe calls (`close`, `read`, `sigaction`, `kill`,
//! `getpid`, `_exit`). It first closes every descriptor it inherited but
//! its go-ahead pipe and standard I/O, so that it holds no copy of its
//! supervisor's control channel, objects, or other children's pipes. It waits on a pipe of its own: if its parent dies or drops
//! it, the read sees end of file and the child exits at once, so no child
//! outlives its supervisor for long.
//!
//! # References
//! - POSIX.1-2017 XSH `fork()`, `waitpid()`, `_exit()`, `kill()`;
//!   XBD `<sys/wait.h>` (`WIFEXITED`, `WEXITSTATUS`, `WIFSIGNALED`, `WTERMSIG`).
//! - waitpid(2), wait(2) (Linux, macOS).

use super::deviant::{self, Deviation};
use serde::{Deserialize, Serialize};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

/// How a child ends once released.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fate {
    /// `_exit(code)`.
    Exit(u8),
    /// It raises this signal against itself (default disposition restored
    /// first).
    Raise(i32),
    /// Its parent sends it this signal (`kill(2)`) instead of the go-ahead.
    Killed(i32),
}

/// A child waiting for its go-ahead.
#[derive(Debug)]
pub struct WaitingChild {
    /// Its process id.
    pub pid: i32,
    /// How it ends once released.
    pub fate: Fate,
    /// The write end of its go-ahead pipe (`None` once released).
    go: Option<OwnedFd>,
    /// A pidfd for it, once opened ([`pidfd_open`]).
    pub pidfd: Option<OwnedFd>,
}

/// What `waitpid(2)` said about one child.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// `WIFEXITED`, with `WEXITSTATUS`.
    Exited(i32),
    /// `WIFSIGNALED`, with `WTERMSIG`.
    Signaled(i32),
    /// `WIFSTOPPED`, with `WSTOPSIG` (asked with `WUNTRACED`).
    Stopped(i32),
    /// `WIFCONTINUED` (asked with `WCONTINUED`).
    Continued,
    /// Anything else, the raw status.
    Other(i32),
}

/// Forks a child that waits for [`release`] and then meets `fate`.
///
/// # References
/// - fork(2), pipe(2), read(2), sigaction(2), kill(2), _exit(2).
pub fn fork_waiting(fate: Fate) -> io::Result<WaitingChild> {
    let (r, w) = super::pipe::pipe_plain()?;
    super::fd::set_cloexec(std::os::fd::AsFd::as_fd(&w), true)?;
    let (signal, code) = fate_parts(fate);
    let read_fd = r.as_raw_fd();
    // Decided before the fork: the child may only make async-signal-safe calls.
    let max_fd = fd_limit();
    let _quiet = super::process::quiet_forks();
    // SAFETY: the child below makes only async-signal-safe calls.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        // SAFETY: async-signal-safe calls only, ending in _exit.
        unsafe {
            super::process::close_all_but(&[read_fd], max_fd);
            await_go_then(read_fd, signal, code)
        }
    }
    drop(r);
    Ok(WaitingChild { pid, fate, go: Some(w), pidfd: None })
}

/// The signal a child raises (0: none) and the code it exits with, for `fate`.
fn fate_parts(fate: Fate) -> (i32, i32) {
    match fate {
        Fate::Raise(s) => (s, 0),
        Fate::Exit(c) => (0, i32::from(c)),
        Fate::Killed(_) => (0, 0),
    }
}

/// The descriptor numbers a forked child closes below (decided before the
/// fork: the child may only make async-signal-safe calls).
fn fd_limit() -> i32 {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current.map_or(4096, |n| n.min(4096)) as i32
}

/// In a forked child: waits for the go-ahead byte on `read_fd` (end of
/// file: the supervisor let go, so `_exit(0)`), then raises `signal`
/// (if not 0) with its default action, or `_exit(code)`.
///
/// # Safety
/// Async-signal-safe calls only; for a forked child.
unsafe fn await_go_then(read_fd: i32, signal: i32, code: i32) -> ! {
    // SAFETY: read, sigaction, sigprocmask, kill, getpid and _exit are
    // async-signal-safe; every pointer is to a local.
    unsafe {
        let mut byte = 0u8;
        let n = loop {
            let n = libc::read(read_fd, (&mut byte as *mut u8).cast(), 1);
            if n < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            break n;
        };
        if n != 1 {
            libc::_exit(0); // the supervisor let go of it
        }
        if signal != 0 {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(signal, &action, std::ptr::null_mut());
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, signal);
            libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            libc::kill(libc::getpid(), signal);
            libc::_exit(126); // the signal did not end it
        }
        libc::_exit(code)
    }
}

/// A waiting child that has forked a grandchild of its own: the child
/// (the middle) waits for its go-ahead and then meets its fate, as a
/// [`WaitingChild`]; the grandchild answers each ask with its pid and its
/// parent's pid (`getppid()`), and ends once the supervisor stops asking
/// (closes its end).
#[derive(Debug)]
pub struct Family {
    /// The middle child: the supervisor's own.
    pub middle: WaitingChild,
    /// The grandchild's pid.
    pub grandchild: i32,
    /// The write end of the grandchild's ask pipe (`None` once let go).
    ask: Option<OwnedFd>,
    /// The read end of its answers.
    answer: OwnedFd,
}

impl Family {
    /// Asks the grandchild: its `(pid, getppid())`.
    ///
    /// # References
    /// - getppid(2); write(2), read(2).
    pub fn ask(&self) -> io::Result<(i32, i32)> {
        let ask = self.ask.as_ref().ok_or_else(|| io::Error::from_raw_os_error(libc::EALREADY))?;
        rustix::io::write(ask, &[1])?;
        let mut got = [0u8; 8];
        let mut n = 0;
        while n < got.len() {
            match rustix::io::read(&self.answer, &mut got[n..]) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
                Ok(k) => n += k,
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let word = |b: &[u8]| i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        Ok((word(&got[..4]), word(&got[4..])))
    }

    /// Lets the grandchild go: it ends (`_exit(0)`).
    pub fn let_go(&mut self) {
        self.ask = None;
    }
}

/// Forks a child that forks a grandchild (see [`Family`]), then waits
/// for [`release`] and meets `fate`; learns the grandchild's pid by a
/// first ask.
///
/// # References
/// - fork(2), getppid(2), pipe(2), _exit(2).
pub fn fork_family(fate: Fate) -> io::Result<Family> {
    use std::os::fd::AsFd;
    let (go_r, go_w) = super::pipe::pipe_plain()?;
    let (ask_r, ask_w) = super::pipe::pipe_plain()?;
    let (answer_r, answer_w) = super::pipe::pipe_plain()?;
    for end in [&go_w, &ask_w, &answer_r] {
        super::fd::set_cloexec(end.as_fd(), true)?;
    }
    let (signal, code) = fate_parts(fate);
    let (go, ask, answer) = (go_r.as_raw_fd(), ask_r.as_raw_fd(), answer_w.as_raw_fd());
    let stale = deviant::is(Deviation::OrphanPpidStale);
    let max_fd = fd_limit();
    let _quiet = super::process::quiet_forks();
    // SAFETY: the child below makes only async-signal-safe calls.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        // SAFETY: async-signal-safe calls only, ending in _exit.
        unsafe {
            super::process::close_all_but(&[go, ask, answer], max_fd);
            let grandchild = libc::fork();
            if grandchild == 0 {
                libc::close(go);
                answer_asks(ask, answer, stale);
            }
            libc::close(ask);
            libc::close(answer);
            if grandchild < 0 {
                libc::_exit(125);
            }
            await_go_then(go, signal, code)
        }
    }
    drop((go_r, ask_r, answer_w));
    let mut family = Family {
        middle: WaitingChild { pid, fate, go: Some(go_w), pidfd: None },
        grandchild: 0,
        ask: Some(ask_w),
        answer: answer_r,
    };
    family.grandchild = family.ask()?.0;
    Ok(family)
}

/// In a forked child: waits for the next ask byte on `ask`; `_exit(0)`
/// at end of file (the supervisor let go of it).
///
/// # Safety
/// Async-signal-safe calls only; for a forked child.
unsafe fn await_ask(ask: i32) {
    // SAFETY: read and _exit are async-signal-safe; the pointer is to a local.
    unsafe {
        loop {
            let mut byte = 0u8;
            let n = libc::read(ask, (&mut byte as *mut u8).cast(), 1);
            if n < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            if n != 1 {
                libc::_exit(0);
            }
            return;
        }
    }
}

/// In the grandchild: answers each ask byte on `ask` with its pid and
/// `getppid()` on `answer` (with `stale`, the parent it had at the start:
/// the deviation), and `_exit(0)` at end of file.
///
/// # Safety
/// Async-signal-safe calls only; for a forked child.
unsafe fn answer_asks(ask: i32, answer: i32, stale: bool) -> ! {
    // SAFETY: read, write, getpid, getppid and _exit are async-signal-safe.
    unsafe {
        let first = libc::getppid();
        loop {
            await_ask(ask);
            let ppid = if stale { first } else { libc::getppid() };
            let mut out = [0u8; 8];
            out[..4].copy_from_slice(&libc::getpid().to_le_bytes());
            out[4..].copy_from_slice(&ppid.to_le_bytes());
            if libc::write(answer, out.as_ptr().cast(), out.len()) != 8 {
                libc::_exit(0);
            }
        }
    }
}

/// A child in a process group of the supervisor's choosing, `SIGUSR1`
/// blocked, that answers each ask with whether `SIGUSR1` is pending
/// (`sigpending`), and ends once the supervisor stops asking.
#[derive(Debug)]
pub struct GroupMember {
    /// Its pid.
    pub pid: i32,
    /// The write end of its ask pipe (`None` once let go).
    ask: Option<OwnedFd>,
    /// The read end of its answers.
    answer: OwnedFd,
}

impl GroupMember {
    /// Whether `SIGUSR1` is pending in it.
    pub fn pending(&self) -> io::Result<bool> {
        let ask = self.ask.as_ref().ok_or_else(|| io::Error::from_raw_os_error(libc::EALREADY))?;
        rustix::io::write(ask, &[1])?;
        let mut got = [0u8; 1];
        loop {
            match rustix::io::read(&self.answer, &mut got) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
                Ok(_) => return Ok(got[0] == 1),
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Lets it go (it ends) and reaps it.
    pub fn end(&mut self) -> io::Result<()> {
        self.ask = None;
        waitpid(self.pid, false, false).map(drop)
    }
}

/// Forks a [`GroupMember`] in process group `group` (0: a new group of
/// its own, whose id is its pid), with `SIGUSR1` blocked from the fork
/// on; returns once the child is in its group (its ready byte), or fails
/// with `EPERM` if its `setpgid` was refused.
///
/// # References
/// - setpgid(2), sigprocmask(2), sigpending(2), fork(2).
pub fn fork_member(group: i32) -> io::Result<GroupMember> {
    use std::os::fd::AsFd;
    let (ask_r, ask_w) = super::pipe::pipe_plain()?;
    let (answer_r, answer_w) = super::pipe::pipe_plain()?;
    for end in [&ask_w, &answer_r] {
        super::fd::set_cloexec(end.as_fd(), true)?;
    }
    let (ask, answer) = (ask_r.as_raw_fd(), answer_w.as_raw_fd());
    let max_fd = fd_limit();
    let _quiet = super::process::quiet_forks();
    // SIGUSR1 blocked from the fork on (the child inherits the mask), so
    // that a signal to its group can never find it unprotected.
    use nix::sys::signal::{pthread_sigmask, SigSet, SigmaskHow, Signal};
    let mut usr1 = SigSet::empty();
    usr1.add(Signal::SIGUSR1);
    let mut old = SigSet::empty();
    pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&usr1), Some(&mut old))?;
    // SAFETY: the child below makes only async-signal-safe calls.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: async-signal-safe calls only, ending in _exit.
        unsafe {
            super::process::close_all_but(&[ask, answer], max_fd);
            // Ready (2): in its group, SIGUSR1 blocked; or refused (3).
            let ready: u8 = if libc::setpgid(0, group) == 0 { 2 } else { 3 };
            if libc::write(answer, [ready].as_ptr().cast(), 1) != 1 || ready != 2 {
                libc::_exit(0);
            }
            loop {
                await_ask(ask);
                let mut pending: libc::sigset_t = std::mem::zeroed();
                libc::sigpending(&mut pending);
                let out = [u8::from(libc::sigismember(&pending, libc::SIGUSR1) == 1)];
                if libc::write(answer, out.as_ptr().cast(), 1) != 1 {
                    libc::_exit(0);
                }
            }
        }
    }
    let forked = if pid < 0 { Err(io::Error::last_os_error()) } else { Ok(pid) };
    pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old), None)?;
    let pid = forked?;
    drop((ask_r, answer_w));
    let member = GroupMember { pid, ask: Some(ask_w), answer: answer_r };
    // Its ready byte: it is in its group before anyone can signal it.
    let mut ready = [0u8; 1];
    loop {
        match rustix::io::read(&member.answer, &mut ready) {
            Ok(1) if ready[0] == 2 => break,
            Ok(1) if ready[0] == 3 => {
                let _ = waitpid(pid, false, false);
                return Err(io::Error::from_raw_os_error(libc::EPERM)); // setpgid refused
            }
            Err(rustix::io::Errno::INTR) => {}
            Ok(_) => return Err(io::Error::other("a group member ended before it was ready")),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(member)
}

/// Sends `signal` to every process of group `pgid` (`kill(-pgid)`).
///
/// # References
/// - kill(2): a negative pid sends to every process in that process group.
pub fn kill_group(pgid: i32, signal: i32) -> io::Result<()> {
    // The deviation: the group's leader alone.
    let target = if deviant::is(Deviation::GroupKillHitsLeader) { pgid } else { -pgid };
    // SAFETY: kill(2) with a process group and a signal number.
    match unsafe { libc::kill(target, signal) } {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

/// Makes the calling process a subreaper, or no longer one: orphaned
/// descendants are re-parented to it rather than to init (Linux
/// `prctl(PR_SET_CHILD_SUBREAPER)`; `ENOSYS` elsewhere).
///
/// # References
/// - prctl(2) (Linux): PR_SET_CHILD_SUBREAPER.
pub fn set_subreaper(on: bool) -> io::Result<()> {
    if on && deviant::is(Deviation::SubreaperIgnored) {
        return Ok(());
    }
    subreaper::set(on)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod subreaper {
    use std::io;

    pub fn set(on: bool) -> io::Result<()> {
        // SAFETY: prctl(PR_SET_CHILD_SUBREAPER) takes a plain integer.
        match unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, libc::c_ulong::from(on), 0, 0, 0) } {
            0 => Ok(()),
            _ => Err(io::Error::last_os_error()),
        }
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod subreaper {
    use std::io;

    /// No subreapers here (the catalogue says so: orphans go to launchd).
    pub fn set(_on: bool) -> io::Result<()> {
        Err(io::Error::from_raw_os_error(libc::ENOSYS))
    }
}

/// Lets `child` meet its fate: the go-ahead byte, or for
/// [`Fate::Killed`] the signal.
///
/// # References
/// - write(2), kill(2).
pub fn release(child: &mut WaitingChild) -> io::Result<()> {
    let go = child.go.take().ok_or_else(|| io::Error::from_raw_os_error(libc::EALREADY))?;
    match child.fate {
        Fate::Killed(signal) => {
            // SAFETY: kill(2) with a child's pid and a signal number.
            if unsafe { libc::kill(child.pid, signal) } != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        }
        _ => rustix::io::write(&go, &[1]).map(drop).map_err(io::Error::from),
    }
}

/// `waitpid(pid, &status, flags)`, `pid` -1 for any child, with
/// `WNOHANG` when `nohang` and `WUNTRACED | WCONTINUED` when `job` (stops
/// and continues reported too): `None` when `WNOHANG` found nothing to
/// report, else the child and its status. Retries `EINTR` (a harness
/// call, not under test).
///
/// # References
/// - waitpid(2); POSIX.1-2017 XSH waitpid(): WUNTRACED, WCONTINUED; XBD
///   <sys/wait.h>: WIFSTOPPED, WSTOPSIG, WIFCONTINUED.
pub fn waitpid(pid: i32, nohang: bool, job: bool) -> io::Result<Option<(i32, Status)>> {
    let mut raw = 0;
    let mut flags = if nohang { libc::WNOHANG } else { 0 };
    if job {
        flags |= libc::WUNTRACED;
        // The deviation: WCONTINUED dropped from a WNOHANG waitpid, so a
        // continue is reported only to one that blocks.
        if !(nohang && deviant::is(Deviation::ContinueNotReported)) {
            flags |= libc::WCONTINUED;
        }
    }
    let got = loop {
        // SAFETY: a valid out-pointer for the status.
        let got = unsafe { libc::waitpid(pid, &mut raw, flags) };
        if got < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        break got;
    };
    if got < 0 {
        return Err(io::Error::last_os_error());
    }
    if got == 0 {
        return Ok(None);
    }
    let status = if libc::WIFEXITED(raw) {
        let code = libc::WEXITSTATUS(raw);
        Status::Exited(if deviant::is(Deviation::WaitStatusOffByOne) { (code + 1) & 0xff } else { code })
    } else if libc::WIFSIGNALED(raw) {
        Status::Signaled(libc::WTERMSIG(raw))
    } else if libc::WIFSTOPPED(raw) {
        Status::Stopped(libc::WSTOPSIG(raw))
    } else if libc::WIFCONTINUED(raw) {
        Status::Continued
    } else {
        Status::Other(raw)
    };
    Ok(Some((got, status)))
}

/// Stops child `pid` (`SIGSTOP`) and returns once it has stopped:
/// `waitid(P_PID, pid, WSTOPPED | WNOWAIT)`, which leaves the stop to be
/// reported by a later `waitpid`.
///
/// # References
/// - kill(2); waitid(2) (Linux, macOS); POSIX.1-2017 XSH waitid(): WSTOPPED, WNOWAIT.
pub fn stop(pid: i32) -> io::Result<()> {
    signal_and_settle(pid, libc::SIGSTOP, libc::WSTOPPED)
}

/// Continues stopped child `pid` (`SIGCONT`) and returns once its
/// continue is reportable: `waitid(P_PID, pid, WCONTINUED | WNOWAIT)`.
///
/// # References
/// - kill(2); waitid(2); POSIX.1-2017 XSH waitid(): WCONTINUED, WNOWAIT.
pub fn resume(pid: i32) -> io::Result<()> {
    signal_and_settle(pid, libc::SIGCONT, libc::WCONTINUED)
}

fn signal_and_settle(pid: i32, signal: i32, event: i32) -> io::Result<()> {
    // SAFETY: kill(2) with a child's pid and a signal number.
    if unsafe { libc::kill(pid, signal) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let id = libc::id_t::try_from(pid).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    loop {
        // SAFETY: an all-zero siginfo_t is a valid out-parameter.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: a valid out-pointer; P_PID names one child.
        let got = unsafe { libc::waitid(libc::P_PID, id, &mut info, event | libc::WNOWAIT) };
        if got == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINTR) {
            return Err(err);
        }
    }
}

/// How a supervisor treats `SIGCHLD`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SigchldMode {
    /// Default disposition, blocked: a child's end leaves it pending,
    /// and its children stay as zombies until reaped.
    #[default]
    Blocked,
    /// `SIG_IGN`: children are not kept as zombies.
    Ignored,
}

/// Puts `mode` in force in the calling thread (the actor's main thread;
/// its other thread blocks every signal).
///
/// # References
/// - sigaction(2), sigprocmask(2); POSIX.1-2017 XSH 2.4.3 (SIGCHLD set to SIG_IGN).
pub fn set_sigchld(mode: SigchldMode) -> io::Result<()> {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let handler = match mode {
        SigchldMode::Blocked => SigHandler::SigDfl,
        SigchldMode::Ignored if deviant::is(Deviation::SigIgnKeepsZombies) => SigHandler::SigDfl,
        SigchldMode::Ignored => SigHandler::SigIgn,
    };
    // SAFETY: installing SIG_DFL or SIG_IGN runs no code of ours.
    unsafe { sigaction(Signal::SIGCHLD, &SigAction::new(handler, SaFlags::empty(), SigSet::empty())) }?;
    let mut set = SigSet::empty();
    set.add(Signal::SIGCHLD);
    match mode {
        SigchldMode::Blocked => set.thread_block()?,
        SigchldMode::Ignored => set.thread_unblock()?,
    }
    Ok(())
}

/// Whether `SIGCHLD` is pending (`sigpending(2)`); if so it is taken
/// (`sigwait(3)`, which then returns at once), so that the next ask sees
/// only later ones.
///
/// # References
/// - sigpending(2), sigwait(3).
pub fn take_sigchld() -> io::Result<bool> {
    use nix::sys::signal::{SigSet, Signal};
    // SAFETY: sigpending fills the set it is given.
    let pending = unsafe {
        let mut raw: libc::sigset_t = std::mem::zeroed();
        if libc::sigpending(&mut raw) != 0 {
            return Err(io::Error::last_os_error());
        }
        libc::sigismember(&raw, libc::SIGCHLD) == 1
    };
    if pending {
        let mut set = SigSet::empty();
        set.add(Signal::SIGCHLD);
        set.wait()?;
    }
    Ok(pending && !deviant::is(Deviation::SigchldNotSent))
}

/// Whether process `pid` still exists, running or as a zombie
/// (`kill(pid, 0)`): `Ok` if so, `ESRCH` once it is gone.
///
/// # References
/// - kill(2): a signal of 0 checks for existence.
pub fn exists(pid: i32) -> io::Result<()> {
    // SAFETY: kill(2) with signal 0 sends nothing.
    match unsafe { libc::kill(pid, 0) } {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

/// `pidfd_open(pid, 0)` (Linux): a descriptor for process `pid` that
/// becomes readable once it has ended. Close-on-exec, as every pidfd.
///
/// # References
/// - pidfd_open(2) (Linux).
pub fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    pidfd::open(pid)
}

/// Whether a pidfd is readable (`poll(2)`): now (`wait` false), or after
/// waiting without a timeout until it is.
pub fn pidfd_readable(fd: std::os::fd::BorrowedFd<'_>, wait: bool) -> io::Result<bool> {
    use super::ready::{Interest, Interface};
    if deviant::is(Deviation::PidfdNeverReadable) {
        return Ok(false);
    }
    let r = match wait {
        false => super::ready::probe(fd, Interface::Poll, Interest::Read)?,
        true => super::ready::wait(fd, Interface::Poll, Interest::Read)?,
    };
    Ok(r.readable)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod pidfd {
    use std::io;
    use std::os::fd::OwnedFd;

    pub fn open(pid: i32) -> io::Result<OwnedFd> {
        let pid = rustix::process::Pid::from_raw(pid).ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
        rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).map_err(io::Error::from)
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod pidfd {
    use std::io;
    use std::os::fd::OwnedFd;

    /// No pidfds here (the catalogue says the rule does not apply).
    pub fn open(_pid: i32) -> io::Result<OwnedFd> {
        Err(io::Error::from_raw_os_error(libc::ENOSYS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_to_a_group_is_pending_in_each_member_and_no_outsider() {
        let mut first = fork_member(0).unwrap();
        let mut second = fork_member(first.pid).unwrap();
        let mut outsider = fork_member(0).unwrap();
        assert!(!first.pending().unwrap() && !second.pending().unwrap());
        kill_group(first.pid, libc::SIGUSR1).unwrap();
        assert!(first.pending().unwrap(), "the leader");
        assert!(second.pending().unwrap(), "a later member");
        assert!(!outsider.pending().unwrap(), "an outsider");
        for m in [&mut first, &mut second, &mut outsider] {
            m.end().unwrap();
        }
    }

    #[test]
    fn a_stop_and_a_continue_are_each_reported_once_with_the_job_flags() {
        let mut child = fork_waiting(Fate::Exit(3)).unwrap();
        let pid = child.pid;
        stop(pid).unwrap();
        assert_eq!(waitpid(pid, true, false).unwrap(), None, "no stop without WUNTRACED");
        assert_eq!(waitpid(pid, true, true).unwrap(), Some((pid, Status::Stopped(libc::SIGSTOP))));
        assert_eq!(waitpid(pid, true, true).unwrap(), None, "reported once");
        resume(pid).unwrap();
        assert_eq!(waitpid(pid, true, true).unwrap(), Some((pid, Status::Continued)));
        assert_eq!(waitpid(pid, true, true).unwrap(), None, "reported once");
        release(&mut child).unwrap();
        assert_eq!(waitpid(pid, false, true).unwrap(), Some((pid, Status::Exited(3))));
    }

    #[test]
    fn a_waiting_child_holds_no_copy_of_its_parent_s_descriptors() {
        let (r, w) = crate::os::pipe::pipe_plain().unwrap();
        let mut child = fork_waiting(Fate::Exit(9)).unwrap();
        drop(w);
        // Only the child could still hold the write end: end of file means it does not.
        // The child closes its copies right after the fork: wait for end of
        // file, bounded (a liveness guard; it comes within milliseconds).
        use rustix::event::{poll, PollFd, PollFlags, Timespec};
        let mut fds = [PollFd::new(&r, PollFlags::IN)];
        let _ = poll(&mut fds, Some(&Timespec { tv_sec: 10, tv_nsec: 0 }));
        crate::os::fd::set_nonblocking(std::os::fd::AsFd::as_fd(&r), true).unwrap();
        let mut byte = [0u8; 1];
        let got = rustix::io::read(&r, &mut byte);
        // Let the child go before judging, so that a failure leaves no child behind.
        release(&mut child).unwrap();
        assert_eq!(waitpid(child.pid, false, false).unwrap(), Some((child.pid, Status::Exited(9))));
        assert_eq!(got, Ok(0), "the child kept a copy of the write end (EAGAIN: a writer is left)");
    }
}
