//! System V shared-memory segments (`sysv.shm.lifetime`): one scenario,
//! its case type, its model and its executor.
//!
//! The coordinator makes a one-page segment under a key of the run's;
//! two or three actors attach it, store and load words through their
//! attachments, look the key up, count the attachments, detach and attach
//! again; one of them marks the segment removed (`IPC_RMID`). The model
//! owes: a zero-filled segment, every load the last value stored by
//! anyone, `shm_nattch` exactly the attachments, `ENOENT` for the key once
//! it is removed while the attached actors go on sharing the words, and
//! the segment gone (`EINVAL` or `EIDRM` for `IPC_STAT`) once it is
//! removed and the last actor has detached.
//!
//! Not checked, as platforms differ (shmctl(2) of Linux): attaching a
//! segment already marked removed (Linux allows it), `IPC_STAT` or a
//! second `IPC_RMID` of one removed but still attached.

use super::key::Object;
use super::rules;
use crate::case::{CaseReport, Stop};
use crate::checker::{describe, violation, Checker, Event, Obligation, Violation};
use crate::engine::{Invocation, Mechanism, Skeleton};
use crate::observed::Observed;
use crate::protocol::sysv::SysvOp;
use crate::protocol::{Reply, Request};
use crate::session::Session;
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The 64-bit words of the segment a case uses (its first page holds them).
pub const WORDS: u32 = 8;

/// The segment's size.
const SIZE: usize = 4096;

/// One operation of a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// `shmat` of the segment by its id.
    Attach,
    /// `shmdt` of the actor's attachment.
    Detach,
    /// Store `value` in word `word` through the actor's attachment.
    Store { word: u32, value: u32 },
    /// Load word `word` through the actor's attachment.
    Load { word: u32 },
    /// `shmget` of the segment's key, without `IPC_CREAT`.
    Find,
    /// `shmctl(IPC_RMID)` of the segment.
    Remove,
    /// `shmctl(IPC_STAT)` of the segment: its `shm_nattch`.
    Stat,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Attach => f.write_str("shmat the segment"),
            Op::Detach => f.write_str("shmdt its attachment"),
            Op::Store { word, value } => write!(f, "store {value} in word {word}"),
            Op::Load { word } => write!(f, "load word {word}"),
            Op::Find => f.write_str("shmget the key (no IPC_CREAT)"),
            Op::Remove => f.write_str("shmctl(IPC_RMID)"),
            Op::Stat => f.write_str("shmctl(IPC_STAT): shm_nattch"),
        }
    }
}

/// One step.
pub type Step = crate::engine::Step<Op>;

/// A case: `actors` processes and a new segment, then the steps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShmCase {
    /// Actors (2-3).
    pub actors: u8,
    /// What happens, in order.
    pub steps: Vec<Step>,
}

impl ShmCase {
    /// Whether the case is within range and every step can be issued.
    pub fn validate(&self) -> Result<(), String> {
        if !(2..=3).contains(&self.actors) {
            return Err(format!("{} actors; 2 or 3", self.actors));
        }
        if self.steps.len() > crate::case::MAX_STEPS {
            return Err(format!("{} steps; at most {}", self.steps.len(), crate::case::MAX_STEPS));
        }
        if let Some(i) =
            self.steps.iter().position(|s| matches!(s.op, Op::Store { word, .. } | Op::Load { word } if word >= WORDS))
        {
            return Err(format!("step {}: a word past {}", i + 1, WORDS - 1));
        }
        match crate::engine::first_unissuable(&self.steps, self.actors, Lifetime::new(self.actors)) {
            Some((i, why)) => Err(format!("step {}: {why}", i + 1)),
            None => Ok(()),
        }
    }
}

impl fmt::Display for ShmCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "setup: a new one-page System V segment, {} actors", self.actors)?;
        for (i, step) in self.steps.iter().enumerate() {
            writeln!(f, "{:>3}. actor {}: {}", i + 1, step.actor, step.op)?;
        }
        Ok(())
    }
}

/// What the schedule decides: who is attached, whether the segment was
/// marked removed. Attaching a removed segment, removing it twice and
/// `IPC_STAT` while removed but attached differ between platforms: not
/// issued.
#[derive(Clone, Debug)]
pub struct Lifetime {
    attached: Vec<bool>,
    removed: bool,
}

impl Lifetime {
    /// Nobody attached, the segment not removed.
    pub fn new(actors: u8) -> Lifetime {
        Lifetime { attached: vec![false; usize::from(actors)], removed: false }
    }
}

impl Skeleton<Step> for Lifetime {
    fn admit(&mut self, step: &Step) -> Result<(), &'static str> {
        let a = usize::from(step.actor);
        match step.op {
            Op::Attach if self.attached[a] => Err("the actor is attached already"),
            Op::Attach if self.removed => Err("the segment is marked removed (attaching it then is Linux's own)"),
            Op::Attach => {
                self.attached[a] = true;
                Ok(())
            }
            Op::Detach | Op::Store { .. } | Op::Load { .. } if !self.attached[a] => Err("the actor is not attached"),
            Op::Detach => {
                self.attached[a] = false;
                Ok(())
            }
            Op::Remove if self.removed => Err("the segment is marked removed already"),
            Op::Remove => {
                self.removed = true;
                Ok(())
            }
            Op::Stat if self.removed && self.attached.contains(&true) => {
                Err("IPC_STAT of a removed segment still attached differs between platforms")
            }
            Op::Store { .. } | Op::Load { .. } | Op::Find | Op::Stat => Ok(()),
        }
    }
}

/// The reference model of one segment case.
#[derive(Clone, Debug)]
pub struct ShmModel {
    /// The segment's id, which its key must find while not removed.
    id: i32,
    words: [u64; WORDS as usize],
    attached: Vec<bool>,
    removed: bool,
}

impl ShmModel {
    /// Segment `id`, zero-filled, nobody attached.
    pub fn new(case: &ShmCase, id: i32) -> ShmModel {
        ShmModel { id, words: [0; WORDS as usize], attached: vec![false; usize::from(case.actors)], removed: false }
    }

    fn nattch(&self) -> usize {
        self.attached.iter().filter(|a| **a).count()
    }

    fn state(&self) -> String {
        format!("{} attached, {}", self.nattch(), if self.removed { "marked removed" } else { "not removed" })
    }

    fn err(&self, op: Op, observed: &Observed, expected: &str) -> Violation {
        violation(
            &[rules::SHM_LIFETIME],
            format!("{op} {}; expected {expected} ({})", describe(observed), self.state()),
        )
    }
}

impl Checker for ShmModel {
    type Op = Op;

    /// No call here blocks: every step can be issued.
    fn can_issue(&self, _actor: u8, _op: &Op) -> Result<(), &'static str> {
        Ok(())
    }

    fn apply(&mut self, event: &Event<Op>) -> Result<(), Violation> {
        let Some((actor, op, observed)) = crate::checker::immediate(event, rules::SHM_LIFETIME)? else {
            return Ok(());
        };
        let a = usize::from(*actor);
        let op = *op;
        let Observed::Returned(reply) = observed else {
            return Err(self.err(op, observed, "it to return at once"));
        };
        let errno = match reply {
            Reply::Errno(e) => Some(*e),
            _ => None,
        };
        match op {
            Op::Attach => match reply {
                Reply::Values(v) if v.len() == 1 => {
                    self.attached[a] = true;
                    Ok(())
                }
                _ => Err(self.err(op, observed, "an attachment")),
            },
            Op::Detach => match reply {
                Reply::Done => {
                    self.attached[a] = false;
                    Ok(())
                }
                _ => Err(self.err(op, observed, "success")),
            },
            Op::Store { word, value } => match reply {
                Reply::Done => {
                    self.words[word as usize] = u64::from(value);
                    Ok(())
                }
                _ => Err(self.err(op, observed, "success")),
            },
            Op::Load { word } => {
                let want = self.words[word as usize];
                match reply {
                    Reply::Values(v) if v.len() == 1 && v[0] as u64 == want => Ok(()),
                    _ => Err(self.err(op, observed, &format!("{want}, the last value stored there (0 if none)"))),
                }
            }
            Op::Find => match reply {
                Reply::Values(v) if *v == [i64::from(self.id)] && !self.removed => Ok(()),
                _ if self.removed && errno == Some(libc::ENOENT) => Ok(()),
                _ if self.removed => Err(self.err(op, observed, "ENOENT: the key is free once IPC_RMID returned")),
                _ => Err(self.err(op, observed, &format!("the segment's id, {}", self.id))),
            },
            Op::Remove => match reply {
                Reply::Done => {
                    self.removed = true;
                    Ok(())
                }
                _ => Err(self.err(op, observed, "success")),
            },
            Op::Stat => match reply {
                Reply::Values(v) if !self.removed && v.len() == 1 && v[0] == self.nattch() as i64 => Ok(()),
                _ if !self.removed => Err(self.err(op, observed, &format!("shm_nattch {}", self.nattch()))),
                _ if matches!(errno, Some(libc::EINVAL | libc::EIDRM)) => Ok(()),
                _ => Err(self.err(op, observed, "EINVAL or EIDRM: the segment is gone after its last detach")),
            },
        }
    }

    fn obligations(&self) -> Vec<Obligation> {
        Vec::new()
    }
}

/// Runs one segment case.
pub fn run(case: &ShmCase, timing: Timing) -> CaseReport<Event<Op>> {
    if let Err(why) = case.validate() {
        return crate::case::refused(why);
    }
    // Made first, so that the model knows its id (a segment is no
    // descriptor: the actors forked after it hold no copy of it).
    let segment = match Object::shm_segment(SIZE) {
        Ok(segment) => segment,
        Err(e) => {
            let mut report = CaseReport::new();
            report.outcome = match e.raw_os_error() {
                Some(libc::ENOSYS) => {
                    Stop::Unsupported("this host has no System V shared memory (shmget: ENOSYS)".into())
                }
                _ => Stop::io("shmget(IPC_CREAT | IPC_EXCL) of the case's segment", e),
            }
            .outcome();
            return report;
        }
    };
    let model = ShmModel::new(case, segment.id());
    crate::engine::run(Segments { case, segment, at: vec![0; usize::from(case.actors)] }, model, timing)
}

struct Segments<'a> {
    case: &'a ShmCase,
    segment: Object,
    /// Per actor: the number of its latest attachment.
    at: Vec<u32>,
}

impl Mechanism for Segments<'_> {
    type Op = Op;
    type Model = ShmModel;

    fn steps(&self) -> Vec<(u8, Op)> {
        self.case.steps.iter().map(|s| (s.actor, s.op)).collect()
    }

    fn set_up(&mut self, session: &mut Session) -> Result<(), Stop> {
        for _ in 0..self.case.actors {
            session.spawn()?;
        }
        Ok(())
    }

    fn made_by(&self) -> Vec<&'static str> {
        vec!["shmget"]
    }

    fn observed(&mut self, actor: u8, op: &Op, observed: &Observed) {
        if let (Op::Attach, Observed::Returned(Reply::Values(v))) = (op, observed) {
            if let (Some(n), Some(at)) = (v.first(), self.at.get_mut(usize::from(actor))) {
                *at = *n as u32;
            }
        }
    }

    fn entry_point(&self, op: &Op) -> Option<&'static str> {
        match op {
            Op::Attach => Some("shmat"),
            Op::Detach => Some("shmdt"),
            Op::Find => Some("shmget"),
            Op::Remove | Op::Stat => Some("shmctl"),
            Op::Store { .. } | Op::Load { .. } => None,
        }
    }

    fn invocation(&self, _model: &ShmModel, a: u8, op: &Op) -> Result<Invocation, Stop> {
        let seg = &self.segment;
        let (id, at) = (seg.id(), self.at[usize::from(a)]);
        Ok(Invocation::Call(Request::Sysv(match *op {
            Op::Attach => SysvOp::ShmAttach { id },
            Op::Detach => SysvOp::ShmDetach { at },
            Op::Store { word, value } => SysvOp::ShmStore { at, word, value: u64::from(value) },
            Op::Load { word } => SysvOp::ShmLoad { at, word },
            Op::Find => SysvOp::ShmFind { key: seg.key() },
            Op::Remove => SysvOp::ShmRemove { id },
            Op::Stat => SysvOp::ShmStat { id },
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(m: &mut ShmModel, a: u8, op: Op, reply: Reply) -> Result<(), Violation> {
        m.apply(&Event::Step { index: 0, actor: a, op, observed: Observed::Returned(reply) })
    }

    #[test]
    fn the_key_goes_at_the_remove_and_the_segment_at_the_last_detach() {
        let mut m = ShmModel::new(&ShmCase { actors: 2, steps: vec![] }, 5);
        let at = || Reply::Values(vec![0]);
        step(&mut m, 0, Op::Load { word: 3 }, Reply::Values(vec![0])).unwrap();
        step(&mut m, 0, Op::Attach, at()).unwrap();
        step(&mut m, 1, Op::Attach, at()).unwrap();
        assert!(step(&mut m.clone(), 0, Op::Stat, Reply::Values(vec![1])).is_err(), "two attached");
        step(&mut m, 0, Op::Stat, Reply::Values(vec![2])).unwrap();
        step(&mut m, 0, Op::Store { word: 3, value: 7 }, Reply::Done).unwrap();
        assert!(step(&mut m.clone(), 1, Op::Find, Reply::Values(vec![6])).is_err(), "another segment's id");
        step(&mut m, 1, Op::Find, Reply::Values(vec![5])).unwrap();
        step(&mut m, 1, Op::Remove, Reply::Done).unwrap();
        assert!(step(&mut m.clone(), 1, Op::Find, Reply::Values(vec![5])).is_err(), "the key is free");
        step(&mut m, 1, Op::Find, Reply::Errno(libc::ENOENT)).unwrap();
        assert!(step(&mut m.clone(), 1, Op::Load { word: 3 }, Reply::Values(vec![0])).is_err(), "still shared");
        step(&mut m, 1, Op::Load { word: 3 }, Reply::Values(vec![7])).unwrap();
        step(&mut m, 0, Op::Detach, Reply::Done).unwrap();
        step(&mut m, 1, Op::Detach, Reply::Done).unwrap();
        assert!(step(&mut m.clone(), 0, Op::Stat, Reply::Values(vec![0])).is_err(), "gone");
        step(&mut m, 0, Op::Stat, Reply::Errno(libc::EINVAL)).unwrap();
    }

    #[test]
    fn the_schedule_issues_no_step_whose_outcome_platforms_disagree_on() {
        let s = |actor, op| Step { actor, op };
        let case = |steps| ShmCase { actors: 2, steps };
        assert!(case(vec![s(0, Op::Attach), s(1, Op::Remove), s(1, Op::Attach)]).validate().is_err());
        assert!(case(vec![s(0, Op::Attach), s(1, Op::Remove), s(1, Op::Stat)]).validate().is_err());
        assert!(case(vec![s(1, Op::Remove), s(1, Op::Remove)]).validate().is_err());
        assert!(case(vec![s(0, Op::Load { word: 0 })]).validate().is_err(), "not attached");
        let ok = case(vec![s(0, Op::Attach), s(1, Op::Remove), s(0, Op::Detach), s(1, Op::Stat)]);
        assert_eq!(ok.validate(), Ok(()));
    }
}
