//! The `ipc-conform` command: `run` (the conformance run, writing the
//! report), `merge` (reports of several platforms into one matrix) and
//! `bench` (the engine's speed against the kernel's own cost).

use crate::registry;
use clap::{Parser, Subcommand};
use ipc_conform_harness::evidence::EvidenceKind;
use ipc_conform_harness::report::{merge_markdown, PlatformInfo, Report};
use ipc_conform_harness::runner::{self, Progress, RuleOutcome, RunConfig};
use ipc_conform_harness::verdict::Verdict;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

#[derive(Parser, Debug)]
#[command(
    name = "ipc-conform",
    version,
    about = "Checks, rule by rule, that this host's interprocess communication behaves as documented."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the conformance checks and write the report (report.json, report.md, report.xml).
    Run(RunArgs),
    /// Merge report.json files of several platforms into one matrix (Markdown on standard output).
    Merge(MergeArgs),
    /// Measure the engine's speed against the kernel's own cost (build with --release).
    Bench(BenchArgs),
    /// Detection power: run rules under a deliberately deviant OS layer, one deviation at a time; each must be caught by its rule, and the unmodified layer must pass.
    Mutants(MutantsArgs),
}

#[derive(clap::Args, Debug)]
struct MutantsArgs {
    /// Deviations to apply (names from --list), comma-separated; default: all.
    #[arg(long, value_name = "NAME", num_args = 1.., value_delimiter = ',')]
    deviations: Vec<String>,
    /// Cases per rule and deviation.
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..))]
    cases: u32,
    /// The run's seed (decimal or 0x-hex).
    #[arg(long, value_name = "S", value_parser = runner::parse_seed)]
    seed: Option<u64>,
    /// Where failures of the deviant runs are written [default: target/ipc-conform/mutants/].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// List the deviations and the rules that must catch them; run nothing.
    #[arg(long)]
    list: bool,
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// Rules to check: ids, prefixes ending in '.' (`pipe.`), globs (`socket.server.*`) or mechanisms (`pipe`). Repeatable or comma-separated; default: all.
    #[arg(long = "rules", value_name = "PATTERN", num_args = 1.., value_delimiter = ',')]
    rules: Vec<String>,
    /// Cases per rule (default: PROPTEST_CASES, else 64).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    cases: Option<u32>,
    /// The run's seed (decimal or 0x-hex); every run prints its seed.
    #[arg(long, value_name = "S", value_parser = runner::parse_seed)]
    seed: Option<u64>,
    /// Where the report and saved failures go [default: target/ipc-conform/].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Cap the evidence "blocked" rests on: proc (the call and its descriptor), wchan, thread-state, or timeout (no view; never grounds a fail). Default: the strongest this host offers (probed at start), or IPC_CONFORM_EVIDENCE.
    #[arg(long, value_name = "LEVEL", value_parser = parse_evidence)]
    evidence: Option<EvidenceKind>,
    /// Rules checked at once, each on its own thread with its own actors [default: twice the CPUs this process may use, at most 16; measured faster than once on a 2-core host; 1: one rule at a time].
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    jobs: Option<u32>,
    /// Replay one saved failing case (a file from <out>/failures/).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["rules", "cases", "seed", "list"])]
    replay: Option<PathBuf>,
    /// List the selected rules and the properties that check them; run nothing.
    #[arg(long)]
    list: bool,
}

#[derive(clap::Args, Debug)]
struct MergeArgs {
    /// report.json files, one per platform.
    #[arg(required = true, value_name = "REPORT")]
    reports: Vec<PathBuf>,
    /// Also write the matrix to this file.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct BenchArgs {
    /// Print the figures as one JSON object (field names in the README).
    #[arg(long)]
    json: bool,
    /// Few samples and a one-rule whole run: a smoke test of every figure, not a measurement.
    #[arg(long)]
    quick: bool,
}

/// Exit code: every rule passed or is declared unsupported here.
pub const EXIT_OK: i32 = 0;
/// Exit code: a rule failed, hung or stayed unresolved.
pub const EXIT_DEVIATION: i32 = 1;
/// Exit code: bad input or a harness error.
pub const EXIT_ERROR: i32 = 2;

/// Runs the command line; returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
        }
    };
    if let Err(e) = registry::verify() {
        eprintln!("ipc-conform: error: the registry of properties does not match the catalogue: {e}");
        return EXIT_ERROR;
    }
    if let Err(e) = ipc_conform_harness::cleanup::install_signal_handlers() {
        eprintln!("ipc-conform: error: installing the SIGINT/SIGTERM handler: {e}");
        return EXIT_ERROR;
    }
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Merge(args) => merge(args),
        Command::Mutants(args) => mutants(args),
        Command::Bench(args) => bench(args),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("ipc-conform: error: {message}");
            EXIT_ERROR
        }
    }
}

fn merge(args: MergeArgs) -> Result<i32, String> {
    let mut reports = Vec::new();
    for path in &args.reports {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        reports
            .push(Report::from_json(&text).map_err(|e| format!("{}: not an ipc-conform report: {e}", path.display()))?);
    }
    let matrix = merge_markdown(&reports);
    if let Some(out) = &args.out {
        std::fs::write(out, &matrix).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    print!("{matrix}");
    Ok(EXIT_OK)
}

fn mutants(args: MutantsArgs) -> Result<i32, String> {
    use ipc_conform_harness::os::deviant::Deviation;
    let chosen: Vec<Deviation> = if args.deviations.is_empty() {
        Deviation::ALL.to_vec()
    } else {
        args.deviations.iter().map(|d| d.parse()).collect::<Result<_, _>>()?
    };
    if args.list {
        for d in &chosen {
            println!("{:<28} {:<60} {}", d.name(), d.rules().join(", "), d.what());
        }
        return Ok(EXIT_OK);
    }
    let mut cfg = RunConfig::from_env()?;
    if let Some(out) = args.out {
        cfg.out_dir = out;
    }
    if let Some(seed) = args.seed {
        cfg.seed = seed;
    }
    cfg.cases = Some(args.cases);
    cfg.max_shrink_iters = Some(0);
    check_writable(&cfg.out_dir)?;
    println!("ipc-conform mutants: {} deviation(s), {} cases per rule, seed {:#x}", chosen.len(), args.cases, cfg.seed);
    let result = crate::mutants::run(&chosen, &cfg, |row| {
        eprintln!("  {:<28} {:<32} {:<8} {}", row.deviation.name(), row.rule, row.verdict, row.reason);
    })?;
    println!("\n{}", result.table());
    Ok(if result.ok() { EXIT_OK } else { EXIT_DEVIATION })
}

fn bench(args: BenchArgs) -> Result<i32, String> {
    use ipc_conform_harness::bench;
    use ipc_conform_spec::ids;
    let cfg = RunConfig::from_env()?;
    let scratch = ipc_conform_harness::scratch::Scratch::new().map_err(|e| format!("scratch folder: {e}"))?;
    let run_report = scratch.path().join("run");
    let mut run_args = vec!["run".to_string(), "--out".to_string(), run_report.to_string_lossy().into_owned()];
    if args.quick {
        let quick_rules = format!("{},{}", ids::PIPE_READ_EMPTY_BLOCKS, ids::SOCKET_READ_EMPTY_BLOCKS);
        run_args.extend(["--rules".to_string(), quick_rules, "--cases".to_string(), "4".to_string()]);
    }
    let rules = registry::catalogue().select(&[]).map_err(|e| e.to_string())?;
    let rules = if args.quick {
        let quick = [ids::PIPE_READ_EMPTY_BLOCKS, ids::SOCKET_READ_EMPTY_BLOCKS];
        rules.into_iter().filter(|r| quick.contains(&r.id.as_str())).collect()
    } else {
        rules
    };
    let figures = bench::measure(
        args.quick,
        &rules,
        &registry::check_rule,
        &run_args,
        &run_report,
        &cfg,
        &scratch.path().join("schedules"),
    )
    .map_err(|e| format!("bench: {e}"))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&figures).map_err(|e| e.to_string())?);
    } else {
        print!("{}", bench::render(&figures));
    }
    Ok(EXIT_OK)
}

fn parse_evidence(text: &str) -> Result<EvidenceKind, String> {
    text.parse()
}

/// Makes sure the out folder can be written before anything runs.
fn check_writable(dir: &Path) -> Result<(), String> {
    let probe = dir.join(".ipc-conform-write-test");
    std::fs::create_dir_all(dir)
        .and_then(|_| std::fs::write(&probe, b""))
        .and_then(|_| std::fs::remove_file(&probe))
        .map_err(|e| format!("cannot write the report to {}: {e}", dir.display()))
}

fn run(args: RunArgs) -> Result<i32, String> {
    let catalogue = registry::catalogue();
    let mut cfg = RunConfig::from_env()?;
    if let Some(out) = args.out {
        cfg.out_dir = out;
    }
    if let Some(seed) = args.seed {
        cfg.seed = seed;
    }
    cfg.cases = args.cases;
    if let Some(cap) = args.evidence {
        cfg.cap_evidence(cap);
    }
    if let Some(path) = args.replay {
        return replay(&path, &cfg);
    }
    let rules = catalogue.select(&args.rules).map_err(|e| e.to_string())?;
    if args.list {
        for rule in &rules {
            let props: Vec<&str> = registry::for_rule(&rule.id).iter().map(|p| p.name).collect();
            println!("{:<36} {}", rule.id, props.join(", "));
        }
        return Ok(EXIT_OK);
    }
    check_writable(&cfg.out_dir)?;
    let k = &cfg.constants;
    let jobs = args.jobs.map_or_else(default_jobs, |j| j as usize).clamp(1, rules.len().max(1));
    println!(
        "ipc-conform {}: {} rule(s), {} at once, seed {:#x}, {} cases per rule; PIPE_BUF {}, pipe capacity {}; through {}; evidence {}",
        env!("CARGO_PKG_VERSION"),
        rules.len(),
        jobs,
        cfg.seed,
        cfg.cases.map_or_else(
            || std::env::var("PROPTEST_CASES").unwrap_or_else(|_| runner::DEFAULT_CASES.to_string()),
            |n| n.to_string()
        ),
        k.pipe_buf,
        k.pipe_capacity,
        ipc_conform_harness::os::interface::checked(),
        cfg.evidence,
    );
    let bar = ProgressBar::new(rules.len());
    cfg.progress = bar.hook();
    let started = SystemTime::now();
    let clock = Instant::now();
    let mut checked = check_in_parallel(&rules, &cfg, &bar, jobs);
    registry::attribute_findings(&mut checked);
    bar.clear();
    let report = Report::build(
        &checked,
        PlatformInfo::current(k, &cfg.evidence),
        started,
        clock.elapsed().as_millis() as u64,
        cfg.seed,
    );
    print_summary(&report, &checked);
    report.write(&cfg.out_dir).map_err(|e| format!("writing the report to {}: {e}", cfg.out_dir.display()))?;
    println!("report: {}", cfg.out_dir.join("report.md").display());
    Ok(report.exit_code())
}

/// Rules checked at once by default: twice the CPUs this process may use,
/// at most [`MAX_DEFAULT_JOBS`].
/// A case spends much of its time waiting on its actors (a round trip, a
/// fork, a reaping), so two rules per CPU keep the CPUs busy: on the 2-core
/// host of the README's performance section the whole run took 17-20.5 s
/// with 4 at once against 21-23 s with 2 (3 runs each).
fn default_jobs() -> usize {
    (2 * std::thread::available_parallelism().map_or(1, |n| n.get())).min(MAX_DEFAULT_JOBS)
}

/// The default's ceiling: on a large host, twice its CPUs would be every
/// rule at once in one process (each with its actors' descriptors, under
/// one `RLIMIT_NOFILE`); `--jobs` goes past it when asked.
const MAX_DEFAULT_JOBS: usize = 16;

/// Checks the rules on `jobs` threads (each rule is independent: its own
/// actors, descriptors and scratch folder; spawns and descriptors under
/// test are kept apart by the fork lock); the results come back in
/// catalogue order.
fn check_in_parallel<'r>(
    rules: &[&'r ipc_conform_spec::Rule],
    cfg: &RunConfig,
    bar: &ProgressBar,
    threads: usize,
) -> Vec<(&'r ipc_conform_spec::Rule, RuleOutcome, Vec<String>)> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<RuleOutcome>>> = Mutex::new(rules.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(rule) = rules.get(i) else { break };
                bar.start_rule(&rule.id);
                let outcome = registry::check_rule(rule, cfg);
                bar.finish_rule(&rule.id, outcome.verdict);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(outcome);
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    rules
        .iter()
        .zip(results)
        .map(|(rule, outcome)| {
            let outcome = outcome.unwrap_or_else(|| {
                RuleOutcome::without_cases(&rule.id, "-", Verdict::Error, "the rule's check did not finish".into())
            });
            let properties = registry::for_rule(&rule.id).iter().map(|p| p.name.to_string()).collect();
            (*rule, outcome, properties)
        })
        .collect()
}

fn replay(path: &Path, cfg: &RunConfig) -> Result<i32, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file = registry::read_replay(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("replaying {} from {}", file.rule, path.display());
    let outcome = registry::replay(&file, cfg)?;
    println!("{}", runner::render(&outcome));
    Ok(exit_code(&[outcome]))
}

fn print_summary(report: &Report, checked: &[(&ipc_conform_spec::Rule, RuleOutcome, Vec<String>)]) {
    println!("\n{:<36} {:<12} {:>6}  evidence", "rule", "verdict", "cases");
    for e in &report.rules {
        let ev = &e.evidence;
        let evidence = match ev.kind.as_str() {
            "none" => "none".to_string(),
            kind => format!("{kind} x{}", ev.proc + ev.wchan + ev.thread_state + ev.timeout),
        };
        println!("{:<36} {:<12} {:>6}  {}", e.id, e.verdict.as_str(), e.cases, evidence);
    }
    for (_, outcome, _) in checked.iter().filter(|(_, o, _)| o.verdict != Verdict::Pass) {
        println!("\n{}", runner::render(outcome));
    }
    for (_, outcome, _) in checked.iter().filter(|(_, o, _)| o.verdict == Verdict::Pass) {
        if let Some(stale) = &outcome.stale_saved {
            println!(
                "\n{}: stale saved failure: {} failing case(s) saved by an earlier run passed ({})",
                outcome.rule, stale.count, stale.file
            );
        }
    }
    let counts: Vec<String> = report.summary.iter().filter(|(_, n)| **n > 0).map(|(v, n)| format!("{n} {v}")).collect();
    println!("\n{} rule(s): {} ({:.1} s)", report.rules.len(), counts.join(", "), report.duration_ms as f64 / 1000.0);
}

/// The exit code for a set of outcomes.
pub fn exit_code(outcomes: &[RuleOutcome]) -> i32 {
    if outcomes.iter().any(|o| o.verdict == Verdict::Error) {
        EXIT_ERROR
    } else if outcomes.iter().any(|o| !o.verdict.is_ok()) {
        EXIT_DEVIATION
    } else {
        EXIT_OK
    }
}

/// A one-line progress display on a terminal (standard error, drawn by
/// `indicatif`): rules done of all, the rules being checked with their
/// cases so far, and a running tally of verdicts. Hidden when standard
/// error is not a terminal or `CI` is set, so CI logs stay readable.
struct ProgressBar {
    bar: indicatif::ProgressBar,
    state: Arc<Mutex<BarState>>,
}

#[derive(Default)]
struct BarState {
    /// The rules being checked now, with their cases so far.
    running: BTreeMap<String, u64>,
    tally: BTreeMap<Verdict, u64>,
}

impl ProgressBar {
    fn new(total: usize) -> ProgressBar {
        let on = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let bar = match on {
            true => indicatif::ProgressBar::new(total as u64),
            false => indicatif::ProgressBar::hidden(),
        };
        let style = indicatif::ProgressStyle::with_template("[{bar:20}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("#-");
        bar.set_style(style);
        ProgressBar { bar, state: Arc::new(Mutex::new(BarState::default())) }
    }

    fn hook(&self) -> Progress {
        if self.bar.is_hidden() {
            return Progress::default();
        }
        let (state, bar) = (Arc::clone(&self.state), self.bar.clone());
        Progress::new(move |rule, cases| {
            if let Ok(mut s) = state.lock() {
                if let Some(n) = s.running.get_mut(rule) {
                    *n = cases;
                }
                bar.set_message(message(&s));
            }
        })
    }

    fn start_rule(&self, rule: &str) {
        if let Ok(mut s) = self.state.lock() {
            s.running.insert(rule.to_string(), 0);
            self.bar.set_message(message(&s));
        }
    }

    fn finish_rule(&self, rule: &str, verdict: Verdict) {
        if let Ok(mut s) = self.state.lock() {
            s.running.remove(rule);
            *s.tally.entry(verdict).or_insert(0) += 1;
            self.bar.set_message(message(&s));
        }
        self.bar.inc(1);
    }

    fn clear(&self) {
        self.bar.finish_and_clear();
    }
}

/// The bar's message: the rules running, with their cases, and the tally.
fn message(s: &BarState) -> String {
    let tally: Vec<String> = s.tally.iter().map(|(v, n)| format!("{n} {v}")).collect();
    let running: Vec<String> = s.running.iter().map(|(rule, cases)| format!("{rule} case {cases}")).collect();
    format!("{}  {}", running.join(", "), tally.join(", "))
}
