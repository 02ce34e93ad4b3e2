//! Browser tests: mount the app into its own element, click real buttons, assert on the DOM.
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use pathlab::App;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlElement};

wasm_bindgen_test_configure!(run_in_browser);

/// Renders a fresh [`App`] into a new `<div>` appended to the body and returns that div.
fn mount_app() -> Element {
    let document = gloo::utils::document();
    let root = document
        .create_element("div")
        .expect("create a root element");
    document
        .body()
        .expect("the test page has a body")
        .append_child(&root)
        .expect("append the root element");
    yew::Renderer::<App>::with_root(root.clone()).render();
    root
}

/// Lets Yew's scheduler run: a zero-length timer fires only after its queued renders.
async fn settle() {
    yew::platform::time::sleep(Duration::ZERO).await;
}

fn play_button(root: &Element) -> HtmlElement {
    root.query_selector("[data-testid='play']")
        .expect("a valid selector")
        .expect("the play button is rendered")
        .dyn_into::<HtmlElement>()
        .expect("the play button is an HTML element")
}

#[wasm_bindgen_test]
async fn play_button_toggles_between_play_and_pause() {
    let root = mount_app();
    settle().await;
    let button = play_button(&root);
    assert_eq!(button.text_content().as_deref(), Some("Play"));

    button.click();
    settle().await;
    assert_eq!(play_button(&root).text_content().as_deref(), Some("Pause"));

    play_button(&root).click();
    settle().await;
    assert_eq!(play_button(&root).text_content().as_deref(), Some("Play"));
}

#[wasm_bindgen_test]
async fn header_names_the_product() {
    let root = mount_app();
    settle().await;
    let heading = root
        .query_selector("h1")
        .expect("a valid selector")
        .expect("the header is rendered");
    assert_eq!(
        heading.text_content().as_deref(),
        Some("PathLab — the request-path laboratory")
    );
}
