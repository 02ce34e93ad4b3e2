//! Comparing two designs: the "Compare with…" chooser (a one-setting change, any field by its path, or another preset), and the delta table between runs A and B with which one did better on each row and the trade-off in one line.

use super::{Dispatch, input_value, on_click, select_value};
use crate::action::Action;
use crate::engine::Engine;
use crate::link::Against;
use pathlab_sim::compare::ROWS;
use pathlab_sim::presets;
use pathlab_sim::scenario::{LbStrategy, Replication};
use pathlab_sim::store::Eviction;
use yew::prelude::*;

/// A one-setting change the chooser offers: its words, what it sets, and
/// the question it answers.
struct Offer {
    title: String,
    set: String,
    why: &'static str,
}

/// The changes worth comparing from this design (those it does not
/// already have).
fn offers(e: &Engine) -> Vec<Offer> {
    let s = &e.scenario;
    let mut out = Vec::new();
    let mut offer = |on: bool, title: String, set: String, why: &'static str| {
        if on {
            out.push(Offer { title, set, why });
        }
    };
    let r = s.db.replication;
    offer(
        r != Replication::Sync,
        "Synchronous replication".into(),
        "db.replication=sync".into(),
        "Does waiting for every follower stop lost writes, and what does it cost?",
    );
    offer(
        r != Replication::SemiSync,
        "Semi-synchronous replication".into(),
        "db.replication=semi-sync".into(),
        "Is one follower's acknowledgement enough?",
    );
    offer(
        r != Replication::Async,
        "Asynchronous replication".into(),
        "db.replication=async".into(),
        "How much faster are writes, and what is lost in a failover?",
    );
    offer(
        r != Replication::Quorum,
        "Quorum replication".into(),
        "db.replication=quorum".into(),
        "Do overlapping read and write quorums keep reads fresh?",
    );
    offer(
        s.lb.strategy != LbStrategy::LeastConnections,
        "Least-connections balancing".into(),
        "lb.strategy=least-connections".into(),
        "Does sending work to the least busy server cut the tail?",
    );
    offer(
        s.lb.strategy != LbStrategy::RoundRobin,
        "Round-robin balancing".into(),
        "lb.strategy=round-robin".into(),
        "Does taking turns do as well?",
    );
    offer(
        s.cache.enabled && s.cache.eviction != Eviction::Lfu,
        "LFU cache eviction".into(),
        "cache.eviction=lfu".into(),
        "Does keeping the most used keys raise the hit ratio?",
    );
    offer(
        s.cache.enabled && s.cache.eviction != Eviction::Lru,
        "LRU cache eviction".into(),
        "cache.eviction=lru".into(),
        "Does keeping the most recent keys do better?",
    );
    offer(
        s.cache.enabled,
        "No cache".into(),
        "cache.enabled=false".into(),
        "What is the cache worth to latency and the database?",
    );
    offer(
        s.db.fencing,
        "No fencing".into(),
        "db.fencing=false".into(),
        "Can an old leader still take writes after a partition?",
    );
    offer(
        !s.db.fencing,
        "Fencing on".into(),
        "db.fencing=true".into(),
        "Do fencing tokens stop the split brain's lost writes?",
    );
    let n = s.app.servers;
    offer(
        true,
        format!("{} app servers instead of {n}", n * 2),
        format!("app.servers={}", n * 2),
        "What does doubling the servers buy under this load?",
    );
    offer(
        n > 1,
        format!(
            "{} app server{} instead of {n}",
            n / 2,
            if n / 2 == 1 { "" } else { "s" }
        ),
        format!("app.servers={}", (n / 2).max(1)),
        "How close to its limit is this tier?",
    );
    out
}

/// The "Compare with…" chooser.
pub fn chooser(e: &Engine, d: &Dispatch) -> Html {
    if !e.compare_dialog {
        return Html::default();
    }
    let custom = {
        let d = d.clone();
        Callback::from(move |ev: SubmitEvent| {
            ev.prevent_default();
            let text = input_value("compare-field");
            let set: Vec<String> = text
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            d.emit(if set.is_empty() {
                Action::Invalid {
                    why: "write a change as FIELD=VALUE, like db.replication=sync".into(),
                }
            } else {
                Action::Compare {
                    with: Some(Against {
                        set,
                        ..Default::default()
                    }),
                }
            });
        })
    };
    let other = {
        let d = d.clone();
        Callback::from(move |ev: SubmitEvent| {
            ev.prevent_default();
            let name = select_value("compare-preset");
            d.emit(Action::Compare {
                with: Some(Against {
                    preset: Some(name),
                    ..Default::default()
                }),
            });
        })
    };
    html! {
        <div class="overlay" role="dialog" aria-modal="true" aria-label="Compare with…">
            <section class="panel compare-chooser" data-testid="compare-chooser">
                <h2>{ "Compare with…" }</h2>
                <p class="hint">{ "Run B meets the same traffic (the same seed) and every fault you apply, in lock-step with this run (A). Choose what B does differently:" }</p>
                <ul class="offers">
                    { for offers(e).into_iter().map(|o| html! {
                        <li>
                            <button type="button" data-action="compare" data-set={o.set.clone()}
                                    onclick={on_click(d, Action::Compare { with: Some(Against { set: vec![o.set.clone()], ..Default::default() }) })}>
                                { o.title }
                            </button>
                            <span class="offer-why">{ o.why }</span>
                        </li>
                    }) }
                </ul>
                <form class="compare-custom" onsubmit={custom}>
                    <label for="compare-field">{ "Any setting, by its path (several: separate with ;)" }</label>
                    <input id="compare-field" data-testid="compare-field" type="text" placeholder="db.heartbeat_ms=50"
                           spellcheck="false" autocomplete="off" />
                    <button type="submit">{ "Compare" }</button>
                </form>
                <form class="compare-custom" onsubmit={other}>
                    <label for="compare-preset">{ "Or another scenario" }</label>
                    <select id="compare-preset" data-testid="compare-preset">
                        { for presets::NAMES.iter().filter(|n| **n != e.preset).map(|n| html! { <option value={*n}>{ *n }</option> }) }
                    </select>
                    <button type="submit">{ "Compare" }</button>
                </form>
                <button type="button" data-testid="compare-cancel" onclick={on_click(d, Action::CompareDialog { open: false })}>{ "Cancel" }</button>
            </section>
        </div>
    }
}

/// A figure of the table in words.
pub fn shown(figure: &str, v: f64) -> String {
    if figure == "availability" {
        format!("{:.2} %", v * 100.0)
    } else if figure.contains("latency") || figure.ends_with("_ms") {
        if v >= 100.0 {
            format!("{v:.0} ms")
        } else {
            format!("{v:.1} ms")
        }
    } else {
        format!("{v:.0}")
    }
}

/// A's name beside B's: its preset, and its design changes counted.
pub fn name_a(e: &Engine) -> String {
    match e.designs.len() {
        0 => e.preset.clone(),
        1 => format!("{} with 1 design change", e.preset),
        n => format!("{} with {n} design changes", e.preset),
    }
}

/// The delta table and the trade-off, between the two diagrams.
pub fn delta(e: &Engine, d: &Dispatch) -> Html {
    let Some(v) = e.versus.as_ref() else {
        return Html::default();
    };
    html! {
        <section class="panel delta-panel" aria-label="What users saw in A and in B">
            <p class="trade-off" data-testid="trade-off" title={v.trade_off.clone()}><strong>{ "Trade-off: " }</strong>{ v.trade_off.clone() }</p>
            <table class="delta" data-testid="delta">
                <thead><tr><th scope="col">{ "What users saw" }</th><th scope="col">{ "A" }</th><th scope="col">{ "B" }</th><th scope="col">{ "Better" }</th></tr></thead>
                <tbody>
                    { for ROWS.iter().zip(&v.rows).map(|(&(figure, name, less), &(a, b))| {
                        let better = if a == b { "same" } else if (a < b) == less { "a" } else { "b" };
                        html! {
                            <tr data-figure={figure} data-better={better} data-a={a.to_string()} data-b={b.to_string()}>
                                <th scope="row">{ name.trim_end_matches(" (ms)") }</th>
                                <td class={classes!((better == "a").then_some("wins"))}>{ shown(figure, a) }</td>
                                <td class={classes!((better == "b").then_some("wins"))}>{ shown(figure, b) }</td>
                                <td class="better">{ match better { "a" => "A", "b" => "B", _ => "=" } }</td>
                            </tr>
                        }
                    }) }
                </tbody>
            </table>
            if v.skipped > 0 {
                <p class="hint">{ format!("{} of A's commands could not be applied to B (they name nodes B does not have).", v.skipped) }</p>
            }
            <div class="delta-actions">
                <button type="button" data-testid="compare-change" onclick={on_click(d, Action::CompareDialog { open: true })}>{ "Compare with something else…" }</button>
                <button type="button" data-testid="compare-end" onclick={on_click(d, Action::Compare { with: None })}>{ "Stop comparing" }</button>
            </div>
        </section>
    }
}
