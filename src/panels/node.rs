//! The selected node's panel: what it is and how it is doing, and the buttons that break it (crash, slow down, isolate, flush) or mend it.

use super::{Dispatch, on_change, on_click};
use crate::action::{Action, Choice};
use crate::diagram;
use crate::engine::{Engine, SLOW_FACTORS};
use pathlab_sim::{Command, NodeKind, NodeState, Snapshot};
use yew::prelude::*;

/// The panel of the selected node, or a hint when none is selected.
pub fn view(e: &Engine, snap: &Snapshot, d: &Dispatch) -> Html {
    let Some(n) = e.selected.and_then(|i| snap.nodes.get(i)) else {
        return html! {
            <section class="panel" aria-label="Node">
                <h2>{ "Break something" }</h2>
                <p class="hint">{ "Click a node in the diagram to see its state and crash, slow or isolate it. Click a moving request to follow it hop by hop." }</p>
            </section>
        };
    };
    let name = n.id.clone();
    let cmd = |c: Command| Action::Command(c);
    let down = n.state == NodeState::Down;
    let mut facts = vec![
        ("Kind", n.kind.label().to_string()),
        ("Region", n.region.clone()),
        ("State", diagram::describe(n)),
    ];
    if let (Some(b), Some(q)) = (n.busy, n.queued) {
        facts.push(("Workers busy", b.to_string()));
        facts.push(("Queued", q.to_string()));
    }
    if let Some(k) = n.keys {
        facts.push(("Keys held", k.to_string()));
    }
    if let Some(dirty) = n.dirty.filter(|&x| x > 0) {
        facts.push(("Not yet in the database", format!("{dirty} keys")));
    }
    if let Some(l) = n.lag_ms {
        facts.push(("Replication lag", format!("{l:.0} ms")));
    }
    if let Some(shard) = n.shard {
        facts.push(("Shard", shard.to_string()));
    }
    if let Some(share) = n.share {
        let what = if n.kind == NodeKind::Db {
            "Shard's share of database work"
        } else {
            "Share of requests"
        };
        facts.push((what, format!("{:.1} %", share * 100.0)));
    }
    let flushable = matches!(n.kind, NodeKind::Cache | NodeKind::Cdn);
    let on_factor = on_change(d, |v| {
        v.parse::<f64>()
            .ok()
            .map(|factor| Action::Choose(Choice::SlowFactor { factor }))
    });
    html! {
        <section class="panel node-panel" aria-label={format!("Node {name}")} data-testid="node-panel">
            <h2>{ &name }</h2>
            <dl>{ for facts.into_iter().map(|(k, v)| html! { <><dt>{ k }</dt><dd>{ v }</dd></> }) }</dl>
            <div class="actions">
                if down {
                    <button type="button" data-action="restart" onclick={on_click(d, cmd(Command::Restart { node: name.clone() }))}>{ "Restart" }</button>
                } else {
                    <button type="button" class="danger" data-action="crash" onclick={on_click(d, cmd(Command::Crash { node: name.clone() }))}>{ "Crash" }</button>
                }
                <span class="slow-group">
                    <select aria-label="Slow-down factor" data-testid="slow-factor" onchange={on_factor}>
                        { for SLOW_FACTORS.iter().map(|f| html! {
                            <option value={f.to_string()} selected={*f == e.slow_factor}>{ format!("×{f}") }</option>
                        }) }
                    </select>
                    <button type="button" data-action="slow" disabled={down}
                            onclick={on_click(d, cmd(Command::Slow { node: name.clone(), factor: e.slow_factor }))}>{ "Slow down" }</button>
                </span>
                if n.slow > 1.0 {
                    <button type="button" data-action="unslow" onclick={on_click(d, cmd(Command::Slow { node: name.clone(), factor: 1.0 }))}>{ "Normal speed" }</button>
                }
                <button type="button" data-action="isolate" onclick={on_click(d, cmd(Command::Isolate { node: name.clone() }))}>{ "Isolate" }</button>
                if flushable {
                    <button type="button" data-action="flush" onclick={on_click(d, cmd(Command::Flush { node: name.clone() }))}>{ "Flush" }</button>
                }
                <button type="button" class="close" aria-label="Close the node panel" onclick={on_click(d, Action::Select { node: None })}>{ "Close" }</button>
            </div>
        </section>
    }
}
