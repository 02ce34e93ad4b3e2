//! The settings, grouped by tier and folded, the most used first: database, load, caching, balancing and servers, shards, follow-up work and the rarer knobs. Options map to the core's enums through their scenario-file (serde) names; a value no enum has is refused, never guessed.

use super::{Dispatch, by_serde_name, checkbox, number_input, on_change, on_click, select};
use crate::action::{Action, Panel, Redesign};
use crate::engine::Engine;
use pathlab_sim::Command;
use pathlab_sim::scenario::{
    Eviction, FollowerAck, LbStrategy, Partitioning, ReadFrom, Replication, SessionStore,
    WritePolicy,
};
use yew::prelude::*;

/// A folded group of settings; its title opens and closes it.
fn group(e: &Engine, d: &Dispatch, panel: Panel, title: &str, body: Html) -> Html {
    let open = e.open.contains(&panel);
    let toggle = {
        let d = d.clone();
        Callback::from(move |ev: MouseEvent| {
            // The engine decides what is open, whatever the browser did.
            ev.prevent_default();
            d.emit(Action::Panel { panel, open: !open });
        })
    };
    html! {
        <details class="group" {open} data-group={crate::panels::serde_name(&panel)}>
            <summary onclick={toggle}>{ title }</summary>
            if open { <div class="group-body">{ body }</div> }
        </details>
    }
}

/// An action from the serde name of one of `options`, or a notice naming
/// the bad value.
fn pick<T: serde::Serialize + Clone + 'static>(
    what: &'static str,
    options: &[(T, String)],
    make: fn(T) -> Action,
) -> impl Fn(String) -> Option<Action> + use<T> {
    let values: Vec<T> = options.iter().map(|(v, _)| v.clone()).collect();
    move |v: String| {
        Some(match by_serde_name(&values, &v) {
            Some(x) => make(x),
            None => Action::Invalid {
                why: format!("{v:?} is not a {what} this version knows"),
            },
        })
    }
}

/// A whole number from a field, or a notice.
fn whole(what: &'static str, make: fn(u32) -> Action) -> impl Fn(String) -> Option<Action> {
    move |v: String| {
        Some(match v.trim().parse::<u32>() {
            Ok(n) => make(n),
            Err(_) => Action::Invalid {
                why: format!("{what} must be a whole number, not {v:?}"),
            },
        })
    }
}

/// A number from a field, or a notice.
fn number(what: &'static str, make: fn(f64) -> Action) -> impl Fn(String) -> Option<Action> {
    move |v: String| {
        Some(match v.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => make(x),
            _ => Action::Invalid {
                why: format!("{what} must be a number, not {v:?}"),
            },
        })
    }
}

fn set_db(
    replication: Option<Replication>,
    follower_ack: Option<FollowerAck>,
    read_from: Option<ReadFrom>,
    fencing: Option<bool>,
    sync_followers: Option<u32>,
) -> Action {
    Action::Command(Command::SetDb {
        replication,
        follower_ack,
        read_from,
        fencing,
        sync_followers,
    })
}

/// A change of the request mix or key skew (the rate has `Command::set_rate`).
fn set_load(mix: [Option<f64>; 3], key_skew: Option<f64>) -> Action {
    Action::Command(Command::SetLoad {
        requests_per_s: None,
        static_: mix[0],
        read: mix[1],
        write: mix[2],
        key_skew,
    })
}

/// Every settings group.
pub fn view(e: &Engine, d: &Dispatch) -> Html {
    html! {
        <section class="panel settings" aria-label="Design and load">
            { group(e, d, Panel::Database, "Database", database(e, d)) }
            { group(e, d, Panel::Load, "Load", load(e, d)) }
            { group(e, d, Panel::Caching, "Cache", caching(e, d)) }
            { group(e, d, Panel::Balancing, "Balancing and app servers", balancing(e, d)) }
            { group(e, d, Panel::Sharding, "Shards (restart the run)", sharding(e, d)) }
            { group(e, d, Panel::Queue, "Follow-up work", queue(e, d)) }
            { group(e, d, Panel::More, "More settings", super::settings_more::view(e, d)) }
            if let Some(m) = e.sim.summary_moves() {
                <p class="hint">{ m }</p>
            }
        </section>
    }
}

fn mix_total(s: &pathlab_sim::Scenario) -> f64 {
    let m = &s.workload.mix;
    (m.static_ + m.read + m.write).max(f64::MIN_POSITIVE)
}

fn load(e: &Engine, d: &Dispatch) -> Html {
    let s = e.sim.settings();
    let w = &s.workload;
    let share = |x: f64| format!("{:.0}", x * 100.0 / mix_total(s));
    let mix_field = |label: &str, aria: &str, v: f64, make: fn(f64) -> Action| {
        number_input(
            "",
            label,
            aria,
            "",
            ("0".into(), "100".into()),
            share(v),
            on_change(d, number("a share", make)),
        )
    };
    html! {
        <>
            <label class="row">{ format!("Requests/s: {:.0}", w.requests_per_s) }
                <input type="range" min="0" max="3000" step="10" value={w.requests_per_s.to_string()} aria-label="Requests per second" data-testid="rate"
                       onchange={on_change(d, number("the request rate", |x| Action::Command(Command::set_rate(x))))} />
            </label>
            <div class="row mix">
                { mix_field("static", "Share of static requests (%)", w.mix.static_, |x| set_load([Some(x), None, None], None)) }
                { mix_field("read", "Share of reads (%)", w.mix.read, |x| set_load([None, Some(x), None], None)) }
                { mix_field("write", "Share of writes (%)", w.mix.write, |x| set_load([None, None, Some(x)], None)) }
            </div>
            <label class="row">{ format!("Key skew (Zipf): {:.1}", w.key_skew) }
                <input type="range" min="0" max="2" step="0.1" value={w.key_skew.to_string()} aria-label="Key skew"
                       onchange={on_change(d, number("the key skew", |x| set_load([None; 3], Some(x))))} />
            </label>
        </>
    }
}

fn database(e: &Engine, d: &Dispatch) -> Html {
    let s = e.sim.settings();
    let db = &s.db;
    let leaderless_now = db.replication.leaderless();
    let replications = [
        (Replication::Async, "asynchronous".to_string()),
        (
            Replication::SemiSync,
            format!(
                "semi-synchronous ({} of {})",
                db.sync_followers,
                db.replicas.saturating_sub(1)
            ),
        ),
        (Replication::Sync, "synchronous".to_string()),
        (
            Replication::Quorum,
            "leaderless quorums (restarts)".to_string(),
        ),
        (
            Replication::MultiLeader,
            "a leader per region (restarts)".to_string(),
        ),
    ];
    // Leaderless and leader-based groups differ in kind: moving between
    // them starts a new run.
    let change: fn(Replication) -> Action = if leaderless_now {
        |mode| Action::Redesign(Redesign::Replication(mode))
    } else {
        |mode| {
            if mode.leaderless() {
                Action::Redesign(Redesign::Replication(mode))
            } else {
                set_db(Some(mode), None, None, None, None)
            }
        }
    };
    let on_replication = on_change(d, pick("replication mode", &replications, change));
    let read_from = [
        (ReadFrom::Leader, "the leader".to_string()),
        (ReadFrom::Followers, "any follower".to_string()),
        (
            ReadFrom::ReadYourWrites,
            "a follower with my last write".to_string(),
        ),
        (ReadFrom::Sticky, "the same follower each time".to_string()),
        (ReadFrom::Nearest, "the nearest replica".to_string()),
    ];
    let acks = [
        (FollowerAck::Received, "received (durable)".to_string()),
        (FollowerAck::Applied, "applied (visible)".to_string()),
    ];
    html! {
        <>
            { select("Reads go to", "read-from", &read_from, &db.read_from,
                on_change(d, pick("read routing", &read_from, |r| set_db(None, None, Some(r), None, None)))) }
            { select("Replication", "replication", &replications, &db.replication, on_replication) }
            if db.replication == Replication::Quorum {
                <div class="row mix">
                    { number_input("", "R", "Replicas a read waits for", "quorum-r", ("1".into(), db.replicas.to_string()), db.quorum_r.to_string(),
                        on_change(d, whole("R", |n| Action::Redesign(Redesign::QuorumR(n))))) }
                    { number_input("", "W", "Replicas a write waits for", "quorum-w", ("1".into(), db.replicas.to_string()), db.quorum_w.to_string(),
                        on_change(d, whole("W", |n| Action::Redesign(Redesign::QuorumW(n))))) }
                </div>
                { checkbox(" Read repair: replicas found behind are sent the newest version", "Read repair", "read-repair", db.read_repair,
                    on_change(d, |v| Some(Action::Redesign(Redesign::ReadRepair(v == "true"))))) }
                <p class="hint">{ format!("N = {}, R = {}, W = {}: {}", db.replicas, db.quorum_r, db.quorum_w,
                    if db.quorum_r + db.quorum_w > db.replicas { "every read meets the newest write" } else { "reads can miss the newest write" }) }</p>
            }
            if db.replication == Replication::SemiSync {
                { number_input("row", "Followers to wait for ", "Followers to wait for", "sync-followers", ("1".into(), db.replicas.saturating_sub(1).max(1).to_string()), db.sync_followers.to_string(),
                    on_change(d, whole("the number of followers", |k| set_db(None, None, None, None, Some(k))))) }
            }
            { select("Follower acknowledges when", "follower-ack", &acks, &db.follower_ack,
                on_change(d, pick("acknowledgement", &acks, |a| set_db(None, Some(a), None, None, None)))) }
            { checkbox(" Fencing: a leader cut off from the majority steps down", "Fencing", "fencing", db.fencing,
                on_change(d, |v| Some(set_db(None, None, None, Some(v == "true"), None)))) }
        </>
    }
}

fn caching(e: &Engine, d: &Dispatch) -> Html {
    let c = &e.sim.settings().cache;
    let policies = [
        (WritePolicy::Invalidate, "invalidate".to_string()),
        (WritePolicy::WriteThrough, "write-through".to_string()),
        (WritePolicy::WriteBack, "write-back".to_string()),
    ];
    let evictions = [
        (Eviction::Lru, "least recently used".to_string()),
        (Eviction::Lfu, "least frequently used".to_string()),
        (Eviction::Fifo, "first in, first out".to_string()),
    ];
    html! {
        <>
            { select("Cache writes", "write-policy", &policies, &c.write_policy,
                on_change(d, pick("write policy", &policies, |p| set_cache(Some(p), None)))) }
            { select("Cache eviction", "eviction", &evictions, &c.eviction,
                on_change(d, pick("eviction policy", &evictions, |v| set_cache(None, Some(v))))) }
        </>
    }
}

fn balancing(e: &Engine, d: &Dispatch) -> Html {
    let s = e.sim.settings();
    let strategies: Vec<(LbStrategy, String)> = LbStrategy::ALL
        .iter()
        .map(|&st| (st, st.label().to_string()))
        .collect();
    let stores = [
        (SessionStore::Shared, "shared store".to_string()),
        (SessionStore::Local, "each server's memory".to_string()),
    ];
    html! {
        <>
            { select("Load balancing", "lb-strategy", &strategies, &s.lb.strategy,
                on_change(d, pick("balancing strategy", &strategies, |st| set_lb(Some(st), None)))) }
            { checkbox(" Sticky sessions", "Sticky sessions", "sticky", s.lb.sticky,
                on_change(d, |v| Some(set_lb(None, Some(v == "true"))))) }
            { select("Session state", "session-store", &stores, &s.app.session_store,
                on_change(d, pick("session store", &stores, |session_store| Action::Command(Command::SetApp { session_store })))) }
            { number_input("row", "App servers ", "App servers", "servers", ("1".into(), "64".into()), e.sim.active_app_servers().to_string(),
                on_change(d, whole("the number of servers", |servers| Action::Command(Command::Scale { servers })))) }
        </>
    }
}

fn sharding(e: &Engine, d: &Dispatch) -> Html {
    let db = &e.scenario.db;
    let splits = [
        (Partitioning::Hash, "hash of the key".to_string()),
        (Partitioning::Range, "key ranges".to_string()),
    ];
    html! {
        <>
            { number_input("row", "Shards ", "Shards", "shards", ("1".into(), "8".into()), db.shards.to_string(),
                on_change(d, whole("the number of shards", |n| Action::Redesign(Redesign::Shards(n))))) }
            { select("Keys split by", "partitioning", &splits, &db.partitioning,
                on_change(d, pick("partitioning", &splits, |p: Partitioning| Action::Redesign(Redesign::Partitioning(p))))) }
            if db.shards > 1 {
                <p class="hint">{ shard_moves_text(e) }</p>
            }
        </>
    }
}

/// In words, how many keys an added shard would move.
fn shard_moves_text(e: &Engine) -> String {
    let m = e.sim.summary_shard_moves();
    format!(
        "Adding a shard would move {:.0} % of keys with hash mod N, {:.0} % with a consistent-hash ring, {:.0} % by splitting the widest key range.",
        m.hash_mod * 100.0,
        m.consistent_hash * 100.0,
        m.range_split * 100.0
    )
}

fn queue(e: &Engine, d: &Dispatch) -> Html {
    let q = &e.scenario.queue;
    html! {
        <>
            { checkbox(" Writes are orders: payment, inventory and email go through a queue (restarts the run)", "Order queue", "queue", q.enabled,
                on_change(d, |v| Some(Action::Redesign(Redesign::Queue(v == "true"))))) }
            if q.enabled {
                { number_input("row", "Queue workers (restarts the run) ", "Queue workers", "workers", ("1".into(), "64".into()), q.workers.to_string(),
                    on_change(d, whole("the number of workers", |n| Action::Redesign(Redesign::QueueWorkers(n))))) }
                if let Some(b) = e.sim.queue_backlog() {
                    <p class="hint">{ format!("{b} jobs waiting or in progress; {} steps done twice so far.", e.sim.metrics().totals.job_duplicates) }</p>
                }
            }
            <button type="button" class="link" onclick={on_click(d, Action::Panel { panel: Panel::More, open: true })}>{ "More settings…" }</button>
        </>
    }
}

fn set_cache(write_policy: Option<WritePolicy>, eviction: Option<Eviction>) -> Action {
    Action::Command(Command::SetCache {
        write_policy,
        eviction,
        ttl_s: None,
    })
}

fn set_lb(strategy: Option<LbStrategy>, sticky: Option<bool>) -> Action {
    Action::Command(Command::SetLb {
        strategy,
        sticky,
        virtual_nodes: None,
    })
}
