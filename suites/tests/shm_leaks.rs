//! Nothing outlives the shm, process, message-queue and System V suites:
//! after every rule of the four mechanisms has run (and after a case that
//! broke off with a harness error halfway), no shared-memory name,
//! semaphore, message queue or System V object of this process is left,
//! no scratch directory, no actor process and no descriptor.

use ipc_conform::registry;
use ipc_conform_harness::case::CaseOutcome;
use ipc_conform_harness::leaks::{children, open_fds, scratch_dirs};
use ipc_conform_harness::runner::{self, RunConfig};
use ipc_conform_harness::shm::name;
use ipc_conform_harness::shm::sync::{self, PublishCase};
use ipc_conform_harness::{Session, Timing};
use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    ipc_conform::enter_role();
    let mut args = Arguments::from_args();
    args.test_threads = Some(1);
    let trials = vec![
        Trial::test("shm.nothing-outlives-the-suite", nothing_outlives_the_suite),
        Trial::test("shm.sync.no-lost-updates-reports-plain-increments", reports_plain_increments),
    ];
    libtest_mimic::run(&args, trials).exit();
}

fn check(condition: bool, message: impl Into<String>) -> Result<(), Failed> {
    if condition {
        Ok(())
    } else {
        Err(Failed::from(message.into()))
    }
}

fn nothing_outlives_the_suite() -> Result<(), Failed> {
    let mut cfg = RunConfig::from_env().map_err(Failed::from)?;
    cfg.cases = Some(6);
    drop(Session::new(cfg.timing).spawn());
    let fds_before = open_fds();
    let catalogue = registry::catalogue();
    let mut ran = 0;
    let named = |id: &str| ["shm.", "process.", "mqueue.", "sysv."].iter().any(|m| id.starts_with(m));
    for rule in catalogue.rules.iter().filter(|r| named(&r.id)) {
        let outcome = registry::check_rule(rule, &cfg);
        check(outcome.verdict.is_ok(), runner::render(&outcome))?;
        ran += 1;
    }
    check(ran == 29, format!("expected the 20 shm and process, 5 message-queue and 4 System V rules, ran {ran}"))?;
    // A case that breaks off halfway: the name exists and actors run when
    // the ring's consumer refuses a ring of no slots.
    let broken =
        PublishCase::Ring { slots: 0, words: 1, messages: 1, producer_pauses: vec![], consumer_pauses: vec![] };
    let report = sync::run_publish(&broken, Timing::scaled(0.2));
    check(
        matches!(report.outcome, CaseOutcome::Error(_)),
        format!("expected a harness error, got {:?}", report.outcome),
    )?;
    let names = name::leftovers();
    check(names.is_empty(), format!("shared-memory names, semaphores or message queues left behind: {names:?}"))?;
    let sysv = ipc_conform_harness::sysv::key::leftovers();
    check(sysv.is_empty(), format!("System V objects left behind: {sysv:?}"))?;
    // Through the OS layer on every platform (a panic where it cannot look).
    let kids = children();
    check(kids.is_empty(), format!("processes left behind: {kids:?}"))?;
    let fds_after = open_fds();
    check(fds_after <= fds_before, format!("descriptors left open: {fds_before} before, {fds_after} after"))?;
    let dirs = scratch_dirs();
    check(dirs.is_empty(), format!("scratch directories left behind: {dirs:?}"))
}

/// The hammer case reports, beside its verdict, what plain increments lost
/// in the same run (an observation, whatever its value).
fn reports_plain_increments() -> Result<(), Failed> {
    use ipc_conform_harness::shm::sync::{HammerCase, ProcessPlan, UNSYNC_LOST};
    let plan = ProcessPlan { count: 3000, pauses: vec![10, 500, 2000], pause_inside: true };
    let case = HammerCase { processes: vec![plan; 4] };
    let report = sync::run_hammer(&case, Timing::default());
    check(report.outcome == CaseOutcome::Pass, format!("{:?}", report.outcome))?;
    let lost = report.observations.iter().find(|(k, _)| k == UNSYNC_LOST);
    println!("plain increments lost: {lost:?} of {}", case.total());
    check(
        lost.is_some_and(|(_, n)| *n <= case.total()),
        format!("no plain-increment observation: {:?}", report.observations),
    )
}
