//! Actors without an exec per case: a fork server.
//!
//! The first actor a coordinator starts also starts, by fork + exec of
//! this executable, one small single-threaded process, the fork server.
//! Every later actor is a `fork(2)` of that server, already initialized:
//! no exec, no dynamic linking, no page faults over a fresh image, and a
//! much smaller address space to copy and tear down than the
//! coordinator's. What an exec'd actor is given, a served one is given
//! too:
//!
//! - descriptors: standard input and output on `/dev/null`, standard
//!   error inherited, the lifeline at 3 (the server's own, whose write end
//!   only the coordinator holds), the control channel at 4 (received from
//!   the coordinator with `SCM_RIGHTS` for this actor alone), and nothing
//!   else: every number above 4 is closed in the child before it runs;
//! - its own process group (`setpgid(0, 0)`, repeated by the coordinator
//!   so that neither side races the other);
//! - signal dispositions and mask as an exec'd actor's (the server's
//!   `SIGCHLD` handler reset, nothing blocked);
//! - the deviation the coordinator chose for its children
//!   ([`super::deviant::for_children`]), sent with each request, and the
//!   actor's role in the environment.
//!
//! The actors are the server's children, so the server reaps them and
//! reports each one's wait status to the coordinator, where a thread
//! files it for [`Served::try_wait`] and [`Served::wait`]. If the server
//! is gone (killed from outside, say), every actor it started is
//! reported as a harness error, never as a death of the host's making.
//! The server ends with its lifeline: it kills its actors' groups and
//! exits, so nothing outlives the coordinator.
//!
//! Rules about inheritance across `exec` start their actors by exec, as
//! before ([`crate::session::Session::spawn_with`]); and the knob
//! [`FORK_SERVER_ENV`]` = off` starts every actor by exec, for comparison
//! (`ipc-conform bench` measures both).
//!
//! # References
//! - POSIX.1-2017 XSH `fork()`, `setpgid()`, `waitpid()`, `sigaction()`.
//! - unix(7) (`SCM_RIGHTS`), cmsg(3).

use super::process::LIFELINE_FD;
use std::collections::{HashMap, VecDeque};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::Thread;

/// The environment variable that turns the fork server `off` (every
/// actor by fork + exec) or `on` (the default).
pub const FORK_SERVER_ENV: &str = "IPC_CONFORM_FORK_SERVER";

/// The role name the server process is started in.
pub const ROLE: &str = "fork-server";

/// The server's request channel.
const REQUEST_FD: RawFd = 4;

/// Request and report frames: a kind, then three numbers, then (for a
/// spawn request) the deviation's name, NUL-padded.
const FRAME: usize = 64;
const SPAWN: u32 = 1;
const SPAWNED: u32 = 2;
const REFUSED: u32 = 3;
const EXITED: u32 = 4;

/// Whether actors come from the fork server here ([`FORK_SERVER_ENV`]);
/// a value other than `on` or `off` is an error naming it.
pub fn enabled() -> Result<bool, String> {
    static READ: OnceLock<Result<bool, String>> = OnceLock::new();
    READ.get_or_init(read_knob).clone()
}

fn read_knob() -> Result<bool, String> {
    match std::env::var(FORK_SERVER_ENV) {
        Err(_) => Ok(true),
        Ok(v) => match v.trim() {
            "on" | "" => Ok(true),
            "off" => Ok(false),
            other => Err(format!("{FORK_SERVER_ENV}={other:?}: expected `on` or `off`")),
        },
    }
}

fn encode(kind: u32, numbers: [i32; 3], name: &str) -> [u8; FRAME] {
    let mut f = [0u8; FRAME];
    f[0..4].copy_from_slice(&kind.to_ne_bytes());
    for (i, n) in numbers.iter().enumerate() {
        f[4 + 4 * i..8 + 4 * i].copy_from_slice(&n.to_ne_bytes());
    }
    let name = name.as_bytes();
    let room = FRAME - 16;
    f[16..16 + name.len().min(room)].copy_from_slice(&name[..name.len().min(room)]);
    f
}

fn decode(f: &[u8; FRAME]) -> (u32, [i32; 3], String) {
    let word = |i: usize| i32::from_ne_bytes([f[i], f[i + 1], f[i + 2], f[i + 3]]);
    let kind = u32::from_ne_bytes([f[0], f[1], f[2], f[3]]);
    let end = f[16..].iter().position(|b| *b == 0).map_or(FRAME, |p| 16 + p);
    (kind, [word(4), word(8), word(12)], String::from_utf8_lossy(&f[16..end]).into_owned())
}

/// Reads one whole frame; `None` at end of file.
fn read_frame(fd: BorrowedFd<'_>) -> io::Result<Option<[u8; FRAME]>> {
    let mut f = [0u8; FRAME];
    let mut got = 0;
    while got < FRAME {
        match rustix::io::read(fd, &mut f[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "a fork-server frame cut short")),
            Ok(n) => got += n,
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Some(f))
}

fn write_frame(fd: BorrowedFd<'_>, f: &[u8; FRAME], pass: Option<BorrowedFd<'_>>) -> io::Result<()> {
    super::fd::send_with_fds(fd, f, pass.as_slice())
}

// ---------------------------------------------------------------- server

static SIGCHLD_PIPE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_sigchld(_: libc::c_int) {
    let fd = SIGCHLD_PIPE.load(Ordering::Relaxed);
    let byte = 1u8;
    // SAFETY: write is async-signal-safe; the pipe is non-blocking, so a
    // full pipe (a wake-up already pending) just drops this byte.
    unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
}

/// The fork server's `main` ([`ROLE`]): serves spawn requests on its
/// request channel until it or the lifeline ends.
pub fn server_main() -> i32 {
    match serve() {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("ipc-conform: the fork server stopped: {e}");
            1
        }
    }
}

fn serve() -> io::Result<()> {
    use rustix::event::{poll, PollFd, PollFlags};
    // SAFETY: the coordinator placed the request channel and the lifeline
    // at these numbers.
    let (requests, lifeline) = unsafe { (BorrowedFd::borrow_raw(REQUEST_FD), BorrowedFd::borrow_raw(LIFELINE_FD)) };
    // Plain calls, not the OS layer's wrappers, which consult the
    // deviation in force: the server never settles on one.
    let (wake_r, wake_w) = rustix::pipe::pipe()?;
    for end in [&wake_r, &wake_w] {
        rustix::fs::fcntl_setfl(end, rustix::fs::OFlags::NONBLOCK)?;
    }
    SIGCHLD_PIPE.store(wake_w.as_raw_fd(), Ordering::Relaxed);
    install_sigchld(Some(on_sigchld))?;
    let mut children: Vec<i32> = Vec::new();
    let result = loop {
        let mut fds = [
            PollFd::new(&requests, PollFlags::IN),
            PollFd::new(&lifeline, PollFlags::IN),
            PollFd::new(&wake_r, PollFlags::IN),
        ];
        match poll(&mut fds, None) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => break Err(e.into()),
        }
        let ready = |i: usize| !fds[i].revents().is_empty();
        let (req, life, wake) = (ready(0), ready(1), ready(2));
        if life {
            break Ok(());
        }
        if wake {
            let mut sink = [0u8; 64];
            while matches!(rustix::io::read(&wake_r, &mut sink), Ok(n) if n > 0) {}
            if let Err(e) = report_exits(requests, &mut children) {
                break Err(e);
            }
        }
        if req {
            match take_request(requests) {
                Ok(None) => break Ok(()),
                Ok(Some((control, deviation))) => {
                    let reply = match fork_actor(control, &deviation) {
                        Ok(pid) => {
                            children.push(pid);
                            encode(SPAWNED, [pid, 0, 0], "")
                        }
                        Err(e) => encode(REFUSED, [super::errno_of(&e), 0, 0], ""),
                    };
                    if let Err(e) = write_frame(requests, &reply, None) {
                        break Err(e);
                    }
                }
                Err(e) => break Err(e),
            }
        }
    };
    for pid in &children {
        let _ = super::process::kill_group(*pid, nix::sys::signal::Signal::SIGKILL);
    }
    for pid in children {
        let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
    }
    result
}

fn install_sigchld(handler: Option<extern "C" fn(libc::c_int)>) -> io::Result<()> {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let how = match handler {
        Some(h) => SigHandler::Handler(h),
        None => SigHandler::SigDfl,
    };
    let action = SigAction::new(how, SaFlags::SA_RESTART | SaFlags::SA_NOCLDSTOP, SigSet::empty());
    // SAFETY: the handler only writes to a non-blocking pipe.
    unsafe { sigaction(Signal::SIGCHLD, &action) }.map(|_| ()).map_err(io::Error::from)
}

/// Reaps every actor that has ended and reports its wait status.
fn report_exits(requests: BorrowedFd<'_>, children: &mut Vec<i32>) -> io::Result<()> {
    loop {
        let mut status = 0;
        // SAFETY: a plain waitpid into a local.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            return Ok(());
        }
        children.retain(|c| *c != pid);
        write_frame(requests, &encode(EXITED, [pid, status, 0], ""), None)?;
    }
}

/// One spawn request: the actor's control channel and the deviation's
/// name (empty: none). `None` at end of file.
fn take_request(requests: BorrowedFd<'_>) -> io::Result<Option<(OwnedFd, String)>> {
    use rustix::net::{recvmsg, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};
    let mut f = [0u8; FRAME];
    let mut space = [std::mem::MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(2))];
    let mut ancillary = RecvAncillaryBuffer::new(&mut space);
    let mut got = 0;
    let mut passed: Vec<OwnedFd> = Vec::new();
    while got < FRAME {
        let mut iov = [io::IoSliceMut::new(&mut f[got..])];
        // No MSG_CMSG_CLOEXEC (macOS has none): the server never execs, and
        // its children close every number above 4 before they run.
        match recvmsg(requests, &mut iov, &mut ancillary, RecvFlags::empty()) {
            Ok(r) if r.bytes == 0 => {
                return if got == 0 { Ok(None) } else { Err(io::ErrorKind::UnexpectedEof.into()) };
            }
            Ok(r) => got += r.bytes,
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
        for message in ancillary.drain() {
            if let RecvAncillaryMessage::ScmRights(fds) = message {
                passed.extend(fds);
            }
        }
    }
    let (kind, _, name) = decode(&f);
    if kind != SPAWN || passed.len() != 1 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a fork-server request of kind {kind} with {} descriptor(s)", passed.len()),
        ));
    }
    Ok(passed.pop().map(|fd| (fd, name)))
}

/// Forks one actor around `control`; returns its pid.
fn fork_actor(control: OwnedFd, deviation: &str) -> io::Result<i32> {
    // SAFETY: this process is single-threaded, so the child may go on
    // running ordinary code (no lock is held by another thread).
    match unsafe { nix::unistd::fork() }? {
        nix::unistd::ForkResult::Parent { child } => Ok(child.as_raw()),
        nix::unistd::ForkResult::Child => {
            become_actor(control, deviation);
        }
    }
}

/// In the forked child: the state an exec'd actor starts in, then the
/// actor's loop.
fn become_actor(control: OwnedFd, deviation: &str) -> ! {
    let fail = |code: i32| -> ! {
        // SAFETY: _exit ends the process.
        unsafe { libc::_exit(code) }
    };
    // SAFETY: setpgid, dup2, close and sigprocmask on our own process and
    // descriptors; the environment is ours alone (one thread).
    unsafe {
        libc::setpgid(0, 0);
        if install_sigchld(None).is_err() {
            fail(super::process::exit::FORKED_SETUP);
        }
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
        if libc::dup2(control.as_raw_fd(), crate::actor::CONTROL_FD) < 0 {
            fail(super::process::exit::FORKED_SETUP);
        }
        // Every number above 4: the server's own and any it inherited.
        std::mem::forget(control);
        super::process::close_from(crate::actor::CONTROL_FD + 1);
        std::env::set_var(super::process::ROLE_ENV, "actor");
        if deviation.is_empty() {
            std::env::remove_var(super::deviant::DEVIATE_ENV);
        } else {
            std::env::set_var(super::deviant::DEVIATE_ENV, deviation);
        }
    }
    let settled = match deviation {
        "" => super::deviant::settle(None),
        name => name.parse().ok().is_some_and(|d| super::deviant::settle(Some(d))),
    };
    if !settled {
        fail(super::process::exit::FORKED_SETUP);
    }
    crate::actor::main()
}

// ---------------------------------------------------------------- client

#[derive(Default)]
struct State {
    spawned: VecDeque<Result<i32, i32>>,
    exited: HashMap<i32, i32>,
    /// Why the server can no longer be asked (it ended, its channel broke).
    gone: Option<String>,
    /// The thread waiting for the next spawn reply (one at a time:
    /// [`Client::asking`]).
    spawner: Option<Thread>,
    /// The threads waiting for an actor's end, by the actor's pid.
    waiters: HashMap<i32, Thread>,
}

impl State {
    /// Files one report of the server; returns the one thread it is for,
    /// if that thread waits: the spawner for a spawn's reply, the actor's
    /// waiter for its end. An unknown kind of report is an error.
    fn file(&mut self, (kind, n, _): (u32, [i32; 3], String)) -> Result<Option<Thread>, String> {
        match kind {
            SPAWNED => self.spawned.push_back(Ok(n[0])),
            REFUSED => self.spawned.push_back(Err(n[0])),
            EXITED => {
                self.exited.insert(n[0], n[1]);
                return Ok(self.waiters.remove(&n[0]));
            }
            other => return Err(format!("an unknown fork-server report of kind {other}")),
        }
        Ok(self.spawner.take())
    }

    /// Wakes everyone waiting (the server is gone: no reply will come).
    fn wake_all(&mut self) {
        self.spawner.take().into_iter().chain(self.waiters.drain().map(|(_, t)| t)).for_each(|t| t.unpark());
    }
}

/// What the report thread files and the spawners and waiters read. A
/// report wakes only the thread it is for (`unpark`), never every rule's
/// thread that waits on some other actor: with several rules at once, a
/// shared condition variable woke them all at each spawn and each end.
#[derive(Default)]
struct Shared {
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Gives up the lock until this thread is woken (by a report for it,
    /// or spuriously: callers look again), then takes it back.
    fn park<'a>(&'a self, st: std::sync::MutexGuard<'a, State>) -> std::sync::MutexGuard<'a, State> {
        drop(st);
        std::thread::park();
        self.lock()
    }
}

struct Client {
    channel: OwnedFd,
    pid: i32,
    /// One spawn at a time: replies come back in request order.
    asking: Mutex<()>,
    shared: Arc<Shared>,
}

/// The server in use; replaced by a new one when it is gone (killed from
/// outside, say): the actors of the old one are lost to their cases,
/// later cases get a new server.
static CLIENT: Mutex<Option<Arc<Client>>> = Mutex::new(None);

fn client() -> io::Result<Arc<Client>> {
    let mut current = CLIENT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(c) = current.as_ref().filter(|c| c.shared.lock().gone.is_none()) {
        return Ok(c.clone());
    }
    let c = Arc::new(start().map_err(|e| io::Error::other(format!("the fork server did not start: {e}")))?);
    *current = Some(c.clone());
    Ok(c)
}

fn start() -> io::Result<Client> {
    let (ours, theirs) = super::fd::control_pair()?;
    // The argument names the server (and the actors it forks, which
    // inherit its arguments) in `ps`.
    let mut server = super::process::spawn_self(&super::process::SpawnSpec {
        role: ROLE,
        args: &[ROLE.to_string()],
        fds: &[(theirs.as_fd(), REQUEST_FD)],
    })?;
    drop(theirs);
    let pid = server.id() as i32;
    crate::cleanup::register_group(pid);
    let reader = ours.try_clone()?;
    let shared = Arc::new(Shared::default());
    let filed = shared.clone();
    std::thread::Builder::new().name("fork-server reports".into()).spawn(move || {
        // Why it stopped, and whether the server closed its channel itself.
        let (why, ended) = loop {
            let frame = match read_frame(reader.as_fd()) {
                Ok(Some(f)) => decode(&f),
                Ok(None) => break ("the fork server ended".to_string(), true),
                Err(e) => break (format!("the fork server's channel failed: {e}"), false),
            };
            let mut st = filed.lock();
            let wake = match st.file(frame) {
                Ok(wake) => wake,
                Err(why) => break (why, false),
            };
            drop(st);
            if let Some(t) = wake {
                t.unpark();
            }
        };
        // A broken channel or an unknown report leaves a server that may
        // live on, and would keep this wait (and every waiter) forever.
        if !ended {
            let _ = server.kill();
        }
        let status = server.wait().map(super::process::describe_status).unwrap_or_else(|e| e.to_string());
        crate::cleanup::unregister_group(pid);
        let mut st = filed.lock();
        st.gone = Some(format!("{why} ({status}), a death this run did not ask for"));
        st.wake_all();
    })?;
    Ok(Client { channel: ours, pid, asking: Mutex::new(()), shared })
}

/// The fork server's pid and the descriptors the coordinator holds for
/// it, while one serves (for the leak checks: the server is the run's,
/// not a case's).
pub fn server() -> Option<(i32, usize)> {
    let current = CLIENT.lock().unwrap_or_else(|e| e.into_inner());
    current.as_ref().filter(|c| c.shared.lock().gone.is_none()).map(|c| (c.pid, 2))
}

/// An actor forked by the server.
pub struct Served {
    pid: i32,
    status: Option<ExitStatus>,
    from: Arc<Client>,
}

/// Asks the server for an actor around `control` (the actor's end of its
/// control channel, which it will hold at 4); `deviation` is the one the
/// actor runs under.
pub fn spawn(control: BorrowedFd<'_>, deviation: Option<super::deviant::Deviation>) -> io::Result<Served> {
    let c = client()?;
    let _one = c.asking.lock().unwrap_or_else(|e| e.into_inner());
    let name = deviation.map_or("", |d| d.name());
    // A refused write means the server is gone; its report thread says how.
    let sent = write_frame(c.channel.as_fd(), &encode(SPAWN, [0, 0, 0], name), Some(control));
    let mut st = c.shared.lock();
    loop {
        if let Some(reply) = st.spawned.pop_front().filter(|_| sent.is_ok()) {
            let pid = reply.map_err(io::Error::from_raw_os_error)?;
            // The child does the same: whichever runs first, the group
            // exists before anyone signals it.
            // SAFETY: setpgid on a pid of ours; an error (it already did,
            // or it died) changes nothing.
            let _ = unsafe { libc::setpgid(pid, pid) };
            drop(st);
            return Ok(Served { pid, status: None, from: c.clone() });
        }
        if let Some(why) = &st.gone {
            return Err(io::Error::other(why.clone()));
        }
        st.spawner = Some(std::thread::current());
        st = c.shared.park(st);
    }
}

impl Served {
    /// The actor's pid.
    pub fn id(&self) -> u32 {
        self.pid as u32
    }

    fn take(&mut self, st: &mut State) -> io::Result<Option<ExitStatus>> {
        if self.status.is_none() {
            if let Some(raw) = st.exited.remove(&self.pid) {
                self.status = Some(ExitStatus::from_raw(raw));
            } else if let Some(why) = &st.gone {
                return Err(io::Error::other(format!("actor {}: its status is lost: {why}", self.pid)));
            }
        }
        Ok(self.status)
    }

    /// Its wait status if it has ended (as `Child::try_wait`).
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        let shared = self.from.shared.clone();
        let mut st = shared.lock();
        self.take(&mut st)
    }

    /// Waits for it to end (as `Child::wait`).
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        let shared = self.from.shared.clone();
        let mut st = shared.lock();
        loop {
            if let Some(status) = self.take(&mut st)? {
                return Ok(status);
            }
            st.waiters.insert(self.pid, std::thread::current());
            st = shared.park(st);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report wakes the one thread it is for and no other (with rules
    /// checked at once, every thread waiting on some actor was woken at
    /// each report before).
    #[test]
    fn a_report_is_for_one_waiting_thread_only() {
        let (a, b) = (std::thread::spawn(|| ()), std::thread::spawn(|| ()));
        let (ta, tb) = (a.thread().clone(), b.thread().clone());
        let mut st = State::default();
        st.waiters.insert(101, ta.clone());
        st.waiters.insert(102, tb.clone());
        st.spawner = Some(ta.clone());
        assert_eq!(st.file((EXITED, [102, 9, 0], String::new())).unwrap().map(|t| t.id()), Some(tb.id()));
        assert_eq!(st.exited.get(&102), Some(&9));
        assert!(st.waiters.contains_key(&101), "the other actor's waiter was taken");
        assert!(st.spawner.is_some(), "an end woke the spawner");
        assert_eq!(st.file((EXITED, [103, 0, 0], String::new())).unwrap().map(|t| t.id()), None);
        assert_eq!(st.file((SPAWNED, [104, 0, 0], String::new())).unwrap().map(|t| t.id()), Some(ta.id()));
        assert_eq!(st.spawned.pop_front(), Some(Ok(104)));
        assert!(st.waiters.contains_key(&101), "a spawn reply woke an end's waiter");
        assert!(st.file((77, [0; 3], String::new())).is_err());
        st.wake_all();
        assert!(st.waiters.is_empty() && st.spawner.is_none());
        a.join().unwrap();
        b.join().unwrap();
    }

    #[test]
    fn a_frame_reads_back_as_written() {
        let f = encode(SPAWN, [7, -1, 42], "read-drops-a-byte");
        assert_eq!(decode(&f), (SPAWN, [7, -1, 42], "read-drops-a-byte".to_string()));
        assert_eq!(decode(&encode(EXITED, [1, 2, 3], "")).2, "");
    }
}
