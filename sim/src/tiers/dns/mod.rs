//! DNS: a caching resolver per region and one authority that answers by geography and health; a changed answer reaches users only when their resolver's copy expires.

use crate::context::Cx;
use crate::log::LogEvent;
use crate::msg::{DnsName, Msg, Target, Timer};
use crate::node::NodeId;
use crate::request::{HopNote, RequestId};
use crate::time::SimTime;
use crate::topology::Topology;

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

impl ResolverNode {
    /// Handles a message from `from`.
    pub(crate) fn on_msg(&mut self, cx: &mut Cx, from: NodeId, msg: Msg) {
        let now = cx.now;
        match msg {
            Msg::DnsQuery { req, name } => {
                let n = name.idx();
                if let Some((target, expires)) = self.cache[n]
                    && expires > now
                {
                    cx.hop_span(req, now, now.after(DNS_WORK), HopNote::DnsCached);
                    cx.send(
                        from,
                        Msg::DnsAnswer {
                            req,
                            target: Some(target),
                        },
                        DNS_WORK,
                    );
                    return;
                }
                let hop = cx.hop_open(req, HopNote::DnsLookup);
                let r = &mut *self;
                r.waiting[n].push((req, from, hop));
                if !r.asking[n] {
                    r.asking[n] = true;
                    r.epoch[n] += 1;
                    let epoch = r.epoch[n];
                    let region = cx.topo.region(cx.me) as u8;
                    if let Some(auth) = cx.topo.auth {
                        cx.send(auth, Msg::AuthQuery { name, region }, 0);
                    }
                    cx.timer(cx.cfg().dns_timeout, Timer::ResolverTimeout(name, epoch));
                }
            }
            Msg::AuthAnswer { name, target, ttl } => {
                let n = name.idx();
                let r = &mut *self;
                if !r.asking[n] {
                    return;
                }
                r.asking[n] = false;
                r.cache[n] = Some((target, now.after(ttl)));
                let waiting = std::mem::take(&mut r.waiting[n]);
                for (req, client, hop) in waiting {
                    cx.hop_close(req, hop, now.after(DNS_WORK), HopNote::DnsLookup);
                    cx.send(
                        client,
                        Msg::DnsAnswer {
                            req,
                            target: Some(target),
                        },
                        DNS_WORK,
                    );
                }
            }
            // Nothing else is ever sent to a resolver; a message that arrives anyway
            // is counted as misrouted rather than dropped in silence.
            msg @ (Msg::DnsAnswer { .. }
            | Msg::AuthQuery { .. }
            | Msg::Http { .. }
            | Msg::HttpReply { .. }
            | Msg::CacheGet { .. }
            | Msg::CacheValue { .. }
            | Msg::CacheSet { .. }
            | Msg::CacheDel { .. }
            | Msg::CacheWrite { .. }
            | Msg::CacheWriteAck { .. }
            | Msg::Enqueue { .. }
            | Msg::EnqueueAck { .. }
            | Msg::JobOffer { .. }
            | Msg::JobPull
            | Msg::QPut { .. }
            | Msg::QPutAck { .. }
            | Msg::QGet { .. }
            | Msg::QValue { .. }
            | Msg::MReplicate { .. }
            | Msg::JobDone { .. }
            | Msg::DbRead { .. }
            | Msg::DbWrite { .. }
            | Msg::DbReply { .. }
            | Msg::Append(_)
            | Msg::InstallSnapshot(_)
            | Msg::AppendReply { .. }
            | Msg::Vote { .. }
            | Msg::VoteReply { .. }
            | Msg::Ping { .. }
            | Msg::Pong { .. }
            | Msg::LbAdvert { .. }) => cx.misrouted(&msg),
        }
    }

    /// The authority did not answer in time: everyone waiting gets a failure.
    pub(crate) fn on_timeout(&mut self, cx: &mut Cx, name: DnsName, epoch: u32) {
        let n = name.idx();
        let r = &mut *self;
        if !r.asking[n] || r.epoch[n] != epoch {
            return;
        }
        r.asking[n] = false;
        let waiting = std::mem::take(&mut r.waiting[n]);
        let now = cx.now;
        for (req, client, hop) in waiting {
            cx.hop_close(
                req,
                hop,
                now,
                HopNote::Failed(crate::request::ErrorKind::DnsFailure),
            );
            cx.send(client, Msg::DnsAnswer { req, target: None }, DNS_WORK);
        }
    }
}

impl AuthNode {
    /// Starts health-checking the edges (at time zero or on restart).
    pub(crate) fn boot(&mut self, cx: &mut Cx) {
        cx.timer(cx.cfg().dns_health, Timer::AuthHealth);
    }

    /// The authority's answer for `name` asked from `region`.
    /// The answer for users in `region`: the origin for the API; for static
    /// content the override if one is set, else the nearest healthy edge,
    /// else the origin.
    pub(crate) fn answer(&self, topo: &Topology, name: DnsName, region: usize) -> Target {
        match name {
            DnsName::Api => Target::Origin,
            DnsName::Static => {
                let a = self;
                if let Some(t) = a.overrides.get(region).copied().flatten() {
                    return t;
                }
                a.edges
                    .iter()
                    .filter(|e| e.healthy)
                    .min_by_key(|e| (topo.distance(region, e.node), e.node))
                    .map(|e| Target::Node(e.node))
                    .unwrap_or(Target::Origin)
            }
        }
    }

    /// Handles a message from `from`.
    pub(crate) fn on_msg(&mut self, cx: &mut Cx, from: NodeId, msg: Msg) {
        match msg {
            Msg::AuthQuery { name, region } => {
                let target = self.answer(cx.topo, name, region as usize);
                let ttl = cx.cfg().dns_ttl;
                cx.send(from, Msg::AuthAnswer { name, target, ttl }, DNS_WORK);
            }
            Msg::Pong { seq } => {
                if let Some(e) = self.edges.iter_mut().find(|e| e.node == from) {
                    e.answered = e.answered.max(seq);
                }
            }
            // Nothing else is ever sent to the DNS authority; a message that arrives anyway
            // is counted as misrouted rather than dropped in silence.
            msg @ (Msg::DnsQuery { .. }
            | Msg::AuthAnswer { .. }
            | Msg::DnsAnswer { .. }
            | Msg::Http { .. }
            | Msg::HttpReply { .. }
            | Msg::CacheGet { .. }
            | Msg::CacheValue { .. }
            | Msg::CacheSet { .. }
            | Msg::CacheDel { .. }
            | Msg::CacheWrite { .. }
            | Msg::CacheWriteAck { .. }
            | Msg::Enqueue { .. }
            | Msg::EnqueueAck { .. }
            | Msg::JobOffer { .. }
            | Msg::JobPull
            | Msg::QPut { .. }
            | Msg::QPutAck { .. }
            | Msg::QGet { .. }
            | Msg::QValue { .. }
            | Msg::MReplicate { .. }
            | Msg::JobDone { .. }
            | Msg::DbRead { .. }
            | Msg::DbWrite { .. }
            | Msg::DbReply { .. }
            | Msg::Append(_)
            | Msg::InstallSnapshot(_)
            | Msg::AppendReply { .. }
            | Msg::Vote { .. }
            | Msg::VoteReply { .. }
            | Msg::Ping { .. }
            | Msg::LbAdvert { .. }) => cx.misrouted(&msg),
        }
    }

    /// Health-checks every CDN edge: an edge that missed its last check
    /// `failures_to_down` times in a row leaves the answers; one answer brings it back.
    /// Checks every edge: `failures_to_down` missed checks mark it down, one answer up.
    pub(crate) fn on_health_timer(&mut self, cx: &mut Cx) {
        let limit = cx.scenario().dns.failures_to_down;
        let mut changes = Vec::new();
        let a = &mut *self;
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
            cx.log(LogEvent::DnsEdgeHealth { edge, up, fails });
        }
        for edge in edges {
            cx.send(edge, Msg::Ping { seq }, 0);
        }
        cx.timer(cx.cfg().dns_health, Timer::AuthHealth);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::NodeKind;
    use crate::time::MS;

    /// Three regions in a line (0 — 1 — 2), an edge in each.
    fn world() -> (Topology, AuthNode) {
        let mut topo = Topology {
            one_way: vec![
                vec![MS, 40 * MS, 80 * MS],
                vec![40 * MS, MS, 40 * MS],
                vec![80 * MS, 40 * MS, MS],
            ],
            ..Topology::default()
        };
        for r in 0..3 {
            let id = topo.add(format!("cdn-{r}"), NodeKind::Cdn, r, r);
            topo.cdns.push(id);
        }
        let auth = AuthNode::new(&topo.cdns, 3);
        (topo, auth)
    }

    #[test]
    fn static_content_goes_to_the_nearest_healthy_edge() {
        let (topo, mut auth) = world();
        let edge = |r: usize| Target::Node(topo.cdns[r]);
        assert_eq!(auth.answer(&topo, DnsName::Static, 2), edge(2));
        auth.edges[2].healthy = false;
        assert_eq!(auth.answer(&topo, DnsName::Static, 2), edge(1));
        auth.edges.iter_mut().for_each(|e| e.healthy = false);
        assert_eq!(auth.answer(&topo, DnsName::Static, 2), Target::Origin);
    }

    #[test]
    fn the_api_name_always_points_at_the_origin() {
        let (topo, auth) = world();
        assert_eq!(auth.answer(&topo, DnsName::Api, 1), Target::Origin);
    }

    #[test]
    fn an_override_wins_over_geography_for_its_region_only() {
        let (topo, mut auth) = world();
        auth.overrides[0] = Some(Target::Origin);
        assert_eq!(auth.answer(&topo, DnsName::Static, 0), Target::Origin);
        assert_eq!(
            auth.answer(&topo, DnsName::Static, 1),
            Target::Node(topo.cdns[1])
        );
    }
}
