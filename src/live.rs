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
    /// Run B, while comparing.
    versus: Option<VersusRun>,
}

/// Run B of a compare, kept in lock-step with the live run (A): played to
/// A's moment, sent every command A takes, sought where A is sought.
#[derive(Debug)]
struct VersusRun {
    against: crate::link::Against,
    run: Timeline,
    name: String,
    skipped: u32,
}

impl VersusRun {
    /// B for live run `a`: its scenario, A's seed, A's commands (or its
    /// own) in their places, played to A's end and sought to A's cursor.
    fn build(a: &Timeline, against: crate::link::Against) -> Result<VersusRun, String> {
        let base = match &against.preset {
            Some(p) => scenario_of(p, &against.designs)?,
            None => a.scenario().clone(),
        };
        if let Some(spec) = against.set.iter().find(|s| !s.contains('=')) {
            return Err(format!(
                "{spec:?}: write FIELD=VALUE (like db.replication=sync)"
            ));
        }
        let vary = settings_read(&against.set)?;
        if let Some(v) = vary.iter().find(|v| v.values.len() != 1) {
            return Err(format!("{}: give one value", v.field));
        }
        let scenario = if vary.is_empty() {
            base
        } else {
            settings_applied(&base, &vary)?
                .into_iter()
                .next()
                .map(|v| v.scenario)
                .ok_or_else(|| "no scenario to compare with".to_string())?
        };
        let commands: Vec<pathlab_sim::Applied> = match &against.commands {
            Some(c) => c.clone(),
            None => a.commands().cloned().collect(),
        };
        let mut run = Timeline::new(&scenario, a.seed()).map_err(|e| e.to_string())?;
        let mut skipped = 0;
        for c in &commands {
            run.advance(c.at, u64::MAX);
            if run.apply(&c.command).is_err() {
                skipped += 1;
            }
        }
        run.advance(a.end(), u64::MAX);
        run.seek(a.cursor());
        let diffs = pathlab_sim::compare::differences(a.scenario(), &scenario);
        let name = if let Some(label) = &against.label {
            label.clone()
        } else if !diffs.is_empty() && diffs.len() <= 3 {
            pathlab_sim::compare::name_of(&diffs)
        } else if let Some(p) = &against.preset {
            format!("preset {p}")
        } else if diffs.is_empty() && against.commands.is_some() {
            "another branch".to_string()
        } else {
            format!("{} settings changed", diffs.len())
        };
        Ok(VersusRun {
            against,
            run,
            name,
            skipped,
        })
    }

    /// B as the page shows it beside `a`.
    fn frame(&self, a: &Timeline, nodes: bool) -> crate::link::Versus {
        let sim = self.run.sim();
        let rows = pathlab_sim::compare::rows(a.sim(), sim);
        let trade_off = pathlab_sim::compare::trade_off_named(&self.name, &rows);
        let series = &sim.metrics().series;
        crate::link::Versus {
            against: self.against.clone(),
            name: self.name.clone(),
            trade_off,
            rows: rows.iter().map(|r| (r.a, r.b)).collect(),
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
            series: series[series.len().saturating_sub(61)..].to_vec(),
            fingerprint: sim.fingerprint(),
            skipped: self.skipped,
        }
    }
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
    let designs = as_designs(&name, &preset, &file.scenario).map_err(|e| format!("{e}; {cli}"))?;
    let t = file.replay().map_err(|e| e.to_string())?;
    Ok((name, designs, t))
}

/// The design changes that make `scenario` from preset `name` (whose
/// scenario is `preset`), if the page can make it so; else where it
/// differs.
fn as_designs(
    name: &str,
    preset: &Scenario,
    scenario: &Scenario,
) -> Result<Vec<crate::action::Redesign>, String> {
    let designs = crate::action::Redesign::between(preset, scenario);
    let rebuilt = scenario_of(name, &designs)?;
    if rebuilt != *scenario {
        let (Ok(a), Ok(b)) = (
            serde_json::to_value(&rebuilt),
            serde_json::to_value(scenario),
        ) else {
            return Err(format!("its scenario is not the preset {name:?}"));
        };
        return Err(format!(
            "its scenario differs from the preset {name:?} in {}, which the page cannot change",
            first_difference(&a, &b, "scenario")
        ));
    }
    Ok(designs)
}

/// The variants of a sweep over the scenario of `preset` with `designs`.
fn sweep_variants(
    preset: &str,
    designs: &[crate::action::Redesign],
    vary: &[String],
) -> Result<Vec<pathlab_sim::sweep::Variant>, String> {
    let base = scenario_of(preset, designs)?;
    let vary = settings_read(vary)?;
    let several = vary.iter().filter(|v| v.values.len() > 1).count();
    if vary.is_empty() || vary.len() > 6 || several > 2 {
        return Err(
            "vary one or two settings over several values (others may each be set to one value)"
                .into(),
        );
    }
    let vs = settings_applied(&base, &vary)?;
    if vs.len() > MAX_VARIANTS {
        return Err(format!(
            "{} combinations are more than the {MAX_VARIANTS} a sweep in the page runs; use `pathlab-sim sweep`",
            vs.len()
        ));
    }
    Ok(vs)
}

/// Settings as the page writes them (`FIELD=V1,V2`), read, with the
/// messages of the command line's `--vary` reworded for the page.
fn settings_read(specs: &[String]) -> Result<Vec<pathlab_sim::sweep::Vary>, String> {
    specs
        .iter()
        .map(|v| pathlab_sim::sweep::Vary::parse(v).map_err(|e| e.replace("--vary ", "")))
        .collect()
}

/// Every combination of the settings' values applied to `base`.
fn settings_applied(
    base: &Scenario,
    vary: &[pathlab_sim::sweep::Vary],
) -> Result<Vec<pathlab_sim::sweep::Variant>, String> {
    pathlab_sim::sweep::variants(base, vary).map_err(|e| e.to_string().replace("--vary: ", ""))
}

/// The variant a sweep's job runs.
fn variant_of(job: &crate::link::SweepJob) -> Result<pathlab_sim::sweep::Variant, String> {
    sweep_variants(&job.preset, &job.designs, &job.vary)?
        .into_iter()
        .nth(job.variant as usize)
        .ok_or_else(|| format!("there is no variant {}", job.variant))
}

/// Most combinations a sweep in the page runs.
pub const MAX_VARIANTS: usize = 36;

/// A variant's settings as `FIELD=VALUE` (for a compare).
fn settings_of(v: &pathlab_sim::sweep::Variant) -> Vec<String> {
    v.values
        .iter()
        .map(|(f, x)| match x {
            serde_json::Value::String(s) => format!("{f}={s}"),
            other => format!("{f}={other}"),
        })
        .collect()
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
                    // A compare goes on with the new run as A (a branch's
                    // commands belong to the old run).
                    let against = self
                        .versus
                        .take()
                        .map(|v| v.against)
                        .filter(|a| a.commands.is_none());
                    self.begin(t);
                    if let (Some(against), Some(run)) = (against, self.run.as_ref()) {
                        self.versus = VersusRun::build(run, against).ok();
                    }
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
                        compare: self.versus.as_ref().map(|v| v.against.clone()),
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
                        if let (Some(against), Some(run)) =
                            (link.compare.clone(), self.run.as_ref())
                        {
                            // A link's B was made by the page: it builds.
                            self.versus = VersusRun::build(run, against).ok();
                        }
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
            ToCore::Compare { against: None } => {
                self.versus = None;
                self.frame(false, None)
            }
            ToCore::Compare {
                against: Some(against),
            } => match self.run.as_ref() {
                Some(run) => match VersusRun::build(run, against) {
                    Ok(v) => {
                        self.versus = Some(v);
                        self.frame(false, None)
                    }
                    Err(why) => FromCore::Refused {
                        error: format!("these cannot be compared: {why}"),
                    },
                },
                None => no_run(),
            },
            ToCore::SweepPlan {
                preset,
                designs,
                vary,
            } => match sweep_variants(&preset, &designs, &vary) {
                Ok(vs) => FromCore::SweepPlan(vs.iter().map(|v| v.label()).collect()),
                Err(why) => FromCore::Refused {
                    error: format!("this sweep cannot run: {why}"),
                },
            },
            ToCore::SweepRun(job) => {
                let ran = variant_of(&job).and_then(|v| {
                    pathlab_sim::sweep::run_one(&v.scenario, job.seed, Some(job.secs))
                        .map_err(|e| e.to_string())
                });
                match ran {
                    Ok(r) => FromCore::SweepRun(Box::new(crate::link::SweepAnswer {
                        variant: job.variant,
                        seed: job.seed,
                        figures: r.figures,
                        theory: r.theory,
                        fingerprint: r.fingerprint,
                    })),
                    Err(why) => FromCore::Refused {
                        error: format!("a sweep's run failed: {why}"),
                    },
                }
            }
            ToCore::SweepOpen(job) => self.open_variant(&job),
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

    /// Opens a sweep's variant as the live run, played to `secs`; or, when
    /// the page cannot build its design, beside the live run.
    fn open_variant(&mut self, job: &crate::link::SweepJob) -> FromCore {
        let v = match variant_of(job) {
            Ok(v) => v,
            Err(why) => {
                return FromCore::Refused {
                    error: format!("this variant cannot be opened: {why}"),
                };
            }
        };
        let preset = job.preset.as_str();
        let (seed, secs) = (job.seed, job.secs);
        let base = presets::preset(preset).map_err(|e| e.to_string());
        match base.and_then(|b| as_designs(preset, &b, &v.scenario)) {
            Ok(designs) => match Timeline::new(&v.scenario, seed) {
                Ok(mut t) => {
                    t.advance(SimTime::from_secs_f64(secs.max(0.0)), u64::MAX);
                    self.open_paused(preset.to_string(), designs, t)
                }
                Err(e) => FromCore::Refused {
                    error: format!("this variant cannot be opened: {e}"),
                },
            },
            // Shown beside the live run instead.
            Err(_) => self.handle(
                ToCore::Compare {
                    against: Some(crate::link::Against {
                        set: settings_of(&v),
                        ..Default::default()
                    }),
                },
                &|| 0.0,
            ),
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
                // B is played as far as A got, within the same budget.
                let budget_ms = if self.versus.is_some() {
                    budget_ms / 2.0
                } else {
                    budget_ms
                };
                let behind = loop {
                    if run.advance(to, EVENTS_PER_CHECK) {
                        break false;
                    }
                    if clock() - start >= budget_ms {
                        break true;
                    }
                };
                if let Some(b) = self.versus.as_mut() {
                    b.run.advance(run.cursor(), u64::MAX);
                }
                Ok((behind, None))
            }
            ToCore::Step { to } => {
                run.advance(to, u64::MAX);
                if let Some(b) = self.versus.as_mut() {
                    b.run.advance(to, u64::MAX);
                }
                Ok((false, None))
            }
            ToCore::Seek { to } => {
                run.seek(to);
                if let Some(b) = self.versus.as_mut() {
                    b.run.seek(run.cursor());
                }
                self.traces_reset = true;
                Ok((false, None))
            }
            ToCore::Apply { command } => {
                let forks = run.in_past();
                let at = run.cursor();
                // A command goes to both runs, or to neither.
                if let Some(b) = self.versus.as_ref() {
                    b.run
                        .sim()
                        .check(&command)
                        .map_err(|e| format!("run B cannot take this, so neither does: {e}"))?;
                }
                run.apply(&command).map_err(|e| e.to_string())?;
                if let Some(b) = self.versus.as_mut() {
                    // Checked above, at the same moment.
                    let _ = b.run.apply(&command);
                }
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
                // B follows A's new branch (or keeps its own, sought to A's moment).
                if let Some(v) = self.versus.take() {
                    self.versus = VersusRun::build(run, v.against).ok();
                }
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
            | ToCore::Compare { .. }
            | ToCore::SweepPlan { .. }
            | ToCore::SweepRun(_)
            | ToCore::SweepOpen(_)
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
            versus: self.versus.as_ref().map(|v| Box::new(v.frame(run, nodes))),
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

    /// The frame a message is answered with (through the binary form).
    fn frame_of(core: &mut Core, msg: ToCore) -> Frame {
        let bytes = crate::wire::encode(&core.handle(msg, &|| 0.0));
        match crate::wire::decode::<FromCore>(&bytes).expect("an answer reads back") {
            FromCore::Frame(f) => *f,
            other => panic!("not a frame: {other:?}"),
        }
    }

    /// A core running `preset` with `seed`, compared with the same design
    /// with `set` (`FIELD=VALUE`).
    fn comparing(preset: &str, seed: u64, set: &str) -> (Core, crate::link::Against) {
        let mut core = Core::new();
        let start = ToCore::Start {
            preset: preset.into(),
            designs: Vec::new(),
            seed,
        };
        frame_of(&mut core, start);
        let against = crate::link::Against {
            set: vec![set.into()],
            ..Default::default()
        };
        frame_of(
            &mut core,
            ToCore::Compare {
                against: Some(against.clone()),
            },
        );
        (core, against)
    }

    fn row(v: &crate::link::Versus, figure: &str) -> (f64, f64) {
        let i = pathlab_sim::compare::ROWS
            .iter()
            .position(|r| r.0 == figure)
            .unwrap();
        v.rows[i]
    }

    #[test]
    fn a_compare_plays_both_designs_in_lock_step_and_sends_commands_to_both() {
        let (mut core, sync) = comparing("leader-crash", 2, "db.replication=sync");
        let f = frame_of(
            &mut core,
            ToCore::Step {
                to: SimTime::from_secs_f64(15.0),
            },
        );
        let v = f.versus.expect("B is sent beside A");
        assert_eq!(v.snapshot.now, f.now, "B stands at A's moment");
        assert_eq!(v.name, "db.replication sync");
        // A fault the user applies during the compare reaches both runs.
        let crash = Command::Crash {
            node: "app-1".into(),
        };
        let f = frame_of(&mut core, ToCore::Apply { command: crash });
        let down =
            |s: &pathlab_sim::Snapshot| s.nodes.iter().find(|n| n.id == "app-1").map(|n| n.state);
        let v = f.versus.unwrap();
        assert_eq!(down(&f.snapshot), Some(pathlab_sim::NodeState::Down));
        assert_eq!(down(&v.snapshot), Some(pathlab_sim::NodeState::Down));
        // Through the leader's crash at 20 s: asynchronous replication loses
        // acknowledged writes, synchronous loses none and pays on writes.
        let f = frame_of(
            &mut core,
            ToCore::Step {
                to: SimTime::from_secs_f64(60.0),
            },
        );
        let v = f.versus.unwrap();
        let lost = row(&v, "anomalies.lost_write");
        assert!(lost.0 > 0.0 && lost.1 == 0.0, "{lost:?}");
        let writes = row(&v, "writes.p99_ms");
        assert!(writes.1 > writes.0, "{writes:?}");
        assert!(
            v.trade_off.starts_with("db.replication sync: ")
                && v.trade_off.contains("0 lost writes instead of"),
            "{}",
            v.trade_off
        );
        // B is the run the same design gives alone with the same seed and
        // commands.
        let mut alone = pathlab_sim::compare::Pair::new(
            core.timeline().unwrap().scenario(),
            &{
                let mut s = core.timeline().unwrap().scenario().clone();
                s.db.replication = pathlab_sim::scenario::Replication::Sync;
                s
            },
            2,
        )
        .unwrap();
        alone.advance(SimTime::from_secs_f64(15.0));
        alone
            .apply(&Command::Crash {
                node: "app-1".into(),
            })
            .unwrap();
        alone.advance(SimTime::from_secs_f64(60.0));
        assert_eq!(v.fingerprint, alone.b.sim().fingerprint());
        assert_eq!(f.fingerprint, alone.a.sim().fingerprint());
        // Back in time, both go back.
        let f = frame_of(
            &mut core,
            ToCore::Seek {
                to: SimTime::from_secs_f64(10.0),
            },
        );
        assert_eq!(f.versus.unwrap().snapshot.now, f.now);
        // A restart keeps comparing; a link carries B; stopping ends it.
        let f = frame_of(
            &mut core,
            ToCore::Start {
                preset: "leader-crash".into(),
                designs: Vec::new(),
                seed: 3,
            },
        );
        assert_eq!(f.versus.unwrap().against, sync);
        let FromCore::Link { fragment } = core.handle(
            ToCore::MakeLink {
                preset: "leader-crash".into(),
                designs: Vec::new(),
                speed: 1.0,
                play: false,
                present: false,
            },
            &|| 0.0,
        ) else {
            panic!("no link");
        };
        let mut other = Core::new();
        match other.handle(ToCore::OpenLink { fragment }, &|| 0.0) {
            FromCore::Opened(o) => assert_eq!(o.frame.versus.unwrap().against, sync),
            x => panic!("not opened: {x:?}"),
        }
        let f = frame_of(&mut core, ToCore::Compare { against: None });
        assert!(f.versus.is_none());
    }

    #[test]
    fn a_command_one_design_cannot_take_goes_to_neither_and_bad_fields_are_named() {
        let (mut core, _) = comparing("default", 1, "app.servers=2");
        let before = core.timeline().unwrap().sim().fingerprint();
        let crash = Command::Crash {
            node: "app-4".into(),
        };
        match core.handle(ToCore::Apply { command: crash }, &|| 0.0) {
            FromCore::Refused { error } => assert!(error.contains("run B"), "{error}"),
            other => panic!("accepted: {other:?}"),
        }
        assert_eq!(core.timeline().unwrap().sim().fingerprint(), before);
        for (set, named) in [
            ("db.replicaton=sync", "no field \"db.replicaton\""),
            ("db.replication=fast", "db.replication=fast"),
            ("db.replication", "FIELD=VALUE"),
        ] {
            let bad = crate::link::Against {
                set: vec![set.into()],
                ..Default::default()
            };
            match core.handle(ToCore::Compare { against: Some(bad) }, &|| 0.0) {
                FromCore::Refused { error } => assert!(error.contains(named), "{error}"),
                other => panic!("accepted {set}: {other:?}"),
            }
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
