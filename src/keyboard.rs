//! The keyboard: keys map to actions through `key_action`, for key presses on the page itself or inside this app (not inside another app on the page), never while typing, and never taking Space or Enter from a focused button; Tab stays inside an open dialog.

use crate::action::{Action, key_action};
use gloo::events::{EventListener, EventListenerOptions};
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// Listens for keys on the document for as long as the component lives.
#[hook]
pub fn use_keyboard(root: NodeRef, dispatch: Callback<Action>) {
    use_effect_with((), move |_| {
        let options = EventListenerOptions::enable_prevent_default();
        let listener = EventListener::new_with_options(
            &gloo::utils::document(),
            "keydown",
            options,
            move |e| {
                let Some(e) = e.dyn_ref::<KeyboardEvent>() else {
                    return;
                };
                let target = e
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::Element>().ok());
                if e.key() == "Tab" && keep_focus_in_dialog(e.shift_key()) {
                    e.prevent_default();
                    return;
                }
                let tag = target.as_ref().map(|t| t.tag_name()).unwrap_or_default();
                if matches!(tag.as_str(), "INPUT" | "SELECT" | "TEXTAREA") {
                    return;
                }
                let control = matches!(tag.as_str(), "BUTTON" | "A" | "SUMMARY")
                    || target
                        .as_ref()
                        .is_some_and(|t| t.get_attribute("role").as_deref() == Some("button"));
                if control && matches!(e.key().as_str(), " " | "Enter") {
                    return;
                }
                let node = target.clone().map(web_sys::Node::from);
                let doc = gloo::utils::document();
                let on_page = node.as_ref().is_none_or(|t| {
                    doc.body().is_some_and(|b| b.is_same_node(Some(t)))
                        || doc
                            .document_element()
                            .is_some_and(|d| d.is_same_node(Some(t)))
                        || doc.is_same_node(Some(t))
                });
                let inside = root.get().is_some_and(|r| r.contains(node.as_ref()));
                if !on_page && !inside {
                    return;
                }
                let modified = e.ctrl_key() || e.meta_key() || e.alt_key();
                if let Some(action) = key_action(&e.key(), modified, e.shift_key()) {
                    e.prevent_default();
                    dispatch.emit(action);
                }
            },
        );
        move || drop(listener)
    });
}

/// With a dialog open, keeps Tab and Shift+Tab cycling through its
/// controls; returns true if it moved the focus itself.
fn keep_focus_in_dialog(back: bool) -> bool {
    let doc = gloo::utils::document();
    let Some(dialog) = doc
        .query_selector("[role='dialog'][aria-modal='true']")
        .ok()
        .flatten()
    else {
        return false;
    };
    let Ok(list) = dialog.query_selector_all(
        "button:not([disabled]), a[href], input:not([disabled]), select:not([disabled]), [tabindex]:not([tabindex='-1'])",
    ) else {
        return false;
    };
    let items: Vec<web_sys::HtmlElement> = (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
        .collect();
    let (Some(first), Some(last)) = (items.first(), items.last()) else {
        return false;
    };
    let active = doc.active_element();
    let inside = active
        .as_ref()
        .is_some_and(|a| dialog.contains(Some(a.as_ref())));
    let at = |el: &web_sys::HtmlElement| {
        active
            .as_ref()
            .is_some_and(|a| a.is_same_node(Some(el.as_ref())))
    };
    let to = if !inside {
        first
    } else if back && at(first) {
        last
    } else if !back && at(last) {
        first
    } else {
        return false;
    };
    let _ = to.focus();
    true
}
