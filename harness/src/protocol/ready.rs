//! Readiness requests ([`crate::ready`]): probes with a zero timeout, and
//! a registration that persists between asks.

use crate::os::ready::{Interest, Interface, Interfaces};
use serde::{Deserialize, Serialize};

/// A readiness operation of an actor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReadyOp {
    /// Ask each interface of `with`, back to back and with a zero timeout,
    /// about the descriptor in `slot` for `interest`; reply
    /// [`crate::protocol::Reply::Values`], one
    /// [`crate::os::ready::Readiness::to_bits`] per interface, in order.
    Probe { slot: u32, with: Interfaces, interest: Interest },
    /// Register the descriptor in `slot` with `how` for read interest,
    /// edge-triggered or not, in place of any earlier registration; reply
    /// `Done`.
    Arm { slot: u32, how: Interface, edge: bool },
    /// Ask the registration, with a zero timeout; reply `Values` with the
    /// answer's bits, or empty when it reported nothing.
    Harvest,
    /// Wait through `how`, without a timeout, until the descriptor in
    /// `slot` is ready for `interest`; reply `Values` with the answer's
    /// bits. The one readiness operation that blocks.
    Wait { slot: u32, how: Interface, interest: Interest },
}
