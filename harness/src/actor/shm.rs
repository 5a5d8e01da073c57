//! How an actor performs `shm` and `process` operations. Mappings live in a
//! table of this process, numbered in the order they were made; they are
//! unmapped when the actor ends.

use super::Actor;
use crate::os::errno_of;
use crate::os::shm::{self as oshm, Mapping};
use crate::protocol::shm::{hammer, ForkRegion, HammerPlan, PublishPlan, ShmOp};
use crate::protocol::Reply;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// This actor's mappings, by number.
static MAPS: Mutex<Vec<Mapping>> = Mutex::new(Vec::new());

/// This actor's secret (for `process.memory.no-foreign-access`): a word on
/// the heap whose address is reported.
static SECRET: Mutex<Option<Box<AtomicU64>>> = Mutex::new(None);

fn errno(e: &std::io::Error) -> Reply {
    Reply::Errno(errno_of(e))
}

fn refused(what: impl std::fmt::Display) -> Reply {
    Reply::Refused(what.to_string())
}

/// Runs `f` on mapping `map`, or refuses naming it.
fn with_map<T>(map: u32, f: impl FnOnce(&Mapping) -> Result<T, Reply>) -> Result<T, Reply> {
    let maps = MAPS.lock().unwrap_or_else(|e| e.into_inner());
    match maps.get(map as usize) {
        Some(m) => f(m),
        None => Err(refused(format!("no mapping {map}"))),
    }
}

fn word(m: &Mapping, offset: u64) -> Result<&AtomicU64, Reply> {
    m.word(offset).ok_or_else(|| refused(format!("offset {offset} is not an aligned word of the mapping")))
}

/// Performs one shm or process operation.
pub fn perform(actor: &mut Actor, op: ShmOp) -> Result<Reply, Reply> {
    Ok(match op {
        ShmOp::Open { name, create, write, mode } => match oshm::shm_open(&name, create, write, mode) {
            Ok(fd) => {
                let (slot, fd) = actor.push(fd);
                Reply::Opened { slot, fd }
            }
            Err(e) => errno(&e),
        },
        ShmOp::OpenFile { path, write } => match std::fs::OpenOptions::new().read(true).write(write).open(&path) {
            Ok(file) => {
                let (slot, fd) = actor.push(file.into());
                Reply::Opened { slot, fd }
            }
            Err(e) => errno(&e),
        },
        ShmOp::ProbeOpen { name, write, file } => {
            let r = match file {
                true => std::fs::OpenOptions::new().read(true).write(write).open(&name).map(drop),
                false => oshm::shm_open(&name, false, write, 0).map(drop),
            };
            match r {
                Ok(()) => Reply::Done,
                Err(e) => errno(&e),
            }
        }
        ShmOp::Unlink { name, file } => {
            let r = if file { std::fs::remove_file(&name) } else { oshm::shm_unlink(&name) };
            match r {
                Ok(()) => Reply::Done,
                Err(e) => errno(&e),
            }
        }
        ShmOp::Truncate { slot, len } => match oshm::truncate(actor.fd(slot)?, len) {
            Ok(()) => Reply::Done,
            Err(e) => errno(&e),
        },
        ShmOp::Chmod { slot, mode } => match oshm::chmod(actor.fd(slot)?, mode) {
            Ok(()) => Reply::Done,
            Err(e) => errno(&e),
        },
        ShmOp::Map { slot, len, shared } => {
            let fd = match slot {
                Some(s) => Some(actor.fd(s)?),
                None => None,
            };
            let len = usize::try_from(len).map_err(|_| refused("mapping length too large"))?;
            match Mapping::new(fd, len, shared) {
                Ok(m) => {
                    let mut maps = MAPS.lock().unwrap_or_else(|e| e.into_inner());
                    maps.push(m);
                    Reply::Values(vec![(maps.len() - 1) as i64])
                }
                Err(e) => errno(&e),
            }
        }
        ShmOp::Store { map, offset, value } => with_map(map, |m| {
            word(m, offset)?.store(value, Ordering::Release);
            Ok(Reply::Done)
        })?,
        ShmOp::Load { map, offset } => {
            with_map(map, |m| Ok(Reply::Values(vec![word(m, offset)?.load(Ordering::Acquire) as i64])))?
        }
        ShmOp::PWrite { slot, offset, value } => match oshm::pwrite_word(actor.fd(slot)?, offset, value) {
            Ok(n) => Reply::Count(n as u64),
            Err(e) => errno(&e),
        },
        ShmOp::PRead { slot, offset } => match oshm::pread_word(actor.fd(slot)?, offset) {
            Ok(Some(v)) => Reply::Values(vec![v as i64]),
            Ok(None) => Reply::Values(Vec::new()),
            Err(e) => errno(&e),
        },
        ShmOp::ForkExchange { region, a, c, p } => fork_exchange(region, a, c, p)?,
        ShmOp::Hammer(plan) => with_map(plan.map, |m| hammer_counters(m, &plan))?,
        ShmOp::Publish(plan) => with_map(plan.map, |m| publish(m, &plan))?,
        ShmOp::Observe(plan) => with_map(plan.map, |m| observe(m, &plan))?,
        ShmOp::RingSend(plan) => with_map(plan.map, |m| {
            let words = m.words(0, m.len() / 8).unwrap_or(&[]);
            match crate::shm::ring::send(words, plan.slots, plan.words, plan.messages, &plan.pauses) {
                true => Ok(Reply::Done),
                false => Err(refused("the mapping is too small for the ring")),
            }
        })?,
        ShmOp::RingRecv(plan) => with_map(plan.map, |m| {
            let words = m.words(0, m.len() / 8).unwrap_or(&[]);
            crate::shm::ring::recv(words, plan.slots, plan.words, plan.messages, &plan.pauses)
                .map(Reply::Values)
                .ok_or_else(|| refused("the mapping is too small for the ring"))
        })?,
        ShmOp::WaitPosted { map, offset, name } => with_map(map, |m| {
            let w = m.word32(offset).ok_or_else(|| refused(format!("offset {offset} is not a 4-byte word")))?;
            Ok(match oshm::doorbell_wait(w, &name) {
                Ok(v) => Reply::Values(vec![i64::from(v)]),
                Err(e) => errno(&e),
            })
        })?,
        ShmOp::Post { map, offset, value, name, waiters } => with_map(map, |m| {
            let w = m.word32(offset).ok_or_else(|| refused(format!("offset {offset} is not a 4-byte word")))?;
            Ok(match oshm::doorbell_ring(w, value, &name, waiters) {
                Ok(n) => Reply::Values(vec![n as i64]),
                Err(e) => errno(&e),
            })
        })?,
        ShmOp::Secret { value } => {
            let mut secret = SECRET.lock().unwrap_or_else(|e| e.into_inner());
            let cell = secret.insert(Box::new(AtomicU64::new(value)));
            Reply::Values(vec![cell.as_ptr() as usize as i64])
        }
        ShmOp::ReadSecret => {
            let secret = SECRET.lock().unwrap_or_else(|e| e.into_inner());
            match secret.as_ref() {
                Some(cell) => Reply::Values(vec![cell.load(Ordering::SeqCst) as i64]),
                None => return Err(refused("no secret kept")),
            }
        }
        ShmOp::ForeignOwnChild { how } => match oshm::reach_own_child(how) {
            Ok(reached) => Reply::Values(vec![i64::from(reached)]),
            Err(e) => errno(&e),
        },
        ShmOp::Foreign { pid, addr, how, write } => match oshm::foreign_access(pid, addr, how, write) {
            Ok(Some(v)) => Reply::Values(vec![v as i64]),
            Ok(None) => Reply::Done,
            Err(e) => errno(&e),
        },
        ShmOp::FdIdentity { fd } => match oshm::fd_identity(fd) {
            Ok((dev, ino, off)) => Reply::Values(vec![dev as i64, ino as i64, off as i64]),
            Err(e) => errno(&e),
        },
        ShmOp::AdoptNumber { fd } => match oshm::adopt_number(fd) {
            Ok(owned) => {
                let (slot, fd) = actor.push(owned);
                Reply::Opened { slot, fd }
            }
            Err(e) => errno(&e),
        },
    })
}

fn fork_exchange(region: ForkRegion, a: u64, c: u64, p: u64) -> Result<Reply, Reply> {
    let result = match region {
        ForkRegion::Heap => {
            let cell = Box::new(AtomicU64::new(0));
            oshm::fork_exchange(&cell, a, c, p)
        }
        ForkRegion::AnonPrivate | ForkRegion::AnonShared => {
            let m = Mapping::new(None, oshm::page_size(), region == ForkRegion::AnonShared)
                .map_err(|e| refused(format!("mmap of anonymous memory: {e}")))?;
            let cell = m.word(0).ok_or_else(|| refused("empty mapping"))?;
            oshm::fork_exchange(cell, a, c, p)
        }
    };
    match result {
        Ok(v) => Ok(Reply::Values(v.iter().map(|x| *x as i64).collect())),
        Err(e) => Err(refused(format!("fork exchange: {e}"))),
    }
}

/// Waits at the start barrier until `processes` have arrived, so that the
/// processes hammer at once; gives up after a while (liveness only: late
/// starters still count every increment).
fn barrier(m: &Mapping, processes: u32) -> Result<(), Reply> {
    let b = word(m, hammer::BARRIER)?;
    b.fetch_add(1, Ordering::SeqCst);
    let start = Instant::now();
    let mut backoff = oshm::Backoff::default();
    oshm::wake_word(b);
    loop {
        let arrived = b.load(Ordering::SeqCst);
        if arrived >= u64::from(processes) || start.elapsed() >= Duration::from_secs(5) {
            break;
        }
        backoff.wait_on(b, arrived);
    }
    Ok(())
}

fn hammer_counters(m: &Mapping, plan: &HammerPlan) -> Result<Reply, Reply> {
    let (atomic, lock) = (word(m, hammer::ATOMIC)?, word(m, hammer::LOCK)?);
    let (locked, plain) = (word(m, hammer::LOCKED)?, word(m, hammer::PLAIN)?);
    barrier(m, plan.processes)?;
    let mut pauses = plan.pauses.clone();
    pauses.sort_unstable();
    for i in 0..plan.count {
        let pause = pauses.binary_search(&i).is_ok();
        let inside = pause && plan.pause_inside;
        oshm::fetch_add(atomic, 1);
        let mut backoff = oshm::Backoff::default();
        while lock.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_err() {
            backoff.wait_on(lock, 1);
        }
        let v = locked.load(Ordering::Relaxed);
        if inside {
            oshm::pause_point(4);
        }
        locked.store(v + 1, Ordering::Relaxed);
        lock.store(0, Ordering::Release);
        oshm::wake_word(lock);
        let v = plain.load(Ordering::Relaxed);
        if inside {
            oshm::pause_point(4);
        }
        plain.store(v + 1, Ordering::Relaxed);
        if pause && !plan.pause_inside {
            oshm::pause_point(4);
        }
        crate::progress::beat();
    }
    Ok(Reply::Done)
}

fn publish(m: &Mapping, plan: &PublishPlan) -> Result<Reply, Reply> {
    let flag = word(m, 0)?;
    let data = m.words(64, plan.words as usize).ok_or_else(|| refused("the mapping is too small"))?;
    for round in 1..=u64::from(plan.rounds) {
        oshm::publish(flag, round, || {
            for w in data {
                w.store(round, Ordering::Relaxed);
            }
        });
        if plan.pauses.contains(&(round as u32)) {
            oshm::pause_point(8);
        }
        crate::progress::beat();
    }
    Ok(Reply::Done)
}

fn observe(m: &Mapping, plan: &PublishPlan) -> Result<Reply, Reply> {
    let flag = word(m, 0)?;
    let data = m.words(64, plan.words as usize).ok_or_else(|| refused("the mapping is too small"))?;
    let mut seen = Vec::new();
    let mut last = 0;
    let mut backoff = oshm::Backoff::default();
    while last < u64::from(plan.rounds) {
        let f = flag.load(Ordering::Acquire);
        if f == last {
            backoff.wait_on(flag, f);
            continue;
        }
        backoff = oshm::Backoff::default();
        let min = data.iter().map(|w| w.load(Ordering::Relaxed)).min().unwrap_or(u64::MAX);
        seen.push(f as i64);
        seen.push(min as i64);
        last = f;
        if plan.pauses.contains(&(f as u32)) {
            oshm::pause_point(8);
        }
        crate::progress::beat();
    }
    Ok(Reply::Values(seen))
}
