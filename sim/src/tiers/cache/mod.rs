//! The cache tier: a Redis-like key-value cache used cache-aside, with invalidate, write-through or write-back writes (dirty entries flushed to the database on an interval).

use crate::context::Cx;
use crate::msg::{DbResult, Msg, Observation, Timer};
use crate::node::NodeId;
use crate::request::{HopNote, RequestId};
use crate::store::{Eviction, KeyCache};
use crate::time::{SimTime, ms_to_micros};
use std::collections::BTreeMap;

/// A key written to the cache but not yet to the database (write-back).
#[derive(Clone, Debug, Default)]
pub(crate) struct Dirty {
    /// Confirmed writes folded into this entry, oldest first.
    pub reqs: Vec<RequestId>,
    /// The write sent to the database in the current flush, if any.
    pub flushing: Option<RequestId>,
}

/// State of the cache server.
#[derive(Clone, Debug)]
pub struct CacheNode {
    pub(crate) store: KeyCache,
    pub(crate) busy_until: SimTime,
    /// Operations served.
    pub ops: u64,
    /// Write-back: keys waiting to be written to the database.
    pub(crate) dirty: BTreeMap<u32, Dirty>,
    /// Write-back: the replica it believes leads each shard.
    pub(crate) leader_guess: Vec<Option<NodeId>>,
}

impl CacheNode {
    pub(crate) fn new(capacity: u32, policy: Eviction) -> CacheNode {
        CacheNode {
            store: KeyCache::with_policy(capacity as usize, policy),
            busy_until: SimTime::ZERO,
            ops: 0,
            dirty: BTreeMap::new(),
            leader_guess: Vec::new(),
        }
    }

    /// Keys written but not yet in the database.
    pub fn dirty_keys(&self) -> usize {
        self.dirty.len()
    }
}

impl CacheNode {
    /// The cache server handles one message. Like Redis it does one thing at
    /// a time, so operations queue behind each other.
    pub(crate) fn on_msg(&mut self, cx: &mut Cx, from: NodeId, msg: Msg) {
        let op = cx.work(ms_to_micros(cx.scenario().cache.op_ms));
        let now = cx.now;
        let ttl = cx.cfg().cache_ttl;
        let c = &mut *self;
        let start = c.busy_until.max(now);
        c.busy_until = start.after(op);
        let delay = c.busy_until.since(now);
        c.ops += 1;
        match msg {
            Msg::CacheGet { req, key } => {
                let value = c.store.get(key, now);
                // Write-back: the newest value lives here, not yet in the
                // database; the read returns it (judged once it is stored).
                if let Some(&w) = c.dirty.get(&key).and_then(|d| d.reqs.last())
                    && value.is_some()
                {
                    if let Some(r) = cx.req(req) {
                        r.dirty_of = Some(w);
                    }
                    cx.truth.dirty_read_served(req, w);
                }
                let note = if value.is_some() {
                    HopNote::CacheHit
                } else {
                    HopNote::CacheMiss
                };
                cx.hop_span(req, now, now.after(delay), note);
                cx.send(from, Msg::CacheValue { req, value }, delay);
            }
            // A key with a write still waiting for the database keeps its
            // newer, dirty value: sets and deletes leave it alone.
            Msg::CacheSet { key, version } if !c.dirty.contains_key(&key) => {
                c.store.put(key, version, now.after(ttl));
            }
            Msg::CacheDel { key } if !c.dirty.contains_key(&key) => c.store.remove(key),
            // A dirty key keeps its newer value until it is flushed.
            Msg::CacheSet { .. } | Msg::CacheDel { .. } => {}
            Msg::CacheWrite { req, key } => {
                // Write-back: the new value lives here until the next flush
                // (reads get it, marked as that write's; the version kept is
                // the database's last until then).
                let current = c.store.get(key, now).unwrap_or_default();
                c.store.put(key, current, now.after(ttl));
                c.dirty.entry(key).or_default().reqs.push(req);
                cx.hop_span(req, now, now.after(delay), HopNote::CacheWrite);
                cx.send(from, Msg::CacheWriteAck { req }, delay);
            }
            Msg::DbReply { req, result, .. } => self.on_flushed(cx, req, result),
            // Nothing else is ever sent to a cache; a message that arrives anyway
            // is counted as misrouted rather than dropped in silence.
            msg @ (Msg::DnsQuery { .. }
            | Msg::DnsAnswer { .. }
            | Msg::AuthQuery { .. }
            | Msg::AuthAnswer { .. }
            | Msg::Http { .. }
            | Msg::HttpReply { .. }
            | Msg::CacheValue { .. }
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

    /// Starts the flush timer (at time zero or on restart).
    pub(crate) fn boot(&mut self, cx: &mut Cx) {
        let every = ms_to_micros(cx.scenario().cache.flush_interval_ms);
        cx.timer(every, Timer::CacheFlush);
    }

    /// Write-back: sends every dirty key to the database leader.
    pub(crate) fn on_flush_timer(&mut self, cx: &mut Cx) {
        let every = ms_to_micros(cx.scenario().cache.flush_interval_ms);
        cx.timer(every, Timer::CacheFlush);
        let mut out = Vec::new();
        for (&key, d) in self.dirty.iter_mut() {
            if let Some(&req) = d.reqs.last() {
                d.flushing = Some(req);
                out.push((key, req));
            }
        }
        for (key, req) in out {
            let shard = cx.topo.shard_of(key);
            let guess = self.leader_guess.get(shard).copied().flatten();
            let Some(leader) = guess.or_else(|| cx.topo.next_replica(shard, None)) else {
                continue;
            };
            cx.send(
                leader,
                Msg::DbWrite {
                    req,
                    key,
                    attempt: 0,
                },
                0,
            );
        }
    }

    /// Write-back: the database answered a flushed write.
    fn on_flushed(&mut self, cx: &mut Cx, req: RequestId, result: DbResult) {
        let Some((&key, _)) = self.dirty.iter().find(|(_, d)| d.flushing == Some(req)) else {
            return;
        };
        match result {
            DbResult::Ok(version) => {
                let Some(d) = self.dirty.remove(&key) else {
                    return;
                };
                let now = cx.now;
                let ttl = cx.cfg().cache_ttl;
                self.store.put(key, version, now.after(ttl));
                for req in d.reqs {
                    cx.observe(Observation::WriteBackSettled {
                        req,
                        key,
                        version: Some(version),
                    });
                }
            }
            DbResult::Behind => {}
            DbResult::NotLeader(hint) => {
                let shard = cx.topo.shard_of(key);
                let current = self.leader_guess.get(shard).copied().flatten();
                let next = hint.or_else(|| cx.topo.next_replica(shard, current));
                let g = &mut self.leader_guess;
                if g.len() <= shard {
                    g.resize(shard + 1, None);
                }
                g[shard] = next;
            }
        }
    }

    /// The cache dies: it forgets every entry, and write-back writes it had
    /// confirmed but not yet written to the database are lost.
    pub(crate) fn crash(&mut self, cx: &mut Cx) {
        self.store.clear();
        let dirty = std::mem::take(&mut self.dirty);
        for (key, d) in dirty {
            for req in d.reqs {
                cx.observe(Observation::WriteBackSettled {
                    req,
                    key,
                    version: None,
                });
            }
        }
    }
}
