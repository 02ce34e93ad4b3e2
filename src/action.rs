//! Every user action as plain data: one `Action` enum applied by `Engine::act`, the timed action log that links, embeds and lessons record and replay, and the one pure function that maps keys to actions.

use pathlab_sim::rng::ServiceTime;
use pathlab_sim::scenario::{MixSpec, Partitioning, ReadFrom, Replication};
use pathlab_sim::{Command, LogEvent, Scenario};
use serde::{Deserialize, Serialize};

/// One thing a user (or a script, a lesson, a link) does. Serialised with
/// its kind under `act`, so that `{"act":"command","do":"crash","node":"db-0-0"}`
/// crashes a node: new kinds can be added without changing old ones.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "act", rename_all = "kebab-case")]
pub enum Action {
    /// Start time.
    Play,
    /// Stop time.
    Pause,
    /// Start or stop time.
    TogglePlay,
    /// Play at `x` times real time (the nearest offered speed at or above).
    Speed { x: f64 },
    /// One offered speed faster.
    Faster,
    /// One offered speed slower.
    Slower,
    /// Advance simulated time by one step (0.1 s).
    Step,
    /// Go back one step (0.1 s).
    StepBack,
    /// Go to a moment, `t` simulated seconds from the run's start: within
    /// the run so far by replaying from a checkpoint (a command taken there
    /// starts a new branch), beyond it by playing on; and there open a
    /// request or select a node.
    Seek {
        t: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<String>,
    },
    /// Go to the previous or next marker of the timeline.
    Marker { next: bool },
    /// Go to the end of the run so far.
    ToEnd,
    /// Make another branch of the run current.
    Switch { branch: u32 },
    /// Save the run as a file (scenario, seed, commands, how far it got).
    SaveRun,
    /// Save the per-second metrics as CSV.
    SaveMetrics,
    /// Save the read/write history up to this moment as JSON lines (what
    /// `pathlab-sim history` writes), for outside consistency checkers.
    SaveHistory,
    /// Save the diagram as it is now: SVG, or PNG when `png`.
    SaveDiagram {
        #[serde(default)]
        png: bool,
    },
    /// Record a clip of the diagram playing, `secs` long (WebM).
    RecordClip { secs: f64 },
    /// Open a run file (its text) in place of this run; one that cannot be
    /// opened is refused, naming why, and this run stays.
    OpenRunFile { text: String },
    /// Open a link (an address holding `#run=…`, or just the text after
    /// it) in place of this run.
    OpenLink { link: String },
    /// Copy the link to this run, at this moment, to the clipboard.
    CopyLink,
    /// Start the same scenario again from time zero with the same seed.
    Reset,
    /// Start again with another seed.
    Seed { seed: u64 },
    /// Load a named scenario.
    Preset { name: String },
    /// Change the simulated world now (crash, partition, a setting, …).
    Command(Command),
    /// Change a scenario field that decides how the world is built, and
    /// start again.
    Redesign(Redesign),
    /// Open a node's panel (or close it: no node).
    Select { node: Option<String> },
    /// A click on a node: picks it for a partition while picking, else
    /// opens or closes its panel.
    ClickNode { node: String },
    /// A click on the diagram's background at (x, y) in diagram units:
    /// opens the request drawn there, if any, else closes the node panel.
    ClickAt { x: f64, y: f64 },
    /// Turn presenter mode on or off.
    TogglePresenter,
    /// Open a request's details (or close them).
    OpenRequest { id: Option<u64> },
    /// Start or stop picking the nodes of one side of a partition.
    Picking { on: bool },
    /// Cut the picked nodes off from all the others.
    Cut,
    /// Open or close a panel.
    Panel { panel: Panel, open: bool },
    /// Close every dialog and selection (the Escape key).
    CloseAll,
    /// Dismiss the notice.
    Dismiss,
    /// Show only log lines of one kind (or all).
    LogFilter { kind: Option<LogKind> },
    /// Open or fold a group of repeated log lines (by its first line's
    /// place in the whole run's log, which stays put when the log lets its
    /// oldest lines go).
    LogGroup { first: usize, open: bool },
    /// A choice made in a control before its button is pressed.
    Choose(Choice),
    /// Input a control could not turn into an action: shown as a notice.
    Invalid { why: String },
    /// The page became narrow (the diagram's path runs down) or wide.
    Viewport { narrow: bool },
    /// Open or close the lesson index.
    LessonIndex { open: bool },
    /// Open a lesson at a step (from 0): its run replaces this one.
    LessonOpen { id: String, step: u32 },
    /// The lesson's next step (the key n).
    LessonNext,
    /// The lesson's step before (the key p).
    LessonBack,
    /// This step again from its start.
    LessonRestart,
    /// The student's answer to the step's question: a choice (from 0) or a
    /// number.
    LessonAnswer {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        choice: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        guess: Option<f64>,
    },
    /// Do what the step asks of the student, for them.
    LessonDo,
    /// Leave the lesson (the run stays, for free play).
    LessonClose,
    /// Ask why a request went wrong (the replay worker answers).
    Why { id: u64 },
    /// The replay worker's answer.
    Answered { answer: crate::replay::Answer },
    /// Compare the run (A) with run B side by side, in lock-step; or,
    /// without `with`, stop comparing.
    Compare {
        #[serde(default)]
        with: Option<crate::link::Against>,
    },
    /// Open or close the "Compare with…" chooser.
    CompareDialog { open: bool },
    /// Open or close the sweep panel.
    SweepPanel { open: bool },
    /// Run a sweep of the design on screen: one or two `FIELD=V1,V2,…`,
    /// seeds 1 to `seeds`, `secs` simulated seconds each, in workers.
    SweepStart {
        vary: Vec<String>,
        seeds: u32,
        secs: f64,
    },
    /// Stop the sweep under way (its workers end), keeping what came in.
    SweepStop,
    /// Pick a variant on the sweep's chart (or none).
    SweepPick { variant: Option<u32> },
    /// Open a variant's run (seed 1) in place of the run on screen.
    SweepOpen { variant: u32 },
    /// Compare the run on screen with a variant's design.
    SweepCompare { variant: u32 },
    /// Choose the chart's axes: a figure by its path (`latency_ms.p99`),
    /// or `setting` for the varied setting's value on x.
    SweepAxes { x: String, y: String },
    /// Save the sweep's table as CSV.
    SweepCsv,
    /// Edit the sweep's form: `field` is `vary`, `vary2`, `seeds` or
    /// `secs`.
    SweepEdit { field: String, text: String },
}

/// A change to how the world is built (it starts a new run): one scenario
/// field and its new value, serialised as `{"field":"db.replication","value":"quorum"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "field", content = "value")]
pub enum Redesign {
    /// `db.replication`
    #[serde(rename = "db.replication")]
    Replication(Replication),
    /// `db.quorum_r`
    #[serde(rename = "db.quorum_r")]
    QuorumR(u32),
    /// `db.quorum_w`
    #[serde(rename = "db.quorum_w")]
    QuorumW(u32),
    /// `db.read_repair`
    #[serde(rename = "db.read_repair")]
    ReadRepair(bool),
    /// `db.shards` (and the range bounds cleared)
    #[serde(rename = "db.shards")]
    Shards(u32),
    /// `db.partitioning`
    #[serde(rename = "db.partitioning")]
    Partitioning(Partitioning),
    /// `db.range_bounds`
    #[serde(rename = "db.range_bounds")]
    RangeBounds(Vec<u32>),
    /// `db.placement`
    #[serde(rename = "db.placement")]
    Placement(Vec<String>),
    /// `queue.enabled`
    #[serde(rename = "queue.enabled")]
    Queue(bool),
    /// `queue.workers`
    #[serde(rename = "queue.workers")]
    QueueWorkers(u32),
    /// `queue.enqueue_timeout_ms`
    #[serde(rename = "queue.enqueue_timeout_ms")]
    EnqueueTimeout(f64),
    /// `queue.visibility_timeout_ms`
    #[serde(rename = "queue.visibility_timeout_ms")]
    VisibilityTimeout(f64),
    /// `queue.task_ms`
    #[serde(rename = "queue.task_ms")]
    TaskMs([f64; 3]),
    /// `cache.flush_interval_ms`
    #[serde(rename = "cache.flush_interval_ms")]
    FlushInterval(f64),
    /// `app.regions`
    #[serde(rename = "app.regions")]
    Sites(Vec<String>),
    /// `app.weights`
    #[serde(rename = "app.weights")]
    Weights(Vec<f64>),
    /// `lb.path_static_servers`
    #[serde(rename = "lb.path_static_servers")]
    PathStatic(u32),
    /// `dns.ttl_s`
    #[serde(rename = "dns.ttl_s")]
    DnsTtl(f64),
    /// Each region's `traffic_share` in `network.regions`, in order.
    #[serde(rename = "network.traffic_share")]
    TrafficShares(Vec<f64>),
    /// `cache.enabled`
    #[serde(rename = "cache.enabled")]
    CacheOn(bool),
    /// `cache.capacity`
    #[serde(rename = "cache.capacity")]
    CacheCapacity(u32),
    /// `app.workers`
    #[serde(rename = "app.workers")]
    Workers(u32),
    /// `app.service`
    #[serde(rename = "app.service")]
    Service(ServiceTime),
    /// `app.clock_skew_ms`
    #[serde(rename = "app.clock_skew_ms")]
    ClockSkew(Vec<f64>),
    /// `workload.sessions_per_region`
    #[serde(rename = "workload.sessions_per_region")]
    Sessions(u32),
    /// `workload.mix`
    #[serde(rename = "workload.mix")]
    Mix(MixSpec),
    /// `db.ship_on_heartbeat`
    #[serde(rename = "db.ship_on_heartbeat")]
    ShipOnHeartbeat(bool),
    /// `db.read_from`
    #[serde(rename = "db.read_from")]
    ReadFrom(ReadFrom),
}

impl Redesign {
    /// The design changes that turn scenario `from` into `to`, in an order
    /// that applies (the shard count before its range bounds). Only the
    /// fields a design change can set are looked at: the caller checks the
    /// result against `to`.
    pub fn between(from: &Scenario, to: &Scenario) -> Vec<Redesign> {
        let (db, queue) = (&to.db, &to.queue);
        let candidates = [
            Redesign::Replication(db.replication),
            Redesign::QuorumR(db.quorum_r),
            Redesign::QuorumW(db.quorum_w),
            Redesign::ReadRepair(db.read_repair),
            Redesign::Shards(db.shards),
            Redesign::Partitioning(db.partitioning),
            Redesign::RangeBounds(db.range_bounds.clone()),
            Redesign::Placement(db.placement.clone()),
            Redesign::Queue(queue.enabled),
            Redesign::QueueWorkers(queue.workers),
            Redesign::EnqueueTimeout(queue.enqueue_timeout_ms),
            Redesign::VisibilityTimeout(queue.visibility_timeout_ms),
            Redesign::TaskMs(queue.task_ms),
            Redesign::FlushInterval(to.cache.flush_interval_ms),
            Redesign::Sites(to.app.regions.clone()),
            Redesign::Weights(to.app.weights.clone()),
            Redesign::PathStatic(to.lb.path_static_servers),
            Redesign::DnsTtl(to.dns.ttl_s),
            Redesign::TrafficShares(to.network.regions.iter().map(|r| r.traffic_share).collect()),
            Redesign::CacheOn(to.cache.enabled),
            Redesign::CacheCapacity(to.cache.capacity),
            Redesign::Workers(to.app.workers),
            Redesign::Service(to.app.service.clone()),
            Redesign::ClockSkew(to.app.clock_skew_ms.clone()),
            Redesign::Sessions(to.workload.sessions_per_region),
            Redesign::Mix(to.workload.mix.clone()),
            Redesign::ShipOnHeartbeat(db.ship_on_heartbeat),
            Redesign::ReadFrom(db.read_from),
        ];
        let mut now = from.clone();
        let mut changes = Vec::new();
        for d in candidates {
            let mut next = now.clone();
            d.apply(&mut next);
            if next != now {
                now = next;
                changes.push(d);
            }
        }
        changes
    }

    /// Makes the change to a scenario (to be validated before use).
    pub fn apply(&self, s: &mut Scenario) {
        match self.clone() {
            Redesign::Replication(r) => s.db.replication = r,
            Redesign::QuorumR(n) => s.db.quorum_r = n,
            Redesign::QuorumW(n) => s.db.quorum_w = n,
            Redesign::ReadRepair(on) => s.db.read_repair = on,
            Redesign::Shards(n) => {
                s.db.shards = n;
                s.db.range_bounds.clear();
            }
            Redesign::Partitioning(p) => s.db.partitioning = p,
            Redesign::RangeBounds(b) => s.db.range_bounds = b,
            Redesign::Placement(p) => s.db.placement = p,
            Redesign::Queue(on) => s.queue.enabled = on,
            Redesign::QueueWorkers(n) => s.queue.workers = n,
            Redesign::EnqueueTimeout(ms) => s.queue.enqueue_timeout_ms = ms,
            Redesign::VisibilityTimeout(ms) => s.queue.visibility_timeout_ms = ms,
            Redesign::TaskMs(t) => s.queue.task_ms = t,
            Redesign::FlushInterval(ms) => s.cache.flush_interval_ms = ms,
            Redesign::Sites(r) => s.app.regions = r,
            Redesign::Weights(w) => s.app.weights = w,
            Redesign::PathStatic(n) => s.lb.path_static_servers = n,
            Redesign::DnsTtl(t) => s.dns.ttl_s = t,
            Redesign::TrafficShares(shares) => {
                for (r, share) in s.network.regions.iter_mut().zip(shares) {
                    r.traffic_share = share;
                }
            }
            Redesign::CacheOn(on) => s.cache.enabled = on,
            Redesign::CacheCapacity(n) => s.cache.capacity = n,
            Redesign::Workers(n) => s.app.workers = n,
            Redesign::Service(t) => s.app.service = t,
            Redesign::ClockSkew(skew) => s.app.clock_skew_ms = skew,
            Redesign::Sessions(n) => s.workload.sessions_per_region = n,
            Redesign::Mix(m) => s.workload.mix = m,
            Redesign::ShipOnHeartbeat(on) => s.db.ship_on_heartbeat = on,
            Redesign::ReadFrom(r) => s.db.read_from = r,
        }
    }
}

/// The panels and views that open and close.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Panel {
    /// The keyboard help.
    Help,
    /// Presenter mode: large type, thick links, the diagram filling the screen.
    Presenter,
    /// Settings: the load.
    Load,
    /// Settings: balancing and app servers.
    Balancing,
    /// Settings: the cache.
    Caching,
    /// Settings: the database.
    Database,
    /// Settings: shards.
    Sharding,
    /// Settings: the order queue.
    Queue,
    /// The rarer settings.
    More,
}

/// What a control holds until its button is pressed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "choice", rename_all = "kebab-case")]
pub enum Choice {
    /// The region that "Region down" and "Region up" act on.
    Region { region: String },
    /// The factor "Slow down" applies.
    SlowFactor { factor: f64 },
}

/// Kinds of log lines, for the log's filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogKind {
    /// Commands, crashes, restarts, partitions.
    Faults,
    /// Elections, leaders stepping down, failovers.
    Elections,
    /// Stale, lost and rolled-back data; conflicts.
    Anomalies,
    /// Health checks, DNS and everything else.
    Other,
}

impl LogKind {
    /// Every kind, in the order the filter offers them.
    pub const ALL: [LogKind; 4] = [
        LogKind::Faults,
        LogKind::Elections,
        LogKind::Anomalies,
        LogKind::Other,
    ];

    /// The kind of a log line (for the log's filter and the screen-reader
    /// summary).
    pub fn of(e: &LogEvent) -> LogKind {
        match e {
            LogEvent::Command(_)
            | LogEvent::CommandFailed(_)
            | LogEvent::Crashed(_)
            | LogEvent::Restarted(_)
            | LogEvent::Retired(_) => LogKind::Faults,
            LogEvent::ElectionStarted { .. }
            | LogEvent::Elected { .. }
            | LogEvent::SteppedDown { .. }
            | LogEvent::Fenced { .. }
            | LogEvent::LbTakeover { .. }
            | LogEvent::LbYield { .. } => LogKind::Elections,
            LogEvent::Conflict { .. }
            | LogEvent::RolledBackRead { .. }
            | LogEvent::LostWrite { .. }
            | LogEvent::Redelivered { .. } => LogKind::Anomalies,
            LogEvent::Truncated { .. }
            | LogEvent::SnapshotInstalled { .. }
            | LogEvent::BackendHealth { .. }
            | LogEvent::DnsEdgeHealth { .. }
            | LogEvent::DnsSiteHealth { .. } => LogKind::Other,
        }
    }

    /// The kind's name in the filter.
    pub fn label(self) -> &'static str {
        match self {
            LogKind::Faults => "faults and commands",
            LogKind::Elections => "elections",
            LogKind::Anomalies => "anomalies",
            LogKind::Other => "other",
        }
    }
}

impl Action {
    /// Whether the action belongs in the action log: it changes the run or
    /// what is shown of it, so a link or a lesson replays it. Choices made
    /// before a button is pressed, and the log's own filter, do not.
    pub fn recorded(&self) -> bool {
        !matches!(
            self,
            Action::Choose(_)
                | Action::LogFilter { .. }
                | Action::LogGroup { .. }
                | Action::Dismiss
                | Action::Invalid { .. }
                | Action::Viewport { .. }
                | Action::ClickAt { .. }
                | Action::TogglePresenter
                | Action::Why { .. }
                | Action::Answered { .. }
                | Action::SaveRun
                | Action::SaveMetrics
                | Action::SaveHistory
                | Action::SaveDiagram { .. }
                | Action::RecordClip { .. }
                | Action::CopyLink
                | Action::LessonIndex { .. }
                | Action::LessonAnswer { .. }
        )
    }

    /// Whether the action starts a new run (the log then starts over).
    pub fn restarts(&self) -> bool {
        matches!(
            self,
            Action::Reset
                | Action::Seed { .. }
                | Action::Preset { .. }
                | Action::Redesign(_)
                | Action::OpenRunFile { .. }
                | Action::OpenLink { .. }
                | Action::LessonOpen { .. }
                | Action::LessonBack
                | Action::LessonRestart
        )
    }
}

/// The version of the action log format written by this build.
pub const LOG_VERSION: u32 = 1;

/// An action and the simulated time (seconds) it was taken at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timed {
    /// Simulated seconds.
    pub at: f64,
    /// What was done.
    #[serde(flatten)]
    pub action: Action,
}

/// The actions of one run, in order: what a link, an embed or a lesson
/// records and replays. Serialised as
/// `{"version":1,"actions":[{"at":20,"act":"command","do":"crash","node":"db-0-0"}]}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ActionLog {
    /// The format's version ([`LOG_VERSION`]).
    pub version: u32,
    /// Every recorded action since the run started.
    pub actions: Vec<Timed>,
}

impl ActionLog {
    /// An empty log of this build's version.
    pub fn new() -> ActionLog {
        ActionLog {
            version: LOG_VERSION,
            actions: Vec::new(),
        }
    }

    /// The log as compact JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a log, refusing another version or an action this build does
    /// not know, with a message naming what is wrong.
    pub fn from_json(text: &str) -> Result<ActionLog, String> {
        /// Just the version, read first so that another version is named
        /// as such rather than as a bad action.
        #[derive(Deserialize)]
        struct Version {
            version: Option<u64>,
        }
        let v: Version =
            serde_json::from_str(text).map_err(|e| format!("the action log is not JSON: {e}"))?;
        if v.version != Some(u64::from(LOG_VERSION)) {
            return Err(format!(
                "the action log is version {}, this PathLab reads version {LOG_VERSION}",
                v.version.map_or("(none)".to_string(), |v| v.to_string())
            ));
        }
        serde_json::from_str(text).map_err(|e| format!("the action log has a bad action: {e}"))
    }
}

/// The action a key press stands for, if any: Space plays or pauses, → steps
/// forward and ← back (with Shift: to the next or previous marker), Home and
/// End go to the start and the end of the run so far, the plus and minus
/// keys change speed, r resets, f toggles presenter mode, ? opens the help
/// and Escape closes everything. Keys with Ctrl, Alt or Meta are the
/// browser's.
pub fn key_action(key: &str, ctrl_alt_meta: bool, shift: bool) -> Option<Action> {
    if ctrl_alt_meta {
        return None;
    }
    Some(match key {
        " " | "Spacebar" => Action::TogglePlay,
        "ArrowRight" if shift => Action::Marker { next: true },
        "ArrowLeft" if shift => Action::Marker { next: false },
        "ArrowRight" => Action::Step,
        "ArrowLeft" => Action::StepBack,
        "Home" => Action::Seek {
            t: 0.0,
            request: None,
            node: None,
        },
        "End" => Action::ToEnd,
        "+" | "=" => Action::Faster,
        "-" | "_" => Action::Slower,
        "r" | "R" => Action::Reset,
        "f" | "F" => Action::TogglePresenter,
        "s" | "S" => Action::CopyLink,
        "n" | "N" => Action::LessonNext,
        "p" | "P" => Action::LessonBack,
        "?" => Action::Panel {
            panel: Panel::Help,
            open: true,
        },
        "Escape" | "Esc" => Action::CloseAll,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_actions_and_modified_keys_are_left_to_the_browser() {
        assert_eq!(key_action(" ", false, false), Some(Action::TogglePlay));
        assert_eq!(key_action("ArrowRight", false, false), Some(Action::Step));
        assert_eq!(
            key_action("ArrowLeft", false, false),
            Some(Action::StepBack)
        );
        assert_eq!(
            key_action("ArrowLeft", false, true),
            Some(Action::Marker { next: false })
        );
        assert_eq!(
            key_action("ArrowRight", false, true),
            Some(Action::Marker { next: true })
        );
        assert_eq!(key_action("End", false, false), Some(Action::ToEnd));
        assert!(matches!(
            key_action("Home", false, false),
            Some(Action::Seek { t: 0.0, .. })
        ));
        assert_eq!(key_action("+", false, false), Some(Action::Faster));
        assert_eq!(key_action("-", false, false), Some(Action::Slower));
        assert_eq!(key_action("r", false, false), Some(Action::Reset));
        assert_eq!(key_action("Escape", false, false), Some(Action::CloseAll));
        assert_eq!(key_action("f", false, false), Some(Action::TogglePresenter));
        assert_eq!(
            key_action("?", false, false),
            Some(Action::Panel {
                panel: Panel::Help,
                open: true
            })
        );
        assert_eq!(
            key_action("r", true, false),
            None,
            "Ctrl+R reloads the page"
        );
        assert_eq!(key_action("x", false, false), None);
    }

    #[test]
    fn a_logged_command_is_compact_and_reads_back() {
        let mut log = ActionLog::new();
        log.actions.push(Timed {
            at: 20.0,
            action: Action::Command(Command::Crash {
                node: "db-0-0".into(),
            }),
        });
        log.actions.push(Timed {
            at: 21.5,
            action: Action::Select {
                node: Some("db-0-1".into()),
            },
        });
        let json = log.to_json();
        assert_eq!(
            json,
            r#"{"version":1,"actions":[{"at":20.0,"act":"command","do":"crash","node":"db-0-0"},{"at":21.5,"act":"select","node":"db-0-1"}]}"#
        );
        assert_eq!(ActionLog::from_json(&json).unwrap(), log);
    }

    #[test]
    fn another_version_or_an_unknown_action_is_refused_by_name() {
        let err = ActionLog::from_json(r#"{"version":2,"actions":[]}"#).unwrap_err();
        assert!(err.contains("version 2"), "{err}");
        let err = ActionLog::from_json(r#"{"version":1,"actions":[{"at":1,"act":"teleport"}]}"#)
            .unwrap_err();
        assert!(err.contains("teleport"), "{err}");
        assert!(ActionLog::from_json("{").is_err());
    }

    #[test]
    fn choices_and_log_views_are_not_recorded_and_design_changes_restart() {
        assert!(!Action::Choose(Choice::SlowFactor { factor: 50.0 }).recorded());
        assert!(!Action::LogFilter { kind: None }.recorded());
        assert!(Action::Command(Command::Heal).recorded());
        assert!(Action::Preset { name: "x".into() }.restarts());
        assert!(!Action::Step.restarts());
    }
}
