//! The page: header with the connection state, notices, and the four panels.

use crate::browser;
use crate::components::{
    connect_form::ConnectForm, console::Console, file_table::FileTable, transfers::Transfers,
};
use crate::session::{ConnState, Notice, Session};
use leptos::html::Input;
use leptos::prelude::*;

/// The whole application.
#[component]
pub fn App() -> impl IntoView {
    let session = Session::new();
    // Shared by the connect form and the console's CONNECT command.
    let bridge_url = RwSignal::new(browser::default_bridge_url());
    // The upload file picker: opened by the upload button and by the console's STORE.
    let file_input: NodeRef<Input> = NodeRef::new();
    view! {
        <header class="top">
            <h1>"Ferry"</h1>
            <ConnectionBadge session=session />
        </header>
        <NoticeBar session=session />
        <main class="layout">
            <ConnectForm session=session bridge_url=bridge_url />
            <Transfers session=session file_input=file_input />
            <FileTable session=session />
            <Console session=session bridge_url=bridge_url file_input=file_input />
        </main>
    }
}

/// Always-visible connection state.
#[component]
fn ConnectionBadge(session: Session) -> impl IntoView {
    let text = move || match session.state.get() {
        ConnState::Disconnected => "Disconnected".to_string(),
        ConnState::Connecting => "Connecting…".to_string(),
        ConnState::Connected => match session.busy.get() {
            Some(command) => format!("Connected · {command}"),
            None => "Connected".to_string(),
        },
    };
    let class = move || match session.state.get() {
        ConnState::Disconnected => "badge off",
        ConnState::Connecting => "badge pending",
        ConnState::Connected => "badge on",
    };
    view! {
        <p id="connection-state" class=class role="status" aria-live="polite">
            <span class="dot" aria-hidden="true"></span>
            {text}
        </p>
    }
}

/// The latest error or notice, dismissible.
#[component]
fn NoticeBar(session: Session) -> impl IntoView {
    move || {
        session.notice.get().map(|notice| {
            let (class, role, text) = match notice {
                Notice::Error(text) => ("notice error", "alert", text),
                Notice::Info(text) => ("notice info", "status", text),
            };
            view! {
                <div id="notice" class=class role=role>
                    <p>{text}</p>
                    <button
                        type="button"
                        class="quiet"
                        aria-label="Dismiss message"
                        on:click=move |_| session.notice.set(None)
                    >
                        "×"
                    </button>
                </div>
            }
        })
    }
}
