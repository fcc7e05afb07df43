//! The file manager: breadcrumbs, filter, the sortable table of the folder
//! shown, selection (checkboxes, Shift/Ctrl-click, Ctrl+A), rename in place,
//! moves by drag and drop, and the page's keyboard shortcuts.
//!
//! The folder shown is the URL's fragment: opening a folder changes the
//! fragment and the app's `hashchange` listener lists it, so Back, Forward
//! and reload all go through the same path.

use crate::browser;
use crate::components::icons::{Action, ActionIcon, FileIcon, Kind};
use crate::components::{attr, attrs, effect, field, memo, on, reactive, rows, shown, Row, RowKey};
use crate::format;
use crate::model::{child, use_model, Entry, Model};
use crate::session::{use_session, Session};
use crate::transfers::{use_transfers, Transfers};
use ferry_proto::{ListingEntry, Name, Path};
use leptos::ev;
use leptos::prelude::*;
use std::cmp::Ordering;
use wasm_bindgen::JsCast;

/// The drag data type of entries dragged inside the page: their paths, one a line.
const DRAG_TYPE: &str = "application/x-ferry-paths";

/// The column the table is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKey {
    Name,
    Size,
    Modified,
}

/// How the table is sorted (folders always come first).
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
        let order = if self.ascending {
            order
        } else {
            order.reverse()
        };
        b.is_dir().cmp(&a.is_dir()).then(order)
    }
}

/// A set of names (the selection): sorted, without repeats. A sorted Vec
/// rather than a hash set, which brought hashing and its table (some KB)
/// into the page for this one set.
#[derive(Clone, Default)]
pub struct Names(Vec<String>);

impl Names {
    fn find(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|n| n.as_str().cmp(name))
    }

    pub fn contains(&self, name: &str) -> bool {
        self.find(name).is_ok()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds `name`; false if it was there.
    fn insert(&mut self, name: String) -> bool {
        match self.find(&name) {
            Ok(_) => false,
            Err(at) => {
                self.0.insert(at, name);
                true
            }
        }
    }

    /// Takes `name` out; false if it was not there.
    fn remove(&mut self, name: &str) -> bool {
        match self.find(name) {
            Ok(at) => {
                self.0.remove(at);
                true
            }
            Err(_) => false,
        }
    }

    fn extend(&mut self, names: Names) {
        self.0.extend(names.0);
        self.tidy();
    }

    fn tidy(&mut self) {
        crate::order::sort_by(&mut self.0, |a, b| a.cmp(b));
        self.0.dedup();
    }
}

impl FromIterator<String> for Names {
    fn from_iter<I: IntoIterator<Item = String>>(names: I) -> Names {
        let mut set = Names(names.into_iter().collect());
        set.tidy();
        set
    }
}

/// The file manager's own view state, shared by its parts through context.
#[derive(Clone, Copy)]
pub struct Ui {
    sort: RwSignal<Sort>,
    filter: RwSignal<String>,
    /// Names selected in the folder shown.
    selected: RwSignal<Names>,
    /// Where a Shift-click range starts.
    anchor: RwSignal<Option<String>>,
    /// The row with the keyboard focus.
    cursor: RwSignal<Option<String>>,
    /// The row being renamed.
    renaming: RwSignal<Option<String>>,
    /// Whether the "new folder" field is open.
    creating: RwSignal<bool>,
    /// What the "Move to…" dialog moves.
    pub moving: RwSignal<Vec<Path>>,
    /// Whether the list of shortcuts is open.
    pub shortcuts: RwSignal<bool>,
}

/// The file manager's view state, from context.
pub fn use_ui() -> Ui {
    expect_context::<Ui>()
}

impl Ui {
    fn new() -> Ui {
        Ui {
            sort: RwSignal::new(Sort {
                key: SortKey::Name,
                ascending: true,
            }),
            filter: RwSignal::new(String::new()),
            selected: RwSignal::new(Names::default()),
            anchor: RwSignal::new(None),
            cursor: RwSignal::new(None),
            renaming: RwSignal::new(None),
            creating: RwSignal::new(false),
            moving: RwSignal::new(Vec::new()),
            shortcuts: RwSignal::new(false),
        }
    }

    /// The rows shown: the folder's entries that match the filter, sorted.
    fn rows(&self, model: Model) -> Vec<ListingEntry> {
        let filter = crate::browser::lower_case(&self.filter.get());
        let mut rows: Vec<ListingEntry> = model
            .files()
            .into_iter()
            .filter(|e| {
                filter.is_empty() || crate::browser::lower_case(e.name.as_str()).contains(&filter)
            })
            .collect();
        let sort = self.sort.get();
        crate::order::sort_by(&mut rows, |a, b| sort.compare(a, b));
        rows
    }

    /// The entries an action applies to: the selection, or else the row with the focus.
    fn targets(&self, model: Model) -> Vec<ListingEntry> {
        let rows = untrack(|| self.rows(model));
        let selected = self.selected.get_untracked();
        if !selected.is_empty() {
            return rows
                .into_iter()
                .filter(|e| selected.contains(e.name.as_str()))
                .collect();
        }
        let cursor = self.cursor.get_untracked();
        rows.into_iter()
            .filter(|e| Some(e.name.as_str()) == cursor.as_deref())
            .collect()
    }

    /// A click on a row (or its checkbox, which always toggles).
    fn click(&self, model: Model, name: &str, shift: bool, toggle: bool) {
        if shift {
            let rows: Vec<String> = untrack(|| self.rows(model))
                .into_iter()
                .map(|e| e.name.into_string())
                .collect();
            let anchor = self
                .anchor
                .get_untracked()
                .unwrap_or_else(|| name.to_owned());
            let at = |n: &str| rows.iter().position(|r| r == n);
            if let (Some(a), Some(b)) = (at(&anchor), at(name)) {
                let (from, to) = (a.min(b), a.max(b));
                let range: Names = rows[from..=to].iter().cloned().collect();
                self.selected
                    .update(|s| if toggle { s.extend(range) } else { *s = range });
            }
        } else if toggle {
            self.selected.update(|s| {
                if !s.remove(name) {
                    s.insert(name.to_owned());
                }
            });
            self.anchor.set(Some(name.to_owned()));
        } else {
            self.selected.set(Names(vec![name.to_owned()]));
            self.anchor.set(Some(name.to_owned()));
        }
        self.cursor.set(Some(name.to_owned()));
    }

    fn select_all(&self, model: Model) {
        let all = untrack(|| self.rows(model))
            .into_iter()
            .map(|e| e.name.into_string())
            .collect();
        self.selected.set(all);
    }

    fn clear(&self) {
        self.selected.set(Names::default());
        self.anchor.set(None);
        self.cursor.set(None);
        self.renaming.set(None);
        self.creating.set(false);
    }
}

/// The path of `entry` in the folder shown.
fn path_of(model: Model, name: &Name) -> Option<Path> {
    child(&model.cwd_untracked(), name).ok()
}

fn entries_of(model: Model, rows: &[ListingEntry]) -> Vec<Entry> {
    rows.iter()
        .filter_map(|e| {
            path_of(model, &e.name).map(|path| Entry {
                path,
                is_dir: e.is_dir(),
            })
        })
        .collect()
}

/// Opens a folder (in the URL) or previews a file.
fn open(model: Model, session: Session, entry: &ListingEntry) {
    let Some(path) = path_of(model, &entry.name) else {
        return;
    };
    if entry.is_dir() {
        browser::open_dir(&Some(path));
    } else {
        session.preview(path, entry.size().unwrap_or(0));
    }
}

/// Downloads the files among `rows`, each on its own connection (folders
/// are skipped, with a word).
fn download_files(model: Model, transfers: Transfers, rows: &[ListingEntry]) {
    let mut folders = 0;
    for entry in rows {
        if entry.is_dir() {
            folders += 1;
        } else if let Some(path) = path_of(model, &entry.name) {
            transfers.download(path);
        }
    }
    if folders > 0 {
        model.notify("Folders are not downloaded: open them and download their files.");
    }
}

/// Starts the "Move to…" dialog for `rows`.
fn start_move(model: Model, session: Session, ui: Ui, rows: &[ListingEntry]) {
    let paths: Vec<Path> = rows
        .iter()
        .filter_map(|e| path_of(model, &e.name))
        .collect();
    if paths.is_empty() {
        return;
    }
    ui.moving.set(paths);
    session.browse(model.cwd_untracked());
}

/// Focuses the `index`-th row of the table (0-based).
fn focus_row(index: usize) {
    let selector = format!("#file-table tbody tr:nth-child({})", index + 1);
    let row = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(&selector).ok().flatten())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(row) = row {
        let _ = row.focus();
    }
}

/// Whether a key event comes from a field that takes typing.
fn typing(ev: &web_sys::KeyboardEvent) -> bool {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
}

/// Whether a key event comes from a row of the table.
fn on_row(ev: &web_sys::KeyboardEvent) -> bool {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|e| e.tag_name() == "TR")
}

/// The page's keyboard shortcuts (see the `?` dialog).
fn on_key(model: Model, session: Session, ui: Ui, ev: web_sys::KeyboardEvent) {
    let dialog_open = model.preview().is_some()
        || model.delete_plan().is_some()
        || model.move_browse().is_some()
        || ui.shortcuts.get_untracked();
    if dialog_open || typing(&ev) || !model.is_connected() || ev.alt_key() {
        return;
    }
    let ctrl = ev.ctrl_key() || ev.meta_key();
    let rows = untrack(|| ui.rows(model));
    let cursor_at = ui
        .cursor
        .get_untracked()
        .and_then(|c| rows.iter().position(|e| e.name.as_str() == c));
    let can_write = untrack(|| model.can_write());
    match ev.key().as_str() {
        "/" if !ctrl => {
            if let Some(input) = field("#filter") {
                let _ = input.focus();
            }
        }
        "?" => ui.shortcuts.set(true),
        "a" | "A" if ctrl => ui.select_all(model),
        "Backspace" if !ctrl => match model.cwd_untracked() {
            Some(dir) => browser::open_dir(&dir.parent()),
            None => return,
        },
        "Delete" if can_write => {
            let targets = ui.targets(model);
            session.plan_delete(entries_of(model, &targets));
        }
        "F2" if can_write => match ui.targets(model).as_slice() {
            [one] => ui.renaming.set(Some(one.name.as_str().to_owned())),
            _ => return,
        },
        // Only on a row: Enter on a button is that button's.
        "Enter" if on_row(&ev) => match cursor_at {
            Some(at) => open(model, session, &rows[at]),
            None => return,
        },
        "ArrowDown" | "ArrowUp" if !rows.is_empty() => {
            let last = rows.len() - 1;
            let at = match (ev.key().as_str(), cursor_at) {
                ("ArrowDown", Some(at)) => (at + 1).min(last),
                ("ArrowUp", Some(at)) => at.saturating_sub(1),
                ("ArrowDown", None) => 0,
                _ => last,
            };
            focus_row(at);
            if ev.shift_key() {
                ui.click(model, rows[at].name.as_str(), true, true);
            }
        }
        "Escape" => ui.selected.set(Names::default()),
        _ => return,
    }
    ev.prevent_default();
}

/// Reads the paths of a drag from inside the page.
fn dragged_paths(ev: &leptos::ev::DragEvent) -> Vec<Path> {
    ev.data_transfer()
        .and_then(|d| d.get_data(DRAG_TYPE).ok())
        .map(|text| text.lines().filter_map(|l| Path::new(l).ok()).collect())
        .unwrap_or_default()
}

/// Whether a drag carries entries of this page (not files from the desktop).
fn drags_entries(ev: &leptos::ev::DragEvent) -> bool {
    ev.data_transfer()
        .is_some_and(|d| d.types().includes(&DRAG_TYPE.into(), 0))
}

/// Makes an element a drop target for entries, moving them into `dir`.
fn drop_into(
    session: Session,
    dir: Option<Path>,
    hover: RwSignal<bool>,
) -> (
    impl Fn(leptos::ev::DragEvent) + Clone,
    impl Fn(leptos::ev::DragEvent) + Clone,
    impl Fn(leptos::ev::DragEvent) + Clone,
) {
    let over = move |ev: leptos::ev::DragEvent| {
        if drags_entries(&ev) {
            ev.prevent_default();
            hover.set(true);
        }
    };
    let leave = move |_: leptos::ev::DragEvent| hover.set(false);
    let drop = move |ev: leptos::ev::DragEvent| {
        hover.set(false);
        if drags_entries(&ev) {
            ev.prevent_default();
            ev.stop_propagation();
            session.move_into(dragged_paths(&ev), dir.clone());
        }
    };
    (over, leave, drop)
}

/// The file manager panel.
#[component]
pub fn FileManager() -> impl IntoView {
    let model = use_model();
    let session = use_session();
    let ui = Ui::new();
    provide_context(ui);
    // A new folder starts with nothing selected.
    effect(move |_| {
        model.cwd();
        ui.clear();
    });
    // Uploads and their folders changed the server's files: list again.
    let transfers = use_transfers();
    effect(move |first: Option<()>| {
        transfers.files_changed();
        if first.is_some() && model.is_connected_untracked() {
            session.refresh();
        }
    });
    let key_handle = window_event_listener(leptos::ev::keydown, move |ev| {
        on_key(model, session, ui, ev)
    });
    on_cleanup(move || key_handle.remove());
    let disabled = reactive(move || !model.is_connected());
    let new_folder_disabled = disabled.clone();
    view! {
        <section {..attrs(&[("class", "panel files"), ("aria-labelledby", "files-title")])}>
            <h2 id="files-title" class="visually-hidden">"Files"</h2>
            <div class="toolbar">
                <Breadcrumbs />
                <div class="tools">
                    <input
                        {..attrs(&[
                            ("id", "filter"),
                            ("type", "search"),
                            ("aria-label", "Filter this folder"),
                            ("placeholder", "Filter  ( / )"),
                            ("autocomplete", "off"),
                            ("spellcheck", "false"),
                        ])}
                        {..on(ev::input, move |ev| ui.filter.set(event_target_value(&ev)))}
                        prop:value=move || ui.filter.get()
                        {..on(ev::keydown, move |ev: leptos::ev::KeyboardEvent| {
                            if ev.key() == "Escape" {
                                ui.filter.set(String::new());
                            }
                        })}
                        prop:disabled=disabled.clone()
                    />
                    {shown(move || model.can_write(), move || view! {
                        <button
                            {..attrs(&[("type", "button"), ("id", "new-folder")])}
                            prop:disabled=new_folder_disabled.clone()
                            {..on(ev::click, move |_| ui.creating.set(true))}
                        >
                            <ActionIcon action=Action::NewFolder />
                            "New folder"
                        </button>
                    })}
                    <button
                        {..attrs(&[("type", "button"), ("id", "refresh")])}
                        prop:disabled={disabled}
                        {..on(ev::click, move |_| session.refresh())}
                    >
                        "Refresh"
                    </button>
                    <button
                        {..attrs(&[
                            ("type", "button"),
                            ("class", "quiet"),
                            ("aria-label", "Keyboard shortcuts"),
                            ("title", "Keyboard shortcuts (?)"),
                        ])}
                        {..on(ev::click, move |_| ui.shortcuts.set(true))}
                    >
                        "?"
                    </button>
                </div>
            </div>
            {shown(move || ui.creating.get(), move || view! {
                <NewFolder />
            })}
            <SelectionBar />
            <div class="table-wrap">
                <table id="file-table">
                    <thead>
                        <tr>
                            <th {..attrs(&[("scope", "col"), ("class", "check")])}>
                                <SelectAll />
                            </th>
                            <SortHeader sort=ui.sort by=SortKey::Name label="Name" column="name" />
                            <SortHeader sort=ui.sort by=SortKey::Size label="Size" column="size" />
                            <SortHeader
                                sort=ui.sort
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
                        {rows(move || {
                            ui.rows(model)
                                .into_iter()
                                .map(|entry| {
                                    let key = RowKey::Entry {
                                        name: entry.name.as_str().to_string(),
                                        size: entry.size(),
                                        modified: entry.modified,
                                        is_dir: entry.is_dir(),
                                    };
                                    Row::new(key, move || view! { <FileRow entry=entry /> }.into_any())
                                })
                                .collect()
                        })}
                    </tbody>
                </table>
                <EmptyState />
            </div>
        </section>
    }
}

/// Home › a › b: each a link and a drop target.
#[component]
fn Breadcrumbs() -> impl IntoView {
    let model = use_model();
    let crumbs = move || {
        let cwd = model.cwd();
        let mut crumbs = vec![(None, "Home".to_string())];
        if let Some(cwd) = &cwd {
            let mut at: Option<Path> = None;
            for name in cwd.names() {
                let Ok(name) = Name::new(name) else { break };
                at = child(&at, &name).ok();
                crumbs.push((at.clone(), name.into_string()));
            }
        }
        let last = crumbs.len() - 1;
        let crumbs = crumbs
            .into_iter()
            .enumerate()
            .map(|(i, (dir, label))| view! { <Crumb dir=dir label=label current=i == last /> })
            .collect_view();
        // As an Option<AnyView>, for the render effect the page's other blocks use.
        Some(crumbs.into_any())
    };
    view! {
        <nav {..attrs(&[("class", "crumbs"), ("aria-label", "Folder path")])}>
            <ol>{reactive(crumbs)}</ol>
        </nav>
    }
}

#[component]
fn Crumb(dir: Option<Path>, label: String, current: bool) -> impl IntoView {
    let session = use_session();
    let hover = RwSignal::new(false);
    let (over, leave, drop) = drop_into(session, dir.clone(), hover);
    let href = browser::fragment_of(&dir);
    view! {
        <li
            class="crumb"
            class:drop-target=move || hover.get()
            {..on(ev::dragover, over)}
            {..on(ev::dragleave, leave)}
            {..on(ev::drop, drop)}
        >
            <a {..attr("href", href)} {..attr("aria-current", current.then_some("page"))}>
                {label}
            </a>
        </li>
    }
}

/// The "new folder" field.
#[component]
fn NewFolder() -> impl IntoView {
    let model = use_model();
    let session = use_session();
    let ui = use_ui();
    let name = RwSignal::new(String::new());
    effect(move |_| {
        if let Some(input) = field("#new-folder-name") {
            let _ = input.focus();
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = name.get_untracked().trim().to_string();
        match Name::new(text.clone()).and_then(|n| child(&model.cwd_untracked(), &n)) {
            Ok(path) => {
                session.mkdir(path);
                ui.creating.set(false);
            }
            Err(e) => model.error(format!("“{text}” cannot be a folder name: {e}.")),
        }
    };
    view! {
        <form class="new-folder" {..on(ev::submit, submit)}>
            <label for="new-folder-name">"New folder"</label>
            <input
                {..attrs(&[
                    ("id", "new-folder-name"),
                    ("type", "text"),
                    ("autocomplete", "off"),
                    ("spellcheck", "false"),
                    ("placeholder", "Folder name"),
                ])}
                {..on(ev::input, move |ev| name.set(event_target_value(&ev)))}
                prop:value=move || name.get()
                {..on(ev::keydown, move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Escape" {
                        ui.creating.set(false);
                    }
                })}
            />
            <button type="submit" class="primary">"Create"</button>
            <button {..attrs(&[("type", "button")])} {..on(ev::click, move |_| ui.creating.set(false))}>"Cancel"</button>
        </form>
    }
}

/// What can be done with the selection.
#[component]
fn SelectionBar() -> impl IntoView {
    let model = use_model();
    let session = use_session();
    let transfers = use_transfers();
    let ui = use_ui();
    let count = move || {
        let selected = ui.selected.get();
        ui.rows(model)
            .iter()
            .filter(|e| selected.contains(e.name.as_str()))
            .count()
    };
    view! {
        {shown(move || { count() != 0 }, move || view! {
            <div {..attrs(&[("class", "selection-bar"), ("role", "toolbar"), ("aria-label", "Selection")])}>
                <span {..attrs(&[("id", "selection-count")])}>{move || format!("{} selected", count())}</span>
                <button {..attrs(&[("type", "button")])} {..on(ev::click, move |_| download_files(model, transfers, &ui.targets(model)))}>
                    <ActionIcon action=Action::Download />
                    "Download"
                </button>
                {shown(move || model.can_write(), move || view! {
                    <button {..attrs(&[("type", "button")])} {..on(ev::click, move |_| start_move(model, session, ui, &ui.targets(model)))}>
                        <ActionIcon action=Action::Move />
                        "Move to…"
                    </button>
                    <button
                        {..attrs(&[("type", "button"), ("class", "danger")])}
                        {..on(ev::click, move |_| session.plan_delete(entries_of(model, &ui.targets(model))))}
                    >
                        <ActionIcon action=Action::Delete />
                        "Delete"
                    </button>
                })}
                <button {..attrs(&[("type", "button"), ("class", "quiet")])} {..on(ev::click, move |_| ui.selected.set(Names::default()))}>
                    "Clear selection"
                </button>
            </div>
        })}
    }
}

/// The header checkbox: all rows shown, or none.
#[component]
fn SelectAll() -> impl IntoView {
    let model = use_model();
    let ui = use_ui();
    let all = move || {
        let rows = ui.rows(model);
        let selected = ui.selected.get();
        !rows.is_empty() && rows.iter().all(|e| selected.contains(e.name.as_str()))
    };
    view! {
        <input
            {..attrs(&[("type", "checkbox"), ("aria-label", "Select all")])}
            prop:checked=reactive(all)
            {..on(ev::change, move |_| {
                if all() {
                    ui.selected.set(Names::default());
                } else {
                    ui.select_all(model);
                }
            })}
        />
    }
}

/// What the table says when it has no rows.
#[component]
fn EmptyState() -> impl IntoView {
    let model = use_model();
    let ui = use_ui();
    let text = move || {
        if !model.is_connected() {
            return Some("Connect to a server to see its files.".to_string());
        }
        if model.access() == crate::model::Access::LoginRequired {
            return Some("Log in to see the files.".into());
        }
        if let Some(why) = model.listing_error() {
            return Some(format!("This folder cannot be shown. {why}"));
        }
        if !model.listed() {
            return Some("Loading…".into());
        }
        if !model.has_no_files() && ui.rows(model).is_empty() {
            return Some(format!("Nothing here matches “{}”.", ui.filter.get()));
        }
        if model.has_no_files() {
            return Some(if model.can_write() {
                "This folder is empty. Upload files or make a new folder.".into()
            } else {
                "This folder is empty.".into()
            });
        }
        None
    };
    reactive(move || {
        text().map(|text| {
            let home = model.listing_error().is_some() && model.cwd().is_some();
            view! {
                <div {..attrs(&[("class", "empty"), ("id", "empty-state")])}>
                    <p>{text}</p>
                    {shown(move || home, move || view! {
                        <a href="#/">"Go to the home folder"</a>
                    })}
                </div>
            }
            .into_any()
        })
    })
}

/// A column header that sorts the table by its column; a second click reverses the order.
#[component]
fn SortHeader(
    sort: RwSignal<Sort>,
    by: SortKey,
    label: &'static str,
    column: &'static str,
) -> impl IntoView {
    let order = move || sort.with(|s| (s.key == by).then_some(s.ascending));
    // Strings, not &strs: the render effects the page's other text blocks and
    // attributes use, not ones of their own.
    let aria_sort = move || {
        match order() {
            None => "none",
            Some(true) => "ascending",
            Some(false) => "descending",
        }
        .to_string()
    };
    let arrow = move || {
        match order() {
            None => "",
            Some(true) => " ▲",
            Some(false) => " ▼",
        }
        .to_string()
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
        <th {..attrs(&[("scope", "col")])} {..attr("aria-sort", reactive(aria_sort))} class=column>
            <button {..attrs(&[("type", "button"), ("class", "sort")])} {..on(ev::click, on_click)}>
                {label}
                <span {..attrs(&[("aria-hidden", "true")])}>{reactive(arrow)}</span>
            </button>
        </th>
    }
}

/// One entry: checkbox, icon and name, size, time, and its actions.
#[component]
fn FileRow(entry: ListingEntry) -> impl IntoView {
    let model = use_model();
    let session = use_session();
    let ui = use_ui();
    let name = entry.name.as_str().to_string();
    let is_dir = entry.is_dir();
    let path = path_of(model, &entry.name);
    let hover = RwSignal::new(false);
    let selected = {
        let name = name.clone();
        memo(move || ui.selected.with(|s| s.contains(&name)))
    };
    let renaming = {
        let name = name.clone();
        move || ui.renaming.get().as_deref() == Some(name.as_str())
    };
    let on_click = {
        let name = name.clone();
        move |ev: leptos::ev::MouseEvent| {
            let inside_control = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|e| e.closest("button, a, input").ok().flatten())
                .is_some();
            if !inside_control {
                ui.click(model, &name, ev.shift_key(), ev.ctrl_key() || ev.meta_key());
            }
        }
    };
    let on_dblclick = {
        let entry = entry.clone();
        move |_| open(model, session, &entry)
    };
    let on_focus = {
        let name = name.clone();
        move |_| ui.cursor.set(Some(name.clone()))
    };
    let on_dragstart = {
        let name = name.clone();
        let path = path.clone();
        move |ev: leptos::ev::DragEvent| {
            let in_selection = ui.selected.with_untracked(|s| s.contains(&name));
            let paths: Vec<String> = if in_selection {
                entries_of(model, &ui.targets(model))
                    .into_iter()
                    .map(|e| e.path.into_string())
                    .collect()
            } else {
                path.iter().map(|p| p.as_str().to_owned()).collect()
            };
            if let Some(dt) = ev.data_transfer() {
                let _ = dt.set_data(DRAG_TYPE, &paths.join("\n"));
                let _ = dt.set_data("text/plain", &paths.join("\n"));
                dt.set_effect_allowed("move");
            }
        }
    };
    let (over, leave, drop) = drop_into(session, path.clone(), hover);
    let size = entry.size();
    let now = format::now();
    let checkbox = {
        let name = name.clone();
        move |ev: leptos::ev::MouseEvent| {
            ev.stop_propagation();
            ui.click(model, &name, ev.shift_key(), true);
        }
    };
    let name_cell = {
        let name = name.clone();
        let entry = entry.clone();
        let path = path.clone();
        // Some always: an Option<AnyView> shares the render effect of the page's other blocks.
        move || {
            if renaming() {
                return Some(view! { <RenameField name=name.clone() /> }.into_any());
            }
            Some(if is_dir {
                let href = browser::fragment_of(&path);
                view! { <a {..attr("href", href)} class="entry-name">{name.clone()}</a> }.into_any()
            } else {
                let entry = entry.clone();
                view! {
                    <button
                        {..attrs(&[("type", "button"), ("class", "entry-name link"), ("title", "Preview")])}
                        {..on(ev::click, move |_| open(model, session, &entry))}
                    >
                        {name.clone()}
                    </button>
                }
                .into_any()
            })
        }
    };
    view! {
        <tr
            {..attrs(&[("tabindex", "0")])}
            {..attr("draggable", reactive(move || model.can_write().to_string()))}
            data-name=name.clone()
            {..attr("aria-selected", reactive(move || selected.get().to_string()))}
            data-kind=if is_dir { "dir" } else { "file" }
            class:selected=move || selected.get()
            class:drop-target=move || hover.get()
            {..on(ev::click, on_click)}
            {..on(ev::dblclick, on_dblclick)}
            {..on(ev::focus, on_focus)}
            {..on(ev::dragstart, on_dragstart)}
            {..on(ev::dragover, move |ev| {
                if is_dir {
                    over(ev)
                }
            })}
            {..on(ev::dragleave, leave)}
            {..on(ev::drop, move |ev| {
                if is_dir {
                    drop(ev)
                }
            })}
        >
            <td class="check">
                <input
                    {..attrs(&[("type", "checkbox")])}
                    {..attr("aria-label", format!("Select {name}"))}
                    prop:checked=move || selected.get()
                    {..on(ev::click, checkbox)}
                />
            </td>
            <td class="name">
                <span class="name-cell">
                    <FileIcon kind=Kind::of(&name, is_dir) />
                    {reactive(name_cell)}
                </span>
            </td>
            <td
                {..attr("title", size.map(|s| format!("{s} bytes")))}
                class="size"
                data-bytes=size
            >
                {size.map_or_else(|| "—".to_string(), format::human_size)}
            </td>
            <td {..attr("title", format::exact_time(entry.modified))} class="modified">
                {format::relative_time(entry.modified, now)}
            </td>
            <td class="actions">
                <RowActions entry=entry.clone() />
            </td>
        </tr>
    }
}

/// Download, rename and delete buttons of a row.
#[component]
fn RowActions(entry: ListingEntry) -> impl IntoView {
    let model = use_model();
    let session = use_session();
    let transfers = use_transfers();
    let ui = use_ui();
    let name = entry.name.as_str().to_string();
    let download = (!entry.is_dir()).then(|| {
        let entry = entry.clone();
        view! {
            <button
                {..attrs(&[("type", "button"), ("class", "icon-button"), ("title", "Download")])}
                {..attr("aria-label", format!("Download {name}"))}
                {..on(ev::click, move |_| download_files(model, transfers, std::slice::from_ref(&entry)))}
            >
                <ActionIcon action=Action::Download />
            </button>
        }
    });
    let rename_name = name.clone();
    let delete = {
        let entry = entry.clone();
        move |_| session.plan_delete(entries_of(model, std::slice::from_ref(&entry)))
    };
    view! {
        <div class="row-actions">
            {download}
            {shown(move || model.can_write(), move || view! {
                <button
                    {..attrs(&[("type", "button"), ("class", "icon-button"), ("title", "Rename (F2)")])}
                    {..attr("aria-label", format!("Rename {name}"))}
                    {..on(ev::click, {
                        let rename_name = rename_name.clone();
                        move |_| ui.renaming.set(Some(rename_name.clone()))
                    })}
                >
                    <ActionIcon action=Action::Rename />
                </button>
                <button
                    {..attrs(&[("type", "button"), ("class", "icon-button danger"), ("title", "Delete (Del)")])}
                    {..attr("aria-label", format!("Delete {name}"))}
                    {..on(ev::click, delete.clone())}
                >
                    <ActionIcon action=Action::Delete />
                </button>
            })}
        </div>
    }
}

/// The name field of a row being renamed: Enter renames, Escape or leaving cancels.
#[component]
fn RenameField(name: String) -> impl IntoView {
    let model = use_model();
    let session = use_session();
    let ui = use_ui();
    let text = RwSignal::new(name.clone());
    effect(move |_| {
        // The one rename field (one row is renamed at a time).
        if let Some(input) = field("input.rename") {
            let _ = input.focus();
            // Select the name without its extension, as file managers do.
            let stem = text
                .get_untracked()
                .rfind('.')
                .filter(|&i| i > 0)
                .unwrap_or_else(|| text.get_untracked().len());
            let _ = input.set_selection_range(0, stem as u32);
        }
    });
    let old = name.clone();
    let commit = move || {
        ui.renaming.set(None);
        let new = text.get_untracked().trim().to_string();
        if new == old || new.is_empty() {
            return;
        }
        let cwd = model.cwd_untracked();
        let paths = Name::new(old.clone())
            .and_then(|o| child(&cwd, &o))
            .and_then(|from| Ok((from, child(&cwd, &Name::new(new.clone())?)?)));
        match paths {
            Ok((from, to)) => session.rename(from, to),
            Err(e) => model.error(format!("“{new}” cannot be a name: {e}.")),
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Enter" => {
            ev.prevent_default();
            commit();
        }
        "Escape" => {
            ev.prevent_default();
            ui.renaming.set(None);
        }
        _ => {}
    };
    view! {
        <input
            {..attrs(&[("class", "rename"), ("type", "text"), ("autocomplete", "off"), ("spellcheck", "false")])}
            {..attr("aria-label", format!("New name for {name}"))}
            {..on(ev::input, move |ev| text.set(event_target_value(&ev)))}
            prop:value=move || text.get()
            {..on(ev::keydown, on_key)}
            {..on(ev::blur, move |_| ui.renaming.set(None))}
        />
    }
}

#[cfg(test)]
mod tests {
    use super::Names;

    #[test]
    fn names_are_a_set() {
        let mut names: Names = ["b", "a", "b"].map(String::from).into_iter().collect();
        assert_eq!(names.0, ["a", "b"]);
        assert!(names.contains("a") && names.contains("b") && !names.contains("c"));
        assert!(names.insert("c".into()));
        assert!(!names.insert("a".into()));
        assert!(names.remove("a"));
        assert!(!names.remove("a"));
        names.extend(["d", "b"].map(String::from).into_iter().collect());
        assert_eq!(names.0, ["b", "c", "d"]);
        assert!(!names.is_empty());
        assert!(Names::default().is_empty());
    }
}
