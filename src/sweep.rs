//! A sweep in the page: every combination of one or two settings run headless for a few seeds, spread over a pool of sweep workers (each a copy of the simulation core in its own Web Worker, so all cores work and the page stays responsive), gathered into means and spreads per variant for the trade-off chart, the table and its CSV.

use crate::action::Redesign;
use crate::link::{FromCore, Link, SweepAnswer, ToCore};
use pathlab_sim::sweep::{FIGURES, Spread, spread};
use std::collections::VecDeque;

/// What a sweep runs: the base design, the settings varied and how.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepSpec {
    pub preset: String,
    pub designs: Vec<Redesign>,
    /// One or two `FIELD=V1,V2,…`.
    pub vary: Vec<String>,
    /// Seeds 1 to `seeds`.
    pub seeds: u32,
    /// Simulated seconds per run.
    pub secs: f64,
}

impl SweepSpec {
    /// The job of running `variant` with `seed`.
    pub fn job(&self, variant: u32, seed: u64) -> crate::link::SweepJob {
        crate::link::SweepJob {
            preset: self.preset.clone(),
            designs: self.designs.clone(),
            vary: self.vary.clone(),
            variant,
            seed,
            secs: self.secs,
        }
    }
}

/// The figures a sweep chart can put on an axis, with their names.
pub const FIGURE_NAMES: [&str; 16] = [
    "availability",
    "p50 latency (ms)",
    "p99 latency (ms)",
    "p99 latency on writes (ms)",
    "cache hit ratio",
    "errors",
    "writes acknowledged",
    "stale reads",
    "read-your-writes violations",
    "monotonic-read violations",
    "lost writes",
    "rolled-back reads",
    "conflicts",
    "leader changes",
    "users moved if a server joins",
    "wait for an app server's worker (ms)",
];

/// Settings worth sweeping, each with values that show its trade-off
/// (and, for some, a second setting that holds one value).
pub const SUGGESTED: [(&str, &str, &str); 9] = [
    (
        "Replication: async, semi-sync, sync",
        "db.replication=async,semi-sync,sync",
        "",
    ),
    (
        "Cache capacity: 25 to 800 entries",
        "cache.capacity=25,50,100,200,400,800",
        "",
    ),
    ("App servers: 1 to 8", "app.servers=1,2,3,4,6,8", ""),
    (
        "Servers joining a hash ring: 2 to 8",
        "app.servers=2,3,4,6,8",
        "lb.strategy=consistent-hash",
    ),
    (
        "Balancing: round robin, least connections, random",
        "lb.strategy=round-robin,least-connections,random",
        "",
    ),
    (
        "Leader heartbeat: 50 ms to 1 s",
        "db.heartbeat_ms=50,100,250,500,1000",
        "",
    ),
    ("Cache TTL: 1 s to 5 min", "cache.ttl_s=1,10,30,60,300", ""),
    (
        "Load: 100 to 2000 requests/s",
        "workload.requests_per_s=100,300,1000,2000",
        "",
    ),
    (
        "Load on one-worker servers, balanced at random",
        "workload.requests_per_s=100,200,300,400,500,600",
        "app.workers=1;lb.strategy=random",
    ),
];

/// A figure's value in words: availability in percent, ratios to three
/// places, milliseconds and counts as numbers.
pub fn show(f: usize, v: f64) -> String {
    match FIGURES.get(f).copied() {
        Some("availability") => format!("{:.2} %", v * 100.0),
        Some("lb.moved_on_add") => format!("{:.1} %", v * 100.0),
        Some("cache.hit_ratio") => format!("{v:.3}"),
        Some(name) if name.contains("latency") || name.ends_with("_ms") => {
            if v >= 100.0 {
                format!("{v:.0}")
            } else if v >= 10.0 {
                format!("{v:.1}")
            } else {
                format!("{v:.2}")
            }
        }
        _ if v == v.round() => format!("{v:.0}"),
        _ => format!("{v:.1}"),
    }
}

/// A run of a sweep: its variant and seed.
type Job = (u32, u64);

/// A sweep under way or done.
#[derive(Debug)]
pub struct Sweep {
    pub spec: SweepSpec,
    /// Each variant's name (`cache.capacity=100`), in order.
    pub labels: Vec<String>,
    /// Each variant's runs so far.
    pub runs: Vec<Vec<SweepAnswer>>,
    /// Runs not yet handed out: (variant, seed).
    queue: VecDeque<Job>,
    /// The pool, each worker with the run it is doing.
    workers: Vec<(Box<dyn Link>, Option<Job>)>,
    /// Real ms when it started, and when it ended.
    pub started_ms: f64,
    pub ended_ms: Option<f64>,
    /// Why it stopped early, if it did.
    pub failed: Option<String>,
    /// The figures on the chart's axes (`None` on x: the varied setting).
    pub x: Option<usize>,
    pub y: usize,
    /// The variant picked on the chart.
    pub picked: Option<usize>,
}

impl Sweep {
    /// Starts `spec`'s runs for `labels` on `workers` workers made by
    /// `make`.
    pub fn start(
        spec: SweepSpec,
        labels: Vec<String>,
        workers: usize,
        make: &dyn Fn() -> Box<dyn Link>,
        now_ms: f64,
    ) -> Sweep {
        let queue: VecDeque<Job> = (0..labels.len() as u32)
            .flat_map(|v| (1..=u64::from(spec.seeds)).map(move |s| (v, s)))
            .collect();
        let n = workers.clamp(1, queue.len().max(1));
        let (x, y) = axes(&spec.vary);
        let mut sweep = Sweep {
            runs: vec![Vec::new(); labels.len()],
            labels,
            queue,
            workers: (0..n).map(|_| (make(), None)).collect(),
            started_ms: now_ms,
            ended_ms: None,
            failed: None,
            x,
            y,
            picked: None,
            spec,
        };
        sweep.hand_out();
        sweep
    }

    /// Runs in all.
    pub fn total(&self) -> usize {
        self.labels.len() * self.spec.seeds as usize
    }

    /// Runs finished.
    pub fn done(&self) -> usize {
        self.runs.iter().map(Vec::len).sum()
    }

    /// Whether every run is in (or it stopped).
    pub fn finished(&self) -> bool {
        self.ended_ms.is_some()
    }

    /// Workers in the pool.
    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    /// Real seconds left, judged from the pace so far.
    pub fn seconds_left(&self, now_ms: f64) -> Option<f64> {
        let done = self.done();
        (done > 0 && !self.finished()).then(|| {
            let per_run = (now_ms - self.started_ms) / done as f64;
            per_run * (self.total() - done) as f64 / 1000.0
        })
    }

    /// Gives idle workers the next runs.
    fn hand_out(&mut self) {
        for (link, job) in &mut self.workers {
            if job.is_none()
                && let Some((variant, seed)) = self.queue.pop_front()
            {
                link.send(&ToCore::SweepRun(self.spec.job(variant, seed)));
                *job = Some((variant, seed));
            }
        }
    }

    /// Takes in what the workers answered and hands out more; true if
    /// anything came in. Once all is in, the workers are let go.
    pub fn pump(&mut self, now_ms: f64) -> bool {
        if self.finished() {
            return false;
        }
        let mut came = false;
        for (link, job) in &mut self.workers {
            for answer in link.receive() {
                came = true;
                *job = None;
                match answer {
                    FromCore::SweepRun(a) => {
                        if let Some(runs) = self.runs.get_mut(a.variant as usize) {
                            runs.push(*a);
                        }
                    }
                    FromCore::Refused { error } => self.failed = Some(error),
                    _ => {}
                }
            }
            if let Some(why) = link.failure() {
                self.failed = Some(why);
            }
        }
        if self.failed.is_some() {
            self.queue.clear();
        }
        self.hand_out();
        let idle = self.workers.iter().all(|(_, job)| job.is_none());
        if idle && self.queue.is_empty() {
            self.ended_ms = Some(now_ms);
            // Dropping a worker's link ends the worker.
            self.workers.clear();
        }
        came
    }

    /// Stops handing out runs and lets the workers go, keeping what came
    /// in.
    pub fn stop(&mut self, now_ms: f64) {
        if !self.finished() {
            self.queue.clear();
            self.workers.clear();
            self.ended_ms = Some(now_ms);
        }
    }

    /// The mean and spread of figure `f` over variant `v`'s runs.
    pub fn spread(&self, v: usize, f: usize) -> Option<Spread> {
        let xs: Vec<f64> = self
            .runs
            .get(v)?
            .iter()
            .filter_map(|r| r.figures.get(f).copied())
            .filter(|x| x.is_finite())
            .collect();
        (!xs.is_empty()).then(|| spread(&xs))
    }

    /// Theory's prediction of figure `f` for variant `v` (the mean over
    /// its runs), where it has one.
    pub fn theory(&self, v: usize, f: usize) -> Option<f64> {
        let xs: Vec<f64> = self
            .runs
            .get(v)?
            .iter()
            .filter_map(|r| r.theory.get(f).copied().flatten())
            .collect();
        (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
    }

    /// Whether theory predicts figure `f` for any variant.
    pub fn has_theory(&self, f: usize) -> bool {
        (0..self.labels.len()).any(|v| self.theory(v, f).is_some())
    }

    /// The value variant `v` gives the first varied setting, when it is a
    /// number (for the x axis).
    pub fn setting_value(&self, v: usize) -> Option<f64> {
        let label = self.labels.get(v)?;
        let first = label.split(' ').next()?;
        first.split_once('=')?.1.parse().ok()
    }

    /// The first varied setting's name.
    pub fn setting(&self) -> &str {
        self.spec
            .vary
            .first()
            .and_then(|v| v.split_once('='))
            .map_or("", |(f, _)| f)
    }

    /// The table as CSV: a row per variant, with each figure's mean and
    /// standard deviation (empty where the design has none), and theory's
    /// prediction beside the figures it predicts.
    pub fn csv(&self) -> String {
        let predicted: Vec<usize> = (0..FIGURES.len()).filter(|&f| self.has_theory(f)).collect();
        let mut out = String::from("variant,runs");
        for f in FIGURES {
            out.push_str(&format!(",{f} mean,{f} sd"));
        }
        for &f in &predicted {
            out.push_str(&format!(",{} theory", FIGURES[f]));
        }
        out.push('\n');
        let num = |x: Option<f64>| x.map_or(String::new(), |x| x.to_string());
        for (v, label) in self.labels.iter().enumerate() {
            out.push_str(&format!("\"{label}\",{}", self.runs[v].len()));
            for f in 0..FIGURES.len() {
                let s = self.spread(v, f);
                out.push_str(&format!(
                    ",{},{}",
                    num(s.map(|s| s.mean)),
                    num(s.map(|s| s.sd))
                ));
            }
            for &f in &predicted {
                out.push_str(&format!(",{}", num(self.theory(v, f))));
            }
            out.push('\n');
        }
        out
    }
}

/// The chart's axes for what is varied: the trade-off the setting is
/// about (x `None`: the setting itself).
pub fn axes(vary: &[String]) -> (Option<usize>, usize) {
    let field = vary
        .first()
        .and_then(|v| v.split_once('='))
        .map_or("", |(f, _)| f);
    let at = |name: &str| FIGURES.iter().position(|f| *f == name).unwrap_or(0);
    match field {
        "db.replication" | "db.quorum_w" | "db.quorum_r" | "db.sync_followers" => {
            (Some(at("writes.p99_ms")), at("anomalies.lost_write"))
        }
        "cache.capacity" | "cache.ttl_s" => (None, at("cache.hit_ratio")),
        "app.servers" if vary.iter().any(|v| v.starts_with("lb.strategy=")) => {
            (None, at("lb.moved_on_add"))
        }
        "db.heartbeat_ms" | "lb.health_interval_ms" | "dns.ttl_s" => (None, at("availability")),
        "lb.strategy" => (Some(at("latency_ms.p50")), at("latency_ms.p99")),
        "workload.requests_per_s" => (None, at("app.wait_ms")),
        _ => (None, at("latency_ms.p99")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::LocalLink;

    fn spec(vary: &str, seeds: u32) -> SweepSpec {
        SweepSpec {
            preset: "leader-crash".into(),
            designs: Vec::new(),
            vary: vec![vary.into()],
            seeds,
            secs: 30.0,
        }
    }

    #[test]
    fn a_sweep_spreads_its_runs_over_the_pool_and_each_equals_the_variant_run_alone() {
        let s = spec("db.replication=async,sync", 2);
        let labels = vec![
            "db.replication=async".to_string(),
            "db.replication=sync".to_string(),
        ];
        let mut sweep = Sweep::start(s.clone(), labels, 3, &|| Box::new(LocalLink::new()), 0.0);
        assert_eq!(sweep.workers(), 3);
        while !sweep.finished() {
            sweep.pump(1.0);
        }
        assert_eq!(sweep.done(), 4);
        assert!(sweep.failed.is_none());
        // Each run is the variant's run alone.
        let mut sync = pathlab_sim::presets::preset("leader-crash").unwrap();
        sync.db.replication = pathlab_sim::scenario::Replication::Sync;
        let alone = pathlab_sim::sweep::run_one(&sync, 2, Some(30.0)).unwrap();
        let run = sweep.runs[1].iter().find(|r| r.seed == 2).unwrap();
        assert_eq!(run.fingerprint, alone.fingerprint);
        // (bit for bit: a figure the design lacks is NaN in both)
        let bits = |xs: &[f64]| xs.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&run.figures), bits(&alone.figures));
        // The chart shows the trade-off: lost writes against write latency.
        let lost = FIGURES
            .iter()
            .position(|f| *f == "anomalies.lost_write")
            .unwrap();
        assert_eq!(sweep.y, lost);
        assert_eq!(sweep.spread(1, lost).unwrap().max, 0.0);
        let csv = sweep.csv();
        assert_eq!(csv.lines().count(), 3);
        assert!(
            csv.lines()
                .nth(2)
                .unwrap()
                .starts_with("\"db.replication=sync\",2,")
        );
    }

    #[test]
    fn a_run_that_fails_stops_the_sweep_and_says_why() {
        let mut sweep = Sweep::start(
            spec("db.replicaton=async", 1),
            vec!["x".into()],
            2,
            &|| Box::new(LocalLink::new()),
            0.0,
        );
        while !sweep.finished() {
            sweep.pump(1.0);
        }
        assert!(
            sweep
                .failed
                .as_deref()
                .is_some_and(|w| w.contains("db.replicaton")),
            "{:?}",
            sweep.failed
        );
    }

    #[test]
    fn a_point_opens_its_run_or_shows_it_beside_the_run_on_screen() {
        use crate::action::Action;
        let mut e = crate::engine::Engine::new("leader-crash", Some(1)).unwrap();
        e.sweep_links = Some(crate::link::LinkMaker(std::rc::Rc::new(|| {
            Box::new(LocalLink::new())
        })));
        let start = |e: &mut crate::engine::Engine, vary: &str| {
            assert!(e.act(Action::SweepStart {
                vary: vec![vary.into()],
                seeds: 1,
                secs: 20.0,
            }));
            let mut ms = 0.0;
            while !e.sweep.as_ref().is_some_and(Sweep::finished) {
                ms += 16.0;
                e.frame(ms);
            }
        };
        start(&mut e, "db.replication=async,sync");
        assert_eq!(e.sweep.as_ref().unwrap().done(), 2);
        // Replication is a design change the page makes: the run opens.
        assert!(e.act(Action::SweepOpen { variant: 1 }));
        assert_eq!(
            e.designs,
            vec![Redesign::Replication(
                pathlab_sim::scenario::Replication::Sync
            )]
        );
        assert_eq!(e.sim.now(), pathlab_sim::SimTime::from_secs_f64(20.0));
        assert!(e.versus.is_none());
        // The servers' count is not: the variant is shown beside the run.
        start(&mut e, "app.servers=2,6");
        assert!(e.act(Action::SweepOpen { variant: 1 }));
        assert_eq!(
            e.versus.as_ref().map(|v| v.name.as_str()),
            Some("app.servers 6")
        );
        // Bad input is named, nothing is lost.
        assert!(!e.act(Action::SweepStart {
            vary: vec!["db.replication=async".into()],
            seeds: 0,
            secs: 20.0,
        }));
        assert!(e.error.as_deref().unwrap().contains("seeds"));
        assert!(e.sweep.is_some(), "the last sweep stays");
        assert!(!e.act(Action::SweepOpen { variant: 9 }));
    }
}
