//! The network as users feel it: a message between two regions takes half their round trip on average, whatever the jitter, and a slowed link adds exactly its extra delay on average.

use pathlab_sim::{Command, Scenario, SimTime, Simulation};
use std::collections::BTreeSet;

/// A system whose every database call crosses from us-east (the app
/// servers) to eu-west (the replicas), 75 ms apart.
fn remote_database() -> Scenario {
    let mut s = Scenario::default();
    s.cache.enabled = false;
    s.db.placement = vec!["eu-west".into(); 3];
    s.workload.requests_per_s = 600.0;
    s
}

/// The mean delay (ms) of messages from app servers to `db`, watched on the
/// wire every 0.1 ms (finer than any delay that matters, so that short
/// flights are not missed, which would bias the mean up) for `secs` simulated seconds, with the standard error of
/// that mean and the number of messages.
fn mean_delay_to(sim: &mut Simulation, db: &str, secs: f64) -> (f64, f64, usize) {
    let db = sim.node_id(db).unwrap().0;
    let apps: BTreeSet<u16> = sim
        .nodes()
        .filter(|(_, name, _)| name.starts_with("app-"))
        .map(|(id, _, _)| id.0)
        .collect();
    let mut seen = BTreeSet::new();
    let mut delays = Vec::new();
    let end = sim.now().after((secs * 1e6) as u64);
    while sim.now() < end {
        let t = sim.now().after(100);
        sim.step_until(t);
        for f in sim.flights(usize::MAX) {
            if f.to == db && apps.contains(&f.from) && seen.insert((f.from, f.sent, f.request)) {
                delays.push(f.arrives.since(f.sent) as f64 / 1000.0);
            }
        }
    }
    let n = delays.len().max(1) as f64;
    let mean = delays.iter().sum::<f64>() / n;
    let var = delays.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, (var / n).sqrt(), delays.len())
}

#[test]
fn jitter_leaves_the_mean_delay_at_half_the_round_trip() {
    for jitter in [0.1, 0.5, 1.0] {
        let mut s = remote_database();
        s.network.jitter = jitter;
        let mut sim = Simulation::new(&s, 4).unwrap();
        sim.step_until(SimTime::from_secs_f64(1.0));
        let (mean, se, n) = mean_delay_to(&mut sim, "db-0-0", 20.0);
        assert!(n > 2000, "only {n} messages seen");
        // Within four standard errors of the mean (and at most 0.5 ms): a
        // bias of a few per cent, as one-sided jitter gives, fails.
        assert!(
            (mean - 37.5).abs() < (4.0 * se).clamp(0.1, 0.5),
            "jitter {jitter}: mean one-way delay {mean:.2} ms (± {se:.2}) over {n} messages, expected 37.5"
        );
    }
}

#[test]
fn a_slowed_link_adds_exactly_its_extra_delay_on_average() {
    let mut s = remote_database();
    s.network.jitter = 0.0;
    let mut sim = Simulation::new(&s, 4).unwrap();
    for app in ["app-1", "app-2", "app-3", "app-4"] {
        sim.apply(&Command::Link {
            a: app.into(),
            b: "db-0-0".into(),
            latency_ms: 20.0,
            jitter_ms: 15.0,
            loss: 0.0,
        })
        .unwrap();
    }
    let (mean, se, n) = mean_delay_to(&mut sim, "db-0-0", 20.0);
    assert!(n > 2000, "only {n} messages seen");
    assert!(
        (mean - 57.5).abs() < (4.0 * se).max(0.1),
        "mean one-way delay {mean:.2} ms over {n} messages, expected 37.5 + 20"
    );
}
