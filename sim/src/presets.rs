//! Presets: named scenarios, each a lesson — a healthy system, stale follower reads, safe synchronous replication, a leader crash, a partitioned leader.

use crate::commands::{Command, TimedCommand};
use crate::error::Error;
use crate::scenario::{FollowerAck, ReadFrom, Replication, Scenario};

/// Every preset name, in the order they are listed.
pub const NAMES: [&str; 6] = [
    "default",
    "async-follower-reads",
    "sync-leader-reads",
    "leader-crash",
    "partition-leader",
    "region-failover",
];

/// Scenarios for measuring speed rather than teaching, listed after the lessons.
pub const BENCH_NAMES: [&str; 2] = ["stress", "stress-5x"];

fn at(at_s: f64, command: Command) -> TimedCommand {
    TimedCommand { at_s, command }
}

fn node(name: &str) -> String {
    name.to_string()
}

/// The scenario of a preset.
pub fn preset(name: &str) -> Result<Scenario, Error> {
    let mut s = Scenario::default();
    match name {
        "default" => {}
        "async-follower-reads" => {
            s.name = name.into();
            s.description = "Asynchronous replication with reads spread over busy followers, which take 40 ms to apply each round of writes (cache off): followers trail the leader, so some reads return data older than a write already confirmed to a user.".into();
            s.db.replication = Replication::Async;
            s.db.apply_ms = 40.0;
            s.db.read_from = ReadFrom::Followers;
            s.cache.enabled = false;
            s.workload.mix.static_ = 0.3;
            s.workload.mix.read = 0.5;
            s.workload.mix.write = 0.2;
        }
        "sync-leader-reads" => {
            s.name = name.into();
            s.description = "Synchronous replication where a follower confirms only once it has applied the write, and every read goes to the leader (cache off): no stale reads and no lost writes, at the price of slower writes.".into();
            s.db.replication = Replication::Sync;
            s.db.follower_ack = FollowerAck::Applied;
            s.db.read_from = ReadFrom::Leader;
            s.cache.enabled = false;
        }
        "leader-crash" => {
            s.name = name.into();
            s.description = "The database leader crashes at 20 s and comes back at 40 s. Followers notice the silence, elect a new leader, and writes resume. This leader ships its log to the followers in batches every 100 ms (log shipping), so the writes it confirmed since the last batch are lost: asynchronous replication loses whatever had not left the leader.".into();
            s.db.ship_on_heartbeat = true;
            s.script = vec![
                at(
                    20.0,
                    Command::Crash {
                        node: node("db-0-0"),
                    },
                ),
                at(
                    40.0,
                    Command::Restart {
                        node: node("db-0-0"),
                    },
                ),
            ];
        }
        "partition-leader" => {
            s.name = name.into();
            s.description = "At 20 s the network splits the leader (with app-1 and app-2) from the other replicas (with app-3 and app-4); it heals at 40 s. Fencing is off, so the old leader keeps confirming writes on the minority side — writes that are thrown away when the partition heals.".into();
            s.db.fencing = false;
            s.script = vec![
                at(
                    20.0,
                    Command::Partition {
                        groups: vec![
                            vec![node("db-0-0"), node("app-1"), node("app-2")],
                            vec![node("db-0-1"), node("db-0-2"), node("app-3"), node("app-4")],
                        ],
                    },
                ),
                at(40.0, Command::Heal),
            ];
        }
        "region-failover" => {
            s.name = name.into();
            s.description = "A site (balancer pair, app servers, cache) runs in every region, and geo-DNS sends users to the nearest healthy one. At 20 s eu-west goes dark: its users' requests fail until the DNS authority notices (two missed checks, 5 s apart) and their resolver's 30 s answer expires; then us-east serves them, 75 ms away. eu-west returns at 70 s, and its users come back as their answers expire again.".into();
            s.duration_s = 100.0;
            s.app.regions = vec!["us-east".into(), "eu-west".into(), "ap-southeast".into()];
            s.script = vec![
                at(
                    20.0,
                    Command::RegionDown {
                        region: "eu-west".into(),
                    },
                ),
                at(
                    70.0,
                    Command::RegionUp {
                        region: "eu-west".into(),
                    },
                ),
            ];
        }
        "stress" => {
            s.name = name.into();
            s.description = "A benchmark, not a lesson: 200 nodes (184 app servers) and about 18,000 requests a second, most from users far from the origin, so over 2,000 requests are in flight at once.".into();
            s.app.servers = 184;
            s.workload.requests_per_s = 18_000.0;
            s.network.regions[0].traffic_share = 0.1;
            s.network.regions[1].traffic_share = 0.3;
            s.network.regions[2].traffic_share = 0.6;
            s.workload.mix.static_ = 0.1;
            s.workload.mix.read = 0.8;
            s.workload.mix.write = 0.1;
            s.workload.keys = 100_000;
            s.cache.capacity = 50_000;
            s.cache.op_ms = 0.005;
            s.db.read_ms = 0.02;
            s.db.write_ms = 0.05;
            s.db.apply_ms = 1.0;
            s.trace_capacity = 500;
        }
        "stress-5x" => {
            s = preset("stress")?;
            s.name = name.into();
            s.description = "A benchmark, not a lesson: the stress scenario at five times the load, about 90,000 requests a second on the same 200 nodes, so over 10,000 requests are in flight at once (the cold cache turns some away in the first seconds).".into();
            s.workload.requests_per_s *= 5.0;
        }
        other => return Err(Error::UnknownPreset(other.to_string())),
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_valid_and_named() {
        for name in NAMES.iter().chain(&BENCH_NAMES) {
            let s = preset(name).unwrap();
            s.validate().unwrap();
            assert_eq!(s.name, *name);
        }
        assert!(preset("nope").is_err());
    }
}
