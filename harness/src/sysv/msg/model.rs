//! The reference model of a System V message queue: it knows the queue's
//! messages in the order they were sent and who is blocked in a receive,
//! and says what each call may return (`sysv.msg.type-selection`):
//!
//! - `msgtyp` 0 selects the first message, `msgtyp > 0` the first of that
//!   type, `msgtyp < 0` the first of the lowest type not above `|msgtyp|`;
//! - the selected message is returned whole with its type and removed,
//!   unless its text is longer than the buffer: then `E2BIG`, and it stays;
//! - with none selected, a receive blocks (`ENOMSG` with `IPC_NOWAIT`);
//!   once a queued message selects for a blocked receive, one such
//!   receive must return; a blocked receive may fail with `E2BIG` once a
//!   message it selects, too long for it, was sent while it waited, even
//!   if another receive has taken that message since (Linux decides at
//!   the send, handing the message down the line of waiting receivers);
//! - a send (the queue never fills in a case) returns at once.
//!
//! Every message's text says which message it is
//! ([`crate::pattern::message`]).

use super::super::rules;
use super::{MsgCase, Op};
use crate::checker::{describe, violation, Checker, Event, Obligation, Violation};
use crate::observed::Observed;
use crate::protocol::Reply;

use crate::pattern::message_bytes as text;

/// The name of the observation counting messages received and judged.
pub const RECEIVED_OBSERVED: &str = "sysv messages received";

/// A blocked receive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Waiting {
    msgtyp: i64,
    max: u32,
    /// A message it selects, longer than `max`, was sent while it waited.
    too_long_sent: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Msg {
    id: u32,
    mtype: i64,
    len: u32,
}

/// Whether a receive by `msgtyp` would take `m` were it alone in the queue.
fn selects(msgtyp: i64, m: &Msg) -> bool {
    msgtyp == 0 || m.mtype == msgtyp || msgtyp < 0 && m.mtype <= -msgtyp
}

/// The reference model of one message-queue case.
#[derive(Clone, Debug)]
pub struct MsgModel {
    queue: Vec<Msg>,
    /// Per actor: the receive it is blocked in.
    pending: Vec<Option<Waiting>>,
    next_id: u32,
    received: u64,
}

impl MsgModel {
    /// An empty queue, nobody blocked.
    pub fn new(case: &MsgCase) -> MsgModel {
        MsgModel { queue: Vec::new(), pending: vec![None; usize::from(case.actors)], next_id: 0, received: 0 }
    }

    /// The id of the message the next send carries.
    pub fn next_id(&self) -> u32 {
        self.next_id
    }

    /// The message `msgtyp` selects, by its place in the queue.
    fn select(&self, msgtyp: i64) -> Option<usize> {
        match msgtyp {
            0 => (!self.queue.is_empty()).then_some(0),
            t if t > 0 => self.queue.iter().position(|m| m.mtype == t),
            t => {
                let lowest = self.queue.iter().map(|m| m.mtype).filter(|ty| *ty <= -t).min()?;
                self.queue.iter().position(|m| m.mtype == lowest)
            }
        }
    }

    fn err(&self, what: String) -> Violation {
        let types: Vec<String> = self.queue.iter().map(|m| format!("#{} type {}", m.id, m.mtype)).collect();
        violation(&[rules::MSG_TYPES], format!("{what} (queued, in order: [{}])", types.join(", ")))
    }

    /// A receive selecting by `msgtyp` into `max` bytes returned, and some
    /// message selects: it must be that one (or `E2BIG`, if it is longer).
    fn judge(&mut self, msgtyp: i64, max: u32, i: usize, observed: &Observed) -> Result<(), Violation> {
        let want = self.queue[i];
        if want.len > max {
            return match observed {
                Observed::Returned(Reply::Errno(libc::E2BIG)) => Ok(()),
                other => Err(self.err(format!(
                    "msgrcv msgtyp {msgtyp} into {max} bytes {}; the message it selects, #{} of type {}, has {} bytes: expected E2BIG",
                    describe(other),
                    want.id,
                    want.mtype,
                    want.len
                ))),
            };
        }
        if let Observed::Returned(Reply::Typed { mtype, data }) = observed {
            if *mtype == want.mtype && *data == text(want.id, want.len) {
                self.queue.remove(i);
                self.received += 1;
                return Ok(());
            }
            let got = match self.queue.iter().find(|m| *data == text(m.id, m.len)) {
                Some(m) => format!("message #{} (sent as type {}, returned as type {mtype})", m.id, m.mtype),
                None => format!("{} bytes of type {mtype} that are no message queued whole", data.len()),
            };
            return Err(self.err(format!(
                "msgrcv msgtyp {msgtyp} returned {got}; it selects message #{} of type {}",
                want.id, want.mtype
            )));
        }
        Err(self.err(format!(
            "msgrcv msgtyp {msgtyp} {}; it selects message #{} of type {}",
            describe(observed),
            want.id,
            want.mtype
        )))
    }

    fn step(&mut self, a: u8, op: Op, observed: &Observed) -> Result<(), Violation> {
        match op {
            Op::Send { mtype, len } => {
                let id = self.next_id;
                self.next_id += 1;
                match observed {
                    Observed::Returned(Reply::Done) => {
                        let msg = Msg { id, mtype, len };
                        self.queue.push(msg);
                        for w in self.pending.iter_mut().flatten() {
                            w.too_long_sent |= selects(w.msgtyp, &msg) && len > w.max;
                        }
                        Ok(())
                    }
                    other => Err(self.err(format!(
                        "msgsnd of type {mtype}, {len} bytes, to a queue with room {}; expected success",
                        describe(other)
                    ))),
                }
            }
            Op::Receive { msgtyp, max, nowait } => match self.select(msgtyp) {
                Some(i) => self.judge(msgtyp, max, i, observed),
                None => match observed {
                    Observed::Returned(Reply::Errno(libc::ENOMSG)) if nowait => Ok(()),
                    Observed::Blocked(_) if !nowait => {
                        self.pending[usize::from(a)] = Some(Waiting { msgtyp, max, too_long_sent: false });
                        Ok(())
                    }
                    other => Err(self.err(format!(
                        "msgrcv msgtyp {msgtyp}, with no message it selects, {}; expected {}",
                        describe(other),
                        if nowait { "ENOMSG (IPC_NOWAIT)" } else { "it to block" }
                    ))),
                },
            },
        }
    }
}

impl Checker for MsgModel {
    type Op = Op;

    fn can_issue(&self, actor: u8, _op: &Op) -> Result<(), &'static str> {
        crate::checker::idle(&self.pending, actor)
    }

    fn apply(&mut self, event: &Event<Op>) -> Result<(), Violation> {
        match event {
            Event::Step { actor, op, observed, .. } => self.step(*actor, *op, observed),
            Event::Skipped { .. } => Ok(()),
            Event::Completion { actor, observed } => {
                let Some(w) = self.pending.get_mut(usize::from(*actor)).and_then(Option::take) else {
                    return Err(self.err(format!("actor {actor}: a completion with nothing pending")));
                };
                let Waiting { msgtyp, max, too_long_sent } = w;
                match self.select(msgtyp) {
                    _ if too_long_sent && *observed == Observed::Returned(Reply::Errno(libc::E2BIG)) => Ok(()),
                    Some(i) => self.judge(msgtyp, max, i, observed),
                    None => Err(self.err(format!(
                        "a blocked msgrcv msgtyp {msgtyp} returned ({}) with no message it selects",
                        describe(observed)
                    ))),
                }
            }
        }
    }

    fn obligations(&self) -> Vec<Obligation> {
        let ready: Vec<u8> = (0..self.pending.len() as u8)
            .filter(|a| self.pending[usize::from(*a)].is_some_and(|w| self.select(w.msgtyp).is_some()))
            .collect();
        if ready.is_empty() {
            return Vec::new();
        }
        vec![Obligation {
            actors: ready,
            rule: rules::MSG_TYPES,
            why: "a message it selects is queued, so a blocked msgrcv must return".into(),
        }]
    }

    fn observations(&self) -> Vec<(String, u64)> {
        vec![(RECEIVED_OBSERVED.to_string(), self.received)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::Evidence;

    fn step(m: &mut MsgModel, a: u8, op: Op, observed: Observed) -> Result<(), Violation> {
        m.apply(&Event::Step { index: 0, actor: a, op, observed })
    }

    fn got(id: u32, mtype: i64, len: u32) -> Observed {
        Observed::Returned(Reply::Typed { mtype, data: text(id, len) })
    }

    fn recv(msgtyp: i64) -> Op {
        Op::Receive { msgtyp, max: 48, nowait: true }
    }

    fn model_with(types: &[i64]) -> MsgModel {
        let mut m = MsgModel::new(&MsgCase { actors: 2, steps: vec![] });
        for t in types {
            step(&mut m, 0, Op::Send { mtype: *t, len: 4 }, Observed::Returned(Reply::Done)).unwrap();
        }
        m
    }

    #[test]
    fn msgtyp_zero_positive_and_negative_select_as_documented() {
        // #0 type 3, #1 type 2, #2 type 5, #3 type 2.
        let m = model_with(&[3, 2, 5, 2]);
        assert_eq!(m.select(0), Some(0), "the first");
        assert_eq!(m.select(2), Some(1), "the first of type 2");
        assert_eq!(m.select(4), None);
        assert_eq!(m.select(-1), None, "nothing of type 1 or less");
        assert_eq!(m.select(-3), Some(1), "the lowest type <= 3 is 2: its first");
        assert_eq!(m.select(-6), Some(1));
        let mut m = m;
        assert!(step(&mut m.clone(), 1, recv(-3), got(0, 3, 4)).is_err(), "the oldest is not the lowest type");
        assert!(step(&mut m.clone(), 1, recv(-3), got(3, 2, 4)).is_err(), "not the first of type 2");
        assert!(step(&mut m.clone(), 1, recv(-3), got(1, 3, 4)).is_err(), "the type reported is the message's");
        step(&mut m, 1, recv(-3), got(1, 2, 4)).unwrap();
        step(&mut m, 1, recv(0), got(0, 3, 4)).unwrap();
        step(&mut m, 1, recv(4), Observed::Returned(Reply::Errno(libc::ENOMSG))).unwrap();
        assert_eq!(m.observations()[0].1, 2);
    }

    #[test]
    fn a_receive_blocks_until_a_message_it_selects_arrives_and_a_long_one_stays_with_e2big() {
        let mut m = model_with(&[4]);
        let blocking = Op::Receive { msgtyp: 2, max: 2, nowait: false };
        assert!(step(&mut m.clone(), 1, blocking, Observed::Returned(Reply::Errno(libc::ENOMSG))).is_err());
        step(&mut m, 1, blocking, Observed::Blocked(Evidence::ThreadState("S".into()))).unwrap();
        step(&mut m, 0, Op::Send { mtype: 3, len: 1 }, Observed::Returned(Reply::Done)).unwrap();
        assert!(m.obligations().is_empty(), "type 3 does not end a wait for type 2");
        assert!(m.can_issue(1, &recv(0)).is_err());
        step(&mut m, 0, Op::Send { mtype: 2, len: 4 }, Observed::Returned(Reply::Done)).unwrap();
        assert_eq!(m.obligations()[0].actors, vec![1]);
        let done = |m: &mut MsgModel, o: Observed| m.apply(&Event::Completion { actor: 1, observed: o });
        assert!(done(&mut m.clone(), got(2, 2, 4)).is_err(), "4 bytes do not fit a buffer of 2");
        done(&mut m, Observed::Returned(Reply::Errno(libc::E2BIG))).unwrap();
        // It stays: the first of type 2 is still #2.
        step(&mut m, 1, recv(2), got(2, 2, 4)).unwrap();
    }

    #[test]
    fn a_receive_blocked_when_a_too_long_message_came_may_fail_with_e2big_after_another_took_it() {
        // Seen on Linux: receive A (type 2, no room) and then B (any type,
        // room) blocked; a 1-byte message of type 2 came; A failed with
        // E2BIG and B took the message, reported in either order.
        let mut m = model_with(&[]);
        let mut m3 = MsgModel::new(&MsgCase { actors: 3, steps: vec![] });
        let blocked = || Observed::Blocked(Evidence::ThreadState("S".into()));
        step(&mut m3, 2, Op::Receive { msgtyp: 2, max: 0, nowait: false }, blocked()).unwrap();
        step(&mut m3, 0, Op::Receive { msgtyp: 0, max: 48, nowait: false }, blocked()).unwrap();
        step(&mut m3, 1, Op::Send { mtype: 2, len: 1 }, Observed::Returned(Reply::Done)).unwrap();
        let mut other_order = m3.clone();
        m3.apply(&Event::Completion { actor: 0, observed: got(0, 2, 1) }).unwrap();
        m3.apply(&Event::Completion { actor: 2, observed: Observed::Returned(Reply::Errno(libc::E2BIG)) }).unwrap();
        other_order
            .apply(&Event::Completion { actor: 2, observed: Observed::Returned(Reply::Errno(libc::E2BIG)) })
            .unwrap();
        other_order.apply(&Event::Completion { actor: 0, observed: got(0, 2, 1) }).unwrap();
        // Without such a message, a blocked receive may not fail so.
        step(&mut m, 1, Op::Receive { msgtyp: 2, max: 0, nowait: false }, blocked()).unwrap();
        step(&mut m, 0, Op::Send { mtype: 3, len: 9 }, Observed::Returned(Reply::Done)).unwrap();
        let v = m.apply(&Event::Completion { actor: 1, observed: Observed::Returned(Reply::Errno(libc::E2BIG)) });
        assert!(v.is_err(), "a long message of another type owes it nothing");
    }
}
