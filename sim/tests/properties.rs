//! Property tests over random seeds and random fault schedules: the replica group's safety rules hold after every event, confirmed writes survive crashes and partitions, replicas converge after a heal, and no input panics.
//!
//! Each property runs 256 cases; `PATHLAB_PROPTEST_CASES=5000 cargo test -p
//! pathlab-sim --test properties` runs more.

use pathlab_sim::{
    Command, Role, Scenario, SimTime, Simulation,
    scenario::{FollowerAck, ReadFrom, Replication},
};
use proptest::prelude::*;

const NODES: [&str; 9] = [
    "db-0-0",
    "db-0-1",
    "db-0-2",
    "app-1",
    "app-3",
    "cache-1",
    "lb-a",
    "cdn-eu-west",
    "dns-auth",
];
const DBS: [&str; 3] = ["db-0-0", "db-0-1", "db-0-2"];

fn fault() -> impl Strategy<Value = Command> {
    let node = prop::sample::select(NODES.to_vec()).prop_map(String::from);
    let db = prop::sample::select(DBS.to_vec()).prop_map(String::from);
    prop_oneof![
        3 => db.clone().prop_map(|node| Command::Crash { node }),
        3 => db.clone().prop_map(|node| Command::Restart { node }),
        1 => node.clone().prop_map(|node| Command::Crash { node }),
        1 => node.clone().prop_map(|node| Command::Restart { node }),
        2 => db.clone().prop_map(|node| Command::Isolate { node }),
        2 => Just(Command::Heal),
        1 => (prop::sample::subsequence(NODES.to_vec(), 1..4)).prop_map(|g| {
            let a: Vec<String> = g.iter().map(|s| s.to_string()).collect();
            let b: Vec<String> = NODES.iter().filter(|n| !g.contains(n)).map(|s| s.to_string()).collect();
            Command::Partition { groups: vec![a, b] }
        }),
        1 => (db.clone(), db).prop_map(|(a, b)| Command::PartitionOneWay { from: vec![a], to: vec![b] }),
        1 => (node.clone(), 1.0f64..50.0).prop_map(|(node, factor)| Command::Slow { node, factor }),
        1 => (node.clone(), node, 0.0f64..200.0, 0.0f64..0.5).prop_map(|(a, b, latency_ms, loss)| Command::Link { a, b, latency_ms, jitter_ms: 5.0, loss }),
    ]
}

fn schedule() -> impl Strategy<Value = Vec<(u32, Command)>> {
    prop::collection::vec((0u32..30_000, fault()), 0..12)
}

/// Cases per property: 256, or `PATHLAB_PROPTEST_CASES`.
fn cases() -> u32 {
    std::env::var("PATHLAB_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// Plays `faults` over 35 simulated seconds. The cheap safety checks run
/// after every single event; `check` runs every 250 ms.
fn play(
    scenario: &Scenario,
    seed: u64,
    faults: &[(u32, Command)],
    mut check: impl FnMut(&Simulation),
) -> Simulation {
    let mut sim = Simulation::new(scenario, seed).unwrap();
    for (ms, cmd) in faults {
        // Some random commands are invalid (a one-way cut from a node to
        // itself is fine, a link to itself is not): those must be refused
        // cleanly, never panic.
        let _ = sim.schedule(SimTime(*ms as u64 * 1000), cmd.clone());
    }
    let mut t = 0;
    while t < 35_000_000 {
        t += 250_000;
        while sim.now() < SimTime(t) {
            if !sim.step_until_bounded(SimTime(t), 1)
                && let Err(e) = sim.check_invariants_quick()
            {
                panic!("at {}: {e}", sim.now());
            }
        }
        check(&sim);
    }
    sim
}

/// Ends every fault: heals the network, restores every link and node's
/// speed, restarts every replica, stops new requests and lets replication
/// settle.
fn heal_everything(sim: &mut Simulation) {
    sim.apply(&Command::Heal).unwrap();
    for (i, a) in NODES.iter().enumerate() {
        sim.apply(&Command::Slow {
            node: a.to_string(),
            factor: 1.0,
        })
        .unwrap();
        for b in &NODES[i + 1..] {
            sim.apply(&Command::Link {
                a: a.to_string(),
                b: b.to_string(),
                latency_ms: 0.0,
                jitter_ms: 0.0,
                loss: 0.0,
            })
            .unwrap();
        }
    }
    for node in NODES {
        sim.apply(&Command::Restart { node: node.into() }).unwrap();
    }
    sim.apply(&Command::set_rate(0.0)).unwrap();
    // A replica that was slowed may still be working off its backlog:
    // give it up to two minutes.
    for _ in 0..24 {
        sim.run_for(5.0);
        if sim.replicas_converged().is_ok() {
            break;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), .. ProptestConfig::default() })]

    #[test]
    fn raft_safety_holds_under_any_fault_schedule(seed in any::<u64>(), faults in schedule(), fencing in any::<bool>(), sync in any::<bool>()) {
        let mut s = Scenario::default();
        s.db.fencing = fencing;
        s.db.replication = if sync { Replication::Sync } else { Replication::Async };
        s.workload.requests_per_s = 150.0;
        let mut sim = play(&s, seed, &faults, |sim| {
            let bad = sim.check_invariants();
            assert!(bad.is_empty(), "at {}: {bad:?}", sim.now());
        });
        // Once every fault is over, every replica ends with the same log.
        heal_everything(&mut sim);
        prop_assert!(sim.check_invariants().is_empty());
        if let Err(e) = sim.replicas_converged() {
            prop_assert!(false, "after healing: {}", e);
        }
    }

    #[test]
    fn synchronous_applied_replication_never_loses_a_confirmed_write_to_crashes_or_partitions(seed in any::<u64>(), crashes in prop::collection::vec((0u32..30_000, prop::sample::select(DBS.to_vec()), any::<bool>()), 0..8), cuts in partitions()) {
        let mut s = Scenario::default();
        s.db.replication = Replication::Sync;
        s.db.follower_ack = FollowerAck::Applied;
        s.db.read_from = ReadFrom::Leader;
        s.db.fencing = true;
        s.cache.enabled = false;
        s.workload.requests_per_s = 150.0;
        let mut faults: Vec<(u32, Command)> = crashes
            .into_iter()
            .map(|(ms, n, up)| (ms, if up { Command::Restart { node: n.into() } } else { Command::Crash { node: n.into() } }))
            .collect();
        faults.extend(cuts);
        let sim = play(&s, seed, &faults, |_| {});
        let a = sim.summary().anomalies;
        prop_assert_eq!(a.lost_write, 0);
        prop_assert_eq!(a.stale_read, 0);
        prop_assert_eq!(a.monotonic_read, 0);
    }

    #[test]
    fn at_most_one_leader_is_up_in_the_highest_term(seed in any::<u64>(), faults in schedule()) {
        let s = Scenario::default();
        play(&s, seed, &faults, |sim| {
            let top = sim.replicas().filter(|(_, r, _, _)| *r == Role::Leader).map(|(_, _, t, _)| t).max();
            if let Some(top) = top {
                let n = sim.replicas().filter(|(_, r, t, _)| *r == Role::Leader && *t == top).count();
                assert_eq!(n, 1);
            }
        });
    }

    #[test]
    fn any_text_is_either_a_scenario_or_a_clear_error(text in ".{0,200}") {
        if let Err(e) = Scenario::from_json(&text) {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn any_json_value_in_any_field_is_handled(field in prop::sample::select(vec!["duration_s", "workload", "db", "script", "network", "app", "seed", "version"]), value in prop_oneof![Just("-1".to_string()), Just("1e308".to_string()), Just("null".to_string()), Just("\"x\"".to_string()), Just("[]".to_string()), Just("{}".to_string()), Just("[{\"at\": 1, \"do\": \"crash\", \"node\": \"nope\"}]".to_string()), Just("{\"regions\": []}".to_string()), Just("{\"replicas\": 0}".to_string()), Just("{\"servers\": 100000}".to_string())]) {
        let text = format!("{{\"{field}\": {value}}}");
        match Scenario::from_json(&text) {
            Ok(s) => {
                // Valid as a scenario: building it may still refuse a bad
                // script command, but never panics.
                if let Ok(mut sim) = Simulation::new(&s, 1) {
                    sim.run_for(1.0);
                }
            }
            Err(e) => prop_assert!(e.to_string().contains(field) || e.to_string().contains("line"), "{}", e),
        }
    }
}

/// Pairs of leaders of one shard (different terms) that served at
/// overlapping times, in words.
fn overlapping_leaders(sim: &Simulation) -> Vec<String> {
    let spans = sim.leader_spans();
    let mut bad = Vec::new();
    for (i, a) in spans.iter().enumerate() {
        for b in &spans[i + 1..] {
            if a.shard == b.shard && a.term != b.term && a.first <= b.last && b.first <= a.last {
                bad.push(format!(
                    "{} (term {}) served {}–{} and {} (term {}) served {}–{}",
                    sim.node_name(a.node),
                    a.term,
                    a.first,
                    a.last,
                    sim.node_name(b.node),
                    b.term,
                    b.first,
                    b.last
                ));
            }
        }
    }
    bad
}

const CUTTABLE: [&str; 7] = [
    "db-0-0", "db-0-1", "db-0-2", "app-1", "app-2", "app-3", "app-4",
];

/// Random partitions (two sides, isolation, one-way cuts) and heals.
fn partitions() -> impl Strategy<Value = Vec<(u32, Command)>> {
    let db = prop::sample::select(DBS.to_vec()).prop_map(String::from);
    let cut = prop_oneof![
        3 => prop::sample::subsequence(CUTTABLE.to_vec(), 1..6).prop_map(|g| {
            let a: Vec<String> = g.iter().map(|s| s.to_string()).collect();
            let b: Vec<String> = CUTTABLE.iter().filter(|n| !g.contains(n)).map(|s| s.to_string()).collect();
            Command::Partition { groups: vec![a, b] }
        }),
        1 => db.clone().prop_map(|node| Command::Isolate { node }),
        1 => (db.clone(), db).prop_map(|(a, b)| Command::PartitionOneWay { from: vec![a], to: vec![b] }),
        2 => Just(Command::Heal),
    ];
    prop::collection::vec((0u32..30_000, cut), 1..10)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn with_fencing_two_leaders_never_serve_at_once(seed in any::<u64>(), faults in partitions(), followers in any::<bool>()) {
        let mut s = Scenario::default();
        s.db.fencing = true;
        s.cache.enabled = false;
        if followers {
            s.db.read_from = ReadFrom::Nearest;
        }
        let mut sim = Simulation::new(&s, seed).unwrap();
        sim.record_history();
        for (ms, cmd) in &faults {
            sim.schedule(SimTime(*ms as u64 * 1000), cmd.clone()).unwrap();
        }
        sim.run_for(35.0);
        let bad = overlapping_leaders(&sim);
        prop_assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}

#[test]
fn a_partitioned_leader_with_fencing_stops_serving_before_its_successor_starts() {
    let mut s = pathlab_sim::presets::preset("partition-leader").unwrap();
    s.db.fencing = true;
    let mut overlapping = Vec::new();
    for seed in 1..=30 {
        let mut sim = Simulation::new(&s, seed).unwrap();
        sim.record_history();
        sim.run();
        let bad = overlapping_leaders(&sim);
        if !bad.is_empty() {
            overlapping.push(format!("seed {seed}: {}", bad.join("; ")));
        }
    }
    assert!(
        overlapping.is_empty(),
        "{} of 30 runs:\n{}",
        overlapping.len(),
        overlapping.join("\n")
    );
}
