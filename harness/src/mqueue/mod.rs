//! The `mqueue` mechanism (POSIX message queues, Linux): actors open one
//! named queue, send and receive messages through it, unlink its name,
//! open the name again and close descriptors (`spec/rules/mqueue.toml`).
//!
//! - this module: the case as data (the queue's attributes, each actor's
//!   first open, then numbered steps) and the schedule's skeleton;
//! - [`model`]: the reference model, which knows every queue's messages;
//! - [`exec`]: runs a case through the one case engine.

pub mod exec;
pub mod model;

use crate::engine::Skeleton;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The ids of the message-queue rules (`spec/rules/mqueue.toml`).
pub mod rules {
    use ipc_conform_spec::ids;

    /// A receive returns the oldest message of the highest priority.
    pub const ORDER: &str = ids::MQUEUE_ORDER_PRIORITY;
    /// A send to a full queue blocks (EAGAIN with O_NONBLOCK).
    pub const FULL: &str = ids::MQUEUE_FULL_BLOCKS;
    /// A receive from an empty queue blocks (EAGAIN with O_NONBLOCK).
    pub const EMPTY: &str = ids::MQUEUE_EMPTY_BLOCKS;
    /// Oversize messages and short buffers fail with EMSGSIZE.
    pub const SIZE: &str = ids::MQUEUE_SIZE_LIMITS;
    /// mq_unlink removes the name; open descriptors keep working.
    pub const NAME: &str = ids::MQUEUE_NAME_LIFETIME;
}

/// The most messages a case's queue holds (Linux's default
/// `/proc/sys/fs/mqueue/msg_max`, the most an unprivileged process may ask).
pub const MAX_MAXMSG: u32 = 10;

/// The longest message a case's queue takes (Linux's default
/// `msgsize_max`).
pub const MAX_MSGSIZE: u32 = 8192;

/// The most descriptors an actor opens in a case.
pub const MAX_DESCRIPTORS: u8 = 4;

/// One operation of a step. `d` names one of the actor's descriptors, in
/// the order it opened them (0: the one it opened at set-up).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// `mq_send` of `len` bytes at priority `prio`.
    Send { d: u8, len: u32, prio: u32 },
    /// `mq_receive` into a buffer of `buf` bytes.
    Receive { d: u8, buf: u32 },
    /// `mq_unlink` of the case's name.
    Unlink,
    /// `mq_open` of the case's name (with `O_CREAT | O_EXCL` and the
    /// case's attributes if `create`; `O_NONBLOCK` if `nonblock`): the
    /// actor's next descriptor.
    Open { create: bool, nonblock: bool },
    /// `mq_close` of a descriptor.
    Close { d: u8 },
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Send { d, len, prio } => write!(f, "mq_send through descriptor {d}: {len} bytes at priority {prio}"),
            Op::Receive { d, buf } => write!(f, "mq_receive through descriptor {d} into {buf} bytes"),
            Op::Unlink => f.write_str("mq_unlink the name"),
            Op::Open { create, nonblock } => write!(
                f,
                "mq_open the name{}{} (next descriptor)",
                if *create { " with O_CREAT | O_EXCL" } else { "" },
                if *nonblock { ", O_NONBLOCK" } else { "" }
            ),
            Op::Close { d } => write!(f, "mq_close descriptor {d}"),
        }
    }
}

/// One step.
pub type Step = crate::engine::Step<Op>;

/// A case: a queue of these attributes, made under a fresh name; each
/// actor opens it by name (with `O_NONBLOCK` where `nonblock` says), then
/// the steps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MqueueCase {
    /// Actors (1-3).
    pub actors: u8,
    /// `mq_maxmsg` (1 to [`MAX_MAXMSG`]).
    pub maxmsg: u32,
    /// `mq_msgsize` (1 to [`MAX_MSGSIZE`]).
    pub msgsize: u32,
    /// Per actor: whether its first descriptor is non-blocking.
    pub nonblock: Vec<bool>,
    /// What happens, in order.
    pub steps: Vec<Step>,
}

impl MqueueCase {
    /// Whether the case is within range and every step can be issued (a
    /// replay file may be neither).
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=3).contains(&self.actors) {
            return Err(format!("{} actors; 1 to 3", self.actors));
        }
        if !(1..=MAX_MAXMSG).contains(&self.maxmsg) {
            return Err(format!("mq_maxmsg {}; 1 to {MAX_MAXMSG}", self.maxmsg));
        }
        if !(1..=MAX_MSGSIZE).contains(&self.msgsize) {
            return Err(format!("mq_msgsize {}; 1 to {MAX_MSGSIZE}", self.msgsize));
        }
        if self.nonblock.len() != usize::from(self.actors) {
            return Err(format!("{} O_NONBLOCK flags for {} actors", self.nonblock.len(), self.actors));
        }
        if self.steps.len() > crate::case::MAX_STEPS {
            return Err(format!("{} steps; at most {}", self.steps.len(), crate::case::MAX_STEPS));
        }
        let too_long = |n: u32| u64::from(n) > crate::case::MAX_OP_BYTES;
        if let Some(i) = self.steps.iter().position(|s| match s.op {
            Op::Send { len, .. } => too_long(len),
            Op::Receive { buf, .. } => too_long(buf),
            _ => false,
        }) {
            return Err(format!("step {}: more than {} bytes", i + 1, crate::case::MAX_OP_BYTES));
        }
        match crate::engine::first_unissuable(&self.steps, self.actors, Descriptors::new(self.actors)) {
            Some((i, why)) => Err(format!("step {}: {why}", i + 1)),
            None => Ok(()),
        }
    }
}

impl fmt::Display for MqueueCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opens: Vec<String> = self
            .nonblock
            .iter()
            .enumerate()
            .map(|(a, nb)| format!("actor {a}{}", if *nb { " (O_NONBLOCK)" } else { "" }))
            .collect();
        writeln!(
            f,
            "setup: a queue of mq_maxmsg {}, mq_msgsize {} under a fresh name, opened by {}",
            self.maxmsg,
            self.msgsize,
            opens.join(", ")
        )?;
        for (i, step) in self.steps.iter().enumerate() {
            writeln!(f, "{:>3}. actor {}: {}", i + 1, step.actor, step.op)?;
        }
        Ok(())
    }
}

/// What a schedule alone decides: whether the name exists (an unlink
/// removes it, an exclusive create makes it, by the rules the model
/// checks) and so which opens give a descriptor, and which descriptors
/// each actor holds open. A host that deviates is caught by the model at
/// the step where it does, before a later step could depend on it.
#[derive(Clone, Debug)]
pub struct Descriptors {
    named: bool,
    /// Per actor: its descriptors, open or closed, in opening order.
    open: Vec<Vec<bool>>,
}

impl Descriptors {
    /// The name made, each actor holding its first descriptor.
    pub fn new(actors: u8) -> Descriptors {
        Descriptors { named: true, open: vec![vec![true]; usize::from(actors)] }
    }
}

impl Skeleton<Step> for Descriptors {
    fn admit(&mut self, step: &Step) -> Result<(), &'static str> {
        let held = &mut self.open[usize::from(step.actor)];
        match step.op {
            Op::Send { d, .. } | Op::Receive { d, .. } | Op::Close { d }
                if !held.get(usize::from(d)).copied().unwrap_or(false) =>
            {
                Err("the actor holds no such open descriptor")
            }
            Op::Close { d } => {
                held[usize::from(d)] = false;
                Ok(())
            }
            Op::Open { create, .. } => {
                if held.len() >= usize::from(MAX_DESCRIPTORS) {
                    return Err("the actor opened as many descriptors as a case allows");
                }
                // The open succeeds exactly when the name's state lets it.
                if create != self.named {
                    held.push(true);
                    self.named = true;
                }
                Ok(())
            }
            Op::Unlink => {
                self.named = false;
                Ok(())
            }
            Op::Send { .. } | Op::Receive { .. } => Ok(()),
        }
    }
}
