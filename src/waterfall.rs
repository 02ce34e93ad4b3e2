//! A request's hop-by-hop waterfall: where it went, what happened at each hop, and for how long.
//!
//! The header says what was asked and how it ended in plain words; the table
//! has one row per hop with the node, what it did, when it started and how
//! long it took, and a bar placed within the request's whole span. Failed,
//! refused, unanswered and stale hops carry a text marker as well as a colour.

use std::rc::Rc;

use pathlab_sim::{Hop, HopNote, Outcome, SimTime, Trace, Version};
use yew::prelude::*;

/// Properties of [`Waterfall`].
#[derive(Properties, PartialEq, Clone, Debug)]
pub struct WaterfallProps {
    /// The finished request to show (from `Simulation::traces` or `Simulation::trace`).
    pub trace: Rc<Trace>,
    /// Node names, indexed by `NodeId.0`.
    pub names: Rc<Vec<String>>,
    /// Called when the user asks to close the details (close button or Escape).
    pub on_close: Callback<()>,
    /// For a write that was acknowledged and later lost: the story of its
    /// loss (when, and what discarded it), shown instead of "acknowledged".
    #[prop_or_default]
    pub lost: Option<AttrValue>,
}

/// The hop-by-hop waterfall of one request, with a header that says how it ended.
#[component]
pub fn Waterfall(props: &WaterfallProps) -> Html {
    let trace = &*props.trace;
    let names = &*props.names;
    let span_us = trace.end.since(trace.start).max(1);
    let on_click = {
        let on_close = props.on_close.clone();
        Callback::from(move |_: MouseEvent| on_close.emit(()))
    };
    let on_key = {
        let on_close = props.on_close.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                e.prevent_default();
                on_close.emit(());
            }
        })
    };
    let (outcome_class, outcome_mark, outcome_text) = match &props.lost {
        Some(story) => ("lost", Some("✕"), story.to_string()),
        None => outcome_words(trace),
    };
    let stale_hop = if trace.outcome == Outcome::Stale {
        trace
            .hops
            .iter()
            .rposition(|h| matches!(h.note, HopNote::DbRead | HopNote::CacheHit))
    } else {
        None
    };
    let label = format!(
        "Request {} details: {} {}",
        trace.id.0,
        trace.kind.label(),
        outcome_class
    );
    let total = fmt_us(span_us);

    html! {
        <section class="waterfall" data-testid="waterfall" aria-label={label} onkeydown={on_key}>
            <header class="wf-head">
                <h2 class="wf-title">{ format!("Request #{}", trace.id.0) }</h2>
                <button type="button" class="wf-close" aria-label="Close request details"
                    data-testid="waterfall-close" onclick={on_click}>
                    <span aria-hidden="true">{ "✕ " }</span>{ "Close" }
                </button>
            </header>
            <p class={classes!("wf-outcome", format!("wf-outcome-{outcome_class}"))}
                data-testid="waterfall-outcome">
                if let Some(mark) = outcome_mark {
                    <span class="wf-mark" aria-hidden="true">{ mark }</span>
                }
                { outcome_text }
            </p>
            <dl class="wf-facts">
                <div><dt>{ "Kind" }</dt><dd>{ trace.kind.label() }</dd></div>
                <div>
                    <dt>{ if trace.kind == pathlab_sim::RequestKind::Static { "Asset" } else { "Key" } }</dt>
                    <dd>{ trace.key }</dd>
                </div>
                <div><dt>{ "Session" }</dt><dd>{ trace.session }</dd></div>
                <div><dt>{ "From" }</dt><dd>{ node_name(names, trace.client.idx()) }</dd></div>
                <div><dt>{ "Sent at" }</dt><dd>{ format!("{:.3} s", trace.start.as_secs_f64()) }</dd></div>
                <div><dt>{ "Total" }</dt><dd data-testid="waterfall-total">{ total.clone() }</dd></div>
            </dl>
            <div class="wf-scroll">
                <table class="wf-table">
                    <caption class="wf-caption">
                        { format!("{} hops, in order of arrival; bars span 0 to {total}.", trace.hops.len()) }
                    </caption>
                    <thead>
                        <tr>
                            <th scope="col">{ "Node" }</th>
                            <th scope="col">{ "What happened" }</th>
                            <th scope="col" class="wf-num">{ "Start" }</th>
                            <th scope="col" class="wf-num">{ "Duration" }</th>
                            <th scope="col" class="wf-timeline-head">
                                <div class="wf-axis">
                                    <span>{ "0 ms" }</span>
                                    <span class="wf-visually-hidden">{ " to " }</span>
                                    <span>{ total }</span>
                                </div>
                            </th>
                        </tr>
                    </thead>
                    <tbody>
                        { for trace.hops.iter().enumerate().map(|(i, hop)| {
                            hop_row(trace, names, span_us, hop, stale_hop == Some(i))
                        }) }
                    </tbody>
                </table>
            </div>
        </section>
    }
}

/// The request's outcome as (class suffix, marker, sentence).
fn outcome_words(trace: &Trace) -> (&'static str, Option<&'static str>, String) {
    match trace.outcome {
        Outcome::Ok => {
            let text = match (trace.kind, trace.version) {
                (pathlab_sim::RequestKind::Write, Some(v)) => {
                    format!("Write acknowledged: it stored version {v}.")
                }
                (pathlab_sim::RequestKind::Read, Some(v)) => {
                    format!("Answered correctly with version {v}.")
                }
                _ => "Answered correctly.".to_owned(),
            };
            ("ok", Some("✓"), text)
        }
        Outcome::Stale => (
            "stale",
            Some("⚠"),
            format!(
                "Stale read: it returned version {} while version {} had already been \
                 acknowledged to a user.",
                version_or(trace.version, "an unknown version"),
                version_or(trace.expected, "a newer version"),
            ),
        ),
        Outcome::Failed(e) => ("failed", Some("✕"), format!("Failed: {}.", e.explain())),
    }
}

fn version_or(v: Option<Version>, missing: &str) -> String {
    v.map_or_else(|| missing.to_owned(), |v| v.to_string())
}

/// What a hop did, in plain words.
fn note_words(note: HopNote) -> &'static str {
    match note {
        HopNote::Browser => "the user's browser, from sending to the answer",
        HopNote::DnsCached => "resolver answered from its cache",
        HopNote::DnsLookup => "resolver asked the authoritative server",
        HopNote::DnsAnswer => "authoritative server answered",
        HopNote::CdnHit => "CDN edge had it",
        HopNote::CdnMiss => "CDN edge fetched it from the origin",
        HopNote::Balanced => "load balancer passed it to an app server",
        HopNote::Served => "app server handled it",
        HopNote::Queued => "waited in the app server's queue",
        HopNote::CacheHit => "cache had it",
        HopNote::CacheMiss => "cache did not have it",
        HopNote::CacheWrite => "cache took the write, to pass on to the database later",
        HopNote::Enqueued => "queue took the order's follow-up job (payment, inventory, email)",
        HopNote::DbRead => "database read",
        HopNote::DbWrite => "database write, accepted by the leader",
        HopNote::NotLeader => "refused: not the leader",
        HopNote::Behind => "refused: has not applied this user's last write yet",
        HopNote::Failed(e) => e.explain(),
        HopNote::NoAnswer => "no answer in time",
    }
}

/// A node's name, or its number when the names do not cover it.
fn node_name(names: &[String], idx: usize) -> String {
    names
        .get(idx)
        .cloned()
        .unwrap_or_else(|| format!("node {idx}"))
}

/// Microseconds as milliseconds for people: "0.42 ms", "12.3 ms", "4000 ms".
fn fmt_us(us: u64) -> String {
    let ms = us as f64 / 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// One hop's row.
fn hop_row(trace: &Trace, names: &[String], span_us: u64, hop: &Hop, stale: bool) -> Html {
    let open = hop.end == SimTime::NEVER;
    // An open hop is drawn to the end of the request.
    let end = if open {
        trace.end.max(hop.start)
    } else {
        hop.end
    };
    let offset_us = hop.start.since(trace.start);
    let dur_us = end.since(hop.start);
    let left = (offset_us as f64 / span_us as f64 * 100.0).clamp(0.0, 100.0);
    let width = (dur_us as f64 / span_us as f64 * 100.0).clamp(0.0, 100.0 - left);
    let (state, mark) = if stale {
        ("stale", Some(("⚠", "stale")))
    } else if open || hop.note == HopNote::NoAnswer {
        ("no-answer", Some(("✕", "no answer")))
    } else {
        match hop.note {
            HopNote::Failed(_) => ("failed", Some(("✕", "failed"))),
            // The words already say "refused": the badge shows only the icon.
            HopNote::NotLeader => ("refused", Some(("✕", ""))),
            _ => ("ok", None),
        }
    };
    let what = if open && hop.note != HopNote::NoAnswer {
        format!("{}; no answer", note_words(hop.note))
    } else {
        note_words(hop.note).to_owned()
    };
    let duration = if open {
        format!("≥ {}", fmt_us(dur_us))
    } else {
        fmt_us(dur_us)
    };
    html! {
        <tr class={format!("wf-hop wf-hop-{state}")} data-testid="waterfall-hop">
            <th scope="row" class="wf-node">{ node_name(names, hop.node.idx()) }</th>
            <td class="wf-what">
                if let Some((icon, word)) = mark {
                    <span class="wf-badge">
                        <span aria-hidden="true">{ icon }</span>
                        if !word.is_empty() {
                            { " " }{ word }
                        }
                    </span>{ " " }
                }
                { what }
            </td>
            <td class="wf-num">{ format!("+{}", fmt_us(offset_us)) }</td>
            <td class="wf-num">{ duration }</td>
            <td class="wf-timeline">
                <div class="wf-track">
                    <div class={format!("wf-bar wf-bar-{state}")}
                        style={format!("left:{left:.3}%;width:{width:.3}%")}></div>
                </div>
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_keep_sensible_precision() {
        assert_eq!(fmt_us(420), "0.42 ms");
        assert_eq!(fmt_us(12_345), "12.3 ms");
        assert_eq!(fmt_us(4_000_000), "4000 ms");
    }

    #[test]
    fn every_note_has_words() {
        for e in pathlab_sim::ErrorKind::ALL {
            assert_eq!(note_words(HopNote::Failed(e)), e.explain());
        }
        assert_eq!(note_words(HopNote::CdnHit), "CDN edge had it");
        assert_eq!(note_words(HopNote::NotLeader), "refused: not the leader");
    }
}
