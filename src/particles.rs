//! Requests in flight, drawn on a canvas every animation frame: shape and colour by kind, errors and stale answers marked where users receive them.
//!
//! The moving shapes are stamped from small pre-drawn sprites into a pixel
//! buffer that reaches the canvas in one call. Filling thousands of
//! anti-aliased paths instead cost the browser about 11 ms a frame for 4,000
//! requests when it draws without a GPU; stamping them costs about 1 ms.

use crate::engine::Engine;
use pathlab_sim::{Flight, Outcome, RequestKind, SimTime};
use wasm_bindgen::Clamped;
use web_sys::{CanvasRenderingContext2d, ImageData};

/// Most particles drawn in one frame.
pub const MAX_PARTICLES: usize = 4000;

/// Colour-blind-safe colours (Okabe–Ito) for each kind of traffic.
pub const STATIC: &str = "#0072B2";
pub const READ: &str = "#009E73";
pub const WRITE: &str = "#E69F00";
pub const ERROR: &str = "#D55E00";
pub const STALE: &str = "#CC79A7";
pub const BACKGROUND: &str = "#8a8f98";

/// Sub-pixel positions each sprite is pre-drawn at, across and down, so that
/// slow movement stays smooth.
const PHASES: usize = 4;

/// Samples per pixel, across and down, when a sprite is drawn.
const SAMPLES: usize = 4;

/// Where the diagram sits on the canvas: its size in device pixels, and the
/// scale and offset that take diagram units to device pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Viewport {
    /// Canvas width in device pixels.
    pub width: usize,
    /// Canvas height in device pixels.
    pub height: usize,
    /// Device pixels per diagram unit.
    pub scale: f64,
    /// Left edge of the diagram, in device pixels.
    pub ox: f64,
    /// Top edge of the diagram, in device pixels.
    pub oy: f64,
}

/// The marks stamped for messages on the wire, in drawing order (later on top).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mark {
    /// Health checks, heartbeats, replication: small and grey.
    Background,
    /// A static-asset request or answer: a square.
    Static,
    /// A read: a circle.
    Read,
    /// A write: a diamond.
    Write,
    /// An error answer travelling back: a cross.
    Error,
}

impl Mark {
    const ALL: [Mark; 5] = [
        Mark::Background,
        Mark::Static,
        Mark::Read,
        Mark::Write,
        Mark::Error,
    ];

    /// Whether a message on the wire gets this mark. Answers travel in
    /// their request's shape; a background message that carries an error
    /// gets the cross as well.
    fn shows(self, f: &Flight) -> bool {
        let kind = |k| f.kind == Some(k) && f.reply != Some(true);
        match self {
            Mark::Background => f.request.is_none(),
            Mark::Static => kind(RequestKind::Static),
            Mark::Read => kind(RequestKind::Read),
            Mark::Write => kind(RequestKind::Write),
            Mark::Error => f.reply == Some(true),
        }
    }

    fn colour(self) -> &'static str {
        match self {
            Mark::Background => BACKGROUND,
            Mark::Static => STATIC,
            Mark::Read => READ,
            Mark::Write => WRITE,
            Mark::Error => ERROR,
        }
    }

    /// Whether a point (diagram units from the mark's centre) is covered.
    fn covers(self, x: f64, y: f64) -> bool {
        let s = 4.0;
        match self {
            Mark::Background => x.abs() <= 1.5 && y.abs() <= 1.5,
            Mark::Static => x.abs() <= s * 0.85 && y.abs() <= s * 0.85,
            Mark::Read => x * x + y * y <= s * s,
            Mark::Write => x.abs() + y.abs() <= s * 1.2,
            // Two strokes 2 units wide along the diagonals of a square of side 2s.
            Mark::Error => {
                let along = |d: f64| d.abs() <= s * std::f64::consts::SQRT_2;
                let (u, v) = (
                    (x + y) / std::f64::consts::SQRT_2,
                    (y - x) / std::f64::consts::SQRT_2,
                );
                (v.abs() <= 1.0 && along(u)) || (u.abs() <= 1.0 && along(v))
            }
        }
    }

    /// Half the side of a square (diagram units) that holds the whole mark.
    fn reach(self) -> f64 {
        match self {
            Mark::Background => 1.5,
            Mark::Static => 3.4,
            Mark::Read => 4.0,
            Mark::Write => 4.8,
            Mark::Error => 4.8,
        }
    }
}

/// One mark pre-drawn at one scale: the pixels it touches and how much of
/// each it covers, for each sub-pixel position of its centre.
#[derive(Debug)]
struct Sprite {
    rgb: [u8; 3],
    /// Side of the box the mark is drawn in, in pixels.
    size: usize,
    /// For phase `py * PHASES + px` (the centre at `size / 2 + (px, py) /
    /// PHASES` from the box's corner): (row, column, coverage 1–255) of
    /// every pixel the mark touches.
    phases: Vec<Vec<(u16, u16, u8)>>,
}

impl Sprite {
    fn new(mark: Mark, scale: f64) -> Sprite {
        // A clear pixel on each side, whatever the sub-pixel phase.
        let size = (2.0 * mark.reach() * scale).ceil() as usize + 4;
        let half = (size / 2) as f64;
        let step = 1.0 / SAMPLES as f64;
        let phases = (0..PHASES * PHASES)
            .map(|phase| {
                let cx = half + (phase % PHASES) as f64 / PHASES as f64;
                let cy = half + (phase / PHASES) as f64 / PHASES as f64;
                let mut pixels = Vec::new();
                for row in 0..size {
                    for col in 0..size {
                        let mut hits = 0;
                        for sy in 0..SAMPLES {
                            for sx in 0..SAMPLES {
                                let x = col as f64 + (sx as f64 + 0.5) * step - cx;
                                let y = row as f64 + (sy as f64 + 0.5) * step - cy;
                                hits += usize::from(mark.covers(x / scale, y / scale));
                            }
                        }
                        let cover = (hits * 255 / (SAMPLES * SAMPLES)) as u8;
                        if cover > 0 {
                            pixels.push((row as u16, col as u16, cover));
                        }
                    }
                }
                pixels
            })
            .collect();
        Sprite {
            rgb: rgb(mark.colour()),
            size,
            phases,
        }
    }
}

/// `#rrggbb` as bytes (black if malformed).
fn rgb(hex: &str) -> [u8; 3] {
    let byte = |i: usize| {
        hex.get(1 + 2 * i..3 + 2 * i)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .unwrap_or(0)
    };
    [byte(0), byte(1), byte(2)]
}

/// The pixels of the moving requests, kept between frames so that neither
/// the buffer nor the sprites are made again unless the canvas changes size.
#[derive(Debug, Default)]
pub struct Layer {
    view: Option<Viewport>,
    /// RGBA, not premultiplied, `width × height`.
    pixels: Vec<[u8; 4]>,
    /// One sprite per [`Mark`], in the order of [`Mark::ALL`].
    sprites: Vec<Sprite>,
}

impl Layer {
    /// Draws one frame of moving requests. `still` draws each at its
    /// midpoint without motion (for people who prefer reduced motion).
    pub fn draw(
        &mut self,
        ctx: &CanvasRenderingContext2d,
        engine: &Engine,
        view: Viewport,
        still: bool,
        b: bool,
    ) {
        self.fit(view);
        self.pixels.fill([0; 4]);
        // Run B's requests while comparing, else the live run's.
        let versus = engine.versus.as_ref().filter(|_| b);
        let (now, places, flights) = match versus {
            Some(v) => (
                v.snapshot.now,
                &engine.versus_places,
                v.snapshot.flights.as_slice(),
            ),
            None => (
                engine.sim.now(),
                &engine.places,
                engine.sim.flights(MAX_PARTICLES),
            ),
        };
        for mark in Mark::ALL {
            for f in flights.iter().filter(|f| mark.shows(f)) {
                let Some((x, y)) = position(places, f.from, f.to, f.sent, f.arrives, now, still)
                else {
                    continue;
                };
                self.stamp(mark, x * view.scale + view.ox, y * view.scale + view.oy);
            }
        }
        ctx.set_transform(1.0, 0.0, 0.0, 1.0, 0.0, 0.0).ok();
        if let Ok(image) = ImageData::new_with_u8_clamped_array_and_sh(
            Clamped(self.pixels.as_flattened()),
            view.width as u32,
            view.height as u32,
        ) {
            ctx.put_image_data(&image, 0.0, 0.0).ok();
        }
        ctx.set_transform(view.scale, 0.0, 0.0, view.scale, view.ox, view.oy)
            .ok();
        if !b {
            answers(ctx, engine);
        }
    }

    /// Makes the buffer and sprites match the canvas.
    fn fit(&mut self, view: Viewport) {
        let old = self.view.replace(view);
        if old.map(|v| (v.width, v.height)) != Some((view.width, view.height)) {
            self.pixels = vec![[0; 4]; view.width * view.height];
        }
        if old.map(|v| v.scale) != Some(view.scale) {
            self.sprites = Mark::ALL
                .iter()
                .map(|&m| Sprite::new(m, view.scale))
                .collect();
        }
    }

    /// Blends a mark centred at (`x`, `y`) device pixels into the buffer.
    fn stamp(&mut self, mark: Mark, x: f64, y: f64) {
        let Some(view) = self.view else { return };
        let sprite = &self.sprites[mark as usize];
        let half = (sprite.size / 2) as f64;
        // The box's top-left pixel and the sub-pixel phase of the centre.
        let place = |c: f64| {
            let steps = ((c - half) * PHASES as f64).round() as i64;
            (
                steps.div_euclid(PHASES as i64),
                steps.rem_euclid(PHASES as i64) as usize,
            )
        };
        let ((left, px), (top, py)) = (place(x), place(y));
        let marked = &sprite.phases[py * PHASES + px];
        // A slice, not the Vec: indexing it needs no call in a size-optimised build.
        let pixels = self.pixels.as_mut_slice();
        let (width, height) = (view.width as i64, view.height as i64);
        let size = sprite.size as i64;
        if left >= 0 && top >= 0 && left + size <= width && top + size <= height {
            // The whole box is on the canvas (the common case).
            let corner = (top * width + left) as usize;
            for &(row, col, cover) in marked {
                let at = corner + usize::from(row) * view.width + usize::from(col);
                blend(&mut pixels[at], sprite.rgb, cover);
            }
            return;
        }
        for &(row, col, cover) in marked {
            let (x, y) = (left + i64::from(col), top + i64::from(row));
            if x >= 0 && y >= 0 && x < width && y < height {
                blend(&mut pixels[(y * width + x) as usize], sprite.rgb, cover);
            }
        }
    }
}

/// Paints `rgb` at coverage `cover` over an RGBA pixel ("source over"). The
/// colours mix as if the pixel under were opaque: exact where it is, and
/// close enough where the soft edges of two marks overlap, without a
/// division by a variable per pixel.
#[inline(always)]
fn blend(pixel: &mut [u8; 4], rgb: [u8; 3], cover: u8) {
    if pixel[3] == 0 || cover == 255 {
        *pixel = [rgb[0], rgb[1], rgb[2], cover];
        return;
    }
    let (c, keep) = (u32::from(cover), 255 - u32::from(cover));
    let mix = |src: u8, dst: u8| ((u32::from(src) * c + u32::from(dst) * keep) / 255) as u8;
    *pixel = [
        mix(rgb[0], pixel[0]),
        mix(rgb[1], pixel[1]),
        mix(rgb[2], pixel[2]),
        (c + u32::from(pixel[3]) * keep / 255) as u8,
    ];
}

/// Answers that just reached their users: a ring for stale data, a cross for
/// failures (few at a time, so drawn as paths on top of the particles).
fn answers(ctx: &CanvasRenderingContext2d, engine: &Engine) {
    let sim = &engine.sim;
    let now = sim.now();
    let window = 300_000;
    ctx.set_line_width(2.0);
    for t in sim.traces().rev().take_while(|t| now.since(t.end) < window) {
        let Some(p) = engine.places.get(t.client.0 as usize) else {
            continue;
        };
        let age = now.since(t.end) as f64 / window as f64;
        let r = p.r + 4.0 + 10.0 * age;
        match t.outcome {
            Outcome::Failed(_) => {
                ctx.set_stroke_style_str(ERROR);
                ctx.begin_path();
                cross(ctx, p.x + p.r + 8.0, p.y - p.r, 5.0);
                ctx.stroke();
            }
            Outcome::Stale => {
                ctx.set_stroke_style_str(STALE);
                ctx.begin_path();
                ctx.arc(p.x, p.y, r, 0.0, std::f64::consts::TAU).ok();
                ctx.stroke();
            }
            Outcome::Ok => {}
        }
    }
}

fn position(
    places: &[crate::layout::Place],
    from: u16,
    to: u16,
    sent: SimTime,
    arrives: SimTime,
    now: SimTime,
    still: bool,
) -> Option<(f64, f64)> {
    let a = places.get(from as usize)?;
    let b = places.get(to as usize)?;
    let f = if still || arrives <= sent {
        0.5
    } else {
        (now.since(sent) as f64 / arrives.since(sent) as f64).clamp(0.0, 1.0)
    };
    Some((a.x + (b.x - a.x) * f, a.y + (b.y - a.y) * f))
}

fn cross(ctx: &CanvasRenderingContext2d, x: f64, y: f64, s: f64) {
    ctx.move_to(x - s, y - s);
    ctx.line_to(x + s, y + s);
    ctx.move_to(x + s, y - s);
    ctx.line_to(x - s, y + s);
}

/// The request whose particle is nearest to a point (diagram coordinates),
/// if one is within `radius`.
pub fn request_at(engine: &Engine, x: f64, y: f64, radius: f64) -> Option<u64> {
    let now = engine.sim.now();
    engine
        .sim
        .flights(MAX_PARTICLES)
        .iter()
        .filter_map(|f| {
            let id = f.request?;
            let (px, py) = position(&engine.places, f.from, f.to, f.sent, f.arrives, now, false)?;
            let d = (px - x).powi(2) + (py - y).powi(2);
            (d <= radius * radius).then_some((d, id))
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, id)| id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mark_is_drawn_whole_at_every_sub_pixel_position() {
        for mark in Mark::ALL {
            let sprite = Sprite::new(mark, 1.0);
            for pixels in &sprite.phases {
                assert!(
                    pixels.iter().any(|p| p.2 == 255),
                    "{mark:?} has solid pixels"
                );
                // Nothing reaches the edge of the box: nothing is cut off.
                let edge = sprite.size as u16 - 1;
                assert!(
                    pixels
                        .iter()
                        .all(|&(r, c, _)| r > 0 && c > 0 && r < edge && c < edge)
                );
            }
        }
        // A circle of radius 4 covers about 16π pixels at scale 1.
        for pixels in &Sprite::new(Mark::Read, 1.0).phases {
            let area: f64 = pixels.iter().map(|p| f64::from(p.2) / 255.0).sum();
            assert!(
                (area - 16.0 * std::f64::consts::PI).abs() < 1.0,
                "area {area}"
            );
        }
    }

    #[test]
    fn each_message_gets_the_marks_it_had_as_paths() {
        let flight = |request, kind, reply| Flight {
            from: 0,
            to: 1,
            sent: SimTime(0),
            arrives: SimTime(1),
            request,
            kind,
            reply,
        };
        let marks =
            |f: Flight| -> Vec<Mark> { Mark::ALL.into_iter().filter(|m| m.shows(&f)).collect() };
        assert_eq!(marks(flight(None, None, None)), [Mark::Background]);
        assert_eq!(
            marks(flight(None, None, Some(true))),
            [Mark::Background, Mark::Error]
        );
        assert_eq!(
            marks(flight(Some(1), Some(RequestKind::Read), None)),
            [Mark::Read]
        );
        assert_eq!(
            marks(flight(Some(1), Some(RequestKind::Write), Some(false))),
            [Mark::Write]
        );
        assert_eq!(
            marks(flight(Some(1), Some(RequestKind::Static), Some(true))),
            [Mark::Error]
        );
        assert_eq!(marks(flight(Some(1), None, None)), []);
    }

    #[test]
    fn blending_covers_what_is_under_and_keeps_the_colour_alone() {
        let mut pixel = [0, 0, 0, 0];
        blend(&mut pixel, [10, 20, 30], 128);
        assert_eq!(pixel, [10, 20, 30, 128]);
        blend(&mut pixel, [250, 20, 30], 255);
        assert_eq!(pixel, [250, 20, 30, 255]);
        let mut half = [0, 0, 200, 255];
        blend(&mut half, [200, 0, 0], 128);
        assert_eq!(half, [100, 0, 99, 255]);
        let mut soft = [0, 0, 200, 100];
        blend(&mut soft, [200, 0, 0], 128);
        assert_eq!(soft, [100, 0, 99, 177]);
    }
}
