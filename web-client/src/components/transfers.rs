//! Uploads (file picker and drag and drop) and the list of transfers with progress bars.

use crate::format;
use crate::model::{use_model, Direction, Transfer, TransferStatus};
use crate::session::use_session;
use leptos::html::Input;
use leptos::prelude::*;
use web_sys::FileList;

/// The files of a `FileList`, in order.
fn files_of(list: Option<FileList>) -> Vec<web_sys::File> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// The upload area and the transfer list.
#[component]
pub fn Transfers(file_input: NodeRef<Input>) -> impl IntoView {
    let model = use_model();
    view! {
        <section class="panel transfers" aria-labelledby="transfers-title">
            <div class="panel-head">
                <h2 id="transfers-title">"Transfers"</h2>
                <button type="button" class="quiet" on:click=move |_| model.clear_finished()>
                    "Clear finished"
                </button>
            </div>
            <DropZone file_input=file_input />
            <ul id="transfer-list" class="transfer-list">
                <For
                    each=move || model.transfers()
                    key=|t: &Transfer| t.id
                    children=|t: Transfer| view! { <TransferRow transfer=t /> }
                />
            </ul>
        </section>
    }
}

/// The upload button with its hidden file picker, and the drop target.
#[component]
fn DropZone(file_input: NodeRef<Input>) -> impl IntoView {
    let model = use_model();
    let session = use_session();
    let dragging = RwSignal::new(false);
    let on_change = move |_| {
        if let Some(input) = file_input.get() {
            session.store_files(files_of(input.files()));
            // Lets the same file be chosen again.
            input.set_value("");
        }
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        let files = files_of(ev.data_transfer().and_then(|d| d.files()));
        if !files.is_empty() {
            session.store_files(files);
        }
    };
    let open_picker = move |_| {
        if let Some(input) = file_input.get() {
            input.click();
        }
    };
    view! {
        <div
            id="drop-zone"
            class="drop-zone"
            class:dragging=move || dragging.get()
            on:dragenter=move |ev: leptos::ev::DragEvent| {
                ev.prevent_default();
                dragging.set(true);
            }
            on:dragover=move |ev: leptos::ev::DragEvent| ev.prevent_default()
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop
        >
            <input
                id="file-input"
                class="visually-hidden"
                type="file"
                multiple
                tabindex="-1"
                node_ref=file_input
                on:change=on_change
                aria-label="Files to upload"
            />
            <button
                type="button"
                class="primary"
                id="upload-button"
                prop:disabled=move || !model.is_connected()
                on:click=open_picker
            >
                "Upload files…"
            </button>
            <span class="hint">"or drop files here"</span>
        </div>
    }
}

/// One transfer: direction, name, progress bar, status.
#[component]
fn TransferRow(transfer: Transfer) -> impl IntoView {
    let name = transfer.name();
    let arrow = match transfer.direction {
        Direction::Download => "↓ Download",
        Direction::Upload => "↑ Upload",
    };
    let state = move || match transfer.status() {
        TransferStatus::Queued => "queued",
        TransferStatus::Running => "running",
        TransferStatus::Done(_) => "done",
        TransferStatus::Failed(_) => "failed",
    };
    let detail = move || {
        let done = transfer.moved();
        let total = transfer.total();
        let amount = match total {
            Some(total) => format!(
                "{}% · {} of {}",
                format::percent(done, total),
                format::human_size(done),
                format::human_size(total)
            ),
            None => format::human_size(done),
        };
        match transfer.status() {
            TransferStatus::Queued => "waiting…".to_string(),
            TransferStatus::Running => amount,
            TransferStatus::Done(how) => format!("done — {how}"),
            TransferStatus::Failed(why) => format!("failed — {why}"),
        }
    };
    let max = move || transfer.total().unwrap_or(0).max(1) as f64;
    let value = move || match transfer.total() {
        Some(0) => 1.0,
        _ => transfer.moved() as f64,
    };
    view! {
        <li class="transfer" data-name=name.clone() data-state=state>
            <div class="transfer-head">
                <span class="direction">{arrow}</span>
                <span class="transfer-name">{name.clone()}</span>
            </div>
            <progress max=max value=value aria-label=format!("{arrow} of {name}")></progress>
            <p class="transfer-detail">{detail}</p>
        </li>
    }
}
