//! Load-balancing lessons: how each strategy shares the load, what hashing does when servers come and go, sticky sessions and where session state lives, and scaling the app tier.

use pathlab_sim::{
    Command, Scenario, SimTime, Simulation,
    scenario::{LbStrategy, SessionStore},
};

fn run(s: &Scenario, secs: f64) -> Simulation {
    let mut sim = Simulation::new(s, 3).unwrap();
    sim.step_until(SimTime::from_secs_f64(secs));
    sim
}

fn with(strategy: LbStrategy) -> Scenario {
    let mut s = Scenario::default();
    s.lb.strategy = strategy;
    s
}

fn shares(sim: &Simulation) -> Vec<f64> {
    sim.backend_shares()
}

#[test]
fn round_robin_gives_every_server_an_equal_share() {
    let sim = run(&with(LbStrategy::RoundRobin), 20.0);
    for s in shares(&sim) {
        assert!((s - 0.25).abs() < 0.005, "{:?}", shares(&sim));
    }
}

#[test]
fn weighted_round_robin_sends_a_bigger_machine_its_weight() {
    let mut s = with(LbStrategy::WeightedRoundRobin);
    s.app.weights = vec![3.0, 1.0, 1.0, 1.0];
    let sim = run(&s, 20.0);
    let sh = shares(&sim);
    assert!((sh[0] - 0.5).abs() < 0.01, "{sh:?}");
    assert!((sh[1] - 1.0 / 6.0).abs() < 0.01, "{sh:?}");
}

#[test]
fn least_connections_steers_around_a_slow_server() {
    let mut rr = Simulation::new(&with(LbStrategy::RoundRobin), 3).unwrap();
    let mut lc = Simulation::new(&with(LbStrategy::LeastConnections), 3).unwrap();
    for sim in [&mut rr, &mut lc] {
        sim.apply(&Command::Slow {
            node: "app-1".into(),
            factor: 30.0,
        })
        .unwrap();
        sim.step_until(SimTime::from_secs_f64(20.0));
    }
    // Round robin keeps feeding the slow server its quarter; least
    // connections sees its requests pile up and sends fewer.
    assert!(shares(&rr)[0] > 0.24);
    assert!(shares(&lc)[0] < 0.15, "{:?}", shares(&lc));
    assert!(lc.summary().latency_ms.p99 < rr.summary().latency_ms.p99);
}

#[test]
fn random_shares_the_load_roughly_evenly() {
    let sim = run(&with(LbStrategy::Random), 20.0);
    for s in shares(&sim) {
        assert!((s - 0.25).abs() < 0.03, "{:?}", shares(&sim));
    }
}

#[test]
fn a_consistent_hash_ring_moves_few_users_when_a_server_joins_and_modulo_moves_most() {
    let ring = run(&with(LbStrategy::ConsistentHash), 1.0).summary().lb;
    let rdv = run(&with(LbStrategy::Rendezvous), 1.0).summary().lb;
    let modulo = run(&with(LbStrategy::IpHash), 1.0).summary().lb;
    let (r, v, m) = (
        ring.moved_on_add.unwrap(),
        rdv.moved_on_add.unwrap(),
        modulo.moved_on_add.unwrap(),
    );
    // With 4 servers, a fifth should take about 1/5 of the users.
    assert!((r - 0.2).abs() < 0.08, "ring moved {r}");
    assert!((v - 0.2).abs() < 0.06, "rendezvous moved {v}");
    assert!(m > 0.6, "hash mod N moved {m}");
    // Round robin does not map users to servers at all.
    assert_eq!(
        run(&with(LbStrategy::RoundRobin), 1.0)
            .summary()
            .lb
            .moved_on_add,
        None
    );
}

#[test]
fn scaling_out_with_a_ring_really_moves_about_a_fifth_of_the_users() {
    let mut s = with(LbStrategy::ConsistentHash);
    s.lb.virtual_nodes = 200;
    s.trace_capacity = 100_000;
    let mut sim = Simulation::new(&s, 5).unwrap();
    sim.step_until(SimTime::from_secs_f64(10.0));
    let server_of = |sim: &Simulation, from: f64, to: f64| {
        let mut map = std::collections::BTreeMap::new();
        for t in sim
            .traces()
            .filter(|t| t.kind != pathlab_sim::RequestKind::Static)
        {
            let at = t.start.as_secs_f64();
            if at >= from
                && at < to
                && let Some(h) = t
                    .hops
                    .iter()
                    .find(|h| sim.node_name(h.node).starts_with("app-"))
            {
                map.insert(t.session, h.node);
            }
        }
        map
    };
    let before = server_of(&sim, 0.0, 10.0);
    sim.apply(&Command::Scale { servers: 5 }).unwrap();
    sim.step_until(SimTime::from_secs_f64(25.0));
    let after = server_of(&sim, 12.0, 25.0);
    let both: Vec<_> = before.keys().filter(|k| after.contains_key(k)).collect();
    let moved = both.iter().filter(|k| before[k] != after[k]).count() as f64 / both.len() as f64;
    assert!(both.len() > 200);
    assert!((moved - 0.2).abs() < 0.08, "{moved} of users moved");
    assert!(
        sim.snapshot(0)
            .nodes
            .iter()
            .any(|n| n.id == "app-5" && n.share.unwrap() > 0.05)
    );
}

#[test]
fn session_state_in_server_memory_needs_sticky_sessions() {
    let mut local = with(LbStrategy::RoundRobin);
    local.app.session_store = SessionStore::Local;
    let lost_rr = run(&local, 20.0).summary().sessions_lost;
    let mut sticky = local.clone();
    sticky.lb.sticky = true;
    let lost_sticky = run(&sticky, 20.0).summary().sessions_lost;
    let mut shared = local.clone();
    shared.app.session_store = SessionStore::Shared;
    let lost_shared = run(&shared, 20.0).summary().sessions_lost;
    // Round robin sends a user's next request elsewhere three times in four.
    assert!(lost_rr > 300, "{lost_rr}");
    assert_eq!(lost_sticky, 0);
    assert_eq!(lost_shared, 0);
    // Sticky sessions do not survive the server itself: its users log in again.
    let mut sim = Simulation::new(&sticky, 3).unwrap();
    sim.step_until(SimTime::from_secs_f64(10.0));
    sim.apply(&Command::Crash {
        node: "app-2".into(),
    })
    .unwrap();
    sim.step_until(SimTime::from_secs_f64(20.0));
    assert!(sim.summary().sessions_lost > 50);
}

#[test]
fn path_based_balancing_keeps_static_assets_on_their_own_servers() {
    let mut s = with(LbStrategy::Path);
    s.cdn.enabled = false;
    s.lb.path_static_servers = 1;
    let sim = run(&s, 10.0);
    let app1 = sim.node_id("app-1").unwrap();
    for t in sim.traces() {
        let on_app1 = t.hops.iter().any(|h| h.node == app1);
        assert_eq!(
            on_app1,
            t.kind == pathlab_sim::RequestKind::Static,
            "request #{} ({:?})",
            t.id.0,
            t.kind
        );
    }
}

#[test]
fn scaling_in_takes_servers_out_of_rotation_without_errors() {
    let s = Scenario {
        trace_capacity: 100_000,
        ..Scenario::default()
    };
    let mut sim = Simulation::new(&s, 2).unwrap();
    sim.step_until(SimTime::from_secs_f64(5.0));
    sim.apply(&Command::Scale { servers: 2 }).unwrap();
    sim.step_until(SimTime::from_secs_f64(15.0));
    assert!(
        sim.snapshot(0)
            .nodes
            .iter()
            .any(|n| n.id == "app-4" && n.retired)
    );
    // Requests sent after the scale-in only reach app-1 and app-2 …
    let (app3, app4) = (sim.node_id("app-3").unwrap(), sim.node_id("app-4").unwrap());
    let late: Vec<_> = sim
        .traces()
        .filter(|t| t.start > SimTime::from_secs_f64(5.5))
        .collect();
    assert!(late.len() > 2000);
    assert!(
        late.iter()
            .all(|t| t.hops.iter().all(|h| h.node != app3 && h.node != app4))
    );
    // … and nothing failed: the retired servers drained before stopping.
    assert_eq!(sim.summary().requests.failed, 0);
    assert_eq!(
        sim.snapshot(0)
            .nodes
            .iter()
            .find(|n| n.id == "app-4")
            .unwrap()
            .state,
        pathlab_sim::NodeState::Down
    );
    assert_eq!(sim.active_app_servers(), 2);
    assert!(sim.apply(&Command::Scale { servers: 0 }).is_err());
    assert!(sim.apply(&Command::Scale { servers: 4 }).is_ok());
    assert_eq!(sim.active_app_servers(), 4);
}

#[test]
fn what_a_joining_server_would_take_is_measured_through_the_balancers_own_choice() {
    // Weighted rendezvous: servers of weights 1, 1, 1 and 5 share the users
    // 1:1:1:5, so a new server of weight 1 takes about 1/9 of them, not the
    // 1/5 an unweighted estimate would give.
    let mut s = with(LbStrategy::Rendezvous);
    s.app.weights = vec![1.0, 1.0, 1.0, 5.0];
    s.workload.sessions_per_region = 2000;
    let lb = run(&s, 1.0).summary().lb;
    let add = lb.moved_on_add.unwrap();
    assert!((add - 1.0 / 9.0).abs() < 0.02, "moved {add}");
    // Taking the heavy server out moves its 5/8 of the users.
    let remove = lb.moved_on_remove.unwrap();
    assert!((remove - 5.0 / 8.0).abs() < 0.03, "moved {remove}");
}
