//! The ids of the file rules, as the catalogue (`spec/rules/file.toml`)
//! spells them.

/// A write is visible to another process once write returns.
pub const VISIBLE: &str = "file.write.visible";
/// Readers of a file replaced by rename see one complete version.
pub const RENAME_ATOMIC: &str = "file.rename.atomic-replace";
/// A rename that must not replace fails with EEXIST.
pub const NOREPLACE: &str = "file.rename.noreplace";
/// Exactly one O_CREAT|O_EXCL racer wins.
pub const CREATE_EXCL: &str = "file.create.exclusive";
/// An exclusive flock excludes; shared ones coexist; unlock wakes a waiter.
pub const FLOCK: &str = "file.lock.flock-exclusive";
/// fcntl record locks exclude on overlap and die with any close.
pub const FCNTL: &str = "file.lock.fcntl-ranges";
/// A lock dies with its holder; a waiter gets it.
pub const DEATH: &str = "file.lock.released-on-death";
/// OFD locks belong to the open file description.
pub const OFD: &str = "file.lock.ofd";
/// O_APPEND writers never overwrite each other.
pub const APPEND: &str = "file.append.atomic";
/// An in-place rewrite can be seen torn (an observation).
pub const TORN: &str = "file.inplace.torn-read";

/// Every file rule id.
pub const ALL: [&str; 10] = [VISIBLE, RENAME_ATOMIC, NOREPLACE, CREATE_EXCL, FLOCK, FCNTL, DEATH, OFD, APPEND, TORN];
