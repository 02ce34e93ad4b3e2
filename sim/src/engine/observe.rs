//! The ground truth's side of the engine, which unlike any node sees the whole world: judging each answer when it reaches its user, settling write-back writes, counting lost writes, replication lag, the per-second metrics, and the views of requests in flight.

use super::driver::Simulation;
use crate::log::LogEvent;
use crate::metrics::{Bucket, Point, ratio};
use crate::msg::{Observation, Reply};
use crate::request::{Outcome, RequestId, RequestKind, Trace, Version};
use crate::scenario::Replication;
use crate::tiers::db::{Role, group};
use crate::time::{SEC, SimTime};
use crate::truth::{DirtyRead, HistoryOp, PendingWrite, ReadJudgement};

impl Simulation {
    /// Takes in a fact a tier reported.
    pub(crate) fn observe(&mut self, what: Observation) {
        match what {
            Observation::Answered { req, reply } => self.answered(req, reply),
            Observation::WriteBackSettled { req, key, version } => {
                if let Some((session, acked_at)) = self.truth.writeback_outcome(req, key, version) {
                    self.writeback_final(req, key, session, acked_at, version);
                }
                // Reads that returned its value from the cache meanwhile.
                for (read, r) in self.truth.dirty_write_settled(req, version) {
                    self.judge_dirty_read(read, r, version);
                }
            }
            Observation::Overwritten { key, version } => {
                if let Some((request, acked_at)) = self.truth.acked_stamps.remove(&(key, version.0))
                {
                    self.report_lost(request, key, version, acked_at);
                }
            }
        }
    }

    /// A request's answer reached its user: judge it, count it, keep its trace.
    fn answered(&mut self, id: RequestId, reply: Reply) {
        let now = self.now;
        let Some(r) = self.reqs.peek(id) else { return };
        let (kind, key, session, start) = (r.kind, r.key, r.session, r.start);
        let (expect, ryw, mono) = (r.expect, r.ryw, r.mono);
        let client = self.topo.clients[r.client_tier as usize];
        let stored = r.stored;
        let dirty_of = r.dirty_of;
        let mut outcome = match reply {
            Reply::Ok(_) => Outcome::Ok,
            Reply::Err(e) => Outcome::Failed(e),
        };
        let mut version = match reply {
            Reply::Ok(v) => v,
            Reply::Err(_) => None,
        };
        // A write-back cache answered with a value not yet in the database:
        // the read returned that write's value, whose version comes later.
        let mut dirty_waits = false;
        if let (RequestKind::Read, Some(w)) = (kind, dirty_of) {
            let waiting = matches!(reply, Reply::Ok(_)).then_some(DirtyRead {
                key,
                session,
                expect: (expect, ryw, mono),
                history: None,
            });
            if waiting.is_some() {
                version = None;
            }
            match self.truth.dirty_read_answered(id, w, waiting) {
                Some(Some(v)) => version = Some(v),
                Some(None) => self.rolled_back_dirty_read(id, key),
                None => dirty_waits = waiting.is_some(),
            }
        }
        let mut expected = None;
        let mut writeback_waits = false;
        match (kind, version) {
            (RequestKind::Read, Some(v)) => {
                let judged = self.judge_read_of(id, key, session, v, (expect, ryw, mono));
                if judged.stale {
                    outcome = Outcome::Stale;
                    expected = Some(expect);
                }
            }
            (RequestKind::Write, Some(v)) => {
                let replication = self.settings.scenario().db.replication;
                let multi = replication == Replication::MultiLeader;
                if replication.leaderless()
                    && (v < self.truth.newest_acked(key)
                        || (multi && self.truth.conflicts.contains(&(key, v.0))))
                {
                    // Last writer wins by timestamp: a write stamped older
                    // than one already confirmed, or already overwritten by
                    // a concurrent one, is confirmed, yet never seen (a
                    // skewed clock, or a concurrent write).
                    self.report_lost(id, key, v, now);
                } else if multi {
                    // Lost after all if a conflict overwrites it later.
                    self.truth.acked_stamps.insert((key, v.0), (id, now));
                }
                let durable = self.db_is_committed(v, key);
                self.truth.ack_write(id, key, session, v, now, durable);
            }
            (RequestKind::Write, None) if matches!(reply, Reply::Ok(_)) => {
                // Confirmed by a write-back cache: settled once the cache
                // has written it to the database, or lost it.
                match self.truth.writeback_acked(id, key, session, now) {
                    Some(fate) => {
                        self.writeback_final(id, key, session, now, fate);
                        version = fate;
                    }
                    None => writeback_waits = true,
                }
            }
            _ => {}
        }
        self.metrics.on_complete(kind, outcome, now.since(start));
        if kind != RequestKind::Static && self.truth.history.is_some() {
            // A write that may have been stored carries the version it got,
            // so a checker can match the reads that later return it.
            let version = match outcome {
                Outcome::Failed(e) if kind == RequestKind::Write && e.may_have_taken_effect() => {
                    stored
                }
                _ => version,
            };
            let line = self.truth.record(HistoryOp {
                request: id,
                session,
                op: kind,
                key,
                version,
                invoke_us: start.0,
                complete_us: now.0,
                outcome,
            });
            // Filled in once the write-back write has its version.
            if writeback_waits {
                self.truth.history_awaits_version(id, line);
            }
            if dirty_waits {
                self.truth.dirty_read_history(id, line);
            }
        }
        let cap = self.initial.trace_capacity as usize;
        if cap > 0
            && let Some(r) = self.reqs.get(id)
        {
            let hops = std::mem::take(&mut r.hops);
            if self.traces.len() >= cap {
                self.traces.pop_front();
            }
            self.traces.push_back(Trace {
                id,
                kind,
                key,
                session,
                client,
                start,
                end: now,
                outcome,
                version,
                expected,
                hops,
            });
        }
        self.reqs.close(now);
        self.reqs.forget_finished(now);
    }

    /// Judges a read that returned version `v` against what it must not go
    /// below (newest acknowledged, own last write, own newest read).
    fn judge_read_of(
        &mut self,
        id: RequestId,
        key: u32,
        session: u32,
        v: Version,
        (expect, ryw, mono): (Version, Version, Version),
    ) -> ReadJudgement {
        if v != Version::default() && !self.db_is_committed(v, key) {
            // It may yet be rolled back: settled when committed.
            self.truth.unsettled_reads.push(PendingWrite {
                request: id,
                key,
                version: v,
                acked_at: self.now,
            });
        }
        let judged = self.truth.judge_read(key, session, v, expect, ryw, mono);
        self.metrics.on_read(judged);
        judged
    }

    /// A read of a write-back value, answered earlier, whose write now has
    /// its version (or was lost with the cache).
    fn judge_dirty_read(&mut self, read: RequestId, r: DirtyRead, fate: Option<Version>) {
        match fate {
            Some(v) => {
                self.judge_read_of(read, r.key, r.session, v, r.expect);
                self.truth.fill_history(r.history, Some(v));
            }
            None => self.rolled_back_dirty_read(read, r.key),
        }
    }

    /// A read returned a write-back value that the cache lost before it
    /// reached the database: a value that, in the end, never existed.
    fn rolled_back_dirty_read(&mut self, read: RequestId, key: u32) {
        self.metrics.totals.rolled_back_reads += 1;
        self.log_event(LogEvent::RolledBackRead {
            request: read,
            key,
            version: Version::default(),
        });
    }

    /// A write-back write whose user was told and whose fate is known.
    fn writeback_final(
        &mut self,
        req: RequestId,
        key: u32,
        session: u32,
        acked_at: SimTime,
        version: Option<Version>,
    ) {
        let line = self.truth.history_line_of(req);
        self.truth.fill_history(line, version);
        match version {
            Some(v) => {
                let durable = self.db_is_committed(v, key);
                self.truth
                    .ack_write(req, key, session, v, acked_at, durable);
            }
            None => self.report_lost(req, key, Version::default(), acked_at),
        }
    }

    /// A write confirmed to its user at `acked_at` is gone for good.
    fn report_lost(&mut self, request: RequestId, key: u32, version: Version, acked_at: SimTime) {
        self.truth.lost.push(PendingWrite {
            request,
            key,
            version,
            acked_at,
        });
        self.metrics.bucket.lost_writes += 1;
        self.log_event(LogEvent::LostWrite {
            request,
            key,
            version,
            acked_at,
        });
    }

    // ----- the database seen whole ------------------------------------------

    /// Whether replica `d` is up.
    fn db_up(&self, d: &crate::tiers::db::DbNode) -> bool {
        self.status[d.id.idx()].up
    }

    /// The replica (tier index) a shard's truth is read from.
    pub(crate) fn db_authority(&self, shard: usize) -> Option<usize> {
        group::authority(&self.tiers.dbs, |d| self.db_up(d), shard)
    }

    /// Whether version `v` of `key` is committed on a majority by the
    /// current leader of the key's shard.
    pub(crate) fn db_is_committed(&self, v: Version, key: u32) -> bool {
        if self.settings.scenario().db.replication.leaderless() {
            // Stored on W replicas and never rolled back: only a newer
            // write replaces it.
            return true;
        }
        let shard = self.topo.shard_of(key);
        group::is_committed(&self.tiers.dbs, |d| self.db_up(d), shard, v)
    }

    /// Acknowledged writes that the database no longer holds: those already
    /// overwritten by a committed log, plus those their shard's authority
    /// lacks now.
    pub fn lost_writes(&self) -> u64 {
        let authorities: Vec<Option<usize>> = (0..self.topo.shards())
            .map(|s| self.db_authority(s))
            .collect();
        let missing = self
            .truth
            .pending
            .iter()
            .filter(|p| {
                authorities
                    .get(self.topo.shard_of(p.key))
                    .copied()
                    .flatten()
                    .is_some_and(|a| !group::holds(&self.tiers.dbs, a, p.version))
            })
            .count();
        (self.truth.lost.len() + missing) as u64
    }

    /// Replication lag of replica `t` behind its shard's authority, in
    /// microseconds.
    pub(crate) fn db_lag(&self, t: usize) -> Option<u64> {
        let a = self.db_authority(self.tiers.dbs[t].shard)?;
        group::lag(&self.tiers.dbs, a, t, self.now)
    }

    /// Checks the safety properties of every replica group; returns what is
    /// violated, in words (empty when all hold).
    pub fn check_invariants(&self) -> Vec<String> {
        group::check_invariants(&self.tiers.dbs, self.topo.shards(), |d| {
            self.node_name(d.id).to_string()
        })
    }

    /// The cheap safety checks of every replica group (one leader per term,
    /// nothing applied past the log, every replica's last committed entry
    /// held by the newest leader), cheap enough to run after every event.
    pub fn check_invariants_quick(&self) -> Result<(), String> {
        group::check_quick(&self.tiers.dbs, self.topo.shards())
    }

    /// Whether every replica of each shard holds the same log and keys.
    pub fn replicas_converged(&self) -> Result<(), String> {
        group::converged(&self.tiers.dbs, self.topo.shards(), |d| {
            self.node_name(d.id).to_string()
        })
    }

    /// Name, role, term and whether it is up, of each replica.
    pub fn replicas(&self) -> impl Iterator<Item = (&str, Role, u64, bool)> {
        self.tiers
            .dbs
            .iter()
            .map(|d| (self.node_name(d.id), d.role, d.term, self.db_up(d)))
    }

    // ----- metrics and requests in flight ------------------------------------

    /// Jobs waiting in the order queue or out with workers, if there is a queue.
    pub fn queue_backlog(&self) -> Option<usize> {
        self.tiers.queues.first().map(|q| q.backlog())
    }

    /// Closes the current second of metrics.
    pub(crate) fn metrics_tick(&mut self) {
        let lag_ms: Vec<Option<f64>> = (0..self.tiers.dbs.len())
            .map(|t| {
                if self.db_up(&self.tiers.dbs[t]) {
                    self.db_lag(t).map(|us| us as f64 / 1000.0)
                } else {
                    None
                }
            })
            .collect();
        let b = std::mem::replace(&mut self.metrics.bucket, Bucket::new());
        let q = |x: f64| {
            if b.latency.is_empty() {
                0.0
            } else {
                b.latency.value_at_quantile(x) as f64 / 1000.0
            }
        };
        let point = Point {
            t_s: (self.now.0 / SEC) as u32,
            requests: b.requests,
            ok: b.ok,
            errors: b.failed,
            stale: b.stale,
            p50_ms: q(0.5),
            p95_ms: q(0.95),
            p99_ms: q(0.99),
            cdn_hit_ratio: ratio(b.cdn_hits, b.cdn_misses),
            cache_hit_ratio: ratio(b.cache_hits, b.cache_misses),
            db_ops: b.db_ops,
            lost_writes: b.lost_writes,
            sessions_lost: b.sessions_lost,
            backlog: self.queue_backlog().map(|b| b as u64),
            lag_ms,
        };
        self.metrics.push_point(point);
        self.truth.forget_old(self.now);
    }

    /// Requests still in flight (sent, no answer or timeout yet).
    pub fn in_flight(&self) -> usize {
        self.reqs.in_flight() as usize
    }

    /// The trace of a request: the finished one if it is still kept, or the
    /// story so far of one still in flight (its end is now, its outcome
    /// undecided and shown as `Ok` until it finishes).
    pub fn request_trace(&self, id: RequestId) -> Option<Trace> {
        if let Some(t) = self.trace(id) {
            return Some(t.clone());
        }
        let r = self.reqs.peek(id)?;
        if r.done {
            return None;
        }
        Some(Trace {
            id,
            kind: r.kind,
            key: r.key,
            session: r.session,
            client: self.topo.clients[r.client_tier as usize],
            start: r.start,
            end: self.now,
            outcome: Outcome::Ok,
            version: None,
            expected: None,
            hops: r.hops.clone(),
        })
    }

    /// Whether a request is still in flight.
    pub fn is_in_flight(&self, id: RequestId) -> bool {
        self.reqs.peek(id).is_some_and(|r| !r.done)
    }
}
