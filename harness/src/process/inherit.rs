//! Descriptors across spawn (`process.fd.inherited`): the coordinator opens
//! a file twice (both close-on-exec in its own table), places one of them
//! without close-on-exec at a chosen number in each reader it spawns
//! ([`Session::spawn_with`]), and keeps the other. Every reader must find
//! the placed number open on the same file, all of them sharing one file
//! offset with the coordinator (one open file description); the other
//! descriptor must not be open in any reader.
//!
//! Besides, the spawner holds a descriptor made close-on-exec through each
//! interface the catalogue lists for the rule here ([`CloexecBy`]: at
//! creation, `O_CLOEXEC` to `MFD_CLOEXEC`, or by `fcntl(F_SETFD)`), some
//! of them cleared again (`fcntl(F_SETFD, 0)`): the spawner must see the
//! flag as set (or cleared) at once, and each reader must find a cleared
//! one open on the same object and no other one at its number.

use super::rules;
use crate::case::Stop;
use crate::case::{CaseOutcome, CaseReport};
use crate::checker::{describe, Event, Violation};
use crate::observed::Observed;
use crate::os::cloexec::{self, CloexecBy};
use crate::os::entry::ReadCall;
use crate::os::shm::fd_identity;
use crate::protocol::shm::ShmOp;
use crate::protocol::{Reply, Request};
use crate::scratch::Scratch;
use crate::session::{ActorId, Session};
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::os::fd::{AsFd, AsRawFd};

/// The byte at position `pos` of the case's file (positions are told
/// apart over long stretches, so an offset that was not shared shows).
pub fn file_byte(pos: u64) -> u8 {
    (pos.wrapping_mul(2_654_435_761) >> 13) as u8
}

/// A case: `readers` processes inherit descriptor number `number`; then
/// reads `(reader, max)` in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InheritCase {
    /// Spawned readers (1-3).
    pub readers: u8,
    /// The number the inherited descriptor gets in each reader (5-200).
    pub number: i32,
    /// The file's length.
    pub len: u32,
    /// Reads: which reader, at most how many bytes.
    pub reads: Vec<(u8, u32)>,
    /// The spawner's other descriptors: each made close-on-exec through an
    /// interface, and whether the flag was cleared again before the spawns.
    #[serde(default)]
    pub others: Vec<(CloexecBy, bool)>,
}

impl fmt::Display for InheritCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "set-up: a file of {} bytes; the coordinator opens it twice, close-on-exec (D and X)", self.len)?;
        for (by, cleared) in &self.others {
            writeln!(
                f,
                "  and a descriptor made close-on-exec by {}{}",
                by.name(),
                if *cleared { ", then cleared with fcntl(F_SETFD, 0)" } else { "" }
            )?;
        }
        writeln!(
            f,
            "  1. spawn {} reader(s), D placed at {} without close-on-exec; each checks what {}, X's and the others' numbers are",
            self.readers, self.number, self.number
        )?;
        for (i, (r, max)) in self.reads.iter().enumerate() {
            writeln!(
                f,
                "{:>3}. reader {}: read at most {max} bytes from {}",
                i + 2,
                r % self.readers.max(1),
                self.number
            )?;
        }
        writeln!(f, "{:>3}. the coordinator's offset of D is where the reads left off", self.reads.len() + 2)
    }
}

/// An operation of an inheritance case, as the trace shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InheritOp {
    /// The coordinator's file: `Values([dev, ino, len])`.
    File,
    /// What number `number` is in a reader (`inherited`: the placed one).
    Identity { number: i32, inherited: bool },
    /// A read of at most `max` bytes through the inherited descriptor.
    Read { max: u32 },
    /// The coordinator's own offset of the descriptor it placed.
    CoordinatorOffset,
    /// The spawner made a descriptor close-on-exec through `by` (and
    /// cleared the flag if `cleared`): `Values([number, dev, ino, flag])`,
    /// `flag` 1 when `F_GETFD` shows close-on-exec.
    Made { by: CloexecBy, cleared: bool },
    /// What that descriptor's `number` is in a reader.
    OtherIdentity { by: CloexecBy, cleared: bool, number: i32 },
}

impl fmt::Display for InheritOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InheritOp::File => f.write_str("the file (dev, ino, length)"),
            InheritOp::Identity { number, inherited: true } => {
                write!(f, "fstat+lseek of {number} (inherited without close-on-exec)")
            }
            InheritOp::Identity { number, inherited: false } => {
                write!(f, "fstat of {number} (the spawner's close-on-exec descriptor)")
            }
            InheritOp::Read { max } => write!(f, "read at most {max} bytes"),
            InheritOp::CoordinatorOffset => f.write_str("the spawner's offset"),
            InheritOp::Made { by, cleared: false } => write!(f, "close-on-exec by {}, then F_GETFD", by.name()),
            InheritOp::Made { by, cleared: true } => {
                write!(f, "close-on-exec by {}, cleared by fcntl(F_SETFD, 0), then F_GETFD", by.name())
            }
            InheritOp::OtherIdentity { by, cleared, number } => write!(
                f,
                "fstat of {number} (the spawner's descriptor by {}{})",
                by.name(),
                if *cleared { ", cleared" } else { "" }
            ),
        }
    }
}

/// An event of an inheritance case.
pub type InheritEvent = Event<InheritOp>;

/// The judge: the file's identity and the shared offset so far.
#[derive(Clone, Debug, Default)]
pub struct InheritJudge {
    file: Option<(u64, u64, u64)>,
    pos: u64,
    /// The other descriptors by number: (dev, ino).
    others: std::collections::BTreeMap<i32, (u64, u64)>,
}

impl InheritJudge {
    /// Judges one event.
    pub fn apply(&mut self, event: &InheritEvent) -> Result<(), Violation> {
        let Some(e) = event.as_step() else { return Ok(()) };
        let bad = |m: String| Err(Violation::new(rules::FD_INHERITED, m));
        let values = match e.observed {
            Observed::Returned(Reply::Values(v)) => Some(v.iter().map(|x| *x as u64).collect::<Vec<_>>()),
            _ => None,
        };
        match *e.op {
            InheritOp::File => match values.as_deref() {
                Some([dev, ino, len]) => {
                    self.file = Some((*dev, *ino, *len));
                    Ok(())
                }
                _ => bad(format!("malformed file identity {:?}", e.observed)),
            },
            InheritOp::Identity { number, inherited } => {
                let Some((dev, ino, _)) = self.file else { return bad("no file identity recorded".into()) };
                match (inherited, values.as_deref()) {
                    (true, Some([d, i, off])) if (*d, *i) == (dev, ino) => {
                        if *off != self.pos {
                            return bad(format!(
                                "actor {}: descriptor {number} is at offset {off}, but the shared offset is {}: not the same open file description",
                                e.actor, self.pos
                            ));
                        }
                        Ok(())
                    }
                    (true, _) => bad(format!(
                        "actor {}: descriptor {number}, placed without close-on-exec, is not the file after spawn: {}",
                        e.actor,
                        describe(e.observed)
                    )),
                    (false, Some([d, i, _])) if (*d, *i) == (dev, ino) => bad(format!(
                        "actor {}: the spawner's close-on-exec descriptor {number} is open on the file in the child",
                        e.actor
                    )),
                    (false, Some(_)) => Ok(()),
                    (false, None) if *e.observed == Observed::Returned(Reply::Errno(libc::EBADF)) => Ok(()),
                    (false, None) => bad(format!("actor {}: fstat of {number}: {}", e.actor, describe(e.observed))),
                }
            }
            InheritOp::Read { max } => {
                let Some((_, _, len)) = self.file else { return bad("no file identity recorded".into()) };
                let Observed::Returned(Reply::Data(data)) = &e.observed else {
                    return bad(format!("actor {}: read: {}", e.actor, describe(e.observed)));
                };
                let want = u64::from(max).min(len.saturating_sub(self.pos));
                let expected: Vec<u8> = (self.pos..self.pos + want).map(file_byte).collect();
                if *data != expected {
                    let from = (0..=len).find(|s| {
                        !data.is_empty() && (*s..*s + data.len() as u64).map(file_byte).eq(data.iter().copied())
                    });
                    return bad(format!(
                        "actor {}: read {} bytes{}; the shared offset was {}, so expected {} bytes from there",
                        e.actor,
                        data.len(),
                        from.map(|s| format!(" from offset {s}")).unwrap_or_default(),
                        self.pos,
                        want
                    ));
                }
                self.pos += data.len() as u64;
                Ok(())
            }
            InheritOp::Made { by, cleared } => match values.as_deref() {
                Some([number, dev, ino, flag]) => {
                    let want = u64::from(!cleared);
                    if *flag != want {
                        return bad(format!(
                            "{}: fcntl(F_GETFD) shows close-on-exec {} right after it was {}",
                            by.name(),
                            if *flag == 1 { "set" } else { "clear" },
                            if cleared { "cleared" } else { "set" }
                        ));
                    }
                    self.others.insert(*number as i32, (*dev, *ino));
                    Ok(())
                }
                _ => bad(format!("{}: malformed identity {:?}", by.name(), e.observed)),
            },
            InheritOp::OtherIdentity { by, cleared, number } => {
                let Some(&(dev, ino)) = self.others.get(&number) else {
                    return bad(format!("no descriptor by {} recorded at {number}", by.name()));
                };
                let same = matches!(values.as_deref(), Some([d, i, _]) if (*d, *i) == (dev, ino));
                match (cleared, same) {
                    (true, true) | (false, false) => Ok(()),
                    (true, false) => bad(format!(
                        "actor {}: descriptor {number}, made close-on-exec by {} and cleared again with \
                         fcntl(F_SETFD, 0), is not the spawner's object after spawn: {}",
                        e.actor,
                        by.name(),
                        describe(e.observed)
                    )),
                    (false, true) => bad(format!(
                        "actor {}: the spawner's descriptor {number}, made close-on-exec by {}, is open on the \
                         same object after exec",
                        e.actor,
                        by.name()
                    )),
                }
            }
            InheritOp::CoordinatorOffset => match values.as_deref() {
                Some([off]) if *off == self.pos => Ok(()),
                _ => bad(format!(
                    "the spawner's offset is {}, but its children read up to {}: not one open file description",
                    describe(e.observed),
                    self.pos
                )),
            },
        }
    }
}

/// Runs an [`InheritCase`].
pub fn run(case: &InheritCase, timing: Timing) -> CaseReport<InheritEvent> {
    let mut report = crate::case::run_in_session(timing, |session, report| drive(case, session, &mut report.events));
    // The interfaces the case went through, as entry points.
    let mut used: Vec<&str> = case.others.iter().map(|(by, _)| by.name()).collect();
    if case.others.iter().any(|(_, cleared)| *cleared) {
        used.push(CloexecBy::CLEARED);
    }
    let prefix = crate::engine::ENTRY_POINT_OBSERVED;
    report.observations.extend(used.into_iter().map(|name| (format!("{prefix}{name}"), 1)));
    report
}

fn drive(case: &InheritCase, session: &mut Session, events: &mut Vec<InheritEvent>) -> Result<CaseOutcome, Stop> {
    let readers = case.readers.clamp(1, 3);
    if !(5..=200).contains(&case.number) {
        return Err(Stop::harness(format!("descriptor number {} is outside 5..=200", case.number)));
    }
    if case.len > 1 << 24 || case.reads.iter().any(|(_, max)| *max > 1 << 20) {
        return Err(Stop::harness("an inheritance case with a file over 16 MiB or a read over 1 MiB"));
    }
    let scratch = Scratch::new().map_err(|e| Stop::io("scratch directory", e))?;
    let path = scratch.path().join("inherited");
    let bytes: Vec<u8> = (0..u64::from(case.len)).map(file_byte).collect();
    std::fs::write(&path, &bytes).map_err(|e| Stop::io("writing the file", e))?;
    let placed = std::fs::File::open(&path).map_err(|e| Stop::io("opening the file", e))?;
    let kept = std::fs::File::open(&path).map_err(|e| Stop::io("opening the file", e))?;
    let (dev, ino, _) = fd_identity(placed.as_raw_fd()).map_err(|e| Stop::io("fstat", e))?;
    let mut judge = InheritJudge::default();
    let mut index = 0;
    let mut record = |events: &mut Vec<InheritEvent>, actor: u8, op: InheritOp, observed: Observed| {
        let e = InheritEvent::Step { index, actor, op, observed };
        index += 1;
        let v = judge.apply(&e);
        events.push(e);
        v
    };
    let file = Observed::Returned(Reply::Values(vec![dev as i64, ino as i64, i64::from(case.len)]));
    if let Err(v) = record(events, u8::MAX, InheritOp::File, file) {
        return Ok(v.into());
    }
    let kept_number = kept.as_raw_fd();
    // No other thread forks while a descriptor made here may lack
    // close-on-exec (see os::cloexec), until the readers are spawned.
    let quiet = crate::os::process::quiet_forks();
    let mut others = Vec::new();
    for (by, cleared) in &case.others {
        let (by, cleared) = (*by, *cleared);
        let fd = cloexec::make(by, &path, scratch.path())
            .map_err(|e| Stop::io(format!("{} (close-on-exec)", by.name()), e))?;
        if cleared {
            cloexec::clear(&fd).map_err(|e| Stop::io("fcntl(F_SETFD, 0)", e))?;
        }
        let flag = cloexec::is_set(&fd).map_err(|e| Stop::io("fcntl(F_GETFD)", e))?;
        let (dev, ino, _) = fd_identity(fd.as_raw_fd()).map_err(|e| Stop::io("fstat", e))?;
        let number = fd.as_raw_fd();
        let made = Observed::Returned(Reply::Values(vec![i64::from(number), dev as i64, ino as i64, i64::from(flag)]));
        if let Err(v) = record(events, u8::MAX, InheritOp::Made { by, cleared }, made) {
            return Ok(v.into());
        }
        others.push((by, cleared, fd));
    }
    let mut slots = Vec::new();
    for r in 0..readers {
        let id = session.spawn_with(&[(placed.as_fd(), case.number)])?;
        for (by, cleared, fd) in &others {
            let number = fd.as_raw_fd();
            if number == case.number || number <= crate::actor::CONTROL_FD {
                continue; // the placed descriptor, or the engine's own, stands there
            }
            let observed = session.call(id, &Request::Shm(ShmOp::FdIdentity { fd: number }))?;
            let op = InheritOp::OtherIdentity { by: *by, cleared: *cleared, number };
            if let Err(v) = record(events, r, op, observed) {
                return Ok(v.into());
            }
        }
        let observed = session.call(id, &Request::Shm(ShmOp::FdIdentity { fd: case.number }))?;
        if let Err(v) = record(events, r, InheritOp::Identity { number: case.number, inherited: true }, observed) {
            return Ok(v.into());
        }
        if kept_number != case.number {
            let observed = session.call(id, &Request::Shm(ShmOp::FdIdentity { fd: kept_number }))?;
            if let Err(v) = record(events, r, InheritOp::Identity { number: kept_number, inherited: false }, observed) {
                return Ok(v.into());
            }
        }
        match session.call(id, &Request::Shm(ShmOp::AdoptNumber { fd: case.number }))? {
            Observed::Returned(Reply::Opened { slot, .. }) => slots.push(slot),
            other => return Err(Stop::harness(format!("reader {r} could not take {}: {other:?}", case.number))),
        }
    }
    drop(others);
    drop(quiet);
    for (r, max) in &case.reads {
        let r = r % readers;
        let observed = session
            .call(ActorId(r as usize), &Request::Read { slot: slots[r as usize], max: *max, call: ReadCall::Read })?;
        if let Err(v) = record(events, r, InheritOp::Read { max: *max }, observed) {
            return Ok(v.into());
        }
    }
    let (_, _, off) = fd_identity(placed.as_raw_fd()).map_err(|e| Stop::io("lseek", e))?;
    let observed = Observed::Returned(Reply::Values(vec![off as i64]));
    if let Err(v) = record(events, u8::MAX, InheritOp::CoordinatorOffset, observed) {
        return Ok(v.into());
    }
    drop((placed, kept, scratch));
    Ok(CaseOutcome::Pass)
}
