//! Golden runs: the fingerprint and `run --json` summary of every preset at seeds 1–5, and of a set of feature scenarios with scripted faults, must stay exactly as recorded.
//!
//! A refactor never changes this file's golden data. A change that alters
//! behaviour on purpose regenerates it with
//! `PATHLAB_BLESS=1 cargo test -p pathlab-sim --test golden` and says why in
//! its own commit.

use pathlab_sim::{Scenario, Simulation, presets};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;

const GOLDEN: &str = "tests/golden/runs.json";

/// A scenario given as a JSON difference from the default, plus a timed script.
fn feature(patch: Value) -> Scenario {
    let mut base = serde_json::to_value(Scenario::default()).expect("serialisable");
    merge(&mut base, patch);
    let text = serde_json::to_string(&base).expect("serialisable");
    Scenario::from_json(&text).unwrap_or_else(|e| panic!("feature scenario: {e}"))
}

fn merge(base: &mut Value, patch: Value) {
    match (base, patch) {
        // A tagged value (a distribution) is replaced whole, not merged.
        (Value::Object(b), Value::Object(p)) if !p.contains_key("dist") => {
            for (k, v) in p {
                merge(b.entry(k).or_insert(Value::Null), v);
            }
        }
        (slot, v) => *slot = v,
    }
}

/// Scenarios that reach the mechanisms the presets do not: every balancing
/// strategy, cache policy, replication mode and read routing, sharding, the
/// order queue, and every kind of command.
fn features() -> Vec<(String, Scenario)> {
    let faults = json!([
        {"at": 4, "do": "slow", "node": "app-2", "factor": 6},
        {"at": 5, "do": "crash", "node": "app-1"},
        {"at": 6, "do": "link", "a": "app-3", "b": "cache-1", "latency_ms": 20, "jitter_ms": 5, "loss": 0.05},
        {"at": 7, "do": "flush", "node": "cache-1"},
        {"at": 8, "do": "crash", "node": "db-0-0"},
        {"at": 9, "do": "crash", "node": "lb-a"},
        {"at": 11, "do": "restart", "node": "app-1"},
        {"at": 12, "do": "partition", "groups": [["db-0-1", "app-1"], ["db-0-2", "app-3", "app-4"]]},
        {"at": 14, "do": "restart", "node": "db-0-0"},
        {"at": 15, "do": "heal"},
        {"at": 16, "do": "restart", "node": "lb-a"},
        {"at": 17, "do": "region-down", "region": "eu-west"},
        {"at": 19, "do": "region-up", "region": "eu-west"},
        {"at": 20, "do": "dns-set", "region": "ap-southeast", "target": "origin"},
        {"at": 21, "do": "isolate", "node": "db-0-2"},
        {"at": 22, "do": "partition-one-way", "from": ["app-4"], "to": ["cache-1"]},
        {"at": 23, "do": "heal"},
        {"at": 24, "do": "dns-auto"},
        {"at": 25, "do": "set-load", "requests_per_s": 500, "write": 0.3, "key_skew": 1.2},
        {"at": 26, "do": "scale", "servers": 6},
        {"at": 27, "do": "set-lb", "strategy": "least-connections", "sticky": true},
        {"at": 28, "do": "set-cache", "write_policy": "write-through", "eviction": "lfu", "ttl_s": 5},
        {"at": 29, "do": "set-db", "replication": "semi-sync", "read_from": "followers", "fencing": false},
        {"at": 30, "do": "set-app", "session_store": "local"},
        {"at": 31, "do": "scale", "servers": 3},
        {"at": 32, "do": "set-db", "replication": "sync", "follower_ack": "received", "read_from": "read-your-writes"},
        {"at": 33, "do": "set-lb", "strategy": "consistent-hash", "virtual_nodes": 40},
    ]);
    let mut out = vec![(
        "every-command".to_string(),
        feature(json!({"duration_s": 36, "script": faults})),
    )];
    for strategy in [
        "round-robin",
        "weighted-round-robin",
        "least-connections",
        "random",
        "ip-hash",
        "consistent-hash",
        "rendezvous",
        "path",
    ] {
        out.push((
            format!("lb-{strategy}"),
            feature(json!({
                "duration_s": 20,
                "lb": {"strategy": strategy, "sticky": strategy == "random"},
                "app": {"weights": [1, 2, 1, 0.5], "session_store": "local", "service": {"dist": "exponential", "mean_ms": 20}},
                "script": [
                    {"at": 5, "do": "crash", "node": "app-2"},
                    {"at": 10, "do": "scale", "servers": 7},
                    {"at": 15, "do": "restart", "node": "app-2"},
                ],
            })),
        ));
    }
    for (label, cache) in [
        (
            "cache-write-through-lfu",
            json!({"write_policy": "write-through", "eviction": "lfu", "capacity": 50}),
        ),
        (
            "cache-write-back-fifo",
            json!({"write_policy": "write-back", "eviction": "fifo", "capacity": 50, "flush_interval_ms": 500}),
        ),
    ] {
        out.push((
            label.to_string(),
            feature(json!({
                "duration_s": 20,
                "cache": cache,
                "workload": {"mix": {"static": 0.2, "read": 0.5, "write": 0.3}},
                "script": [
                    {"at": 8, "do": "crash", "node": "cache-1"},
                    {"at": 9, "do": "restart", "node": "cache-1"},
                ],
            })),
        ));
    }
    for (label, db) in [
        (
            "db-semi-sync-received-ryw",
            json!({"replication": "semi-sync", "follower_ack": "received", "read_from": "read-your-writes", "replicas": 5, "sync_followers": 2}),
        ),
        (
            "db-sync-sticky",
            json!({"replication": "sync", "read_from": "sticky"}),
        ),
        (
            "db-nearest-placed",
            json!({"read_from": "nearest", "placement": ["us-east", "eu-west", "ap-southeast"]}),
        ),
        (
            "db-quorum",
            json!({"replication": "quorum", "replicas": 5, "quorum_r": 2, "quorum_w": 3}),
        ),
        ("db-multi-leader", json!({"replication": "multi-leader"})),
        (
            "db-shards-hash",
            json!({"shards": 3, "read_from": "followers"}),
        ),
        (
            "db-shards-range",
            json!({"shards": 2, "partitioning": "range", "range_bounds": [100]}),
        ),
    ] {
        out.push((
            label.to_string(),
            feature(json!({
                "duration_s": 25,
                "cache": {"enabled": false},
                "db": db,
                "script": [
                    {"at": 8, "do": "crash", "node": "db-0-0"},
                    {"at": 12, "do": "partition", "groups": [["db-0-1"], ["db-0-2", "app-1", "app-2"]]},
                    {"at": 16, "do": "heal"},
                    {"at": 18, "do": "restart", "node": "db-0-0"},
                ],
            })),
        ));
    }
    out.push((
        "order-queue".to_string(),
        feature(json!({
            "duration_s": 25,
            "queue": {"enabled": true, "workers": 2},
            "workload": {"mix": {"static": 0.2, "read": 0.4, "write": 0.4}},
            "script": [
                {"at": 6, "do": "crash", "node": "worker-1"},
                {"at": 10, "do": "crash", "node": "queue-1"},
                {"at": 12, "do": "restart", "node": "queue-1"},
                {"at": 15, "do": "restart", "node": "worker-1"},
            ],
        })),
    ));
    out
}

/// Every golden case: label → (scenario, seed).
fn cases() -> Vec<(String, Scenario, u64)> {
    let mut cases = Vec::new();
    for name in presets::NAMES {
        let scenario = presets::preset(name).expect("preset");
        for seed in 1..=5 {
            cases.push((format!("{name}/seed-{seed}"), scenario.clone(), seed));
        }
    }
    for name in presets::BENCH_NAMES {
        let mut scenario = presets::preset(name).expect("preset");
        scenario.duration_s = 5.0;
        for seed in 1..=2 {
            cases.push((format!("{name}-5s/seed-{seed}"), scenario.clone(), seed));
        }
    }
    for (label, scenario) in features() {
        for seed in 1..=2 {
            cases.push((format!("{label}/seed-{seed}"), scenario.clone(), seed));
        }
    }
    cases
}

fn outcome(scenario: &Scenario, seed: u64) -> Value {
    let mut sim = Simulation::new(scenario, seed).expect("valid scenario");
    sim.run();
    // Every message reaches a tier that expects it.
    assert_eq!(sim.misrouted(), 0, "{} seed {seed}", scenario.name);
    let value = json!({
        "fingerprint": sim.fingerprint_hex(),
        "events": sim.events(),
        "summary": serde_json::to_value(sim.summary()).expect("serialisable"),
    });
    // Read back through text, as the golden file is, so that both sides of
    // the comparison went through the same decimal parsing of floats.
    serde_json::from_str(&value.to_string()).expect("JSON")
}

#[test]
fn every_golden_run_is_unchanged() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(GOLDEN);
    let got: BTreeMap<String, Value> = cases()
        .into_iter()
        .map(|(label, scenario, seed)| (label, outcome(&scenario, seed)))
        .collect();
    if std::env::var_os("PATHLAB_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let text = serde_json::to_string_pretty(&got).unwrap();
        std::fs::write(&path, text + "\n").unwrap();
        return;
    }
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (record it with PATHLAB_BLESS=1)", path.display()));
    let want: BTreeMap<String, Value> = serde_json::from_str(&text).expect("golden JSON");
    let mut differ = Vec::new();
    for (label, value) in &got {
        match want.get(label) {
            None => differ.push(format!("{label}: not in the golden file")),
            Some(w) if w != value => {
                let fields: Vec<String> = ["fingerprint", "events", "summary"]
                    .iter()
                    .filter(|k| w[**k] != value[**k])
                    .map(|k| match *k {
                        "summary" => "summary differs".to_string(),
                        k => format!("{k} {} → {}", w[k], value[k]),
                    })
                    .collect();
                differ.push(format!("{label}: {}", fields.join(", ")));
            }
            Some(_) => {}
        }
    }
    for label in want.keys().filter(|l| !got.contains_key(*l)) {
        differ.push(format!("{label}: in the golden file but no longer run"));
    }
    assert!(
        differ.is_empty(),
        "{} golden runs changed:\n{}",
        differ.len(),
        differ.join("\n")
    );
}
