//! Where to connect: the form while disconnected, and once connected the bar
//! that replaces it (server, account, Log in / Log out, Disconnect).

use crate::components::{attr, attrs, on, reactive, shown};
use crate::model::{use_model, Access, ConnState};
use crate::session::use_session;
use crate::transfers::use_transfers;
use ferry_proto::{HostPort, DEFAULT_PORT};
use leptos::ev;
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

/// Where to connect, and the button to do it (shown while disconnected).
#[component]
pub fn ConnectForm() -> impl IntoView {
    let model = use_model();
    let session = use_session();
    let bridge_url = model.bridge_url();
    let host = RwSignal::new(String::new());
    let port = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match target(&host.get_untracked(), &port.get_untracked()) {
            Ok(target) => session.connect(target),
            Err(e) => model.error(e),
        }
    };
    view! {
        <section {..attrs(&[("class", "panel connect"), ("aria-labelledby", "connect-title")])}>
            <h2 id="connect-title">"Connect to a Ferry server"</h2>
            <form {..on(ev::submit, submit)}>
                <div class="fields">
                    <label for="host">"Server host"</label>
                    <input
                        {..attrs(&[
                            ("id", "host"),
                            ("type", "text"),
                            ("autocomplete", "off"),
                            ("spellcheck", "false"),
                            ("placeholder", "bridge's default server"),
                        ])}
                        {..on(ev::input, move |ev| host.set(event_target_value(&ev)))}
                        prop:value=move || host.get()
                    />
                    <label for="port">"Port"</label>
                    <input
                        {..attrs(&[
                            ("id", "port"),
                            ("type", "text"),
                            ("inputmode", "numeric"),
                            ("autocomplete", "off"),
                        ])}
                        {..attr("placeholder", DEFAULT_PORT.to_string())}
                        {..on(ev::input, move |ev| port.set(event_target_value(&ev)))}
                        prop:value=move || port.get()
                    />
                    <label for="bridge">"Bridge URL"</label>
                    <input
                        {..attrs(&[
                            ("id", "bridge"),
                            ("type", "text"),
                            ("autocomplete", "off"),
                            ("spellcheck", "false"),
                        ])}
                        {..on(ev::input, move |ev| bridge_url.set(event_target_value(&ev)))}
                        prop:value=move || bridge_url.get()
                    />
                </div>
                <p class="hint">
                    "Leave host and port empty to reach the server the bridge is set up for."
                </p>
                <div class="form-actions">
                    <button type="submit" class="primary">
                        "Connect"
                    </button>
                </div>
            </form>
        </section>
    }
}

/// The connection once it is open (or opening): where, as whom, and the buttons to end it.
#[component]
pub fn ConnectionBar() -> impl IntoView {
    let model = use_model();
    let session = use_session();
    let transfers = use_transfers();
    let peer = move || match model.state() {
        ConnState::Connecting => format!("Connecting to {} …", model.peer()),
        _ => model.peer(),
    };
    let title = move || model.greeting().unwrap_or_default();
    let who = move || match model.access() {
        Access::Unknown => String::new(),
        Access::LoginRequired => "not logged in".into(),
        Access::Anonymous { read_only } => {
            format!("anonymous{}", if read_only { " · read-only" } else { "" })
        }
        Access::LoggedIn { account, read_only } => {
            format!("{account}{}", if read_only { " · read-only" } else { "" })
        }
    };
    let logged_in = move || model.access().account().is_some();
    let anonymous = move || matches!(model.access(), Access::Anonymous { .. });
    view! {
        <div {..attrs(&[("class", "conn-bar"), ("role", "group"), ("aria-label", "Connection")])}>
            <span {..attrs(&[("id", "peer"), ("class", "peer")])} {..attr("title", reactive(title))}>{peer}</span>
            <span {..attrs(&[("id", "account"), ("class", "account")])}>{who}</span>
            {shown(anonymous, move || view! {
                <button
                    {..attrs(&[("type", "button"), ("class", "quiet")])}
                    {..on(ev::click, move |_| model.set_access(Access::LoginRequired))}
                >
                    "Log in"
                </button>
            })}
            {shown(logged_in, move || view! {
                <button
                    {..attrs(&[("type", "button")])}
                    {..on(ev::click, move |_| {
                        transfers.cancel_all();
                        session.logout();
                    })}
                >
                    "Log out"
                </button>
            })}
            <button
                {..attrs(&[("type", "button")])}
                {..on(ev::click, move |_| {
                    transfers.cancel_all();
                    session.disconnect();
                })}
            >
                "Disconnect"
            </button>
        </div>
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
