//! Evidence: how the engine knows that an operation blocked, at which
//! strength this host allows, and the tally of each kind that a verdict
//! rests on.
//!
//! Four levels, strongest first ([`EvidenceKind`]):
//!
//! 1. `proc`: the actor's thread sleeps in the expected system call on the
//!    expected descriptor (Linux `/proc/<pid>/task/<tid>/syscall`);
//! 2. `wchan`: after the actor said it is starting the call, its thread is
//!    seen asleep in the kernel, in a named wait channel, in several
//!    consecutive samples with no reply (Linux `wchan`);
//! 3. `thread-state`: the same with the run state alone (Linux `stat`,
//!    macOS `proc_pidinfo`);
//! 4. `timeout`: no view at all: no reply within a bounded wait. This may
//!    move a schedule forward but never grounds a `fail` on its own
//!    ([`crate::engine`]).
//!
//! Which levels the host offers is probed at start against a real actor
//! blocked in `read(2)` of an empty pipe ([`probe`]), so that the answer is
//! about actors as they run; `--evidence` / [`EVIDENCE_ENV`] caps it.

use crate::os::entry::ReadCall;
use crate::os::proc::{SyscallKind, ThreadView, ViewError, WaitState};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Mutex;

/// The environment variable that caps the evidence level:
/// `proc`, `wchan`, `thread-state` or `timeout`.
pub const EVIDENCE_ENV: &str = "IPC_CONFORM_EVIDENCE";

/// Where a blocked operation must be found sleeping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockSite {
    /// The kind of system call.
    pub kind: SyscallKind,
    /// The descriptor number in the actor, when the call's first argument
    /// is a descriptor.
    pub fd: Option<i32>,
}

impl BlockSite {
    /// Whether a thread in run state `state` is asleep the way a call of
    /// this kind may wait: `S` (interruptible), and `D` only for a kind
    /// whose wait is documented to be uninterruptible. A stopped or traced
    /// thread (`T`, `t`) is never taken as blocked.
    pub fn asleep(&self, state: char) -> bool {
        state == 'S' || (state == 'D' && self.kind.waits_uninterruptibly())
    }

    /// Whether `ws` shows a thread asleep in this call on this descriptor.
    pub fn matches(&self, ws: &WaitState) -> bool {
        let Some(sc) = &ws.syscall else { return false };
        self.asleep(ws.state)
            && self.kind.numbers().contains(&sc.nr)
            && match self.fd {
                Some(fd) if self.kind.arg0_is_fd() => sc.arg0 == fd as u64,
                _ => true,
            }
    }
}

/// How many consecutive samples must show the thread asleep, with no
/// reply, at the levels that see only that it sleeps.
pub const ASLEEP_SAMPLES: u32 = 3;

/// What one sample of a thread showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    /// Asleep in the expected call on the expected descriptor.
    Proc(WaitState),
    /// Asleep (what the view names).
    Asleep(String),
    /// Not (yet) asleep where the call would wait.
    Nothing,
    /// The view was refused.
    Refused(ViewError),
}

/// One sample of `view` at evidence level `level`, judged against `site`:
/// the one place that says what each level takes as a sign of sleeping in
/// the call (the engine's [`crate::session::Session::invoke`] and the
/// bench's raw floor both sample through it). `Proc` is proof on its own;
/// `Asleep` counts only in [`ASLEEP_SAMPLES`] consecutive samples with no
/// reply after them; `timeout` looks at nothing.
pub fn look(view: &ThreadView, level: EvidenceKind, site: BlockSite) -> Seen {
    match level {
        EvidenceKind::Timeout => Seen::Nothing,
        EvidenceKind::Proc => match view.sample() {
            Ok(ws) if site.matches(&ws) => Seen::Proc(ws),
            Ok(_) | Err(ViewError::Gone) => Seen::Nothing,
            Err(e) => Seen::Refused(e),
        },
        EvidenceKind::Wchan => match (view.state(), view.wchan()) {
            (Ok(s), Ok(w)) if site.asleep(s) && !w.is_empty() && w != "0" => Seen::Asleep(w),
            (Ok(_), Ok(_)) | (Err(ViewError::Gone), _) | (_, Err(ViewError::Gone)) => Seen::Nothing,
            (Err(e), _) | (_, Err(e)) => Seen::Refused(e),
        },
        EvidenceKind::ThreadState => match view.state() {
            Ok(s) if site.asleep(s) => Seen::Asleep(format!("state {s}")),
            Ok(_) | Err(ViewError::Gone) => Seen::Nothing,
            Err(e) => Seen::Refused(e),
        },
    }
}

/// Why the engine believes an operation is blocked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Evidence {
    /// Linux `/proc`: the actor's thread sleeps in the expected system call
    /// on the expected descriptor.
    Proc(WaitState),
    /// After the actor's acknowledgement, its thread asleep in this kernel
    /// wait channel in several consecutive samples.
    Wchan(String),
    /// After the actor's acknowledgement, its thread asleep (run state
    /// only) in several consecutive samples.
    ThreadState(String),
    /// No view: the operation had not returned after a bounded wait of
    /// this many milliseconds. Weaker evidence, and named so; `refused`
    /// says which view the kernel refused during this call, if one did.
    Timeout {
        /// How long the operation was without a reply.
        waited_ms: u64,
        /// The view refused during the call (the level had been stronger).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refused: Option<String>,
    },
}

impl Evidence {
    /// The kind, as the report names it.
    pub fn kind(&self) -> EvidenceKind {
        match self {
            Evidence::Proc(_) => EvidenceKind::Proc,
            Evidence::Wchan(_) => EvidenceKind::Wchan,
            Evidence::ThreadState(_) => EvidenceKind::ThreadState,
            Evidence::Timeout { .. } => EvidenceKind::Timeout,
        }
    }
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Evidence::Proc(ws) => write!(f, "/proc: {ws}"),
            Evidence::Wchan(w) => write!(f, "wchan: asleep in {w}"),
            Evidence::ThreadState(s) => write!(f, "thread state: {s}"),
            Evidence::Timeout { waited_ms, refused: None } => {
                write!(f, "no return within {waited_ms} ms (no kernel view)")
            }
            Evidence::Timeout { waited_ms, refused: Some(why) } => {
                write!(f, "no return within {waited_ms} ms (the kernel refused the thread view: {why})")
            }
        }
    }
}

/// The kinds of evidence, which are also the levels a host offers, from
/// the strongest (`Proc`) to the weakest (`Timeout`): `a < b` means `a` is
/// stronger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceKind {
    /// The system call and its descriptor (`/proc/<pid>/task/<tid>/syscall`).
    Proc,
    /// The kernel wait channel after the actor's acknowledgement.
    Wchan,
    /// The thread's run state after the actor's acknowledgement.
    ThreadState,
    /// A bounded wait.
    Timeout,
}

impl EvidenceKind {
    /// Every kind, strongest first.
    pub const ALL: [EvidenceKind; 4] =
        [EvidenceKind::Proc, EvidenceKind::Wchan, EvidenceKind::ThreadState, EvidenceKind::Timeout];

    /// The report's name for this kind.
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::Proc => "proc",
            EvidenceKind::Wchan => "wchan",
            EvidenceKind::ThreadState => "thread-state",
            EvidenceKind::Timeout => "timeout",
        }
    }

    /// What confirming "blocked" at this level proves.
    pub fn proves(self) -> &'static str {
        match self {
            EvidenceKind::Proc => "the thread sleeps in the expected system call on the expected descriptor",
            EvidenceKind::Wchan => "after announcing the call, the thread sleeps in the kernel (wait channel named)",
            EvidenceKind::ThreadState => "after announcing the call, the thread sleeps (run state only)",
            EvidenceKind::Timeout => "no reply within a bounded wait (never grounds a fail)",
        }
    }
}

impl fmt::Display for EvidenceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for EvidenceKind {
    type Err = String;

    fn from_str(s: &str) -> Result<EvidenceKind, String> {
        EvidenceKind::ALL.into_iter().find(|k| k.as_str() == s.trim()).ok_or_else(|| {
            format!("{s:?} is not an evidence level; expected one of proc, wchan, thread-state, timeout")
        })
    }
}

/// How many "blocked" observations rested on each kind of evidence.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceTally {
    /// Confirmed from `/proc` (system call and descriptor).
    pub proc: u64,
    /// Confirmed from the wait channel.
    #[serde(default)]
    pub wchan: u64,
    /// Confirmed from the thread run state.
    pub thread_state: u64,
    /// Assumed after a bounded wait.
    pub timeout: u64,
}

impl EvidenceTally {
    /// Counts one piece of evidence.
    pub fn add(&mut self, evidence: &Evidence) {
        match evidence.kind() {
            EvidenceKind::Proc => self.proc += 1,
            EvidenceKind::Wchan => self.wchan += 1,
            EvidenceKind::ThreadState => self.thread_state += 1,
            EvidenceKind::Timeout => self.timeout += 1,
        }
    }

    /// Adds another tally to this one.
    pub fn merge(&mut self, other: &EvidenceTally) {
        self.proc += other.proc;
        self.wchan += other.wchan;
        self.thread_state += other.thread_state;
        self.timeout += other.timeout;
    }

    /// Total blocked observations.
    pub fn total(&self) -> u64 {
        self.proc + self.wchan + self.thread_state + self.timeout
    }

    /// The weakest kind any observation rested on, if any.
    pub fn weakest(&self) -> Option<EvidenceKind> {
        [
            (EvidenceKind::Timeout, self.timeout),
            (EvidenceKind::ThreadState, self.thread_state),
            (EvidenceKind::Wchan, self.wchan),
            (EvidenceKind::Proc, self.proc),
        ]
        .into_iter()
        .find(|(_, n)| *n > 0)
        .map(|(k, _)| k)
    }
}

impl fmt::Display for EvidenceTally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.total() == 0 {
            return f.write_str("none");
        }
        let mut parts = Vec::new();
        for (kind, n) in [
            (EvidenceKind::Proc, self.proc),
            (EvidenceKind::Wchan, self.wchan),
            (EvidenceKind::ThreadState, self.thread_state),
            (EvidenceKind::Timeout, self.timeout),
        ] {
            if n > 0 {
                parts.push(format!("{kind} x{n}"));
            }
        }
        f.write_str(&parts.join(", "))
    }
}

/// What one view answered for the probe's blocked actor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewCheck {
    /// The level this view gives.
    pub level: EvidenceKind,
    /// Whether it showed the blocked actor as it must.
    pub usable: bool,
    /// What it answered.
    pub answer: String,
}

/// The evidence levels of this host, as probed at start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceProbe {
    /// The level the run uses: the strongest usable one, capped.
    pub level: EvidenceKind,
    /// The strongest level the host offered.
    pub best: EvidenceKind,
    /// The cap (`--evidence`, [`EVIDENCE_ENV`]), if any.
    pub cap: Option<EvidenceKind>,
    /// Why the run does not use a stronger level.
    pub reason: String,
    /// What each view answered for an actor blocked in `read(2)` of an
    /// empty pipe.
    pub views: Vec<ViewCheck>,
}

impl EvidenceProbe {
    /// The probe with a (new) cap applied.
    pub fn capped(mut self, cap: Option<EvidenceKind>) -> EvidenceProbe {
        self.cap = cap;
        self.level = match cap {
            Some(c) if c > self.best => c,
            _ => self.best,
        };
        self.reason = self.explain();
        self
    }

    fn explain(&self) -> String {
        let refused: Vec<String> = self
            .views
            .iter()
            .filter(|v| v.level < self.level && !v.usable)
            .map(|v| format!("{}: {}", v.level, v.answer))
            .collect();
        let mut reason = match self.cap {
            Some(c) if c > self.best => format!("capped at {c}"),
            _ => String::new(),
        };
        if !refused.is_empty() {
            if !reason.is_empty() {
                reason.push_str("; ");
            }
            reason.push_str(&refused.join("; "));
        }
        if reason.is_empty() {
            reason = "the strongest view".into();
        }
        reason
    }
}

impl fmt::Display for EvidenceProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.level, self.reason)
    }
}

/// The strongest level this platform can offer at all, before probing.
pub fn platform_best() -> EvidenceKind {
    if cfg!(any(target_os = "linux", target_os = "android")) {
        EvidenceKind::Proc
    } else if cfg!(target_os = "macos") {
        EvidenceKind::ThreadState
    } else {
        EvidenceKind::Timeout
    }
}

/// The cap that [`EVIDENCE_ENV`] sets, or an error naming the variable.
pub fn cap_from_env() -> Result<Option<EvidenceKind>, String> {
    match std::env::var(EVIDENCE_ENV) {
        Err(_) => Ok(None),
        Ok(s) => s.parse().map(Some).map_err(|e| format!("{EVIDENCE_ENV}: {e}")),
    }
}

static IN_FORCE: Mutex<Option<EvidenceKind>> = Mutex::new(None);

/// Sets the level sessions of this process use (after [`probe`]).
pub fn set_in_force(level: EvidenceKind) {
    *IN_FORCE.lock().unwrap_or_else(|e| e.into_inner()) = Some(level);
}

/// The level sessions use: the probed one, or, before any probe, the
/// platform's best capped by [`EVIDENCE_ENV`].
pub fn in_force() -> EvidenceKind {
    if let Some(level) = *IN_FORCE.lock().unwrap_or_else(|e| e.into_inner()) {
        return level;
    }
    match cap_from_env() {
        Ok(Some(cap)) if cap > platform_best() => cap,
        _ => platform_best(),
    }
}

/// Judges each view against a thread known to be blocked in `read(2)` on
/// descriptor `fd`: which levels are usable, and what the others answered.
pub fn judge_views(view: &ThreadView, fd: i32) -> Vec<ViewCheck> {
    let site = BlockSite { kind: SyscallKind::Read, fd: Some(fd) };
    let answer = |e: &ViewError| e.to_string();
    let state = view.state();
    let asleep = matches!(state, Ok(s) if site.asleep(s));
    let proc = match (view.syscall(), state) {
        (Ok(sc), Ok(s)) => {
            let ws = WaitState { state: s, syscall: sc, wchan: String::new() };
            let ok = site.matches(&ws);
            ViewCheck { level: EvidenceKind::Proc, usable: ok, answer: if ok { "ok".into() } else { ws.to_string() } }
        }
        (Err(e), _) | (Ok(_), Err(e)) => ViewCheck { level: EvidenceKind::Proc, usable: false, answer: answer(&e) },
    };
    let wchan = match view.wchan() {
        Ok(w) if asleep && !w.is_empty() && w != "0" => {
            ViewCheck { level: EvidenceKind::Wchan, usable: true, answer: format!("ok ({w})") }
        }
        Ok(w) => ViewCheck {
            level: EvidenceKind::Wchan,
            usable: false,
            answer: format!("the blocked thread shows {:?}", if w.is_empty() { "nothing" } else { w.as_str() }),
        },
        Err(e) => ViewCheck { level: EvidenceKind::Wchan, usable: false, answer: answer(&e) },
    };
    let thread_state = match &state {
        Ok(_) if asleep => ViewCheck { level: EvidenceKind::ThreadState, usable: true, answer: "ok".into() },
        Ok(s) => ViewCheck {
            level: EvidenceKind::ThreadState,
            usable: false,
            answer: format!("the blocked thread shows state {s}"),
        },
        Err(e) => ViewCheck { level: EvidenceKind::ThreadState, usable: false, answer: answer(e) },
    };
    vec![proc, wchan, thread_state]
}

/// Finds out which evidence this host gives for actors as they run: an
/// actor is started and made to block in `read(2)` of an empty pipe (it
/// announces the call first), then each view is asked about it; `cap`
/// limits the result. A probe that cannot run leaves `timeout`, with the
/// reason.
pub fn probe(timing: crate::timing::Timing, cap: Option<EvidenceKind>) -> EvidenceProbe {
    let views = match probe_views(timing) {
        Ok(views) => views,
        Err(why) => vec![ViewCheck {
            level: platform_best(),
            usable: false,
            answer: format!("the probe could not block an actor: {why}"),
        }],
    };
    let best = views.iter().filter(|v| v.usable).map(|v| v.level).min().unwrap_or(EvidenceKind::Timeout);
    EvidenceProbe { level: best, best, cap: None, reason: String::new(), views }.capped(cap)
}

fn probe_views(timing: crate::timing::Timing) -> Result<Vec<ViewCheck>, crate::case::Stop> {
    use crate::case::Stop;
    use crate::protocol::{Reply, Request};
    use std::os::fd::AsFd;
    let mut session = crate::session::Session::at_level(timing, EvidenceKind::ThreadState);
    let actor = session.spawn()?;
    let (r, w) = {
        let _quiet = crate::os::process::quiet_forks();
        let (r, w) = crate::os::pipe::pipe_cloexec().map_err(|e| Stop::io("pipe", e))?;
        let fd = session.hand(actor, &[r.as_fd()])?[0];
        drop(r);
        (fd, w)
    };
    session.begin(actor, &Request::Read { slot: 0, max: 1, call: ReadCall::Read })?;
    let view = ThreadView::open(session.pid(actor), session.tid(actor));
    // Wait (bounded) until the thread is asleep, as far as any view tells:
    // a liveness guard, not an oracle; each view is then judged.
    let started = std::time::Instant::now();
    let mut checks = judge_views(&view, r);
    while !checks.iter().any(|c| c.usable) && started.elapsed() < timing.bounded_wait * 5 {
        std::thread::sleep(std::time::Duration::from_millis(1));
        checks = judge_views(&view, r);
    }
    rustix::io::write(&w, b"x").map_err(|e| Stop::io("waking the probe's reader", e.into()))?;
    match session.complete(actor)? {
        crate::observed::Observed::Returned(Reply::Data(d)) if d == b"x" => Ok(checks),
        other => Err(Stop::harness(format!("the probe's read ended with {other:?}"))),
    }
}
