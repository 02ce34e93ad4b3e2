//! The load balancer pair: one shared address, an active and a standby that takes over when heartbeats stop, health checks of app servers, and the balancing strategies.

mod choose;

use crate::context::Cx;
use crate::hashing::Ring;
use crate::log::LogEvent;
use crate::msg::{Msg, Reply, Timer};
use crate::node::NodeId;
use crate::request::{ErrorKind, HopNote, RequestId};
use crate::time::SimTime;
pub(crate) use choose::{Policy, choose_backend};
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
    /// Its site: backend `i` is the site's app server `i`.
    pub(crate) site: usize,
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
            site: 0,
        }
    }

    /// Adds a backend (scaling out). The ring is rebuilt once the pool has
    /// its new size ([`LbNode::rebuild_ring`]), not once per server added.
    pub(crate) fn add_backend(&mut self, weight: f64) {
        self.backends.push(Backend::new(weight));
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

impl LbNode {
    /// Starts health checks and heartbeats (at time zero or on restart).
    pub(crate) fn boot(&mut self, cx: &mut Cx) {
        self.last_advert = cx.now;
        cx.timer(cx.cfg().lb_health, Timer::LbHealth);
        cx.timer(cx.cfg().lb_heartbeat, Timer::LbVrrp);
    }

    /// Forgets what was in memory.
    pub(crate) fn crash(&mut self) {
        let lb = &mut *self;
        // It comes back as the standby and lets the other keep the address.
        lb.active = false;
        for b in &mut lb.backends {
            b.in_progress = 0;
        }
    }

    /// The active balancer sends heartbeats; the standby takes the address
    /// over when they stop.
    pub(crate) fn on_heartbeat_timer(&mut self, cx: &mut Cx) {
        let peer = cx.topo.lb_peer(cx.me);
        if self.active {
            let priority = self.priority;
            cx.claim_address();
            cx.send(peer, Msg::LbAdvert { priority }, 0);
        } else {
            let silent = cx.now.since(self.last_advert);
            let limit =
                cx.cfg().lb_heartbeat * cx.scenario().lb.missed_heartbeats_to_failover as u64;
            if silent > limit {
                self.active = true;
                cx.claim_address();
                cx.log(LogEvent::LbTakeover {
                    lb: cx.me,
                    from: peer,
                });
                let priority = self.priority;
                cx.send(peer, Msg::LbAdvert { priority }, 0);
            }
        }
        cx.timer(cx.cfg().lb_heartbeat, Timer::LbVrrp);
    }

    /// Handles a message from `from`.
    pub(crate) fn on_msg(&mut self, cx: &mut Cx, from: NodeId, msg: Msg) {
        let me = cx.me;
        let now = cx.now;
        match msg {
            Msg::LbAdvert { priority } => {
                let lb = &mut *self;
                lb.last_advert = now;
                if lb.active && priority > lb.priority {
                    lb.active = false;
                    cx.log(LogEvent::LbYield {
                        lb: cx.me,
                        to: from,
                    });
                }
            }
            Msg::Pong { seq } => {
                if let Some(i) = cx.topo.site_app_index(self.site, from) {
                    let b = &mut self.backends[i];
                    b.answered = b.answered.max(seq);
                }
            }
            Msg::Ping { seq } => {
                // Geo-DNS checks the site through its address: it passes
                // while the balancer has an app server to send users to.
                if self.backends.iter().any(Backend::usable) {
                    cx.send(from, Msg::Pong { seq }, cx.work(LB_WORK));
                }
            }
            Msg::Http { req } => {
                let Some((session, kind)) = cx.req(req).map(|r| (r.session, r.kind)) else {
                    return;
                };
                let spec = &cx.scenario().lb;
                let policy = Policy {
                    strategy: spec.strategy,
                    sticky: spec.sticky,
                    static_pool: spec.path_static_servers as usize,
                };
                let Some(i) = choose_backend(self, policy, session, kind, &mut cx.rng.design)
                else {
                    cx.hop_span(req, now, now, HopNote::Failed(ErrorKind::NoBackend));
                    cx.send(
                        from,
                        Msg::HttpReply {
                            req,
                            reply: Reply::Err(ErrorKind::NoBackend),
                        },
                        LB_WORK,
                    );
                    return;
                };
                let backend = cx.topo.site_app(self.site, i);
                let hop = cx.hop_open(req, HopNote::Balanced);
                let Some(r) = cx.req(req) else { return };
                r.lb = Some(me);
                r.lb_from = from;
                r.lb_backend = backend;
                r.lb_hop = hop;
                let b = &mut self.backends[i];
                b.in_progress += 1;
                b.forwarded += 1;
                let work = cx.work(LB_WORK);
                cx.send(backend, Msg::Http { req }, work);
                cx.timer(cx.cfg().lb_upstream_timeout, Timer::LbUpstreamTimeout(req));
            }
            Msg::HttpReply { req, reply } => {
                let Some(r) = cx.req(req) else { return };
                if r.lb != Some(me) || r.lb_backend != from {
                    return;
                }
                r.lb = None;
                let (to, hop) = (r.lb_from, r.lb_hop);
                if let Some(i) = cx.topo.site_app_index(self.site, from) {
                    let b = &mut self.backends[i];
                    b.in_progress = b.in_progress.saturating_sub(1);
                }
                let note = match reply {
                    Reply::Ok(_) => HopNote::Balanced,
                    Reply::Err(e) => HopNote::Failed(e),
                };
                cx.hop_close(req, hop, now, note);
                cx.send(to, Msg::HttpReply { req, reply }, cx.work(LB_WORK));
            }
            // Nothing else is ever sent to a load balancer; a message that arrives anyway
            // is counted as misrouted rather than dropped in silence.
            msg @ (Msg::DnsQuery { .. }
            | Msg::DnsAnswer { .. }
            | Msg::AuthQuery { .. }
            | Msg::AuthAnswer { .. }
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
            | Msg::VoteReply { .. }) => cx.misrouted(&msg),
        }
    }

    /// An app server did not answer in time: the user gets a 504.
    pub(crate) fn on_upstream_timeout(&mut self, cx: &mut Cx, req: RequestId) {
        let me = cx.me;
        let now = cx.now;
        let Some(r) = cx.req(req) else { return };
        if r.lb != Some(me) {
            return;
        }
        r.lb = None;
        let (to, hop, backend) = (r.lb_from, r.lb_hop, r.lb_backend);
        if let Some(i) = cx.topo.site_app_index(self.site, backend) {
            let b = &mut self.backends[i];
            b.in_progress = b.in_progress.saturating_sub(1);
        }
        let e = ErrorKind::GatewayTimeout;
        cx.hop_close(req, hop, now, HopNote::Failed(e));
        cx.send(
            to,
            Msg::HttpReply {
                req,
                reply: Reply::Err(e),
            },
            LB_WORK,
        );
    }

    /// Health-checks every app server: `failures_to_down` missed checks in
    /// a row take it out of rotation, `successes_to_up` answered ones bring it back.
    pub(crate) fn on_health_timer(&mut self, cx: &mut Cx) {
        let (down_after, up_after) = (
            cx.scenario().lb.failures_to_down,
            cx.scenario().lb.successes_to_up,
        );
        let lb = &mut *self;
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
            let backend = cx.topo.site_app(self.site, i);
            cx.log(LogEvent::BackendHealth {
                lb: cx.me,
                backend,
                up,
                count,
            });
        }
        for i in 0..cx.topo.sites[self.site].apps.len() {
            if self.backends.get(i).is_some_and(|b| !b.retired) {
                let backend = cx.topo.site_app(self.site, i);
                cx.send(backend, Msg::Ping { seq }, 0);
            }
        }
        cx.timer(cx.cfg().lb_health, Timer::LbHealth);
    }
}
