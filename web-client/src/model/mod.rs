//! What the page shows: the connection, who we are on the server, the folder
//! shown and its entries, the dialogs, the transfers, the console and the
//! latest notice, as one [`Model`] of signals.
//!
//! Like Leptos' todomvc, the model is a domain type with methods over its
//! signals, handed to components through context ([`use_model`]): components
//! read it through getters (which track) and change it only through the
//! methods here, so every change of view state has a name.

mod files;
mod log;
mod transfer;

pub use files::{
    child, dir_text, plural, Access, DeletePlan, Entry, MoveBrowse, Preview, PreviewBody,
};
pub use log::{LineKind, LogLine};
pub use transfer::{Direction, Transfer, TransferStatus};

use ferry_proto::{ListingEntry, Path, Reply};
use leptos::prelude::*;

/// Where the connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnState {
    /// No connection.
    Disconnected,
    /// WebSocket opening, greeting not yet received.
    Connecting,
    /// Greeting received; commands may be sent.
    Connected,
}

/// A notice shown above the page's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Something worked (e.g. "Disconnected.").
    Info(String),
    /// Something failed, in plain words.
    Error(String),
}

/// The page's view state. `Copy`: every field is an arena handle.
#[derive(Debug, Clone, Copy)]
pub struct Model {
    state: RwSignal<ConnState>,
    /// Where we are connected (or trying to), in words.
    peer: RwSignal<String>,
    greeting: RwSignal<Option<String>>,
    /// The command in flight, for the status line.
    busy: RwSignal<Option<String>>,
    notice: RwSignal<Option<Notice>>,
    /// The folder shown (`None`: the home), as the URL's fragment says.
    cwd: RwSignal<Option<Path>>,
    /// The entries of the folder shown, as of its last LIST.
    files: RwSignal<Vec<ListingEntry>>,
    /// Why the folder shown could not be listed, in words.
    listing_error: RwSignal<Option<String>>,
    /// Whether the folder shown has been listed since we went there.
    listed: RwSignal<bool>,
    /// Who we are on the server, and what we may do.
    access: RwSignal<Access>,
    /// A delete that waits for the user's confirmation.
    delete_plan: RwSignal<Option<DeletePlan>>,
    /// The file being previewed.
    preview: RwSignal<Option<Preview>>,
    /// The "Move to…" dialog's folder and its subfolders (`None`: closed).
    move_browse: RwSignal<Option<MoveBrowse>>,
    /// Downloads and uploads of this page, newest last.
    transfers: RwSignal<Vec<Transfer>>,
    log: RwSignal<Vec<LogLine>>,
    /// Shared by the connect form and the console's CONNECT.
    bridge_url: RwSignal<String>,
    next_id: StoredValue<u64>,
    /// The page's reactive owner, for what outlives the component that made it.
    owner: StoredValue<Option<Owner>>,
}

/// The page's model, from context (provided by the app).
pub fn use_model() -> Model {
    expect_context::<Model>()
}

impl Model {
    /// A disconnected page that will reach the bridge at `bridge_url`.
    pub fn new(bridge_url: String) -> Model {
        Model {
            state: RwSignal::new(ConnState::Disconnected),
            peer: RwSignal::new(String::new()),
            greeting: RwSignal::new(None),
            busy: RwSignal::new(None),
            notice: RwSignal::new(None),
            cwd: RwSignal::new(None),
            files: RwSignal::new(Vec::new()),
            listing_error: RwSignal::new(None),
            listed: RwSignal::new(false),
            access: RwSignal::new(Access::Unknown),
            delete_plan: RwSignal::new(None),
            preview: RwSignal::new(None),
            move_browse: RwSignal::new(None),
            transfers: RwSignal::new(Vec::new()),
            log: RwSignal::new(Vec::new()),
            bridge_url: RwSignal::new(bridge_url),
            next_id: StoredValue::new(0),
            owner: StoredValue::new(Owner::current()),
        }
    }

    fn fresh_id(&self) -> u64 {
        self.next_id.update_value(|n| *n += 1);
        self.next_id.get_value()
    }

    // Reading (tracked, for views).

    /// Where the connection stands.
    pub fn state(&self) -> ConnState {
        self.state.get()
    }

    /// Whether commands may be sent.
    pub fn is_connected(&self) -> bool {
        self.state() == ConnState::Connected
    }

    /// Where we are connected (or trying to), in words.
    pub fn peer(&self) -> String {
        self.peer.get()
    }

    /// The server's greeting text, once connected.
    pub fn greeting(&self) -> Option<String> {
        self.greeting.get()
    }

    /// The command in flight, if any.
    pub fn busy(&self) -> Option<String> {
        self.busy.get()
    }

    /// The latest notice.
    pub fn notice(&self) -> Option<Notice> {
        self.notice.get()
    }

    /// The latest notice, untracked.
    pub fn notice_untracked(&self) -> Option<Notice> {
        self.notice.get_untracked()
    }

    /// The entries of the folder shown, as of its last LIST.
    pub fn files(&self) -> Vec<ListingEntry> {
        self.files.get()
    }

    /// Whether the folder shown has no entries (or none are known).
    pub fn has_no_files(&self) -> bool {
        self.files.with(Vec::is_empty)
    }

    /// The folder shown (`None`: the home).
    pub fn cwd(&self) -> Option<Path> {
        self.cwd.get()
    }

    /// The folder shown, untracked.
    pub fn cwd_untracked(&self) -> Option<Path> {
        self.cwd.get_untracked()
    }

    /// Why the folder shown could not be listed.
    pub fn listing_error(&self) -> Option<String> {
        self.listing_error.get()
    }

    /// Whether the folder shown has been listed since we went there.
    pub fn listed(&self) -> bool {
        self.listed.get()
    }

    /// Who we are on the server.
    pub fn access(&self) -> Access {
        self.access.get()
    }

    /// Who we are on the server, untracked.
    pub fn access_untracked(&self) -> Access {
        self.access.get_untracked()
    }

    /// Whether this session may change files (hides the controls that would).
    pub fn can_write(&self) -> bool {
        self.access.with(Access::can_write)
    }

    /// The delete waiting for confirmation.
    pub fn delete_plan(&self) -> Option<DeletePlan> {
        self.delete_plan.get()
    }

    /// The file being previewed.
    pub fn preview(&self) -> Option<Preview> {
        self.preview.get()
    }

    /// The "Move to…" dialog's state.
    pub fn move_browse(&self) -> Option<MoveBrowse> {
        self.move_browse.get()
    }

    /// Downloads and uploads of this page, newest last.
    pub fn transfers(&self) -> Vec<Transfer> {
        self.transfers.get()
    }

    /// The console's lines.
    pub fn log(&self) -> Vec<LogLine> {
        self.log.get()
    }

    /// The bridge URL, for the form to bind.
    pub fn bridge_url(&self) -> RwSignal<String> {
        self.bridge_url
    }

    // Reading outside the reactive graph (for the session).

    /// Whether commands may be sent, untracked.
    pub fn is_connected_untracked(&self) -> bool {
        self.state.get_untracked() == ConnState::Connected
    }

    /// Where the connection stands, untracked.
    pub fn state_untracked(&self) -> ConnState {
        self.state.get_untracked()
    }

    /// Whether a command is in flight, untracked.
    pub fn is_busy_untracked(&self) -> bool {
        self.busy.with_untracked(Option::is_some)
    }

    /// The bridge URL, untracked.
    pub fn bridge_url_untracked(&self) -> String {
        self.bridge_url.get_untracked()
    }

    // The console and notices.

    /// Appends a console line.
    pub fn log_line(&self, kind: LineKind, text: impl Into<String>) {
        let line = LogLine {
            id: self.fresh_id(),
            kind,
            text: text.into(),
        };
        self.log.update(|lines| log::append(lines, line));
    }

    /// Empties the console.
    pub fn clear_log(&self) {
        self.log.set(Vec::new());
    }

    /// Shows an error notice and logs it.
    pub fn error(&self, text: impl Into<String>) {
        let text = text.into();
        self.log_line(LineKind::Error, text.clone());
        self.notice.set(Some(Notice::Error(text)));
    }

    /// Shows an info notice and logs it.
    pub fn info(&self, text: impl Into<String>) {
        let text = text.into();
        self.log_line(LineKind::Info, text.clone());
        self.notice.set(Some(Notice::Info(text)));
    }

    /// Shows an info notice without logging it.
    pub fn notify(&self, text: impl Into<String>) {
        self.notice.set(Some(Notice::Info(text.into())));
    }

    /// Hides the notice.
    pub fn dismiss_notice(&self) {
        self.notice.set(None);
    }

    // The connection.

    /// A connection to `peer` is opening: whatever the last one showed goes.
    pub fn connecting(&self, peer: String) {
        self.notice.set(None);
        self.peer.set(peer);
        self.greeting.set(None);
        self.files.set(Vec::new());
        self.listed.set(false);
        self.listing_error.set(None);
        self.access.set(Access::Unknown);
        self.state.set(ConnState::Connecting);
    }

    /// The server greeted us with `reply`.
    pub fn connected(&self, reply: &Reply) {
        self.log_line(LineKind::Received, reply.to_string());
        self.greeting.set(Some(reply.text.clone()));
        self.state.set(ConnState::Connected);
    }

    /// `command` is in flight now (`None`: nothing is).
    pub fn busy_with(&self, command: Option<String>) {
        self.busy.set(command);
    }

    /// The connection is over.
    pub fn disconnected(&self) {
        self.busy.set(None);
        self.access.set(Access::Unknown);
        self.delete_plan.set(None);
        self.move_browse.set(None);
        self.show_preview(None);
        self.state.set(ConnState::Disconnected);
    }

    // The server's files.

    /// The URL now shows `dir`: the table empties until its listing arrives.
    pub fn go_to(&self, dir: Option<Path>) {
        if self.cwd.get_untracked() != dir {
            self.cwd.set(dir);
            self.files.set(Vec::new());
            self.listed.set(false);
        }
        self.listing_error.set(None);
    }

    /// A fresh listing of `dir` arrived (ignored if we went elsewhere meanwhile).
    pub fn set_files(&self, dir: &Option<Path>, files: Vec<ListingEntry>) {
        if self.cwd.get_untracked() == *dir {
            self.listing_error.set(None);
            self.files.set(files);
            self.listed.set(true);
        }
    }

    /// `dir` could not be listed, for the reason given.
    pub fn listing_failed(&self, dir: &Option<Path>, why: String) {
        if self.cwd.get_untracked() == *dir {
            self.files.set(Vec::new());
            self.listed.set(true);
            self.listing_error.set(Some(why));
        }
    }

    /// Who we are on the server now.
    pub fn set_access(&self, access: Access) {
        self.access.set(access);
    }

    /// Asks the user to confirm `plan`.
    pub fn ask_delete(&self, plan: Option<DeletePlan>) {
        self.delete_plan.set(plan);
    }

    /// Shows (or, with `None`, closes) a preview.
    pub fn show_preview(&self, preview: Option<Preview>) {
        if let Some(old) = self.preview.get_untracked() {
            old.release();
        }
        self.preview.set(preview);
    }

    /// Whether the preview open (if any) is of `path`, untracked.
    pub fn preview_of(&self, path: &Path) -> bool {
        self.preview
            .with_untracked(|p| p.as_ref().is_some_and(|p| p.path == *path))
    }

    /// Whether the "Move to…" dialog is open, untracked.
    pub fn move_browse_open(&self) -> bool {
        self.move_browse.with_untracked(Option::is_some)
    }

    /// Opens (or moves, or with `None` closes) the "Move to…" dialog.
    pub fn set_move_browse(&self, state: Option<MoveBrowse>) {
        self.move_browse.set(state);
    }

    // Transfers.

    /// Adds a queued transfer to the list.
    pub fn new_transfer(&self, name: &str, direction: Direction, total: Option<u64>) -> Transfer {
        // Owned by the page, not by whatever asked (a row's button): a row
        // goes when its file is deleted or its folder left, the transfer stays.
        let id = self.fresh_id();
        let make = || Transfer::new(id, name, direction, total);
        let transfer = match self.owner.get_value() {
            Some(owner) => owner.with(make),
            None => make(),
        };
        self.transfers.update(|t| t.push(transfer));
        transfer
    }

    /// Removes finished and failed transfers from the list.
    pub fn clear_finished(&self) {
        self.transfers.update(|t| t.retain(|t| !t.is_finished()));
    }
}
