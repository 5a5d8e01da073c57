//! Detection power in `cargo test` (a reduced set; `ipc-conform mutants`
//! runs every deviation): each deviation of the OS layer is caught by its
//! rule, a deviation that never returns gives `hung` with the actor's wait
//! state and the run goes on, and the unmodified layer passes the same
//! rules. One trial at a time: the deviation is process-wide.

use ipc_conform::mutants;
use ipc_conform_harness::os::deviant::Deviation;
use ipc_conform_harness::runner::RunConfig;
use ipc_conform_harness::{Timing, Verdict};
use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    ipc_conform::enter_role();
    let mut args = Arguments::from_args();
    args.test_threads = Some(1);
    let trials = vec![
        Trial::test("mutants.each-deviation-is-caught-by-its-rule", each_deviation_is_caught_by_its_rule),
        Trial::test("mutants.a-deviation-that-never-returns-is-hung", a_deviation_that_never_returns_is_hung),
        Trial::test("mutants.every-deviation-names-a-catalogue-rule", every_deviation_names_a_catalogue_rule),
        Trial::test(
            "mutants.a-rule-that-does-not-apply-here-is-shown-not-counted",
            a_rule_that_does_not_apply_here_is_shown_not_counted,
        ),
        Trial::test("mutants.a-lock-survivor-is-caught-and-reaped", a_lock_survivor_is_caught_and_reaped),
        Trial::test(
            "mutants.a-second-user-locked-out-is-unresolved-not-pass",
            a_second_user_locked_out_is_unresolved_not_pass,
        ),
        Trial::test(
            "mutants.deviations-on-the-harness-channels-are-findings-against-their-rules",
            deviations_on_the_harness_channels_are_findings_against_their_rules,
        ),
    ];
    libtest_mimic::run(&args, trials).exit();
}

fn config() -> Result<RunConfig, Failed> {
    let mut cfg = RunConfig::from_env().map_err(Failed::from)?;
    cfg.timing = Timing::scaled(0.3);
    cfg.cases = Some(24);
    cfg.max_shrink_iters = Some(0);
    cfg.out_dir = std::env::temp_dir().join(format!("ipc-conform-mutants-{}", std::process::id()));
    Ok(cfg)
}

fn run(deviations: &[Deviation]) -> Result<mutants::Mutants, Failed> {
    let cfg = config()?;
    let result = mutants::run(deviations, &cfg, |_| {});
    let _ = std::fs::remove_dir_all(&cfg.out_dir);
    let result = result.map_err(Failed::from)?;
    println!("{}", result.table());
    Ok(result)
}

fn each_deviation_is_caught_by_its_rule() -> Result<(), Failed> {
    let result = run(&[
        Deviation::ReadEmptyReturnsZero,
        Deviation::SmallWriteSplit,
        Deviation::CloseKeepsHiddenCopy,
        Deviation::EpipeBecomesSuccess,
        Deviation::DatagramSplit,
        Deviation::ShutdownNoop,
        Deviation::RightsReopen,
        Deviation::ExclIgnored,
        Deviation::MapSharedIsPrivate,
        Deviation::ExecClosesInherited,
        // Entry points drawn at random: a deviation of one is caught too.
        Deviation::ReadvDropsAByte,
        Deviation::SendmsgSplitsMessages,
        // Readiness: an interface's answer, and a registration's.
        Deviation::ReadyIgnoresData,
        Deviation::EdgeRepeats,
    ])?;
    let missed: Vec<String> =
        result.rows.iter().filter(|r| !r.caught()).map(|r| format!("{} / {}", r.deviation.name(), r.rule)).collect();
    if !missed.is_empty() {
        return Err(format!("deviations not caught: {missed:?}\n{}", result.table()).into());
    }
    let dirty: Vec<&(String, Verdict, String)> = result.baseline.iter().filter(|(_, v, _)| !v.is_ok()).collect();
    if !dirty.is_empty() {
        return Err(format!("the unmodified OS layer fails: {dirty:?}").into());
    }
    Ok(())
}

fn a_deviation_that_never_returns_is_hung() -> Result<(), Failed> {
    // The woken readers after the first never return: hung, with the wait
    // state, and the next deviation is still checked.
    let result = run(&[Deviation::WakeOneReader, Deviation::ReadDropsAByte])?;
    let wake = &result.rows[0];
    if wake.verdict != Verdict::Hung {
        return Err(format!("expected hung, got {} ({})", wake.verdict, wake.reason).into());
    }
    if cfg!(target_os = "linux") && !wake.reason.contains("state S") {
        return Err(format!("the hung verdict lacks the wait state: {}", wake.reason).into());
    }
    if !result.rows[1].caught() {
        return Err("the run did not go on to catch the next deviation".into());
    }
    Ok(())
}

fn every_deviation_names_a_catalogue_rule() -> Result<(), Failed> {
    let catalogue = ipc_conform::registry::catalogue();
    for d in Deviation::ALL {
        for rule in d.rules() {
            if catalogue.get(rule).is_none() {
                return Err(format!("deviation {} names unknown rule {rule}", d.name()).into());
            }
        }
    }
    Ok(())
}

fn a_lock_survivor_is_caught_and_reaped() -> Result<(), Failed> {
    // The deviation leaves processes that outlive their actor: the waiters
    // hang, and once the run is over none of them is left, running or not.
    let result = run(&[Deviation::LockLeaksToSurvivor])?;
    let row = &result.rows[0];
    if row.verdict != Verdict::Hung {
        return Err(format!("expected hung, got {} ({})", row.verdict, row.reason).into());
    }
    // Every child, running or a zombie, but the fork server (the run's),
    // and the server's children (actors).
    let left = ipc_conform_harness::leaks::children();
    if !left.is_empty() {
        return Err(format!("child processes are left after the run: {left:?}").into());
    }
    Ok(())
}

/// A second user refused everything for an unrelated reason (as on a host
/// whose root directory is closed to others) proves nothing about the
/// mode bits or the other user's memory: the positive controls make both
/// rules `unresolved`, never `pass`. Without root there is no second user
/// and both say `unsupported`.
fn a_second_user_locked_out_is_unresolved_not_pass() -> Result<(), Failed> {
    let result = run(&[Deviation::SecondUserLockedOut])?;
    let want =
        if ipc_conform_harness::os::process::can_switch_user() { Verdict::Unresolved } else { Verdict::Unsupported };
    for row in &result.rows {
        if row.verdict != want {
            return Err(format!("{}: expected {want}, got {} ({})", row.rule, row.verdict, row.reason).into());
        }
    }
    Ok(())
}

/// Deviations that reach the harness's own channels (the lifeline, the
/// control sockets): the start-up self-check stops with the rules they
/// break, and a run of those rules says `fail`, never `error`.
fn deviations_on_the_harness_channels_are_findings_against_their_rules() -> Result<(), Failed> {
    use ipc_conform_harness::os::deviant;
    let cfg = config()?;
    for (d, rule) in [
        (Deviation::LifelineEofEarly, "pipe.eof.any-writer-open"),
        (Deviation::BlockingRecvEagain, "socket.read.empty-blocks"),
        (Deviation::RecvmsgLosesDescriptors, "socket.rights.fd-passing"),
    ] {
        deviant::set_for_children(Some(d));
        let checked = ipc_conform_harness::channel::self_check(cfg.timing);
        deviant::set_for_children(None);
        let why = checked.err().ok_or_else(|| format!("the self-check passed under {}", d.name()))?;
        if !why.contains(rule) || !why.contains("own channels") {
            return Err(format!("the self-check under {} does not name {rule}: {why}", d.name()).into());
        }
    }
    ipc_conform_harness::channel::self_check(cfg.timing).map_err(|e| format!("unmodified: {e}"))?;
    let result =
        run(&[Deviation::LifelineEofEarly, Deviation::BlockingRecvEagain, Deviation::RecvmsgLosesDescriptors])?;
    for row in &result.rows {
        if row.verdict != Verdict::Fail || !row.caught() {
            return Err(format!("{} on {}: {:?}: {}", row.deviation.name(), row.rule, row.verdict, row.reason).into());
        }
    }
    Ok(())
}

/// On macOS `eventfd.counter` does not apply (the catalogue says so): its
/// deviation's row is shown as such and neither caught nor missed.
fn a_rule_that_does_not_apply_here_is_shown_not_counted() -> Result<(), Failed> {
    use ipc_conform_spec::Platform;
    let rule = ipc_conform::registry::catalogue().get("eventfd.counter").ok_or("no eventfd.counter")?;
    if mutants::applies(rule, Some(Platform::Macos)) || !mutants::applies(rule, Some(Platform::Linux)) {
        return Err("eventfd.counter should apply on Linux only".into());
    }
    let row = |applicable, verdict| mutants::Row {
        deviation: Deviation::EfdSemaphoreIgnored,
        rule: "eventfd.counter".into(),
        verdict,
        reason: String::new(),
        applicable,
    };
    let here = mutants::Mutants { rows: vec![row(false, Verdict::Unsupported)], baseline: vec![] };
    let table = here.table();
    if !here.ok() || !table.contains("n/a") || !table.contains("0 of 0 deviations caught by their rule (1 more") {
        return Err(format!("a row whose rule does not apply was counted:\n{table}").into());
    }
    let missed = mutants::Mutants { rows: vec![row(true, Verdict::Unsupported)], baseline: vec![] };
    if missed.ok() {
        return Err("an applicable row that was not caught passed".into());
    }
    Ok(())
}
