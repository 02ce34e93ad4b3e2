//! The application: layout, the animation-frame loop, keyboard control, and the panels that turn clicks into simulation commands.

use crate::charts::Charts;
use crate::diagram::{self, DiagramEvents};
use crate::engine::{Engine, SPEEDS};
use crate::particles;
use crate::waterfall::Waterfall;
use gloo::events::{EventListener, EventListenerOptions};
use gloo::render::{AnimationFrame, request_animation_frame};
use pathlab_sim::scenario::{
    Eviction, FollowerAck, LbStrategy, Partitioning, ReadFrom, Replication, SessionStore,
    WritePolicy,
};
use pathlab_sim::{Command, NodeKind, NodeState, RequestId, Role, Snapshot, presets};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{HtmlCanvasElement, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// How often the DOM (diagram, charts, log) is refreshed while playing; the
/// canvas of moving requests is redrawn every frame.
const UI_REFRESH_MS: f64 = 125.0;

/// Most of the time refreshing the DOM may take: after a slow refresh (a
/// large system takes long to snapshot) the next one waits longer.
const MAX_REFRESH_SHARE: f64 = 0.1;

/// Options read from the page address (`?preset=…&seed=…&play=1&speed=…`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StartOptions {
    /// Preset to load.
    pub preset: Option<String>,
    /// Seed to use.
    pub seed: Option<u64>,
    /// Start playing at once.
    pub play: bool,
    /// Playback speed.
    pub speed: Option<f64>,
}

impl StartOptions {
    /// Reads options from a query string; unknown or malformed values are
    /// ignored (and reported back as warnings).
    pub fn parse(query: &str) -> (StartOptions, Vec<String>) {
        let mut o = StartOptions::default();
        let mut warnings = Vec::new();
        for pair in query
            .trim_start_matches('?')
            .split('&')
            .filter(|p| !p.is_empty())
        {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "preset" => o.preset = Some(v.to_string()),
                "seed" => match v.parse() {
                    Ok(s) => o.seed = Some(s),
                    Err(_) => warnings.push(format!("ignored seed {v:?}: not a whole number")),
                },
                "play" => o.play = v == "1" || v == "true",
                "speed" => match v.parse::<f64>() {
                    Ok(s) if s.is_finite() && s > 0.0 => o.speed = Some(s),
                    _ => warnings.push(format!("ignored speed {v:?}")),
                },
                "embed" => {}
                other => warnings.push(format!("ignored unknown option {other:?}")),
            }
        }
        (o, warnings)
    }
}

/// Builds the engine the page starts with.
fn initial_engine(opts: &StartOptions, warnings: Vec<String>) -> Engine {
    let preset = opts.preset.clone().unwrap_or_else(|| "default".to_string());
    let mut engine = match Engine::new(&preset, opts.seed) {
        Ok(e) => e,
        Err(e) => {
            let mut fallback = Engine::new("default", opts.seed)
                .unwrap_or_else(|_| unreachable!("the default preset is valid"));
            fallback.error = Some(format!("{e}; showing the default scenario instead"));
            fallback
        }
    };
    if let Some(s) = opts.speed {
        engine.speed_idx = SPEEDS
            .iter()
            .position(|&x| x >= s)
            .unwrap_or(SPEEDS.len() - 1);
    }
    if opts.play {
        engine.toggle_play();
    }
    if engine.error.is_none() && !warnings.is_empty() {
        engine.error = Some(warnings.join("; "));
    }
    engine
}

/// The canvas of moving requests, and the pixels drawn on it (kept from
/// frame to frame).
struct Painter {
    canvas: NodeRef,
    layer: RefCell<particles::Layer>,
}

impl Painter {
    /// Draws the requests in flight; `still` draws each at its midpoint.
    fn draw(&self, engine: &Engine, still: bool) {
        let Some(canvas) = self.canvas.cast::<HtmlCanvasElement>() else {
            return;
        };
        let ratio = gloo::utils::window().device_pixel_ratio().max(1.0);
        let w = (canvas.client_width() as f64 * ratio).round() as u32;
        let h = (canvas.client_height() as f64 * ratio).round() as u32;
        if w == 0 || h == 0 {
            return;
        }
        if canvas.width() != w || canvas.height() != h {
            canvas.set_width(w);
            canvas.set_height(h);
        }
        let Ok(Some(ctx)) = canvas.get_context("2d") else {
            return;
        };
        let Ok(ctx) = ctx.dyn_into::<web_sys::CanvasRenderingContext2d>() else {
            return;
        };
        let (fw, fh) = (w as f64, h as f64);
        let scale = (fw / crate::layout::WIDTH).min(fh / crate::layout::HEIGHT);
        let view = particles::Viewport {
            width: w as usize,
            height: h as usize,
            scale,
            ox: (fw - crate::layout::WIDTH * scale) / 2.0,
            oy: (fh - crate::layout::HEIGHT * scale) / 2.0,
        };
        self.layer.borrow_mut().draw(&ctx, engine, view, still);
    }
}

/// State shared with the animation-frame loop.
struct Loop {
    engine: Rc<RefCell<Engine>>,
    painter: Rc<Painter>,
    refresh: Callback<()>,
    last_ui: Cell<f64>,
    frame: RefCell<Option<AnimationFrame>>,
    alive: Cell<bool>,
    still: bool,
    /// The page's clock, which bounds the time a frame spends simulating.
    performance: Option<web_sys::Performance>,
    /// How long the last DOM refresh took (ms).
    refresh_ms: Rc<Cell<f64>>,
}

impl Loop {
    fn schedule(self: &Rc<Self>) {
        if !self.alive.get() {
            return;
        }
        let me = self.clone();
        let handle = request_animation_frame(move |ts| {
            me.tick(ts);
            me.schedule();
        });
        *self.frame.borrow_mut() = Some(handle);
    }

    fn tick(&self, ts: f64) {
        let Ok(mut engine) = self.engine.try_borrow_mut() else {
            return;
        };
        let moved = engine.frame(ts, || self.performance.as_ref().map_or(0.0, |p| p.now()));
        let interval = if self.still { 250.0 } else { UI_REFRESH_MS };
        let due =
            ts - self.last_ui.get() >= interval.max(self.refresh_ms.get() / MAX_REFRESH_SHARE);
        if moved && (!self.still || due) {
            self.painter.draw(&engine, self.still);
        }
        drop(engine);
        if moved && due {
            self.last_ui.set(ts);
            self.refresh.emit(());
        }
    }
}

fn prefers_reduced_motion() -> bool {
    gloo::utils::window()
        .match_media("(prefers-reduced-motion: reduce)")
        .ok()
        .flatten()
        .is_some_and(|m| m.matches())
}

fn query_string() -> String {
    gloo::utils::window()
        .location()
        .search()
        .unwrap_or_default()
}

/// Properties of [`App`].
#[derive(Properties, PartialEq, Default)]
pub struct AppProps {
    /// Start options; when absent they are read from the page address.
    #[prop_or_default]
    pub options: Option<StartOptions>,
}

/// The whole application.
#[component]
pub fn App(props: &AppProps) -> Html {
    let engine = {
        let options = props.options.clone();
        use_mut_ref(move || {
            let (opts, warnings) = match options {
                Some(o) => (o, Vec::new()),
                None => StartOptions::parse(&query_string()),
            };
            initial_engine(&opts, warnings)
        })
    };
    let update = use_force_update();
    let canvas = use_node_ref();
    // How long a refresh takes, from here to the DOM updated.
    let refresh_ms = use_memo((), |_| Cell::new(0.0));
    {
        let clock = gloo::utils::window().performance();
        let now = move || clock.as_ref().map_or(0.0, |p| p.now());
        let started = now();
        let refresh_ms = refresh_ms.clone();
        use_effect(move || refresh_ms.set(now() - started));
    }
    let painter = {
        let canvas = canvas.clone();
        use_memo((), move |_| Painter {
            canvas,
            layer: RefCell::default(),
        })
    };
    let refresh = {
        let update = update.clone();
        Callback::from(move |()| update.force_update())
    };

    // The animation-frame loop lives as long as the component.
    {
        let engine = engine.clone();
        let painter = painter.clone();
        let refresh = refresh.clone();
        let refresh_ms = refresh_ms.clone();
        use_effect_with((), move |_| {
            let lp = Rc::new(Loop {
                engine,
                painter,
                refresh,
                last_ui: Cell::new(0.0),
                frame: RefCell::new(None),
                alive: Cell::new(true),
                still: prefers_reduced_motion(),
                performance: gloo::utils::window().performance(),
                refresh_ms,
            });
            lp.schedule();
            move || {
                lp.alive.set(false);
                lp.frame.borrow_mut().take();
            }
        });
    }

    // Runs `f` on the engine, then re-renders and redraws.
    let act = {
        let engine = engine.clone();
        let update = update.clone();
        let painter = painter.clone();
        let act: Act = Rc::new(move |f: &dyn Fn(&mut Engine)| {
            if let Ok(mut e) = engine.try_borrow_mut() {
                f(&mut e);
                painter.draw(&e, true);
            }
            update.force_update();
        });
        act
    };
    let cb = |f: fn(&mut Engine)| {
        let act = act.clone();
        Callback::from(move |_: MouseEvent| act(&f))
    };

    // Keyboard: space, arrows, +/-, r, ?, Escape — for key presses on the
    // page itself or inside this app (not inside another app on the page).
    let root = use_node_ref();
    {
        let act = act.clone();
        let root = root.clone();
        use_effect_with((), move |_| {
            let options = EventListenerOptions::enable_prevent_default();
            let listener = EventListener::new_with_options(
                &gloo::utils::document(),
                "keydown",
                options,
                move |e| {
                    let Some(e) = e.dyn_ref::<KeyboardEvent>() else {
                        return;
                    };
                    if e.ctrl_key() || e.meta_key() || e.alt_key() {
                        return;
                    }
                    let typing = e
                        .target()
                        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                        .is_some_and(|el| {
                            matches!(el.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA")
                        });
                    if typing {
                        return;
                    }
                    let target = e.target().and_then(|t| t.dyn_into::<web_sys::Node>().ok());
                    let doc = gloo::utils::document();
                    let on_page = target.as_ref().is_none_or(|t| {
                        doc.body().is_some_and(|b| b.is_same_node(Some(t)))
                            || doc
                                .document_element()
                                .is_some_and(|d| d.is_same_node(Some(t)))
                            || doc.is_same_node(Some(t))
                    });
                    let inside = root.get().is_some_and(|r| r.contains(target.as_ref()));
                    if !on_page && !inside {
                        return;
                    }
                    let handled = match e.key().as_str() {
                        " " => {
                            act(&|e: &mut Engine| e.toggle_play());
                            true
                        }
                        "ArrowRight" => {
                            act(&|e: &mut Engine| e.step());
                            true
                        }
                        "+" | "=" => {
                            act(&|e: &mut Engine| e.change_speed(true));
                            true
                        }
                        "-" | "_" => {
                            act(&|e: &mut Engine| e.change_speed(false));
                            true
                        }
                        "r" | "R" => {
                            act(&|e: &mut Engine| e.reset());
                            true
                        }
                        "?" => {
                            act(&|e: &mut Engine| e.help = !e.help);
                            true
                        }
                        "Escape" => {
                            act(&|e: &mut Engine| {
                                e.help = false;
                                e.request = None;
                                e.picking = false;
                                e.selected = None;
                            });
                            true
                        }
                        _ => false,
                    };
                    if handled {
                        e.prevent_default();
                    }
                },
            );
            move || drop(listener)
        });
    }

    // Move keyboard focus into a dialog when it opens.
    {
        let (request, help) = {
            let e = engine.borrow();
            (e.request, e.help)
        };
        use_effect_with((request, help), move |(request, help)| {
            let selector = if request.is_some() {
                Some("[data-testid='waterfall-close']")
            } else if *help {
                Some("[data-testid='help'] button")
            } else {
                None
            };
            if let Some(el) = selector
                .and_then(|sel| gloo::utils::document().query_selector(sel).ok().flatten())
                .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
            {
                let _ = el.focus();
            }
        });
    }

    let e = engine.borrow();
    let snap = e.sim.snapshot(0);
    let events = DiagramEvents {
        node: {
            let act = act.clone();
            Callback::from(move |i: usize| act(&move |e: &mut Engine| e.click_node(i)))
        },
        background: {
            let act = act.clone();
            Callback::from(move |(x, y): (f64, f64)| {
                act(&move |e: &mut Engine| {
                    if let Some(id) = particles::request_at(e, x, y, 12.0) {
                        e.request = Some(RequestId(id));
                    } else if !e.picking {
                        e.selected = None;
                    }
                })
            })
        },
    };

    html! {
        <div class="lab" ref={root}>
            <header class="topbar">
                <h1>{ "PathLab" }<span class="tagline">{ " — the request-path laboratory" }</span></h1>
                { controls(&e, &act, &cb) }
            </header>
            { metrics(&e, &snap) }
            if let Some(msg) = e.error.clone() {
                <div class="notice" role="alert" data-testid="notice">
                    <span>{ msg }</span>
                    <button type="button" aria-label="Dismiss" onclick={cb(|e| e.error = None)}>{ "✕" }</button>
                </div>
            }
            <main class="stage">
                { diagram::view(&e, &snap, &events, &canvas) }
                <aside class="side" aria-label="Break things">
                    { node_panel(&e, &snap, &act) }
                    { partition_panel(&e, &act, &cb) }
                    { settings_panel(&e, &act) }
                </aside>
            </main>
            <section class="lower">
                <Charts series={Rc::new(last_minute(&e))} replicas={Rc::new(replica_names(&snap))} window_s={60} />
                { event_log(&e, &act) }
                { requests_panel(&e, &act) }
            </section>
            { legend(&e) }
            if let Some(trace) = e.request.and_then(|id| e.sim.request_trace(id)) {
                <div class="overlay" role="dialog" aria-modal="true" aria-label="Request details">
                    <Waterfall trace={Rc::new(trace)} names={Rc::new(e.names.clone())} on_close={{
                        let act = act.clone();
                        Callback::from(move |()| act(&|e: &mut Engine| e.request = None))
                    }} />
                </div>
            }
            if e.help {
                { help(&cb) }
            }
        </div>
    }
}

type Act = Rc<dyn Fn(&dyn Fn(&mut Engine))>;

/// What a settings field does with the text typed into it.
type Apply = Rc<dyn Fn(&mut Engine, String)>;

/// The points the charts show: the last minute (and one more for the edge).
fn last_minute(e: &Engine) -> Vec<pathlab_sim::Point> {
    let series = &e.sim.metrics().series;
    series[series.len().saturating_sub(61)..].to_vec()
}

fn replica_names(snap: &Snapshot) -> Vec<String> {
    snap.nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Db)
        .map(|n| n.id.clone())
        .collect()
}

fn controls(e: &Engine, act: &Act, cb: &dyn Fn(fn(&mut Engine)) -> Callback<MouseEvent>) -> Html {
    let on_speed = {
        let act = act.clone();
        Callback::from(move |ev: Event| {
            let v: usize = ev
                .target_unchecked_into::<HtmlSelectElement>()
                .value()
                .parse()
                .unwrap_or(3);
            act(&move |e: &mut Engine| e.speed_idx = v.min(SPEEDS.len() - 1));
        })
    };
    let on_seed = {
        let act = act.clone();
        Callback::from(move |ev: Event| {
            let input = ev.target_unchecked_into::<HtmlInputElement>();
            let text = input.value();
            match text.trim().parse::<u64>() {
                Ok(seed) => act(&move |e: &mut Engine| e.restart_with(seed)),
                Err(_) => {
                    let msg = format!(
                        "the seed must be a whole number from 0 to {}, not {text:?}",
                        u64::MAX
                    );
                    act(&move |e: &mut Engine| e.error = Some(msg.clone()));
                }
            }
        })
    };
    let on_preset = {
        let act = act.clone();
        Callback::from(move |ev: Event| {
            let name = ev.target_unchecked_into::<HtmlSelectElement>().value();
            act(&move |e: &mut Engine| e.load_preset(&name));
        })
    };
    let speed_options = SPEEDS.iter().enumerate().map(|(i, s)| {
        html! { <option value={i.to_string()} selected={i == e.speed_idx}>{ format!("{s}×") }</option> }
    });
    let preset_options = presets::NAMES.iter().chain(&presets::BENCH_NAMES).map(|n| {
        html! { <option value={*n} selected={*n == e.preset}>{ *n }</option> }
    });
    html! {
        <div class="controls" role="toolbar" aria-label="Time">
            <button type="button" class="primary" data-testid="play" aria-keyshortcuts="Space" onclick={cb(|e| e.toggle_play())}>
                { if e.playing { "Pause" } else { "Play" } }
            </button>
            <button type="button" data-testid="step" aria-keyshortcuts="ArrowRight" title="Advance 0.1 s" onclick={cb(|e| e.step())}>{ "Step" }</button>
            <label>{ "Speed " }
                <select data-testid="speed" aria-label="Speed" onchange={on_speed}>{ for speed_options }</select>
            </label>
            <button type="button" data-testid="reset" aria-keyshortcuts="r" onclick={cb(|e| e.reset())}>{ "Reset" }</button>
            <label>{ "Seed " }
                <input data-testid="seed" aria-label="Seed" type="text" inputmode="numeric" size="8" value={e.seed.to_string()} onchange={on_seed} />
            </label>
            <label>{ "Scenario " }
                <select data-testid="preset" aria-label="Scenario" onchange={on_preset}>{ for preset_options }</select>
            </label>
            <span class="clock" aria-label="Simulated time" data-testid="clock">
                { format!("t = {:.1} s", e.sim.now().as_secs_f64()) }
                if e.behind { <span class="behind" title="The simulation cannot keep up with this speed">{ " (slower than asked)" }</span> }
            </span>
            <button type="button" class="help-button" aria-label="Keyboard help" aria-keyshortcuts="?" onclick={cb(|e| e.help = !e.help)}>{ "?" }</button>
        </div>
    }
}

fn metrics(e: &Engine, snap: &Snapshot) -> Html {
    let m = e.sim.metrics();
    let recent: Vec<_> = m.series.iter().rev().take(5).collect();
    let sum = |f: &dyn Fn(&pathlab_sim::Point) -> u64| recent.iter().map(|p| f(p)).sum::<u64>();
    let n = recent.len().max(1) as f64;
    let reqs = sum(&|p| p.requests);
    let answered = sum(&|p| p.ok + p.stale);
    let avail = if reqs == 0 {
        100.0
    } else {
        answered as f64 * 100.0 / reqs as f64
    };
    let last = m.series.last();
    let db = &e.sim.settings().db;
    let shards = db.shards as usize;
    let led = snap
        .nodes
        .iter()
        .filter(|n| n.role == Some(Role::Leader) && n.state != NodeState::Down)
        .filter_map(|n| n.shard)
        .collect::<std::collections::BTreeSet<u32>>()
        .len();
    let leader = if db.replication.leaderless() {
        "no leader needed".to_string()
    } else if shards > 1 {
        format!("{led} of {shards} shards led")
    } else {
        snap.nodes
            .iter()
            .filter(|n| n.role == Some(Role::Leader) && n.state != NodeState::Down)
            .max_by_key(|n| n.term)
            .map(|n| format!("{} · t{}", n.id, n.term.unwrap_or(0)))
            .unwrap_or_else(|| "none".into())
    };
    let t = &m.totals;
    let tile = |label: &'static str, value: String, bad: bool, key: &'static str| {
        html! {
            <div class={classes!("tile", bad.then_some("bad"))} data-metric={key}>
                <span class="tile-label">{ label }</span>
                <span class="tile-value">{ value }</span>
            </div>
        }
    };
    html! {
        <section class="metrics" data-testid="metrics" aria-label="What users see (last 5 s)">
            { tile("Requests/s", format!("{:.0}", reqs as f64 / n), false, "throughput") }
            { tile("Answered", format!("{avail:.1} %"), avail < 99.0, "availability") }
            { tile("Latency p50", last.map(|p| format!("{:.0} ms", p.p50_ms)).unwrap_or("–".into()), false, "p50") }
            { tile("Latency p99", last.map(|p| format!("{:.0} ms", p.p99_ms)).unwrap_or("–".into()), last.is_some_and(|p| p.p99_ms > 1000.0), "p99") }
            { tile("Errors", t.failed.to_string(), sum(&|p| p.errors) > 0, "errors") }
            { tile("Stale reads", t.stale_reads.to_string(), sum(&|p| p.stale) > 0, "stale") }
            { tile("Lost writes", e.sim.lost_writes().to_string(), e.sim.lost_writes() > 0, "lost") }
            { tile("Rolled-back reads", t.rolled_back_reads.to_string(), t.rolled_back_reads > 0, "rolled-back") }
            { tile("DB leader", leader, false, "leader") }
            if t.conflicts > 0 {
                { tile("Conflicts", t.conflicts.to_string(), true, "conflicts") }
            }
            if t.sessions_lost > 0 {
                { tile("Logged out", t.sessions_lost.to_string(), true, "sessions-lost") }
            }
        </section>
    }
}

fn node_panel(e: &Engine, snap: &Snapshot, act: &Act) -> Html {
    let Some(i) = e.selected else {
        return html! {
            <section class="panel" aria-label="Node">
                <h2>{ "Break something" }</h2>
                <p class="hint">{ "Click a node in the diagram to see its state and crash, slow or isolate it. Click a moving request to follow it hop by hop." }</p>
            </section>
        };
    };
    let Some(n) = snap.nodes.get(i) else {
        return html! {};
    };
    let name = n.id.clone();
    let send = |make: Rc<dyn Fn(String) -> Command>| {
        let act = act.clone();
        let name = name.clone();
        Callback::from(move |_: MouseEvent| {
            let cmd = make(name.clone());
            act(&move |e: &mut Engine| {
                e.send(cmd.clone());
            })
        })
    };
    let slow_factor = Rc::new(Cell::new(10.0));
    let on_factor = {
        let f = slow_factor.clone();
        Callback::from(move |ev: Event| {
            f.set(
                ev.target_unchecked_into::<HtmlSelectElement>()
                    .value()
                    .parse()
                    .unwrap_or(10.0),
            );
        })
    };
    let down = n.state == NodeState::Down;
    let mut facts = vec![
        ("Kind", n.kind.label().to_string()),
        ("Region", n.region.clone()),
        ("State", diagram::describe(n)),
    ];
    if let (Some(b), Some(q)) = (n.busy, n.queued) {
        facts.push(("Workers busy", b.to_string()));
        facts.push(("Queued", q.to_string()));
    }
    if let Some(k) = n.keys {
        facts.push(("Keys held", k.to_string()));
    }
    if let Some(d) = n.dirty.filter(|&d| d > 0) {
        facts.push(("Not yet in the database", format!("{d} keys")));
    }
    if let Some(l) = n.lag_ms {
        facts.push(("Replication lag", format!("{l:.0} ms")));
    }
    if let Some(shard) = n.shard {
        facts.push(("Shard", shard.to_string()));
    }
    if let Some(share) = n.share {
        let what = if n.kind == NodeKind::Db {
            "Shard's share of database work"
        } else {
            "Share of requests"
        };
        facts.push((what, format!("{:.1} %", share * 100.0)));
    }
    let flushable = matches!(n.kind, NodeKind::Cache | NodeKind::Cdn);
    html! {
        <section class="panel node-panel" aria-label={format!("Node {name}")} data-testid="node-panel">
            <h2>{ &name }</h2>
            <dl>{ for facts.into_iter().map(|(k, v)| html! { <><dt>{ k }</dt><dd>{ v }</dd></> }) }</dl>
            <div class="actions">
                if down {
                    <button type="button" data-action="restart" onclick={send(Rc::new(|node| Command::Restart { node }))}>{ "Restart" }</button>
                } else {
                    <button type="button" class="danger" data-action="crash" onclick={send(Rc::new(|node| Command::Crash { node }))}>{ "Crash" }</button>
                }
                <span class="slow-group">
                    <select aria-label="Slow-down factor" onchange={on_factor}>
                        { for [2.0, 5.0, 10.0, 50.0].iter().map(|f| html! { <option value={f.to_string()} selected={*f == 10.0}>{ format!("×{f}") }</option> }) }
                    </select>
                    <button type="button" data-action="slow" disabled={down} onclick={{
                        let f = slow_factor.clone();
                        send(Rc::new(move |node| Command::Slow { node, factor: f.get() }))
                    }}>{ "Slow down" }</button>
                </span>
                if n.slow > 1.0 {
                    <button type="button" data-action="unslow" onclick={send(Rc::new(|node| Command::Slow { node, factor: 1.0 }))}>{ "Normal speed" }</button>
                }
                <button type="button" data-action="isolate" onclick={send(Rc::new(|node| Command::Isolate { node }))}>{ "Isolate" }</button>
                if flushable {
                    <button type="button" data-action="flush" onclick={send(Rc::new(|node| Command::Flush { node }))}>{ "Flush" }</button>
                }
            </div>
        </section>
    }
}

fn partition_panel(
    e: &Engine,
    act: &Act,
    cb: &dyn Fn(fn(&mut Engine)) -> Callback<MouseEvent>,
) -> Html {
    let regions: Vec<String> = e
        .scenario
        .network
        .regions
        .iter()
        .map(|r| r.name.clone())
        .collect();
    let region = Rc::new(RefCell::new(regions.first().cloned().unwrap_or_default()));
    let on_region = {
        let region = region.clone();
        Callback::from(move |ev: Event| {
            *region.borrow_mut() = ev.target_unchecked_into::<HtmlSelectElement>().value()
        })
    };
    let region_cmd = |up: bool| {
        let act = act.clone();
        let region = region.clone();
        Callback::from(move |_: MouseEvent| {
            let r = region.borrow().clone();
            let cmd = if up {
                Command::RegionUp { region: r }
            } else {
                Command::RegionDown { region: r }
            };
            act(&move |e: &mut Engine| {
                e.send(cmd.clone());
            })
        })
    };
    let picked: Vec<&str> = e.picked.iter().map(|&i| e.names[i].as_str()).collect();
    html! {
        <section class="panel" aria-label="Network">
            <h2>{ "Network" }</h2>
            <div class="actions">
                <button type="button" data-testid="partition-pick" aria-pressed={e.picking.to_string()} onclick={cb(|e| {
                    e.picking = !e.picking;
                    if !e.picking { e.picked.clear(); }
                })}>{ if e.picking { "Cancel picking" } else { "Partition…" } }</button>
                if e.picking {
                    <button type="button" class="danger" data-testid="partition-cut" disabled={e.picked.is_empty()} onclick={cb(|e| { e.cut(); })}>
                        { format!("Cut {} off", e.picked.len()) }
                    </button>
                }
                <button type="button" data-testid="heal" onclick={{
                    let act = act.clone();
                    Callback::from(move |_: MouseEvent| act(&|e: &mut Engine| { e.send(Command::Heal); }))
                }}>{ "Heal all" }</button>
            </div>
            if e.picking {
                <p class="hint">{ if picked.is_empty() { "Click the nodes of one side; everything else is the other side.".to_string() } else { format!("Side A: {}", picked.join(", ")) } }</p>
            }
            <div class="actions">
                <select aria-label="Region" onchange={on_region}>{ for regions.iter().map(|r| html! { <option value={r.clone()}>{ r }</option> }) }</select>
                <button type="button" data-testid="region-down" onclick={region_cmd(false)}>{ "Region down" }</button>
                <button type="button" data-testid="region-up" onclick={region_cmd(true)}>{ "Region up" }</button>
            </div>
        </section>
    }
}

fn settings_panel(e: &Engine, act: &Act) -> Html {
    let s = e.sim.settings();
    let sender = |make: Rc<dyn Fn(String) -> Option<Command>>| {
        let act = act.clone();
        Callback::from(move |ev: Event| {
            let target = ev.target_unchecked_into::<web_sys::Element>();
            let value = if let Some(i) = target.dyn_ref::<HtmlInputElement>() {
                if i.type_() == "checkbox" {
                    i.checked().to_string()
                } else {
                    i.value()
                }
            } else if let Some(sel) = target.dyn_ref::<HtmlSelectElement>() {
                sel.value()
            } else {
                return;
            };
            if let Some(cmd) = make(value) {
                act(&move |e: &mut Engine| {
                    e.send(cmd.clone());
                });
            }
        })
    };
    let num = |f: fn(f64) -> Command| -> Rc<dyn Fn(String) -> Option<Command>> {
        Rc::new(move |v: String| v.parse::<f64>().ok().map(f))
    };
    let load = |v: f64| Command::SetLoad {
        requests_per_s: Some(v),
        static_: None,
        read: None,
        write: None,
        key_skew: None,
    };
    let skew = |v: f64| Command::SetLoad {
        requests_per_s: None,
        static_: None,
        read: None,
        write: None,
        key_skew: Some(v),
    };
    let mix_static = |v: f64| Command::SetLoad {
        requests_per_s: None,
        static_: Some(v),
        read: None,
        write: None,
        key_skew: None,
    };
    let mix_read = |v: f64| Command::SetLoad {
        requests_per_s: None,
        static_: None,
        read: Some(v),
        write: None,
        key_skew: None,
    };
    let mix_write = |v: f64| Command::SetLoad {
        requests_per_s: None,
        static_: None,
        read: None,
        write: Some(v),
        key_skew: None,
    };
    let w = &s.workload;
    let d = &s.db;
    let db = |f: fn(&str) -> Option<Command>| -> Rc<dyn Fn(String) -> Option<Command>> {
        Rc::new(move |v: String| f(&v))
    };
    html! {
        <section class="panel settings" aria-label="Design and load">
            <h2>{ "Load" }</h2>
            <label class="row">{ format!("Requests/s: {:.0}", w.requests_per_s) }
                <input type="range" min="0" max="3000" step="10" value={w.requests_per_s.to_string()} aria-label="Requests per second" data-testid="rate" onchange={sender(num(load))} />
            </label>
            <div class="row mix">
                <label>{ "static" }<input type="number" min="0" max="100" step="1" value={format!("{:.0}", w.mix.static_ * 100.0 / mix_total(s))} aria-label="Share of static requests (%)" onchange={sender(num(mix_static))} /></label>
                <label>{ "read" }<input type="number" min="0" max="100" step="1" value={format!("{:.0}", w.mix.read * 100.0 / mix_total(s))} aria-label="Share of reads (%)" onchange={sender(num(mix_read))} /></label>
                <label>{ "write" }<input type="number" min="0" max="100" step="1" value={format!("{:.0}", w.mix.write * 100.0 / mix_total(s))} aria-label="Share of writes (%)" onchange={sender(num(mix_write))} /></label>
            </div>
            <label class="row">{ format!("Key skew (Zipf): {:.1}", w.key_skew) }
                <input type="range" min="0" max="2" step="0.1" value={w.key_skew.to_string()} aria-label="Key skew" onchange={sender(num(skew))} />
            </label>
            <h2>{ "Design" }</h2>
            <label class="row">{ "Replication " }
                <select aria-label="Replication" data-testid="replication" onchange={{
                    let act = act.clone();
                    let leaderless_now = d.replication.leaderless();
                    Callback::from(move |ev: Event| {
                        let v = ev.target_unchecked_into::<HtmlSelectElement>().value();
                        let mode = match v.as_str() { "sync" => Replication::Sync, "semi-sync" => Replication::SemiSync, "quorum" => Replication::Quorum, "multi-leader" => Replication::MultiLeader, _ => Replication::Async };
                        if mode.leaderless() || leaderless_now {
                            // Leaderless and leader-based groups differ in kind: start a new run.
                            act(&move |e: &mut Engine| e.redesign(|s| s.db.replication = mode));
                        } else {
                            let cmd = set_db(Some(mode), None, None, None);
                            act(&move |e: &mut Engine| { e.send(cmd.clone()); });
                        }
                    })
                }}>
                    <option value="async" selected={d.replication == Replication::Async}>{ "asynchronous" }</option>
                    <option value="semi-sync" selected={d.replication == Replication::SemiSync}>{ format!("semi-synchronous ({} of {})", d.sync_followers, d.replicas.saturating_sub(1)) }</option>
                    <option value="sync" selected={d.replication == Replication::Sync}>{ "synchronous" }</option>
                    <option value="quorum" selected={d.replication == Replication::Quorum}>{ "leaderless quorums (restarts the run)" }</option>
                    <option value="multi-leader" selected={d.replication == Replication::MultiLeader}>{ "a leader in every region (restarts the run)" }</option>
                </select>
            </label>
            if d.replication == Replication::Quorum {
                <div class="row mix">
                    { for [("R", "Replicas a read waits for", true), ("W", "Replicas a write waits for", false)].into_iter().map(|(label, aria, is_r)| {
                        let act = act.clone();
                        let value = if is_r { d.quorum_r } else { d.quorum_w };
                        html! {
                            <label>{ label }
                                <input type="number" min="1" max={d.replicas.to_string()} value={value.to_string()} aria-label={aria} data-testid={if is_r { "quorum-r" } else { "quorum-w" }}
                                       onchange={Callback::from(move |ev: Event| {
                                           if let Ok(n) = ev.target_unchecked_into::<HtmlInputElement>().value().trim().parse::<u32>() {
                                               act(&move |e: &mut Engine| e.redesign(|s| if is_r { s.db.quorum_r = n } else { s.db.quorum_w = n }));
                                           }
                                       })} />
                            </label>
                        }
                    }) }
                    <label>{ "repair" }
                        <input type="checkbox" checked={d.read_repair} aria-label="Read repair" data-testid="read-repair"
                               onchange={{
                                   let act = act.clone();
                                   Callback::from(move |ev: Event| {
                                       let on = ev.target_unchecked_into::<HtmlInputElement>().checked();
                                       act(&move |e: &mut Engine| e.redesign(|s| s.db.read_repair = on));
                                   })
                               }} />
                    </label>
                </div>
                <p class="hint">{ format!("N = {}, R = {}, W = {}: {}", d.replicas, d.quorum_r, d.quorum_w, if d.quorum_r + d.quorum_w > d.replicas { "every read meets the newest write" } else { "reads can miss the newest write" }) }</p>
            }
            if d.replication == Replication::SemiSync {
                <label class="row">{ "Followers to wait for " }
                    <input type="number" min="1" max={d.replicas.saturating_sub(1).max(1).to_string()} value={d.sync_followers.to_string()} aria-label="Followers to wait for" data-testid="sync-followers"
                           onchange={sender(db(|v| v.trim().parse::<u32>().ok().map(|k| Command::SetDb { replication: None, follower_ack: None, read_from: None, fencing: None, sync_followers: Some(k) })))} />
                </label>
            }
            { choice("Follower acknowledges when", "follower-ack", &[
                ("received", "received (durable)", d.follower_ack == FollowerAck::Received),
                ("applied", "applied (visible)", d.follower_ack == FollowerAck::Applied),
            ], sender(db(|v| Some(set_db(None, Some(if v == "received" { FollowerAck::Received } else { FollowerAck::Applied }), None, None))))) }
            { choice("Reads go to", "read-from", &[
                ("leader", "the leader", d.read_from == ReadFrom::Leader),
                ("followers", "any follower", d.read_from == ReadFrom::Followers),
                ("read-your-writes", "a follower that has my last write", d.read_from == ReadFrom::ReadYourWrites),
                ("sticky", "the same follower each time", d.read_from == ReadFrom::Sticky),
                ("nearest", "the nearest replica", d.read_from == ReadFrom::Nearest),
            ], sender(db(|v| Some(set_db(None, None, Some(match v { "followers" => ReadFrom::Followers, "read-your-writes" => ReadFrom::ReadYourWrites, "sticky" => ReadFrom::Sticky, "nearest" => ReadFrom::Nearest, _ => ReadFrom::Leader }), None))))) }
            <label class="row check">
                <input type="checkbox" checked={d.fencing} aria-label="Fencing" data-testid="fencing" onchange={sender(db(|v| Some(set_db(None, None, None, Some(v == "true")))))} />
                { " Fencing: a leader cut off from the majority steps down" }
            </label>
            { choice("Cache writes", "write-policy", &[
                ("invalidate", "invalidate", s.cache.write_policy == WritePolicy::Invalidate),
                ("write-through", "write-through", s.cache.write_policy == WritePolicy::WriteThrough),
                ("write-back", "write-back", s.cache.write_policy == WritePolicy::WriteBack),
            ], sender(db(|v| Some(Command::SetCache { write_policy: Some(match v { "write-through" => WritePolicy::WriteThrough, "write-back" => WritePolicy::WriteBack, _ => WritePolicy::Invalidate }), eviction: None, ttl_s: None })))) }
            { choice("Cache eviction", "eviction", &[
                ("lru", "least recently used", s.cache.eviction == Eviction::Lru),
                ("lfu", "least frequently used", s.cache.eviction == Eviction::Lfu),
                ("fifo", "first in, first out", s.cache.eviction == Eviction::Fifo),
            ], sender(db(|v| Some(Command::SetCache { write_policy: None, eviction: Some(match v { "lfu" => Eviction::Lfu, "fifo" => Eviction::Fifo, _ => Eviction::Lru }), ttl_s: None })))) }
            { choice("Load balancing", "lb-strategy", &LbStrategy::ALL.map(|st| (st.label(), st.label(), s.lb.strategy == st)),
                sender(db(|v| LbStrategy::from_label(v).map(|s| Command::SetLb { strategy: Some(s), sticky: None, virtual_nodes: None })))) }
            <label class="row check">
                <input type="checkbox" checked={s.lb.sticky} aria-label="Sticky sessions" data-testid="sticky" onchange={sender(db(|v| Some(Command::SetLb { strategy: None, sticky: Some(v == "true"), virtual_nodes: None })))} />
                { " Sticky sessions" }
            </label>
            { choice("Session state", "session-store", &[
                ("shared", "shared store", s.app.session_store == SessionStore::Shared),
                ("local", "each server's memory", s.app.session_store == SessionStore::Local),
            ], sender(db(|v| Some(Command::SetApp { session_store: if v == "local" { SessionStore::Local } else { SessionStore::Shared } })))) }
            <label class="row">{ "App servers " }
                <input type="number" min="1" max="64" step="1" value={e.sim.active_app_servers().to_string()} aria-label="App servers" data-testid="servers"
                       onchange={sender(db(|v| v.trim().parse::<u32>().ok().map(|servers| Command::Scale { servers })))} />
            </label>
            <h2>{ "Shards (restart the run)" }</h2>
            <label class="row">{ "Shards " }
                <input type="number" min="1" max="8" value={e.scenario.db.shards.to_string()} aria-label="Shards" data-testid="shards"
                       onchange={{
                           let act = act.clone();
                           Callback::from(move |ev: Event| {
                               if let Ok(n) = ev.target_unchecked_into::<HtmlInputElement>().value().trim().parse::<u32>() {
                                   act(&move |e: &mut Engine| e.redesign(|s| {
                                       s.db.shards = n;
                                       s.db.range_bounds.clear();
                                   }));
                               }
                           })
                       }} />
            </label>
            { choice("Keys split by", "partitioning", &[
                ("hash", "hash of the key", e.scenario.db.partitioning == Partitioning::Hash),
                ("range", "key ranges", e.scenario.db.partitioning == Partitioning::Range),
            ], {
                let act = act.clone();
                Callback::from(move |ev: Event| {
                    let range = ev.target_unchecked_into::<HtmlSelectElement>().value() == "range";
                    act(&move |e: &mut Engine| e.redesign(|s| s.db.partitioning = if range { Partitioning::Range } else { Partitioning::Hash }));
                })
            }) }
            if e.scenario.db.shards > 1 {
                <p class="hint">{ shard_moves_text(e) }</p>
            }
            <h2>{ "Follow-up work" }</h2>
            <label class="row check">
                <input type="checkbox" checked={e.scenario.queue.enabled} aria-label="Order queue" data-testid="queue"
                       onchange={{
                           let act = act.clone();
                           Callback::from(move |ev: Event| {
                               let on = ev.target_unchecked_into::<HtmlInputElement>().checked();
                               act(&move |e: &mut Engine| e.redesign(|s| s.queue.enabled = on));
                           })
                       }} />
                { " Writes are orders: payment, inventory and email go through a queue (restarts the run)" }
            </label>
            if e.scenario.queue.enabled {
                <label class="row">{ "Queue workers (restarts the run) " }
                    <input type="number" min="1" max="64" value={e.scenario.queue.workers.to_string()} aria-label="Queue workers" data-testid="workers"
                           onchange={{
                               let act = act.clone();
                               Callback::from(move |ev: Event| {
                                   if let Ok(n) = ev.target_unchecked_into::<HtmlInputElement>().value().trim().parse::<u32>() {
                                       act(&move |e: &mut Engine| e.redesign(|s| s.queue.workers = n));
                                   }
                               })
                           }} />
                </label>
                if let Some(b) = e.sim.queue_backlog() {
                    <p class="hint">{ format!("{b} jobs waiting or in progress; {} steps done twice so far.", e.sim.metrics().totals.job_duplicates) }</p>
                }
            }
            { advanced_panel(e, act) }
            if let Some(m) = e.sim.summary_moves() {
                <p class="hint">{ m }</p>
            }
        </section>
    }
}

/// A labelled choice: `options` are (value, words, selected).
fn choice(
    label: &'static str,
    testid: &'static str,
    options: &[(&'static str, &'static str, bool)],
    onchange: Callback<Event>,
) -> Html {
    html! {
        <label class="row">{ label }{ " " }
            <select aria-label={label} data-testid={testid} {onchange}>
                { for options.iter().map(|&(value, words, selected)| html! { <option {value} {selected}>{ words }</option> }) }
            </select>
        </label>
    }
}

/// In words, how many keys an added shard would move.
fn shard_moves_text(e: &Engine) -> String {
    let m = e.sim.summary_shard_moves();
    format!(
        "Adding a shard would move {:.0} % of keys with hash mod N, {:.0} % with a consistent-hash ring, {:.0} % by splitting the widest key range.",
        m.hash_mod * 100.0,
        m.consistent_hash * 100.0,
        m.range_split * 100.0
    )
}

/// Parses a list of numbers like "1, 1, 2, 1"; `None` if any is not a number.
fn numbers<T: std::str::FromStr>(text: &str) -> Option<Vec<T>> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().ok())
        .collect()
}

/// The rarer knobs, folded away: each is a scenario field; those that
/// change which nodes exist or how they were built start a new run.
fn advanced_panel(e: &Engine, act: &Act) -> Html {
    let s = &e.scenario;
    let live = e.sim.settings();
    let field = |label: &'static str, testid: &'static str, value: String, apply: Apply| {
        let act = act.clone();
        html! {
            <label class="row">{ label }
                <input type="text" size="10" value={value} aria-label={label} data-testid={testid}
                       onchange={Callback::from(move |ev: Event| {
                           let text = ev.target_unchecked_into::<HtmlInputElement>().value();
                           let apply = apply.clone();
                           act(&move |e: &mut Engine| apply(e, text.clone()));
                       })} />
            </label>
        }
    };
    let join = |v: &[f64]| {
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    html! {
        <details class="advanced">
            <summary>{ "More settings" }</summary>
            { field("Ring points per server", "virtual-nodes", live.lb.virtual_nodes.to_string(), Rc::new(|e: &mut Engine, t: String| match t.trim().parse::<u32>() {
                Ok(v) => { e.send(Command::SetLb { strategy: None, sticky: None, virtual_nodes: Some(v) }); }
                Err(_) => e.error = Some(format!("ring points must be a whole number, not {t:?}")),
            })) }
            { field("Cache entry lifetime (s)", "cache-ttl", live.cache.ttl_s.to_string(), Rc::new(|e: &mut Engine, t: String| match t.trim().parse::<f64>() {
                Ok(v) => { e.send(Command::SetCache { write_policy: None, eviction: None, ttl_s: Some(v) }); }
                Err(_) => e.error = Some(format!("the cache lifetime must be a number of seconds, not {t:?}")),
            })) }
            <p class="hint">{ "These start a new run:" }</p>
            { field("Server weights", "weights", join(&s.app.weights), Rc::new(|e: &mut Engine, t: String| match numbers::<f64>(&t) {
                Some(w) => e.redesign(|s| s.app.weights = w),
                None => e.error = Some(format!("weights are numbers separated by commas, like 1, 1, 2, 1 — not {t:?}")),
            })) }
            { field("Static-asset servers (path balancing)", "path-static", s.lb.path_static_servers.to_string(), Rc::new(|e: &mut Engine, t: String| match t.trim().parse::<u32>() {
                Ok(n) => e.redesign(|s| s.lb.path_static_servers = n),
                Err(_) => e.error = Some(format!("the number of static-asset servers must be a whole number, not {t:?}")),
            })) }
            { field("Shard range bounds", "range-bounds", s.db.range_bounds.iter().map(|b| b.to_string()).collect::<Vec<_>>().join(", "), Rc::new(|e: &mut Engine, t: String| match numbers::<u32>(&t) {
                Some(b) => e.redesign(|s| s.db.range_bounds = b),
                None => e.error = Some(format!("range bounds are whole numbers separated by commas, like 100, 400 — not {t:?}")),
            })) }
            { field("Replica regions", "placement", s.db.placement.join(", "), Rc::new(|e: &mut Engine, t: String| {
                let regions: Vec<String> = t.split(|c: char| c == ',' || c.is_whitespace()).filter(|r| !r.is_empty()).map(String::from).collect();
                e.redesign(|s| s.db.placement = regions);
            })) }
            { field("Queue wait before a 503 (ms)", "enqueue-timeout", s.queue.enqueue_timeout_ms.to_string(), Rc::new(|e: &mut Engine, t: String| match t.trim().parse::<f64>() {
                Ok(v) => e.redesign(|s| s.queue.enqueue_timeout_ms = v),
                Err(_) => e.error = Some(format!("the queue wait must be a number of milliseconds, not {t:?}")),
            })) }
            { field("Write-back flush interval (ms)", "flush-interval", s.cache.flush_interval_ms.to_string(), Rc::new(|e: &mut Engine, t: String| match t.trim().parse::<f64>() {
                Ok(v) => e.redesign(|s| s.cache.flush_interval_ms = v),
                Err(_) => e.error = Some(format!("the flush interval must be a number of milliseconds, not {t:?}")),
            })) }
            { field("Queue visibility timeout (ms)", "visibility-timeout", s.queue.visibility_timeout_ms.to_string(), Rc::new(|e: &mut Engine, t: String| match t.trim().parse::<f64>() {
                Ok(v) => e.redesign(|s| s.queue.visibility_timeout_ms = v),
                Err(_) => e.error = Some(format!("the visibility timeout must be a number of milliseconds, not {t:?}")),
            })) }
            { field("Job steps: payment, inventory, email (ms)", "task-ms", join(&s.queue.task_ms), Rc::new(|e: &mut Engine, t: String| match numbers::<f64>(&t) {
                Some(v) if v.len() == 3 => e.redesign(|s| s.queue.task_ms = [v[0], v[1], v[2]]),
                _ => e.error = Some(format!("give three times in milliseconds, like 60, 20, 120 — not {t:?}")),
            })) }
        </details>
    }
}

/// A database policy change with only the given fields set.
fn set_db(
    replication: Option<Replication>,
    follower_ack: Option<FollowerAck>,
    read_from: Option<ReadFrom>,
    fencing: Option<bool>,
) -> Command {
    Command::SetDb {
        replication,
        follower_ack,
        read_from,
        fencing,
        sync_followers: None,
    }
}

fn mix_total(s: &pathlab_sim::Scenario) -> f64 {
    let m = &s.workload.mix;
    (m.static_ + m.read + m.write).max(f64::MIN_POSITIVE)
}

fn event_log(e: &Engine, act: &Act) -> Html {
    let log = e.sim.log();
    let shown = log.iter().rev().take(200);
    html! {
        <section class="panel log" aria-label="Event log">
            <h2>{ format!("Event log ({})", log.len()) }</h2>
            <ol data-testid="event-log" aria-live="polite" reversed=true>
                { for shown.map(|entry| {
                    let text = e.sim.describe(entry);
                    let at = format!("{:.3} s", entry.at.as_secs_f64());
                    match entry.event.request() {
                        Some(id) => {
                            let act = act.clone();
                            html! {
                                <li class="log-entry linked">
                                    <time>{ at }</time>
                                    <button type="button" class="link" onclick={Callback::from(move |_: MouseEvent| act(&move |e: &mut Engine| e.request = Some(id)))}>{ text }</button>
                                </li>
                            }
                        }
                        None => html! { <li class="log-entry"><time>{ at }</time><span>{ text }</span></li> },
                    }
                }) }
            </ol>
        </section>
    }
}

fn requests_panel(e: &Engine, act: &Act) -> Html {
    use pathlab_sim::Outcome;
    let notable: Vec<_> = e
        .sim
        .traces()
        .rev()
        .filter(|t| t.outcome != Outcome::Ok)
        .take(6)
        .collect();
    let latest: Vec<_> = e
        .sim
        .traces()
        .rev()
        .filter(|t| t.outcome == Outcome::Ok)
        .take(6)
        .collect();
    let row = |t: &pathlab_sim::Trace| {
        let id = t.id;
        let act = act.clone();
        let what = match t.outcome {
            Outcome::Ok => "ok".to_string(),
            Outcome::Stale => "stale".to_string(),
            Outcome::Failed(err) => err.label().to_string(),
        };
        html! {
            <li>
                <button type="button" class={classes!("link", format!("outcome-{}", what.split('-').next().unwrap_or("ok")))} data-request={id.0.to_string()}
                        onclick={Callback::from(move |_: MouseEvent| act(&move |e: &mut Engine| e.request = Some(id)))}>
                    { format!("#{} {} {} — {} ({:.0} ms)", id.0, t.kind.label(), e.names.get(t.client.0 as usize).map(String::as_str).unwrap_or("?"), what, t.end.since(t.start) as f64 / 1000.0) }
                </button>
            </li>
        }
    };
    html! {
        <section class="panel requests" aria-label="Requests" data-testid="requests">
            <h2>{ "Requests" }</h2>
            <h3>{ "Failed or stale" }</h3>
            if notable.is_empty() { <p class="hint">{ "None yet." }</p> }
            <ul>{ for notable.iter().map(|t| row(t)) }</ul>
            <h3>{ "Latest" }</h3>
            <ul>{ for latest.iter().map(|t| row(t)) }</ul>
        </section>
    }
}

fn legend(e: &Engine) -> Html {
    let fp = e.sim.fingerprint_hex();
    html! {
        <footer class="legend" aria-label="Legend">
            <span><i class="sw static"></i>{ "static (square)" }</span>
            <span><i class="sw read"></i>{ "read (circle)" }</span>
            <span><i class="sw write"></i>{ "write (diamond)" }</span>
            <span><i class="sw error"></i>{ "error (✕)" }</span>
            <span><i class="sw stale"></i>{ "stale answer (ring)" }</span>
            <span>{ "✂ cut link · ★ leader · dashed ✕ down · bar: replication lag" }</span>
            <span class="fingerprint" data-testid="fingerprint" data-fingerprint={fp.clone()}
                  title="A hash of every event so far: the same scenario, seed and actions give the same fingerprint on any machine">
                { format!("seed {} · {} events · fingerprint {fp}", e.seed, e.sim.events()) }
            </span>
        </footer>
    }
}

fn help(cb: &dyn Fn(fn(&mut Engine)) -> Callback<MouseEvent>) -> Html {
    html! {
        <div class="overlay" role="dialog" aria-modal="true" aria-label="Keyboard help" data-testid="help">
            <section class="panel help">
                <h2>{ "Keys" }</h2>
                <dl>
                    <dt><kbd>{ "Space" }</kbd></dt><dd>{ "play / pause" }</dd>
                    <dt><kbd>{ "→" }</kbd></dt><dd>{ "step 0.1 s" }</dd>
                    <dt><kbd>{ "+" }</kbd>{ " / " }<kbd>{ "−" }</kbd></dt><dd>{ "faster / slower" }</dd>
                    <dt><kbd>{ "r" }</kbd></dt><dd>{ "reset to time zero (same seed)" }</dd>
                    <dt><kbd>{ "?" }</kbd></dt><dd>{ "this help" }</dd>
                    <dt><kbd>{ "Esc" }</kbd></dt><dd>{ "close panels" }</dd>
                    <dt><kbd>{ "Tab" }</kbd>{ ", " }<kbd>{ "Enter" }</kbd></dt><dd>{ "move between nodes and open one" }</dd>
                </dl>
                <button type="button" onclick={cb(|e| e.help = false)}>{ "Close" }</button>
            </section>
        </div>
    }
}
