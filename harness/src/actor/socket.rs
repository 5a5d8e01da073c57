//! How an actor performs `socket` operations.

use super::Actor;
use crate::protocol::socket::SocketOp;
use crate::protocol::Reply;

/// Performs one socket operation.
pub fn perform(_actor: &mut Actor, op: SocketOp) -> Result<Reply, Reply> {
    match op {}
}
