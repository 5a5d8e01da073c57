//! `report.xml`: JUnit, one test case per rule in one test suite per
//! mechanism, so that CI systems show rules as tests. Written with
//! `quick-junit` (the writer cargo-nextest uses), which escapes and counts.

use super::Report;
use crate::verdict::Verdict;
use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
use std::time::Duration;

/// Renders the JUnit XML report.
pub fn render(r: &Report) -> String {
    let name = format!("ipc-conform {} {} {}", r.platform.os, r.platform.kernel, r.platform.arch);
    let mut report = quick_junit::Report::new(name);
    report.set_time(Duration::from_millis(r.duration_ms));
    let mut mechanisms: Vec<&str> = r.rules.iter().map(|e| e.mechanism.as_str()).collect();
    mechanisms.dedup();
    for m in mechanisms {
        let mut suite = TestSuite::new(m);
        for e in r.rules.iter().filter(|e| e.mechanism == m) {
            let reason = e.reason.clone().unwrap_or_default();
            let first = reason.lines().next().unwrap_or_default().to_string();
            let mut body = reason.clone();
            if let Some(cx) = &e.counterexample {
                let reproduced = cx.reproduced.map(|r| format!("\n\nreproduced: {r}")).unwrap_or_default();
                body.push_str(&format!(
                    "\n\nminimal case:\n{}{reproduced}\n\nreplay: {}",
                    cx.schedule.join("\n"),
                    cx.replay_command
                ));
            }
            let status = match e.verdict {
                Verdict::Pass => TestCaseStatus::success(),
                Verdict::Unsupported => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(first);
                    s
                }
                v => {
                    let (kind, ty) = match v {
                        Verdict::Error => (NonSuccessKind::Error, "harness".to_string()),
                        v => (NonSuccessKind::Failure, v.to_string()),
                    };
                    let mut s = TestCaseStatus::non_success(kind);
                    s.set_type(ty).set_message(first).set_description(body);
                    s
                }
            };
            let mut case = TestCase::new(e.id.as_str(), status);
            case.set_classname(m).set_time(Duration::from_millis(e.duration_ms));
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.to_string().unwrap_or_else(|e| format!("<!-- the JUnit report could not be written: {e} -->\n"))
}
