//! The coordinator's side of a test case: it starts actors, hands them the
//! descriptors under test, invokes one operation at a time and observes
//! whether it returned, blocked (with evidence), killed its actor, or never
//! came back within the liveness deadline. Dropping a session kills every
//! actor's process group and reaps it.

use crate::evidence::{BlockSite, Evidence, EvidenceTally};
use crate::os::proc::{wait_state, ThreadView, WaitState};
use crate::os::{self, process::SpawnSpec};
use crate::protocol::{self, Reply, Request};
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::process::Child;
use std::time::{Duration, Instant};

/// An actor of a session, by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ActorId(pub usize);

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "actor {}", self.0)
    }
}

/// How an actor's process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Death {
    /// The exit code, when it exited.
    pub code: Option<i32>,
    /// The signal that ended it, when one did.
    pub signal: Option<i32>,
}

impl fmt::Display for Death {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.code, self.signal) {
            (_, Some(sig)) => write!(f, "killed by {}", os::signal_name(sig)),
            (Some(code), None) => write!(f, "exited with {code}"),
            (None, None) => f.write_str("ended"),
        }
    }
}

/// What the coordinator saw of one invoked operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Observed {
    /// It returned this reply.
    Returned(Reply),
    /// It is blocked; the evidence says how we know.
    Blocked(Evidence),
    /// Its actor died during it (a signal, or `_exit`).
    Died(Death),
    /// Nothing within the liveness deadline: the actor's wait state then.
    NoReturn(Option<WaitState>),
}

/// A failure of the engine itself (never the host's deviation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HarnessError(pub String);

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HarnessError {}

impl HarnessError {
    /// Wraps an I/O error with what the engine was doing.
    pub fn io(what: impl fmt::Display, err: std::io::Error) -> HarnessError {
        HarnessError(format!("{what}: {err}"))
    }
}

struct ActorHandle {
    child: Child,
    pid: i32,
    tid: i64,
    ctrl: OwnedFd,
    /// An operation was sent and its reply has not been read.
    busy: bool,
    death: Option<Death>,
    /// Its thread's `/proc` files, opened at the first invoke.
    view: Option<ThreadView>,
}

/// One test case's actors.
pub struct Session {
    actors: Vec<ActorHandle>,
    timing: Timing,
    /// Actors say `Started` before each operation that may block, so that
    /// a thread-state sample taken afterwards can only show the operation
    /// itself waiting (platforms without a syscall view).
    ack: bool,
    /// Every "blocked" observation of this session, by evidence kind.
    pub evidence: EvidenceTally,
}

impl Session {
    /// A session with no actors yet.
    pub fn new(timing: Timing) -> Session {
        let ack = !os::proc::HAS_SYSCALL_VIEW && os::proc::HAS_THREAD_STATE;
        Session { actors: Vec::new(), timing, ack, evidence: EvidenceTally::default() }
    }

    /// A session whose actors acknowledge each operation that may block
    /// before performing it (the macOS evidence path), on any platform: for
    /// the engine's own tests.
    pub fn with_acknowledgements(timing: Timing) -> Session {
        let mut session = Session::new(timing);
        session.ack = true;
        session
    }

    /// The limits this session applies.
    pub fn timing(&self) -> Timing {
        self.timing
    }

    /// Starts an actor and waits for its hello.
    pub fn spawn(&mut self) -> Result<ActorId, HarnessError> {
        self.spawn_with(&[])
    }

    /// Starts an actor that inherits, besides its control channel and
    /// lifeline, each `(descriptor, number)` of `extra` at that number
    /// without close-on-exec (placed by `dup2` before exec: inheritance
    /// across exec, for rules about it). The numbers must differ from the
    /// lifeline's and the control channel's (3 and 4).
    pub fn spawn_with(&mut self, extra: &[(BorrowedFd<'_>, i32)]) -> Result<ActorId, HarnessError> {
        let (ours, theirs) = os::fd::control_pair().map_err(|e| HarnessError::io("socketpair for control", e))?;
        let mut fds = vec![(theirs.as_fd(), crate::actor::CONTROL_FD)];
        if extra.iter().any(|(_, n)| *n <= crate::actor::CONTROL_FD) {
            return Err(HarnessError("spawn_with: descriptor numbers up to 4 are the engine's".into()));
        }
        fds.extend(extra.iter().map(|(fd, n)| (*fd, *n)));
        let creating = crate::cleanup::creating();
        let child = os::process::spawn_self(&SpawnSpec { role: "actor", args: &[], fds: &fds })
            .map_err(|e| HarnessError::io("spawning an actor", e))?;
        drop(theirs);
        let pid = child.id() as i32;
        crate::cleanup::register_group(pid);
        drop(creating);
        let id = ActorId(self.actors.len());
        self.actors.push(ActorHandle {
            child,
            pid,
            tid: i64::from(pid),
            ctrl: ours,
            busy: true,
            death: None,
            view: None,
        });
        match self.await_reply(id, self.timing.deadline)? {
            Observed::Returned(Reply::Hello { tid, .. }) => {
                self.actors[id.0].tid = tid;
                if self.ack {
                    match self.call(id, &Request::AckOps(true))? {
                        Observed::Returned(Reply::Done) => {}
                        other => return Err(HarnessError(format!("{id} refused acknowledgements: {other:?}"))),
                    }
                }
                Ok(id)
            }
            other => Err(HarnessError(format!("{id} did not start: {other:?}"))),
        }
    }

    /// The process id of an actor.
    pub fn pid(&self, id: ActorId) -> i32 {
        self.actors[id.0].pid
    }

    /// The pids of every actor, live or not.
    pub fn pids(&self) -> Vec<i32> {
        self.actors.iter().map(|a| a.pid).collect()
    }

    /// Whether an actor is still alive (as far as the coordinator knows).
    pub fn alive(&self, id: ActorId) -> bool {
        self.actors[id.0].death.is_none()
    }

    /// Whether an actor has an operation in flight.
    pub fn busy(&self, id: ActorId) -> bool {
        self.actors[id.0].busy
    }

    /// Hands descriptors to an actor (`SCM_RIGHTS`); returns the numbers
    /// they got there. The caller then closes its own copies.
    pub fn hand(&mut self, id: ActorId, fds: &[BorrowedFd<'_>]) -> Result<Vec<i32>, HarnessError> {
        self.send(id, &Request::Adopt, fds)?;
        match self.await_reply(id, self.timing.deadline)? {
            Observed::Returned(Reply::Adopted { fds }) => Ok(fds),
            other => Err(HarnessError(format!("{id} did not adopt descriptors: {other:?}"))),
        }
    }

    /// Runs an operation that must complete (it may not block): its reply,
    /// its actor's death, or `NoReturn` after the liveness deadline.
    pub fn call(&mut self, id: ActorId, request: &Request) -> Result<Observed, HarnessError> {
        self.send(id, request, &[])?;
        self.await_reply(id, self.timing.deadline)
    }

    /// Invokes an operation that may block at `site`, and waits until it
    /// returns or is proved blocked there. Where the kernel shows no wait
    /// state, an operation still without reply after the bounded wait is
    /// taken as blocked with `Timeout` evidence. `NoReturn` when neither
    /// happens within the liveness deadline (blocked somewhere else).
    pub fn invoke(&mut self, id: ActorId, request: &Request, site: BlockSite) -> Result<Observed, HarnessError> {
        self.send(id, request, &[])?;
        let (pid, tid) = (self.actors[id.0].pid, self.actors[id.0].tid);
        let start = Instant::now();
        if self.ack && request.may_block() {
            // Wait for the actor to say it is about to perform the call.
            if let Some(observed) = self.await_frame(id, self.timing.deadline, true)? {
                return Ok(observed);
            }
        }
        // Sampling schedule: every PAUSE_STEP for the first PAUSE_DENSE
        // (most operations block or return within it), then backing off to
        // 1 ms. Each pause is a poll() on the control channel, so a reply
        // ends it at once; there is no busy spin.
        const PAUSE_STEP: Duration = Duration::from_micros(10);
        const PAUSE_DENSE: Duration = Duration::from_millis(2);
        os::process::precise_timers();
        let mut pause = PAUSE_STEP;
        let mut kernel_view = os::proc::HAS_SYSCALL_VIEW;
        let thread_view = os::proc::HAS_THREAD_STATE && self.ack;
        if kernel_view && self.actors[id.0].view.is_none() {
            self.actors[id.0].view = ThreadView::open(pid, tid).ok();
        }
        loop {
            if self.readable(id, pause)? {
                if let Some(observed) = self.take_frame(id)? {
                    return Ok(observed);
                }
                continue;
            }
            if kernel_view {
                let sample = match &self.actors[id.0].view {
                    Some(view) => view.sample(),
                    None => wait_state(pid, tid),
                };
                match sample {
                    Ok(mut ws) if site.matches(&ws) => {
                        if let Some(view) = &self.actors[id.0].view {
                            ws.wchan = view.wchan();
                        }
                        let evidence = Evidence::Proc(ws);
                        self.evidence.add(&evidence);
                        return Ok(Observed::Blocked(evidence));
                    }
                    Ok(_) => {}
                    Err(_) if !self.alive_now(id) => {}
                    Err(_) => kernel_view = false,
                }
            } else if thread_view && os::proc::thread_waiting(pid, tid).unwrap_or(false) {
                let evidence = Evidence::ThreadState(format!("thread {tid} waiting in {}", site.kind.name()));
                self.evidence.add(&evidence);
                return Ok(Observed::Blocked(evidence));
            } else if !thread_view && start.elapsed() >= self.timing.bounded_wait {
                let evidence = Evidence::Timeout { waited_ms: start.elapsed().as_millis() as u64 };
                self.evidence.add(&evidence);
                return Ok(Observed::Blocked(evidence));
            }
            if start.elapsed() >= self.timing.deadline {
                return Ok(Observed::NoReturn(wait_state(pid, tid).ok()));
            }
            if start.elapsed() >= PAUSE_DENSE {
                pause = (pause * 2).min(Duration::from_millis(1));
            }
        }
    }

    /// Sends an operation and returns at once, so that several actors can
    /// work at the same time; its reply is awaited later with
    /// [`Session::complete`] (or looked for with [`Session::poll`]).
    pub fn start(&mut self, id: ActorId, request: &Request) -> Result<(), HarnessError> {
        self.send(id, request, &[])
    }

    /// Waits for the reply of an operation in flight (one that must now
    /// complete), up to the liveness deadline.
    pub fn complete(&mut self, id: ActorId) -> Result<Observed, HarnessError> {
        self.await_reply(id, self.timing.deadline)
    }

    /// Waits for the first reply among several actors' operations in flight
    /// (any one of them may be the one that must complete), up to the
    /// liveness deadline; `None` if none replied by then.
    pub fn complete_any(&mut self, ids: &[ActorId]) -> Result<Option<(ActorId, Observed)>, HarnessError> {
        use rustix::event::{poll, PollFd, PollFlags, Timespec};
        let start = Instant::now();
        loop {
            let left = self.timing.deadline.saturating_sub(start.elapsed());
            if left.is_zero() {
                return Ok(None);
            }
            let step = left.min(Duration::from_millis(100));
            let ts = Timespec { tv_sec: step.as_secs() as i64, tv_nsec: step.subsec_nanos() as i64 };
            let ready: Vec<ActorId> = {
                let mut fds: Vec<PollFd<'_>> =
                    ids.iter().map(|id| PollFd::new(&self.actors[id.0].ctrl, PollFlags::IN)).collect();
                match poll(&mut fds, Some(&ts)) {
                    Ok(_) | Err(rustix::io::Errno::INTR) => {}
                    Err(e) => return Err(HarnessError::io("polling actors", e.into())),
                }
                ids.iter().zip(&fds).filter(|(_, fd)| !fd.revents().is_empty()).map(|(id, _)| *id).collect()
            };
            for id in ready {
                if let Some(observed) = self.take_frame(id)? {
                    return Ok(Some((id, observed)));
                }
            }
        }
    }

    /// The reply of an operation in flight if it has arrived, without waiting.
    pub fn poll(&mut self, id: ActorId) -> Result<Option<Observed>, HarnessError> {
        if !self.actors[id.0].busy {
            return Ok(None);
        }
        while self.readable(id, Duration::ZERO)? {
            if let Some(observed) = self.take_frame(id)? {
                return Ok(Some(observed));
            }
        }
        Ok(None)
    }

    /// Asks an actor to `_exit(code)` and reaps it.
    pub fn exit(&mut self, id: ActorId, code: i32) -> Result<Death, HarnessError> {
        self.send(id, &Request::Exit { code }, &[])?;
        self.reap(id)
    }

    /// Kills an actor with `SIGKILL` and reaps it: once this returns, the
    /// kernel has closed every descriptor it held.
    pub fn kill(&mut self, id: ActorId) -> Result<Death, HarnessError> {
        let actor = &self.actors[id.0];
        if let Some(death) = actor.death {
            return Ok(death);
        }
        os::process::kill_group(actor.pid, nix::sys::signal::Signal::SIGKILL)
            .map_err(|e| HarnessError::io(format!("killing {id}"), e))?;
        self.reap(id)
    }

    /// The kernel's view of an actor's thread now, where there is one.
    pub fn wait_state(&self, id: ActorId) -> Option<WaitState> {
        wait_state(self.actors[id.0].pid, self.actors[id.0].tid).ok()
    }

    fn alive_now(&self, id: ActorId) -> bool {
        std::path::Path::new(&format!("/proc/{}", self.actors[id.0].pid)).exists()
    }

    fn send(&mut self, id: ActorId, request: &Request, fds: &[BorrowedFd<'_>]) -> Result<(), HarnessError> {
        let actor = &mut self.actors[id.0];
        if actor.death.is_some() {
            return Err(HarnessError(format!("{id} is dead; cannot send {request:?}")));
        }
        if actor.busy {
            return Err(HarnessError(format!("{id} is busy; cannot send {request:?}")));
        }
        protocol::send(actor.ctrl.as_fd(), request, fds)
            .map_err(|e| HarnessError::io(format!("sending to {id}"), e))?;
        actor.busy = true;
        Ok(())
    }

    fn readable(&self, id: ActorId, timeout: Duration) -> Result<bool, HarnessError> {
        use rustix::event::{poll, PollFd, PollFlags, Timespec};
        let actor = &self.actors[id.0];
        let mut fds = [PollFd::new(&actor.ctrl, PollFlags::IN)];
        let ts = Timespec { tv_sec: timeout.as_secs() as i64, tv_nsec: timeout.subsec_nanos() as i64 };
        loop {
            match poll(&mut fds, Some(&ts)) {
                Ok(n) => return Ok(n > 0),
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(HarnessError::io(format!("polling {id}"), e.into())),
            }
        }
    }

    fn await_reply(&mut self, id: ActorId, deadline: Duration) -> Result<Observed, HarnessError> {
        Ok(self.await_frame(id, deadline, false)?.unwrap_or_else(|| Observed::NoReturn(self.wait_state(id))))
    }

    /// Waits for the reply (or the actor's death), or with `until_started`
    /// also returns `None` as soon as the actor acknowledges the operation.
    /// `NoReturn` after the deadline.
    fn await_frame(
        &mut self,
        id: ActorId,
        deadline: Duration,
        until_started: bool,
    ) -> Result<Option<Observed>, HarnessError> {
        let start = Instant::now();
        loop {
            let left = deadline.saturating_sub(start.elapsed());
            if self.readable(id, left.min(Duration::from_millis(100)))? {
                match self.take_frame(id)? {
                    Some(observed) => return Ok(Some(observed)),
                    None if until_started => return Ok(None),
                    None => continue,
                }
            }
            if start.elapsed() >= deadline {
                return Ok(Some(Observed::NoReturn(self.wait_state(id))));
            }
        }
    }

    /// Reads one frame: the reply (or the actor's death), or `None` for an
    /// acknowledgement that the operation is starting.
    fn take_frame(&mut self, id: ActorId) -> Result<Option<Observed>, HarnessError> {
        let actor = &mut self.actors[id.0];
        let mut fds = Vec::new();
        match protocol::recv::<Reply>(actor.ctrl.as_fd(), &mut fds) {
            Ok(Some(Reply::Started)) => Ok(None),
            Ok(Some(Reply::Refused(why))) => {
                actor.busy = false;
                Err(HarnessError(format!("{id} refused the operation: {why}")))
            }
            Ok(Some(reply)) => {
                actor.busy = false;
                Ok(Some(Observed::Returned(reply)))
            }
            Ok(None) | Err(_) => self.reap(id).map(|d| Some(Observed::Died(d))),
        }
    }

    fn reap(&mut self, id: ActorId) -> Result<Death, HarnessError> {
        use std::os::unix::process::ExitStatusExt;
        let actor = &mut self.actors[id.0];
        if let Some(death) = actor.death {
            return Ok(death);
        }
        let status = actor.child.wait().map_err(|e| HarnessError::io(format!("waiting for {id}"), e))?;
        crate::cleanup::unregister_group(actor.pid);
        let death = Death { code: status.code(), signal: status.signal() };
        actor.death = Some(death);
        actor.busy = false;
        Ok(death)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        for actor in &mut self.actors {
            if actor.death.is_none() {
                let _ = os::process::kill_group(actor.pid, nix::sys::signal::Signal::SIGKILL);
                let _ = actor.child.wait();
                crate::cleanup::unregister_group(actor.pid);
            }
        }
    }
}
