//! Nothing outlives a run: after a normal run, a failing run, and a run
//! interrupted midway by SIGINT or SIGTERM, no process of the run, scratch
//! file or directory, socket path, shared-memory name, message queue or
//! System V object remains.
//!
//! Each run gets a private TMPDIR and a marker in its environment, which
//! its actors and fixture programs inherit, so that its processes can be
//! told from anything else on the machine.

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

struct Run {
    child: Child,
    mark: String,
    tmp: tempfile::TempDir,
    out: tempfile::TempDir,
    /// Every descendant of the run seen so far (its actors).
    seen: std::cell::RefCell<std::collections::BTreeSet<i32>>,
}

fn start(args: &[&str]) -> Run {
    let tmp = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mark = format!("interrupt-{}-{}", std::process::id(), rand_suffix());
    let child = Command::new(env!("CARGO_BIN_EXE_ipc-conform"))
        .args(args)
        .arg("--out")
        .arg(out.path())
        .env("TMPDIR", tmp.path())
        .env("IPC_CONFORM_RUN_MARK", &mark)
        .stdout(std::fs::File::create(out.path().join("stdout.txt")).unwrap())
        .stderr(std::fs::File::create(out.path().join("stderr.txt")).unwrap())
        .spawn()
        .unwrap();
    Run { child, mark, tmp, out, seen: Default::default() }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new().build_hasher().finish()
}

/// Live (not zombie) processes whose environment carries the run's mark.
fn marked(mark: &str) -> Vec<i32> {
    let needle = format!("IPC_CONFORM_RUN_MARK={mark}");
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            let has = env.split(|b| *b == 0).any(|v| v == needle.as_bytes());
            let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| ipc_conform_harness::os::proc::parse_stat_state(&s))
                .is_none_or(|s| s == 'Z');
            has && !zombie
        })
        .collect()
}

/// The run's live processes: its descendants seen so far (listed through
/// the OS layer: /proc on Linux, proc_listchildpids on macOS) that are
/// still alive, and, where /proc shows environments, any process carrying
/// the run's mark (an orphan that no longer descends from the run).
fn processes_of(run: &Run) -> Vec<i32> {
    use ipc_conform_harness::os::process::{alive, child_pids};
    let mut frontier = vec![run.child.id() as i32];
    while let Some(pid) = frontier.pop() {
        for kid in child_pids(pid).expect("listing child processes") {
            if run.seen.borrow_mut().insert(kid) {
                frontier.push(kid);
            }
        }
    }
    let mut live: std::collections::BTreeSet<i32> = run.seen.borrow().iter().copied().filter(|p| alive(*p)).collect();
    live.extend(marked(&run.mark));
    live.into_iter().collect()
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect())
        .unwrap_or_default()
}

/// The run's shared-memory names (and semaphores) present now, of the
/// first `issued` it handed out, opened one by one through the OS layer
/// (every platform), and any entry of the run under /dev/shm where that
/// directory exists (Linux: every name, however many were issued).
fn shm_names_of(pid: u32, issued: u32) -> Vec<String> {
    let mut names = ipc_conform_harness::shm::name::leftovers_of(pid, issued);
    let prefix = format!("ipcc-{pid}-");
    let listed: Vec<String> = entries(Path::new("/dev/shm")).into_iter().filter(|n| n.contains(&prefix)).collect();
    names.extend(listed.into_iter().filter(|n| !names.contains(n)).collect::<Vec<_>>());
    names
}

/// Names a run of a few cases hands out at most, when it does not say.
const FEW_NAMES: u32 = 4096;

/// How many shared-memory names the run handed out, from the clean-up
/// summary an interrupted run ends with (see `cleanup::emergency`).
fn names_issued(run: &Run) -> Option<u32> {
    let said = std::fs::read_to_string(run.out.path().join("stderr.txt")).unwrap_or_default();
    let end = said.find(ipc_conform_harness::cleanup::SHM_NAMES_ISSUED)?;
    said[..end].split_whitespace().last()?.parse().ok()
}

/// A liveness guard, not an oracle: waits for `cond`, at most `secs`.
fn wait_for(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(secs) {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}

fn assert_nothing_left(run: &Run, pid: u32, issued: u32) {
    // Processes may take a moment to be reaped by init after the run exits.
    let gone = wait_for(10, || processes_of(run).is_empty());
    assert!(gone, "processes of the run left behind: {:?}", processes_of(run));
    let left = entries(run.tmp.path());
    assert!(left.is_empty(), "left in the run's TMPDIR: {left:?}");
    let shm = shm_names_of(pid, issued);
    assert!(shm.is_empty(), "shared-memory names left: {shm:?}");
    let sysv = ipc_conform_harness::sysv::key::leftovers_of(pid);
    assert!(sysv.is_empty(), "System V objects left: {sysv:?}");
}

fn interrupt(signal: nix::sys::signal::Signal, rules: &str, ready: impl Fn(&Run) -> bool) {
    let mut run = start(&["run", "--rules", rules, "--cases", "100000"]);
    let pid = run.child.id();
    let midway = wait_for(60, || ready(&run));
    assert!(midway, "the run never got going");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), signal).unwrap();
    let exited = wait_for(30, || matches!(run.child.try_wait(), Ok(Some(_))));
    assert!(exited, "the run did not end after {signal}");
    let status = run.child.wait().unwrap();
    assert_eq!(status.code(), Some(128 + signal as i32), "exit status after {signal}: {status:?}");
    let issued = names_issued(&run);
    assert!(issued.is_some(), "the interrupted run did not say what it cleaned up");
    assert_nothing_left(&run, pid, issued.unwrap_or(0));
    drop(run.out);
}

#[test]
#[serial_test::serial]
fn a_run_interrupted_by_sigint_leaves_nothing_behind() {
    interrupt(nix::sys::signal::Signal::SIGINT, "pipe.fifo.open-rendezvous", |run| {
        !entries(run.tmp.path()).is_empty() && !processes_of(run).is_empty()
    });
}

#[test]
#[serial_test::serial]
fn a_run_interrupted_by_sigterm_leaves_nothing_behind() {
    interrupt(nix::sys::signal::Signal::SIGTERM, "shm.name.lifetime", |run| {
        !shm_names_of(run.child.id(), FEW_NAMES).is_empty() && !processes_of(run).is_empty()
    });
}

#[test]
#[serial_test::serial]
fn a_run_interrupted_while_message_queues_exist_leaves_none_behind() {
    if cfg!(not(any(target_os = "linux", target_os = "android"))) {
        return; // no message queues: the rules do not apply
    }
    interrupt(nix::sys::signal::Signal::SIGINT, "mqueue.name.lifetime", |run| {
        shm_names_of(run.child.id(), FEW_NAMES).iter().any(|n| n.starts_with("mqueue:"))
            && !processes_of(run).is_empty()
    });
}

#[test]
#[serial_test::serial]
fn a_run_interrupted_while_system_v_queues_exist_leaves_none_behind() {
    interrupt(nix::sys::signal::Signal::SIGTERM, "sysv.msg.type-selection", |run| {
        !ipc_conform_harness::sysv::key::leftovers_of(run.child.id()).is_empty() && !processes_of(run).is_empty()
    });
}

#[test]
#[serial_test::serial]
fn a_run_interrupted_while_semaphores_exist_leaves_none_behind() {
    // System V sets (by key) or named POSIX semaphores (by name), as the
    // rules run in turn.
    interrupt(nix::sys::signal::Signal::SIGINT, "sysv.sem.atomic,shm.semaphore.named", |run| {
        let sets = ipc_conform_harness::sysv::key::leftovers_of(run.child.id());
        let names = shm_names_of(run.child.id(), FEW_NAMES);
        (sets.iter().any(|s| s.starts_with("semaphore set")) || names.iter().any(|n| n.starts_with("sem.")))
            && !processes_of(run).is_empty()
    });
}

#[test]
#[serial_test::serial]
fn a_normal_run_leaves_nothing_behind() {
    let mut run = start(&[
        "run",
        "--rules",
        "pipe.fifo.,socket.,shm.name.,shm.pshared.,shm.semaphore.,file.rename.,mqueue.,sysv.,memfd.",
        "--cases",
        "4",
    ]);
    let status = run.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let pid = run.child.id();
    assert_nothing_left(&run, pid, FEW_NAMES);
}

#[test]
#[serial_test::serial]
fn a_failing_run_leaves_nothing_behind() {
    // Deviant runs: every checked rule fails (and the deviation hides
    // descriptor copies); the run as a whole succeeds when all are caught.
    let mut run = start(&["mutants", "--deviations", "close-keeps-hidden-copy,fifo-open-nonblocking", "--cases", "8"]);
    let status = run.child.wait().unwrap();
    let said = std::fs::read_to_string(run.out.path().join("stdout.txt")).unwrap_or_default();
    assert_eq!(status.code(), Some(0), "a deviation was not caught:\n{said}");
    let pid = run.child.id();
    assert_nothing_left(&run, pid, FEW_NAMES);
}
