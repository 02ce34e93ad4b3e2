//! The simulated network: per-region base delays with jitter, per-link faults (extra delay, jitter, loss), partitions as a matrix of cut directions, and the balancers' shared address.

use crate::node::NodeId;
use crate::rng::SimRng;
use crate::time::{Micros, SimTime};
use crate::topology::Topology;
use std::collections::BTreeMap;

/// A link's changed behaviour.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct LinkFault {
    pub extra: Micros,
    pub jitter: Micros,
    pub loss: f64,
}

/// The state of the network between nodes.
#[derive(Clone, Debug)]
pub(crate) struct Network {
    /// `blocked[from * n + to]`: messages from `from` to `to` are dropped.
    blocked: Vec<bool>,
    n: usize,
    n_blocked: usize,
    /// Faults on links, keyed by the (smaller, larger) pair of node ids.
    links: BTreeMap<(u16, u16), LinkFault>,
    /// Which balancer answers each site's shared address.
    pub vips: Vec<Option<NodeId>>,
    /// Jitter as a fraction of the base delay.
    jitter: f64,
    /// Messages dropped (partitions, loss, dead receivers).
    pub dropped: u64,
    /// For each (from, to) replication stream: when its latest message
    /// arrives. A stream is one connection, whose messages arrive in the
    /// order they were sent (jitter delays, but never reorders, them).
    streams: BTreeMap<(u16, u16), SimTime>,
    rng: SimRng,
}

impl Network {
    /// A healthy network over `n` nodes.
    pub fn new(n: usize, jitter: f64, rng: SimRng) -> Network {
        Network {
            blocked: vec![false; n * n],
            n,
            n_blocked: 0,
            links: BTreeMap::new(),
            vips: Vec::new(),
            jitter,
            dropped: 0,
            streams: BTreeMap::new(),
            rng,
        }
    }

    /// Makes room in the partition matrix for a node just added.
    pub fn grow(&mut self) {
        let old = self.n;
        let n = old + 1;
        let mut grown = vec![false; n * n];
        for a in 0..old {
            for b in 0..old {
                grown[a * n + b] = self.blocked[a * old + b];
            }
        }
        self.blocked = grown;
        self.n = n;
    }

    /// Whether messages from `from` to `to` are currently cut.
    #[inline]
    pub fn is_blocked(&self, from: NodeId, to: NodeId) -> bool {
        self.n_blocked > 0 && self.blocked[from.idx() * self.n + to.idx()]
    }

    /// Cuts messages from `a` to `b`.
    pub fn block(&mut self, a: NodeId, b: NodeId) {
        let i = a.idx() * self.n + b.idx();
        if !self.blocked[i] {
            self.blocked[i] = true;
            self.n_blocked += 1;
        }
    }

    /// Every cut direction (from, to), in order.
    pub fn cuts(&self) -> Vec<(u16, u16)> {
        let mut cut = Vec::new();
        if self.n_blocked > 0 {
            for a in 0..self.n {
                for b in 0..self.n {
                    if self.blocked[a * self.n + b] {
                        cut.push((a as u16, b as u16));
                    }
                }
            }
        }
        cut
    }

    /// Whether any message to or from node `i` is cut.
    pub fn touches(&self, i: usize) -> bool {
        self.n_blocked > 0
            && (0..self.n).any(|j| self.blocked[i * self.n + j] || self.blocked[j * self.n + i])
    }

    /// Removes every cut.
    pub fn heal(&mut self) {
        self.blocked.iter_mut().for_each(|b| *b = false);
        self.n_blocked = 0;
    }

    /// Sets (or, with the default, clears) the fault on the link `a`–`b`.
    pub fn set_link(&mut self, a: NodeId, b: NodeId, fault: LinkFault) {
        let key = if a < b { (a.0, b.0) } else { (b.0, a.0) };
        if fault == LinkFault::default() {
            self.links.remove(&key);
        } else {
            self.links.insert(key, fault);
        }
    }

    /// When a message of a stream from `from` to `to` that would arrive at
    /// `at` does arrive: not before the stream's previous one.
    pub fn in_order(&mut self, from: NodeId, to: NodeId, at: SimTime) -> SimTime {
        let last = self.streams.entry((from.0, to.0)).or_insert(at);
        *last = (*last).max(at);
        *last
    }

    /// How long a message from `from` to `to` takes, or none if it is cut
    /// or lost on the way (counted as dropped).
    #[inline]
    pub fn latency(&mut self, topo: &Topology, from: NodeId, to: NodeId) -> Option<Micros> {
        if self.is_blocked(from, to) {
            self.dropped += 1;
            return None;
        }
        let base = topo.one_way[topo.region(from)][topo.region(to)];
        let mut lat = base;
        if self.jitter > 0.0 && base > 0 {
            // Symmetric around the base delay, so the mean one-way delay
            // stays half the round trip the scenario gives.
            let spread = base as f64 * self.jitter;
            lat = (base as f64 + spread * (2.0 * self.rng.unit() - 1.0)) as Micros;
        }
        if !self.links.is_empty() {
            let key = if from < to {
                (from.0, to.0)
            } else {
                (to.0, from.0)
            };
            if let Some(f) = self.links.get(&key).copied() {
                if f.loss > 0.0 && self.rng.chance(f.loss) {
                    self.dropped += 1;
                    return None;
                }
                lat += f.extra;
                if f.jitter > 0 {
                    // Up to `jitter` either way (never below zero), so the
                    // link's mean delay grows by exactly its extra delay.
                    let j = f.jitter.min(lat);
                    lat = lat + self.rng.below(2 * j + 1) - j;
                }
            }
        }
        Some(lat)
    }
}
