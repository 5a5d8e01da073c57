//! Selecting rules by id, prefix, glob or mechanism, with suggestions for
//! patterns that match nothing.

use crate::error::quote;
use crate::{Catalogue, Mechanism, Rule, SpecError};

/// See [`Catalogue::select`].
pub(crate) fn select<'c>(catalogue: &'c Catalogue, patterns: &[String]) -> Result<Vec<&'c Rule>, SpecError> {
    if patterns.is_empty() {
        return Ok(catalogue.rules.iter().collect());
    }
    let mut chosen = vec![false; catalogue.rules.len()];
    for pattern in patterns {
        if pattern.trim().is_empty() {
            return Err(SpecError::msg(
                "an empty rule pattern (give an id, a prefix such as `pipe.`, a glob or a mechanism)".to_string(),
            ));
        }
        let matcher = Matcher::new(pattern);
        let mut any = false;
        for (rule, chosen) in catalogue.rules.iter().zip(chosen.iter_mut()) {
            if matcher.matches(rule) {
                *chosen = true;
                any = true;
            }
        }
        if !any {
            let mut message = format!("unknown rule or pattern {}", quote(pattern));
            let near = closest(pattern, catalogue.rules.iter().map(|r| r.id.as_str()), 3);
            if !near.is_empty() {
                let near: Vec<String> = near.iter().map(|id| format!("`{id}`")).collect();
                message.push_str(&format!("; did you mean {}?", or_list(&near)));
            }
            return Err(SpecError::msg(message));
        }
    }
    Ok(catalogue.rules.iter().zip(chosen).filter_map(|(rule, chosen)| chosen.then_some(rule)).collect())
}

/// One selection pattern, classified.
enum Matcher<'p> {
    /// A mechanism name: every rule of it.
    Mechanism(Mechanism),
    /// A prefix (`pipe.eof.`) or a glob with its trailing `*` removed.
    Prefix(&'p str),
    /// An exact id.
    Exact(&'p str),
}

impl<'p> Matcher<'p> {
    fn new(pattern: &'p str) -> Matcher<'p> {
        if let Ok(m) = pattern.parse::<Mechanism>() {
            Matcher::Mechanism(m)
        } else if let Some(prefix) = pattern.strip_suffix('*') {
            Matcher::Prefix(prefix)
        } else if pattern.ends_with('.') {
            Matcher::Prefix(pattern)
        } else {
            Matcher::Exact(pattern)
        }
    }

    fn matches(&self, rule: &Rule) -> bool {
        match *self {
            Matcher::Mechanism(m) => rule.mechanism == m,
            Matcher::Prefix(p) => rule.id.starts_with(p),
            Matcher::Exact(id) => rule.id == id,
        }
    }
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Up to `n` of `candidates` close to `word`, closest first (ties in the
/// given order). A candidate is close when its edit distance to `word`, or
/// that of its first `word.len()` characters (so that a truncated id still
/// finds its rules), is at most a third of the word's length, and at least 2.
pub(crate) fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>, n: usize) -> Vec<&'a str> {
    let word = word.trim_end_matches('*');
    let len = word.chars().count();
    let limit = (len / 3).max(2);
    let mut scored: Vec<(usize, usize, usize, &str)> = candidates
        .enumerate()
        .filter_map(|(i, c)| {
            let full = edit_distance(word, c);
            let head: String = c.chars().take(len).collect();
            let score = full.min(edit_distance(word, &head));
            (score <= limit).then_some((score, full, i, c))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.3 == b.3);
    scored.into_iter().take(n).map(|(_, _, _, c)| c).collect()
}

/// Levenshtein distance between `a` and `b`, counted in characters.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("pipe.eof", "pipe.eof"), 0);
        assert_eq!(edit_distance("é", "e"), 1);
    }

    #[test]
    fn closest_ranks_and_limits() {
        let ids = ["pipe.read.empty-blocks", "pipe.stream.order", "pipe.write.full-blocks"];
        assert_eq!(closest("pipe.read.empty-block", ids.iter().copied(), 3), vec!["pipe.read.empty-blocks"]);
        assert!(closest("zzzzzzzz", ids.iter().copied(), 3).is_empty());
    }

    #[test]
    fn or_lists() {
        let s = |v: &[&str]| or_list(&v.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(s(&[]), "");
        assert_eq!(s(&["a"]), "a");
        assert_eq!(s(&["a", "b"]), "a or b");
        assert_eq!(s(&["a", "b", "c"]), "a, b or c");
    }
}
