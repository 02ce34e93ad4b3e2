//! The rarer knobs, as text fields: each is a scenario field; those that change how the world was built start a new run.

use super::{Dispatch, on_change};
use crate::action::{Action, Redesign};
use crate::engine::Engine;
use pathlab_sim::Command;
use yew::prelude::*;

/// Parses a list like "1, 1, 2, 1" (commas or spaces); `None` if any item is
/// not a `T`.
pub fn numbers<T: std::str::FromStr>(text: &str) -> Option<Vec<T>> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().ok())
        .collect()
}

/// Words separated by commas or spaces.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|r| !r.is_empty())
        .map(String::from)
        .collect()
}

fn join<T: ToString>(v: &[T]) -> String {
    v.iter().map(T::to_string).collect::<Vec<_>>().join(", ")
}

/// One text field whose change becomes `make(text)`.
fn field(
    d: &Dispatch,
    label: &'static str,
    testid: &'static str,
    value: String,
    make: impl Fn(String) -> Action + 'static,
) -> Html {
    html! {
        <label class="row">
            <span class="row-label">{ label }</span>
            <input type="text" size="10" {value} aria-label={label} data-testid={testid}
                   onchange={on_change(d, move |t| Some(make(t)))} />
        </label>
    }
}

fn invalid(why: String) -> Action {
    Action::Invalid { why }
}

/// A redesign made of the number in `t`, or a notice.
fn number_field(make: fn(f64) -> Redesign, what: &'static str) -> impl Fn(String) -> Action {
    move |t: String| match t.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Action::Redesign(make(v)),
        _ => invalid(format!("{what} must be a number, not {t:?}")),
    }
}

/// The folded-away settings.
pub fn view(e: &Engine, d: &Dispatch) -> Html {
    let s = &e.scenario;
    let live = e.sim.settings();
    html! {
        <>
            { field(d, "Ring points per server", "virtual-nodes", live.lb.virtual_nodes.to_string(), |t| match t.trim().parse::<u32>() {
                Ok(v) => Action::Command(Command::SetLb { strategy: None, sticky: None, virtual_nodes: Some(v) }),
                Err(_) => invalid(format!("ring points must be a whole number, not {t:?}")),
            }) }
            { field(d, "Cache entry lifetime (s)", "cache-ttl", live.cache.ttl_s.to_string(), |t| match t.trim().parse::<f64>() {
                Ok(v) => Action::Command(Command::SetCache { write_policy: None, eviction: None, ttl_s: Some(v) }),
                Err(_) => invalid(format!("the cache lifetime must be a number of seconds, not {t:?}")),
            }) }
            <p class="hint">{ "These start a new run:" }</p>
            { field(d, "Sites (regions with balancers and app servers)", "sites", s.app.regions.join(", "), |t| Action::Redesign(Redesign::Sites(words(&t)))) }
            { field(d, "DNS answer lifetime (s)", "dns-ttl", s.dns.ttl_s.to_string(), number_field(Redesign::DnsTtl, "the DNS lifetime")) }
            { field(d, "Server weights", "weights", join(&s.app.weights), |t| match numbers::<f64>(&t) {
                Some(w) => Action::Redesign(Redesign::Weights(w)),
                None => invalid(format!("weights are numbers separated by commas, like 1, 1, 2, 1 — not {t:?}")),
            }) }
            { field(d, "Static-asset servers (path balancing)", "path-static", s.lb.path_static_servers.to_string(), |t| match t.trim().parse::<u32>() {
                Ok(n) => Action::Redesign(Redesign::PathStatic(n)),
                Err(_) => invalid(format!("the number of static-asset servers must be a whole number, not {t:?}")),
            }) }
            { field(d, "Shard range bounds", "range-bounds", join(&s.db.range_bounds), |t| match numbers::<u32>(&t) {
                Some(b) => Action::Redesign(Redesign::RangeBounds(b)),
                None => invalid(format!("range bounds are whole numbers separated by commas, like 100, 400 — not {t:?}")),
            }) }
            { field(d, "Replica regions", "placement", s.db.placement.join(", "), |t| Action::Redesign(Redesign::Placement(words(&t)))) }
            { field(d, "Queue wait before a 503 (ms)", "enqueue-timeout", s.queue.enqueue_timeout_ms.to_string(), number_field(Redesign::EnqueueTimeout, "the queue wait")) }
            { field(d, "Write-back flush interval (ms)", "flush-interval", s.cache.flush_interval_ms.to_string(), number_field(Redesign::FlushInterval, "the flush interval")) }
            { field(d, "Queue visibility timeout (ms)", "visibility-timeout", s.queue.visibility_timeout_ms.to_string(), number_field(Redesign::VisibilityTimeout, "the visibility timeout")) }
            { field(d, "Job steps: payment, inventory, email (ms)", "task-ms", join(&s.queue.task_ms), |t| match numbers::<f64>(&t) {
                Some(v) if v.len() == 3 => Action::Redesign(Redesign::TaskMs([v[0], v[1], v[2]])),
                _ => invalid(format!("give three times in milliseconds, like 60, 20, 120 — not {t:?}")),
            }) }
        </>
    }
}
