//! The reference model of a pipe, and with it the checker.
//!
//! The model follows a case event by event: each step's observed outcome
//! (returned, blocked with evidence, or its actor died) and each later
//! completion of a pending operation. For every event it knows the **set**
//! of outcomes the documented rules allow, and rejects anything else with a
//! [`Violation`] naming the rule broken. After each event it also says
//! which pending operations must now complete ([`Obligation`]): the engine
//! waits for those, and a missing return becomes `hung`.
//!
//! What the model keeps: which actor holds which end and whether it lives;
//! each actor's `SIGPIPE` disposition and pending operation; per writer, the
//! stream positions accepted for certain (`lo`) and possibly (`hi`), its
//! writes as spans, and how much of its stream has been read. Data are
//! traceable ([`crate::pattern`]), so order, loss, duplication and
//! interleaving are checked from the bytes themselves, never from timing.
//! Capacity is not modelled exactly (Linux's depends on how the bytes were
//! written): the model only insists on what holds for any capacity: an
//! empty pipe takes one write of up to the measured single-write size, and
//! a pipe filled to `EAGAIN` with single bytes takes nothing more.

use super::rules;
use super::schedule::{End, Op, PipeSchedule, Setup};
use crate::constants::Constants;
use crate::observed::{Death, Observed};
use crate::os::signal::SigpipeDisposition;
use crate::os::{errno_name, signal_name};
use crate::pattern;
use crate::protocol::Reply;
use crate::stream::{self, Holder, Stream};

pub use crate::checker::{describe, violation, Obligation, Violation};

/// The name of the capacity observation (bytes a fill took from empty).
pub const CAPACITY_OBSERVED: &str = "pipe capacity (bytes, filled from empty)";

/// The same of the one-page pipes (`small-pipe`, or resized:
/// [`Setup::one_page`]).
pub const SMALL_CAPACITY_OBSERVED: &str = "one-page pipe capacity (bytes, filled from empty)";

/// One thing that happened in a pipe case.
pub type Event = crate::checker::Event<Op>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    Write { start: u64, len: u64 },
    Read { max: u64 },
}

type ActorState = Holder<Pending>;

/// The index of an end in the shared bookkeeping ([`crate::stream`]).
const READ: usize = 0;
const WRITE: usize = 1;

fn index(end: End) -> usize {
    match end {
        End::Read => READ,
        End::Write => WRITE,
    }
}

/// The reference model of one pipe case.
#[derive(Clone, Debug)]
pub struct PipeModel {
    setup: Setup,
    k: Constants,
    actors: Vec<ActorState>,
    streams: Vec<Stream>,
    /// Inside a write of at most PIPE_BUF bytes in the read stream: the
    /// writer and the position where the write ends.
    atomic_open: Option<(u8, u64)>,
    /// Filled to `EAGAIN` with single bytes and nothing read since.
    known_full: bool,
    /// Bytes accepted by fills into an empty pipe (observations of capacity).
    pub capacities: Vec<u64>,
}

impl PipeModel {
    /// The model at the start of a case: every actor alive, holding its end,
    /// with `SIGPIPE` ignored (Rust's runtime default in every actor).
    ///
    /// A one-page pipe (`small-pipe`, or resized) takes what was measured of one at
    /// start in one write when empty, instead of an ordinary pipe's.
    pub fn new(setup: &Setup, k: &Constants) -> PipeModel {
        let mut k = k.clone();
        if let (true, Some(small)) = (setup.is_one_page(), k.small_pipe) {
            k.pipe_single_write = small.single_write;
        }
        PipeModel {
            setup: setup.clone(),
            k,
            actors: Holder::cast(setup.actors(), |a| index(setup.end_of(a))),
            streams: Stream::per_tag(),
            atomic_open: None,
            known_full: false,
            capacities: Vec::new(),
        }
    }

    /// The capacity `F_SETPIPE_SZ` answered for a one-page pipe
    /// ([`Setup::is_one_page`]).
    fn small_size(&self) -> Option<u64> {
        self.k.small_pipe.filter(|_| self.setup.is_one_page()).map(|s| s.size)
    }

    /// Checks a whole recorded trace: the checker, offline.
    pub fn check(schedule: &PipeSchedule, k: &Constants, events: &[Event]) -> Result<PipeModel, Violation> {
        let mut model = PipeModel::new(&schedule.setup, k);
        for event in events {
            model.apply(event)?;
        }
        Ok(model)
    }

    /// Whether a step can be issued now; the reason to skip it if not.
    pub fn can_issue(&self, actor: u8, op: &Op) -> Result<(), &'static str> {
        let st = &self.actors[actor as usize];
        if !st.alive {
            return Err("actor has ended");
        }
        if matches!(op, Op::Kill) {
            return Ok(());
        }
        if st.pending.is_some() {
            return Err("actor is blocked in an earlier operation");
        }
        match op {
            Op::Write { .. } | Op::Read { .. } | Op::Fill { .. } | Op::Close if !st.holds => {
                Err("actor has closed its end")
            }
            Op::Write { .. } | Op::Fill { .. } if self.setup.concurrent_reads => {
                Err("no writes while reads may overlap")
            }
            Op::Write { .. } | Op::Fill { .. } if st.end == WRITE && actor >= self.setup.writers => {
                Err("an idle writer does not write")
            }
            Op::Read { .. } if st.end == READ && !self.setup.concurrent_reads && self.pending_reads() > 0 => {
                Err("another read is pending")
            }
            Op::Fill { .. } if st.end == READ => Err("fills go through the write end"),
            // A fill sets O_NONBLOCK on the write end's open file
            // description, which every holder shares: a write already
            // blocked on it could return early.
            Op::Fill { .. } if self.pending_writes() > 0 => Err("another write on the shared write end is pending"),
            _ => Ok(()),
        }
    }

    /// The pattern tag and stream position of the next write by `actor`.
    pub fn next_write(&self, actor: u8) -> (u8, u64) {
        let tag = actor % pattern::TAGS;
        (tag, self.streams[tag as usize].lo)
    }

    fn pending_writes(&self) -> usize {
        self.actors.iter().filter(|a| matches!(a.pending, Some(Pending::Write { .. }))).count()
    }

    fn pending_reads(&self) -> usize {
        self.actors.iter().filter(|a| matches!(a.pending, Some(Pending::Read { .. }))).count()
    }

    fn write_open(&self) -> bool {
        stream::open(&self.actors, WRITE)
    }

    fn read_open(&self) -> bool {
        stream::open(&self.actors, READ)
    }

    fn write_holders(&self) -> String {
        stream::holders_of(&self.actors, WRITE)
    }

    /// Bytes certainly in the pipe.
    fn buffered_lo(&self) -> u64 {
        self.streams.iter().map(Stream::unread_lo).sum()
    }

    /// Bytes possibly in the pipe.
    fn buffered_hi(&self) -> u64 {
        self.streams.iter().map(Stream::unread_hi).sum()
    }

    /// Applies one event, or names the rule it breaks.
    pub fn apply(&mut self, event: &Event) -> Result<(), Violation> {
        <Self as crate::checker::Checker>::apply(self, event)
    }

    fn apply_event(&mut self, event: &Event) -> Result<(), Violation> {
        match event {
            Event::Skipped { .. } => Ok(()),
            Event::Step { actor, op, observed, .. } => self.step(*actor, op, observed),
            Event::Completion { actor, observed } => self.completion(*actor, observed),
        }
    }

    fn step(&mut self, a: u8, op: &Op, observed: &Observed) -> Result<(), Violation> {
        let end = self.actors[a as usize].end;
        match (*op, end) {
            (Op::Write { len, .. }, WRITE) => self.write(a, u64::from(len), observed),
            (Op::Read { max, .. }, READ) => self.read(a, u64::from(max), observed),
            (Op::Write { len, .. }, _) => self.wrong_end(a, "write", "read", len, observed),
            (Op::Read { max, .. }, _) => self.wrong_end(a, "read", "write", max, observed),
            (Op::Fill { .. }, _) => self.fill(a, observed),
            (Op::Close, _) => {
                expect_done(a, "close", observed)?;
                self.actors[a as usize].holds = false;
                Ok(())
            }
            (Op::Exit, _) | (Op::Kill, _) => {
                let expected_signal = matches!(op, Op::Kill).then_some(libc::SIGKILL);
                match observed {
                    Observed::Died(d) if d.signal == expected_signal => {}
                    other => {
                        return Err(violation(
                            &[rules::EOF_ALL_CLOSED],
                            format!("actor {a}: {op}: {}; expected it to end", describe(other)),
                        ))
                    }
                }
                self.end_actor(a);
                Ok(())
            }
            (Op::Sigpipe(d), _) => {
                expect_done(a, "sigaction", observed)?;
                self.actors[a as usize].sigpipe = d;
                Ok(())
            }
        }
    }

    fn end_actor(&mut self, a: u8) {
        let st = &mut self.actors[a as usize];
        st.alive = false;
        st.holds = false;
        if let Some(Pending::Write { .. }) = st.pending.take() {
            // The bytes it had copied stay in the pipe: hi already covers them.
        }
    }

    fn wrong_end(&mut self, a: u8, call: &str, end: &str, n: u32, observed: &Observed) -> Result<(), Violation> {
        match observed {
            Observed::Returned(Reply::Errno(e)) if *e == libc::EBADF => Ok(()),
            Observed::Died(d) if d.signal.is_none() && d.code.is_some() => {
                Err(violation(&[rules::DIRECTION], format!("actor {a} ended during {call} on the {end} end")))
            }
            other => Err(violation(
                &[rules::DIRECTION],
                format!("{call} of {n} bytes on the {end} end {}; allowed: EBADF", describe(other)),
            )),
        }
    }

    fn fill(&mut self, a: u8, observed: &Observed) -> Result<(), Violation> {
        // From empty and with no reader draining meanwhile: a measure of capacity.
        let was_empty = self.buffered_hi() == 0 && self.pending_reads() == 0;
        match observed {
            Observed::Returned(Reply::Filled { total, errno }) => {
                let tag = a % pattern::TAGS;
                let start = self.streams[tag as usize].lo;
                self.accept(tag, start, *total);
                match errno {
                    None if !self.read_open() => Err(violation(
                        &[rules::EPIPE],
                        format!(
                            "a fill with no read end open took {total} bytes and stopped at EAGAIN; allowed: EPIPE"
                        ),
                    )),
                    None => {
                        if was_empty {
                            if *total == 0 {
                                return Err(violation(&[rules::CAPACITY], "an empty pipe took no byte"));
                            }
                            if let Some(small) = self.small_size().filter(|size| total > size) {
                                return Err(violation(
                                    &[rules::CAPACITY],
                                    format!(
                                        "an empty pipe that fcntl(F_SETPIPE_SZ) said it sized to {small} bytes took \
                                         {total} before EAGAIN"
                                    ),
                                ));
                            }
                            self.capacities.push(*total);
                        }
                        self.known_full = true;
                        Ok(())
                    }
                    Some(0) => Err(violation(
                        &[rules::CAPACITY],
                        format!("a non-blocking fill took {total} bytes with nobody reading and was never refused"),
                    )),
                    Some(e) if *e == libc::EPIPE && !self.read_open() => {
                        self.expect_sigpipe_ignored(a, "fill")?;
                        Ok(())
                    }
                    Some(e) => Err(violation(
                        &[rules::FULL_BLOCKS],
                        format!(
                            "a non-blocking fill stopped with {} after {total} bytes; allowed: EAGAIN",
                            errno_name(*e)
                        ),
                    )),
                }
            }
            Observed::Died(d) => self.died_writing(a, d, "fill"),
            other => Err(violation(
                &[rules::FULL_BLOCKS],
                format!("a non-blocking fill {}; allowed: bytes then EAGAIN", describe(other)),
            )),
        }
    }

    fn expect_sigpipe_ignored(&self, a: u8, what: &str) -> Result<(), Violation> {
        if self.actors[a as usize].sigpipe == SigpipeDisposition::Default {
            return Err(violation(
                &[rules::SIGPIPE_KILLS],
                format!(
                    "{what} with no reader failed with EPIPE but SIGPIPE was at its default; allowed: death by SIGPIPE"
                ),
            ));
        }
        Ok(())
    }

    /// The actor died in a write-like call.
    fn died_writing(&mut self, a: u8, d: &Death, what: &str) -> Result<(), Violation> {
        let sigpipe = d.signal == Some(libc::SIGPIPE);
        let default = self.actors[a as usize].sigpipe == SigpipeDisposition::Default;
        self.end_actor(a);
        if sigpipe && default && !self.read_open() {
            return Ok(());
        }
        let why = if !sigpipe {
            format!("the writer {d} during {what}")
        } else if self.read_open() {
            format!("{what} raised SIGPIPE while a read end was still open")
        } else {
            format!("{what} raised SIGPIPE although SIGPIPE was ignored; allowed: EPIPE")
        };
        let rule = if sigpipe && !self.read_open() { rules::EPIPE } else { rules::SIGPIPE_KILLS };
        Err(violation(&[rule], why))
    }

    fn accept(&mut self, tag: u8, start: u64, n: u64) {
        self.streams[tag as usize].accept(start, n);
    }

    fn write(&mut self, a: u8, len: u64, observed: &Observed) -> Result<(), Violation> {
        let nonblock = self.setup.nonblock_write;
        let tag = a % pattern::TAGS;
        let start = self.streams[tag as usize].lo;
        let pipe_buf = self.k.atomic_pipe_write();
        if !self.read_open() {
            return match observed {
                Observed::Returned(Reply::Count(0)) if len == 0 => Ok(()),
                Observed::Returned(Reply::Errno(e)) if *e == libc::EPIPE => self.expect_sigpipe_ignored(a, "a write"),
                Observed::Died(d) => self.died_writing(a, d, "a write"),
                other => {
                    let rule = match self.actors[a as usize].sigpipe {
                        SigpipeDisposition::Default => rules::SIGPIPE_KILLS,
                        SigpipeDisposition::Ignore => rules::EPIPE,
                    };
                    Err(violation(
                        &[rule],
                        format!(
                            "write of {len} bytes with no read end open {}; allowed: {}",
                            describe(other),
                            sigpipe_allowed(self.actors[a as usize].sigpipe)
                        ),
                    ))
                }
            };
        }
        let room_for_sure = self.buffered_hi() == 0 && len <= self.k.pipe_single_write;
        let full = self.known_full && len > 0;
        match observed {
            Observed::Returned(Reply::Count(k)) => {
                let k = *k;
                if k > len {
                    return Err(violation(&[rules::ORDER], format!("write of {len} bytes returned {k}")));
                }
                if len == 0 {
                    return Ok(());
                }
                if full {
                    let allowed = if nonblock { "EAGAIN" } else { "pending until a reader frees space" };
                    return Err(violation(
                        &[rules::FULL_BLOCKS],
                        format!("write of {len} bytes to a full pipe returned {k}; allowed: {allowed}"),
                    ));
                }
                if k < len {
                    if len <= pipe_buf {
                        return Err(violation(
                            &[rules::ATOMIC],
                            format!(
                                "write of {len} bytes (at most PIPE_BUF = {pipe_buf}) returned a partial count {k}"
                            ),
                        ));
                    }
                    if !nonblock {
                        return Err(violation(
                            &[rules::FULL_BLOCKS],
                            format!("blocking write of {len} bytes returned a partial count {k} with a reader open; allowed: {len} once all is written"),
                        ));
                    }
                    if room_for_sure {
                        return Err(violation(
                            &[rules::FULL_BLOCKS],
                            format!("non-blocking write of {len} bytes into an empty pipe took only {k}; an empty pipe takes {}", self.k.pipe_single_write),
                        ));
                    }
                    if k == 0 {
                        return Err(violation(&[rules::FULL_BLOCKS], format!("non-blocking write of {len} bytes returned 0; allowed: a count of at least 1 or EAGAIN")));
                    }
                }
                self.accept(tag, start, k);
                Ok(())
            }
            Observed::Returned(Reply::Errno(e)) if *e == libc::EAGAIN && nonblock => {
                if room_for_sure {
                    return Err(violation(
                        &[rules::FULL_BLOCKS],
                        format!("non-blocking write of {len} bytes into an empty pipe failed with EAGAIN"),
                    ));
                }
                if len == 0 {
                    return Err(violation(&[rules::FULL_BLOCKS], "write of 0 bytes failed with EAGAIN; allowed: 0"));
                }
                Ok(())
            }
            Observed::Blocked(_) if !nonblock && len > 0 => {
                if room_for_sure {
                    return Err(violation(
                        &[rules::FULL_BLOCKS],
                        format!(
                            "write of {len} bytes blocked although the pipe was empty (one write takes {})",
                            self.k.pipe_single_write
                        ),
                    ));
                }
                let st = &mut self.actors[a as usize];
                st.pending = Some(Pending::Write { start, len });
                self.streams[tag as usize].pending(start, len);
                Ok(())
            }
            Observed::Died(d) => self.died_writing(a, d, "a write"),
            other => {
                let allowed = if len == 0 {
                    "0".to_string()
                } else if full {
                    (if nonblock { "EAGAIN" } else { "pending until a reader frees space" }).to_string()
                } else if nonblock {
                    format!("{len}, or EAGAIN{}", if len > pipe_buf { ", or a partial count" } else { "" })
                } else {
                    format!("{len}, or pending while the pipe is full")
                };
                let rule = if full { rules::FULL_BLOCKS } else { rules::DIRECTION };
                Err(violation(&[rule], format!("write of {len} bytes {}; allowed: {allowed}", describe(other))))
            }
        }
    }

    fn read(&mut self, a: u8, max: u64, observed: &Observed) -> Result<(), Violation> {
        let nonblock = self.setup.nonblock_read;
        let lo = self.buffered_lo();
        let hi = self.buffered_hi();
        let writers = self.write_open();
        match observed {
            Observed::Returned(Reply::Data(d)) if max == 0 => {
                if d.is_empty() {
                    Ok(())
                } else {
                    Err(violation(&[rules::ORDER], format!("read of 0 bytes returned {}", d.len())))
                }
            }
            Observed::Returned(Reply::Data(d)) if d.is_empty() => self.eof(a, "read"),
            Observed::Returned(Reply::Data(d)) => self.data(a, max, d),
            Observed::Returned(Reply::Errno(e)) if *e == libc::EAGAIN && nonblock => {
                if lo > 0 {
                    return Err(violation(
                        &[rules::READ_BLOCKS],
                        format!("non-blocking read failed with EAGAIN with {lo} bytes buffered; allowed: data"),
                    ));
                }
                if !writers && hi == 0 {
                    return Err(violation(
                        &[rules::EOF_ALL_CLOSED],
                        "non-blocking read of an empty pipe with no writer left failed with EAGAIN; allowed: 0 (end of file)",
                    ));
                }
                Ok(())
            }
            Observed::Blocked(_) if !nonblock => {
                if lo > 0 {
                    return Err(violation(
                        &[rules::READ_BLOCKS],
                        format!("read blocked with {lo} bytes buffered; allowed: data at once"),
                    ));
                }
                if !writers {
                    return Err(violation(
                        &[rules::EOF_ALL_CLOSED],
                        "read blocked although every write end is closed; allowed: 0 (end of file)",
                    ));
                }
                self.actors[a as usize].pending = Some(Pending::Read { max });
                Ok(())
            }
            other => {
                let allowed = if nonblock {
                    "data or EAGAIN"
                } else {
                    "data, or pending until a write or the last writer's close"
                };
                Err(violation(&[rules::READ_BLOCKS], format!("read {}; allowed: {allowed}", describe(other))))
            }
        }
    }

    /// A read returned 0 bytes (end of file).
    fn eof(&mut self, a: u8, what: &str) -> Result<(), Violation> {
        if self.write_open() {
            return Err(violation(
                &[rules::EOF_ANY_OPEN, rules::READ_BLOCKS],
                format!(
                    "actor {a}: {what} returned 0 bytes (end of file) while {} still hold(s) a write end; allowed: {}",
                    self.write_holders(),
                    if self.setup.nonblock_read {
                        "data or EAGAIN"
                    } else {
                        "data, or pending until a write or the last writer's close"
                    }
                ),
            ));
        }
        for (tag, s) in self.streams.iter_mut().enumerate() {
            let (read, wrote) = (s.consumed, s.lo);
            if s.closed().is_err() {
                return Err(violation(
                    &[rules::EOF_ALL_CLOSED, rules::ORDER],
                    format!("end of file after {read} of the {wrote} bytes writer {tag} wrote"),
                ));
            }
        }
        Ok(())
    }

    /// A read returned data: check every byte against the writers' streams.
    fn data(&mut self, a: u8, max: u64, d: &[u8]) -> Result<(), Violation> {
        if d.len() as u64 > max {
            return Err(violation(&[rules::ORDER], format!("read of at most {max} bytes returned {}", d.len())));
        }
        for (i, &b) in d.iter().enumerate() {
            let tag = pattern::tag_of(b);
            if let Some((w, end)) = self.atomic_open {
                if w != tag {
                    return Err(violation(
                        &[rules::ATOMIC],
                        format!(
                            "actor {a} read writer {tag}'s byte inside writer {w}'s write of at most PIPE_BUF bytes (byte {i} of the read; {} bytes of that write still to come)",
                            end - self.streams[w as usize].consumed
                        ),
                    ));
                }
            }
            let s = &mut self.streams[tag as usize];
            let p = s
                .consume(tag, b)
                .map_err(|why| violation(&[rules::ORDER], format!("actor {a}: byte {i} of the read is {why}")))?;
            let consumed = s.consumed;
            match self.atomic_open {
                Some((_, end)) if consumed >= end => self.atomic_open = None,
                Some(_) => {}
                None => {
                    let span = s.span_at(p);
                    if let Some((st, len)) = span {
                        if len <= self.k.atomic_pipe_write() && consumed < st + len {
                            self.atomic_open = Some((tag, st + len));
                        }
                    }
                }
            }
        }
        self.known_full = false;
        Ok(())
    }

    fn completion(&mut self, a: u8, observed: &Observed) -> Result<(), Violation> {
        let Some(pending) = self.actors[a as usize].pending.take() else {
            return Err(violation(&[rules::ORDER], format!("actor {a} completed an operation that was not pending")));
        };
        match pending {
            Pending::Read { max } => match observed {
                Observed::Returned(Reply::Data(d)) if d.is_empty() => self.eof(a, "a blocked read woke and"),
                Observed::Returned(Reply::Data(d)) => self.data(a, max, d),
                other => {
                    let rule = if self.write_open() {
                        rules::READ_BLOCKS
                    } else if self.pending_reads() > 0 {
                        rules::WAKE_ALL
                    } else {
                        rules::EOF_ALL_CLOSED
                    };
                    Err(violation(
                        &[rule],
                        format!("a blocked read woke and {}; allowed: data or 0 (end of file)", describe(other)),
                    ))
                }
            },
            Pending::Write { start, len } => {
                let tag = a % pattern::TAGS;
                let readers = self.read_open();
                match observed {
                    Observed::Returned(Reply::Count(k)) if *k == len => {
                        self.settle_write(tag, start, len, *k);
                        Ok(())
                    }
                    Observed::Returned(Reply::Count(k))
                        if !readers && *k < len && *k > 0 && len > self.k.atomic_pipe_write() =>
                    {
                        self.expect_sigpipe_ignored(a, "a blocked write")?;
                        self.settle_write(tag, start, len, *k);
                        Ok(())
                    }
                    Observed::Returned(Reply::Errno(e)) if *e == libc::EPIPE && !readers => {
                        self.expect_sigpipe_ignored(a, "a blocked write")?;
                        self.settle_write(tag, start, len, 0);
                        Ok(())
                    }
                    Observed::Died(d) => {
                        // Bytes copied before the signal stay in the pipe.
                        self.died_writing(a, d, "a blocked write")
                    }
                    other => {
                        let allowed = if readers {
                            format!("{len} once all is written")
                        } else {
                            format!(
                                "EPIPE{}",
                                if len > self.k.atomic_pipe_write() { " or a partial count" } else { "" }
                            )
                        };
                        let rule = if !readers {
                            rules::EPIPE
                        } else if len <= self.k.atomic_pipe_write() {
                            rules::ATOMIC
                        } else {
                            rules::FULL_BLOCKS
                        };
                        Err(violation(
                            &[rule],
                            format!("a blocked write of {len} bytes woke and {}; allowed: {allowed}", describe(other)),
                        ))
                    }
                }
            }
        }
    }

    /// A pending write returned `k` of `len` bytes: its span and bounds shrink.
    fn settle_write(&mut self, tag: u8, start: u64, len: u64, k: u64) {
        self.streams[tag as usize].settle(start, len, k);
    }

    /// The pending operations the rules say must complete now.
    pub fn obligations(&self) -> Vec<Obligation> {
        <Self as crate::checker::Checker>::obligations(self)
    }

    fn pending_obligations(&self) -> Vec<Obligation> {
        let mut out = Vec::new();
        let writers = self.write_open();
        let readers = self.read_open();
        let blocked_readers = self.pending_reads();
        let writer_has_bytes_to_give = self.actors.iter().enumerate().any(|(a, st)| match st.pending {
            Some(Pending::Write { start, len }) => {
                st.alive && self.streams[a % pattern::TAGS as usize].consumed < start + len
            }
            _ => false,
        });
        for (a, st) in self.actors.iter().enumerate() {
            if !st.alive {
                continue;
            }
            let a = a as u8;
            match st.pending {
                Some(Pending::Read { .. }) => {
                    if self.buffered_lo() > 0 || writer_has_bytes_to_give {
                        out.push(Obligation::of(
                            a,
                            rules::READ_BLOCKS,
                            "a blocked read must wake once data is in the pipe",
                        ));
                    } else if !writers {
                        let rule = if blocked_readers > 1 { rules::WAKE_ALL } else { rules::EOF_ALL_CLOSED };
                        out.push(Obligation::of(
                            a,
                            rule,
                            format!("every write end is closed: {blocked_readers} blocked read(s) must wake with end of file"),
                        ));
                    }
                }
                Some(Pending::Write { start, len }) => {
                    let s = &self.streams[(a % pattern::TAGS) as usize];
                    if !readers {
                        let rule = match st.sigpipe {
                            SigpipeDisposition::Default => rules::SIGPIPE_KILLS,
                            SigpipeDisposition::Ignore => rules::EPIPE,
                        };
                        out.push(Obligation::of(a, rule, "the last read end closed: a blocked write must wake"));
                    } else if s.consumed >= start + len {
                        out.push(Obligation::of(
                            a,
                            rules::FULL_BLOCKS,
                            "every byte of the blocked write has been read: the write must return",
                        ));
                    }
                }
                None => {}
            }
        }
        out
    }
}

/// What the host's constants alone say against the pipe rules: a
/// `PIPE_BUF` below POSIX's floor of 512 breaks `pipe.write.atomic-pipe-buf`
/// (the model still holds the host to 512).
pub fn constants_violation(k: &Constants) -> Option<Violation> {
    k.pipe_buf_below_floor().then(|| {
        violation(
            &[rules::ATOMIC],
            format!(
                "fpathconf(_PC_PIPE_BUF) is {}, below POSIX's floor of {} (_POSIX_PIPE_BUF)",
                k.pipe_buf,
                crate::constants::POSIX_PIPE_BUF
            ),
        )
    })
}

fn sigpipe_allowed(d: SigpipeDisposition) -> &'static str {
    match d {
        SigpipeDisposition::Default => "death by SIGPIPE",
        SigpipeDisposition::Ignore => "EPIPE",
    }
}

fn expect_done(a: u8, what: &str, observed: &Observed) -> Result<(), Violation> {
    match observed {
        Observed::Returned(Reply::Done) => Ok(()),
        other => {
            Err(violation(&[rules::DIRECTION], format!("actor {a}: {what} {}; allowed: success", describe(other))))
        }
    }
}

/// Names a death for messages.
pub fn death_name(d: &Death) -> String {
    match d.signal {
        Some(sig) => signal_name(sig),
        None => format!("exit {}", d.code.unwrap_or(-1)),
    }
}

impl crate::checker::Checker for PipeModel {
    type Op = Op;

    fn can_issue(&self, actor: u8, op: &Op) -> Result<(), &'static str> {
        PipeModel::can_issue(self, actor, op)
    }

    fn observations(&self) -> Vec<(String, u64)> {
        let name = if self.setup.is_one_page() { SMALL_CAPACITY_OBSERVED } else { CAPACITY_OBSERVED };
        self.capacities.iter().map(|c| (name.to_string(), *c)).collect()
    }

    fn apply(&mut self, event: &Event) -> Result<(), Violation> {
        self.apply_event(event)
    }

    fn obligations(&self) -> Vec<Obligation> {
        self.pending_obligations()
    }
}
