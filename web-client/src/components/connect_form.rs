//! The connect form: server host and port, bridge URL, connect / disconnect.

use crate::model::{use_model, ConnState};
use crate::session::use_session;
use ferry_proto::{HostPort, DEFAULT_PORT};
use leptos::prelude::*;

/// Turns the form's host and port into a bridge `target` (`None`: the bridge's default server).
pub fn target(host: &str, port: &str) -> Result<Option<String>, String> {
    let (host, port) = (host.trim(), port.trim());
    if host.is_empty() {
        if port.is_empty() {
            return Ok(None);
        }
        return Err("Enter the server host too, or leave both host and port empty for the bridge's default server.".into());
    }
    let default_port = DEFAULT_PORT.to_string();
    let port = if port.is_empty() { &default_port } else { port };
    HostPort::from_parts(host, port)
        .map(|target| Some(target.to_string()))
        .map_err(|e| format!("Invalid server address: {e}."))
}

/// Where to connect, and the buttons to do it.
#[component]
pub fn ConnectForm() -> impl IntoView {
    let model = use_model();
    let session = use_session();
    let bridge_url = model.bridge_url();
    let host = RwSignal::new(String::new());
    let port = RwSignal::new(String::new());
    let disconnected = move || model.state() == ConnState::Disconnected;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match target(&host.get_untracked(), &port.get_untracked()) {
            Ok(target) => session.connect(target),
            Err(e) => model.error(e),
        }
    };
    let peer = move || match model.state() {
        ConnState::Disconnected => "Not connected.".to_string(),
        ConnState::Connecting => format!("Connecting to {} …", model.peer()),
        ConnState::Connected => format!(
            "Connected to {}{}",
            model.peer(),
            model
                .greeting()
                .map(|g| format!(" — “{g}”"))
                .unwrap_or_default()
        ),
    };
    view! {
        <section class="panel connect" aria-labelledby="connect-title">
            <h2 id="connect-title">"Connection"</h2>
            <form on:submit=submit>
                <div class="fields">
                    <label for="host">"Server host"</label>
                    <input
                        id="host"
                        type="text"
                        autocomplete="off"
                        spellcheck="false"
                        placeholder="bridge's default server"
                        bind:value=host
                        prop:disabled=move || !disconnected()
                    />
                    <label for="port">"Port"</label>
                    <input
                        id="port"
                        type="text"
                        inputmode="numeric"
                        autocomplete="off"
                        placeholder=DEFAULT_PORT.to_string()
                        bind:value=port
                        prop:disabled=move || !disconnected()
                    />
                    <label for="bridge">"Bridge URL"</label>
                    <input
                        id="bridge"
                        type="text"
                        autocomplete="off"
                        spellcheck="false"
                        bind:value=bridge_url
                        prop:disabled=move || !disconnected()
                    />
                </div>
                <p class="hint">
                    "Leave host and port empty to reach the server the bridge is set up for."
                </p>
                <div class="form-actions">
                    <button type="submit" class="primary" prop:disabled=move || !disconnected()>
                        "Connect"
                    </button>
                    <button
                        type="button"
                        prop:disabled=disconnected
                        on:click=move |_| session.disconnect()
                    >
                        "Disconnect"
                    </button>
                </div>
            </form>
            <p id="peer" class="peer">{peer}</p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::target;

    #[test]
    fn targets() {
        assert_eq!(target("", ""), Ok(None));
        assert_eq!(
            target(" example.org ", ""),
            Ok(Some("example.org:8888".into()))
        );
        assert_eq!(target("10.0.0.1", "9000"), Ok(Some("10.0.0.1:9000".into())));
        assert_eq!(target("::1", "21"), Ok(Some("[::1]:21".into())));
        assert!(target("", "21").is_err());
        assert!(target("h", "0").is_err());
        assert!(target("h", "70000").is_err());
        assert!(target("a/b", "1").is_err());
    }
}
