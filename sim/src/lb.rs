//! The load balancer pair: one shared address, an active and a standby that takes over when heartbeats stop, health checks of app servers, and the balancing strategies.

use crate::hashing::{Ring, hash64, rendezvous};
use crate::log::LogEvent;
use crate::msg::{Msg, Reply, Timer};
use crate::node::NodeId;
use crate::request::RequestKind;
use crate::request::{ErrorKind, HopNote, RequestId};
use crate::scenario::LbStrategy;
use crate::time::SimTime;
use crate::world::Simulation;
use std::collections::BTreeMap;

/// What one balancer knows of one app server.
#[derive(Clone, Debug)]
pub struct Backend {
    /// In rotation.
    pub healthy: bool,
    fails: u32,
    oks: u32,
    sent: u32,
    answered: u32,
    /// Requests forwarded and not yet answered.
    pub in_progress: u32,
    /// Requests forwarded in total.
    pub forwarded: u64,
    /// Relative size (weighted strategies).
    pub weight: f64,
    /// Smooth weighted round robin's running credit.
    credit: f64,
    /// Taken out of the pool by scaling in.
    pub retired: bool,
}

impl Backend {
    fn new(weight: f64) -> Backend {
        Backend {
            healthy: true,
            fails: 0,
            oks: 0,
            sent: 0,
            answered: 0,
            in_progress: 0,
            forwarded: 0,
            weight,
            credit: 0.0,
            retired: false,
        }
    }

    /// In the pool and passing its health checks.
    pub fn usable(&self) -> bool {
        self.healthy && !self.retired
    }
}

/// One load balancer.
#[derive(Clone, Debug)]
pub struct LbNode {
    /// Holds (or believes it holds) the shared address.
    pub active: bool,
    priority: u8,
    /// One entry per app server, in order.
    pub backends: Vec<Backend>,
    seq: u32,
    cursor: usize,
    last_advert: SimTime,
    /// Sticky sessions: session → backend it was sent to.
    sticky: BTreeMap<u32, u16>,
    /// The consistent-hash ring over the backends.
    ring: Ring,
}

impl LbNode {
    pub(crate) fn new(active: bool, weights: &[f64], vnodes: u32) -> LbNode {
        let ids: Vec<u32> = (0..weights.len() as u32).collect();
        LbNode {
            active,
            priority: if active { 200 } else { 100 },
            backends: weights.iter().map(|&w| Backend::new(w)).collect(),
            seq: 0,
            cursor: 0,
            last_advert: SimTime::ZERO,
            sticky: BTreeMap::new(),
            ring: Ring::new(&ids, vnodes),
        }
    }

    /// Adds a backend (scaling out), rebuilding the ring.
    pub(crate) fn add_backend(&mut self, weight: f64, vnodes: u32) {
        self.backends.push(Backend::new(weight));
        self.rebuild_ring(vnodes);
    }

    /// Rebuilds the ring over the backends in the pool.
    pub(crate) fn rebuild_ring(&mut self, vnodes: u32) {
        let ids: Vec<u32> = (0..self.backends.len() as u32)
            .filter(|&i| !self.backends[i as usize].retired)
            .collect();
        self.ring = Ring::new(&ids, vnodes);
    }
}

/// Time a balancer takes to forward a request.
const LB_WORK: u64 = 100;

impl Simulation {
    fn lb_peer(&self, t: usize) -> NodeId {
        let other = 1 - t;
        self.nodes
            .iter()
            .position(|n| n.kind == crate::node::NodeKind::Lb && n.tier_idx as usize == other)
            .map(|i| NodeId(i as u16))
            .unwrap_or(NodeId(0))
    }

    fn app_node(&self, i: usize) -> NodeId {
        self.apps[i].id
    }

    pub(crate) fn lb_boot(&mut self, node: NodeId, t: usize) {
        self.lbs[t].last_advert = self.now;
        self.timer(node, self.cfg.lb_health, Timer::LbHealth);
        self.timer(node, self.cfg.lb_heartbeat, Timer::LbVrrp);
    }

    pub(crate) fn lb_crash(&mut self, t: usize) {
        let lb = &mut self.lbs[t];
        // It comes back as the standby and lets the other keep the address.
        lb.active = false;
        for b in &mut lb.backends {
            b.in_progress = 0;
        }
    }

    /// The active balancer sends heartbeats; the standby takes the address
    /// over when they stop.
    pub(crate) fn lb_vrrp(&mut self, node: NodeId, t: usize) {
        let peer = self.lb_peer(t);
        let lb = &self.lbs[t];
        if lb.active {
            let priority = lb.priority;
            if self.vip != Some(node) {
                self.vip = Some(node);
            }
            self.send(node, peer, Msg::LbAdvert { priority }, 0);
        } else {
            let silent = self.now.since(lb.last_advert);
            let limit =
                self.cfg.lb_heartbeat * self.scenario.lb.missed_heartbeats_to_failover as u64;
            if silent > limit {
                self.lbs[t].active = true;
                self.vip = Some(node);
                self.log_event(LogEvent::LbTakeover {
                    lb: node,
                    from: peer,
                });
                let priority = self.lbs[t].priority;
                self.send(node, peer, Msg::LbAdvert { priority }, 0);
            }
        }
        self.timer(node, self.cfg.lb_heartbeat, Timer::LbVrrp);
    }

    pub(crate) fn lb_on_msg(&mut self, node: NodeId, t: usize, from: NodeId, msg: Msg) {
        let now = self.now;
        match msg {
            Msg::LbAdvert { priority } => {
                let lb = &mut self.lbs[t];
                lb.last_advert = now;
                if lb.active && priority > lb.priority {
                    lb.active = false;
                    self.log_event(LogEvent::LbYield { lb: node, to: from });
                }
            }
            Msg::Pong { seq } => {
                if let Some(i) = self.apps.iter().position(|a| a.id == from) {
                    let b = &mut self.lbs[t].backends[i];
                    b.answered = b.answered.max(seq);
                }
            }
            Msg::Http { req } => {
                let Some((session, kind)) = self.req(req).map(|r| (r.session, r.kind)) else {
                    return;
                };
                let Some(i) = self.lb_choose(t, session, kind) else {
                    self.hop_span(req, node, now, now, HopNote::Failed(ErrorKind::NoBackend));
                    self.send(
                        node,
                        from,
                        Msg::HttpReply {
                            req,
                            reply: Reply::Err(ErrorKind::NoBackend),
                        },
                        LB_WORK,
                    );
                    return;
                };
                let backend = self.app_node(i);
                let hop = self.hop_open(req, node, HopNote::Balanced);
                let Some(r) = self.req(req) else { return };
                r.lb = Some(node);
                r.lb_from = from;
                r.lb_backend = backend;
                r.lb_hop = hop;
                let b = &mut self.lbs[t].backends[i];
                b.in_progress += 1;
                b.forwarded += 1;
                let work = self.work(node, LB_WORK);
                self.send(node, backend, Msg::Http { req }, work);
                self.timer(
                    node,
                    self.cfg.lb_upstream_timeout,
                    Timer::LbUpstreamTimeout(req),
                );
            }
            Msg::HttpReply { req, reply } => {
                let Some(r) = self.req(req) else { return };
                if r.lb != Some(node) || r.lb_backend != from {
                    return;
                }
                r.lb = None;
                let (to, hop) = (r.lb_from, r.lb_hop);
                if let Some(i) = self.apps.iter().position(|a| a.id == from) {
                    let b = &mut self.lbs[t].backends[i];
                    b.in_progress = b.in_progress.saturating_sub(1);
                }
                let note = match reply {
                    Reply::Ok(_) => HopNote::Balanced,
                    Reply::Err(e) => HopNote::Failed(e),
                };
                self.hop_close(req, hop, now, note);
                self.send(
                    node,
                    to,
                    Msg::HttpReply { req, reply },
                    self.work(node, LB_WORK),
                );
            }
            _ => {}
        }
    }

    pub(crate) fn lb_upstream_timeout(&mut self, node: NodeId, t: usize, req: RequestId) {
        let now = self.now;
        let Some(r) = self.req(req) else { return };
        if r.lb != Some(node) {
            return;
        }
        r.lb = None;
        let (to, hop, backend) = (r.lb_from, r.lb_hop, r.lb_backend);
        if let Some(i) = self.apps.iter().position(|a| a.id == backend) {
            let b = &mut self.lbs[t].backends[i];
            b.in_progress = b.in_progress.saturating_sub(1);
        }
        let e = ErrorKind::GatewayTimeout;
        self.hop_close(req, hop, now, HopNote::Failed(e));
        self.send(
            node,
            to,
            Msg::HttpReply {
                req,
                reply: Reply::Err(e),
            },
            LB_WORK,
        );
    }

    /// Picks a healthy backend for a request of `session` by the scenario's
    /// strategy (and sticky sessions, when on).
    fn lb_choose(&mut self, t: usize, session: u32, kind: RequestKind) -> Option<usize> {
        let spec = &self.scenario.lb;
        let (strategy, sticky, static_pool) = (
            spec.strategy,
            spec.sticky,
            spec.path_static_servers as usize,
        );
        let n = self.lbs[t].backends.len();
        if n == 0 {
            return None;
        }
        if sticky
            && let Some(&b) = self.lbs[t].sticky.get(&session)
            && self.lbs[t]
                .backends
                .get(b as usize)
                .is_some_and(Backend::usable)
        {
            return Some(b as usize);
        }
        let key = session as u64;
        let lb = &mut self.lbs[t];
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
                    let i = self.rng.design.below(usable.len() as u64) as usize;
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
                let wanted = |i: usize| {
                    static_pool >= n || (i < static_pool) == (kind == RequestKind::Static)
                };
                in_turn
                    .clone()
                    .find(|&i| lb.backends[i].usable() && wanted(i))
            }
        };
        let lb = &mut self.lbs[t];
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

    /// Health-checks every app server: `failures_to_down` missed checks in
    /// a row take it out of rotation, `successes_to_up` answered ones bring it back.
    pub(crate) fn lb_health(&mut self, node: NodeId, t: usize) {
        let (down_after, up_after) = (
            self.scenario.lb.failures_to_down,
            self.scenario.lb.successes_to_up,
        );
        let lb = &mut self.lbs[t];
        lb.seq += 1;
        let seq = lb.seq;
        let mut changes = Vec::new();
        for (i, b) in lb.backends.iter_mut().enumerate() {
            if b.retired {
                continue;
            }
            if b.sent > 0 {
                if b.answered >= b.sent {
                    b.fails = 0;
                    b.oks += 1;
                    if !b.healthy && b.oks >= up_after {
                        b.healthy = true;
                        changes.push((i, true, b.oks));
                    }
                } else {
                    b.oks = 0;
                    b.fails += 1;
                    if b.healthy && b.fails >= down_after {
                        b.healthy = false;
                        changes.push((i, false, b.fails));
                    }
                }
            }
            b.sent = seq;
        }
        for (i, up, count) in changes {
            let backend = self.app_node(i);
            self.log_event(LogEvent::BackendHealth {
                lb: node,
                backend,
                up,
                count,
            });
        }
        for i in 0..self.apps.len() {
            if self.lbs[t].backends.get(i).is_some_and(|b| !b.retired) {
                let backend = self.app_node(i);
                self.send(node, backend, Msg::Ping { seq }, 0);
            }
        }
        self.timer(node, self.cfg.lb_health, Timer::LbHealth);
    }
}
