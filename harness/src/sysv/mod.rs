//! System V IPC (`spec/rules/sysv.toml`): objects named by a key and kept
//! by the kernel until removed.
//!
//! - [`key`]: the run's keys, and the guards that remove its objects;
//! - [`msg`]: message queues (`sysv.msg.type-selection`): the case, its
//!   model, its executor;
//! - [`shm`]: shared-memory segments (`sysv.shm.lifetime`).

pub mod key;
pub mod msg;
pub mod sem;
pub mod shm;

/// The ids of the System V rules (`spec/rules/sysv.toml`).
pub mod rules {
    use ipc_conform_spec::ids;

    /// msgrcv selects by type, and blocks while none matches.
    pub const MSG_TYPES: &str = ids::SYSV_MSG_TYPE_SELECTION;
    /// IPC_RMID frees the key at once, the segment at the last detach.
    pub const SHM_LIFETIME: &str = ids::SYSV_SHM_LIFETIME;
    /// A semop applies all its changes or none, and blocks until all can.
    pub const SEM_ATOMIC: &str = ids::SYSV_SEM_ATOMIC;
    /// SEM_UNDO changes are reverted when the process ends.
    pub const SEM_UNDO: &str = ids::SYSV_SEM_UNDO;
}
