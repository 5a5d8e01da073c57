//! `report.xml`: JUnit, one test case per rule, so that CI systems show
//! rules as tests.

use super::Report;
use crate::verdict::Verdict;
use std::fmt::Write;

/// Escapes text for XML attributes and content.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => out.push_str(&format!("&#x{:x};", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Renders the JUnit XML report.
pub fn render(r: &Report) -> String {
    let count = |pred: fn(Verdict) -> bool| r.rules.iter().filter(|e| pred(e.verdict)).count();
    let failures = count(|v| matches!(v, Verdict::Fail | Verdict::Hung | Verdict::Unresolved));
    let errors = count(|v| v == Verdict::Error);
    let skipped = count(|v| v == Verdict::Unsupported);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let name = format!("ipc-conform {} {} {}", r.platform.os, r.platform.kernel, r.platform.arch);
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{:.3}\">",
        xml(&name),
        r.rules.len(),
        r.duration_ms as f64 / 1000.0
    );
    let mut mechanisms: Vec<&str> = r.rules.iter().map(|e| e.mechanism.as_str()).collect();
    mechanisms.dedup();
    for m in mechanisms {
        let cases: Vec<_> = r.rules.iter().filter(|e| e.mechanism == m).collect();
        let _ = writeln!(out, "  <testsuite name=\"{}\" tests=\"{}\">", xml(m), cases.len());
        for e in cases {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                xml(m),
                xml(&e.id),
                e.duration_ms as f64 / 1000.0
            );
            let reason = e.reason.clone().unwrap_or_default();
            let mut body = reason.clone();
            if let Some(cx) = &e.counterexample {
                let reproduced = cx.reproduced.map(|r| format!("\n\nreproduced: {r}")).unwrap_or_default();
                body.push_str(&format!(
                    "\n\nminimal case:\n{}{reproduced}\n\nreplay: {}",
                    cx.schedule.join("\n"),
                    cx.replay_command
                ));
            }
            let first = reason.lines().next().unwrap_or_default();
            match e.verdict {
                Verdict::Pass => out.push_str("/>\n"),
                Verdict::Unsupported => {
                    let _ = writeln!(out, ">\n      <skipped message=\"{}\"/>\n    </testcase>", xml(first));
                }
                Verdict::Error => {
                    let _ = writeln!(
                        out,
                        ">\n      <error type=\"harness\" message=\"{}\">{}</error>\n    </testcase>",
                        xml(first),
                        xml(&body)
                    );
                }
                v => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure type=\"{v}\" message=\"{}\">{}</failure>\n    </testcase>",
                        xml(first),
                        xml(&body)
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::xml;

    #[test]
    fn xml_escapes_markup_and_control_characters() {
        assert_eq!(xml("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;&#x1;");
    }
}
