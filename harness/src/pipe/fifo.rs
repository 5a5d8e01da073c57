//! Named pipes: opening a FIFO is a rendezvous. A blocking open for
//! reading waits for a writer and the reverse (fifo(7), POSIX open()); a
//! non-blocking open for writing with no reader fails with `ENXIO`. Once
//! both sides are open the FIFO is a pipe.

use super::rules;
use crate::case::Stop;
use crate::case::{CaseOutcome, CaseReport};
use crate::checker::Violation;
use crate::evidence::BlockSite;
use crate::observed::Observed;
use crate::os::entry::{ReadCall, WriteCall};
use crate::os::proc::SyscallKind;
use crate::pattern;
use crate::pipe::model::describe;
use crate::protocol::{Reply, Request};
use crate::session::{ActorId, Session};
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// One FIFO case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FifoCase {
    /// The reader opens first (else the writer does).
    pub reader_first: bool,
    /// Before the rendezvous, the writer tries a non-blocking open with no
    /// reader (allowed: `ENXIO`).
    pub probe_nonblocking_writer: bool,
    /// Bytes sent through the FIFO once open.
    pub len: u32,
}

impl fmt::Display for FifoCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (first, second) = if self.reader_first { ("reader", "writer") } else { ("writer", "reader") };
        let mut n = 1;
        if self.probe_nonblocking_writer {
            writeln!(f, "{n:>3}. writer: open the FIFO O_WRONLY|O_NONBLOCK with no reader")?;
            n += 1;
        }
        writeln!(f, "{n:>3}. {first}: open the FIFO (blocking)")?;
        writeln!(f, "{:>3}. {second}: open the FIFO (blocking)", n + 1)?;
        writeln!(f, "{:>3}. writer: write {} bytes; reader: read them", n + 2, self.len)?;
        writeln!(f, "{:>3}. writer: close; reader: read (end of file)", n + 3)
    }
}

const READER: ActorId = ActorId(0);
const WRITER: ActorId = ActorId(1);

fn violation(message: String) -> Violation {
    Violation::new(rules::FIFO, message)
}

fn fail(message: String) -> CaseOutcome {
    CaseOutcome::Fail { rules: vec![rules::FIFO.to_string()], message }
}

/// The checker's word on a non-blocking open for writing with no reader:
/// `None` when allowed (`ENXIO`), else the failing outcome.
pub fn judge_nonblocking_writer_alone(observed: &Observed) -> Result<(), Violation> {
    match observed {
        Observed::Returned(Reply::Errno(e)) if *e == libc::ENXIO => Ok(()),
        other => Err(violation(format!(
            "a non-blocking open for writing with no reader {}; allowed: ENXIO",
            describe(other)
        ))),
    }
}

/// The checker's word on the first blocking open of the rendezvous: `None`
/// when it is pending (blocked, with evidence), else the outcome.
pub fn judge_first_open(observed: &Observed, first_name: &str, second_name: &str) -> Result<(), Violation> {
    match observed {
        Observed::Blocked(_) => Ok(()),
        other => Err(violation(format!(
            "the {first_name}'s blocking open {} before any {second_name} opened; allowed: pending until the other side opens",
            describe(other)
        ))),
    }
}

/// Runs one FIFO case in a fresh scratch directory.
pub fn run(case: &FifoCase, timing: Timing) -> CaseReport<String> {
    if case.len == 0 || u64::from(case.len) > 1 << 16 {
        return crate::case::refused(format!("{} bytes through the FIFO; 1 to 65536", case.len));
    }
    crate::case::run_in_scratch(timing, |dir, session, report| drive(case, dir, session, &mut report.events))
}

fn open_req(path: &str, write: bool, nonblock: bool) -> Request {
    Request::OpenFifo { path: path.to_string(), write, nonblock }
}

fn drive(case: &FifoCase, dir: &Path, session: &mut Session, log: &mut Vec<String>) -> Result<CaseOutcome, Stop> {
    let path = dir.join("fifo");
    crate::os::pipe::mkfifo(&path).map_err(|e| Stop::io("mkfifo", e))?;
    let path = path.to_string_lossy().into_owned();
    session.spawn()?;
    session.spawn()?;
    let open_site = BlockSite { kind: SyscallKind::Open, fd: None };

    if case.probe_nonblocking_writer {
        let obs = session.call(WRITER, &open_req(&path, true, true))?;
        log.push(format!("writer: open O_WRONLY|O_NONBLOCK with no reader -> {}", describe(&obs)));
        if let Err(v) = judge_nonblocking_writer_alone(&obs) {
            return Ok(v.into());
        }
    }
    let (first, second, first_name, second_name) =
        if case.reader_first { (READER, WRITER, "reader", "writer") } else { (WRITER, READER, "writer", "reader") };
    let obs = session.invoke(first, &open_req(&path, first == WRITER, false), open_site)?;
    log.push(format!("{first_name}: open (blocking) -> {}", describe(&obs)));
    if let Err(v) = judge_first_open(&obs, first_name, second_name) {
        return Ok(v.into());
    }
    let obs = session.invoke(second, &open_req(&path, second == WRITER, false), open_site)?;
    log.push(format!("{second_name}: open (blocking) -> {}", describe(&obs)));
    if !matches!(obs, Observed::Returned(Reply::Opened { .. })) {
        return Ok(fail(format!(
            "the {second_name}'s open, with the {first_name} waiting, {}; allowed: success",
            describe(&obs)
        )));
    }
    let why = format!("the {first_name}'s open must return once the {second_name} opened");
    let obs = session.complete(first).map_err(|s| s.demanded_by(rules::FIFO, &why))?;
    log.push(format!("{first_name}: pending open completes -> {}", describe(&obs)));
    match obs {
        Observed::Returned(Reply::Opened { .. }) => {}
        other => {
            return Ok(fail(format!("the {first_name}'s pending open woke and {}; allowed: success", describe(&other))))
        }
    }
    // Now a pipe: the bytes arrive whole and in order, then end of file.
    // Each actor opened exactly one descriptor (a refused probe adds none).
    let slot = 0;
    let obs =
        session.call(WRITER, &Request::Write { slot, len: case.len, tag: 1, start: 0, call: WriteCall::Write })?;
    log.push(format!("writer: write {} bytes -> {}", case.len, describe(&obs)));
    if obs != Observed::Returned(Reply::Count(u64::from(case.len))) {
        return Ok(fail(format!("write of {} bytes into the open FIFO {}", case.len, describe(&obs))));
    }
    let mut expected = Vec::new();
    pattern::fill(&mut expected, 1, 0, case.len as usize);
    let mut got = Vec::new();
    while got.len() < expected.len() {
        let obs = session.call(READER, &Request::Read { slot: 0, max: case.len, call: ReadCall::Read })?;
        match obs {
            Observed::Returned(Reply::Data(d)) if !d.is_empty() => got.extend(d),
            other => {
                log.push(format!("reader: read -> {}", describe(&other)));
                return Ok(fail(format!(
                    "reading the FIFO after {} of {} bytes: {}",
                    got.len(),
                    case.len,
                    describe(&other)
                )));
            }
        }
    }
    log.push(format!("reader: read {} bytes", got.len()));
    if got != expected {
        return Ok(fail("the bytes read from the FIFO differ from the bytes written".into()));
    }
    session.call(WRITER, &Request::Close { slot })?;
    let obs = session.call(READER, &Request::Read { slot: 0, max: 16, call: ReadCall::Read })?;
    log.push(format!("writer: close; reader: read -> {}", describe(&obs)));
    if obs != Observed::Returned(Reply::Data(Vec::new())) {
        return Ok(fail(format!("after the only writer closed, a read {}; allowed: 0 (end of file)", describe(&obs))));
    }
    Ok(CaseOutcome::Pass)
}
