//! Selecting rules by pattern.

use ipc_conform_spec::Catalogue;
use std::sync::OnceLock;

/// The pipe rules alone: a fixed catalogue, so that these tests do not
/// change as other mechanisms' rules are added.
fn pipes() -> &'static Catalogue {
    static C: OnceLock<Catalogue> = OnceLock::new();
    C.get_or_init(|| Catalogue::parse(&[("spec/rules/pipe.toml", include_str!("../rules/pipe.toml"))]).unwrap())
}

fn ids(patterns: &[&str]) -> Vec<String> {
    let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
    pipes().select(&patterns).unwrap().into_iter().map(|r| r.id.clone()).collect()
}

fn select_err(pattern: &str) -> String {
    pipes().select(&[pattern.to_string()]).unwrap_err().to_string()
}

#[test]
fn exact_id() {
    assert_eq!(ids(&["pipe.read.empty-blocks"]), ["pipe.read.empty-blocks"]);
}

#[test]
fn prefix() {
    assert_eq!(ids(&["pipe.eof."]), ["pipe.eof.all-writers-closed", "pipe.eof.any-writer-open"]);
}

#[test]
fn glob() {
    assert_eq!(
        ids(&["pipe.write.*"]),
        ["pipe.write.capacity-finite", "pipe.write.full-blocks", "pipe.write.atomic-pipe-buf"]
    );
    assert_eq!(ids(&["pipe.e*"]).len(), 3);
    assert_eq!(ids(&["*"]).len(), pipes().rules.len());
}

#[test]
fn mechanism() {
    assert_eq!(ids(&["pipe"]).len(), 13);
}

#[test]
fn no_patterns_selects_all() {
    assert_eq!(ids(&[]).len(), pipes().rules.len());
}

#[test]
fn catalogue_order_without_duplicates() {
    assert_eq!(
        ids(&["pipe.shell.pipeline", "pipe.stream.order", "pipe.s*", "pipe.stream.order"]),
        ["pipe.stream.order", "pipe.sigpipe.default-kills", "pipe.shell.pipeline"]
    );
}

#[test]
fn get() {
    let c = pipes();
    assert_eq!(c.get("pipe.wake.all-readers").unwrap().id, "pipe.wake.all-readers");
    assert!(c.get("pipe.wake").is_none());
}

#[test]
fn unknown_pattern_suggests_close_ids() {
    assert_eq!(
        select_err("pipe.read.empty-block"),
        "unknown rule or pattern `pipe.read.empty-block`; did you mean `pipe.read.empty-blocks`?"
    );
    assert_eq!(
        select_err("pipe.eof.all-writer-closed"),
        "unknown rule or pattern `pipe.eof.all-writer-closed`; did you mean `pipe.eof.all-writers-closed` or \
         `pipe.eof.any-writer-open`?"
    );
    assert_eq!(
        select_err("pipe.write"),
        "unknown rule or pattern `pipe.write`; did you mean `pipe.write.full-blocks`, `pipe.write.capacity-finite` \
         or `pipe.write.atomic-pipe-buf`?"
    );
}

#[test]
fn unknown_pattern_without_close_ids() {
    assert_eq!(select_err("socket"), "unknown rule or pattern `socket`");
    assert_eq!(select_err("zzzzzzzzzzzz"), "unknown rule or pattern `zzzzzzzzzzzz`");
}

#[test]
fn one_bad_pattern_among_good_ones_is_an_error() {
    let patterns = vec!["pipe.eof.".to_string(), "pipe.nope".to_string()];
    assert!(pipes().select(&patterns).is_err());
}

#[test]
fn an_empty_pattern_is_an_error_not_a_guess() {
    let e = pipes().select(&[" ".to_string()]).unwrap_err().to_string();
    assert!(e.contains("an empty rule pattern"), "{e}");
}
