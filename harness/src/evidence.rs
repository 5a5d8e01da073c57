//! Evidence: how the engine knows that an operation blocked, and the tally
//! of each kind that a verdict rests on.

use crate::os::proc::{SyscallKind, WaitState};
use serde::{Deserialize, Serialize};
use std::fmt;

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
    /// Whether `ws` shows a thread asleep (state `S`) in this call on this
    /// descriptor.
    pub fn matches(&self, ws: &WaitState) -> bool {
        let Some(sc) = &ws.syscall else { return false };
        ws.state == 'S'
            && self.kind.numbers().contains(&sc.nr)
            && match self.fd {
                Some(fd) if self.kind.arg0_is_fd() => sc.arg0 == fd as u64,
                _ => true,
            }
    }
}

/// Why the engine believes an operation is blocked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Evidence {
    /// Linux `/proc`: the actor's thread sleeps in the expected system call
    /// on the expected descriptor.
    Proc(WaitState),
    /// The platform's thread run state says waiting (macOS).
    ThreadState(String),
    /// No view into the kernel: the operation had not returned after a
    /// bounded wait of this many milliseconds. Weaker evidence, and named so.
    Timeout { waited_ms: u64 },
}

impl Evidence {
    /// The kind, as the report names it.
    pub fn kind(&self) -> EvidenceKind {
        match self {
            Evidence::Proc(_) => EvidenceKind::Proc,
            Evidence::ThreadState(_) => EvidenceKind::ThreadState,
            Evidence::Timeout { .. } => EvidenceKind::Timeout,
        }
    }
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Evidence::Proc(ws) => write!(f, "/proc: {ws}"),
            Evidence::ThreadState(s) => write!(f, "thread state: {s}"),
            Evidence::Timeout { waited_ms } => write!(f, "no return within {waited_ms} ms (no kernel view)"),
        }
    }
}

/// The kinds of evidence, as the report names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceKind {
    /// `/proc/<pid>/task/<tid>/{stat,syscall}`.
    Proc,
    /// Thread run state (macOS).
    ThreadState,
    /// A bounded wait.
    Timeout,
}

impl EvidenceKind {
    /// The report's name for this kind.
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::Proc => "proc",
            EvidenceKind::ThreadState => "thread-state",
            EvidenceKind::Timeout => "timeout",
        }
    }
}

/// How many "blocked" observations rested on each kind of evidence.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceTally {
    /// Confirmed from `/proc`.
    pub proc: u64,
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
            EvidenceKind::ThreadState => self.thread_state += 1,
            EvidenceKind::Timeout => self.timeout += 1,
        }
    }

    /// Adds another tally to this one.
    pub fn merge(&mut self, other: &EvidenceTally) {
        self.proc += other.proc;
        self.thread_state += other.thread_state;
        self.timeout += other.timeout;
    }

    /// Total blocked observations.
    pub fn total(&self) -> u64 {
        self.proc + self.thread_state + self.timeout
    }
}

impl fmt::Display for EvidenceTally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.total() == 0 {
            return f.write_str("none");
        }
        let mut parts = Vec::new();
        for (name, n) in [("proc", self.proc), ("thread-state", self.thread_state), ("timeout", self.timeout)] {
            if n > 0 {
                parts.push(format!("{name} x{n}"));
            }
        }
        f.write_str(&parts.join(", "))
    }
}
