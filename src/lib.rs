//! PathLab's web front end: the Yew application shell and its browser entry point.

pub mod charts;
pub mod waterfall;

use yew::prelude::*;

/// Whether the simulation clock is running.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Playback {
    /// The clock is stopped; nothing advances until the user presses play.
    #[default]
    Paused,
    /// The clock is running.
    Playing,
}

impl Playback {
    /// The state a press of the play/pause button leads to.
    #[must_use]
    pub fn toggled(self) -> Self {
        match self {
            Self::Paused => Self::Playing,
            Self::Playing => Self::Paused,
        }
    }

    /// The label of the play/pause button: it names what a press will do.
    #[must_use]
    pub fn button_label(self) -> &'static str {
        match self {
            Self::Paused => "Play",
            Self::Playing => "Pause",
        }
    }
}

/// The application shell: a header bar and the main area.
#[component]
pub fn App() -> Html {
    let playback = use_state(Playback::default);
    let on_toggle = {
        let playback = playback.clone();
        Callback::from(move |_: MouseEvent| playback.set(playback.toggled()))
    };

    html! {
        <>
            <header class="topbar">
                <h1>{ "PathLab — the request-path laboratory" }</h1>
            </header>
            <main class="content">
                <p>
                    { "Follow a web request from the browser through DNS, a CDN, a load \
                       balancer, application servers, a cache and a database, then break \
                       a part of that path and watch what its users would see." }
                </p>
                <button type="button" class="primary" data-testid="play" onclick={on_toggle}>
                    { playback.button_label() }
                </button>
            </main>
        </>
    }
}

/// Starts the application in the page: installs a panic hook that shows an
/// error panel, then renders [`App`] into the document body.
pub fn start() {
    yew::set_custom_panic_hook(Box::new(|info| show_panic(&info.to_string())));
    yew::Renderer::<App>::new().render();
}

/// Logs a panic to the console and appends an alert panel carrying its
/// message to the page, so a crash is never a silent, frozen screen.
fn show_panic(message: &str) {
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
        "PathLab stopped because of an internal error: {message}"
    )));
    let _ = body.append_child(&panel);
}

#[cfg(test)]
mod tests {
    use super::Playback;

    #[test]
    fn play_button_names_the_next_action() {
        let start = Playback::default();
        assert_eq!(start, Playback::Paused);
        assert_eq!(start.button_label(), "Play");
        let running = start.toggled();
        assert_eq!(running, Playback::Playing);
        assert_eq!(running.button_label(), "Pause");
        assert_eq!(running.toggled(), Playback::Paused);
    }
}
