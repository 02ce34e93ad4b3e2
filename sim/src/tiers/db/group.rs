//! Views across a whole replica group, for the ground truth and the snapshots (which may see every replica): whose log counts, what is committed, how far each replica lags, and whether Raft's safety properties hold.

use super::{DbNode, Role};
use crate::request::Version;
use crate::time::SimTime;

/// The replica (index into `dbs`) a shard's truth is read from: its up
/// leader with the highest term, else its up replica with the most
/// up-to-date log, else any replica with the most up-to-date log.
pub(crate) fn authority(
    dbs: &[DbNode],
    up: impl Fn(&DbNode) -> bool,
    shard: usize,
) -> Option<usize> {
    let group = || {
        dbs.iter()
            .enumerate()
            .filter(move |(_, d)| d.shard == shard)
    };
    group()
        .filter(|(_, d)| up(d))
        .filter(|(_, d)| d.role == Role::Leader)
        .max_by_key(|(_, d)| d.term)
        .or_else(|| {
            group()
                .filter(|(_, d)| up(d))
                .max_by_key(|(_, d)| (d.last_term(), d.last_index()))
        })
        .or_else(|| group().max_by_key(|(_, d)| (d.last_term(), d.last_index())))
        .map(|(t, _)| t)
}

/// Whether version `v` is committed on a majority by an up leader of `shard`.
pub(crate) fn is_committed(
    dbs: &[DbNode],
    up: impl Fn(&DbNode) -> bool,
    shard: usize,
    v: Version,
) -> bool {
    dbs.iter().any(|d| {
        d.shard == shard
            && d.role == Role::Leader
            && up(d)
            && d.commit >= v.index()
            && d.term_at(v.index()) == v.term()
    })
}

/// Whether the replica at `authority` holds version `v` in its log.
pub(crate) fn holds(dbs: &[DbNode], authority: usize, v: Version) -> bool {
    dbs[authority].term_at(v.index()) == v.term()
}

/// Replication lag of replica `t` behind its shard's authority `a`, in
/// microseconds: how long ago the oldest entry it has not applied was written.
pub(crate) fn lag(dbs: &[DbNode], a: usize, t: usize, now: SimTime) -> Option<u64> {
    let leader = &dbs[a];
    let d = &dbs[t];
    if a == t || d.applied >= leader.last_index() {
        return Some(0);
    }
    let first = leader.entry(d.applied + 1)?;
    Some(now.0.saturating_sub(first.appended_at))
}

/// Checks Raft's safety properties over every replica; returns what is
/// violated, in words naming replicas by `name` (empty when all hold).
pub(crate) fn check_invariants(
    dbs: &[DbNode],
    shards: usize,
    name: impl Fn(&DbNode) -> String,
) -> Vec<String> {
    let mut bad = Vec::new();
    // At most one leader per term.
    for (i, a) in dbs.iter().enumerate() {
        for b in &dbs[i + 1..] {
            if a.shard == b.shard
                && a.role == Role::Leader
                && b.role == Role::Leader
                && a.term == b.term
            {
                bad.push(format!(
                    "{} and {} both lead term {}",
                    name(a),
                    name(b),
                    a.term
                ));
            }
        }
    }
    // In each shard, the leader of the highest term holds every entry
    // committed by any replica of a term at most its own.
    for shard in 0..shards {
        let Some(l) = dbs
            .iter()
            .filter(|d| d.shard == shard && d.role == Role::Leader)
            .max_by_key(|d| d.term)
        else {
            continue;
        };
        for d in dbs.iter().filter(|d| d.shard == shard) {
            if d.term > l.term {
                continue;
            }
            for i in 1..=d.commit.min(d.last_index()) {
                if l.term_at(i) != d.term_at(i) {
                    bad.push(format!(
                        "{} committed entry {} (term {}) that leader {} lacks",
                        name(d),
                        i,
                        d.term_at(i),
                        name(l)
                    ));
                    break;
                }
            }
        }
    }
    // Visible state never runs ahead of the log.
    for d in dbs {
        if d.applied > d.last_index() {
            bad.push(format!("{} applied past the end of its log", name(d)));
        }
    }
    bad
}

/// Whether every replica of each shard holds the same log and the same
/// keys (after a heal, with nothing left to replicate); else what differs.
pub(crate) fn converged(
    dbs: &[DbNode],
    shards: usize,
    name: impl Fn(&DbNode) -> String,
) -> Result<(), String> {
    for shard in 0..shards {
        let group: Vec<&DbNode> = dbs.iter().filter(|d| d.shard == shard).collect();
        let Some(first) = group.first() else { continue };
        for d in &group[1..] {
            let same = d.last_index() == first.last_index()
                && d.last_term() == first.last_term()
                && d.applied == first.applied
                && d.kv == first.kv;
            if !same {
                return Err(format!(
                    "{} (last entry {} of term {}, applied {}) and {} (last entry {} of term {}, applied {}) differ",
                    name(first),
                    first.last_index(),
                    first.last_term(),
                    first.applied,
                    name(d),
                    d.last_index(),
                    d.last_term(),
                    d.applied
                ));
            }
        }
    }
    Ok(())
}

/// The cheap safety checks, for every event: at most one leader per term
/// in a shard, no replica applied past its log, and every replica's last
/// committed entry held by the leader of the highest term.
pub(crate) fn check_quick(dbs: &[DbNode], shards: usize) -> Result<(), String> {
    for shard in 0..shards {
        let group = || dbs.iter().filter(move |d| d.shard == shard);
        let mut terms: Vec<u64> = group()
            .filter(|d| d.role == Role::Leader)
            .map(|d| d.term)
            .collect();
        terms.sort_unstable();
        if terms.windows(2).any(|w| w[0] == w[1]) {
            return Err(format!("shard {shard}: two leaders in one term"));
        }
        let Some(l) = group()
            .filter(|d| d.role == Role::Leader)
            .max_by_key(|d| d.term)
        else {
            continue;
        };
        for d in group() {
            if d.applied > d.last_index() {
                return Err(format!("shard {shard}: a replica applied past its log"));
            }
            let c = d.commit.min(d.last_index());
            if d.term <= l.term && c > 0 && l.term_at(c) != d.term_at(c) {
                return Err(format!(
                    "shard {shard}: committed entry {c} (term {}) missing from the leader of term {}",
                    d.term_at(c),
                    l.term
                ));
            }
        }
    }
    Ok(())
}
