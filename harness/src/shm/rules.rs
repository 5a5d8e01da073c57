//! The ids of the `shm` and `process` rules, as the catalogue
//! (`spec/rules/shm.toml`, `spec/rules/process.toml`) spells them.

/// A write to ordinary memory after fork is not seen by the other process.
pub const MEMORY_PRIVATE: &str = "process.memory.private";
/// Another user's process memory cannot be read or written.
pub const NO_FOREIGN_ACCESS: &str = "process.memory.no-foreign-access";
/// Descriptors without close-on-exec are inherited and share the offset.
pub const FD_INHERITED: &str = "process.fd.inherited";
/// MAP_SHARED mappings of one object see each other's writes.
pub const SHARED_VISIBLE: &str = "shm.shared.visible";
/// MAP_PRIVATE writes reach neither other processes nor the object.
pub const PRIVATE_COW: &str = "shm.private.copy-on-write";
/// Atomic or locked increments lose no update.
pub const NO_LOST_UPDATES: &str = "shm.sync.no-lost-updates";
/// Release/acquire publication and an SPSC ring deliver complete data.
pub const PUBLISH: &str = "shm.sync.publish";
/// A waiter blocks until another process posts, then wakes.
pub const WAIT_WAKE: &str = "shm.sync.wait-wake";
/// After unlink, mappings stay valid and the name is gone.
pub const NAME_LIFETIME: &str = "shm.name.lifetime";
/// A 0600 object cannot be opened for writing by another uid.
pub const PERMISSIONS: &str = "shm.permissions";
/// write()/read() and MAP_SHARED mappings of a file agree.
pub const FILE_COHERENCE: &str = "shm.file.coherence";

/// Every process rule id.
pub const PROCESS: [&str; 3] = [MEMORY_PRIVATE, NO_FOREIGN_ACCESS, FD_INHERITED];

/// Every shm rule id.
pub const SHM: [&str; 8] =
    [SHARED_VISIBLE, PRIVATE_COW, NO_LOST_UPDATES, PUBLISH, WAIT_WAKE, NAME_LIFETIME, PERMISSIONS, FILE_COHERENCE];
