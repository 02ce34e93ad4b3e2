//! The event log: what happened, in plain words, with simulated timestamps.

use crate::engine::Simulation;
use crate::node::NodeId;
use crate::request::{RequestId, Version};
use crate::time::SimTime;
use serde::Serialize;

/// One line of the log.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LogEntry {
    /// When.
    pub at: SimTime,
    /// What.
    pub event: LogEvent,
}

/// Most lines the event log keeps; beyond that the oldest tenth goes.
pub(crate) const LOG_CAPACITY: usize = 100_000;

/// The event log: the newest [`LOG_CAPACITY`] lines, and how many older
/// ones were let go (so a line keeps its place: `dropped` + its index).
#[derive(Clone, Debug, Default)]
pub(crate) struct EventLog {
    entries: Vec<LogEntry>,
    dropped: u64,
}

impl EventLog {
    /// Appends a line, letting the oldest tenth go when full.
    pub fn push(&mut self, at: SimTime, event: LogEvent) {
        if self.entries.len() >= LOG_CAPACITY {
            let n = LOG_CAPACITY / 10;
            self.entries.drain(..n);
            self.dropped += n as u64;
        }
        self.entries.push(LogEntry { at, event });
    }

    /// The lines kept, oldest first.
    pub fn entries(&self) -> &[LogEntry] {
        &self.entries
    }

    /// How many older lines were let go.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// Something worth telling a person.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum LogEvent {
    /// A command was applied.
    Command(String),
    /// A scheduled command could not be applied.
    CommandFailed(String),
    /// A node stopped.
    Crashed(NodeId),
    /// A node started again.
    Restarted(NodeId),
    /// Multi-leader: two regions wrote a key concurrently; the later write won.
    Conflict {
        key: u32,
        kept: Version,
        overwritten: Version,
        at: NodeId,
        from: NodeId,
    },
    /// A job whose worker went silent was handed to another worker.
    Redelivered { job: RequestId, worker: NodeId },
    /// An app server finished its last requests and stopped (scaled in).
    Retired(NodeId),
    /// A replica asked for votes.
    ElectionStarted { node: NodeId, term: u64 },
    /// A replica won an election.
    Elected { node: NodeId, shard: u32, term: u64 },
    /// A leader learned of a newer term and stepped down.
    SteppedDown { node: NodeId, term: u64 },
    /// A leader lost touch with a majority and stepped down.
    Fenced { node: NodeId },
    /// A replica dropped log entries that conflicted with the leader's.
    Truncated { node: NodeId, entries: u64 },
    /// A read returned a version that a failover later discarded.
    RolledBackRead {
        request: RequestId,
        key: u32,
        version: Version,
    },
    /// A replica so far behind that the leader no longer kept the entries
    /// it lacked took the leader's snapshot instead.
    SnapshotInstalled { node: NodeId, upto: u64 },
    /// An acknowledged write is gone.
    LostWrite {
        request: RequestId,
        key: u32,
        version: Version,
        acked_at: SimTime,
    },
    /// A balancer changed its view of a backend.
    BackendHealth {
        lb: NodeId,
        backend: NodeId,
        up: bool,
        count: u32,
    },
    /// The standby balancer took over the shared address.
    LbTakeover { lb: NodeId, from: NodeId },
    /// A balancer gave the shared address back to a higher-priority peer.
    LbYield { lb: NodeId, to: NodeId },
    /// The DNS authority changed its view of a CDN edge.
    DnsEdgeHealth { edge: NodeId, up: bool, fails: u32 },
    /// The DNS authority changed its mind about a site (named by its first
    /// balancer): its users are sent elsewhere, or back.
    DnsSiteHealth { site: NodeId, up: bool, fails: u32 },
}

impl LogEvent {
    /// The request this line is about, if any (for opening its trace).
    pub fn request(&self) -> Option<RequestId> {
        match self {
            LogEvent::LostWrite { request, .. } | LogEvent::RolledBackRead { request, .. } => {
                Some(*request)
            }
            _ => None,
        }
    }

    /// The event in plain words.
    pub fn describe(&self, sim: &Simulation) -> String {
        self.describe_named(&|id| sim.node_name(id).to_string())
    }

    /// The event in plain words, with `name` giving each node's name (for
    /// a reader that holds the names but not the simulation).
    pub fn describe_named(&self, name: &dyn Fn(NodeId) -> String) -> String {
        let n = |id: &NodeId| name(*id);
        match self {
            LogEvent::Command(c) => format!("command: {c}"),
            LogEvent::CommandFailed(e) => format!("command failed: {e}"),
            LogEvent::Crashed(id) => format!("{} crashed", n(id)),
            LogEvent::Restarted(id) => format!("{} restarted", n(id)),
            LogEvent::Conflict {
                key,
                kept,
                overwritten,
                at,
                from,
            } => format!(
                "{} and {} took concurrent writes to key {key}: the later one ({kept}) wins, {overwritten} is overwritten",
                n(at),
                n(from)
            ),
            LogEvent::Redelivered { job, worker } => format!(
                "queue-1 gave the job of order #{} to another worker: {} went silent",
                job.0,
                n(worker)
            ),
            LogEvent::Retired(id) => {
                format!("{} finished its requests and stopped (scaled in)", n(id))
            }
            LogEvent::ElectionStarted { node, term } => {
                format!(
                    "{} heard no leader and started an election for term {term}",
                    n(node)
                )
            }
            LogEvent::Elected { node, shard, term } => {
                format!("{} elected leader of shard {shard}, term {term}", n(node))
            }
            LogEvent::SteppedDown { node, term } => {
                format!("{} saw term {term} and stepped down as leader", n(node))
            }
            LogEvent::Fenced { node } => {
                format!(
                    "{} lost contact with a majority and stepped down (fencing)",
                    n(node)
                )
            }
            LogEvent::Truncated { node, entries } => {
                format!(
                    "{} discarded {entries} log entries the new leader does not have",
                    n(node)
                )
            }
            LogEvent::RolledBackRead {
                request,
                key,
                version,
            } => format!(
                "request #{} read key {key} at {version}, a version a failover later discarded: the value it saw never existed in the end",
                request.0
            ),
            LogEvent::SnapshotInstalled { node, upto } => {
                format!(
                    "{} was too far behind to replay the log and took the leader's snapshot (up to entry {upto})",
                    n(node)
                )
            }
            LogEvent::LostWrite {
                request,
                key,
                version,
                acked_at,
            } => {
                format!(
                    "request #{} wrote key {key} ({version}), was acknowledged at {acked_at}, and that write is now lost",
                    request.0
                )
            }
            LogEvent::BackendHealth {
                lb,
                backend,
                up,
                count,
            } => {
                if *up {
                    format!(
                        "{} marked {} up after {count} passed checks",
                        n(lb),
                        n(backend)
                    )
                } else {
                    format!(
                        "{} marked {} down after {count} failed checks",
                        n(lb),
                        n(backend)
                    )
                }
            }
            LogEvent::LbTakeover { lb, from } => {
                format!(
                    "{} took over the shared address: no heartbeat from {}",
                    n(lb),
                    n(from)
                )
            }
            LogEvent::LbYield { lb, to } => {
                format!("{} handed the shared address back to {}", n(lb), n(to))
            }
            LogEvent::DnsSiteHealth { site, up, fails } => {
                if *up {
                    format!(
                        "dns-auth sees the site of {} healthy again: its region's users are sent back to it as their resolvers' answers expire",
                        n(site)
                    )
                } else {
                    format!(
                        "dns-auth marked the site of {} down after {fails} failed checks: its users go to the nearest healthy site once their resolvers' answers expire",
                        n(site)
                    )
                }
            }
            LogEvent::DnsEdgeHealth { edge, up, fails } => {
                if *up {
                    format!(
                        "dns-auth sees {} healthy again and answers with it",
                        n(edge)
                    )
                } else {
                    format!(
                        "dns-auth marked {} unhealthy after {fails} failed checks",
                        n(edge)
                    )
                }
            }
        }
    }
}

#[cfg(test)]
mod event_log_tests {
    use super::*;

    #[test]
    fn a_full_log_lets_its_oldest_lines_go_and_keeps_the_newest() {
        let mut log = EventLog::default();
        for i in 0..=LOG_CAPACITY as u64 {
            log.push(SimTime(i), LogEvent::Command("heal".into()));
        }
        assert_eq!(log.dropped(), LOG_CAPACITY as u64 / 10);
        assert_eq!(log.entries().len(), LOG_CAPACITY - LOG_CAPACITY / 10 + 1);
        // The newest line is kept, and every line keeps its place.
        let last = log.entries().last().unwrap();
        assert_eq!(last.at, SimTime(LOG_CAPACITY as u64));
        assert_eq!(
            log.entries()[0].at.0,
            log.dropped(),
            "line i of the kept log is line dropped + i of the run"
        );
    }
}
