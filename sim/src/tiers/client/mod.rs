//! Users: open-loop Poisson arrivals per region, the request mix, key popularity, sessions, timeouts, and what each browser remembers between requests.

use crate::context::Cx;
use crate::msg::{DnsName, Msg, Observation, Reply, Timer};
use crate::node::NodeId;
use crate::request::{ErrorKind, HopNote, RequestId, RequestKind, Version};
use crate::requests::{AppStage, Req};
use crate::time::SimTime;

/// The users of one region, seen as one node.
#[derive(Clone, Debug)]
pub struct ClientNode {
    pub(crate) id: NodeId,
    pub(crate) region: usize,
    pub(crate) first_session: u32,
    /// What each session's browser remembers: for each shard, the position
    /// in that shard's log of its last confirmed write there (sent along for
    /// read-your-writes routing). Positions in different shards' logs cannot
    /// be compared, so there is one per shard.
    tokens: Vec<Version>,
    shards: usize,
    /// Requests sent.
    pub sent: u64,
}

impl ClientNode {
    pub(crate) fn new(
        id: NodeId,
        region: usize,
        first_session: u32,
        sessions: u32,
        shards: usize,
    ) -> ClientNode {
        ClientNode {
            id,
            region,
            first_session,
            tokens: vec![Version::default(); sessions as usize * shards],
            shards,
            sent: 0,
        }
    }

    /// Starts the arrivals (at time zero, or when a silent region gets load).
    pub(crate) fn boot(&mut self, cx: &mut Cx) {
        self.schedule_arrival(cx);
    }

    fn schedule_arrival(&mut self, cx: &mut Cx) {
        let gap = cx.cfg().mean_gap[self.region];
        if !gap.is_finite() {
            return;
        }
        let after = cx.rng.workload.exponential(gap) as u64 + 1;
        cx.timer(after, Timer::Arrival);
    }

    /// What `session`'s browser remembers of its last write to `shard`.
    fn token(&mut self, session: u32, shard: usize) -> Option<&mut Version> {
        let i = session.checked_sub(self.first_session)? as usize;
        self.tokens.get_mut(i * self.shards + shard)
    }

    /// A user in this region sends a request.
    pub(crate) fn on_arrival(&mut self, cx: &mut Cx) {
        self.schedule_arrival(cx);
        let u = cx.rng.workload.unit();
        let kind = if u < cx.cfg().mix[0] {
            RequestKind::Static
        } else if u < cx.cfg().mix[1] {
            RequestKind::Read
        } else {
            RequestKind::Write
        };
        let spr = cx.scenario().workload.sessions_per_region as u64;
        let session = self.first_session + cx.rng.workload.below(spr) as u32;
        let key = match kind {
            RequestKind::Static => cx.cfg().zipf_assets.sample(&mut cx.rng.workload),
            _ => cx.cfg().zipf_keys.sample(&mut cx.rng.workload),
        };
        let (expect, ryw, mono) = cx.truth.expectations(key, session);
        let client = self.id;
        self.sent += 1;
        let shard = cx.topo.shard_of(key);
        let token = self.token(session, shard).copied().unwrap_or_default();
        let now = cx.now;
        let id = cx.reqs.open(Req {
            kind,
            key,
            session,
            client_tier: self.region as u16,
            start: now,
            end: SimTime::NEVER,
            done: false,
            expect,
            ryw,
            mono,
            hops: Vec::with_capacity(8),
            client_hop: 0,
            cdn: None,
            cdn_hop: u8::MAX,
            lb: None,
            lb_from: client,
            lb_backend: client,
            lb_hop: u8::MAX,
            app: None,
            app_from: client,
            app_hop: u8::MAX,
            app_stage: AppStage::None,
            app_started: SimTime::ZERO,
            app_call: 0,
            db_attempt: 0,
            db_target: client,
            token,
            db_to_leader: false,
            queued_reply: None,
            q_count: 0,
            q_best: Version::default(),
            q_replies: Vec::new(),
            q_app: None,
            stored: None,
            dirty_of: None,
        });
        cx.hop_open(id, HopNote::Browser);
        let name = if kind == RequestKind::Static && !cx.topo.cdns.is_empty() {
            DnsName::Static
        } else {
            DnsName::Api
        };
        let resolver = cx.topo.resolvers[self.region];
        cx.send(resolver, Msg::DnsQuery { req: id, name }, 0);
        cx.timer(cx.cfg().client_timeout, Timer::ClientTimeout(id));
    }

    /// Handles a message (a DNS answer, or the answer to a request).
    pub(crate) fn on_msg(&mut self, cx: &mut Cx, _from: NodeId, msg: Msg) {
        match msg {
            Msg::DnsAnswer { req, target } => {
                match cx.req(req) {
                    Some(r) if !r.done => {}
                    _ => return,
                }
                match target {
                    Some(target) => cx.send(target, Msg::Http { req }, 0),
                    None => self.complete(cx, req, Reply::Err(ErrorKind::DnsFailure)),
                }
            }
            Msg::HttpReply { req, reply } => self.complete(cx, req, reply),
            // Nothing else is ever sent to users; a message that arrives anyway
            // is counted as misrouted rather than dropped in silence.
            msg @ (Msg::DnsQuery { .. }
            | Msg::AuthQuery { .. }
            | Msg::AuthAnswer { .. }
            | Msg::Http { .. }
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

    /// The user gave up waiting.
    pub(crate) fn on_timeout(&mut self, cx: &mut Cx, req: RequestId) {
        self.complete(cx, req, Reply::Err(ErrorKind::Timeout));
    }

    /// A request's answer reaches its user (the first answer counts): the
    /// browser remembers a confirmed write's position, and the ground truth
    /// judges the answer.
    fn complete(&mut self, cx: &mut Cx, id: RequestId, reply: Reply) {
        let now = cx.now;
        let Some(r) = cx.req(id) else { return };
        if r.done {
            return;
        }
        r.done = true;
        r.end = now;
        let (kind, key, session, client_hop) = (r.kind, r.key, r.session, r.client_hop);
        let note = match reply {
            Reply::Ok(_) => HopNote::Browser,
            Reply::Err(e) => HopNote::Failed(e),
        };
        cx.hop_close(id, client_hop, now, note);
        if let (RequestKind::Write, Reply::Ok(Some(v))) = (kind, reply)
            && let Some(token) = self.token(session, cx.topo.shard_of(key))
        {
            *token = (*token).max(v);
        }
        cx.observe(Observation::Answered { req: id, reply });
    }
}
