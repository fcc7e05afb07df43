//! The transfer panel: upload files or a folder (buttons and drop zone),
//! and the list of transfers, each with progress, speed, time left, Cancel
//! and, for a stored upload, Verify.

use crate::components::{attr, attrs, field, on, reactive, rows, Row, RowKey};
use crate::format;
use crate::model::{use_model, Direction, Transfer, TransferStatus};
use crate::transfers::{self, use_transfers, Verify};
use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::FileList;

/// The files of a `FileList`, in order.
fn files_of(list: Option<FileList>) -> Vec<web_sys::File> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// The upload area and the transfer list. Its file picker, `#file-input`,
/// is the console's STORE's too; uploads go into the folder shown, as
/// the model has it when they start (read there, not through a derived
/// signal prop, which was code of its own for this one use).
#[component]
pub fn Transfers() -> impl IntoView {
    let model = use_model();
    view! {
        <section {..attrs(&[("class", "panel transfers"), ("aria-labelledby", "transfers-title")])}>
            <div class="panel-head">
                <h2 id="transfers-title">"Transfers"</h2>
                <button {..attrs(&[("type", "button"), ("class", "quiet")])} {..on(ev::click, move |_| model.clear_finished())}>
                    "Clear finished"
                </button>
            </div>
            <DropZone />
            <ul {..attrs(&[("id", "transfer-list"), ("class", "transfer-list")])}>
                {rows(move || {
                    model
                        .transfers()
                        .into_iter()
                        .map(|t| Row::new(RowKey::Id(t.id), move || view! { <TransferRow transfer=t /> }.into_any()))
                        .collect()
                })}
            </ul>
        </section>
    }
}

/// The upload buttons with their hidden pickers, the Verify option, and the drop target.
#[component]
fn DropZone() -> impl IntoView {
    let model = use_model();
    let transfers = use_transfers();
    let dragging = RwSignal::new(false);
    let on_change = move |_| {
        if let Some(input) = field("#file-input") {
            transfers.upload_files(files_of(input.files()), model.cwd_untracked());
            // Lets the same file be chosen again.
            input.set_value("");
        }
    };
    let on_folder = move |_| {
        if let Some(input) = field("#folder-input") {
            if let Some(list) = input.files() {
                let (dirs, files) = transfers::picked(&list);
                transfers.upload_tree(dirs, files, model.cwd_untracked());
            }
            input.set_value("");
        }
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        let Some(data) = ev.data_transfer() else {
            return;
        };
        // The entries must be taken during the event; reading them may wait.
        let files = files_of(data.files());
        let into = model.cwd_untracked();
        spawn_local(async move {
            match transfers::dropped(&data).await {
                Ok(Some((dirs, files))) => transfers.upload_tree(dirs, files, into),
                Ok(None) if !files.is_empty() => transfers.upload_files(files, into),
                Ok(None) => {}
                Err(why) => model.error(format!("Cannot read the dropped folder: {why}.")),
            }
        });
    };
    let open = move |picker: &str| {
        if let Some(input) = field(picker) {
            input.click();
        }
    };
    let verify = transfers.verify_uploads();
    let disabled = reactive(move || !model.is_connected());
    view! {
        <div
            {..attrs(&[("id", "drop-zone"), ("class", "drop-zone")])}
            class:dragging=move || dragging.get()
            {..on(ev::dragenter, move |ev: leptos::ev::DragEvent| {
                ev.prevent_default();
                dragging.set(true);
            })}
            {..on(ev::dragover, move |ev: leptos::ev::DragEvent| ev.prevent_default())}
            {..on(ev::dragleave, move |_| dragging.set(false))}
            {..on(ev::drop, on_drop)}
        >
            <input
                {..attrs(&[
                    ("id", "file-input"),
                    ("class", "visually-hidden"),
                    ("type", "file"),
                    ("multiple", ""),
                    ("tabindex", "-1"),
                    ("aria-label", "Files to upload"),
                ])}
                {..on(ev::change, on_change)}
            />
            <input
                {..attrs(&[
                    ("id", "folder-input"),
                    ("class", "visually-hidden"),
                    ("type", "file"),
                    ("tabindex", "-1"),
                    ("aria-label", "Folder to upload"),
                    // The attribute the `webkitdirectory` property reflects.
                    ("webkitdirectory", ""),
                ])}
                {..on(ev::change, on_folder)}
            />
            <button
                {..attrs(&[("type", "button"), ("class", "primary"), ("id", "upload-button")])}
                prop:disabled=disabled.clone()
                {..on(ev::click, move |_| open("#file-input"))}
            >
                "Upload files…"
            </button>
            <button
                {..attrs(&[("type", "button"), ("id", "upload-folder-button")])}
                prop:disabled={disabled}
                {..on(ev::click, move |_| open("#folder-input"))}
            >
                "Upload folder…"
            </button>
            <span class="hint">"or drop files and folders here"</span>
            <label class="verify-option">
                // What `bind:checked` does (the property from the signal, the
                // signal from `change`), with the property and handler types
                // the page has anyway instead of a binding type for this one box.
                <input
                    {..attrs(&[("type", "checkbox"), ("id", "verify-uploads")])}
                    prop:checked=move || verify.get()
                    {..on(ev::change, move |ev| verify.set(event_target_checked(&ev)))}
                />
                "Verify uploads (SHA-256)"
            </label>
        </div>
    }
}

/// One transfer: direction, name, progress bar, speed and time left, status, Cancel.
#[component]
fn TransferRow(transfer: Transfer) -> impl IntoView {
    let transfers = use_transfers();
    let name = transfer.name();
    let arrow = match transfer.direction {
        Direction::Download => "↓ Download",
        Direction::Upload => "↑ Upload",
    };
    // A String, as the page's other reactive attributes are.
    let state = move || {
        match transfer.status() {
            TransferStatus::Queued => "queued",
            TransferStatus::Running => "running",
            TransferStatus::Retrying(_) => "retrying",
            TransferStatus::Done(_) => "done",
            TransferStatus::Failed(_) => "failed",
            TransferStatus::Cancelled => "cancelled",
        }
        .to_string()
    };
    let detail = move || {
        let done = transfer.moved();
        let amount = match transfer.total() {
            Some(total) => format!(
                "{}% · {} of {}",
                format::percent(done, total),
                format::human_size(done),
                format::human_size(total)
            ),
            None => format::human_size(done),
        };
        match transfer.status() {
            TransferStatus::Queued => "queued: waiting for a free connection".to_string(),
            TransferStatus::Running => match (transfer.rate(), transfer.seconds_left()) {
                (Some(rate), Some(left)) => format!(
                    "{amount} · {}/s · {} left",
                    format::human_size(rate as u64),
                    duration(left)
                ),
                _ => amount,
            },
            TransferStatus::Retrying(when) => format!("{amount} · {when}"),
            TransferStatus::Done(how) => format!("done — {how}"),
            TransferStatus::Failed(why) => format!("failed — {why}"),
            TransferStatus::Cancelled => match transfer.direction {
                Direction::Upload => "cancelled — nothing was stored".to_string(),
                Direction::Download => "cancelled — nothing saved".to_string(),
            },
        }
    };
    // As text, as the attribute holds them: a reactive String attribute is
    // compiled for the page's other attributes already, a u64 one would not be.
    let max = move || transfer.total().unwrap_or(0).max(1).to_string();
    let value = move || {
        match transfer.total() {
            Some(0) => 1,
            _ => transfer.moved(),
        }
        .to_string()
    };
    // Cancel while it may still move bytes; Verify once an upload is stored.
    let action = move || {
        let id = transfer.id;
        let (text, label, cancel) = match transfer.status() {
            // Once an upload's last byte is out, closing cannot stop it.
            TransferStatus::Running
                if transfer.direction == Direction::Upload
                    && transfer
                        .total()
                        .is_some_and(|total| transfer.moved() >= total) =>
            {
                return None
            }
            TransferStatus::Queued | TransferStatus::Running | TransferStatus::Retrying(_) => {
                ("Cancel", format!("Cancel {}", transfer.name()), true)
            }
            TransferStatus::Done(_) if transfer.direction == Direction::Upload => {
                ("Verify", format!("Verify {}", transfer.name()), false)
            }
            _ => return None,
        };
        let act = move |_| {
            if cancel {
                transfers.cancel(id)
            } else {
                transfers.verify(id)
            }
        };
        Some(view! {
            <button {..attrs(&[("type", "button"), ("class", "quiet transfer-action")])} {..attr("aria-label", label)} {..on(ev::click, act)}>
                {text}
            </button>
        }
        .into_any())
    };
    let verdict = move || {
        transfer.verify().map(|verify| {
            let (class, text) = match verify {
                Verify::Checking => ("checking", "verifying: hashing the file…".to_string()),
                Verify::Match(digest) => ("match", format!("verified: SHA-256 matches ({digest})")),
                Verify::Mismatch { local, server } => (
                    "mismatch",
                    format!("MISMATCH: this file's SHA-256 is {local}, the server's is {server}"),
                ),
                Verify::Failed(why) => ("error", format!("could not verify: {why}")),
            };
            view! { <p class="transfer-verify" data-verify=class>{text}</p> }.into_any()
        })
    };
    let label = format!("{arrow} of {name}");
    view! {
        <li class="transfer" data-name=name.clone() data-state=reactive(state) data-id=transfer.id>
            <div class="transfer-head">
                <span class="direction">{arrow}</span>
                <span class="transfer-name">{name.clone()}</span>
                {reactive(action)}
            </div>
            <progress
                {..attr("max", reactive(max))}
                {..attr("value", reactive(value))}
                {..attr("aria-label", label)}
            ></progress>
            <p class="transfer-detail">{reactive(detail)}</p>
            {reactive(verdict)}
        </li>
    }
}

/// `75.2` → `"1 min 15 s"`.
fn duration(seconds: f64) -> String {
    let seconds = seconds.round() as u64;
    match seconds {
        0..=59 => format!("{seconds} s"),
        60..=3599 => format!("{} min {} s", seconds / 60, seconds % 60),
        _ => format!("{} h {} min", seconds / 3600, seconds % 3600 / 60),
    }
}
