//! Serving reads and writes: a leader appends writes to its log; reads are answered from what the replica has applied, or turned away (not the leader, or behind the session's last write).

use super::{DbNode, PendingAck, Role};
use crate::context::Cx;
use crate::msg::{DbResult, LogEntry, Msg};
use crate::node::NodeId;
use crate::request::{HopNote, RequestId, Version};
use crate::scenario::Replication;
use crate::time::ms_to_micros;

impl DbNode {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn read(
        &mut self,
        cx: &mut Cx,
        app: NodeId,
        req: RequestId,
        key: u32,
        attempt: u8,
        need_leader: bool,
        min_index: u64,
    ) {
        let d = &*self;
        if d.applied < min_index && d.role != Role::Leader {
            // Read-your-writes: this follower has not applied the session's
            // last write yet; the reader must go elsewhere.
            self.refuse(cx, app, req, attempt, DbResult::Behind);
            return;
        }
        if need_leader && d.role != Role::Leader {
            self.refuse_not_leader(cx, app, req, attempt);
            return;
        }
        if d.role == Role::Leader && !self.keeps_lease(cx) {
            // Fenced: another replica may lead by now.
            self.refuse_not_leader(cx, app, req, attempt);
            return;
        }
        let d = &*self;
        let v = d.kv.get(key as usize).copied().unwrap_or_default();
        if d.role == Role::Leader {
            cx.truth
                .leader_served(d.shard as u32, d.term, cx.me, cx.now);
        }
        let delay = self.disk(cx, ms_to_micros(cx.scenario().db.read_ms));
        self.ops += 1;
        cx.metrics.bucket.db_ops += 1;
        cx.hop_span(req, cx.now, cx.now.after(delay), HopNote::DbRead);
        cx.send(
            app,
            Msg::DbReply {
                req,
                attempt,
                result: DbResult::Ok(v),
            },
            delay,
        );
    }

    /// Turns a request away at once: this replica is not the leader, and
    /// names the one it believes is.
    fn refuse_not_leader(&mut self, cx: &mut Cx, app: NodeId, req: RequestId, attempt: u8) {
        let d = &*self;
        let hint = d.leader.filter(|&l| l != d.id);
        self.refuse(cx, app, req, attempt, DbResult::NotLeader(hint));
    }

    /// Turns a request away at once with `result`, noting why in its trace.
    fn refuse(&mut self, cx: &mut Cx, app: NodeId, req: RequestId, attempt: u8, result: DbResult) {
        let note = match result {
            DbResult::Behind => HopNote::Behind,
            _ => HopNote::NotLeader,
        };
        cx.hop_span(req, cx.now, cx.now, note);
        cx.send(
            app,
            Msg::DbReply {
                req,
                attempt,
                result,
            },
            0,
        );
    }

    pub(super) fn write(
        &mut self,
        cx: &mut Cx,
        app: NodeId,
        req: RequestId,
        key: u32,
        attempt: u8,
    ) {
        let now = cx.now;
        let d = &*self;
        if d.role != Role::Leader || !self.keeps_lease(cx) {
            self.refuse_not_leader(cx, app, req, attempt);
            return;
        }
        let d = &*self;
        cx.truth.leader_served(d.shard as u32, d.term, cx.me, now);
        let delay = self.disk(cx, ms_to_micros(cx.scenario().db.write_ms));
        let d = &mut *self;
        d.ops += 1;
        d.log.push(LogEntry {
            term: d.term,
            key,
            appended_at: now.0,
        });
        let index = d.last_index();
        d.matched[d.me] = index;
        let version = Version::new(d.term, index);
        if let Some(r) = cx.req(req) {
            r.stored = Some(version);
        }
        cx.metrics.bucket.db_ops += 1;
        cx.hop_span(req, now, now.after(delay), HopNote::DbWrite);
        match cx.scenario().db.replication {
            // A leaderless group has no leader to write to; treat it as asynchronous.
            Replication::Async | Replication::Quorum | Replication::MultiLeader => {
                self.apply_to(index);
                cx.send(
                    app,
                    Msg::DbReply {
                        req,
                        attempt,
                        result: DbResult::Ok(version),
                    },
                    delay,
                );
                // Shipped at once, as streaming replication and Raft do: lag
                // then comes from the network and the followers' own work.
                if !cx.scenario().db.ship_on_heartbeat {
                    self.replicate(cx);
                }
                self.advance_commit(cx);
            }
            Replication::Sync | Replication::SemiSync => {
                self.pending.push(PendingAck {
                    index,
                    req,
                    app,
                    attempt,
                });
                self.replicate(cx);
                self.advance_commit(cx);
            }
        }
    }
}
