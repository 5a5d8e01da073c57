//! Pipe schedules as data: who holds which end at the start, then numbered
//! steps. Schedules print, shrink (proptest), serialize and replay.

pub use super::creator::Creator;
use crate::engine::Cast;
use crate::os::entry::{ReadCall, WriteCall};
use crate::os::signal::SigpipeDisposition;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which end of the pipe an actor holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum End {
    /// The read end.
    Read,
    /// The write end.
    Write,
}

/// The cast at the start of a case. Actors `0..writers` hold the write end
/// (writer `i` writes with pattern tag `i`), then `idle_writers` actors hold
/// a write end and never write, then `readers` actors hold the read end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setup {
    /// Actors that hold the write end and write (1-4 with the idle ones).
    pub writers: u8,
    /// Actors that hold a write end and do nothing with it.
    pub idle_writers: u8,
    /// Actors that hold the read end (1-3).
    pub readers: u8,
    /// `O_NONBLOCK` on the read end's open file description.
    pub nonblock_read: bool,
    /// `O_NONBLOCK` on the write end's open file description.
    pub nonblock_write: bool,
    /// Let several reads be pending at once (no writes are then issued, so
    /// that completion order cannot matter).
    pub concurrent_reads: bool,
    /// How the pipe is made ([`Creator`]; `pipe` in replay files from
    /// before creators were drawn).
    #[serde(default)]
    pub creator: Creator,
    /// Whatever the creator, the pipe is then resized to one page
    /// (`F_SETPIPE_SZ`), where the host has the `small-pipe` creator: for
    /// rules that do not depend on the capacity, so that a fill costs a
    /// page of writes, not 64 KiB of them (65,536 calls when the fill
    /// writes single bytes). `false` in replay files from before.
    #[serde(default)]
    pub one_page: bool,
}

impl Setup {
    /// Whether the pipe has one page: made so (`small-pipe`) or resized
    /// ([`Setup::one_page`]).
    pub fn is_one_page(&self) -> bool {
        self.one_page || self.creator == Creator::SmallPipe
    }

    /// Whether a pipe its creator made at full size is then resized to one
    /// page ([`Setup::one_page`]; `small-pipe` is made that size).
    pub fn resized(&self) -> bool {
        self.one_page && self.creator != Creator::SmallPipe
    }

    /// Total actors.
    pub fn actors(&self) -> u8 {
        self.write_holders().saturating_add(self.readers)
    }

    /// Actors holding a write end (writers and idle writers).
    pub fn write_holders(&self) -> u8 {
        self.writers.saturating_add(self.idle_writers)
    }

    /// The end actor `a` holds at the start.
    pub fn end_of(&self, a: u8) -> End {
        if a < self.write_holders() {
            End::Write
        } else {
            End::Read
        }
    }

    /// A readable role name for actor `a`.
    pub fn role(&self, a: u8) -> &'static str {
        if a < self.writers {
            "writer"
        } else if a < self.write_holders() {
            "idle writer"
        } else {
            "reader"
        }
    }
}

/// One operation of a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// A write of `len` traceable bytes on the actor's end, through `call`
    /// (`write` or `writev`).
    Write {
        len: u32,
        #[serde(default)]
        call: WriteCall,
    },
    /// A read of at most `max` bytes on the actor's end, through `call`
    /// (`read` or `readv`).
    Read {
        max: u32,
        #[serde(default)]
        call: ReadCall,
    },
    /// Fill the pipe through the actor's end until `EAGAIN` (non-blocking),
    /// writing through `call` (`write` or `writev`).
    Fill {
        chunk: u32,
        #[serde(default)]
        call: WriteCall,
    },
    /// `close(2)` of the actor's end.
    Close,
    /// The actor exits (`_exit(0)`).
    Exit,
    /// The coordinator kills the actor (`SIGKILL`).
    Kill,
    /// The actor sets its `SIGPIPE` disposition.
    Sigpipe(SigpipeDisposition),
}

impl Op {
    /// A `write(2)` of `len` bytes.
    pub fn write(len: u32) -> Op {
        Op::Write { len, call: WriteCall::Write }
    }

    /// A `read(2)` of at most `max` bytes.
    pub fn read(max: u32) -> Op {
        Op::Read { max, call: ReadCall::Read }
    }

    /// A fill with `write(2)`s of `chunk` bytes.
    pub fn fill(chunk: u32) -> Op {
        Op::Fill { chunk, call: WriteCall::Write }
    }

    /// The entry point the operation goes through, if it reads or writes.
    pub fn entry_point(&self) -> Option<&'static str> {
        match self {
            Op::Write { call, .. } | Op::Fill { call, .. } => Some(call.name()),
            Op::Read { call, .. } => Some(call.name()),
            _ => None,
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Write { len, call } => write!(f, "{call} {len} bytes"),
            Op::Read { max, call } => write!(f, "{call} up to {max} bytes"),
            Op::Fill { chunk, call } => {
                write!(f, "fill the pipe (non-blocking {call}s of {chunk}, then of 1 byte)")
            }
            Op::Close => f.write_str("close its end"),
            Op::Exit => f.write_str("exit"),
            Op::Kill => f.write_str("is killed (SIGKILL)"),
            Op::Sigpipe(SigpipeDisposition::Default) => f.write_str("set SIGPIPE to default"),
            Op::Sigpipe(SigpipeDisposition::Ignore) => f.write_str("ignore SIGPIPE"),
        }
    }
}

/// One step: an actor and what it does.
pub type Step = crate::engine::Step<Op>;

/// A whole pipe case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipeSchedule {
    /// Who holds what.
    pub setup: Setup,
    /// What happens, in order.
    pub steps: Vec<Step>,
}

impl PipeSchedule {
    /// Whether the schedule is within the engine's range (generated ones
    /// always are; a replay file may not be).
    pub fn validate(&self) -> Result<(), String> {
        use crate::case::{MAX_OP_BYTES, MAX_STEPS};
        let s = &self.setup;
        if u16::from(s.writers) + u16::from(s.idle_writers) > u16::from(crate::pattern::TAGS) {
            return Err(format!(
                "{} write-end holders; at most {}",
                u16::from(s.writers) + u16::from(s.idle_writers),
                crate::pattern::TAGS
            ));
        }
        if s.write_holders() == 0 || s.readers == 0 || s.readers > 8 {
            return Err(format!(
                "{} write-end holder(s) and {} reader(s); at least one each, at most 8 readers",
                s.write_holders(),
                s.readers
            ));
        }
        if self.steps.len() > MAX_STEPS {
            return Err(format!("{} steps; at most {MAX_STEPS}", self.steps.len()));
        }
        for (i, step) in self.steps.iter().enumerate() {
            let n = match step.op {
                Op::Write { len, .. } => u64::from(len),
                Op::Read { max, .. } => u64::from(max),
                Op::Fill { chunk, .. } => u64::from(chunk),
                _ => 0,
            };
            if n > MAX_OP_BYTES {
                return Err(format!("step {}: {} moves {n} bytes; at most {MAX_OP_BYTES}", i + 1, step.op));
            }
            let pipe_call = match step.op {
                Op::Write { call, .. } | Op::Fill { call, .. } => WriteCall::ANY.contains(&call),
                Op::Read { call, .. } => ReadCall::ANY.contains(&call),
                _ => true,
            };
            if !pipe_call {
                return Err(format!("step {}: {}: not an entry point of a pipe", i + 1, step.op));
            }
        }
        if let Some((i, why)) = self.first_unissuable() {
            return Err(format!("step {}: {}: {why}", i + 1, self.steps[i].op));
        }
        Ok(())
    }

    /// The actor a step addresses (after [`PipeSchedule::issuable`], the
    /// step's own number).
    pub fn actor_of(&self, step: &Step) -> u8 {
        step.actor % self.setup.actors().max(1)
    }

    /// The schedule with every step addressed to an actor of the cast and
    /// issuable as far as the schedule alone decides: no step by an actor
    /// that has exited or been killed, no use of an end after closing it,
    /// no write by an idle writer or while reads may overlap, no fill
    /// through the read end. Generators pass their schedules through this
    /// (shrunk ones too, so a counterexample never shows a step that could
    /// not run, nor an actor renumbered). What the host decides (an actor
    /// still blocked in an earlier call) is left to the run.
    pub fn issuable(mut self) -> PipeSchedule {
        let actors = self.setup.actors();
        crate::engine::keep_issuable(&mut self.steps, actors, Skeleton::new(&self.setup));
        self
    }

    /// The schedule with its `i`-th read or write going through the entry
    /// point `picks[i]` selects among a pipe's (`read`/`readv`,
    /// `write`/`writev`); picks of 0, as shrinking leaves them, are the
    /// plain calls.
    pub fn through(mut self, picks: &[u8]) -> PipeSchedule {
        use crate::os::entry::pick;
        for (step, seed) in self.steps.iter_mut().zip(picks.iter().copied().chain(std::iter::repeat(0))) {
            match &mut step.op {
                Op::Write { call, .. } | Op::Fill { call, .. } => *call = pick(WriteCall::ANY, seed),
                Op::Read { call, .. } => *call = pick(ReadCall::ANY, seed),
                _ => {}
            }
        }
        self
    }

    /// The schedule over the pipe that `seed` selects among `creators`
    /// (a seed of 0, as shrinking leaves it, the first).
    pub fn made_by(mut self, creators: &[Creator], seed: u8) -> PipeSchedule {
        if !creators.is_empty() {
            self.setup.creator = creators[usize::from(seed) % creators.len()];
        }
        self
    }

    /// The same, resized to one page after it is made when `one_page` and
    /// the host can make one-page pipes: `small-pipe` among `creators`, and
    /// a one-page pipe measured at start (`k.small_pipe`: the model takes
    /// its size and single write from it); see [`Setup::one_page`]. The
    /// whole decision is here, so a schedule never asks for a one-page pipe
    /// the model has no figures for.
    pub fn in_one_page(
        mut self,
        creators: &[Creator],
        k: &crate::constants::Constants,
        one_page: bool,
    ) -> PipeSchedule {
        self.setup.one_page = one_page && creators.contains(&Creator::SmallPipe) && k.small_pipe.is_some();
        self
    }

    /// The first step that [`PipeSchedule::issuable`] would drop, and why.
    pub fn first_unissuable(&self) -> Option<(usize, &'static str)> {
        let actors = self.setup.actors();
        crate::engine::first_unissuable(&self.steps, actors, Skeleton::new(&self.setup))
    }
}

/// The part of a pipe case that the schedule alone decides.
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
        let a = usize::from(step.actor);
        self.cast.live(step.actor)?;
        let write_end = self.setup.end_of(step.actor) == End::Write;
        match step.op {
            Op::Write { .. } | Op::Read { .. } | Op::Fill { .. } | Op::Close => self.cast.holding(step.actor)?,
            _ => {}
        }
        match step.op {
            Op::Write { .. } | Op::Fill { .. } if self.setup.concurrent_reads => {
                return Err("no writes while reads may overlap")
            }
            Op::Write { .. } | Op::Fill { .. } if write_end && step.actor >= self.setup.writers => {
                return Err("an idle writer does not write")
            }
            Op::Fill { .. } if !write_end => return Err("fills go through the write end"),
            Op::Close => self.cast.holds[a] = false,
            Op::Exit | Op::Kill => self.cast.alive[a] = false,
            _ => {}
        }
        Ok(())
    }
}

impl fmt::Display for PipeSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.setup;
        writeln!(
            f,
            "setup: {}{}; {} writer(s), {} idle writer(s), {} reader(s); read end {}, write end {}{}",
            s.creator,
            if s.resized() { ", resized to one page (F_SETPIPE_SZ)" } else { "" },
            s.writers,
            s.idle_writers,
            s.readers,
            if s.nonblock_read { "O_NONBLOCK" } else { "blocking" },
            if s.nonblock_write { "O_NONBLOCK" } else { "blocking" },
            if s.concurrent_reads { "; reads may overlap" } else { "" }
        )?;
        for (i, step) in self.steps.iter().enumerate() {
            let a = self.actor_of(step);
            writeln!(f, "{:>3}. actor {a} ({}): {}", i + 1, s.role(a), step.op)?;
        }
        Ok(())
    }
}
