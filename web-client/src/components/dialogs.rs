//! The file manager's dialogs: confirm a delete, "Move to…", the list of
//! keyboard shortcuts, and the preview. Each is modal, takes the focus when
//! it opens, and closes with Escape.

use crate::components::file_table::use_ui;
use crate::components::icons::{Action, ActionIcon};
use crate::components::{attr, attrs, effect, on, reactive, Reactive};
use crate::format;
use crate::model::{child, dir_text, use_model, MoveBrowse, PreviewBody};
use crate::session::{use_session, TEXT_PREVIEW_BYTES};
use crate::transfers::use_transfers;
use ferry_proto::{Name, Path};
use leptos::either::{EitherOf3, EitherOf4};
use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// A modal box: `title` labels it, Escape and the backdrop close it, and
/// the button `focus` selects (inside the box) takes the focus.
#[component]
fn Modal(
    id: &'static str,
    title: Reactive<String>,
    on_close: Callback<()>,
    focus: &'static str,
    #[prop(optional)] wide: bool,
    children: Children,
) -> impl IntoView {
    // The button by a selector, not a NodeRef<Button>: each element type's
    // NodeRef is code of its own. Effects run once the view is mounted.
    effect(move |_| {
        let button = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.query_selector(&format!("#{id} {focus}")).ok().flatten())
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(button) = button {
            let _ = button.focus();
        }
    });
    let title_id = format!("{id}-title");
    let labelled_by = title_id.clone();
    // As `class:wide=wide` would make it, without an attribute type of its own.
    let frame: &'static [(&str, &str)] = if wide {
        &[
            ("class", "dialog wide"),
            ("role", "dialog"),
            ("aria-modal", "true"),
        ]
    } else {
        &[
            ("class", "dialog"),
            ("role", "dialog"),
            ("aria-modal", "true"),
        ]
    };
    view! {
        <div class="backdrop" {..on(ev::click, move |_| on_close.run(()))}>
            <div
                {..attrs(frame)}
                {..attr("id", id)}
                {..attr("aria-labelledby", labelled_by)}
                {..on(ev::click, |ev| ev.stop_propagation())}
                {..on(ev::keydown, move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Escape" {
                        ev.prevent_default();
                        on_close.run(());
                    }
                })}
            >
                <h2 {..attr("id", title_id)}>{title}</h2>
                {children()}
            </div>
        </div>
    }
}

/// "Delete …? (with what is inside)" with Yes and Cancel.
#[component]
pub fn DeleteDialog() -> impl IntoView {
    let model = use_model();
    let session = use_session();
    reactive(move || {
        model.delete_plan().map(|plan| {
            let question = plan.question();
            let entries = plan.entries.clone();
            let close = Callback::new(move |()| model.ask_delete(None));
            view! {
                <Modal id="delete-dialog" title=reactive(|| "Delete".to_string()) on_close=close focus=".form-actions > :last-child">
                    <div {..attrs(&[("class", "confirm"), ("role", "group"), ("aria-label", "Confirm delete")])}>
                        <p>{question}</p>
                        <p class="hint">"This cannot be undone."</p>
                        <div class="form-actions">
                            <button
                                {..attrs(&[("type", "button"), ("class", "danger")])}
                                {..on(ev::click, move |_| {
                                    model.ask_delete(None);
                                    session.remove(entries.clone());
                                })}
                            >
                                "Yes, delete"
                            </button>
                            <button {..attrs(&[("type", "button")])} {..on(ev::click, move |_| close.run(()))}>
                                "Cancel"
                            </button>
                        </div>
                    </div>
                </Modal>
            }
            .into_any()
        })
    })
}

/// "Move to…": browse the folders, then Move here.
#[component]
pub fn MoveDialog() -> impl IntoView {
    let model = use_model();
    let session = use_session();
    let ui = use_ui();
    reactive(move || {
        model.move_browse().map(|MoveBrowse { dir, folders }| {
            let moving = ui.moving.get();
            let title = reactive(move || {
                let n = ui.moving.with(Vec::len);
                if n == 1 {
                    format!("Move “{}” to…", ui.moving.with(|m| m[0].last_name().into_string()))
                } else {
                    format!("Move {n} items to…")
                }
            });
            let close = Callback::new(move |()| model.set_move_browse(None));
            let up = dir.clone().map(|d| d.parent());
            let here = dir.clone();
            let target = dir_text(&dir);
            let list = match folders {
                None => EitherOf3::A(view! { <p class="hint">"Loading…"</p> }),
                Some(folders) => {
                    let choices: Vec<_> = folders
                        .into_iter()
                        .filter_map(|f| Name::new(f).ok())
                        .filter_map(|f| child(&dir, &f).ok())
                        .filter(|p| !moving.iter().any(|m| p.is_within(m)))
                        .collect();
                    if choices.is_empty() {
                        EitherOf3::B(view! { <p class="hint">"No folders in here."</p> })
                    } else {
                        EitherOf3::C(choices
                            .into_iter()
                            .map(|p| {
                                let label = p.last_name().into_string();
                                let open = p.clone();
                                view! {
                                    <li>
                                        <button {..attrs(&[("type", "button"), ("class", "folder-choice")])} {..on(ev::click, move |_| session.browse(Some(open.clone())))}>
                                            {label}
                                        </button>
                                    </li>
                                }
                            })
                            .collect_view())
                    }
                }
            };
            view! {
                <Modal id="move-dialog" title=title on_close=close focus=".form-actions > :first-child">
                    <p>"Into: " <strong {..attrs(&[("id", "move-target")])}>{target}</strong></p>
                    {up.map(|up| view! {
                        <button {..attrs(&[("type", "button"), ("class", "quiet")])} {..on(ev::click, move |_| session.browse(up.clone()))}>
                            <ActionIcon action=Action::Up />
                            "Up one folder"
                        </button>
                    })}
                    <ul class="folder-list">{list}</ul>
                    <div class="form-actions">
                        <button
                            {..attrs(&[("type", "button"), ("class", "primary")])}
                            {..on(ev::click, move |_| {
                                model.set_move_browse(None);
                                session.move_into(ui.moving.get_untracked(), here.clone());
                            })}
                        >
                            "Move here"
                        </button>
                        <button {..attrs(&[("type", "button")])} {..on(ev::click, move |_| close.run(()))}>"Cancel"</button>
                    </div>
                </Modal>
            }
            .into_any()
        })
    })
}

/// The list of keyboard shortcuts.
#[component]
pub fn ShortcutsDialog() -> impl IntoView {
    let ui = use_ui();
    reactive(move || {
        ui.shortcuts.get().then(|| {
            let close = Callback::new(move |()| ui.shortcuts.set(false));
            view! {
                <Modal id="shortcuts-dialog" title=reactive(|| "Keyboard shortcuts".to_string()) on_close=close focus=".form-actions > :last-child">
                    // Written out, not a loop over a table: a `view!` tree of
                    // literals alone is built from its HTML, in one step.
                    <dl class="shortcuts">
                        <dt><kbd>"Enter"</kbd></dt><dd>"open the folder, or preview the file"</dd>
                        <dt><kbd>"Backspace"</kbd></dt><dd>"go up one folder"</dd>
                        <dt><kbd>"F2"</kbd></dt><dd>"rename"</dd>
                        <dt><kbd>"Delete"</kbd></dt><dd>"delete the selection"</dd>
                        <dt><kbd>"Ctrl+A"</kbd></dt><dd>"select everything shown"</dd>
                        <dt><kbd>"Shift+Click, Ctrl+Click"</kbd></dt><dd>"select a range, add to the selection"</dd>
                        <dt><kbd>"↑ ↓"</kbd></dt><dd>"move between rows (with Shift: select)"</dd>
                        <dt><kbd>"/"</kbd></dt><dd>"filter this folder"</dd>
                        <dt><kbd>"Escape"</kbd></dt><dd>"clear the selection, close a dialog"</dd>
                        <dt><kbd>"?"</kbd></dt><dd>"this list"</dd>
                    </dl>
                    <div class="form-actions">
                        <button {..attrs(&[("type", "button")])} {..on(ev::click, move |_| close.run(()))}>"Close"</button>
                    </div>
                </Modal>
            }
            .into_any()
        })
    })
}

/// A file's preview, with Download.
#[component]
pub fn PreviewDialog() -> impl IntoView {
    let model = use_model();
    let transfers = use_transfers();
    reactive(move || {
        model.preview().map(|preview| {
            let name = preview.path.last_name().into_string();
            let title = reactive({
                let name = name.clone();
                move || name.clone()
            });
            let close = Callback::new(move |()| model.show_preview(None));
            let size = preview.size;
            let body = match preview.body {
                PreviewBody::Loading => EitherOf4::A(view! { <p class="hint">"Loading…"</p> }),
                PreviewBody::Text { text, truncated } => EitherOf4::B(view! {
                    {truncated.then(|| view! {
                        <p {..attrs(&[("class", "truncated"), ("id", "preview-truncated")])}>
                            {format!("Showing the first {} only — download the file for all {}.", format::human_size(TEXT_PREVIEW_BYTES), format::human_size(size))}
                        </p>
                    })}
                    <pre {..attrs(&[("id", "preview-text"), ("class", "preview-text"), ("tabindex", "0")])}>{text}</pre>
                }),
                PreviewBody::Image(url) => EitherOf4::C(view! {
                    <img {..attrs(&[("id", "preview-image"), ("class", "preview-image")])} {..attr("src", url)} {..attr("alt", format!("Preview of {name}"))} />
                }),
                PreviewBody::Unavailable(why) => EitherOf4::D(view! { <p class="hint">{why}</p> }),
            };
            let path: Path = preview.path.clone();
            let dir = path.parent();
            view! {
                <Modal id="preview-dialog" title=title on_close=close focus=".form-actions > :last-child" wide=true>
                    <p class="hint">{format!("{} · in {}", format::human_size(size), dir_text(&dir))}</p>
                    <div class="preview-body">{body}</div>
                    <div class="form-actions">
                        <button
                            {..attrs(&[("type", "button"), ("class", "primary")])}
                            {..on(ev::click, move |_| transfers.download(path.clone()))}
                        >
                            "Download"
                        </button>
                        <button {..attrs(&[("type", "button")])} {..on(ev::click, move |_| close.run(()))}>"Close"</button>
                    </div>
                </Modal>
            }
            .into_any()
        })
    })
}
