//! Browser tests of the whole app: mount it into its own element, click real buttons and nodes, assert on the DOM.
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use pathlab::link::LinkMaker;
use pathlab::{App, AppProps, StartOptions};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

/// Renders a fresh, paused [`App`] on a preset into a new `<div>`.
fn mount(preset: &str) -> Element {
    let document = gloo::utils::document();
    let root = document
        .create_element("div")
        .expect("create a root element");
    document
        .body()
        .expect("the test page has a body")
        .append_child(&root)
        .expect("append the root element");
    let props = AppProps {
        options: Some(StartOptions {
            preset: Some(preset.to_string()),
            seed: Some(7),
            play: false,
            ..StartOptions::default()
        }),
        // The core runs in this thread: the test has no worker script.
        link: Some(LinkMaker(std::rc::Rc::new(|| {
            Box::new(pathlab::live::LocalLink::new())
        }))),
    };
    yew::Renderer::<App>::with_root_and_props(root.clone(), props).render();
    root
}

/// Waits until a freshly mounted app has rendered and attached its
/// listeners.
async fn ready(root: &Element) {
    for _ in 0..100 {
        settle().await;
        if root
            .query_selector("[data-testid='clock']")
            .ok()
            .flatten()
            .is_some()
        {
            settle().await;
            settle().await;
            return;
        }
    }
    panic!("the app did not render");
}

/// Lets Yew's scheduler run its queued renders.
async fn settle() {
    yew::platform::time::sleep(Duration::from_millis(20)).await;
}

fn find(root: &Element, selector: &str) -> Element {
    root.query_selector(selector)
        .expect("a valid selector")
        .unwrap_or_else(|| panic!("{selector} is rendered"))
}

/// Clicks any element (SVG ones included) the way a mouse would.
fn click(root: &Element, selector: &str) {
    let el = find(root, selector);
    let init = web_sys::MouseEventInit::new();
    init.set_bubbles(true);
    init.set_cancelable(true);
    let ev =
        web_sys::MouseEvent::new_with_mouse_event_init_dict("click", &init).expect("a click event");
    el.dispatch_event(&ev).expect("dispatch the click");
}

fn text(root: &Element, selector: &str) -> String {
    find(root, selector)
        .text_content()
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn attr(root: &Element, selector: &str, name: &str) -> String {
    find(root, selector).get_attribute(name).unwrap_or_default()
}

/// Presses a key inside one app (other apps on the test page ignore it).
fn press(root: &Element, key: &str) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(key);
    init.set_bubbles(true);
    let ev = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init)
        .expect("a key event");
    find(root, ".lab")
        .dispatch_event(&ev)
        .expect("dispatch the key");
}

#[wasm_bindgen_test]
async fn play_button_toggles_between_play_and_pause() {
    let root = mount("default");
    ready(&root).await;
    assert_eq!(text(&root, "[data-testid='play']"), "Play");
    find(&root, "[data-testid='play']")
        .dyn_into::<HtmlElement>()
        .unwrap()
        .click();
    settle().await;
    assert_eq!(text(&root, "[data-testid='play']"), "Pause");
    find(&root, "[data-testid='play']")
        .dyn_into::<HtmlElement>()
        .unwrap()
        .click();
    settle().await;
    assert_eq!(text(&root, "[data-testid='play']"), "Play");
}

#[wasm_bindgen_test]
async fn crashing_a_node_from_its_panel_shows_it_down() {
    let root = mount("default");
    ready(&root).await;
    let app2 = "[data-node='app-2']";
    assert_eq!(attr(&root, app2, "data-state"), "up");
    click(&root, app2);
    settle().await;
    assert!(text(&root, "[data-testid='node-panel'] h2").contains("app-2"));
    click(&root, "[data-action='crash']");
    settle().await;
    assert_eq!(attr(&root, app2, "data-state"), "down");
    assert!(attr(&root, app2, "aria-label").contains("down"));
    // The panel now offers a restart, and the log says what happened.
    click(&root, "[data-action='restart']");
    settle().await;
    assert_eq!(attr(&root, app2, "data-state"), "up");
    let entries = find(&root, "[data-testid='event-log']").child_element_count();
    assert_eq!(entries, 4, "command, crash, command, restart");
}

#[wasm_bindgen_test]
async fn cutting_a_replica_off_draws_the_cut_links_and_the_sides() {
    let root = mount("default");
    ready(&root).await;
    assert_eq!(
        attr(&root, "[data-testid='diagram']", "data-cut-links"),
        "0"
    );
    click(&root, "[data-testid='partition-pick']");
    settle().await;
    click(&root, "[data-node='db-0-0']");
    settle().await;
    assert!(
        find(&root, "[data-node='db-0-0']")
            .class_list()
            .contains("picked")
    );
    click(&root, "[data-testid='partition-cut']");
    settle().await;
    let cut: usize = attr(&root, "[data-testid='diagram']", "data-cut-links")
        .parse()
        .unwrap();
    // db-0-0 is linked to four app servers and two replicas.
    assert_eq!(cut, 6);
    find(&root, "[data-testid='cut-links']");
    assert!(
        find(&root, "[data-node='db-0-0']")
            .class_list()
            .contains("partitioned")
    );
    assert!(text(&root, "[data-node='db-0-0']").contains("side"));
    click(&root, "[data-testid='heal']");
    settle().await;
    assert_eq!(
        attr(&root, "[data-testid='diagram']", "data-cut-links"),
        "0"
    );
}

#[wasm_bindgen_test]
async fn the_keyboard_plays_steps_and_opens_help() {
    let root = mount("default");
    ready(&root).await;
    press(&root, "ArrowRight");
    settle().await;
    assert_eq!(text(&root, "[data-testid='clock']"), "t = 0.1 s");
    press(&root, "+");
    settle().await;
    assert_eq!(
        root.query_selector("[data-testid='speed']")
            .unwrap()
            .unwrap()
            .dyn_into::<web_sys::HtmlSelectElement>()
            .unwrap()
            .value(),
        "4",
        "one step faster than 1×"
    );
    press(&root, "?");
    settle().await;
    assert!(text(&root, "[data-testid='help']").contains("play / pause"));
    press(&root, "Escape");
    settle().await;
    assert!(
        root.query_selector("[data-testid='help']")
            .unwrap()
            .is_none()
    );
    press(&root, " ");
    settle().await;
    assert_eq!(text(&root, "[data-testid='play']"), "Pause");
    press(&root, " ");
    settle().await;
}

#[wasm_bindgen_test]
async fn a_bad_seed_is_refused_with_a_message_and_changes_nothing() {
    let root = mount("default");
    ready(&root).await;
    press(&root, "ArrowRight");
    settle().await;
    let seed = find(&root, "[data-testid='seed']")
        .dyn_into::<HtmlInputElement>()
        .unwrap();
    seed.set_value("-12x");
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    seed.dispatch_event(&web_sys::Event::new_with_event_init_dict("change", &init).unwrap())
        .unwrap();
    settle().await;
    assert!(text(&root, "[data-testid='notice']").contains("seed"));
    assert_eq!(
        text(&root, "[data-testid='clock']"),
        "t = 0.1 s",
        "the run was kept"
    );
}

#[wasm_bindgen_test]
async fn the_metrics_and_the_log_react_to_a_leader_crash() {
    let root = mount("leader-crash");
    ready(&root).await;
    // 30 presses of → is 3 s; the preset crashes db-0-0 at 20 s, so run on.
    for _ in 0..250 {
        press(&root, "ArrowRight");
    }
    settle().await;
    assert_eq!(attr(&root, "[data-node='db-0-0']", "data-state"), "down");
    let log = text(&root, "[data-testid='event-log']");
    assert!(log.contains("elected leader"), "{log}");
    assert!(!text(&root, "[data-metric='leader']").contains("db-0-0"));
}

#[wasm_bindgen_test]
async fn an_internal_error_shows_a_panel_with_its_message() {
    pathlab::show_error_panel("the index was out of bounds");
    let panel = gloo::utils::document()
        .query_selector("[data-testid='error-panel']")
        .unwrap()
        .expect("the error panel is shown");
    assert_eq!(panel.get_attribute("role").as_deref(), Some("alert"));
    assert!(
        panel
            .text_content()
            .unwrap()
            .contains("the index was out of bounds")
    );
    panel.remove();
}

/// Sets a select's value and fires `change`, as a person choosing would.
fn choose(root: &Element, selector: &str, value: &str) {
    let select = find(root, selector)
        .dyn_into::<web_sys::HtmlSelectElement>()
        .unwrap();
    select.set_value(value);
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    select
        .dispatch_event(&web_sys::Event::new_with_event_init_dict("change", &init).unwrap())
        .unwrap();
}

#[wasm_bindgen_test]
async fn choosing_a_balancing_strategy_sends_a_command_the_log_records() {
    let root = mount("default");
    ready(&root).await;
    // The balancing group is folded at first: its title opens it.
    assert!(
        root.query_selector("[data-testid='lb-strategy']")
            .unwrap()
            .is_none()
    );
    click(&root, "[data-group='balancing'] summary");
    settle().await;
    choose(&root, "[data-testid='lb-strategy']", "consistent-hash");
    settle().await;
    assert!(text(&root, "[data-testid='event-log']").contains("consistent-hash"));
    // Hash-based strategies say how many users a new server would take.
    assert!(text(&root, ".settings").contains("would move to another server"));
}

#[wasm_bindgen_test]
async fn turning_on_the_order_queue_adds_the_queue_and_its_workers() {
    let root = mount("default");
    ready(&root).await;
    assert!(
        root.query_selector("[data-node='queue-1']")
            .unwrap()
            .is_none()
    );
    click(&root, "[data-group='queue'] summary");
    settle().await;
    click(&root, "[data-testid='queue']");
    settle().await;
    settle().await;
    assert_eq!(attr(&root, "[data-node='queue-1']", "data-kind"), "queue");
    assert_eq!(attr(&root, "[data-node='worker-3']", "data-kind"), "worker");
}
