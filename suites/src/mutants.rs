//! Detection power: the catalogue run under the deviant OS layer, one
//! deviation at a time. Every deviation must be caught (a `fail` or `hung`
//! verdict of the rule it names, or `unresolved` where the deviation
//! defeats the rule's premise and its positive control must notice), and
//! the unmodified OS layer must show no failure for the same rules, or the
//! figures mean nothing.

use crate::registry;
use ipc_conform_harness::os::deviant::{self, Deviation};
use ipc_conform_harness::runner::RunConfig;
use ipc_conform_harness::verdict::Verdict;
use ipc_conform_spec::Platform;
use std::fmt::Write;

/// One deviation checked by one rule.
#[derive(Clone, Debug)]
pub struct Row {
    /// The deviation.
    pub deviation: Deviation,
    /// The rule that should catch it.
    pub rule: String,
    /// The rule's verdict under the deviation.
    pub verdict: Verdict,
    /// The verdict's reason, first line.
    pub reason: String,
    /// Whether the rule applies on this platform (the catalogue's
    /// expectation); a row where it does not is shown, not counted.
    pub applicable: bool,
}

impl Row {
    /// Whether the rule caught the deviation: its own `fail` (confirmed)
    /// or `hung`; for a deviation that defeats the rule's premise, its
    /// `unresolved` (the positive control noticed).
    pub fn caught(&self) -> bool {
        if self.deviation.wants_unresolved() {
            return self.verdict == Verdict::Unresolved;
        }
        matches!(self.verdict, Verdict::Fail | Verdict::Hung)
    }
}

/// The outcome of a mutants run.
#[derive(Clone, Debug, Default)]
pub struct Mutants {
    /// One row per deviation and rule.
    pub rows: Vec<Row>,
    /// The same rules on the unmodified OS layer.
    pub baseline: Vec<(String, Verdict, String)>,
}

impl Mutants {
    /// Every deviation caught, and the unmodified layer clean.
    pub fn ok(&self) -> bool {
        self.rows.iter().filter(|r| r.applicable).all(Row::caught) && self.baseline.iter().all(|(_, v, _)| v.is_ok())
    }

    /// The table people read.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{:<28} {:<32} {:<10} caught", "deviation", "rule", "verdict");
        for r in &self.rows {
            let _ = writeln!(
                out,
                "{:<28} {:<32} {:<10} {}",
                r.deviation.name(),
                r.rule,
                r.verdict.as_str(),
                if !r.applicable {
                    "n/a (the rule does not apply here)"
                } else if r.caught() {
                    "yes"
                } else {
                    "NO"
                }
            );
        }
        let counted: Vec<&Row> = self.rows.iter().filter(|r| r.applicable).collect();
        let caught = counted.iter().filter(|r| r.caught()).count();
        let _ = write!(out, "\n{caught} of {} deviations caught by their rule", counted.len());
        let skipped = self.rows.len() - counted.len();
        let _ = match skipped {
            0 => writeln!(out),
            n => writeln!(out, " ({n} more whose rule does not apply on this platform)"),
        };
        let clean = self.baseline.iter().filter(|(_, v, _)| v.is_ok()).count();
        let _ = writeln!(out, "unmodified OS layer: {clean} of {} rules pass", self.baseline.len());
        for (rule, verdict, reason) in self.baseline.iter().filter(|(_, v, _)| !v.is_ok()) {
            let _ = writeln!(out, "  {rule}: {verdict}: {reason}");
        }
        out
    }
}

/// Whether `rule` applies on `platform` (an unknown platform: it does).
pub fn applies(rule: &ipc_conform_spec::Rule, platform: Option<Platform>) -> bool {
    platform.is_none_or(|p| !matches!(rule.expectation(p), ipc_conform_spec::Expectation::NotApplicable { .. }))
}

fn first_line(reason: &Option<String>) -> String {
    reason.as_deref().and_then(|r| r.lines().next()).unwrap_or("").to_string()
}

/// Runs each deviation against the rules it names, then those rules on
/// the unmodified OS layer. `cfg` should allow few shrink steps: only the
/// verdict matters here.
pub fn run(deviations: &[Deviation], cfg: &RunConfig, mut each: impl FnMut(&Row)) -> Result<Mutants, String> {
    let catalogue = registry::catalogue();
    let mut result = Mutants::default();
    let mut rules: Vec<&str> = Vec::new();
    for &d in deviations {
        for &id in d.rules() {
            let rule = catalogue.get(id).ok_or_else(|| format!("deviation {} names unknown rule {id}", d.name()))?;
            if !applies(rule, Platform::current()) {
                let reason = "not applicable on this platform".to_string();
                let row = Row {
                    deviation: d,
                    rule: id.to_string(),
                    verdict: Verdict::Unsupported,
                    reason,
                    applicable: false,
                };
                each(&row);
                result.rows.push(row);
                continue;
            }
            let mut dcfg = cfg.clone();
            dcfg.out_dir = cfg.out_dir.join("mutants").join(d.name());
            deviant::set_for_children(Some(d));
            let outcome = registry::check_rule(rule, &dcfg);
            deviant::set_for_children(None);
            let row = Row {
                deviation: d,
                rule: id.to_string(),
                verdict: outcome.verdict,
                reason: first_line(&outcome.reason),
                applicable: true,
            };
            each(&row);
            result.rows.push(row);
            if !rules.contains(&id) {
                rules.push(id);
            }
        }
    }
    let mut bcfg = cfg.clone();
    bcfg.out_dir = cfg.out_dir.join("mutants").join("baseline");
    for id in rules {
        let rule = catalogue.get(id).ok_or_else(|| format!("unknown rule {id}"))?;
        let outcome = registry::check_rule(rule, &bcfg);
        result.baseline.push((id.to_string(), outcome.verdict, first_line(&outcome.reason)));
    }
    Ok(result)
}
