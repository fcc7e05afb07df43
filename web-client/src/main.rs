//! Ferry's web client: a Leptos app (client-side rendered, WebAssembly) that
//! talks to a Ferry server through the bridge's WebSocket, speaking the
//! protocol through the shared `ferry-proto` driver.
//!
//! `model` is what the page shows (signals), `session` what components ask
//! for (and the task that runs it), `transport` the WebSocket fed to the
//! driver; components get the model and the session from context.

mod app;
mod browser;
mod components;
mod endpoint;
mod format;
mod messages;
mod model;
mod order;
mod session;
mod transfers;
mod transport;

use wasm_bindgen::{prelude::wasm_bindgen, JsCast};

/// Talc rather than the standard dlmalloc: 0.7 KB smaller gzipped, and the
/// 100 MiB and 256 MiB e2e transfers are no slower (their bytes stay in JS
/// memory anyway).
#[cfg(all(not(target_feature = "atomics"), target_family = "wasm"))]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// Size of this module's linear memory in bytes, exported for the end-to-end
/// tests: they check that a 100 MiB transfer never lands in WASM memory.
#[wasm_bindgen]
pub fn wasm_memory_bytes() -> f64 {
    wasm_bindgen::memory()
        .unchecked_into::<js_sys::WebAssembly::Memory>()
        .buffer()
        .unchecked_into::<js_sys::ArrayBuffer>()
        .byte_length() as f64
}

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
