//! The animation-frame loop: each frame advances simulated time and draws the requests in flight on the canvas; the DOM is refreshed a few times a second, less often when a refresh is slow.

use crate::engine::{Engine, Picture};
use crate::particles;
use gloo::render::{AnimationFrame, request_animation_frame};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

/// How often the DOM (diagram, charts, log) is refreshed while playing; the
/// canvas of moving requests is redrawn every frame.
const UI_REFRESH_MS: f64 = 125.0;

/// Most of the time refreshing the DOM may take: after a slow refresh (a
/// large system takes long to snapshot) the next one waits longer.
const MAX_REFRESH_SHARE: f64 = 0.1;

/// The canvas of moving requests, and the pixels drawn on it (kept from
/// frame to frame).
pub struct Painter {
    canvas: NodeRef,
    layer: RefCell<particles::Layer>,
    /// Run B's canvas and pixels, while comparing.
    canvas_b: NodeRef,
    layer_b: RefCell<particles::Layer>,
}

impl Painter {
    /// A painter for the canvas behind `canvas` (and `canvas_b`, run B's
    /// while comparing).
    pub fn new(canvas: NodeRef, canvas_b: NodeRef) -> Painter {
        Painter {
            canvas,
            layer: RefCell::default(),
            canvas_b,
            layer_b: RefCell::default(),
        }
    }

    /// Draws the requests in flight; `still` draws each at its midpoint.
    pub fn draw(&self, engine: &Engine, still: bool) {
        self.paint(&self.canvas, &self.layer, engine, still, false);
        if engine.versus.is_some() {
            self.paint(&self.canvas_b, &self.layer_b, engine, still, true);
        }
    }

    fn paint(
        &self,
        canvas: &NodeRef,
        layer: &RefCell<particles::Layer>,
        engine: &Engine,
        still: bool,
        b: bool,
    ) {
        let Some(canvas) = canvas.cast::<HtmlCanvasElement>() else {
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
        layer.borrow_mut().draw(&ctx, engine, view, still, b);
    }
}

/// State shared with the animation-frame loop.
pub struct Loop {
    engine: Rc<RefCell<Engine>>,
    painter: Rc<Painter>,
    refresh: Callback<()>,
    last_ui: Cell<f64>,
    /// Whether the run changed since the DOM was last refreshed.
    dirty: Cell<bool>,
    frame: RefCell<Option<AnimationFrame>>,
    alive: Cell<bool>,
    still: bool,
    /// How long the last DOM refresh took (ms).
    refresh_ms: Rc<Cell<f64>>,
}

impl Loop {
    /// Starts the loop: each frame moves `engine` on and `painter` draws;
    /// `refresh` re-renders the DOM, whose last duration `refresh_ms` holds.
    pub fn start(
        engine: Rc<RefCell<Engine>>,
        painter: Rc<Painter>,
        refresh: Callback<()>,
        refresh_ms: Rc<Cell<f64>>,
    ) -> Rc<Loop> {
        let lp = Rc::new(Loop {
            engine,
            painter,
            refresh,
            last_ui: Cell::new(0.0),
            dirty: Cell::new(false),
            frame: RefCell::new(None),
            alive: Cell::new(true),
            still: prefers_reduced_motion(),
            refresh_ms,
        });
        lp.schedule();
        lp
    }

    /// Stops the loop.
    pub fn stop(&self) {
        self.alive.set(false);
        self.frame.borrow_mut().take();
    }

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
        let moved = engine.frame(ts);
        engine.announce(ts);
        if let Some(fragment) = engine.address.take() {
            crate::files::show_in_address(&fragment);
        }
        if engine.progress.take().is_some() {
            crate::files::save_progress(&engine.reached);
        }
        if let Some((name, text)) = engine.download.take()
            && let Err(e) = crate::files::download(&name, crate::files::mime_of(&name), &text)
        {
            engine.error = Some(e);
        }
        let picture = engine.picture.take().map(|p| {
            let (preset, seed, t) = (
                engine.preset.clone(),
                engine.seed,
                engine.sim.now().as_secs_f64(),
            );
            let name = |ext: &str| crate::picture::file_name(&preset, seed, t, ext);
            match p {
                Picture::Svg => (p, name("svg")),
                Picture::Png => (p, name("png")),
                Picture::Clip { .. } => {
                    engine.recording = true;
                    engine.error = Some("Recording a clip of the diagram…".into());
                    (p, name("webm"))
                }
            }
        });
        let interval = if self.still { 250.0 } else { UI_REFRESH_MS };
        // An answer to something the user did is shown at once.
        let answered = std::mem::take(&mut engine.answered);
        // The DOM shows one moment: it waits for a frame with the nodes.
        let due = answered
            || (engine.sim.complete()
                && ts - self.last_ui.get()
                    >= interval.max(self.refresh_ms.get() / MAX_REFRESH_SHARE));
        // A change not shown yet (the last frame came between refreshes)
        // is shown at the next one, also when nothing moves after it.
        self.dirty.set(self.dirty.get() || moved || answered);
        if (moved && !self.still) || (self.dirty.get() && due) {
            self.painter.draw(&engine, self.still);
        }
        drop(engine);
        if let Some((p, name)) = picture {
            self.make(p, name);
        }
        if self.dirty.get() && due {
            self.dirty.set(false);
            self.last_ui.set(ts);
            self.refresh.emit(());
        }
    }
}

impl Loop {
    /// Makes a picture of the diagram; says in the notice if it failed.
    fn make(&self, picture: Picture, name: String) {
        let engine = self.engine.clone();
        let refresh = self.refresh.clone();
        let report = move |clip: bool, r: Result<(), String>| {
            if let Ok(mut e) = engine.try_borrow_mut() {
                if clip {
                    e.recording = false;
                    e.error = None;
                }
                if let Err(why) = r {
                    e.error = Some(why);
                }
                e.answered = true;
            }
            refresh.emit(());
        };
        match picture {
            Picture::Svg => report(false, crate::picture::save_svg(&name)),
            Picture::Png => crate::picture::save_png(name, move |r| report(false, r)),
            Picture::Clip { secs } => {
                crate::picture::record_clip(name, secs, move |r| report(true, r))
            }
        }
    }
}

pub fn prefers_reduced_motion() -> bool {
    gloo::utils::window()
        .match_media("(prefers-reduced-motion: reduce)")
        .ok()
        .flatten()
        .is_some_and(|m| m.matches())
}
