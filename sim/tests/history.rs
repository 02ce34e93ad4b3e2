//! The history an outside consistency checker reads: a write that may have taken effect is never reported as certainly failed, and it carries the version it was stored with, so reads that return it can be matched.

use pathlab_sim::{Command, RequestKind, Scenario, Simulation, TimedCommand};
use serde_json::Value;

/// Every write in the history as JSON, after running `s` for `secs`.
fn writes(s: &Scenario, secs: f64) -> Vec<Value> {
    let mut sim = Simulation::new(s, 3).unwrap();
    sim.record_history();
    sim.run_for(secs);
    sim.history()
        .iter()
        .filter(|op| op.op == RequestKind::Write)
        .map(|op| serde_json::to_value(op).unwrap())
        .collect()
}

fn at(at_s: f64, command: Command) -> TimedCommand {
    TimedCommand { at_s, command }
}

#[test]
fn an_order_stored_but_not_queued_is_unknown_not_failed() {
    // The database stores the write, then the queue that should take the
    // order's follow-up work is down: the user hears of a failure, but the
    // write is there.
    let mut s = Scenario::default();
    s.queue.enabled = true;
    s.script = vec![at(
        5.0,
        Command::Crash {
            node: "queue-1".into(),
        },
    )];
    let after: Vec<Value> = writes(&s, 15.0)
        .into_iter()
        .filter(|w| w["invoke_us"].as_u64().unwrap() > 6_000_000)
        .collect();
    assert!(
        after.len() > 50,
        "{} writes after the queue died",
        after.len()
    );
    for w in &after {
        assert_ne!(w["outcome"], "fail", "{w}");
        if w["outcome"] == "timeout" {
            assert!(
                w["version"].is_u64(),
                "a stored write carries its version: {w}"
            );
        }
    }
}

#[test]
fn a_write_stored_by_a_cut_off_leader_carries_its_version() {
    // Synchronous replication without fencing: the cut-off leader keeps
    // storing writes but can never confirm one while both followers are
    // unreachable, so the app servers give up. The checker must still learn
    // which versions exist.
    let mut s = Scenario::default();
    s.cache.enabled = false;
    s.db.replication = pathlab_sim::scenario::Replication::Sync;
    s.db.fencing = false;
    s.script = vec![at(
        5.0,
        Command::Partition {
            groups: vec![
                vec![
                    "db-0-0".into(),
                    "app-1".into(),
                    "app-2".into(),
                    "app-3".into(),
                    "app-4".into(),
                ],
                vec!["db-0-1".into(), "db-0-2".into()],
            ],
        },
    )];
    let unknown: Vec<Value> = writes(&s, 8.0)
        .into_iter()
        .filter(|w| w["outcome"] == "timeout" && w["invoke_us"].as_u64().unwrap() > 5_100_000)
        .collect();
    assert!(unknown.len() > 20, "{} writes left unknown", unknown.len());
    let with_version = unknown.iter().filter(|w| w["version"].is_u64()).count();
    assert_eq!(
        with_version,
        unknown.len(),
        "every unknown write was stored by the leader and carries its version"
    );
}
