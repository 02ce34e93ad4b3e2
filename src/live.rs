//! The live run as the core worker keeps it: a [`Timeline`] of the simulation that does what the page asks ([`ToCore`]) and answers with frames ([`FromCore`]) holding what changed since the last one. The page itself holds no simulation, which keeps its bundle small and lets the core run at full speed.

use crate::link::{Frame, FromCore, Summaries, TRACES_PER_FRAME, ToCore};
use crate::particles::MAX_PARTICLES;
use pathlab_sim::{RequestId, Scenario, SimTime, Timeline, presets};

/// Events run between two looks at the clock while playing.
pub const EVENTS_PER_CHECK: u64 = 1_000;

/// The live run and what the page has already been told of it.
#[derive(Debug, Default)]
pub struct Core {
    run: Option<Timeline>,
    /// Runs started so far (frames carry it).
    runs: u32,
    /// Whole-log index of the next line to send.
    log_sent: u64,
    /// Last second of the series sent.
    series_sent: Option<u32>,
    /// The newest trace sent (id and end), to find where new ones start.
    trace_sent: Option<(RequestId, SimTime)>,
    /// How many settings changes the page has been sent.
    edits_sent: usize,
    /// Whether the run started since the last frame.
    fresh: bool,
    /// The request the page follows while in flight.
    watched: Option<RequestId>,
}

/// The scenario of a preset with design changes applied, validated.
pub fn scenario_of(preset: &str, designs: &[crate::action::Redesign]) -> Result<Scenario, String> {
    let mut s = presets::preset(preset).map_err(|e| e.to_string())?;
    for d in designs {
        d.apply(&mut s);
    }
    s.validate().map_err(|e| e.to_string())?;
    Ok(s)
}

impl Core {
    /// A core with no run yet (the first message starts one).
    pub fn new() -> Core {
        Core::default()
    }

    /// The live run, if started.
    pub fn timeline(&self) -> Option<&Timeline> {
        self.run.as_ref()
    }

    /// Does what `msg` asks, with `clock` giving real time in ms (for
    /// `Play`'s budget), and answers.
    pub fn handle(&mut self, msg: ToCore, clock: &dyn Fn() -> f64) -> FromCore {
        if let ToCore::Start {
            preset,
            designs,
            seed,
        } = &msg
        {
            return match scenario_of(preset, designs)
                .and_then(|s| Timeline::new(&s, *seed).map_err(|e| e.to_string()))
            {
                Ok(t) => {
                    self.run = Some(t);
                    self.runs += 1;
                    self.log_sent = 0;
                    self.series_sent = None;
                    self.trace_sent = None;
                    self.edits_sent = 0;
                    self.fresh = true;
                    self.watched = None;
                    self.frame(false, None)
                }
                Err(error) => FromCore::Refused { error },
            };
        }
        let Some(run) = self.run.as_mut() else {
            return FromCore::Refused {
                error: "no run has been started".into(),
            };
        };
        match msg {
            ToCore::Start { .. } => unreachable!("handled above"),
            ToCore::Play { to, budget_ms } => {
                let start = clock();
                let behind = loop {
                    if run.advance(to, EVENTS_PER_CHECK) {
                        break false;
                    }
                    if clock() - start >= budget_ms {
                        break true;
                    }
                };
                self.frame(behind, None)
            }
            ToCore::Step { to } => {
                run.advance(to, u64::MAX);
                self.frame(false, None)
            }
            ToCore::Apply { command } => match run.apply(&command) {
                Ok(()) => {
                    let applied = run.commands().last().cloned();
                    self.frame(false, applied)
                }
                Err(e) => FromCore::Refused {
                    error: e.to_string(),
                },
            },
            ToCore::Watch { request } => {
                self.watched = request;
                self.frame(false, None)
            }
        }
    }

    /// The run now, with what was added since the last frame.
    fn frame(&mut self, behind: bool, applied: Option<pathlab_sim::Applied>) -> FromCore {
        let Some(run) = self.run.as_ref() else {
            return FromCore::Refused {
                error: "no run has been started".into(),
            };
        };
        let sim = run.sim();
        // Log lines since the last frame (lines let go before being sent
        // are skipped).
        let dropped = sim.log_dropped();
        let log = sim.log();
        let from = self.log_sent.max(dropped);
        let skip = ((from - dropped) as usize).min(log.len());
        let new_log = log[skip..].to_vec();
        self.log_sent = dropped + log.len() as u64;
        // Seconds of the series since the last frame.
        let series = &sim.metrics().series;
        let new_series: Vec<_> = series
            .iter()
            .filter(|p| self.series_sent.is_none_or(|t| p.t_s > t))
            .cloned()
            .collect();
        if let Some(p) = series.last() {
            self.series_sent = Some(p.t_s);
        }
        // Requests finished since the last frame, newest at most.
        let traces: Vec<_> = sim.traces().collect();
        let start = match self.trace_sent {
            Some((id, end)) => traces
                .iter()
                .rposition(|t| t.id == id && t.end == end)
                .map_or(0, |i| i + 1),
            None => 0,
        };
        let newest = traces.len().saturating_sub(TRACES_PER_FRAME);
        let traces_gap = start < newest;
        let start = start.max(newest);
        let new_traces: Vec<_> = traces[start..].iter().map(|t| (*t).clone()).collect();
        if let Some(t) = traces.last() {
            self.trace_sent = Some((t.id, t.end));
        }
        let watched = self
            .watched
            .filter(|&id| sim.is_in_flight(id))
            .and_then(|id| sim.request_trace(id));
        // Settings changes since the last frame (a run that went back in
        // time may have fewer: then all of them go again).
        let all_edits = sim.settings_edits();
        let edits_from = if self.edits_sent <= all_edits.len() {
            self.edits_sent
        } else {
            0
        };
        let edits = all_edits[edits_from..].to_vec();
        let summaries = (std::mem::take(&mut self.fresh) || !edits.is_empty()).then(|| Summaries {
            moves: sim.summary_moves(),
            shard_moves: sim.summary_shard_moves(),
        });
        self.edits_sent = all_edits.len();
        FromCore::Frame(Box::new(Frame {
            run: self.runs,
            now: sim.now(),
            events: sim.events(),
            fingerprint: sim.fingerprint(),
            seed: sim.seed(),
            behind,
            snapshot: sim.snapshot(MAX_PARTICLES),
            log_from: from,
            log: new_log,
            series: new_series,
            totals: sim.metrics().totals.clone(),
            traces: new_traces,
            traces_gap,
            watched,
            trace_capacity: sim.scenario().trace_capacity,
            edits_from: edits_from as u32,
            edits,
            summaries,
            applied,
            lost_writes: sim.lost_writes(),
            active_app_servers: sim.active_app_servers(),
            in_flight: sim.in_flight(),
            queue_backlog: sim.queue_backlog(),
        }))
    }
}

/// A link to a core in the same thread, which answers at once (for tests
/// and tools that have no worker).
pub struct LocalLink {
    core: Core,
    inbox: Vec<FromCore>,
    clock: Box<dyn Fn() -> f64>,
}

impl std::fmt::Debug for LocalLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalLink")
    }
}

impl LocalLink {
    /// A core of its own, whose `Play` never runs out of time.
    pub fn new() -> LocalLink {
        LocalLink::with_clock(|| 0.0)
    }

    /// A core of its own, with `clock` (ms) bounding each `Play`.
    pub fn with_clock(clock: impl Fn() -> f64 + 'static) -> LocalLink {
        LocalLink {
            core: Core::new(),
            inbox: Vec::new(),
            clock: Box::new(clock),
        }
    }

    /// The core behind it.
    pub fn core(&self) -> &Core {
        &self.core
    }
}

impl Default for LocalLink {
    fn default() -> Self {
        LocalLink::new()
    }
}

impl crate::link::Link for LocalLink {
    fn send(&mut self, msg: &ToCore) {
        let answer = self.core.handle(msg.clone(), &*self.clock);
        self.inbox.push(answer);
    }

    fn receive(&mut self) -> Vec<FromCore> {
        std::mem::take(&mut self.inbox)
    }

    fn waiting(&self) -> usize {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mirror::Mirror;
    use pathlab_sim::Command;

    /// Sends `msg` to `core`, passes the answer through its binary form as
    /// the worker does, and feeds the frame to `page`.
    fn exchange(core: &mut Core, page: &mut Mirror, scenario: &Scenario, msg: ToCore) {
        let bytes = crate::wire::encode(&core.handle(msg, &|| 0.0));
        match crate::wire::decode::<FromCore>(&bytes).expect("an answer reads back") {
            FromCore::Frame(f) => page.take(*f, scenario),
            FromCore::Refused { error } => panic!("refused: {error}"),
        }
    }

    #[test]
    fn the_pages_picture_built_from_frames_is_the_runs_own() {
        for preset in ["default", "leader-crash", "async-follower-reads"] {
            let scenario = scenario_of(preset, &[]).unwrap();
            let mut core = Core::new();
            let mut page = Mirror::default();
            let start = ToCore::Start {
                preset: preset.into(),
                designs: Vec::new(),
                seed: 4,
            };
            exchange(&mut core, &mut page, &scenario, start);
            // Frames of uneven length, with a setting and a fault between.
            let mut t = SimTime::ZERO;
            for i in 0..400u64 {
                t = t.after(10_000 + (i % 7) * 9_000);
                let play = ToCore::Play {
                    to: t,
                    budget_ms: 10.0,
                };
                exchange(&mut core, &mut page, &scenario, play);
                if i == 150 {
                    let apply = ToCore::Apply {
                        command: Command::set_rate(900.0),
                    };
                    exchange(&mut core, &mut page, &scenario, apply);
                }
                if i == 200 {
                    let crash = Command::Crash {
                        node: "app-1".into(),
                    };
                    exchange(
                        &mut core,
                        &mut page,
                        &scenario,
                        ToCore::Apply { command: crash },
                    );
                }
            }
            let sim = core.timeline().unwrap().sim();
            assert_eq!(page.now(), sim.now(), "{preset}");
            assert_eq!(page.fingerprint(), sim.fingerprint());
            assert_eq!(page.log(), sim.log(), "every log line, once, in order");
            assert_eq!(page.metrics().series, sim.metrics().series);
            assert_eq!(page.metrics().totals, sim.metrics().totals);
            assert_eq!(page.settings(), sim.settings(), "settings follow commands");
            assert_eq!(page.settings().workload.requests_per_s, 900.0);
            assert_eq!(
                *page.snapshot(),
                sim.snapshot(crate::particles::MAX_PARTICLES)
            );
            // The newest finished requests are the run's own.
            let ours: Vec<_> = page.traces().rev().take(50).collect();
            let theirs: Vec<_> = sim.traces().rev().take(50).collect();
            assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn a_refused_command_changes_nothing_and_says_why() {
        let mut core = Core::new();
        let start = ToCore::Start {
            preset: "default".into(),
            designs: Vec::new(),
            seed: 1,
        };
        core.handle(start, &|| 0.0);
        let before = core.timeline().unwrap().sim().fingerprint();
        let crash = Command::Crash {
            node: "db-9".into(),
        };
        match core.handle(ToCore::Apply { command: crash }, &|| 0.0) {
            FromCore::Refused { error } => assert!(error.contains("db-9"), "{error}"),
            other => panic!("accepted: {other:?}"),
        }
        assert_eq!(core.timeline().unwrap().sim().fingerprint(), before);
        let bad = ToCore::Start {
            preset: "no-such-preset".into(),
            designs: Vec::new(),
            seed: 1,
        };
        assert!(matches!(
            core.handle(bad, &|| 0.0),
            FromCore::Refused { .. }
        ));
        assert_eq!(
            core.timeline().unwrap().sim().fingerprint(),
            before,
            "the run goes on"
        );
    }
}
