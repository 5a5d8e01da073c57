//! Readiness of unix stream sockets (`ready.socket.*`): a connected pair
//! whose ends its actors send on, receive from, shut down and close, or a
//! listener that clients connect to and its owner accepts from, every
//! descriptor non-blocking; the interfaces asked about each end all along.
//!
//! - this file: the cast and the steps, as data;
//! - [`model`]: the reference model, which knows what is queued for each
//!   end, who shut down or closed, and how many connections wait;
//! - [`exec`]: runs a schedule through the one case engine.

pub mod exec;
pub mod model;

use crate::engine::Cast;
use crate::os::ready::{Interface, Interfaces};
use crate::socket::pair::PairCreator;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How a listener's name is given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ListenName {
    /// A path in a scratch directory.
    #[default]
    Path,
    /// An abstract name (Linux).
    Abstract,
}

impl ListenName {
    /// Every kind of name, the path first (what shrinking leaves).
    pub const ALL: &'static [ListenName] = &[ListenName::Path, ListenName::Abstract];

    /// Its entry-point name in the catalogue.
    pub fn name(self) -> &'static str {
        match self {
            ListenName::Path => "listen-path",
            ListenName::Abstract => "listen-abstract",
        }
    }

    /// The kinds among a rule's entry points; the path alone if none.
    pub fn among<S: AsRef<str>>(entry_points: &[S]) -> Vec<ListenName> {
        let named: Vec<ListenName> =
            ListenName::ALL.iter().copied().filter(|n| entry_points.iter().any(|e| e.as_ref() == n.name())).collect();
        if named.is_empty() {
            vec![ListenName::Path]
        } else {
            named
        }
    }
}

/// The cast.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Setup {
    /// A connected unix stream pair made by `creator`: actors
    /// `0..holders[0]` hold end 0, the next `holders[1]` end 1 (1-2 each).
    Pair { creator: PairCreator, holders: [u8; 2] },
    /// Actor 0 holds a listener bound to a `name` of that kind (backlog
    /// [`BACKLOG`]); actors `1..=clients` connect to it (1-3).
    Listener { name: ListenName, clients: u8 },
}

/// The listener's backlog: more than a schedule's connects can fill.
pub const BACKLOG: i32 = 128;

/// The most connects a schedule may hold (below [`BACKLOG`]).
pub const MAX_CONNECTS: usize = 64;

impl Setup {
    /// Total actors.
    pub fn actors(&self) -> u8 {
        match *self {
            Setup::Pair { holders, .. } => holders[0].saturating_add(holders[1]),
            Setup::Listener { clients, .. } => clients.saturating_add(1),
        }
    }

    /// The end of the pair actor `a` holds (pairs), or 0 for the
    /// listener's owner and 1 for a client.
    pub fn end_of(&self, a: u8) -> usize {
        match *self {
            Setup::Pair { holders, .. } => usize::from(a >= holders[0]),
            Setup::Listener { .. } => usize::from(a > 0),
        }
    }

    /// Whether the cast is a listener and its clients.
    pub fn is_listener(&self) -> bool {
        matches!(self, Setup::Listener { .. })
    }

    /// A readable role name for actor `a`.
    pub fn role(&self, a: u8) -> &'static str {
        match (self, self.end_of(a)) {
            (Setup::Pair { .. }, 0) => "end 0",
            (Setup::Pair { .. }, _) => "end 1",
            (Setup::Listener { .. }, 0) => "listener",
            (Setup::Listener { .. }, _) => "client",
        }
    }

    /// The catalogue name of how the object is made.
    pub fn creator_name(&self) -> &'static str {
        match self {
            Setup::Pair { creator, .. } => creator.name(),
            Setup::Listener { name, .. } => name.name(),
        }
    }
}

/// One operation of a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// `send(2)` of `len` bytes with `MSG_DONTWAIT | MSG_NOSIGNAL` (pairs).
    Send { len: u32 },
    /// `recv(2)` of at most `max` bytes with `MSG_DONTWAIT` (pairs).
    Recv { max: u32 },
    /// `shutdown(SHUT_WR)` of the actor's end (pairs).
    ShutWrite,
    /// `close(2)` of the actor's end (pairs).
    Close,
    /// Ask each interface of the set, back to back, zero timeout, whether
    /// the actor's end (or the listener) is readable.
    Probe { with: Interfaces },
    /// `connect(2)` of a new unix stream socket to the listener (clients).
    Connect,
    /// A non-blocking `accept(2)` (the listener's owner).
    Accept,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Send { len } => write!(f, "send {len} bytes (MSG_DONTWAIT | MSG_NOSIGNAL)"),
            Op::Recv { max } => write!(f, "receive up to {max} bytes (MSG_DONTWAIT)"),
            Op::ShutWrite => f.write_str("shutdown(SHUT_WR)"),
            Op::Close => f.write_str("close its end"),
            Op::Probe { with } => write!(f, "ask {with} (zero timeout) whether it is readable"),
            Op::Connect => f.write_str("connect a new socket to the listener"),
            Op::Accept => f.write_str("accept (non-blocking)"),
        }
    }
}

/// One step.
pub type Step = crate::engine::Step<Op>;

/// A whole socket-readiness case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocketReadySchedule {
    /// Who holds what.
    pub setup: Setup,
    /// What happens, in order.
    pub steps: Vec<Step>,
}

impl SocketReadySchedule {
    /// Whether the schedule is within the engine's range (generated ones
    /// always are; a replay file may not be).
    pub fn validate(&self) -> Result<(), String> {
        match self.setup {
            Setup::Pair { holders, .. } if !holders.iter().all(|h| (1..=2).contains(h)) => {
                return Err(format!("{} and {} holder(s) of the ends; 1 or 2 each", holders[0], holders[1]))
            }
            Setup::Listener { clients, .. } if !(1..=3).contains(&clients) => {
                return Err(format!("{clients} client(s); 1 to 3"))
            }
            _ => {}
        }
        if self.steps.len() > crate::case::MAX_STEPS {
            return Err(format!("{} steps; at most {}", self.steps.len(), crate::case::MAX_STEPS));
        }
        let connects = self.steps.iter().filter(|s| s.op == Op::Connect).count();
        if connects > MAX_CONNECTS {
            return Err(format!("{connects} connects; at most {MAX_CONNECTS} (the backlog is {BACKLOG})"));
        }
        for (i, step) in self.steps.iter().enumerate() {
            let n = match step.op {
                Op::Send { len } => u64::from(len),
                Op::Recv { max } => u64::from(max),
                _ => 0,
            };
            let probe = match step.op {
                Op::Probe { with } => Some(with),
                _ => None,
            };
            super::schedule::check_step(i, &step.op, n, probe)?;
        }
        if let Some((i, why)) = self.first_unissuable() {
            return Err(format!("step {}: {}: {why}", i + 1, self.steps[i].op));
        }
        Ok(())
    }

    /// The schedule with every step issuable (see
    /// [`crate::engine::keep_issuable`]).
    pub fn issuable(mut self) -> SocketReadySchedule {
        let actors = self.setup.actors();
        crate::engine::keep_issuable(&mut self.steps, actors, Skeleton::new(&self.setup));
        let mut connects = 0;
        self.steps.retain(|s| {
            connects += usize::from(s.op == Op::Connect);
            s.op != Op::Connect || connects <= MAX_CONNECTS
        });
        self
    }

    /// The first step that [`SocketReadySchedule::issuable`] would drop, and why.
    pub fn first_unissuable(&self) -> Option<(usize, &'static str)> {
        crate::engine::first_unissuable(&self.steps, self.setup.actors(), Skeleton::new(&self.setup))
    }

    /// The schedule with its `i`-th probe asking the interface `picks[i]`
    /// selects among `interfaces`; picks of 0, as shrinking leaves them,
    /// the first.
    pub fn asking(mut self, interfaces: &[Interface], picks: &[u8]) -> SocketReadySchedule {
        for (step, seed) in self.steps.iter_mut().zip(picks.iter().copied().chain(std::iter::repeat(0))) {
            if let Op::Probe { with } = &mut step.op {
                if let Some(i) = interfaces.get(usize::from(seed) % interfaces.len().max(1)) {
                    *with = Interfaces::of(&[*i]);
                }
            }
        }
        self
    }

    /// Every interface the schedule's probes ask.
    pub fn interfaces(&self) -> Vec<Interface> {
        let all = self.steps.iter().fold(0, |bits, s| match s.op {
            Op::Probe { with } => bits | with.0,
            _ => bits,
        });
        Interfaces(all).list()
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
        self.cast.holding(step.actor)?;
        let listener = self.setup.is_listener();
        let owner = listener && step.actor == 0;
        match step.op {
            Op::Send { .. } | Op::Recv { .. } | Op::ShutWrite | Op::Close if listener => {
                Err("a listener's cast only connects, accepts and asks")
            }
            Op::Connect if !listener || owner => Err("only clients connect"),
            Op::Accept if !owner => Err("only the listener's owner accepts"),
            Op::Probe { .. } if listener && !owner => Err("only the listener is asked about"),
            Op::Close => {
                self.cast.holds[usize::from(step.actor)] = false;
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Display for SocketReadySchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.setup {
            Setup::Pair { creator, holders } => writeln!(
                f,
                "setup: a unix stream pair by {creator}, both ends O_NONBLOCK; {} holder(s) of end 0, {} of end 1",
                holders[0], holders[1]
            )?,
            Setup::Listener { name, clients } => writeln!(
                f,
                "setup: a unix stream listener bound to {}, O_NONBLOCK, backlog {BACKLOG}, held by actor 0; {clients} client(s)",
                match name {
                    ListenName::Path => "a path",
                    ListenName::Abstract => "an abstract name",
                }
            )?,
        }
        for (i, step) in self.steps.iter().enumerate() {
            writeln!(f, "{:>3}. actor {} ({}): {}", i + 1, step.actor, self.setup.role(step.actor), step.op)?;
        }
        Ok(())
    }
}
