//! The connection badge in the header and the notice bar under it.

use crate::components::{attr, attrs, effect, on, reactive};
use crate::model::{use_model, ConnState, Notice};
use leptos::ev;
use leptos::prelude::*;

/// Always-visible connection state.
#[component]
pub fn ConnectionBadge() -> impl IntoView {
    let model = use_model();
    let text = move || match model.state() {
        ConnState::Disconnected => "Disconnected".to_string(),
        ConnState::Connecting => "Connecting…".to_string(),
        ConnState::Connected => match model.busy() {
            Some(command) => format!("Connected · {command}"),
            None => "Connected".to_string(),
        },
    };
    // A String, as the page's other reactive attributes are.
    let class = move || {
        match model.state() {
            ConnState::Disconnected => "badge off",
            ConnState::Connecting => "badge pending",
            ConnState::Connected => "badge on",
        }
        .to_string()
    };
    view! {
        <p
            {..attrs(&[("id", "connection-state"), ("role", "status"), ("aria-live", "polite")])}
            {..attr("class", reactive(class))}
        >
            <span class="dot" aria-hidden="true"></span>
            {reactive(text)}
        </p>
    }
}

/// How long an info notice stays before it goes by itself (errors stay).
const INFO_NOTICE_MS: u64 = 6000;

/// The latest error or notice, dismissible, over the page's corner (it
/// never pushes the file list around).
#[component]
pub fn NoticeBar() -> impl IntoView {
    let model = use_model();
    effect(move |_| {
        if let Some(Notice::Info(text)) = model.notice() {
            set_timeout(
                move || {
                    if model.notice_untracked() == Some(Notice::Info(text)) {
                        model.dismiss_notice();
                    }
                },
                std::time::Duration::from_millis(INFO_NOTICE_MS),
            );
        }
    });
    reactive(move || {
        model.notice().map(|notice| {
            let (class, role, text) = match notice {
                Notice::Error(text) => ("notice error", "alert", text),
                Notice::Info(text) => ("notice info", "status", text),
            };
            view! {
                <div {..attrs(&[("id", "notice")])} {..attr("role", role)} class=class>
                    <p>{text}</p>
                    <button
                        {..attrs(&[("type", "button"), ("class", "quiet"), ("aria-label", "Dismiss message")])}
                        {..on(ev::click, move |_| model.dismiss_notice())}
                    >
                        "×"
                    </button>
                </div>
            }
            .into_any()
        })
    })
}
