//! Scenario tests that read like the lessons they check: build a system, break it, and assert on what its users saw.

use pathlab_sim::{
    Command, ErrorKind, HopNote, LogEvent, Role, Scenario, SimTime, Simulation, presets,
    scenario::{FollowerAck, ReadFrom, Replication},
};

fn sim(s: &Scenario, seed: u64) -> Simulation {
    Simulation::new(s, seed).expect("valid scenario")
}

fn at(secs: f64) -> SimTime {
    SimTime::from_secs_f64(secs)
}

fn crash(node: &str) -> Command {
    Command::Crash { node: node.into() }
}

fn restart(node: &str) -> Command {
    Command::Restart { node: node.into() }
}

fn leader(sim: &Simulation) -> Option<(String, u64)> {
    sim.replicas()
        .filter(|(_, role, _, up)| *role == Role::Leader && *up)
        .max_by_key(|(_, _, term, _)| *term)
        .map(|(n, _, t, _)| (n.to_string(), t))
}

/// Availability over the per-second points whose end lies in `(from, to]`.
fn availability_between(sim: &Simulation, from: u32, to: u32) -> f64 {
    let (mut ok, mut all) = (0, 0);
    for p in sim
        .metrics()
        .series
        .iter()
        .filter(|p| p.t_s > from && p.t_s <= to)
    {
        ok += p.ok + p.stale;
        all += p.requests;
    }
    assert!(all > 0, "no requests finished between {from} s and {to} s");
    ok as f64 / all as f64
}

#[test]
fn a_healthy_system_answers_everyone() {
    let mut s = sim(&Scenario::default(), 1);
    s.run_for(30.0);
    let sum = s.summary();
    assert!(
        sum.requests.total > 8000,
        "about 300 requests a second for 30 s"
    );
    assert_eq!(sum.requests.failed, 0);
    assert_eq!(sum.anomalies.lost_write, 0);
    // Users far from the origin wait for the round trip; users near it do not.
    assert!(sum.latency_ms.p50 < 20.0, "p50 {}", sum.latency_ms.p50);
    assert!(
        sum.latency_ms.p99 > 150.0,
        "Sydney's users pay ~160 ms per trip to us-east"
    );
}

#[test]
fn when_the_leader_crashes_a_follower_takes_over_and_service_recovers() {
    let mut s = sim(&presets::preset("leader-crash").unwrap(), 7);
    s.step_until(at(19.9));
    assert_eq!(leader(&s).map(|l| l.0), Some("db-0-0".to_string()));
    // The preset crashes db-0-0 at 20 s. Followers wait 1–2 s of silence,
    // then ask for votes: within 5 s there is a new leader in a higher term.
    s.step_until(at(25.0));
    let (new_leader, term) = leader(&s).expect("a new leader within 5 s");
    assert_ne!(new_leader, "db-0-0");
    assert!(term >= 2);
    let elected = s
        .log()
        .iter()
        .any(|e| matches!(e.event, LogEvent::Elected { .. }) && e.at > at(20.0) && e.at < at(25.0));
    assert!(elected, "the log says who was elected");
    // Once the apps have found the new leader, users are served again.
    s.step_until(at(40.0));
    assert!(availability_between(&s, 26, 39) > 0.995);
    assert_eq!(s.summary().leader_changes, 1);
}

#[test]
fn followers_trail_the_leader_so_async_follower_reads_can_be_stale() {
    let mut s = sim(&presets::preset("async-follower-reads").unwrap(), 3);
    s.run_for(30.0);
    let sum = s.summary();
    assert!(sum.reads.stale > 0, "some reads must see an older version");
    assert!(
        sum.reads.stale < sum.reads.total / 5,
        "but most reads are fresh"
    );
    // A stale read's trace shows it was served by a follower, and what it missed.
    let t = s
        .traces()
        .find(|t| t.outcome == pathlab_sim::Outcome::Stale)
        .expect("a stale read's trace is kept");
    assert!(t.expected > t.version);
    let served_by_follower = t.hops.iter().any(|h| h.note == HopNote::DbRead);
    assert!(served_by_follower);
    // Followers report lag behind the leader.
    let lagging = s
        .metrics()
        .series
        .iter()
        .any(|p| p.lag_ms.iter().flatten().any(|&l| l > 0.0));
    assert!(lagging);
}

fn sync_applied_leader_reads() -> Scenario {
    let mut s = presets::preset("sync-leader-reads").unwrap();
    assert_eq!(s.db.replication, Replication::Sync);
    assert_eq!(s.db.follower_ack, FollowerAck::Applied);
    assert_eq!(s.db.read_from, ReadFrom::Leader);
    s.script = vec![
        pathlab_sim::TimedCommand {
            at_s: 10.0,
            command: crash("db-0-0"),
        },
        pathlab_sim::TimedCommand {
            at_s: 16.0,
            command: restart("db-0-0"),
        },
    ];
    s.duration_s = 25.0;
    s
}

#[test]
fn synchronous_applied_replication_with_leader_reads_never_loses_or_goes_back_in_time() {
    let scenario = sync_applied_leader_reads();
    for seed in 0..50 {
        let mut s = sim(&scenario, seed);
        s.run();
        let sum = s.summary();
        assert_eq!(
            sum.leader_changes, 1,
            "seed {seed}: the crash forced one election"
        );
        assert!(sum.writes.acked > 300, "seed {seed}: writes were confirmed");
        let a = &sum.anomalies;
        assert_eq!(
            (
                a.stale_read,
                a.read_your_writes,
                a.monotonic_read,
                a.lost_write
            ),
            (0, 0, 0, 0),
            "seed {seed}: {a:?}"
        );
    }
}

#[test]
fn asynchronous_replication_loses_confirmed_writes_when_the_leader_dies() {
    let mut streaming = Scenario {
        script: vec![pathlab_sim::TimedCommand {
            at_s: 10.0,
            command: crash("db-0-0"),
        }],
        duration_s: 20.0,
        ..Scenario::default()
    };
    // Shipped in batches with the heartbeat (log shipping), the writes the
    // leader confirmed since the last batch die with it.
    let mut batched = streaming.clone();
    batched.db.ship_on_heartbeat = true;
    // Each write streamed the moment it is stored has already left the
    // leader when the user hears "done": a crash alone loses nothing, even
    // with the followers an ocean away.
    streaming.db.placement = vec!["us-east".into(), "eu-west".into(), "eu-west".into()];
    for seed in 0..10 {
        let mut s = sim(&streaming, seed);
        s.run();
        assert_eq!(s.summary().writes.lost, 0, "seed {seed}");
    }
    let mut losses = Vec::new();
    for seed in 0..10 {
        let mut s = sim(&batched, seed);
        s.run();
        losses.push(s.summary().writes.lost);
        if s.summary().writes.lost > 0 {
            let logged = s
                .log()
                .iter()
                .any(|e| matches!(e.event, LogEvent::LostWrite { .. }));
            assert!(logged || s.lost_writes() > 0);
        }
    }
    assert!(
        losses.iter().filter(|&&l| l > 0).count() >= 3,
        "the leader confirmed writes its followers had not received yet: {losses:?}"
    );
}

#[test]
fn a_partitioned_leader_without_fencing_confirms_writes_that_are_thrown_away() {
    let scenario = presets::preset("partition-leader").unwrap();
    assert!(!scenario.db.fencing);
    let mut s = sim(&scenario, 11);
    s.step_until(at(30.0));
    // Split brain: the old leader still leads term 1 on its side while the
    // majority has elected a leader for a later term.
    let leaders: Vec<(String, u64)> = s
        .replicas()
        .filter(|(_, r, _, _)| *r == Role::Leader)
        .map(|(n, _, t, _)| (n.to_string(), t))
        .collect();
    assert_eq!(leaders.len(), 2, "{leaders:?}");
    assert!(leaders.iter().any(|(n, t)| n == "db-0-0" && *t == 1));
    s.step_until(at(45.0));
    let sum = s.summary();
    assert!(
        sum.writes.lost > 50,
        "minority-side writes are lost: {}",
        sum.writes.lost
    );
    assert!(
        s.log()
            .iter()
            .any(|e| matches!(e.event, LogEvent::Truncated { .. }))
    );
    assert_eq!(
        leaders_now(&s),
        1,
        "after healing there is one leader again"
    );

    // The same partition with fencing on: the old leader steps down within
    // about a second, so far fewer confirmed writes are lost.
    let mut fenced = scenario.clone();
    fenced.db.fencing = true;
    let mut f = sim(&fenced, 11);
    f.step_until(at(45.0));
    assert!(
        f.log()
            .iter()
            .any(|e| matches!(e.event, LogEvent::Fenced { .. }))
    );
    assert!(
        f.summary().writes.lost * 5 < sum.writes.lost,
        "fencing: {} lost, no fencing: {} lost",
        f.summary().writes.lost,
        sum.writes.lost
    );
}

fn leaders_now(s: &Simulation) -> usize {
    s.replicas()
        .filter(|(_, r, _, up)| *r == Role::Leader && *up)
        .count()
}

#[test]
fn a_dns_change_reaches_users_only_when_their_cached_answer_expires() {
    let mut scenario = Scenario::default();
    scenario.dns.ttl_s = 30.0;
    scenario.trace_capacity = 100_000;
    let mut s = sim(&scenario, 5);
    s.step_until(at(5.0));
    s.apply(&Command::DnsSet {
        region: Some("us-east".into()),
        target: "cdn-eu-west".into(),
    })
    .unwrap();
    s.step_until(at(45.0));
    let us_client = s.node_id("client-us-east").unwrap();
    let (old_edge, new_edge) = (
        s.node_id("cdn-us-east").unwrap(),
        s.node_id("cdn-eu-west").unwrap(),
    );
    let edge_of = |t: &pathlab_sim::Trace| {
        t.hops
            .iter()
            .find(|h| matches!(h.note, HopNote::CdnHit | HopNote::CdnMiss))
            .map(|h| h.node)
    };
    let statics = s
        .traces()
        .filter(|t| t.client == us_client && t.kind == pathlab_sim::RequestKind::Static);
    let (mut before, mut after) = (0, 0);
    for t in statics {
        let start = t.start.as_secs_f64();
        if (5.5..29.0).contains(&start) {
            assert_eq!(
                edge_of(t),
                Some(old_edge),
                "request at {start:.2}s still uses the cached answer"
            );
            before += 1;
        } else if start > 31.0 {
            assert_eq!(
                edge_of(t),
                Some(new_edge),
                "request at {start:.2}s uses the new answer"
            );
            after += 1;
        }
    }
    assert!(
        before > 100 && after > 100,
        "{before} before, {after} after"
    );
}

#[test]
fn repeated_content_is_served_from_the_cdn_edge_and_the_cache() {
    let mut s = sim(&Scenario::default(), 2);
    s.run_for(30.0);
    let sum = s.summary();
    assert!(sum.cdn.hits > 4 * sum.cdn.misses, "{:?}", sum.cdn);
    assert!(sum.cache.hits > sum.cache.misses / 2, "{:?}", sum.cache);
    // An edge hit for a Sydney user never crosses the Pacific.
    let sydney = s.node_id("client-ap-southeast").unwrap();
    let hit = s
        .traces()
        .find(|t| t.client == sydney && t.hops.iter().any(|h| h.note == HopNote::CdnHit))
        .unwrap();
    assert!(
        hit.end.since(hit.start) < 10_000,
        "edge hit took {} µs",
        hit.end.since(hit.start)
    );
}

#[test]
fn a_cache_crash_sends_a_burst_of_reads_to_the_database() {
    let scenario = Scenario {
        script: vec![
            pathlab_sim::TimedCommand {
                at_s: 20.0,
                command: crash("cache-1"),
            },
            pathlab_sim::TimedCommand {
                at_s: 21.0,
                command: restart("cache-1"),
            },
        ],
        ..Scenario::default()
    };
    let mut s = sim(&scenario, 4);
    s.step_until(at(30.0));
    let db_ops = |from: u32, to: u32| -> u64 {
        s.metrics()
            .series
            .iter()
            .filter(|p| p.t_s > from && p.t_s <= to)
            .map(|p| p.db_ops)
            .sum::<u64>()
    };
    let warm = db_ops(15, 19) as f64 / 4.0;
    let cold = db_ops(20, 22) as f64 / 2.0;
    assert!(
        cold > 1.5 * warm,
        "database ops/s: {warm} warm, {cold} right after the crash"
    );
    // The cache then warms up again.
    let later = db_ops(26, 30) as f64 / 4.0;
    assert!(later < cold, "{later} later vs {cold}");
}

#[test]
fn a_crashed_app_server_is_taken_out_of_rotation_by_health_checks() {
    let mut s = sim(&Scenario::default(), 9);
    s.step_until(at(10.0));
    s.apply(&crash("app-2")).unwrap();
    s.step_until(at(20.0));
    let marked = s
        .log()
        .iter()
        .find(|e| matches!(e.event, LogEvent::BackendHealth { up: false, .. }))
        .expect("the balancer marks it down");
    // Three failed checks a second apart.
    assert!(
        marked.at > at(12.0) && marked.at < at(14.5),
        "marked at {}",
        marked.at
    );
    // Requests sent to it before that waited in vain; afterwards none fail.
    assert!(s.metrics().errors_of(ErrorKind::GatewayTimeout) > 0);
    assert!(availability_between(&s, 16, 20) > 0.999);
}

#[test]
fn when_the_active_balancer_dies_the_standby_takes_the_address() {
    let mut s = sim(&Scenario::default(), 9);
    s.step_until(at(10.0));
    s.apply(&crash("lb-a")).unwrap();
    s.step_until(at(20.0));
    let takeover = s
        .log()
        .iter()
        .find(|e| matches!(e.event, LogEvent::LbTakeover { .. }))
        .expect("lb-b takes over");
    // Three missed one-second heartbeats.
    assert!(
        takeover.at > at(13.0) && takeover.at < at(14.5),
        "took over at {}",
        takeover.at
    );
    // Users whose requests went to the dead balancer waited for their
    // 4-second timeout; those that came after the takeover were served.
    assert!(availability_between(&s, 10, 18) < 0.9);
    assert!(availability_between(&s, 18, 20) > 0.999);
}

#[test]
fn bad_commands_are_refused_and_change_nothing() {
    let mut s = sim(&Scenario::default(), 1);
    s.step_until(at(1.0));
    let before = s.fingerprint();
    assert!(
        s.apply(&crash("db-9-9"))
            .unwrap_err()
            .to_string()
            .contains("db-9-9")
    );
    assert!(
        s.apply(&Command::Slow {
            node: "app-1".into(),
            factor: f64::NAN
        })
        .is_err()
    );
    assert!(
        s.apply(&Command::Partition {
            groups: vec![vec!["app-1".into()]]
        })
        .is_err()
    );
    assert!(
        s.apply(&Command::Flush {
            node: "app-1".into()
        })
        .is_err()
    );
    assert!(
        s.apply(&Command::RegionDown {
            region: "mars".into()
        })
        .is_err()
    );
    assert_eq!(s.fingerprint(), before);
}

#[test]
fn switching_to_follower_reads_while_running_brings_stale_reads() {
    let scenario = presets::preset("sync-leader-reads").unwrap();
    let mut s = sim(&scenario, 8);
    s.step_until(at(10.0));
    assert_eq!(s.summary().reads.stale, 0);
    s.apply(&Command::SetDb {
        replication: Some(Replication::Async),
        follower_ack: None,
        read_from: Some(ReadFrom::Followers),
        fencing: None,
        sync_followers: None,
    })
    .unwrap();
    // A follower busy with other work applies ten times more slowly.
    s.apply(&Command::Slow {
        node: "db-0-2".into(),
        factor: 10.0,
    })
    .unwrap();
    s.step_until(at(30.0));
    assert!(
        s.summary().reads.stale > 0,
        "lagging followers now answer reads"
    );
    assert_eq!(
        s.summary().requests.failed,
        0,
        "writes waiting at the switch were still answered"
    );
}

#[test]
fn more_load_than_the_app_tier_can_take_is_refused_with_503s() {
    let mut s = sim(&Scenario::default(), 1);
    s.step_until(at(5.0));
    s.apply(&Command::SetLoad {
        requests_per_s: Some(12_000.0),
        static_: Some(0.0),
        read: Some(1.0),
        write: None,
        key_skew: None,
    })
    .unwrap();
    s.step_until(at(10.0));
    assert!(s.metrics().errors_of(ErrorKind::Overloaded) > 100);
    let bad = s.apply(&Command::set_rate(-1.0));
    assert!(bad.unwrap_err().to_string().contains("requests_per_s"));
}

#[test]
fn a_crawling_app_server_still_frees_its_workers_for_requests_users_gave_up_on() {
    // With app-1 a thousand times slower, its queue holds requests long
    // after their users timed out. When it is made fast again it must work
    // through them and serve new requests: no worker stays busy forever.
    let mut s = sim(&Scenario::default(), 12);
    s.step_until(at(2.0));
    s.apply(&Command::Slow {
        node: "app-1".into(),
        factor: 1000.0,
    })
    .unwrap();
    s.step_until(at(40.0));
    s.apply(&Command::Slow {
        node: "app-1".into(),
        factor: 1.0,
    })
    .unwrap();
    s.step_until(at(120.0));
    let snap = s.snapshot(0);
    let app1 = snap.nodes.iter().find(|n| n.id == "app-1").unwrap();
    assert!(
        app1.busy.unwrap() < 8,
        "workers still busy: {:?}",
        app1.busy
    );
    assert_eq!(app1.queued, Some(0));
    assert!(s.in_flight() < 100, "{} requests in flight", s.in_flight());
}
