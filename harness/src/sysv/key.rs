//! Keys for the System V objects of a run ([`crate::os::sysv::key`]):
//! each object a case makes is made under a fresh key and removed when
//! its guard drops, also after a failing case; the clean-up of an
//! interrupted run removes every one still there, and the leak checks
//! find any left by the key alone, in this process or another.

use crate::os::sysv;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

/// Every key this process has made an object under.
static ISSUED: Mutex<Vec<i32>> = Mutex::new(Vec::new());

/// The next key's number.
static NEXT: AtomicU32 = AtomicU32::new(0);

/// A message queue made for one case; removed on drop.
#[derive(Debug)]
pub struct MsgQueue {
    key: i32,
    id: i32,
}

impl MsgQueue {
    /// A new queue under a fresh key (a key still taken, by a queue some
    /// earlier process of the same low pid bits left, is passed over).
    pub fn create() -> std::io::Result<MsgQueue> {
        let _creating = crate::cleanup::creating();
        let pid = std::process::id();
        let mut last = None;
        for _ in 0..256 {
            let key = sysv::key(pid, NEXT.fetch_add(1, Ordering::Relaxed));
            match sysv::msg_create(key) {
                Ok(id) => {
                    lock().push(key);
                    return Ok(MsgQueue { key, id });
                }
                Err(e) if e.raw_os_error() == Some(libc::EEXIST) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::from_raw_os_error(libc::EEXIST)))
    }

    /// The queue's id.
    pub fn id(&self) -> i32 {
        self.id
    }

    /// The queue's key.
    pub fn key(&self) -> i32 {
        self.key
    }
}

impl Drop for MsgQueue {
    fn drop(&mut self) {
        let _ = sysv::msg_remove(self.id);
        lock().retain(|k| *k != self.key);
    }
}

fn lock() -> std::sync::MutexGuard<'static, Vec<i32>> {
    ISSUED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes every queue this process made that is still there (for an
/// interrupted run), and says how many it removed.
pub fn remove_all_issued() -> usize {
    let keys = lock().clone();
    keys.iter().filter(|k| sysv::msg_find(**k).and_then(sysv::msg_remove).is_ok()).count()
}

/// The keys (in hexadecimal) of process `pid`'s queues still present:
/// from the host's list where it has one (`/proc/sysvipc/msg`), else by
/// asking for each key the process may have used.
pub fn leftovers_of(pid: u32) -> Vec<String> {
    let keys: Vec<i32> = match sysv::msg_list() {
        Some(list) => list.into_iter().map(|(_, k)| k).filter(|k| sysv::is_key_of(*k, pid)).collect(),
        None => (0..256).map(|n| sysv::key(pid, n)).filter(|k| sysv::msg_find(*k).is_ok()).collect(),
    };
    keys.into_iter().map(|k| format!("msg queue key {:#x}", k as u32)).collect()
}

/// This process's queues still present.
pub fn leftovers() -> Vec<String> {
    leftovers_of(std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_is_a_leftover_until_its_guard_drops() {
        let q = MsgQueue::create().unwrap();
        assert!(sysv::is_key_of(q.key(), std::process::id()));
        let listed = format!("msg queue key {:#x}", q.key() as u32);
        assert!(leftovers().contains(&listed), "{:?}", leftovers());
        let key = q.key();
        drop(q);
        assert!(sysv::msg_find(key).is_err(), "the guard removes the queue");
        assert!(!leftovers().contains(&listed));
    }

    #[test]
    fn keys_carry_the_pid_and_a_number() {
        assert!(sysv::is_key_of(sysv::key(0x12345, 7), 0x12345));
        assert!(sysv::is_key_of(sysv::key(0x12345, 300), 0x2345));
        assert!(!sysv::is_key_of(sysv::key(0x12345, 7), 0x12346));
        assert_ne!(sysv::key(1, 1), sysv::key(1, 2));
    }
}
