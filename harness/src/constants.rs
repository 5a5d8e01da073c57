//! Platform constants, measured at start and never hard-coded: the models
//! are parameterised by them and the report shows them.

use crate::os;
use ipc_conform_spec::{Allowance, Catalogue, Platform};
use serde::{Deserialize, Serialize};
use std::os::fd::AsFd;
use std::sync::OnceLock;

/// What was measured on this host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constants {
    /// `fpathconf(_PC_PIPE_BUF)` of a pipe.
    pub pipe_buf: u64,
    /// Bytes one non-blocking write puts into an empty pipe.
    pub pipe_single_write: u64,
    /// Bytes an empty pipe takes before even a 1-byte write gets `EAGAIN`.
    pub pipe_capacity: u64,
    /// Bytes one non-blocking send puts into an empty unix stream pair.
    pub stream_single_send: u64,
    /// The largest message one non-blocking send puts into an empty unix
    /// datagram pair.
    pub message_single_send: u64,
    /// Whether `socketpair(AF_UNIX, SOCK_SEQPACKET)` exists here.
    pub seqpacket: bool,
    /// The errno a non-blocking datagram send to a full unix receiver gets
    /// (Linux `EAGAIN`; macOS drops the datagram with `ENOBUFS`, also for
    /// blocking sends).
    pub datagram_full_errno: i32,
    /// The one-page pipe of the `small-pipe` creator (`F_SETPIPE_SZ`),
    /// where the platform has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub small_pipe: Option<SmallPipe>,
    /// The documented platform differences the catalogue allows here (not
    /// measured: read from `spec/rules/*.toml` for this platform).
    #[serde(default)]
    pub allowed: Vec<Allowance>,
}

/// A pipe made small with `fcntl(F_SETPIPE_SZ, page size)`, as measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmallPipe {
    /// The size asked for: one page.
    pub asked: u64,
    /// The capacity `F_SETPIPE_SZ` answered it set.
    pub size: u64,
    /// Bytes one non-blocking write puts into it, empty.
    pub single_write: u64,
    /// Bytes it takes, empty, before even a 1-byte write gets `EAGAIN`.
    pub capacity: u64,
}

/// POSIX's floor for `PIPE_BUF` (`_POSIX_PIPE_BUF`, limits.h): a host may
/// promise more, never less.
pub const POSIX_PIPE_BUF: u64 = 512;

impl Constants {
    /// Measures the constants of this host.
    pub fn measure() -> std::io::Result<Constants> {
        let (r, w) = os::pipe::pipe_cloexec()?;
        let pipe_buf = os::pipe::pipe_buf(r.as_fd())? as u64;
        drop((r, w));
        let (_, single) = os::pipe::measure_single_write(None)?;
        let pipe_capacity = os::pipe::measure_capacity(None)?;
        let page = rustix::param::page_size();
        let small_pipe = match os::pipe::measure_single_write(Some(page)) {
            Ok((size, single_write)) => Some(SmallPipe {
                asked: page as u64,
                size,
                single_write,
                capacity: os::pipe::measure_capacity(Some(page))?,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::Unsupported => None,
            Err(e) => return Err(e),
        };
        use os::socket::{measure_single_send, pair, SocketKind};
        let stream_single_send = measure_single_send(SocketKind::Stream)?;
        let message_single_send = measure_single_send(SocketKind::Dgram)?;
        let seqpacket = pair(SocketKind::Seqpacket).is_ok();
        let datagram_full_errno = os::socket::measure_datagram_full_errno()?;
        Ok(Constants {
            pipe_buf,
            pipe_single_write: single,
            pipe_capacity,
            stream_single_send,
            message_single_send,
            seqpacket,
            datagram_full_errno,
            small_pipe,
            allowed: Platform::current().map(|p| Catalogue::builtin().allowances(p)).unwrap_or_default(),
        })
    }

    /// Whether the catalogue allows this documented difference here.
    pub fn allows(&self, a: Allowance) -> bool {
        self.allowed.contains(&a)
    }

    /// The largest write the pipe model holds to be atomic: the host's
    /// `PIPE_BUF`, but never less than POSIX's floor (a host that reports
    /// less still owes atomicity up to 512 bytes; the report of the
    /// constant itself is judged apart, see [`Constants::pipe_buf_below_floor`]).
    pub fn atomic_pipe_write(&self) -> u64 {
        self.pipe_buf.max(POSIX_PIPE_BUF)
    }

    /// Whether the host's `PIPE_BUF` is below POSIX's floor of 512.
    pub fn pipe_buf_below_floor(&self) -> bool {
        self.pipe_buf < POSIX_PIPE_BUF
    }

    /// The constants of this host, measured once per process.
    pub fn host() -> Result<&'static Constants, String> {
        static HOST: OnceLock<Result<Constants, String>> = OnceLock::new();
        HOST.get_or_init(|| Constants::measure().map_err(|e| format!("measuring platform constants: {e}")))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Linux's documented defaults, for the engine's own tests of the
    /// models (never used to judge the host).
    pub fn linux_example() -> Constants {
        Constants {
            pipe_buf: 4096,
            pipe_single_write: 65536,
            pipe_capacity: 65536,
            stream_single_send: 212992,
            message_single_send: 212992,
            seqpacket: true,
            datagram_full_errno: libc::EAGAIN,
            small_pipe: Some(SmallPipe { asked: 4096, size: 4096, single_write: 4096, capacity: 4096 }),
            allowed: Catalogue::builtin().allowances(Platform::Linux),
        }
    }

    /// macOS's documented values (PLATFORM-NOTES.md, xnu): PIPE_BUF 512, a
    /// pipe that grows on demand to 64 KiB, 8 KiB stream buffers, 2 KiB
    /// datagrams, no SOCK_SEQPACKET pairs, full datagram receivers that
    /// drop with `ENOBUFS`. For the engine's own tests of the models under
    /// macOS expectations, run on any host.
    pub fn macos_example() -> Constants {
        Constants {
            pipe_buf: 512,
            pipe_single_write: 65536,
            pipe_capacity: 65536,
            stream_single_send: 8192,
            message_single_send: 2048,
            seqpacket: false,
            datagram_full_errno: libc::ENOBUFS,
            small_pipe: None,
            allowed: Catalogue::builtin().allowances(Platform::Macos),
        }
    }
}
