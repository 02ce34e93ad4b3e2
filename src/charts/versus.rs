//! The charts of a compare: runs A and B overlaid on one plot per figure (answered requests, error rate, p99 latency, lost writes), A as a solid blue line and B as a dashed vermillion one.

use super::*;

/// Properties of [`VersusCharts`].
#[derive(Properties, PartialEq, Clone, Debug)]
pub struct VersusProps {
    /// Run A's points, oldest first.
    pub a: Rc<Vec<Point>>,
    /// Run B's points, oldest first (the same seconds, in lock-step).
    pub b: Rc<Vec<Point>>,
    /// What A and B are, for the legends.
    pub name_a: AttrValue,
    pub name_b: AttrValue,
}

/// One plot per figure, A and B on the same axes over the last minute.
#[component]
pub fn VersusCharts(props: &VersusProps) -> Html {
    let Some(wa) = Window::new(&props.a, 60, None) else {
        return html! {
            <section class="charts" data-testid="versus-charts" aria-label="Runs A and B over the last minute">
                <p class="charts-empty" role="status">{ "The charts of A and B fill in after the first simulated second." }</p>
            </section>
        };
    };
    let wb = wa.aligned(&props.b);
    let names = (props.name_a.as_str(), props.name_b.as_str());
    let answered = |p: &Point| Some((p.ok + p.stale) as f64);
    let error_pct =
        |p: &Point| (p.requests > 0).then(|| p.errors as f64 * 100.0 / p.requests as f64);
    let p99 = |p: &Point| (p.requests > 0).then_some(p.p99_ms);
    let lost = |p: &Point| Some(p.lost_writes as f64);
    let linear = |f: &dyn Fn(&Point) -> Option<f64>, floor: f64| {
        let peak = wa
            .max(f)
            .unwrap_or(0.0)
            .max(wb.as_ref().and_then(|w| w.max(f)).unwrap_or(0.0));
        nice_ceil(peak.max(floor))
    };
    let max_answered = linear(&answered, 1.0);
    let max_errors = linear(&error_pct, 1.0).min(100.0);
    let max_lost = linear(&lost, 1.0);
    let p99_peak = wa
        .max(p99)
        .unwrap_or(0.0)
        .max(wb.as_ref().and_then(|w| w.max(p99)).unwrap_or(0.0));
    let lo = 1.0;
    let hi = nice_ceil(p99_peak).max(lo * 100.0);
    let mut log_ticks = vec![(1.0, fmt_ms(hi))];
    let log = Scale::Log { lo, hi };
    let mut decade = hi;
    while decade > lo * 1.000_001 {
        decade = decade_at_or_below(decade / 1.000_001);
        if log.frac(decade) < 0.88 {
            log_ticks.push((log.frac(decade), fmt_ms(decade)));
        }
    }
    let ms = |v: Option<f64>| v.map_or("–".to_string(), fmt_ms);
    let pct = |v: Option<f64>| v.map_or("–".to_string(), fmt_pct);
    let num = |v: Option<f64>| v.map_or("–".to_string(), fmt_num);
    html! {
        <section class="charts versus-charts" data-testid="versus-charts" aria-label="Runs A and B over the last minute">
            { chart(pair("versus-answered", "Answered per second", names, &wa, wb.as_ref(), Scale::Linear { max: max_answered },
                         linear_ticks(max_answered, fmt_num), &answered, &num), None) }
            { chart(pair("versus-errors", "Error rate", names, &wa, wb.as_ref(), Scale::Linear { max: max_errors },
                         linear_ticks(max_errors, fmt_pct), &error_pct, &pct), None) }
            { chart(pair("versus-p99", "p99 latency (log scale)", names, &wa, wb.as_ref(), log,
                         log_ticks, &p99, &ms), None) }
            { chart(pair("versus-lost", "Lost writes per second", names, &wa, wb.as_ref(), Scale::Linear { max: max_lost },
                         linear_ticks(max_lost, fmt_num), &lost, &num), None) }
        </section>
    }
}

/// A chart of one figure with a line for A and one for B.
#[allow(clippy::too_many_arguments)]
fn pair(
    id: &'static str,
    title: &'static str,
    (name_a, name_b): (&str, &str),
    wa: &Window,
    wb: Option<&Window>,
    scale: Scale,
    ticks: Vec<(f64, String)>,
    f: &dyn Fn(&Point) -> Option<f64>,
    show: &dyn Fn(Option<f64>) -> String,
) -> Chart {
    let now_a = show(f(wa.last));
    let now_b = show(wb.and_then(|w| f(w.last)));
    Chart {
        id,
        title,
        value: format!("A {now_a} · B {now_b}"),
        summary: format!(
            "{title} over the last {} s: A ({name_a}) {now_a}, B ({name_b}) {now_b} in the last second.",
            wa.span
        ),
        ticks,
        lines: vec![
            Line {
                name: format!("A: {name_a}"),
                now: now_a,
                color: BLUE,
                dash: DASHES[0],
                segments: segments(wa, scale, f),
            },
            Line {
                name: format!("B: {name_b}"),
                now: now_b,
                color: VERMILLION,
                dash: DASHES[1],
                segments: wb.map(|w| segments(w, scale, f)).unwrap_or_default(),
            },
        ],
        x_labels: wa.x_labels(),
        note: None,
    }
}
