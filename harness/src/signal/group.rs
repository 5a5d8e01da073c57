//! Process groups (`signal.group`): one scenario, its case type, its
//! model and its executor. A supervisor actor forks members of one new
//! process group (the first member's pid is the group's id) and
//! outsiders, each in a group of its own, all with `SIGUSR1` blocked;
//! it sends `SIGUSR1` to the group (`kill(-pgid)`) and asks every child
//! whether `SIGUSR1` is pending: owed in every member once sent, in no
//! outsider ever. The children end and are reaped with the case.

use super::rules;
use crate::case::{CaseReport, Stop};
use crate::checker::{describe, violation, Checker, Event, Obligation, Violation};
use crate::engine::{Invocation, Mechanism};
use crate::observed::Observed;
use crate::protocol::signal::SignalOp;
use crate::protocol::{Reply, Request};
use crate::session::Session;
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One operation of the supervisor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// Fork a member of the group (the first one makes it).
    Member,
    /// Fork an outsider, in a new group of its own.
    Outsider,
    /// `kill(-pgid, SIGUSR1)`.
    KillGroup,
    /// Is `SIGUSR1` pending in child `i` (spawn order)?
    Ask(u8),
    /// Let every child go and reap it (the case's last step, always).
    End,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Member => f.write_str("fork a member of the group (SIGUSR1 blocked)"),
            Op::Outsider => f.write_str("fork an outsider in a group of its own (SIGUSR1 blocked)"),
            Op::KillGroup => f.write_str("kill(-pgid, SIGUSR1)"),
            Op::Ask(i) => write!(f, "is SIGUSR1 pending in child {i}? (sigpending)"),
            Op::End => f.write_str("let every child go and reap it"),
        }
    }
}

/// The most children a case forks.
pub const MAX_CHILDREN: usize = 6;

/// A process-group case: the supervisor's steps (actor 0).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupCase {
    /// What it does, in order.
    pub steps: Vec<Op>,
}

impl GroupCase {
    /// Whether the case is within range (a replay file may not be).
    pub fn validate(&self) -> Result<(), String> {
        let mut children = 0;
        let mut members = 0;
        for (i, op) in self.steps.iter().enumerate() {
            match op {
                Op::Member | Op::Outsider if children == MAX_CHILDREN => {
                    return Err(format!("step {}: more than {MAX_CHILDREN} children", i + 1))
                }
                Op::Member => {
                    children += 1;
                    members += 1;
                }
                Op::Outsider => children += 1,
                Op::KillGroup if members == 0 => return Err(format!("step {}: {op} before the group exists", i + 1)),
                Op::Ask(c) if usize::from(*c) >= children => return Err(format!("step {}: no child {c}", i + 1)),
                Op::End => return Err(format!("step {}: {op} is the executor's, not a schedule's", i + 1)),
                _ => {}
            }
        }
        Ok(())
    }

    /// The case with every step issuable (children forked before they
    /// are asked, the group made before it is signalled).
    pub fn issuable(mut self) -> GroupCase {
        let (mut children, mut members) = (0, 0);
        self.steps.retain(|op| match op {
            Op::Member | Op::Outsider if children == MAX_CHILDREN => false,
            Op::Member => {
                children += 1;
                members += 1;
                true
            }
            Op::Outsider => {
                children += 1;
                true
            }
            Op::KillGroup => members > 0,
            Op::Ask(c) => usize::from(*c) < children,
            Op::End => false,
        });
        self
    }
}

impl fmt::Display for GroupCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "setup: one supervisor, in none of the children's groups")?;
        for (i, op) in self.steps.iter().enumerate() {
            writeln!(f, "{:>3}. supervisor: {op}", i + 1)?;
        }
        writeln!(f, "{:>3}. supervisor: {}", self.steps.len() + 1, Op::End)
    }
}

/// The reference model of a process-group case.
#[derive(Clone, Debug, Default)]
pub struct GroupModel {
    /// Per child: (pid, a member), in spawn order.
    children: Vec<(i64, bool)>,
    /// The group has been signalled.
    signalled: bool,
    /// Asks judged (an observation).
    asks: u64,
}

impl GroupModel {
    /// The group's id: the first member's pid.
    pub fn pgid(&self) -> Option<i64> {
        self.children.iter().find(|(_, m)| *m).map(|(p, _)| *p)
    }
}

impl Checker for GroupModel {
    type Op = Op;

    fn can_issue(&self, _actor: u8, op: &Op) -> Result<(), &'static str> {
        match op {
            Op::Ask(i) if usize::from(*i) >= self.children.len() => Err("that fork was refused"),
            Op::KillGroup if self.pgid().is_none() => Err("the group's first fork was refused"),
            _ => Ok(()),
        }
    }

    fn apply(&mut self, event: &Event<Op>) -> Result<(), Violation> {
        let Event::Step { op, observed, .. } = event else {
            return match event {
                Event::Skipped { .. } => Ok(()),
                other => Err(violation(&[rules::GROUP], format!("unexpected: {other:?}"))),
            };
        };
        let Observed::Returned(reply) = observed else {
            return Err(violation(&[rules::GROUP], format!("{op}: {}", describe(observed))));
        };
        match (*op, reply) {
            (Op::Member | Op::Outsider, Reply::Values(v)) if v.len() == 1 => {
                self.children.push((v[0], *op == Op::Member));
                Ok(())
            }
            (Op::Member | Op::Outsider, Reply::Errno(_)) => Ok(()),
            (Op::End, Reply::Done) => Ok(()),
            (Op::KillGroup, Reply::Done) => {
                self.signalled = true;
                Ok(())
            }
            (Op::Ask(i), Reply::Values(v)) => {
                let (pid, member) = self.children[usize::from(i)];
                let owed = member && self.signalled;
                self.asks += 1;
                match v[..] {
                    [p] if (p == 1) == owed && (0..=1).contains(&p) => Ok(()),
                    _ => Err(violation(
                        &[rules::GROUP],
                        format!(
                            "child {i} (pid {pid}, {}) says SIGUSR1 pending: {v:?}; expected {} ({})",
                            if member {
                                format!("a member of group {}", self.pgid().unwrap_or(0))
                            } else {
                                "an outsider".into()
                            },
                            u8::from(owed),
                            if !self.signalled {
                                "the group was not signalled yet"
                            } else if member {
                                "kill(-pgid) reaches every member"
                            } else {
                                "kill(-pgid) reaches no process outside the group"
                            }
                        ),
                    )),
                }
            }
            (op, other) => {
                Err(violation(&[rules::GROUP], format!("{op}: {}", describe(&Observed::Returned(other.clone())))))
            }
        }
    }

    fn obligations(&self) -> Vec<Obligation> {
        Vec::new()
    }

    fn observations(&self) -> Vec<(String, u64)> {
        vec![("children asked".to_string(), self.asks)]
    }
}

/// Runs one process-group case.
pub fn run(case: &GroupCase, timing: Timing) -> CaseReport<Event<Op>> {
    if let Err(why) = case.validate() {
        return crate::case::refused(why);
    }
    crate::engine::run(Groups { case }, GroupModel::default(), timing)
}

struct Groups<'a> {
    case: &'a GroupCase,
}

impl Mechanism for Groups<'_> {
    type Op = Op;
    type Model = GroupModel;

    fn steps(&self) -> Vec<(u8, Op)> {
        self.case.steps.iter().chain([&Op::End]).map(|op| (0, *op)).collect()
    }

    fn set_up(&mut self, session: &mut Session) -> Result<(), Stop> {
        session.spawn().map(drop)
    }

    fn entry_point(&self, op: &Op) -> Option<&'static str> {
        (*op == Op::KillGroup).then_some("kill")
    }

    fn invocation(&self, model: &GroupModel, _a: u8, op: &Op) -> Result<Invocation, Stop> {
        let group = || model.pgid().and_then(|p| i32::try_from(p).ok()).unwrap_or(0);
        Ok(Invocation::Call(Request::Signal(match *op {
            Op::Member => SignalOp::SpawnMember { group: group() },
            Op::Outsider => SignalOp::SpawnMember { group: 0 },
            Op::KillGroup => SignalOp::KillGroup { pgid: group(), signal: libc::SIGUSR1 },
            Op::Ask(i) => SignalOp::AskMember { member: u32::from(i) },
            Op::End => SignalOp::EndMembers,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(m: &mut GroupModel, op: Op, reply: Reply) -> Result<(), Violation> {
        m.apply(&Event::step(0, 0, op, Observed::Returned(reply)))
    }

    #[test]
    fn every_member_and_no_outsider_has_it_pending_once_sent() {
        let mut m = GroupModel::default();
        step(&mut m, Op::Member, Reply::Values(vec![10])).unwrap();
        step(&mut m, Op::Outsider, Reply::Values(vec![11])).unwrap();
        step(&mut m, Op::Member, Reply::Values(vec![12])).unwrap();
        assert_eq!(m.pgid(), Some(10));
        assert!(step(&mut m.clone(), Op::Ask(0), Reply::Values(vec![1])).is_err(), "not sent yet");
        step(&mut m, Op::KillGroup, Reply::Done).unwrap();
        step(&mut m, Op::Ask(0), Reply::Values(vec![1])).unwrap();
        let v = step(&mut m.clone(), Op::Ask(2), Reply::Values(vec![0])).unwrap_err();
        assert_eq!(v.rules, vec![rules::GROUP], "a later member missed");
        assert!(step(&mut m.clone(), Op::Ask(1), Reply::Values(vec![1])).is_err(), "an outsider reached");
        step(&mut m, Op::Ask(1), Reply::Values(vec![0])).unwrap();
    }
}
