//! Leaderless and multi-leader calls from an app server: write to every replica (or the user's region's leader) and wait for W, read from every replica and wait for R, the newest version wins, and stale replicas are repaired.

use super::AppNode;
use crate::context::Cx;
use crate::msg::{Msg, Reply, Timer};
use crate::node::NodeId;
use crate::request::{RequestId, RequestKind, Version};
use crate::requests::AppStage;

/// Resolves a quorum read from the replies so far: the newest version wins
/// (none read is the empty version), and every replica that answered with an
/// older one is stale and due a repair.
pub(crate) fn resolve_read(replies: &[(NodeId, Version)]) -> (Version, Vec<NodeId>) {
    let best = replies.iter().map(|&(_, v)| v).max().unwrap_or_default();
    let stale = replies
        .iter()
        .filter(|&&(_, v)| v < best)
        .map(|&(n, _)| n)
        .collect();
    (best, stale)
}

impl AppNode {
    /// Leaderless: sends a write to every replica of the key's shard (with a
    /// version from this server's clock) or asks every replica for a read.
    pub(super) fn quorum_call(&mut self, cx: &mut Cx, req: RequestId) {
        let me = cx.me;
        let now = cx.now;
        let index = cx.topo.nodes[cx.me.idx()].tier_idx;
        // Stamped with this server's clock, which may run fast or slow.
        let skew = cx
            .scenario()
            .app
            .clock_skew_ms
            .get(index as usize)
            .copied()
            .unwrap_or(0.0);
        let clock = (now.0 as f64 + skew * 1000.0).max(0.0) as u64;
        let Some(r) = cx.req(req) else { return };
        let (kind, key, client_tier) = (r.kind, r.key, r.client_tier);
        r.app_stage = AppStage::Db;
        r.app_call += 1;
        r.q_app = Some(me);
        r.q_count = 0;
        r.q_replies.clear();
        let call = r.app_call;
        let version = Version::stamped(clock, u64::from(index));
        r.q_best = if kind == RequestKind::Write {
            r.stored = Some(version);
            version
        } else {
            Version::default()
        };
        let shard = cx.topo.shard_of(key);
        let mut replicas: Vec<NodeId> = cx.topo.shard_replicas(shard).to_vec();
        if cx.scenario().db.replication == crate::scenario::Replication::MultiLeader {
            // Multi-leader: the replica in the user's region (or the nearest to it).
            let user_region = cx.topo.region(cx.topo.clients[client_tier as usize]);
            let dist = |id: &NodeId| cx.topo.distance(user_region, *id);
            replicas.sort_by_key(|id| (dist(id), *id));
            replicas.truncate(1);
        }
        for id in replicas {
            let msg = if kind == RequestKind::Write {
                Msg::QPut { req, key, version }
            } else {
                Msg::QGet { req, key }
            };
            cx.send(id, msg, 0);
        }
        cx.timer(cx.cfg().db_timeout, Timer::AppCallTimeout(req, call));
    }

    /// Leaderless: a replica stored a write, or answered a read.
    pub(super) fn quorum_reply(
        &mut self,
        cx: &mut Cx,
        from: NodeId,
        req: RequestId,
        value: Option<Version>,
    ) {
        let me = cx.me;
        // Multi-leader: one replica (the user's region's leader) answers.
        let multi = cx.scenario().db.replication == crate::scenario::Replication::MultiLeader;
        let (w, r_needed, repair) = if multi {
            (1, 1, false)
        } else {
            (
                cx.scenario().db.quorum_w,
                cx.scenario().db.quorum_r,
                cx.scenario().db.read_repair,
            )
        };
        let Some(r) = cx.req(req) else { return };
        if r.app != Some(me) || r.app_stage != AppStage::Db {
            // A reply after the read was answered (while the request is
            // still remembered): every replica that answered is repaired to
            // the newest version any of them returned.
            if let Some(v) = value
                && repair
                && r.q_app == Some(me)
            {
                let key = r.key;
                let mut repairs = Vec::new();
                if v < r.q_best {
                    repairs.push((from, r.q_best));
                } else if v > r.q_best {
                    repairs.extend(
                        r.q_replies
                            .iter()
                            .filter(|(_, x)| *x < v)
                            .map(|&(n, _)| (n, v)),
                    );
                    r.q_best = v;
                }
                r.q_replies.push((from, v));
                for (n, version) in repairs {
                    cx.send(n, Msg::QPut { req, key, version }, 0);
                }
            }
            return;
        }
        r.q_count += 1;
        match value {
            None => {
                if u32::from(r.q_count) == w {
                    let (v, key) = (r.q_best, r.key);
                    self.update_cache(cx, RequestKind::Write, key, v);
                    self.written(cx, req, Reply::Ok(Some(v)));
                }
            }
            Some(v) => {
                r.q_replies.push((from, v));
                if v > r.q_best {
                    r.q_best = v;
                }
                if u32::from(r.q_count) == r_needed {
                    let key = r.key;
                    let (best, stale) = resolve_read(&r.q_replies);
                    if repair {
                        for n in stale {
                            cx.send(
                                n,
                                Msg::QPut {
                                    req,
                                    key,
                                    version: best,
                                },
                                0,
                            );
                        }
                    }
                    self.update_cache(cx, RequestKind::Read, key, best);
                    self.finish(cx, req, Reply::Ok(Some(best)), true);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_version_wins_and_older_answers_are_stale() {
        let replies = [
            (NodeId(1), Version::new(1, 4)),
            (NodeId(2), Version::new(2, 5)),
            (NodeId(3), Version::new(1, 9)),
        ];
        let (best, stale) = resolve_read(&replies);
        assert_eq!(best, Version::new(2, 5), "a later term beats a longer log");
        assert_eq!(stale, [NodeId(1), NodeId(3)]);
    }

    #[test]
    fn agreeing_replicas_need_no_repair() {
        let v = Version::new(3, 7);
        let (best, stale) = resolve_read(&[(NodeId(1), v), (NodeId(2), v)]);
        assert_eq!(best, v);
        assert!(stale.is_empty());
    }

    #[test]
    fn a_key_never_written_reads_as_the_empty_version() {
        let (best, stale) = resolve_read(&[(NodeId(1), Version::default())]);
        assert_eq!(best, Version::default());
        assert!(stale.is_empty());
        assert_eq!(resolve_read(&[]).0, Version::default());
    }
}
