//! Signal dispositions: `sigaction(2)`, signal(7).

use std::io;

pub use nix::sys::signal::Signal;

/// How a process treats `SIGPIPE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SigpipeDisposition {
    /// `SIG_DFL`: the process is ended by the signal.
    Default,
    /// `SIG_IGN`: the write fails with `EPIPE` instead.
    Ignore,
}

/// Sets the calling process's `SIGPIPE` disposition (`sigaction(2)`).
///
/// Rust's runtime sets `SIGPIPE` to ignored before `main` in every Rust
/// process, actors included: an actor that must die by `SIGPIPE` calls this
/// with [`SigpipeDisposition::Default`] itself.
pub fn set_sigpipe(disposition: SigpipeDisposition) -> io::Result<()> {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let handler = match disposition {
        SigpipeDisposition::Default if super::deviant::is(super::deviant::Deviation::SigpipeSuppressed) => {
            SigHandler::SigIgn
        }
        SigpipeDisposition::Default => SigHandler::SigDfl,
        SigpipeDisposition::Ignore => SigHandler::SigIgn,
    };
    let action = SigAction::new(handler, SaFlags::empty(), SigSet::empty());
    // SAFETY: SIG_DFL and SIG_IGN install no handler code.
    unsafe { sigaction(Signal::SIGPIPE, &action) }.map(|_| ()).map_err(io::Error::from)
}

/// Signals whose default action ends a process without a core dump and
/// that the harness's actors never catch or ignore: those a supervised
/// child may be ended by (`process.wait.status`).
pub const ENDING_SIGNALS: [i32; 7] =
    [libc::SIGTERM, libc::SIGKILL, libc::SIGUSR1, libc::SIGUSR2, libc::SIGHUP, libc::SIGINT, libc::SIGALRM];

/// A signal of the signal rules, by name rather than number (numbers
/// differ between platforms, so replay files name them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sig {
    /// `SIGUSR1`.
    Usr1,
    /// `SIGUSR2`.
    Usr2,
    /// `SIGRTMIN + n` (Linux; n below [`REALTIME`]).
    Rt(u8),
}

/// How many real-time signals the rules use (`SIGRTMIN` to `SIGRTMIN + 2`).
pub const REALTIME: u8 = 3;

impl Sig {
    /// Every signal the rules use, standard first.
    pub const ALL: [Sig; 5] = [Sig::Usr1, Sig::Usr2, Sig::Rt(0), Sig::Rt(1), Sig::Rt(2)];

    /// Its number here, or `None` where the platform has no such signal.
    pub fn number(self) -> Option<i32> {
        match self {
            Sig::Usr1 => Some(libc::SIGUSR1),
            Sig::Usr2 => Some(libc::SIGUSR2),
            Sig::Rt(n) if n < REALTIME => backend::realtime(n),
            Sig::Rt(_) => None,
        }
    }

    /// The signal of number `n` among [`Sig::ALL`].
    pub fn of(n: i32) -> Option<Sig> {
        Sig::ALL.into_iter().find(|s| s.number() == Some(n))
    }

    /// Whether it is a real-time signal (queued, with a value).
    pub fn realtime(self) -> bool {
        matches!(self, Sig::Rt(_))
    }
}

impl std::fmt::Display for Sig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sig::Usr1 => f.write_str("SIGUSR1"),
            Sig::Usr2 => f.write_str("SIGUSR2"),
            Sig::Rt(0) => f.write_str("SIGRTMIN"),
            Sig::Rt(n) => write!(f, "SIGRTMIN+{n}"),
        }
    }
}

/// One delivery recorded by [`catch`]'s handler: the signal, and its
/// value where it was queued (`si_code` `SI_QUEUE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The signal's number.
    pub signal: i32,
    /// `si_value.sival_int` of a queued signal.
    pub value: Option<i32>,
}

const LOG_CAP: usize = 1024;
static LOG: [std::sync::atomic::AtomicU64; LOG_CAP] = [const { std::sync::atomic::AtomicU64::new(0) }; LOG_CAP];
static LOGGED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static DELIVERED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many deliveries [`catch`]'s handler has seen in this process so far.
pub fn deliveries() -> u64 {
    DELIVERED.load(std::sync::atomic::Ordering::SeqCst)
}

/// The handler: appends the delivery to the log (lock-free atomics only,
/// so async-signal-safe).
extern "C" fn record(signal: libc::c_int, info: *mut libc::siginfo_t, _context: *mut libc::c_void) {
    use std::sync::atomic::Ordering::SeqCst;
    // SAFETY: the kernel passes a valid siginfo_t to an SA_SIGINFO handler.
    let value = unsafe { info.as_ref() }.and_then(backend::queued_value);
    let word = (u64::from(signal as u32) << 33) | value.map_or(0, |v| (1 << 32) | u64::from(v as u32));
    DELIVERED.fetch_add(1, SeqCst);
    let at = LOGGED.fetch_add(1, SeqCst);
    if at < LOG_CAP {
        LOG[at].store(word, SeqCst);
    }
}

/// The set of the given signals' numbers.
fn set_of(signals: &[i32]) -> nix::sys::signal::SigSet {
    let mut set = nix::sys::signal::SigSet::empty();
    for s in signals {
        // SAFETY: sigaddset on a set of our own, with a signal number of this platform.
        unsafe { libc::sigaddset(std::ptr::addr_of_mut!(set).cast(), *s) };
    }
    set
}

/// Catches each of `signals` with a handler that records every delivery
/// ([`take_deliveries`]), `SA_SIGINFO`, with `SA_RESTART` when `restart`,
/// and with every one of `signals` blocked while a handler runs, so that
/// deliveries run one at a time, in the order the kernel hands them out.
///
/// # References
/// - sigaction(2); POSIX.1-2017 XSH 2.4.3 Signal Actions, sigaction() (SA_SIGINFO, SA_RESTART, sa_mask).
pub fn catch(signals: &[i32], restart: bool) -> io::Result<()> {
    let mask = set_of(signals);
    // The deviation: SA_RESTART asked for and left out.
    let restart = restart && !super::deviant::is(super::deviant::Deviation::SaRestartIgnored);
    for s in signals {
        // SAFETY: an all-zero sigaction is valid; the handler is async-signal-safe.
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = record as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO | if restart { libc::SA_RESTART } else { 0 };
        // SAFETY: the set is a valid sigset_t (nix's SigSet wraps one).
        action.sa_mask = unsafe { *std::ptr::addr_of!(mask).cast::<libc::sigset_t>() };
        // SAFETY: a valid action for a catchable signal.
        if unsafe { libc::sigaction(*s, &action, std::ptr::null_mut()) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Sets each of `signals` to `SIG_IGN` (a pending one is discarded).
///
/// # References
/// - sigaction(2); POSIX.1-2017 XSH 2.4.3: setting SIG_IGN for a pending signal discards it.
pub fn ignore(signals: &[i32]) -> io::Result<()> {
    if super::deviant::is(super::deviant::Deviation::IgnoreIgnored) {
        return Ok(()); // the deviation: accepted, and the handler stays
    }
    for s in signals {
        // SAFETY: SIG_IGN installs no code.
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = libc::SIG_IGN;
        // SAFETY: a valid action for a catchable signal.
        if unsafe { libc::sigaction(*s, &action, std::ptr::null_mut()) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Tries to catch `SIGKILL`, to ignore `SIGKILL` and `SIGSTOP`, and to
/// block both, then reads the mask back: the three `errno`s (0 if the
/// call was accepted), and whether each of the two is in the mask.
///
/// # References
/// - sigaction(2): EINVAL for SIGKILL and SIGSTOP; sigprocmask(2): it is not possible to block
///   SIGKILL or SIGSTOP, attempts to do so are silently ignored.
pub fn uncatchable() -> io::Result<[i64; 5]> {
    let attempt = |signal: i32, handler: usize| -> i64 {
        // SAFETY: an all-zero sigaction is valid.
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = handler;
        action.sa_flags = libc::SA_SIGINFO;
        // SAFETY: a valid action; the kernel refuses it for these signals.
        match unsafe { libc::sigaction(signal, &action, std::ptr::null_mut()) } {
            0 => 0,
            _ => i64::from(io::Error::last_os_error().raw_os_error().unwrap_or(-1)),
        }
    };
    let catch_kill = attempt(libc::SIGKILL, record as *const () as usize);
    let ignore_kill = attempt(libc::SIGKILL, libc::SIG_IGN);
    let ignore_stop = attempt(libc::SIGSTOP, libc::SIG_IGN);
    use nix::sys::signal::{pthread_sigmask, SigmaskHow};
    let both = set_of(&[libc::SIGKILL, libc::SIGSTOP]);
    let mut old = nix::sys::signal::SigSet::empty();
    pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&both), Some(&mut old))?;
    let mut now = nix::sys::signal::SigSet::empty();
    pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old), Some(&mut now))?;
    let has = |s: Signal| i64::from(now.contains(s));
    Ok([catch_kill, ignore_kill, ignore_stop, has(Signal::SIGKILL), has(Signal::SIGSTOP)])
}

/// The deliveries recorded since the last call, in order (with the
/// recorded signals blocked meanwhile).
pub fn take_deliveries(signals: &[i32]) -> io::Result<Vec<Delivery>> {
    use std::sync::atomic::Ordering::SeqCst;
    let set = set_of(signals);
    let mut old = nix::sys::signal::SigSet::empty();
    nix::sys::signal::pthread_sigmask(nix::sys::signal::SigmaskHow::SIG_BLOCK, Some(&set), Some(&mut old))?;
    let n = LOGGED.swap(0, SeqCst).min(LOG_CAP);
    let got = (0..n)
        .map(|i| {
            let w = LOG[i].load(SeqCst);
            Delivery { signal: (w >> 33) as i32, value: (w & (1 << 32) != 0).then_some(w as u32 as i32) }
        })
        .collect();
    nix::sys::signal::pthread_sigmask(nix::sys::signal::SigmaskHow::SIG_SETMASK, Some(&old), None)?;
    Ok(got)
}

/// Blocks (`on`) or unblocks `signals` in the calling thread; on
/// unblocking, the pending ones are delivered before this returns.
///
/// # References
/// - pthread_sigmask(3), sigprocmask(2); POSIX.1-2017 XSH pthread_sigmask(): if there are
///   pending unblocked signals after the call, at least one is delivered before it returns.
pub fn block(signals: &[i32], on: bool) -> io::Result<()> {
    use nix::sys::signal::{pthread_sigmask, SigmaskHow};
    let set = set_of(signals);
    if on {
        return pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), None).map_err(io::Error::from);
    }
    match super::deviant::active() {
        Some(super::deviant::Deviation::BlockedSignalLost) => drop_pending_standard(signals)?,
        Some(super::deviant::Deviation::RealtimeOutOfOrder) => backend::reverse_pending_realtime(signals)?,
        _ => {}
    }
    pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(&set), None).map_err(io::Error::from)
}

/// For [`super::deviant::Deviation::BlockedSignalLost`]: takes every
/// pending standard signal of `signals` away unseen (`sigwait`).
fn drop_pending_standard(signals: &[i32]) -> io::Result<()> {
    let mut pending = nix::sys::signal::SigSet::empty();
    // SAFETY: sigpending fills the set it is given.
    if unsafe { libc::sigpending(std::ptr::addr_of_mut!(pending).cast()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    for s in signals.iter().filter(|s| Sig::of(**s).is_some_and(|s| !s.realtime())) {
        if let Ok(sig) = Signal::try_from(*s) {
            if pending.contains(sig) {
                set_of(&[*s]).wait()?;
            }
        }
    }
    Ok(())
}

/// Sends `signal` to process `pid` (`kill(2)`).
pub fn send(pid: i32, signal: i32) -> io::Result<()> {
    // SAFETY: kill(2) with a pid and a signal number.
    match unsafe { libc::kill(pid, signal) } {
        0 => Ok(()),
        _ => {
            let err = io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EPERM) && super::deviant::is(super::deviant::Deviation::KillEpermHidden)
            {
                return Ok(()); // the deviation: a refused kill reported as sent
            }
            Err(err)
        }
    }
}

/// Queues `signal` with `value` to process `pid` (`sigqueue(3)`, Linux;
/// `ENOSYS` elsewhere).
///
/// # References
/// - sigqueue(3); POSIX.1-2017 XSH sigqueue(), 2.4.2 Realtime Signal Generation and Delivery.
pub fn queue(pid: i32, signal: i32, value: i32) -> io::Result<()> {
    backend::queue(pid, signal, value)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod backend {
    use std::io;

    pub fn realtime(n: u8) -> Option<i32> {
        let s = libc::SIGRTMIN() + i32::from(n);
        (s <= libc::SIGRTMAX()).then_some(s)
    }

    pub fn queued_value(info: &libc::siginfo_t) -> Option<i32> {
        // SAFETY: si_value is meaningful for SI_QUEUE, checked first.
        (info.si_code == libc::SI_QUEUE).then(|| unsafe { info.si_value().sival_ptr as usize as i32 })
    }

    pub fn queue(pid: i32, signal: i32, value: i32) -> io::Result<()> {
        let v = libc::sigval { sival_ptr: value as u32 as usize as *mut libc::c_void };
        // SAFETY: sigqueue with a pid, a signal number and a plain value.
        match unsafe { libc::sigqueue(pid, signal, v) } {
            0 => Ok(()),
            _ => Err(io::Error::last_os_error()),
        }
    }

    /// For [`crate::os::deviant::Deviation::RealtimeOutOfOrder`]: takes
    /// the pending real-time signals of `signals` (`sigtimedwait`, zero
    /// timeout) and queues them to this process again, last first.
    pub fn reverse_pending_realtime(signals: &[i32]) -> io::Result<()> {
        let rt: Vec<i32> = signals.iter().copied().filter(|s| *s >= libc::SIGRTMIN()).collect();
        let set = super::set_of(&rt);
        let mut taken = Vec::new();
        loop {
            // SAFETY: zeroed siginfo_t and timespec are valid out/in parameters.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            let zero = libc::timespec { tv_sec: 0, tv_nsec: 0 };
            // SAFETY: a valid set, out-pointer and timeout.
            let s = unsafe { libc::sigtimedwait(std::ptr::addr_of!(set).cast(), &mut info, &zero) };
            if s < 0 {
                break;
            }
            taken.push((s, queued_value(&info).unwrap_or(0)));
        }
        for (s, v) in taken.into_iter().rev() {
            queue(std::process::id() as i32, s, v)?;
        }
        Ok(())
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod backend {
    use std::io;

    /// No real-time signals the rules can use here (macOS has none).
    pub fn realtime(_n: u8) -> Option<i32> {
        None
    }

    pub fn queued_value(_info: &libc::siginfo_t) -> Option<i32> {
        None
    }

    pub fn queue(_pid: i32, _signal: i32, _value: i32) -> io::Result<()> {
        Err(io::Error::from_raw_os_error(libc::ENOSYS))
    }

    pub fn reverse_pending_realtime(_signals: &[i32]) -> io::Result<()> {
        Ok(())
    }
}
