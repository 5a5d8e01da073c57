//! The one error type of the crate.

use std::fmt;

/// A rule file or a selection that is not valid.
///
/// It displays as one line naming the parts that are known, e.g.
/// ``spec/rules/pipe.toml: rule `pipe.read.empty-blocks`: field `statement`: must not be empty``.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    /// The file at fault, as named to the loader.
    pub file: Option<String>,
    /// The rule at fault: its id, or `#n` (1-based position in its file) when
    /// the rule has no valid id.
    pub rule: Option<String>,
    /// The field at fault, as a dotted path inside the rule or the file, e.g.
    /// `statement` or `platforms.macos.reason`.
    pub field: Option<String>,
    /// What is wrong, in one line.
    pub message: String,
}

impl SpecError {
    /// An error with only a message.
    pub(crate) fn msg(message: impl Into<String>) -> SpecError {
        SpecError { file: None, rule: None, field: None, message: message.into() }
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}: ", one_line(file))?;
        }
        if let Some(rule) = &self.rule {
            if rule.starts_with('#') {
                write!(f, "rule {}: ", one_line(rule))?;
            } else {
                write!(f, "rule `{}`: ", one_line(rule))?;
            }
        }
        if let Some(field) = &self.field {
            write!(f, "field `{}`: ", one_line(field))?;
        }
        f.write_str(&one_line(&self.message))
    }
}

impl std::error::Error for SpecError {}

/// `s` with every run of line breaks and other control characters replaced
/// by one space, so that the error stays on one line.
fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_break = false;
    for c in s.chars() {
        if c.is_control() {
            if !in_break {
                out.push(' ');
            }
            in_break = true;
        } else {
            out.push(c);
            in_break = false;
        }
    }
    out
}

/// A user-supplied value shown in a message: in backticks, control
/// characters escaped, and cut after 60 characters.
pub(crate) fn quote(s: &str) -> String {
    const MAX: usize = 60;
    let mut shown: String = s.chars().take(MAX).collect::<String>().escape_debug().collect();
    if s.chars().count() > MAX {
        shown.push('…');
    }
    format!("`{shown}`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_leaves_out_absent_parts() {
        let e = SpecError {
            file: Some("a.toml".into()),
            rule: None,
            field: Some("mechanism".into()),
            message: "missing".into(),
        };
        assert_eq!(e.to_string(), "a.toml: field `mechanism`: missing");
        assert_eq!(SpecError::msg("x").to_string(), "x");
    }

    #[test]
    fn display_names_rule_by_id_or_position() {
        let mut e = SpecError { file: None, rule: Some("pipe.x".into()), field: None, message: "m".into() };
        assert_eq!(e.to_string(), "rule `pipe.x`: m");
        e.rule = Some("#3".into());
        assert_eq!(e.to_string(), "rule #3: m");
    }

    #[test]
    fn display_is_one_line() {
        let e = SpecError {
            file: Some("a\nb".into()),
            rule: Some("r\r\n".into()),
            field: Some("f\t".into()),
            message: "one\n\ntwo".into(),
        };
        assert_eq!(e.to_string(), "a b: rule `r `: field `f `: one two");
    }

    #[test]
    fn quote_escapes_and_cuts() {
        assert_eq!(quote("a\nb"), "`a\\nb`");
        assert_eq!(quote(&"x".repeat(61)), format!("`{}…`", "x".repeat(60)));
    }
}
