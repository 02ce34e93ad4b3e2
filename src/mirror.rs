//! The page's picture of the live run, put together from the core's frames: the world now, the whole log, the per-second series, the recent finished requests and the settings. Panels read the run only from here, with the same questions they would ask the simulation.

use crate::link::{Frame, Summaries};
use pathlab_sim::{
    Branch, Command, Flight, LogEntry, MovedKeys, NodeId, NodeKind, Point, RequestId, Scenario,
    SimTime, Snapshot, Totals, Trace,
};
use std::collections::VecDeque;

/// Totals and the series at the cursor, as panels read them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Metrics<'a> {
    /// Counters over the run up to the cursor.
    pub totals: &'a Totals,
    /// One point per simulated second up to the cursor, oldest first (the
    /// last two hours at most).
    pub series: &'a [Point],
}

/// Most seconds of the series kept (as the core keeps them).
const SERIES_KEPT: usize = 2 * 3600;

/// The live run as last reported.
#[derive(Clone, Debug, Default)]
pub struct Mirror {
    frame: Frame,
    log: Vec<LogEntry>,
    log_dropped: u64,
    /// Every second of the branch so far (also after the cursor).
    series: Vec<Point>,
    /// Requests finished just before the cursor.
    traces: VecDeque<Trace>,
    /// The branches, current first.
    branches: Vec<Branch>,
    /// The scenario the run started from.
    initial: Scenario,
    /// The commands that changed its settings, in order.
    edits: Vec<Command>,
    /// The settings now: `initial` with `edits` applied.
    settings: Scenario,
    summaries: Option<Summaries>,
}

impl Mirror {
    /// Takes in a frame of the same run (or of a new one, which replaces
    /// everything; `initial` is the scenario it starts from).
    pub fn take(&mut self, mut f: Frame, initial: &Scenario) {
        if f.run != self.frame.run {
            *self = Mirror {
                initial: initial.clone(),
                settings: initial.clone(),
                ..Mirror::default()
            };
        }
        // Settings: the core sends the changes, which are replayed here.
        let from = f.edits_from as usize;
        if from < self.edits.len() {
            self.edits.truncate(from);
            self.settings = self.initial.clone();
            for c in &self.edits {
                c.edit(&mut self.settings);
            }
        }
        for c in f.edits.drain(..) {
            c.edit(&mut self.settings);
            self.edits.push(c);
        }
        // A new branch: what came after the point where it parts goes.
        if let Some(cut) = f.cut {
            let keep = self.log.partition_point(|e| e.at < cut);
            self.log.truncate(keep);
            let keep = self.series.partition_point(|p| second_end(p) < cut);
            self.series.truncate(keep);
        }
        // The log: lines the core let go before sending are skipped.
        let next = self.log_dropped + self.log.len() as u64;
        if f.log_from > next {
            self.log.clear();
            self.log_dropped = f.log_from;
        }
        self.log.append(&mut f.log);
        // The core keeps its log bounded; so does the page, alike.
        if self.log.len() > LOG_KEPT {
            let n = self.log.len() - LOG_KEPT + LOG_KEPT / 10;
            self.log.drain(..n);
            self.log_dropped += n as u64;
        }
        self.series.append(&mut f.series);
        if self.series.len() > SERIES_KEPT {
            let n = self.series.len() - SERIES_KEPT / 2;
            self.series.drain(..n);
        }
        let cap = f.trace_capacity as usize;
        if f.traces_gap {
            self.traces.clear();
        }
        for t in f.traces.drain(..) {
            if self.traces.len() >= cap {
                self.traces.pop_front();
            }
            if cap > 0 {
                self.traces.push_back(t);
            }
        }
        if let Some(s) = f.summaries.take() {
            self.summaries = Some(s);
        }
        if let Some(b) = f.branches.take() {
            self.branches = b;
        }
        if f.flights_only {
            // The nodes are as the last frame that had them said.
            let flights = std::mem::take(&mut f.snapshot.flights);
            f.snapshot = std::mem::take(&mut self.frame.snapshot);
            f.snapshot.now = f.now;
            f.snapshot.flights = flights;
        }
        self.frame = f;
    }

    /// Whether the last frame had the nodes' views: then the diagram, tiles
    /// and log all show the same moment (frames in between bring only the
    /// messages in flight).
    pub fn complete(&self) -> bool {
        !self.frame.flights_only
    }

    /// Whether a run has been reported yet.
    pub fn started(&self) -> bool {
        self.frame.run > 0
    }

    /// The run's number (a new one for every start).
    pub fn run(&self) -> u32 {
        self.frame.run
    }

    /// Simulated time.
    pub fn now(&self) -> SimTime {
        self.frame.now
    }

    /// Events processed so far.
    pub fn events(&self) -> u64 {
        self.frame.events
    }

    /// The state's fingerprint.
    pub fn fingerprint(&self) -> u64 {
        self.frame.fingerprint
    }

    /// The fingerprint as 16 hex digits.
    pub fn fingerprint_hex(&self) -> String {
        format!("{:016x}", self.frame.fingerprint)
    }

    /// The run's seed.
    pub fn seed(&self) -> u64 {
        self.frame.seed
    }

    /// Whether the last frame could not keep up with the speed asked.
    pub fn behind(&self) -> bool {
        self.frame.behind
    }

    /// The settings as they are now.
    pub fn settings(&self) -> &Scenario {
        &self.settings
    }

    /// The world now (with up to the page's limit of messages in flight).
    pub fn snapshot(&self) -> &Snapshot {
        &self.frame.snapshot
    }

    /// Messages in flight, at most `max`.
    pub fn flights(&self, max: usize) -> &[Flight] {
        let f = &self.frame.snapshot.flights;
        &f[..f.len().min(max)]
    }

    /// Every node: id, name and kind, in diagram order.
    pub fn nodes(&self) -> impl Iterator<Item = (NodeId, &str, NodeKind)> {
        self.frame
            .snapshot
            .nodes
            .iter()
            .map(|n| (NodeId(n.index), n.id.as_str(), n.kind))
    }

    /// A node's name.
    pub fn node_name(&self, id: NodeId) -> &str {
        self.frame
            .snapshot
            .nodes
            .get(id.0 as usize)
            .map_or("?", |n| n.id.as_str())
    }

    /// Totals and the series at the cursor.
    pub fn metrics(&self) -> Metrics<'_> {
        let now = self.frame.now;
        Metrics {
            totals: &self.frame.totals,
            series: &self.series[..self.series.partition_point(|p| second_end(p) <= now)],
        }
    }

    /// Every second of the branch so far, also those after the cursor.
    pub fn whole_series(&self) -> &[Point] {
        &self.series
    }

    /// The log lines kept up to the cursor, oldest first.
    pub fn log(&self) -> &[LogEntry] {
        let shown = self.frame.log_len.saturating_sub(self.log_dropped) as usize;
        &self.log[..shown.min(self.log.len())]
    }

    /// Every log line kept of the branch so far, also after the cursor.
    pub fn whole_log(&self) -> &[LogEntry] {
        &self.log
    }

    /// How far the current branch has been played.
    pub fn end(&self) -> SimTime {
        self.frame.end.max(self.frame.now)
    }

    /// Bytes of memory the core's worker holds (0 for a core in the page's
    /// thread).
    pub fn core_memory(&self) -> u64 {
        self.frame.memory
    }

    /// Whether the cursor is before the branch's end.
    pub fn in_past(&self) -> bool {
        self.frame.now < self.frame.end
    }

    /// The branches, current first.
    pub fn branches(&self) -> &[Branch] {
        &self.branches
    }

    /// How many older lines were let go.
    pub fn log_dropped(&self) -> u64 {
        self.log_dropped
    }

    /// A log line in plain words.
    pub fn describe(&self, entry: &LogEntry) -> String {
        entry
            .event
            .describe_named(&|id| self.node_name(id).to_string())
    }

    /// Recent finished requests, oldest first.
    pub fn traces(&self) -> impl DoubleEndedIterator<Item = &Trace> + ExactSizeIterator {
        self.traces.iter()
    }

    /// A request's hops: finished and still kept, or the watched one in
    /// flight.
    pub fn request_trace(&self, id: RequestId) -> Option<Trace> {
        self.traces
            .iter()
            .rev()
            .find(|t| t.id == id)
            .or(self.frame.watched.as_ref().filter(|t| t.id == id))
            .cloned()
    }

    /// Whether the watched request `id` is still in flight.
    pub fn is_in_flight(&self, id: RequestId) -> bool {
        self.frame.watched.as_ref().is_some_and(|t| t.id == id)
    }

    /// Acknowledged writes lost so far.
    pub fn lost_writes(&self) -> u64 {
        self.frame.lost_writes
    }

    /// App servers in service.
    pub fn active_app_servers(&self) -> usize {
        self.frame.active_app_servers
    }

    /// Requests in flight.
    pub fn in_flight(&self) -> usize {
        self.frame.in_flight
    }

    /// Jobs waiting or in progress, with a queue.
    pub fn queue_backlog(&self) -> Option<usize> {
        self.frame.queue_backlog
    }

    /// How many users would move if a server joined or left, in words.
    pub fn summary_moves(&self) -> Option<String> {
        self.summaries.as_ref().and_then(|d| d.moves.clone())
    }

    /// How many keys an added shard would move.
    pub fn summary_shard_moves(&self) -> MovedKeys {
        self.summaries
            .as_ref()
            .map(|d| d.shard_moves.clone())
            .unwrap_or(MovedKeys {
                hash_mod: 0.0,
                consistent_hash: 0.0,
                range_split: 0.0,
                this_design: 0.0,
            })
    }
}

/// Most log lines kept (as the core keeps them).
const LOG_KEPT: usize = 100_000;

/// When a second of the series ends.
fn second_end(p: &Point) -> SimTime {
    SimTime(u64::from(p.t_s) * 1_000_000)
}
