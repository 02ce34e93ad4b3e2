//! The panels around the diagram. Each is a function of the engine (what to show) and a dispatcher (where to send the actions its controls stand for): components only turn DOM events into [`Action`]s.

pub mod controls;
pub mod help;
pub mod intro;
pub mod log;
pub mod metrics;
pub mod network;
pub mod node;
pub mod requests;
pub mod settings;
pub mod settings_more;

use crate::action::Action;
use serde::{Serialize, de::DeserializeOwned};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// Where panels send actions.
pub type Dispatch = Callback<Action>;

/// A click that sends `action`.
pub fn on_click(d: &Dispatch, action: Action) -> Callback<MouseEvent> {
    let d = d.clone();
    Callback::from(move |_: MouseEvent| d.emit(action.clone()))
}

/// A change of a select or text field that sends `make(value)`, if it
/// makes an action of it.
pub fn on_change(
    d: &Dispatch,
    make: impl Fn(String) -> Option<Action> + 'static,
) -> Callback<Event> {
    let d = d.clone();
    Callback::from(move |ev: Event| {
        let target = ev.target_unchecked_into::<web_sys::Element>();
        let value = if let Some(i) = wasm_bindgen::JsCast::dyn_ref::<HtmlInputElement>(&target) {
            if i.type_() == "checkbox" {
                i.checked().to_string()
            } else {
                i.value()
            }
        } else if let Some(s) = wasm_bindgen::JsCast::dyn_ref::<HtmlSelectElement>(&target) {
            s.value()
        } else {
            return;
        };
        if let Some(a) = make(value) {
            d.emit(a);
        }
    })
}

/// The name a value of an option enum has in scenario files (its serde
/// name), which is also its value in a select.
pub fn serde_name<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The option enum value with serde name `name`, if there is one.
pub fn from_serde_name<T: DeserializeOwned>(name: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
}

/// A labelled select over `options` (value, words), showing `current`.
pub fn select<T: Serialize + PartialEq>(
    label: &str,
    testid: &str,
    options: &[(T, String)],
    current: &T,
    onchange: Callback<Event>,
) -> Html {
    html! {
        <label class="row">
            <span class="row-label">{ label }</span>
            <select aria-label={label.to_string()} data-testid={testid.to_string()} {onchange}>
                { for options.iter().map(|(v, words)| html! {
                    <option value={serde_name(v)} selected={v == current}>{ words.clone() }</option>
                }) }
            </select>
        </label>
    }
}
