//! CDN edges: a point of presence per region that keeps static assets for a time to live and fetches misses from the origin.

use crate::context::Cx;
use crate::msg::{Msg, Reply, Target, Timer};
use crate::node::NodeId;
use crate::request::{ErrorKind, HopNote, RequestId, Version};
use crate::store::KeyCache;

/// One CDN point of presence.
#[derive(Clone, Debug)]
pub struct CdnNode {
    pub(crate) store: KeyCache,
    /// Requests answered from the edge's copy.
    pub hits: u64,
    /// Requests that went to the origin.
    pub misses: u64,
}

impl CdnNode {
    pub(crate) fn new(capacity: u32) -> CdnNode {
        CdnNode {
            store: KeyCache::new(capacity as usize),
            hits: 0,
            misses: 0,
        }
    }
}

/// Time an edge takes to serve from its copy.
const EDGE_WORK: u64 = 200;

impl CdnNode {
    /// Handles a message from `from`.
    pub(crate) fn on_msg(&mut self, cx: &mut Cx, from: NodeId, msg: Msg) {
        let me = cx.me;
        let now = cx.now;
        match msg {
            Msg::Ping { seq } => cx.send(from, Msg::Pong { seq }, cx.work(50)),
            Msg::Http { req } => {
                let Some(key) = cx.req(req).map(|r| r.key) else {
                    return;
                };
                let work = cx.work(EDGE_WORK);
                if self.store.get(key, now).is_some() {
                    self.hits += 1;
                    cx.metrics.totals.cdn_hits += 1;
                    cx.metrics.bucket.cdn_hits += 1;
                    cx.hop_span(req, now, now.after(work), HopNote::CdnHit);
                    cx.send(
                        from,
                        Msg::HttpReply {
                            req,
                            reply: Reply::Ok(None),
                        },
                        work,
                    );
                    return;
                }
                self.misses += 1;
                cx.metrics.totals.cdn_misses += 1;
                cx.metrics.bucket.cdn_misses += 1;
                let hop = cx.hop_open(req, HopNote::CdnMiss);
                if let Some(r) = cx.req(req) {
                    r.cdn = Some(me);
                    r.cdn_hop = hop;
                }
                cx.send(Target::Origin, Msg::Http { req }, work);
                cx.timer(cx.cfg().cdn_origin_timeout, Timer::CdnOriginTimeout(req));
            }
            Msg::HttpReply { req, reply } => {
                let Some(r) = cx.req(req) else { return };
                if r.cdn != Some(me) {
                    return;
                }
                r.cdn = None;
                let (key, hop, client_tier) = (r.key, r.cdn_hop, r.client_tier as usize);
                if let Reply::Ok(_) = reply {
                    let expires = now.after(cx.cfg().cdn_ttl);
                    self.store.put(key, Version::default(), expires);
                }
                let note = match reply {
                    Reply::Ok(_) => HopNote::CdnMiss,
                    Reply::Err(e) => HopNote::Failed(e),
                };
                cx.hop_close(req, hop, now, note);
                let client = cx.topo.clients[client_tier];
                cx.send(client, Msg::HttpReply { req, reply }, 0);
            }
            // Nothing else is ever sent to a CDN edge; a message that arrives anyway
            // is counted as misrouted rather than dropped in silence.
            msg @ (Msg::DnsQuery { .. }
            | Msg::DnsAnswer { .. }
            | Msg::AuthQuery { .. }
            | Msg::AuthAnswer { .. }
            | Msg::CacheGet { .. }
            | Msg::CacheValue { .. }
            | Msg::CacheSet { .. }
            | Msg::CacheDel { .. }
            | Msg::CacheWrite { .. }
            | Msg::CacheWriteAck { .. }
            | Msg::Enqueue { .. }
            | Msg::EnqueueAck { .. }
            | Msg::JobOffer { .. }
            | Msg::JobPull
            | Msg::QPut { .. }
            | Msg::QPutAck { .. }
            | Msg::QGet { .. }
            | Msg::QValue { .. }
            | Msg::MReplicate { .. }
            | Msg::JobDone { .. }
            | Msg::DbRead { .. }
            | Msg::DbWrite { .. }
            | Msg::DbReply { .. }
            | Msg::Append(_)
            | Msg::InstallSnapshot(_)
            | Msg::AppendReply { .. }
            | Msg::Vote { .. }
            | Msg::VoteReply { .. }
            | Msg::Pong { .. }
            | Msg::LbAdvert { .. }) => cx.misrouted(&msg),
        }
    }

    /// The origin did not answer in time: the user gets an error.
    pub(crate) fn on_origin_timeout(&mut self, cx: &mut Cx, req: RequestId) {
        let me = cx.me;
        let now = cx.now;
        let Some(r) = cx.req(req) else { return };
        if r.cdn != Some(me) {
            return;
        }
        r.cdn = None;
        let (hop, client_tier) = (r.cdn_hop, r.client_tier as usize);
        let e = ErrorKind::OriginUnreachable;
        cx.hop_close(req, hop, now, HopNote::Failed(e));
        let client = cx.topo.clients[client_tier];
        cx.send(
            client,
            Msg::HttpReply {
                req,
                reply: Reply::Err(e),
            },
            0,
        );
    }
}
