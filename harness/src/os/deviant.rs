//! The deviant OS layer: for the framework's own detection-power tests
//! (`ipc-conform mutants`), one chosen call can be made to misbehave on
//! purpose, one deviation at a time. Each deviation names the rule that
//! must catch it. The coordinator picks a deviation with
//! [`set_for_children`]; the actors and fixture programs it starts read it
//! from [`DEVIATE_ENV`] and the OS-layer wrappers below consult [`is`].
//! Without the variable nothing here changes any call. A coordinator
//! started with the variable set (`IPC_CONFORM_DEVIATE=<name> cargo test`)
//! passes it on to its actors too, so a user can watch a rule's test fail
//! against a known deviation ([`for_children`]).

use ipc_conform_spec::ids;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::sync::{Mutex, OnceLock};

/// The environment variable that carries the deviation to child processes.
pub const DEVIATE_ENV: &str = "IPC_CONFORM_DEVIATE";

macro_rules! deviations {
    ($( $variant:ident = $name:literal, [$($rule:expr),+], $what:literal; )+) => {
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
    WriteOnReadEndSucceeds = "write-on-read-end-succeeds", [ids::PIPE_DIRECTION_ONE_WAY], "a write refused with EBADF reports success instead";
    ReadDropsAByte = "read-drops-a-byte", [ids::PIPE_STREAM_ORDER], "a read(2) of several bytes from a pipe loses one in the middle";
    ReadvDropsAByte = "readv-drops-a-byte", [ids::PIPE_STREAM_ORDER], "a readv(2) of several bytes loses one in the middle";
    WritevWritesHalf = "writev-writes-half", [ids::PIPE_WRITE_ATOMIC_PIPE_BUF], "a writev(2) of several bytes writes only its first half";
    RecvPeeks = "recv-peeks", [ids::SOCKET_STREAM_ORDER], "recv(2) leaves what it returns queued (as if MSG_PEEK)";
    RecvfromIgnoresDontwait = "recvfrom-ignores-dontwait", [ids::SOCKET_READ_EMPTY_BLOCKS], "recvfrom(2) ignores MSG_DONTWAIT";
    SendtoRepeatsAByte = "sendto-repeats-a-byte", [ids::SOCKET_STREAM_ORDER], "sendto(2) on a stream socket sends its first byte twice";
    SendmsgSplitsMessages = "sendmsg-splits-messages", [ids::SOCKET_MESSAGE_BOUNDARIES], "sendmsg(2) of several bytes on a datagram or seqpacket socket sends two messages";
    ReadEmptyReturnsZero = "read-empty-returns-zero", [ids::PIPE_READ_EMPTY_BLOCKS], "a read with nothing available returns 0 at once";
    PipeNeverFull = "pipe-never-full", [ids::PIPE_WRITE_CAPACITY_FINITE], "a non-blocking write refused with EAGAIN reports success";
    FullWriteReturnsAtOnce = "full-write-returns-at-once", [ids::PIPE_WRITE_FULL_BLOCKS], "a blocking write that would block fails with EAGAIN instead";
    SmallWriteSplit = "small-write-split", [ids::PIPE_WRITE_ATOMIC_PIPE_BUF], "a write of several bytes writes only its first half";
    CloseKeepsHiddenCopy = "close-keeps-hidden-copy", [ids::PIPE_EOF_ALL_WRITERS_CLOSED, ids::SOCKET_EOF_PEER_CLOSED], "close keeps a hidden duplicate of the descriptor open";
    EofAfterData = "eof-after-data", [ids::PIPE_EOF_ANY_WRITER_OPEN], "a reader that has had data reads 0 when nothing is available";
    WakeOneReader = "wake-one-reader", [ids::PIPE_WAKE_ALL_READERS], "of the readers woken by end of file only the first returns";
    EpipeBecomesSuccess = "epipe-becomes-success", [ids::PIPE_EPIPE_ALL_READERS_CLOSED, ids::SOCKET_EPIPE_PEER_CLOSED], "a write or send refused with EPIPE reports success";
    SigpipeSuppressed = "sigpipe-suppressed", [ids::PIPE_SIGPIPE_DEFAULT_KILLS], "setting SIGPIPE to its default ignores it instead";
    FifoOpenNonblocking = "fifo-open-nonblocking", [ids::PIPE_FIFO_OPEN_RENDEZVOUS], "a blocking open of a FIFO is done non-blocking";
    Pipe2IgnoresNonblock = "pipe2-ignores-nonblock", [ids::PIPE_READ_EMPTY_BLOCKS], "pipe2(O_NONBLOCK) makes blocking ends";
    FifoWriterLosesNonblock = "fifo-writer-loses-nonblock", [ids::PIPE_WRITE_FULL_BLOCKS], "a FIFO opened for writing with O_NONBLOCK is left blocking once open";
    ConnectPairHalfJoined = "connect-pair-half-joined", [ids::SOCKET_PAIR_BIDIRECTIONAL], "a pair joined by bind + connect is joined one way only (datagrams: the second socket is not connected back; streams: the accepted end is another, closed client's)";
    SockNonblockIgnored = "sock-nonblock-ignored", [ids::SOCKET_READ_EMPTY_BLOCKS], "socket, socketpair and accept4 ignore SOCK_NONBLOCK";
    SetflNonblockIgnored = "setfl-nonblock-ignored", [ids::PIPE_READ_EMPTY_BLOCKS], "fcntl(F_SETFL, O_NONBLOCK) succeeds and leaves the description blocking";
    LifelineEofEarly = "lifeline-eof-early", [ids::PIPE_EOF_ANY_WRITER_OPEN], "a read of a pipe whose writer is open returns end of file at once (seen on each actor's lifeline)";
    BlockingRecvEagain = "blocking-recv-eagain", [ids::SOCKET_READ_EMPTY_BLOCKS], "a blocking receive on a unix socket with nothing queued returns EAGAIN (also on the harness's control sockets)";
    RecvmsgLosesDescriptors = "recvmsg-loses-descriptors", [ids::SOCKET_RIGHTS_FD_PASSING], "recvmsg(2) drops the descriptors of SCM_RIGHTS messages (also on the harness's control sockets)";
    PipeSizeIgnored = "pipe-size-ignored", [ids::PIPE_WRITE_CAPACITY_FINITE], "F_SETPIPE_SZ reports the size asked for and leaves the pipe as it was";
    ProducerIgnoresSigpipe = "producer-ignores-sigpipe", [ids::PIPE_SHELL_PIPELINE], "the pipeline's producer keeps SIGPIPE ignored";
    SendFails = "send-fails", [ids::SOCKET_PAIR_BIDIRECTIONAL], "every send on a connected socket fails with ENOTCONN";
    RecvDropsAByte = "recv-drops-a-byte", [ids::SOCKET_STREAM_ORDER], "a stream receive of several bytes loses one in the middle";
    DatagramSplit = "datagram-split", [ids::SOCKET_MESSAGE_BOUNDARIES], "a message of several bytes is sent as two messages";
    RecvEmptyReturnsZero = "recv-empty-returns-zero", [ids::SOCKET_READ_EMPTY_BLOCKS], "a receive with nothing waiting returns 0 at once";
    SendNeverBlocks = "send-never-blocks", [ids::SOCKET_WRITE_FULL_BLOCKS], "a blocking send that would block fails with EAGAIN instead";
    ShutdownNoop = "shutdown-noop", [ids::SOCKET_EOF_SHUTDOWN_WRITE], "shutdown does nothing";
    AcceptFails = "accept-fails", [ids::SOCKET_SERVER_ACCEPT], "accept fails with ECONNABORTED";
    UdpAltered = "udp-altered", [ids::SOCKET_UDP_DATAGRAM], "a UDP datagram has one byte flipped on the way out";
    RightsReopen = "rights-reopen", [ids::SOCKET_RIGHTS_FD_PASSING], "SCM_RIGHTS passes a fresh open of the object instead of the open file description";
    PrivilegesKept = "privileges-kept", [ids::SOCKET_PATH_PERMISSIONS, ids::PROCESS_MEMORY_NO_FOREIGN_ACCESS, ids::SHM_PERMISSIONS], "dropping privileges does nothing";
    FileWriteHeldUntilClose = "file-write-held-until-close", [ids::FILE_WRITE_VISIBLE], "a write to a regular file is kept in the process until the descriptor is closed";
    RenameUnlinksTargetFirst = "rename-unlinks-target-first", [ids::FILE_RENAME_ATOMIC_REPLACE], "a rename over an existing file unlinks the target first, then renames (a gap)";
    RenameCopiesInPlace = "rename-copies-in-place", [ids::FILE_RENAME_ATOMIC_REPLACE], "a rename over an existing file copies the contents into it in place, then unlinks the source (torn)";
    NoreplaceReplaces = "noreplace-replaces", [ids::FILE_RENAME_NOREPLACE], "a rename that must not replace is a plain rename (RENAME_NOREPLACE ignored)";
    ExclIgnored = "excl-ignored", [ids::FILE_CREATE_EXCLUSIVE], "open ignores O_EXCL";
    FlockAlwaysSucceeds = "flock-always-succeeds", [ids::FILE_LOCK_FLOCK_EXCLUSIVE], "flock succeeds at once without locking";
    FcntlLockWholeFile = "fcntl-lock-whole-file", [ids::FILE_LOCK_FCNTL_RANGES], "a process record lock (or unlock) covers the whole file, whatever its range";
    LockLeaksToSurvivor = "lock-leaks-to-survivor", [ids::FILE_LOCK_RELEASED_ON_DEATH], "a flock or OFD lock leaks its open file description into a process that outlives the holder";
    OfdLockIsProcessLock = "ofd-lock-is-process-lock", [ids::FILE_LOCK_OFD], "an OFD lock is taken as a traditional process-owned record lock";
    AppendSeeksThenWrites = "append-seeks-then-writes", [ids::FILE_APPEND_ATOMIC], "a write under O_APPEND seeks to the end, then writes (two steps)";
    MapSharedIsPrivate = "map-shared-is-private", [ids::SHM_SHARED_VISIBLE], "mmap with MAP_SHARED makes a private mapping";
    MapPrivateIsShared = "map-private-is-shared", [ids::SHM_PRIVATE_COPY_ON_WRITE], "mmap with MAP_PRIVATE makes a shared mapping";
    FetchAddNotAtomic = "fetch-add-not-atomic", [ids::SHM_SYNC_NO_LOST_UPDATES], "an atomic fetch-and-add in shared memory is a load then a store";
    PublishFlagBeforeData = "publish-flag-before-data", [ids::SHM_SYNC_PUBLISH], "a release publication stores its flag (relaxed) before the data, which come a moment later";
    WakeWakesNobody = "wake-wakes-nobody", [ids::SHM_SYNC_WAIT_WAKE], "a post sets the word but wakes no waiter (no FUTEX_WAKE, no sem_post)";
    ShmUnlinkDiscardsContents = "shm-unlink-discards-contents", [ids::SHM_NAME_LIFETIME], "shm_unlink truncates the object to nothing (and back) before removing the name";
    ShmChmodGrantsAll = "shm-chmod-grants-all", [ids::SHM_PERMISSIONS], "fchmod of a shared-memory object ignores the mode and grants read and write to all (0666)";
    PwriteIgnoresOffset = "pwrite-ignores-offset", [ids::SHM_FILE_COHERENCE], "pwrite writes at the descriptor's file offset instead of the given one";
    ForkSharesMemory = "fork-shares-memory", [ids::PROCESS_MEMORY_PRIVATE], "fork leaves the parent's private memory shared with the child";
    OCloexecIgnored = "o-cloexec-ignored", [ids::PROCESS_FD_INHERITED], "open(2) and openat(2) ignore O_CLOEXEC";
    SetfdIgnored = "setfd-ignored", [ids::PROCESS_FD_INHERITED], "fcntl(F_SETFD, FD_CLOEXEC) succeeds and sets nothing";
    DupCloexecIgnored = "dup-cloexec-ignored", [ids::PROCESS_FD_INHERITED], "dup3(O_CLOEXEC) and F_DUPFD_CLOEXEC make descriptors without close-on-exec";
    Pipe2IgnoresCloexec = "pipe2-ignores-cloexec", [ids::PROCESS_FD_INHERITED], "pipe2(O_CLOEXEC) makes ends without close-on-exec";
    SockCloexecIgnored = "sock-cloexec-ignored", [ids::PROCESS_FD_INHERITED], "socket, socketpair and accept4 ignore SOCK_CLOEXEC";
    CmsgCloexecIgnored = "cmsg-cloexec-ignored", [ids::PROCESS_FD_INHERITED], "descriptors received with MSG_CMSG_CLOEXEC lack close-on-exec";
    MfdCloexecIgnored = "mfd-cloexec-ignored", [ids::PROCESS_FD_INHERITED], "memfd_create(MFD_CLOEXEC) makes a descriptor without close-on-exec";
    ClearIgnored = "clear-ignored", [ids::PROCESS_FD_INHERITED], "fcntl(F_SETFD, 0) succeeds and leaves close-on-exec set";
    ExecClosesInherited = "exec-closes-inherited", [ids::PROCESS_FD_INHERITED], "a descriptor placed without close-on-exec for a spawned program is closed by exec all the same";
    ReadyIgnoresData = "ready-ignores-data", [ids::READY_PIPE_READABLE], "every readiness interface reports a read end with bytes buffered (and writers left) as not readable";
    HangupNotReported = "hangup-not-reported", [ids::READY_PIPE_HANGUP], "poll, epoll and kqueue leave out hang-up (readable all the same) once the last writer is gone";
    FullPipeWritable = "full-pipe-writable", [ids::READY_PIPE_WRITABLE], "every readiness interface reports a full pipe's write end as writable";
    ErrorNotReported = "error-not-reported", [ids::READY_PIPE_ERROR], "poll, epoll and kqueue leave out the error condition (writable all the same) once the last reader is gone";
    SelectMisreads = "select-misreads", [ids::READY_INTERFACES_AGREE], "select reports a read end readable when poll would not, and not readable when poll would";
    SocketEofUnseen = "socket-eof-unseen", [ids::READY_SOCKET_READABLE], "a connected socket whose peer shut down writing is reported not readable (and no POLLRDHUP or EV_EOF) while no bytes are queued";
    ListenerNeverReady = "listener-never-ready", [ids::READY_SOCKET_LISTENER], "a listening socket is reported not readable although a connection waits to be accepted";
    EfdSemaphoreIgnored = "efd-semaphore-ignored", [ids::EVENTFD_COUNTER], "eventfd ignores EFD_SEMAPHORE: a read takes the whole counter";
    PidfdNeverReadable = "pidfd-never-readable", [ids::PROCESS_PIDFD_EXIT], "a pidfd never reports its process's end: poll says not readable";
    SigIgnKeepsZombies = "sig-ign-keeps-zombies", [ids::PROCESS_SIGCHLD], "setting SIGCHLD to SIG_IGN is accepted and ignored: children become zombies and waitpid reports them";
    SigchldNotSent = "sigchld-not-sent", [ids::PROCESS_SIGCHLD], "a child's end leaves no SIGCHLD pending in its blocked parent";
    KillEpermHidden = "kill-eperm-hidden", [ids::SIGNAL_PERMISSION], "kill of another user's process by an unprivileged one reports success (and sends nothing)";
    GroupKillHitsLeader = "group-kill-hits-leader", [ids::SIGNAL_GROUP], "kill(-pgid) reaches only the process whose pid is pgid, not the other members of the group";
    IgnoreIgnored = "ignore-ignored", [ids::SIGNAL_DELIVER], "sigaction(SIG_IGN) succeeds and leaves the handler in place: ignored signals are delivered";
    EintrRetried = "eintr-retried", [ids::SIGNAL_INTERRUPT_EINTR], "an interrupted read or write is resumed as if SA_RESTART were set: EINTR never reaches the caller";
    SaRestartIgnored = "sa-restart-ignored", [ids::SIGNAL_INTERRUPT_RESTART], "sigaction ignores SA_RESTART: interrupted reads and writes fail with EINTR all the same";
    RcvtimeoIgnored = "rcvtimeo-ignored", [ids::SIGNAL_INTERRUPT_RESTART], "setsockopt(SO_RCVTIMEO) succeeds and sets no timeout: a timed receive or accept, interrupted with SA_RESTART, is restarted like an untimed one";
    PartialWriteBecomesEintr = "partial-write-becomes-eintr", [ids::SIGNAL_INTERRUPT_PARTIAL], "a write cut short by a caught signal after transferring some bytes reports EINTR, not its count";
    BlockedSignalLost = "blocked-signal-lost", [ids::SIGNAL_PENDING_COALESCE], "a standard signal left pending while blocked is discarded when unblocked, never delivered";
    RealtimeOutOfOrder = "realtime-out-of-order", [ids::SIGNAL_QUEUE_REALTIME], "real-time signals queued while blocked are delivered last first within a number";
    OrphanPpidStale = "orphan-ppid-stale", [ids::PROCESS_ORPHAN_REPARENT], "getppid() in an orphaned process still names the parent that exited";
    SubreaperIgnored = "subreaper-ignored", [ids::PROCESS_ORPHAN_REPARENT], "prctl(PR_SET_CHILD_SUBREAPER) succeeds and does nothing: orphans go past the subreaper to init";
    ContinueNotReported = "continue-not-reported", [ids::PROCESS_WAIT_STOP_CONTINUE], "waitpid with WNOHANG ignores WCONTINUED: a continued child is reported as continued only to a waitpid that blocks";
    WaitStatusOffByOne = "wait-status-off-by-one", [ids::PROCESS_WAIT_STATUS], "waitpid reports an exited child's code one higher than the code it exited with";
    WaitReturnsEarly = "wait-returns-early", [ids::READY_WAIT_WAKES], "a blocking poll, select, epoll_wait or kevent returns at once, whether or not the end is ready";
    RefusedBecomesTimedout = "refused-becomes-timedout", [ids::SOCKET_TCP_REFUSED], "a TCP connect that is refused reports ETIMEDOUT (also through SO_ERROR)";
    ShutWrShutsBoth = "shut-wr-shuts-both", [ids::SOCKET_TCP_HALF_CLOSE], "shutdown(SHUT_WR) of a TCP socket shuts down both directions";
    LingerZeroIgnored = "linger-zero-ignored", [ids::SOCKET_TCP_RESET], "setsockopt(SO_LINGER) with a zero linger time succeeds and sets nothing: the close is orderly";
    ConnectInProgressEagain = "connect-in-progress-eagain", [ids::SOCKET_TCP_CONNECT_NONBLOCKING], "a non-blocking TCP connect in progress reports EAGAIN instead of EINPROGRESS";
    SoErrorLost = "so-error-lost", [ids::SOCKET_TCP_CONNECT_NONBLOCKING], "getsockopt(SO_ERROR) clears the pending error and reports none";
    AcceptHandsOutTwice = "accept-hands-out-twice", [ids::SOCKET_TCP_ACCEPT_ORDER], "every second accept on a listener returns another descriptor for the connection the accept before returned";
    PeercredIsCaller = "peercred-is-caller", [ids::SOCKET_UNIX_PEER_CREDENTIALS], "SO_PEERCRED (LOCAL_PEERPID, getpeereid) reports the caller's own credentials";
    AbstractNameShared = "abstract-name-shared", [ids::SOCKET_UNIX_ABSTRACT_NAME], "a bind of an abstract unix name in use succeeds (the socket listens at an address the kernel picks)";
    SeqpacketListenerStreams = "seqpacket-listener-streams", [ids::SOCKET_UNIX_SEQPACKET_LISTENER], "a SOCK_SEQPACKET listener and the sockets connecting to it are made SOCK_STREAM";
    TruncatedRightsLeak = "truncated-rights-leak", [ids::SOCKET_RIGHTS_TRUNCATED], "a receive with too little control space installs every descriptor sent and reports only those that fit";
    InFlightRightsKept = "in-flight-rights-kept", [ids::SOCKET_RIGHTS_IN_FLIGHT_RELEASED], "the sender of descriptors keeps a hidden copy of each";
    WriteSealIgnored = "write-seal-ignored", [ids::MEMFD_SEAL_WRITE], "F_ADD_SEALS adds the seals asked for but F_SEAL_WRITE";
    GrowSealIgnored = "grow-seal-ignored", [ids::MEMFD_SEAL_SIZE], "F_ADD_SEALS adds the seals asked for but F_SEAL_GROW";
    ReceivedMemfdCopied = "received-memfd-copied", [ids::MEMFD_SEAL_TRAVELS], "a memfd received over SCM_RIGHTS is a fresh, unsealed copy of its bytes";
    MutexNotShared = "mutex-not-shared", [ids::SHM_PSHARED_MUTEX], "pthread_mutexattr_setpshared(PTHREAD_PROCESS_SHARED) is ignored: the mutex is process-private";
    ConsistentIgnored = "consistent-ignored", [ids::SHM_PSHARED_ROBUST], "pthread_mutex_consistent reports success and does nothing";
    CondSignalLost = "cond-signal-lost", [ids::SHM_PSHARED_CONDVAR], "pthread_cond_signal and pthread_cond_broadcast wake nobody";
    SemPostLost = "sem-post-lost", [ids::SHM_SEMAPHORE_NAMED], "sem_post reports success and leaves the count as it was";
    SemopPiecemeal = "semop-piecemeal", [ids::SYSV_SEM_ATOMIC], "semop of several operations applies them one by one, as far as they go";
    SemUndoIgnored = "sem-undo-ignored", [ids::SYSV_SEM_UNDO], "semop ignores SEM_UNDO";
    EdgeRepeats = "edge-repeats", [ids::READY_EDGE_TRIGGERED], "an edge-triggered registration reports a readable end again at every ask, as a level-triggered one does";
    MqPriorityIgnored = "mq-priority-ignored", [ids::MQUEUE_ORDER_PRIORITY], "mq_send ignores the priority: every message is queued at priority 0, in arrival order";
    MqFullSendDropped = "mq-full-send-dropped", [ids::MQUEUE_FULL_BLOCKS], "mq_send to a full queue reports success and discards the message instead of blocking";
    MqEmptyReceiveFails = "mq-empty-receive-fails", [ids::MQUEUE_EMPTY_BLOCKS], "mq_receive from an empty queue fails with EAGAIN even without O_NONBLOCK";
    MqOversizeTruncated = "mq-oversize-truncated", [ids::MQUEUE_SIZE_LIMITS], "mq_send of a message longer than mq_msgsize queues its first mq_msgsize bytes instead of failing with EMSGSIZE";
    MqUnlinkKeepsName = "mq-unlink-keeps-name", [ids::MQUEUE_NAME_LIFETIME], "mq_unlink reports success and leaves the name in place";
    MsgrcvIgnoresType = "msgrcv-ignores-type", [ids::SYSV_MSG_TYPE_SELECTION], "msgrcv takes the first message of the queue whatever type it asks for";
    ShmRmidIgnored = "shm-rmid-ignored", [ids::SYSV_SHM_LIFETIME], "shmctl(IPC_RMID) of a System V segment succeeds and removes nothing: the key still finds it, and it outlives its last detach";
    SecondUserLockedOut = "second-user-locked-out", [ids::SHM_PERMISSIONS, ids::PROCESS_MEMORY_NO_FOREIGN_ACCESS], "after dropping privileges every shm_open and every access to process memory is refused, as on a host whose root directory is closed to other users (the rules' positive controls must make the verdict unresolved, not pass)";
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

impl Deviation {
    /// What the deviation's rules must say: `fail` or `hung` (caught), or,
    /// for a deviation that defeats a rule's premise rather than its
    /// behaviour, `unresolved` (its positive control notices).
    pub fn wants_unresolved(self) -> bool {
        matches!(self, Deviation::SecondUserLockedOut)
    }
}

static LOCKED_OUT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// [`Deviation::SecondUserLockedOut`]: this process dropped its privileges,
/// and from now on is refused everything (see [`locked_out`]).
pub fn note_privileges_dropped() {
    if is(Deviation::SecondUserLockedOut) {
        LOCKED_OUT.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Whether this process is locked out ([`Deviation::SecondUserLockedOut`]).
pub fn locked_out() -> bool {
    LOCKED_OUT.load(std::sync::atomic::Ordering::Relaxed)
}

static ACTIVE: OnceLock<Option<Deviation>> = OnceLock::new();

/// The deviation this process runs under (read once from the environment).
pub fn active() -> Option<Deviation> {
    *ACTIVE.get_or_init(|| std::env::var(DEVIATE_ENV).ok().and_then(|s| s.parse().ok()))
}

/// In an actor forked without exec: makes `d` the deviation it runs
/// under; false if this process had already settled on another one.
pub fn settle(d: Option<Deviation>) -> bool {
    *ACTIVE.get_or_init(|| d) == d
}

/// [`DEVIATE_ENV`] checked: an unknown name is an error naming it and the
/// known ones (a coordinator refuses to start rather than run undeviated).
pub fn check_env() -> Result<Option<Deviation>, String> {
    match std::env::var(DEVIATE_ENV) {
        Ok(s) => s.trim().parse().map(Some).map_err(|e| format!("{DEVIATE_ENV}: {e}")),
        Err(_) => Ok(None),
    }
}

/// Whether `d` is the deviation in force here.
pub fn is(d: Deviation) -> bool {
    active() == Some(d)
}

/// Whether `d` is in force for the objects under test that this process
/// makes: in an actor, its own deviation ([`is`]); in the coordinator,
/// which creates pipes and FIFOs before handing their ends out, the one
/// chosen for the processes it starts ([`set_for_children`]).
pub fn for_objects(d: Deviation) -> bool {
    is(d) || for_children() == Some(d)
}

/// The coordinator's choice; `None` until [`set_for_children`] is called,
/// and then the children follow this process's own [`active`] deviation.
static FOR_CHILDREN: Mutex<Option<Option<Deviation>>> = Mutex::new(None);

/// Chooses the deviation the processes started from now on run under.
///
/// A deviation may leave processes that outlive the actor that made them
/// ([`Deviation::LockLeaksToSurvivor`]); while one is chosen, this process
/// adopts such orphans (Linux: `prctl(PR_SET_CHILD_SUBREAPER)`), and
/// clearing the choice reaps them. So call it only while no actor of
/// this process is alive (between runs), as `ipc-conform mutants` does.
pub fn set_for_children(d: Option<Deviation>) {
    let mut chosen = FOR_CHILDREN.lock().unwrap_or_else(|e| e.into_inner());
    let adopting = chosen.unwrap_or_else(active) == Some(Deviation::LockLeaksToSurvivor);
    if d == Some(Deviation::LockLeaksToSurvivor) && !adopting {
        adopt_orphans(true);
    } else if adopting && d != Some(Deviation::LockLeaksToSurvivor) {
        reap_orphans();
        adopt_orphans(false);
    }
    *chosen = Some(d);
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn adopt_orphans(on: bool) {
    // SAFETY: prctl(PR_SET_CHILD_SUBREAPER) takes a plain integer.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, libc::c_ulong::from(on), 0, 0, 0) };
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn adopt_orphans(_on: bool) {
    // No subreapers here: orphans go to launchd, which reaps them.
}

/// Reaps the adopted orphans (each child but the fork server, with
/// `waitpid(pid, WNOHANG)`), waiting up to a few seconds for those still
/// running (a survivor ends within milliseconds of its case's scratch
/// directory going away).
fn reap_orphans() {
    let server = super::forkserver::server().map(|(pid, _)| pid);
    let start = std::time::Instant::now();
    loop {
        let kids: Vec<i32> = super::process::child_pids(std::process::id() as i32)
            .unwrap_or_default()
            .into_iter()
            .filter(|k| Some(*k) != server)
            .collect();
        if kids.is_empty() || start.elapsed() > std::time::Duration::from_secs(5) {
            return;
        }
        for kid in kids {
            let mut status = 0;
            // SAFETY: waitpid of one child with a valid status pointer.
            unsafe { libc::waitpid(kid, &mut status, libc::WNOHANG) };
        }
        // A polling interval while survivors finish, not an oracle.
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// For [`Deviation::LockLeaksToSurvivor`]: forks a survivor that keeps a
/// copy of `fd` (its open file description, and with it any flock or OFD
/// lock) in a process group of its own, so that neither the holder's exit
/// nor a kill of the holder's group ends it. It closes every other
/// descriptor and ends (`_exit`) when the file has no name left (its
/// case's scratch directory was removed), when the coordinator's lifeline
/// closes, or after a minute.
pub fn leak_to_survivor(fd: BorrowedFd<'_>) {
    let keep = fd.as_raw_fd();
    let lifeline = super::process::LIFELINE_FD;
    // SAFETY: the child (the process is multi-threaded) only makes
    // async-signal-safe calls (setpgid, close, fstat, poll, _exit).
    if unsafe { libc::fork() } != 0 {
        return;
    }
    // SAFETY: as above; every call is on numbers of this process.
    unsafe {
        libc::setpgid(0, 0);
        for n in 0..1024 {
            if n != keep && n != lifeline {
                libc::close(n);
            }
        }
        for _ in 0..6000 {
            let mut st: libc::stat = std::mem::zeroed();
            if libc::fstat(keep, &mut st) != 0 || st.st_nlink == 0 {
                break;
            }
            let mut p = libc::pollfd { fd: lifeline, events: libc::POLLIN, revents: 0 };
            let r = libc::poll(&mut p, 1, 10);
            if r > 0 || (r < 0 && *errno_location() != libc::EINTR) {
                break;
            }
        }
        libc::_exit(0)
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
unsafe fn errno_location() -> *mut libc::c_int {
    libc::__errno_location()
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
unsafe fn errno_location() -> *mut libc::c_int {
    libc::__error()
}

static HELD: Mutex<Vec<(i32, Vec<u8>)>> = Mutex::new(Vec::new());

/// For [`Deviation::FileWriteHeldUntilClose`]: keeps `bytes` written to
/// `fd` in this process, to be written at [`flush_held`].
pub fn hold_write(fd: BorrowedFd<'_>, bytes: &[u8]) {
    let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
    match held.iter_mut().find(|(n, _)| *n == fd.as_raw_fd()) {
        Some((_, buf)) => buf.extend_from_slice(bytes),
        None => held.push((fd.as_raw_fd(), bytes.to_vec())),
    }
}

/// Writes what [`hold_write`] kept for `fd` (at close).
pub fn flush_held(fd: BorrowedFd<'_>) {
    let bytes = {
        let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
        match held.iter().position(|(n, _)| *n == fd.as_raw_fd()) {
            Some(i) => held.swap_remove(i).1,
            None => return,
        }
    };
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        match rustix::io::write(fd, rest) {
            Ok(0) => return,
            Ok(n) => rest = &rest[n..],
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => return,
        }
    }
}

/// The deviation to hand to children, if any: the one chosen with
/// [`set_for_children`], else this process's own ([`active`]).
pub fn for_children() -> Option<Deviation> {
    FOR_CHILDREN.lock().unwrap_or_else(|e| e.into_inner()).unwrap_or_else(active)
}

/// Sets (or clears) [`DEVIATE_ENV`] on a command about to start a child,
/// as the coordinator chose with [`set_for_children`].
pub fn pass_on(cmd: &mut std::process::Command) {
    match for_children() {
        Some(d) => cmd.env(DEVIATE_ENV, d.name()),
        None => cmd.env_remove(DEVIATE_ENV),
    };
}

/// [`Deviation::BlockingRecvEagain`] for a receive on `fd` now: a
/// blocking socket with nothing queued.
pub fn recv_would_refuse(fd: BorrowedFd<'_>, dontwait: bool) -> bool {
    is(Deviation::BlockingRecvEagain)
        && !dontwait
        && super::entry::is_socket(fd)
        && !super::fd::is_nonblocking(fd).unwrap_or(true)
        && bytes_available(fd).is_ok_and(|n| n == 0)
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
