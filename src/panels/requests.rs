//! The requests panel: the latest failed or stale requests and the latest answered ones, each opening its hop-by-hop details.

use super::{Dispatch, on_click};
use crate::action::Action;
use crate::engine::Engine;
use yew::prelude::*;

/// Recent notable and recent ordinary requests.
pub fn view(e: &Engine, d: &Dispatch) -> Html {
    use pathlab_sim::Outcome;
    let notable: Vec<_> = e
        .sim
        .traces()
        .rev()
        .filter(|t| t.outcome != Outcome::Ok)
        .take(6)
        .collect();
    let latest: Vec<_> = e
        .sim
        .traces()
        .rev()
        .filter(|t| t.outcome == Outcome::Ok)
        .take(6)
        .collect();
    let row = |t: &pathlab_sim::Trace| {
        let id = t.id;
        let what = match t.outcome {
            Outcome::Ok => "ok".to_string(),
            Outcome::Stale => "stale".to_string(),
            Outcome::Failed(err) => err.label().to_string(),
        };
        html! {
            <li>
                { super::time_link(d, t.end, Some(id.0), None) }
                <button type="button" class={classes!("link", format!("outcome-{}", what.split('-').next().unwrap_or("ok")))} data-request={id.0.to_string()}
                        onclick={on_click(d, Action::OpenRequest { id: Some(id.0) })}>
                    { format!("#{} {} {} — {} ({:.0} ms)", id.0, t.kind.label(), e.names.get(t.client.0 as usize).map(String::as_str).unwrap_or("?"), what, t.end.since(t.start) as f64 / 1000.0) }
                </button>
            </li>
        }
    };
    html! {
        <section class="panel requests" aria-label="Requests" data-testid="requests">
            <h2>{ "Requests" }</h2>
            <h3>{ "Failed or stale" }</h3>
            if notable.is_empty() { <p class="hint">{ "None yet." }</p> }
            <ul>{ for notable.iter().map(|t| row(t)) }</ul>
            <h3>{ "Latest" }</h3>
            <ul>{ for latest.iter().map(|t| row(t)) }</ul>
        </section>
    }
}
