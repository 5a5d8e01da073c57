//! How an actor performs process-shared synchronization operations.

use super::Actor;
use crate::os::pshared::{self, NamedSem, Region};
use crate::os::{errno_of, shm};
use crate::protocol::pshared::PsharedOp;
use crate::protocol::Reply;

fn code(r: std::io::Result<i32>) -> Reply {
    match r {
        Ok(c) => Reply::Values(vec![i64::from(c)]),
        Err(e) => Reply::Errno(errno_of(&e)),
    }
}

fn region(actor: &Actor, map: u32) -> Result<Region<'_>, Reply> {
    actor.maps.get(map as usize).map(Region::over).ok_or_else(|| Reply::Refused(format!("no mapping {map}")))
}

fn sem(actor: &Actor, index: u32) -> Result<&NamedSem, Reply> {
    actor.sems.get(index as usize).ok_or_else(|| Reply::Refused(format!("no semaphore {index}")))
}

fn done(r: std::io::Result<()>) -> Reply {
    match r {
        Ok(()) => Reply::Done,
        Err(e) => Reply::Errno(errno_of(&e)),
    }
}

/// Performs one operation.
pub fn perform(actor: &mut Actor, op: PsharedOp) -> Result<Reply, Reply> {
    Ok(match op {
        PsharedOp::Attach { name } => {
            let mapped = shm::shm_open(&name, false, true, 0)
                .and_then(|fd| shm::Mapping::with(Some(std::os::fd::AsFd::as_fd(&fd)), shm::page_size(), true, true));
            match mapped {
                Ok(m) => {
                    actor.maps.push(m);
                    Reply::Values(vec![actor.maps.len() as i64 - 1])
                }
                Err(e) => Reply::Errno(errno_of(&e)),
            }
        }
        PsharedOp::Init { map, robust } => done(region(actor, map)?.init(robust)),
        PsharedOp::Lock { map } => code(region(actor, map)?.lock()),
        PsharedOp::Trylock { map } => code(region(actor, map)?.trylock()),
        PsharedOp::Unlock { map } => code(region(actor, map)?.unlock()),
        PsharedOp::Consistent { map } => code(region(actor, map)?.consistent()),
        PsharedOp::Hammer { map, rounds } => code(region(actor, map)?.hammer(rounds)),
        PsharedOp::Counter { map } => Reply::Values(vec![region(actor, map)?.counter() as i64]),
        PsharedOp::WaitFlag { map, seen } => match region(actor, map)?.wait_flag(seen) {
            Ok(v) => Reply::Values(vec![v as i64]),
            Err(e) => Reply::Errno(errno_of(&e)),
        },
        PsharedOp::RaiseFlag { map, broadcast } => match region(actor, map)?.raise_flag(broadcast) {
            Ok(v) => Reply::Values(vec![v as i64]),
            Err(e) => Reply::Errno(errno_of(&e)),
        },
        PsharedOp::SemOpen { name, create, value } => match NamedSem::open(&name, create, value) {
            Ok(s) => {
                actor.sems.push(s);
                Reply::Values(vec![actor.sems.len() as i64 - 1])
            }
            Err(e) => Reply::Errno(errno_of(&e)),
        },
        PsharedOp::SemWait { sem: i } => done(sem(actor, i)?.wait()),
        PsharedOp::SemTrywait { sem: i } => match sem(actor, i)?.try_wait() {
            Ok(taken) => Reply::Values(vec![i64::from(taken)]),
            Err(e) => Reply::Errno(errno_of(&e)),
        },
        PsharedOp::SemPost { sem: i } => done(sem(actor, i)?.post()),
        PsharedOp::SemUnlink { name } => {
            if pshared::unlink(&name) {
                Reply::Done
            } else {
                Reply::Errno(errno_of(&std::io::Error::last_os_error()))
            }
        }
    })
}
