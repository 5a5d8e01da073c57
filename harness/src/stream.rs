//! The bookkeeping the pipe and socket-pair models share: who holds which
//! end of a two-ended object (and whether they live, their `SIGPIPE`
//! disposition, their pending operation), and each writer's stream of
//! traceable bytes ([`crate::pattern`]): what was accepted for certain and
//! possibly, the writes as spans, and how much has been read.

use crate::os::signal::SigpipeDisposition;
use crate::pattern;

/// One actor, as a model of a two-ended object sees it; `P` is the
/// mechanism's pending operation.
#[derive(Clone, Debug)]
pub struct Holder<P> {
    /// The end it holds (0 or 1).
    pub end: usize,
    /// It still holds it (not closed).
    pub holds: bool,
    /// It is alive.
    pub alive: bool,
    /// Its `SIGPIPE` disposition.
    pub sigpipe: SigpipeDisposition,
    /// Its operation in flight, if the model knows it pending.
    pub pending: Option<P>,
}

impl<P> Holder<P> {
    /// The cast at the start of a case: `actors` actors, each alive and
    /// holding end `end_of(actor)`, with `SIGPIPE` ignored (Rust's runtime
    /// default in every actor).
    pub fn cast(actors: u8, end_of: impl Fn(u8) -> usize) -> Vec<Holder<P>> {
        (0..actors)
            .map(|a| Holder {
                end: end_of(a),
                holds: true,
                alive: true,
                sigpipe: SigpipeDisposition::Ignore,
                pending: None,
            })
            .collect()
    }

    /// Whether it is alive and holds `end`.
    pub fn holding(&self, end: usize) -> bool {
        self.alive && self.holds && self.end == end
    }
}

/// Whether any live actor holds `end`.
pub fn open<P>(cast: &[Holder<P>], end: usize) -> bool {
    cast.iter().any(|h| h.holding(end))
}

/// The actors that hold `end`, for messages: `actor(s) 0, 2`.
pub fn holders_of<P>(cast: &[Holder<P>], end: usize) -> String {
    let holders: Vec<String> =
        cast.iter().enumerate().filter(|(_, h)| h.holding(end)).map(|(a, _)| a.to_string()).collect();
    format!("actor(s) {}", holders.join(", "))
}

/// One writer's stream of traceable bytes.
#[derive(Clone, Debug, Default)]
pub struct Stream {
    /// Positions accepted for certain.
    pub lo: u64,
    /// Positions possibly accepted (a pending or interrupted write).
    pub hi: u64,
    /// Every write as `(start, len)`, `len` cut to what was accepted.
    pub spans: Vec<(u64, u64)>,
    /// Positions read so far.
    pub consumed: u64,
}

impl Stream {
    /// One stream per pattern tag.
    pub fn per_tag() -> Vec<Stream> {
        vec![Stream::default(); pattern::TAGS as usize]
    }

    /// Bytes certainly written and not read.
    pub fn unread_lo(&self) -> u64 {
        self.lo.saturating_sub(self.consumed)
    }

    /// Bytes possibly written and not read.
    pub fn unread_hi(&self) -> u64 {
        self.hi.saturating_sub(self.consumed)
    }

    /// A write of `n` bytes from position `start` was accepted.
    pub fn accept(&mut self, start: u64, n: u64) {
        self.lo = self.lo.max(start + n);
        self.hi = self.hi.max(self.lo);
        if n > 0 {
            self.spans.push((start, n));
        }
    }

    /// A write of `len` bytes from `start` is pending (blocked): it may
    /// have copied any part of itself.
    pub fn pending(&mut self, start: u64, len: u64) {
        self.hi = self.hi.max(start + len);
        self.spans.push((start, len));
    }

    /// The pending write of `len` bytes from `start` returned `k`: its span
    /// and the bounds shrink to what it copied.
    pub fn settle(&mut self, start: u64, len: u64, k: u64) {
        if let Some(span) = self.spans.iter_mut().rev().find(|(st, l)| *st == start && *l == len) {
            span.1 = k;
        }
        self.spans.retain(|(_, l)| *l > 0);
        self.lo = self.lo.max(start + k);
        self.hi = start + k;
    }

    /// End of file was read: whatever an interrupted write had copied is
    /// now known. `Err(unread)` if certainly written bytes were never read.
    pub fn closed(&mut self) -> Result<(), u64> {
        if self.consumed < self.lo {
            return Err(self.lo - self.consumed);
        }
        self.lo = self.consumed;
        self.hi = self.consumed;
        Ok(())
    }

    /// The write span holding position `p`.
    pub fn span_at(&self, p: u64) -> Option<(u64, u64)> {
        self.spans.iter().find(|(st, len)| p >= *st && p < st + len).copied()
    }

    /// Byte `b`, read as the next byte of writer `tag`'s stream: it must be
    /// that writer's byte at the next unread position, which it must have
    /// written. Returns the position; the message for the violation if not.
    pub fn consume(&mut self, tag: u8, b: u8) -> Result<u64, String> {
        let p = self.consumed;
        if p >= self.hi {
            return Err(format!(
                "a byte of writer {tag} at position {p}, but writer {tag} has written only {} bytes",
                self.hi
            ));
        }
        if b != pattern::byte(tag, p) {
            return Err(format!(
                "a byte that is not writer {tag}'s byte at position {p}, the next one due from it: bytes lost, repeated or reordered"
            ));
        }
        self.consumed += 1;
        Ok(p)
    }
}
