//! What the page hands to the user and takes from them: files the core made (a run file, metrics, the history) offered as downloads, run files opened by picker or dropped on the page, and the link to the run, kept in the address bar and copied on request.

/// Offers `text` as a file named `name` to download.
pub fn download(name: &str, mime: &str, text: &str) -> Result<(), String> {
    let parts = web_sys::js_sys::Array::of1(&text.into());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob =
        web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).map_err(|_| {
            format!("the file {name} could not be saved: the browser would not make it")
        })?;
    download_blob(name, &blob)
}

/// Offers `blob` as a file named `name` to download.
pub fn download_blob(name: &str, blob: &web_sys::Blob) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    let failed = |what: &str| format!("the file {name} could not be saved: {what}");
    let url = web_sys::Url::create_object_url_with_blob(blob)
        .map_err(|_| failed("the browser would not give it an address"))?;
    let link = gloo::utils::document()
        .create_element("a")
        .ok()
        .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())
        .ok_or_else(|| failed("no link could be made"))?;
    link.set_href(&url);
    link.set_download(name);
    link.click();
    // The download has its own copy by now.
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// The media type of a file the page saves, by its name's extension.
pub fn mime_of(name: &str) -> &'static str {
    if name.ends_with(".csv") {
        "text/csv"
    } else if name.ends_with(".jsonl") {
        "application/x-ndjson"
    } else {
        "application/json"
    }
}

/// Puts the run's link in the address bar (replacing, not adding to, the
/// history), keeping the page's address and options.
pub fn show_in_address(fragment: &str) {
    let window = gloo::utils::window();
    let location = window.location();
    let (path, search) = (
        location.pathname().unwrap_or_default(),
        location.search().unwrap_or_default(),
    );
    if let Ok(history) = window.history() {
        let url = format!("{path}{search}#run={fragment}");
        // A refused address (some embedding pages) only means no link there.
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

/// Copies the page's address (which holds the run's link) to the clipboard;
/// says what happened, in words.
pub fn copy_address() -> String {
    use web_sys::js_sys::{Function, Reflect};
    let window = gloo::utils::window();
    let href = window.location().href().unwrap_or_default();
    let write = Reflect::get(&window, &"navigator".into())
        .and_then(|n| Reflect::get(&n, &"clipboard".into()))
        .ok()
        .filter(|c| !c.is_undefined())
        .and_then(|clip| {
            let f = Reflect::get(&clip, &"writeText".into()).ok()?;
            wasm_bindgen::JsCast::dyn_into::<Function>(f)
                .ok()?
                .call1(&clip, &href.clone().into())
                .ok()
        });
    match write {
        Some(_) => "Link copied: it opens this run at this moment.".into(),
        None => format!("Copy this link by hand (the clipboard is not available here): {href}"),
    }
}

/// Reads a run file the user picked or dropped, then opens it; a file too
/// large to be one is refused at once, unread.
pub fn open_run_file(file: web_sys::File, dispatch: crate::panels::Dispatch) {
    use crate::action::Action;
    use pathlab_sim::runfile::MAX_RUN_FILE_BYTES;
    let name = file.name();
    if file.size() > MAX_RUN_FILE_BYTES as f64 {
        dispatch.emit(Action::Invalid {
            why: format!(
                "{name} cannot be opened: at {:.1} MB it is larger than a run file may be ({} MB). The run you had is kept.",
                file.size() / 1e6,
                MAX_RUN_FILE_BYTES / 1_000_000
            ),
        });
        return;
    }
    let failed = dispatch.clone();
    let fail_name = name.clone();
    use wasm_bindgen::closure::Closure;
    let read =
        Closure::<dyn FnMut(wasm_bindgen::JsValue)>::once(move |text: wasm_bindgen::JsValue| {
            match text.as_string() {
                Some(text) => dispatch.emit(Action::OpenRunFile { text }),
                None => dispatch.emit(Action::Invalid {
                    why: format!("{name} could not be read as text. The run you had is kept."),
                }),
            }
        });
    let not_read =
        Closure::<dyn FnMut(wasm_bindgen::JsValue)>::once(move |_: wasm_bindgen::JsValue| {
            failed.emit(Action::Invalid {
                why: format!("{fail_name} could not be read. The run you had is kept."),
            });
        });
    let _ = file.text().then2(&read, &not_read);
    // Each runs at most once, when the browser has read the file.
    read.forget();
    not_read.forget();
}

/// Where the browser keeps the student's progress through the lessons.
const PROGRESS_KEY: &str = "pathlab.lessons";

/// The furthest step reached in each lesson, as kept in this browser
/// (`id:step,id:step`); nothing when storage is not allowed.
pub fn load_progress() -> std::collections::BTreeMap<String, u32> {
    let stored = gloo::utils::window()
        .local_storage()
        .ok()
        .flatten()
        .and_then(|s| s.get_item(PROGRESS_KEY).ok().flatten())
        .unwrap_or_default();
    stored
        .split(',')
        .filter_map(|pair| {
            let (id, step) = pair.split_once(':')?;
            Some((id.to_string(), step.parse().ok()?))
        })
        .collect()
}

/// Keeps the lessons' progress in this browser (quietly nothing when
/// storage is not allowed, as in some embedding pages).
pub fn save_progress(reached: &std::collections::BTreeMap<String, u32>) {
    let text = reached
        .iter()
        .map(|(id, step)| format!("{id}:{step}"))
        .collect::<Vec<_>>()
        .join(",");
    if let Some(s) = gloo::utils::window().local_storage().ok().flatten() {
        let _ = s.set_item(PROGRESS_KEY, &text);
    }
}
