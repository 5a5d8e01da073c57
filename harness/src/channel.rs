//! The harness's own channels are IPC too: every actor's control socket
//! (a unix stream pair carrying length-prefixed frames and, with some,
//! descriptors) and its lifeline (a pipe whose write end only the
//! coordinator holds) obey the catalogue's rules. What they show that
//! breaks one is the host's deviation, reported against that rule
//! ([`Stop::Channel`]), never an anonymous harness `error`:
//!
//! | seen | rules |
//! | --- | --- |
//! | end of file on the lifeline while the coordinator holds its write end | `pipe.eof.any-writer-open`, `pipe.read.empty-blocks` |
//! | a blocking read of the lifeline returns `EAGAIN` | `pipe.read.empty-blocks` |
//! | a byte on the lifeline, which nobody writes | `pipe.stream.order` |
//! | a blocking control receive returns `EAGAIN` (either side) | `socket.read.empty-blocks` |
//! | a control frame short, garbled or out of order (either side) | `socket.stream.order` |
//! | end of file on a control socket whose actor is alive | `socket.eof.peer-closed` |
//! | fewer or more descriptors arrive than a frame carried | `socket.rights.fd-passing` |
//!
//! An actor that sees a fault exits with a code that says which
//! ([`crate::os::process::exit`]); the coordinator, seeing it alive,
//! judges it here. [`self_check`] runs the channels once before the first
//! rule.

use crate::case::Stop;
use crate::os::process::exit;
use crate::timing::Timing;
use ipc_conform_spec::ids;
use std::io;

/// The rules an actor's exit code says its channels broke, and what it saw.
pub fn fault_of_exit(code: i32) -> Option<(&'static [&'static str], &'static str)> {
    Some(match code {
        exit::LIFELINE_EOF => (
            &[ids::PIPE_EOF_ANY_WRITER_OPEN, ids::PIPE_READ_EMPTY_BLOCKS],
            "its read of the lifeline, a pipe whose write end the coordinator holds, returned end of file",
        ),
        exit::LIFELINE_EAGAIN => {
            (&[ids::PIPE_READ_EMPTY_BLOCKS], "its blocking read of the empty lifeline pipe returned EAGAIN")
        }
        exit::LIFELINE_STRAY => (&[ids::PIPE_STREAM_ORDER], "its lifeline pipe, which nobody writes, gave it a byte"),
        exit::CONTROL_EAGAIN => {
            (&[ids::SOCKET_READ_EMPTY_BLOCKS], "its blocking receive on the control socket returned EAGAIN")
        }
        exit::CONTROL_GARBLED => (
            &[ids::SOCKET_STREAM_ORDER],
            "a control frame reached it short, garbled or out of order over a unix stream socket",
        ),
        _ => return None,
    })
}

/// How an actor ends after a control receive failed with `err`.
pub fn actor_exit_for(err: &io::Error) -> i32 {
    match err.kind() {
        io::ErrorKind::WouldBlock => exit::CONTROL_EAGAIN,
        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => exit::CONTROL_GARBLED,
        _ => exit::CONTROL_RECV,
    }
}

/// What a coordinator-side receive failure from an actor that is still
/// alive shows: the finding, or `None` when it says nothing about the rules
/// (another error, a harness matter). `None` for `err` means end of file.
pub fn fault_of_recv(actor: &str, err: Option<&io::Error>) -> Option<Stop> {
    let (rule, message) = match err.map(io::Error::kind) {
        None => (
            ids::SOCKET_EOF_PEER_CLOSED,
            format!("end of file on the control socket of {actor}, which is alive and holds the other end"),
        ),
        Some(io::ErrorKind::WouldBlock) => (
            ids::SOCKET_READ_EMPTY_BLOCKS,
            format!("a blocking receive on the control socket of {actor} returned EAGAIN"),
        ),
        Some(io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof) => (
            ids::SOCKET_STREAM_ORDER,
            format!(
                "a control frame from {actor}, which is alive, arrived short, garbled or out of order over a unix \
                 stream socket: {}",
                err.map(|e| e.to_string()).unwrap_or_default()
            ),
        ),
        Some(_) => return None,
    };
    Some(Stop::Channel { rules: vec![rule.to_string()], message })
}

/// Descriptors attached to a control frame and those that arrived.
pub fn check_descriptors(actor: &str, sent: usize, arrived: usize) -> Result<(), Stop> {
    if sent == arrived {
        return Ok(());
    }
    Err(Stop::Channel {
        rules: vec![ids::SOCKET_RIGHTS_FD_PASSING.to_string()],
        message: format!("{sent} descriptor(s) attached to a control frame (SCM_RIGHTS), {arrived} arrived at {actor}"),
    })
}

/// A quick check of the harness's own channels before the first rule: an
/// actor starts (its hello crosses the control socket), takes two
/// descriptors in one frame, answers a write and a read through them, and
/// stays alive on its lifeline. `Err` names the rules the
/// channels break and what was seen, or the harness error.
///
/// Only a finding stops the run: a check that broke otherwise (its actor
/// killed from outside, say) is tried again, up to three times, and then
/// left to the rules' own cases, which report what breaks.
pub fn self_check(timing: Timing) -> Result<(), String> {
    for _ in 0..3 {
        match check(timing) {
            Ok(()) => return Ok(()),
            Err(Stop::Channel { rules, message }) => {
                return Err(format!(
                    "the harness's own channels break {}: {message}; no verdict could be trusted, so the run stops",
                    rules.join(", ")
                ))
            }
            Err(_) => continue,
        }
    }
    Ok(())
}

fn check(timing: Timing) -> Result<(), Stop> {
    use crate::observed::Observed;
    use crate::protocol::{Reply, Request};
    use std::os::fd::AsFd;
    let mut session = crate::session::Session::new(timing);
    let actor = session.spawn()?;
    let (r, w) = {
        let _quiet = crate::os::process::quiet_forks();
        let (r, w) = crate::os::pipe::pipe_cloexec().map_err(|e| Stop::io("pipe", e))?;
        session.hand(actor, &[r.as_fd(), w.as_fd()])?;
        (r, w)
    };
    drop((r, w));
    // A write and a read of 4 KiB through the pipe the actor now holds
    // both ends of (its reply frame is read in two receives at least).
    let len = 4096;
    let wrote = session.call(actor, &Request::Write { slot: 1, len, tag: 0, start: 0, call: Default::default() });
    let wrote = wrote?;
    if !matches!(wrote, Observed::Returned(Reply::Count(n)) if n == u64::from(len)) {
        return Err(Stop::harness(format!("the self-check's write: {wrote:?}")));
    }
    let read = session.call(actor, &Request::Read { slot: 0, max: len, call: Default::default() })?;
    if !matches!(&read, Observed::Returned(Reply::Data(d)) if !d.is_empty()) {
        return Err(Stop::harness(format!("the self-check's read: {read:?}")));
    }
    // The actor now waits in a blocking receive for its next request, its
    // lifeline in a blocking read: a moment for either to show a fault
    // (the actor ends, saying which), then one more round trip.
    session.idle(actor, timing.bounded_wait)?;
    match session.call(actor, &Request::AckOps(false))? {
        Observed::Returned(Reply::Done) => Ok(()),
        other => Err(Stop::harness(format!("the self-check's last request: {other:?}"))),
    }
}
