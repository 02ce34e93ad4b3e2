//! The live run as the core worker keeps it: a [`Timeline`] of the simulation that does what the page asks ([`ToCore`]) and answers with frames ([`FromCore`]) holding what changed since the last one. The page itself holds no simulation, which keeps its bundle small and lets the core run at full speed.

use crate::link::{Frame, FromCore, LessonAnswer, Opened, Summaries, TRACES_PER_FRAME, ToCore};
use crate::particles::MAX_PARTICLES;
use pathlab_sim::runfile::RunFile;
use pathlab_sim::{RequestId, Scenario, SimTime, Timeline, presets};

/// Events run between two looks at the clock while playing.
pub const EVENTS_PER_CHECK: u64 = 1_000;

/// The live run and what the page has already been told of it.
///
/// The page keeps everything it was sent along the current branch, up to
/// the furthest point played (the run's end so far), and shows it up to the
/// cursor; so going back and forward again sends nothing twice, and only a
/// new branch (a command in the past, or a switch) makes the page drop what
/// came after the point where the branches part.
#[derive(Debug, Default)]
pub struct Core {
    run: Option<Timeline>,
    /// Runs started so far (frames carry it).
    runs: u32,
    /// Whole-log index of the next line to send.
    log_sent: u64,
    /// Last second of the series sent.
    series_sent: Option<u32>,
    /// Finished requests sent: all those that ended before this time, and
    /// this many of those that ended at it.
    traces_sent: (SimTime, usize),
    /// Whether the page's finished requests are to be replaced by those
    /// before the cursor (after going somewhere else in time).
    traces_reset: bool,
    /// How many settings changes the page has been sent.
    edits_sent: usize,
    /// Whether the run started since the last frame.
    fresh: bool,
    /// Where the page must drop what it holds (a new branch parts there).
    cut: Option<SimTime>,
    /// Whether the branches changed since the last frame.
    branches_changed: bool,
    /// The request the page follows while in flight.
    watched: Option<RequestId>,
    /// The lesson under way, if the run is one.
    lesson: Option<crate::lessons::Active>,
    /// A lesson the user opened from a file (a teacher's own), found by
    /// its id like the built-in ones.
    own_lesson: Option<pathlab_sim::lesson::Lesson>,
}

/// The answer to a question about a run when none was started.
fn no_run() -> FromCore {
    FromCore::Refused {
        error: "no run has been started".into(),
    }
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

/// Reads a run file the user opened: its run, played to where it was saved,
/// with the preset and design changes the page shows it as. The page
/// builds runs from a preset and design changes only, so a file whose
/// scenario is not one is refused, naming where it differs.
pub fn open_run_file(
    text: &str,
) -> Result<(String, Vec<crate::action::Redesign>, Timeline), String> {
    let file = RunFile::from_json(text).map_err(|e| e.to_string())?;
    let name = file.scenario.name.clone();
    let cli = "run it with `pathlab-sim run --run-file` instead";
    let preset = presets::preset(&name)
        .map_err(|_| format!("its scenario {name:?} is not one of the presets; {cli}"))?;
    let designs = crate::action::Redesign::between(&preset, &file.scenario);
    let rebuilt = scenario_of(&name, &designs)?;
    if rebuilt != file.scenario {
        let (Ok(a), Ok(b)) = (
            serde_json::to_value(&rebuilt),
            serde_json::to_value(&file.scenario),
        ) else {
            return Err(format!("its scenario is not the preset {name:?}; {cli}"));
        };
        return Err(format!(
            "its scenario differs from the preset {name:?} in {}, which the page cannot change; {cli}",
            first_difference(&a, &b, "scenario")
        ));
    }
    let t = file.replay().map_err(|e| e.to_string())?;
    Ok((name, designs, t))
}

/// The path of the first field where two JSON values differ.
fn first_difference(a: &serde_json::Value, b: &serde_json::Value, path: &str) -> String {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => x
            .iter()
            .find(|(k, v)| y.get(*k) != Some(v))
            .map(|(k, v)| match y.get(k) {
                Some(w) => first_difference(v, w, &format!("{path}.{k}")),
                None => format!("{path}.{k}"),
            })
            .or_else(|| {
                y.keys()
                    .find(|k| !x.contains_key(*k))
                    .map(|k| format!("{path}.{k}"))
            })
            .unwrap_or_else(|| path.to_string()),
        _ => path.to_string(),
    }
}

/// What is new since the last frame along the branch: log lines (from
/// their whole-log index) and seconds of the series.
struct News {
    log_from: u64,
    log: Vec<pathlab_sim::LogEntry>,
    series: Vec<pathlab_sim::Point>,
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
    /// `Play`'s budget), and answers. A refused message changes nothing.
    pub fn handle(&mut self, msg: ToCore, clock: &dyn Fn() -> f64) -> FromCore {
        match msg {
            ToCore::Start {
                preset,
                designs,
                seed,
            } => match scenario_of(&preset, &designs)
                .and_then(|s| Timeline::new(&s, seed).map_err(|e| e.to_string()))
            {
                Ok(t) => {
                    self.begin(t);
                    self.frame(false, None)
                }
                Err(error) => FromCore::Refused { error },
            },
            ToCore::Watch { request } => {
                self.watched = request;
                self.frame(false, None)
            }
            ToCore::MakeLink {
                preset,
                designs,
                speed,
                play,
                present,
            } => match self.run.as_ref() {
                Some(run) => FromCore::Link {
                    fragment: crate::share::LinkData {
                        v: crate::share::LINK_VERSION,
                        preset,
                        designs,
                        seed: run.seed(),
                        commands: run.commands().cloned().collect(),
                        t: run.cursor(),
                        events: run.sim().events(),
                        speed,
                        play,
                        present,
                    }
                    .encode(),
                },
                None => no_run(),
            },
            ToCore::OpenLink { fragment } => {
                let opened = crate::share::LinkData::decode(&fragment)
                    .and_then(|link| link.replay().map(|t| (link, t)));
                match opened {
                    Ok((link, t)) => {
                        let seed = t.seed();
                        self.begin(t);
                        self.opened(Opened {
                            designs: link.designs,
                            preset: link.preset,
                            seed,
                            view: true,
                            speed: link.speed,
                            play: link.play,
                            present: link.present,
                            frame: Frame::default(),
                        })
                    }
                    Err(why) => FromCore::Refused {
                        error: format!("this link cannot be opened: {why}"),
                    },
                }
            }
            ToCore::OpenRunFile { text } if text.contains("\"pathlab_lesson\"") => {
                match pathlab_sim::lesson::Lesson::from_json(&text) {
                    Ok(lesson) => {
                        let id = lesson.id.clone();
                        self.own_lesson = Some(lesson);
                        self.open_lesson(&id, 0)
                    }
                    Err(e) => FromCore::Refused {
                        error: format!("this lesson file cannot be opened: {e}"),
                    },
                }
            }
            ToCore::OpenRunFile { text } => match open_run_file(&text) {
                Ok((preset, designs, t)) => self.open_paused(preset, designs, t),
                Err(why) => FromCore::Refused {
                    error: format!("this run file cannot be opened: {why}"),
                },
            },
            ToCore::HostMessage { text } => {
                let read = crate::host::read(&text);
                FromCore::Host(Box::new(crate::link::HostAnswer {
                    kind: match &read {
                        Ok(r) => Some(r.kind.clone()),
                        Err(_) => crate::host::kind_of(&text),
                    },
                    action: read.map(|r| r.action),
                }))
            }
            ToCore::LessonIndex => FromCore::LessonIndex(crate::lessons::cards()),
            ToCore::OpenLesson { id, step } => self.open_lesson(&id, step as usize),
            ToCore::LessonNext => match (self.lesson.as_mut(), self.run.as_mut()) {
                (Some(active), Some(run)) if active.at_end(run) => match active.next(run) {
                    Ok(()) => {
                        let state = active.state();
                        self.branches_changed = true;
                        match self.frame(false, None) {
                            FromCore::Frame(f) => FromCore::Lesson(Box::new(LessonAnswer {
                                opened: None,
                                frame: Some(*f),
                                state,
                            })),
                            other => other,
                        }
                    }
                    Err(error) => FromCore::Refused { error },
                },
                (Some(active), _) => {
                    let (id, step) = (active.lesson.id.clone(), active.step + 1);
                    if step < active.lesson.steps.len() {
                        self.open_lesson(&id, step)
                    } else {
                        FromCore::Refused {
                            error: "this is the lesson's last step".into(),
                        }
                    }
                }
                (None, _) => FromCore::Refused {
                    error: "no lesson is under way".into(),
                },
            },
            ToCore::LessonReveal => match (self.lesson.as_mut(), self.run.as_ref()) {
                (Some(active), Some(run)) => {
                    active.reveal(run);
                    FromCore::Lesson(Box::new(LessonAnswer {
                        opened: None,
                        frame: None,
                        state: active.state(),
                    }))
                }
                _ => FromCore::Refused {
                    error: "no lesson is under way".into(),
                },
            },
            ToCore::SaveHistory => match self.run.as_ref() {
                Some(run) => match pathlab_sim::runfile::RunFile::of(run).history_jsonl() {
                    Ok(text) => FromCore::File {
                        name: format!(
                            "pathlab-{}-seed{}-{:.1}s-history.jsonl",
                            run.scenario().name,
                            run.seed(),
                            run.cursor().as_secs_f64()
                        ),
                        text,
                    },
                    Err(e) => FromCore::Refused {
                        error: format!("the history cannot be made: {e}"),
                    },
                },
                None => no_run(),
            },
            ToCore::SaveMetrics => match self.run.as_ref() {
                Some(run) => FromCore::File {
                    name: format!(
                        "pathlab-{}-seed{}-metrics.csv",
                        run.scenario().name,
                        run.seed()
                    ),
                    text: metrics_csv(&run.sim().metrics().series),
                },
                None => no_run(),
            },
            ToCore::SaveRun => match self.run.as_ref() {
                Some(run) => {
                    let file = pathlab_sim::runfile::RunFile::of(run);
                    FromCore::File {
                        name: format!(
                            "pathlab-{}-seed{}-{:.1}s.json",
                            run.scenario().name,
                            run.seed(),
                            run.cursor().as_secs_f64()
                        ),
                        text: file.to_json(),
                    }
                }
                None => no_run(),
            },
            other => {
                let nodes = !matches!(other, ToCore::Play { nodes: false, .. });
                match self.act(other, clock) {
                    Ok((behind, applied)) => self.frame_with(behind, applied, nodes),
                    Err(error) => FromCore::Refused { error },
                }
            }
        }
    }

    /// Opens lesson `id` at `step`, its run replacing this one.
    fn open_lesson(&mut self, id: &str, step: usize) -> FromCore {
        let own = self.own_lesson.clone().filter(|l| l.id == id);
        let opened = own
            .map_or_else(|| crate::lessons::find(id), Ok)
            .and_then(|l| crate::lessons::Active::open(l, step))
            .and_then(|(t, active)| {
                let base = presets::preset(&active.lesson.preset).map_err(|e| e.to_string())?;
                let designs = crate::action::Redesign::between(&base, t.scenario());
                Ok((t, active, designs))
            });
        match opened {
            Ok((t, active, designs)) => {
                let preset = active.lesson.preset.clone();
                let state = active.state();
                let answer = self.open_paused(preset, designs, t);
                self.lesson = Some(active);
                match answer {
                    FromCore::Opened(o) => FromCore::Lesson(Box::new(LessonAnswer {
                        opened: Some(*o),
                        frame: None,
                        state,
                    })),
                    other => other,
                }
            }
            Err(why) => FromCore::Refused {
                error: format!("this lesson cannot be opened: {why}"),
            },
        }
    }

    /// Makes `t` (a run of `preset` with `designs`) the live run, shown
    /// paused at its moment with the page's view as it is.
    fn open_paused(
        &mut self,
        preset: String,
        designs: Vec<crate::action::Redesign>,
        t: Timeline,
    ) -> FromCore {
        let seed = t.seed();
        self.begin(t);
        self.opened(Opened {
            preset,
            designs,
            seed,
            view: false,
            speed: 1.0,
            play: false,
            present: false,
            frame: Frame::default(),
        })
    }

    /// Makes `t` the live run, the page told nothing of it yet.
    fn begin(&mut self, t: Timeline) {
        *self = Core {
            run: Some(t),
            runs: self.runs + 1,
            own_lesson: self.own_lesson.take(),
            fresh: true,
            branches_changed: true,
            ..Core::default()
        };
    }

    /// The answer to an opened link or run file: `o` with the run's frame.
    fn opened(&mut self, o: Opened) -> FromCore {
        match self.frame(false, None) {
            FromCore::Frame(frame) => FromCore::Opened(Box::new(Opened { frame: *frame, ..o })),
            other => other,
        }
    }

    /// The run now, with the nodes' views.
    fn frame(&mut self, behind: bool, applied: Option<pathlab_sim::Applied>) -> FromCore {
        self.frame_with(behind, applied, true)
    }

    /// Does what a message about the run asks: whether a `Play` fell
    /// behind, and the command applied, if any.
    fn act(
        &mut self,
        msg: ToCore,
        clock: &dyn Fn() -> f64,
    ) -> Result<(bool, Option<pathlab_sim::Applied>), String> {
        let run = self
            .run
            .as_mut()
            .ok_or_else(|| "no run has been started".to_string())?;
        match msg {
            ToCore::Play { to, budget_ms, .. } => {
                let start = clock();
                let behind = loop {
                    if run.advance(to, EVENTS_PER_CHECK) {
                        break false;
                    }
                    if clock() - start >= budget_ms {
                        break true;
                    }
                };
                Ok((behind, None))
            }
            ToCore::Step { to } => {
                run.advance(to, u64::MAX);
                Ok((false, None))
            }
            ToCore::Seek { to } => {
                run.seek(to);
                self.traces_reset = true;
                Ok((false, None))
            }
            ToCore::Apply { command } => {
                let forks = run.in_past();
                let at = run.cursor();
                run.apply(&command).map_err(|e| e.to_string())?;
                let applied = run.commands().last().cloned();
                self.branches_changed = true;
                if forks {
                    // The old future is a branch of its own now.
                    self.cut(at);
                }
                Ok((false, applied))
            }
            ToCore::Switch { branch } => {
                let split = run.switch(branch).map_err(|e| e.to_string())?;
                self.branches_changed = true;
                if split < SimTime::NEVER {
                    self.cut(split);
                }
                Ok((false, None))
            }
            ToCore::Start { .. }
            | ToCore::Watch { .. }
            | ToCore::Show
            | ToCore::SaveRun
            | ToCore::SaveMetrics
            | ToCore::SaveHistory
            | ToCore::HostMessage { .. }
            | ToCore::LessonIndex
            | ToCore::OpenLesson { .. }
            | ToCore::LessonNext
            | ToCore::LessonReveal
            | ToCore::MakeLink { .. }
            | ToCore::OpenLink { .. }
            | ToCore::OpenRunFile { .. } => Ok((false, None)),
        }
    }

    /// Makes the next frame tell the page to drop what it holds from `t`
    /// on, and send it again from the run as it is now.
    fn cut(&mut self, t: SimTime) {
        let Some(run) = self.run.as_ref() else {
            return;
        };
        let sim = run.sim();
        let log = sim.log();
        let before = log.partition_point(|e| e.at < t);
        self.log_sent = sim.log_dropped() + before as u64;
        self.series_sent = sim
            .metrics()
            .series
            .iter()
            .rev()
            .find(|p| SimTime(u64::from(p.t_s) * 1_000_000) < t)
            .map(|p| p.t_s);
        self.traces_reset = true;
        self.cut = Some(t);
    }

    /// What the run holds that the page has not been sent yet.
    fn news(&mut self) -> Option<News> {
        let sim = self.run.as_ref()?.sim();
        // Log lines (lines let go before being sent are skipped).
        let dropped = sim.log_dropped();
        let log = sim.log();
        let log_from = self.log_sent.max(dropped);
        let skip = ((log_from - dropped) as usize).min(log.len());
        let new_log = log[skip..].to_vec();
        self.log_sent = self.log_sent.max(dropped + log.len() as u64);
        // Seconds of the series.
        let series = &sim.metrics().series;
        let new_series: Vec<_> = series
            .iter()
            .filter(|p| self.series_sent.is_none_or(|t| p.t_s > t))
            .cloned()
            .collect();
        if let Some(p) = new_series.last() {
            self.series_sent = Some(p.t_s);
        }
        Some(News {
            log_from,
            log: new_log,
            series: new_series,
        })
    }

    /// Requests finished since the last frame, the newest at most, and
    /// whether the page is to drop those it holds first.
    fn new_traces(&mut self) -> (Vec<pathlab_sim::Trace>, bool) {
        let Some(run) = self.run.as_ref() else {
            return (Vec::new(), false);
        };
        let reset = std::mem::take(&mut self.traces_reset);
        if reset {
            self.traces_sent = (SimTime::ZERO, 0);
        }
        let (sent_end, sent_at_end) = self.traces_sent;
        let all: Vec<_> = run.sim().traces().collect();
        let after = all.partition_point(|t| t.end <= sent_end);
        let at_end = all[..after]
            .iter()
            .rev()
            .take_while(|t| t.end == sent_end)
            .count();
        let start = if reset {
            0
        } else {
            after - at_end.saturating_sub(sent_at_end)
        };
        let newest = all.len().saturating_sub(TRACES_PER_FRAME);
        let gap = reset || start < newest;
        let traces: Vec<_> = all[start.max(newest)..]
            .iter()
            .map(|t| (*t).clone())
            .collect();
        if let Some(last) = all.last() {
            let n = all.iter().rev().take_while(|t| t.end == last.end).count();
            self.traces_sent = (last.end, n);
        }
        (traces, gap)
    }

    /// The run now (the nodes' views only if `nodes`), with what was added
    /// since the last frame.
    fn frame_with(
        &mut self,
        behind: bool,
        applied: Option<pathlab_sim::Applied>,
        nodes: bool,
    ) -> FromCore {
        // After a switch, what the branch holds up to its end is sent too.
        let news = if self.cut.is_some() && self.run.as_ref().is_some_and(|r| r.in_past()) {
            let run = self.run.as_mut();
            let (cursor, end) = run
                .as_ref()
                .map_or((SimTime::ZERO, SimTime::ZERO), |r| (r.cursor(), r.end()));
            if let Some(r) = run {
                r.seek(end);
            }
            let news = self.news();
            if let Some(r) = self.run.as_mut() {
                r.seek(cursor);
            }
            news
        } else {
            self.news()
        };
        let (traces, traces_gap) = self.new_traces();
        let (Some(run), Some(news)) = (self.run.as_ref(), news) else {
            return no_run();
        };
        let sim = run.sim();
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
        let branches = std::mem::take(&mut self.branches_changed).then(|| {
            std::iter::once(run.branch())
                .chain(run.other_branches().iter().cloned())
                .collect()
        });
        FromCore::Frame(Box::new(Frame {
            run: self.runs,
            now: sim.now(),
            events: sim.events(),
            fingerprint: sim.fingerprint(),
            seed: sim.seed(),
            behind,
            end: run.end(),
            cut: self.cut.take(),
            snapshot: if nodes {
                sim.snapshot(MAX_PARTICLES)
            } else {
                pathlab_sim::Snapshot {
                    now: sim.now(),
                    flights: sim.flights(MAX_PARTICLES),
                    ..Default::default()
                }
            },
            flights_only: !nodes,
            log_len: sim.log_dropped() + sim.log().len() as u64,
            log_from: news.log_from,
            log: news.log,
            series: news.series,
            totals: sim.metrics().totals.clone(),
            traces,
            traces_gap,
            watched,
            trace_capacity: sim.scenario().trace_capacity,
            edits_from: edits_from as u32,
            edits,
            summaries,
            branches,
            applied,
            lost_writes: sim.lost_writes(),
            active_app_servers: sim.active_app_servers(),
            in_flight: sim.in_flight(),
            queue_backlog: sim.queue_backlog(),
            memory: memory_bytes(),
        }))
    }
}

/// The per-second series as CSV: one row per simulated second, a column per
/// figure (empty where there is none, e.g. a hit ratio with no requests;
/// replication lag per replica in order).
pub fn metrics_csv(series: &[pathlab_sim::Point]) -> String {
    use std::fmt::Write;
    let replicas = series.iter().map(|p| p.lag_ms.len()).max().unwrap_or(0);
    let mut out = String::from(
        "t_s,requests,ok,errors,stale,p50_ms,p95_ms,p99_ms,cdn_hit_ratio,cache_hit_ratio,db_ops,lost_writes,sessions_lost,backlog",
    );
    for i in 0..replicas {
        let _ = write!(out, ",lag_ms_{i}");
    }
    out.push('\n');
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    for p in series {
        let _ = write!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            p.t_s,
            p.requests,
            p.ok,
            p.errors,
            p.stale,
            p.p50_ms,
            p.p95_ms,
            p.p99_ms,
            opt(p.cdn_hit_ratio),
            opt(p.cache_hit_ratio),
            p.db_ops,
            p.lost_writes,
            p.sessions_lost,
            p.backlog.map(|b| b.to_string()).unwrap_or_default()
        );
        for i in 0..replicas {
            let _ = write!(out, ",{}", opt(p.lag_ms.get(i).copied().flatten()));
        }
        out.push('\n');
    }
    out
}

/// Bytes in use on the heap, where the program counts them (the core's
/// worker does; 0 elsewhere).
fn memory_bytes() -> u64 {
    heapcount::live_bytes() as u64
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
            other => panic!("not a frame: {other:?}"),
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
                // Most frames bring only the messages in flight.
                let play = ToCore::Play {
                    to: t,
                    budget_ms: 10.0,
                    nodes: i % 3 == 0,
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
            assert_eq!(page.metrics().totals, &sim.metrics().totals);
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
            // A frame without the nodes keeps those the page has.
            let nodes = page.snapshot().nodes.clone();
            let t = sim.now().after(50_000);
            let play = ToCore::Play {
                to: t,
                budget_ms: 10.0,
                nodes: false,
            };
            exchange(&mut core, &mut page, &scenario, play);
            assert_eq!(page.snapshot().nodes, nodes);
            assert_eq!(page.snapshot().now, t);
            let sim = core.timeline().unwrap().sim();
            assert_eq!(
                page.flights(usize::MAX),
                sim.flights(crate::particles::MAX_PARTICLES)
            );
        }
    }

    #[test]
    fn the_saved_run_file_replays_to_the_page_s_fingerprint() {
        let mut core = Core::new();
        let clock = || 0.0;
        let start = ToCore::Start {
            preset: "leader-crash".into(),
            designs: Vec::new(),
            seed: 8,
        };
        core.handle(start, &clock);
        let to = SimTime::from_secs_f64(25.0);
        core.handle(ToCore::Step { to }, &clock);
        let restart = Command::Restart {
            node: "db-0-0".into(),
        };
        core.handle(ToCore::Apply { command: restart }, &clock);
        let to = SimTime::from_secs_f64(30.0);
        core.handle(ToCore::Step { to }, &clock);
        // Gone back in time: the file holds the run up to the cursor.
        let to = SimTime::from_secs_f64(28.0);
        core.handle(ToCore::Seek { to }, &clock);
        let fp = core.timeline().unwrap().sim().fingerprint();
        let FromCore::File { name, text } = core.handle(ToCore::SaveRun, &clock) else {
            panic!("no file");
        };
        assert_eq!(name, "pathlab-leader-crash-seed8-28.0s.json");
        let file = pathlab_sim::runfile::RunFile::from_json(&text).unwrap();
        assert_eq!(file.commands.len(), 1);
        assert_eq!(file.replay().unwrap().sim().fingerprint(), fp);
    }

    #[test]
    fn a_run_file_opens_as_its_preset_and_design_changes_at_its_moment() {
        use crate::action::Redesign;
        use pathlab_sim::scenario::Replication;
        let designs = vec![
            Redesign::Replication(Replication::Sync),
            Redesign::Shards(2),
            Redesign::DnsTtl(5.0),
        ];
        let mut t = Timeline::new(&scenario_of("leader-crash", &designs).unwrap(), 4).unwrap();
        t.advance(SimTime::from_secs_f64(9.0), u64::MAX);
        t.apply(&Command::Crash {
            node: "app-2".into(),
        })
        .unwrap();
        t.advance(SimTime::from_secs_f64(14.0), u64::MAX);
        let text = pathlab_sim::runfile::RunFile::of(&t).to_json();
        let (preset, found, opened) = open_run_file(&text).unwrap();
        assert_eq!(preset, "leader-crash");
        assert_eq!(found, designs);
        assert_eq!(opened.sim().fingerprint(), t.sim().fingerprint());
        assert_eq!(opened.cursor(), t.cursor());
        // The core answers with the page's part: paused, view unchanged.
        let mut core = Core::new();
        let FromCore::Opened(o) = core.handle(ToCore::OpenRunFile { text }, &|| 0.0) else {
            panic!("not opened");
        };
        assert!(!o.view && !o.play);
        assert_eq!(o.frame.fingerprint, t.sim().fingerprint());
        // A scenario the page cannot build is refused by the field that
        // differs, and the core's run stays as it was.
        let mut v: serde_json::Value =
            serde_json::from_str(&pathlab_sim::runfile::RunFile::of(&t).to_json()).unwrap();
        v["scenario"]["workload"]["requests_per_s"] = 123.0.into();
        let FromCore::Refused { error } = core.handle(
            ToCore::OpenRunFile {
                text: v.to_string(),
            },
            &|| 0.0,
        ) else {
            panic!("opened a scenario the page cannot build");
        };
        assert!(
            error.contains("scenario.workload.requests_per_s"),
            "{error}"
        );
        assert_eq!(
            core.timeline().unwrap().sim().fingerprint(),
            t.sim().fingerprint()
        );
        v["scenario"]["name"] = "mine".into();
        let err = open_run_file(&v.to_string()).unwrap_err();
        assert!(err.contains("not one of the presets"), "{err}");
    }

    #[test]
    fn every_lesson_s_run_is_a_preset_with_design_changes_the_page_can_make() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/lessons");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|x| x != "json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let lesson = pathlab_sim::lesson::Lesson::from_json(&text).unwrap();
            let scenario = lesson.scenario().unwrap();
            let base = presets::preset(&lesson.preset).unwrap();
            let designs = crate::action::Redesign::between(&base, &scenario);
            assert_eq!(
                scenario_of(&lesson.preset, &designs).unwrap(),
                scenario,
                "{}: its changes are not all design changes the page can make",
                path.display()
            );
        }
    }

    #[test]
    fn a_teacher_s_own_lesson_file_opens_like_a_run_file() {
        let text = r#"{"pathlab_lesson": 1, "id": "mine", "order": 99, "title": "Mine",
            "topic": "t", "minutes": 2, "you_will_see": "x", "preset": "leader-crash", "seed": 2,
            "steps": [{"title": "One", "text": "a", "play_to": 5},
                      {"title": "Two", "text": "b", "play_to": 10}]}"#;
        let mut core = Core::new();
        let clock = || 0.0;
        let FromCore::Lesson(a) = core.handle(
            ToCore::OpenRunFile {
                text: text.to_string(),
            },
            &clock,
        ) else {
            panic!("the lesson did not open");
        };
        assert_eq!(a.state.lesson.id, "mine");
        assert_eq!(a.opened.map(|o| o.preset), Some("leader-crash".into()));
        // Found again by its id, as a built-in one would be.
        let FromCore::Lesson(a) = core.handle(
            ToCore::OpenLesson {
                id: "mine".into(),
                step: 1,
            },
            &clock,
        ) else {
            panic!("not found again");
        };
        assert_eq!(a.state.step, 1);
        // A bad one names the step and the field, and the run stays.
        let fp = core.timeline().unwrap().sim().fingerprint();
        let bad = text.replace("\"play_to\": 10", "\"play_to\": \"later\"");
        let FromCore::Refused { error } = core.handle(ToCore::OpenRunFile { text: bad }, &clock)
        else {
            panic!("a bad lesson opened");
        };
        assert!(error.contains("steps[1].play_to"), "{error}");
        assert_eq!(core.timeline().unwrap().sim().fingerprint(), fp);
    }

    #[test]
    fn the_metrics_csv_has_a_row_per_second_and_a_column_per_figure() {
        let mut t = Timeline::new(&scenario_of("leader-crash", &[]).unwrap(), 2).unwrap();
        t.advance(SimTime::from_secs_f64(30.0), u64::MAX);
        let series = &t.sim().metrics().series;
        let csv = metrics_csv(series);
        let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
        assert_eq!(
            rows.len(),
            series.len() + 1,
            "a header and a row per second"
        );
        assert!(
            rows.iter().all(|r| r.len() == rows[0].len()),
            "every row is whole"
        );
        assert_eq!(rows[0][..3], ["t_s", "requests", "ok"]);
        assert_eq!(
            rows[0].last(),
            Some(&"lag_ms_2"),
            "a lag column per replica"
        );
        let last = series.last().unwrap();
        let row = rows.last().unwrap();
        assert_eq!(row[0], last.t_s.to_string());
        assert_eq!(row[1], last.requests.to_string());
        assert_eq!(row[7].parse::<f64>().unwrap(), last.p99_ms);
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
