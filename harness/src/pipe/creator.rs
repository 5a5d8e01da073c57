//! The objects a pipe case runs over, after gVisor's `PipeCreator`s: every
//! model-checked pipe rule holds for a pipe however it was made and however
//! its ends were made non-blocking, so each case draws its creator from
//! those the catalogue lists for the rule on this platform (its
//! `entry_points`; a platform without one says so in its expectation's
//! `lacks`).
//!
//! | creator | made by | `O_NONBLOCK` set |
//! | --- | --- | --- |
//! | `pipe` | `pipe(2)`, close-on-exec by `fcntl(F_SETFD)` | by `fcntl(F_SETFL)` |
//! | `pipe2` | `pipe2(O_CLOEXEC \| O_NONBLOCK)` when an end is non-blocking | at creation; cleared by `fcntl` on an end that blocks |
//! | `fifo` | `mkfifo(3)`, then both ends by blocking `open(2)`s that meet | by `fcntl(F_SETFL)` |
//! | `fifo-nonblocking` | `mkfifo(3)`, the read end by `open(O_RDONLY \| O_NONBLOCK)`, then the write end | at `open`; cleared by `fcntl` on an end that blocks |
//! | `small-pipe` | `pipe2(O_CLOEXEC)` and `fcntl(F_SETPIPE_SZ, page size)` | by `fcntl(F_SETFL)` |
//!
//! The FIFO's name is unlinked as soon as both ends are open, so nothing
//! is left behind.

use super::schedule::Setup;
use crate::case::Stop;
use crate::os;
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::os::fd::{AsFd, OwnedFd};

/// How a case's pipe is made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Creator {
    /// `pipe(2)`.
    #[default]
    Pipe,
    /// `pipe2(2)` with its flags.
    Pipe2,
    /// A FIFO whose ends were opened by blocking `open(2)`s.
    Fifo,
    /// A FIFO whose ends were opened with `O_NONBLOCK`.
    FifoNonblocking,
    /// A one-page pipe (`F_SETPIPE_SZ`).
    SmallPipe,
}

impl Creator {
    /// Every creator, `pipe` first (what shrinking leaves).
    pub const ALL: &'static [Creator] =
        &[Creator::Pipe, Creator::Pipe2, Creator::Fifo, Creator::FifoNonblocking, Creator::SmallPipe];

    /// Its name in the catalogue's `entry_points` and the report.
    pub fn name(self) -> &'static str {
        match self {
            Creator::Pipe => "pipe",
            Creator::Pipe2 => "pipe2",
            Creator::Fifo => "fifo",
            Creator::FifoNonblocking => "fifo-nonblocking",
            Creator::SmallPipe => "small-pipe",
        }
    }

    /// The creator of that name.
    pub fn from_name(name: &str) -> Option<Creator> {
        Creator::ALL.iter().copied().find(|c| c.name() == name)
    }

    /// The creators among `entry_points` (names), in [`Creator::ALL`]'s
    /// order; `pipe` alone if none is named.
    pub fn among<S: AsRef<str>>(entry_points: &[S]) -> Vec<Creator> {
        let named = os::entry::named_among(Creator::ALL, Creator::name, entry_points);
        if named.is_empty() {
            vec![Creator::Pipe]
        } else {
            named
        }
    }

    /// Whether its ends belong to a named FIFO.
    pub fn is_fifo(self) -> bool {
        matches!(self, Creator::Fifo | Creator::FifoNonblocking)
    }
}

impl fmt::Display for Creator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Creator::Pipe => "pipe() + fcntl",
            Creator::Pipe2 => "pipe2(O_CLOEXEC[|O_NONBLOCK])",
            Creator::Fifo => "a FIFO opened by blocking open()s",
            Creator::FifoNonblocking => "a FIFO opened with O_NONBLOCK",
            Creator::SmallPipe => "a one-page pipe (F_SETPIPE_SZ)",
        })
    }
}

/// Makes the pipe of `setup` (read end, write end), both close-on-exec,
/// each end non-blocking as the setup asks. The caller holds the fork
/// permit ([`os::process::quiet_forks`]).
///
/// With [`Setup::one_page`] the pipe is then resized to one page
/// (`fcntl(F_SETPIPE_SZ)`), whatever made it.
pub fn create(setup: &Setup, timing: Timing) -> Result<[OwnedFd; 2], Stop> {
    let [r, w] = make(setup, timing)?;
    if setup.resized() {
        let page = rustix::param::page_size();
        os::pipe::set_pipe_size(w.as_fd(), page).map_err(|e| Stop::io("fcntl(F_SETPIPE_SZ)", e))?;
    }
    Ok([r, w])
}

/// The pipe as its creator makes it.
fn make(setup: &Setup, timing: Timing) -> Result<[OwnedFd; 2], Stop> {
    let (nonblock_read, nonblock_write) = (setup.nonblock_read, setup.nonblock_write);
    let fcntl =
        |fd: &OwnedFd, on: bool| os::fd::set_nonblocking(fd.as_fd(), on).map_err(|e| Stop::io("fcntl(F_SETFL)", e));
    let (r, w) = match setup.creator {
        Creator::Pipe => {
            let (r, w) = os::pipe::pipe_plain().map_err(|e| Stop::io("pipe", e))?;
            for end in [&r, &w] {
                os::fd::set_cloexec(end.as_fd(), true).map_err(|e| Stop::io("fcntl(F_SETFD)", e))?;
            }
            (r, w)
        }
        Creator::Pipe2 => {
            let (r, w) = os::pipe::pipe2(nonblock_read || nonblock_write).map_err(|e| Stop::io("pipe2", e))?;
            if nonblock_read != nonblock_write {
                fcntl(if nonblock_read { &w } else { &r }, false)?;
            }
            return Ok([r, w]);
        }
        Creator::SmallPipe => {
            let (r, w) = os::pipe::pipe2(false).map_err(|e| Stop::io("pipe2", e))?;
            let page = rustix::param::page_size();
            os::pipe::set_pipe_size(w.as_fd(), page).map_err(|e| Stop::io("fcntl(F_SETPIPE_SZ)", e))?;
            (r, w)
        }
        Creator::Fifo => open_fifo_blocking(timing)?,
        Creator::FifoNonblocking => {
            let scratch = crate::scratch::Scratch::new().map_err(|e| Stop::io("a scratch directory", e))?;
            let path = scratch.path().join("fifo");
            os::pipe::mkfifo(&path).map_err(|e| Stop::io("mkfifo", e))?;
            let r = os::pipe::open_fifo(&path, false, true).map_err(|e| Stop::io("open(O_RDONLY|O_NONBLOCK)", e))?;
            let w = os::pipe::open_fifo(&path, true, nonblock_write).map_err(|e| Stop::io("open(O_WRONLY)", e))?;
            if !nonblock_read {
                fcntl(&r, false)?;
            }
            return Ok([r, w]);
        }
    };
    // Made blocking: O_NONBLOCK only where the setup asks for it.
    for (end, on) in [(&r, nonblock_read), (&w, nonblock_write)] {
        if on {
            fcntl(end, true)?;
        }
    }
    Ok([r, w])
}

/// Both ends of a fresh FIFO by blocking opens, the write end's in a thread
/// of its own: each open returns once the other side has opened
/// (fifo(7)). If they do not meet within the liveness deadline, that is
/// `pipe.fifo.open-rendezvous`'s finding, and an `O_RDWR` open releases
/// the waiting thread.
fn open_fifo_blocking(timing: Timing) -> Result<(OwnedFd, OwnedFd), Stop> {
    let scratch = crate::scratch::Scratch::new().map_err(|e| Stop::io("a scratch directory", e))?;
    let path = scratch.path().join("fifo");
    os::pipe::mkfifo(&path).map_err(|e| Stop::io("mkfifo", e))?;
    let (tx, rx) = std::sync::mpsc::channel();
    let writer_path = path.clone();
    let writer = std::thread::spawn(move || {
        let _ = tx.send(os::pipe::open_fifo(&writer_path, true, false));
    });
    let (rtx, rrx) = std::sync::mpsc::channel();
    let reader_path = path.clone();
    let reader = std::thread::spawn(move || {
        let _ = rtx.send(os::pipe::open_fifo(&reader_path, false, false));
    });
    let deadline = timing.deadline;
    let until = std::time::Instant::now() + deadline;
    let r = rrx.recv_timeout(deadline);
    let w = rx.recv_timeout(until.saturating_duration_since(std::time::Instant::now()));
    let (r, w) = match (r, w) {
        (Ok(r), Ok(w)) => (r, w),
        (r, w) => {
            // Release whichever open still waits, then say what was seen.
            let release = os::pipe::open_fifo_rdwr(&path);
            let _ = (reader.join(), writer.join());
            drop(release);
            return Err(Stop::hung(
                Some(ipc_conform_spec::ids::PIPE_FIFO_OPEN_RENDEZVOUS),
                format!(
                    "blocking opens of a FIFO for reading and for writing, made at the same time, did not both \
                     return within {deadline:?} (read end {}, write end {})",
                    if r.is_ok() { "opened" } else { "still waiting" },
                    if w.is_ok() { "opened" } else { "still waiting" }
                ),
            ));
        }
    };
    let _ = (reader.join(), writer.join());
    let r = r.map_err(|e| Stop::io("open(FIFO, O_RDONLY)", e))?;
    let w = w.map_err(|e| Stop::io("open(FIFO, O_WRONLY)", e))?;
    Ok((r, w))
}
