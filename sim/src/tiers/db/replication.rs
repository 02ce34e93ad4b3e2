//! Replication: the leader ships its log to followers with heartbeats, followers append, apply and acknowledge, and the leader moves the commit index and answers writes by the replication mode (asynchronous, semi-synchronous or synchronous).

use super::{BATCH, DbNode, Role, StepDown, election_delay};
use crate::context::Cx;
use crate::log::LogEvent;
use crate::msg::{Append, DbResult, Msg, Snapshot, Timer};
use crate::node::NodeId;
use crate::request::Version;
use crate::scenario::{FollowerAck, Replication};
use crate::time::{SimTime, ms_to_micros};
use crate::truth::PendingWrite;

impl DbNode {
    pub(crate) fn on_heartbeat_timer(&mut self, cx: &mut Cx, term: u64) {
        let d = &*self;
        if d.role != Role::Leader || d.term != term {
            return;
        }
        if !self.keeps_lease(cx) {
            return;
        }
        self.replicate(cx);
        let hb = cx.cfg().db_heartbeat;
        cx.timer(hb, Timer::DbHeartbeat(term));
    }

    /// With fencing: whether this leader still holds its lease, stepping
    /// down if not (see [`DbNode::lease_holds`]).
    pub(super) fn keeps_lease(&mut self, cx: &mut Cx) -> bool {
        if !cx.scenario().db.fencing || self.lease_holds(cx.now, cx.cfg().election_min) {
            return true;
        }
        let term = self.term;
        self.step_down(cx, term, StepDown::Fenced);
        false
    }

    /// Sends every follower what it lacks (or an empty heartbeat).
    pub(super) fn replicate(&mut self, cx: &mut Cx) {
        let sent_at = cx.now.0;
        let d = &mut *self;
        let mut out = Vec::new();
        for i in 0..d.members.len() {
            if i == d.me {
                continue;
            }
            let next = d.next[i].max(1);
            let prev_index = next - 1;
            let Some(entries) = d.entries_from(next, BATCH) else {
                // It lacks entries already folded into the snapshot.
                d.next[i] = d.log_start + 1;
                let snap = Snapshot {
                    sent_at,
                    term: d.term,
                    last_index: d.log_start,
                    last_term: d.term_at(d.log_start),
                    term_runs: d.term_runs.clone(),
                    kv: d.snap_kv.clone(),
                    leader_commit: d.commit,
                };
                out.push((d.members[i], Msg::InstallSnapshot(Box::new(snap))));
                continue;
            };
            let entries = entries.to_vec();
            let prev_term = d.term_at(prev_index);
            d.next[i] = prev_index + entries.len() as u64 + 1;
            let a = Append {
                sent_at,
                term: d.term,
                prev_index,
                prev_term,
                entries,
                leader_commit: d.commit,
            };
            out.push((d.members[i], Msg::Append(Box::new(a))));
        }
        for (to, msg) in out {
            cx.send(to, msg, 0);
        }
    }

    pub(super) fn on_append(&mut self, cx: &mut Cx, from: NodeId, a: Append) {
        let now = cx.now;
        let d = &*self;
        let id = d.id;
        if a.term < d.term {
            d.answer_leader(cx, from, a.sent_at, false, d.commit, 0);
            return;
        }
        if a.term > d.term || d.role != Role::Follower {
            self.step_down(cx, a.term, StepDown::HigherTerm);
        }
        let delay = election_delay(cx);
        let d = &mut *self;
        d.term = a.term;
        d.role = Role::Follower;
        d.pre_voting = false;
        d.leader = Some(from);
        d.last_leader_contact = now;
        d.heard_sent_at = a.sent_at;
        d.deadline = now.after(delay);
        let ok = a.prev_index <= d.last_index() && d.term_at(a.prev_index) == a.prev_term;
        if !ok {
            d.answer_leader(cx, from, a.sent_at, false, d.commit, 0);
            return;
        }
        let mut truncated = 0;
        let n = a.entries.len() as u64;
        for (k, e) in a.entries.into_iter().enumerate() {
            let index = a.prev_index + 1 + k as u64;
            if index <= d.last_index() {
                if d.term_at(index) == e.term {
                    continue;
                }
                truncated += d.truncate(index);
            }
            d.log.push(e);
        }
        let last_new = a.prev_index + n;
        if a.leader_commit > d.commit {
            d.commit = a.leader_commit.min(last_new);
        }
        if truncated > 0 {
            cx.log(LogEvent::Truncated {
                node: id,
                entries: truncated,
            });
        }
        // New entries are durable once written; then (or now, for a
        // heartbeat that only moved the commit index) a round of applying
        // may start.
        let delay = if n > 0 { self.flush(cx) } else { 0 };
        self.start_applying(cx, delay);
        self.answer_leader(cx, from, a.sent_at, true, last_new, delay);
    }

    /// A leader's snapshot: take it in place of the entries it covers, as
    /// an append of them would have.
    pub(super) fn on_snapshot(&mut self, cx: &mut Cx, from: NodeId, s: &Snapshot) {
        let now = cx.now;
        if s.term < self.term {
            self.answer_leader(cx, from, s.sent_at, false, self.commit, 0);
            return;
        }
        if s.term > self.term || self.role != Role::Follower {
            self.step_down(cx, s.term, StepDown::HigherTerm);
        }
        let delay = election_delay(cx);
        self.term = s.term;
        self.role = Role::Follower;
        self.pre_voting = false;
        self.leader = Some(from);
        self.last_leader_contact = now;
        self.heard_sent_at = s.sent_at;
        self.deadline = now.after(delay);
        if self.install(s) {
            cx.log(LogEvent::SnapshotInstalled {
                node: cx.me,
                upto: s.last_index,
            });
        }
        if s.leader_commit > self.commit {
            self.commit = s.leader_commit.min(self.last_index());
        }
        self.answer_leader(cx, from, s.sent_at, true, s.last_index, 0);
    }

    /// Answers the leader's message sent at `sent_at` (an append, a
    /// snapshot, or news of entries applied), after `delay`, with this
    /// replica's term and what it has applied.
    fn answer_leader(
        &self,
        cx: &mut Cx,
        leader: NodeId,
        sent_at: u64,
        success: bool,
        match_index: u64,
        delay: u64,
    ) {
        let reply = Msg::AppendReply {
            sent_at,
            term: self.term,
            success,
            match_index,
            applied: self.applied,
        };
        cx.send(leader, reply, delay);
    }

    /// What this follower may make visible: everything it received with
    /// asynchronous replication (as a streaming replica does), but only
    /// entries known to be committed with synchronous or semi-synchronous
    /// replication (as in Raft), so that its reads never return a write
    /// that a failover could still discard.
    fn apply_target(&self, cx: &Cx) -> u64 {
        match cx.scenario().db.replication {
            Replication::Sync | Replication::SemiSync => self.commit.min(self.last_index()),
            Replication::Async | Replication::Quorum | Replication::MultiLeader => {
                self.last_index()
            }
        }
    }

    /// Starts a round of applying, `after` from now, unless one is under
    /// way (the next round then takes everything that arrived meanwhile)
    /// or there is nothing to apply. Each round takes `apply_ms`.
    fn start_applying(&mut self, cx: &mut Cx, after: u64) {
        let target = self.apply_target(cx);
        if self.applying || target <= self.applied {
            return;
        }
        self.applying = true;
        let work = cx.work(ms_to_micros(cx.scenario().db.apply_ms));
        cx.timer(after + work, Timer::DbApply(target));
    }

    pub(crate) fn on_apply_timer(&mut self, cx: &mut Cx, upto: u64) {
        self.applying = false;
        let upto = upto.min(self.apply_target(cx));
        let d = &mut *self;
        let before = d.applied;
        d.apply_to(upto);
        if d.applied > before
            && d.role == Role::Follower
            && let Some(leader) = d.leader
        {
            // Tell the leader at once: with acknowledgements that mean
            // "applied", a write is waiting for exactly this. It has heard
            // nothing newer from the leader than the last message it got.
            d.answer_leader(cx, leader, d.heard_sent_at, true, d.last_index(), 0);
        }
        // What arrived during this round, once its disk write is done.
        let durable = self.busy_until.since(cx.now);
        self.start_applying(cx, durable);
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_append_reply(
        &mut self,
        cx: &mut Cx,
        from: NodeId,
        sent_at: u64,
        term: u64,
        success: bool,
        match_index: u64,
        applied: u64,
    ) {
        if term > self.term {
            self.step_down(cx, term, StepDown::HigherTerm);
            return;
        }
        let d = &mut *self;
        if d.role != Role::Leader || term != d.term {
            return;
        }
        let Some(i) = d.members.iter().position(|&m| m == from) else {
            return;
        };
        // The follower still followed this leader when the message it
        // answers was sent: the lease counts from then, not from now.
        d.last_ack[i] = d.last_ack[i].max(SimTime(sent_at));
        if success {
            let m = match_index.min(d.last_index());
            d.matched[i] = d.matched[i].max(m);
            d.next[i] = d.next[i].max(m + 1);
            d.peer_applied[i] = d.peer_applied[i].max(applied.min(m));
        } else {
            d.next[i] = (match_index + 1).min(d.last_index() + 1).max(1);
        }
        self.advance_commit(cx);
    }

    /// Moves the commit index (majority, current term) and, for synchronous
    /// replication, acknowledges writes every follower has confirmed.
    pub(crate) fn advance_commit(&mut self, cx: &mut Cx) {
        let d = &mut *self;
        // The highest index a majority holds (groups have at most 7
        // replicas: no allocation on this path, taken on every reply).
        let mut m = [0u64; 8];
        let n = d.matched.len().min(m.len());
        m[..n].copy_from_slice(&d.matched[..n]);
        m[d.me] = d.last_index();
        m[..n].sort_unstable_by(|a, b| b.cmp(a));
        let candidate = m[d.majority().clamp(1, n.max(1)) - 1];
        let mut committed = false;
        if candidate > d.commit && d.term_at(candidate) == d.term {
            d.commit = candidate;
            committed = true;
        }
        let mode = cx.scenario().db.replication;
        if !self.pending.is_empty() || mode != Replication::Async {
            let ack = cx.scenario().db.follower_ack;
            let sync = mode != Replication::Async;
            // Followers whose acknowledgement a write waits for: all of them,
            // or `sync_followers` of them (semi-synchronous).
            let needed = match mode {
                Replication::SemiSync => cx.scenario().db.sync_followers as usize,
                _ => usize::MAX,
            };
            let d = &mut *self;
            // Asynchronous: everything is acknowledged at once (writes still
            // waiting from a switch out of synchronous mode included).
            let point = if !sync {
                d.last_index()
            } else {
                let mut acks: Vec<u64> = (0..d.members.len())
                    .filter(|&i| i != d.me)
                    .map(|i| match ack {
                        FollowerAck::Received => d.matched[i],
                        FollowerAck::Applied => d.peer_applied[i],
                    })
                    .collect();
                acks.sort_unstable_by(|a, b| b.cmp(a));
                let k = needed.min(acks.len());
                if k == 0 {
                    d.last_index()
                } else {
                    acks[k - 1].min(d.last_index())
                }
            };
            if point > d.applied {
                d.apply_to(point);
            }
            let mut done = Vec::new();
            d.pending.retain(|p| {
                if p.index <= point {
                    done.push(*p);
                    false
                } else {
                    true
                }
            });
            for p in done {
                let v = Version::new(self.term_at(p.index), p.index);
                cx.send(
                    p.app,
                    Msg::DbReply {
                        req: p.req,
                        attempt: p.attempt,
                        result: DbResult::Ok(v),
                    },
                    0,
                );
            }
        }
        if committed {
            self.settle_pending(cx);
            if mode.is_sync() {
                // Followers apply only what they know is committed: tell
                // them now rather than with the next heartbeat.
                self.replicate(cx);
            }
        }
    }

    /// Acknowledged writes at or below the leader's commit index are either
    /// safe for good (same term in the log) or gone for good (overwritten).
    fn settle_pending(&mut self, cx: &mut Cx) {
        let commit = self.commit;
        let shard = self.shard;
        // Settled: this shard's, at or below the commit index. Kept for
        // good if the log there has the same term, gone if not.
        let settled =
            |p: &PendingWrite| p.version.index() <= commit && cx.topo.shard_of(p.key) == shard;
        let gone = |p: &PendingWrite| self.term_at(p.version.index()) != p.version.term();
        let mut lost = Vec::new();
        cx.truth.pending.retain(|p| {
            if !settled(p) {
                return true;
            }
            if gone(p) {
                lost.push(*p);
            }
            false
        });
        // Reads of versions this shard had not committed: the value they
        // returned stays, or it never existed after all.
        let mut rolled_back = Vec::new();
        cx.truth.unsettled_reads.retain(|r| {
            if !settled(r) {
                return true;
            }
            if gone(r) {
                rolled_back.push(*r);
            }
            false
        });
        for p in lost {
            self.report_lost(cx, p);
        }
        for r in rolled_back {
            cx.metrics.totals.rolled_back_reads += 1;
            cx.log(LogEvent::RolledBackRead {
                request: r.request,
                key: r.key,
                version: r.version,
            });
        }
    }

    fn report_lost(&mut self, cx: &mut Cx, p: PendingWrite) {
        cx.truth.lost.push(p);
        cx.metrics.bucket.lost_writes += 1;
        cx.log(LogEvent::LostWrite {
            request: p.request,
            key: p.key,
            version: p.version,
            acked_at: p.acked_at,
        });
    }
}
