//! The file cases that are not lock schedules: visibility, replacement by
//! rename (and the in-place rewrite it is compared with), rename without
//! replace, exclusive creation and appends. Each case is data (printed as
//! numbered steps, serialized, replayed); each has a pure judge over what
//! the actors reported, which names the rule an observation breaks.

use super::locks::Violation;
use super::rules;
use super::version::{self, Seen};
use crate::os::errno_name;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

fn violation(rule: &'static str, message: impl Into<String>) -> Violation {
    Violation { rules: vec![rule], message: message.into() }
}

/// The id of the version a rename case starts from.
pub const INITIAL: u64 = version::MAX_WRITER_ID;

// ---- file.write.visible ----------------------------------------------------

/// Visibility: a writer rewrites the file (`O_TRUNC`, one `write`, never
/// `fsync`, never closing) once per entry of `lens`; after each write has
/// returned, the reader opens the path and reads it whole.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisibleCase {
    /// Body length of each version.
    pub lens: Vec<u32>,
}

impl fmt::Display for VisibleCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, len) in self.lens.iter().enumerate() {
            writeln!(
                f,
                "{:>3}. writer: open O_CREAT|O_TRUNC, write version 0:{} ({} bytes), no fsync, no close",
                2 * i + 1,
                i + 1,
                version::size(*len)
            )?;
            writeln!(f, "{:>3}. reader: open the path, read it whole, close", 2 * i + 2)?;
        }
        Ok(())
    }
}

/// Judges one round: the write's byte count and what the reader saw.
pub fn judge_visible(id: u64, len: u32, written: Option<u64>, seen: Seen) -> Result<(), Violation> {
    let size = version::size(len);
    if written != Some(size) {
        return Err(violation(
            rules::VISIBLE,
            format!("a write of {size} bytes to a regular file returned {written:?}; allowed: {size}"),
        ));
    }
    if seen != Seen::Complete(id) {
        return Err(violation(
            rules::VISIBLE,
            format!(
                "after write() returned in the writer, the reader found {seen}; allowed: complete version {}",
                version::show_id(id)
            ),
        ));
    }
    Ok(())
}

// ---- file.rename.atomic-replace and file.inplace.torn-read -----------------

/// Writers replace one file again and again while readers read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplaceCase {
    /// Body length of the initial version.
    pub initial_len: u32,
    /// Per writer (1-3), the body lengths of its versions, in order.
    pub writers: Vec<Vec<u32>>,
    /// Per reader (1-3), how many times it reads the path.
    pub readers: Vec<u32>,
    /// `None`: each version goes to a temporary file renamed over the
    /// target. `Some(n)`: the target is rewritten in place in writes of `n`
    /// bytes and then truncated to size (the torn-read observation).
    pub in_place_chunk: Option<u32>,
}

impl fmt::Display for ReplaceCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "  1. actor 0: create the target with the initial version ({} bytes)",
            version::size(self.initial_len)
        )?;
        let how = match self.in_place_chunk {
            None => "write <target>.tmp.<w>, rename it over the target".to_string(),
            Some(n) => format!("rewrite the target in place in writes of {n} bytes, then truncate it to size"),
        };
        for (w, lens) in self.writers.iter().enumerate() {
            writeln!(
                f,
                "  2. writer {w} (at once with the others): {} versions of {lens:?} body bytes; each: {how}",
                lens.len()
            )?;
        }
        for (r, n) in self.readers.iter().enumerate() {
            writeln!(f, "  2. reader {r} (at once with the others): open, read whole, close the target, {n} times")?;
        }
        writeln!(f, "  3. collect every actor's report")
    }
}

/// What one writer reported: versions done, and the errno that stopped it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriterReport {
    /// Versions fully written (renamed, or rewritten in place).
    pub done: u32,
    /// The errno that stopped it, 0 if none.
    pub errno: i32,
}

/// Judges the reports of a rename case (not in place): every read found
/// exactly one complete version that some writer wrote (or the initial
/// one), and no reader saw a writer's versions go backwards.
pub fn judge_rename(case: &ReplaceCase, writers: &[WriterReport], reads: &[Vec<Seen>]) -> Result<(), Violation> {
    for (w, rep) in writers.iter().enumerate() {
        if rep.errno != 0 || rep.done as usize != case.writers.get(w).map_or(0, Vec::len) {
            return Err(violation(
                rules::RENAME_ATOMIC,
                format!(
                    "writer {w} stopped after {} versions with {}; allowed: every rename succeeds",
                    rep.done,
                    errno_name(rep.errno)
                ),
            ));
        }
    }
    for (r, seen) in reads.iter().enumerate() {
        let mut last: BTreeMap<u64, u64> = BTreeMap::new();
        for (i, s) in seen.iter().enumerate() {
            let id = match s {
                Seen::Complete(id) => *id,
                other => {
                    return Err(violation(
                        rules::RENAME_ATOMIC,
                        format!(
                            "reader {r}, read {} of {}: found {other}; allowed: exactly one complete version",
                            i + 1,
                            seen.len()
                        ),
                    ))
                }
            };
            let (writer, n) = (id >> 32, id & 0xffff_ffff);
            let known = id == INITIAL
                || case.writers.get(writer as usize).is_some_and(|lens| n >= 1 && n as usize <= lens.len());
            if !known {
                return Err(violation(
                    rules::RENAME_ATOMIC,
                    format!(
                        "reader {r}, read {}: found version {}, which no writer wrote",
                        i + 1,
                        version::show_id(id)
                    ),
                ));
            }
            if id != INITIAL {
                if let Some(prev) = last.insert(writer, n) {
                    if n < prev {
                        return Err(violation(
                            rules::RENAME_ATOMIC,
                            format!(
                                "reader {r}, read {}: found version {writer}:{n} after {writer}:{prev}, which replaced it",
                                i + 1
                            ),
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

/// The torn-read observation of an in-place case: reads made, and reads
/// that found anything but one complete version. An error only when the
/// harness broke (a writer failed, or a reader could not open the file).
pub fn observe_torn(writers: &[WriterReport], reads: &[Vec<Seen>]) -> Result<(u64, u64), String> {
    if let Some((w, rep)) = writers.iter().enumerate().find(|(_, r)| r.errno != 0) {
        return Err(format!("in-place writer {w} failed with {}", errno_name(rep.errno)));
    }
    let mut total = 0;
    let mut torn = 0;
    for seen in reads.iter().flatten() {
        total += 1;
        match seen {
            Seen::Complete(_) => {}
            Seen::Truncated | Seen::Torn | Seen::Empty => torn += 1,
            Seen::Missing | Seen::Failed(_) => return Err(format!("an in-place reader found {seen}")),
        }
    }
    Ok((total, torn))
}

// ---- file.rename.noreplace -------------------------------------------------

/// A rename that must not replace, with or without an existing target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoReplaceCase {
    /// Whether the target exists before the rename.
    pub target_exists: bool,
    /// Body length of the source's version.
    pub src_len: u32,
    /// Body length of the target's version.
    pub dst_len: u32,
    /// Try `renameat2(RENAME_NOREPLACE)` first (else link + unlink).
    pub native: bool,
}

impl fmt::Display for NoReplaceCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  1. actor 0: create src with version 0:1 ({} bytes)", version::size(self.src_len))?;
        if self.target_exists {
            writeln!(f, "  2. actor 0: create dst with version 0:2 ({} bytes)", version::size(self.dst_len))?;
        } else {
            writeln!(f, "  2. (dst does not exist)")?;
        }
        let how =
            if self.native { "renameat2(RENAME_NOREPLACE) where offered, else link + unlink" } else { "link + unlink" };
        writeln!(f, "  3. actor 1: rename src to dst without replacing ({how})")?;
        writeln!(f, "  4. actor 0: read src and dst")
    }
}

/// The source's version id.
pub const SRC_ID: u64 = 1;
/// The target's version id.
pub const DST_ID: u64 = 2;

/// Judges a rename without replace: its result, then what src and dst hold.
pub fn judge_noreplace(case: &NoReplaceCase, rename: Result<(), i32>, src: Seen, dst: Seen) -> Result<(), Violation> {
    let v = |m: String| Err(violation(rules::NOREPLACE, m));
    if case.target_exists {
        if rename != Err(libc::EEXIST) {
            return v(format!(
                "with the target present, the rename {}; allowed: EEXIST",
                match rename {
                    Ok(()) => "succeeded".to_string(),
                    Err(e) => format!("failed with {}", errno_name(e)),
                }
            ));
        }
        if src != Seen::Complete(SRC_ID) || dst != Seen::Complete(DST_ID) {
            return v(format!("after the refused rename, src holds {src} and dst {dst}; allowed: both as they were"));
        }
    } else {
        if let Err(e) = rename {
            return v(format!("with no target, the rename failed with {}; allowed: success", errno_name(e)));
        }
        if src != Seen::Missing || dst != Seen::Complete(SRC_ID) {
            return v(format!(
                "after the rename, src holds {src} and dst {dst}; allowed: no src, dst with src's version"
            ));
        }
    }
    Ok(())
}

// ---- file.create.exclusive -------------------------------------------------

/// Processes race to create the same paths with `O_CREAT|O_EXCL`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateCase {
    /// Racing processes (2-6).
    pub racers: u8,
    /// Paths each of them tries, in the same order (`race.0`, `race.1`, ...).
    pub paths: u32,
}

impl fmt::Display for CreateCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "  1. {} actors at once: for i in 0..{}: open(race.<i>, O_CREAT|O_EXCL), close on success",
            self.racers, self.paths
        )?;
        writeln!(f, "  2. collect every actor's results")
    }
}

/// Judges the races: per path, exactly one success and `EEXIST` for the rest.
pub fn judge_create(case: &CreateCase, results: &[Vec<i32>]) -> Result<(), Violation> {
    for i in 0..case.paths as usize {
        let mut winners = Vec::new();
        for (a, r) in results.iter().enumerate() {
            match r.get(i) {
                Some(0) => winners.push(a),
                Some(&e) if e == libc::EEXIST => {}
                Some(&e) => {
                    return Err(violation(
                        rules::CREATE_EXCL,
                        format!(
                            "actor {a} creating race.{i} failed with {}; allowed: success or EEXIST",
                            errno_name(e)
                        ),
                    ))
                }
                None => {
                    return Err(violation(rules::CREATE_EXCL, format!("actor {a} reported no result for race.{i}")))
                }
            }
        }
        if winners.len() != 1 {
            return Err(violation(
                rules::CREATE_EXCL,
                format!("race.{i} was created by {} processes {winners:?}; allowed: exactly one", winners.len()),
            ));
        }
    }
    Ok(())
}

// ---- file.append.atomic ----------------------------------------------------

/// Writers append records to one `O_APPEND` file at the same time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendCase {
    /// Per writer (2-4), the body length of each record, in order.
    pub writers: Vec<Vec<u32>>,
}

impl fmt::Display for AppendCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  1. actor 0: create the log (empty)")?;
        for (w, lens) in self.writers.iter().enumerate() {
            writeln!(
                f,
                "  2. writer {w} (at once with the others): open O_WRONLY|O_APPEND, append {} records of {lens:?} body bytes, one write each",
                lens.len()
            )?;
        }
        writeln!(f, "  3. actor 0: read the log whole")
    }
}

/// What one appender reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendReport {
    /// Records fully written.
    pub records: u32,
    /// Bytes written.
    pub bytes: u64,
    /// The errno that stopped it, 0 if none.
    pub errno: i32,
}

/// Judges the appenders' reports and the final log.
pub fn judge_append(case: &AppendCase, reports: &[AppendReport], log: &[u8]) -> Result<(), Violation> {
    let mut expected = BTreeSet::new();
    let mut total = 0u64;
    for (w, lens) in case.writers.iter().enumerate() {
        let size: u64 = lens.iter().map(|l| version::size(*l)).sum();
        total += size;
        expected.extend((1..=lens.len() as u32).map(|n| version::id_of(w as u8, n)));
        match reports.get(w) {
            Some(r) if r.errno == 0 && r.records as usize == lens.len() && r.bytes == size => {}
            Some(r) => {
                return Err(violation(
                    rules::APPEND,
                    format!(
                        "writer {w} wrote {} of {} records ({} of {size} bytes){}; allowed: every write whole",
                        r.records,
                        lens.len(),
                        r.bytes,
                        if r.errno != 0 { format!(", then {}", errno_name(r.errno)) } else { String::new() }
                    ),
                ))
            }
            None => return Err(violation(rules::APPEND, format!("writer {w} reported nothing"))),
        }
    }
    if log.len() as u64 != total {
        return Err(violation(
            rules::APPEND,
            format!(
                "the log holds {} bytes; allowed: the sum of all writes, {total} (a write was overwritten)",
                log.len()
            ),
        ));
    }
    let ids = version::parse_log(log).map_err(|(at, seen)| {
        violation(rules::APPEND, format!("the log is not a sequence of intact records: at byte {at}, {seen}"))
    })?;
    let mut last: BTreeMap<u64, u64> = BTreeMap::new();
    let mut found = BTreeSet::new();
    for id in &ids {
        if !found.insert(*id) || !expected.contains(id) {
            return Err(violation(
                rules::APPEND,
                format!("record {} appears where it should not (duplicate or unknown)", version::show_id(*id)),
            ));
        }
        let (w, n) = (id >> 32, id & 0xffff_ffff);
        if last.insert(w, n).is_some_and(|prev| prev > n) {
            return Err(violation(
                rules::APPEND,
                format!("writer {w}'s record {n} lies before an earlier record of its own"),
            ));
        }
    }
    if found != expected {
        return Err(violation(rules::APPEND, format!("the log holds {} of {} records", found.len(), expected.len())));
    }
    Ok(())
}
