//! Signal dispositions: `sigaction(2)`, signal(7).

use std::io;

pub use nix::sys::signal::Signal;

/// How a process treats `SIGPIPE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SigpipeDisposition {
    /// `SIG_DFL`: the process is ended by the signal.
    Default,
    /// `SIG_IGN`: the write fails with `EPIPE` instead.
    Ignore,
}

/// Sets the calling process's `SIGPIPE` disposition (`sigaction(2)`).
///
/// Rust's runtime sets `SIGPIPE` to ignored before `main` in every Rust
/// process, actors included: an actor that must die by `SIGPIPE` calls this
/// with [`SigpipeDisposition::Default`] itself.
pub fn set_sigpipe(disposition: SigpipeDisposition) -> io::Result<()> {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let handler = match disposition {
        SigpipeDisposition::Default if super::deviant::is(super::deviant::Deviation::SigpipeSuppressed) => {
            SigHandler::SigIgn
        }
        SigpipeDisposition::Default => SigHandler::SigDfl,
        SigpipeDisposition::Ignore => SigHandler::SigIgn,
    };
    let action = SigAction::new(handler, SaFlags::empty(), SigSet::empty());
    // SAFETY: SIG_DFL and SIG_IGN install no handler code.
    unsafe { sigaction(Signal::SIGPIPE, &action) }.map(|_| ()).map_err(io::Error::from)
}

/// Signals whose default action ends a process without a core dump and
/// that the harness's actors never catch or ignore: those a supervised
/// child may be ended by (`process.wait.status`).
pub const ENDING_SIGNALS: [i32; 7] =
    [libc::SIGTERM, libc::SIGKILL, libc::SIGUSR1, libc::SIGUSR2, libc::SIGHUP, libc::SIGINT, libc::SIGALRM];
