//! Replication lessons: semi-synchronous acknowledgements, "received" versus "applied", and routing reads for read-your-writes, monotonic reads and nearness.

use pathlab_sim::{
    Command, ErrorKind, HopNote, Scenario, SimTime, Simulation, TimedCommand,
    scenario::{FollowerAck, ReadFrom, Replication},
};

fn run(s: &Scenario, seed: u64, secs: f64) -> Simulation {
    let mut sim = Simulation::new(s, seed).unwrap();
    sim.step_until(SimTime::from_secs_f64(secs));
    sim
}

fn db(replication: Replication, ack: FollowerAck, read_from: ReadFrom) -> Scenario {
    let mut s = Scenario::default();
    s.db.replication = replication;
    s.db.follower_ack = ack;
    s.db.read_from = read_from;
    s.cache.enabled = false;
    s
}

fn crash_at(mut s: Scenario, node: &str, at_s: f64) -> Scenario {
    s.script.push(TimedCommand {
        at_s,
        command: Command::Crash { node: node.into() },
    });
    s
}

#[test]
fn semi_synchronous_replication_keeps_confirmed_writes_through_a_leader_crash() {
    let semi = crash_at(
        db(
            Replication::SemiSync,
            FollowerAck::Received,
            ReadFrom::Leader,
        ),
        "db-0-0",
        10.0,
    );
    // Asynchronous, shipping the log with the heartbeat: the writes since
    // the last batch had not left the leader.
    let mut asynchronous = crash_at(
        db(Replication::Async, FollowerAck::Received, ReadFrom::Leader),
        "db-0-0",
        10.0,
    );
    asynchronous.db.ship_on_heartbeat = true;
    let (mut lost_semi, mut lost_async) = (0, 0);
    for seed in 0..10 {
        lost_semi += run(&semi, seed, 20.0).summary().writes.lost;
        lost_async += run(&asynchronous, seed, 20.0).summary().writes.lost;
    }
    // One follower's acknowledgement makes a majority of three: what was
    // confirmed survives any single failure.
    assert_eq!(lost_semi, 0);
    assert!(lost_async > 0);
}

#[test]
fn semi_synchronous_replication_keeps_writing_when_a_follower_is_down_and_synchronous_does_not() {
    let semi = crash_at(
        db(
            Replication::SemiSync,
            FollowerAck::Received,
            ReadFrom::Leader,
        ),
        "db-0-2",
        5.0,
    );
    let sync = crash_at(
        db(Replication::Sync, FollowerAck::Received, ReadFrom::Leader),
        "db-0-2",
        5.0,
    );
    let failed = |s: &Scenario| {
        run(s, 1, 20.0)
            .metrics()
            .errors_of(ErrorKind::DbUnavailable)
    };
    assert_eq!(failed(&semi), 0);
    assert!(
        failed(&sync) > 100,
        "every write waits for the dead follower"
    );
}

#[test]
fn a_follower_that_has_only_received_a_write_still_serves_the_old_value() {
    // Followers take 50 ms to apply what they received.
    let slow_apply = |ack| {
        let mut s = db(Replication::Sync, ack, ReadFrom::Followers);
        s.db.apply_ms = 50.0;
        s
    };
    let received = run(&slow_apply(FollowerAck::Received), 2, 30.0);
    let applied = run(&slow_apply(FollowerAck::Applied), 2, 30.0);
    assert!(received.summary().reads.stale > 0, "durable is not visible");
    assert_eq!(applied.summary().reads.stale, 0);
}

fn chatty() -> Scenario {
    // Few sessions and few keys, many writes: sessions often read what they wrote.
    let mut s = db(
        Replication::Async,
        FollowerAck::Applied,
        ReadFrom::Followers,
    );
    s.workload.sessions_per_region = 5;
    s.workload.keys = 40;
    s.workload.mix.write = 0.3;
    s.db.apply_ms = 40.0;
    s
}

#[test]
fn read_your_writes_routing_never_shows_a_session_less_than_it_wrote() {
    let plain = run(&chatty(), 4, 30.0).summary().anomalies;
    let mut ryw = chatty();
    ryw.db.read_from = ReadFrom::ReadYourWrites;
    let sim = run(&ryw, 4, 30.0);
    assert!(plain.read_your_writes > 0, "{plain:?}");
    assert_eq!(sim.summary().anomalies.read_your_writes, 0);
    // Followers that were behind said so and the read went to the leader.
    assert!(
        sim.traces()
            .any(|t| t.hops.iter().any(|h| h.note == HopNote::Behind))
    );
}

#[test]
fn a_sticky_replica_per_session_keeps_reads_from_going_back_in_time() {
    // One follower applies ten times more slowly than the other: reads that
    // hop between them see a key's value move backwards.
    let mut uneven = chatty();
    uneven.script.push(TimedCommand {
        at_s: 0.0,
        command: Command::Slow {
            node: "db-0-2".into(),
            factor: 10.0,
        },
    });
    let plain = run(&uneven, 5, 30.0).summary().anomalies;
    let mut sticky = uneven.clone();
    sticky.db.read_from = ReadFrom::Sticky;
    let s = run(&sticky, 5, 30.0).summary().anomalies;
    assert!(plain.monotonic_read > 0, "{plain:?}");
    assert_eq!(s.monotonic_read, 0);
}

#[test]
fn nearest_replica_reads_stay_in_the_app_servers_region() {
    let mut s = db(Replication::Async, FollowerAck::Applied, ReadFrom::Nearest);
    s.db.placement = vec!["eu-west".into(), "us-east".into(), "ap-southeast".into()];
    s.db.election_timeout_ms = [1000.0, 2000.0];
    let sim = run(&s, 6, 10.0);
    let near = sim.node_id("db-0-1").unwrap();
    let reads: Vec<_> = sim
        .traces()
        .flat_map(|t| t.hops.iter().filter(|h| h.note == HopNote::DbRead))
        .collect();
    assert!(reads.len() > 500);
    assert!(
        reads.iter().all(|h| h.node == near),
        "app servers are in us-east, and so is db-0-1"
    );
}

#[test]
fn reads_of_a_value_a_failover_discards_are_counted_as_rolled_back() {
    // Split brain: the cut-off leader keeps taking writes, and users read
    // them back, until the partition heals and those writes are thrown
    // away. Those reads saw a value that, in the end, never existed.
    let mut sim = Simulation::new(
        &pathlab_sim::presets::preset("partition-leader").unwrap(),
        1,
    )
    .unwrap();
    sim.run();
    let a = sim.summary().anomalies;
    assert!(a.rolled_back_read > 100, "{a:?}");
    let logged = sim
        .log()
        .iter()
        .filter(|e| matches!(e.event, pathlab_sim::LogEvent::RolledBackRead { .. }))
        .count() as u64;
    assert_eq!(logged, a.rolled_back_read, "each one has its log line");
    // Safe replication with leader reads never shows such a value.
    let mut safe = Simulation::new(
        &pathlab_sim::presets::preset("sync-leader-reads").unwrap(),
        1,
    )
    .unwrap();
    safe.run();
    assert_eq!(safe.summary().anomalies.rolled_back_read, 0);
}

/// The largest replication lag (ms) any follower showed, second by second.
fn max_lag_ms(sim: &Simulation) -> f64 {
    sim.metrics()
        .series
        .iter()
        .flat_map(|p| p.lag_ms.iter().flatten().copied())
        .fold(0.0, f64::max)
}

#[test]
fn asynchronous_replication_ships_each_write_at_once_so_lag_is_the_network_and_the_followers_work()
{
    // Heartbeats only every half second: they keep followers from calling
    // elections, but the log does not wait for them.
    let mut streaming = db(Replication::Async, FollowerAck::Applied, ReadFrom::Leader);
    streaming.db.heartbeat_ms = 500.0;
    streaming.db.election_timeout_ms = [5_000.0, 10_000.0];
    let mut batched = streaming.clone();
    batched.db.ship_on_heartbeat = true;
    let near = max_lag_ms(&run(&streaming, 3, 20.0));
    let batch = max_lag_ms(&run(&batched, 3, 20.0));
    // Half a millisecond on the wire, 2 ms to make it durable, 5 ms to
    // apply, and some waiting for the round before.
    assert!(near < 30.0, "streamed: lag up to {near} ms");
    assert!(batch > 300.0, "batched: lag up to {batch} ms");

    // With the followers an ocean away (75 ms round trip) the lag is the
    // one-way delay plus the same work.
    let mut remote = streaming.clone();
    remote.db.placement = vec!["us-east".into(), "eu-west".into(), "eu-west".into()];
    let far = max_lag_ms(&run(&remote, 3, 20.0));
    assert!((37.5..80.0).contains(&far), "remote: lag up to {far} ms");
}

#[test]
fn synchronous_followers_apply_only_committed_writes_so_their_reads_are_never_rolled_back() {
    // Five replicas, reads from followers and no fencing; at 10 s the
    // leader and one follower are cut off from the other three.
    let partitioned = |replication| {
        let mut s = db(replication, FollowerAck::Applied, ReadFrom::Followers);
        s.db.replicas = 5;
        s.db.fencing = false;
        let group = |names: &[&str]| names.iter().map(|n| n.to_string()).collect();
        s.script = vec![
            TimedCommand {
                at_s: 10.0,
                command: Command::Partition {
                    groups: vec![
                        group(&["db-0-0", "db-0-1", "app-1", "app-2"]),
                        group(&["db-0-2", "db-0-3", "db-0-4", "app-3", "app-4"]),
                    ],
                },
            },
            TimedCommand {
                at_s: 20.0,
                command: Command::Heal,
            },
        ];
        s
    };
    // Asynchronous: the cut-off follower applies what the old leader sends
    // it, users read those values, and the heal throws them away.
    let a = run(&partitioned(Replication::Async), 1, 30.0)
        .summary()
        .anomalies;
    assert!(a.rolled_back_read > 0, "{a:?}");
    // Synchronous: the follower holds them, unapplied, until it knows they
    // are committed, which on the minority side they never are.
    let s = run(&partitioned(Replication::Sync), 1, 30.0)
        .summary()
        .anomalies;
    assert_eq!(s.rolled_back_read, 0, "{s:?}");
}
