//! The application shell: the page layout (normal, presenter, compact), the animation-frame loop, the keyboard, dialogs that keep focus, and the one dispatcher through which every control's action reaches `Engine::act`.

use crate::action::{Action, key_action};
use crate::charts::Charts;
use crate::diagram::{self, DiagramEvents};
use crate::engine::{Engine, SPEEDS};
use crate::panels::{self, Dispatch};
use crate::particles;
use crate::waterfall::Waterfall;
use gloo::events::{EventListener, EventListenerOptions};
use gloo::render::{AnimationFrame, request_animation_frame};
use pathlab_sim::{NodeKind, Snapshot};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

/// How often the DOM (diagram, charts, log) is refreshed while playing; the
/// canvas of moving requests is redrawn every frame.
const UI_REFRESH_MS: f64 = 125.0;

/// Below this width (CSS px) the page stacks and the diagram runs down.
const NARROW_PX: f64 = 800.0;

/// Most of the time refreshing the DOM may take: after a slow refresh (a
/// large system takes long to snapshot) the next one waits longer.
const MAX_REFRESH_SHARE: f64 = 0.1;

/// Options read from the page address (`?preset=…&seed=…&play=1&speed=…&present=1&embed=1`).
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
    /// Presenter mode: large type, the diagram filling the screen.
    pub present: bool,
    /// Compact layout for a frame in another page.
    pub embed: bool,
}

/// Decodes `%2D`-style escapes and `+` (a space) in a query value; a `%`
/// not followed by two hex digits stays as it is.
pub fn url_decode(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(b)) => {
                out.push(b);
                i += 2;
            }
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A yes/no option: `1`, `true`, `yes`, `on` (or nothing) and `0`,
/// `false`, `no`, `off`; anything else is reported and counts as no.
fn flag(name: &str, v: &str, warnings: &mut Vec<String>) -> bool {
    match v.to_ascii_lowercase().as_str() {
        "" | "1" | "true" | "yes" | "on" => true,
        "0" | "false" | "no" | "off" => false,
        _ => {
            warnings.push(format!(
                "{name}={v:?} is neither yes nor no (use 1 or 0): ignored"
            ));
            false
        }
    }
}

impl StartOptions {
    /// Reads options from a query string; unknown or malformed values are
    /// ignored and reported back as warnings, one per problem.
    pub fn parse(query: &str) -> (StartOptions, Vec<String>) {
        let mut o = StartOptions::default();
        let mut warnings = Vec::new();
        for pair in query
            .trim_start_matches('?')
            .split('&')
            .filter(|p| !p.is_empty())
        {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (k, v) = (url_decode(k), url_decode(v));
            match k.as_str() {
                "preset" => o.preset = Some(v),
                "seed" => match v.parse() {
                    Ok(s) => o.seed = Some(s),
                    Err(_) => warnings.push(format!("ignored seed {v:?}: not a whole number")),
                },
                "play" => o.play = flag("play", &v, &mut warnings),
                "present" => o.present = flag("present", &v, &mut warnings),
                "embed" => o.embed = flag("embed", &v, &mut warnings),
                "speed" => match v.parse::<f64>() {
                    Ok(s) if s.is_finite() && s > 0.0 => {
                        let (lo, hi) = (SPEEDS[0], SPEEDS[SPEEDS.len() - 1]);
                        if s > hi {
                            warnings.push(format!(
                                "speed {v} is above the fastest, {hi}×: playing at {hi}×"
                            ));
                        } else if s < lo {
                            warnings.push(format!(
                                "speed {v} is below the slowest, {lo}×: playing at {lo}×"
                            ));
                        }
                        o.speed = Some(s.clamp(lo, hi));
                    }
                    _ => warnings.push(format!("ignored speed {v:?}: not a positive number")),
                },
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
    engine.presenter = opts.present;
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
        let (width, height) = engine.orientation.size();
        let scale = (fw / width).min(fh / height);
        let view = particles::Viewport {
            width: w as usize,
            height: h as usize,
            scale,
            ox: (fw - width * scale) / 2.0,
            oy: (fh - height * scale) / 2.0,
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
        engine.announce(ts);
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
    let embed = use_state(|| false);
    let engine = {
        let options = props.options.clone();
        let embed = embed.clone();
        use_mut_ref(move || {
            let (opts, warnings) = match options {
                Some(o) => (o, Vec::new()),
                None => StartOptions::parse(&query_string()),
            };
            if opts.embed {
                embed.set(true);
            }
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

    // Every control's action goes through here to `Engine::act`, then the
    // page is drawn again.
    let dispatch: Dispatch = {
        let engine = engine.clone();
        let update = update.clone();
        let painter = painter.clone();
        Callback::from(move |action: Action| {
            if let Ok(mut e) = engine.try_borrow_mut() {
                e.act(action);
                painter.draw(&e, true);
            }
            update.force_update();
        })
    };

    // Keyboard: keys map to actions through `key_action`, for key presses on
    // the page itself or inside this app (not inside another app on the
    // page), never while typing, and never taking Space or Enter from a
    // focused button. Tab stays inside an open dialog.
    let root = use_node_ref();
    {
        let dispatch = dispatch.clone();
        let root = root.clone();
        let engine = engine.clone();
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
                    let target = e
                        .target()
                        .and_then(|t| t.dyn_into::<web_sys::Element>().ok());
                    if e.key() == "Tab" && keep_focus_in_dialog(e.shift_key()) {
                        e.prevent_default();
                        return;
                    }
                    let tag = target.as_ref().map(|t| t.tag_name()).unwrap_or_default();
                    if matches!(tag.as_str(), "INPUT" | "SELECT" | "TEXTAREA") {
                        return;
                    }
                    let control = matches!(tag.as_str(), "BUTTON" | "A" | "SUMMARY")
                        || target
                            .as_ref()
                            .is_some_and(|t| t.get_attribute("role").as_deref() == Some("button"));
                    if control && matches!(e.key().as_str(), " " | "Enter") {
                        return;
                    }
                    let node = target.clone().map(web_sys::Node::from);
                    let doc = gloo::utils::document();
                    let on_page = node.as_ref().is_none_or(|t| {
                        doc.body().is_some_and(|b| b.is_same_node(Some(t)))
                            || doc
                                .document_element()
                                .is_some_and(|d| d.is_same_node(Some(t)))
                            || doc.is_same_node(Some(t))
                    });
                    let inside = root.get().is_some_and(|r| r.contains(node.as_ref()));
                    if !on_page && !inside {
                        return;
                    }
                    let presenting = engine.try_borrow().is_ok_and(|e| e.presenter);
                    let modified = e.ctrl_key() || e.meta_key() || e.alt_key();
                    if let Some(action) = key_action(&e.key(), modified, presenting) {
                        e.prevent_default();
                        dispatch.emit(action);
                    }
                },
            );
            move || drop(listener)
        });
    }

    // Narrow screens (below 800 px, not in a frame) get the diagram's path
    // running down the page; wide ones across.
    {
        let dispatch = dispatch.clone();
        let engine = engine.clone();
        let embedded = *embed;
        use_effect_with(embedded, move |&embedded| {
            let check = move || {
                let width = gloo::utils::window()
                    .inner_width()
                    .ok()
                    .and_then(|w| w.as_f64())
                    .unwrap_or(1280.0);
                let narrow = !embedded && width < NARROW_PX;
                let down = engine
                    .try_borrow()
                    .is_ok_and(|e| e.orientation == crate::layout::Orientation::Down);
                if narrow != down {
                    dispatch.emit(Action::Viewport { narrow });
                }
            };
            check();
            let listener = EventListener::new(&gloo::utils::window(), "resize", move |_| check());
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
            let dispatch = dispatch.clone();
            let names = e.names.clone();
            Callback::from(move |i: usize| {
                if let Some(node) = names.get(i) {
                    dispatch.emit(Action::ClickNode { node: node.clone() });
                }
            })
        },
        background: {
            let engine = engine.clone();
            let dispatch = dispatch.clone();
            Callback::from(move |(x, y): (f64, f64)| {
                let hit = engine
                    .try_borrow()
                    .ok()
                    .map(|e| (particles::request_at(&e, x, y, 12.0), e.picking));
                match hit {
                    Some((Some(id), _)) => dispatch.emit(Action::OpenRequest { id: Some(id) }),
                    Some((None, false)) => dispatch.emit(Action::Select { node: None }),
                    _ => {}
                }
            })
        },
    };
    let layout = if *embed {
        "embed"
    } else if e.presenter {
        "presenter"
    } else {
        "full"
    };

    html! {
        <div class={classes!("lab", format!("layout-{layout}"))} ref={root} data-layout={layout} data-actions={e.log.to_json()}>
            <header class="topbar">
                <h1>{ "PathLab" }<span class="tagline">{ " — the request-path laboratory" }</span></h1>
                { panels::controls::view(&e, &dispatch) }
            </header>
            if layout == "full" { { panels::intro::view(&e) } }
            { panels::metrics::view(&e, &snap) }
            if let Some(msg) = e.error.clone() {
                <div class="notice" role="alert" data-testid="notice">
                    <span>{ msg }</span>
                    <button type="button" aria-label="Dismiss" onclick={panels::on_click(&dispatch, Action::Dismiss)}>{ "✕" }</button>
                </div>
            }
            <main class="stage">
                { diagram::view(&e, &snap, &events, &canvas) }
                if layout == "full" {
                    <aside class="side" aria-label="Break things">
                        { panels::node::view(&e, &snap, &dispatch) }
                        { panels::network::view(&e, &dispatch) }
                        { panels::settings::view(&e, &dispatch) }
                    </aside>
                } else if e.selected.is_some() {
                    <aside class="side" aria-label="Break things">
                        { panels::node::view(&e, &snap, &dispatch) }
                    </aside>
                }
            </main>
            if layout == "full" {
                <section class="lower">
                    <Charts series={Rc::new(last_minute(&e))} replicas={Rc::new(replica_names(&snap))} window_s={60} playing={e.playing} />
                    { panels::log::view(&e, &dispatch) }
                    { panels::requests::view(&e, &dispatch) }
                </section>
                { panels::help::legend(&e) }
            }
            <div class="sr-only" aria-live="polite" data-testid="announcer">{ e.announcement.clone() }</div>
            if let (Some(id), None) = (e.request, e.request.and_then(|id| e.sim.request_trace(id))) {
                <div class="overlay" role="dialog" aria-modal="true" aria-label="Request details">
                    <section class="panel waterfall" data-testid="waterfall">
                        <h2>{ format!("Request #{}", id.0) }</h2>
                        <p class="wf-outcome wf-outcome-lost" data-testid="waterfall-outcome">{
                            panels::log::lost_story(&e.sim, id).unwrap_or_else(|| "This request has finished.".into())
                        }</p>
                        <p class="hint">{ "Its hop-by-hop details are no longer kept: the page keeps those of the most recent requests only." }</p>
                        <button type="button" data-testid="waterfall-close" onclick={panels::on_click(&dispatch, Action::OpenRequest { id: None })}>{ "Close" }</button>
                    </section>
                </div>
            }
            if let Some(trace) = e.request.and_then(|id| e.sim.request_trace(id)) {
                <div class="overlay" role="dialog" aria-modal="true" aria-label="Request details">
                    <Waterfall trace={Rc::new(trace.clone())} names={Rc::new(e.names.clone())}
                               lost={panels::log::lost_story(&e.sim, trace.id).map(AttrValue::from)}
                               on_close={{
                                   let dispatch = dispatch.clone();
                                   Callback::from(move |()| dispatch.emit(Action::OpenRequest { id: None }))
                               }} />
                </div>
            }
            if e.help {
                { panels::help::help(&dispatch) }
            }
        </div>
    }
}

/// With a dialog open, keeps Tab and Shift+Tab cycling through its
/// controls; returns true if it moved the focus itself.
fn keep_focus_in_dialog(back: bool) -> bool {
    let doc = gloo::utils::document();
    let Some(dialog) = doc
        .query_selector("[role='dialog'][aria-modal='true']")
        .ok()
        .flatten()
    else {
        return false;
    };
    let Ok(list) = dialog.query_selector_all(
        "button:not([disabled]), a[href], input:not([disabled]), select:not([disabled]), [tabindex]:not([tabindex='-1'])",
    ) else {
        return false;
    };
    let items: Vec<web_sys::HtmlElement> = (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
        .collect();
    let (Some(first), Some(last)) = (items.first(), items.last()) else {
        return false;
    };
    let active = doc.active_element();
    let inside = active
        .as_ref()
        .is_some_and(|a| dialog.contains(Some(a.as_ref())));
    let at = |el: &web_sys::HtmlElement| {
        active
            .as_ref()
            .is_some_and(|a| a.is_same_node(Some(el.as_ref())))
    };
    let to = if !inside {
        first
    } else if back && at(first) {
        last
    } else if !back && at(last) {
        first
    } else {
        return false;
    };
    let _ = to.focus();
    true
}

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
