//! The engine: owns the whole simulated world, runs the event loop, moves messages over the network and applies commands.

use crate::app::AppNode;
use crate::cache::CacheNode;
use crate::cdn::CdnNode;
use crate::client::{ClientNode, Req};
use crate::command::Command;
use crate::db::DbNode;
use crate::dns::{AuthNode, ResolverNode};
use crate::error::Error;
use crate::lb::LbNode;
use crate::log::{LogEntry, LogEvent};
use crate::metrics::Metrics;
use crate::msg::{Dest, Effect, Msg, Timer};
use crate::node::{NodeId, NodeInfo, NodeKind, NodeStatus};
use crate::queue::EventQueue;
use crate::queue_tier::{QueueNode, WorkerNode};
use crate::request::{Hop, HopNote, RequestId, Trace};
use crate::rng::{SimRng, Stream, Zipf};
use crate::scenario::Scenario;
use crate::time::{MS, Micros, SimTime, ms_to_micros, secs_to_micros};
use crate::truth::Truth;
use std::collections::{BTreeMap, VecDeque};

/// Something scheduled to happen.
#[derive(Clone, Debug)]
pub(crate) enum Event {
    Deliver {
        from: NodeId,
        to: NodeId,
        sent: SimTime,
        msg: Msg,
    },
    Timer {
        node: NodeId,
        life: u32,
        timer: Timer,
    },
    Command(u32),
    Tick,
}

/// Durations from the scenario, converted once to microseconds.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub client_timeout: Micros,
    pub mean_gap: Vec<f64>,
    pub dns_ttl: Micros,
    pub dns_timeout: Micros,
    pub dns_health: Micros,
    pub cdn_ttl: Micros,
    pub cdn_origin_timeout: Micros,
    pub lb_health: Micros,
    pub lb_upstream_timeout: Micros,
    pub lb_heartbeat: Micros,
    pub cache_ttl: Micros,
    pub cache_timeout: Micros,
    pub db_timeout: Micros,
    pub db_heartbeat: Micros,
    pub election_min: Micros,
    pub election_max: Micros,
    pub mix: [f64; 3],
}

/// Mean gap between arrivals per region (µs; infinite when silent) and the
/// cumulative request mix, from a scenario's workload.
fn workload_rates(sc: &Scenario) -> (Vec<f64>, [f64; 3]) {
    let total_share: f64 = sc.network.regions.iter().map(|r| r.traffic_share).sum();
    let rate = sc.workload.requests_per_s;
    let gaps = sc
        .network
        .regions
        .iter()
        .map(|r| {
            let lambda = rate * r.traffic_share / total_share;
            if lambda > 0.0 {
                1e6 / lambda
            } else {
                f64::INFINITY
            }
        })
        .collect();
    let m = &sc.workload.mix;
    let total = m.static_ + m.read + m.write;
    (gaps, [m.static_ / total, (m.static_ + m.read) / total, 1.0])
}

/// A link's changed behaviour.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct LinkFault {
    pub extra: Micros,
    pub jitter: Micros,
    pub loss: f64,
}

/// The independent random streams.
#[derive(Clone, Debug)]
pub(crate) struct Rngs {
    pub workload: SimRng,
    pub service: SimRng,
    pub network: SimRng,
    pub election: SimRng,
    pub design: SimRng,
}

/// A 64-bit hash over the event trace, the same on every platform: each
/// word is folded in with a rotate, an xor and a multiply (the FxHash step
/// at a fixed 64-bit width), and the result is finished with SplitMix64's
/// mixer when read.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TraceHash(pub u64);

impl TraceHash {
    /// Folds one 64-bit word into the hash.
    #[inline]
    pub fn mix(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x517C_C1B7_2722_0A95);
    }

    /// The finished hash.
    pub fn value(self) -> u64 {
        let mut x = self.0;
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^ (x >> 31)
    }
}

/// A running simulation. A pure function of (scenario, seed, commands):
/// it never reads the clock or the operating system's randomness, and every
/// collection it iterates is ordered. It is `Clone`, so a copy is a
/// checkpoint that can be resumed or forked.
#[derive(Clone, Debug)]
pub struct Simulation {
    pub(crate) scenario: Scenario,
    pub(crate) seed: u64,
    pub(crate) cfg: Config,
    pub(crate) now: SimTime,
    pub(crate) queue: EventQueue<Event>,
    pub(crate) nodes: Vec<NodeInfo>,
    pub(crate) status: Vec<NodeStatus>,
    pub(crate) names: BTreeMap<String, NodeId>,
    pub(crate) one_way: Vec<Vec<Micros>>,
    pub(crate) blocked: Vec<bool>,
    pub(crate) n_blocked: usize,
    pub(crate) links: BTreeMap<(u16, u16), LinkFault>,
    pub(crate) rng: Rngs,
    pub(crate) clients: Vec<ClientNode>,
    pub(crate) resolvers: Vec<ResolverNode>,
    pub(crate) auth: Vec<AuthNode>,
    pub(crate) cdns: Vec<CdnNode>,
    pub(crate) lbs: Vec<LbNode>,
    pub(crate) apps: Vec<AppNode>,
    pub(crate) caches: Vec<CacheNode>,
    pub(crate) dbs: Vec<DbNode>,
    pub(crate) queues: Vec<QueueNode>,
    /// Tier index of each shard's first replica.
    pub(crate) shard_first: Vec<usize>,
    /// With range partitioning, the first key of shards 1, 2, ….
    pub(crate) shard_bounds: Vec<u32>,
    pub(crate) workers: Vec<WorkerNode>,
    /// How many times each step of each order job has been done.
    pub(crate) job_effects: BTreeMap<u64, [u32; 3]>,
    /// Which load balancer answers the shared address.
    pub(crate) vip: Option<NodeId>,
    pub(crate) reqs: VecDeque<Req>,
    pub(crate) req_base: u64,
    pub(crate) traces: VecDeque<Trace>,
    pub(crate) truth: Truth,
    pub(crate) metrics: Metrics,
    pub(crate) log: Vec<LogEntry>,
    pub(crate) effects: Vec<Effect>,
    pub(crate) events: u64,
    pub(crate) fp: TraceHash,
    pub(crate) commands: Vec<Command>,
    pub(crate) zipf_keys: Zipf,
    pub(crate) zipf_assets: Zipf,
    pub(crate) dropped: u64,
    pub(crate) open_requests: u64,
    /// What each session's browser remembers: the database position of its
    /// last confirmed write (sent along for read-your-writes routing).
    pub(crate) session_tokens: Vec<crate::request::Version>,
}

impl Simulation {
    /// Builds the world a scenario describes, with `seed` for every random
    /// choice, and schedules the scenario's script.
    pub fn new(scenario: &Scenario, seed: u64) -> Result<Simulation, Error> {
        scenario.validate()?;
        let sc = scenario.clone();
        let n_regions = sc.network.regions.len();
        let in_region = ms_to_micros(sc.network.in_region_rtt_ms) / 2;
        let mut one_way = vec![vec![50 * MS; n_regions]; n_regions];
        for (i, row) in one_way.iter_mut().enumerate() {
            row[i] = in_region;
        }
        for l in &sc.network.rtt_ms {
            if let (Some(a), Some(b)) = (sc.region_index(&l.a), sc.region_index(&l.b)) {
                let v = ms_to_micros(l.ms) / 2;
                one_way[a][b] = v;
                one_way[b][a] = v;
            }
        }
        let (mean_gap, mix) = workload_rates(&sc);
        let cdn_on = sc.cdn.enabled;
        let cfg = Config {
            client_timeout: ms_to_micros(sc.workload.client_timeout_ms),
            mean_gap,
            dns_ttl: secs_to_micros(sc.dns.ttl_s),
            dns_timeout: ms_to_micros(sc.dns.timeout_ms),
            dns_health: secs_to_micros(sc.dns.health_interval_s),
            cdn_ttl: secs_to_micros(sc.cdn.ttl_s),
            cdn_origin_timeout: ms_to_micros(sc.cdn.origin_timeout_ms),
            lb_health: ms_to_micros(sc.lb.health_interval_ms),
            lb_upstream_timeout: ms_to_micros(sc.lb.upstream_timeout_ms),
            lb_heartbeat: ms_to_micros(sc.lb.heartbeat_ms),
            cache_ttl: secs_to_micros(sc.cache.ttl_s),
            cache_timeout: ms_to_micros(sc.app.cache_timeout_ms),
            db_timeout: ms_to_micros(sc.app.db_timeout_ms),
            db_heartbeat: ms_to_micros(sc.db.heartbeat_ms),
            election_min: ms_to_micros(sc.db.election_timeout_ms[0]),
            election_max: ms_to_micros(sc.db.election_timeout_ms[1]),
            mix,
        };
        let rng = Rngs {
            workload: SimRng::new(seed, Stream::Workload),
            service: SimRng::new(seed, Stream::Service),
            network: SimRng::new(seed, Stream::Network),
            election: SimRng::new(seed, Stream::Election),
            design: SimRng::new(seed, Stream::Design),
        };
        let mut sim = Simulation {
            zipf_keys: Zipf::new(sc.workload.keys, sc.workload.key_skew),
            zipf_assets: Zipf::new(sc.workload.assets, sc.workload.asset_skew),
            truth: Truth::new(&sc),
            metrics: Metrics::new(),
            scenario: sc,
            seed,
            cfg,
            now: SimTime::ZERO,
            queue: EventQueue::default(),
            nodes: Vec::new(),
            status: Vec::new(),
            names: BTreeMap::new(),
            one_way,
            blocked: Vec::new(),
            n_blocked: 0,
            links: BTreeMap::new(),
            rng,
            clients: Vec::new(),
            resolvers: Vec::new(),
            auth: Vec::new(),
            cdns: Vec::new(),
            lbs: Vec::new(),
            apps: Vec::new(),
            caches: Vec::new(),
            dbs: Vec::new(),
            queues: Vec::new(),
            shard_first: Vec::new(),
            shard_bounds: Vec::new(),
            workers: Vec::new(),
            job_effects: BTreeMap::new(),
            vip: None,
            reqs: VecDeque::new(),
            req_base: 0,
            traces: VecDeque::new(),
            log: Vec::new(),
            effects: Vec::with_capacity(16),
            events: 0,
            fp: TraceHash(0xcbf2_9ce4_8422_2325),
            commands: Vec::new(),
            dropped: 0,
            open_requests: 0,
            session_tokens: Vec::new(),
        };
        sim.build(cdn_on);
        let sessions =
            sim.scenario.workload.sessions_per_region as usize * sim.scenario.network.regions.len();
        sim.session_tokens = vec![crate::request::Version::default(); sessions];
        let n = sim.nodes.len();
        sim.blocked = vec![false; n * n];
        sim.start_nodes();
        sim.queue.push(SimTime(crate::time::SEC), Event::Tick);
        let script = sim.scenario.script.clone();
        for c in script {
            sim.schedule(SimTime::from_secs_f64(c.at_s), c.command)?;
        }
        Ok(sim)
    }

    fn add_node(&mut self, name: String, kind: NodeKind, region: usize, tier_idx: usize) -> NodeId {
        let id = NodeId(self.nodes.len() as u16);
        self.names.insert(name.clone(), id);
        self.nodes.push(NodeInfo {
            name,
            kind,
            region: region as u8,
            tier_idx: tier_idx as u16,
        });
        self.status.push(NodeStatus::default());
        id
    }

    /// Creates every node, tier by tier, in the order of the request path.
    fn build(&mut self, cdn_on: bool) {
        let regions: Vec<String> = self
            .scenario
            .network
            .regions
            .iter()
            .map(|r| r.name.clone())
            .collect();
        let spr = self.scenario.workload.sessions_per_region;
        for (r, name) in regions.iter().enumerate() {
            let id = self.add_node(
                format!("client-{name}"),
                NodeKind::Client,
                r,
                self.clients.len(),
            );
            self.clients.push(ClientNode::new(id, r, r as u32 * spr));
        }
        for (r, name) in regions.iter().enumerate() {
            self.add_node(
                format!("dns-{name}"),
                NodeKind::Resolver,
                r,
                self.resolvers.len(),
            );
            self.resolvers.push(ResolverNode::default());
        }
        self.add_node("dns-auth".into(), NodeKind::DnsAuthority, 0, 0);
        if cdn_on {
            for (r, name) in regions.iter().enumerate() {
                let id = self.add_node(format!("cdn-{name}"), NodeKind::Cdn, r, self.cdns.len());
                self.cdns.push(CdnNode::new(id, self.scenario.cdn.capacity));
            }
        }
        let cdn_ids: Vec<NodeId> = self.cdns.iter().map(|c| c.id).collect();
        self.auth.push(AuthNode::new(&cdn_ids, regions.len()));
        let n_apps = self.scenario.app.servers as usize;
        let weights: Vec<f64> = (0..n_apps).map(|i| self.app_weight(i)).collect();
        for (i, name) in ["lb-a", "lb-b"].into_iter().enumerate() {
            self.add_node(name.into(), NodeKind::Lb, 0, i);
            self.lbs.push(LbNode::new(
                i == 0,
                &weights,
                self.scenario.lb.virtual_nodes,
            ));
        }
        self.vip = self.names.get("lb-a").copied();
        for (i, w) in weights.iter().enumerate() {
            let id = self.add_node(format!("app-{}", i + 1), NodeKind::App, 0, i);
            let workers = (self.scenario.app.workers as f64 * w).round() as u32;
            self.apps.push(AppNode::new(id, workers));
        }
        if self.scenario.cache.enabled {
            self.add_node("cache-1".into(), NodeKind::Cache, 0, 0);
            self.caches.push(CacheNode::new(
                self.scenario.cache.capacity,
                self.scenario.cache.eviction,
            ));
        }
        let replicas = self.scenario.db.replicas as usize;
        let keys = self.scenario.workload.keys;
        for shard in 0..self.scenario.db.shards as usize {
            let mut members = Vec::new();
            let first = self.dbs.len();
            for r in 0..replicas {
                // A multi-leader group puts a replica in each region unless placed otherwise.
                let default_region =
                    if self.scenario.db.replication == crate::scenario::Replication::MultiLeader {
                        r % self.scenario.network.regions.len()
                    } else {
                        0
                    };
                let region = self
                    .scenario
                    .db
                    .placement
                    .get(r)
                    .and_then(|p| self.scenario.region_index(p))
                    .unwrap_or(default_region);
                let id = self.add_node(format!("db-{shard}-{r}"), NodeKind::Db, region, first + r);
                members.push(id);
            }
            for (r, &id) in members.iter().enumerate() {
                let mut d = DbNode::new(id, r, members.clone(), keys);
                d.shard = shard;
                self.dbs.push(d);
            }
            self.shard_first.push(first);
        }
        let n = self.scenario.db.shards as usize;
        self.shard_bounds = if self.scenario.db.range_bounds.is_empty() {
            (1..n)
                .map(|i| (keys as u64 * i as u64 / n as u64) as u32)
                .collect()
        } else {
            self.scenario.db.range_bounds.clone()
        };
        if self.scenario.queue.enabled {
            self.add_node("queue-1".into(), NodeKind::Queue, 0, 0);
            self.queues.push(QueueNode::default());
            for i in 0..self.scenario.queue.workers as usize {
                self.add_node(format!("worker-{}", i + 1), NodeKind::Worker, 0, i);
                self.workers.push(WorkerNode::default());
            }
        }
        // Every app server starts out believing each shard's first replica leads.
        let guesses = self.first_replicas();
        for a in &mut self.apps {
            a.leader_guess = guesses.clone();
        }
        for c in &mut self.caches {
            c.leader_guess = guesses.clone();
        }
    }

    /// The shard a key lives on.
    pub(crate) fn shard_of(&self, key: u32) -> usize {
        let n = self.shard_first.len().max(1);
        if n == 1 {
            return 0;
        }
        match self.scenario.db.partitioning {
            crate::scenario::Partitioning::Hash => {
                (crate::hashing::hash64(key as u64) % n as u64) as usize
            }
            crate::scenario::Partitioning::Range => {
                self.shard_bounds.partition_point(|&b| b <= key)
            }
        }
    }

    /// The first replica of each shard (where leadership starts).
    pub(crate) fn first_replicas(&self) -> Vec<Option<NodeId>> {
        self.shard_first
            .iter()
            .map(|&t| self.dbs.get(t).map(|d| d.id))
            .collect()
    }

    /// The replicas (tier indices) of one shard.
    pub(crate) fn shard_replicas(&self, shard: usize) -> std::ops::Range<usize> {
        let start = self.shard_first.get(shard).copied().unwrap_or(0);
        start..start + self.scenario.db.replicas as usize
    }

    /// The relative size of app server `i` (1 unless the scenario says).
    pub(crate) fn app_weight(&self, i: usize) -> f64 {
        self.scenario.app.weights.get(i).copied().unwrap_or(1.0)
    }

    /// Starts each node's periodic work.
    fn start_nodes(&mut self) {
        for i in 0..self.nodes.len() {
            self.boot(NodeId(i as u16));
        }
        // The first replica starts as leader of term 1 so the system is
        // healthy from the first request; elections happen only on failure.
        if !self.scenario.db.replication.leaderless() {
            for first in self.shard_first.clone() {
                self.db_become_leader(first, 1);
            }
        }
        self.flush();
    }

    /// What a node does when it starts (at time zero or on restart).
    pub(crate) fn boot(&mut self, id: NodeId) {
        let info = &self.nodes[id.idx()];
        let t = info.tier_idx as usize;
        match info.kind {
            NodeKind::Client => self.client_boot(t),
            NodeKind::DnsAuthority => self.auth_boot(id),
            NodeKind::Lb => self.lb_boot(id, t),
            NodeKind::Db => self.db_boot(t),
            NodeKind::Cache => self.cache_boot(id),
            NodeKind::Queue => self.queue_boot(id),
            NodeKind::Worker => self.worker_boot(id, t),
            NodeKind::Resolver | NodeKind::Cdn | NodeKind::App => {}
        }
    }

    // ----- effects -------------------------------------------------------

    /// Asks the engine to send a message after `delay` of local work.
    pub(crate) fn send(&mut self, from: NodeId, to: impl Into<Dest>, msg: Msg, delay: Micros) {
        self.effects.push(Effect::Send {
            from,
            to: to.into(),
            msg,
            delay,
        });
    }

    /// Asks the engine to wake `node` after `after`.
    pub(crate) fn timer(&mut self, node: NodeId, after: Micros, timer: Timer) {
        self.effects.push(Effect::Timer { node, after, timer });
    }

    /// Scales a span of work by the node's slowness.
    pub(crate) fn work(&self, node: NodeId, us: Micros) -> Micros {
        let f = self.status[node.idx()].slow;
        if f == 1.0 {
            us
        } else {
            (us as f64 * f) as Micros
        }
    }

    /// Carries out every effect handlers asked for.
    pub(crate) fn flush(&mut self) {
        let mut effects = std::mem::take(&mut self.effects);
        for e in effects.drain(..) {
            match e {
                Effect::Send {
                    from,
                    to,
                    msg,
                    delay,
                } => self.transmit(from, to, msg, delay),
                Effect::Timer { node, after, timer } => {
                    let life = self.status[node.idx()].incarnation;
                    let ev = Event::Timer { node, life, timer };
                    if timer.fixed_span() {
                        self.queue.push_after(self.now, after, ev);
                    } else {
                        self.queue.push(self.now.after(after), ev);
                    }
                }
            }
        }
        self.effects = effects;
    }

    /// Puts a message on the network: partitions and loss may drop it,
    /// otherwise it arrives after the link's delay.
    fn transmit(&mut self, from: NodeId, to: Dest, msg: Msg, delay: Micros) {
        let to = match to {
            Dest::Node(n) => n,
            Dest::Origin => match self.vip {
                Some(n) => n,
                None => {
                    self.dropped += 1;
                    return;
                }
            },
        };
        if from == to {
            let sent = self.now.after(delay);
            self.queue.push(
                sent,
                Event::Deliver {
                    from,
                    to,
                    sent,
                    msg,
                },
            );
            return;
        }
        if self.is_blocked(from, to) {
            self.dropped += 1;
            return;
        }
        let ra = self.nodes[from.idx()].region as usize;
        let rb = self.nodes[to.idx()].region as usize;
        let base = self.one_way[ra][rb];
        let mut lat = base;
        let jitter = self.scenario.network.jitter;
        if jitter > 0.0 && base > 0 {
            lat += (base as f64 * jitter * self.rng.network.unit()) as Micros;
        }
        if !self.links.is_empty() {
            let key = if from < to {
                (from.0, to.0)
            } else {
                (to.0, from.0)
            };
            if let Some(f) = self.links.get(&key).copied() {
                if f.loss > 0.0 && self.rng.network.chance(f.loss) {
                    self.dropped += 1;
                    return;
                }
                lat += f.extra;
                if f.jitter > 0 {
                    lat += self.rng.network.below(f.jitter + 1);
                }
            }
        }
        let sent = self.now.after(delay);
        self.queue.push(
            sent.after(lat),
            Event::Deliver {
                from,
                to,
                sent,
                msg,
            },
        );
    }

    /// Whether messages from `from` to `to` are currently cut.
    pub(crate) fn is_blocked(&self, from: NodeId, to: NodeId) -> bool {
        self.n_blocked > 0 && self.blocked[from.idx() * self.nodes.len() + to.idx()]
    }

    // ----- the loop ------------------------------------------------------

    /// The current simulated time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Processes the next event. Returns false when nothing is left.
    pub fn step(&mut self) -> bool {
        let Some((at, ev)) = self.queue.pop() else {
            return false;
        };
        self.process(at, ev);
        true
    }

    #[inline]
    fn process(&mut self, at: SimTime, ev: Event) {
        self.now = at;
        self.events += 1;
        self.fp.mix(at.0);
        self.dispatch(ev);
        self.flush();
    }

    /// Processes every event up to and including time `t`, then sets the
    /// clock to `t`. Returns how many events ran.
    pub fn step_until(&mut self, t: SimTime) -> u64 {
        let before = self.events;
        while let Some((at, ev)) = self.queue.pop_until(t) {
            self.process(at, ev);
        }
        if t > self.now {
            self.now = t;
        }
        self.events - before
    }

    /// Like [`Simulation::step_until`], but stops after at most `budget`
    /// events (for an interface that must not block a frame). Returns true
    /// when `t` was reached.
    pub fn step_until_bounded(&mut self, t: SimTime, budget: u64) -> bool {
        for _ in 0..budget {
            match self.queue.pop_until(t) {
                Some((at, ev)) => self.process(at, ev),
                None => {
                    if t > self.now {
                        self.now = t;
                    }
                    return true;
                }
            }
        }
        if self.queue.peek_time().is_some_and(|at| at <= t) {
            return false;
        }
        if t > self.now {
            self.now = t;
        }
        true
    }

    /// Runs to the scenario's duration.
    pub fn run(&mut self) {
        let end = SimTime::from_secs_f64(self.scenario.duration_s);
        self.step_until(end);
    }

    /// Runs for `secs` more simulated seconds.
    pub fn run_for(&mut self, secs: f64) {
        let end = self.now.after(secs_to_micros(secs));
        self.step_until(end);
    }

    fn dispatch(&mut self, ev: Event) {
        match ev {
            Event::Deliver { from, to, msg, .. } => {
                self.fp
                    .mix(msg.tag() << 32 | (to.0 as u64) << 16 | from.0 as u64);
                if let Some(r) = msg.request() {
                    self.fp.mix(r.0);
                }
                if !self.status[to.idx()].up || self.is_blocked(from, to) {
                    self.dropped += 1;
                    return;
                }
                let t = self.nodes[to.idx()].tier_idx as usize;
                match self.nodes[to.idx()].kind {
                    NodeKind::Client => self.client_on_msg(t, from, msg),
                    NodeKind::Resolver => self.resolver_on_msg(to, t, from, msg),
                    NodeKind::DnsAuthority => self.auth_on_msg(to, from, msg),
                    NodeKind::Cdn => self.cdn_on_msg(to, t, from, msg),
                    NodeKind::Lb => self.lb_on_msg(to, t, from, msg),
                    NodeKind::App => self.app_on_msg(to, t, from, msg),
                    NodeKind::Cache => self.cache_on_msg(to, from, msg),
                    NodeKind::Db => self.db_on_msg(t, from, msg),
                    NodeKind::Queue => self.queue_on_msg(to, from, msg),
                    NodeKind::Worker => self.worker_on_msg(to, t, msg),
                }
            }
            Event::Timer { node, life, timer } => {
                self.fp.mix(timer.tag() << 32 | node.0 as u64);
                let st = &self.status[node.idx()];
                if !st.up || st.incarnation != life {
                    return;
                }
                let t = self.nodes[node.idx()].tier_idx as usize;
                match timer {
                    Timer::Arrival => self.client_arrival(t),
                    Timer::ClientTimeout(r) => self.client_timeout(t, r),
                    Timer::ResolverTimeout(name, epoch) => {
                        self.resolver_timeout(node, t, name, epoch)
                    }
                    Timer::AuthHealth => self.auth_health(node),
                    Timer::CdnOriginTimeout(r) => self.cdn_origin_timeout(node, r),
                    Timer::LbHealth => self.lb_health(node, t),
                    Timer::LbVrrp => self.lb_vrrp(node, t),
                    Timer::LbUpstreamTimeout(r) => self.lb_upstream_timeout(node, t, r),
                    Timer::AppCpu(r) => self.app_cpu_done(node, t, r),
                    Timer::AppCallTimeout(r, call) => self.app_call_timeout(node, t, r, call),
                    Timer::DbElection => self.db_election_timer(t),
                    Timer::DbHeartbeat(term) => self.db_heartbeat(t, term),
                    Timer::DbApply(i) => self.db_apply(t, i),
                    Timer::CacheFlush => self.cache_flush(node),
                    Timer::QueueTick if self.nodes[node.idx()].kind == NodeKind::Queue => {
                        self.queue_tick(node)
                    }
                    Timer::QueueTick => self.worker_tick(node, t),
                    Timer::WorkerStep(job, delivery, step) => {
                        self.worker_step(node, t, job, delivery, step)
                    }
                }
            }
            Event::Command(i) => {
                self.fp.mix(0xC0DE_0000 | i as u64);
                if let Some(cmd) = self.commands.get(i as usize).cloned() {
                    // Checked when scheduled; a failure here would be a bug,
                    // and it is reported in the log rather than panicking.
                    if let Err(e) = self.apply_now(&cmd) {
                        self.log_event(LogEvent::CommandFailed(e.to_string()));
                    }
                }
            }
            Event::Tick => {
                self.metrics_tick();
                self.queue
                    .push(self.now.after(crate::time::SEC), Event::Tick);
            }
        }
    }

    // ----- requests and traces --------------------------------------------

    /// The in-flight record of a request, if it is still kept.
    pub(crate) fn req(&mut self, id: RequestId) -> Option<&mut Req> {
        let i = id.0.checked_sub(self.req_base)? as usize;
        self.reqs.get_mut(i)
    }

    /// Opens a hop at `node` for request `id`; returns its index.
    pub(crate) fn hop_open(&mut self, id: RequestId, node: NodeId, note: HopNote) -> u8 {
        let now = self.now;
        match self.req(id) {
            Some(r) if r.hops.len() < 250 => {
                r.hops.push(Hop {
                    node,
                    start: now,
                    end: SimTime::NEVER,
                    note,
                });
                (r.hops.len() - 1) as u8
            }
            _ => u8::MAX,
        }
    }

    /// Closes hop `idx` of request `id` at `end` with `note`.
    pub(crate) fn hop_close(&mut self, id: RequestId, idx: u8, end: SimTime, note: HopNote) {
        if let Some(r) = self.req(id)
            && let Some(h) = r.hops.get_mut(idx as usize)
            && h.end == SimTime::NEVER
        {
            h.end = end;
            h.note = note;
        }
    }

    /// Records a complete hop.
    pub(crate) fn hop_span(
        &mut self,
        id: RequestId,
        node: NodeId,
        start: SimTime,
        end: SimTime,
        note: HopNote,
    ) {
        if let Some(r) = self.req(id)
            && r.hops.len() < 250
        {
            r.hops.push(Hop {
                node,
                start,
                end,
                note,
            });
        }
    }

    // ----- commands --------------------------------------------------------

    /// Looks up a node by its id, e.g. `db-0-1`.
    pub fn node_id(&self, name: &str) -> Result<NodeId, Error> {
        self.names
            .get(name)
            .copied()
            .ok_or_else(|| Error::UnknownNode(name.to_string()))
    }

    /// The readable id of a node.
    pub fn node_name(&self, id: NodeId) -> &str {
        self.nodes
            .get(id.idx())
            .map(|n| n.name.as_str())
            .unwrap_or("?")
    }

    fn region_id(&self, name: &str) -> Result<usize, Error> {
        self.scenario
            .region_index(name)
            .ok_or_else(|| Error::UnknownRegion(name.to_string()))
    }

    /// Checks that a command names real things and makes sense, without
    /// changing anything.
    pub fn check(&self, cmd: &Command) -> Result<(), Error> {
        match cmd {
            Command::Crash { node } | Command::Restart { node } | Command::Isolate { node } => {
                self.node_id(node).map(|_| ())
            }
            Command::Partition { groups } => {
                if groups.len() < 2 {
                    return Err(Error::BadCommand(
                        "a partition needs at least two groups".into(),
                    ));
                }
                let mut seen = Vec::new();
                for g in groups {
                    if g.is_empty() {
                        return Err(Error::BadCommand("a partition group is empty".into()));
                    }
                    for n in g {
                        let id = self.node_id(n)?;
                        if seen.contains(&id) {
                            return Err(Error::BadCommand(format!(
                                "{n} is in two partition groups"
                            )));
                        }
                        seen.push(id);
                    }
                }
                Ok(())
            }
            Command::PartitionOneWay { from, to } => {
                if from.is_empty() || to.is_empty() {
                    return Err(Error::BadCommand(
                        "a one-way partition needs nodes on both sides".into(),
                    ));
                }
                for n in from.iter().chain(to) {
                    self.node_id(n)?;
                }
                Ok(())
            }
            Command::Heal => Ok(()),
            Command::Link {
                a,
                b,
                latency_ms,
                jitter_ms,
                loss,
            } => {
                let (ia, ib) = (self.node_id(a)?, self.node_id(b)?);
                if ia == ib {
                    return Err(Error::BadCommand(format!(
                        "a link needs two different nodes, got {a} twice"
                    )));
                }
                for (name, v, hi) in [
                    ("latency_ms", latency_ms, 600_000.0),
                    ("jitter_ms", jitter_ms, 600_000.0),
                    ("loss", loss, 1.0),
                ] {
                    if !(v.is_finite() && *v >= 0.0 && *v <= hi) {
                        return Err(Error::BadCommand(format!(
                            "{name} must be between 0 and {hi}, got {v}"
                        )));
                    }
                }
                Ok(())
            }
            Command::Slow { node, factor } => {
                self.node_id(node)?;
                if factor.is_finite() && (1.0..=1000.0).contains(factor) {
                    Ok(())
                } else {
                    Err(Error::BadCommand(format!(
                        "slow factor must be between 1 and 1000, got {factor}"
                    )))
                }
            }
            Command::RegionDown { region } | Command::RegionUp { region } => {
                self.region_id(region).map(|_| ())
            }
            Command::Flush { node } => {
                let id = self.node_id(node)?;
                match self.nodes[id.idx()].kind {
                    NodeKind::Cache | NodeKind::Cdn => Ok(()),
                    k => Err(Error::BadCommand(format!(
                        "{node} is a {k}; only caches and CDN edges can be flushed"
                    ))),
                }
            }
            Command::DnsSet { region, target } => {
                if let Some(r) = region {
                    self.region_id(r)?;
                }
                if target == "origin" {
                    return Ok(());
                }
                let id = self.node_id(target)?;
                if self.nodes[id.idx()].kind != NodeKind::Cdn {
                    return Err(Error::BadCommand(format!(
                        "{target} is not a CDN edge; static content can point at a cdn-… node or at origin"
                    )));
                }
                Ok(())
            }
            Command::DnsAuto { region } => {
                if let Some(r) = region {
                    self.region_id(r)?;
                }
                Ok(())
            }
            Command::SetLoad { .. } => {
                let mut s = self.scenario.clone();
                s.workload = self.load_after(cmd);
                s.validate()
                    .map_err(|e| Error::BadCommand(e.to_string().replace("bad scenario: ", "")))
            }
            Command::SetDb {
                sync_followers: Some(k),
                ..
            } if *k < 1 || *k >= self.scenario.db.replicas.max(2) => {
                Err(Error::BadCommand(format!(
                    "sync_followers must be between 1 and {} (the followers there are), got {k}",
                    self.scenario.db.replicas.saturating_sub(1).max(1)
                )))
            }
            Command::SetDb {
                replication: Some(r), ..
            } if *r != self.scenario.db.replication && (r.leaderless() || self.scenario.db.replication.leaderless()) => {
                Err(Error::BadCommand(
                    "switching to or from leaderless quorums or multiple leaders needs a new run: set db.replication in the scenario".into(),
                ))
            }
            Command::SetCache { ttl_s: Some(t), .. } if !(t.is_finite() && (0.0..=86_400.0).contains(t)) => {
                Err(Error::BadCommand(format!("ttl_s must be between 0 and 86400 seconds, got {t}")))
            }
            Command::SetDb { .. } | Command::SetApp { .. } | Command::SetCache { .. } => Ok(()),
            Command::SetLb { virtual_nodes, .. } => match virtual_nodes {
                Some(v) if !(1..=10_000).contains(v) => Err(Error::BadCommand(format!(
                    "virtual_nodes must be between 1 and 10000, got {v}"
                ))),
                _ => Ok(()),
            },
            Command::Scale { servers } => {
                if (1..=256).contains(servers) {
                    Ok(())
                } else {
                    Err(Error::BadCommand(format!(
                        "the app tier needs 1 to 256 servers, got {servers}"
                    )))
                }
            }
        }
    }

    /// Schedules a command at simulated time `at` (now, if `at` has passed).
    pub fn schedule(&mut self, at: SimTime, cmd: Command) -> Result<(), Error> {
        self.check(&cmd)?;
        let i = self.commands.len() as u32;
        self.commands.push(cmd);
        self.queue.push(at.max(self.now), Event::Command(i));
        Ok(())
    }

    /// Applies a command now. On error nothing changes.
    pub fn apply(&mut self, cmd: &Command) -> Result<(), Error> {
        self.schedule(self.now, cmd.clone())?;
        // Run it (and anything else due at this instant) right away.
        self.step_until(self.now);
        Ok(())
    }

    fn apply_now(&mut self, cmd: &Command) -> Result<(), Error> {
        self.check(cmd)?;
        self.log_event(LogEvent::Command(cmd.describe()));
        match cmd {
            Command::Crash { node } => {
                let id = self.node_id(node)?;
                self.crash(id);
            }
            Command::Restart { node } => {
                let id = self.node_id(node)?;
                self.status[id.idx()].region_down = false;
                self.restart(id);
            }
            Command::Partition { groups } => {
                let ids: Vec<Vec<NodeId>> = groups
                    .iter()
                    .map(|g| g.iter().map(|n| self.node_id(n)).collect::<Result<_, _>>())
                    .collect::<Result<_, _>>()?;
                for (i, ga) in ids.iter().enumerate() {
                    for (j, gb) in ids.iter().enumerate() {
                        if i != j {
                            for &a in ga {
                                for &b in gb {
                                    self.block(a, b);
                                }
                            }
                        }
                    }
                }
            }
            Command::PartitionOneWay { from, to } => {
                for a in from {
                    for b in to {
                        let (a, b) = (self.node_id(a)?, self.node_id(b)?);
                        if a != b {
                            self.block(a, b);
                        }
                    }
                }
            }
            Command::Isolate { node } => {
                let id = self.node_id(node)?;
                for i in 0..self.nodes.len() {
                    let other = NodeId(i as u16);
                    if other != id {
                        self.block(id, other);
                        self.block(other, id);
                    }
                }
            }
            Command::Heal => {
                self.blocked.iter_mut().for_each(|b| *b = false);
                self.n_blocked = 0;
            }
            Command::Link {
                a,
                b,
                latency_ms,
                jitter_ms,
                loss,
            } => {
                let (a, b) = (self.node_id(a)?, self.node_id(b)?);
                let key = if a < b { (a.0, b.0) } else { (b.0, a.0) };
                let f = LinkFault {
                    extra: ms_to_micros(*latency_ms),
                    jitter: ms_to_micros(*jitter_ms),
                    loss: *loss,
                };
                if f == LinkFault::default() {
                    self.links.remove(&key);
                } else {
                    self.links.insert(key, f);
                }
            }
            Command::Slow { node, factor } => {
                let id = self.node_id(node)?;
                self.status[id.idx()].slow = *factor;
            }
            Command::RegionDown { region } => {
                let r = self.region_id(region)?;
                for i in 0..self.nodes.len() {
                    let id = NodeId(i as u16);
                    if self.nodes[i].region as usize == r
                        && self.nodes[i].kind.is_server()
                        && self.status[i].up
                    {
                        self.crash(id);
                        self.status[i].region_down = true;
                    }
                }
            }
            Command::RegionUp { region } => {
                let r = self.region_id(region)?;
                for i in 0..self.nodes.len() {
                    if self.nodes[i].region as usize == r && self.status[i].region_down {
                        self.status[i].region_down = false;
                        self.restart(NodeId(i as u16));
                    }
                }
            }
            Command::Flush { node } => {
                let id = self.node_id(node)?;
                let t = self.nodes[id.idx()].tier_idx as usize;
                match self.nodes[id.idx()].kind {
                    NodeKind::Cache => self.caches[t].store.clear(),
                    NodeKind::Cdn => self.cdns[t].store.clear(),
                    _ => {}
                }
            }
            Command::DnsSet { region, target } => {
                let target = if target == "origin" {
                    crate::msg::Target::Origin
                } else {
                    crate::msg::Target::Node(self.node_id(target)?)
                };
                let regions = match region {
                    Some(r) => vec![self.region_id(r)?],
                    None => (0..self.scenario.network.regions.len()).collect(),
                };
                for r in regions {
                    self.auth[0].overrides[r] = Some(target);
                }
            }
            Command::DnsAuto { region } => {
                let regions = match region {
                    Some(r) => vec![self.region_id(r)?],
                    None => (0..self.scenario.network.regions.len()).collect(),
                };
                for r in regions {
                    self.auth[0].overrides[r] = None;
                }
            }
            Command::SetLoad { key_skew, .. } => {
                self.scenario.workload = self.load_after(cmd);
                if let Some(v) = key_skew {
                    self.zipf_keys = Zipf::new(self.scenario.workload.keys, *v);
                }
                let was_idle = self
                    .cfg
                    .mean_gap
                    .iter()
                    .map(|g| !g.is_finite())
                    .collect::<Vec<_>>();
                let (gaps, mix) = workload_rates(&self.scenario);
                self.cfg.mean_gap = gaps;
                self.cfg.mix = mix;
                // A region whose users were silent has no arrival scheduled.
                for (t, idle) in was_idle.into_iter().enumerate() {
                    if idle && t < self.clients.len() {
                        self.client_boot(t);
                    }
                }
            }
            Command::SetDb {
                replication,
                follower_ack,
                read_from,
                fencing,
                sync_followers,
            } => {
                let d = &mut self.scenario.db;
                if let Some(v) = replication {
                    d.replication = *v;
                }
                if let Some(v) = follower_ack {
                    d.follower_ack = *v;
                }
                if let Some(v) = read_from {
                    d.read_from = *v;
                }
                if let Some(v) = fencing {
                    d.fencing = *v;
                }
                if let Some(k) = sync_followers {
                    d.sync_followers = *k;
                }
                // Writes waiting under the old policy are settled under the new one.
                for t in 0..self.dbs.len() {
                    if self.dbs[t].role == crate::db::Role::Leader {
                        self.db_advance_commit(t);
                    }
                }
            }
            Command::SetLb {
                strategy,
                sticky,
                virtual_nodes,
            } => {
                let lb = &mut self.scenario.lb;
                if let Some(s) = strategy {
                    lb.strategy = *s;
                }
                if let Some(s) = sticky {
                    lb.sticky = *s;
                }
                if let Some(v) = virtual_nodes {
                    lb.virtual_nodes = *v;
                    for b in &mut self.lbs {
                        b.rebuild_ring(*v);
                    }
                }
            }
            Command::SetApp { session_store } => self.scenario.app.session_store = *session_store,
            Command::SetCache {
                write_policy,
                eviction,
                ttl_s,
            } => {
                if let Some(t) = ttl_s {
                    self.scenario.cache.ttl_s = *t;
                    self.cfg.cache_ttl = secs_to_micros(*t);
                }
                if let Some(w) = write_policy {
                    self.scenario.cache.write_policy = *w;
                }
                if let Some(e) = eviction {
                    self.scenario.cache.eviction = *e;
                    for c in &mut self.caches {
                        c.store.set_policy(*e);
                    }
                }
            }
            Command::Scale { servers } => self.scale_apps(*servers as usize),
        }
        Ok(())
    }

    /// The workload as it would be after a `set-load` command (other
    /// commands leave it as it is).
    fn load_after(&self, cmd: &Command) -> crate::scenario::WorkloadSpec {
        let mut w = self.scenario.workload.clone();
        if let Command::SetLoad {
            requests_per_s,
            static_,
            read,
            write,
            key_skew,
        } = cmd
        {
            let set = |field: &mut f64, v: &Option<f64>| {
                if let Some(v) = v {
                    *field = *v;
                }
            };
            set(&mut w.requests_per_s, requests_per_s);
            set(&mut w.mix.static_, static_);
            set(&mut w.mix.read, read);
            set(&mut w.mix.write, write);
            set(&mut w.key_skew, key_skew);
        }
        w
    }

    /// Brings the number of app servers in service to `target`: retired
    /// servers return first, then new ones are built; scaling in retires the
    /// highest numbered.
    fn scale_apps(&mut self, target: usize) {
        let vnodes = self.scenario.lb.virtual_nodes;
        let mut active = self.apps.iter().filter(|a| !a.retired).count();
        while active < target {
            if let Some(t) = self.apps.iter().position(|a| a.retired) {
                self.apps[t].retired = false;
                for lb in &mut self.lbs {
                    lb.backends[t].retired = false;
                }
                let id = self.apps[t].id;
                self.restart(id);
            } else {
                let t = self.apps.len();
                let id = self.add_node(format!("app-{}", t + 1), NodeKind::App, 0, t);
                self.grow_blocked();
                let mut app = AppNode::new(id, self.scenario.app.workers);
                app.leader_guess = self.first_replicas();
                self.apps.push(app);
                for lb in &mut self.lbs {
                    lb.add_backend(1.0, vnodes);
                }
            }
            active += 1;
        }
        while active > target {
            let Some(t) = self.apps.iter().rposition(|a| !a.retired) else {
                break;
            };
            self.apps[t].retired = true;
            for lb in &mut self.lbs {
                lb.backends[t].retired = true;
            }
            // It drains: no new requests; it stops once the ones it has are done.
            if self.apps[t].busy == 0 && self.apps[t].queue.is_empty() {
                let id = self.apps[t].id;
                self.crash(id);
            }
            active -= 1;
        }
        for lb in &mut self.lbs {
            lb.rebuild_ring(vnodes);
        }
    }

    /// Makes room in the partition matrix for a node just added.
    fn grow_blocked(&mut self) {
        let n = self.nodes.len();
        let old = n - 1;
        let mut grown = vec![false; n * n];
        for a in 0..old {
            for b in 0..old {
                grown[a * n + b] = self.blocked[a * old + b];
            }
        }
        self.blocked = grown;
    }

    fn block(&mut self, a: NodeId, b: NodeId) {
        let i = a.idx() * self.nodes.len() + b.idx();
        if !self.blocked[i] {
            self.blocked[i] = true;
            self.n_blocked += 1;
        }
    }

    /// Stops a node: it forgets its memory and ignores messages and timers.
    pub(crate) fn crash(&mut self, id: NodeId) {
        if !self.status[id.idx()].up {
            return;
        }
        self.status[id.idx()].up = false;
        self.status[id.idx()].incarnation += 1;
        let retired = self.nodes[id.idx()].kind == NodeKind::App
            && self
                .apps
                .get(self.nodes[id.idx()].tier_idx as usize)
                .is_some_and(|a| a.retired);
        self.log_event(if retired {
            LogEvent::Retired(id)
        } else {
            LogEvent::Crashed(id)
        });
        // Whatever the node was doing for requests is gone with it.
        for r in self.reqs.iter_mut() {
            if r.app == Some(id) {
                r.app = None;
            }
            if r.lb == Some(id) {
                r.lb = None;
            }
            if r.cdn == Some(id) {
                r.cdn = None;
            }
        }
        let t = self.nodes[id.idx()].tier_idx as usize;
        match self.nodes[id.idx()].kind {
            NodeKind::Client => {}
            NodeKind::Resolver => self.resolvers[t] = ResolverNode::default(),
            NodeKind::DnsAuthority => {}
            NodeKind::Cdn => self.cdns[t].store.clear(),
            NodeKind::Lb => self.lb_crash(t),
            NodeKind::App => self.apps[t].crash(),
            NodeKind::Cache => {
                self.caches[t].store.clear();
                self.cache_lose_dirty(t);
            }
            NodeKind::Db => self.db_crash(t),
            NodeKind::Queue => {}
            NodeKind::Worker => self.workers[t].current = None,
        }
    }

    /// Starts a crashed node again.
    pub(crate) fn restart(&mut self, id: NodeId) {
        if self.status[id.idx()].up {
            return;
        }
        self.status[id.idx()].up = true;
        self.status[id.idx()].incarnation += 1;
        self.log_event(LogEvent::Restarted(id));
        self.boot(id);
    }

    /// Records a line in the event log.
    pub(crate) fn log_event(&mut self, event: LogEvent) {
        if self.log.len() < 100_000 {
            self.log.push(LogEntry {
                at: self.now,
                event,
            });
        }
    }

    /// The scenario this simulation was built from.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// App servers in service (not retired by scaling in).
    pub fn active_app_servers(&self) -> usize {
        self.apps.iter().filter(|a| !a.retired).count()
    }

    /// Events waiting in the queue.
    pub fn pending_events(&self) -> usize {
        self.queue.len()
    }

    /// Events processed so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// A hash of every event processed so far: two runs with the same
    /// scenario, seed and commands have the same fingerprint.
    pub fn fingerprint(&self) -> u64 {
        self.fp.value()
    }

    /// The fingerprint as 16 hex digits.
    pub fn fingerprint_hex(&self) -> String {
        format!("{:016x}", self.fp.value())
    }

    /// The event log so far.
    pub fn log(&self) -> &[LogEntry] {
        &self.log
    }

    /// Renders a log entry in plain words.
    pub fn describe(&self, entry: &LogEntry) -> String {
        entry.event.describe(self)
    }

    /// Finished request traces, oldest first (bounded by `trace_capacity`).
    pub fn traces(&self) -> impl DoubleEndedIterator<Item = &Trace> + ExactSizeIterator {
        self.traces.iter()
    }

    /// The trace of one finished request, if still kept.
    pub fn trace(&self, id: RequestId) -> Option<&Trace> {
        // Traces are stored in id order of completion, which is close to id
        // order; a linear scan from the back is fast for recent requests.
        self.traces.iter().rev().find(|t| t.id == id)
    }

    /// Metrics so far.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Ids and kinds of all nodes, in diagram order.
    pub fn nodes(&self) -> impl Iterator<Item = (NodeId, &str, NodeKind)> {
        self.nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (NodeId(i as u16), n.name.as_str(), n.kind))
    }
}
