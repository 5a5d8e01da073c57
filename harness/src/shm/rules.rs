//! The ids of the `shm` rules (`spec/rules/shm.toml`).

use ipc_conform_spec::ids;

/// MAP_SHARED mappings of one object see each other's writes.
pub const SHARED_VISIBLE: &str = ids::SHM_SHARED_VISIBLE;
/// MAP_PRIVATE writes reach neither other processes nor the object.
pub const PRIVATE_COW: &str = ids::SHM_PRIVATE_COPY_ON_WRITE;
/// Atomic or locked increments lose no update.
pub const NO_LOST_UPDATES: &str = ids::SHM_SYNC_NO_LOST_UPDATES;
/// Release/acquire publication and an SPSC ring deliver complete data.
pub const PUBLISH: &str = ids::SHM_SYNC_PUBLISH;
/// A waiter blocks until another process posts, then wakes.
pub const WAIT_WAKE: &str = ids::SHM_SYNC_WAIT_WAKE;
/// After unlink, mappings stay valid and the name is gone.
pub const NAME_LIFETIME: &str = ids::SHM_NAME_LIFETIME;
/// A 0600 object cannot be opened for writing by another uid.
pub const PERMISSIONS: &str = ids::SHM_PERMISSIONS;
/// write()/read() and MAP_SHARED mappings of a file agree.
pub const FILE_COHERENCE: &str = ids::SHM_FILE_COHERENCE;

/// Every shm rule id.
pub const SHM: [&str; 8] =
    [SHARED_VISIBLE, PRIVATE_COW, NO_LOST_UPDATES, PUBLISH, WAIT_WAKE, NAME_LIFETIME, PERMISSIONS, FILE_COHERENCE];
/// A process-shared mutex in shared memory excludes across processes.
pub const PSHARED_MUTEX: &str = ids::SHM_PSHARED_MUTEX;
/// A robust mutex whose owner died is handed on with EOWNERDEAD.
pub const PSHARED_ROBUST: &str = ids::SHM_PSHARED_ROBUST;
/// A process-shared condition variable wakes a waiter in another process.
pub const PSHARED_CONDVAR: &str = ids::SHM_PSHARED_CONDVAR;
/// A named semaphore counts posts across processes.
pub const SEMAPHORE_NAMED: &str = ids::SHM_SEMAPHORE_NAMED;
