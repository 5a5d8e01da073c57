//! Verdicts: what a rule's check concludes on this host.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The verdict of one rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every case behaved as the rule says.
    Pass,
    /// A case deviated; a minimal schedule shows how.
    Fail,
    /// An operation that had to complete did not within the deadline.
    Hung,
    /// The platform does not offer the mechanism, as the spec declares.
    Unsupported,
    /// No evidence either way.
    Unresolved,
    /// The harness itself broke: says nothing about the host.
    Error,
}

impl Verdict {
    /// Every verdict, in report order.
    pub const ALL: [Verdict; 6] =
        [Verdict::Pass, Verdict::Fail, Verdict::Hung, Verdict::Unsupported, Verdict::Unresolved, Verdict::Error];

    /// The report's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Hung => "hung",
            Verdict::Unsupported => "unsupported",
            Verdict::Unresolved => "unresolved",
            Verdict::Error => "error",
        }
    }

    /// Whether this verdict lets a run succeed.
    pub fn is_ok(self) -> bool {
        matches!(self, Verdict::Pass | Verdict::Unsupported)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
