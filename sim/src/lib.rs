//! PathLab's simulation core: a deterministic, breakable model of a web request's path from the user's browser to a replicated database.
//!
//! # The model
//!
//! Users in several regions send requests (static assets, reads and writes
//! of keys) with Poisson arrivals. Each request resolves a name through a
//! caching resolver, then goes either to a CDN edge or to the load
//! balancers' shared address, on to an application server that reads
//! through a cache and writes to a replicated database. Every hop is a
//! message over a network with
//! realistic delays, partitions and loss.
//!
//! # Driving it
//!
//! ```
//! use pathlab_sim::{presets, Command, Simulation, SimTime};
//!
//! let scenario = presets::preset("default").unwrap();
//! let mut sim = Simulation::new(&scenario, 42).unwrap();
//! sim.step_until(SimTime::from_secs_f64(5.0));
//! sim.apply(&Command::Crash { node: "db-0-0".into() }).unwrap();
//! sim.run_for(10.0);
//! let summary = sim.summary();
//! assert!(summary.requests.total > 0);
//! ```
//!
//! # Guarantees
//!
//! A run is a pure function of (scenario, seed, timed commands): the core
//! never reads the clock or the operating system's randomness, iterates
//! only ordered collections, and draws every random number from seeded,
//! portable generators (one stream per concern, see [`rng`]). Simulated time
//! is an integer number of microseconds; events are ordered by (time,
//! sequence number). [`Simulation::fingerprint`] hashes the event trace so
//! two runs can be compared bit for bit. Failures inside the simulated world
//! are data (outcomes, log lines); bad input from outside is an [`Error`].

#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]

pub mod commands;
pub mod compare;
mod context;
mod engine;
pub mod error;
pub mod explain;
pub mod hashing;
pub mod lesson;
pub mod log;
pub mod metrics;
pub mod msg;
pub mod node;
pub mod presets;
pub mod request;
mod requests;
pub mod rng;
pub mod runfile;
pub mod scenario;
mod settings;
pub mod snapshot;
pub mod store;
pub mod summary;
pub mod sweep;
pub mod theory;
mod tiers;
pub mod time;
pub mod timeline;
mod topology;
mod truth;

pub use commands::{Command, TimedCommand};
pub use engine::Simulation;
pub use error::Error;
pub use explain::{Anomaly, Explanation, Fact, NotExplained, What, explain};
pub use log::{LogEntry, LogEvent};
pub use metrics::{Metrics, Point, Totals};
pub use node::{NodeId, NodeKind};
pub use request::{ErrorKind, Hop, HopNote, Outcome, RequestId, RequestKind, Trace, Version};
pub use scenario::Scenario;
pub use snapshot::{Flight, NodeState, NodeView, Snapshot};
pub use summary::{MovedKeys, Summary};
pub use tiers::db::Role;
pub use time::SimTime;
pub use timeline::{Applied, Branch, Timeline};
pub use truth::{HistoryOp, LeaderSpan, ReadJudgement};

impl Simulation {
    /// Starts keeping every read and write for [`Simulation::history`].
    pub fn record_history(&mut self) {
        if self.truth.history.is_none() {
            self.truth.history = Some(Vec::new());
            self.truth.leader_spans = Some(Default::default());
        }
    }

    /// When each leader served reads and writes, by shard and term, since
    /// [`Simulation::record_history`].
    pub fn leader_spans(&self) -> Vec<LeaderSpan> {
        self.truth
            .leader_spans
            .iter()
            .flat_map(|m| m.values().copied())
            .collect()
    }

    /// Every finished read and write since [`Simulation::record_history`].
    pub fn history(&self) -> &[HistoryOp] {
        self.truth.history.as_deref().unwrap_or(&[])
    }
}
