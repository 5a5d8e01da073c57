//! The engine's own tests that need real actor processes: liveness (a hung
//! actor gives `hung` and the run goes on), the lifeline (actors end with
//! their coordinator), and leaks (nothing outlives a run). They run one at a
//! time: each counts processes, descriptors and files of the whole process.

use ipc_conform::registry;
use ipc_conform_harness::case::{CaseReport, Stop};
use ipc_conform_harness::leaks::{children, open_fds, scratch_dirs};
use ipc_conform_harness::observed::Observed;
use ipc_conform_harness::os::entry::{ReadCall, WriteCall};
use ipc_conform_harness::protocol::{Reply, Request};
use ipc_conform_harness::runner::{self, RunConfig};
use ipc_conform_harness::session::Session;
use ipc_conform_harness::{Timing, Verdict};
use libtest_mimic::{Arguments, Failed, Trial};
use std::fmt;
use std::time::{Duration, Instant};

fn main() {
    let mut roles = ipc_conform_fixtures::ROLES.to_vec();
    roles.push(("orphaning-coordinator", orphaning_coordinator));
    ipc_conform_harness::enter_role(&roles);
    let mut args = Arguments::from_args();
    args.test_threads = Some(1);
    let trials = vec![
        Trial::test("engine.hung-actor-gives-hung-and-the-run-goes-on", hung_actor_gives_hung_and_the_run_goes_on),
        Trial::test("engine.actors-end-with-their-coordinator", actors_end_with_their_coordinator),
        Trial::test("engine.nothing-outlives-a-run", nothing_outlives_a_run),
        Trial::test(
            "engine.acknowledged-operations-still-prove-blocking",
            acknowledged_operations_still_prove_blocking,
        ),
        Trial::test(
            "engine.a-long-operation-that-makes-progress-is-not-hung",
            a_long_operation_that_makes_progress_is_not_hung,
        ),
        Trial::test(
            "engine.a-death-nobody-asked-for-is-a-stop-naming-it",
            a_death_nobody_asked_for_is_a_stop_naming_it,
        ),
        Trial::test("engine.a-reset-actor-holds-nothing-it-was-handed", a_reset_actor_holds_nothing_it_was_handed),
        Trial::test("engine.a-reset-puts-signal-actions-back", a_reset_puts_signal_actions_back),
        Trial::test("engine.a-reset-names-what-it-cannot-undo", a_reset_names_what_it_cannot_undo),
        #[cfg(any(target_os = "linux", target_os = "android"))]
        Trial::test("engine.a-forked-actor-starts-as-an-execd-one-does", a_forked_actor_starts_as_an_execd_one_does),
    ];
    libtest_mimic::run(&args, trials).exit();
}

fn config(scale: f64, cases: u32) -> Result<RunConfig, Failed> {
    let mut cfg = RunConfig::from_env().map_err(Failed::from)?;
    cfg.timing = Timing::scaled(scale);
    cfg.cases = Some(cases);
    Ok(cfg)
}

fn check(condition: bool, message: impl Into<String>) -> Result<(), Failed> {
    if condition {
        Ok(())
    } else {
        Err(Failed::from(message.into()))
    }
}

/// A case whose actor never answers an operation that must complete.
#[derive(Clone, Debug, serde::Serialize)]
struct PausingActor;

impl fmt::Display for PausingActor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  1. actor 0: pause() (must complete, never does)")
    }
}

fn run_pausing_actor(timing: Timing) -> CaseReport<String> {
    ipc_conform_harness::case::run_in_session(timing, |session, _| {
        let a = session.spawn()?;
        let observed = session.call(a, &Request::Pause)?;
        Err(Stop::harness(format!("pause returned: {observed:?}")))
    })
}

#[serial_test::serial]
fn hung_actor_gives_hung_and_the_run_goes_on() -> Result<(), Failed> {
    // A deadline of 0.5 s instead of 10 s.
    let cfg = config(0.05, 3)?;
    let timing = cfg.timing;
    let start = Instant::now();
    let outcome = runner::check(
        "engine.liveness",
        "pausing_actor",
        proptest::strategy::Just(PausingActor),
        |_| run_pausing_actor(timing),
        &cfg,
    );
    let took = start.elapsed();
    check(outcome.verdict == Verdict::Hung, format!("expected hung, got {}", runner::render(&outcome)))?;
    let reason = outcome.reason.clone().unwrap_or_default();
    check(outcome.cases == 1, format!("a hung case must stop the rule at once, ran {} cases", outcome.cases))?;
    if cfg!(target_os = "linux") {
        check(reason.contains("state S") && reason.contains("pause"), format!("wait state missing: {reason}"))?;
    }
    // Liveness only: it came back at all, long before a 10 s default deadline would.
    check(took < Duration::from_secs(60), format!("hung verdict took {took:?}"))?;
    // The run goes on: the next rule is checked as usual.
    let rule = registry::catalogue().get("pipe.read.empty-blocks").ok_or("rule missing")?;
    let next = registry::check_rule(rule, &config(1.0, 4)?);
    check(next.verdict == Verdict::Pass, format!("the next rule did not pass: {}", runner::render(&next)))
}

/// Role: a coordinator that starts an actor, prints its pid, and exits
/// without any clean-up (as if killed), leaving the actor to its lifeline.
fn orphaning_coordinator() -> i32 {
    let mut session = Session::new(Timing::default());
    match session.spawn() {
        Ok(a) => {
            println!("{}", session.pid(a));
            std::mem::forget(session);
            0
        }
        Err(e) => {
            eprintln!("{e}");
            1
        }
    }
}

#[serial_test::serial]
fn actors_end_with_their_coordinator() -> Result<(), Failed> {
    let exe = std::env::current_exe().map_err(|e| Failed::from(e.to_string()))?;
    let out = std::process::Command::new(exe)
        .env(ipc_conform_harness::os::process::ROLE_ENV, "orphaning-coordinator")
        .output()
        .map_err(|e| Failed::from(e.to_string()))?;
    check(out.status.success(), format!("the coordinator failed: {}", String::from_utf8_lossy(&out.stderr)))?;
    let pid: i32 = String::from_utf8_lossy(&out.stdout).trim().parse().map_err(|_| "no actor pid printed")?;
    // A liveness guard, not an oracle: the verdict is the actor's state.
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if !alive(pid) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = ipc_conform_harness::os::process::kill(pid, ipc_conform_harness::os::signal::Signal::SIGKILL);
    Err(format!("actor {pid} outlived its coordinator by 10 s").into())
}

/// Alive and not a zombie (an orphan may wait for a reaper that never comes
/// in a container; a zombie holds no descriptor).
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => ipc_conform_harness::os::proc::parse_stat_state(&stat).is_some_and(|s| s != 'Z'),
        Err(_) => {
            cfg!(not(target_os = "linux"))
                && ipc_conform_harness::os::process::kill(pid, ipc_conform_harness::os::signal::Signal::SIGCONT)
                    .is_err()
        }
    }
}

#[serial_test::serial]
fn nothing_outlives_a_run() -> Result<(), Failed> {
    let cfg = config(1.0, 4)?;
    // Warm up once so that process-wide one-time descriptors (the lifeline)
    // exist before the baseline.
    drop(Session::new(cfg.timing).spawn());
    let fds_before = open_fds();
    let catalogue = registry::catalogue();
    for id in [
        "pipe.fifo.open-rendezvous",
        "pipe.shell.pipeline",
        "pipe.wake.all-readers",
        "pipe.sigpipe.default-kills",
        "pipe.write.atomic-pipe-buf",
        "socket.server.accept",
        "socket.path.permissions",
        "socket.rights.fd-passing",
        "socket.eof.peer-closed",
    ] {
        let rule = catalogue.get(id).ok_or("rule missing")?;
        let outcome = registry::check_rule(rule, &cfg);
        check(outcome.verdict == Verdict::Pass, runner::render(&outcome))?;
    }
    // A hung case too: its actor must be killed and reaped.
    let short = config(0.05, 1)?;
    let timing = short.timing;
    let hung = runner::check(
        "engine.liveness",
        "pausing_actor",
        proptest::strategy::Just(PausingActor),
        |_| run_pausing_actor(timing),
        &short,
    );
    check(hung.verdict == Verdict::Hung, runner::render(&hung))?;
    if cfg!(target_os = "linux") {
        let kids = children();
        check(kids.is_empty(), format!("processes left behind: {kids:?}"))?;
        let fds_after = open_fds();
        check(fds_after <= fds_before, format!("descriptors left open: {fds_before} before, {fds_after} after"))?;
    }
    let dirs = scratch_dirs();
    check(dirs.is_empty(), format!("scratch directories left behind: {dirs:?}"))
}

/// The acknowledgement path (the one macOS uses, where a thread-state
/// sample is taken only after the actor says it is starting the call),
/// exercised here: `Started` frames are skipped, blocking is still proved,
/// and replies still arrive.
#[serial_test::serial]
fn acknowledged_operations_still_prove_blocking() -> Result<(), Failed> {
    use ipc_conform_harness::evidence::BlockSite;
    use ipc_conform_harness::os::proc::SyscallKind;
    use ipc_conform_harness::protocol::Reply;
    use std::os::fd::AsFd;
    let mut session = Session::with_acknowledgements(Timing::default());
    let (reader, writer) = (session.spawn()?, session.spawn()?);
    let rfd = {
        let _quiet = ipc_conform_harness::os::process::quiet_forks();
        let (r, w) = ipc_conform_harness::os::pipe::pipe_cloexec().map_err(|e| Failed::from(e.to_string()))?;
        session.hand(writer, &[w.as_fd()])?;
        session.hand(reader, &[r.as_fd()])?[0]
    };
    let read = Request::Read { slot: 0, max: 64, call: ReadCall::Read };
    let observed = session.invoke(reader, &read, BlockSite { kind: SyscallKind::Read, fd: Some(rfd) })?;
    check(matches!(observed, Observed::Blocked(_)), format!("a read of an empty pipe: {observed:?}"))?;
    let wrote = session.call(writer, &Request::Write { slot: 0, len: 5, tag: 0, start: 0, call: WriteCall::Write })?;
    check(wrote == Observed::Returned(Reply::Count(5)), format!("write: {wrote:?}"))?;
    let woke = session.complete(reader)?;
    check(
        matches!(woke, Observed::Returned(Reply::Data(ref d)) if d.len() == 5),
        format!("the blocked read woke with {woke:?}"),
    )?;
    let closed = session.call(writer, &Request::Close { slot: 0 })?;
    check(closed == Observed::Returned(Reply::Done), format!("close: {closed:?}"))?;
    let eof = session.invoke(reader, &read, BlockSite { kind: SyscallKind::Read, fd: Some(rfd) })?;
    check(eof == Observed::Returned(Reply::Data(Vec::new())), format!("end of file: {eof:?}"))
}

/// Liveness by progress: an operation that takes far longer than the
/// deadline but keeps reporting progress completes; `hung` is for no
/// progress (the pausing actor above), not for slowness.
#[serial_test::serial]
fn a_long_operation_that_makes_progress_is_not_hung() -> Result<(), Failed> {
    use ipc_conform_harness::protocol::file::FileOp;
    use ipc_conform_harness::protocol::Reply;
    // A deadline of 1 s. How long a read loop takes depends on the
    // machine, so the test doubles the loop until one outlasts the
    // deadline (progress is reported every 64 reads, far inside the
    // deadline even on a loaded machine); every loop, short or long, must
    // pass. A fast machine once ran 3000 reads of 4 MiB in 0.8 s.
    let timing = Timing::scaled(0.1);
    let mut count = 3000u32;
    for _ in 0..6 {
        let started = Instant::now();
        let report = ipc_conform_harness::case::run_in_scratch(timing, |dir, session, _: &mut CaseReport<String>| {
            let path = dir.join("f");
            std::fs::write(&path, vec![7u8; 4 << 20]).map_err(|e| Stop::io("writing the file", e))?;
            let a = session.spawn()?;
            let reads = FileOp::ReadLoop { path: path.to_string_lossy().into_owned(), count };
            match session.call(a, &Request::File(reads))? {
                Observed::Returned(Reply::Values(v)) if v.len() == 2 * count as usize => {
                    Ok(ipc_conform_harness::case::CaseOutcome::Pass)
                }
                other => Err(Stop::harness(format!("the read loop ended with {other:?}"))),
            }
        });
        let took = started.elapsed();
        check(
            report.outcome == ipc_conform_harness::case::CaseOutcome::Pass,
            format!(
                "a progressing loop of {count} reads, {took:?} against a deadline of {:?}: {:?}",
                timing.deadline, report.outcome
            ),
        )?;
        // The test proves something only once a loop outlasted the deadline.
        if took > timing.deadline * 2 {
            return Ok(());
        }
        count *= 2;
    }
    Err(Failed::from(format!(
        "no read loop, up to {} reads, outlasted twice the deadline of {:?}",
        count / 2,
        timing.deadline
    )))
}

/// The session knows which deaths the schedule asked for: its kill is an
/// observation; an outside SIGKILL of an idle actor, found by the audit,
/// and of a busy one, found when its reply is due, are `Stop::Death`
/// naming the actor, the signal and what it was doing.
#[serial_test::serial]
fn a_death_nobody_asked_for_is_a_stop_naming_it() -> Result<(), Failed> {
    let mut session = Session::new(Timing::default());
    let (asked, idle, busy) = (session.spawn()?, session.spawn()?, session.spawn()?);
    let death = session.kill(asked)?;
    check(death.signal == Some(libc::SIGKILL), format!("the schedule's kill: {death}"))?;
    session.audit().map_err(|e| Failed::from(format!("a kill the schedule asked for: {e}")))?;
    // SAFETY: kill(2) of our own actor, from outside the session.
    unsafe { libc::kill(session.pid(idle), libc::SIGKILL) };
    // Then wait until it has died, every thread of it (a zombie leader may
    // still have a thread holding its descriptors): its parent sees it
    // exit (waitid without reaping, where this process is the parent), or
    // its parent, the fork server, has reaped it. A liveness guard, not an
    // oracle.
    let gone = |pid: i32| {
        // SAFETY: waitid into a local; WNOHANG never blocks.
        let exited = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let flags = libc::WEXITED | libc::WNOWAIT | libc::WNOHANG;
            libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, flags) == 0 && info.si_pid() == pid
        };
        exited || nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_err()
    };
    let since = std::time::Instant::now();
    while !gone(session.pid(idle)) {
        check(since.elapsed() < std::time::Duration::from_secs(10), "the killed actor lives on".to_string())?;
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let found = session.audit();
    let message = found.as_ref().err().map(|e| e.to_string()).unwrap_or_default();
    check(
        matches!(found, Err(Stop::Death { actor: 1, .. }))
            && message.contains("SIGKILL")
            && message.contains("between operations")
            && message.contains("did not ask for"),
        format!("an idle actor killed from outside: {found:?}"),
    )?;
    session.start(busy, &Request::Pause)?;
    // SAFETY: as above.
    unsafe { libc::kill(session.pid(busy), libc::SIGKILL) };
    let woke = session.complete(busy);
    let message = woke.as_ref().err().map(|e| e.to_string()).unwrap_or_default();
    check(
        matches!(woke, Err(Stop::Death { actor: 2, .. })) && message.contains("during Pause"),
        format!("a busy actor killed from outside: {woke:?}"),
    )
}

/// An actor forked by the fork server starts in the state an actor
/// started by exec does: descriptors 0 to 4 and nothing else (no copy of
/// another actor's channel, nor of the server's own), the same signal
/// mask, ignored and caught sets, and a process group of its own. Read
/// from `/proc` (Linux): the other platforms have no such view of another
/// process, so the trial is not registered there.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn a_forked_actor_starts_as_an_execd_one_does() -> Result<(), Failed> {
    let mut session = Session::new(Timing::default());
    let first = session.spawn()?;
    let (r, _w) = ipc_conform_harness::os::pipe::pipe_cloexec().map_err(|e| Failed::from(e.to_string()))?;
    session.hand(first, &[std::os::fd::AsFd::as_fd(&r)])?;
    let forked = session.spawn()?;
    let execd = session.spawn_by_exec()?;
    let fds = |pid: i32| -> Vec<i32> {
        let mut v: Vec<i32> = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|d| d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect())
            .unwrap_or_default();
        v.sort();
        v
    };
    let status = |pid: i32, key: &str| -> String {
        let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        text.lines().find(|l| l.starts_with(key)).unwrap_or("").to_string()
    };
    for id in [forked, execd] {
        let pid = session.pid(id);
        check(fds(pid) == vec![0, 1, 2, 3, 4], format!("{id} (pid {pid}) holds descriptors {:?}", fds(pid)))?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let pgrp = stat.rsplit(')').next().and_then(|rest| rest.split_whitespace().nth(2)).unwrap_or("");
        check(pgrp == pid.to_string(), format!("{id} (pid {pid}) is in process group {pgrp:?}"))?;
    }
    for key in ["SigBlk:", "SigIgn:", "SigCgt:"] {
        let (a, b) = (status(session.pid(forked), key), status(session.pid(execd), key));
        check(!a.is_empty() && a == b, format!("forked {a:?}, exec'd {b:?}"))?;
    }
    Ok(())
}

/// Reuse (measured by `bench` as `spawn.actor_reset`): an actor put back
/// as its checkpoint recorded it no longer holds a descriptor it was
/// handed after the checkpoint. Seen from outside: the pipe's read end
/// reads end of file, which it would not while the actor held the write
/// end.
#[serial_test::serial]
fn a_reset_actor_holds_nothing_it_was_handed() -> Result<(), Failed> {
    use ipc_conform_harness::os;
    let mut session = Session::new(Timing::default());
    let a = session.spawn()?;
    check(session.call(a, &Request::Checkpoint)? == Observed::Returned(Reply::Done), "checkpoint")?;
    let r = {
        let _quiet = os::process::quiet_forks();
        let (r, w) = os::pipe::pipe_cloexec().map_err(|e| Failed::from(e.to_string()))?;
        session.hand(a, &[std::os::fd::AsFd::as_fd(&w)])?;
        r
    };
    let restored = session.call(a, &Request::Restore)?;
    check(restored == Observed::Returned(Reply::Done), format!("restore: {restored:?}"))?;
    os::fd::set_nonblocking(std::os::fd::AsFd::as_fd(&r), true).map_err(|e| Failed::from(e.to_string()))?;
    let mut byte = [0u8; 1];
    let read = std::io::Read::read(&mut std::fs::File::from(r), &mut byte);
    check(matches!(read, Ok(0)), format!("the read end after the reset: {read:?} (end of file expected)"))
}

/// A reset puts back the `SIGPIPE` action the checkpoint recorded: the
/// actor, which ignored `SIGPIPE` after the checkpoint, is killed by it
/// again when it writes to a pipe without a reader.
#[serial_test::serial]
fn a_reset_puts_signal_actions_back() -> Result<(), Failed> {
    use ipc_conform_harness::os::{self, signal::SigpipeDisposition};
    let mut session = Session::new(Timing::default());
    let a = session.spawn()?;
    let done = Observed::Returned(Reply::Done);
    check(session.call(a, &Request::SetSigpipe(SigpipeDisposition::Default))? == done, "SIGPIPE default")?;
    check(session.call(a, &Request::Checkpoint)? == done, "checkpoint")?;
    check(session.call(a, &Request::SetSigpipe(SigpipeDisposition::Ignore))? == done, "SIGPIPE ignored")?;
    let restored = session.call(a, &Request::Restore)?;
    check(restored == done, format!("restore: {restored:?}"))?;
    {
        let _quiet = os::process::quiet_forks();
        let (_, w) = os::pipe::pipe_cloexec().map_err(|e| Failed::from(e.to_string()))?;
        session.hand(a, &[std::os::fd::AsFd::as_fd(&w)])?;
    }
    let wrote = session.call(a, &Request::Write { slot: 0, len: 1, tag: 0, start: 0, call: WriteCall::Write })?;
    check(
        matches!(wrote, Observed::Died(ref d) if d.signal == Some(libc::SIGPIPE)),
        format!("a write without a reader after the reset: {wrote:?} (death by SIGPIPE expected)"),
    )
}

/// A reset does not pass over what it cannot undo: without a checkpoint
/// it refuses, and after the actor forked a child it names the child.
#[serial_test::serial]
fn a_reset_names_what_it_cannot_undo() -> Result<(), Failed> {
    use ipc_conform_harness::os::supervise::Fate;
    use ipc_conform_harness::protocol::process::ProcessOp;
    let mut session = Session::new(Timing::default());
    let a = session.spawn()?;
    let refused = |r: Result<Observed, Stop>, says: &str| match r {
        Err(stop) if stop.to_string().contains(says) => Ok(()),
        other => Err(Failed::from(format!("expected a refusal saying {says:?}, got {other:?}"))),
    };
    refused(session.call(a, &Request::Restore), "no checkpoint")?;
    // A refusal is a harness stop: the session is spent; a new one.
    let mut session = Session::new(Timing::default());
    let a = session.spawn()?;
    check(session.call(a, &Request::Checkpoint)? == Observed::Returned(Reply::Done), "checkpoint")?;
    let spawned = session.call(a, &Request::Process(ProcessOp::Spawn { fate: Fate::Exit(0) }))?;
    check(matches!(spawned, Observed::Returned(Reply::Values(_))), format!("spawn: {spawned:?}"))?;
    refused(session.call(a, &Request::Restore), "children it forked: 1")
}
