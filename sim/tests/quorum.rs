//! Leaderless replication: with R + W > N every read meets the newest confirmed write; with smaller quorums reads can miss it, and read repair narrows the gap.

use pathlab_sim::{Command, Scenario, SimTime, Simulation, TimedCommand, scenario::Replication};

fn quorum(r: u32, w: u32, repair: bool) -> Scenario {
    let mut s = Scenario::default();
    s.db.replication = Replication::Quorum;
    s.db.quorum_r = r;
    s.db.quorum_w = w;
    s.db.read_repair = repair;
    s.cache.enabled = false;
    s.workload.sessions_per_region = 10;
    s.workload.keys = 50;
    s.workload.mix.write = 0.3;
    // Half the messages between the app servers and db-0-2 are lost: it
    // misses writes the other replicas have.
    s.script = (1..=4)
        .map(|i| TimedCommand {
            at_s: 0.0,
            command: Command::Link {
                a: format!("app-{i}"),
                b: "db-0-2".into(),
                latency_ms: 0.0,
                jitter_ms: 0.0,
                loss: 0.5,
            },
        })
        .collect();
    s
}

fn run(s: &Scenario, secs: f64) -> Simulation {
    let mut sim = Simulation::new(s, 3).unwrap();
    sim.step_until(SimTime::from_secs_f64(secs));
    sim
}

#[test]
fn overlapping_quorums_never_return_stale_data_and_small_ones_do() {
    let strict = run(&quorum(2, 2, false), 20.0).summary();
    let loose = run(&quorum(1, 1, false), 20.0).summary();
    assert!(strict.writes.acked > 1000 && strict.reads.total > 1000);
    assert_eq!(
        strict.anomalies.stale_read, 0,
        "R + W > N: every read quorum meets every write quorum"
    );
    assert!(
        loose.anomalies.stale_read > 0,
        "R = W = 1: a read can ask a replica the write has not reached"
    );
    // Only two writes of one key at once lose: last writer wins keeps the
    // one stamped later and silently drops the other, confirmed or not.
    assert!(
        strict.writes.lost * 10 < strict.writes.acked,
        "{} of {} confirmed writes lost",
        strict.writes.lost,
        strict.writes.acked
    );
    assert_eq!(strict.leader_changes, 0, "there is no leader to lose");
}

#[test]
fn read_repair_brings_lagging_replicas_up_to_date() {
    // R = W = 1: a read takes the first answer; repair sends the newest
    // version to every replica that answered with an older one.
    let without = run(&quorum(1, 1, false), 30.0)
        .summary()
        .anomalies
        .stale_read;
    let with = run(&quorum(1, 1, true), 30.0)
        .summary()
        .anomalies
        .stale_read;
    assert!(without > 0);
    assert!(
        with < without,
        "{with} stale reads with repair, {without} without"
    );
}

#[test]
fn a_leaderless_group_keeps_serving_through_a_replica_crash() {
    let mut s = quorum(2, 2, true);
    s.script = vec![TimedCommand {
        at_s: 5.0,
        command: Command::Crash {
            node: "db-0-0".into(),
        },
    }];
    let sim = run(&s, 15.0);
    let sum = sim.summary();
    assert_eq!(sum.anomalies.stale_read, 0);
    // Two of three replicas answer: no election, no failed requests.
    assert_eq!(sum.requests.failed, 0);
}

#[test]
fn leaders_in_every_region_take_concurrent_writes_and_the_later_one_wins() {
    let mut s = Scenario::default();
    s.db.replication = Replication::MultiLeader;
    s.cache.enabled = false;
    s.workload.mix.write = 0.3;
    s.workload.key_skew = 1.2;
    let sim = run(&s, 30.0);
    let sum = sim.summary();
    // One replica per region, each a leader.
    let regions: std::collections::BTreeSet<String> = sim
        .snapshot(0)
        .nodes
        .iter()
        .filter(|n| n.kind == pathlab_sim::NodeKind::Db)
        .map(|n| n.region.clone())
        .collect();
    assert_eq!(regions.len(), 3);
    assert!(
        sum.conflicts > 0,
        "users in different regions wrote the same hot key at once"
    );
    assert!(
        sim.log()
            .iter()
            .any(|e| matches!(e.event, pathlab_sim::LogEvent::Conflict { .. }))
    );
    assert_eq!(sum.leader_changes, 0);
    assert!(
        sum.writes.lost > 0,
        "a confirmed write overwritten by a concurrent one is lost: last writer wins discards it"
    );
    let mut single = s.clone();
    single.db.replication = Replication::Async;
    assert_eq!(
        run(&single, 30.0).summary().conflicts,
        0,
        "one leader orders every write"
    );
}

#[test]
fn a_server_whose_clock_runs_behind_loses_its_writes_to_last_writer_wins() {
    // Leaderless, last writer wins by timestamp. app-1's clock runs half a
    // second behind: its writes of a hot key carry older stamps than writes
    // the other servers confirmed just before, so they are confirmed and
    // then never seen — lost writes.
    let mut s = Scenario::default();
    s.cache.enabled = false;
    s.db.replication = Replication::Quorum;
    s.workload.mix.write = 0.3;
    let mut honest = Simulation::new(&s, 3).unwrap();
    honest.run_for(30.0);
    // Even with true clocks, two servers writing a key at once each get a
    // confirmation, and the one stamped earlier is silently discarded.
    let concurrent = honest.summary().anomalies.lost_write;
    s.app.clock_skew_ms = vec![-500.0];
    let mut skewed = Simulation::new(&s, 3).unwrap();
    skewed.run_for(30.0);
    let lost = skewed.summary().anomalies.lost_write;
    assert!(
        lost > 3 * concurrent,
        "{lost} writes lost with a slow clock, {concurrent} with true clocks"
    );
    let logged = skewed
        .log()
        .iter()
        .filter(|e| matches!(e.event, pathlab_sim::LogEvent::LostWrite { .. }))
        .count() as u64;
    assert_eq!(logged, lost);
}
