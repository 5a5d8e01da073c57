//! Views of one object: actors map a shared-memory object or a file, each
//! `MAP_SHARED` or `MAP_PRIVATE`, then store, load, `write(2)`, `read(2)`,
//! unlink the name, probe it, or fork a child and exchange values with it.
//! The [`MemModel`] keeps the object's words and each private view's own
//! copies and judges every observation (rules `shm.shared.visible`,
//! `shm.private.copy-on-write`, `shm.name.lifetime`, `shm.file.coherence`,
//! `process.memory.private`).
//!
//! Every word sits on a page of its own, so that a private view's copy of
//! one word never drags in another.

use super::name::ShmName;
use super::rules;
use super::{fail, one_value, Event, Violation};
use crate::case::Stop;
use crate::case::{CaseOutcome, CaseReport};
use crate::observed::Observed;
use crate::os::shm::page_size;
use crate::protocol::shm::{ForkRegion, ShmOp};
use crate::protocol::{Reply, Request};
use crate::scratch::Scratch;
use crate::session::{ActorId, Session};
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Words in the object (each on its own page).
pub const WORDS: u8 = 4;

/// What the actors map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Backing {
    /// A POSIX shared-memory object (`shm_open(3)`).
    Shm,
    /// A regular file in a scratch directory.
    File,
}

/// How an actor maps the object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum View {
    /// `MAP_SHARED`.
    Shared,
    /// `MAP_PRIVATE` (copy-on-write).
    Private,
}

/// One operation of a step (or of the set-up: `Map`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MemOp {
    /// Set-up: the actor maps the object with its view.
    Map { view: View },
    /// Store `value` in word `word` through the actor's mapping.
    Store { word: u8, value: u64 },
    /// Load word `word` through the actor's mapping.
    Load { word: u8 },
    /// `pwrite(2)` of `value` at word `word` (file backing).
    Write { word: u8, value: u64 },
    /// `pread(2)` of word `word` (file backing).
    Read { word: u8 },
    /// Remove the name (`shm_unlink(3)` or `unlink(2)`).
    Unlink,
    /// Open the object by name anew (and close it).
    OpenByName,
    /// Fork a child and exchange `a`, `c`, `p` over a cell in `region`
    /// (see [`crate::os::shm::fork_exchange`]).
    Fork { region: ForkRegion, a: u64, c: u64, p: u64 },
}

impl fmt::Display for MemOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemOp::Map { view: View::Shared } => f.write_str("mmap(MAP_SHARED) of the object"),
            MemOp::Map { view: View::Private } => f.write_str("mmap(MAP_PRIVATE) of the object"),
            MemOp::Store { word, value } => write!(f, "store {value:#x} in word {word} through its mapping"),
            MemOp::Load { word } => write!(f, "load word {word} through its mapping"),
            MemOp::Write { word, value } => write!(f, "pwrite {value:#x} at word {word}"),
            MemOp::Read { word } => write!(f, "pread word {word}"),
            MemOp::Unlink => f.write_str("unlink the name"),
            MemOp::OpenByName => f.write_str("open the object by name"),
            MemOp::Fork { region, a, c, p } => write!(
                f,
                "fork exchange over {region:?} memory: parent stores {a:#x}, forks; child stores {c:#x}; parent stores {p:#x}"
            ),
        }
    }
}

/// One step: an actor and its operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemStep {
    /// The actor (taken modulo the number of actors).
    pub actor: u8,
    /// What it does.
    pub op: MemOp,
}

/// A case: the backing, each actor's view, then the steps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemSchedule {
    /// What is mapped.
    pub backing: Backing,
    /// One view per actor (1-4 actors).
    pub views: Vec<View>,
    /// The steps.
    pub steps: Vec<MemStep>,
}

impl MemSchedule {
    /// The actor of a step.
    pub fn actor_of(&self, step: &MemStep) -> u8 {
        step.actor % self.views.len().max(1) as u8
    }
}

impl fmt::Display for MemSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.backing {
            Backing::Shm => "a shared-memory object",
            Backing::File => "a file",
        };
        writeln!(f, "set-up: {what} of {WORDS} pages (word i at the start of page i), all zero")?;
        for (a, v) in self.views.iter().enumerate() {
            writeln!(
                f,
                "  actor {a} opens it and maps it {}",
                if *v == View::Shared { "MAP_SHARED" } else { "MAP_PRIVATE" }
            )?;
        }
        for (i, step) in self.steps.iter().enumerate() {
            writeln!(f, "{:>3}. actor {}: {}", i + 1, self.actor_of(step), step.op)?;
        }
        Ok(())
    }
}

/// An event of a memory case.
pub type MemEvent = Event<MemOp>;

/// How a word got its current value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Via {
    Initial,
    Mapping(u8),
    WriteCall(u8),
}

#[derive(Clone, Debug)]
struct ViewState {
    shared: bool,
    /// Words this private view stored itself.
    own: BTreeMap<u8, u64>,
    /// For each word, the length of its history when the view was made.
    since: Vec<usize>,
}

/// The reference model of one memory case.
#[derive(Clone, Debug)]
pub struct MemModel {
    backing: Backing,
    /// Every value each word of the object has held, oldest first.
    history: Vec<Vec<u64>>,
    via: Vec<Via>,
    views: BTreeMap<u8, ViewState>,
    named: bool,
    /// The catalogue allows `MAP_PRIVATE` of a shm object to fail with
    /// `EINVAL` here ([`ipc_conform_spec::Allowance::MapPrivateShmRefused`]).
    private_shm_refused: bool,
}

impl MemModel {
    /// The model at the start: every word 0, the name present, no view;
    /// `k` says which documented differences this platform may show.
    pub fn new(backing: Backing, k: &crate::Constants) -> MemModel {
        MemModel {
            backing,
            history: vec![vec![0]; WORDS as usize],
            via: vec![Via::Initial; WORDS as usize],
            views: BTreeMap::new(),
            named: true,
            private_shm_refused: k.allows(ipc_conform_spec::Allowance::MapPrivateShmRefused),
        }
    }

    /// Whether `actor` has a mapping to use.
    pub fn has_view(&self, actor: u8) -> bool {
        self.views.contains_key(&actor)
    }

    fn current(&self, word: u8) -> u64 {
        *self.history[word as usize].last().unwrap_or(&0)
    }

    /// Whether `value` was stored by some private view (other than `except`)
    /// and never reached the object.
    fn private_only(&self, word: u8, value: u64, except: Option<u8>) -> Option<u8> {
        if self.history[word as usize].contains(&value) {
            return None;
        }
        self.views
            .iter()
            .find(|(a, v)| Some(**a) != except && !v.shared && v.own.get(&word) == Some(&value))
            .map(|(a, _)| *a)
    }

    fn record(&mut self, word: u8, value: u64, via: Via) {
        self.history[word as usize].push(value);
        self.via[word as usize] = via;
    }

    /// The rule a shared view's wrong load breaks.
    fn shared_rule(&self, word: u8, got: u64, actor: u8) -> (&'static str, String) {
        if let Some(owner) = self.private_only(word, got, Some(actor)) {
            return (
                rules::PRIVATE_COW,
                format!("actor {owner}'s MAP_PRIVATE store of {got:#x} reached actor {actor}"),
            );
        }
        let why = match self.via[word as usize] {
            Via::Initial => "the object's initial contents".to_string(),
            Via::Mapping(a) => format!("actor {a}'s store through its MAP_SHARED mapping"),
            Via::WriteCall(a) => format!("actor {a}'s write()"),
        };
        let rule = if !self.named {
            rules::NAME_LIFETIME
        } else if matches!(self.via[word as usize], Via::WriteCall(_)) {
            rules::FILE_COHERENCE
        } else {
            rules::SHARED_VISIBLE
        };
        (rule, why)
    }

    /// Judges one event.
    pub fn apply(&mut self, event: &MemEvent) -> Result<(), Violation> {
        let Some(e) = event.as_step() else { return Ok(()) };
        let a = e.actor;
        let got = e.observed;
        if let MemOp::Store { word, .. } | MemOp::Load { word } | MemOp::Write { word, .. } | MemOp::Read { word } =
            *e.op
        {
            if word >= WORDS {
                return Err(Violation::new(
                    rules::SHARED_VISIBLE,
                    format!("malformed trace: word {word} of an object of {WORDS} words"),
                ));
            }
        }
        let unexpected = |rule: &'static str, wanted: &str| {
            Violation::new(rule, format!("actor {a}: {}: got {}; expected {wanted}", e.op, super::show(got)))
        };
        match *e.op {
            MemOp::Map { view } => match got {
                Observed::Returned(Reply::Values(_)) => {
                    let since = self.history.iter().map(Vec::len).collect();
                    self.views.insert(a, ViewState { shared: view == View::Shared, own: BTreeMap::new(), since });
                    Ok(())
                }
                // MAP_PRIVATE of a shared-memory object is refused where the
                // catalogue says so (macOS: EINVAL); the actor then has no view.
                Observed::Returned(Reply::Errno(libc::EINVAL))
                    if view == View::Private && self.backing == Backing::Shm && self.private_shm_refused =>
                {
                    Ok(())
                }
                _ => Err(unexpected(
                    if view == View::Shared { rules::SHARED_VISIBLE } else { rules::PRIVATE_COW },
                    "a mapping",
                )),
            },
            MemOp::Store { word, value } => {
                let shared = self.views.get(&a).map(|v| v.shared);
                if *got != Observed::Returned(Reply::Done) {
                    return Err(unexpected(rules::SHARED_VISIBLE, "the store to complete"));
                }
                match shared {
                    Some(true) => self.record(word, value, Via::Mapping(a)),
                    Some(false) => {
                        if let Some(v) = self.views.get_mut(&a) {
                            v.own.insert(word, value);
                        }
                    }
                    None => {}
                }
                Ok(())
            }
            MemOp::Load { word } => {
                let Some(view) = self.views.get(&a).cloned() else { return Ok(()) };
                let Some(value) = one_value(got) else {
                    return Err(unexpected(rules::SHARED_VISIBLE, "one value"));
                };
                if view.shared {
                    let want = self.current(word);
                    if value != want {
                        let (rule, why) = self.shared_rule(word, value, a);
                        return Err(Violation::new(
                            rule,
                            format!(
                                "actor {a} loaded {value:#x} from word {word} through its MAP_SHARED mapping{}; expected {want:#x}, set by {why}",
                                if self.named { "" } else { " after the name was unlinked" }
                            ),
                        ));
                    }
                    return Ok(());
                }
                // A private view: its own stores, else any value the object
                // held since the view was made (pages it has not written
                // may still show the object).
                if let Some(own) = view.own.get(&word) {
                    if value != *own {
                        return Err(Violation::new(
                            rules::PRIVATE_COW,
                            format!("actor {a} stored {own:#x} in word {word} of its MAP_PRIVATE mapping but loaded {value:#x}"),
                        ));
                    }
                    return Ok(());
                }
                let seen = &self.history[word as usize][view.since[word as usize].saturating_sub(1)..];
                if !seen.contains(&value) {
                    let rule = if self.private_only(word, value, Some(a)).is_some() {
                        rules::PRIVATE_COW
                    } else if !self.named {
                        rules::NAME_LIFETIME
                    } else {
                        rules::PRIVATE_COW
                    };
                    return Err(Violation::new(
                        rule,
                        format!(
                            "actor {a} loaded {value:#x} from word {word} of its MAP_PRIVATE mapping (never written there); the object held only {seen:x?} since it was mapped"
                        ),
                    ));
                }
                Ok(())
            }
            MemOp::Write { word, value } => {
                if *got != Observed::Returned(Reply::Count(8)) {
                    return Err(unexpected(rules::FILE_COHERENCE, "Count(8)"));
                }
                self.record(word, value, Via::WriteCall(a));
                Ok(())
            }
            MemOp::Read { word } => {
                let want = self.current(word);
                match one_value(got) {
                    Some(v) if v == want => Ok(()),
                    Some(v) => {
                        if let Some(owner) = self.private_only(word, v, None) {
                            return Err(Violation::new(
                                rules::PRIVATE_COW,
                                format!("actor {a} read {v:#x} from word {word} with read(), but only actor {owner}'s MAP_PRIVATE mapping held it: a private store reached the object"),
                            ));
                        }
                        let (_, why) = self.shared_rule(word, v, a);
                        Err(Violation::new(
                            rules::FILE_COHERENCE,
                            format!(
                                "actor {a} read {v:#x} from word {word} with read(); expected {want:#x}, set by {why}"
                            ),
                        ))
                    }
                    None => Err(unexpected(rules::FILE_COHERENCE, &format!("{want:#x}"))),
                }
            }
            MemOp::Unlink => {
                let ok = if self.named {
                    *got == Observed::Returned(Reply::Done)
                } else {
                    *got == Observed::Returned(Reply::Errno(libc::ENOENT))
                };
                if !ok {
                    return Err(unexpected(rules::NAME_LIFETIME, if self.named { "Done" } else { "ENOENT" }));
                }
                self.named = false;
                Ok(())
            }
            MemOp::OpenByName => {
                let ok = if self.named {
                    *got == Observed::Returned(Reply::Done)
                } else {
                    *got == Observed::Returned(Reply::Errno(libc::ENOENT))
                };
                if ok {
                    Ok(())
                } else if self.named {
                    Err(unexpected(rules::NAME_LIFETIME, "the open to succeed while the name exists"))
                } else {
                    Err(unexpected(rules::NAME_LIFETIME, "ENOENT after the name was unlinked"))
                }
            }
            MemOp::Fork { region, a: va, c, p } => match got {
                Observed::Returned(Reply::Values(v)) if v.len() == 3 => {
                    crate::process::private::judge(region, va, c, p, [v[0] as u64, v[1] as u64, v[2] as u64])
                }
                _ => Err(unexpected(crate::process::private::rule_of(region), "three values")),
            },
        }
    }
}

/// Runs one memory case against the host.
pub fn run(schedule: &MemSchedule, k: &crate::Constants, timing: Timing) -> CaseReport<MemEvent> {
    let mut model = MemModel::new(schedule.backing, k);
    let mut report =
        crate::case::run_in_session(timing, |session, report| drive(schedule, session, &mut model, &mut report.events));
    let refused = report
        .events
        .iter()
        .filter_map(|e| e.as_step())
        .filter(|e| matches!(e.op, MemOp::Map { .. }) && *e.observed == Observed::Returned(Reply::Errno(libc::EINVAL)))
        .count();
    if refused > 0 {
        report
            .observations
            .push(("MAP_PRIVATE of a shared-memory object refused (EINVAL)".to_string(), refused as u64));
    }
    report
}

fn drive(
    schedule: &MemSchedule,
    session: &mut Session,
    model: &mut MemModel,
    events: &mut Vec<MemEvent>,
) -> Result<CaseOutcome, Stop> {
    if schedule.views.is_empty() || schedule.views.len() > 8 {
        return Err(Stop::harness(format!("a memory case needs 1 to 8 actors, not {}", schedule.views.len())));
    }
    let page = page_size() as u64;
    let len = page * u64::from(WORDS);
    // The guards remove the name and the scratch directory however the case ends.
    let shm_name = ShmName::fresh();
    let scratch = Scratch::new().map_err(|e| Stop::io("scratch directory", e))?;
    let path = scratch.path().join("mapped");
    let name = match schedule.backing {
        Backing::Shm => shm_name.as_str().to_string(),
        Backing::File => {
            let f = std::fs::File::create(&path).map_err(|e| Stop::io("creating the file", e))?;
            f.set_len(len).map_err(|e| Stop::io("sizing the file", e))?;
            path.to_string_lossy().into_owned()
        }
    };
    let file = schedule.backing == Backing::File;
    let mut index = 0;
    for (a, view) in schedule.views.iter().enumerate() {
        let id = session.spawn()?;
        let open = match schedule.backing {
            Backing::Shm => ShmOp::Open { name: name.clone(), create: a == 0, write: true, mode: 0o600 },
            Backing::File => ShmOp::OpenFile { path: name.clone(), write: true },
        };
        expect_opened(session.call(id, &Request::Shm(open))?, a)?;
        if a == 0 && !file {
            expect_done(session.call(id, &Request::Shm(ShmOp::Truncate { slot: 0, len }))?, "ftruncate")?;
        }
        let observed =
            session.call(id, &Request::Shm(ShmOp::Map { slot: Some(0), len, shared: *view == View::Shared }))?;
        let event = MemEvent::Step { index, actor: a as u8, op: MemOp::Map { view: *view }, observed };
        index += 1;
        if let Err(v) = model.apply(&event) {
            events.push(event);
            return Ok(fail(v));
        }
        events.push(event);
    }
    for step in &schedule.steps {
        let a = schedule.actor_of(step);
        let id = ActorId(a as usize);
        let request = match step.op {
            MemOp::Map { .. } => continue,
            MemOp::Store { word, value } if model.has_view(a) => {
                ShmOp::Store { map: 0, offset: u64::from(word % WORDS) * page, value }
            }
            MemOp::Load { word } if model.has_view(a) => ShmOp::Load { map: 0, offset: u64::from(word % WORDS) * page },
            MemOp::Store { .. } | MemOp::Load { .. } => continue,
            MemOp::Write { word, value } if file => {
                ShmOp::PWrite { slot: 0, offset: u64::from(word % WORDS) * page, value }
            }
            MemOp::Read { word } if file => ShmOp::PRead { slot: 0, offset: u64::from(word % WORDS) * page },
            MemOp::Write { .. } | MemOp::Read { .. } => continue,
            MemOp::Unlink => ShmOp::Unlink { name: name.clone(), file },
            MemOp::OpenByName => ShmOp::ProbeOpen { name: name.clone(), write: true, file },
            MemOp::Fork { region, a: va, c, p } => ShmOp::ForkExchange { region, a: va, c, p },
        };
        let op = match step.op {
            MemOp::Store { word, value } => MemOp::Store { word: word % WORDS, value },
            MemOp::Load { word } => MemOp::Load { word: word % WORDS },
            MemOp::Write { word, value } => MemOp::Write { word: word % WORDS, value },
            MemOp::Read { word } => MemOp::Read { word: word % WORDS },
            other => other,
        };
        let observed = session.call(id, &Request::Shm(request)).map_err(|s| s.at(format_args!("actor {a}: {op}")))?;
        let event = MemEvent::Step { index, actor: a, op, observed };
        index += 1;
        let verdict = model.apply(&event);
        events.push(event);
        if let Err(v) = verdict {
            return Ok(fail(v));
        }
    }
    drop(scratch);
    drop(shm_name);
    Ok(CaseOutcome::Pass)
}

/// Checks a set-up open; anything else is the harness's failure.
pub(crate) fn expect_opened(observed: Observed, actor: usize) -> Result<u32, Stop> {
    match observed {
        Observed::Returned(Reply::Opened { slot, .. }) => Ok(slot),
        other => Err(Stop::harness(format!("actor {actor} could not open the object: {}", super::show(&other)))),
    }
}

/// Checks a set-up step that must give `Done`.
pub(crate) fn expect_done(observed: Observed, what: &str) -> Result<(), Stop> {
    match observed {
        Observed::Returned(Reply::Done) => Ok(()),
        other => Err(Stop::harness(format!("{what}: {}", super::show(&other)))),
    }
}

/// Checks a set-up mapping; returns its number.
pub(crate) fn expect_mapped(observed: Observed, actor: usize) -> Result<u32, Stop> {
    match observed {
        Observed::Returned(Reply::Values(v)) if v.len() == 1 => Ok(v[0] as u32),
        other => Err(Stop::harness(format!("actor {actor} could not map the object: {}", super::show(&other)))),
    }
}
