//! Commands: every way the outside world (a script, a test, a click) can change a running simulation.

mod apply;
mod check;

use crate::scenario::{
    Eviction, FollowerAck, LbStrategy, ReadFrom, Replication, Scenario, SessionStore, WritePolicy,
};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One change to the simulated world. Nodes and regions are named as in the
/// snapshot (`db-0-1`, `eu-west`); names are checked when the command is
/// scheduled or applied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Command {
    /// Stop a node: it answers nothing and forgets what it held in memory.
    Crash {
        /// The node.
        node: String,
    },
    /// Start a crashed node again (a database replica keeps its log).
    Restart {
        /// The node.
        node: String,
    },
    /// Split the network: nodes in different groups cannot reach each other
    /// (both directions). Nodes in no group can still reach everyone.
    Partition {
        /// The sides.
        groups: Vec<Vec<String>>,
    },
    /// Block messages from one set of nodes to another, but not back.
    PartitionOneWay {
        /// Senders whose messages are dropped.
        from: Vec<String>,
        /// Receivers that no longer hear them.
        to: Vec<String>,
    },
    /// Cut one node off from every other node.
    Isolate {
        /// The node.
        node: String,
    },
    /// Remove every partition and isolation.
    Heal,
    /// Change a link between two nodes (both directions).
    Link {
        /// One end.
        a: String,
        /// The other end.
        b: String,
        /// Extra one-way delay in milliseconds.
        #[serde(default)]
        latency_ms: f64,
        /// Extra random delay, up to this many milliseconds.
        #[serde(default)]
        jitter_ms: f64,
        /// Probability that a message is lost, 0 to 1.
        #[serde(default)]
        loss: f64,
    },
    /// Make a node do everything `factor` times more slowly (a gray failure).
    Slow {
        /// The node.
        node: String,
        /// 1 is normal speed.
        factor: f64,
    },
    /// Take every server in a region down (users there stay).
    RegionDown {
        /// The region.
        region: String,
    },
    /// Bring a region's servers back.
    RegionUp {
        /// The region.
        region: String,
    },
    /// Empty a cache or a CDN edge without stopping it.
    Flush {
        /// The cache or CDN node.
        node: String,
    },
    /// Point the static-content name for users in one region (or all) at a node.
    DnsSet {
        /// Region whose users get the new answer; all regions if absent.
        #[serde(default)]
        region: Option<String>,
        /// A CDN edge, or `origin` for the load balancers.
        target: String,
    },
    /// Go back to answering by geography and health.
    DnsAuto {
        /// Region to reset; all if absent.
        #[serde(default)]
        region: Option<String>,
    },
    /// Change what the users do, while running. Absent fields stay as they are.
    SetLoad {
        /// Requests per second from all regions.
        #[serde(default)]
        requests_per_s: Option<f64>,
        /// Share of static requests.
        #[serde(default, rename = "static")]
        static_: Option<f64>,
        /// Share of reads.
        #[serde(default)]
        read: Option<f64>,
        /// Share of writes.
        #[serde(default)]
        write: Option<f64>,
        /// Zipf exponent of key popularity.
        #[serde(default)]
        key_skew: Option<f64>,
    },
    /// Change the database's policies, while running. Absent fields stay.
    SetDb {
        /// When writes are acknowledged.
        #[serde(default)]
        replication: Option<Replication>,
        /// What a follower's acknowledgement means.
        #[serde(default)]
        follower_ack: Option<FollowerAck>,
        /// Where reads go.
        #[serde(default)]
        read_from: Option<ReadFrom>,
        /// Whether a cut-off leader steps down.
        #[serde(default)]
        fencing: Option<bool>,
        /// With semi-synchronous replication: followers that must acknowledge.
        #[serde(default)]
        sync_followers: Option<u32>,
    },
    /// Change how the load balancers pick a server, while running.
    SetLb {
        /// The strategy.
        #[serde(default)]
        strategy: Option<LbStrategy>,
        /// Sticky sessions on or off.
        #[serde(default)]
        sticky: Option<bool>,
        /// Points per server on the consistent-hash ring.
        #[serde(default)]
        virtual_nodes: Option<u32>,
    },
    /// Change where session state lives, while running.
    SetApp {
        /// The session store.
        session_store: SessionStore,
    },
    /// Change the cache's policies, while running.
    SetCache {
        /// What a write does to the cache.
        #[serde(default)]
        write_policy: Option<WritePolicy>,
        /// Which key leaves when the cache is full.
        #[serde(default)]
        eviction: Option<Eviction>,
        /// How long new entries live, in seconds.
        #[serde(default)]
        ttl_s: Option<f64>,
    },
    /// Run this many app servers: new ones join the balancers' pool, removed
    /// ones (the highest numbered) are taken out of it and stopped.
    Scale {
        /// App servers wanted, 1 to 256.
        servers: u32,
    },
}

impl Command {
    /// Changes `scenario` as this command changes a running simulation's
    /// settings (nothing for faults); the result is not validated.
    pub fn edit(&self, scenario: &mut Scenario) {
        edit_settings(scenario, self)
    }

    /// A change of the request rate alone (0 stops new requests).
    pub fn set_rate(requests_per_s: f64) -> Command {
        Command::SetLoad {
            requests_per_s: Some(requests_per_s),
            static_: None,
            read: None,
            write: None,
            key_skew: None,
        }
    }

    /// A short plain-words description, for the event log.
    pub fn describe(&self) -> String {
        match self {
            Command::Crash { node } => format!("crash {node}"),
            Command::Restart { node } => format!("restart {node}"),
            Command::Partition { groups } => {
                let sides: Vec<String> = groups.iter().map(|g| g.join(", ")).collect();
                format!("partition [{}]", sides.join("] | ["))
            }
            Command::PartitionOneWay { from, to } => {
                format!(
                    "one-way partition: [{}] no longer reach [{}]",
                    from.join(", "),
                    to.join(", ")
                )
            }
            Command::Isolate { node } => format!("isolate {node}"),
            Command::Heal => "heal the network".into(),
            Command::Link {
                a,
                b,
                latency_ms,
                jitter_ms,
                loss,
            } => format!(
                "link {a} ↔ {b}: +{latency_ms} ms, jitter {jitter_ms} ms, loss {:.0}%",
                loss * 100.0
            ),
            Command::Slow { node, factor } => format!("slow {node} ×{factor}"),
            Command::RegionDown { region } => format!("take region {region} down"),
            Command::RegionUp { region } => format!("bring region {region} up"),
            Command::Flush { node } => format!("flush {node}"),
            Command::DnsSet { region, target } => match region {
                Some(r) => format!("point static content for {r} at {target}"),
                None => format!("point static content for every region at {target}"),
            },
            Command::DnsAuto { region } => match region {
                Some(r) => format!("static content for {r} answered by geography again"),
                None => "static content answered by geography again".into(),
            },
            Command::SetLoad {
                requests_per_s,
                static_,
                read,
                write,
                key_skew,
            } => {
                let mut parts = Vec::new();
                if let Some(v) = requests_per_s {
                    parts.push(format!("{v} requests/s"));
                }
                if static_.is_some() || read.is_some() || write.is_some() {
                    let f =
                        |v: &Option<f64>| v.map(|x| format!("{x}")).unwrap_or_else(|| "=".into());
                    parts.push(format!(
                        "mix static {} / read {} / write {}",
                        f(static_),
                        f(read),
                        f(write)
                    ));
                }
                if let Some(v) = key_skew {
                    parts.push(format!("key skew {v}"));
                }
                format!("set load: {}", parts.join(", "))
            }
            Command::SetDb {
                replication,
                follower_ack,
                read_from,
                fencing,
                sync_followers,
            } => {
                let mut parts = Vec::new();
                if let Some(r) = replication {
                    parts.push(
                        match r {
                            Replication::Async => "asynchronous replication",
                            Replication::Sync => "synchronous replication",
                            Replication::SemiSync => "semi-synchronous replication",
                            Replication::Quorum => "leaderless quorums",
                            Replication::MultiLeader => "a leader in every region",
                        }
                        .to_string(),
                    );
                }
                if let Some(a) = follower_ack {
                    parts.push(
                        match a {
                            FollowerAck::Received => "followers acknowledge what they received",
                            FollowerAck::Applied => "followers acknowledge what they applied",
                        }
                        .to_string(),
                    );
                }
                if let Some(r) = read_from {
                    parts.push(
                        match r {
                            ReadFrom::Leader => "reads from the leader",
                            ReadFrom::Followers => "reads from any follower",
                            ReadFrom::ReadYourWrites => {
                                "reads from a follower that has the session's last write"
                            }
                            ReadFrom::Sticky => "reads from one follower per session",
                            ReadFrom::Nearest => "reads from the nearest replica",
                        }
                        .to_string(),
                    );
                }
                if let Some(f) = fencing {
                    parts.push(if *f {
                        "fencing on".into()
                    } else {
                        "fencing off".into()
                    });
                }
                if let Some(k) = sync_followers {
                    parts.push(format!("wait for {k} followers"));
                }
                format!("set database: {}", parts.join(", "))
            }
            Command::SetLb {
                strategy,
                sticky,
                virtual_nodes,
            } => {
                let mut parts = Vec::new();
                if let Some(s) = strategy {
                    parts.push(s.label().to_string());
                }
                if let Some(s) = sticky {
                    parts.push(if *s {
                        "sticky sessions".into()
                    } else {
                        "no sticky sessions".into()
                    });
                }
                if let Some(v) = virtual_nodes {
                    parts.push(format!("{v} virtual nodes per server"));
                }
                format!("set load balancing: {}", parts.join(", "))
            }
            Command::SetApp { session_store } => match session_store {
                SessionStore::Shared => "keep session state in a shared store".into(),
                SessionStore::Local => "keep session state in each app server's memory".into(),
            },
            Command::Scale { servers } => format!("scale the app tier to {servers} servers"),
            Command::SetCache {
                write_policy,
                eviction,
                ttl_s,
            } => {
                let mut parts = Vec::new();
                if let Some(w) = write_policy {
                    parts.push(match w {
                        WritePolicy::Invalidate => "writes invalidate the cache",
                        WritePolicy::WriteThrough => "writes go through the cache",
                        WritePolicy::WriteBack => "writes go to the cache first (write-back)",
                    });
                }
                if let Some(e) = eviction {
                    parts.push(match e {
                        Eviction::Lru => "evict least recently used",
                        Eviction::Lfu => "evict least frequently used",
                        Eviction::Fifo => "evict oldest first",
                    });
                }
                let ttl = ttl_s.map(|t| format!("entries live {t} s"));
                let mut parts: Vec<String> = parts.into_iter().map(String::from).collect();
                parts.extend(ttl);
                format!("set cache: {}", parts.join(", "))
            }
        }
    }
}

/// A command with the simulated time (in seconds) it is applied at.
#[derive(Clone, Debug, PartialEq)]
pub struct TimedCommand {
    /// When, in simulated seconds from the start.
    pub at_s: f64,
    /// What.
    pub command: Command,
}

impl Serialize for TimedCommand {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut v = serde_json::to_value(&self.command).map_err(serde::ser::Error::custom)?;
        if let Some(map) = v.as_object_mut() {
            map.insert("at".into(), serde_json::json!(self.at_s));
        }
        v.serialize(s)
    }
}

impl<'de> Deserialize<'de> for TimedCommand {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut map = serde_json::Map::deserialize(d)?;
        let at = map
            .remove("at")
            .ok_or_else(|| D::Error::custom("missing field `at` (seconds)"))?;
        let at_s = at.as_f64().ok_or_else(|| {
            D::Error::custom(format!("`at` must be a number of seconds, got {at}"))
        })?;
        let command =
            Command::deserialize(serde_json::Value::Object(map)).map_err(D::Error::custom)?;
        Ok(TimedCommand { at_s, command })
    }
}

/// The change a command makes to the settings (none for faults). Checking a
/// command applies this to a copy of the settings and validates the result
/// as a scenario; applying it does the same to the settings themselves, so
/// every bound is written once, in [`Scenario::validate`].
pub(crate) fn edit_settings(s: &mut Scenario, cmd: &Command) {
    fn set<T: Copy>(field: &mut T, value: &Option<T>) {
        if let Some(v) = value {
            *field = *v;
        }
    }
    match cmd {
        Command::SetLoad {
            requests_per_s,
            static_,
            read,
            write,
            key_skew,
        } => {
            let w = &mut s.workload;
            set(&mut w.requests_per_s, requests_per_s);
            set(&mut w.mix.static_, static_);
            set(&mut w.mix.read, read);
            set(&mut w.mix.write, write);
            set(&mut w.key_skew, key_skew);
        }
        Command::SetDb {
            replication,
            follower_ack,
            read_from,
            fencing,
            sync_followers,
        } => {
            let d = &mut s.db;
            set(&mut d.replication, replication);
            set(&mut d.follower_ack, follower_ack);
            set(&mut d.read_from, read_from);
            set(&mut d.fencing, fencing);
            set(&mut d.sync_followers, sync_followers);
        }
        Command::SetLb {
            strategy,
            sticky,
            virtual_nodes,
        } => {
            set(&mut s.lb.strategy, strategy);
            set(&mut s.lb.sticky, sticky);
            set(&mut s.lb.virtual_nodes, virtual_nodes);
        }
        Command::SetApp { session_store } => s.app.session_store = *session_store,
        Command::SetCache {
            write_policy,
            eviction,
            ttl_s,
        } => {
            set(&mut s.cache.write_policy, write_policy);
            set(&mut s.cache.eviction, eviction);
            set(&mut s.cache.ttl_s, ttl_s);
        }
        Command::Scale { servers } => {
            // Sizes given in the scenario stay with the servers that keep
            // running; servers added later have size 1.
            s.app.servers = *servers;
            s.app.weights.truncate(*servers as usize);
        }
        Command::Crash { .. }
        | Command::Restart { .. }
        | Command::Partition { .. }
        | Command::PartitionOneWay { .. }
        | Command::Isolate { .. }
        | Command::Heal
        | Command::Link { .. }
        | Command::Slow { .. }
        | Command::RegionDown { .. }
        | Command::RegionUp { .. }
        | Command::Flush { .. }
        | Command::DnsSet { .. }
        | Command::DnsAuto { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timed_command_reads_flat_json() {
        let c: TimedCommand =
            serde_json::from_str(r#"{"at": 10, "do": "crash", "node": "db-0-0"}"#).unwrap();
        assert_eq!(c.at_s, 10.0);
        assert_eq!(
            c.command,
            Command::Crash {
                node: "db-0-0".into()
            }
        );
        let back = serde_json::to_string(&c).unwrap();
        let again: TimedCommand = serde_json::from_str(&back).unwrap();
        assert_eq!(again, c);
    }

    #[test]
    fn unknown_field_in_command_is_rejected() {
        let e = serde_json::from_str::<TimedCommand>(r#"{"at": 1, "do": "crash", "nod": "x"}"#)
            .unwrap_err();
        assert!(e.to_string().contains("nod"), "{e}");
        let e = serde_json::from_str::<TimedCommand>(r#"{"at": 1, "do": "explode"}"#).unwrap_err();
        assert!(e.to_string().contains("explode"), "{e}");
    }
}
