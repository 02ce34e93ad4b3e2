//! "Why?" in a request's details: a button that asks the replay worker, a note while it replays, then the story as a numbered list of facts, each with its simulated time.

use crate::action::Action;
use crate::engine::Engine;
use crate::panels::{Dispatch, on_click};
use pathlab_sim::RequestId;
use yew::prelude::*;

/// The "Why?" part of request `id`'s details.
pub fn view(e: &Engine, d: &Dispatch, id: RequestId) -> Html {
    if let Some(answer) = e.why.as_ref().filter(|a| a.request == id && e.show_why) {
        return html! {
            <section class="why" aria-label="Why it happened">
                <h3>{ answer.title.clone() }</h3>
                if !answer.facts.is_empty() {
                    <ol data-testid="why">
                        { for answer.facts.iter().map(|f| html! {
                            <li data-t-ms={format!("{:.3}", f.at.0 as f64 / 1000.0)}>
                                { crate::panels::time_link(d, f.at, None, None) }
                                { f.text.clone() }
                                if let Some(r) = f.request {
                                    { " " }
                                    <button type="button" class="link" data-request={r.0.to_string()}
                                            onclick={on_click(d, Action::OpenRequest { id: Some(r.0) })}>
                                        { format!("open #{}", r.0) }
                                    </button>
                                }
                            </li>
                        }) }
                    </ol>
                }
            </section>
        };
    }
    if e.asking == Some(id) && e.show_why {
        return html! {
            <p class="why why-wait" role="status" data-testid="why-wait">
                { format!("Replaying the run to find out why… {:.0} %", e.replayed * 100.0) }
            </p>
        };
    }
    html! {
        <p class="why">
            <button type="button" data-testid="why-button" data-action="why"
                    onclick={on_click(d, Action::Why { id: id.0 })}>{ "Why?" }</button>
            <span class="hint">{ " the story of this request, told by replaying the run" }</span>
        </p>
    }
}
