//! The connected pairs a socket-pair case runs over, after gVisor's socket
//! pair creators: every socket-pair rule holds for a pair however it was
//! connected, so each case draws its creator from those the catalogue lists
//! for the rule on this platform (its `entry_points`; abstract names are
//! Linux's, and macOS's expectation says it lacks them).
//!
//! | creator | made by |
//! | --- | --- |
//! | `socketpair` | `socketpair(AF_UNIX, type)` |
//! | `connect-path` | `socket` + `bind` to a path + `listen`, `connect`, `accept` (datagrams: two bound sockets connected to each other) |
//! | `connect-abstract` | the same with abstract names (Linux) |
//!
//! Path names live in a scratch directory removed once the pair is
//! connected; abstract names go with the sockets.

use super::PairSetup;
use crate::case::Stop;
use crate::os::socket::{self as sock, UnixName};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::os::fd::{AsFd, OwnedFd};

/// How a case's pair is made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PairCreator {
    /// `socketpair(2)`.
    #[default]
    Socketpair,
    /// `bind` + `connect` through path names.
    ConnectPath,
    /// `bind` + `connect` through abstract names (Linux).
    ConnectAbstract,
}

impl PairCreator {
    /// Every creator, `socketpair` first (what shrinking leaves).
    pub const ALL: &'static [PairCreator] =
        &[PairCreator::Socketpair, PairCreator::ConnectPath, PairCreator::ConnectAbstract];

    /// Its name in the catalogue's `entry_points` and the report.
    pub fn name(self) -> &'static str {
        match self {
            PairCreator::Socketpair => "socketpair",
            PairCreator::ConnectPath => "connect-path",
            PairCreator::ConnectAbstract => "connect-abstract",
        }
    }

    /// Whether a connection-mode pair it makes went through a listener
    /// (`listen` + `connect` + `accept`).
    pub fn listens(self) -> bool {
        !matches!(self, PairCreator::Socketpair)
    }

    /// The creator of that name.
    pub fn from_name(name: &str) -> Option<PairCreator> {
        PairCreator::ALL.iter().copied().find(|c| c.name() == name)
    }

    /// The creators among `entry_points` (names), in [`PairCreator::ALL`]'s
    /// order; `socketpair` alone if none is named.
    pub fn among<S: AsRef<str>>(entry_points: &[S]) -> Vec<PairCreator> {
        let named: Vec<PairCreator> =
            PairCreator::ALL.iter().copied().filter(|c| entry_points.iter().any(|e| e.as_ref() == c.name())).collect();
        if named.is_empty() {
            vec![PairCreator::Socketpair]
        } else {
            named
        }
    }
}

impl fmt::Display for PairCreator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PairCreator::Socketpair => "socketpair()",
            PairCreator::ConnectPath => "bind + connect through path names",
            PairCreator::ConnectAbstract => "bind + connect through abstract names",
        })
    }
}

/// Makes the pair of `setup` (end 0, end 1), both close-on-exec, each
/// end non-blocking as the setup asks: by `SOCK_NONBLOCK` on every socket
/// made (and `fcntl` clearing it on an end that blocks), or by `fcntl`.
pub fn create(setup: &PairSetup) -> Result<[OwnedFd; 2], Stop> {
    let kind = setup.kind;
    let what = |how: &str| format!("{how}({})", kind.name());
    let at_creation = setup.nonblock_at_creation && setup.nonblock.contains(&true);
    let (a, b) = match setup.creator {
        PairCreator::Socketpair => sock::pair_with(kind, at_creation).map_err(|e| Stop::io(what("socketpair"), e))?,
        PairCreator::ConnectPath => {
            let scratch = crate::scratch::Scratch::new().map_err(|e| Stop::io("a scratch directory", e))?;
            let (first, second) = (scratch.path().join("a.sock"), scratch.path().join("b.sock"));
            sock::pair_by_connect(kind, UnixName::Path(&first), UnixName::Path(&second), at_creation)
                .map_err(|e| Stop::io(what("bind + connect (path)"), e))?
        }
        PairCreator::ConnectAbstract => {
            let (first, second) = (abstract_name('a'), abstract_name('b'));
            let (first, second) = (UnixName::Abstract(first.as_bytes()), UnixName::Abstract(second.as_bytes()));
            sock::pair_by_connect(kind, first, second, at_creation)
                .map_err(|e| Stop::io(what("bind + connect (abstract)"), e))?
        }
    };
    for (end, want) in [(&a, setup.nonblock[0]), (&b, setup.nonblock[1])] {
        // Made non-blocking at creation: clear where not wanted; made
        // blocking: set where wanted.
        if at_creation != want {
            crate::os::fd::set_nonblocking(end.as_fd(), want).map_err(|e| Stop::io("fcntl(F_SETFL)", e))?;
        }
    }
    Ok([a, b])
}

/// The entry points a setup's non-blocking ends went through, if any.
pub fn nonblock_entry_point(setup: &PairSetup) -> Option<&'static str> {
    match (setup.nonblock.contains(&true), setup.nonblock_at_creation) {
        (false, _) => None,
        (true, true) => Some(SOCK_NONBLOCK),
        (true, false) => Some(FCNTL_NONBLOCK),
    }
}

/// The entry point of `O_NONBLOCK` set at a socket's creation.
pub const SOCK_NONBLOCK: &str = "sock-nonblock";

/// The entry point of `O_NONBLOCK` set by `fcntl(F_SETFL)`.
pub const FCNTL_NONBLOCK: &str = "fcntl-nonblock";

/// A fresh abstract name: this process, a counter, and `end`.
pub(crate) fn abstract_name(end: char) -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("ipc-conform-{}-{n}-{end}", std::process::id())
}
