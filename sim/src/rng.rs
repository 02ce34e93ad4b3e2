//! Seeded, portable randomness: one generator stream per concern, and samplers whose results are bit-identical on every platform.
//!
//! Every stream is a PCG generator seeded from the run's seed and the stream's
//! name, so changing a design choice (which draws from `Design`) never
//! reshuffles the workload (which draws from `Workload`). Transcendental
//! functions come from the `libm` crate rather than the platform's maths
//! library, so a native run and a WebAssembly run draw exactly the same
//! numbers.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde::{Deserialize, Serialize};

/// The independent random streams of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Arrivals, request mix, keys and sessions.
    Workload,
    /// Service times of servers.
    Service,
    /// Jitter and loss on links.
    Network,
    /// Election timeouts.
    Election,
    /// Choices made by the design (random balancing, replica choice).
    Design,
}

impl Stream {
    fn salt(self) -> u64 {
        match self {
            Stream::Workload => 0x5752_4b4c_4f41_4431,
            Stream::Service => 0x5345_5256_4943_4532,
            Stream::Network => 0x4e45_5457_4f52_4b33,
            Stream::Election => 0x454c_4543_5449_4f34,
            Stream::Design => 0x4445_5349_474e_5f35,
        }
    }
}

/// One seeded generator.
#[derive(Clone, Debug)]
pub struct SimRng {
    inner: Pcg64Mcg,
}

impl SimRng {
    /// The generator for `stream` in a run with this `seed`.
    pub fn new(seed: u64, stream: Stream) -> SimRng {
        SimRng {
            inner: Pcg64Mcg::seed_from_u64(splitmix(seed ^ stream.salt())),
        }
    }

    /// A uniform 64-bit value.
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// A uniform float in `[0, 1)`, exact on every platform (53 random bits).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform integer in `[0, n)`; `n` must be positive.
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        // Lemire's multiply-shift; the tiny bias is irrelevant here and the
        // result is the same everywhere.
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }

    /// An exponentially distributed value with the given mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * libm::log(1.0 - self.unit())
    }

    /// A standard normal value (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(std::f64::consts::TAU * u2)
    }

    /// A uniform value in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
}

/// SplitMix64 finaliser: spreads nearby seeds far apart.
fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// How long a server takes to do one unit of work.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum ServiceTime {
    /// Always the same.
    Fixed {
        /// Milliseconds.
        ms: f64,
    },
    /// Uniform between two bounds.
    Uniform {
        /// Lower bound, milliseconds.
        min_ms: f64,
        /// Upper bound, milliseconds.
        max_ms: f64,
    },
    /// Exponential with a mean (memoryless, a long tail).
    Exponential {
        /// Mean, milliseconds.
        mean_ms: f64,
    },
    /// Log-normal: most requests near the median, a few very slow.
    Lognormal {
        /// Median, milliseconds.
        median_ms: f64,
        /// Spread of the underlying normal; 0.5 is moderate, 1.0 heavy.
        sigma: f64,
    },
}

impl Default for ServiceTime {
    fn default() -> Self {
        ServiceTime::Lognormal {
            median_ms: 4.0,
            sigma: 0.5,
        }
    }
}

impl ServiceTime {
    /// Draws one service time in milliseconds.
    pub fn sample_ms(&self, rng: &mut SimRng) -> f64 {
        match *self {
            ServiceTime::Fixed { ms } => ms,
            ServiceTime::Uniform { min_ms, max_ms } => rng.uniform(min_ms, max_ms),
            ServiceTime::Exponential { mean_ms } => rng.exponential(mean_ms),
            ServiceTime::Lognormal { median_ms, sigma } => {
                median_ms * libm::exp(sigma * rng.normal())
            }
        }
    }

    /// Checks the parameters, naming the bad one.
    pub fn validate(&self) -> Result<(), String> {
        let ok = |name: &str, v: f64, lo: f64, hi: f64| {
            if v.is_finite() && v >= lo && v <= hi {
                Ok(())
            } else {
                Err(format!("{name} must be between {lo} and {hi}, got {v}"))
            }
        };
        match *self {
            ServiceTime::Fixed { ms } => ok("ms", ms, 0.0, 60_000.0),
            ServiceTime::Uniform { min_ms, max_ms } => {
                ok("min_ms", min_ms, 0.0, 60_000.0)?;
                ok("max_ms", max_ms, 0.0, 60_000.0)?;
                if min_ms > max_ms {
                    return Err(format!(
                        "min_ms ({min_ms}) is larger than max_ms ({max_ms})"
                    ));
                }
                Ok(())
            }
            ServiceTime::Exponential { mean_ms } => ok("mean_ms", mean_ms, 0.0, 60_000.0),
            ServiceTime::Lognormal { median_ms, sigma } => {
                ok("median_ms", median_ms, 0.0, 60_000.0)?;
                ok("sigma", sigma, 0.0, 3.0)
            }
        }
    }
}

/// Key popularity following Zipf's law over `n` keys with exponent `skew`
/// (0 = uniform, 1 = classic Zipf, larger = hotter hot keys).
///
/// Sampling inverts a precomputed cumulative table, so each draw costs one
/// uniform number and a binary search and is exact everywhere.
#[derive(Clone, Debug)]
pub struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    /// The distribution over keys `0..n` (`n` ≥ 1).
    pub fn new(n: u32, skew: f64) -> Zipf {
        let n = n.max(1) as usize;
        let mut cdf = Vec::with_capacity(n);
        let mut total = 0.0;
        for rank in 1..=n {
            total += 1.0 / libm::pow(rank as f64, skew);
            cdf.push(total);
        }
        for c in &mut cdf {
            *c /= total;
        }
        Zipf { cdf }
    }

    /// Draws a key; key 0 is the most popular.
    pub fn sample(&self, rng: &mut SimRng) -> u32 {
        let u = rng.unit();
        let i = self.cdf.partition_point(|&c| c <= u);
        i.min(self.cdf.len() - 1) as u32
    }

    /// The probability of key `k`.
    pub fn probability(&self, k: u32) -> f64 {
        let k = k as usize;
        if k >= self.cdf.len() {
            return 0.0;
        }
        let below = if k == 0 { 0.0 } else { self.cdf[k - 1] };
        self.cdf[k] - below
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_independent_and_reproducible() {
        let mut a = SimRng::new(7, Stream::Workload);
        let mut b = SimRng::new(7, Stream::Workload);
        let mut c = SimRng::new(7, Stream::Design);
        let xa: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        let xb: Vec<u64> = (0..4).map(|_| b.next_u64()).collect();
        let xc: Vec<u64> = (0..4).map(|_| c.next_u64()).collect();
        assert_eq!(xa, xb);
        assert_ne!(xa, xc);
    }

    #[test]
    fn exponential_mean_is_close() {
        let mut r = SimRng::new(1, Stream::Service);
        let n = 200_000;
        let mean: f64 = (0..n).map(|_| r.exponential(5.0)).sum::<f64>() / n as f64;
        assert!((mean - 5.0).abs() < 0.1, "mean {mean}");
    }

    #[test]
    fn zipf_makes_key_zero_hot_and_zero_skew_uniform() {
        let hot = Zipf::new(1000, 1.2);
        assert!(hot.probability(0) > 0.1);
        let flat = Zipf::new(1000, 0.0);
        assert!((flat.probability(0) - 0.001).abs() < 1e-9);
        let mut r = SimRng::new(3, Stream::Workload);
        let hits = (0..100_000).filter(|_| hot.sample(&mut r) == 0).count();
        let expected = hot.probability(0) * 100_000.0;
        assert!((hits as f64 - expected).abs() < expected * 0.05);
    }
}
