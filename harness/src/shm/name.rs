//! Unique, short names for shared-memory objects (and, where waiting uses
//! them, named semaphores), removed when the guard drops, also after a
//! failing case.

use crate::os::shm::{remove_name, MAX_NAME_LEN};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

/// Every name this process has handed out, for [`leftovers`].
static ISSUED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The prefix of every name the harness creates (`/dev/shm/ipcc-*` on
/// Linux), so that leak checks can find them.
pub const PREFIX: &str = "/ipcc-";

/// A name in use by one case; removes the object(s) of that name on drop.
#[derive(Debug)]
pub struct ShmName {
    name: String,
}

impl ShmName {
    /// A fresh name: `/ipcc-<pid>-<n>`, at most 31 characters.
    pub fn fresh() -> ShmName {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("{PREFIX}{}-{n}", std::process::id());
        debug_assert!(name.len() <= MAX_NAME_LEN);
        ISSUED.lock().unwrap_or_else(|e| e.into_inner()).push(name.clone());
        ShmName { name }
    }

    /// The name, with its leading slash.
    pub fn as_str(&self) -> &str {
        &self.name
    }
}

impl Drop for ShmName {
    fn drop(&mut self) {
        remove_name(&self.name);
    }
}

/// Removes every name this process handed out (for an interrupted run;
/// names already removed are skipped).
pub fn remove_all_issued() {
    let issued = ISSUED.lock().unwrap_or_else(|e| e.into_inner()).clone();
    for name in issued {
        remove_name(&name);
    }
}

/// The names of this process's objects still present: every name handed
/// out that `shm_open(3)` still finds (on every platform), and any entry of
/// this process under `/dev/shm` (where that directory exists, semaphores
/// included).
pub fn leftovers() -> Vec<String> {
    let issued = ISSUED.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut left: Vec<String> = issued
        .iter()
        .filter(|n| crate::os::shm::shm_open(n, false, false, 0).is_ok())
        .map(|n| n[1..].to_string())
        .collect();
    let prefix = format!("{}{}-", &PREFIX[1..], std::process::id());
    if let Ok(dir) = std::fs::read_dir("/dev/shm") {
        for name in dir.filter_map(|e| e.ok()?.file_name().into_string().ok()) {
            if (name.starts_with(&prefix) || name.starts_with(&format!("sem.{prefix}"))) && !left.contains(&name) {
                left.push(name);
            }
        }
    }
    left
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_short_and_removed_on_drop() {
        let a = ShmName::fresh();
        let b = ShmName::fresh();
        assert_ne!(a.as_str(), b.as_str());
        assert!(a.as_str().len() <= MAX_NAME_LEN && a.as_str().starts_with(PREFIX));
        let fd = crate::os::shm::shm_open(a.as_str(), true, true, 0o600).unwrap();
        drop(fd);
        assert!(crate::os::shm::shm_open(a.as_str(), false, false, 0).is_ok());
        assert!(leftovers().contains(&a.as_str()[1..].to_string()), "{:?}", leftovers());
        let name = a.as_str().to_string();
        drop(a);
        let e = crate::os::shm::shm_open(&name, false, false, 0).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
        assert!(!leftovers().contains(&name[1..].to_string()));
    }
}
