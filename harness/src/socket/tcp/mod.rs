//! TCP on loopback: one scenario per rule, each with its case type, its
//! judge and its executor: [`refused`], [`half_close`], [`reset`],
//! [`connect`] (a non-blocking connect), [`accept`] (several clients at
//! once, one or two acceptors). What they share: a connection made by a
//! blocking connect and accept, and the ends' names.

pub mod accept;
pub mod connect;
pub mod half_close;
pub mod refused;
pub mod reset;

use super::kit::{fail, sock, values};
use super::rules;
use crate::case::{CaseOutcome, Stop};
use crate::checker::describe;
use crate::observed::Observed;
use crate::protocol::socket::SocketOp;
use crate::protocol::Reply;
use crate::session::{ActorId, Session};
use serde::{Deserialize, Serialize};

/// Which end of a connection a case's step is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Side {
    /// The end that connected.
    Client,
    /// The end the listener's accept returned.
    Server,
}

/// One end of a connection: who holds it, in which slot, as which
/// descriptor number (for the evidence of a block on it).
#[derive(Clone, Copy, Debug)]
pub(crate) struct End {
    pub actor: ActorId,
    pub slot: u32,
    pub fd: i32,
}

/// A listener on 127.0.0.1 in `server`: its slot, descriptor and port.
pub(crate) fn listen(session: &mut Session, server: ActorId, backlog: i32) -> Result<(u32, i32, u16), Stop> {
    let obs = session.call(server, &sock(SocketOp::ListenTcp { backlog }))?;
    match values(&obs) {
        Some([slot, fd, port]) => Ok((*slot as u32, *fd as i32, *port as u16)),
        _ => Err(Stop::harness(format!("listen on 127.0.0.1: {}", describe(&obs)))),
    }
}

/// A port of 127.0.0.1 that nobody listens on and nobody else can take:
/// `holder` listens there, connects to itself, accepts, and closes the
/// listener; the two ends of that connection keep the port. (A socket
/// bound without listening would hold it too, but a connect to it is not
/// refused everywhere: xnu drops the SYN without a reset.) A connect or
/// accept that fails is a deviation of `socket.server.accept`.
pub(crate) fn unlistened_port(session: &mut Session, holder: ActorId) -> Result<Result<u16, CaseOutcome>, Stop> {
    let (listener, _, port) = listen(session, holder, 4)?;
    let obs = session.call(holder, &sock(SocketOp::ConnectTcp { port }))?;
    if !matches!(obs, Observed::Returned(Reply::Opened { .. })) {
        return Ok(Err(fail(rules::ACCEPT, format!("connect to a listener on 127.0.0.1 {}", describe(&obs)))));
    }
    let obs = session.call(holder, &sock(SocketOp::Accept { slot: listener }))?;
    if !matches!(obs, Observed::Returned(Reply::Opened { .. })) {
        return Ok(Err(fail(rules::ACCEPT, format!("accept with a client connected {}", describe(&obs)))));
    }
    match session.call(holder, &crate::protocol::Request::Close { slot: listener })? {
        Observed::Returned(Reply::Done) => Ok(Ok(port)),
        other => Err(Stop::harness(format!("closing the listener on 127.0.0.1:{port}: {}", describe(&other)))),
    }
}

/// A connection from `client` to `server`: a listener, a blocking connect,
/// an accept (the listener stays open in `server`). A connect or accept
/// that fails is a deviation of `socket.server.accept`, not of the rule
/// the case checks.
pub(crate) fn connection(
    session: &mut Session,
    client: ActorId,
    server: ActorId,
) -> Result<Result<(End, End), CaseOutcome>, Stop> {
    let (listener, _, port) = listen(session, server, 4)?;
    let obs = session.call(client, &sock(SocketOp::ConnectTcp { port }))?;
    let Observed::Returned(Reply::Opened { slot, fd }) = obs else {
        return Ok(Err(fail(rules::ACCEPT, format!("connect to a listener on 127.0.0.1 {}", describe(&obs)))));
    };
    let c = End { actor: client, slot, fd };
    let obs = session.call(server, &sock(SocketOp::Accept { slot: listener }))?;
    let Observed::Returned(Reply::Opened { slot, fd }) = obs else {
        return Ok(Err(fail(rules::ACCEPT, format!("accept with a client connected {}", describe(&obs)))));
    };
    Ok(Ok((c, End { actor: server, slot, fd })))
}

/// The errno a reply carries, if it is one.
pub(crate) fn errno_of(obs: &Observed) -> Option<i32> {
    match obs {
        Observed::Returned(Reply::Errno(e)) => Some(*e),
        _ => None,
    }
}
