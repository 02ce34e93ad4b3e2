//! Node identities and kinds: short, stable, readable ids that start with their tier.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Index of a node in the world; stable for the whole run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NodeId(pub u16);

impl NodeId {
    /// As a vector index.
    pub fn idx(self) -> usize {
        self.0 as usize
    }
}

/// What a node is. The set is closed: every tier of the request path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeKind {
    /// The users of one region (`client-<region>`).
    Client,
    /// A caching DNS resolver near the users (`dns-<region>`).
    Resolver,
    /// The authoritative DNS server (`dns-auth`).
    DnsAuthority,
    /// A CDN point of presence (`cdn-<region>`).
    Cdn,
    /// A load balancer (`lb-a`, `lb-b`).
    Lb,
    /// An application server (`app-1`…).
    App,
    /// The cache (`cache-1`).
    Cache,
    /// A database replica (`db-<shard>-<replica>`).
    Db,
    /// The message queue for work done after the user's answer (`queue-1`).
    Queue,
    /// A worker taking jobs from the queue (`worker-1`…).
    Worker,
}

impl NodeKind {
    /// The tier's name as used in ids and the interface.
    pub fn label(self) -> &'static str {
        match self {
            NodeKind::Client => "client",
            NodeKind::Resolver => "dns resolver",
            NodeKind::DnsAuthority => "dns authority",
            NodeKind::Cdn => "cdn edge",
            NodeKind::Lb => "load balancer",
            NodeKind::App => "app server",
            NodeKind::Cache => "cache",
            NodeKind::Db => "database replica",
            NodeKind::Queue => "message queue",
            NodeKind::Worker => "queue worker",
        }
    }

    /// Whether a region outage takes this kind of node down (users stay).
    pub fn is_server(self) -> bool {
        !matches!(self, NodeKind::Client | NodeKind::Resolver)
    }
}

impl fmt::Display for NodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The static description of one node.
#[derive(Clone, Debug)]
pub struct NodeInfo {
    /// Readable id, e.g. `db-0-1`.
    pub name: String,
    /// Its tier.
    pub kind: NodeKind,
    /// Index of its region in the scenario.
    pub region: u8,
    /// Index within its tier's state vector.
    pub tier_idx: u16,
    /// The site (balancer pair, app servers and cache of one region) of a
    /// balancer, app server or cache; 0 for every other node.
    pub site: u8,
}

/// The changing condition of one node.
#[derive(Clone, Debug)]
pub struct NodeStatus {
    /// False once crashed (or its region is down).
    pub up: bool,
    /// Counts restarts; timers from an earlier life are ignored.
    pub incarnation: u32,
    /// Everything takes this many times longer (1 = normal).
    pub slow: f64,
    /// Down because its region is down (restarted when the region comes back).
    pub region_down: bool,
}

impl Default for NodeStatus {
    fn default() -> Self {
        NodeStatus {
            up: true,
            incarnation: 0,
            slow: 1.0,
            region_down: false,
        }
    }
}
