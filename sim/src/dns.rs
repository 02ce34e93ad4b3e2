//! DNS: a caching resolver per region and one authority that answers by geography and health; a changed answer reaches users only when their resolver's copy expires.

use crate::log::LogEvent;
use crate::msg::{DnsName, Msg, Target, Timer};
use crate::node::NodeId;
use crate::request::{HopNote, RequestId};
use crate::time::SimTime;
use crate::world::Simulation;

/// A caching resolver near the users of one region.
#[derive(Clone, Debug, Default)]
pub struct ResolverNode {
    /// Cached answer per name and when it expires.
    pub(crate) cache: [Option<(Target, SimTime)>; 2],
    waiting: [Vec<(RequestId, NodeId, u8)>; 2],
    asking: [bool; 2],
    epoch: [u32; 2],
}

/// What the authority knows of one CDN edge's health.
#[derive(Clone, Debug)]
pub(crate) struct EdgeHealth {
    pub node: NodeId,
    pub healthy: bool,
    fails: u32,
    sent: u32,
    answered: u32,
}

/// The authoritative DNS server.
#[derive(Clone, Debug)]
pub struct AuthNode {
    pub(crate) edges: Vec<EdgeHealth>,
    /// Per region: an answer pinned by a command instead of geography.
    pub(crate) overrides: Vec<Option<Target>>,
    seq: u32,
}

impl AuthNode {
    pub(crate) fn new(cdns: &[NodeId], regions: usize) -> AuthNode {
        AuthNode {
            edges: cdns
                .iter()
                .map(|&node| EdgeHealth {
                    node,
                    healthy: true,
                    fails: 0,
                    sent: 0,
                    answered: 0,
                })
                .collect(),
            overrides: vec![None; regions],
            seq: 0,
        }
    }
}

/// Time a DNS server takes to answer.
const DNS_WORK: u64 = 100;

impl Simulation {
    /// The resolver serving users in `region`.
    pub(crate) fn resolver_for(&self, region: usize) -> NodeId {
        NodeId((self.clients.len() + region) as u16)
    }

    fn auth_id(&self) -> NodeId {
        NodeId((self.clients.len() + self.resolvers.len()) as u16)
    }

    pub(crate) fn resolver_on_msg(&mut self, node: NodeId, t: usize, from: NodeId, msg: Msg) {
        let now = self.now;
        match msg {
            Msg::DnsQuery { req, name } => {
                let n = name.idx();
                if let Some((target, expires)) = self.resolvers[t].cache[n]
                    && expires > now
                {
                    self.hop_span(req, node, now, now.after(DNS_WORK), HopNote::DnsCached);
                    self.send(
                        node,
                        from,
                        Msg::DnsAnswer {
                            req,
                            target: Some(target),
                        },
                        DNS_WORK,
                    );
                    return;
                }
                let hop = self.hop_open(req, node, HopNote::DnsLookup);
                let r = &mut self.resolvers[t];
                r.waiting[n].push((req, from, hop));
                if !r.asking[n] {
                    r.asking[n] = true;
                    r.epoch[n] += 1;
                    let epoch = r.epoch[n];
                    let region = self.nodes[node.idx()].region;
                    let auth = self.auth_id();
                    self.send(node, auth, Msg::AuthQuery { name, region }, 0);
                    self.timer(
                        node,
                        self.cfg.dns_timeout,
                        Timer::ResolverTimeout(name, epoch),
                    );
                }
            }
            Msg::AuthAnswer { name, target, ttl } => {
                let n = name.idx();
                let r = &mut self.resolvers[t];
                if !r.asking[n] {
                    return;
                }
                r.asking[n] = false;
                r.cache[n] = Some((target, now.after(ttl)));
                let waiting = std::mem::take(&mut r.waiting[n]);
                for (req, client, hop) in waiting {
                    self.hop_close(req, hop, now.after(DNS_WORK), HopNote::DnsLookup);
                    self.send(
                        node,
                        client,
                        Msg::DnsAnswer {
                            req,
                            target: Some(target),
                        },
                        DNS_WORK,
                    );
                }
            }
            _ => {}
        }
    }

    pub(crate) fn resolver_timeout(&mut self, node: NodeId, t: usize, name: DnsName, epoch: u32) {
        let n = name.idx();
        let r = &mut self.resolvers[t];
        if !r.asking[n] || r.epoch[n] != epoch {
            return;
        }
        r.asking[n] = false;
        let waiting = std::mem::take(&mut r.waiting[n]);
        let now = self.now;
        for (req, client, hop) in waiting {
            self.hop_close(
                req,
                hop,
                now,
                HopNote::Failed(crate::request::ErrorKind::DnsFailure),
            );
            self.send(node, client, Msg::DnsAnswer { req, target: None }, DNS_WORK);
        }
    }

    pub(crate) fn auth_boot(&mut self, node: NodeId) {
        self.timer(node, self.cfg.dns_health, Timer::AuthHealth);
    }

    /// The authority's answer for `name` asked from `region`.
    pub(crate) fn auth_answer(&self, name: DnsName, region: usize) -> Target {
        match name {
            DnsName::Api => Target::Origin,
            DnsName::Static => {
                let a = &self.auth[0];
                if let Some(t) = a.overrides.get(region).copied().flatten() {
                    return t;
                }
                a.edges
                    .iter()
                    .filter(|e| e.healthy)
                    .min_by_key(|e| {
                        (
                            self.one_way[region][self.nodes[e.node.idx()].region as usize],
                            e.node,
                        )
                    })
                    .map(|e| Target::Node(e.node))
                    .unwrap_or(Target::Origin)
            }
        }
    }

    pub(crate) fn auth_on_msg(&mut self, node: NodeId, from: NodeId, msg: Msg) {
        match msg {
            Msg::AuthQuery { name, region } => {
                let target = self.auth_answer(name, region as usize);
                let ttl = self.cfg.dns_ttl;
                self.send(node, from, Msg::AuthAnswer { name, target, ttl }, DNS_WORK);
            }
            Msg::Pong { seq } => {
                if let Some(e) = self.auth[0].edges.iter_mut().find(|e| e.node == from) {
                    e.answered = e.answered.max(seq);
                }
            }
            _ => {}
        }
    }

    /// Health-checks every CDN edge: an edge that missed its last check
    /// `failures_to_down` times in a row leaves the answers; one answer brings it back.
    pub(crate) fn auth_health(&mut self, node: NodeId) {
        let limit = self.scenario.dns.failures_to_down;
        let mut changes = Vec::new();
        let a = &mut self.auth[0];
        a.seq += 1;
        let seq = a.seq;
        for e in &mut a.edges {
            if e.sent > 0 {
                if e.answered >= e.sent {
                    e.fails = 0;
                    if !e.healthy {
                        e.healthy = true;
                        changes.push((e.node, true, 0));
                    }
                } else {
                    e.fails += 1;
                    if e.healthy && e.fails >= limit {
                        e.healthy = false;
                        changes.push((e.node, false, e.fails));
                    }
                }
            }
            e.sent = seq;
        }
        let edges: Vec<NodeId> = a.edges.iter().map(|e| e.node).collect();
        for (edge, up, fails) in changes {
            self.log_event(LogEvent::DnsEdgeHealth { edge, up, fails });
        }
        for edge in edges {
            self.send(node, edge, Msg::Ping { seq }, 0);
        }
        self.timer(node, self.cfg.dns_health, Timer::AuthHealth);
    }
}
