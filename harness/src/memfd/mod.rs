//! Sealed memfds (`memfd.*`, Linux): the case (its steps, what can be
//! issued), the reference model ([`model`]) and the executor ([`exec`]).
//!
//! The first actor makes the case's memfd (`memfd_create`, with
//! `MFD_ALLOW_SEALING` or without); the others get it from the first
//! over unix sockets (`Send` by the first, then `Receive` by the other,
//! `SCM_RIGHTS`), at any point of the schedule. Every holder writes,
//! truncates, maps, seals and reads it; the model owes every answer from
//! the file's size, bytes, seals and shared mappings.

pub mod exec;
pub mod model;

use crate::engine::Skeleton;
use crate::os::memfd::Seals;
use ipc_conform_spec::ids;
use serde::{Deserialize, Serialize};
use std::fmt;

/// F_SEAL_WRITE forbids writes and writable shared mappings; not under one.
pub const SEAL_WRITE: &str = ids::MEMFD_SEAL_WRITE;
/// F_SEAL_SHRINK / F_SEAL_GROW fix the size; F_SEAL_SEAL the seals.
pub const SEAL_SIZE: &str = ids::MEMFD_SEAL_SIZE;
/// Seals hold for the process that received the memfd.
pub const SEAL_TRAVELS: &str = ids::MEMFD_SEAL_TRAVELS;

/// The largest offset plus length a write, and the largest size a
/// truncation, asks for.
pub const MAX_SIZE: u32 = 16384;

/// One operation of a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// `pwrite` of `len` (1 or more) bytes of the actor's pattern at `offset`.
    Write { offset: u32, len: u32 },
    /// `ftruncate` to `len`.
    Truncate { len: u32 },
    /// `fcntl(F_ADD_SEALS)`.
    Seal(Seals),
    /// `fcntl(F_GET_SEALS)`.
    GetSeals,
    /// `mmap` of one page, shared or private, writable or read-only.
    Map { shared: bool, writable: bool },
    /// `munmap` of every mapping the actor has.
    Unmap,
    /// Every byte of the file.
    Read,
    /// The first actor sends the memfd to actor `to` (`SCM_RIGHTS`).
    Send { to: u8 },
    /// The actor receives the memfd the first sent it; it holds it from now.
    Receive,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Write { offset, len } => write!(f, "pwrite {len} bytes at {offset}"),
            Op::Truncate { len } => write!(f, "ftruncate to {len}"),
            Op::Seal(s) => write!(f, "F_ADD_SEALS {s}"),
            Op::GetSeals => f.write_str("F_GET_SEALS"),
            Op::Map { shared, writable } => write!(
                f,
                "mmap a page, {} {}",
                if *shared { "MAP_SHARED" } else { "MAP_PRIVATE" },
                if *writable { "PROT_READ|PROT_WRITE" } else { "PROT_READ" }
            ),
            Op::Unmap => f.write_str("munmap its mappings"),
            Op::Read => f.write_str("read every byte"),
            Op::Send { to } => write!(f, "send the memfd to actor {to} (SCM_RIGHTS)"),
            Op::Receive => f.write_str("receive the memfd (SCM_RIGHTS)"),
        }
    }
}

/// One step.
pub type Step = crate::engine::Step<Op>;

/// A case: the memfd made by actor 0, `actors` in all, then the steps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemfdCase {
    /// Actors (1-3).
    pub actors: u8,
    /// `MFD_ALLOW_SEALING` (else the memfd starts with F_SEAL_SEAL).
    pub sealing: bool,
    /// What happens, in order.
    pub steps: Vec<Step>,
}

impl MemfdCase {
    /// Whether the case is within range and every step can be issued.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=3).contains(&self.actors) {
            return Err(format!("{} actors; 1 to 3", self.actors));
        }
        if self.steps.len() > crate::case::MAX_STEPS {
            return Err(format!("{} steps; at most {}", self.steps.len(), crate::case::MAX_STEPS));
        }
        let too_big = |s: &Step| match s.op {
            Op::Write { offset, len } => len == 0 || u64::from(offset) + u64::from(len) > u64::from(MAX_SIZE),
            Op::Truncate { len } => len > MAX_SIZE,
            Op::Seal(s) => !Seals::ALL.contains(s),
            _ => false,
        };
        if let Some(i) = self.steps.iter().position(too_big) {
            return Err(format!("step {}: sizes 1 to {MAX_SIZE} bytes, seals of F_SEAL_SEAL|SHRINK|GROW|WRITE", i + 1));
        }
        match crate::engine::first_unissuable(&self.steps, self.actors, Holding::new(self.actors, self.sealing)) {
            Some((i, why)) => Err(format!("step {}: {why}", i + 1)),
            None => Ok(()),
        }
    }
}

impl fmt::Display for MemfdCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "setup: actor 0 makes a memfd ({}), {} actor(s)",
            if self.sealing { "MFD_ALLOW_SEALING" } else { "without MFD_ALLOW_SEALING: F_SEAL_SEAL" },
            self.actors
        )?;
        for (i, step) in self.steps.iter().enumerate() {
            writeln!(f, "{:>3}. actor {}: {}", i + 1, step.actor, step.op)?;
        }
        Ok(())
    }
}

/// What the schedule decides: who holds the memfd, who was sent it, and
/// whether the write seal is surely on (the mappings counted whether or
/// not they succeed, so "surely" errs towards "not yet"; a
/// read-only shared mapping is only made then: before it, whether such a
/// mapping keeps F_SEAL_WRITE off is the kernel's detail).
#[derive(Clone, Debug)]
pub struct Holding {
    holds: Vec<bool>,
    sent: Vec<u32>,
    /// Per actor, its live mappings: shared or not.
    maps: Vec<Vec<bool>>,
    write_sealed: bool,
    sealed_seal: bool,
}

impl Holding {
    /// Actor 0 holds the memfd (made with `MFD_ALLOW_SEALING` when
    /// `sealing`); nobody was sent it.
    pub fn new(actors: u8, sealing: bool) -> Holding {
        let n = usize::from(actors);
        let mut holds = vec![false; n];
        if let Some(h) = holds.first_mut() {
            *h = true;
        }
        Holding { holds, sent: vec![0; n], maps: vec![Vec::new(); n], write_sealed: false, sealed_seal: !sealing }
    }
}

impl Skeleton<Step> for Holding {
    fn admit(&mut self, step: &Step) -> Result<(), &'static str> {
        let a = usize::from(step.actor);
        match step.op {
            Op::Send { .. } if a != 0 => Err("only actor 0 sends the memfd"),
            Op::Send { to } if to == 0 || usize::from(to) >= self.holds.len() => Err("no such receiver"),
            Op::Send { to } => {
                self.sent[usize::from(to)] += 1;
                Ok(())
            }
            Op::Receive if self.sent[a] == 0 => Err("nothing was sent to the actor"),
            Op::Receive => {
                self.sent[a] -= 1;
                self.holds[a] = true;
                Ok(())
            }
            _ if !self.holds[a] => Err("the actor does not hold the memfd"),
            Op::Unmap => {
                self.maps[a].clear();
                Ok(())
            }
            Op::Map { shared: true, writable: false } if !self.write_sealed => {
                Err("a read-only shared mapping before F_SEAL_WRITE is surely on")
            }
            Op::Map { shared, .. } => {
                self.maps[a].push(shared);
                Ok(())
            }
            Op::Seal(s) => {
                // Only a seal added with F_SEAL_SEAL absent and no shared
                // mapping is surely on; a failed one changes nothing.
                let no_shared_map = self.maps.iter().flatten().all(|shared| !shared);
                if s.contains(Seals::WRITE) && !self.sealed_seal && no_shared_map {
                    self.write_sealed = true;
                }
                if s.contains(Seals::SEAL) {
                    self.sealed_seal = true;
                }
                Ok(())
            }
            Op::Write { .. } | Op::Truncate { .. } | Op::GetSeals | Op::Read => Ok(()),
        }
    }
}
