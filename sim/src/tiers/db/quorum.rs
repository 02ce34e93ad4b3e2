//! Leaderless and multi-leader replicas: store the newest version of a key (last writer wins), answer reads with what they hold, and pass a region's writes on to the other leaders, noting conflicts.

use super::DbNode;
use crate::context::Cx;
use crate::log::LogEvent;
use crate::msg::Msg;
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
        // Leaderless: keep the newest version (last writer wins).
        let delay = self.disk(cx, ms_to_micros(cx.scenario().db.write_ms));
        let d = &mut *self;
        d.ops += 1;
        let prev = d.kv.get(key as usize).copied().unwrap_or_default();
        if let Some(slot) = d.kv.get_mut(key as usize)
            && version > *slot
        {
            *slot = version;
        }
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

    /// Leaderless: answers with the version it holds.
    pub(super) fn on_get(&mut self, cx: &mut Cx, from: NodeId, req: RequestId, key: u32) {
        let delay = self.disk(cx, ms_to_micros(cx.scenario().db.read_ms));
        let d = &mut *self;
        d.ops += 1;
        let version = d.kv.get(key as usize).copied().unwrap_or_default();
        cx.metrics.bucket.db_ops += 1;
        cx.hop_span(req, cx.now, cx.now.after(delay), HopNote::DbRead);
        cx.send(from, Msg::QValue { req, version }, delay);
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
            }
        }
    }
}
