//! The built-in catalogue and loading from a directory.

use std::path::Path;

use ipc_conform_spec::{Catalogue, Expectation, Mechanism, Platform};

const PIPE_IDS: [&str; 13] = [
    "pipe.direction.one-way",
    "pipe.stream.order",
    "pipe.read.empty-blocks",
    "pipe.write.capacity-finite",
    "pipe.write.full-blocks",
    "pipe.write.atomic-pipe-buf",
    "pipe.eof.all-writers-closed",
    "pipe.eof.any-writer-open",
    "pipe.wake.all-readers",
    "pipe.epipe.all-readers-closed",
    "pipe.sigpipe.default-kills",
    "pipe.fifo.open-rendezvous",
    "pipe.shell.pipeline",
];

#[test]
fn builtin_has_the_13_pipe_rules_in_file_order() {
    let c = Catalogue::builtin();
    let ids: Vec<&str> = c.rules.iter().filter(|r| r.mechanism == Mechanism::Pipe).map(|r| r.id.as_str()).collect();
    assert_eq!(ids, PIPE_IDS);
    for rule in &c.rules {
        assert_eq!(rule.file, format!("spec/rules/{}.toml", rule.mechanism));
        assert!(!rule.title.is_empty() && !rule.statement.is_empty());
        assert!(!rule.source.refs.is_empty());
        assert!(rule.source.refs.iter().any(|r| r.starts_with("POSIX")), "{}: no POSIX reference", rule.id);
    }
}

#[test]
fn builtin_rules_state_both_platforms_and_all_hold_but_where_the_object_is_missing() {
    let mut missing = Vec::new();
    for rule in &Catalogue::builtin().rules {
        let keys: Vec<Platform> = rule.platforms.keys().copied().collect();
        assert_eq!(keys, Platform::ALL, "{}", rule.id);
        for p in Platform::ALL {
            match rule.expectation(p) {
                Expectation::Holds { .. } => {}
                Expectation::NotApplicable { reason } => {
                    assert!(!reason.is_empty(), "{} on {p}: no reason", rule.id);
                    missing.push(format!("{} on {p}", rule.id));
                }
            }
        }
    }
    assert_eq!(
        missing,
        [
            "socket.unix.abstract-name on macos",
            "socket.unix.seqpacket-listener on macos",
            "shm.pshared.robust on macos",
            "process.pidfd.exit on macos",
            "eventfd.counter on macos",
            "signal.queue.realtime on macos",
            "mqueue.order.priority on macos",
            "mqueue.full-blocks on macos",
            "mqueue.empty-blocks on macos",
            "mqueue.size-limits on macos",
            "mqueue.name.lifetime on macos",
            "memfd.seal.write on macos",
            "memfd.seal.size on macos",
            "memfd.seal.travels on macos",
        ]
    );
}

#[test]
fn builtin_notes_carry_the_platform_differences() {
    let c = Catalogue::builtin();
    let note = |id: &str, p: Platform| match c.get(id).unwrap().expectation(p) {
        Expectation::Holds { note, .. } => note.clone().unwrap_or_default(),
        Expectation::NotApplicable { reason } => panic!("{id} on {p}: not applicable: {reason}"),
    };
    assert!(note("pipe.write.atomic-pipe-buf", Platform::Macos).contains("512"));
    assert!(note("pipe.write.atomic-pipe-buf", Platform::Linux).contains("4096"));
    assert!(note("pipe.write.capacity-finite", Platform::Macos).contains("grows on demand"));
    assert!(note("pipe.write.capacity-finite", Platform::Linux).contains("65536"));
}

#[test]
fn builtin_is_parsed_once() {
    assert!(std::ptr::eq(Catalogue::builtin(), Catalogue::builtin()));
}

#[test]
fn load_dir_reads_the_rule_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let c = Catalogue::load_dir(&dir).unwrap();
    assert_eq!(c.rules.len(), Catalogue::builtin().rules.len());
    for (a, b) in c.rules.iter().zip(&Catalogue::builtin().rules) {
        assert_eq!(a.file, dir.join(format!("{}.toml", a.mechanism)).display().to_string());
        assert_eq!((&a.id, &a.statement, &a.platforms), (&b.id, &b.statement, &b.platforms));
    }
}

#[test]
fn load_dir_orders_files_by_mechanism_and_skips_other_files() {
    let dir = tempfile::tempdir().unwrap();
    let pipe = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/pipe.toml")).unwrap();
    let socket =
        pipe.replace("mechanism = \"pipe\"", "mechanism = \"socket\"").replace("id = \"pipe.", "id = \"socket.");
    // "file" < "pipe" < "socket" by name; by mechanism the order is pipe, socket.
    std::fs::write(dir.path().join("socket.toml"), socket).unwrap();
    std::fs::write(dir.path().join("pipe.toml"), &pipe).unwrap();
    std::fs::write(dir.path().join("README.md"), "not a rule file").unwrap();
    let c = Catalogue::load_dir(dir.path()).unwrap();
    assert_eq!(c.rules.len(), 26);
    assert_eq!(c.rules[0].id, "pipe.direction.one-way");
    assert_eq!(c.rules[13].id, "socket.direction.one-way");
    assert_eq!(c.rules[13].mechanism, Mechanism::Socket);
}

#[test]
fn load_dir_rejects_non_utf8_with_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pipe.toml");
    std::fs::write(&path, b"mechanism = \"pipe\"\n# caf\xe9\n").unwrap();
    let e = Catalogue::load_dir(dir.path()).unwrap_err();
    assert_eq!(e.to_string(), format!("{}: not valid UTF-8 at 2:6", path.display()));
}

#[test]
fn load_dir_rejects_missing_or_empty_directory() {
    let dir = tempfile::tempdir().unwrap();
    let e = Catalogue::load_dir(dir.path()).unwrap_err();
    assert_eq!(e.to_string(), format!("{}: holds no `*.toml` rule files", dir.path().display()));
    let gone = dir.path().join("nope");
    let e = Catalogue::load_dir(&gone).unwrap_err();
    assert!(e.to_string().starts_with(&format!("{}: cannot read the directory: ", gone.display())));
}

#[test]
fn mechanism_and_platform_names_round_trip() {
    for m in Mechanism::ALL {
        assert_eq!(m.as_str().parse::<Mechanism>().unwrap(), m);
        assert_eq!(m.to_string(), m.as_str());
    }
    for p in Platform::ALL {
        assert_eq!(p.as_str().parse::<Platform>().unwrap(), p);
        assert_eq!(p.to_string(), p.as_str());
    }
    assert_eq!(
        "pipes".parse::<Mechanism>().unwrap_err().to_string(),
        "unknown mechanism `pipes`; expected one of pipe, socket, shm, process, file, ready, eventfd, signal, mqueue, sysv, memfd"
    );
    assert_eq!(
        "windows".parse::<Platform>().unwrap_err().to_string(),
        "unknown platform `windows`; expected linux or macos"
    );
}

#[test]
fn current_platform_matches_target() {
    let expected = if cfg!(target_os = "linux") {
        Some(Platform::Linux)
    } else if cfg!(target_os = "macos") {
        Some(Platform::Macos)
    } else {
        None
    };
    assert_eq!(Platform::current(), expected);
}
