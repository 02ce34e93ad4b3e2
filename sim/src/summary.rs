//! The run summary: the figures a person (or the CLI's `--json`) wants after a run.

use crate::engine::Simulation;
use crate::request::ErrorKind;
use serde::Serialize;
use std::collections::BTreeMap;

/// Request counts.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RequestCounts {
    /// Finished requests.
    pub total: u64,
    /// Answered (stale reads included: the user got an answer).
    pub ok: u64,
    /// Failed.
    pub failed: u64,
    /// The mean number of requests in flight over the run (time-weighted):
    /// with the arrival rate and the mean latency, Little's law L = λW.
    pub mean_in_flight: f64,
}

/// Latency percentiles of finished requests, failures included.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Latency {
    /// The mean, in milliseconds.
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

/// Reads.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Reads {
    pub total: u64,
    pub stale: u64,
}

/// Writes.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Writes {
    pub total: u64,
    pub acked: u64,
    pub lost: u64,
    /// Percentiles of the writes' latency (answered or not), in
    /// milliseconds.
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// Consistency anomalies judged against the ground truth.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Anomalies {
    pub stale_read: u64,
    pub read_your_writes: u64,
    pub monotonic_read: u64,
    pub lost_write: u64,
    /// Reads of a version later discarded by a failover.
    pub rolled_back_read: u64,
}

/// Hits and misses of a cache.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct HitMiss {
    pub hits: u64,
    pub misses: u64,
}

/// The database at the end of the run.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DbSummary {
    /// The leader of shard 0, if there is one.
    pub leader: Option<String>,
    /// Its term.
    pub term: u64,
    /// Every shard: its leader and its share of the database's work.
    pub shards: Vec<ShardSummary>,
    /// Share of keys that would move to another shard if one shard were
    /// added: with hash-mod-N placement and with a consistent-hash ring.
    pub keys_moved_on_add_shard: MovedKeys,
}

/// One shard.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ShardSummary {
    /// Its number.
    pub shard: u32,
    /// Its leader, if any.
    pub leader: Option<String>,
    /// The leader's term.
    pub term: u64,
    /// Reads and writes its replicas served.
    pub ops: u64,
    /// Its share of all reads and writes (0–1).
    pub share: f64,
}

/// How many keys move when a shard is added.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct MovedKeys {
    /// With `hash(key) mod N`.
    pub hash_mod: f64,
    /// With a consistent-hash ring (100 virtual nodes per shard).
    pub consistent_hash: f64,
    /// With ranges, when the widest range is split in two for the new shard.
    pub range_split: f64,
    /// With this scenario's own partitioning (hash or range).
    pub this_design: f64,
}

/// The load balancers: strategy, who got what, and what scaling would move.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LbSummary {
    /// The balancing strategy at the end of the run.
    pub strategy: String,
    /// Sticky sessions on.
    pub sticky: bool,
    /// Each app server's share of the forwarded requests (0–1).
    pub shares: BTreeMap<String, f64>,
    /// Share of users that would be sent to another server if one server
    /// joined (hash-based strategies only; others do not map users).
    pub moved_on_add: Option<f64>,
    /// The same when one server leaves.
    pub moved_on_remove: Option<f64>,
}

/// The message queue, when there is one.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct QueueSummary {
    /// Jobs taken.
    pub enqueued: u64,
    /// Jobs finished.
    pub done: u64,
    /// Jobs waiting or in progress at the end.
    pub backlog: u64,
    /// Jobs handed to another worker after the first went silent.
    pub redelivered: u64,
    /// Job steps done more than once (for example a card charged twice).
    pub duplicates: u64,
}

/// Everything `run --json` prints.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Summary {
    pub scenario: String,
    pub seed: u64,
    pub duration_s: f64,
    pub fingerprint: String,
    pub events: u64,
    pub requests: RequestCounts,
    pub availability: f64,
    pub latency_ms: Latency,
    pub reads: Reads,
    pub writes: Writes,
    pub anomalies: Anomalies,
    pub cdn: HitMiss,
    pub cache: HitMiss,
    pub leader_changes: u64,
    /// Failures by cause.
    pub errors: BTreeMap<String, u64>,
    pub db: DbSummary,
    /// Load balancing.
    pub lb: LbSummary,
    /// Requests whose session state was missing on the server that got them.
    pub sessions_lost: u64,
    /// The message queue (absent when the scenario has none).
    pub queue: Option<QueueSummary>,
    /// Multi-leader: concurrent writes to one key; each overwrote a write
    /// its user had been told succeeded.
    pub conflicts: u64,
    /// The app servers' queues.
    pub app: AppSummary,
}

/// App servers as queues: how often requests arrived, how long they
/// waited for a worker and how long they held one.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AppSummary {
    /// Requests that reached an app server, per second (all servers).
    pub arrivals_per_s: f64,
    /// Mean wait in an app server's queue before a worker took it (ms).
    pub wait_ms: f64,
    /// Mean time a request held a worker (ms): its own work and the calls
    /// it waited on.
    pub hold_ms: f64,
    /// The squared coefficient of variation of that time (1 for
    /// exponential times, 0 for fixed ones).
    pub hold_cv2: f64,
}

impl Simulation {
    /// Summarises the run so far.
    pub fn summary(&self) -> Summary {
        let m = self.metrics();
        let t = &m.totals;
        let lost = self.lost_writes();
        let leader = self
            .replicas()
            .take(self.settings().db.replicas as usize)
            .filter(|(_, role, _, up)| *role == crate::tiers::db::Role::Leader && *up)
            .max_by_key(|(_, _, term, _)| *term);
        Summary {
            scenario: self.settings().name.clone(),
            seed: self.seed(),
            duration_s: self.now().as_secs_f64(),
            fingerprint: self.fingerprint_hex(),
            events: self.events(),
            requests: RequestCounts {
                total: t.requests,
                ok: t.ok + t.stale_reads,
                failed: t.failed,
                mean_in_flight: self.reqs.mean_in_flight(self.now()),
            },
            availability: m.availability(),
            latency_ms: Latency {
                mean: if t.requests == 0 {
                    0.0
                } else {
                    t.latency_us_sum as f64 / t.requests as f64 / 1000.0
                },
                p50: m.latency_ms(0.5),
                p95: m.latency_ms(0.95),
                p99: m.latency_ms(0.99),
                max: if m.latency.is_empty() {
                    0.0
                } else {
                    m.latency.max() as f64 / 1000.0
                },
            },
            reads: Reads {
                total: t.reads,
                stale: t.stale_reads,
            },
            writes: Writes {
                total: t.writes,
                acked: t.writes_acked,
                lost,
                p50_ms: m.write_latency_ms(0.5),
                p99_ms: m.write_latency_ms(0.99),
            },
            anomalies: Anomalies {
                stale_read: t.stale_reads,
                read_your_writes: t.read_your_writes,
                monotonic_read: t.monotonic_reads,
                lost_write: lost,
                rolled_back_read: t.rolled_back_reads,
            },
            cdn: HitMiss {
                hits: t.cdn_hits,
                misses: t.cdn_misses,
            },
            cache: HitMiss {
                hits: t.cache_hits,
                misses: t.cache_misses,
            },
            leader_changes: t.leader_changes,
            errors: ErrorKind::ALL
                .iter()
                .map(|e| (e.label().to_string(), t.errors[e.idx()]))
                .collect(),
            db: DbSummary {
                leader: leader.map(|(n, ..)| n.to_string()),
                term: leader.map(|(_, _, term, _)| term).unwrap_or(0),
                shards: self.shard_summaries(),
                keys_moved_on_add_shard: self.summary_shard_moves(),
            },
            lb: self.lb_summary(),
            sessions_lost: t.sessions_lost,
            conflicts: t.conflicts,
            app: {
                let a = &m.app;
                let secs = self.now().as_secs_f64();
                let hold = if a.held > 0 {
                    a.hold_us as f64 / a.held as f64
                } else {
                    0.0
                };
                let cv2 = if a.held > 0 && hold > 0.0 {
                    (a.hold_sq_us / a.held as f64 - hold * hold).max(0.0) / (hold * hold)
                } else {
                    0.0
                };
                AppSummary {
                    arrivals_per_s: if secs > 0.0 {
                        a.arrived as f64 / secs
                    } else {
                        0.0
                    },
                    wait_ms: if a.started > 0 {
                        a.wait_us as f64 / a.started as f64 / 1000.0
                    } else {
                        0.0
                    },
                    hold_ms: hold / 1000.0,
                    hold_cv2: cv2,
                }
            },
            queue: self.tiers.queues.first().map(|q| QueueSummary {
                enqueued: q.enqueued,
                done: q.completed,
                backlog: q.backlog() as u64,
                redelivered: q.redelivered,
                duplicates: t.job_duplicates,
            }),
        }
    }

    /// How many keys an added shard would move, measured by placing every
    /// key before and after: with hash mod N and with ranges through the
    /// placement the database itself uses, and with a consistent-hash ring
    /// for comparison.
    pub fn summary_shard_moves(&self) -> MovedKeys {
        use crate::hashing::{Placement, moved_fraction};
        use crate::scenario::Partitioning;
        let n = self.topo.shards() as u32;
        let keys = self.settings().workload.keys;
        let with = |partitioning, bounds: Vec<u32>, shards: usize| {
            let mut t = self.topo.clone();
            t.partitioning = partitioning;
            t.shard_bounds = bounds;
            t.dbs = vec![crate::NodeId(0); shards * t.replicas.max(1)];
            t
        };
        let moved = |before: &crate::topology::Topology, after: &crate::topology::Topology| {
            let m = (0..keys)
                .filter(|&k| before.shard_of(k) != after.shard_of(k))
                .count();
            m as f64 / keys.max(1) as f64
        };
        let shards = n as usize;
        let hash_mod = moved(
            &with(Partitioning::Hash, Vec::new(), shards),
            &with(Partitioning::Hash, Vec::new(), shards + 1),
        );
        // Ranges: the new shard takes the upper half of the widest range;
        // every other range stays where it is. Only the keys that now fall
        // into the new shard's range move.
        let ranges = with(Partitioning::Range, self.topo.shard_bounds.clone(), shards);
        let mut width = vec![0u32; shards];
        for k in 0..keys {
            width[ranges.shard_of(k)] += 1;
        }
        let widest = (0..shards).max_by_key(|&i| (width[i], usize::MAX - i));
        let range_split = widest.map_or(0.0, |w| {
            let mine: Vec<u32> = (0..keys).filter(|&k| ranges.shard_of(k) == w).collect();
            let moving = mine.len() - mine.len() / 2;
            moving as f64 / keys.max(1) as f64
        });
        MovedKeys {
            hash_mod,
            consistent_hash: moved_fraction(Placement::Ring(100), n, n + 1, keys),
            range_split,
            this_design: match self.topo.partitioning {
                Partitioning::Hash => hash_mod,
                Partitioning::Range => range_split,
            },
        }
    }

    /// Each shard's leader and load.
    pub fn shard_summaries(&self) -> Vec<ShardSummary> {
        let dbs = &self.tiers.dbs;
        let total: u64 = dbs.iter().map(|d| d.ops).sum();
        (0..self.topo.shards())
            .map(|s| {
                let group = || dbs.iter().filter(move |d| d.shard == s);
                let ops: u64 = group().map(|d| d.ops).sum();
                let leader = group()
                    .filter(|d| {
                        d.role == crate::tiers::db::Role::Leader && self.status[d.id.idx()].up
                    })
                    .max_by_key(|d| d.term);
                ShardSummary {
                    shard: s as u32,
                    leader: leader.map(|d| self.node_name(d.id).to_string()),
                    term: leader.map(|d| d.term).unwrap_or(0),
                    ops,
                    share: if total == 0 {
                        0.0
                    } else {
                        ops as f64 / total as f64
                    },
                }
            })
            .collect()
    }

    /// In words, how many users a hash-based balancer would move if one
    /// server joined or left (`None` for strategies that do not map users).
    pub fn summary_moves(&self) -> Option<String> {
        let lb = self.lb_summary();
        let add = lb.moved_on_add?;
        let remove = lb
            .moved_on_remove
            .map(|r| format!(", {:.0} % if one leaves", r * 100.0))
            .unwrap_or_default();
        Some(format!(
            "{:.0} % of users would move to another server if one joined{remove}.",
            add * 100.0
        ))
    }

    /// The share of `users` sessions a balancer would send to another
    /// server after `change` to its pool: every session is routed through
    /// the balancer's own choice (a copy of the active one), before and after.
    fn users_moved(&self, users: u32, change: impl FnOnce(&mut crate::tiers::lb::LbNode)) -> f64 {
        use crate::tiers::lb::{Policy, choose_backend};
        let Some(lb) = self
            .tiers
            .lbs
            .iter()
            .find(|l| l.active)
            .or(self.tiers.lbs.first())
        else {
            return 0.0;
        };
        let spec = &self.settings().lb;
        let policy = Policy {
            strategy: spec.strategy,
            sticky: false,
            static_pool: spec.path_static_servers as usize,
        };
        // Hash-based choices draw nothing at random; the stream is a stand-in.
        let mut rng = crate::rng::SimRng::new(0, crate::rng::Stream::Design);
        let mut route = |lb: &mut crate::tiers::lb::LbNode| -> Vec<Option<usize>> {
            (0..users)
                .map(|u| choose_backend(lb, policy, u, crate::RequestKind::Read, &mut rng))
                .collect()
        };
        let mut before = lb.clone();
        let mut after = lb.clone();
        change(&mut after);
        let (b, a) = (route(&mut before), route(&mut after));
        let moved = b.iter().zip(&a).filter(|(x, y)| x != y).count();
        moved as f64 / users.max(1) as f64
    }

    /// The load-balancing part of the summary.
    pub fn lb_summary(&self) -> LbSummary {
        use crate::scenario::LbStrategy;
        let spec = &self.settings().lb;
        let shares = self.backend_shares();
        let names: Vec<String> = self
            .nodes()
            .filter(|(_, _, k)| *k == crate::NodeKind::App)
            .map(|(_, n, _)| n.to_string())
            .collect();
        let hashed = matches!(
            spec.strategy,
            LbStrategy::IpHash | LbStrategy::ConsistentHash | LbStrategy::Rendezvous
        );
        let n = self.active_app_servers() as u32;
        let users = self.settings().workload.sessions_per_region
            * self.settings().network.regions.len() as u32;
        let moved = |change: fn(&mut crate::tiers::lb::LbNode, u32)| {
            self.users_moved(users, |lb| change(lb, spec.virtual_nodes))
        };
        LbSummary {
            strategy: spec.strategy.label().to_string(),
            sticky: spec.sticky,
            shares: names.into_iter().zip(shares).collect(),
            moved_on_add: hashed.then(|| {
                moved(|lb, vnodes| {
                    lb.add_backend(1.0);
                    lb.rebuild_ring(vnodes);
                })
            }),
            moved_on_remove: (hashed && n > 1).then(|| {
                moved(|lb, vnodes| {
                    if let Some(b) = lb.backends.iter_mut().rev().find(|b| !b.retired) {
                        b.retired = true;
                    }
                    lb.rebuild_ring(vnodes);
                })
            }),
        }
    }
}
