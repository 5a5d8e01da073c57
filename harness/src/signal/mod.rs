//! The `signal` mechanism: signals sent between processes while the
//! target blocks, catches or ignores them (`signal.deliver`,
//! `signal.pending.coalesce`, `signal.queue.realtime`), process groups
//! ([`group`]: `signal.group`), permission ([`permission`]:
//! `signal.permission`), and calls they interrupt ([`interrupt`]:
//! `signal.interrupt.*`).
//!
//! - this file: the cast (targets that catch every signal of the case,
//!   senders) and the steps, as data;
//! - [`model`]: the reference model, which knows what each target has
//!   blocked and what is pending, and so which deliveries its handler may
//!   have recorded;
//! - [`exec`]: runs a schedule through the one case engine.
//!
//! The signal calls themselves are in [`crate::os::signal`].

pub mod exec;
pub mod group;
pub mod interrupt;
pub mod model;
pub mod permission;
pub mod rules;

use crate::engine::Cast;
use crate::os::signal::Sig;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A set of the rules' signals ([`Sig::ALL`] positions as bits).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Sigs(pub u8);

impl Sigs {
    /// The set of `list`.
    pub fn of(list: &[Sig]) -> Sigs {
        Sigs(list.iter().fold(0, |bits, s| bits | Self::bit(*s)))
    }

    fn bit(s: Sig) -> u8 {
        Sig::ALL.iter().position(|x| *x == s).map_or(0, |i| 1 << i)
    }

    /// Whether `s` is in the set.
    pub fn has(self, s: Sig) -> bool {
        self.0 & Self::bit(s) != 0
    }

    /// Its members, in [`Sig::ALL`] order.
    pub fn list(self) -> Vec<Sig> {
        Sig::ALL.into_iter().filter(|s| self.has(*s)).collect()
    }
}

impl fmt::Display for Sigs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.list().iter().map(Sig::to_string).collect();
        f.write_str(&names.join(", "))
    }
}

/// The cast: actors `0..targets` catch every signal of the case (from
/// the start, unblocked), then `senders` actors send them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setup {
    /// Targets (1-2).
    pub targets: u8,
    /// Senders (1-2).
    pub senders: u8,
}

impl Setup {
    /// Total actors.
    pub fn actors(&self) -> u8 {
        self.targets.saturating_add(self.senders)
    }

    /// Whether actor `a` is a target.
    pub fn is_target(&self, a: u8) -> bool {
        a < self.targets
    }
}

/// One operation of a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// Block the signals in the calling thread (targets).
    Block(Sigs),
    /// Unblock them; pending ones are delivered before it returns (targets).
    Unblock(Sigs),
    /// `kill(2)` of a standard signal to target `to` (senders).
    Send { sig: Sig, to: u8 },
    /// `sigqueue(3)` of a real-time signal with the next value to target
    /// `to` (senders).
    Queue { sig: Sig, to: u8 },
    /// Report the deliveries its handler recorded since the last report (targets).
    Take,
    /// Set the standard signals to `SIG_IGN` (targets).
    Ignore(Sigs),
    /// Catch them again with the recording handler (targets).
    Catch(Sigs),
    /// Try to catch and ignore `SIGKILL` and `SIGSTOP`, and to block them
    /// (targets).
    Uncatchable,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Block(s) => write!(f, "block {s}"),
            Op::Unblock(s) => write!(f, "unblock {s}"),
            Op::Send { sig, to } => write!(f, "kill(target {to}, {sig})"),
            Op::Queue { sig, to } => write!(f, "sigqueue(target {to}, {sig}, the next value)"),
            Op::Take => f.write_str("report the deliveries its handler recorded"),
            Op::Ignore(s) => write!(f, "set {s} to SIG_IGN"),
            Op::Catch(s) => write!(f, "catch {s} again"),
            Op::Uncatchable => f.write_str(
                "try to catch SIGKILL, to ignore SIGKILL and SIGSTOP, and to block both; read the mask back",
            ),
        }
    }
}

/// One step.
pub type Step = crate::engine::Step<Op>;

/// A whole signal case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalSchedule {
    /// Who is who.
    pub setup: Setup,
    /// What happens, in order.
    pub steps: Vec<Step>,
}

impl SignalSchedule {
    /// Every signal the case uses (the targets catch these).
    pub fn signals(&self) -> Vec<Sig> {
        let mut all = Sigs::default();
        for s in &self.steps {
            all.0 |= match s.op {
                Op::Block(x) | Op::Unblock(x) | Op::Ignore(x) | Op::Catch(x) => x.0,
                Op::Send { sig, .. } | Op::Queue { sig, .. } => Sigs::of(&[sig]).0,
                Op::Take | Op::Uncatchable => 0,
            };
        }
        all.list()
    }

    /// Whether the schedule is within the engine's range (generated ones
    /// always are; a replay file may not be).
    pub fn validate(&self) -> Result<(), String> {
        let s = &self.setup;
        if !(1..=2).contains(&s.targets) || !(1..=2).contains(&s.senders) {
            return Err(format!("{} target(s) and {} sender(s); 1 or 2 each", s.targets, s.senders));
        }
        if self.steps.len() > crate::case::MAX_STEPS {
            return Err(format!("{} steps; at most {}", self.steps.len(), crate::case::MAX_STEPS));
        }
        for (i, step) in self.steps.iter().enumerate() {
            let bad = match step.op {
                Op::Block(x) | Op::Unblock(x) | Op::Ignore(x) | Op::Catch(x) if x.0 >> Sig::ALL.len() != 0 => {
                    Some("an unknown signal")
                }
                Op::Ignore(x) | Op::Catch(x) if x.list().iter().any(|s| s.realtime()) => {
                    Some("dispositions change for standard signals only here")
                }
                Op::Send { sig, .. } if sig.realtime() => Some("kill is for standard signals here"),
                Op::Queue { sig, .. } if !sig.realtime() => Some("sigqueue is for real-time signals here"),
                Op::Send { sig: Sig::Rt(n), .. } | Op::Queue { sig: Sig::Rt(n), .. }
                    if n >= crate::os::signal::REALTIME =>
                {
                    Some("a real-time signal beyond those the rules use")
                }
                _ => None,
            };
            if let Some(bad) = bad {
                return Err(format!("step {}: {}: {bad}", i + 1, step.op));
            }
        }
        if let Some((i, why)) = self.first_unissuable() {
            return Err(format!("step {}: {}: {why}", i + 1, self.steps[i].op));
        }
        Ok(())
    }

    /// The schedule with every step issuable: blocks, unblocks and
    /// reports by targets, sends by senders to a target of the cast.
    pub fn issuable(mut self) -> SignalSchedule {
        let actors = self.setup.actors();
        crate::engine::keep_issuable(&mut self.steps, actors, Skeleton::new(&self.setup));
        self
    }

    /// The first step that [`SignalSchedule::issuable`] would drop, and why.
    pub fn first_unissuable(&self) -> Option<(usize, &'static str)> {
        crate::engine::first_unissuable(&self.steps, self.setup.actors(), Skeleton::new(&self.setup))
    }
}

struct Skeleton<'a> {
    setup: &'a Setup,
    cast: Cast,
}

impl<'a> Skeleton<'a> {
    fn new(setup: &'a Setup) -> Skeleton<'a> {
        Skeleton { setup, cast: Cast::new(setup.actors()) }
    }
}

impl crate::engine::Skeleton<Step> for Skeleton<'_> {
    fn admit(&mut self, step: &Step) -> Result<(), &'static str> {
        self.cast.live(step.actor)?;
        let target = self.setup.is_target(step.actor);
        match step.op {
            Op::Block(_) | Op::Unblock(_) | Op::Take | Op::Ignore(_) | Op::Catch(_) | Op::Uncatchable if !target => {
                Err("only targets block, unblock, change dispositions and report")
            }
            Op::Send { .. } | Op::Queue { .. } if target => Err("only senders send"),
            Op::Send { to, .. } | Op::Queue { to, .. } if to >= self.setup.targets => Err("no such target"),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for SignalSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.setup;
        let sigs = Sigs::of(&self.signals());
        writeln!(
            f,
            "setup: {} target(s) catching {sigs} (SA_SIGINFO | SA_RESTART, each blocking the others while it runs), {} sender(s)",
            s.targets, s.senders
        )?;
        for (i, step) in self.steps.iter().enumerate() {
            let role = if s.is_target(step.actor) { "target" } else { "sender" };
            writeln!(f, "{:>3}. actor {} ({role}): {}", i + 1, step.actor, step.op)?;
        }
        Ok(())
    }
}
