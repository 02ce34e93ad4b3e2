//! The topology: which nodes exist, where they are, which replicas form each shard and which shard holds a key — the read-only map every tier may consult.

use crate::error::Error;
use crate::hashing::hash64;
use crate::node::{NodeId, NodeInfo, NodeKind};
use crate::scenario::Partitioning;
use crate::time::Micros;
use std::collections::BTreeMap;

/// Everything static (or changed only by commands, such as scaling) about
/// the layout of the world. Tiers read it; only the engine changes it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Topology {
    /// Every node, indexed by [`NodeId`].
    pub nodes: Vec<NodeInfo>,
    /// Node ids by readable name (kept by [`Topology::add`]).
    pub names: BTreeMap<String, NodeId>,
    /// One-way base delay between regions (µs), `[from][to]`.
    pub one_way: Vec<Vec<Micros>>,
    /// The users of each region.
    pub clients: Vec<NodeId>,
    /// The caching resolver of each region.
    pub resolvers: Vec<NodeId>,
    /// The DNS authority.
    pub auth: Option<NodeId>,
    /// CDN edges, one per region (empty when the CDN is off).
    pub cdns: Vec<NodeId>,
    /// Every balancer, site by site (`lb-a`, `lb-b` for the first).
    pub lbs: Vec<NodeId>,
    /// Every app server, in the order created (scaling out appends).
    pub apps: Vec<NodeId>,
    /// Every cache, site by site.
    pub caches: Vec<NodeId>,
    /// The sites: one per region that runs the application.
    pub sites: Vec<Site>,
    /// Database replicas in order: shard by shard.
    pub dbs: Vec<NodeId>,
    /// Replicas in each shard.
    pub replicas: usize,
    /// How keys are split between shards.
    pub partitioning: Partitioning,
    /// With range partitioning, the first key of shards 1, 2, ….
    pub shard_bounds: Vec<u32>,
    /// The order queue, when there is one.
    pub queue: Option<NodeId>,
    /// Queue workers.
    pub workers: Vec<NodeId>,
}

/// The application in one region: a balancer pair sharing the site's
/// address, its app servers and its cache.
#[derive(Clone, Debug, Default)]
pub(crate) struct Site {
    /// The region it is in.
    pub region: usize,
    /// Its balancer pair.
    pub lbs: Vec<NodeId>,
    /// Its app servers, in order: a balancer's backend `i` is `apps[i]`.
    pub apps: Vec<NodeId>,
    /// Its cache, when there is one.
    pub cache: Option<NodeId>,
}

impl Topology {
    /// Adds a node and returns its id.
    pub fn add(&mut self, name: String, kind: NodeKind, region: usize, tier_idx: usize) -> NodeId {
        self.add_in_site(name, kind, region, tier_idx, 0)
    }

    /// Adds a node of site `site` and returns its id.
    pub fn add_in_site(
        &mut self,
        name: String,
        kind: NodeKind,
        region: usize,
        tier_idx: usize,
        site: usize,
    ) -> NodeId {
        let id = NodeId(self.nodes.len() as u16);
        self.names.insert(name.clone(), id);
        self.nodes.push(NodeInfo {
            name,
            kind,
            region: region as u8,
            tier_idx: tier_idx as u16,
            site: site as u8,
        });
        id
    }

    /// The site of a balancer, app server or cache (0 for other nodes).
    #[inline]
    pub fn site_of(&self, id: NodeId) -> usize {
        self.nodes[id.idx()].site as usize
    }

    /// The cache an app server uses: its site's.
    #[inline]
    pub fn cache_of(&self, app: NodeId) -> Option<NodeId> {
        self.sites.get(self.site_of(app)).and_then(|s| s.cache)
    }

    /// Backend `i` of the balancers of `site`.
    #[inline]
    pub fn site_app(&self, site: usize, i: usize) -> NodeId {
        self.sites[site].apps[i]
    }

    /// Which backend of its site's balancers an app server is.
    pub fn site_app_index(&self, site: usize, id: NodeId) -> Option<usize> {
        self.sites.get(site)?.apps.iter().position(|&a| a == id)
    }

    /// Looks a node up by its readable id.
    pub fn id(&self, name: &str) -> Result<NodeId, Error> {
        self.names
            .get(name)
            .copied()
            .ok_or_else(|| Error::UnknownNode(name.to_string()))
    }

    /// The readable id of a node.
    pub fn name(&self, id: NodeId) -> &str {
        self.nodes
            .get(id.idx())
            .map(|n| n.name.as_str())
            .unwrap_or("?")
    }

    /// The region a node is in.
    #[inline]
    pub fn region(&self, id: NodeId) -> usize {
        self.nodes[id.idx()].region as usize
    }

    /// One-way base delay from a region to a node.
    #[inline]
    pub fn distance(&self, from_region: usize, to: NodeId) -> Micros {
        self.one_way[from_region][self.region(to)]
    }

    /// Number of shards.
    #[inline]
    pub fn shards(&self) -> usize {
        (self.dbs.len() / self.replicas.max(1)).max(1)
    }

    /// The shard a key lives on.
    #[inline]
    pub fn shard_of(&self, key: u32) -> usize {
        let n = self.shards();
        if n == 1 {
            return 0;
        }
        match self.partitioning {
            Partitioning::Hash => (hash64(key as u64) % n as u64) as usize,
            Partitioning::Range => self.shard_bounds.partition_point(|&b| b <= key),
        }
    }

    /// The replicas of one shard.
    pub fn shard_replicas(&self, shard: usize) -> &[NodeId] {
        let start = (shard * self.replicas).min(self.dbs.len());
        let end = (start + self.replicas).min(self.dbs.len());
        &self.dbs[start..end]
    }

    /// The first replica of each shard (where leadership starts).
    pub fn first_replicas(&self) -> Vec<Option<NodeId>> {
        (0..self.shards())
            .map(|s| self.shard_replicas(s).first().copied())
            .collect()
    }

    /// The replica of `shard` after `current` (wrapping; the first when
    /// `current` is none or not in the shard).
    pub fn next_replica(&self, shard: usize, current: Option<NodeId>) -> Option<NodeId> {
        let ids = self.shard_replicas(shard);
        let i = current
            .and_then(|c| ids.iter().position(|&x| x == c))
            .map(|i| i + 1)
            .unwrap_or(0);
        ids.get(i % ids.len().max(1)).copied()
    }

    /// The other balancer of the pair.
    pub fn lb_peer(&self, me: NodeId) -> NodeId {
        let site = self.site_of(me);
        self.sites
            .get(site)
            .and_then(|s| s.lbs.iter().copied().find(|&l| l != me))
            .unwrap_or(me)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shards(n: usize, partitioning: Partitioning, bounds: Vec<u32>) -> Topology {
        let mut t = Topology {
            replicas: 3,
            partitioning,
            shard_bounds: bounds,
            ..Topology::default()
        };
        for s in 0..n {
            for r in 0..3 {
                let id = t.add(format!("db-{s}-{r}"), NodeKind::Db, 0, s * 3 + r);
                t.dbs.push(id);
            }
        }
        t
    }

    #[test]
    fn range_partitioning_puts_neighbours_together() {
        let t = shards(3, Partitioning::Range, vec![100, 200]);
        assert_eq!(t.shard_of(0), 0);
        assert_eq!(t.shard_of(99), 0);
        assert_eq!(t.shard_of(100), 1);
        assert_eq!(t.shard_of(250), 2);
    }

    #[test]
    fn hash_partitioning_uses_every_shard() {
        let t = shards(4, Partitioning::Hash, Vec::new());
        let mut used = [0; 4];
        for k in 0..1000 {
            used[t.shard_of(k)] += 1;
        }
        assert!(used.iter().all(|&n| n > 150), "{used:?}");
    }

    #[test]
    fn the_next_replica_wraps_within_its_shard() {
        let t = shards(2, Partitioning::Hash, Vec::new());
        let group = t.shard_replicas(1).to_vec();
        assert_eq!(t.next_replica(1, None), Some(group[0]));
        assert_eq!(t.next_replica(1, Some(group[2])), Some(group[0]));
        assert_eq!(t.next_replica(1, Some(group[0])), Some(group[1]));
    }
}
