//! The application shell: the page layout (normal, presenter, compact), the animation-frame loop, the keyboard, dialogs that keep focus, and the one dispatcher through which every control's action reaches `Engine::act`.

use crate::action::Action;
use crate::charts::{Charts, VersusCharts};
use crate::diagram::{self, DiagramEvents};
use crate::engine::Engine;
use crate::frame::{Loop, Painter};
use crate::link::{Link, LinkMaker};
use crate::options::{StartOptions, initial_engine};
use crate::panels::{self, Dispatch};
use crate::waterfall::Waterfall;
use gloo::events::EventListener;
use pathlab_sim::{NodeKind, Snapshot};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// Below this width (CSS px) the page stacks and the diagram runs down.
const NARROW_PX: f64 = 800.0;

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
    /// How to reach the simulation core; when absent, the core is started
    /// in a Web Worker (tests give a core in the same thread).
    #[prop_or_default]
    pub link: Option<LinkMaker>,
}

/// The page's own link to the core: a Web Worker.
fn worker_link() -> Box<dyn Link> {
    #[cfg(target_arch = "wasm32")]
    return Box::new(crate::link::WorkerLink::start());
    #[cfg(not(target_arch = "wasm32"))]
    Box::new(crate::link::NoLink)
}

/// Cores the browser reports (`navigator.hardwareConcurrency`), 1 to 8.
fn cores() -> usize {
    use web_sys::js_sys::Reflect;
    Reflect::get(&gloo::utils::window(), &"navigator".into())
        .and_then(|n| Reflect::get(&n, &"hardwareConcurrency".into()))
        .ok()
        .and_then(|c| c.as_f64())
        .unwrap_or(2.0)
        .clamp(1.0, 8.0) as usize
}

/// The whole application.
#[component]
pub fn App(props: &AppProps) -> Html {
    let embed = use_state(|| false);
    // What `controls=` and `panels=` leave out, as classes for the root.
    let hidden = use_state(Vec::<String>::new);
    // The embedding page's origin (`parent=`), which may drive this one.
    let parent = use_mut_ref(|| None::<String>);
    let engine = {
        let options = props.options.clone();
        let link = props.link.clone();
        let hidden = hidden.clone();
        let embed = embed.clone();
        let parent = parent.clone();
        use_mut_ref(move || {
            let (opts, warnings) = match options {
                Some(o) => (o, Vec::new()),
                None => {
                    let (mut o, w) = StartOptions::parse(&query_string());
                    let hash = gloo::utils::window().location().hash().unwrap_or_default();
                    o.run = hash.strip_prefix("#run=").map(str::to_string);
                    o.play |= o.autoplay && !crate::frame::prefers_reduced_motion();
                    (o, w)
                }
            };
            if opts.embed {
                embed.set(true);
            }
            hidden.set(opts.hidden());
            parent.replace(opts.parent.clone());
            let maker = link.clone();
            let link = || match &link {
                Some(make) => (make.0)(),
                None => worker_link(),
            };
            let mut engine = initial_engine(&opts, warnings, link);
            engine.reached = crate::files::load_progress();
            // Sweep workers: one per core the browser reports.
            engine.sweep_links =
                Some(maker.unwrap_or_else(|| LinkMaker(Rc::new(|| worker_link()))));
            engine.cores = cores();
            engine
        })
    };
    let update = use_force_update();
    let dropping = use_state(|| false);
    let canvas = use_node_ref();
    let canvas_b = use_node_ref();
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
        let canvas_b = canvas_b.clone();
        use_memo((), move |_| Painter::new(canvas, canvas_b))
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
            let lp = Loop::start(engine, painter, refresh, refresh_ms);
            move || lp.stop()
        });
    }

    // Every control's action goes through here to `Engine::act`, then the
    // page is drawn again.
    // The replay worker, started the first time a question needs it.
    let replay = use_mut_ref(|| None::<Rc<crate::replay::Client>>);
    let dispatch: Dispatch = {
        let engine = engine.clone();
        let update = update.clone();
        let painter = painter.clone();
        Callback::from(move |action: Action| {
            let mut question = None;
            if let Ok(mut e) = engine.try_borrow_mut() {
                let copy = action == Action::CopyLink;
                e.act(action);
                if copy {
                    e.error = Some(crate::files::copy_address());
                }
                painter.draw(&e, true);
                question = e.outbox.take();
            }
            if let Some(ask) = question {
                send_question(&replay, &engine, &update, &ask);
            }
            update.force_update();
        })
    };

    // A host page named by `parent=` drives the page by messages.
    {
        let engine = engine.clone();
        let dispatch = dispatch.clone();
        let parent = parent.borrow().clone();
        use_effect_with((), move |_| {
            let host = parent.and_then(|p| crate::host::start(p, engine, dispatch));
            move || drop(host)
        });
    }

    // Keyboard: keys map to actions, never while typing or from a
    // focused button (see `keyboard`).
    let root = use_node_ref();
    crate::keyboard::use_keyboard(root.clone(), dispatch.clone());

    // Narrow screens (below 800 px, not in a frame) get the diagram's path
    // running down the page; wide ones across.
    {
        let dispatch = dispatch.clone();
        let embedded = *embed;
        use_effect_with(embedded, move |&embedded| {
            // What was last said, so that a drag of the window's edge does
            // not send the same thing at every step.
            let sent: Rc<Cell<Option<bool>>> = Rc::default();
            let check = move || {
                let width = gloo::utils::window()
                    .inner_width()
                    .ok()
                    .and_then(|w| w.as_f64())
                    .unwrap_or(1280.0);
                let narrow = !embedded && width < NARROW_PX;
                if sent.replace(Some(narrow)) != Some(narrow) {
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
        let (request, help, chooser) = {
            let e = engine.borrow();
            (e.request, e.help, e.compare_dialog)
        };
        use_effect_with((request, help, chooser), move |(request, help, chooser)| {
            let selector = if request.is_some() {
                Some("[data-testid='waterfall-close']")
            } else if *help {
                Some("[data-testid='help'] button")
            } else if *chooser {
                Some("[data-testid='compare-chooser'] button")
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
    let snap = e.sim.snapshot();
    let minute = last_minute(&e);
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
            let dispatch = dispatch.clone();
            Callback::from(move |(x, y): (f64, f64)| dispatch.emit(Action::ClickAt { x, y }))
        },
    };
    // Run B's diagram: its nodes act like A's (what is done to a node is
    // done in both runs).
    let events_b = DiagramEvents {
        node: {
            let dispatch = dispatch.clone();
            let names: Vec<String> = e
                .versus
                .as_ref()
                .map(|v| v.snapshot.nodes.iter().map(|n| n.id.clone()).collect())
                .unwrap_or_default();
            Callback::from(move |i: usize| {
                if let Some(node) = names.get(i) {
                    dispatch.emit(Action::ClickNode { node: node.clone() });
                }
            })
        },
        background: Callback::noop(),
    };
    let layout = if *embed {
        "embed"
    } else if e.presenter {
        "presenter"
    } else {
        "full"
    };

    // A run file dropped anywhere on the page opens.
    let dragging = dropping.clone();
    let ondragover = Callback::from(move |ev: DragEvent| {
        let files = ev
            .data_transfer()
            .is_some_and(|t| t.types().includes(&"Files".into(), 0));
        if files {
            ev.prevent_default();
            dragging.set(true);
        }
    });
    let left = dropping.clone();
    let ondragleave = Callback::from(move |ev: DragEvent| {
        // Only when leaving the page, not moving between its parts.
        if ev.related_target().is_none() {
            left.set(false);
        }
    });
    let dropped = dropping.clone();
    let drop_to = dispatch.clone();
    let ondrop = Callback::from(move |ev: DragEvent| {
        dropped.set(false);
        if let Some(file) = ev
            .data_transfer()
            .and_then(|t| t.files())
            .and_then(|f| f.get(0))
        {
            ev.prevent_default();
            crate::files::open_run_file(file, drop_to.clone());
        }
    });

    html! {
        <div class={classes!("lab", format!("layout-{layout}"), (*hidden).clone(), dropping.then_some("dropping"), e.lesson.is_some().then_some("with-lesson"), e.versus.is_some().then_some("comparing"))}
             ref={root} data-layout={layout} {ondragover} {ondragleave} {ondrop}>
            <header class="topbar">
                <h1>{ "PathLab" }<span class="tagline">{ " — the request-path laboratory" }</span></h1>
                <button type="button" class="lessons-button" data-testid="lessons-button" aria-expanded={e.lesson_index.to_string()}
                        title="Lessons: predict, break something, watch, and see why"
                        onclick={panels::on_click(&dispatch, Action::LessonIndex { open: !e.lesson_index })}>{ "Lessons" }</button>
                { panels::controls::view(&e, &dispatch) }
                if layout == "embed" {
                    <a class="open-full" data-testid="open-full" href={full_address()} target="_blank" rel="noopener"
                       title="Open this experiment in PathLab's full page, in a new tab">{ "Open in full ↗" }</a>
                }
            </header>
            { panels::lesson::index(&e, &dispatch) }
            if e.lesson.is_some() {
                { panels::lesson::view(&e, &dispatch) }
            } else if layout == "full" {
                { panels::intro::view(&e) }
            }
            { panels::metrics::view(&e, snap) }
            if let Some(msg) = e.core_failure.clone() {
                <div class="notice" role="alert" data-testid="core-failure">
                    <span>{ format!("PathLab cannot run: {msg}. It needs JavaScript, WebAssembly and Web Workers; reload the page to try again.") }</span>
                </div>
            }
            if let Some(msg) = e.error.clone() {
                <div class="notice" role="alert" data-testid="notice">
                    <span>{ msg }</span>
                    <button type="button" aria-label="Dismiss" onclick={panels::on_click(&dispatch, Action::Dismiss)}>{ "✕" }</button>
                </div>
            }
            <main class={classes!("stage", e.versus.is_some().then_some("comparing"))}>
                if let Some(v) = e.versus.as_ref() {
                    <section class="compare" data-testid="compare" aria-label="Two designs side by side">
                        <div class="versus-run run-a" data-run="a">
                            <h2 class="run-name"><span class="run-tag">{ "A" }</span>{ panels::compare::name_a(&e) }</h2>
                            { diagram::view(&e, snap, &events, &canvas) }
                        </div>
                        { panels::compare::delta(&e, &dispatch) }
                        <div class="versus-run run-b" data-run="b">
                            <h2 class="run-name"><span class="run-tag">{ "B" }</span>{ v.name.clone() }</h2>
                            { diagram::view_b(&e, &v.snapshot, &events_b, &canvas_b) }
                        </div>
                    </section>
                } else {
                    { diagram::view(&e, snap, &events, &canvas) }
                }
                if layout == "full" {
                    <aside class="side" aria-label="Break things">
                        { panels::node::view(&e, snap, &dispatch) }
                        { panels::network::view(&e, &dispatch) }
                        { panels::settings::view(&e, &dispatch) }
                    </aside>
                } else if e.selected.is_some() {
                    <aside class="side" aria-label="Break things">
                        { panels::node::view(&e, snap, &dispatch) }
                    </aside>
                }
            </main>
            { panels::timeline::view(&e, &dispatch) }
            { panels::sweep::view(&e, &dispatch) }
            if layout == "full" {
                <section class="lower">
                    if let Some(v) = e.versus.as_ref() {
                        <VersusCharts a={Rc::new(minute.0)} b={Rc::new(v.series.clone())}
                                      name_a={AttrValue::from(panels::compare::name_a(&e))} name_b={AttrValue::from(v.name.clone())} />
                    } else {
                        <Charts series={Rc::new(minute.0)} cursor_s={minute.1} replicas={Rc::new(replica_names(snap))} window_s={60} playing={e.playing} />
                    }
                    { panels::log::view(&e, &dispatch) }
                    { panels::requests::view(&e, &dispatch) }
                </section>
                { panels::help::legend(&e) }
            }
            <div class="sr-only" aria-live="polite" data-testid="announcer">{ e.announcement.clone() }</div>
            if let (Some(id), None) = (e.request, e.request.and_then(|id| e.trace_of(id))) {
                <div class="overlay" role="dialog" aria-modal="true" aria-label="Request details">
                    <section class="panel waterfall" data-testid="waterfall">
                        <h2>{ format!("Request #{}", id.0) }</h2>
                        <p class="wf-outcome wf-outcome-lost" data-testid="waterfall-outcome">{
                            panels::log::lost_story(&e.sim, id).unwrap_or_else(|| "This request has finished.".into())
                        }</p>
                        if e.asking == Some(id) {
                            <p class="hint" role="status" data-testid="why-wait">{ format!("The page keeps the hop-by-hop details of recent requests only: rebuilding these by replaying the run… {:.0} %", e.replayed * 100.0) }</p>
                        } else if let Some(a) = e.why.as_ref().filter(|a| a.request == id) {
                            <p class="hint">{ a.title.clone() }</p>
                        }
                        <button type="button" data-testid="waterfall-close" onclick={panels::on_click(&dispatch, Action::OpenRequest { id: None })}>{ "Close" }</button>
                    </section>
                </div>
            }
            if let Some(trace) = e.request.and_then(|id| e.trace_of(id)) {
                <div class="overlay" role="dialog" aria-modal="true" aria-label="Request details">
                  <div class="wf-stack">
                    <Waterfall trace={Rc::new(trace.clone())} names={Rc::new(e.names.clone())}
                               lost={panels::log::lost_story(&e.sim, trace.id).map(AttrValue::from)}
                               on_close={{
                                   let dispatch = dispatch.clone();
                                   Callback::from(move |()| dispatch.emit(Action::OpenRequest { id: None }))
                               }} />
                    if trace.kind != pathlab_sim::RequestKind::Static && !e.sim.is_in_flight(trace.id) {
                        <section class="panel why-panel" aria-label="Why it happened">
                            { panels::why::view(&e, &dispatch, trace.id) }
                        </section>
                    }
                  </div>
                </div>
            }
            if e.help {
                { panels::help::help(&dispatch) }
            }
            { panels::compare::chooser(&e, &dispatch) }
        </div>
    }
}

/// This page's address without the compact layout: the same experiment
/// (its link is in the fragment) in the full page.
fn full_address() -> String {
    let location = gloo::utils::window().location();
    let query: Vec<String> = location
        .search()
        .unwrap_or_default()
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("embed=") && *p != "embed")
        .map(str::to_string)
        .collect();
    format!(
        "{}{}{}",
        location.pathname().unwrap_or_default(),
        if query.is_empty() {
            String::new()
        } else {
            format!("?{}", query.join("&"))
        },
        location.hash().unwrap_or_default()
    )
}

/// The points the charts show: the last minute (and one more for the
/// edge), or in the past the minute around the cursor (as far as the run
/// goes); and the cursor's second, in the past.
fn last_minute(e: &Engine) -> (Vec<pathlab_sim::Point>, Option<u32>) {
    if !e.sim.in_past() {
        let series = e.sim.metrics().series;
        return (series[series.len().saturating_sub(61)..].to_vec(), None);
    }
    let whole = e.sim.whole_series();
    let cursor = (e.sim.now().0 / 1_000_000) as u32;
    let last = whole.last().map_or(cursor, |p| p.t_s);
    let right = (cursor + 30).min(last).max(cursor);
    let upto = whole.partition_point(|p| p.t_s <= right);
    let from = whole.partition_point(|p| p.t_s + 61 <= right);
    (whole[from..upto].to_vec(), Some(cursor))
}

fn replica_names(snap: &Snapshot) -> Vec<String> {
    snap.nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Db)
        .map(|n| n.id.clone())
        .collect()
}

/// Sends a question to the replay worker, starting it first if need be;
/// its answer (or its failure) comes back as [`Action::Answered`].
fn send_question(
    replay: &Rc<std::cell::RefCell<Option<Rc<crate::replay::Client>>>>,
    engine: &Rc<std::cell::RefCell<Engine>>,
    update: &UseForceUpdateHandle,
    ask: &crate::replay::Ask,
) {
    let answered = {
        let engine = engine.clone();
        let update = update.clone();
        move |answer: crate::replay::Answer| {
            if let Ok(mut e) = engine.try_borrow_mut() {
                e.act(Action::Answered { answer });
            }
            update.force_update();
        }
    };
    let failed = {
        let answered = answered.clone();
        let engine = engine.clone();
        move |why: String| {
            let asking = engine.try_borrow().ok().and_then(|e| e.asking);
            if let Some(request) = asking {
                answered(crate::replay::Answer {
                    failed: true,
                    ..crate::replay::Answer::untold(request, format!("No answer: {why}"))
                });
            }
        }
    };
    let client = replay.borrow().clone().filter(|c| !c.stopped());
    let progress = {
        let engine = engine.clone();
        let update = update.clone();
        move |fraction: f64| {
            if let Ok(mut e) = engine.try_borrow_mut() {
                e.replayed = fraction;
            }
            update.force_update();
        }
    };
    let client = match client {
        Some(c) => c,
        None => match crate::replay::Client::start(answered, progress, failed.clone()) {
            Ok(c) => {
                let c = Rc::new(c);
                *replay.borrow_mut() = Some(c.clone());
                c
            }
            Err(why) => return failed(why),
        },
    };
    if let Err(why) = client.ask(ask) {
        failed(why);
    }
}
