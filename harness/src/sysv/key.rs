//! Keys for the System V objects of a run (message queues, shared-memory
//! segments) ([`crate::os::sysv::key`]):
//! each object a case makes is made under a fresh key and removed when
//! its guard drops, also after a failing case; the clean-up of an
//! interrupted run removes every one still there, and the leak checks
//! find any left by the key alone, in this process or another.

use crate::os::sysv;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

/// The kinds of System V object the harness makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A message queue.
    Msg,
    /// A shared-memory segment.
    Shm,
    /// A semaphore set.
    Sem,
}

impl Kind {
    /// The object of `key` of this kind, if there is one.
    fn find(self, key: i32) -> Option<i32> {
        match self {
            Kind::Msg => sysv::msg_find(key).ok(),
            Kind::Shm => sysv::shm_find(key).ok(),
            Kind::Sem => sysv::sem_find(key).ok(),
        }
    }

    fn remove(self, id: i32) -> std::io::Result<()> {
        match self {
            Kind::Msg => sysv::msg_remove(id),
            Kind::Shm => sysv::shm_remove(id),
            Kind::Sem => sysv::sem_remove(id),
        }
    }

    fn list(self) -> Option<Vec<(i32, i32)>> {
        match self {
            Kind::Msg => sysv::msg_list(),
            Kind::Shm => sysv::shm_list(),
            Kind::Sem => sysv::sem_list(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Msg => "msg queue",
            Kind::Shm => "shm segment",
            Kind::Sem => "semaphore set",
        }
    }
}

/// Every object this process has made and not yet removed: kind, key, id.
static ISSUED: Mutex<Vec<(Kind, i32, i32)>> = Mutex::new(Vec::new());

/// The next key's number.
static NEXT: AtomicU32 = AtomicU32::new(0);

fn lock() -> std::sync::MutexGuard<'static, Vec<(Kind, i32, i32)>> {
    ISSUED.lock().unwrap_or_else(|e| e.into_inner())
}

/// A System V object made for one case; removed on drop (a segment's
/// attachments, in actors, end with them).
#[derive(Debug)]
pub struct Object {
    kind: Kind,
    key: i32,
    id: i32,
}

impl Object {
    /// A new message queue under a fresh key.
    pub fn msg_queue() -> std::io::Result<Object> {
        Object::make(Kind::Msg, sysv::msg_create)
    }

    /// A new, zero-filled shared-memory segment of `size` bytes under a
    /// fresh key.
    pub fn shm_segment(size: usize) -> std::io::Result<Object> {
        Object::make(Kind::Shm, |key| sysv::shm_create(key, size))
    }

    /// A new set of `nsems` semaphores under a key of the run's.
    pub fn sem_set(nsems: usize) -> std::io::Result<Object> {
        Object::make(Kind::Sem, |key| sysv::sem_create(key, nsems))
    }

    /// Makes an object of `kind` by `make` under a fresh key (a key still
    /// taken, by an object some earlier process of the same low pid bits
    /// left, is passed over), registered for the clean-up before any
    /// interruption could miss it.
    fn make(kind: Kind, make: impl Fn(i32) -> std::io::Result<i32>) -> std::io::Result<Object> {
        let _creating = crate::cleanup::creating();
        let pid = std::process::id();
        let mut last = None;
        for _ in 0..256 {
            let key = sysv::key(pid, NEXT.fetch_add(1, Ordering::Relaxed));
            match make(key) {
                Ok(id) => {
                    lock().push((kind, key, id));
                    return Ok(Object { kind, key, id });
                }
                Err(e) if e.raw_os_error() == Some(libc::EEXIST) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::from_raw_os_error(libc::EEXIST)))
    }

    /// The object's id.
    pub fn id(&self) -> i32 {
        self.id
    }

    /// The object's key.
    pub fn key(&self) -> i32 {
        self.key
    }
}

impl Drop for Object {
    fn drop(&mut self) {
        let _ = self.kind.remove(self.id);
        lock().retain(|o| o.2 != self.id || o.0 != self.kind);
    }
}

/// Removes every object this process made that is still there (for an
/// interrupted run), by id (a segment marked removed no longer has its
/// key), and says how many it removed.
pub fn remove_all_issued() -> usize {
    let issued = lock().clone();
    issued.iter().filter(|(kind, _, id)| kind.remove(*id).is_ok()).count()
}

/// The objects of process `pid` still present, each as its kind and key
/// (in hexadecimal): from the host's lists where it has them
/// (`/proc/sysvipc/msg`, `/proc/sysvipc/shm`), else by asking for each
/// key the process may have used.
pub fn leftovers_of(pid: u32) -> Vec<String> {
    let mut left = Vec::new();
    for kind in [Kind::Msg, Kind::Shm, Kind::Sem] {
        let keys: Vec<i32> = match kind.list() {
            Some(list) => list.into_iter().map(|(_, k)| k).filter(|k| sysv::is_key_of(*k, pid)).collect(),
            None => (0..256).map(|n| sysv::key(pid, n)).filter(|k| kind.find(*k).is_some()).collect(),
        };
        left.extend(keys.into_iter().map(|k| format!("{} key {:#x}", kind.name(), k as u32)));
    }
    left
}

/// This process's objects still present.
pub fn leftovers() -> Vec<String> {
    leftovers_of(std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_is_a_leftover_until_its_guard_drops() {
        let q = Object::msg_queue().unwrap();
        assert!(sysv::is_key_of(q.key(), std::process::id()));
        let listed = format!("msg queue key {:#x}", q.key() as u32);
        assert!(leftovers().contains(&listed), "{:?}", leftovers());
        let key = q.key();
        drop(q);
        assert!(sysv::msg_find(key).is_err(), "the guard removes the queue");
        assert!(!leftovers().contains(&listed));
    }

    #[test]
    fn a_segment_is_a_leftover_until_its_guard_drops() {
        let seg = Object::shm_segment(4096).unwrap();
        let listed = format!("shm segment key {:#x}", seg.key() as u32);
        assert!(leftovers().contains(&listed), "{:?}", leftovers());
        let key = seg.key();
        drop(seg);
        assert!(sysv::shm_find(key).is_err(), "the guard removes the segment");
        assert!(!leftovers().contains(&listed));
    }

    #[test]
    fn a_semaphore_set_is_a_leftover_until_its_guard_drops() {
        let set = Object::sem_set(2).unwrap();
        let listed = format!("semaphore set key {:#x}", set.key() as u32);
        assert!(leftovers().contains(&listed), "{:?}", leftovers());
        let key = set.key();
        drop(set);
        assert!(sysv::sem_find(key).is_err(), "the guard removes the set");
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
