//! The conformance suite as `cargo test`: one test per rule of the
//! catalogue, named by the rule id (`cargo test pipe.` runs the pipe
//! rules). A test passes when its rule passes or is declared unsupported
//! on this platform; otherwise it fails with the verdict, the reason and,
//! for a deviation, the minimal case and its replay command. The test's
//! name is the rule id and nothing else, so nextest's filters
//! (`-E 'test(=pipe.read.empty-blocks)'`) and JUnit name the rule
//! (`ci/nextest-check.sh`).

use ipc_conform::registry;
use ipc_conform_harness::runner::{self, RunConfig};
use libtest_mimic::{Arguments, Failed, Trial};
use std::sync::OnceLock;

fn config() -> Result<&'static RunConfig, String> {
    static CFG: OnceLock<Result<RunConfig, String>> = OnceLock::new();
    CFG.get_or_init(RunConfig::from_env).as_ref().map_err(Clone::clone)
}

fn main() {
    ipc_conform::enter_role();
    if let Err(e) = registry::verify() {
        eprintln!("the registry of properties does not match the catalogue: {e}");
        std::process::exit(101);
    }
    let args = Arguments::from_args();
    let trials = registry::catalogue()
        .rules
        .iter()
        .map(|rule| {
            Trial::test(rule.id.clone(), move || {
                let cfg = config().map_err(Failed::from)?;
                let outcome = registry::check_rule(rule, cfg);
                let text = runner::render(&outcome);
                if outcome.verdict.is_ok() {
                    // The verdict line, then what was measured (observations).
                    println!("{text}");
                    Ok(())
                } else {
                    Err(Failed::from(text))
                }
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
