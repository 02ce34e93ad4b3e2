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

/// What the authority knows of the health of one CDN edge, or of one
/// site (checked through its shared address).
#[derive(Clone, Debug)]
pub(crate) struct EdgeHealth {
    /// The edge; for a site, its first balancer (which names it).
    pub node: NodeId,
    pub healthy: bool,
    fails: u32,
    sent: u32,
    answered: u32,
}

impl EdgeHealth {
    fn new(node: NodeId) -> EdgeHealth {
        EdgeHealth {
            node,
            healthy: true,
            fails: 0,
            sent: 0,
            answered: 0,
        }
    }

    /// One round of checks: the answer to the last one counts, then a new
    /// one is sent. Returns the change of mind, if any: (up, count).
    fn check(&mut self, seq: u32, limit: u32) -> Option<(bool, u32)> {
        let mut change = None;
        if self.sent > 0 {
            if self.answered >= self.sent {
                self.fails = 0;
                if !self.healthy {
                    self.healthy = true;
                    change = Some((true, 0));
                }
            } else {
                self.fails += 1;
                if self.healthy && self.fails >= limit {
                    self.healthy = false;
                    change = Some((false, self.fails));
                }
            }
        }
        self.sent = seq;
        change
    }
}

/// The authoritative DNS server.
#[derive(Clone, Debug)]
pub struct AuthNode {
    pub(crate) edges: Vec<EdgeHealth>,
    /// With more than one site: each site's health, checked through its
    /// shared address (geo-DNS sends users to the nearest healthy one).
    pub(crate) sites: Vec<EdgeHealth>,
    /// Per region: an answer pinned by a command instead of geography.
    pub(crate) overrides: Vec<Option<Target>>,
    seq: u32,
}

impl AuthNode {
    /// An authority over `cdns` edges and `sites` (each named by its
    /// first balancer; checked only when there is more than one).
    pub(crate) fn new(cdns: &[NodeId], sites: &[NodeId], regions: usize) -> AuthNode {
        AuthNode {
            edges: cdns.iter().map(|&node| EdgeHealth::new(node)).collect(),
            sites: if sites.len() > 1 {
                sites.iter().map(|&node| EdgeHealth::new(node)).collect()
            } else {
                Vec::new()
            },
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

    /// The answer for users in `region`: for the API, the nearest healthy
    /// site (the nearest of all if none is healthy; the origin when there
    /// is one site); for static content the override if one is set, else
    /// the nearest healthy edge, else the origin.
    pub(crate) fn answer(&self, topo: &Topology, name: DnsName, region: usize) -> Target {
        match name {
            DnsName::Api => {
                let near = |healthy: bool| {
                    (self.sites.iter().enumerate())
                        .filter(|(_, s)| s.healthy || !healthy)
                        .min_by_key(|&(i, s)| (topo.distance(region, s.node), i))
                        .map(|(i, _)| i)
                };
                match near(true).or_else(|| near(false)) {
                    Some(0) | None => Target::Origin,
                    Some(i) => Target::Site(i as u8),
                }
            }
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
                // An edge, or either balancer of a site.
                let site = (cx.topo.nodes[from.idx()].kind == crate::node::NodeKind::Lb)
                    .then(|| cx.topo.site_of(from));
                let checked = match site {
                    Some(s) => self.sites.get_mut(s),
                    None => self.edges.iter_mut().find(|e| e.node == from),
                };
                if let Some(e) = checked {
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
        let a = &mut *self;
        a.seq += 1;
        let seq = a.seq;
        let mut edges = Vec::new();
        for e in &mut a.edges {
            if let Some((up, fails)) = e.check(seq, limit) {
                edges.push((e.node, up, fails));
            }
        }
        let mut sites = Vec::new();
        for s in &mut a.sites {
            if let Some((up, fails)) = s.check(seq, limit) {
                sites.push((s.node, up, fails));
            }
        }
        for (edge, up, fails) in edges {
            cx.log(LogEvent::DnsEdgeHealth { edge, up, fails });
        }
        for (site, up, fails) in sites {
            cx.log(LogEvent::DnsSiteHealth { site, up, fails });
        }
        for i in 0..self.edges.len() {
            cx.send(self.edges[i].node, Msg::Ping { seq }, 0);
        }
        for s in 0..self.sites.len() {
            let to = if s == 0 {
                Target::Origin
            } else {
                Target::Site(s as u8)
            };
            cx.send(to, Msg::Ping { seq }, 0);
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
        let auth = AuthNode::new(&topo.cdns, &[], 3);
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
