//! The thin OS layer: one module per kernel subsystem, each a set of typed
//! wrappers that name the system call they make and its man page.
//!
//! This is the only place in the project where `cfg(target_os)` may appear:
//! properties and models describe platform differences as data (the rule
//! catalogue and the measured [`crate::constants::Constants`]).

pub mod cloexec;
pub mod deviant;
pub mod entry;
pub mod eventfd;
pub mod fd;
pub mod file;
pub mod forkserver;
pub mod interface;
pub mod io;
pub mod memfd;
pub mod mqueue;
pub mod pipe;
pub mod proc;
pub mod process;
pub mod pshared;
pub mod ready;
pub mod reset;
pub mod shm;
pub mod signal;
pub mod socket;
pub mod supervise;
pub mod sysv;

/// The `errno` of an I/O error, or `EIO` when the error carries none.
pub fn errno_of(err: &std::io::Error) -> i32 {
    err.raw_os_error().unwrap_or(libc::EIO)
}

/// The symbolic name of an errno value (`EPIPE`), for messages people read.
pub fn errno_name(errno: i32) -> String {
    let name = match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::ENXIO => "ENXIO",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::EACCES => "EACCES",
        libc::EEXIST => "EEXIST",
        libc::EDEADLK => "EDEADLK",
        libc::EINVAL => "EINVAL",
        libc::EPIPE => "EPIPE",
        libc::ENOSPC => "ENOSPC",
        libc::ESPIPE => "ESPIPE",
        libc::ECONNRESET => "ECONNRESET",
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::ENOTCONN => "ENOTCONN",
        libc::ENOBUFS => "ENOBUFS",
        libc::EPROTONOSUPPORT => "EPROTONOSUPPORT",
        libc::ENOSYS => "ENOSYS",
        _ => return format!("errno {errno}"),
    };
    name.to_string()
}

/// The symbolic name of a signal number (`SIGPIPE`).
pub fn signal_name(signal: i32) -> String {
    match nix::sys::signal::Signal::try_from(signal) {
        Ok(sig) => sig.as_str().to_string(),
        Err(_) => format!("signal {signal}"),
    }
}
