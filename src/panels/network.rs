//! The network panel: cutting the network in two (pick nodes, then cut), healing it, and taking a whole region down or up.

use super::{Dispatch, on_change, on_click};
use crate::action::{Action, Choice};
use crate::engine::Engine;
use pathlab_sim::Command;
use yew::prelude::*;

/// The region the region buttons act on: the one chosen, or the first.
pub fn chosen_region(e: &Engine) -> String {
    let regions = &e.scenario.network.regions;
    regions
        .iter()
        .find(|r| r.name == e.region_choice)
        .or(regions.first())
        .map(|r| r.name.clone())
        .unwrap_or_default()
}

/// Partition, heal and region controls.
pub fn view(e: &Engine, d: &Dispatch) -> Html {
    let region = chosen_region(e);
    let on_region = on_change(d, |region| Some(Action::Choose(Choice::Region { region })));
    let picked: Vec<&str> = e.picked.iter().map(|&i| e.names[i].as_str()).collect();
    html! {
        <section class="panel" aria-label="Network">
            <h2>{ "Network" }</h2>
            <div class="actions">
                <button type="button" data-testid="partition-pick" aria-pressed={e.picking.to_string()}
                        onclick={on_click(d, Action::Picking { on: !e.picking })}>
                    { if e.picking { "Cancel picking" } else { "Partition…" } }
                </button>
                if e.picking {
                    <button type="button" class="danger" data-testid="partition-cut" disabled={e.picked.is_empty()} onclick={on_click(d, Action::Cut)}>
                        { format!("Cut {} off", e.picked.len()) }
                    </button>
                }
                <button type="button" data-testid="heal" onclick={on_click(d, Action::Command(Command::Heal))}>{ "Heal all" }</button>
            </div>
            if e.picking {
                <p class="hint">{
                    if picked.is_empty() {
                        "Click the nodes to cut off; everything else stays on the other side.".to_string()
                    } else {
                        format!("To cut off from the rest: {}", picked.join(", "))
                    }
                }</p>
            }
            <div class="actions">
                <select aria-label="Region" data-testid="region" onchange={on_region}>
                    { for e.scenario.network.regions.iter().map(|r| html! {
                        <option value={r.name.clone()} selected={r.name == region}>{ &r.name }</option>
                    }) }
                </select>
                <button type="button" data-testid="region-down" onclick={on_click(d, Action::Command(Command::RegionDown { region: region.clone() }))}>{ "Region down" }</button>
                <button type="button" data-testid="region-up" onclick={on_click(d, Action::Command(Command::RegionUp { region: region.clone() }))}>{ "Region up" }</button>
            </div>
        </section>
    }
}
