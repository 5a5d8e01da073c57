//! Unique, short names for shared-memory objects (and, where waiting uses
//! them, named semaphores) and message queues, removed when the guard
//! drops, also after a failing case. One series of names serves every
//! kind: a name is removed, and looked for by the leak checks, in each
//! namespace (shared memory, message queues), so that none is missed
//! whichever kind a case made of it.

use crate::os::shm::{remove_name, MAX_NAME_LEN};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

/// Every name this process has handed out, for [`leftovers`].
static ISSUED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// How many names this process has handed out (the next name's number).
static NEXT: AtomicU32 = AtomicU32::new(0);

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
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = issued_name(std::process::id(), n);
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
        remove_everywhere(&self.name);
    }
}

/// Removes `name` in every namespace it may have been used in.
fn remove_everywhere(name: &str) {
    remove_name(name);
    crate::os::mqueue::remove_name(name);
    crate::os::pshared::unlink(name);
}

/// How a name still present is reported: the shared-memory object's name
/// without its slash (as `/dev/shm` lists it), a queue's with `mqueue:`.
fn present(name: &str) -> Vec<String> {
    let mut found = Vec::new();
    if crate::os::shm::name_present(name) {
        found.push(name[1..].to_string());
    }
    if crate::os::mqueue::name_present(name) {
        found.push(format!("mqueue:{}", &name[1..]));
    }
    if crate::os::pshared::present(name) {
        found.push(format!("sem.{}", &name[1..]));
    }
    found
}

/// The `n`-th name process `pid` hands out.
pub fn issued_name(pid: u32, n: u32) -> String {
    format!("{PREFIX}{pid}-{n}")
}

/// Removes every name this process handed out (for an interrupted run;
/// names already removed are skipped), and says how many it handed out.
pub fn remove_all_issued() -> u32 {
    let issued = ISSUED.lock().unwrap_or_else(|e| e.into_inner()).clone();
    for name in &issued {
        remove_everywhere(name);
    }
    issued.len() as u32
}

/// The names of process `pid` still present, of the first `issued` it
/// handed out, found by opening each ([`crate::os::shm::name_present`]),
/// which works on every platform; for another process's leftovers (the
/// interruption tests read `issued` from the run's last words).
pub fn leftovers_of(pid: u32, issued: u32) -> Vec<String> {
    (0..issued).flat_map(|n| present(&issued_name(pid, n))).collect()
}

/// The names of this process's objects still present: every name handed
/// out that is still there ([`crate::os::shm::name_present`], on every
/// platform), and any entry of
/// this process under `/dev/shm` (where that directory exists, semaphores
/// included) and under `/dev/mqueue` (where message queues are mounted).
pub fn leftovers() -> Vec<String> {
    let issued = ISSUED.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut left: Vec<String> = issued.iter().flat_map(|n| present(n)).collect();
    let prefix = format!("{}{}-", &PREFIX[1..], std::process::id());
    if let Ok(dir) = std::fs::read_dir("/dev/shm") {
        for name in dir.filter_map(|e| e.ok()?.file_name().into_string().ok()) {
            if (name.starts_with(&prefix) || name.starts_with(&format!("sem.{prefix}"))) && !left.contains(&name) {
                left.push(name);
            }
        }
    }
    // Linux lists message queues where their file system is mounted.
    if let Ok(dir) = std::fs::read_dir("/dev/mqueue") {
        for name in dir.filter_map(|e| e.ok()?.file_name().into_string().ok()) {
            let name = format!("mqueue:{name}");
            if name["mqueue:".len()..].starts_with(&prefix) && !left.contains(&name) {
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
    fn another_process_s_names_are_found_by_opening_each_issued_one() {
        // The way the interruption tests look on a platform without /dev/shm.
        let a = ShmName::fresh();
        let issued = NEXT.load(Ordering::Relaxed);
        let fd = crate::os::shm::shm_open(a.as_str(), true, true, 0o600).unwrap();
        drop(fd);
        let found = leftovers_of(std::process::id(), issued);
        assert!(found.contains(&a.as_str()[1..].to_string()), "{found:?}");
        let name = a.as_str()[1..].to_string();
        drop(a);
        assert!(!leftovers_of(std::process::id(), issued).contains(&name));
    }

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

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn a_message_queue_under_an_issued_name_is_a_leftover_until_the_guard_drops() {
        let a = ShmName::fresh();
        let issued = NEXT.load(Ordering::Relaxed);
        let attr = crate::os::mqueue::Attr { maxmsg: 1, msgsize: 8 };
        let fd = crate::os::mqueue::open(a.as_str(), Some(attr), false).unwrap();
        crate::os::mqueue::close(fd).unwrap();
        let listed = format!("mqueue:{}", &a.as_str()[1..]);
        assert!(leftovers().contains(&listed), "{:?}", leftovers());
        assert!(leftovers_of(std::process::id(), issued).contains(&listed));
        let name = a.as_str().to_string();
        drop(a);
        assert!(!crate::os::mqueue::name_present(&name), "the guard removes the queue");
        assert!(!leftovers().contains(&listed));
    }
}
