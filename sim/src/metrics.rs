//! Metrics: running totals, latency percentiles from an HDR histogram, and a per-second time series for charts.

use crate::request::{ErrorKind, Outcome, RequestKind};
use crate::truth::ReadJudgement;
use hdrhistogram::Histogram;
use serde::Serialize;

/// Counters over the whole run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Totals {
    /// Requests that finished (answered or timed out).
    pub requests: u64,
    /// Answered correctly (stale reads excluded).
    pub ok: u64,
    /// Failed, by any cause.
    pub failed: u64,
    /// Failures by cause, in the order of [`ErrorKind::ALL`].
    pub errors: [u64; 8],
    /// Reads that finished.
    pub reads: u64,
    /// Reads answered with data older than an acknowledged write.
    pub stale_reads: u64,
    /// Reads older than the session's own last write.
    pub read_your_writes: u64,
    /// Reads older than what the session had already read.
    pub monotonic_reads: u64,
    /// Writes that finished.
    pub writes: u64,
    /// Writes acknowledged to their user.
    pub writes_acked: u64,
    /// Static requests that finished.
    pub statics: u64,
    /// CDN edge hits.
    pub cdn_hits: u64,
    /// CDN edge misses.
    pub cdn_misses: u64,
    /// Cache hits.
    pub cache_hits: u64,
    /// Cache misses.
    pub cache_misses: u64,
    /// New database leaders elected after the start.
    pub leader_changes: u64,
    /// Requests whose user's session state was not on the server that got
    /// them (the user had to log in again).
    pub sessions_lost: u64,
    /// Order jobs the queue took.
    pub jobs_enqueued: u64,
    /// Order jobs reported done.
    pub jobs_done: u64,
    /// Job steps done more than once (redelivered work).
    pub job_duplicates: u64,
    /// Multi-leader: concurrent writes to one key (one was overwritten).
    pub conflicts: u64,
    /// The sum of every finished request's latency (µs), for the mean.
    pub latency_us_sum: u64,
    /// Reads that returned a version a failover later discarded: a value
    /// that, in the end, never existed.
    pub rolled_back_reads: u64,
}

/// Seconds of the per-second series always kept (up to twice as many are).
pub const SERIES_KEPT: usize = 3600;

/// The current second's counters.
#[derive(Clone, Debug)]
pub(crate) struct Bucket {
    pub requests: u64,
    pub ok: u64,
    pub failed: u64,
    pub stale: u64,
    pub cdn_hits: u64,
    pub cdn_misses: u64,
    pub cache_hits: u64,
    pub cache_misses: u64,
    pub db_ops: u64,
    pub lost_writes: u64,
    pub sessions_lost: u64,
    pub latency: Histogram<u64>,
}

impl Bucket {
    pub(crate) fn new() -> Bucket {
        Bucket {
            requests: 0,
            ok: 0,
            failed: 0,
            stale: 0,
            cdn_hits: 0,
            cdn_misses: 0,
            cache_hits: 0,
            cache_misses: 0,
            db_ops: 0,
            lost_writes: 0,
            sessions_lost: 0,
            latency: latency_histogram(2),
        }
    }
}

/// One second of the run, for charts.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Point {
    /// End of the second, in simulated seconds.
    pub t_s: u32,
    /// Requests finished in that second.
    pub requests: u64,
    /// Of which answered correctly.
    pub ok: u64,
    /// Of which failed.
    pub errors: u64,
    /// Of which stale reads.
    pub stale: u64,
    /// Median latency (ms).
    pub p50_ms: f64,
    /// 95th percentile latency (ms).
    pub p95_ms: f64,
    /// 99th percentile latency (ms).
    pub p99_ms: f64,
    /// CDN hit ratio (0–1; absent when nothing was asked).
    pub cdn_hit_ratio: Option<f64>,
    /// Cache hit ratio.
    pub cache_hit_ratio: Option<f64>,
    /// Database reads and writes served.
    pub db_ops: u64,
    /// Acknowledged writes found lost in that second.
    pub lost_writes: u64,
    /// Requests that found their session state missing in that second.
    pub sessions_lost: u64,
    /// Jobs waiting or in progress in the queue at the end of the second.
    pub backlog: Option<u64>,
    /// Replication lag of each replica (ms), in replica order; absent when unknown.
    pub lag_ms: Vec<Option<f64>>,
}

/// How long requests waited for an app server's worker and held one
/// (the queueing figures theory predicts).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AppTiming {
    /// Requests that arrived at an app server (taken, queued or refused).
    pub arrived: u64,
    /// Requests a worker took, and their waits in the queue (µs).
    pub started: u64,
    pub wait_us: u64,
    /// Requests a worker finished, the time each held it (µs), and the
    /// sum of those times squared (µs², for the spread).
    pub held: u64,
    pub hold_us: u64,
    pub hold_sq_us: f64,
}

/// Everything measured so far.
#[derive(Clone, Debug)]
pub struct Metrics {
    /// Totals over the run.
    pub totals: Totals,
    /// Latency of every finished request, in microseconds.
    pub latency: Histogram<u64>,
    /// Latency of every finished write, in microseconds (two significant
    /// figures: the checkpoints of time travel each hold a copy).
    pub write_latency: Histogram<u64>,
    /// Waiting for and holding app servers' workers.
    pub app: AppTiming,
    pub(crate) bucket: Bucket,
    /// One point per simulated second, oldest first: the last hour at
    /// least, and never more than two ([`SERIES_KEPT`]).
    pub series: Vec<Point>,
}

fn latency_histogram(sigfig: u8) -> Histogram<u64> {
    // One microsecond to one hour; the bounds are constants known to be valid.
    Histogram::new_with_bounds(1, 3_600_000_000, sigfig)
        .unwrap_or_else(|_| Histogram::new(sigfig).unwrap_or_else(|_| unreachable!()))
}

pub(crate) fn ratio(hits: u64, misses: u64) -> Option<f64> {
    let n = hits + misses;
    (n > 0).then(|| hits as f64 / n as f64)
}

impl Metrics {
    /// Adds a second's point, keeping the series bounded: once it holds
    /// two hours, the older hour is dropped.
    pub(crate) fn push_point(&mut self, point: Point) {
        if self.series.len() >= 2 * SERIES_KEPT {
            self.series.drain(..SERIES_KEPT);
        }
        self.series.push(point);
    }

    pub(crate) fn new() -> Metrics {
        Metrics {
            totals: Totals::default(),
            latency: latency_histogram(3),
            write_latency: latency_histogram(2),
            app: AppTiming::default(),
            bucket: Bucket::new(),
            series: Vec::new(),
        }
    }

    pub(crate) fn on_read(&mut self, j: ReadJudgement) {
        if j.read_your_writes {
            self.totals.read_your_writes += 1;
        }
        if j.monotonic {
            self.totals.monotonic_reads += 1;
        }
    }

    pub(crate) fn on_complete(&mut self, kind: RequestKind, outcome: Outcome, latency_us: u64) {
        let t = &mut self.totals;
        let b = &mut self.bucket;
        t.requests += 1;
        b.requests += 1;
        match kind {
            RequestKind::Static => t.statics += 1,
            RequestKind::Read => t.reads += 1,
            RequestKind::Write => t.writes += 1,
        }
        match outcome {
            Outcome::Ok => {
                t.ok += 1;
                b.ok += 1;
                if kind == RequestKind::Write {
                    t.writes_acked += 1;
                }
            }
            Outcome::Stale => {
                t.stale_reads += 1;
                b.stale += 1;
            }
            Outcome::Failed(e) => {
                t.failed += 1;
                b.failed += 1;
                t.errors[e.idx()] += 1;
            }
        }
        self.totals.latency_us_sum += latency_us;
        let v = latency_us.max(1);
        let _ = self.latency.record(v);
        let _ = b.latency.record(v);
        if kind == RequestKind::Write {
            let _ = self.write_latency.record(v);
        }
    }

    /// Share of finished requests that were answered (stale reads count as
    /// answered: the user got a page).
    pub fn availability(&self) -> f64 {
        let t = &self.totals;
        if t.requests == 0 {
            1.0
        } else {
            (t.ok + t.stale_reads) as f64 / t.requests as f64
        }
    }

    /// A latency percentile over the whole run, in milliseconds.
    pub fn latency_ms(&self, q: f64) -> f64 {
        if self.latency.is_empty() {
            0.0
        } else {
            self.latency.value_at_quantile(q) as f64 / 1000.0
        }
    }

    /// A latency percentile over the run's writes, in milliseconds.
    pub fn write_latency_ms(&self, q: f64) -> f64 {
        if self.write_latency.is_empty() {
            0.0
        } else {
            self.write_latency.value_at_quantile(q) as f64 / 1000.0
        }
    }

    /// Failures of one kind.
    pub fn errors_of(&self, e: ErrorKind) -> u64 {
        self.totals.errors[e.idx()]
    }
}
