//! Control-channel operations of the `shm` mechanism (see
//! [`crate::actor::shm`] for how an actor performs them).

use serde::{Deserialize, Serialize};

/// One shm operation an actor performs on the coordinator's word.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShmOp {}
