//! Nothing outlives a run, also an interrupted one. Everything a run
//! creates outside its own memory is registered here while it exists:
//! actor process groups, scratch directories, shared-memory and queue
//! names, System V objects. Normal
//! teardown (drop guards) unregisters it; on SIGINT, SIGTERM or SIGHUP the
//! handler installed by [`install_signal_handlers`] kills the groups and
//! removes the rest before the process exits (actors also end by their
//! lifeline when the coordinator is gone).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock, RwLockReadGuard};

static GROUPS: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

/// Creations (of scratch directories, shared-memory objects, actors) hold
/// this shared while they create and register; the emergency clean-up
/// takes it exclusively and never lets go, so nothing is created behind
/// its back while the process exits.
static TEARDOWN: RwLock<()> = RwLock::new(());

/// Held while creating something that must be cleaned up (blocks for good
/// once an emergency clean-up has begun: the process is about to exit).
pub fn creating() -> RwLockReadGuard<'static, ()> {
    TEARDOWN.read().unwrap_or_else(|e| e.into_inner())
}
static DIRS: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

fn lock<T>(m: &'static Mutex<T>) -> std::sync::MutexGuard<'static, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A process group started by this run (an actor, a shell pipeline).
pub fn register_group(pgid: i32) {
    lock(&GROUPS).insert(pgid);
}

/// The group is gone (reaped).
pub fn unregister_group(pgid: i32) {
    lock(&GROUPS).remove(&pgid);
}

/// A scratch directory of this run.
pub fn register_dir(path: &Path) {
    lock(&DIRS).insert(path.to_path_buf());
}

/// Removes a scratch directory of this run and takes it off the list,
/// both under the clean-up's guard: an emergency clean-up either waits for
/// both or finds the directory still listed and removes it itself. (Taken
/// off the list first and removed after, an interruption in between left
/// the directory behind: CI saw it once.)
pub fn remove_dir(path: &Path) {
    let _removing = creating();
    let _ = std::fs::remove_dir_all(path);
    lock(&DIRS).remove(path);
}

/// Whether `path` is on the list of directories an emergency removes.
pub fn dir_registered(path: &Path) -> bool {
    lock(&DIRS).contains(path)
}

/// Takes the clean-up's guard exclusively, as [`emergency`] does, but
/// gives it back when dropped (tests of the guard's discipline).
#[cfg(test)]
pub(crate) fn hold_teardown() -> std::sync::RwLockWriteGuard<'static, ()> {
    TEARDOWN.write().unwrap_or_else(|e| e.into_inner())
}

/// Kills every registered process group and removes every registered
/// directory and shared-memory name, now, and says what it did.
pub fn emergency() -> String {
    // No creation from here on: wait for those in flight, then keep the
    // lock until the process is gone.
    std::mem::forget(TEARDOWN.write().unwrap_or_else(|e| e.into_inner()));
    let groups = lock(&GROUPS);
    for pgid in groups.iter() {
        let _ = crate::os::process::kill_group(*pgid, nix::sys::signal::Signal::SIGKILL);
    }
    let dirs = lock(&DIRS);
    for dir in dirs.iter() {
        let _ = std::fs::remove_dir_all(dir);
    }
    let queues = crate::sysv::key::remove_all_issued();
    let names = crate::shm::name::remove_all_issued();
    format!(
        "{} process group(s) killed, {} scratch directory(ies) removed, {queues} System V object(s) removed, {names} {SHM_NAMES_ISSUED}",
        groups.len(),
        dirs.len()
    )
}

/// How [`emergency`]'s summary ends: "N shared-memory and message-queue
/// names issued, each removed" (the interruption tests check every one of
/// them).
pub const SHM_NAMES_ISSUED: &str = "shared-memory and message-queue name(s) issued, each removed";

/// Installs the handler: on SIGINT, SIGTERM or SIGHUP, [`emergency`]
/// clean-up, then exit with 128 + the signal's number. Call once, early,
/// in a coordinator's `main`.
pub fn install_signal_handlers() -> std::io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::Builder::new().name("ipc-conform-signals".into()).spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let done = emergency();
            eprintln!("\nipc-conform: interrupted by {}; cleaned up: {done}", crate::os::signal_name(signal));
            std::process::exit(128 + signal);
        }
    })?;
    Ok(())
}
