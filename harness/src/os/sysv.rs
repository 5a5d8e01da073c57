//! System V IPC: message queues (`msgget(2)`, `msgsnd(2)`, `msgrcv(2)`,
//! `msgctl(2)`) and shared-memory segments (`shmget(2)`, `shmat(2)`,
//! `shmdt(2)`, `shmctl(2)`), through the C library on every platform (rustix has no
//! System V IPC; without the `c-library` feature these stay C calls, as
//! the report's interface line says).
//!
//! A System V object outlives every process; the harness makes each under
//! a key of its own ([`key`]) so that the leak checks and the clean-up of
//! an interrupted run can find it again.
//!
//! # References
//! - POSIX.1-2017 XSH `msgget()`, `msgsnd()`, `msgrcv()`, `msgctl()`.
//! - POSIX.1-2017 XSH `shmget()`, `shmat()`, `shmdt()`, `shmctl()`.
//! - msgget(2), msgop(2), msgctl(2), shmget(2), shmop(2), shmctl(2),
//!   sysvipc(7) (Linux).
//! - msgget(2), msgsnd(2), msgrcv(2), msgctl(2) (macOS; xnu
//!   bsd/kern/sysv_msg.c).

use super::deviant::{self, Deviation};
use std::io;

/// The key of the `n`-th (mod 256) object process `pid` makes: `0x49`,
/// then the pid's low 16 bits, then `n`. Keys of other kinds of object
/// live apart, so one series serves every kind.
pub fn key(pid: u32, n: u32) -> i32 {
    ((0x49u32 << 24) | ((pid & 0xffff) << 8) | (n & 0xff)) as i32
}

/// Whether `k` is one of process `pid`'s keys ([`key`]).
pub fn is_key_of(k: i32, pid: u32) -> bool {
    (k as u32) >> 8 == (0x49u32 << 16) | (pid & 0xffff)
}

/// `msgget(key, IPC_CREAT | IPC_EXCL | 0600)`: a new queue (`EEXIST` if
/// the key has one).
pub fn msg_create(key: i32) -> io::Result<i32> {
    backend::msgget(key, libc::IPC_CREAT | libc::IPC_EXCL | 0o600)
}

/// `msgget(key, 0)`: the queue of `key` (`ENOENT` if none).
pub fn msg_find(key: i32) -> io::Result<i32> {
    backend::msgget(key, 0)
}

/// `msgsnd(id, {mtype, data}, len, [IPC_NOWAIT])`; `mtype` is positive.
pub fn msg_send(id: i32, mtype: i64, data: &[u8], nowait: bool) -> io::Result<()> {
    let mut msg = Vec::with_capacity(std::mem::size_of::<libc::c_long>() + data.len());
    msg.extend_from_slice(&(mtype as libc::c_long).to_ne_bytes());
    msg.extend_from_slice(data);
    backend::msgsnd(id, &msg, data.len(), if nowait { libc::IPC_NOWAIT } else { 0 })
}

/// `msgrcv(id, buf, max, msgtyp, [IPC_NOWAIT])`: the message's type and
/// text.
pub fn msg_receive(id: i32, max: usize, msgtyp: i64, nowait: bool) -> io::Result<(i64, Vec<u8>)> {
    // The deviation: every receive takes the first message, whatever type
    // it asked for.
    let msgtyp = if deviant::is(Deviation::MsgrcvIgnoresType) { 0 } else { msgtyp };
    let head = std::mem::size_of::<libc::c_long>();
    let mut buf = vec![0u8; head + max];
    let n = backend::msgrcv(id, &mut buf, max, msgtyp as libc::c_long, if nowait { libc::IPC_NOWAIT } else { 0 })?;
    let mut mtype = [0u8; std::mem::size_of::<libc::c_long>()];
    mtype.copy_from_slice(&buf[..head]);
    buf.truncate(head + n);
    // A long is 32 bits on 32-bit platforms.
    #[allow(clippy::useless_conversion)]
    let mtype = i64::from(libc::c_long::from_ne_bytes(mtype));
    Ok((mtype, buf.split_off(head)))
}

/// `msgctl(id, IPC_RMID)`.
pub fn msg_remove(id: i32) -> io::Result<()> {
    backend::msgctl_rmid(id)
}

/// The message queues of this host (id, key), where the platform lists
/// them (`/proc/sysvipc/msg`); `None` where it does not.
pub fn msg_list() -> Option<Vec<(i32, i32)>> {
    list("/proc/sysvipc/msg")
}

/// `shmget(key, size, IPC_CREAT | IPC_EXCL | 0600)`: a new segment of
/// `size` bytes, zero-filled (`EEXIST` if the key has one).
pub fn shm_create(key: i32, size: usize) -> io::Result<i32> {
    // SAFETY: plain integers.
    ok(unsafe { libc::shmget(key, size, libc::IPC_CREAT | libc::IPC_EXCL | 0o600) })
}

/// `shmget(key, 0, 0)`: the segment of `key` (`ENOENT` if none).
pub fn shm_find(key: i32) -> io::Result<i32> {
    // SAFETY: plain integers.
    ok(unsafe { libc::shmget(key, 0, 0) })
}

/// `shmat(id, NULL, 0)`: where the segment is mapped now.
pub fn shm_attach(id: i32) -> io::Result<usize> {
    // SAFETY: the kernel chooses the address; nothing is accessed here.
    let addr = unsafe { libc::shmat(id, std::ptr::null(), 0) };
    if addr as isize == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(addr as usize)
}

/// `shmdt(addr)`.
///
/// # Safety
/// `addr` is an attachment of this process that nothing uses any more.
pub unsafe fn shm_detach(addr: usize) -> io::Result<()> {
    // SAFETY: the caller's promise.
    ok(unsafe { libc::shmdt(addr as *const libc::c_void) }).map(drop)
}

/// `shmctl(id, IPC_RMID)`: the segment goes once the last process has
/// detached it; its key is free at once.
pub fn shm_mark_removed(id: i32) -> io::Result<()> {
    if deviant::is(Deviation::ShmRmidIgnored) {
        return Ok(());
    }
    shm_remove(id)
}

/// `shmctl(id, IPC_RMID)`, never deviant: the harness's own clean-up.
pub fn shm_remove(id: i32) -> io::Result<()> {
    // SAFETY: IPC_RMID reads no buffer.
    ok(unsafe { libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut()) }).map(drop)
}

/// `shmctl(id, IPC_STAT)`: how many attachments the segment has.
pub fn shm_attachments(id: i32) -> io::Result<u64> {
    // SAFETY: shmid_ds is plain data; all zero is a valid value.
    let mut ds: libc::shmid_ds = unsafe { std::mem::zeroed() };
    // SAFETY: `ds` outlives the call.
    ok(unsafe { libc::shmctl(id, libc::IPC_STAT, &mut ds) })?;
    Ok(ds.shm_nattch as u64)
}

/// The shared-memory segments of this host (id, key), where the platform
/// lists them (`/proc/sysvipc/shm`); `None` where it does not.
pub fn shm_list() -> Option<Vec<(i32, i32)>> {
    list("/proc/sysvipc/shm")
}

fn list(path: &str) -> Option<Vec<(i32, i32)>> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(
        text.lines()
            .skip(1)
            .filter_map(|l| {
                let mut f = l.split_whitespace();
                let key = f.next()?.parse::<i64>().ok()? as i32;
                let id = f.next()?.parse::<i32>().ok()?;
                Some((id, key))
            })
            .collect(),
    )
}

/// `semget(key, nsems, IPC_CREAT | IPC_EXCL | 0600)`: a new set of
/// `nsems` semaphores, every value 0.
///
/// # References
/// - POSIX.1-2017 XSH `semget()`, `semop()`, `semctl()`; semop(2) (Linux, macOS)
pub fn sem_create(key: i32, nsems: usize) -> io::Result<i32> {
    // SAFETY: plain integers.
    ok(unsafe { libc::semget(key, nsems as libc::c_int, libc::IPC_CREAT | libc::IPC_EXCL | 0o600) })
}

/// `semget(key, 0, 0)`: the set of `key` (`ENOENT` if none).
pub fn sem_find(key: i32) -> io::Result<i32> {
    // SAFETY: plain integers.
    ok(unsafe { libc::semget(key, 0, 0) })
}

/// `semctl(id, 0, IPC_RMID)`.
pub fn sem_remove(id: i32) -> io::Result<()> {
    // SAFETY: IPC_RMID reads no argument.
    ok(unsafe { libc::semctl(id, 0, libc::IPC_RMID) }).map(drop)
}

/// `semctl(id, num, SETVAL, value)`.
pub fn sem_set(id: i32, num: u16, value: u16) -> io::Result<()> {
    // SAFETY: SETVAL takes the value as an int (union semun's val).
    ok(unsafe { libc::semctl(id, libc::c_int::from(num), libc::SETVAL, libc::c_int::from(value)) }).map(drop)
}

/// `semctl(id, num, GETVAL)` for each of the `n` semaphores.
pub fn sem_values(id: i32, n: usize) -> io::Result<Vec<u16>> {
    (0..n)
        .map(|num| {
            // SAFETY: GETVAL reads no argument.
            ok(unsafe { libc::semctl(id, num as libc::c_int, libc::GETVAL) }).map(|v| v as u16)
        })
        .collect()
}

/// `semop(id, ops)`: each (semaphore, change, SEM_UNDO), all or none,
/// with `IPC_NOWAIT` when `nowait`; restarted after a signal.
pub fn sem_op(id: i32, ops: &[(u16, i16, bool)], nowait: bool) -> io::Result<()> {
    let mut bufs: Vec<libc::sembuf> = ops
        .iter()
        .map(|&(num, op, undo)| {
            let mut flg = if nowait { libc::IPC_NOWAIT } else { 0 };
            if undo && !deviant::is(Deviation::SemUndoIgnored) {
                flg |= libc::SEM_UNDO;
            }
            libc::sembuf { sem_num: num as _, sem_op: op as _, sem_flg: flg as _ }
        })
        .collect();
    if deviant::is(Deviation::SemopPiecemeal) && bufs.len() > 1 {
        // The deviation: each operation on its own, as far as they go.
        for b in &mut bufs {
            // SAFETY: one sembuf, alive for the call.
            ok(unsafe { libc::semop(id, b, 1) })?;
        }
        return Ok(());
    }
    loop {
        // SAFETY: `bufs` holds `len` sembufs and outlives the call.
        match ok(unsafe { libc::semop(id, bufs.as_mut_ptr(), bufs.len() as _) }) {
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
            other => return other.map(drop),
        }
    }
}

/// The semaphore sets of this host (id, key), where the platform lists
/// them (`/proc/sysvipc/sem`).
pub fn sem_list() -> Option<Vec<(i32, i32)>> {
    list("/proc/sysvipc/sem")
}

fn ok(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

mod backend {
    use super::{ffi, ok};
    use std::io;

    pub fn msgget(key: i32, flags: libc::c_int) -> io::Result<i32> {
        // SAFETY: plain integers.
        ok(unsafe { ffi::msgget(key, flags) })
    }

    /// `msg` is the type then the text; `len` the text's length.
    pub fn msgsnd(id: i32, msg: &[u8], len: usize, flags: libc::c_int) -> io::Result<()> {
        // SAFETY: `msg` holds a long and `len` bytes after it.
        ok(unsafe { ffi::msgsnd(id, msg.as_ptr().cast(), len, flags) }).map(drop)
    }

    /// `buf` has room for a long and `max` bytes after it.
    pub fn msgrcv(id: i32, buf: &mut [u8], max: usize, msgtyp: libc::c_long, flags: libc::c_int) -> io::Result<usize> {
        // SAFETY: `buf` has room for a long and `max` bytes.
        let n = unsafe { ffi::msgrcv(id, buf.as_mut_ptr().cast(), max, msgtyp, flags) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }

    pub fn msgctl_rmid(id: i32) -> io::Result<()> {
        // SAFETY: IPC_RMID reads no buffer.
        ok(unsafe { ffi::msgctl(id, libc::IPC_RMID, std::ptr::null_mut()) }).map(drop)
    }
}

/// The message-queue calls as the `libc` crate declares them.
#[cfg(any(target_os = "linux", target_os = "android"))]
mod ffi {
    pub use libc::{msgctl, msgget, msgrcv, msgsnd};
}

/// macOS: the C library has the calls, the `libc` crate does not declare
/// them (msgget(2), msgsnd(2), msgrcv(2), msgctl(2) of macOS).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod ffi {
    extern "C" {
        pub fn msgget(key: libc::key_t, flags: libc::c_int) -> libc::c_int;
        pub fn msgsnd(id: libc::c_int, msgp: *const libc::c_void, len: libc::size_t, flags: libc::c_int)
            -> libc::c_int;
        pub fn msgrcv(
            id: libc::c_int,
            msgp: *mut libc::c_void,
            max: libc::size_t,
            msgtyp: libc::c_long,
            flags: libc::c_int,
        ) -> libc::ssize_t;
        /// The buffer (unused here: IPC_RMID) is a `struct msqid_ds`.
        pub fn msgctl(id: libc::c_int, cmd: libc::c_int, buf: *mut libc::c_void) -> libc::c_int;
    }
}
