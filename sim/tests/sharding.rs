//! Sharding lessons: hash versus range partitioning under skewed keys (hot shards), how many keys move when a shard is added, and failures that stay inside one shard.

use pathlab_sim::{Command, Role, Scenario, SimTime, Simulation, scenario::Partitioning};

fn sharded(p: Partitioning) -> Scenario {
    let mut s = Scenario::default();
    s.db.shards = 3;
    s.db.partitioning = p;
    s.workload.key_skew = 1.2;
    s.cache.enabled = false;
    s
}

fn run(s: &Scenario, secs: f64) -> Simulation {
    let mut sim = Simulation::new(s, 4).unwrap();
    sim.step_until(SimTime::from_secs_f64(secs));
    sim
}

#[test]
fn range_partitioning_with_skewed_keys_makes_a_hot_shard_and_hashing_spreads_it() {
    // Key popularity follows Zipf: the first keys are the hottest, and a
    // range split puts them all on shard 0.
    let range = run(&sharded(Partitioning::Range), 20.0).summary().db.shards;
    let hash = run(&sharded(Partitioning::Hash), 20.0).summary().db.shards;
    assert_eq!(range.len(), 3);
    assert!(range[0].share > 0.6, "{range:?}");
    // Hashing spreads the ranges, but not a single hot key: the shard that
    // holds key 0 still does more than its third.
    let max_hash = hash.iter().map(|s| s.share).fold(0.0, f64::max);
    assert!(max_hash < range[0].share - 0.1, "{hash:?}");
    assert!(hash.iter().all(|s| s.leader.is_some()));
}

#[test]
fn range_bounds_put_keys_where_they_say() {
    let mut s = sharded(Partitioning::Range);
    s.db.range_bounds = vec![10, 500];
    let sim = run(&s, 10.0);
    let shards = sim.summary().db.shards;
    // Keys 0–9 are the hottest tenth of the traffic and more.
    assert!(shards[0].ops > 0 && shards[1].ops > 0 && shards[2].ops > 0);
    let bad = Scenario::from_json(
        r#"{"db": {"shards": 3, "partitioning": "range", "range_bounds": [500, 10]}}"#,
    );
    assert!(bad.unwrap_err().to_string().contains("db.range_bounds"));
}

#[test]
fn adding_a_shard_moves_most_keys_under_hash_mod_but_few_on_a_ring() {
    let moved = run(&sharded(Partitioning::Hash), 1.0)
        .summary()
        .db
        .keys_moved_on_add_shard;
    assert!(moved.hash_mod > 0.6, "{moved:?}");
    assert!(
        (moved.consistent_hash - 0.25).abs() < 0.1,
        "about 1/(N+1) with N = 3: {moved:?}"
    );
}

#[test]
fn a_leader_crash_in_one_shard_leaves_the_others_alone() {
    let mut sim = Simulation::new(&sharded(Partitioning::Hash), 7).unwrap();
    sim.step_until(SimTime::from_secs_f64(5.0));
    sim.apply(&Command::Crash {
        node: "db-1-0".into(),
    })
    .unwrap();
    sim.step_until(SimTime::from_secs_f64(15.0));
    let leaders: Vec<(String, u64)> = sim
        .replicas()
        .filter(|(_, r, _, up)| *r == Role::Leader && *up)
        .map(|(n, _, t, _)| (n.to_string(), t))
        .collect();
    assert!(leaders.contains(&("db-0-0".to_string(), 1)), "{leaders:?}");
    assert!(leaders.contains(&("db-2-0".to_string(), 1)), "{leaders:?}");
    assert!(
        leaders
            .iter()
            .any(|(n, t)| n.starts_with("db-1-") && *t >= 2),
        "{leaders:?}"
    );
    assert!(sim.check_invariants().is_empty());
    assert_eq!(sim.summary().leader_changes, 1);
}

/// Read-your-writes violations among reads of keys below `bound`: a read
/// that returned an older version of a key than its session's own last
/// write of that key confirmed before the read began.
fn ryw_violations_below(sim: &Simulation, bound: u32) -> usize {
    use std::collections::BTreeMap;
    let ops = sim.history();
    let mut writes: BTreeMap<(u32, u32), Vec<(u64, u64)>> = BTreeMap::new();
    for op in ops
        .iter()
        .filter(|o| o.op == pathlab_sim::RequestKind::Write)
    {
        if let (pathlab_sim::Outcome::Ok, Some(v)) = (op.outcome, op.version) {
            writes
                .entry((op.session, op.key))
                .or_default()
                .push((op.complete_us, v.0));
        }
    }
    ops.iter()
        .filter(|o| o.op == pathlab_sim::RequestKind::Read && o.key < bound)
        .filter(|r| {
            let Some(v) = r.version else { return false };
            writes.get(&(r.session, r.key)).is_some_and(|ws| {
                ws.iter()
                    .filter(|(done, _)| *done < r.invoke_us)
                    .any(|&(_, w)| v.0 < w)
            })
        })
        .count()
}

#[test]
fn read_your_writes_holds_on_a_healthy_shard_while_another_fails_over() {
    // Two shards by range (keys below 500 on shard 0); the leader of shard 1
    // dies and a new one is elected in a higher term. Shard 0 is untouched,
    // so a session must always see its own writes there.
    let mut s = Scenario::default();
    s.cache.enabled = false;
    s.db.shards = 2;
    s.db.partitioning = Partitioning::Range;
    s.db.range_bounds = vec![500];
    s.db.read_from = pathlab_sim::scenario::ReadFrom::ReadYourWrites;
    s.workload.mix.write = 0.3;
    s.workload.sessions_per_region = 5;
    s.script = vec![
        pathlab_sim::TimedCommand {
            at_s: 10.0,
            command: Command::Crash {
                node: "db-1-0".into(),
            },
        },
        pathlab_sim::TimedCommand {
            at_s: 30.0,
            command: Command::Restart {
                node: "db-1-0".into(),
            },
        },
    ];
    for seed in 1..=3 {
        let mut sim = Simulation::new(&s, seed).unwrap();
        sim.record_history();
        sim.run_for(60.0);
        assert!(
            sim.replicas()
                .any(|(n, _, term, _)| n.starts_with("db-1-") && term > 1),
            "shard 1 failed over"
        );
        assert_eq!(ryw_violations_below(&sim, 500), 0, "seed {seed}");
    }
}

#[test]
fn adding_a_shard_to_ranges_moves_only_half_of_one_range() {
    // Two shards by range: the new shard takes the upper half of the wider
    // range, so about a quarter of the keys move; hash mod N would move
    // most of them.
    let mut s = Scenario::default();
    s.db.shards = 2;
    s.db.partitioning = Partitioning::Range;
    let moves = run(&s, 1.0).summary().db.keys_moved_on_add_shard;
    assert!((moves.range_split - 0.25).abs() < 0.01, "{moves:?}");
    assert_eq!(moves.this_design, moves.range_split);
    assert!(moves.hash_mod > 0.5, "{moves:?}");
    s.db.partitioning = Partitioning::Hash;
    let moves = run(&s, 1.0).summary().db.keys_moved_on_add_shard;
    assert_eq!(moves.this_design, moves.hash_mod);
}
