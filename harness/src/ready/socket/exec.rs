//! Runs a [`SocketReadySchedule`] against the host through the one case
//! engine ([`crate::engine`]): a real unix stream pair whose ends are
//! handed to the actors that hold them, or a real listener handed to
//! actor 0 that the clients connect to by its name; each step judged by
//! the [`SocketReadyModel`].

use super::model::SocketReadyModel;
use super::{ListenName, Op, Setup, SocketReadySchedule, BACKLOG};
use crate::case::{CaseReport, Stop};
use crate::checker::Event;
use crate::engine::{Invocation, Mechanism};
use crate::os::entry::{ReadCall, WriteCall};
use crate::os::ready::Interest;
use crate::os::socket::{self as sock, MsgOpts, SocketKind, UnixName};
use crate::protocol::ready::ReadyOp;
use crate::protocol::socket::SocketOp;
use crate::protocol::Request;
use crate::scratch::Scratch;
use crate::session::Session;
use crate::socket::pair::PairSetup;
use crate::timing::Timing;
use std::os::fd::AsFd;

/// Runs one schedule and reports its events and outcome.
pub fn run(schedule: &SocketReadySchedule, timing: Timing) -> CaseReport<Event<Op>> {
    if let Err(why) = schedule.validate() {
        return crate::case::refused(why);
    }
    let m = SocketReady { schedule, name: None, _scratch: None };
    crate::engine::run(m, SocketReadyModel::new(&schedule.setup), timing)
}

/// Where the clients connect.
enum Name {
    Path(String),
    Abstract(String),
}

struct SocketReady<'a> {
    schedule: &'a SocketReadySchedule,
    /// The listener's name, once made.
    name: Option<Name>,
    /// The directory a path listener is bound in (removed with the case).
    _scratch: Option<Scratch>,
}

impl SocketReady<'_> {
    fn listen(&mut self, name: ListenName) -> Result<std::os::fd::OwnedFd, Stop> {
        let listener = match name {
            ListenName::Path => {
                let scratch = Scratch::new().map_err(|e| Stop::io("a scratch directory", e))?;
                let path = scratch.path().join("listener.sock");
                let fd = sock::listen_unix_at(UnixName::Path(&path), BACKLOG)
                    .map_err(|e| Stop::io(format!("listen on {}", path.display()), e))?;
                self.name = Some(Name::Path(path.to_string_lossy().into_owned()));
                self._scratch = Some(scratch);
                fd
            }
            ListenName::Abstract => {
                let name = crate::socket::pair::creator::abstract_name('l');
                let fd = sock::listen_unix_at(UnixName::Abstract(name.as_bytes()), BACKLOG)
                    .map_err(|e| Stop::io(format!("listen on the abstract name {name}"), e))?;
                self.name = Some(Name::Abstract(name));
                fd
            }
        };
        crate::os::fd::set_nonblocking(listener.as_fd(), true).map_err(|e| Stop::io("fcntl(F_SETFL)", e))?;
        Ok(listener)
    }
}

impl Mechanism for SocketReady<'_> {
    type Op = Op;
    type Model = SocketReadyModel;

    fn steps(&self) -> Vec<(u8, Op)> {
        self.schedule.steps.iter().map(|s| (s.actor, s.op)).collect()
    }

    fn set_up(&mut self, session: &mut Session) -> Result<(), Stop> {
        match self.schedule.setup {
            Setup::Pair { creator, holders } => {
                let pair = PairSetup { creator, nonblock: [true; 2], ..PairSetup::new(SocketKind::Stream, holders) };
                let create = || crate::socket::pair::creator::create(&pair);
                crate::engine::hand_out_ends(session, pair.actors(), create, |a| pair.end_of(a))?;
            }
            Setup::Listener { name, clients } => {
                let ids = (0..=clients).map(|_| session.spawn()).collect::<Result<Vec<_>, _>>()?;
                let listener = {
                    let _quiet = crate::os::process::quiet_forks();
                    self.listen(name)?
                };
                session.hand(ids[0], &[listener.as_fd()])?;
            }
        }
        Ok(())
    }

    fn made_by(&self) -> Vec<&'static str> {
        let mut names = vec![self.schedule.setup.creator_name()];
        names.extend(self.schedule.interfaces().into_iter().map(|i| i.name()));
        names
    }

    fn invocation(&self, model: &SocketReadyModel, a: u8, op: &Op) -> Result<Invocation, Stop> {
        let socket = |op| Invocation::Call(Request::Socket(op));
        Ok(match *op {
            Op::Send { len } => {
                let (tag, start) = model.next_send(a);
                let opts = MsgOpts { dontwait: true, nosignal: true };
                socket(SocketOp::Send { slot: 0, len, tag, start, call: WriteCall::Send, opts })
            }
            Op::Recv { max } => socket(SocketOp::Recv { slot: 0, max, call: ReadCall::Recv, dontwait: true }),
            Op::ShutWrite => socket(SocketOp::Shutdown { slot: 0, how: sock::Shut::Write }),
            Op::Close => Invocation::Call(Request::Close { slot: 0 }),
            Op::Probe { with } => {
                Invocation::Call(Request::Ready(ReadyOp::Probe { slot: 0, with, interest: Interest::Read }))
            }
            Op::Accept => socket(SocketOp::Accept { slot: 0 }),
            Op::Connect => match &self.name {
                Some(Name::Path(path)) => socket(SocketOp::ConnectUnix { path: path.clone() }),
                Some(Name::Abstract(name)) => socket(SocketOp::ConnectAbstract { name: name.clone() }),
                None => return Err(Stop::harness("a connect in a case without a listener")),
            },
        })
    }
}
