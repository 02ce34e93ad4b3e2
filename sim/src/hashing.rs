//! Placement by hashing: a stable 64-bit hash, modulo placement, a consistent-hash ring with virtual nodes, rendezvous (highest-random-weight) hashing, and how many keys move when a server joins or leaves.

/// A stable, well-mixed 64-bit hash of a number (SplitMix64's finaliser):
/// the same on every platform and in every version.
pub fn hash64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A hash of a pair, for rendezvous scores and ring points.
pub fn hash2(a: u64, b: u64) -> u64 {
    hash64(hash64(a) ^ b.rotate_left(32))
}

/// A consistent-hash ring: each server owns `vnodes` points; a key belongs
/// to the first point clockwise from its hash whose server is usable.
#[derive(Clone, Debug, Default)]
pub struct Ring {
    points: Vec<(u64, u32)>,
}

impl Ring {
    /// A ring over `servers` (their ids), `vnodes` points each.
    pub fn new(servers: &[u32], vnodes: u32) -> Ring {
        let mut points: Vec<(u64, u32)> = servers
            .iter()
            .flat_map(|&s| (0..vnodes.max(1)).map(move |v| (hash2(s as u64 + 1, v as u64), s)))
            .collect();
        points.sort_unstable();
        Ring { points }
    }

    /// The server owning `key`, skipping servers for which `usable` is false.
    pub fn lookup(&self, key: u64, usable: impl Fn(u32) -> bool) -> Option<u32> {
        if self.points.is_empty() {
            return None;
        }
        let h = hash64(key);
        let start = self.points.partition_point(|&(p, _)| p < h);
        (0..self.points.len())
            .map(|k| self.points[(start + k) % self.points.len()].1)
            .find(|&s| usable(s))
    }
}

/// Rendezvous hashing: the usable server with the highest score for `key`
/// wins; a weight scales a server's share (score = −weight / ln u).
pub fn rendezvous(key: u64, servers: impl Iterator<Item = (u32, f64)>) -> Option<u32> {
    servers
        .map(|(s, w)| {
            let u = (hash2(key, s as u64 + 1) >> 11) as f64 / (1u64 << 53) as f64;
            let u = u.clamp(1e-12, 1.0 - 1e-12);
            (-w / libm::log(u), s)
        })
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)))
        .map(|(_, s)| s)
}

/// How a key is mapped to one of `n` servers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// `hash(key) mod n`.
    Modulo,
    /// A consistent-hash ring with this many virtual nodes per server.
    Ring(u32),
    /// Rendezvous hashing (equal weights).
    Rendezvous,
}

/// The server (0..n) a key maps to.
pub fn place(p: Placement, key: u64, n: u32, ring: Option<&Ring>) -> u32 {
    match p {
        Placement::Modulo => (hash64(key) % n.max(1) as u64) as u32,
        Placement::Ring(v) => match ring {
            Some(r) => r.lookup(key, |_| true).unwrap_or(0),
            None => Ring::new(&(0..n).collect::<Vec<_>>(), v)
                .lookup(key, |_| true)
                .unwrap_or(0),
        },
        Placement::Rendezvous => rendezvous(key, (0..n).map(|s| (s, 1.0))).unwrap_or(0),
    }
}

/// The share of `keys` keys that map to a different server when the
/// servers go from `before` to `after` (servers are numbered 0..n; adding
/// one appends, removing one drops the last).
pub fn moved_fraction(p: Placement, before: u32, after: u32, keys: u32) -> f64 {
    if keys == 0 || before == 0 || after == 0 {
        return 0.0;
    }
    let (rb, ra) = match p {
        Placement::Ring(v) => (
            Some(Ring::new(&(0..before).collect::<Vec<_>>(), v)),
            Some(Ring::new(&(0..after).collect::<Vec<_>>(), v)),
        ),
        _ => (None, None),
    };
    let moved = (0..keys as u64)
        .filter(|&k| place(p, k, before, rb.as_ref()) != place(p, k, after, ra.as_ref()))
        .count();
    moved as f64 / keys as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_moves_about_one_in_n_plus_one_keys_when_a_server_joins_and_modulo_moves_most() {
        let keys = 20_000;
        let ring = moved_fraction(Placement::Ring(150), 4, 5, keys);
        assert!((ring - 0.2).abs() < 0.05, "ring moved {ring}");
        let rdv = moved_fraction(Placement::Rendezvous, 4, 5, keys);
        assert!((rdv - 0.2).abs() < 0.02, "rendezvous moved {rdv}");
        let modulo = moved_fraction(Placement::Modulo, 4, 5, keys);
        assert!(modulo > 0.7, "modulo moved {modulo}");
    }

    #[test]
    fn more_virtual_nodes_spread_keys_more_evenly() {
        let spread = |v: u32| {
            let r = Ring::new(&[0, 1, 2, 3], v);
            let mut counts = [0u32; 4];
            for k in 0..40_000u64 {
                counts[r.lookup(k, |_| true).unwrap() as usize] += 1;
            }
            let max = *counts.iter().max().unwrap() as f64;
            let min = *counts.iter().min().unwrap() as f64;
            max / min
        };
        assert!(spread(200) < spread(1), "{} vs {}", spread(200), spread(1));
        assert!(spread(200) < 1.35);
    }

    #[test]
    fn unusable_servers_are_skipped_clockwise() {
        let r = Ring::new(&[0, 1, 2], 50);
        for k in 0..1000 {
            let s = r.lookup(k, |s| s != 1).unwrap();
            assert_ne!(s, 1);
            if r.lookup(k, |_| true) != Some(1) {
                assert_eq!(
                    Some(s),
                    r.lookup(k, |_| true),
                    "keys of live servers stay put"
                );
            }
        }
    }

    #[test]
    fn rendezvous_weights_shift_the_share() {
        let mut heavy = 0;
        for k in 0..20_000u64 {
            if rendezvous(k, [(0, 3.0), (1, 1.0)].into_iter()) == Some(0) {
                heavy += 1;
            }
        }
        let share = heavy as f64 / 20_000.0;
        assert!((share - 0.75).abs() < 0.03, "{share}");
    }
}
