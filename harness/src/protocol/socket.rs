//! Control-channel operations of the `socket` mechanism (see
//! [`crate::actor::socket`] for how an actor performs them).

use serde::{Deserialize, Serialize};

/// One socket operation an actor performs on the coordinator's word.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SocketOp {}
