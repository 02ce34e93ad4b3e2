//! The replicated database: a leader and followers kept in step by a Raft-style log — heartbeats, randomised election timeouts, terms, pre-votes and majority votes with an up-to-date-log check — with asynchronous or synchronous replication, read routing and fencing.

mod election;
pub(crate) mod group;
mod quorum;
mod replication;
mod serve;

use crate::context::Cx;
use crate::msg::{LogEntry, Msg, Snapshot, Timer};
use crate::node::NodeId;
use crate::request::{RequestId, Version};
use crate::time::{SimTime, ms_to_micros};

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
    /// The log after the snapshot: entries `log_start + 1 ..`.
    log: Vec<LogEntry>,
    /// Entries folded into the snapshot (the log's first `log_start`).
    log_start: u64,
    /// The terms of the snapshot's entries, as runs: (first index, term).
    /// Terms change only at elections, so this stays tiny.
    term_runs: Vec<(u64, u64)>,
    /// The keys' versions as of the snapshot (empty until the first one).
    snap_kv: Vec<Version>,
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
    /// As leader: for each member, the newest send time of a message of
    /// ours it is known to have accepted (the lease counts from these).
    last_ack: Vec<SimTime>,
    /// As candidate: when the election began, and for each member that
    /// voted for us, that time (voters stay loyal for an election timeout).
    election_started: SimTime,
    vote_anchor: Vec<SimTime>,
    /// As follower: the send time of the newest message from the leader.
    heard_sent_at: u64,
    pending: Vec<PendingAck>,
    busy_until: SimTime,
    /// As follower: when the latest flush of received entries starts and ends.
    flush_start: SimTime,
    flush_end: SimTime,
    /// As follower: a round of applying received entries is under way.
    applying: bool,
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
            log_start: 0,
            term_runs: Vec::new(),
            snap_kv: Vec::new(),
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
            election_started: SimTime::ZERO,
            vote_anchor: vec![SimTime::ZERO; n],
            heard_sent_at: 0,
            pending: Vec::new(),
            busy_until: SimTime::ZERO,
            flush_start: SimTime::ZERO,
            flush_end: SimTime::ZERO,
            applying: false,
            ops: 0,
        }
    }

    fn last_index(&self) -> u64 {
        self.log_start + self.log.len() as u64
    }

    fn last_term(&self) -> u64 {
        self.term_at(self.last_index())
    }

    /// The entry at `index`, if it is kept (not folded into the snapshot).
    fn entry(&self, index: u64) -> Option<&LogEntry> {
        let i = index.checked_sub(self.log_start + 1)?;
        self.log.get(i as usize)
    }

    /// The term of the entry at `index` (0 before the first or past the
    /// last), also for entries folded into the snapshot.
    fn term_at(&self, index: u64) -> u64 {
        if index == 0 || index > self.last_index() {
            0
        } else if index > self.log_start {
            self.log[(index - self.log_start - 1) as usize].term
        } else {
            let run = self.term_runs.partition_point(|&(first, _)| first <= index);
            self.term_runs
                .get(run.wrapping_sub(1))
                .map_or(0, |&(_, t)| t)
        }
    }

    /// The entries from `from` on (at most `max`), if they are all kept.
    fn entries_from(&self, from: u64, max: usize) -> Option<&[LogEntry]> {
        let start = from.checked_sub(self.log_start + 1)? as usize;
        let start = start.min(self.log.len());
        Some(&self.log[start..(start + max).min(self.log.len())])
    }

    /// Folds entries up to `upto` (committed and applied here) into the
    /// snapshot, keeping a margin for followers that are a little behind.
    /// Raft does the same so that its log does not grow for ever.
    fn compact(&mut self) {
        const KEEP: u64 = 4096;
        let point = self.commit.min(self.applied).saturating_sub(KEEP);
        if point < self.log_start + KEEP {
            return;
        }
        if self.snap_kv.is_empty() {
            self.snap_kv = vec![Version::default(); self.kv.len()];
        }
        for index in self.log_start + 1..=point {
            let e = self.log[(index - self.log_start - 1) as usize];
            if self.term_runs.last().is_none_or(|&(_, t)| t != e.term) {
                self.term_runs.push((index, e.term));
            }
            if let Some(slot) = self.snap_kv.get_mut(e.key as usize) {
                *slot = Version::new(e.term, index);
            }
        }
        self.log.drain(..(point - self.log_start) as usize);
        self.log_start = point;
    }

    /// How many entries are folded into the snapshot, and how many are kept.
    #[cfg(test)]
    pub(crate) fn log_kept(&self) -> (u64, usize) {
        (self.log_start, self.log.len())
    }

    /// Replaces everything up to `last_index` with a leader's snapshot;
    /// returns whether it had to.
    fn install(&mut self, s: &Snapshot) -> bool {
        if self.term_at(s.last_index) == s.last_term && s.last_index <= self.last_index() {
            // It already has every entry the snapshot covers.
            return false;
        }
        self.log.clear();
        self.log_start = s.last_index;
        self.term_runs = s.term_runs.clone();
        self.snap_kv = s.kv.clone();
        self.kv = s.kv.clone();
        self.applied = s.last_index;
        self.commit = s.last_index;
        true
    }

    fn majority(&self) -> usize {
        self.members.len() / 2 + 1
    }

    /// Makes entries up to `upto` visible to reads on this replica.
    fn apply_to(&mut self, upto: u64) {
        let upto = upto.min(self.last_index());
        while self.applied < upto {
            self.applied += 1;
            let Some(&e) = self.entry(self.applied) else {
                continue;
            };
            if let Some(slot) = self.kv.get_mut(e.key as usize) {
                *slot = Version::new(e.term, self.applied);
            }
        }
        self.compact();
    }

    /// Drops entries from `from` (1-based) on, rebuilding visible state if
    /// some of them had been applied. Only entries after the snapshot can
    /// go: a snapshot holds committed entries only.
    fn truncate(&mut self, from: u64) -> u64 {
        let from = from.max(self.log_start + 1);
        let removed = self.last_index().saturating_sub(from - 1);
        self.log.truncate((from - 1 - self.log_start) as usize);
        if self.applied >= from {
            if self.snap_kv.is_empty() {
                self.kv.iter_mut().for_each(|v| *v = Version::default());
            } else {
                self.kv.clone_from(&self.snap_kv);
            }
            let upto = from - 1;
            self.applied = self.log_start;
            self.apply_to(upto);
        }
        self.commit = self.commit.min(from - 1);
        removed
    }

    /// Whether this leader may still serve at `now` (fencing): a majority,
    /// itself included, accepted a message of ours sent less than `lease`
    /// ago. No other replica can win an election before a majority has
    /// been silent for an election timeout, so with `lease` at most the
    /// shortest timeout a leader that holds its lease is the only one.
    pub(crate) fn lease_holds(&self, now: SimTime, lease: u64) -> bool {
        let fresh = (0..self.members.len())
            .filter(|&i| i == self.me || now.since(self.last_ack[i]) < lease)
            .count();
        fresh >= self.majority()
    }

    /// Marks the group's first leader (term 1 at time zero), as if every
    /// replica had already voted for it.
    pub(crate) fn set_initial_leader(&mut self, leader: NodeId) {
        self.term = 1;
        self.leader = Some(leader);
    }
}

impl DbNode {
    fn disk(&mut self, cx: &mut Cx, us: u64) -> u64 {
        let work = cx.work(us);
        let now = cx.now;
        let d = &mut *self;
        let start = d.busy_until.max(now);
        d.busy_until = start.after(work);
        d.busy_until.since(now)
    }

    /// Makes received entries durable, returning how long until they are:
    /// entries that arrive while a flush is under way wait for the next
    /// one, and join it if it has not begun (group commit, as a replica's
    /// log writer does), so a follower keeps up however finely the leader
    /// ships its writes. Flushes share the disk with reads.
    fn flush(&mut self, cx: &mut Cx) -> u64 {
        let now = cx.now;
        if now < self.flush_start {
            return self.flush_end.since(now);
        }
        let work = cx.work(ms_to_micros(cx.scenario().db.write_ms));
        let start = now.max(self.flush_end).max(self.busy_until);
        self.flush_start = start;
        self.flush_end = start.after(work);
        self.busy_until = self.flush_end;
        self.flush_end.since(now)
    }

    /// Starts as a follower waiting for a leader (at time zero or on restart).
    pub(crate) fn boot(&mut self, cx: &mut Cx) {
        if cx.scenario().db.replication.leaderless() {
            // Leaderless: no elections, no heartbeats.
            self.role = Role::Follower;
            return;
        }
        let delay = election_delay(cx);
        let d = &mut *self;
        d.role = Role::Follower;
        d.leader = None;
        d.deadline = cx.now.after(delay);
        d.last_leader_contact = cx.now;
        cx.timer(delay, Timer::DbElection);
    }

    /// Forgets what was in memory; the log, term and vote survive.
    pub(crate) fn crash(&mut self) {
        let d = &mut *self;
        d.role = Role::Follower;
        d.leader = None;
        d.pending.clear();
        d.pre_voting = false;
        d.votes = 0;
        d.busy_until = SimTime::ZERO;
        d.flush_start = SimTime::ZERO;
        d.flush_end = SimTime::ZERO;
        d.applying = false;
    }

    /// Handles a message from `from`.
    pub(crate) fn on_msg(&mut self, cx: &mut Cx, from: NodeId, msg: Msg) {
        match msg {
            Msg::DbRead {
                req,
                key,
                attempt,
                need_leader,
                min_index,
            } => self.read(cx, from, req, key, attempt, need_leader, min_index),
            Msg::DbWrite { req, key, attempt } => self.write(cx, from, req, key, attempt),
            Msg::Append(a) => self.on_append(cx, from, *a),
            Msg::InstallSnapshot(snap) => self.on_snapshot(cx, from, &snap),
            Msg::QPut { req, key, version } => self.on_put(cx, from, req, key, version),
            Msg::MReplicate { key, version, prev } => {
                self.on_replicated(cx, from, key, version, prev)
            }
            Msg::QGet { req, key } => self.on_get(cx, from, req, key),
            Msg::AppendReply {
                sent_at,
                term,
                success,
                match_index,
                applied,
            } => self.on_append_reply(cx, from, sent_at, term, success, match_index, applied),
            Msg::Vote {
                term,
                last_index,
                last_term,
                pre,
            } => self.on_vote(cx, from, term, last_index, last_term, pre),
            Msg::VoteReply { term, granted, pre } => {
                self.on_vote_reply(cx, from, term, granted, pre)
            }
            // Nothing else is ever sent to a database replica; a message that arrives anyway
            // is counted as misrouted rather than dropped in silence.
            msg @ (Msg::DnsQuery { .. }
            | Msg::DnsAnswer { .. }
            | Msg::AuthQuery { .. }
            | Msg::AuthAnswer { .. }
            | Msg::Http { .. }
            | Msg::HttpReply { .. }
            | Msg::CacheGet { .. }
            | Msg::CacheValue { .. }
            | Msg::CacheSet { .. }
            | Msg::CacheDel { .. }
            | Msg::CacheWrite { .. }
            | Msg::CacheWriteAck { .. }
            | Msg::Enqueue { .. }
            | Msg::EnqueueAck { .. }
            | Msg::JobOffer { .. }
            | Msg::JobPull
            | Msg::QPutAck { .. }
            | Msg::QValue { .. }
            | Msg::JobDone { .. }
            | Msg::DbReply { .. }
            | Msg::Ping { .. }
            | Msg::Pong { .. }
            | Msg::LbAdvert { .. }) => cx.misrouted(&msg),
        }
    }
}

/// A random election timeout between the configured bounds.
fn election_delay(cx: &mut Cx) -> u64 {
    let (lo, hi) = (cx.cfg().election_min, cx.cfg().election_max);
    lo + cx.rng.election.below(hi - lo + 1)
}

/// Why a leader stepped down.
#[derive(Clone, Copy, Debug)]
enum StepDown {
    /// It saw a higher term.
    HigherTerm,
    /// It lost touch with a majority (fencing).
    Fenced,
}
