//! Users: open-loop Poisson arrivals per region, the request mix, key popularity, sessions, timeouts, and judging each answer against the ground truth.

use crate::msg::{DnsName, Msg, Reply, Timer};
use crate::node::NodeId;
use crate::request::{ErrorKind, Hop, HopNote, Outcome, RequestId, RequestKind, Trace, Version};
use crate::time::{SEC, SimTime};
use crate::truth::HistoryOp;
use crate::world::Simulation;

/// The users of one region, seen as one node.
#[derive(Clone, Debug)]
pub struct ClientNode {
    pub(crate) id: NodeId,
    pub(crate) region: usize,
    pub(crate) first_session: u32,
    /// Requests sent.
    pub sent: u64,
}

impl ClientNode {
    pub(crate) fn new(id: NodeId, region: usize, first_session: u32) -> ClientNode {
        ClientNode {
            id,
            region,
            first_session,
            sent: 0,
        }
    }
}

/// Where an app server is with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AppStage {
    None,
    Queued,
    Cpu,
    Cache,
    Db,
    Enqueue,
    Done,
}

/// A request in flight: its identity, what the ground truth expected when it
/// started, its trace so far, and each tier's bookkeeping.
#[derive(Clone, Debug)]
pub(crate) struct Req {
    pub kind: RequestKind,
    pub key: u32,
    pub session: u32,
    pub client_tier: u16,
    pub start: SimTime,
    pub end: SimTime,
    pub done: bool,
    /// Newest version acknowledged to anyone when the request started.
    pub expect: Version,
    /// The session's own last acknowledged write of this key.
    pub ryw: Version,
    /// The newest version of this key the session had read.
    pub mono: Version,
    pub hops: Vec<Hop>,
    pub client_hop: u8,
    pub cdn: Option<NodeId>,
    pub cdn_hop: u8,
    pub lb: Option<NodeId>,
    pub lb_from: NodeId,
    pub lb_backend: NodeId,
    pub lb_hop: u8,
    pub app: Option<NodeId>,
    pub app_from: NodeId,
    pub app_hop: u8,
    pub app_stage: AppStage,
    pub app_call: u32,
    pub db_attempt: u8,
    pub db_target: NodeId,
    /// The database position of the session's last confirmed write.
    pub token: Version,
    /// Read from the leader (a follower was behind the session).
    pub db_to_leader: bool,
    /// The answer waiting for the queue to take the order's job.
    pub queued_reply: Option<Reply>,
    /// Leaderless: replicas that answered so far.
    pub q_count: u8,
    /// Leaderless: the version written, or the newest read so far.
    pub q_best: Version,
    /// Leaderless: who answered a read with what (for read repair).
    pub q_replies: Vec<(NodeId, Version)>,
    /// Leaderless: the app server that asked the replicas.
    pub q_app: Option<NodeId>,
}

impl Simulation {
    pub(crate) fn client_boot(&mut self, t: usize) {
        self.schedule_arrival(t);
    }

    fn schedule_arrival(&mut self, t: usize) {
        let gap = self.cfg.mean_gap[self.clients[t].region];
        if !gap.is_finite() {
            return;
        }
        let after = self.rng.workload.exponential(gap) as u64 + 1;
        let id = self.clients[t].id;
        self.timer(id, after, Timer::Arrival);
    }

    /// A user in this region sends a request.
    pub(crate) fn client_arrival(&mut self, t: usize) {
        self.schedule_arrival(t);
        let u = self.rng.workload.unit();
        let kind = if u < self.cfg.mix[0] {
            RequestKind::Static
        } else if u < self.cfg.mix[1] {
            RequestKind::Read
        } else {
            RequestKind::Write
        };
        let spr = self.scenario.workload.sessions_per_region as u64;
        let session = self.clients[t].first_session + self.rng.workload.below(spr) as u32;
        let key = match kind {
            RequestKind::Static => self.zipf_assets.sample(&mut self.rng.workload),
            _ => self.zipf_keys.sample(&mut self.rng.workload),
        };
        let id = RequestId(self.req_base + self.reqs.len() as u64);
        let (expect, ryw, mono) = self.truth.expectations(key, session);
        let client = self.clients[t].id;
        self.clients[t].sent += 1;
        self.open_requests += 1;
        let now = self.now;
        self.reqs.push_back(Req {
            kind,
            key,
            session,
            client_tier: t as u16,
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
            app_call: 0,
            db_attempt: 0,
            db_target: client,
            token: self.session_tokens[session as usize],
            db_to_leader: false,
            queued_reply: None,
            q_count: 0,
            q_best: Version::default(),
            q_replies: Vec::new(),
            q_app: None,
        });
        self.hop_open(id, client, HopNote::Browser);
        let name = if kind == RequestKind::Static && !self.cdns.is_empty() {
            DnsName::Static
        } else {
            DnsName::Api
        };
        let resolver = self.resolver_for(self.clients[t].region);
        self.send(client, resolver, Msg::DnsQuery { req: id, name }, 0);
        self.timer(client, self.cfg.client_timeout, Timer::ClientTimeout(id));
    }

    pub(crate) fn client_on_msg(&mut self, t: usize, _from: NodeId, msg: Msg) {
        let client = self.clients[t].id;
        match msg {
            Msg::DnsAnswer { req, target } => {
                match self.req(req) {
                    Some(r) if !r.done => {}
                    _ => return,
                }
                match target {
                    Some(target) => self.send(client, target, Msg::Http { req }, 0),
                    None => self.client_complete(req, Reply::Err(ErrorKind::DnsFailure)),
                }
            }
            Msg::HttpReply { req, reply } => self.client_complete(req, reply),
            _ => {}
        }
    }

    pub(crate) fn client_timeout(&mut self, _t: usize, req: RequestId) {
        self.client_complete(req, Reply::Err(ErrorKind::Timeout));
    }

    /// A request's answer reaches its user: judge it, count it, keep its trace.
    fn client_complete(&mut self, id: RequestId, reply: Reply) {
        let now = self.now;
        let Some(r) = self.req(id) else { return };
        if r.done {
            return;
        }
        r.done = true;
        r.end = now;
        let (kind, key, session, start) = (r.kind, r.key, r.session, r.start);
        let (expect, ryw, mono) = (r.expect, r.ryw, r.mono);
        let client_hop = r.client_hop;
        let mut outcome = match reply {
            Reply::Ok(_) => Outcome::Ok,
            Reply::Err(e) => Outcome::Failed(e),
        };
        let version = match reply {
            Reply::Ok(v) => v,
            Reply::Err(_) => None,
        };
        let note = match outcome {
            Outcome::Failed(e) => HopNote::Failed(e),
            _ => HopNote::Browser,
        };
        self.hop_close(id, client_hop, now, note);
        let mut expected = None;
        match (kind, version) {
            (RequestKind::Read, Some(v)) => {
                let judged = self.truth.judge_read(key, session, v, expect, ryw, mono);
                if judged.stale {
                    outcome = Outcome::Stale;
                    expected = Some(expect);
                }
                self.metrics.on_read(judged);
            }
            (RequestKind::Write, Some(v)) => {
                let token = &mut self.session_tokens[session as usize];
                *token = (*token).max(v);
                let durable = self.db_is_committed(v, key);
                self.truth.ack_write(id, key, session, v, now, durable);
            }
            (RequestKind::Write, None) if matches!(reply, Reply::Ok(_)) => {
                // Confirmed by a write-back cache: settled once the cache
                // has written it to the database, or lost it.
                if let Some(fate) = self.truth.writeback_acked(id, key, session, now) {
                    self.writeback_final(id, key, session, now, fate);
                }
            }
            _ => {}
        }
        self.metrics.on_complete(kind, outcome, now.since(start));
        if kind != RequestKind::Static && self.truth.history.is_some() {
            self.truth.record(HistoryOp {
                session,
                op: kind,
                key,
                version,
                invoke_us: start.0,
                complete_us: now.0,
                outcome,
            });
        }
        let cap = self.scenario.trace_capacity as usize;
        let client =
            self.clients[self.reqs[(id.0 - self.req_base) as usize].client_tier as usize].id;
        if cap > 0 {
            let r = &mut self.reqs[(id.0 - self.req_base) as usize];
            let hops = std::mem::take(&mut r.hops);
            if self.traces.len() >= cap {
                self.traces.pop_front();
            }
            self.traces.push_back(Trace {
                id,
                kind,
                key,
                session,
                client,
                start,
                end: now,
                outcome,
                version,
                expected,
                hops,
            });
        }
        self.open_requests = self.open_requests.saturating_sub(1);
        // Forget requests that finished a while ago and that no balancer,
        // edge or app server is still working on; late messages for them
        // are ignored.
        while let Some(front) = self.reqs.front() {
            let idle = front.app.is_none() && front.lb.is_none() && front.cdn.is_none();
            if front.done && idle && now.since(front.end) > SEC {
                self.reqs.pop_front();
                self.req_base += 1;
            } else {
                break;
            }
        }
    }

    /// Requests still in flight (sent, no answer or timeout yet).
    pub fn in_flight(&self) -> usize {
        self.open_requests as usize
    }

    /// The trace of a request: the finished one if it is still kept, or the
    /// story so far of one still in flight (its end is now, its outcome
    /// undecided and shown as `Ok` until it finishes).
    pub fn request_trace(&self, id: RequestId) -> Option<Trace> {
        if let Some(t) = self.trace(id) {
            return Some(t.clone());
        }
        let i = id.0.checked_sub(self.req_base)? as usize;
        let r = self.reqs.get(i)?;
        if r.done {
            return None;
        }
        Some(Trace {
            id,
            kind: r.kind,
            key: r.key,
            session: r.session,
            client: self.clients[r.client_tier as usize].id,
            start: r.start,
            end: self.now,
            outcome: Outcome::Ok,
            version: None,
            expected: None,
            hops: r.hops.clone(),
        })
    }

    /// Whether a request is still in flight.
    pub fn is_in_flight(&self, id: RequestId) -> bool {
        id.0.checked_sub(self.req_base)
            .and_then(|i| self.reqs.get(i as usize))
            .is_some_and(|r| !r.done)
    }
}
