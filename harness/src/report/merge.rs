//! The platform matrix: several reports (one per platform) merged into one
//! table of rule by platform, with the platform constants side by side.

use super::Report;
use std::collections::BTreeSet;
use std::fmt::Write;

/// Renders the matrix as Markdown. Rules are listed in the order they first
/// appear; a rule a report does not contain shows `-`.
pub fn merge_markdown(reports: &[Report]) -> String {
    let mut out = String::from("# ipc-conform: platform matrix\n\n");
    let heads: Vec<String> =
        reports.iter().map(|r| format!("{} {} ({})", r.platform.os, r.platform.kernel, r.platform.arch)).collect();
    let _ = writeln!(out, "| rule | {} |", heads.join(" | "));
    let _ = writeln!(out, "| --- |{}", " --- |".repeat(reports.len()));
    let mut seen = BTreeSet::new();
    let ids: Vec<&str> = reports
        .iter()
        .flat_map(|r| r.rules.iter().map(|e| e.id.as_str()))
        .filter(|id| seen.insert(id.to_string()))
        .collect();
    for id in ids {
        let cells: Vec<String> = reports
            .iter()
            .map(|r| match r.rules.iter().find(|e| e.id == id) {
                Some(e) if e.verdict == crate::verdict::Verdict::Pass => "pass".to_string(),
                Some(e) => format!("**{}**", e.verdict),
                None => "-".to_string(),
            })
            .collect();
        let _ = writeln!(out, "| `{id}` | {} |", cells.join(" | "));
    }
    let _ = writeln!(out, "\n## Platform constants\n");
    let _ = writeln!(out, "| constant | {} |", heads.join(" | "));
    let _ = writeln!(out, "| --- |{}", " --- |".repeat(reports.len()));
    let values: Vec<serde_json::Map<String, serde_json::Value>> = reports
        .iter()
        .map(|r| match serde_json::to_value(&r.platform.constants) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        })
        .collect();
    let mut names = BTreeSet::new();
    for v in &values {
        names.extend(v.keys().cloned());
    }
    for name in names {
        let cells: Vec<String> =
            values.iter().map(|v| v.get(&name).map_or("-".to_string(), |x| x.to_string())).collect();
        let _ = writeln!(out, "| {name} | {} |", cells.join(" | "));
    }
    let _ = writeln!(out, "\n## Summary\n");
    for (head, r) in heads.iter().zip(reports) {
        let counts: Vec<String> = r.summary.iter().filter(|(_, n)| **n > 0).map(|(v, n)| format!("{n} {v}")).collect();
        let _ = writeln!(out, "- {head}: {}", counts.join(", "));
    }
    out
}
