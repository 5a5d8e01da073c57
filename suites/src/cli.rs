//! The `ipc-conform` command.

use crate::registry;
use clap::{Parser, Subcommand};
use ipc_conform_harness::runner::{self, ReplayFile, RuleOutcome, RunConfig};
use ipc_conform_harness::verdict::Verdict;
use std::path::PathBuf;

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
    /// Run the conformance checks and print a verdict per rule.
    Run(RunArgs),
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// Rules to check: ids, prefixes ending in '.' (`pipe.`), globs (`pipe.eof.*`) or mechanisms (`pipe`). Repeatable; default: all.
    #[arg(long = "rules", value_name = "PATTERN", num_args = 1.., value_delimiter = ',')]
    rules: Vec<String>,
    /// Cases per rule (default: PROPTEST_CASES, else 64).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    cases: Option<u32>,
    /// The run's seed (decimal or 0x-hex); printed at the start of every run.
    #[arg(long, value_name = "S", value_parser = runner::parse_seed)]
    seed: Option<u64>,
    /// Where failures and reports are written.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replay one saved failing case (a file from <out>/failures/).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["rules", "cases", "seed"])]
    replay: Option<PathBuf>,
    /// List the selected rules and their properties, and run nothing.
    #[arg(long)]
    list: bool,
}

/// Exit code: every rule passed or is declared unsupported here.
pub const EXIT_OK: i32 = 0;
/// Exit code: a rule failed or hung.
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
    match cli.command {
        Command::Run(args) => match run(args) {
            Ok(code) => code,
            Err(message) => {
                eprintln!("ipc-conform: error: {message}");
                EXIT_ERROR
            }
        },
    }
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
    if let Some(path) = args.replay {
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let file: ReplayFile =
            serde_json::from_str(&text).map_err(|e| format!("{}: not a replay file: {e}", path.display()))?;
        if catalogue.get(&file.rule).is_none() {
            return Err(format!("{}: unknown rule `{}`", path.display(), file.rule));
        }
        println!("replaying {} from {}", file.rule, path.display());
        let outcome = registry::replay(&file, &cfg)?;
        println!("{}", runner::render(&outcome));
        return Ok(exit_code(&[outcome]));
    }
    let rules = catalogue.select(&args.rules).map_err(|e| e.to_string())?;
    if args.list {
        for rule in &rules {
            let props: Vec<&str> = registry::for_rule(&rule.id).iter().map(|p| p.name).collect();
            println!("{:<34} {}", rule.id, props.join(", "));
        }
        return Ok(EXIT_OK);
    }
    let k = &cfg.constants;
    println!(
        "ipc-conform {}: {} rule(s), seed {:#x}; PIPE_BUF {}, pipe capacity {} (one write into an empty pipe: {})",
        env!("CARGO_PKG_VERSION"),
        rules.len(),
        cfg.seed,
        k.pipe_buf,
        k.pipe_capacity,
        k.pipe_single_write
    );
    let mut outcomes = Vec::new();
    for rule in rules {
        let outcome = registry::check_rule(rule, &cfg);
        println!("{}", summary_line(&outcome));
        if outcome.verdict != Verdict::Pass {
            println!("{}", indent(&runner::render(&outcome)));
        }
        outcomes.push(outcome);
    }
    let mut counts = std::collections::BTreeMap::new();
    for o in &outcomes {
        *counts.entry(o.verdict).or_insert(0) += 1;
    }
    let tally: Vec<String> = counts.iter().map(|(v, n)| format!("{n} {v}")).collect();
    println!("\n{} rule(s): {}", outcomes.len(), tally.join(", "));
    Ok(exit_code(&outcomes))
}

fn summary_line(o: &RuleOutcome) -> String {
    format!(
        "{:<11} {:<34} {:>5} cases  {:>6} ms  blocking evidence: {}",
        o.verdict.as_str().to_uppercase(),
        o.rule,
        o.cases,
        o.duration_ms,
        o.evidence
    )
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
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
