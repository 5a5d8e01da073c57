//! The coordinator's side of a test case: it starts actors, hands them the
//! descriptors under test, invokes one operation at a time and observes
//! whether it returned, blocked (with evidence), or killed its actor.
//!
//! What is not an observation of the host never comes back as one: an
//! operation without a return within the liveness deadline is
//! [`Stop::Hung`], and a death the schedule did not ask for (a signal the
//! engine did not send and the operation could not raise, or the actor's
//! own exit) is [`Stop::Death`]. The session knows which deaths it asked
//! for: the exits and kills of the schedule, and the signals the operation
//! in flight may raise ([`Request::may_raise`]). [`Session::audit`] finds
//! deaths of actors that were between operations. Dropping a session
//! kills every actor's process group and reaps it.

use crate::case::Stop;
use crate::evidence::{self, BlockSite, Evidence, EvidenceKind, EvidenceTally, Seen, ASLEEP_SAMPLES};
use crate::observed::{Death, Observed};
use crate::os::proc::{wait_state, ThreadView, ViewError, WaitState};
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

/// One frame from an actor.
enum Frame {
    /// The reply of the operation in flight (or the actor's death).
    Reply(Observed),
    /// The actor is about to perform an operation that may block.
    Started,
    /// The operation in flight is still making progress.
    Progress,
    /// Nothing within the control channel's receive timeout
    /// ([`CHANNEL_WAIT`]).
    Nothing,
}

/// The operation an actor was sent and has not answered yet.
struct InFlight {
    what: String,
    may_raise: &'static [i32],
}

/// An actor's process: started by fork + exec, or forked by the fork
/// server ([`os::forkserver`]).
enum Proc {
    Exec(Child),
    Served(os::forkserver::Served),
}

impl Proc {
    fn try_wait(&mut self) -> std::io::Result<Option<std::process::ExitStatus>> {
        match self {
            Proc::Exec(c) => c.try_wait(),
            Proc::Served(s) => s.try_wait(),
        }
    }

    fn wait(&mut self) -> std::io::Result<std::process::ExitStatus> {
        match self {
            Proc::Exec(c) => c.wait(),
            Proc::Served(s) => s.wait(),
        }
    }
}

struct ActorHandle {
    child: Proc,
    pid: i32,
    tid: i64,
    ctrl: OwnedFd,
    /// The control channel's receiving side (frames read ahead).
    rx: protocol::Receiver,
    in_flight: Option<InFlight>,
    /// The schedule asked this actor to end (an exit or a kill).
    ending: bool,
    death: Option<Death>,
    /// Its thread's views, opened at the first invoke.
    view: Option<ThreadView>,
    /// Whether a receive on `ctrl` returns within [`CHANNEL_WAIT`] (the
    /// host honours the timeout and it was set); if not, a wait polls
    /// before it receives.
    timed: bool,
}

/// How long one receive on a control channel waits before the waiting
/// loop looks at its deadline again (`SO_RCVTIMEO` on the coordinator's
/// end): the wait for a reply is then the receive itself, one system call,
/// rather than a `poll(2)` and a receive.
const CHANNEL_WAIT: Duration = Duration::from_millis(100);

/// One test case's actors.
pub struct Session {
    actors: Vec<ActorHandle>,
    timing: Timing,
    /// The evidence level "blocked" is confirmed at ([`crate::evidence`]).
    level: EvidenceKind,
    /// Actors say `Started` before each operation that may block, so that
    /// a sample taken afterwards can only show the operation itself
    /// waiting (every level below `proc`).
    ack: bool,
    /// Every "blocked" observation of this session, by evidence kind.
    pub evidence: EvidenceTally,
}

impl Session {
    /// A session with no actors yet, at the evidence level in force
    /// ([`crate::evidence::in_force`]).
    pub fn new(timing: Timing) -> Session {
        Session::at_level(timing, crate::evidence::in_force())
    }

    /// A session that confirms "blocked" at `level`.
    pub fn at_level(timing: Timing, level: EvidenceKind) -> Session {
        let ack = level > EvidenceKind::Proc;
        Session { actors: Vec::new(), timing, level, ack, evidence: EvidenceTally::default() }
    }

    /// A session whose actors acknowledge each operation that may block
    /// before performing it, at the strongest level: for the engine's own
    /// tests of the acknowledgement path.
    pub fn with_acknowledgements(timing: Timing) -> Session {
        let mut session = Session::new(timing);
        session.ack = true;
        session
    }

    /// The evidence level this session confirms "blocked" at.
    pub fn level(&self) -> EvidenceKind {
        self.level
    }

    /// The limits this session applies.
    pub fn timing(&self) -> Timing {
        self.timing
    }

    /// Starts an actor and waits for its hello.
    pub fn spawn(&mut self) -> Result<ActorId, Stop> {
        self.spawn_with(&[])
    }

    /// Starts an actor by fork + exec even where the fork server would
    /// serve it: for `bench`, which measures both ways.
    pub fn spawn_by_exec(&mut self) -> Result<ActorId, Stop> {
        self.start_actor(&[], false)
    }

    /// Starts an actor that inherits, besides its control channel and
    /// lifeline, each `(descriptor, number)` of `extra` at that number
    /// without close-on-exec (placed by `dup2` before exec: inheritance
    /// across exec, for rules about it). The numbers must differ from the
    /// lifeline's and the control channel's (3 and 4).
    pub fn spawn_with(&mut self, extra: &[(BorrowedFd<'_>, i32)]) -> Result<ActorId, Stop> {
        let served = extra.is_empty() && os::forkserver::enabled().map_err(Stop::harness)?;
        self.start_actor(extra, served)
    }

    fn start_actor(&mut self, extra: &[(BorrowedFd<'_>, i32)], served: bool) -> Result<ActorId, Stop> {
        let (ours, theirs) = os::fd::control_pair().map_err(|e| Stop::io("socketpair for control", e))?;
        let mut fds = vec![(theirs.as_fd(), crate::actor::CONTROL_FD)];
        if extra.iter().any(|(_, n)| *n <= crate::actor::CONTROL_FD) {
            return Err(Stop::harness("spawn_with: descriptor numbers up to 4 are the engine's"));
        }
        fds.extend(extra.iter().map(|(fd, n)| (*fd, *n)));
        let creating = crate::cleanup::creating();
        let (child, pid) = if served {
            let s = os::forkserver::spawn(theirs.as_fd(), os::deviant::for_children())
                .map_err(|e| Stop::io("asking the fork server for an actor", e))?;
            let pid = s.id() as i32;
            (Proc::Served(s), pid)
        } else {
            let c = os::process::spawn_self(&SpawnSpec { role: "actor", args: &[], fds: &fds })
                .map_err(|e| Stop::io("spawning an actor", e))?;
            let pid = c.id() as i32;
            (Proc::Exec(c), pid)
        };
        drop(theirs);
        let timed = os::socket::channel_receive_timeout_holds()
            && os::socket::set_channel_receive_timeout(ours.as_fd(), CHANNEL_WAIT).is_ok();
        crate::cleanup::register_group(pid);
        drop(creating);
        let id = ActorId(self.actors.len());
        self.actors.push(ActorHandle {
            child,
            pid,
            tid: i64::from(pid),
            ctrl: ours,
            rx: protocol::Receiver::new(),
            in_flight: Some(InFlight { what: "starting (before its hello)".into(), may_raise: &[] }),
            ending: false,
            death: None,
            view: None,
            timed,
        });
        match self.await_reply(id, self.timing.deadline)? {
            Observed::Returned(Reply::Hello { tid, .. }) => {
                self.actors[id.0].tid = tid;
                if self.ack {
                    match self.call(id, &Request::AckOps(true))? {
                        Observed::Returned(Reply::Done) => {}
                        other => return Err(Stop::harness(format!("{id} refused acknowledgements: {other:?}"))),
                    }
                }
                Ok(id)
            }
            other => Err(Stop::harness(format!("{id} did not start: {other:?}"))),
        }
    }

    /// The process id of an actor.
    pub fn pid(&self, id: ActorId) -> i32 {
        self.actors[id.0].pid
    }

    /// The id of an actor's thread, as the kernel's thread views name it.
    pub fn tid(&self, id: ActorId) -> i64 {
        self.actors[id.0].tid
    }

    /// The pids of every actor, live or not.
    pub fn pids(&self) -> Vec<i32> {
        self.actors.iter().map(|a| a.pid).collect()
    }

    /// How many actors this session started.
    pub fn len(&self) -> usize {
        self.actors.len()
    }

    /// Whether no actor was started yet.
    pub fn is_empty(&self) -> bool {
        self.actors.is_empty()
    }

    /// Whether an actor is still alive (as far as the coordinator knows).
    pub fn alive(&self, id: ActorId) -> bool {
        self.actors[id.0].death.is_none()
    }

    /// Whether an actor has an operation in flight.
    pub fn busy(&self, id: ActorId) -> bool {
        self.actors[id.0].in_flight.is_some()
    }

    /// Hands descriptors to an actor (`SCM_RIGHTS`); returns the numbers
    /// they got there. The caller then closes its own copies.
    pub fn hand(&mut self, id: ActorId, fds: &[BorrowedFd<'_>]) -> Result<Vec<i32>, Stop> {
        self.send(id, &Request::Adopt, fds)?;
        match self.await_reply(id, self.timing.deadline)? {
            Observed::Returned(Reply::Adopted { fds: numbers }) => {
                crate::channel::check_descriptors(&id.to_string(), fds.len(), numbers.len())?;
                Ok(numbers)
            }
            other => Err(Stop::harness(format!("{id} did not adopt descriptors: {other:?}"))),
        }
    }

    /// Runs an operation that must complete (it may not block): its reply,
    /// or its actor's death as the case allows; [`Stop::Hung`] after the
    /// liveness deadline.
    pub fn call(&mut self, id: ActorId, request: &Request) -> Result<Observed, Stop> {
        self.send(id, request, &[])?;
        self.await_reply(id, self.timing.deadline)
    }

    /// Invokes an operation that may block at `site`, and waits until it
    /// returns or is proved blocked there, at the session's evidence level
    /// ([`crate::evidence`]): `proc`, the thread asleep in the call on the
    /// descriptor; `wchan` and `thread-state`, after the actor announced
    /// the call, the thread asleep in several consecutive samples with no
    /// reply; `timeout`, no reply within the bounded wait (which never
    /// grounds a `fail` on its own). A view that the kernel refuses during
    /// the call leaves this call at `timeout`, said so in its evidence.
    /// [`Stop::Hung`] when neither happens and the operation makes no
    /// progress within the liveness deadline.
    pub fn invoke(&mut self, id: ActorId, request: &Request, site: BlockSite) -> Result<Observed, Stop> {
        self.send(id, request, &[])?;
        let (pid, tid) = (self.actors[id.0].pid, self.actors[id.0].tid);
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
        let began = Instant::now();
        let mut start = began;
        let mut pause = PAUSE_STEP;
        let mut level = self.level;
        let mut refused: Option<ViewError> = None;
        let mut asleep = 0u32;
        if level < EvidenceKind::Timeout && self.actors[id.0].view.is_none() {
            self.actors[id.0].view = Some(ThreadView::open(pid, tid));
        }
        loop {
            if self.readable(id, pause)? {
                match self.take_frame(id)? {
                    Frame::Reply(observed) => return Ok(observed),
                    Frame::Progress => start = Instant::now(),
                    Frame::Started | Frame::Nothing => {}
                }
                continue;
            }
            let seen = match &self.actors[id.0].view {
                Some(view) => evidence::look(view, level, site),
                None => Seen::Nothing,
            };
            match seen {
                Seen::Proc(mut ws) => {
                    if let Some(view) = &self.actors[id.0].view {
                        ws.wchan = view.wchan().unwrap_or_default();
                    }
                    return Ok(self.blocked(Evidence::Proc(ws)));
                }
                Seen::Asleep(what) => {
                    asleep += 1;
                    // A sample seen asleep before a reply that arrived
                    // since could be the actor waiting for its next
                    // request: only samples with no reply after them count.
                    if asleep >= ASLEEP_SAMPLES && !self.readable(id, Duration::ZERO)? {
                        let what = format!("thread {tid} asleep in {} ({what}) in {asleep} samples", site.kind.name());
                        return Ok(self.blocked(match level {
                            EvidenceKind::Wchan => Evidence::Wchan(what),
                            _ => Evidence::ThreadState(what),
                        }));
                    }
                }
                Seen::Refused(e) => {
                    refused = Some(e);
                    level = EvidenceKind::Timeout;
                }
                Seen::Nothing => asleep = 0,
            }
            if level == EvidenceKind::Timeout && began.elapsed() >= self.timing.bounded_wait {
                let waited_ms = began.elapsed().as_millis() as u64;
                let refused = refused.map(|e| e.to_string());
                return Ok(self.blocked(Evidence::Timeout { waited_ms, refused }));
            }
            if start.elapsed() >= self.timing.deadline {
                let ws = self.describe_wait(id);
                return Err(Stop::hung(
                    None,
                    format!(
                        "{id}: {} neither returned nor was seen blocked in {} within the deadline ({ws})",
                        request.summary(),
                        site.kind.name()
                    ),
                ));
            }
            if began.elapsed() >= PAUSE_DENSE {
                pause = (pause * 2).min(Duration::from_millis(1));
            }
        }
    }

    /// Records evidence of a blocked call and returns the observation.
    fn blocked(&mut self, evidence: Evidence) -> Observed {
        self.evidence.add(&evidence);
        Observed::Blocked(evidence)
    }

    /// Sends an operation that may block and, with acknowledgements on,
    /// waits until the actor says it is about to perform it (a reply
    /// instead is a harness error: the caller expected it to block).
    pub fn begin(&mut self, id: ActorId, request: &Request) -> Result<(), Stop> {
        self.send(id, request, &[])?;
        if self.ack && request.may_block() {
            if let Some(observed) = self.await_frame(id, self.timing.deadline, true)? {
                return Err(Stop::harness(format!("{id}: {} returned at once: {observed:?}", request.summary())));
            }
        }
        Ok(())
    }

    /// Sends an operation and returns at once, so that several actors can
    /// work at the same time; its reply is awaited later with
    /// [`Session::complete`] (or looked for with [`Session::poll`]).
    pub fn start(&mut self, id: ActorId, request: &Request) -> Result<(), Stop> {
        self.send(id, request, &[])
    }

    /// Waits for the reply of an operation in flight (one that must now
    /// complete), up to the liveness deadline.
    pub fn complete(&mut self, id: ActorId) -> Result<Observed, Stop> {
        self.await_reply(id, self.timing.deadline)
    }

    /// Waits for the first reply among several actors' operations in flight
    /// (any one of them may be the one that must complete), up to the
    /// liveness deadline; `None` if none replied by then.
    pub fn complete_any(&mut self, ids: &[ActorId]) -> Result<Option<(ActorId, Observed)>, Stop> {
        use rustix::event::{poll, PollFd, PollFlags, Timespec};
        let mut start = Instant::now();
        loop {
            let left = self.timing.deadline.saturating_sub(start.elapsed());
            if left.is_zero() {
                return Ok(None);
            }
            let step = left.min(Duration::from_millis(100));
            let ts = Timespec { tv_sec: step.as_secs() as i64, tv_nsec: step.subsec_nanos() as i64 };
            let buffered: Vec<ActorId> = ids.iter().copied().filter(|id| self.actors[id.0].rx.has_frame()).collect();
            let ready: Vec<ActorId> = if !buffered.is_empty() {
                buffered
            } else {
                let mut fds: Vec<PollFd<'_>> =
                    ids.iter().map(|id| PollFd::new(&self.actors[id.0].ctrl, PollFlags::IN)).collect();
                match poll(&mut fds, Some(&ts)) {
                    Ok(_) | Err(rustix::io::Errno::INTR) => {}
                    Err(e) => return Err(Stop::io("polling actors", e.into())),
                }
                ids.iter().zip(&fds).filter(|(_, fd)| !fd.revents().is_empty()).map(|(id, _)| *id).collect()
            };
            for id in ready {
                match self.take_frame(id)? {
                    Frame::Reply(observed) => return Ok(Some((id, observed))),
                    Frame::Progress => start = Instant::now(),
                    Frame::Started | Frame::Nothing => {}
                }
            }
        }
    }

    /// The reply of an operation in flight if it has arrived, without waiting.
    pub fn poll(&mut self, id: ActorId) -> Result<Option<Observed>, Stop> {
        if !self.busy(id) {
            return Ok(None);
        }
        while self.readable(id, Duration::ZERO)? {
            if let Frame::Reply(observed) = self.take_frame(id)? {
                return Ok(Some(observed));
            }
        }
        Ok(None)
    }

    /// Asks an actor to `_exit(code)` and reaps it. An actor that was
    /// already dead, or that ends otherwise, is [`Stop::Death`].
    pub fn exit(&mut self, id: ActorId, code: i32) -> Result<Death, Stop> {
        self.check_alive(id)?;
        self.actors[id.0].ending = true;
        self.send(id, &Request::Exit { code }, &[])?;
        let death = self.reap(id)?;
        if death != Death::exited(code) {
            self.actors[id.0].ending = false;
            return Err(self
                .judge_death(id, death)
                .err()
                .unwrap_or_else(|| Stop::harness(format!("{id} was asked to exit with {code} and {death}"))));
        }
        self.actors[id.0].in_flight = None;
        Ok(death)
    }

    /// Kills an actor with `SIGKILL` and reaps it: once this returns, the
    /// kernel has closed every descriptor it held. An actor that was
    /// already dead is [`Stop::Death`].
    pub fn kill(&mut self, id: ActorId) -> Result<Death, Stop> {
        self.check_alive(id)?;
        let actor = &mut self.actors[id.0];
        actor.ending = true;
        os::process::kill_group(actor.pid, nix::sys::signal::Signal::SIGKILL)
            .map_err(|e| Stop::io(format!("killing {id}"), e))?;
        let death = self.reap(id)?;
        self.actors[id.0].in_flight = None;
        Ok(death)
    }

    /// The kernel's view of an actor's thread now, where there is one.
    pub fn wait_state(&self, id: ActorId) -> Option<WaitState> {
        wait_state(self.actors[id.0].pid, self.actors[id.0].tid).ok()
    }

    fn describe_wait(&self, id: ActorId) -> String {
        match wait_state(self.actors[id.0].pid, self.actors[id.0].tid) {
            Ok(ws) if matches!(ws.state, 'T' | 't') => format!("{ws}: stopped or traced, not blocked"),
            Ok(ws) => ws.to_string(),
            Err(e) => format!("no wait state: {e}"),
        }
    }

    /// Looks for actors that died without the schedule asking, also those
    /// that were between operations (their end of the control channel shows
    /// a hang-up). An actor's exit closes its descriptors in ascending
    /// order, the control channel (4) before any object under test, so a
    /// death that another actor's observation could reflect shows here
    /// before that observation arrives. A death the operation in flight
    /// allows (a `SIGPIPE` during a write) is kept for its completion.
    pub fn audit(&mut self) -> Result<(), Stop> {
        for a in 0..self.actors.len() {
            self.check_alive(ActorId(a))?;
        }
        Ok(())
    }

    /// [`Session::audit`] for one actor: if it has died and nobody has
    /// heard of it yet, reaps it and judges the death.
    fn check_alive(&mut self, id: ActorId) -> Result<(), Stop> {
        use rustix::event::{poll, PollFd, PollFlags, Timespec};
        let actor = &mut self.actors[id.0];
        if actor.death.is_some() {
            return Ok(());
        }
        let hung_up = {
            let mut fds = [PollFd::new(&actor.ctrl, PollFlags::empty())];
            let zero = Timespec { tv_sec: 0, tv_nsec: 0 };
            matches!(poll(&mut fds, Some(&zero)), Ok(1)) && fds[0].revents().intersects(PollFlags::HUP | PollFlags::ERR)
        };
        if hung_up || matches!(actor.child.try_wait(), Ok(Some(_))) {
            let death = self.reap(id)?;
            self.judge_death(id, death)?;
        }
        Ok(())
    }

    fn send(&mut self, id: ActorId, request: &Request, fds: &[BorrowedFd<'_>]) -> Result<(), Stop> {
        let actor = &mut self.actors[id.0];
        if let Some(death) = actor.death {
            return Err(Stop::harness(format!("{id} has ended ({death}); cannot send {}", request.summary())));
        }
        if actor.in_flight.is_some() {
            return Err(Stop::harness(format!("{id} is busy; cannot send {}", request.summary())));
        }
        actor.in_flight = Some(InFlight { what: request.summary(), may_raise: request.may_raise() });
        if let Err(e) = protocol::send(actor.ctrl.as_fd(), request, fds) {
            // The channel is gone: the actor died (or is dying) before
            // taking the operation; its death says more than the error.
            if !self.actors[id.0].ending {
                let death = self.reap(id)?;
                self.actors[id.0].in_flight = None;
                return Err(self
                    .judge_death(id, death)
                    .err()
                    .unwrap_or_else(|| Stop::io(format!("sending to {id}"), e)));
            }
        }
        Ok(())
    }

    fn readable(&self, id: ActorId, timeout: Duration) -> Result<bool, Stop> {
        use rustix::event::{poll, PollFd, PollFlags, Timespec};
        let actor = &self.actors[id.0];
        if actor.rx.has_frame() {
            return Ok(true);
        }
        let mut fds = [PollFd::new(&actor.ctrl, PollFlags::IN)];
        let ts = Timespec { tv_sec: timeout.as_secs() as i64, tv_nsec: timeout.subsec_nanos() as i64 };
        loop {
            match poll(&mut fds, Some(&ts)) {
                Ok(n) => return Ok(n > 0),
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(Stop::io(format!("polling {id}"), e.into())),
            }
        }
    }

    fn await_reply(&mut self, id: ActorId, deadline: Duration) -> Result<Observed, Stop> {
        match self.await_frame(id, deadline, false)? {
            Some(observed) => Ok(observed),
            None => Err(Stop::harness(format!("{id}: an acknowledgement where a reply was due"))),
        }
    }

    /// Waits for the reply (or the actor's death), or with `until_started`
    /// also returns `None` as soon as the actor acknowledges the operation.
    /// [`Stop::Hung`] after the deadline.
    fn await_frame(&mut self, id: ActorId, deadline: Duration, until_started: bool) -> Result<Option<Observed>, Stop> {
        let mut start = Instant::now();
        loop {
            let left = deadline.saturating_sub(start.elapsed());
            // A timed channel waits in the receive itself; another polls
            // first, so that the receive does not block past the deadline.
            if self.actors[id.0].timed || self.readable(id, left.min(CHANNEL_WAIT))? {
                let receiving = Instant::now();
                match self.take_frame(id)? {
                    Frame::Reply(observed) => return Ok(Some(observed)),
                    Frame::Started if until_started => return Ok(None),
                    // A receive that gave up long before its timeout (a
                    // receive refused at once): poll from now on rather
                    // than spin.
                    Frame::Nothing if receiving.elapsed() < CHANNEL_WAIT / 2 => self.actors[id.0].timed = false,
                    Frame::Started | Frame::Nothing => {}
                    // No progress within the deadline is what `hung` means.
                    Frame::Progress => start = Instant::now(),
                }
            }
            if start.elapsed() >= deadline {
                let what = self.actors[id.0].in_flight.as_ref().map_or_else(String::new, |f| f.what.clone());
                return Err(Stop::hung(
                    None,
                    format!("{id}: {what} did not return within the deadline ({})", self.describe_wait(id)),
                ));
            }
        }
    }

    /// Reads one frame: the reply (or the actor's death), an
    /// acknowledgement that the operation is starting, or a report of
    /// progress.
    fn take_frame(&mut self, id: ActorId) -> Result<Frame, Stop> {
        let actor = &mut self.actors[id.0];
        let mut fds = Vec::new();
        let received = actor.rx.recv::<Reply>(actor.ctrl.as_fd(), &mut fds);
        match received {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(Frame::Nothing),
            Ok(Some(Reply::Started)) => Ok(Frame::Started),
            Ok(Some(Reply::Progress(_))) => Ok(Frame::Progress),
            Ok(Some(Reply::Refused(why))) => {
                actor.in_flight = None;
                Err(Stop::harness(format!("{id} refused the operation: {why}")))
            }
            Ok(Some(reply)) => {
                actor.in_flight = None;
                Ok(Frame::Reply(Observed::Returned(reply)))
            }
            Ok(None) | Err(_) if self.alive_after_grace(id)? => {
                // The actor lives, yet its channel ended or broke: what the
                // channel showed, judged against the rules it breaks.
                let err = received.err();
                self.actors[id.0].in_flight = None;
                Err(crate::channel::fault_of_recv(&id.to_string(), err.as_ref())
                    .unwrap_or_else(|| Stop::harness(format!("the control channel of {id} broke: {err:?}"))))
            }
            Ok(None) | Err(_) => {
                let death = self.reap(id)?;
                let allowed = self.judge_death(id, death);
                self.actors[id.0].in_flight = None;
                allowed.map(|()| Frame::Reply(Observed::Died(death)))
            }
        }
    }

    /// Lets `id` sit idle between operations for `dur` (waiting for its next
    /// request, its lifeline watched): if it ends meanwhile, its death is
    /// judged as any other (a fault its channels showed is a finding).
    pub fn idle(&mut self, id: ActorId, dur: Duration) -> Result<(), Stop> {
        let until = Instant::now() + dur;
        while Instant::now() < until {
            match self.actors[id.0].child.try_wait() {
                Ok(Some(_)) => {
                    let death = self.reap(id)?;
                    return self.judge_death(id, death);
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(2)),
                Err(e) => return Err(Stop::io(format!("waiting for {id}"), e)),
            }
        }
        Ok(())
    }

    /// Whether the actor is still alive a moment after its control channel
    /// ended or failed (an actor that is dying closes its descriptors a
    /// little before it can be reaped).
    fn alive_after_grace(&mut self, id: ActorId) -> Result<bool, Stop> {
        let until = Instant::now() + self.timing.bounded_wait.max(Duration::from_millis(500));
        let actor = &mut self.actors[id.0];
        loop {
            match actor.child.try_wait() {
                Ok(Some(_)) => return Ok(false),
                Ok(None) if Instant::now() >= until => return Ok(true),
                Ok(None) => std::thread::sleep(Duration::from_millis(1)),
                Err(e) => return Err(Stop::io(format!("waiting for {id}"), e)),
            }
        }
    }

    /// Whether a death is one the case allows: asked for by the schedule,
    /// or a signal the operation in flight may raise. Otherwise the
    /// [`Stop::Death`] that names it.
    fn judge_death(&self, id: ActorId, death: Death) -> Result<(), Stop> {
        let actor = &self.actors[id.0];
        if actor.ending {
            return Ok(());
        }
        let allowed = match (&actor.in_flight, death.signal) {
            (Some(op), Some(sig)) => op.may_raise.contains(&sig),
            _ => false,
        };
        if allowed {
            return Ok(());
        }
        let during = match &actor.in_flight {
            Some(op) => format!("during {}", op.what),
            None => "between operations".to_string(),
        };
        // An actor that ended because its own channel showed a fault, while
        // this coordinator lives and holds the other ends.
        if let Some((rules, seen)) =
            death.code.filter(|_| death.signal.is_none()).and_then(crate::channel::fault_of_exit)
        {
            return Err(Stop::Channel {
                rules: rules.iter().map(|r| r.to_string()).collect(),
                message: format!("{id} ended {during} because {seen}"),
            });
        }
        Err(Stop::Death { actor: id.0, death, during })
    }

    fn reap(&mut self, id: ActorId) -> Result<Death, Stop> {
        use std::os::unix::process::ExitStatusExt;
        let actor = &mut self.actors[id.0];
        if let Some(death) = actor.death {
            return Ok(death);
        }
        let status = actor.child.wait().map_err(|e| Stop::io(format!("waiting for {id}"), e))?;
        crate::cleanup::unregister_group(actor.pid);
        let death = Death { code: status.code(), signal: status.signal() };
        actor.death = Some(death);
        Ok(death)
    }
}

impl Drop for Session {
    /// Every live actor's group is killed first, then each actor reaped:
    /// the actors die side by side (and the fork server reaps those that
    /// ended together at one wake-up), not one kill and wait after another.
    fn drop(&mut self) {
        for actor in self.actors.iter().filter(|a| a.death.is_none()) {
            let _ = os::process::kill_group(actor.pid, nix::sys::signal::Signal::SIGKILL);
        }
        for actor in self.actors.iter_mut().filter(|a| a.death.is_none()) {
            let _ = actor.child.wait();
            crate::cleanup::unregister_group(actor.pid);
        }
    }
}
