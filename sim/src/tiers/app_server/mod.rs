//! Application servers: a worker limit and a bounded queue (503 when full), service times from a distribution, cache-aside reads and writes to the database leader.

mod quorum;

use crate::context::Cx;
use crate::msg::{DbResult, Msg, Reply, Timer};
use crate::node::NodeId;
use crate::request::{ErrorKind, HopNote, RequestId, RequestKind, Version};
use crate::requests::AppStage;
use crate::scenario::ReadFrom;
use crate::scenario::{SessionStore, WritePolicy};
use crate::time::ms_to_micros;
use std::collections::{BTreeSet, VecDeque};

/// One application server.
#[derive(Clone, Debug)]
pub struct AppNode {
    pub(crate) id: NodeId,
    /// Workers busy.
    pub busy: u32,
    /// Requests waiting for a worker.
    pub(crate) queue: VecDeque<RequestId>,
    /// Which replica it believes leads each shard.
    pub(crate) leader_guess: Vec<Option<NodeId>>,
    /// Requests answered.
    pub served: u64,
    /// Requests refused because the queue was full.
    pub rejected: u64,
    /// Workers (the scenario's count scaled by the server's weight).
    pub workers: u32,
    /// Sessions whose state this server holds (local session store).
    pub(crate) sessions: BTreeSet<u32>,
    /// Taken out of service by scaling in.
    pub retired: bool,
}

impl AppNode {
    pub(crate) fn new(id: NodeId, workers: u32) -> AppNode {
        AppNode {
            id,
            busy: 0,
            queue: VecDeque::new(),
            leader_guess: Vec::new(),
            served: 0,
            rejected: 0,
            workers: workers.max(1),
            sessions: BTreeSet::new(),
            retired: false,
        }
    }

    pub(crate) fn crash(&mut self) {
        self.busy = 0;
        self.queue.clear();
        self.sessions.clear();
    }

    /// Requests waiting for a worker.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }
}

impl AppNode {
    /// Handles a message from `from`.
    pub(crate) fn on_msg(&mut self, cx: &mut Cx, from: NodeId, msg: Msg) {
        let me = cx.me;
        match msg {
            Msg::Ping { seq } => {
                // Health checks are answered by a separate thread: a slow
                // server still passes them (that is what makes it a gray failure).
                let d = cx.work(100);
                cx.send(from, Msg::Pong { seq }, d);
            }
            Msg::Http { req } => {
                let hop = cx.hop_open(req, HopNote::Queued);
                let Some(r) = cx.req(req) else { return };
                r.app = Some(me);
                r.app_from = from;
                r.app_hop = hop;
                cx.metrics.app.arrived += 1;
                let a = &*self;
                if a.busy < a.workers {
                    self.start(cx, req);
                } else if a.queue.len() < cx.scenario().app.queue as usize {
                    if let Some(r) = cx.req(req) {
                        r.app_stage = AppStage::Queued;
                    }
                    self.queue.push_back(req);
                } else {
                    self.rejected += 1;
                    self.finish(cx, req, Reply::Err(ErrorKind::Overloaded), false);
                }
            }
            Msg::CacheValue { req, value } => {
                let Some(r) = cx.req(req) else { return };
                if r.app != Some(me) || r.app_stage != AppStage::Cache {
                    return;
                }
                match value {
                    Some(v) => {
                        cx.metrics.totals.cache_hits += 1;
                        cx.metrics.bucket.cache_hits += 1;
                        self.finish(cx, req, Reply::Ok(Some(v)), true);
                    }
                    None => {
                        cx.metrics.totals.cache_misses += 1;
                        cx.metrics.bucket.cache_misses += 1;
                        self.db_call(cx, req, 0);
                    }
                }
            }
            Msg::QPutAck { req } => self.quorum_reply(cx, from, req, None),
            Msg::QValue { req, version } => self.quorum_reply(cx, from, req, Some(version)),
            Msg::EnqueueAck { req } => {
                let Some(r) = cx.req(req) else { return };
                if r.app != Some(me) || r.app_stage != AppStage::Enqueue {
                    return;
                }
                let reply = r.queued_reply.take().unwrap_or(Reply::Ok(None));
                self.finish(cx, req, reply, true);
            }
            Msg::CacheWriteAck { req } => {
                let Some(r) = cx.req(req) else { return };
                if r.app != Some(me) || r.app_stage != AppStage::Cache {
                    return;
                }
                self.written(cx, req, Reply::Ok(None));
            }
            Msg::DbReply {
                req,
                attempt,
                result,
            } => {
                let Some(r) = cx.req(req) else { return };
                if r.app != Some(me) || r.app_stage != AppStage::Db || r.db_attempt != attempt {
                    return;
                }
                let (kind, key) = (r.kind, r.key);
                match result {
                    DbResult::Ok(v) => {
                        self.update_cache(cx, kind, key, v);
                        if kind == RequestKind::Write {
                            self.written(cx, req, Reply::Ok(Some(v)));
                        } else {
                            self.finish(cx, req, Reply::Ok(Some(v)), true);
                        }
                    }
                    DbResult::Behind => {
                        // The follower has not caught up with this session:
                        // read from the leader instead.
                        if let Some(r) = cx.req(req) {
                            r.db_to_leader = true;
                        }
                        self.db_retry(cx, req, attempt);
                    }
                    DbResult::NotLeader(hint) => {
                        let shard = cx.topo.shard_of(key);
                        let guess = hint.or_else(|| cx.topo.next_replica(shard, self.guess(shard)));
                        self.set_guess(shard, guess);
                        self.db_retry(cx, req, attempt);
                    }
                }
            }
            // Nothing else is ever sent to an app server; a message that arrives anyway
            // is counted as misrouted rather than dropped in silence.
            msg @ (Msg::DnsQuery { .. }
            | Msg::DnsAnswer { .. }
            | Msg::AuthQuery { .. }
            | Msg::AuthAnswer { .. }
            | Msg::HttpReply { .. }
            | Msg::CacheGet { .. }
            | Msg::CacheSet { .. }
            | Msg::CacheDel { .. }
            | Msg::CacheWrite { .. }
            | Msg::Enqueue { .. }
            | Msg::JobOffer { .. }
            | Msg::JobPull
            | Msg::QPut { .. }
            | Msg::QGet { .. }
            | Msg::MReplicate { .. }
            | Msg::JobDone { .. }
            | Msg::DbRead { .. }
            | Msg::DbWrite { .. }
            | Msg::Append(_)
            | Msg::InstallSnapshot(_)
            | Msg::AppendReply { .. }
            | Msg::Vote { .. }
            | Msg::VoteReply { .. }
            | Msg::Pong { .. }
            | Msg::LbAdvert { .. }) => cx.misrouted(&msg),
        }
    }

    /// Which replica this server believes leads `shard`.
    fn guess(&self, shard: usize) -> Option<NodeId> {
        self.leader_guess.get(shard).copied().flatten()
    }

    fn set_guess(&mut self, shard: usize, guess: Option<NodeId>) {
        let g = &mut self.leader_guess;
        if g.len() <= shard {
            g.resize(shard + 1, None);
        }
        g[shard] = guess;
    }

    fn start(&mut self, cx: &mut Cx, req: RequestId) {
        let now = cx.now;
        let Some(r) = cx.req(req) else { return };
        r.app_stage = AppStage::Cpu;
        r.app_started = now;
        let (kind, session) = (r.kind, r.session);
        let hop = r.app_hop;
        let mut arrived = now;
        if let Some(h) = r.hops.get_mut(hop as usize) {
            h.note = HopNote::Served;
            arrived = h.start;
        }
        let t = &mut cx.metrics.app;
        t.started += 1;
        t.wait_us += now.0.saturating_sub(arrived.0);
        self.busy += 1;
        if kind != RequestKind::Static && cx.scenario().app.session_store == SessionStore::Local {
            self.check_session(cx, session);
        }
        let dist = if kind == RequestKind::Static {
            &cx.scenario().app.static_service
        } else {
            &cx.scenario().app.service
        };
        let ms = dist.sample_ms(&mut cx.rng.service);
        let cpu = cx.work(ms_to_micros(ms));
        cx.timer(cpu, Timer::AppCpu(req));
    }

    /// With session state kept in the server's memory: a user whose state
    /// lives elsewhere (or died with its server) has lost it and must log in
    /// again here.
    fn check_session(&mut self, cx: &mut Cx, session: u32) {
        let me = cx.me;
        if self.sessions.contains(&session) {
            return;
        }
        let home = &mut cx.truth.session_home[session as usize];
        if home.is_some() {
            cx.metrics.totals.sessions_lost += 1;
            cx.metrics.bucket.sessions_lost += 1;
        }
        *home = Some(me);
        self.sessions.insert(session);
    }

    pub(crate) fn on_cpu_done(&mut self, cx: &mut Cx, req: RequestId) {
        let me = cx.me;
        let Some(r) = cx.req(req) else { return };
        if r.app != Some(me) || r.app_stage != AppStage::Cpu {
            return;
        }
        let (kind, key) = (r.kind, r.key);
        match kind {
            RequestKind::Static => self.finish(cx, req, Reply::Ok(None), true),
            RequestKind::Read => match cx.topo.cache_of(cx.me) {
                Some(cache) => {
                    let Some(r) = cx.req(req) else { return };
                    r.app_stage = AppStage::Cache;
                    r.app_call += 1;
                    let call = r.app_call;
                    cx.send(cache, Msg::CacheGet { req, key }, 0);
                    cx.timer(cx.cfg().cache_timeout, Timer::AppCallTimeout(req, call));
                }
                None => self.db_call(cx, req, 0),
            },
            RequestKind::Write => match cx.topo.cache_of(cx.me) {
                Some(cache) if cx.scenario().cache.write_policy == WritePolicy::WriteBack => {
                    let Some(r) = cx.req(req) else { return };
                    r.app_stage = AppStage::Cache;
                    r.app_call += 1;
                    let call = r.app_call;
                    cx.send(cache, Msg::CacheWrite { req, key }, 0);
                    invalidate_elsewhere(cx, cache, key);
                    cx.timer(cx.cfg().cache_timeout, Timer::AppCallTimeout(req, call));
                }
                _ => self.db_call(cx, req, 0),
            },
        }
    }

    /// Sends attempt `attempt` of the request's database call.
    fn db_call(&mut self, cx: &mut Cx, req: RequestId, attempt: u8) {
        if cx.scenario().db.replication.leaderless() {
            self.quorum_call(cx, req);
            return;
        }
        let Some(r) = cx.req(req) else { return };
        let (kind, key, session, token, to_leader) =
            (r.kind, r.key, r.session, r.token, r.db_to_leader);
        let shard = cx.topo.shard_of(key);
        let guess = self
            .guess(shard)
            .or_else(|| cx.topo.next_replica(shard, None));
        let Some(guess) = guess else { return };
        let routing = if kind == RequestKind::Read && !to_leader {
            cx.scenario().db.read_from
        } else {
            ReadFrom::Leader
        };
        let follower_read = routing != ReadFrom::Leader && cx.scenario().db.replicas > 1;
        let target = if !follower_read {
            guess
        } else {
            let group = cx.topo.shard_replicas(shard);
            let followers: Vec<NodeId> = group.iter().copied().filter(|&d| d != guess).collect();
            match routing {
                ReadFrom::Sticky => {
                    followers
                        [(crate::hashing::hash64(session as u64) % followers.len() as u64) as usize]
                }
                ReadFrom::Nearest => {
                    let here = cx.topo.region(cx.me);
                    let dist = |id: NodeId| cx.topo.distance(here, id);
                    let best = group.iter().map(|&d| dist(d)).min().unwrap_or(0);
                    let near: Vec<NodeId> =
                        group.iter().copied().filter(|&d| dist(d) == best).collect();
                    near[cx.rng.design.below(near.len() as u64) as usize]
                }
                _ => followers[cx.rng.design.below(followers.len() as u64) as usize],
            }
        };
        let min_index = if routing == ReadFrom::ReadYourWrites {
            token.index()
        } else {
            0
        };
        let Some(r) = cx.req(req) else { return };
        r.app_stage = AppStage::Db;
        r.app_call += 1;
        r.db_attempt = attempt;
        r.db_target = target;
        let call = r.app_call;
        let msg = match kind {
            RequestKind::Write => Msg::DbWrite { req, key, attempt },
            _ => Msg::DbRead {
                req,
                key,
                attempt,
                need_leader: !follower_read,
                min_index,
            },
        };
        cx.send(target, msg, 0);
        cx.timer(cx.cfg().db_timeout, Timer::AppCallTimeout(req, call));
    }

    /// After a database answer: reads fill the cache; writes replace the
    /// value (write-through) or delete it (invalidate). With sites in other
    /// regions, a write also deletes the key from their caches, whose
    /// copies it made old (the deletion crosses the ocean, so for that
    /// long they may still serve the old value).
    fn update_cache(&mut self, cx: &mut Cx, kind: RequestKind, key: u32, v: Version) {
        let Some(cache) = cx.topo.cache_of(cx.me) else {
            return;
        };
        let through = cx.scenario().cache.write_policy == WritePolicy::WriteThrough;
        let msg = match kind {
            RequestKind::Read => Msg::CacheSet { key, version: v },
            RequestKind::Write if through => Msg::CacheSet { key, version: v },
            RequestKind::Write => Msg::CacheDel { key },
            RequestKind::Static => return,
        };
        cx.send(cache, msg, 0);
        if kind == RequestKind::Write {
            invalidate_elsewhere(cx, cache, key);
        }
    }

    fn db_retry(&mut self, cx: &mut Cx, req: RequestId, attempt: u8) {
        if (attempt as u32 + 1) < cx.scenario().app.db_attempts {
            self.db_call(cx, req, attempt + 1);
        } else {
            self.finish(cx, req, Reply::Err(ErrorKind::DbUnavailable), true);
        }
    }

    pub(crate) fn on_call_timeout(&mut self, cx: &mut Cx, req: RequestId, call: u32) {
        let me = cx.me;
        let quorum = cx.scenario().db.replication.leaderless();
        let Some(r) = cx.req(req) else { return };
        if r.app != Some(me) || r.app_call != call {
            return;
        }
        match r.app_stage {
            AppStage::Cache => {
                // A cache that does not answer is treated as a miss (and a
                // write-back write goes straight to the database).
                if r.kind == RequestKind::Read {
                    cx.metrics.totals.cache_misses += 1;
                    cx.metrics.bucket.cache_misses += 1;
                }
                self.db_call(cx, req, 0);
            }
            AppStage::Enqueue => {
                // The write is stored, but the order's follow-up work could
                // not be handed over: the user is told it failed.
                self.finish(cx, req, Reply::Err(ErrorKind::QueueUnavailable), true);
            }
            AppStage::Db if quorum => {
                // Too few replicas answered in time.
                self.finish(cx, req, Reply::Err(ErrorKind::DbUnavailable), true);
            }
            AppStage::Db => {
                let (attempt, target, key) = (r.db_attempt, r.db_target, r.key);
                let shard = cx.topo.shard_of(key);
                if self.guess(shard) == Some(target) {
                    let next = cx.topo.next_replica(shard, Some(target));
                    self.set_guess(shard, next);
                }
                self.db_retry(cx, req, attempt);
            }
            _ => {}
        }
    }

    /// A write is stored. With a queue, the order's follow-up work (payment,
    /// inventory, email) is handed to it first, and the user is answered as
    /// soon as the queue has taken it — not when the work is done.
    fn written(&mut self, cx: &mut Cx, req: RequestId, reply: Reply) {
        let queue = cx.topo.queue;
        let Some(queue) = queue else {
            self.finish(cx, req, reply, true);
            return;
        };
        let Some(r) = cx.req(req) else { return };
        r.app_stage = AppStage::Enqueue;
        r.queued_reply = Some(reply);
        r.app_call += 1;
        let call = r.app_call;
        cx.send(queue, Msg::Enqueue { req }, 0);
        let wait = ms_to_micros(cx.scenario().queue.enqueue_timeout_ms);
        cx.timer(wait, Timer::AppCallTimeout(req, call));
    }

    /// Answers the balancer, frees the worker and starts the next queued request.
    fn finish(&mut self, cx: &mut Cx, req: RequestId, reply: Reply, held_worker: bool) {
        let me = cx.me;
        let now = cx.now;
        let Some(r) = cx.req(req) else { return };
        r.app_stage = AppStage::Done;
        r.app = None;
        let (to, hop) = (r.app_from, r.app_hop);
        let held = now.0.saturating_sub(r.app_started.0);
        let note = match reply {
            Reply::Ok(_) => HopNote::Served,
            Reply::Err(e) => HopNote::Failed(e),
        };
        cx.hop_close(req, hop, now, note);
        cx.send(to, Msg::HttpReply { req, reply }, 0);
        if !held_worker {
            return;
        }
        let t = &mut cx.metrics.app;
        t.held += 1;
        t.hold_us += held;
        t.hold_sq_us += (held as f64) * (held as f64);
        self.served += 1;
        let a = &mut *self;
        a.busy = a.busy.saturating_sub(1);
        while let Some(next) = self.queue.pop_front() {
            let alive = matches!(cx.req(next), Some(r) if r.app == Some(me) && r.app_stage == AppStage::Queued);
            if alive {
                self.start(cx, next);
                break;
            }
        }
        // A server being scaled in stops once it has drained.
        let a = &*self;
        if a.retired && a.busy == 0 && a.queue.is_empty() {
            cx.stop();
        }
    }
}

/// A write made other sites' copies of `key` old: deletes them from every
/// cache but `mine`.
fn invalidate_elsewhere(cx: &mut Cx, mine: NodeId, key: u32) {
    for i in 0..cx.topo.caches.len() {
        let other = cx.topo.caches[i];
        if other != mine {
            cx.send(other, Msg::CacheDel { key }, 0);
        }
    }
}
