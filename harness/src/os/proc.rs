//! What the kernel shows about a thread that waits: on Linux,
//! `/proc/<pid>/task/<tid>/{stat,syscall,wchan}` (proc(5)); on macOS the
//! thread's run state (`proc_pidinfo`).
//!
//! This is the positive evidence behind every "blocked" verdict: a thread
//! that sleeps (state `S`) inside the expected system call on the expected
//! descriptor is blocked there. Which views exist, and which the kernel
//! gives to the coordinator, differs from host to host: the engine probes
//! them at start ([`crate::evidence::probe`]) and uses the strongest.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::io;

/// The system call a thread is in, as `/proc/<pid>/task/<tid>/syscall` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InSyscall {
    /// The system call number (architecture specific).
    pub nr: i64,
    /// The first argument register: the descriptor for read, write, recv.
    pub arg0: u64,
}

/// The kernel's view of one thread at one instant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitState {
    /// The state letter from `stat` (`R` running, `S` sleeping, `D` disk
    /// sleep, `T` stopped, `Z` zombie, ...).
    pub state: char,
    /// The system call the thread is in, when it is blocked in one.
    pub syscall: Option<InSyscall>,
    /// The kernel function the thread sleeps in (`wchan`), empty if none.
    pub wchan: String,
}

impl fmt::Display for WaitState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "state {}", self.state)?;
        if let Some(sc) = &self.syscall {
            write!(f, ", in syscall {} ({}) with arg0 {}", sc.nr, syscall_name(sc.nr), sc.arg0 as i64)?;
        }
        if !self.wchan.is_empty() && self.wchan != "0" {
            write!(f, ", wchan {}", self.wchan)?;
        }
        Ok(())
    }
}

/// Why a view of a thread could not be read: an answer, never swallowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ViewError {
    /// The thread (or its process) is gone (`ESRCH`, `ENOENT` after it existed).
    Gone,
    /// The kernel refuses this view to the coordinator (`EACCES`, `EPERM`:
    /// ptrace access checks, a non-dumpable actor, an LSM, Yama).
    Denied(i32),
    /// This view does not exist here (`ENOENT` of the file itself, a
    /// platform without it).
    Missing(i32),
    /// It answered something unreadable.
    Garbled,
}

impl ViewError {
    fn of(err: &io::Error) -> ViewError {
        match err.raw_os_error() {
            Some(libc::ESRCH) => ViewError::Gone,
            Some(e @ (libc::EACCES | libc::EPERM)) => ViewError::Denied(e),
            Some(e) => ViewError::Missing(e),
            None if err.kind() == io::ErrorKind::Unsupported => ViewError::Missing(libc::ENOSYS),
            None => ViewError::Garbled,
        }
    }
}

impl fmt::Display for ViewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ViewError::Gone => f.write_str("the thread is gone"),
            ViewError::Denied(e) => write!(f, "refused ({})", super::errno_name(*e)),
            ViewError::Missing(e) => write!(f, "not available ({})", super::errno_name(*e)),
            ViewError::Garbled => f.write_str("unreadable contents"),
        }
    }
}

/// Reads the wait state of thread `tid` of process `pid`, for messages (a
/// `hung` verdict's detail): whatever of it can be read.
pub fn wait_state(pid: i32, tid: i64) -> Result<WaitState, ViewError> {
    let view = ThreadView::open(pid, tid);
    let state = view.state()?;
    let syscall = view.syscall().ok().flatten();
    Ok(WaitState { state, syscall, wchan: view.wchan().unwrap_or_default() })
}

/// A thread's views, each opened once and kept, so that sampling again and
/// again costs a `pread(2)` each rather than opening, reading and closing
/// files. The handles refer to that very thread: once it is gone they fail
/// (`ESRCH`) even if its id is reused. Each view answers for itself: one
/// that the kernel refuses says so ([`ViewError`]).
///
/// # References
/// - proc(5) (Linux): `/proc/<pid>/task/<tid>/{stat,syscall,wchan}`; the
///   `syscall` file needs ptrace access to the thread
///   (`PTRACE_MODE_ATTACH_FSCREDS`), `wchan` shows `0` without it.
/// - proc_pidinfo (macOS libproc): `PROC_PIDTHREADID64INFO`, the thread's
///   run state.
pub struct ThreadView {
    pid: i32,
    tid: i64,
    #[cfg(any(target_os = "linux", target_os = "android"))]
    stat: Result<std::fs::File, ViewError>,
    #[cfg(any(target_os = "linux", target_os = "android"))]
    syscall: Result<std::fs::File, ViewError>,
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn pread_text<'b>(file: &std::fs::File, buf: &'b mut [u8]) -> Result<&'b str, ViewError> {
    use std::os::unix::fs::FileExt;
    let n = loop {
        match file.read_at(buf, 0) {
            Ok(n) => break n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ViewError::of(&e)),
        }
    };
    std::str::from_utf8(&buf[..n]).map_err(|_| ViewError::Garbled)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn open_view(path: &str) -> Result<std::fs::File, ViewError> {
    std::fs::File::open(path).map_err(|e| match e.raw_os_error() {
        // The thread's directory exists only while it does.
        Some(libc::ENOENT) if !std::path::Path::new(path).parent().is_some_and(|d| d.exists()) => ViewError::Gone,
        _ => ViewError::of(&e),
    })
}

impl ThreadView {
    /// Opens the views of thread `tid` of process `pid`.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn open(pid: i32, tid: i64) -> ThreadView {
        let base = format!("/proc/{pid}/task/{tid}");
        ThreadView {
            pid,
            tid,
            stat: open_view(&format!("{base}/stat")),
            syscall: open_view(&format!("{base}/syscall")),
        }
    }

    /// Opens the views of a thread (macOS: none to open; each sample asks).
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    pub fn open(pid: i32, tid: i64) -> ThreadView {
        ThreadView { pid, tid }
    }

    /// The thread's run state letter now (`S` sleeping, `D` uninterruptible
    /// sleep, `R` running, `T`/`t` stopped or traced, `Z` zombie).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn state(&self) -> Result<char, ViewError> {
        let mut buf = [0u8; 1024];
        let file = self.stat.as_ref().map_err(|e| *e)?;
        parse_stat_state(pread_text(file, &mut buf)?).ok_or(ViewError::Garbled)
    }

    /// The thread's run state now: `S` when `proc_pidinfo` says it is
    /// waiting (`TH_STATE_WAITING`), `R` otherwise.
    #[cfg(target_os = "macos")]
    pub fn state(&self) -> Result<char, ViewError> {
        thread_waiting(self.pid, self.tid).map(|w| if w { 'S' } else { 'R' }).map_err(|e| ViewError::of(&e))
    }

    /// No thread view on this platform.
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "macos")))]
    pub fn state(&self) -> Result<char, ViewError> {
        Err(ViewError::Missing(libc::ENOSYS))
    }

    /// The system call the thread is in now (`None`: running in user
    /// space, or asleep outside a call).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn syscall(&self) -> Result<Option<InSyscall>, ViewError> {
        let mut buf = [0u8; 256];
        let file = self.syscall.as_ref().map_err(|e| *e)?;
        Ok(parse_syscall(pread_text(file, &mut buf)?))
    }

    /// No per-thread syscall view on this platform.
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    pub fn syscall(&self) -> Result<Option<InSyscall>, ViewError> {
        Err(ViewError::Missing(libc::ENOSYS))
    }

    /// The kernel function the thread sleeps in now (`wchan`; `0` when the
    /// kernel does not say, to this reader or at all).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn wchan(&self) -> Result<String, ViewError> {
        std::fs::read_to_string(format!("/proc/{}/task/{}/wchan", self.pid, self.tid))
            .map(|w| w.trim().to_string())
            .map_err(|e| ViewError::of(&e))
    }

    /// No wait channel on this platform.
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    pub fn wchan(&self) -> Result<String, ViewError> {
        Err(ViewError::Missing(libc::ENOSYS))
    }

    /// One sample of state and system call (for the syscall level).
    pub fn sample(&self) -> Result<WaitState, ViewError> {
        Ok(WaitState { state: self.state()?, syscall: self.syscall()?, wchan: String::new() })
    }
}

/// Whether thread `tid` (a `pthread_threadid_np` id) of process `pid` is
/// waiting (`TH_STATE_WAITING`), from `proc_pidinfo(2)` with
/// `PROC_PIDTHREADID64INFO` (libproc). It says the thread sleeps, not in
/// which call; the engine samples it only after the actor has acknowledged
/// starting the operation.
#[cfg(target_os = "macos")]
pub fn thread_waiting(pid: i32, tid: i64) -> io::Result<bool> {
    // From xnu's sys/proc_info.h; libc does not export it.
    const PROC_PIDTHREADID64INFO: libc::c_int = 15;
    // SAFETY: a plain C struct of integers and a byte array; zero is valid.
    let mut info: libc::proc_threadinfo = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::proc_threadinfo>() as libc::c_int;
    // SAFETY: the buffer is `size` bytes of a proc_threadinfo.
    let n = unsafe {
        libc::proc_pidinfo(
            pid,
            PROC_PIDTHREADID64INFO,
            tid as u64,
            (&mut info as *mut libc::proc_threadinfo).cast(),
            size,
        )
    };
    if n != size {
        return Err(io::Error::last_os_error());
    }
    Ok(info.pth_run_state == libc::TH_STATE_WAITING)
}

/// The state letter: the first field after the last `)` of `stat` (the
/// command name in parentheses may itself contain `)`).
pub fn parse_stat_state(stat: &str) -> Option<char> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().next()?.chars().next()
}

/// Parses `/proc/.../syscall`: `running`, `-1 sp pc` (blocked outside a
/// system call), or `nr arg0 ... arg5 sp pc` in hexadecimal.
pub fn parse_syscall(text: &str) -> Option<InSyscall> {
    let mut fields = text.split_whitespace();
    let nr: i64 = fields.next()?.parse().ok()?;
    if nr < 0 {
        return None;
    }
    let arg0 = fields.next()?;
    let arg0 = u64::from_str_radix(arg0.trim_start_matches("0x"), 16).ok()?;
    Some(InSyscall { nr, arg0 })
}

/// The system calls an operation may block in, by kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyscallKind {
    /// `read(2)` and its vector form.
    Read,
    /// `write(2)` and its vector form.
    Write,
    /// `open(2)` / `openat(2)`.
    Open,
    /// `pause(2)` and other waits for a signal (used by the engine's own tests).
    Pause,
    /// `recv(2)`, `recvfrom(2)`, `recvmsg(2)`.
    Recv,
    /// `send(2)`, `sendto(2)`, `sendmsg(2)`.
    Send,
    /// `accept(2)`, `accept4(2)`.
    Accept,
    /// `connect(2)`.
    Connect,
    /// `flock(2)`.
    Flock,
    /// `fcntl(2)` (`F_SETLKW`, `F_OFD_SETLKW`).
    Fcntl,
    /// `futex(2)` waits (also what `sem_wait(3)` and process-shared mutexes
    /// sleep in on Linux); the first argument is an address, not a descriptor.
    Futex,
    /// Readiness waits: `poll(2)`, `select(2)`, `epoll_wait(2)` and their
    /// `p` forms; the first argument is an array, a count or an epoll
    /// instance, not the descriptor waited for.
    Wait,
    /// `mq_send(3)`: the `mq_timedsend` system call (Linux).
    MqSend,
    /// `mq_receive(3)`: the `mq_timedreceive` system call (Linux).
    MqReceive,
    /// `msgrcv(2)`; the first argument is a queue's id, not a descriptor.
    MsgRcv,
    /// `semop(2)` (the C library's is `semtimedop` on Linux); the first
    /// argument is a set's id, not a descriptor.
    Semop,
}

impl SyscallKind {
    /// The syscall numbers of this kind on this architecture.
    pub fn numbers(self) -> &'static [i64] {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            match self {
                SyscallKind::Read => &[libc::SYS_read, libc::SYS_readv],
                SyscallKind::Write => &[libc::SYS_write, libc::SYS_writev],
                #[cfg(target_arch = "x86_64")]
                SyscallKind::Open => &[libc::SYS_openat, libc::SYS_open],
                #[cfg(not(target_arch = "x86_64"))]
                SyscallKind::Open => &[libc::SYS_openat],
                #[cfg(target_arch = "x86_64")]
                SyscallKind::Pause => &[libc::SYS_pause, libc::SYS_rt_sigsuspend, libc::SYS_ppoll, libc::SYS_poll],
                #[cfg(not(target_arch = "x86_64"))]
                SyscallKind::Pause => &[libc::SYS_rt_sigsuspend, libc::SYS_ppoll],
                SyscallKind::Recv => &[libc::SYS_recvfrom, libc::SYS_recvmsg, libc::SYS_read],
                SyscallKind::Send => &[libc::SYS_sendto, libc::SYS_sendmsg, libc::SYS_write],
                SyscallKind::Accept => &[libc::SYS_accept, libc::SYS_accept4],
                SyscallKind::Connect => &[libc::SYS_connect],
                SyscallKind::Flock => &[libc::SYS_flock],
                SyscallKind::Fcntl => &[libc::SYS_fcntl],
                SyscallKind::Futex => &[libc::SYS_futex],
                SyscallKind::MqSend => &[libc::SYS_mq_timedsend],
                SyscallKind::MqReceive => &[libc::SYS_mq_timedreceive],
                SyscallKind::MsgRcv => &[libc::SYS_msgrcv],
                SyscallKind::Semop => &[libc::SYS_semop, libc::SYS_semtimedop],
                #[cfg(target_arch = "x86_64")]
                SyscallKind::Wait => &[
                    libc::SYS_poll,
                    libc::SYS_ppoll,
                    libc::SYS_select,
                    libc::SYS_pselect6,
                    libc::SYS_epoll_wait,
                    libc::SYS_epoll_pwait,
                    libc::SYS_epoll_pwait2,
                ],
                #[cfg(not(target_arch = "x86_64"))]
                SyscallKind::Wait => {
                    &[libc::SYS_ppoll, libc::SYS_pselect6, libc::SYS_epoll_pwait, libc::SYS_epoll_pwait2]
                }
            }
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            let _ = self;
            &[]
        }
    }

    /// Whether a call of this kind may wait uninterruptibly (state `D`) as
    /// documented: none of the calls the rules make do (pipes, sockets,
    /// FIFO opens, file locks and futexes wait interruptibly).
    pub fn waits_uninterruptibly(self) -> bool {
        false
    }

    /// Whether the first argument of this kind of call is the descriptor.
    pub fn arg0_is_fd(self) -> bool {
        !matches!(
            self,
            SyscallKind::Open
                | SyscallKind::Pause
                | SyscallKind::Futex
                | SyscallKind::Wait
                | SyscallKind::MsgRcv
                | SyscallKind::Semop
        )
    }

    /// The kind's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            SyscallKind::Read => "read",
            SyscallKind::Write => "write",
            SyscallKind::Open => "open",
            SyscallKind::Pause => "pause",
            SyscallKind::Recv => "recv",
            SyscallKind::Send => "send",
            SyscallKind::Accept => "accept",
            SyscallKind::Connect => "connect",
            SyscallKind::Flock => "flock",
            SyscallKind::Fcntl => "fcntl",
            SyscallKind::Futex => "futex",
            SyscallKind::Wait => "poll/select/epoll_wait",
            SyscallKind::MqSend => "mq_timedsend",
            SyscallKind::MqReceive => "mq_timedreceive",
            SyscallKind::MsgRcv => "msgrcv",
            SyscallKind::Semop => "semop",
        }
    }

    /// Every kind.
    pub const ALL: [SyscallKind; 16] = [
        SyscallKind::Read,
        SyscallKind::Write,
        SyscallKind::Open,
        SyscallKind::Pause,
        SyscallKind::Recv,
        SyscallKind::Send,
        SyscallKind::Accept,
        SyscallKind::Connect,
        SyscallKind::Flock,
        SyscallKind::Fcntl,
        SyscallKind::Futex,
        SyscallKind::Wait,
        SyscallKind::MqSend,
        SyscallKind::MqReceive,
        SyscallKind::MsgRcv,
        SyscallKind::Semop,
    ];
}

/// A readable name for a syscall number on this architecture.
pub fn syscall_name(nr: i64) -> &'static str {
    SyscallKind::ALL.iter().find(|k| k.numbers().contains(&nr)).map_or("other", |k| k.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_state_is_the_field_after_the_last_paren() {
        assert_eq!(parse_stat_state("123 (a) b) S 1 2 3"), Some('S'));
        assert_eq!(parse_stat_state("123 (conformance) R 1"), Some('R'));
        assert_eq!(parse_stat_state("garbage"), None);
    }

    #[test]
    fn syscall_line_parses_number_and_first_argument() {
        let sc = parse_syscall("0 0x5 0x7ffd 0x10000 0x0 0x0 0x0 0x7ffc 0x7f12\n").unwrap();
        assert_eq!(sc, InSyscall { nr: 0, arg0: 5 });
        assert_eq!(parse_syscall("running"), None);
        assert_eq!(parse_syscall("-1 0x7ffc 0x7f12"), None);
    }
}
