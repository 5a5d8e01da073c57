//! Reading and validating rule files by hand from `toml::Table`, so that
//! every failure names its file, rule and field.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;

use toml::{Table, Value};

use crate::error::quote;
use crate::select::closest;
use crate::{Catalogue, Expectation, Mechanism, Platform, Rule, Source, SpecError};

/// The section headings of the seed text that a rule's `seed` may name.
const SEED_SECTIONS: [&str; 7] = [
    "Why IPC Is Needed",
    "Pipes",
    "Pipe Blocking Behavior",
    "Sockets",
    "Shared Memory",
    "Files as IPC",
    "Core Mental Model",
];

/// The keys a `[[rule]]` table may have.
const RULE_KEYS: [&str; 7] = ["id", "title", "statement", "seed", "refs", "entry_points", "platforms"];

/// The keys a file's top-level table may have.
const FILE_KEYS: [&str; 2] = ["mechanism", "rule"];

/// The keys a `[rule.platforms.<platform>]` table may have.
const PLATFORM_KEYS: [&str; 5] = ["expect", "reason", "note", "allow", "lacks"];

/// See [`Catalogue::load_dir`].
pub(crate) fn load_dir(dir: &Path) -> Result<Catalogue, SpecError> {
    let dir_err = |message: String| SpecError { file: Some(dir.display().to_string()), ..SpecError::msg(message) };
    let entries = fs::read_dir(dir).map_err(|e| dir_err(format!("cannot read the directory: {e}")))?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| dir_err(format!("cannot read the directory: {e}")))?;
        let path = entry.path();
        if path.extension().is_some_and(|x| x == "toml") && path.is_file() {
            paths.push(path);
        }
    }
    if paths.is_empty() {
        return Err(dir_err("holds no `*.toml` rule files".to_string()));
    }
    paths.sort_by(|a, b| a.file_name().cmp(&b.file_name()));

    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let name = path.display().to_string();
        let file_err = |message: String| SpecError { file: Some(name.clone()), ..SpecError::msg(message) };
        let bytes = fs::read(&path).map_err(|e| file_err(format!("cannot read the file: {e}")))?;
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let prefix = String::from_utf8_lossy(&e.as_bytes()[..valid]);
                let (line, col) = line_col(&prefix, valid);
                return Err(file_err(format!("not valid UTF-8 at {line}:{col}")));
            }
        };
        files.push((name, text));
    }
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    parse_files(&borrowed)
}

/// See [`Catalogue::parse`].
pub(crate) fn parse_files(files: &[(&str, &str)]) -> Result<Catalogue, SpecError> {
    // id -> (file, 1-based position in that file), for duplicate detection.
    let mut seen: HashMap<String, (String, usize)> = HashMap::new();
    let mut parsed: Vec<(Mechanism, Vec<Rule>)> = Vec::with_capacity(files.len());
    for &(name, text) in files {
        let (mechanism, rules) = parse_file(name, text)?;
        for (i, rule) in rules.iter().enumerate() {
            if let Some((other_file, other_pos)) = seen.get(&rule.id) {
                let message = if other_file == name {
                    format!("duplicate id: rule #{other_pos} of this file has it too")
                } else {
                    format!("duplicate id: already defined in {other_file}")
                };
                return Err(SpecError {
                    file: Some(name.to_string()),
                    rule: Some(rule.id.clone()),
                    field: Some("id".to_string()),
                    message,
                });
            }
            seen.insert(rule.id.clone(), (name.to_string(), i + 1));
        }
        parsed.push((mechanism, rules));
    }
    parsed.sort_by_key(|(m, _)| *m);
    Ok(Catalogue { rules: parsed.into_iter().flat_map(|(_, rules)| rules).collect() })
}

/// Parses and validates one rule file.
fn parse_file(name: &str, text: &str) -> Result<(Mechanism, Vec<Rule>), SpecError> {
    let file_err = |field: Option<&str>, message: String| SpecError {
        file: Some(name.to_string()),
        rule: None,
        field: field.map(str::to_string),
        message,
    };

    let table: Table = text.parse().map_err(|e: toml::de::Error| {
        let message = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
        match e.span() {
            Some(span) => {
                let (line, col) = line_col(text, span.start);
                file_err(None, format!("TOML syntax error at {line}:{col}: {message}"))
            }
            None => file_err(None, format!("TOML syntax error: {message}")),
        }
    })?;

    let mechanism = match table.get("mechanism") {
        None => {
            return Err(file_err(
                Some("mechanism"),
                "missing; a rule file starts with `mechanism = \"<name>\"`".to_string(),
            ))
        }
        Some(Value::String(s)) => s.parse::<Mechanism>().map_err(|e| file_err(Some("mechanism"), e.message))?,
        Some(v) => return Err(file_err(Some("mechanism"), must_be("a string", v))),
    };
    let stem = Path::new(name).file_stem().and_then(|s| s.to_str()).unwrap_or("");
    if stem != mechanism.as_str() {
        return Err(file_err(
            Some("mechanism"),
            format!(
                "`{mechanism}` does not match the file name: the rules of mechanism `{mechanism}` belong in `{mechanism}.toml`"
            ),
        ));
    }
    if let Some(key) = table.keys().find(|k| !FILE_KEYS.contains(&k.as_str())) {
        return Err(file_err(Some(key), unknown_key(key, &FILE_KEYS)));
    }

    let entries = match table.get("rule") {
        None => return Err(file_err(Some("rule"), "missing; a rule file holds at least one `[[rule]]`".to_string())),
        Some(Value::Array(a)) if a.is_empty() => {
            return Err(file_err(Some("rule"), "empty; a rule file holds at least one `[[rule]]`".to_string()))
        }
        Some(Value::Array(a)) => a,
        Some(v) => return Err(file_err(Some("rule"), must_be("an array of tables (`[[rule]]`)", v))),
    };

    let mut rules = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let ctx = RuleCtx { file: name, rule: format!("#{}", i + 1) };
        match entry {
            Value::Table(t) => rules.push(parse_rule(ctx, mechanism, t)?),
            v => return Err(ctx.err(None, must_be("a table (`[[rule]]`)", v))),
        }
    }
    Ok((mechanism, rules))
}

/// Which rule of which file is being read, for errors.
struct RuleCtx<'a> {
    file: &'a str,
    /// The rule's id once known to be valid, before that `#n`.
    rule: String,
}

impl RuleCtx<'_> {
    fn err(&self, field: Option<&str>, message: impl Into<String>) -> SpecError {
        SpecError {
            file: Some(self.file.to_string()),
            rule: Some(self.rule.clone()),
            field: field.map(str::to_string),
            message: message.into(),
        }
    }

    /// The non-empty string at `key` of `t`, trimmed; `field` names it.
    fn string(&self, t: &Table, key: &str, field: &str) -> Result<String, SpecError> {
        match t.get(key) {
            None => Err(self.err(Some(field), "missing")),
            Some(Value::String(s)) if s.trim().is_empty() => Err(self.err(Some(field), "must not be empty")),
            Some(Value::String(s)) => Ok(s.trim().to_string()),
            Some(v) => Err(self.err(Some(field), must_be("a string", v))),
        }
    }
}

fn parse_rule(mut ctx: RuleCtx<'_>, mechanism: Mechanism, t: &Table) -> Result<Rule, SpecError> {
    let id = ctx.string(t, "id", "id")?;
    if !valid_id(&id) {
        return Err(ctx.err(
            Some("id"),
            format!(
                "{} is not a valid id: it must be dot-separated words of a-z, 0-9 and '-', e.g. `pipe.read.empty-blocks`",
                quote(&id)
            ),
        ));
    }
    if id.split('.').next() != Some(mechanism.as_str()) {
        return Err(ctx.err(
            Some("id"),
            format!("{} must start with `{mechanism}.` in the rules of mechanism `{mechanism}`", quote(&id)),
        ));
    }
    ctx.rule = id.clone();

    if let Some(key) = t.keys().find(|k| !RULE_KEYS.contains(&k.as_str())) {
        return Err(ctx.err(Some(key), unknown_key(key, &RULE_KEYS)));
    }

    let title = ctx.string(t, "title", "title")?;
    if title.contains(['\n', '\r']) {
        return Err(ctx.err(Some("title"), "must be one line"));
    }
    let statement = ctx.string(t, "statement", "statement")?;

    let seed = ctx.string(t, "seed", "seed")?;
    if !SEED_SECTIONS.contains(&seed.as_str()) {
        return Err(ctx.err(
            Some("seed"),
            format!(
                "{} is not a section of the seed text; expected one of: {}",
                quote(&seed),
                SEED_SECTIONS.join(", ")
            ),
        ));
    }

    let refs = match t.get("refs") {
        None => return Err(ctx.err(Some("refs"), "missing; give at least one POSIX or man-page reference")),
        Some(Value::Array(a)) if a.is_empty() => {
            return Err(ctx.err(Some("refs"), "must not be empty; give at least one POSIX or man-page reference"))
        }
        Some(Value::Array(a)) => {
            let mut refs = Vec::with_capacity(a.len());
            for (i, v) in a.iter().enumerate() {
                match v {
                    Value::String(s) if s.trim().is_empty() => {
                        return Err(ctx.err(Some("refs"), format!("entry {} must not be empty", i + 1)))
                    }
                    Value::String(s) => refs.push(s.trim().to_string()),
                    v => return Err(ctx.err(Some("refs"), format!("entry {} {}", i + 1, must_be("a string", v)))),
                }
            }
            refs
        }
        Some(v) => return Err(ctx.err(Some("refs"), must_be("an array of strings", v))),
    };

    let entry_points = match t.get("entry_points") {
        None => Vec::new(),
        Some(v) => names(&ctx, v, "entry_points", crate::ENTRY_POINTS)?,
    };
    let platforms = parse_platforms(&ctx, t, &entry_points)?;

    Ok(Rule {
        id,
        mechanism,
        title,
        statement,
        source: Source { seed, refs },
        platforms,
        file: ctx.file.to_string(),
        entry_points,
    })
}

fn parse_platforms(
    ctx: &RuleCtx<'_>,
    t: &Table,
    entry_points: &[String],
) -> Result<BTreeMap<Platform, Expectation>, SpecError> {
    let table = match t.get("platforms") {
        None => return Err(ctx.err(Some("platforms"), "missing; every rule states its expectation on linux and macos")),
        Some(Value::Table(table)) => table,
        Some(v) => return Err(ctx.err(Some("platforms"), must_be("a table", v))),
    };
    let mut platforms = BTreeMap::new();
    for (key, value) in table {
        let field = format!("platforms.{key}");
        let platform: Platform = key.parse().map_err(|e: SpecError| ctx.err(Some(&field), e.message))?;
        let pt = match value {
            Value::Table(pt) => pt,
            v => return Err(ctx.err(Some(&field), must_be("a table", v))),
        };
        if let Some(k) = pt.keys().find(|k| !PLATFORM_KEYS.contains(&k.as_str())) {
            return Err(ctx.err(Some(&format!("{field}.{k}")), unknown_key(k, &PLATFORM_KEYS)));
        }
        let expect = ctx.string(pt, "expect", &format!("{field}.expect"))?;
        let optional = |k: &str| -> Result<Option<String>, SpecError> {
            match pt.get(k) {
                None => Ok(None),
                Some(_) => ctx.string(pt, k, &format!("{field}.{k}")).map(Some),
            }
        };
        let expectation = match expect.as_str() {
            "holds" => {
                if pt.contains_key("reason") {
                    return Err(ctx.err(
                        Some(&format!("{field}.reason")),
                        "not allowed with expect = \"holds\" (use `note` for a platform difference)",
                    ));
                }
                let note = optional("note")?;
                let allow = parse_allow(ctx, pt, &field)?;
                if !allow.is_empty() && note.is_none() {
                    return Err(ctx.err(
                        Some(&format!("{field}.note")),
                        "missing; required with `allow` (say what the platform does and why it is allowed)",
                    ));
                }
                let lacks_field = format!("{field}.lacks");
                let lacks = match pt.get("lacks") {
                    None => Vec::new(),
                    Some(v) => {
                        let known: Vec<&str> = entry_points.iter().map(String::as_str).collect();
                        names(ctx, v, &lacks_field, &known).map_err(|mut e| {
                            if known.is_empty() {
                                e.message = "the rule names no `entry_points` for a platform to lack".into();
                            }
                            e
                        })?
                    }
                };
                if !lacks.is_empty() && note.is_none() {
                    return Err(ctx.err(
                        Some(&format!("{field}.note")),
                        "missing; required with `lacks` (say what the platform lacks and where that is documented)",
                    ));
                }
                Expectation::Holds { note, allow, lacks }
            }
            "not-applicable" => match optional("reason")? {
                Some(reason) => {
                    if pt.contains_key("allow") {
                        return Err(ctx.err(
                            Some(&format!("{field}.allow")),
                            "not allowed with expect = \"not-applicable\" (nothing is checked there)",
                        ));
                    }
                    if pt.contains_key("note") {
                        return Err(ctx.err(
                            Some(&format!("{field}.note")),
                            "not allowed with expect = \"not-applicable\" (the `reason` says it all)",
                        ));
                    }
                    Expectation::NotApplicable { reason }
                }
                None => {
                    return Err(
                        ctx.err(Some(&format!("{field}.reason")), "missing; required with expect = \"not-applicable\"")
                    )
                }
            },
            other => {
                return Err(ctx.err(
                    Some(&format!("{field}.expect")),
                    format!("{} is not an expectation; expected `holds` or `not-applicable`", quote(other)),
                ))
            }
        };
        platforms.insert(platform, expectation);
    }
    if let Some(p) = Platform::ALL.into_iter().find(|p| !platforms.contains_key(p)) {
        return Err(
            ctx.err(Some(&format!("platforms.{p}")), "missing; every rule states its expectation on linux and macos")
        );
    }
    Ok(platforms)
}

/// The `allow` list of one platform entry: known allowances, each naming
/// this rule.
fn parse_allow(ctx: &RuleCtx<'_>, pt: &Table, field: &str) -> Result<Vec<crate::Allowance>, SpecError> {
    let field = format!("{field}.allow");
    let items = match pt.get("allow") {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(v) => return Err(ctx.err(Some(&field), must_be("an array of allowance names", v))),
    };
    let mut out = Vec::new();
    for item in items {
        let Value::String(name) = item else {
            return Err(ctx.err(Some(&field), must_be("an array of allowance names", item)));
        };
        let allowance: crate::Allowance = name.parse().map_err(|e: SpecError| ctx.err(Some(&field), e.message))?;
        if allowance.rule() != ctx.rule {
            return Err(ctx.err(
                Some(&field),
                format!("{} belongs to rule `{}`, not to this one", quote(name), allowance.rule()),
            ));
        }
        out.push(allowance);
    }
    Ok(out)
}

/// An array of distinct names, each one of `known` (an unknown one gets a
/// suggestion).
fn names(ctx: &RuleCtx<'_>, v: &Value, field: &str, known: &[&str]) -> Result<Vec<String>, SpecError> {
    let Value::Array(items) = v else {
        return Err(ctx.err(Some(field), must_be("an array of entry-point names", v)));
    };
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let Value::String(name) = item else {
            return Err(ctx.err(Some(field), must_be("an array of entry-point names", item)));
        };
        if !known.contains(&name.as_str()) {
            let hint = match closest(name, known.iter().copied(), 1).first() {
                Some(near) => format!("did you mean `{near}`?"),
                None => {
                    format!("expected one of {}", known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "))
                }
            };
            return Err(ctx.err(Some(field), format!("{} is not a known entry point ({hint})", quote(name))));
        }
        if out.contains(name) {
            return Err(ctx.err(Some(field), format!("{} is named twice", quote(name))));
        }
        out.push(name.clone());
    }
    Ok(out)
}

/// `^[a-z0-9-]+(\.[a-z0-9-]+)+$`.
fn valid_id(id: &str) -> bool {
    let mut segments = 0;
    for segment in id.split('.') {
        if segment.is_empty() || !segment.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return false;
        }
        segments += 1;
    }
    segments >= 2
}

/// "must be X, found Y".
fn must_be(what: &str, found: &Value) -> String {
    format!("must be {what}, found {}", found.type_str())
}

/// The message for an unknown key, suggesting the closest allowed one.
fn unknown_key(key: &str, allowed: &[&str]) -> String {
    match closest(key, allowed.iter().copied(), 1).first() {
        Some(near) => format!("unknown key (did you mean `{near}`?)"),
        None => format!(
            "unknown key; expected one of {}",
            allowed.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`;
/// an offset past the end or inside a character is moved back to a
/// character boundary.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let text = "ab\ncdé\nf";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 2), (1, 3));
        assert_eq!(line_col(text, 3), (2, 1));
        // 'é' is two bytes: offset 6 is inside it, 7 is after it.
        assert_eq!(line_col(text, 6), (2, 3));
        assert_eq!(line_col(text, 7), (2, 4));
        assert_eq!(line_col(text, 100), (3, 2));
    }

    #[test]
    fn id_syntax() {
        for ok in ["pipe.read", "pipe.read.empty-blocks", "a.b.c-1", "shm.0"] {
            assert!(valid_id(ok), "{ok}");
        }
        for bad in ["pipe", "Pipe.read", "pipe..read", "pipe.read.", ".pipe.read", "pipe.read_x", "pipe. read", ""] {
            assert!(!valid_id(bad), "{bad}");
        }
    }
}
