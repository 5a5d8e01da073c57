//! The reference model of a message-queue case: it knows every queue's
//! messages in arrival order, where the name points, each actor's
//! descriptors, and who is blocked, and says what each call may return
//! (see `spec/rules/mqueue.toml`):
//!
//! - a send longer than `mq_msgsize` fails with `EMSGSIZE`, and a receive
//!   into less than `mq_msgsize` too, whatever the queue holds
//!   (`mqueue.size-limits`);
//! - a send to a full queue blocks (`EAGAIN` through a non-blocking
//!   descriptor), one to a queue with room returns at once
//!   (`mqueue.full-blocks`); a receive from an empty queue blocks
//!   (`EAGAIN`), one from a queue holding a message returns at once
//!   (`mqueue.empty-blocks`);
//! - a receive returns the oldest message of the highest priority, whole,
//!   with its priority (`mqueue.order.priority`): every message's bytes
//!   say which it is ([`crate::pattern::message`]);
//! - an unlink removes the name (a second one: `ENOENT`), an open without
//!   `O_CREAT` then fails with `ENOENT`, an exclusive create makes a new,
//!   empty queue (`EEXIST` while the name exists), and descriptors opened
//!   before reach their old queue (`mqueue.name.lifetime`);
//! - once a queue holds a message, one receive blocked on it must return;
//!   once it has room, one send blocked on it must.

use super::{rules, MqueueCase, Op};
use crate::checker::{describe, violation, Checker, Event, Obligation, Violation};
use crate::observed::Observed;
use crate::protocol::Reply;

use crate::pattern::message_bytes as bytes;

/// The name of the observation counting messages received and judged.
pub const RECEIVED_OBSERVED: &str = "mqueue messages received";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Msg {
    id: u32,
    prio: u32,
    len: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Desc {
    queue: usize,
    nonblock: bool,
    open: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    Send { queue: usize, msg: Msg },
    Receive { queue: usize },
}

/// The reference model of one message-queue case.
#[derive(Clone, Debug)]
pub struct QueueModel {
    maxmsg: usize,
    msgsize: u32,
    /// Every queue the case made (0: the first), its messages in arrival
    /// order.
    queues: Vec<Vec<Msg>>,
    /// The queue the name refers to, if the name exists.
    name: Option<usize>,
    /// Per actor: its descriptors in opening order.
    descs: Vec<Vec<Desc>>,
    /// Per actor: the call it is blocked in.
    pending: Vec<Option<Pending>>,
    /// The id the next send's message gets.
    next_id: u32,
    received: u64,
}

impl QueueModel {
    /// The first queue made and named, each actor holding its first
    /// descriptor to it.
    pub fn new(case: &MqueueCase) -> QueueModel {
        QueueModel {
            maxmsg: case.maxmsg as usize,
            msgsize: case.msgsize,
            queues: vec![Vec::new()],
            name: Some(0),
            descs: case.nonblock.iter().map(|nb| vec![Desc { queue: 0, nonblock: *nb, open: true }]).collect(),
            pending: vec![None; usize::from(case.actors)],
            next_id: 0,
            received: 0,
        }
    }

    /// The id of the message the next send carries.
    pub fn next_id(&self) -> u32 {
        self.next_id
    }

    fn desc(&self, a: u8, d: u8) -> Option<Desc> {
        self.descs.get(usize::from(a))?.get(usize::from(d)).copied().filter(|d| d.open)
    }

    /// Actor `a`'s open descriptor `d` (the engine issues no step on any
    /// other: [`Checker::can_issue`]).
    fn open_desc(&self, a: u8, d: u8) -> Result<Desc, Violation> {
        self.desc(a, d).ok_or_else(|| violation(&[rules::NAME], format!("actor {a}: no open descriptor {d}")))
    }

    /// The rule a call's unexpected failure counts against: the name's,
    /// for a descriptor whose queue is no longer named (it must go on
    /// working), else `rule`.
    fn rule_for(&self, queue: usize, rule: &'static str) -> &'static str {
        if self.name == Some(queue) {
            rule
        } else {
            rules::NAME
        }
    }

    fn state(&self, queue: usize) -> String {
        let q = &self.queues[queue];
        let unnamed = if self.name == Some(queue) { "" } else { ", no longer named" };
        format!("queue {queue} holds {} of {} message(s){unnamed}", q.len(), self.maxmsg)
    }

    fn err(&self, rule: &'static str, queue: usize, what: String) -> Violation {
        violation(&[rule], format!("{what} ({})", self.state(queue)))
    }

    fn full(&self, queue: usize) -> bool {
        self.queues[queue].len() >= self.maxmsg
    }

    /// A receive from `queue` returned `reply`: it must be the oldest
    /// message of the highest priority, whole.
    fn received(&mut self, queue: usize, reply: &Reply) -> Result<(), Violation> {
        let q = &self.queues[queue];
        let top = q.iter().map(|m| m.prio).max();
        let Some(best) = q.iter().position(|m| Some(m.prio) == top) else {
            return Err(self.err(rules::EMPTY, queue, "a receive returned from an empty queue".into()));
        };
        let want = q[best];
        let Reply::Message { data, prio } = reply else {
            let rule = self.rule_for(queue, rules::EMPTY);
            return Err(self.err(
                rule,
                queue,
                format!(
                    "a receive {}; owed message #{} ({} bytes, priority {})",
                    describe(&Observed::Returned(reply.clone())),
                    want.id,
                    want.len,
                    want.prio
                ),
            ));
        };
        if *data == bytes(want.id, want.len) && *prio == want.prio {
            self.queues[queue].remove(best);
            self.received += 1;
            return Ok(());
        }
        let got = match q.iter().find(|m| *data == bytes(m.id, m.len)) {
            Some(m) => {
                format!("message #{} ({} bytes, sent at priority {}, reported at priority {prio})", m.id, m.len, m.prio)
            }
            None => format!(
                "{} bytes at priority {prio} that are no message queued whole (bytes lost, cut or mixed)",
                data.len()
            ),
        };
        Err(self.err(
            rules::ORDER,
            queue,
            format!(
                "a receive returned {got}; owed the oldest of the highest priority, message #{} ({} bytes, priority {})",
                want.id, want.len, want.prio
            ),
        ))
    }

    fn step(&mut self, a: u8, op: Op, observed: &Observed) -> Result<(), Violation> {
        let errno = match observed {
            Observed::Returned(Reply::Errno(e)) => Some(*e),
            _ => None,
        };
        let returned = |r: &Reply| matches!(observed, Observed::Returned(x) if x == r);
        let seen = describe(observed);
        match op {
            Op::Send { d, len, prio } => {
                let desc = self.open_desc(a, d)?;
                let q = desc.queue;
                let msg = Msg { id: self.next_id, prio, len };
                self.next_id += 1;
                if len > self.msgsize {
                    return match errno {
                        Some(libc::EMSGSIZE) => Ok(()),
                        _ => Err(self.err(
                            rules::SIZE,
                            q,
                            format!(
                                "a send of {len} bytes, longer than mq_msgsize {}, {seen}; expected EMSGSIZE",
                                self.msgsize
                            ),
                        )),
                    };
                }
                if self.full(q) {
                    return match observed {
                        _ if desc.nonblock && errno == Some(libc::EAGAIN) => Ok(()),
                        Observed::Blocked(_) if !desc.nonblock => {
                            self.pending[usize::from(a)] = Some(Pending::Send { queue: q, msg });
                            Ok(())
                        }
                        _ => Err(self.err(
                            rules::FULL,
                            q,
                            format!(
                                "a send to the full queue {seen}; expected {}",
                                if desc.nonblock { "EAGAIN (O_NONBLOCK)" } else { "it to block" }
                            ),
                        )),
                    };
                }
                if returned(&Reply::Done) {
                    self.queues[q].push(msg);
                    return Ok(());
                }
                let rule =
                    if matches!(observed, Observed::Blocked(_)) { rules::FULL } else { self.rule_for(q, rules::FULL) };
                Err(self.err(
                    rule,
                    q,
                    format!("a send of {len} bytes to a queue with room {seen}; expected it to return at once"),
                ))
            }
            Op::Receive { d, buf } => {
                let desc = self.open_desc(a, d)?;
                let q = desc.queue;
                if buf < self.msgsize {
                    return match errno {
                        Some(libc::EMSGSIZE) => Ok(()),
                        _ => Err(self.err(
                            rules::SIZE,
                            q,
                            format!(
                                "a receive into {buf} bytes, fewer than mq_msgsize {}, {seen}; expected EMSGSIZE",
                                self.msgsize
                            ),
                        )),
                    };
                }
                if self.queues[q].is_empty() {
                    return match observed {
                        _ if desc.nonblock && errno == Some(libc::EAGAIN) => Ok(()),
                        Observed::Blocked(_) if !desc.nonblock => {
                            self.pending[usize::from(a)] = Some(Pending::Receive { queue: q });
                            Ok(())
                        }
                        _ => Err(self.err(
                            rules::EMPTY,
                            q,
                            format!(
                                "a receive from the empty queue {seen}; expected {}",
                                if desc.nonblock { "EAGAIN (O_NONBLOCK)" } else { "it to block" }
                            ),
                        )),
                    };
                }
                match observed {
                    Observed::Returned(reply) => self.received(q, reply),
                    other => Err(self.err(
                        rules::EMPTY,
                        q,
                        format!(
                            "a receive from a queue holding a message {}; expected it to return at once",
                            describe(other)
                        ),
                    )),
                }
            }
            Op::Unlink => match self.name {
                Some(_) if returned(&Reply::Done) => {
                    self.name = None;
                    Ok(())
                }
                None if errno == Some(libc::ENOENT) => Ok(()),
                Some(q) => {
                    Err(self.err(rules::NAME, q, format!("mq_unlink of the existing name {seen}; expected success")))
                }
                None => Err(violation(
                    &[rules::NAME],
                    format!("mq_unlink of a name already unlinked {seen}; expected ENOENT"),
                )),
            },
            Op::Open { create, nonblock } => {
                let opened = matches!(observed, Observed::Returned(Reply::Opened { .. }));
                match (create, self.name) {
                    (false, Some(q)) if opened => {
                        self.descs[usize::from(a)].push(Desc { queue: q, nonblock, open: true });
                        Ok(())
                    }
                    (true, None) if opened => {
                        self.queues.push(Vec::new());
                        let q = self.queues.len() - 1;
                        self.name = Some(q);
                        self.descs[usize::from(a)].push(Desc { queue: q, nonblock, open: true });
                        Ok(())
                    }
                    (false, None) if errno == Some(libc::ENOENT) => Ok(()),
                    (true, Some(_)) if errno == Some(libc::EEXIST) => Ok(()),
                    (false, None) => Err(violation(
                        &[rules::NAME],
                        format!("mq_open without O_CREAT of a name unlinked {seen}; expected ENOENT"),
                    )),
                    (true, Some(q)) => Err(self.err(
                        rules::NAME,
                        q,
                        format!("mq_open with O_CREAT | O_EXCL of an existing name {seen}; expected EEXIST"),
                    )),
                    (false, Some(q)) => Err(self.err(rules::NAME, q, format!("mq_open of the existing name {seen}"))),
                    (true, None) => Err(violation(
                        &[rules::NAME],
                        format!("mq_open with O_CREAT | O_EXCL of a free name {seen}; expected a new queue"),
                    )),
                }
            }
            Op::Close { d } => {
                let desc = self.open_desc(a, d)?;
                if !returned(&Reply::Done) {
                    return Err(self.err(rules::NAME, desc.queue, format!("mq_close of descriptor {d} {seen}")));
                }
                self.descs[usize::from(a)][usize::from(d)].open = false;
                Ok(())
            }
        }
    }

    fn completed(&mut self, a: u8, observed: &Observed) -> Result<(), Violation> {
        let Some(pending) = self.pending.get_mut(usize::from(a)).and_then(Option::take) else {
            return Err(violation(
                &[rules::EMPTY, rules::FULL],
                format!("actor {a}: a completion with nothing pending: {}", describe(observed)),
            ));
        };
        match pending {
            Pending::Send { queue, msg } => {
                if self.full(queue) {
                    return Err(self.err(
                        rules::FULL,
                        queue,
                        format!("a blocked send returned ({}) although the queue is still full", describe(observed)),
                    ));
                }
                match observed {
                    Observed::Returned(Reply::Done) => {
                        self.queues[queue].push(msg);
                        Ok(())
                    }
                    other => Err(self.err(
                        self.rule_for(queue, rules::FULL),
                        queue,
                        format!("a blocked send, once the queue had room, {}; expected success", describe(other)),
                    )),
                }
            }
            Pending::Receive { queue } => {
                if self.queues[queue].is_empty() {
                    return Err(self.err(
                        rules::EMPTY,
                        queue,
                        format!(
                            "a blocked receive returned ({}) although the queue is still empty",
                            describe(observed)
                        ),
                    ));
                }
                match observed {
                    Observed::Returned(reply) => self.received(queue, reply),
                    other => Err(self.err(rules::EMPTY, queue, format!("a blocked receive: {}", describe(other)))),
                }
            }
        }
    }
}

impl Checker for QueueModel {
    type Op = Op;

    fn can_issue(&self, actor: u8, op: &Op) -> Result<(), &'static str> {
        crate::checker::idle(&self.pending, actor)?;
        match op {
            Op::Send { d, .. } | Op::Receive { d, .. } | Op::Close { d } if self.desc(actor, *d).is_none() => {
                Err("the actor holds no such open descriptor")
            }
            _ => Ok(()),
        }
    }

    fn apply(&mut self, event: &Event<Op>) -> Result<(), Violation> {
        match event {
            Event::Step { actor, op, observed, .. } => self.step(*actor, *op, observed),
            Event::Skipped { .. } => Ok(()),
            Event::Completion { actor, observed } => self.completed(*actor, observed),
        }
    }

    fn obligations(&self) -> Vec<Obligation> {
        let blocked = |pick: &dyn Fn(&Pending) -> bool| -> Vec<u8> {
            (0..self.pending.len() as u8).filter(|a| self.pending[usize::from(*a)].as_ref().is_some_and(pick)).collect()
        };
        for q in 0..self.queues.len() {
            let receivers = blocked(&|p| *p == Pending::Receive { queue: q });
            if !receivers.is_empty() && !self.queues[q].is_empty() {
                return vec![Obligation {
                    actors: receivers,
                    rule: rules::EMPTY,
                    why: format!("{}, so a receive blocked on it must return", self.state(q)),
                }];
            }
            let senders = blocked(&|p| matches!(p, Pending::Send { queue, .. } if *queue == q));
            if !senders.is_empty() && !self.full(q) {
                return vec![Obligation {
                    actors: senders,
                    rule: rules::FULL,
                    why: format!("{}, so a send blocked on it must return", self.state(q)),
                }];
            }
        }
        Vec::new()
    }

    fn observations(&self) -> Vec<(String, u64)> {
        vec![(RECEIVED_OBSERVED.to_string(), self.received)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::Evidence;

    fn case(actors: u8, maxmsg: u32, msgsize: u32) -> MqueueCase {
        MqueueCase { actors, maxmsg, msgsize, nonblock: vec![false; usize::from(actors)], steps: vec![] }
    }

    fn step(m: &mut QueueModel, a: u8, op: Op, observed: Observed) -> Result<(), Violation> {
        m.apply(&Event::Step { index: 0, actor: a, op, observed })
    }

    fn ret(r: Reply) -> Observed {
        Observed::Returned(r)
    }

    fn blocked() -> Observed {
        Observed::Blocked(Evidence::ThreadState("S".into()))
    }

    fn msg(id: u32, len: u32, prio: u32) -> Reply {
        Reply::Message { data: bytes(id, len), prio }
    }

    fn send(len: u32, prio: u32) -> Op {
        Op::Send { d: 0, len, prio }
    }

    const RECV: Op = Op::Receive { d: 0, buf: 64 };

    #[test]
    fn a_receive_owes_the_oldest_message_of_the_highest_priority() {
        let mut m = QueueModel::new(&case(2, 8, 64));
        for (len, prio) in [(3, 1), (4, 5), (5, 5), (6, 0)] {
            step(&mut m, 0, send(len, prio), ret(Reply::Done)).unwrap();
        }
        // #1 (prio 5) before #2 (prio 5, younger), then #0, then #3.
        let v = step(&mut m.clone(), 1, RECV, ret(msg(2, 5, 5))).unwrap_err();
        assert_eq!(v.rules, vec![rules::ORDER]);
        assert!(v.message.contains("message #2"), "{}", v.message);
        let v = step(&mut m.clone(), 1, RECV, ret(msg(1, 4, 0))).unwrap_err();
        assert_eq!(v.rules, vec![rules::ORDER], "the priority reported must be the message's");
        let v = step(&mut m.clone(), 1, RECV, ret(Reply::Message { data: bytes(1, 3), prio: 5 })).unwrap_err();
        assert!(v.message.contains("no message queued whole"), "{}", v.message);
        for (id, len, prio) in [(1, 4, 5), (2, 5, 5), (0, 3, 1), (3, 6, 0)] {
            step(&mut m, 1, RECV, ret(msg(id, len, prio))).unwrap();
        }
        assert_eq!(m.observations()[0].1, 4);
    }

    #[test]
    fn a_full_queue_blocks_a_send_until_a_receive_and_refuses_a_nonblocking_one() {
        let mut c = case(2, 1, 16);
        c.nonblock = vec![false, true];
        let mut m = QueueModel::new(&c);
        assert_eq!(step(&mut m.clone(), 0, send(1, 0), blocked()).unwrap_err().rules, vec![rules::FULL], "room");
        step(&mut m, 0, send(1, 0), ret(Reply::Done)).unwrap();
        assert_eq!(step(&mut m.clone(), 1, send(1, 0), ret(Reply::Done)).unwrap_err().rules, vec![rules::FULL]);
        step(&mut m, 1, send(2, 0), ret(Reply::Errno(libc::EAGAIN))).unwrap();
        assert_eq!(step(&mut m.clone(), 0, send(3, 7), ret(Reply::Done)).unwrap_err().rules, vec![rules::FULL]);
        step(&mut m, 0, send(3, 7), blocked()).unwrap();
        assert!(m.obligations().is_empty(), "still full");
        assert!(m.can_issue(0, &send(1, 0)).is_err());
        step(&mut m, 1, Op::Receive { d: 0, buf: 16 }, ret(msg(0, 1, 0))).unwrap();
        assert_eq!(m.obligations()[0].rule, rules::FULL);
        m.apply(&Event::Completion { actor: 0, observed: ret(Reply::Done) }).unwrap();
        step(&mut m, 1, Op::Receive { d: 0, buf: 16 }, ret(msg(2, 3, 7))).unwrap();
    }

    #[test]
    fn an_empty_queue_blocks_a_receive_until_a_send_and_refuses_a_nonblocking_one() {
        let mut c = case(2, 4, 16);
        c.nonblock = vec![false, true];
        let mut m = QueueModel::new(&c);
        let recv = Op::Receive { d: 0, buf: 16 };
        assert_eq!(step(&mut m.clone(), 1, recv, blocked()).unwrap_err().rules, vec![rules::EMPTY]);
        step(&mut m, 1, recv, ret(Reply::Errno(libc::EAGAIN))).unwrap();
        assert_eq!(
            step(&mut m.clone(), 0, recv, ret(Reply::Errno(libc::EAGAIN))).unwrap_err().rules,
            vec![rules::EMPTY]
        );
        step(&mut m, 0, recv, blocked()).unwrap();
        assert!(m.obligations().is_empty());
        let early = m.clone().apply(&Event::Completion { actor: 0, observed: ret(msg(0, 2, 0)) }).unwrap_err();
        assert_eq!(early.rules, vec![rules::EMPTY]);
        step(&mut m, 1, send(2, 9), ret(Reply::Done)).unwrap();
        assert_eq!(m.obligations()[0].actors, vec![0]);
        m.apply(&Event::Completion { actor: 0, observed: ret(msg(0, 2, 9)) }).unwrap();
        assert!(m.obligations().is_empty());
    }

    #[test]
    fn oversize_messages_and_short_buffers_fail_with_emsgsize_full_or_empty() {
        let mut m = QueueModel::new(&case(1, 1, 8));
        let v = step(&mut m.clone(), 0, send(9, 0), ret(Reply::Done)).unwrap_err();
        assert_eq!(v.rules, vec![rules::SIZE]);
        step(&mut m, 0, send(9, 0), ret(Reply::Errno(libc::EMSGSIZE))).unwrap();
        let short = Op::Receive { d: 0, buf: 7 };
        assert_eq!(step(&mut m.clone(), 0, short, blocked()).unwrap_err().rules, vec![rules::SIZE], "empty");
        step(&mut m, 0, short, ret(Reply::Errno(libc::EMSGSIZE))).unwrap();
        step(&mut m, 0, send(0, 0), ret(Reply::Done)).unwrap();
        step(&mut m, 0, send(9, 0), ret(Reply::Errno(libc::EMSGSIZE))).unwrap();
        step(&mut m, 0, short, ret(Reply::Errno(libc::EMSGSIZE))).unwrap();
        // The message of 0 bytes is #2 (#0 and #1 were refused).
        step(&mut m, 0, Op::Receive { d: 0, buf: 8 }, ret(msg(2, 0, 0))).unwrap();
    }

    #[test]
    fn after_an_unlink_the_name_is_gone_and_old_descriptors_keep_their_queue() {
        let mut m = QueueModel::new(&case(2, 4, 16));
        step(&mut m, 0, send(1, 0), ret(Reply::Done)).unwrap();
        step(&mut m, 1, Op::Unlink, ret(Reply::Done)).unwrap();
        let v = step(&mut m.clone(), 1, Op::Unlink, ret(Reply::Done)).unwrap_err();
        assert_eq!(v.rules, vec![rules::NAME]);
        step(&mut m, 1, Op::Unlink, ret(Reply::Errno(libc::ENOENT))).unwrap();
        let opened = || ret(Reply::Opened { slot: 1, fd: 7 });
        let reopen = Op::Open { create: false, nonblock: true };
        assert_eq!(step(&mut m.clone(), 1, reopen, opened()).unwrap_err().rules, vec![rules::NAME]);
        step(&mut m, 1, reopen, ret(Reply::Errno(libc::ENOENT))).unwrap();
        step(&mut m, 1, Op::Open { create: true, nonblock: true }, opened()).unwrap();
        let again = Op::Open { create: true, nonblock: false };
        step(&mut m, 0, again, ret(Reply::Errno(libc::EEXIST))).unwrap();
        // The new queue is empty; the old one still holds #0 for the old descriptor.
        let new = Op::Receive { d: 1, buf: 16 };
        assert_eq!(step(&mut m.clone(), 1, new, ret(msg(0, 1, 0))).unwrap_err().rules, vec![rules::EMPTY]);
        step(&mut m, 1, new, ret(Reply::Errno(libc::EAGAIN))).unwrap();
        let v = step(&mut m.clone(), 1, Op::Receive { d: 0, buf: 16 }, ret(Reply::Errno(libc::EBADF))).unwrap_err();
        assert_eq!(v.rules, vec![rules::NAME], "an unlinked queue's descriptor must keep working");
        step(&mut m, 1, Op::Receive { d: 0, buf: 16 }, ret(msg(0, 1, 0))).unwrap();
        step(&mut m, 1, Op::Close { d: 0 }, ret(Reply::Done)).unwrap();
        assert!(m.can_issue(1, &Op::Receive { d: 0, buf: 16 }).is_err(), "closed");
    }
}
