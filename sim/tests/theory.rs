//! The simulation against textbook theory: the cache's hit ratio against Che's approximation, and the users a hashing balancer moves when a server joins against 1/(N+1) and N/(N+1).

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
