//! The ids of the `process` rules (`spec/rules/process.toml`).

use ipc_conform_spec::ids;

/// A write to ordinary memory after fork is not seen by the other process.
pub const MEMORY_PRIVATE: &str = ids::PROCESS_MEMORY_PRIVATE;
/// Another user's process memory cannot be read or written.
pub const NO_FOREIGN_ACCESS: &str = ids::PROCESS_MEMORY_NO_FOREIGN_ACCESS;
/// Descriptors without close-on-exec are inherited and share the offset.
pub const FD_INHERITED: &str = ids::PROCESS_FD_INHERITED;

/// waitpid reports each child's end exactly, once.
pub const WAIT_STATUS: &str = ids::PROCESS_WAIT_STATUS;

/// SIGCHLD is sent, zombies stay until reaped, SIG_IGN keeps none.
pub const SIGCHLD: &str = ids::PROCESS_SIGCHLD;

/// A pidfd becomes readable when its process ends.
pub const PIDFD_EXIT: &str = ids::PROCESS_PIDFD_EXIT;

/// waitpid with WUNTRACED and WCONTINUED reports stops and continues.
pub const STOP_CONTINUE: &str = ids::PROCESS_WAIT_STOP_CONTINUE;

/// An orphan is re-parented (to the subreaper where one is set).
pub const ORPHAN_REPARENT: &str = ids::PROCESS_ORPHAN_REPARENT;

/// Every process rule id.
pub const ALL: [&str; 8] =
    [MEMORY_PRIVATE, NO_FOREIGN_ACCESS, FD_INHERITED, WAIT_STATUS, STOP_CONTINUE, ORPHAN_REPARENT, SIGCHLD, PIDFD_EXIT];
