//! The replicated database: a leader and followers kept in step by a Raft-style log — heartbeats, randomised election timeouts, terms, pre-votes and majority votes with an up-to-date-log check — with asynchronous or synchronous replication, read routing and fencing.

use crate::log::LogEvent;
use crate::msg::{Append, DbResult, LogEntry, Msg, Timer};
use crate::node::NodeId;
use crate::request::{HopNote, RequestId, Version};
use crate::scenario::{FollowerAck, Replication};
use crate::time::{SimTime, ms_to_micros};
use crate::truth::PendingWrite;
use crate::world::Simulation;

/// A replica's role in its group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Follows a leader, or waits for one.
    Follower,
    /// Asking for votes.
    Candidate,
    /// Accepts writes and replicates them.
    Leader,
}

/// A write waiting for followers before the client may be told.
#[derive(Clone, Copy, Debug)]
struct PendingAck {
    index: u64,
    req: RequestId,
    app: NodeId,
    attempt: u8,
}

/// Most entries sent in one replication message.
const BATCH: usize = 1000;

/// One database replica.
#[derive(Clone, Debug)]
pub struct DbNode {
    pub(crate) id: NodeId,
    pub(crate) me: usize,
    /// The shard (replica group) it belongs to.
    pub(crate) shard: usize,
    pub(crate) members: Vec<NodeId>,
    // Durable: survives a crash.
    pub(crate) term: u64,
    pub(crate) voted_for: Option<NodeId>,
    pub(crate) log: Vec<LogEntry>,
    pub(crate) commit: u64,
    pub(crate) applied: u64,
    pub(crate) kv: Vec<Version>,
    // Volatile.
    pub(crate) role: Role,
    pub(crate) leader: Option<NodeId>,
    deadline: SimTime,
    last_leader_contact: SimTime,
    pre_voting: bool,
    votes: usize,
    next: Vec<u64>,
    pub(crate) matched: Vec<u64>,
    peer_applied: Vec<u64>,
    last_ack: Vec<SimTime>,
    pending: Vec<PendingAck>,
    busy_until: SimTime,
    /// Reads and writes served.
    pub ops: u64,
}

impl DbNode {
    pub(crate) fn new(id: NodeId, me: usize, members: Vec<NodeId>, keys: u32) -> DbNode {
        let n = members.len();
        DbNode {
            id,
            me,
            shard: 0,
            members,
            term: 0,
            voted_for: None,
            log: Vec::new(),
            commit: 0,
            applied: 0,
            kv: vec![Version::default(); keys as usize],
            role: Role::Follower,
            leader: None,
            deadline: SimTime::ZERO,
            last_leader_contact: SimTime::ZERO,
            pre_voting: false,
            votes: 0,
            next: vec![1; n],
            matched: vec![0; n],
            peer_applied: vec![0; n],
            last_ack: vec![SimTime::ZERO; n],
            pending: Vec::new(),
            busy_until: SimTime::ZERO,
            ops: 0,
        }
    }

    fn last_index(&self) -> u64 {
        self.log.len() as u64
    }

    fn last_term(&self) -> u64 {
        self.log.last().map(|e| e.term).unwrap_or(0)
    }

    fn term_at(&self, index: u64) -> u64 {
        if index == 0 {
            0
        } else {
            self.log
                .get(index as usize - 1)
                .map(|e| e.term)
                .unwrap_or(0)
        }
    }

    fn majority(&self) -> usize {
        self.members.len() / 2 + 1
    }

    /// Makes entries up to `upto` visible to reads on this replica.
    fn apply_to(&mut self, upto: u64) {
        let upto = upto.min(self.last_index());
        while self.applied < upto {
            self.applied += 1;
            let e = self.log[self.applied as usize - 1];
            if let Some(slot) = self.kv.get_mut(e.key as usize) {
                *slot = Version::new(e.term, self.applied);
            }
        }
    }

    /// Drops entries from `from` (1-based) on, rebuilding visible state if
    /// some of them had been applied.
    fn truncate(&mut self, from: u64) -> u64 {
        let removed = self.last_index().saturating_sub(from - 1);
        self.log.truncate(from as usize - 1);
        if self.applied >= from {
            self.kv.iter_mut().for_each(|v| *v = Version::default());
            let upto = from - 1;
            self.applied = 0;
            self.apply_to(upto);
        }
        self.commit = self.commit.min(from - 1);
        removed
    }

    /// The replica's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Its current term.
    pub fn term(&self) -> u64 {
        self.term
    }
}

impl Simulation {
    fn election_delay(&mut self) -> u64 {
        let (lo, hi) = (self.cfg.election_min, self.cfg.election_max);
        lo + self.rng.election.below(hi - lo + 1)
    }

    fn disk(&mut self, t: usize, us: u64) -> u64 {
        let node = self.dbs[t].id;
        let work = self.work(node, us);
        let now = self.now;
        let d = &mut self.dbs[t];
        let start = d.busy_until.max(now);
        d.busy_until = start.after(work);
        d.busy_until.since(now)
    }

    pub(crate) fn db_boot(&mut self, t: usize) {
        if self.scenario.db.replication.leaderless() {
            // Leaderless: no elections, no heartbeats.
            self.dbs[t].role = Role::Follower;
            return;
        }
        let delay = self.election_delay();
        let d = &mut self.dbs[t];
        d.role = Role::Follower;
        d.leader = None;
        d.deadline = self.now.after(delay);
        d.last_leader_contact = self.now;
        let id = d.id;
        self.timer(id, delay, Timer::DbElection);
    }

    pub(crate) fn db_crash(&mut self, t: usize) {
        let d = &mut self.dbs[t];
        d.role = Role::Follower;
        d.leader = None;
        d.pending.clear();
        d.pre_voting = false;
        d.votes = 0;
        d.busy_until = SimTime::ZERO;
    }

    /// Makes replica `t` leader of `term`.
    pub(crate) fn db_become_leader(&mut self, t: usize, term: u64) {
        let initial = self.now == SimTime::ZERO && term == 1;
        if initial {
            let (leader, shard) = (self.dbs[t].id, self.dbs[t].shard);
            for d in self.dbs.iter_mut().filter(|d| d.shard == shard) {
                d.term = 1;
                d.leader = Some(leader);
            }
        }
        let now = self.now;
        let d = &mut self.dbs[t];
        d.role = Role::Leader;
        d.term = term;
        d.leader = Some(d.id);
        d.pre_voting = false;
        let last = d.last_index();
        let n = d.members.len();
        d.next = vec![last + 1; n];
        d.matched = vec![0; n];
        d.matched[d.me] = last;
        d.peer_applied = vec![0; n];
        d.last_ack = vec![now; n];
        d.pending.clear();
        // A promoted replica replays everything it has before serving.
        d.apply_to(last);
        let id = d.id;
        if !initial {
            self.metrics.totals.leader_changes += 1;
            let shard = self.dbs[t].shard as u32;
            self.log_event(LogEvent::Elected {
                node: id,
                shard,
                term,
            });
        }
        self.db_replicate(t);
        let hb = self.cfg.db_heartbeat;
        self.timer(id, hb, Timer::DbHeartbeat(term));
    }

    /// Steps down to follower (seeing a higher term, or fenced off).
    fn db_step_down(&mut self, t: usize, term: u64, why: StepDown) {
        let d = &mut self.dbs[t];
        let was_leader = d.role == Role::Leader;
        if term > d.term {
            d.term = term;
            d.voted_for = None;
        }
        d.role = Role::Follower;
        d.pre_voting = false;
        if was_leader {
            d.leader = None;
            let pending = std::mem::take(&mut d.pending);
            let id = d.id;
            for p in pending {
                self.send(
                    id,
                    p.app,
                    Msg::DbReply {
                        req: p.req,
                        attempt: p.attempt,
                        result: DbResult::NotLeader(None),
                    },
                    0,
                );
            }
            self.log_event(match why {
                StepDown::HigherTerm => LogEvent::SteppedDown { node: id, term },
                StepDown::Fenced => LogEvent::Fenced { node: id },
            });
        }
    }

    pub(crate) fn db_election_timer(&mut self, t: usize) {
        let now = self.now;
        let d = &self.dbs[t];
        let id = d.id;
        if d.role == Role::Leader {
            let after = self.cfg.election_max;
            self.dbs[t].deadline = now.after(after);
            self.timer(id, after, Timer::DbElection);
            return;
        }
        if now < d.deadline {
            let after = d.deadline.since(now);
            self.timer(id, after, Timer::DbElection);
            return;
        }
        // Silence for a whole timeout: first ask, without disturbing anyone,
        // whether a majority would vote (pre-vote); only then raise the term.
        let delay = self.election_delay();
        let d = &mut self.dbs[t];
        d.deadline = now.after(delay);
        d.pre_voting = true;
        d.votes = 1;
        let (term, last_index, last_term) = (d.term + 1, d.last_index(), d.last_term());
        let peers: Vec<NodeId> = d.members.iter().copied().filter(|&m| m != id).collect();
        self.timer(id, delay, Timer::DbElection);
        if self.dbs[t].votes >= self.dbs[t].majority() {
            self.db_start_election(t);
            return;
        }
        for p in peers {
            self.send(
                id,
                p,
                Msg::Vote {
                    term,
                    last_index,
                    last_term,
                    pre: true,
                },
                0,
            );
        }
    }

    fn db_start_election(&mut self, t: usize) {
        let d = &mut self.dbs[t];
        d.pre_voting = false;
        d.term += 1;
        d.role = Role::Candidate;
        d.voted_for = Some(d.id);
        d.leader = None;
        d.votes = 1;
        let (id, term, last_index, last_term) = (d.id, d.term, d.last_index(), d.last_term());
        let peers: Vec<NodeId> = d.members.iter().copied().filter(|&m| m != id).collect();
        self.log_event(LogEvent::ElectionStarted { node: id, term });
        if self.dbs[t].votes >= self.dbs[t].majority() {
            self.db_become_leader(t, term);
            return;
        }
        for p in peers {
            self.send(
                id,
                p,
                Msg::Vote {
                    term,
                    last_index,
                    last_term,
                    pre: false,
                },
                0,
            );
        }
    }

    pub(crate) fn db_heartbeat(&mut self, t: usize, term: u64) {
        let d = &self.dbs[t];
        if d.role != Role::Leader || d.term != term {
            return;
        }
        let id = d.id;
        if self.scenario.db.fencing {
            // A leader that has not heard from a majority within the
            // shortest election timeout may already have been replaced.
            let lease = self.cfg.election_min;
            let now = self.now;
            let fresh = (0..d.members.len())
                .filter(|&i| i == d.me || now.since(d.last_ack[i]) < lease)
                .count();
            if fresh < d.majority() {
                self.db_step_down(t, term, StepDown::Fenced);
                return;
            }
        }
        self.db_replicate(t);
        let hb = self.cfg.db_heartbeat;
        self.timer(id, hb, Timer::DbHeartbeat(term));
    }

    /// Sends every follower what it lacks (or an empty heartbeat).
    fn db_replicate(&mut self, t: usize) {
        let d = &mut self.dbs[t];
        let id = d.id;
        let mut out = Vec::new();
        for i in 0..d.members.len() {
            if i == d.me {
                continue;
            }
            let next = d.next[i].max(1);
            let prev_index = next - 1;
            let prev_term = d.term_at(prev_index);
            let start = prev_index as usize;
            let end = (start + BATCH).min(d.log.len());
            let entries = d
                .log
                .get(start..end)
                .map(|s| s.to_vec())
                .unwrap_or_default();
            d.next[i] = prev_index + entries.len() as u64 + 1;
            out.push((
                d.members[i],
                Append {
                    term: d.term,
                    prev_index,
                    prev_term,
                    entries,
                    leader_commit: d.commit,
                },
            ));
        }
        for (to, a) in out {
            self.send(id, to, Msg::Append(Box::new(a)), 0);
        }
    }

    pub(crate) fn db_on_msg(&mut self, t: usize, from: NodeId, msg: Msg) {
        match msg {
            Msg::DbRead {
                req,
                key,
                attempt,
                need_leader,
                min_index,
            } => self.db_read(t, from, req, key, attempt, need_leader, min_index),
            Msg::DbWrite { req, key, attempt } => self.db_write(t, from, req, key, attempt),
            Msg::Append(a) => self.db_on_append(t, from, *a),
            Msg::QPut { req, key, version } => {
                // Leaderless: keep the newest version (last writer wins).
                let delay = self.disk(t, ms_to_micros(self.scenario.db.write_ms));
                let d = &mut self.dbs[t];
                d.ops += 1;
                let prev = d.kv.get(key as usize).copied().unwrap_or_default();
                if let Some(slot) = d.kv.get_mut(key as usize)
                    && version > *slot
                {
                    *slot = version;
                }
                let id = d.id;
                if self.scenario.db.replication == Replication::MultiLeader {
                    // This region's leader passes the write on to the others.
                    let shard = self.dbs[t].shard;
                    let others: Vec<NodeId> = self
                        .shard_replicas(shard)
                        .map(|i| self.dbs[i].id)
                        .filter(|&o| o != id)
                        .collect();
                    for o in others {
                        self.send(id, o, Msg::MReplicate { key, version, prev }, delay);
                    }
                }
                self.metrics.bucket.db_ops += 1;
                self.hop_span(req, id, self.now, self.now.after(delay), HopNote::DbWrite);
                self.send(id, from, Msg::QPutAck { req }, delay);
            }
            Msg::MReplicate { key, version, prev } => {
                self.db_on_replicated(t, from, key, version, prev)
            }
            Msg::QGet { req, key } => {
                let delay = self.disk(t, ms_to_micros(self.scenario.db.read_ms));
                let d = &mut self.dbs[t];
                d.ops += 1;
                let version = d.kv.get(key as usize).copied().unwrap_or_default();
                let id = d.id;
                self.metrics.bucket.db_ops += 1;
                self.hop_span(req, id, self.now, self.now.after(delay), HopNote::DbRead);
                self.send(id, from, Msg::QValue { req, version }, delay);
            }
            Msg::AppendReply {
                term,
                success,
                match_index,
                applied,
            } => self.db_on_append_reply(t, from, term, success, match_index, applied),
            Msg::Vote {
                term,
                last_index,
                last_term,
                pre,
            } => self.db_on_vote(t, from, term, last_index, last_term, pre),
            Msg::VoteReply { term, granted, pre } => self.db_on_vote_reply(t, term, granted, pre),
            _ => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn db_read(
        &mut self,
        t: usize,
        app: NodeId,
        req: RequestId,
        key: u32,
        attempt: u8,
        need_leader: bool,
        min_index: u64,
    ) {
        let d = &self.dbs[t];
        let id = d.id;
        if d.applied < min_index && d.role != Role::Leader {
            // Read-your-writes: this follower has not applied the session's
            // last write yet; the reader must go elsewhere.
            self.db_refuse(t, app, req, attempt, DbResult::Behind);
            return;
        }
        if need_leader && d.role != Role::Leader {
            self.db_refuse_not_leader(t, app, req, attempt);
            return;
        }
        let v = d.kv.get(key as usize).copied().unwrap_or_default();
        let delay = self.disk(t, ms_to_micros(self.scenario.db.read_ms));
        self.dbs[t].ops += 1;
        self.metrics.bucket.db_ops += 1;
        self.hop_span(req, id, self.now, self.now.after(delay), HopNote::DbRead);
        self.send(
            id,
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
    fn db_refuse_not_leader(&mut self, t: usize, app: NodeId, req: RequestId, attempt: u8) {
        let d = &self.dbs[t];
        let hint = d.leader.filter(|&l| l != d.id);
        self.db_refuse(t, app, req, attempt, DbResult::NotLeader(hint));
    }

    /// Turns a request away at once with `result`, noting why in its trace.
    fn db_refuse(&mut self, t: usize, app: NodeId, req: RequestId, attempt: u8, result: DbResult) {
        let id = self.dbs[t].id;
        let note = match result {
            DbResult::Behind => HopNote::Behind,
            _ => HopNote::NotLeader,
        };
        self.hop_span(req, id, self.now, self.now, note);
        self.send(
            id,
            app,
            Msg::DbReply {
                req,
                attempt,
                result,
            },
            0,
        );
    }

    fn db_write(&mut self, t: usize, app: NodeId, req: RequestId, key: u32, attempt: u8) {
        let now = self.now;
        let d = &self.dbs[t];
        let id = d.id;
        if d.role != Role::Leader {
            self.db_refuse_not_leader(t, app, req, attempt);
            return;
        }
        let delay = self.disk(t, ms_to_micros(self.scenario.db.write_ms));
        let d = &mut self.dbs[t];
        d.ops += 1;
        d.log.push(LogEntry {
            term: d.term,
            key,
            appended_at: now.0,
        });
        let index = d.last_index();
        d.matched[d.me] = index;
        let version = Version::new(d.term, index);
        self.metrics.bucket.db_ops += 1;
        self.hop_span(req, id, now, now.after(delay), HopNote::DbWrite);
        match self.scenario.db.replication {
            // A leaderless group has no leader to write to; treat it as asynchronous.
            Replication::Async | Replication::Quorum | Replication::MultiLeader => {
                self.dbs[t].apply_to(index);
                self.send(
                    id,
                    app,
                    Msg::DbReply {
                        req,
                        attempt,
                        result: DbResult::Ok(version),
                    },
                    delay,
                );
                self.db_advance_commit(t);
            }
            Replication::Sync | Replication::SemiSync => {
                self.dbs[t].pending.push(PendingAck {
                    index,
                    req,
                    app,
                    attempt,
                });
                self.db_replicate(t);
                self.db_advance_commit(t);
            }
        }
    }

    fn db_on_append(&mut self, t: usize, from: NodeId, a: Append) {
        let now = self.now;
        let d = &self.dbs[t];
        let id = d.id;
        if a.term < d.term {
            let (term, commit, applied) = (d.term, d.commit, d.applied);
            self.send(
                id,
                from,
                Msg::AppendReply {
                    term,
                    success: false,
                    match_index: commit,
                    applied,
                },
                0,
            );
            return;
        }
        if a.term > d.term || d.role != Role::Follower {
            self.db_step_down(t, a.term, StepDown::HigherTerm);
        }
        let delay = self.election_delay();
        let d = &mut self.dbs[t];
        d.term = a.term;
        d.role = Role::Follower;
        d.pre_voting = false;
        d.leader = Some(from);
        d.last_leader_contact = now;
        d.deadline = now.after(delay);
        let ok = a.prev_index <= d.last_index() && d.term_at(a.prev_index) == a.prev_term;
        if !ok {
            let (term, commit, applied) = (d.term, d.commit, d.applied);
            self.send(
                id,
                from,
                Msg::AppendReply {
                    term,
                    success: false,
                    match_index: commit,
                    applied,
                },
                0,
            );
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
        let (term, applied) = (d.term, d.applied);
        if truncated > 0 {
            self.log_event(LogEvent::Truncated {
                node: id,
                entries: truncated,
            });
        }
        let delay = if n > 0 {
            let disk = self.disk(t, ms_to_micros(self.scenario.db.write_ms));
            let apply = self.work(id, ms_to_micros(self.scenario.db.apply_ms));
            self.timer(id, disk + apply, Timer::DbApply(last_new));
            disk
        } else {
            0
        };
        self.send(
            id,
            from,
            Msg::AppendReply {
                term,
                success: true,
                match_index: last_new,
                applied,
            },
            delay,
        );
    }

    pub(crate) fn db_apply(&mut self, t: usize, upto: u64) {
        let d = &mut self.dbs[t];
        let before = d.applied;
        d.apply_to(upto);
        if d.applied > before
            && d.role == Role::Follower
            && let Some(leader) = d.leader
        {
            // Tell the leader at once: with acknowledgements that mean
            // "applied", a write is waiting for exactly this.
            let (id, term, m, applied) = (d.id, d.term, d.last_index(), d.applied);
            self.send(
                id,
                leader,
                Msg::AppendReply {
                    term,
                    success: true,
                    match_index: m,
                    applied,
                },
                0,
            );
        }
    }

    fn db_on_append_reply(
        &mut self,
        t: usize,
        from: NodeId,
        term: u64,
        success: bool,
        match_index: u64,
        applied: u64,
    ) {
        if term > self.dbs[t].term {
            self.db_step_down(t, term, StepDown::HigherTerm);
            return;
        }
        let now = self.now;
        let d = &mut self.dbs[t];
        if d.role != Role::Leader || term != d.term {
            return;
        }
        let Some(i) = d.members.iter().position(|&m| m == from) else {
            return;
        };
        d.last_ack[i] = now;
        if success {
            let m = match_index.min(d.last_index());
            d.matched[i] = d.matched[i].max(m);
            d.next[i] = d.next[i].max(m + 1);
            d.peer_applied[i] = d.peer_applied[i].max(applied.min(m));
        } else {
            d.next[i] = (match_index + 1).min(d.last_index() + 1).max(1);
        }
        self.db_advance_commit(t);
    }

    /// Moves the commit index (majority, current term) and, for synchronous
    /// replication, acknowledges writes every follower has confirmed.
    pub(crate) fn db_advance_commit(&mut self, t: usize) {
        let d = &mut self.dbs[t];
        let mut m = d.matched.clone();
        m[d.me] = d.last_index();
        m.sort_unstable_by(|a, b| b.cmp(a));
        let candidate = m[d.majority() - 1];
        let mut committed = false;
        if candidate > d.commit && d.term_at(candidate) == d.term {
            d.commit = candidate;
            committed = true;
        }
        let mode = self.scenario.db.replication;
        if !self.dbs[t].pending.is_empty() || mode != Replication::Async {
            let ack = self.scenario.db.follower_ack;
            let sync = mode != Replication::Async;
            // Followers whose acknowledgement a write waits for: all of them,
            // or `sync_followers` of them (semi-synchronous).
            let needed = match mode {
                Replication::SemiSync => self.scenario.db.sync_followers as usize,
                _ => usize::MAX,
            };
            let d = &mut self.dbs[t];
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
            let id = d.id;
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
                let v = Version::new(self.dbs[t].term_at(p.index), p.index);
                self.send(
                    id,
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
            self.db_settle_pending(t);
        }
    }

    /// Acknowledged writes at or below the leader's commit index are either
    /// safe for good (same term in the log) or gone for good (overwritten).
    fn db_settle_pending(&mut self, t: usize) {
        let commit = self.dbs[t].commit;
        let mut lost = Vec::new();
        let pending = std::mem::take(&mut self.truth.pending);
        let mut keep = Vec::with_capacity(pending.len());
        let shard = self.dbs[t].shard;
        for p in pending {
            let i = p.version.index();
            if self.shard_of(p.key) != shard {
                keep.push(p);
            } else if i <= commit {
                if self.dbs[t].term_at(i) != p.version.term() {
                    lost.push(p);
                }
            } else {
                keep.push(p);
            }
        }
        self.truth.pending = keep;
        for p in lost {
            self.db_report_lost(p);
        }
    }

    fn db_report_lost(&mut self, p: PendingWrite) {
        self.truth.lost.push(p);
        self.metrics.bucket.lost_writes += 1;
        self.log_event(LogEvent::LostWrite {
            request: p.request,
            key: p.key,
            version: p.version,
            acked_at: p.acked_at,
        });
    }

    fn db_on_vote(
        &mut self,
        t: usize,
        from: NodeId,
        term: u64,
        last_index: u64,
        last_term: u64,
        pre: bool,
    ) {
        let now = self.now;
        let min = self.cfg.election_min;
        let d = &self.dbs[t];
        let id = d.id;
        let up_to_date = (last_term, last_index) >= (d.last_term(), d.last_index());
        if pre {
            // Grant a pre-vote only if we, too, have lost touch with a leader.
            let leader_alive = d.role == Role::Leader
                || (d.leader.is_some() && now.since(d.last_leader_contact) < min);
            let granted = term > d.term && up_to_date && !leader_alive;
            self.send(
                id,
                from,
                Msg::VoteReply {
                    term,
                    granted,
                    pre: true,
                },
                0,
            );
            return;
        }
        if term > d.term {
            self.db_step_down(t, term, StepDown::HigherTerm);
        }
        let d = &mut self.dbs[t];
        let granted = term == d.term && up_to_date && d.voted_for.is_none_or(|v| v == from);
        if granted {
            d.voted_for = Some(from);
            d.deadline = now.after(min);
        }
        let my_term = d.term;
        self.send(
            id,
            from,
            Msg::VoteReply {
                term: my_term,
                granted,
                pre: false,
            },
            0,
        );
    }

    fn db_on_vote_reply(&mut self, t: usize, term: u64, granted: bool, pre: bool) {
        let d = &mut self.dbs[t];
        if pre {
            if d.pre_voting && term == d.term + 1 && granted {
                d.votes += 1;
                if d.votes >= d.majority() {
                    self.db_start_election(t);
                }
            }
            return;
        }
        if term > d.term {
            self.db_step_down(t, term, StepDown::HigherTerm);
            return;
        }
        if d.role == Role::Candidate && term == d.term && granted {
            d.votes += 1;
            if d.votes >= d.majority() {
                self.db_become_leader(t, term);
            }
        }
    }

    /// Multi-leader: a write taken by another region's leader arrives. If
    /// this replica holds a version the other did not know when it took its
    /// write, the two were concurrent: the later one wins, the other is
    /// overwritten.
    fn db_on_replicated(
        &mut self,
        t: usize,
        from: NodeId,
        key: u32,
        version: Version,
        prev: Version,
    ) {
        let delay = self.disk(t, ms_to_micros(self.scenario.db.write_ms));
        let _ = delay;
        let d = &mut self.dbs[t];
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
            if self.truth.conflicts.insert((key, lost.0)) {
                self.metrics.totals.conflicts += 1;
                self.log_event(LogEvent::Conflict {
                    key,
                    kept,
                    overwritten: lost,
                    at: id,
                    from,
                });
            }
        }
    }

    /// The replica (tier index) a shard's truth is read from: its up leader
    /// with the highest term, else its up replica with the most up-to-date log.
    pub(crate) fn db_authority(&self, shard: usize) -> Option<usize> {
        let group = || {
            self.dbs
                .iter()
                .enumerate()
                .filter(move |(_, d)| d.shard == shard)
        };
        let up = |(_, d): &(usize, &DbNode)| self.status[d.id.idx()].up;
        group()
            .filter(up)
            .filter(|(_, d)| d.role == Role::Leader)
            .max_by_key(|(_, d)| d.term)
            .or_else(|| {
                group()
                    .filter(up)
                    .max_by_key(|(_, d)| (d.last_term(), d.last_index()))
            })
            .or_else(|| group().max_by_key(|(_, d)| (d.last_term(), d.last_index())))
            .map(|(t, _)| t)
    }

    /// Whether version `v` of `key` is committed on a majority by the
    /// current leader of the key's shard.
    pub(crate) fn db_is_committed(&self, v: Version, key: u32) -> bool {
        if self.scenario.db.replication.leaderless() {
            // Stored on W replicas and never rolled back: only a newer
            // write replaces it.
            return true;
        }
        let shard = self.shard_of(key);
        self.dbs.iter().any(|d| {
            d.shard == shard
                && d.role == Role::Leader
                && self.status[d.id.idx()].up
                && d.commit >= v.index()
                && d.term_at(v.index()) == v.term()
        })
    }

    /// Acknowledged writes that the database no longer holds: those already
    /// overwritten by a committed log, plus those their shard's authority
    /// lacks now.
    pub fn lost_writes(&self) -> u64 {
        let authorities: Vec<Option<usize>> = (0..self.shard_first.len())
            .map(|s| self.db_authority(s))
            .collect();
        let missing = self
            .truth
            .pending
            .iter()
            .filter(|p| {
                authorities
                    .get(self.shard_of(p.key))
                    .copied()
                    .flatten()
                    .is_some_and(|a| self.dbs[a].term_at(p.version.index()) != p.version.term())
            })
            .count();
        (self.truth.lost.len() + missing) as u64
    }

    /// Replication lag of each replica behind the leader, in microseconds:
    /// how long ago the oldest entry it has not applied was written.
    pub(crate) fn db_lag(&self, t: usize) -> Option<u64> {
        let a = self.db_authority(self.dbs[t].shard)?;
        let leader = &self.dbs[a];
        let d = &self.dbs[t];
        if a == t {
            return Some(0);
        }
        if d.applied >= leader.last_index() {
            return Some(0);
        }
        let first = leader.log.get(d.applied as usize)?;
        Some(self.now.0.saturating_sub(first.appended_at))
    }

    /// Checks the safety properties of the replica group; returns what is
    /// violated, in words (empty when all hold).
    pub fn check_invariants(&self) -> Vec<String> {
        let mut bad = Vec::new();
        // At most one leader per term.
        for (i, a) in self.dbs.iter().enumerate() {
            for b in &self.dbs[i + 1..] {
                if a.shard == b.shard
                    && a.role == Role::Leader
                    && b.role == Role::Leader
                    && a.term == b.term
                {
                    bad.push(format!(
                        "{} and {} both lead term {}",
                        self.node_name(a.id),
                        self.node_name(b.id),
                        a.term
                    ));
                }
            }
        }
        // In each shard, the leader of the highest term holds every entry
        // committed by any replica of a term at most its own.
        for shard in 0..self.shard_first.len() {
            let Some(l) = self
                .dbs
                .iter()
                .filter(|d| d.shard == shard && d.role == Role::Leader)
                .max_by_key(|d| d.term)
            else {
                continue;
            };
            for d in self.dbs.iter().filter(|d| d.shard == shard) {
                if d.term > l.term {
                    continue;
                }
                for i in 1..=d.commit.min(d.last_index()) {
                    if l.term_at(i) != d.term_at(i) {
                        bad.push(format!(
                            "{} committed entry {} (term {}) that leader {} lacks",
                            self.node_name(d.id),
                            i,
                            d.term_at(i),
                            self.node_name(l.id)
                        ));
                        break;
                    }
                }
            }
        }
        // Visible state never runs ahead of the log.
        for d in &self.dbs {
            if d.applied > d.last_index() {
                bad.push(format!(
                    "{} applied past the end of its log",
                    self.node_name(d.id)
                ));
            }
        }
        bad
    }

    /// Role, term and applied index of each replica, for tests and snapshots.
    pub fn replicas(&self) -> impl Iterator<Item = (&str, Role, u64, bool)> {
        self.dbs.iter().map(|d| {
            (
                self.node_name(d.id),
                d.role,
                d.term,
                self.status[d.id.idx()].up,
            )
        })
    }
}

#[derive(Clone, Copy, Debug)]
enum StepDown {
    HigherTerm,
    Fenced,
}
