//! How an actor performs System V operations.

use super::Actor;
use crate::os::{errno_of, sysv};
use crate::pattern;
use crate::protocol::sysv::SysvOp;
use crate::protocol::Reply;

/// Performs one System V operation.
pub fn perform(actor: &mut Actor, op: SysvOp) -> Result<Reply, Reply> {
    Ok(match op {
        SysvOp::MsgSend { len, .. } | SysvOp::MsgReceive { max: len, .. }
            if u64::from(len) > crate::case::MAX_OP_BYTES =>
        {
            return Err(Reply::Refused(format!("a message of {len} bytes; at most {}", crate::case::MAX_OP_BYTES)));
        }
        SysvOp::MsgSend { id, mtype, len, tag, start } => {
            pattern::fill(&mut actor.buf, tag, start, len as usize);
            match sysv::msg_send(id, mtype, &actor.buf, false) {
                Ok(()) => Reply::Done,
                Err(e) => Reply::Errno(errno_of(&e)),
            }
        }
        SysvOp::MsgReceive { id, max, msgtyp, nowait } => match sysv::msg_receive(id, max as usize, msgtyp, nowait) {
            Ok((mtype, data)) => Reply::Typed { mtype, data },
            Err(e) => Reply::Errno(errno_of(&e)),
        },
        SysvOp::SemOp { id, ops, nowait } => match sysv::sem_op(id, &ops, nowait) {
            Ok(()) => Reply::Done,
            Err(e) => Reply::Errno(errno_of(&e)),
        },
        SysvOp::ShmAttach { id } => match sysv::shm_attach(id) {
            Ok(addr) => {
                actor.segments.push(Some(addr));
                Reply::Values(vec![actor.segments.len() as i64 - 1])
            }
            Err(e) => Reply::Errno(errno_of(&e)),
        },
        SysvOp::ShmDetach { at } => {
            let addr = segment(actor, at)?;
            actor.segments[at as usize] = None;
            // SAFETY: the attachment is this actor's, and no longer used.
            match unsafe { sysv::shm_detach(addr) } {
                Ok(()) => Reply::Done,
                Err(e) => Reply::Errno(errno_of(&e)),
            }
        }
        SysvOp::ShmStore { at, word, value } => {
            let p = word_of(actor, at, word)?;
            // SAFETY: `p` is an aligned word inside a live attachment.
            unsafe { std::ptr::write_volatile(p, value) };
            Reply::Done
        }
        SysvOp::ShmLoad { at, word } => {
            let p = word_of(actor, at, word)?;
            // SAFETY: `p` is an aligned word inside a live attachment.
            Reply::Values(vec![unsafe { std::ptr::read_volatile(p) } as i64])
        }
        SysvOp::ShmFind { key } => match sysv::shm_find(key) {
            Ok(id) => Reply::Values(vec![i64::from(id)]),
            Err(e) => Reply::Errno(errno_of(&e)),
        },
        SysvOp::ShmRemove { id } => match sysv::shm_mark_removed(id) {
            Ok(()) => Reply::Done,
            Err(e) => Reply::Errno(errno_of(&e)),
        },
        SysvOp::ShmStat { id } => match sysv::shm_attachments(id) {
            Ok(n) => Reply::Values(vec![n as i64]),
            Err(e) => Reply::Errno(errno_of(&e)),
        },
    })
}

/// The address of attachment `at`, or a refusal naming it.
fn segment(actor: &Actor, at: u32) -> Result<usize, Reply> {
    actor.segments.get(at as usize).copied().flatten().ok_or_else(|| Reply::Refused(format!("no attachment {at}")))
}

/// Word `word` of attachment `at` (the harness's segments are one page).
fn word_of(actor: &Actor, at: u32, word: u32) -> Result<*mut u64, Reply> {
    if word >= crate::sysv::shm::WORDS {
        return Err(Reply::Refused(format!("word {word} is past the segment's first page")));
    }
    Ok((segment(actor, at)? + word as usize * 8) as *mut u64)
}
