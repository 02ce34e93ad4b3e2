//! Textbook predictions drawn beside a sweep's measured points: Che's approximation for a cache's hit ratio against its capacity (with entries expiring and writes invalidating them), the share of users a hashing balancer moves when a server joins, and the wait for an app server's worker (Erlang C, with Allen and Cunneen's correction).

/// Zipf popularity of `n` keys with exponent `skew`: the share of requests
/// for the key of each rank, most popular first (as the workload draws
/// keys).
pub fn zipf(n: u32, skew: f64) -> Vec<f64> {
    let weights: Vec<f64> = (1..=n.max(1))
        .map(|rank| 1.0 / libm::pow(f64::from(rank), skew))
        .collect();
    let total: f64 = weights.iter().sum();
    weights.into_iter().map(|w| w / total).collect()
}

/// Che's approximation of the hit ratio of an LRU cache holding
/// `capacity` entries, read at `read_rate` per second and written (each
/// write removing the key's entry) at `write_rate`, both spread over the
/// keys as `popularity` says; entries also expire `ttl_s` after they were
/// stored.
///
/// While the cache is not full, entries leave only by expiring or being
/// written. Once it is full, an entry read within the last `T` seconds with no write since is in
/// the cache, `T` being the characteristic time at which the cache is
/// exactly full (or the TTL, if the cache never fills). For a key read at
/// rate λ and written at rate μ that is `λ/(λ+μ) · (1 − e^{−(λ+μ)T})`, the
/// chance that the read before this one came within `T` and no write came
/// after it; the hit ratio is its read-weighted mean.
pub fn che_hit_ratio(
    popularity: &[f64],
    capacity: f64,
    read_rate: f64,
    write_rate: f64,
    ttl_s: f64,
) -> f64 {
    let present = |t: f64| -> Vec<f64> {
        popularity
            .iter()
            .map(|p| {
                let (l, m) = (p * read_rate, p * write_rate);
                if l + m <= 0.0 {
                    0.0
                } else {
                    l / (l + m) * (1.0 - libm::exp(-(l + m) * t))
                }
            })
            .collect()
    };
    let full = |t: f64| present(t).iter().sum::<f64>();
    // Entries that expire before the cache fills: each is stored at a
    // miss and serves the reads that come before the first write or its
    // expiry, m = (1 − e^{−μ·TTL})/μ seconds on average; then it is read
    // λm times per miss, a share λm/(λm + 1) of its reads (and of the time).
    let by_ttl: Vec<f64> = popularity
        .iter()
        .map(|p| {
            let (l, m) = (p * read_rate, p * write_rate);
            let stay = if m > 0.0 {
                (1.0 - libm::exp(-m * ttl_s)) / m
            } else {
                ttl_s
            };
            l * stay / (l * stay + 1.0)
        })
        .collect();
    let weighted = |h: &[f64]| {
        popularity.iter().zip(h).map(|(p, h)| p * h).sum::<f64>()
            / popularity.iter().sum::<f64>().max(f64::MIN_POSITIVE)
    };
    if ttl_s.is_finite() && ttl_s > 0.0 && by_ttl.iter().sum::<f64>() <= capacity {
        return weighted(&by_ttl);
    }
    // The cache fills: the occupancy grows with T, so bisect for the T
    // that fills it exactly.
    let horizon = if ttl_s > 0.0 { ttl_s.min(1e9) } else { 1e9 };
    let t = if full(horizon) <= capacity {
        horizon
    } else {
        let (mut lo, mut hi) = (0.0, horizon);
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if full(mid) < capacity {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    };
    weighted(&present(t))
}

/// Che's approximation for a run's cache, with the rates of reads and
/// writes the run measured: where it applies (one LRU cache that writes
/// invalidate, and some reads).
pub fn che_for(sim: &crate::Simulation) -> Option<f64> {
    let s = sim.scenario();
    let sum = sim.summary();
    let reads = (sum.cache.hits + sum.cache.misses) as f64;
    let applies = s.cache.enabled
        && s.cache.eviction == crate::store::Eviction::Lru
        && s.cache.write_policy == crate::scenario::WritePolicy::Invalidate
        && reads > 0.0
        && sum.duration_s > 0.0;
    applies.then(|| {
        che_hit_ratio(
            &zipf(s.workload.keys, s.workload.key_skew),
            f64::from(s.cache.capacity),
            reads / sum.duration_s,
            sum.writes.total as f64 / sum.duration_s,
            s.cache.ttl_s,
        )
    })
}

/// The share of keys (users) a hashing balancer over `n` servers sends
/// elsewhere when one more joins: `1/(n+1)` for a consistent-hash ring or
/// rendezvous hashing (the newcomer takes its fair share, nothing else
/// moves), `n/(n+1)` for a hash modulo the count (a key stays only if its
/// hash leaves the same remainder by n and by n+1). Other strategies do not
/// map users to servers.
pub fn moved_on_join(strategy: crate::scenario::LbStrategy, n: u32) -> Option<f64> {
    use crate::scenario::LbStrategy::{ConsistentHash, IpHash, Rendezvous};
    let n = f64::from(n.max(1));
    match strategy {
        ConsistentHash | Rendezvous => Some(1.0 / (n + 1.0)),
        IpHash => Some(n / (n + 1.0)),
        _ => None,
    }
}

/// The chance that a job arriving at an M/M/c queue with offered load
/// `a = λ/μ` erlangs waits (Erlang's C formula); 1 when `a ≥ c`.
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let c_f = f64::from(c.max(1));
    if a >= c_f {
        return 1.0;
    }
    // Σ_{k<c} a^k/k!, and a^c/c! · c/(c − a), built term by term.
    let (mut sum, mut term) = (0.0, 1.0);
    for k in 0..c.max(1) {
        sum += term;
        term *= a / f64::from(k + 1);
    }
    let top = term * c_f / (c_f - a);
    top / (sum + top)
}

/// The mean wait in the queue of `c` servers fed at `lambda` per second,
/// each taking `hold_s` seconds on average: Erlang C's M/M/c wait, scaled
/// by (c_a² + c_s²)/2 for arrivals and times that are not exponential
/// (Allen and Cunneen's approximation; exact for one server with Poisson
/// arrivals, the Pollaczek–Khinchine formula). `None` when the queue
/// cannot keep up.
pub fn queue_wait_s(lambda: f64, hold_s: f64, c: u32, ca2: f64, cs2: f64) -> Option<f64> {
    let mu = 1.0 / hold_s;
    let cap = f64::from(c.max(1)) * mu;
    (hold_s > 0.0 && lambda < cap)
        .then(|| erlang_c(c, lambda / mu) / (cap - lambda) * (ca2 + cs2) / 2.0)
}

/// The mean wait for an app server's worker the run's design predicts,
/// for random balancing: it splits the users' Poisson arrivals into a
/// Poisson stream per server (c_a² = 1), so each server is a queue of
/// `workers` fed an equal share, at the rates and times the run measured.
/// Other strategies make arrivals more regular (round robin sends each
/// server every n-th request) or react to the load, and have no such
/// formula: the approximation overstates their waits several times over
/// at light load.
pub fn app_wait_ms(sim: &crate::Simulation) -> Option<f64> {
    let s = sim.settings();
    if s.lb.strategy != crate::scenario::LbStrategy::Random || s.lb.sticky {
        return None;
    }
    let n = sim.active_app_servers().max(1) as f64;
    let a = sim.summary().app;
    let wait = queue_wait_s(
        a.arrivals_per_s / n,
        a.hold_ms / 1000.0,
        s.app.workers,
        1.0,
        a.hold_cv2,
    )?;
    Some(wait * 1000.0)
}

/// Theory's prediction for each of the sweep's figures
/// ([`crate::sweep::FIGURES`]) in `sim`'s run, where it has one.
pub fn predictions(sim: &crate::Simulation) -> Vec<Option<f64>> {
    crate::sweep::FIGURES
        .iter()
        .map(|f| match *f {
            "cache.hit_ratio" => che_for(sim),
            "app.wait_ms" => app_wait_ms(sim),
            "lb.moved_on_add" => {
                moved_on_join(sim.settings().lb.strategy, sim.active_app_servers() as u32)
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_and_the_queue_wait_match_textbook_values() {
        // One server: the chance of waiting is the utilisation.
        assert!((erlang_c(1, 0.7) - 0.7).abs() < 1e-12);
        // Two servers at a = 1 erlang: C = 1/3.
        assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
        // M/M/1 at ρ = 0.8, 10 ms jobs: Wq = ρ/(μ − λ) = 0.8/(100 − 80) s.
        let w = queue_wait_s(80.0, 0.01, 1, 1.0, 1.0).unwrap();
        assert!((w - 0.04).abs() < 1e-12, "{w}");
        // M/D/1 waits half as long (Pollaczek–Khinchine).
        let d = queue_wait_s(80.0, 0.01, 1, 1.0, 0.0).unwrap();
        assert!((d - 0.02).abs() < 1e-12, "{d}");
        assert_eq!(queue_wait_s(120.0, 0.01, 1, 1.0, 1.0), None);
    }

    #[test]
    fn che_gives_every_hit_when_all_keys_fit_and_few_when_the_cache_is_tiny() {
        let p = zipf(100, 0.0);
        // Everything fits, nothing is written, nothing expires: almost every
        // read hits once the keys have been seen (read often enough).
        let all = che_hit_ratio(&p, 1000.0, 1000.0, 0.0, f64::INFINITY);
        assert!(all > 0.99, "{all}");
        // Uniform keys and room for one in ten: about one read in ten hits.
        let tenth = che_hit_ratio(&p, 10.0, 1000.0, 0.0, f64::INFINITY);
        assert!((tenth - 0.1).abs() < 0.01, "{tenth}");
        // Writes that remove entries cost hits.
        let written = che_hit_ratio(&p, 1000.0, 1000.0, 1000.0, f64::INFINITY);
        assert!((written - 0.5).abs() < 0.01, "{written}");
    }
}
