//! The engine's time limits. None of them decides a verdict on its own: the
//! liveness deadline turns a missing return into `hung`, and the bounded
//! wait is the (declared) fallback where the kernel shows no wait state.

use std::time::Duration;

/// Environment variable that scales every limit (a positive number; `2`
/// doubles them for slow or loaded machines).
pub const SCALE_ENV: &str = "IPC_CONFORM_TIMEOUT_SCALE";

/// The limits in force.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timing {
    /// How long an operation that must complete may take before the
    /// verdict is `hung`.
    pub deadline: Duration,
    /// Where no kernel view exists: how long an operation must stay without
    /// a return to be taken as blocked (evidence kind `timeout`).
    pub bounded_wait: Duration,
}

impl Timing {
    /// Base liveness deadline before scaling.
    pub const BASE_DEADLINE: Duration = Duration::from_secs(10);
    /// Base bounded wait before scaling.
    pub const BASE_BOUNDED_WAIT: Duration = Duration::from_millis(200);

    /// The limits scaled by `scale`.
    pub fn scaled(scale: f64) -> Timing {
        Timing { deadline: Self::BASE_DEADLINE.mul_f64(scale), bounded_wait: Self::BASE_BOUNDED_WAIT.mul_f64(scale) }
    }

    /// The limits from [`SCALE_ENV`], or an error naming the variable and
    /// the bad value.
    pub fn from_env() -> Result<Timing, String> {
        match std::env::var(SCALE_ENV) {
            Err(std::env::VarError::NotPresent) => Ok(Timing::scaled(1.0)),
            Err(std::env::VarError::NotUnicode(_)) => Err(format!("{SCALE_ENV}: not valid UTF-8")),
            Ok(text) => parse_scale(&text).map(Timing::scaled),
        }
    }
}

impl Default for Timing {
    fn default() -> Self {
        Timing::scaled(1.0)
    }
}

/// Parses a scale factor: a finite number from 0.01 to 1000.
pub fn parse_scale(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && (0.01..=1000.0).contains(&x) => Ok(x),
        _ => Err(format!("{SCALE_ENV}={text:?}: expected a number from 0.01 to 1000")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_accepts_numbers_and_rejects_garbage() {
        assert_eq!(parse_scale("2"), Ok(2.0));
        assert!(parse_scale("0").is_err());
        assert!(parse_scale("fast").unwrap_err().contains(SCALE_ENV));
        assert_eq!(Timing::scaled(2.0).deadline, Duration::from_secs(20));
    }
}
