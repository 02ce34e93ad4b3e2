//! An expiring, capacity-bounded key store with LRU, LFU or FIFO eviction: the memory of the cache tier and of CDN edges.

use crate::request::Version;
use crate::time::SimTime;
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

    /// The version held for `key` and when it expires, without touching
    /// its rank (for explanations).
    pub fn peek(&self, key: u32) -> Option<(Version, SimTime)> {
        self.entries.get(&key).map(|s| (s.version, s.expires))
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
