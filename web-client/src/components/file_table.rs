//! The server's files: sortable table with download and delete.

use crate::format;
use crate::model::use_model;
use crate::session::{use_session, Rows};
use ferry_proto::{ListingEntry, Name};
use leptos::prelude::*;
use std::cmp::Ordering;

/// The column the table is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKey {
    Name,
    Size,
    Modified,
}

/// How the table is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sort {
    key: SortKey,
    ascending: bool,
}

impl Sort {
    fn compare(self, a: &ListingEntry, b: &ListingEntry) -> Ordering {
        let by_name = || a.name.as_str().cmp(b.name.as_str());
        let order = match self.key {
            SortKey::Name => by_name(),
            SortKey::Size => a.size().cmp(&b.size()).then_with(by_name),
            SortKey::Modified => a.modified.cmp(&b.modified).then_with(by_name),
        };
        if self.ascending {
            order
        } else {
            order.reverse()
        }
    }
}

/// The file table panel.
#[component]
pub fn FileTable() -> impl IntoView {
    let model = use_model();
    let session = use_session();
    let sort = RwSignal::new(Sort {
        key: SortKey::Name,
        ascending: true,
    });
    // The file whose delete button was pressed and awaits confirmation.
    let confirming = RwSignal::new(None::<String>);
    let rows = move || {
        let mut files = model.files();
        let sort = sort.get();
        files.sort_by(|a, b| sort.compare(a, b));
        files
    };
    let empty = move || {
        if model.is_connected() {
            "No files on the server."
        } else {
            "Connect to see the server's files."
        }
    };
    view! {
        <section class="panel files" aria-labelledby="files-title">
            <div class="panel-head">
                <h2 id="files-title">"Files"</h2>
                <button
                    type="button"
                    id="refresh"
                    prop:disabled=move || !model.is_connected()
                    on:click=move |_| session.list(Rows::TableOnly)
                >
                    "Refresh"
                </button>
            </div>
            <div class="table-wrap">
                <table id="file-table">
                    <thead>
                        <tr>
                            <SortHeader sort=sort by=SortKey::Name label="Name" column="name" />
                            <SortHeader sort=sort by=SortKey::Size label="Size" column="size" />
                            <SortHeader
                                sort=sort
                                by=SortKey::Modified
                                label="Modified"
                                column="modified"
                            />
                            <th scope="col" class="actions">
                                <span class="visually-hidden">"Actions"</span>
                            </th>
                        </tr>
                    </thead>
                    <tbody>
                        <For
                            each=rows
                            key=|e: &ListingEntry| (e.name.as_str().to_string(), e.size(), e.modified)
                            children=move |entry| view! { <FileRow entry=entry confirming=confirming /> }
                        />
                    </tbody>
                </table>
                <Show when=move || model.has_no_files()>
                    <p class="empty">{empty}</p>
                </Show>
            </div>
        </section>
    }
}

/// A column header that sorts the table by its column; a second click reverses the order.
#[component]
fn SortHeader(
    sort: RwSignal<Sort>,
    by: SortKey,
    label: &'static str,
    column: &'static str,
) -> impl IntoView {
    // Whether the table is sorted by this column, and which way.
    let order = move || sort.with(|s| (s.key == by).then_some(s.ascending));
    let aria_sort = move || match order() {
        None => "none",
        Some(true) => "ascending",
        Some(false) => "descending",
    };
    let arrow = move || match order() {
        None => "",
        Some(true) => " ▲",
        Some(false) => " ▼",
    };
    let on_click = move |_| {
        sort.update(|s| {
            if s.key == by {
                s.ascending = !s.ascending;
            } else {
                *s = Sort {
                    key: by,
                    ascending: true,
                };
            }
        })
    };
    view! {
        <th scope="col" class=column aria-sort=aria_sort>
            <button type="button" class="sort" on:click=on_click>
                {label}
                <span aria-hidden="true">{arrow}</span>
            </button>
        </th>
    }
}

/// One file: name, size, time, and its actions.
#[component]
fn FileRow(entry: ListingEntry, confirming: RwSignal<Option<String>>) -> impl IntoView {
    let shown = entry.name.as_str().to_string();
    let is_confirming = {
        let shown = shown.clone();
        move || confirming.get().as_deref() == Some(shown.as_str())
    };
    // The table holds files only (see Model::set_files).
    let size = entry.size().unwrap_or(0);
    let name = entry.name.clone();
    let actions = {
        let name = name.clone();
        move || view! { <RowActions name=name.clone() confirming=confirming /> }
    };
    view! {
        <tr data-name=shown.clone()>
            <td class="name">{shown.clone()}</td>
            <td class="size" title=format!("{} bytes", size) data-bytes=size>
                {format::human_size(size)}
            </td>
            <td class="modified" title=entry.modified_rfc3339()>
                {format::modified(&entry)}
            </td>
            <td class="actions">
                <div class="row-actions">
                    <Show when=is_confirming fallback=actions>
                        <ConfirmDelete name=name.clone() confirming=confirming />
                    </Show>
                </div>
            </td>
        </tr>
    }
}

/// Download and delete buttons of a row.
#[component]
fn RowActions(name: Name, confirming: RwSignal<Option<String>>) -> impl IntoView {
    let model = use_model();
    let session = use_session();
    let shown = name.as_str().to_string();
    let asked = shown.clone();
    view! {
        <button
            type="button"
            aria-label=format!("Download {shown}")
            prop:disabled=move || !model.is_connected()
            on:click=move |_| session.retrieve(name.clone())
        >
            "Download"
        </button>
        <button
            type="button"
            class="danger"
            aria-label=format!("Delete {shown}")
            prop:disabled=move || !model.is_connected()
            on:click=move |_| confirming.set(Some(asked.clone()))
        >
            "Delete"
        </button>
    }
}

/// "Delete this file?" with yes and cancel.
#[component]
fn ConfirmDelete(name: Name, confirming: RwSignal<Option<String>>) -> impl IntoView {
    let session = use_session();
    let question = format!("Delete “{}”?", name);
    let yes = move |_| {
        confirming.set(None);
        session.delete(name.clone());
    };
    view! {
        <span class="confirm" role="group" aria-label="Confirm delete">
            {question}
            <button type="button" class="danger" on:click=yes>
                "Yes, delete"
            </button>
            <button type="button" on:click=move |_| confirming.set(None)>
                "Cancel"
            </button>
        </span>
    }
}
