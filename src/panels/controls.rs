//! The top bar: play, step, speed, reset, seed, scenario, the simulated clock, the link to the run, presenter mode and help.

use super::{Dispatch, on_change, on_click};
use crate::action::{Action, Panel};
use crate::engine::{Engine, SPEEDS};
use pathlab_sim::presets;
use yew::prelude::*;

/// The time controls and the scenario choice.
pub fn view(e: &Engine, d: &Dispatch) -> Html {
    let on_speed = on_change(d, |v| {
        v.parse::<usize>()
            .ok()
            .and_then(|i| SPEEDS.get(i))
            .map(|&x| Action::Speed { x })
    });
    let on_seed = on_change(d, |text| {
        Some(match text.trim().parse::<u64>() {
            Ok(seed) => Action::Seed { seed },
            Err(_) => Action::Invalid {
                why: format!(
                    "the seed must be a whole number from 0 to {}, not {text:?}",
                    u64::MAX
                ),
            },
        })
    });
    let on_preset = on_change(d, |name| Some(Action::Preset { name }));
    let speed_options = SPEEDS.iter().enumerate().map(|(i, s)| {
        html! { <option value={i.to_string()} selected={i == e.speed_idx}>{ format!("{s}×") }</option> }
    });
    let preset_options = presets::NAMES.iter().chain(&presets::BENCH_NAMES).map(|n| {
        html! { <option value={*n} selected={*n == e.preset}>{ *n }</option> }
    });
    html! {
        <div class="controls" role="toolbar" aria-label="Time">
            <button type="button" class="primary" data-testid="play" aria-keyshortcuts="Space" onclick={on_click(d, Action::TogglePlay)}>
                { if e.playing { "Pause" } else { "Play" } }
            </button>
            <button type="button" data-testid="step" aria-keyshortcuts="ArrowRight" title="Advance 0.1 s" onclick={on_click(d, Action::Step)}>{ "Step" }</button>
            <label class="speed">{ "Speed " }
                <select data-testid="speed" aria-label="Speed" onchange={on_speed}>{ for speed_options }</select>
            </label>
            <button type="button" data-testid="reset" aria-keyshortcuts="r" onclick={on_click(d, Action::Reset)}>{ "Reset" }</button>
            <label class="seed">{ "Seed " }
                <input data-testid="seed" aria-label="Seed" type="text" inputmode="numeric" size="8" value={e.seed.to_string()} onchange={on_seed} />
            </label>
            <label class="scenario">{ "Scenario " }
                <select data-testid="preset" aria-label="Scenario" onchange={on_preset}>{ for preset_options }</select>
            </label>
            <span class="clock" aria-label="Simulated time" data-testid="clock" data-pending={e.pending().to_string()}>
                { format!("t = {:.1} s", e.sim.now().as_secs_f64()) }
                if e.behind { <span class="behind" title="The simulation cannot keep up with this speed">{ " (slower than asked)" }</span> }
            </span>
            <button type="button" data-testid="share" aria-keyshortcuts="s"
                    title="Copy a link to this run at this moment (s); the address bar always holds it"
                    onclick={on_click(d, Action::CopyLink)}>{ "Copy link" }</button>
            <button type="button" class="present-button" data-testid="presenter" aria-pressed={e.presenter.to_string()} aria-keyshortcuts="f"
                    title="Presenter mode: large type, the diagram filling the screen (f)"
                    onclick={on_click(d, Action::Panel { panel: Panel::Presenter, open: !e.presenter })}>
                { if e.presenter { "Exit presenter" } else { "Present" } }
            </button>
            <button type="button" class="help-button" aria-label="Keyboard help" aria-keyshortcuts="?" onclick={on_click(d, Action::Panel { panel: Panel::Help, open: !e.help })}>{ "?" }</button>
        </div>
    }
}
