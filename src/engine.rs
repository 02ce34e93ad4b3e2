//! The interface's model: the running simulation, playback (speed, pause, step), the log of actions taken, and what the user has selected and chosen. Every change goes through `Engine::act`. It knows nothing of the DOM.

use crate::action::{Action, ActionLog, Choice, LogKind, Panel, Timed};
use crate::layout::{self, Orientation, Place};
use crate::link::{FromCore, Link, ToCore};
use crate::mirror::Mirror;
use crate::replay::{Answer, Ask};
use pathlab_sim::{Applied, Command, NodeKind, RequestId, Scenario, SimTime, presets};
use std::collections::BTreeSet;

/// Playback speeds offered, as multiples of real time.
pub const SPEEDS: [f64; 10] = [0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0];

/// Longest real time (ms) the core's worker spends on simulation events for
/// one animation frame, so that its answer (with the time to make it) is in
/// before the next 60 Hz frame; if a frame needs more, the simulation falls
/// behind (and says so). Events are never skipped: the next frame goes on
/// from the same point. The page itself never waits for the simulation.
pub const FRAME_BUDGET_MS: f64 = 12.0;

/// How often (real ms) a frame brings the nodes' views while playing; the
/// others bring only the messages in flight (the page's DOM is refreshed
/// no more often than this anyway).
const NODES_EVERY_MS: f64 = 100.0;

/// Simulated time one press of "step" advances.
pub const STEP_S: f64 = 0.1;

/// Longest real time a frame may account for (after a hidden tab, say).
const MAX_FRAME_MS: f64 = 100.0;

/// Everything the interface shows and changes, apart from the DOM.
#[derive(Debug)]
pub struct Engine {
    /// Name of the preset the scenario came from.
    pub preset: String,
    /// The scenario as loaded (before any commands).
    pub scenario: Scenario,
    /// The seed of this run.
    pub seed: u64,
    /// The run as the core last reported it (the simulation itself runs in
    /// the core, behind [`Engine::link`]).
    pub sim: Mirror,
    /// The way to the core.
    link: Box<dyn Link>,
    /// Where playing wants simulated time to be.
    target: SimTime,
    /// Real time (ms) the nodes' views were last asked for while playing.
    nodes_asked: f64,
    /// Set when the core refused the last thing asked.
    refused: bool,
    /// Why the simulation core cannot be reached, once it cannot.
    pub core_failure: Option<String>,
    /// For each message sent and not yet answered, what it was for.
    sent: std::collections::VecDeque<Sent>,
    /// Set when the core answered an action of the user's since the page
    /// was last drawn (the page then draws at once).
    pub answered: bool,
    /// A seek asked for while another was under way (dragging the
    /// timeline): sent when that one is answered, the ones between dropped.
    next_seek: Option<SimTime>,
    /// What to do once the core has answered everything asked (open a
    /// request or select a node where a link went).
    then: Vec<Action>,
    /// A file the core made, for the page to offer as a download (name,
    /// text).
    pub download: Option<(String, String)>,
    /// The link of the run as it is now, for the page's address (the text
    /// after `#run=`), when it changed.
    pub address: Option<String>,
    /// Whether the run changed since its link was last asked for, and when
    /// (real ms) that was.
    link_stale: bool,
    link_asked: f64,
    /// Real time (ms) the first frame after the last change was seen.
    changed_at: Option<f64>,
    /// Set while a link is being opened (a refusal then starts the preset).
    opening: bool,
    /// Set while a link or run file the user chose is being opened (a
    /// refusal keeps the run as it was).
    loading: bool,
    /// A picture of the diagram the page is to make (it needs the page's
    /// drawing, which the engine does not hold).
    pub picture: Option<Picture>,
    /// Whether a clip is being recorded.
    pub recording: bool,
    /// Why the last action was refused at once, if it was (for a host
    /// page driving the page, see `crate::host`).
    pub refused_now: Option<String>,
    /// How many times the core refused what was asked, and the last reason
    /// (answers come later than the actions that asked).
    pub refusals: (usize, String),
    /// A host page's messages as the core read them, to be done or
    /// answered (see `crate::host`).
    pub host_inbox: Vec<crate::link::HostAnswer>,
    /// The lesson index, once the core has sent it, and whether it is open.
    pub lessons: Option<Vec<crate::lessons::Card>>,
    pub lesson_index: bool,
    /// The lesson under way.
    pub lesson: Option<LessonPage>,
    /// Where playing stops by itself (the end of a lesson's step).
    stop_at: Option<SimTime>,
    /// A lesson's step reached, to be kept as the student's progress.
    pub progress: Option<(String, u32)>,
    /// The furthest step (from 0) reached in each lesson, kept in the
    /// browser between visits.
    pub reached: std::collections::BTreeMap<String, u32>,
    /// A window of simulated time that playing keeps to, looping back to
    /// its start (`range=a..b`).
    pub range: Option<(SimTime, SimTime)>,
    /// Whether time is running.
    pub playing: bool,
    /// Index into [`SPEEDS`].
    pub speed_idx: usize,
    /// Every command sent by the user, in its exact place in the run.
    pub commands: Vec<Applied>,
    /// Changes made to the preset's design, in order (the scenario is the
    /// preset with these applied).
    pub designs: Vec<crate::action::Redesign>,
    /// The request whose story was asked for, while the answer is awaited.
    pub asking: Option<RequestId>,
    /// How far the replay for it has got (0 to 1), as the worker says.
    pub replayed: f64,
    /// The last answer about a request (its story, maybe its hops).
    pub why: Option<Answer>,
    /// Whether the open request's story is shown (asked for with "Why?").
    pub show_why: bool,
    /// A question for the replay worker, to be sent by the page.
    pub outbox: Option<Ask>,
    /// The node whose panel is open.
    pub selected: Option<usize>,
    /// The request whose waterfall is open.
    pub request: Option<RequestId>,
    /// Nodes picked for one side of a partition.
    pub picked: BTreeSet<usize>,
    /// Whether clicks pick nodes for a partition instead of selecting.
    pub picking: bool,
    /// The last refused action, in words.
    pub error: Option<String>,
    /// Whether the keyboard help is open.
    pub help: bool,
    /// Where each node is drawn.
    pub places: Vec<Place>,
    /// Kind of each node.
    pub kinds: Vec<NodeKind>,
    /// Name of each node.
    pub names: Vec<String>,
    /// Run B of a compare, as the core last sent it (B's nodes kept from
    /// the last frame that had them).
    pub versus: Option<crate::link::Versus>,
    /// Where each of B's nodes is drawn.
    pub versus_places: Vec<Place>,
    /// Whether the "Compare with…" chooser is open.
    pub compare_dialog: bool,
    /// The sweep under way or last run, and whether its panel is open.
    pub sweep: Option<crate::sweep::Sweep>,
    pub sweep_panel: bool,
    /// The sweep form's text: what to vary (one or two settings), seeds,
    /// simulated seconds.
    pub sweep_form: [String; 4],
    /// A sweep asked for, waiting for the core to name its variants.
    sweep_asked: Option<crate::sweep::SweepSpec>,
    /// Makes the links to sweep workers (the page's: new Web Workers).
    pub sweep_links: Option<crate::link::LinkMaker>,
    /// How many sweep workers to run at once (the browser's cores).
    pub cores: usize,
    /// Real ms of the latest frame.
    now_ms: f64,
    /// Real time of the previous frame (ms), while playing.
    last_frame: Option<f64>,
    /// Node count, retired-node count and orientation the layout was made for.
    layout_for: (usize, usize, Orientation),
    /// Which way the diagram's path runs (down on narrow screens).
    pub orientation: Orientation,
    /// True when the last frame could not keep up with the requested speed.
    pub behind: bool,
    /// Every recorded action since this run started, with its time.
    pub log: ActionLog,
    /// Presenter mode: large type, the diagram filling the screen.
    pub presenter: bool,
    /// Settings groups that are open.
    pub open: BTreeSet<Panel>,
    /// The log shows only this kind of line (or all).
    pub log_filter: Option<LogKind>,
    /// Groups of repeated log lines that are open (by first line).
    pub log_open: BTreeSet<usize>,
    /// The region "Region down" and "Region up" act on.
    pub region_choice: String,
    /// The factor "Slow down" applies.
    pub slow_factor: f64,
    /// What the screen reader's live region says now: a summary of the
    /// latest faults, elections and anomalies, renewed at most every
    /// [`ANNOUNCE_EVERY_MS`].
    pub announcement: String,
    /// Log lines already summarised, and when (real ms) the last summary was.
    announced: (usize, f64),
}

/// The lesson under way, as the page shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LessonPage {
    /// The lesson and its step, and the step's reveal once played.
    pub state: crate::lessons::LessonState,
    /// The student's answer to the step's question.
    pub choice: Option<u32>,
    pub guess: Option<f64>,
    /// Whether what the step asks has been done.
    pub asked: bool,
    /// Whether the reveal has been asked for.
    pub revealing: bool,
}

impl LessonPage {
    /// The step shown.
    pub fn step(&self) -> Option<&crate::lessons::StepView> {
        self.state.lesson.steps.get(self.state.step as usize)
    }
}

/// A picture of the diagram to make from the page's drawing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Picture {
    /// The diagram as an SVG file.
    Svg,
    /// The diagram, with the requests in flight, as a PNG file.
    Png,
    /// A WebM clip of the diagram playing, this many real seconds long.
    Clip { secs: f64 },
}

/// What a message to the core was for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sent {
    /// Something the user did.
    Act,
    /// Playing on.
    Play,
    /// Renewing the run's link, or reading a host page's message (neither
    /// is an action the page waits on).
    Link,
}

/// How long (real ms) the user must leave a paused page alone before its
/// link is renewed.
const LINK_QUIET_MS: f64 = 300.0;

/// Shortest real time between two announcements to screen readers.
pub const ANNOUNCE_EVERY_MS: f64 = 5_000.0;

/// Slow-down factors offered.
pub const SLOW_FACTORS: [f64; 5] = [2.0, 5.0, 10.0, 50.0, 100.0];

impl Engine {
    /// A fresh simulation of a preset (paused at time zero), run by a core
    /// in this thread (tests and tools; the page's core is in a worker, see
    /// [`Engine::with_link`]).
    pub fn new(preset: &str, seed: Option<u64>) -> Result<Engine, String> {
        Engine::with_link(preset, seed, Box::new(crate::live::LocalLink::new()))
    }

    /// A fresh simulation of a preset (paused at time zero), run by the
    /// core behind `link`.
    pub fn with_link(
        preset: &str,
        seed: Option<u64>,
        link: Box<dyn Link>,
    ) -> Result<Engine, String> {
        let scenario = presets::preset(preset).map_err(|e| e.to_string())?;
        let seed = seed.unwrap_or(scenario.seed);
        let mut engine = Engine {
            preset: preset.to_string(),
            places: Vec::new(),
            kinds: Vec::new(),
            names: Vec::new(),
            scenario,
            seed,
            sim: Mirror::default(),
            link,
            target: SimTime::ZERO,
            nodes_asked: f64::NEG_INFINITY,
            refused: false,
            core_failure: None,
            sent: Default::default(),
            answered: false,
            next_seek: None,
            then: Vec::new(),
            download: None,
            address: None,
            link_stale: true,
            link_asked: f64::NEG_INFINITY,
            changed_at: None,
            range: None,
            opening: false,
            loading: false,
            picture: None,
            recording: false,
            refused_now: None,
            refusals: (0, String::new()),
            host_inbox: Vec::new(),
            lessons: None,
            lesson_index: false,
            lesson: None,
            stop_at: None,
            progress: None,
            reached: Default::default(),
            playing: false,
            speed_idx: 3,
            commands: Vec::new(),
            designs: Vec::new(),
            asking: None,
            replayed: 0.0,
            why: None,
            show_why: false,
            outbox: None,
            selected: None,
            request: None,
            picked: BTreeSet::new(),
            picking: false,
            error: None,
            help: false,
            versus: None,
            versus_places: Vec::new(),
            compare_dialog: false,
            sweep: None,
            sweep_panel: false,
            sweep_form: [
                crate::sweep::SUGGESTED[0].1.to_string(),
                String::new(),
                "3".to_string(),
                "60".to_string(),
            ],
            sweep_asked: None,
            sweep_links: None,
            cores: 2,
            now_ms: 0.0,
            last_frame: None,
            behind: false,
            layout_for: (0, 0, Orientation::Across),
            orientation: Orientation::Across,
            log: ActionLog::new(),
            presenter: false,
            open: BTreeSet::from([Panel::Load, Panel::Database]),
            log_filter: None,
            log_open: BTreeSet::new(),
            region_choice: String::new(),
            slow_factor: 10.0,
            announcement: String::new(),
            announced: (0, f64::NEG_INFINITY),
        };
        // A core that cannot start this run says why in `error`.
        engine.start_run();
        Ok(engine)
    }

    /// Asks the core for a new run of the scenario (preset, design changes,
    /// seed) and takes in what it has answered so far.
    fn start_run(&mut self) {
        self.tell(&ToCore::Start {
            preset: self.preset.clone(),
            designs: self.designs.clone(),
            seed: self.seed,
        });
        self.target = SimTime::ZERO;
        self.pump();
    }

    /// Takes in the core's answers received so far; true if the run
    /// changed.
    pub fn pump(&mut self) -> bool {
        let mut moved = false;
        for answer in self.link.receive() {
            // Paused, every answer is shown at once (data-pending counts
            // them all then).
            match self.sent.pop_front() {
                Some(Sent::Act) | None => self.answered = true,
                Some(Sent::Play) if !self.playing => self.answered = true,
                _ => {}
            }
            match answer {
                FromCore::Frame(mut f) => {
                    if let Some(b) = f.branches.as_ref().and_then(|b| b.first()) {
                        self.commands = b.commands.clone();
                    }
                    self.behind = f.behind;
                    self.take_versus(f.versus.take());
                    self.sim.take(*f, &self.scenario);
                    moved = true;
                }
                FromCore::Refused { error } => {
                    self.refused = true;
                    self.refusals = (self.refusals.0 + 1, error.clone());
                    if std::mem::take(&mut self.opening) {
                        // A bad link: the preset's run instead, and why.
                        self.error = Some(format!("{error}. Showing the scenario from its start."));
                        self.start_run();
                    } else if std::mem::take(&mut self.loading) {
                        self.error = Some(format!("{error}. The run you had is kept."));
                    } else {
                        self.error = Some(error);
                    }
                }
                FromCore::File { name, text } => self.download = Some((name, text)),
                FromCore::Link { fragment } => self.address = Some(fragment),
                FromCore::Opened(o) => {
                    self.opened(*o);
                    moved = true;
                }
                FromCore::Host(answer) => self.host_inbox.push(*answer),
                FromCore::SweepPlan(labels) => {
                    if let (Some(spec), Some(maker)) =
                        (self.sweep_asked.take(), self.sweep_links.clone())
                    {
                        self.sweep = Some(crate::sweep::Sweep::start(
                            spec,
                            labels,
                            self.cores,
                            &*maker.0,
                            self.now_ms,
                        ));
                    }
                }
                // Runs of a sweep come from its workers, not this link.
                FromCore::SweepRun(_) => {}
                FromCore::LessonIndex(cards) => self.lessons = Some(cards),
                FromCore::Lesson(answer) => {
                    self.lesson_answer(*answer);
                    moved = true;
                }
            }
        }
        if moved {
            self.sync_layout();
        }
        if self.core_failure.is_none() {
            self.core_failure = self.link.failure();
            // Said at once: nothing else will move.
            self.answered |= self.core_failure.is_some();
        }
        if self.pending() == 0 {
            if let Some(t) = self.next_seek.take() {
                self.tell(&ToCore::Seek { to: t });
                moved |= self.pump();
            } else {
                for action in std::mem::take(&mut self.then) {
                    self.act(action);
                }
            }
        }
        moved
    }

    /// Goes to simulated time `t` (within the run so far). While another
    /// seek is under way, only the latest one asked for follows it.
    pub fn seek(&mut self, t: SimTime) {
        let t = t.min(self.sim.end().max(self.target));
        self.target = t;
        if self.sent.contains(&Sent::Act) {
            self.next_seek = Some(t);
            return;
        }
        self.tell(&ToCore::Seek { to: t });
        self.pump();
    }

    /// Keeps playing within `from..to`, looping; goes to `from` now.
    pub fn keep_to(&mut self, from: SimTime, to: SimTime) {
        self.range = Some((from, to));
        self.go_to(from);
    }

    /// Goes to `t`: back (or within the run so far) by seeking, beyond it
    /// by playing on.
    fn go_to(&mut self, t: SimTime) {
        if t > self.sim.end().max(self.target) {
            self.target = t;
            self.ask_core(ToCore::Step { to: t });
        } else {
            self.seek(t);
        }
    }

    /// Goes back one step (0.1 s).
    pub fn step_back(&mut self) {
        let from = if self.pending() > 0 {
            self.next_seek.unwrap_or(self.target)
        } else {
            self.sim.now()
        };
        self.seek(SimTime(from.0.saturating_sub((STEP_S * 1e6) as u64)));
    }

    /// Sends `msg` and reports whether the core refused it, as far as is
    /// known at once (a core in a worker answers later; then false).
    fn ask_core(&mut self, msg: ToCore) -> bool {
        self.refused = false;
        self.tell(&msg);
        self.pump();
        !self.refused
    }

    /// Sends `msg` to the core, noting whether it is an action of the
    /// user's (not playing on, nor renewing the link).
    fn tell(&mut self, msg: &ToCore) {
        self.sent.push_back(match msg {
            ToCore::Play { .. } => Sent::Play,
            ToCore::MakeLink { .. } | ToCore::HostMessage { .. } => Sent::Link,
            _ => Sent::Act,
        });
        self.link.send(msg);
    }

    /// Takes in the core's answer about the lesson: a new run, or the run
    /// moved on, and the lesson's state.
    fn lesson_answer(&mut self, a: crate::link::LessonAnswer) {
        if let Some(o) = a.opened {
            self.opened(o);
        }
        if let Some(mut f) = a.frame {
            if let Some(b) = f.branches.as_ref().and_then(|b| b.first()) {
                self.commands = b.commands.clone();
            }
            self.take_versus(f.versus.take());
            self.sim.take(f, &self.scenario);
        }
        let same_step = self.lesson.as_ref().is_some_and(|l| {
            l.state.lesson.id == a.state.lesson.id && l.state.step == a.state.step
        });
        let revealed = a.state.revealed.is_some();
        let page = match self.lesson.take() {
            Some(old) if same_step => LessonPage {
                state: a.state,
                revealing: false,
                ..old
            },
            _ => LessonPage {
                asked: false,
                state: a.state,
                ..LessonPage::default()
            },
        };
        let asks = page.step().is_some_and(|s| s.ask.is_some());
        let page = LessonPage {
            asked: page.asked || !asks,
            ..page
        };
        self.stop_at = if revealed {
            None
        } else {
            page.step().map(|s| s.play_to)
        };
        let (id, step) = (page.state.lesson.id.clone(), page.state.step);
        if self.reached.get(&id).is_none_or(|&r| r < step) {
            self.reached.insert(id.clone(), step);
            self.progress = Some((id, step));
        }
        self.lesson = Some(page);
        self.lesson_index = false;
    }

    /// Asks for the step's reveal once the run has reached its end.
    fn reveal_when_due(&mut self) {
        let due = self.lesson.as_ref().is_some_and(|l| {
            !l.revealing
                && l.state.revealed.is_none()
                && l.step().is_some_and(|s| self.sim.now() >= s.play_to)
        });
        if due && self.sent.is_empty() {
            if let Some(l) = self.lesson.as_mut() {
                l.revealing = true;
            }
            self.playing = false;
            self.stop_at = None;
            self.tell(&ToCore::LessonReveal);
            self.pump();
        }
    }

    /// The furthest step (from 0) reached in lesson `id`, if any.
    pub fn progress_of(&self, id: &str) -> Option<u32> {
        self.reached.get(id).copied()
    }

    /// Opens lesson `id` at `step` (from 0).
    pub fn open_lesson(&mut self, id: String, step: u32) {
        self.playing = false;
        self.stop_at = None;
        self.lesson_index = false;
        self.loading = true;
        self.tell(&ToCore::OpenLesson { id, step });
        self.pump();
    }

    /// Passes a host page's message (its JSON text) to the core to read;
    /// what it asks for arrives in [`Engine::host_inbox`].
    pub fn host_message(&mut self, text: String) {
        self.tell(&ToCore::HostMessage { text });
        self.pump();
    }

    /// Opens a link (the text after `#run=`) instead of the preset's run:
    /// its run, at its moment; a bad link starts the preset, saying why.
    pub fn open_link(&mut self, fragment: &str) {
        self.opening = true;
        self.tell(&ToCore::OpenLink {
            fragment: fragment.to_string(),
        });
        self.pump();
    }

    /// Takes in an opened link: its design, seed, speed, view and run.
    fn opened(&mut self, o: crate::link::Opened) {
        self.opening = false;
        self.loading = false;
        // A run opened is not the lesson's (a lesson's answer sets its own
        // after this).
        self.lesson = None;
        self.stop_at = None;
        let designs = o.designs;
        if let Ok(scenario) = crate::live::scenario_of(&o.preset, &designs) {
            self.scenario = scenario;
        }
        self.preset = o.preset;
        self.designs = designs;
        self.seed = o.seed;
        if o.view {
            self.speed_idx = SPEEDS
                .iter()
                .position(|&s| s >= o.speed)
                .unwrap_or(SPEEDS.len() - 1);
            self.presenter = o.present;
        }
        self.playing = o.view && o.play;
        // Nothing of the old run stays picked, asked about or open.
        self.asking = None;
        self.why = None;
        self.request = None;
        self.selected = None;
        self.picked.clear();
        self.picking = false;
        self.last_frame = None;
        self.layout_for = (0, 0, self.orientation);
        if let Some(b) = o.frame.branches.as_ref().and_then(|b| b.first()) {
            self.commands = b.commands.clone();
        }
        self.target = o.frame.now;
        let mut frame = o.frame;
        self.take_versus(frame.versus.take());
        self.sim.take(frame, &self.scenario);
        self.link_stale = true;
    }

    /// Takes in run B as a frame carries it (none: not comparing).
    fn take_versus(&mut self, v: Option<Box<crate::link::Versus>>) {
        let Some(mut v) = v else {
            self.versus = None;
            self.versus_places.clear();
            return;
        };
        if v.flights_only {
            if let Some(old) = self.versus.take() {
                let flights = std::mem::take(&mut v.snapshot.flights);
                v.snapshot = pathlab_sim::Snapshot {
                    now: v.snapshot.now,
                    flights,
                    ..old.snapshot
                };
            }
        } else {
            let visible: Vec<NodeKind> = v
                .snapshot
                .nodes
                .iter()
                .filter(|n| !n.retired)
                .map(|n| n.kind)
                .collect();
            let mut placed = layout::layout_for(&visible, self.orientation).into_iter();
            let away = Place {
                x: -1000.0,
                y: -1000.0,
                r: 0.0,
            };
            self.versus_places = v
                .snapshot
                .nodes
                .iter()
                .map(|n| {
                    if n.retired {
                        away
                    } else {
                        placed.next().unwrap_or(away)
                    }
                })
                .collect();
        }
        self.versus = Some(*v);
    }

    /// Asks for the run's link when it changed: every two seconds while
    /// playing (time moves on), or once the user has paused acting for a
    /// moment (not between the steps of a quick series).
    fn renew_link(&mut self, now_ms: f64) {
        if self.playing && now_ms - self.link_asked >= 2_000.0 {
            self.link_stale = true;
        }
        if self.link_stale && self.changed_at.is_none() {
            self.changed_at = Some(now_ms);
        }
        let soon = if self.playing {
            now_ms - self.link_asked >= 1_000.0
        } else {
            self.changed_at.is_some_and(|c| now_ms - c >= LINK_QUIET_MS)
        };
        if self.link_stale && soon && self.sent.is_empty() && self.sim.started() {
            self.link_stale = false;
            self.changed_at = None;
            self.link_asked = now_ms;
            self.tell(&ToCore::MakeLink {
                preset: self.preset.clone(),
                designs: self.designs.clone(),
                speed: self.speed(),
                play: self.playing,
                present: self.presenter,
            });
            self.pump();
        }
    }

    /// How many of the user's actions the core has not answered yet (the
    /// page shows it as `data-pending`, for scripts that act then look).
    /// Once paused, playing on is not finished until its last frame is in.
    pub fn pending(&self) -> usize {
        self.sent
            .iter()
            .filter(|&&s| s == Sent::Act || (s == Sent::Play && !self.playing))
            .count()
    }

    /// Plays on to exactly `secs` simulated seconds from now (tests, tools).
    pub fn run_for(&mut self, secs: f64) {
        let to = self.target.max(self.sim.now()).after((secs * 1e6) as u64);
        self.target = to;
        self.ask_core(ToCore::Step { to });
    }

    /// Lays the diagram out again when servers were added or retired.
    ///
    /// Runs every frame, so it first compares counts it can read cheaply: a
    /// snapshot walks every pending event of the simulation.
    pub fn sync_layout(&mut self) {
        let key = self.layout_key();
        if self.layout_for == key {
            return;
        }
        self.layout_for = key;
        let snap_nodes: Vec<(String, NodeKind, bool)> = self
            .sim
            .snapshot()
            .nodes
            .iter()
            .map(|n| (n.id.clone(), n.kind, n.retired))
            .collect();
        let visible: Vec<NodeKind> = snap_nodes.iter().filter(|n| !n.2).map(|n| n.1).collect();
        let mut placed = layout::layout_for(&visible, self.orientation).into_iter();
        self.places = snap_nodes
            .iter()
            .map(|n| {
                if n.2 {
                    Place {
                        x: -1000.0,
                        y: -1000.0,
                        r: 0.0,
                    }
                } else {
                    placed.next().unwrap_or(Place {
                        x: -1000.0,
                        y: -1000.0,
                        r: 0.0,
                    })
                }
            })
            .collect();
        self.kinds = snap_nodes.iter().map(|n| n.1).collect();
        self.names = snap_nodes.into_iter().map(|n| n.0).collect();
    }

    /// What the layout depends on: the number of nodes and of app servers
    /// retired by scaling in (the only nodes that can leave the drawing).
    fn layout_key(&self) -> (usize, usize, Orientation) {
        let (nodes, apps) = self
            .sim
            .nodes()
            .fold((0, 0), |(nodes, apps), (_, _, kind)| {
                (nodes + 1, apps + usize::from(kind == NodeKind::App))
            });
        (
            nodes,
            apps.saturating_sub(self.sim.active_app_servers()),
            self.orientation,
        )
    }

    /// The playback speed.
    pub fn speed(&self) -> f64 {
        SPEEDS[self.speed_idx.min(SPEEDS.len() - 1)]
    }

    /// Starts or stops time.
    pub fn toggle_play(&mut self) {
        self.playing = !self.playing;
        self.last_frame = None;
    }

    /// One animation frame at real time `now_ms`: takes in the core's
    /// answers, and while playing asks it to play on by the real time
    /// passed times the speed, for at most [`FRAME_BUDGET_MS`] (one request
    /// at a time: a slow core falls behind, and says so, rather than
    /// queueing work). Returns true if the run changed.
    pub fn frame(&mut self, now_ms: f64) -> bool {
        self.now_ms = now_ms;
        let mut moved = self.pump();
        if let Some(sweep) = self.sweep.as_mut()
            && sweep.pump(now_ms)
        {
            // Progress is shown as it comes.
            self.answered = true;
            if let Some(why) = sweep.failed.clone().filter(|_| sweep.finished()) {
                self.error = Some(why);
            }
        }
        self.renew_link(now_ms);
        self.reveal_when_due();
        if !self.playing {
            self.last_frame = None;
            // Stopped after a frame without the nodes: ask for them.
            if !self.sim.complete() && self.sent.is_empty() {
                self.tell(&ToCore::Show);
                moved |= self.pump();
            }
            return moved;
        }
        let Some(last) = self.last_frame.replace(now_ms) else {
            self.target = self.sim.now();
            return moved;
        };
        let dt_ms = (now_ms - last).clamp(0.0, MAX_FRAME_MS);
        // In a window (`range=`), the end loops back to the start.
        if let Some((from, to)) = self.range
            && self.sim.now() >= to
            && self.sent.is_empty()
        {
            self.seek(from);
            return true;
        }
        // Behind, the target is where the core got to: time not played is
        // let go rather than owed.
        let from = if self.behind {
            self.sim.now()
        } else {
            self.target.max(self.sim.now())
        };
        self.target = from.after((dt_ms * 1000.0 * self.speed()) as u64);
        if let Some((_, to)) = self.range {
            self.target = self.target.min(to);
        }
        if let Some(stop) = self.stop_at {
            self.target = self.target.min(stop);
        }
        if self.link.waiting() == 0 {
            let nodes = now_ms - self.nodes_asked >= NODES_EVERY_MS;
            if nodes {
                self.nodes_asked = now_ms;
            }
            self.tell(&ToCore::Play {
                to: self.target,
                budget_ms: FRAME_BUDGET_MS,
                nodes,
            });
            moved |= self.pump();
        }
        moved
    }

    /// Advances simulated time by one step (while paused, typically).
    pub fn step(&mut self) {
        // Steps pressed faster than the core answers add up.
        let to = self.target.max(self.sim.now()).after((STEP_S * 1e6) as u64);
        self.target = to;
        self.ask_core(ToCore::Step { to });
    }

    /// One speed faster (`up`) or slower.
    pub fn change_speed(&mut self, up: bool) {
        self.speed_idx = if up {
            (self.speed_idx + 1).min(SPEEDS.len() - 1)
        } else {
            self.speed_idx.saturating_sub(1)
        };
    }

    /// Does what `action` says: the one way the interface changes anything.
    /// Returns false (and says why in [`Engine::error`]) when the action is
    /// refused; nothing then changes. Recorded actions join the action log
    /// with the simulated time they were taken at; actions that start a new
    /// run start a new log.
    pub fn act(&mut self, action: Action) -> bool {
        let at = self.sim.now().as_secs_f64();
        let ok = match &action {
            Action::Play => {
                if !self.playing {
                    self.toggle_play();
                }
                true
            }
            Action::Pause => {
                if self.playing {
                    self.toggle_play();
                }
                true
            }
            Action::TogglePlay => {
                self.toggle_play();
                true
            }
            Action::Speed { x } => {
                if x.is_finite() && *x > 0.0 {
                    self.speed_idx = SPEEDS
                        .iter()
                        .position(|&s| s >= *x)
                        .unwrap_or(SPEEDS.len() - 1);
                    true
                } else {
                    self.error = Some(format!("a speed must be a positive number, not {x}"));
                    false
                }
            }
            Action::Faster => {
                self.change_speed(true);
                true
            }
            Action::Slower => {
                self.change_speed(false);
                true
            }
            Action::Step => {
                self.step();
                true
            }
            Action::StepBack => {
                self.step_back();
                true
            }
            Action::Seek { t, request, node } => {
                if !(t.is_finite() && *t >= 0.0) {
                    self.error = Some(format!(
                        "a moment of the run is a number of seconds from its start, not {t}"
                    ));
                    return false;
                }
                self.go_to(SimTime::from_secs_f64(*t));
                if let Some(id) = request {
                    self.then.push(Action::OpenRequest { id: Some(*id) });
                }
                if let Some(node) = node {
                    self.then.push(Action::Select {
                        node: Some(node.clone()),
                    });
                }
                self.pump();
                true
            }
            Action::Marker { next } => {
                let now = self.sim.now();
                let marks = crate::panels::timeline::markers(&self.sim, &self.scenario);
                let to = if *next {
                    marks.iter().map(|m| m.at).find(|&t| t > now)
                } else {
                    marks.iter().rev().map(|m| m.at).find(|&t| t < now)
                };
                if let Some(t) = to {
                    self.seek(t);
                }
                true
            }
            // The page copies its address, which holds the run's link.
            Action::CopyLink => true,
            Action::SaveRun | Action::SaveMetrics | Action::SaveHistory => {
                self.tell(&match action {
                    Action::SaveRun => ToCore::SaveRun,
                    Action::SaveMetrics => ToCore::SaveMetrics,
                    _ => ToCore::SaveHistory,
                });
                self.pump();
                true
            }
            // The page draws these from the diagram on screen.
            Action::SaveDiagram { png } => {
                self.picture = Some(if *png { Picture::Png } else { Picture::Svg });
                true
            }
            Action::RecordClip { secs } => {
                if !(secs.is_finite() && (0.5..=60.0).contains(secs)) {
                    self.error = Some(format!("a clip is 0.5 to 60 seconds long, not {secs}"));
                    false
                } else if self.recording {
                    self.error = Some("a clip is being recorded already".into());
                    false
                } else {
                    self.picture = Some(Picture::Clip { secs: *secs });
                    if !self.playing {
                        self.toggle_play();
                    }
                    true
                }
            }
            Action::LessonIndex { open } => {
                self.lesson_index = *open;
                if *open && self.lessons.is_none() {
                    self.tell(&ToCore::LessonIndex);
                    self.pump();
                }
                true
            }
            Action::LessonOpen { id, step } => {
                self.open_lesson(id.clone(), *step);
                true
            }
            Action::LessonNext | Action::LessonBack | Action::LessonRestart => {
                let Some(l) = self.lesson.as_ref() else {
                    return false;
                };
                let (id, step, last) = (
                    l.state.lesson.id.clone(),
                    l.state.step,
                    l.state.lesson.steps.len() as u32 - 1,
                );
                match action {
                    Action::LessonNext if step < last => {
                        self.playing = false;
                        self.tell(&ToCore::LessonNext);
                        self.pump();
                        true
                    }
                    Action::LessonBack if step > 0 => {
                        self.open_lesson(id, step - 1);
                        true
                    }
                    Action::LessonRestart => {
                        self.open_lesson(id, step);
                        true
                    }
                    _ => false,
                }
            }
            Action::LessonAnswer { choice, guess } => match self.lesson.as_mut() {
                Some(l) if l.state.revealed.is_none() => {
                    l.choice = *choice;
                    l.guess = guess.filter(|g| g.is_finite());
                    true
                }
                _ => false,
            },
            Action::LessonDo => {
                let ask = self
                    .lesson
                    .as_ref()
                    .and_then(|l| l.step())
                    .and_then(|s| s.ask.clone());
                match ask {
                    Some((_, command)) => {
                        if let Some(l) = self.lesson.as_mut() {
                            l.asked = true;
                        }
                        self.send(command)
                    }
                    None => false,
                }
            }
            Action::LessonClose => {
                self.lesson = None;
                self.stop_at = None;
                true
            }
            Action::OpenRunFile { text } => {
                self.loading = true;
                self.tell(&ToCore::OpenRunFile { text: text.clone() });
                self.pump();
                true
            }
            Action::OpenLink { link } => {
                let fragment = link.rsplit_once("#run=").map_or(link.as_str(), |(_, f)| f);
                self.loading = true;
                self.tell(&ToCore::OpenLink {
                    fragment: fragment.to_string(),
                });
                self.pump();
                true
            }
            Action::ToEnd => {
                self.seek(self.sim.end());
                true
            }
            Action::Compare { with } => {
                self.compare_dialog = false;
                self.ask_core(ToCore::Compare {
                    against: with.clone(),
                })
            }
            Action::CompareDialog { open } => {
                self.compare_dialog = *open;
                true
            }
            Action::SweepPanel { open } => {
                self.sweep_panel = *open;
                true
            }
            Action::SweepStart { vary, seeds, secs } => {
                if self.sweep_links.is_none() {
                    self.error = Some("sweeps need Web Workers, which this page has not".into());
                    return false;
                }
                if !(1..=20).contains(seeds) {
                    self.error = Some(format!("a sweep runs 1 to 20 seeds, not {seeds}"));
                    return false;
                }
                if !(secs.is_finite() && (1.0..=3600.0).contains(secs)) {
                    self.error = Some(format!(
                        "a sweep's runs last 1 to 3600 simulated seconds, not {secs}"
                    ));
                    return false;
                }
                // A new sweep replaces the old one (its workers end).
                self.sweep = None;
                self.sweep_panel = true;
                self.sweep_asked = Some(crate::sweep::SweepSpec {
                    preset: self.preset.clone(),
                    designs: self.designs.clone(),
                    vary: vary.clone(),
                    seeds: *seeds,
                    secs: *secs,
                });
                self.ask_core(ToCore::SweepPlan {
                    preset: self.preset.clone(),
                    designs: self.designs.clone(),
                    vary: vary.clone(),
                })
            }
            Action::SweepStop => {
                if let Some(s) = self.sweep.as_mut() {
                    s.stop(self.now_ms);
                }
                true
            }
            Action::SweepPick { variant } => match self.sweep.as_mut() {
                Some(s) => {
                    s.picked = variant.map(|v| v as usize).filter(|&v| v < s.labels.len());
                    true
                }
                None => false,
            },
            Action::SweepOpen { variant } => match self.sweep.as_ref() {
                Some(s) if (*variant as usize) < s.labels.len() => {
                    let job = s.spec.job(*variant, 1);
                    self.playing = false;
                    self.ask_core(ToCore::SweepOpen(job))
                }
                _ => {
                    self.error = Some(format!("the sweep has no variant {variant}"));
                    false
                }
            },
            Action::SweepCompare { variant } => {
                let set = self
                    .sweep
                    .as_ref()
                    .and_then(|s| s.labels.get(*variant as usize))
                    .map(|l| l.split(' ').map(str::to_string).collect::<Vec<_>>());
                match set {
                    Some(set) => self.ask_core(ToCore::Compare {
                        against: Some(crate::link::Against {
                            set,
                            ..Default::default()
                        }),
                    }),
                    None => {
                        self.error = Some(format!("the sweep has no variant {variant}"));
                        false
                    }
                }
            }
            Action::SweepAxes { x, y } => {
                let at = |f: &str| pathlab_sim::sweep::FIGURES.iter().position(|g| *g == f);
                match (self.sweep.as_mut(), at(y)) {
                    (Some(s), Some(y)) => {
                        s.x = at(x);
                        s.y = y;
                        true
                    }
                    _ => {
                        self.error = Some(format!("a sweep's chart cannot show {y:?}"));
                        false
                    }
                }
            }
            Action::SweepEdit { field, text } => {
                let i = ["vary", "vary2", "seeds", "secs"]
                    .iter()
                    .position(|f| f == field);
                match i {
                    Some(i) => {
                        self.sweep_form[i] = text.chars().take(500).collect();
                        true
                    }
                    None => {
                        self.error = Some(format!("the sweep's form has no field {field:?}"));
                        false
                    }
                }
            }
            Action::SweepCsv => match self.sweep.as_ref() {
                Some(s) => {
                    self.download = Some((format!("pathlab-{}-sweep.csv", s.spec.preset), s.csv()));
                    true
                }
                None => false,
            },
            Action::Switch { branch } => {
                if self.sim.branches().iter().skip(1).any(|b| b.id == *branch) {
                    self.ask_core(ToCore::Switch { branch: *branch })
                } else {
                    self.error = Some(format!("there is no other branch {branch}"));
                    false
                }
            }
            Action::Reset => {
                self.reset();
                true
            }
            Action::Seed { seed } => {
                self.restart_with(*seed);
                self.error.is_none()
            }
            Action::Preset { name } => {
                self.load_preset(name);
                self.error.is_none()
            }
            Action::Command(cmd) => {
                if let Some(l) = self.lesson.as_mut()
                    && l.step()
                        .and_then(|s| s.ask.as_ref())
                        .is_some_and(|(_, c)| c == cmd)
                {
                    l.asked = true;
                }
                self.send(cmd.clone())
            }
            Action::Redesign(change) => {
                let c = change.clone();
                self.designs.push(change.clone());
                let ok = self.redesign(|s| c.apply(s));
                if !ok {
                    self.designs.pop();
                }
                ok
            }
            Action::Select { node } => match node {
                None => {
                    self.selected = None;
                    true
                }
                Some(name) => match self.names.iter().position(|n| n == name) {
                    Some(i) => {
                        self.selected = Some(i);
                        true
                    }
                    None => {
                        self.error = Some(format!("there is no node {name:?}"));
                        false
                    }
                },
            },
            Action::ClickNode { node } => match self.names.iter().position(|n| n == node) {
                Some(i) => {
                    self.click_node(i);
                    true
                }
                None => false,
            },
            // Clicks and toggles are recorded as what they came to mean.
            Action::ClickAt { x, y } => {
                return match crate::particles::request_at(self, *x, *y, 12.0) {
                    Some(id) => self.act(Action::OpenRequest { id: Some(id) }),
                    None if !self.picking => self.act(Action::Select { node: None }),
                    None => true,
                };
            }
            Action::TogglePresenter => {
                return self.act(Action::Panel {
                    panel: Panel::Presenter,
                    open: !self.presenter,
                });
            }
            Action::OpenRequest { id } => {
                self.request = id.map(RequestId);
                self.show_why = false;
                // The core keeps the page told of it while it is in flight.
                self.tell(&ToCore::Watch {
                    request: self.request,
                });
                self.pump();
                // Details the page no longer keeps are rebuilt by a replay.
                if let Some(id) = self.request
                    && self.trace_of(id).is_none()
                {
                    self.ask(id);
                }
                true
            }
            Action::Why { id } => {
                let id = RequestId(*id);
                self.show_why = true;
                if self.asking != Some(id)
                    && self
                        .why
                        .as_ref()
                        .is_none_or(|a| a.request != id || a.failed)
                {
                    self.ask(id);
                }
                true
            }
            Action::Answered { answer } => {
                if self.asking == Some(answer.request) {
                    self.asking = None;
                    self.why = Some(answer.clone());
                }
                true
            }
            Action::Picking { on } => {
                self.picking = *on;
                if !on {
                    self.picked.clear();
                }
                true
            }
            Action::Cut => self.cut(),
            Action::Panel { panel, open } => {
                match panel {
                    Panel::Help => self.help = *open,
                    Panel::Presenter => self.presenter = *open,
                    group => {
                        if *open {
                            self.open.insert(*group);
                        } else {
                            self.open.remove(group);
                        }
                    }
                }
                true
            }
            Action::CloseAll => {
                self.help = false;
                self.compare_dialog = false;
                self.sweep_panel = false;
                self.request = None;
                self.picking = false;
                self.picked.clear();
                self.selected = None;
                true
            }
            Action::Dismiss => {
                self.error = None;
                true
            }
            Action::Viewport { narrow } => {
                // Laid out again only when it changes (resizing is frequent).
                self.orientation = if *narrow {
                    Orientation::Down
                } else {
                    Orientation::Across
                };
                self.sync_layout();
                true
            }
            Action::Invalid { why } => {
                self.error = Some(why.clone());
                false
            }
            Action::LogFilter { kind } => {
                self.log_filter = *kind;
                true
            }
            Action::LogGroup { first, open } => {
                if *open {
                    self.log_open.insert(*first);
                } else {
                    self.log_open.remove(first);
                }
                true
            }
            Action::Choose(Choice::Region { region }) => {
                self.region_choice = region.clone();
                true
            }
            Action::Choose(Choice::SlowFactor { factor }) => {
                if factor.is_finite() && *factor >= 1.0 {
                    self.slow_factor = *factor;
                    true
                } else {
                    false
                }
            }
        };
        self.refused_now = if ok {
            None
        } else {
            Some(
                self.error
                    .clone()
                    .unwrap_or_else(|| "the action was refused".into()),
            )
        };
        if ok && action.restarts() {
            self.log = ActionLog::new();
        } else if ok && action.recorded() {
            self.log.actions.push(Timed { at, action });
        }
        if ok {
            self.link_stale = true;
            self.changed_at = None;
        }
        ok
    }

    /// Asks the replay worker about request `id` (its story, and its hops
    /// if the page no longer keeps them).
    fn ask(&mut self, id: RequestId) {
        self.why = None;
        self.asking = Some(id);
        self.replayed = 0.0;
        self.outbox = Some(Ask {
            preset: self.preset.clone(),
            designs: self.designs.clone(),
            seed: self.seed,
            // The branch's commands up to the cursor (later ones belong to
            // a future the page is not showing).
            commands: self
                .commands
                .iter()
                .filter(|c| (c.at, c.events) <= (self.sim.now(), self.sim.events()))
                .cloned()
                .collect(),
            upto: self.sim.now(),
            events: self.sim.events(),
            fingerprint: self.sim.fingerprint(),
            why: id,
        });
    }

    /// A request's trace: kept by the simulation, or rebuilt by a replay.
    pub fn trace_of(&self, id: RequestId) -> Option<pathlab_sim::Trace> {
        self.sim.request_trace(id).or_else(|| {
            self.why
                .as_ref()
                .filter(|a| a.request == id)
                .and_then(|a| a.trace.clone())
        })
    }

    /// Applies a command now and records it; a refused command leaves
    /// everything as it was and is reported in [`Engine::error`].
    pub fn send(&mut self, cmd: Command) -> bool {
        self.error = None;
        self.ask_core(ToCore::Apply { command: cmd })
    }

    /// Starts the same scenario again from time zero with the same seed
    /// (commands sent so far are forgotten).
    pub fn reset(&mut self) {
        self.restart_with(self.seed);
    }

    /// Starts again with another seed.
    pub fn restart_with(&mut self, seed: u64) {
        if let Err(e) = self.scenario.validate() {
            self.error = Some(e.to_string());
            return;
        }
        // A new run is not the lesson's any more.
        self.lesson = None;
        self.stop_at = None;
        self.seed = seed;
        self.layout_for = (0, 0, self.orientation);
        self.commands.clear();
        self.asking = None;
        self.why = None;
        self.request = None;
        self.picked.clear();
        self.picking = false;
        self.last_frame = None;
        self.error = None;
        self.start_run();
    }

    /// Starts again from time zero with a changed scenario (for choices that
    /// change which nodes exist, like adding a message queue).
    pub fn redesign(&mut self, change: impl FnOnce(&mut Scenario)) -> bool {
        let mut s = self.scenario.clone();
        change(&mut s);
        if let Err(e) = s.validate() {
            self.error = Some(e.to_string());
            return false;
        }
        let old = std::mem::replace(&mut self.scenario, s);
        self.restart_with(self.seed);
        if self.error.is_some() {
            self.scenario = old;
            return false;
        }
        true
    }

    /// At real time `now_ms`, renews the screen-reader summary if enough
    /// time has passed and something worth saying happened: how many
    /// faults, elections and anomalies the log gained since the last one.
    pub fn announce(&mut self, now_ms: f64) {
        let (seen, at) = self.announced;
        if now_ms - at < ANNOUNCE_EVERY_MS {
            return;
        }
        let log = self.sim.log();
        if log.len() <= seen {
            return;
        }
        let mut counts = [0usize; 3];
        for entry in &log[seen..] {
            match LogKind::of(&entry.event) {
                LogKind::Faults => counts[0] += 1,
                LogKind::Elections => counts[1] += 1,
                LogKind::Anomalies => counts[2] += 1,
                LogKind::Other => {}
            }
        }
        self.announced = (log.len(), now_ms);
        let words: Vec<String> = [
            ("fault", counts[0]),
            ("election event", counts[1]),
            ("anomaly", counts[2]),
        ]
        .into_iter()
        .filter(|&(_, n)| n > 0)
        .map(|(w, n)| match (w, n) {
            (w, 1) => format!("1 {w}"),
            ("anomaly", n) => format!("{n} anomalies"),
            (w, n) => format!("{n} {w}s"),
        })
        .collect();
        if !words.is_empty() {
            self.announcement = format!(
                "At {:.0} s: {}.",
                self.sim.now().as_secs_f64(),
                words.join(", ")
            );
        }
    }

    /// Loads another preset (keeping the seed the user chose, if any, and
    /// how the page is laid out).
    pub fn load_preset(&mut self, name: &str) {
        if let Err(e) = presets::preset(name) {
            self.error = Some(e.to_string());
            return;
        }
        let link = std::mem::replace(&mut self.link, Box::new(crate::link::NoLink));
        match Engine::with_link(name, Some(self.seed), link) {
            Ok(mut e) => {
                e.speed_idx = self.speed_idx;
                e.playing = self.playing;
                e.presenter = self.presenter;
                e.open = std::mem::take(&mut self.open);
                e.log_filter = self.log_filter;
                e.slow_factor = self.slow_factor;
                e.orientation = self.orientation;
                e.sync_layout();
                *self = e;
            }
            Err(err) => self.error = Some(err),
        }
    }

    /// Handles a click on a node: picks it for a partition while picking,
    /// otherwise opens (or closes) its panel.
    pub fn click_node(&mut self, i: usize) {
        if i >= self.names.len() {
            return;
        }
        if self.picking {
            if !self.picked.remove(&i) {
                self.picked.insert(i);
            }
        } else if self.selected == Some(i) {
            self.selected = None;
        } else {
            self.selected = Some(i);
        }
    }

    /// Cuts the picked nodes off from all the others.
    pub fn cut(&mut self) -> bool {
        if self.picked.is_empty() || self.picked.len() == self.names.len() {
            self.error = Some(
                "pick at least one node, and not all of them, to cut the network in two".into(),
            );
            return false;
        }
        let a: Vec<String> = self.picked.iter().map(|&i| self.names[i].clone()).collect();
        let b: Vec<String> = (0..self.names.len())
            .filter(|i| !self.picked.contains(i))
            .map(|i| self.names[i].clone())
            .collect();
        let ok = self.send(Command::Partition { groups: vec![a, b] });
        if ok {
            self.picked.clear();
            self.picking = false;
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pathlab_sim::SimTime;

    #[test]
    fn frames_advance_time_by_speed_and_never_while_paused() {
        let mut e = Engine::new("default", Some(1)).unwrap();
        assert!(!e.frame(0.0));
        e.toggle_play();
        e.frame(1000.0);
        e.frame(1016.0);
        assert_eq!(e.sim.now(), SimTime(16_000));
        e.change_speed(true);
        e.frame(1032.0);
        assert_eq!(e.sim.now(), SimTime(16_000 + 32_000));
        e.toggle_play();
        e.frame(2000.0);
        assert_eq!(e.sim.now(), SimTime(48_000));
    }

    #[test]
    fn a_long_pause_between_frames_does_not_jump_ahead() {
        let mut e = Engine::new("default", Some(1)).unwrap();
        e.toggle_play();
        e.frame(0.0);
        e.frame(60_000.0);
        assert_eq!(
            e.sim.now(),
            SimTime(100_000),
            "at most 100 ms of real time per frame"
        );
    }

    #[test]
    fn a_frame_out_of_time_falls_behind_and_the_next_goes_on_where_it_stopped() {
        // Every look at the core's clock finds a whole budget gone.
        let ticks = std::rc::Rc::new(std::cell::Cell::new(0.0));
        let slow = move || {
            ticks.set(ticks.get() + FRAME_BUDGET_MS);
            ticks.get()
        };
        let link = crate::live::LocalLink::with_clock(slow);
        let mut e = Engine::with_link("stress", Some(1), Box::new(link)).unwrap();
        e.toggle_play();
        e.frame(0.0);
        e.frame(100.0);
        assert!(
            e.behind,
            "1,000 events cover less than 100 ms of the stress scenario"
        );
        assert!(e.sim.now() < SimTime(100_000));
        assert_eq!(e.sim.events(), crate::live::EVENTS_PER_CHECK);
        let mut at = 100.0;
        while e.behind || e.sim.now() < SimTime(100_000) {
            at += 1.0;
            e.frame(at);
        }
        // The same events, in the same order, as one uninterrupted run.
        let mut whole = pathlab_sim::Simulation::new(&e.scenario, e.seed).unwrap();
        whole.step_until(e.sim.now());
        assert_eq!(whole.events(), e.sim.events());
        assert_eq!(whole.fingerprint(), e.sim.fingerprint());
    }

    #[test]
    fn details_the_page_no_longer_keeps_are_asked_of_the_replay_worker_and_shown_from_its_answer() {
        let mut e = Engine::new("leader-crash", Some(1)).unwrap();
        e.run_for(5.0);
        let old = e.sim.traces().next().unwrap().clone();
        e.run_for(60.0);
        assert!(e.sim.request_trace(old.id).is_none(), "gone from the page");
        assert!(e.act(Action::OpenRequest { id: Some(old.id.0) }));
        let ask = e.outbox.take().expect("a question for the worker");
        assert_eq!(
            (ask.why, ask.preset.as_str(), ask.seed),
            (old.id, "leader-crash", 1)
        );
        assert_eq!(ask.upto, e.sim.now());
        assert_eq!(e.asking, Some(old.id));
        // Pressing "Why?" meanwhile does not ask twice.
        assert!(e.act(Action::Why { id: old.id.0 }));
        assert!(e.outbox.is_none());
        // The worker's answer (here, computed in place) brings the hops back.
        let mut state = None;
        let answer = crate::replay::answer(&mut state, ask, &|_| {});
        assert!(e.act(Action::Answered { answer }));
        assert_eq!(e.trace_of(old.id), Some(old));
        assert!(e.show_why && e.asking.is_none());
        // An answer about a request no longer asked about is dropped.
        let stale = e.why.clone().unwrap();
        assert!(e.act(Action::OpenRequest { id: None }));
        e.why = None;
        assert!(e.act(Action::Answered { answer: stale }));
        assert!(e.why.is_none());
    }

    #[test]
    fn refused_commands_are_reported_and_not_recorded() {
        let mut e = Engine::new("default", Some(1)).unwrap();
        assert!(!e.send(Command::Crash {
            node: "db-9".into()
        }));
        assert!(e.error.as_deref().unwrap().contains("db-9"));
        assert!(e.commands.is_empty());
        assert!(e.send(Command::Crash {
            node: "db-0-0".into()
        }));
        assert_eq!(e.commands.len(), 1);
        assert!(e.error.is_none());
    }

    #[test]
    fn picking_nodes_then_cutting_partitions_the_network() {
        let mut e = Engine::new("default", Some(1)).unwrap();
        assert!(!e.cut(), "nothing picked");
        e.picking = true;
        let db0 = e.names.iter().position(|n| n == "db-0-0").unwrap();
        e.click_node(db0);
        assert!(e.cut());
        let snap = e.sim.snapshot();
        assert!(snap.nodes[db0].partitioned);
        assert!(!e.picking);
    }

    #[test]
    fn scaling_out_adds_a_server_to_the_drawing_and_scaling_in_hides_it() {
        let mut e = Engine::new("default", Some(1)).unwrap();
        assert!(e.send(Command::Scale { servers: 6 }));
        assert_eq!(e.names.iter().filter(|n| n.starts_with("app-")).count(), 6);
        let app6 = e.names.iter().position(|n| n == "app-6").unwrap();
        assert!(e.places[app6].x > 0.0);
        assert!(e.send(Command::Scale { servers: 3 }));
        e.run_for(1.0);
        e.sync_layout();
        assert!(e.places[app6].x < 0.0, "retired servers are not drawn");
    }

    #[test]
    fn screen_readers_hear_a_summary_at_most_every_five_seconds() {
        let mut e = Engine::new("partition-leader", Some(1)).unwrap();
        let mut changes = 0;
        let mut said = String::new();
        // 10 real seconds of frames at 60 fps, playing 5 simulated seconds
        // each real second through the partition and its heal.
        for frame in 0..600 {
            e.run_for(5.0 / 60.0);
            e.announce(frame as f64 * 1000.0 / 60.0);
            if e.announcement != said {
                said = e.announcement.clone();
                changes += 1;
            }
            if frame == 0 {
                e.run_for(19.0);
            }
        }
        assert!(changes >= 1, "something was said");
        assert!(changes <= 2, "{changes} announcements in 10 s");
        assert!(said.contains("anomal") || said.contains("fault"), "{said}");
    }

    #[test]
    fn reset_replays_the_same_seed_from_zero() {
        let mut e = Engine::new("leader-crash", Some(5)).unwrap();
        e.run_for(3.0);
        let fp = e.sim.fingerprint();
        e.send(Command::Heal);
        e.reset();
        assert_eq!(e.sim.now(), SimTime::ZERO);
        assert!(e.commands.is_empty());
        e.run_for(3.0);
        assert_eq!(e.sim.fingerprint(), fp);
    }

    #[test]
    fn settings_changed_by_a_command_show_in_the_page_and_go_with_a_reset() {
        let mut e = Engine::new("default", Some(1)).unwrap();
        e.run_for(1.0);
        assert!(e.send(Command::set_rate(600.0)));
        assert_eq!(e.sim.settings().workload.requests_per_s, 600.0);
        assert_ne!(e.scenario.workload.requests_per_s, 600.0);
        e.reset();
        assert_eq!(
            e.sim.settings().workload.requests_per_s,
            e.scenario.workload.requests_per_s
        );
    }

    #[test]
    fn steps_taken_before_the_core_answers_add_up() {
        let mut e = Engine::new("default", Some(1)).unwrap();
        for _ in 0..5 {
            e.step();
        }
        assert_eq!(e.sim.now(), SimTime(500_000));
    }

    /// The run straight from the start to `secs`, with these commands.
    fn straight(e: &Engine, commands: &[Applied], secs: f64) -> pathlab_sim::Timeline {
        pathlab_sim::Timeline::replay(&e.scenario, e.seed, commands, SimTime::from_secs_f64(secs))
            .unwrap()
    }

    fn seek(e: &mut Engine, t: f64) {
        assert!(e.act(Action::Seek {
            t,
            request: None,
            node: None,
        }));
    }

    #[test]
    fn a_lesson_step_stops_at_its_moment_reveals_and_grades_the_prediction() {
        let mut e = Engine::new("default", Some(1)).unwrap();
        assert!(e.act(Action::LessonOpen {
            id: "leader-failure".into(),
            step: 2,
        }));
        let play_to = {
            let l = e.lesson.as_ref().expect("the lesson is open");
            assert_eq!(l.state.step, 2);
            l.step().unwrap().play_to
        };
        let choices = e.lesson.as_ref().unwrap().step().unwrap().choices.len() as u32;
        assert!(choices >= 2, "step 3 asks a question");
        // The answer that turns out wrong: the first that is not right.
        assert!(e.act(Action::LessonAnswer {
            choice: Some(0),
            guess: None
        }));
        e.act(Action::Play);
        let mut t = 0.0;
        while e.lesson.as_ref().unwrap().state.revealed.is_none() && t < 600_000.0 {
            t += 100.0;
            e.frame(t);
        }
        let l = e.lesson.as_ref().unwrap();
        let revealed = l.state.revealed.as_ref().expect("the reveal came");
        assert!(!e.playing, "play stopped at the step's end");
        assert_eq!(e.sim.now(), play_to, "exactly at the step's moment");
        assert!(revealed.right_choice.is_some());
        assert!(revealed.text.contains("lost"), "{}", revealed.text);
        assert_eq!(l.choice, Some(0), "the answer stays to be graded");
        // Next goes on from here; back plays the lesson again to step 2.
        assert!(e.act(Action::LessonNext));
        assert_eq!(e.lesson.as_ref().unwrap().state.step, 3);
        assert_eq!(
            e.sim.now(),
            play_to,
            "the next step starts where this ended"
        );
        assert!(e.act(Action::LessonBack));
        assert_eq!(e.lesson.as_ref().unwrap().state.step, 2);
        assert_eq!(e.progress_of("leader-failure"), Some(3));
        // A new seed is not the lesson's run any more.
        assert!(e.act(Action::Seed { seed: 9 }));
        assert!(e.lesson.is_none());
    }

    #[test]
    fn going_back_past_a_crash_and_forward_again_shows_the_straight_runs_state() {
        let mut e = Engine::new("leader-crash", Some(2)).unwrap();
        e.run_for(50.0);
        let (fp50, log50) = (e.sim.fingerprint(), e.sim.log().to_vec());
        assert!(
            log50
                .iter()
                .any(|l| matches!(l.event, pathlab_sim::LogEvent::Crashed(_))),
            "the crash at 20 s is in the log"
        );
        seek(&mut e, 10.0);
        let at10 = straight(&e, &[], 10.0);
        let s = at10.sim();
        assert_eq!(e.sim.now(), SimTime::from_secs_f64(10.0));
        assert!(e.sim.in_past());
        assert_eq!(e.sim.end(), SimTime::from_secs_f64(50.0));
        assert_eq!(e.sim.fingerprint(), s.fingerprint());
        assert_eq!(e.sim.log(), s.log(), "the log shows the moment");
        assert_eq!(e.sim.metrics().totals, &s.metrics().totals);
        assert_eq!(e.sim.metrics().series, s.metrics().series.as_slice());
        assert_eq!(
            *e.sim.snapshot(),
            s.snapshot(crate::particles::MAX_PARTICLES),
            "the diagram shows the moment"
        );
        assert_eq!(
            e.sim.whole_log(),
            log50.as_slice(),
            "the run so far is kept"
        );
        // Forward again, to the end: as before.
        assert!(e.act(Action::ToEnd));
        assert_eq!(e.sim.fingerprint(), fp50);
        assert_eq!(e.sim.log(), log50.as_slice());
        // Steps back: each the straight run's state.
        for _ in 0..3 {
            assert!(e.act(Action::StepBack));
        }
        let at497 = straight(&e, &[], 49.7);
        assert_eq!(e.sim.now(), SimTime::from_secs_f64(49.7));
        assert_eq!(e.sim.fingerprint(), at497.sim().fingerprint());
        // A bad moment is refused.
        assert!(!e.act(Action::Seek {
            t: f64::NAN,
            request: None,
            node: None
        }));
        assert_eq!(e.sim.now(), SimTime::from_secs_f64(49.7));
    }

    #[test]
    fn restarting_a_node_earlier_forks_a_branch_and_switching_back_restores_the_old_one() {
        let mut e = Engine::new("leader-crash", Some(2)).unwrap();
        e.run_for(50.0);
        let (old_fp, old_log) = (e.sim.fingerprint(), e.sim.log().to_vec());
        seek(&mut e, 25.0);
        assert!(e.send(Command::Restart {
            node: "db-0-0".into()
        }));
        assert_eq!(e.sim.branches().len(), 2, "the old future is kept");
        assert_eq!(
            e.sim.end(),
            SimTime::from_secs_f64(25.0),
            "the new branch ends here"
        );
        assert_eq!(e.commands.len(), 1);
        e.run_for(25.0);
        let new_fp = e.sim.fingerprint();
        assert_ne!(new_fp, old_fp, "a different future");
        // The page's picture of the new branch is the straight run's.
        let again = straight(&e, &e.commands.clone(), 50.0);
        assert_eq!(new_fp, again.sim().fingerprint());
        assert_eq!(
            e.sim.whole_log(),
            again.sim().log(),
            "nothing of the old future is left"
        );
        assert_eq!(
            e.sim.metrics().series,
            again.sim().metrics().series.as_slice()
        );
        // Back to the old branch, at the same moment.
        let old = e.sim.branches()[1].clone();
        assert_eq!(old.fingerprint, old_fp);
        assert!(e.act(Action::Switch { branch: old.id }));
        assert_eq!(e.sim.fingerprint(), old_fp);
        assert_eq!(e.sim.log(), old_log.as_slice());
        assert!(e.commands.is_empty());
        assert!(!e.act(Action::Switch { branch: 99 }), "no such branch");
    }

    #[test]
    fn a_link_opens_the_same_run_at_the_same_moment_and_a_bad_one_says_why() {
        let mut e = Engine::new("leader-crash", Some(6)).unwrap();
        assert!(e.act(Action::Redesign(crate::action::Redesign::DnsTtl(30.0))));
        e.run_for(22.0);
        assert!(e.send(Command::Restart {
            node: "db-0-0".into()
        }));
        e.run_for(5.0);
        seek(&mut e, 24.5);
        assert!(e.act(Action::Speed { x: 5.0 }));
        e.frame(0.0);
        assert!(e.address.is_none(), "not while the user is acting");
        e.frame(LINK_QUIET_MS);
        let fragment = e.address.take().expect("the run's link");
        let mut other = Engine::new("default", Some(1)).unwrap();
        other.open_link(&fragment);
        assert_eq!(other.error, None);
        assert_eq!(other.preset, "leader-crash");
        assert_eq!(other.seed, 6);
        assert_eq!(other.designs, e.designs);
        assert_eq!(other.speed(), 5.0);
        assert!(!other.playing, "a link opens paused unless it says play");
        assert_eq!(other.sim.now(), e.sim.now());
        assert_eq!(other.sim.fingerprint(), e.sim.fingerprint());
        assert_eq!(other.commands, e.commands);
        // A garbled link: the preset's run from its start, and why.
        let mut third = Engine::new("partition-leader", Some(2)).unwrap();
        third.open_link("not-a-link!");
        let why = third.error.clone().unwrap_or_default();
        assert!(why.contains("this link cannot be opened"), "{why}");
        assert_eq!(third.preset, "partition-leader");
        assert_eq!(third.sim.now(), SimTime::ZERO);
        assert!(third.sim.started());
    }

    #[test]
    fn a_range_keeps_play_within_its_window_looping() {
        let mut e = Engine::new("leader-crash", Some(1)).unwrap();
        let (from, to) = (SimTime::from_secs_f64(20.0), SimTime::from_secs_f64(21.0));
        e.keep_to(from, to);
        assert_eq!(e.sim.now(), from, "it starts at the window's start");
        assert!(e.act(Action::Speed { x: 10.0 }));
        e.toggle_play();
        let (mut seen_end, mut rounds, mut before) = (false, 0, from);
        let mut ms = 0.0;
        for _ in 0..40 {
            ms += 16.0;
            e.frame(ms);
            assert!(e.sim.now() >= from && e.sim.now() <= to, "{}", e.sim.now());
            seen_end |= e.sim.now() == to;
            rounds += usize::from(e.sim.now() < before);
            before = e.sim.now();
        }
        assert!(seen_end, "it reached the end");
        assert!(rounds >= 2, "and went round again: {rounds} times");
    }
}
