//! Requests in flight, drawn on a canvas every animation frame: shape and colour by kind, errors and stale answers marked where users receive them.

use crate::engine::Engine;
use pathlab_sim::{Outcome, RequestKind, SimTime};
use web_sys::CanvasRenderingContext2d;

/// Most particles drawn in one frame.
pub const MAX_PARTICLES: usize = 4000;

/// Colour-blind-safe colours (Okabe–Ito) for each kind of traffic.
pub const STATIC: &str = "#0072B2";
pub const READ: &str = "#009E73";
pub const WRITE: &str = "#E69F00";
pub const ERROR: &str = "#D55E00";
pub const STALE: &str = "#CC79A7";
pub const BACKGROUND: &str = "#8a8f98";

/// Draws one frame of moving requests on a canvas of `width`×`height`
/// pixels, the diagram scaled by `scale` and offset by (`ox`, `oy`). `still`
/// draws each at its midpoint without motion (for people who prefer reduced
/// motion).
#[allow(clippy::too_many_arguments)]
pub fn draw(
    ctx: &CanvasRenderingContext2d,
    engine: &Engine,
    width: f64,
    height: f64,
    scale: f64,
    ox: f64,
    oy: f64,
    still: bool,
) {
    ctx.set_transform(1.0, 0.0, 0.0, 1.0, 0.0, 0.0).ok();
    ctx.clear_rect(0.0, 0.0, width, height);
    ctx.set_transform(scale, 0.0, 0.0, scale, ox, oy).ok();
    let sim = &engine.sim;
    let now = sim.now();
    let places = &engine.places;
    let flights = sim.flights(MAX_PARTICLES);
    // Background traffic (health checks, heartbeats, replication) first, small and grey.
    ctx.set_fill_style_str(BACKGROUND);
    for f in flights.iter().filter(|f| f.request.is_none()) {
        let Some((x, y)) = position(places, f.from, f.to, f.sent, f.arrives, now, still) else {
            continue;
        };
        ctx.fill_rect(x - 1.5, y - 1.5, 3.0, 3.0);
    }
    for (kind, colour) in [
        (RequestKind::Static, STATIC),
        (RequestKind::Read, READ),
        (RequestKind::Write, WRITE),
    ] {
        ctx.set_fill_style_str(colour);
        ctx.begin_path();
        for f in flights
            .iter()
            .filter(|f| f.kind == Some(kind) && f.reply != Some(true))
        {
            let Some((x, y)) = position(places, f.from, f.to, f.sent, f.arrives, now, still) else {
                continue;
            };
            shape(ctx, kind, x, y, 4.0);
        }
        ctx.fill();
    }
    // Error answers travelling back: a cross.
    ctx.set_stroke_style_str(ERROR);
    ctx.set_line_width(2.0);
    ctx.begin_path();
    for f in flights.iter().filter(|f| f.reply == Some(true)) {
        let Some((x, y)) = position(places, f.from, f.to, f.sent, f.arrives, now, still) else {
            continue;
        };
        cross(ctx, x, y, 4.0);
    }
    ctx.stroke();
    // Answers that just reached their users: a ring for stale data, a
    // cross for failures.
    let window = 300_000;
    for t in sim.traces().rev().take_while(|t| now.since(t.end) < window) {
        let Some(p) = places.get(t.client.0 as usize) else {
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

fn shape(ctx: &CanvasRenderingContext2d, kind: RequestKind, x: f64, y: f64, s: f64) {
    match kind {
        RequestKind::Static => ctx.rect(x - s * 0.85, y - s * 0.85, s * 1.7, s * 1.7),
        RequestKind::Read => {
            ctx.move_to(x + s, y);
            ctx.arc(x, y, s, 0.0, std::f64::consts::TAU).ok();
        }
        RequestKind::Write => {
            ctx.move_to(x, y - s * 1.2);
            ctx.line_to(x + s * 1.2, y);
            ctx.line_to(x, y + s * 1.2);
            ctx.line_to(x - s * 1.2, y);
            ctx.close_path();
        }
    }
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
        .into_iter()
        .filter_map(|f| {
            let id = f.request?;
            let (px, py) = position(&engine.places, f.from, f.to, f.sent, f.arrives, now, false)?;
            let d = (px - x).powi(2) + (py - y).powi(2);
            (d <= radius * radius).then_some((d, id))
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, id)| id)
}
