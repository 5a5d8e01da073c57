//! `report.md`: for people and for a CI step summary.

use super::Report;
use crate::verdict::Verdict;
use std::fmt::Write;

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn verdict_badge(v: Verdict) -> String {
    match v {
        Verdict::Pass => "pass".into(),
        other => format!("**{other}**"),
    }
}

/// Renders the Markdown report.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let p = &r.platform;
    let _ = writeln!(out, "# ipc-conform report: {} {} ({})\n", p.os, p.kernel, p.arch);
    let counts: Vec<String> = r.summary.iter().filter(|(_, n)| **n > 0).map(|(v, n)| format!("{n} {v}")).collect();
    let _ = writeln!(
        out,
        "{} rules: {}. Started {}, took {:.1} s, seed `{}`.\n",
        r.rules.len(),
        counts.join(", "),
        r.started,
        r.duration_ms as f64 / 1000.0,
        r.seed
    );
    if !p.interface.is_empty() {
        let _ = writeln!(out, "Checked through: {}.\n", cell(&p.interface));
    }
    if let Some(ev) = &p.evidence {
        let _ = writeln!(out, "## Evidence of blocking\n");
        let _ = writeln!(out, "Level in force: **{}** ({}): {}.\n", ev.level, cell(&ev.reason), ev.level.proves());
        let _ = writeln!(out, "| view | usable | what it showed of an actor blocked in read(2) |\n| --- | --- | --- |");
        for v in &ev.views {
            let _ = writeln!(out, "| {} | {} | {} |", v.level, if v.usable { "yes" } else { "no" }, cell(&v.answer));
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "## Platform constants (measured at start)\n");
    let _ = writeln!(out, "| constant | value |\n| --- | --- |");
    if let Ok(serde_json::Value::Object(map)) = serde_json::to_value(&p.constants) {
        for (k, v) in map {
            let _ = writeln!(out, "| {k} | {v} |");
        }
    }
    let mut mechanisms: Vec<&str> = r.rules.iter().map(|e| e.mechanism.as_str()).collect();
    mechanisms.dedup();
    for m in mechanisms {
        let _ = writeln!(out, "\n## {m}\n");
        let _ = writeln!(out, "| rule | statement | verdict | cases | evidence |\n| --- | --- | --- | --- | --- |");
        for e in r.rules.iter().filter(|e| e.mechanism == m) {
            let ev = &e.evidence;
            let evidence = match ev.kind.as_str() {
                "none" => "none".to_string(),
                kind => format!("{kind} ({})", ev.proc + ev.wchan + ev.thread_state + ev.timeout),
            };
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                e.id,
                cell(&e.title),
                verdict_badge(e.verdict),
                e.cases,
                evidence
            );
        }
    }
    let problems: Vec<_> = r.rules.iter().filter(|e| e.verdict != Verdict::Pass).collect();
    if !problems.is_empty() {
        let _ = writeln!(out, "\n## Not passing\n");
        for e in problems {
            let _ = writeln!(out, "### `{}`: {}\n", e.id, e.verdict);
            let _ = writeln!(out, "{}\n", cell(&e.statement));
            if let Some(reason) = &e.reason {
                let _ = writeln!(out, "```text\n{}\n```\n", reason.trim_end());
            }
            if let Some(cx) = &e.counterexample {
                let _ = writeln!(out, "Minimal case:\n\n```text\n{}\n```\n", cx.schedule.join("\n"));
                let _ = writeln!(out, "Observed:\n\n```text\n{}\n```\n", cx.trace.join("\n"));
                if let Some(r) = &cx.reproduced {
                    let _ = writeln!(out, "Reproduced: {r} replays of the minimal case.\n");
                }
                if !cx.replay_trace.is_empty() {
                    let _ = writeln!(
                        out,
                        "A replay that did not reproduce it observed:\n\n```text\n{}\n```\n",
                        cx.replay_trace.join("\n")
                    );
                }
                let _ = writeln!(out, "Replay: `{}`\n", cx.replay_command);
            }
        }
    }
    let stale: Vec<_> = r.rules.iter().filter_map(|e| e.stale_saved.as_ref().map(|s| (e, s))).collect();
    if !stale.is_empty() {
        let _ = writeln!(out, "\n## Stale saved failures\n");
        let _ = writeln!(
            out,
            "Failing cases an earlier run saved, replayed first by this run, that passed: a fixed bug or a flake. \
             Remove the file once the fix is confirmed.\n"
        );
        for (e, s) in stale {
            let _ = writeln!(out, "- `{}`: {} saved case(s) passed (`{}`)", e.id, s.count, s.file);
        }
    }
    let with_entry_points: Vec<_> = r.rules.iter().filter_map(|e| e.entry_points.as_ref().map(|p| (e, p))).collect();
    if !with_entry_points.is_empty() {
        let _ = writeln!(out, "\n## Entry points\n");
        let _ = writeln!(
            out,
            "The functions each rule's cases went through (cases per function), those of its statement no case \
             reached, and those this platform lacks.\n"
        );
        let _ = writeln!(out, "| rule | used (cases) | not reached | lacking here |\n| --- | --- | --- | --- |");
        for (e, p) in with_entry_points {
            let used: Vec<String> = p.used.iter().map(|(name, n)| format!("{name} ({n})")).collect();
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                e.id,
                if used.is_empty() { "-".to_string() } else { used.join(", ") },
                if p.missed.is_empty() { "-".to_string() } else { p.missed.join(", ") },
                if p.lacking.is_empty() { "-".to_string() } else { p.lacking.join(", ") }
            );
        }
    }
    if !r.observations.is_empty() {
        let _ = writeln!(out, "\n## Observations (not verdicts)\n");
        let _ =
            writeln!(out, "| rule | observed | cases | total | per case (min..max) |\n| --- | --- | --- | --- | --- |");
        for o in &r.observations {
            let _ =
                writeln!(out, "| `{}` | {} | {} | {} | {}..{} |", o.rule, cell(&o.name), o.count, o.sum, o.min, o.max);
        }
    }
    out
}

/// Renders `summary.md`, the compact summary for a CI step summary (which
/// GitHub caps at 1 MiB): the platform, the verdict counts, and every rule
/// that did not pass with the first line of its reason and, for a
/// deviation, its replay command.
pub fn render_summary(r: &Report) -> String {
    let mut out = String::new();
    let p = &r.platform;
    let _ = writeln!(
        out,
        "### ipc-conform: {} {} ({})
",
        p.os, p.kernel, p.arch
    );
    let _ = writeln!(out, "| verdict | rules |\n| --- | --- |");
    for (v, n) in r.summary.iter().filter(|(_, n)| **n > 0) {
        let _ = writeln!(out, "| {} | {n} |", verdict_badge(*v));
    }
    let not_passed: Vec<_> = r.rules.iter().filter(|e| e.verdict != Verdict::Pass).collect();
    if not_passed.is_empty() {
        let _ = writeln!(out, "\nEvery one of the {} rules passed.", r.rules.len());
        return out;
    }
    let _ = writeln!(out, "\n| rule | verdict | reason | replay |\n| --- | --- | --- | --- |");
    for e in not_passed {
        let reason = e.reason.as_deref().and_then(|r| r.lines().next()).unwrap_or("");
        let replay = e.counterexample.as_ref().map(|c| format!("`{}`", c.replay_command)).unwrap_or_default();
        let reason = cell(reason).replace('<', "&lt;").replace('>', "&gt;");
        let _ = writeln!(out, "| `{}` | {} | {reason} | {replay} |", e.id, verdict_badge(e.verdict));
    }
    out
}
