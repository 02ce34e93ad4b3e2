//! PathLab's web front end: the Yew application shell and its browser entry point.

pub mod action;
pub mod app;
pub mod charts;
pub mod diagram;
pub mod engine;
pub mod files;
pub mod frame;
pub mod host;
pub mod keyboard;
pub mod layout;
pub mod lessons;
pub mod link;
pub mod links;
pub mod live;
pub mod mirror;
pub mod options;
pub mod panels;
pub mod particles;
pub mod picture;
pub mod replay;
pub mod share;
pub mod sweep;
pub mod waterfall;
pub mod wire;

pub use app::{App, AppProps};
pub use options::StartOptions;

/// Starts the application in the page: installs a panic hook that shows an
/// error panel, then renders [`App`] into the document body.
pub fn start() {
    yew::set_custom_panic_hook(Box::new(|info| show_error_panel(&info.to_string())));
    yew::Renderer::<App>::new().render();
}

/// Logs a panic to the console and shows an alert panel carrying its
/// message on top of the page, so a crash is never a silent, frozen screen.
pub fn show_error_panel(message: &str) {
    web_sys::console::error_1(&message.into());
    let Some(document) = web_sys::window().and_then(|window| window.document()) else {
        return;
    };
    let (Some(body), Ok(panel)) = (document.body(), document.create_element("div")) else {
        return;
    };
    // Failures below only mean the panel cannot be shown; the console has the message.
    let _ = panel.set_attribute("role", "alert");
    let _ = panel.set_attribute("data-testid", "error-panel");
    let _ = panel.set_attribute("class", "error-panel");
    panel.set_text_content(Some(&format!(
        "PathLab stopped because of an internal error: {message}\nReload the page to start again."
    )));
    let _ = body.append_child(&panel);
}
