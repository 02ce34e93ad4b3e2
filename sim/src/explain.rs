//! "Why?": the story of one anomalous request (a stale read, a read-your-writes or monotonic-read violation, a lost write, a rolled-back read or an error), told as numbered facts that were recorded by replaying the run deterministically, each with the moment it happened.

use crate::engine::Simulation;
use crate::log::LogEvent;
use crate::node::{NodeId, NodeKind};
use crate::request::{ErrorKind, HopNote, Outcome, RequestId, RequestKind, Trace, Version};
use crate::scenario::Replication;
use crate::tiers::db::Role;
use crate::time::{MS, SimTime};
use crate::timeline::Applied;
use serde::Serialize;
use std::collections::BTreeMap;

/// What went wrong with the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Anomaly {
    /// Older than a write acknowledged before the read began.
    StaleRead,
    /// Older than the session's own last acknowledged write.
    ReadYourWrites,
    /// Older than a version the session had already read.
    MonotonicRead,
    /// Acknowledged, then gone.
    LostWrite,
    /// Returned a version that a failover later threw away.
    RolledBackRead,
    /// Failed or timed out.
    Error,
}

impl Anomaly {
    /// Words for a heading.
    pub fn title(self) -> &'static str {
        match self {
            Anomaly::StaleRead => "stale read",
            Anomaly::ReadYourWrites => "read-your-writes violation",
            Anomaly::MonotonicRead => "monotonic-read violation",
            Anomaly::LostWrite => "lost write",
            Anomaly::RolledBackRead => "rolled-back read",
            Anomaly::Error => "error",
        }
    }
}

/// One recorded fact of the story, with the data it states (for tests and
/// lessons) and the same in words.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Fact {
    /// When it happened (µs of simulated time).
    #[serde(rename = "at_us")]
    pub at: SimTime,
    /// What, as data.
    #[serde(flatten)]
    pub what: What,
    /// The same, in a sentence.
    pub text: String,
}

/// The data of a fact.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "fact", rename_all = "kebab-case")]
pub enum What {
    /// The request itself: asked, answered.
    Asked {
        kind: RequestKind,
        key: u32,
        session: u32,
    },
    /// The answer and the version it carried.
    Answered {
        outcome: String,
        version: Option<u64>,
    },
    /// The newer version the read should have seen, and the write behind it
    /// (when the replay saw it being acknowledged).
    Missed {
        version: u64,
        write: Option<RequestId>,
        acked: Option<SimTime>,
        own: bool,
    },
    /// A version the session had already read.
    ReadBefore {
        version: u64,
        read: Option<RequestId>,
    },
    /// A database replica served the read.
    ServedByReplica {
        node: String,
        role: String,
        /// The version of the key it held.
        held: u64,
        /// How far it was behind its leader, in ms.
        lag_ms: f64,
        /// Whether the version it held was on a majority yet.
        committed: bool,
        replication: String,
        read_from: String,
    },
    /// The cache answered from an entry.
    ServedByCache {
        node: String,
        held: u64,
        filled: SimTime,
        write_policy: String,
    },
    /// A write was acknowledged.
    Acknowledged {
        leader: Option<String>,
        term: u64,
        replication: String,
        waited_for: String,
    },
    /// A fault, or a command, that came next.
    Fault { node: Option<String>, line: String },
    /// Why a cache entry outlived the write the read missed.
    Kept { node: String },
    /// A leader was elected.
    Elected { node: String, term: u64 },
    /// Entries were discarded, or the write was found gone.
    Discarded { node: Option<String> },
    /// Multi-leader: a concurrent write won.
    Overwritten { node: String, by: u64 },
    /// The hop where it failed.
    Failed { node: String, error: String },
}

/// The story of one request.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explanation {
    /// The request.
    pub request: RequestId,
    /// What went wrong.
    pub anomaly: Anomaly,
    /// The facts, in the order they happened.
    pub facts: Vec<Fact>,
}

impl Explanation {
    /// The story as numbered lines, each with its time.
    pub fn to_text(&self) -> String {
        let mut s = format!("request {} — {}\n", self.request.0, self.anomaly.title());
        for (i, f) in self.facts.iter().enumerate() {
            s.push_str(&format!(
                "{:>2}. [{:>9.3} s] {}\n",
                i + 1,
                f.at.as_secs_f64(),
                f.text
            ));
        }
        s
    }
}

/// Why a request cannot be explained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotExplained {
    /// It started before the saved state the replay began from.
    TooOld,
    /// It had not finished (or did not exist) by the limit.
    NotFinished,
    /// It finished without an anomaly.
    Fine,
}

impl std::fmt::Display for NotExplained {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NotExplained::TooOld => "the request started before the replay's starting point",
            NotExplained::NotFinished => "the request did not finish within the run",
            NotExplained::Fine => "the request finished without an anomaly: nothing to explain",
        })
    }
}

/// Finds out, by replaying from `from` (a saved state from before the
/// request started) up to `limit`, what happened to `request` and why.
pub fn explain(
    from: &Simulation,
    request: RequestId,
    limit: SimTime,
) -> Result<Explanation, NotExplained> {
    let (_, told) = replay_request(from, request, limit)?;
    told
}

/// Like [`explain`], and also gives the request's trace (rebuilt by the
/// replay, for requests whose trace the run no longer keeps). Fails only
/// when the request cannot be found between `from` and `limit`.
#[allow(clippy::type_complexity)]
pub fn replay_request(
    from: &Simulation,
    request: RequestId,
    limit: SimTime,
) -> Result<(Trace, Result<Explanation, NotExplained>), NotExplained> {
    replay_request_knowing(from, request, limit, None, &[])
}

/// Plays `sim` on to `t`, applying on the way the commands of `commands`
/// (applied by hand in the run) in their exact places: a replay from a
/// saved state carries the scenario's own script, not those.
fn play(sim: &mut Simulation, commands: &[Applied], t: SimTime) {
    for c in commands.iter().filter(|c| c.at <= t) {
        if (c.at, c.events) < (sim.now(), sim.events()) {
            continue;
        }
        sim.step_until_bounded(c.at, c.events.saturating_sub(sim.events()));
        if (sim.now(), sim.events()) == (c.at, c.events) {
            // It was applied at this very place in the run.
            let _ = sim.apply(&c.command);
        }
    }
    sim.step_until(t);
}

/// Like [`replay_request`], given `known`: the same run already played to
/// `limit`. Its event log tells whether the request was later lost or
/// rolled back, so the replay stops at that verdict (or at the request's
/// end when there is none) instead of going on to `limit`.
#[allow(clippy::type_complexity)]
pub fn replay_request_knowing(
    from: &Simulation,
    request: RequestId,
    limit: SimTime,
    known: Option<&Simulation>,
    commands: &[Applied],
) -> Result<(Trace, Result<Explanation, NotExplained>), NotExplained> {
    if request.0 < from.reqs.next_id().0 {
        return Err(NotExplained::TooOld);
    }
    // First pass: watch the request start and finish; keep the history.
    let mut sim = from.clone();
    sim.record_history();
    let log_base = sim.log.dropped() + sim.log.entries().len() as u64;
    let step = 20 * MS;
    let expect = loop {
        if let Some(r) = sim.reqs.peek(request) {
            break (r.expect, r.ryw, r.mono);
        }
        if sim.now() >= limit || sim.reqs.next_id().0 > request.0 {
            return Err(NotExplained::NotFinished);
        }
        let next = sim.now().after(step).min(limit);
        play(&mut sim, commands, next);
    };
    let trace = loop {
        if let Some(t) = sim.trace(request)
            && !sim.is_in_flight(request)
        {
            break t.clone();
        }
        if sim.now() >= limit {
            return Err(NotExplained::NotFinished);
        }
        let next = sim.now().after(step).min(limit);
        play(&mut sim, commands, next);
    };
    // The known run's log counts only if it still holds every line since
    // `from` (it lets its oldest lines go after 100,000).
    let verdicts = known
        .filter(|k| k.now() >= limit && k.log_dropped() <= log_base)
        .map(|k| k.log());
    let mut story = Story {
        from,
        commands,
        sim: &mut sim,
        trace: &trace,
        facts: Vec::new(),
        log_base,
        verdicts,
    };
    story.begin();
    let anomaly = match (trace.kind, trace.outcome) {
        (_, Outcome::Failed(e)) => Ok(story.error(e)),
        (RequestKind::Read, _) => story.read(expect, limit),
        (RequestKind::Write, Outcome::Ok) => story.write(limit),
        _ => Err(NotExplained::Fine),
    };
    let mut facts = story.facts;
    facts.sort_by_key(|f| f.at);
    let told = anomaly.map(|anomaly| Explanation {
        request,
        anomaly,
        facts,
    });
    Ok((trace, told))
}

struct Story<'a> {
    from: &'a Simulation,
    /// Commands applied by hand in the run, replayed in their places.
    commands: &'a [Applied],
    sim: &'a mut Simulation,
    trace: &'a Trace,
    facts: Vec<Fact>,
    /// Position (counting dropped lines) of the first log line of the replay.
    log_base: u64,
    /// The whole run's log up to the limit, when known: where to look for
    /// a verdict without replaying that far.
    verdicts: Option<&'a [crate::log::LogEntry]>,
}

impl Story<'_> {
    fn fact(&mut self, at: SimTime, what: What, text: String) {
        self.facts.push(Fact { at, what, text });
    }

    fn name(&self, n: NodeId) -> String {
        self.sim.node_name(n).to_string()
    }

    fn begin(&mut self) {
        let t = self.trace;
        let what = match t.kind {
            RequestKind::Read => format!("a read of key {}", t.key),
            RequestKind::Write => format!("a write of key {}", t.key),
            RequestKind::Static => format!("a request for asset {}", t.key),
        };
        self.fact(
            t.start,
            What::Asked {
                kind: t.kind,
                key: t.key,
                session: t.session,
            },
            format!("user session {} sent {what}", t.session),
        );
        let (outcome, text) = match t.outcome {
            Outcome::Ok if t.kind == RequestKind::Write => {
                ("ok", "the acknowledgement came back".to_string())
            }
            Outcome::Ok => ("ok", "the answer came back".to_string()),
            Outcome::Stale => ("stale", "the answer came back, but old".to_string()),
            Outcome::Failed(e) => ("failed", format!("it failed: {}", e.label())),
        };
        let version = t.version.map(|v| v.0);
        let text = match t.version {
            Some(v) => format!("{text}, with version {}", v),
            None => text,
        };
        self.fact(
            t.end,
            What::Answered {
                outcome: outcome.into(),
                version,
            },
            text,
        );
    }

    /// Log lines of the replay, with their times.
    fn log_lines(&self) -> impl Iterator<Item = &crate::log::LogEntry> {
        let skip = self.log_base.saturating_sub(self.sim.log.dropped()) as usize;
        self.sim.log.entries().iter().skip(skip)
    }

    fn replication(&self) -> Replication {
        self.sim.settings.scenario().db.replication
    }

    fn read(
        &mut self,
        (expect, ryw, mono): (Version, Version, Version),
        limit: SimTime,
    ) -> Result<Anomaly, NotExplained> {
        let got = self.trace.version.unwrap_or_default();
        // A read that a failover later discarded: wait for the verdict.
        if let Some(at) = self.find_line(
            limit,
            |e| matches!(e, LogEvent::RolledBackRead { request, .. } if *request == self.trace.id),
        ) {
            self.served_where();
            self.failover_after(self.trace.end, at, got);
            return Ok(Anomaly::RolledBackRead);
        }
        let anomaly = if got < ryw {
            Anomaly::ReadYourWrites
        } else if got < expect {
            Anomaly::StaleRead
        } else if got < mono {
            Anomaly::MonotonicRead
        } else {
            return Err(NotExplained::Fine);
        };
        if got < mono {
            let read = self.find_op(RequestKind::Read, mono, Some(self.trace.session));
            let at = read.map_or(self.from.now(), |(_, at)| at);
            self.fact(
                at,
                What::ReadBefore {
                    version: mono.0,
                    read: read.map(|(r, _)| r),
                },
                format!(
                    "the same session had already read version {}{}",
                    mono,
                    read.map_or(" before the replay began".into(), |(r, _)| format!(
                        " (request {})",
                        r.0
                    ))
                ),
            );
        }
        if anomaly != Anomaly::MonotonicRead {
            let own = anomaly == Anomaly::ReadYourWrites;
            let version = if own { ryw } else { expect };
            let write = self.find_op(
                RequestKind::Write,
                version,
                own.then_some(self.trace.session),
            );
            let whose = if own {
                "the session's own write"
            } else {
                "a write"
            };
            let text = match write {
                Some((r, _)) => format!(
                    "{whose} (request {}) of version {} was acknowledged before this read began",
                    r.0, version
                ),
                None => format!(
                    "{whose} of version {} had been acknowledged before the replay began",
                    version
                ),
            };
            self.fact(
                write.map_or(self.from.now(), |(_, at)| at),
                What::Missed {
                    version: version.0,
                    write: write.map(|(r, _)| r),
                    acked: write.map(|(_, at)| at),
                    own,
                },
                text,
            );
        }
        let missed = self.facts.iter().find_map(|f| match f.what {
            What::Missed { write: Some(w), .. } => Some(w),
            _ => None,
        });
        let lost = missed.and_then(|w| {
            let is_it = |l: &&crate::log::LogEntry| {
                matches!(l.event, LogEvent::LostWrite { request, .. } if request == w)
            };
            match self.verdicts {
                Some(log) => log.iter().find(is_it),
                None => self.log_lines().find(is_it),
            }
            .map(|l| (w, l.at))
        });
        if let Some((w, at)) = lost {
            self.fact(
                at,
                What::Discarded { node: None },
                format!(
                    "that write (request {}) was then lost in a failover, so no replica has it",
                    w.0
                ),
            );
        }
        self.served_where();
        Ok(anomaly)
    }

    /// The write (or read) of `version` among the replay's history: its
    /// request and when it was answered.
    fn find_op(
        &self,
        kind: RequestKind,
        version: Version,
        session: Option<u32>,
    ) -> Option<(RequestId, SimTime)> {
        self.sim
            .history()
            .iter()
            .filter(|h| {
                h.op == kind
                    && h.key == self.trace.key
                    && h.version == Some(version)
                    && h.complete_us <= self.trace.end.0
                    && session.is_none_or(|s| s == h.session)
            })
            .map(|h| (h.request, SimTime(h.complete_us)))
            .next_back()
    }

    /// Where the read was answered from, and why that place was behind: the
    /// state of that replica or cache entry at that moment.
    fn served_where(&mut self) {
        let hop = self
            .trace
            .hops
            .iter()
            .rev()
            .find(|h| matches!(h.note, HopNote::DbRead | HopNote::CacheHit));
        let Some(hop) = hop.cloned() else { return };
        let mut probe = self.from.clone();
        play(&mut probe, self.commands, hop.start);
        let info = &probe.topo.nodes[hop.node.idx()];
        let t = info.tier_idx as usize;
        let s = probe.settings.scenario();
        match (hop.note, info.kind) {
            (HopNote::DbRead, NodeKind::Db) => {
                let d = &probe.tiers.dbs[t];
                let held =
                    d.kv.get(self.trace.key as usize)
                        .copied()
                        .unwrap_or_default();
                let lag_ms = probe.db_lag(t).unwrap_or(0) as f64 / 1000.0;
                let index = held.0 & 0xFFFF_FFFF;
                let committed = held.0 >> 63 == 1 || index <= d.commit;
                let role = match d.role {
                    Role::Leader => "leader",
                    Role::Candidate => "candidate",
                    Role::Follower => "follower",
                };
                let replication = label(&s.db.replication);
                let read_from = label(&s.db.read_from);
                let behind = if d.role == Role::Leader {
                    "it was the leader".to_string()
                } else {
                    format!("it was {lag_ms:.1} ms behind its leader")
                };
                let uncommitted = if committed {
                    ""
                } else {
                    ", not yet on a majority of replicas"
                };
                let text = format!(
                    "{} ({role}) answered it with version {}{uncommitted}; {behind} (replication {replication}, reads go to {read_from})",
                    self.name(hop.node),
                    held,
                );
                self.fact(
                    hop.start,
                    What::ServedByReplica {
                        node: self.name(hop.node),
                        role: role.into(),
                        held: held.0,
                        lag_ms,
                        committed,
                        replication,
                        read_from,
                    },
                    text,
                );
            }
            (HopNote::CacheHit, NodeKind::Cache) => {
                let c = &probe.tiers.caches[t];
                let Some((held, expires)) = c.store.peek(self.trace.key) else {
                    return;
                };
                let ttl = probe.settings.cfg().cache_ttl;
                let filled = SimTime(expires.0.saturating_sub(ttl));
                let write_policy = label(&s.cache.write_policy);
                let text = format!(
                    "{} answered it from its entry for the key, version {}, filled at {:.3} s (entries live {:.0} s; writes {write_policy})",
                    self.name(hop.node),
                    held,
                    filled.as_secs_f64(),
                    ttl as f64 / 1e6
                );
                let why = self.why_cache_kept_it(&probe, hop.node, filled);
                self.fact(
                    hop.start,
                    What::ServedByCache {
                        node: self.name(hop.node),
                        held: held.0,
                        filled,
                        write_policy,
                    },
                    text,
                );
                if let Some((at, text)) = why {
                    let node = self.name(hop.node);
                    self.fact(at, What::Kept { node }, text);
                }
            }
            _ => {}
        }
    }

    /// Why a cache entry older than the missed write was still there: it
    /// was filled after the write (from a replica that lacked it), or the
    /// write went through another site, whose own cache it invalidated.
    fn why_cache_kept_it(
        &self,
        probe: &Simulation,
        cache: NodeId,
        filled: SimTime,
    ) -> Option<(SimTime, String)> {
        let (write, acked) = self.facts.iter().find_map(|f| match f.what {
            What::Missed {
                write: Some(w),
                acked: Some(at),
                ..
            } => Some((w, at)),
            _ => None,
        })?;
        if filled >= acked {
            return Some((
                filled,
                "the entry was filled after that write was acknowledged, with a version read from a replica that did not have the write yet"
                    .to_string(),
            ));
        }
        // The replay has moved on since; the probe stands at the read.
        let app = probe
            .trace(write)?
            .hops
            .iter()
            .find(|h| h.note == HopNote::Served)?
            .node;
        let (theirs, ours) = (probe.topo.site_of(app), probe.topo.site_of(cache));
        (theirs != ours).then(|| {
            (
                acked,
                format!(
                    "the write went through {} in another site, which cleared its own site's cache only; {} kept its entry",
                    self.name(app),
                    self.name(cache)
                ),
            )
        })
    }

    /// Replays until a log line matching `want` appears (or `limit`):
    /// returns its time.
    fn find_line(&mut self, limit: SimTime, want: impl Fn(&LogEvent) -> bool) -> Option<SimTime> {
        // With the run's log at hand, replay only as far as the verdict.
        let limit = match self.verdicts {
            Some(log) => match log
                .iter()
                .find(|e| e.at >= self.from.now() && want(&e.event))
            {
                Some(e) => e.at,
                None => return None,
            },
            None => limit,
        };
        loop {
            if let Some(e) = self.log_lines().find(|e| want(&e.event)) {
                return Some(e.at);
            }
            if self.sim.now() >= limit {
                return None;
            }
            let next = self.sim.now().after(100 * MS).min(limit);
            play(self.sim, self.commands, next);
        }
    }

    fn write(&mut self, limit: SimTime) -> Result<Anomaly, NotExplained> {
        let id = self.trace.id;
        let Some(lost_at) = self.find_line(
            limit,
            |e| matches!(e, LogEvent::LostWrite { request, .. } if *request == id),
        ) else {
            return Err(NotExplained::Fine);
        };
        let v = self.trace.version.unwrap_or_default();
        let leader = self
            .trace
            .hops
            .iter()
            .rev()
            .find(|h| h.note == HopNote::DbWrite)
            .map(|h| h.node);
        let s = self.sim.settings.scenario().clone();
        let replication = self.replication();
        let waited_for = match replication {
            Replication::Async if s.db.ship_on_heartbeat => format!(
                "nothing: it answered before any follower had the write, and followers get the log in batches every {} ms",
                s.db.heartbeat_ms
            ),
            Replication::Async => {
                "nothing: it answered before any follower had the write".to_string()
            }
            Replication::SemiSync => format!("{} follower(s)", s.db.sync_followers),
            Replication::Sync => "every follower".to_string(),
            Replication::Quorum => format!("{} of the replicas (W)", s.db.quorum_w),
            Replication::MultiLeader => "its own region's leader only".to_string(),
        };
        let term = if v.0 >> 63 == 1 { 0 } else { v.0 >> 32 };
        let by = leader.map(|n| self.name(n));
        self.fact(
            self.trace.end,
            What::Acknowledged {
                leader: by.clone(),
                term,
                replication: label(&replication),
                waited_for: waited_for.clone(),
            },
            format!(
                "{} acknowledged it as version {}{}; with {} replication the acknowledgement waited for {waited_for}",
                by.as_deref().unwrap_or("the database"),
                v,
                if term > 0 { format!(" in term {term}") } else { String::new() },
                label(&replication)
            ),
        );
        // Multi-leader: a concurrent write won.
        let conflict = self.log_lines().find_map(|e| match e.event {
            LogEvent::Conflict {
                key,
                kept,
                overwritten,
                at,
                ..
            } if key == self.trace.key && overwritten == v => Some((e.at, kept, at)),
            _ => None,
        });
        if let Some((at, kept, node)) = conflict {
            self.fact(
                at,
                What::Overwritten {
                    node: self.name(node),
                    by: kept.0,
                },
                format!(
                    "{} received a concurrent write from another region, version {}, and kept it (last writer wins)",
                    self.name(node),
                    kept
                ),
            );
        } else {
            self.failover_after(self.trace.end, lost_at, v);
        }
        self.fact(
            lost_at,
            What::Discarded { node: None },
            "the write was found gone: no replica will ever return it".into(),
        );
        Ok(Anomaly::LostWrite)
    }

    /// The fault, election and truncation that followed `after` (up to
    /// `until`) in the shard holding the key.
    fn failover_after(&mut self, after: SimTime, until: SimTime, v: Version) {
        let term = v.0 >> 32;
        let shard = self.shard_of_key();
        let lines: Vec<_> = self
            .log_lines()
            .filter(|e| e.at >= after && e.at <= until)
            .cloned()
            .collect();
        let in_shard = |n: NodeId, sim: &Simulation| {
            let info = &sim.topo.nodes[n.idx()];
            info.kind == NodeKind::Db && Some(sim.tiers.dbs[info.tier_idx as usize].shard) == shard
        };
        let elected = lines.iter().find_map(|e| match e.event {
            LogEvent::Elected { node, term: t, .. } if t > term && in_shard(node, self.sim) => {
                Some((e.at, node, t))
            }
            _ => None,
        });
        // The fault that led to it: the last crash in the shard, or command
        // (a partition, an isolation), before the election (or the loss).
        let cause_by = elected.map_or(until, |(at, _, _)| at);
        // The fault may come before the replay began: look in what the
        // saved state it began from had logged, too.
        if let Some(e) = self
            .from
            .log()
            .iter()
            .chain(self.log_lines())
            .filter(|e| e.at <= cause_by)
            .filter(|e| match &e.event {
                LogEvent::Crashed(n) => in_shard(*n, self.sim),
                LogEvent::Command(_) => true,
                LogEvent::Fenced { node } | LogEvent::SteppedDown { node, .. } => {
                    in_shard(*node, self.sim)
                }
                _ => false,
            })
            .last()
            .cloned()
        {
            let node = match &e.event {
                LogEvent::Crashed(n)
                | LogEvent::Fenced { node: n }
                | LogEvent::SteppedDown { node: n, .. } => Some(self.name(*n)),
                _ => None,
            };
            let line = self.sim.describe(&e);
            self.fact(
                e.at,
                What::Fault {
                    node,
                    line: line.clone(),
                },
                format!("the fault: {line}"),
            );
        }
        if let Some((at, node, t)) = elected {
            self.fact(
                at,
                What::Elected {
                    node: self.name(node),
                    term: t,
                },
                format!(
                    "{} won the election for term {t} without having version {}",
                    self.name(node),
                    v
                ),
            );
            if let Some(e) = lines.iter().find(|e| {
                e.at >= at && matches!(e.event, LogEvent::Truncated { node, .. } if in_shard(node, self.sim))
            }) {
                let LogEvent::Truncated { node, entries } = e.event else {
                    return;
                };
                self.fact(
                    e.at,
                    What::Discarded {
                        node: Some(self.name(node)),
                    },
                    format!(
                        "{} rejoined as a follower and discarded {entries} log entries the new leader did not have",
                        self.name(node)
                    ),
                );
            }
        }
    }

    fn shard_of_key(&self) -> Option<usize> {
        let hop = self.trace.hops.iter().find(|h| {
            matches!(
                h.note,
                HopNote::DbRead | HopNote::DbWrite | HopNote::NotLeader
            )
        })?;
        let info = &self.sim.topo.nodes[hop.node.idx()];
        (info.kind == NodeKind::Db).then(|| self.sim.tiers.dbs[info.tier_idx as usize].shard)
    }

    fn error(&mut self, e: ErrorKind) -> Anomaly {
        let t = self.trace;
        if let Some(h) = t
            .hops
            .iter()
            .rev()
            .find(|h| matches!(h.note, HopNote::Failed(_) | HopNote::NoAnswer))
        {
            self.fact(
                h.start,
                What::Failed {
                    node: self.name(h.node),
                    error: e.label().into(),
                },
                format!("{} could not go on: {}", self.name(h.node), e.label()),
            );
        }
        // Where it got to before nothing answered.
        if e == ErrorKind::Timeout
            && let Some(h) = t.hops.iter().rev().find(|h| {
                !matches!(
                    h.note,
                    HopNote::Browser | HopNote::Failed(_) | HopNote::NoAnswer
                )
            })
        {
            self.fact(
                h.end.min(t.end),
                What::Failed {
                    node: self.name(h.node),
                    error: "no answer after this hop".into(),
                },
                format!(
                    "the last place it reached was {}; nothing answered after that",
                    self.name(h.node)
                ),
            );
        }
        // What was going on: the latest faults before the answer.
        let recent: Vec<_> = self
            .from
            .log()
            .iter()
            .chain(self.log_lines())
            .filter(|l| l.at <= t.end && t.start.0.saturating_sub(l.at.0) < 30_000 * MS)
            .filter(|l| {
                matches!(
                    l.event,
                    LogEvent::Crashed(_)
                        | LogEvent::Command(_)
                        | LogEvent::ElectionStarted { .. }
                        | LogEvent::Fenced { .. }
                        | LogEvent::BackendHealth { up: false, .. }
                        | LogEvent::DnsEdgeHealth { up: false, .. }
                )
            })
            .cloned()
            .collect();
        let mut recent = recent;
        recent.dedup_by(|b, a| a.at == b.at && matches!(a.event, LogEvent::Command(_)));
        for l in recent.iter().rev().take(2).rev() {
            let line = self.sim.describe(l);
            let node = match l.event {
                LogEvent::Crashed(n) | LogEvent::Fenced { node: n } => Some(self.name(n)),
                LogEvent::ElectionStarted { node, .. } => Some(self.name(node)),
                _ => None,
            };
            self.fact(
                l.at,
                What::Fault {
                    node,
                    line: line.clone(),
                },
                format!("before it: {line}"),
            );
        }
        Anomaly::Error
    }
}

/// A setting's name as in scenario files.
fn label<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// Runs from `from` to `limit` and lists up to `per_kind` requests of each
/// anomaly kind, in order of time: stale reads and errors as they finish,
/// lost writes and rolled-back reads from the log, and reads that broke a
/// session guarantee (read-your-writes, monotonic reads) from the history.
pub fn anomalies(
    from: &Simulation,
    limit: SimTime,
    per_kind: usize,
) -> Vec<(RequestId, Anomaly, SimTime)> {
    let mut sim = from.clone();
    sim.record_history();
    let mut found: Vec<(RequestId, Anomaly, SimTime)> = Vec::new();
    let add = |found: &mut Vec<(RequestId, Anomaly, SimTime)>, r: RequestId, a, at| {
        if found.iter().filter(|f| f.1 == a).count() < per_kind && !found.iter().any(|f| f.0 == r) {
            found.push((r, a, at));
        }
    };
    let mut scanned_to = sim.now();
    let log_base = sim.log.dropped() + sim.log.entries().len() as u64;
    while sim.now() < limit {
        sim.step_until(sim.now().after(500 * MS).min(limit));
        // Traces appear in the order requests finish.
        let new: Vec<_> = sim
            .traces()
            .rev()
            .take_while(|t| t.end > scanned_to)
            .map(|t| (t.id, t.outcome, t.end))
            .collect();
        for (id, outcome, end) in new.into_iter().rev() {
            match outcome {
                Outcome::Stale => add(&mut found, id, Anomaly::StaleRead, end),
                Outcome::Failed(_) => add(&mut found, id, Anomaly::Error, end),
                Outcome::Ok => {}
            }
        }
        scanned_to = sim.now();
    }
    let skip = log_base.saturating_sub(sim.log.dropped()) as usize;
    // Reads a failover rolled back are told as such, whatever else they broke.
    let rolled_back: std::collections::BTreeSet<RequestId> = sim
        .log
        .entries()
        .iter()
        .skip(skip)
        .filter_map(|e| match e.event {
            LogEvent::RolledBackRead { request, .. } => Some(request),
            _ => None,
        })
        .collect();
    for e in sim.log.entries().iter().skip(skip) {
        match e.event {
            LogEvent::LostWrite { request, .. } => {
                add(&mut found, request, Anomaly::LostWrite, e.at)
            }
            LogEvent::RolledBackRead { request, .. } => {
                add(&mut found, request, Anomaly::RolledBackRead, e.at)
            }
            _ => {}
        }
    }
    // Session guarantees, from the history: per (session, key), the newest
    // version the session wrote or read by each moment, in order of finish.
    let mut wrote: BTreeMap<(u32, u32), Vec<(u64, Version)>> = BTreeMap::new();
    let mut read: BTreeMap<(u32, u32), Vec<(u64, Version)>> = BTreeMap::new();
    let newest = |list: Option<&Vec<(u64, Version)>>, before: u64| {
        list.and_then(|l| {
            let n = l.partition_point(|(at, _)| *at < before);
            n.checked_sub(1).map(|i| l[i].1)
        })
    };
    for h in sim.history() {
        let Some(v) = h.version else { continue };
        let k = (h.session, h.key);
        match h.op {
            RequestKind::Write if h.outcome == Outcome::Ok => {
                let best = newest(wrote.get(&k), u64::MAX).map_or(v, |w| w.max(v));
                wrote.entry(k).or_default().push((h.complete_us, best));
            }
            RequestKind::Read => {
                let at = SimTime(h.complete_us);
                if rolled_back.contains(&h.request) {
                } else if newest(wrote.get(&k), h.invoke_us).is_some_and(|w| v < w) {
                    add(&mut found, h.request, Anomaly::ReadYourWrites, at);
                } else if newest(read.get(&k), h.invoke_us).is_some_and(|r| v < r) {
                    add(&mut found, h.request, Anomaly::MonotonicRead, at);
                }
                let best = newest(read.get(&k), u64::MAX).map_or(v, |r| r.max(v));
                read.entry(k).or_default().push((h.complete_us, best));
            }
            _ => {}
        }
    }
    found.sort_by_key(|f| (f.2, f.0));
    found
}
