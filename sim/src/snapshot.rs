//! Plain-data snapshots of the world for an interface to draw: nodes and their states, cut links, and messages in flight.

use crate::engine::{Event, Simulation};
use crate::msg::Msg;
use crate::node::{NodeId, NodeKind};
use crate::request::RequestKind;
use crate::tiers::db::Role;
use crate::time::SimTime;
use serde::Serialize;

/// How a node is doing, as the diagram shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeState {
    /// Working.
    Up,
    /// Crashed or its region is down.
    Down,
    /// Working, but made slow.
    Slow,
    /// Up, but some peer considers it unhealthy (failed health checks).
    Suspect,
}

impl NodeState {
    /// Lower-case name (as in `data-state`).
    pub fn label(self) -> &'static str {
        match self {
            NodeState::Up => "up",
            NodeState::Down => "down",
            NodeState::Slow => "slow",
            NodeState::Suspect => "suspect",
        }
    }
}

/// One node as the interface sees it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct NodeView {
    /// Its id, e.g. `db-0-1`.
    pub id: String,
    /// Index (for [`Flight`]).
    pub index: u16,
    /// Its tier.
    pub kind: NodeKind,
    /// Its region.
    pub region: String,
    /// Up, down, slow or suspect.
    pub state: NodeState,
    /// Slowness factor (1 = normal).
    pub slow: f64,
    /// Database role, if a replica.
    pub role: Option<Role>,
    /// Database term, if a replica.
    pub term: Option<u64>,
    /// Replication lag in ms, if a follower.
    pub lag_ms: Option<f64>,
    /// Load balancer: holds the shared address.
    pub active: Option<bool>,
    /// App server: busy workers.
    pub busy: Option<u32>,
    /// App server: queued requests.
    pub queued: Option<u32>,
    /// Cache or CDN: keys held.
    pub keys: Option<u32>,
    /// Whether the node is cut off from at least one other by a partition.
    pub partitioned: bool,
    /// Taken out of service by scaling in (not drawn).
    pub retired: bool,
    /// Cache: keys written but not yet in the database (write-back).
    pub dirty: Option<u32>,
    /// App server: share of the balancers' requests it received; database
    /// replica: its shard's share of all database work (0–1).
    pub share: Option<f64>,
    /// Database replica: its shard.
    pub shard: Option<u32>,
}

/// A message on the wire.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Flight {
    /// Sender index.
    pub from: u16,
    /// Receiver index.
    pub to: u16,
    /// When it left.
    pub sent: SimTime,
    /// When it arrives.
    pub arrives: SimTime,
    /// The user request it belongs to, if any.
    pub request: Option<u64>,
    /// The kind of that request.
    pub kind: Option<RequestKind>,
    /// Whether it is an answer travelling back (and whether it is an error).
    pub reply: Option<bool>,
}

/// The world at one instant.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Snapshot {
    /// Simulated time.
    pub now: SimTime,
    /// Every node, in diagram order.
    pub nodes: Vec<NodeView>,
    /// Directed pairs (from, to) whose messages are cut.
    pub cut: Vec<(u16, u16)>,
    /// The balancers holding each site's shared address (one per site).
    pub vips: Vec<u16>,
    /// Messages in flight, earliest arrival first.
    pub flights: Vec<Flight>,
}

impl Simulation {
    /// A plain-data picture of the world now. `max_flights` bounds the
    /// number of in-flight messages listed.
    pub fn snapshot(&self, max_flights: usize) -> Snapshot {
        let cut = self.net.cuts();
        let suspect = |id: NodeId| {
            self.tiers.lbs.iter().any(|lb| {
                self.topo
                    .site_app_index(lb.site, id)
                    .is_some_and(|i| lb.backends.get(i).is_some_and(|b| !b.healthy))
            }) || self
                .tiers
                .auth
                .iter()
                .any(|a| a.edges.iter().any(|e| e.node == id && !e.healthy))
        };
        let shares = self.backend_shares();
        let shard_shares: Vec<f64> = if self.topo.shards() > 1 {
            self.shard_summaries()
                .into_iter()
                .map(|s| s.share)
                .collect()
        } else {
            Vec::new()
        };
        let nodes = self
            .topo
            .nodes
            .iter()
            .enumerate()
            .map(|(i, info)| {
                let id = NodeId(i as u16);
                let st = &self.status[i];
                let t = info.tier_idx as usize;
                let state = if !st.up {
                    NodeState::Down
                } else if st.slow > 1.0 {
                    NodeState::Slow
                } else if suspect(id) {
                    NodeState::Suspect
                } else {
                    NodeState::Up
                };
                let mut v = NodeView {
                    id: info.name.clone(),
                    index: i as u16,
                    kind: info.kind,
                    region: self.initial.network.regions[info.region as usize]
                        .name
                        .clone(),
                    state,
                    slow: st.slow,
                    role: None,
                    term: None,
                    lag_ms: None,
                    active: None,
                    busy: None,
                    queued: None,
                    keys: None,
                    retired: false,
                    dirty: None,
                    share: None,
                    shard: None,
                    partitioned: self.net.touches(i),
                };
                match info.kind {
                    NodeKind::Db => {
                        let d = &self.tiers.dbs[t];
                        v.role = Some(d.role);
                        v.term = Some(d.term);
                        v.shard = Some(d.shard as u32);
                        v.share = shard_shares.get(d.shard).copied();
                        if st.up && d.role != Role::Leader {
                            v.lag_ms = self.db_lag(t).map(|us| us as f64 / 1000.0);
                        }
                    }
                    NodeKind::Lb => v.active = Some(self.tiers.lbs[t].active && st.up),
                    NodeKind::App => {
                        v.busy = Some(self.tiers.apps[t].busy);
                        v.queued = Some(self.tiers.apps[t].queued() as u32);
                        v.retired = self.tiers.apps[t].retired;
                        v.share = shares.get(t).copied();
                    }
                    NodeKind::Cache => {
                        v.keys = Some(self.tiers.caches[t].store.len() as u32);
                        v.dirty = Some(self.tiers.caches[t].dirty_keys() as u32);
                    }
                    NodeKind::Cdn => v.keys = Some(self.tiers.cdns[t].store.len() as u32),
                    NodeKind::Queue => v.queued = Some(self.tiers.queues[t].backlog() as u32),
                    NodeKind::Worker => {
                        v.busy = Some(u32::from(self.tiers.workers[t].current.is_some()))
                    }
                    _ => {}
                }
                v
            })
            .collect();
        let mut flights = self.flights(usize::MAX);
        flights.sort_by_key(|f| (f.arrives, f.from, f.to, f.request));
        flights.truncate(max_flights);
        Snapshot {
            now: self.now,
            nodes,
            cut,
            vips: self.net.vips.iter().flatten().map(|v| v.0).collect(),
            flights,
        }
    }

    /// Messages on the wire, at most `max` of them, in no particular order
    /// (cheaper than a full snapshot, for drawing every frame).
    pub fn flights(&self, max: usize) -> Vec<Flight> {
        self.queue
            .iter()
            .filter_map(|(at, ev)| match ev {
                Event::Deliver {
                    from,
                    to,
                    sent,
                    msg,
                } if from != to => {
                    let request = msg.request();
                    let kind = request.and_then(|r| self.request_kind(r));
                    let reply = match msg {
                        Msg::HttpReply { reply, .. } => {
                            Some(matches!(reply, crate::msg::Reply::Err(_)))
                        }
                        Msg::DnsAnswer { target, .. } => Some(target.is_none()),
                        Msg::CacheValue { .. } | Msg::DbReply { .. } => Some(false),
                        _ => None,
                    };
                    Some(Flight {
                        from: from.0,
                        to: to.0,
                        sent: *sent,
                        arrives: at,
                        request: request.map(|r| r.0),
                        kind,
                        reply,
                    })
                }
                _ => None,
            })
            .take(max)
            .collect()
    }

    /// Each app server's share of all requests the balancers forwarded.
    pub fn backend_shares(&self) -> Vec<f64> {
        let n = self.tiers.apps.len();
        let mut counts = vec![0u64; n];
        for lb in &self.tiers.lbs {
            let apps = &self.topo.sites[lb.site].apps;
            for (b, &id) in lb.backends.iter().zip(apps) {
                let t = self.topo.nodes[id.idx()].tier_idx as usize;
                if let Some(c) = counts.get_mut(t) {
                    *c += b.forwarded;
                }
            }
        }
        let total: u64 = counts.iter().sum();
        counts
            .iter()
            .map(|&c| {
                if total == 0 {
                    0.0
                } else {
                    c as f64 / total as f64
                }
            })
            .collect()
    }

    fn request_kind(&self, id: crate::request::RequestId) -> Option<RequestKind> {
        self.reqs.peek(id).map(|r| r.kind)
    }
}
