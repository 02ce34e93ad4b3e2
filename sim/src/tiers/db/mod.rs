//! The replicated database: a leader and followers kept in step by a Raft-style log — heartbeats, randomised election timeouts, terms, pre-votes and majority votes with an up-to-date-log check — with asynchronous or synchronous replication, read routing and fencing.

mod election;
pub(crate) mod group;
mod quorum;
mod replication;
mod serve;

use crate::context::Cx;
use crate::msg::{LogEntry, Msg, Timer};
use crate::node::NodeId;
use crate::request::{RequestId, Version};
use crate::time::SimTime;

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
            election_started: SimTime::ZERO,
            vote_anchor: vec![SimTime::ZERO; n],
            heard_sent_at: 0,
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
