//! Pictures of the diagram for slides and chat: the diagram as a standalone SVG file (its look written into each shape), as a PNG with the requests in flight, and as a short WebM clip of it playing, recorded with the browser's MediaRecorder.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Blob, HtmlCanvasElement, HtmlImageElement};

/// The look each shape takes from the page's style sheet, written into it
/// so the file looks the same on its own.
const STYLE_PROPS: [&str; 17] = [
    "paint-order",
    "stroke-linejoin",
    "fill",
    "fill-opacity",
    "stroke",
    "stroke-width",
    "stroke-dasharray",
    "stroke-opacity",
    "stroke-linecap",
    "opacity",
    "font-family",
    "font-size",
    "font-weight",
    "text-anchor",
    "dominant-baseline",
    "display",
    "visibility",
];

/// Widest picture made, in pixels (a PNG at twice the size on screen, up
/// to this).
const MAX_WIDTH: f64 = 2400.0;

/// The diagram on the page: its box, its drawing and the canvas of
/// requests in flight above it.
struct OnPage {
    wrap: web_sys::Element,
    svg: web_sys::Element,
    particles: Option<HtmlCanvasElement>,
}

fn on_page() -> Result<OnPage, String> {
    let doc = gloo::utils::document();
    let find = |sel: &str| doc.query_selector(sel).ok().flatten();
    let svg = find("[data-testid='diagram']").ok_or("the diagram is not shown")?;
    let wrap = svg.parent_element().ok_or("the diagram is not shown")?;
    let particles = find(".diagram-wrap canvas.particles").and_then(|c| c.dyn_into().ok());
    Ok(OnPage {
        wrap,
        svg,
        particles,
    })
}

/// The diagram as standalone SVG text, `width` × `height` pixels, on the
/// page's background.
fn svg_text(page: &OnPage, width: f64, height: f64) -> Result<String, String> {
    let window = gloo::utils::window();
    let copy: web_sys::Element = page
        .svg
        .clone_node_with_deep(true)
        .ok()
        .and_then(|n| n.dyn_into().ok())
        .ok_or("the diagram could not be copied")?;
    let originals = page.svg.query_selector_all("*").map_err(|_| "no shapes")?;
    let copies = copy.query_selector_all("*").map_err(|_| "no shapes")?;
    for i in 0..originals.length().min(copies.length()) {
        let (Some(from), Some(to)) = (originals.item(i), copies.item(i)) else {
            continue;
        };
        let (Ok(from), Ok(to)) = (
            from.dyn_into::<web_sys::Element>(),
            to.dyn_into::<web_sys::Element>(),
        ) else {
            continue;
        };
        if let Ok(Some(style)) = window.get_computed_style(&from) {
            let mut inline = String::new();
            for p in STYLE_PROPS {
                if let Ok(v) = style.get_property_value(p)
                    && !v.is_empty()
                {
                    inline.push_str(&format!("{p}:{v};"));
                }
            }
            let _ = to.set_attribute("style", &inline);
        }
        let _ = to.remove_attribute("class");
    }
    let background = window
        .get_computed_style(&page.wrap)
        .ok()
        .flatten()
        .and_then(|s| s.get_property_value("background-color").ok())
        .unwrap_or_else(|| "white".into());
    for (k, v) in [
        ("xmlns", "http://www.w3.org/2000/svg".to_string()),
        ("width", format!("{width:.0}")),
        ("height", format!("{height:.0}")),
        ("style", format!("background:{background}")),
    ] {
        let _ = copy.set_attribute(k, &v);
    }
    let _ = copy.remove_attribute("class");
    let text = web_sys::XmlSerializer::new()
        .and_then(|s| s.serialize_to_string(&copy))
        .map_err(|_| "the diagram could not be written out")?;
    Ok(text)
}

/// The diagram's size on screen, in CSS pixels.
fn size_of(page: &OnPage) -> (f64, f64) {
    let r = page.wrap.get_bounding_client_rect();
    (r.width().max(1.0), r.height().max(1.0))
}

/// A file name for a picture taken at simulated second `t_s`.
pub fn file_name(preset: &str, seed: u64, t_s: f64, ext: &str) -> String {
    format!("pathlab-{preset}-seed{seed}-{t_s:.1}s-diagram.{ext}")
}

/// Saves the diagram as an SVG file.
pub fn save_svg(name: &str) -> Result<(), String> {
    let page = on_page()?;
    let (w, h) = size_of(&page);
    let text = svg_text(&page, w, h)?;
    crate::files::download(name, "image/svg+xml", &text)
}

/// A blob of `text` of media type `mime`.
fn blob_of(text: &str, mime: &str) -> Result<Blob, String> {
    let parts = web_sys::js_sys::Array::of1(&text.into());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    Blob::new_with_str_sequence_and_options(&parts, &options)
        .map_err(|_| "the browser would not make the picture".to_string())
}

/// Loads SVG text as an image; calls `then` with it once drawn.
fn load_image(text: &str, then: impl FnOnce(Result<HtmlImageElement, String>) + 'static) {
    let made = blob_of(text, "image/svg+xml").and_then(|b| {
        let url = web_sys::Url::create_object_url_with_blob(&b)
            .map_err(|_| "the browser would not give the picture an address".to_string())?;
        let img = HtmlImageElement::new().map_err(|_| "no image could be made".to_string())?;
        Ok((url, img))
    });
    let (url, img) = match made {
        Ok(x) => x,
        Err(e) => return then(Err(e)),
    };
    let then = Rc::new(RefCell::new(Some(then)));
    let finish = {
        let img = img.clone();
        let url = url.clone();
        move |ok: bool| {
            let _ = web_sys::Url::revoke_object_url(&url);
            img.set_onload(None);
            img.set_onerror(None);
            if let Some(f) = then.borrow_mut().take() {
                f(if ok {
                    Ok(img.clone())
                } else {
                    Err("the browser could not draw the diagram".into())
                });
            }
        }
    };
    let done = finish.clone();
    let onload = Closure::once_into_js(move || done(true));
    let onerror = Closure::once_into_js(move || finish(false));
    img.set_onload(Some(onload.unchecked_ref()));
    img.set_onerror(Some(onerror.unchecked_ref()));
    img.set_src(&url);
}

/// A canvas of `w` × `h` pixels and its 2D context.
fn canvas(
    w: f64,
    h: f64,
) -> Result<(HtmlCanvasElement, web_sys::CanvasRenderingContext2d), String> {
    let c: HtmlCanvasElement = gloo::utils::document()
        .create_element("canvas")
        .ok()
        .and_then(|c| c.dyn_into().ok())
        .ok_or("no canvas could be made")?;
    c.set_width(w as u32);
    c.set_height(h as u32);
    let ctx = c
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|x| x.dyn_into().ok())
        .ok_or("no canvas could be drawn on")?;
    Ok((c, ctx))
}

/// Draws the diagram `img` and the requests in flight over the whole of
/// `ctx`'s canvas.
fn compose(
    ctx: &web_sys::CanvasRenderingContext2d,
    img: Option<&HtmlImageElement>,
    particles: Option<&HtmlCanvasElement>,
    w: f64,
    h: f64,
) {
    if let Some(img) = img {
        let _ = ctx.draw_image_with_html_image_element_and_dw_and_dh(img, 0.0, 0.0, w, h);
    }
    if let Some(p) = particles.filter(|p| p.width() > 0 && p.height() > 0) {
        let _ = ctx.draw_image_with_html_canvas_element_and_dw_and_dh(p, 0.0, 0.0, w, h);
    }
}

/// Saves the diagram, with the requests in flight, as a PNG file; `done`
/// gets what went wrong, if anything.
pub fn save_png(name: String, done: impl FnOnce(Result<(), String>) + 'static) {
    let page = match on_page() {
        Ok(p) => p,
        Err(e) => return done(Err(e)),
    };
    let (w, h) = size_of(&page);
    let scale = (MAX_WIDTH / w).min(2.0);
    let (pw, ph) = ((w * scale).round(), (h * scale).round());
    let text = match svg_text(&page, pw, ph) {
        Ok(t) => t,
        Err(e) => return done(Err(e)),
    };
    // The requests in flight as they are now, not when the image loads.
    let particles = page.particles.clone();
    load_image(&text, move |img| {
        let made = img.and_then(|img| {
            let (c, ctx) = canvas(pw, ph)?;
            compose(&ctx, Some(&img), particles.as_ref(), pw, ph);
            Ok(c)
        });
        let c = match made {
            Ok(c) => c,
            Err(e) => return done(Err(e)),
        };
        let done = Rc::new(RefCell::new(Some(done)));
        let d = done.clone();
        let on_blob = Closure::once_into_js(move |blob: wasm_bindgen::JsValue| {
            let r = blob
                .dyn_into::<Blob>()
                .map_err(|_| "the browser would not encode the PNG".to_string())
                .and_then(|b| crate::files::download_blob(&name, &b));
            if let Some(f) = d.borrow_mut().take() {
                f(r);
            }
        });
        if c.to_blob(on_blob.unchecked_ref()).is_err()
            && let Some(f) = done.borrow_mut().take()
        {
            f(Err("the browser would not encode the PNG".into()));
        }
    });
}

/// The WebM kinds tried, best first.
const CLIP_TYPES: [&str; 3] = [
    "video/webm;codecs=vp9",
    "video/webm;codecs=vp8",
    "video/webm",
];

/// Frames per second of a clip.
const CLIP_FPS: f64 = 30.0;

/// How often the diagram's drawing is taken again while recording (ms);
/// the requests in flight are drawn at every frame.
const CLIP_REDRAW_MS: f64 = 100.0;

/// A clip being recorded.
struct Clip {
    page: OnPage,
    ctx: web_sys::CanvasRenderingContext2d,
    size: (f64, f64),
    recorder: web_sys::MediaRecorder,
    diagram: RefCell<Option<HtmlImageElement>>,
    loading: Cell<bool>,
    taken_at: Cell<f64>,
    started: f64,
    secs: f64,
    frame: RefCell<Option<gloo::render::AnimationFrame>>,
}

/// Records `secs` real seconds of the diagram as a WebM clip named `name`;
/// `done` gets what went wrong, if anything, once it is saved.
pub fn record_clip(name: String, secs: f64, done: impl FnOnce(Result<(), String>) + 'static) {
    match start_clip(name, secs, done) {
        Ok(()) => {}
        Err((e, done)) => done(Err(e)),
    }
}

type Done = Box<dyn FnOnce(Result<(), String>)>;

fn start_clip(
    name: String,
    secs: f64,
    done: impl FnOnce(Result<(), String>) + 'static,
) -> Result<(), (String, Done)> {
    let done: Done = Box::new(done);
    let page = match on_page() {
        Ok(p) => p,
        Err(e) => return Err((e, done)),
    };
    let Some(mime) = CLIP_TYPES
        .iter()
        .find(|t| web_sys::MediaRecorder::is_type_supported(t))
    else {
        return Err(("this browser cannot record WebM video".into(), done));
    };
    let (w, h) = size_of(&page);
    // Even sizes, which video encoders want.
    let scale = (1280.0 / w).min(1.0);
    let size = (
        ((w * scale) / 2.0).round() * 2.0,
        ((h * scale) / 2.0).round() * 2.0,
    );
    let (c, ctx) = match canvas(size.0, size.1) {
        Ok(x) => x,
        Err(e) => return Err((e, done)),
    };
    let stream = match c.capture_stream_with_frame_request_rate(CLIP_FPS) {
        Ok(s) => s,
        Err(_) => return Err(("the browser would not film the diagram".into(), done)),
    };
    let options = web_sys::MediaRecorderOptions::new();
    options.set_mime_type(mime);
    options.set_video_bits_per_second(2_500_000);
    let recorder = match web_sys::MediaRecorder::new_with_media_stream_and_media_recorder_options(
        &stream, &options,
    ) {
        Ok(r) => r,
        Err(_) => return Err(("the browser would not record the diagram".into(), done)),
    };
    let chunks = web_sys::js_sys::Array::new();
    let on_data = {
        let chunks = chunks.clone();
        Closure::<dyn FnMut(web_sys::BlobEvent)>::new(move |e: web_sys::BlobEvent| {
            if let Some(b) = e.data().filter(|b| b.size() > 0.0) {
                chunks.push(&b);
            }
        })
    };
    recorder.set_ondataavailable(Some(on_data.as_ref().unchecked_ref()));
    on_data.forget();
    let done = Rc::new(RefCell::new(Some(done)));
    let finish = done.clone();
    let on_stop = Closure::once_into_js(move || {
        let options = web_sys::BlobPropertyBag::new();
        options.set_type("video/webm");
        let r = Blob::new_with_blob_sequence_and_options(&chunks, &options)
            .map_err(|_| "the clip could not be put together".to_string())
            .and_then(|b| {
                if b.size() == 0.0 {
                    Err("the browser recorded nothing".to_string())
                } else {
                    crate::files::download_blob(&name, &b)
                }
            });
        if let Some(f) = finish.borrow_mut().take() {
            f(r);
        }
    });
    recorder.set_onstop(Some(on_stop.unchecked_ref()));
    let clip = Rc::new(Clip {
        page,
        ctx,
        size,
        recorder,
        diagram: RefCell::new(None),
        loading: Cell::new(false),
        taken_at: Cell::new(f64::NEG_INFINITY),
        started: now_ms(),
        secs,
        frame: RefCell::new(None),
    });
    clip.take_diagram();
    if clip.recorder.start_with_time_slice(1000).is_err() {
        let done = done.borrow_mut().take().unwrap_or_else(|| Box::new(|_| {}));
        return Err(("the browser would not start recording".into(), done));
    }
    clip.next();
    Ok(())
}

fn now_ms() -> f64 {
    gloo::utils::window().performance().map_or(0.0, |p| p.now())
}

impl Clip {
    /// Takes the diagram's drawing again, unless one is being loaded.
    fn take_diagram(self: &Rc<Self>) {
        if self.loading.replace(true) {
            return;
        }
        self.taken_at.set(now_ms());
        let me = self.clone();
        match svg_text(&self.page, self.size.0, self.size.1) {
            Ok(text) => load_image(&text, move |img| {
                if let Ok(img) = img {
                    *me.diagram.borrow_mut() = Some(img);
                }
                me.loading.set(false);
            }),
            Err(_) => self.loading.set(false),
        }
    }

    /// Draws a frame, then asks for the next, until the clip is long enough.
    fn next(self: &Rc<Self>) {
        let now = now_ms();
        if now - self.started >= self.secs * 1000.0 {
            let _ = self.recorder.stop();
            self.frame.borrow_mut().take();
            return;
        }
        if now - self.taken_at.get() >= CLIP_REDRAW_MS {
            self.take_diagram();
        }
        let (w, h) = self.size;
        self.ctx.clear_rect(0.0, 0.0, w, h);
        compose(
            &self.ctx,
            self.diagram.borrow().as_ref(),
            self.page.particles.as_ref(),
            w,
            h,
        );
        let me = self.clone();
        let handle = gloo::render::request_animation_frame(move |_| me.next());
        *self.frame.borrow_mut() = Some(handle);
    }
}
