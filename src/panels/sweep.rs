//! The sweep panel: choose one or two settings and their values, run every combination in workers with a progress bar, and read the trade-off chart (one labelled point per variant, with its spread and theory's prediction beside it where there is one: Che's approximation for a cache's hit ratio, 1/(N+1) for users a hash ring moves), the table and its CSV; a point opens its run or puts it in a compare.

use super::{Dispatch, input_value, on_click, select_value};
use crate::action::Action;
use crate::engine::Engine;
use crate::sweep::{FIGURE_NAMES, SUGGESTED, Sweep, show};
use pathlab_sim::sweep::FIGURES;
use std::fmt::Write as _;
use yew::prelude::*;

/// The panel, when open.
pub fn view(e: &Engine, d: &Dispatch) -> Html {
    if !e.sweep_panel {
        return Html::default();
    }
    let [vary, vary2, seeds, secs] = e.sweep_form.clone();
    let run = {
        let d = d.clone();
        Callback::from(move |ev: SubmitEvent| {
            ev.prevent_default();
            // The second box may set several settings to one value each.
            let vary: Vec<String> = [&vary, &vary2]
                .into_iter()
                .flat_map(|v| v.split(';'))
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect();
            let seeds = seeds.trim().parse().unwrap_or(0);
            let secs = secs.trim().parse().unwrap_or(f64::NAN);
            d.emit(Action::SweepStart { vary, seeds, secs });
        })
    };
    let edit = |field: &'static str, id: &'static str| {
        let d = d.clone();
        Callback::from(move |_: InputEvent| {
            d.emit(Action::SweepEdit {
                field: field.into(),
                text: input_value(id),
            })
        })
    };
    let suggest = {
        let d = d.clone();
        Callback::from(move |_: Event| {
            let chosen = select_value("sweep-suggested");
            if let Some((_, vary, vary2)) = SUGGESTED.iter().find(|s| s.1 == chosen) {
                for (field, text) in [("vary", vary), ("vary2", vary2)] {
                    d.emit(Action::SweepEdit {
                        field: field.into(),
                        text: text.to_string(),
                    });
                }
            }
        })
    };
    let [vary, vary2, seeds, secs] = e.sweep_form.clone();
    let running = e.sweep.as_ref().is_some_and(|s| !s.finished());
    html! {
        <section class="panel sweep-panel" data-testid="sweep" aria-label="Sweep a setting">
            <div class="sweep-head">
                <h2>{ "Sweep a setting" }</h2>
                <button type="button" class="link" data-testid="sweep-close" onclick={on_click(d, Action::SweepPanel { open: false })}>{ "Close" }</button>
            </div>
            <form class="sweep-form" onsubmit={run}>
                <label>{ "Suggested " }
                    <select id="sweep-suggested" data-testid="sweep-suggested" onchange={suggest}>
                        <option value="" selected={SUGGESTED.iter().all(|s| s.1 != vary || s.2 != vary2)}>{ "(your own, below)" }</option>
                        { for SUGGESTED.iter().map(|(name, v, v2)| html! { <option value={*v} selected={*v == vary && *v2 == vary2}>{ *name }</option> }) }
                    </select>
                </label>
                <label>{ "Vary " }
                    <input id="sweep-vary" data-testid="sweep-vary" type="text" spellcheck="false" autocomplete="off"
                           value={vary} oninput={edit("vary", "sweep-vary")} aria-describedby="sweep-help" />
                </label>
                <label>{ "and " }
                    <input id="sweep-vary-2" data-testid="sweep-vary-2" type="text" spellcheck="false" autocomplete="off"
                           placeholder="(optional) db.heartbeat_ms=100,500 or app.workers=1;lb.strategy=random" value={vary2} oninput={edit("vary2", "sweep-vary-2")} />
                </label>
                <label>{ "Seeds " }<input id="sweep-seeds" data-testid="sweep-seeds" type="number" min="1" max="20" value={seeds} oninput={edit("seeds", "sweep-seeds")} /></label>
                <label>{ "Seconds " }<input id="sweep-secs" data-testid="sweep-secs" type="number" min="1" max="3600"
                                            value={secs} oninput={edit("secs", "sweep-secs")} /></label>
                <button type="submit" class="primary" data-testid="sweep-run" disabled={running}>{ "Run sweep" }</button>
                if running {
                    <button type="button" data-testid="sweep-stop" onclick={on_click(d, Action::SweepStop)}>{ "Stop" }</button>
                }
            </form>
            <p class="hint" id="sweep-help">{ format!("Each combination runs headless from {}'s design for the seeds and simulated seconds given, in Web Workers (one per core). Any setting can be varied by its path: FIELD=V1,V2,…", e.preset) }</p>
            if let Some(s) = e.sweep.as_ref() {
                { result(s, e, d) }
            }
        </section>
    }
}

/// Progress, chart, picked point and table of a sweep.
fn result(s: &Sweep, e: &Engine, d: &Dispatch) -> Html {
    let (done, total) = (s.done(), s.total());
    let status = if let Some(why) = &s.failed {
        format!("Stopped: {why}")
    } else if s.finished() {
        format!(
            "{done} runs in {:.1} s",
            (s.ended_ms.unwrap_or(s.started_ms) - s.started_ms) / 1000.0
        )
    } else {
        let left = e
            .sweep
            .as_ref()
            .and_then(|s| s.seconds_left(now_ms(s)))
            .map_or(String::new(), |l| format!(" · about {l:.0} s left"));
        format!(
            "{done} of {total} runs{left} · {} worker{}",
            s.workers(),
            if s.workers() == 1 { "" } else { "s" }
        )
    };
    html! {
        <div class="sweep-result">
            <div class="sweep-progress">
                <progress data-testid="sweep-progress" max={total.to_string()} value={done.to_string()}></progress>
                <span role="status" data-testid="sweep-status" data-done={done.to_string()} data-total={total.to_string()}
                      data-finished={s.finished().to_string()}>{ status }</span>
            </div>
            <div class="sweep-axes">
                <label>{ "x " }
                    <select id="sweep-x" data-testid="sweep-x" onchange={axes(d)}>
                        <option value="setting" selected={s.x.is_none()}>{ format!("the setting ({})", s.setting()) }</option>
                        { for figure_options(s.x) }
                    </select>
                </label>
                <label>{ "y " }
                    <select id="sweep-y" data-testid="sweep-y" onchange={axes(d)}>{ for figure_options(Some(s.y)) }</select>
                </label>
                <button type="button" class="link" data-testid="sweep-csv" onclick={on_click(d, Action::SweepCsv)}>{ "Save table (CSV)" }</button>
            </div>
            { chart(s, d) }
            { picked(s, d) }
            { table(s) }
        </div>
    }
}

/// Real ms now (for the time left).
fn now_ms(s: &Sweep) -> f64 {
    gloo::utils::window()
        .performance()
        .map_or(s.started_ms, |p| p.now())
}

/// The figures as options, `chosen` selected.
fn figure_options(chosen: Option<usize>) -> impl Iterator<Item = Html> {
    FIGURES
        .iter()
        .zip(FIGURE_NAMES)
        .enumerate()
        .map(move |(i, (f, name))| {
            html! { <option value={*f} selected={chosen == Some(i)}>{ name }</option> }
        })
}

/// Sends the axes chosen.
fn axes(d: &Dispatch) -> Callback<Event> {
    let d = d.clone();
    Callback::from(move |_: Event| {
        d.emit(Action::SweepAxes {
            x: select_value("sweep-x"),
            y: select_value("sweep-y"),
        })
    })
}

/// A variant's name for its point: only the settings that differ between
/// variants, and only the value when that leaves one.
fn short(s: &Sweep, v: usize) -> String {
    let parts = |l: &str| l.split(' ').map(str::to_string).collect::<Vec<_>>();
    let all: Vec<Vec<String>> = s.labels.iter().map(|l| parts(l)).collect();
    let differ: Vec<&String> = all[v]
        .iter()
        .enumerate()
        .filter(|(i, p)| all.iter().any(|o| o.get(*i) != Some(*p)))
        .map(|(_, p)| p)
        .collect();
    match differ.as_slice() {
        [one] => one
            .split_once('=')
            .map_or(one.to_string(), |(_, x)| x.to_string()),
        [] => s.labels[v].clone(),
        many => many
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    }
}

const W: f64 = 560.0;
const H: f64 = 320.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 44.0;

/// Maps values to one axis: linear, or in decades when they span many.
struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
}

impl Axis {
    fn of(values: &[f64]) -> Axis {
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if !(lo.is_finite() && hi.is_finite()) {
            return Axis {
                lo: 0.0,
                hi: 1.0,
                log: false,
            };
        }
        if lo > 0.0 && hi / lo >= 20.0 {
            return Axis {
                lo: lo / 1.3,
                hi: hi * 1.3,
                log: true,
            };
        }
        let pad = if hi > lo {
            (hi - lo) * 0.12
        } else {
            lo.abs().max(1.0) * 0.1
        };
        Axis {
            lo: if lo >= 0.0 {
                (lo - pad).max(0.0)
            } else {
                lo - pad
            },
            hi: hi + pad,
            log: false,
        }
    }

    /// Where `v` falls, 0 to 1.
    fn frac(&self, v: f64) -> f64 {
        let f = if self.log {
            libm::log10(v.max(self.lo) / self.lo) / libm::log10(self.hi / self.lo)
        } else {
            (v - self.lo) / (self.hi - self.lo)
        };
        if f.is_finite() { f } else { 0.5 }
    }

    /// Labelled values along it: round steps (1, 2 or 5 × 10ⁿ) on a
    /// linear axis, four points spread evenly on a log one.
    fn ticks(&self) -> Vec<f64> {
        if self.log {
            return (0..4)
                .map(|i| self.lo * libm::pow(self.hi / self.lo, f64::from(i) / 3.0))
                .collect();
        }
        let rough = (self.hi - self.lo) / 4.0;
        if !(rough.is_finite() && rough > 0.0) {
            return vec![self.lo];
        }
        let decade = libm::pow(10.0, libm::floor(libm::log10(rough)));
        let step = [1.0, 2.0, 5.0, 10.0]
            .into_iter()
            .map(|m| m * decade)
            .find(|s| *s >= rough)
            .unwrap_or(10.0 * decade);
        let mut t = libm::ceil(self.lo / step) * step;
        let mut out = Vec::new();
        while t <= self.hi + step * 1e-9 && out.len() < 12 {
            out.push(t);
            t += step;
        }
        out
    }
}

/// A value for an axis label.
fn label(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if v == v.round() && a < 1000.0 {
        format!("{v:.0}")
    } else if a >= 1000.0 {
        format!("{:.1}k", v / 1000.0)
    } else if a >= 10.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.1}")
    } else {
        // Round steps such as 0.05 need no trailing zeros.
        let s = format!("{v:.3}");
        s.trim_end_matches('0').to_string()
    }
}

/// The trade-off chart: a labelled point per variant (its mean, with one
/// standard deviation either way on y), Che's prediction beside measured
/// hit ratios.
fn chart(s: &Sweep, d: &Dispatch) -> Html {
    let n = s.labels.len();
    let x_of = |v: usize| match s.x {
        Some(f) => s.spread(v, f).map(|sp| sp.mean),
        None => s.setting_value(v).or(Some(v as f64)),
    };
    let y_of = |v: usize| s.spread(v, s.y);
    let che: Vec<Option<f64>> = (0..n).map(|v| s.theory(v, s.y)).collect();
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for v in 0..n {
        if let (Some(x), Some(y)) = (x_of(v), y_of(v)) {
            xs.push(x);
            ys.push(y.mean - y.sd);
            ys.push(y.mean + y.sd);
        }
    }
    ys.extend(che.iter().flatten());
    let (ax, ay) = (Axis::of(&xs), Axis::of(&ys));
    // The setting's own values mark its axis.
    let x_ticks = if s.x.is_none() && xs.len() > 1 {
        xs.clone()
    } else {
        ax.ticks()
    };
    let px = |x: f64| LEFT + ax.frac(x) * (W - LEFT - RIGHT);
    let py = |y: f64| H - BOTTOM - ay.frac(y) * (H - TOP - BOTTOM);
    let x_name = match s.x {
        Some(f) => FIGURE_NAMES[f].to_string(),
        None => s.setting().to_string(),
    };
    let mut theory: Vec<(f64, f64)> = (0..n)
        .filter_map(|v| Some((px(x_of(v)?), py(che[v]?))))
        .collect();
    theory.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let theory_line: String = theory
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect::<Vec<_>>()
        .join(" ");
    // The chart is written as markup in one string (far less code than a
    // tree of elements); one handler on the figure finds the point clicked.
    let mut svg = String::with_capacity(4096);
    let _ = write!(
        svg,
        r#"<svg viewBox="0 0 {W} {H}" role="img" data-testid="sweep-chart" aria-label="{} against {}, one point per variant">"#,
        FIGURE_NAMES[s.y],
        escape(&x_name)
    );
    for t in x_ticks {
        let x = px(t);
        let _ = write!(
            svg,
            r#"<g class="tick"><line x1="{x:.1}" x2="{x:.1}" y1="{TOP}" y2="{}"/><text x="{x:.1}" y="{}" text-anchor="middle">{}</text></g>"#,
            H - BOTTOM,
            H - BOTTOM + 16.0,
            label(t)
        );
    }
    for t in ay.ticks() {
        let y = py(t);
        let _ = write!(
            svg,
            r#"<g class="tick"><line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}"/><text x="{}" y="{:.1}" text-anchor="end">{}</text></g>"#,
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            label(t)
        );
    }
    let mid_y = (TOP + H - BOTTOM) / 2.0;
    let _ = write!(
        svg,
        r#"<text class="axis-name" x="{:.1}" y="{}" text-anchor="middle">{}{}</text><text class="axis-name" x="14" y="{mid_y:.1}" text-anchor="middle" transform="rotate(-90 14 {mid_y:.1})">{}</text>"#,
        (LEFT + W - RIGHT) / 2.0,
        H - 6.0,
        escape(&x_name),
        if ax.log { " (log scale)" } else { "" },
        FIGURE_NAMES[s.y]
    );
    let diamond = |svg: &mut String, x: f64, y: f64| {
        let _ = write!(
            svg,
            r#"<path class="theory-point" d="M{x:.1} {:.1}l5 5l-5 5l-5 -5z"/>"#,
            y - 5.0
        );
    };
    if theory.len() > 1 {
        let _ = write!(
            svg,
            r#"<polyline class="theory" points="{theory_line}" data-testid="sweep-theory"/><g class="legend" aria-hidden="true"><circle cx="{}" cy="{}" r="5" class="measured"/><text x="{}" y="{}">measured</text>"#,
            W - RIGHT - 175.0,
            TOP + 8.0,
            W - RIGHT - 165.0,
            TOP + 12.0
        );
        diamond(&mut svg, W - RIGHT - 62.0, TOP + 8.0);
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}">theory</text></g>"#,
            W - RIGHT - 52.0,
            TOP + 12.0
        );
    }
    for &(x, y) in &theory {
        diamond(&mut svg, x, y);
    }
    for v in 0..n {
        let (Some(x), Some(y)) = (x_of(v), y_of(v)) else {
            continue;
        };
        let (cx, cy) = (px(x), py(y.mean));
        let picked = s.picked == Some(v);
        let name = escape(&s.labels[v]);
        let _ = write!(
            svg,
            r#"<g class="point{}" data-point="{name}" data-index="{v}" data-x="{x}" data-y="{}" role="button" tabindex="0" aria-pressed="{picked}" aria-label="{name}: {} {}, {} {}"><line class="spread" x1="{cx:.1}" x2="{cx:.1}" y1="{:.1}" y2="{:.1}"/><circle cx="{cx:.1}" cy="{cy:.1}" r="7"/><text x="{:.1}" y="{:.1}">{}</text></g>"#,
            if picked { " picked" } else { "" },
            y.mean,
            FIGURE_NAMES[s.y],
            label(y.mean),
            escape(&x_name),
            label(x),
            py(y.mean - y.sd),
            py(y.mean + y.sd),
            cx + 10.0,
            cy - 8.0,
            escape(&short(s, v))
        );
    }
    svg.push_str("</svg>");
    let pick = |d: &Dispatch| {
        let d = d.clone();
        move |target: Option<web_sys::EventTarget>| {
            use wasm_bindgen::JsCast;
            let index = target
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|el| el.closest("[data-index]").ok().flatten())
                .and_then(|el| el.get_attribute("data-index"))
                .and_then(|i| i.parse::<u32>().ok());
            if let Some(variant) = index {
                d.emit(Action::SweepPick {
                    variant: Some(variant),
                });
            }
        }
    };
    let onclick = {
        let pick = pick(d);
        Callback::from(move |e: MouseEvent| pick(e.target()))
    };
    let onkeydown = {
        let pick = pick(d);
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" || e.key() == " " {
                e.prevent_default();
                pick(e.target());
            }
        })
    };
    html! {
        <figure class="sweep-chart" {onclick} {onkeydown}>
            { Html::from_html_unchecked(AttrValue::from(svg)) }
            <figcaption class="hint">
                { "Each point is a variant's mean over its seeds; its bar spans one standard deviation. Click a point to open its run or compare with it." }
                if theory.len() > 1 {
                    { theory_note(FIGURES[s.y]) }
                }
            </figcaption>
        </figure>
    }
}

/// Text made safe inside markup (a variant's values are the user's).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What the dashed line of theory is.
fn theory_note(figure: &str) -> &'static str {
    match figure {
        "cache.hit_ratio" => {
            " Diamonds on the dashed line: Che's approximation of the hit ratio for each design, from the rates of reads and writes measured (steady state: short runs also count the cache's cold start)."
        }
        "app.wait_ms" => {
            " Diamonds on the dashed line: Erlang C's mean wait for a worker, each server a queue fed at random (Poisson) at the rate and hold times measured, corrected for how much those times vary (Allen and Cunneen; Pollaczek–Khinchine for one worker)."
        }
        _ => {
            " Diamonds on the dashed line: theory's share of users moved when a server joins N: 1/(N+1) for a hash ring or rendezvous hashing, N/(N+1) for a hash modulo N."
        }
    }
}

/// What the picked point offers.
fn picked(s: &Sweep, d: &Dispatch) -> Html {
    let Some(v) = s.picked else {
        return Html::default();
    };
    let fig = |f: usize| s.spread(v, f).map_or("–".into(), |sp| show(f, sp.mean));
    html! {
        <div class="sweep-picked" data-testid="sweep-picked" data-variant={v.to_string()}>
            <strong>{ s.labels[v].clone() }</strong>
            { format!(": availability {}, p99 {} ms, lost writes {} (mean of {} runs)", fig(0), fig(2), fig(10), s.runs[v].len()) }
            <button type="button" data-testid="sweep-open" onclick={on_click(d, Action::SweepOpen { variant: v as u32 })}>{ "Open its run (seed 1)" }</button>
            <button type="button" data-testid="sweep-compare" onclick={on_click(d, Action::SweepCompare { variant: v as u32 })}>{ "Compare with it" }</button>
        </div>
    }
}

/// The table: a row per variant with the figures that tell most (written
/// as markup, like the chart).
fn table(s: &Sweep) -> Html {
    let mut cols: Vec<usize> = vec![s.y];
    cols.extend(s.x);
    for f in [0, 2, 3, 10, 7] {
        if !cols.contains(&f) {
            cols.push(f);
        }
    }
    let theory = s.has_theory(s.y);
    let mut t = String::from(
        r#"<table class="sweep-table" data-testid="sweep-table"><thead><tr><th scope="col">Variant</th><th scope="col">Runs</th>"#,
    );
    for &f in &cols {
        let _ = write!(t, r#"<th scope="col">{}</th>"#, FIGURE_NAMES[f]);
    }
    if theory {
        let _ = write!(t, r#"<th scope="col">{}, theory</th>"#, FIGURE_NAMES[s.y]);
    }
    t.push_str("</tr></thead><tbody>");
    for (v, label) in s.labels.iter().enumerate() {
        let name = escape(label);
        let _ = write!(
            t,
            r#"<tr data-variant="{name}"><th scope="row">{name}</th><td>{}</td>"#,
            s.runs[v].len()
        );
        for &f in &cols {
            let cell = s.spread(v, f).map_or("–".into(), |sp| {
                if sp.sd > 0.0 {
                    format!("{} ± {}", show(f, sp.mean), show(f, sp.sd))
                } else {
                    show(f, sp.mean)
                }
            });
            let _ = write!(t, "<td>{cell}</td>");
        }
        if theory {
            let _ = write!(
                t,
                "<td>{}</td>",
                s.theory(v, s.y).map_or("–".into(), |c| show(s.y, c))
            );
        }
        t.push_str("</tr>");
    }
    t.push_str("</tbody></table>");
    Html::from_html_unchecked(AttrValue::from(t))
}
