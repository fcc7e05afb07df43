//! What the page shows: the connection, the server's files, the transfers,
//! the console and the latest notice, as one [`Model`] of signals.
//!
//! Like Leptos' todomvc, the model is a domain type with methods over its
//! signals, handed to components through context ([`use_model`]): components
//! read it through getters (which track) and change it only through the
//! methods here, so every change of view state has a name.

mod log;
mod transfer;

pub use log::{LineKind, LogLine};
pub use transfer::{Direction, Transfer, TransferStatus};

use ferry_proto::{ListingEntry, Reply};
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
    /// The server's files, as of the last LIST.
    files: RwSignal<Vec<ListingEntry>>,
    /// Downloads and uploads of this page, newest last.
    transfers: RwSignal<Vec<Transfer>>,
    log: RwSignal<Vec<LogLine>>,
    /// Shared by the connect form and the console's CONNECT.
    bridge_url: RwSignal<String>,
    next_id: StoredValue<u64>,
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
            files: RwSignal::new(Vec::new()),
            transfers: RwSignal::new(Vec::new()),
            log: RwSignal::new(Vec::new()),
            bridge_url: RwSignal::new(bridge_url),
            next_id: StoredValue::new(0),
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

    /// The server's files, as of the last LIST.
    pub fn files(&self) -> Vec<ListingEntry> {
        self.files.get()
    }

    /// Whether the server has no files (or none are known).
    pub fn has_no_files(&self) -> bool {
        self.files.with(Vec::is_empty)
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
        self.state.set(ConnState::Disconnected);
    }

    // The server's files.

    /// A fresh listing arrived.
    /// Only its files are kept: the web client does not show folders yet.
    pub fn set_files(&self, files: Vec<ListingEntry>) {
        self.files
            .set(files.into_iter().filter(|f| !f.is_dir()).collect());
    }

    /// `name` was deleted on the server.
    pub fn forget_file(&self, name: &str) {
        self.files
            .update(|files| files.retain(|f| f.name.as_str() != name));
    }

    // Transfers.

    /// Adds a queued transfer to the list.
    pub fn new_transfer(&self, name: &str, direction: Direction, total: Option<u64>) -> Transfer {
        let transfer = Transfer::new(self.fresh_id(), name, direction, total);
        self.transfers.update(|t| t.push(transfer));
        transfer
    }

    /// Removes finished and failed transfers from the list.
    pub fn clear_finished(&self) {
        self.transfers.update(|t| t.retain(|t| !t.is_finished()));
    }
}
