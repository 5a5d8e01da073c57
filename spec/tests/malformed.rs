//! Every malformed rule file gives one exact, one-line error that names the
//! file, the rule and the field.

use ipc_conform_spec::{Catalogue, Expectation, Platform, SpecError};

const FILE: &str = "spec/rules/pipe.toml";

/// A valid rule with id `pipe.<name>.x`.
fn rule(name: &str) -> String {
    format!(
        r#"
[[rule]]
id = "pipe.{name}.x"
title = "A title"
statement = "A statement."
seed = "Pipes"
refs = ["POSIX.1-2017 XSH pipe()"]
[rule.platforms.linux]
expect = "holds"
[rule.platforms.macos]
expect = "holds"
"#
    )
}

/// A valid pipe file with rules `pipe.a.x` and `pipe.b.x`, the second
/// changed by `edit`.
fn file_with(edit: impl Fn(String) -> String) -> String {
    format!("mechanism = \"pipe\"\n{}{}", rule("a"), edit(rule("b")))
}

fn err(files: &[(&str, &str)]) -> SpecError {
    match Catalogue::parse(files) {
        Ok(c) => panic!("expected an error, got {} rules", c.rules.len()),
        Err(e) => e,
    }
}

/// The error for `pipe.toml` whose second rule is changed by `edit`.
fn err_b(edit: impl Fn(String) -> String) -> String {
    let text = file_with(edit);
    let e = err(&[(FILE, &text)]);
    let shown = e.to_string();
    assert!(!shown.contains('\n'), "not one line: {shown}");
    shown
}

#[test]
fn the_template_is_valid() {
    let text = file_with(|r| r);
    let c = Catalogue::parse(&[(FILE, &text)]).unwrap();
    assert_eq!(c.rules.len(), 2);
    assert_eq!(c.rules[1].id, "pipe.b.x");
    assert_eq!(c.rules[1].file, FILE);
    assert_eq!(
        c.rules[1].expectation(Platform::Macos),
        &Expectation::Holds { note: None, allow: Vec::new(), lacks: Vec::new() }
    );
}

#[test]
fn empty_statement() {
    let e = err_b(|r| r.replace("statement = \"A statement.\"", "statement = \"  \\n \""));
    assert_eq!(e, "spec/rules/pipe.toml: rule `pipe.b.x`: field `statement`: must not be empty");
}

#[test]
fn missing_field() {
    let e = err_b(|r| r.replace("title = \"A title\"\n", ""));
    assert_eq!(e, "spec/rules/pipe.toml: rule `pipe.b.x`: field `title`: missing");
}

#[test]
fn missing_id_names_the_rule_by_position() {
    let e = err_b(|r| r.replace("id = \"pipe.b.x\"\n", ""));
    assert_eq!(e, "spec/rules/pipe.toml: rule #2: field `id`: missing");
}

#[test]
fn wrong_type() {
    let e = err_b(|r| r.replace("seed = \"Pipes\"", "seed = 3"));
    assert_eq!(e, "spec/rules/pipe.toml: rule `pipe.b.x`: field `seed`: must be a string, found integer");
}

#[test]
fn unknown_field() {
    let e = err_b(|r| r.replace("statement =", "statment ="));
    assert_eq!(e, "spec/rules/pipe.toml: rule `pipe.b.x`: field `statment`: unknown key (did you mean `statement`?)");
}

#[test]
fn unknown_field_in_platform() {
    let e = err_b(|r| r.replace("[rule.platforms.macos]\n", "[rule.platforms.macos]\nnotes = \"x\"\n"));
    assert_eq!(
        e,
        "spec/rules/pipe.toml: rule `pipe.b.x`: field `platforms.macos.notes`: unknown key (did you mean `note`?)"
    );
}

#[test]
fn unknown_top_level_key() {
    let text = format!("mechanism = \"pipe\"\nversion = 1\n{}", rule("a"));
    let e = err(&[(FILE, &text)]).to_string();
    assert_eq!(e, "spec/rules/pipe.toml: field `version`: unknown key; expected one of `mechanism`, `rule`");
}

#[test]
fn bad_id() {
    let e = err_b(|r| r.replace("id = \"pipe.b.x\"", "id = \"pipe.Read_x\""));
    assert_eq!(
        e,
        "spec/rules/pipe.toml: rule #2: field `id`: `pipe.Read_x` is not a valid id: it must be dot-separated \
         words of a-z, 0-9 and '-', e.g. `pipe.read.empty-blocks`"
    );
}

#[test]
fn id_of_another_mechanism() {
    let e = err_b(|r| r.replace("id = \"pipe.b.x\"", "id = \"socket.b.x\""));
    assert_eq!(
        e,
        "spec/rules/pipe.toml: rule #2: field `id`: `socket.b.x` must start with `pipe.` in the rules of mechanism `pipe`"
    );
}

#[test]
fn duplicate_id_across_two_files() {
    let first = file_with(|r| r);
    let second = format!("mechanism = \"pipe\"\n{}", rule("b"));
    let e = err(&[(FILE, &first), ("local/pipe.toml", &second)]).to_string();
    assert_eq!(
        e,
        "local/pipe.toml: rule `pipe.b.x`: field `id`: duplicate id: already defined in spec/rules/pipe.toml"
    );
}

#[test]
fn duplicate_id_in_one_file() {
    let e = err_b(|r| r.replace("id = \"pipe.b.x\"", "id = \"pipe.a.x\""));
    assert_eq!(e, "spec/rules/pipe.toml: rule `pipe.a.x`: field `id`: duplicate id: rule #1 of this file has it too");
}

#[test]
fn unknown_mechanism() {
    let text = format!("mechanism = \"pipes\"\n{}", rule("a"));
    let e = err(&[("spec/rules/pipes.toml", &text)]).to_string();
    assert_eq!(
        e,
        "spec/rules/pipes.toml: field `mechanism`: unknown mechanism `pipes`; expected one of pipe, socket, shm, process, file, ready, eventfd, signal, mqueue, sysv, memfd"
    );
}

#[test]
fn missing_mechanism() {
    let e = err(&[(FILE, &rule("a"))]).to_string();
    assert_eq!(e, "spec/rules/pipe.toml: field `mechanism`: missing; a rule file starts with `mechanism = \"<name>\"`");
}

#[test]
fn file_stem_differs_from_mechanism() {
    let text = file_with(|r| r);
    let e = err(&[("spec/rules/socket.toml", &text)]).to_string();
    assert_eq!(
        e,
        "spec/rules/socket.toml: field `mechanism`: `pipe` does not match the file name: the rules of mechanism \
         `pipe` belong in `pipe.toml`"
    );
}

#[test]
fn bad_expect() {
    let e = err_b(|r| r.replacen("expect = \"holds\"", "expect = \"hold\"", 1));
    assert_eq!(
        e,
        "spec/rules/pipe.toml: rule `pipe.b.x`: field `platforms.linux.expect`: `hold` is not an expectation; \
         expected `holds` or `not-applicable`"
    );
}

#[test]
fn not_applicable_without_reason() {
    let e = err_b(|r| r.replacen("expect = \"holds\"", "expect = \"not-applicable\"", 2));
    assert_eq!(
        e,
        "spec/rules/pipe.toml: rule `pipe.b.x`: field `platforms.linux.reason`: missing; required with \
         expect = \"not-applicable\""
    );
}

#[test]
fn not_applicable_with_reason_is_valid() {
    let text = file_with(|r| {
        r.replace(
            "[rule.platforms.macos]\nexpect = \"holds\"",
            "[rule.platforms.macos]\nexpect = \"not-applicable\"\nreason = \"no SOCK_SEQPACKET\"",
        )
    });
    let c = Catalogue::parse(&[(FILE, &text)]).unwrap();
    assert_eq!(
        c.rules[1].expectation(Platform::Macos),
        &Expectation::NotApplicable { reason: "no SOCK_SEQPACKET".into() }
    );
}

#[test]
fn reason_with_holds() {
    let e = err_b(|r| r.replace("[rule.platforms.macos]\n", "[rule.platforms.macos]\nreason = \"why\"\n"));
    assert_eq!(
        e,
        "spec/rules/pipe.toml: rule `pipe.b.x`: field `platforms.macos.reason`: not allowed with expect = \"holds\" \
         (use `note` for a platform difference)"
    );
}

#[test]
fn empty_note() {
    let e = err_b(|r| r.replace("[rule.platforms.macos]\n", "[rule.platforms.macos]\nnote = \"\"\n"));
    assert_eq!(e, "spec/rules/pipe.toml: rule `pipe.b.x`: field `platforms.macos.note`: must not be empty");
}

#[test]
fn unknown_platform() {
    let e = err_b(|r| r + "[rule.platforms.windows]\nexpect = \"holds\"\n");
    assert_eq!(
        e,
        "spec/rules/pipe.toml: rule `pipe.b.x`: field `platforms.windows`: unknown platform `windows`; expected linux or macos"
    );
}

#[test]
fn missing_platform() {
    let e = err_b(|r| r.replace("[rule.platforms.macos]\nexpect = \"holds\"\n", ""));
    assert_eq!(
        e,
        "spec/rules/pipe.toml: rule `pipe.b.x`: field `platforms.macos`: missing; every rule states its \
         expectation on linux and macos"
    );
}

#[test]
fn seed_not_a_heading() {
    let e = err_b(|r| r.replace("seed = \"Pipes\"", "seed = \"Pipe\""));
    assert_eq!(
        e,
        "spec/rules/pipe.toml: rule `pipe.b.x`: field `seed`: `Pipe` is not a section of the seed text; expected \
         one of: Why IPC Is Needed, Pipes, Pipe Blocking Behavior, Sockets, Shared Memory, Files as IPC, Core Mental Model"
    );
}

#[test]
fn empty_refs() {
    let e = err_b(|r| r.replace("refs = [\"POSIX.1-2017 XSH pipe()\"]", "refs = []"));
    assert_eq!(
        e,
        "spec/rules/pipe.toml: rule `pipe.b.x`: field `refs`: must not be empty; give at least one POSIX or \
         man-page reference"
    );
    let e = err_b(|r| r.replace("refs = [\"POSIX.1-2017 XSH pipe()\"]", "refs = [\"pipe(7)\", \" \"]"));
    assert_eq!(e, "spec/rules/pipe.toml: rule `pipe.b.x`: field `refs`: entry 2 must not be empty");
}

#[test]
fn toml_syntax_error_names_line_and_column() {
    // Line 5 of the file is the second line of rule a: `id = "pipe.a.x"`.
    let text = file_with(|r| r).replacen("id = \"pipe.a.x\"", "id = \"pipe.a.x", 1);
    let e = err(&[(FILE, &text)]).to_string();
    assert!(!e.contains('\n'), "{e}");
    assert!(e.starts_with("spec/rules/pipe.toml: TOML syntax error at 4:"), "{e}");
    let text = "mechanism = \"pipe\"\n\n[[rule]]\nid = = 3\n";
    let e = err(&[(FILE, text)]).to_string();
    assert_eq!(e, "spec/rules/pipe.toml: TOML syntax error at 4:6: invalid string expected `\"`, `'`");
}

#[test]
fn non_table_rule_entry() {
    let text = "mechanism = \"pipe\"\nrule = [\"pipe.a.x\"]\n";
    let e = err(&[(FILE, text)]).to_string();
    assert_eq!(e, "spec/rules/pipe.toml: rule #1: must be a table (`[[rule]]`), found string");
}

#[test]
fn rule_not_an_array() {
    let text = "mechanism = \"pipe\"\nrule = 1\n";
    let e = err(&[(FILE, text)]).to_string();
    assert_eq!(e, "spec/rules/pipe.toml: field `rule`: must be an array of tables (`[[rule]]`), found integer");
}

#[test]
fn no_rules() {
    let e = err(&[(FILE, "mechanism = \"pipe\"\n")]).to_string();
    assert_eq!(e, "spec/rules/pipe.toml: field `rule`: missing; a rule file holds at least one `[[rule]]`");
}

#[test]
fn multi_line_title() {
    let e = err_b(|r| r.replace("title = \"A title\"", "title = \"A\\ntitle\""));
    assert_eq!(e, "spec/rules/pipe.toml: rule `pipe.b.x`: field `title`: must be one line");
}

#[test]
fn error_fields_are_structured() {
    let text = file_with(|r| r.replace("title = \"A title\"\n", ""));
    let e = err(&[(FILE, &text)]);
    assert_eq!(e.file.as_deref(), Some(FILE));
    assert_eq!(e.rule.as_deref(), Some("pipe.b.x"));
    assert_eq!(e.field.as_deref(), Some("title"));
    assert_eq!(e.message, "missing");
    let _: &dyn std::error::Error = &e;
}

#[test]
fn allowances_are_known_names_of_the_rule_that_declares_them_with_a_note() {
    let rule = |platform: &str| {
        format!(
            r#"mechanism = "socket"
[[rule]]
id = "socket.epipe.peer-closed"
title = "t"
statement = "s"
seed = "Sockets"
refs = ["r"]
[rule.platforms.linux]
{platform}
[rule.platforms.macos]
expect = "holds"
"#
        )
    };
    let parse = |platform: &str| Catalogue::parse(&[("socket.toml", &rule(platform))]);
    let ok = parse("expect = \"holds\"\nnote = \"n\"\nallow = [\"seqpacket-epipe-without-sigpipe\"]").unwrap();
    assert_eq!(ok.allowances(Platform::Linux), vec![ipc_conform_spec::Allowance::SeqpacketEpipeWithoutSigpipe]);
    assert!(ok.allowances(Platform::Macos).is_empty());
    let err = parse("expect = \"holds\"\nnote = \"n\"\nallow = [\"anything-goes\"]").unwrap_err().to_string();
    assert!(err.contains("unknown allowance") && err.contains("platforms.linux.allow"), "{err}");
    let err = parse("expect = \"holds\"\nnote = \"n\"\nallow = [\"map-private-shm-refused\"]").unwrap_err().to_string();
    assert!(err.contains("belongs to rule `shm.private.copy-on-write`"), "{err}");
    let err = parse("expect = \"holds\"\nallow = [\"seqpacket-epipe-without-sigpipe\"]").unwrap_err().to_string();
    assert!(err.contains("platforms.linux.note") && err.contains("required with `allow`"), "{err}");
    let err =
        parse("expect = \"holds\"\nnote = \"n\"\nallow = \"seqpacket-epipe-without-sigpipe\"").unwrap_err().to_string();
    assert!(err.contains("must be an array"), "{err}");
}

#[test]
fn entry_points_are_known_distinct_names() {
    let with = |list: &str| format!("seed = \"Pipes\"\nentry_points = {list}");
    let ok = file_with(|r| r.replace("seed = \"Pipes\"", &with("[\"read\", \"readv\"]")));
    let c = Catalogue::parse(&[(FILE, &ok)]).unwrap();
    assert_eq!(c.rules[1].entry_points, ["read", "readv"]);
    assert_eq!(c.rules[1].entry_points_on(Platform::Macos), ["read", "readv"]);
    assert!(c.rules[0].entry_points.is_empty());
    assert_eq!(
        err_b(|r| r.replace("seed = \"Pipes\"", &with("[\"read\", \"readvv\"]"))),
        "spec/rules/pipe.toml: rule `pipe.b.x`: field `entry_points`: `readvv` is not a known entry point (did you \
         mean `readv`?)"
    );
    assert_eq!(
        err_b(|r| r.replace("seed = \"Pipes\"", &with("[\"read\", \"read\"]"))),
        "spec/rules/pipe.toml: rule `pipe.b.x`: field `entry_points`: `read` is named twice"
    );
    let e = err_b(|r| r.replace("seed = \"Pipes\"", &with("\"read\"")));
    assert!(e.contains("field `entry_points`: must be an array of entry-point names, found string"), "{e}");
}

#[test]
fn a_platform_lacks_only_entry_points_of_its_rule_and_says_why() {
    fn with(macos: &str) -> impl Fn(String) -> String + '_ {
        move |r: String| {
            r.replace("seed = \"Pipes\"", "seed = \"Pipes\"\nentry_points = [\"read\", \"readv\"]")
                .replace("[rule.platforms.macos]\nexpect = \"holds\"\n", &format!("[rule.platforms.macos]\n{macos}\n"))
        }
    }
    let ok = file_with(with("expect = \"holds\"\nnote = \"no readv here\"\nlacks = [\"readv\"]"));
    let c = Catalogue::parse(&[(FILE, &ok)]).unwrap();
    assert_eq!(c.rules[1].entry_points_on(Platform::Macos), ["read"]);
    assert_eq!(c.rules[1].entry_points_on(Platform::Linux), ["read", "readv"]);
    let e = err_b(with("expect = \"holds\"\nnote = \"n\"\nlacks = [\"recv\"]"));
    assert!(e.contains("field `platforms.macos.lacks`: `recv` is not a known entry point"), "{e}");
    let e = err_b(with("expect = \"holds\"\nlacks = [\"readv\"]"));
    assert!(e.contains("platforms.macos.note") && e.contains("required with `lacks`"), "{e}");
    let e = err_b(|r: String| {
        r.replace(
            "[rule.platforms.macos]\nexpect = \"holds\"\n",
            "[rule.platforms.macos]\nexpect = \"holds\"\nnote = \"n\"\nlacks = [\"read\"]\n",
        )
    });
    assert!(e.contains("names no `entry_points`"), "{e}");
}
