//! The cache tier (a Redis-like key-value cache used cache-aside) and the expiring, capacity-bounded store it shares with CDN edges.

use crate::msg::Msg;
use crate::node::NodeId;
use crate::request::{HopNote, Version};
use crate::time::{SimTime, ms_to_micros};
use crate::world::Simulation;
use std::collections::BTreeMap;

/// A store of keys with a time to live and a capacity; when full, the least
/// recently used key leaves. Ordered maps keep every operation deterministic.
#[derive(Clone, Debug, Default)]
pub struct KeyCache {
    entries: BTreeMap<u32, Slot>,
    by_use: BTreeMap<u64, u32>,
    next_use: u64,
    capacity: usize,
    /// Keys removed to make room.
    pub evictions: u64,
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    version: Version,
    expires: SimTime,
    used: u64,
}

impl KeyCache {
    /// An empty store holding at most `capacity` keys.
    pub fn new(capacity: usize) -> KeyCache {
        KeyCache {
            capacity: capacity.max(1),
            ..KeyCache::default()
        }
    }

    /// The cached version of `key`, if present and not expired; counts as a use.
    pub fn get(&mut self, key: u32, now: SimTime) -> Option<Version> {
        let slot = self.entries.get_mut(&key)?;
        if slot.expires <= now {
            let used = slot.used;
            self.entries.remove(&key);
            self.by_use.remove(&used);
            return None;
        }
        self.by_use.remove(&slot.used);
        slot.used = self.next_use;
        self.by_use.insert(self.next_use, key);
        self.next_use += 1;
        Some(slot.version)
    }

    /// Stores `key` at `version` until `expires`.
    pub fn put(&mut self, key: u32, version: Version, expires: SimTime) {
        if let Some(old) = self.entries.remove(&key) {
            self.by_use.remove(&old.used);
        }
        while self.entries.len() >= self.capacity {
            let Some((_, victim)) = self.by_use.pop_first() else {
                break;
            };
            self.entries.remove(&victim);
            self.evictions += 1;
        }
        self.entries.insert(
            key,
            Slot {
                version,
                expires,
                used: self.next_use,
            },
        );
        self.by_use.insert(self.next_use, key);
        self.next_use += 1;
    }

    /// Forgets `key`.
    pub fn remove(&mut self, key: u32) {
        if let Some(old) = self.entries.remove(&key) {
            self.by_use.remove(&old.used);
        }
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.by_use.clear();
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

/// State of the cache server.
#[derive(Clone, Debug)]
pub struct CacheNode {
    pub(crate) store: KeyCache,
    pub(crate) busy_until: SimTime,
    /// Operations served.
    pub ops: u64,
}

impl CacheNode {
    pub(crate) fn new(capacity: u32) -> CacheNode {
        CacheNode {
            store: KeyCache::new(capacity as usize),
            busy_until: SimTime::ZERO,
            ops: 0,
        }
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
            Msg::CacheSet { key, version } => c.store.put(key, version, now.after(ttl)),
            Msg::CacheDel { key } => c.store.remove(key),
            _ => {}
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
    fn entries_expire() {
        let mut c = KeyCache::new(10);
        c.put(1, Version(1), SimTime(100));
        assert!(c.get(1, SimTime(99)).is_some());
        assert!(c.get(1, SimTime(100)).is_none());
    }
}
