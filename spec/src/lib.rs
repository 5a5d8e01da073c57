//! The ipc-conform rule catalogue.
//!
//! Every documented rule of interprocess communication that the project
//! checks lives as data in `spec/rules/<mechanism>.toml`. This crate loads
//! those files, validates them strictly (every failure names the file, the
//! rule and the field), and lets the other crates look rules up and select
//! them by id, prefix, glob or mechanism. It contains no OS code.

#![warn(missing_docs)]

mod error;
mod parse;
mod select;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

pub use error::SpecError;

/// The id of every rule of the built-in catalogue, one constant each
/// (generated from `spec/rules/*.toml` at build time: `pipe.read.empty-blocks`
/// is [`ids::PIPE_READ_EMPTY_BLOCKS`]). Name rules through these, never by a
/// string of your own.
pub mod ids {
    include!(concat!(env!("OUT_DIR"), "/ids.rs"));
}

/// The rule files compiled into the crate, in mechanism order, as
/// `(file name, text)`.
const BUILTIN_FILES: &[(&str, &str)] = &[
    ("spec/rules/pipe.toml", include_str!("../rules/pipe.toml")),
    ("spec/rules/socket.toml", include_str!("../rules/socket.toml")),
    ("spec/rules/file.toml", include_str!("../rules/file.toml")),
    ("spec/rules/shm.toml", include_str!("../rules/shm.toml")),
    ("spec/rules/process.toml", include_str!("../rules/process.toml")),
    ("spec/rules/ready.toml", include_str!("../rules/ready.toml")),
    ("spec/rules/eventfd.toml", include_str!("../rules/eventfd.toml")),
    ("spec/rules/signal.toml", include_str!("../rules/signal.toml")),
    ("spec/rules/mqueue.toml", include_str!("../rules/mqueue.toml")),
    ("spec/rules/sysv.toml", include_str!("../rules/sysv.toml")),
    ("spec/rules/memfd.toml", include_str!("../rules/memfd.toml")),
];

/// An IPC mechanism; each has its own rule file `spec/rules/<name>.toml`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mechanism {
    /// Anonymous pipes and FIFOs (`pipe`).
    Pipe,
    /// Sockets (`socket`).
    Socket,
    /// Shared memory (`shm`).
    Shm,
    /// Process life cycle as it bears on IPC: exit, kill, inheritance (`process`).
    Process,
    /// Files as a shared medium: rename, append, locks (`file`).
    File,
    /// Readiness of pipes and sockets: poll, select, epoll, kqueue (`ready`).
    Ready,
    /// Event counters: eventfd (`eventfd`, Linux).
    Eventfd,
    /// Signals between processes: blocked, pending, queued (`signal`).
    Signal,
    /// POSIX message queues: mq_open, mq_send, mq_receive (`mqueue`).
    Mqueue,
    /// System V IPC: message queues, semaphores, segments (`sysv`).
    Sysv,
    /// Sealed anonymous shared memory: memfd_create, F_ADD_SEALS (`memfd`, Linux).
    Memfd,
}

impl Mechanism {
    /// Every mechanism, in catalogue order.
    pub const ALL: [Mechanism; 11] = [
        Mechanism::Pipe,
        Mechanism::Socket,
        Mechanism::Shm,
        Mechanism::Process,
        Mechanism::File,
        Mechanism::Ready,
        Mechanism::Eventfd,
        Mechanism::Signal,
        Mechanism::Mqueue,
        Mechanism::Sysv,
        Mechanism::Memfd,
    ];

    /// The name used in rule files, ids and file names: `"pipe"`, `"socket"`,
    /// `"shm"`, `"process"`, `"file"`, `"ready"`, `"eventfd"`, `"signal"`,
    /// `"mqueue"`, `"sysv"` or `"memfd"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mechanism::Pipe => "pipe",
            Mechanism::Socket => "socket",
            Mechanism::Shm => "shm",
            Mechanism::Process => "process",
            Mechanism::File => "file",
            Mechanism::Ready => "ready",
            Mechanism::Eventfd => "eventfd",
            Mechanism::Signal => "signal",
            Mechanism::Mqueue => "mqueue",
            Mechanism::Sysv => "sysv",
            Mechanism::Memfd => "memfd",
        }
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mechanism {
    type Err = SpecError;

    /// Parses the exact name given by [`Mechanism::as_str`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mechanism::ALL.into_iter().find(|m| m.as_str() == s).ok_or_else(|| {
            SpecError::msg(format!(
                "unknown mechanism {}; expected one of {}",
                error::quote(s),
                Mechanism::ALL.map(Mechanism::as_str).join(", ")
            ))
        })
    }
}

/// A platform the catalogue states expectations for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// Linux (`linux`).
    Linux,
    /// macOS (`macos`).
    Macos,
}

impl Platform {
    /// Every platform, in table order.
    pub const ALL: [Platform; 2] = [Platform::Linux, Platform::Macos];

    /// The key used in rule files: `"linux"` or `"macos"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Linux => "linux",
            Platform::Macos => "macos",
        }
    }

    /// The platform this crate was compiled for, or `None` on any other
    /// target OS.
    pub fn current() -> Option<Platform> {
        if cfg!(target_os = "linux") {
            Some(Platform::Linux)
        } else if cfg!(target_os = "macos") {
            Some(Platform::Macos)
        } else {
            None
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Platform {
    type Err = SpecError;

    /// Parses the exact key given by [`Platform::as_str`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Platform::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| SpecError::msg(format!("unknown platform {}; expected linux or macos", error::quote(s))))
    }
}

/// A documented platform difference that a rule's check must allow for,
/// named in a rule file (`allow = ["..."]` under the platform). Each
/// belongs to one rule; the models consult the allowances in force on the
/// platform they run on, so platform differences stay data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Allowance {
    /// A send on a `SOCK_SEQPACKET` socket whose peer is gone fails with
    /// `EPIPE` but raises no `SIGPIPE` (POSIX asks for the signal).
    SeqpacketEpipeWithoutSigpipe,
    /// `mmap(MAP_PRIVATE)` of a `shm_open` object fails with `EINVAL`.
    MapPrivateShmRefused,
    /// A receive or `accept` on a socket with a receive timeout
    /// (`SO_RCVTIMEO`), interrupted by a handler installed with
    /// `SA_RESTART`, may be restarted as an untimed one is, instead of
    /// failing with `EINTR` (which Linux documents).
    TimedReceiveRestarted,
    /// The pid reported for a unix socket's peer may be that of the peer
    /// socket's last user (a process the end was passed to, or that used
    /// it), not only of the process that made it.
    PeerPidLastUser,
}

impl Allowance {
    /// Every allowance.
    pub const ALL: [Allowance; 4] = [
        Allowance::SeqpacketEpipeWithoutSigpipe,
        Allowance::MapPrivateShmRefused,
        Allowance::TimedReceiveRestarted,
        Allowance::PeerPidLastUser,
    ];

    /// The name used in rule files.
    pub fn as_str(self) -> &'static str {
        match self {
            Allowance::SeqpacketEpipeWithoutSigpipe => "seqpacket-epipe-without-sigpipe",
            Allowance::MapPrivateShmRefused => "map-private-shm-refused",
            Allowance::TimedReceiveRestarted => "timed-receive-restarted",
            Allowance::PeerPidLastUser => "peer-pid-last-user",
        }
    }

    /// The rule whose check it relaxes (the only rule that may name it).
    pub fn rule(self) -> &'static str {
        match self {
            Allowance::SeqpacketEpipeWithoutSigpipe => ids::SOCKET_EPIPE_PEER_CLOSED,
            Allowance::MapPrivateShmRefused => ids::SHM_PRIVATE_COPY_ON_WRITE,
            Allowance::TimedReceiveRestarted => ids::SIGNAL_INTERRUPT_RESTART,
            Allowance::PeerPidLastUser => ids::SOCKET_UNIX_PEER_CREDENTIALS,
        }
    }
}

impl fmt::Display for Allowance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Allowance {
    type Err = SpecError;

    /// Parses the exact name given by [`Allowance::as_str`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Allowance::ALL.into_iter().find(|a| a.as_str() == s).ok_or_else(|| {
            SpecError::msg(format!(
                "unknown allowance {}; expected one of {}",
                error::quote(s),
                Allowance::ALL.map(Allowance::as_str).join(", ")
            ))
        })
    }
}

/// What the catalogue declares for one rule on one platform.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "expect", rename_all = "kebab-case")]
pub enum Expectation {
    /// The platform is expected to behave as the rule states
    /// (`expect = "holds"`).
    Holds {
        /// A documented platform difference that the check must allow for,
        /// e.g. a smaller PIPE_BUF.
        note: Option<String>,
        /// The differences the check allows, by name (`allow = [...]`);
        /// each comes with a `note` that explains it.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        allow: Vec<Allowance>,
        /// The rule's entry points the platform does not have
        /// (`lacks = [...]`, a subset of [`Rule::entry_points`], explained
        /// by the `note`): checked everywhere else, named here so that
        /// their absence is data, not a silent omission.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        lacks: Vec<String>,
    },
    /// The rule does not apply on the platform (`expect = "not-applicable"`);
    /// checks of it are reported as unsupported.
    NotApplicable {
        /// Why the rule does not apply, e.g. the platform lacks the facility.
        reason: String,
    },
}

/// Where a rule comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// The heading of the seed text's section the rule comes from.
    pub seed: String,
    /// POSIX sections and man pages that sharpen the rule (at least one).
    pub refs: Vec<String>,
}

/// One documented rule of IPC behaviour.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// Stable id, `<mechanism>.<word>[.<word>...]`, e.g. `pipe.read.empty-blocks`.
    pub id: String,
    /// The mechanism the rule belongs to (the first segment of the id).
    pub mechanism: Mechanism,
    /// A short one-line title, for tables.
    pub title: String,
    /// The rule in the project's own words.
    pub statement: String,
    /// Where the rule comes from.
    pub source: Source,
    /// The expectation on every platform in [`Platform::ALL`].
    pub platforms: BTreeMap<Platform, Expectation>,
    /// The name of the file the rule was read from, e.g. `spec/rules/pipe.toml`.
    pub file: String,
    /// The entry points the statement covers (`entry_points = [...]`,
    /// names from [`ENTRY_POINTS`]): the C library functions and object
    /// creators through which the rule's property must reach the host,
    /// each of them across a run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entry_points: Vec<String>,
}

/// The entry points a rule may name: functions that read and write
/// descriptors, and the creators of the objects a rule's cases run over
/// (`pipe`: `pipe(2)`; `pipe2`: `pipe2(2)` with its flags; `fifo`: a FIFO
/// opened by blocking `open(2)`s; `fifo-nonblocking`: one opened with
/// `O_NONBLOCK`; `small-pipe`: a one-page pipe, `F_SETPIPE_SZ`;
/// `socketpair`; `connect-path` and `connect-abstract`: a unix pair joined
/// by `bind` + `connect` through path or abstract names; `listen-path`
/// and `listen-abstract`: a unix stream listener bound to a path or an
/// abstract name, clients connecting to it; `sock-nonblock`
/// and `fcntl-nonblock`: a socket's ends made non-blocking by
/// `SOCK_NONBLOCK` at creation or by `fcntl(F_SETFL)`); and the ways a
/// descriptor becomes close-on-exec (`open`, `openat`: `O_CLOEXEC`;
/// `fcntl-setfd`: `F_SETFD`; `fcntl-dupfd-cloexec`; `dup3`; `pipe2`;
/// `socket`, `socketpair`, `accept4`: `SOCK_CLOEXEC`;
/// `recvmsg-cmsg-cloexec`: `MSG_CMSG_CLOEXEC`; `memfd-create`:
/// `MFD_CLOEXEC`) or is cleared again (`fcntl-setfd-clear`); and the
/// readiness interfaces (`poll`, `select`, `epoll`: `epoll_wait(2)`,
/// `kqueue`: `kevent(2)`); and `subreaper`: a supervisor made a
/// subreaper by `prctl(PR_SET_CHILD_SUBREAPER)` (Linux); and the signal
/// calls (`kill`, `sigqueue`, `pthread-sigmask`, `sigaction`); and the
/// blocking calls the interrupted-call rules interrupt besides reads and
/// writes (`accept`, `flock`, `fcntl-setlkw`, and `fifo`: its blocking
/// `open`), and `so-rcvtimeo`: a receive or `accept` on a socket given a
/// receive timeout by `setsockopt(SO_RCVTIMEO)`; and the message-queue
/// calls (`mq_open`, `mq_send`, `mq_receive`, `mq_unlink`, `mq_close`),
/// and System V's (`msgget`, `msgsnd`, `msgrcv`, `shmget`, `shmat`,
/// `shmdt`, `shmctl`).
pub const ENTRY_POINTS: &[&str] = &[
    "read",
    "readv",
    "write",
    "writev",
    "recv",
    "recvfrom",
    "recvmsg",
    "send",
    "sendto",
    "sendmsg",
    "pipe",
    "pipe2",
    "fifo",
    "fifo-nonblocking",
    "small-pipe",
    "socketpair",
    "connect-path",
    "connect-abstract",
    "listen-path",
    "listen-abstract",
    "sock-nonblock",
    "fcntl-nonblock",
    "open",
    "openat",
    "fcntl-setfd",
    "fcntl-setfd-clear",
    "fcntl-dupfd-cloexec",
    "dup3",
    "socket",
    "accept4",
    "recvmsg-cmsg-cloexec",
    "memfd-create",
    "poll",
    "select",
    "epoll",
    "kqueue",
    "subreaper",
    "kill",
    "sigqueue",
    "pthread-sigmask",
    "sigaction",
    "accept",
    "flock",
    "fcntl-setlkw",
    "so-rcvtimeo",
    "mq_open",
    "mq_send",
    "mq_receive",
    "mq_unlink",
    "mq_close",
    "msgget",
    "msgsnd",
    "msgrcv",
    "shmget",
    "shmat",
    "shmdt",
    "shmctl",
];

impl Rule {
    /// The entry points the rule's property must use on `p`: those its
    /// statement covers, less those the platform lacks.
    pub fn entry_points_on(&self, p: Platform) -> Vec<&str> {
        let lacks: &[String] = match self.platforms.get(&p) {
            Some(Expectation::Holds { lacks, .. }) => lacks,
            _ => &[],
        };
        self.entry_points.iter().filter(|e| !lacks.contains(e)).map(String::as_str).collect()
    }

    /// The expectation declared for `p`.
    ///
    /// # Panics
    ///
    /// If the rule declares none for `p`. A rule from [`Catalogue::parse`] or
    /// [`Catalogue::load_dir`] always declares every platform; only a `Rule`
    /// built by hand can lack one.
    pub fn expectation(&self, p: Platform) -> &Expectation {
        match self.platforms.get(&p) {
            Some(e) => e,
            None => panic!("rule `{}` declares no expectation for {p}", self.id),
        }
    }
}

/// A validated set of rules.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalogue {
    /// The rules, in file order; files in mechanism order.
    pub rules: Vec<Rule>,
}

impl Catalogue {
    /// The catalogue compiled into this crate (`spec/rules/*.toml`), parsed
    /// once on first use.
    ///
    /// # Panics
    ///
    /// Only if the built-in rule files are invalid, which the crate's tests
    /// rule out.
    pub fn builtin() -> &'static Catalogue {
        static BUILTIN: OnceLock<Catalogue> = OnceLock::new();
        BUILTIN.get_or_init(|| match Catalogue::parse(BUILTIN_FILES) {
            Ok(c) => c,
            Err(e) => panic!("the built-in rule files are invalid: {e}"),
        })
    }

    /// Loads and validates every `*.toml` file in `dir`, taken in name order.
    /// Rules keep their file order, and files are ordered by mechanism.
    /// Errors name each file as `dir` joined with its name.
    pub fn load_dir(dir: &Path) -> Result<Catalogue, SpecError> {
        parse::load_dir(dir)
    }

    /// Validates rule files given as `(file name, text)`. The file name is
    /// used in errors and in [`Rule::file`], and its stem must equal the
    /// file's `mechanism`. Rules keep their file order; files are ordered by
    /// mechanism (stably, so files of one mechanism keep the given order).
    pub fn parse(files: &[(&str, &str)]) -> Result<Catalogue, SpecError> {
        parse::parse_files(files)
    }

    /// Every allowance the rules declare for platform `p`.
    pub fn allowances(&self, p: Platform) -> Vec<Allowance> {
        let mut all: Vec<Allowance> = self
            .rules
            .iter()
            .filter_map(|r| match r.platforms.get(&p) {
                Some(Expectation::Holds { allow, .. }) => Some(allow.iter().copied()),
                _ => None,
            })
            .flatten()
            .collect();
        all.sort();
        all.dedup();
        all
    }

    /// The rule with exactly this id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// The rules matched by any of `patterns`, in catalogue order and without
    /// duplicates; no patterns selects every rule.
    ///
    /// A pattern is an exact id (`pipe.read.empty-blocks`), a prefix ending in
    /// `.` (`pipe.eof.`), a glob ending in `*` (`pipe.write.*`, `pipe.e*`), or a
    /// mechanism name (`pipe`). A pattern that matches no rule is an error
    /// (``unknown rule or pattern `x` ``) that suggests up to three close ids.
    pub fn select(&self, patterns: &[String]) -> Result<Vec<&Rule>, SpecError> {
        select::select(self, patterns)
    }
}
