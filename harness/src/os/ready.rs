//! Readiness: what `poll(2)`, `select(2)`, `epoll(7)` (Linux) and
//! `kqueue(2)` (macOS) report about a descriptor, asked with a zero
//! timeout, normalized to one [`Readiness`] so that a model can judge every
//! interface alike; and registrations that persist between asks
//! ([`Watch`]: epoll with or without `EPOLLET`, kqueue with or without
//! `EV_CLEAR`). Calls go through rustix, so through the C library by
//! default and as raw system calls without the `c-library` feature.
//!
//! # References
//! - POSIX.1-2017 XSH `poll()`, `pselect()`.
//! - poll(2), select(2), epoll_create1(2), epoll_ctl(2), epoll_wait(2), epoll(7) (Linux).
//! - poll(2), select(2), kqueue(2) (macOS).

use super::deviant::{self, Deviation};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

/// A readiness interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Interface {
    /// `poll(2)`.
    Poll,
    /// `select(2)`.
    Select,
    /// `epoll_wait(2)` on a fresh epoll instance (Linux).
    Epoll,
    /// `kevent(2)` on a fresh kqueue (macOS, BSDs).
    Kqueue,
}

impl Interface {
    /// Every interface, in a fixed order.
    pub const ALL: &'static [Interface] = &[Interface::Poll, Interface::Select, Interface::Epoll, Interface::Kqueue];

    /// Its entry-point name in the catalogue.
    pub fn name(self) -> &'static str {
        match self {
            Interface::Poll => "poll",
            Interface::Select => "select",
            Interface::Epoll => "epoll",
            Interface::Kqueue => "kqueue",
        }
    }

    /// The interfaces among a rule's entry points on this platform.
    pub fn among<S: AsRef<str>>(entry_points: &[S]) -> Vec<Interface> {
        Interface::ALL.iter().copied().filter(|i| entry_points.iter().any(|e| e.as_ref() == i.name())).collect()
    }

    /// Whether a registration can persist and be edge-triggered
    /// ([`Watch`]).
    pub fn watches(self) -> bool {
        matches!(self, Interface::Epoll | Interface::Kqueue)
    }

    /// The bit of this interface in a set ([`Interfaces`]).
    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Interface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of interfaces, asked back to back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Interfaces(pub u8);

impl Interfaces {
    /// The set of the given interfaces.
    pub fn of(list: &[Interface]) -> Interfaces {
        Interfaces(list.iter().fold(0, |bits, i| bits | i.bit()))
    }

    /// Its members, in [`Interface::ALL`] order.
    pub fn list(self) -> Vec<Interface> {
        Interface::ALL.iter().copied().filter(|i| self.0 & i.bit() != 0).collect()
    }
}

impl fmt::Display for Interfaces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.list().into_iter().map(Interface::name).collect();
        f.write_str(&names.join(", "))
    }
}

/// Which readiness a probe asks about: read interest (a read end) or write
/// interest (a write end). Errors and hang-ups are reported either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Interest {
    /// Readable?
    Read,
    /// Writable?
    Write,
}

/// An interface's answer, normalized. `hangup`, `error` and `rdhup` are
/// `None` where the interface cannot tell them apart from readiness
/// (`select`; `poll` off Linux has no `POLLRDHUP`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Readiness {
    /// A read would not block (poll: `POLLIN`, `POLLHUP` or `POLLERR`).
    pub readable: bool,
    /// A write would not block (poll: `POLLOUT` or `POLLERR`).
    pub writable: bool,
    /// Hang-up (`POLLHUP`, `EPOLLHUP`, `EV_EOF` on the read filter).
    pub hangup: Option<bool>,
    /// An error condition (`POLLERR`, `EPOLLERR`, `EV_EOF` on the write filter).
    pub error: Option<bool>,
    /// A socket's peer shut down writing (`POLLRDHUP`, `EPOLLRDHUP` on
    /// Linux; `EV_EOF` on kqueue's read filter). Pipes never set
    /// `POLLRDHUP`; their models do not ask.
    #[serde(default)]
    pub rdhup: Option<bool>,
}

impl Readiness {
    /// The answer as one number, for the control channel.
    pub fn to_bits(self) -> i64 {
        let tri = |v: Option<bool>, shift: u32| match v {
            None => 0,
            Some(false) => 1 << shift,
            Some(true) => 3 << shift,
        };
        i64::from(self.readable)
            | i64::from(self.writable) << 1
            | tri(self.hangup, 2)
            | tri(self.error, 4)
            | tri(self.rdhup, 6)
    }

    /// The answer [`Readiness::to_bits`] encoded, or `None` for a number
    /// it cannot have made.
    pub fn from_bits(bits: i64) -> Option<Readiness> {
        if !(0..256).contains(&bits) {
            return None;
        }
        let tri = |shift: u32| match (bits >> shift) & 3 {
            0 => Some(None),
            1 => Some(Some(false)),
            3 => Some(Some(true)),
            _ => None,
        };
        Some(Readiness {
            readable: bits & 1 != 0,
            writable: bits & 2 != 0,
            hangup: tri(2)?,
            error: tri(4)?,
            rdhup: tri(6)?,
        })
    }

    fn from_poll(readable: bool, writable: bool, hangup: bool, error: bool, rdhup: Option<bool>) -> Readiness {
        Readiness {
            readable: readable || hangup || error,
            writable: writable || error,
            hangup: Some(hangup),
            error: Some(error),
            rdhup,
        }
    }
}

impl fmt::Display for Readiness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        parts.push(if self.readable { "readable" } else { "not readable" });
        parts.push(if self.writable { "writable" } else { "not writable" });
        match self.hangup {
            Some(true) => parts.push("hang-up"),
            Some(false) => parts.push("no hang-up"),
            None => {}
        }
        match self.error {
            Some(true) => parts.push("error"),
            Some(false) => parts.push("no error"),
            None => {}
        }
        match self.rdhup {
            Some(true) => parts.push("peer shut down writing"),
            Some(false) => parts.push("no peer shutdown"),
            None => {}
        }
        f.write_str(&parts.join(", "))
    }
}

/// Asks `how`, with a zero timeout, whether `fd` is ready for `interest`.
///
/// # References
/// - poll(2), select(2); epoll_wait(2) (Linux); kevent(2) (macOS).
pub fn probe(fd: BorrowedFd<'_>, how: Interface, interest: Interest) -> io::Result<Readiness> {
    ask(fd, how, interest, true)
}

/// Waits through `how`, without a timeout, until `fd` is ready for
/// `interest` (a blocking `poll`, `select`, `epoll_wait` on a fresh
/// instance, or `kevent` on a fresh kqueue), and says what it reported.
///
/// # References
/// - poll(2), select(2); epoll_wait(2) (Linux); kevent(2) (macOS).
pub fn wait(fd: BorrowedFd<'_>, how: Interface, interest: Interest) -> io::Result<Readiness> {
    // The deviation: back at once, whatever the end's state.
    ask(fd, how, interest, deviant::is(Deviation::WaitReturnsEarly))
}

fn ask(fd: BorrowedFd<'_>, how: Interface, interest: Interest, now: bool) -> io::Result<Readiness> {
    let zero = rustix::event::Timespec { tv_sec: 0, tv_nsec: 0 };
    let timeout = now.then_some(&zero);
    let r = match how {
        Interface::Poll => poll_now(fd, interest, timeout)?,
        Interface::Select => select_now(fd, interest, timeout)?,
        Interface::Epoll => backend::epoll_now(fd, interest, timeout)?,
        Interface::Kqueue => backend::kqueue_now(fd, interest, now)?,
    };
    // Only the asked direction counts: POLLERR on a write end says
    // nothing about reading it.
    let r = match interest {
        Interest::Read => Readiness { writable: false, ..r },
        Interest::Write => Readiness { readable: false, ..r },
    };
    Ok(deviate(fd, how, interest, r))
}

fn poll_now(
    fd: BorrowedFd<'_>,
    interest: Interest,
    timeout: Option<&rustix::event::Timespec>,
) -> io::Result<Readiness> {
    use rustix::event::{PollFd, PollFlags};
    let events = match interest {
        Interest::Read => PollFlags::IN | backend::POLL_RDHUP,
        Interest::Write => PollFlags::OUT,
    };
    let mut fds = [PollFd::from_borrowed_fd(fd, events)];
    rustix::event::poll(&mut fds, timeout)?;
    let got = fds[0].revents();
    if got.contains(PollFlags::NVAL) {
        return Err(io::Error::from_raw_os_error(libc::EBADF));
    }
    Ok(Readiness::from_poll(
        got.contains(PollFlags::IN),
        got.contains(PollFlags::OUT),
        got.contains(PollFlags::HUP),
        got.contains(PollFlags::ERR),
        (interest == Interest::Read).then_some(backend::POLL_RDHUP).filter(|f| !f.is_empty()).map(|f| got.contains(f)),
    ))
}

fn select_now(
    fd: BorrowedFd<'_>,
    interest: Interest,
    timeout: Option<&rustix::event::Timespec>,
) -> io::Result<Readiness> {
    use rustix::event::{fd_set_insert, fd_set_num_elements, fd_set_remove, FdSetElement};
    let raw = fd.as_raw_fd();
    let nfds = raw + 1;
    let mut set = vec![FdSetElement::default(); fd_set_num_elements(1, nfds)];
    fd_set_insert(&mut set, raw);
    // SAFETY: `set` holds enough elements for descriptors below `nfds`, and
    // `fd` is open for the duration of the call.
    let n = unsafe {
        match interest {
            Interest::Read => rustix::event::select(nfds, Some(&mut set), None, None, timeout),
            Interest::Write => rustix::event::select(nfds, None, Some(&mut set), None, timeout),
        }
    }?;
    let ready = n > 0 && rustix::event::FdSetIter::new(&set).any(|f| f == raw);
    fd_set_remove(&mut set, raw);
    Ok(Readiness {
        readable: interest == Interest::Read && ready,
        writable: interest == Interest::Write && ready,
        hangup: None,
        error: None,
        rdhup: None,
    })
}

/// A registration of one descriptor that persists between asks: an epoll
/// instance (`EPOLLIN`, with `EPOLLET` when edge-triggered) or a kqueue
/// (`EVFILT_READ`, with `EV_CLEAR`), for read interest.
#[derive(Debug)]
pub struct Watch {
    queue: OwnedFd,
    how: Interface,
    edge: bool,
    /// The watched descriptor's number (kqueue events name it).
    fd: i32,
}

impl Watch {
    /// Registers `fd` with `how` (epoll or kqueue).
    ///
    /// # References
    /// - epoll_ctl(2) `EPOLL_CTL_ADD` (Linux); kevent(2) `EV_ADD` (macOS).
    pub fn new(fd: BorrowedFd<'_>, how: Interface, edge: bool) -> io::Result<Watch> {
        let queue = match how {
            Interface::Epoll => backend::epoll_watch(fd, edge)?,
            Interface::Kqueue => backend::kqueue_watch(fd, edge)?,
            Interface::Poll | Interface::Select => return Err(io::Error::from_raw_os_error(libc::EINVAL)),
        };
        Ok(Watch { queue, how, edge, fd: fd.as_raw_fd() })
    }

    /// Asks, with a zero timeout: the answer if the registration reported
    /// the descriptor, `None` if it reported nothing.
    ///
    /// # References
    /// - epoll_wait(2) (Linux); kevent(2) (macOS).
    pub fn harvest(&self) -> io::Result<Option<Readiness>> {
        let got = match self.how {
            Interface::Epoll => backend::epoll_harvest(self.queue.as_fd())?,
            _ => backend::kqueue_harvest(self.queue.as_fd(), self.fd)?,
        };
        if got.is_none() && self.edge && deviant::is(Deviation::EdgeRepeats) {
            // SAFETY: the watched descriptor is held by the actor while its
            // registration lives.
            let fd = unsafe { BorrowedFd::borrow_raw(self.fd) };
            return Ok(Some(probe(fd, Interface::Poll, Interest::Read)?).filter(|r| r.readable));
        }
        Ok(got)
    }
}

/// The deviant layer's readiness deviations, applied to a true answer.
fn deviate(fd: BorrowedFd<'_>, how: Interface, interest: Interest, mut r: Readiness) -> Readiness {
    let Some(d) = deviant::active() else { return r };
    match (d, interest) {
        (Deviation::ReadyIgnoresData, Interest::Read)
            if r.readable
                && r.hangup != Some(true)
                && deviant::bytes_available(fd).is_ok_and(|n| n > 0)
                && !writers_gone(fd, how) =>
        {
            r.readable = false
        }
        (Deviation::HangupNotReported, Interest::Read) if r.hangup == Some(true) => r.hangup = Some(false),
        (Deviation::FullPipeWritable, Interest::Write) => r.writable = true,
        (Deviation::ErrorNotReported, Interest::Write) if r.error == Some(true) => r.error = Some(false),
        (Deviation::SelectMisreads, Interest::Read) if how == Interface::Select => r.readable = !r.readable,
        (Deviation::SocketEofUnseen, Interest::Read)
            if r.readable && super::entry::is_socket(fd) && deviant::bytes_available(fd).is_ok_and(|n| n == 0) =>
        {
            let no = |v: Option<bool>| v.map(|_| false);
            r = Readiness { readable: false, hangup: no(r.hangup), error: no(r.error), rdhup: no(r.rdhup), ..r }
        }
        (Deviation::ListenerNeverReady, Interest::Read) if super::entry::is_socket(fd) && !connected(fd) => {
            r.readable = false
        }
        _ => {}
    }
    r
}

/// For the socket deviations: whether a socket has a peer (a listener
/// has none: `getpeername` fails with `ENOTCONN`).
fn connected(fd: BorrowedFd<'_>) -> bool {
    rustix::net::getpeername(fd).is_ok()
}

/// For [`Deviation::ReadyIgnoresData`] through select (which cannot tell
/// hang-up): whether poll reports hang-up on `fd`.
fn writers_gone(fd: BorrowedFd<'_>, how: Interface) -> bool {
    let zero = rustix::event::Timespec { tv_sec: 0, tv_nsec: 0 };
    how == Interface::Select && poll_now(fd, Interest::Read, Some(&zero)).is_ok_and(|r| r.hangup == Some(true))
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod backend {
    //! Linux: epoll; no kqueue.
    use super::{Interest, Readiness};
    use rustix::event::epoll;
    use std::io;
    use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

    const ZERO: rustix::event::Timespec = rustix::event::Timespec { tv_sec: 0, tv_nsec: 0 };

    /// `POLLRDHUP`, asked with every read interest.
    pub const POLL_RDHUP: rustix::event::PollFlags = rustix::event::PollFlags::RDHUP;

    fn answer(flags: epoll::EventFlags, read: bool) -> Readiness {
        Readiness::from_poll(
            flags.contains(epoll::EventFlags::IN),
            flags.contains(epoll::EventFlags::OUT),
            flags.contains(epoll::EventFlags::HUP),
            flags.contains(epoll::EventFlags::ERR),
            read.then(|| flags.contains(epoll::EventFlags::RDHUP)),
        )
    }

    pub fn epoll_now(
        fd: BorrowedFd<'_>,
        interest: Interest,
        timeout: Option<&rustix::event::Timespec>,
    ) -> io::Result<Readiness> {
        let queue = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        let flags = match interest {
            Interest::Read => epoll::EventFlags::IN | epoll::EventFlags::RDHUP,
            Interest::Write => epoll::EventFlags::OUT,
        };
        epoll::add(&queue, fd, epoll::EventData::new_u64(0), flags)?;
        Ok(epoll_ask(queue.as_fd(), timeout, interest == Interest::Read)?.unwrap_or_default())
    }

    pub fn epoll_watch(fd: BorrowedFd<'_>, edge: bool) -> io::Result<OwnedFd> {
        let queue = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        let mut flags = epoll::EventFlags::IN | epoll::EventFlags::RDHUP;
        if edge {
            flags |= epoll::EventFlags::ET;
        }
        epoll::add(&queue, fd, epoll::EventData::new_u64(0), flags)?;
        Ok(queue)
    }

    pub fn epoll_harvest(queue: BorrowedFd<'_>) -> io::Result<Option<Readiness>> {
        epoll_ask(queue, Some(&ZERO), true)
    }

    fn epoll_ask(
        queue: BorrowedFd<'_>,
        timeout: Option<&rustix::event::Timespec>,
        read: bool,
    ) -> io::Result<Option<Readiness>> {
        let mut events = Vec::with_capacity(4);
        epoll::wait(queue, rustix::buffer::spare_capacity(&mut events), timeout)?;
        Ok(events.first().map(|e| answer(e.flags, read)))
    }

    pub fn kqueue_now(_fd: BorrowedFd<'_>, _interest: Interest, _now: bool) -> io::Result<Readiness> {
        Err(io::Error::from_raw_os_error(libc::ENOSYS))
    }

    pub fn kqueue_watch(_fd: BorrowedFd<'_>, _edge: bool) -> io::Result<OwnedFd> {
        Err(io::Error::from_raw_os_error(libc::ENOSYS))
    }

    pub fn kqueue_harvest(_queue: BorrowedFd<'_>, _fd: i32) -> io::Result<Option<Readiness>> {
        Err(io::Error::from_raw_os_error(libc::ENOSYS))
    }
}

#[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd", target_os = "netbsd", target_os = "openbsd"))]
mod backend {
    //! macOS and the BSDs: kqueue; no epoll.
    use super::{Interest, Readiness};
    use rustix::event::kqueue::{self, Event, EventFilter, EventFlags};
    use std::io;
    use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

    /// No `POLLRDHUP` here: `poll` cannot tell a peer's shutdown.
    pub const POLL_RDHUP: rustix::event::PollFlags = rustix::event::PollFlags::empty();

    fn zero() -> Option<std::time::Duration> {
        Some(std::time::Duration::ZERO)
    }

    fn filter(fd: i32, interest: Interest) -> EventFilter {
        match interest {
            Interest::Read => EventFilter::Read(fd),
            Interest::Write => EventFilter::Write(fd),
        }
    }

    /// The answer of one event (its filter says which interest).
    fn answer(e: &Event) -> io::Result<Readiness> {
        if e.flags().contains(EventFlags::ERROR) && e.data() != 0 {
            return Err(io::Error::from_raw_os_error(e.data() as i32));
        }
        let eof = e.flags().contains(EventFlags::EOF);
        Ok(match e.filter() {
            EventFilter::Write(_) => {
                Readiness { readable: false, writable: true, hangup: None, error: Some(eof), rdhup: None }
            }
            _ => Readiness { readable: true, writable: false, hangup: Some(eof), error: None, rdhup: Some(eof) },
        })
    }

    /// Nothing fired: not ready, and (else the filter would have fired)
    /// no end-of-file condition.
    fn quiet(interest: Interest) -> Readiness {
        match interest {
            Interest::Read => {
                Readiness { readable: false, writable: false, hangup: Some(false), error: None, rdhup: Some(false) }
            }
            Interest::Write => {
                Readiness { readable: false, writable: false, hangup: None, error: Some(false), rdhup: None }
            }
        }
    }

    fn register(queue: BorrowedFd<'_>, fd: i32, interest: Interest, flags: EventFlags) -> io::Result<()> {
        let change =
            [Event::new(filter(fd, interest), EventFlags::ADD | EventFlags::RECEIPT | flags, std::ptr::null_mut())];
        let mut out = Vec::with_capacity(1);
        // SAFETY: no user data pointers are registered.
        unsafe { kqueue::kevent(queue, &change, rustix::buffer::spare_capacity(&mut out), zero())? };
        match out.first() {
            Some(e) if e.flags().contains(EventFlags::ERROR) && e.data() != 0 => {
                Err(io::Error::from_raw_os_error(e.data() as i32))
            }
            _ => Ok(()),
        }
    }

    fn harvest_one(queue: BorrowedFd<'_>, now: bool) -> io::Result<Option<Event>> {
        let mut out = Vec::with_capacity(2);
        let timeout = if now { zero() } else { None };
        // SAFETY: no changes; events carry no pointers of ours.
        unsafe { kqueue::kevent(queue, &[], rustix::buffer::spare_capacity(&mut out), timeout)? };
        Ok(out.into_iter().next())
    }

    pub fn kqueue_now(fd: BorrowedFd<'_>, interest: Interest, now: bool) -> io::Result<Readiness> {
        let queue = kqueue::kqueue()?;
        register(queue.as_fd(), fd.as_raw_fd(), interest, EventFlags::empty())?;
        match harvest_one(queue.as_fd(), now)? {
            Some(e) => answer(&e),
            None => Ok(quiet(interest)),
        }
    }

    pub fn kqueue_watch(fd: BorrowedFd<'_>, edge: bool) -> io::Result<OwnedFd> {
        let queue = kqueue::kqueue()?;
        let flags = if edge { EventFlags::CLEAR } else { EventFlags::empty() };
        register(queue.as_fd(), fd.as_raw_fd(), Interest::Read, flags)?;
        Ok(queue)
    }

    pub fn kqueue_harvest(queue: BorrowedFd<'_>, _fd: i32) -> io::Result<Option<Readiness>> {
        harvest_one(queue, true)?.map(|e| answer(&e)).transpose()
    }

    pub fn epoll_now(
        _fd: BorrowedFd<'_>,
        _interest: Interest,
        _timeout: Option<&rustix::event::Timespec>,
    ) -> io::Result<Readiness> {
        Err(io::Error::from_raw_os_error(libc::ENOSYS))
    }

    pub fn epoll_watch(_fd: BorrowedFd<'_>, _edge: bool) -> io::Result<OwnedFd> {
        Err(io::Error::from_raw_os_error(libc::ENOSYS))
    }

    pub fn epoll_harvest(_queue: BorrowedFd<'_>) -> io::Result<Option<Readiness>> {
        Err(io::Error::from_raw_os_error(libc::ENOSYS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_survives_the_control_channel_and_garbage_is_refused() {
        for bits in 0..64 {
            if let Some(r) = Readiness::from_bits(bits) {
                assert_eq!(r.to_bits(), bits);
            }
        }
        let r = Readiness { readable: true, writable: false, hangup: Some(true), error: None, rdhup: Some(false) };
        assert_eq!(Readiness::from_bits(r.to_bits()), Some(r));
        assert_eq!(Readiness::from_bits(256), None);
        assert_eq!(Readiness::from_bits(0b1000), None); // hang-up "true" without "known"
    }

    #[test]
    fn a_peer_shutdown_and_a_waiting_connection_are_seen_by_every_interface() {
        use crate::os::socket::{self as sock, SocketKind, UnixName};
        let (a, b) = sock::pair_with(SocketKind::Stream, false).unwrap();
        let here: Vec<Interface> =
            Interface::ALL.iter().copied().filter(|i| probe(a.as_fd(), *i, Interest::Read).is_ok()).collect();
        for how in &here {
            let got = probe(a.as_fd(), *how, Interest::Read).unwrap();
            assert!(!got.readable && got.rdhup != Some(true), "{how}: an idle socket: {got}");
        }
        rustix::net::shutdown(&b, rustix::net::Shutdown::Write).unwrap();
        for how in &here {
            let got = probe(a.as_fd(), *how, Interest::Read).unwrap();
            assert!(got.readable && got.rdhup != Some(false), "{how}: the peer shut down writing: {got}");
            assert!(!probe(b.as_fd(), *how, Interest::Read).unwrap().readable, "{how}: its own shutdown");
        }
        let scratch = crate::scratch::Scratch::new().unwrap();
        let path = scratch.path().join("l.sock");
        let listener = sock::listen_unix_at(UnixName::Path(&path), 4).unwrap();
        for how in &here {
            assert!(!probe(listener.as_fd(), *how, Interest::Read).unwrap().readable, "{how}: nobody connected");
        }
        let _client = sock::connect_unix(&path).unwrap();
        for how in &here {
            assert!(probe(listener.as_fd(), *how, Interest::Read).unwrap().readable, "{how}: a connection waits");
        }
    }

    #[test]
    fn a_pipe_is_seen_alike_by_every_interface_of_this_platform() {
        let (r, w) = crate::os::pipe::pipe_plain().unwrap();
        let here: Vec<Interface> =
            Interface::ALL.iter().copied().filter(|i| probe(r.as_fd(), *i, Interest::Read).is_ok()).collect();
        assert!(here.len() >= 3, "poll, select and epoll or kqueue: {here:?}");
        for how in &here {
            assert!(!probe(r.as_fd(), *how, Interest::Read).unwrap().readable, "{how}: empty pipe readable");
            assert!(probe(w.as_fd(), *how, Interest::Write).unwrap().writable, "{how}: empty pipe not writable");
        }
        rustix::io::write(&w, b"x").unwrap();
        for how in &here {
            assert!(probe(r.as_fd(), *how, Interest::Read).unwrap().readable, "{how}: a byte, not readable");
        }
        drop(w);
        for how in &here {
            let got = probe(r.as_fd(), *how, Interest::Read).unwrap();
            assert!(got.readable && got.hangup != Some(false), "{how}: no writer left: {got}");
        }
    }
}
