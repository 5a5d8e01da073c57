//! The deviant OS layer: for the framework's own detection-power tests
//! (`ipc-conform mutants`), one chosen call can be made to misbehave on
//! purpose, one deviation at a time. Each deviation names the rule that
//! must catch it. The coordinator picks a deviation with
//! [`set_for_children`]; the actors and fixture programs it starts read it
//! from [`DEVIATE_ENV`] and the OS-layer wrappers below consult [`is`].
//! Without the variable nothing here changes any call.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::sync::{Mutex, OnceLock};

/// The environment variable that carries the deviation to child processes.
pub const DEVIATE_ENV: &str = "IPC_CONFORM_DEVIATE";

macro_rules! deviations {
    ($( $variant:ident = $name:literal, [$($rule:literal),+], $what:literal; )+) => {
        /// One way the OS layer can be made to misbehave.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Deviation { $( #[doc = $what] $variant, )+ }

        impl Deviation {
            /// Every deviation.
            pub const ALL: &'static [Deviation] = &[$(Deviation::$variant),+];

            /// Its name, as `--deviations` and the environment spell it.
            pub fn name(self) -> &'static str {
                match self { $(Deviation::$variant => $name,)+ }
            }

            /// The rules that must catch it.
            pub fn rules(self) -> &'static [&'static str] {
                match self { $(Deviation::$variant => &[$($rule),+],)+ }
            }

            /// What it does.
            pub fn what(self) -> &'static str {
                match self { $(Deviation::$variant => $what,)+ }
            }
        }
    };
}

deviations! {
    WriteOnReadEndSucceeds = "write-on-read-end-succeeds", ["pipe.direction.one-way"], "a write refused with EBADF reports success instead";
    ReadDropsAByte = "read-drops-a-byte", ["pipe.stream.order"], "a read of several bytes loses one in the middle";
    ReadEmptyReturnsZero = "read-empty-returns-zero", ["pipe.read.empty-blocks"], "a read with nothing available returns 0 at once";
    PipeNeverFull = "pipe-never-full", ["pipe.write.capacity-finite"], "a non-blocking write refused with EAGAIN reports success";
    FullWriteReturnsAtOnce = "full-write-returns-at-once", ["pipe.write.full-blocks"], "a blocking write that would block fails with EAGAIN instead";
    SmallWriteSplit = "small-write-split", ["pipe.write.atomic-pipe-buf"], "a write of several bytes writes only its first half";
    CloseKeepsHiddenCopy = "close-keeps-hidden-copy", ["pipe.eof.all-writers-closed", "socket.eof.peer-closed"], "close keeps a hidden duplicate of the descriptor open";
    EofAfterData = "eof-after-data", ["pipe.eof.any-writer-open"], "a reader that has had data reads 0 when nothing is available";
    WakeOneReader = "wake-one-reader", ["pipe.wake.all-readers"], "of the readers woken by end of file only the first returns";
    EpipeBecomesSuccess = "epipe-becomes-success", ["pipe.epipe.all-readers-closed", "socket.epipe.peer-closed"], "a write or send refused with EPIPE reports success";
    SigpipeSuppressed = "sigpipe-suppressed", ["pipe.sigpipe.default-kills"], "setting SIGPIPE to its default ignores it instead";
    FifoOpenNonblocking = "fifo-open-nonblocking", ["pipe.fifo.open-rendezvous"], "a blocking open of a FIFO is done non-blocking";
    ProducerIgnoresSigpipe = "producer-ignores-sigpipe", ["pipe.shell.pipeline"], "the pipeline's producer keeps SIGPIPE ignored";
    SendFails = "send-fails", ["socket.pair.bidirectional"], "every send on a connected socket fails with ENOTCONN";
    RecvDropsAByte = "recv-drops-a-byte", ["socket.stream.order"], "a stream receive of several bytes loses one in the middle";
    DatagramSplit = "datagram-split", ["socket.message.boundaries"], "a message of several bytes is sent as two messages";
    RecvEmptyReturnsZero = "recv-empty-returns-zero", ["socket.read.empty-blocks"], "a receive with nothing waiting returns 0 at once";
    SendNeverBlocks = "send-never-blocks", ["socket.write.full-blocks"], "a blocking send that would block fails with EAGAIN instead";
    ShutdownNoop = "shutdown-noop", ["socket.eof.shutdown-write"], "shutdown does nothing";
    AcceptFails = "accept-fails", ["socket.server.accept"], "accept fails with ECONNABORTED";
    UdpAltered = "udp-altered", ["socket.udp.datagram"], "a UDP datagram has one byte flipped on the way out";
    RightsReopen = "rights-reopen", ["socket.rights.fd-passing"], "SCM_RIGHTS passes a fresh open of the object instead of the open file description";
    PrivilegesKept = "privileges-kept", ["socket.path.permissions"], "dropping privileges does nothing";
}

impl std::str::FromStr for Deviation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Deviation::ALL.iter().copied().find(|d| d.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Deviation::ALL.iter().map(|d| d.name()).collect();
            format!("unknown deviation `{s}`; known: {}", names.join(", "))
        })
    }
}

/// The deviation this process runs under (read once from the environment).
pub fn active() -> Option<Deviation> {
    static ACTIVE: OnceLock<Option<Deviation>> = OnceLock::new();
    *ACTIVE.get_or_init(|| std::env::var(DEVIATE_ENV).ok().and_then(|s| s.parse().ok()))
}

/// Whether `d` is the deviation in force here.
pub fn is(d: Deviation) -> bool {
    active() == Some(d)
}

static FOR_CHILDREN: Mutex<Option<Deviation>> = Mutex::new(None);

/// Chooses the deviation the processes started from now on run under.
pub fn set_for_children(d: Option<Deviation>) {
    *FOR_CHILDREN.lock().unwrap_or_else(|e| e.into_inner()) = d;
}

/// The deviation to hand to children, if any.
pub fn for_children() -> Option<Deviation> {
    *FOR_CHILDREN.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sets (or clears) [`DEVIATE_ENV`] on a command about to start a child,
/// as the coordinator chose with [`set_for_children`].
pub fn pass_on(cmd: &mut std::process::Command) {
    match for_children() {
        Some(d) => cmd.env(DEVIATE_ENV, d.name()),
        None => cmd.env_remove(DEVIATE_ENV),
    };
}

/// Bytes waiting to be read on a pipe or socket (`ioctl(FIONREAD)`).
pub fn bytes_available(fd: BorrowedFd<'_>) -> io::Result<usize> {
    rustix::io::ioctl_fionread(fd).map(|n| n as usize).map_err(io::Error::from)
}

static HIDDEN: Mutex<Vec<OwnedFd>> = Mutex::new(Vec::new());

/// Keeps a hidden duplicate of `fd` open for the life of the process.
pub fn hide_copy(fd: BorrowedFd<'_>) {
    if let Ok(copy) = fd.try_clone_to_owned() {
        HIDDEN.lock().unwrap_or_else(|e| e.into_inner()).push(copy);
    }
}

/// For [`Deviation::WakeOneReader`]: whether another reader already took
/// the end-of-file wake-up (a marker only the first can claim: an abstract
/// unix socket name, which vanishes with its holder and leaves no file).
pub fn another_reader_woke() -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let name = format!("ipc-conform-wake-{}", std::os::unix::process::parent_id());
        let Ok(addr) = rustix::net::SocketAddrUnix::new_abstract_name(name.as_bytes()) else { return false };
        let Ok(sock) = rustix::net::socket(rustix::net::AddressFamily::UNIX, rustix::net::SocketType::DGRAM, None)
        else {
            return false;
        };
        match rustix::net::bind(&sock, &addr) {
            Ok(()) => {
                HIDDEN.lock().unwrap_or_else(|e| e.into_inner()).push(sock);
                false
            }
            Err(_) => true,
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        false
    }
}

/// For [`Deviation::RightsReopen`]: a fresh open of the object `fd` refers
/// to (Linux: through `/proc/self/fd`), a new open file description.
pub fn reopen(fd: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    use rustix::fs::{Mode, OFlags};
    let flags = rustix::fs::fcntl_getfl(fd)?;
    let access = flags & (OFlags::RDONLY | OFlags::WRONLY | OFlags::RDWR);
    let path = format!("/proc/self/fd/{}", fd.as_raw_fd());
    rustix::fs::open(path.as_str(), access | OFlags::CLOEXEC, Mode::empty()).map_err(io::Error::from)
}

/// Blocks forever (a deviation that never returns).
pub fn hang() -> ! {
    loop {
        // SAFETY: pause has no preconditions.
        unsafe { libc::pause() };
    }
}
