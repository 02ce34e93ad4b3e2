//! The simulation against textbook theory: the cache's hit ratio against Che's approximation, the users a hashing balancer moves when a server joins against 1/(N+1) and N/(N+1), and the wait for an app server's worker against Erlang C.

use pathlab_sim::{Simulation, presets, theory};

#[test]
fn the_cache_hit_ratio_follows_ches_approximation_across_capacities() {
    // From a cache that holds 2.5 % of the keys to one whose entries
    // expire before it fills: long runs (the cold start weighs little),
    // with the rates of reads and writes each run measured.
    for capacity in [25u32, 50, 100, 200, 400, 800, 1000] {
        let mut s = presets::preset("default").unwrap();
        s.cache.capacity = capacity;
        s.duration_s = 300.0;
        let mut sim = Simulation::new(&s, 1).unwrap();
        sim.run();
        let sum = sim.summary();
        let measured = sum.cache.hits as f64 / (sum.cache.hits + sum.cache.misses) as f64;
        let predicted = theory::che_for(&sim).expect("one LRU cache that writes invalidate");
        assert!(
            (measured - predicted).abs() < 0.02,
            "capacity {capacity}: measured {measured:.3}, Che {predicted:.3}"
        );
    }
    // Not for a cache that keeps the most used keys instead.
    let mut s = presets::preset("default").unwrap();
    s.cache.eviction = pathlab_sim::store::Eviction::Lfu;
    let mut sim = Simulation::new(&s, 1).unwrap();
    sim.run();
    assert_eq!(theory::che_for(&sim), None);
}

#[test]
fn a_hash_ring_moves_one_user_in_n_plus_one_when_a_server_joins_and_a_modulo_moves_most() {
    use pathlab_sim::scenario::LbStrategy;
    for (strategy, tolerance) in [
        (LbStrategy::ConsistentHash, 0.06),
        (LbStrategy::Rendezvous, 0.06),
        (LbStrategy::IpHash, 0.06),
    ] {
        for servers in [2u32, 4, 8] {
            let mut s = presets::preset("default").unwrap();
            s.lb.strategy = strategy;
            s.app.servers = servers;
            s.duration_s = 1.0;
            let mut sim = Simulation::new(&s, 1).unwrap();
            sim.run();
            let measured = sim.summary().lb.moved_on_add.expect("a hashing balancer");
            let predicted = theory::moved_on_join(strategy, servers).unwrap();
            assert!(
                (measured - predicted).abs() < tolerance,
                "{strategy:?} over {servers}: measured {measured:.3}, theory {predicted:.3}"
            );
        }
    }
    assert_eq!(theory::moved_on_join(LbStrategy::RoundRobin, 4), None);
}

#[test]
fn the_wait_for_an_app_servers_worker_follows_erlang_c_under_random_balancing() {
    // One or two workers per server, from light load to 70 % busy: the
    // mean wait in the queue against Erlang C with Allen and Cunneen's
    // correction for the measured spread of the time a request holds a
    // worker (Pollaczek–Khinchine for one worker).
    use pathlab_sim::scenario::LbStrategy;
    for workers in [1u32, 2] {
        for rate in [200.0, 400.0, 600.0, 800.0] {
            let mut s = presets::preset("default").unwrap();
            s.lb.strategy = LbStrategy::Random;
            s.app.workers = workers;
            s.workload.requests_per_s = rate * f64::from(workers);
            s.duration_s = 120.0;
            let mut sim = Simulation::new(&s, 1).unwrap();
            sim.run();
            let measured = sim.summary().app.wait_ms;
            let predicted = theory::app_wait_ms(&sim).expect("random balancing");
            assert!(
                (measured - predicted).abs() <= 0.12 * predicted + 0.05,
                "{workers} workers at {} requests/s: waited {measured:.3} ms, theory {predicted:.3} ms",
                s.workload.requests_per_s
            );
        }
    }
    // Round robin makes arrivals regular: no formula is offered.
    let mut s = presets::preset("default").unwrap();
    s.duration_s = 5.0;
    let mut sim = Simulation::new(&s, 1).unwrap();
    sim.run();
    assert_eq!(theory::app_wait_ms(&sim), None);
}

#[test]
fn every_prediction_a_sweep_draws_is_reported_for_its_figure() {
    // The sweep carries theory beside the figure it predicts, by position.
    let mut s = presets::preset("default").unwrap();
    s.lb.strategy = pathlab_sim::scenario::LbStrategy::Random;
    s.duration_s = 20.0;
    let mut sim = Simulation::new(&s, 1).unwrap();
    sim.run();
    let p = theory::predictions(&sim);
    let at = |f: &str| {
        pathlab_sim::sweep::FIGURES
            .iter()
            .position(|g| *g == f)
            .unwrap()
    };
    assert_eq!(p.len(), pathlab_sim::sweep::FIGURES.len());
    assert_eq!(p[at("cache.hit_ratio")], theory::che_for(&sim));
    assert_eq!(p[at("app.wait_ms")], theory::app_wait_ms(&sim));
    assert!(p[at("app.wait_ms")].is_some());
    assert_eq!(p[at("availability")], None);
}
