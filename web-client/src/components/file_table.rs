//! The server's files: sortable table with download and delete.

use crate::format;
use crate::session::{ConnState, Session};
use ferry_proto::{Command, ListingEntry};
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
            SortKey::Size => a.size.cmp(&b.size).then_with(by_name),
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
pub fn FileTable(session: Session) -> impl IntoView {
    let sort = RwSignal::new(Sort {
        key: SortKey::Name,
        ascending: true,
    });
    // The file whose delete button was pressed and awaits confirmation.
    let confirming = RwSignal::new(None::<String>);
    let connected = move || session.state.get() == ConnState::Connected;
    let rows = move || {
        let mut files = session.files.get();
        let sort = sort.get();
        files.sort_by(|a, b| sort.compare(a, b));
        files
    };
    let header = move |key: SortKey, label: &'static str, class: &'static str| {
        let aria_sort = move || {
            let s = sort.get();
            match (s.key == key, s.ascending) {
                (false, _) => "none",
                (true, true) => "ascending",
                (true, false) => "descending",
            }
        };
        let arrow = move || {
            let s = sort.get();
            match (s.key == key, s.ascending) {
                (false, _) => "",
                (true, true) => " ▲",
                (true, false) => " ▼",
            }
        };
        view! {
            <th scope="col" class=class aria-sort=aria_sort>
                <button
                    type="button"
                    class="sort"
                    on:click=move |_| {
                        sort.update(|s| {
                            if s.key == key {
                                s.ascending = !s.ascending;
                            } else {
                                *s = Sort { key, ascending: true };
                            }
                        })
                    }
                >
                    {label}
                    <span aria-hidden="true">{arrow}</span>
                </button>
            </th>
        }
    };
    let row = move |entry: ListingEntry| {
        let name = entry.name.clone();
        let (download, delete, confirm) = (name.clone(), name.as_str().to_string(), name.clone());
        let shown = name.as_str().to_string();
        let label = shown.clone();
        let is_confirming = {
            let name = name.as_str().to_string();
            move || confirming.get().as_deref() == Some(name.as_str())
        };
        view! {
            <tr data-name=shown.clone()>
                <td class="name">{shown.clone()}</td>
                <td class="size" title=format!("{} bytes", entry.size) data-bytes=entry.size>
                    {format::human_size(entry.size)}
                </td>
                <td class="modified" title=entry.modified_rfc3339()>
                    {format::modified(&entry)}
                </td>
                <td class="actions">
                    <div class="row-actions">
                    <Show
                        when=is_confirming
                        fallback=move || {
                            let (download, delete) = (download.clone(), delete.clone());
                            let shown = label.clone();
                            view! {
                                <button
                                    type="button"
                                    aria-label=format!("Download {shown}")
                                    prop:disabled=move || !connected()
                                    on:click=move |_| session.retrieve(download.clone())
                                >
                                    "Download"
                                </button>
                                <button
                                    type="button"
                                    class="danger"
                                    aria-label=format!("Delete {shown}")
                                    prop:disabled=move || !connected()
                                    on:click=move |_| confirming.set(Some(delete.clone()))
                                >
                                    "Delete"
                                </button>
                            }
                        }
                    >
                        {
                            let confirm = confirm.clone();
                            view! {
                                <span class="confirm" role="group" aria-label="Confirm delete">
                                    {format!("Delete “{}”?", confirm)}
                                    <button
                                        type="button"
                                        class="danger"
                                        on:click={
                                            let confirm = confirm.clone();
                                            move |_| {
                                                confirming.set(None);
                                                session.simple(Command::Delete(confirm.clone()));
                                            }
                                        }
                                    >
                                        "Yes, delete"
                                    </button>
                                    <button type="button" on:click=move |_| confirming.set(None)>
                                        "Cancel"
                                    </button>
                                </span>
                            }
                        }
                    </Show>
                    </div>
                </td>
            </tr>
        }
    };
    view! {
        <section class="panel files" aria-labelledby="files-title">
            <div class="panel-head">
                <h2 id="files-title">"Files"</h2>
                <button
                    type="button"
                    id="refresh"
                    prop:disabled=move || !connected()
                    on:click=move |_| session.list(false)
                >
                    "Refresh"
                </button>
            </div>
            <div class="table-wrap">
                <table id="file-table">
                    <thead>
                        <tr>
                            {header(SortKey::Name, "Name", "name")}
                            {header(SortKey::Size, "Size", "size")}
                            {header(SortKey::Modified, "Modified", "modified")}
                            <th scope="col" class="actions">
                                <span class="visually-hidden">"Actions"</span>
                            </th>
                        </tr>
                    </thead>
                    <tbody>
                        <For
                            each=rows
                            key=|e: &ListingEntry| (e.name.as_str().to_string(), e.size, e.modified)
                            children=row
                        />
                    </tbody>
                </table>
                <Show when=move || session.files.with(Vec::is_empty)>
                    <p class="empty">
                        {move || {
                            if connected() { "No files on the server." } else { "Connect to see the server's files." }
                        }}
                    </p>
                </Show>
            </div>
        </section>
    }
}
