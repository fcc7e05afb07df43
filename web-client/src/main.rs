//! Ferry's web client: a Leptos app (client-side rendered, WebAssembly) that
//! talks to a Ferry server through the bridge's WebSocket, speaking the
//! protocol through the shared `ferry-proto` codec.

mod app;
mod browser;
mod components;
mod format;
mod messages;
mod session;
mod transport;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
