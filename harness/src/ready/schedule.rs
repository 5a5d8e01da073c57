//! Readiness schedules as data: who holds which end of one pipe or FIFO,
//! then numbered steps. Every end is non-blocking, so no step ever waits
//! and the model knows the pipe's contents exactly at every probe.

use crate::engine::Cast;
use crate::os::ready::{Interface, Interfaces};
use crate::pipe::Creator;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The cast: actors `0..writers` hold the write end, then `readers`
/// actors hold the read end; the pipe is made by `creator`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setup {
    /// Actors holding the write end (1-3).
    pub writers: u8,
    /// Actors holding the read end (1-3).
    pub readers: u8,
    /// How the pipe is made.
    pub creator: Creator,
}

impl Setup {
    /// Total actors.
    pub fn actors(&self) -> u8 {
        self.writers.saturating_add(self.readers)
    }

    /// Whether actor `a` holds the write end.
    pub fn is_writer(&self, a: u8) -> bool {
        a < self.writers
    }

    /// A readable role name for actor `a`.
    pub fn role(&self, a: u8) -> &'static str {
        if self.is_writer(a) {
            "writer"
        } else {
            "reader"
        }
    }
}

/// One operation of a step, on the actor's own end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// A non-blocking `write(2)` of `len` bytes (writers).
    Write { len: u32 },
    /// A non-blocking `read(2)` of at most `max` bytes (readers).
    Read { max: u32 },
    /// Writes until `EAGAIN`, then single bytes until `EAGAIN` (writers).
    Fill,
    /// `close(2)` of the actor's end.
    Close,
    /// Ask each interface of the set, back to back, zero timeout, whether
    /// the end is ready (read interest on a read end, write interest on a
    /// write end).
    Probe { with: Interfaces },
    /// Register the read end with `how`, edge-triggered or not (readers).
    Arm { how: Interface, edge: bool },
    /// Ask the registration with a zero timeout (readers that armed).
    Harvest,
    /// Wait through `how`, without a timeout, until the read end is
    /// readable (readers; the one step that may block).
    Wait { how: Interface },
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Write { len } => write!(f, "write {len} bytes (non-blocking)"),
            Op::Read { max } => write!(f, "read up to {max} bytes (non-blocking)"),
            Op::Fill => f.write_str("fill the pipe (writes until EAGAIN, then 1-byte writes until EAGAIN)"),
            Op::Close => f.write_str("close its end"),
            Op::Probe { with } => write!(f, "ask {with} (zero timeout) whether its end is ready"),
            Op::Arm { how, edge } => {
                write!(f, "register its end with {how}, {}", if *edge { "edge-triggered" } else { "level-triggered" })
            }
            Op::Harvest => f.write_str("ask its registration (zero timeout)"),
            Op::Wait { how } => write!(f, "wait in {how} (no timeout) until its end is readable"),
        }
    }
}

/// One step.
pub type Step = crate::engine::Step<Op>;

/// A whole readiness case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadySchedule {
    /// Who holds what.
    pub setup: Setup,
    /// What happens, in order.
    pub steps: Vec<Step>,
}

impl ReadySchedule {
    /// Whether the schedule is within the engine's range (generated ones
    /// always are; a replay file may not be).
    pub fn validate(&self) -> Result<(), String> {
        let s = &self.setup;
        if !(1..=3).contains(&s.writers) || !(1..=3).contains(&s.readers) {
            return Err(format!("{} writer(s) and {} reader(s); 1 to 3 each", s.writers, s.readers));
        }
        if self.steps.len() > crate::case::MAX_STEPS {
            return Err(format!("{} steps; at most {}", self.steps.len(), crate::case::MAX_STEPS));
        }
        for (i, step) in self.steps.iter().enumerate() {
            let n = match step.op {
                Op::Write { len } => u64::from(len),
                Op::Read { max } => u64::from(max),
                _ => 0,
            };
            let probe = match step.op {
                Op::Probe { with } => Some(with),
                _ => None,
            };
            check_step(i, &step.op, n, probe)?;
            if let Op::Arm { how, .. } = step.op {
                if !how.watches() {
                    return Err(format!("step {}: {how} keeps no registration", i + 1));
                }
            }
        }
        if let Some((i, why)) = self.first_unissuable() {
            return Err(format!("step {}: {}: {why}", i + 1, self.steps[i].op));
        }
        Ok(())
    }

    /// The schedule with every step issuable (see
    /// [`crate::engine::keep_issuable`]): no step by an actor that closed
    /// its end, writes and fills by writers only, reads, registrations and
    /// asks of them by readers only, and an ask only after a registration.
    pub fn issuable(mut self) -> ReadySchedule {
        let actors = self.setup.actors();
        crate::engine::keep_issuable(&mut self.steps, actors, Skeleton::new(&self.setup));
        self
    }

    /// The first step that [`ReadySchedule::issuable`] would drop, and why.
    pub fn first_unissuable(&self) -> Option<(usize, &'static str)> {
        crate::engine::first_unissuable(&self.steps, self.setup.actors(), Skeleton::new(&self.setup))
    }

    /// The schedule with its `i`-th probe asking the interface `picks[i]`
    /// selects among `interfaces` (or, `together`, all of them back to
    /// back), and each registration made with one of those that keep one;
    /// picks of 0, as shrinking leaves them, the first.
    pub fn asking(mut self, interfaces: &[Interface], picks: &[u8], together: bool) -> ReadySchedule {
        let watchers: Vec<Interface> = interfaces.iter().copied().filter(|i| i.watches()).collect();
        let pick = |list: &[Interface], seed: u8| list.get(usize::from(seed) % list.len().max(1)).copied();
        for (step, seed) in self.steps.iter_mut().zip(picks.iter().copied().chain(std::iter::repeat(0))) {
            match &mut step.op {
                Op::Probe { with } if together => *with = Interfaces::of(interfaces),
                Op::Probe { with } => *with = Interfaces::of(&pick(interfaces, seed).into_iter().collect::<Vec<_>>()),
                Op::Wait { how } => {
                    if let Some(i) = pick(interfaces, seed) {
                        *how = i;
                    }
                }
                Op::Arm { how, .. } => {
                    if let Some(w) = pick(&watchers, seed) {
                        *how = w;
                    }
                }
                _ => {}
            }
        }
        self
    }

    /// Every interface the schedule's probes and registrations ask.
    pub fn interfaces(&self) -> Vec<Interface> {
        let mut all = Interfaces(0);
        for step in &self.steps {
            match step.op {
                Op::Probe { with } => all.0 |= with.0,
                Op::Arm { how, .. } | Op::Wait { how } => all.0 |= Interfaces::of(&[how]).0,
                _ => {}
            }
        }
        all.list()
    }

    /// The schedule over the pipe that `seed` selects among `creators`.
    pub fn made_by(mut self, creators: &[Creator], seed: u8) -> ReadySchedule {
        if !creators.is_empty() {
            self.setup.creator = creators[usize::from(seed) % creators.len()];
        }
        self
    }
}

/// Step `i` (`op`) of a readiness schedule moves at most
/// [`crate::case::MAX_OP_BYTES`] (`n`), and a probe asks known interfaces.
pub(crate) fn check_step(i: usize, op: &dyn fmt::Display, n: u64, probe: Option<Interfaces>) -> Result<(), String> {
    if n > crate::case::MAX_OP_BYTES {
        return Err(format!("step {}: {op} moves {n} bytes; at most {}", i + 1, crate::case::MAX_OP_BYTES));
    }
    match probe {
        Some(with) if with.list().is_empty() || with.0 >> Interface::ALL.len() != 0 => {
            Err(format!("step {}: a probe of no known interface ({:#x})", i + 1, with.0))
        }
        _ => Ok(()),
    }
}

struct Skeleton<'a> {
    setup: &'a Setup,
    cast: Cast,
    armed: Vec<bool>,
}

impl<'a> Skeleton<'a> {
    fn new(setup: &'a Setup) -> Skeleton<'a> {
        Skeleton { setup, cast: Cast::new(setup.actors()), armed: vec![false; usize::from(setup.actors())] }
    }
}

impl crate::engine::Skeleton<Step> for Skeleton<'_> {
    fn admit(&mut self, step: &Step) -> Result<(), &'static str> {
        let a = usize::from(step.actor);
        self.cast.live(step.actor)?;
        self.cast.holding(step.actor)?;
        let writer = self.setup.is_writer(step.actor);
        match step.op {
            Op::Write { .. } | Op::Fill if !writer => return Err("only writers write"),
            Op::Read { .. } | Op::Arm { .. } | Op::Harvest | Op::Wait { .. } if writer => {
                return Err("only readers read and register their end")
            }
            Op::Harvest if !self.armed[a] => return Err("nothing registered to ask"),
            Op::Arm { .. } => self.armed[a] = true,
            Op::Close => self.cast.holds[a] = false,
            _ => {}
        }
        Ok(())
    }
}

impl fmt::Display for ReadySchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.setup;
        writeln!(
            f,
            "setup: {}, both ends O_NONBLOCK; {} writer(s), {} reader(s); SIGPIPE ignored",
            s.creator, s.writers, s.readers
        )?;
        for (i, step) in self.steps.iter().enumerate() {
            writeln!(f, "{:>3}. actor {} ({}): {}", i + 1, step.actor, s.role(step.actor), step.op)?;
        }
        Ok(())
    }
}
