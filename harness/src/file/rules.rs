//! The ids of the file rules, as the catalogue (`spec/rules/file.toml`)
//! spells them.

use ipc_conform_spec::ids;

/// A write is visible to another process once write returns.
pub const VISIBLE: &str = ids::FILE_WRITE_VISIBLE;
/// Readers of a file replaced by rename see one complete version.
pub const RENAME_ATOMIC: &str = ids::FILE_RENAME_ATOMIC_REPLACE;
/// A rename that must not replace fails with EEXIST.
pub const NOREPLACE: &str = ids::FILE_RENAME_NOREPLACE;
/// Exactly one O_CREAT|O_EXCL racer wins.
pub const CREATE_EXCL: &str = ids::FILE_CREATE_EXCLUSIVE;
/// An exclusive flock excludes; shared ones coexist; unlock wakes a waiter.
pub const FLOCK: &str = ids::FILE_LOCK_FLOCK_EXCLUSIVE;
/// fcntl record locks exclude on overlap and die with any close.
pub const FCNTL: &str = ids::FILE_LOCK_FCNTL_RANGES;
/// A lock dies with its holder; a waiter gets it.
pub const DEATH: &str = ids::FILE_LOCK_RELEASED_ON_DEATH;
/// OFD locks belong to the open file description.
pub const OFD: &str = ids::FILE_LOCK_OFD;
/// O_APPEND writers never overwrite each other.
pub const APPEND: &str = ids::FILE_APPEND_ATOMIC;
/// An in-place rewrite can be seen torn (an observation).
pub const TORN: &str = ids::FILE_INPLACE_TORN_READ;

/// Every file rule id.
pub const ALL: [&str; 10] = [VISIBLE, RENAME_ATOMIC, NOREPLACE, CREATE_EXCL, FLOCK, FCNTL, DEATH, OFD, APPEND, TORN];
