//! Sites in several regions: users go to their nearest site, geo-DNS moves them when a site fails (as slowly as the TTL allows), and multi-leader replication shows what it does in practice — local writes, cross-region staleness, and conflicts that lose confirmed writes.

use pathlab_sim::{
    Command, LogEvent, Outcome, Scenario, SimTime, Simulation, TimedCommand, scenario::Replication,
};

/// A site (balancer pair, app servers, cache) in each of the three regions.
fn everywhere() -> Scenario {
    let mut s = Scenario::default();
    s.app.regions = vec!["us-east".into(), "eu-west".into(), "ap-southeast".into()];
    s
}

fn run(s: &Scenario, seed: u64, secs: f64) -> Simulation {
    let mut sim = Simulation::new(s, seed).unwrap();
    sim.step_until(SimTime::from_secs_f64(secs));
    sim
}

/// The names of the nodes a request's trace passed through.
fn path(sim: &Simulation, t: &pathlab_sim::Trace) -> Vec<String> {
    t.hops
        .iter()
        .map(|h| sim.node_name(h.node).to_string())
        .collect()
}

#[test]
fn each_region_runs_a_site_and_its_users_are_served_by_it() {
    let sim = run(&everywhere(), 1, 20.0);
    for name in ["lb-a", "app-4", "cache-1", "lb-b-eu-west", "app-1-eu-west"] {
        assert!(sim.node_id(name).is_ok(), "{name} exists");
    }
    assert!(sim.node_id("cache-1-ap-southeast").is_ok());
    // Every request that got past DNS went to its own region's site.
    let mut checked = 0;
    // (Static files come from the CDN, whose misses go to the origin.)
    let api = |t: &&pathlab_sim::Trace| t.kind != pathlab_sim::RequestKind::Static;
    for t in sim
        .traces()
        .filter(|t| t.outcome == Outcome::Ok)
        .filter(api)
    {
        let client = sim.node_name(t.client).to_string();
        let region = client.trim_start_matches("client-");
        let hops = path(&sim, t);
        let Some(lb) = hops.iter().find(|n| n.starts_with("lb-")) else {
            continue;
        };
        checked += 1;
        if region == "us-east" {
            assert!(lb == "lb-a" || lb == "lb-b", "{client} went to {lb}");
        } else {
            assert!(lb.ends_with(region), "{client} went to {lb}");
        }
    }
    assert!(checked > 100, "only {checked} traces through a balancer");
}

#[test]
fn a_site_in_every_region_cuts_the_latency_of_far_users() {
    // The quicker reads of a user in eu-west (the fastest quarter): across
    // the ocean (75 ms round trip) to the one site in us-east, or answered
    // by the cache of the site next door. (Its misses still cross to the
    // database leader in us-east.)
    let quick_read_ms = |s: &Scenario| {
        let sim = run(s, 2, 30.0);
        let mut ms: Vec<f64> = sim
            .traces()
            .filter(|t| sim.node_name(t.client) == "client-eu-west")
            .filter(|t| t.kind == pathlab_sim::RequestKind::Read && t.outcome == Outcome::Ok)
            .map(|t| t.end.since(t.start) as f64 / 1000.0)
            .collect();
        assert!(ms.len() > 50);
        ms.sort_by(f64::total_cmp);
        ms[ms.len() / 4]
    };
    let one = quick_read_ms(&Scenario::default());
    let local = quick_read_ms(&everywhere());
    assert!(one > 75.0, "one site: {one} ms");
    assert!(local < 20.0, "a site per region: {local} ms");
}

#[test]
fn when_a_site_fails_geo_dns_sends_its_users_elsewhere_after_detection_and_the_ttl() {
    let mut s = everywhere();
    s.dns.ttl_s = 10.0;
    s.script = ["lb-a-eu-west", "lb-b-eu-west"]
        .iter()
        .map(|lb| TimedCommand {
            at_s: 20.0,
            command: Command::Crash {
                node: lb.to_string(),
            },
        })
        .collect();
    let mut sim = Simulation::new(&s, 3).unwrap();
    // Until the failover, eu-west users' requests fail (the site's address
    // leads nowhere).
    sim.step_until(SimTime::from_secs_f64(28.0));
    let failed = sim
        .traces()
        .filter(|t| sim.node_name(t.client) == "client-eu-west")
        .filter(|t| t.start.as_secs_f64() > 20.0)
        .filter(|t| matches!(t.outcome, Outcome::Failed(_)))
        .count();
    assert!(
        failed > 10,
        "only {failed} failed requests of eu-west users"
    );
    sim.step_until(SimTime::from_secs_f64(60.0));
    // The authority notices after two missed checks 5 s apart.
    let marked = sim
        .log()
        .iter()
        .find(|e| matches!(e.event, LogEvent::DnsSiteHealth { up: false, .. }))
        .expect("the authority marks the eu-west site down")
        .at
        .as_secs_f64();
    assert!((25.0..=31.0).contains(&marked), "marked down at {marked} s");
    // Users of eu-west fail until their resolver's answer expires (up to
    // 10 s after that), then go to the nearest healthy site: us-east.
    let eu_users_ok_via = |from: f64, to: f64| {
        sim.traces()
            .filter(|t| sim.node_name(t.client) == "client-eu-west")
            .filter(|t| (from..to).contains(&t.start.as_secs_f64()))
            .filter(|t| t.outcome == Outcome::Ok)
            .filter_map(|t| path(&sim, t).into_iter().find(|n| n.starts_with("lb-")))
            .collect::<Vec<_>>()
    };
    let after = eu_users_ok_via(marked + 11.0, 60.0);
    assert!(after.len() > 50, "eu-west users are served again");
    assert!(
        after.iter().all(|lb| lb == "lb-a" || lb == "lb-b"),
        "{after:?}"
    );
}

/// Multi-leader replication with a leader and a site in every region.
fn multi_leader(sites: bool) -> Scenario {
    let mut s = if sites {
        everywhere()
    } else {
        Scenario::default()
    };
    s.db.replication = Replication::MultiLeader;
    s.cache.enabled = false;
    s.workload.keys = 100;
    s
}

#[test]
fn multi_leader_with_local_sites_shows_cross_region_staleness() {
    // With one site, every request crosses to us-east first, and by the time
    // a read reaches a far region's leader the write has too.
    let central = run(&multi_leader(false), 4, 60.0).summary();
    let local = run(&multi_leader(true), 4, 60.0).summary();
    assert_eq!(central.reads.stale, 0);
    assert!(local.reads.stale > 20, "{:?}", local.anomalies);
    // Writes are confirmed by the user's own region: fast.
    assert!(local.latency_ms.p95 < central.latency_ms.p95 / 2.0);
}

#[test]
fn a_confirmed_write_a_conflict_overwrites_is_lost_and_a_conflict() {
    let sim = run(&multi_leader(true), 5, 60.0);
    let sum = sim.summary();
    assert!(sum.conflicts > 5, "{} conflicts", sum.conflicts);
    assert!(sum.anomalies.lost_write > 5, "{:?}", sum.anomalies);
    assert!(sum.anomalies.lost_write <= sum.conflicts);
    // Every lost write is the losing side of a logged conflict.
    let overwritten: Vec<_> = sim
        .log()
        .iter()
        .filter_map(|e| match e.event {
            LogEvent::Conflict {
                key, overwritten, ..
            } => Some((key, overwritten)),
            _ => None,
        })
        .collect();
    for e in sim.log() {
        if let LogEvent::LostWrite { key, version, .. } = e.event {
            assert!(
                overwritten.contains(&(key, version)),
                "lost write of key {key} at {version} has no conflict"
            );
        }
    }
}
