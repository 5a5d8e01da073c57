//! `socket.unix.peer-credentials`: the credentials reported for a unix
//! socket's peer are those of the process that made the other end (the
//! client that connected, the server that listened, the process that
//! called socketpair), whoever asks and wherever the end went since.

use super::kit::{fail, run_with, sock, values};
use super::rules;
use crate::case::Stop;
use crate::case::{CaseOutcome, CaseReport};
use crate::checker::{describe, Violation};
use crate::observed::Observed;
use crate::protocol::socket::SocketOp;
use crate::protocol::Reply;
use crate::scratch::Scratch;
use crate::session::{ActorId, Session};
use crate::timing::Timing;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::os::fd::AsFd;

/// How the connection is made, and what happens to it before the asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Made {
    /// The coordinator calls socketpair and hands one end to each of two
    /// actors.
    Pair,
    /// A server listens at a path, a client connects, the server accepts.
    Listener {
        /// The client exits before anyone asks.
        client_gone: bool,
        /// The server passes the accepted end to a third actor (over
        /// SCM_RIGHTS), which asks.
        passed: bool,
    },
}

/// A peer-credentials case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerCredCase {
    /// How the connection came about.
    pub made: Made,
}

impl fmt::Display for PeerCredCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.made {
            Made::Pair => {
                writeln!(f, "  1. coordinator: socketpair; one end to A, the other to B")?;
                writeln!(f, "  2. A and B ask for their peer's credentials: the coordinator's")
            }
            Made::Listener { client_gone, passed } => {
                writeln!(f, "  1. server: listen at a path; client: connect; server: accept")?;
                writeln!(f, "  2. client asks: the server's credentials")?;
                if client_gone {
                    writeln!(f, "  3. the client exits")?;
                }
                if passed {
                    writeln!(f, "  4. the server passes the accepted end to C; C asks: the client's credentials")
                } else {
                    writeln!(f, "  4. the server asks about the accepted end: the client's credentials")
                }
            }
        }
    }
}

/// Who may be named as one end's maker: the maker's pid and credentials,
/// and the other processes that held or used that end (which the macOS
/// allowance `peer-pid-last-user` also accepts for the pid).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Maker {
    /// The process that made the end.
    pub pid: i32,
    /// Its effective uid and gid.
    pub uid: u32,
    /// Its effective gid.
    pub gid: u32,
    /// Other processes that held the end.
    pub holders: Vec<i32>,
}

/// The judge of one answer: `asker` asked about its peer, whose end was
/// made by `maker`; `last_user` is the allowance in force.
pub fn judge_answer(got: [i64; 3], asker: i32, maker: &Maker, last_user: bool) -> Result<(), Violation> {
    let [pid, uid, gid] = got;
    let err = |why: String| Err(Violation::new(rules::PEER_CREDENTIALS, why));
    let pid_ok = pid == i64::from(maker.pid) || (last_user && maker.holders.iter().any(|h| i64::from(*h) == pid));
    if !pid_ok {
        let own = if pid == i64::from(asker) { " (the asker's own)" } else { "" };
        return err(format!(
            "process {asker} asked for its peer's credentials and got pid {pid}{own}; allowed: {}{}",
            maker.pid,
            if last_user { format!(" or a holder of that end {:?}", maker.holders) } else { String::new() }
        ));
    }
    if (uid, gid) != (i64::from(maker.uid), i64::from(maker.gid)) {
        return err(format!(
            "the peer's uid and gid came back as {uid}, {gid}; its maker runs as {}, {}",
            maker.uid, maker.gid
        ));
    }
    Ok(())
}

/// Runs a peer-credentials case; `last_user` is the platform's allowance
/// [`ipc_conform_spec::Allowance::PeerPidLastUser`].
pub fn run_peercred(case: &PeerCredCase, last_user: bool, timing: Timing) -> CaseReport<String> {
    run_with(timing, |session, log| drive(case, last_user, session, log))
}

fn ask(session: &mut Session, id: ActorId, slot: u32) -> Result<Result<[i64; 3], CaseOutcome>, Stop> {
    let obs = session.call(id, &sock(SocketOp::PeerCred { slot }))?;
    Ok(match values(&obs) {
        Some(&[pid, uid, gid]) => Ok([pid, uid, gid]),
        _ => Err(fail(
            rules::PEER_CREDENTIALS,
            format!("asking a connected unix socket for its peer's credentials {}", describe(&obs)),
        )),
    })
}

fn drive(
    case: &PeerCredCase,
    last_user: bool,
    session: &mut Session,
    log: &mut Vec<String>,
) -> Result<CaseOutcome, Stop> {
    let me = Maker {
        pid: std::process::id() as i32,
        uid: rustix::process::geteuid().as_raw(),
        gid: rustix::process::getegid().as_raw(),
        holders: Vec::new(),
    };
    let actor_maker =
        |session: &Session, id: ActorId, holders: Vec<i32>| Maker { pid: session.pid(id), holders, ..me.clone() };
    match case.made {
        Made::Pair => {
            let (a, b) = (session.spawn()?, session.spawn()?);
            {
                let _quiet = crate::os::process::quiet_forks();
                let (s0, s1) = crate::os::socket::pair(crate::os::socket::SocketKind::Stream)
                    .map_err(|e| Stop::io("socketpair", e))?;
                session.hand(a, &[s0.as_fd()])?;
                session.hand(b, &[s1.as_fd()])?;
            }
            for (id, other) in [(a, b), (b, a)] {
                let got = match ask(session, id, 0)? {
                    Ok(g) => g,
                    Err(o) => return Ok(o),
                };
                log.push(format!("{id} asks about its end of the coordinator's pair: {got:?}"));
                let maker = Maker { holders: vec![session.pid(other)], ..me.clone() };
                if let Err(v) = judge_answer(got, session.pid(id), &maker, last_user) {
                    return Ok(v.into());
                }
            }
        }
        Made::Listener { client_gone, passed } => {
            let scratch = Scratch::new().map_err(|e| Stop::io("scratch directory", e))?;
            let path = scratch.path().join("peer.sock").to_string_lossy().into_owned();
            let (server, client) = (session.spawn()?, session.spawn()?);
            let obs = session.call(server, &sock(SocketOp::ListenUnix { path: path.clone(), backlog: 4 }))?;
            let Observed::Returned(Reply::Opened { slot: listener, .. }) = obs else {
                return Err(Stop::harness(format!("listen on {path}: {}", describe(&obs))));
            };
            let obs = session.call(client, &sock(SocketOp::ConnectUnix { path }))?;
            let Observed::Returned(Reply::Opened { slot: cslot, .. }) = obs else {
                return Ok(fail(rules::ACCEPT, format!("connect to a listening unix socket {}", describe(&obs))));
            };
            let obs = session.call(server, &sock(SocketOp::Accept { slot: listener }))?;
            let Observed::Returned(Reply::Opened { slot: conn, .. }) = obs else {
                return Ok(fail(rules::ACCEPT, format!("accept with a client connected {}", describe(&obs))));
            };
            let got = match ask(session, client, cslot)? {
                Ok(g) => g,
                Err(o) => return Ok(o),
            };
            log.push(format!("the client asks: {got:?}"));
            let server_maker = actor_maker(session, server, Vec::new());
            if let Err(v) = judge_answer(got, session.pid(client), &server_maker, last_user) {
                return Ok(v.into());
            }
            let client_maker = actor_maker(session, client, Vec::new());
            if client_gone {
                session.exit(client, 0)?;
            }
            let (asker, slot) = if passed {
                let third = session.spawn()?;
                {
                    let _quiet = crate::os::process::quiet_forks();
                    let (s0, s1) = crate::os::socket::pair(crate::os::socket::SocketKind::Stream)
                        .map_err(|e| Stop::io("socketpair", e))?;
                    session.hand(server, &[s0.as_fd()])?;
                    session.hand(third, &[s1.as_fd()])?;
                }
                // The server's slots: listener, connection, then the pair's end.
                let obs = session.call(server, &sock(SocketOp::SendFd { slot: conn + 1, fd_slot: conn }))?;
                if obs != Observed::Returned(Reply::Done) {
                    return Ok(fail(rules::RIGHTS, format!("sending the accepted connection {}", describe(&obs))));
                }
                session.call(server, &crate::protocol::Request::Close { slot: conn })?;
                let obs = session.call(third, &sock(SocketOp::RecvFd { slot: 0 }))?;
                let Observed::Returned(Reply::Opened { slot, .. }) = obs else {
                    return Ok(fail(rules::RIGHTS, format!("receiving the accepted connection {}", describe(&obs))));
                };
                (third, slot)
            } else {
                (server, conn)
            };
            let got = match ask(session, asker, slot)? {
                Ok(g) => g,
                Err(o) => return Ok(o),
            };
            log.push(format!("{asker} asks about the accepted end: {got:?}"));
            if let Err(v) = judge_answer(got, session.pid(asker), &client_maker, last_user) {
                return Ok(v.into());
            }
            drop(scratch);
        }
    }
    Ok(CaseOutcome::Pass)
}
