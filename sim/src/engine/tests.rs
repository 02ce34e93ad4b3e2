//! Scenario tests of the engine with every tier in play, where they need to look inside a tier: the replicated log stays short, and a far-behind follower catches up from a snapshot.

use crate::{Command, Scenario, SimTime, Simulation};

fn kept(sim: &Simulation) -> Vec<usize> {
    sim.tiers.dbs.iter().map(|d| d.log_kept().1).collect()
}

#[test]
fn the_log_is_folded_into_a_snapshot_so_it_stays_short() {
    let mut s = Scenario::default();
    s.workload.mix.write = 0.3;
    let mut sim = Simulation::new(&s, 2).unwrap();
    sim.run_for(900.0);
    let writes = sim.summary().writes.total;
    assert!(writes > 50_000, "{writes} writes");
    for (i, n) in kept(&sim).into_iter().enumerate() {
        assert!(n < 9_000, "replica {i} keeps {n} of {writes} entries");
    }
    assert!(sim.check_invariants().is_empty());
}

#[test]
fn a_follower_down_for_long_catches_up_from_a_snapshot() {
    let mut s = Scenario::default();
    s.workload.mix.write = 0.3;
    s.cache.enabled = false;
    s.db.read_from = crate::scenario::ReadFrom::Followers;
    let mut sim = Simulation::new(&s, 5).unwrap();
    sim.step_until(SimTime::from_secs_f64(5.0));
    sim.apply(&Command::Crash {
        node: "db-0-2".into(),
    })
    .unwrap();
    sim.run_for(400.0);
    sim.apply(&Command::Restart {
        node: "db-0-2".into(),
    })
    .unwrap();
    sim.run_for(10.0);
    // Let the writes stop, so everything sent is applied everywhere.
    sim.apply(&Command::set_rate(0.0)).unwrap();
    sim.run_for(10.0);
    let leader = &sim.tiers.dbs[0];
    let back = &sim.tiers.dbs[2];
    assert!(leader.log_kept().0 > 0, "the leader folded its log");
    let snapshots = sim
        .log()
        .iter()
        .filter(|e| matches!(e.event, crate::LogEvent::SnapshotInstalled { .. }))
        .count();
    assert_eq!(snapshots, 1, "it caught up from one snapshot");
    assert_eq!(
        back.applied, leader.applied,
        "the restarted follower caught up"
    );
    assert!(
        back.kv == leader.kv,
        "and holds exactly what the leader holds"
    );
    assert!(
        sim.check_invariants().is_empty(),
        "{:?}",
        sim.check_invariants()
    );
}
