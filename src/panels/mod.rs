//! The panels around the diagram. Each is a function of the engine (what to show) and a dispatcher (where to send the actions its controls stand for): components only turn DOM events into [`Action`]s.

pub mod compare;
pub mod controls;
pub mod help;
pub mod intro;
pub mod lesson;
pub mod log;
pub mod metrics;
pub mod network;
pub mod node;
pub mod requests;
pub mod settings;
pub mod settings_more;
pub mod sweep;
pub mod timeline;
pub mod why;

use crate::action::Action;
use serde::Serialize;
use std::rc::Rc;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// Where panels send actions.
pub type Dispatch = Callback<Action>;

/// A simulated time shown as a link to that moment: following it goes
/// there on the timeline and opens `request` or selects `node`, if given.
pub fn time_link(
    d: &Dispatch,
    at: pathlab_sim::SimTime,
    request: Option<u64>,
    node: Option<String>,
) -> Html {
    let t = at.as_secs_f64();
    html! {
        <button type="button" class="at" data-t-ms={(at.0 / 1000).to_string()} title="Go to this moment"
                onclick={on_click(d, Action::Seek { t, request, node })}>
            { format!("{t:.3} s") }
        </button>
    }
}

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
    changed(d.clone(), Rc::new(make))
}

/// The one body of every change handler (not repeated for each control:
/// that keeps the bundle small).
fn changed(d: Dispatch, make: Rc<dyn Fn(String) -> Option<Action>>) -> Callback<Event> {
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
    serde_json::to_string(v)
        .map(|s| s.trim_matches('"').to_string())
        .unwrap_or_default()
}

/// The value among `options` whose serde name is `name`, if there is one.
pub fn by_serde_name<T: Serialize + Clone>(options: &[T], name: &str) -> Option<T> {
    options.iter().find(|v| serde_name(*v) == name).cloned()
}

/// A labelled select over `options` (value, words), showing `current`.
pub fn select<T: Serialize + PartialEq>(
    label: &str,
    testid: &str,
    options: &[(T, String)],
    current: &T,
    onchange: Callback<Event>,
) -> Html {
    let options = options
        .iter()
        .map(|(v, words)| (serde_name(v), words.clone(), v == current))
        .collect();
    select_view(label, testid, options, onchange)
}

/// The markup of [`select`], written once for every option type.
fn select_view(
    label: &str,
    testid: &str,
    options: Vec<(String, String, bool)>,
    onchange: Callback<Event>,
) -> Html {
    html! {
        <label class="row">
            <span class="row-label">{ label }</span>
            <select aria-label={label.to_string()} data-testid={testid.to_string()} {onchange}>
                { for options.into_iter().map(|(value, words, selected)| html! {
                    <option {value} {selected}>{ words }</option>
                }) }
            </select>
        </label>
    }
}

/// A labelled number field (`class` "row" for a settings row, "" inside a
/// row of several).
pub fn number_input(
    class: &'static str,
    label: &str,
    aria: &str,
    testid: &str,
    (min, max): (String, String),
    value: String,
    onchange: Callback<Event>,
) -> Html {
    html! {
        <label class={class}>{ label }
            <input type="number" {min} {max} {value} aria-label={aria.to_string()} data-testid={testid.to_string()} {onchange} />
        </label>
    }
}

/// A checkbox with its words after it.
pub fn checkbox(
    words: &str,
    aria: &str,
    testid: &str,
    checked: bool,
    onchange: Callback<Event>,
) -> Html {
    html! {
        <label class="row check">
            <input type="checkbox" {checked} aria-label={aria.to_string()} data-testid={testid.to_string()} {onchange} />
            { words }
        </label>
    }
}

/// The text in the page's input element `id` (empty if there is none).
pub fn input_value(id: &str) -> String {
    use wasm_bindgen::JsCast;
    gloo::utils::document()
        .get_element_by_id(id)
        .and_then(|el| el.dyn_into::<HtmlInputElement>().ok())
        .map(|i| i.value())
        .unwrap_or_default()
}

/// The choice in the page's list element `id` (empty if there is none).
pub fn select_value(id: &str) -> String {
    use wasm_bindgen::JsCast;
    gloo::utils::document()
        .get_element_by_id(id)
        .and_then(|el| el.dyn_into::<HtmlSelectElement>().ok())
        .map(|s| s.value())
        .unwrap_or_default()
}
