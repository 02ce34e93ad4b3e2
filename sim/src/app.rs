//! Application servers: a worker limit and a bounded queue (503 when full), service times from a distribution, cache-aside reads and writes to the database leader.

use crate::client::AppStage;
use crate::msg::{DbResult, Msg, Reply, Timer};
use crate::node::NodeId;
use crate::request::{ErrorKind, HopNote, RequestId, RequestKind, Version};
use crate::scenario::ReadFrom;
use crate::scenario::{SessionStore, WritePolicy};
use crate::time::ms_to_micros;
use crate::world::Simulation;
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

impl Simulation {
    pub(crate) fn app_on_msg(&mut self, node: NodeId, t: usize, from: NodeId, msg: Msg) {
        match msg {
            Msg::Ping { seq } => {
                // Health checks are answered by a separate thread: a slow
                // server still passes them (that is what makes it a gray failure).
                let d = self.work(node, 100);
                self.send(node, from, Msg::Pong { seq }, d);
            }
            Msg::Http { req } => {
                let hop = self.hop_open(req, node, HopNote::Queued);
                let Some(r) = self.req(req) else { return };
                r.app = Some(node);
                r.app_from = from;
                r.app_hop = hop;
                let a = &self.apps[t];
                if a.busy < a.workers {
                    self.app_start(node, t, req);
                } else if a.queue.len() < self.scenario.app.queue as usize {
                    if let Some(r) = self.req(req) {
                        r.app_stage = AppStage::Queued;
                    }
                    self.apps[t].queue.push_back(req);
                } else {
                    self.apps[t].rejected += 1;
                    self.app_finish(node, t, req, Reply::Err(ErrorKind::Overloaded), false);
                }
            }
            Msg::CacheValue { req, value } => {
                let Some(r) = self.req(req) else { return };
                if r.app != Some(node) || r.app_stage != AppStage::Cache {
                    return;
                }
                match value {
                    Some(v) => {
                        self.metrics.totals.cache_hits += 1;
                        self.metrics.bucket.cache_hits += 1;
                        self.app_finish(node, t, req, Reply::Ok(Some(v)), true);
                    }
                    None => {
                        self.metrics.totals.cache_misses += 1;
                        self.metrics.bucket.cache_misses += 1;
                        self.app_db_call(node, req, 0);
                    }
                }
            }
            Msg::QPutAck { req } => self.app_quorum_reply(node, t, from, req, None),
            Msg::QValue { req, version } => {
                self.app_quorum_reply(node, t, from, req, Some(version))
            }
            Msg::EnqueueAck { req } => {
                let Some(r) = self.req(req) else { return };
                if r.app != Some(node) || r.app_stage != AppStage::Enqueue {
                    return;
                }
                let reply = r.queued_reply.take().unwrap_or(Reply::Ok(None));
                self.app_finish(node, t, req, reply, true);
            }
            Msg::CacheWriteAck { req } => {
                let Some(r) = self.req(req) else { return };
                if r.app != Some(node) || r.app_stage != AppStage::Cache {
                    return;
                }
                self.app_written(node, t, req, Reply::Ok(None));
            }
            Msg::DbReply {
                req,
                attempt,
                result,
            } => {
                let Some(r) = self.req(req) else { return };
                if r.app != Some(node) || r.app_stage != AppStage::Db || r.db_attempt != attempt {
                    return;
                }
                let (kind, key) = (r.kind, r.key);
                match result {
                    DbResult::Ok(v) => {
                        self.app_update_cache(node, kind, key, v);
                        if kind == RequestKind::Write {
                            self.app_written(node, t, req, Reply::Ok(Some(v)));
                        } else {
                            self.app_finish(node, t, req, Reply::Ok(Some(v)), true);
                        }
                    }
                    DbResult::Behind => {
                        // The follower has not caught up with this session:
                        // read from the leader instead.
                        if let Some(r) = self.req(req) {
                            r.db_to_leader = true;
                        }
                        self.app_db_retry(node, t, req, attempt);
                    }
                    DbResult::NotLeader(hint) => {
                        let shard = self.shard_of(key);
                        let guess = hint.or_else(|| self.next_replica(shard, self.guess(t, shard)));
                        self.set_guess(t, shard, guess);
                        self.app_db_retry(node, t, req, attempt);
                    }
                }
            }
            _ => {}
        }
    }

    fn cache_node(&self) -> Option<NodeId> {
        if self.caches.is_empty() {
            None
        } else {
            self.names.get("cache-1").copied()
        }
    }

    /// The replica of `shard` after `current` (wrapping).
    pub(crate) fn next_replica(&self, shard: usize, current: Option<NodeId>) -> Option<NodeId> {
        let ids: Vec<NodeId> = self
            .shard_replicas(shard)
            .filter_map(|t| self.dbs.get(t))
            .map(|d| d.id)
            .collect();
        let i = current
            .and_then(|c| ids.iter().position(|&x| x == c))
            .map(|i| i + 1)
            .unwrap_or(0);
        ids.get(i % ids.len().max(1)).copied()
    }

    /// Which replica app server `t` believes leads `shard`.
    fn guess(&self, t: usize, shard: usize) -> Option<NodeId> {
        self.apps[t].leader_guess.get(shard).copied().flatten()
    }

    fn set_guess(&mut self, t: usize, shard: usize, guess: Option<NodeId>) {
        let g = &mut self.apps[t].leader_guess;
        if g.len() <= shard {
            g.resize(shard + 1, None);
        }
        g[shard] = guess;
    }

    fn app_start(&mut self, node: NodeId, t: usize, req: RequestId) {
        let Some(r) = self.req(req) else { return };
        r.app_stage = AppStage::Cpu;
        let (kind, session) = (r.kind, r.session);
        let hop = r.app_hop;
        if let Some(h) = r.hops.get_mut(hop as usize) {
            h.note = HopNote::Served;
        }
        self.apps[t].busy += 1;
        if kind != RequestKind::Static && self.scenario.app.session_store == SessionStore::Local {
            self.app_check_session(node, t, session);
        }
        let dist = if kind == RequestKind::Static {
            &self.scenario.app.static_service
        } else {
            &self.scenario.app.service
        };
        let ms = dist.sample_ms(&mut self.rng.service);
        let cpu = self.work(node, ms_to_micros(ms));
        self.timer(node, cpu, Timer::AppCpu(req));
    }

    /// With session state kept in the server's memory: a user whose state
    /// lives elsewhere (or died with its server) has lost it and must log in
    /// again here.
    fn app_check_session(&mut self, node: NodeId, t: usize, session: u32) {
        if self.apps[t].sessions.contains(&session) {
            return;
        }
        let home = &mut self.truth.session_home[session as usize];
        if home.is_some() {
            self.metrics.totals.sessions_lost += 1;
            self.metrics.bucket.sessions_lost += 1;
        }
        *home = Some(node);
        self.apps[t].sessions.insert(session);
    }

    pub(crate) fn app_cpu_done(&mut self, node: NodeId, t: usize, req: RequestId) {
        let Some(r) = self.req(req) else { return };
        if r.app != Some(node) || r.app_stage != AppStage::Cpu {
            return;
        }
        let (kind, key) = (r.kind, r.key);
        match kind {
            RequestKind::Static => self.app_finish(node, t, req, Reply::Ok(None), true),
            RequestKind::Read => match self.cache_node() {
                Some(cache) => {
                    let Some(r) = self.req(req) else { return };
                    r.app_stage = AppStage::Cache;
                    r.app_call += 1;
                    let call = r.app_call;
                    self.send(node, cache, Msg::CacheGet { req, key }, 0);
                    self.timer(
                        node,
                        self.cfg.cache_timeout,
                        Timer::AppCallTimeout(req, call),
                    );
                }
                None => self.app_db_call(node, req, 0),
            },
            RequestKind::Write => match self.cache_node() {
                Some(cache) if self.scenario.cache.write_policy == WritePolicy::WriteBack => {
                    let Some(r) = self.req(req) else { return };
                    r.app_stage = AppStage::Cache;
                    r.app_call += 1;
                    let call = r.app_call;
                    self.send(node, cache, Msg::CacheWrite { req, key }, 0);
                    self.timer(
                        node,
                        self.cfg.cache_timeout,
                        Timer::AppCallTimeout(req, call),
                    );
                }
                _ => self.app_db_call(node, req, 0),
            },
        }
    }

    /// Sends attempt `attempt` of the request's database call.
    fn app_db_call(&mut self, node: NodeId, req: RequestId, attempt: u8) {
        let t = self.nodes[node.idx()].tier_idx as usize;
        if self.scenario.db.replication.leaderless() {
            self.app_quorum_call(node, t, req);
            return;
        }
        let Some(r) = self.req(req) else { return };
        let (kind, key, session, token, to_leader) =
            (r.kind, r.key, r.session, r.token, r.db_to_leader);
        let shard = self.shard_of(key);
        let guess = self
            .guess(t, shard)
            .or_else(|| self.next_replica(shard, None));
        let Some(guess) = guess else { return };
        let routing = if kind == RequestKind::Read && !to_leader {
            self.scenario.db.read_from
        } else {
            ReadFrom::Leader
        };
        let follower_read = routing != ReadFrom::Leader && self.scenario.db.replicas > 1;
        let target = if !follower_read {
            guess
        } else {
            let followers: Vec<NodeId> = self
                .shard_replicas(shard)
                .map(|t| self.dbs[t].id)
                .filter(|&d| d != guess)
                .collect();
            match routing {
                ReadFrom::Sticky => {
                    followers
                        [(crate::hashing::hash64(session as u64) % followers.len() as u64) as usize]
                }
                ReadFrom::Nearest => {
                    let here = self.nodes[node.idx()].region as usize;
                    let dist =
                        |id: NodeId| self.one_way[here][self.nodes[id.idx()].region as usize];
                    let all: Vec<NodeId> =
                        self.shard_replicas(shard).map(|t| self.dbs[t].id).collect();
                    let best = all.iter().map(|&d| dist(d)).min().unwrap_or(0);
                    let near: Vec<NodeId> = all.into_iter().filter(|&d| dist(d) == best).collect();
                    near[self.rng.design.below(near.len() as u64) as usize]
                }
                _ => followers[self.rng.design.below(followers.len() as u64) as usize],
            }
        };
        let min_index = if routing == ReadFrom::ReadYourWrites {
            token.index()
        } else {
            0
        };
        let Some(r) = self.req(req) else { return };
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
        self.send(node, target, msg, 0);
        self.timer(node, self.cfg.db_timeout, Timer::AppCallTimeout(req, call));
    }

    /// After a database answer: reads fill the cache; writes replace the
    /// value (write-through) or delete it (invalidate).
    fn app_update_cache(&mut self, node: NodeId, kind: RequestKind, key: u32, v: Version) {
        let Some(cache) = self.cache_node() else {
            return;
        };
        let through = self.scenario.cache.write_policy == WritePolicy::WriteThrough;
        let msg = match kind {
            RequestKind::Read => Msg::CacheSet { key, version: v },
            RequestKind::Write if through => Msg::CacheSet { key, version: v },
            RequestKind::Write => Msg::CacheDel { key },
            RequestKind::Static => return,
        };
        self.send(node, cache, msg, 0);
    }

    /// Leaderless: sends a write to every replica of the key's shard (with a
    /// version from this server's clock) or asks every replica for a read.
    fn app_quorum_call(&mut self, node: NodeId, t: usize, req: RequestId) {
        let now = self.now;
        let Some(r) = self.req(req) else { return };
        let (kind, key, client_tier) = (r.kind, r.key, r.client_tier);
        r.app_stage = AppStage::Db;
        r.app_call += 1;
        r.q_app = Some(node);
        r.q_count = 0;
        r.q_replies.clear();
        let call = r.app_call;
        let version = Version::stamped(now.0, t as u64);
        r.q_best = if kind == RequestKind::Write {
            version
        } else {
            Version::default()
        };
        let shard = self.shard_of(key);
        let mut replicas: Vec<NodeId> =
            self.shard_replicas(shard).map(|i| self.dbs[i].id).collect();
        if self.scenario.db.replication == crate::scenario::Replication::MultiLeader {
            // Multi-leader: the replica in the user's region (or the nearest to it).
            let user_region = self.clients[client_tier as usize].region;
            let dist =
                |id: &NodeId| self.one_way[user_region][self.nodes[id.idx()].region as usize];
            replicas.sort_by_key(|id| (dist(id), *id));
            replicas.truncate(1);
        }
        for id in replicas {
            let msg = if kind == RequestKind::Write {
                Msg::QPut { req, key, version }
            } else {
                Msg::QGet { req, key }
            };
            self.send(node, id, msg, 0);
        }
        self.timer(node, self.cfg.db_timeout, Timer::AppCallTimeout(req, call));
    }

    /// Leaderless: a replica stored a write, or answered a read.
    fn app_quorum_reply(
        &mut self,
        node: NodeId,
        t: usize,
        from: NodeId,
        req: RequestId,
        value: Option<Version>,
    ) {
        // Multi-leader: one replica (the user's region's leader) answers.
        let multi = self.scenario.db.replication == crate::scenario::Replication::MultiLeader;
        let (w, r_needed, repair) = if multi {
            (1, 1, false)
        } else {
            (
                self.scenario.db.quorum_w,
                self.scenario.db.quorum_r,
                self.scenario.db.read_repair,
            )
        };
        let Some(r) = self.req(req) else { return };
        if r.app != Some(node) || r.app_stage != AppStage::Db {
            // A reply after the read was answered: repair that replica too
            // if it turned out to be behind.
            if let Some(v) = value
                && repair
                && r.q_app == Some(node)
                && v < r.q_best
            {
                let (key, best) = (r.key, r.q_best);
                self.send(
                    node,
                    from,
                    Msg::QPut {
                        req,
                        key,
                        version: best,
                    },
                    0,
                );
            }
            return;
        }
        r.q_count += 1;
        match value {
            None => {
                if u32::from(r.q_count) == w {
                    let (v, key) = (r.q_best, r.key);
                    self.app_update_cache(node, RequestKind::Write, key, v);
                    self.app_written(node, t, req, Reply::Ok(Some(v)));
                }
            }
            Some(v) => {
                r.q_replies.push((from, v));
                if v > r.q_best {
                    r.q_best = v;
                }
                if u32::from(r.q_count) == r_needed {
                    let (best, key) = (r.q_best, r.key);
                    let stale: Vec<NodeId> = r
                        .q_replies
                        .iter()
                        .filter(|(_, x)| *x < best)
                        .map(|(n, _)| *n)
                        .collect();
                    if repair {
                        for n in stale {
                            self.send(
                                node,
                                n,
                                Msg::QPut {
                                    req,
                                    key,
                                    version: best,
                                },
                                0,
                            );
                        }
                    }
                    self.app_update_cache(node, RequestKind::Read, key, best);
                    self.app_finish(node, t, req, Reply::Ok(Some(best)), true);
                }
            }
        }
    }

    fn app_db_retry(&mut self, node: NodeId, t: usize, req: RequestId, attempt: u8) {
        if (attempt as u32 + 1) < self.scenario.app.db_attempts {
            self.app_db_call(node, req, attempt + 1);
        } else {
            self.app_finish(node, t, req, Reply::Err(ErrorKind::DbUnavailable), true);
        }
    }

    pub(crate) fn app_call_timeout(&mut self, node: NodeId, t: usize, req: RequestId, call: u32) {
        let quorum = self.scenario.db.replication.leaderless();
        let Some(r) = self.req(req) else { return };
        if r.app != Some(node) || r.app_call != call {
            return;
        }
        match r.app_stage {
            AppStage::Cache => {
                // A cache that does not answer is treated as a miss (and a
                // write-back write goes straight to the database).
                if r.kind == RequestKind::Read {
                    self.metrics.totals.cache_misses += 1;
                    self.metrics.bucket.cache_misses += 1;
                }
                self.app_db_call(node, req, 0);
            }
            AppStage::Enqueue => {
                // The write is stored, but the order's follow-up work could
                // not be handed over: the user is told it failed.
                self.app_finish(node, t, req, Reply::Err(ErrorKind::QueueUnavailable), true);
            }
            AppStage::Db if quorum => {
                // Too few replicas answered in time.
                self.app_finish(node, t, req, Reply::Err(ErrorKind::DbUnavailable), true);
            }
            AppStage::Db => {
                let (attempt, target, key) = (r.db_attempt, r.db_target, r.key);
                let shard = self.shard_of(key);
                if self.guess(t, shard) == Some(target) {
                    let next = self.next_replica(shard, Some(target));
                    self.set_guess(t, shard, next);
                }
                self.app_db_retry(node, t, req, attempt);
            }
            _ => {}
        }
    }

    /// A write is stored. With a queue, the order's follow-up work (payment,
    /// inventory, email) is handed to it first, and the user is answered as
    /// soon as the queue has taken it — not when the work is done.
    fn app_written(&mut self, node: NodeId, t: usize, req: RequestId, reply: Reply) {
        let queue = if self.scenario.queue.enabled {
            self.names.get("queue-1").copied()
        } else {
            None
        };
        let Some(queue) = queue else {
            self.app_finish(node, t, req, reply, true);
            return;
        };
        let Some(r) = self.req(req) else { return };
        r.app_stage = AppStage::Enqueue;
        r.queued_reply = Some(reply);
        r.app_call += 1;
        let call = r.app_call;
        self.send(node, queue, Msg::Enqueue { req }, 0);
        let wait = ms_to_micros(self.scenario.queue.enqueue_timeout_ms);
        self.timer(node, wait, Timer::AppCallTimeout(req, call));
    }

    /// Answers the balancer, frees the worker and starts the next queued request.
    fn app_finish(
        &mut self,
        node: NodeId,
        t: usize,
        req: RequestId,
        reply: Reply,
        held_worker: bool,
    ) {
        let now = self.now;
        let Some(r) = self.req(req) else { return };
        r.app_stage = AppStage::Done;
        r.app = None;
        let (to, hop) = (r.app_from, r.app_hop);
        let note = match reply {
            Reply::Ok(_) => HopNote::Served,
            Reply::Err(e) => HopNote::Failed(e),
        };
        self.hop_close(req, hop, now, note);
        self.send(node, to, Msg::HttpReply { req, reply }, 0);
        if !held_worker {
            return;
        }
        self.apps[t].served += 1;
        let a = &mut self.apps[t];
        a.busy = a.busy.saturating_sub(1);
        while let Some(next) = self.apps[t].queue.pop_front() {
            let alive = matches!(self.req(next), Some(r) if r.app == Some(node) && r.app_stage == AppStage::Queued);
            if alive {
                self.app_start(node, t, next);
                break;
            }
        }
        // A server being scaled in stops once it has drained.
        let a = &self.apps[t];
        if a.retired && a.busy == 0 && a.queue.is_empty() {
            self.crash(node);
        }
    }
}
