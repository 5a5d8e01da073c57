//! How an actor performs memfd operations.

use super::Actor;
use crate::os::{errno_of, memfd, shm};
use crate::pattern;
use crate::protocol::memfd::MemfdOp;
use crate::protocol::Reply;

fn done(r: std::io::Result<()>) -> Reply {
    match r {
        Ok(()) => Reply::Done,
        Err(e) => Reply::Errno(errno_of(&e)),
    }
}

/// Performs one memfd operation.
pub fn perform(actor: &mut Actor, op: MemfdOp) -> Result<Reply, Reply> {
    Ok(match op {
        MemfdOp::Create { sealing } => match memfd::create(sealing) {
            Ok(fd) => {
                let (slot, fd) = actor.push(fd);
                Reply::Opened { slot, fd }
            }
            Err(e) => Reply::Errno(errno_of(&e)),
        },
        MemfdOp::AddSeals { slot, seals } => done(memfd::add_seals(actor.fd(slot)?, seals)),
        MemfdOp::GetSeals { slot } => match memfd::seals(actor.fd(slot)?) {
            Ok(s) => Reply::Values(vec![i64::from(s.0)]),
            Err(e) => Reply::Errno(errno_of(&e)),
        },
        MemfdOp::Write { len, .. } if u64::from(len) > crate::case::MAX_OP_BYTES => {
            return Err(Reply::Refused(format!("a write of {len} bytes; at most {}", crate::case::MAX_OP_BYTES)));
        }
        MemfdOp::Write { slot, offset, len, tag } => {
            pattern::fill(&mut actor.buf, tag, u64::from(offset), len as usize);
            match memfd::pwrite(actor.fd(slot)?, &actor.buf, u64::from(offset)) {
                Ok(n) => Reply::Count(n as u64),
                Err(e) => Reply::Errno(errno_of(&e)),
            }
        }
        MemfdOp::Truncate { slot, len } => done(shm::truncate(actor.fd(slot)?, u64::from(len))),
        MemfdOp::Map { slot, shared, writable } => {
            match shm::Mapping::with(Some(actor.fd(slot)?), shm::page_size(), shared, writable) {
                Ok(m) => {
                    actor.maps.push(m);
                    Reply::Values(vec![actor.maps.len() as i64 - 1])
                }
                Err(e) => Reply::Errno(errno_of(&e)),
            }
        }
        MemfdOp::UnmapAll => {
            actor.maps.clear();
            Reply::Done
        }
        MemfdOp::Read { slot } => match memfd::contents(actor.fd(slot)?) {
            Ok(d) => Reply::Data(d),
            Err(e) => Reply::Errno(errno_of(&e)),
        },
    })
}
