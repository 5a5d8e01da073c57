//! Control-channel operations of the `file` mechanism (see
//! [`crate::actor::file`] for how an actor performs them).

use serde::{Deserialize, Serialize};

/// One file operation an actor performs on the coordinator's word.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileOp {}
