//! The reference model of a memfd case: the file's size and bytes, its
//! seals, and the shared mappings that keep F_SEAL_WRITE off. Every
//! answer is owed from them (fcntl(2), "File Sealing"; memfd_create(2)).
//!
//! A write that crosses the end under F_SEAL_GROW may fail with EPERM or
//! write part of what lies within the size (Linux checks each page of a
//! write in turn), and a read-only shared mapping under F_SEAL_WRITE may
//! be made or refused with EPERM (Linux before 6.7 refuses it); every
//! other answer is exact.

use super::{Op, SEAL_SIZE, SEAL_TRAVELS, SEAL_WRITE};
use crate::checker::{describe, violation, Checker, Event, Obligation, Violation};
use crate::observed::Observed;
use crate::os::memfd::Seals;
use crate::pattern;
use crate::protocol::Reply;

/// One actor's view: whether it holds the memfd, and its mappings (each:
/// shared and made before F_SEAL_WRITE, so that it keeps that seal off).
#[derive(Clone, Debug, Default)]
struct Holder {
    holds: bool,
    maps: Vec<bool>,
}

/// The model.
#[derive(Clone, Debug)]
pub struct MemfdModel {
    bytes: Vec<u8>,
    seals: Seals,
    actors: Vec<Holder>,
    passed: bool,
}

impl MemfdModel {
    /// A new, empty memfd held by actor 0; `sealing`: made with
    /// MFD_ALLOW_SEALING (else F_SEAL_SEAL is on from the start).
    pub fn new(actors: u8, sealing: bool) -> MemfdModel {
        let mut all = vec![Holder::default(); usize::from(actors.max(1))];
        all[0].holds = true;
        MemfdModel {
            bytes: Vec::new(),
            seals: if sealing { Seals::default() } else { Seals::SEAL },
            actors: all,
            passed: false,
        }
    }

    fn blocking_maps(&self) -> usize {
        self.actors.iter().map(|h| h.maps.iter().filter(|m| **m).count()).sum()
    }

    fn state(&self) -> String {
        format!(
            "size {}, {}, {} shared mapping(s) made before F_SEAL_WRITE",
            self.bytes.len(),
            self.seals,
            self.blocking_maps()
        )
    }

    /// A violation of `rule` by `actor` (and of memfd.seal.travels where
    /// the memfd has travelled: the seals must hold on both sides).
    fn broken(&self, rule: &'static str, actor: u8, op: Op, observed: &Observed, owed: &str) -> Violation {
        let mut rules = vec![rule];
        if (actor != 0 || self.passed) && rule != SEAL_TRAVELS {
            rules.push(SEAL_TRAVELS);
        }
        violation(&rules, format!("actor {actor}: {op} {}; owed: {owed} ({})", describe(observed), self.state()))
    }

    fn write(&mut self, tag: u8, offset: u32, k: usize) {
        let (offset, end) = (offset as usize, offset as usize + k);
        if self.bytes.len() < end {
            self.bytes.resize(end, 0);
        }
        let mut data = Vec::new();
        pattern::fill(&mut data, tag, offset as u64, k);
        self.bytes[offset..end].copy_from_slice(&data);
    }
}

fn errno(observed: &Observed) -> Option<i32> {
    match observed {
        Observed::Returned(Reply::Errno(e)) => Some(*e),
        _ => None,
    }
}

impl Checker for MemfdModel {
    type Op = Op;

    /// No call here blocks: every step can be issued.
    fn can_issue(&self, _actor: u8, _op: &Op) -> Result<(), &'static str> {
        Ok(())
    }

    fn apply(&mut self, event: &Event<Op>) -> Result<(), Violation> {
        let Some((actor, op, observed)) = crate::checker::immediate(event, SEAL_WRITE)? else {
            return Ok(());
        };
        let (a, op) = (*actor, *op);
        let at = usize::from(a);
        let size = self.bytes.len();
        let eperm = errno(observed) == Some(libc::EPERM);
        match op {
            Op::Write { offset, len } => {
                let end = offset as usize + len as usize;
                if self.seals.contains(Seals::WRITE) {
                    return if eperm {
                        Ok(())
                    } else {
                        Err(self.broken(SEAL_WRITE, a, op, observed, "EPERM (F_SEAL_WRITE)"))
                    };
                }
                let within = size.saturating_sub(offset as usize);
                match observed {
                    Observed::Returned(Reply::Count(k))
                        if *k == u64::from(len) && (end <= size || !self.seals.contains(Seals::GROW)) =>
                    {
                        self.write(a, offset, len as usize);
                        Ok(())
                    }
                    Observed::Returned(Reply::Count(k))
                        if end > size && self.seals.contains(Seals::GROW) && *k >= 1 && (*k as usize) <= within =>
                    {
                        self.write(a, offset, *k as usize);
                        Ok(())
                    }
                    _ if end > size && self.seals.contains(Seals::GROW) && eperm => Ok(()),
                    _ if end > size && self.seals.contains(Seals::GROW) => Err(self.broken(
                        SEAL_SIZE,
                        a,
                        op,
                        observed,
                        &format!("EPERM, or at most the {within} bytes within the size (F_SEAL_GROW)"),
                    )),
                    _ => Err(self.broken(SEAL_WRITE, a, op, observed, &format!("{len} bytes written"))),
                }
            }
            Op::Truncate { len } => {
                let len = len as usize;
                let refused = (len < size && self.seals.contains(Seals::SHRINK))
                    || (len > size && self.seals.contains(Seals::GROW));
                match observed {
                    _ if refused && eperm => Ok(()),
                    _ if refused => Err(self.broken(SEAL_SIZE, a, op, observed, "EPERM (F_SEAL_SHRINK / F_SEAL_GROW)")),
                    Observed::Returned(Reply::Done) => {
                        self.bytes.resize(len, 0);
                        Ok(())
                    }
                    _ => Err(self.broken(SEAL_SIZE, a, op, observed, "success")),
                }
            }
            Op::Seal(s) => {
                if self.seals.contains(Seals::SEAL) {
                    return if eperm {
                        Ok(())
                    } else {
                        Err(self.broken(SEAL_SIZE, a, op, observed, "EPERM (F_SEAL_SEAL)"))
                    };
                }
                if s.contains(Seals::WRITE) && self.blocking_maps() > 0 {
                    return if errno(observed) == Some(libc::EBUSY) {
                        Ok(())
                    } else {
                        Err(self.broken(SEAL_WRITE, a, op, observed, "EBUSY (a shared mapping exists)"))
                    };
                }
                if *observed == Observed::Returned(Reply::Done) {
                    self.seals = self.seals.with(s);
                    Ok(())
                } else {
                    let rule = if s.contains(Seals::WRITE) { SEAL_WRITE } else { SEAL_SIZE };
                    Err(self.broken(rule, a, op, observed, "success"))
                }
            }
            Op::GetSeals => match observed {
                Observed::Returned(Reply::Values(v)) if *v == [i64::from(self.seals.0)] => Ok(()),
                _ => {
                    let owed = format!("{} (the seals added)", self.seals);
                    Err(self.broken(SEAL_SIZE, a, op, observed, &owed))
                }
            },
            Op::Map { shared, writable } => {
                let sealed = self.seals.contains(Seals::WRITE);
                if shared && writable && sealed {
                    return if eperm {
                        Ok(())
                    } else {
                        Err(self.broken(
                            SEAL_WRITE,
                            a,
                            op,
                            observed,
                            "EPERM (a writable shared mapping under F_SEAL_WRITE)",
                        ))
                    };
                }
                match observed {
                    Observed::Returned(Reply::Values(v)) if v.len() == 1 => {
                        self.actors[at].maps.push(shared && !sealed);
                        Ok(())
                    }
                    // Before Linux 6.7 a write seal refuses read-only shared
                    // mappings too (mapping_map_writable counted every
                    // shared one); either answer is allowed.
                    _ if shared && sealed && eperm => Ok(()),
                    _ => Err(self.broken(SEAL_WRITE, a, op, observed, "a mapping")),
                }
            }
            Op::Unmap => match observed {
                Observed::Returned(Reply::Done) => {
                    self.actors[at].maps.clear();
                    Ok(())
                }
                _ => Err(self.broken(SEAL_WRITE, a, op, observed, "success")),
            },
            Op::Read => match observed {
                Observed::Returned(Reply::Data(d)) if *d == self.bytes => Ok(()),
                Observed::Returned(Reply::Data(d)) => {
                    let first = d.iter().zip(&self.bytes).position(|(x, y)| x != y).unwrap_or(d.len().min(size));
                    let owed = format!(
                        "the {size} bytes written and kept (they first differ at byte {first}, {} read)",
                        d.len()
                    );
                    Err(self.broken(SEAL_WRITE, a, op, observed, &owed))
                }
                _ => Err(self.broken(SEAL_WRITE, a, op, observed, "the file's bytes")),
            },
            Op::Send { .. } => {
                self.passed = true;
                match observed {
                    Observed::Returned(Reply::Done) => Ok(()),
                    _ => Err(self.broken(SEAL_TRAVELS, a, op, observed, "sent")),
                }
            }
            Op::Receive => match observed {
                Observed::Returned(Reply::Opened { .. }) => {
                    self.actors[at].holds = true;
                    Ok(())
                }
                _ => Err(self.broken(SEAL_TRAVELS, a, op, observed, "the memfd received")),
            },
        }
    }

    fn obligations(&self) -> Vec<Obligation> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(m: &mut MemfdModel, a: u8, op: Op, reply: Reply) -> Result<(), Violation> {
        m.apply(&Event::Step { index: 0, actor: a, op, observed: Observed::Returned(reply) })
    }

    fn rules(r: Result<(), Violation>) -> Vec<&'static str> {
        r.err().map(|v| v.rules).unwrap_or_default()
    }

    #[test]
    fn the_write_seal_refuses_writes_and_writable_shared_mappings_and_waits_for_none() {
        let mut m = MemfdModel::new(2, true);
        step(&mut m, 0, Op::Write { offset: 0, len: 10 }, Reply::Count(10)).unwrap();
        step(&mut m, 0, Op::Map { shared: true, writable: true }, Reply::Values(vec![0])).unwrap();
        let seal = Op::Seal(Seals::WRITE);
        assert_eq!(rules(step(&mut m.clone(), 0, seal, Reply::Done)), [SEAL_WRITE], "EBUSY owed");
        step(&mut m, 0, seal, Reply::Errno(libc::EBUSY)).unwrap();
        step(&mut m, 0, Op::Unmap, Reply::Done).unwrap();
        step(&mut m, 0, seal, Reply::Done).unwrap();
        let write = Op::Write { offset: 0, len: 1 };
        assert_eq!(rules(step(&mut m.clone(), 0, write, Reply::Count(1))), [SEAL_WRITE]);
        step(&mut m, 0, write, Reply::Errno(libc::EPERM)).unwrap();
        let map = Op::Map { shared: true, writable: true };
        assert_eq!(rules(step(&mut m.clone(), 0, map, Reply::Values(vec![1]))), [SEAL_WRITE]);
        step(&mut m, 0, map, Reply::Errno(libc::EPERM)).unwrap();
        step(&mut m, 0, Op::Map { shared: false, writable: true }, Reply::Values(vec![1])).unwrap();
        step(&mut m, 0, Op::Map { shared: true, writable: false }, Reply::Values(vec![2])).unwrap();
        // The size may still change; the bytes read are those kept.
        step(&mut m, 0, Op::Truncate { len: 4 }, Reply::Done).unwrap();
        let mut kept = Vec::new();
        pattern::fill(&mut kept, 0, 0, 4);
        assert!(step(&mut m.clone(), 0, Op::Read, Reply::Data(vec![0; 4])).is_err());
        step(&mut m, 0, Op::Read, Reply::Data(kept)).unwrap();
    }

    #[test]
    fn a_read_only_shared_mapping_under_the_write_seal_may_be_refused() {
        // Linux before 6.7 (Debian 12's 6.1, say) refuses it with EPERM;
        // the model rejected that before it knew.
        let mut m = MemfdModel::new(1, true);
        step(&mut m, 0, Op::Seal(Seals::WRITE), Reply::Done).unwrap();
        let map = Op::Map { shared: true, writable: false };
        step(&mut m.clone(), 0, map, Reply::Errno(libc::EPERM)).unwrap();
        step(&mut m.clone(), 0, map, Reply::Values(vec![0])).unwrap();
        assert!(step(&mut m.clone(), 0, map, Reply::Errno(libc::EBUSY)).is_err());
        // A private one is never refused.
        assert!(step(&mut m, 0, Op::Map { shared: false, writable: false }, Reply::Errno(libc::EPERM)).is_err());
    }

    #[test]
    fn size_seals_refuse_what_they_name_and_a_write_may_stop_at_the_end() {
        let mut m = MemfdModel::new(1, true);
        step(&mut m, 0, Op::Truncate { len: 100 }, Reply::Done).unwrap();
        step(&mut m, 0, Op::Seal(Seals::GROW.with(Seals::SHRINK)), Reply::Done).unwrap();
        for len in [50, 200] {
            assert_eq!(rules(step(&mut m.clone(), 0, Op::Truncate { len }, Reply::Done)), [SEAL_SIZE]);
            step(&mut m, 0, Op::Truncate { len }, Reply::Errno(libc::EPERM)).unwrap();
        }
        step(&mut m, 0, Op::Truncate { len: 100 }, Reply::Done).unwrap();
        let across = Op::Write { offset: 90, len: 20 };
        assert_eq!(rules(step(&mut m.clone(), 0, across, Reply::Count(20))), [SEAL_SIZE]);
        assert_eq!(rules(step(&mut m.clone(), 0, across, Reply::Count(11))), [SEAL_SIZE]);
        step(&mut m.clone(), 0, across, Reply::Count(10)).unwrap();
        step(&mut m, 0, across, Reply::Errno(libc::EPERM)).unwrap();
        assert_eq!(rules(step(&mut m.clone(), 0, Op::GetSeals, Reply::Values(vec![2]))), [SEAL_SIZE]);
        step(&mut m, 0, Op::GetSeals, Reply::Values(vec![6])).unwrap();
        step(&mut m, 0, Op::Seal(Seals::SEAL), Reply::Done).unwrap();
        assert_eq!(rules(step(&mut m.clone(), 0, Op::Seal(Seals::WRITE), Reply::Done)), [SEAL_SIZE]);
        step(&mut m, 0, Op::Seal(Seals::WRITE), Reply::Errno(libc::EPERM)).unwrap();
        // Without MFD_ALLOW_SEALING the memfd starts with F_SEAL_SEAL.
        let mut unsealable = MemfdModel::new(1, false);
        assert!(step(&mut unsealable.clone(), 0, Op::Seal(Seals::GROW), Reply::Done).is_err());
        step(&mut unsealable, 0, Op::GetSeals, Reply::Values(vec![1])).unwrap();
    }

    #[test]
    fn what_a_receiver_breaks_breaks_travels_too() {
        let mut m = MemfdModel::new(2, true);
        step(&mut m, 0, Op::Seal(Seals::WRITE), Reply::Done).unwrap();
        step(&mut m, 0, Op::Send { to: 1 }, Reply::Done).unwrap();
        step(&mut m, 1, Op::Receive, Reply::Opened { slot: 1, fd: 5 }).unwrap();
        let write = Op::Write { offset: 0, len: 3 };
        assert_eq!(rules(step(&mut m.clone(), 1, write, Reply::Count(3))), [SEAL_WRITE, SEAL_TRAVELS]);
        assert_eq!(rules(step(&mut m.clone(), 1, Op::GetSeals, Reply::Values(vec![0]))), [SEAL_SIZE, SEAL_TRAVELS]);
    }
}
