//! Requests in flight: the record each request carries along its path (its identity, what the ground truth expected when it started, its hops so far, and each tier's bookkeeping), kept until no tier works on it any more.

use crate::msg::Reply;
use crate::node::NodeId;
use crate::request::{Hop, HopNote, RequestId, RequestKind, Version};
use crate::time::SimTime;
use std::collections::VecDeque;

/// Where an app server is with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AppStage {
    None,
    Queued,
    Cpu,
    Cache,
    Db,
    Enqueue,
    Done,
}

/// A request in flight: its identity, what the ground truth expected when it
/// started, its trace so far, and each tier's bookkeeping.
#[derive(Clone, Debug)]
pub(crate) struct Req {
    pub kind: RequestKind,
    pub key: u32,
    pub session: u32,
    pub client_tier: u16,
    pub start: SimTime,
    pub end: SimTime,
    pub done: bool,
    /// Newest version acknowledged to anyone when the request started.
    pub expect: Version,
    /// The session's own last acknowledged write of this key.
    pub ryw: Version,
    /// The newest version of this key the session had read.
    pub mono: Version,
    pub hops: Vec<Hop>,
    pub client_hop: u8,
    pub cdn: Option<NodeId>,
    pub cdn_hop: u8,
    pub lb: Option<NodeId>,
    pub lb_from: NodeId,
    pub lb_backend: NodeId,
    pub lb_hop: u8,
    pub app: Option<NodeId>,
    pub app_from: NodeId,
    pub app_hop: u8,
    pub app_stage: AppStage,
    /// When an app server's worker took it.
    pub app_started: SimTime,
    pub app_call: u32,
    pub db_attempt: u8,
    pub db_target: NodeId,
    /// The position of the session's last confirmed write in the log of
    /// the shard that holds this request's key.
    pub token: Version,
    /// Read from the leader (a follower was behind the session).
    pub db_to_leader: bool,
    /// The answer waiting for the queue to take the order's job.
    pub queued_reply: Option<Reply>,
    /// Leaderless: replicas that answered so far.
    pub q_count: u8,
    /// Leaderless: the version written, or the newest read so far.
    pub q_best: Version,
    /// Leaderless: who answered a read with what (for read repair).
    pub q_replies: Vec<(NodeId, Version)>,
    /// Leaderless: the app server that asked the replicas.
    pub q_app: Option<NodeId>,
    /// A write's version once it was stored anywhere (appended by a leader,
    /// or sent to the replicas of a leaderless group): the ground truth
    /// knows it even when the answer never reaches the user.
    pub stored: Option<Version>,
    /// A read answered by a write-back cache with the value of this write,
    /// not yet in the database: judged once that write has its version.
    pub dirty_of: Option<RequestId>,
}

/// Hops recorded per request at most (a retry storm cannot grow a record without bound).
const MAX_HOPS: usize = 250;

/// The records of requests in flight (and of those finished less than a
/// second ago), in the order they were sent.
#[derive(Clone, Debug, Default)]
pub(crate) struct Requests {
    reqs: VecDeque<Req>,
    base: u64,
    /// Requests sent and not yet answered (nor timed out).
    open: u64,
    /// The integral of `open` over time (requests × µs) up to `counted_to`.
    open_area: u128,
    counted_to: SimTime,
}

impl Requests {
    /// The id the next request will get.
    pub fn next_id(&self) -> RequestId {
        RequestId(self.base + self.reqs.len() as u64)
    }

    /// Starts a record; returns its id.
    pub fn open(&mut self, req: Req) -> RequestId {
        let id = self.next_id();
        self.count_open(req.start);
        self.reqs.push_back(req);
        self.open += 1;
        id
    }

    /// A request's answer reached its user (or it timed out) at `now`.
    pub fn close(&mut self, now: SimTime) {
        self.count_open(now);
        self.open = self.open.saturating_sub(1);
    }

    /// Requests sent and not yet answered.
    pub fn in_flight(&self) -> u64 {
        self.open
    }

    /// The mean number of requests in flight from time zero to `now` (the
    /// L of Little's law).
    pub fn mean_in_flight(&self, now: SimTime) -> f64 {
        if now.0 == 0 {
            return 0.0;
        }
        let area = self.open_area + u128::from(self.open) * u128::from(now.since(self.counted_to));
        area as f64 / now.0 as f64
    }

    fn count_open(&mut self, now: SimTime) {
        self.open_area += u128::from(self.open) * u128::from(now.since(self.counted_to));
        self.counted_to = now;
    }

    /// The record of a request, if it is still kept.
    pub fn get(&mut self, id: RequestId) -> Option<&mut Req> {
        let i = id.0.checked_sub(self.base)? as usize;
        self.reqs.get_mut(i)
    }

    /// The record of a request, if it is still kept (read only).
    pub fn peek(&self, id: RequestId) -> Option<&Req> {
        let i = id.0.checked_sub(self.base)? as usize;
        self.reqs.get(i)
    }

    /// Every record kept, to change.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Req> {
        self.reqs.iter_mut()
    }

    /// Forgets requests that finished over a second before `now` and that no
    /// balancer, edge or app server is still working on; late messages for
    /// them are ignored.
    pub fn forget_finished(&mut self, now: SimTime) {
        while let Some(front) = self.reqs.front() {
            let idle = front.app.is_none() && front.lb.is_none() && front.cdn.is_none();
            if front.done && idle && now.since(front.end) > crate::time::SEC {
                self.reqs.pop_front();
                self.base += 1;
            } else {
                break;
            }
        }
    }

    /// Opens a hop at `node` for request `id` at `now`; returns its index.
    pub fn hop_open(&mut self, id: RequestId, node: NodeId, now: SimTime, note: HopNote) -> u8 {
        match self.get(id) {
            Some(r) if r.hops.len() < MAX_HOPS => {
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
    pub fn hop_close(&mut self, id: RequestId, idx: u8, end: SimTime, note: HopNote) {
        if let Some(r) = self.get(id)
            && let Some(h) = r.hops.get_mut(idx as usize)
            && h.end == SimTime::NEVER
        {
            h.end = end;
            h.note = note;
        }
    }

    /// Records a complete hop.
    pub fn hop_span(
        &mut self,
        id: RequestId,
        node: NodeId,
        start: SimTime,
        end: SimTime,
        note: HopNote,
    ) {
        if let Some(r) = self.get(id)
            && r.hops.len() < MAX_HOPS
        {
            r.hops.push(Hop {
                node,
                start,
                end,
                note,
            });
        }
    }
}
