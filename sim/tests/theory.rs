//! The simulation against textbook theory: the cache's hit ratio against Che's approximation.

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
