//! Browser tests of the charts and the request waterfall, fed with real simulator output.
#![cfg(target_arch = "wasm32")]

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use pathlab::charts::{Charts, ChartsProps};
use pathlab::waterfall::{Waterfall, WaterfallProps};
use pathlab_sim::{NodeKind, Outcome, Simulation, Trace, presets};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlElement};
use yew::Callback;

wasm_bindgen_test_configure!(run_in_browser);

/// A fresh `<div>` appended to the body, to mount one component into.
fn fresh_root() -> Element {
    let document = gloo::utils::document();
    let root = document
        .create_element("div")
        .expect("create a root element");
    document
        .body()
        .expect("the test page has a body")
        .append_child(&root)
        .expect("append the root element");
    root
}

/// Lets Yew's scheduler run: a zero-length timer fires only after its queued renders.
async fn settle() {
    yew::platform::time::sleep(Duration::ZERO).await;
}

/// Runs a preset for `secs` simulated seconds with a fixed seed.
fn run(preset: &str, secs: f64) -> Simulation {
    let scenario = presets::preset(preset).expect("a known preset");
    let mut sim = Simulation::new(&scenario, 7).expect("a valid scenario");
    sim.run_for(secs);
    sim
}

/// Node names indexed by `NodeId.0`.
fn names(sim: &Simulation) -> Rc<Vec<String>> {
    Rc::new(sim.nodes().map(|(_, name, _)| name.to_owned()).collect())
}

/// Database replica names, in replica order.
fn replicas(sim: &Simulation) -> Rc<Vec<String>> {
    Rc::new(
        sim.nodes()
            .filter(|(_, _, kind)| *kind == NodeKind::Db)
            .map(|(_, name, _)| name.to_owned())
            .collect(),
    )
}

fn all(root: &Element, selector: &str) -> Vec<Element> {
    let list = root.query_selector_all(selector).expect("a valid selector");
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|node| node.dyn_into::<Element>().ok())
        .collect()
}

fn one(root: &Element, selector: &str) -> Element {
    root.query_selector(selector)
        .expect("a valid selector")
        .unwrap_or_else(|| panic!("nothing matches {selector}"))
}

fn text(el: &Element) -> String {
    el.text_content().unwrap_or_default()
}

/// Mounts a waterfall for `trace`; returns its root and a flag set when it asks to close.
async fn mount_waterfall(trace: &Trace, names: Rc<Vec<String>>) -> (Element, Rc<Cell<bool>>) {
    let root = fresh_root();
    let closed = Rc::new(Cell::new(false));
    let on_close = {
        let closed = closed.clone();
        Callback::from(move |()| closed.set(true))
    };
    let props = WaterfallProps {
        trace: Rc::new(trace.clone()),
        names,
        on_close,
        lost: None,
    };
    yew::Renderer::<Waterfall>::with_root_and_props(root.clone(), props).render();
    settle().await;
    (root, closed)
}

#[wasm_bindgen_test]
async fn charts_draw_five_figures_from_a_real_run() {
    let sim = run("leader-crash", 30.0);
    let series = Rc::new(sim.metrics().series.clone());
    let last = series.last().expect("30 s of data").clone();
    let replicas = replicas(&sim);
    assert!(!replicas.is_empty());

    let root = fresh_root();
    let props = ChartsProps {
        series: series.clone(),
        replicas: replicas.clone(),
        window_s: 60,
        playing: false,
        cursor_s: None,
    };
    yew::Renderer::<Charts>::with_root_and_props(root.clone(), props).render();
    settle().await;

    let section = one(&root, "section.charts[data-testid='charts']");
    let figures = all(&section, "figure.chart");
    assert_eq!(figures.len(), 5, "throughput, errors, latency, stale, lag");
    for figure in &figures {
        let svg = one(figure, "svg[role='img']");
        let label = svg.get_attribute("aria-label").unwrap_or_default();
        assert!(label.len() > 20, "an accessible summary: {label:?}");
        assert_eq!(text(&one(&svg, "title")), label);
        let lines = all(figure, "polyline");
        assert!(!lines.is_empty(), "{label}: no lines");
        for line in lines {
            let points = line.get_attribute("points").unwrap_or_default();
            assert!(points.split(' ').count() >= 2, "{label}: {points:?}");
        }
        assert!(!text(&one(figure, ".chart-ymax")).trim().is_empty());
        let x_axis = text(&one(figure, ".chart-xaxis"));
        assert!(
            x_axis.starts_with("−60 s") && x_axis.ends_with("now"),
            "{x_axis}"
        );
    }

    // The throughput label is the last second's request count.
    let value = text(&one(&root, "[data-testid='chart-throughput'] .chart-value"));
    let number: u64 = value
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a number in {value:?}"));
    assert_eq!(number, last.requests);
    assert!(number > 0);
    // 30 points fill the right half of a 60 s window: one point per second.
    let throughput_points = one(&root, "[data-testid='chart-throughput'] polyline")
        .get_attribute("points")
        .unwrap_or_default();
    assert_eq!(throughput_points.split(' ').count(), series.len());

    // Latency has two lines, told apart by dash pattern as well as colour.
    let latency = one(&root, "[data-testid='chart-latency']");
    let styles: Vec<(String, String)> = all(&latency, "polyline")
        .iter()
        .map(|l| {
            (
                l.get_attribute("stroke").unwrap_or_default(),
                l.get_attribute("stroke-dasharray").unwrap_or_default(),
            )
        })
        .collect();
    assert!(styles.iter().any(|s| s != &styles[0]), "{styles:?}");
    assert!(styles.iter().any(|(_, dash)| dash != "none"), "{styles:?}");
    let legend = text(&one(&latency, ".chart-legend"));
    assert!(legend.contains("p50") && legend.contains("p99"), "{legend}");

    // Replication lag: a legend entry per replica, by name.
    let lag_legend = all(&root, "[data-testid='chart-lag'] .chart-legend li");
    assert_eq!(lag_legend.len(), replicas.len());
    for (entry, name) in lag_legend.iter().zip(replicas.iter()) {
        assert!(text(entry).contains(name.as_str()), "{}", text(entry));
    }
}

#[wasm_bindgen_test]
async fn charts_of_a_past_moment_draw_its_line_and_give_its_figures() {
    let sim = run("default", 30.0);
    let series = Rc::new(sim.metrics().series.clone());
    let at = series
        .iter()
        .find(|p| p.t_s == 12)
        .expect("second 12")
        .clone();
    let root = fresh_root();
    let props = ChartsProps {
        series: series.clone(),
        replicas: replicas(&sim),
        window_s: 60,
        playing: false,
        cursor_s: Some(12),
    };
    yew::Renderer::<Charts>::with_root_and_props(root.clone(), props).render();
    settle().await;
    let section = one(&root, "section.charts");
    let label = section.get_attribute("aria-label").unwrap_or_default();
    assert!(label.contains("around 12 s"), "{label}");
    for figure in all(&section, "figure.chart") {
        assert_eq!(
            all(&figure, "line.chart-cursor").len(),
            1,
            "a cursor line in each chart"
        );
    }
    let x_axis = text(&one(&root, "[data-testid='chart-throughput'] .chart-xaxis"));
    assert!(
        x_axis.ends_with("30 s") && !x_axis.contains("now"),
        "{x_axis}"
    );
    // The heading gives the cursor's second, not the newest.
    let value = text(&one(&root, "[data-testid='chart-throughput'] .chart-value"));
    assert!(
        value.starts_with(&format!("{} ", at.requests)),
        "{value} at second 12: {}",
        at.requests
    );
}

#[wasm_bindgen_test]
async fn charts_wait_calmly_for_data() {
    let root = fresh_root();
    let props = ChartsProps {
        series: Rc::new(Vec::new()),
        replicas: Rc::new(Vec::new()),
        window_s: 60,
        playing: false,
        cursor_s: None,
    };
    yew::Renderer::<Charts>::with_root_and_props(root.clone(), props).render();
    settle().await;
    let section = one(&root, "[data-testid='charts']");
    let message = text(&one(&section, "[role='status']"));
    assert!(message.contains("Press Play"), "{message}");
    assert!(all(&section, "figure").is_empty());
}

#[wasm_bindgen_test]
async fn waterfall_of_a_failed_request_explains_it_hop_by_hop() {
    // Only the most recent traces are kept: look second by second from the
    // crash at 20 s for a failed request that went deep into the path.
    let mut sim = run("leader-crash", 20.0);
    let mut failed = None;
    for _ in 0..20 {
        sim.run_for(1.0);
        failed = sim
            .traces()
            .filter(|t| matches!(t.outcome, Outcome::Failed(_)))
            .max_by_key(|t| t.hops.len())
            .cloned();
        if failed.as_ref().is_some_and(|t| t.hops.len() >= 4) {
            break;
        }
    }
    let trace = failed.expect("the leader crash at 20 s fails some requests");
    let names = names(&sim);
    let Outcome::Failed(error) = trace.outcome else {
        unreachable!()
    };
    let (root, closed) = mount_waterfall(&trace, names.clone()).await;

    let section = one(&root, "section.waterfall[data-testid='waterfall']");
    assert!(
        section
            .get_attribute("aria-label")
            .unwrap_or_default()
            .contains(&trace.id.0.to_string())
    );
    let outcome = text(&one(&section, "[data-testid='waterfall-outcome']"));
    assert!(outcome.contains(error.explain()), "{outcome}");
    let head = text(&section);
    assert!(head.contains(&format!("Request #{}", trace.id.0)), "{head}");
    assert!(head.contains(trace.kind.label()));

    let rows = all(&section, "[data-testid='waterfall-hop']");
    assert_eq!(rows.len(), trace.hops.len());
    for (row, hop) in rows.iter().zip(&trace.hops) {
        assert_eq!(text(&one(row, "th")), names[hop.node.idx()]);
        let bar = one(row, ".wf-bar");
        let style = bar.get_attribute("style").unwrap_or_default();
        assert!(
            style.contains("left:") && style.contains("width:"),
            "{style}"
        );
    }
    // The browser's own hop carries the failure, marked in words too.
    assert!(
        rows.iter()
            .any(|r| text(r).contains("failed") && text(r).contains(error.explain())),
        "no hop is marked failed"
    );

    let close: HtmlElement = one(&section, "button[aria-label='Close request details']")
        .dyn_into()
        .expect("the close button is an HTML element");
    assert!(!closed.get());
    close.click();
    settle().await;
    assert!(closed.get(), "the close button calls on_close");
}

#[wasm_bindgen_test]
async fn waterfall_of_a_stale_read_names_both_versions() {
    let sim = run("async-follower-reads", 30.0);
    let trace = sim
        .traces()
        .find(|t| t.outcome == Outcome::Stale)
        .expect("async follower reads return some stale data")
        .clone();
    let got = trace.version.expect("a stale read returned a version");
    let expected = trace.expected.expect("a stale read knows what it missed");
    assert_ne!(got, expected);
    let (root, _) = mount_waterfall(&trace, names(&sim)).await;

    let outcome = text(&one(&root, "[data-testid='waterfall-outcome']"));
    assert!(outcome.contains(&format!("version {got}")), "{outcome}");
    assert!(
        outcome.contains(&format!("version {expected}")),
        "{outcome}"
    );
    let stale_rows: Vec<Element> = all(&root, "[data-testid='waterfall-hop']")
        .into_iter()
        .filter(|r| text(r).contains("stale"))
        .collect();
    assert_eq!(
        stale_rows.len(),
        1,
        "the hop that served old data is marked"
    );
    assert!(text(&stale_rows[0]).contains("database read"));
}
