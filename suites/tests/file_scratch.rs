//! The file suite leaves nothing behind: after its properties run (passing,
//! and failing while actors are still at work in the scratch directory) no
//! scratch directory, actor process or descriptor remains.

use ipc_conform::registry;
use ipc_conform_harness::file::exec;
use ipc_conform_harness::file::locks::Violation;
use ipc_conform_harness::file::race::ReplaceCase;
use ipc_conform_harness::leaks::{children, open_fds, scratch_dirs};
use ipc_conform_harness::runner::{self, RunConfig};
use ipc_conform_harness::session::Session;
use ipc_conform_harness::{Timing, Verdict};
use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    ipc_conform::enter_role();
    let mut args = Arguments::from_args();
    args.test_threads = Some(1);
    let trials = vec![
        Trial::test("file.scratch-gone-after-passing-properties", scratch_gone_after_passing_properties),
        Trial::test("file.scratch-gone-after-a-failing-property", scratch_gone_after_a_failing_property),
    ];
    libtest_mimic::run(&args, trials).exit();
}

/// The run's configuration and its output directory, which goes with the
/// guard on every path out of the test (the regressions file a run writes
/// included); named with the prefix the leftover check looks for.
fn config(cases: u32) -> Result<(RunConfig, tempfile::TempDir), Failed> {
    let mut cfg = RunConfig::from_env().map_err(Failed::from)?;
    cfg.cases = Some(cases);
    let out =
        tempfile::Builder::new().prefix("ipc-conform-test-out-").tempdir().map_err(|e| Failed::from(e.to_string()))?;
    cfg.out_dir = out.path().to_path_buf();
    Ok((cfg, out))
}

fn check(condition: bool, message: impl Into<String>) -> Result<(), Failed> {
    if condition {
        Ok(())
    } else {
        Err(Failed::from(message.into()))
    }
}

fn nothing_left(fds_before: usize) -> Result<(), Failed> {
    let dirs = scratch_dirs();
    check(dirs.is_empty(), format!("scratch directories left behind: {dirs:?}"))?;
    if cfg!(target_os = "linux") {
        let kids = children();
        check(kids.is_empty(), format!("processes left behind: {kids:?}"))?;
        let after = open_fds();
        check(after <= fds_before, format!("descriptors left open: {fds_before} before, {after} after"))?;
    }
    Ok(())
}

fn warm_up(timing: Timing) -> usize {
    drop(Session::new(timing).spawn());
    open_fds()
}

#[serial_test::serial]
fn scratch_gone_after_passing_properties() -> Result<(), Failed> {
    let (cfg, _out) = config(3)?;
    let fds_before = warm_up(cfg.timing);
    for rule in registry::catalogue().rules.iter().filter(|r| r.id.starts_with("file.")) {
        let outcome = registry::check_rule(rule, &cfg);
        check(outcome.verdict.is_ok(), runner::render(&outcome))?;
        if rule.id == "file.inplace.torn-read" {
            // The observation is reported with its frequency, apart from the verdict.
            let made = outcome.measured.get("in-place rewrite: reads made").map_or(0, |m| m.max);
            check(made > 0, format!("no torn-read frequency measured: {}", runner::render(&outcome)))?;
            println!("{}", runner::render(&outcome));
        }
    }
    nothing_left(fds_before)
}

/// A judge that rejects the first report it sees: the case then ends while
/// the writers may still be renaming files in the scratch directory.
fn reject_everything(
    _: &ReplaceCase,
    _: &[ipc_conform_harness::file::race::WriterReport],
    _: &[Vec<ipc_conform_harness::file::version::Seen>],
) -> Result<(), Violation> {
    Err(Violation { rules: vec!["file.rename.atomic-replace"], message: "rejected on purpose by the test".into() })
}

#[serial_test::serial]
fn scratch_gone_after_a_failing_property() -> Result<(), Failed> {
    let (cfg, _out) = config(4)?;
    let fds_before = warm_up(cfg.timing);
    let timing = cfg.timing;
    let case = ReplaceCase {
        initial_len: 4096,
        writers: vec![vec![8192; 400], vec![100; 400]],
        readers: vec![1],
        in_place_chunk: None,
    };
    let outcome = runner::check(
        "file.rename.atomic-replace",
        "rejects_everything",
        proptest::strategy::Just(case),
        |c| exec::run_replace_with(c, timing, &reject_everything),
        &cfg,
    );
    check(outcome.verdict == Verdict::Fail, format!("expected a failing property, got {}", runner::render(&outcome)))?;
    check(
        outcome.reason.as_deref().is_some_and(|r| r.contains("rejected on purpose")),
        format!("the failure is not the planted one: {}", runner::render(&outcome)),
    )?;
    nothing_left(fds_before)
}
