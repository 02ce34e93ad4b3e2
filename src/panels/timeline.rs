//! The timeline under the diagram: the run so far as a slider (click or drag to go to a moment), its markers (faults and commands, elections, bursts of anomalies; each shaped and coloured by kind and saying what it is), and the branches the run has taken.

use super::{Dispatch, on_click};
use crate::action::Action;
use crate::engine::Engine;
use crate::mirror::Mirror;
use pathlab_sim::{Command, LogEvent, Scenario, SimTime};
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// Anomalies of one kind closer than this (µs) make one burst.
const BURST_GAP: u64 = 2_000_000;

/// One marker: when, what kind (its `data-marker`), and what it was.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    /// When it happened (a burst: when it began).
    pub at: SimTime,
    /// Its kind: `crash`, `restart`, `partition`, `heal`, `slow`,
    /// `setting`, `election`, `takeover`, `stale`, `lost-write`,
    /// `rolled-back`, `error` or `conflict`.
    pub kind: &'static str,
    /// What it was, in words.
    pub text: String,
    /// The node it is about, if one (following the marker selects it).
    pub node: Option<String>,
}

/// The kind of marker a command makes.
fn command_kind(c: &Command) -> &'static str {
    match c {
        Command::Crash { .. } | Command::RegionDown { .. } | Command::Flush { .. } => "crash",
        Command::Restart { .. } | Command::RegionUp { .. } => "restart",
        Command::Partition { .. } | Command::PartitionOneWay { .. } | Command::Isolate { .. } => {
            "partition"
        }
        Command::Heal => "heal",
        Command::Slow { .. } | Command::Link { .. } => "slow",
        _ => "setting",
    }
}

/// A run of anomalies of one kind being gathered into a burst.
struct Burst {
    kind: &'static str,
    first: SimTime,
    last: SimTime,
    count: u64,
}

impl Burst {
    fn marker(&self) -> Marker {
        let what = match (self.kind, self.count) {
            ("stale", 1) => "1 stale read".to_string(),
            ("stale", n) => format!("{n} stale reads"),
            ("lost-write", 1) => "1 acknowledged write lost".to_string(),
            ("lost-write", n) => format!("{n} acknowledged writes lost"),
            ("rolled-back", 1) => "1 read rolled back".to_string(),
            ("rolled-back", n) => format!("{n} reads rolled back"),
            ("conflict", 1) => "1 write overwritten by a concurrent one".to_string(),
            ("conflict", n) => format!("{n} writes overwritten by concurrent ones"),
            (_, 1) => "1 request failed".to_string(),
            (_, n) => format!("{n} requests failed"),
        };
        let when = if self.last.since(self.first) < 1_000_000 {
            format!("at {:.1} s", self.first.as_secs_f64())
        } else {
            format!(
                "from {:.1} s to {:.1} s",
                self.first.as_secs_f64(),
                self.last.as_secs_f64()
            )
        };
        Marker {
            at: self.first,
            kind: self.kind,
            text: format!("{what} {when}"),
            node: None,
        }
    }
}

/// Gathers anomalies into bursts, one list per kind.
#[derive(Default)]
struct Bursts(Vec<Burst>, Vec<Marker>);

impl Bursts {
    fn add(&mut self, kind: &'static str, at: SimTime, count: u64) {
        match self.0.iter_mut().find(|b| b.kind == kind) {
            Some(b) if at.since(b.last) <= BURST_GAP => {
                b.last = at;
                b.count += count;
            }
            Some(b) => {
                self.1.push(b.marker());
                *b = Burst {
                    kind,
                    first: at,
                    last: at,
                    count,
                };
            }
            None => self.0.push(Burst {
                kind,
                first: at,
                last: at,
                count,
            }),
        }
    }

    fn done(mut self) -> Vec<Marker> {
        self.1.extend(self.0.iter().map(Burst::marker));
        self.1
    }
}

/// Every marker of the run so far (also after the cursor), in order of
/// time: the scenario's scripted commands and the branch's own, elections
/// and takeovers, and bursts of stale reads, errors, lost writes,
/// rolled-back reads and conflicts.
pub fn markers(sim: &Mirror, scenario: &Scenario) -> Vec<Marker> {
    let end = sim.end();
    let mut out: Vec<Marker> = scenario
        .script
        .iter()
        .map(|c| (SimTime::from_secs_f64(c.at_s), &c.command))
        .chain(
            sim.branches()
                .first()
                .into_iter()
                .flat_map(|b| b.commands.iter().map(|a| (a.at, &a.command))),
        )
        .filter(|&(at, _)| at <= end)
        .map(|(at, c)| Marker {
            at,
            kind: command_kind(c),
            text: format!("{:.1} s: {}", at.as_secs_f64(), c.describe()),
            node: match c {
                Command::Crash { node }
                | Command::Restart { node }
                | Command::Slow { node, .. }
                | Command::Isolate { node }
                | Command::Flush { node } => Some(node.clone()),
                _ => None,
            },
        })
        .collect();
    let mut bursts = Bursts::default();
    for e in sim.whole_log() {
        let name = |n| sim.node_name(n).to_string();
        match &e.event {
            LogEvent::Elected { node, term, .. } => out.push(Marker {
                at: e.at,
                kind: "election",
                text: format!(
                    "{:.1} s: {} elected leader (term {term})",
                    e.at.as_secs_f64(),
                    name(*node)
                ),
                node: Some(name(*node)),
            }),
            LogEvent::LbTakeover { lb, from } => out.push(Marker {
                at: e.at,
                kind: "takeover",
                text: format!(
                    "{:.1} s: {} took the shared address over from {}",
                    e.at.as_secs_f64(),
                    name(*lb),
                    name(*from)
                ),
                node: Some(name(*lb)),
            }),
            LogEvent::LostWrite { .. } => bursts.add("lost-write", e.at, 1),
            LogEvent::RolledBackRead { .. } => bursts.add("rolled-back", e.at, 1),
            LogEvent::Conflict { .. } => bursts.add("conflict", e.at, 1),
            _ => {}
        }
    }
    for p in sim.whole_series() {
        // A second's point closes at its end: the anomalies fell within it.
        let at = SimTime(u64::from(p.t_s.saturating_sub(1)) * 1_000_000);
        if p.stale > 0 {
            bursts.add("stale", at, p.stale);
        }
        if p.errors > 0 {
            bursts.add("error", at, p.errors);
        }
    }
    out.extend(bursts.done());
    out.sort_by_key(|m| m.at);
    out
}

/// Milliseconds, as the timeline's attributes give times.
fn ms(t: SimTime) -> String {
    (t.0 / 1000).to_string()
}

/// The moment under a pointer on the track, if the pointer is over it.
fn moment_at(ev: &PointerEvent, end: SimTime) -> Option<f64> {
    let track = ev
        .target()?
        .dyn_into::<web_sys::Element>()
        .ok()?
        .closest(".scrub-track")
        .ok()??;
    let rect = track.get_bounding_client_rect();
    if rect.width() <= 0.0 {
        return None;
    }
    let f = ((f64::from(ev.client_x()) - rect.left()) / rect.width()).clamp(0.0, 1.0);
    Some(f * end.as_secs_f64())
}

/// The timeline: markers above a slider of the run so far, the time, and
/// the branches.
pub fn view(e: &Engine, d: &Dispatch) -> Html {
    let (now, end) = (e.sim.now(), e.sim.end());
    let span = end.0.max(1) as f64;
    let pct = |t: SimTime| (t.0 as f64 / span * 100.0).clamp(0.0, 100.0);
    let go = |d: &Dispatch, drag: bool| {
        let d = d.clone();
        Callback::from(move |ev: PointerEvent| {
            // A drag is a move with the main button down.
            if drag && ev.buttons() & 1 == 0 {
                return;
            }
            if !drag
                && let Some(el) = ev
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            {
                let _ = el.set_pointer_capture(ev.pointer_id());
            }
            if let Some(t) = moment_at(&ev, end) {
                d.emit(Action::Seek {
                    t,
                    request: None,
                    node: None,
                });
            }
        })
    };
    // Markers of one kind closer than this fraction of the track would
    // overlap: the first stands for the others.
    let mut shown: Vec<(Marker, usize)> = Vec::new();
    for m in markers(&e.sim, &e.scenario) {
        match shown
            .iter_mut()
            .rev()
            .find(|(k, _)| k.kind == m.kind)
            .filter(|(k, _)| (m.at.0 - k.at.0) as f64 / span < 0.004)
        {
            Some((_, more)) => *more += 1,
            None => shown.push((m, 0)),
        }
    }
    let text = format!("{:.1} s of {:.1} s", now.as_secs_f64(), end.as_secs_f64());
    html! {
        <section class="timeline" aria-label="Timeline">
            <div class="scrub">
                <div class="scrub-marks">
                    { for shown.iter().map(|(m, more)| {
                        let text = match more {
                            0 => m.text.clone(),
                            n => format!("{} (and {n} more like it just after)", m.text),
                        };
                        html! {
                        <button type="button" class={classes!("mark", format!("mark-{}", m.kind))}
                                data-marker={m.kind} data-t-ms={ms(m.at)} title={text.clone()} aria-label={text}
                                style={format!("left:{:.3}%", pct(m.at))}
                                onclick={on_click(d, Action::Seek { t: m.at.as_secs_f64(), request: None, node: m.node.clone() })}></button>
                        }
                    }) }
                </div>
                <div class="scrub-track" data-testid="timeline" role="slider" tabindex="0"
                     aria-label="Simulated time: ← and → step, Shift+← and Shift+→ jump between markers, Home and End"
                     aria-valuemin="0" aria-valuemax={ms(end)} aria-valuenow={ms(now)} aria-valuetext={text.clone()}
                     data-core-bytes={e.sim.core_memory().to_string()}
                     onpointerdown={go(d, false)} onpointermove={go(d, true)}>
                    <div class="scrub-played" style={format!("width:{:.3}%", pct(now))}></div>
                    <div class="scrub-cursor" style={format!("left:{:.3}%", pct(now))}></div>
                </div>
            </div>
            <div class="scrub-side">
                <span class="scrub-time">{ if e.sim.in_past() { format!("{text} · in the past: a command here starts a new branch") } else { text } }</span>
                <button type="button" class="link" data-testid="export" data-action="save-run"
                        title="Save this run (scenario, seed, commands, this moment) as a file; `pathlab-sim run --run-file` replays it"
                        onclick={on_click(d, Action::SaveRun)}>{ "Save run file" }</button>
                <button type="button" class="link" data-testid="export-metrics" data-action="save-metrics"
                        title="Save the per-second metrics up to this moment as CSV"
                        onclick={on_click(d, Action::SaveMetrics)}>{ "Save metrics (CSV)" }</button>
                { import(d) }
                <button type="button" class="link" data-testid="compare-with" data-action="compare"
                        title="Run a second design beside this one, with the same traffic and the same faults, and see which does better"
                        onclick={on_click(d, Action::CompareDialog { open: true })}>{ "Compare with…" }</button>
                <button type="button" class="link" data-testid="sweep-open-panel" data-action="sweep"
                        title="Run a setting over several values in the background and see the trade-off"
                        onclick={on_click(d, Action::SweepPanel { open: !e.sweep_panel })}>{ "Sweep a setting…" }</button>
                <details class="more-exports" data-testid="more-exports">
                    <summary>{ "More files" }</summary>
                    <div class="menu">
                        <button type="button" class="link" data-testid="export-history" data-action="save-history"
                                title="Save every read and write up to this moment as JSON lines (what `pathlab-sim history` writes), for outside consistency checkers"
                                onclick={on_click(d, Action::SaveHistory)}>{ "History (JSONL)" }</button>
                        <button type="button" class="link" data-testid="export-svg" data-action="save-diagram"
                                title="Save the diagram as it is now as an SVG picture"
                                onclick={on_click(d, Action::SaveDiagram { png: false })}>{ "Diagram (SVG)" }</button>
                        <button type="button" class="link" data-testid="export-png" data-action="save-diagram"
                                title="Save the diagram as it is now, requests in flight and all, as a PNG picture"
                                onclick={on_click(d, Action::SaveDiagram { png: true })}>{ "Diagram (PNG)" }</button>
                        <button type="button" class="link" data-testid="export-clip" data-action="record-clip"
                                disabled={e.recording}
                                title="Play and record 5 seconds of the diagram as a WebM video, for slides and chat"
                                onclick={on_click(d, Action::RecordClip { secs: CLIP_SECS })}>
                            { if e.recording { "Recording…" } else { "Clip, 5 s (WebM)" } }
                        </button>
                    </div>
                </details>
            </div>
            { branches(e, d) }
        </section>
    }
}

/// How long a clip of the diagram is (real seconds).
const CLIP_SECS: f64 = 5.0;

/// "Open run file…": a button that opens the browser's file picker (run
/// files can also be dropped anywhere on the page).
fn import(d: &Dispatch) -> Html {
    let pick = Callback::from(|_: MouseEvent| {
        if let Some(input) = gloo::utils::document()
            .query_selector("[data-testid='import-file']")
            .ok()
            .flatten()
            .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
        {
            input.click();
        }
    });
    let chosen = {
        let d = d.clone();
        Callback::from(move |ev: Event| {
            let Some(input) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            else {
                return;
            };
            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                crate::files::open_run_file(file, d.clone());
            }
            // The same file can be chosen again.
            input.set_value("");
        })
    };
    html! {
        <>
            <button type="button" class="link" data-testid="import" data-action="open-run-file"
                    title="Open a run file saved before: its run replaces this one (or drop the file on the page)"
                    onclick={pick}>{ "Open run file…" }</button>
            <input type="file" data-testid="import-file" accept=".json,application/json" hidden=true
                   aria-label="Run file to open" onchange={chosen} />
        </>
    }
}

/// The branches: the current one first, each with its commands and
/// fingerprint; the others can be switched to.
fn branches(e: &Engine, d: &Dispatch) -> Html {
    let all = e.sim.branches();
    let label = |id: u32| format!("Branch {}", id + 1);
    html! {
        <details class="branches" data-testid="branches" open={all.len() > 1}>
            <summary>{ match all.len() { 0 | 1 => "One branch".to_string(), n => format!("{n} branches") } }</summary>
            <ol>
                { for all.iter().enumerate().map(|(i, b)| {
                    let current = i == 0;
                    let (fp, to) = if current {
                        (e.sim.fingerprint_hex(), e.sim.end())
                    } else {
                        (format!("{:016x}", b.fingerprint), b.end)
                    };
                    let parent = b.parent.map(|(p, at)| format!(", from {} at {:.1} s", label(p), at.as_secs_f64())).unwrap_or_default();
                    html! {
                        <li data-branch={b.id.to_string()} data-current={current.to_string()} data-fingerprint={fp.clone()}>
                            <span>{ format!("{}{}{parent}: {} command{}, played to {:.1} s, fingerprint {fp}",
                                label(b.id), if current { " (current)" } else { "" },
                                b.commands.len(), if b.commands.len() == 1 { "" } else { "s" }, to.as_secs_f64()) }</span>
                            if !current {
                                <button type="button" data-action="switch" data-branch={b.id.to_string()}
                                        onclick={on_click(d, Action::Switch { branch: b.id })}>{ "Switch to it" }</button>
                                <button type="button" data-action="compare-branch" data-branch={b.id.to_string()}
                                        title="Show this branch beside the current one, in lock-step"
                                        onclick={on_click(d, Action::Compare { with: Some(crate::link::Against {
                                            commands: Some(b.commands.clone()),
                                            label: Some(label(b.id)),
                                            ..Default::default()
                                        }) })}>{ "Compare with it" }</button>
                            }
                            if !b.commands.is_empty() {
                                <ol class="branch-commands">
                                    { for b.commands.iter().map(|c| html! {
                                        <li>{ format!("{:.1} s: {}", c.at.as_secs_f64(), c.command.describe()) }</li>
                                    }) }
                                </ol>
                            }
                        </li>
                    }
                }) }
            </ol>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leader_crash_run_is_marked_with_its_crash_the_election_and_the_lost_writes() {
        let mut e = Engine::new("leader-crash", Some(1)).unwrap();
        e.run_for(40.0);
        let marks = markers(&e.sim, &e.scenario);
        let kinds: Vec<&str> = marks.iter().map(|m| m.kind).collect();
        let crash = marks
            .iter()
            .find(|m| m.kind == "crash")
            .expect("the scripted crash");
        let election = marks
            .iter()
            .find(|m| m.kind == "election" && m.at > crash.at)
            .expect("an election after it");
        let lost = marks
            .iter()
            .find(|m| m.kind == "lost-write")
            .expect("lost writes");
        assert!(lost.at >= election.at, "{kinds:?}");
        assert!(
            lost.text.contains("acknowledged writes lost"),
            "{}",
            lost.text
        );
        // Bursts: far fewer markers than lost writes.
        let lost_total: u64 = e.sim.metrics().totals.writes_acked;
        assert!(
            marks.len() < 50 && lost_total > 0,
            "{} markers",
            marks.len()
        );
        assert!(
            marks.windows(2).all(|w| w[0].at <= w[1].at),
            "in order of time"
        );
    }
}
