//! Requests for the C library's process-shared synchronization
//! ([`crate::shm::pshared`]): a mutex and a condition variable in a page
//! of a shared-memory object each actor maps, and named semaphores.

use serde::{Deserialize, Serialize};

/// A process-shared synchronization operation of an actor. `map` numbers
/// the actor's mappings (as `Attach` replied); `sem` its open semaphores.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PsharedOp {
    /// `shm_open(name)` and map its first page shared; reply `Values([map])`.
    Attach { name: String },
    /// Initialize the page's mutex (robust if asked) and condition
    /// variable, process-shared; reply `Done` or `Errno`.
    Init { map: u32, robust: bool },
    /// `pthread_mutex_lock`; reply `Values([return code])`.
    Lock { map: u32 },
    /// `pthread_mutex_trylock`; reply `Values([return code])`.
    Trylock { map: u32 },
    /// `pthread_mutex_unlock`; reply `Values([return code])`.
    Unlock { map: u32 },
    /// `pthread_mutex_consistent`; reply `Values([return code])`.
    Consistent { map: u32 },
    /// `rounds` increments of the page's counter under the mutex; reply
    /// `Values([first failing return code, or 0])`.
    Hammer { map: u32, rounds: u32 },
    /// The page's counter; reply `Values([counter])`.
    Counter { map: u32 },
    /// Wait on the condition variable until the flag differs from `seen`;
    /// reply `Values([flag])` or `Errno`.
    WaitFlag { map: u32, seen: u64 },
    /// Add one to the flag and signal (or broadcast); reply `Values([flag])`.
    RaiseFlag { map: u32, broadcast: bool },
    /// `sem_open` (creating it, exclusively, with `value`, or opening it);
    /// reply `Values([sem])` or `Errno`.
    SemOpen { name: String, create: bool, value: u32 },
    /// `sem_wait`; reply `Done` or `Errno`.
    SemWait { sem: u32 },
    /// `sem_trywait`; reply `Values([1 taken, 0 EAGAIN])` or `Errno`.
    SemTrywait { sem: u32 },
    /// `sem_post`; reply `Done` or `Errno`.
    SemPost { sem: u32 },
    /// `sem_unlink(name)`; reply `Done` or `Errno`.
    SemUnlink { name: String },
}
