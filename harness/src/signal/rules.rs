//! The ids of the signal rules (`spec/rules/signal.toml`).

use ipc_conform_spec::ids;

/// kill delivers: a handler runs, SIG_IGN discards, SIGKILL and SIGSTOP
/// cannot be caught, ignored or blocked.
pub const DELIVER: &str = ids::SIGNAL_DELIVER;
/// kill(-pgid) reaches every member of the group and no other process.
pub const GROUP: &str = ids::SIGNAL_GROUP;
/// An unprivileged process cannot signal another user's process.
pub const PERMISSION: &str = ids::SIGNAL_PERMISSION;
/// A standard signal sent several times while blocked is delivered once.
pub const COALESCE: &str = ids::SIGNAL_PENDING_COALESCE;
/// Real-time signals are queued: all delivered, lowest number first, in
/// order within a number, with their values.
pub const REALTIME: &str = ids::SIGNAL_QUEUE_REALTIME;

/// A blocked call interrupted by a caught signal without SA_RESTART
/// fails with EINTR, and nothing is lost.
pub const EINTR: &str = ids::SIGNAL_INTERRUPT_EINTR;
/// With SA_RESTART it resumes; poll still fails with EINTR.
pub const RESTART: &str = ids::SIGNAL_INTERRUPT_RESTART;
/// A write interrupted after transferring some returns that count.
pub const PARTIAL: &str = ids::SIGNAL_INTERRUPT_PARTIAL;

/// Every signal rule id.
pub const ALL: [&str; 8] = [DELIVER, GROUP, PERMISSION, COALESCE, REALTIME, EINTR, RESTART, PARTIAL];
