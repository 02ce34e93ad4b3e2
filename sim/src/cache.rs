//! The cache tier (a Redis-like key-value cache used cache-aside) and the expiring, capacity-bounded store it shares with CDN edges.

use crate::log::LogEvent;
use crate::msg::{DbResult, Msg, Timer};
use crate::node::NodeId;
use crate::request::{HopNote, RequestId, Version};
use crate::time::{SimTime, ms_to_micros};
use crate::world::Simulation;
use std::collections::BTreeMap;

/// Which key leaves when a store is full.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Eviction {
    /// The least recently used.
    #[default]
    Lru,
    /// The least frequently used (ties: least recently used).
    Lfu,
    /// The one stored first.
    Fifo,
}

/// Where a key stands in the eviction order (smallest leaves first).
fn rank_of(policy: Eviction, uses: u64, seq: u64) -> (u64, u64) {
    match policy {
        Eviction::Lru | Eviction::Fifo => (seq, 0),
        Eviction::Lfu => (uses, seq),
    }
}

/// A store of keys with a time to live and a capacity; when full, a key
/// leaves by the eviction policy. Ordered maps keep every operation
/// deterministic.
#[derive(Clone, Debug, Default)]
pub struct KeyCache {
    entries: BTreeMap<u32, Slot>,
    order: BTreeMap<(u64, u64), u32>,
    next_seq: u64,
    capacity: usize,
    policy: Eviction,
    /// Keys removed to make room.
    pub evictions: u64,
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    version: Version,
    expires: SimTime,
    rank: (u64, u64),
    uses: u64,
}

impl KeyCache {
    /// An empty least-recently-used store holding at most `capacity` keys.
    pub fn new(capacity: usize) -> KeyCache {
        KeyCache::with_policy(capacity, Eviction::Lru)
    }

    /// An empty store with an eviction policy.
    pub fn with_policy(capacity: usize, policy: Eviction) -> KeyCache {
        KeyCache {
            capacity: capacity.max(1),
            policy,
            ..KeyCache::default()
        }
    }

    /// Changes the eviction policy (existing keys are re-ranked).
    pub fn set_policy(&mut self, policy: Eviction) {
        self.policy = policy;
        let keys: Vec<(u32, Slot)> = self.entries.iter().map(|(k, s)| (*k, *s)).collect();
        self.order.clear();
        for (key, mut slot) in keys {
            slot.rank = self.rank(slot.uses, slot.rank.1);
            self.order.insert(slot.rank, key);
            self.entries.insert(key, slot);
        }
    }

    fn rank(&self, uses: u64, seq: u64) -> (u64, u64) {
        rank_of(self.policy, uses, seq)
    }

    /// The cached version of `key`, if present and not expired; counts as a use.
    pub fn get(&mut self, key: u32, now: SimTime) -> Option<Version> {
        let policy = self.policy;
        let slot = self.entries.get_mut(&key)?;
        if slot.expires <= now {
            let rank = slot.rank;
            self.entries.remove(&key);
            self.order.remove(&rank);
            return None;
        }
        if policy != Eviction::Fifo {
            let old = slot.rank;
            slot.uses += 1;
            slot.rank = rank_of(policy, slot.uses, self.next_seq);
            self.next_seq += 1;
            let (version, rank) = (slot.version, slot.rank);
            self.order.remove(&old);
            self.order.insert(rank, key);
            return Some(version);
        }
        Some(slot.version)
    }

    /// Stores `key` at `version` until `expires`.
    pub fn put(&mut self, key: u32, version: Version, expires: SimTime) {
        self.remove(key);
        while self.entries.len() >= self.capacity {
            let Some((_, victim)) = self.order.pop_first() else {
                break;
            };
            self.entries.remove(&victim);
            self.evictions += 1;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let rank = self.rank(1, seq);
        self.entries.insert(
            key,
            Slot {
                version,
                expires,
                rank,
                uses: 1,
            },
        );
        self.order.insert(rank, key);
    }

    /// Whether `key` is held (expired or not).
    pub fn contains(&self, key: u32) -> bool {
        self.entries.contains_key(&key)
    }

    /// Forgets `key`.
    pub fn remove(&mut self, key: u32) {
        if let Some(old) = self.entries.remove(&key) {
            self.order.remove(&old.rank);
        }
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
    }

    /// Keys held (expired ones included until touched).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

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

impl Simulation {
    /// The cache server handles one message. Like Redis it does one thing at
    /// a time, so operations queue behind each other.
    pub(crate) fn cache_on_msg(&mut self, node: NodeId, from: NodeId, msg: Msg) {
        let t = self.nodes[node.idx()].tier_idx as usize;
        let op = self.work(node, ms_to_micros(self.scenario.cache.op_ms));
        let now = self.now;
        let ttl = self.cfg.cache_ttl;
        let c = &mut self.caches[t];
        let start = c.busy_until.max(now);
        c.busy_until = start.after(op);
        let delay = c.busy_until.since(now);
        c.ops += 1;
        match msg {
            Msg::CacheGet { req, key } => {
                let value = c.store.get(key, now);
                let note = if value.is_some() {
                    HopNote::CacheHit
                } else {
                    HopNote::CacheMiss
                };
                self.hop_span(req, node, now, now.after(delay), note);
                self.send(node, from, Msg::CacheValue { req, value }, delay);
            }
            // A key with a write still waiting for the database keeps its
            // newer, dirty value: sets and deletes leave it alone.
            Msg::CacheSet { key, version } if !c.dirty.contains_key(&key) => {
                c.store.put(key, version, now.after(ttl));
            }
            Msg::CacheDel { key } if !c.dirty.contains_key(&key) => c.store.remove(key),
            Msg::CacheWrite { req, key } => {
                // Write-back: the value lives here until the next flush.
                let current = c.store.get(key, now).unwrap_or_default();
                c.store.put(key, current, now.after(ttl));
                c.dirty.entry(key).or_default().reqs.push(req);
                self.hop_span(req, node, now, now.after(delay), HopNote::CacheWrite);
                self.send(node, from, Msg::CacheWriteAck { req }, delay);
            }
            Msg::DbReply { req, result, .. } => self.cache_on_flushed(t, req, result),
            _ => {}
        }
    }

    pub(crate) fn cache_boot(&mut self, node: NodeId) {
        let every = ms_to_micros(self.scenario.cache.flush_interval_ms);
        self.timer(node, every, Timer::CacheFlush);
    }

    /// Write-back: sends every dirty key to the database leader.
    pub(crate) fn cache_flush(&mut self, node: NodeId) {
        let t = self.nodes[node.idx()].tier_idx as usize;
        let every = ms_to_micros(self.scenario.cache.flush_interval_ms);
        self.timer(node, every, Timer::CacheFlush);
        let mut out = Vec::new();
        for (&key, d) in self.caches[t].dirty.iter_mut() {
            if let Some(&req) = d.reqs.last() {
                d.flushing = Some(req);
                out.push((key, req));
            }
        }
        for (key, req) in out {
            let shard = self.shard_of(key);
            let guess = self.caches[t].leader_guess.get(shard).copied().flatten();
            let Some(leader) = guess.or_else(|| self.next_replica(shard, None)) else {
                continue;
            };
            self.send(
                node,
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
    fn cache_on_flushed(&mut self, t: usize, req: RequestId, result: DbResult) {
        let Some((&key, _)) = self.caches[t]
            .dirty
            .iter()
            .find(|(_, d)| d.flushing == Some(req))
        else {
            return;
        };
        match result {
            DbResult::Ok(version) => {
                let Some(d) = self.caches[t].dirty.remove(&key) else {
                    return;
                };
                let now = self.now;
                let ttl = self.cfg.cache_ttl;
                self.caches[t].store.put(key, version, now.after(ttl));
                for r in d.reqs {
                    self.writeback_settled(r, key, Some(version));
                }
            }
            DbResult::Behind => {}
            DbResult::NotLeader(hint) => {
                let shard = self.shard_of(key);
                let current = self.caches[t].leader_guess.get(shard).copied().flatten();
                let next = hint.or_else(|| self.next_replica(shard, current));
                let g = &mut self.caches[t].leader_guess;
                if g.len() <= shard {
                    g.resize(shard + 1, None);
                }
                g[shard] = next;
            }
        }
    }

    /// Write-back: the cache died with writes it had confirmed but not yet
    /// written to the database. They are lost.
    pub(crate) fn cache_lose_dirty(&mut self, t: usize) {
        let dirty = std::mem::take(&mut self.caches[t].dirty);
        for (key, d) in dirty {
            for r in d.reqs {
                self.writeback_settled(r, key, None);
            }
        }
    }

    /// Records what became of a write-back write (persisted with a version,
    /// or lost) and, once its user has been told, settles it in the truth.
    fn writeback_settled(&mut self, req: RequestId, key: u32, version: Option<Version>) {
        if let Some((session, acked_at)) = self.truth.writeback_outcome(req, key, version) {
            self.writeback_final(req, key, session, acked_at, version);
        }
    }

    /// A write-back write whose user was told and whose fate is known.
    pub(crate) fn writeback_final(
        &mut self,
        req: RequestId,
        key: u32,
        session: u32,
        acked_at: SimTime,
        version: Option<Version>,
    ) {
        match version {
            Some(v) => {
                let durable = self.db_is_committed(v, key);
                self.truth
                    .ack_write(req, key, session, v, acked_at, durable);
            }
            None => {
                self.truth.lost.push(crate::truth::PendingWrite {
                    request: req,
                    key,
                    version: Version::default(),
                    acked_at,
                });
                self.metrics.bucket.lost_writes += 1;
                self.log_event(LogEvent::LostWrite {
                    request: req,
                    key,
                    version: Version::default(),
                    acked_at,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_recently_used_leaves_first() {
        let mut c = KeyCache::new(2);
        let far = SimTime(1_000_000);
        c.put(1, Version(1), far);
        c.put(2, Version(2), far);
        assert_eq!(c.get(1, SimTime(0)), Some(Version(1)));
        c.put(3, Version(3), far);
        assert_eq!(c.get(2, SimTime(0)), None, "2 was least recently used");
        assert_eq!(c.get(1, SimTime(0)), Some(Version(1)));
        assert_eq!(c.evictions, 1);
    }

    #[test]
    fn least_frequently_used_and_first_in_leave_first() {
        let far = SimTime(1_000_000);
        let now = SimTime(0);
        let mut lfu = KeyCache::with_policy(2, Eviction::Lfu);
        lfu.put(1, Version(1), far);
        lfu.put(2, Version(2), far);
        lfu.get(1, now);
        lfu.get(1, now);
        lfu.get(2, now);
        lfu.get(2, now);
        lfu.get(2, now);
        lfu.put(3, Version(3), far);
        assert!(lfu.contains(2) && !lfu.contains(1), "1 was used less often");
        let mut fifo = KeyCache::with_policy(2, Eviction::Fifo);
        fifo.put(1, Version(1), far);
        fifo.put(2, Version(2), far);
        fifo.get(1, now);
        fifo.put(3, Version(3), far);
        assert!(!fifo.contains(1), "1 came first, whatever its use");
    }

    #[test]
    fn entries_expire() {
        let mut c = KeyCache::new(10);
        c.put(1, Version(1), SimTime(100));
        assert!(c.get(1, SimTime(99)).is_some());
        assert!(c.get(1, SimTime(100)).is_none());
    }
}
