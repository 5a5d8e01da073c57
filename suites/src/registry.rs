//! The list of properties and how to run one for a rule, declared
//! platform expectations included.

use ipc_conform_harness::runner::{RuleOutcome, RunConfig};
use ipc_conform_harness::verdict::Verdict;
use ipc_conform_spec::{Catalogue, Expectation, Platform, Rule};

/// A property: the rule it checks, its name, and how to run it.
pub struct Property {
    /// The rule id it checks.
    pub rule: &'static str,
    /// The property's own name (the function that states it).
    pub name: &'static str,
    /// Generates and runs cases.
    pub check: fn(&RunConfig) -> RuleOutcome,
    /// Runs one saved case (a replay file's `case`).
    pub replay: fn(&RunConfig, &serde_json::Value) -> RuleOutcome,
}

/// A property of a mechanism whose properties differ only by the focus of
/// their cases: `check(rule, name, focus, cfg)` and `replay(rule, name,
/// case, cfg)` are the calling module's.
macro_rules! focused {
    ($rule:expr, $name:literal, $focus:expr) => {
        $crate::registry::Property {
            rule: $rule,
            name: $name,
            check: |cfg| check($rule, $name, $focus, cfg),
            replay: |cfg, case| replay($rule, $name, case, cfg),
        }
    };
}
pub(crate) use focused;

/// Every property, by mechanism.
pub static PROPERTIES: &[&[Property]] = &[
    crate::pipe::PROPERTIES,
    crate::socket::PROPERTIES,
    crate::shm::PROPERTIES,
    crate::process::PROPERTIES,
    crate::file::PROPERTIES,
    crate::ready::PROPERTIES,
    crate::ready::SOCKET_PROPERTIES,
    crate::eventfd::PROPERTIES,
    crate::signal::PROPERTIES,
    crate::mqueue::PROPERTIES,
    crate::sysv::PROPERTIES,
    crate::memfd::PROPERTIES,
];

/// Every property, flat.
pub fn all() -> impl Iterator<Item = &'static Property> {
    PROPERTIES.iter().flat_map(|m| m.iter())
}

/// Checks, before anything runs, that properties and catalogue agree:
/// every rule has a property, every property names a rule of the
/// catalogue, and no two properties share a name (a replay file names its
/// property). The error lists every mismatch.
pub fn verify() -> Result<(), String> {
    let mut problems = Vec::new();
    for rule in &catalogue().rules {
        if for_rule(&rule.id).is_empty() {
            problems.push(format!("rule `{}` has no property", rule.id));
        }
    }
    for p in all() {
        if catalogue().get(p.rule).is_none() {
            problems.push(format!("property `{}` names `{}`, which is not a rule of the catalogue", p.name, p.rule));
        }
    }
    let mut names: Vec<&str> = all().map(|p| p.name).collect();
    names.sort_unstable();
    for pair in names.windows(2).filter(|w| w[0] == w[1]) {
        problems.push(format!("two properties are named `{}`", pair[0]));
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(problems.join("; ")),
    }
}

/// The properties that check `rule`.
pub fn for_rule(rule: &str) -> Vec<&'static Property> {
    all().filter(|p| p.rule == rule).collect()
}

/// Checks one rule of the catalogue on this host: `unsupported` without
/// running anything where the spec declares the rule not applicable here;
/// otherwise every property of the rule, the worst verdict winning.
pub fn check_rule(rule: &Rule, cfg: &RunConfig) -> RuleOutcome {
    if let Some(platform) = Platform::current() {
        if let Expectation::NotApplicable { reason } = rule.expectation(platform) {
            return RuleOutcome::without_cases(
                &rule.id,
                "-",
                Verdict::Unsupported,
                format!("not applicable on {platform}: {reason}"),
            );
        }
    }
    let mut cfg = cfg.clone();
    cfg.entry_points = match Platform::current() {
        Some(platform) => rule.entry_points_on(platform).into_iter().map(str::to_string).collect(),
        None => Vec::new(),
    };
    let props = for_rule(&rule.id);
    let mut outcomes: Vec<RuleOutcome> = props.iter().map(|p| guarded(&rule.id, p.name, || (p.check)(&cfg))).collect();
    if outcomes.is_empty() {
        return RuleOutcome::without_cases(&rule.id, "-", Verdict::Error, "no property checks this rule".into());
    }
    outcomes.sort_by_key(|o| std::cmp::Reverse(severity(o.verdict)));
    outcomes.swap_remove(0)
}

/// Runs a property's check, turning a panic outside any case (in drawing
/// the cases, shrinking, or judging the rule as a whole; a case's own
/// panic is already its `error`) into the rule's `error`: the test broke,
/// not the host, and the other rules of the run go on.
fn guarded(rule: &str, name: &str, check: impl FnOnce() -> RuleOutcome) -> RuleOutcome {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)).unwrap_or_else(|payload| {
        let message = ipc_conform_harness::runner::panic_message(payload.as_ref());
        RuleOutcome::without_cases(
            rule,
            name,
            Verdict::Error,
            format!("the property panicked outside any case (drawing, shrinking or judging its cases): {message}"),
        )
    })
}

/// Records every finding against another rule under the rule it breaks:
/// that rule's verdict becomes the finding's where it is worse, with the
/// finding's reason and minimal case. A rule that was not selected for the
/// run gets a row of its own (no cases of its own ran). `checked` is in
/// catalogue order and stays so.
pub fn attribute_findings(checked: &mut Vec<(&Rule, RuleOutcome, Vec<String>)>) {
    let findings: Vec<(String, ipc_conform_harness::runner::Finding)> = checked
        .iter()
        .flat_map(|(rule, outcome, _)| outcome.findings.iter().map(|f| (rule.id.clone(), f.clone())))
        .collect();
    for (found_by, f) in findings {
        let reason = format!("found while checking {found_by} (property {}): {}", f.property, f.reason);
        match checked.iter_mut().find(|(rule, _, _)| rule.id == f.rule) {
            Some((_, outcome, _)) => {
                if severity(f.verdict) > severity(outcome.verdict) {
                    outcome.verdict = f.verdict;
                    outcome.reason = Some(reason);
                    outcome.counterexample = f.counterexample.clone();
                }
            }
            None => {
                let Some(rule) = catalogue().get(&f.rule) else { continue };
                let mut outcome = RuleOutcome::without_cases(&f.rule, &f.property, f.verdict, reason);
                outcome.counterexample = f.counterexample.clone();
                let properties = for_rule(&f.rule).iter().map(|p| p.name.to_string()).collect();
                checked.push((rule, outcome, properties));
            }
        }
    }
    let order: Vec<&str> = catalogue().rules.iter().map(|r| r.id.as_str()).collect();
    checked.sort_by_key(|(rule, _, _)| order.iter().position(|id| *id == rule.id).unwrap_or(usize::MAX));
}

/// Orders verdicts from best to worst for combining.
pub fn severity(v: Verdict) -> u8 {
    match v {
        Verdict::Pass => 0,
        Verdict::Unsupported => 1,
        Verdict::Unresolved => 2,
        Verdict::Hung => 3,
        Verdict::Fail => 4,
        Verdict::Error => 5,
    }
}

/// Reads a replay file's text: its structure, and that its rule exists.
/// Never panics, whatever the text.
pub fn read_replay(text: &str) -> Result<ipc_conform_harness::runner::ReplayFile, String> {
    let file: ipc_conform_harness::runner::ReplayFile =
        serde_json::from_str(text).map_err(|e| format!("not a replay file: {e}"))?;
    if catalogue().get(&file.rule).is_none() {
        return Err(format!("unknown rule `{}`", file.rule));
    }
    Ok(file)
}

/// Replays a saved case for its rule.
pub fn replay(file: &ipc_conform_harness::runner::ReplayFile, cfg: &RunConfig) -> Result<RuleOutcome, String> {
    // The property that found the case (it may check another rule than the
    // one the case breaks), else any property of the rule.
    let prop = all()
        .find(|p| p.name == file.property)
        .or_else(|| all().find(|p| p.rule == file.rule))
        .ok_or_else(|| format!("no property checks rule `{}`", file.rule))?;
    Ok((prop.replay)(cfg, &file.case))
}

/// The rules of the built-in catalogue.
pub fn catalogue() -> &'static Catalogue {
    Catalogue::builtin()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::{Just, Strategy};

    /// A property whose strategy panics while drawing its cases (before any
    /// case runs, so no case's guard sees it) is that rule's `error`, and
    /// the run goes on: it used to unwind through the rule's thread and end
    /// the whole run without a report.
    #[test]
    fn a_panic_while_drawing_cases_is_the_rules_error_not_the_runs_end() {
        let mut cfg = RunConfig::from_env().unwrap();
        cfg.cases = Some(2);
        let out = tempfile::Builder::new().prefix("ipc-conform-test-out-").tempdir().unwrap();
        cfg.out_dir = out.path().to_path_buf();
        let strategy = Just(0u8).prop_map(|_| -> u8 { panic!("a strategy that cannot draw") });
        let rule = ipc_conform_spec::ids::PIPE_STREAM_ORDER;
        let outcome = guarded(rule, "drawing_panics", || {
            ipc_conform_harness::runner::check(
                rule,
                "drawing_panics",
                strategy,
                |_: &u8| -> ipc_conform_harness::case::CaseReport<String> { unreachable!("no case is drawn") },
                &cfg,
            )
        });
        assert_eq!(outcome.verdict, Verdict::Error, "{outcome:?}");
        let reason = outcome.reason.unwrap_or_default();
        assert!(reason.contains("a strategy that cannot draw") && reason.contains("outside any case"), "{reason}");
    }
}
