//! Robust input: the replay-file reader, and the validation every replayed
//! case passes before anything runs, fed generated and mutated input
//! (proptest). They answer Ok or a clear error, and never panic.

use ipc_conform::registry;
use ipc_conform_harness::pipe::PipeSchedule;
use ipc_conform_harness::socket::pair::PairSchedule;
use proptest::prelude::*;

const REAL: &str = r#"{
  "rule": "pipe.read.empty-blocks",
  "property": "pipe_read_of_empty_pipe_blocks_until_data_arrives",
  "case": {
    "setup": {"writers": 1, "idle_writers": 0, "readers": 1, "nonblock_read": false, "nonblock_write": false, "concurrent_reads": false},
    "steps": [{"actor": 1, "op": {"Read": {"max": 16}}}, {"actor": 0, "op": {"Write": {"len": 4096}}}]
  }
}"#;

/// JSON numbers at the edges of every integer type the cases use.
fn edge_number() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        Just(serde_json::json!(0)),
        Just(serde_json::json!(255)),
        Just(serde_json::json!(256)),
        Just(serde_json::json!(u32::MAX)),
        Just(serde_json::json!(u64::MAX)),
        Just(serde_json::json!(-1)),
        Just(serde_json::json!(1.5)),
        any::<u32>().prop_map(|n| serde_json::json!(n)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_replay_reader_never_panics_on_arbitrary_text(text in ".{0,400}") {
        let _ = registry::read_replay(&text);
    }

    #[test]
    fn the_replay_reader_never_panics_on_a_mutated_real_file(
        cuts in proptest::collection::vec((0usize..REAL.len(), 0usize..8, any::<u8>()), 1..6)
    ) {
        let mut bytes = REAL.as_bytes().to_vec();
        for (at, len, b) in cuts {
            let at = at.min(bytes.len());
            let end = (at + len).min(bytes.len());
            bytes.splice(at..end, [b]);
        }
        let text = String::from_utf8_lossy(&bytes);
        let _ = registry::read_replay(&text);
    }

    #[test]
    fn replayed_pipe_cases_with_edge_numbers_are_validated_without_panic(
        writers in edge_number(), readers in edge_number(), len in edge_number(), actor in edge_number()
    ) {
        let case = serde_json::json!({
            "setup": {"writers": writers, "idle_writers": 0, "readers": readers, "nonblock_read": false, "nonblock_write": true, "concurrent_reads": false},
            "steps": [{"actor": actor, "op": {"Write": {"len": len}}}, {"actor": actor, "op": {"Read": {"max": len}}}]
        });
        if let Ok(schedule) = serde_json::from_value::<PipeSchedule>(case) {
            let verdict = schedule.validate();
            let s = &schedule.setup;
            if u32::from(s.writers) > 4 || s.readers == 0 || s.readers > 8 {
                prop_assert!(verdict.is_err());
            }
            for step in &schedule.steps {
                let _ = schedule.actor_of(step);
            }
        }
    }

    #[test]
    fn replayed_socket_cases_with_edge_numbers_are_validated_without_panic(
        h0 in edge_number(), h1 in edge_number(), len in edge_number()
    ) {
        let case = serde_json::json!({
            "setup": {"kind": "Stream", "holders": [h0, h1]},
            "steps": [{"actor": 0, "op": {"Send": {"len": len, "dontwait": false, "nosignal": false}}}]
        });
        if let Ok(schedule) = serde_json::from_value::<PairSchedule>(case) {
            let verdict = schedule.validate();
            if schedule.setup.holders.iter().any(|h| *h == 0 || *h > 2) {
                prop_assert!(verdict.is_err());
            }
        }
    }
}

#[test]
fn the_real_replay_file_reads_and_an_oversized_case_is_refused_before_running() {
    let file = registry::read_replay(REAL).expect("a real replay file reads");
    let schedule: PipeSchedule = serde_json::from_value(file.case).unwrap();
    assert!(schedule.validate().is_ok());
    let huge = REAL.replace("\"len\": 4096", "\"len\": 4294967295");
    let schedule: PipeSchedule = serde_json::from_value(registry::read_replay(&huge).unwrap().case).unwrap();
    let err = schedule.validate().unwrap_err();
    assert!(err.contains("at most"), "{err}");
}
