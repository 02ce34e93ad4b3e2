//! The ground truth: every acknowledged write and what each session has seen, used to judge stale reads, read-your-writes and monotonic-read violations, and lost writes.

use crate::request::{Outcome, RequestId, RequestKind, Version};
use crate::scenario::Scenario;
use crate::time::SimTime;
use serde::Serialize;
use std::collections::BTreeMap;

/// What one session has done, per key: (its last acknowledged write, the
/// newest version it read).
#[derive(Clone, Debug)]
pub(crate) enum SessionTruth {
    /// A slot for every key, made at the start: small key spaces, so that
    /// memory does not grow as sessions touch more keys over the hours.
    Dense(Vec<(Version, Version)>),
    /// Only the keys the session touched: large key spaces.
    Sparse(BTreeMap<u32, (Version, Version)>),
}

/// Most (session, key) slots kept densely: 16 MB.
const DENSE_SLOTS: usize = 1 << 20;

impl SessionTruth {
    fn get(&self, key: u32) -> (Version, Version) {
        match self {
            SessionTruth::Dense(v) => v.get(key as usize).copied().unwrap_or_default(),
            SessionTruth::Sparse(m) => m.get(&key).copied().unwrap_or_default(),
        }
    }

    fn slot(&mut self, key: u32) -> &mut (Version, Version) {
        match self {
            SessionTruth::Dense(v) => {
                let k = key as usize;
                if k >= v.len() {
                    v.resize(k + 1, Default::default());
                }
                &mut v[k]
            }
            SessionTruth::Sparse(m) => m.entry(key).or_default(),
        }
    }
}

/// An acknowledged write not yet known to be safe on a majority (or a
/// read of a version not yet committed).
#[derive(Clone, Copy, Debug)]
pub(crate) struct PendingWrite {
    pub request: RequestId,
    pub key: u32,
    pub version: Version,
    pub acked_at: SimTime,
}

/// The verdict on one read.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadJudgement {
    /// Older than a version acknowledged to anyone before the read began.
    pub stale: bool,
    /// Older than the session's own last acknowledged write.
    pub read_your_writes: bool,
    /// Older than a version the session had already read.
    pub monotonic: bool,
}

/// One read or write, as exported for external consistency checkers.
#[derive(Clone, Debug, Serialize)]
pub struct HistoryOp {
    /// The request (not exported: checkers match operations by value).
    #[serde(skip)]
    pub request: RequestId,
    /// Session (user) number.
    pub session: u32,
    /// `read` or `write`.
    #[serde(serialize_with = "op_name")]
    pub op: RequestKind,
    /// The key.
    pub key: u32,
    /// Version read or written (absent when it failed).
    #[serde(serialize_with = "version_num")]
    pub version: Option<Version>,
    /// When the user sent it (µs).
    pub invoke_us: u64,
    /// When the user got the answer (µs).
    pub complete_us: u64,
    /// `ok`, `fail` (definitely not done) or `timeout` (unknown).
    #[serde(serialize_with = "outcome_name")]
    pub outcome: Outcome,
}

fn op_name<S: serde::Serializer>(k: &RequestKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(k.label())
}

fn version_num<S: serde::Serializer>(v: &Option<Version>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_u64(v.0),
        None => s.serialize_none(),
    }
}

fn outcome_name<S: serde::Serializer>(o: &Outcome, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match o {
        Outcome::Ok | Outcome::Stale => "ok",
        Outcome::Failed(e) if e.may_have_taken_effect() => "timeout",
        Outcome::Failed(_) => "fail",
    })
}

/// Everything the simulator knows that no node does.
#[derive(Clone, Debug)]
pub(crate) struct Truth {
    max_acked: Vec<Version>,
    sessions: Vec<SessionTruth>,
    pub pending: Vec<PendingWrite>,
    pub lost: Vec<PendingWrite>,
    pub history: Option<Vec<HistoryOp>>,
    pub acked: u64,
    /// Which server holds each session's state (local session store).
    pub session_home: Vec<Option<crate::node::NodeId>>,
    /// Write-back writes whose confirmation or fate is still unknown.
    writeback: BTreeMap<u64, WriteBack>,
    /// Multi-leader: (key, overwritten version) of every conflict found.
    pub conflicts: std::collections::BTreeSet<(u32, u64)>,
    /// Multi-leader: writes confirmed to a user and not (yet) overwritten,
    /// by (key, version): the request and when it was confirmed. A conflict
    /// that overwrites one later makes it a lost write.
    pub acked_stamps: BTreeMap<(u32, u64), (RequestId, SimTime)>,
    /// How many times each step of each order job has been done (payment,
    /// inventory, email): more than once is a duplicate the world sees.
    /// Kept until a minute after the queue saw the job done.
    pub job_effects: BTreeMap<u64, JobEffects>,
    /// Reads that returned a version not yet committed: settled when the
    /// leader's commit index passes it (kept, or rolled back).
    pub unsettled_reads: Vec<PendingWrite>,
    /// While the history is recorded: when each leader served reads and
    /// writes, by (shard, term).
    pub leader_spans: Option<BTreeMap<(u32, u64), LeaderSpan>>,
    /// Write-back: reads a cache answered with a value not yet in the
    /// database, by the write whose value it was.
    dirty_reads: BTreeMap<u64, Vec<u64>>,
    /// Reads of such a value whose write's fate was known before the read's
    /// answer reached its user.
    dirty_resolved: BTreeMap<u64, Option<Version>>,
    /// Reads of such a value answered before their write's fate was known.
    dirty_waiting: BTreeMap<u64, DirtyRead>,
    /// Write-back writes answered before they had a version: where their
    /// line in the history is, to fill it in.
    history_waiting: BTreeMap<u64, usize>,
}

/// A read that returned a write-back value not yet in the database,
/// waiting to be judged once that write has its version (or is lost).
#[derive(Clone, Copy, Debug)]
pub(crate) struct DirtyRead {
    pub key: u32,
    pub session: u32,
    /// What the read must not go below: newest acknowledged, the session's
    /// own last write, the session's newest read (as when it began).
    pub expect: (Version, Version, Version),
    /// Its line in the history, if recorded.
    pub history: Option<usize>,
}

/// What the world has seen of one order job.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct JobEffects {
    /// Times each step was done.
    pub steps: [u32; 3],
    /// When the queue took the job's report of being done.
    pub done_at: Option<SimTime>,
}

/// How long the truth keeps what it knows of a finished job or a
/// conflict: long enough for any straggling duplicate to show up.
const FORGET_AFTER: u64 = 60 * crate::time::SEC;

/// When one leader (of one shard, in one term) served reads and writes:
/// from its first to its last. With fencing, two leaders of a shard never
/// serve at overlapping times.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct LeaderSpan {
    /// The shard.
    pub shard: u32,
    /// The leader's term.
    pub term: u64,
    /// The leader.
    pub node: crate::node::NodeId,
    /// When it first served.
    pub first: SimTime,
    /// When it last served.
    pub last: SimTime,
}

/// What is known of one write-back write.
#[derive(Clone, Copy, Debug, Default)]
struct WriteBack {
    /// Its user was told it succeeded: (key, session, when).
    acked: Option<(u32, u32, SimTime)>,
    /// It reached the database (with this version) or was lost (`None`).
    fate: Option<Option<Version>>,
}

impl Truth {
    pub fn new(sc: &Scenario) -> Truth {
        let sessions = sc.workload.sessions_per_region as usize * sc.network.regions.len();
        Truth {
            max_acked: vec![Version::default(); sc.workload.keys as usize],
            sessions: {
                let keys = sc.workload.keys as usize;
                let one = if sessions.saturating_mul(keys) <= DENSE_SLOTS {
                    SessionTruth::Dense(vec![Default::default(); keys])
                } else {
                    SessionTruth::Sparse(BTreeMap::new())
                };
                vec![one; sessions]
            },
            pending: Vec::new(),
            lost: Vec::new(),
            history: None,
            acked: 0,
            session_home: vec![None; sessions],
            writeback: BTreeMap::new(),
            conflicts: std::collections::BTreeSet::new(),
            acked_stamps: BTreeMap::new(),
            job_effects: BTreeMap::new(),
            leader_spans: None,
            unsettled_reads: Vec::new(),
            dirty_reads: BTreeMap::new(),
            dirty_resolved: BTreeMap::new(),
            dirty_waiting: BTreeMap::new(),
            history_waiting: BTreeMap::new(),
        }
    }

    /// The newest version of `key` acknowledged to anyone so far.
    pub fn newest_acked(&self, key: u32) -> Version {
        self.max_acked
            .get(key as usize)
            .copied()
            .unwrap_or_default()
    }

    /// What a read of `key` by `session` starting now must not go below:
    /// (newest acknowledged, the session's last write, the session's newest read).
    pub fn expectations(&self, key: u32, session: u32) -> (Version, Version, Version) {
        let k = key as usize;
        let (wrote, read) = self.sessions[session as usize].get(key);
        (
            self.max_acked.get(k).copied().unwrap_or_default(),
            wrote,
            read,
        )
    }

    /// Judges a read that returned `v`, and remembers it for the session.
    pub fn judge_read(
        &mut self,
        key: u32,
        session: u32,
        v: Version,
        expect: Version,
        ryw: Version,
        mono: Version,
    ) -> ReadJudgement {
        let (_, seen) = self.sessions[session as usize].slot(key);
        if v > *seen {
            *seen = v;
        }
        ReadJudgement {
            stale: v < expect,
            read_your_writes: v < ryw,
            monotonic: v < mono,
        }
    }

    /// A write of `key` at `v` was acknowledged to `session` at `at`.
    /// `durable` says whether it is already committed on a majority.
    pub fn ack_write(
        &mut self,
        request: RequestId,
        key: u32,
        session: u32,
        v: Version,
        at: SimTime,
        durable: bool,
    ) {
        self.acked += 1;
        if let Some(m) = self.max_acked.get_mut(key as usize)
            && v > *m
        {
            *m = v;
        }
        let (w, _) = self.sessions[session as usize].slot(key);
        if v > *w {
            *w = v;
        }
        if !durable {
            self.pending.push(PendingWrite {
                request,
                key,
                version: v,
                acked_at: at,
            });
        }
    }

    /// A write-back write's user was told it succeeded. Returns its fate if
    /// already known (then it is settled).
    pub fn writeback_acked(
        &mut self,
        req: RequestId,
        key: u32,
        session: u32,
        at: SimTime,
    ) -> Option<Option<Version>> {
        let e = self.writeback.entry(req.0).or_default();
        e.acked = Some((key, session, at));
        let fate = e.fate?;
        self.writeback.remove(&req.0);
        Some(fate)
    }

    /// A write-back write's fate is known. Returns (session, acked at) if
    /// its user was already told (then it is settled).
    pub fn writeback_outcome(
        &mut self,
        req: RequestId,
        _key: u32,
        version: Option<Version>,
    ) -> Option<(u32, SimTime)> {
        let e = self.writeback.entry(req.0).or_default();
        e.fate = Some(version);
        let (_, session, at) = e.acked?;
        self.writeback.remove(&req.0);
        Some((session, at))
    }

    /// Notes that `node`, leader of `shard` in `term`, served at `now`
    /// (only while the history is recorded).
    pub fn leader_served(
        &mut self,
        shard: u32,
        term: u64,
        node: crate::node::NodeId,
        now: SimTime,
    ) {
        if let Some(spans) = &mut self.leader_spans {
            spans
                .entry((shard, term))
                .and_modify(|s| s.last = now)
                .or_insert(LeaderSpan {
                    shard,
                    term,
                    node,
                    first: now,
                    last: now,
                });
        }
    }

    /// Forgets finished jobs and old conflicts that can no longer matter,
    /// so that memory does not grow with simulated time.
    pub fn forget_old(&mut self, now: SimTime) {
        self.job_effects
            .retain(|_, j| j.done_at.is_none_or(|t| now.since(t) < FORGET_AFTER));
        // Conflicts are keyed by the overwritten version, stamped with the
        // time it was written.
        self.conflicts
            .retain(|&(_, v)| now.0.saturating_sub(Version(v).stamp_us()) < FORGET_AFTER);
        self.acked_stamps
            .retain(|&(_, v), _| now.0.saturating_sub(Version(v).stamp_us()) < FORGET_AFTER);
    }

    /// Adds a line to the history (if recorded); returns where it is.
    pub fn record(&mut self, op: HistoryOp) -> Option<usize> {
        let h = self.history.as_mut()?;
        h.push(op);
        Some(h.len() - 1)
    }

    /// Fills in the version of a history line written before it was known.
    pub fn fill_history(&mut self, line: Option<usize>, version: Option<Version>) {
        if let (Some(h), Some(i)) = (&mut self.history, line)
            && let Some(op) = h.get_mut(i)
        {
            op.version = version;
        }
    }

    /// Write-back: a cache answered `read` with the value of `write`, not
    /// yet in the database.
    pub fn dirty_read_served(&mut self, read: RequestId, write: RequestId) {
        self.dirty_reads.entry(write.0).or_default().push(read.0);
    }

    /// Write-back: `read`'s answer reached its user. Returns the fate of the
    /// write whose value it returned, if already known; otherwise the read
    /// waits (`waiting`) to be judged when it is. A failed read waits for
    /// nothing (pass `None`).
    pub fn dirty_read_answered(
        &mut self,
        read: RequestId,
        write: RequestId,
        waiting: Option<DirtyRead>,
    ) -> Option<Option<Version>> {
        if let Some(fate) = self.dirty_resolved.remove(&read.0) {
            return waiting.map(|_| fate);
        }
        match waiting {
            Some(w) => {
                self.dirty_waiting.insert(read.0, w);
            }
            None => {
                if let Some(reads) = self.dirty_reads.get_mut(&write.0) {
                    reads.retain(|&r| r != read.0);
                }
            }
        }
        None
    }

    /// Write-back: where the history line of a read waiting for its
    /// write's version is.
    pub fn dirty_read_history(&mut self, read: RequestId, line: Option<usize>) {
        if let Some(w) = self.dirty_waiting.get_mut(&read.0) {
            w.history = line;
        }
    }

    /// Write-back: `write` reached the database with `fate` (or was lost).
    /// Returns the reads of its value already answered, to judge now.
    pub fn dirty_write_settled(
        &mut self,
        write: RequestId,
        fate: Option<Version>,
    ) -> Vec<(RequestId, DirtyRead)> {
        let mut now = Vec::new();
        for read in self.dirty_reads.remove(&write.0).unwrap_or_default() {
            match self.dirty_waiting.remove(&read) {
                Some(w) => now.push((RequestId(read), w)),
                None => {
                    self.dirty_resolved.insert(read, fate);
                }
            }
        }
        now
    }

    /// Write-back: the history line of `write`, answered before it had a
    /// version.
    pub fn history_awaits_version(&mut self, write: RequestId, line: Option<usize>) {
        if let Some(line) = line {
            self.history_waiting.insert(write.0, line);
        }
    }

    /// Write-back: where `write`'s history line waits for its version.
    pub fn history_line_of(&mut self, write: RequestId) -> Option<usize> {
        self.history_waiting.remove(&write.0)
    }
}
