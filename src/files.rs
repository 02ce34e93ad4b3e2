//! Files the page hands to the user: text the core made (a run file), offered as a download.

/// Offers `text` as a file named `name` to download.
pub fn download(name: &str, mime: &str, text: &str) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    let failed = |what: &str| format!("the file {name} could not be saved: {what}");
    let parts = web_sys::js_sys::Array::of1(&text.into());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)
        .map_err(|_| failed("the browser would not make it"))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)
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
    } else {
        "application/json"
    }
}
