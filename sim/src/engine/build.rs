//! Building a world from a scenario: the topology tier by tier in the order of the request path, each node's initial state, the network, and the scenario's script.

use super::driver::{Event, Simulation, TraceHash};
use super::net::Network;
use super::queue::EventQueue;
use crate::context::Streams;
use crate::error::Error;
use crate::metrics::Metrics;
use crate::node::{NodeId, NodeKind, NodeStatus};
use crate::requests::Requests;
use crate::rng::{SimRng, Stream};
use crate::scenario::{Replication, Scenario};
use crate::settings::Settings;
use crate::tiers::Tiers;
use crate::tiers::app_server::AppNode;
use crate::tiers::cache::CacheNode;
use crate::tiers::cdn::CdnNode;
use crate::tiers::client::ClientNode;
use crate::tiers::db::DbNode;
use crate::tiers::dns::{AuthNode, ResolverNode};
use crate::tiers::lb::LbNode;
use crate::tiers::order_queue::{QueueNode, WorkerNode};
use crate::time::{MS, SEC, SimTime, ms_to_micros};
use crate::topology::{Site, Topology};
use crate::truth::Truth;
use std::collections::VecDeque;

impl Simulation {
    /// Builds the world a scenario describes, with `seed` for every random
    /// choice, and schedules the scenario's script.
    pub fn new(scenario: &Scenario, seed: u64) -> Result<Simulation, Error> {
        let settings = Settings::new(scenario)?;
        let (topo, tiers) = build(scenario);
        let n = topo.nodes.len();
        let mut sim = Simulation {
            initial: scenario.clone(),
            seed,
            settings,
            now: SimTime::ZERO,
            queue: EventQueue::default(),
            status: vec![NodeStatus::default(); n],
            net: Network::new(
                n,
                scenario.network.jitter,
                SimRng::new(seed, Stream::Network),
            ),
            rng: Streams {
                workload: SimRng::new(seed, Stream::Workload),
                service: SimRng::new(seed, Stream::Service),
                election: SimRng::new(seed, Stream::Election),
                design: SimRng::new(seed, Stream::Design),
            },
            topo,
            tiers,
            reqs: Requests::default(),
            traces: VecDeque::new(),
            truth: Truth::new(scenario),
            metrics: Metrics::new(),
            log: Default::default(),
            effects: Vec::with_capacity(16),
            events: 0,
            fp: TraceHash(0xcbf2_9ce4_8422_2325),
            commands: Vec::new(),
            misrouted: 0,
        };
        sim.net.vips = sim
            .topo
            .sites
            .iter()
            .map(|s| s.lbs.first().copied())
            .collect();
        sim.start_nodes();
        sim.queue.push(SimTime(SEC), Event::Tick);
        for c in &scenario.script {
            sim.schedule(SimTime::from_secs_f64(c.at_s), c.command.clone())?;
        }
        Ok(sim)
    }

    /// Starts each node's periodic work.
    fn start_nodes(&mut self) {
        for i in 0..self.topo.nodes.len() {
            self.boot(crate::node::NodeId(i as u16));
        }
        // The first replica of each shard starts as leader of term 1 so the
        // system is healthy from the first request; elections happen only
        // on failure.
        if !self.settings.scenario().db.replication.leaderless() {
            let replicas = self.topo.replicas;
            for shard in 0..self.topo.shards() {
                let first = shard * replicas;
                let leader = self.tiers.dbs[first].id;
                for d in &mut self.tiers.dbs[first..first + replicas] {
                    d.set_initial_leader(leader);
                }
                super::with_cx!(self, leader, |tiers, cx| tiers.dbs[first]
                    .become_leader(cx, 1));
            }
        }
        self.flush();
    }

    /// Adds an app server to `site` (scaling out): a node, its state, a
    /// slot in the partition matrix and a backend in each of the site's
    /// balancers (whose rings the caller rebuilds once it has added all it
    /// needs).
    pub(crate) fn add_app_server(&mut self, site: usize) {
        let t = self.tiers.apps.len();
        let region = self.topo.sites[site].region;
        let n = self.topo.sites[site].apps.len();
        let region_name = &self.settings.scenario().network.regions[region].name;
        let name = site_name(site, region_name, &format!("app-{}", n + 1));
        let id = self.topo.add_in_site(name, NodeKind::App, region, t, site);
        self.topo.apps.push(id);
        self.topo.sites[site].apps.push(id);
        self.status.push(NodeStatus::default());
        self.net.grow();
        let mut app = AppNode::new(id, self.settings.scenario().app.workers);
        app.leader_guess = self.topo.first_replicas();
        self.tiers.apps.push(app);
        for lb in self.tiers.lbs.iter_mut().filter(|lb| lb.site == site) {
            lb.add_backend(1.0);
        }
    }
}

/// The name of node `what` of a site: plain in the first site (`lb-a`),
/// with the region in the others (`lb-a-eu-west`).
pub(crate) fn site_name(site: usize, region: &str, what: &str) -> String {
    if site == 0 {
        what.to_string()
    } else {
        format!("{what}-{region}")
    }
}

/// The relative size of app server `i` (1 unless the scenario says).
fn app_weight(sc: &Scenario, i: usize) -> f64 {
    sc.app.weights.get(i).copied().unwrap_or(1.0)
}

/// Creates every node, tier by tier, in the order of the request path.
fn build(sc: &Scenario) -> (Topology, Tiers) {
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
    let mut topo = Topology {
        one_way,
        replicas: sc.db.replicas as usize,
        partitioning: sc.db.partitioning,
        ..Topology::default()
    };
    let mut tiers = Tiers::default();
    let regions: Vec<&str> = sc.network.regions.iter().map(|r| r.name.as_str()).collect();
    let spr = sc.workload.sessions_per_region;
    for (r, name) in regions.iter().enumerate() {
        let id = topo.add(format!("client-{name}"), NodeKind::Client, r, r);
        topo.clients.push(id);
        tiers.clients.push(ClientNode::new(
            id,
            r,
            r as u32 * spr,
            spr,
            sc.db.shards as usize,
        ));
    }
    for (r, name) in regions.iter().enumerate() {
        let id = topo.add(format!("dns-{name}"), NodeKind::Resolver, r, r);
        topo.resolvers.push(id);
        tiers.resolvers.push(ResolverNode::default());
    }
    topo.auth = Some(topo.add("dns-auth".into(), NodeKind::DnsAuthority, 0, 0));
    if sc.cdn.enabled {
        for (r, name) in regions.iter().enumerate() {
            let id = topo.add(format!("cdn-{name}"), NodeKind::Cdn, r, r);
            topo.cdns.push(id);
            tiers.cdns.push(CdnNode::new(sc.cdn.capacity));
        }
    }
    let n_apps = sc.app.servers as usize;
    let weights: Vec<f64> = (0..n_apps).map(|i| app_weight(sc, i)).collect();
    // A site per region that runs the application: the first keeps the
    // plain names (lb-a, app-1, cache-1), the others carry their region's.
    let site_regions = sc.site_regions();
    for (site, &region) in site_regions.iter().enumerate() {
        let tag = |what: &str| site_name(site, regions[region], what);
        let mut s = Site {
            region,
            ..Site::default()
        };
        for (i, pair) in ["a", "b"].into_iter().enumerate() {
            let t = tiers.lbs.len();
            let id = topo.add_in_site(tag(&format!("lb-{pair}")), NodeKind::Lb, region, t, site);
            topo.lbs.push(id);
            s.lbs.push(id);
            let mut lb = LbNode::new(i == 0, &weights, sc.lb.virtual_nodes);
            lb.site = site;
            tiers.lbs.push(lb);
        }
        for (i, w) in weights.iter().enumerate() {
            let t = tiers.apps.len();
            let id = topo.add_in_site(
                tag(&format!("app-{}", i + 1)),
                NodeKind::App,
                region,
                t,
                site,
            );
            topo.apps.push(id);
            s.apps.push(id);
            let workers = (sc.app.workers as f64 * w).round() as u32;
            tiers.apps.push(AppNode::new(id, workers));
        }
        topo.sites.push(s);
    }
    let site_names: Vec<NodeId> = topo
        .sites
        .iter()
        .filter_map(|s| s.lbs.first().copied())
        .collect();
    tiers
        .auth
        .push(AuthNode::new(&topo.cdns, &site_names, regions.len()));
    if sc.cache.enabled {
        for (site, &region) in site_regions.iter().enumerate() {
            let t = tiers.caches.len();
            let name = site_name(site, regions[region], "cache-1");
            let id = topo.add_in_site(name, NodeKind::Cache, region, t, site);
            topo.caches.push(id);
            topo.sites[site].cache = Some(id);
            tiers
                .caches
                .push(CacheNode::new(sc.cache.capacity, sc.cache.eviction));
        }
    }
    let replicas = sc.db.replicas as usize;
    for shard in 0..sc.db.shards as usize {
        let first = tiers.dbs.len();
        let mut members = Vec::new();
        for r in 0..replicas {
            // A multi-leader group puts a replica in each region unless placed otherwise.
            let default_region = if sc.db.replication == Replication::MultiLeader {
                r % n_regions
            } else {
                0
            };
            let region = sc
                .db
                .placement
                .get(r)
                .and_then(|p| sc.region_index(p))
                .unwrap_or(default_region);
            let id = topo.add(format!("db-{shard}-{r}"), NodeKind::Db, region, first + r);
            topo.dbs.push(id);
            members.push(id);
        }
        for (r, &id) in members.iter().enumerate() {
            let mut d = DbNode::new(id, r, members.clone(), sc.workload.keys);
            d.shard = shard;
            tiers.dbs.push(d);
        }
    }
    let n = sc.db.shards as usize;
    topo.shard_bounds = if sc.db.range_bounds.is_empty() {
        (1..n)
            .map(|i| (sc.workload.keys as u64 * i as u64 / n as u64) as u32)
            .collect()
    } else {
        sc.db.range_bounds.clone()
    };
    if sc.queue.enabled {
        topo.queue = Some(topo.add("queue-1".into(), NodeKind::Queue, 0, 0));
        tiers.queues.push(QueueNode::default());
        for i in 0..sc.queue.workers as usize {
            let id = topo.add(format!("worker-{}", i + 1), NodeKind::Worker, 0, i);
            topo.workers.push(id);
            tiers.workers.push(WorkerNode::default());
        }
    }
    // Every app server and the cache start out believing each shard's first
    // replica leads.
    let guesses = topo.first_replicas();
    for a in &mut tiers.apps {
        a.leader_guess = guesses.clone();
    }
    for c in &mut tiers.caches {
        c.leader_guess = guesses.clone();
    }
    (topo, tiers)
}
