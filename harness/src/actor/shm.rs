//! How an actor performs `shm` operations.

use super::Actor;
use crate::protocol::shm::ShmOp;
use crate::protocol::Reply;

/// Performs one shm operation.
pub fn perform(_actor: &mut Actor, op: ShmOp) -> Result<Reply, Reply> {
    match op {}
}
