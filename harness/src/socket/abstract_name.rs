//! `socket.unix.abstract-name` (Linux): a unix listener bound to an
//! abstract name holds the name (another bind: EADDRINUSE; a connect
//! reaches it) while any descriptor of it is open, in any process; once
//! the last is closed the name is free (connect: ECONNREFUSED; bind:
//! succeeds), with no file to unlink.

use super::kit::{fail, run_with, sock};
use super::rules;
use crate::case::Stop;
use crate::case::{CaseOutcome, CaseReport};
use crate::checker::{describe, Violation};
use crate::observed::Observed;
use crate::protocol::socket::SocketOp;
use crate::protocol::{Reply, Request};
use crate::session::{ActorId, Session};
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicU32, Ordering};

/// How a holder lets its copy of the listener go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LetGo {
    /// `close(2)`.
    Close,
    /// The holder exits.
    Exit,
    /// The holder is killed.
    Kill,
}

/// An abstract-name case: the coordinator binds a listener to a fresh
/// abstract name and hands it to each holder; a prober tries the name
/// while holders let go one by one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbstractCase {
    /// How each holder (1 to 3) lets go, in order.
    pub holders: Vec<LetGo>,
    /// The prober connects (and a holder accepts) while the name is held,
    /// besides trying to bind it.
    pub connect_while_held: bool,
}

impl fmt::Display for AbstractCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "  1. coordinator: a unix listener bound to a fresh abstract name, handed to {} holder(s)",
            self.holders.len()
        )?;
        writeln!(
            f,
            "  2. prober: bind the name: EADDRINUSE{}",
            if self.connect_while_held { "; connect: a holder accepts it" } else { "" }
        )?;
        for (i, how) in self.holders.iter().enumerate() {
            writeln!(
                f,
                "  {}. holder {}: {how:?}; then the prober binds again: EADDRINUSE while a holder is left",
                i + 3,
                i + 1
            )?;
        }
        writeln!(f, "  {}. prober: connect: ECONNREFUSED; bind: succeeds", self.holders.len() + 3)
    }
}

/// A name no other run or case uses.
fn fresh_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("ipc-conform-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The judge of one probe: a bind (or connect) of the name, `held` telling
/// whether any descriptor of the listener was still open.
pub fn judge_probe(connect: bool, held: bool, obs: &Observed) -> Result<(), Violation> {
    let errno = match obs {
        Observed::Returned(Reply::Errno(e)) => Some(*e),
        _ => None,
    };
    let ok = match (connect, held) {
        (false, true) => errno == Some(libc::EADDRINUSE),
        (false, false) | (true, true) => matches!(obs, Observed::Returned(Reply::Opened { .. })),
        (true, false) => errno == Some(libc::ECONNREFUSED),
    };
    if ok {
        return Ok(());
    }
    let what = if connect { "a connect to" } else { "a bind of" };
    let (when, allowed) = match (connect, held) {
        (false, true) => ("while a listener bound to it is open", "EADDRINUSE"),
        (false, false) => ("once every descriptor of its listener was closed", "success (the name is free)"),
        (true, true) => ("while its listener is open", "connected"),
        (true, false) => ("once every descriptor of its listener was closed", "ECONNREFUSED"),
    };
    Err(Violation::new(
        rules::ABSTRACT_NAME,
        format!("{what} an abstract name {when} {}; allowed: {allowed}", describe(obs)),
    ))
}

/// Runs an abstract-name case.
pub fn run_abstract(case: &AbstractCase, timing: Timing) -> CaseReport<String> {
    if !(1..=3).contains(&case.holders.len()) {
        return crate::case::refused(format!("{} holders; 1 to 3", case.holders.len()));
    }
    run_with(timing, |session, log| drive(case, session, log))
}

fn probe(session: &mut Session, prober: ActorId, name: &str, connect: bool) -> Result<Observed, Stop> {
    let op = if connect {
        SocketOp::ConnectAbstract { name: name.to_string() }
    } else {
        SocketOp::ListenAbstract { name: name.to_string(), backlog: 1 }
    };
    let obs = session.call(prober, &sock(op))?;
    // What a probe opened goes again at once: it must not hold the name.
    if let Observed::Returned(Reply::Opened { slot, .. }) = obs {
        session.call(prober, &Request::Close { slot })?;
    }
    Ok(obs)
}

fn drive(case: &AbstractCase, session: &mut Session, log: &mut Vec<String>) -> Result<CaseOutcome, Stop> {
    let name = fresh_name();
    let holders: Vec<ActorId> = case.holders.iter().map(|_| session.spawn()).collect::<Result<_, _>>()?;
    let prober = session.spawn()?;
    {
        let _quiet = crate::os::process::quiet_forks();
        let listener =
            match crate::os::socket::listen_unix_at(crate::os::socket::UnixName::Abstract(name.as_bytes()), 4) {
                Ok(l) => l,
                Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {
                    return Ok(CaseOutcome::Unsupported(format!("abstract unix names: {e}")))
                }
                Err(e) => return Err(Stop::io(format!("binding the abstract name {name}"), e)),
            };
        for &h in &holders {
            session.hand(h, &[listener.as_fd()])?;
        }
    }
    log.push(format!("listener bound to @{name}, held by {} actor(s)", holders.len()));
    let judged = |connect, held, obs: &Observed| judge_probe(connect, held, obs).map_err(CaseOutcome::from);
    let obs = probe(session, prober, &name, false)?;
    if let Err(o) = judged(false, true, &obs) {
        return Ok(o);
    }
    if case.connect_while_held {
        let obs = probe(session, prober, &name, true)?;
        if let Err(o) = judged(true, true, &obs) {
            return Ok(o);
        }
        // The connection waits in the backlog; a holder takes it and lets
        // it go (an accepted socket does not hold the name).
        let obs = session.call(holders[0], &sock(SocketOp::Accept { slot: 0 }))?;
        match obs {
            Observed::Returned(Reply::Opened { slot, .. }) => {
                session.call(holders[0], &Request::Close { slot })?;
            }
            other => return Ok(fail(rules::ACCEPT, format!("accept with a client connected {}", describe(&other)))),
        }
    }
    for (i, (&h, how)) in holders.iter().zip(&case.holders).enumerate() {
        match how {
            LetGo::Close => {
                session.call(h, &Request::Close { slot: 0 })?;
            }
            LetGo::Exit => {
                session.exit(h, 0)?;
            }
            LetGo::Kill => {
                session.kill(h)?;
            }
        }
        let held = i + 1 < holders.len();
        log.push(format!("holder {} let go ({how:?}); {} left", i + 1, holders.len() - i - 1));
        if held {
            let obs = probe(session, prober, &name, false)?;
            if let Err(o) = judged(false, true, &obs) {
                return Ok(o);
            }
        }
    }
    let connect = probe(session, prober, &name, true)?;
    let bind = probe(session, prober, &name, false)?;
    log.push(format!("with none left: connect {}, bind {}", describe(&connect), describe(&bind)));
    if let Err(o) = judged(true, false, &connect).and(judged(false, false, &bind)) {
        return Ok(o);
    }
    Ok(CaseOutcome::Pass)
}
