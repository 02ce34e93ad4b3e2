//! The keyboard help dialog and the legend (with the run's fingerprint).

use super::{Dispatch, on_click};
use crate::action::{Action, Panel};
use crate::engine::Engine;
use yew::prelude::*;

/// The shapes and colours, as fixed markup (markup that never changes is
/// kept as text: it costs the bundle far less than built elements).
const LEGEND: &str = r#"<span><i class="sw static"></i>static (square)</span><span><i class="sw read"></i>read (circle)</span><span><i class="sw write"></i>write (diamond)</span><span><i class="sw error"></i>error (✕)</span><span><i class="sw stale"></i>stale answer (ring)</span><span>✂ cut link · ★ leader · dashed ✕ down · bar: replication lag</span>"#;

/// The keys, as fixed markup.
const KEYS: &str = r#"<dl><dt><kbd>Space</kbd></dt><dd>play / pause (on a focused button: press it)</dd><dt><kbd>→</kbd> / <kbd>←</kbd></dt><dd>step 0.1 s forward / back</dd><dt><kbd>Shift</kbd>+<kbd>←</kbd> / <kbd>→</kbd></dt><dd>previous / next marker on the timeline</dd><dt><kbd>Home</kbd> / <kbd>End</kbd></dt><dd>start / end of the run so far</dd><dt><kbd>+</kbd> / <kbd>−</kbd></dt><dd>faster / slower</dd><dt><kbd>r</kbd></dt><dd>reset to time zero (same seed)</dd><dt><kbd>s</kbd></dt><dd>copy a link to this run at this moment</dd><dt><kbd>f</kbd></dt><dd>presenter mode (large type, diagram filling the screen)</dd><dt><kbd>?</kbd></dt><dd>this help</dd><dt><kbd>Esc</kbd></dt><dd>close panels</dd><dt><kbd>Tab</kbd>, <kbd>Enter</kbd></dt><dd>move between nodes and open one</dd></dl>"#;

/// The legend of shapes and colours, and the run's fingerprint.
pub fn legend(e: &Engine) -> Html {
    let fp = e.sim.fingerprint_hex();
    html! {
        <footer class="legend" aria-label="Legend">
            { Html::from_html_unchecked(AttrValue::Static(LEGEND)) }
            <span class="fingerprint" data-testid="fingerprint" data-fingerprint={fp.clone()}
                  title="A hash of every event so far: the same scenario, seed and actions give the same fingerprint on any machine">
                { format!("seed {} · {} events · fingerprint {fp}", e.seed, e.sim.events()) }
            </span>
        </footer>
    }
}

/// The keyboard help, a dialog.
pub fn help(d: &Dispatch) -> Html {
    html! {
        <div class="overlay" role="dialog" aria-modal="true" aria-label="Keyboard help" data-testid="help">
            <section class="panel help">
                <h2>{ "Keys" }</h2>
                { Html::from_html_unchecked(AttrValue::Static(KEYS)) }
                <button type="button" onclick={on_click(d, Action::Panel { panel: Panel::Help, open: false })}>{ "Close" }</button>
            </section>
        </div>
    }
}
