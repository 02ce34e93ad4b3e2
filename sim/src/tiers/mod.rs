//! The tiers of the request path, one room each: users, DNS, CDN, load balancer, app server, cache, database and order queue. A tier owns its state and sees the world only through a [`Cx`](crate::context::Cx); it never imports the engine or another tier.

pub(crate) mod app_server;
pub(crate) mod cache;
pub(crate) mod cdn;
pub(crate) mod client;
pub(crate) mod db;
pub(crate) mod dns;
pub(crate) mod lb;
pub(crate) mod order_queue;

use app_server::AppNode;
use cache::CacheNode;
use cdn::CdnNode;
use client::ClientNode;
use db::DbNode;
use dns::{AuthNode, ResolverNode};
use lb::LbNode;
use order_queue::{QueueNode, WorkerNode};

/// The state of every node, tier by tier (each vector in node order).
#[derive(Clone, Debug, Default)]
pub(crate) struct Tiers {
    pub clients: Vec<ClientNode>,
    pub resolvers: Vec<ResolverNode>,
    pub auth: Vec<AuthNode>,
    pub cdns: Vec<CdnNode>,
    pub lbs: Vec<LbNode>,
    pub apps: Vec<AppNode>,
    pub caches: Vec<CacheNode>,
    pub dbs: Vec<DbNode>,
    pub queues: Vec<QueueNode>,
    pub workers: Vec<WorkerNode>,
}
