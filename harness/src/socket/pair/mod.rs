//! A connected socket pair as a schedule: which actors hold which end,
//! then numbered steps.

pub mod creator;
pub mod exec;
pub mod model;

pub use creator::PairCreator;

use crate::engine::Cast;
use crate::os::entry::{ReadCall, WriteCall};
use crate::os::signal::SigpipeDisposition;
use crate::os::socket::SocketKind;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The cast: actors `0..holders[0]` hold end 0, the next `holders[1]`
/// actors hold end 1 (at most four actors in all, one pattern tag each).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairSetup {
    /// The socket type.
    pub kind: SocketKind,
    /// How many actors hold each end (1-2 each).
    pub holders: [u8; 2],
    /// How the pair is made ([`PairCreator`]; `socketpair` in replay
    /// files from before creators were drawn).
    #[serde(default)]
    pub creator: PairCreator,
    /// `O_NONBLOCK` on each end's open file description.
    #[serde(default)]
    pub nonblock: [bool; 2],
    /// Whether `O_NONBLOCK` is set at creation (`SOCK_NONBLOCK`, on both
    /// ends, then cleared by `fcntl` on an end that blocks) rather than by
    /// `fcntl(F_SETFL)`.
    #[serde(default)]
    pub nonblock_at_creation: bool,
}

impl PairSetup {
    /// A pair of `kind` held by `holders`, made by `socketpair`, both ends
    /// blocking.
    pub fn new(kind: SocketKind, holders: [u8; 2]) -> PairSetup {
        PairSetup { kind, holders, creator: PairCreator::Socketpair, nonblock: [false; 2], nonblock_at_creation: false }
    }

    /// Total actors.
    pub fn actors(&self) -> u8 {
        self.holders[0].saturating_add(self.holders[1])
    }

    /// The end actor `a` holds.
    pub fn end_of(&self, a: u8) -> usize {
        usize::from(a >= self.holders[0])
    }
}

/// One operation on the actor's end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PairOp {
    /// A send of `len` traceable bytes (one message for datagram kinds)
    /// through `call`; the flags only with the `send` family.
    Send {
        len: u32,
        dontwait: bool,
        nosignal: bool,
        #[serde(default = "default_send")]
        call: WriteCall,
    },
    /// A receive of at most `max` bytes through `call`; `MSG_DONTWAIT`
    /// only with the `recv` family.
    Recv {
        max: u32,
        dontwait: bool,
        #[serde(default = "default_recv")]
        call: ReadCall,
    },
    /// `shutdown(SHUT_WR)`.
    ShutWrite,
    /// Fill the send direction through a non-blocking descriptor until
    /// `EAGAIN` (stream sockets).
    Fill { chunk: u32 },
    /// `close(2)` of the end.
    Close,
    /// The actor exits.
    Exit,
    /// The actor is killed (`SIGKILL`).
    Kill,
    /// The actor sets its `SIGPIPE` disposition.
    Sigpipe(SigpipeDisposition),
}

fn default_send() -> WriteCall {
    WriteCall::Send
}

fn default_recv() -> ReadCall {
    ReadCall::Recvmsg
}

impl PairOp {
    /// A `send(2)` of `len` bytes without flags.
    pub fn send(len: u32) -> PairOp {
        PairOp::Send { len, dontwait: false, nosignal: false, call: WriteCall::Send }
    }

    /// A `recvmsg(2)` of at most `max` bytes without flags.
    pub fn recv(max: u32) -> PairOp {
        PairOp::Recv { max, dontwait: false, call: ReadCall::Recvmsg }
    }

    /// The entry point the operation goes through, if it sends or receives.
    pub fn entry_point(&self) -> Option<&'static str> {
        match self {
            PairOp::Send { call, .. } => Some(call.name()),
            PairOp::Recv { call, .. } => Some(call.name()),
            _ => None,
        }
    }

    /// Whether the operation's flags suit its entry point.
    fn call_fits(&self) -> bool {
        match *self {
            PairOp::Send { len, dontwait, nosignal, call } => call.takes_flags() || !(dontwait || nosignal || len == 0),
            PairOp::Recv { dontwait, call, .. } => call.takes_flags() || !dontwait,
            _ => true,
        }
    }
}

impl fmt::Display for PairOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PairOp::Send { len, dontwait, nosignal, call } => {
                write!(f, "{call} {len} bytes")?;
                if *dontwait {
                    f.write_str(" MSG_DONTWAIT")?;
                }
                if *nosignal {
                    f.write_str(" MSG_NOSIGNAL")?;
                }
                Ok(())
            }
            PairOp::Recv { max, dontwait, call } => {
                write!(f, "{call} up to {max} bytes{}", if *dontwait { " MSG_DONTWAIT" } else { "" })
            }
            PairOp::ShutWrite => f.write_str("shutdown(SHUT_WR)"),
            PairOp::Fill { chunk } => write!(f, "fill (non-blocking writes of {chunk}, then of 1 byte)"),
            PairOp::Close => f.write_str("close its end"),
            PairOp::Exit => f.write_str("exit"),
            PairOp::Kill => f.write_str("is killed (SIGKILL)"),
            PairOp::Sigpipe(SigpipeDisposition::Default) => f.write_str("set SIGPIPE to default"),
            PairOp::Sigpipe(SigpipeDisposition::Ignore) => f.write_str("ignore SIGPIPE"),
        }
    }
}

/// One step.
pub type PairStep = crate::engine::Step<PairOp>;

/// A whole socket-pair case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairSchedule {
    /// Who holds what.
    pub setup: PairSetup,
    /// What happens, in order.
    pub steps: Vec<PairStep>,
}

impl PairSchedule {
    /// Whether the schedule is within the engine's range.
    pub fn validate(&self) -> Result<(), String> {
        use crate::case::{MAX_OP_BYTES, MAX_STEPS};
        if !self.setup.holders.iter().all(|h| (1..=2).contains(h)) {
            return Err(format!("holders {:?}; each end needs 1 or 2", self.setup.holders));
        }
        if self.steps.len() > MAX_STEPS {
            return Err(format!("{} steps; at most {MAX_STEPS}", self.steps.len()));
        }
        for (i, step) in self.steps.iter().enumerate() {
            let n = match step.op {
                PairOp::Send { len, .. } => u64::from(len),
                PairOp::Recv { max, .. } => u64::from(max),
                PairOp::Fill { chunk } => u64::from(chunk),
                _ => 0,
            };
            if n > MAX_OP_BYTES {
                return Err(format!("step {}: {} moves {n} bytes; at most {MAX_OP_BYTES}", i + 1, step.op));
            }
            if !step.op.call_fits() {
                return Err(format!(
                    "step {}: {}: MSG_* flags, and sends of 0 bytes (unspecified for write(2)), need a call of the \
                     send or recv family",
                    i + 1,
                    step.op
                ));
            }
        }
        if let Some((i, why)) = self.first_unissuable() {
            return Err(format!("step {}: {}: {why}", i + 1, self.steps[i].op));
        }
        Ok(())
    }

    /// The actor a step addresses (after [`PairSchedule::issuable`], the
    /// step's own number).
    pub fn actor_of(&self, step: &PairStep) -> u8 {
        step.actor % self.setup.actors().max(1)
    }

    /// The schedule with every step addressed to an actor of the cast and
    /// issuable as far as the schedule alone decides: no step by an actor
    /// that has ended, no use of an end after closing it (but exit and
    /// SIGPIPE changes), no fill of a socket that is not a stream. What the
    /// host decides (an actor still blocked) is left to the run.
    pub fn issuable(mut self) -> PairSchedule {
        let actors = self.setup.actors();
        crate::engine::keep_issuable(&mut self.steps, actors, Skeleton::new(&self.setup));
        self
    }

    /// The schedule with its `i`-th send or receive going through the
    /// entry point `picks[i]` selects among a socket's (`write`, `writev`,
    /// `send`, `sendto`, `sendmsg`; `read`, `readv`, `recv`, `recvfrom`,
    /// `recvmsg`), among the `send` or `recv` family alone when the
    /// operation has `MSG_*` flags. Picks of 0, as shrinking leaves them,
    /// are `write` and `read`, or `send` and `recv` with flags.
    pub fn through(mut self, picks: &[u8]) -> PairSchedule {
        use crate::os::entry::pick;
        for (step, seed) in self.steps.iter_mut().zip(picks.iter().copied().chain(std::iter::repeat(0))) {
            match &mut step.op {
                PairOp::Send { len, dontwait, nosignal, call } => {
                    // POSIX leaves a write(2) of 0 bytes to anything but a
                    // regular file unspecified (Linux's writev returns 0
                    // without reaching the socket, its write sends an empty
                    // datagram): zero-length sends go through the send
                    // family, which specifies them.
                    let flagged = *dontwait || *nosignal || *len == 0;
                    *call = pick(if flagged { WriteCall::FLAGGED } else { WriteCall::SOCKET }, seed);
                }
                PairOp::Recv { dontwait, call, .. } => {
                    *call = pick(if *dontwait { ReadCall::FLAGGED } else { ReadCall::SOCKET }, seed);
                }
                _ => {}
            }
        }
        self
    }

    /// The schedule over the pair that `seed` selects among `creators` (a
    /// seed of 0, as shrinking leaves it, the first).
    ///
    /// `nonblock` (0, as shrinking leaves it, for blocking ends) makes, in
    /// one case of four, one end or both non-blocking, by `SOCK_NONBLOCK`
    /// (where `at_creation` allows it) or by `fcntl`.
    pub fn made_by(mut self, creators: &[PairCreator], seed: u8, nonblock: u8, at_creation: bool) -> PairSchedule {
        if !creators.is_empty() {
            self.setup.creator = creators[usize::from(seed) % creators.len()];
        }
        self.setup.nonblock = match nonblock % 12 {
            9 => [true, false],
            10 => [false, true],
            11 => [true, true],
            _ => [false, false],
        };
        self.setup.nonblock_at_creation = at_creation && self.setup.nonblock != [false, false];
        self
    }

    /// The first step that [`PairSchedule::issuable`] would drop, and why.
    pub fn first_unissuable(&self) -> Option<(usize, &'static str)> {
        let actors = self.setup.actors();
        crate::engine::first_unissuable(&self.steps, actors, Skeleton::new(&self.setup))
    }
}

/// The part of a pair case that the schedule alone decides.
struct Skeleton<'a> {
    setup: &'a PairSetup,
    cast: Cast,
}

impl<'a> Skeleton<'a> {
    fn new(setup: &'a PairSetup) -> Skeleton<'a> {
        Skeleton { setup, cast: Cast::new(setup.actors()) }
    }
}

impl crate::engine::Skeleton<PairStep> for Skeleton<'_> {
    fn admit(&mut self, step: &PairStep) -> Result<(), &'static str> {
        let a = usize::from(step.actor);
        self.cast.live(step.actor)?;
        match step.op {
            PairOp::Exit | PairOp::Kill => self.cast.alive[a] = false,
            PairOp::Sigpipe(_) => {}
            _ => {
                self.cast.holding(step.actor)?;
                match step.op {
                    PairOp::Fill { .. } if self.setup.kind != SocketKind::Stream => {
                        return Err("fills are for stream sockets")
                    }
                    PairOp::Close => self.cast.holds[a] = false,
                    _ => {}
                }
            }
        }
        Ok(())
    }
}

impl fmt::Display for PairSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.setup;
        writeln!(
            f,
            "setup: AF_UNIX {} pair by {}; end 0 held by {} actor(s), end 1 by {}{}",
            s.kind.name(),
            s.creator,
            s.holders[0],
            s.holders[1],
            match (s.nonblock, s.nonblock_at_creation) {
                ([false, false], _) => String::new(),
                (nb, by) => format!(
                    "; O_NONBLOCK on end{} by {}",
                    match nb {
                        [true, true] => "s 0 and 1",
                        [true, false] => " 0",
                        _ => " 1",
                    },
                    if by { "SOCK_NONBLOCK" } else { "fcntl" }
                ),
            }
        )?;
        for (i, step) in self.steps.iter().enumerate() {
            let a = self.actor_of(step);
            writeln!(f, "{:>3}. actor {a} (end {}): {}", i + 1, s.end_of(a), step.op)?;
        }
        Ok(())
    }
}
