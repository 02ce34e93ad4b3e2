//! The tiles of what users see: throughput, availability, latency, errors and the five anomalies, and who leads the database.

use crate::engine::Engine;
use pathlab_sim::{NodeState, Role, Snapshot};
use yew::prelude::*;

/// Seconds the tiles' recent figures cover.
const RECENT_S: usize = 5;

/// What users saw in the last [`RECENT_S`] simulated seconds.
pub struct Recent {
    /// Requests per second.
    pub throughput: f64,
    /// Share of requests answered (stale answers count), in percent.
    pub availability: f64,
}

/// The recent figures at the cursor.
pub fn recent(e: &Engine) -> Recent {
    let m = e.sim.metrics();
    let last: Vec<_> = m.series.iter().rev().take(RECENT_S).collect();
    let reqs: u64 = last.iter().map(|p| p.requests).sum();
    let answered: u64 = last.iter().map(|p| p.ok + p.stale).sum();
    Recent {
        throughput: reqs as f64 / last.len().max(1) as f64,
        availability: if reqs == 0 {
            100.0
        } else {
            answered as f64 * 100.0 / reqs as f64
        },
    }
}

/// The metric tiles (the last five simulated seconds, totals for anomalies).
pub fn view(e: &Engine, snap: &Snapshot) -> Html {
    let m = e.sim.metrics();
    let recent_points: Vec<_> = m.series.iter().rev().take(RECENT_S).collect();
    let sum =
        |f: &dyn Fn(&pathlab_sim::Point) -> u64| recent_points.iter().map(|p| f(p)).sum::<u64>();
    let Recent {
        throughput,
        availability: avail,
    } = recent(e);
    let last = m.series.last();
    let db = &e.sim.settings().db;
    let shards = db.shards as usize;
    let led = snap
        .nodes
        .iter()
        .filter(|n| n.role == Some(Role::Leader) && n.state != NodeState::Down)
        .filter_map(|n| n.shard)
        .collect::<std::collections::BTreeSet<u32>>()
        .len();
    let leader = if db.replication.leaderless() {
        "no leader needed".to_string()
    } else if shards > 1 {
        format!("{led} of {shards} shards led")
    } else {
        snap.nodes
            .iter()
            .filter(|n| n.role == Some(Role::Leader) && n.state != NodeState::Down)
            .max_by_key(|n| n.term)
            .map(|n| format!("{} · t{}", n.id, n.term.unwrap_or(0)))
            .unwrap_or_else(|| "none".into())
    };
    let t = &m.totals;
    let tile = |label: &'static str, value: String, bad: bool, key: &'static str| {
        html! {
            <div class={classes!("tile", bad.then_some("bad"))} data-metric={key}>
                <span class="tile-label">{ label }</span>
                <span class="tile-value">{ value }</span>
            </div>
        }
    };
    html! {
        <section class="metrics" data-testid="metrics"
                 aria-label={if e.versus.is_some() { "What users of run A see (last 5 s)" } else { "What users see (last 5 s)" }}>
            { tile("Requests/s", format!("{throughput:.0}"), false, "throughput") }
            { tile("Answered", format!("{avail:.1} %"), avail < 99.0, "availability") }
            { tile("Latency p50", last.map(|p| format!("{:.0} ms", p.p50_ms)).unwrap_or("–".into()), false, "p50") }
            { tile("Latency p99", last.map(|p| format!("{:.0} ms", p.p99_ms)).unwrap_or("–".into()), last.is_some_and(|p| p.p99_ms > 1000.0), "p99") }
            { tile("Errors", t.failed.to_string(), sum(&|p| p.errors) > 0, "errors") }
            { tile("Stale reads", t.stale_reads.to_string(), sum(&|p| p.stale) > 0, "stale") }
            { tile("Lost writes", e.sim.lost_writes().to_string(), e.sim.lost_writes() > 0, "lost") }
            { tile("Rolled-back reads", t.rolled_back_reads.to_string(), t.rolled_back_reads > 0, "rolled-back") }
            { tile("DB leader", leader, false, "leader") }
            if t.conflicts > 0 {
                { tile("Conflicts", t.conflicts.to_string(), true, "conflicts") }
            }
            if t.sessions_lost > 0 {
                { tile("Logged out", t.sessions_lost.to_string(), true, "sessions-lost") }
            }
        </section>
    }
}
