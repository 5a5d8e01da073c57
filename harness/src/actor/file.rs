//! How an actor performs `file` operations.

use super::Actor;
use crate::protocol::file::FileOp;
use crate::protocol::Reply;

/// Performs one file operation.
pub fn perform(_actor: &mut Actor, op: FileOp) -> Result<Reply, Reply> {
    match op {}
}
