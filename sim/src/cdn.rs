//! CDN edges: a point of presence per region that keeps static assets for a time to live and fetches misses from the origin.

use crate::cache::KeyCache;
use crate::msg::{Msg, Reply, Target, Timer};
use crate::node::NodeId;
use crate::request::{ErrorKind, HopNote, RequestId, Version};
use crate::world::Simulation;

/// One CDN point of presence.
#[derive(Clone, Debug)]
pub struct CdnNode {
    pub(crate) id: NodeId,
    pub(crate) store: KeyCache,
    /// Requests answered from the edge's copy.
    pub hits: u64,
    /// Requests that went to the origin.
    pub misses: u64,
}

impl CdnNode {
    pub(crate) fn new(id: NodeId, capacity: u32) -> CdnNode {
        CdnNode {
            id,
            store: KeyCache::new(capacity as usize),
            hits: 0,
            misses: 0,
        }
    }
}

/// Time an edge takes to serve from its copy.
const EDGE_WORK: u64 = 200;

impl Simulation {
    pub(crate) fn cdn_on_msg(&mut self, node: NodeId, t: usize, from: NodeId, msg: Msg) {
        let now = self.now;
        match msg {
            Msg::Ping { seq } => self.send(node, from, Msg::Pong { seq }, self.work(node, 50)),
            Msg::Http { req } => {
                let Some(key) = self.req(req).map(|r| r.key) else {
                    return;
                };
                let work = self.work(node, EDGE_WORK);
                if self.cdns[t].store.get(key, now).is_some() {
                    self.cdns[t].hits += 1;
                    self.metrics.totals.cdn_hits += 1;
                    self.metrics.bucket.cdn_hits += 1;
                    self.hop_span(req, node, now, now.after(work), HopNote::CdnHit);
                    self.send(
                        node,
                        from,
                        Msg::HttpReply {
                            req,
                            reply: Reply::Ok(None),
                        },
                        work,
                    );
                    return;
                }
                self.cdns[t].misses += 1;
                self.metrics.totals.cdn_misses += 1;
                self.metrics.bucket.cdn_misses += 1;
                let hop = self.hop_open(req, node, HopNote::CdnMiss);
                if let Some(r) = self.req(req) {
                    r.cdn = Some(node);
                    r.cdn_hop = hop;
                }
                self.send(node, Target::Origin, Msg::Http { req }, work);
                self.timer(
                    node,
                    self.cfg.cdn_origin_timeout,
                    Timer::CdnOriginTimeout(req),
                );
            }
            Msg::HttpReply { req, reply } => {
                let Some(r) = self.req(req) else { return };
                if r.cdn != Some(node) {
                    return;
                }
                r.cdn = None;
                let (key, hop, client_tier) = (r.key, r.cdn_hop, r.client_tier as usize);
                if let Reply::Ok(_) = reply {
                    let expires = now.after(self.cfg.cdn_ttl);
                    self.cdns[t].store.put(key, Version::default(), expires);
                }
                let note = match reply {
                    Reply::Ok(_) => HopNote::CdnMiss,
                    Reply::Err(e) => HopNote::Failed(e),
                };
                self.hop_close(req, hop, now, note);
                let client = self.clients[client_tier].id;
                self.send(node, client, Msg::HttpReply { req, reply }, 0);
            }
            _ => {}
        }
    }

    pub(crate) fn cdn_origin_timeout(&mut self, node: NodeId, req: RequestId) {
        let now = self.now;
        let Some(r) = self.req(req) else { return };
        if r.cdn != Some(node) {
            return;
        }
        r.cdn = None;
        let (hop, client_tier) = (r.cdn_hop, r.client_tier as usize);
        let e = ErrorKind::OriginUnreachable;
        self.hop_close(req, hop, now, HopNote::Failed(e));
        let client = self.clients[client_tier].id;
        self.send(
            node,
            client,
            Msg::HttpReply {
                req,
                reply: Reply::Err(e),
            },
            0,
        );
    }
}
