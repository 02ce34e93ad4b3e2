//! Leaderless and multi-leader replicas: store the newest version of a key (last writer wins), answer reads with what they hold, and pass a region's writes on to the other leaders, noting conflicts.

use super::DbNode;
use crate::context::Cx;
use crate::log::LogEvent;
use crate::msg::{Msg, Observation, Timer};
use crate::node::NodeId;
use crate::request::{HopNote, RequestId, Version};
use crate::scenario::Replication;
use crate::time::ms_to_micros;

impl DbNode {
    /// Leaderless: keeps the newest version (last writer wins); a
    /// multi-leader replica passes the write on to the other regions.
    pub(super) fn on_put(
        &mut self,
        cx: &mut Cx,
        from: NodeId,
        req: RequestId,
        key: u32,
        version: Version,
    ) {
        // Leaderless: keep the newest version (last writer wins), visible
        // once it is on disk.
        let delay = self.disk(cx, ms_to_micros(cx.scenario().db.write_ms));
        let d = &mut *self;
        d.ops += 1;
        let prev = d.kv.get(key as usize).copied().unwrap_or_default();
        cx.timer(delay, Timer::DbStore(key, version));
        let id = d.id;
        if cx.scenario().db.replication == Replication::MultiLeader {
            // This region's leader passes the write on to the others.
            let others: Vec<NodeId> = cx
                .topo
                .shard_replicas(self.shard)
                .iter()
                .copied()
                .filter(|&o| o != id)
                .collect();
            for o in others {
                cx.send(o, Msg::MReplicate { key, version, prev }, delay);
            }
        }
        cx.metrics.bucket.db_ops += 1;
        cx.hop_span(req, cx.now, cx.now.after(delay), HopNote::DbWrite);
        cx.send(from, Msg::QPutAck { req }, delay);
    }

    /// Leaderless: a write reached the disk; the newest version wins.
    pub(crate) fn on_store_timer(&mut self, key: u32, version: Version) {
        if let Some(slot) = self.kv.get_mut(key as usize)
            && version > *slot
        {
            *slot = version;
        }
    }

    /// Leaderless: reads the key when its turn at the disk comes (after
    /// the writes queued before it), then answers.
    pub(super) fn on_get(&mut self, cx: &mut Cx, from: NodeId, req: RequestId, key: u32) {
        let delay = self.disk(cx, ms_to_micros(cx.scenario().db.read_ms));
        self.ops += 1;
        cx.metrics.bucket.db_ops += 1;
        cx.hop_span(req, cx.now, cx.now.after(delay), HopNote::DbRead);
        cx.timer(delay, Timer::DbServeGet(req, key, from));
    }

    /// Leaderless: a queued read is served with what the replica holds now.
    pub(crate) fn on_serve_get_timer(&mut self, cx: &mut Cx, req: RequestId, key: u32, to: NodeId) {
        let version = self.kv.get(key as usize).copied().unwrap_or_default();
        cx.send(to, Msg::QValue { req, version }, 0);
    }

    /// Multi-leader: a write taken by another region's leader arrives. If
    /// this replica holds a version the other did not know when it took its
    /// write, the two were concurrent: the later one wins, the other is
    /// overwritten.
    pub(super) fn on_replicated(
        &mut self,
        cx: &mut Cx,
        from: NodeId,
        key: u32,
        version: Version,
        prev: Version,
    ) {
        let delay = self.disk(cx, ms_to_micros(cx.scenario().db.write_ms));
        let _ = delay;
        let d = &mut *self;
        d.ops += 1;
        let id = d.id;
        let Some(slot) = d.kv.get_mut(key as usize) else {
            return;
        };
        let cur = *slot;
        if version > cur {
            *slot = version;
        }
        if cur != prev && cur != version && cur > prev {
            let (kept, lost) = if version > cur {
                (version, cur)
            } else {
                (cur, version)
            };
            if cx.truth.conflicts.insert((key, lost.0)) {
                cx.metrics.totals.conflicts += 1;
                cx.log(LogEvent::Conflict {
                    key,
                    kept,
                    overwritten: lost,
                    at: id,
                    from,
                });
                // If a user was told it was stored, it is a lost write too.
                cx.observe(Observation::Overwritten { key, version: lost });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::testing::Harness;
    use crate::msg::Effect;
    use crate::scenario::Scenario;

    #[test]
    fn a_leaderless_write_is_visible_only_once_it_is_on_disk() {
        let mut s = Scenario::default();
        s.db.replication = Replication::Quorum;
        let mut h = Harness::new(&s, 1);
        let mut d = DbNode::new(NodeId(0), 0, vec![NodeId(0), NodeId(1), NodeId(2)], 10);
        let v = Version::stamped(1000, 1);
        d.on_put(&mut h.cx(NodeId(0)), NodeId(9), RequestId(1), 3, v);
        assert_eq!(d.kv[3], Version::default(), "not yet on disk");
        let store = h.effects.iter().find_map(|e| match e {
            Effect::Timer {
                after,
                timer: Timer::DbStore(key, version),
                ..
            } => Some((*after, *key, *version)),
            _ => None,
        });
        assert_eq!(store, Some((2000, 3, v)), "stored after the 2 ms write");
        d.on_store_timer(3, v);
        assert_eq!(d.kv[3], v);
        // An older write reaching the disk later changes nothing.
        d.on_store_timer(3, Version::stamped(500, 2));
        assert_eq!(d.kv[3], v);
    }
}
