//! Small wrappers around browser APIs: timers, reading file slices, saving
//! downloads, and building the bridge URL.

use js_sys::{ArrayBuffer, Promise};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, HtmlAnchorElement, Url};

/// How long an object URL for a finished download stays valid: long enough
/// for the browser to start writing the file (Chromium takes hold of the
/// blob when the link is clicked). The blob stays in the browser's memory
/// until the URL goes: with a lifetime of a minute, the browser cancelled
/// downloads once about 2 GiB of them were held (scripts/bench.sh web).
const OBJECT_URL_LIFETIME_MS: i32 = 5_000;

/// `text` in lower case by Unicode's rules, the browser's (`toLowerCase`):
/// Rust's `to_lowercase` would bring Unicode's case tables into the page.
pub fn lower_case(text: &str) -> String {
    js_sys::JsString::from(text).to_lower_case().into()
}

/// Text of a JS exception (an `Error`'s message, or the value itself).
pub fn js_error_text(value: &JsValue) -> String {
    if let Some(error) = value.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    value.as_string().unwrap_or_else(|| format!("{value:?}"))
}

/// Resolves after `ms` milliseconds (`setTimeout`).
pub async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _reject| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Reads bytes `start..end` of a file into a JS `ArrayBuffer` (never into WASM memory).
pub async fn read_slice(file: &Blob, start: u64, end: u64) -> Result<ArrayBuffer, String> {
    let slice = file
        .slice_with_f64_and_f64(start as f64, end as f64)
        .map_err(|e| js_error_text(&e))?;
    let buffer = JsFuture::from(slice.array_buffer())
        .await
        .map_err(|e| js_error_text(&e))?;
    buffer
        .dyn_into::<ArrayBuffer>()
        .map_err(|_| "the browser returned something other than bytes".to_string())
}

/// Lets the browser save `blob` under `name`.
pub fn save_download(blob: &Blob, name: &str) -> Result<(), String> {
    let url = Url::create_object_url_with_blob(blob).map_err(|e| js_error_text(&e))?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document to attach the download to")?;
    let anchor: HtmlAnchorElement = document
        .create_element("a")
        .map_err(|e| js_error_text(&e))?
        .unchecked_into();
    anchor.set_href(&url);
    anchor.set_download(name);
    anchor.click();
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = Url::revoke_object_url(&url);
    });
    if let Some(window) = web_sys::window() {
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
            revoke.unchecked_ref(),
            OBJECT_URL_LIFETIME_MS,
        );
    }
    Ok(())
}

/// The page's own origin with `/ws`, as a WebSocket URL (`http` → `ws`, `https` → `wss`).
pub fn default_bridge_url() -> String {
    let location = web_sys::window().map(|w| w.location());
    let protocol = location
        .as_ref()
        .and_then(|l| l.protocol().ok())
        .unwrap_or_default();
    let host = location
        .as_ref()
        .and_then(|l| l.host().ok())
        .unwrap_or_default();
    let scheme = if protocol == "https:" { "wss" } else { "ws" };
    if host.is_empty() {
        "ws://127.0.0.1:8080/ws".into()
    } else {
        format!("{scheme}://{host}/ws")
    }
}

/// Where the tab's connection is remembered across reloads (the tab's
/// `sessionStorage`): the bridge URL, a newline, the target or nothing. No
/// account and no password: those are held in memory only.
const REMEMBERED_CONNECTION: &str = "ferry.connection";

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// Remembers the bridge and target of a connection that opened, so a
/// reload of this tab connects there again.
pub fn remember_connection(bridge: &str, target: Option<&str>) {
    if let Some(storage) = session_storage() {
        let value = format!("{bridge}\n{}", target.unwrap_or_default());
        let _ = storage.set_item(REMEMBERED_CONNECTION, &value);
    }
}

/// Forgets the connection (the user disconnected).
pub fn forget_connection() {
    if let Some(storage) = session_storage() {
        let _ = storage.remove_item(REMEMBERED_CONNECTION);
    }
}

/// The bridge and target this tab was connected to before a reload.
pub fn remembered_connection() -> Option<(String, Option<String>)> {
    let value = session_storage()?.get_item(REMEMBERED_CONNECTION).ok()??;
    let (bridge, target) = value.split_once('\n')?;
    let target = (!target.is_empty()).then(|| target.to_string());
    Some((bridge.to_string(), target))
}

/// The URL to open: the bridge URL plus `?target=host:port` when a server is given.
pub fn connect_url(bridge: &str, target: Option<&str>) -> Result<String, String> {
    let base = web_sys::window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_default();
    let url = Url::new_with_base(bridge.trim(), &base)
        .map_err(|_| format!("{} is not a valid URL", ferry_proto::quoted(bridge)))?;
    match url.protocol().as_str() {
        "ws:" | "wss:" => {}
        "http:" => url.set_protocol("ws"),
        "https:" => url.set_protocol("wss"),
        other => {
            return Err(format!(
                "the bridge URL must start with ws:// or wss:// (not {other}//)"
            ))
        }
    }
    if let Some(target) = target {
        url.search_params().set("target", target);
    }
    Ok(url.href())
}

/// The folder the URL's fragment names (`#/a/b%20c` → `a/b c`); `None` for
/// the home (no fragment, `#/`, or one that is not a valid path).
pub fn fragment_dir() -> Option<ferry_proto::Path> {
    let hash = web_sys::window()?.location().hash().ok()?;
    dir_of_fragment(&hash)
}

fn dir_of_fragment(hash: &str) -> Option<ferry_proto::Path> {
    let trimmed = hash.trim_start_matches('#').trim_matches('/');
    if trimmed.is_empty() {
        return None;
    }
    let names: Option<Vec<String>> = trimmed
        .split('/')
        .map(|n| js_sys::decode_uri_component(n).ok().map(String::from))
        .collect();
    ferry_proto::Path::new(names?.join("/")).ok()
}

/// The fragment that names `dir`: `#/` for the home, each name percent-encoded.
pub fn fragment_of(dir: &Option<ferry_proto::Path>) -> String {
    let names = dir.as_ref().map_or_else(String::new, |dir| {
        dir.names()
            .map(|n| String::from(js_sys::encode_uri_component(n)))
            .collect::<Vec<_>>()
            .join("/")
    });
    format!("#/{names}")
}

/// Shows `dir` by changing the URL's fragment (a new history entry; the
/// page follows in its `hashchange` listener, so Back and Forward work too).
pub fn open_dir(dir: &Option<ferry_proto::Path>) {
    if let Some(window) = web_sys::window() {
        let _ = window.location().set_hash(&fragment_of(dir));
    }
}
