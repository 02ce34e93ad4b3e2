//! Messages between nodes, timers, and the effects a handler asks the engine to carry out.

use crate::node::NodeId;
use crate::request::{ErrorKind, RequestId, Version};
use crate::time::Micros;

/// A DNS name the system serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum DnsName {
    /// `static.example`: answered with the nearest healthy CDN edge.
    Static,
    /// `api.example`: answered with the load balancers' shared address.
    Api,
}

impl DnsName {
    pub(crate) fn idx(self) -> usize {
        self as usize
    }
}

/// Where a DNS answer points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A particular node (a CDN edge).
    Node(NodeId),
    /// The first site's balancers' shared (virtual) address: the origin.
    Origin,
    /// Another site's balancers' shared address.
    Site(u8),
}

/// An HTTP answer travelling back towards the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Success, with the version read or written (none for static content).
    Ok(Option<Version>),
    /// Failure.
    Err(ErrorKind),
}

/// A database replica's answer to a read or a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbResult {
    /// Done: the version read, or the version written.
    Ok(Version),
    /// This replica is not the leader; it names the one it believes is.
    NotLeader(Option<NodeId>),
    /// This replica has not yet applied the position the read asked for.
    Behind,
}

/// One entry of a database replica's log: a write of one key, or a
/// leader's no-op ([`NO_KEY`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// Term of the leader that created it.
    pub term: u64,
    /// The key written, or [`NO_KEY`].
    pub key: u32,
    /// When the leader appended it (for replication lag).
    pub appended_at: u64,
}

/// The key of the entry a newly elected leader appends first: it writes
/// nothing, but once committed it commits every entry of earlier terms and
/// makes followers drop entries the new leader does not have (Raft's no-op).
pub const NO_KEY: u32 = u32::MAX;

/// A leader's replication message: new entries, or a heartbeat when empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Append {
    /// When the leader sent it (µs): a follower's reply echoes it, and the
    /// leader's lease counts from it.
    pub sent_at: u64,
    pub term: u64,
    pub prev_index: u64,
    pub prev_term: u64,
    pub entries: Vec<LogEntry>,
    pub leader_commit: u64,
}

/// A leader's snapshot, for a follower so far behind that the entries it
/// lacks were already folded away: every key's version as of `last_index`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// When the leader sent it (µs).
    pub sent_at: u64,
    pub term: u64,
    pub last_index: u64,
    pub last_term: u64,
    /// The terms of the entries it covers, as runs (first index, term).
    pub term_runs: Vec<(u64, u64)>,
    pub kv: Vec<Version>,
    pub leader_commit: u64,
}

/// Everything that travels over the simulated network, grouped by the
/// tiers that exchange it. Each tier's handler matches every variant: the
/// ones it never expects are listed and counted as misrouted.
#[derive(Clone, Debug, PartialEq)]
pub enum Msg {
    // --- Users and DNS: a browser asks its resolver, the resolver asks the authority.
    DnsQuery {
        req: RequestId,
        name: DnsName,
    },
    DnsAnswer {
        req: RequestId,
        target: Option<Target>,
    },
    AuthQuery {
        name: DnsName,
        region: u8,
    },
    AuthAnswer {
        name: DnsName,
        target: Target,
        ttl: Micros,
    },

    // --- HTTP along the path: browser, CDN edge, balancer, app server, and the answers back.
    Http {
        req: RequestId,
    },
    HttpReply {
        req: RequestId,
        reply: Reply,
    },

    // --- Health: balancers check app servers, the authority checks edges, the balancer pair keeps one active.
    Ping {
        seq: u32,
    },
    Pong {
        seq: u32,
    },
    LbAdvert {
        priority: u8,
    },

    // --- App server and cache.
    CacheGet {
        req: RequestId,
        key: u32,
    },
    CacheValue {
        req: RequestId,
        value: Option<Version>,
    },
    CacheSet {
        key: u32,
        version: Version,
    },
    CacheDel {
        key: u32,
    },
    CacheWrite {
        req: RequestId,
        key: u32,
    },
    CacheWriteAck {
        req: RequestId,
    },

    // --- App server (or a write-back cache) and a database replica.
    DbRead {
        req: RequestId,
        key: u32,
        attempt: u8,
        need_leader: bool,
        /// Serve only if this log index has been applied (read-your-writes).
        min_index: u64,
    },
    DbWrite {
        req: RequestId,
        key: u32,
        attempt: u8,
    },
    DbReply {
        req: RequestId,
        attempt: u8,
        result: DbResult,
    },

    // --- Between the replicas of a leader-based group: replication and elections.
    Append(Box<Append>),
    /// In place of entries a follower lacks but the leader no longer keeps.
    InstallSnapshot(Box<Snapshot>),
    AppendReply {
        /// When the message this answers was sent (µs), echoed.
        sent_at: u64,
        term: u64,
        success: bool,
        match_index: u64,
        applied: u64,
    },
    Vote {
        term: u64,
        last_index: u64,
        last_term: u64,
        pre: bool,
    },
    VoteReply {
        term: u64,
        granted: bool,
        pre: bool,
    },

    // --- Leaderless and multi-leader replicas.
    QPut {
        req: RequestId,
        key: u32,
        version: Version,
    },
    QPutAck {
        req: RequestId,
    },
    QGet {
        req: RequestId,
        key: u32,
    },
    QValue {
        req: RequestId,
        version: Version,
    },
    /// Multi-leader: a write passed on from the replica that took it, with
    /// the version that replica had for the key before.
    MReplicate {
        key: u32,
        version: Version,
        prev: Version,
    },

    // --- App server, order queue and workers.
    Enqueue {
        req: RequestId,
    },
    EnqueueAck {
        req: RequestId,
    },
    JobOffer {
        job: u64,
        delivery: u32,
    },
    JobPull,
    JobDone {
        job: u64,
        delivery: u32,
    },
}

impl Msg {
    /// Whether the message belongs to a leader's replication stream to one
    /// follower, which like a TCP connection delivers in the order sent.
    #[inline]
    pub(crate) fn in_order(&self) -> bool {
        matches!(self, Msg::Append(_) | Msg::InstallSnapshot(_))
    }

    /// A small number naming the message kind (for the fingerprint).
    pub(crate) fn tag(&self) -> u64 {
        match self {
            Msg::DnsQuery { .. } => 1,
            Msg::DnsAnswer { .. } => 2,
            Msg::AuthQuery { .. } => 3,
            Msg::AuthAnswer { .. } => 4,
            Msg::Http { .. } => 5,
            Msg::HttpReply { .. } => 6,
            Msg::CacheGet { .. } => 7,
            Msg::CacheValue { .. } => 8,
            Msg::CacheSet { .. } => 9,
            Msg::CacheDel { .. } => 10,
            Msg::DbRead { .. } => 11,
            Msg::DbWrite { .. } => 12,
            Msg::DbReply { .. } => 13,
            Msg::Append(_) => 14,
            Msg::AppendReply { .. } => 15,
            Msg::Vote { .. } => 16,
            Msg::VoteReply { .. } => 17,
            Msg::Ping { .. } => 18,
            Msg::Pong { .. } => 19,
            Msg::LbAdvert { .. } => 20,
            Msg::CacheWrite { .. } => 21,
            Msg::CacheWriteAck { .. } => 22,
            Msg::Enqueue { .. } => 23,
            Msg::EnqueueAck { .. } => 24,
            Msg::JobOffer { .. } => 25,
            Msg::JobDone { .. } => 26,
            Msg::JobPull => 27,
            Msg::QPut { .. } => 28,
            Msg::QPutAck { .. } => 29,
            Msg::QGet { .. } => 30,
            Msg::QValue { .. } => 31,
            Msg::MReplicate { .. } => 32,
            Msg::InstallSnapshot(_) => 33,
        }
    }

    /// The request this message belongs to, if any.
    pub fn request(&self) -> Option<RequestId> {
        match *self {
            Msg::DnsQuery { req, .. }
            | Msg::DnsAnswer { req, .. }
            | Msg::Http { req }
            | Msg::HttpReply { req, .. }
            | Msg::CacheGet { req, .. }
            | Msg::CacheValue { req, .. }
            | Msg::CacheWrite { req, .. }
            | Msg::CacheWriteAck { req }
            | Msg::Enqueue { req }
            | Msg::EnqueueAck { req }
            | Msg::QPut { req, .. }
            | Msg::QPutAck { req }
            | Msg::QGet { req, .. }
            | Msg::QValue { req, .. }
            | Msg::DbRead { req, .. }
            | Msg::DbWrite { req, .. }
            | Msg::DbReply { req, .. } => Some(req),
            _ => None,
        }
    }

    /// Whether this message is part of a user's request (as opposed to
    /// health checks, heartbeats and replication).
    pub fn is_user_traffic(&self) -> bool {
        self.request().is_some()
    }
}

/// Something a node asked to be woken for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    Arrival,
    ClientTimeout(RequestId),
    ResolverTimeout(DnsName, u32),
    AuthHealth,
    CdnOriginTimeout(RequestId),
    LbHealth,
    LbVrrp,
    LbUpstreamTimeout(RequestId),
    AppCpu(RequestId),
    AppCallTimeout(RequestId, u32),
    DbElection,
    DbHeartbeat(u64),
    DbApply(u64),
    CacheFlush,
    QueueTick,
    WorkerStep(u64, u32, u8),
    /// Leaderless: a replica's write of a key reaches its disk and becomes visible.
    DbStore(u32, Version),
    /// Leaderless: a replica's read of a key for an app server is served.
    DbServeGet(RequestId, u32, NodeId),
}

impl Timer {
    /// Whether every timer of this kind has the same length in a run
    /// (timeouts and periodic checks), so they are scheduled in time order.
    pub(crate) fn fixed_span(&self) -> bool {
        matches!(
            self,
            Timer::ClientTimeout(_)
                | Timer::ResolverTimeout(..)
                | Timer::AuthHealth
                | Timer::CdnOriginTimeout(_)
                | Timer::LbHealth
                | Timer::LbVrrp
                | Timer::LbUpstreamTimeout(_)
                | Timer::AppCallTimeout(..)
                | Timer::DbHeartbeat(_)
                | Timer::CacheFlush
                | Timer::QueueTick
        )
    }

    pub(crate) fn tag(&self) -> u64 {
        match self {
            Timer::Arrival => 101,
            Timer::ClientTimeout(_) => 102,
            Timer::ResolverTimeout(..) => 103,
            Timer::AuthHealth => 104,
            Timer::CdnOriginTimeout(_) => 105,
            Timer::LbHealth => 106,
            Timer::LbVrrp => 107,
            Timer::LbUpstreamTimeout(_) => 108,
            Timer::AppCpu(_) => 109,
            Timer::AppCallTimeout(..) => 110,
            Timer::DbElection => 111,
            Timer::DbHeartbeat(_) => 112,
            Timer::DbApply(_) => 113,
            Timer::CacheFlush => 114,
            Timer::QueueTick => 115,
            Timer::WorkerStep(..) => 116,
            Timer::DbStore(..) => 117,
            Timer::DbServeGet(..) => 118,
        }
    }
}

/// Where a message is addressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dest {
    /// A node.
    Node(NodeId),
    /// Whichever balancer of the first site holds its shared address when
    /// it is sent.
    Origin,
    /// The same for another site.
    Site(u8),
}

impl From<NodeId> for Dest {
    fn from(n: NodeId) -> Dest {
        Dest::Node(n)
    }
}

impl From<Target> for Dest {
    fn from(t: Target) -> Dest {
        match t {
            Target::Node(n) => Dest::Node(n),
            Target::Origin => Dest::Origin,
            Target::Site(s) => Dest::Site(s),
        }
    }
}

/// What a handler asks the engine to do. Handlers never touch the network,
/// the clock or another node themselves; the engine carries these out, in
/// order, once the handler returns.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Effect {
    /// Send `msg` from `from` after `delay` of local work.
    Send {
        from: NodeId,
        to: Dest,
        msg: Msg,
        delay: Micros,
    },
    /// Wake `node` with `timer` after `after`.
    Timer {
        node: NodeId,
        after: Micros,
        timer: Timer,
    },
    /// A balancer takes over the shared address.
    ClaimAddress(NodeId),
    /// A node stops (a server scaled in has drained).
    Stop(NodeId),
    /// Something for the ground truth, which sees the whole world.
    Observe(Observation),
    /// `node` got a message (of kind `tag`) its tier never expects.
    Misrouted { node: NodeId, tag: u64 },
}

/// A fact a tier reports to the ground truth.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Observation {
    /// A request's answer (or its timeout) reached its user.
    Answered { req: RequestId, reply: Reply },
    /// A write-back cache wrote a confirmed write to the database (with the
    /// version it got) or lost it (none).
    WriteBackSettled {
        req: RequestId,
        key: u32,
        version: Option<Version>,
    },
    /// Multi-leader: last-writer-wins threw away `version` of `key` in
    /// favour of a concurrent write (a conflict).
    Overwritten { key: u32, version: Version },
}
