//! Cache lessons: write policies (invalidate, write-through, write-back and what a crash does to it), eviction policies under skewed keys, and stale entries.

use pathlab_sim::{
    Command, HopNote, LogEvent, Outcome, Scenario, SimTime, Simulation, TimedCommand,
    scenario::{Eviction, WritePolicy},
};

fn scenario(policy: WritePolicy) -> Scenario {
    let mut s = Scenario::default();
    s.cache.write_policy = policy;
    s.workload.mix.write = 0.3;
    s
}

fn crash_cache_at(mut s: Scenario, at_s: f64) -> Scenario {
    s.script = vec![
        TimedCommand {
            at_s,
            command: Command::Crash {
                node: "cache-1".into(),
            },
        },
        TimedCommand {
            at_s: at_s + 2.0,
            command: Command::Restart {
                node: "cache-1".into(),
            },
        },
    ];
    s
}

fn run(s: &Scenario, seed: u64, secs: f64) -> Simulation {
    let mut sim = Simulation::new(s, seed).unwrap();
    sim.step_until(SimTime::from_secs_f64(secs));
    sim
}

#[test]
fn write_back_loses_confirmed_writes_when_the_cache_dies_and_write_through_does_not() {
    let back = run(
        &crash_cache_at(scenario(WritePolicy::WriteBack), 10.5),
        1,
        20.0,
    );
    let through = run(
        &crash_cache_at(scenario(WritePolicy::WriteThrough), 10.5),
        1,
        20.0,
    );
    let lost_back = back.summary().writes.lost;
    assert!(
        lost_back > 10,
        "about half a second of writes waited for the flush: {lost_back}"
    );
    assert!(
        back.log()
            .iter()
            .any(|e| matches!(e.event, LogEvent::LostWrite { .. }))
    );
    assert_eq!(through.summary().writes.lost, 0);
}

#[test]
fn write_back_writes_reach_the_database_when_nothing_fails() {
    let sim = run(&scenario(WritePolicy::WriteBack), 2, 20.0);
    let sum = sim.summary();
    assert_eq!(sum.writes.lost, 0);
    assert!(sum.writes.acked > 1000);
    // Confirmed at the cache: much faster than waiting for the database.
    let invalidate = run(&scenario(WritePolicy::Invalidate), 2, 20.0);
    let write_latency = |sim: &Simulation| {
        let mut v: Vec<u64> = sim
            .traces()
            .filter(|t| t.kind == pathlab_sim::RequestKind::Write && t.outcome == Outcome::Ok)
            .map(|t| t.end.since(t.start))
            .collect();
        v.sort_unstable();
        v[v.len() / 2]
    };
    assert!(
        write_latency(&sim) + 1500 < write_latency(&invalidate),
        "{} vs {}",
        write_latency(&sim),
        write_latency(&invalidate)
    );
    assert!(
        sim.traces()
            .any(|t| t.hops.iter().any(|h| h.note == HopNote::CacheWrite))
    );
}

#[test]
fn lost_invalidations_leave_stale_entries_that_readers_see() {
    let mut s = scenario(WritePolicy::Invalidate);
    s.cache.ttl_s = 600.0;
    // Every message between app-1 and the cache is lost: app-1's deletes
    // never arrive, so the cache keeps values its writes replaced.
    s.script = vec![TimedCommand {
        at_s: 2.0,
        command: Command::Link {
            a: "app-1".into(),
            b: "cache-1".into(),
            latency_ms: 0.0,
            jitter_ms: 0.0,
            loss: 1.0,
        },
    }];
    let sim = run(&s, 3, 30.0);
    let stale: Vec<_> = sim
        .traces()
        .filter(|t| t.outcome == Outcome::Stale)
        .collect();
    assert!(!stale.is_empty());
    assert!(
        stale
            .iter()
            .any(|t| t.hops.iter().any(|h| h.note == HopNote::CacheHit)),
        "served by the cache"
    );
    let clean = run(&scenario(WritePolicy::Invalidate), 3, 30.0);
    assert!(clean.summary().reads.stale < sim.summary().reads.stale / 5);
}

#[test]
fn with_skewed_keys_frequency_beats_arrival_order() {
    let hit_ratio = |e: Eviction| {
        let mut s = Scenario::default();
        s.cache.eviction = e;
        s.cache.capacity = 100;
        s.workload.key_skew = 1.1;
        let c = run(&s, 4, 40.0).summary().cache;
        c.hits as f64 / (c.hits + c.misses) as f64
    };
    let (lru, lfu, fifo) = (
        hit_ratio(Eviction::Lru),
        hit_ratio(Eviction::Lfu),
        hit_ratio(Eviction::Fifo),
    );
    assert!(lfu > fifo + 0.02, "lfu {lfu}, fifo {fifo}");
    assert!(lru > fifo, "lru {lru}, fifo {fifo}");
}

#[test]
fn write_through_keeps_the_new_value_in_the_cache_so_the_next_read_hits() {
    let hits = |p: WritePolicy| {
        let c = run(&scenario(p), 6, 30.0).summary().cache;
        c.hits as f64 / (c.hits + c.misses) as f64
    };
    let (through, invalidate) = (
        hits(WritePolicy::WriteThrough),
        hits(WritePolicy::Invalidate),
    );
    assert!(
        through > invalidate + 0.05,
        "write-through {through}, invalidate {invalidate}"
    );
}

/// Runs `s` for `secs` keeping the history of every read and write.
fn run_with_history(s: &Scenario, seed: u64, secs: f64) -> Simulation {
    let mut sim = Simulation::new(s, seed).unwrap();
    sim.record_history();
    sim.step_until(SimTime::from_secs_f64(secs));
    sim
}

#[test]
fn write_back_serves_the_new_value_from_the_cache_before_it_reaches_the_database() {
    // Flushed once a second: every write waits up to a second in the cache.
    // Few users and few keys, so users often read what they just wrote.
    let mut s = scenario(WritePolicy::WriteBack);
    s.cache.flush_interval_ms = 1_000.0;
    s.workload.sessions_per_region = 5;
    s.workload.keys = 40;
    let sim = run_with_history(&s, 3, 20.0);
    let h = sim.history();
    let writes: Vec<_> = h
        .iter()
        .filter(|o| o.op == pathlab_sim::RequestKind::Write && o.outcome == Outcome::Ok)
        // The last writes may still wait for their flush.
        .filter(|o| o.complete_us < 18_000_000)
        .collect();
    assert!(writes.len() > 500);
    // Every confirmed write-back write gets the version the database gave it
    // at the flush, so an outside checker can match the reads that return it.
    assert!(writes.iter().all(|w| w.version.is_some()));
    // A session that reads a key right after writing it reads its write
    // (from the cache), or something newer, never the value before.
    let mut checked = 0;
    for w in &writes {
        for r in h.iter().filter(|r| {
            r.op == pathlab_sim::RequestKind::Read
                && r.session == w.session
                && r.key == w.key
                && r.outcome == Outcome::Ok
                && r.invoke_us > w.complete_us
                && r.invoke_us < w.complete_us + 500_000
        }) {
            checked += 1;
            assert!(
                r.version >= w.version,
                "session {} wrote key {} (version {:?}) and then read {:?}",
                w.session,
                w.key,
                w.version,
                r.version
            );
        }
    }
    assert!(checked > 20, "only {checked} reads right after a write");
    assert_eq!(sim.summary().anomalies.read_your_writes, 0);
}

#[test]
fn reads_of_write_back_values_the_cache_loses_are_rolled_back() {
    let mut s = crash_cache_at(scenario(WritePolicy::WriteBack), 10.5);
    s.cache.flush_interval_ms = 1_000.0;
    let sim = run(&s, 1, 20.0);
    let a = sim.summary().anomalies;
    // The crash lost the dirty writes; users had read some of those values.
    assert!(a.lost_write > 10, "{a:?}");
    assert!(a.rolled_back_read > 0, "{a:?}");
    let logged = sim
        .log()
        .iter()
        .filter(|e| matches!(e.event, LogEvent::RolledBackRead { .. }))
        .count() as u64;
    assert_eq!(logged, a.rolled_back_read);
}
