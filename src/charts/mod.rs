//! Live charts of the last minute of simulated time: small multiples drawn as hand-written SVG.
//!
//! Each chart is a `<figure>` with a title and the current value in text, a
//! legend that names each line, y-axis labels, an x axis from
//! "−60 s" to "now", and an SVG plot (`role="img"`, with an `aria-label` and
//! a `<title>` that say the current value in words). Lines differ by colour
//! (the Okabe–Ito palette, safe for colour-blind readers) *and* by dash
//! pattern, so they stay apart in greyscale too.
//!
//! The charts re-render as often as every animation frame, so building them
//! is kept cheap: the window is found by binary search, and each polyline's
//! `points` attribute is written into one pre-sized `String`.

mod figures;
mod versus;
use figures::{error_rate, latency, replication_lag, stale_reads, throughput};
use std::fmt::Write as _;
use std::rc::Rc;
pub use versus::VersusCharts;

use pathlab_sim::Point;
use yew::prelude::*;

/// Width of every plot, in SVG user units.
const W: f64 = 360.0;
/// Height of every plot, in SVG user units.
const H: f64 = 150.0;
/// Space above the top line and below the bottom one, so strokes are not cut.
const PAD: f64 = 4.0;
/// The viewBox shared by every plot.
const VIEW_BOX: &str = "0 0 360 150";

/// Okabe–Ito blue.
const BLUE: &str = "#0072B2";
/// Okabe–Ito vermillion.
const VERMILLION: &str = "#D55E00";
/// Okabe–Ito bluish green.
const GREEN: &str = "#009E73";
/// Okabe–Ito reddish purple.
const PURPLE: &str = "#CC79A7";
/// Okabe–Ito black.
const BLACK: &str = "#000000";
/// Okabe–Ito orange (under 3:1 against white: used only after the others).
const ORANGE: &str = "#E69F00";
/// Okabe–Ito sky blue (under 3:1 against white: used only after the others).
const SKY: &str = "#56B4E9";

/// Line colours in order of use: those with at least 3:1 contrast on white first.
const PALETTE: [&str; 7] = [BLUE, VERMILLION, GREEN, PURPLE, BLACK, ORANGE, SKY];
/// Dash patterns in order of use (SVG user units); "none" is a solid line.
const DASHES: [&str; 5] = ["none", "7 4", "2 3", "10 3 2 3", "1 4"];

/// Properties of [`Charts`].
#[derive(Properties, PartialEq, Clone, Debug)]
pub struct ChartsProps {
    /// One point per simulated second, oldest first (`Simulation::metrics().series`).
    pub series: Rc<Vec<Point>>,
    /// Database replica names, in the order of each point's `lag_ms`.
    #[prop_or_default]
    pub replicas: Rc<Vec<String>>,
    /// How many seconds of simulated time to show.
    #[prop_or(60)]
    pub window_s: u32,
    /// Whether time is running (the empty charts say what to do if not).
    #[prop_or_default]
    pub playing: bool,
    /// The timeline's cursor (a simulated second), when it is in the past:
    /// drawn as a line, and the figures in the headings are its.
    #[prop_or_default]
    pub cursor_s: Option<u32>,
}

/// Small-multiple line charts of the last `window_s` simulated seconds:
/// throughput, error rate, latency (p50 and p99), stale reads and
/// replication lag per replica.
#[component]
pub fn Charts(props: &ChartsProps) -> Html {
    let window_s = props.window_s.max(1);
    let section_label = match props.cursor_s {
        Some(c) => format!("Charts of the {window_s} simulated seconds around {c} s"),
        None => format!("Live charts of the last {window_s} simulated seconds"),
    };
    let Some(window) = Window::new(&props.series, window_s, props.cursor_s) else {
        return html! {
            <section class="charts" data-testid="charts" aria-label={section_label}>
                <p class="charts-empty" role="status">
                    { if props.playing {
                        "The charts fill in after the first simulated second…"
                    } else {
                        "Press Play (or the Space key) to start: the charts fill in after the first simulated second."
                    } }
                </p>
            </section>
        };
    };
    let cursor = props.cursor_s.map(|c| window.x(c));
    html! {
        <section class="charts" data-testid="charts" aria-label={section_label}>
            { chart(throughput(&window), cursor) }
            { chart(error_rate(&window), cursor) }
            { chart(latency(&window), cursor) }
            { chart(stale_reads(&window), cursor) }
            { chart(replication_lag(&window, &props.replicas), cursor) }
        </section>
    }
}

/// The points on screen and how simulated seconds map to x.
struct Window<'a> {
    /// Points with `t_s` from `now - span` to `now`.
    points: &'a [Point],
    /// The point whose figures the headings give: the newest, or the
    /// cursor's.
    last: &'a Point,
    /// The newest second, drawn at the right edge.
    now: u32,
    /// Seconds across the plot.
    span: u32,
    /// Whether the plot shows a past moment (labelled in simulated seconds
    /// rather than back from now).
    past: bool,
}

impl<'a> Window<'a> {
    /// The last `span` seconds of `series` (which is in time order), the
    /// headings' figures those of second `cursor` if given; `None` when it
    /// is empty.
    fn new(series: &'a [Point], span: u32, cursor: Option<u32>) -> Option<Window<'a>> {
        let now = series.last()?.t_s;
        let last = cursor
            .and_then(|c| series.iter().rev().find(|p| p.t_s <= c))
            .or(series.last())?;
        let first = now.saturating_sub(span);
        let from = series.partition_point(|p| p.t_s < first);
        Some(Window {
            points: &series[from..],
            last,
            now,
            span,
            past: cursor.is_some(),
        })
    }

    /// The points of `series` (another run's, in lock-step) over the same
    /// seconds; `None` when it has none there.
    fn aligned(&self, series: &'a [Point]) -> Option<Window<'a>> {
        let first = self.now.saturating_sub(self.span);
        let from = series.partition_point(|p| p.t_s < first);
        let upto = series.partition_point(|p| p.t_s <= self.now);
        let points = &series[from..upto.max(from)];
        Some(Window {
            points,
            last: points.last()?,
            now: self.now,
            span: self.span,
            past: self.past,
        })
    }

    /// x of a point, in user units: the right edge is `now`.
    fn x(&self, t_s: u32) -> f64 {
        let back = f64::from(self.now.saturating_sub(t_s));
        W * (1.0 - back / f64::from(self.span))
    }

    /// The largest value of `f` over the window.
    fn max(&self, f: impl Fn(&Point) -> Option<f64>) -> Option<f64> {
        self.points
            .iter()
            .filter_map(f)
            .filter(|v| v.is_finite())
            .reduce(f64::max)
    }

    /// The smallest positive value of `f` over the window.
    fn min_positive(&self, f: impl Fn(&Point) -> Option<f64>) -> Option<f64> {
        self.points
            .iter()
            .filter_map(f)
            .filter(|v| v.is_finite() && *v > 0.0)
            .reduce(f64::min)
    }

    /// The x-axis labels: the left edge, the middle when it is a whole
    /// second, and "now" (for a past moment: the simulated seconds there).
    fn x_labels(&self) -> [Option<String>; 3] {
        let span = self.span;
        if self.past {
            let at = |back: u32| Some(format!("{} s", self.now.saturating_sub(back)));
            return [at(span), at(span / 2), at(0)];
        }
        [
            Some(format!("−{span} s")),
            (span.is_multiple_of(2) && span >= 4).then(|| format!("−{} s", span / 2)),
            Some("now".to_owned()),
        ]
    }
}

/// How values map to height.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Scale {
    /// From zero to `max`.
    Linear { max: f64 },
    /// From `lo` to `hi`, in decades; values at or below `lo` sit on the floor.
    Log { lo: f64, hi: f64 },
}

impl Scale {
    /// Height of `v` as a fraction of the plot, 0 at the bottom, clamped to 0–1.
    fn frac(self, v: f64) -> f64 {
        let f = match self {
            Scale::Linear { max } => v / max,
            Scale::Log { lo, hi } => libm::log10(v.max(lo) / lo) / libm::log10(hi / lo),
        };
        if f.is_finite() {
            f.clamp(0.0, 1.0)
        } else {
            0.0
        }
    }

    /// y of `v`, in user units.
    fn y(self, v: f64) -> f64 {
        frac_to_y(self.frac(v))
    }
}

/// y of a height fraction, in user units.
fn frac_to_y(frac: f64) -> f64 {
    PAD + (1.0 - frac) * (H - 2.0 * PAD)
}

/// The smallest of 1, 2, 5 × 10ⁿ at or above `v` (1 for anything not positive).
/// The power of ten at or below `v` (for `v` > 0). Uses the same math
/// library as the simulation core, so the bundle carries one copy of it.
fn decade_at_or_below(v: f64) -> f64 {
    10f64.powi(libm::floor(libm::log10(v)) as i32)
}

fn nice_ceil(v: f64) -> f64 {
    if !(v.is_finite() && v > 0.0) {
        return 1.0;
    }
    let decade = decade_at_or_below(v);
    let f = v / decade;
    // A little tolerance so that 100.0000001 (float noise) stays 100.
    let step = if f <= 1.000_001 {
        1.0
    } else if f <= 2.000_001 {
        2.0
    } else if f <= 5.000_001 {
        5.0
    } else {
        10.0
    };
    step * decade
}

/// A number for an axis or a label: whole when large, trimmed decimals when small, "k" for thousands.
fn fmt_num(v: f64) -> String {
    let a = v.abs();
    if a >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if a >= 1000.0 {
        trim(format!("{:.1}", v / 1000.0)) + "k"
    } else if a >= 10.0 || a == 0.0 {
        format!("{v:.0}")
    } else {
        trim(format!("{v:.1}"))
    }
}

/// A duration in milliseconds for people: "0.4 ms", "12 ms", "2.5 s".
fn fmt_ms(ms: f64) -> String {
    if ms >= 1000.0 {
        trim(format!("{:.1}", ms / 1000.0)) + " s"
    } else if ms >= 10.0 || ms == 0.0 {
        format!("{ms:.0} ms")
    } else {
        trim(format!("{ms:.1}")) + " ms"
    }
}

/// A percentage: one decimal under 10 %, whole above.
fn fmt_pct(pct: f64) -> String {
    if pct >= 10.0 || pct == 0.0 {
        format!("{pct:.0} %")
    } else {
        trim(format!("{pct:.1}")) + " %"
    }
}

/// Drops a trailing ".0".
fn trim(mut s: String) -> String {
    if s.ends_with(".0") {
        s.truncate(s.len() - 2);
    }
    s
}

/// One line of a chart.
struct Line {
    /// Its name in the legend.
    name: String,
    /// Its value now, in the legend.
    now: String,
    color: &'static str,
    dash: &'static str,
    /// One `points` string per run of known values (a gap splits the line).
    segments: Vec<String>,
}

/// One chart, ready to draw.
struct Chart {
    /// Short id, used in `data-testid="chart-<id>"`.
    id: &'static str,
    title: &'static str,
    /// The value now, shown next to the title.
    value: String,
    /// The plot's accessible summary (also its `<title>`).
    summary: String,
    /// Y-axis labels as (height fraction, text), top first.
    ticks: Vec<(f64, String)>,
    lines: Vec<Line>,
    x_labels: [Option<String>; 3],
    /// Shown under the plot when there is nothing to draw.
    note: Option<&'static str>,
}

/// Writes the polyline(s) of `f` over the window: one `points` string per
/// run of known values, each built in one `String`. A lone point becomes a
/// short tick so it stays visible.
fn segments(w: &Window, scale: Scale, f: impl Fn(&Point) -> Option<f64>) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut count = 0usize;
    let mut last_xy = (0.0, 0.0);
    let flush = |current: &mut String, count: usize, last_xy: (f64, f64), out: &mut Vec<String>| {
        if count == 1 {
            current.clear();
            let (x, y) = last_xy;
            let _ = write!(current, "{:.1},{y:.1} {:.1},{y:.1}", x - 1.5, x + 1.5);
        }
        if count > 0 {
            out.push(std::mem::take(current));
        }
    };
    for p in w.points {
        match f(p).filter(|v| v.is_finite()) {
            Some(v) => {
                if count == 0 {
                    // About 14 bytes a point ("359.4,113.2 ").
                    current.reserve(14 * w.points.len().min(w.span as usize + 1));
                } else {
                    current.push(' ');
                }
                let (x, y) = (w.x(p.t_s), scale.y(v));
                let _ = write!(current, "{x:.1},{y:.1}");
                last_xy = (x, y);
                count += 1;
            }
            None => {
                flush(&mut current, count, last_xy, &mut out);
                count = 0;
            }
        }
    }
    flush(&mut current, count, last_xy, &mut out);
    out
}

/// Ticks of a linear scale: its top, middle and zero.
fn linear_ticks(max: f64, fmt: impl Fn(f64) -> String) -> Vec<(f64, String)> {
    vec![(1.0, fmt(max)), (0.5, fmt(max / 2.0)), (0.0, fmt(0.0))]
}

/// Draws one chart as a `<figure>`.
fn chart(c: Chart, cursor_x: Option<f64>) -> Html {
    // Single-line charts get a one-entry legend too: it says what the line
    // counts, and keeps the plots of one row level with each other.
    let legend = (!c.lines.is_empty()).then(|| {
        html! {
            <ul class="chart-legend">
                { for c.lines.iter().map(|l| html! {
                    <li>
                        <svg class="chart-swatch" viewBox="0 0 32 10" width="32" height="10"
                            aria-hidden="true" focusable="false">
                            <line x1="0" y1="5" x2="32" y2="5" stroke={l.color}
                                stroke-width="3" stroke-dasharray={l.dash} />
                        </svg>
                        <span class="chart-legend-name">{ l.name.clone() }</span>
                        if !l.now.is_empty() {
                            <span class="chart-legend-value">{ l.now.clone() }</span>
                        }
                    </li>
                }) }
            </ul>
        }
    });
    let [x0, x1, x2] = c.x_labels;
    html! {
        <figure class="chart" data-testid={format!("chart-{}", c.id)}>
            <figcaption class="chart-head">
                <span class="chart-title">{ c.title }</span>
                <span class="chart-value">{ c.value }</span>
            </figcaption>
            { for legend }
            <div class="chart-plot">
                <div class="chart-yaxis" aria-hidden="true">
                    { for c.ticks.iter().enumerate().map(|(i, (frac, text))| html! {
                        <span class={if i == 0 { "chart-tick chart-ymax" } else { "chart-tick" }}
                            style={format!("top:{:.2}%", frac_to_y(*frac) / H * 100.0)}>
                            { text.clone() }
                        </span>
                    }) }
                </div>
                <svg class="chart-svg" viewBox={VIEW_BOX} role="img"
                    aria-label={c.summary.clone()} focusable="false">
                    <title>{ c.summary }</title>
                    { for c.ticks.iter().map(|(frac, _)| {
                        let y = format!("{:.1}", frac_to_y(*frac));
                        html! {
                            <line class="chart-grid" x1="0" x2={W.to_string()}
                                y1={y.clone()} y2={y} />
                        }
                    }) }
                    { for c.lines.iter().flat_map(|l| l.segments.iter().map(move |points| html! {
                        <polyline class="chart-line" points={points.clone()} fill="none"
                            stroke={l.color} stroke-dasharray={l.dash} stroke-width="2.25"
                            stroke-linejoin="round" />
                    })) }
                    if let Some(x) = cursor_x {
                        <line class="chart-cursor" x1={format!("{x:.1}")} x2={format!("{x:.1}")}
                            y1="0" y2={H.to_string()} />
                    }
                </svg>
                <div class="chart-xaxis" aria-hidden="true">
                    <span>{ x0 }</span>
                    <span>{ x1 }</span>
                    <span>{ x2 }</span>
                </div>
            </div>
            if let Some(note) = c.note {
                <p class="chart-note">{ note }</p>
            }
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(t_s: u32, requests: u64) -> Point {
        Point {
            t_s,
            requests,
            ok: requests,
            errors: 0,
            stale: 0,
            p50_ms: 5.0,
            p95_ms: 9.0,
            p99_ms: 12.0,
            cdn_hit_ratio: None,
            cache_hit_ratio: None,
            db_ops: 0,
            lost_writes: 0,
            sessions_lost: 0,
            backlog: None,
            lag_ms: vec![Some(1.0), None],
        }
    }

    #[test]
    fn nice_ceil_rounds_up_to_one_two_five() {
        assert_eq!(nice_ceil(0.0), 1.0);
        assert_eq!(nice_ceil(1.0), 1.0);
        assert_eq!(nice_ceil(1.2), 2.0);
        assert_eq!(nice_ceil(3.0), 5.0);
        assert_eq!(nice_ceil(7.0), 10.0);
        assert_eq!(nice_ceil(100.0), 100.0);
        assert_eq!(nice_ceil(4000.0), 5000.0);
    }

    #[test]
    fn numbers_and_durations_read_naturally() {
        assert_eq!(fmt_num(0.0), "0");
        assert_eq!(fmt_num(2.5), "2.5");
        assert_eq!(fmt_num(412.0), "412");
        assert_eq!(fmt_num(1200.0), "1.2k");
        assert_eq!(fmt_num(25_000.0), "25k");
        assert_eq!(fmt_ms(0.42), "0.4 ms");
        assert_eq!(fmt_ms(12.3), "12 ms");
        assert_eq!(fmt_ms(4000.0), "4 s");
        assert_eq!(fmt_ms(2500.0), "2.5 s");
        assert_eq!(fmt_pct(2.14), "2.1 %");
        assert_eq!(fmt_pct(35.0), "35 %");
    }

    #[test]
    fn log_scale_separates_fast_and_timed_out_requests() {
        let scale = Scale::Log {
            lo: 1.0,
            hi: 5000.0,
        };
        let fast = scale.frac(5.0);
        let slow = scale.frac(4000.0);
        assert!(fast > 0.1 && fast < 0.3, "{fast}");
        assert!(slow > 0.9 && slow <= 1.0, "{slow}");
        assert_eq!(scale.frac(0.01), 0.0);
    }

    #[test]
    fn window_keeps_the_last_span_and_gaps_split_lines() {
        let series: Vec<Point> = (1..=100).map(|t| point(t, 10)).collect();
        let w = Window::new(&series, 60, None).expect("points");
        assert_eq!(w.points.first().map(|p| p.t_s), Some(40));
        assert_eq!(w.points.len(), 61);
        assert_eq!(w.x(100), W);
        assert_eq!(w.x(40), 0.0);

        let known = segments(&w, Scale::Linear { max: 10.0 }, |p| Some(p.requests as f64));
        assert_eq!(known.len(), 1);
        assert_eq!(known[0].split(' ').count(), 61);
        assert!(known[0].starts_with("0.0,4.0 "), "{}", known[0]);

        let gappy = segments(&w, Scale::Linear { max: 10.0 }, |p| {
            (p.t_s % 10 != 0).then_some(1.0)
        });
        // 40 | 41–49 | … | 91–99 | 100 is a gap at both ends.
        assert_eq!(gappy.len(), 6);
        let unknown = segments(&w, Scale::Linear { max: 10.0 }, |p| p.lag_ms[1]);
        assert!(unknown.is_empty());
    }

    #[test]
    fn a_lone_point_becomes_a_short_tick() {
        let series = vec![point(1, 3)];
        let w = Window::new(&series, 60, None).expect("a point");
        let s = segments(&w, Scale::Linear { max: 10.0 }, |p| Some(p.requests as f64));
        assert_eq!(s, vec!["358.5,103.4 361.5,103.4".to_owned()]);
    }
}
