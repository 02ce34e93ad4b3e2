//! Scenarios: the versioned JSON description of a system, its workload and a timed script of commands, with documented defaults and strict parsing.

use crate::commands::TimedCommand;
use crate::error::Error;
use crate::rng::ServiceTime;
pub use crate::store::Eviction;
use serde::{Deserialize, Serialize};

/// The scenario format version this build reads and writes.
pub const SCENARIO_VERSION: u32 = 1;

/// Everything that defines a run except the seed and interactive commands.
/// Every field is optional in JSON; `docs/scenario.md` lists the defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    /// Format version; must be 1.
    pub version: u32,
    /// A short name shown in the interface.
    pub name: String,
    /// What the scenario shows, in a sentence or two.
    pub description: String,
    /// The seed used when none is given on the command line or in the URL.
    pub seed: u64,
    /// How long `run` plays, in simulated seconds.
    pub duration_s: f64,
    /// Regions and the network between them.
    pub network: NetworkSpec,
    /// What the users do.
    pub workload: WorkloadSpec,
    /// Name resolution.
    pub dns: DnsSpec,
    /// Content delivery network.
    pub cdn: CdnSpec,
    /// Load balancer pair.
    pub lb: LbSpec,
    /// Application servers.
    pub app: AppSpec,
    /// The cache between the application and the database.
    pub cache: CacheSpec,
    /// The replicated database.
    pub db: DbSpec,
    /// Work done after the user's answer: a queue and its workers.
    pub queue: QueueSpec,
    /// How many finished request traces are kept.
    pub trace_capacity: u32,
    /// Commands to apply at given simulated times.
    pub script: Vec<TimedCommand>,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            version: SCENARIO_VERSION,
            name: "default".into(),
            description: "A healthy system: three regions of users, a CDN, a load-balanced app tier, a cache and a three-replica database with asynchronous replication.".into(),
            seed: 1,
            duration_s: 60.0,
            network: NetworkSpec::default(),
            workload: WorkloadSpec::default(),
            dns: DnsSpec::default(),
            cdn: CdnSpec::default(),
            lb: LbSpec::default(),
            app: AppSpec::default(),
            cache: CacheSpec::default(),
            db: DbSpec::default(),
            queue: QueueSpec::default(),
            trace_capacity: 2000,
            script: Vec::new(),
        }
    }
}

/// One region: a place users live and servers can run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionSpec {
    /// Name, e.g. `us-east`; becomes part of node ids.
    pub name: String,
    /// Share of all requests that come from users in this region.
    #[serde(default = "one")]
    pub traffic_share: f64,
}

fn one() -> f64 {
    1.0
}

/// A round-trip time between two regions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RttSpec {
    /// One region.
    pub a: String,
    /// The other region.
    pub b: String,
    /// Round-trip time in milliseconds.
    pub ms: f64,
}

/// Regions and latencies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkSpec {
    /// The regions; the first hosts the origin (DNS authority, load balancers, app, cache, database) unless placed otherwise.
    pub regions: Vec<RegionSpec>,
    /// Round-trip times between pairs of regions.
    pub rtt_ms: Vec<RttSpec>,
    /// Round-trip time between two machines in the same region.
    pub in_region_rtt_ms: f64,
    /// Random variation of every message's delay, as a fraction of its base
    /// delay, either way (0.1 = ±10 %); the mean stays the base delay.
    pub jitter: f64,
}

impl Default for NetworkSpec {
    fn default() -> Self {
        let region = |name: &str, traffic_share: f64| RegionSpec {
            name: name.into(),
            traffic_share,
        };
        let rtt = |a: &str, b: &str, ms: f64| RttSpec {
            a: a.into(),
            b: b.into(),
            ms,
        };
        NetworkSpec {
            regions: vec![
                region("us-east", 0.5),
                region("eu-west", 0.3),
                region("ap-southeast", 0.2),
            ],
            rtt_ms: vec![
                rtt("us-east", "eu-west", 75.0),
                rtt("us-east", "ap-southeast", 160.0),
                rtt("eu-west", "ap-southeast", 240.0),
            ],
            in_region_rtt_ms: 1.0,
            jitter: 0.1,
        }
    }
}

/// The share of each kind of request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MixSpec {
    /// Static assets (images, scripts) served through the CDN.
    #[serde(rename = "static")]
    pub static_: f64,
    /// Reads of a key (cache, then database).
    pub read: f64,
    /// Writes of a key (database leader).
    pub write: f64,
}

impl Default for MixSpec {
    fn default() -> Self {
        MixSpec {
            static_: 0.5,
            read: 0.4,
            write: 0.1,
        }
    }
}

/// The users.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkloadSpec {
    /// Requests per second from all regions together (Poisson arrivals).
    pub requests_per_s: f64,
    /// The request mix.
    pub mix: MixSpec,
    /// How many distinct database keys there are.
    pub keys: u32,
    /// Zipf exponent of key popularity: 0 uniform, 1 classic, higher hotter.
    pub key_skew: f64,
    /// How many distinct static assets there are.
    pub assets: u32,
    /// Zipf exponent of asset popularity.
    pub asset_skew: f64,
    /// User sessions per region; each request belongs to one.
    pub sessions_per_region: u32,
    /// How long a browser waits before giving up on a request.
    pub client_timeout_ms: f64,
}

impl Default for WorkloadSpec {
    fn default() -> Self {
        WorkloadSpec {
            requests_per_s: 300.0,
            mix: MixSpec::default(),
            keys: 1000,
            key_skew: 0.9,
            assets: 200,
            asset_skew: 1.0,
            sessions_per_region: 100,
            client_timeout_ms: 4000.0,
        }
    }
}

/// DNS: resolvers near users, one authority.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DnsSpec {
    /// How long resolvers keep an answer.
    pub ttl_s: f64,
    /// How often the authority checks the health of CDN edges.
    pub health_interval_s: f64,
    /// Failed checks in a row before an edge is taken out of answers.
    pub failures_to_down: u32,
    /// How long a resolver waits for the authority.
    pub timeout_ms: f64,
}

impl Default for DnsSpec {
    fn default() -> Self {
        DnsSpec {
            ttl_s: 30.0,
            health_interval_s: 5.0,
            failures_to_down: 2,
            timeout_ms: 1000.0,
        }
    }
}

/// CDN points of presence, one per region.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CdnSpec {
    /// Whether static content goes through the CDN at all.
    pub enabled: bool,
    /// How long an edge keeps a copy.
    pub ttl_s: f64,
    /// How many assets an edge holds (least recently used leave first).
    pub capacity: u32,
    /// How long an edge waits for the origin.
    pub origin_timeout_ms: f64,
}

impl Default for CdnSpec {
    fn default() -> Self {
        CdnSpec {
            enabled: true,
            ttl_s: 300.0,
            capacity: 1000,
            origin_timeout_ms: 3000.0,
        }
    }
}

/// How a load balancer picks an application server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LbStrategy {
    /// Each healthy server in turn.
    RoundRobin,
    /// Each healthy server in turn, as often as its weight says (smooth).
    WeightedRoundRobin,
    /// The healthy server with the fewest requests in progress.
    LeastConnections,
    /// A healthy server at random.
    Random,
    /// The user's address hashed, modulo the healthy servers.
    IpHash,
    /// The user's address on a consistent-hash ring with virtual nodes.
    ConsistentHash,
    /// Rendezvous (highest random weight) hashing of the user's address.
    Rendezvous,
    /// By path: static assets to the first servers, the API to the rest.
    Path,
}

impl LbStrategy {
    /// Every strategy, in the order the interface lists them.
    pub const ALL: [LbStrategy; 8] = [
        LbStrategy::RoundRobin,
        LbStrategy::WeightedRoundRobin,
        LbStrategy::LeastConnections,
        LbStrategy::Random,
        LbStrategy::IpHash,
        LbStrategy::ConsistentHash,
        LbStrategy::Rendezvous,
        LbStrategy::Path,
    ];

    /// The name used in JSON.
    pub fn label(self) -> &'static str {
        match self {
            LbStrategy::RoundRobin => "round-robin",
            LbStrategy::WeightedRoundRobin => "weighted-round-robin",
            LbStrategy::LeastConnections => "least-connections",
            LbStrategy::Random => "random",
            LbStrategy::IpHash => "ip-hash",
            LbStrategy::ConsistentHash => "consistent-hash",
            LbStrategy::Rendezvous => "rendezvous",
            LbStrategy::Path => "path",
        }
    }

    /// The strategy named `label`, if any.
    pub fn from_label(label: &str) -> Option<LbStrategy> {
        LbStrategy::ALL.into_iter().find(|s| s.label() == label)
    }
}

/// Where a user's session state lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SessionStore {
    /// In a store every app server shares: any server can serve any user.
    Shared,
    /// In the memory of the server that logged the user in: lost when the
    /// user lands elsewhere or that server dies.
    Local,
}

/// The active/standby load balancer pair.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LbSpec {
    /// Balancing strategy.
    pub strategy: LbStrategy,
    /// Time between health checks of each server.
    pub health_interval_ms: f64,
    /// Failed checks in a row before a server is marked down.
    pub failures_to_down: u32,
    /// Passed checks in a row before a down server is marked up again.
    pub successes_to_up: u32,
    /// How long the balancer waits for a server's answer.
    pub upstream_timeout_ms: f64,
    /// Time between the active balancer's heartbeats to the standby.
    pub heartbeat_ms: f64,
    /// Missed heartbeats before the standby takes over the address.
    pub missed_heartbeats_to_failover: u32,
    /// Points per server on the consistent-hash ring.
    pub virtual_nodes: u32,
    /// Keep sending a session to the server it went to first, while healthy.
    pub sticky: bool,
    /// For path-based balancing: how many of the first servers take static assets.
    pub path_static_servers: u32,
}

impl Default for LbSpec {
    fn default() -> Self {
        LbSpec {
            strategy: LbStrategy::RoundRobin,
            health_interval_ms: 1000.0,
            failures_to_down: 3,
            successes_to_up: 2,
            upstream_timeout_ms: 2000.0,
            heartbeat_ms: 1000.0,
            missed_heartbeats_to_failover: 3,
            virtual_nodes: 100,
            sticky: false,
            path_static_servers: 1,
        }
    }
}

/// The application tier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppSpec {
    /// Number of servers.
    pub servers: u32,
    /// Requests one server works on at once.
    pub workers: u32,
    /// Requests that may wait for a worker; beyond that the server answers 503.
    pub queue: u32,
    /// CPU time per dynamic request.
    pub service: ServiceTime,
    /// CPU time per static request (when the CDN misses).
    pub static_service: ServiceTime,
    /// How long a server waits for the cache.
    pub cache_timeout_ms: f64,
    /// How long a server waits for one database attempt.
    pub db_timeout_ms: f64,
    /// Database attempts per request (following leader hints or trying the next replica).
    pub db_attempts: u32,
    /// Relative size of each server (more workers, a bigger share under
    /// weighted strategies); missing entries are 1.
    pub weights: Vec<f64>,
    /// Where session state lives.
    pub session_store: SessionStore,
    /// How far each server's clock runs ahead (or, negative, behind), in
    /// ms; missing entries are 0. Leaderless and multi-leader writes are
    /// stamped with it, so a skewed clock can make a later write lose.
    pub clock_skew_ms: Vec<f64>,
    /// Regions that each get a site: a balancer pair, `servers` app servers
    /// and (with the cache on) a cache. Empty: one site, in the first region.
    /// With more than one, geo-DNS sends users to the nearest healthy site.
    pub regions: Vec<String>,
}

impl Default for AppSpec {
    fn default() -> Self {
        AppSpec {
            servers: 4,
            workers: 8,
            queue: 32,
            service: ServiceTime::default(),
            static_service: ServiceTime::Fixed { ms: 1.0 },
            cache_timeout_ms: 100.0,
            db_timeout_ms: 300.0,
            db_attempts: 3,
            weights: Vec::new(),
            session_store: SessionStore::Shared,
            regions: Vec::new(),
            clock_skew_ms: Vec::new(),
        }
    }
}

/// The cache (Redis-like, cache-aside).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheSpec {
    /// Whether reads go through the cache.
    pub enabled: bool,
    /// Keys held at most (least recently used are evicted).
    pub capacity: u32,
    /// How long an entry lives.
    pub ttl_s: f64,
    /// Time for one cache operation.
    pub op_ms: f64,
    /// What a write does to the cache.
    pub write_policy: WritePolicy,
    /// With write-back: how often dirty entries are written to the database.
    pub flush_interval_ms: f64,
    /// Which key leaves when the cache is full.
    pub eviction: Eviction,
}

/// What a write does to the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WritePolicy {
    /// Write the database, then delete the key from the cache.
    Invalidate,
    /// Write the database, then store the new value in the cache.
    WriteThrough,
    /// Write only the cache and confirm; dirty entries reach the database
    /// every flush interval (and are lost if the cache dies first).
    WriteBack,
}

impl Default for CacheSpec {
    fn default() -> Self {
        CacheSpec {
            enabled: true,
            capacity: 300,
            ttl_s: 60.0,
            op_ms: 0.2,
            write_policy: WritePolicy::Invalidate,
            flush_interval_ms: 1000.0,
            eviction: Eviction::Lru,
        }
    }
}

/// A message queue for work that must not keep the user waiting: every
/// write is an order whose confirmation fans out to payment, inventory and
/// email, done by workers after the user has had the answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueSpec {
    /// Whether writes enqueue an order job (adds `queue-1` and workers).
    pub enabled: bool,
    /// Workers taking jobs.
    pub workers: u32,
    /// Time for each step of a job: payment, inventory, email (ms).
    pub task_ms: [f64; 3],
    /// A job handed to a worker and not finished within this time is given
    /// to another worker (at-least-once delivery).
    pub visibility_timeout_ms: f64,
    /// How long an app server waits for the queue to take a job.
    pub enqueue_timeout_ms: f64,
}

impl Default for QueueSpec {
    fn default() -> Self {
        QueueSpec {
            enabled: false,
            workers: 3,
            task_ms: [60.0, 20.0, 120.0],
            visibility_timeout_ms: 2000.0,
            enqueue_timeout_ms: 200.0,
        }
    }
}

/// How keys are split between shards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Partitioning {
    /// By a hash of the key, modulo the number of shards: even, but adding a
    /// shard moves most keys.
    #[default]
    Hash,
    /// By key ranges: neighbours stay together, and popular ranges make hot shards.
    Range,
}

/// When the leader acknowledges a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Replication {
    /// At once; followers catch up later (fast, can lose writes on failover).
    Async,
    /// Only after every follower acknowledged it.
    Sync,
    /// After `sync_followers` of the followers acknowledged it.
    SemiSync,
    /// No leader: the app server writes to all replicas and waits for
    /// `quorum_w` of them, reads from all and waits for `quorum_r`; the
    /// newest version wins (chosen in the scenario, not while running).
    Quorum,
    /// A leader in every region: users write to their region's replica,
    /// which confirms at once and passes the write on to the others; the
    /// later write wins a conflict (chosen in the scenario).
    MultiLeader,
}

impl Replication {
    /// Whether replicas work without an elected leader.
    pub fn leaderless(self) -> bool {
        matches!(self, Replication::Quorum | Replication::MultiLeader)
    }

    /// Whether a write waits for followers before it is confirmed.
    pub fn is_sync(self) -> bool {
        matches!(self, Replication::Sync | Replication::SemiSync)
    }
}

/// What a follower's acknowledgement means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FollowerAck {
    /// Written to its log: durable, not yet visible to its readers.
    Received,
    /// Applied: visible to reads on that follower.
    Applied,
}

/// Where reads go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReadFrom {
    /// Only the leader.
    Leader,
    /// Any follower (spreads load, may be stale).
    Followers,
    /// A follower that has applied the session's last write, else the leader.
    ReadYourWrites,
    /// The same follower for a session every time.
    Sticky,
    /// The replica closest to the app server (ties at random).
    Nearest,
}

/// The replicated database (one shard: a leader and followers).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DbSpec {
    /// Shards: the keys are split between this many replica groups.
    pub shards: u32,
    /// How keys are split between shards.
    pub partitioning: Partitioning,
    /// With range partitioning: the first key of every shard after the
    /// first (ascending); empty splits the keys evenly.
    pub range_bounds: Vec<u32>,
    /// Replicas in each group (leader + followers), 1 to 7.
    pub replicas: u32,
    /// Region of each replica; missing entries use the first region.
    pub placement: Vec<String>,
    /// When writes are acknowledged.
    pub replication: Replication,
    /// What a follower's acknowledgement means.
    pub follower_ack: FollowerAck,
    /// With semi-synchronous replication: followers that must acknowledge.
    pub sync_followers: u32,
    /// With quorum replication: replicas that must answer a read (R).
    pub quorum_r: u32,
    /// With quorum replication: replicas that must store a write (W).
    pub quorum_w: u32,
    /// With quorum replication: replicas found stale by a read are sent the
    /// newest version.
    pub read_repair: bool,
    /// Where reads go.
    pub read_from: ReadFrom,
    /// Whether a leader that cannot reach a majority steps down.
    pub fencing: bool,
    /// Time between leader heartbeats (which carry the commit index, and
    /// new entries when `ship_on_heartbeat` is set).
    pub heartbeat_ms: f64,
    /// Followers start an election after a random silence between these bounds.
    pub election_timeout_ms: [f64; 2],
    /// Time to serve one read.
    pub read_ms: f64,
    /// Time to make one write (or one batch of replicated entries) durable.
    pub write_ms: f64,
    /// Time a follower takes for one round of applying what it received.
    pub apply_ms: f64,
    /// With asynchronous replication: hold new entries until the next
    /// heartbeat and ship them as one batch, instead of each at once.
    pub ship_on_heartbeat: bool,
}

impl Default for DbSpec {
    fn default() -> Self {
        DbSpec {
            shards: 1,
            partitioning: Partitioning::Hash,
            range_bounds: Vec::new(),
            replicas: 3,
            placement: Vec::new(),
            replication: Replication::Async,
            follower_ack: FollowerAck::Applied,
            sync_followers: 1,
            quorum_r: 2,
            quorum_w: 2,
            read_repair: true,
            read_from: ReadFrom::Leader,
            fencing: true,
            heartbeat_ms: 100.0,
            election_timeout_ms: [1000.0, 2000.0],
            read_ms: 1.0,
            write_ms: 2.0,
            apply_ms: 5.0,
            ship_on_heartbeat: false,
        }
    }
}

impl Scenario {
    /// Parses a scenario from JSON text. Unknown fields, wrong types and
    /// out-of-range numbers are errors that name the field's path.
    pub fn from_json(text: &str) -> Result<Scenario, Error> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let mut scenario: Scenario = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
            let path = e.path().to_string();
            let msg = e.into_inner().to_string();
            // serde_json appends " at line L column C"; keep it, it helps.
            if path == "." || path.is_empty() {
                Error::Scenario(msg)
            } else {
                Error::Scenario(format!("{path}: {msg}"))
            }
        })?;
        // One scenario per text: anything but white space after it is an error.
        de.end()
            .map_err(|e| Error::Scenario(format!("after the scenario: {e}")))?;
        // Read again as plain JSON to see which fields were given.
        let raw: serde_json::Value =
            serde_json::from_str(text).map_err(|e| Error::Scenario(e.to_string()))?;
        scenario.follow_defaults(&raw);
        scenario.validate()?;
        Ok(scenario)
    }

    /// Gives the fields a JSON text left out whose defaults depend on other
    /// fields the values that fit those fields: R and W a majority of the
    /// replicas, election timeouts 10 and 20 heartbeats, and round trips
    /// only between the regions there are.
    fn follow_defaults(&mut self, raw: &serde_json::Value) {
        let given = |path: &[&str]| {
            let mut v = raw;
            for p in path {
                match v.get(p) {
                    Some(x) => v = x,
                    None => return false,
                }
            }
            true
        };
        let majority = self.db.replicas / 2 + 1;
        if !given(&["db", "quorum_r"]) {
            self.db.quorum_r = majority;
        }
        if !given(&["db", "quorum_w"]) {
            self.db.quorum_w = majority;
        }
        if !given(&["db", "election_timeout_ms"]) {
            let hb = self.db.heartbeat_ms;
            self.db.election_timeout_ms = [10.0 * hb, 20.0 * hb];
        }
        if !given(&["network", "rtt_ms"]) {
            let names: Vec<String> = self
                .network
                .regions
                .iter()
                .map(|r| r.name.clone())
                .collect();
            self.network
                .rtt_ms
                .retain(|l| names.contains(&l.a) && names.contains(&l.b));
        }
    }

    /// Serialises to pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Checks every number and name, naming the first bad field.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |path: &str, why: String| Err(Error::Scenario(format!("{path}: {why}")));
        let range = |path: &str, v: f64, lo: f64, hi: f64| -> Result<(), Error> {
            if v.is_finite() && v >= lo && v <= hi {
                Ok(())
            } else {
                bad(path, format!("must be between {lo} and {hi}, got {v}"))
            }
        };
        let count = |path: &str, v: u32, lo: u32, hi: u32| -> Result<(), Error> {
            if v >= lo && v <= hi {
                Ok(())
            } else {
                bad(path, format!("must be between {lo} and {hi}, got {v}"))
            }
        };
        if self.version != SCENARIO_VERSION {
            return bad(
                "version",
                format!(
                    "this build reads version {SCENARIO_VERSION}, got {}",
                    self.version
                ),
            );
        }
        range("duration_s", self.duration_s, 0.0, 86_400.0)?;
        let net = &self.network;
        count("network.regions", net.regions.len() as u32, 1, 8)?;
        for (i, r) in net.regions.iter().enumerate() {
            if !valid_name(&r.name) {
                return bad(
                    &format!("network.regions[{i}].name"),
                    format!("{:?} must be 1-24 lowercase letters, digits or '-'", r.name),
                );
            }
            if net.regions[..i].iter().any(|o| o.name == r.name) {
                return bad(
                    &format!("network.regions[{i}].name"),
                    format!("region {:?} is listed twice", r.name),
                );
            }
            range(
                &format!("network.regions[{i}].traffic_share"),
                r.traffic_share,
                0.0,
                1e6,
            )?;
        }
        if net.regions.iter().all(|r| r.traffic_share <= 0.0) {
            return bad(
                "network.regions",
                "at least one region needs a traffic_share above 0".into(),
            );
        }
        for (i, l) in net.rtt_ms.iter().enumerate() {
            for (field, name) in [("a", &l.a), ("b", &l.b)] {
                if self.region_index(name).is_none() {
                    return bad(
                        &format!("network.rtt_ms[{i}].{field}"),
                        format!("unknown region {name:?}"),
                    );
                }
            }
            range(&format!("network.rtt_ms[{i}].ms"), l.ms, 0.0, 10_000.0)?;
        }
        range(
            "network.in_region_rtt_ms",
            net.in_region_rtt_ms,
            0.0,
            1000.0,
        )?;
        range("network.jitter", net.jitter, 0.0, 1.0)?;

        let w = &self.workload;
        range("workload.requests_per_s", w.requests_per_s, 0.0, 100_000.0)?;
        range("workload.mix.static", w.mix.static_, 0.0, 1e6)?;
        range("workload.mix.read", w.mix.read, 0.0, 1e6)?;
        range("workload.mix.write", w.mix.write, 0.0, 1e6)?;
        if w.mix.static_ + w.mix.read + w.mix.write <= 0.0 {
            return bad(
                "workload.mix",
                "at least one kind needs a share above 0".into(),
            );
        }
        count("workload.keys", w.keys, 1, 1_000_000)?;
        range("workload.key_skew", w.key_skew, 0.0, 5.0)?;
        count("workload.assets", w.assets, 1, 1_000_000)?;
        range("workload.asset_skew", w.asset_skew, 0.0, 5.0)?;
        count(
            "workload.sessions_per_region",
            w.sessions_per_region,
            1,
            100_000,
        )?;
        range(
            "workload.client_timeout_ms",
            w.client_timeout_ms,
            1.0,
            600_000.0,
        )?;

        range("dns.ttl_s", self.dns.ttl_s, 0.0, 86_400.0)?;
        range(
            "dns.health_interval_s",
            self.dns.health_interval_s,
            0.1,
            3600.0,
        )?;
        count("dns.failures_to_down", self.dns.failures_to_down, 1, 100)?;
        range("dns.timeout_ms", self.dns.timeout_ms, 1.0, 60_000.0)?;

        range("cdn.ttl_s", self.cdn.ttl_s, 0.0, 86_400.0)?;
        count("cdn.capacity", self.cdn.capacity, 1, 10_000_000)?;
        range(
            "cdn.origin_timeout_ms",
            self.cdn.origin_timeout_ms,
            1.0,
            600_000.0,
        )?;

        range(
            "lb.health_interval_ms",
            self.lb.health_interval_ms,
            10.0,
            600_000.0,
        )?;
        count("lb.failures_to_down", self.lb.failures_to_down, 1, 100)?;
        count("lb.successes_to_up", self.lb.successes_to_up, 1, 100)?;
        range(
            "lb.upstream_timeout_ms",
            self.lb.upstream_timeout_ms,
            1.0,
            600_000.0,
        )?;
        range("lb.heartbeat_ms", self.lb.heartbeat_ms, 10.0, 600_000.0)?;
        count(
            "lb.missed_heartbeats_to_failover",
            self.lb.missed_heartbeats_to_failover,
            1,
            100,
        )?;

        let a = &self.app;
        count("app.servers", a.servers, 1, 256)?;
        count("app.workers", a.workers, 1, 10_000)?;
        count("app.queue", a.queue, 0, 1_000_000)?;
        a.service
            .validate()
            .or_else(|why| bad("app.service", why))?;
        a.static_service
            .validate()
            .or_else(|why| bad("app.static_service", why))?;
        range("app.cache_timeout_ms", a.cache_timeout_ms, 1.0, 600_000.0)?;
        range("app.db_timeout_ms", a.db_timeout_ms, 1.0, 600_000.0)?;
        count("app.db_attempts", a.db_attempts, 1, 10)?;
        for (i, s) in a.clock_skew_ms.iter().enumerate() {
            range(
                &format!("app.clock_skew_ms[{i}]"),
                *s,
                -600_000.0,
                600_000.0,
            )?;
        }
        for (i, r) in a.regions.iter().enumerate() {
            if self.region_index(r).is_none() {
                return bad(
                    &format!("app.regions[{i}]"),
                    format!("unknown region {r:?}"),
                );
            }
            if a.regions[..i].contains(r) {
                return bad(
                    &format!("app.regions[{i}]"),
                    format!("{r:?} is listed twice"),
                );
            }
        }
        if a.weights.len() > a.servers as usize {
            return bad(
                "app.weights",
                format!(
                    "{} weights given for {} servers",
                    a.weights.len(),
                    a.servers
                ),
            );
        }
        for (i, w) in a.weights.iter().enumerate() {
            range(&format!("app.weights[{i}]"), *w, 0.1, 100.0)?;
        }
        count("lb.virtual_nodes", self.lb.virtual_nodes, 1, 10_000)?;
        count(
            "lb.path_static_servers",
            self.lb.path_static_servers,
            1,
            a.servers.max(1),
        )?;

        count("cache.capacity", self.cache.capacity, 1, 10_000_000)?;
        range("cache.ttl_s", self.cache.ttl_s, 0.0, 86_400.0)?;
        range("cache.op_ms", self.cache.op_ms, 0.0, 60_000.0)?;
        range(
            "cache.flush_interval_ms",
            self.cache.flush_interval_ms,
            10.0,
            600_000.0,
        )?;

        let d = &self.db;
        count("db.replicas", d.replicas, 1, 7)?;
        count("db.shards", d.shards, 1, 16)?;
        count("db.quorum_r", d.quorum_r, 1, d.replicas)?;
        count("db.quorum_w", d.quorum_w, 1, d.replicas)?;
        if !d.range_bounds.is_empty() {
            if d.range_bounds.len() + 1 != d.shards as usize {
                return bad(
                    "db.range_bounds",
                    format!(
                        "{} shards need {} bounds, got {}",
                        d.shards,
                        d.shards - 1,
                        d.range_bounds.len()
                    ),
                );
            }
            let mut last = 0;
            for (i, &b) in d.range_bounds.iter().enumerate() {
                if b <= last || b >= self.workload.keys {
                    return bad(
                        &format!("db.range_bounds[{i}]"),
                        format!(
                            "bounds must rise from 1 to below workload.keys ({}), got {b}",
                            self.workload.keys
                        ),
                    );
                }
                last = b;
            }
        }
        if d.placement.len() > d.replicas as usize {
            return bad(
                "db.placement",
                format!(
                    "{} regions given for {} replicas",
                    d.placement.len(),
                    d.replicas
                ),
            );
        }
        for (i, r) in d.placement.iter().enumerate() {
            if self.region_index(r).is_none() {
                return bad(
                    &format!("db.placement[{i}]"),
                    format!("unknown region {r:?}"),
                );
            }
        }
        count(
            "db.sync_followers",
            d.sync_followers,
            1,
            d.replicas.saturating_sub(1).max(1),
        )?;
        range("db.heartbeat_ms", d.heartbeat_ms, 1.0, 60_000.0)?;
        range(
            "db.election_timeout_ms[0]",
            d.election_timeout_ms[0],
            1.0,
            600_000.0,
        )?;
        range(
            "db.election_timeout_ms[1]",
            d.election_timeout_ms[1],
            d.election_timeout_ms[0],
            600_000.0,
        )?;
        if d.election_timeout_ms[0] <= d.heartbeat_ms {
            return bad(
                "db.election_timeout_ms",
                format!(
                    "must be longer than db.heartbeat_ms ({} ms), or followers would call elections between heartbeats",
                    d.heartbeat_ms
                ),
            );
        }
        range("db.read_ms", d.read_ms, 0.0, 60_000.0)?;
        range("db.write_ms", d.write_ms, 0.0, 60_000.0)?;
        range("db.apply_ms", d.apply_ms, 0.0, 60_000.0)?;
        let q = &self.queue;
        count("queue.workers", q.workers, 1, 64)?;
        for (i, ms) in q.task_ms.iter().enumerate() {
            range(&format!("queue.task_ms[{i}]"), *ms, 0.0, 600_000.0)?;
        }
        range(
            "queue.visibility_timeout_ms",
            q.visibility_timeout_ms,
            10.0,
            3_600_000.0,
        )?;
        range(
            "queue.enqueue_timeout_ms",
            q.enqueue_timeout_ms,
            1.0,
            600_000.0,
        )?;
        count("trace_capacity", self.trace_capacity, 0, 1_000_000)?;
        for (i, c) in self.script.iter().enumerate() {
            if !(c.at_s.is_finite() && c.at_s >= 0.0) {
                return bad(
                    &format!("script[{i}].at"),
                    format!("must be a time in seconds ≥ 0, got {}", c.at_s),
                );
            }
        }
        Ok(())
    }

    /// The index of a region by name.
    /// The region of each site (balancer pair and app servers), in order:
    /// `app.regions`, or the first region alone.
    pub fn site_regions(&self) -> Vec<usize> {
        if self.app.regions.is_empty() {
            vec![0]
        } else {
            self.app
                .regions
                .iter()
                .filter_map(|r| self.region_index(r))
                .collect()
        }
    }

    pub fn region_index(&self, name: &str) -> Option<usize> {
        self.network.regions.iter().position(|r| r.name == name)
    }
}

/// Names of regions become parts of node ids, so they are kept simple.
fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 24
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_object_is_the_default() {
        assert_eq!(Scenario::from_json("{}").unwrap(), Scenario::default());
    }

    #[test]
    fn unknown_field_is_named_with_its_path() {
        let err = Scenario::from_json(r#"{"db": {"replicas": 3, "fencin": true}}"#).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("db.fencin") || msg.contains("db") && msg.contains("fencin"),
            "{msg}"
        );
    }

    #[test]
    fn wrong_type_is_named() {
        let msg = Scenario::from_json(r#"{"workload": {"keys": "many"}}"#)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("workload.keys"), "{msg}");
    }

    #[test]
    fn bad_number_is_named() {
        let msg = Scenario::from_json(r#"{"workload": {"requests_per_s": -5}}"#)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("workload.requests_per_s"), "{msg}");
    }

    #[test]
    fn round_trips_through_json() {
        let s = Scenario::default();
        assert_eq!(Scenario::from_json(&s.to_json()).unwrap(), s);
    }
}
