//! `socket.rights.fd-passing`: `SCM_RIGHTS` passes the same open file
//! description: a pipe's write end passed on keeps end of file waiting for
//! the last copy, and a passed file shares one offset.

use super::kit::{fail, opened, run_with, sock, values};
use super::rules;
use crate::case::Stop;
use crate::case::{CaseOutcome, CaseReport};
use crate::checker::Violation;
use crate::observed::Observed;
use crate::os::entry::{ReadCall, WriteCall};
use crate::pattern;
use crate::pipe::model::describe;
use crate::protocol::socket::SocketOp;
use crate::protocol::{Reply, Request};
use crate::scratch::Scratch;
use crate::session::Session;
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::os::fd::AsFd;

/// Descriptor passing: a pipe's write end and a file's descriptor go from
/// actor A to actor B over a unix socket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RightsCase {
    /// Bytes B writes into the passed pipe end.
    pub pipe_len: u32,
    /// Bytes A, then B, write through the shared file description.
    pub file_lens: (u32, u32),
}

impl fmt::Display for RightsCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  1. A sends a pipe's write end to B (SCM_RIGHTS) and closes its own")?;
        writeln!(f, "  2. B writes {} bytes through it; C reads them from the read end", self.pipe_len)?;
        writeln!(f, "  3. B closes it; C reads end of file")?;
        writeln!(
            f,
            "  4. A sends a file's descriptor to B; A writes {}, B writes {} bytes",
            self.file_lens.0, self.file_lens.1
        )?;
        writeln!(f, "  5. both see offset {}; the file holds A's bytes then B's", self.file_lens.0 + self.file_lens.1)
    }
}

/// The judge of the shared-offset half: both offsets and the file's bytes.
pub fn judge_shared_offset(case: &RightsCase, offsets: (i64, i64), file: &[u8]) -> Result<(), Violation> {
    let (a, b) = case.file_lens;
    let total = i64::from(a) + i64::from(b);
    if offsets != (total, total) {
        return Err(Violation::new(rules::RIGHTS, format!("after writes of {a} and {b} bytes through the passed descriptor the offsets are {offsets:?}; the same open file description has one offset, {total}")));
    }
    let mut expected = Vec::new();
    pattern::fill(&mut expected, 0, 0, a as usize);
    let mut second = Vec::new();
    pattern::fill(&mut second, 1, 0, b as usize);
    expected.extend(second);
    if file != expected.as_slice() {
        return Err(Violation::new(
            rules::RIGHTS,
            "the file does not hold A's bytes followed by B's: the writes did not share one offset",
        ));
    }
    Ok(())
}

/// Runs a descriptor-passing case.
pub fn run_rights(case: &RightsCase, timing: Timing) -> CaseReport<String> {
    let max = crate::case::MAX_OP_BYTES;
    if case.pipe_len == 0
        || u64::from(case.pipe_len) > 1 << 16
        || u64::from(case.file_lens.0) > max
        || u64::from(case.file_lens.1) > max
    {
        return crate::case::refused(
            "the pipe part moves 1 to 65536 bytes, the file part at most 16 MiB per writer".into(),
        );
    }
    run_with(timing, |session, log| drive_rights(case, session, log))
}

fn drive_rights(case: &RightsCase, session: &mut Session, log: &mut Vec<String>) -> Result<CaseOutcome, Stop> {
    use crate::os::socket as s;
    let scratch = Scratch::new().map_err(|e| Stop::io("scratch directory", e))?;
    let (a, b, c) = (session.spawn()?, session.spawn()?, session.spawn()?);
    {
        let _quiet = crate::os::process::quiet_forks();
        let (s0, s1) = s::pair(s::SocketKind::Stream).map_err(|e| Stop::io("socketpair", e))?;
        let (r, w) = crate::os::pipe::pipe_cloexec().map_err(|e| Stop::io("pipe", e))?;
        session.hand(a, &[s0.as_fd(), w.as_fd()])?; // A: slot 0 socket, slot 1 pipe write end
        session.hand(b, &[s1.as_fd()])?; // B: slot 0 socket
        session.hand(c, &[r.as_fd()])?; // C: slot 0 pipe read end
    }
    let expect_done = |obs: Observed, what: &str| -> Result<(), CaseOutcome> {
        if obs == Observed::Returned(Reply::Done) {
            Ok(())
        } else {
            Err(fail(rules::RIGHTS, format!("{what} {}", describe(&obs))))
        }
    };
    if let Err(o) =
        expect_done(session.call(a, &sock(SocketOp::SendFd { slot: 0, fd_slot: 1 }))?, "A: sending the pipe end")
    {
        return Ok(o);
    }
    session.call(a, &Request::Close { slot: 1 })?;
    let obs = session.call(b, &sock(SocketOp::RecvFd { slot: 0 }))?;
    let Some(bslot) = opened(&obs) else {
        return Ok(fail(rules::RIGHTS, format!("B: receiving the descriptor {}", describe(&obs))));
    };
    let obs = session
        .call(b, &Request::Write { slot: bslot, len: case.pipe_len, tag: 1, start: 0, call: WriteCall::Write })?;
    if obs != Observed::Returned(Reply::Count(u64::from(case.pipe_len))) {
        return Ok(fail(rules::RIGHTS, format!("B: write through the received pipe end {}", describe(&obs))));
    }
    let mut got = Vec::new();
    while got.len() < case.pipe_len as usize {
        match session.call(c, &Request::Read { slot: 0, max: case.pipe_len, call: ReadCall::Read })? {
            Observed::Returned(Reply::Data(d)) if !d.is_empty() => got.extend(d),
            other => {
                return Ok(fail(
                    rules::RIGHTS,
                    format!("C: reading what B wrote through the passed end: {}", describe(&other)),
                ))
            }
        }
    }
    let mut expected = Vec::new();
    pattern::fill(&mut expected, 1, 0, case.pipe_len as usize);
    if got != expected {
        return Ok(fail(rules::RIGHTS, "C read other bytes than B wrote through the passed pipe end".into()));
    }
    session.call(b, &Request::Close { slot: bslot })?;
    let obs = session.call(c, &Request::Read { slot: 0, max: 16, call: ReadCall::Read })?;
    log.push(format!(
        "pipe: B wrote {} bytes through the passed end, C read them; after B's close C reads -> {}",
        case.pipe_len,
        describe(&obs)
    ));
    if obs != Observed::Returned(Reply::Data(Vec::new())) {
        return Ok(fail(
            rules::RIGHTS,
            format!(
                "after B closed the only remaining copy of the passed write end, C's read {}; allowed: 0 (end of file)",
                describe(&obs)
            ),
        ));
    }
    // The file half: one open file description, one offset.
    let path = scratch.path().join("shared");
    let quiet = crate::os::process::quiet_forks();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| Stop::io("creating the shared file", e))?;
    session.hand(a, &[file.as_fd()])?;
    drop(file);
    drop(quiet);
    let a_file = 2; // A's slots: 0 socket, 1 closed pipe end, 2 the file
    if let Err(o) = expect_done(
        session.call(a, &sock(SocketOp::SendFd { slot: 0, fd_slot: a_file }))?,
        "A: sending the file's descriptor",
    ) {
        return Ok(o);
    }
    let obs = session.call(b, &sock(SocketOp::RecvFd { slot: 0 }))?;
    let Some(b_file) = opened(&obs) else {
        return Ok(fail(rules::RIGHTS, format!("B: receiving the file's descriptor {}", describe(&obs))));
    };
    let (la, lb) = case.file_lens;
    for (who, id, slot, tag, len) in [("A", a, a_file, 0u8, la), ("B", b, b_file, 1u8, lb)] {
        let obs = session.call(id, &Request::Write { slot, len, tag, start: 0, call: WriteCall::Write })?;
        if obs != Observed::Returned(Reply::Count(u64::from(len))) {
            return Ok(fail(
                rules::RIGHTS,
                format!("{who}: write of {len} bytes to the shared file {}", describe(&obs)),
            ));
        }
    }
    let off = |obs: Observed| values(&obs).and_then(|v| v.first().copied()).unwrap_or(-1);
    let oa = off(session.call(a, &sock(SocketOp::Offset { slot: a_file }))?);
    let ob = off(session.call(b, &sock(SocketOp::Offset { slot: b_file }))?);
    let bytes = std::fs::read(&path).map_err(|e| Stop::io("reading the shared file", e))?;
    log.push(format!("file: A wrote {la}, B wrote {lb}; offsets A {oa}, B {ob}; file {} bytes", bytes.len()));
    Ok(judge_shared_offset(case, (oa, ob), &bytes).map_or_else(CaseOutcome::from, |()| CaseOutcome::Pass))
}
