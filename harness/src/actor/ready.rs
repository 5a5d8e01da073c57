//! How an actor performs readiness operations.

use super::Actor;
use crate::os::errno_of;
use crate::os::ready::{self, Watch};
use crate::protocol::ready::ReadyOp;
use crate::protocol::Reply;

/// Performs one readiness operation.
pub fn perform(actor: &mut Actor, op: ReadyOp) -> Result<Reply, Reply> {
    Ok(match op {
        ReadyOp::Probe { slot, with, interest } => {
            let fd = actor.fd(slot)?;
            let mut answers = Vec::new();
            for how in with.list() {
                match ready::probe(fd, how, interest) {
                    Ok(r) => answers.push(r.to_bits()),
                    Err(e) => return Err(Reply::Refused(format!("{how} could not be asked: {e}"))),
                }
            }
            Reply::Values(answers)
        }
        ReadyOp::Arm { slot, how, edge } => {
            actor.watch = None;
            match Watch::new(actor.fd(slot)?, how, edge) {
                Ok(w) => {
                    actor.watch = Some(w);
                    Reply::Done
                }
                Err(e) => Reply::Errno(errno_of(&e)),
            }
        }
        ReadyOp::Wait { slot, how, interest } => match ready::wait(actor.fd(slot)?, how, interest) {
            Ok(r) => Reply::Values(vec![r.to_bits()]),
            Err(e) => Reply::Errno(errno_of(&e)),
        },
        ReadyOp::Harvest => match &actor.watch {
            None => Reply::Refused("no registration to ask".into()),
            Some(w) => match w.harvest() {
                Ok(got) => Reply::Values(got.map(|r| r.to_bits()).into_iter().collect()),
                Err(e) => Reply::Errno(errno_of(&e)),
            },
        },
    })
}
