//! The page's conversation with the core: what the page asks of the live run (start, play to a time, apply a command) and the frames the core answers with, as plain data that crosses to the core's Web Worker and back.

use crate::action::Redesign;
use pathlab_sim::{
    Applied, Branch, Command, LogEntry, MovedKeys, Point, RequestId, SimTime, Snapshot, Totals,
    Trace,
};
use serde::{Deserialize, Serialize};

/// Name of the core worker's loader script in `dist/` (built by Trunk from
/// the `pathlab-core` binary).
pub const WORKER_SCRIPT: &str = "./pathlab-core_loader.js";

/// What the page asks of the live run. Every message is answered, in
/// order, with one [`FromCore`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "kebab-case")]
pub enum ToCore {
    /// Start a run of a preset with design changes and a seed (the old run
    /// is dropped).
    Start {
        preset: String,
        designs: Vec<Redesign>,
        seed: u64,
    },
    /// Play on towards `to`, for at most `budget_ms` of real time (the
    /// frame says whether it got there). Without `nodes`, the frame's
    /// snapshot holds only the messages in flight (the nodes' views cost
    /// more to make than the page needs every frame).
    Play {
        to: SimTime,
        budget_ms: f64,
        nodes: bool,
    },
    /// Play on to exactly `to`, however long it takes.
    Step { to: SimTime },
    /// Apply a command now.
    Apply { command: Command },
    /// Keep the page told of this request while it is in flight (its hops
    /// so far), or of none.
    Watch { request: Option<RequestId> },
    /// Go to simulated time `to` (at most the run's end so far): back by
    /// restoring a checkpoint and replaying, forward by replaying.
    Seek { to: SimTime },
    /// Make another branch current (at the same time, or its end).
    Switch { branch: u32 },
    /// Send the run as it is, nodes and all (after frames that had only the
    /// messages in flight).
    Show,
    /// Make the run file of the run as it is (scenario, seed, the branch's
    /// commands up to the cursor, the cursor).
    SaveRun,
    /// Make a CSV file of the per-second metrics up to the cursor.
    SaveMetrics,
    /// Make the link of the run as it is, with the page's part of it.
    MakeLink {
        preset: String,
        designs: Vec<Redesign>,
        speed: f64,
        play: bool,
        present: bool,
    },
    /// Open a link (the text after `#run=`): its run replaces this one.
    OpenLink { fragment: String },
    /// Open a run file (its text): its run replaces this one. A file that
    /// cannot be opened is refused and the run stays as it was.
    OpenRunFile { text: String },
    /// Make the read/write history (JSON lines) of the run up to the
    /// cursor, as `pathlab-sim history` writes it.
    SaveHistory,
    /// Read a host page's message (its JSON text): the page does what it
    /// asks, or answers what is wrong with it.
    HostMessage { text: String },
    /// List the lessons.
    LessonIndex,
    /// Open lesson `id` at step `step` (from 0): its run, played to where
    /// the step starts, replaces this one.
    OpenLesson { id: String, step: u32 },
    /// Go on to the lesson's next step: from where this one ended when the
    /// run stands there, else by playing the lesson again to it.
    LessonNext,
    /// Reveal the lesson's step: its figures from the run as it is.
    LessonReveal,
    /// Compare the live run (A) with run B, played beside it in lock-step
    /// from now on; or, without `against`, stop comparing.
    Compare { against: Option<Against> },
    /// Name the variants of a sweep: `vary` holds one or two
    /// `FIELD=V1,V2,…` over the scenario of `preset` with `designs`.
    SweepPlan {
        preset: String,
        designs: Vec<Redesign>,
        vary: Vec<String>,
    },
    /// Run one variant of a sweep headless (sweep workers get these).
    SweepRun(SweepJob),
    /// Open one variant's run as the live run; a design the page cannot
    /// build as its own run is shown beside the live one (a compare)
    /// instead.
    SweepOpen(SweepJob),
}

/// One run of a sweep: variant `variant` of the sweep of `vary` over the
/// scenario of `preset` with `designs`, with `seed`, for `secs` simulated
/// seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepJob {
    pub preset: String,
    pub designs: Vec<Redesign>,
    pub vary: Vec<String>,
    pub variant: u32,
    pub seed: u64,
    pub secs: f64,
}

/// One run of a sweep, as a sweep worker answers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SweepAnswer {
    pub variant: u32,
    pub seed: u64,
    /// The figures of [`pathlab_sim::sweep::FIGURES`], in order.
    pub figures: Vec<f64>,
    /// Theory's prediction of each figure, where it has one.
    pub theory: Vec<Option<f64>>,
    pub fingerprint: String,
}

/// What run B of a compare is: A's scenario with fields changed, or
/// another preset with design changes; meeting the commands applied to A,
/// or its own (another branch of A's timeline). Either way it has A's
/// seed, so it meets the same traffic.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Against {
    /// Scenario fields changed from A's, each as `FIELD=VALUE` with the
    /// field by its path (`db.replication=sync`, `lb.strategy=least-connections`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<String>,
    /// Another preset to start from instead of A's scenario…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// …with these design changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub designs: Vec<Redesign>,
    /// Its own commands (a branch of A's timeline) instead of A's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commands: Option<Vec<Applied>>,
    /// Its name, when the page gives it one ("branch 2").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Run B of a compare at the live run's moment, as the page shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Versus {
    /// What B is.
    pub against: Against,
    /// B in a few words (`db.replication sync`, `preset partition-leader`).
    pub name: String,
    /// Which way the trade-off went, in one line.
    pub trade_off: String,
    /// A's and B's figures, one pair per row of
    /// [`pathlab_sim::compare::ROWS`].
    pub rows: Vec<(f64, f64)>,
    /// B's world (without nodes when `flights_only`, like the frame's).
    pub snapshot: Snapshot,
    pub flights_only: bool,
    /// B's last seconds of the series (for the charts, overlaid on A's).
    pub series: Vec<Point>,
    pub fingerprint: u64,
    /// Commands of A's that B could not take when it was built.
    pub skipped: u32,
}

/// What the core answers (sent in the binary form of [`crate::wire`]).
#[derive(Clone, Debug, PartialEq)]
pub enum FromCore {
    /// The run as it is now (after doing what was asked).
    Frame(Box<Frame>),
    /// What was asked was refused (the run is as it was); why, in words.
    Refused { error: String },
    /// A file to save: its name and text.
    File { name: String, text: String },
    /// The link of the run as it is (the text after `#run=`).
    Link { fragment: String },
    /// A link was opened: its run is the live one now, at its moment.
    Opened(Box<Opened>),
    /// A host page's message, read (see [`crate::host`]).
    Host(Box<HostAnswer>),
    /// The lessons, in order.
    LessonIndex(Vec<crate::lessons::Card>),
    /// The lesson under way: a new run (when it was opened or played
    /// again), or the run as it is now, and the lesson's state.
    Lesson(Box<LessonAnswer>),
    /// A sweep's variants, named (`cache.capacity=100`), in order.
    SweepPlan(Vec<String>),
    /// One run of a sweep.
    SweepRun(Box<SweepAnswer>),
}

/// The answer about a lesson.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LessonAnswer {
    /// The lesson's run, when it replaced the one before.
    pub opened: Option<Opened>,
    /// The run as it is now, when it went on in place.
    pub frame: Option<Frame>,
    pub state: crate::lessons::LessonState,
}

/// A host page's message as the core read it: its `type`, if it had one,
/// and the action it asks for or what is wrong with it.
#[derive(Clone, Debug, PartialEq)]
pub struct HostAnswer {
    pub kind: Option<String>,
    pub action: Result<crate::action::Action, String>,
}

/// What the page takes from an opened link or run file, and the run's
/// first frame.
#[derive(Clone, Debug, PartialEq)]
pub struct Opened {
    /// The preset it started from.
    pub preset: String,
    /// Its design changes.
    pub designs: Vec<Redesign>,
    /// Its seed.
    pub seed: u64,
    /// Whether it says how to show it (a link does; a run file leaves the
    /// page's view as it is, paused).
    pub view: bool,
    /// Playback speed, whether to play, presenter mode.
    pub speed: f64,
    pub play: bool,
    pub present: bool,
    /// The run at the link's moment.
    pub frame: Frame,
}

/// The live run at one moment, as the page needs it: the picture of the
/// world, and what was added since the previous frame (log lines, seconds
/// of the series, finished requests).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Frame {
    /// Counts every run started, so the page can drop frames of an old run.
    pub run: u32,
    /// Simulated time.
    pub now: SimTime,
    /// Events processed so far.
    pub events: u64,
    /// The state's fingerprint.
    pub fingerprint: u64,
    /// The seed of the run.
    pub seed: u64,
    /// Whether a `Play` ran out of real time before reaching its target.
    pub behind: bool,
    /// How far the current branch has been played (`now` is earlier after
    /// going back).
    pub end: SimTime,
    /// When set, the page drops the log lines, seconds and finished
    /// requests it holds from this time on before taking this frame's: a
    /// new branch parts there.
    pub cut: Option<SimTime>,
    /// The world, with the messages in flight (at most the page's limit).
    pub snapshot: Snapshot,
    /// Whether `snapshot` lacks the nodes, cut links and shared addresses
    /// (the page keeps those of the last frame that had them).
    pub flights_only: bool,
    /// How many log lines the run has at `now` (lines let go count): the
    /// page shows those.
    pub log_len: u64,
    /// Index of the first of `log` in the whole log (lines let go count).
    pub log_from: u64,
    /// Log lines added since the previous frame.
    pub log: Vec<LogEntry>,
    /// Seconds of the series closed since the previous frame.
    pub series: Vec<Point>,
    /// Totals over the run.
    pub totals: Totals,
    /// Requests finished since the previous frame (the newest, at most
    /// [`TRACES_PER_FRAME`]).
    pub traces: Vec<Trace>,
    /// Whether requests finished between the previous frame's and these
    /// were left out (older ones are then dropped: the page keeps no gaps).
    pub traces_gap: bool,
    /// The watched request's hops so far, while it is in flight.
    pub watched: Option<Trace>,
    /// How many traces the run keeps.
    pub trace_capacity: u32,
    /// Index of the first of `edits` among all the commands that changed
    /// the settings in this run.
    pub edits_from: u32,
    /// Commands that changed the settings since the previous frame (all of
    /// them from `edits_from`): the page applies them to the scenario.
    pub edits: Vec<Command>,
    /// Figures derived from the design, when it changed (or the run is new).
    pub summaries: Option<Summaries>,
    /// The branches, current first, when they changed.
    pub branches: Option<Vec<Branch>>,
    /// The command applied, in its exact place, when this answers `Apply`.
    pub applied: Option<Applied>,
    /// Acknowledged writes lost so far.
    pub lost_writes: u64,
    /// App servers in service.
    pub active_app_servers: usize,
    /// Requests in flight.
    pub in_flight: usize,
    /// Jobs waiting or in progress, with a queue.
    pub queue_backlog: Option<usize>,
    /// Bytes the core's worker holds on its heap: the live run, its
    /// checkpoints and all else (0 where the program does not count them).
    pub memory: u64,
    /// Run B, while comparing.
    pub versus: Option<Box<Versus>>,
}

/// Figures derived from the whole design.
#[derive(Clone, Debug, PartialEq)]
pub struct Summaries {
    /// How many users would move if a server joined or left, in words.
    pub moves: Option<String>,
    /// How many keys an added shard would move.
    pub shard_moves: MovedKeys,
}

/// Most finished requests one frame carries: at high speed thousands end
/// per frame, and only the newest are drawn or listed.
pub const TRACES_PER_FRAME: usize = 400;

/// A way to the core: messages go in order, answers come back in order.
pub trait Link: std::fmt::Debug {
    /// Sends a message.
    fn send(&mut self, msg: &ToCore);
    /// The answers received since the last call, in order.
    fn receive(&mut self) -> Vec<FromCore>;
    /// How many messages sent are not answered yet.
    fn waiting(&self) -> usize;
    /// Why the core cannot be reached, if it cannot.
    fn failure(&self) -> Option<String> {
        None
    }
}

/// Makes the link an engine talks through (the page's is the worker; tests
/// give one to a core in the same thread).
#[derive(Clone)]
pub struct LinkMaker(pub std::rc::Rc<dyn Fn() -> Box<dyn Link>>);

impl PartialEq for LinkMaker {
    fn eq(&self, other: &Self) -> bool {
        std::rc::Rc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for LinkMaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkMaker")
    }
}

/// A link that reaches nothing (a placeholder while an engine is rebuilt).
#[derive(Debug, Default)]
pub struct NoLink;

impl Link for NoLink {
    fn send(&mut self, _: &ToCore) {}
    fn receive(&mut self) -> Vec<FromCore> {
        Vec::new()
    }
    fn waiting(&self) -> usize {
        0
    }
}

/// The page's link: the core in a Web Worker, messages as JSON text.
#[cfg(target_arch = "wasm32")]
pub struct WorkerLink {
    worker: Option<web_sys::Worker>,
    inbox: std::rc::Rc<std::cell::RefCell<Vec<FromCore>>>,
    /// Messages sent before the worker listens (then None).
    queued: std::rc::Rc<std::cell::RefCell<Option<Vec<String>>>>,
    sent: usize,
    answered: std::rc::Rc<std::cell::Cell<usize>>,
    failed: std::rc::Rc<std::cell::RefCell<Option<String>>>,
    _on_message: wasm_bindgen::prelude::Closure<dyn Fn(web_sys::MessageEvent)>,
    _on_error: wasm_bindgen::prelude::Closure<dyn Fn(web_sys::Event)>,
}

#[cfg(target_arch = "wasm32")]
impl std::fmt::Debug for WorkerLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WorkerLink")
    }
}

/// What the worker says once it listens.
pub const READY: &str = "ready";

#[cfg(target_arch = "wasm32")]
impl WorkerLink {
    /// Starts the core's worker.
    pub fn start() -> WorkerLink {
        use std::cell::{Cell, RefCell};
        use std::rc::Rc;
        use wasm_bindgen::JsCast;
        use wasm_bindgen::prelude::Closure;
        let failed = Rc::new(RefCell::new(None::<String>));
        // The worker `start-core.js` started while the page loaded, and what
        // it said meanwhile; or a new one.
        let (early_worker, early) = adopt_early_worker();
        let worker = early_worker.or_else(|| web_sys::Worker::new(WORKER_SCRIPT).ok());
        if worker.is_none() {
            *failed.borrow_mut() = Some("the simulation core could not be started".into());
        }
        let inbox = Rc::new(RefCell::new(Vec::new()));
        let queued = Rc::new(RefCell::new(Some(Vec::<String>::new())));
        let answered = Rc::new(Cell::new(0));
        let (inbox2, queued2, answered2, failed2, port) = (
            inbox.clone(),
            queued.clone(),
            answered.clone(),
            failed.clone(),
            worker.clone(),
        );
        let on_message =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |m: web_sys::MessageEvent| {
                let data = m.data();
                if data.as_string().as_deref() == Some(READY) {
                    for t in queued2.borrow_mut().take().unwrap_or_default() {
                        if let Some(port) = &port {
                            let _ = port.post_message(&t.into());
                        }
                    }
                    return;
                }
                let Ok(bytes) = data.dyn_into::<web_sys::js_sys::Uint8Array>() else {
                    return;
                };
                answered2.set(answered2.get() + 1);
                match crate::wire::decode::<FromCore>(&bytes.to_vec()) {
                    Some(a) => inbox2.borrow_mut().push(a),
                    None => {
                        *failed2.borrow_mut() =
                            Some("the simulation core answered something unreadable".into())
                    }
                }
            });
        let failed3 = failed.clone();
        let on_error = Closure::<dyn Fn(web_sys::Event)>::new(move |e: web_sys::Event| {
            e.prevent_default();
            let why = e
                .dyn_ref::<web_sys::ErrorEvent>()
                .map(|e| e.message())
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| "it could not be loaded".into());
            *failed3.borrow_mut() = Some(format!("the simulation core stopped: {why}"));
        });
        if let Some(w) = &worker {
            w.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            w.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        }
        for said in early {
            match said.dyn_into::<web_sys::MessageEvent>() {
                Ok(m) => on_message
                    .as_ref()
                    .unchecked_ref::<web_sys::js_sys::Function>()
                    .call1(&wasm_bindgen::JsValue::NULL, &m)
                    .map(|_| ())
                    .unwrap_or(()),
                Err(e) => on_error
                    .as_ref()
                    .unchecked_ref::<web_sys::js_sys::Function>()
                    .call1(&wasm_bindgen::JsValue::NULL, &e)
                    .map(|_| ())
                    .unwrap_or(()),
            }
        }
        WorkerLink {
            worker,
            inbox,
            queued,
            sent: 0,
            answered,
            failed,
            _on_message: on_message,
            _on_error: on_error,
        }
    }
}

/// A link let go ends its worker (a sweep's workers end with the sweep).
#[cfg(target_arch = "wasm32")]
impl Drop for WorkerLink {
    fn drop(&mut self) {
        if let Some(w) = &self.worker {
            w.terminate();
        }
    }
}

#[cfg(target_arch = "wasm32")]
impl Link for WorkerLink {
    fn send(&mut self, msg: &ToCore) {
        // Serialising plain data cannot fail.
        let text = serde_json::to_string(msg).unwrap_or_default();
        self.sent += 1;
        if let Some(q) = self.queued.borrow_mut().as_mut() {
            q.push(text);
            return;
        }
        if self
            .worker
            .as_ref()
            .is_none_or(|w| w.post_message(&text.into()).is_err())
        {
            *self.failed.borrow_mut() =
                Some("a message could not reach the simulation core".into());
        }
    }

    fn receive(&mut self) -> Vec<FromCore> {
        std::mem::take(&mut *self.inbox.borrow_mut())
    }

    fn waiting(&self) -> usize {
        self.sent.saturating_sub(self.answered.get())
    }

    fn failure(&self) -> Option<String> {
        self.failed.borrow().clone()
    }
}

/// The core's worker that `start-core.js` started as the page began to
/// load (taken, so that it serves one page), and the events it sent before
/// the page listened.
#[cfg(target_arch = "wasm32")]
fn adopt_early_worker() -> (Option<web_sys::Worker>, Vec<wasm_bindgen::JsValue>) {
    use wasm_bindgen::JsCast;
    use web_sys::js_sys::{Array, Reflect};
    let window = gloo::utils::window();
    let key = wasm_bindgen::JsValue::from_str("pathlabCore");
    let Ok(started) = Reflect::get(&window, &key) else {
        return (None, Vec::new());
    };
    if started.is_undefined() || started.is_null() {
        return (None, Vec::new());
    }
    let _ = Reflect::delete_property(&window, &key);
    let worker = Reflect::get(&started, &"worker".into())
        .ok()
        .and_then(|w| w.dyn_into::<web_sys::Worker>().ok());
    let early = Reflect::get(&started, &"early".into())
        .ok()
        .and_then(|a| a.dyn_into::<Array>().ok())
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    (worker, early)
}
