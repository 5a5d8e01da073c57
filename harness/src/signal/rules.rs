//! The ids of the signal rules (`spec/rules/signal.toml`).

use ipc_conform_spec::ids;

/// A standard signal sent several times while blocked is delivered once.
pub const COALESCE: &str = ids::SIGNAL_PENDING_COALESCE;
/// Real-time signals are queued: all delivered, lowest number first, in
/// order within a number, with their values.
pub const REALTIME: &str = ids::SIGNAL_QUEUE_REALTIME;

/// Every signal rule id.
pub const ALL: [&str; 2] = [COALESCE, REALTIME];
