//! How a balancer picks an app server: a plain function of the balancer's own state for each strategy, unit-tested without a world.

use super::{Backend, LbNode};
use crate::hashing::{hash64, rendezvous};
use crate::request::RequestKind;
use crate::rng::SimRng;
use crate::scenario::LbStrategy;

/// The balancing settings a choice depends on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Policy {
    /// The strategy.
    pub strategy: LbStrategy,
    /// Keep a session on the server it went to first, while usable.
    pub sticky: bool,
    /// Path-based balancing: how many of the first servers take static assets.
    pub static_pool: usize,
}

/// Picks a usable backend (its index) for a request of `session` by the
/// strategy, and sticky sessions when on. It changes only the balancer's own
/// bookkeeping: its turn, smooth-weighted credits and sticky table.
pub(crate) fn choose_backend(
    lb: &mut LbNode,
    policy: Policy,
    session: u32,
    kind: RequestKind,
    rng: &mut SimRng,
) -> Option<usize> {
    let Policy {
        strategy,
        sticky,
        static_pool,
    } = policy;
    let n = lb.backends.len();
    if n == 0 {
        return None;
    }
    if sticky
        && let Some(&b) = lb.sticky.get(&session)
        && lb.backends.get(b as usize).is_some_and(Backend::usable)
    {
        return Some(b as usize);
    }
    let key = session as u64;
    let start = lb.cursor % n;
    let in_turn = (0..n).map(|k| (start + k) % n);
    let pick = match strategy {
        LbStrategy::RoundRobin => in_turn.clone().find(|&i| lb.backends[i].usable()),
        LbStrategy::LeastConnections => in_turn
            .clone()
            .filter(|&i| lb.backends[i].usable())
            .min_by_key(|&i| lb.backends[i].in_progress),
        LbStrategy::WeightedRoundRobin => {
            // Smooth weighted round robin: every server earns its weight,
            // the richest is picked and pays the total.
            let mut total = 0.0;
            let mut best: Option<(usize, f64)> = None;
            for (i, b) in lb.backends.iter_mut().enumerate() {
                if !b.usable() {
                    continue;
                }
                b.credit += b.weight;
                total += b.weight;
                if best.is_none_or(|(_, c)| b.credit > c) {
                    best = Some((i, b.credit));
                }
            }
            let best = best.map(|(i, _)| i);
            if let Some(b) = best {
                lb.backends[b].credit -= total;
            }
            best
        }
        LbStrategy::Random => {
            let usable: Vec<usize> = (0..n).filter(|&i| lb.backends[i].usable()).collect();
            if usable.is_empty() {
                None
            } else {
                let i = rng.below(usable.len() as u64) as usize;
                Some(usable[i])
            }
        }
        LbStrategy::IpHash => {
            let usable: Vec<usize> = (0..n).filter(|&i| lb.backends[i].usable()).collect();
            (!usable.is_empty()).then(|| usable[(hash64(key) % usable.len() as u64) as usize])
        }
        LbStrategy::ConsistentHash => {
            let backends = &lb.backends;
            lb.ring
                .lookup(key, |s| {
                    backends.get(s as usize).is_some_and(Backend::usable)
                })
                .map(|s| s as usize)
        }
        LbStrategy::Rendezvous => rendezvous(
            key,
            (0..n)
                .filter(|&i| lb.backends[i].usable())
                .map(|i| (i as u32, lb.backends[i].weight)),
        )
        .map(|s| s as usize),
        LbStrategy::Path => {
            // With one server there is only one pool for everything.
            let wanted =
                |i: usize| static_pool >= n || (i < static_pool) == (kind == RequestKind::Static);
            in_turn
                .clone()
                .find(|&i| lb.backends[i].usable() && wanted(i))
        }
    };
    if let Some(i) = pick {
        if matches!(
            strategy,
            LbStrategy::RoundRobin | LbStrategy::Path | LbStrategy::LeastConnections
        ) {
            lb.cursor = i + 1;
        }
        if sticky {
            lb.sticky.insert(session, i as u16);
        }
    }
    pick
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Stream;

    fn pool(weights: &[f64]) -> LbNode {
        LbNode::new(true, weights, 50)
    }

    fn policy(strategy: LbStrategy) -> Policy {
        Policy {
            strategy,
            sticky: false,
            static_pool: 1,
        }
    }

    /// Picks for sessions 0, 1, 2, … in turn.
    fn picks(lb: &mut LbNode, p: Policy, n: u32) -> Vec<usize> {
        let mut rng = SimRng::new(1, Stream::Design);
        (0..n)
            .map(|s| choose_backend(lb, p, s, RequestKind::Read, &mut rng).expect("a backend"))
            .collect()
    }

    #[test]
    fn round_robin_takes_each_usable_server_in_turn() {
        let mut lb = pool(&[1.0, 1.0, 1.0]);
        lb.backends[1].healthy = false;
        assert_eq!(
            picks(&mut lb, policy(LbStrategy::RoundRobin), 4),
            [0, 2, 0, 2]
        );
    }

    #[test]
    fn least_connections_prefers_the_idlest() {
        let mut lb = pool(&[1.0, 1.0, 1.0]);
        lb.backends[0].in_progress = 5;
        lb.backends[1].in_progress = 1;
        lb.backends[2].in_progress = 3;
        assert_eq!(picks(&mut lb, policy(LbStrategy::LeastConnections), 1), [1]);
    }

    #[test]
    fn smooth_weighted_round_robin_follows_the_weights() {
        let mut lb = pool(&[3.0, 1.0]);
        let got = picks(&mut lb, policy(LbStrategy::WeightedRoundRobin), 8);
        assert_eq!(got.iter().filter(|&&i| i == 0).count(), 6);
        assert_eq!(got[..4], [0, 0, 1, 0]);
    }

    #[test]
    fn hashing_strategies_keep_a_session_on_one_server() {
        for strategy in [
            LbStrategy::IpHash,
            LbStrategy::ConsistentHash,
            LbStrategy::Rendezvous,
        ] {
            let mut lb = pool(&[1.0, 1.0, 1.0, 1.0]);
            let mut rng = SimRng::new(1, Stream::Design);
            let first = choose_backend(&mut lb, policy(strategy), 42, RequestKind::Read, &mut rng);
            for _ in 0..5 {
                let again =
                    choose_backend(&mut lb, policy(strategy), 42, RequestKind::Read, &mut rng);
                assert_eq!(again, first, "{strategy:?}");
            }
        }
    }

    #[test]
    fn consistent_hashing_moves_only_the_dead_servers_sessions() {
        let mut lb = pool(&[1.0, 1.0, 1.0, 1.0]);
        let p = policy(LbStrategy::ConsistentHash);
        let before = picks(&mut lb, p, 400);
        lb.backends[2].healthy = false;
        let after = picks(&mut lb, p, 400);
        for (b, a) in before.iter().zip(&after) {
            if *b != 2 {
                assert_eq!(a, b, "a session on a live server stays");
            } else {
                assert_ne!(*a, 2);
            }
        }
    }

    #[test]
    fn random_spreads_over_usable_servers_only() {
        let mut lb = pool(&[1.0, 1.0, 1.0]);
        lb.backends[0].retired = true;
        let got = picks(&mut lb, policy(LbStrategy::Random), 300);
        assert!(!got.contains(&0));
        assert!(got.iter().filter(|&&i| i == 1).count() > 100);
        assert!(got.iter().filter(|&&i| i == 2).count() > 100);
    }

    #[test]
    fn path_based_sends_static_assets_to_the_first_servers() {
        let mut lb = pool(&[1.0, 1.0, 1.0]);
        let p = policy(LbStrategy::Path);
        let mut rng = SimRng::new(1, Stream::Design);
        for s in 0..6 {
            let st = choose_backend(&mut lb, p, s, RequestKind::Static, &mut rng);
            assert_eq!(st, Some(0));
            let api = choose_backend(&mut lb, p, s, RequestKind::Write, &mut rng);
            assert!(matches!(api, Some(1 | 2)));
        }
    }

    #[test]
    fn sticky_sessions_return_while_their_server_is_usable() {
        let mut lb = pool(&[1.0, 1.0, 1.0]);
        let p = Policy {
            sticky: true,
            ..policy(LbStrategy::RoundRobin)
        };
        let mut rng = SimRng::new(1, Stream::Design);
        let first = choose_backend(&mut lb, p, 7, RequestKind::Read, &mut rng).unwrap();
        choose_backend(&mut lb, p, 8, RequestKind::Read, &mut rng);
        assert_eq!(
            choose_backend(&mut lb, p, 7, RequestKind::Read, &mut rng),
            Some(first)
        );
        lb.backends[first].healthy = false;
        assert_ne!(
            choose_backend(&mut lb, p, 7, RequestKind::Read, &mut rng),
            Some(first)
        );
    }

    #[test]
    fn no_usable_server_means_no_choice() {
        let mut lb = pool(&[1.0, 1.0]);
        lb.backends.iter_mut().for_each(|b| b.healthy = false);
        let mut rng = SimRng::new(1, Stream::Design);
        for strategy in LbStrategy::ALL {
            assert_eq!(
                choose_backend(&mut lb, policy(strategy), 1, RequestKind::Read, &mut rng),
                None,
                "{strategy:?}"
            );
        }
    }
}
